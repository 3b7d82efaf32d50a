//! Closed forms shared by the reproduction cases and `scenarios tune`.

/// Mean time to data loss of m-of-n fragments (replicas: m = 1, n = r)
/// under the birth–death chain: with `i` live fragments, one is lost at
/// rate `iλ` (independent exponential permanent failures) and one is
/// rebuilt at rate `(n − i)μ` (exponential repairs, all in parallel,
/// unlimited bandwidth); the object is lost when fewer than `m` are left.
///
/// With `j = i − m + 1` (from 1 at `m` live to `R = n − m + 1` at `n`), the
/// expected absorption time `T_j` satisfies
/// `(iλ + (n − i)μ) T_j = 1 + iλ T_{j−1} + (n − i)μ T_{j+1}`, `T_0 = 0`,
/// a tridiagonal system solved by the Thomas algorithm; the answer is
/// `T_R`, in the unit of `1/λ`. Without repair (`μ = 0`) it is the order
/// statistic `Σ_{i=m}^{n} 1/(iλ)`. `m` must be between 1 and `n`, and
/// `λ > 0`.
pub fn mttdl(m: usize, n: usize, lambda: f64, mu: f64) -> f64 {
    assert!(m >= 1 && m <= n && lambda > 0.0 && mu >= 0.0);
    let r = n - m + 1;
    let (mut a, mut b, mut c) = (vec![0.0; r + 1], vec![0.0; r + 1], vec![0.0; r + 1]);
    for j in 1..=r {
        let live = j + m - 1;
        let fail = live as f64 * lambda;
        let fix = (n - live) as f64 * mu;
        a[j] = -fail;
        b[j] = fail + fix;
        c[j] = -fix;
    }
    let mut cp = vec![0.0; r + 1];
    let mut dp = vec![0.0; r + 1];
    for j in 1..=r {
        let den = b[j] - if j > 1 { a[j] * cp[j - 1] } else { 0.0 };
        cp[j] = c[j] / den;
        dp[j] = (1.0 - if j > 1 { a[j] * dp[j - 1] } else { 0.0 }) / den;
    }
    let mut t = vec![0.0; r + 2];
    for j in (1..=r).rev() {
        t[j] = dp[j] - cp[j] * t[j + 1];
    }
    t[r]
}

/// `ln P[X ≤ k]` for `X ~ Poisson(mu)`, summed in log space.
fn ln_poisson_cdf(k: u64, mu: f64) -> f64 {
    if mu <= 0.0 {
        return 0.0;
    }
    let ln_mu = mu.ln();
    let terms: Vec<f64> = (0..=k)
        .map(|i| -mu + i as f64 * ln_mu - sim_core::churn::dist::ln_gamma(i as f64 + 1.0))
        .collect();
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
}

/// The exact (Garwood) two-sided interval, at `confidence`, for the mean
/// of a Poisson count of which `k` was observed: the lower end solves
/// `P[X ≥ k; μ] = α/2` (0 when `k = 0`), the upper `P[X ≤ k; μ] = α/2`,
/// with `α = 1 − confidence`. By bisection on `μ`.
pub fn poisson_interval(k: u64, confidence: f64) -> (f64, f64) {
    let half = (1.0 - confidence) / 2.0;
    let ln_half = half.ln();
    let solve = |f: &dyn Fn(f64) -> bool| {
        // f(μ) is false below the root and true above it.
        let (mut lo, mut hi) = (0.0f64, k as f64 + 10.0);
        while !f(hi) {
            hi *= 2.0;
        }
        for _ in 0..200 {
            let mid = (lo + hi) / 2.0;
            if f(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        (lo + hi) / 2.0
    };
    let upper = solve(&|mu: f64| ln_poisson_cdf(k, mu) <= ln_half);
    let lower = if k == 0 {
        0.0
    } else {
        // P[X ≥ k] = 1 − P[X ≤ k − 1] ≥ α/2.
        solve(&|mu: f64| 1.0 - ln_poisson_cdf(k - 1, mu).exp() >= half)
    };
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mttdl_by_hand() {
        let (l, u) = (0.05, 0.7);
        // Two replicas: T_2 = (3λ + μ) / (2λ²).
        let want = (3.0 * l + u) / (2.0 * l * l);
        assert!((mttdl(1, 2, l, u) - want).abs() < 1e-9 * want);
        // 2 of 3: from 3 live, 1/(3λ) to reach 2; from 2 live,
        // T = (3λ + μ) / (6λ²); in all (5λ + μ) / (6λ²).
        let want = (5.0 * l + u) / (6.0 * l * l);
        assert!((mttdl(2, 3, l, u) - want).abs() < 1e-9 * want);
        // Without repair: the order statistics, (1/λ)·H_3 for 3 replicas.
        let want = (1.0 + 0.5 + 1.0 / 3.0) / l;
        assert!((mttdl(1, 3, l, 0.0) - want).abs() < 1e-9 * want);
        // n of n: the first loss, 1/(nλ), repair or not.
        assert!((mttdl(4, 4, l, u) - 1.0 / (4.0 * l)).abs() < 1e-9);
    }

    #[test]
    fn garwood_intervals_match_the_tables() {
        // Published exact 95 % limits for a Poisson count.
        for (k, lo, hi) in [
            (0, 0.0, 3.689),
            (1, 0.0253, 5.572),
            (2, 0.2422, 7.225),
            (10, 4.795, 18.39),
        ] {
            let (a, b) = poisson_interval(k, 0.95);
            assert!((a - lo).abs() < 2e-3 * lo.max(1.0), "k {k}: {a} vs {lo}");
            assert!((b - hi).abs() < 2e-3 * hi, "k {k}: {b} vs {hi}");
        }
        // 99 %, k = 0: −ln(0.005).
        let (_, b) = poisson_interval(0, 0.99);
        assert!((b - 5.2983).abs() < 1e-3, "{b}");
    }
}
