//! Volunteer compute (`jobs`): placement by the power of d choices against
//! the supermarket model, quorum voting against faulty workers, and work
//! lost to churn against renewal theory.
//!
//! Each driver separates the claim's parameters (which the prediction
//! reads) from the system's: a `run_…` parameter, defaulting to the
//! claim's value, says what actually runs, so that a control changes the
//! system and never the prediction.

use crate::check::{CheckError, Measurement, Params, Point, batch_means};
use ::jobs::harness::{Arrivals, Harness, Setup, exponential, job_id};
use ::jobs::{Answer, Event, Fault, Job, JobFailure, Policy, Waste, WorkerSpec};
use sim_core::churn::{Alternating, Dist};
use sim_core::{Duration, Time};
use std::collections::BTreeMap;

const NS: f64 = 1e9;

fn sim_err(e: impl std::fmt::Display) -> CheckError {
    CheckError(format!("simulation: {e}"))
}

// ------------------------------------------------------------ supermarket

/// Solve `a x = b` by Gaussian elimination with partial pivoting (copied
/// from the `jobs` crate's test statistics).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap_or(c);
        a.swap(c, p);
        b.swap(c, p);
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

/// The supermarket model's mean time in system at its fixed point and the
/// 1/N coefficients of the refined mean-field approximation,
/// `(T*, c_replacement, c_distinct)`: N servers probing d = 2 distinct ones
/// have T_N ≈ T* + c_replacement/N + c_distinct/(N − 1). Copied from the
/// `jobs` crate's supermarket test, whose documentation has the derivation
/// (Mitzenmacher 2001; Gast and Van Houdt 2018).
fn supermarket(lambda: f64, d: i32, levels: usize) -> (f64, f64, f64) {
    let k = levels;
    let df = f64::from(d);
    // x[0] = 1, x[1..=k] the fixed point λ^((d^i − 1)/(d − 1)), x[k+1] = 0.
    let mut x = vec![0.0; k + 2];
    x[0] = 1.0;
    for (i, xi) in x.iter_mut().enumerate().take(k + 1).skip(1) {
        let e: f64 = (0..i).map(|j| df.powi(j as i32)).sum();
        *xi = lambda.powf(e);
    }
    let t_star = x[1..=k].iter().sum::<f64>() / lambda;
    // Jacobian of f_i = λ(x_{i−1}^d − x_i^d) − (x_i − x_{i+1}), i = 1..k.
    let mut a = vec![vec![0.0; k]; k];
    for i in 1..=k {
        if i >= 2 {
            a[i - 1][i - 2] = lambda * df * x[i - 1].powi(d - 1);
        }
        a[i - 1][i - 1] = -lambda * df * x[i].powi(d - 1) - 1.0;
        if i < k {
            a[i - 1][i] = 1.0;
        }
    }
    // Jump covariance: ±e_i jumps only, so Q is diagonal.
    let q: Vec<f64> = (1..=k)
        .map(|i| lambda * (x[i - 1].powi(d) - x[i].powi(d)) + (x[i] - x[i + 1]))
        .collect();
    // A W + W Aᵀ = −Q, vectorised: (I ⊗ A + A ⊗ I) vec W = −vec Q.
    let n = k * k;
    let mut m = vec![vec![0.0; n]; n];
    let mut rhs = vec![0.0; n];
    for i in 0..k {
        for j in 0..k {
            let r = i * k + j;
            if i == j {
                rhs[r] = -q[i];
            }
            for l in 0..k {
                m[r][l * k + j] += a[i][l];
                m[r][i * k + l] += a[j][l];
            }
        }
    }
    let w = solve(m, rhs);
    // ½ B : W (the Hessian of f_i is diagonal).
    let h: Vec<f64> = (1..=k)
        .map(|i| {
            let mut s = -lambda * df * (df - 1.0) * x[i].powi(d - 2) * w[(i - 1) * k + (i - 1)];
            if i >= 2 {
                s += lambda * df * (df - 1.0) * x[i - 1].powi(d - 2) * w[(i - 2) * k + (i - 2)];
            }
            0.5 * s
        })
        .collect();
    let v = solve(a.clone(), h.iter().map(|x| -x).collect());
    // Distinct probes (d = 2): g_i = λ[(x_{i−1}² − x_{i−1}) − (x_i² − x_i)].
    let g: Vec<f64> = (1..=k)
        .map(|i| lambda * ((x[i - 1].powi(2) - x[i - 1]) - (x[i].powi(2) - x[i])))
        .collect();
    let vg = solve(a, g.iter().map(|x| -x).collect());
    (
        t_star,
        v.iter().sum::<f64>() / lambda,
        vg.iter().sum::<f64>() / lambda,
    )
}

