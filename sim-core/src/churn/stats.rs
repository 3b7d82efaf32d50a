//! What churn did: transition counts, session lengths, and the fraction of
//! nodes up over time.
//!
//! The engine feeds a [`SessionStats`] with each node's initial state and
//! every transition it applies. A node's own events must come in time order;
//! different nodes may be fed in any interleaving (the per-bin integrals are
//! sums over nodes, so the result does not depend on the order).
//!
//! Completed sessions are kept as [`Session`] records (32 bytes each, at most
//! `max_sessions`; later ones are only counted) so that an analysis can pick
//! which sessions to measure. [`SessionFilter::StartedIn`] keeps sessions
//! that *start* inside an observation window; [`SessionFilter::Overlapping`]
//! keeps every session seen in the window, including those already in
//! progress when it opens. The latter over-represents long sessions (a long
//! session is more likely to cover the window's start), the bias that
//! Stutzbach & Rejaie (IMC 2006) avoid by measuring only sessions that start
//! inside the window. Sessions still in progress at [`SessionStats::finish`]
//! are not recorded (their length is unknown).

use super::Transition;
use crate::units::{Duration, Time};

/// A completed up or down session of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// The node.
    pub node: u32,
    /// Whether this was an up session.
    pub up: bool,
    /// When it started (or when the node was first observed, see
    /// `start_known`).
    pub start: Time,
    /// When it ended.
    pub end: Time,
    /// False if the session was already in progress when the node was first
    /// observed, so `start` is only the first observation.
    pub start_known: bool,
}

impl Session {
    /// `end − start`.
    pub fn len(&self) -> Duration {
        self.end.since(self.start)
    }
    /// Whether the session has zero length.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Which sessions to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFilter {
    /// Every recorded session.
    All,
    /// Sessions whose (known) start lies in `[from, to)`: an unbiased sample
    /// of session lengths.
    StartedIn {
        /// Window start.
        from: Time,
        /// Window end (exclusive).
        to: Time,
    },
    /// Sessions that overlap `[from, to)`, including those in progress at
    /// `from` (length-biased).
    Overlapping {
        /// Window start.
        from: Time,
        /// Window end (exclusive).
        to: Time,
    },
}

impl SessionFilter {
    fn keeps(&self, s: &Session) -> bool {
        match *self {
            SessionFilter::All => true,
            SessionFilter::StartedIn { from, to } => {
                s.start_known && s.start >= from && s.start < to
            }
            SessionFilter::Overlapping { from, to } => s.start < to && s.end > from,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct NodeState {
    up: bool,
    since: Time,
    start_known: bool,
    present: bool,
}

/// Accumulates churn statistics (see the module docs).
#[derive(Debug, Clone)]
pub struct SessionStats {
    bin: Duration,
    horizon: Time,
    nodes: Vec<Option<NodeState>>,
    sessions: Vec<Session>,
    max_sessions: usize,
    sessions_dropped: u64,
    ups: u64,
    downs: u64,
    departures: u64,
    // Per bin: node-nanoseconds up and present.
    up_ns: Vec<u128>,
    present_ns: Vec<u128>,
}

impl SessionStats {
    /// Default cap on stored sessions (about 240 MB of records).
    pub const MAX_SESSIONS_DEFAULT: usize = 10_000_000;

    /// Statistics with time bins of width `bin` (> 0) covering `[0,
    /// horizon)` for the fraction up (time after `horizon` is not binned;
    /// session records are kept whatever their times).
    pub fn new(bin: Duration, horizon: Time) -> Self {
        assert!(
            bin.as_nanos() > 0,
            "SessionStats bin width must be positive"
        );
        SessionStats {
            bin,
            horizon,
            nodes: Vec::new(),
            sessions: Vec::new(),
            max_sessions: Self::MAX_SESSIONS_DEFAULT,
            sessions_dropped: 0,
            ups: 0,
            downs: 0,
            departures: 0,
            up_ns: Vec::new(),
            present_ns: Vec::new(),
        }
    }

    /// The same, keeping at most `max_sessions` session records.
    pub fn with_max_sessions(mut self, max_sessions: usize) -> Self {
        self.max_sessions = max_sessions;
        self
    }

    /// Node `node` is present from `at` in state `up`. `start_known` says
    /// whether its current session starts at `at` (a node that joins) or was
    /// already in progress (the initial state of a stationary start). A node
    /// seen again after a permanent departure is a new life of that id.
    pub fn node_state(&mut self, node: u32, at: Time, up: bool, start_known: bool) {
        let i = node as usize;
        if self.nodes.len() <= i {
            self.nodes.resize(i + 1, None);
        }
        if let Some(old) = self.nodes[i] {
            self.close(node, old, at, false);
        }
        self.nodes[i] = Some(NodeState {
            up,
            since: at,
            start_known,
            present: true,
        });
    }

    /// Node `node` made transition `t` at `at`. A transition to the state
    /// the node is already in is ignored, except a permanent departure while
    /// down, which ends the down session and the node's presence. Unknown or
    /// departed nodes are ignored.
    pub fn transition(&mut self, node: u32, at: Time, t: &Transition) {
        let Some(Some(st)) = self.nodes.get(node as usize).copied() else {
            return;
        };
        if !st.present {
            return;
        }
        if t.is_up() == st.up && !t.is_permanent() {
            return;
        }
        match t {
            Transition::Up => self.ups += 1,
            Transition::Down { permanent } => {
                if st.up {
                    self.downs += 1;
                }
                if *permanent {
                    self.departures += 1;
                }
            }
        }
        // A down session cut short by a permanent departure never ended on
        // its own: its length is censored, so it is not recorded.
        let completed = st.up || !t.is_permanent();
        self.close(node, st, at, completed);
        self.nodes[node as usize] = Some(NodeState {
            up: t.is_up(),
            since: at,
            start_known: true,
            present: !t.is_permanent(),
        });
    }

    /// Ends observation at `at`: integrates every present node up to `at`
    /// (at most the horizon).
    /// Sessions in progress are not recorded. Call once, at the end.
    pub fn finish(&mut self, at: Time) {
        for i in 0..self.nodes.len() {
            if let Some(st) = self.nodes[i] {
                self.close(i as u32, st, at, false);
                self.nodes[i] = Some(NodeState {
                    present: false,
                    ..st
                });
            }
        }
    }

    fn close(&mut self, node: u32, st: NodeState, at: Time, completed: bool) {
        if !st.present {
            return;
        }
        let end = at.min(self.horizon);
        add_interval(&mut self.present_ns, self.bin, st.since, end);
        if st.up {
            add_interval(&mut self.up_ns, self.bin, st.since, end);
        }
        if completed {
            if self.sessions.len() < self.max_sessions {
                self.sessions.push(Session {
                    node,
                    up: st.up,
                    start: st.since,
                    end: at,
                    start_known: st.start_known,
                });
            } else {
                self.sessions_dropped += 1;
            }
        }
    }

    /// Number of `Up` transitions.
    pub fn up_transitions(&self) -> u64 {
        self.ups
    }
    /// Number of up → down transitions (transient or permanent).
    pub fn down_transitions(&self) -> u64 {
        self.downs
    }
    /// Number of permanent departures.
    pub fn permanent_departures(&self) -> u64 {
        self.departures
    }
    /// Completed sessions, in the order they ended as fed.
    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }
    /// Sessions that completed after the `max_sessions` cap was reached.
    pub fn sessions_dropped(&self) -> u64 {
        self.sessions_dropped
    }
    /// Lengths of the up (`up = true`) or down sessions kept by `filter`.
    pub fn lengths(&self, up: bool, filter: SessionFilter) -> Vec<Duration> {
        self.sessions
            .iter()
            .filter(|s| s.up == up && filter.keeps(s))
            .map(Session::len)
            .collect()
    }
    /// The bin width.
    pub fn bin(&self) -> Duration {
        self.bin
    }
    /// Per bin `[i·bin, (i+1)·bin)`: the time-averaged fraction of present
    /// nodes that were up (`None` where no node was present).
    pub fn fraction_up(&self) -> Vec<Option<f64>> {
        self.present_ns
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let u = self.up_ns.get(i).copied().unwrap_or(0);
                (p > 0).then(|| u as f64 / p as f64)
            })
            .collect()
    }
}

