//! `kademlia-survival`: a record stored on its r closest live nodes, without
//! republish, is still retrievable a time `wait` later with probability
//! `1 − (1 − e^{−wait/L})^r` when node lifetimes are exponential with mean
//! `L` (with `wait = L ln 2`, the classic `1 − 2^−r`).
//!
//! **Setting.** `nodes` nodes with routing tables from global knowledge
//! (warm start), all up at time zero. Failures come from the engine's churn
//! ([`Sim::set_churn`]): every node's up session is exponential with mean
//! `lifetime` and every failure is permanent (the disk is lost, no node
//! comes back, no newcomer joins), so a node alive at time t is still alive
//! at t + w with probability e^{−w/L}, independently of the others.
//! Records are neither republished (by holders or by the publisher) nor
//! cached along lookup paths.
//!
//! **Derivation.** A record is put at time t by a random live node: it is
//! stored on the r closest live nodes to its key other than the publisher
//! (checked against the oracle, [`kademlia::oracle::true_closest`], when the
//! put finishes). At t + w each holder is alive with probability
//! p = e^{−w/L}, independently, so at least one is with probability
//! 1 − (1 − p)^r. Because no node joins, the live holders are then still
//! closer to the key than every other live node, so a `Get` that reaches the
//! k ≥ r closest live nodes finds the record exactly when one of its holders
//! is alive: the retrieved fraction has that expectation.
//!
//! **Measured.** For each r, `networks` independent networks (ids, churn
//! streams, publishers and readers all from the network's seed), each with
//! `records` records put one every `gap` and read once, `wait` after their
//! put, by a random live node that does not hold them. The point per r is
//! the mean over networks of the retrieved fraction, with its standard error
//! across networks. A last point is the fraction of puts whose holders are
//! exactly the r closest live nodes, expected 1.
//!
//! Keep r well below the bucket size k = 20: the nodes near a key answer
//! with their k closest contacts, dead ones included (a contact is dropped
//! only after several failed RPCs), so when a quarter of the nodes have
//! failed the r-th closest live node may be in nobody's answer. With
//! r = 16, 1,024 nodes and records put up to 20 min into the run (up to
//! about 28 % of the nodes failed), about 1 % of the puts stored on fewer
//! than 16 nodes or missed a closer live node; with r ≤ 8 none did (1,200
//! puts at r = 8).
//!
//! **Control** (`placement = "random"`): the publisher sends its STORE
//! requests to r random live nodes instead of the r closest. Each copy fails
//! just as often, but the readers' lookups go to the key's neighbourhood and
//! miss the copies: retrieval collapses, and the holders are not the closest.

use crate::check::{CheckError, Measurement, Params, Point, mean_se};
use kademlia::message::{Request, Value};
use kademlia::oracle::true_closest;
use kademlia::warm::SortedIds;
use kademlia::{
    Command, Config, IdTable, KadMsg, KadNode, Kademlia, Key, Observe, Outcome, RpcTimeout,
};
use rand::RngExt;
use sim_core::churn::{Alternating, Dist, PermanentPolicy, Start};
use sim_core::prelude::*;
use sim_core::rng::{Purpose, node_rng};
use std::sync::Arc;

/// Probability that at least one of `r` copies survives `wait_s` seconds
/// when each holder, alive at the store, dies after an exponential time of
/// mean `lifetime_s` seconds, independently: `1 − (1 − e^{−wait/L})^r`.
pub fn survival(r: u32, wait_s: f64, lifetime_s: f64) -> f64 {
    let p = (-wait_s / lifetime_s).exp();
    1.0 - (1.0 - p).powi(r as i32)
}

/// Where the publisher stores a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// Through the protocol's `Put`: the r closest live nodes.
    Closest,
    /// STORE requests to r random live nodes (the control).
    Random,
}

struct Setup {
    nodes: usize,
    records: usize,
    lifetime: Duration,
    wait: Duration,
    gap: Duration,
    placement: Placement,
}

/// What one network gave: (records read, records retrieved, puts whose
/// holders were exactly the r closest live nodes, puts, reads that missed a
/// live holder).
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    read: usize,
    retrieved: usize,
    exact: usize,
    puts: usize,
    missed_live: usize,
    changed: usize,
}

