//! The engine: nodes, the event loop, lifecycle, the workload driver.
//!
//! A [`Sim`] owns a table of nodes of one type `N: Node` and an event queue.
//! One run is single-threaded and deterministic: events are processed in
//! `(time, sequence)` order (see [`crate::queue`]), every random draw comes
//! from a derived stream (see [`crate::rng`]) and all state is kept in
//! vectors and ordered maps.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use sim_core::prelude::*;
//!
//! #[derive(Clone, Debug, Serialize, Deserialize)]
//! struct Ping(u32);
//! impl Message for Ping {}
//!
//! /// Node 0 pings node 1 once; node 1 counts what it receives.
//! struct Pinger;
//! impl Node for Pinger {
//!     type Msg = Ping;
//!     type Timer = ();
//!     type Request = ();
//!     fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
//!         if cx.me() == NodeId(0) {
//!             cx.send(NodeId(1), Ping(7));
//!         }
//!     }
//!     fn on_message(&mut self, cx: &mut Cx<'_, Self>, _from: NodeId, msg: Ping) {
//!         cx.count("pings", msg.0 as u64);
//!         cx.count("arrived_ns", cx.now().as_nanos());
//!     }
//!     fn on_timer(&mut self, _cx: &mut Cx<'_, Self>, _t: ()) {}
//! }
//!
//! let net = SimpleNet::constant(Duration::from_millis(20), "10Mbit/s".parse().unwrap());
//! let mut sim = Sim::new(SimConfig::new(42, net));
//! sim.add_node(Pinger);
//! sim.add_node(Pinger);
//! let out = sim.run(RunLimits::until(Time(1_000_000_000))).unwrap();
//! assert_eq!(out.reason, StopReason::Idle);
//! assert_eq!(sim.metrics().counter("pings"), 7);
//! assert_eq!(sim.metrics().counter("arrived_ns"), 20_000_000); // after exactly 20 ms
//! assert_eq!(sim.now(), Time(1_000_000_000)); // the clock ran to the end time
//! ```

mod churn;
mod network;
pub use churn::Replacement;
pub use network::CLASSES;

use crate::net::{FlowId, LinkId, Network};
use network::{Fate, Routed};

use crate::check::{EventKind, TraceEntry, TraceHasher};
use crate::churn::Transition;
use crate::metrics::{Metrics, MetricsError};
use crate::node::{Ctx, Cx, Message, Node, NodeId, Stop, TimerId, TransferId, TransferOutcome};
use crate::queue::{EventQueue, PastError};
use crate::rng::{NodeRng, Purpose, SplitMix64, node_rng};
use crate::units::{Bytes, Duration, Rate, Time};
use serde::Serialize;
use std::fmt;

/// Errors of engine use and configuration.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// An event was scheduled before the current time.
    #[error(transparent)]
    Past(#[from] PastError),
    /// A run was given an event budget of zero.
    #[error("event budget must be at least 1 (got 0)")]
    ZeroBudget,
    /// A node id that does not exist.
    #[error("no node {0} (the simulation has {1} nodes)")]
    UnknownNode(NodeId, usize),
    /// An invalid configuration value.
    #[error("invalid {field}: {reason}")]
    Config {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Writing outputs failed.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

// ------------------------------------------------------------------ network

/// The engine's built-in network: a constant one-way latency plus uniform
/// jitter for datagrams, and bulk transfers at a fixed rate per transfer
/// (`latency + size / rate`, no sharing). Enough to test protocols; the
/// flow-level network model replaces it for studies of capacity.
#[derive(Debug, Clone, Copy)]
pub struct SimpleNet {
    /// One-way propagation latency.
    pub latency: Duration,
    /// Each datagram gets an extra delay uniform in `[0, jitter]`, drawn
    /// from the sender's network stream.
    pub jitter: Duration,
    /// Rate of every bulk transfer.
    pub bulk_rate: Rate,
}

impl SimpleNet {
    /// Constant latency, no jitter.
    pub fn constant(latency: Duration, bulk_rate: Rate) -> Self {
        SimpleNet {
            latency,
            jitter: Duration::ZERO,
            bulk_rate,
        }
    }
    /// Latency uniform in `[min, max]` (`max >= min`).
    pub fn uniform(min: Duration, max: Duration, bulk_rate: Rate) -> Result<Self, SimError> {
        if max < min {
            return Err(SimError::Config {
                field: "network latency",
                reason: format!("max {max} is below min {min}"),
            });
        }
        Ok(SimpleNet {
            latency: min,
            jitter: Duration(max.0 - min.0),
            bulk_rate,
        })
    }
    #[inline]
    fn datagram_delay(&self, rng: &mut SplitMix64) -> Duration {
        if self.jitter.0 == 0 {
            self.latency
        } else {
            Duration(self.latency.0 + rng.below(self.jitter.0 + 1))
        }
    }
}

// ------------------------------------------------------------------ config

/// Engine configuration.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The master seed: every random stream is derived from it.
    pub seed: u64,
    /// The network model.
    pub net: SimpleNet,
    /// Sample the time series every this often (None: never).
    pub sample_every: Option<Duration>,
    /// Keep the full event trace for [`crate::check::first_divergence`]
    /// (the rolling hash is always kept).
    pub record_trace: bool,
    /// Log every workload request into the `requests` table.
    pub log_requests: bool,
}

impl SimConfig {
    /// Defaults: no sampling, no trace, no request log.
    pub fn new(seed: u64, net: SimpleNet) -> Self {
        SimConfig {
            seed,
            net,
            sample_every: None,
            record_trace: false,
            log_requests: false,
        }
    }
}

// ------------------------------------------------------------------ run limits

/// When a run stops.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunLimits {
    /// Stop before the first event later than this (the clock is then set to
    /// it). Events after it stay queued, so a later run continues.
    pub until: Option<Time>,
    /// Stop after this many processed events (must be ≥ 1).
    pub max_events: Option<u64>,
    /// Stop *abnormally* after this many processed events: the outcome is
    /// [`StopReason::Aborted`], which callers treat as an interrupted run
    /// (used to test that interrupted runs leave no complete-looking result).
    pub abort_after: Option<u64>,
}

