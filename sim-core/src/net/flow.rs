//! Bulk flows sharing link capacities by max-min fairness (flow-level, the
//! SimGrid model), in integer arithmetic only.
//!
//! [`FlowNet`] owns the flows in progress and the links' capacities. The
//! engine starts and fails flows, asks for the next completion
//! ([`FlowNet::next_completion`]), schedules an event at that time and calls
//! [`FlowNet::complete`] when it fires. Every call takes the current time;
//! calls must come in non-decreasing time order.
//!
//! Drive loop: any start, failure or completion can move the earliest
//! completion, earlier or later. After each such call the engine reads
//! [`FlowNet::next_completion`] and keeps one pending "network" event at
//! that time (replacing the previous one if it changed). When the event
//! fires at `t`, it calls `complete(t)` until it returns `None`, delivering
//! each finished flow, then re-arms the event. A stale event whose time no
//! longer matches simply finds nothing to complete.
//!
//! # Rates
//! Rates are whole bits per second, recomputed by progressive filling
//! whenever a flow starts or ends, but only for the flows connected to the
//! change through shared links (the connected component of the flow–link
//! graph that contains the changed flow's links). Filling repeatedly takes
//! the link with the smallest fair level `left / unfixed` (exact rational
//! comparison, ties to the lower [`LinkId`]), gives each of its unfixed
//! flows `floor(left / unfixed)` bits per second and removes those flows
//! from every other link of their paths.
//!
//! Flooring makes the allocation conservative. If every link carries at most
//! as many flows as its capacity in bit/s (1 Mbit/s takes 10^6 flows):
//! - no link is over capacity, and every rate is at least 1 bit/s: the fair
//!   level of every link starts at `capacity / flows >= 1` and never
//!   decreases while filling, because a flow is only ever given a share no
//!   larger than the level of any link it crosses;
//! - every flow crosses a *bottleneck* link on which its rate is the largest
//!   and whose unused capacity is smaller than the number of flows fixed
//!   there (`left mod unfixed`): at most `flows_on_link - 1` bit/s of slack.
//!
//! A link with more flows than bits per second cannot give every flow a
//! positive whole rate. Every flow on such a link gets exactly 1 bit/s (so
//! that it completes) and the link is oversubscribed by `flows - capacity`
//! bit/s; the other links are unaffected: still within capacity, since
//! their levels stay at least 1 bit/s. Real capacities (kbit/s and more)
//! make this a corner case.
//!
//! # Progress and time
//! A flow's remaining work is kept exactly in bit·ns units (`bits × 10^9`,
//! `u128`); `rate × elapsed_ns` is subtracted when its rate changes, and its
//! completion is `now + ceil(remaining / rate)` nanoseconds. No float is
//! involved.
//!
//! Completions are kept in a min-heap of `(time, FlowId)` with lazy
//! deletion: only a flow whose rate changed pushes a new entry (its old one
//! goes stale), stale entries are dropped when they reach the top, and the
//! heap is rebuilt from its live entries when stale ones outnumber them.
//! A change therefore costs O(component · log flows), amortised.
//!
//! # Cost
//! A start, failure or completion costs time proportional to the size of
//! its component (flows and links reachable through shared links), times a
//! logarithm; flows on unrelated links are not touched. Many flows through
//! one shared link form one component, so each change there costs
//! O(flows on that link).
//!
//! # Determinism
//! Flow ids are issued in start order. Nothing iterates a hash map: the map
//! from id to slot is only used for lookups; per-link flow sets are ordered
//! by id, and the completion and filling heaps order by unique keys (time
//! then id; level then link id), so results never depend on insertion
//! order.

use super::route::{LinkId, LinkSpec};
use crate::units::{Bytes, Duration, Rate, Time};
use std::cmp::{Ordering, Reverse};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::hash::BuildHasherDefault;

/// Work units per byte: 8 bits × 10^9 ns per second.
const UNITS_PER_BYTE: u128 = 8 * 1_000_000_000;

/// Identity of a flow, issued in start order (never reused by a `FlowNet`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowId(pub u64);

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flow#{}", self.0)
    }
}

/// Misuse of a [`FlowNet`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// A flow needs at least one link (loopback transfers use no network).
    #[error("a flow needs a path of at least one link")]
    EmptyPath,
    /// A path names a link the network does not have.
    #[error("unknown {link:?}: the network has {links} links")]
    UnknownLink {
        /// The link.
        link: LinkId,
        /// The number of links.
        links: usize,
    },
    /// A path crosses the same link twice.
    #[error("path crosses {link:?} twice")]
    RepeatedLink {
        /// The link.
        link: LinkId,
    },
    /// The flow has completed, failed or never existed.
    #[error("unknown {id}: it has completed, failed or never existed")]
    UnknownFlow {
        /// The flow.
        id: FlowId,
    },
}

/// Size of the last rate recomputation: the connected component of the
/// flow–link graph that was re-filled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ComponentSize {
    /// Links in the component.
    pub links: usize,
    /// Flows in the component.
    pub flows: usize,
}

#[derive(Debug)]
struct Flow {
    id: FlowId,
    path: Box<[LinkId]>,
    class: u8,
    size: Bytes,
    /// Remaining work at `since`, in bit·ns (`bits × 10^9`).
    remaining: u128,
    since: Time,
    /// Current rate in bit/s; 0 until the first filling.
    rate: u64,
    /// Completion time at the current rate.
    done_at: Time,
    /// Filling scratch: visit mark, fixed flag and computed rate.
    epoch: u64,
    fixed: bool,
    new_rate: u64,
}

impl Flow {
    /// Remaining work at `now` (not before `since`).
    fn remaining_at(&self, now: Time) -> u128 {
        let elapsed = u128::from(now.since(self.since).as_nanos());
        self.remaining
            .saturating_sub(u128::from(self.rate) * elapsed)
    }
    /// Whole bytes moved by `now`.
    fn moved_at(&self, now: Time) -> Bytes {
        let total = u128::from(self.size.0) * UNITS_PER_BYTE;
        // At most `size`, so it fits u64.
        Bytes(((total - self.remaining_at(now)) / UNITS_PER_BYTE) as u64)
    }
}

/// Position of a flow in the slab; internal only (public ids are
/// [`FlowId`]s, which are never reused).
type Slot = u32;

