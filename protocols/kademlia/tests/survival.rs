//! Record survival without republish and without caching: if every node
//! survives an interval independently with probability ½, a record stored
//! on k nodes survives with probability 1 − 2^−k.
//!
//! Each record is put through the protocol on a network built by joins;
//! an oracle counts its holders (nodes whose store has it) and, after a
//! random half of the nodes crash (transiently: disks kept), the holders
//! that are still up.

mod common;

use common::joined;
use kademlia::harness::Harness;
use kademlia::{Command, Config, Key, Outcome};
use rand::RngExt;
use sim_core::{Duration, NodeId, Stop};

const NODES: usize = 256;
const RECORDS: usize = 64;
const TRIALS: usize = 20;

fn cfg(k: usize, replication: usize) -> Config {
    Config {
        k,
        replication,
        republish_interval: None,
        original_republish_interval: None,
        cache_on_path: false,
        ..Config::default()
    }
}

/// Put `RECORDS` records, then run `TRIALS` crash trials; returns the
/// surviving records of each trial and the holders per record.
fn measure(k: usize, replication: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut h = joined(NODES, cfg(k, replication), seed);
    let mut keys = Vec::new();
    for _ in 0..RECORDS {
        let key = h.random_key();
        let from = h.random_node();
        let tag = h.tag();
        h.command(from, Command::Put { tag, key, len: 100 });
        let done = h.wait_for(from, tag).expect("put finishes");
        assert!(matches!(done.event.outcome, Outcome::Stored(n) if n as usize == replication));
        keys.push(key);
    }
    let holders: Vec<Vec<NodeId>> = keys.iter().map(|k| holders_of(&h, k)).collect();
    let counts = holders.iter().map(|v| v.len()).collect();
    let mut per_trial = Vec::new();
    for _ in 0..TRIALS {
        let mut alive = 0;
        let now = h.sim.now();
        let mut crashed = Vec::new();
        for i in 0..NODES as u32 {
            if h.rng().random_bool(0.5) {
                crashed.push(NodeId(i));
                h.sim
                    .stop_at(NodeId(i), now + Duration::from_secs(1), Stop::Transient)
                    .unwrap();
            }
        }
        h.run_for(Duration::from_secs(2));
        for (key, hs) in keys.iter().zip(&holders) {
            let up = |n: &NodeId| h.sim.is_up(*n) && h.sim.node(*n).kad.store().get(key).is_some();
            if hs.iter().any(up) {
                alive += 1;
            }
        }
        per_trial.push(alive);
        let now = h.sim.now();
        for n in crashed {
            h.sim.start_at(n, now).unwrap();
        }
        h.run_for(Duration::from_secs(10));
    }
    (per_trial, counts)
}

fn holders_of(h: &Harness, key: &Key) -> Vec<NodeId> {
    (0..NODES as u32)
        .map(NodeId)
        .filter(|&n| h.sim.node(n).kad.store().get(key).is_some())
        .collect()
}

/// The check: for every k, the surviving fraction is within 4 standard
/// errors of 1 − 2^−k. Records of one trial share the crash pattern, so
/// the standard error is the larger of the binomial one and the one from
/// the spread of the per-trial fractions.
fn survives_as_theory(results: &[(usize, Vec<usize>)]) -> bool {
    results.iter().all(|(k, per_trial)| {
        let k = *k;
        let alive: usize = per_trial.iter().sum();
        let total = per_trial.len() * RECORDS;
        let p = 1.0 - 0.5f64.powi(k as i32);
        let fr: Vec<f64> = per_trial
            .iter()
            .map(|&a| a as f64 / RECORDS as f64)
            .collect();
        let (_, cluster_se) = common::mean_se(&fr);
        let se = (p * (1.0 - p) / total as f64).sqrt().max(cluster_se);
        let got = alive as f64 / total as f64;
        let ok = (got - p).abs() <= 4.0 * se;
        println!(
            "  k={k}: {alive}/{total} = {got:.4}, expected {p:.4} ± {:.4} (4 SE): {ok}",
            4.0 * se
        );
        ok
    })
}

#[test]
fn a_record_on_k_nodes_survives_half_the_nodes_with_probability_1_minus_2_pow_minus_k() {
    let mut real = Vec::new();
    for k in 1..=8 {
        let (per_trial, holders) = measure(k, k, 40 + k as u64);
        assert!(
            holders.iter().all(|&c| c == k),
            "k={k}: holders {holders:?}"
        );
        println!("k={k} per trial: {per_trial:?}");
        real.push((k, per_trial));
    }
    println!("replication k:");
    assert!(survives_as_theory(&real));

    // Negative control: records stored on ceil(k/2) nodes only.
    // (k = 1..4 suffice: the check fails from k = 2 on.)
    let mut control = Vec::new();
    for k in 1..=4 {
        let (per_trial, _) = measure(k, k.div_ceil(2), 40 + k as u64);
        control.push((k, per_trial));
    }
    println!("control (ceil(k/2) copies):");
    assert!(!survives_as_theory(&control));
}
