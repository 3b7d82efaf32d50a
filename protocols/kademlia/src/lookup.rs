//! The iterative lookup, as a pure state machine.
//!
//! Modelled on rust-libp2p's `ClosestPeersIter`: every peer the lookup
//! knows is in one explicit [`PeerState`], the lookup itself is
//! [`LookupState::Iterating`], [`LookupState::Stalled`] or
//! [`LookupState::Finished`]. The caller asks [`Lookup::next`] what to do,
//! sends the RPCs it is told to, and reports answers, failures and timeouts
//! back. The lookup never sends, never reads a clock and never draws a
//! random number.
//!
//! It finishes when its [`Termination`] rule holds, when no peer is left
//! to contact and none is waited for, or when it has sent `rpcs_max`
//! requests. The rules:
//!
//! - [`Termination::KClosest`] (the paper's rule, and rust-libp2p's with
//!   `num_results = k`): the `k` closest peers it knows (ignoring those that
//!   failed) have all answered.
//! - [`Termination::ClosestAnswered`] (rust-libp2p's `ClosestPeersIter` with
//!   a `num_results` below `k`, and the BitTorrent DHTs' "closest nodes
//!   responded" stop, plus a grace period): the `n` closest peers it knows
//!   (ignoring those that failed) have all answered — so no closer peer is
//!   waited for or still to be contacted — and `wait` has passed since the
//!   last of them answered; or the paper's rule holds first. During the wait
//!   the lookup goes on as usual, so more of the k closest can answer.
//!   Both rules count answers in the same way: a lookup never ends before
//!   the closest peer it knows (that did not fail) has answered, unless it
//!   runs out of peers or requests.
//!
//! A peer whose RPC timed out becomes `Unresponsive`; it no longer occupies
//! one of the α slots. This implementation drops the RPC at its timeout, so
//! a late answer is not accepted (rust-libp2p accepts it).

use crate::key::{Distance, Key};
use sim_core::{Duration, NodeId, Time};

/// When a lookup may stop (see the [module documentation](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// The paper's rule: the `k` closest known peers have all answered.
    KClosest,
    /// The `n` closest known peers have all answered and `wait` has passed
    /// since the last of them did (or the paper's rule holds first).
    ClosestAnswered {
        /// How many of the closest known peers must have answered (1 to k).
        n: usize,
        /// Grace period after the last of them answered.
        wait: Duration,
    },
}

/// What the lookup knows about one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    /// Known, not asked yet.
    NotContacted,
    /// Asked at this time; no answer yet.
    Waiting(Time),
    /// Answered at this time.
    Succeeded(Time),
    /// Answered with something unusable, or could not be asked.
    Failed(Time),
    /// Did not answer before the RPC timeout.
    Unresponsive(Time),
}

impl PeerState {
    /// When the peer reached a final state, if it has.
    pub fn resolved_at(&self) -> Option<Time> {
        match *self {
            PeerState::Succeeded(t) | PeerState::Failed(t) | PeerState::Unresponsive(t) => Some(t),
            _ => None,
        }
    }
}

/// One peer of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupPeer {
    /// Address.
    pub node: NodeId,
    /// Distance to the target.
    pub distance: Distance,
    /// Hop depth: 0 for peers the lookup started with, `d + 1` for peers
    /// learned from a peer of depth `d`.
    pub depth: u8,
    /// State.
    pub state: PeerState,
}

/// The lookup's own state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupState {
    /// Progressing: at most α requests in flight. `no_progress` counts
    /// answers in a row that brought no peer closer than the closest known.
    Iterating {
        /// Answers without progress in a row.
        no_progress: usize,
    },
    /// α answers in a row brought nothing closer: up to k requests in
    /// flight, to finish quickly.
    Stalled,
    /// Done.
    Finished,
}

/// What the caller should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupAction {
    /// Send a request to this peer (it is now `Waiting`).
    Contact(NodeId),
    /// Nothing to send now; wait for answers or timeouts.
    Wait,
    /// The lookup is over.
    Finished,
}

