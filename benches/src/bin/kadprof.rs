//! Profiling and one-off measurements for Kademlia.
//!
//! `kadprof` — 2,000 lookups on a warm network of 10^4 nodes (for perf).
//! `kadprof mem N warm|cold` — memory per node of an N-node network (cold:
//! joins 1 ms apart), printed with the counting allocator.
use kademlia::Command;
use sim_core::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("mem") {
        let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
        let warm = args.get(3).map(String::as_str) != Some("cold");
        let t = std::time::Instant::now();
        let (m, h) = benches::memory::kademlia_memory(n, warm, Duration::from_millis(1));
        let info = h.sim.run_info();
        println!(
            "n={n} {}: {:.0} bytes/node total, {:.0} bytes/node routing table, {:.1} contacts/node; {} events, {:.1} s wall",
            if warm { "warm" } else { "cold" },
            m.total_per_node,
            m.table_per_node,
            m.contacts_per_node,
            info.events,
            t.elapsed().as_secs_f64()
        );
        return;
    }
    let (_m, mut h) = benches::memory::kademlia_memory(10_000, true, Duration::ZERO);
    let t = std::time::Instant::now();
    for _ in 0..2_000 {
        let from = h.random_node();
        let key = h.random_key();
        let tag = h.tag();
        h.command(from, Command::FindClosest { tag, key });
        h.run_for(Duration::from_millis(1));
    }
    h.run_for(Duration::from_secs(10));
    let info = h.sim.run_info();
    println!(
        "2000 lookups in {:.2} s wall, {} events",
        t.elapsed().as_secs_f64(),
        info.events
    );
}