#[derive(Debug)]
struct Link {
    capacity: u64,
    /// Flows crossing the link, sorted by id: ids grow, so a new flow is
    /// pushed at the end; a removal shifts the later entries (cheaper than a
    /// tree for the many links that carry one or two flows, and within the
    /// O(flows on the link) a change on a busy link costs anyway).
    flows: Vec<(FlowId, Slot)>,
    /// Bytes of finished (completed or failed) flows that crossed the link.
    bytes: u64,
    /// Filling scratch: visit mark, capacity left, flows not yet fixed.
    epoch: u64,
    left: u64,
    unfixed: u32,
}

/// A link's fair level `left / n` in the filling heap; `n` doubles as the
/// version (it strictly decreases whenever `left` changes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Level {
    left: u64,
    n: u32,
    link: u32,
}

impl Ord for Level {
    fn cmp(&self, o: &Self) -> Ordering {
        let a = u128::from(self.left) * u128::from(o.n);
        let b = u128::from(o.left) * u128::from(self.n);
        a.cmp(&b).then(self.link.cmp(&o.link))
    }
}
impl PartialOrd for Level {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Entry of the completion heap; stale when its slot no longer holds that
/// flow with that completion time (entries are not removed eagerly).
type Due = Reverse<(Time, FlowId, Slot)>;

/// Map from public id to slab slot, only ever used for lookups (never
/// iterated); the hash function is fixed.
type IdMap = HashMap<FlowId, Slot, BuildHasherDefault<DefaultHasher>>;

/// Bulk flows in progress over a fixed set of links, with max-min fair
/// rates; see the [module documentation](self) for the model.
///
/// ```
/// use sim_core::net::{FlowNet, LinkId};
/// use sim_core::units::{Bytes, Rate, Time};
/// let mbit = |m: u64| Rate::new(m * 1_000_000).unwrap();
/// let mut net = FlowNet::new(vec![mbit(10), mbit(100)]);
/// // Two 1 MB (8 Mbit) flows share link 0's 10 Mbit/s: 1.6 s each.
/// let a = net.start(Time::ZERO, &[LinkId(0), LinkId(1)], Bytes(1_000_000), 0).unwrap();
/// let b = net.start(Time::ZERO, &[LinkId(0)], Bytes(1_000_000), 0).unwrap();
/// assert_eq!(net.rate(a), Some(mbit(5)));
/// let (t, first) = net.next_completion().unwrap();
/// assert_eq!((t, first), (Time(1_600_000_000), a));
/// assert_eq!(net.complete(t), Some((a, Bytes(1_000_000))));
/// assert_eq!(net.complete(t), Some((b, Bytes(1_000_000))));
/// assert_eq!(net.next_completion(), None);
/// ```
#[derive(Debug)]
pub struct FlowNet {
    links: Vec<Link>,
    /// Flow slab; `None` slots are listed in `free`.
    slots: Vec<Option<Flow>>,
    free: Vec<Slot>,
    ids: IdMap,
    /// Completion min-heap with lazy deletion; its top is always live
    /// (see `clean_due`), and it is rebuilt when stale entries dominate.
    due: BinaryHeap<Due>,
    next_id: u64,
    now: Time,
    class_bytes: Box<[u64; 256]>,
    epoch: u64,
    last: ComponentSize,
    // Scratch buffers kept between calls to avoid allocating.
    comp_links: Vec<LinkId>,
    comp_flows: Vec<Slot>,
    fixing: Vec<Slot>,
    heap: BinaryHeap<Reverse<Level>>,
}

impl FlowNet {
    /// A network with one link per capacity; link `i` is `LinkId(i)`.
    ///
    /// # Panics
    /// If there are more than 2^32 links.
    pub fn new(capacities: Vec<Rate>) -> FlowNet {
        assert!(
            capacities.len() <= u32::MAX as usize + 1,
            "link ids are u32"
        );
        FlowNet {
            links: capacities
                .into_iter()
                .map(|c| Link {
                    capacity: c.bits_per_sec(),
                    flows: Vec::new(),
                    bytes: 0,
                    epoch: 0,
                    left: 0,
                    unfixed: 0,
                })
                .collect(),
            slots: Vec::new(),
            free: Vec::new(),
            ids: IdMap::default(),
            due: BinaryHeap::new(),
            next_id: 0,
            now: Time::ZERO,
            class_bytes: Box::new([0; 256]),
            epoch: 0,
            last: ComponentSize::default(),
            comp_links: Vec::new(),
            comp_flows: Vec::new(),
            fixing: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// A network over a topology's link table (capacities only).
    pub fn from_links(links: &[LinkSpec]) -> FlowNet {
        FlowNet::new(links.iter().map(|l| l.capacity()).collect())
    }

    /// Start a transfer of `size` bytes along `path` at `now`, tagged with
    /// `class` for accounting (e.g. storage, repair, compute, data center).
    /// Rates of the flows sharing links with it (transitively) are
    /// recomputed. A zero-size flow completes at `now`.
    ///
    /// # Panics
    /// If `now` is earlier than a previous call's time or than a pending
    /// completion (the engine missed an event), or if more than 2^32 flows
    /// are in progress at once.
    pub fn start(
        &mut self,
        now: Time,
        path: &[LinkId],
        size: Bytes,
        class: u8,
    ) -> Result<FlowId, FlowError> {
        if path.is_empty() {
            return Err(FlowError::EmptyPath);
        }
        for (i, &l) in path.iter().enumerate() {
            if l.index() >= self.links.len() {
                return Err(FlowError::UnknownLink {
                    link: l,
                    links: self.links.len(),
                });
            }
            if path[..i].contains(&l) {
                return Err(FlowError::RepeatedLink { link: l });
            }
        }
        self.set_clock(now);
        let id = FlowId(self.next_id);
        self.next_id += 1;
        let flow = Flow {
            id,
            path: path.into(),
            class,
            size,
            remaining: u128::from(size.0) * UNITS_PER_BYTE,
            since: now,
            rate: 0,
            done_at: Time::MAX,
            epoch: 0,
            fixed: false,
            new_rate: 0,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(flow);
                s
            }
            None => {
                let s = Slot::try_from(self.slots.len()).expect("fewer than 2^32 flows at once");
                self.slots.push(Some(flow));
                s
            }
        };
        self.ids.insert(id, slot);
        for &l in path {
            self.links[l.index()].flows.push((id, slot));
        }
        self.rerate(now, path);
        Ok(id)
    }

    /// Stop flow `id` at `now` (an endpoint went down or a link was cut) and
    /// return the whole bytes it moved. The bytes count in the link and
    /// class counters.
    ///
    /// # Panics
    /// As [`FlowNet::start`], on time going backwards.
    pub fn fail(&mut self, now: Time, id: FlowId) -> Result<Bytes, FlowError> {
        self.set_clock(now);
        let slot = *self.ids.get(&id).ok_or(FlowError::UnknownFlow { id })?;
        let (path, moved) = self.remove(now, slot);
        self.rerate(now, &path);
        Ok(moved)
    }

    /// Fail every flow crossing `link` at `now` (the link was cut), with one
    /// rate recomputation; returns `(flow, bytes moved)` in id order.
    ///
    /// # Panics
    /// As [`FlowNet::start`], on time going backwards.
    pub fn fail_link(&mut self, now: Time, link: LinkId) -> Vec<(FlowId, Bytes)> {
        self.set_clock(now);
        // Emptying the cut link's list first keeps this linear in its flows
        // (`remove` then finds nothing to shift there).
        let victims = match self.links.get_mut(link.index()) {
            Some(l) => std::mem::take(&mut l.flows),
            None => return Vec::new(),
        };
        let mut seeds = Vec::new();
        let mut out = Vec::with_capacity(victims.len());
        for (id, slot) in victims {
            let (path, moved) = self.remove(now, slot);
            seeds.extend_from_slice(&path);
            out.push((id, moved));
        }
        self.rerate(now, &seeds);
        out
    }

    /// The earliest pending completion, ties broken by the lower id.
    /// Flows that would take more than the range of [`Time`] report
    /// [`Time::MAX`].
    pub fn next_completion(&self) -> Option<(Time, FlowId)> {
        self.due.peek().map(|&Reverse((t, id, _))| (t, id))
    }

    /// If a flow completes at exactly `now`, remove it, recompute the rates
    /// of its component and return it with its size; otherwise `None`. Call
    /// repeatedly to drain simultaneous completions (in id order).
    ///
    /// # Panics
    /// If a completion earlier than `now` is pending, or `now` is earlier
    /// than a previous call's time.
    pub fn complete(&mut self, now: Time) -> Option<(FlowId, Bytes)> {
        self.set_clock(now);
        let &Reverse((t, id, slot)) = self.due.peek()?;
        if t != now {
            return None;
        }
        let (path, moved) = self.remove(now, slot);
        self.rerate(now, &path);
        Some((id, moved))
    }

    /// Whole bytes flow `id` has moved by `now` (`None` if it is not in
    /// progress). `now` must not be earlier than the last call's time.
    pub fn bytes_moved(&self, id: FlowId, now: Time) -> Option<Bytes> {
        self.get(id).map(|f| f.moved_at(now))
    }

    /// Current rate of flow `id` (`None` if it is not in progress).
    pub fn rate(&self, id: FlowId) -> Option<Rate> {
        self.get(id).and_then(|f| Rate::new(f.rate).ok())
    }

    /// Expected completion time of flow `id` at the current rates.
    pub fn completion_time(&self, id: FlowId) -> Option<Time> {
        self.get(id).map(|f| f.done_at)
    }

    /// The flows crossing `link`, in id order (empty for an unknown link).
    pub fn flows_on_link(&self, link: LinkId) -> impl Iterator<Item = FlowId> + '_ {
        self.links
            .get(link.index())
            .into_iter()
            .flat_map(|l| l.flows.iter().map(|&(id, _)| id))
    }

