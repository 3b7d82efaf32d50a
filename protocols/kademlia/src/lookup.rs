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
//! It finishes when the `k` closest peers it knows (ignoring those that
//! failed) have all answered, when no peer is left to contact and none is
//! waited for, or when it has sent `rpcs_max` requests.
//!
//! A peer whose RPC timed out becomes `Unresponsive`; it no longer occupies
//! one of the α slots. This implementation drops the RPC at its timeout, so
//! a late answer is not accepted (rust-libp2p accepts it).

use crate::key::{Distance, Key};
use sim_core::{NodeId, Time};

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
    /// [`Lookup::next`] returned `Wait` and nothing was reported since, so
    /// it would return `Wait` again (the caller asks every operation after
    /// every input; this makes asking an idle lookup O(1)).
    idle: bool,
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
            idle: false,
        };
        for (d, n) in seeds {
            l.insert(n, d, 0);
        }
        l
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
        match self
            .peers
            .binary_search_by(|p| (p.distance, p.node).cmp(&(distance, node)))
        {
            Ok(_) => false,
            Err(pos) => {
                if pos >= self.peers_max {
                    return false;
                }
                if self.peers.iter().any(|p| p.node == node) {
                    return false;
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
                if self.peers.len() > self.peers_max {
                    self.peers.pop();
                }
                pos == 0
            }
        }
    }

    fn position(&self, node: NodeId) -> Option<usize> {
        self.peers.iter().position(|p| p.node == node)
    }

    /// `node` answered at `now` with `closer` peers (distance, address).
    /// Peers it names are added one hop deeper than it.
    pub fn on_success(
        &mut self,
        node: NodeId,
        now: Time,
        closer: impl IntoIterator<Item = (Distance, NodeId)>,
    ) {
        self.idle = false;
        if self.state == LookupState::Finished {
            return;
        }
        let Some(i) = self.position(node) else {
            return;
        };
        if !matches!(self.peers[i].state, PeerState::Waiting(_)) {
            return;
        }
        self.peers[i].state = PeerState::Succeeded(now);
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
        }
    }

    /// What to do next. Call repeatedly until it returns `Wait` or
    /// `Finished`; each `Contact` marks the peer `Waiting` at `now`.
    pub fn next(&mut self, now: Time) -> LookupAction {
        if self.state == LookupState::Finished {
            return LookupAction::Finished;
        }
        if self.idle {
            return LookupAction::Wait;
        }
        let parallelism = match self.state {
            LookupState::Stalled => self.k,
            _ => self.alpha,
        };
        let waiting = self
            .peers
            .iter()
            .filter(|p| matches!(p.state, PeerState::Waiting(_)))
            .count();
        let mut succeeded = 0usize;
        // A closer peer still waited for means the k closest are not
        // settled yet (as in rust-libp2p).
        let mut settled = true;
        for i in 0..self.peers.len() {
            match self.peers[i].state {
                PeerState::Waiting(_) => settled = false,
                PeerState::Succeeded(_) if settled => {
                    succeeded += 1;
                    if succeeded >= self.k {
                        self.state = LookupState::Finished;
                        return LookupAction::Finished;
                    }
                }
                PeerState::NotContacted => {
                    if self.rpcs >= self.rpcs_max {
                        break;
                    }
                    if waiting < parallelism {
                        self.peers[i].state = PeerState::Waiting(now);
                        self.rpcs += 1;
                        return LookupAction::Contact(self.peers[i].node);
                    }
                    self.idle = true;
                    return LookupAction::Wait;
                }
                PeerState::Succeeded(_) | PeerState::Failed(_) | PeerState::Unresponsive(_) => {}
            }
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
        let mut l = Lookup::new(
            Key::zero(160),
            k,
            alpha,
            64,
            1000,
            [(d(n_start), NodeId(n_start as u32))],
        );
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

    proptest! {
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
