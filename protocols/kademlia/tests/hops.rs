//! Hops against log2 N: the depth at which a lookup learned the closest
//! node it returns (routing-table and bootstrap contacts are depth 0).
//!
//! For each N (2,000 lookups, fixed seeds) the same lookups (origin,
//! key) run on four networks with the same ids: tables built by joins with
//! the default configuration (spread buckets and 4 refresh lookups per
//! bucket, `Config::bucket_spread`, `Config::join_refresh_targets`; the
//! configuration under test), tables filled from full knowledge (the
//! reference model: k random contacts per bucket), and two negative
//! controls built by joins: the crippled configuration (the default with
//! k = 1, α = 1) and the paper's bucket rule and join (first k live nodes
//! heard from, one refresh lookup per bucket), whose buckets stay
//! clustered (see the crate docs).
//!
//! # The slope and its standard error
//! Lookups on one network are not independent draws of "a network of size
//! N": they share its routing tables. So the slope is not fitted to the
//! 2,000 points per N as if they were independent. Per N, the mean hops
//! and its standard error come from batch means (20 batches of 100
//! lookups in issue order); the slope is the weighted least-squares fit of
//! the per-N means on log2 N (weights 1/SE²), with standard error
//! `1/sqrt(Σ w (x - x̄)²)` (each N is a separate network, so the per-N means
//! are independent).
//!
//! Two configurations are compared on the *same* lookups, so the check is
//! on the paired difference: per lookup, hops(a) - hops(b); per N, the
//! batch mean of the differences and its SE; the slope of the per-N mean
//! differences and its SE as above. The slopes agree when that slope is
//! within 4 SE of zero.
//!
//! The default test uses N = 2^8 … 2^10; the requirement's range
//! 2^8 … 2^14 is `cargo test --release -p kademlia --test hops up_to_2_pow_14
//! -- --ignored` (about 6 min on one core). `KAD_HOPS_SEED` sets the base
//! of the seeds (default 100: the network of 2^e nodes uses seed 100 + e,
//! its lookups 107 + e).
//!
//! Measured over 2^8 … 2^14 with the default configuration (slope ± SE),
//! with the test's seeds (base 100) and with a base never used before
//! (`KAD_HOPS_SEED=7000`), to check that the configuration was not tuned
//! to the test's seeds; the test passes with both:
//!
//! | tables | slope, base 100 | paired difference to full knowledge, 4 SE | slope, base 7000 | paired difference, 4 SE |
//! |---|---|---|---|---|
//! | joined, default | 0.1641 ± 0.0021 | 0.0063 ± 0.0025, 0.0100 | 0.1583 ± 0.0018 | 0.0032 ± 0.0025, 0.0100 |
//! | full knowledge | 0.1579 ± 0.0017 | | 0.1583 ± 0.0022 | |
//! | paper's bucket rule (control) | 0.2459 ± 0.0025 | 0.0897 ± 0.0029, 0.0118 | 0.2435 ± 0.0022 | 0.0846 ± 0.0024, 0.0095 |
//! | crippled k = 1, α = 1 (control) | 0.4676 ± 0.0063 | 0.3124 ± 0.0065, 0.0259 | 0.5157 ± 0.0064 | 0.3540 ± 0.0060, 0.0239 |
//!
//! Mean hops per N, base 100 (joined / full knowledge): 2^8 0.595 / 0.625,
//! 2^10 0.881 / 0.918, 2^12 1.180 / 1.221, 2^14 1.577 / 1.571. Spread
//! joined tables route slightly better than full knowledge at small N (one
//! contact per sub-range covers a random key better than k random
//! contacts), and the difference shrinks with N; beyond 2^14 it is not
//! measured.
//!
//! With the default `Config::ops_max` (64), a joining node with more than
//! about 16 buckets to refresh cannot start all of their 4 lookups: the last ones,
//! those of its closest buckets, are rejected (`kad.ops_rejected`). This
//! happens from 2^9 nodes on and grows with N (base 100: 20 rejected
//! lookups at 2^10, 476 at 2^12, 7,884 at 2^14, about one per two nodes);
//! the figures above include it. Before the defaults changed, the same
//! configuration with `ops_max` and `refresh_lookups_max` 256 measured 0.1641 ±
//! 0.0019, paired difference 0.0041 ± 0.0025 (base 100).
//!
//! With 1 refresh lookup per bucket instead of 4 (spread buckets;
//! `KAD_JOIN_REFRESH_TARGETS=1` with the `report` driver) the slope was
//! 0.1798 with base 100 and 0.1799 ± 0.0021 with base 7000 (paired
//! difference 0.0234 ± 0.0029, 4 SE 0.0115): rejected with both; hence 4.

