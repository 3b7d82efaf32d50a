//! The Kademlia state machine of one node, sans-IO.
//!
//! # Drive loop
//! 1. Feed one [`Input`] with [`Kademlia::handle`], giving the current time
//!    and the node's random stream.
//! 2. Drain [`Kademlia::poll_output`] until it returns `None`: send every
//!    [`Output::Send`] as a datagram, (re)arm every [`Output::SetTimer`]
//!    (one pending deadline per named [`Timer`]; a new one replaces the
//!    old), deliver every [`Output::Event`] to the layer above and add
//!    every [`Output::Count`] to a counter.
//! 3. When a timer fires, feed [`Input::Timer`]. Firing early or late is
//!    harmless: the machine checks its own deadline.
//!
//! The machine never reads a clock, a socket or global randomness, and it
//! never reads global state: the id table it holds only interns ids it
//! receives on the wire (see [`IdTable`]).
//!
//! # What a layer above sees
//! [`Command`]s in (find the closest nodes to a key, get, put), [`Event`]s
//! out, each with a [`LookupReport`] (start, end, hops, messages, bytes and
//! every peer the lookup met with its final state).

use crate::config::{Config, Rejoin, RpcTimeout};
use crate::key::{Distance, IdTable, Key};
use crate::lookup::{Lookup, LookupAction, LookupPeer, PeerState, Termination};
use crate::message::{Contacts, KadMsg, Request, Response, Value, WireContact};
use crate::store::{Record, RecordStore};
use crate::table::{Observed, RoutingTable};
use rand::Rng;
use sim_core::{Duration, Message, NodeId, Stop, Time};
use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::Arc;

// Buffers a node needs only while it handles one input, shared by every node
// of the thread instead of kept by each: kept per node, their capacities
// (grown in the busiest moment of each node) were two thirds of the heap of a
// warm 3·10^4-node run. One node handles one input at a time, so one spare
// of each suffices; a node that finds the spare taken allocates its own. They
// hold no state between inputs, so sharing them cannot change what a node
// does.
thread_local! {
    static SPARE_OUT: Cell<VecDeque<Output>> = const { Cell::new(VecDeque::new()) };
    static SPARE_SCRATCH: Cell<Vec<(Distance, NodeId)>> = const { Cell::new(Vec::new()) };
}

/// The thread's scratch buffer for closest contacts (empty), to give back
/// with [`put_scratch`].
fn take_scratch() -> Vec<(Distance, NodeId)> {
    SPARE_SCRATCH.with(Cell::take)
}

fn put_scratch(mut v: Vec<(Distance, NodeId)>) {
    v.clear();
    SPARE_SCRATCH.with(|c| c.set(v));
}

/// The named timers. One deadline each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// The earliest RPC deadline.
    Rpc,
    /// Bucket refresh.
    Refresh,
    /// Record republish.
    Republish,
    /// Record expiry.
    Expire,
    /// Retry a join that found nobody.
    Rejoin,
    /// The earliest end of a lookup's termination wait
    /// ([`Termination::ClosestAnswered`](crate::lookup::Termination)).
    Lookup,
}

impl Timer {
    /// Every timer, in firing order for equal deadlines.
    pub const ALL: [Timer; 6] = [
        Timer::Rpc,
        Timer::Refresh,
        Timer::Republish,
        Timer::Expire,
        Timer::Rejoin,
        Timer::Lookup,
    ];
    /// Number of timers.
    pub const COUNT: usize = 6;
    /// Index into a per-timer table.
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Requests from the layer above.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Find the k closest nodes to `key`.
    FindClosest {
        /// Echoed in the event.
        tag: u64,
        /// The key.
        key: Key,
    },
    /// Fetch the value under `key`.
    Get {
        /// Echoed in the event.
        tag: u64,
        /// The key.
        key: Key,
    },
    /// Store a value of `len` bytes under `key` on the `replication`
    /// closest nodes.
    Put {
        /// Echoed in the event.
        tag: u64,
        /// The key.
        key: Key,
        /// Payload length.
        len: u32,
    },
}

/// Everything that drives the machine.
#[derive(Debug, Clone)]
pub enum Input {
    /// The node (re)starts. `bootstrap` seeds the join; `join: false` skips
    /// the self-lookup (warm start: the table is already built).
    Start {
        /// Contacts to join through.
        bootstrap: Vec<WireContact>,
        /// Run the join's self-lookup.
        join: bool,
    },
    /// A datagram arrived.
    Message {
        /// Its sender's address.
        from: NodeId,
        /// The datagram.
        msg: KadMsg,
    },
    /// A named timer fired.
    Timer(Timer),
    /// A request from the layer above.
    Command(Command),
    /// The node stops.
    Stop(Stop),
}

/// What an operation was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum OpKind {
    /// The join's self-lookup.
    Join,
    /// A bucket refresh.
    Refresh,
    /// A user's `FindClosest`.
    FindClosest,
    /// A user's `Get`.
    Get,
    /// A user's `Put`.
    Put,
    /// Republish of a held record.
    Republish,
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The closest nodes that answered, closest first (`FindClosest`,
    /// join).
    Closest(Vec<WireContact>),
    /// The value, if found (`Get`).
    Got(Option<Value>),
    /// How many nodes acknowledged the store (`Put`).
    Stored(u32),
    /// Not started: too many operations running.
    Rejected,
}

/// Measurements of one lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupReport {
    /// Start.
    pub started: Time,
    /// End.
    pub ended: Time,
    /// Depth at which the closest result was learned (0: it was in the
    /// routing table or a bootstrap contact).
    pub hops: Option<u8>,
    /// Requests sent (lookup and store phases).
    pub requests: u32,
    /// Responses received.
    pub responses: u32,
    /// Bytes of requests sent.
    pub bytes_sent: u64,
    /// Bytes of responses received.
    pub bytes_received: u64,
    /// The request budget ran out.
    pub exhausted: bool,
    /// Every peer the lookup met, closest first, with its final state.
    pub peers: Vec<LookupPeer>,
}

/// An operation's result, for the layer above.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The command's tag (0 for the join).
    pub tag: u64,
    /// What it was.
    pub kind: OpKind,
    /// The key.
    pub key: Key,
    /// The result.
    pub outcome: Outcome,
    /// Measurements.
    pub report: LookupReport,
}

