//! Work lost to churn, with and without checkpoints, against renewal
//! theory.
//!
//! 100 reference workers alternate exponential up sessions (mean U = 2 h)
//! and exponential down sessions (mean 1 h); 4 stable pure submitters
//! send jobs of fixed work W = 1 h, one copy each, placed at random. No
//! heartbeat fires in the run, so no copy is presumed lost and re-issued:
//! each job runs on one worker until it completes, restarting after every
//! failure from its last checkpoint (from scratch without checkpoints).
//!
//! Derivation. While a job runs, its worker fails at rate 1/U whatever
//! happened before (exponential sessions are memoryless: a job that starts
//! in the middle of a session, or at the start of one after a failure,
//! sees an Exp(U) time to the next failure). Down time uses no CPU, and the
//! job resumes when its worker comes back. Let R be the running time needed
//! to complete a stretch of length L that must run uninterrupted, with a
//! restart after each failure. Conditioning on the first failure time
//! X ~ Exp(U): R = L if X ≥ L, otherwise R = X + R' with R' an independent
//! copy of R, so E[R] = L e^{−L/U} + E[X; X < L] + (1 − e^{−L/U}) E[R].
//! With E[X; X < L] = U − (U + L) e^{−L/U}, this gives
//! E[R] = U (e^{L/U} − 1). The CPU wasted is R − L:
//! - no checkpoints (L = W): E[waste] = U(e^{W/U} − 1) − W
//!   = 2 h × 0.648721 − 1 h = 0.297443 h = 1070.8 s;
//! - a checkpoint every C = 15 min of running (W/C = 4 independent
//!   stretches): E[waste] = (W/C)(U(e^{C/U} − 1) − C)
//!   = 4 × (2 h × 0.133148 − 0.25 h) = 0.065187 h = 234.7 s.
//!
//! Measurement: the churn waste each job caused (the worker reports it at
//! every failure), over every job, all of which complete; jobs are
//! independent (memoryless failures), and the standard error comes from 20
//! batch means in submission order. Band: 4 standard errors. Control: the
//! no-checkpoint formula must reject the checkpointed measurement.

mod common;

use common::{Estimate, batch_means};
use jobs::harness::{Arrivals, Harness, Setup, job_id};
use jobs::{Event, Job, Policy, Waste, WorkerSpec};
use sim_core::churn::{Alternating, Dist};
use sim_core::{Duration, Time};
use std::collections::BTreeMap;

const HOUR: u64 = 3600;
const WORKERS: usize = 100;
const SUBMITTERS: usize = 4;
const U_S: f64 = 2.0 * 3600.0;
const W_S: f64 = 3600.0;
/// Arrivals for 2000 h.
const SPAN_H: u64 = 2000;

/// CPU seconds lost to churn per job, and the busy CPU against the work
/// done plus the waste.
fn measure(checkpoint: Option<Duration>, seed: u64) -> Estimate {
    let mut s = Setup::new(WORKERS, seed);
    s.stable = vec![WorkerSpec::NONE; SUBMITTERS];
    s.cfg.policy = Policy::Random;
    s.cfg.redundancy = 1;
    s.cfg.quorum = 1;
    s.cfg.max_copies = 1;
    // A third of the workers are down at any time: placements that meet a
    // down worker (or a pure submitter) are retried.
    s.cfg.max_attempts = 1000;
    s.cfg.checkpoint = checkpoint;
    // No heartbeat in the run: no copy is presumed lost.
    s.cfg.heartbeat = Duration::from_secs(100 * 365 * 24 * HOUR);
    let up = Dist::exponential(Duration::from_secs(2 * HOUR)).unwrap();
    let down = Dist::exponential(Duration::from_secs(HOUR)).unwrap();
    s.churn = Some(Box::new(Alternating::new(up, down)));
    let mut h = Harness::new(s).unwrap();
    // Capacity: 100 workers up 2/3 of the time, a job costing about
    // 1.3 h of running: 51 jobs an hour. Offer 35 an hour.
    let gap = Duration::from_secs_f64(SUBMITTERS as f64 * 3600.0 / 35.0);
    let mut arrivals = Arrivals::new(gap, |node, seq, _rng: &mut _| Job {
        id: job_id(node, seq),
        work: Duration::from_secs(HOUR),
        input: 1000,
        output: 100,
        deadline: None,
    });
    arrivals.until = Some(Time(SPAN_H * HOUR * 1_000_000_000));
    let submitters = h.stable.clone();
    h.add_arrivals(&submitters, arrivals).unwrap();
    h.run_for(Duration::from_secs(SPAN_H * HOUR));
    let limit = h.sim.now().saturating_add(Duration::from_secs(1000 * HOUR));
    assert!(h.run_until_done(Duration::from_secs(10 * HOUR), limit));
    let done = h.done();
    assert!(done.iter().all(|d| d.result.is_ok() && d.attempts >= 1));
    // Waste per job.
    let mut lost: BTreeMap<u64, f64> = BTreeMap::new();
    for (_, _, e) in h.log.borrow().iter() {
        if let Event::Wasted { job, cpu, cause } = e {
            assert_eq!(*cause, Waste::Churn, "one copy per job: only churn");
            *lost.entry(*job).or_default() += cpu.as_secs_f64();
        }
    }
    let mut jobs: Vec<_> = done.iter().map(|d| (d.submitted, d.job)).collect();
    jobs.sort();
    let xs: Vec<f64> = jobs
        .iter()
        .map(|(_, j)| lost.get(j).copied().unwrap_or(0.0))
        .collect();
    // Every CPU second is a completed job's work or churn waste.
    let busy = h.busy_cpu().as_secs_f64();
    let accounted = done.len() as f64 * W_S + xs.iter().sum::<f64>();
    assert!(
        (busy - accounted).abs() < 1e-6 * busy,
        "busy {busy} s, accounted {accounted} s"
    );
    batch_means(&xs, 20)
}

/// E[waste] for work `w` in stretches of `c` (c = w: no checkpoints).
fn predicted(w: f64, c: f64) -> f64 {
    (w / c) * (U_S * ((c / U_S).exp() - 1.0) - c)
}

#[test]
fn churn_waste_per_job_matches_renewal_theory() {
    let none = predicted(W_S, W_S);
    let quarter = predicted(W_S, 900.0);
    assert!((none - 1070.8).abs() < 0.1, "{none}");
    assert!((quarter - 234.7).abs() < 0.1, "{quarter}");
    let a = measure(None, 5);
    let b = measure(Some(Duration::from_secs(900)), 5);
    eprintln!(
        "no checkpoint: {:.1} ± {:.1} s per job ({} jobs), predicted {none:.1}; \
         every 15 min: {:.1} ± {:.1} s ({} jobs), predicted {quarter:.1}",
        a.mean, a.se, a.n, b.mean, b.se, b.n
    );
    assert!(a.agrees(none, 4.0, 0.0), "{a:?} vs {none}");
    assert!(b.agrees(quarter, 4.0, 0.0), "{b:?} vs {quarter}");
    // Control: the formula without checkpoints rejects the checkpointed
    // measurement (and the reverse).
    assert!(!b.agrees(none, 4.0, 0.0));
    assert!(!a.agrees(quarter, 4.0, 0.0));
}
