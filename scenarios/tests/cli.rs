//! The command line, end to end: bad input, validate, a small run, its
//! determinism, interrupted runs.

use std::path::{Path, PathBuf};
use std::process::Output;
mod common;
use common::{bin, tmp};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A small scenario: 60 internet peers, 2 simulated minutes of lookups.
const SMALL: &str = r#"
[scenario]
name = "small"
description = "a small test scenario"
seed = 7
warmup = "1min"
duration = "2min"

[topology]
kind = "internet"
nodes = 60

[churn]
up = "exponential(30min)"
down = "exponential(10min)"

[workload]
clients = 20
mean_gap = "10s"

[output]
plots = false
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Each bad file gives exit code 2 and an error naming the file, where, the
/// key and what was expected; never a panic.
#[test]
fn bad_scenarios_give_clear_errors() {
    let d = tmp("bad");
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "unknown-key.toml",
            SMALL.replace("[output]", "[output]\ncolour = true"),
            vec!["unknown-key.toml:", "unknown field `colour`", "output"],
        ),
        (
            "misspelt.toml",
            SMALL.replace("mean_gap", "mean_gpa"),
            vec!["misspelt.toml:", "did you mean `mean_gap`?"],
        ),
        (
            "wrong-type.toml",
            SMALL.replace("clients = 20", "clients = \"twenty\""),
            vec!["wrong-type.toml:", "workload.clients", "u32"],
        ),
        (
            "bad-unit.toml",
            SMALL.replace("\"10s\"", "\"10 parsecs\""),
            vec![
                "bad-unit.toml:",
                "workload.mean_gap",
                "unknown unit",
                "expected",
            ],
        ),
        (
            "negative.toml",
            SMALL.replace("nodes = 60", "nodes = -5"),
            vec!["negative.toml:", "topology", "nodes"],
        ),
        (
            "missing-file.toml",
            SMALL.replace(
                "kind = \"internet\"\nnodes = 60",
                "kind = \"mesh\"\nfile = \"no/such/mesh.json\"",
            ),
            vec!["topology.file", "no/such/mesh.json"],
        ),
        (
            "bad-dist.toml",
            SMALL.replace("exponential(30min)", "weibull(30min)"),
            vec!["churn.up", "weibull"],
        ),
        (
            "zero-clients.toml",
            SMALL.replace("clients = 20", "clients = 0"),
            vec!["workload.clients", "at least one"],
        ),
        (
            "syntax.toml",
            SMALL.replace("seed = 7", "seed = "),
            vec!["syntax.toml:5:8:"],
        ),
    ];
    for (name, text, wants) in cases {
        let p = write(&d, name, &text);
        let o = bin().args(["validate"]).arg(&p).output().unwrap();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {e}");
        assert!(!e.contains("panicked"), "{name} panicked: {e}");
        for w in wants {
            assert!(e.contains(w), "{name}: {w:?} missing from:\n{e}");
        }
    }
    // An unknown bundled name lists the bundled ones.
    let o = bin().args(["run", "no-such-scenario"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "bundled: backup, backup-sweep, city-mesh, city-mesh-lookups, city-mesh-sweep, freifunk-bremen, kademlia-lookup, kademlia-scale, tune-backup, tune-trace, volunteer-compute"
        ),
        "{}",
        stderr(&o)
    );
    // A bad --set.
    let o = bin()
        .args(["validate", "city-mesh", "--set", "kademlia.kk=3"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean `k`?"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn validate_prints_the_resolved_scenario() {
    let d = tmp("validate");
    let p = write(&d, "small.toml", SMALL);
    let o = bin()
        .arg("validate")
        .arg(&p)
        .args(["--set", "kademlia.k=8"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    insta::assert_snapshot!("validate_small", String::from_utf8_lossy(&o.stdout));
    let _ = std::fs::remove_dir_all(&d);
}

/// On a mesh, the resolved scenario writes out the data policies the run
/// uses, so writing the defaults out by hand is the same scenario.
#[test]
fn validate_writes_out_the_mesh_policies() {
    let resolved = |name: &str, sets: &[&str]| {
        let mut c = bin();
        c.arg("validate").arg(name);
        for s in sets {
            c.args(["--set", s]);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let nyc = resolved("city-mesh", &[]);
    for line in [
        "implicit_nodes = \"add\"",
        "duplicate_ids = \"keep-first\"",
        "components = \"largest\"",
        "tunnels = \"labels\"",
        "unlabelled_links = \"wifi\"",
    ] {
        assert!(nyc.contains(line), "{line} missing from:\n{nyc}");
    }
    let explicit = resolved(
        "city-mesh",
        &["topology.tunnels=labels", "topology.implicit_nodes=add"],
    );
    assert_eq!(nyc, explicit);
    // Freifunk's gateways are servers: their links are tunnels.
    let bremen = resolved("freifunk-bremen", &[]);
    assert!(bremen.contains("tunnels = \"gateway-links\""), "{bremen}");
    // The synthetic internet has no file to read.
    assert!(!resolved("kademlia-lookup", &[]).contains("tunnels"));
}

#[test]
fn list_names_the_bundled_scenarios() {
    let o = bin().arg("list").output().unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    for n in [
        "city-mesh",
        "freifunk-bremen",
        "kademlia-lookup",
        "kademlia-scale",
        "tune-backup",
        "tune-trace",
    ] {
        assert!(s.contains(n), "{s}");
    }
}

/// With `kademlia.oracle = false` the run is the same but for the oracle's
/// columns, which are blank (and the summary's exact rate of the P2P side).
#[test]
fn the_oracle_can_be_turned_off() {
    let d = tmp("oracle");
    let p = write(&d, "small.toml", SMALL);
    let run = |out: &str, extra: &[&str]| {
        let o = bin()
            .arg(&p)
            .args(["--quiet", "--out"])
            .arg(d.join(out))
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        read(&run_dir(&d.join(out)).join("lookups.csv"))
    };
    let on = run("on", &[]);
    let off = run("off", &["--set", "kademlia.oracle=false"]);
    let header: Vec<&str> = on.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (correct, exact, determined) = (col("correct"), col("exact"), col("determined_ns"));
    let (mut p2p_rows, mut filled_on) = (0, 0);
    for (a, b) in on.lines().zip(off.lines()).skip(1) {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            if a[0] == "p2p" && (i == correct || i == exact || i == determined) {
                assert_eq!(*y, "", "oracle column {i} filled with the oracle off");
            } else {
                assert_eq!(x, y, "column {i} differs");
            }
        }
        if a[0] == "p2p" {
            p2p_rows += 1;
            filled_on += usize::from(!a[exact].is_empty() && !a[correct].is_empty());
        }
    }
    assert_eq!(on.lines().count(), off.lines().count());
    assert!(
        p2p_rows > 100 && filled_on == p2p_rows,
        "{filled_on} of {p2p_rows}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

fn run_dir(out: &Path) -> PathBuf {
    let base = out.join("small");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn a_small_run_is_complete_paired_and_deterministic() {
    let d = tmp("run");
    let p = write(&d, "small.toml", SMALL);
    let out1 = d.join("out1");
    let o = bin()
        .arg(&p)
        .arg("--out")
        .arg(&out1)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let r1 = run_dir(&out1);
    for f in [
        "scenario.toml",
        "provenance.toml",
        "requests.csv",
        "lookups.csv",
        "summary.csv",
        "report.md",
        "run-info.csv",
        "manifest.sha256",
        "p2p/counters.csv",
        "datacenter/counters.csv",
    ] {
        assert!(r1.join(f).is_file(), "{f} missing");
    }
    // Both systems got the same requests.
    let req = read(&r1.join("requests.csv"));
    let side = |s: &str| {
        req.lines()
            .filter_map(|l| l.strip_prefix(s))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let (a, b) = (side("p2p,"), side("datacenter,"));
    assert!(a.len() > 100, "only {} requests", a.len());
    assert_eq!(a, b);
    insta::assert_snapshot!("small_summary", read(&r1.join("summary.csv")));
    let lookups = read(&r1.join("lookups.csv"));
    let head: Vec<&str> = lookups.lines().take(6).collect();
    insta::assert_snapshot!("small_lookups_head", head.join("\n"));

    // The same scenario again, elsewhere, every table streaming its rows
    // to disk as they come (`--row-buffer 1`, where the first run kept them
    // in memory): byte-identical CSV files, and the folder the rows went
    // through is gone.
    let out2 = d.join("out2");
    let o = bin()
        .arg(&p)
        .arg("--out")
        .arg(&out2)
        .args(["--quiet", "--row-buffer", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let r2 = run_dir(&out2);
    let streamed = |r: &Path| {
        read(&r.join("run-info.csv"))
            .lines()
            .filter(|l| l.contains(",tables_streamed,"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        streamed(&r1),
        ["p2p,tables_streamed,0", "datacenter,tables_streamed,0"]
    );
    // lookups, requests, link_bytes and node_bytes, on each side.
    assert_eq!(
        streamed(&r2),
        ["p2p,tables_streamed,4", "datacenter,tables_streamed,4"]
    );
    let hidden: Vec<_> = std::fs::read_dir(out2.join("small"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "left behind: {hidden:?}");
    assert_eq!(
        r1.file_name(),
        r2.file_name(),
        "the run id is a stable hash"
    );
    for f in [
        "requests.csv",
        "lookups.csv",
        "summary.csv",
        "p2p/counters.csv",
        "p2p/timeseries.csv",
        "datacenter/counters.csv",
        "manifest.sha256",
    ] {
        assert!(
            read(&r1.join(f)) == read(&r2.join(f)),
            "{f} differs between identical runs"
        );
    }
    // Another seed: different results.
    let out3 = d.join("out3");
    let o = bin()
        .arg(&p)
        .args(["--seed", "8", "--quiet", "--out"])
        .arg(&out3)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_ne!(
        read(&r1.join("lookups.csv")),
        read(&run_dir(&out3).join("lookups.csv"))
    );
    // A completed run is not redone without --force.
    let o = bin().arg(&p).arg("--out").arg(&out1).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("already complete"));
    let _ = std::fs::remove_dir_all(&d);
}

/// Without a terminal (here, a pipe), a run prints plain progress lines,
/// at most every `--progress-every` seconds: none for a short run by
/// default, and with 0 a line at every step of both sides up to the end.
#[test]
fn progress_goes_to_a_log_as_lines() {
    let d = tmp("progress");
    let p = write(&d, "small.toml", SMALL);
    let o = bin()
        .arg(&p)
        .arg("--out")
        .arg(d.join("a"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("progress:"), "{}", stderr(&o));
    let o = bin()
        .arg(&p)
        .arg("--out")
        .arg(d.join("b"))
        .args(["--progress-every", "0"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let last = |side: &str| {
        err.lines()
            .rfind(|l| l.starts_with(&format!("progress: {side} ")))
            .unwrap_or_else(|| panic!("no progress line for {side}: {err}"))
            .to_string()
    };
    for side in ["P2P", "data center"] {
        assert!(last(side).contains(" 100.0 % "), "{}", last(side));
    }
    assert!(
        err.lines()
            .filter(|l| l.starts_with("progress: P2P "))
            .count()
            > 10
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn interrupted_runs_leave_no_complete_looking_result() {
    let d = tmp("abort");
    let p = write(&d, "small.toml", SMALL);
    let out = d.join("out");
    // The engine's deterministic abort.
    let o = bin()
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .args([
            "--quiet",
            "--abort-after-events",
            "5000",
            "--row-buffer",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("aborted"), "{}", stderr(&o));
    // Nothing at all, not even the folder its rows streamed to.
    let all: Vec<_> = std::fs::read_dir(out.join("small"))
        .map(|rd| rd.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(all.is_empty(), "an aborted run left {all:?}");
    let visible = |out: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(out.join("small"))
            .map(|rd| {
                rd.map(|e| e.unwrap().path())
                    .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        visible(&out).is_empty(),
        "an aborted run left {:?}",
        visible(&out)
    );
    // A real kill while the run is in progress (30 simulated days take
    // minutes; the result is written only after the simulation, through a
    // staging directory: the sweep tests kill a run while it writes with
    // `--die-after-runs`).
    let mut child = bin()
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .args(["--set", "scenario.duration=30d"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before it could be killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        visible(&out).is_empty(),
        "a killed run left {:?}",
        visible(&out)
    );
    // Rerunning produces the complete result.
    let o = bin()
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let done = visible(&out);
    assert_eq!(done.len(), 1);
    assert!(done[0].join("report.md").is_file() && done[0].join("summary.csv").is_file());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_reference_page_documents_every_key() {
    // The lookup, storage and compute experiments, every key written out.
    let mut text = String::new();
    for name in ["city-mesh", "backup", "volunteer-compute"] {
        let o = bin().args(["validate", name]).output().unwrap();
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        text += &String::from_utf8_lossy(&o.stdout);
    }
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/scenario-reference.md"
    ))
    .unwrap();
    let mut table = String::new();
    for line in text.lines() {
        if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = t.to_string();
            assert!(doc.contains(&format!("## `[{t}]`")), "no section for [{t}]");
        } else if let Some((k, _)) = line.split_once(" = ") {
            assert!(
                doc.contains(&format!("`{}`", k.trim())),
                "key {table}.{} undocumented",
                k.trim()
            );
        }
    }
}

/// A four-router mesh: a - g1 - m - g2, gateways g1 and g2.
const MESH: &str = r#"{"nodes": [{"id": "a"}, {"id": "g1", "role": "gw"}, {"id": "m"}, {"id": "g2", "role": "gw"}],
 "links": [{"source": "a", "target": "g1", "type": "vpn"}, {"source": "g1", "target": "m", "type": "vpn"},
           {"source": "m", "target": "g2", "type": "vpn"}]}"#;

/// What `run` finds before its first event, `validate` finds: bad
/// topology files, gateways matching nothing, too few peers, more clients
/// than peers, a zero repair time, an output folder that cannot be written.
#[test]
fn validate_finds_what_run_would_find() {
    let d = tmp("validate-all");
    write(&d, "mesh.json", MESH);
    write(&d, "empty.json", "");
    std::fs::write(d.join("binary.json"), [0u8, 159, 146, 150, 255, 0, 1]).unwrap();
    write(&d, "truncated.json", &MESH[..60]);
    write(
        &d,
        "undeclared.json",
        r#"{"nodes": [{"id": "a"}, {"id": "g1", "role": "gw"}],
            "links": [{"source": "a", "target": "zz", "type": "vpn"}]}"#,
    );
    write(
        &d,
        "one.json",
        r#"{"nodes": [{"id": "g1", "role": "gw"}], "links": []}"#,
    );
    let mesh = SMALL
        .replace(
            "kind = \"internet\"\nnodes = 60",
            "kind = \"mesh\"\nfile = \"mesh.json\"\ngateways = \"role:gw\"",
        )
        .replace("clients = 20", "clients = 2");
    let p = write(&d, "mesh.toml", &mesh);
    let validate = |sets: &[&str], extra: &[&str]| {
        let mut c = bin();
        c.current_dir(&d).arg("validate").arg(&p);
        for s in sets {
            c.args(["--set", s]);
        }
        c.args(extra).output().unwrap()
    };
    let o = validate(&[], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["topology.file=empty.json"],
            vec!["topology.file", "empty.json"],
        ),
        (
            vec!["topology.file=binary.json"],
            vec!["topology.file", "binary.json"],
        ),
        (
            vec!["topology.file=truncated.json"],
            vec!["topology.file", "truncated.json"],
        ),
        (
            // Undeclared link endpoints are added by default (real meshes
            // have them); the strict policy is checked by validate.
            vec![
                "topology.file=undeclared.json",
                "topology.implicit_nodes=error",
            ],
            vec!["topology.implicit_nodes", "zz"],
        ),
        (
            vec!["topology.gateways=role:nothing"],
            vec!["topology.gateways", "nothing"],
        ),
        (
            vec!["topology.metric=fast"],
            vec!["topology.metric", "fast"],
        ),
        (
            // Its one router is the gateway: a server of its own by default,
            // an ordinary router with a peer when tunnels follow the labels.
            vec!["topology.file=one.json", "workload.clients=1"],
            vec!["topology", "no router to attach hosts to"],
        ),
        (
            vec![
                "topology.file=one.json",
                "workload.clients=1",
                "topology.tunnels=labels",
            ],
            vec!["topology", "1 peer", "at least 2"],
        ),
        (
            vec!["datacenter.mttr=0s"],
            vec!["datacenter.mttr", "at least 1s"],
        ),
        (
            // The two gateways are servers (links touching them are
            // tunnels), so 2 of the 4 routers host peers.
            vec!["workload.clients=5"],
            vec!["workload.clients", "5 clients", "2 peers"],
        ),
        (
            vec!["topology.kind=internet", "topology.nodes=1"],
            vec!["topology.nodes", "at least 2"],
        ),
        (
            vec!["topology.kind=internet", "topology.nodes=0"],
            vec!["topology.nodes", "at least 2"],
        ),
    ];
    for (sets, wants) in cases {
        let o = validate(&sets, &[]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{sets:?}: {e}");
        assert!(!e.contains("panicked"), "{sets:?}: {e}");
        for w in wants {
            assert!(e.contains(w), "{sets:?}: {w:?} missing from:\n{e}");
        }
    }
    // The output folder: writable (nothing is left in it), or not.
    let o = validate(&[], &["--out", "results"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!d.join("results").exists(), "validate --out left a folder");
    let o = validate(&[], &["--out", "mesh.json/results"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--out mesh.json/results"),
        "{}",
        stderr(&o)
    );
    // The scenario's folder under --out must be a folder too.
    std::fs::create_dir_all(d.join("results")).unwrap();
    write(
        &d.join("results"),
        "small",
        "a file where the scenario's folder goes",
    );
    let o = validate(&[], &["--out", "results"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--out results/small"), "{}", stderr(&o));
    // `run` checks the output folder before simulating.
    let o = bin()
        .current_dir(&d)
        .args(["run", "mesh.toml", "--out", "mesh.json/results"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--out mesh.json/results"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A scenario's name is one plain folder name: nothing is written outside
/// `--out`, nor into `--out` itself.
#[test]
fn names_cannot_leave_the_output_folder() {
    let d = tmp("names");
    let p = write(&d, "small.toml", SMALL);
    let outside = d.join("escaped");
    for name in [
        "../escaped",
        &outside.display().to_string(),
        "",
        ".",
        "a\nb",
        "a/b",
    ] {
        let o = bin()
            .arg("run")
            .arg(&p)
            .arg("--out")
            .arg(d.join("out"))
            .args(["--set", &format!("scenario.name={name:?}")])
            .output()
            .unwrap();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name:?}: {e}");
        assert!(e.contains("scenario.name"), "{name:?}: {e}");
        assert!(!outside.exists(), "{name:?} wrote outside --out");
        assert!(
            !d.join("out").exists() || std::fs::read_dir(d.join("out")).unwrap().count() == 0,
            "{name:?} wrote into --out"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A run whose workload issues no request (a mean gap far longer than the
/// duration) writes its result with blank metrics, and leaves no staging
/// folder.
#[test]
fn a_run_without_requests_writes_blank_metrics() {
    let d = tmp("no-requests");
    let p = write(
        &d,
        "idle.toml",
        &SMALL
            .replace("mean_gap = \"10s\"", "mean_gap = \"1000d\"")
            .replace("clients = 20", "clients = 2")
            .replace("duration = \"2min\"", "duration = \"10s\""),
    );
    let out = d.join("out");
    let o = bin()
        .arg("run")
        .arg(&p)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(o.status.success(), "{all}");
    assert!(!all.contains("NaN"), "{all}");
    let dir = run_dir(&out);
    let summary = read(&dir.join("summary.csv"));
    assert!(!summary.contains("NaN"), "{summary}");
    assert!(summary.contains("answered_rate,%,,"), "{summary}");
    let lookups = read(&dir.join("lookups.csv"));
    assert!(lookups.starts_with("system,node,"), "{lookups}");
    let names: Vec<String> = std::fs::read_dir(out.join("small"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    let _ = std::fs::remove_dir_all(&d);
}
