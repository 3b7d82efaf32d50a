//! Epidemic gossip on the test-bed protocol, written to a result directory.
//!
//! `cargo run --release -p sim-core --example gossip -- [NODES] [SECONDS] [SEED]`
//!
//! Every node pings a random peer every 100 ms and, once infected, pushes
//! the rumor to a random peer on every tick; ten clients inject infections
//! from a Poisson workload. The run writes tidy CSV files (pings,
//! infections, requests, counters, histograms, time series) into
//! `out/gossip/seed-<SEED>/`, through a temporary directory renamed when
//! complete, plus `run-info.csv` with wall-clock figures.

use sim_core::prelude::*;
use sim_core::testbed::{Gossip, GossipReq};
use std::path::PathBuf;

fn arg(i: usize, default: u64, name: &str) -> u64 {
    match std::env::args().nth(i) {
        None => default,
        Some(s) => s.parse().unwrap_or_else(|_| {
            eprintln!("gossip: {name} must be a whole number, got {s:?}");
            eprintln!("usage: gossip [NODES] [SECONDS] [SEED]");
            std::process::exit(2)
        }),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nodes = arg(1, 10_000, "NODES");
    let seconds = arg(2, 10, "SECONDS");
    let seed = arg(3, 1, "SEED");
    if nodes < 2 || nodes > u32::MAX as u64 {
        return Err("NODES must be between 2 and 4294967295".into());
    }
    let net = SimpleNet::uniform(
        Duration::from_millis(5),
        Duration::from_millis(80),
        "20Mbit/s".parse()?,
    )?;
    let mut cfg = SimConfig::new(seed, net);
    cfg.sample_every = Some(Duration::from_millis(100));
    cfg.log_requests = true;
    let mut sim = Sim::new(cfg);
    for _ in 0..nodes {
        sim.add_node(Gossip::new(Duration::from_millis(100)));
    }
    let clients: Vec<NodeId> = (0..10.min(nodes as u32)).map(NodeId).collect();
    sim.add_workload(
        &clients,
        Poisson::new(Duration::from_secs(5), |_: NodeId, _: &mut NodeRng| {
            GossipReq::Infect
        })?,
    )?;
    sim.add_gauge("infected", |n: &[Gossip]| {
        n.iter().filter(|g| g.infected.is_some()).count() as f64
    });
    let out = sim.run(RunLimits::until(Time(seconds * 1_000_000_000)))?;
    sim.finish_metrics();

    let dir = PathBuf::from("out/gossip").join(format!("seed-{seed}"));
    let tmp = PathBuf::from("out/gossip").join(format!(".seed-{seed}.partial"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    sim.metrics_mut().write_csv_dir(&tmp)?;
    std::fs::write(tmp.join("run-info.csv"), sim.run_info().to_csv())?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::rename(&tmp, &dir)?;
    let infected = sim.nodes().iter().filter(|g| g.infected.is_some()).count();
    println!(
        "{nodes} nodes, {seconds} s simulated: {} events in {:.2} s ({:.1} M events/s); {infected} nodes infected; trace hash {:016x}",
        out.events,
        out.wall.as_secs_f64(),
        out.events as f64 / out.wall.as_secs_f64() / 1e6,
        sim.trace_hash()
    );
    println!("results in {}", dir.display());
    Ok(())
}