/// The predicted mean time in system (in mean service times) for `d`
/// choices among `n` workers at load `lambda`, and the allowance for the
/// approximation's remainder.
fn supermarket_prediction(n: usize, lambda: f64, d: u64) -> (f64, f64) {
    match d {
        // M/M/1 at every worker, exactly, for any N.
        1 => (1.0 / (1.0 - lambda), 0.0),
        _ => {
            let (t, c_rep, c_dist) = supermarket(lambda, 2, 12);
            let nf = n as f64;
            // The O(1/N²) remainder: an independent simulation of the
            // occupancy chain left at most 0.03 at N = 10; scaled by
            // (10/N)² and widened tenfold: 30/N² (0.003 at N = 100).
            (t + c_rep / nf + c_dist / (nf - 1.0), 30.0 / (nf * nf))
        }
    }
}

/// `jobs-supermarket`: mean time in system of jobs placed by the power of
/// d choices, against the supermarket model (d = 2) or M/M/1 (d = 1).
pub fn supermarket_driver(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "workers", "lambda", "d", "run_d", "warmup", "batches", "batch", "seed",
    ])?;
    let n = p.u64("workers", 100)? as usize;
    let lambda = p.f64("lambda", 0.8)?;
    let d = p.u64("d", 2)?;
    let run_d = p.u64("run_d", d)?;
    let warm = p.duration("warmup", Duration::from_secs(1000))?;
    let batches = p.u64("batches", 20)? as usize;
    let batch = p.duration("batch", Duration::from_secs(500))?;
    let seed = p.u64("seed", 1)?;
    if n < 10 {
        return Err(CheckError::param("workers", "at least 10"));
    }
    if !(lambda > 0.0 && lambda < 1.0) {
        return Err(CheckError::param("lambda", "between 0 and 1 (exclusive)"));
    }
    if !(1..=2).contains(&d) {
        return Err(CheckError::param(
            "d",
            "1 (M/M/1) or 2 (the supermarket model with its 1/N terms)",
        ));
    }
    if run_d == 0 || run_d as usize > n {
        return Err(CheckError::param("run_d", "between 1 and the workers"));
    }
    if batches < 2 || batch.0 == 0 {
        return Err(CheckError::param(
            "batches",
            "at least 2 batches of positive length",
        ));
    }
    let (expected, allowance) = supermarket_prediction(n, lambda, d);

    let mut s = Setup::new(n, seed);
    s.cfg.policy = Policy::PowerOfD { d: run_d as u32 };
    s.cfg.redundancy = 1;
    s.cfg.quorum = 1;
    s.cfg.max_copies = 1;
    // No losses without churn; pings would only cost events.
    s.cfg.heartbeat = Duration::from_secs(86_400);
    let mut h = Harness::new(s).map_err(sim_err)?;
    let end = Time(warm.0 + batch.0 * batches as u64);
    let mut arrivals = Arrivals::new(
        Duration::from_secs_f64(1.0 / lambda),
        |node, seq, rng: &mut sim_core::rng::NodeRng| Job {
            id: job_id(node, seq),
            work: exponential(rng, Duration::from_secs(1)),
            input: 0,
            output: 0,
            deadline: None,
        },
    );
    arrivals.until = Some(end);
    let peers = h.peers.to_vec();
    h.add_arrivals(&peers, arrivals).map_err(sim_err)?;
    h.run_for(Duration(end.0));
    // d = 1 at λ = 0.8 drains in minutes; allow a long tail.
    let limit = end.saturating_add(Duration::from_secs(100_000));
    if !h.run_until_done(Duration::from_secs(50), limit) {
        return Err(CheckError(
            "jobs still pending long after the last arrival".into(),
        ));
    }
    let mut jobs = h.done();
    if let Some(d) = jobs.iter().find(|d| d.result.is_err()) {
        return Err(CheckError(format!("job {} failed: {:?}", d.job, d.result)));
    }
    jobs.sort_by_key(|d| (d.submitted, d.job));
    // Batches by submission time after the warm-up.
    let mut sums = vec![(0.0, 0usize); batches];
    for d in jobs.iter().filter(|d| d.submitted >= Time(warm.0)) {
        let b = ((d.submitted.0 - warm.0) / batch.0) as usize;
        if b < batches {
            sums[b].0 += d.ended.since(d.submitted).0 as f64 / NS;
            sums[b].1 += 1;
        }
    }
    let means: Vec<f64> = sums.iter().map(|(s, k)| s / (*k).max(1) as f64).collect();
    let kept: usize = sums.iter().map(|b| b.1).sum();
    let (m, se) = batch_means(&means, batches);
    let label = format!("d={run_d} run, d={d} predicted");
    Ok(Measurement {
        points: vec![Point {
            allowance,
            ..Point::analytic(label, m, se, expected)
        }],
        axes: None,
        curve: Vec::new(),
        note: format!(
            "{n} workers, λ = {lambda} per worker, exponential work of mean 1 s, {kept} jobs \
             after a {warm} warm-up in {batches} batches of {batch} (seed {seed})"
        ),
    })
}

