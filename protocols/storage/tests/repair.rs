//! Repair under churn: false alarms told apart as a real system can, lazy
//! repair against eager, audits against silent losses.

use sim_core::churn::{Alternating, Dist, PermanentPolicy};
use sim_core::{Duration, NodeId};
use std::collections::BTreeSet;
use storage::harness::{Harness, Setup};
use storage::{Command, ObjectId, RepairBytes, RepairPlacement, RepairPolicy, Scheme};

const H: u64 = 3600;

fn run(
    scheme: Scheme,
    policy: RepairPolicy,
    permanent: f64,
    days: u64,
    tune: impl FnOnce(&mut Setup),
) -> Harness {
    let mut s = Setup::small(80, 9);
    s.store.scheme = scheme;
    s.store.policy = policy;
    s.store.detection_timeout = Duration::from_secs(H / 2);
    s.store.heartbeat = Duration::from_secs(H / 6);
    s.kad.refresh_interval = None;
    let up = Dist::exponential(Duration::from_secs(8 * H)).unwrap();
    let down = Dist::exponential(Duration::from_secs(2 * H)).unwrap();
    s.churn = Some(Box::new(Alternating::new(up, down).with_permanent(
        PermanentPolicy::probability_per_failure(permanent).unwrap(),
    )));
    s.spare = 2000;
    tune(&mut s);
    let mut h = Harness::new(s).unwrap();
    for i in 0..60u64 {
        let object = ObjectId::synthetic(9, i);
        h.request(
            h.clients[i as usize % 4],
            Command::Write {
                tag: i,
                object,
                len: 100_000,
            },
        );
        h.run_for(Duration::from_millis(200));
    }
    h.run_for(Duration::from_secs(days * 24 * H));
    h
}

fn tally(h: &Harness) -> RepairBytes {
    RepairBytes::tally(h.sim.nodes().iter().map(|n| &n.store))
}

#[test]
fn false_alarms_are_the_repairs_whose_holder_came_back() {
    // Transient failures only: every presumed-gone holder comes back with
    // its disk. A repair is classified a false alarm once some node hears
    // from its holder again; only holders still down at the end (or back
    // too recently to have been pinged) can remain unclassified.
    let h = run(
        Scheme::Replicate { r: 3 },
        RepairPolicy::Eager,
        0.0,
        4,
        |_| {},
    );
    let t = tally(&h);
    eprintln!("transient churn: {t:?}");
    assert!(t.false_alarm_fragments > 0, "false alarms happen");
    let returned: BTreeSet<NodeId> = h
        .sim
        .nodes()
        .iter()
        .flat_map(|n| n.store.returned().iter().copied())
        .collect();
    for n in h.sim.nodes() {
        for g in n.store.repairs_by_ghost().keys() {
            if !returned.contains(g) {
                assert!(!h.sim.is_up(*g), "{g}: up and never heard from again");
            }
        }
    }
    assert!(t.false_alarm > t.true_loss, "{t:?}");
    // Control: permanent departures only (every failure is a departure):
    // no presumed-gone holder is ever heard from again.
    let h = run(
        Scheme::Replicate { r: 3 },
        RepairPolicy::Eager,
        1.0,
        2,
        |_| {},
    );
    let t = tally(&h);
    eprintln!("permanent churn: {t:?}");
    assert!(t.true_loss_fragments > 0);
    assert_eq!((t.false_alarm, t.false_alarm_fragments), (0, 0));
}

#[test]
fn lazy_repair_moves_fewer_bytes_than_eager_under_transient_churn() {
    let scheme = Scheme::Replicate { r: 4 };
    let eager = run(scheme, RepairPolicy::Eager, 0.0, 4, |_| {});
    let lazy = run(scheme, RepairPolicy::Lazy { threshold: 2 }, 0.0, 4, |_| {});
    let (e, l) = (tally(&eager).total(), tally(&lazy).total());
    eprintln!("repair bytes: eager {e}, lazy {l}");
    assert!(e > 0);
    assert!(l * 2 < e, "lazy {l} against eager {e}");
    // Transient failures lose nothing either way.
    let (mut eager, mut lazy) = (eager, lazy);
    assert_eq!(eager.summary().lost, 0);
    assert_eq!(lazy.summary().lost, 0);
}

