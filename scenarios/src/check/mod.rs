//! `scenarios check`: published and analytic results reproduced, each with
//! a negative control that must fail.
//!
//! A **case** is a TOML file of the `repro/` folder (compiled into the
//! binary; `--repro DIR` reads another folder): a named **driver** (a
//! measurement written in Rust, [`drivers`]) with its parameters, the
//! citation or derivation of the expected value, where the tolerance comes
//! from, the set it belongs to (`quick`, run in CI, or `full`), and its
//! **control**: parameters that change the system (never the prediction)
//! so that the claim must fail. See `repro/README.md` for the format.
//!
//! A driver returns a [`Measurement`]: one or more [`Point`]s, each a
//! measured value with its standard error against an expected value (with
//! its own standard error when it is itself estimated). A point agrees when
//! `|measured − expected| ≤ sigmas × √(se² + expected_se²) + allowance`,
//! `sigmas` (at least 4 unless the case says why) from the case file and
//! `allowance` (a stated systematic margin, 0 by default) from the driver.
//! A case **passes** when every point of the case agrees and at least one
//! point of its control does not.

pub mod case;
pub mod drivers;
pub mod params;
pub mod run;

pub use case::Case;
pub use params::Params;

/// One compared quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// What it is, e.g. `N=1024` or `c=4, rho=0.8`.
    pub label: String,
    /// The x value for the case's plot (N, ρ, k, …), if it has one.
    pub x: Option<f64>,
    /// The measured value.
    pub measured: f64,
    /// Its standard error (batch means, or across seeds or networks).
    pub se: f64,
    /// The expected value (analytic, or the published figure).
    pub expected: f64,
    /// The expected value's standard error when it is itself estimated
    /// (0 for an analytic value).
    pub expected_se: f64,
    /// A systematic margin added to the band, stated and justified by the
    /// driver (0 when none).
    pub allowance: f64,
}

impl Point {
    /// An analytic expectation without allowance.
    pub fn analytic(label: impl Into<String>, measured: f64, se: f64, expected: f64) -> Point {
        Point {
            label: label.into(),
            x: None,
            measured,
            se,
            expected,
            expected_se: 0.0,
            allowance: 0.0,
        }
    }
    /// With an x value for the plot.
    pub fn at(mut self, x: f64) -> Point {
        self.x = Some(x);
        self
    }
    /// Half-width of the agreement band at `sigmas` standard errors.
    pub fn half_width(&self, sigmas: f64) -> f64 {
        sigmas * (self.se * self.se + self.expected_se * self.expected_se).sqrt() + self.allowance
    }
    /// `(measured − expected) / combined SE`; 0 when both are exact and
    /// equal, infinite when they differ with no error.
    pub fn z(&self) -> f64 {
        let s = (self.se * self.se + self.expected_se * self.expected_se).sqrt();
        let d = self.measured - self.expected;
        if s > 0.0 {
            d / s
        } else if d == 0.0 {
            0.0
        } else {
            f64::INFINITY.copysign(d)
        }
    }
    /// Whether the measured value is within the band.
    pub fn agrees(&self, sigmas: f64) -> bool {
        self.measured.is_finite()
            && self.expected.is_finite()
            && (self.measured - self.expected).abs() <= self.half_width(sigmas)
    }
}

/// What a driver measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measurement {
    /// The compared quantities.
    pub points: Vec<Point>,
    /// Plot labels when the points have x values: (x axis, y axis).
    pub axes: Option<(String, String)>,
    /// An expected curve to draw under the points (x, y), when the
    /// expectation is a function (e.g. a CDF); else the points' expected
    /// values are drawn.
    pub curve: Vec<(f64, f64)>,
    /// One or two sentences on what was run (sizes, seeds, networks).
    pub note: String,
}

impl Measurement {
    /// Whether every point agrees at `sigmas`.
    pub fn agrees(&self, sigmas: f64) -> bool {
        !self.points.is_empty() && self.points.iter().all(|p| p.agrees(sigmas))
    }
    /// The point farthest from its expectation, in standard errors.
    pub fn worst(&self) -> Option<&Point> {
        self.points.iter().max_by(|a, b| {
            let (za, zb) = (a.z().abs(), b.z().abs());
            za.partial_cmp(&zb).unwrap_or(std::cmp::Ordering::Equal)
        })
    }
}

/// A case or driver that cannot run: bad parameters, a failed simulation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct CheckError(pub String);

impl CheckError {
    /// An error about parameter `key`.
    pub fn param(key: &str, message: impl std::fmt::Display) -> CheckError {
        CheckError(format!("parameter `{key}`: {message}"))
    }
}

/// Mean and standard error of independent samples (n − 1 in the variance).
/// `(NaN, NaN)` is never returned: fewer than two samples give an infinite
/// standard error, so that nothing agrees on them.
pub fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (0.0, f64::INFINITY);
    }
    let m = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (m, f64::INFINITY);
    }
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64;
    (m, (v / n as f64).sqrt())
}

/// Mean and standard error of correlated samples in time order, by batch
/// means over `batches` consecutive batches (the remainder dropped from the
/// front).
pub fn batch_means(xs: &[f64], batches: usize) -> (f64, f64) {
    let b = batches.max(2);
    let size = xs.len() / b;
    if size == 0 {
        return mean_se(xs);
    }
    let skip = xs.len() - size * b;
    let means: Vec<f64> = xs[skip..]
        .chunks(size)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    mean_se(&means)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_agrees_within_its_band_only() {
        let p = Point::analytic("x", 10.0, 0.5, 11.9);
        assert!(p.agrees(4.0));
        assert!(!Point::analytic("x", 10.0, 0.5, 12.1).agrees(4.0));
        let q = Point {
            allowance: 0.3,
            ..Point::analytic("x", 10.0, 0.5, 12.2)
        };
        assert!(q.agrees(4.0));
        assert!(!Point::analytic("x", f64::NAN, 0.5, 1.0).agrees(4.0));
        assert_eq!(Point::analytic("x", 1.0, 0.0, 1.0).z(), 0.0);
        assert!(!Point::analytic("x", 1.0, 0.0, 1.1).agrees(4.0));
    }

    #[test]
    fn standard_errors_by_hand() {
        let (m, se) = mean_se(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, 2.5);
        // Variance 5/3, SE √(5/12).
        assert!((se - (5.0f64 / 12.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_se(&[3.0]).1, f64::INFINITY);
        // Batches of 2 over [1, 3, 5, 7, 2, 4]: means 2, 6, 3.
        let (m, se) = batch_means(&[1.0, 3.0, 5.0, 7.0, 2.0, 4.0], 3);
        assert!((m - 11.0 / 3.0).abs() < 1e-12);
        let v = ((2.0f64 - m).powi(2) + (6.0 - m).powi(2) + (3.0 - m).powi(2)) / 2.0;
        assert!((se - (v / 3.0).sqrt()).abs() < 1e-12);
    }
}