// ----------------------------------------------------------------- quorum

/// C(n, k) as a float (copied from the `jobs` crate's test statistics).
fn choose(n: u64, k: u64) -> f64 {
    if k > n {
        return 0.0;
    }
    (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64)
}

/// P(K = k), K hypergeometric: `draws` without replacement from
/// `population` of which `marked` are marked.
fn hypergeometric(population: u64, marked: u64, draws: u64, k: u64) -> f64 {
    if k > draws || draws - k > population - marked {
        return 0.0;
    }
    choose(marked, k) * choose(population - marked, draws - k) / choose(population, draws)
}

/// Predicted rates (accepted wrong, no quorum) for `r` copies on a uniform
/// r-subset of `n` workers of which `faulty` are faulty, quorum `q`
/// (2q > r, q ≥ 2), faults colluding or not.
fn quorum_prediction(n: u64, faulty: u64, r: u64, q: u64, colluding: bool) -> (f64, f64) {
    let p = |pred: &dyn Fn(u64) -> bool| -> f64 {
        (0..=r)
            .filter(|&k| pred(k))
            .fold(0.0, |s, k| s + hypergeometric(n, faulty, r, k))
    };
    if colluding {
        // K ≥ q colluders agree on one wrong value; r − K ≥ q honest agree
        // on the right one (never both, as 2q > r); neither: no quorum.
        (p(&|k| k >= q), p(&|k| k < q && r - k < q))
    } else {
        // Wrong answers all differ and q ≥ 2: only honest ones agree.
        (0.0, p(&|k| r - k < q))
    }
}

fn fault_of(p: &Params, key: &str, default: &str) -> Result<Fault, CheckError> {
    match p.str(key, default)?.as_str() {
        "independent" => Ok(Fault::Independent),
        "colluding" => Ok(Fault::Colluding),
        other => Err(CheckError::param(
            key,
            format!("{other:?}: expected \"independent\" or \"colluding\""),
        )),
    }
}

