//! Data loss without repair: the loss time is the order statistic.
//!
//! Every peer leaves for good after an exponential lifetime of mean 1/λ
//! (the engine's churn: each up session ends in a permanent departure; a
//! replacement with a new id joins at once). An object has r = 2 replicas
//! and nothing is repaired, so it is lost when the later of its two
//! holders leaves: the expected loss time is the expected maximum of r
//! exponential lifetimes, H_r / λ (H_r the harmonic number), 30 h for
//! 1/λ = 20 h. The birth–death chain with repair, T_2 = (3λ + μ)/(2λ²),
//! must reject it.
//!
//! With repair (each lost replica rebuilt after an exponential delay of
//! mean 1/μ) the mean time to data loss against the birth–death chain is
//! the `scenarios check` case `repro/storage-durability.toml` (driver
//! `scenarios/src/check/drivers/storage.rs`), which replaced the test that
//! made that measurement here; this test's measurement is its control
//! (and the full-set case `storage-durability-no-repair`), kept here as
//! the claim of its own that the quick set does not check.
//!
//! The measured mean is the mean over objects of (loss time − write time),
//! averaged per network; the standard error comes from the spread of the
//! per-network means over independent networks (objects of one network
//! share holders, so they are not independent). Band: 4 standard errors.

use sim_core::churn::{Alternating, Dist, PermanentPolicy, Start};
use sim_core::{Duration, Rate, SimpleNet, Time};
use storage::harness::{Harness, Setup};
use storage::{Command, Event, ObjectId, RepairPolicy, Scheme};

const HOUR: f64 = 3600.0;
/// Independent networks per estimate.
const NETWORKS: u64 = 16;

/// Mean loss time (hours) of `objects` objects on one network.
fn mean_loss_time(r: u16, life_h: f64, seed: u64) -> f64 {
    let peers = 60;
    let objects = 30;
    let mut s = Setup::small(peers, seed);
    s.net = SimpleNet::constant(Duration::from_millis(5), Rate::new(10_000_000_000).unwrap());
    s.store.scheme = Scheme::Replicate { r };
    s.store.policy = RepairPolicy::None;
    s.store.detection_timeout = Duration::from_secs(120);
    s.store.heartbeat = Duration::from_secs(40);
    s.store.forget_after = Duration::from_secs(3600);
    s.kad.refresh_interval = None;
    let life = Dist::exponential(Duration::from_secs_f64(life_h * HOUR)).unwrap();
    let churn = Alternating::new(life, Dist::exponential(Duration::from_secs(1)).unwrap())
        .with_permanent(PermanentPolicy::probability_per_failure(1.0).unwrap())
        .with_start(Start::Fresh);
    s.churn = Some(Box::new(churn));
    s.spare = 4000;
    let mut h = Harness::new(s).unwrap();
    let ids: Vec<ObjectId> = (0..objects).map(|i| ObjectId::synthetic(seed, i)).collect();
    for (i, &object) in ids.iter().enumerate() {
        h.request(
            h.clients[i % 4],
            Command::Write {
                tag: i as u64,
                object,
                len: 1000,
            },
        );
    }
    h.run_for(Duration::from_secs(10));
    let written: Vec<(ObjectId, Time)> = h
        .events()
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::Written {
                object,
                ended,
                result: Ok(_),
                ..
            } => Some((*object, *ended)),
            _ => None,
        })
        .collect();
    assert_eq!(written.len(), objects as usize, "every write succeeds");
    let mut rounds = 0;
    while h.ledger().lost_at.len() < written.len() {
        rounds += 1;
        assert!(rounds < 400, "objects still alive after {rounds} × 50 h");
        h.run_for(Duration::from_secs(50 * 3600));
    }
    assert!(h.replaced.borrow().len() < 4000, "spare ids suffice");
    let ledger = h.ledger();
    let sum: f64 = written
        .iter()
        .map(|(o, t)| (ledger.lost_at[o].since(*t)).0 as f64 / 1e9 / HOUR)
        .sum();
    sum / written.len() as f64
}

fn across_networks(r: u16, life_h: f64) -> (f64, f64) {
    let means: Vec<f64> = (1..=NETWORKS)
        .map(|seed| mean_loss_time(r, life_h, seed))
        .collect();
    let n = means.len() as f64;
    let mean = means.iter().sum::<f64>() / n;
    let var = means.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

#[test]
fn without_repair_the_loss_time_is_the_order_statistic_and_the_repair_prediction_fails() {
    let life_h = 20.0;
    let order_statistic = 1.5 * life_h; // H_2 / λ
    // The chain's T_2 = (3λ + μ)/(2λ²) with 1/μ = 2 h.
    let (l, mu) = (1.0 / life_h, 0.5);
    let with_repair = (3.0 * l + mu) / (2.0 * l * l);
    let (mean, se) = across_networks(2, life_h);
    eprintln!(
        "r = 2 without repair: measured {mean:.1} h ± {se:.1} (SE); H_2/λ = {order_statistic:.1} h, \
         with-repair prediction {with_repair:.1} h"
    );
    assert!((mean - order_statistic).abs() <= 4.0 * se);
    assert!(
        (mean - with_repair).abs() > 4.0 * se,
        "the with-repair prediction must be rejected"
    );
}
