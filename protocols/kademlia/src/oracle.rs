//! Global-knowledge answers for checking lookups. Experiment side only:
//! the protocol never calls into this module.

use crate::key::{Distance, IdTable, Key};
use crate::lookup::{LookupPeer, PeerState};
use sim_core::{NodeId, Time};
use std::collections::BinaryHeap;

/// The `k` live nodes closest to `key`, closest first, leaving out
/// `exclude` (the lookup's origin, which a lookup never returns).
pub fn true_closest(
    ids: &IdTable,
    key: &Key,
    k: usize,
    exclude: Option<NodeId>,
    is_up: impl Fn(NodeId) -> bool,
) -> Vec<NodeId> {
    let mut heap: BinaryHeap<(Distance, NodeId)> = BinaryHeap::with_capacity(k + 1);
    for (i, id) in ids.ids().iter().enumerate() {
        let n = NodeId(i as u32);
        if Some(n) == exclude {
            continue;
        }
        let d = id.distance(key);
        if heap.len() == k && heap.peek().is_some_and(|top| top.0 <= d) {
            continue;
        }
        if !is_up(n) {
            continue;
        }
        heap.push((d, n));
        if heap.len() > k {
            heap.pop();
        }
    }
    heap.into_sorted_vec().into_iter().map(|(_, n)| n).collect()
}

/// When a lookup had determined `closest` (the true closest live node): it
/// had answered, and every peer the lookup knew closer to the key had
/// answered or failed. None if that never happened.
pub fn determined_at(peers: &[LookupPeer], closest: NodeId) -> Option<Time> {
    let mut latest = Time::ZERO;
    for p in peers {
        if p.node == closest {
            return match p.state {
                PeerState::Succeeded(t) => Some(latest.max(t)),
                _ => None,
            };
        }
        latest = latest.max(p.state.resolved_at()?);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn true_closest_matches_a_full_sort() {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(4);
        let ids = IdTable::random(300, 160, &mut r);
        let key = Key::random(160, &mut r);
        let up = |n: NodeId| !n.0.is_multiple_of(3);
        let got = true_closest(&ids, &key, 7, Some(NodeId(1)), up);
        let mut all: Vec<_> = (0..300u32)
            .map(NodeId)
            .filter(|&n| up(n) && n != NodeId(1))
            .map(|n| (ids.id(n).distance(&key), n))
            .collect();
        all.sort();
        let want: Vec<_> = all.into_iter().take(7).map(|x| x.1).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn determined_needs_every_closer_peer_resolved() {
        let p = |n: u32, d: u64, s: PeerState| LookupPeer {
            node: NodeId(n),
            distance: Distance([d, 0, 0, 0]),
            depth: 0,
            state: s,
        };
        let peers = [
            p(1, 1, PeerState::Unresponsive(Time(900))),
            p(2, 2, PeerState::Succeeded(Time(300))),
            p(3, 3, PeerState::NotContacted),
        ];
        assert_eq!(determined_at(&peers, NodeId(2)), Some(Time(900)));
        assert_eq!(determined_at(&peers, NodeId(3)), None);
        let waiting = [p(1, 1, PeerState::Waiting(Time(0))), peers[1]];
        assert_eq!(determined_at(&waiting, NodeId(2)), None);
    }
}
