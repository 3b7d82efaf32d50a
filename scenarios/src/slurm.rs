//! Slurm job scripts for a sweep: a job array with one task per shard, and
//! a merge job that runs once every task has succeeded; and for a tune: a
//! job array per round of seeds, submitted round by round by `submit.sh`.
//!
//! The scripts call this binary by its absolute path, and read and write
//! absolute paths, so the binary, the scenario file and the output folder
//! must be on a file system every compute node sees (the usual shared
//! home or project folder of a cluster).

use crate::load::Override;
use crate::sweep::Grid;
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Resources and placement of the generated jobs.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// Array tasks (shards); at most the number of runs.
    pub shards: usize,
    /// CPUs per task; each task runs that many runs at a time.
    pub cpus_per_task: usize,
    /// Time limit per task (`HH:MM:SS`, `D-HH:MM:SS`, or minutes).
    pub time: String,
    /// Memory per task (`4G`), if the cluster wants one.
    pub mem: Option<String>,
    /// Partition, if not the default one.
    pub partition: Option<String>,
    /// Account to charge, if the cluster wants one.
    pub account: Option<String>,
}

/// Where the scripts went.
#[derive(Debug, Clone)]
pub struct Scripts {
    /// The folder of the scripts and the jobs' logs.
    pub dir: PathBuf,
    /// The array job script.
    pub array: PathBuf,
    /// The merge job script.
    pub merge: PathBuf,
    /// `submit.sh`: submits both, chained.
    pub submit: PathBuf,
    /// Shards actually used.
    pub shards: usize,
    /// The sweep directory the merge job completes.
    pub sweep_dir: PathBuf,
}

/// `s` quoted for a POSIX shell.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The `#SBATCH` lines of every job: partition, account, time limit.
fn common_lines(opts: &SlurmOptions) -> String {
    let mut common = String::new();
    if let Some(p) = &opts.partition {
        let _ = writeln!(common, "#SBATCH --partition={}", quote(p));
    }
    if let Some(a) = &opts.account {
        let _ = writeln!(common, "#SBATCH --account={}", quote(a));
    }
    let _ = writeln!(common, "#SBATCH --time={}", quote(&opts.time));
    common
}

/// A job array of `shards` tasks, task `i` running `args` (a quoted
/// command line) as shard `i + 1` with `--jobs` its CPUs, from `cwd`, its
/// output to `log`.
fn array_script(
    comment: &str,
    job: &str,
    shards: usize,
    opts: &SlurmOptions,
    log: &Path,
    cwd: &Path,
    args: &str,
) -> String {
    let mut array = String::new();
    let _ = writeln!(array, "#!/bin/bash");
    let _ = writeln!(array, "# {comment}");
    let _ = writeln!(array, "#SBATCH --job-name={}", quote(job));
    let _ = writeln!(array, "#SBATCH --array=0-{}", shards - 1);
    let _ = writeln!(array, "#SBATCH --ntasks=1");
    let _ = writeln!(array, "#SBATCH --cpus-per-task={}", opts.cpus_per_task);
    if let Some(m) = &opts.mem {
        let _ = writeln!(array, "#SBATCH --mem={}", quote(m));
    }
    array.push_str(&common_lines(opts));
    let _ = writeln!(
        array,
        "#SBATCH --output={}",
        quote(&log.display().to_string())
    );
    let _ = writeln!(array, "set -euo pipefail");
    let _ = writeln!(array, "cd {}", quote(&cwd.display().to_string()));
    let _ = writeln!(
        array,
        "exec {args} --jobs \"${{SLURM_CPUS_PER_TASK:-{}}}\" --shard \"$((SLURM_ARRAY_TASK_ID + 1))/{shards}\" --quiet",
        opts.cpus_per_task
    );
    array
}

/// `BIN SUBCOMMAND SCENARIO --out OUT [--seed S] [--set K=V …]`, quoted.
fn command(
    bin: &Path,
    sub: &str,
    scenario: &str,
    out: &Path,
    seed: Option<u64>,
    sets: &[Override],
) -> Vec<String> {
    let mut args = vec![
        quote(&bin.display().to_string()),
        sub.into(),
        quote(scenario),
        "--out".into(),
        quote(&out.display().to_string()),
    ];
    if let Some(s) = seed {
        args.push(format!("--seed {s}"));
    }
    for o in sets {
        args.push(format!("--set {}", quote(&o.text)));
    }
    args
}

