//! Routes and links: the interface a topology implements, a minimal
//! topology ([`AccessOnly`]) and helpers that turn a route into a datagram
//! delay, a loss probability or a bottleneck rate ([`PathModel`]).
//!
//! A route is the ordered list of [`LinkId`]s a packet crosses: the sender's
//! access **uplink** first, the receiver's access **downlink** last, and the
//! shared links in between (mesh links, gateway tunnels, a data-center
//! uplink). Every node has its own uplink and downlink, so that a node's
//! upload and download capacities are shared only by its own transfers.
//! A node's route to itself is empty: loopback traffic uses no link.

use crate::units::{Bytes, Duration, Rate};

/// Index of a link in a topology's link table ([`Topology::links`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub u32);

impl LinkId {
    /// The index into the link table.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Error for a link description that cannot be simulated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinkError {
    /// The loss probability is NaN or outside `[0, 1)`.
    #[error(
        "invalid loss probability {loss}: expected a number in [0, 1) (0 = lossless; 1 would drop everything)"
    )]
    Loss {
        /// The value that was given.
        loss: f64,
    },
}

/// Latency, capacity and datagram loss of one link.
///
/// Fields are private so that every `LinkSpec` has passed
/// [`LinkSpec::new`]'s checks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkSpec {
    latency: Duration,
    capacity: Rate,
    loss: f64,
}

impl LinkSpec {
    /// A link with one-way propagation `latency`, `capacity` (bulk flows
    /// share it; a datagram is serialised at the sender's uplink capacity)
    /// and per-datagram `loss` probability, which must be in `[0, 1)`.
    pub fn new(latency: Duration, capacity: Rate, loss: f64) -> Result<LinkSpec, LinkError> {
        // `contains` is false for NaN.
        if !(0.0..1.0).contains(&loss) {
            return Err(LinkError::Loss { loss });
        }
        Ok(LinkSpec {
            latency,
            capacity,
            loss,
        })
    }
    /// A lossless link.
    pub fn lossless(latency: Duration, capacity: Rate) -> LinkSpec {
        LinkSpec {
            latency,
            capacity,
            loss: 0.0,
        }
    }
    /// One-way propagation latency.
    pub fn latency(&self) -> Duration {
        self.latency
    }
    /// Capacity in whole bits per second.
    pub fn capacity(&self) -> Rate {
        self.capacity
    }
    /// Per-datagram loss probability, in `[0, 1)`.
    pub fn loss(&self) -> f64 {
        self.loss
    }
}

/// Error for a route that cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The two nodes are in different connected components.
    #[error("no route from node {from} to node {to}: they are not connected")]
    NoRoute {
        /// Sender.
        from: u32,
        /// Receiver.
        to: u32,
    },
    /// A node index is not below [`Topology::node_count`].
    #[error("unknown node {node}: the topology has {count} nodes (0..{count})")]
    UnknownNode {
        /// The index that was given.
        node: u32,
        /// The number of nodes.
        count: usize,
    },
}

/// Routes and link table of a network; implemented by the topology models.
///
/// Implementations must be deterministic: the same `(from, to)` gives the
/// same route every time.
pub trait Topology {
    /// Number of nodes; nodes are `0..node_count()`.
    fn node_count(&self) -> usize;
    /// All links, indexed by [`LinkId`].
    fn links(&self) -> &[LinkSpec];
    /// Write the route from `from` to `to` into `out` (cleared first):
    /// `from`'s uplink first, `to`'s downlink last, shared links in between,
    /// no link twice. Empty when `from == to`.
    fn route(&self, from: u32, to: u32, out: &mut Vec<LinkId>) -> Result<(), RouteError>;
}

/// Access link parameters of one node in an [`AccessOnly`] topology.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Access {
    /// Upload capacity.
    pub up: Rate,
    /// Download capacity.
    pub down: Rate,
    /// One-way latency of each of the node's two access links.
    pub latency: Duration,
}

/// The simplest topology: every node has its own uplink and downlink, and
/// all nodes meet either directly or through one shared "core" link.
///
/// A route is `up(from) -> [core] -> down(to)`, so a one-way latency is
/// `access(from) + core + access(to)`. Link table layout: node `i`'s uplink
/// is link `2i`, its downlink `2i + 1`, the core (if any) is link `2n`.
/// Access links are lossless; the core carries the given loss.
#[derive(Clone, Debug)]
pub struct AccessOnly {
    links: Vec<LinkSpec>,
    nodes: usize,
    core: Option<LinkId>,
}

