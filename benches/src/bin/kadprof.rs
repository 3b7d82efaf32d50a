//! Profiling driver: 2,000 lookups on a warm network of 10^4 nodes.
use kademlia::Command;
use sim_core::Duration;

fn main() {
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
