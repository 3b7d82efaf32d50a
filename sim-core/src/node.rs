//! The node API: what a protocol implements and what the engine hands it.
//!
//! A node is a sans-IO state machine. The engine calls its handlers
//! (`on_start`, `on_message`, `on_timer`, `on_request`, `on_transfer`,
//! `on_stop`) and the node acts only through the [`Cx`] context: it reads
//! the simulated clock, sends datagrams and bulk transfers, sets and cancels
//! timers, draws from its own random stream and records metrics. It never
//! reads a real clock, opens a socket or uses global randomness, which is
//! what makes the same code runnable on real UDP sockets.

use crate::metrics::Metrics;
use crate::rng::NodeRng;
use crate::units::{Bytes, Duration, Time};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;

/// A node's identity in the simulation (an index into the node table).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
pub struct NodeId(pub u32);

impl NodeId {
    /// As a table index.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}
impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}
impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A message exchanged between nodes.
///
/// Messages have a real wire encoding (serde + postcard). Bulk payloads
/// (object data, fragments, job inputs) are *phantom*: a length charged to
/// the network without carrying the bytes. [`Message::wire_size`] is the
/// encoded header plus the phantom length; the default computes the postcard
/// length, and implementations that override it for speed should check the
/// override with [`check_wire_size`] in a test.
pub trait Message: Clone + fmt::Debug + Serialize + DeserializeOwned + 'static {
    /// Bytes of phantom payload this message stands for (0 by default).
    fn phantom_len(&self) -> u64 {
        0
    }
    /// Bytes on the wire: postcard-encoded length plus the phantom length.
    fn wire_size(&self) -> u64 {
        encoded_len(self) + self.phantom_len()
    }
    /// Traffic class for byte accounting (see [`class`]); control by
    /// default.
    fn class(&self) -> u8 {
        class::CONTROL
    }
}

/// Conventional traffic classes for [`Message::class`]. The network counts
/// bytes per class (0 to 7).
pub mod class {
    /// RPCs, lookups, pings: small control traffic.
    pub const CONTROL: u8 = 0;
    /// Object data written or read by clients.
    pub const STORAGE: u8 = 1;
    /// Data moved to repair lost redundancy.
    pub const REPAIR: u8 = 2;
    /// Job inputs and outputs.
    pub const COMPUTE: u8 = 3;
    /// Traffic to and from the data-center baseline.
    pub const DATACENTER: u8 = 4;
}

/// The postcard-encoded length of `v`, in bytes.
pub fn encoded_len<T: Serialize + ?Sized>(v: &T) -> u64 {
    postcard::experimental::serialized_size(v).map_or(0, |n| n as u64)
}

/// A mismatch between a message's declared and real wire size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "wire_size() of {message} is {declared} bytes, but its postcard encoding is {encoded} bytes plus {phantom} phantom bytes"
)]
pub struct WireSizeError {
    /// The message, printed with `Debug`.
    pub message: String,
    /// What `wire_size()` returned.
    pub declared: u64,
    /// The postcard-encoded length.
    pub encoded: u64,
    /// The phantom length.
    pub phantom: u64,
}

/// Check that `m.wire_size()` equals its postcard encoding plus its phantom
/// length, and that it decodes back to an equal value.
pub fn check_wire_size<M: Message + PartialEq>(m: &M) -> Result<(), WireSizeError> {
    let bytes = postcard::to_stdvec(m).map_err(|_| WireSizeError {
        message: format!("{m:?}"),
        declared: m.wire_size(),
        encoded: 0,
        phantom: m.phantom_len(),
    })?;
    let back: Result<M, _> = postcard::from_bytes(&bytes);
    let encoded = bytes.len() as u64;
    let ok = back.as_ref().is_ok_and(|b| b == m) && m.wire_size() == encoded + m.phantom_len();
    if ok {
        Ok(())
    } else {
        Err(WireSizeError {
            message: format!("{m:?}"),
            declared: m.wire_size(),
            encoded,
            phantom: m.phantom_len(),
        })
    }
}

/// How a node stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum Stop {
    /// A crash or shutdown after which the node comes back with its disk
    /// (and its id), as a new incarnation. Volatile state should be dropped
    /// by the node in [`Node::on_stop`].
    Transient,
    /// The node leaves for good; its disk is lost. A replacement, if any,
    /// joins as a new node with a new id.
    Permanent,
}

/// A handle to a pending timer, for cancelling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerId {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

/// A handle to a bulk transfer started with [`Cx::send_bulk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TransferId(pub u64);