impl AccessOnly {
    /// One node per entry of `access`, with an optional shared `core` link.
    ///
    /// # Panics
    /// If the link table would not fit `u32` indices (more than 2^31 - 1 nodes).
    pub fn new(access: &[Access], core: Option<LinkSpec>) -> AccessOnly {
        assert!(
            access.len() < (u32::MAX / 2) as usize,
            "too many nodes for u32 link ids"
        );
        let mut links = Vec::with_capacity(2 * access.len() + 1);
        for a in access {
            links.push(LinkSpec::lossless(a.latency, a.up));
            links.push(LinkSpec::lossless(a.latency, a.down));
        }
        let core = core.map(|c| {
            links.push(c);
            LinkId((links.len() - 1) as u32)
        });
        AccessOnly {
            links,
            nodes: access.len(),
            core,
        }
    }
    /// `n` nodes with identical access links.
    pub fn uniform(n: usize, access: Access, core: Option<LinkSpec>) -> AccessOnly {
        AccessOnly::new(&vec![access; n], core)
    }
    /// Node `node`'s uplink.
    pub fn uplink(&self, node: u32) -> LinkId {
        LinkId(2 * node)
    }
    /// Node `node`'s downlink.
    pub fn downlink(&self, node: u32) -> LinkId {
        LinkId(2 * node + 1)
    }
    /// The shared core link, if there is one.
    pub fn core(&self) -> Option<LinkId> {
        self.core
    }
}

impl Topology for AccessOnly {
    fn node_count(&self) -> usize {
        self.nodes
    }
    fn links(&self) -> &[LinkSpec] {
        &self.links
    }
    fn route(&self, from: u32, to: u32, out: &mut Vec<LinkId>) -> Result<(), RouteError> {
        out.clear();
        for node in [from, to] {
            if node as usize >= self.nodes {
                return Err(RouteError::UnknownNode {
                    node,
                    count: self.nodes,
                });
            }
        }
        if from == to {
            return Ok(());
        }
        out.push(self.uplink(from));
        out.extend(self.core);
        out.push(self.downlink(to));
        Ok(())
    }
}

/// Path arithmetic over a link table.
///
/// Every method takes a route of [`LinkId`]s into the table it was built
/// with and panics if an id is out of range (ids come from the same
/// topology, so that is a programming error).
#[derive(Clone, Copy, Debug)]
pub struct PathModel<'a> {
    links: &'a [LinkSpec],
}