/// `jobs-quorum`: rates of accepted wrong results and of jobs without a
/// quorum among faulty workers, against the hypergeometric prediction.
pub fn quorum_driver(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "workers",
        "faulty",
        "copies",
        "quorum",
        "jobs_each",
        "faults",
        "run_faults",
        "batches",
        "seed",
    ])?;
    let n = p.u64("workers", 200)?;
    let faulty = p.u64("faulty", 40)?;
    let r = p.u64("copies", 3)?;
    let q = p.u64("quorum", 2)?;
    let jobs_each = p.u64("jobs_each", 100)?;
    let faults = p.str("faults", "independent")?;
    let claimed = fault_of(p, "faults", "independent")?;
    let run = fault_of(p, "run_faults", &faults)?;
    let batches = p.u64("batches", 20)? as usize;
    let seed = p.u64("seed", 3)?;
    if faulty > n || r > n || n == 0 {
        return Err(CheckError::param("faulty", "at most the workers"));
    }
    if q < 2 || 2 * q <= r || q > r {
        return Err(CheckError::param(
            "quorum",
            "a majority of the copies, at least 2 (the predictions assume one quorum at most)",
        ));
    }
    if jobs_each == 0 || batches < 2 {
        return Err(CheckError::param(
            "jobs_each",
            "positive, with 2 batches or more",
        ));
    }
    let (p_wrong, p_none) = quorum_prediction(n, faulty, r, q, claimed == Fault::Colluding);

    let mut s = Setup::new(n as usize, seed);
    s.cfg.policy = Policy::Random;
    s.cfg.redundancy = r as u16;
    s.cfg.quorum = q as u16;
    s.cfg.max_copies = r as u16;
    // `faulty` peers spread evenly over the ids.
    for (i, spec) in s.peers.iter_mut().enumerate() {
        let i = i as u64;
        if (i + 1) * faulty / n != i * faulty / n {
            *spec = WorkerSpec {
                fault: run,
                ..*spec
            };
        }
    }
    let mut h = Harness::new(s).map_err(sim_err)?;
    let mut arrivals = Arrivals::new(Duration::from_secs(10), |node, seq, _rng: &mut _| Job {
        id: job_id(node, seq),
        work: Duration::from_secs(1),
        input: 1000,
        output: 100,
        deadline: None,
    });
    arrivals.per_submitter = Some(jobs_each);
    let peers = h.peers.to_vec();
    h.add_arrivals(&peers, arrivals).map_err(sim_err)?;
    // Gaps of mean 10 s: twice the mean span leaves no job out.
    h.run_for(Duration::from_secs(jobs_each * 20));
    let limit = h.sim.now().saturating_add(Duration::from_secs(100_000));
    if !h.run_until_done(Duration::from_secs(1000), limit) {
        return Err(CheckError("jobs still pending".into()));
    }
    let mut done = h.done();
    if done.len() as u64 != n * jobs_each {
        return Err(CheckError(format!(
            "{} jobs ended of {}",
            done.len(),
            n * jobs_each
        )));
    }
    done.sort_by_key(|d| (d.submitted, d.job));
    let wrong: Vec<f64> = done
        .iter()
        .map(|d| f64::from(u8::from(matches!(d.result, Ok(Answer::Wrong(_))))))
        .collect();
    let none: Vec<f64> = done
        .iter()
        .map(|d| f64::from(u8::from(d.result == Err(JobFailure::NoQuorum))))
        .collect();
    let point = |label: &str, xs: &[f64], expected: f64| {
        let (m, se) = batch_means(xs, batches);
        // A prediction of exactly 0 is an impossibility, not a rate: one
        // hit refutes it, so the point has no band.
        let se = if expected == 0.0 { 0.0 } else { se };
        Point::analytic(label, m, se, expected)
    };
    let mode = |f: Fault| {
        if f == Fault::Colluding {
            "colluding"
        } else {
            "independent"
        }
    };
    Ok(Measurement {
        points: vec![
            point("accepted wrong", &wrong, p_wrong),
            point("no quorum", &none, p_none),
        ],
        axes: None,
        curve: Vec::new(),
        note: format!(
            "{n} workers of which {faulty} {} faulty, {r} copies, quorum {q}, {} jobs \
             (predicted for {} faults; seed {seed})",
            mode(run),
            done.len(),
            mode(claimed)
        ),
    })
}

// ------------------------------------------------------------------ churn

/// Expected CPU lost to churn by a job of work `w` checkpointed every `c`
/// of running (c ≥ w: no checkpoint), on workers failing at rate 1/u while
/// running: a stretch L that must run uninterrupted costs
/// E[R] = u(e^{L/u} − 1) of running, so it wastes u(e^{L/u} − 1) − L.
fn churn_waste(u: f64, w: f64, c: f64) -> f64 {
    let g = |l: f64| u * (l / u).exp_m1() - l;
    let c = c.min(w);
    let whole = (w / c).floor();
    whole * g(c) + g(w - whole * c)
}

fn checkpoint_of(p: &Params, key: &str, default: &str) -> Result<Option<Duration>, CheckError> {
    p.duration_or_none(key, default, "")
}

