//! Engine throughput in the hold model at 10^3, 10^5 and 10^6 nodes.
use benches::hold_sim;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim_core::RunLimits;

fn hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("hold");
    g.sample_size(10);
    for n in [1_000u32, 100_000, 1_000_000] {
        let batch = 2_000_000u64;
        g.throughput(Throughput::Elements(batch));
        let mut sim = hold_sim(n, 1);
        g.bench_function(format!("nodes={n}"), |b| {
            b.iter(|| {
                sim.run(RunLimits {
                    max_events: Some(batch),
                    ..Default::default()
                })
                .expect("run")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
