//! `churn-equilibrium` and `churn-snapshots`: what the engine's churn does,
//! against renewal theory.
//!
//! Both run a [`Sim`] of probe nodes driven by an
//! [`Alternating`](sim_core::churn::Alternating) churn model and read each
//! node's up and down times from its own `on_start` / `on_stop` calls (what
//! a protocol would see). The expected values are computed here from the
//! session laws' parameters with this module's own special functions, never
//! from the churn module's samplers or means.
//!
//! **churn-equilibrium.** An alternating renewal process in equilibrium
//! has, at every instant t, P(up) = A = E[U]/(E[U] + E[D]), and the time
//! left in the up session in progress (the residual life R) has the
//! forward-recurrence law P(R > x) = (1/E[U]) ∫_x^∞ S(u) du, S being the
//! up sessions' survival function (Cox, Renewal Theory, 1962, §5.2; the
//! equilibrium start of Stutzbach & Rejaie's churn models). Points: the
//! fraction of nodes up at the times `at_h` (hours), and P(R > x) at the
//! `residual_x_h` of the nodes up at `residual_at_h`. Standard errors across
//! `groups` disjoint groups of nodes (independent: each node has its own
//! churn stream).
//!
//! **churn-snapshots.** Session lengths measured by periodic snapshots every
//! Δ over a window of length W (Stutzbach & Rejaie, "Understanding Churn in
//! Peer-to-Peer Networks", IMC 2006, §3–4): a session shorter than Δ may
//! fall between two snapshots and be missed, and sessions in progress at
//! the window's ends are cut. The create-based method they use keeps only
//! sessions first seen (after a snapshot that saw the node down) in the
//! first half of the window and reads lengths up to W/2, which every kept
//! session can reach. With the phase of a session's start uniform between
//! snapshots (true in equilibrium) a session of length L is seen by N
//! snapshots with E[N | L] = L/Δ and P(N ≥ j | L) = clamp(L/Δ − j + 1, 0,
//! 1), hence P(N ≥ j) = (1/Δ) ∫_{(j−1)Δ}^{jΔ} S. Of the sessions seen at
//! least once, the create-based mean of min(N, J)·Δ (J = W/(2Δ)) is then
//! Δ ∫_0^{JΔ} S / ∫_0^Δ S, which tends to E[U] as Δ → 0 and W → ∞, and
//! the fraction seen more than j times is ∫_{jΔ}^{(j+1)Δ} S / ∫_0^Δ S.
//! This needs every down session to hold a snapshot (down sessions of at
//! least Δ: `constant` or `pareto` with x_m ≥ Δ), else two up sessions
//! merge. `method = "all"` is the naive estimate: every run of up
//! snapshots, cut sessions included.

use crate::check::{CheckError, Measurement, Params, Point, mean_se};
use serde::{Deserialize, Serialize};
use sim_core::churn::{Alternating, Dist, Start};
use sim_core::prelude::*;

// ------------------------------------------------------------ special functions

/// ln Γ(x), x > 0, by the recurrence Γ(x) = Γ(x + n)/(x(x+1)…(x+n−1)) up
/// to x + n ≥ 15 and Stirling's series there (error below 1e-12).
pub fn ln_gamma(x: f64) -> f64 {
    let mut x = x;
    let mut shift = 0.0;
    while x < 15.0 {
        shift += x.ln();
        x += 1.0;
    }
    let x2 = x * x;
    let series = 1.0 / (12.0 * x) - 1.0 / (360.0 * x * x2) + 1.0 / (1260.0 * x * x2 * x2)
        - 1.0 / (1680.0 * x * x2 * x2 * x2);
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + series - shift
}

/// The regularised upper incomplete gamma function Q(a, x) =
/// Γ(a, x)/Γ(a), a > 0, x ≥ 0: the series of P = 1 − Q below x = a + 1,
/// the continued fraction of Q above (Press et al., Numerical Recipes,
/// §6.2).
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let front = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        1.0 - sum * front
    } else {
        // Modified Lentz.
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        front * h
    }
}

// ------------------------------------------------------------ session laws

