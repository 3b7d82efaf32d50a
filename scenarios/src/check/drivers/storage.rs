//! P2P storage: read availability under churn against independence
//! theory, and mean time to data loss against the birth–death chain.
//!
//! The availability controls show a limit of the read path, measured and
//! left as is: outage groups start in equilibrium, so a group can be out
//! while the objects are written; objects whose key falls in its region
//! then go to the closest live peers, in the neighbouring region. When the
//! home region is back, a read asks the k closest live peers to the key,
//! which no longer include those holders, and fails although the data is
//! readable (r = 2, seed 1: reads 0.14, readable 0.54). Only migration of
//! fragments towards the key, or a locator record at the key, would find
//! them.

use crate::check::{CheckError, Measurement, Params, Point, batch_means, mean_se};
use ::storage::harness::{Harness, Setup};
use ::storage::{Command, Event, ObjectId, RepairDelay, RepairPolicy, Scheme};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use sim_core::churn::{Alternating, Dist, Group, PermanentPolicy, Start};
use sim_core::{Duration, NodeId, Rate, SimpleNet, Time};

const NS: f64 = 1e9;
const HOUR: f64 = 3600.0;

fn sim_err(e: impl std::fmt::Display) -> CheckError {
    CheckError(format!("simulation: {e}"))
}

fn hours(d: Duration) -> f64 {
    d.0 as f64 / NS / HOUR
}

// ----------------------------------------------------------- availability

/// P(at least m of n independent holders up), each up with probability
/// `a` (copied from the `storage` crate's availability test).
fn binomial_tail(n: u16, m: u16, a: f64) -> f64 {
    let mut p = 0.0;
    for j in m..=n {
        let mut c = 1.0;
        for i in 0..j {
            c *= f64::from(n - i) / f64::from(i + 1);
        }
        p += c * a.powi(i32::from(j)) * (1.0 - a).powi(i32::from(n - j));
    }
    p
}

/// The scheme from `replicas`, or from `m` and `n`.
fn scheme_of(p: &Params) -> Result<Scheme, CheckError> {
    let r = p.u64("replicas", 0)?;
    let (m, n) = (p.u64("m", 0)?, p.u64("n", 0)?);
    let scheme = match (r, m, n) {
        (r, 0, 0) if r > 0 && r < 256 => Scheme::Replicate { r: r as u16 },
        (0, m, n) if m > 0 && n >= m && n < 256 => Scheme::Erasure {
            m: m as u16,
            n: n as u16,
        },
        _ => {
            return Err(CheckError::param(
                "replicas",
                "give `replicas` (1 to 255), or `m` and `n` (1 ≤ m ≤ n ≤ 255), not both",
            ));
        }
    };
    scheme
        .validate()
        .map_err(|e| CheckError::param("n", e.to_string()))?;
    Ok(scheme)
}