/// An iterative lookup for the peers closest to a target.
#[derive(Debug, Clone)]
pub struct Lookup {
    target: Key,
    k: usize,
    alpha: usize,
    peers_max: usize,
    rpcs_max: u32,
    rpcs: u32,
    state: LookupState,
    /// Sorted by distance, closest first.
    peers: Vec<LookupPeer>,
    /// How many of `peers` are `Waiting` (kept with every change of state,
    /// so that [`Lookup::next`] need not count them).
    waiting: usize,
    /// [`Lookup::next`] returned `Wait` and nothing was reported since, so
    /// it would return `Wait` again (the caller asks every operation after
    /// every input; this makes asking an idle lookup O(1)) until `wake`.
    idle: bool,
    termination: Termination,
    /// When the termination rule's wait ends, if it is running.
    wake: Option<Time>,
    /// A bit per hash of every address ever inserted (never cleared): a
    /// clear bit proves a peer new without scanning the list.
    seen: [u64; 16],
}

/// The bit of `node` in [`Lookup`]'s `seen` filter: word and mask.
#[inline]
fn seen_bit(node: NodeId) -> (usize, u64) {
    let h = node.0.wrapping_mul(0x9e37_79b1) >> 22;
    ((h >> 6) as usize, 1u64 << (h & 63))
}

/// The order of `p` against `key` by (distance, address), as the tuples
/// compare, deciding on the distances' first words when they differ (they
/// nearly always do): the bisections of every insert compare this way.
#[inline]
fn by_distance(p: &LookupPeer, key: &(Distance, NodeId)) -> std::cmp::Ordering {
    let (a, b) = (p.distance.0[0], key.0.0[0]);
    if a != b {
        a.cmp(&b)
    } else {
        (p.distance, p.node).cmp(key)
    }
}

impl Lookup {
    /// A lookup for `target` starting from `seeds` (peer, distance), all at
    /// depth 0.
    pub fn new(
        target: Key,
        k: usize,
        alpha: usize,
        peers_max: usize,
        rpcs_max: u32,
        seeds: impl IntoIterator<Item = (Distance, NodeId)>,
    ) -> Lookup {
        let mut l = Lookup {
            target,
            k: k.max(1),
            alpha: alpha.max(1),
            peers_max: peers_max.max(k.max(1)),
            rpcs_max,
            rpcs: 0,
            state: LookupState::Iterating { no_progress: 0 },
            peers: Vec::new(),
            waiting: 0,
            idle: false,
            termination: Termination::KClosest,
            wake: None,
            seen: [0; 16],
        };
        for (d, n) in seeds {
            l.insert(n, d, 0);
        }
        l
    }

    /// Use `t` as the termination rule (the default is
    /// [`Termination::KClosest`]). `n` is clamped to `1..=k`.
    pub fn with_termination(mut self, t: Termination) -> Lookup {
        self.termination = match t {
            Termination::KClosest => t,
            Termination::ClosestAnswered { n, wait } => Termination::ClosestAnswered {
                n: n.clamp(1, self.k),
                wait,
            },
        };
        self
    }

    /// The termination rule.
    pub fn termination(&self) -> Termination {
        self.termination
    }

    /// When the lookup should be asked [`Lookup::next`] again even if
    /// nothing is reported: the end of the termination rule's wait, while
    /// it runs (None otherwise).
    pub fn wake_at(&self) -> Option<Time> {
        if self.state == LookupState::Finished {
            None
        } else {
            self.wake
        }
    }

    /// The target.
    pub fn target(&self) -> &Key {
        &self.target
    }
    /// The state.
    pub fn state(&self) -> LookupState {
        self.state
    }
    /// The peers, closest first.
    pub fn peers(&self) -> &[LookupPeer] {
        &self.peers
    }
    /// Requests sent.
    pub fn rpcs(&self) -> u32 {
        self.rpcs
    }
    /// Whether the request budget ran out before the lookup converged.
    pub fn exhausted(&self) -> bool {
        self.rpcs >= self.rpcs_max
    }

