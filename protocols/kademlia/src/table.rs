//! The routing table: sparse k-buckets in least-recently-seen order, with
//! a replacement cache and ping-before-evict.
//!
//! Only non-empty buckets are stored, sorted by index. A contact is a
//! [`Slot`] of 12 bytes (the node's address, when it was last heard from
//! and a failure counter); its id lives once in the shared [`IdTable`]. At
//! 10^5 nodes and k = 20 a table holds about 265 contacts in 17 buckets of
//! 272 bytes each, contacts included (up to k = 20 of them held in the
//! bucket itself).
//!
//! Ping-before-evict pings the least recently seen contact only when it
//! has not been heard from for `ping_after` (a contact heard from recently
//! is known to be alive; BEP 5 calls such nodes "good" for 15 minutes).
//!
//! The table never sends anything: when a full bucket meets a new contact
//! it answers [`Observed::PingOldest`], and the protocol pings that contact
//! and reports back with [`RoutingTable::ping_answered`] or
//! [`RoutingTable::rpc_failed`].

use crate::key::{Distance, IdTable, Key};
use sim_core::{NodeId, Time};
use smallvec::SmallVec;
use thin_vec::ThinVec;

/// A routing-table entry: 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// The contact's address.
    pub node: NodeId,
    /// When it was last heard from, in whole seconds of simulated time.
    pub seen_s: u32,
    /// RPCs to it that failed since it was last heard from.
    pub fails: u8,
    /// Its sub-range in its bucket under the spread rule, once read
    /// ([`SUB_UNKNOWN`] before): ids never change, so the spread check of a
    /// full bucket, made for nearly every message a node of a large network
    /// receives, reads each contact's id once instead of every time (those
    /// reads, a cache miss each, were a quarter of a 10^6-node run). It sits
    /// in what was padding: a slot is still 12 bytes.
    sub: u16,
}

/// [`Slot::sub`] not read yet.
const SUB_UNKNOWN: u16 = u16::MAX;

impl Slot {
    fn new(node: NodeId, seen_s: u32) -> Slot {
        Slot {
            node,
            seen_s,
            fails: 0,
            sub: SUB_UNKNOWN,
        }
    }
}

const _: () = assert!(std::mem::size_of::<Slot>() == 12);

/// The contact of full bucket `b` that newcomer `id` replaces to keep the
/// bucket spread, if any: when no contact shares the newcomer's slot, the
/// least recently seen contact of a slot held by two or more (not one
/// being pinged).
fn spread_victim(me: &Key, b: &mut Bucket, id: &Key, ids: &IdTable, bits: u8) -> Option<usize> {
    let n = u32::from(bits).min(u32::from(b.index));
    if n == 0 {
        return None;
    }
    let slot_of = |k: &Key| me.distance(k).bits_after(n) as usize;
    let mine = slot_of(id);
    let mut count = [0u8; 256];
    let mut slots = [0u8; 256];
    for (i, s) in b.contacts.iter_mut().enumerate() {
        let sl = if s.sub != SUB_UNKNOWN {
            usize::from(s.sub)
        } else {
            match ids.get(s.node) {
                Some(k) => {
                    let sl = slot_of(k);
                    s.sub = sl as u16;
                    sl
                }
                None => mine,
            }
        };
        if sl == mine {
            return None;
        }
        slots[i.min(255)] = sl as u8;
        count[sl] = count[sl].saturating_add(1);
    }
    b.contacts
        .iter()
        .enumerate()
        .position(|(i, s)| count[slots[i.min(255)] as usize] >= 2 && b.pinging() != Some(s.node))
}

/// Sort `v` by (distance, address), exactly as `v.sort_unstable()` would
/// (the order is total): through 8-byte keys (the distance's first 58
/// bits, then the position) instead of moving the 40-byte entries, then
/// one copy into place. When two distances share those 58 bits (equal
/// 32-bit ids, or 160-bit ids sharing their first 58 bits after the XOR)
/// the full sort decides. The answer to every `FindNode` is sorted here:
/// the sort of the entries themselves was an eighth of a joining
/// network's instructions.
fn sort_closest(v: &mut Vec<(Distance, NodeId)>) {
    const MAX: usize = 32;
    let n = v.len();
    if n <= 1 {
        return;
    }
    if n > MAX {
        v.sort_unstable();
        return;
    }
    let mut keys = [0u64; MAX];
    for (key, (d, _)) in keys.iter_mut().zip(v.iter()) {
        *key = d.0[0] & !63;
    }
    for (i, key) in keys[..n].iter_mut().enumerate() {
        *key |= i as u64;
    }
    let keys = &mut keys[..n];
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] >> 6 == w[1] >> 6) {
        v.sort_unstable();
        return;
    }
    for &k in keys.iter() {
        let e = v[(k & 63) as usize];
        v.push(e);
    }
    v.drain(..n);
}

