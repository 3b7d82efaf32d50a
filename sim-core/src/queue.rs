//! The event queue: a monotone radix heap with FIFO order among equal times.
//!
//! # Ordering guarantee
//! Events pop in increasing `(time, sequence)` order, where the sequence is
//! the order in which they were pushed: two events scheduled for the same
//! instant run in the order they were scheduled. The sequence number is
//! implicit (insertion order), so it costs no memory.
//!
//! # Why a radix heap
//! A discrete-event simulation only ever schedules at or after the current
//! time, so keys popped are non-decreasing: a *monotone* queue suffices. The
//! radix heap (Ahuja, Mehlhorn, Orlin & Tarjan, 1990) files an event in bucket
//! `bit_length(time XOR last_popped)`; pops take bucket 0 and, when it is
//! empty, redistribute the lowest non-empty bucket. Each event moves down at
//! most 64 times, and buckets are plain vectors scanned sequentially, which
//! keeps the queue fast when it holds millions of events (a binary heap
//! misses the cache on every level there).
//!
//! # Why FIFO holds
//! Every bucket is kept in push order: a bucket is refilled by redistribution
//! only while all lower buckets are empty, redistribution preserves order,
//! and later pushes append. Bucket 0 holds only events at `last` and is
//! popped from the front. Events with equal times always share a bucket, so
//! they leave in push order. A property test checks this against a
//! `BTreeMap<(time, seq), _>` reference.
//!
//! ```
//! use sim_core::queue::EventQueue;
//! let mut q = EventQueue::new();
//! q.push(5, 'a').unwrap();
//! q.push(3, 'b').unwrap();
//! q.push(5, 'c').unwrap();
//! assert_eq!(q.pop(), Some((3, 'b')));
//! assert_eq!(q.pop(), Some((5, 'a')));
//! assert_eq!(q.pop(), Some((5, 'c')));
//! assert!(q.push(4, 'd').is_err()); // earlier than the last popped time
//! ```

use std::collections::VecDeque;

/// Scheduling an event before the last popped time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("event scheduled in the past: at {at} ns, but the queue is at {now} ns")]
pub struct PastError {
    /// The requested time.
    pub at: u64,
    /// The time of the last popped event.
    pub now: u64,
}

/// A monotone priority queue of `(time, event)` with FIFO order among equal
/// times. See the module documentation for the guarantee.
pub struct EventQueue<E> {
    last: u64,
    len: usize,
    peak: usize,
    /// Events at exactly `last`, in push order.
    head: VecDeque<(u64, E)>,
    /// `buckets[i - 1]` holds events whose time differs from `last` first in
    /// bit `i - 1` (so `i` in 1..=64).
    buckets: Vec<Vec<(u64, E)>>,
    /// Bit `i - 1` set when `buckets[i - 1]` is non-empty.
    nonempty: u64,
    /// Entries of capacity held by empty buckets (kept for reuse).
    spare: usize,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        EventQueue {
            last: 0,
            len: 0,
            peak: 0,
            head: VecDeque::new(),
            buckets: (0..64).map(|_| Vec::new()).collect(),
            nonempty: 0,
            spare: 0,
        }
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The largest number of events ever pending at once.
    pub fn peak_len(&self) -> usize {
        self.peak
    }
    /// The time of the last popped event (the queue's "now").
    pub fn last_time(&self) -> u64 {
        self.last
    }

    /// Schedule `ev` at `time`, which must not be before the last popped time.
    #[inline]
    pub fn push(&mut self, time: u64, ev: E) -> Result<(), PastError> {
        if time < self.last {
            return Err(PastError {
                at: time,
                now: self.last,
            });
        }
        self.push_unchecked(time, ev);
        Ok(())
    }

    #[inline]
    fn push_unchecked(&mut self, time: u64, ev: E) {
        let diff = time ^ self.last;
        if diff == 0 {
            self.head.push_back((time, ev));
        } else {
            let b = 63 - diff.leading_zeros() as usize;
            self.fill(b, (time, ev));
        }
        self.len += 1;
        if self.len > self.peak {
            self.peak = self.len;
        }
    }