impl RunLimits {
    /// Run until `t`.
    pub fn until(t: Time) -> Self {
        RunLimits {
            until: Some(t),
            ..Default::default()
        }
    }
}

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The end time was reached.
    Until,
    /// The event budget was used up.
    Budget,
    /// The deterministic abort fired.
    Aborted,
    /// No event is left.
    Idle,
}

/// The result of [`Sim::run`].
#[derive(Debug, Clone, Copy)]
pub struct RunOutcome {
    /// Why it stopped.
    pub reason: StopReason,
    /// Events processed by this call.
    pub events: u64,
    /// Wall-clock time of this call. Never written to result files.
    pub wall: std::time::Duration,
}

/// Wall-clock and size figures of a run, written apart from the results
/// (they differ between identical runs).
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// Events processed (all `run` calls).
    pub events: u64,
    /// Events dropped unprocessed (cancelled timers, stale incarnations,
    /// messages to nodes that are down).
    pub discarded: u64,
    /// Simulated time reached, ns.
    pub sim_time_ns: u64,
    /// Wall-clock seconds spent in `run`.
    pub wall_secs: f64,
    /// Processed events per wall-clock second.
    pub events_per_sec: f64,
    /// Largest number of pending events.
    pub peak_queue: usize,
    /// Number of node slots.
    pub nodes: usize,
}

impl RunInfo {
    /// As `key,value` CSV text.
    pub fn to_csv(&self) -> String {
        format!(
            "key,value\nevents,{}\ndiscarded,{}\nsim_time_ns,{}\nwall_secs,{}\nevents_per_sec,{}\npeak_queue,{}\nnodes,{}\n",
            self.events,
            self.discarded,
            self.sim_time_ns,
            self.wall_secs,
            self.events_per_sec,
            self.peak_queue,
            self.nodes
        )
    }
}

// ------------------------------------------------------------------ workload

/// A source of timed requests for client nodes.
///
/// Each client has its own random stream, derived from
/// `(seed, Workload, client id, workload index)`, and the driver draws a
/// client's requests from it whatever the system under test does. Two
/// simulations with the same seed, clients and workload therefore receive
/// byte-identical request sequences, which is what makes a P2P system and a
/// data-center baseline comparable pair by pair.
pub trait Workload<R> {
    /// The gap until client `client`'s next request and the request, or
    /// None when the client has no more requests.
    fn next(&mut self, client: NodeId, now: Time, rng: &mut NodeRng) -> Option<(Duration, R)>;
}

/// Poisson arrivals: exponential gaps with the given mean; the request is
/// made by `make` from the client's stream.
pub struct Poisson<F> {
    mean_gap_ns: f64,
    make: F,
}

impl<F> Poisson<F> {
    /// Poisson arrivals with mean gap `mean_gap` (> 0).
    pub fn new(mean_gap: Duration, make: F) -> Result<Self, SimError> {
        if mean_gap.0 == 0 {
            return Err(SimError::Config {
                field: "workload mean gap",
                reason: "must be positive".into(),
            });
        }
        Ok(Poisson {
            mean_gap_ns: mean_gap.0 as f64,
            make,
        })
    }
}

impl<R, F: FnMut(NodeId, &mut NodeRng) -> R> Workload<R> for Poisson<F> {
    fn next(&mut self, client: NodeId, _now: Time, rng: &mut NodeRng) -> Option<(Duration, R)> {
        use rand::RngExt;
        let u: f64 = rng.random();
        // Inverse transform on 1-u in (0, 1]; at least 1 ns so requests advance.
        let gap = (-(1.0 - u).ln() * self.mean_gap_ns).round().max(1.0) as u64;
        Some((Duration(gap), (self.make)(client, rng)))
    }
}

struct Client<R> {
    node: NodeId,
    rng: NodeRng,
    pending: Option<R>,
    seq: u64,
}

struct WorkloadSlot<R> {
    source: Box<dyn Workload<R>>,
    clients: Vec<Client<R>>,
}

/// One row of the `requests` table (with `log_requests`).
#[derive(Serialize)]
struct RequestRow {
    time_ns: u64,
    workload: u16,
    client: u32,
    seq: u64,
    delivered: bool,
    request: String,
}

// ------------------------------------------------------------------ state

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Life {
    Created,
    Up,
    Down,
    Departed,
}

/// Engine state per node: one 64-byte cache line, so that delivering an
/// event touches one line of engine memory.
#[repr(align(64))]
pub(crate) struct Meta {
    inc: u32,
    life: Life,
    /// Value of `Core::epoch` when the node last started: datagrams sent
    /// before that were addressed to an earlier incarnation.
    started_epoch: u64,
    pub(crate) rng: NodeRng,
    net: SplitMix64,
}

impl Meta {
    pub(crate) fn is_up(&self) -> bool {
        self.life == Life::Up
    }
}

enum Ev<T> {
    /// `epoch`: `Core::epoch` at send time. Recording it instead of the
    /// receiver's incarnation spares the sender a random access to the
    /// receiver's state; the receiver compares it with its start epoch.
    ///
    /// The message waits in `Core::parked`, not in the event: a queued event
    /// is then 32 bytes instead of the size of the largest message (144
    /// bytes with Kademlia's), and timers, most of the queue of a large idle
    /// network, no longer carry a message's room (a warm 10^5-node network
    /// started with 81 MB of queue), nor do the queue's bucket moves copy it.
    Deliver {
        to: u32,
        from: u32,
        epoch: u64,
        msg: u32,
    },
    Timer {
        node: u32,
        inc: u32,
        slot: u32,
        generation: u32,
        timer: T,
    },
    TransferEnd {
        slot: u32,
        id: u64,
    },
    Request {
        workload: u16,
        client: u32,
    },
    Start {
        node: u32,
    },
    Stop {
        node: u32,
        how: Stop,
    },
    Churn {
        node: u32,
        t: Transition,
        ask_next: bool,
    },
    Group,
    FlowWake,
    LinkCut {
        link: u32,
        cut: bool,
    },
    Sample,
}

// What parking the messages is for: a queued event of 32 bytes.
const _: () = assert!(std::mem::size_of::<(u64, Ev<u8>)>() == 32);

