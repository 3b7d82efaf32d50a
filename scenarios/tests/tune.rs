//! `scenarios tune` through the command line: an analytic case, the same
//! recommendation across master seeds and `--jobs`, the count of points
//! simulated, an unsatisfiable promise, bad `[tune]` tables and resumption.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scenarios"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pc-tune-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// 60 peers on a synthetic internet, each alternating exponential up and
/// down sessions of mean 1 h: a peer is up a fraction a = 1 / (1 + 1) =
/// 0.5 of the time, independently of the others. No repair and no
/// departures, so an object of r replicas placed on r distinct peers is
/// readable when any of them is up: on average 1 − (1 − a)^r = 1 − 0.5^r
/// of the time: r = 1: 0.5, 2: 0.75, 3: 0.875, 4: 0.9375, 5: 0.96875.
/// With min_availability = 0.9 the least r is 4 (0.875 < 0.9 ≤ 0.9375).
/// Placement by oracle (labelled) keeps the runs short.
const BASE: &str = r#"
[scenario]
name = "tune-analytic"
description = "no repair, a = 0.5: the least replica count for 90 % availability"
seed = 1
warmup = "10min"
duration = "4d"

[topology]
kind = "internet"
nodes = 60

[churn]
up = "exponential(1h)"
down = "exponential(1h)"

[kademlia]
id_bits = 64
start = "warm"
termination = "k-closest"
refresh = false
refresh_on_join = false

[storage]
objects = 100
size = "64KiB"
write_phase = "1h"
read_rate = 0.5
repair = "none"
placement = "oracle"
sample_every = "1h"

[output]
plots = false
sample_every = "1h"
"#;

/// The analytic case; with prune_margin = 0.05, r = 3 (predicted 0.875 ≥
/// 0.9 − 0.05) is not pruned: it must be found infeasible by measurement.
const TUNE: &str = r#"
[tune]
replicas = [1, 2, 3, 4, 5]
min_availability = 0.9
objective = "overhead"
prune_margin = 0.05
"#;

fn scenario(dir: &Path, tune: &str) -> PathBuf {
    let f = dir.join("s.toml");
    std::fs::write(&f, format!("{BASE}{tune}")).unwrap();
    f
}

