//! Descriptive statistics and confidence intervals.
//!
//! Every function sums in input order (never in a thread-dependent order),
//! so results are reproducible to the bit.
//!
//! Means of correlated series get their interval from batch means
//! ([`batch_means`]). Proportions are bounded, and a symmetric interval
//! around a rate can leave [0, 1] at small n; their intervals are score
//! intervals instead ([`wilson`] for one proportion, [`newcombe`] for a
//! difference of two), which stay within bounds at any n. Where the
//! observations are correlated, the sample size they use is the effective
//! one, n divided by the design effect measured by batch means
//! ([`design_effect`]). An empty sample has no value and no interval (NaN
//! here, a blank in every output file).

/// A sample summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of observations.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Standard deviation (n − 1 denominator; 0 for n < 2).
    pub sd: f64,
    /// Half-width of the 95 % confidence interval of the mean (Student t
    /// for n − 1 degrees of freedom; NaN for n < 2).
    pub ci95: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// Two-sided 97.5 % quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        31..=60 => 2.000,
        61..=120 => 1.980,
        _ => 1.960,
    }
}

/// The `q`-quantile of sorted data by linear interpolation (type 7, as R
/// and numpy default); NaN for empty data.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Summary of `xs` (NaNs are ignored).
pub fn summarize(xs: &[f64]) -> Summary {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mean = if n == 0 {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / n as f64
    };
    let sd = if n < 2 {
        0.0
    } else {
        (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
    };
    let ci95 = if n < 2 {
        f64::NAN
    } else {
        t975(n - 1) * sd / (n as f64).sqrt()
    };
    Summary {
        n,
        mean,
        sd,
        ci95,
        p50: quantile_sorted(&v, 0.5),
        p90: quantile_sorted(&v, 0.9),
        p99: quantile_sorted(&v, 0.99),
    }
}

/// Mean and standard error of the mean of a correlated series by the
/// method of batch means: the series is cut into `batches` consecutive
/// batches (the last one takes the remainder) and the batch means are
/// treated as independent for the standard error. The mean itself is the
/// plain mean of all values. Returns `(mean, se, batches used)`.
pub fn batch_means(xs: &[f64], batches: usize) -> (f64, f64, usize) {
    let b = batches.max(2);
    let size = xs.len() / b;
    let all = summarize(xs);
    if size == 0 {
        return (all.mean, all.sd / (all.n.max(1) as f64).sqrt(), all.n);
    }
    let means: Vec<f64> = (0..b)
        .map(|i| {
            let end = if i + 1 == b { xs.len() } else { (i + 1) * size };
            let chunk = &xs[i * size..end];
            chunk.iter().sum::<f64>() / chunk.len() as f64
        })
        .collect();
    let s = summarize(&means);
    (all.mean, s.sd / (b as f64).sqrt(), b)
}

/// The paired difference `a[i] - b[i]`: its mean and the 95 % confidence
/// interval of that mean, by batch means over `batches` consecutive batches
/// (pairs in time order are not independent). Returns
/// `(mean, ci_low, ci_high, pairs)`.
pub fn paired_difference(a: &[f64], b: &[f64], batches: usize) -> (f64, f64, f64, usize) {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| x - y)
        .filter(|x| !x.is_nan())
        .collect();
    let (mean, se, used) = batch_means(&d, batches);
    let half = t975(used.saturating_sub(1)) * se;
    (mean, mean - half, mean + half, d.len())
}

/// 97.5 % quantile of the standard normal distribution.
const Z975: f64 = 1.959_963_984_540_054;

