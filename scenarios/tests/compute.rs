//! The compute experiment through the command line: a small run's outputs,
//! their determinism and pairing, an SWF log replayed exactly, and the
//! errors `validate` gives for bad `[compute]` values and corrupted logs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
mod common;
use common::{bin, tmp};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// 60 churning internet peers run the jobs of 20 clients for a simulated
/// day, a tenth of them colluding liars, against 4 servers with outages.
const SMALL: &str = r#"
[scenario]
name = "small-compute"
description = "a small compute test scenario"
seed = 5
warmup = "10min"
duration = "1d"

[topology]
kind = "internet"
nodes = 60

[churn]
up = "weibull(6h, 0.5)"
down = "weibull(1h, 0.5)"

[compute]
clients = 20
mean_gap = "1h"
work = "lognormal(10min, 1)"
input = "4MiB"
output = "256KiB"
redundancy = 3
quorum = 2
faulty = 0.1
colluding = true
speed_min = 0.5
speed_max = 2
share = 0.5
sample_every = "1h"

[datacenter]
servers = 4
mtbf = "12h"
mttr = "1h"

[output]
plots = false
sample_every = "10min"
"#;

/// The one result directory under `out/<name>/`.
fn result(out: &Path, name: &str) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out.join(name))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// Every file of a result directory by relative path, `run-info.csv` (wall
/// clock) aside.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if rel != "run-info.csv" {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn run(file: &Path, out: &Path, name: &str, args: &[&str]) -> PathBuf {
    let o = bin()
        .arg(file)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    result(out, name)
}

/// The rows of one side of a merged table, without the `system` column.
fn side(text: &str, system: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .filter_map(|l| l.strip_prefix(&format!("{system},")))
        .map(String::from)
        .collect()
}

/// Column `name` of a CSV header line.
fn col(header: &str, name: &str) -> usize {
    header
        .split(',')
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name} in {header}"))
}