/// What the machine asks of its driver.
#[derive(Debug, Clone)]
pub enum Output {
    /// Send a datagram.
    Send {
        /// Receiver.
        to: NodeId,
        /// Datagram.
        msg: KadMsg,
    },
    /// Fire `timer` at `at` (replacing its pending deadline).
    SetTimer {
        /// Which.
        timer: Timer,
        /// When.
        at: Time,
    },
    /// An operation finished.
    Event(Event),
    /// Add one to this counter.
    Count(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Lookup(u32),
    Store(u32),
    /// Ping-before-evict.
    Evict,
    /// Nothing waits for the answer (cache stores, rejoin pings).
    Fire,
}

#[derive(Debug, Clone, Copy)]
struct PendingRpc {
    rid: u32,
    to: NodeId,
    sent: Time,
    deadline: Time,
    purpose: Purpose,
    /// False once answered (a tombstone until the next compaction).
    live: bool,
}

/// The outstanding RPCs in send order (so by request id, which grows with
/// sends), with the answered ones left as tombstones and compacted away
/// in bulk: removing from the middle of a vector of hundreds of entries
/// per answer was an eighth of a run's instructions. Every observer sees
/// the live entries in the same order as with an eager removal.
#[derive(Debug, Clone, Default)]
struct Rpcs {
    v: Vec<PendingRpc>,
    dead: usize,
}

impl Rpcs {
    fn len(&self) -> usize {
        self.v.len() - self.dead
    }
    fn push(&mut self, r: PendingRpc) {
        self.v.push(r);
    }
    fn iter(&self) -> impl Iterator<Item = &PendingRpc> {
        self.v.iter().filter(|r| r.live)
    }
    /// Drop the tombstones, keeping the order.
    fn compact(&mut self) {
        if self.dead > 0 {
            self.v.retain(|r| r.live);
            self.dead = 0;
        }
    }
    /// Remove and return the live RPC `rid` sent to `to`.
    fn take(&mut self, rid: u32, to: NodeId) -> Option<PendingRpc> {
        let hit = |r: &PendingRpc| r.live && r.rid == rid && r.to == to;
        // Sorted by rid unless the 32-bit counter wrapped; rids of live
        // entries are distinct, so a hit by bisection is the one entry a
        // scan would find, and a miss falls back to the scan.
        let pos = match self.v.binary_search_by_key(&rid, |r| r.rid) {
            Ok(p) if hit(&self.v[p]) => p,
            _ => self.v.iter().position(hit)?,
        };
        let r = self.v[pos];
        self.v[pos].live = false;
        self.dead += 1;
        if self.dead > 32 && self.dead * 2 > self.v.len() {
            self.compact();
        }
        Some(r)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Lookup,
    Storing {
        value: Value,
        pending: u32,
        acked: u32,
    },
}

#[derive(Debug, Clone)]
struct Op {
    id: u32,
    tag: u64,
    kind: OpKind,
    lookup: Lookup,
    started: Time,
    responses: u32,
    store_requests: u32,
    bytes_sent: u64,
    bytes_received: u64,
    phase: Phase,
    found: Option<Value>,
    /// Value to store after the lookup (Put, Republish).
    to_store: Option<Value>,
}

/// Smoothed round-trip estimate (RFC 6298, integer nanoseconds).
#[derive(Debug, Clone, Copy, Default)]
struct Rtt {
    srtt_ns: u64,
    rttvar_ns: u64,
    samples: u32,
}

impl Rtt {
    fn sample(&mut self, rtt_ns: u64) {
        if self.samples == 0 {
            self.srtt_ns = rtt_ns;
            self.rttvar_ns = rtt_ns / 2;
        } else {
            let err = self.srtt_ns.abs_diff(rtt_ns);
            self.rttvar_ns = (3 * self.rttvar_ns + err) / 4;
            self.srtt_ns = (7 * self.srtt_ns + rtt_ns) / 8;
        }
        self.samples = self.samples.saturating_add(1);
    }
    fn timeout(&self, policy: RpcTimeout) -> Duration {
        match policy {
            RpcTimeout::Fixed(d) => d,
            RpcTimeout::Adaptive {
                initial,
                floor,
                cap,
            } => {
                if self.samples == 0 {
                    initial
                } else {
                    Duration((self.srtt_ns + 4 * self.rttvar_ns).clamp(floor.0, cap.0.max(floor.0)))
                }
            }
        }
    }
}

/// Originally published records this node re-puts.
#[derive(Debug, Clone, Copy)]
struct Published {
    key: Key,
    len: u32,
    last_put: Time,
}

/// One node's Kademlia state machine.
#[derive(Debug, Clone)]
pub struct Kademlia {
    cfg: Arc<Config>,
    ids: Arc<IdTable>,
    me: NodeId,
    id: Key,
    table: RoutingTable,
    store: RecordStore,
    published: Vec<Published>,
    rpcs: Rpcs,
    ops: Vec<Op>,
    next_rid: u32,
    next_op: u32,
    rtt: Rtt,
    deadlines: [Option<Time>; Timer::COUNT],
    bootstrap: Vec<WireContact>,
    rejoins: u8,
    /// The last stop was transient and kept the routing table.
    kept_table: bool,
    /// Targets of the join's refresh lookups not started yet.
    join_refresh: VecDeque<Key>,
    /// Outputs not yet polled; its buffer is the thread's spare while the
    /// node handles an input, given back when polled empty.
    out: VecDeque<Output>,
    running: bool,
}

/// Why an inbound datagram was ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// The sender's claimed id is not its id.
    SenderId,
    /// A key of the wrong width.
    KeyWidth,
    /// More contacts than k, or a contact whose id is wrong.
    Contacts,
    /// A response to no outstanding request.
    Unmatched,
    /// A response of the wrong kind for its request.
    WrongKind,
}

impl Malformed {
    fn counter(self) -> &'static str {
        match self {
            Malformed::SenderId => "kad.malformed.sender_id",
            Malformed::KeyWidth => "kad.malformed.key_width",
            Malformed::Contacts => "kad.malformed.contacts",
            Malformed::Unmatched => "kad.unmatched_response",
            Malformed::WrongKind => "kad.malformed.wrong_kind",
        }
    }
}