/// Wilson score 95 % interval of a proportion `p` (in [0, 1]) observed over
/// `n` trials (`n` may be an effective, fractional sample size). Always
/// within [0, 1]; `None` when `n` is not positive or `p` is not in [0, 1].
pub fn wilson(p: f64, n: f64) -> Option<(f64, f64)> {
    if !(n > 0.0 && (0.0..=1.0).contains(&p)) {
        return None;
    }
    let z2 = Z975 * Z975;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z975 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Newcombe's hybrid score 95 % interval of the difference `p1 − p2` of two
/// proportions observed over `n1` and `n2` trials (Newcombe 1998, method
/// 10): the Wilson intervals of each side combined by square-and-add.
/// Returns `(p1 − p2, low, high)`, always within [−1, 1]; `None` when either
/// side has no trial. It treats the two sides as independent: for paired
/// outcomes that are positively correlated (both systems see the same
/// requests) it is conservative.
pub fn newcombe(p1: f64, n1: f64, p2: f64, n2: f64) -> Option<(f64, f64, f64)> {
    let (l1, u1) = wilson(p1, n1)?;
    let (l2, u2) = wilson(p2, n2)?;
    let d = p1 - p2;
    let lo = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let hi = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some((d, lo.max(-1.0), hi.min(1.0)))
}

/// How much the variance of the mean of the series `xs` exceeds that of
/// independent observations: (batch-means SE / naive SE)², over `batches`
/// consecutive batches, at least 1. It is 1 when it cannot be estimated
/// (fewer than two values, or all values equal).
pub fn design_effect(xs: &[f64], batches: usize) -> f64 {
    let all = summarize(xs);
    let naive = all.sd / (all.n.max(1) as f64).sqrt();
    let (_, se, _) = batch_means(xs, batches);
    if all.n < 2 || naive <= 0.0 || !se.is_finite() {
        return 1.0;
    }
    ((se / naive).powi(2)).max(1.0)
}

/// The paired difference of two rates given as per-request outcomes in
/// percent (100 for a success, 0 for a failure; NaN pairs are skipped):
/// `(mean difference, ci_low, ci_high, pairs)` in percentage points.
///
/// The interval is [`newcombe`]'s, each side with its effective sample
/// size (pairs divided by the side's [`design_effect`] over `batches`
/// batches, because requests close in time are not independent), so it
/// never leaves ±100 points, unlike a batch-means t interval at small n.
/// With no pair, everything but the count is NaN.
pub fn paired_rate_difference(a: &[f64], b: &[f64], batches: usize) -> (f64, f64, f64, usize) {
    let (x, y): (Vec<f64>, Vec<f64>) = a
        .iter()
        .zip(b)
        .filter(|(x, y)| !x.is_nan() && !y.is_nan())
        .map(|(x, y)| (x / 100.0, y / 100.0))
        .unzip();
    let n = x.len();
    let (sx, sy) = (summarize(&x), summarize(&y));
    let nx = n as f64 / design_effect(&x, batches);
    let ny = n as f64 / design_effect(&y, batches);
    match newcombe(sx.mean, nx, sy.mean, ny) {
        Some((d, lo, hi)) => (100.0 * d, 100.0 * lo, 100.0 * hi, n),
        None => (f64::NAN, f64::NAN, f64::NAN, n),
    }
}

/// The half-width `half` of an interval around `mean` when the interval
/// stays within `[lo, hi]` (the bounds of the quantity); NaN (no interval:
/// the sample is too small for a symmetric interval) otherwise.
pub fn bounded_half_width(mean: f64, half: f64, lo: f64, hi: f64) -> f64 {
    if mean - half >= lo && mean + half <= hi {
        half
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values_and_stays_in_bounds() {
        // Newcombe (1998), Table I: 81/263 → 0.2553 to 0.3662; 0/10 → 0 to 0.2775.
        let (lo, hi) = wilson(81.0 / 263.0, 263.0).unwrap();
        assert!(
            (lo - 0.2553).abs() < 5e-5 && (hi - 0.3662).abs() < 5e-5,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0.0, 10.0).unwrap();
        assert!(lo == 0.0 && (hi - 0.2775).abs() < 5e-5, "{lo} {hi}");
        assert_eq!(wilson(0.5, 0.0), None);
    }

    #[test]
    fn newcombe_matches_published_values_and_stays_in_bounds() {
        // Newcombe (1998), "Interval estimation for the difference between
        // independent proportions", Table II, method 10:
        // 56/70 − 48/80: 0.0524 to 0.3339; 9/10 − 3/10: 0.1705 to 0.8090.
        // 10/10 − 0/10: 1 − √2 × 0.2775 (the Wilson upper bound of 0/10) to 1.
        for ((a, n1, b, n2), (elo, ehi)) in [
            ((56.0, 70.0, 48.0, 80.0), (0.0524, 0.3339)),
            ((9.0, 10.0, 3.0, 10.0), (0.1705, 0.8090)),
            ((10.0, 10.0, 0.0, 10.0), (1.0 - 2f64.sqrt() * 0.27753, 1.0)),
        ] {
            let (_, lo, hi) = newcombe(a / n1, n1, b / n2, n2).unwrap();
            assert!(
                (lo - elo).abs() < 5e-5 && (hi - ehi).abs() < 5e-5,
                "{a}/{n1} − {b}/{n2}: {lo} {hi}"
            );
        }
    }

    #[test]
    fn a_rate_difference_at_small_n_stays_within_100_points() {
        // 3 pairs: P2P failed twice, the baseline always succeeded. A
        // batch-means t interval of these differences goes far below −100.
        let a = [0.0, 0.0, 100.0];
        let b = [100.0, 100.0, 100.0];
        let (_, lo_t, _, _) = paired_difference(&a, &b, 20);
        assert!(lo_t < -100.0, "the t interval this replaces: {lo_t}");
        let (d, lo, hi, n) = paired_rate_difference(&a, &b, 20);
        assert_eq!(n, 3);
        assert!((d + 200.0 / 3.0).abs() < 1e-9, "{d}");
        assert!(
            (-100.0..=100.0).contains(&lo) && (-100.0..=100.0).contains(&hi),
            "{lo} {hi}"
        );
        assert!(lo < d && d < hi);
        let (d, lo, hi, n) = paired_rate_difference(&[], &[], 20);
        assert!(d.is_nan() && lo.is_nan() && hi.is_nan() && n == 0);
    }

    #[test]
    fn correlated_outcomes_widen_the_rate_interval() {
        // 400 outcomes in runs of 40 equal values (strongly correlated in
        // time) against the same rate independently alternating: the same
        // mean, but a design effect well above 1, so a wider interval.
        let runs: Vec<f64> = (0..400)
            .map(|i| if (i / 40) % 2 == 0 { 100.0 } else { 0.0 })
            .collect();
        let alt: Vec<f64> = (0..400)
            .map(|i| if i % 2 == 0 { 100.0 } else { 0.0 })
            .collect();
        let all = vec![100.0; 400];
        assert!(design_effect(&runs, 20) > 5.0);
        assert_eq!(design_effect(&alt, 20), 1.0);
        let (_, lo1, hi1, _) = paired_rate_difference(&runs, &all, 20);
        let (_, lo2, hi2, _) = paired_rate_difference(&alt, &all, 20);
        assert!(hi1 - lo1 > hi2 - lo2, "{lo1} {hi1} vs {lo2} {hi2}");
    }

    #[test]
    fn summary_of_a_known_sample() {
        // 1..=10: mean 5.5, sd sqrt(55/6), median 5.5.
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        let s = summarize(&xs);
        assert_eq!(s.n, 10);
        assert_eq!(s.mean, 5.5);
        assert!((s.sd - (55.0f64 / 6.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.p50, 5.5);
        assert!((s.p90 - 9.1).abs() < 1e-12);
        assert!((s.ci95 - 2.262 * s.sd / 10f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn the_mean_uses_every_value() {
        // 181 pairs, one difference of -100 at the very end: a batch-means
        // mean that dropped the tail would report 0.
        let mut d = vec![0.0; 181];
        d[180] = -100.0;
        let (m, _, n) = batch_means(&d, 20);
        assert_eq!(n, 20);
        assert!((m + 100.0 / 181.0).abs() < 1e-12, "{m}");
    }

    #[test]
    fn paired_difference_of_a_constant_shift() {
        let a: Vec<f64> = (0..100).map(|i| i as f64 + 3.0).collect();
        let b: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let (m, lo, hi, n) = paired_difference(&a, &b, 10);
        assert_eq!((m, lo, hi, n), (3.0, 3.0, 3.0, 100));
    }

    #[test]
    fn batch_means_ci_covers_the_truth_and_rejects_a_shift() {
        // An AR(1) series x_t = 0.9 x_{t-1} + e_t with mean 0, made with a
        // fixed linear congruential generator. The naive SE is far too
        // small for it; batch means must cover 0 within 4 SE, and a series
        // shifted by +1 (a wrong model) must be rejected by the same check.
        let mut state = 12345u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut x = 0.0;
        let series: Vec<f64> = (0..200_000)
            .map(|_| {
                x = 0.9 * x + uniform();
                x
            })
            .collect();
        let check = |xs: &[f64]| {
            let (m, se, _) = batch_means(xs, 20);
            m.abs() <= 4.0 * se
        };
        assert!(check(&series));
        let shifted: Vec<f64> = series.iter().map(|v| v + 1.0).collect();
        assert!(!check(&shifted));
    }
}
