//! Everything but the simulation: a scenario's text to a checked scenario.
//!
//! `scenarios validate`, `run` and `sweep` go through [`validate_text`]
//! (a sweep's every point through [`check_scenario`]), so whatever
//! `validate` accepts, `run` accepts before its first event. Every value
//! that could exhaust time or memory is bounded ([`crate::bounds`]).

use crate::experiment;
use crate::load::{Origin, Override, clip_message, load};
use crate::schema::Scenario;
use crate::sweep::SweepSpec;
use std::path::Path;

/// Check a parsed scenario: every value and its bounds, then the topology
/// (loaded and built) and what depends on its number of peers. Returns
/// the number of peers.
pub fn check_scenario(s: &Scenario) -> Result<u32, experiment::BuildError> {
    experiment::check(s)?;
    experiment::check_topology(s)
}

/// Parse `text`, apply the overrides and the seed, and check every value and
/// every file the scenario names (the topology is loaded and built), and
/// the `[sweep]` table's shape and size. The error is the message shown to
/// the user.
pub fn validate_text(
    text: &str,
    origin: &Origin,
    overrides: &[Override],
    seed: Option<u64>,
) -> Result<Scenario, String> {
    let mut s: Scenario = load(text, origin, overrides).map_err(|e| e.to_string())?;
    if let Some(seed) = seed {
        s.scenario.seed = seed;
    }
    let named = |e: experiment::BuildError| {
        format!("{origin}: key `{}`: {}", e.field, clip_message(&e.message))
    };
    experiment::check(&s).map_err(named)?;
    let peers = experiment::topology_peers(&s).map_err(named)?;
    s.churn = experiment::check_peers(&s, peers).map_err(named)?;
    s.topology = experiment::resolved_topology(&s.topology).map_err(named)?;
    experiment::resolve_clients(&mut s, peers);
    if let Some(t) = &s.sweep {
        SweepSpec::parse(Some(t), s.scenario.seed).map_err(|e| {
            format!(
                "{origin}: key `{}`: {}",
                crate::bounds::clip(&e.key, 100),
                clip_message(&e.message)
            )
        })?;
    }
    if s.tune.is_some() {
        crate::tune::TuneSpec::parse(&s).map_err(|e| format!("{origin}: {e}"))?;
    }
    Ok(s)
}

