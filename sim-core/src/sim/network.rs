//! The engine's routed network: datagrams and bulk flows over a topology.
//!
//! - A **datagram** follows `Topology::route(from, to)`: it arrives after
//!   its serialisation at the sender's uplink plus the path latency plus
//!   jitter (uniform in `[0, jitter]`, from the sender's network stream), and
//!   is lost with the path's loss probability (drawn from the same stream).
//!   It is not queued behind bulk flows. A datagram crossing a cut link is
//!   lost.
//! - A **bulk transfer** is a flow in [`FlowNet`] along the same route,
//!   sharing capacities max-min fairly with the other flows; when its last
//!   bit has left, the data still needs the path latency to arrive. The
//!   flow model keeps its own completion order; the engine keeps one wake-up
//!   event in its queue for the earliest completion (a new one only when a
//!   change brings that earlier), so rate changes never flood the queue.
//! - **Accounting**: bytes sent and received per node, bytes per link, and
//!   bytes per traffic class ([`crate::node::Message::class`]), for
//!   datagrams and transfers alike, written by
//!   [`Sim::network_tables`](super::Sim::network_tables).

use crate::net::{FlowId, FlowNet, LinkId, LinkSpec, Network, PathModel};
use crate::rng::SplitMix64;
use crate::units::{Bytes, Duration, Time};
use std::collections::BTreeMap;

/// Number of traffic classes counted separately.
pub const CLASSES: usize = 8;

/// Per-node byte counters.
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct NodeBytes {
    pub sent: u64,
    pub received: u64,
}

pub(crate) struct Routed {
    topo: Box<dyn Network>,
    /// Open NAT mappings `(node behind NAT, peer it sent to)`: messages from
    /// the peer to the node are then solicited and travel directly.
    nat_open: std::collections::BTreeSet<(u32, u32)>,
    pub(super) nat_unreachable: u64,
    links: Vec<LinkSpec>,
    jitter: Duration,
    pub(super) flows: FlowNet,
    buf: Vec<LinkId>,
    cut: Vec<bool>,
    /// Flow in progress → transfer slot.
    pub(super) flow_slot: BTreeMap<FlowId, u32>,
    /// Time of the earliest wake-up event in the queue, if any.
    pub(super) wake_at: Option<u64>,
    pub(super) node_bytes: Vec<NodeBytes>,
    datagram_link_bytes: Vec<u64>,
    class_bytes: [u64; CLASSES],
    pub(super) lost: u64,
    pub(super) unroutable: u64,
}

/// What happened to a datagram.
pub(super) enum Fate {
    Arrives(Duration),
    Lost,
    Unroutable,
}

impl Routed {
    pub(super) fn new(topo: Box<dyn Network>, jitter: Duration) -> Self {
        let links = topo.links().to_vec();
        let flows = FlowNet::from_links(&links);
        let n = links.len();
        Routed {
            topo,
            nat_open: std::collections::BTreeSet::new(),
            nat_unreachable: 0,
            links,
            jitter,
            flows,
            buf: Vec::new(),
            cut: vec![false; n],
            flow_slot: BTreeMap::new(),
            wake_at: None,
            node_bytes: Vec::new(),
            datagram_link_bytes: vec![0; n],
            class_bytes: [0; CLASSES],
            lost: 0,
            unroutable: 0,
        }
    }

    pub(super) fn topology(&self) -> &dyn Network {
        &*self.topo
    }

    fn node(&mut self, n: u32) -> &mut NodeBytes {
        let i = n as usize;
        if self.node_bytes.len() <= i {
            self.node_bytes.resize(i + 1, NodeBytes::default());
        }
        &mut self.node_bytes[i]
    }

    /// Route `from → to` into `buf` and return the latency-model part of
    /// the delay, or None if there is no usable route. Applies the NAT
    /// rule: a node behind NAT opens a mapping to every peer it sends to;
    /// an unsolicited message to it goes through its relay, which must be
    /// up (`is_up`).
    fn route(&mut self, from: u32, to: u32, is_up: &dyn Fn(u32) -> bool) -> Option<Duration> {
        if self.topo.nat_relay(from).is_some() {
            self.nat_open.insert((from, to));
        }
        let relay = self.topo.nat_relay(to);
        let relayed = relay.is_some() && !self.nat_open.contains(&(to, from));
        if relayed {
            if !relay.is_some_and(is_up) {
                self.nat_unreachable += 1;
                return None;
            }
            if self.topo.route_via_relay(from, to, &mut self.buf).is_err() {
                self.unroutable += 1;
                return None;
            }
            return Some(self.topo.relay_latency(from, to));
        }
        if self.topo.route(from, to, &mut self.buf).is_err() {
            self.unroutable += 1;
            return None;
        }
        Some(self.topo.latency(from, to))
    }