/// Adds the interval `[from, to)` to per-bin node-nanosecond totals.
fn add_interval(acc: &mut Vec<u128>, bin: Duration, from: Time, to: Time) {
    let b = bin.as_nanos();
    let (mut t, end) = (from.as_nanos(), to.as_nanos());
    while t < end {
        let i = (t / b) as usize;
        let bin_end = (i as u64 + 1).saturating_mul(b).min(end);
        if acc.len() <= i {
            acc.resize(i + 1, 0);
        }
        acc[i] += u128::from(bin_end - t);
        t = bin_end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_stats_hand_fed_sequence() {
        let h = Duration::from_secs(3600);
        let mut s = SessionStats::new(h, Time(3 * 3_600 * 1_000_000_000));
        let at = |m: u64| Time(m * 60 * 1_000_000_000);
        // Node 0: up (in progress) at 0, down at 90 min, up at 120, finish at 180.
        s.node_state(0, at(0), true, false);
        s.transition(0, at(90), &Transition::Down { permanent: false });
        s.transition(0, at(120), &Transition::Up);
        // Node 1: down, joins at 30 min up, departs at 60 min.
        s.node_state(1, at(30), true, true);
        s.transition(1, at(60), &Transition::Down { permanent: true });
        // Node 2: down from 0 (in progress), departs while down at 30 min.
        s.node_state(2, at(0), false, false);
        s.transition(2, at(30), &Transition::Down { permanent: true });
        s.finish(at(180));

        assert_eq!(s.up_transitions(), 1);
        assert_eq!(s.down_transitions(), 2);
        assert_eq!(s.permanent_departures(), 2);
        let all_up = s.lengths(true, SessionFilter::All);
        assert_eq!(
            all_up,
            vec![Duration::from_secs(90 * 60), Duration::from_secs(30 * 60)]
        );
        let inside = s.lengths(
            true,
            SessionFilter::StartedIn {
                from: at(0),
                to: at(180),
            },
        );
        assert_eq!(inside, vec![Duration::from_secs(30 * 60)]);
        assert_eq!(
            s.lengths(false, SessionFilter::All),
            vec![Duration::from_secs(30 * 60)]
        );
        // Bin 0 [0, 60): node 0 up 60, node 1 up 30 of 30 present, node 2
        // down 30 of 30 present -> 90/120.
        // Bin 1 [60, 120): node 0 up 30 of 60 present -> 0.5.
        // Bin 2 [120, 180): node 0 up 60 of 60 -> 1.
        let f = s.fraction_up();
        assert_eq!(f, vec![Some(0.75), Some(0.5), Some(1.0)]);
    }
}