    /// Insert a peer; returns whether it became the closest known.
    fn insert(&mut self, node: NodeId, distance: Distance, depth: u8) -> bool {
        let key = (distance, node);
        // A full list keeps nothing past its farthest peer: skip the search
        // (it would give a position at or past `peers_max`).
        if self.peers.len() >= self.peers_max
            && self
                .peers
                .last()
                .is_some_and(|p| (p.distance, p.node) < key)
        {
            return false;
        }
        match self.peers.binary_search_by(|p| by_distance(p, &key)) {
            Ok(_) => false,
            Err(pos) => {
                if pos >= self.peers_max {
                    return false;
                }
                let (w, bit) = seen_bit(node);
                if self.seen[w] & bit != 0 && self.peers.iter().any(|p| p.node == node) {
                    return false;
                }
                self.seen[w] |= bit;
                // A full list drops its farthest peer to make room (the
                // new one is closer, `pos < peers_max`), so the list never
                // holds more than `peers_max` and its buffer grows to
                // `peers_max` at most, not to the next power of two.
                if self.peers.len() >= self.peers_max
                    && let Some(p) = self.peers.pop()
                    && matches!(p.state, PeerState::Waiting(_))
                {
                    self.waiting -= 1;
                }
                if self.peers.len() == self.peers.capacity() {
                    let cap = (self.peers.capacity() * 2).max(4).min(self.peers_max);
                    self.peers.reserve_exact(cap - self.peers.len());
                }
                self.peers.insert(
                    pos,
                    LookupPeer {
                        node,
                        distance,
                        depth,
                        state: PeerState::NotContacted,
                    },
                );
                pos == 0
            }
        }
    }

    fn position(&self, node: NodeId) -> Option<usize> {
        self.peers.iter().position(|p| p.node == node)
    }

    /// [`Lookup::position`] of a peer whose distance is known: a bisection
    /// instead of a scan of up to `peers_max` entries. A peer is in the
    /// list at most once, so both find the same entry.
    fn position_at(&self, node: NodeId, distance: &Distance) -> Option<usize> {
        let key = (*distance, node);
        let r = self.peers.binary_search_by(|p| by_distance(p, &key)).ok();
        debug_assert_eq!(r, self.position(node));
        r
    }

    /// `node` answered at `now` with `closer` peers (distance, address).
    /// Peers it names are added one hop deeper than it.
    pub fn on_success(
        &mut self,
        node: NodeId,
        now: Time,
        closer: impl IntoIterator<Item = (Distance, NodeId)>,
    ) {
        self.on_success_from(node, None, now, closer);
    }

    /// [`Lookup::on_success`] for a peer at `distance` from the target
    /// (found by bisection). The distance must be the one the peer was
    /// inserted with.
    pub fn on_success_at(
        &mut self,
        node: NodeId,
        distance: &Distance,
        now: Time,
        closer: impl IntoIterator<Item = (Distance, NodeId)>,
    ) {
        self.on_success_from(node, Some(distance), now, closer);
    }

    fn on_success_from(
        &mut self,
        node: NodeId,
        distance: Option<&Distance>,
        now: Time,
        closer: impl IntoIterator<Item = (Distance, NodeId)>,
    ) {
        self.idle = false;
        if self.state == LookupState::Finished {
            return;
        }
        let found = match distance {
            Some(d) => self.position_at(node, d),
            None => self.position(node),
        };
        let Some(i) = found else {
            return;
        };
        if !matches!(self.peers[i].state, PeerState::Waiting(_)) {
            return;
        }
        self.peers[i].state = PeerState::Succeeded(now);
        self.waiting -= 1;
        let depth = self.peers[i].depth.saturating_add(1);
        let mut progress = false;
        for (d, n) in closer {
            progress |= self.insert(n, d, depth);
        }
        self.state = match (self.state, progress) {
            (_, true) => LookupState::Iterating { no_progress: 0 },
            (LookupState::Iterating { no_progress }, false) => {
                if no_progress + 1 >= self.alpha {
                    LookupState::Stalled
                } else {
                    LookupState::Iterating {
                        no_progress: no_progress + 1,
                    }
                }
            }
            (s, false) => s,
        };
    }