    /// Number of flows crossing `link` (0 for an unknown link).
    pub fn link_flow_count(&self, link: LinkId) -> usize {
        self.links.get(link.index()).map_or(0, |l| l.flows.len())
    }

    /// Number of flows in progress.
    pub fn flow_count(&self) -> usize {
        self.ids.len()
    }

    /// Number of links.
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// Total flows started so far.
    pub fn started_count(&self) -> u64 {
        self.next_id
    }

    /// Bytes carried by `link` for finished flows (completed: their size;
    /// failed: the bytes they moved). 0 for an unknown link.
    pub fn link_bytes(&self, link: LinkId) -> u64 {
        self.links.get(link.index()).map_or(0, |l| l.bytes)
    }

    /// Bytes carried by `link` by `now`, including flows in progress;
    /// costs O(flows on the link).
    pub fn link_bytes_at(&self, link: LinkId, now: Time) -> u64 {
        let Some(l) = self.links.get(link.index()) else {
            return 0;
        };
        l.flows
            .iter()
            .map(|&(_, s)| self.flow(s).moved_at(now).0)
            .fold(l.bytes, u64::saturating_add)
    }

    /// Bytes moved by finished flows of `class`.
    pub fn class_bytes(&self, class: u8) -> u64 {
        self.class_bytes[usize::from(class)]
    }

    /// Size of the component re-filled by the last start, failure or
    /// completion: the work that change cost.
    pub fn last_component(&self) -> ComponentSize {
        self.last
    }

    // ------------------------------------------------------------ internals

    fn get(&self, id: FlowId) -> Option<&Flow> {
        self.ids.get(&id).map(|&s| self.flow(s))
    }

    fn flow(&self, slot: Slot) -> &Flow {
        self.slots[slot as usize].as_ref().expect("live slot")
    }

    fn set_clock(&mut self, now: Time) {
        assert!(
            now >= self.now,
            "flow network time went backwards: {now} after {}",
            self.now
        );
        if let Some((t, id)) = self.next_completion() {
            assert!(t >= now, "missed completion of {id} at {t} (now {now})");
        }
        self.now = now;
    }

