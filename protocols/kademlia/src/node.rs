//! The simulation adapter: runs a [`Kademlia`] machine as a
//! [`sim_core::Node`], and records the `lookups` table.
//!
//! The adapter is the experiment side: when `oracle` is on it compares
//! each user lookup with the true k closest live nodes, computed from
//! global knowledge ([`crate::oracle`]). The protocol machine never sees
//! those answers.

use crate::key::IdTable;
use crate::lookup::Termination;
use crate::message::{KadMsg, WireContact};
use crate::oracle::{determined_at, true_closest};
use crate::protocol::{Command, Event, Input, Kademlia, OpKind, Outcome, Output, Timer};
use serde::Serialize;
use sim_core::{Context, Cx, Node, NodeId, Stop, Time, TimerId};

/// What the adapter records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observe {
    /// Compare lookups with the oracle (an index walk per lookup, see
    /// [`crate::oracle`]).
    pub oracle: bool,
    /// Keep finished events in [`KadNode::events`] (tests).
    pub keep_events: bool,
    /// Append a row to the `lookups` table per user operation.
    pub rows: bool,
}

/// A finished user operation with the oracle's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Completed {
    /// Where it ran.
    pub node: NodeId,
    /// The event.
    pub event: Event,
    /// Whether the result equals the true k closest live nodes (with the
    /// oracle, for `FindClosest`); with [`Termination::ClosestAnswered`],
    /// whether its first `n` entries are the true `n` closest live nodes
    /// (what that rule promises).
    pub exact: Option<bool>,
    /// Whether the true closest live node is among the nodes found (with
    /// the oracle, for `FindClosest`).
    pub correct: Option<bool>,
    /// The true closest live node at the end (with the oracle).
    pub closest_live: Option<NodeId>,
    /// When the lookup had determined it (see [`determined_at`]).
    pub determined_at: Option<Time>,
}

/// One row of the `lookups` table.
#[derive(Debug, Clone, Serialize)]
pub struct LookupRow {
    /// Origin.
    pub node: u32,
    /// Operation kind.
    pub kind: OpKind,
    /// Start, ns.
    pub start_ns: u64,
    /// End, ns.
    pub end_ns: u64,
    /// End − start, ns.
    pub latency_ns: u64,
    /// Depth at which the closest result was learned.
    pub hops: Option<u8>,
    /// Requests sent plus responses received.
    pub messages: u32,
    /// Bytes of requests sent plus responses received.
    pub bytes: u64,
    /// The operation produced a result (nodes, a value, a stored copy):
    /// answered, right or wrong.
    pub answered: bool,
    /// The true closest live node is among the nodes returned (oracle;
    /// `FindClosest` only, empty otherwise or without the oracle).
    pub correct: Option<bool>,
    /// Result equals the true k closest live nodes (oracle; empty without);
    /// with [`Termination::ClosestAnswered`], its first `n` entries are the
    /// true `n` closest.
    pub exact: Option<bool>,
    /// Time from start until the true closest live node was determined
    /// (oracle; empty if never or without oracle), ns.
    pub determined_ns: Option<u64>,
    /// `warm` when the routing table came from global knowledge, `joined`
    /// when it was built by the protocol.
    pub table: &'static str,
    /// Always empty: a lookup is not retried as a whole (the column is
    /// shared with the directory's rows, which count their attempts).
    pub attempts: Option<u32>,
}

/// A Kademlia node in the simulator.
#[derive(Debug, Clone)]
pub struct KadNode {
    /// The protocol machine.
    pub kad: Kademlia,
    timers: [Option<TimerId>; Timer::COUNT],
    /// Contacts to join through, handed to the machine at the next start
    /// (empty after it: the machine keeps them for restarts).
    pub bootstrap: Vec<WireContact>,
    /// The table was built by warm start (skip the join on first start).
    pub warm: bool,
    /// What to record.
    pub observe: Observe,
    /// Finished user operations (with `observe.keep_events`).
    pub events: Vec<Completed>,
}

impl KadNode {
    /// A node running `kad`.
    pub fn new(kad: Kademlia) -> KadNode {
        KadNode {
            kad,
            timers: [None; Timer::COUNT],
            bootstrap: Vec::new(),
            warm: false,
            observe: Observe::default(),
            events: Vec::new(),
        }
    }

    /// Feed `input` and carry out the outputs. Use from
    /// [`sim_core::Sim::with_node`] to inject commands.
    pub fn input(&mut self, cx: &mut Cx<'_, Self>, input: Input) {
        let now = cx.now();
        self.kad.handle(now, cx.rng(), input);
        self.pump(cx);
    }

    /// Issue a command.
    pub fn command(&mut self, cx: &mut Cx<'_, Self>, c: Command) {
        self.input(cx, Input::Command(c));
    }

