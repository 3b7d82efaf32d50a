//! The storage state machine of one node, sans-IO.
//!
//! # Drive loop
//! Feed one [`Input`] with [`Storage::handle`] (the current time and the
//! node's random stream beside it), then drain [`Storage::poll_output`]:
//! send [`Output::Send`] as a datagram and [`Output::SendBulk`] as a bulk
//! transfer (report its end with [`Input::BulkDone`]), (re)arm
//! [`Output::SetTimer`] (one deadline per named [`Timer`]), answer
//! [`Output::FindPlacement`] with [`Input::Placement`] (the DHT's closest
//! nodes to the key, closest first), and hand [`Output::Event`] to the
//! layer above.
//!
//! # Roles
//! - A **client** writes an object by asking for placement and sending
//!   fragment `i` to the `i`-th candidate; a full node refuses and the next
//!   candidate is tried. When every fragment is acknowledged the client
//!   sends the final holder list to every holder ([`StoreMsg::Commit`]).
//!   It reads by asking the candidates which fragment they hold and
//!   fetching any `m` distinct ones.
//! - **Holders** keep, beside each fragment, the object's metadata (scheme,
//!   length, holder list in rank order). The first holder not presumed gone
//!   in a holder's own view *leads* the object's maintenance: every
//!   heartbeat it pings the other holders (presumed-gone ones too, so that
//!   their return is noticed); the others hear from it through those pings.
//!   A holder not heard from for the detection timeout is presumed gone;
//!   when the leader is presumed gone, the next holder takes over (each
//!   candidate first gives the previous one a full timeout). Nothing else
//!   distinguishes a transient absence from a permanent departure: a
//!   presumed-gone holder that is heard from again was a false alarm, and
//!   its fragment counts again (as an extra copy).
//! - The leader **repairs** by policy ([`RepairPolicy`]): it asks for
//!   placement, gathers `m − 1` fragments from live holders (erasure
//!   coding; a replica needs none), rebuilds the missing fragments and sends
//!   each to a new node, as bulk transfers in the repair traffic class.
//!   Optional **audits** ask followers to confirm what they hold and repair
//!   what is missing on live nodes.
//!
//! Repair bytes are counted by cause (true loss, false alarm, audit) on the
//! node that sends them, from the transfers' outcomes (a transfer its
//! sender's stop abandons counts the bytes it moved until then); see
//! [`RepairBytes::tally`].

use crate::config::{Config, RepairDelay, RepairPlacement, RepairPolicy};
use crate::message::{Cause, Holder, Malformed, ObjMeta, StoreMsg};
use crate::scheme::{ObjectId, stored_len};
use kademlia::Key;
use rand::{Rng, RngExt};
use sim_core::{Duration, NodeId, Stop, Time};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// Placement lookups a write makes at most before it fails for lack of
/// room.
pub const PLACEMENT_LOOKUPS: u8 = 3;

/// The named timers. One deadline each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// Heartbeat: pings and failure checks.
    Tick,
    /// The earliest operation deadline.
    Ops,
    /// The earliest due repair.
    Repair,
    /// The next audit.
    Audit,
    /// The next silent loss of a fragment.
    Latent,
    /// The earliest acknowledgement due for a delivered `Put`.
    Acks,
}

impl Timer {
    /// Number of timers.
    pub const COUNT: usize = 6;
    /// Index into a per-timer table.
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Requests from the layer above (a client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Store an object of `len` plaintext bytes.
    Write {
        /// Echoed in the event.
        tag: u64,
        /// Its content address.
        object: ObjectId,
        /// Plaintext length.
        len: u64,
    },
    /// Read an object.
    Read {
        /// Echoed in the event.
        tag: u64,
        /// The object.
        object: ObjectId,
    },
    /// Delete an object.
    Delete {
        /// Echoed in the event.
        tag: u64,
        /// The object.
        object: ObjectId,
    },
}

/// Identifies a bulk transfer to its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bulk {
    /// The operation (for a `Put`) or the requester's operation (for a
    /// `Data`).
    pub rid: u32,
    /// The fragment.
    pub index: u16,
    /// Receiver.
    pub to: NodeId,
    /// `Put` (true) or `Data` (false).
    pub put: bool,
    /// Repair cause, if a repair transfer.
    pub cause: Option<Cause>,
}

/// Everything that drives the machine.
#[derive(Debug, Clone)]
pub enum Input {
    /// The node (re)starts.
    Start,
    /// A message arrived (a datagram, or a bulk transfer's last byte).
    Message {
        /// Sender.
        from: NodeId,
        /// The message.
        msg: StoreMsg,
    },
    /// Bytes arrived from the wire (decoded and checked here).
    Wire {
        /// Sender.
        from: NodeId,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A named timer fired.
    Timer(Timer),
    /// A client request.
    Command(Command),
    /// The answer to [`Output::FindPlacement`]: nodes closest to the key,
    /// closest first.
    Placement {
        /// The tag of the request.
        tag: u64,
        /// Candidates.
        nodes: Vec<NodeId>,
    },
    /// A bulk transfer this node started has ended. Also taken after
    /// [`Input::Stop`], for a transfer the stop abandoned: its bytes are
    /// counted and nothing else happens.
    BulkDone {
        /// What it was.
        bulk: Bulk,
        /// All bytes arrived.
        delivered: bool,
        /// Bytes moved.
        bytes: u64,
    },
    /// The node stops.
    Stop(Stop),
}

/// Why a write failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFailure {
    /// Not every fragment found a node with room: `placed` of `need`.
    NoSpace {
        /// Fragments stored.
        placed: u16,
        /// Fragments needed.
        need: u16,
    },
    /// The operation timed out.
    Timeout,
}

/// Why a read failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFailure {
    /// Fewer than `need` distinct fragments could be found.
    NotEnough {
        /// Distinct fragments found.
        found: u16,
        /// Needed.
        need: u16,
    },
    /// The transfers did not finish in time.
    Timeout,
}

impl ReadFailure {
    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            ReadFailure::NotEnough { .. } => "not-enough-fragments",
            ReadFailure::Timeout => "timeout",
        }
    }
}

impl WriteFailure {
    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            WriteFailure::NoSpace { .. } => "no-space",
            WriteFailure::Timeout => "timeout",
        }
    }
}

/// What the machine reports to the layer above.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A write ended.
    Written {
        /// The command's tag.
        tag: u64,
        /// The object.
        object: ObjectId,
        /// Start.
        started: Time,
        /// End.
        ended: Time,
        /// The holders, or why it failed.
        result: Result<Vec<Holder>, WriteFailure>,
    },
    /// A read ended.
    Read {
        /// The command's tag.
        tag: u64,
        /// The object.
        object: ObjectId,
        /// Start.
        started: Time,
        /// End.
        ended: Time,
        /// Bytes fetched, or why it failed.
        result: Result<u64, ReadFailure>,
    },
    /// A delete was sent to the candidates.
    Deleted {
        /// The command's tag.
        tag: u64,
        /// The object.
        object: ObjectId,
    },
    /// A repair ended.
    Repaired {
        /// The object.
        object: ObjectId,
        /// Fragments rebuilt.
        fragments: u16,
        /// Fragments that found no new holder.
        unplaced: u16,
    },
    /// A repair could not run (too few live fragments to rebuild from, or
    /// it timed out); the next heartbeat plans it again.
    RepairAborted {
        /// The object.
        object: ObjectId,
    },
    /// A holder was presumed gone.
    PresumedGone {
        /// The holder.
        peer: NodeId,
    },
    /// A presumed-gone holder was heard from again.
    Returned {
        /// The holder.
        peer: NodeId,
    },
    /// This node's disk gained or lost a fragment.
    Disk {
        /// The object.
        object: ObjectId,
        /// The fragment.
        index: u16,
        /// Stored (true) or removed (false).
        stored: bool,
    },
}

