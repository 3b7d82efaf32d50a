//! Alternating up/down sessions: the standard per-node churn model.
//!
//! A node alternates between up sessions drawn from `up` and down sessions
//! drawn from `down`, independently. With [`Start::Equilibrium`] (the
//! default) the process is *stationary from t = 0*: a node starts up with
//! probability `mean_up / (mean_up + mean_down)` and its first transition
//! comes after the *residual* of the current session
//! ([`Dist::sample_residual`]), which is the exact equilibrium law of an
//! alternating renewal process. [`Start::Fresh`] starts every node up on a
//! fresh session, which leaves a warm-up transient in every statistic; it is
//! kept for comparison.
//!
//! With permanent departures the start is stationary for the up/down
//! alternation of the nodes present at t = 0; how the population evolves
//! afterwards depends on how the engine replaces departed nodes.
//!
//! Permanent departures ([`PermanentPolicy`]) end a node for good: the model
//! reports `Down { permanent: true }` and no further transition. The engine,
//! not the model, drops the disk and decides whether a replacement joins
//! under a new id (it then calls [`ChurnModel::join`] or
//! [`ChurnModel::initial`] for the new id).

use super::dist::{Dist, DistError};
use super::{ChurnModel, Transition};
use crate::units::{Duration, Time};
use rand::RngExt;

/// How a node starts at t = 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Start {
    /// Stationary start: up with probability `mean_up / (mean_up +
    /// mean_down)`, first transition after the residual of the current
    /// session.
    #[default]
    Equilibrium,
    /// Every node up on a fresh up session (biased: a warm-up transient).
    Fresh,
}

/// When a node leaves for good.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum PermanentPolicy {
    /// Never: all failures are transient.
    #[default]
    Never,
    /// Each failure (end of an up session) is permanent with this
    /// probability, independently (values outside [0, 1] are clamped by the
    /// comparison: ≤ 0 never, ≥ 1 always; see
    /// [`PermanentPolicy::probability_per_failure`] for a checked
    /// constructor).
    ProbabilityPerFailure(f64),
    /// A separate departure clock: the node's lifetime in the system is
    /// exponential with this mean (a zero mean disables it; build it with
    /// [`PermanentPolicy::departure_rate`] to have it checked), running in wall-clock time whether the
    /// node is up or down. Because it is memoryless it is redrawn at every
    /// transition without per-node state. A departure that falls inside a
    /// down session is reported at that instant (the node is already down
    /// and simply never returns).
    DepartureRate {
        /// Mean lifetime of a node in the system.
        mean_lifetime: Duration,
    },
}

impl PermanentPolicy {
    /// [`PermanentPolicy::ProbabilityPerFailure`] with `p` checked to be in
    /// [0, 1].
    pub fn probability_per_failure(p: f64) -> Result<Self, DistError> {
        if (0.0..=1.0).contains(&p) {
            Ok(PermanentPolicy::ProbabilityPerFailure(p))
        } else {
            Err(DistError {
                family: "permanent-failure",
                param: "probability",
                value: p.to_string(),
                expected: "a probability in [0, 1]",
            })
        }
    }

    /// [`PermanentPolicy::DepartureRate`] with a positive mean lifetime.
    pub fn departure_rate(mean_lifetime: Duration) -> Result<Self, DistError> {
        if mean_lifetime.as_nanos() == 0 {
            return Err(DistError {
                family: "permanent-failure",
                param: "mean_lifetime",
                value: mean_lifetime.to_string(),
                expected: "a positive duration",
            });
        }
        Ok(PermanentPolicy::DepartureRate { mean_lifetime })
    }
}

/// Alternating up/down sessions (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Alternating {
    /// Distribution of up-session lengths.
    pub up: Dist,
    /// Distribution of down-session lengths.
    pub down: Dist,
    /// When a failure is permanent.
    pub permanent: PermanentPolicy,
    /// How nodes start at t = 0.
    pub start: Start,
}

impl Alternating {
    /// Sessions from `up` and `down`, equilibrium start, no permanent
    /// departures.
    pub fn new(up: Dist, down: Dist) -> Self {
        Alternating {
            up,
            down,
            permanent: PermanentPolicy::Never,
            start: Start::Equilibrium,
        }
    }

    /// The same model with another permanent-departure policy.
    pub fn with_permanent(mut self, permanent: PermanentPolicy) -> Self {
        self.permanent = permanent;
        self
    }

    /// The same model with another start.
    pub fn with_start(mut self, start: Start) -> Self {
        self.start = start;
        self
    }