#[test]
fn audits_find_silent_losses() {
    // No churn; each fragment is silently lost after 2 days on average.
    let audited = |audit: bool| {
        run(
            Scheme::Replicate { r: 3 },
            RepairPolicy::Eager,
            0.0,
            3,
            |s| {
                s.churn = None;
                s.store.latent_loss_mean = Some(Duration::from_secs(48 * H));
                s.store.audit_interval = audit.then_some(Duration::from_secs(2 * H));
            },
        )
    };
    let mut with = audited(true);
    let mut without = audited(false);
    let copies = |h: &mut Harness| -> usize {
        (0..60u64)
            .map(|i| h.ledger().copies(&ObjectId::synthetic(9, i)))
            .sum()
    };
    let (cw, cn) = (copies(&mut with), copies(&mut without));
    let (tw, tn) = (tally(&with), tally(&without));
    eprintln!("copies with audits {cw}, without {cn}; {tw:?} / {tn:?}");
    assert!(with.sim.metrics().counter("storage.latent_losses") > 0);
    assert!(tw.audit_fragments > 0 && tw.audit > 0);
    // Without audits only a leader's silence is noticed (a leader that lost
    // its fragment stops pinging the followers it had only for that object).
    assert_eq!((tn.audit, tn.audit_fragments), (0, 0));
    assert!(cw > 170, "audits keep nearly 3 copies of 60 objects: {cw}");
    assert!(cn < 100, "without audits copies decay: {cn}");
}

/// Sessions of about 2 h (down 30 min), one failure in 200 permanent;
/// detection after 6 h, heartbeats every hour.
fn restarting_often(s: &mut Setup) {
    s.store.detection_timeout = Duration::from_secs(6 * H);
    s.store.heartbeat = Duration::from_secs(H);
    let up = Dist::exponential(Duration::from_secs(2 * H)).unwrap();
    let down = Dist::exponential(Duration::from_secs(H / 2)).unwrap();
    s.churn = Some(Box::new(Alternating::new(up, down).with_permanent(
        PermanentPolicy::probability_per_failure(0.005).unwrap(),
    )));
}

#[test]
fn holders_that_restart_often_still_detect_departures() {
    // Sessions of about 2 h against a detection timeout of 6 h: the
    // detector's view must survive a holder's own restarts, or a departed
    // holder is never presumed gone and never replaced.
    let h = run(
        Scheme::Replicate { r: 3 },
        RepairPolicy::Eager,
        0.005,
        12,
        restarting_often,
    );
    let t = tally(&h);
    let departed = h.replaced.borrow().len();
    let mut h = h;
    let lost = h.summary().lost;
    eprintln!("{departed} departures, {lost} objects lost, {t:?}");
    assert!(departed > 20);
    // 60 objects × 3 copies on 80 peers: every departure takes about 2.25
    // copies with it; most must have been rebuilt.
    let lost_copies = departed as f64 * 180.0 / 80.0;
    assert!(
        t.true_loss_fragments as f64 > 0.5 * lost_copies,
        "{} of about {lost_copies:.0} departed copies rebuilt",
        t.true_loss_fragments
    );
}

#[test]
fn repairs_placed_from_the_leaders_table_rebuild_departed_copies() {
    // The same churn as above, with each repair's new holders taken from
    // the leader's routing table (no lookup) and returning peers rejoining
    // the DHT without any RPC: departed copies must still be rebuilt.
    let h = run(
        Scheme::Replicate { r: 3 },
        RepairPolicy::Eager,
        0.005,
        12,
        |s| {
            restarting_often(s);
            s.store.repair_placement = RepairPlacement::Table;
            s.kad.rejoin = kademlia::Rejoin::Silent;
        },
    );
    let t = tally(&h);
    let m = h.sim.metrics();
    let (local, started) = (
        m.counter("storage.placement_local"),
        m.counter("storage.repairs_started"),
    );
    let departed = h.replaced.borrow().len();
    eprintln!("{departed} departures, {local} local placements, {started} repairs, {t:?}");
    // Every repair asked the table, none the DHT.
    assert!(started > 0);
    assert_eq!(local, started);
    assert!(departed > 20);
    let lost_copies = departed as f64 * 180.0 / 80.0;
    assert!(
        t.true_loss_fragments as f64 > 0.5 * lost_copies,
        "{} of about {lost_copies:.0} departed copies rebuilt",
        t.true_loss_fragments
    );
}