/// Keep in `v[start..]` only its `need` entries closest by (distance,
/// address), in any order (the caller sorts them): the set
/// `v[start..].select_nth_unstable(need)` keeps, found through the same
/// 8-byte keys as [`sort_closest`] (with the same fallback when two
/// distances share their first 58 bits).
fn select_closest(v: &mut Vec<(Distance, NodeId)>, start: usize, need: usize) {
    const MAX: usize = 64;
    let n = v.len() - start;
    if n <= need {
        return;
    }
    if n > MAX {
        v[start..].select_nth_unstable(need);
        v.truncate(start + need);
        return;
    }
    let mut keys = [0u64; MAX];
    for (key, (d, _)) in keys.iter_mut().zip(v[start..].iter()) {
        *key = d.0[0] & !63;
    }
    for (i, key) in keys[..n].iter_mut().enumerate() {
        *key |= i as u64;
    }
    let keys = &mut keys[..n];
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] >> 6 == w[1] >> 6) {
        v[start..].select_nth_unstable(need);
        v.truncate(start + need);
        return;
    }
    for &k in keys[..need].iter() {
        let e = v[start + (k & 63) as usize];
        v.push(e);
    }
    v.drain(start..start + n);
}

fn secs(t: Time) -> u32 {
    (t.0 / 1_000_000_000).min(u32::MAX as u64) as u32
}

#[derive(Debug, Clone)]
struct Bucket {
    index: u16,
    /// Least recently seen first. Held in the bucket itself up to
    /// [`INLINE_CONTACTS`] (k = 20 by default): answering a lookup reads a
    /// run of consecutive buckets, each then one stretch of memory instead
    /// of a header here and its contacts elsewhere.
    contacts: SmallVec<[Slot; INLINE_CONTACTS]>,
    /// The contact being pinged before a possible eviction, or
    /// [`NOT_PINGING`] (an `Option<NodeId>` would take 8 bytes, this 4).
    pinging: u32,
    /// Most recently seen last. A thin vector (one pointer, nothing
    /// allocated while empty, as it is in most buckets).
    replacements: ThinVec<NodeId>,
    /// Last time a lookup targeted this bucket's range.
    refreshed: Time,
}

/// Contacts a bucket holds without an allocation of their own.
const INLINE_CONTACTS: usize = 20;

// The saving the packed fields are for: 20 contacts of 12 bytes, their
// count, and 24 bytes of the rest.
const _: () = assert!(std::mem::size_of::<Bucket>() == 272);

/// Heap bytes of a thin vector: its elements and, once allocated, the
/// length and capacity stored in front of them.
fn thin_heap_bytes<T>(v: &ThinVec<T>) -> usize {
    match v.capacity() {
        0 => 0,
        c => c * std::mem::size_of::<T>() + 2 * std::mem::size_of::<usize>(),
    }
}

/// [`Bucket::pinging`] when no contact is being pinged (no node has this
/// address: addresses are below the number of nodes).
const NOT_PINGING: u32 = u32::MAX;

impl Bucket {
    fn pinging(&self) -> Option<NodeId> {
        (self.pinging != NOT_PINGING).then_some(NodeId(self.pinging))
    }
    fn set_pinging(&mut self, p: Option<NodeId>) {
        self.pinging = p.map_or(NOT_PINGING, |n| n.0);
    }
}

/// What [`RoutingTable::observe`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// The node is us.
    Myself,
    /// Already present: moved to the most-recently-seen end.
    Refreshed,
    /// Added to a bucket with room.
    Inserted,
    /// The bucket is full: the node went to the replacement cache, and the
    /// least recently seen contact should be pinged.
    PingOldest(NodeId),
    /// The bucket is full and its oldest contact is already being pinged:
    /// the node went to the replacement cache.
    Cached,
}

/// Occupancy figures of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Occupancy {
    /// Buckets holding at least one contact.
    pub non_empty: usize,
    /// Buckets holding k contacts.
    pub full: usize,
    /// Contacts.
    pub contacts: usize,
    /// Replacement-cache entries.
    pub replacements: usize,
}

