//! A ping/gossip test-bed protocol.
//!
//! [`Gossip`] exercises every part of the node API with behaviour simple
//! enough to predict by hand: each node pings a random peer every `period`
//! and the peer answers (so every round trip is exactly twice the one-way
//! latency on a constant network), and infected nodes push a rumor to a
//! random peer on each tick (epidemic spread, for whole-system tests). A
//! workload request infects its client. Bulk `Blob` messages exercise
//! transfers.

use crate::node::{Cx, Message, Node, NodeId, Stop, TransferId, TransferOutcome};
use crate::units::{Duration, Time};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The test-bed's messages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum GossipMsg {
    /// A probe; the receiver answers with `Pong` and the same number.
    Ping {
        /// Sequence number of the probe at its sender.
        seq: u32,
    },
    /// The answer to a probe.
    Pong {
        /// The probe's sequence number.
        seq: u32,
    },
    /// The rumor, and how many hops it has travelled.
    Rumor {
        /// Hops from the first infected node.
        hops: u16,
    },
    /// A bulk payload of `len` phantom bytes.
    Blob {
        /// Phantom payload length.
        len: u64,
    },
}

impl Message for GossipMsg {
    fn phantom_len(&self) -> u64 {
        match self {
            GossipMsg::Blob { len } => *len,
            _ => 0,
        }
    }
}

/// The test-bed's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GossipTimer {
    /// The periodic tick.
    Tick,
}

/// A workload request for the test bed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GossipReq {
    /// Become infected with the rumor (hop 0).
    Infect,
}

/// Row of the `pings` table: one completed round trip.
#[derive(Serialize)]
pub struct PingRow {
    /// When the answer arrived.
    pub time_ns: u64,
    /// The prober.
    pub node: u32,
    /// The answering peer.
    pub peer: u32,
    /// Probe number.
    pub seq: u32,
    /// Round-trip time.
    pub rtt_ns: u64,
}

/// Row of the `infections` table.
#[derive(Serialize)]
pub struct InfectionRow {
    /// When the node was infected.
    pub time_ns: u64,
    /// The node.
    pub node: u32,
    /// Hops from the first infected node.
    pub hops: u16,
}

/// A ping/gossip node.
#[derive(Debug, Clone)]
pub struct Gossip {
    /// Tick period.
    pub period: Duration,
    /// Whether this node carries the rumor.
    pub infected: Option<u16>,
    /// Outstanding probes: sequence number → send time (volatile).
    pub outstanding: BTreeMap<u32, Time>,
    /// Next probe number.
    pub next_seq: u32,
    /// Round trips completed (volatile counter, for tests).
    pub pongs: u64,
    /// Bulk transfer outcomes seen by this node.
    pub transfers: Vec<(TransferId, TransferOutcome)>,
    /// When set, the node misbehaves from this time on (it stops pinging):
    /// used to inject a divergence in determinism tests.
    pub fault_at: Option<Time>,
}

impl Gossip {
    /// A node ticking every `period`.
    pub fn new(period: Duration) -> Self {
        Gossip {
            period,
            infected: None,
            outstanding: BTreeMap::new(),
            next_seq: 0,
            pongs: 0,
            transfers: Vec::new(),
            fault_at: None,
        }
    }

    fn random_peer(cx: &mut Cx<'_, Self>) -> Option<NodeId> {
        let n = cx.node_count() as u32;
        if n < 2 {
            return None;
        }
        let me = cx.me().0;
        let mut p = cx.rng().random_range(0..n - 1);
        if p >= me {
            p += 1;
        }
        Some(NodeId(p))
    }

    fn infect(&mut self, cx: &mut Cx<'_, Self>, hops: u16) {
        if self.infected.is_none() {
            self.infected = Some(hops);
            let row = InfectionRow {
                time_ns: cx.now().0,
                node: cx.me().0,
                hops,
            };
            cx.record("infections", &row);
        }
    }
}

impl Node for Gossip {
    type Msg = GossipMsg;
    type Timer = GossipTimer;
    type Request = GossipReq;

    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        cx.set_timer(self.period, GossipTimer::Tick);
    }

    fn on_message(&mut self, cx: &mut Cx<'_, Self>, from: NodeId, msg: GossipMsg) {
        match msg {
            GossipMsg::Ping { seq } => cx.send(from, GossipMsg::Pong { seq }),
            GossipMsg::Pong { seq } => {
                if let Some(sent) = self.outstanding.remove(&seq) {
                    let rtt = cx.now().since(sent);
                    self.pongs += 1;
                    cx.observe("rtt_ns", rtt.0);
                    let row = PingRow {
                        time_ns: cx.now().0,
                        node: cx.me().0,
                        peer: from.0,
                        seq,
                        rtt_ns: rtt.0,
                    };
                    cx.record("pings", &row);
                }
            }
            GossipMsg::Rumor { hops } => self.infect(cx, hops),
            GossipMsg::Blob { len } => cx.count("blob_bytes_received", len),
        }
    }

    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, GossipTimer::Tick: GossipTimer) {
        let faulty = self.fault_at.is_some_and(|t| cx.now() >= t);
        if !faulty && let Some(peer) = Self::random_peer(cx) {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.outstanding.insert(seq, cx.now());
            // Bound the probe table: forget probes older than 64 numbers.
            if self.outstanding.len() > 64 {
                self.outstanding.pop_first();
            }
            cx.send(peer, GossipMsg::Ping { seq });
        }
        if let Some(h) = self.infected
            && let Some(peer) = Self::random_peer(cx)
        {
            cx.send(peer, GossipMsg::Rumor { hops: h + 1 });
        }
        cx.set_timer(self.period, GossipTimer::Tick);
    }

    fn on_request(&mut self, cx: &mut Cx<'_, Self>, GossipReq::Infect: GossipReq) {
        self.infect(cx, 0);
    }

    fn on_transfer(&mut self, _cx: &mut Cx<'_, Self>, id: TransferId, outcome: TransferOutcome) {
        self.transfers.push((id, outcome));
    }

    fn on_stop(&mut self, _cx: &mut Cx<'_, Self>, how: Stop) {
        // Volatile state goes; the infection is "on disk" and survives a
        // transient crash.
        self.outstanding.clear();
        if how == Stop::Permanent {
            self.infected = None;
        }
    }
}