    /// Long-run fraction of time a node is up (ignoring permanent
    /// departures): `mean_up / (mean_up + mean_down)`.
    pub fn availability(&self) -> f64 {
        let (u, d) = (
            self.up.mean().as_nanos() as f64,
            self.down.mean().as_nanos() as f64,
        );
        u / (u + d)
    }

    /// The session that starts (or is in progress) now, ending with the
    /// departure clock if that fires first.
    fn session(
        &self,
        is_up: bool,
        len: Duration,
        rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)> {
        if let PermanentPolicy::DepartureRate { mean_lifetime } = self.permanent {
            // Memoryless: the remaining lifetime is a fresh exponential.
            let life = Dist::exponential(mean_lifetime)
                .map(|d| d.sample(rng))
                .unwrap_or(Duration::ZERO);
            if life.as_nanos() > 0 && life < len {
                return Some((life, Transition::Down { permanent: true }));
            }
        }
        let t = if is_up {
            let permanent = match self.permanent {
                PermanentPolicy::ProbabilityPerFailure(p) => rng.random::<f64>() < p,
                _ => false,
            };
            Transition::Down { permanent }
        } else {
            Transition::Up
        };
        Some((len, t))
    }
}

impl ChurnModel for Alternating {
    fn initial(
        &self,
        _node: u32,
        rng: &mut dyn rand::Rng,
    ) -> (bool, Option<(Duration, Transition)>) {
        match self.start {
            Start::Fresh => {
                let len = self.up.sample(rng);
                (true, self.session(true, len, rng))
            }
            Start::Equilibrium => {
                let is_up = rng.random::<f64>() < self.availability();
                let dist = if is_up { &self.up } else { &self.down };
                let len = dist.sample_residual(rng);
                (is_up, self.session(is_up, len, rng))
            }
        }
    }