/// A node's routing table.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    me: Key,
    ping_after_s: u32,
    /// Bits of a bucket's sub-range ("slot") kept diverse (0: off).
    spread_bits: u8,
    k: u8,
    replacements_max: u8,
    stale_failures_max: u8,
    /// Bit `i` set when bucket `i` is stored: a bucket's position in
    /// `buckets` is the number of set bits below its index. The bitmap
    /// lives in the table itself, next to the other fields read on every
    /// message; a bisection of `buckets` (72-byte entries) read three to
    /// five cache lines of it, one after the other, first thing per
    /// answer.
    present: [u64; 4],
    buckets: Vec<Bucket>,
}

impl RoutingTable {
    /// An empty table for a node with id `me`.
    pub fn new(me: Key, k: usize, replacements_max: usize, stale_failures_max: u8) -> Self {
        RoutingTable {
            me,
            ping_after_s: 0,
            spread_bits: 0,
            k: k.clamp(1, 255) as u8,
            replacements_max: replacements_max.min(255) as u8,
            stale_failures_max: stale_failures_max.max(1),
            present: [0; 4],
            buckets: Vec::new(),
        }
    }

    /// Ping the oldest contact of a full bucket only if it has not been
    /// heard from for `d` (0 by default: always, as in the paper).
    pub fn set_ping_after(&mut self, d: sim_core::Duration) {
        self.ping_after_s = (d.0 / 1_000_000_000).min(u32::MAX as u64) as u32;
    }

    /// Keep the contacts of a full bucket spread over its `2^bits` equal
    /// sub-ranges (0, the default, turns it off: the paper's rule).
    ///
    /// The paper keeps the first k live nodes heard from. A joining node
    /// first hears from the responders of its own refresh lookup of the
    /// bucket, which cluster around the lookup's random target, and
    /// least-recently-seen eviction never replaces a live contact, so
    /// without churn the bucket stays clustered and covers a random key
    /// worse than k nodes spread over its range. With `bits > 0` (as in
    /// libtorrent's routing table, which keeps "a good spread of node IDs
    /// in each bucket"), a live newcomer whose sub-range has no contact in
    /// the full bucket takes the place of the least recently seen contact
    /// of a sub-range that holds two or more. Each such replacement fills
    /// an empty sub-range and empties none, so a bucket makes at most
    /// `2^bits` of them until contacts fail: a flood of newcomers cannot
    /// flush it, and otherwise old contacts keep their place.
    pub fn set_spread_bits(&mut self, bits: u8) {
        self.spread_bits = bits.min(8);
        for s in self.buckets.iter_mut().flat_map(|b| b.contacts.iter_mut()) {
            s.sub = SUB_UNKNOWN;
        }
    }

    /// See [`RoutingTable::set_spread_bits`].
    pub fn spread_bits(&self) -> u8 {
        self.spread_bits
    }

    /// Bucket size.
    pub fn k(&self) -> usize {
        self.k as usize
    }

    /// The owner's id.
    pub fn me(&self) -> &Key {
        &self.me
    }

    /// Position of bucket `index`, created empty (refreshed `now`) if the
    /// table has none yet.
    fn bucket_or_insert(&mut self, index: u16, now: Time) -> usize {
        match self.find(index) {
            Ok(p) => p,
            Err(p) => {
                self.present[usize::from(index / 64)] |= 1 << (index % 64);
                // One bucket more at a time: a table gains buckets a few
                // times in its life, and doubling left up to half of them
                // unused in every node.
                if self.buckets.len() == self.buckets.capacity() {
                    self.buckets.reserve_exact(1);
                }
                self.buckets.insert(
                    p,
                    Bucket {
                        index,
                        contacts: SmallVec::new(),
                        replacements: ThinVec::new(),
                        pinging: NOT_PINGING,
                        refreshed: now,
                    },
                );
                p
            }
        }
    }

    /// Position of bucket `index` in `buckets` (`Err`: where it would go).
    #[inline]
    fn find(&self, index: u16) -> Result<usize, usize> {
        let p = self.below(index);
        let (w, bit) = (usize::from(index / 64), index % 64);
        let r = if w < 4 && self.present[w] >> bit & 1 == 1 {
            Ok(p)
        } else {
            Err(p)
        };
        debug_assert_eq!(r, self.buckets.binary_search_by_key(&index, |b| b.index));
        r
    }