impl Kademlia {
    /// The machine of node `me`, whose id is `ids.id(me)`.
    pub fn new(cfg: Arc<Config>, ids: Arc<IdTable>, me: NodeId) -> Kademlia {
        let id = *ids.id(me);
        assert_eq!(id.bits(), cfg.key_bits, "id width differs from config");
        let mut table = RoutingTable::new(
            id,
            cfg.k,
            cfg.replacements_per_bucket,
            cfg.stale_failures_max,
        );
        table.set_ping_after(cfg.ping_after);
        table.set_spread_bits(cfg.spread_bits());
        Kademlia {
            cfg,
            ids,
            me,
            id,
            table,
            store: RecordStore::default(),
            published: Vec::new(),
            rpcs: Rpcs::default(),
            ops: Vec::new(),
            next_rid: 0,
            next_op: 0,
            rtt: Rtt::default(),
            deadlines: [None; Timer::COUNT],
            bootstrap: Vec::new(),
            rejoins: 0,
            kept_table: false,
            join_refresh: VecDeque::new(),
            out: VecDeque::new(),
            running: false,
        }
    }

    /// This node's id.
    pub fn id(&self) -> &Key {
        &self.id
    }
    /// This node's address.
    pub fn me(&self) -> NodeId {
        self.me
    }
    /// The bootstrap contacts of the last start (the valid ones), to hand
    /// back in at the next.
    pub fn bootstrap(&self) -> &[WireContact] {
        &self.bootstrap
    }
    /// The bootstrap contacts for the next start: `given` if a caller set
    /// any since the last start, else those the machine kept. A node's
    /// wrapper hands its list over at the first start instead of keeping a
    /// second copy (8 contacts of 48 bytes per node: 0.4 GB at 10^6 nodes).
    pub fn bootstrap_for_start(&self, given: &mut Vec<WireContact>) -> Vec<WireContact> {
        if given.is_empty() {
            self.bootstrap.clone()
        } else {
            std::mem::take(given)
        }
    }
    /// The shared id table.
    pub fn ids(&self) -> &IdTable {
        &self.ids
    }
    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// The routing table.
    pub fn table(&self) -> &RoutingTable {
        &self.table
    }
    /// The routing table, mutably (warm start).
    pub fn table_mut(&mut self) -> &mut RoutingTable {
        &mut self.table
    }
    /// The record store.
    pub fn store(&self) -> &RecordStore {
        &self.store
    }
    /// Operations running.
    pub fn ops_running(&self) -> usize {
        self.ops.len()
    }
    /// RPCs outstanding.
    pub fn rpcs_pending(&self) -> usize {
        self.rpcs.len()
    }
    /// Outstanding RPCs as (peer, request id), oldest first.
    pub fn pending_rpcs(&self) -> Vec<(NodeId, u32)> {
        self.rpcs.iter().map(|r| (r.to, r.rid)).collect()
    }
    /// The current RPC timeout.
    pub fn rpc_timeout(&self) -> Duration {
        self.rtt.timeout(self.cfg.rpc_timeout)
    }
    /// Heap bytes of the node's long-lived state (table, store, buffers).
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
            + self.bootstrap.capacity() * std::mem::size_of::<WireContact>()
            + std::mem::size_of_val(self.store.records())
            + self.published.capacity() * std::mem::size_of::<Published>()
            + self.rpcs.v.capacity() * std::mem::size_of::<PendingRpc>()
            + self.ops.capacity() * std::mem::size_of::<Op>()
            + self.out.capacity() * std::mem::size_of::<Output>()
            + self.join_refresh.capacity() * std::mem::size_of::<Key>()
    }
    /// Release spare buffer capacity (after a burst).
    pub fn shrink_to_fit(&mut self) {
        self.table.shrink_to_fit();
        self.rpcs.compact();
        self.rpcs.v.shrink_to_fit();
        self.ops.shrink_to_fit();
        self.out.shrink_to_fit();
        self.join_refresh.shrink_to_fit();
        self.published.shrink_to_fit();
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        let o = self.out.pop_front();
        if o.is_none() && self.out.capacity() > 0 {
            let spare = std::mem::take(&mut self.out);
            SPARE_OUT.with(|c| c.set(spare));
        }
        o
    }

    /// Feed one input at time `now`.
    pub fn handle<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, input: Input) {
        if self.out.capacity() == 0 {
            self.out = SPARE_OUT.with(Cell::take);
        }
        match input {
            Input::Start { bootstrap, join } => self.start(now, rng, bootstrap, join),
            Input::Message { from, msg } => {
                if self.running
                    && let Err(e) = self.on_message(now, from, msg)
                {
                    self.out.push_back(Output::Count(e.counter()));
                }
            }
            Input::Timer(t) => {
                if self.running {
                    self.on_timer(now, rng, t);
                }
            }
            Input::Command(c) => {
                if self.running {
                    self.on_command(now, c);
                }
            }
            Input::Stop(how) => self.stop(how),
        }
        if self.running {
            self.drive_ops(now, rng);
            while self.start_join_refresh(now) {
                self.drive_ops(now, rng);
            }
            self.arm_lookup_timer();
        }
        self.release_idle_buffers();
    }

    /// Give back the buffers of work that is over: a node keeps the
    /// capacity of its busiest moment otherwise (its operations and RPCs
    /// while it joined), which at 10^5 nodes and more outweighs the routing
    /// tables. Dropping an empty buffer changes nothing a node does.
    fn release_idle_buffers(&mut self) {
        if self.ops.is_empty() && self.ops.capacity() > 0 {
            self.ops = Vec::new();
        }
        if self.rpcs.len() == 0 && self.rpcs.v.capacity() > 0 {
            self.rpcs = Rpcs::default();
        }
        if self.join_refresh.is_empty() && self.join_refresh.capacity() > 0 {
            self.join_refresh = VecDeque::new();
        }
    }

    // ---------------------------------------------------------------- lifecycle

    fn start<R: Rng + ?Sized>(
        &mut self,
        now: Time,
        rng: &mut R,
        bootstrap: Vec<WireContact>,
        join: bool,
    ) {
        self.running = true;
        self.deadlines = [None; Timer::COUNT];
        self.rejoins = 0;
        let kept_table = std::mem::take(&mut self.kept_table);
        self.bootstrap = bootstrap
            .into_iter()
            .filter(|c| c.node != self.me && self.ids.get(c.node) == Some(&c.id))
            .collect();
        if let Some(iv) = self.cfg.refresh_interval {
            // Spread refreshes so that nodes started together do not refresh
            // together: first one uniform in [interval/2, interval].
            let half = iv.0 / 2;
            let at = now + Duration(half + rng.next_u64() % (half.max(1)));
            self.arm(Timer::Refresh, at);
        }
        if let Some(iv) = self
            .cfg
            .republish_interval
            .or(self.cfg.original_republish_interval)
        {
            self.arm(Timer::Republish, now + iv);
        }
        if let Some(t) = self.store.next_expiry() {
            self.arm(Timer::Expire, t);
        }
        if !join || !self.cfg.self_lookup_on_join {
            return;
        }
        if kept_table && !self.table.is_empty() {
            match self.cfg.rejoin {
                Rejoin::SelfLookup => {}
                Rejoin::PingClosest => {
                    self.ping_closest(now);
                    return;
                }
                Rejoin::Silent => return,
            }
        }
        self.join(now);
    }

    /// [`Rejoin::PingClosest`]: ping the k closest contacts of the table
    /// to the node's own id.
    fn ping_closest(&mut self, now: Time) {
        self.out.push_back(Output::Count("kad.rejoins_by_ping"));
        let mut v = take_scratch();
        let id = self.id;
        self.table.closest(&id, self.cfg.k, &self.ids, None, &mut v);
        for &(_, n) in &v {
            self.send_request(now, n, Request::Ping, Purpose::Fire);
        }
        put_scratch(v);
    }

    fn join(&mut self, now: Time) {
        self.join_refresh.clear();
        let target = self.id;
        let seeds = self.seeds(&target);
        self.start_op(now, OpKind::Join, 0, target, seeds, None);
    }

    fn stop(&mut self, how: Stop) {
        self.running = false;
        self.rpcs = Rpcs::default();
        self.ops = Vec::new();
        self.join_refresh = VecDeque::new();
        self.out = VecDeque::new();
        self.deadlines = [None; Timer::COUNT];
        self.rtt = Rtt::default();
        let keep_table = how == Stop::Transient && self.cfg.keep_table_on_restart;
        self.kept_table = keep_table;
        if keep_table {
            // Pings in flight are lost with the node.
            self.table.clear_pings();
        } else {
            self.table = RoutingTable::new(
                self.id,
                self.cfg.k,
                self.cfg.replacements_per_bucket,
                self.cfg.stale_failures_max,
            );
            self.table.set_ping_after(self.cfg.ping_after);
            self.table.set_spread_bits(self.cfg.spread_bits());
        }
        if how == Stop::Permanent {
            self.store.clear();
            self.published = Vec::new();
        }
    }

    // ---------------------------------------------------------------- timers

    fn arm(&mut self, t: Timer, at: Time) {
        let slot = &mut self.deadlines[t.index()];
        if slot.is_none_or(|d| at < d) {
            *slot = Some(at);
            self.out.push_back(Output::SetTimer { timer: t, at });
        }
    }

    fn arm_rpc_timer(&mut self) {
        if let Some(d) = self.rpcs.iter().map(|r| r.deadline).min() {
            self.arm(Timer::Rpc, d);
        }
    }

    /// Arm [`Timer::Lookup`] for the earliest end of a lookup's
    /// termination wait.
    fn arm_lookup_timer(&mut self) {
        if self.cfg.termination == Termination::KClosest {
            return;
        }
        if let Some(t) = self
            .ops
            .iter()
            .filter(|o| o.phase == Phase::Lookup)
            .filter_map(|o| o.lookup.wake_at())
            .min()
        {
            self.arm(Timer::Lookup, t);
        }
    }

    fn on_timer<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, t: Timer) {
        match self.deadlines[t.index()] {
            Some(d) if d <= now => self.deadlines[t.index()] = None,
            _ => return,
        }
        match t {
            Timer::Rpc => self.expire_rpcs(now),
            Timer::Refresh => {
                if let Some(iv) = self.cfg.refresh_interval {
                    self.refresh(now, rng, Time(now.0.saturating_sub(iv.0)));
                    self.arm(Timer::Refresh, now + iv);
                }
            }
            Timer::Republish => self.republish(now),
            Timer::Expire => {
                let n = self.store.expire(now);
                for _ in 0..n {
                    self.out.push_back(Output::Count("kad.records_expired"));
                }
                if let Some(t) = self.store.next_expiry() {
                    self.arm(Timer::Expire, t);
                }
            }
            Timer::Rejoin => self.join(now),
            // The operations are driven after every input.
            Timer::Lookup => {}
        }
    }

    fn expire_rpcs(&mut self, now: Time) {
        self.rpcs.compact();
        let mut i = 0;
        while i < self.rpcs.v.len() {
            if self.rpcs.v[i].deadline > now {
                i += 1;
                continue;
            }
            let r = self.rpcs.v.swap_remove(i);
            self.out.push_back(Output::Count("kad.rpc_timeouts"));
            if let Some(id) = self.ids.get(r.to).copied() {
                self.table.rpc_failed(r.to, &id);
            }
            match r.purpose {
                Purpose::Lookup(op) => {
                    if let Some(o) = self.ops.iter_mut().find(|o| o.id == op) {
                        o.lookup.on_timeout(r.to, now);
                    }
                }
                Purpose::Store(op) => {
                    if let Some(o) = self.ops.iter_mut().find(|o| o.id == op)
                        && let Phase::Storing { pending, .. } = &mut o.phase
                    {
                        *pending = pending.saturating_sub(1);
                    }
                }
                Purpose::Evict | Purpose::Fire => {}
            }
        }
        // swap_remove reorders; keep the table sorted by send order for a
        // deterministic scan (rids increase with sends).
        self.rpcs.v.sort_unstable_by_key(|r| r.rid);
        self.arm_rpc_timer();
    }

    fn refresh<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, before: Time) {
        let mut due = Vec::new();
        let room = self.cfg.ops_max.saturating_sub(self.ops.len());
        self.table
            .due_for_refresh(before, self.cfg.refresh_lookups_max.min(room), &mut due);
        for idx in due {
            let target = self.id.random_in_bucket(idx, rng);
            let seeds = self.seeds(&target);
            self.start_op(now, OpKind::Refresh, 0, target, seeds, None);
        }
    }

    fn republish(&mut self, now: Time) {
        let room = self.cfg.ops_max.saturating_sub(self.ops.len());
        let mut budget = self.cfg.republish_batch_max.min(room);
        if let Some(iv) = self.cfg.republish_interval {
            let before = Time(now.0.saturating_sub(iv.0));
            let mut jobs = Vec::new();
            for r in self.store.records_mut() {
                if budget == 0 {
                    break;
                }
                // A record stored here within the interval was just
                // replicated by someone else: skip it (the paper's rule).
                if !r.cached && r.stored <= before {
                    r.stored = now;
                    jobs.push((r.key, r.value));
                    budget -= 1;
                }
            }
            for (key, value) in jobs {
                let seeds = self.seeds(&key);
                self.start_op(now, OpKind::Republish, 0, key, seeds, Some(value));
            }
        }
        if let Some(iv) = self.cfg.original_republish_interval {
            let before = Time(now.0.saturating_sub(iv.0));
            let mut jobs = Vec::new();
            for p in &mut self.published {
                if budget == 0 {
                    break;
                }
                if p.last_put <= before {
                    p.last_put = now;
                    jobs.push((p.key, p.len));
                    budget -= 1;
                }
            }
            for (key, len) in jobs {
                let value = Value {
                    publisher: self.me,
                    published: now,
                    version: now.0,
                    len,
                };
                let seeds = self.seeds(&key);
                self.start_op(now, OpKind::Republish, 0, key, seeds, Some(value));
            }
        }
        let next = [
            self.cfg.republish_interval,
            self.cfg.original_republish_interval,
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(iv) = next {
            self.arm(Timer::Republish, now + iv);
        }
    }

    // ---------------------------------------------------------------- commands

    /// The k closest contacts to `target`; while the table holds fewer
    /// than k contacts, the bootstrap contacts too.
    fn seeds(&self, target: &Key) -> Vec<(Distance, NodeId)> {
        let mut s = Vec::new();
        self.table
            .closest(target, self.cfg.k, &self.ids, None, &mut s);
        if s.len() < self.cfg.k {
            for c in &self.bootstrap {
                if !s.iter().any(|x| x.1 == c.node) {
                    s.push((c.id.distance(target), c.node));
                }
            }
        }
        s
    }

    fn on_command(&mut self, now: Time, c: Command) {
        let (kind, tag, key, store) = match c {
            Command::FindClosest { tag, key } => (OpKind::FindClosest, tag, key, None),
            Command::Get { tag, key } => (OpKind::Get, tag, key, None),
            Command::Put { tag, key, len } => {
                let value = Value {
                    publisher: self.me,
                    published: now,
                    version: now.0,
                    len,
                };
                if self.cfg.original_republish_interval.is_some() {
                    self.published.retain(|p| p.key != key);
                    if self.published.len() < self.cfg.records_max {
                        self.published.push(Published {
                            key,
                            len,
                            last_put: now,
                        });
                    }
                }
                (OpKind::Put, tag, key, Some(value))
            }
        };
        if key.bits() != self.cfg.key_bits {
            self.reject(now, kind, tag, key);
            return;
        }
        let seeds = self.seeds(&key);
        self.start_op(now, kind, tag, key, seeds, store);
    }

    fn reject(&mut self, now: Time, kind: OpKind, tag: u64, key: Key) {
        self.out.push_back(Output::Count("kad.ops_rejected"));
        self.out.push_back(Output::Event(Event {
            tag,
            kind,
            key,
            outcome: Outcome::Rejected,
            report: LookupReport {
                started: now,
                ended: now,
                hops: None,
                requests: 0,
                responses: 0,
                bytes_sent: 0,
                bytes_received: 0,
                exhausted: false,
                peers: Vec::new(),
            },
        }));
    }

    fn start_op(
        &mut self,
        now: Time,
        kind: OpKind,
        tag: u64,
        target: Key,
        seeds: Vec<(Distance, NodeId)>,
        to_store: Option<Value>,
    ) {
        if self.ops.len() >= self.cfg.ops_max {
            if matches!(kind, OpKind::FindClosest | OpKind::Get | OpKind::Put) {
                self.reject(now, kind, tag, target);
            } else {
                self.out.push_back(Output::Count("kad.ops_rejected"));
            }
            return;
        }
        self.table.touch(&target, now);
        let id = self.next_op;
        self.next_op = self.next_op.wrapping_add(1);
        let lookup = Lookup::new(
            target,
            self.cfg.k,
            self.cfg.alpha,
            self.cfg.lookup_peers_max,
            self.cfg.lookup_rpcs_max,
            seeds,
        )
        .with_termination(self.cfg.termination);
        // One operation more at a time: an operation is about 450 bytes and
        // a node runs one or two at once, so the vector's first growth to
        // four (1.8 KB) was most of a joining node's operations memory.
        if self.ops.len() == self.ops.capacity() {
            self.ops.reserve_exact(1);
        }
        self.ops.push(Op {
            id,
            tag,
            kind,
            lookup,
            started: now,
            responses: 0,
            store_requests: 0,
            bytes_sent: 0,
            bytes_received: 0,
            phase: Phase::Lookup,
            found: None,
            to_store,
        });
    }

    // ---------------------------------------------------------------- sending

    /// Send a request; returns its size, or None when too many RPCs are
    /// outstanding.
    fn send_request(
        &mut self,
        now: Time,
        to: NodeId,
        body: Request,
        purpose: Purpose,
    ) -> Option<u64> {
        if self.rpcs.len() >= self.cfg.rpcs_pending_max {
            self.out.push_back(Output::Count("kad.rpcs_refused"));
            return None;
        }
        let rid = self.next_rid;
        self.next_rid = self.next_rid.wrapping_add(1);
        let msg = KadMsg::Request {
            rid,
            sender: self.id,
            body,
        };
        let bytes = msg.wire_size();
        let deadline = now + self.rtt.timeout(self.cfg.rpc_timeout);
        self.rpcs.push(PendingRpc {
            rid,
            to,
            sent: now,
            deadline,
            purpose,
            live: true,
        });
        self.arm(Timer::Rpc, deadline);
        self.out.push_back(Output::Send { to, msg });
        Some(bytes)
    }

    fn drive_ops<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R) {
        let mut i = 0;
        // Each pass either sends (bounded by α/k per op and by the pending
        // RPC cap) or moves to the next op.
        while i < self.ops.len() {
            let action = self.ops[i].lookup.next(now);
            match (action, self.ops[i].phase) {
                (LookupAction::Contact(peer), Phase::Lookup) => {
                    let target = *self.ops[i].lookup.target();
                    let body = if self.ops[i].kind == OpKind::Get {
                        Request::FindValue { key: target }
                    } else {
                        Request::FindNode { target }
                    };
                    let op = self.ops[i].id;
                    match self.send_request(now, peer, body, Purpose::Lookup(op)) {
                        Some(b) => self.ops[i].bytes_sent += b,
                        None => self.ops[i].lookup.on_failure(peer, now),
                    }
                }
                (LookupAction::Finished, Phase::Lookup) => {
                    if self.lookup_finished(now, i, rng) {
                        i += 1;
                    }
                }
                (_, Phase::Storing { pending: 0, .. }) => {
                    let op = self.ops.remove(i);
                    self.complete(now, op);
                }
                _ => i += 1,
            }
        }
    }

    /// The lookup of op `i` is over. Returns whether the op is still in
    /// the table at `i`.
    fn lookup_finished<R: Rng + ?Sized>(&mut self, now: Time, i: usize, rng: &mut R) -> bool {
        let value = match self.ops[i].kind {
            OpKind::Put | OpKind::Republish => self.ops[i].to_store,
            _ => None,
        };
        if let Some(value) = value {
            let targets: Vec<NodeId> = self.ops[i]
                .lookup
                .result()
                .take(self.cfg.replication)
                .map(|p| p.node)
                .collect();
            let key = *self.ops[i].lookup.target();
            let op = self.ops[i].id;
            let mut sent = 0;
            for t in targets {
                let body = Request::Store {
                    key,
                    value,
                    cached: false,
                };
                if let Some(b) = self.send_request(now, t, body, Purpose::Store(op)) {
                    self.ops[i].bytes_sent += b;
                    self.ops[i].store_requests += 1;
                    sent += 1;
                }
            }
            self.ops[i].phase = Phase::Storing {
                value,
                pending: sent,
                acked: 0,
            };
            return true;
        }
        let op = self.ops.remove(i);
        if op.kind == OpKind::Join
            && op.lookup.result().next().is_none()
            && self.rejoins < self.cfg.join_retries_max
        {
            // Nobody answered: try again later (bounded).
            self.rejoins += 1;
            self.arm(Timer::Rejoin, now + self.cfg.join_retry_interval);
        }
        if op.kind == OpKind::Join && self.cfg.refresh_on_join {
            // Refresh every bucket farther than the closest neighbour:
            // queue the targets, started a few at a time
            // (`start_join_refresh`).
            let mut due = Vec::new();
            self.table
                .due_for_refresh(Time::MAX, self.cfg.refresh_lookups_max, &mut due);
            let lowest = self.table.lowest_bucket();
            for idx in due {
                if Some(idx) == lowest {
                    continue;
                }
                let m = self.cfg.join_refresh_targets.max(1);
                let bits = u16::from(self.cfg.spread_bits()).min(idx);
                let slots = 1u32 << bits;
                for j in 0..m {
                    // With spread buckets, the targets aim at distinct
                    // sub-ranges (stratified: target j in the j-th of m
                    // equal groups of sub-ranges).
                    let target = if bits > 0 && m > 1 {
                        let lo = (j as u64 * slots as u64 / m as u64) as u32;
                        let hi = (((j + 1) as u64 * slots as u64 / m as u64) as u32).max(lo + 1);
                        let slot = lo + (rng.next_u64() % (hi - lo) as u64) as u32;
                        self.id.random_in_slot(idx, bits, slot, rng)
                    } else {
                        self.id.random_in_bucket(idx, rng)
                    };
                    self.join_refresh.push_back(target);
                }
            }
        }
        self.complete(now, op);
        false
    }

    /// Start the next queued refresh lookup of the join if fewer than
    /// [`Config::join_refresh_parallel`] refresh lookups and fewer than
    /// [`Config::ops_max`] operations run. Returns whether one started.
    fn start_join_refresh(&mut self, now: Time) -> bool {
        if self.join_refresh.is_empty() || self.ops.len() >= self.cfg.ops_max {
            return false;
        }
        let running = self
            .ops
            .iter()
            .filter(|o| o.kind == OpKind::Refresh)
            .count();
        if running >= self.cfg.join_refresh_parallel {
            return false;
        }
        let Some(target) = self.join_refresh.pop_front() else {
            return false;
        };
        let seeds = self.seeds(&target);
        self.start_op(now, OpKind::Refresh, 0, target, seeds, None);
        true
    }

    fn complete(&mut self, now: Time, op: Op) {
        // Nobody waits for a refresh's or a republish's result.
        if matches!(op.kind, OpKind::Refresh | OpKind::Republish) {
            return;
        }
        let outcome = match op.kind {
            OpKind::Join | OpKind::FindClosest | OpKind::Refresh => Outcome::Closest(
                op.lookup
                    .result()
                    .map(|p| WireContact {
                        node: p.node,
                        id: *self.ids.id(p.node),
                    })
                    .collect(),
            ),
            OpKind::Get => Outcome::Got(op.found),
            OpKind::Put | OpKind::Republish => match op.phase {
                Phase::Storing { acked, .. } => Outcome::Stored(acked),
                Phase::Lookup => Outcome::Stored(0),
            },
        };
        let hops = match op.kind {
            OpKind::Get if op.found.is_some() => op
                .lookup
                .peers()
                .iter()
                .filter(|p| matches!(p.state, PeerState::Succeeded(_)))
                .map(|p| p.depth)
                .max(),
            _ => op.lookup.result().next().map(|p| p.depth),
        };
        let report = LookupReport {
            started: op.started,
            ended: now,
            hops,
            requests: op.lookup.rpcs() + op.store_requests,
            responses: op.responses,
            bytes_sent: op.bytes_sent,
            bytes_received: op.bytes_received,
            exhausted: op.lookup.exhausted(),
            peers: op.lookup.peers().to_vec(),
        };
        self.out.push_back(Output::Event(Event {
            tag: op.tag,
            kind: op.kind,
            key: *op.lookup.target(),
            outcome,
            report,
        }));
    }

    // ---------------------------------------------------------------- receiving

    fn valid_sender(&self, from: NodeId, sender: &Key) -> Result<(), Malformed> {
        if self.ids.get(from) == Some(sender) && from != self.me {
            Ok(())
        } else {
            Err(Malformed::SenderId)
        }
    }

    fn observe(&mut self, now: Time, from: NodeId, id: &Key) {
        if let Observed::PingOldest(old) = self.table.observe_with(from, id, now, Some(&self.ids)) {
            self.send_request(now, old, Request::Ping, Purpose::Evict);
        }
    }

    fn on_message(&mut self, now: Time, from: NodeId, msg: KadMsg) -> Result<(), Malformed> {
        let size = msg.wire_size();
        match msg {
            KadMsg::Request { rid, sender, body } => {
                self.valid_sender(from, &sender)?;
                let resp = self.answer(now, from, body)?;
                self.observe(now, from, &sender);
                self.out.push_back(Output::Send {
                    to: from,
                    msg: KadMsg::Response {
                        rid,
                        sender: self.id,
                        body: resp,
                    },
                });
                Ok(())
            }
            KadMsg::Response { rid, sender, body } => {
                self.valid_sender(from, &sender)?;
                let Some(rpc) = self.rpcs.take(rid, from) else {
                    return Err(Malformed::Unmatched);
                };
                self.rtt.sample(now.since(rpc.sent).0);
                match rpc.purpose {
                    Purpose::Evict => self.table.ping_answered(from, &sender, now),
                    _ => self.observe(now, from, &sender),
                }
                self.on_response(now, from, &sender, rpc.purpose, body, size)
            }
        }
    }

    fn answer(&mut self, now: Time, from: NodeId, body: Request) -> Result<Response, Malformed> {
        let bits = self.cfg.key_bits;
        Ok(match body {
            Request::Ping => Response::Pong,
            Request::FindNode { target } => {
                if target.bits() != bits {
                    return Err(Malformed::KeyWidth);
                }
                Response::Nodes {
                    peers: self.closest_wire(&target, Some(from)),
                }
            }
            Request::FindValue { key } => {
                if key.bits() != bits {
                    return Err(Malformed::KeyWidth);
                }
                match self.store.get(&key) {
                    Some(r) if r.expires > now => Response::Found { value: r.value },
                    _ => Response::Nodes {
                        peers: self.closest_wire(&key, Some(from)),
                    },
                }
            }
            Request::Store { key, value, cached } => {
                if key.bits() != bits {
                    return Err(Malformed::KeyWidth);
                }
                let ttl_end = value.published.saturating_add(self.cfg.record_ttl);
                let expires = if cached {
                    ttl_end.min(now.saturating_add(self.cfg.cache_ttl))
                } else {
                    ttl_end
                };
                let rec = Record {
                    key,
                    value,
                    expires,
                    stored: now,
                    original: false,
                    cached,
                };
                let ok = self.store.put(rec, now, self.cfg.records_max).is_ok();
                if ok {
                    self.arm(Timer::Expire, expires);
                } else {
                    self.out.push_back(Output::Count("kad.store_refused"));
                }
                Response::Stored { ok }
            }
        })
    }

    fn closest_wire(&mut self, target: &Key, skip: Option<NodeId>) -> Contacts {
        let mut v = take_scratch();
        self.table
            .closest(target, self.cfg.k, &self.ids, skip, &mut v);
        let mut wire = Contacts::with_capacity(v.len(), self.cfg.key_bits);
        for &(_, n) in &v {
            wire.push_id(n, self.ids.id(n));
        }
        put_scratch(v);
        wire
    }

    fn on_response(
        &mut self,
        now: Time,
        from: NodeId,
        sender: &Key,
        purpose: Purpose,
        body: Response,
        size: u64,
    ) -> Result<(), Malformed> {
        let op_id = match purpose {
            Purpose::Lookup(o) | Purpose::Store(o) => o,
            Purpose::Evict | Purpose::Fire => return Ok(()),
        };
        let Some(i) = self.ops.iter().position(|o| o.id == op_id) else {
            return Ok(());
        };
        self.ops[i].responses += 1;
        self.ops[i].bytes_received += size;
        if let Purpose::Store(_) = purpose {
            if let Phase::Storing { pending, acked, .. } = &mut self.ops[i].phase {
                *pending = pending.saturating_sub(1);
                if body == (Response::Stored { ok: true }) {
                    *acked += 1;
                }
            }
            return Ok(());
        }
        let k = self.cfg.k;
        match body {
            Response::Nodes { peers } => {
                let bad =
                    peers.len() > k || peers.iter().any(|c| self.ids.get(c.node) != Some(&c.id));
                if bad {
                    self.ops[i].lookup.on_failure(from, now);
                    return Err(Malformed::Contacts);
                }
                let target = *self.ops[i].lookup.target();
                let me = self.me;
                let closer = peers
                    .iter()
                    .filter(|c| c.node != me)
                    .map(|c| (c.id.distance(&target), c.node));
                // `from`'s id is its validated `sender`, the id it was
                // inserted into the lookup with.
                let d = sender.distance(&target);
                self.ops[i].lookup.on_success_at(from, &d, now, closer);
                Ok(())
            }
            Response::Found { value } if self.ops[i].kind == OpKind::Get => {
                self.ops[i].lookup.on_success(from, now, std::iter::empty());
                self.ops[i].found = Some(value);
                self.ops[i].lookup.finish();
                if self.cfg.cache_on_path {
                    // Cache at the closest peer that answered without it.
                    let key = *self.ops[i].lookup.target();
                    let at = self.ops[i]
                        .lookup
                        .peers()
                        .iter()
                        .find(|p| matches!(p.state, PeerState::Succeeded(_)) && p.node != from)
                        .map(|p| p.node);
                    if let Some(at) = at {
                        let body = Request::Store {
                            key,
                            value,
                            cached: true,
                        };
                        if let Some(b) = self.send_request(now, at, body, Purpose::Fire) {
                            self.ops[i].bytes_sent += b;
                        }
                    }
                }
                Ok(())
            }
            _ => {
                self.ops[i].lookup.on_failure(from, now);
                Err(Malformed::WrongKind)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The tombstoned table shows the same live RPCs, in the same order,
    /// as a vector with eager removal, including after the request ids
    /// wrap around.
    #[test]
    fn rpcs_match_eager_removal() {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let pick = |r: &mut rand_xoshiro::Xoshiro256PlusPlus, n: u64| r.next_u64() % n;
        for start in [0u32, u32::MAX - 40] {
            let mut model: Vec<PendingRpc> = Vec::new();
            let mut t = Rpcs::default();
            let mut rid = start;
            for step in 0..20_000u32 {
                match pick(&mut r, 10) {
                    0..5 => {
                        let p = PendingRpc {
                            rid,
                            to: NodeId(pick(&mut r, 8) as u32),
                            sent: Time(u64::from(step)),
                            deadline: Time(u64::from(step) + 10),
                            purpose: Purpose::Fire,
                            live: true,
                        };
                        rid = rid.wrapping_add(1);
                        model.push(p);
                        t.push(p);
                    }
                    5..9 => {
                        // Mostly ids that are pending, sometimes a wrong
                        // peer or an unknown id.
                        let (q, to) =
                            match model.get(pick(&mut r, model.len().max(1) as u64) as usize) {
                                Some(p) if pick(&mut r, 4) > 0 => (p.rid, p.to),
                                _ => ((pick(&mut r, 64) as u32).wrapping_add(start), NodeId(1)),
                            };
                        let want = model
                            .iter()
                            .position(|p| p.rid == q && p.to == to)
                            .map(|i| model.remove(i));
                        let got = t.take(q, to);
                        assert_eq!(got.map(|p| (p.rid, p.to)), want.map(|p| (p.rid, p.to)));
                    }
                    _ => t.compact(),
                }
                assert_eq!(t.len(), model.len());
                let live: Vec<(u32, NodeId)> = t.iter().map(|p| (p.rid, p.to)).collect();
                let eager: Vec<(u32, NodeId)> = model.iter().map(|p| (p.rid, p.to)).collect();
                assert_eq!(live, eager, "step {step}");
            }
        }
    }

    /// Requests sent by `kad` since the last call: (receiver, is a ping).
    fn sent(kad: &mut Kademlia) -> Vec<(NodeId, bool)> {
        let mut v = Vec::new();
        while let Some(o) = kad.poll_output() {
            if let Output::Send {
                to,
                msg: KadMsg::Request { body, .. },
            } = o
            {
                v.push((to, body == Request::Ping));
            }
        }
        v
    }

    /// A node restarting with its table kept rejoins by one round of pings
    /// to its k closest contacts with [`Rejoin::PingClosest`], by the
    /// self-lookup with [`Rejoin::SelfLookup`], without any RPC with
    /// [`Rejoin::Silent`]; a node whose table was lost (a permanent stop)
    /// looks itself up whatever the option.
    #[test]
    fn rejoin_after_transient_restart() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(9);
        let ids = Arc::new(IdTable::random(200, 64, &mut rng));
        let sorted = crate::warm::SortedIds::all(&ids);
        let me = NodeId(0);
        let boot = vec![WireContact {
            node: NodeId(1),
            id: *ids.id(NodeId(1)),
        }];
        for rejoin in [Rejoin::SelfLookup, Rejoin::PingClosest, Rejoin::Silent] {
            for how in [Stop::Transient, Stop::Permanent] {
                let cfg = Arc::new(Config {
                    key_bits: 64,
                    rejoin,
                    ..Config::default()
                });
                let k = cfg.k;
                let mut kad = Kademlia::new(cfg, ids.clone(), me);
                let id = *ids.id(me);
                sorted.fill(kad.table_mut(), &id, &mut rng, Time(0));
                let mut closest = Vec::new();
                kad.table().closest(&id, k, &ids, None, &mut closest);
                assert_eq!(closest.len(), k);
                let t = Time(1_000);
                kad.handle(
                    t,
                    &mut rng,
                    Input::Start {
                        bootstrap: boot.clone(),
                        join: false,
                    },
                );
                assert!(sent(&mut kad).is_empty());
                kad.handle(t, &mut rng, Input::Stop(how));
                let t = Time(2_000);
                kad.handle(
                    t,
                    &mut rng,
                    Input::Start {
                        bootstrap: boot.clone(),
                        join: true,
                    },
                );
                let out = sent(&mut kad);
                if rejoin == Rejoin::PingClosest && how == Stop::Transient {
                    let mut want: Vec<(NodeId, bool)> =
                        closest.iter().map(|&(_, n)| (n, true)).collect();
                    let mut got = out.clone();
                    want.sort_unstable();
                    got.sort_unstable();
                    assert_eq!(got, want);
                } else if rejoin == Rejoin::Silent && how == Stop::Transient {
                    assert!(out.is_empty(), "{out:?}");
                } else if how == Stop::Transient {
                    // The self-lookup over the kept table: α FindNode
                    // requests, no ping.
                    assert_eq!(out.len(), 3, "{rejoin:?}: {out:?}");
                    assert!(out.iter().all(|&(_, ping)| !ping));
                } else {
                    // The table is gone: the self-lookup through the
                    // bootstrap contact.
                    assert_eq!(out, vec![(NodeId(1), false)], "{rejoin:?}");
                }
                // Only the start right after a kept table pings: a second
                // restart after a start without a stop does not.
                kad.handle(
                    t,
                    &mut rng,
                    Input::Start {
                        bootstrap: boot.clone(),
                        join: true,
                    },
                );
                let again = sent(&mut kad);
                assert!(again.iter().all(|&(_, ping)| !ping), "{again:?}");
            }
        }
    }
}
