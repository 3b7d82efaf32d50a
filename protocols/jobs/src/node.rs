//! The simulation adapter: runs a [`Jobs`] machine as a
//! [`sim_core::Node`].
//!
//! [`JobsNode`] maps the machine's outputs to the context (datagrams, bulk
//! transfers, named timers, counters), appends every [`Event`] to the
//! experiment's [`EventLog`] and, with `rows`, records the `jobs` table
//! ([`JobRow`]). The events of a stop (churn waste) are reported from
//! [`Node::on_stop`].

use crate::config::Config;
use crate::job::{Command, Event, EventLog};
use crate::message::Msg;
use crate::protocol::{Bulk, Input, Jobs, Output, Timer, WorkerSpec};
use crate::report::JobRow;
use sim_core::{
    Context, Duration, Layer, NodeId, Stop, Time, TimerId, TransferId, TransferOutcome,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One peer: submitter and worker.
#[derive(Debug)]
pub struct JobsNode {
    /// The scheduler machine.
    pub jobs: Jobs,
    timers: [Option<TimerId>; Timer::COUNT],
    bulks: BTreeMap<TransferId, Bulk>,
    /// Where to append `(time, node, event)` for every event, if anywhere.
    pub log: Option<EventLog>,
    /// Record a row of the `jobs` table for every ended job.
    pub rows: bool,
}

impl JobsNode {
    /// Peer `me`, working as `worker`, knowing every peer of the run
    /// (`peers`, itself included).
    pub fn new(
        cfg: Arc<Config>,
        me: NodeId,
        worker: WorkerSpec,
        peers: Arc<Vec<NodeId>>,
    ) -> JobsNode {
        JobsNode {
            jobs: Jobs::new(cfg, me, worker, peers),
            timers: [None; Timer::COUNT],
            bulks: BTreeMap::new(),
            log: None,
            rows: false,
        }
    }

    /// Copies waiting in this worker's queue (the running one excluded).
    pub fn queued(&self) -> usize {
        self.jobs.queued()
    }
    /// Whether this worker is running a copy.
    pub fn running(&self) -> bool {
        self.jobs.running()
    }
    /// CPU time this worker has spent running copies up to `now` (wall
    /// time × share / 1000, the running copy's progress included).
    pub fn busy_cpu(&self, now: Time) -> Duration {
        self.jobs.busy_cpu(now)
    }

    /// Feed `input` and carry out the outputs (use from
    /// [`sim_core::Sim::with_node`] to inject commands in tests).
    pub fn input(&mut self, cx: &mut impl Context<Msg, Timer>, input: Input) {
        let now = cx.now();
        self.jobs.handle(now, cx.rng(), input);
        self.pump(cx);
    }

    /// Bounded: each input produces finitely many outputs, and pumping feeds
    /// no input back.
    fn pump(&mut self, cx: &mut impl Context<Msg, Timer>) {
        while let Some(o) = self.jobs.poll_output() {
            match o {
                Output::Send { to, msg } => cx.send(to, msg),
                Output::SendBulk { to, msg, bulk } => {
                    let id = cx.send_bulk(to, msg);
                    self.bulks.insert(id, bulk);
                }
                Output::SetTimer { timer, at } => {
                    if let Some(old) = self.timers[timer.index()].take() {
                        cx.cancel_timer(old);
                    }
                    let after = at.since(cx.now());
                    self.timers[timer.index()] = Some(cx.set_timer(after, timer));
                }
                Output::Count(name, n) => cx.count(name, n),
                Output::Event(e) => self.on_event(cx, e),
            }
        }
    }

    fn on_event(&mut self, cx: &mut impl Context<Msg, Timer>, e: Event) {
        if self.rows
            && let Some(row) = JobRow::of(cx.me().0, &e)
        {
            cx.record("jobs", &row);
        }
        if let Some(log) = &self.log {
            log.borrow_mut().push((cx.now(), cx.me(), e));
        }
    }
}

sim_core::impl_node_for_layer!(JobsNode);

impl Layer for JobsNode {
    type Msg = Msg;
    type Timer = Timer;
    type Request = Command;

    fn start(&mut self, cx: &mut impl Context<Msg, Timer>) {
        self.timers = [None; Timer::COUNT];
        self.bulks.clear();
        self.input(cx, Input::Start);
    }

    fn message(&mut self, cx: &mut impl Context<Msg, Timer>, from: NodeId, msg: Msg) {
        self.input(cx, Input::Message { from, msg });
    }

    fn timer(&mut self, cx: &mut impl Context<Msg, Timer>, timer: Timer) {
        self.timers[timer.index()] = None;
        self.input(cx, Input::Timer(timer));
    }

    fn request(&mut self, cx: &mut impl Context<Msg, Timer>, req: Command) {
        self.input(cx, Input::Command(req));
    }

    fn transfer(
        &mut self,
        cx: &mut impl Context<Msg, Timer>,
        id: TransferId,
        outcome: TransferOutcome,
    ) -> bool {
        let Some(bulk) = self.bulks.remove(&id) else {
            return false;
        };
        let delivered = matches!(outcome, TransferOutcome::Completed { .. });
        self.input(cx, Input::BulkDone { bulk, delivered });
        true
    }

    fn stop(&mut self, cx: &mut impl Context<Msg, Timer>, how: Stop) {
        // The transfers this peer started fail with it; the machine treats
        // their copies as lost and their results as undelivered.
        self.timers = [None; Timer::COUNT];
        self.bulks.clear();
        // Down, the context drops sends and timers; events and counters
        // (the churn waste) still go through.
        self.input(cx, Input::Stop(how));
    }
}
