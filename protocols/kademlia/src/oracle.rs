//! Global-knowledge answers for checking lookups. Experiment side only:
//! the protocol never calls into this module.
//!
//! [`true_closest`] walks the ids in XOR order from the key instead of
//! scanning them all: in the sorted id list (see [`IdTable::sorted`]) the
//! ids that share the key's first `d` bits form one range, and every id of
//! the half of that range that agrees with the key at bit `d` is closer
//! than every id of the other half. A depth-first walk that takes the
//! agreeing half first therefore meets ids in increasing distance; it stops
//! at the `k`-th live one. With a fraction `a` of nodes up that is about
//! `log2 N` binary searches plus `k / a` ids looked at, instead of N; it
//! degrades towards a scan only when almost every node is down.
//! [`true_closest_scan`] is the plain scan, kept to check it against.

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
    // Ranges this small are sorted by distance outright.
    const LEAF_MAX: usize = 16;
    let sorted = ids.sorted();
    let mut out = Vec::with_capacity(k);
    if k == 0 {
        return out;
    }
    let bits = key.bits();
    // (lo, hi, depth): the ids in sorted[lo..hi] share their first `depth`
    // bits, so they are ordered by bit `depth` and, seen from the key, each
    // is closer than every id of the ranges below it on the stack.
    let mut stack: Vec<(usize, usize, u16)> = vec![(0, sorted.len(), 0)];
    let mut leaf: Vec<(Distance, NodeId)> = Vec::with_capacity(LEAF_MAX);
    while let Some((lo, hi, depth)) = stack.pop() {
        if lo == hi {
            continue;
        }
        if hi - lo <= LEAF_MAX || depth >= bits {
            leaf.clear();
            leaf.extend(sorted[lo..hi].iter().map(|(id, n)| (id.distance(key), *n)));
            leaf.sort_unstable();
            for &(_, n) in &leaf {
                if Some(n) != exclude && is_up(n) {
                    out.push(n);
                    if out.len() == k {
                        return out;
                    }
                }
            }
            continue;
        }
        let mid = lo + sorted[lo..hi].partition_point(|e| !e.0.bit(depth));
        let (near, far) = if key.bit(depth) {
            ((mid, hi), (lo, mid))
        } else {
            ((lo, mid), (mid, hi))
        };
        stack.push((far.0, far.1, depth + 1));
        stack.push((near.0, near.1, depth + 1));
    }
    out
}

/// [`true_closest`] by a scan of every id: O(N) per call.
pub fn true_closest_scan(
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// The walk in XOR order agrees with the scan on random networks,
        /// live sets (from all up to almost all down), keys, widths and k.
        #[test]
        fn the_indexed_oracle_agrees_with_the_scan(
            seed in 0u64..u64::MAX,
            n in 1usize..3_000,
            width in 0usize..4,
            k in 0usize..40,
            up_per_mille in 0u64..=1_000,
            exclude in proptest::option::of(0u32..3_000),
        ) {
            let bits = [32u16, 64, 160, 256][width];
            let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
            let ids = IdTable::random(n, bits, &mut r);
            // Half the keys are a node's own id (distance 0 to it).
            let key = if seed % 2 == 0 {
                Key::random(bits, &mut r)
            } else {
                *ids.id(NodeId((seed % n as u64) as u32))
            };
            let salt = seed.rotate_left(17);
            let up = |x: NodeId| {
                (u64::from(x.0) ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) % 1_000 < up_per_mille
            };
            let exclude = exclude.map(NodeId);
            let fast = true_closest(&ids, &key, k, exclude, up);
            let scan = true_closest_scan(&ids, &key, k, exclude, up);
            proptest::prop_assert_eq!(fast, scan);
        }
    }

    #[test]
    fn true_closest_matches_a_full_sort() {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(4);
        let ids = IdTable::random(300, 160, &mut r);
        let key = Key::random(160, &mut r);
        let up = |n: NodeId| !n.0.is_multiple_of(3);
        let got = true_closest(&ids, &key, 7, Some(NodeId(1)), up);
        assert_eq!(got, true_closest_scan(&ids, &key, 7, Some(NodeId(1)), up));
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
