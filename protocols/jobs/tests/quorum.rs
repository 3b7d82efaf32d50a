//! Redundancy and quorum against faulty workers.
//!
//! N = 200 identical peers, no churn, a fixed subset of F = 40 (f = 0.2)
//! faulty; every peer submits jobs; r = 3 copies on distinct workers, a
//! majority quorum q = 2, and no fourth copy (`max_copies` = 3).
//!
//! Random placement draws each job's workers one after the other, each
//! uniformly among the peers that hold no copy yet: the three workers are a
//! uniform 3-subset of the 200 peers (the submitter included), so the
//! number of faulty ones K is hypergeometric (population 200, 40 marked, 3
//! draws), independently from job to job (the faulty set is fixed, the
//! draws are fresh). P(K ≥ 2) = [C(40,2)·160 + C(40,3)] / C(200,3)
//! = (124,800 + 9,880) / 1,313,400 = 0.10254.
//!
//! - Independent faults: wrong answers all differ, so only right answers
//!   can agree. A job with at least 2 honest workers is accepted right
//!   whatever the order of arrival; with K ≥ 2 the three answers are
//!   pairwise different and the job fails with no quorum. Predictions:
//!   accepted wrong = 0 exactly, no quorum = P(K ≥ 2).
//! - Colluding faults: every faulty worker answers the same wrong value, so
//!   two faulty workers form a quorum. K ≥ 2: wrong accepted; K ≤ 1: at
//!   least 2 honest, right accepted. Predictions: accepted wrong =
//!   P(K ≥ 2), no quorum = 0 exactly.
//!
//! Jobs are independent trials, so the standard error of a rate is the
//! binomial one; it is taken under the predicted rate, so that a
//! prediction of 0 tolerates no hit at all. Band: 4 standard errors.
//! Control: each case's prediction must reject the other case's
//! measurement (no-quorum for one, accepted-wrong for the other).

mod common;

use common::hypergeometric;
use jobs::harness::{Arrivals, Harness, Setup, job_id};
use jobs::{Answer, Fault, Job, JobFailure, Policy, WorkerSpec};
use sim_core::Duration;

const N: u64 = 200;
const FAULTY: u64 = 40;
const JOBS_EACH: u64 = 100;

struct Rates {
    jobs: usize,
    wrong: f64,
    no_quorum: f64,
}

fn run(fault: Fault, seed: u64) -> Rates {
    let mut s = Setup::new(N as usize, seed);
    s.cfg.policy = Policy::Random;
    s.cfg.redundancy = 3;
    s.cfg.quorum = 2;
    s.cfg.max_copies = 3;
    // Every fifth peer is faulty.
    for (i, spec) in s.peers.iter_mut().enumerate() {
        if i % 5 == 0 {
            *spec = WorkerSpec { fault, ..*spec };
        }
    }
    assert_eq!(
        s.peers.iter().filter(|p| p.fault != Fault::Honest).count() as u64,
        FAULTY
    );
    let mut h = Harness::new(s).unwrap();
    let mut arrivals = Arrivals::new(Duration::from_secs(10), |node, seq, _rng: &mut _| Job {
        id: job_id(node, seq),
        work: Duration::from_secs(1),
        input: 1000,
        output: 100,
        deadline: None,
    });
    arrivals.per_submitter = Some(JOBS_EACH);
    let peers = h.peers.to_vec();
    h.add_arrivals(&peers, arrivals).unwrap();
    // 100 gaps of mean 10 s: a submitter's last job comes after
    // 1000 ± 100 s; twice that leaves no job out.
    h.run_for(Duration::from_secs(JOBS_EACH * 20));
    let limit = h.sim.now().saturating_add(Duration::from_secs(100_000));
    assert!(h.run_until_done(Duration::from_secs(1000), limit));
    let done = h.done();
    assert_eq!(done.len() as u64, N * JOBS_EACH);
    let wrong = done
        .iter()
        .filter(|d| matches!(d.result, Ok(Answer::Wrong(_))))
        .count();
    let no_quorum = done
        .iter()
        .filter(|d| d.result == Err(JobFailure::NoQuorum))
        .count();
    let other = done.len() - wrong - no_quorum;
    assert_eq!(
        other,
        done.iter()
            .filter(|d| d.result == Ok(Answer::Right))
            .count(),
        "every job is accepted or fails for lack of a quorum"
    );
    let n = done.len() as f64;
    Rates {
        jobs: done.len(),
        wrong: wrong as f64 / n,
        no_quorum: no_quorum as f64 / n,
    }
}

/// Whether `measured` is within 4 binomial standard errors (under
/// `predicted`) of `predicted`, over `n` jobs.
fn agrees(measured: f64, predicted: f64, n: usize) -> bool {
    let se = (predicted * (1.0 - predicted) / n as f64).sqrt();
    (measured - predicted).abs() <= 4.0 * se
}

#[test]
fn majority_quorum_stops_independent_faults_but_not_colluders() {
    let two_faulty = hypergeometric(N, FAULTY, 3, 2) + hypergeometric(N, FAULTY, 3, 3);
    assert!((two_faulty - 0.102_54).abs() < 1e-5, "{two_faulty}");
    let ind = run(Fault::Independent, 3);
    let col = run(Fault::Colluding, 3);
    eprintln!(
        "P(K ≥ 2) = {two_faulty:.5}; independent: wrong {:.5}, no quorum {:.5} ({} jobs); \
         colluding: wrong {:.5}, no quorum {:.5} ({} jobs)",
        ind.wrong, ind.no_quorum, ind.jobs, col.wrong, col.no_quorum, col.jobs
    );
    // Independent faults.
    assert_eq!(ind.wrong, 0.0, "no wrong answer is ever accepted");
    assert!(agrees(ind.no_quorum, two_faulty, ind.jobs));
    // Colluding faults.
    assert!(agrees(col.wrong, two_faulty, col.jobs));
    assert_eq!(col.no_quorum, 0.0);
    // Controls: the independent prediction (no quorum with P(K ≥ 2)) rejects
    // the colluders' measurement, and the colluding prediction (wrong with
    // P(K ≥ 2)) rejects the independent faults' measurement.
    assert!(!agrees(col.no_quorum, two_faulty, col.jobs));
    assert!(!agrees(ind.wrong, two_faulty, ind.jobs));
    // And each case's zero prediction rejects the other's hits.
    assert!(!agrees(col.wrong, 0.0, col.jobs));
    assert!(!agrees(ind.no_quorum, 0.0, ind.jobs));
}