/// `storage-availability`: the success of the protocol's reads, and the
/// fraction of objects readable by global knowledge, against the
/// independent-availability prediction for per-peer availability `a`.
pub fn availability_driver(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "replicas",
        "m",
        "n",
        "a",
        "up",
        "down",
        "groups",
        "group_mtbf",
        "group_mttr",
        "peers",
        "objects",
        "reads",
        "batches",
        "seed",
    ])?;
    let scheme = scheme_of(p)?;
    let a = p.f64("a", 0.6)?;
    let up = p.duration("up", Duration::from_secs(3 * 3600))?;
    let down = p.duration("down", Duration::from_secs(2 * 3600))?;
    let groups = p.u64("groups", 0)?;
    let mtbf = p.duration("group_mtbf", Duration::from_secs(6 * 3600))?;
    let mttr = p.duration("group_mttr", Duration::from_secs(2 * 3600))?;
    let peers = p.u64("peers", 240)? as usize;
    let objects = p.u64("objects", 150)?;
    let reads = p.u64("reads", 1200)?;
    let batches = p.u64("batches", 20)? as usize;
    let seed = p.u64("seed", 1)?;
    if !(a > 0.0 && a < 1.0) {
        return Err(CheckError::param("a", "between 0 and 1 (exclusive)"));
    }
    if up.0 == 0 || down.0 == 0 || mtbf.0 == 0 || mttr.0 == 0 {
        return Err(CheckError::param(
            "up",
            "session and outage means must be positive",
        ));
    }
    if !(groups == 0 || (groups.is_power_of_two() && groups <= 64)) {
        return Err(CheckError::param(
            "groups",
            "0 (no outage groups) or a power of two up to 64 (groups by leading id bits)",
        ));
    }
    if peers < 20 || objects == 0 || batches < 2 || reads < 10 * batches as u64 {
        return Err(CheckError::param(
            "reads",
            "at least 20 peers, an object and 10 reads per batch",
        ));
    }
    // The claim is about independence at availability `a`: the system must
    // give each peer that availability, so that a control changes how the
    // peers fail together, not how often.
    let own = up.0 as f64 / (up.0 + down.0) as f64;
    let out = if groups > 0 {
        mttr.0 as f64 / (mtbf.0 + mttr.0) as f64
    } else {
        0.0
    };
    let per_peer = own * (1.0 - out);
    if (per_peer - a).abs() > 1e-9 {
        return Err(CheckError::param(
            "a",
            format!(
                "{a}, but the sessions give each peer an availability of {per_peer:.6} \
                 (up/(up + down) × (1 − the group's outage fraction))"
            ),
        ));
    }
    let (need, of) = match scheme {
        Scheme::Replicate { r } => (1, r),
        Scheme::Erasure { m, n } => (m, n),
    };
    let expected = binomial_tail(of, need, a);

    let mut s = Setup::small(peers, seed);
    s.store.scheme = scheme;
    s.store.policy = RepairPolicy::None;
    // Nothing is repaired, so heartbeats only cost events; warm DHT tables
    // keep their (transiently down) contacts without refresh.
    s.store.heartbeat = Duration::from_secs(86_400);
    s.kad.refresh_interval = None;
    let up_d = Dist::exponential(up).map_err(sim_err)?;
    let down_d = Dist::exponential(down).map_err(sim_err)?;
    s.churn = Some(Box::new(Alternating::new(up_d, down_d)));
    let grouped_ids = if groups > 0 {
        // The harness draws the ids from its seed; draw them the same way
        // to group peers by the leading bits of their ids, so that the
        // holders of an object (the closest peers to its key) share a
        // group.
        let ids = {
            let mut rng = sim_core::rng::NodeRng::seed_from_u64(seed ^ 0x0073_746f_7261_6765);
            kademlia::IdTable::random(peers + s.clients, 64, &mut rng)
        };
        let bits = groups.trailing_zeros();
        s.groups = (0..groups)
            .map(|g| Group {
                name: format!("g{g}"),
                members: (0..peers as u32)
                    .filter(|&i| {
                        ids.id(NodeId(i))
                            .prefix64()
                            .checked_shr(64 - bits)
                            .unwrap_or(0)
                            == g
                    })
                    .collect(),
                mtbf,
                mttr,
            })
            .collect();
        Some(ids)
    } else {
        None
    };
    let mut h = Harness::new(s).map_err(sim_err)?;
    if let Some(ids) = grouped_ids
        && (0..peers as u32).any(|i| h.ids.id(NodeId(i)) != ids.id(NodeId(i)))
    {
        return Err(CheckError(
            "the harness no longer draws the ids as the driver does".into(),
        ));
    }
    let objs: Vec<ObjectId> = (0..objects).map(|i| ObjectId::synthetic(seed, i)).collect();
    for (i, &object) in objs.iter().enumerate() {
        let c = h.clients[i % h.clients.len()];
        h.request(
            c,
            Command::Write {
                tag: i as u64,
                object,
                len: 4096,
            },
        );
        h.run_for(Duration::from_millis(300));
    }
    // Warm-up: many session lengths, so holders are back in equilibrium.
    let cycle = Duration(up.0 + down.0);
    h.run_for(Duration(cycle.0 * 10));
    let start = h.events().len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut oracle = Vec::new();
    for i in 0..reads {
        oracle.push(
            h.sample_availability()
                .ok_or_else(|| CheckError("no object was written".into()))?,
        );
        let object = objs[rng.random_range(0..objs.len())];
        let c = h.clients[rng.random_range(0..h.clients.len())];
        h.request(
            c,
            Command::Read {
                tag: 10_000 + i,
                object,
            },
        );
        h.run_for(Duration(cycle.0 / 8));
    }
    h.run_for(Duration::from_secs(120));
    let ok: Vec<f64> = h.events()[start..]
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::Read { result, .. } => Some(if result.is_ok() { 1.0 } else { 0.0 }),
            _ => None,
        })
        .collect();
    if ok.len() as u64 != reads {
        return Err(CheckError(format!("{} reads ended of {reads}", ok.len())));
    }
    let (rm, rse) = batch_means(&ok, batches);
    let (om, ose) = batch_means(&oracle, batches);
    Ok(Measurement {
        points: vec![
            Point::analytic("reads that succeed", rm, rse, expected),
            Point::analytic("objects readable (global knowledge)", om, ose, expected),
        ],
        axes: None,
        curve: Vec::new(),
        note: format!(
            "{scheme}, {peers} peers up {up} / down {down} (exponential){}, {objects} objects, \
             {reads} reads every {} after a 10-cycle warm-up, {batches} batches (seed {seed})",
            if groups > 0 {
                format!(", in {groups} outage groups by id prefix (MTBF {mtbf}, MTTR {mttr})")
            } else {
                String::new()
            },
            Duration(cycle.0 / 8)
        ),
    })
}