/// Check that results can be written under `out`: create and remove a
/// probe file inside it. Folders of `out` that did not exist are created
/// for the probe and removed again; nothing else is written.
pub fn check_out_dir(out: &Path) -> Result<(), String> {
    let shown = crate::bounds::clip(&out.display().to_string(), 200);
    let mut created = Vec::new();
    let mut p = out;
    while !p.as_os_str().is_empty() && !p.exists() {
        created.push(p.to_path_buf());
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    let result = probe(out, &shown);
    for d in &created {
        let _ = std::fs::remove_dir(d);
    }
    result
}

fn probe(out: &Path, shown: &str) -> Result<(), String> {
    if out.exists() && !out.is_dir() {
        return Err(format!("--out {shown}: exists and is not a folder"));
    }
    std::fs::create_dir_all(out)
        .map_err(|e| format!("--out {shown}: cannot create the output folder: {e}"))?;
    let probe = out.join(format!(".write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .map_err(|e| format!("--out {shown}: the output folder is not writable: {e}"))?;
    std::fs::remove_file(&probe)
        .map_err(|e| format!("--out {shown}: cannot remove the probe file: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid scenario: 10 internet peers, 1 minute of lookups.
    const BASE: &str = r#"
[scenario]
name = "t"
warmup = "10s"
duration = "1min"

[topology]
kind = "internet"
nodes = 10

[workload]
clients = 5
mean_gap = "10s"
"#;

    fn check(sets: &[&str]) -> Result<Scenario, String> {
        let sets: Vec<Override> = sets.iter().map(|s| s.parse().unwrap()).collect();
        validate_text(BASE, &Origin::File("t.toml".into()), &sets, None)
    }

    fn refused(sets: &[&str], key: &str, words: &[&str]) {
        let e = check(sets).expect_err(&format!("{sets:?} accepted"));
        assert!(e.contains(&format!("key `{key}`")), "{sets:?}: {e}");
        for w in words {
            assert!(e.contains(w), "{sets:?}: {w:?} missing from {e}");
        }
        assert!(e.len() < 400, "{sets:?}: a {}-byte message", e.len());
    }

    #[test]
    fn the_base_is_valid() {
        check(&[]).unwrap();
    }

    /// Values that parse but would overflow simulated time, allocate
    /// gigabytes or run for ever are refused, naming the key.
    #[test]
    fn values_that_exhaust_time_or_memory_are_refused() {
        let max = "\"18446744073709551615ns\"";
        refused(
            &[&format!("kademlia.rpc_timeout={max}")],
            "kademlia.rpc_timeout",
            &["1d"],
        );
        refused(
            &[&format!("datacenter.service_time={max}")],
            "datacenter.service_time",
            &[],
        );
        refused(
            &[&format!("scenario.warmup={max}")],
            "scenario.warmup",
            &["10 years"],
        );
        refused(
            &["scenario.duration=\"3650d\"", "scenario.warmup=\"1d\""],
            "scenario.duration",
            &["10 years"],
        );
        refused(
            &["datacenter.servers=4294967295"],
            "datacenter.servers",
            &["100000"],
        );
        refused(
            &["kademlia.join_refresh_targets=4294967295"],
            "kademlia.join_refresh_targets",
            &["16"],
        );
        refused(
            &["kademlia.join_refresh_parallel=0"],
            "kademlia.join_refresh_parallel",
            &["1 to 64"],
        );
        refused(
            &["kademlia.join_refresh_parallel=65"],
            "kademlia.join_refresh_parallel",
            &["1 to 64"],
        );
        refused(
            &["kademlia.lookup_peers_max=19"],
            "kademlia.lookup_peers_max",
            &["expected k (20) to 10000"],
        );
        refused(
            &["kademlia.k=8", "kademlia.lookup_peers_max=10001"],
            "kademlia.lookup_peers_max",
            &["expected k (8) to 10000"],
        );
        assert!(check(&["kademlia.lookup_peers_max=20"]).is_ok());
        refused(
            &[
                "churn.up=\"exponential(1ns)\"",
                "churn.down=\"exponential(1h)\"",
            ],
            "churn.up",
            &["at least 1s"],
        );
        refused(
            &[
                "churn.up=\"exponential(2s)\"",
                "churn.down=\"exponential(2s)\"",
                "scenario.duration=\"3000d\"",
                "workload.mean_gap=\"1h\"",
            ],
            "churn.up",
            &["transitions"],
        );
        refused(
            &["datacenter.mtbf=\"1ns\"", "datacenter.mttr=\"1ns\""],
            "datacenter.mttr",
            &["at least 1s"],
        );
        refused(&["datacenter.mttr=\"0s\""], "datacenter.mttr", &[]);
        refused(
            &[
                "datacenter.mtbf=\"1s\"",
                "datacenter.mttr=\"1s\"",
                "scenario.duration=\"3000d\"",
                "workload.mean_gap=\"1h\"",
            ],
            "datacenter.mtbf",
            &["outages"],
        );
        refused(
            &["topology.nodes=4294967295"],
            "topology.nodes",
            &["100000"],
        );
        refused(
            &["workload.mean_gap=\"1ns\""],
            "workload.mean_gap",
            &["requests"],
        );
        refused(
            &["output.sample_every=\"1ns\""],
            "output.sample_every",
            &["samples"],
        );
        refused(&["access.uplink=\"1bit/s\""], "access.uplink", &["1kbit/s"]);
        refused(&["access.latency=\"1000d\""], "access.latency", &[]);
        refused(&["access.jitter=\"1000d\""], "access.jitter", &[]);
        refused(&["kademlia.alpha=4294967295"], "kademlia.alpha", &[]);
        let long = format!("topology.gateways=\"name:{}\"", "*a".repeat(100_000));
        refused(&[&long], "topology.gateways", &["200 characters"]);
        let e =
            validate_text(BASE, &Origin::File("t.toml".into()), &[], Some(u64::MAX)).unwrap_err();
        assert!(e.contains("key `scenario.seed`"), "{e}");
    }

    /// Errors speak of scenario keys and their bounds, not of the
    /// protocol's internal names.
    #[test]
    fn errors_name_scenario_keys() {
        for k in ["161", "255", "0"] {
            refused(&[&format!("kademlia.k={k}")], "kademlia.k", &["1 to 160"]);
        }
        let e = check(&["kademlia.id_bits=33"]).unwrap_err();
        assert!(e.contains("kademlia.id_bits"), "{e}");
        assert!(!e.contains("key_bits"), "{e}");
        assert!(
            !check(&["kademlia.k=161"])
                .unwrap_err()
                .contains("lookup_peers_max >=")
        );
    }

    #[test]
    fn the_network_must_hold_the_clients() {
        refused(&["topology.nodes=1"], "topology.nodes", &["at least 2"]);
        refused(&["topology.nodes=0"], "topology.nodes", &["at least 2"]);
        refused(
            &["workload.clients=11"],
            "workload.clients",
            &["11 clients", "10 peers"],
        );
        check(&["workload.clients=10"]).unwrap();
    }

    #[test]
    fn names_are_single_plain_folder_names() {
        for name in ["/tmp/x", "../x", "a/b", "", ".", "..", "a\\nb", ".hidden"] {
            let set = format!("scenario.name=\"{name}\"");
            refused(&[&set], "scenario.name", &[]);
        }
        let long = format!("scenario.name=\"{}\"", "n".repeat(10_000));
        refused(&[&long], "scenario.name", &["100 characters"]);
        check(&["scenario.name=\"city-mesh_2.b\""]).unwrap();
    }

    /// Extreme values of every key give a result or an error, never a
    /// panic, and an accepted scenario is within the bounds.
    #[test]
    fn extreme_values_of_every_key_never_panic() {
        let with_churn = format!(
            "{BASE}\n[churn]\nup = \"exponential(1h)\"\ndown = \"exponential(1h)\"\n[datacenter]\nmtbf = \"1d\"\n"
        );
        let resolved = validate_text(&with_churn, &Origin::File("t.toml".into()), &[], None)
            .map(|s| toml::to_string(&s).unwrap())
            .unwrap();
        let mut keys = Vec::new();
        let mut table = String::new();
        for line in resolved.lines() {
            if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                table = t.to_string();
            } else if let Some((k, _)) = line.split_once(" = ") {
                keys.push(format!("{table}.{}", k.trim()));
            }
        }
        assert!(keys.len() > 25, "{keys:?}");
        let values = [
            "0",
            "1",
            "-1",
            "4294967295",
            "4294967296",
            "9223372036854775807",
            "1e308",
            "\"0s\"",
            "\"1ns\"",
            "\"18446744073709551615ns\"",
            "\"1bit/s\"",
            "\"18446744073709551615bit/s\"",
            "\"\"",
            "\"exponential(1ns)\"",
            "\"pareto(1s, 1.0000001)\"",
            "\"weibull(10w, 0.01)\"",
            "true",
        ];
        for k in &keys {
            for v in values {
                let set: Override = format!("{k}={v}").parse().unwrap();
                let r = validate_text(&with_churn, &Origin::File("t.toml".into()), &[set], None);
                if let Err(e) = r {
                    assert!(e.len() < 600, "{k}={v}: a {}-byte message", e.len());
                }
            }
        }
    }

    /// A huge topology file is refused before it is read.
    #[test]
    fn huge_topology_files_are_not_read() {
        let p = std::env::temp_dir().join(format!("pc-huge-topology-{}.json", std::process::id()));
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(300 << 20).unwrap(); // sparse: nothing is written
        let file = format!("topology.file={:?}", p.display().to_string());
        refused(
            &["topology.kind=\"mesh\"", &file],
            "topology.file",
            &["256 MiB"],
        );
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn sweep_sizes_are_bounded_at_validate() {
        let text = format!("{BASE}\n[sweep]\nseeds = 9223372036854775807\n");
        let e = validate_text(&text, &Origin::File("t.toml".into()), &[], None).unwrap_err();
        assert!(e.contains("sweep.seeds"), "{e}");
        let values: Vec<String> = (0..100_001).map(|i| i.to_string()).collect();
        let text = format!("{BASE}\n[sweep]\nkademlia.k = [{}]\n", values.join(","));
        let e = validate_text(&text, &Origin::File("t.toml".into()), &[], None).unwrap_err();
        assert!(
            e.contains("sweep.kademlia.k") && e.contains("100000"),
            "{e}"
        );
        let text = format!("{BASE}\n[sweep]\n{} = 8\n", "k".repeat(1 << 20));
        let e = validate_text(&text, &Origin::File("t.toml".into()), &[], None).unwrap_err();
        assert!(e.len() < 600, "a {}-byte message", e.len());
    }

    #[test]
    fn the_output_folder_is_probed_without_leaving_anything() {
        let d = std::env::temp_dir().join(format!("pc-validate-out-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        check_out_dir(&d.join("new/deeper")).unwrap();
        assert!(!d.join("new").exists(), "the probe left its folders");
        check_out_dir(&d).unwrap();
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
        // A file where the folder should be.
        std::fs::write(d.join("file"), b"x").unwrap();
        let e = check_out_dir(&d.join("file")).unwrap_err();
        assert!(e.contains("--out"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
