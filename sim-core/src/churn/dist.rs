//! Session-length distributions, each set by its **mean** and a **shape**.
//!
//! A [`Dist`] is a validated distribution of positive session lengths. Users
//! think in means ("nodes stay up for 2 h on average"), so every family is
//! parametrised by its mean `m` plus a dimensionless shape; the scale is
//! derived:
//!
//! | family | parameters | density of `X` | scale from the mean |
//! |---|---|---|---|
//! | exponential | `m` | `f(x) = e^{-x/m} / m` | (the mean is the scale) |
//! | Weibull | `m`, shape `k > 0` | `f(x) = (k/λ)(x/λ)^{k-1} e^{-(x/λ)^k}` | `λ = m / Γ(1 + 1/k)` |
//! | Pareto | `m`, shape `α > 1` | `f(x) = α x_m^α / x^{α+1}`, `x ≥ x_m` | `x_m = m (α − 1) / α` |
//! | log-normal | `m`, `σ ≥ 0` | `ln X ~ Normal(μ, σ²)` | `μ = ln m − σ²/2` |
//! | constant | `m` | `X = m` | — |
//!
//! Besides plain draws ([`Dist::sample`]) a distribution offers the two
//! draws that an equilibrium start needs:
//!
//! - [`Dist::sample_length_biased`]: the length `L` of the session that
//!   covers a fixed instant, with density `x f(x) / m`. Closed forms:
//!   exponential → `Gamma(2, m)`; Weibull → `λ G^{1/k}` with
//!   `G ~ Gamma(1 + 1/k, 1)`; Pareto(`x_m`, `α`) → Pareto(`x_m`, `α − 1`);
//!   log-normal(`μ`, `σ`) → log-normal(`μ + σ²`, `σ`); constant → `m`.
//! - [`Dist::sample_residual`]: the remaining part `U·L` of that session
//!   (`U` uniform on (0, 1), independent of `L`), whose density is the
//!   stationary forward-recurrence density `(1 − F(x)) / m`.
//!
//! Samples are rounded to whole nanoseconds and are at least 1 ns, so a
//! session never has zero length and simulated time always advances. Very
//! heavy tails (a Pareto shape just above 1, whose length-biased law has
//! shape just above 0) can exceed the representable range; such samples
//! saturate at [`Duration::MAX`], so a caller adding them to a time should
//! use `Time::checked_add`.

use crate::units::Duration;
use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma, LogNormal, Pareto, Weibull};

/// A distribution parameter that is out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid {family} distribution: parameter `{param}` = {value}; expected {expected}")]
pub struct DistError {
    /// Distribution family ("exponential", "Weibull", "Pareto", "log-normal", ...).
    pub family: &'static str,
    /// Name of the offending parameter ("mean", "shape", "sigma", ...).
    pub param: &'static str,
    /// The value that was given, printed.
    pub value: String,
    /// What a valid value looks like.
    pub expected: &'static str,
}

/// A session-length distribution set by mean and shape (see the module docs
/// for the parametrisation). Build it with one of the constructors, which
/// validate the parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Dist {
    mean: Duration,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Constant,
    Exponential,
    Weibull { shape: f64, scale_s: f64 },
    Pareto { shape: f64, x_m_s: f64 },
    LogNormal { mu: f64, sigma: f64 },
}

fn check_mean(family: &'static str, mean: Duration) -> Result<f64, DistError> {
    if mean.as_nanos() == 0 {
        return Err(DistError {
            family,
            param: "mean",
            value: mean.to_string(),
            expected: "a positive duration",
        });
    }
    Ok(mean.as_secs_f64())
}

fn positive_finite(
    family: &'static str,
    param: &'static str,
    v: f64,
    expected: &'static str,
) -> Result<f64, DistError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(DistError {
            family,
            param,
            value: v.to_string(),
            expected,
        })
    }
}