struct Transfer<M> {
    id: u64,
    from: u32,
    from_inc: u32,
    to: u32,
    to_inc: u32,
    msg: M,
    bytes: u64,
    start: u64,
    class: u8,
    /// The flow carrying it (routed network), while its bits are leaving.
    flow: Option<FlowId>,
    /// Path latency the data needs after the flow ends (routed network).
    latency: u64,
    /// No route: reported as failed when its end event fires.
    failed: bool,
}

#[derive(Default, Clone, Copy)]
struct Stats {
    events: u64,
    discarded: u64,
    delivered: u64,
    datagrams: u64,
    datagram_bytes: u64,
    lost_down: u64,
    timers_fired: u64,
    timers_cancelled: u64,
    transfers: u64,
    transfer_bytes: u64,
    transfers_failed: u64,
    requests: u64,
    requests_dropped: u64,
    starts: u64,
    stops: u64,
}

/// Everything but the node table: what a [`Cx`] borrows.
pub struct Core<M, T> {
    pub(crate) now: u64,
    /// Number of node starts so far (see `Meta::started_epoch`).
    epoch: u64,
    pub(crate) meta: Vec<Meta>,
    pub(crate) metrics: Metrics,
    queue: EventQueue<Ev<T>>,
    seed: u64,
    net: SimpleNet,
    routed: Option<Box<Routed>>,
    timer_gen: Vec<u32>,
    timer_free: Vec<u32>,
    cancelled_pending: usize,
    transfers: Vec<Option<Transfer<M>>>,
    transfer_free: Vec<u32>,
    next_transfer: u64,
    /// Messages of the datagrams in flight, by the slot their `Deliver`
    /// event names; freed slots are reused last-freed first.
    parked: Vec<Option<M>>,
    parked_free: Vec<u32>,
    stats: Stats,
    hasher: TraceHasher,
    trace: Option<Vec<TraceEntry>>,
}

impl<M: Message, T: Copy> Core<M, T> {
    #[inline]
    pub(crate) fn send_datagram(&mut self, from: NodeId, to: NodeId, msg: M) {
        if to.index() >= self.meta.len() {
            self.stats.lost_down += 1;
            return;
        }
        self.stats.datagrams += 1;
        let bytes = msg.wire_size();
        self.stats.datagram_bytes += bytes;
        let delay = match self.routed.as_mut() {
            None => self.net.datagram_delay(&mut self.meta[from.index()].net),
            Some(r) => {
                let meta = &mut self.meta;
                let mut rng = meta[from.index()].net;
                let is_up = |n: u32| meta.get(n as usize).is_some_and(|m| m.is_up());
                let fate = r.datagram(from.0, to.0, bytes, msg.class(), &mut rng, &is_up);
                meta[from.index()].net = rng;
                match fate {
                    Fate::Arrives(d) => d,
                    Fate::Lost | Fate::Unroutable => return,
                }
            }
        };
        let at = self.now.saturating_add(delay.0);
        let ev = Ev::Deliver {
            to: to.0,
            from: from.0,
            epoch: self.epoch,
            msg: self.park(msg),
        };
        self.queue.push(at, ev).expect("future");
    }

    /// Keep `msg` until its delivery event: its slot.
    #[inline]
    fn park(&mut self, msg: M) -> u32 {
        match self.parked_free.pop() {
            Some(slot) => {
                self.parked[slot as usize] = Some(msg);
                slot
            }
            None => {
                self.parked.push(Some(msg));
                u32::try_from(self.parked.len() - 1).expect("fewer than 2^32 datagrams in flight")
            }
        }
    }

    /// The message parked in `slot`, freeing it.
    #[inline]
    fn unpark(&mut self, slot: u32) -> M {
        self.parked_free.push(slot);
        self.parked[slot as usize]
            .take()
            .expect("a parked message is taken once")
    }

    pub(crate) fn start_transfer(
        &mut self,
        from: NodeId,
        from_inc: u32,
        to: NodeId,
        msg: M,
    ) -> TransferId {
        let id = self.next_transfer;
        self.next_transfer += 1;
        let bytes = msg.wire_size();
        let class = msg.class();
        let to_inc = self.meta.get(to.index()).map_or(0, |m| m.inc);
        let t = Transfer {
            id,
            from: from.0,
            from_inc,
            to: to.0,
            to_inc,
            msg,
            bytes,
            start: self.now,
            class,
            flow: None,
            latency: 0,
            failed: false,
        };
        let slot = match self.transfer_free.pop() {
            Some(s) => {
                self.transfers[s as usize] = Some(t);
                s
            }
            None => {
                self.transfers.push(Some(t));
                (self.transfers.len() - 1) as u32
            }
        };
        self.stats.transfers += 1;
        let end = match self.routed.as_mut() {
            None => {
                let dur = self.net.latency + self.net.bulk_rate.transmit_time(Bytes(bytes));
                Some(self.now.saturating_add(dur.0))
            }
            Some(r) => {
                let t = self.transfers[slot as usize].as_mut().expect("just stored");
                let meta = &self.meta;
                let is_up = |n: u32| meta.get(n as usize).is_some_and(|m| m.is_up());
                match r.start_flow(self.now, (from.0, to.0), bytes, class, slot, &is_up) {
                    Some((fid, latency)) => {
                        t.flow = Some(fid);
                        t.latency = latency.0;
                        None
                    }
                    None => {
                        t.failed = true;
                        Some(self.now)
                    }
                }
            }
        };
        match end {
            Some(at) => self
                .queue
                .push(at, Ev::TransferEnd { slot, id })
                .expect("future"),
            None => self.ensure_wake(),
        }
        TransferId(id)
    }

    #[inline]
    pub(crate) fn set_timer(
        &mut self,
        node: NodeId,
        inc: u32,
        after: Duration,
        timer: T,
    ) -> TimerId {
        let slot = match self.timer_free.pop() {
            Some(s) => s,
            None => {
                self.timer_gen.push(0);
                (self.timer_gen.len() - 1) as u32
            }
        };
        let generation = self.timer_gen[slot as usize];
        let at = self.now.saturating_add(after.0);
        self.queue
            .push(
                at,
                Ev::Timer {
                    node: node.0,
                    inc,
                    slot,
                    generation,
                    timer,
                },
            )
            .expect("future");
        TimerId { slot, generation }
    }

