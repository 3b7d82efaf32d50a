//! Every policy end to end: jobs complete, every CPU second is accounted
//! for, and a run is a function of its seed.

use jobs::harness::{Arrivals, Harness, Setup, exponential, job_id};
use jobs::report::JOBS_HEADER;
use jobs::{Answer, Fault, Job, Policy};
use sim_core::churn::{Alternating, Dist, PermanentPolicy};
use sim_core::{Duration, NodeId, Time};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

const POLICIES: [Policy; 4] = [
    Policy::Random,
    Policy::PowerOfD { d: 2 },
    Policy::WorkStealing,
    Policy::Pull,
];

fn job(node: NodeId, seq: u64, work: Duration, deadline: Option<Duration>) -> Job {
    Job {
        id: job_id(node, seq),
        work,
        input: 1 << 20,
        output: 64 << 10,
        deadline,
    }
}

#[test]
fn every_policy_completes_every_job_without_churn() {
    for policy in POLICIES {
        let mut s = Setup::new(40, 9);
        s.cfg.policy = policy;
        s.rows = true;
        // 20 ms one way, 100 Mbit/s per transfer.
        s.net = sim_core::SimpleNet::constant(
            Duration::from_millis(20),
            sim_core::Rate::new(100_000_000).unwrap(),
        );
        let mut h = Harness::new(s).unwrap();
        // Two copies of 60 s jobs, 40 peers each submitting one per 10 min:
        // a load of 0.2.
        let mut a = Arrivals::new(Duration::from_secs(600), |node, seq, _rng: &mut _| {
            job(node, seq, Duration::from_secs(60), None)
        });
        a.per_submitter = Some(20);
        let peers = h.peers.to_vec();
        h.add_arrivals(&peers, a).unwrap();
        h.run_for(Duration::from_secs(40_000));
        let limit = h.sim.now().saturating_add(Duration::from_secs(40_000));
        assert!(
            h.run_until_settled(Duration::from_secs(600), limit),
            "{policy:?}"
        );
        let done = h.done();
        assert_eq!(done.len(), 800, "{policy:?}");
        assert!(
            done.iter().all(|d| d.result == Ok(Answer::Right)),
            "{policy:?}"
        );
        // Placement, quorum and distinct workers: a second copy on the
        // submitter's own machine never counts twice.
        assert!(done.iter().all(|d| d.attempts == 2), "{policy:?}");
        let m = h.sim.metrics();
        assert_eq!(m.rows("jobs"), 800, "{policy:?}");
        assert_eq!(m.counter("jobs.accepted"), 800, "{policy:?}");
        assert_eq!(m.counter("jobs.runs_done"), 1600, "{policy:?}");
        // Inputs and outputs moved as bulk transfers, except for copies run
        // by their own submitter.
        // (work stealing moves queued local copies away).
        let local = m.counter("jobs.placed_local") - m.counter("jobs.steals");
        assert_eq!(
            m.counter("jobs.input_bytes"),
            (1600 - local) * (1 << 20),
            "{policy:?}"
        );
        assert_eq!(
            m.counter("jobs.output_bytes"),
            (1600 - local) * (64 << 10),
            "{policy:?}"
        );
        match policy {
            Policy::WorkStealing => assert!(m.counter("jobs.steals") > 0),
            Policy::Pull => assert!(m.counter("jobs.grants") > 0),
            Policy::PowerOfD { .. } => assert!(m.counter("jobs.probes") > 0),
            Policy::Random => {}
        }
        let files = h.sim.metrics_mut().to_csv_files().unwrap();
        let table = String::from_utf8(files["jobs.csv"].clone()).unwrap();
        assert_eq!(table.lines().next(), Some(JOBS_HEADER));
    }
}

