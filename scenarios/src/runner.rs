//! One run of a scenario, from a resolved [`Scenario`] to a complete result
//! directory `<out>/<scenario>/seed-<seed>-<hash>/` — or nothing.
//!
//! The command line's `run` and every run of a sweep go through
//! [`run_one`], so a sweep point and the same scenario run on its own land
//! in the same directory, and either finds the other's complete result.

use crate::experiment::{self, Progress};
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
    let warm = if s.kademlia.start == "warm" {
        " Routing tables were built from global knowledge (**warm start**), not by joins."
    } else {
        ""
    };
    let churn = if out.churn.is_empty() {
        String::new()
    } else {
        format!(" {}", out.churn)
    };
    let notes = format!(
        "Topology: {}. Seed {}. Warm-up {}, then {} of requests from {} clients (one every {} on average each).{churn}{warm} {}",
        out.topology,
        s.scenario.seed,
        s.scenario.warmup,
        s.scenario.duration,
        s.workload.clients,
        s.workload.mean_gap,
        policies(s, &out.files)
    );
    let analysis = analysis::report::write(stage.dir(), &title, &notes, s.output.plots)?;
    // Last: the hashes of every file written above (`merge` checks them).
    analysis::manifest::write(stage.dir())?;
    let dir = stage.commit()?;
    Ok(RunStatus::Done {
        dir,
        summary: analysis.summary,
    })
}

/// How each side ends a request: the DHT's lookup termination rule and
/// the directory client's retry policy.
fn policies(s: &Scenario, files: &BTreeMap<String, Vec<u8>>) -> String {
    let k = &s.kademlia;
    let p2p = if k.termination == "closest-answered" {
        let (who, exact) = match k.termination_results {
            1 => (
                "the closest known node has".to_string(),
                "the first result is the true closest live node".to_string(),
            ),
            n => (
                format!("the {n} closest known nodes have"),
                format!("the first {n} results are the true {n} closest live nodes"),
            ),
        };
        format!(
            "P2P lookups stop {} after {who} answered with none closer pending (`closest-answered`; `exact` means {exact}).",
            k.termination_wait
        )
    } else {
        format!(
            "P2P lookups stop when the k = {} closest known nodes have all answered (`k-closest`, the paper's rule).",
            k.k
        )
    };
    let d = &s.datacenter;
    let dc = if d.retries == 0 {
        format!(
            "Directory clients send each request once and give up after {} (no retries).",
            d.attempt_timeout
        )
    } else {
        format!(
            "Directory clients wait {} per attempt and retry up to {} times (latency counted from the first send; `attempts` in `lookups.csv`): {}.",
            d.attempt_timeout,
            d.retries,
            retried(files)
        )
    };
    format!("{p2p} {dc}{}", rejected(files))
}

/// A sentence on the Kademlia operations rejected because their node
/// already ran as many as it may (`kad.ops_rejected` in
/// `p2p/counters.csv`); empty when there were none.
fn rejected(files: &BTreeMap<String, Vec<u8>>) -> String {
    let text = String::from_utf8_lossy(files.get("p2p/counters.csv").map_or(&[][..], |v| v));
    let n: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("kad.ops_rejected,"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if n == 0 {
        return String::new();
    }
    format!(
        " {n} Kademlia operations were rejected because their node already ran as many as it may at once (`kad.ops_rejected` in `p2p/counters.csv`; a rejected request is a failed lookup)."
    )
}

/// How many of the directory's requests were retried, from the `attempts`
/// column of `lookups.csv`.
fn retried(files: &BTreeMap<String, Vec<u8>>) -> String {
    let text = String::from_utf8_lossy(files.get("lookups.csv").map_or(&[][..], |v| v));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let Some(col) = header.iter().position(|h| *h == "attempts") else {
        return "attempts not recorded".to_string();
    };
    let (mut all, mut more) = (0u64, 0u64);
    for l in lines.filter(|l| l.starts_with("datacenter,")) {
        all += 1;
        let a: u32 = l
            .split(',')
            .nth(col)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        more += u64::from(a > 1);
    }
    format!("{more} of {all} requests were retried")
}

/// The two systems must have received exactly the same requests.
fn check_identical_workload(files: &BTreeMap<String, Vec<u8>>) -> Result<()> {
    let text = String::from_utf8_lossy(files.get("requests.csv").map_or(&[][..], |v| v));
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