    /// Number of stored buckets of index below `index`.
    #[inline]
    fn below(&self, index: u16) -> usize {
        let w = usize::from(index / 64).min(4);
        let whole: u32 = self.present[..w].iter().map(|x| x.count_ones()).sum();
        let part = match self.present.get(w) {
            Some(x) => (x & ((1u64 << (index % 64)) - 1)).count_ones(),
            None => 0,
        };
        (whole + part) as usize
    }

    /// A node was heard from (it sent a request or answered one).
    pub fn observe(&mut self, node: NodeId, id: &Key, now: Time) -> Observed {
        self.observe_with(node, id, now, None)
    }

    /// [`RoutingTable::observe`], with the ids of the contacts so that a
    /// full bucket can keep its contacts spread (see
    /// [`RoutingTable::set_spread_bits`]; without `ids` it does not).
    pub fn observe_with(
        &mut self,
        node: NodeId,
        id: &Key,
        now: Time,
        ids: Option<&IdTable>,
    ) -> Observed {
        let Some(index) = self.me.bucket_index(id) else {
            return Observed::Myself;
        };
        let k = self.k as usize;
        let pos = self.bucket_or_insert(index, now);
        let b = &mut self.buckets[pos];
        let seen_s = secs(now);
        if let Some(i) = b.contacts.iter().position(|s| s.node == node) {
            b.contacts[i..].rotate_left(1);
            let last = b.contacts.len() - 1;
            b.contacts[last] = Slot {
                seen_s,
                fails: 0,
                ..b.contacts[last]
            };
            return Observed::Refreshed;
        }
        if b.contacts.len() < k {
            push_capped(&mut b.contacts, Slot::new(node, seen_s), k);
            b.replacements.retain(|&r| r != node);
            return Observed::Inserted;
        }
        if self.spread_bits > 0
            && let Some(ids) = ids
            && let Some(v) = spread_victim(&self.me, b, id, ids, self.spread_bits)
        {
            b.contacts.remove(v);
            b.contacts.push(Slot::new(node, seen_s));
            b.replacements.retain(|&r| r != node);
            return Observed::Inserted;
        }
        b.replacements.retain(|&r| r != node);
        if b.replacements.len() >= self.replacements_max as usize && !b.replacements.is_empty() {
            b.replacements.remove(0);
        }
        if self.replacements_max > 0 {
            push_capped_thin(&mut b.replacements, node, self.replacements_max as usize);
        }
        let oldest = b.contacts[0];
        let fresh = seen_s.saturating_sub(oldest.seen_s) < self.ping_after_s;
        match b.pinging() {
            Some(_) => Observed::Cached,
            None if fresh => Observed::Cached,
            None => {
                b.set_pinging(Some(oldest.node));
                Observed::PingOldest(oldest.node)
            }
        }
    }

    /// A ping sent for [`Observed::PingOldest`] was answered: the contact
    /// stays (as most recently seen); the newcomer stays in the cache.
    pub fn ping_answered(&mut self, node: NodeId, id: &Key, now: Time) {
        if let Some(index) = self.me.bucket_index(id)
            && let Ok(p) = self.find(index)
            && self.buckets[p].pinging() == Some(node)
        {
            self.buckets[p].set_pinging(None);
        }
        self.observe(node, id, now);
    }

    /// An RPC to `node` failed (timed out). A contact that was being pinged
    /// for eviction, or that has a replacement waiting, or that failed
    /// `stale_failures_max` times, is removed and the most recently seen
    /// replacement takes its place. Returns whether it was removed.
    pub fn rpc_failed(&mut self, node: NodeId, id: &Key) -> bool {
        let Some(index) = self.me.bucket_index(id) else {
            return false;
        };
        let Ok(p) = self.find(index) else {
            return false;
        };
        let k = self.k as usize;
        let max = self.stale_failures_max;
        let b = &mut self.buckets[p];
        let was_pinged = b.pinging() == Some(node);
        if was_pinged {
            b.set_pinging(None);
        }
        let Some(i) = b.contacts.iter().position(|s| s.node == node) else {
            return false;
        };
        b.contacts[i].fails = b.contacts[i].fails.saturating_add(1);
        let evict = was_pinged || !b.replacements.is_empty() || b.contacts[i].fails >= max;
        if !evict {
            return false;
        }
        b.contacts.remove(i);
        if let Some(r) = b.replacements.pop() {
            // When it was cached is not kept: count it as unverified, so
            // that it is pinged first if the bucket must make room.
            push_capped(&mut b.contacts, Slot::new(r, 0), k);
        }
        if b.contacts.is_empty() && b.replacements.is_empty() {
            self.buckets.remove(p);
            self.present[usize::from(index / 64)] &= !(1 << (index % 64));
        }
        true
    }

