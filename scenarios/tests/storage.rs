//! The storage experiment through the command line: a small run's outputs,
//! their determinism and pairing, and the errors `validate` gives for
//! `[storage]` values that cannot work.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
mod common;
use common::{bin, tmp};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// 60 churning internet peers (departures replaced) back each other up
/// for a simulated day and a half: 3-of-5 fragments, eager repair.
const SMALL: &str = r#"
[scenario]
name = "small-storage"
description = "a small storage test scenario"
seed = 5
warmup = "10min"
duration = "36h"

[topology]
kind = "internet"
nodes = 60

[churn]
up = "weibull(6h, 0.5)"
down = "weibull(1h, 0.5)"
lifetime = "10d"

[kademlia]
id_bits = 64
start = "warm"
termination = "k-closest"
refresh = false
refresh_on_join = false

[storage]
objects = 80
size = "uniform(64KiB, 1MiB)"
write_phase = "2h"
read_rate = 6
erasure = "3of5"
detection_timeout = "2h"
heartbeat = "30min"
sample_every = "1h"

[datacenter]
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

fn run(file: &Path, out: &Path, seed: Option<&str>) -> PathBuf {
    let mut c = bin();
    c.arg(file).arg("--out").arg(out).arg("--quiet");
    if let Some(s) = seed {
        c.args(["--seed", s]);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    result(out, "small-storage")
}

/// The rows of one side of a merged table, without the `system` column.
fn side(text: &str, system: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .filter_map(|l| l.strip_prefix(&format!("{system},")))
        .map(String::from)
        .collect()
}

#[test]
fn a_storage_run_is_complete_paired_and_deterministic() {
    let d = tmp("run");
    let file = d.join("small.toml");
    std::fs::write(&file, SMALL).unwrap();
    let a = run(&file, &d.join("a"), None);
    let b = run(&file, &d.join("b"), None);
    let c = run(&file, &d.join("c"), Some("6"));
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));

    // Complete: the storage tables, each side's files, the report.
    for f in [
        "requests.csv",
        "reads.csv",
        "writes.csv",
        "objects.csv",
        "over-time.csv",
        "summary.csv",
        "report.md",
        "p2p/counters.csv",
        "p2p/storage_repairs.csv",
        "datacenter/counters.csv",
        "manifest.sha256",
    ] {
        assert!(fa.contains_key(f), "{f} missing: {:?}", fa.keys());
    }
    // Same seed: byte-identical, the same run id.
    assert_eq!(a.file_name(), b.file_name());
    for (name, bytes) in &fa {
        assert!(
            fb.get(name) == Some(bytes),
            "{name} differs between two runs"
        );
    }
    assert_eq!(fa.len(), fb.len());
    // Another seed: other requests and other outcomes.
    for f in ["requests.csv", "reads.csv", "objects.csv", "over-time.csv"] {
        assert_ne!(fa[f], fc[f], "{f} is the same under another seed");
    }

    // Paired: the two sides received the same requests.
    let text = |f: &str| String::from_utf8(fa[f].clone()).unwrap();
    let requests = text("requests.csv");
    let (p, q) = (side(&requests, "p2p"), side(&requests, "datacenter"));
    assert!(p.len() > 100, "{} requests", p.len());
    assert_eq!(p, q);
    // Writes and reads both happened, on both sides.
    let reads = text("reads.csv");
    let writes = text("writes.csv");
    for system in ["p2p", "datacenter"] {
        assert!(side(&reads, system).len() > 50, "{system} reads");
        assert!(side(&writes, system).len() > 40, "{system} writes");
    }
    // One object row per object and side; samples every hour on both.
    let objects = text("objects.csv");
    assert_eq!(side(&objects, "p2p").len(), 80);
    assert_eq!(side(&objects, "datacenter").len(), 80);
    let over = text("over-time.csv");
    assert_eq!(side(&over, "p2p").len(), 37);
    assert_eq!(side(&over, "datacenter").len(), 37);
    // Departed peers were replaced by newcomers.
    let counters = text("p2p/counters.csv");
    let replaced: u64 = counters
        .lines()
        .find_map(|l| l.strip_prefix("churn.replacements,"))
        .map_or(0, |v| v.parse().unwrap());
    assert!(replaced > 0, "no replacement in {counters}");
    // The summary has the storage rows, and no NaN anywhere.
    let summary = text("summary.csv");
    for m in [
        "read_success_rate,%",
        "read_latency_p99,ms",
        "durability,%",
        "availability,%",
        "repair_false_alarm_bytes_per_peer_day,bytes",
        "storage_overhead,ratio",
    ] {
        assert!(summary.contains(m), "{m} not in {summary}");
    }
    for (name, bytes) in &fa {
        let t = String::from_utf8_lossy(bytes);
        assert!(!t.contains("NaN"), "{name} has NaN");
        if name.ends_with(".csv") {
            let cells = t.lines().flat_map(|l| l.split(','));
            assert!(!cells.clone().any(|c| c.ends_with("inf")), "{name} has inf");
        }
    }
    let report = text("report.md");
    assert!(
        report.contains("3-of-5 erasure-coded fragments"),
        "{report}"
    );
    assert!(report.contains("**warm start**"), "{report}");
    let _ = std::fs::remove_dir_all(&d);
}