impl Dist {
    /// Every session lasts exactly `mean` (no randomness; handy for
    /// schedules and tests). Its residual is still uniform on `(0, mean)`.
    pub fn constant(mean: Duration) -> Result<Dist, DistError> {
        check_mean("constant", mean)?;
        Ok(Dist {
            mean,
            kind: Kind::Constant,
        })
    }

    /// Exponential with the given mean (rate `1/mean`).
    pub fn exponential(mean: Duration) -> Result<Dist, DistError> {
        check_mean("exponential", mean)?;
        Ok(Dist {
            mean,
            kind: Kind::Exponential,
        })
    }

    /// Weibull with the given mean and shape `k > 0` (scale
    /// `λ = mean / Γ(1 + 1/k)`). `k < 1` is heavy-tailed (typical of P2P
    /// session lengths), `k = 1` is exponential.
    pub fn weibull(mean: Duration, shape: f64) -> Result<Dist, DistError> {
        const F: &str = "Weibull";
        let m = check_mean(F, mean)?;
        let k = positive_finite(F, "shape", shape, "a finite number > 0")?;
        let scale_s = (m.ln() - ln_gamma(1.0 + 1.0 / k)).exp();
        if !(scale_s.is_finite() && scale_s > 0.0) {
            return Err(DistError {
                family: F,
                param: "shape",
                value: shape.to_string(),
                expected: "a shape for which Γ(1 + 1/shape) is representable (shape ≥ 0.01)",
            });
        }
        Ok(Dist {
            mean,
            kind: Kind::Weibull { shape: k, scale_s },
        })
    }

    /// Pareto (type I) with the given mean and shape `α > 1`
    /// (`x_m = mean (α − 1) / α`). A shape `≤ 1` has no finite mean and is
    /// rejected; `1 < α ≤ 2` has infinite variance.
    pub fn pareto(mean: Duration, shape: f64) -> Result<Dist, DistError> {
        const F: &str = "Pareto";
        let m = check_mean(F, mean)?;
        if !(shape.is_finite() && shape > 1.0) {
            return Err(DistError {
                family: F,
                param: "shape",
                value: shape.to_string(),
                expected: "a finite number > 1 (a Pareto with shape ≤ 1 has no finite mean)",
            });
        }
        Ok(Dist {
            mean,
            kind: Kind::Pareto {
                shape,
                x_m_s: m * (shape - 1.0) / shape,
            },
        })
    }

    /// Log-normal with the given mean and `σ ≥ 0` (the standard deviation
    /// of `ln X`; `μ = ln(mean) − σ²/2`).
    pub fn log_normal(mean: Duration, sigma: f64) -> Result<Dist, DistError> {
        const F: &str = "log-normal";
        let m = check_mean(F, mean)?;
        if !(sigma.is_finite() && (0.0..=20.0).contains(&sigma)) {
            return Err(DistError {
                family: F,
                param: "sigma",
                value: sigma.to_string(),
                expected: "a finite number in [0, 20]",
            });
        }
        Ok(Dist {
            mean,
            kind: Kind::LogNormal {
                mu: m.ln() - sigma * sigma / 2.0,
                sigma,
            },
        })
    }

    /// The mean session length.
    pub fn mean(&self) -> Duration {
        self.mean
    }

