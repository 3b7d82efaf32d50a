//! The `closest-answered` termination rule on a static network: its first
//! result is the true closest live node, it honours its grace period, and
//! it ends sooner than the paper's rule when some of the k closest are
//! slow to answer.
//!
//! Negative control: the same check on lookups allowed only α = 3
//! requests, which stop before they reach the closest node.

mod common;

use common::{joined, random_lookups};
use kademlia::lookup::PeerState;
use kademlia::{Completed, Config, Outcome, Termination};
use sim_core::{Duration, NodeId, Time};

const N: usize = 500;
const LOOKUPS: usize = 400;
const SEED: u64 = 41;

/// Join `N` nodes with `cfg`, run `LOOKUPS` lookups.
fn measure(cfg: Config) -> Vec<Completed> {
    let bits = cfg.key_bits;
    let mut h = joined(N, cfg, SEED);
    let lookups = random_lookups(N, LOOKUPS, bits, SEED + 1);
    let done = h.lookups_batch(&lookups, Duration::from_millis(20), Duration::from_secs(30));
    assert_eq!(done.len(), LOOKUPS, "every lookup finishes");
    done
}

fn first(c: &Completed) -> Option<NodeId> {
    match &c.event.outcome {
        Outcome::Closest(v) => v.first().map(|w| w.node),
        _ => None,
    }
}

/// The share of lookups whose first result is the true closest live node.
fn closest_right(done: &[Completed]) -> f64 {
    let ok = done
        .iter()
        .filter(|c| first(c).is_some() && first(c) == c.closest_live)
        .count();
    ok as f64 / done.len() as f64
}

fn mean_ms(done: &[Completed]) -> f64 {
    done.iter()
        .map(|c| c.event.report.ended.since(c.event.report.started).0 as f64 / 1e6)
        .sum::<f64>()
        / done.len() as f64
}

fn rule(wait: Duration) -> Config {
    Config {
        termination: Termination::ClosestAnswered { n: 1, wait },
        ..Config::default()
    }
}

#[test]
fn closest_answered_finds_the_true_closest_live_node() {
    let done = measure(rule(Duration::ZERO));
    let right = closest_right(&done);
    // With this rule `exact` checks the first result.
    let exact = done.iter().filter(|c| c.exact == Some(true)).count() as f64 / done.len() as f64;
    let paper = measure(Config::default());
    println!(
        "closest-answered: first result right {:.2} %, exact {:.2} %, mean {:.1} ms; k-closest: first right {:.2} %, mean {:.1} ms",
        100.0 * right,
        100.0 * exact,
        mean_ms(&done),
        100.0 * closest_right(&paper),
        mean_ms(&paper)
    );
    assert!(right >= 0.99, "{right}");
    assert_eq!(exact, right);
    // It never waits for more than the paper's rule.
    assert!(mean_ms(&done) < mean_ms(&paper));

    // Negative control: lookups cut off after α requests.
    let control = Config {
        lookup_rpcs_max: 3,
        ..rule(Duration::ZERO)
    };
    let done = measure(control);
    let right = closest_right(&done);
    println!(
        "control (3 requests per lookup): first result right {:.2} %",
        100.0 * right
    );
    assert!(right < 0.99, "control passed: {right}");
}

#[test]
fn closest_answered_honours_its_grace_period() {
    let wait = Duration::from_millis(150);
    let done = measure(rule(wait));
    let mut woken = 0;
    for c in &done {
        let r = &c.event.report;
        let live: Vec<_> = r
            .peers
            .iter()
            .filter(|p| !matches!(p.state, PeerState::Failed(_) | PeerState::Unresponsive(_)))
            .collect();
        let PeerState::Succeeded(t0) = live[0].state else {
            panic!("ended before the closest known answered: {:?}", live[0]);
        };
        let settled = live
            .iter()
            .take_while(|p| matches!(p.state, PeerState::Succeeded(_)))
            .count();
        let pending = live
            .iter()
            .any(|p| matches!(p.state, PeerState::Waiting(_)));
        if settled < 20 && pending {
            // Ended by the rule: no earlier than the wait.
            assert!(r.ended >= t0 + wait, "{:?} < {:?} + {wait:?}", r.ended, t0);
            woken += usize::from(r.ended == t0 + wait);
        }
        assert!(r.ended >= Time::ZERO);
    }
    println!(
        "{woken} of {} lookups ended by the grace period's timer",
        done.len()
    );
    // Lookups ended at the exact end of their wait: the timer woke them.
    assert!(woken * 2 > done.len(), "{woken}");
}