    /// `node` answered unusably, or could not be asked.
    pub fn on_failure(&mut self, node: NodeId, now: Time) {
        self.idle = false;
        if let Some(i) = self.position(node)
            && matches!(
                self.peers[i].state,
                PeerState::Waiting(_) | PeerState::NotContacted
            )
        {
            if matches!(self.peers[i].state, PeerState::Waiting(_)) {
                self.waiting -= 1;
            }
            self.peers[i].state = PeerState::Failed(now);
        }
    }

    /// `node`'s RPC timed out.
    pub fn on_timeout(&mut self, node: NodeId, now: Time) {
        self.idle = false;
        if let Some(i) = self.position(node)
            && matches!(self.peers[i].state, PeerState::Waiting(_))
        {
            self.peers[i].state = PeerState::Unresponsive(now);
            self.waiting -= 1;
        }
    }

    /// What to do next. Call repeatedly until it returns `Wait` or
    /// `Finished`; each `Contact` marks the peer `Waiting` at `now`. With
    /// [`Termination::ClosestAnswered`], call it again at
    /// [`Lookup::wake_at`] even if nothing was reported.
    pub fn next(&mut self, now: Time) -> LookupAction {
        if self.state == LookupState::Finished {
            return LookupAction::Finished;
        }
        if self.idle && self.wake.is_none_or(|w| now < w) {
            return LookupAction::Wait;
        }
        self.idle = false;
        // The closest known peers that answered, counted up to the first
        // one still waited for or not contacted (a closer peer still
        // waited for means the closest are not settled yet, as in
        // rust-libp2p); those that failed are skipped.
        let mut succeeded = 0usize;
        let mut last_answer = Time::ZERO;
        let need = match self.termination {
            Termination::KClosest => self.k,
            Termination::ClosestAnswered { n, .. } => n,
        };
        self.wake = None;
        for p in &self.peers {
            match p.state {
                PeerState::Waiting(_) | PeerState::NotContacted => break,
                PeerState::Succeeded(t) => {
                    succeeded += 1;
                    if succeeded <= need {
                        last_answer = last_answer.max(t);
                    }
                    if succeeded >= self.k {
                        break;
                    }
                }
                PeerState::Failed(_) | PeerState::Unresponsive(_) => {}
            }
        }
        if succeeded >= self.k {
            self.state = LookupState::Finished;
            return LookupAction::Finished;
        }
        if let Termination::ClosestAnswered { wait, .. } = self.termination
            && succeeded >= need
        {
            let due = last_answer.saturating_add(wait);
            if now >= due {
                self.state = LookupState::Finished;
                return LookupAction::Finished;
            }
            self.wake = Some(due);
        }
        let parallelism = match self.state {
            LookupState::Stalled => self.k,
            _ => self.alpha,
        };
        let waiting = self.waiting;
        debug_assert_eq!(
            waiting,
            self.peers
                .iter()
                .filter(|p| matches!(p.state, PeerState::Waiting(_)))
                .count()
        );
        if waiting >= parallelism {
            // Whether or not a peer is left to contact, the lookup waits
            // (the branches below would both say so): skip the scan.
            self.idle = true;
            return LookupAction::Wait;
        }
        if let Some(i) = self
            .peers
            .iter()
            .position(|p| p.state == PeerState::NotContacted)
            && self.rpcs < self.rpcs_max
        {
            if waiting < parallelism {
                self.peers[i].state = PeerState::Waiting(now);
                self.waiting += 1;
                self.rpcs += 1;
                return LookupAction::Contact(self.peers[i].node);
            }
            self.idle = true;
            return LookupAction::Wait;
        }
        if waiting > 0 {
            self.idle = true;
            LookupAction::Wait
        } else {
            self.state = LookupState::Finished;
            LookupAction::Finished
        }
    }