    /// Move the lowest non-empty bucket down so that `head` holds the
    /// earliest events, unless they are later than `bound` (then nothing
    /// changes, so `last` never runs ahead of the caller's clock). Returns
    /// false when no event at or before `bound` is pending.
    #[inline]
    fn refill(&mut self, bound: u64) -> bool {
        if let Some((t, _)) = self.head.front() {
            return *t <= bound;
        }
        if self.nonempty == 0 {
            return false;
        }
        let b = self.nonempty.trailing_zeros() as usize;
        let min = self.buckets[b]
            .iter()
            .map(|(t, _)| *t)
            .min()
            .expect("non-empty bucket");
        if min > bound {
            return false;
        }
        let mut bucket = std::mem::take(&mut self.buckets[b]);
        self.nonempty &= !(1 << b);
        self.last = min;
        for (t, e) in bucket.drain(..) {
            let diff = t ^ min;
            if diff == 0 {
                self.head.push_back((t, e));
            } else {
                let nb = 63 - diff.leading_zeros() as usize;
                debug_assert!(nb < b);
                self.fill(nb, (t, e));
            }
        }
        // Keep the allocation for reuse while the empty buckets' buffers
        // add up to no more than the events pending (or it is small); free
        // it otherwise. Events move from bucket to bucket as time advances,
        // so buffers all kept at their largest size added up to several
        // times the events pending (five to eight times, with 10^5 of them
        // pending: most of a run's memory).
        let cap = bucket.capacity();
        if cap <= Self::KEEP || self.spare + cap <= self.len {
            self.spare += cap;
            self.buckets[b] = bucket;
        }
        true
    }

    /// Append to bucket `b`; an empty bucket's buffer stops being spare.
    #[inline]
    fn fill(&mut self, b: usize, item: (u64, E)) {
        if self.nonempty & (1 << b) == 0 {
            self.spare -= self.buckets[b].capacity();
            self.nonempty |= 1 << b;
        }
        self.buckets[b].push(item);
    }

    /// Entries of the largest buffer a drained bucket keeps (64 KiB).
    const KEEP: usize = {
        match 65_536usize.checked_div(std::mem::size_of::<(u64, E)>()) {
            Some(n) if n >= 16 => n,
            Some(_) => 16,
            None => usize::MAX,
        }
    };

    /// The time of the earliest pending event (a scan of one bucket when
    /// the head is empty; does not change the queue).
    pub fn peek_time(&self) -> Option<u64> {
        if let Some((t, _)) = self.head.front() {
            return Some(*t);
        }
        if self.nonempty == 0 {
            return None;
        }
        let b = self.nonempty.trailing_zeros() as usize;
        self.buckets[b].iter().map(|(t, _)| *t).min()
    }

