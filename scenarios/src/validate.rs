//! Everything but the simulation: a scenario's text to a checked scenario.
//!
//! `scenarios validate`, `run` and `sweep` go through [`validate_text`], so
//! whatever `validate` accepts, `run` accepts before its first event.

use crate::experiment;
use crate::load::{Origin, Override, load};
use crate::schema::Scenario;

/// Parse `text`, apply the overrides and the seed, and check every value and
/// every file the scenario names (the topology is loaded and built). The
/// error is the message shown to the user.
pub fn validate_text(
    text: &str,
    origin: &Origin,
    overrides: &[Override],
    seed: Option<u64>,
) -> Result<Scenario, String> {
    let mut s: Scenario = load(text, origin, overrides).map_err(|e| e.to_string())?;
    if let Some(seed) = seed {
        s.scenario.seed = seed;
    }
    let named = |e: experiment::BuildError| format!("{origin}: key `{}`: {}", e.field, e.message);
    experiment::check(&s).map_err(named)?;
    experiment::check_topology(&s).map_err(named)?;
    Ok(s)
}
