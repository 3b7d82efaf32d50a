//! `kademlia-churn`: lookups under churn in the setting of Li, Stribling,
//! Morris, Kaashoek and Gil, "A performance vs. cost framework for
//! evaluating DHT design tradeoffs under churn" (INFOCOM 2005).
//!
//! **Setting** (the paper's): `nodes` nodes (1,024 in the paper) alternate
//! up and down sessions, both exponential with mean `session` (1 h), from
//! the engine's churn model ([`Sim::set_churn`], [`Alternating`], started
//! in equilibrium: half the nodes up, memoryless residuals); a crashed node
//! keeps its disk and routing table and comes back under the same id. Every
//! node issues lookups for random keys with exponential gaps of mean
//! `lookup_gap` (10 min), from the engine's workload ([`Poisson`]); a node
//! that is down issues none. The nodes up at time zero join all at once,
//! the others when they first come up, each through 8 random other nodes
//! (which may be down: the join is retried). The network is the synthetic
//! internet ([`Coordinates`] with its default regions, median round trip
//! about 125 ms, a long tail across continents; the paper used the King
//! data set) with 2 ms of jitter.
//!
//! **Claim.** After a `warmup` (1 h), a lookup started in the next
//! `measure` window succeeds when the true closest live node to its key is
//! *determined* — it has answered, and every node the lookup knew closer to
//! the key has answered or timed out — within `deadline` (4 s) of the start
//! ([`kademlia::oracle::determined_at`]). Kademlia with its default
//! parameters (k = 20, α = 3, 1 s RPC timeouts) is claimed to succeed for
//! at least `success_min` (95 %) of the lookups: the point compares the
//! success rate with 1 with an allowance of `1 − success_min`, so it agrees
//! when the rate is at least `success_min` within 4 standard errors.
//!
//! **Standard error** across `networks` independent networks (seeds: ids,
//! positions, churn, workload), one success rate per network.
//!
//! **Control** (`alpha = 1`): one RPC in flight per lookup. Every stale
//! contact the lookup meets (half the nodes are down at any time, and
//! tables lag behind) then stalls it for a whole timeout, and the closest
//! live node is reached only after the serial walk, so more lookups miss
//! the deadline; the timeout and the deadline are unchanged.

use crate::check::{CheckError, Measurement, Params, Point, mean_se};
use kademlia::{
    Command, Config, IdTable, KadNode, Kademlia, Key, Observe, RpcTimeout, WireContact,
};
use rand::RngExt;
use sim_core::churn::{Alternating, Dist};
use sim_core::prelude::*;
use sim_core::rng::{Purpose, node_rng};
use sim_core::topo::{Coordinates, CoordinatesConfig};
use std::sync::Arc;

/// Bootstrap contacts per node.
const BOOTSTRAP: usize = 8;

struct Setup {
    nodes: usize,
    session: Duration,
    warmup: Duration,
    measure: Duration,
    lookup_gap: Duration,
    deadlines: Vec<Duration>,
    /// The longest RPC timeout.
    timeout: Duration,
    cfg: Config,
}