    /// A session length.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        let m = self.mean.as_secs_f64();
        let s = match self.kind {
            Kind::Constant => return self.mean,
            Kind::Exponential => m * Distribution::<f64>::sample(&Exp1, rng),
            Kind::Weibull { shape, scale_s } => Weibull::new(scale_s, shape)
                .expect("validated Weibull parameters")
                .sample(rng),
            Kind::Pareto { shape, x_m_s } => Pareto::new(x_m_s, shape)
                .expect("validated Pareto parameters")
                .sample(rng),
            Kind::LogNormal { mu, sigma } => LogNormal::new(mu, sigma)
                .expect("validated log-normal parameters")
                .sample(rng),
        };
        to_duration(s)
    }

    /// The length of the session that covers a given instant in a
    /// stationary renewal process: density `x f(x) / mean` (see the module
    /// docs for the closed form of each family).
    pub fn sample_length_biased<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        let m = self.mean.as_secs_f64();
        let s = match self.kind {
            Kind::Constant => return self.mean,
            Kind::Exponential => Gamma::new(2.0, m)
                .expect("validated exponential mean")
                .sample(rng),
            Kind::Weibull { shape, scale_s } => {
                let g: f64 = Gamma::new(1.0 + 1.0 / shape, 1.0)
                    .expect("validated Weibull shape")
                    .sample(rng);
                scale_s * g.powf(1.0 / shape)
            }
            Kind::Pareto { shape, x_m_s } => Pareto::new(x_m_s, shape - 1.0)
                .expect("validated Pareto shape")
                .sample(rng),
            Kind::LogNormal { mu, sigma } => LogNormal::new(mu + sigma * sigma, sigma)
                .expect("validated log-normal parameters")
                .sample(rng),
        };
        to_duration(s)
    }

    /// The remaining length, from a given instant, of the session that
    /// covers it in a stationary renewal process: `U·L` with `U` uniform on
    /// (0, 1) and `L` from [`Dist::sample_length_biased`].
    pub fn sample_residual<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        let l = self.sample_length_biased(rng).as_nanos();
        // U·L in integers: L × (64 random bits) / 2^64, so U is uniform on [0, 1).
        let r = ((u128::from(l) * u128::from(rng.next_u64())) >> 64) as u64;
        Duration::from_nanos(r.max(1))
    }
}

impl Dist {
    /// Family name as used by [`Display`](std::fmt::Display) and parsing.
    pub fn family(&self) -> &'static str {
        match self.kind {
            Kind::Constant => "constant",
            Kind::Exponential => "exponential",
            Kind::Weibull { .. } => "weibull",
            Kind::Pareto { .. } => "pareto",
            Kind::LogNormal { .. } => "lognormal",
        }
    }

    /// The shape parameter (Weibull `k`, Pareto `α`, log-normal `σ`), if
    /// the family has one.
    pub fn shape(&self) -> Option<f64> {
        match self.kind {
            Kind::Constant | Kind::Exponential => None,
            Kind::Weibull { shape, .. } | Kind::Pareto { shape, .. } => Some(shape),
            Kind::LogNormal { sigma, .. } => Some(sigma),
        }
    }
}

/// Prints `family(mean)` or `family(mean, shape)`, e.g. `weibull(1h, 0.5)`;
/// the text parses back to the same distribution.
impl std::fmt::Display for Dist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.shape() {
            Some(k) => write!(f, "{}({}, {k})", self.family(), self.mean),
            None => write!(f, "{}({})", self.family(), self.mean),
        }
    }
}

/// Parses `exponential(MEAN)`, `constant(MEAN)`, `weibull(MEAN, SHAPE)`,
/// `pareto(MEAN, SHAPE)` or `lognormal(MEAN, SIGMA)`, where `MEAN` is a
/// duration with a unit (`"1h"`, `"30min"`); family names are
/// case-insensitive and `log-normal` is accepted.
impl std::str::FromStr for Dist {
    type Err = DistError;
    fn from_str(s: &str) -> Result<Dist, DistError> {
        const FORMS: &str = "exponential(MEAN), constant(MEAN), weibull(MEAN, SHAPE), pareto(MEAN, SHAPE) or lognormal(MEAN, SIGMA), MEAN with a unit such as 1h";
        let bad = |param: &'static str, value: &str| DistError {
            family: "session-length",
            param,
            value: format!("{value:?}"),
            expected: FORMS,
        };
        let t = s.trim();
        let (name, rest) = t.split_once('(').ok_or_else(|| bad("family", t))?;
        let args = rest.strip_suffix(')').ok_or_else(|| bad("family", t))?;
        let args: Vec<&str> = args.split(',').map(str::trim).collect();
        let mean: Duration = args[0].parse().map_err(|_| bad("mean", args[0]))?;
        let shape = |i: usize, param: &'static str| -> Result<f64, DistError> {
            match args.get(i) {
                Some(v) if args.len() == 2 => v.parse::<f64>().map_err(|_| bad(param, v)),
                _ => Err(bad(param, t)),
            }
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "exponential" | "constant" if args.len() != 1 => Err(bad("mean", t)),
            "exponential" => Dist::exponential(mean),
            "constant" => Dist::constant(mean),
            "weibull" => Dist::weibull(mean, shape(1, "shape")?),
            "pareto" => Dist::pareto(mean, shape(1, "shape")?),
            "lognormal" | "log-normal" => Dist::log_normal(mean, shape(1, "sigma")?),
            _ => Err(bad("family", name.trim())),
        }
    }
}

