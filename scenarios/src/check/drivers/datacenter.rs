//! The data-center compute site against M/M/c (Erlang's C formula).

use crate::check::{CheckError, Measurement, Params, Point, mean_se};
use ::datacenter::compute::{
    ComputeClient, ComputeClientConfig, ComputeSite, ComputeSiteConfig, DcComputeNode, Dispatch,
};
use ::jobs::{Answer, Command, Event, EventLog, Job};
use rand::RngExt;
use sim_core::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

const SEC: u64 = 1_000_000_000;

/// Erlang's C formula: the probability that an arrival waits in M/M/c with
/// offered load `a` = λ/μ, from Erlang's B by its recursion B(0) = 1,
/// B(k) = a B(k−1) / (k + a B(k−1)), and C = B / (1 − ρ(1 − B)). Copied
/// from the `datacenter` crate's compute test.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

/// M/M/c with μ = 1: (P(wait), mean time in system W = C/(c − λ) + 1).
fn mmc(c: u32, rho: f64) -> (f64, f64) {
    let lambda = rho * f64::from(c);
    let p = erlang_c(c, lambda);
    (p, p / (f64::from(c) - lambda) + 1.0)
}

/// Poisson submissions until `until`, then none.
struct Until<W> {
    until: Time,
    inner: W,
}

impl<R, W: Workload<R>> Workload<R> for Until<W> {
    fn next(&mut self, client: NodeId, now: Time, rng: &mut NodeRng) -> Option<(Duration, R)> {
        let (gap, r) = self.inner.next(client, now, rng)?;
        (now.saturating_add(gap) < self.until).then_some((gap, r))
    }
}

/// One run of the site: per batch (window of submission times after the
/// warm-up) the mean time in system and the fraction of jobs that waited;
/// and the jobs kept.
#[allow(clippy::too_many_arguments)]
fn queue_run(
    seed: u64,
    c: u32,
    rho: f64,
    jobs_wanted: u64,
    fixed: bool,
    clients: usize,
    warmup: Duration,
    batches: usize,
) -> Result<(Vec<f64>, Vec<f64>, u64), CheckError> {
    let err = |e: SimError| CheckError(format!("simulation: {e}"));
    let site_cfg = ComputeSiteConfig {
        servers: c,
        speed: 1000,
        dispatch: Dispatch::Shared,
        queue_max: 1_000_000,
    };
    let net = SimpleNet::constant(
        Duration::ZERO,
        "100Mbit/s"
            .parse()
            .map_err(|e| CheckError(format!("{e}")))?,
    );
    let mut sim = Sim::new(SimConfig::new(seed, net));
    let log: EventLog = Rc::new(RefCell::new(Vec::new()));
    let mut site = ComputeSite::new(site_cfg);
    site.log = Some(log.clone());
    let site = sim.add_stable_node(DcComputeNode::Site(site));
    let ids: Vec<NodeId> = (0..clients)
        .map(|_| {
            let mut cl = ComputeClient::new(site, ComputeClientConfig::default());
            cl.log = Some(log.clone());
            sim.add_node(DcComputeNode::Client(cl))
        })
        .collect();
    let lambda = rho * f64::from(c);
    let gap = Duration((clients as f64 / lambda * SEC as f64).round() as u64);
    let mut next = 0u64;
    let load = Poisson::new(gap, move |_, rng: &mut NodeRng| {
        next += 1;
        let work = if fixed {
            SEC
        } else {
            let u: f64 = rng.random();
            ((-(1.0 - u).ln() * SEC as f64).round() as u64).max(1)
        };
        Command::Submit(Job {
            id: next,
            work: Duration(work),
            input: 0,
            output: 0,
            deadline: None,
        })
    })
    .map_err(err)?;
    let span = (jobs_wanted as f64 / lambda * SEC as f64) as u64;
    let end = warmup.0 + span;
    let load = Until {
        until: Time(end),
        inner: load,
    };
    sim.add_workload(&ids, load).map_err(err)?;
    // No job takes a minute to end at these loads.
    sim.run(RunLimits::until(Time(end + 60 * SEC)))
        .map_err(err)?;
    let drained = sim
        .node(site)
        .site()
        .is_some_and(|s| s.queued() + s.busy_servers() == 0);
    if !drained {
        return Err(CheckError(
            "the site has not drained a minute after the last job".into(),
        ));
    }
    let mut per = vec![(0.0, 0u64, 0u64); batches];
    let mut kept = 0;
    for (_, _, e) in log.borrow().iter() {
        let Event::Done {
            submitted,
            started,
            ended,
            result,
            ..
        } = e
        else {
            continue;
        };
        if *result != Ok(Answer::Right) {
            return Err(CheckError(format!("a job ended with {result:?}")));
        }
        let started = started.ok_or_else(|| CheckError("a job ended unstarted".into()))?;
        if fixed && ended.since(started).0 != SEC {
            return Err(CheckError("a fixed 1 s job did not run exactly 1 s".into()));
        }
        let t = submitted.0;
        if t < warmup.0 || t >= end {
            continue;
        }
        let b = ((t - warmup.0) as u128 * batches as u128 / span as u128) as usize;
        per[b].0 += ended.since(*submitted).0 as f64 / SEC as f64;
        per[b].1 += 1;
        per[b].2 += u64::from(started > *submitted);
        kept += 1;
    }
    if per.iter().any(|b| b.1 == 0) {
        return Err(CheckError(
            "a batch holds no job: more jobs are needed".into(),
        ));
    }
    let means = per.iter().map(|b| b.0 / b.1 as f64).collect();
    let waited = per.iter().map(|b| b.2 as f64 / b.1 as f64).collect();
    Ok((means, waited, kept))
}

