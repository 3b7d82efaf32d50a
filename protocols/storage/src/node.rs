//! The stacked node: Kademlia and storage on one peer.
//!
//! [`StackNode`] runs a [`Kademlia`] machine and a [`Storage`] machine in
//! the engine. Its message type wraps both layers ([`Msg`]); the storage
//! layer's requests for placement ([`Output::FindPlacement`]) become
//! Kademlia `FindClosest` commands, and the DHT's answers come back as
//! [`Input::Placement`]; a repair's request with
//! [`RepairPlacement::Table`](crate::RepairPlacement::Table) is answered from
//! the node's own routing table (counted in `storage.placement_local`). Nothing crosses between the layers except these
//! explicit inputs and outputs.
//!
//! [`Placement::Oracle`] replaces the lookups by global knowledge (the true
//! closest live nodes): a labelled option for fast studies; the node counts
//! every oracle placement in `storage.placement_oracle`, so outputs say so.

use crate::message::StoreMsg;
use crate::protocol::{Bulk, Command, Event, Input, Output, Storage, Timer};
use kademlia::node::{Observe, observe_op};
use kademlia::{
    Command as KadCommand, IdTable, Input as KadInput, KadMsg, Kademlia, Outcome,
    Timer as KadTimer, WireContact,
};
use serde::{Deserialize, Serialize};
use sim_core::node::encoded_len;
use sim_core::{Context, Layer, Message, NodeId, Stop, Time, TimerId, TransferId, TransferOutcome};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A message of either layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Msg {
    /// DHT.
    Kad(KadMsg),
    /// Storage.
    Store(StoreMsg),
}

impl Message for Msg {
    fn phantom_len(&self) -> u64 {
        match self {
            Msg::Kad(m) => m.phantom_len(),
            Msg::Store(m) => m.phantom_len(),
        }
    }
    fn wire_size(&self) -> u64 {
        // One byte of variant tag, then the layer's own encoding.
        match self {
            Msg::Kad(m) => 1 + m.wire_size(),
            Msg::Store(m) => 1 + encoded_len(m) + m.phantom_len(),
        }
    }
    fn class(&self) -> u8 {
        match self {
            Msg::Kad(m) => m.class(),
            Msg::Store(m) => m.class(),
        }
    }
}

/// A timer of either layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tm {
    /// DHT.
    Kad(KadTimer),
    /// Storage.
    Store(Timer),
}

/// A request from the workload driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A storage operation.
    Store(Command),
    /// A DHT operation.
    Kad(KadCommand),
}

/// Where placement answers come from.
#[derive(Debug, Clone, Default)]
pub enum Placement {
    /// Kademlia `FindClosest` lookups (the protocol).
    #[default]
    Dht,
    /// Global knowledge: the true closest live nodes (labelled; see the
    /// module docs).
    Oracle,
}

/// Storage events seen by the experiment, with time and node.
pub type EventLog = Rc<RefCell<Vec<(Time, NodeId, Event)>>>;

/// Tags of storage placement lookups have this bit set, so that they never
/// collide with the tags of the workload's own DHT commands.
const PLACEMENT_TAG: u64 = 1 << 63;

/// One peer: the DHT and storage stacked.
#[derive(Debug)]
pub struct StackNode {
    /// The DHT machine.
    pub kad: Kademlia,
    /// The storage machine.
    pub store: Storage,
    kad_timers: [Option<TimerId>; KadTimer::COUNT],
    store_timers: [Option<TimerId>; Timer::COUNT],
    bulks: BTreeMap<TransferId, Bulk>,
    /// Contacts to join through, handed to the machine at the next start
    /// (empty after it: the machine keeps them for restarts).
    pub bootstrap: Vec<WireContact>,
    /// The routing table was built from global knowledge.
    pub warm: bool,
    /// Where placement answers come from.
    pub placement: Placement,
    /// Where to append storage events (experiment side), if anywhere.
    pub log: Option<EventLog>,
    /// What to do with the workload's own DHT operations when they end
    /// (compare with the oracle, record `lookups` rows; see
    /// [`kademlia::node::observe_op`]).
    pub observe: Observe,
    /// Record the `storage_ops` and `storage_repairs` tables (see
    /// [`crate::report`]).
    pub rows: bool,
}

