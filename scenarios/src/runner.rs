//! One run of a scenario, from a resolved [`Scenario`] to a complete result
//! directory `<out>/<scenario>/seed-<seed>-<hash>/` — or nothing.
//!
//! The command line's `run` and every run of a sweep go through
//! [`run_one`], so a sweep point and the same scenario run on its own land
//! in the same directory, and either finds the other's complete result.

use crate::experiment::{self, Kind, Progress};
use crate::output::{Provenance, Staging, run_hash};
use crate::schema::Scenario;
use analysis::report::SummaryRow;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a scenario's result goes, and what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The resolved scenario as TOML (every default filled in, no sweep).
    pub resolved: String,
    /// The run id: `seed-<seed>-<first 12 hex digits of the hash>`.
    pub run_id: String,
    /// The result directory relative to the output root:
    /// `<scenario name>/<run id>`.
    pub rel_dir: PathBuf,
}

/// The identity of `s` when built by `prov`.
pub fn identity(s: &Scenario, prov: &Provenance) -> Result<Identity> {
    let resolved = toml::to_string(s).context("printing the resolved scenario")?;
    let hash = run_hash(&resolved, prov);
    let run_id = format!("seed-{}-{}", s.scenario.seed, &hash[..12]);
    let rel_dir = Path::new(&s.scenario.name).join(&run_id);
    Ok(Identity {
        resolved,
        run_id,
        rel_dir,
    })
}

/// Whether `dir` holds a complete result (its `report.md` and then its
/// `manifest.sha256` are written just before the directory is renamed into
/// place).
pub fn is_complete(dir: &Path) -> bool {
    dir.join("report.md").is_file()
}

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The output root.
    pub out: PathBuf,
    /// Run even if a complete result exists.
    pub force: bool,
    /// Stop the P2P side after this many events (tests of interruption).
    pub abort_after_events: Option<u64>,
    /// Kill the process (abort, no clean-up) after the first result file
    /// is written: a half-written result, for tests of resumption.
    pub die_while_writing: bool,
}

/// What [`run_one`] did.
#[derive(Debug)]
pub enum RunStatus {
    /// The run was simulated and its result written.
    Done {
        /// The result directory.
        dir: PathBuf,
        /// Its summary rows.
        summary: Vec<SummaryRow>,
    },
    /// A complete result already existed; nothing was run.
    Existing {
        /// The result directory.
        dir: PathBuf,
    },
}

/// Run `s` unless a complete result exists (or `opts.force`), and write its
/// result directory atomically.
pub fn run_one(s: &Scenario, opts: &RunOptions, progress: Progress<'_>) -> Result<RunStatus> {
    let prov = Provenance::current();
    let id = identity(s, &prov)?;
    let target = crate::output::inside(&opts.out, &id.rel_dir)?;
    if is_complete(&target) && !opts.force {
        return Ok(RunStatus::Existing { dir: target });
    }
    let out = experiment::run(s, opts.abort_after_events, progress).map_err(|e| {
        anyhow::anyhow!(
            "key `{}`: {}",
            e.field,
            crate::load::clip_message(&e.message)
        )
    })?;
    if out.aborted {
        bail!("the run was aborted before its end; no result was written");
    }
    check_identical_workload(&out.files)?;
    let stage = Staging::new(target.clone())?;
    stage.write("scenario.toml", &id.resolved)?;
    if opts.die_while_writing {
        std::process::abort();
    }
    stage.write("provenance.toml", prov.to_toml())?;
    stage.write("run-info.csv", &out.run_info)?;
    for (name, bytes) in &out.files {
        stage.write(name, bytes)?;
    }
    let title = format!("{}: {}", s.scenario.name, s.scenario.description);
    let notes = format!(
        "Topology: {}. Seed {}. {}",
        out.topology, s.scenario.seed, out.notes
    );
    let summary = match out.kind {
        Kind::Lookup => {
            analysis::report::write(stage.dir(), &title, &notes, s.output.plots)?.summary
        }
        Kind::Storage => {
            analysis::storage::write(stage.dir(), &title, &notes, s.output.plots)?.summary
        }
        Kind::Compute => {
            analysis::compute::write(stage.dir(), &title, &notes, s.output.plots)?.summary
        }
        Kind::City => {
            let [lookups, storage, compute] = out.part_notes.clone().unwrap_or_default();
            let part =
                |n: &str| format!("Topology: {}. Seed {}. {n}", out.topology, s.scenario.seed);
            let (lookups, storage, compute) = (part(&lookups), part(&storage), part(&compute));
            let n = analysis::city::CityNotes {
                top: &notes,
                lookups: &lookups,
                storage: &storage,
                compute: &compute,
            };
            analysis::city::write(stage.dir(), &title, &n, s.output.plots)?.summary
        }
    };
    // Last: the hashes of every file written above (`merge` checks them).
    analysis::manifest::write(stage.dir())?;
    let dir = stage.commit()?;
    Ok(RunStatus::Done { dir, summary })
}

/// The two systems must have received exactly the same requests (in
/// `requests.csv`, or in each part's of the combined experiment).
fn check_identical_workload(files: &BTreeMap<String, Vec<u8>>) -> Result<()> {
    for (name, bytes) in files {
        if name == "requests.csv" || name.ends_with("/requests.csv") {
            check_identical_requests(bytes)?;
        }
    }
    Ok(())
}

fn check_identical_requests(bytes: &[u8]) -> Result<()> {
    let text = String::from_utf8_lossy(bytes);
    let mut sides: [Vec<&str>; 2] = [Vec::new(), Vec::new()];
    for line in text.lines().skip(1) {
        if let Some(rest) = line.strip_prefix("p2p,") {
            sides[0].push(rest);
        } else if let Some(rest) = line.strip_prefix("datacenter,") {
            sides[1].push(rest);
        }
    }
    if sides[0] != sides[1] {
        bail!("internal error: the two systems received different requests");
    }
    Ok(())
}