#[test]
fn a_compute_run_is_complete_paired_and_deterministic() {
    let d = tmp("run");
    let file = d.join("small.toml");
    std::fs::write(&file, SMALL).unwrap();
    let a = run(&file, &d.join("a"), "small-compute", &[]);
    let b = run(&file, &d.join("b"), "small-compute", &[]);
    let c = run(&file, &d.join("c"), "small-compute", &["--seed", "6"]);
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));

    for f in [
        "requests.csv",
        "jobs.csv",
        "over-time.csv",
        "summary.csv",
        "report.md",
        "p2p/counters.csv",
        "datacenter/counters.csv",
        "manifest.sha256",
    ] {
        assert!(fa.contains_key(f), "{f} missing: {:?}", fa.keys());
    }
    // Same seed: byte-identical, the same run id.
    assert_eq!(a.file_name(), b.file_name());
    assert_eq!(fa, fb, "two runs of one seed differ");
    // Another seed: other submissions and other outcomes.
    for f in ["requests.csv", "jobs.csv", "over-time.csv"] {
        assert_ne!(fa[f], fc[f], "{f} is the same under another seed");
    }

    let text = |f: &str| String::from_utf8(fa[f].clone()).unwrap();
    // Paired: both sides received the same submissions, from the clients.
    let requests = text("requests.csv");
    let (p, q) = (side(&requests, "p2p"), side(&requests, "datacenter"));
    assert!(p.len() > 300, "{} submissions", p.len());
    assert_eq!(p, q);
    let clients: BTreeSet<u32> = p
        .iter()
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert!(clients.iter().all(|&c| c < 20), "{clients:?}");
    // Jobs finished on both sides; each row's submission was delivered.
    let jobs = text("jobs.csv");
    let header = jobs.lines().next().unwrap();
    let (node, submit, ok) = (
        col(header, "node"),
        col(header, "submit_ns"),
        col(header, "ok"),
    );
    let delivered: BTreeSet<(String, String)> = p
        .iter()
        .filter(|l| l.contains(",true,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[2].to_string(), f[0].to_string())
        })
        .collect();
    for system in ["p2p", "datacenter"] {
        let rows = side(&jobs, system);
        let accepted = rows
            .iter()
            .filter(|r| r.split(',').nth(ok - 1) == Some("true"))
            .count();
        assert!(accepted > 200, "{system}: {accepted} accepted");
        for r in &rows {
            let f: Vec<&str> = r.split(',').collect();
            let key = (f[node - 1].to_string(), f[submit - 1].to_string());
            assert!(delivered.contains(&key), "{system}: {r} was not submitted");
        }
    }
    // Colluding liars with quorum 2 of 3 get wrong answers accepted on the
    // P2P side; the trusted site never does.
    let answer = col(header, "answer");
    let wrong = |system: &str| {
        side(&jobs, system)
            .iter()
            .filter(|r| r.split(',').nth(answer - 1) == Some("wrong"))
            .count()
    };
    assert!(wrong("p2p") > 0, "no wrong answer accepted");
    assert_eq!(wrong("datacenter"), 0);
    // One sample per hour on both sides, at the same instants.
    let over = text("over-time.csv");
    let (po, qo) = (side(&over, "p2p"), side(&over, "datacenter"));
    assert_eq!(po.len(), 25);
    assert_eq!(qo.len(), 25);
    let instants = |rows: &[String]| -> Vec<String> {
        rows.iter()
            .map(|r| r.split(',').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(instants(&po), instants(&qo));
    // The summary has the compute rows, and no NaN anywhere.
    let summary = text("summary.csv");
    for m in [
        "success_rate,%",
        "completion_time_p99,s",
        "throughput,jobs/h",
        "wrong_accepted,%",
        "wasted_cpu_churn,CPU-h",
        "idle_fraction,%",
    ] {
        assert!(summary.contains(m), "{m} not in {summary}");
    }
    for (name, bytes) in &fa {
        let t = String::from_utf8_lossy(bytes);
        assert!(!t.contains("NaN"), "{name} has NaN");
    }
    let report = text("report.md");
    assert!(
        report.contains("6 volunteers return wrong answers (colluding"),
        "{report}"
    );
    assert!(report.contains("4 servers"), "{report}");
    let _ = std::fs::remove_dir_all(&d);
}

/// The synthetic SWF file of the jobs crate's tests (labelled synthetic in
/// its header).
fn synthetic_swf() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../protocols/jobs/tests/data/synthetic-small.swf"
    ))
    .unwrap()
}

const SWF_SCENARIO: &str = r#"
[scenario]
name = "swf-replay"
description = "the synthetic SWF log replayed"
seed = 3
warmup = "10min"
duration = "2h"

[topology]
kind = "internet"
nodes = 20

[compute]
clients = 4
swf = "log.swf"
redundancy = 1
quorum = 1

[datacenter]
servers = 16

[output]
plots = false
"#;