    /// Whether `node` is in the table.
    pub fn contains(&self, node: NodeId, id: &Key) -> bool {
        self.me
            .bucket_index(id)
            .and_then(|i| self.find(i).ok())
            .is_some_and(|p| self.buckets[p].contacts.iter().any(|s| s.node == node))
    }

    /// The `count` contacts closest to `target`, closest first, into `out`
    /// (cleared first). `skip` is left out (the requester, usually).
    ///
    /// Buckets are visited in distance order: if `target` falls in bucket
    /// `b`, every contact of bucket `b` is closer to it than any contact of
    /// a lower bucket (those are at distance in `[2^b, 2^(b+1))`), which are
    /// closer than any contact of bucket `b + 1`, and so on upwards. So only
    /// the buckets needed are read, and only the last group is partially
    /// selected.
    pub fn closest(
        &self,
        target: &Key,
        count: usize,
        ids: &IdTable,
        skip: Option<NodeId>,
        out: &mut Vec<(Distance, NodeId)>,
    ) {
        out.clear();
        if count == 0 {
            return;
        }
        let b = self.me.bucket_index(target);
        let split = match b {
            Some(b) => self.below(b),
            None => 0,
        };
        let exact = b.and_then(|b| self.find(b).ok());
        let push_bucket = |out: &mut Vec<(Distance, NodeId)>, bk: &Bucket| {
            for s in &bk.contacts {
                if Some(s.node) != skip
                    && let Some(id) = ids.get(s.node)
                {
                    out.push((id.distance(target), s.node));
                }
            }
        };
        // Groups in increasing distance: [b], [0..b), then b+1, b+2, ...
        let mut start = 0;
        let mut group = |out: &mut Vec<(Distance, NodeId)>, bks: &[Bucket]| -> bool {
            for bk in bks {
                push_bucket(out, bk);
            }
            if out.len() >= count {
                select_closest(out, start, count - start);
                return true;
            }
            start = out.len();
            false
        };
        let done = match exact {
            Some(p) => group(out, &self.buckets[p..p + 1]),
            None => false,
        };
        let done = done || group(out, &self.buckets[..split]);
        if !done {
            let from = exact.map_or(split, |p| p + 1);
            for p in from..self.buckets.len() {
                if group(out, &self.buckets[p..p + 1]) {
                    break;
                }
            }
        }
        sort_closest(out);
    }

    /// Mark the bucket that `target` falls in as refreshed at `now`.
    pub fn touch(&mut self, target: &Key, now: Time) {
        if let Some(i) = self.me.bucket_index(target)
            && let Ok(p) = self.find(i)
        {
            self.buckets[p].refreshed = now;
        }
    }

    /// Bucket indices due for a refresh: every index from the lowest
    /// non-empty bucket up to the top whose bucket is empty or was not
    /// refreshed since `before`, farthest first, at most `max`.
    pub fn due_for_refresh(&self, before: Time, max: usize, out: &mut Vec<u16>) {
        out.clear();
        let Some(lowest) = self.buckets.first().map(|b| b.index) else {
            return;
        };
        let bits = self.me.bits();
        for i in (lowest..bits).rev() {
            if out.len() >= max {
                break;
            }
            let due = match self.find(i) {
                Ok(p) => self.buckets[p].refreshed <= before,
                Err(_) => true,
            };
            if due {
                out.push(i);
            }
        }
    }

    /// Index of the lowest non-empty bucket (the closest neighbours).
    pub fn lowest_bucket(&self) -> Option<u16> {
        self.buckets.first().map(|b| b.index)
    }

    /// Every contact, bucket by bucket (lowest index first), least recently
    /// seen first within a bucket.
    pub fn contacts(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.buckets
            .iter()
            .flat_map(|b| b.contacts.iter().map(|s| s.node))
    }

    /// Contacts of bucket `index`, least recently seen first.
    pub fn bucket(&self, index: u16) -> &[Slot] {
        match self.find(index) {
            Ok(p) => &self.buckets[p].contacts,
            Err(_) => &[],
        }
    }

    /// Replacement cache of bucket `index`, most recent last.
    pub fn replacements(&self, index: u16) -> &[NodeId] {
        match self.find(index) {
            Ok(p) => &self.buckets[p].replacements,
            Err(_) => &[],
        }
    }

