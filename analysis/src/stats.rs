//! Descriptive statistics and confidence intervals.
//!
//! Every function sums in input order (never in a thread-dependent order),
//! so results are reproducible to the bit.

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

#[cfg(test)]
mod tests {
    use super::*;

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