/// How a bulk transfer ended, reported to its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferOutcome {
    /// All bytes arrived; the message was delivered to the receiver.
    Completed {
        /// The receiver.
        to: NodeId,
        /// Bytes moved (the message's wire size).
        bytes: Bytes,
        /// When the transfer started.
        started: Time,
    },
    /// The receiver went down (or was unreachable) before the end.
    Failed {
        /// The receiver.
        to: NodeId,
        /// Bytes that had been moved when it failed.
        moved: Bytes,
        /// When the transfer started.
        started: Time,
    },
}

/// A protocol state machine run by the engine.
///
/// The node type is a generic parameter of the engine: there is no boxing
/// or dynamic dispatch per event. Handlers must not block or loop without
/// bound; everything they do goes through the context.
pub trait Node: Sized {
    /// The messages this node exchanges.
    type Msg: Message;
    /// Named timers (an enum, usually). Equal deadlines fire in the order
    /// the timers were set.
    type Timer: Copy + fmt::Debug;
    /// Requests injected by the workload driver (`()` when unused).
    type Request;

    /// The node starts (first start, or restart as a new incarnation:
    /// [`Cx::incarnation`] tells which).
    fn on_start(&mut self, cx: &mut Cx<'_, Self>);
    /// A datagram or a completed bulk transfer arrived.
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, from: NodeId, msg: Self::Msg);
    /// A timer fired.
    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, timer: Self::Timer);
    /// The workload driver injected a request.
    fn on_request(&mut self, cx: &mut Cx<'_, Self>, req: Self::Request) {
        let _ = (cx, req);
    }
    /// A bulk transfer this node started has ended.
    fn on_transfer(&mut self, cx: &mut Cx<'_, Self>, id: TransferId, outcome: TransferOutcome) {
        let _ = (cx, id, outcome);
    }
    /// The node stops. It may record metrics; anything it sends or schedules
    /// here is discarded (the node is already down). On [`Stop::Transient`]
    /// it should drop volatile state and keep what is on disk.
    fn on_stop(&mut self, cx: &mut Cx<'_, Self>, how: Stop) {
        let _ = (cx, how);
    }
}

/// The context a node of type `N` acts through during one handler call.
///
/// It depends only on the node's message and timer types, so a node type
/// that wraps another with the same messages and timers (to translate
/// workload requests, or to compose layers) can hand its context on:
/// `Cx<'_, Wrapper>` and `Cx<'_, Inner>` are the same type.
pub type Cx<'a, N> = Ctx<'a, <N as Node>::Msg, <N as Node>::Timer>;

/// The context for messages `M` and timers `T` (see [`Cx`]).
pub struct Ctx<'a, M, T> {
    pub(crate) core: &'a mut crate::sim::Core<M, T>,
    pub(crate) me: NodeId,
    pub(crate) inc: u32,
    pub(crate) alive: bool,
}

impl<M: Message, T: Copy> Ctx<'_, M, T> {
    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> Time {
        Time(self.core.now)
    }
    /// This node's id.
    #[inline]
    pub fn me(&self) -> NodeId {
        self.me
    }
    /// This node's incarnation: 0 at first start, +1 on every restart.
    #[inline]
    pub fn incarnation(&self) -> u32 {
        self.inc
    }
    /// Number of node slots in the simulation (ids are `0..node_count`).
    #[inline]
    pub fn node_count(&self) -> usize {
        self.core.meta.len()
    }
    /// This node's random stream.
    #[inline]
    pub fn rng(&mut self) -> &mut NodeRng {
        &mut self.core.meta[self.me.index()].rng
    }
    /// Send a datagram. It arrives after the network's delay unless it is
    /// lost or the receiver is down (or restarted) by then.
    #[inline]
    pub fn send(&mut self, to: NodeId, msg: M) {
        if self.alive {
            self.core.send_datagram(self.me, to, msg);
        }
    }
    /// Start a bulk transfer of `msg` (its wire size, phantom payload
    /// included) to `to`. The receiver gets `msg` in `on_message` when the
    /// last byte arrives; this node gets [`Node::on_transfer`] with the
    /// outcome, completed or failed.
    pub fn send_bulk(&mut self, to: NodeId, msg: M) -> TransferId {
        if self.alive {
            self.core.start_transfer(self.me, self.inc, to, msg)
        } else {
            TransferId(u64::MAX)
        }
    }
    /// Bytes a bulk transfer this node started has moved so far (None once
    /// it has ended). In [`Node::on_stop`] this is what the transfers the
    /// stop abandons will have moved: the network counts those bytes, and
    /// the stopping node is not told of them otherwise.
    pub fn transfer_moved(&self, id: TransferId) -> Option<Bytes> {
        self.core.transfer_moved(self.me, self.inc, id).map(Bytes)
    }
    /// Fire `timer` after `after` (FIFO among equal deadlines).
    #[inline]
    pub fn set_timer(&mut self, after: Duration, timer: T) -> TimerId {
        if self.alive {
            self.core.set_timer(self.me, self.inc, after, timer)
        } else {
            TimerId {
                slot: u32::MAX,
                generation: 0,
            }
        }
    }
    /// Cancel a pending timer. Returns false if it already fired or was
    /// cancelled. Cancelled timers are compacted out of the queue, so they do
    /// not accumulate.
    #[inline]
    pub fn cancel_timer(&mut self, id: TimerId) -> bool {
        self.core.cancel_timer(id)
    }
    /// Add `delta` to counter `name`.
    #[inline]
    pub fn count(&mut self, name: &'static str, delta: u64) {
        self.core.metrics.count(name, delta);
    }
    /// Record `value` in histogram `name`.
    #[inline]
    pub fn observe(&mut self, name: &'static str, value: u64) {
        self.core.metrics.observe(name, value);
    }
    /// Append a row to table `table` (see [`Metrics::record`]).
    pub fn record<R: Serialize>(&mut self, table: &'static str, row: &R) {
        self.core.metrics.record(table, row);
    }
    /// The metrics sink.
    pub fn metrics(&mut self) -> &mut Metrics {
        &mut self.core.metrics
    }
    /// Whether node `id` is up right now. This is global knowledge that a
    /// real node does not have: use it for oracles and metrics, never for
    /// protocol decisions.
    pub fn oracle_is_up(&self, id: NodeId) -> bool {
        self.core.meta.get(id.index()).is_some_and(|m| m.is_up())
    }
}

