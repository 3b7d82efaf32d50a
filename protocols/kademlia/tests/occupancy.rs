//! Routing-table occupancy against the analytic expectation for random ids,
//! and the occupancy reached by joins.
//!
//! With N random ids of `bits` bits, the number of other nodes in bucket i
//! of a node is X_i ~ Binomial(N − 1, 2^(i − bits)); a table filled from
//! full knowledge holds min(X_i, k) of them. So
//! E[non-empty] = Σ P(X_i > 0), E[full] = Σ P(X_i ≥ k) and
//! E[contacts] = Σ E[min(X_i, k)].

mod common;

use common::{joined, mean_se};
use kademlia::harness::Harness;
use kademlia::warm::SortedIds;
use kademlia::{Config, IdTable};
use rand::SeedableRng;
use sim_core::{NodeId, Time};

/// ln C(n, j).
fn ln_choose(n: u64, j: u64) -> f64 {
    (1..=j).map(|t| ((n - j + t) as f64 / t as f64).ln()).sum()
}

/// (E[non-empty], E[full], E[contacts]) for `n` nodes.
fn expected(n: u64, bits: u16, k: u64) -> (f64, f64, f64) {
    let m = n - 1;
    let (mut ne, mut full, mut total) = (0.0, 0.0, 0.0);
    for i in 0..bits as i32 {
        let p = 2f64.powi(i - bits as i32);
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
    (ne, full, total)
}

/// Per-node (non-empty, full, contacts) of tables filled from `members`.
fn warm_counts(ids: &IdTable, members: &SortedIds, k: usize, seed: u64) -> Vec<[f64; 3]> {
    let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..ids.len() as u32)
        .map(|i| {
            let id = *ids.id(NodeId(i));
            let mut t = kademlia::table::RoutingTable::new(id, k, 0, 5);
            members.fill(&mut t, &id, &mut r, Time::ZERO);
            let o = t.occupancy();
            [o.non_empty as f64, o.full as f64, o.contacts as f64]
        })
        .collect()
}

/// The check: each mean within 4 standard errors of its expectation.
/// `reps` holds one averaged row per independent id set (nodes of one id
/// set are correlated, id sets are not).
fn matches_theory(reps: &[[f64; 3]], want: (f64, f64, f64)) -> bool {
    let want = [want.0, want.1, want.2];
    (0..3).all(|c| {
        let xs: Vec<f64> = reps.iter().map(|r| r[c]).collect();
        let (m, se) = mean_se(&xs);
        println!(
            "  measure {c}: mean {m:.3} ± {se:.3}, expected {:.3}",
            want[c]
        );
        (m - want[c]).abs() <= 4.0 * se.max(1e-9)
    })
}

/// Per-id-set averages over `reps` independent id sets of `n` nodes;
/// `known` is the fraction of nodes the tables are filled from.
fn replicates(n: usize, bits: u16, k: usize, reps: u64, known_half: bool) -> Vec<[f64; 3]> {
    (0..reps)
        .map(|rep| {
            let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1000 + rep);
            let ids = IdTable::random(n, bits, &mut r);
            let members = if known_half {
                SortedIds::new(&ids, (0..n as u32 / 2).map(NodeId))
            } else {
                SortedIds::all(&ids)
            };
            let counts = warm_counts(&ids, &members, k, 2000 + rep);
            let mut avg = [0.0; 3];
            for c in &counts {
                for j in 0..3 {
                    avg[j] += c[j] / counts.len() as f64;
                }
            }
            avg
        })
        .collect()
}

#[test]
fn full_knowledge_tables_match_the_binomial_expectation() {
    let (n, bits, k) = (1_000usize, 160u16, 20usize);
    let want = expected(n as u64, bits, k as u64);
    println!(
        "N={n}: expected non-empty {:.3}, full {:.3}, contacts {:.3}",
        want.0, want.1, want.2
    );
    assert!(matches_theory(&replicates(n, bits, k, 40, false), want));
    // The same at a 64-bit width and k = 8.
    let want64 = expected(n as u64, 64, 8);
    println!("N={n}, 64 bits, k=8: expected {want64:.3?}");
    assert!(matches_theory(&replicates(n, 64, 8, 40, false), want64));

    // Negative control: tables filled from half of the nodes.
    println!("control (half the nodes known):");
    assert!(!matches_theory(&replicates(n, bits, k, 40, true), want));
}

/// The check: joined tables hold at least 90 % of the full-knowledge count.
fn joins_reach_90_percent(joined_mean: f64, full_mean: f64) -> bool {
    joined_mean >= 0.9 * full_mean
}

fn mean_contacts(h: &Harness) -> f64 {
    let n = h.len();
    (0..n as u32)
        .map(|i| h.sim.node(NodeId(i)).kad.table().len() as f64)
        .sum::<f64>()
        / n as f64
}

#[test]
fn joined_tables_reach_90_percent_of_full_knowledge() {
    let n = 1_000;
    let h = joined(n, Config::default(), 31);
    let got = mean_contacts(&h);
    let all = SortedIds::all(&h.ids);
    let full: Vec<f64> = warm_counts(&h.ids, &all, 20, 32)
        .iter()
        .map(|c| c[2])
        .collect();
    let (full_mean, _) = mean_se(&full);
    println!(
        "N={n}: joined {got:.1} contacts per node, full knowledge {full_mean:.1} ({:.1} %)",
        100.0 * got / full_mean
    );
    assert!(joins_reach_90_percent(got, full_mean));

    // Negative control: joins by the self-lookup alone, without the
    // refresh of farther buckets.
    let cfg = Config {
        refresh_on_join: false,
        refresh_interval: None,
        ..Config::default()
    };
    let h = joined(n, cfg, 31);
    let got = mean_contacts(&h);
    println!(
        "control (self-lookup only, no refresh): {got:.1} contacts per node ({:.1} %)",
        100.0 * got / full_mean
    );
    assert!(!joins_reach_90_percent(got, full_mean));
}