    /// Number of contacts.
    pub fn len(&self) -> usize {
        self.buckets.iter().map(|b| b.contacts.len()).sum()
    }

    /// Whether the table has no contact.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Occupancy figures.
    pub fn occupancy(&self) -> Occupancy {
        let mut o = Occupancy::default();
        for b in &self.buckets {
            if !b.contacts.is_empty() {
                o.non_empty += 1;
            }
            if b.contacts.len() >= self.k as usize {
                o.full += 1;
            }
            o.contacts += b.contacts.len();
            o.replacements += b.replacements.len();
        }
        o
    }

    /// Heap bytes held by the table (capacities, not lengths).
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Bucket>()
            + self
                .buckets
                .iter()
                .map(|b| {
                    usize::from(b.contacts.spilled())
                        * b.contacts.capacity()
                        * std::mem::size_of::<Slot>()
                        + thin_heap_bytes(&b.replacements)
                })
                .sum::<usize>()
    }

    /// Insert contacts for bucket `index` directly (warm start). Contacts
    /// beyond the bucket's room are ignored.
    pub fn fill_bucket(&mut self, index: u16, nodes: &[NodeId], now: Time) {
        if nodes.is_empty() {
            return;
        }
        let k = self.k as usize;
        let p = self.bucket_or_insert(index, now);
        let b = &mut self.buckets[p];
        let room = k.saturating_sub(b.contacts.len());
        b.contacts.reserve_exact(room.min(nodes.len()));
        for &n in nodes.iter().take(room) {
            if !b.contacts.iter().any(|s| s.node == n) {
                b.contacts.push(Slot::new(n, secs(now)));
            }
        }
    }

    /// Forget pings in flight (the node restarted).
    pub fn clear_pings(&mut self) {
        for b in &mut self.buckets {
            b.set_pinging(None);
        }
    }

    /// Release spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.buckets.shrink_to_fit();
        for b in &mut self.buckets {
            b.contacts.shrink_to_fit();
            b.replacements.shrink_to_fit();
        }
    }
}

/// Push, growing the capacity by doubling but never beyond `cap`.
fn push_capped<A: smallvec::Array>(v: &mut SmallVec<A>, x: A::Item, cap: usize) {
    if let Some(more) = capped_growth(v.len(), v.capacity(), cap) {
        v.reserve_exact(more);
    }
    v.push(x);
}

/// [`push_capped`] for a thin vector.
fn push_capped_thin<T>(v: &mut ThinVec<T>, x: T, cap: usize) {
    if let Some(more) = capped_growth(v.len(), v.capacity(), cap) {
        v.reserve_exact(more);
    }
    v.push(x);
}

