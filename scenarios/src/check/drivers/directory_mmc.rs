//! `directory-mmc`: the directory site (the lookup baseline's
//! [`datacenter::Site`]) against M/M/c.
//!
//! Clients send Poisson requests (the superposition of independent Poisson
//! streams is Poisson) of total rate λ = ρcμ to a site of `c` servers whose
//! service times are exponential of mean 1/μ, over a zero-latency network,
//! so a request's latency is its time in the system. The expected mean time
//! in system is Erlang C's: W = C(c, a)/(cμ − λ) + 1/μ with a = λ/μ
//! (Kleinrock, Queueing Systems vol. 1, §3.5), computed here from (c, ρ)
//! alone. The measured mean is over the requests sent after a warm-up, with
//! its standard error by batch means over consecutive windows of send time.
//!
//! Parameters: `servers` and `rho` (lists of the same length, one point per
//! pair), `service` (`"exponential"` or `"fixed"`: what the site runs),
//! `mean_service` (1/μ, default `"1ms"`), `requests` (measured per point),
//! `warmup` (requests dropped first), `batches`, `clients`, `seed`.

use crate::check::{CheckError, Measurement, Params, Point, batch_means};
use datacenter::{Client, DcNode, DirOp, ServiceDist, Site, SiteConfig};
use sim_core::prelude::*;

/// Erlang's C formula: the probability that an arrival waits in M/M/c with
/// offered load `a` = λ/μ (< c), from Erlang's B by the recursion
/// B(0) = 1, B(k) = a B(k−1)/(k + a B(k−1)), then C = B/(1 − ρ(1 − B)).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

/// M/M/c mean time in system in units of the mean service time 1/μ:
/// C(c, a)/(c − a) + 1, a = ρc.
pub fn mmc_time_in_system(c: u32, rho: f64) -> f64 {
    let a = rho * f64::from(c);
    erlang_c(c, a) / (f64::from(c) - a) + 1.0
}

/// The driver.
pub fn run(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "servers",
        "rho",
        "service",
        "mean_service",
        "requests",
        "warmup",
        "batches",
        "clients",
        "seed",
    ])?;
    let servers = p.u64s("servers", &[4, 16])?;
    let rhos = p.f64s("rho", &[0.8, 0.8])?;
    if servers.len() != rhos.len() {
        return Err(CheckError::param(
            "rho",
            format!(
                "{} values for {} `servers`: one ρ per server count",
                rhos.len(),
                servers.len()
            ),
        ));
    }
    let dist = match p.str("service", "exponential")?.as_str() {
        "exponential" => ServiceDist::Exponential,
        "fixed" => ServiceDist::Fixed,
        s => {
            return Err(CheckError::param(
                "service",
                format!("{s:?}: expected \"exponential\" or \"fixed\""),
            ));
        }
    };
    let mean_service = p.duration("mean_service", Duration::from_millis(1))?;
    if mean_service.as_nanos() < 1000 {
        return Err(CheckError::param("mean_service", "at least 1µs"));
    }
    let requests = p.u64("requests", 200_000)?;
    let warmup = p.u64("warmup", 10_000)?;
    let batches = p.u64("batches", 20)? as usize;
    let clients = p.u64("clients", 20)?.max(1) as usize;
    let seed = p.u64("seed", 1)?;
    if requests < 20 * batches as u64 || batches < 2 {
        return Err(CheckError::param(
            "requests",
            "need at least 2 batches of 20 requests",
        ));
    }
    let mut points = Vec::new();
    for (i, (&c, &rho)) in servers.iter().zip(&rhos).enumerate() {
        if c == 0 || c > 10_000 {
            return Err(CheckError::param(
                "servers",
                format!("{c}: expected 1 to 10000"),
            ));
        }
        if !(rho > 0.0 && rho <= 0.95) {
            return Err(CheckError::param(
                "rho",
                format!("{rho}: expected in (0, 0.95]"),
            ));
        }
        let c = c as u32;
        let times = simulate(
            seed.wrapping_add(i as u64),
            c,
            rho,
            dist,
            mean_service,
            warmup + requests,
            clients,
        )?;
        let kept = &times[warmup as usize..];
        let ms = mean_service.as_nanos() as f64 / 1e6;
        let (m, se) = batch_means(kept, batches);
        let expected = mmc_time_in_system(c, rho) * ms;
        points.push(Point::analytic(format!("c={c}, rho={rho}"), m, se, expected).at(rho));
    }
    Ok(Measurement {
        points,
        axes: Some(("ρ".into(), "mean time in system (ms)".into())),
        curve: Vec::new(),
        note: format!(
            "{requests} requests per point after {warmup} of warm-up, {clients} Poisson \
             clients, {} service of mean {mean_service}, batch means over {batches} batches",
            match dist {
                ServiceDist::Exponential => "exponential",
                ServiceDist::Fixed => "fixed",
            }
        ),
    })
}