    fn next(
        &self,
        _node: u32,
        _now: Time,
        t: &Transition,
        rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)> {
        match t {
            Transition::Down { permanent: true } => None,
            Transition::Down { permanent: false } => {
                let len = self.down.sample(rng);
                self.session(false, len, rng)
            }
            Transition::Up => {
                let len = self.up.sample(rng);
                self.session(true, len, rng)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::churn::stats::{SessionFilter, SessionStats};
    use crate::churn::testutil::{batch_mean_se, feed, node_rng, run_node, within};

    const H: u64 = 3_600;
    fn hours(h: u64) -> Duration {
        Duration::from_secs(h * H)
    }
    fn at_h(h: u64) -> Time {
        Time(h * H * 1_000_000_000)
    }

    /// Fraction of nodes up, per 15-minute bin over the first `bins` bins,
    /// within 4 standard errors of `expected` in every bin. Batch means over
    /// 20 batches of nodes (nodes are independent).
    fn fraction_up_matches(
        model: &Alternating,
        nodes: u32,
        bins: u64,
        expected: f64,
        seed: u64,
    ) -> bool {
        let bin = Duration::from_secs(900);
        let horizon = Time(bin.as_nanos() * bins);
        let batches = 20;
        let per = nodes / batches;
        let mut per_batch: Vec<Vec<Option<f64>>> = Vec::new();
        for b in 0..batches {
            let mut stats = SessionStats::new(bin, horizon);
            for node in b * per..(b + 1) * per {
                feed(&mut stats, &run_node(model, seed, node, horizon));
            }
            stats.finish(horizon);
            per_batch.push(stats.fraction_up());
        }
        let mut ok = true;
        let mut worst = (0.0f64, 0, 0.0, 0.0);
        for i in 0..bins as usize {
            let xs: Vec<f64> = per_batch.iter().map(|f| f[i].unwrap()).collect();
            let (m, se) = batch_mean_se(&xs, xs.len());
            let z = (m - expected).abs() / se;
            if z > worst.0 {
                worst = (z, i, m, se);
            }
            ok &= within(m, se, expected, 4.0);
        }
        let (z, i, m, se) = worst;
        eprintln!("worst bin {i}: up fraction {m:.4} ± {se:.4} = {z:.2} SE from {expected:.4}");
        ok
    }

    fn weibull_half(mean_up_h: u64, mean_down_h: u64) -> Alternating {
        Alternating::new(
            Dist::weibull(hours(mean_up_h), 0.5).unwrap(),
            Dist::weibull(hours(mean_down_h), 0.5).unwrap(),
        )
    }

    #[test]
    fn churn_equilibrium_start_is_stationary_from_time_zero() {
        let m = weibull_half(1, 2);
        // 1 h / (1 h + 2 h), from the parameters, not from the model.
        let expected = 1.0 / 3.0;
        assert!(fraction_up_matches(&m, 2_000, 16, expected, 11));
        // Negative control: everyone fresh and up at t = 0.
        let fresh = m.clone().with_start(Start::Fresh);
        assert!(!fraction_up_matches(&fresh, 2_000, 16, expected, 11));
    }

    #[test]
    fn churn_equilibrium_start_other_families() {
        // Up mean 1 h, down mean 3 h: a quarter of the nodes up.
        let families: [fn(Duration) -> Dist; 3] = [
            |m| Dist::exponential(m).unwrap(),
            |m| Dist::pareto(m, 1.5).unwrap(),
            |m| Dist::log_normal(m, 1.5).unwrap(),
        ];
        for (i, f) in families.iter().enumerate() {
            let m = Alternating::new(f(hours(1)), f(hours(3)));
            assert!(
                fraction_up_matches(&m, 2_000, 16, 0.25, 20 + i as u64),
                "{m:?}"
            );
            let fresh = m.with_start(Start::Fresh);
            assert!(
                !fraction_up_matches(&fresh, 2_000, 16, 0.25, 20 + i as u64),
                "{fresh:?}"
            );
        }
    }

    /// Mean of `lengths` (ordered by node, so contiguous batches are
    /// independent) within 4 batch-means standard errors of `expected_s`.
    fn mean_matches(lengths: &[Duration], expected_s: f64) -> (bool, f64) {
        let xs: Vec<f64> = lengths.iter().map(|d| d.as_secs_f64()).collect();
        let (m, se) = batch_mean_se(&xs, 20);
        eprintln!(
            "n {}: mean {m:.1} s ± {se:.1} (expected {expected_s:.1})",
            xs.len()
        );
        (within(m, se, expected_s, 4.0), m)
    }

    /// The fraction of `lengths` below `median_s` is 1/2 within 4 binomial
    /// standard errors.
    fn median_matches(lengths: &[Duration], median_s: f64) -> bool {
        let n = lengths.len() as f64;
        let below = lengths
            .iter()
            .filter(|d| d.as_secs_f64() < median_s)
            .count() as f64;
        eprintln!(
            "n {n}: fraction below median {:.4} ± {:.4} (expected 0.5)",
            below / n,
            (0.25 / n).sqrt()
        );
        within(below / n, (0.25 / n).sqrt(), 0.5, 4.0)
    }

    /// Up sessions of a population: (started inside [5 h, 15 h), all seen in
    /// that window).
    fn observed_up_sessions(d: &Dist, seed: u64) -> (Vec<Duration>, Vec<Duration>) {
        let model = Alternating::new(d.clone(), d.clone());
        let (from, to) = (at_h(5), at_h(15));
        let mut stats = SessionStats::new(hours(1), to);
        let mut last = Time::ZERO;
        for node in 0..2_000 {
            let h = run_node(&model, seed, node, to);
            last = last.max(h.transitions.last().map_or(Time::ZERO, |t| t.0));
            feed(&mut stats, &h);
        }
        stats.finish(last);
        (
            stats.lengths(true, SessionFilter::StartedIn { from, to }),
            stats.lengths(true, SessionFilter::Overlapping { from, to }),
        )
    }

    #[test]
    fn churn_session_means_recovered_and_naive_estimate_biased() {
        let mean_s = 3_600.0;
        let families = [
            Dist::exponential(hours(1)).unwrap(),
            Dist::weibull(hours(1), 0.5).unwrap(),
            Dist::log_normal(hours(1), 1.0).unwrap(),
        ];
        for (i, d) in families.iter().enumerate() {
            let (inside, seen) = observed_up_sessions(d, 100 + i as u64);
            let (ok, m) = mean_matches(&inside, mean_s);
            assert!(ok, "{d:?}: started-inside mean {m} s vs {mean_s} s");
            let (ok_naive, m_naive) = mean_matches(&seen, mean_s);
            assert!(
                !ok_naive && m_naive > mean_s,
                "{d:?}: naive mean {m_naive} s not biased upward"
            );
        }
    }

    #[test]
    fn churn_pareto_median_recovered_and_naive_estimate_biased() {
        // Shape 1.5: infinite variance, so compare medians.
        // x_m = mean (α − 1) / α = 1200 s; median = x_m 2^(1/α).
        let median_s = 1_200.0 * 2f64.powf(1.0 / 1.5);
        let d = Dist::pareto(hours(1), 1.5).unwrap();
        let (inside, seen) = observed_up_sessions(&d, 7);
        assert!(median_matches(&inside, median_s));
        assert!(!median_matches(&seen, median_s));
        let below = seen.iter().filter(|x| x.as_secs_f64() < median_s).count();
        assert!(
            (below as f64) < 0.5 * seen.len() as f64,
            "naive sessions are longer"
        );
        // Wrong shape, same mean: the same check rejects it.
        let wrong = Dist::pareto(hours(1), 1.2).unwrap();
        let (inside_wrong, _) = observed_up_sessions(&wrong, 7);
        assert!(!median_matches(&inside_wrong, median_s));
    }

    /// Fraction of failures that are permanent, within 4 binomial SE of `p`.
    fn permanent_fraction_matches(model: &Alternating, p: f64) -> bool {
        let (mut failures, mut permanent) = (0u64, 0u64);
        for node in 0..5_000 {
            let h = run_node(model, 3, node, Time::MAX);
            let mut up = h.initial_up;
            for (_, t) in &h.transitions {
                if up && !t.is_up() {
                    failures += 1;
                    permanent += u64::from(t.is_permanent());
                }
                up = t.is_up();
            }
            assert!(h.transitions.last().unwrap().1.is_permanent());
        }
        let n = failures as f64;
        eprintln!(
            "failures {n}: permanent fraction {:.4} (expected {p})",
            permanent as f64 / n
        );
        within(permanent as f64 / n, (p * (1.0 - p) / n).sqrt(), p, 4.0)
    }

    #[test]
    fn churn_permanent_probability_per_failure() {
        let base = Alternating::new(
            Dist::exponential(hours(1)).unwrap(),
            Dist::exponential(hours(1)).unwrap(),
        );
        let m = base
            .clone()
            .with_permanent(PermanentPolicy::probability_per_failure(0.2).unwrap());
        assert!(permanent_fraction_matches(&m, 0.2));
        let wrong = base.with_permanent(PermanentPolicy::ProbabilityPerFailure(0.25));
        assert!(!permanent_fraction_matches(&wrong, 0.2));
        assert!(PermanentPolicy::probability_per_failure(1.5).is_err());
    }

    /// Mean time of the permanent departure within 4 SE of `mean_h` hours.
    fn lifetime_matches(model: &Alternating, mean_h: f64) -> bool {
        let lifetimes: Vec<f64> = (0..5_000)
            .map(|node| {
                let h = run_node(model, 5, node, Time::MAX);
                let (t, tr) = h.transitions.last().copied().unwrap();
                assert!(tr.is_permanent());
                t.as_secs_f64() / 3_600.0
            })
            .collect();
        let (m, se) = batch_mean_se(&lifetimes, 20);
        eprintln!("lifetime {m:.3} h ± {se:.3} (expected {mean_h})");
        within(m, se, mean_h, 4.0)
    }

    #[test]
    fn churn_permanent_departure_clock() {
        let base = Alternating::new(
            Dist::weibull(hours(1), 0.5).unwrap(),
            Dist::exponential(hours(2)).unwrap(),
        );
        let m = base
            .clone()
            .with_permanent(PermanentPolicy::departure_rate(hours(10)).unwrap());
        assert!(lifetime_matches(&m, 10.0));
        let wrong = base.with_permanent(PermanentPolicy::departure_rate(hours(12)).unwrap());
        assert!(!lifetime_matches(&wrong, 10.0));
    }

    #[test]
    fn churn_same_stream_same_history() {
        let m = weibull_half(1, 2).with_permanent(PermanentPolicy::ProbabilityPerFailure(0.1));
        let a = run_node(&m, 42, 9, at_h(100));
        let b = run_node(&m, 42, 9, at_h(100));
        assert_eq!(
            (a.initial_up, &a.transitions),
            (b.initial_up, &b.transitions)
        );
        let c = run_node(&m, 42, 10, at_h(100));
        assert_ne!(a.transitions, c.transitions);
        // A `&mut dyn Rng` and a concrete generator give the same draws.
        let mut r1 = node_rng(42, 9);
        let mut r2 = node_rng(42, 9);
        let dyn_rng: &mut dyn rand::Rng = &mut r2;
        assert_eq!(m.up.sample(&mut r1), m.up.sample(dyn_rng));
    }
}