mod common;

use common::{internet, joined, random_lookups};
use kademlia::harness::Harness;
use kademlia::{Command, Config, Key};
use sim_core::{Duration, NodeId};

const LOOKUPS: usize = 2_000;
const BATCHES: usize = 20;

/// Hops of each of the `LOOKUPS` lookups, in issue order (None: no
/// result).
fn hops_of(h: &mut Harness, lookups: &[(NodeId, Key)]) -> Vec<Option<u8>> {
    let done = h.lookups_batch(lookups, Duration::from_millis(5), Duration::from_secs(30));
    assert_eq!(done.len(), lookups.len(), "all lookups finish");
    done.iter().map(|c| c.event.report.hops).collect()
}

/// Mean bits the closest routing-table contact of the origin shares with
/// the key (how well tables cover a random key; diagnostic).
fn table_prefix_bits(h: &mut Harness, lookups: &[(NodeId, Key)]) -> f64 {
    let ids = h.ids.clone();
    let mut v = Vec::new();
    let mut sum = 0u64;
    for (from, key) in lookups {
        h.sim
            .node_mut(*from)
            .kad
            .table()
            .closest(key, 1, &ids, None, &mut v);
        sum += v.first().map_or(0, |(d, _)| d.leading_zeros() as u64);
    }
    sum as f64 / lookups.len() as f64
}

