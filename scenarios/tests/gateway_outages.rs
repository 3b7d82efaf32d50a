//! Correlated gateway outages on a mesh (`topology.gateway_mtbf`,
//! `gateway_mttr`): the schedule written to `gateway-outages.csv`, its
//! effect on each side, a control where retries outlast the outages, and
//! the errors for values that cannot work.
//!
//! The mesh is a small made-up one in the NYC Mesh style: two
//! neighbourhoods of five routers, each with a supernode (router 1 and
//! router 11, role `supernode`: the gateways), joined by one radio link
//! (5–15), so that every home reaches every other home inside the mesh and
//! reaches the data center through its nearest supernode.

use scenarios::experiment::{Outcome, run};
use scenarios::load::Origin;
use scenarios::schema::Scenario;
use scenarios::validate::validate_text;
use sim_core::metrics::CsvFile;
use std::path::PathBuf;

const MESH: &str = r#"{
 "directed": false,
 "multigraph": false,
 "graph": {},
 "nodes": [
  {"id": 1, "name": "sn-a", "role": "supernode", "x": 40.700, "y": -73.990},
  {"id": 2, "name": "a2", "x": 40.701, "y": -73.991},
  {"id": 3, "name": "a3", "x": 40.702, "y": -73.989},
  {"id": 4, "name": "a4", "x": 40.703, "y": -73.992},
  {"id": 5, "name": "a5", "x": 40.704, "y": -73.988},
  {"id": 11, "name": "sn-b", "role": "supernode", "x": 40.720, "y": -73.950},
  {"id": 12, "name": "b12", "x": 40.721, "y": -73.951},
  {"id": 13, "name": "b13", "x": 40.722, "y": -73.949},
  {"id": 14, "name": "b14", "x": 40.723, "y": -73.952},
  {"id": 15, "name": "b15", "x": 40.724, "y": -73.948}
 ],
 "links": [
  {"source": 1, "target": 2, "type": "wifi"},
  {"source": 1, "target": 3, "type": "wifi"},
  {"source": 2, "target": 4, "type": "wifi"},
  {"source": 3, "target": 5, "type": "wifi"},
  {"source": 11, "target": 12, "type": "wifi"},
  {"source": 11, "target": 13, "type": "wifi"},
  {"source": 12, "target": 14, "type": "wifi"},
  {"source": 13, "target": 15, "type": "wifi"},
  {"source": 5, "target": 15, "type": "wifi"}
 ]
}"#;

/// The mesh file, written once per test process.
fn mesh_file() -> String {
    let d = std::env::temp_dir().join(format!("pc-gwout-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let f: PathBuf = d.join("two-neighbourhoods.json");
    if !f.exists() {
        let tmp = d.join(format!("mesh-{:?}.tmp", std::thread::current().id()));
        std::fs::write(&tmp, MESH).unwrap();
        std::fs::rename(&tmp, &f).unwrap();
    }
    f.display().to_string()
}

/// Lookups from all ten homes on the mesh for `duration`, with extra
/// `[topology]` lines and extra `[datacenter]` lines.
fn text(duration: &str, topology: &str, datacenter: &str) -> String {
    format!(
        r#"
[scenario]
name = "gateway-outages"
seed = 7
warmup = "10min"
duration = "{duration}"

[topology]
kind = "mesh"
file = {file:?}
{topology}

[kademlia]
id_bits = 64
start = "warm"
refresh = false
refresh_on_join = false

[workload]
clients = 10
mean_gap = "2min"

[datacenter]
{datacenter}

[output]
plots = false
sample_every = "10min"
"#,
        file = mesh_file()
    )
}

fn scenario(text: &str) -> Scenario {
    validate_text(text, &Origin::File("t.toml".into()), &[], None).unwrap()
}

fn error(text: &str) -> String {
    validate_text(text, &Origin::File("t.toml".into()), &[], None).unwrap_err()
}

fn outcome(text: &str) -> Outcome {
    let s = scenario(text);
    // No row files: every file is kept in memory.
    let o = run(&s, None, &mut |_, _, _, _| {}, None).unwrap();
    assert!(!o.aborted);
    o
}

fn file<'a>(o: &'a Outcome, name: &str) -> &'a str {
    std::str::from_utf8(bytes(
        o.files.get(name).unwrap_or_else(|| panic!("no {name}")),
    ))
    .unwrap()
}