/// The driver.
pub fn run(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "nodes",
        "records",
        "replication",
        "networks",
        "seed",
        "lifetime",
        "wait",
        "gap",
        "placement",
    ])?;
    let nodes = p.u64("nodes", 256)? as usize;
    let records = p.u64("records", 64)? as usize;
    let reps = p.u64s("replication", &[1, 2, 3, 4])?;
    let networks = p.u64("networks", 8)?;
    let seed = p.u64("seed", 1)?;
    let lifetime = p.duration("lifetime", Duration::from_secs(3600))?;
    let wait = p.duration("wait", Duration::from_secs(2495))?;
    let gap = p.duration("gap", Duration::from_secs(5))?;
    let placement = match p.str("placement", "closest")?.as_str() {
        "closest" => Placement::Closest,
        "random" => Placement::Random,
        other => {
            return Err(CheckError::param(
                "placement",
                format!("{other:?}: expected \"closest\" or \"random\""),
            ));
        }
    };
    if nodes < 32 {
        return Err(CheckError::param("nodes", "at least 32"));
    }
    if records == 0 {
        return Err(CheckError::param("records", "at least 1"));
    }
    if networks < 2 {
        return Err(CheckError::param(
            "networks",
            "at least 2 (the standard error is across networks)",
        ));
    }
    if lifetime.0 == 0 || wait.0 == 0 || gap.0 == 0 {
        return Err(CheckError(
            "parameters `lifetime`, `wait` and `gap` must be positive".into(),
        ));
    }
    if let Some(&r) = reps.iter().find(|&&r| r == 0 || r > 20) {
        return Err(CheckError::param(
            "replication",
            format!("{r}: expected 1 to 20 (the bucket size)"),
        ));
    }
    let setup = Setup {
        nodes,
        records,
        lifetime,
        wait,
        gap,
        placement,
    };
    let mut points = Vec::new();
    let mut exact_fr = Vec::new();
    let (mut reads, mut missed_live, mut puts, mut changed) = (0, 0, 0, 0);
    for &r in &reps {
        let mut fr = Vec::new();
        for j in 0..networks {
            let net_seed = seed
                .wrapping_mul(1_000_003)
                .wrapping_add(r * 1_000)
                .wrapping_add(j);
            let t = one_network(&setup, r as usize, net_seed)?;
            if t.read == 0 || t.puts == 0 {
                return Err(CheckError(format!(
                    "replication {r}, network {j}: no record was read"
                )));
            }
            fr.push(t.retrieved as f64 / t.read as f64);
            exact_fr.push(t.exact as f64 / t.puts as f64);
            reads += t.read;
            missed_live += t.missed_live;
            puts += t.puts;
            changed += t.changed;
        }
        let (m, se) = mean_se(&fr);
        let expected = survival(r as u32, wait.as_secs_f64(), lifetime.as_secs_f64());
        points.push(Point::analytic(format!("r={r}"), m, se, expected).at(r as f64));
    }
    let (m, se) = mean_se(&exact_fr);
    points.push(Point::analytic(
        "holders are the r closest live",
        m,
        se,
        1.0,
    ));
    Ok(Measurement {
        points,
        axes: Some((
            "replication r".into(),
            "fraction of records retrieved".into(),
        )),
        curve: Vec::new(),
        note: format!(
            "{nodes} warm-started nodes per network, exponential lifetimes of mean {lifetime}, \
             permanent failures from the engine's churn; {networks} networks per r, \
             {records} records each read {wait} after the put; {reads} reads, {missed_live} of \
             them missed a live holder; {puts} puts checked against the oracle ({changed} \
             more left out: one of the r closest failed during the put); placement \
             {placement:?}"
        ),
    })
}

fn bad<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> CheckError + '_ {
    move |e| CheckError(format!("{what}: {e}"))
}