/// The driver.
pub fn run(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "nodes",
        "networks",
        "seed",
        "session",
        "warmup",
        "measure",
        "lookup_gap",
        "deadlines_s",
        "alpha",
        "timeout",
        "adaptive",
        "success_min",
    ])?;
    let nodes = p.u64("nodes", 1024)? as usize;
    let networks = p.u64("networks", 4)?;
    let seed = p.u64("seed", 1)?;
    let session = p.duration("session", Duration::from_secs(3600))?;
    let warmup = p.duration("warmup", Duration::from_secs(3600))?;
    let measure = p.duration("measure", Duration::from_secs(1800))?;
    let lookup_gap = p.duration("lookup_gap", Duration::from_secs(600))?;
    let deadlines_s = p.f64s("deadlines_s", &[2.0, 4.0])?;
    if let Some(d) = deadlines_s.iter().find(|d| !(**d > 0.0 && **d < 3600.0)) {
        return Err(CheckError::param(
            "deadlines_s",
            format!("{d}: expected seconds in (0, 3600)"),
        ));
    }
    let deadlines: Vec<Duration> = deadlines_s
        .iter()
        .map(|&d| Duration::from_secs_f64(d))
        .collect();
    let alpha = p.u64("alpha", 3)? as usize;
    let timeout = p.duration("timeout", Duration::from_secs(1))?;
    let adaptive = p.bool("adaptive", false)?;
    let success_min = p.f64("success_min", 0.95)?;
    if nodes < 2 * BOOTSTRAP {
        return Err(CheckError::param("nodes", "at least 16"));
    }
    if networks < 2 {
        return Err(CheckError::param(
            "networks",
            "at least 2 (the standard error is across networks)",
        ));
    }
    if !(0.0..=1.0).contains(&success_min) {
        return Err(CheckError::param("success_min", "expected a fraction"));
    }
    if alpha == 0 {
        return Err(CheckError::param("alpha", "at least 1"));
    }
    for (k, d) in [
        ("session", session),
        ("measure", measure),
        ("lookup_gap", lookup_gap),
        ("timeout", timeout),
    ] {
        if d.0 == 0 {
            return Err(CheckError::param(k, "must be positive"));
        }
    }
    let rpc_timeout = if adaptive {
        RpcTimeout::Adaptive {
            initial: timeout,
            floor: Duration::from_millis(300).min(timeout),
            cap: timeout,
        }
    } else {
        RpcTimeout::Fixed(timeout)
    };
    let cfg = Config {
        alpha,
        rpc_timeout,
        ..Config::default()
    };
    cfg.validate()
        .map_err(|e| CheckError(format!("kademlia config: {e}")))?;
    let s = Setup {
        nodes,
        session,
        warmup,
        measure,
        lookup_gap,
        deadlines,
        timeout,
        cfg,
    };
    // Per deadline, the success rate of each network.
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); s.deadlines.len()];
    let mut ok_all = vec![0; s.deadlines.len()];
    let mut total_all = 0;
    for j in 0..networks {
        let (ok, total) = one_network(&s, seed.wrapping_mul(1_000_003).wrapping_add(j))?;
        if total == 0 {
            return Err(CheckError(format!("network {j}: no lookup measured")));
        }
        for (i, &o) in ok.iter().enumerate() {
            rates[i].push(o as f64 / total as f64);
            ok_all[i] += o;
        }
        total_all += total;
    }
    let points = s
        .deadlines
        .iter()
        .zip(&rates)
        .map(|(d, r)| at_least(format!("success within {d}"), r, success_min).at(d.as_secs_f64()))
        .collect();
    let counts: Vec<String> = s
        .deadlines
        .iter()
        .zip(&ok_all)
        .map(|(d, o)| format!("{o} within {d}"))
        .collect();
    Ok(Measurement {
        points,
        axes: Some(("deadline (s)".into(), "fraction of lookups".into())),
        curve: Vec::new(),
        note: format!(
            "{networks} networks of {nodes} nodes, exponential up and down sessions of mean \
             {session}, lookups every {lookup_gap} per node, alpha {alpha}, timeouts {timeout}{}; \
             of {total_all} lookups started in the {measure} after a {warmup} warm-up, {} \
             determined the closest live node",
            if adaptive { " (adaptive)" } else { " (fixed)" },
            counts.join(", ")
        ),
    })
}

/// The claim "a fraction of at least `min`" as a point: the mean of the
/// per-network `rates` (standard error across networks) against 1, with an
/// allowance of `1 − min`. It agrees when the mean is at least `min` within
/// the band's standard errors.
pub fn at_least(label: String, rates: &[f64], min: f64) -> Point {
    let (m, se) = mean_se(rates);
    Point {
        allowance: 1.0 - min,
        ..Point::analytic(label, m, se, 1.0)
    }
}

fn bad<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> CheckError + '_ {
    move |e| CheckError(format!("{what}: {e}"))
}

