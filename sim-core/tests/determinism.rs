//! The determinism contract: same seed ⇒ byte-identical CSV; another seed ⇒
//! different output; the checker finds an injected divergence and names it.

use sim_core::check::{EventKind, first_divergence};
use sim_core::prelude::*;
use sim_core::testbed::{Gossip, GossipReq};
use std::collections::BTreeMap;

const NODES: u32 = 200;

fn build(seed: u64, fault: Option<(NodeId, Time)>, record_trace: bool) -> Sim<Gossip> {
    let mut cfg = SimConfig::new(
        seed,
        SimpleNet::uniform(
            Duration::from_millis(5),
            Duration::from_millis(80),
            "10Mbit/s".parse().unwrap(),
        )
        .unwrap(),
    );
    cfg.sample_every = Some(Duration::from_millis(250));
    cfg.record_trace = record_trace;
    cfg.log_requests = true;
    let mut sim = Sim::new(cfg);
    for _ in 0..NODES {
        sim.add_node(Gossip::new(Duration::from_millis(100)));
    }
    if let Some((n, t)) = fault {
        sim.node_mut(n).fault_at = Some(t);
    }
    let clients: Vec<NodeId> = (0..10).map(NodeId).collect();
    sim.add_workload(
        &clients,
        Poisson::new(Duration::from_millis(500), |_: NodeId, _: &mut NodeRng| {
            GossipReq::Infect
        })
        .unwrap(),
    )
    .unwrap();
    sim.add_gauge("infected", |nodes: &[Gossip]| {
        nodes.iter().filter(|n| n.infected.is_some()).count() as f64
    });
    // Some churn, so lifecycle events are part of the trace.
    for i in 0..20u32 {
        let t = Time(1_000_000_000 + i as u64 * 37_000_000);
        sim.stop_at(NodeId(100 + i), t, Stop::Transient).unwrap();
        sim.start_at(NodeId(100 + i), Time(t.0 + 500_000_000))
            .unwrap();
    }
    sim
}

fn run(seed: u64) -> (BTreeMap<String, Vec<u8>>, u64) {
    let mut sim = build(seed, None, false);
    sim.run(RunLimits::until(Time(5_000_000_000))).unwrap();
    sim.finish_metrics();
    let files = sim.metrics_mut().to_csv_files().unwrap();
    (files, sim.trace_hash())
}

#[test]
fn same_seed_gives_byte_identical_csv() {
    let (a, ha) = run(11);
    let (b, hb) = run(11);
    assert_eq!(ha, hb);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name} differs between two runs with seed 11"
        );
    }
    // The run did real work worth comparing.
    for f in [
        "pings.csv",
        "infections.csv",
        "requests.csv",
        "timeseries.csv",
    ] {
        assert!(a[f].len() > 1_000, "{f} is nearly empty");
    }
}

#[test]
fn another_seed_gives_different_output() {
    let (a, ha) = run(11);
    let (b, hb) = run(12);
    assert_ne!(ha, hb);
    for f in ["pings.csv", "requests.csv", "timeseries.csv"] {
        assert_ne!(a[f], b[f], "{f} identical across seeds");
    }
}

#[test]
fn checker_names_the_first_diverging_event() {
    // Node 42 stops pinging from t = 2 s on. Its first tick at or after 2 s
    // is at 2.0 s (ticks every 100 ms from start): the two traces agree up to
    // the first consequence of that tick and not after.
    let fault_at = Time(2_000_000_000);
    let mut a = build(5, None, true);
    let mut b = build(5, Some((NodeId(42), fault_at)), true);
    a.run(RunLimits::until(Time(3_000_000_000))).unwrap();
    b.run(RunLimits::until(Time(3_000_000_000))).unwrap();
    assert_ne!(a.trace_hash(), b.trace_hash());
    let d = first_divergence(a.trace().unwrap(), b.trace().unwrap()).expect("divergence");
    let ea = d.a.expect("A continues");
    let eb = d.b.expect("B continues");
    // Healthy node 42 sent a ping at 2.0 s, which is delivered after 5-80 ms:
    // the first difference is that delivery (A) where B has the next event.
    assert_eq!(ea.kind, EventKind::Deliver);
    assert_eq!(
        ea.detail, 42,
        "the first extra event is a message from node 42"
    );
    assert!(ea.time.0 >= fault_at.0 + 5_000_000 && ea.time.0 <= fault_at.0 + 80_000_000);
    assert_ne!(ea, eb);
    // Everything before agrees.
    let idx = d.position;
    assert!(idx > 1_000, "diverged too early: {idx}");
    assert_eq!(a.trace().unwrap()[..idx], b.trace().unwrap()[..idx]);
    let text = d.to_string();
    assert!(
        text.contains("Deliver at node") && text.contains("event #"),
        "{text}"
    );
    // A run against itself has no divergence.
    let mut c = build(5, None, true);
    c.run(RunLimits::until(Time(3_000_000_000))).unwrap();
    assert_eq!(
        first_divergence(a.trace().unwrap(), c.trace().unwrap()),
        None
    );
}

#[test]
fn runs_on_other_threads_give_the_same_bytes() {
    // Runs are single-threaded, but experiments run many of them in
    // parallel: nothing may depend on which thread runs a simulation or what
    // else runs beside it.
    let (reference, h) = run(21);
    let handles: Vec<_> = (0..3).map(|_| std::thread::spawn(|| run(21))).collect();
    for handle in handles {
        let (files, hash) = handle.join().unwrap();
        assert_eq!(hash, h);
        assert!(
            files == reference,
            "a run on another thread wrote different CSV"
        );
    }
}