/// One network: put `records` records with replication `r`, read each
/// `wait` later.
fn one_network(s: &Setup, r: usize, seed: u64) -> Result<Tally, CheckError> {
    let cfg = Arc::new(Config {
        replication: r,
        republish_interval: None,
        original_republish_interval: None,
        cache_on_path: false,
        ..Config::default()
    });
    cfg.validate().map_err(bad("kademlia config"))?;
    let net = SimpleNet::uniform(
        Duration::from_millis(10),
        Duration::from_millis(150),
        "10Mbit/s".parse().map_err(bad("network"))?,
    )
    .map_err(bad("network"))?;
    let mut sim: Sim<KadNode> = Sim::new(SimConfig::new(seed, net));
    let life = Dist::exponential(s.lifetime).map_err(bad("lifetime"))?;
    let churn = Alternating::new(life.clone(), life)
        .with_permanent(PermanentPolicy::probability_per_failure(1.0).map_err(bad("churn"))?)
        .with_start(Start::Fresh);
    sim.set_churn(churn).map_err(bad("churn"))?;
    let mut rng = node_rng(seed, Purpose::Custom(0x5e7), 0, 0);
    let ids = Arc::new(IdTable::random(s.nodes, cfg.key_bits, &mut rng));
    let sorted = SortedIds::all(&ids);
    sim.reserve_nodes(s.nodes);
    for i in 0..s.nodes {
        let me = NodeId(i as u32);
        let mut node = KadNode::new(Kademlia::new(cfg.clone(), ids.clone(), me));
        sorted.fill(node.kad.table_mut(), ids.id(me), &mut rng, Time::ZERO);
        node.warm = true;
        node.observe = Observe {
            oracle: false,
            keep_events: true,
            rows: false,
        };
        sim.add_node(node);
    }
    let mut tally = Tally::default();
    let mut tag = 0u64;
    // (key, publisher's store time) of each record stored.
    let mut stored: Vec<(Key, Time)> = Vec::with_capacity(s.records);
    let mut next = Time::ZERO + Duration::from_secs(60);
    for _ in 0..s.records {
        run_until(&mut sim, next)?;
        let key = Key::random(cfg.key_bits, &mut rng);
        let Some(publisher) = random_live(&sim, &mut rng, |_| true) else {
            break;
        };
        tag += 1;
        let before = true_closest(&ids, &key, r, Some(publisher), |n| sim.is_up(n));
        let done = match s.placement {
            Placement::Closest => {
                sim.with_node(publisher, |n, cx| {
                    n.command(cx, Command::Put { tag, key, len: 100 })
                });
                wait_for(&mut sim, publisher, tag)?
            }
            Placement::Random => {
                let mut targets: Vec<NodeId> = Vec::with_capacity(r);
                while targets.len() < r {
                    match random_live(&sim, &mut rng, |n| n != publisher && !targets.contains(&n)) {
                        Some(t) => targets.push(t),
                        None => break,
                    }
                }
                let now = sim.now();
                let value = Value {
                    publisher,
                    published: now,
                    version: now.0,
                    len: 100,
                };
                let sender = *ids.id(publisher);
                sim.with_node(publisher, |_, cx| {
                    for (i, &t) in targets.iter().enumerate() {
                        let body = Request::Store {
                            key,
                            value,
                            cached: false,
                        };
                        let rid = u32::MAX - i as u32;
                        cx.send(t, KadMsg::Request { rid, sender, body });
                    }
                });
                run_until(&mut sim, now + Duration::from_secs(1))?;
                true
            }
        };
        next = sim.now() + s.gap;
        if !done {
            // The publisher failed before its put finished.
            continue;
        }
        stored.push((key, sim.now()));
        let mut truth = true_closest(&ids, &key, r, Some(publisher), |n| sim.is_up(n));
        if truth != before {
            // One of the r closest live nodes failed during the put: which
            // nodes the record should be on is not defined.
            tally.changed += 1;
            continue;
        }
        let mut holders = holders_of(&sim, &key);
        truth.sort_unstable();
        holders.sort_unstable();
        tally.puts += 1;
        tally.exact += usize::from(holders == truth);
    }
    // Reads, each `wait` after its record's store.
    let mut reads: Vec<(NodeId, u64, bool)> = Vec::with_capacity(stored.len());
    for &(key, at) in &stored {
        run_until(&mut sim, at + s.wait)?;
        let live_holder = !holders_of(&sim, &key).is_empty();
        let Some(reader) = random_live(&sim, &mut rng, |n| {
            sim.node(n).kad.store().get(&key).is_none()
        }) else {
            break;
        };
        tag += 1;
        sim.with_node(reader, |n, cx| n.command(cx, Command::Get { tag, key }));
        reads.push((reader, tag, live_holder));
    }
    // A get ends within its RPC budget of timeouts.
    let budget = Duration(longest_timeout(&cfg).0 * u64::from(cfg.lookup_rpcs_max));
    let end = sim.now() + budget + Duration::from_secs(1);
    run_until(&mut sim, end)?;
    for (reader, tag, live_holder) in reads {
        let Some(c) = sim.node(reader).events.iter().find(|c| c.event.tag == tag) else {
            // The reader failed before its get finished.
            continue;
        };
        let got = matches!(c.event.outcome, Outcome::Got(Some(_)));
        tally.read += 1;
        tally.retrieved += usize::from(got);
        tally.missed_live += usize::from(live_holder && !got);
    }
    Ok(tally)
}