/// A run with everything that loses work: churn with some permanent
/// departures, faulty workers, disagreement, deadlines. Returns the
/// harness and the work of every job submitted.
fn stormy(policy: Policy, seed: u64) -> (Harness, Rc<RefCell<BTreeMap<u64, Duration>>>) {
    let mut s = Setup::new(60, seed);
    s.cfg.policy = policy;
    s.cfg.redundancy = 3;
    s.cfg.quorum = 2;
    s.cfg.max_copies = 5;
    s.cfg.heartbeat = Duration::from_secs(300);
    s.cfg.result_retries = 3;
    for (i, w) in s.peers.iter_mut().enumerate() {
        w.fault = match i % 10 {
            0 => Fault::Independent,
            1 => Fault::Colluding,
            _ => Fault::Honest,
        };
    }
    let up = Dist::exponential(Duration::from_secs(3 * 3600)).unwrap();
    let down = Dist::exponential(Duration::from_secs(3600)).unwrap();
    s.churn = Some(Box::new(Alternating::new(up, down).with_permanent(
        PermanentPolicy::probability_per_failure(0.05).unwrap(),
    )));
    s.net = sim_core::SimpleNet::constant(
        Duration::from_millis(20),
        sim_core::Rate::new(20_000_000).unwrap(),
    );
    let mut h = Harness::new(s).unwrap();
    let works = Rc::new(RefCell::new(BTreeMap::new()));
    let w2 = works.clone();
    let mut a = Arrivals::new(Duration::from_secs(3600), move |node, seq, rng: &mut _| {
        let j = job(
            node,
            seq,
            exponential(rng, Duration::from_secs(1200)),
            Some(Duration::from_secs(4 * 3600)),
        );
        w2.borrow_mut().insert(j.id, j.work);
        j
    });
    a.until = Some(Time(24 * 3600 * 1_000_000_000));
    let peers = h.peers.to_vec();
    h.add_arrivals(&peers, a).unwrap();
    h.run_for(Duration::from_secs(24 * 3600));
    (h, works)
}

/// Every CPU second a worker spent is either in the results an accepted
/// job's quorum agreed on (q results, each one uninterrupted run: the
/// job's work on these reference machines) or reported as waste (churn,
/// redundant or rejected), once everything has settled. Exact: with the
/// whole CPU given, CPU time is wall time and nothing is rounded.
#[test]
fn every_cpu_second_is_work_used_or_waste() {
    for policy in POLICIES {
        let (mut h, works) = stormy(policy, 21);
        let limit = h
            .sim
            .now()
            .saturating_add(Duration::from_secs(30 * 24 * 3600));
        assert!(
            h.run_until_settled(Duration::from_secs(3600), limit),
            "{policy:?}"
        );
        let works = works.borrow();
        let mut used = 0u64;
        for d in h.done() {
            if d.result.is_ok() {
                used += 2 * works[&d.job].0;
            }
        }
        let w = h.wasted();
        let busy = h.busy_cpu().0;
        let m = h.sim.metrics();
        eprintln!(
            "{policy:?}: {} accepted, {} failed, {} abandoned; busy {:.0} s = used {:.0} + churn {:.0} + redundant {:.0} + rejected {:.0}",
            m.counter("jobs.accepted"),
            m.counter("jobs.failed_deadline")
                + m.counter("jobs.failed_no_quorum")
                + m.counter("jobs.failed_timeout"),
            m.counter("jobs.abandoned"),
            busy as f64 / 1e9,
            used as f64 / 1e9,
            w.churn.as_secs_f64(),
            w.redundant.as_secs_f64(),
            w.rejected.as_secs_f64()
        );
        // Every kind of loss happened.
        assert!(
            w.churn.0 > 0 && w.redundant.0 > 0 && w.rejected.0 > 0,
            "{policy:?} {w:?}"
        );
        assert!(m.counter("jobs.presumed_lost") > 0, "{policy:?}");
        assert_eq!(
            busy,
            used + w.churn.0 + w.redundant.0 + w.rejected.0,
            "{policy:?}"
        );
    }
}

/// Same seed, same run: every event identical. Another seed differs.
#[test]
fn a_run_is_a_function_of_its_seed() {
    for policy in POLICIES {
        let run = |seed| {
            let (h, _) = stormy(policy, seed);
            let log = h.log.borrow().clone();
            (log, h.sim.trace_hash())
        };
        let (a, ha) = run(4);
        let (b, hb) = run(4);
        assert!(a.len() > 100, "{policy:?}: {} events", a.len());
        assert_eq!(ha, hb, "{policy:?}: rerun with seed 4 diverged");
        assert!(
            a == b,
            "{policy:?}: rerun with seed 4 logged different events"
        );
        let (c, hc) = run(5);
        assert_ne!(ha, hc);
        assert!(a != c);
    }
}
