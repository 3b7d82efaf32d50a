//! A harness that drops its storage events once the ledger has applied
//! them (`Setup::keep_log` false) keeps the same ledger, counters and
//! engine trace as one that keeps the whole log.

use sim_core::Duration;
use sim_core::churn::{Alternating, Dist, PermanentPolicy};
use storage::harness::{Harness, Setup};
use storage::{Command, ObjectId, Scheme};

/// 40 churning peers (up 3 h, down 1 h, exponential; 30 % of failures
/// permanent, replaced), 60 objects, one simulated day with ledger reads
/// every two hours.
fn run(scheme: Scheme, keep_log: bool) -> Harness {
    let mut s = Setup::small(40, 31);
    s.spare = 200;
    s.keep_log = keep_log;
    s.store.scheme = scheme;
    s.store.detection_timeout = Duration::from_secs(20 * 60);
    s.store.heartbeat = Duration::from_secs(5 * 60);
    let churn = Alternating::new(
        Dist::exponential(Duration::from_secs(3 * 3600)).unwrap(),
        Dist::exponential(Duration::from_secs(3600)).unwrap(),
    )
    .with_permanent(PermanentPolicy::probability_per_failure(0.3).unwrap());
    s.churn = Some(Box::new(churn));
    let mut h = Harness::new(s).unwrap();
    for i in 0..60u64 {
        let c = h.clients[i as usize % h.clients.len()];
        let object = ObjectId::synthetic(31, i);
        h.request(
            c,
            Command::Write {
                tag: i,
                object,
                len: 50_000,
            },
        );
        h.run_for(Duration::from_millis(500));
    }
    for _ in 0..12 {
        h.run_for(Duration::from_secs(2 * 3600));
        let _ = h.ledger();
    }
    h.sim.finish_metrics();
    h
}

#[test]
fn dropping_applied_events_keeps_the_ledger_and_the_run() {
    for scheme in [Scheme::Replicate { r: 3 }, Scheme::Erasure { m: 4, n: 6 }] {
        let mut kept = run(scheme, true);
        let mut dropped = run(scheme, false);
        assert!(!kept.events().is_empty(), "{scheme}");
        assert!(
            dropped.events().is_empty(),
            "{scheme}: applied events dropped"
        );
        assert_eq!(kept.sim.trace_hash(), dropped.sim.trace_hash(), "{scheme}");
        let (a, b) = (kept.ledger().clone(), dropped.ledger().clone());
        assert!(!a.holders.is_empty(), "{scheme}");
        assert!(
            !a.lost_at.is_empty(),
            "{scheme}: the churn loses objects, so the loss times are compared"
        );
        assert_eq!(a.holders, b.holders, "{scheme}");
        assert_eq!(a.need, b.need, "{scheme}");
        assert_eq!(a.lost_at, b.lost_at, "{scheme}");
        let counters = |h: &Harness| h.sim.metrics().counters().collect::<Vec<_>>();
        assert_eq!(counters(&kept), counters(&dropped), "{scheme}");
    }
}