/// The longest RPC timeout of `cfg`.
fn longest_timeout(cfg: &Config) -> Duration {
    match cfg.rpc_timeout {
        RpcTimeout::Fixed(d) => d,
        RpcTimeout::Adaptive { cap, .. } => cap,
    }
}

fn run_until(sim: &mut Sim<KadNode>, t: Time) -> Result<(), CheckError> {
    sim.run(RunLimits::until(t)).map_err(bad("simulation"))?;
    Ok(())
}

/// Process events until `node` reports operation `tag` (true) or is down
/// (false).
fn wait_for(sim: &mut Sim<KadNode>, node: NodeId, tag: u64) -> Result<bool, CheckError> {
    // Bounded: an operation ends within its RPC budget of timeouts.
    for _ in 0..10_000_000u32 {
        if sim.node(node).events.iter().any(|c| c.event.tag == tag) {
            return Ok(true);
        }
        if !sim.is_up(node) {
            return Ok(false);
        }
        let out = sim
            .run(RunLimits {
                max_events: Some(1),
                ..Default::default()
            })
            .map_err(bad("simulation"))?;
        if out.events == 0 {
            return Ok(false);
        }
    }
    Err(CheckError(format!(
        "operation {tag} at {node:?} never ended"
    )))
}

/// The live nodes holding `key`.
fn holders_of(sim: &Sim<KadNode>, key: &Key) -> Vec<NodeId> {
    (0..sim.nodes().len() as u32)
        .map(NodeId)
        .filter(|&n| sim.is_up(n) && sim.node(n).kad.store().get(key).is_some())
        .collect()
}

/// A random live node satisfying `ok` (None if there is none).
fn random_live(
    sim: &Sim<KadNode>,
    rng: &mut NodeRng,
    ok: impl Fn(NodeId) -> bool,
) -> Option<NodeId> {
    let live: Vec<NodeId> = (0..sim.nodes().len() as u32)
        .map(NodeId)
        .filter(|&n| sim.is_up(n) && ok(n))
        .collect();
    if live.is_empty() {
        None
    } else {
        Some(live[rng.random_range(0..live.len())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survival_by_hand() {
        // wait = L ln 2: each holder survives with probability ½.
        let l = 3600.0;
        let w = l * std::f64::consts::LN_2;
        assert!((survival(1, w, l) - 0.5).abs() < 1e-12);
        assert!((survival(2, w, l) - 0.75).abs() < 1e-12);
        assert!((survival(3, w, l) - 0.875).abs() < 1e-12);
        assert!((survival(4, w, l) - 0.9375).abs() < 1e-12);
        // wait = L ln 4: each survives with probability ¼; 1 − (3/4)^r.
        let w4 = l * 4f64.ln();
        assert!((survival(2, w4, l) - 0.4375).abs() < 1e-12);
        assert!((survival(8, w4, l) - (1.0 - 0.100_112_915_039_062_5)).abs() < 1e-12);
        // The case's 2495 s of 3600 s: p = e^(−0.6930556) = 0.5000458.
        assert!((survival(1, 2495.0, 3600.0) - 0.500_045_8).abs() < 1e-7);
    }
}