    /// Remove and return the earliest event (FIFO among equal times).
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, E)> {
        self.pop_until(u64::MAX)
    }

    /// Remove and return the earliest event if its time is at most `bound`.
    /// The queue's clock never moves past `bound`, so events may still be
    /// pushed at any time from the last popped one on.
    #[inline]
    pub fn pop_until(&mut self, bound: u64) -> Option<(u64, E)> {
        if !self.refill(bound) {
            return None;
        }
        let item = self.head.pop_front();
        if item.is_some() {
            self.len -= 1;
        }
        item
    }

    /// Keep only the events for which `keep` returns true, preserving order.
    /// Used to compact cancelled timers.
    pub fn retain(&mut self, mut keep: impl FnMut(&E) -> bool) {
        self.head.retain(|(_, e)| keep(e));
        let mut len = self.head.len();
        for (b, bucket) in self.buckets.iter_mut().enumerate() {
            let was_empty = bucket.is_empty();
            bucket.retain(|(_, e)| keep(e));
            if bucket.is_empty() && !was_empty {
                self.nonempty &= !(1 << b);
                self.spare += bucket.capacity();
            }
            len += bucket.len();
        }
        self.len = len;
    }

    /// Release spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.head.shrink_to_fit();
        for b in &mut self.buckets {
            b.shrink_to_fit();
        }
        // Empty buckets hold no buffer now.
        self.spare = 0;
    }

    /// Approximate heap bytes held by the queue (allocated capacity).
    pub fn heap_bytes(&self) -> usize {
        let item = std::mem::size_of::<(u64, E)>();
        self.head.capacity() * item
            + self
                .buckets
                .iter()
                .map(|b| b.capacity() * item)
                .sum::<usize>()
            + self.buckets.capacity() * std::mem::size_of::<Vec<(u64, E)>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    impl<E> EventQueue<E> {
        /// Capacity of the empty buckets' buffers, counted afresh.
        fn empty_capacity(&self) -> usize {
            self.buckets
                .iter()
                .filter(|b| b.is_empty())
                .map(|b| b.capacity())
                .sum()
        }
    }

    /// Hold model: 10^5 events pending, each popped one rescheduled up to
    /// 2^20 later. The buffers stay within a small multiple of the pending
    /// events (plus the kept small buffers), where keeping every drained
    /// bucket's buffer held several times more.
    #[test]
    fn buffers_stay_proportional_to_the_pending_events() {
        let live = 100_000usize;
        let mut q: EventQueue<[u64; 8]> = EventQueue::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..live {
            q.push(next() % (1 << 20), [0; 8]).unwrap();
        }
        let mut worst = 0;
        for _ in 0..1_000_000 {
            let (t, e) = q.pop().unwrap();
            q.push(t + 1 + next() % (1 << 20), e).unwrap();
            worst = worst.max(q.heap_bytes());
        }
        assert_eq!(q.spare, q.empty_capacity());
        let item = std::mem::size_of::<(u64, [u64; 8])>();
        let bound = 3 * live * item + 64 * EventQueue::<[u64; 8]>::KEEP * item;
        assert!(
            worst <= bound,
            "{worst} bytes held for {live} events of {item} bytes (bound {bound})"
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(u64),
        Pop,
        Retain(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            // Small offsets give many equal times; large ones exercise high buckets.
            4 => (0u64..4).prop_map(Op::Push),
            3 => (0u64..1_000).prop_map(Op::Push),
            1 => any::<u32>().prop_map(|x| Op::Push(x as u64 * 1_000_003)),
            5 => Just(Op::Pop),
            1 => (2u32..5).prop_map(Op::Retain),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// The radix heap pops exactly what a (time, seq)-ordered map pops.
        #[test]
        fn matches_reference_model(ops in prop::collection::vec(op(), 1..400)) {
            let mut q = EventQueue::new();
            let mut reference: BTreeMap<(u64, u64), u64> = BTreeMap::new();
            let mut seq = 0u64;
            let mut now = 0u64;
            for op in ops {
                match op {
                    Op::Push(offset) => {
                        let t = now.saturating_add(offset);
                        q.push(t, seq).unwrap();
                        reference.insert((t, seq), seq);
                        seq += 1;
                    }
                    Op::Pop => {
                        let want = reference.pop_first().map(|((t, _), v)| (t, v));
                        let got = q.pop();
                        prop_assert_eq!(got, want);
                        if let Some((t, _)) = got { now = t; }
                    }
                    Op::Retain(m) => {
                        q.retain(|v| v % m as u64 != 0);
                        reference.retain(|_, v| *v % m as u64 != 0);
                    }
                }
                prop_assert_eq!(q.len(), reference.len());
                prop_assert_eq!(q.spare, q.empty_capacity());
            }
            while let Some(want) = reference.pop_first() {
                prop_assert_eq!(q.pop(), Some((want.0.0, want.1)));
            }
            prop_assert_eq!(q.pop(), None);
        }
    }

    #[test]
    fn push_in_the_past_is_an_error_not_a_panic() {
        let mut q = EventQueue::new();
        q.push(10, ()).unwrap();
        q.pop();
        let e = q.push(9, ()).unwrap_err();
        assert_eq!(e, PastError { at: 9, now: 10 });
        assert!(e.to_string().contains("in the past"));
        q.push(10, ()).unwrap();
    }

    #[test]
    fn pop_until_does_not_advance_the_clock_past_its_bound() {
        let mut q = EventQueue::new();
        q.push(1_000, 'a').unwrap();
        assert_eq!(q.pop_until(10), None);
        assert_eq!(q.peek_time(), Some(1_000));
        // Still allowed: the clock stayed at 0.
        q.push(20, 'b').unwrap();
        assert_eq!(q.pop_until(500), Some((20, 'b')));
        assert_eq!(q.pop_until(500), None);
        q.push(600, 'c').unwrap();
        assert_eq!(q.pop(), Some((600, 'c')));
        assert_eq!(q.pop(), Some((1_000, 'a')));
    }

    #[test]
    fn peak_and_extreme_times() {
        let mut q = EventQueue::new();
        q.push(u64::MAX, 1).unwrap();
        q.push(0, 0).unwrap();
        q.push(u64::MAX, 2).unwrap();
        assert_eq!(q.peak_len(), 3);
        assert_eq!(q.peek_time(), Some(0));
        assert_eq!(q.pop(), Some((0, 0)));
        assert_eq!(q.pop(), Some((u64::MAX, 1)));
        assert_eq!(q.pop(), Some((u64::MAX, 2)));
        assert!(q.is_empty());
    }
}