    #[inline]
    pub(crate) fn cancel_timer(&mut self, id: TimerId) -> bool {
        match self.timer_gen.get_mut(id.slot as usize) {
            Some(g) if *g == id.generation => {
                *g = g.wrapping_add(1);
                self.timer_free.push(id.slot);
                self.cancelled_pending += 1;
                self.stats.timers_cancelled += 1;
                self.maybe_compact();
                true
            }
            _ => false,
        }
    }

    /// Drop cancelled timers from the queue once they make up more than half
    /// of it, so that they never accumulate (amortised O(1) per cancel).
    fn maybe_compact(&mut self) {
        if self.cancelled_pending >= 1024 && self.cancelled_pending * 2 > self.queue.len() {
            let gens = &self.timer_gen;
            self.queue.retain(|ev| match ev {
                Ev::Timer {
                    slot, generation, ..
                } => gens[*slot as usize] == *generation,
                _ => true,
            });
            self.cancelled_pending = 0;
        }
    }

    /// Keep a wake-up event queued for the flow model's earliest completion.
    fn ensure_wake(&mut self) {
        let Some(r) = self.routed.as_mut() else {
            return;
        };
        if let Some((t, _)) = r.flows.next_completion()
            && r.wake_at.is_none_or(|w| t.0 < w)
        {
            r.wake_at = Some(t.0);
            self.queue
                .push(t.0, Ev::FlowWake)
                .expect("completion in the future");
        }
    }

    /// Flows whose last bit left now: their data arrives after the path
    /// latency.
    fn flow_wake(&mut self) {
        let now = self.now;
        let Some(r) = self.routed.as_mut() else {
            return;
        };
        if r.wake_at == Some(now) {
            r.wake_at = None;
        }
        while let Some((fid, _)) = r.flows.complete(Time(now)) {
            let Some(slot) = r.flow_slot.remove(&fid) else {
                continue;
            };
            let Some(t) = self.transfers[slot as usize].as_mut() else {
                continue;
            };
            t.flow = None;
            let ev = Ev::TransferEnd { slot, id: t.id };
            self.queue
                .push(now.saturating_add(t.latency), ev)
                .expect("future");
        }
        self.ensure_wake();
    }

    /// Bytes transfer `id`, started by incarnation `inc` of `from`, has
    /// moved by now: what `stop_transfer` would report if it failed
    /// now. None if it is not in progress.
    pub(crate) fn transfer_moved(&self, from: NodeId, inc: u32, id: TransferId) -> Option<u64> {
        let t = self
            .transfers
            .iter()
            .flatten()
            .find(|t| t.id == id.0 && t.from == from.0 && t.from_inc == inc)?;
        Some(match self.routed.as_deref() {
            None => self.moved(t),
            Some(r) => match t.flow {
                Some(fid) => r.flows.bytes_moved(fid, Time(self.now)).map_or(0, |b| b.0),
                None if !t.failed => t.bytes,
                None => 0,
            },
        })
    }

    /// Bytes moved by transfer `t` now, and stop its flow if it has one.
    fn stop_transfer(&mut self, t: &Transfer<M>) -> u64 {
        match self.routed.as_mut() {
            None => self.moved(t),
            Some(r) => {
                let moved = match t.flow {
                    Some(fid) => r.fail_flow(self.now, fid),
                    // Every bit has left; the data was still in flight.
                    None if !t.failed => t.bytes,
                    None => 0,
                };
                r.account_transfer(t.from, t.to, moved, t.class);
                moved
            }
        }
    }

    /// Bytes moved by transfer `t` at the current time under the built-in
    /// network (data flows at the bulk rate from the start).
    fn moved(&self, t: &Transfer<M>) -> u64 {
        let elapsed = self.now - t.start;
        let bits = elapsed as u128 * self.net.bulk_rate.bits_per_sec() as u128 / 1_000_000_000;
        ((bits / 8) as u64).min(t.bytes)
    }

    fn trace(&mut self, kind: EventKind, node: u32, detail: u64) {
        let idx = self.stats.events + self.stats.discarded;
        let h = self.hasher.push(self.now, kind, node, detail);
        if let Some(tr) = self.trace.as_mut() {
            tr.push(TraceEntry {
                index: idx,
                time: Time(self.now),
                kind,
                node,
                detail,
                hash: h,
            });
        }
    }
}

// ------------------------------------------------------------------ the engine

/// A sampled quantity computed from the node table.
type Gauge<N> = Box<dyn Fn(&[N]) -> f64>;