/// One network: (lookups that succeeded, per deadline; lookups measured).
fn one_network(s: &Setup, seed: u64) -> Result<(Vec<usize>, usize), CheckError> {
    let cfg = Arc::new(s.cfg.clone());
    let mut sim: Sim<KadNode> = Sim::new(SimConfig::new(
        seed,
        SimpleNet::constant(Duration::ZERO, "10Mbit/s".parse().map_err(bad("rate"))?),
    ));
    let mut topo_rng = node_rng(seed, Purpose::Custom(0x7090), 0, 0);
    let coords = Coordinates::generate(s.nodes, &CoordinatesConfig::default(), &mut topo_rng)
        .map_err(bad("coordinates"))?;
    sim.set_topology(Box::new(coords), Duration::from_millis(2))
        .map_err(bad("topology"))?;
    let sess = Dist::exponential(s.session).map_err(bad("session"))?;
    sim.set_churn(Alternating::new(sess.clone(), sess))
        .map_err(bad("churn"))?;
    let mut rng = node_rng(seed, Purpose::Custom(0xc4c4), 0, 0);
    let ids = Arc::new(IdTable::random(s.nodes, cfg.key_bits, &mut rng));
    sim.reserve_nodes(s.nodes);
    let n = s.nodes as u32;
    for i in 0..n {
        let me = NodeId(i);
        let mut node = KadNode::new(Kademlia::new(cfg.clone(), ids.clone(), me));
        node.observe = Observe {
            oracle: true,
            keep_events: true,
            rows: false,
        };
        for _ in 0..BOOTSTRAP {
            let mut b = rng.random_range(0..n - 1);
            if b >= i {
                b += 1;
            }
            node.bootstrap.push(WireContact {
                node: NodeId(b),
                id: *ids.id(NodeId(b)),
            });
        }
        sim.add_node(node);
    }
    let bits = cfg.key_bits;
    let clients: Vec<NodeId> = (0..n).map(NodeId).collect();
    let w = Poisson::new(s.lookup_gap, move |_c, r: &mut NodeRng| {
        Command::FindClosest {
            tag: 0,
            key: Key::random(bits, r),
        }
    })
    .map_err(bad("workload"))?;
    sim.add_workload(&clients, w).map_err(bad("workload"))?;
    let from = Time::ZERO + s.warmup;
    let to = from + s.measure;
    // A lookup ends within its RPC budget of timeouts: run until every
    // lookup started before `to` has ended (or its node has failed).
    let budget = Duration(s.timeout.0 * u64::from(cfg.lookup_rpcs_max));
    let end = to + budget + Duration::from_secs(1);
    let (mut ok, mut total) = (vec![0; s.deadlines.len()], 0);
    let mut t = Time::ZERO;
    // In slices, keeping only what is needed of each finished lookup.
    while t < end {
        t = (t + Duration::from_secs(300)).min(end);
        sim.run(RunLimits::until(t)).map_err(bad("simulation"))?;
        for i in 0..n {
            for c in sim.node_mut(NodeId(i)).events.drain(..) {
                let st = c.event.report.started;
                if st < from || st >= to {
                    continue;
                }
                total += 1;
                for (o, &dl) in ok.iter_mut().zip(&s.deadlines) {
                    if c.determined_at.is_some_and(|d| d.since(st) <= dl) {
                        *o += 1;
                    }
                }
            }
        }
    }
    Ok((ok, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_by_hand() {
        // Rates 0.97, 0.98, 0.99, 1.00: mean 0.985, SE √(1.6667e-4 / 4) =
        // 0.0064550; band 4 × 0.0064550 + 0.05 = 0.07582 around 1.
        let p = at_least("x".into(), &[0.97, 0.98, 0.99, 1.0], 0.95);
        assert!((p.measured - 0.985).abs() < 1e-12);
        assert!((p.se - 0.006_455_0).abs() < 1e-6);
        assert!((p.half_width(4.0) - 0.075_820).abs() < 1e-5);
        assert!(p.agrees(4.0));
        // Rates 0.80, 0.82, 0.84, 0.86: mean 0.83, SE 0.012910; band
        // 0.10164 < 0.17.
        let q = at_least("x".into(), &[0.80, 0.82, 0.84, 0.86], 0.95);
        assert!((q.se - 0.012_910).abs() < 1e-6);
        assert!(!q.agrees(4.0));
        // A rate of exactly 1 everywhere: no spread, agrees.
        assert!(at_least("x".into(), &[1.0, 1.0], 0.95).agrees(4.0));
    }
}