fn tune(file: &Path, out: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("tune")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// The one `tune-*` directory under `out/tune-analytic/`.
fn tune_dir(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out.join("tune-analytic"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("tune-")
        })
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// points.csv as rows of (column → value).
fn points(dir: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join("points.csv")).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            head.iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn status_of(rows: &[std::collections::BTreeMap<String, String>], red: &str) -> String {
    rows.iter()
        .find(|r| r["redundancy"] == red)
        .unwrap_or_else(|| panic!("no {red}"))["status"]
        .clone()
}

#[test]
fn analytic_case_recommends_the_least_replica_count() {
    let d = tmp("analytic");
    let f = scenario(&d, TUNE);
    let o = tune(&f, &d.join("out"), &["--jobs", "2", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let dir = tune_dir(&d.join("out"));
    let rows = points(&dir);
    assert_eq!(rows.len(), 5);
    // Predicted 0.5 and 0.75 < 0.85: pruned; 3 simulated and measured
    // below 0.9 with 95 % confidence; 4 the cheapest feasible.
    assert_eq!(status_of(&rows, "1 replicas"), "pruned");
    assert_eq!(status_of(&rows, "2 replicas"), "pruned");
    assert_eq!(status_of(&rows, "3 replicas"), "infeasible");
    assert_eq!(status_of(&rows, "4 replicas"), "feasible");
    let rec = std::fs::read_to_string(dir.join("recommendation.toml")).unwrap();
    let t: toml::Table = toml::from_str(&rec).unwrap();
    assert_eq!(t["storage"]["replicas"].as_integer(), Some(4), "{rec}");
    assert!(rec.contains("# Measured: availability"), "{rec}");
    // The predictions are the closed form above.
    let pred = |red: &str| -> f64 {
        rows.iter().find(|r| r["redundancy"] == red).unwrap()["predicted_availability"]
            .parse()
            .unwrap()
    };
    assert!((pred("3 replicas") - 0.875).abs() < 1e-6);
    assert!((pred("4 replicas") - 0.9375).abs() < 1e-6);
    // The default margin (0.01) prunes 3 as well: 0.875 < 0.89.
    let d2 = tmp("analytic-default");
    let f2 = scenario(&d2, &TUNE.replace("prune_margin = 0.05", ""));
    let o = tune(&f2, &d2.join("out"), &["--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let rows = points(&tune_dir(&d2.join("out")));
    assert_eq!(status_of(&rows, "3 replicas"), "pruned");
    assert_eq!(status_of(&rows, "4 replicas"), "feasible");
}

#[test]
fn same_recommendation_across_master_seeds_and_jobs() {
    let d = tmp("seeds");
    let f = scenario(&d, TUNE);
    let mut recs = Vec::new();
    for seed in ["1", "2", "3"] {
        let out = d.join(format!("out-{seed}"));
        let o = tune(&f, &out, &["--seed", seed, "--jobs", "2", "--quiet"]);
        assert!(o.status.success(), "seed {seed}: {}", text(&o));
        let rec = std::fs::read_to_string(tune_dir(&out).join("recommendation.toml")).unwrap();
        let t: toml::Table = toml::from_str(&rec).unwrap();
        recs.push(t["storage"]["replicas"].as_integer());
    }
    assert_eq!(recs, vec![Some(4); 3]);
    // Seed 1 with one job at a time: the same bytes as with two.
    let out = d.join("out-1-serial");
    let o = tune(&f, &out, &["--seed", "1", "--jobs", "1", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    for file in ["points.csv", "recommendation.toml", "report.md"] {
        assert_eq!(
            std::fs::read(tune_dir(&out).join(file)).unwrap(),
            std::fs::read(tune_dir(&d.join("out-1")).join(file)).unwrap(),
            "{file}"
        );
    }
}

/// "evaluated K of G grid points …; R runs simulated, S reused".
fn counts(stdout: &str) -> (usize, usize, usize, usize) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("evaluated "))
        .unwrap_or_else(|| panic!("no count in {stdout}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (n[0], n[1], n[2], n[3])
}

#[test]
fn fewer_points_than_the_grid_and_resumption() {
    let d = tmp("count");
    let f = scenario(&d, TUNE);
    let out = d.join("out");
    let o = tune(&f, &out, &["--jobs", "2", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let (evaluated, grid, ran, reused) = counts(&String::from_utf8_lossy(&o.stdout));
    let rows = points(&tune_dir(&out));
    assert_eq!(grid, rows.len());
    assert!(evaluated < grid, "{evaluated} of {grid}");
    let simulated = rows.iter().filter(|r| r["seeds"] != "0").count();
    assert_eq!(evaluated, simulated);
    let seeds: usize = rows
        .iter()
        .map(|r| r["seeds"].parse::<usize>().unwrap())
        .sum();
    assert_eq!(ran, seeds);
    assert_eq!(reused, 0);
    let before = std::fs::read(tune_dir(&out).join("points.csv")).unwrap();
    // Again: every run is reused, nothing simulated, the same points.
    let o = tune(&f, &out, &["--jobs", "2", "--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let (e2, g2, ran2, reused2) = counts(&String::from_utf8_lossy(&o.stdout));
    assert_eq!((e2, g2, ran2, reused2), (evaluated, grid, 0, seeds));
    assert_eq!(
        std::fs::read(tune_dir(&out).join("points.csv")).unwrap(),
        before
    );
}

#[test]
fn an_unsatisfiable_promise_names_the_closest_point() {
    let d = tmp("unsat");
    // 1 to 3 replicas reach at most 0.875 on average: 0.999 is out of
    // reach; nothing pruned, so all three are measured.
    let f = scenario(
        &d,
        "[tune]\nreplicas = [1, 2, 3]\nmin_availability = 0.999\nprune_margin = 1\n",
    );
    let o = tune(&f, &d.join("out"), &["--quiet"]);
    assert!(!o.status.success());
    let msg = text(&o);
    assert!(msg.contains("no point is feasible"), "{msg}");
    assert!(msg.contains("the closest is 3 replicas"), "{msg}");
    let rows = points(&tune_dir(&d.join("out")));
    assert!(rows.iter().all(|r| r["status"] == "infeasible"), "{rows:?}");
    assert!(
        !tune_dir(&d.join("out"))
            .join("recommendation.toml")
            .exists()
    );
}

#[test]
fn bad_tune_tables_name_the_key() {
    let d = tmp("bad");
    for (tune_table, key, what) in [
        (
            "replicas = []\nmin_availability = 0.9",
            "tune.replicas",
            "empty",
        ),
        (
            "replicas = [1, 2]\nmax_latency = 5",
            "tune.max_latency",
            "unknown metric",
        ),
        (
            "replicas = [1, 2]\nmin_availability = 1.5",
            "tune.min_availability",
            "at most 1",
        ),
        (
            "size = [\"1MiB\"]\nmin_availability = 0.9",
            "tune.size",
            "not a key of [tune]",
        ),
        ("replicas = [1, 2]", "tune.max_loss", "no constraint"),
        (
            "replicas = [1, 2]\nmax_loss = 0.1\nconfidence = 2",
            "tune.confidence",
            "0.5",
        ),
        (
            "erasure = [\"6of4\"]\nmax_loss = 0.1",
            "tune.erasure",
            "MofN",
        ),
        (
            "replicas = [1, 2]\nmax_loss = 0.1\nseeds = 5\nmax_seeds = 4",
            "tune.max_seeds",
            "fewer than",
        ),
        (
            "audit_interval = [\"0s\"]\nmax_loss = 0.1",
            "tune.audit_interval",
            "positive duration",
        ),
    ] {
        let f = scenario(&d, &format!("[tune]\n{tune_table}\n"));
        let o = tune(&f, &d.join("out"), &["--quiet"]);
        let msg = text(&o);
        assert_eq!(o.status.code(), Some(2), "{tune_table}: {msg}");
        assert!(
            msg.contains(&format!("`{key}`")) && msg.contains(what),
            "{tune_table}: {msg}"
        );
        assert!(!msg.contains("panicked"), "{msg}");
    }
    // No [tune] table at all.
    let f = scenario(&d, "");
    let o = tune(&f, &d.join("out"), &["--quiet"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("`tune`"), "{}", text(&o));
}

/// The bundled examples' `[tune]` tables are valid (`validate` checks
/// them), from the repository's root (tune-trace's trace path is relative
/// to it).
#[test]
fn bundled_examples_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for name in ["tune-backup", "tune-trace"] {
        let o = bin()
            .current_dir(&root)
            .args(["validate", name])
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", text(&o));
        let grid = if name == "tune-backup" { 10 } else { 12 };
        assert!(
            text(&o).contains(&format!("# [tune]: {grid} points")),
            "{name}: {}",
            text(&o)
        );
    }
    // A bad [tune] table fails `validate` too, naming the key.
    let d = tmp("validate");
    let f = scenario(&d, "[tune]\nreplicas = [1]\nmin_availability = 0\n");
    let o = bin().arg("validate").arg(&f).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("`tune.min_availability`"), "{}", text(&o));
}

/// Shards run their slice of a round and stop; repeated until no run is
/// missing, they give the same points as one process.
#[test]
fn shards_round_by_round_give_the_same_points() {
    let d = tmp("shards");
    let f = scenario(&d, TUNE);
    let whole = d.join("whole");
    let o = tune(&f, &whole, &["--quiet"]);
    assert!(o.status.success(), "{}", text(&o));
    let sharded = d.join("sharded");
    let mut stops = 0;
    let mut finished = false;
    'outer: for _ in 0..10 {
        for k in ["1/2", "2/2"] {
            let o = tune(&f, &sharded, &["--shard", k, "--quiet"]);
            assert!(o.status.success(), "{}", text(&o));
            let out = String::from_utf8_lossy(&o.stdout).into_owned();
            if out.contains(&format!("shard {k}: ran its part")) {
                stops += 1;
            } else {
                assert!(out.contains("recommended: 4 replicas"), "{out}");
                finished = true;
                break 'outer;
            }
        }
    }
    assert!(finished);
    // Round 1 (3 points) and round 2 (r = 3 undecided): two shards each.
    assert_eq!(stops, 4);
    assert_eq!(
        std::fs::read(tune_dir(&sharded).join("points.csv")).unwrap(),
        std::fs::read(tune_dir(&whole).join("points.csv")).unwrap()
    );
    // --force reruns everything: not with a shard.
    let o = tune(&f, &sharded, &["--shard", "1/2", "--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