/// `dc-erlang-c`: the shared-queue compute site's mean time in system and
/// probability of waiting against M/M/c, at each (servers, rho) point.
pub fn erlang_c_driver(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "servers", "rho", "jobs", "service", "clients", "warmup", "batches", "seed",
    ])?;
    let servers = p.u64s("servers", &[16])?;
    let rhos = p.f64s("rho", &[0.8])?;
    let jobs = p.u64s("jobs", &[1_000_000])?;
    let service = p.str("service", "exponential")?;
    let clients = p.u64("clients", 20)? as usize;
    let warmup = p.duration("warmup", Duration::from_secs(500))?;
    let batches = p.u64("batches", 40)? as usize;
    let seed = p.u64("seed", 1)?;
    let fixed = match service.as_str() {
        "exponential" => false,
        "fixed" => true,
        other => {
            return Err(CheckError::param(
                "service",
                format!("{other:?}: expected \"exponential\" or \"fixed\""),
            ));
        }
    };
    if servers.len() != rhos.len() || servers.len() != jobs.len() {
        return Err(CheckError::param(
            "rho",
            "servers, rho and jobs must be lists of the same length",
        ));
    }
    if servers.iter().any(|&c| c == 0 || c > 10_000) {
        return Err(CheckError::param("servers", "between 1 and 10000"));
    }
    if rhos.iter().any(|&r| !(r > 0.0 && r < 1.0)) {
        return Err(CheckError::param("rho", "between 0 and 1 (exclusive)"));
    }
    if clients == 0 || batches < 2 || jobs.iter().any(|&j| j < 100 * batches as u64) {
        return Err(CheckError::param(
            "jobs",
            "at least 100 per batch, with 2 batches or more and a client",
        ));
    }
    let mut points = Vec::new();
    let mut total = 0;
    for (i, ((&c, &rho), &n)) in servers.iter().zip(&rhos).zip(&jobs).enumerate() {
        let c = c as u32;
        let (p_wait, w) = mmc(c, rho);
        let (means, waited, kept) =
            queue_run(seed + i as u64, c, rho, n, fixed, clients, warmup, batches)?;
        total += kept;
        let (m, se) = mean_se(&means);
        let (pw, pse) = mean_se(&waited);
        points.push(Point::analytic(
            format!("c={c}, rho={rho}: W (s)"),
            m,
            se,
            w,
        ));
        points.push(Point::analytic(
            format!("c={c}, rho={rho}: P(wait)"),
            pw,
            pse,
            p_wait,
        ));
    }
    Ok(Measurement {
        points,
        axes: None,
        curve: Vec::new(),
        note: format!(
            "{service} work of mean 1 s, {total} jobs from {clients} Poisson clients on a \
             zero-latency network after a {warmup} warm-up, {batches} batches by submission \
             time (seeds from {seed})"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_by_hand() {
        // c = 4, a = 2: B = (2⁴/4!) / Σ_{k≤4} 2^k/k! = (2/3)/7 = 2/21,
        // C = (2/21)/(1 − ½ × 19/21) = 4/23, W = (4/23)/2 + 1 = 25/23.
        let (p, w) = mmc(4, 0.5);
        assert!((p - 4.0 / 23.0).abs() < 1e-12, "{p}");
        assert!((w - 25.0 / 23.0).abs() < 1e-12, "{w}");
        // One server: C = ρ, W = 1/(1 − ρ).
        let (p, w) = mmc(1, 0.8);
        assert!((p - 0.8).abs() < 1e-12 && (w - 5.0).abs() < 1e-12);
        // c = 16, a = 12.8 (the recursion's 16 steps): C = 0.30488.
        let (p, w) = mmc(16, 0.8);
        assert!((p - 0.30488).abs() < 1e-5, "{p}");
        assert!((w - 1.09528).abs() < 1e-5, "{w}");
    }
}