impl StackNode {
    /// A peer running both machines.
    pub fn new(kad: Kademlia, store: Storage) -> StackNode {
        StackNode {
            kad,
            store,
            kad_timers: [None; KadTimer::COUNT],
            store_timers: [None; Timer::COUNT],
            bulks: BTreeMap::new(),
            bootstrap: Vec::new(),
            warm: false,
            placement: Placement::Dht,
            log: None,
            observe: Observe::default(),
            rows: false,
        }
    }

    fn kad_input(&mut self, cx: &mut impl Context<Msg, Tm>, input: KadInput) {
        let now = cx.now();
        self.kad.handle(now, cx.rng(), input);
        self.pump(cx);
    }

    fn store_input(&mut self, cx: &mut impl Context<Msg, Tm>, input: Input) {
        let now = cx.now();
        self.store.handle(now, cx.rng(), input);
        self.pump(cx);
    }

    /// Drain both machines until neither has output. Bounded: a placement
    /// answer feeds the storage machine, whose outputs are finite.
    fn pump(&mut self, cx: &mut impl Context<Msg, Tm>) {
        loop {
            let mut progressed = false;
            while let Some(o) = self.kad.poll_output() {
                progressed = true;
                self.kad_output(cx, o);
            }
            while let Some(o) = self.store.poll_output() {
                progressed = true;
                self.store_output(cx, o);
            }
            if !progressed {
                break;
            }
        }
    }

    fn kad_output(&mut self, cx: &mut impl Context<Msg, Tm>, o: kademlia::Output) {
        match o {
            kademlia::Output::Send { to, msg } => cx.send(to, Msg::Kad(msg)),
            kademlia::Output::SetTimer { timer, at } => {
                if let Some(old) = self.kad_timers[timer.index()].take() {
                    cx.cancel_timer(old);
                }
                let after = at.since(cx.now());
                self.kad_timers[timer.index()] = Some(cx.set_timer(after, Tm::Kad(timer)));
            }
            kademlia::Output::Count(name) => cx.count(name, 1),
            kademlia::Output::Event(e) => {
                if e.tag & PLACEMENT_TAG != 0 {
                    let nodes = match &e.outcome {
                        Outcome::Closest(v) => v.iter().map(|c| c.node).collect(),
                        _ => Vec::new(),
                    };
                    let now = cx.now();
                    self.store.handle(
                        now,
                        cx.rng(),
                        Input::Placement {
                            tag: e.tag & !PLACEMENT_TAG,
                            nodes,
                        },
                    );
                } else if e.kind != kademlia::OpKind::Join
                    && (self.observe.oracle || self.observe.rows)
                {
                    let warm = self.warm;
                    observe_op(&self.kad, warm, self.observe, cx, e);
                }
            }
        }
    }

    fn store_output(&mut self, cx: &mut impl Context<Msg, Tm>, o: Output) {
        match o {
            Output::Send { to, msg } => cx.send(to, Msg::Store(msg)),
            Output::SendBulk { to, msg, bulk } => {
                let id = cx.send_bulk(to, Msg::Store(msg));
                self.bulks.insert(id, bulk);
            }
            Output::SetTimer { timer, at } => {
                if let Some(old) = self.store_timers[timer.index()].take() {
                    cx.cancel_timer(old);
                }
                let after = at.since(cx.now());
                self.store_timers[timer.index()] = Some(cx.set_timer(after, Tm::Store(timer)));
            }
            Output::FindPlacement { tag, key, local } => match self.placement {
                Placement::Dht if local => {
                    // The closest contacts of this node's own table (a
                    // repair with `RepairPlacement::Table`).
                    cx.count("storage.placement_local", 1);
                    let k = self.kad.config().k;
                    let mut closest = Vec::new();
                    self.kad
                        .table()
                        .closest(&key, k, self.kad.ids(), None, &mut closest);
                    let nodes = closest.into_iter().map(|(_, n)| n).collect();
                    let now = cx.now();
                    self.store
                        .handle(now, cx.rng(), Input::Placement { tag, nodes });
                }
                Placement::Dht => {
                    let now = cx.now();
                    self.kad.handle(
                        now,
                        cx.rng(),
                        KadInput::Command(KadCommand::FindClosest {
                            tag: tag | PLACEMENT_TAG,
                            key,
                        }),
                    );
                }
                Placement::Oracle => {
                    cx.count("storage.placement_oracle", 1);
                    let ids: &IdTable = self.kad.ids();
                    let k = self.kad.config().k;
                    let nodes =
                        kademlia::oracle::true_closest(ids, &key, k, None, |n| cx.oracle_is_up(n));
                    let now = cx.now();
                    self.store
                        .handle(now, cx.rng(), Input::Placement { tag, nodes });
                }
            },
            Output::Event(e) => {
                if self.rows {
                    match crate::report::Row::of(cx.me().0, cx.now().0, &e) {
                        Some(crate::report::Row::Op(r)) => cx.record("storage_ops", &r),
                        Some(crate::report::Row::Repair(r)) => cx.record("storage_repairs", &r),
                        None => {}
                    }
                }
                if let Some(log) = &self.log {
                    log.borrow_mut().push((cx.now(), cx.me(), e));
                }
            }
            Output::Count(name, n) => cx.count(name, n),
        }
    }
}