/// A deterministic simulation of nodes of type `N`.
pub struct Sim<N: Node> {
    nodes: Vec<N>,
    core: Core<N::Msg, N::Timer>,
    workloads: Vec<WorkloadSlot<N::Request>>,
    config: SimConfig,
    gauges: Vec<(&'static str, Gauge<N>)>,
    wall: std::time::Duration,
    /// Churn and outage driver, when node availability is modelled.
    churn: Option<Box<churn::Driver<N>>>,
    network_tables_written: bool,
}

/// Row of the `node_bytes` table (routed network): bytes a node sent and
/// received, datagrams and transfers together.
#[derive(Serialize)]
struct NodeBytesRow {
    node: u32,
    sent_bytes: u64,
    received_bytes: u64,
}

/// Row of the `link_bytes` table (routed network).
#[derive(Serialize)]
struct LinkBytesRow {
    link: u32,
    datagram_bytes: u64,
    flow_bytes: u64,
}

impl<N: Node> Sim<N>
where
    N::Request: fmt::Debug,
{
    /// An empty simulation at time zero.
    pub fn new(config: SimConfig) -> Self {
        let mut core = Core {
            now: 0,
            epoch: 0,
            meta: Vec::new(),
            metrics: Metrics::new(),
            queue: EventQueue::new(),
            seed: config.seed,
            net: config.net,
            routed: None,
            timer_gen: Vec::new(),
            timer_free: Vec::new(),
            cancelled_pending: 0,
            transfers: Vec::new(),
            transfer_free: Vec::new(),
            parked: Vec::new(),
            parked_free: Vec::new(),
            next_transfer: 0,
            stats: Stats::default(),
            hasher: TraceHasher::new(),
            trace: config.record_trace.then(Vec::new),
        };
        if let Some(every) = config.sample_every
            && every.0 > 0
        {
            core.queue.push(0, Ev::Sample).expect("time zero");
        }
        Sim {
            nodes: Vec::new(),
            core,
            workloads: Vec::new(),
            config,
            gauges: Vec::new(),
            wall: std::time::Duration::ZERO,
            churn: None,
            network_tables_written: false,
        }
    }

    /// Add a node; it starts at the current time (after events already
    /// scheduled for this instant). With a churn model set
    /// ([`Sim::set_churn`]), the model decides instead: at time zero the
    /// node starts in the model's equilibrium state, later it joins up.
    pub fn add_node(&mut self, node: N) -> NodeId {
        self.add_started(node, true)
    }

    /// Add a node that no churn model drives (a server, say); it starts
    /// now and stays up, except during outages of groups it belongs to.
    pub fn add_stable_node(&mut self, node: N) -> NodeId {
        self.add_started(node, false)
    }

    fn add_started(&mut self, node: N, churned: bool) -> NodeId {
        let id = self.add_node_stopped(node);
        if self.churn.is_some() {
            self.churn_added(id, churned);
        } else {
            self.core
                .queue
                .push(self.core.now, Ev::Start { node: id.0 })
                .expect("now");
        }
        id
    }

    /// Add a node that is not started; start it with [`Sim::start_at`].
    pub fn add_node_stopped(&mut self, node: N) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(node);
        let seed = self.core.seed;
        self.core.meta.push(Meta {
            inc: 0,
            life: Life::Created,
            started_epoch: 0,
            rng: node_rng(seed, Purpose::Node, id.0, 0),
            net: SplitMix64::derived(seed, Purpose::Network, id.0, 0),
        });
        id
    }

    /// Reserve room for `n` more nodes.
    pub fn reserve_nodes(&mut self, n: usize) {
        self.nodes.reserve(n);
        self.core.meta.reserve(n);
    }

    fn check_node(&self, id: NodeId) -> Result<(), SimError> {
        if id.index() < self.nodes.len() {
            Ok(())
        } else {
            Err(SimError::UnknownNode(id, self.nodes.len()))
        }
    }

    fn check_time(&self, at: Time) -> Result<(), SimError> {
        if at.0 < self.core.now {
            Err(PastError {
                at: at.0,
                now: self.core.now,
            }
            .into())
        } else {
            Ok(())
        }
    }

    /// Start (or restart, as a new incarnation) node `id` at `at`. If the
    /// node is up or departed by then, the request is ignored and counted.
    pub fn start_at(&mut self, id: NodeId, at: Time) -> Result<(), SimError> {
        self.check_node(id)?;
        self.check_time(at)?;
        self.core.queue.push(at.0, Ev::Start { node: id.0 })?;
        Ok(())
    }

    /// Stop node `id` at `at` (a crash when transient, a departure when
    /// permanent). Ignored (and counted) if the node is not up by then.
    pub fn stop_at(&mut self, id: NodeId, at: Time, how: Stop) -> Result<(), SimError> {
        self.check_node(id)?;
        self.check_time(at)?;
        self.core.queue.push(at.0, Ev::Stop { node: id.0, how })?;
        Ok(())
    }

    /// Run the network over `topology` instead of the built-in constant
    /// network: datagrams follow its routes (serialisation at the sender's
    /// uplink, path latency, per-link loss, plus jitter uniform in
    /// `[0, jitter]`), bulk transfers share its link capacities max-min
    /// fairly. Node `i` of the simulation is node `i` of the topology. Must
    /// be called before the first run.
    pub fn set_topology(
        &mut self,
        topology: Box<dyn Network>,
        jitter: Duration,
    ) -> Result<(), SimError> {
        if self.core.stats.events > 0 || self.core.stats.transfers > 0 {
            return Err(SimError::Config {
                field: "topology",
                reason: "set the topology before the simulation runs".into(),
            });
        }
        self.core.routed = Some(Box::new(Routed::new(topology, jitter)));
        Ok(())
    }

    /// The topology, when one is set.
    pub fn topology(&self) -> Option<&dyn Network> {
        self.core.routed.as_deref().map(|r| r.topology())
    }

    /// Cut link `link` at `at` (flows crossing it fail, datagrams crossing
    /// it are lost), or restore it (`cut = false`). Needs a topology.
    pub fn cut_link_at(&mut self, link: LinkId, at: Time, cut: bool) -> Result<(), SimError> {
        self.check_time(at)?;
        let links = self.topology().map_or(0, |t| t.links().len());
        if link.index() >= links {
            return Err(SimError::Config {
                field: "link",
                reason: format!("no link {} (the topology has {links})", link.0),
            });
        }
        self.core
            .queue
            .push(at.0, Ev::LinkCut { link: link.0, cut })?;
        Ok(())
    }

    /// Add a workload for `clients`; each client's first request is drawn
    /// now. Returns the workload's index.
    pub fn add_workload(
        &mut self,
        clients: &[NodeId],
        mut source: impl Workload<N::Request> + 'static,
    ) -> Result<u16, SimError> {
        let w = u16::try_from(self.workloads.len()).map_err(|_| SimError::Config {
            field: "workloads",
            reason: "at most 65536 workloads".into(),
        })?;
        let mut cl = Vec::with_capacity(clients.len());
        for (i, &node) in clients.iter().enumerate() {
            self.check_node(node)?;
            let mut rng = node_rng(self.core.seed, Purpose::Workload, node.0, w as u32);
            let now = Time(self.core.now);
            let pending = match source.next(node, now, &mut rng) {
                Some((gap, req)) => {
                    self.core.queue.push(
                        self.core.now.saturating_add(gap.0),
                        Ev::Request {
                            workload: w,
                            client: i as u32,
                        },
                    )?;
                    Some(req)
                }
                None => None,
            };
            cl.push(Client {
                node,
                rng,
                pending,
                seq: 0,
            });
        }
        self.workloads.push(WorkloadSlot {
            source: Box::new(source),
            clients: cl,
        });
        Ok(w)
    }

