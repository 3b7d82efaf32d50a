//! Statistics and set-up shared by the integration tests.
#![allow(dead_code)]

use kademlia::harness::Harness;
use kademlia::{Config, Key};
use sim_core::{Duration, NodeId, SimpleNet};

/// One-way latency uniform in 10–150 ms (internet-like round trips of
/// 20–300 ms).
pub fn internet() -> SimpleNet {
    SimpleNet::uniform(
        Duration::from_millis(10),
        Duration::from_millis(150),
        "10Mbit/s".parse().unwrap(),
    )
    .unwrap()
}

/// Mean and standard error of the mean.
pub fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

/// Ordinary least squares of y on x: (slope, standard error of the slope,
/// intercept).
pub fn fit(points: &[(f64, f64)]) -> (f64, f64, f64) {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    let icpt = my - slope * mx;
    let rss: f64 = points
        .iter()
        .map(|p| (p.1 - icpt - slope * p.0).powi(2))
        .sum();
    let se = (rss / (n - 2.0) / sxx).sqrt();
    (slope, se, icpt)
}

/// `n` nodes joined one every 100 ms through one random earlier node, then
/// left to settle for a minute.
pub fn joined(n: usize, cfg: Config, seed: u64) -> Harness {
    let mut h = Harness::new(n, cfg, seed, internet());
    h.join_all(Duration::from_millis(100), 1);
    h.run_for(Duration(Duration::from_millis(100).0 * n as u64) + Duration::from_secs(60));
    h
}

/// `count` (origin, key) pairs drawn from a stream independent of the
/// network's (so that the same pairs can be replayed on another network of
/// the same size).
pub fn random_lookups(n: usize, count: usize, bits: u16, seed: u64) -> Vec<(NodeId, Key)> {
    use rand::{RngExt, SeedableRng};
    let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            (
                NodeId(r.random_range(0..n as u32)),
                Key::random(bits, &mut r),
            )
        })
        .collect()
}
