//! The oracle that fills the `exact` column: the true k closest live nodes
//! to a key, by the indexed walk in XOR order (`oracle::true_closest`) and by
//! the plain scan it replaced (`oracle::true_closest_scan`), at 10^4 and
//! 10^6 nodes with 160-bit ids, k = 20, and 70 % of nodes up (a fixed
//! pseudo-random live set).
//!
//! Run: `cargo bench -p benches --bench oracle`. Each iteration answers one
//! query for a key drawn in advance; the index (the sorted ids) is built
//! before timing, once per network, as a run builds it on first use.
//! Figures: the README's performance table.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kademlia::oracle::{true_closest, true_closest_scan};
use kademlia::{IdTable, Key};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use sim_core::NodeId;
use std::hint::black_box;
use std::time::Duration;

fn up(n: NodeId) -> bool {
    u64::from(n.0).wrapping_mul(0x9E37_79B9_7F4A_7C15) % 100 < 70
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("oracle");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for n in [10_000usize, 1_000_000] {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let ids = IdTable::random(n, 160, &mut rng);
        let keys: Vec<Key> = (0..1_024).map(|_| Key::random(160, &mut rng)).collect();
        let _ = ids.sorted();
        let mut i = 0;
        g.bench_with_input(BenchmarkId::new("indexed", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % keys.len();
                black_box(true_closest(&ids, &keys[i], 20, None, up))
            })
        });
        g.bench_with_input(BenchmarkId::new("scan", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % keys.len();
                black_box(true_closest_scan(&ids, &keys[i], 20, None, up))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