/// `jobs-churn-waste`: CPU lost to churn per job, with or without
/// checkpoints, against renewal theory.
pub fn churn_driver(p: &Params) -> Result<Measurement, CheckError> {
    p.only(&[
        "workers",
        "submitters",
        "up",
        "down",
        "work",
        "jobs_per_hour",
        "span",
        "checkpoint",
        "run_checkpoint",
        "batches",
        "seed",
    ])?;
    let workers = p.u64("workers", 100)? as usize;
    let submitters = p.u64("submitters", 4)? as usize;
    let up = p.duration("up", Duration::from_secs(7200))?;
    let down = p.duration("down", Duration::from_secs(3600))?;
    let work = p.duration("work", Duration::from_secs(3600))?;
    let rate = p.f64("jobs_per_hour", 35.0)?;
    let span = p.duration("span", Duration::from_secs(2000 * 3600))?;
    let claimed_s = p.str("checkpoint", "none")?;
    let claimed = checkpoint_of(p, "checkpoint", "none")?;
    let run = checkpoint_of(p, "run_checkpoint", &claimed_s)?;
    let batches = p.u64("batches", 20)? as usize;
    let seed = p.u64("seed", 5)?;
    if workers == 0 || submitters == 0 || up.0 == 0 || down.0 == 0 || work.0 == 0 {
        return Err(CheckError::param(
            "workers",
            "workers, submitters, up, down and work must be positive",
        ));
    }
    if rate <= 0.0 || span.0 == 0 {
        return Err(CheckError::param(
            "jobs_per_hour",
            "positive, over a positive span",
        ));
    }
    let (u_s, w_s) = (up.0 as f64 / NS, work.0 as f64 / NS);
    let expected = churn_waste(u_s, w_s, claimed.map_or(w_s, |c| c.0 as f64 / NS));

    let mut s = Setup::new(workers, seed);
    s.stable = vec![WorkerSpec::NONE; submitters];
    s.cfg.policy = Policy::Random;
    s.cfg.redundancy = 1;
    s.cfg.quorum = 1;
    s.cfg.max_copies = 1;
    // Placements that meet a down worker (or a pure submitter) are retried.
    s.cfg.max_attempts = 1000;
    s.cfg.checkpoint = run;
    // No heartbeat in the run: no copy is presumed lost and re-issued, so
    // each job runs on one worker until it completes.
    s.cfg.heartbeat = Duration::from_secs(100 * 365 * 24 * 3600);
    let up_d = Dist::exponential(up).map_err(sim_err)?;
    let down_d = Dist::exponential(down).map_err(sim_err)?;
    s.churn = Some(Box::new(Alternating::new(up_d, down_d)));
    let mut h = Harness::new(s).map_err(sim_err)?;
    let gap = Duration::from_secs_f64(submitters as f64 * 3600.0 / rate);
    let mut arrivals = Arrivals::new(gap, move |node, seq, _rng: &mut _| Job {
        id: job_id(node, seq),
        work,
        input: 1000,
        output: 100,
        deadline: None,
    });
    arrivals.until = Some(Time(span.0));
    let subs = h.stable.clone();
    h.add_arrivals(&subs, arrivals).map_err(sim_err)?;
    h.run_for(span);
    let limit = h.sim.now().saturating_add(Duration(span.0 / 2));
    if !h.run_until_done(Duration::from_secs(36_000), limit) {
        return Err(CheckError(
            "jobs still pending: the load exceeds the capacity".into(),
        ));
    }
    let done = h.done();
    if let Some(d) = done.iter().find(|d| d.result.is_err()) {
        return Err(CheckError(format!("job {} failed: {:?}", d.job, d.result)));
    }
    let mut lost: BTreeMap<u64, f64> = BTreeMap::new();
    for (_, _, e) in h.log.borrow().iter() {
        if let Event::Wasted { job, cpu, cause } = e {
            if *cause != Waste::Churn {
                return Err(CheckError(format!(
                    "waste other than churn with one copy: {cause:?}"
                )));
            }
            *lost.entry(*job).or_default() += cpu.0 as f64 / NS;
        }
    }
    let mut order: Vec<_> = done.iter().map(|d| (d.submitted, d.job)).collect();
    order.sort();
    let xs: Vec<f64> = order
        .iter()
        .map(|(_, j)| lost.get(j).copied().unwrap_or(0.0))
        .collect();
    // Every CPU second is a completed job's work or churn waste.
    let busy = h.busy_cpu().0 as f64 / NS;
    let accounted = done.len() as f64 * w_s + xs.iter().sum::<f64>();
    if (busy - accounted).abs() > 1e-6 * busy {
        return Err(CheckError(format!(
            "busy CPU {busy} s is not the work done plus the waste, {accounted} s"
        )));
    }
    let (m, se) = batch_means(&xs, batches);
    let name = |c: Option<Duration>| {
        c.map_or("no checkpoint".to_string(), |c| {
            format!("checkpoint every {c}")
        })
    };
    Ok(Measurement {
        points: vec![Point::analytic(
            format!("{} run, {} predicted (s per job)", name(run), name(claimed)),
            m,
            se,
            expected,
        )],
        axes: None,
        curve: Vec::new(),
        note: format!(
            "{workers} workers up {up} / down {down} (exponential), {} jobs of {work}, \
             {batches} batches in submission order (seed {seed})",
            done.len()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_point_is_mitzenmachers() {
        // T_2(0.8) = 1 + 0.8² + 0.8⁶ + 0.8¹⁴ + 0.8³⁰ + … (λ^(2^i − 2)).
        let direct: f64 = (1..8).map(|i| 0.8f64.powi((1 << i) - 2)).sum();
        let (t, _, _) = supermarket(0.8, 2, 12);
        assert!((t - direct).abs() < 1e-12, "{t} vs {direct}");
        assert!((t - 1.9474).abs() < 1e-4, "{t}");
        // d = 1 has a linear drift: no 1/N term, T* = 1/(1 − λ).
        let (t1, c1, _) = supermarket(0.8, 1, 12);
        assert!(c1.abs() < 1e-12, "{c1}");
        assert!((t1 - 5.0 * (1.0 - 0.8f64.powi(12))).abs() < 1e-12, "{t1}");
        // More levels change nothing.
        let (a, b, c) = supermarket(0.8, 2, 12);
        let (a2, b2, c2) = supermarket(0.8, 2, 16);
        assert!((a - a2).abs() + (b - b2).abs() + (c - c2).abs() < 1e-9);
    }

    #[test]
    fn predictions_at_n_100() {
        // The crate's derivation: T_100 ≈ 1.9474 + 0.0201 − 0.0090.
        let (t, _, _) = supermarket(0.8, 2, 12);
        let (t100, allow) = supermarket_prediction(100, 0.8, 2);
        assert!((t100 - 1.9585).abs() < 2e-4, "{t100}");
        assert!((t100 - t - 0.0111).abs() < 2e-4, "{}", t100 - t);
        assert!((allow - 0.003).abs() < 1e-12);
        // d = 1: M/M/1's 1/(1 − λ), no allowance.
        let (t1, a1) = supermarket_prediction(100, 0.8, 1);
        assert!((t1 - 5.0).abs() < 1e-12 && a1 == 0.0, "{t1} {a1}");
    }

    #[test]
    fn quorum_rates_by_hand() {
        // P(K ≥ 2) = [C(40,2)·160 + C(40,3)] / C(200,3)
        //          = (124,800 + 9,880) / 1,313,400.
        let two = 134_680.0 / 1_313_400.0;
        let (w, nq) = quorum_prediction(200, 40, 3, 2, false);
        assert_eq!(w, 0.0);
        assert!((nq - two).abs() < 1e-12, "{nq}");
        assert!((two - 0.102_54).abs() < 1e-5);
        let (w, nq) = quorum_prediction(200, 40, 3, 2, true);
        assert!((w - two).abs() < 1e-12 && nq == 0.0, "{w} {nq}");
        // r = 4, q = 3 colluding: K = 2 gives no quorum. Hypergeometric
        // over 10 workers with 5 faulty: P(K = 2) = C(5,2)C(5,2)/C(10,4)
        // = 100/210.
        let (_, nq) = quorum_prediction(10, 5, 4, 3, true);
        assert!((nq - 100.0 / 210.0).abs() < 1e-12, "{nq}");
    }

    #[test]
    fn churn_waste_by_hand() {
        // 2 h × (e^0.5 − 1) − 1 h = 2 × 0.648721 − 1 = 0.297443 h.
        let none = churn_waste(7200.0, 3600.0, 3600.0);
        assert!((none - 0.297_443 * 3600.0).abs() < 0.1, "{none}");
        // 4 × (2 h × (e^0.125 − 1) − 0.25 h) = 4 × 0.016296 h = 234.7 s.
        let quarter = churn_waste(7200.0, 3600.0, 900.0);
        assert!((quarter - 234.7).abs() < 0.1, "{quarter}");
        // An interval longer than the work is no checkpoint; a remainder
        // stretch counts once.
        assert_eq!(churn_waste(7200.0, 3600.0, 10_000.0), none);
        let g = |l: f64| 7200.0 * (l / 7200.0).exp_m1() - l;
        let odd = churn_waste(7200.0, 3600.0, 1000.0);
        assert!((odd - (3.0 * g(1000.0) + g(600.0))).abs() < 1e-9);
    }
}