// ------------------------------------------------------------ composition

/// What a protocol layer acts through: the operations of [`Ctx`], with the
/// layer's own message type `M` and timer type `T`.
///
/// A node that runs several layers (the DHT, storage on top of it, compute
/// beside it) has a message type that wraps each layer's messages and a
/// timer type that wraps each layer's timers. Its context,
/// `Ctx<'_, Wrapped, WrappedTimer>`, is a `Context<M, T>` for every layer
/// whose `M` and `T` convert into the wrapped types (`From`), so the
/// layer's code, written against `Context<M, T>`, sends its own messages
/// and sets its own timers and never sees the others'. A layer run alone
/// gets `Ctx<'_, M, T>` itself (every type converts into itself).
pub trait Context<M, T> {
    /// The current simulated time.
    fn now(&self) -> Time;
    /// This node's id.
    fn me(&self) -> NodeId;
    /// This node's incarnation (see [`Ctx::incarnation`]).
    fn incarnation(&self) -> u32;
    /// Number of node slots in the simulation.
    fn node_count(&self) -> usize;
    /// This node's random stream (shared by the node's layers).
    fn rng(&mut self) -> &mut NodeRng;
    /// Send a datagram (see [`Ctx::send`]).
    fn send(&mut self, to: NodeId, msg: M);
    /// Start a bulk transfer (see [`Ctx::send_bulk`]).
    fn send_bulk(&mut self, to: NodeId, msg: M) -> TransferId;
    /// Bytes a bulk transfer this node started has moved so far.
    fn transfer_moved(&self, id: TransferId) -> Option<Bytes>;
    /// Fire `timer` after `after`.
    fn set_timer(&mut self, after: Duration, timer: T) -> TimerId;
    /// Cancel a pending timer.
    fn cancel_timer(&mut self, id: TimerId) -> bool;
    /// Add `delta` to counter `name`.
    fn count(&mut self, name: &'static str, delta: u64);
    /// Record `value` in histogram `name`.
    fn observe(&mut self, name: &'static str, value: u64);
    /// Append a row to table `table`.
    fn record<R: Serialize>(&mut self, table: &'static str, row: &R);
    /// The metrics sink.
    fn metrics(&mut self) -> &mut Metrics;
    /// Whether node `id` is up (global knowledge: oracles and metrics only).
    fn oracle_is_up(&self, id: NodeId) -> bool;
}

impl<M, T, W, U> Context<M, T> for Ctx<'_, W, U>
where
    W: Message + From<M>,
    U: Copy + From<T>,
{
    #[inline]
    fn now(&self) -> Time {
        Ctx::now(self)
    }
    #[inline]
    fn me(&self) -> NodeId {
        Ctx::me(self)
    }
    #[inline]
    fn incarnation(&self) -> u32 {
        Ctx::incarnation(self)
    }
    #[inline]
    fn node_count(&self) -> usize {
        Ctx::node_count(self)
    }
    #[inline]
    fn rng(&mut self) -> &mut NodeRng {
        Ctx::rng(self)
    }
    #[inline]
    fn send(&mut self, to: NodeId, msg: M) {
        Ctx::send(self, to, W::from(msg))
    }
    #[inline]
    fn send_bulk(&mut self, to: NodeId, msg: M) -> TransferId {
        Ctx::send_bulk(self, to, W::from(msg))
    }
    #[inline]
    fn transfer_moved(&self, id: TransferId) -> Option<Bytes> {
        Ctx::transfer_moved(self, id)
    }
    #[inline]
    fn set_timer(&mut self, after: Duration, timer: T) -> TimerId {
        Ctx::set_timer(self, after, U::from(timer))
    }
    #[inline]
    fn cancel_timer(&mut self, id: TimerId) -> bool {
        Ctx::cancel_timer(self, id)
    }
    #[inline]
    fn count(&mut self, name: &'static str, delta: u64) {
        Ctx::count(self, name, delta)
    }
    #[inline]
    fn observe(&mut self, name: &'static str, value: u64) {
        Ctx::observe(self, name, value)
    }
    fn record<R: Serialize>(&mut self, table: &'static str, row: &R) {
        Ctx::record(self, table, row)
    }
    fn metrics(&mut self) -> &mut Metrics {
        Ctx::metrics(self)
    }
    fn oracle_is_up(&self, id: NodeId) -> bool {
        Ctx::oracle_is_up(self, id)
    }
}

/// A protocol layer: the handlers of a [`Node`], written against a
/// [`Context`] so that the layer runs alone (its own node type, through
/// [`impl_node_for_layer!`](crate::impl_node_for_layer)) or inside a node
/// that stacks several layers and hands each its events.
pub trait Layer {
    /// The layer's messages.
    type Msg: Message;
    /// The layer's timers.
    type Timer: Copy + fmt::Debug;
    /// The layer's requests from a workload.
    type Request;
    /// The node starts (see [`Node::on_start`]).
    fn start(&mut self, cx: &mut impl Context<Self::Msg, Self::Timer>);
    /// One of this layer's messages arrived.
    fn message(
        &mut self,
        cx: &mut impl Context<Self::Msg, Self::Timer>,
        from: NodeId,
        msg: Self::Msg,
    );
    /// One of this layer's timers fired.
    fn timer(&mut self, cx: &mut impl Context<Self::Msg, Self::Timer>, timer: Self::Timer);
    /// A request for this layer.
    fn request(&mut self, cx: &mut impl Context<Self::Msg, Self::Timer>, req: Self::Request);
    /// A bulk transfer the node started has ended. Returns false, having
    /// done nothing, when this layer did not start it (a stacked node offers
    /// the outcome to each of its layers in turn).
    fn transfer(
        &mut self,
        cx: &mut impl Context<Self::Msg, Self::Timer>,
        id: TransferId,
        outcome: TransferOutcome,
    ) -> bool;
    /// The node stops (see [`Node::on_stop`]).
    fn stop(&mut self, cx: &mut impl Context<Self::Msg, Self::Timer>, how: Stop);
}

/// Implement [`Node`] for a type that implements [`Layer`], by handing
/// every event to the layer: `impl_node_for_layer!(MyLayer);`.
#[macro_export]
macro_rules! impl_node_for_layer {
    ($t:ty) => {
        impl $crate::node::Node for $t {
            type Msg = <$t as $crate::node::Layer>::Msg;
            type Timer = <$t as $crate::node::Layer>::Timer;
            type Request = <$t as $crate::node::Layer>::Request;
            fn on_start(&mut self, cx: &mut $crate::node::Cx<'_, Self>) {
                $crate::node::Layer::start(self, cx)
            }
            fn on_message(
                &mut self,
                cx: &mut $crate::node::Cx<'_, Self>,
                from: $crate::node::NodeId,
                msg: Self::Msg,
            ) {
                $crate::node::Layer::message(self, cx, from, msg)
            }
            fn on_timer(&mut self, cx: &mut $crate::node::Cx<'_, Self>, timer: Self::Timer) {
                $crate::node::Layer::timer(self, cx, timer)
            }
            fn on_request(&mut self, cx: &mut $crate::node::Cx<'_, Self>, req: Self::Request) {
                $crate::node::Layer::request(self, cx, req)
            }
            fn on_transfer(
                &mut self,
                cx: &mut $crate::node::Cx<'_, Self>,
                id: $crate::node::TransferId,
                outcome: $crate::node::TransferOutcome,
            ) {
                $crate::node::Layer::transfer(self, cx, id, outcome);
            }
            fn on_stop(&mut self, cx: &mut $crate::node::Cx<'_, Self>, how: $crate::node::Stop) {
                $crate::node::Layer::stop(self, cx, how)
            }
        }
    };
}
