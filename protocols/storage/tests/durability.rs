//! Mean time to data loss against the birth–death chain.
//!
//! Every peer leaves for good after an exponential lifetime of mean 1/λ
//! (the engine's churn: each up session ends in a permanent departure; a
//! replacement with a new id joins at once). An object has r replicas;
//! each replica lost is rebuilt after an exponential delay of mean 1/μ
//! (`RepairDelay::Exponential`), repairs of different replicas running in
//! parallel, on a network fast enough that transfers take milliseconds.
//! Failure detection adds about a detection timeout (2 min) to each
//! repair, against 1/μ = 2 h.
//!
//! With i live replicas the object loses one at rate iλ and gains one at
//! rate (r − i)μ; it is lost on reaching 0. The expected time to absorption
//! from i, T_i (T_0 = 0), solves
//!     (iλ + (r − i)μ) T_i = 1 + iλ T_{i−1} + (r − i)μ T_{i+1},  1 ≤ i ≤ r,
//! a tridiagonal system solved below; for r = 2 it gives the closed form
//! T_2 = (3λ + μ) / (2λ²). Without repair (μ = 0) it reduces to the
//! expected maximum of r exponential lifetimes, H_r / λ (H_r the harmonic
//! number).
//!
//! The measured mean is the mean over objects of (loss time − write time),
//! averaged per network; the standard error comes from the spread of the
//! per-network means over independent networks (objects of one network
//! share holders, so they are not independent). Band: 4 standard errors.

use sim_core::churn::{Alternating, Dist, PermanentPolicy, Start};
use sim_core::{Duration, Rate, SimpleNet, Time};
use storage::harness::{Harness, Setup};
use storage::{Command, Event, ObjectId, RepairDelay, RepairPolicy, Scheme};

const HOUR: f64 = 3600.0;
/// Independent networks per estimate.
const NETWORKS: u64 = 16;

/// Expected absorption time from r live replicas (hours).
fn mttdl(r: usize, lambda: f64, mu: f64) -> f64 {
    // Unknowns T_1..T_r; row i: a_i T_{i-1} + b_i T_i + c_i T_{i+1} = 1.
    let (mut a, mut b, mut c) = (vec![0.0; r + 1], vec![0.0; r + 1], vec![0.0; r + 1]);
    for i in 1..=r {
        let fail = i as f64 * lambda;
        let fix = (r - i) as f64 * mu;
        a[i] = -fail;
        b[i] = fail + fix;
        c[i] = -fix;
    }
    // Thomas algorithm (T_0 = 0 drops a_1; c_r = 0).
    let mut cp = vec![0.0; r + 1];
    let mut dp = vec![0.0; r + 1];
    for i in 1..=r {
        let den = b[i] - if i > 1 { a[i] * cp[i - 1] } else { 0.0 };
        cp[i] = c[i] / den;
        dp[i] = (1.0 - if i > 1 { a[i] * dp[i - 1] } else { 0.0 }) / den;
    }
    let mut t = vec![0.0; r + 2];
    for i in (1..=r).rev() {
        t[i] = dp[i] - cp[i] * t[i + 1];
    }
    t[r]
}

/// Mean loss time (hours) of `objects` objects on one network.
fn mean_loss_time(r: u16, life_h: f64, repair_h: Option<f64>, seed: u64) -> f64 {
    let peers = 60;
    let objects = 30;
    let mut s = Setup::small(peers, seed);
    s.net = SimpleNet::constant(Duration::from_millis(5), Rate::new(10_000_000_000).unwrap());
    s.store.scheme = Scheme::Replicate { r };
    match repair_h {
        Some(h) => {
            s.store.policy = RepairPolicy::Eager;
            s.store.repair_delay = RepairDelay::Exponential(Duration::from_secs_f64(h * HOUR));
        }
        None => s.store.policy = RepairPolicy::None,
    }
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

fn across_networks(r: u16, life_h: f64, repair_h: Option<f64>) -> (f64, f64) {
    let means: Vec<f64> = (1..=NETWORKS)
        .map(|seed| mean_loss_time(r, life_h, repair_h, seed))
        .collect();
    let n = means.len() as f64;
    let mean = means.iter().sum::<f64>() / n;
    let var = means.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

#[test]
fn closed_form_for_two_replicas() {
    let (l, m) = (0.05, 0.5);
    let t = mttdl(2, l, m);
    assert!((t - (3.0 * l + m) / (2.0 * l * l)).abs() < 1e-9 * t);
    // Without repair: H_r / λ.
    assert!((mttdl(3, l, 0.0) - (1.0 + 0.5 + 1.0 / 3.0) / l).abs() < 1e-9);
}

#[test]
fn mean_time_to_data_loss_matches_the_birth_death_chain() {
    let (life_h, repair_h) = (20.0, 2.0);
    let predicted = mttdl(2, 1.0 / life_h, 1.0 / repair_h);
    let (mean, se) = across_networks(2, life_h, Some(repair_h));
    eprintln!("r = 2 with repair: measured {mean:.1} h ± {se:.1} (SE), predicted {predicted:.1} h");
    assert!(
        (mean - predicted).abs() <= 4.0 * se,
        "{mean:.1} ± {se:.1} h vs {predicted:.1} h"
    );
}

#[test]
fn without_repair_the_loss_time_is_the_order_statistic_and_the_repair_prediction_fails() {
    let life_h = 20.0;
    let order_statistic = 1.5 * life_h; // H_2 / λ
    let with_repair = mttdl(2, 1.0 / life_h, 1.0 / 2.0);
    let (mean, se) = across_networks(2, life_h, None);
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
