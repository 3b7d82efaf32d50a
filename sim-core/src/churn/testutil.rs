//! Shared helpers for the churn tests: per-node streams, a small drive loop
//! standing in for the engine, and the statistical checks.

use super::stats::SessionStats;
use super::{ChurnModel, Transition};
use crate::units::Time;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The node's own stream: ChaCha8 stream `node` of `seed`.
pub fn node_rng(seed: u64, node: u32) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(u64::from(node));
    r
}

/// One node's history: initial state and every transition up to and
/// including the first one at or after `horizon` (so the session in progress
/// at `horizon` completes).
pub struct History {
    pub node: u32,
    pub initial_up: bool,
    pub transitions: Vec<(Time, Transition)>,
}

pub const MAX_TRANSITIONS: usize = 1_000_000;

pub fn run_node(model: &dyn ChurnModel, seed: u64, node: u32, horizon: Time) -> History {
    let mut rng = node_rng(seed, node);
    let (initial_up, mut next) = model.initial(node, &mut rng);
    let mut now = Time::ZERO;
    let mut transitions = Vec::new();
    while let Some((after, t)) = next {
        assert!(
            transitions.len() < MAX_TRANSITIONS,
            "node {node}: too many transitions"
        );
        now = now + after;
        transitions.push((now, t));
        if now >= horizon {
            break;
        }
        next = model.next(node, now, &t, &mut rng);
    }
    History {
        node,
        initial_up,
        transitions,
    }
}

/// Feeds a history to `stats` (the initial session's start is unknown),
/// stopping observation at `finish`.
pub fn feed(stats: &mut SessionStats, h: &History) {
    stats.node_state(h.node, Time::ZERO, h.initial_up, false);
    for (t, tr) in &h.transitions {
        stats.transition(h.node, *t, tr);
    }
}

/// Mean and standard error of independent (batch) values.
pub fn mean_se(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Batch means: splits `values` (in their given order) into `batches`
/// contiguous batches and returns the mean and standard error of the batch
/// means.
pub fn batch_mean_se(values: &[f64], batches: usize) -> (f64, f64) {
    let size = values.len() / batches;
    assert!(size > 0, "too few values for {batches} batches");
    let means: Vec<f64> = values
        .chunks(size)
        .take(batches)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    mean_se(&means)
}

/// Whether `mean` is within `k` standard errors of `expected`.
pub fn within(mean: f64, se: f64, expected: f64, k: f64) -> bool {
    (mean - expected).abs() <= k * se
}
