//! `kademlia-hops`: lookup hops grow with log2 N over tables built by joins
//! as over tables filled from full knowledge.
//!
//! Hops of a lookup are the depth at which it learned the closest node it
//! returns (routing-table and bootstrap contacts are depth 0). For each N
//! of `log2_n` and each of `networks` independent networks of N random
//! ids, the same `lookups` (origin, key) pairs run twice on the same ids:
//! over tables built by joins (one node every 100 ms through one random
//! earlier node, then a minute to settle) with the configuration under
//! test (`bucket_spread`, `join_refresh_targets`; the crate's defaults
//! otherwise), and over tables filled from full knowledge (k random
//! contacts per bucket, the paper's bucket rule so that the measured
//! lookups do not change them). The paired difference, joined − full
//! knowledge, is averaged over the lookups of each network.
//!
//! The compared point is the slope of that mean difference on log2 N. A
//! set of networks, one per N, gives one least-squares slope; the
//! `networks` sets are independent (every network has its own seed), so
//! the point is the mean of their slopes with the standard error across
//! sets: network-to-network variance is in it, and no lookup is counted as
//! an independent draw of "a network of size N". Expected: 0 (the two kinds
//! of tables route with the same growth in log2 N).
//!
//! Seeds: the network `r` of 2^e nodes uses seed
//! `seed · 10^6 + e · 1000 + r` for its ids and both runs, and that plus
//! 500 for its lookups.

use crate::check::{CheckError, Measurement, Params, Point, mean_se};
use kademlia::harness::Harness;
use kademlia::{Command, Config, Key, Observe};
use rand::{RngExt, SeedableRng};
use sim_core::rng::NodeRng;
use sim_core::{Duration, NodeId, SimpleNet};

const KEYS: &[&str] = &[
    "log2_n",
    "networks",
    "lookups",
    "seed",
    "bucket_spread",
    "join_refresh_targets",
];

/// Least-squares slope of `means` (one per x, with standard errors) on
/// `x`, and its standard error: the slope is Σ cᵢ ȳᵢ with
/// cᵢ = (xᵢ − x̄)/Σ(xⱼ − x̄)², so, the ȳᵢ being independent, its variance
/// is Σ cᵢ² seᵢ².
pub fn slope_se(x: &[f64], means: &[(f64, f64)]) -> (f64, f64) {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|v| (v - mx) * (v - mx)).sum();
    let c: Vec<f64> = x.iter().map(|v| (v - mx) / sxx).collect();
    let slope = c.iter().zip(means).map(|(c, m)| c * m.0).sum();
    let var: f64 = c.iter().zip(means).map(|(c, m)| c * c * m.1 * m.1).sum();
    (slope, var.sqrt())
}

/// Mean of `a − b` over the pairs where both lookups returned a result,
/// and the number of pairs left out.
pub fn paired_mean(a: &[Option<u8>], b: &[Option<u8>]) -> (f64, usize) {
    let mut sum = 0.0;
    let mut used = 0usize;
    for (x, y) in a.iter().zip(b) {
        if let (Some(x), Some(y)) = (x, y) {
            sum += f64::from(*x) - f64::from(*y);
            used += 1;
        }
    }
    let mean = if used > 0 {
        sum / used as f64
    } else {
        f64::INFINITY
    };
    (mean, a.len().max(b.len()) - used)
}

/// One-way latency uniform in 10–150 ms (internet-like round trips).
fn internet() -> SimpleNet {
    SimpleNet::uniform(
        Duration::from_millis(10),
        Duration::from_millis(150),
        "10Mbit/s".parse().expect("rate"),
    )
    .expect("latency range")
}

/// Events kept for the measured lookups only (no oracle, no rows).
fn quiet(h: &mut Harness) {
    h.set_observe(Observe {
        oracle: false,
        keep_events: true,
        rows: false,
    });
}

/// Hops of each lookup, issued one every 5 ms, in issue order (None: it
/// did not finish within 30 s after the last, or found nothing).
fn hops_of(h: &mut Harness, lookups: &[(NodeId, Key)]) -> Vec<Option<u8>> {
    let mut tags = Vec::with_capacity(lookups.len());
    for &(from, key) in lookups {
        let tag = h.tag();
        tags.push((from, tag));
        h.command(from, Command::FindClosest { tag, key });
        h.run_for(Duration::from_millis(5));
    }
    h.run_for(Duration::from_secs(30));
    tags.iter()
        .map(|&(from, tag)| {
            let evs = &mut h.sim.node_mut(from).events;
            let p = evs.iter().position(|c| c.event.tag == tag)?;
            evs.swap_remove(p).event.report.hops
        })
        .collect()
}