    /// Take the flow in `slot` out of the network and account for its
    /// bytes; returns its path (to re-rate from) and the bytes it moved.
    fn remove(&mut self, now: Time, slot: Slot) -> (Box<[LinkId]>, Bytes) {
        let flow = self.slots[slot as usize].take().expect("live slot");
        self.free.push(slot);
        self.ids.remove(&flow.id);
        let moved = flow.moved_at(now);
        for &l in flow.path.iter() {
            let link = &mut self.links[l.index()];
            if let Ok(i) = link.flows.binary_search(&(flow.id, slot)) {
                link.flows.remove(i);
            }
            link.bytes = link.bytes.saturating_add(moved.0);
        }
        let c = &mut self.class_bytes[usize::from(flow.class)];
        *c = c.saturating_add(moved.0);
        (flow.path, moved)
    }

    /// Is this completion entry still the flow's current completion?
    fn is_live(slots: &[Option<Flow>], &Reverse((t, id, slot)): &Due) -> bool {
        matches!(&slots[slot as usize], Some(f) if f.id == id && f.done_at == t)
    }

    /// Drop stale entries from the top of the completion heap, and rebuild
    /// it from its live entries when stale ones outnumber them (amortised
    /// O(1) per push: a rebuild costs O(entries) and follows at least
    /// `live + 64` pushes).
    fn clean_due(&mut self) {
        let live = self.ids.len();
        if self.due.len() > 2 * live + 64 {
            let slots = &self.slots;
            self.due.retain(|e| Self::is_live(slots, e));
        }
        while let Some(top) = self.due.peek() {
            if Self::is_live(&self.slots, top) {
                break;
            }
            self.due.pop();
        }
    }

    /// Recompute max-min rates for the component(s) containing `seeds`
    /// and reschedule the completions of the flows whose rate changed.
    fn rerate(&mut self, now: Time, seeds: &[LinkId]) {
        self.epoch += 1;
        let e = self.epoch;
        self.collect_component(seeds, e);
        self.last = ComponentSize {
            links: self.comp_links.len(),
            flows: self.comp_flows.len(),
        };
        self.fill();
        for &slot in &self.comp_flows {
            let Some(f) = self.slots[slot as usize].as_mut() else {
                continue;
            };
            if f.new_rate == f.rate {
                continue;
            }
            let queued = (f.rate != 0).then_some(f.done_at);
            f.remaining = f.remaining_at(now);
            f.since = now;
            f.rate = f.new_rate;
            let ns = f.remaining.div_ceil(u128::from(f.rate));
            f.done_at = now.saturating_add(Duration(u64::try_from(ns).unwrap_or(u64::MAX)));
            // The entry for the old completion time goes stale; an
            // unchanged time keeps its entry, so no flow is queued twice.
            if queued != Some(f.done_at) {
                self.due.push(Reverse((f.done_at, f.id, slot)));
            }
        }
        self.clean_due();
    }

    /// Breadth-first search of the flow–link graph from `seeds`, into
    /// `comp_links` / `comp_flows`; marks visited links and flows with `e`.
    fn collect_component(&mut self, seeds: &[LinkId], e: u64) {
        self.comp_links.clear();
        self.comp_flows.clear();
        for &l in seeds {
            let link = &mut self.links[l.index()];
            if link.epoch != e {
                link.epoch = e;
                self.comp_links.push(l);
            }
        }
        let mut head = 0;
        while head < self.comp_links.len() {
            let l = self.comp_links[head];
            head += 1;
            let first_new = self.comp_flows.len();
            for &(_, slot) in &self.links[l.index()].flows {
                let f = self.slots[slot as usize].as_mut().expect("live slot");
                if f.epoch != e {
                    f.epoch = e;
                    f.fixed = false;
                    self.comp_flows.push(slot);
                }
            }
            for &slot in &self.comp_flows[first_new..] {
                let f = self.slots[slot as usize].as_ref().expect("live slot");
                for &l2 in f.path.iter() {
                    let link = &mut self.links[l2.index()];
                    if link.epoch != e {
                        link.epoch = e;
                        self.comp_links.push(l2);
                    }
                }
            }
        }
    }

    /// Progressive filling over the collected component; writes `new_rate`.
    fn fill(&mut self) {
        let mut unfixed_total = self.comp_flows.len();
        let mut levels = std::mem::take(&mut self.heap).into_vec();
        levels.clear();
        for &l in &self.comp_links {
            let link = &mut self.links[l.index()];
            link.left = link.capacity;
            link.unfixed = u32::try_from(link.flows.len()).expect("fewer than 2^32 flows per link");
            if link.unfixed > 0 {
                levels.push(Reverse(Level {
                    left: link.left,
                    n: link.unfixed,
                    link: l.0,
                }));
            }
        }
        self.heap = BinaryHeap::from(levels);
        while unfixed_total > 0 {
            let Some(Reverse(level)) = self.heap.pop() else {
                break;
            };
            let link = &self.links[level.link as usize];
            if link.unfixed != level.n {
                continue; // stale entry
            }
            let share = (link.left / u64::from(link.unfixed)).max(1);
            self.fixing.clear();
            for &(_, s) in &link.flows {
                if !self.slots[s as usize].as_ref().expect("live slot").fixed {
                    self.fixing.push(s);
                }
            }
            unfixed_total -= self.fixing.len();
            for &slot in &self.fixing {
                let f = self.slots[slot as usize].as_mut().expect("live slot");
                f.fixed = true;
                f.new_rate = share;
                for &l2 in f.path.iter() {
                    let other = &mut self.links[l2.index()];
                    other.left = other.left.saturating_sub(share);
                    other.unfixed -= 1;
                    if l2.0 != level.link && other.unfixed > 0 {
                        self.heap.push(Reverse(Level {
                            left: other.left,
                            n: other.unfixed,
                            link: l2.0,
                        }));
                    }
                }
            }
        }
    }