/// Write executable scripts into `dir`.
fn write_scripts(dir: &Path, files: &[(&str, String)]) -> Result<()> {
    for (f, text) in files {
        let p = dir.join(f);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("making {} executable", p.display()))?;
        }
    }
    Ok(())
}

fn abs(p: &Path) -> Result<PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()
            .context("reading the current folder")?
            .join(p))
    }
}

/// Write the scripts for `grid` into `<out>/<name>/slurm-<hash>/`.
/// `scenario` is the scenario argument as the sweep should see it (an
/// absolute file path, or a bundled name); `sets` and `seed` are passed on
/// to every task; `bin` is this binary.
pub fn write(
    grid: &Grid,
    scenario: &str,
    sets: &[Override],
    seed: Option<u64>,
    out: &Path,
    bin: &Path,
    opts: &SlurmOptions,
) -> Result<Scripts> {
    let out = abs(out)?;
    let bin = abs(bin)?;
    let runs = grid.points.len();
    let shards = opts.shards.clamp(1, runs.max(1));
    let hash = grid.manifest.hash();
    let dir = crate::output::inside(
        &out,
        &Path::new(&grid.manifest.name).join(format!("slurm-{}", &hash[..12])),
    )?;
    let sweep_dir = crate::output::inside(&out, &grid.manifest.rel_dir())?;
    std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("creating {}", dir.join("logs").display()))?;
    let cwd = std::env::current_dir().context("reading the current folder")?;
    let name = &grid.manifest.name;

    let common = common_lines(opts);
    let args = command(&bin, "sweep", scenario, &out, seed, sets);
    let array = array_script(
        &format!(
            "Sweep `{name}`: {}, in {shards} shard{} (one array task each).",
            grid.spec.describe(),
            if shards == 1 { "" } else { "s" }
        ),
        &format!("pc-{name}"),
        shards,
        opts,
        &dir.join("logs/shard-%a.out"),
        &cwd,
        &args.join(" "),
    );

    let mut merge = String::new();
    let _ = writeln!(merge, "#!/bin/bash");
    let _ = writeln!(
        merge,
        "# Merge the shards of sweep `{name}` once every array task has succeeded."
    );
    let _ = writeln!(
        merge,
        "#SBATCH --job-name={}",
        quote(&format!("pc-{name}-merge"))
    );
    let _ = writeln!(merge, "#SBATCH --ntasks=1");
    let _ = writeln!(merge, "#SBATCH --cpus-per-task=1");
    let _ = writeln!(merge, "#SBATCH --kill-on-invalid-dep=yes");
    merge.push_str(&common);
    let _ = writeln!(
        merge,
        "#SBATCH --output={}",
        quote(&dir.join("logs/merge.out").display().to_string())
    );
    let _ = writeln!(merge, "set -euo pipefail");
    let _ = writeln!(merge, "cd {}", quote(&cwd.display().to_string()));
    let _ = writeln!(
        merge,
        "exec {} merge {}",
        quote(&bin.display().to_string()),
        quote(&sweep_dir.display().to_string())
    );

    let submit = format!(
        r#"#!/bin/sh
# Submit sweep `{name}`: the job array ({shards} task{s}), then the merge job,
# which starts once every task has succeeded. `submit.sh --wait` returns when
# the merge job has ended, with its exit status.
set -eu
cd "$(dirname "$0")"
wait_flag=""
if [ "${{1:-}}" = "--wait" ]; then wait_flag="--wait"; fi
array=$(sbatch --parsable sweep.sbatch)
array=${{array%%;*}}
echo "submitted job array $array ({shards} task{s}); logs in {logs}"
merge=$(sbatch --parsable $wait_flag --dependency=afterok:"$array" merge.sbatch)
echo "merge job ${{merge%%;*}}: results in {results}"
if [ -n "$wait_flag" ]; then
    # A merge job cancelled because a task failed also ends `sbatch --wait`
    # with status 0: the combined report is the proof of success.
    if [ ! -f {report} ]; then
        echo "the sweep did not complete: see the logs in {logs}" >&2
        exit 1
    fi
    echo "done"
fi
"#,
        s = if shards == 1 { "" } else { "s" },
        logs = dir.join("logs").display(),
        results = sweep_dir.display(),
        report = quote(&sweep_dir.join("report.md").display().to_string()),
    );

    write_scripts(
        &dir,
        &[
            ("sweep.sbatch", array),
            ("merge.sbatch", merge),
            ("submit.sh", submit),
        ],
    )?;
    Ok(Scripts {
        array: dir.join("sweep.sbatch"),
        merge: dir.join("merge.sbatch"),
        submit: dir.join("submit.sh"),
        dir,
        shards,
        sweep_dir,
    })
}

