//! Warm start: routing tables built from global knowledge, as if the
//! system had converged. Outputs of a run that uses it say so (the
//! `table` column of the `lookups` table reads `warm`).
//!
//! Bucket `i` of node `x` holds the nodes whose distance to `x` has its
//! highest bit at `i`: the ids that share `x`'s first `bits - 1 - i` bits
//! and differ in the next one. In a sorted id list they form one
//! contiguous range, found by binary search, so a table costs
//! O(log^2 N + k log N) instead of a scan of all N ids. When the range holds
//! more than k nodes, k of them are drawn uniformly (Floyd's algorithm).

use crate::key::{IdTable, Key};
use crate::table::RoutingTable;
use rand::{Rng, RngExt};
use sim_core::{NodeId, Time};

/// Ids of the members of a network, sorted.
#[derive(Debug, Clone)]
pub struct SortedIds {
    sorted: Vec<(Key, NodeId)>,
}

impl SortedIds {
    /// The ids of `members`.
    pub fn new(ids: &IdTable, members: impl IntoIterator<Item = NodeId>) -> SortedIds {
        let mut sorted: Vec<_> = members.into_iter().map(|n| (*ids.id(n), n)).collect();
        sorted.sort_unstable();
        SortedIds { sorted }
    }

    /// Every node of `ids`.
    pub fn all(ids: &IdTable) -> SortedIds {
        Self::new(ids, (0..ids.len() as u32).map(NodeId))
    }

    /// Members whose ids share the first `plen` bits of `key`: a range of
    /// the sorted list.
    fn prefix_range(&self, key: &Key, plen: u16) -> (usize, usize) {
        let lo_key = key.with_suffix(plen, false);
        let hi_key = key.with_suffix(plen, true);
        let lo = self.sorted.partition_point(|e| e.0 < lo_key);
        let hi = self.sorted.partition_point(|e| e.0 <= hi_key);
        (lo, hi)
    }

    /// Fill `table` (owned by `me`, id `me_id`) as if from full knowledge.
    pub fn fill<R: Rng + ?Sized>(
        &self,
        table: &mut RoutingTable,
        me_id: &Key,
        rng: &mut R,
        now: Time,
    ) {
        let bits = me_id.bits();
        let k = table.k();
        let mut chosen: Vec<usize> = Vec::with_capacity(k);
        let mut nodes: Vec<NodeId> = Vec::with_capacity(k);
        for i in (0..bits).rev() {
            let pos = bits - 1 - i;
            let (lo, hi) = self.prefix_range(&me_id.flip_bit(pos), pos + 1);
            let m = hi - lo;
            chosen.clear();
            if m <= k {
                chosen.extend(lo..hi);
            } else {
                for j in (m - k)..m {
                    let t = rng.random_range(0..=j);
                    let pick = if chosen.contains(&(lo + t)) {
                        lo + j
                    } else {
                        lo + t
                    };
                    chosen.push(pick);
                }
            }
            nodes.clear();
            nodes.extend(chosen.iter().map(|&c| self.sorted[c].1));
            table.fill_bucket(i, &nodes, now);
            // Stop once no other member shares the next prefix bit with us.
            let (rlo, rhi) = self.prefix_range(me_id, pos + 1);
            if rhi - rlo <= 1 {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn warm_table_equals_brute_force_counts() {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(9);
        let ids = IdTable::random(2000, 160, &mut r);
        let s = SortedIds::all(&ids);
        for me in [0u32, 17, 1999] {
            let me_id = *ids.id(NodeId(me));
            let mut t = RoutingTable::new(me_id, 20, 0, 5);
            s.fill(&mut t, &me_id, &mut r, Time::ZERO);
            let mut per = vec![0usize; 160];
            for n in 0..2000u32 {
                if let Some(b) = me_id.bucket_index(ids.id(NodeId(n))) {
                    per[b as usize] += 1;
                }
            }
            for (i, &c) in per.iter().enumerate() {
                let got = t.bucket(i as u16);
                assert_eq!(got.len(), c.min(20), "bucket {i}");
                for sl in got {
                    assert_eq!(me_id.bucket_index(ids.id(sl.node)), Some(i as u16));
                }
            }
        }
    }
}