/// The log's nine jobs, by hand: jobs 4 (run time -1) and 6 (processors
/// -1, none requested) are left out; the others are submitted at their
/// submit time less job 1's (10 s) after the 10 min warm-up, by client
/// user id mod 4 (job 5 has no user: job number mod 4), with work = run
/// time × processors (allocated, else requested). Two jobs of one client
/// at one instant (3 after 2, 8 after 7) come 1 ns apart.
#[test]
fn an_swf_log_replays_exactly() {
    let d = tmp("swf");
    std::fs::write(d.join("log.swf"), synthetic_swf()).unwrap();
    let file = d.join("swf.toml");
    std::fs::write(&file, SWF_SCENARIO).unwrap();
    let o = bin()
        .arg(&file)
        .args(["--out", "out", "--quiet"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = result(&d.join("out"), "swf-replay");
    let requests = std::fs::read_to_string(dir.join("requests.csv")).unwrap();
    let s = 1_000_000_000u64;
    let w = 600 * s;
    // (time_ns, client, job id, work as the request prints it): job 1 is
    // 3600 s × 64 = 230400 s = 64 h, job 7 86400 s × 128 = 128 d.
    let want = [
        (w, 3, 1, "64h"),
        (w + 20 * s, 3, 2, "120.5s"),
        (w + 20 * s + 1, 3, 3, "0s"),
        (w + 90 * s, 1, 5, "800s"),
        (w + 190 * s, 0, 7, "128d"),
        (w + 190 * s + 1, 0, 8, "2s"),
        (w + 3590 * s, 1, 9, "7s"),
    ];
    let got: Vec<(u64, u32, u64, String)> = side(&requests, "p2p")
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.splitn(6, ',').collect();
            let req = f[5];
            let id = req.split("id: ").nth(1).unwrap().split(',').next().unwrap();
            let work = req
                .split("work: ")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap();
            assert_eq!(f[4], "true", "{l}");
            (
                f[0].parse().unwrap(),
                f[2].parse().unwrap(),
                id.parse().unwrap(),
                work.to_string(),
            )
        })
        .collect();
    let want: Vec<(u64, u32, u64, String)> = want
        .iter()
        .map(|&(t, c, j, wk)| (t, c, j, wk.to_string()))
        .collect();
    assert_eq!(got, want, "{requests}");
    assert_eq!(side(&requests, "datacenter"), side(&requests, "p2p"));
    // The jobs short enough to end within the 2 h ended on both sides;
    // jobs 1 (64 CPU-hours) and 7 (128 CPU-days) did not.
    let jobs = std::fs::read_to_string(dir.join("jobs.csv")).unwrap();
    for system in ["p2p", "datacenter"] {
        let ended: BTreeSet<u64> = side(&jobs, system)
            .iter()
            .map(|r| r.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(ended, BTreeSet::from([2, 3, 5, 8, 9]), "{system}: {jobs}");
    }
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        report.contains("the 7 jobs of the SWF log `log.swf` (2 left out"),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Corrupted copies of the log: `validate` names the key, the file, the
/// line and the field, and nothing runs.
#[test]
fn corrupted_swf_logs_are_clear_errors() {
    let d = tmp("swf-bad");
    std::fs::write(d.join("swf.toml"), SWF_SCENARIO).unwrap();
    let good = synthetic_swf();
    let line = |n: usize, f: &dyn Fn(&str) -> String| -> String {
        good.lines()
            .enumerate()
            .map(|(i, l)| if i + 1 == n { f(l) } else { l.to_string() })
            .collect::<Vec<_>>()
            .join("\n")
    };
    // Line 16 is job 1, line 17 job 2.
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        (
            "letter-in-run-time",
            line(17, &|l| l.replacen("120.5", "12O.5", 1)).into_bytes(),
            vec!["log.swf:17", "field 4 (run time)"],
        ),
        (
            "missing-field",
            line(16, &|l| {
                l.trim_end().rsplit_once(' ').unwrap().0.to_string()
            })
            .into_bytes(),
            vec!["log.swf:16", "18"],
        ),
        (
            "out-of-order",
            line(17, &|l| l.replacen("30 ", "5  ", 1)).into_bytes(),
            vec!["log.swf:17", "submit"],
        ),
        (
            "not-text",
            vec![0xff, 0xfe, 0x00, 0x01],
            vec!["log.swf", "not text"],
        ),
        ("empty", Vec::new(), vec!["log.swf", "no job to replay"]),
    ];
    for (name, bytes, wants) in cases {
        std::fs::write(d.join("log.swf"), &bytes).unwrap();
        let o = bin()
            .args(["validate", "swf.toml"])
            .current_dir(&d)
            .output()
            .unwrap();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {e}");
        assert!(e.contains("compute.swf"), "{name}: no key in {e}");
        for w in wants {
            assert!(e.contains(w), "{name}: expected {w:?} in {e}");
        }
        assert!(!e.contains("panicked"), "{name}: {e}");
    }
    std::fs::remove_file(d.join("log.swf")).unwrap();
    let o = bin()
        .args(["validate", "swf.toml"])
        .current_dir(&d)
        .output()
        .unwrap();
    let e = stderr(&o);
    assert!(e.contains("compute.swf") && e.contains("log.swf"), "{e}");
    assert!(!d.join("out").exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// Each bad `[compute]` value is an error of `validate` naming the file
/// and the key that fixes it.
#[test]
fn validate_reports_bad_compute_values() {
    let d = tmp("bad");
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "quorum-above-redundancy",
            SMALL.replace("quorum = 2", "quorum = 4"),
            vec!["compute.quorum", "exceeds redundancy 3"],
        ),
        (
            "redundancy-above-peers",
            SMALL.replace("redundancy = 3", "redundancy = 61"),
            vec!["compute.redundancy", "60 peers"],
        ),
        (
            "faulty-above-one",
            SMALL.replace("faulty = 0.1", "faulty = 1.5"),
            vec!["compute.faulty", "0 to 1"],
        ),
        (
            "speeds-reversed",
            SMALL.replace("speed_max = 2", "speed_max = 0.25"),
            vec!["compute.speed_max", "speed_min"],
        ),
        (
            "share-zero",
            SMALL.replace("share = 0.5", "share = 0"),
            vec!["compute.share", "above 0"],
        ),
        (
            "d-without-power-of-d",
            SMALL.replace("redundancy = 3", "redundancy = 3\npolicy = \"pull\"\nd = 4"),
            vec!["compute.d", "power-of-d"],
        ),
        (
            "unknown-policy",
            SMALL.replace("redundancy = 3", "redundancy = 3\npolicy = \"fastest\""),
            vec!["compute.policy", "power-of-d"],
        ),
        (
            "bad-work",
            SMALL.replace("lognormal(10min, 1)", "gaussian(10min)"),
            vec!["compute.work", "gaussian", "exponential(MEAN)"],
        ),
        (
            "work-with-swf",
            SMALL.replace("clients = 20", "clients = 20\nswf = \"log.swf\""),
            vec!["compute.mean_gap", "compute.swf"],
        ),
        (
            "clients-above-peers",
            SMALL.replace("clients = 20", "clients = 61"),
            vec!["compute.clients", "only 60 peers"],
        ),
        (
            "checkpoint-too-short",
            SMALL.replace("redundancy = 3", "redundancy = 3\ncheckpoint = \"10ms\""),
            vec!["compute.checkpoint", "at least 1s"],
        ),
        (
            "server-speed-zero",
            SMALL.replace("servers = 4", "servers = 4\nserver_speed = 0"),
            vec!["datacenter.server_speed", "0.001"],
        ),
        (
            "too-many-jobs",
            SMALL.replace("mean_gap = \"1h\"", "mean_gap = \"1us\""),
            vec!["compute.mean_gap", "at most 100000000"],
        ),
        (
            "two-experiments",
            SMALL.replace(
                "[output]",
                "[workload]\nclients = 2\nmean_gap = \"1s\"\n\n[output]",
            ),
            vec!["compute", "one experiment", "`[workload]` and `[compute]`"],
        ),
    ];
    for (name, text, wants) in cases {
        assert_ne!(text, SMALL, "{name}: the case changed nothing");
        let file = d.join(format!("{name}.toml"));
        std::fs::write(&file, &text).unwrap();
        let o = bin()
            .args(["validate"])
            .arg(&file)
            .current_dir(&d)
            .output()
            .unwrap();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {e}");
        assert!(
            e.contains(&format!("{name}.toml")),
            "{name}: no file in {e}"
        );
        for w in wants {
            assert!(e.contains(w), "{name}: expected {w:?} in {e}");
        }
        assert!(!e.contains("panicked"), "{name}: {e}");
    }
    let good = d.join("good.toml");
    std::fs::write(&good, SMALL).unwrap();
    let o = bin().arg("validate").arg(&good).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("[compute]") && out.contains("policy = \"power-of-d\""),
        "{out}"
    );
    assert!(!d.join("out").exists());
    let _ = std::fs::remove_dir_all(&d);
}