    fn pump(&mut self, cx: &mut Cx<'_, Self>) {
        // Bounded: each input produces finitely many outputs, and pumping
        // feeds no input back.
        while let Some(o) = self.kad.poll_output() {
            match o {
                Output::Send { to, msg } => cx.send(to, msg),
                Output::SetTimer { timer, at } => {
                    if let Some(old) = self.timers[timer.index()].take() {
                        cx.cancel_timer(old);
                    }
                    let after = at.since(cx.now());
                    self.timers[timer.index()] = Some(cx.set_timer(after, timer));
                }
                Output::Count(name) => cx.count(name, 1),
                Output::Event(e) => self.on_event(cx, e),
            }
        }
    }

    fn on_event(&mut self, cx: &mut Cx<'_, Self>, event: Event) {
        if event.kind == OpKind::Join {
            cx.count("kad.joins_done", 1);
            return;
        }
        let done = observe_op(&self.kad, self.warm, self.observe, cx, event);
        if self.observe.keep_events {
            self.events.push(done);
        }
    }
}

/// What an adapter does with a finished user operation (not a join):
/// with `observe.oracle`, compare it with the true k closest live nodes;
/// with `observe.rows`, append its row to the `lookups` table. `warm`
/// says whether the node's table came from global knowledge. Shared by
/// [`KadNode`] and the adapters that stack Kademlia under other layers.
pub fn observe_op<M, T>(
    kad: &Kademlia,
    warm: bool,
    observe: Observe,
    cx: &mut impl Context<M, T>,
    event: Event,
) -> Completed {
    let mut done = Completed {
        node: cx.me(),
        event,
        exact: None,
        correct: None,
        closest_live: None,
        determined_at: None,
    };
    if observe.oracle {
        let ids: &IdTable = kad.ids();
        let e = &done.event;
        let k = kad.config().k;
        let truth = true_closest(ids, &e.key, k, Some(cx.me()), |n| cx.oracle_is_up(n));
        if let Outcome::Closest(found) = &e.outcome {
            let got: Vec<NodeId> = found.iter().map(|c| c.node).collect();
            done.exact = Some(match kad.config().termination {
                Termination::KClosest => got == truth,
                // The rule promises the n closest: compare those.
                Termination::ClosestAnswered { n, .. } => {
                    let m = n.min(truth.len());
                    got.len() >= m && got[..m] == truth[..m]
                }
            });
        }
        done.closest_live = truth.first().copied();
        if let (Outcome::Closest(found), Some(c)) = (&e.outcome, done.closest_live) {
            done.correct = Some(found.iter().any(|x| x.node == c));
        }
        done.determined_at = done
            .closest_live
            .and_then(|c| determined_at(&e.report.peers, c));
    }
    if observe.rows {
        let e = &done.event;
        let r = &e.report;
        let answered = match &e.outcome {
            Outcome::Closest(v) => !v.is_empty(),
            Outcome::Got(v) => v.is_some(),
            Outcome::Stored(n) => *n > 0,
            Outcome::Rejected => false,
        };
        let row = LookupRow {
            node: cx.me().0,
            kind: e.kind,
            start_ns: r.started.0,
            end_ns: r.ended.0,
            latency_ns: r.ended.since(r.started).0,
            hops: r.hops,
            messages: r.requests + r.responses,
            bytes: r.bytes_sent + r.bytes_received,
            answered,
            correct: done.correct,
            exact: done.exact,
            determined_ns: done.determined_at.map(|t| t.since(r.started).0),
            table: if warm { "warm" } else { "joined" },
            attempts: None,
        };
        cx.record("lookups", &row);
    }
    done
}

impl Node for KadNode {
    type Msg = KadMsg;
    type Timer = Timer;
    type Request = Command;

    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        self.timers = [None; Timer::COUNT];
        let join = !(self.warm && cx.incarnation() == 0);
        if self.warm && cx.incarnation() == 0 {
            cx.count("kad.warm_start_nodes", 1);
        }
        let bootstrap = self.kad.bootstrap_for_start(&mut self.bootstrap);
        self.input(cx, Input::Start { bootstrap, join });
    }

    fn on_message(&mut self, cx: &mut Cx<'_, Self>, from: NodeId, msg: KadMsg) {
        self.input(cx, Input::Message { from, msg });
    }

    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, timer: Timer) {
        self.timers[timer.index()] = None;
        self.input(cx, Input::Timer(timer));
    }

    fn on_request(&mut self, cx: &mut Cx<'_, Self>, req: Command) {
        self.command(cx, req);
    }

    fn on_stop(&mut self, cx: &mut Cx<'_, Self>, how: Stop) {
        self.timers = [None; Timer::COUNT];
        self.input(cx, Input::Stop(how));
    }
}