/// Times in system (ms) of the first `n` requests, in order of sending.
fn simulate(
    seed: u64,
    c: u32,
    rho: f64,
    dist: ServiceDist,
    mean_service: Duration,
    n: u64,
    clients: usize,
) -> Result<Vec<f64>, CheckError> {
    let sim_err = |e: SimError| CheckError(format!("simulation: {e}"));
    let rate = Rate::new(100_000_000).map_err(|e| CheckError(e.to_string()))?;
    let net = SimpleNet::constant(Duration::ZERO, rate);
    let mut sim = Sim::new(SimConfig::new(seed, net));
    let cfg = SiteConfig {
        servers: c as usize,
        service: mean_service,
        service_dist: dist,
        queue_max: usize::MAX,
        ..SiteConfig::default()
    };
    let site = sim.add_stable_node(DcNode::Site(Site::new(cfg)));
    let timeout = Duration::from_secs(3600);
    let ids: Vec<NodeId> = (0..clients)
        .map(|_| {
            let mut cl = Client::new(site, timeout);
            cl.pending_max = usize::MAX;
            sim.add_node(DcNode::Client(cl))
        })
        .collect();
    // Total rate λ = ρcμ: each client's mean gap is clients/λ.
    let lambda_per_ns = rho * f64::from(c) / mean_service.as_nanos() as f64;
    let gap = Duration::from_nanos((clients as f64 / lambda_per_ns).round() as u64);
    let w = Poisson::new(gap, |_, _: &mut NodeRng| DirOp::Get { key: 0 }).map_err(sim_err)?;
    sim.add_workload(&ids, w).map_err(sim_err)?;
    // Run until n requests were sent (in expectation n/λ), then let them
    // drain; requests are ordered by sending time afterwards.
    let span = (n as f64 * 1.02 / lambda_per_ns) as u64;
    sim.run(RunLimits::until(Time(span))).map_err(sim_err)?;
    let mut done: Vec<(Time, Time, bool)> = Vec::new();
    let drain = Time(span) + Duration::from_secs(10) + Duration(mean_service.as_nanos() * 1000);
    sim.run(RunLimits::until(drain)).map_err(sim_err)?;
    for &id in &ids {
        if let DcNode::Client(cl) = sim.node(id) {
            done.extend(cl.finished.iter().map(|f| (f.start, f.end, f.success)));
        }
    }
    done.sort_unstable_by_key(|d| d.0);
    done.retain(|d| d.0 < Time(span));
    if done.iter().any(|d| !d.2) {
        return Err(CheckError(
            "a request failed (the site refused or timed out)".into(),
        ));
    }
    if (done.len() as u64) < n {
        return Err(CheckError(format!(
            "only {} requests were sent before the end, {n} wanted",
            done.len()
        )));
    }
    done.truncate(n as usize);
    Ok(done
        .iter()
        .map(|&(s, e, _)| e.since(s).as_nanos() as f64 / 1e6)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: c = 4, a = 2: B = (2⁴/4!)/Σ_{k≤4} 2^k/k! = (2/3)/7 = 2/21,
    /// C = (2/21)/(1 − ½ · 19/21) = 4/23, W = (4/23)/2 + 1 = 25/23.
    /// c = 1: C = ρ, W = 1/(1 − ρ) (M/M/1). c = 2, ρ = 0.8, a = 1.6:
    /// B = (1.6²/2)/(1 + 1.6 + 1.28) = 1.28/3.88, C = B/(1 − 0.8(1 − B))
    /// = 1.28/(3.88 − 0.8 · 2.6) = 1.28/1.8 = 32/45, W = (32/45)/0.4 + 1
    /// = 25/9.
    #[test]
    fn erlang_c_by_hand() {
        assert!((erlang_c(4, 2.0) - 4.0 / 23.0).abs() < 1e-12);
        assert!((mmc_time_in_system(4, 0.5) - 25.0 / 23.0).abs() < 1e-12);
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        assert!((mmc_time_in_system(1, 0.8) - 5.0).abs() < 1e-12);
        assert!((erlang_c(2, 1.6) - 32.0 / 45.0).abs() < 1e-12);
        assert!((mmc_time_in_system(2, 0.8) - 25.0 / 9.0).abs() < 1e-12);
    }
}