// ------------------------------------------------------------- durability

/// Expected absorption time, from r live replicas, of the birth–death
/// chain losing one at rate iλ and gaining one at rate (r − i)μ (the
/// storage crate's durability test derives it on its own).
fn mttdl(r: usize, lambda: f64, mu: f64) -> f64 {
    crate::theory::mttdl(1, r, lambda, mu)
}

fn repair_of(p: &Params, key: &str, default: &str) -> Result<Option<Duration>, CheckError> {
    p.duration_or_none(key, default, " for no repair")
}

/// Mean loss time (hours) of the objects of one network.
fn mean_loss_time(
    r: u16,
    life: Duration,
    repair: Option<Duration>,
    peers: usize,
    objects: u64,
    seed: u64,
) -> Result<f64, CheckError> {
    let mut s = Setup::small(peers, seed);
    s.net = SimpleNet::constant(
        Duration::from_millis(5),
        Rate::new(10_000_000_000).map_err(sim_err)?,
    );
    s.store.scheme = Scheme::Replicate { r };
    match repair {
        Some(d) => {
            s.store.policy = RepairPolicy::Eager;
            s.store.repair_delay = RepairDelay::Exponential(d);
        }
        None => s.store.policy = RepairPolicy::None,
    }
    s.store.detection_timeout = Duration::from_secs(120);
    s.store.heartbeat = Duration::from_secs(40);
    s.store.forget_after = Duration::from_secs(3600);
    s.kad.refresh_interval = None;
    let life_d = Dist::exponential(life).map_err(sim_err)?;
    let churn = Alternating::new(
        life_d,
        Dist::exponential(Duration::from_secs(1)).map_err(sim_err)?,
    )
    .with_permanent(PermanentPolicy::probability_per_failure(1.0).map_err(sim_err)?)
    .with_start(Start::Fresh);
    s.churn = Some(Box::new(churn));
    let spare = 4000;
    s.spare = spare;
    let mut h = Harness::new(s).map_err(sim_err)?;
    let ids: Vec<ObjectId> = (0..objects).map(|i| ObjectId::synthetic(seed, i)).collect();
    for (i, &object) in ids.iter().enumerate() {
        h.request(
            h.clients[i % h.clients.len()],
            Command::Write {
                tag: i as u64,
                object,
                len: 1000,
            },
        );
    }
    h.run_for(Duration::from_secs(10));
    let written: Vec<(ObjectId, Time)> = h
        .events()
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::Written {
                object,
                ended,
                result: Ok(_),
                ..
            } => Some((*object, *ended)),
            _ => None,
        })
        .collect();
    if written.len() as u64 != objects {
        return Err(CheckError(format!(
            "{} writes of {objects} succeeded",
            written.len()
        )));
    }
    // Run until every object is lost, in steps of a few lifetimes.
    let step = Duration(life.0.saturating_mul(2));
    let mut rounds = 0;
    while h.ledger().lost_at.len() < written.len() {
        rounds += 1;
        if rounds > 2000 {
            return Err(CheckError(format!(
                "objects still alive after {rounds} steps of {step}"
            )));
        }
        h.run_for(step);
    }
    if h.replaced.borrow().len() >= spare {
        return Err(CheckError("the spare ids ran out".into()));
    }
    let ledger = h.ledger();
    let sum: f64 = written
        .iter()
        .map(|(o, t)| hours(ledger.lost_at[o].since(*t)))
        .sum();
    Ok(sum / written.len() as f64)
}

