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
use sim_core::metrics::CsvFile;
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
    /// Bytes of rows a table holds in memory before it streams them to
    /// disk (lookup experiment); `None`: [`ROW_BUFFER`].
    pub row_buffer: Option<usize>,
}

/// Bytes of rows a table of the lookup experiment holds before it streams
/// them to a file beside the result (`--row-buffer`): 8 MiB.
pub const ROW_BUFFER: usize = 8 << 20;

/// The folder a run streams its rows into, removed when the run ends, with
/// or without a result.
struct RowDir(PathBuf);

impl Drop for RowDir {
    fn drop(&mut self) {
        if self.0.exists() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
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
    // Rows streamed during the run go beside the result's staging folder
    // (made only if a table streams), and are moved into it at the end.
    let row_dir = RowDir(
        target
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!(".{}.rows", id.run_id)),
    );
    if row_dir.0.exists() {
        std::fs::remove_dir_all(&row_dir.0)
            .with_context(|| format!("removing the leftover {}", row_dir.0.display()))?;
    }
    let rows = experiment::RowFiles {
        dir: row_dir.0.clone(),
        threshold: opts.row_buffer.unwrap_or(ROW_BUFFER),
    };
    let out = experiment::run(s, opts.abort_after_events, progress, Some(&rows)).map_err(|e| {
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
    for (name, file) in &out.files {
        match file {
            CsvFile::Bytes(bytes) => stage.write(name, bytes)?,
            CsvFile::Disk(path) => stage.place(name, path)?,
        }
    }
    drop(row_dir);
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
fn check_identical_workload(files: &BTreeMap<String, CsvFile>) -> Result<()> {
    for (name, file) in files {
        if name == "requests.csv" || name.ends_with("/requests.csv") {
            check_identical_requests(file)
                .with_context(|| format!("reading {name} to compare the two systems' requests"))?;
        }
    }
    Ok(())
}

/// Compare the P2P rows of a merged `requests.csv` with the data center's,
/// streaming (the file may be on disk, and large): one reader walks the P2P
/// rows, another the data center's.
fn check_identical_requests(file: &CsvFile) -> Result<()> {
    let side = |prefix: &'static str| -> Result<_> {
        Ok(std::io::BufRead::lines(file.reader()?)
            .skip(1)
            .filter(move |l| l.as_ref().map_or(true, |l| l.starts_with(prefix)))
            .map(move |l| l.map(|l| l[prefix.len()..].to_string())))
    };
    let (mut p2p, mut dc) = (side("p2p,")?, side("datacenter,")?);
    loop {
        match (p2p.next().transpose()?, dc.next().transpose()?) {
            (None, None) => return Ok(()),
            (a, b) if a == b => continue,
            _ => bail!("internal error: the two systems received different requests"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAME: &str = "system,time_ns,client\np2p,1,0\np2p,2,1\ndatacenter,1,0\ndatacenter,2,1\n";

    /// The streamed comparison finds equal request logs equal, in memory and
    /// on disk, and tells a changed row, a missing row and an extra row.
    #[test]
    fn request_logs_are_compared_row_for_row() {
        assert!(check_identical_requests(&CsvFile::Bytes(SAME.into())).is_ok());
        let p = std::env::temp_dir().join(format!("pc-requests-{}.csv", std::process::id()));
        std::fs::write(&p, SAME).unwrap();
        assert!(check_identical_requests(&CsvFile::Disk(p.clone())).is_ok());
        std::fs::remove_file(&p).unwrap();
        for bad in [
            SAME.replace("datacenter,2,1", "datacenter,3,1"),
            SAME.replace("datacenter,2,1\n", ""),
            format!("{SAME}datacenter,3,2\n"),
        ] {
            let e = check_identical_requests(&CsvFile::Bytes(bad.clone().into())).unwrap_err();
            assert!(e.to_string().contains("different requests"), "{bad}: {e}");
        }
    }
}
