//! Bulk-flow model throughput: flow starts + ends per second in steady state.
//!
//! Each iteration completes the earliest flow and starts a new one at that
//! instant, so the number of concurrent flows stays constant; one iteration
//! is two changes (one end, one start), each re-filling the component it
//! touches.
//!
//! - `disjoint/N`: N concurrent flows between random pairs of 10 N nodes,
//!   each path being the sender's uplink and the receiver's downlink, so
//!   components are tiny; the cost per change should not grow with N.
//! - `shared_uplink/N`: N flows from one data center through its single
//!   uplink to N clients; every change re-rates all N flows.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use sim_core::net::{ComponentSize, FlowNet, LinkId};
use sim_core::units::{Bytes, Rate, Time};
use std::hint::black_box;

fn mbit(m: u64) -> Rate {
    Rate::new(m * 1_000_000).unwrap()
}

/// Steady state: complete the earliest flow, start a replacement at once.
struct Steady {
    net: FlowNet,
    rng: ChaCha8Rng,
    /// Path of each flow by id (ids are dense, in start order).
    paths: Vec<[LinkId; 2]>,
}

impl Steady {
    /// One end and one start; returns the components they re-filled.
    fn step(&mut self) -> [ComponentSize; 2] {
        let (t, _) = self.net.next_completion().expect("flows in progress");
        let (id, _) = self.net.complete(t).expect("completion at t");
        let end = self.net.last_component();
        // The replacement reuses the endpoints of the flow that ended, so
        // the population keeps its shape.
        let path = self.paths[id.0 as usize];
        let size = Bytes(self.rng.random_range(10_000..10_000_000));
        let new = self.net.start(t, &path, size, 0).unwrap();
        debug_assert_eq!(new.0 as usize, self.paths.len());
        self.paths.push(path);
        [end, self.net.last_component()]
    }
}

/// N flows between random pairs of `10 N` nodes; node i's uplink is link
/// 2i and its downlink 2i + 1; access rates 1-100 Mbit/s.
fn disjoint(n: usize) -> Steady {
    let nodes = 10 * n as u32;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let caps = (0..2 * nodes)
        .map(|_| mbit(rng.random_range(1..=100)))
        .collect();
    let mut net = FlowNet::new(caps);
    fn pick(rng: &mut ChaCha8Rng, nodes: u32) -> [LinkId; 2] {
        let from = rng.random_range(0..nodes);
        let mut to = rng.random_range(0..nodes - 1);
        if to >= from {
            to += 1;
        }
        [LinkId(2 * from), LinkId(2 * to + 1)]
    }
    let mut paths = Vec::with_capacity(n);
    for _ in 0..n {
        let p = pick(&mut rng, nodes);
        let size = Bytes(rng.random_range(10_000..10_000_000));
        net.start(Time::ZERO, &p, size, 0).unwrap();
        paths.push(p);
    }
    Steady { net, rng, paths }
}

/// N flows from a data center (uplink = link 0, 10 Gbit/s) to N clients
/// (client i's downlink = link i + 1, 100 Mbit/s): every flow's bottleneck
/// is the shared uplink (1 Mbit/s each).
fn shared_uplink(n: usize) -> Steady {
    let mut caps = vec![mbit(10_000)];
    caps.extend(std::iter::repeat_n(mbit(100), n));
    let mut net = FlowNet::new(caps);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut paths = Vec::with_capacity(n);
    for i in 0..n {
        let p = [LinkId(0), LinkId(i as u32 + 1)];
        let size = Bytes(rng.random_range(10_000..10_000_000));
        net.start(Time::ZERO, &p, size, 0).unwrap();
        paths.push(p);
    }
    Steady { net, rng, paths }
}

/// Mean component size (flows, links) re-filled per change over `steps`
/// steady-state steps: the work a change costs.
fn mean_component(s: &mut Steady, steps: u32) -> (f64, f64) {
    let (mut flows, mut links) = (0, 0);
    for _ in 0..steps {
        let [end, start] = s.step();
        flows += end.flows + start.flows;
        links += end.links + start.links;
    }
    let changes = f64::from(2 * steps);
    (flows as f64 / changes, links as f64 / changes)
}

fn flows(c: &mut Criterion) {
    let mut g = c.benchmark_group("flows");
    g.throughput(Throughput::Elements(2));
    for n in [1_000, 10_000, 100_000] {
        let (f, l) = mean_component(&mut disjoint(n), 2_000);
        eprintln!("disjoint/{n}: mean component per change: {f:.2} flows, {l:.2} links");
        let mut s = disjoint(n);
        g.bench_function(BenchmarkId::new("disjoint", n), |b| {
            b.iter(|| {
                s.step();
                black_box(s.net.flow_count())
            })
        });
        assert_eq!(s.net.flow_count(), n);
    }
    for n in [1_000, 10_000] {
        let (f, l) = mean_component(&mut shared_uplink(n), 20);
        eprintln!("shared_uplink/{n}: mean component per change: {f:.2} flows, {l:.2} links");
        let mut s = shared_uplink(n);
        g.bench_function(BenchmarkId::new("shared_uplink", n), |b| {
            b.iter(|| {
                s.step();
                black_box(s.net.flow_count())
            })
        });
        assert_eq!(s.net.flow_count(), n);
    }
    g.finish();
}

criterion_group!(benches, flows);
criterion_main!(benches);