/// What the machine asks of its driver.
#[derive(Debug, Clone)]
pub enum Output {
    /// Send a datagram.
    Send {
        /// Receiver.
        to: NodeId,
        /// The message.
        msg: StoreMsg,
    },
    /// Start a bulk transfer; report its end with [`Input::BulkDone`].
    SendBulk {
        /// Receiver.
        to: NodeId,
        /// The message.
        msg: StoreMsg,
        /// What to report back.
        bulk: Bulk,
    },
    /// Fire `timer` at `at` (replacing its pending deadline).
    SetTimer {
        /// Which.
        timer: Timer,
        /// When.
        at: Time,
    },
    /// Ask the DHT for the closest nodes to `key`; answer with
    /// [`Input::Placement`] and the same tag.
    FindPlacement {
        /// Echo this.
        tag: u64,
        /// The key.
        key: Key,
        /// The closest contacts of the node's own routing table will do
        /// (no lookup): a repair with [`RepairPlacement::Table`].
        local: bool,
    },
    /// Something happened.
    Event(Event),
    /// Add to a counter.
    Count(&'static str, u64),
}

/// A fragment on this node's disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// Which fragment.
    pub index: u16,
    /// The object's metadata.
    pub meta: ObjMeta,
}

/// Volatile maintenance state of an object this node leads.
#[derive(Debug, Clone, Default)]
struct Maint {
    /// Losses waiting for their repair time: (fragment, when, cause).
    due: Vec<(u16, Time, Cause)>,
    /// A repair is running.
    repairing: bool,
}

#[derive(Debug, Clone, Copy)]
struct Peer {
    last_heard: Time,
    gone_since: Option<Time>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Pending(NodeId),
    Acked(NodeId),
    Failed,
}

/// `n` is presumed gone in the view `peers` of node `me`.
fn gone_in(peers: &BTreeMap<NodeId, Peer>, me: NodeId, n: NodeId) -> bool {
    n != me && peers.get(&n).is_some_and(|p| p.gone_since.is_some())
}

/// The leader of an object in the view `peers` of node `me`: its first
/// holder not presumed gone (none before the object is committed).
fn leader_in(peers: &BTreeMap<NodeId, Peer>, me: NodeId, meta: &ObjMeta) -> Option<NodeId> {
    if meta.version == 0 {
        // Not committed yet: the writer still decides the holders.
        return None;
    }
    meta.holders
        .iter()
        .map(|h| h.node)
        .find(|&n| !gone_in(peers, me, n))
}

/// Every fragment of the object has a holder not presumed gone: `n` such
/// holders for replication, each index `0..n` held by one for erasure
/// coding. False when unsure (more than 128 fragments), which only sends
/// [`Storage::plan`] the long way.
fn nothing_missing_in(peers: &BTreeMap<NodeId, Peer>, me: NodeId, meta: &ObjMeta) -> bool {
    let n = meta.scheme.n();
    let live = meta.holders.iter().filter(|x| !gone_in(peers, me, x.node));
    if meta.scheme.is_replication() {
        live.count() >= usize::from(n)
    } else if n <= 128 {
        let mut have = 0u128;
        for x in live {
            if x.index < n {
                have |= 1 << x.index;
            }
        }
        have.count_ones() == u32::from(n)
    } else {
        false
    }
}

/// A fragment's holder answered a `Put` (or its transfer failed: `ok`
/// false). The slot becomes acknowledged, or moves to the next candidate
/// (returned, for the caller to send to), or fails when none is left.
fn answer_slot(
    slot: &mut SlotState,
    from: NodeId,
    ok: bool,
    cands: &[NodeId],
    next: &mut usize,
) -> Option<NodeId> {
    if ok {
        *slot = SlotState::Acked(from);
        return None;
    }
    match cands.get(*next) {
        Some(&to) => {
            *next += 1;
            *slot = SlotState::Pending(to);
            Some(to)
        }
        None => {
            *slot = SlotState::Failed;
            None
        }
    }
}

#[derive(Debug, Clone)]
enum OpState {
    Write {
        object: ObjectId,
        stored_len: u64,
        slots: Vec<(u16, SlotState)>,
        cands: Vec<NodeId>,
        next: usize,
        /// Placement lookups made so far.
        lookups: u8,
    },
    Read {
        object: ObjectId,
        /// Distinct fragments offered, in arrival order.
        have: Vec<(u16, NodeId)>,
        asked: u32,
        answered: u32,
        need: u16,
        fetching: Vec<(u16, NodeId)>,
        got: u16,
        bytes: u64,
        query_deadline: Time,
    },
    Repair {
        object: ObjectId,
        todo: Vec<(u16, Cause)>,
        cands: Vec<NodeId>,
        next: usize,
        /// Fragments still to gather before rebuilding (erasure coding).
        gather_left: u16,
        gather_from: Vec<NodeId>,
        gathering: bool,
        slots: Vec<(u16, Cause, SlotState)>,
    },
}

#[derive(Debug, Clone)]
struct Op {
    tag: u64,
    started: Time,
    deadline: Time,
    state: OpState,
}

/// Repair bytes by cause (see [`RepairBytes::tally`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepairBytes {
    /// Triggered by a holder presumed gone that was never heard from again.
    pub true_loss: u64,
    /// Triggered by a holder presumed gone that came back with its disk.
    pub false_alarm: u64,
    /// Triggered by an audit that found a fragment missing.
    pub audit: u64,
    /// Fragments rebuilt after true losses.
    pub true_loss_fragments: u64,
    /// Fragments rebuilt after false alarms.
    pub false_alarm_fragments: u64,
    /// Fragments rebuilt after audits.
    pub audit_fragments: u64,
}

impl RepairBytes {
    /// Classify the repair bytes sent by `nodes`: a loss-triggered repair is
    /// a false alarm if any node heard from its presumed-gone holder again
    /// (what the protocol itself observed; no global knowledge).
    pub fn tally<'a>(nodes: impl IntoIterator<Item = &'a Storage> + Clone) -> RepairBytes {
        let mut returned = BTreeSet::new();
        for s in nodes.clone() {
            returned.extend(s.returned.iter().copied());
        }
        let mut t = RepairBytes::default();
        for s in nodes {
            t.audit += s.repair_audit_bytes;
            t.audit_fragments += s.repair_audit_frags;
            for (g, &b) in &s.repair_loss_bytes {
                if returned.contains(g) {
                    t.false_alarm += b;
                } else {
                    t.true_loss += b;
                }
            }
            for (g, &f) in &s.repair_loss_frags {
                if returned.contains(g) {
                    t.false_alarm_fragments += f;
                } else {
                    t.true_loss_fragments += f;
                }
            }
        }
        t
    }
    /// All repair bytes.
    pub fn total(&self) -> u64 {
        self.true_loss + self.false_alarm + self.audit
    }
}

/// One node's storage state machine.
#[derive(Debug, Clone)]
pub struct Storage {
    cfg: Arc<Config>,
    me: NodeId,
    // ---- on disk (kept across a transient stop)
    disk: BTreeMap<ObjectId, Held>,
    used: u64,
    // ---- kept across a transient stop too (failure detector, scheduled
    // repairs), with the downtime discounted on restart
    maint: BTreeMap<ObjectId, Maint>,
    peers: BTreeMap<NodeId, Peer>,
    // ---- volatile
    ops: BTreeMap<u32, Op>,
    /// `Put`s delivered and not yet acknowledged: (deadline, rid, fragment)
    /// → the receiver. An acknowledgement is a datagram and may be lost;
    /// a receiver may go down before it answers.
    acks_due: BTreeMap<(Time, u32, u16), NodeId>,
    next_rid: u32,
    out: VecDeque<Output>,
    deadlines: [Option<Time>; Timer::COUNT],
    up: bool,
    /// When the node last stopped (transiently), to discount the downtime.
    stopped_at: Option<Time>,
    // ---- accounting (kept for the whole run)
    repair_loss_bytes: BTreeMap<NodeId, u64>,
    repair_audit_bytes: u64,
    repair_loss_frags: BTreeMap<NodeId, u64>,
    repair_audit_frags: u64,
    returned: BTreeSet<NodeId>,
}

