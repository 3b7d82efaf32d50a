//! The flagship, `city-mesh`, in a reduced form (a few simulated hours,
//! fewer clients and objects) through the command line: every part and
//! both sides present, values in their physical ranges, the paired request
//! logs identical, no NaN anywhere, the same bytes for the same seed, and
//! the cost model's preset touching only the data-center side.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;
use common::{bin, tmp};

/// The reduced flagship: 3 simulated hours after a 30 min warm-up, a
/// tenth of the objects written in the first hour, fewer clients.
const REDUCED: [&str; 8] = [
    "scenario.warmup=30min",
    "scenario.duration=3h",
    "storage.write_phase=1h",
    "storage.objects=400",
    "storage.read_rate=24",
    "compute.clients=100",
    "compute.mean_gap=2h",
    "workload.clients=60",
];

/// Run the reduced flagship with `extra` overrides into `out`; the result
/// directory.
fn run(out: &Path, extra: &[&str]) -> PathBuf {
    let mut cmd = bin();
    cmd.args(["city-mesh", "--quiet", "--force", "--out"])
        .arg(out);
    for s in REDUCED.iter().chain(extra) {
        cmd.args(["--set", s]);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dirs: Vec<PathBuf> = std::fs::read_dir(out.join("city-mesh"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// Every file under `dir` by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The CSV files that depend only on the simulation (not on the build or
/// the wall clock).
fn results(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files(dir)
        .into_iter()
        .filter(|(k, _)| {
            k.ends_with(".csv") && !k.ends_with("run-info.csv") && !k.contains("across")
        })
        .collect()
}

#[test]
fn the_reduced_flagship_is_complete_physical_and_paired() {
    let out = tmp("complete");
    let dir = run(&out, &[]);
    let all = files(&dir);
    // Every part's files and report, the gateways, the cost, the top report.
    for f in [
        "report.md",
        "summary.csv",
        "gateways.csv",
        "cost.csv",
        "lookups/lookups.csv",
        "lookups/requests.csv",
        "lookups/report.md",
        "storage/reads.csv",
        "storage/writes.csv",
        "storage/objects.csv",
        "storage/over-time.csv",
        "storage/report.md",
        "compute/jobs.csv",
        "compute/over-time.csv",
        "compute/report.md",
        "plots/read_latency_cdf.svg",
        "plots/gateway_load_over_time.svg",
        "plots/energy_by_service.svg",
    ] {
        assert!(all.contains_key(f), "{f} missing: {:?}", all.keys());
    }
    // No NaN or infinity in any file (a CSV field or a table cell).
    for (name, bytes) in &all {
        if !(name.ends_with(".csv") || name.ends_with(".md")) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        for (i, line) in text.lines().enumerate() {
            for field in line.split([',', '|', ' ']) {
                let f = field.trim().to_ascii_lowercase();
                assert!(
                    !matches!(
                        f.as_str(),
                        "nan" | "inf" | "-inf" | "infinity" | "-infinity"
                    ),
                    "{name}:{}: {line}",
                    i + 1
                );
            }
        }
    }
    // The summary: both sides of every metric, each in its physical range.
    let summary = String::from_utf8(all["summary.csv"].clone()).unwrap();
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (cm, cu, cp, cd) = (col("metric"), col("unit"), col("p2p"), col("datacenter"));
    let mut parts = [0usize; 5];
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let (metric, unit) = (f[cm], f[cu]);
        for (i, p) in ["lookups.", "storage.", "compute.", "gateways.", "cost."]
            .iter()
            .enumerate()
        {
            parts[i] += usize::from(metric.starts_with(p));
        }
        for side in [cp, cd] {
            let v: f64 = f[side]
                .parse()
                .unwrap_or_else(|_| panic!("{metric}: no value for a side: {line}"));
            assert!(v.is_finite() && v >= 0.0, "{metric}: {v} ({line})");
            if unit == "%" {
                assert!(v <= 100.0, "{metric}: {v} % ({line})");
            }
        }
    }
    assert!(
        parts.iter().all(|&n| n > 0),
        "a part has no rows: {parts:?}"
    );
    // The paired request logs: each part's two sides got the same requests.
    for part in ["lookups", "storage", "compute"] {
        let text = String::from_utf8(all[&format!("{part}/requests.csv")].clone()).unwrap();
        let mut sides: [Vec<&str>; 2] = [Vec::new(), Vec::new()];
        for l in text.lines().skip(1) {
            if let Some(r) = l.strip_prefix("p2p,") {
                sides[0].push(r);
            } else if let Some(r) = l.strip_prefix("datacenter,") {
                sides[1].push(r);
            } else {
                panic!("{part}/requests.csv: {l}");
            }
        }
        assert!(!sides[0].is_empty(), "{part}: no requests");
        assert_eq!(sides[0], sides[1], "{part}: the sides' requests differ");
    }
    // Gateway bytes: cumulative, so never decreasing along one link.
    let gw = String::from_utf8(all["gateways.csv"].clone()).unwrap();
    let mut last: BTreeMap<(String, String), u64> = BTreeMap::new();
    for l in gw.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let b: u64 = f[4].parse().unwrap();
        let key = (f[0].to_string(), f[2].to_string());
        assert!(last.get(&key).is_none_or(|&p| p <= b), "{l}");
        last.insert(key, b);
    }
    // The data center is reached through the gateways: its links carried
    // bytes. (The homes' traffic stays inside the mesh.)
    assert!(
        last.iter().any(|((s, _), &b)| s == "datacenter" && b > 0),
        "{gw}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn same_seed_same_bytes_and_another_seed_differs() {
    let out = [tmp("seed-a"), tmp("seed-b"), tmp("seed-c")];
    let a = run(&out[0], &["output.plots=false"]);
    let b = run(&out[1], &["output.plots=false"]);
    let c = run(&out[2], &["output.plots=false", "scenario.seed=2"]);
    let (ra, rb, rc) = (results(&a), results(&b), results(&c));
    assert!(ra.len() > 10, "{:?}", ra.keys());
    assert_eq!(ra.keys().collect::<Vec<_>>(), rb.keys().collect::<Vec<_>>());
    for (k, v) in &ra {
        assert!(rb[k] == *v, "{k} differs between two runs of one seed");
    }
    for k in [
        "lookups/lookups.csv",
        "storage/reads.csv",
        "compute/jobs.csv",
    ] {
        assert!(rc[k] != ra[k], "{k}: seed 2 gave the bytes of seed 1");
    }
    for o in out {
        let _ = std::fs::remove_dir_all(&o);
    }
}

/// The cost model runs after the simulation: a data-center PUE preset
/// changes the data-center rows of `cost.csv` and nothing else.
#[test]
fn the_pue_preset_changes_only_the_data_center_side() {
    let out = [tmp("pue-a"), tmp("pue-b")];
    let a = run(&out[0], &["output.plots=false"]);
    let b = run(
        &out[1],
        &["output.plots=false", "cost.pue_preset=hyperscale"],
    );
    let (ra, rb) = (results(&a), results(&b));
    for (k, v) in &ra {
        if k != "cost.csv" && k != "summary.csv" {
            assert!(rb[k] == *v, "{k} changed with the PUE preset");
        }
    }
    let rows = |r: &BTreeMap<String, Vec<u8>>, side: &str| -> Vec<String> {
        String::from_utf8(r["cost.csv"].clone())
            .unwrap()
            .lines()
            .filter(|l| l.starts_with(&format!("{side},")))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(rows(&ra, "p2p"), rows(&rb, "p2p"));
    let overhead = |r: &BTreeMap<String, Vec<u8>>| -> f64 {
        rows(r, "datacenter")
            .iter()
            .find(|l| l.starts_with("datacenter,all,energy_overhead,"))
            .and_then(|l| l.rsplit(',').next())
            .and_then(|v| v.parse().ok())
            .expect("the data center's overhead row")
    };
    // Overhead = (PUE − 1) × device energy: 0.58 against 0.10 of the same
    // device energy.
    let (oa, ob) = (overhead(&ra), overhead(&rb));
    assert!(oa > 0.0, "{oa}");
    assert!((ob / oa - 0.10 / 0.58).abs() < 1e-6, "{ob} / {oa}");
    for o in out {
        let _ = std::fs::remove_dir_all(&o);
    }
}

#[test]
fn bad_flagship_values_are_errors_naming_the_key() {
    let o = bin()
        .args(["validate", "city-mesh", "--set", "compute.clients=0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("compute.clients"));
    // On the synthetic internet the combined experiment has no gateways to
    // measure: an error naming the key (the scenario without its gateway
    // outages, which need a mesh too and would be named first).
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/bundled/city-mesh.toml"
    ))
    .unwrap();
    let no_outages: String = text
        .lines()
        .filter(|l| !l.starts_with("gateway_"))
        .map(|l| format!("{l}\n"))
        .collect();
    let d = tmp("internet");
    let p = d.join("internet.toml");
    std::fs::write(&p, no_outages).unwrap();
    let o = bin()
        .arg("validate")
        .arg(&p)
        .args([
            "--set",
            "topology.kind=internet",
            "--set",
            "topology.nodes=100",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("topology.kind") && err.contains("mesh"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
    // Two of the three experiment tables: keep one, or add the third.
    let cut = text.find("\n[compute]").unwrap();
    let rest = &text[cut + 1..];
    let next = rest[1..].find("\n[").map_or(rest.len(), |i| i + 2);
    let two = format!("{}{}", &text[..cut + 1], &rest[next..]);
    assert!(!two.contains("[compute]") && two.contains("[datacenter]"));
    let d = tmp("two");
    let p = d.join("two.toml");
    std::fs::write(&p, two).unwrap();
    let o = bin().arg("validate").arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("add the third"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}
