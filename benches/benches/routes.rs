//! Route set-up and route queries on NYC Mesh and on a generated mesh of
//! 10^4 routers, with the approximate memory of the routing state.
//!
//! Run: `cargo bench -p benches --bench routes`. Each "1M" benchmark is one
//! iteration of a million `Topology::route` calls over pairs drawn in
//! advance from a seeded generator. Memory figures are printed to stderr
//! (`MeshTopology::memory_bytes`: graph, link table, per-router tables and
//! cached shortest-path trees).
//!
//! Measured once (release profile, 2 shared cores, other builds running,
//! so treat as rough): NYC Mesh set-up 2.0 ms, 0.45 MiB; 10^6 uniform
//! queries 165 ms (all 938 trees cached: 3.9 MiB). Generated mesh of 9,997
//! routers (mean degree ~8, routes ~47 hops): generation + set-up 12 ms,
//! 10.8 MiB; 10^6 queries from 512 sources 1.7 s (30 MiB with the trees);
//! one cold tree 0.62 ms, so uniformly random sources at this size cost
//! about that per query (the default 32 MiB cache holds 839 trees).

use criterion::{Criterion, criterion_group, criterion_main};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use sim_core::net::{LinkId, Topology};
use sim_core::topo::{LinkKind, MeshConfig, MeshTopology, bundled, generate};
use std::hint::black_box;
use std::time::Duration;

const QUERIES: usize = 1_000_000;

fn nycmesh() -> MeshTopology {
    let cfg = MeshConfig::default();
    let (g, gateways) = bundled::load_recommended("nycmesh", &cfg.gateways).unwrap();
    MeshTopology::new(g, &MeshConfig { gateways, ..cfg }).unwrap()
}

/// 10^4 routers in a 20 km square, mean degree about 8, largest component.
fn generated(n: usize) -> MeshTopology {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let side = 20_000.0;
    let r = generate::radius_for_degree(n, side, 8.0);
    let mut g = generate::random_geometric(n, side, r, LinkKind::Wifi, &mut rng).unwrap();
    g.keep_largest_component();
    MeshTopology::new(g, &MeshConfig::default()).unwrap()
}

/// `count` (from, to) host pairs; sources among `sources` hosts drawn
/// uniformly (all hosts if `sources >= hosts`), destinations uniform.
fn pairs(hosts: usize, sources: usize, count: usize, seed: u64) -> Vec<(u32, u32)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let set: Vec<u32> = if sources >= hosts {
        (0..hosts as u32).collect()
    } else {
        (0..sources)
            .map(|_| rng.random_range(0..hosts) as u32)
            .collect()
    };
    (0..count)
        .map(|_| {
            (
                set[rng.random_range(0..set.len())],
                rng.random_range(0..hosts) as u32,
            )
        })
        .collect()
}

fn run(t: &MeshTopology, pairs: &[(u32, u32)]) -> usize {
    let mut out: Vec<LinkId> = Vec::with_capacity(64);
    let mut total = 0;
    for &(a, b) in pairs {
        t.route(a, b, &mut out).unwrap();
        total += out.len();
    }
    total
}

fn report(name: &str, t: &MeshTopology, pairs: &[(u32, u32)]) {
    let hops = run(t, pairs) as f64 / pairs.len() as f64;
    eprintln!(
        "{name}: routers {}, links {}, hosts {}, cache max {} trees; after the queries: {} trees computed, memory ~{:.1} MiB, mean route length {hops:.1} link ids",
        t.router_count(),
        t.links().len(),
        t.mesh_hosts(),
        t.cache_trees_max(),
        t.trees_computed(),
        t.memory_bytes() as f64 / (1 << 20) as f64
    );
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("routes");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));

    g.bench_function("setup/nycmesh", |b| b.iter(|| black_box(nycmesh())));
    let nyc = nycmesh();
    eprintln!(
        "nycmesh after setup: memory ~{} KiB",
        nyc.memory_bytes() >> 10
    );
    let all = pairs(nyc.mesh_hosts(), usize::MAX, QUERIES, 1);
    report("nycmesh 1M uniform pairs", &nyc, &all);
    g.bench_function("query-1M/nycmesh/uniform-pairs", |b| {
        b.iter(|| black_box(run(&nyc, &all)))
    });

    let n = 10_000;
    g.bench_function("setup/rgg-10k", |b| b.iter(|| black_box(generated(n))));
    let big = generated(n);
    eprintln!(
        "rgg-10k after setup: routers {}, memory ~{:.1} MiB",
        big.router_count(),
        big.memory_bytes() as f64 / (1 << 20) as f64
    );
    // Sources within what the cache holds: the steady state of queries
    // from a working set of routers.
    let working = pairs(big.mesh_hosts(), 512, QUERIES, 2);
    report("rgg-10k 1M pairs from 512 sources", &big, &working);
    g.bench_function("query-1M/rgg-10k/512-sources", |b| {
        b.iter(|| black_box(run(&big, &working)))
    });
    // Uniform sources over 10^4 routers mostly miss the cache: measure 10^3
    // queries and the cost of one shortest-path tree.
    let cold = pairs(big.mesh_hosts(), usize::MAX, 1_000, 3);
    g.bench_function("query-1k/rgg-10k/uniform-pairs", |b| {
        b.iter(|| black_box(run(&big, &cold)))
    });
    report("rgg-10k after uniform queries", &big, &cold);
    g.bench_function("tree/rgg-10k/one-source-cold", |b| {
        let cfg = MeshConfig {
            cache_bytes_max: 0,
            ..MeshConfig::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let side = 20_000.0;
        let r = generate::radius_for_degree(n, side, 8.0);
        let mut gr = generate::random_geometric(n, side, r, LinkKind::Wifi, &mut rng).unwrap();
        gr.keep_largest_component();
        let t = MeshTopology::new(gr, &cfg).unwrap();
        let hosts = t.mesh_hosts() as u32;
        let mut out = Vec::new();
        let mut k = 0u32;
        // Cache of one tree, alternating sources: every query computes a tree.
        b.iter(|| {
            k = (k + 7_919) % hosts;
            t.route(k, hosts - 1 - k, &mut out).unwrap();
            black_box(out.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
