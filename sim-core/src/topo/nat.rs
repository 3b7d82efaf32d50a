//! [`Nat`]: some nodes sit behind NAT and cannot receive unsolicited
//! messages; others relay for them.
//!
//! # How the engine uses it
//! - A message from `a` to `b` is *unsolicited* when `b` has not contacted
//!   `a` first (no open mapping). If [`Nat::is_nat`]`(b)` and the message is
//!   unsolicited, it travels through `b`'s relay: use
//!   [`Nat::route_via_relay`] for its links and
//!   [`Nat::relay_latency`] for the latency-model part of its delay.
//! - Replies to a request, and any traffic on a connection the NAT node
//!   opened, use the direct route ([`Topology::route`]).
//! - A NAT node keeps its relay for the run; if the relay goes down the
//!   engine may treat `b` as unreachable for unsolicited messages (or pick
//!   another with [`Nat::relay_candidates`]); this type has no clock.

use super::error::TopoError;
use super::matrix::splitmix64;
use crate::net::latency::LatencyModel;
use crate::net::route::{LinkId, LinkSpec, PathModel, RouteError, Topology};
use crate::units::Duration;
use rand::{Rng, RngExt};

const NONE: u32 = u32::MAX;

/// A topology with NAT flags and relays; routes are the inner topology's.
#[derive(Debug)]
pub struct Nat<T> {
    inner: T,
    relay: Vec<u32>,
    public: Vec<u32>,
    seed: u64,
}

impl<T: Topology + LatencyModel> Nat<T> {
    /// Put `round(fraction × nodes)` nodes behind NAT, chosen uniformly with
    /// `rng` (a partial Fisher–Yates shuffle). Each NAT node's relay is,
    /// among `candidates` public nodes drawn by [`Nat::relay_candidates`]
    /// (hash of a seed taken from `rng`), the one
    /// with the smallest one-way delay for an empty datagram (route latency
    /// plus latency model), ties to the lower id. Costs `candidates` route
    /// queries per NAT node.
    pub fn new(
        inner: T,
        fraction: f64,
        candidates: usize,
        rng: &mut impl Rng,
    ) -> Result<Nat<T>, TopoError> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(TopoError::config(format!(
                "NAT fraction {fraction} is not in [0, 1]"
            )));
        }
        let n = inner.node_count();
        let k = (fraction * n as f64).round() as usize;
        if k > 0 && k >= n {
            return Err(TopoError::config(
                "every node is behind NAT: no node can relay",
            ));
        }
        if k > 0 && candidates == 0 {
            return Err(TopoError::config(
                "relay selection needs at least one candidate",
            ));
        }
        let mut order: Vec<u32> = (0..n as u32).collect();
        for i in 0..k {
            let j = rng.random_range(i..n);
            order.swap(i, j);
        }
        let mut is_nat = vec![false; n];
        for &v in &order[..k] {
            is_nat[v as usize] = true;
        }
        let public: Vec<u32> = (0..n as u32).filter(|&v| !is_nat[v as usize]).collect();
        let seed: u64 = rng.random();
        let mut nat = Nat {
            inner,
            relay: vec![NONE; n],
            public,
            seed,
        };
        let mut route = Vec::new();
        let mut nat_nodes: Vec<u32> = order[..k].to_vec();
        nat_nodes.sort_unstable();
        for v in nat_nodes {
            let mut best: Option<(Duration, u32)> = None;
            for c in nat.relay_candidates(v, candidates) {
                nat.inner
                    .route(v, c, &mut route)
                    .map_err(|e| TopoError::config(format!("relay choice: {e}")))?;
                let d = PathModel::new(nat.inner.links())
                    .path_latency(&route)
                    .saturating_add(nat.inner.latency(v, c));
                if best.is_none_or(|b| (d, c) < b) {
                    best = Some((d, c));
                }
            }
            nat.relay[v as usize] = best.expect("candidates > 0").1;
        }
        Ok(nat)
    }

    /// `count` relay candidates for `node`, drawn uniformly (with
    /// replacement) among public nodes by a stable hash of (seed, node,
    /// draw): the same every time. Empty if no node is public.
    pub fn relay_candidates(&self, node: u32, count: usize) -> Vec<u32> {
        let p = self.public.len() as u64;
        if p == 0 {
            return Vec::new();
        }
        (0..count as u64)
            .map(|i| {
                let h = splitmix64(self.seed ^ splitmix64((u64::from(node) << 32) | i));
                self.public[(h % p) as usize]
            })
            .collect()
    }

    /// Is `node` behind NAT?
    pub fn is_nat(&self, node: u32) -> bool {
        self.relay.get(node as usize).is_some_and(|&r| r != NONE)
    }
    /// The relay of a NAT node (`None` for a public node).
    pub fn relay(&self, node: u32) -> Option<u32> {
        self.relay
            .get(node as usize)
            .copied()
            .filter(|&r| r != NONE)
    }
    /// Number of NAT nodes.
    pub fn nat_count(&self) -> usize {
        self.relay.len() - self.public.len()
    }
    /// The inner topology.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// Route of an unsolicited message from `from` to `to`: through `to`'s
    /// relay if `to` is behind NAT (`from → relay → to`), else direct. A
    /// link that both legs cross (for example a router's airtime) appears
    /// once, at its first use, so the route stays valid for the flow model,
    /// which then charges it once.
    pub fn route_via_relay(
        &self,
        from: u32,
        to: u32,
        out: &mut Vec<LinkId>,
    ) -> Result<(), RouteError> {
        let Some(r) = self.relay(to) else {
            return self.inner.route(from, to, out);
        };
        if from == to || from == r {
            return self.inner.route(from, to, out);
        }
        self.inner.route(from, r, out)?;
        let mut second = Vec::new();
        self.inner.route(r, to, &mut second)?;
        for l in second {
            if !out.contains(&l) {
                out.push(l);
            }
        }
        Ok(())
    }

    /// Latency-model part of an unsolicited message's delay: through the
    /// relay when `to` is behind NAT.
    pub fn relay_latency(&self, from: u32, to: u32) -> Duration {
        match self.relay(to) {
            Some(r) if from != to && from != r => self
                .inner
                .latency(from, r)
                .saturating_add(self.inner.latency(r, to)),
            _ => self.inner.latency(from, to),
        }
    }
}

impl<T: Topology> Topology for Nat<T> {
    fn node_count(&self) -> usize {
        self.inner.node_count()
    }
    fn links(&self) -> &[LinkSpec] {
        self.inner.links()
    }
    fn route(&self, from: u32, to: u32, out: &mut Vec<LinkId>) -> Result<(), RouteError> {
        self.inner.route(from, to, out)
    }
}

impl<T: LatencyModel> LatencyModel for Nat<T> {
    fn latency(&self, from: u32, to: u32) -> Duration {
        self.inner.latency(from, to)
    }
}

impl<T: Topology + LatencyModel> crate::net::Network for Nat<T> {
    fn nat_relay(&self, node: u32) -> Option<u32> {
        self.relay(node)
    }
    fn route_via_relay(&self, from: u32, to: u32, out: &mut Vec<LinkId>) -> Result<(), RouteError> {
        Nat::route_via_relay(self, from, to, out)
    }
    fn relay_latency(&self, from: u32, to: u32) -> Duration {
        Nat::relay_latency(self, from, to)
    }
}
