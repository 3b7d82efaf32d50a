//! Sweeps end to end: parallel runs give the same bytes, an interrupted
//! sweep resumes to exactly the files of an uninterrupted one, shards merge
//! into the local sweep, merge refuses to mix, the Slurm scripts run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
mod common;
use common::{bin, entries, logs, one_entry, text, tmp};

/// 2 values of k × 2 timeouts × 2 seeds = 8 small runs.
const SWEEP: &str = r#"
[scenario]
name = "tiny"
description = "a tiny sweep"
seed = 7
warmup = "1min"
duration = "2min"

[topology]
kind = "internet"
nodes = 50

[churn]
up = "exponential(30min)"
down = "exponential(10min)"

[workload]
clients = 15
mean_gap = "10s"

[sweep]
seeds = 2
kademlia.k = [4, 8]
kademlia.rpc_timeout = ["500ms", "1s"]
"#;

fn scenario(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("tiny.toml");
    std::fs::write(&p, body).unwrap();
    p
}

fn sweep(file: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("sweep")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// `scenarios merge DIRS… --out OUT`.
fn merge(dirs: &[PathBuf], out: &Path) -> Output {
    bin()
        .arg("merge")
        .args(dirs)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// Every file under `root` (relative path → bytes), hidden ones included;
/// `run-info.csv` (wall-clock figures) by name only.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                let bytes = if rel.ends_with("run-info.csv") {
                    Vec::new()
                } else {
                    std::fs::read(&p).unwrap()
                };
                out.insert(rel, bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    let ka: Vec<&String> = ta.keys().collect();
    let kb: Vec<&String> = tb.keys().collect();
    assert_eq!(
        ka,
        kb,
        "different files in {} and {}",
        a.display(),
        b.display()
    );
    for (k, v) in &ta {
        assert!(
            v == &tb[k],
            "{k} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn sweep_dir(out: &Path) -> PathBuf {
    one_entry(&out.join("tiny"), "sweep-")
}

fn complete_runs(out: &Path) -> usize {
    entries(&out.join("tiny"), "seed-")
        .iter()
        .filter(|p| p.join("report.md").is_file())
        .count()
}

/// The reference: an uninterrupted sweep with one run at a time.
fn reference(d: &Path, file: &Path) -> PathBuf {
    let out = d.join("ref");
    let o = sweep(file, &out, &["--jobs", "1", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    out
}

#[test]
fn jobs_1_and_2_give_identical_bytes_and_combined_tables() {
    let d = tmp("jobs");
    let file = scenario(&d, SWEEP);
    let one = reference(&d, &file);
    let two = d.join("two");
    let o = sweep(&file, &two, &["--jobs", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("8 runs simulated"), "{}", text(&o));
    assert_same_tree(&one, &two);
    assert_eq!(complete_runs(&one), 8);

    // The combined tables: one row per run and metric, the swept values
    // as columns, the values copied from the runs.
    let s = sweep_dir(&one);
    for f in [
        "sweep.toml",
        "provenance.toml",
        "runs.csv",
        "summary.csv",
        "across-seeds.csv",
        "report.md",
        "metrics/latency_mean.csv",
        "metrics/answered_rate.csv",
        "plots/latency_mean.svg",
        "plots/latency_mean.png",
    ] {
        assert!(s.join(f).is_file(), "{f} missing");
    }
    let lat = std::fs::read_to_string(s.join("metrics/latency_mean.csv")).unwrap();
    let mut lines = lat.lines();
    assert_eq!(
        lines.next().unwrap(),
        "kademlia.k,kademlia.rpc_timeout,seed,unit,p2p,datacenter,difference,diff_ci95_low,diff_ci95_high,n"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 8);
    let runs = std::fs::read_to_string(s.join("runs.csv")).unwrap();
    for (row, run) in rows.iter().zip(runs.lines().skip(1)) {
        let run_dir = one.join(run.rsplit(',').next().unwrap());
        let summary = std::fs::read_to_string(run_dir.join("summary.csv")).unwrap();
        let own = summary
            .lines()
            .find(|l| l.starts_with("latency_mean,"))
            .unwrap();
        let fields: Vec<&str> = row.split(',').collect();
        let run_fields: Vec<&str> = run.split(',').collect();
        assert_eq!(fields[..3], run_fields[1..4], "values and seed of {run}");
        assert_eq!(
            fields[4..].join(","),
            own.split(',').skip(2).collect::<Vec<_>>().join(","),
            "{run}"
        );
    }
    // The sweep file reruns the same sweep: nothing to do.
    let o = sweep(&s.join("sweep.toml"), &one, &["--jobs", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("0 runs simulated, 8 already complete"),
        "{}",
        text(&o)
    );
    assert_same_tree(&one, &two);
}

#[test]
fn an_interrupted_sweep_resumes_to_the_files_of_an_uninterrupted_one() {
    let d = tmp("resume");
    let file = scenario(&d, SWEEP);
    let one = reference(&d, &file);
    for jobs in ["1", "2"] {
        let out = d.join(format!("killed-{jobs}"));
        // Killed (abort: no clean-up) while writing a run, after 3 runs.
        let o = sweep(
            &file,
            &out,
            &["--jobs", jobs, "--quiet", "--die-after-runs", "3"],
        );
        assert!(!o.status.success(), "the sweep was meant to die");
        let done = complete_runs(&out);
        assert!((3..8).contains(&done), "{done} runs complete");
        let s = sweep_dir(&out);
        assert!(!s.join("report.md").exists(), "no combined output yet");
        let leftovers = std::fs::read_dir(out.join("tiny"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".partial")
            })
            .count();
        assert!(leftovers >= 1, "a half-written run is left behind");
        // Resume.
        let o = sweep(&file, &out, &["--jobs", jobs]);
        assert!(o.status.success(), "{}", text(&o));
        let said = text(&o);
        assert!(
            said.contains(&format!(
                "{} runs simulated, {done} already complete",
                8 - done
            )),
            "{said}"
        );
        assert_same_tree(&one, &out);
    }
    // --force reruns everything, to the same bytes.
    let o = sweep(&file, &one, &["--jobs", "2", "--force"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("8 runs simulated, 0 already complete"),
        "{}",
        text(&o)
    );
    assert_same_tree(&one, &d.join("killed-1"));
}

#[test]
fn shards_merged_equal_the_local_sweep_and_merge_refuses_to_mix() {
    let d = tmp("shards");
    let file = scenario(&d, SWEEP);
    let one = reference(&d, &file);

    // Three shards into three folders, merged into a fourth.
    let outs: Vec<PathBuf> = (1..=3).map(|i| d.join(format!("shard{i}"))).collect();
    for (i, out) in outs.iter().enumerate() {
        let o = sweep(&file, out, &["--shard", &format!("{}/3", i + 1), "--quiet"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(!sweep_dir(out).join("report.md").exists());
    }
    assert_eq!(complete_runs(&outs[0]), 3);
    assert_eq!(complete_runs(&outs[2]), 2);
    let dirs: Vec<PathBuf> = outs.iter().map(|o| sweep_dir(o)).collect();
    // Two shards of three are not a sweep.
    let merged = d.join("merged");
    let o = merge(&dirs[..2], &merged);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("2 of 8 runs have no complete result"),
        "{}",
        text(&o)
    );
    let o = merge(&dirs, &merged);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_tree(&one, &merged);

    // Shards sharing one folder (a cluster's shared file system), merged
    // in place.
    let shared = d.join("shared");
    for i in 1..=3 {
        let o = sweep(&file, &shared, &["--shard", &format!("{i}/3"), "--quiet"]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = bin().arg("merge").arg(sweep_dir(&shared)).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_same_tree(&one, &shared);

    // A shard of another sweep (other seeds) is refused.
    let other = d.join("other");
    let o = sweep(
        &file,
        &other,
        &["--shard", "1/3", "--seed", "100", "--quiet"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = merge(&[dirs[0].clone(), sweep_dir(&other)], &d.join("mixed"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("are different sweeps"), "{}", text(&o));
    assert!(!d.join("mixed").exists(), "nothing written");

    // A shard made by another build is refused.
    let p = dirs[1].join("provenance.toml");
    let prov = std::fs::read_to_string(&p).unwrap();
    let forged: String = prov
        .lines()
        .map(|l| {
            if l.starts_with("git_commit") {
                "git_commit = \"0000000\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    std::fs::write(&p, &forged).unwrap();
    let o = merge(&dirs, &d.join("mixed"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("different builds"), "{}", text(&o));
    std::fs::write(&p, &prov).unwrap();

    // A run whose files were produced by another build is refused too.
    let runs = std::fs::read_to_string(dirs[0].join("runs.csv")).unwrap();
    let first_run = runs.lines().nth(1).unwrap().rsplit(',').next().unwrap();
    let rp = outs[0].join(first_run).join("provenance.toml");
    std::fs::write(&rp, &forged).unwrap();
    let o = merge(&dirs, &d.join("mixed"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("different build than the sweep"),
        "{}",
        text(&o)
    );
    std::fs::write(&rp, &prov).unwrap();
    let o = merge(&dirs, &d.join("restored"));
    assert!(o.status.success(), "{}", text(&o));

    // A run whose summary.csv was edited is refused (its manifest).
    let sp = outs[0].join(first_run).join("summary.csv");
    let summary = std::fs::read_to_string(&sp).unwrap();
    std::fs::write(
        &sp,
        summary.replacen("answered_rate,%,", "answered_rate,%,1", 1),
    )
    .unwrap();
    let o = merge(&dirs, &d.join("tampered"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("summary.csv was changed"), "{}", text(&o));
    std::fs::write(&sp, &summary).unwrap();

    // A runs.csv whose run ids were swapped between two points (each run
    // still matching its own id) is refused.
    let mut lines: Vec<String> = runs.lines().map(String::from).collect();
    let run_of = |l: &str| l.rsplit(',').next().unwrap().to_string();
    let (a, b) = (run_of(&lines[1]), run_of(&lines[3]));
    lines[1] = lines[1].replace(&a, &b);
    lines[3] = lines[3].replace(&b, &a);
    let swapped = lines.join("\n") + "\n";
    for dir in &dirs {
        std::fs::write(dir.join("runs.csv"), &swapped).unwrap();
    }
    let o = merge(&dirs, &d.join("tampered"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("runs.csv names"), "{}", text(&o));
    assert!(
        text(&o).contains("key `kademlia.rpc_timeout` differs"),
        "{}",
        text(&o)
    );
    assert!(!d.join("tampered").exists(), "nothing written");
}

#[test]
fn bad_sweeps_give_clear_errors() {
    let d = tmp("bad");
    let cases = [
        (
            "kademlia.k = [4, 8]",
            "kademlia.k = 8",
            vec!["tiny.toml", "sweep.kademlia.k", "expected a list"],
        ),
        (
            "kademlia.k = [4, 8]",
            "kademlia.kk = [4, 8]",
            vec![
                "sweep point kademlia.kk=4",
                "unknown field `kk`",
                "did you mean `k`?",
            ],
        ),
        (
            "kademlia.k = [4, 8]",
            "kademlia.k = [4, 0]",
            vec!["tiny.toml", "sweep point", "kademlia.k=0"],
        ),
        ("seeds = 2", "seeds = 0", vec!["sweep.seeds", "≥ 1"]),
        // Seed counts that would allocate gigabytes (or overflow).
        (
            "seeds = 2",
            "seeds = 9223372036854775807",
            vec!["sweep.seeds", "at most 10000"],
        ),
        (
            "seeds = 2",
            "seeds = 4294967296",
            vec!["sweep.seeds", "at most 10000"],
        ),
        (
            "kademlia.k = [4, 8]",
            "kademlia.k = [4, 8]\nworkload.mean_gap = [\"1s\", \"1ns\"]",
            vec!["sweep point", "workload.mean_gap"],
        ),
        // Every point goes through the checks of `validate`, topology included.
        (
            "kademlia.k = [4, 8]",
            "kademlia.k = [4, 8]\nworkload.clients = [15, 51]",
            vec!["sweep point", "workload.clients", "50 peers"],
        ),
    ];
    for (from, to, expect) in cases {
        let file = scenario(&d, &SWEEP.replace(from, to));
        let o = sweep(&file, &d.join("out"), &["--quiet"]);
        assert_eq!(o.status.code(), Some(2), "{to}: {}", text(&o));
        for e in expect {
            assert!(text(&o).contains(e), "{to}: expected {e:?} in {}", text(&o));
        }
        assert!(!text(&o).contains("panicked"), "{}", text(&o));
    }
    let file = scenario(&d, SWEEP);
    let o = sweep(&file, &d.join("out"), &["--set", "kademlia.k=3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("is swept"), "{}", text(&o));
    for bad in ["0/2", "3/2", "half"] {
        let o = sweep(&file, &d.join("out"), &["--shard", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(text(&o).contains("I/N"), "{}", text(&o));
    }
    assert!(!d.join("out").exists(), "nothing written for bad input");
    // A directory that is not a sweep.
    let o = bin().arg("merge").arg(&d).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("not a sweep directory"), "{}", text(&o));
}

fn slurm_scripts(d: &Path, file: &Path, out: &Path, shards: &str) -> PathBuf {
    let o = bin()
        .arg("slurm")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(["--shards", shards, "--time", "00:10:00"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let _ = d;
    let said = text(&o);
    let submit = said
        .lines()
        .find_map(|l| l.strip_prefix("submit both with: "))
        .expect("the submit script is named");
    PathBuf::from(submit).parent().unwrap().to_path_buf()
}

/// The generated scripts, run as Slurm would run them (each array task
/// with its `SLURM_ARRAY_TASK_ID`, then the merge job), give the local
/// sweep. The real scheduler runs them in the ignored test below.
#[test]
fn slurm_scripts_run_by_hand_give_the_local_sweep() {
    let d = tmp("slurm-hand");
    let file = scenario(&d, SWEEP);
    let one = reference(&d, &file);
    let out = d.join("cluster");
    let dir = slurm_scripts(&d, &file, &out, "3");
    let array = std::fs::read_to_string(dir.join("sweep.sbatch")).unwrap();
    assert!(array.contains("#SBATCH --array=0-2"), "{array}");
    assert!(array.contains("#SBATCH --time=00:10:00"), "{array}");
    let merge = std::fs::read_to_string(dir.join("merge.sbatch")).unwrap();
    assert!(merge.contains("--kill-on-invalid-dep=yes"), "{merge}");
    let submit = std::fs::read_to_string(dir.join("submit.sh")).unwrap();
    assert!(submit.contains("--dependency=afterok:"), "{submit}");
    for f in ["sweep.sbatch", "merge.sbatch", "submit.sh"] {
        let o = Command::new("sh")
            .arg("-n")
            .arg(dir.join(f))
            .output()
            .unwrap();
        assert!(o.status.success(), "{f}: {}", text(&o));
    }
    // submit.sh --wait reports a sweep that did not complete (here: a
    // stand-in `sbatch` that accepts jobs and never runs them) as a failure.
    let fake = d.join("fake-bin");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(fake.join("sbatch"), "#!/bin/sh\necho 42\n").unwrap();
    Command::new("chmod")
        .arg("+x")
        .arg(fake.join("sbatch"))
        .status()
        .unwrap();
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new(dir.join("submit.sh"))
        .arg("--wait")
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("did not complete"), "{}", text(&o));
    for task in 0..3 {
        let o = Command::new("bash")
            .arg(dir.join("sweep.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_CPUS_PER_TASK", "1")
            .output()
            .unwrap();
        assert!(o.status.success(), "task {task}: {}", text(&o));
    }
    let o = Command::new("bash")
        .arg(dir.join("merge.sbatch"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_same_tree(&one, &out);
}

/// The Slurm path for real: submit the generated job array and merge job to
/// a running Slurm (`.ci/slurm-up` starts a single-node one), wait, and
/// compare with the local sweep. Run with `--ignored` where `sbatch` works.
#[test]
#[ignore = "needs a running Slurm (.ci/slurm-up)"]
fn slurm_job_array_and_merge_give_the_local_sweep() {
    let d = tmp("slurm");
    let file = scenario(&d, SWEEP);
    let one = reference(&d, &file);
    let out = d.join("cluster");
    let dir = slurm_scripts(&d, &file, &out, "4");
    let o = Command::new(dir.join("submit.sh"))
        .arg("--wait")
        .output()
        .unwrap();
    let logs = logs(&dir);
    assert!(o.status.success(), "{}\n{logs}", text(&o));
    let n_logs = std::fs::read_dir(dir.join("logs")).unwrap().count();
    assert_eq!(
        n_logs, 5,
        "4 array tasks and the merge job wrote logs:\n{logs}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_same_tree(&one, &out);
}

/// `--jobs` far above the number of runs is lowered to it, and said so
/// (one thread per job would not finish).
#[test]
fn jobs_are_capped_at_the_number_of_runs() {
    let d = tmp("jobs-cap");
    let file = scenario(
        &d,
        &SWEEP
            .replace("seeds = 2", "seeds = 1")
            .replace("kademlia.rpc_timeout = [\"500ms\", \"1s\"]\n", "")
            .replace("duration = \"2min\"", "duration = \"20s\"")
            .replace("warmup = \"1min\"", "warmup = \"10s\""),
    );
    let o = sweep(&file, &d.join("out"), &["--jobs", "100000"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("--jobs 100000: running 2 at a time"),
        "{}",
        text(&o)
    );
    assert_eq!(complete_runs(&d.join("out")), 2);
    let _ = std::fs::remove_dir_all(&d);
}