/// A session law by its parameters (mean in hours), with its survival
/// function and its residual-life survival function computed in closed
/// form.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Law {
    /// Exponential of mean `m`.
    Exponential {
        /// Mean (h).
        m: f64,
    },
    /// Weibull of mean `m` and shape `k` (scale m/Γ(1 + 1/k)).
    Weibull {
        /// Mean (h).
        m: f64,
        /// Shape.
        k: f64,
    },
    /// Pareto (type I) of mean `m` and shape `a` > 1 (x_m = m(a − 1)/a).
    Pareto {
        /// Mean (h).
        m: f64,
        /// Shape.
        a: f64,
    },
    /// Exactly `m`.
    Constant {
        /// The length (h).
        m: f64,
    },
}

impl Law {
    /// From a parameter's text (the churn module's syntax, e.g.
    /// `weibull(1h, 0.5)`), checked by [`Dist`]'s parser.
    pub fn parse(key: &str, text: &str) -> Result<(Law, Dist), CheckError> {
        let d: Dist = text
            .parse()
            .map_err(|e| CheckError::param(key, format!("{text:?}: {e}")))?;
        let m = d.mean().as_secs_f64() / 3600.0;
        let law = match (d.family(), d.shape()) {
            ("exponential", _) => Law::Exponential { m },
            ("constant", _) => Law::Constant { m },
            ("weibull", Some(k)) => Law::Weibull { m, k },
            ("pareto", Some(a)) => Law::Pareto { m, a },
            _ => {
                return Err(CheckError::param(
                    key,
                    format!("{text:?}: expected an exponential, Weibull, Pareto or constant law"),
                ));
            }
        };
        Ok((law, d))
    }
    /// The mean (h).
    pub fn mean(&self) -> f64 {
        match *self {
            Law::Exponential { m }
            | Law::Weibull { m, .. }
            | Law::Pareto { m, .. }
            | Law::Constant { m } => m,
        }
    }
    /// The shortest possible session (h).
    pub fn min(&self) -> f64 {
        match *self {
            Law::Exponential { .. } | Law::Weibull { .. } => 0.0,
            Law::Pareto { m, a } => m * (a - 1.0) / a,
            Law::Constant { m } => m,
        }
    }
    /// P(L > x), x in hours.
    pub fn survival(&self, x: f64) -> f64 {
        match *self {
            Law::Exponential { m } => (-x / m).exp(),
            Law::Weibull { m, k } => {
                let scale = m / ln_gamma(1.0 + 1.0 / k).exp();
                (-(x / scale).powf(k)).exp()
            }
            Law::Pareto { .. } => {
                let xm = self.min();
                if x < xm {
                    1.0
                } else {
                    (xm / x).powf(match *self {
                        Law::Pareto { a, .. } => a,
                        _ => unreachable!(),
                    })
                }
            }
            Law::Constant { m } => {
                if x < m {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
    /// The residual life's survival: (1/m) ∫_x^∞ S(u) du. Exponential:
    /// e^{−x/m}; Weibull: Q(1/k, (x/λ)^k) (since ∫_x^∞ S = (λ/k) Γ(1/k,
    /// (x/λ)^k) and m = (λ/k) Γ(1/k)); Pareto: (x_m/x)^{a−1}/a above x_m,
    /// (x_m − x + x_m/(a − 1))/m below; constant: 1 − x/m below m.
    pub fn residual_survival(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 1.0;
        }
        match *self {
            Law::Exponential { m } => (-x / m).exp(),
            Law::Weibull { m, k } => {
                let scale = m / ln_gamma(1.0 + 1.0 / k).exp();
                gamma_q(1.0 / k, (x / scale).powf(k))
            }
            Law::Pareto { m, a } => {
                let xm = self.min();
                if x >= xm {
                    (xm / x).powf(a - 1.0) / a
                } else {
                    (xm - x + xm / (a - 1.0)) / m
                }
            }
            Law::Constant { m } => (1.0 - x / m).max(0.0),
        }
    }
    /// ∫_x^y S(u) du (h).
    pub fn integral(&self, x: f64, y: f64) -> f64 {
        self.mean() * (self.residual_survival(x) - self.residual_survival(y))
    }
}

// ------------------------------------------------------------ the probe

/// A node that only notes when it is up.
#[derive(Debug, Clone, Default)]
struct Probe {
    /// (time, up after) at every start and stop, in order.
    events: Vec<(Time, bool)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Nothing;
impl Message for Nothing {}

impl Node for Probe {
    type Msg = Nothing;
    type Timer = ();
    type Request = ();
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        self.events.push((cx.now(), true));
    }
    fn on_message(&mut self, _: &mut Cx<'_, Self>, _: NodeId, _: Nothing) {}
    fn on_timer(&mut self, _: &mut Cx<'_, Self>, _: ()) {}
    fn on_stop(&mut self, cx: &mut Cx<'_, Self>, _: Stop) {
        self.events.push((cx.now(), false));
    }
}

impl Probe {
    /// Up at `t` (the state after every event at or before `t`).
    fn up_at(&self, t: Time) -> bool {
        let i = self.events.partition_point(|e| e.0 <= t);
        i > 0 && self.events[i - 1].1
    }
    /// The first stop strictly after `t`.
    fn next_down_after(&self, t: Time) -> Option<Time> {
        let i = self.events.partition_point(|e| e.0 <= t);
        self.events[i..].iter().find(|e| !e.1).map(|e| e.0)
    }
}

/// Runs `nodes` probes under `model` until `end`.
fn run_probes(
    seed: u64,
    model: Alternating,
    nodes: usize,
    end: Time,
) -> Result<Vec<Probe>, CheckError> {
    let sim_err = |e: SimError| CheckError(format!("simulation: {e}"));
    let rate = Rate::new(1_000_000).map_err(|e| CheckError(e.to_string()))?;
    let mut sim: Sim<Probe> = Sim::new(SimConfig::new(
        seed,
        SimpleNet::constant(Duration::ZERO, rate),
    ));
    sim.set_churn(model).map_err(sim_err)?;
    sim.reserve_nodes(nodes);
    for _ in 0..nodes {
        sim.add_node(Probe::default());
    }
    sim.run(RunLimits::until(end)).map_err(sim_err)?;
    Ok(sim.nodes().to_vec())
}

fn hours(h: f64) -> Time {
    Time(Duration::from_secs_f64(h * 3600.0).as_nanos())
}

fn common(p: &Params) -> Result<(Law, Law, Alternating, usize, usize, u64), CheckError> {
    let (up, up_d) = Law::parse("up", &p.str("up", "weibull(1h, 0.5)")?)?;
    let (down, down_d) = Law::parse("down", &p.str("down", "exponential(30min)")?)?;
    let start = match p.str("start", "equilibrium")?.as_str() {
        "equilibrium" => Start::Equilibrium,
        "fresh" => Start::Fresh,
        s => {
            return Err(CheckError::param(
                "start",
                format!("{s:?}: expected \"equilibrium\" or \"fresh\""),
            ));
        }
    };
    let nodes = p.u64("nodes", 20_000)? as usize;
    let groups = p.u64("groups", 20)? as usize;
    if groups < 2 || nodes < 10 * groups {
        return Err(CheckError::param(
            "groups",
            "need 2 or more groups of 10 or more nodes",
        ));
    }
    let model = Alternating::new(up_d, down_d).with_start(start);
    Ok((up, down, model, nodes, groups, p.u64("seed", 1)?))
}

// ------------------------------------------------------------ churn-equilibrium

/// The `churn-equilibrium` driver.
pub fn equilibrium(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "up",
        "down",
        "start",
        "nodes",
        "groups",
        "seed",
        "at_h",
        "residual_at_h",
        "residual_x_h",
    ])?;
    let (up, down, model, nodes, groups, seed) = common(p)?;
    let at = p.f64s("at_h", &[0.0, 0.25, 1.0, 4.0])?;
    let t0 = p.f64("residual_at_h", 0.0)?;
    let xs = p.f64s("residual_x_h", &[0.1, 0.5, 2.0])?;
    if at
        .iter()
        .chain(&xs)
        .chain([&t0])
        .any(|&v| !(0.0..=1e4).contains(&v))
    {
        return Err(CheckError::param("at_h", "times in hours from 0 to 10000"));
    }
    let horizon = at
        .iter()
        .copied()
        .fold(t0 + xs.iter().copied().fold(0.0, f64::max), f64::max);
    let probes = run_probes(seed, model.clone(), nodes, hours(horizon) + Duration(1))?;
    let avail = up.mean() / (up.mean() + down.mean());
    let mut points = Vec::new();
    for &t in &at {
        let per: Vec<f64> = (0..groups)
            .map(|g| {
                let ns: Vec<&Probe> = probes.iter().skip(g).step_by(groups).collect();
                ns.iter().filter(|n| n.up_at(hours(t))).count() as f64 / ns.len() as f64
            })
            .collect();
        let (m, se) = mean_se(&per);
        points.push(Point::analytic(format!("P(up) at t={t}h"), m, se, avail).at(t));
    }
    for &x in &xs {
        let per: Vec<f64> = (0..groups)
            .map(|g| {
                let ups: Vec<&Probe> = probes
                    .iter()
                    .skip(g)
                    .step_by(groups)
                    .filter(|n| n.up_at(hours(t0)))
                    .collect();
                let longer = ups
                    .iter()
                    .filter(|n| {
                        n.next_down_after(hours(t0))
                            .is_none_or(|d| d > hours(t0 + x))
                    })
                    .count();
                longer as f64 / ups.len().max(1) as f64
            })
            .collect();
        let (m, se) = mean_se(&per);
        let e = up.residual_survival(x);
        points.push(Point::analytic(
            format!("P(R > {x}h) of nodes up at {t0}h"),
            m,
            se,
            e,
        ));
    }
    Ok(Measurement {
        points,
        axes: None,
        curve: Vec::new(),
        note: format!(
            "{nodes} nodes over {horizon} h, up {} and down {}, {:?} start; SE across {groups} \
             groups of nodes",
            p.str("up", "weibull(1h, 0.5)")?,
            p.str("down", "exponential(30min)")?,
            model.start
        ),
    })
}

// ------------------------------------------------------------ churn-snapshots

/// The `churn-snapshots` driver.
pub fn snapshots(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "up", "down", "start", "nodes", "groups", "seed", "interval", "window", "method", "x_h",
    ])?;
    let (up, down, model, nodes, groups, seed) = common(p)?;
    let dt = p.duration("interval", Duration::from_secs(300))?;
    let w = p.duration("window", Duration::from_secs(8 * 3600))?;
    let create = match p.str("method", "create")?.as_str() {
        "create" => true,
        "all" => false,
        s => {
            return Err(CheckError::param(
                "method",
                format!("{s:?}: expected \"create\" or \"all\""),
            ));
        }
    };
    if dt.as_nanos() == 0 || w.as_nanos() / dt.as_nanos() < 4 {
        return Err(CheckError::param("window", "at least 4 snapshot intervals"));
    }
    let dt_h = dt.as_secs_f64() / 3600.0;
    if down.min() < dt_h {
        return Err(CheckError::param(
            "down",
            "down sessions must last at least one snapshot interval (a constant or a Pareto law \
             with x_m ≥ the interval), else up sessions merge between snapshots",
        ));
    }
    let k = (w.as_nanos() / dt.as_nanos()) as usize / 2 * 2;
    let j = k / 2;
    let xs = p.f64s("x_h", &[0.5, 1.0, 2.0])?;
    let js: Vec<usize> = xs
        .iter()
        .map(|&x| {
            let r = x / dt_h;
            if (r - r.round()).abs() > 1e-9 || r < 0.5 || r.round() as usize >= j {
                Err(CheckError::param(
                    "x_h",
                    format!("{x}: expected a multiple of the interval below half the window"),
                ))
            } else {
                Ok(r.round() as usize)
            }
        })
        .collect::<Result<_, _>>()?;
    let snap = |i: usize| Time(dt.as_nanos() / 2 + i as u64 * dt.as_nanos());
    let probes = run_probes(seed, model, nodes, snap(k))?;
    // Per group: the kept runs' lengths in snapshots.
    let mut runs: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for (n, probe) in probes.iter().enumerate() {
        let seen: Vec<bool> = (0..k).map(|i| probe.up_at(snap(i))).collect();
        let mut i = 0;
        while i < k {
            if !seen[i] {
                i += 1;
                continue;
            }
            let s = i;
            while i < k && seen[i] {
                i += 1;
            }
            let len = i - s;
            if create {
                if s >= 1 && s < j {
                    runs[n % groups].push(len.min(j));
                }
            } else {
                runs[n % groups].push(len);
            }
        }
    }
    let integral0 = up.integral(0.0, dt_h);
    let mut points = Vec::new();
    let means: Vec<f64> = runs
        .iter()
        .map(|r| r.iter().sum::<usize>() as f64 * dt_h / r.len().max(1) as f64)
        .collect();
    let (m, se) = mean_se(&means);
    let e = dt_h * up.integral(0.0, j as f64 * dt_h) / integral0;
    points.push(Point::analytic("mean session (h)", m, se, e));
    for (&x, &jj) in xs.iter().zip(&js) {
        let per: Vec<f64> = runs
            .iter()
            .map(|r| r.iter().filter(|&&l| l > jj).count() as f64 / r.len().max(1) as f64)
            .collect();
        let (m, se) = mean_se(&per);
        let e = up.integral(jj as f64 * dt_h, (jj + 1) as f64 * dt_h) / integral0;
        points.push(Point::analytic(format!("P(length > {x}h)"), m, se, e).at(x));
    }
    let kept: usize = runs.iter().map(Vec::len).sum();
    Ok(Measurement {
        points,
        axes: None,
        curve: Vec::new(),
        note: format!(
            "{nodes} nodes, snapshots every {dt} over {w} ({} method, {kept} sessions kept), up \
             {} and down {}; SE across {groups} groups of nodes",
            if create { "create-based" } else { "naive" },
            p.str("up", "weibull(1h, 0.5)")?,
            p.str("down", "exponential(30min)")?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_functions_by_hand() {
        // Γ(3) = 2, Γ(1/2) = √π, Γ(5.5) = 52.34277778455352.
        assert!((ln_gamma(3.0) - 2f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        assert!((ln_gamma(5.5) - 52.342_777_784_553_52f64.ln()).abs() < 1e-12);
        // Q(1, x) = e^{−x}; Q(2, x) = (1 + x) e^{−x}; Q(1/2, 1) = erfc(1).
        for x in [0.1, 1.0, 2.5, 10.0] {
            assert!((gamma_q(1.0, x) - (-x).exp()).abs() < 1e-12);
            assert!((gamma_q(2.0, x) - (1.0 + x) * (-x).exp()).abs() < 1e-12);
        }
        assert!((gamma_q(0.5, 1.0) - 0.157_299_207_050_285_1).abs() < 1e-12);
    }

    /// Weibull of shape ½ and mean m: λ = m/Γ(3) = m/2, S(x) = e^{−s} with
    /// s = √(x/λ), and ∫_x^∞ S = λ ∫_{s}^∞ 2v e^{−v} dv = 2λ(1 + s)e^{−s},
    /// so P(R > x) = (1 + s) e^{−s}. Pareto of mean 1 h and shape 3: x_m =
    /// 2/3 h; above it P(R > x) = (x_m/x)²/3, at x = 4/3 h 1/12; below it
    /// (x_m − x + x_m/2)/m, at 0 1 and at 1/3 h 2/3.
    #[test]
    fn residual_laws_by_hand() {
        let w = Law::Weibull { m: 1.0, k: 0.5 };
        for x in [0.05, 0.5, 2.0] {
            let s = (x / 0.5f64).sqrt();
            assert!((w.survival(x) - (-s).exp()).abs() < 1e-12);
            assert!((w.residual_survival(x) - (1.0 + s) * (-s).exp()).abs() < 1e-12);
        }
        let p = Law::Pareto { m: 1.0, a: 3.0 };
        assert!((p.residual_survival(4.0 / 3.0) - 1.0 / 12.0).abs() < 1e-12);
        assert!((p.residual_survival(1.0 / 3.0) - 2.0 / 3.0).abs() < 1e-12);
        assert!((p.residual_survival(1e-9) - 1.0).abs() < 1e-8);
        assert!((p.survival(4.0 / 3.0) - 1.0 / 8.0).abs() < 1e-12);
        let e = Law::Exponential { m: 2.0 };
        assert!((e.residual_survival(1.0) - (-0.5f64).exp()).abs() < 1e-15);
        // ∫_0^∞ S = m.
        assert!((w.integral(0.0, 1e6) - 1.0).abs() < 1e-9);
    }
}
