//! Statistics shared by the integration tests.
#![allow(dead_code)]

/// A mean with its standard error.
#[derive(Debug, Clone, Copy)]
pub struct Estimate {
    /// The mean.
    pub mean: f64,
    /// Its standard error.
    pub se: f64,
    /// Observations.
    pub n: usize,
}

impl Estimate {
    /// Whether `prediction` is within `k` standard errors plus `slack`.
    pub fn agrees(&self, prediction: f64, k: f64, slack: f64) -> bool {
        (self.mean - prediction).abs() <= k * self.se + slack
    }
}

/// Batch means: `xs` (in time order) cut into `batches` consecutive
/// batches; the standard error of the mean comes from the spread of the
/// batch means, which stays valid for correlated series when batches are
/// long compared with the correlation time.
pub fn batch_means(xs: &[f64], batches: usize) -> Estimate {
    assert!(xs.len() >= batches * 10, "{} observations", xs.len());
    let per = xs.len() / batches;
    let means: Vec<f64> = (0..batches)
        .map(|b| xs[b * per..(b + 1) * per].iter().sum::<f64>() / per as f64)
        .collect();
    let mean = means.iter().sum::<f64>() / batches as f64;
    let var = means.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (batches - 1) as f64;
    Estimate {
        mean,
        se: (var / batches as f64).sqrt(),
        n: xs.len(),
    }
}

/// A proportion of independent trials with its binomial standard error.
pub fn proportion(hits: usize, n: usize) -> Estimate {
    let p = hits as f64 / n as f64;
    Estimate {
        mean: p,
        se: (p * (1.0 - p) / n as f64).sqrt(),
        n,
    }
}

/// C(n, k) as a float.
pub fn choose(n: u64, k: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64)
}

/// P(X = k) for X hypergeometric: `draws` drawn without replacement from
/// `population` items of which `marked` are marked.
pub fn hypergeometric(population: u64, marked: u64, draws: u64, k: u64) -> f64 {
    choose(marked, k) * choose(population - marked, draws - k) / choose(population, draws)
}

/// Solve `a x = b` by Gaussian elimination with partial pivoting.
pub fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, p);
        b.swap(c, p);
        assert!(a[c][c].abs() > 1e-300, "singular system");
        for r in 0..n {
            if r != c && a[r][c] != 0.0 {
                let f = a[r][c] / a[c][c];
                let (pivot, row) = if r < c {
                    let (lo, hi) = a.split_at_mut(c);
                    (&hi[0], &mut lo[r])
                } else {
                    let (lo, hi) = a.split_at_mut(r);
                    (&lo[c], &mut hi[0])
                };
                for (x, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                    *x -= f * p;
                }
                b[r] -= f * b[c];
            }
        }
    }
    (0..n).map(|i| b[i] / a[i][i]).collect()
}
