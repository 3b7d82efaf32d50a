//! Kademlia: lookups simulated per second and memory per node at 10^4 and
//! 10^5 nodes, cold join and warm start
//! (`cargo bench -p benches --bench kademlia`).
//!
//! Memory is measured with the counting allocator of `benches::memory`
//! (every heap byte of the simulation, per node) and printed first. The
//! lookup rate is the wall-clock rate of simulating batches of 1,000
//! lookups (random origins and keys, one issued per simulated millisecond,
//! then 10 s of simulated time to let them finish), with the oracle off.
//!
//! `KAD_BENCH_COLD_100K=1` adds 10^5 nodes with joined tables (joins 1 ms
//! apart): with the default 4 refresh lookups per bucket the joins took
//! 43 min and the process peaked at 8.6 GiB RSS.
use benches::memory::kademlia_memory;
use criterion::{Criterion, Throughput, criterion_group};
use kademlia::{Command, Key};
use sim_core::{Duration, NodeId};

const BATCH: u64 = 1_000;

fn configs() -> Vec<(usize, bool)> {
    let mut v = vec![(10_000, true), (10_000, false), (100_000, true)];
    if std::env::var("KAD_BENCH_COLD_100K").is_ok() {
        v.push((100_000, false));
    }
    v
}

fn spacing(n: usize) -> Duration {
    // Joins one after another, 10 ms apart at 10^4 nodes, 1 ms at 10^5.
    if n >= 100_000 {
        Duration::from_millis(1)
    } else {
        Duration::from_millis(10)
    }
}

fn lookups(c: &mut Criterion) {
    let mut g = c.benchmark_group("kademlia_lookups");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BATCH));
    for (n, warm) in configs() {
        let wall = std::time::Instant::now();
        let (mem, mut h) = kademlia_memory(n, warm, spacing(n));
        let build = wall.elapsed();
        println!(
            "kademlia n={n} {}: {:.0} bytes/node total, {:.0} bytes/node routing table, {:.1} contacts/node (built in {:.1} s wall)",
            if warm { "warm" } else { "cold" },
            mem.total_per_node,
            mem.table_per_node,
            mem.contacts_per_node,
            build.as_secs_f64()
        );
        g.bench_function(
            format!("n={n}/{}", if warm { "warm" } else { "cold" }),
            |b| {
                b.iter(|| {
                    for _ in 0..BATCH {
                        let from = h.random_node();
                        let key: Key = h.random_key();
                        let tag = h.tag();
                        h.command(from, Command::FindClosest { tag, key });
                        h.run_for(Duration::from_millis(1));
                    }
                    h.run_for(Duration::from_secs(10));
                })
            },
        );
        let _ = NodeId(0);
    }
    g.finish();
}

criterion_group!(benches, lookups);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