/// Seconds to a duration of at least 1 ns (saturating for huge values).
fn to_duration(s: f64) -> Duration {
    Duration::from_secs_f64(s).max(Duration::from_nanos(1))
}

/// `ln Γ(x)` for `x > 0`, by the Lanczos approximation (g = 7, 9 terms;
/// relative error below 1e-13 on the range used here). Returns NaN for
/// `x ≤ 0`.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x < 0.5 {
        // Γ(x) = Γ(x + 1) / x keeps the series in its accurate range.
        return ln_gamma(x + 1.0) - x.ln();
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// `Γ(x)` for `x > 0` (see [`ln_gamma`]).
pub fn gamma(x: f64) -> f64 {
    ln_gamma(x).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::churn::testutil::{mean_se, node_rng, within};

    const M: f64 = 3_600.0;
    fn hour() -> Duration {
        Duration::from_secs(3_600)
    }

    #[test]
    fn churn_gamma_matches_known_values() {
        let pi = std::f64::consts::PI;
        for (x, want) in [
            (1.0, 1.0),
            (2.0, 1.0),
            (5.0, 24.0),
            (0.5, pi.sqrt()),
            (1.5, pi.sqrt() / 2.0),
            (0.25, 3.625_609_908_221_908),
            (11.0, 3_628_800.0),
        ] {
            let g = gamma(x);
            assert!(
                (g - want).abs() <= 1e-12 * want,
                "Γ({x}) = {g}, want {want}"
            );
        }
        assert!(ln_gamma(0.0).is_nan() && ln_gamma(-1.0).is_nan());
    }

    #[test]
    fn churn_invalid_parameters_are_named() {
        let e = Dist::pareto(hour(), 1.0).unwrap_err();
        assert_eq!((e.family, e.param), ("Pareto", "shape"));
        assert!(e.to_string().contains("no finite mean"), "{e}");
        let e = Dist::weibull(hour(), -0.5).unwrap_err();
        assert_eq!(e.param, "shape");
        assert!(e.to_string().contains("`shape` = -0.5"), "{e}");
        assert_eq!(Dist::weibull(hour(), f64::NAN).unwrap_err().param, "shape");
        assert_eq!(Dist::exponential(Duration::ZERO).unwrap_err().param, "mean");
        assert_eq!(Dist::log_normal(hour(), -1.0).unwrap_err().param, "sigma");
        assert_eq!(Dist::weibull(hour(), 0.001).unwrap_err().param, "shape");
        assert!(Dist::weibull(hour(), 0.05).is_ok());
    }

    /// Sample mean within 4 SE of `expected` (i.i.d. draws).
    fn mean_matches(xs: &[f64], expected: f64) -> bool {
        let (m, se) = mean_se(xs);
        eprintln!("mean {m:.1} ± {se:.1} (expected {expected:.1})");
        within(m, se, expected, 4.0)
    }

    fn draws(
        n: usize,
        seed: u64,
        mut f: impl FnMut(&mut rand_chacha::ChaCha8Rng) -> Duration,
    ) -> Vec<f64> {
        let mut rng = node_rng(seed, 0);
        (0..n).map(|_| f(&mut rng).as_secs_f64()).collect()
    }

    #[test]
    fn churn_means_length_biased_and_residual() {
        let pi = std::f64::consts::PI;
        // (distribution, E[X²]/E[X] from the textbook moments, not from the code)
        let cases = [
            (Dist::exponential(hour()).unwrap(), 2.0 * M),
            // Weibull k = 2: E[X²]/E[X] = m Γ(2) / Γ(3/2)² = 4m/π.
            (Dist::weibull(hour(), 2.0).unwrap(), 4.0 * M / pi),
            // Weibull k = 0.5: m Γ(5) / Γ(3)² = 6m.
            (Dist::weibull(hour(), 0.5).unwrap(), 6.0 * M),
            // Log-normal: m e^{σ²}.
            (Dist::log_normal(hour(), 0.5).unwrap(), M * 0.25f64.exp()),
            // Pareto α = 3: m (1 + 1/(α(α − 2))) = 4m/3.
            (Dist::pareto(hour(), 3.0).unwrap(), 4.0 * M / 3.0),
            (Dist::constant(hour()).unwrap(), M),
        ];
        let n = 200_000;
        for (i, (d, lb_mean)) in cases.iter().enumerate() {
            let seed = 1_000 + i as u64;
            let plain = draws(n, seed, |r| d.sample(r));
            let lb = draws(n, seed + 1, |r| d.sample_length_biased(r));
            let res = draws(n, seed + 2, |r| d.sample_residual(r));
            assert!(mean_matches(&plain, M), "{d:?} mean");
            assert!(mean_matches(&lb, *lb_mean), "{d:?} length-biased mean");
            assert!(mean_matches(&res, lb_mean / 2.0), "{d:?} residual mean");
            if !matches!(d.kind, Kind::Constant) {
                // Negative control: plain draws are not length-biased.
                assert!(!mean_matches(&plain, *lb_mean), "{d:?} control");
            }
        }
    }

    #[test]
    fn churn_dist_text_round_trips() {
        for text in [
            "exponential(1h)",
            "weibull(30min, 0.5)",
            "pareto(2h, 1.5)",
            "lognormal(1h, 1)",
            "constant(90s)",
        ] {
            let d: Dist = text.parse().unwrap();
            assert_eq!(d.to_string(), text);
            assert_eq!(d.to_string().parse::<Dist>().unwrap(), d);
        }
        let d: Dist = " Log-Normal( 2h , 0.25 ) ".parse().unwrap();
        assert_eq!(
            d,
            Dist::log_normal(Duration::from_secs(7_200), 0.25).unwrap()
        );
        assert_eq!(
            "pareto(1h, 0.9)".parse::<Dist>().unwrap_err().param,
            "shape"
        );
        assert_eq!("weibull(1h)".parse::<Dist>().unwrap_err().param, "shape");
        assert_eq!(
            "weibull(1h, fast)".parse::<Dist>().unwrap_err().param,
            "shape"
        );
        assert_eq!("gamma(1h, 2)".parse::<Dist>().unwrap_err().param, "family");
        assert_eq!(
            "exponential(1 hour)".parse::<Dist>().unwrap_err().param,
            "mean"
        );
        assert_eq!(
            "exponential(1h, 2)".parse::<Dist>().unwrap_err().param,
            "mean"
        );
        assert_eq!("exponential".parse::<Dist>().unwrap_err().param, "family");
    }

    #[test]
    fn churn_samples_are_at_least_one_nanosecond() {
        // Weibull 0.05 puts much mass below 1 ns.
        let d = Dist::weibull(Duration::from_nanos(1_000), 0.05).unwrap();
        let mut rng = node_rng(1, 0);
        let mut tiny = 0;
        for _ in 0..10_000 {
            let x = d.sample(&mut rng);
            assert!(x.as_nanos() >= 1);
            tiny += usize::from(x.as_nanos() == 1);
            assert!(d.sample_residual(&mut rng).as_nanos() >= 1);
        }
        assert!(tiny > 0, "the clamp was exercised");
    }
}