    /// Sample `f(nodes)` under `name` at every sampling instant.
    pub fn add_gauge(&mut self, name: &'static str, f: impl Fn(&[N]) -> f64 + 'static) {
        self.gauges.push((name, Box::new(f)));
    }

    /// The current simulated time.
    pub fn now(&self) -> Time {
        Time(self.core.now)
    }
    /// Node `id`'s state.
    pub fn node(&self, id: NodeId) -> &N {
        &self.nodes[id.index()]
    }
    /// Node `id`'s state, mutably (for setting up experiments).
    pub fn node_mut(&mut self, id: NodeId) -> &mut N {
        &mut self.nodes[id.index()]
    }
    /// All nodes.
    pub fn nodes(&self) -> &[N] {
        &self.nodes
    }
    /// Whether node `id` is up.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.core.meta.get(id.index()).is_some_and(|m| m.is_up())
    }
    /// Node `id`'s current incarnation.
    pub fn incarnation(&self, id: NodeId) -> u32 {
        self.core.meta[id.index()].inc
    }
    /// Bytes link `link` of the topology has carried so far: datagrams,
    /// and bulk flows including those in progress (what they have moved by
    /// now). Zero without a topology or for a link it does not have.
    pub fn link_bytes(&self, link: LinkId) -> u64 {
        self.core
            .routed
            .as_deref()
            .map_or(0, |r| r.link_bytes_now(link, self.core.now))
    }
    /// Bytes sent so far per traffic class (see [`crate::node::class`]):
    /// datagrams when sent, bulk flows when they end. Zeros without a
    /// topology.
    pub fn class_bytes(&self) -> [u64; 8] {
        self.core
            .routed
            .as_deref()
            .map_or([0; 8], |r| *r.class_bytes())
    }
    /// Number of nodes up.
    pub fn nodes_up(&self) -> usize {
        self.core.meta.iter().filter(|m| m.is_up()).count()
    }
    /// Pending events.
    pub fn pending_events(&self) -> usize {
        self.core.queue.len()
    }
    /// The metrics recorded so far.
    pub fn metrics(&self) -> &Metrics {
        &self.core.metrics
    }
    /// The metrics, mutably.
    pub fn metrics_mut(&mut self) -> &mut Metrics {
        &mut self.core.metrics
    }
    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }
    /// The rolling hash of every event processed so far: equal for two runs
    /// iff (with overwhelming probability) they processed the same events.
    pub fn trace_hash(&self) -> u64 {
        self.core.hasher.value()
    }
    /// The recorded event trace (with `record_trace`).
    pub fn trace(&self) -> Option<&[TraceEntry]> {
        self.core.trace.as_deref()
    }
    /// Call `f` on node `id` with a context, outside any event (to inject a
    /// request or inspect state in tests). Does nothing if the node is not up.
    pub fn with_node<R>(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&mut N, &mut Cx<'_, N>) -> R,
    ) -> Option<R> {
        let m = self.core.meta.get(id.index())?;
        if !m.is_up() {
            return None;
        }
        let inc = m.inc;
        let mut cx = Ctx {
            core: &mut self.core,
            me: id,
            inc,
            alive: true,
        };
        Some(f(&mut self.nodes[id.index()], &mut cx))
    }

    /// Release spare capacity of the engine's buffers (queue buckets, timer
    /// and transfer tables). Useful after a start-up burst.
    pub fn shrink_buffers(&mut self) {
        self.core.queue.shrink_to_fit();
        self.core.timer_gen.shrink_to_fit();
        self.core.timer_free.shrink_to_fit();
        self.core.transfers.shrink_to_fit();
        self.core.transfer_free.shrink_to_fit();
        self.core.meta.shrink_to_fit();
        self.nodes.shrink_to_fit();
    }

    /// Wall-clock and size figures (for the run-info file).
    pub fn run_info(&self) -> RunInfo {
        let secs = self.wall.as_secs_f64();
        RunInfo {
            events: self.core.stats.events,
            discarded: self.core.stats.discarded,
            sim_time_ns: self.core.now,
            wall_secs: secs,
            events_per_sec: if secs > 0.0 {
                self.core.stats.events as f64 / secs
            } else {
                0.0
            },
            peak_queue: self.core.queue.peak_len(),
            nodes: self.nodes.len(),
        }
    }

    /// Copy the engine's own totals into counters named `engine.*` (and,
    /// with a topology, `net.*` counters and the `node_bytes` and
    /// `link_bytes` tables, written once, at the first call).
    pub fn finish_metrics(&mut self) {
        let s = self.core.stats;
        let m = &mut self.core.metrics;
        for (k, v) in [
            ("engine.events", s.events),
            ("engine.discarded", s.discarded),
            ("engine.datagrams_sent", s.datagrams),
            ("engine.datagram_bytes", s.datagram_bytes),
            ("engine.delivered", s.delivered),
            ("engine.lost_receiver_down", s.lost_down),
            ("engine.timers_fired", s.timers_fired),
            ("engine.timers_cancelled", s.timers_cancelled),
            ("engine.transfers_started", s.transfers),
            ("engine.transfer_bytes", s.transfer_bytes),
            ("engine.transfers_failed", s.transfers_failed),
            ("engine.requests", s.requests),
            ("engine.requests_dropped", s.requests_dropped),
            ("engine.node_starts", s.starts),
            ("engine.node_stops", s.stops),
        ] {
            m.set_counter(k, v);
        }
        if let Some(r) = self.core.routed.as_deref() {
            const CLASS_NAMES: [&str; CLASSES] = [
                "net.class0_bytes",
                "net.class1_bytes",
                "net.class2_bytes",
                "net.class3_bytes",
                "net.class4_bytes",
                "net.class5_bytes",
                "net.class6_bytes",
                "net.class7_bytes",
            ];
            for (name, &b) in CLASS_NAMES.iter().zip(r.class_bytes()) {
                m.set_counter(name, b);
            }
            m.set_counter("net.datagrams_lost", r.lost);
            m.set_counter("net.unroutable", r.unroutable);
            m.set_counter("net.nat_unreachable", r.nat_unreachable);
            if !self.network_tables_written {
                for (node, b) in r.node_bytes.iter().enumerate() {
                    if b.sent > 0 || b.received > 0 {
                        let row = NodeBytesRow {
                            node: node as u32,
                            sent_bytes: b.sent,
                            received_bytes: b.received,
                        };
                        m.record("node_bytes", &row);
                    }
                }
                for (link, d, f) in r.link_bytes() {
                    if d > 0 || f > 0 {
                        let row = LinkBytesRow {
                            link: link as u32,
                            datagram_bytes: d,
                            flow_bytes: f,
                        };
                        m.record("link_bytes", &row);
                    }
                }
                self.network_tables_written = true;
            }
        }
    }

    /// Run until a limit is reached or no event is left.
    pub fn run(&mut self, limits: RunLimits) -> Result<RunOutcome, SimError> {
        if limits.max_events == Some(0) || limits.abort_after == Some(0) {
            return Err(SimError::ZeroBudget);
        }
        if let Some(u) = limits.until {
            self.check_time(u)?;
        }
        let wall_start = std::time::Instant::now();
        let start_events = self.core.stats.events;
        let until = limits.until.map_or(u64::MAX, |t| t.0);
        let budget = limits.max_events.unwrap_or(u64::MAX);
        let abort = limits.abort_after.unwrap_or(u64::MAX);
        let reason = loop {
            let done = self.core.stats.events - start_events;
            if done >= abort {
                break StopReason::Aborted;
            }
            if done >= budget {
                break StopReason::Budget;
            }
            let Some((t, ev)) = self.core.queue.pop_until(until) else {
                if self.core.queue.is_empty() {
                    break StopReason::Idle;
                }
                self.core.now = until;
                break StopReason::Until;
            };
            self.core.now = t;
            self.dispatch(ev);
        };
        if reason == StopReason::Idle
            && let Some(u) = limits.until
            && u.0 != u64::MAX
        {
            self.core.now = self.core.now.max(u.0);
        }
        let wall = wall_start.elapsed();
        self.wall += wall;
        Ok(RunOutcome {
            reason,
            events: self.core.stats.events - start_events,
            wall,
        })
    }

    #[inline]
    fn cx(core: &mut Core<N::Msg, N::Timer>, node: u32, inc: u32) -> Cx<'_, N> {
        Ctx {
            core,
            me: NodeId(node),
            inc,
            alive: true,
        }
    }

    #[inline]
    fn dispatch(&mut self, ev: Ev<N::Timer>) {
        let core = &mut self.core;
        match ev {
            Ev::Deliver {
                to,
                from,
                epoch,
                msg,
            } => {
                let msg = core.unpark(msg);
                let m = &core.meta[to as usize];
                let inc = m.inc;
                if m.started_epoch > epoch || m.life != Life::Up {
                    core.stats.lost_down += 1;
                    core.stats.discarded += 1;
                    return;
                }
                core.trace(EventKind::Deliver, to, from as u64);
                core.stats.events += 1;
                core.stats.delivered += 1;
                if let Some(r) = core.routed.as_mut() {
                    r.received(to, msg.wire_size());
                }
                let mut cx = Self::cx(core, to, inc);
                self.nodes[to as usize].on_message(&mut cx, NodeId(from), msg);
            }
            Ev::Timer {
                node,
                inc,
                slot,
                generation,
                timer,
            } => {
                let g = &mut core.timer_gen[slot as usize];
                if *g != generation {
                    // Cancelled: its slot was already freed.
                    core.cancelled_pending = core.cancelled_pending.saturating_sub(1);
                    core.stats.discarded += 1;
                    return;
                }
                *g = g.wrapping_add(1);
                core.timer_free.push(slot);
                let m = &core.meta[node as usize];
                if m.inc != inc || m.life != Life::Up {
                    core.stats.discarded += 1;
                    return;
                }
                core.trace(EventKind::Timer, node, slot as u64);
                core.stats.events += 1;
                core.stats.timers_fired += 1;
                let mut cx = Self::cx(core, node, inc);
                self.nodes[node as usize].on_timer(&mut cx, timer);
            }
            Ev::TransferEnd { slot, id } => {
                let live = core.transfers[slot as usize]
                    .as_ref()
                    .is_some_and(|t| t.id == id);
                if !live {
                    core.stats.discarded += 1;
                    return;
                }
                let t = core.transfers[slot as usize].take().expect("live");
                core.transfer_free.push(slot);
                core.trace(EventKind::Transfer, t.to, id);
                core.stats.events += 1;
                let sender_ok = {
                    let m = &core.meta[t.from as usize];
                    m.inc == t.from_inc && m.life == Life::Up
                };
                let receiver_ok = !t.failed && {
                    let m = &core.meta[t.to as usize];
                    m.inc == t.to_inc && m.life == Life::Up
                };
                let started = Time(t.start);
                if receiver_ok {
                    core.stats.transfer_bytes += t.bytes;
                    if let Some(r) = core.routed.as_mut() {
                        r.account_transfer(t.from, t.to, t.bytes, t.class);
                    }
                    let mut cx = Self::cx(core, t.to, t.to_inc);
                    self.nodes[t.to as usize].on_message(&mut cx, NodeId(t.from), t.msg);
                }
                if sender_ok {
                    let outcome = if receiver_ok {
                        TransferOutcome::Completed {
                            to: NodeId(t.to),
                            bytes: Bytes(t.bytes),
                            started,
                        }
                    } else {
                        self.core.stats.transfers_failed += 1;
                        TransferOutcome::Failed {
                            to: NodeId(t.to),
                            moved: Bytes(0),
                            started,
                        }
                    };
                    let mut cx = Self::cx(&mut self.core, t.from, t.from_inc);
                    self.nodes[t.from as usize].on_transfer(&mut cx, TransferId(id), outcome);
                }
            }
            Ev::Request { workload, client } => self.fire_request(workload, client),
            Ev::Start { node } => {
                if self.availability_allows_start(node) {
                    self.start_node(node);
                } else {
                    self.core.stats.discarded += 1;
                }
            }
            Ev::Stop { node, how } => self.stop_node(node, how),
            Ev::Churn { node, t, ask_next } => self.churn_event(node, t, ask_next),
            Ev::Group => self.group_event(),
            Ev::FlowWake => self.core.flow_wake(),
            Ev::LinkCut { link, cut } => self.link_cut(link, cut),
            Ev::Sample => self.sample(),
        }
    }

    fn fire_request(&mut self, w: u16, c: u32) {
        let core = &mut self.core;
        let slot = &mut self.workloads[w as usize];
        let client = &mut slot.clients[c as usize];
        let Some(req) = client.pending.take() else {
            return;
        };
        let node = client.node;
        let seq = client.seq;
        client.seq += 1;
        // Draw the next request first: the sequence must not depend on what
        // the node does with this one.
        if let Some((gap, next)) = slot.source.next(node, Time(core.now), &mut client.rng) {
            client.pending = Some(next);
            core.queue
                .push(
                    core.now.saturating_add(gap.0),
                    Ev::Request {
                        workload: w,
                        client: c,
                    },
                )
                .expect("future");
        }
        let up = core.meta[node.index()].is_up();
        if self.config.log_requests {
            let row = RequestRow {
                time_ns: core.now,
                workload: w,
                client: node.0,
                seq,
                delivered: up,
                request: format!("{req:?}"),
            };
            core.metrics.record("requests", &row);
        }
        core.trace(EventKind::Request, node.0, seq);
        core.stats.events += 1;
        core.stats.requests += 1;
        if !up {
            core.stats.requests_dropped += 1;
            return;
        }
        let inc = core.meta[node.index()].inc;
        let mut cx = Self::cx(core, node.0, inc);
        self.nodes[node.index()].on_request(&mut cx, req);
    }

    fn start_node(&mut self, node: u32) {
        let core = &mut self.core;
        let seed = core.seed;
        let m = &mut core.meta[node as usize];
        match m.life {
            Life::Created => {}
            Life::Down => {
                m.inc += 1;
                m.rng = node_rng(seed, Purpose::Node, node, m.inc);
                m.net = SplitMix64::derived(seed, Purpose::Network, node, m.inc);
            }
            Life::Up | Life::Departed => {
                core.stats.discarded += 1;
                return;
            }
        }
        m.life = Life::Up;
        if m.inc > 0 {
            // A restart: whatever was sent before now was addressed to an
            // earlier incarnation. (Incarnation 0 has no predecessor, so it
            // accepts messages sent before its first start.)
            core.epoch += 1;
            m.started_epoch = core.epoch;
        }
        let inc = m.inc;
        core.trace(EventKind::Start, node, inc as u64);
        core.stats.events += 1;
        core.stats.starts += 1;
        let mut cx = Self::cx(core, node, inc);
        self.nodes[node as usize].on_start(&mut cx);
    }

    fn stop_node(&mut self, node: u32, how: Stop) {
        let core = &mut self.core;
        let m = &mut core.meta[node as usize];
        if m.life != Life::Up {
            core.stats.discarded += 1;
            return;
        }
        m.life = match how {
            Stop::Transient => Life::Down,
            Stop::Permanent => Life::Departed,
        };
        let inc = m.inc;
        core.trace(EventKind::Stop, node, how as u64);
        core.stats.events += 1;
        core.stats.stops += 1;
        {
            let mut cx = Ctx {
                core: &mut *core,
                me: NodeId(node),
                inc,
                alive: false,
            };
            self.nodes[node as usize].on_stop(&mut cx, how);
        }
        // Transfers from or to this node fail now; the senders that are
        // still up learn how much was moved. Bytes queued at the node are
        // dropped with it.
        let mut failed = Vec::new();
        for slot in 0..self.core.transfers.len() {
            let hit = self.core.transfers[slot]
                .as_ref()
                .is_some_and(|t| t.from == node || t.to == node);
            if hit {
                failed.push((slot as u32, None));
            }
        }
        self.fail_transfers(failed);
    }

    /// Fail the transfers in `slots` now (with the bytes moved, when the
    /// flow model already stopped them); senders still up are told.
    fn fail_transfers(&mut self, slots: Vec<(u32, Option<u64>)>) {
        for (slot, moved) in slots {
            let Some(t) = self.core.transfers[slot as usize].take() else {
                continue;
            };
            self.core.transfer_free.push(slot);
            self.core.stats.transfers_failed += 1;
            let moved = match moved {
                Some(m) => {
                    if let Some(r) = self.core.routed.as_mut() {
                        r.account_transfer(t.from, t.to, m, t.class);
                    }
                    m
                }
                None => self.core.stop_transfer(&t),
            };
            self.core.stats.transfer_bytes += moved;
            let sender = &self.core.meta[t.from as usize];
            if sender.inc == t.from_inc && sender.is_up() {
                let outcome = TransferOutcome::Failed {
                    to: NodeId(t.to),
                    moved: Bytes(moved),
                    started: Time(t.start),
                };
                let mut cx = Self::cx(&mut self.core, t.from, t.from_inc);
                self.nodes[t.from as usize].on_transfer(&mut cx, TransferId(t.id), outcome);
            }
        }
        self.core.ensure_wake();
    }

    fn link_cut(&mut self, link: u32, cut: bool) {
        let now = self.core.now;
        let Some(r) = self.core.routed.as_mut() else {
            return;
        };
        let victims = r.set_cut(now, LinkId(link), cut);
        self.core.metrics.count(
            if cut {
                "net.link_cuts"
            } else {
                "net.link_restores"
            },
            1,
        );
        let slots = victims.into_iter().map(|(s, m)| (s, Some(m))).collect();
        self.fail_transfers(slots);
    }

    fn sample(&mut self) {
        let Some(every) = self.config.sample_every else {
            return;
        };
        let now = self.core.now;
        let up = self.nodes_up() as f64;
        let pending = self.core.queue.len() as f64;
        let m = &mut self.core.metrics;
        m.sample(now, "nodes_up", up);
        m.sample(now, "pending_events", pending);
        m.sample(now, "events", self.core.stats.events as f64);
        for (name, f) in &self.gauges {
            let v = f(&self.nodes);
            self.core.metrics.sample(now, name, v);
        }
        // Sampling alone must not keep a run alive: schedule the next sample
        // only while other events are pending.
        if !self.core.queue.is_empty() {
            self.core
                .queue
                .push(now.saturating_add(every.0), Ev::Sample)
                .expect("future");
        }
    }
}