/// Each bad `[storage]` value is an error of `validate` naming the file
/// and the key that fixes it; nothing runs, nothing is written.
#[test]
fn validate_reports_bad_storage_values() {
    let d = tmp("bad");
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "m-above-n",
            SMALL.replace("erasure = \"3of5\"", "erasure = \"6of5\""),
            vec!["storage.erasure", "6-of-5", "between 1 and n"],
        ),
        (
            "n-above-peers",
            SMALL
                .replace("erasure = \"3of5\"", "erasure = \"10of70\"")
                .replace(
                    "termination = \"k-closest\"",
                    "termination = \"k-closest\"\nk = 80",
                ),
            vec!["storage.erasure", "70 fragments", "only 60 peers"],
        ),
        (
            "object-above-disk",
            SMALL.replace(
                "sample_every = \"1h\"",
                "sample_every = \"1h\"\ncapacity = \"100KiB\"",
            ),
            vec!["storage.capacity", "more than a peer's disk"],
        ),
        (
            "object-above-site-disk",
            SMALL.replace("mttr = \"1h\"", "mttr = \"1h\"\ndisk_capacity = \"100KiB\""),
            vec!["datacenter.disk_capacity", "site's disks"],
        ),
        (
            "threshold-outside",
            SMALL.replace(
                "erasure = \"3of5\"",
                "erasure = \"3of5\"\nrepair = \"lazy\"\nrepair_threshold = 2",
            ),
            vec!["storage.repair_threshold", "between m = 3 and n = 5"],
        ),
        (
            "lazy-without-threshold",
            SMALL.replace(
                "erasure = \"3of5\"",
                "erasure = \"3of5\"\nrepair = \"lazy\"",
            ),
            vec!["storage.repair_threshold", "required"],
        ),
        (
            "both-schemes",
            SMALL.replace("erasure = \"3of5\"", "erasure = \"3of5\"\nreplicas = 2"),
            vec!["storage.erasure", "both set"],
        ),
        (
            "both-experiments",
            SMALL.replace(
                "[output]",
                "[workload]\nclients = 2\nmean_gap = \"1s\"\n\n[output]",
            ),
            vec!["storage", "one experiment"],
        ),
        (
            "lookup-ends-too-soon",
            SMALL.replace(
                "termination = \"k-closest\"",
                "termination = \"closest-answered\"",
            ),
            vec!["kademlia.termination_results", "k-closest"],
        ),
        (
            "k-below-n",
            SMALL.replace(
                "termination = \"k-closest\"",
                "termination = \"k-closest\"\nk = 4",
            ),
            vec!["kademlia.k", "n = 5"],
        ),
        (
            "write-phase-too-long",
            SMALL.replace("write_phase = \"2h\"", "write_phase = \"3d\""),
            vec!["storage.write_phase", "scenario.duration"],
        ),
        (
            "bad-size",
            SMALL.replace("uniform(64KiB, 1MiB)", "uniform(1MiB, 64KiB)"),
            vec!["storage.size", "MIN is above MAX"],
        ),
        (
            "clients-above-peers",
            SMALL.replace("objects = 80", "objects = 80\nclients = 61"),
            vec!["storage.clients", "only 60 peers"],
        ),
        (
            "lifetime-with-trace",
            SMALL.replace(
                "up = \"weibull(6h, 0.5)\"\ndown = \"weibull(1h, 0.5)\"",
                "trace = \"t.csv\"",
            ),
            vec!["churn.lifetime", "sessions"],
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
    // The good file validates, and nothing was written by any of them.
    let good = d.join("good.toml");
    std::fs::write(&good, SMALL).unwrap();
    let o = bin().arg("validate").arg(&good).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!d.join("out").exists());
    let _ = std::fs::remove_dir_all(&d);
}