impl<'a> PathModel<'a> {
    /// Path arithmetic over `links` (usually [`Topology::links`]).
    pub fn new(links: &'a [LinkSpec]) -> PathModel<'a> {
        PathModel { links }
    }
    /// Sum of the links' one-way latencies (saturating).
    pub fn path_latency(&self, path: &[LinkId]) -> Duration {
        path.iter().fold(Duration::ZERO, |acc, l| {
            acc.saturating_add(self.links[l.index()].latency)
        })
    }
    /// Probability that a datagram is lost somewhere on the path, links
    /// losing independently: `1 - prod(1 - loss_i)`. Zero for an empty path.
    pub fn path_loss(&self, path: &[LinkId]) -> f64 {
        let delivered: f64 = path
            .iter()
            .map(|l| 1.0 - self.links[l.index()].loss)
            .product();
        1.0 - delivered
    }
    /// The smallest capacity on the path (`None` for an empty path): the
    /// rate a lone bulk flow on the path gets.
    pub fn bottleneck(&self, path: &[LinkId]) -> Option<Rate> {
        path.iter().map(|l| self.links[l.index()].capacity).min()
    }
    /// One-way delay of a datagram of `bytes`: its serialisation at the
    /// first link's capacity (the sender's uplink) plus the path latency.
    /// Jitter is the caller's. Zero for an empty (loopback) path.
    ///
    /// Datagrams are not queued behind bulk flows (packets interleave on
    /// real links), so this does not depend on the flows in progress.
    pub fn datagram_delay(&self, path: &[LinkId], bytes: Bytes) -> Duration {
        match path.first() {
            None => Duration::ZERO,
            Some(first) => self.links[first.index()]
                .capacity
                .transmit_time(bytes)
                .saturating_add(self.path_latency(path)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(bps: u64) -> Rate {
        Rate::new(bps).unwrap()
    }

    #[test]
    fn loss_must_be_a_probability_below_one() {
        let (lat, cap) = (Duration::from_millis(1), rate(1_000));
        for bad in [-0.1, 1.0, 1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let e = LinkSpec::new(lat, cap, bad).unwrap_err();
            assert!(matches!(e, LinkError::Loss { .. }), "{bad}");
            assert!(e.to_string().contains("[0, 1)"), "{e}");
        }
        for good in [0.0, 0.25, 0.999] {
            assert_eq!(LinkSpec::new(lat, cap, good).unwrap().loss(), good);
        }
    }

    fn two_nodes_with_core() -> AccessOnly {
        let a = Access {
            up: rate(10_000_000),
            down: rate(50_000_000),
            latency: Duration::from_millis(5),
        };
        let b = Access {
            up: rate(2_000_000),
            down: rate(8_000_000),
            latency: Duration::from_millis(20),
        };
        let core = LinkSpec::new(Duration::from_millis(30), rate(4_000_000), 0.1).unwrap();
        AccessOnly::new(&[a, b], Some(core))
    }

    #[test]
    fn access_only_routes_up_core_down() {
        let t = two_nodes_with_core();
        assert_eq!(t.node_count(), 2);
        assert_eq!(t.links().len(), 5);
        let mut r = vec![LinkId(99)];
        t.route(0, 1, &mut r).unwrap();
        assert_eq!(r, [LinkId(0), LinkId(4), LinkId(3)]);
        t.route(1, 0, &mut r).unwrap();
        assert_eq!(r, [LinkId(2), LinkId(4), LinkId(1)]);
        t.route(1, 1, &mut r).unwrap();
        assert!(r.is_empty());
        let e = t.route(0, 2, &mut r).unwrap_err();
        assert_eq!(e, RouteError::UnknownNode { node: 2, count: 2 });

        let flat = AccessOnly::uniform(
            3,
            Access {
                up: rate(1),
                down: rate(2),
                latency: Duration::ZERO,
            },
            None,
        );
        flat.route(2, 0, &mut r).unwrap();
        assert_eq!(r, [LinkId(4), LinkId(1)]);
        assert_eq!(flat.core(), None);
    }

    #[test]
    fn path_helpers_by_hand() {
        let t = two_nodes_with_core();
        let m = PathModel::new(t.links());
        let mut r = Vec::new();
        t.route(0, 1, &mut r).unwrap();
        // 5 ms (up of 0) + 30 ms (core) + 20 ms (down of 1).
        assert_eq!(m.path_latency(&r), Duration::from_millis(55));
        // Only the core loses: 1 - 0.9 = 0.1.
        assert!((m.path_loss(&r) - 0.1).abs() < 1e-12);
        // min(10, 4, 8) Mbit/s.
        assert_eq!(m.bottleneck(&r), Some(rate(4_000_000)));
        // 1250 B = 10 000 bits at node 0's 10 Mbit/s uplink = 1 ms, + 55 ms.
        assert_eq!(
            m.datagram_delay(&r, Bytes(1_250)),
            Duration::from_millis(56)
        );
        // Reverse: 2 Mbit/s uplink -> 5 ms; 20 + 30 + 5 ms latency.
        t.route(1, 0, &mut r).unwrap();
        assert_eq!(
            m.datagram_delay(&r, Bytes(1_250)),
            Duration::from_millis(60)
        );
        // Rounding up: 1 byte at 3 bit/s = 8/3 s = 2.666..67 s.
        let odd = [LinkSpec::lossless(Duration::from_nanos(1), rate(3))];
        let m = PathModel::new(&odd);
        assert_eq!(
            m.datagram_delay(&[LinkId(0)], Bytes(1)),
            Duration::from_nanos(2_666_666_668)
        );
        assert_eq!(m.datagram_delay(&[], Bytes(1)), Duration::ZERO);
        assert_eq!(m.bottleneck(&[]), None);
        assert_eq!(m.path_loss(&[]), 0.0);
    }

    #[test]
    fn loss_compounds_over_links() {
        let l = |p| LinkSpec::new(Duration::ZERO, rate(1), p).unwrap();
        let links = [l(0.5), l(0.2), l(0.0)];
        let m = PathModel::new(&links);
        // 1 - 0.5 * 0.8 * 1.0 = 0.6
        let p = m.path_loss(&[LinkId(0), LinkId(1), LinkId(2)]);
        assert!((p - 0.6).abs() < 1e-12, "{p}");
    }
}