/// `storage-durability`: mean time to data loss of replicated objects
/// under permanent departures, against the birth–death chain.
pub fn durability_driver(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "replicas",
        "lifetime",
        "repair",
        "run_repair",
        "peers",
        "objects",
        "networks",
        "seed",
    ])?;
    let r = p.u64("replicas", 2)?;
    let life = p.duration("lifetime", Duration::from_secs(20 * 3600))?;
    let claimed_s = p.str("repair", "2h")?;
    let claimed = repair_of(p, "repair", "2h")?;
    let run = repair_of(p, "run_repair", &claimed_s)?;
    let peers = p.u64("peers", 60)? as usize;
    let objects = p.u64("objects", 30)?;
    let networks = p.u64("networks", 16)?;
    let seed = p.u64("seed", 1)?;
    if r == 0 || r > 16 {
        return Err(CheckError::param("replicas", "between 1 and 16"));
    }
    if life.0 == 0 {
        return Err(CheckError::param("lifetime", "positive"));
    }
    if peers < 4 * r as usize || objects == 0 || networks < 2 {
        return Err(CheckError::param(
            "networks",
            "at least 2 networks of 4r peers and an object",
        ));
    }
    let lambda = 1.0 / hours(life);
    let mu = claimed.map_or(0.0, |d| 1.0 / hours(d));
    let expected = mttdl(r as usize, lambda, mu);
    let means = (seed..seed + networks)
        .map(|s| mean_loss_time(r as u16, life, run, peers, objects, s))
        .collect::<Result<Vec<f64>, CheckError>>()?;
    let (m, se) = mean_se(&means);
    let name = |d: Option<Duration>| d.map_or("no repair".to_string(), |d| format!("repair {d}"));
    Ok(Measurement {
        points: vec![Point::analytic(
            format!("{} run, {} predicted: MTTDL (h)", name(run), name(claimed)),
            m,
            se,
            expected,
        )],
        axes: None,
        curve: Vec::new(),
        note: format!(
            "{r} replicas, {networks} networks of {peers} peers with exponential lifetimes of \
             mean {life}, {objects} objects each (seeds {seed}–{})",
            seed + networks - 1
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_by_hand() {
        // r = 3 at a = 0.6: 1 − 0.4³ = 0.936.
        assert!((binomial_tail(3, 1, 0.6) - 0.936).abs() < 1e-12);
        // 3 of 6 at a = 0.6: Σ_{j≥3} C(6,j) 0.6^j 0.4^(6−j)
        // = 20·0.216·0.064 + 15·0.1296·0.16 + 6·0.07776·0.4 + 0.046656
        // = 0.27648 + 0.31104 + 0.186624 + 0.046656 = 0.8208.
        assert!((binomial_tail(6, 3, 0.6) - 0.8208).abs() < 1e-12);
    }

    #[test]
    fn mttdl_by_hand() {
        // r = 2: T_2 = (3λ + μ)/(2λ²); λ = 1/20, μ = 1/2: 0.65/0.005 = 130 h.
        assert!((mttdl(2, 0.05, 0.5) - 130.0).abs() < 1e-9);
        // Without repair: H_r/λ (the maximum of r exponential lifetimes).
        assert!((mttdl(2, 0.05, 0.0) - 30.0).abs() < 1e-9);
        assert!((mttdl(3, 0.05, 0.0) - (1.0 + 0.5 + 1.0 / 3.0) / 0.05).abs() < 1e-9);
    }
}
