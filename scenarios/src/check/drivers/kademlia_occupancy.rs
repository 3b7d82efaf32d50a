//! `kademlia-occupancy`: routing-table occupancy against the binomial
//! expectation for random ids.
//!
//! With N random ids of `bits` bits, the number of other nodes in bucket i
//! of a node (those whose XOR distance to it has its highest bit at i) is
//! Xᵢ ~ Binomial(N − 1, 2^(i − bits)); a table that knows every node holds
//! min(Xᵢ, k) of them. So, per node,
//! E[non-empty buckets] = Σ P(Xᵢ > 0), E[full buckets] = Σ P(Xᵢ ≥ k) and
//! E[contacts] = Σ E[min(Xᵢ, k)].
//!
//! The tables measured (`tables`) are either filled from full knowledge
//! (`full-knowledge`: k random members of each bucket's range, from the
//! first `known_fraction` of the nodes) or built by the protocol's joins
//! (`joined`: one node every 100 ms through one random earlier node, then a
//! minute to settle; the crate's default configuration with `k`, `bits`
//! and `refresh_on_join`). Each of `networks` independent networks (its
//! own ids) gives one per-node average of each measure; the points are the
//! means over networks with their standard error across networks (the
//! nodes of one network share its ids and are not independent). The
//! expected values depend on N, `bits` and `k` only.
//!
//! Seeds: network r uses seed `seed · 10^6 + r` for its ids (and its
//! joins), and that plus 500 for the full-knowledge draws.

use crate::check::{CheckError, Measurement, Params, Point, mean_se};
use kademlia::harness::Harness;
use kademlia::table::RoutingTable;
use kademlia::warm::SortedIds;
use kademlia::{Config, IdTable, Observe};
use rand::SeedableRng;
use sim_core::rng::NodeRng;
use sim_core::{Duration, NodeId, SimpleNet, Time};

const KEYS: &[&str] = &[
    "n",
    "bits",
    "k",
    "networks",
    "seed",
    "tables",
    "known_fraction",
    "refresh_on_join",
];

/// ln C(n, j).
fn ln_choose(n: u64, j: u64) -> f64 {
    (1..=j).map(|t| ((n - j + t) as f64 / t as f64).ln()).sum()
}

/// Per node, (E[non-empty buckets], E[full buckets], E[contacts]) of a
/// table that knows all of `n` nodes with random ids of `bits` bits.
pub fn expected(n: u64, bits: u16, k: u64) -> [f64; 3] {
    let m = n.saturating_sub(1);
    let (mut ne, mut full, mut total) = (0.0, 0.0, 0.0);
    for i in 0..i32::from(bits) {
        let p = 2f64.powi(i - i32::from(bits));
        let ln_q = (-p).ln_1p();
        let pmf = |j: u64| (ln_choose(m, j) + j as f64 * p.ln() + (m - j) as f64 * ln_q).exp();
        let mut below_k = 0.0; // P(X < k)
        let mut mean_below = 0.0; // E[X; X < k]
        for j in 0..k.min(m + 1) {
            let pj = pmf(j);
            below_k += pj;
            mean_below += j as f64 * pj;
        }
        ne += 1.0 - pmf(0);
        full += 1.0 - below_k;
        total += mean_below + k as f64 * (1.0 - below_k);
    }
    [ne, full, total]
}