impl Storage {
    /// The machine of node `me`.
    pub fn new(cfg: Arc<Config>, me: NodeId) -> Storage {
        Storage {
            cfg,
            me,
            disk: BTreeMap::new(),
            used: 0,
            maint: BTreeMap::new(),
            peers: BTreeMap::new(),
            ops: BTreeMap::new(),
            acks_due: BTreeMap::new(),
            next_rid: 1,
            out: VecDeque::new(),
            deadlines: [None; Timer::COUNT],
            up: false,
            stopped_at: None,
            repair_loss_bytes: BTreeMap::new(),
            repair_audit_bytes: 0,
            repair_loss_frags: BTreeMap::new(),
            repair_audit_frags: 0,
            returned: BTreeSet::new(),
        }
    }
    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// This node.
    pub fn me(&self) -> NodeId {
        self.me
    }
    /// The fragments on this node's disk.
    pub fn disk(&self) -> &BTreeMap<ObjectId, Held> {
        &self.disk
    }
    /// Bytes used on disk.
    pub fn used(&self) -> u64 {
        self.used
    }
    /// Holders this node presumed gone and later heard from again.
    pub fn returned(&self) -> &BTreeSet<NodeId> {
        &self.returned
    }
    /// Presumed-gone holders whose loss made this node send repair bytes,
    /// with the fragments it rebuilt for each.
    pub fn repairs_by_ghost(&self) -> &BTreeMap<NodeId, u64> {
        &self.repair_loss_frags
    }
    /// Operations running.
    pub fn ops_running(&self) -> usize {
        self.ops.len()
    }
    /// Peers this node tracks for failure detection.
    pub fn peers_tracked(&self) -> usize {
        self.peers.len()
    }
    /// Place a fragment on the disk directly (a warm start from global
    /// knowledge, labelled as such by the caller).
    pub fn preload(&mut self, object: ObjectId, held: Held) {
        self.used += held.meta.fragment_len();
        if let Some(old) = self.disk.insert(object, held) {
            self.used -= old.meta.fragment_len();
        }
    }
    /// Next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Feed one input.
    pub fn handle<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, input: Input) {
        match input {
            Input::Start => self.start(now, rng),
            Input::Stop(how) => self.stop(now, how),
            // A transfer abandoned by the stop: its bytes still count.
            Input::BulkDone { bulk, bytes, .. } if !self.up => self.account_bulk(bulk, bytes),
            _ if !self.up => {}
            Input::Message { from, msg } => {
                if let Err(e) = msg.check() {
                    self.count(e.counter(), 1);
                } else {
                    self.on_message(now, rng, from, msg);
                }
            }
            Input::Wire { from, bytes } => match StoreMsg::decode(&bytes) {
                Ok(msg) => self.on_message(now, rng, from, msg),
                Err(e) => self.count(e.counter(), 1),
            },
            Input::Timer(t) => self.on_timer(now, rng, t),
            Input::Command(c) => self.on_command(now, c),
            Input::Placement { tag, nodes } => self.on_placement(now, tag, nodes),
            Input::BulkDone {
                bulk,
                delivered,
                bytes,
            } => self.on_bulk_done(now, bulk, delivered, bytes),
        }
        self.arm_ops_timer();
    }

    // ------------------------------------------------------------ helpers

    fn count(&mut self, name: &'static str, n: u64) {
        self.out.push_back(Output::Count(name, n));
    }
    fn send(&mut self, to: NodeId, msg: StoreMsg) {
        self.out.push_back(Output::Send { to, msg });
    }
    fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }
    fn set_timer(&mut self, timer: Timer, at: Time) {
        self.deadlines[timer.index()] = Some(at);
        self.out.push_back(Output::SetTimer { timer, at });
    }
    fn rid(&mut self) -> u32 {
        let r = self.next_rid;
        self.next_rid = self.next_rid.wrapping_add(1).max(1);
        r
    }
    fn arm_ops_timer(&mut self) {
        if !self.up {
            return;
        }
        let next = self
            .ops
            .values()
            .map(|o| match &o.state {
                OpState::Read {
                    query_deadline,
                    fetching,
                    ..
                } if fetching.is_empty() => (*query_deadline).min(o.deadline),
                _ => o.deadline,
            })
            .min();
        if let Some(at) = next
            && self.deadlines[Timer::Ops.index()] != Some(at)
        {
            self.set_timer(Timer::Ops, at);
        }
    }
    fn is_gone(&self, n: NodeId) -> bool {
        gone_in(&self.peers, self.me, n)
    }
    /// The leader of an object in this node's view.
    fn leader(&self, meta: &ObjMeta) -> Option<NodeId> {
        leader_in(&self.peers, self.me, meta)
    }
    fn delay<R: Rng + ?Sized>(&self, rng: &mut R) -> Duration {
        match self.cfg.repair_delay {
            RepairDelay::Fixed(d) => d,
            RepairDelay::Exponential(mean) => {
                let u: f64 = rng.random();
                Duration((-(1.0 - u).ln() * mean.0 as f64).round() as u64)
            }
        }
    }
    fn heard(&mut self, now: Time, from: NodeId) {
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        p.last_heard = now;
        if p.gone_since.take().is_some() {
            self.returned.insert(from);
            self.count("storage.returned", 1);
            self.event(Event::Returned { peer: from });
            // The returning holder may have missed holder-list changes:
            // resend the lists of the objects this node leads that name it.
            let commits: Vec<(ObjectId, ObjMeta)> = self
                .disk
                .iter()
                .filter(|(_, h)| {
                    self.leader(&h.meta) == Some(self.me)
                        && h.meta.holders.iter().any(|x| x.node == from)
                })
                .map(|(o, h)| (*o, h.meta.clone()))
                .collect();
            for (object, meta) in commits {
                self.send(from, StoreMsg::Commit { object, meta });
            }
        }
    }
    fn store_fragment(&mut self, object: ObjectId, held: Held) {
        let index = held.index;
        self.used += held.meta.fragment_len();
        self.disk.insert(object, held);
        self.event(Event::Disk {
            object,
            index,
            stored: true,
        });
    }
    fn drop_fragment(&mut self, object: &ObjectId) -> Option<Held> {
        let h = self.disk.remove(object)?;
        self.used -= h.meta.fragment_len();
        self.maint.remove(object);
        self.event(Event::Disk {
            object: *object,
            index: h.index,
            stored: false,
        });
        Some(h)
    }

    // ------------------------------------------------------------ lifecycle

    fn start<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R) {
        self.up = true;
        self.deadlines = [None; Timer::COUNT];
        // Time spent down is not silence: shift the last-heard times of
        // peers not presumed gone by the downtime.
        if let Some(t) = self.stopped_at.take() {
            let down = now.since(t);
            for p in self.peers.values_mut() {
                if p.gone_since.is_none() {
                    p.last_heard = (p.last_heard + down).min(now);
                }
            }
        }
        // Spread the heartbeats of nodes that start together.
        let hb = self.cfg.heartbeat.0.max(1);
        self.set_timer(Timer::Tick, now + Duration(rng.random_range(0..hb)));
        if let Some(a) = self.cfg.audit_interval {
            self.set_timer(
                Timer::Audit,
                now + Duration(rng.random_range(0..a.0.max(1))),
            );
        }
        self.arm_latent(now, rng);
        self.arm_repair();
    }

    fn stop(&mut self, now: Time, how: Stop) {
        self.up = false;
        self.ops.clear();
        self.acks_due.clear();
        self.out.clear();
        self.deadlines = [None; Timer::COUNT];
        if how == Stop::Permanent {
            self.disk.clear();
            self.used = 0;
            self.maint.clear();
            self.peers.clear();
            self.stopped_at = None;
        } else {
            // The failure detector's view and the scheduled repairs are
            // kept with the disk: a holder that restarts every few hours
            // (home machines) would otherwise never reach a detection
            // timeout of a day, nor the forgetting of long-gone holders.
            for m in self.maint.values_mut() {
                m.repairing = false;
            }
            self.stopped_at = Some(now);
        }
    }

    fn arm_latent<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R) {
        let Some(mean) = self.cfg.latent_loss_mean else {
            return;
        };
        if self.disk.is_empty() {
            self.deadlines[Timer::Latent.index()] = None;
            return;
        }
        let u: f64 = rng.random();
        let gap = -(1.0 - u).ln() * mean.0 as f64 / self.disk.len() as f64;
        self.set_timer(Timer::Latent, now + Duration(gap.round().max(1.0) as u64));
    }

    // ------------------------------------------------------------ timers

    fn on_timer<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, t: Timer) {
        match self.deadlines[t.index()] {
            Some(at) if at <= now => self.deadlines[t.index()] = None,
            _ => return,
        }
        match t {
            Timer::Tick => {
                self.tick(now, rng);
                self.set_timer(Timer::Tick, now + self.cfg.heartbeat);
            }
            Timer::Ops => self.expire_ops(now),
            Timer::Acks => self.expire_acks(now),
            Timer::Repair => self.run_due(now),
            Timer::Audit => {
                self.audit(now);
                if let Some(a) = self.cfg.audit_interval {
                    self.set_timer(Timer::Audit, now + a);
                }
            }
            Timer::Latent => {
                if !self.disk.is_empty() {
                    let i = rng.random_range(0..self.disk.len());
                    let object = *self.disk.keys().nth(i).expect("in range");
                    self.drop_fragment(&object);
                    self.count("storage.latent_losses", 1);
                }
                self.arm_latent(now, rng);
            }
        }
    }

    /// One heartbeat: ping followers, time out silent peers, plan repairs.
    fn tick<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R) {
        let timeout = self.cfg.detection_timeout;
        let forget = self.cfg.forget_after;
        // Peers of interest: followers of the objects this node leads, and
        // the leader of every other object it holds.
        // Sorted and deduplicated below (cheaper than sets: a heartbeat
        // visits every held object).
        let mut ping = Vec::new();
        let mut watch = Vec::new();
        for h in self.disk.values() {
            match self.leader(&h.meta) {
                Some(l) if l == self.me => {
                    ping.extend(
                        h.meta
                            .holders
                            .iter()
                            .map(|x| x.node)
                            .filter(|&n| n != self.me),
                    );
                }
                Some(l) => {
                    watch.push(l);
                }
                None => {}
            }
        }
        ping.sort_unstable();
        ping.dedup();
        watch.sort_unstable();
        watch.dedup();
        // New peers get a full timeout from now.
        for &n in ping.iter().chain(watch.iter()) {
            self.peers.entry(n).or_insert(Peer {
                last_heard: now,
                gone_since: None,
            });
        }
        // Forget peers nobody refers to.
        self.peers
            .retain(|n, _| ping.binary_search(n).is_ok() || watch.binary_search(n).is_ok());
        // Time out.
        let mut gone = Vec::new();
        for (&n, p) in self.peers.iter_mut() {
            if p.gone_since.is_none() && now.since(p.last_heard) > timeout {
                p.gone_since = Some(now);
                gone.push(n);
            }
        }
        for n in gone {
            self.count("storage.presumed_gone", 1);
            self.event(Event::PresumedGone { peer: n });
        }
        for &n in &ping {
            self.send(n, StoreMsg::Ping);
        }
        self.count("storage.pings", ping.len() as u64);
        // Forget long-gone holders of the objects this node leads, and plan
        // repairs. The objects led here, each marked if it needs the long
        // way (holders to forget, or fragments missing); the others (the
        // common case) only have their scheduled repairs cleared, as `plan`
        // would.
        let (me, peers) = (self.me, &self.peers);
        let led: Vec<(ObjectId, bool)> = self
            .disk
            .iter()
            .filter(|(_, h)| leader_in(peers, me, &h.meta) == Some(me))
            .map(|(o, h)| {
                let stale = h.meta.holders.iter().any(|x| {
                    peers
                        .get(&x.node)
                        .and_then(|p| p.gone_since)
                        .is_some_and(|g| now.since(g) > forget)
                });
                (*o, stale || !nothing_missing_in(peers, me, &h.meta))
            })
            .collect();
        let planning = self.cfg.policy != RepairPolicy::None;
        for (object, long_way) in led {
            if !long_way {
                if planning {
                    self.maint.entry(object).or_default().due.clear();
                }
                continue;
            }
            let stale: Vec<NodeId> = self.disk[&object]
                .meta
                .holders
                .iter()
                .map(|h| h.node)
                .filter(|n| {
                    self.peers
                        .get(n)
                        .and_then(|p| p.gone_since)
                        .is_some_and(|g| now.since(g) > forget)
                })
                .collect();
            if !stale.is_empty() {
                let h = self.disk.get_mut(&object).expect("led");
                h.meta.holders.retain(|x| !stale.contains(&x.node));
                h.meta.version += 1;
                let meta = h.meta.clone();
                self.commit(object, &meta);
            }
            self.plan(now, rng, object);
        }
        // Objects no longer led drop their maintenance state (both maps in
        // key order: `retain` visits the keys in ascending order).
        let mut disk = self.disk.iter().peekable();
        let me = self.me;
        let peers = &self.peers;
        self.maint.retain(|o, m| {
            while disk.next_if(|(k, _)| *k < o).is_some() {}
            let held = disk.peek().filter(|(k, _)| *k == o).map(|(_, h)| *h);
            m.repairing
                || held.is_some_and(|h| {
                    h.meta
                        .holders
                        .iter()
                        .map(|x| x.node)
                        .find(|&n| n == me || peers.get(&n).is_none_or(|p| p.gone_since.is_none()))
                        == Some(me)
                })
        });
        self.arm_repair();
    }

    /// Schedule repairs of `object` (led by this node) by policy.
    fn plan<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, object: ObjectId) {
        if self.cfg.policy == RepairPolicy::None {
            return;
        }
        let Some(h) = self.disk.get(&object) else {
            return;
        };
        let scheme = h.meta.scheme;
        let n = scheme.n();
        if self.nothing_missing(&h.meta) {
            // The common case, without the lists below: no fragment is
            // missing, so no repair is due (whatever the policy) and none
            // is added.
            self.maint.entry(object).or_default().due.clear();
            return;
        }
        let live: Vec<Holder> = h
            .meta
            .holders
            .iter()
            .copied()
            .filter(|x| !self.is_gone(x.node))
            .collect();
        let ghosts: Vec<Holder> = h
            .meta
            .holders
            .iter()
            .copied()
            .filter(|x| self.is_gone(x.node))
            .collect();
        // Missing fragments with the ghost that held each (if any).
        let mut missing: Vec<(u16, Cause)> = Vec::new();
        let live_level;
        if scheme.is_replication() {
            live_level = live.len() as u16;
            for k in 0..n.saturating_sub(live_level) {
                let cause = ghosts
                    .get(usize::from(k))
                    .map_or(Cause::Audit, |g| Cause::Loss { ghost: g.node });
                missing.push((k, cause));
            }
        } else {
            let have: BTreeSet<u16> = live.iter().map(|x| x.index).collect();
            live_level = have.len() as u16;
            for i in 0..n {
                if !have.contains(&i) {
                    let cause = ghosts
                        .iter()
                        .find(|g| g.index == i)
                        .map_or(Cause::Audit, |g| Cause::Loss { ghost: g.node });
                    missing.push((i, cause));
                }
            }
        }
        let trigger = match self.cfg.policy {
            RepairPolicy::None => false,
            RepairPolicy::Eager => !missing.is_empty(),
            RepairPolicy::Lazy { threshold } => live_level < threshold,
        };
        let replication = scheme.is_replication();
        let m = self.maint.entry(object).or_default();
        // Drop scheduled repairs that are no longer needed (a holder came
        // back, or a commit added holders).
        if replication {
            m.due.truncate(missing.len());
        } else {
            m.due.retain(|d| missing.iter().any(|x| x.0 == d.0));
        }
        if !trigger {
            if matches!(self.cfg.policy, RepairPolicy::Lazy { .. }) {
                m.due.clear();
            }
            return;
        }
        let add: Vec<(u16, Cause)> = if replication {
            missing[m.due.len()..].to_vec()
        } else {
            missing
                .into_iter()
                .filter(|x| !m.due.iter().any(|d| d.0 == x.0))
                .collect()
        };
        for (i, cause) in add {
            let at = now + self.delay(rng);
            self.maint
                .get_mut(&object)
                .expect("inserted")
                .due
                .push((i, at, cause));
        }
    }

    /// See [`nothing_missing_in`].
    fn nothing_missing(&self, meta: &ObjMeta) -> bool {
        nothing_missing_in(&self.peers, self.me, meta)
    }

    fn arm_repair(&mut self) {
        let next = self
            .maint
            .values()
            .filter(|m| !m.repairing)
            .flat_map(|m| m.due.iter().map(|d| d.1))
            .min();
        match next {
            Some(at) if self.deadlines[Timer::Repair.index()] != Some(at) => {
                self.set_timer(Timer::Repair, at);
            }
            None => self.deadlines[Timer::Repair.index()] = None,
            _ => {}
        }
    }

    fn run_due(&mut self, now: Time) {
        let ready: Vec<(ObjectId, Vec<(u16, Cause)>)> = self
            .maint
            .iter_mut()
            .filter(|(_, m)| !m.repairing)
            .filter_map(|(o, m)| {
                let (now_due, later): (Vec<_>, Vec<_>) = m.due.iter().partition(|d| d.1 <= now);
                if now_due.is_empty() {
                    return None;
                }
                m.due = later;
                m.repairing = true;
                Some((*o, now_due.into_iter().map(|d| (d.0, d.2)).collect()))
            })
            .collect();
        for (object, todo) in ready {
            self.start_repair(now, object, todo);
        }
        self.arm_repair();
    }

    fn audit(&mut self, now: Time) {
        let mut per: BTreeMap<NodeId, Vec<ObjectId>> = BTreeMap::new();
        for (o, h) in &self.disk {
            match self.leader(&h.meta) {
                Some(l) if l == self.me => {
                    for x in &h.meta.holders {
                        if x.node != self.me && !self.is_gone(x.node) {
                            per.entry(x.node).or_default().push(*o);
                        }
                    }
                }
                // Followers audit the leader: a leader that silently lost
                // its fragment still answers pings (they are per node) but
                // no longer maintains the object.
                Some(l) => per.entry(l).or_default().push(*o),
                None => {}
            }
        }
        let _ = now;
        for (to, objects) in per {
            let rid = self.rid();
            self.count("storage.audits", 1);
            self.send(to, StoreMsg::Audit { rid, objects });
        }
    }

    fn expire_ops(&mut self, now: Time) {
        let rids: Vec<u32> = self.ops.keys().copied().collect();
        for rid in rids {
            let Some(op) = self.ops.get(&rid) else {
                continue;
            };
            if op.deadline <= now {
                let op = self.ops.remove(&rid).expect("present");
                self.fail_op(now, op, true);
                continue;
            }
            if let OpState::Read {
                query_deadline,
                fetching,
                have,
                need,
                ..
            } = &op.state
                && fetching.is_empty()
                && *query_deadline <= now
            {
                let (found, need) = (have.len() as u16, *need);
                let op = self.ops.remove(&rid).expect("present");
                self.finish_read(now, op, Err(ReadFailure::NotEnough { found, need }));
            }
        }
    }

    fn fail_op(&mut self, now: Time, op: Op, timeout: bool) {
        match op.state {
            OpState::Write { object, slots, .. } => {
                self.undo_write(object, &slots);
                let placed = slots
                    .iter()
                    .filter(|s| matches!(s.1, SlotState::Acked(_)))
                    .count() as u16;
                let result = if timeout {
                    Err(WriteFailure::Timeout)
                } else {
                    Err(WriteFailure::NoSpace {
                        placed,
                        need: slots.len() as u16,
                    })
                };
                self.count("storage.writes_failed", 1);
                self.event(Event::Written {
                    tag: op.tag,
                    object,
                    started: op.started,
                    ended: now,
                    result,
                });
            }
            OpState::Read { object, .. } => {
                let _ = object;
                self.finish_read(
                    now,
                    Op {
                        tag: op.tag,
                        started: op.started,
                        deadline: op.deadline,
                        state: op.state,
                    },
                    Err(ReadFailure::Timeout),
                );
            }
            OpState::Repair { object, .. } => {
                if let Some(m) = self.maint.get_mut(&object) {
                    m.repairing = false;
                }
                self.count("storage.repairs_aborted", 1);
                self.event(Event::RepairAborted { object });
            }
        }
    }

    fn undo_write(&mut self, object: ObjectId, slots: &[(u16, SlotState)]) {
        for s in slots {
            if let SlotState::Acked(n) | SlotState::Pending(n) = s.1 {
                self.send(n, StoreMsg::Delete { object });
            }
        }
    }

    // ------------------------------------------------------------ commands

    fn on_command(&mut self, now: Time, c: Command) {
        let rid = self.rid();
        let deadline = now + self.cfg.op_timeout;
        let (tag, object, state) = match c {
            Command::Write { tag, object, len } => {
                self.count("storage.writes", 1);
                let n = self.cfg.scheme.n();
                (
                    tag,
                    object,
                    OpState::Write {
                        object,
                        stored_len: stored_len(len, self.cfg.encrypted),
                        slots: (0..n).map(|i| (i, SlotState::Failed)).collect(),
                        cands: Vec::new(),
                        next: 0,
                        lookups: 1,
                    },
                )
            }
            Command::Read { tag, object } => {
                self.count("storage.reads", 1);
                (
                    tag,
                    object,
                    OpState::Read {
                        object,
                        have: Vec::new(),
                        asked: 0,
                        answered: 0,
                        need: self.cfg.scheme.m(),
                        fetching: Vec::new(),
                        got: 0,
                        bytes: 0,
                        query_deadline: deadline,
                    },
                )
            }
            Command::Delete { tag, object } => {
                self.count("storage.deletes", 1);
                // Deletes need the candidates too; the op ends on placement.
                (
                    tag,
                    object,
                    OpState::Repair {
                        object,
                        todo: Vec::new(),
                        cands: Vec::new(),
                        next: usize::MAX,
                        gather_left: 0,
                        gather_from: Vec::new(),
                        gathering: false,
                        slots: Vec::new(),
                    },
                )
            }
        };
        self.ops.insert(
            rid,
            Op {
                tag,
                started: now,
                deadline,
                state,
            },
        );
        let key = object.key(self.cfg.key_bits);
        self.out.push_back(Output::FindPlacement {
            tag: u64::from(rid),
            key,
            local: false,
        });
    }

    fn start_repair(&mut self, now: Time, object: ObjectId, todo: Vec<(u16, Cause)>) {
        let rid = self.rid();
        self.count("storage.repairs_started", 1);
        self.ops.insert(
            rid,
            Op {
                tag: 0,
                started: now,
                deadline: now + self.cfg.op_timeout,
                state: OpState::Repair {
                    object,
                    todo,
                    cands: Vec::new(),
                    next: 0,
                    gather_left: 0,
                    gather_from: Vec::new(),
                    gathering: false,
                    slots: Vec::new(),
                },
            },
        );
        let key = object.key(self.cfg.key_bits);
        self.out.push_back(Output::FindPlacement {
            tag: u64::from(rid),
            key,
            local: self.cfg.repair_placement == RepairPlacement::Table,
        });
    }

    fn on_placement(&mut self, now: Time, tag: u64, nodes: Vec<NodeId>) {
        let Ok(rid) = u32::try_from(tag) else {
            return;
        };
        let Some(mut op) = self.ops.remove(&rid) else {
            return;
        };
        let me = self.me;
        let mut cands: Vec<NodeId> = Vec::with_capacity(nodes.len());
        for n in nodes {
            if n != me && !cands.contains(&n) {
                cands.push(n);
            }
        }
        match &mut op.state {
            OpState::Write {
                object,
                stored_len,
                slots,
                cands: c,
                next,
                ..
            } => {
                // Candidates accumulate over the placement lookups of this
                // write; each is tried once.
                for n in cands {
                    if !c.contains(&n) {
                        c.push(n);
                    }
                }
                let (object, stored_len) = (*object, *stored_len);
                for slot in slots.iter_mut().filter(|s| s.1 == SlotState::Failed) {
                    if *next < c.len() {
                        let to = c[*next];
                        *next += 1;
                        slot.1 = SlotState::Pending(to);
                        let index = slot.0;
                        self.put_write(rid, object, stored_len, to, index);
                    }
                }
                self.ops.insert(rid, op);
                self.check_write(now, rid);
            }
            OpState::Read {
                object,
                asked,
                query_deadline,
                have,
                ..
            } => {
                if let Some(h) = self.disk.get(object) {
                    have.push((h.index, me));
                }
                *asked = cands.len() as u32;
                *query_deadline = now + self.cfg.rpc_timeout;
                let object = *object;
                for &to in &cands {
                    self.send(to, StoreMsg::Query { rid, object });
                }
                self.ops.insert(rid, op);
                self.check_read(now, rid);
            }
            OpState::Repair {
                object,
                next,
                todo,
                cands: c,
                gather_left,
                gather_from,
                gathering,
                ..
            } => {
                let object = *object;
                if *next == usize::MAX {
                    // A delete.
                    if self.drop_fragment(&object).is_some() {
                        self.count("storage.deleted_fragments", 1);
                    }
                    for &to in &cands {
                        self.send(to, StoreMsg::Delete { object });
                    }
                    self.event(Event::Deleted {
                        tag: op.tag,
                        object,
                    });
                    return;
                }
                let Some(h) = self.disk.get(&object) else {
                    // The fragment vanished (latent loss): give up.
                    self.ops.insert(rid, op);
                    let op = self.ops.remove(&rid).expect("present");
                    self.fail_op(now, op, false);
                    return;
                };
                let holders: Vec<NodeId> = h.meta.holders.iter().map(|x| x.node).collect();
                *c = cands
                    .into_iter()
                    .filter(|n| !holders.contains(n) && !self.is_gone(*n))
                    .collect();
                let scheme = h.meta.scheme;
                if !scheme.is_replication() && scheme.m() > 1 {
                    // Gather m − 1 distinct other fragments from live holders.
                    let missing: BTreeSet<u16> = todo.iter().map(|t| t.0).collect();
                    let mut seen = BTreeSet::from([h.index]);
                    let mut from = Vec::new();
                    for x in &h.meta.holders {
                        if x.node != me
                            && !self.is_gone(x.node)
                            && !missing.contains(&x.index)
                            && seen.insert(x.index)
                        {
                            from.push(x.node);
                        }
                    }
                    let need = scheme.m() - 1;
                    if (from.len() as u16) < need {
                        self.count("storage.repairs_unrecoverable", 1);
                        self.ops.insert(rid, op);
                        let op = self.ops.remove(&rid).expect("present");
                        self.fail_op(now, op, false);
                        return;
                    }
                    let cause = todo[0].1;
                    *gather_left = need;
                    *gathering = true;
                    *gather_from = from.split_off(usize::from(need));
                    for &to in &from {
                        self.send(
                            to,
                            StoreMsg::Get {
                                rid,
                                object,
                                cause: Some(cause),
                            },
                        );
                    }
                    self.ops.insert(rid, op);
                } else {
                    self.ops.insert(rid, op);
                    self.send_repairs(now, rid);
                }
            }
        }
    }

    /// Send every rebuilt fragment of repair `rid` to a new node.
    fn send_repairs(&mut self, now: Time, rid: u32) {
        let Some(op) = self.ops.get_mut(&rid) else {
            return;
        };
        let OpState::Repair {
            object,
            todo,
            cands,
            next,
            gathering,
            slots,
            ..
        } = &mut op.state
        else {
            return;
        };
        *gathering = false;
        let object = *object;
        let Some(h) = self.disk.get(&object) else {
            return;
        };
        let mut sends = Vec::new();
        for &(index, cause) in todo.iter() {
            // Replication: a new copy takes the index of the holder it
            // replaces (copies are interchangeable).
            let index = if h.meta.scheme.is_replication() {
                match cause {
                    Cause::Loss { ghost } => h
                        .meta
                        .holders
                        .iter()
                        .find(|x| x.node == ghost)
                        .map_or(h.index, |x| x.index),
                    Cause::Audit => h.index,
                }
            } else {
                index
            };
            if *next < cands.len() {
                let to = cands[*next];
                *next += 1;
                slots.push((index, cause, SlotState::Pending(to)));
                sends.push((to, index, cause));
            } else {
                slots.push((index, cause, SlotState::Failed));
            }
        }
        let meta = h.meta.clone();
        for (to, index, cause) in sends {
            self.put_repair(rid, object, &meta, to, index, cause);
        }
        self.check_repair(now, rid);
    }

    /// Send fragment `index` of a client write to `to`.
    fn put_write(&mut self, rid: u32, object: ObjectId, stored_len: u64, to: NodeId, index: u16) {
        let meta = ObjMeta {
            scheme: self.cfg.scheme,
            stored_len,
            version: 0,
            holders: vec![Holder { node: to, index }],
        };
        self.out.push_back(Output::SendBulk {
            to,
            msg: StoreMsg::Put {
                rid,
                object,
                index,
                meta,
                cause: None,
            },
            bulk: Bulk {
                rid,
                index,
                to,
                put: true,
                cause: None,
            },
        });
    }

    fn put_repair(
        &mut self,
        rid: u32,
        object: ObjectId,
        meta: &ObjMeta,
        to: NodeId,
        index: u16,
        cause: Cause,
    ) {
        let mut meta = meta.clone();
        meta.holders.push(Holder { node: to, index });
        self.out.push_back(Output::SendBulk {
            to,
            msg: StoreMsg::Put {
                rid,
                object,
                index,
                meta,
                cause: Some(cause),
            },
            bulk: Bulk {
                rid,
                index,
                to,
                put: true,
                cause: Some(cause),
            },
        });
    }

    fn commit(&mut self, object: ObjectId, meta: &ObjMeta) {
        for x in &meta.holders {
            if x.node != self.me {
                self.send(
                    x.node,
                    StoreMsg::Commit {
                        object,
                        meta: meta.clone(),
                    },
                );
            }
        }
    }

    fn check_write(&mut self, now: Time, rid: u32) {
        let Some(op) = self.ops.get(&rid) else {
            return;
        };
        let OpState::Write {
            object,
            stored_len,
            slots,
            ..
        } = &op.state
        else {
            return;
        };
        if slots.iter().any(|s| matches!(s.1, SlotState::Pending(_))) {
            return;
        }
        let (object, stored_len) = (*object, *stored_len);
        let unplaced = slots.iter().any(|s| s.1 == SlotState::Failed);
        if unplaced
            && let Some(Op {
                state: OpState::Write { lookups, .. },
                ..
            }) = self.ops.get_mut(&rid)
            && *lookups < PLACEMENT_LOOKUPS
        {
            // Too few candidates (a lookup that met many silent nodes, or
            // full disks): ask again; new candidates are tried in order.
            *lookups += 1;
            self.count("storage.placement_retries", 1);
            let key = object.key(self.cfg.key_bits);
            self.out.push_back(Output::FindPlacement {
                tag: u64::from(rid),
                key,
                local: false,
            });
            return;
        }
        let op = self.ops.remove(&rid).expect("present");
        let OpState::Write { slots, .. } = &op.state else {
            return;
        };
        if slots.iter().all(|s| matches!(s.1, SlotState::Acked(_))) {
            let holders: Vec<Holder> = slots
                .iter()
                .map(|s| match s.1 {
                    SlotState::Acked(node) => Holder { node, index: s.0 },
                    _ => unreachable!("all acked"),
                })
                .collect();
            let meta = ObjMeta {
                scheme: self.cfg.scheme,
                stored_len,
                version: 1,
                holders: holders.clone(),
            };
            self.commit(object, &meta);
            self.count("storage.writes_ok", 1);
            self.event(Event::Written {
                tag: op.tag,
                object,
                started: op.started,
                ended: now,
                result: Ok(holders),
            });
        } else {
            self.fail_op(now, op, false);
        }
    }

    fn check_read(&mut self, now: Time, rid: u32) {
        let Some(op) = self.ops.get_mut(&rid) else {
            return;
        };
        let OpState::Read {
            object,
            have,
            asked,
            answered,
            need,
            fetching,
            got,
            bytes,
            ..
        } = &mut op.state
        else {
            return;
        };
        if fetching.is_empty() {
            if have.len() >= usize::from(*need) {
                let object = *object;
                *fetching = have[..usize::from(*need)].to_vec();
                let list = fetching.clone();
                for (i, n) in list {
                    if n == self.me {
                        self.on_local_fragment(now, rid, i);
                    } else {
                        self.send(
                            n,
                            StoreMsg::Get {
                                rid,
                                object,
                                cause: None,
                            },
                        );
                    }
                }
            } else if answered >= asked {
                let (found, need) = (have.len() as u16, *need);
                let op = self.ops.remove(&rid).expect("present");
                self.finish_read(now, op, Err(ReadFailure::NotEnough { found, need }));
            }
            return;
        }
        if *got >= *need {
            let b = *bytes;
            let op = self.ops.remove(&rid).expect("present");
            self.finish_read(now, op, Ok(b));
        }
    }

    fn on_local_fragment(&mut self, now: Time, rid: u32, _index: u16) {
        if let Some(Op {
            state: OpState::Read { got, .. },
            ..
        }) = self.ops.get_mut(&rid)
        {
            *got += 1;
        }
        let _ = now;
    }

    fn finish_read(&mut self, now: Time, op: Op, result: Result<u64, ReadFailure>) {
        let OpState::Read { object, .. } = op.state else {
            return;
        };
        self.count(
            if result.is_ok() {
                "storage.reads_ok"
            } else {
                "storage.reads_failed"
            },
            1,
        );
        self.event(Event::Read {
            tag: op.tag,
            object,
            started: op.started,
            ended: now,
            result,
        });
    }

    fn check_repair(&mut self, now: Time, rid: u32) {
        let Some(op) = self.ops.get(&rid) else {
            return;
        };
        let OpState::Repair {
            object,
            slots,
            gathering,
            ..
        } = &op.state
        else {
            return;
        };
        if *gathering || slots.iter().any(|s| matches!(s.2, SlotState::Pending(_))) {
            return;
        }
        let object = *object;
        let op = self.ops.remove(&rid).expect("present");
        let OpState::Repair { slots, .. } = op.state else {
            return;
        };
        if let Some(m) = self.maint.get_mut(&object) {
            m.repairing = false;
        }
        let placed: Vec<Holder> = slots
            .iter()
            .filter_map(|s| match s.2 {
                SlotState::Acked(node) => Some(Holder { node, index: s.0 }),
                _ => None,
            })
            .collect();
        let unplaced = (slots.len() - placed.len()) as u16;
        for s in &slots {
            if matches!(s.2, SlotState::Acked(_)) {
                match s.1 {
                    Cause::Loss { ghost } => *self.repair_loss_frags.entry(ghost).or_default() += 1,
                    Cause::Audit => self.repair_audit_frags += 1,
                }
            }
        }
        if let Some(h) = self.disk.get_mut(&object)
            && !placed.is_empty()
        {
            h.meta.holders.extend(placed.iter().copied());
            h.meta.version += 1;
            let meta = h.meta.clone();
            self.commit(object, &meta);
        }
        self.count("storage.repairs_done", 1);
        self.count("storage.fragments_repaired", placed.len() as u64);
        self.event(Event::Repaired {
            object,
            fragments: placed.len() as u16,
            unplaced,
        });
        let _ = now;
        self.arm_repair();
    }

    // ------------------------------------------------------------ messages

    fn on_message<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, from: NodeId, msg: StoreMsg) {
        self.heard(now, from);
        match msg {
            StoreMsg::Ping => self.send(from, StoreMsg::Pong),
            StoreMsg::Pong => {}
            StoreMsg::Put {
                rid,
                object,
                index,
                meta,
                cause,
            } => {
                let len = meta.fragment_len();
                let ok = !self.disk.contains_key(&object) && self.used + len <= self.cfg.capacity;
                if ok {
                    self.store_fragment(object, Held { index, meta });
                    self.arm_latent(now, rng);
                } else {
                    self.count("storage.puts_refused", 1);
                }
                let _ = cause;
                self.send(from, StoreMsg::PutAck { rid, index, ok });
            }
            StoreMsg::PutAck { rid, index, ok } => self.on_put_ack(now, rid, from, index, ok),
            StoreMsg::Commit { object, meta } => {
                let me = self.me;
                let Some(h) = self.disk.get_mut(&object) else {
                    return;
                };
                if meta.version <= h.meta.version {
                    return;
                }
                if (meta.scheme, meta.stored_len) != (h.meta.scheme, h.meta.stored_len) {
                    // A holder list changes who holds the object, never how
                    // it is coded: the disk accounting relies on it.
                    self.count(Malformed::Contents.counter(), 1);
                    return;
                }
                if let Some(mine) = meta.holders.iter().find(|x| x.node == me) {
                    h.index = mine.index;
                    h.meta = meta;
                } else {
                    // No longer listed (forgotten while away): garbage.
                    self.drop_fragment(&object);
                    self.count("storage.orphans_dropped", 1);
                }
            }
            StoreMsg::Query { rid, object } => {
                let (index, m) = match self.disk.get(&object) {
                    Some(h) => (Some(h.index), h.meta.scheme.m()),
                    None => (None, self.cfg.scheme.m()),
                };
                self.send(from, StoreMsg::Have { rid, index, m });
            }
            StoreMsg::Have { rid, index, m } => {
                if let Some(Op {
                    state:
                        OpState::Read {
                            have,
                            answered,
                            need,
                            ..
                        },
                    ..
                }) = self.ops.get_mut(&rid)
                {
                    *answered += 1;
                    *need = m;
                    if let Some(i) = index
                        && !have.iter().any(|h| h.0 == i)
                    {
                        have.push((i, from));
                    }
                    self.check_read(now, rid);
                }
            }
            StoreMsg::Get { rid, object, cause } => match self.disk.get(&object) {
                Some(h) => {
                    let index = h.index;
                    let len = h.meta.fragment_len();
                    self.out.push_back(Output::SendBulk {
                        to: from,
                        msg: StoreMsg::Data {
                            rid,
                            index,
                            len,
                            cause,
                        },
                        bulk: Bulk {
                            rid,
                            index,
                            to: from,
                            put: false,
                            cause,
                        },
                    });
                }
                None => self.send(from, StoreMsg::Missing { rid }),
            },
            StoreMsg::Data { rid, len, .. } => self.on_data(now, rid, from, len),
            StoreMsg::Missing { rid } => self.on_missing(now, rid, from),
            StoreMsg::Delete { object } => {
                if let Some(h) = self.drop_fragment(&object) {
                    self.count("storage.deleted_fragments", 1);
                    for x in &h.meta.holders {
                        if x.node != self.me && x.node != from {
                            self.send(x.node, StoreMsg::Delete { object });
                        }
                    }
                }
            }
            StoreMsg::Audit { rid, objects } => {
                let missing: Vec<ObjectId> = objects
                    .into_iter()
                    .filter(|o| !self.disk.contains_key(o))
                    .collect();
                self.send(from, StoreMsg::AuditReply { rid, missing });
            }
            StoreMsg::AuditReply { missing, .. } => {
                for object in missing {
                    let me = self.me;
                    let Some(h) = self.disk.get_mut(&object) else {
                        continue;
                    };
                    let Some(pos) = h.meta.holders.iter().position(|x| x.node == from) else {
                        continue;
                    };
                    let lost = h.meta.holders.remove(pos);
                    h.meta.version += 1;
                    let meta = h.meta.clone();
                    self.count("storage.audit_losses", 1);
                    self.commit(object, &meta);
                    if self.leader(&meta) == Some(me) && self.cfg.policy != RepairPolicy::None {
                        let at = now + self.delay(rng);
                        self.maint.entry(object).or_default().due.push((
                            lost.index,
                            at,
                            Cause::Audit,
                        ));
                    }
                }
                self.arm_repair();
            }
        }
    }

    fn on_put_ack(&mut self, now: Time, rid: u32, from: NodeId, index: u16, ok: bool) {
        let Some(op) = self.ops.get_mut(&rid) else {
            return;
        };
        match &mut op.state {
            OpState::Write {
                object,
                stored_len,
                slots,
                cands,
                next,
                ..
            } => {
                let Some(k) = slots
                    .iter()
                    .position(|s| s.0 == index && s.1 == SlotState::Pending(from))
                else {
                    return;
                };
                if let Some(to) = answer_slot(&mut slots[k].1, from, ok, cands, next) {
                    let (object, stored_len) = (*object, *stored_len);
                    self.put_write(rid, object, stored_len, to, index);
                }
                self.check_write(now, rid);
            }
            OpState::Repair {
                object,
                slots,
                cands,
                next,
                ..
            } => {
                let Some(k) = slots
                    .iter()
                    .position(|s| s.0 == index && s.2 == SlotState::Pending(from))
                else {
                    return;
                };
                if let Some(to) = answer_slot(&mut slots[k].2, from, ok, cands, next) {
                    let cause = slots[k].1;
                    let object = *object;
                    if let Some(h) = self.disk.get(&object) {
                        let meta = h.meta.clone();
                        self.put_repair(rid, object, &meta, to, index, cause);
                    } else {
                        slots[k].2 = SlotState::Failed;
                    }
                }
                self.check_repair(now, rid);
            }
            OpState::Read { .. } => {}
        }
    }

    fn on_data(&mut self, now: Time, rid: u32, from: NodeId, len: u64) {
        let Some(op) = self.ops.get_mut(&rid) else {
            return;
        };
        match &mut op.state {
            OpState::Read {
                fetching,
                got,
                bytes,
                ..
            } => {
                if fetching.iter().any(|f| f.1 == from) {
                    *got += 1;
                    *bytes += len;
                    self.check_read(now, rid);
                }
            }
            OpState::Repair {
                gathering,
                gather_left,
                ..
            } => {
                if *gathering && *gather_left > 0 {
                    *gather_left -= 1;
                    if *gather_left == 0 {
                        self.send_repairs(now, rid);
                    }
                }
            }
            OpState::Write { .. } => {}
        }
    }

    fn on_missing(&mut self, now: Time, rid: u32, from: NodeId) {
        let Some(op) = self.ops.get_mut(&rid) else {
            return;
        };
        match &mut op.state {
            OpState::Read {
                object,
                have,
                fetching,
                ..
            } => {
                // Replace the holder that no longer has it by a spare one.
                let Some(pos) = fetching.iter().position(|f| f.1 == from) else {
                    return;
                };
                fetching.remove(pos);
                have.retain(|h| h.1 != from);
                let spare = have
                    .iter()
                    .find(|h| !fetching.iter().any(|f| f.0 == h.0))
                    .copied();
                let object = *object;
                match spare {
                    Some(s) => {
                        fetching.push(s);
                        self.send(
                            s.1,
                            StoreMsg::Get {
                                rid,
                                object,
                                cause: None,
                            },
                        );
                    }
                    None => {
                        let (found, need) = match &op.state {
                            OpState::Read { have, need, .. } => (have.len() as u16, *need),
                            _ => unreachable!(),
                        };
                        let op = self.ops.remove(&rid).expect("present");
                        self.finish_read(now, op, Err(ReadFailure::NotEnough { found, need }));
                    }
                }
            }
            OpState::Repair {
                object,
                gathering,
                gather_from,
                todo,
                ..
            } if *gathering => {
                let object = *object;
                match gather_from.pop() {
                    Some(to) => {
                        let cause = todo[0].1;
                        self.send(
                            to,
                            StoreMsg::Get {
                                rid,
                                object,
                                cause: Some(cause),
                            },
                        );
                    }
                    None => {
                        self.count("storage.repairs_unrecoverable", 1);
                        let op = self.ops.remove(&rid).expect("present");
                        self.fail_op(now, op, false);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_bulk_done(&mut self, now: Time, bulk: Bulk, delivered: bool, bytes: u64) {
        self.account_bulk(bulk, bytes);
        if !bulk.put {
            return;
        }
        if delivered {
            // The receiver has the fragment; its answer is a datagram. If
            // none comes within the RPC timeout (lost, or the receiver went
            // down first), the put counts as refused and the next candidate
            // gets the fragment.
            let at = now + self.cfg.rpc_timeout;
            self.acks_due.insert((at, bulk.rid, bulk.index), bulk.to);
            if self.deadlines[Timer::Acks.index()].is_none_or(|d| at < d) {
                self.set_timer(Timer::Acks, at);
            }
            return;
        }
        // A Put whose receiver went down: try the next candidate.
        self.on_put_ack(now, bulk.rid, bulk.to, bulk.index, false);
    }

    /// Puts whose acknowledgement is overdue count as refused (unless the
    /// slot was answered meanwhile); then re-arm for the next one due.
    fn expire_acks(&mut self, now: Time) {
        while let Some((&(at, rid, index), &to)) = self.acks_due.first_key_value() {
            if at > now {
                self.set_timer(Timer::Acks, at);
                return;
            }
            self.acks_due.pop_first();
            let pending = self.ops.get(&rid).is_some_and(|op| match &op.state {
                OpState::Write { slots, .. } => slots
                    .iter()
                    .any(|s| s.0 == index && s.1 == SlotState::Pending(to)),
                OpState::Repair { slots, .. } => slots
                    .iter()
                    .any(|s| s.0 == index && s.2 == SlotState::Pending(to)),
                _ => false,
            });
            if pending {
                self.count("storage.put_acks_missed", 1);
                self.on_put_ack(now, rid, to, index, false);
            }
        }
    }

    /// Count the bytes a bulk transfer moved, by purpose and repair cause.
    fn account_bulk(&mut self, bulk: Bulk, bytes: u64) {
        if let Some(cause) = bulk.cause {
            self.count("storage.repair_bytes", bytes);
            match cause {
                Cause::Loss { ghost } => *self.repair_loss_bytes.entry(ghost).or_default() += bytes,
                Cause::Audit => self.repair_audit_bytes += bytes,
            }
        } else {
            self.count(
                if bulk.put {
                    "storage.write_bytes"
                } else {
                    "storage.read_bytes"
                },
                bytes,
            );
        }
    }
}