/// A file kept in memory.
fn bytes(f: &CsvFile) -> &[u8] {
    match f {
        CsvFile::Bytes(b) => b,
        CsvFile::Disk(p) => panic!("{} was streamed", p.display()),
    }
}

/// `(gateway, link, from_ns, to_ns)` rows of `gateway-outages.csv`.
fn outages(o: &Outcome) -> Vec<(String, String, u64, u64)> {
    let csv = file(o, "gateway-outages.csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("gateway,link,from_ns,to_ns"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 4, "{l}");
            (
                f[0].to_string(),
                f[1].to_string(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

/// One side's lookups: `(start_ns, end_ns, answered, attempts)`, from
/// `lookups.csv`'s columns found by name.
fn lookups(o: &Outcome, system: &str) -> Vec<(u64, u64, bool, u32)> {
    let csv = file(o, "lookups.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (sys, start, end, answered, attempts) = (
        col("system"),
        col("start_ns"),
        col("end_ns"),
        col("answered"),
        col("attempts"),
    );
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[sys] == system)
        .map(|f| {
            (
                f[start].parse().unwrap(),
                f[end].parse().unwrap(),
                f[answered] == "true" || f[answered] == "1",
                f[attempts].parse().unwrap_or(0),
            )
        })
        .collect()
}

/// The P2P side's rows of `lookups.csv`, as text.
fn p2p_rows(o: &Outcome) -> Vec<String> {
    file(o, "lookups.csv")
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("p2p,"))
        .map(str::to_string)
        .collect()
}

fn answered_share(rows: &[(u64, u64, bool, u32)]) -> f64 {
    rows.iter().filter(|r| r.2).count() as f64 / rows.len() as f64
}

const HOUR_NS: u64 = 3_600 * 1_000_000_000;
/// The end of a 12 h run after its 10 min warm-up, in ns.
const TWELVE_H_RUN: u64 = 12 * HOUR_NS + HOUR_NS / 6;

/// The rows of requests started at least a minute before `end`: a
/// request still retrying at the end has no row, so only these are
/// compared between runs.
fn started_before_last_minute(
    rows: Vec<(u64, u64, bool, u32)>,
    end: u64,
) -> Vec<(u64, u64, bool, u32)> {
    rows.into_iter()
        .filter(|r| r.0 + 60 * 1_000_000_000 <= end)
        .collect()
}

#[test]
fn the_schedule_is_reproducible_sorted_disjoint_and_inside_the_run() {
    let t = text(
        "2h",
        "gateway_mtbf = \"10min\"\ngateway_mttr = \"5min\"",
        "",
    );
    let a = outcome(&t);
    let b = outcome(&t);
    assert_eq!(
        a.files.get("gateway-outages.csv"),
        b.files.get("gateway-outages.csv"),
        "same seed, same outages"
    );
    let rows = outages(&a);
    let end = HOUR_NS * 2 + 600 * 1_000_000_000;
    // Both gateways, each with both directions of its link.
    let gws: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(gws.len(), 2, "{gws:?}");
    for g in &gws {
        let mine: Vec<_> = rows.iter().filter(|r| r.0 == *g).collect();
        let out_link = format!("{g}→internet");
        let in_link = format!("internet→{g}");
        let egress: Vec<(u64, u64)> = mine
            .iter()
            .filter(|r| r.1 == out_link)
            .map(|r| (r.2, r.3))
            .collect();
        let ingress: Vec<(u64, u64)> = mine
            .iter()
            .filter(|r| r.1 == in_link)
            .map(|r| (r.2, r.3))
            .collect();
        assert_eq!(egress.len() * 2, mine.len(), "{g}: only its own two links");
        assert_eq!(egress, ingress, "{g}: both directions cut together");
        // 2h10min with a cycle of 15 min on average: several outages.
        assert!(egress.len() >= 3, "{g}: {} outages", egress.len());
        for w in egress.windows(2) {
            assert!(w[0].1 < w[1].0, "{g}: sorted and disjoint: {w:?}");
        }
        for &(from, to) in &egress {
            assert!(from < to && to <= end, "{g}: [{from}, {to}) inside the run");
        }
    }
    // Rows by gateway, then time.
    let keys: Vec<(&str, u64)> = rows.iter().map(|r| (r.0.as_str(), r.2)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Another seed draws other outages.
    let c = outcome(&t.replace("seed = 7", "seed = 8"));
    assert_ne!(
        a.files.get("gateway-outages.csv"),
        c.files.get("gateway-outages.csv")
    );
    assert!(a.notes.contains("Gateway outages: "), "{}", a.notes);
    assert!(a.notes.contains("`gateway-outages.csv`"), "{}", a.notes);
}

#[test]
fn outages_cut_the_data_center_off_and_leave_the_mesh_alone() {
    let without = outcome(&text("12h", "", ""));
    let with = outcome(&text(
        "12h",
        "gateway_mtbf = \"30min\"\ngateway_mttr = \"30min\"",
        "",
    ));
    // Without the keys: no file, no sentence.
    assert!(!without.files.contains_key("gateway-outages.csv"));
    assert!(!without.notes.contains("Gateway outages"));

    // The requests started a minute before the end or earlier: all of
    // them finish (a failing one in at most 4 s) on both runs.
    let dc0 = started_before_last_minute(lookups(&without, "datacenter"), TWELVE_H_RUN);
    let dc1 = started_before_last_minute(lookups(&with, "datacenter"), TWELVE_H_RUN);
    assert_eq!(dc0.len(), dc1.len(), "the same requests on both runs");
    assert!(dc0.len() > 2_000, "{} requests", dc0.len());
    let (s0, s1) = (answered_share(&dc0), answered_share(&dc1));
    eprintln!("data center answered: {s0:.3} without outages, {s1:.3} with");
    // Each gateway is out about half of the time (mtbf = mttr); a request
    // whose home's gateway stays out for its 4 s of attempts fails.
    assert!(s0 - s1 > 0.25, "answered {s0:.3} → {s1:.3}");
    // Every request lost with the outages overlaps one of them.
    let rows = outages(&with);
    for r in dc1.iter().filter(|r| !r.2) {
        assert!(
            rows.iter().any(|o| o.2 <= r.1 && r.0 < o.3),
            "failed request {r:?} outside every outage"
        );
    }

    // The P2P side's lookups stay inside the mesh: homes route to homes
    // over mesh links, never over a gateway's internet link, so every
    // lookup is the same, row for row.
    let p0 = p2p_rows(&without);
    assert!(p0.len() > 2_000);
    assert_eq!(p0, p2p_rows(&with));
    // Its other files are the same too, but for the engine's own count of
    // link cuts and restores and its event counts over time (the cuts are
    // events of the P2P simulation as well).
    for (name, file) in &without.files {
        let Some(name) = name.strip_prefix("p2p/") else {
            continue;
        };
        let other = bytes(with.files.get(&format!("p2p/{name}")).unwrap());
        let bytes = bytes(file);
        if name == "counters.csv" || name == "timeseries.csv" {
            let keep = |b: &[u8]| -> Vec<String> {
                String::from_utf8_lossy(b)
                    .lines()
                    .filter(|l| {
                        ![
                            "net.link_cuts",
                            "net.link_restores",
                            "events",
                            "pending_events",
                        ]
                        .iter()
                        .any(|m| l.split(',').any(|f| f == *m))
                    })
                    .map(str::to_string)
                    .collect()
            };
            assert_eq!(keep(bytes), keep(other), "p2p/{name}");
            if name == "counters.csv" {
                assert_ne!(bytes, other, "the cuts are counted");
            }
        } else {
            assert_eq!(bytes, other, "p2p/{name}");
        }
    }
}

/// Negative control: the outages are as frequent as ever, but last about a
/// second on average, while a client waits 30 s before it sends a request
/// again (3 retries). An attempt sent into an outage is lost, but the
/// outage is over (all but surely: an exponential outage of mean 1 s lasts
/// beyond 30 s with probability e^-30) when the client retries, so no
/// request fails. The attempts show that the outages did hit the requests:
/// the effect above comes from outages outlasting the retries, not from
/// anything else the keys change.
#[test]
fn outages_shorter_than_the_retry_timeout_cost_attempts_not_requests() {
    let dc = "attempt_timeout = \"30s\"\nretries = 3";
    let without = outcome(&text("12h", "", dc));
    let with = outcome(&text(
        "12h",
        "gateway_mtbf = \"1min\"\ngateway_mttr = \"1s\"",
        dc,
    ));
    let dc0 = started_before_last_minute(lookups(&without, "datacenter"), TWELVE_H_RUN);
    let dc1 = started_before_last_minute(lookups(&with, "datacenter"), TWELVE_H_RUN);
    assert_eq!(dc0.len(), dc1.len());
    let count = |rows: &[(u64, u64, bool, u32)]| rows.iter().filter(|r| r.2).count();
    let attempts = |rows: &[(u64, u64, bool, u32)]| rows.iter().map(|r| r.3 as u64).sum::<u64>();
    eprintln!(
        "answered {} → {}, attempts {} → {} of {} requests; {} gateway outage rows",
        count(&dc0),
        count(&dc1),
        attempts(&dc0),
        attempts(&dc1),
        dc0.len(),
        outages(&with).len()
    );
    assert_eq!(count(&dc0), dc0.len(), "all answered without outages");
    assert_eq!(count(&dc1), dc1.len(), "all answered: retries outlast them");
    // About 1/61 of the time each gateway is out: some attempts are lost.
    assert!(
        attempts(&dc1) >= attempts(&dc0) + 10,
        "attempts {} → {}",
        attempts(&dc0),
        attempts(&dc1)
    );
}

#[test]
fn bad_values_name_their_key() {
    let mesh = |topology: &str| error(&text("1h", topology, ""));
    let e = mesh("gateway_mtbf = \"0s\"");
    assert!(e.contains("key `topology.gateway_mtbf`"), "{e}");
    assert!(e.contains("expected at least 1s"), "{e}");
    let e = mesh("gateway_mtbf = \"1h\"\ngateway_mttr = \"0s\"");
    assert!(e.contains("key `topology.gateway_mttr`"), "{e}");
    let e = mesh("gateway_mtbf = \"soon\"");
    assert!(e.contains("topology.gateway_mtbf"), "{e}");
    let e = mesh("gateway_mttr = 7");
    assert!(e.contains("topology.gateway_mttr"), "{e}");
    let e = mesh("gateway_mtbf = \"600w\"");
    assert!(e.contains("key `topology.gateway_mtbf`"), "{e}");
    assert!(e.contains("10 years at most"), "{e}");
    // About 4 × 10^7 outages of 2 s in 1000 days: refused before running.
    let e = error(&text(
        "1000d",
        "gateway_mtbf = \"1s\"\ngateway_mttr = \"1s\"",
        "",
    ));
    assert!(e.contains("key `topology.gateway_mtbf`"), "{e}");
    assert!(e.contains("at most 10000000 are allowed"), "{e}");
    // The synthetic internet has no gateways.
    let internet = |extra: &str| {
        error(&format!(
            "[scenario]\nname = \"t\"\nduration = \"1h\"\n\n[topology]\nkind = \"internet\"\nnodes = 20\n{extra}\n\n[workload]\nclients = 5\nmean_gap = \"10s\"\n"
        ))
    };
    let e = internet("gateway_mtbf = \"1h\"");
    assert!(e.contains("key `topology.gateway_mtbf`"), "{e}");
    assert!(e.contains("need a mesh"), "{e}");
    let e = internet("gateway_mttr = \"1h\"");
    assert!(e.contains("key `topology.gateway_mttr`"), "{e}");
    // Accepted values resolve `gateway_mttr`'s default only when outages
    // are asked for.
    let s = scenario(&text("1h", "gateway_mtbf = \"1d\"", ""));
    assert_eq!(
        s.topology.gateway_mttr.map(|d| d.to_string()),
        Some("2h".into())
    );
    let s = scenario(&text("1h", "", ""));
    assert_eq!(s.topology.gateway_mttr, None);
}