sim_core::impl_node_for_layer!(StackNode);

impl Layer for StackNode {
    type Msg = Msg;
    type Timer = Tm;
    type Request = Request;

    fn start(&mut self, cx: &mut impl Context<Msg, Tm>) {
        self.kad_timers = [None; KadTimer::COUNT];
        self.store_timers = [None; Timer::COUNT];
        let join = !(self.warm && cx.incarnation() == 0);
        let bootstrap = self.kad.bootstrap_for_start(&mut self.bootstrap);
        self.kad_input(cx, KadInput::Start { bootstrap, join });
        self.store_input(cx, Input::Start);
    }

    fn message(&mut self, cx: &mut impl Context<Msg, Tm>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Kad(msg) => self.kad_input(cx, KadInput::Message { from, msg }),
            Msg::Store(msg) => self.store_input(cx, Input::Message { from, msg }),
        }
    }

    fn timer(&mut self, cx: &mut impl Context<Msg, Tm>, timer: Tm) {
        match timer {
            Tm::Kad(t) => {
                self.kad_timers[t.index()] = None;
                self.kad_input(cx, KadInput::Timer(t));
            }
            Tm::Store(t) => {
                self.store_timers[t.index()] = None;
                self.store_input(cx, Input::Timer(t));
            }
        }
    }

    fn request(&mut self, cx: &mut impl Context<Msg, Tm>, req: Request) {
        match req {
            Request::Store(c) => self.store_input(cx, Input::Command(c)),
            Request::Kad(c) => self.kad_input(cx, KadInput::Command(c)),
        }
    }

    fn transfer(
        &mut self,
        cx: &mut impl Context<Msg, Tm>,
        id: TransferId,
        outcome: TransferOutcome,
    ) -> bool {
        let Some(bulk) = self.bulks.remove(&id) else {
            return false;
        };
        let (delivered, bytes) = match outcome {
            TransferOutcome::Completed { bytes, .. } => (true, bytes.0),
            TransferOutcome::Failed { moved, .. } => (false, moved.0),
        };
        self.store_input(
            cx,
            Input::BulkDone {
                bulk,
                delivered,
                bytes,
            },
        );
        true
    }

    fn stop(&mut self, cx: &mut impl Context<Msg, Tm>, how: Stop) {
        self.kad_timers = [None; KadTimer::COUNT];
        self.store_timers = [None; Timer::COUNT];
        // The transfers this node started fail with it, and the network
        // counts the bytes they moved; the engine tells only senders that
        // are still up, so learn those bytes now.
        let abandoned: Vec<(Bulk, u64)> = std::mem::take(&mut self.bulks)
            .into_iter()
            .map(|(id, bulk)| (bulk, cx.transfer_moved(id).map_or(0, |b| b.0)))
            .collect();
        if how == Stop::Permanent
            && let Some(log) = &self.log
        {
            // The disk is lost: tell the experiment's ledger.
            let now = cx.now();
            let me = cx.me();
            let mut log = log.borrow_mut();
            for (object, h) in self.store.disk() {
                log.push((
                    now,
                    me,
                    Event::Disk {
                        object: *object,
                        index: h.index,
                        stored: false,
                    },
                ));
            }
        }
        let now = cx.now();
        self.kad.handle(now, cx.rng(), KadInput::Stop(how));
        self.store.handle(now, cx.rng(), Input::Stop(how));
        for (bulk, bytes) in abandoned {
            self.store.handle(
                now,
                cx.rng(),
                Input::BulkDone {
                    bulk,
                    delivered: false,
                    bytes,
                },
            );
        }
        while self.kad.poll_output().is_some() {}
        // Down, the machine only counts (the abandoned transfers' bytes).
        while let Some(o) = self.store.poll_output() {
            if let Output::Count(name, n) = o {
                cx.count(name, n);
            }
        }
    }
}
