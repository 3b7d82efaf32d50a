//! A client that retries answers, over a lossy link, requests that a client
//! without retries loses; the latency it records runs from the first send,
//! failed attempts included.

use datacenter::{Client, DcNode, DirOp, Finished, Site, SiteConfig};
use sim_core::net::{Access, AccessOnly, LinkSpec};
use sim_core::prelude::*;
use std::collections::BTreeMap;

const ATTEMPT: Duration = Duration::from_millis(300);
const CLIENTS: u32 = 20;

/// A site (node 0) and `CLIENTS` clients behind a core link that drops
/// each datagram with probability `loss`; Poisson gets of absent keys (so
/// every reply has the same size) for 200 s. Returns each request keyed by
/// (client, start), and the `dc.retries` counter.
fn run(retries: u32, loss: f64) -> (BTreeMap<(u32, Time), Finished>, u64) {
    let access = Access {
        up: "100Mbit/s".parse().unwrap(),
        down: "100Mbit/s".parse().unwrap(),
        latency: Duration::from_millis(10),
    };
    let core = LinkSpec::new(Duration::from_millis(20), "1Gbit/s".parse().unwrap(), loss).unwrap();
    let topo = AccessOnly::uniform(CLIENTS as usize + 1, access, Some(core));
    let mut sim = Sim::new(SimConfig::new(
        9,
        SimpleNet::constant(Duration::ZERO, "100Mbit/s".parse().unwrap()),
    ));
    sim.set_topology(Box::new(topo), Duration::ZERO).unwrap();
    let site = SiteConfig {
        servers: 64,
        ..SiteConfig::default()
    };
    let s = sim.add_node(DcNode::Site(Site::new(site)));
    let ids: Vec<NodeId> = (0..CLIENTS)
        .map(|_| {
            let mut c = Client::new(s, ATTEMPT);
            c.retries = retries;
            sim.add_node(DcNode::Client(c))
        })
        .collect();
    let w = Poisson::new(Duration::from_secs(1), |_c, rng: &mut NodeRng| {
        use rand::RngExt;
        DirOp::Get {
            key: rng.random_range(0..1_000u64),
        }
    })
    .unwrap();
    sim.add_workload(&ids, w).unwrap();
    let end = Time::ZERO + Duration::from_secs(200);
    sim.run(RunLimits::until(end)).unwrap();
    // Let every request started before `end` finish; keep only those.
    sim.run(RunLimits::until(end + Duration::from_secs(10)))
        .unwrap();
    let mut out = BTreeMap::new();
    for id in ids {
        if let DcNode::Client(c) = sim.node(id) {
            for f in c.finished.iter().filter(|f| f.start < end) {
                out.insert((id.0, f.start), *f);
            }
        }
    }
    (out, sim.metrics().counter("dc.retries"))
}

fn failed(done: &BTreeMap<(u32, Time), Finished>) -> usize {
    done.values().filter(|f| !f.success).count()
}

/// Every request's recorded latency is what its attempts add up to: a
/// success after `a` attempts took `(a - 1)` attempt timeouts plus one
/// round trip (`rtt`, give or take the few microseconds that a datagram's
/// varint-encoded ids change its serialisation time), a failure
/// `retries + 1` attempt timeouts.
fn latencies_add_up(done: &BTreeMap<(u32, Time), Finished>, retries: u32, rtt: Duration) -> bool {
    let bad = done
        .values()
        .filter(|f| {
            let lat = f.end.since(f.start).0;
            let ok = if f.success {
                let expect = u64::from(f.attempts.saturating_sub(1)) * ATTEMPT.0 + rtt.0;
                f.attempts >= 1 && f.attempts <= retries + 1 && lat.abs_diff(expect) < 20_000
            } else {
                f.attempts == retries + 1 && lat == u64::from(retries + 1) * ATTEMPT.0
            };
            !ok
        })
        .count();
    println!("  {bad} of {} requests do not add up", done.len());
    bad == 0
}

#[test]
fn retries_answer_what_a_lossy_link_loses_and_their_latency_counts_the_failed_attempts() {
    // 15 % loss each way: about 28 % of round trips fail.
    let (with, retried) = run(3, 0.15);
    let (without, retried0) = run(0, 0.15);
    // Same workload on both (the clients' request streams do not depend on
    // the network).
    assert_eq!(
        with.keys().collect::<Vec<_>>(),
        without.keys().collect::<Vec<_>>()
    );
    let n = with.len();
    assert!(n > 3_000, "{n} requests");
    // One round trip, measured on a first-attempt success.
    let rtt = with
        .values()
        .find(|f| f.success && f.attempts == 1)
        .map(|f| f.end.since(f.start))
        .unwrap();
    assert!(rtt > Duration::from_millis(80) && rtt < ATTEMPT, "{rtt:?}");
    println!(
        "{n} requests; failed: {} with 3 retries, {} without; rtt {rtt:?}",
        failed(&with),
        failed(&without)
    );

    // Without retries about 28 % fail; with 3, about 0.28^4 = 0.6 %.
    assert!(failed(&without) * 100 > 20 * n && failed(&without) * 100 < 36 * n);
    assert!(failed(&with) * 100 < 2 * n);
    // Requests the control lost and the retrying client answered.
    let rescued = with
        .iter()
        .filter(|(k, f)| f.success && !without[k].success)
        .count();
    assert!(rescued * 100 > 15 * n, "{rescued} rescued");
    let multi = with.values().filter(|f| f.attempts > 1).count() as u64;
    assert!(multi > 0);
    // Every resend is counted (the counter also holds those of requests
    // started after the measured window).
    let resent = with
        .values()
        .map(|f| u64::from(f.attempts - 1))
        .sum::<u64>();
    assert!(
        retried >= resent && retried < resent + resent / 10,
        "{retried} vs {resent}"
    );

    // The latency of a retried request includes its failed attempts.
    assert!(latencies_add_up(&with, 3, rtt));
    assert!(
        with.values().any(|f| f.success
            && f.attempts == 3
            && f.end.since(f.start) > Duration(2 * ATTEMPT.0))
    );
    // Control: the control never retries, fails at its one timeout, and
    // the check rejects its records when told they had retries that were
    // not counted in their latency.
    assert_eq!(retried0, 0);
    assert!(without.values().all(|f| f.attempts == 1));
    assert!(latencies_add_up(&without, 0, rtt));
    assert!(!latencies_add_up(&without, 3, rtt));

    // On a lossless link nobody retries and nothing fails.
    let (clean, r) = run(3, 0.0);
    assert_eq!((failed(&clean), r), (0, 0));
    assert!(clean.values().all(|f| f.attempts == 1));
}