/// How much to reserve before a push into a full vector: double, but never
/// beyond `cap`.
fn capped_growth(len: usize, capacity: usize, cap: usize) -> Option<usize> {
    (len == capacity).then(|| {
        let want = (capacity * 2).max(2).min(cap.max(1));
        want.saturating_sub(len).max(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn ids(n: usize, seed: u64) -> IdTable {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        IdTable::random(n, 160, &mut r)
    }

    /// `sort_closest` orders as `sort_unstable` does, with and without
    /// distances that share their first word (the fallback) and with equal
    /// distances (the address decides), at every length up to past its
    /// key buffer.
    #[test]
    fn sort_closest_matches_the_full_sort() {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        for len in 0..80usize {
            for ties in [0u64, 4, 1 << 20] {
                let mut v: Vec<(Distance, NodeId)> = (0..len)
                    .map(|_| {
                        let w0 = if ties > 0 {
                            r.next_u64() % ties
                        } else {
                            r.next_u64()
                        };
                        let rest = if ties == 4 {
                            r.next_u64() % 3
                        } else {
                            r.next_u64()
                        };
                        (
                            Distance([w0, rest, 0, r.next_u64() % 2]),
                            NodeId((r.next_u64() % 50) as u32),
                        )
                    })
                    .collect();
                let mut want = v.clone();
                want.sort_unstable();
                sort_closest(&mut v);
                assert_eq!(v, want, "len {len} ties {ties}");
            }
        }
    }

    /// `select_closest` keeps the same entries as `select_nth_unstable`
    /// followed by a truncation, with and without shared first words, for
    /// every split of lengths up to past its key buffer.
    #[test]
    fn select_closest_keeps_what_select_nth_keeps() {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(12);
        for len in 1..80usize {
            for ties in [0u64, 4, 1 << 20] {
                let v: Vec<(Distance, NodeId)> = (0..len)
                    .map(|i| {
                        let w0 = if ties > 0 {
                            r.next_u64() % ties
                        } else {
                            r.next_u64()
                        };
                        (Distance([w0, r.next_u64() % 3, 0, 0]), NodeId(i as u32))
                    })
                    .collect();
                for start in [0, len / 3] {
                    for need in [1, 5, 20, len] {
                        if start + need > len {
                            continue;
                        }
                        let mut want = v.clone();
                        if want.len() - start > need {
                            want[start..].select_nth_unstable(need);
                        }
                        want.truncate(start + need);
                        let mut got = v.clone();
                        select_closest(&mut got, start, need);
                        assert_eq!(got[..start], want[..start]);
                        let (mut a, mut b) = (got[start..].to_vec(), want[start..].to_vec());
                        a.sort_unstable();
                        b.sort_unstable();
                        assert_eq!(a, b, "len {len} ties {ties} start {start} need {need}");
                    }
                }
            }
        }
    }

    /// Nodes of `ids` (other than 0) that fall in bucket `idx` of node 0.
    fn in_bucket(ids: &IdTable, idx: u16) -> Vec<NodeId> {
        (1..ids.len() as u32)
            .map(NodeId)
            .filter(|&n| ids.id(NodeId(0)).bucket_index(ids.id(n)) == Some(idx))
            .collect()
    }

    /// Spread buckets (k = 4, 2 slot bits): a bucket filled from one slot
    /// takes newcomers from the empty slots, each replacing the least
    /// recently seen contact of a crowded slot, until every slot is held;
    /// then newcomers are cached as in the paper. Without spread bits the
    /// same arrivals leave the bucket as it was (control).
    #[test]
    fn spread_bucket_fills_empty_slots_and_only_those() {
        let t = ids(4000, 7);
        let me = *t.id(NodeId(0));
        let top = in_bucket(&t, 159);
        let slot = |n: NodeId| me.distance(t.id(n)).bits_after(2);
        let same: Vec<NodeId> = top.iter().copied().filter(|&n| slot(n) == 0).collect();
        let mut others: Vec<NodeId> = Vec::new();
        for s in 1..4 {
            others.extend(top.iter().copied().filter(|&n| slot(n) == s).take(2));
        }
        assert!(same.len() >= 5 && others.len() == 6);
        let run = |bits: u8| {
            let mut rt = RoutingTable::new(me, 4, 2, 5);
            rt.set_spread_bits(bits);
            // No pings: every contact is fresh.
            rt.set_ping_after(sim_core::Duration::from_secs(3600));
            let mut now = 0;
            let mut obs = |rt: &mut RoutingTable, n: NodeId| {
                now += 1;
                rt.observe_with(
                    n,
                    t.id(n),
                    Time::ZERO + sim_core::Duration::from_secs(now),
                    Some(&t),
                )
            };
            for &n in &same[..4] {
                assert_eq!(obs(&mut rt, n), Observed::Inserted);
            }
            // Same slot as the contacts: the paper's path.
            assert_ne!(obs(&mut rt, same[4]), Observed::Inserted);
            let mut got = Vec::new();
            for &n in &others {
                got.push(obs(&mut rt, n));
            }
            let b: Vec<NodeId> = rt.bucket(159).iter().map(|s| s.node).collect();
            (got, b)
        };
        let (got, b) = run(2);
        // One newcomer per empty slot gets in (the first of each pair);
        // the second of a pair finds its slot held.
        for (i, o) in got.iter().enumerate() {
            assert_eq!(*o == Observed::Inserted, i % 2 == 0, "arrival {i}: {o:?}");
        }
        let mut slots: Vec<u32> = b.iter().map(|&n| slot(n)).collect();
        slots.sort_unstable();
        assert_eq!(slots, vec![0, 1, 2, 3]);
        // The slot-0 contact left is the most recently seen of the four.
        assert!(b.contains(&same[3]));
        let (got, b) = run(0);
        assert!(got.iter().all(|o| *o != Observed::Inserted));
        assert_eq!(b, same[..4].to_vec());
    }

    #[test]
    fn full_bucket_caches_newcomers_and_pings_the_oldest_once() {
        let t = ids(4000, 7);
        let me = *t.id(NodeId(0));
        let mut rt = RoutingTable::new(me, 4, 2, 5);
        let top = in_bucket(&t, 159);
        assert!(top.len() > 8);
        for (i, &n) in top.iter().take(4).enumerate() {
            assert_eq!(rt.observe(n, t.id(n), Time(i as u64)), Observed::Inserted);
        }
        let fifth = top[4];
        assert_eq!(
            rt.observe(fifth, t.id(fifth), Time(10)),
            Observed::PingOldest(top[0])
        );
        assert_eq!(rt.observe(top[5], t.id(top[5]), Time(11)), Observed::Cached);
        assert_eq!(rt.replacements(159), &[fifth, top[5]]);
        // Cache is bounded at 2: the oldest cached entry goes.
        rt.observe(top[6], t.id(top[6]), Time(12));
        assert_eq!(rt.replacements(159), &[top[5], top[6]]);
        // The oldest answers: it moves to the tail and stays.
        rt.ping_answered(top[0], t.id(top[0]), Time(13));
        let b: Vec<_> = rt.bucket(159).iter().map(|s| s.node).collect();
        assert_eq!(b, vec![top[1], top[2], top[3], top[0]]);
        // Next newcomer pings the new oldest, which times out: evicted,
        // the most recent replacement takes its place.
        assert_eq!(
            rt.observe(top[7], t.id(top[7]), Time(14)),
            Observed::PingOldest(top[1])
        );
        assert!(rt.rpc_failed(top[1], t.id(top[1])));
        let b: Vec<_> = rt.bucket(159).iter().map(|s| s.node).collect();
        assert_eq!(b, vec![top[2], top[3], top[0], top[7]]);
        assert_eq!(rt.len(), 4);
    }

    #[test]
    fn a_recently_seen_oldest_contact_is_not_pinged() {
        let t = ids(4000, 7);
        let me = *t.id(NodeId(0));
        let mut rt = RoutingTable::new(me, 2, 2, 5);
        rt.set_ping_after(sim_core::Duration::from_secs(900));
        let top = in_bucket(&t, 159);
        let s = |x: u64| Time(x * 1_000_000_000);
        rt.observe(top[0], t.id(top[0]), s(0));
        rt.observe(top[1], t.id(top[1]), s(10));
        // The oldest was heard from 100 s ago: no ping, newcomer cached.
        assert_eq!(rt.observe(top[2], t.id(top[2]), s(100)), Observed::Cached);
        // 900 s after it was last heard from: ping it.
        assert_eq!(
            rt.observe(top[3], t.id(top[3]), s(900)),
            Observed::PingOldest(top[0])
        );
    }

    #[test]
    fn stale_contact_without_replacement_survives_until_the_limit() {
        let t = ids(100, 3);
        let me = *t.id(NodeId(0));
        let mut rt = RoutingTable::new(me, 20, 4, 3);
        let n = NodeId(5);
        rt.observe(n, t.id(n), Time(0));
        assert!(!rt.rpc_failed(n, t.id(n)));
        assert!(!rt.rpc_failed(n, t.id(n)));
        assert!(rt.contains(n, t.id(n)));
        assert!(rt.rpc_failed(n, t.id(n)));
        assert!(!rt.contains(n, t.id(n)));
        assert!(rt.is_empty());
    }

    #[test]
    fn closest_agrees_with_a_sort_of_everything() {
        let t = ids(500, 11);
        let me = *t.id(NodeId(0));
        let mut rt = RoutingTable::new(me, 20, 0, 5);
        for n in 1..500u32 {
            rt.observe(NodeId(n), t.id(NodeId(n)), Time(0));
        }
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(12);
        let inside = rt.contacts().nth(40).unwrap();
        let mut targets = vec![*t.id(inside), me];
        // Keys in every bucket range, including empty ones.
        for i in 0..160u16 {
            targets.push(me.random_in_bucket(i, &mut r));
        }
        let mut out = Vec::new();
        for (j, target) in targets.iter().enumerate() {
            for count in [1usize, 3, 20, 50, 1000] {
                let skip = (j % 2 == 0).then_some(inside);
                rt.closest(target, count, &t, skip, &mut out);
                let mut all: Vec<_> = rt
                    .contacts()
                    .filter(|&n| Some(n) != skip)
                    .map(|n| (t.id(n).distance(target), n))
                    .collect();
                all.sort();
                all.truncate(count);
                assert_eq!(out, all, "target {j}, count {count}");
            }
        }
    }
}