    /// Recompute every link's rates from scratch (for checking that the
    /// incremental recomputation agrees).
    #[cfg(test)]
    fn rerate_all(&mut self, now: Time) {
        let all: Vec<LinkId> = (0..self.links.len() as u32).map(LinkId).collect();
        self.rerate(now, &all);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: u64 = 1_000_000_000; // ns per second

    fn mbit(m: u64) -> Rate {
        Rate::new(m * 1_000_000).unwrap()
    }
    fn bps(b: u64) -> Rate {
        Rate::new(b).unwrap()
    }
    fn l(i: u32) -> LinkId {
        LinkId(i)
    }

    #[test]
    fn one_flow_on_one_link() {
        // 1 MB = 8 Mbit at 8 Mbit/s: 1 s, starting at 2 s.
        let mut net = FlowNet::new(vec![mbit(8)]);
        let a = net
            .start(Time(2 * S), &[l(0)], Bytes(1_000_000), 0)
            .unwrap();
        assert_eq!(net.rate(a), Some(mbit(8)));
        assert_eq!(net.next_completion(), Some((Time(3 * S), a)));
        assert_eq!(net.complete(Time(2 * S + S / 2)), None);
        assert_eq!(
            net.bytes_moved(a, Time(2 * S + S / 2)),
            Some(Bytes(500_000))
        );
        assert_eq!(net.complete(Time(3 * S)), Some((a, Bytes(1_000_000))));
        assert_eq!(net.flow_count(), 0);
        assert_eq!(net.next_completion(), None);

        // Rounding up: 1 byte = 8 bits at 3 bit/s = 2.666... s.
        let mut net = FlowNet::new(vec![bps(3)]);
        let b = net.start(Time::ZERO, &[l(0)], Bytes(1), 0).unwrap();
        assert_eq!(net.next_completion(), Some((Time(2_666_666_667), b)));
    }

    #[test]
    fn two_flows_share_a_bottleneck() {
        // Link 0: 10 Mbit/s shared; link 1 and 2 are 100 Mbit/s private.
        // A = 1 MB (8 Mbit), B = 2 MB (16 Mbit), both 5 Mbit/s.
        // A ends at 8/5 = 1.6 s; B has then moved 8 Mbit, the other 8 Mbit
        // go at 10 Mbit/s in 0.8 s: B ends at 2.4 s.
        let mut net = FlowNet::new(vec![mbit(10), mbit(100), mbit(100)]);
        let a = net
            .start(Time::ZERO, &[l(1), l(0)], Bytes(1_000_000), 0)
            .unwrap();
        let b = net
            .start(Time::ZERO, &[l(0), l(2)], Bytes(2_000_000), 0)
            .unwrap();
        assert_eq!(net.rate(a), Some(mbit(5)));
        assert_eq!(net.rate(b), Some(mbit(5)));
        assert_eq!(net.next_completion(), Some((Time(1_600_000_000), a)));
        assert_eq!(
            net.complete(Time(1_600_000_000)),
            Some((a, Bytes(1_000_000)))
        );
        assert_eq!(net.rate(b), Some(mbit(10)));
        assert_eq!(
            net.bytes_moved(b, Time(1_600_000_000)),
            Some(Bytes(1_000_000))
        );
        assert_eq!(net.next_completion(), Some((Time(2_400_000_000), b)));
        assert_eq!(
            net.complete(Time(2_400_000_000)),
            Some((b, Bytes(2_000_000)))
        );
    }

    #[test]
    fn three_flows_with_different_bottlenecks() {
        // Links (Mbit/s): L0 = 10, L1 = 4, L2 = 100.
        // F0: L0 L1, 1 MB = 8 Mbit; F1: L1 L2, 0.5 MB = 4 Mbit;
        // F2: L0 L2, 4 MB = 32 Mbit.
        // Levels: L1 4/2 = 2, L0 10/2 = 5, L2 100/2 = 50. L1 is the
        // bottleneck: F0 = F1 = 2. Then L0 has 8 left for F2 alone, L2 has
        // 98: F2 = 8. So F0 = 2, F1 = 2, F2 = 8 Mbit/s.
        // F1 ends at 4/2 = 2 s. Then F0 has 4 Mbit left, F2 16 Mbit.
        // Levels: L1 4/1 = 4, L0 10/2 = 5: F0 = 4, then F2 = 10 - 4 = 6.
        // F0 ends at 2 + 4/4 = 3 s; F2 has moved 6 Mbit more: 10 Mbit left,
        // alone on L0 at 10 Mbit/s: ends at 4 s.
        let mut net = FlowNet::new(vec![mbit(10), mbit(4), mbit(100)]);
        let f0 = net
            .start(Time::ZERO, &[l(0), l(1)], Bytes(1_000_000), 0)
            .unwrap();
        let f1 = net
            .start(Time::ZERO, &[l(1), l(2)], Bytes(500_000), 0)
            .unwrap();
        let f2 = net
            .start(Time::ZERO, &[l(0), l(2)], Bytes(4_000_000), 0)
            .unwrap();
        assert_eq!(
            [f0, f1, f2].map(|f| net.rate(f).unwrap()),
            [mbit(2), mbit(2), mbit(8)]
        );
        assert_eq!(net.next_completion(), Some((Time(2 * S), f1)));
        assert_eq!(net.complete(Time(2 * S)), Some((f1, Bytes(500_000))));
        assert_eq!([f0, f2].map(|f| net.rate(f).unwrap()), [mbit(4), mbit(6)]);
        assert_eq!(net.next_completion(), Some((Time(3 * S), f0)));
        assert_eq!(net.complete(Time(3 * S)), Some((f0, Bytes(1_000_000))));
        assert_eq!(net.rate(f2), Some(mbit(10)));
        assert_eq!(net.complete(Time(4 * S)), Some((f2, Bytes(4_000_000))));
    }

    #[test]
    fn a_flow_slows_down_then_speeds_up_again() {
        // 8 Mbit/s link. A = 2 MB (16 Mbit) starts at 0 alone: 8 Mbit/s.
        // At 1 s (A has moved 8 Mbit) B = 0.5 MB (4 Mbit) starts: 4 + 4.
        // B ends at 1 + 4/4 = 2 s; A has moved 4 Mbit more, 4 left, alone
        // again at 8 Mbit/s: ends at 2.5 s.
        let mut net = FlowNet::new(vec![mbit(8)]);
        let a = net.start(Time::ZERO, &[l(0)], Bytes(2_000_000), 0).unwrap();
        assert_eq!(net.completion_time(a), Some(Time(2 * S)));
        let b = net.start(Time(S), &[l(0)], Bytes(500_000), 0).unwrap();
        assert_eq!(net.rate(a), Some(mbit(4)));
        assert_eq!(net.completion_time(a), Some(Time(3 * S)));
        // At 1.5 s A has moved 8 + 2 = 10 Mbit = 1.25 MB.
        assert_eq!(
            net.bytes_moved(a, Time(1_500_000_000)),
            Some(Bytes(1_250_000))
        );
        assert_eq!(net.next_completion(), Some((Time(2 * S), b)));
        assert_eq!(net.complete(Time(2 * S)), Some((b, Bytes(500_000))));
        assert_eq!(net.rate(a), Some(mbit(8)));
        assert_eq!(net.next_completion(), Some((Time(2_500_000_000), a)));
        assert_eq!(
            net.complete(Time(2_500_000_000)),
            Some((a, Bytes(2_000_000)))
        );
    }

    #[test]
    fn a_failed_flow_reports_the_bytes_it_moved() {
        // 8 Mbit/s shared by A and B (1 MB each): 4 Mbit/s each. A fails at
        // 0.25 s having moved 1 Mbit = 125 000 B; B then has 7 Mbit left at
        // 8 Mbit/s: ends at 0.25 + 0.875 = 1.125 s.
        let mut net = FlowNet::new(vec![mbit(8), mbit(8)]);
        let a = net
            .start(Time::ZERO, &[l(0), l(1)], Bytes(1_000_000), 1)
            .unwrap();
        let b = net.start(Time::ZERO, &[l(0)], Bytes(1_000_000), 2).unwrap();
        assert_eq!(net.fail(Time(S / 4), a), Ok(Bytes(125_000)));
        assert_eq!(
            net.fail(Time(S / 4), a),
            Err(FlowError::UnknownFlow { id: a })
        );
        assert_eq!(net.next_completion(), Some((Time(1_125_000_000), b)));
        assert_eq!(net.link_bytes(l(1)), 125_000);
        assert_eq!(net.class_bytes(1), 125_000);
        // Whole bytes only: at 8 Mbit/s a byte takes 1000 ns.
        let c = net.start(Time(S / 4), &[l(1)], Bytes(10), 3).unwrap();
        assert_eq!(net.fail(Time(S / 4 + 2_999), c), Ok(Bytes(2)));
    }

    #[test]
    fn a_fully_shared_link_is_work_conserving() {
        // 20 flows on one link whose capacity, lcm(1..=20) bit/s, divides
        // evenly among any number k <= 20 of flows: no flooring loss, so
        // the link is always full. Equal shares make flows finish in size
        // order (ties by id), and the last one ends when all bits have
        // crossed: total_bits / C, plus at most 1 ns of rounding up per
        // completion.
        const C: u64 = 232_792_560;
        let sizes: Vec<u64> = (0..20u64).map(|i| 1 + (i * 7_919) % 50_000).collect();
        let mut net = FlowNet::new(vec![bps(C)]);
        let ids: Vec<FlowId> = sizes
            .iter()
            .map(|&s| net.start(Time::ZERO, &[l(0)], Bytes(s), 0).unwrap())
            .collect();
        let mut expected_order: Vec<(u64, FlowId)> = sizes.iter().copied().zip(ids).collect();
        expected_order.sort();
        let mut order = Vec::new();
        let mut last = Time::ZERO;
        while let Some((t, _)) = net.next_completion() {
            assert!(t >= last);
            last = t;
            let (id, moved) = net.complete(t).unwrap();
            order.push((moved.0, id));
        }
        assert_eq!(order, expected_order);
        let total_bits: u128 = sizes.iter().map(|&s| u128::from(s) * 8).sum();
        let exact_ns = (total_bits * 1_000_000_000).div_ceil(u128::from(C)) as u64;
        assert!(
            last.0 >= exact_ns && last.0 <= exact_ns + 20,
            "{last} vs {exact_ns} ns"
        );
    }

    #[test]
    fn byte_counters_add_up_per_link_and_class() {
        // Links: 0 = 8 Mbit/s, 1 = 16 Mbit/s. Class 1: a 1 MB flow on
        // 0 and 1; class 2: a 0.5 MB flow on 1 and a 2 MB flow on 0 that
        // fails at 1 s. Link 0 (A and C) is the bottleneck of both: 4 Mbit/s
        // each; B gets 16 - 4 = 12 Mbit/s on link 1 and ends at
        // 4/12 = 0.333.. s (no change for A and C, whose level is 4). A ends
        // at 2 s, C fails at 1 s with 4 Mbit = 500 000 B moved, after which
        // A runs alone at 8 Mbit/s: A has 4 Mbit left at 1 s, ends at 1.5 s.
        let mut net = FlowNet::new(vec![mbit(8), mbit(16)]);
        let a = net
            .start(Time::ZERO, &[l(0), l(1)], Bytes(1_000_000), 1)
            .unwrap();
        let b = net.start(Time::ZERO, &[l(1)], Bytes(500_000), 2).unwrap();
        let c = net.start(Time::ZERO, &[l(0)], Bytes(2_000_000), 2).unwrap();
        assert_eq!(
            [a, b, c].map(|f| net.rate(f).unwrap()),
            [mbit(4), mbit(12), mbit(4)]
        );
        assert_eq!(net.next_completion(), Some((Time(333_333_334), b)));
        assert_eq!(net.complete(Time(333_333_334)), Some((b, Bytes(500_000))));
        assert_eq!(net.fail(Time(S), c), Ok(Bytes(500_000)));
        assert_eq!(
            net.complete(Time(1_500_000_000)),
            Some((a, Bytes(1_000_000)))
        );
        assert_eq!(net.link_bytes(l(0)), 1_000_000 + 500_000);
        assert_eq!(net.link_bytes(l(1)), 1_000_000 + 500_000);
        assert_eq!(net.class_bytes(1), 1_000_000);
        assert_eq!(net.class_bytes(2), 500_000 + 500_000);
        assert_eq!(net.class_bytes(0), 0);
        assert_eq!(net.flow_count(), 0);
        assert_eq!(net.started_count(), 3);
    }

    #[test]
    fn zero_size_flow_completes_at_once() {
        let mut net = FlowNet::new(vec![bps(1)]);
        let a = net.start(Time(5), &[l(0)], Bytes(0), 0).unwrap();
        assert_eq!(net.complete(Time(5)), Some((a, Bytes(0))));
    }

    #[test]
    fn bad_paths_are_typed_errors() {
        let mut net = FlowNet::new(vec![bps(1), bps(1)]);
        assert_eq!(
            net.start(Time::ZERO, &[], Bytes(1), 0),
            Err(FlowError::EmptyPath)
        );
        assert_eq!(
            net.start(Time::ZERO, &[l(0), l(2)], Bytes(1), 0),
            Err(FlowError::UnknownLink {
                link: l(2),
                links: 2
            })
        );
        assert_eq!(
            net.start(Time::ZERO, &[l(1), l(0), l(1)], Bytes(1), 0),
            Err(FlowError::RepeatedLink { link: l(1) })
        );
        assert_eq!(net.flow_count(), 0);
        assert_eq!(net.flows_on_link(l(7)).count(), 0);
    }

    #[test]
    #[should_panic(expected = "missed completion")]
    fn skipping_a_completion_is_caught() {
        let mut net = FlowNet::new(vec![bps(8)]);
        net.start(Time::ZERO, &[l(0)], Bytes(1), 0).unwrap(); // ends at 1 s
        net.start(Time(2 * S), &[l(0)], Bytes(1), 0).unwrap();
    }

    #[test]
    fn flooring_never_exceeds_capacity_nor_gives_zero() {
        // 3 bit/s for 2 flows: 1 each (floor of 1.5), 1 bit/s unused.
        let mut net = FlowNet::new(vec![bps(3)]);
        let a = net.start(Time::ZERO, &[l(0)], Bytes(1), 0).unwrap();
        let b = net.start(Time::ZERO, &[l(0)], Bytes(1), 0).unwrap();
        assert_eq!([a, b].map(|f| net.rate(f)), [Some(bps(1)); 2]);
        // 10 bit/s for 3 flows on it, one of which is capped at 2 bit/s by
        // another link: the capped one gets 2, the others floor(8/2) = 4.
        let mut net = FlowNet::new(vec![bps(10), bps(2)]);
        let x = net.start(Time::ZERO, &[l(0), l(1)], Bytes(1), 0).unwrap();
        let y = net.start(Time::ZERO, &[l(0)], Bytes(1), 0).unwrap();
        let z = net.start(Time::ZERO, &[l(0)], Bytes(1), 0).unwrap();
        assert_eq!(
            [x, y, z].map(|f| net.rate(f)),
            [Some(bps(2)), Some(bps(4)), Some(bps(4))]
        );
        // Oversubscribed: 1 bit/s for 3 flows still gives each 1 bit/s.
        let mut net = FlowNet::new(vec![bps(1)]);
        let ids: Vec<_> = (0..3)
            .map(|_| net.start(Time::ZERO, &[l(0)], Bytes(1), 0).unwrap())
            .collect();
        for id in ids {
            assert_eq!(net.rate(id), Some(bps(1)));
        }
    }

    #[test]
    fn recomputation_is_limited_to_the_component() {
        // 1000 flows on disjoint two-link paths (links 2i, 2i+1).
        let n = 1_000u32;
        let mut net = FlowNet::new(vec![mbit(1); 2 * n as usize + 2]);
        for i in 0..n {
            net.start(Time::ZERO, &[l(2 * i), l(2 * i + 1)], Bytes(1_000), 0)
                .unwrap();
            assert_eq!(net.last_component(), ComponentSize { links: 2, flows: 1 });
        }
        // A flow sharing link 0 with flow 0: 3 links, 2 flows.
        net.start(Time::ZERO, &[l(0), l(2 * n)], Bytes(1_000), 0)
            .unwrap();
        assert_eq!(net.last_component(), ComponentSize { links: 3, flows: 2 });
        // One linking flows 0 and 1 through links 1 and 2: 5 links, 4 flows.
        net.start(Time::ZERO, &[l(1), l(2)], Bytes(1_000), 0)
            .unwrap();
        assert_eq!(net.last_component(), ComponentSize { links: 5, flows: 4 });
        assert_eq!(net.flow_count(), n as usize + 2);
        assert_eq!(
            net.flows_on_link(l(0)).collect::<Vec<_>>(),
            [FlowId(0), FlowId(n as u64)]
        );
    }

    #[test]
    fn a_cut_link_fails_its_flows() {
        // L0 10 Mbit/s carries A and B (5 each); L1 carries B and C.
        let mut net = FlowNet::new(vec![mbit(10), mbit(10)]);
        let a = net
            .start(Time::ZERO, &[l(0)], Bytes(10_000_000), 0)
            .unwrap();
        let b = net
            .start(Time::ZERO, &[l(0), l(1)], Bytes(10_000_000), 0)
            .unwrap();
        let c = net
            .start(Time::ZERO, &[l(1)], Bytes(10_000_000), 0)
            .unwrap();
        assert_eq!(net.rate(c), Some(mbit(5)));
        // At 0.8 s A and B have each moved 4 Mbit = 500 000 B.
        let failed = net.fail_link(Time(800_000_000), l(0));
        assert_eq!(failed, [(a, Bytes(500_000)), (b, Bytes(500_000))]);
        assert_eq!(net.rate(c), Some(mbit(10)));
        assert_eq!(net.link_bytes(l(0)), 1_000_000);
        assert_eq!(net.link_bytes_at(l(1), Time(800_000_000)), 1_000_000);
    }

    /// Random instance: capacities, paths and sizes.
    fn instance() -> impl Strategy<Value = (Vec<u64>, Vec<(Vec<u32>, u64)>)> {
        instance_with(20..2_000_000)
    }

    /// Random instance with capacities (bit/s) drawn from `caps`.
    fn instance_with(
        caps: std::ops::Range<u64>,
    ) -> impl Strategy<Value = (Vec<u64>, Vec<(Vec<u32>, u64)>)> {
        (2usize..=8).prop_flat_map(move |links| {
            let caps = prop::collection::vec(caps.clone(), links);
            let path =
                prop::sample::subsequence((0..links as u32).collect::<Vec<_>>(), 1..=4.min(links))
                    .prop_shuffle();
            let flows = prop::collection::vec((path, 0u64..5_000), 1..=20);
            (caps, flows)
        })
    }

    fn build(caps: &[u64], flows: &[(Vec<u32>, u64)]) -> (FlowNet, Vec<FlowId>) {
        let mut net = FlowNet::new(caps.iter().map(|&c| bps(c)).collect());
        let ids = flows
            .iter()
            .map(|(p, size)| {
                let p: Vec<LinkId> = p.iter().map(|&i| LinkId(i)).collect();
                net.start(Time::ZERO, &p, Bytes(*size), 0).unwrap()
            })
            .collect();
        (net, ids)
    }

    /// Check the documented max-min guarantees on the current rates.
    fn check_max_min(net: &FlowNet) -> Result<(), TestCaseError> {
        let mut load = vec![0u64; net.link_count()];
        let mut max_rate = vec![0u64; net.link_count()];
        let mut count = vec![0u64; net.link_count()];
        let mut all = std::collections::BTreeSet::new();
        for li in 0..net.link_count() {
            for id in net.flows_on_link(LinkId(li as u32)) {
                let r = net.rate(id).unwrap().bits_per_sec();
                load[li] += r;
                max_rate[li] = max_rate[li].max(r);
                count[li] += 1;
                all.insert(id);
            }
        }
        for (li, link) in net.links.iter().enumerate() {
            prop_assert!(load[li] <= link.capacity, "link {li} over capacity");
        }
        for id in all {
            let f = net.get(id).unwrap();
            let r = f.rate;
            prop_assert!(r >= 1);
            let bottleneck = f.path.iter().any(|l| {
                let li = l.index();
                let slack = net.links[li].capacity - load[li];
                slack < count[li] && r == max_rate[li]
            });
            prop_assert!(bottleneck, "{id} has no bottleneck link");
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn rates_are_max_min_fair((caps, flows) in instance()) {
            let (net, _) = build(&caps, &flows);
            check_max_min(&net)?;
        }

        /// With tiny capacities some links carry more flows than bits per
        /// second: exactly those links are oversubscribed, every flow on
        /// them gets 1 bit/s, and every other link stays within capacity.
        #[test]
        fn oversubscription_is_confined((caps, flows) in instance_with(1..25)) {
            let (net, _) = build(&caps, &flows);
            for (li, &cap) in caps.iter().enumerate() {
                let ids: Vec<FlowId> = net.flows_on_link(LinkId(li as u32)).collect();
                let rates: Vec<u64> = ids.iter().map(|&id| net.rate(id).unwrap().bits_per_sec()).collect();
                let load: u64 = rates.iter().sum();
                if ids.len() as u64 > cap {
                    prop_assert!(rates.iter().all(|&r| r == 1), "link {li}: {rates:?}");
                } else {
                    prop_assert!(load <= cap, "link {li}: {load} > {cap}");
                }
            }
        }

        /// Cutting a link fails exactly its flows, with their partial bytes,
        /// and leaves the others max-min fair as a full recomputation.
        #[test]
        fn cutting_a_link((caps, flows) in instance(), cut in 0u32..8, at_ns in 0u64..100_000_000) {
            let (mut net, _) = build(&caps, &flows);
            let cut = LinkId(cut % caps.len() as u32);
            let now = match net.next_completion() {
                Some((t, _)) if t.0 <= at_ns => t,
                _ => Time(at_ns),
            };
            let on_link: Vec<FlowId> = net.flows_on_link(cut).collect();
            let expected: Vec<(FlowId, u64)> = on_link
                .iter()
                .map(|&id| (id, net.bytes_moved(id, now).unwrap().0))
                .collect();
            let failed = net.fail_link(now, cut);
            let got: Vec<(FlowId, u64)> = failed.iter().map(|&(id, b)| (id, b.0)).collect();
            prop_assert_eq!(got, expected);
            for &(id, moved) in &failed {
                prop_assert!(moved.0 <= flows[id.0 as usize].1);
                prop_assert_eq!(net.rate(id), None);
            }
            prop_assert_eq!(net.link_flow_count(cut), 0);
            prop_assert_eq!(net.flow_count(), flows.len() - failed.len());
            prop_assert_eq!(
                net.link_bytes(cut),
                failed.iter().map(|&(_, b)| b.0).sum::<u64>()
            );
            check_max_min(&net)?;
            let ids: Vec<FlowId> = (0..flows.len() as u64).map(FlowId).collect();
            let before: Vec<_> = ids.iter().map(|&p| net.rate(p)).collect();
            net.rerate_all(now);
            let after: Vec<_> = ids.iter().map(|&p| net.rate(p)).collect();
            prop_assert_eq!(before, after);
        }

        /// Starting, completing and failing flows, the incremental rates
        /// always equal a from-scratch recomputation, remain max-min fair,
        /// and the byte counters add up to what the flows transferred.
        #[test]
        fn incremental_equals_full_and_bytes_add_up(
            (caps, flows) in instance(),
            fails in prop::collection::vec(any::<bool>(), 20),
            gap_ns in 1u64..10_000_000,
        ) {
            let (mut net, ids) = build(&caps, &flows);
            let mut per_link = vec![0u64; caps.len()];
            let mut total = 0u64;
            let mut now = Time::ZERO;
            let mut pending: Vec<FlowId> = ids.clone();
            let mut steps = 0;
            while let Some((t, _)) = net.next_completion() {
                steps += 1;
                prop_assert!(steps <= 1_000);
                // Fail the next flow chosen for failure before the completion.
                let fail_at = Time(now.0 + gap_ns);
                let victim = pending.iter().copied().find(|id| fails[id.0 as usize]);
                let (id, moved) = if let (Some(v), true) = (victim, fail_at < t) {
                    now = fail_at;
                    (v, net.fail(now, v).unwrap())
                } else {
                    now = t;
                    let (id, moved) = net.complete(now).unwrap();
                    prop_assert_eq!(moved.0, flows[id.0 as usize].1);
                    (id, moved)
                };
                pending.retain(|&p| p != id);
                for &li in &flows[id.0 as usize].0 {
                    per_link[li as usize] += moved.0;
                }
                total += moved.0;
                let before: Vec<_> = pending.iter().map(|&p| net.rate(p)).collect();
                check_max_min(&net)?;
                net.rerate_all(now);
                let after: Vec<_> = pending.iter().map(|&p| net.rate(p)).collect();
                prop_assert_eq!(before, after);
            }
            prop_assert!(pending.is_empty());
            prop_assert_eq!((0..=255u8).map(|c| net.class_bytes(c)).sum::<u64>(), total);
            for (li, &b) in per_link.iter().enumerate() {
                prop_assert_eq!(net.link_bytes(LinkId(li as u32)), b);
            }
        }
    }
}