    /// The up to `k` closest peers that answered, closest first.
    pub fn result(&self) -> impl Iterator<Item = &LookupPeer> + '_ {
        self.peers
            .iter()
            .filter(|p| matches!(p.state, PeerState::Succeeded(_)))
            .take(self.k)
    }

    /// Force the lookup to finish (the operation was cancelled).
    pub fn finish(&mut self) {
        self.state = LookupState::Finished;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(v: u64) -> Distance {
        Distance([v, 0, 0, 0])
    }

    /// A toy network: node n is at distance n from the target and knows
    /// the nodes at distances n/2 .. n/2 + fanout.
    fn run_toy(n_start: u64, k: usize, alpha: usize, dead: &[u64]) -> (Vec<u64>, Lookup) {
        run_toy_with(n_start, k, alpha, dead, Termination::KClosest)
    }

    fn run_toy_with(
        n_start: u64,
        k: usize,
        alpha: usize,
        dead: &[u64],
        t: Termination,
    ) -> (Vec<u64>, Lookup) {
        let mut l = Lookup::new(
            Key::zero(160),
            k,
            alpha,
            64,
            1000,
            [(d(n_start), NodeId(n_start as u32))],
        )
        .with_termination(t);
        let mut now = 0u64;
        let mut inflight: Vec<NodeId> = Vec::new();
        for _ in 0..10_000 {
            loop {
                match l.next(Time(now)) {
                    LookupAction::Contact(n) => inflight.push(n),
                    LookupAction::Wait => break,
                    LookupAction::Finished => {
                        let r = l.result().map(|p| p.distance.0[0]).collect();
                        return (r, l);
                    }
                }
            }
            now += 1;
            let n = inflight.remove(0);
            let v = n.0 as u64;
            if dead.contains(&v) {
                l.on_timeout(n, Time(now));
            } else {
                let closer: Vec<_> = (v / 2..v / 2 + 4)
                    .map(|x| (d(x), NodeId(x as u32)))
                    .collect();
                l.on_success(n, Time(now), closer);
            }
        }
        panic!("toy lookup did not finish");
    }

    #[test]
    fn toy_lookup_finds_the_closest_and_skips_dead_peers() {
        let (r, l) = run_toy(1000, 3, 3, &[]);
        assert_eq!(r, vec![0, 1, 2]);
        assert_eq!(l.state(), LookupState::Finished);
        // Node 0 is known only to node 1 (and itself): with 1 dead it is
        // unreachable, and the result is the next three.
        let (r, l) = run_toy(1000, 3, 3, &[1]);
        assert_eq!(r, vec![2, 3, 4]);
        assert!(matches!(l.peers()[0].state, PeerState::Unresponsive(_)));
    }

    #[test]
    fn closest_answered_stops_once_the_closest_has_answered() {
        let rule = Termination::ClosestAnswered {
            n: 1,
            wait: Duration::ZERO,
        };
        let (full, lf) = run_toy(1000, 8, 3, &[]);
        let (r, l) = run_toy_with(1000, 8, 3, &[], rule);
        // The same closest node, with no more requests.
        assert_eq!(r[0], full[0]);
        assert_eq!(r[0], 0);
        assert!(l.rpcs() <= lf.rpcs(), "{} vs {}", l.rpcs(), lf.rpcs());
        assert!(matches!(l.peers()[0].state, PeerState::Succeeded(_)));
        // A dead closest peer is skipped as by the paper's rule.
        let (r, l) = run_toy_with(1000, 8, 3, &[1], rule);
        assert_eq!(r[0], 2);
        assert!(matches!(l.peers()[0].state, PeerState::Unresponsive(_)));
    }

    #[test]
    fn closest_answered_waits_its_grace_period_and_asks_to_be_woken() {
        let wait = Duration(10);
        let mut l = Lookup::new(
            Key::zero(160),
            4,
            1,
            64,
            1000,
            [(d(5), NodeId(5)), (d(9), NodeId(9))],
        )
        .with_termination(Termination::ClosestAnswered { n: 1, wait });
        assert_eq!(l.next(Time(0)), LookupAction::Contact(NodeId(5)));
        assert_eq!(l.next(Time(0)), LookupAction::Wait);
        assert_eq!(l.wake_at(), None);
        // The closest answers with nothing closer: the grace period runs.
        l.on_success(NodeId(5), Time(3), []);
        assert_eq!(l.next(Time(3)), LookupAction::Contact(NodeId(9)));
        assert_eq!(l.next(Time(3)), LookupAction::Wait);
        assert_eq!(l.wake_at(), Some(Time(13)));
        // Asked again before the end of the wait (idle), it still waits;
        // at the end it finishes although 9 has not answered.
        assert_eq!(l.next(Time(12)), LookupAction::Wait);
        assert_eq!(l.next(Time(13)), LookupAction::Finished);
        assert_eq!(l.wake_at(), None);
        assert_eq!(l.result().map(|p| p.node).collect::<Vec<_>>(), [NodeId(5)]);

        // A closer peer learned during the wait is asked, and the wait
        // restarts from its answer.
        let seeds = [(d(5), NodeId(5)), (d(9), NodeId(9)), (d(30), NodeId(30))];
        let mut l = Lookup::new(Key::zero(160), 4, 3, 64, 1000, seeds)
            .with_termination(Termination::ClosestAnswered { n: 1, wait });
        assert_eq!(l.next(Time(0)), LookupAction::Contact(NodeId(5)));
        assert_eq!(l.next(Time(0)), LookupAction::Contact(NodeId(9)));
        assert_eq!(l.next(Time(0)), LookupAction::Contact(NodeId(30)));
        l.on_success(NodeId(5), Time(1), []);
        assert_eq!(l.next(Time(1)), LookupAction::Wait);
        assert_eq!(l.wake_at(), Some(Time(11)));
        l.on_success(NodeId(9), Time(2), [(d(2), NodeId(2))]);
        assert_eq!(l.next(Time(2)), LookupAction::Contact(NodeId(2)));
        assert_eq!(l.wake_at(), None);
        assert_eq!(l.next(Time(11)), LookupAction::Wait);
        l.on_success(NodeId(2), Time(12), []);
        assert_eq!(l.next(Time(12)), LookupAction::Wait);
        assert_eq!(l.wake_at(), Some(Time(22)));
        assert_eq!(l.next(Time(21)), LookupAction::Wait);
        assert_eq!(l.next(Time(22)), LookupAction::Finished);
        // With nothing left to wait for, it finishes at once.
        let mut l = Lookup::new(Key::zero(160), 4, 1, 64, 1000, [(d(5), NodeId(5))])
            .with_termination(Termination::ClosestAnswered { n: 1, wait });
        assert_eq!(l.next(Time(0)), LookupAction::Contact(NodeId(5)));
        l.on_success(NodeId(5), Time(1), []);
        assert_eq!(l.next(Time(1)), LookupAction::Finished);
    }

    fn termination_strategy() -> impl Strategy<Value = Termination> {
        prop_oneof![
            Just(Termination::KClosest),
            (1usize..8, 0u64..6).prop_map(|(n, w)| Termination::ClosestAnswered {
                n,
                wait: Duration(w)
            }),
        ]
    }

    proptest! {
        /// Whatever the answers and the termination rule, a lookup that
        /// finishes with requests to spare has heard from the closest peer
        /// it knows that did not fail, none closer is still waited for,
        /// and with `ClosestAnswered` it finished no earlier than `wait`
        /// after the `n` closest answered (unless the paper's rule held
        /// first, or nothing was left to wait for).
        #[test]
        fn no_rule_stops_before_the_closest_known_answered(
            seeds in proptest::collection::vec(1u64..1_000_000, 1..30),
            answers in proptest::collection::vec((0u8..3, 0u8..4, proptest::collection::vec(0u64..1_000_000, 0..8)), 0..300),
            k in 1usize..8, alpha in 1usize..4,
            rule in termination_strategy(),
        ) {
            let mut l = Lookup::new(Key::zero(160), k, alpha, 32, 1000,
                seeds.iter().map(|&s| (d(s), NodeId(s as u32)))).with_termination(rule);
            let mut inflight: Vec<NodeId> = Vec::new();
            let mut it = answers.into_iter();
            let mut now = 0u64;
            let mut finished = false;
            for _ in 0..2000 {
                loop {
                    match l.next(Time(now)) {
                        LookupAction::Contact(n) => inflight.push(n),
                        LookupAction::Wait => break,
                        LookupAction::Finished => { finished = true; break; }
                    }
                }
                if finished { break; }
                prop_assert!(l.wake_at().is_none_or(|w| w > Time(now)));
                // Answers come 1 to 4 ticks apart; the wake-up may come first.
                let (kind, gap, closer) = it.next().unwrap_or((2, 1, Vec::new()));
                let t = now + 1 + gap as u64;
                if let Some(w) = l.wake_at() && w < Time(t) {
                    now = w.0;
                    continue;
                }
                now = t;
                let n = inflight.remove(0);
                match kind {
                    0 | 1 => l.on_success(n, Time(now),
                        closer.into_iter().map(|c| (d(c), NodeId(c as u32)))),
                    _ => l.on_timeout(n, Time(now)),
                }
            }
            prop_assert!(finished);
            let ps = l.peers();
            let live: Vec<&LookupPeer> = ps.iter()
                .filter(|p| !matches!(p.state, PeerState::Failed(_) | PeerState::Unresponsive(_)))
                .collect();
            if let Some(first) = live.first() {
                prop_assert!(matches!(first.state, PeerState::Succeeded(_)), "{:?}", ps);
            }
            if let Termination::ClosestAnswered { n, wait } = l.termination() {
                let settled = live.iter().take_while(|p| matches!(p.state, PeerState::Succeeded(_))).count();
                let waited_for = live.iter().any(|p| matches!(p.state, PeerState::Waiting(_)));
                if settled < k && waited_for {
                    let last = live.iter().take(n).filter_map(|p| p.state.resolved_at()).max().unwrap();
                    prop_assert!(Time(now) >= last + wait);
                }
            }
        }

        /// The peer list keeps the `peers_max` closest distinct peers it
        /// was given, sorted, in a buffer of at most `peers_max` entries.
        #[test]
        fn the_peer_list_keeps_the_closest_in_a_bounded_buffer(
            seeds in proptest::collection::vec(1u64..1_000, 1..30),
            answers in proptest::collection::vec(proptest::collection::vec(1u64..1_000, 0..25), 0..20),
            peers_max in 1usize..50,
        ) {
            let k = peers_max.min(4);
            let mut l = Lookup::new(Key::zero(160), k, 3, peers_max, 1000,
                seeds.iter().map(|&s| (d(s), NodeId(s as u32))));
            let mut all: Vec<u64> = seeds.clone();
            for closer in answers {
                let LookupAction::Contact(n) = l.next(Time(0)) else { break };
                l.on_success(n, Time(1), closer.iter().map(|&c| (d(c), NodeId(c as u32))));
                all.extend(closer);
                prop_assert!(l.peers.capacity() <= l.peers_max);
            }
            all.sort_unstable();
            all.dedup();
            let got: Vec<u64> = l.peers().iter().map(|p| u64::from(p.node.0)).collect();
            prop_assert!(got.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(got.len() <= l.peers_max);
            // Every kept peer was given, and nothing closer than the
            // farthest kept peer is missing.
            if let Some(&far) = got.last() {
                let expect: Vec<u64> = all.iter().copied().take_while(|&x| x <= far).collect();
                prop_assert_eq!(&got, &expect);
            }
        }

        /// Peers given with any distances (the same address may come with
        /// two) are kept as by a plain scan for duplicates: the filter that
        /// spares the scan changes nothing.
        #[test]
        fn the_seen_filter_keeps_the_peers_of_a_plain_scan(
            given in proptest::collection::vec((0u32..3_000, 0u64..64), 1..400),
            peers_max in 1usize..200,
        ) {
            let mut reference: Vec<(Distance, NodeId)> = Vec::new();
            for &(n, dist) in &given {
                let key = (d(dist), NodeId(n));
                if reference.len() >= peers_max && reference.last().is_some_and(|l| *l < key) {
                    continue;
                }
                let Err(pos) = reference.binary_search(&key) else { continue };
                if pos >= peers_max || reference.iter().any(|p| p.1 == key.1) {
                    continue;
                }
                if reference.len() >= peers_max {
                    reference.pop();
                }
                reference.insert(pos, key);
            }
            let l = Lookup::new(Key::zero(160), 1, 3, peers_max, 1000,
                given.iter().map(|&(n, dist)| (d(dist), NodeId(n))));
            let got: Vec<(Distance, NodeId)> = l.peers().iter().map(|p| (p.distance, p.node)).collect();
            prop_assert_eq!(got, reference);
        }

        /// Whatever the answers, the lookup finishes within its request
        /// budget, never has more than k requests in flight, its peers stay
        /// sorted and distinct, the result is the closest answered peers,
        /// and an idle lookup asked again would wait.
        #[test]
        fn lookup_invariants(
            seeds in proptest::collection::vec(1u64..1_000_000, 1..30),
            answers in proptest::collection::vec((0u8..3, proptest::collection::vec(0u64..1_000_000, 0..8)), 0..300),
            k in 1usize..8, alpha in 1usize..4,
        ) {
            let rpcs_max = 40;
            let mut l = Lookup::new(Key::zero(160), k, alpha, 32, rpcs_max,
                seeds.iter().map(|&s| (d(s), NodeId(s as u32))));
            let mut inflight: Vec<NodeId> = Vec::new();
            let mut it = answers.into_iter();
            let mut now = 0;
            let mut finished = false;
            for _ in 0..1000 {
                loop {
                    match l.next(Time(now)) {
                        LookupAction::Contact(n) => inflight.push(n),
                        LookupAction::Wait => break,
                        LookupAction::Finished => { finished = true; break; }
                    }
                }
                if finished { break; }
                // The idle shortcut answers what the full evaluation would.
                let mut full = l.clone();
                full.idle = false;
                prop_assert_eq!(full.next(Time(now)), LookupAction::Wait);
                let waiting = l.peers().iter().filter(|p| matches!(p.state, PeerState::Waiting(_))).count();
                prop_assert!(waiting <= k.max(alpha));
                prop_assert!(l.peers.len() <= 32 && l.peers.capacity() <= 32);
                prop_assert!(!inflight.is_empty(), "waits with nothing in flight");
                now += 1;
                let n = inflight.remove(0);
                match it.next() {
                    Some((0, closer)) | Some((1, closer)) => l.on_success(n, Time(now),
                        closer.into_iter().map(|c| (d(c), NodeId(c as u32)))),
                    Some((_, _)) => l.on_timeout(n, Time(now)),
                    None => l.on_failure(n, Time(now)),
                }
            }
            prop_assert!(finished);
            prop_assert!(l.rpcs() <= rpcs_max);
            let ps = l.peers();
            prop_assert!(ps.windows(2).all(|w| w[0].distance < w[1].distance));
            let res: Vec<_> = l.result().map(|p| p.node).collect();
            let mut ok: Vec<_> = ps.iter().filter(|p| matches!(p.state, PeerState::Succeeded(_))).map(|p| p.node).collect();
            ok.truncate(k);
            prop_assert_eq!(res, ok);
        }
    }
}