/// Where the scripts of a tune went.
#[derive(Debug, Clone)]
pub struct TuneScripts {
    /// The folder of the scripts and the jobs' logs.
    pub dir: PathBuf,
    /// The array job script (one round's runs, one shard per task).
    pub array: PathBuf,
    /// `submit.sh`: runs the search round by round.
    pub submit: PathBuf,
    /// Shards per round.
    pub shards: usize,
    /// Most rounds the search can take.
    pub rounds: u64,
}

/// Write the scripts of `scenarios tune` on Slurm into
/// `<out>/<name>/slurm-tune-<hash>/`: `tune.sbatch`, a job array whose task
/// `i` runs shard `i + 1` of the round that has runs missing
/// (`tune --shard`), and `submit.sh`, which loops: `tune --status` (exit 0:
/// the search has ended and its result is written; 3: a round has runs
/// missing), then the job array for that round, waited for with
/// `sbatch --wait`, at most `rounds` times. The arguments are those of
/// [`write`]; `name` is the scenario's name.
#[allow(clippy::too_many_arguments)]
pub fn write_tune(
    name: &str,
    rounds: u64,
    scenario: &str,
    sets: &[Override],
    seed: Option<u64>,
    out: &Path,
    bin: &Path,
    opts: &SlurmOptions,
) -> Result<TuneScripts> {
    let out = abs(out)?;
    let bin = abs(bin)?;
    let shards = opts.shards.max(1);
    let args = command(&bin, "tune", scenario, &out, seed, sets).join(" ");
    let hash = crate::output::hash_pair(&args, &shards.to_string());
    let dir = crate::output::inside(
        &out,
        &Path::new(name).join(format!("slurm-tune-{}", &hash[..12])),
    )?;
    std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("creating {}", dir.join("logs").display()))?;
    let cwd = std::env::current_dir().context("reading the current folder")?;

    let array = array_script(
        &format!(
            "Tune `{name}`: the runs of one round of seeds, in {shards} shard{} (one array task each).",
            if shards == 1 { "" } else { "s" }
        ),
        &format!("pc-tune-{name}"),
        shards,
        opts,
        &dir.join("logs/round-%A-shard-%a.out"),
        &cwd,
        &args,
    );

    let status_cmd = format!(
        "(cd {} && {args} --status)",
        quote(&cwd.display().to_string())
    );
    let submit = format!(
        r#"#!/bin/sh
# Tune `{name}` on Slurm, round by round. Run it where `sbatch` works (a
# login node; it stays running, so under nohup, screen or tmux): it asks
# `tune --status` whether a round of seeds has runs missing, submits the job
# array for that round and waits for it (`sbatch --wait`), and repeats, at
# most {rounds} times. When no run is missing, `tune --status` writes the result
# (points.csv, recommendation.toml, the report) and this script ends with its
# exit status: 0 with a recommendation, 2 without one (the reason is printed).
set -eu
cd "$(dirname "$0")"
round=0
while :; do
    status=0
    {status_cmd} || status=$?
    case $status in
        0) echo "done"; exit 0 ;;
        3) ;;
        *) echo "tune ended with exit status $status (see above)" >&2; exit "$status" ;;
    esac
    round=$((round + 1))
    if [ "$round" -gt {rounds} ]; then
        echo "runs still missing after {rounds} rounds: see the logs in {logs}" >&2
        exit 1
    fi
    echo "round $round: submitting the job array ({shards} task{s}); logs in {logs}"
    sbatch --wait tune.sbatch
done
"#,
        s = if shards == 1 { "" } else { "s" },
        logs = dir.join("logs").display(),
    );
    write_scripts(&dir, &[("tune.sbatch", array), ("submit.sh", submit)])?;
    Ok(TuneScripts {
        array: dir.join("tune.sbatch"),
        submit: dir.join("submit.sh"),
        dir,
        shards,
        rounds,
    })
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting() {
        assert_eq!(quote("kademlia.k=8"), "kademlia.k=8");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$HOME"), "'$HOME'");
    }
}