/// The configuration under test: the default (spread buckets, whose join
/// refreshes each bucket with 4 lookups aimed at distinct quarters of its
/// sub-ranges; `KAD_JOIN_REFRESH_TARGETS` overrides the 4 for
/// measurements).
fn join_cfg() -> Config {
    let d = Config::default();
    let m: usize = std::env::var("KAD_JOIN_REFRESH_TARGETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d.join_refresh_targets);
    Config {
        join_refresh_targets: m,
        ..d
    }
}

/// The paper's bucket rule (the first k live nodes heard from stay) and
/// join (one refresh lookup per bucket).
fn paper_cfg() -> Config {
    Config {
        bucket_spread: false,
        join_refresh_targets: 1,
        ..Config::default()
    }
}

/// The reference: tables filled from full knowledge (k random contacts per
/// bucket), kept under the paper's rule so that the lookups measured on
/// them do not change them.
fn reference_cfg() -> Config {
    Config {
        bucket_spread: false,
        ..Config::default()
    }
}

/// Base of the seeds (`KAD_HOPS_SEED`, default 100): the network of 2^e
/// nodes uses seed `base + e`, its lookups `base + e + 7`.
fn seed_base() -> u64 {
    std::env::var("KAD_HOPS_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

fn crippled_cfg() -> Config {
    Config {
        k: 1,
        replication: 1,
        alpha: 1,
        ..Config::default()
    }
}

/// Per-lookup hops of the three configurations at one N (same lookups).
struct AtN {
    x: f64,
    joined: Vec<Option<u8>>,
    paper: Vec<Option<u8>>,
    warm: Vec<Option<u8>>,
    crippled: Vec<Option<u8>>,
}

fn measure(exps: &[u32]) -> Vec<AtN> {
    let mut out = Vec::new();
    for &e in exps {
        let n = 1usize << e;
        let seed = seed_base() + e as u64;
        let lookups = random_lookups(n, LOOKUPS, join_cfg().key_bits, seed + 7);
        let mut hj = joined(n, join_cfg(), seed);
        let rejected = hj.sim.metrics().counter("kad.ops_rejected");
        let joined_bits = table_prefix_bits(&mut hj, &lookups);
        let pj = hops_of(&mut hj, &lookups);
        drop(hj);
        let mut hp = joined(n, paper_cfg(), seed);
        let paper_bits = table_prefix_bits(&mut hp, &lookups);
        let pp = hops_of(&mut hp, &lookups);
        drop(hp);
        let mut hw = Harness::new(n, reference_cfg(), seed, internet());
        hw.warm_start();
        hw.run_for(Duration::from_secs(1));
        let warm_bits = table_prefix_bits(&mut hw, &lookups);
        let pw = hops_of(&mut hw, &lookups);
        drop(hw);
        let mut hc = joined(n, crippled_cfg(), seed);
        let pc = hops_of(&mut hc, &lookups);
        let m = |p: &[Option<u8>]| batch_mean_se(&values(p));
        let (mj, mp, mw, mc) = (m(&pj), m(&pp), m(&pw), m(&pc));
        println!(
            "N=2^{e}: mean hops joined {:.3} ± {:.3}, paper's bucket rule {:.3} ± {:.3}, \
             full knowledge {:.3} ± {:.3}, crippled {:.3} ± {:.3}; closest contact \
             shares {joined_bits:.2} bits with the key (joined), {paper_bits:.2} \
             (paper's rule), {warm_bits:.2} (full knowledge); {rejected} operations \
             rejected at ops_max during the joins",
            mj.0, mj.1, mp.0, mp.1, mw.0, mw.1, mc.0, mc.1
        );
        out.push(AtN {
            x: e as f64,
            joined: pj,
            paper: pp,
            warm: pw,
            crippled: pc,
        });
    }
    out
}

fn values(p: &[Option<u8>]) -> Vec<f64> {
    p.iter().map(|h| h.map_or(f64::NAN, |h| h as f64)).collect()
}

/// Mean and standard error from `BATCHES` batch means of consecutive
/// values (NaNs, lookups without a result, are skipped).
fn batch_mean_se(xs: &[f64]) -> (f64, f64) {
    let size = xs.len() / BATCHES;
    let means: Vec<f64> = (0..BATCHES)
        .map(|b| {
            let v: Vec<f64> = xs[b * size..(b + 1) * size]
                .iter()
                .copied()
                .filter(|x| !x.is_nan())
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        })
        .collect();
    common::mean_se(&means)
}

/// Weighted least squares of per-N means on log2 N: (slope, SE).
fn wls(points: &[(f64, (f64, f64))]) -> (f64, f64) {
    let w: Vec<f64> = points.iter().map(|p| 1.0 / (p.1.1 * p.1.1)).collect();
    let sw: f64 = w.iter().sum();
    let mx = points.iter().zip(&w).map(|(p, w)| w * p.0).sum::<f64>() / sw;
    let my = points.iter().zip(&w).map(|(p, w)| w * p.1.0).sum::<f64>() / sw;
    let sxx: f64 = points
        .iter()
        .zip(&w)
        .map(|(p, w)| w * (p.0 - mx).powi(2))
        .sum();
    let sxy: f64 = points
        .iter()
        .zip(&w)
        .map(|(p, w)| w * (p.0 - mx) * (p.1.0 - my))
        .sum();
    (sxy / sxx, 1.0 / sxx.sqrt())
}

/// Slope (and SE) of hops on log2 N for one configuration.
fn slope(runs: &[AtN], pick: fn(&AtN) -> &[Option<u8>]) -> (f64, f64) {
    let pts: Vec<_> = runs
        .iter()
        .map(|r| (r.x, batch_mean_se(&values(pick(r)))))
        .collect();
    wls(&pts)
}

/// Slope (and SE) of the paired difference a - b on log2 N.
fn slope_diff(
    runs: &[AtN],
    a: fn(&AtN) -> &[Option<u8>],
    b: fn(&AtN) -> &[Option<u8>],
) -> (f64, f64) {
    let pts: Vec<_> = runs
        .iter()
        .map(|r| {
            let d: Vec<f64> = a(r)
                .iter()
                .zip(b(r))
                .map(|(x, y)| match (x, y) {
                    (Some(x), Some(y)) => *x as f64 - *y as f64,
                    _ => f64::NAN,
                })
                .collect();
            (r.x, batch_mean_se(&d))
        })
        .collect();
    wls(&pts)
}

fn joined_hops(r: &AtN) -> &[Option<u8>] {
    &r.joined
}
fn paper_hops(r: &AtN) -> &[Option<u8>] {
    &r.paper
}
fn warm_hops(r: &AtN) -> &[Option<u8>] {
    &r.warm
}
fn crippled_hops(r: &AtN) -> &[Option<u8>] {
    &r.crippled
}

/// The check: the slopes of `a` and `b` agree, i.e. the slope of their
/// paired difference is within 4 standard errors of zero.
fn slopes_agree(runs: &[AtN], a: fn(&AtN) -> &[Option<u8>], b: fn(&AtN) -> &[Option<u8>]) -> bool {
    let (sa, sea) = slope(runs, a);
    let (sb, seb) = slope(runs, b);
    let (d, se) = slope_diff(runs, a, b);
    println!(
        "  slope {sa:.4} ± {sea:.4} vs {sb:.4} ± {seb:.4}: paired difference \
         {d:.4} ± {se:.4}, band {:.4}",
        4.0 * se
    );
    d.abs() <= 4.0 * se
}

/// The requirement: joined tables (spread buckets, the paper's join)
/// route like full knowledge; two negative controls are detected: the
/// crippled configuration (k = 1, α = 1, larger slope) and joined tables
/// with the paper's bucket rule (clustered buckets, larger slope).
fn check(runs: &[AtN]) {
    println!("joined (spread buckets) vs full knowledge:");
    assert!(slopes_agree(runs, joined_hops, warm_hops));
    println!("crippled (k=1, α=1) vs full knowledge (negative control):");
    assert!(!slopes_agree(runs, crippled_hops, warm_hops));
    assert!(slope_diff(runs, crippled_hops, warm_hops).0 > 0.0);
    println!("paper's bucket rule vs full knowledge (negative control):");
    assert!(!slopes_agree(runs, paper_hops, warm_hops));
    assert!(slope_diff(runs, paper_hops, warm_hops).0 > 0.0);
}

#[test]
fn joined_tables_route_like_full_knowledge_and_the_controls_are_detected() {
    check(&measure(&[8, 9, 10]));
}

/// The requirement's range of N.
#[test]
#[ignore = "N up to 2^14; run in release: cargo test --release -p kademlia --test hops -- --ignored"]
fn joined_tables_route_like_full_knowledge_up_to_2_pow_14() {
    check(&measure(&[8, 9, 10, 11, 12, 13, 14]));
}

/// Measurements only, over `KAD_HOPS_EXPS` (comma-separated log2 N).
#[test]
#[ignore = "measurement driver: KAD_HOPS_EXPS=12,13 cargo test --release -p kademlia --test hops report -- --ignored --nocapture"]
fn report() {
    let exps: Vec<u32> = std::env::var("KAD_HOPS_EXPS")
        .unwrap_or_else(|_| "8,9,10".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let runs = measure(&exps);
    if runs.len() >= 2 {
        for (name, f) in [
            ("joined", joined_hops as fn(&AtN) -> &[Option<u8>]),
            ("paper's rule", paper_hops),
            ("crippled", crippled_hops),
        ] {
            println!("{name} vs full knowledge:");
            slopes_agree(&runs, f, warm_hops);
        }
    }
}

/// Do joined tables converge with time? A joined network of 2^`KAD_EXP`
/// nodes (default 10) runs `KAD_TRAFFIC_HOURS` hours (default 2) of bucket
/// refresh (every hour, the default) and background lookups (one per node
/// every 10 minutes on average, to random keys); then the same lookups as
/// above run on it and on full-knowledge tables. Reports only. Tables use
/// the paper's rules with `KAD_BUCKET_SPREAD=0`, the default configuration
/// otherwise. Measured with the paper's rules at 2^10: the closest
/// contact shares 5.14 bits with a random key after the join, after 1 h
/// and after 2 h (6.58 with full knowledge); mean hops 1.215 ± 0.012
/// against 0.918 ± 0.009. With the default configuration: 7.03 bits after
/// the join, after 1 h and after 2 h; mean hops 0.878 ± 0.008.
#[test]
#[ignore = "experiment; cargo test --release -p kademlia --test hops traffic -- --ignored --nocapture"]
fn joined_tables_after_hours_of_traffic() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let e = env("KAD_EXP", 10) as u32;
    let hours = env("KAD_TRAFFIC_HOURS", 2);
    let n = 1usize << e;
    let seed = seed_base() + e as u64;
    let lookups = random_lookups(n, LOOKUPS, join_cfg().key_bits, seed + 7);
    let cfg = if std::env::var("KAD_BUCKET_SPREAD").is_ok_and(|v| v == "0") {
        paper_cfg()
    } else {
        join_cfg()
    };
    let mut hj = joined(n, cfg, seed);
    let gap = Duration(Duration::from_secs(600).0 / n as u64);
    for hour in 0..=hours {
        let bits = table_prefix_bits(&mut hj, &lookups);
        println!("after {hour} h of traffic: closest contact shares {bits:.2} bits with the key");
        if hour == hours {
            break;
        }
        let steps = Duration::from_secs(3600).0 / gap.0;
        for _ in 0..steps {
            let from = hj.random_node();
            let key = hj.random_key();
            let tag = hj.tag();
            hj.command(from, Command::FindClosest { tag, key });
            hj.run_for(gap);
            hj.sim.node_mut(from).events.clear();
        }
    }
    let pj = values(&hops_of(&mut hj, &lookups));
    let mut hw = Harness::new(n, reference_cfg(), seed, internet());
    hw.warm_start();
    hw.run_for(Duration::from_secs(1));
    let warm_bits = table_prefix_bits(&mut hw, &lookups);
    let pw = values(&hops_of(&mut hw, &lookups));
    let (mj, mw) = (batch_mean_se(&pj), batch_mean_se(&pw));
    println!(
        "N=2^{e} after {hours} h: mean hops joined {:.3} ± {:.3}, full knowledge {:.3} ± {:.3} \
         ({warm_bits:.2} bits)",
        mj.0, mj.1, mw.0, mw.1
    );
}