/// Mean hops of the lookups that returned a result.
fn mean_hops(h: &[Option<u8>]) -> f64 {
    let v: Vec<f64> = h.iter().flatten().map(|&x| f64::from(x)).collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// `count` (origin, key) pairs from their own stream.
fn random_lookups(n: usize, count: usize, bits: u16, seed: u64) -> Vec<(NodeId, Key)> {
    let mut r = NodeRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            (
                NodeId(r.random_range(0..n as u32)),
                Key::random(bits, &mut r),
            )
        })
        .collect()
}

/// An integer or a list of integers.
fn one_or_list(p: &Params, key: &str, default: u64) -> Result<Vec<u64>, CheckError> {
    p.u64s(key, &[default])
        .or_else(|_| p.u64(key, default).map(|v| vec![v]))
}

/// `values` for each of `len` values of N: one value for all, or one each.
fn per_n(values: Vec<u64>, len: usize, key: &str) -> Result<Vec<u64>, CheckError> {
    match values.len() {
        1 => Ok(vec![values[0]; len]),
        l if l == len => Ok(values),
        _ => Err(CheckError::param(
            key,
            "one value for every N, or one per value of `log2_n`",
        )),
    }
}

/// The measurement.
pub fn run(p: &Params) -> Result<Measurement, CheckError> {
    p.only(KEYS)?;
    let exps = p.u64s("log2_n", &[8, 9, 10])?;
    let networks = one_or_list(p, "networks", 4)?;
    let lookups = one_or_list(p, "lookups", 2000)?;
    let seed = p.u64("seed", 1)?;
    // The crate's defaults unless the case sets them.
    let defaults = Config::default();
    let spread = p.bool("bucket_spread", defaults.bucket_spread)?;
    let targets = p.u64("join_refresh_targets", defaults.join_refresh_targets as u64)? as usize;
    if exps.len() < 2 || exps.iter().any(|&e| !(4..=20).contains(&e)) {
        return Err(CheckError::param(
            "log2_n",
            "expected at least two values in 4..=20",
        ));
    }
    let mut sorted = exps.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != exps.len() {
        return Err(CheckError::param("log2_n", "values must be distinct"));
    }
    let networks = per_n(networks, exps.len(), "networks")?;
    let lookups = per_n(lookups, exps.len(), "lookups")?;
    if networks.iter().any(|&c| !(2..=1000).contains(&c)) {
        return Err(CheckError::param(
            "networks",
            "2 to 1000 per N (the standard error is across networks)",
        ));
    }
    if lookups.contains(&0) {
        return Err(CheckError::param("lookups", "at least 1 per network"));
    }
    let joined_cfg = Config {
        bucket_spread: spread,
        join_refresh_targets: targets,
        ..Config::default()
    };
    joined_cfg
        .validate()
        .map_err(|e| CheckError(format!("joined tables' configuration: {e}")))?;
    let reference_cfg = Config {
        bucket_spread: false,
        ..Config::default()
    };

    // Per N: per network, mean hops joined, full knowledge, and the mean
    // paired difference.
    let mut per_n: Vec<[Vec<f64>; 3]> = Vec::new();
    let mut left_out = 0usize;
    for ((&e, &count), &lookups) in exps.iter().zip(&networks).zip(&lookups) {
        let n = 1usize << e;
        let mut cols: [Vec<f64>; 3] = Default::default();
        for r in 0..count {
            let s = seed * 1_000_000 + e * 1000 + r;
            let pairs = random_lookups(n, lookups as usize, joined_cfg.key_bits, s + 500);

            let mut hj = Harness::new(n, joined_cfg.clone(), s, internet());
            quiet(&mut hj);
            hj.join_all(Duration::from_millis(100), 1);
            hj.run_for(Duration(Duration::from_millis(100).0 * n as u64) + Duration::from_secs(60));
            let pj = hops_of(&mut hj, &pairs);
            drop(hj);

            let mut hw = Harness::new(n, reference_cfg.clone(), s, internet());
            quiet(&mut hw);
            hw.warm_start();
            hw.run_for(Duration::from_secs(1));
            let pw = hops_of(&mut hw, &pairs);
            drop(hw);

            let (d, out) = paired_mean(&pj, &pw);
            left_out += out;
            cols[0].push(mean_hops(&pj));
            cols[1].push(mean_hops(&pw));
            cols[2].push(d);
        }
        per_n.push(cols);
    }
    let x: Vec<f64> = exps.iter().map(|&e| e as f64).collect();
    let column = |c: usize| -> Vec<(f64, f64)> { per_n.iter().map(|m| mean_se(&m[c])).collect() };
    let (joined, full, diff) = (column(0), column(1), column(2));
    let (d, se) = slope_se(&x, &diff);
    let (sj, sej) = slope_se(&x, &joined);
    let (sw, sew) = slope_se(&x, &full);
    let table: Vec<String> = exps
        .iter()
        .enumerate()
        .map(|(i, e)| {
            format!(
                "2^{e}: {:.3} / {:.3} ({:+.3} ± {:.3})",
                joined[i].0, full[i].0, diff[i].0, diff[i].1
            )
        })
        .collect();
    let list = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join("/");
    let note = format!(
        "{} networks per N, {} lookups each; joined tables with bucket_spread = \
         {spread}, join_refresh_targets = {targets}. Slope of hops on log2 N: joined {sj:.4} ± \
         {sej:.4}, full knowledge {sw:.4} ± {sew:.4}. Mean hops joined / full knowledge \
         (paired difference ± SE): {}.{}",
        list(&networks),
        list(&lookups),
        table.join(", "),
        if left_out > 0 {
            format!(" {left_out} lookup pairs without a result left out.")
        } else {
            String::new()
        }
    );
    Ok(Measurement {
        points: vec![Point::analytic(
            "slope of joined − full-knowledge hops on log2 N",
            d,
            se,
            0.0,
        )],
        axes: None,
        curve: Vec::new(),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_and_its_error_by_hand() {
        let x = [8.0, 9.0, 10.0];
        // y = 2x + 1 exactly: slope 2; x̄ = 9, Sxx = 2, c = (−1/2, 0, 1/2),
        // SE = √(¼·0.1² + 0 + ¼·0.3²) = √0.025.
        let (b, se) = slope_se(&x, &[(17.0, 0.1), (19.0, 5.0), (21.0, 0.3)]);
        assert!((b - 2.0).abs() < 1e-12);
        assert!((se - 0.025f64.sqrt()).abs() < 1e-12);
        // (8, 0.1), (10, 0.4), (12, 0.4): x̄ = 10, Sxx = 8,
        // Sxy = (−2)(−0.2) + 0 + 2(0.1) = 0.6, slope 0.075; c = (−¼, 0, ¼),
        // SE with every se 0.2: √(2/16 · 0.04) = 0.05·√2.
        let (b, se) = slope_se(&[8.0, 10.0, 12.0], &[(0.1, 0.2), (0.4, 0.2), (0.4, 0.2)]);
        assert!((b - 0.075).abs() < 1e-12);
        assert!((se - 0.05 * 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn paired_mean_skips_missing_results() {
        let a = [Some(2), Some(1), None, Some(3)];
        let b = [Some(1), Some(1), Some(0), None];
        // Pairs used: (2, 1), (1, 1): mean 0.5; two left out.
        assert_eq!(paired_mean(&a, &b), (0.5, 2));
        assert_eq!(paired_mean(&[None], &[Some(1)]).0, f64::INFINITY);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let p = |s: &str| Params::new(toml::from_str(s).unwrap());
        assert!(run(&p("log2_n = [8]")).is_err());
        assert!(run(&p("log2_n = [8, 8]")).is_err());
        assert!(run(&p("networks = [1]")).is_err());
        assert!(run(&p("networks = [4, 4]")).is_err());
        assert!(run(&p("lookups = [0]")).is_err());
        assert!(run(&p("lookups = 0")).is_err());
        assert!(run(&p("lookups = \"many\"")).is_err());
        assert!(run(&p("join_refresh_target = 1")).is_err());
    }
}