    /// Route a datagram of `bytes` and decide its fate.
    pub(super) fn datagram(
        &mut self,
        from: u32,
        to: u32,
        bytes: u64,
        class: u8,
        rng: &mut SplitMix64,
        is_up: &dyn Fn(u32) -> bool,
    ) -> Fate {
        let Some(pair_latency) = self.route(from, to, is_up) else {
            return Fate::Unroutable;
        };
        self.node(from).sent += bytes;
        self.class_bytes[class as usize % CLASSES] += bytes;
        let pm = PathModel::new(&self.links);
        let loss = pm.path_loss(&self.buf);
        let mut delay = pm
            .datagram_delay(&self.buf, Bytes(bytes))
            .saturating_add(pair_latency);
        for l in &self.buf {
            self.datagram_link_bytes[l.index()] += bytes;
        }
        if self.jitter.0 > 0 {
            delay = delay.saturating_add(Duration(rng.below(self.jitter.0 + 1)));
        }
        let cut = self.buf.iter().any(|l| self.cut[l.index()]);
        if cut || (loss > 0.0 && rng.unit_f64() < loss) {
            self.lost += 1;
            return Fate::Lost;
        }
        Fate::Arrives(delay)
    }

    /// A datagram of `bytes` arrived at `to`.
    pub(super) fn received(&mut self, to: u32, bytes: u64) {
        self.node(to).received += bytes;
    }

    /// Start a flow for transfer `slot`; returns the path latency the data
    /// needs after the flow ends, or None if there is no usable route.
    pub(super) fn start_flow(
        &mut self,
        now: u64,
        (from, to): (u32, u32),
        bytes: u64,
        class: u8,
        slot: u32,
        is_up: &dyn Fn(u32) -> bool,
    ) -> Option<(FlowId, Duration)> {
        let pair_latency = self.route(from, to, is_up)?;
        if self.buf.is_empty() {
            return None;
        }
        if self.buf.iter().any(|l| self.cut[l.index()]) {
            return None;
        }
        let latency = PathModel::new(&self.links)
            .path_latency(&self.buf)
            .saturating_add(pair_latency);
        let id = self
            .flows
            .start(Time(now), &self.buf, Bytes(bytes), class)
            .ok()?;
        self.flow_slot.insert(id, slot);
        Some((id, latency))
    }

    /// Account a finished or failed transfer's moved bytes.
    pub(super) fn account_transfer(&mut self, from: u32, to: u32, moved: u64, class: u8) {
        self.node(from).sent += moved;
        self.node(to).received += moved;
        self.class_bytes[class as usize % CLASSES] += moved;
    }

    /// Fail the flow of a transfer; returns the bytes it moved.
    pub(super) fn fail_flow(&mut self, now: u64, id: FlowId) -> u64 {
        self.flow_slot.remove(&id);
        self.flows.fail(Time(now), id).map_or(0, |b| b.0)
    }

    /// Cut (or restore) a link. Cutting fails the flows crossing it and
    /// returns their transfer slots with the bytes moved.
    pub(super) fn set_cut(&mut self, now: u64, link: LinkId, cut: bool) -> Vec<(u32, u64)> {
        let Some(c) = self.cut.get_mut(link.index()) else {
            return Vec::new();
        };
        *c = cut;
        if !cut {
            return Vec::new();
        }
        self.flows
            .fail_link(Time(now), link)
            .into_iter()
            .filter_map(|(id, moved)| self.flow_slot.remove(&id).map(|s| (s, moved.0)))
            .collect()
    }

    /// Bytes per link: datagrams plus finished flows.
    pub(super) fn link_bytes(&self) -> impl Iterator<Item = (usize, u64, u64)> + '_ {
        (0..self.links.len()).map(|i| {
            (
                i,
                self.datagram_link_bytes[i],
                self.flows.link_bytes(LinkId(i as u32)),
            )
        })
    }

    /// Bytes `link` has carried by `now`: datagrams, and flows including
    /// those in progress.
    pub(super) fn link_bytes_now(&self, link: LinkId, now: u64) -> u64 {
        self.datagram_link_bytes
            .get(link.index())
            .copied()
            .unwrap_or(0)
            .saturating_add(self.flows.link_bytes_at(link, Time(now)))
    }

    pub(super) fn class_bytes(&self) -> &[u64; CLASSES] {
        &self.class_bytes
    }
}