/// Per-node averages of (non-empty, full, contacts) over `tables`.
fn averages<'a>(tables: impl Iterator<Item = &'a RoutingTable>) -> [f64; 3] {
    let mut sum = [0.0; 3];
    let mut count = 0usize;
    for t in tables {
        let o = t.occupancy();
        sum[0] += o.non_empty as f64;
        sum[1] += o.full as f64;
        sum[2] += o.contacts as f64;
        count += 1;
    }
    sum.map(|s| s / count.max(1) as f64)
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

/// The measurement.
pub fn run(p: &Params) -> Result<Measurement, CheckError> {
    p.only(KEYS)?;
    let n = p.u64("n", 1000)?;
    let bits = p.u64("bits", 160)?;
    let k = p.u64("k", 20)?;
    let networks = p.u64("networks", 20)?;
    let seed = p.u64("seed", 1)?;
    let tables = p.str("tables", "full-knowledge")?;
    let known = p.f64("known_fraction", 1.0)?;
    let refresh_on_join = p.bool("refresh_on_join", true)?;
    if !(2..=1 << 20).contains(&n) {
        return Err(CheckError::param("n", "expected 2 to 2^20 nodes"));
    }
    if !(2..=1000).contains(&networks) {
        return Err(CheckError::param(
            "networks",
            "2 to 1000 (the standard error is across networks)",
        ));
    }
    if !(known > 0.0 && known <= 1.0) {
        return Err(CheckError::param("known_fraction", "expected (0, 1]"));
    }
    let joined = match tables.as_str() {
        "full-knowledge" => {
            if p.keys().any(|k| k == "refresh_on_join") {
                return Err(CheckError::param(
                    "refresh_on_join",
                    "only with tables = \"joined\"",
                ));
            }
            false
        }
        "joined" => {
            if known != 1.0 {
                return Err(CheckError::param(
                    "known_fraction",
                    "only with tables = \"full-knowledge\"",
                ));
            }
            true
        }
        other => {
            return Err(CheckError::param(
                "tables",
                format!("{other:?}: expected \"full-knowledge\" or \"joined\""),
            ));
        }
    };
    let cfg = Config {
        key_bits: u16::try_from(bits).unwrap_or(0),
        k: k as usize,
        replication: (k as usize).min(Config::default().replication),
        refresh_on_join,
        ..Config::default()
    };
    cfg.validate()
        .map_err(|e| CheckError(format!("parameters `bits`, `k`: {e}")))?;

    let mut rows: Vec<[f64; 3]> = Vec::new();
    for r in 0..networks {
        let s = seed * 1_000_000 + r;
        let row = if joined {
            let mut h = Harness::new(n as usize, cfg.clone(), s, internet());
            h.set_observe(Observe {
                oracle: false,
                keep_events: false,
                rows: false,
            });
            h.join_all(Duration::from_millis(100), 1);
            h.run_for(Duration(Duration::from_millis(100).0 * n) + Duration::from_secs(60));
            averages((0..n as u32).map(|i| h.sim.node(NodeId(i)).kad.table()))
        } else {
            let ids = IdTable::random(n as usize, cfg.key_bits, &mut NodeRng::seed_from_u64(s));
            let known_count = ((n as f64 * known).round() as u32).max(1);
            let members = SortedIds::new(&ids, (0..known_count).map(NodeId));
            let mut rng = NodeRng::seed_from_u64(s + 500);
            let filled: Vec<RoutingTable> = (0..n as u32)
                .map(|i| {
                    let id = *ids.id(NodeId(i));
                    let mut t = RoutingTable::new(id, cfg.k, 0, cfg.stale_failures_max);
                    members.fill(&mut t, &id, &mut rng, Time::ZERO);
                    t
                })
                .collect();
            averages(filled.iter())
        };
        rows.push(row);
    }
    let want = expected(n, cfg.key_bits, k);
    let names = ["non-empty buckets", "full buckets", "contacts"];
    let points = (0..3)
        .map(|c| {
            let (m, se) = mean_se(&rows.iter().map(|r| r[c]).collect::<Vec<_>>());
            Point::analytic(format!("{} per node", names[c]), m, se, want[c])
        })
        .collect();
    let what = if joined {
        format!("built by joins (refresh_on_join = {refresh_on_join})")
    } else {
        format!("filled from full knowledge of {known} of the nodes")
    };
    Ok(Measurement {
        points,
        axes: None,
        curve: Vec::new(),
        note: format!("{networks} networks of {n} nodes, {bits}-bit ids, k = {k}; tables {what}."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: [f64; 3], b: [f64; 3]) -> bool {
        a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn the_expectation_by_hand() {
        // Two nodes, 2-bit ids, k = 1: the other node is in bucket 1 (the
        // top bit differs) with probability 1/2 and in bucket 0 with
        // probability 1/4: non-empty = full = contacts = 1/2 + 1/4.
        assert!(close(expected(2, 2, 1), [0.75, 0.75, 0.75]));
        // Three nodes, 1-bit ids: X₀ ~ B(2, 1/2). k = 1: P(X > 0) = 3/4,
        // P(X ≥ 1) = 3/4, E[min(X, 1)] = 3/4. k = 2: P(X ≥ 2) = 1/4,
        // E[min(X, 2)] = E[X] = 1.
        assert!(close(expected(3, 1, 1), [0.75, 0.75, 0.75]));
        assert!(close(expected(3, 1, 2), [0.75, 0.25, 1.0]));
        // With k ≥ N − 1 no bucket caps: contacts = (N − 1)(1 − 2^−bits).
        let [_, _, c] = expected(10, 8, 20);
        assert!((c - 9.0 * (1.0 - 1.0 / 256.0)).abs() < 1e-9);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let p = |s: &str| Params::new(toml::from_str(s).unwrap());
        assert!(run(&p("tables = \"warm\"")).is_err());
        assert!(run(&p("known_fraction = 0")).is_err());
        assert!(run(&p("networks = 1")).is_err());
        assert!(run(&p("tables = \"joined\"\nknown_fraction = 0.5")).is_err());
        assert!(run(&p("refresh_on_join = false")).is_err());
        assert!(run(&p("bits = 33")).is_err());
        assert!(run(&p("nodes = 10")).is_err());
    }

    #[test]
    fn full_knowledge_at_another_width_and_k_agrees() {
        // The case runs 160-bit ids with k = 20; the expectation holds for
        // any width and bucket size: 64-bit ids, k = 8.
        let m = run(&Params::new(
            toml::from_str("n = 1000\nbits = 64\nk = 8\nnetworks = 20").unwrap(),
        ))
        .unwrap();
        assert!(m.agrees(4.0), "{m:?}");
    }
}
