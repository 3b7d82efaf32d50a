//! Network model: routes and link capacities, latency models and bulk flows.
//!
//! Two kinds of traffic cross the simulated network:
//!
//! - **datagrams** (RPCs, pings): delivered after [`PathModel::datagram_delay`]
//!   (serialisation at the sender's uplink plus the latencies along the
//!   route; the caller adds jitter) and lost with probability
//!   [`PathModel::path_loss`]. They are never queued behind bulk flows.
//! - **bulk flows** (object data, fragments, job inputs): reliable transfers
//!   that share link capacities by max-min fairness, see [`FlowNet`].
//!
//! This module owns no clock and no event queue: the engine passes the
//! current [`Time`](crate::units::Time) into every call and schedules the
//! completions that [`FlowNet::next_completion`] reports. Nothing here draws
//! random numbers, and no float decides a time.
//!
//! ```
//! use sim_core::net::{Access, AccessOnly, FlowNet, PathModel, Topology};
//! use sim_core::units::{Bytes, Duration, Time};
//!
//! // Two home nodes: 10 Mbit/s up, 50 Mbit/s down, 5 ms to the core.
//! let home = Access {
//!     up: "10Mbit/s".parse().unwrap(),
//!     down: "50Mbit/s".parse().unwrap(),
//!     latency: Duration::from_millis(5),
//! };
//! let topo = AccessOnly::uniform(2, home, None);
//! let mut route = Vec::new();
//! topo.route(0, 1, &mut route).unwrap();
//!
//! // A 1250-byte datagram: 1 ms to serialise at 10 Mbit/s, then 5 + 5 ms.
//! let paths = PathModel::new(topo.links());
//! assert_eq!(paths.datagram_delay(&route, Bytes(1_250)), Duration::from_millis(11));
//!
//! // A 5 MB bulk transfer is limited by the sender's uplink: 4 s.
//! let mut flows = FlowNet::from_links(topo.links());
//! let id = flows.start(Time::ZERO, &route, "5MB".parse().unwrap(), 0).unwrap();
//! assert_eq!(flows.next_completion(), Some((Time(4_000_000_000), id)));
//! ```

pub mod flow;
pub mod latency;
pub mod route;

pub use flow::{ComponentSize, FlowError, FlowId, FlowNet};

use crate::units::Duration;

/// What the engine runs over (`Sim::set_topology`): routes and capacities
/// ([`Topology`]), the part of a pair's latency not carried by links
/// ([`LatencyModel`]), and, for topologies with NAT, the relays that carry
/// unsolicited messages to nodes behind NAT.
///
/// The engine's rule for NAT: a message from `a` to `b` is *unsolicited*
/// unless `b` has sent to `a` before (an open mapping; mappings do not
/// expire). An unsolicited message to a node behind NAT travels
/// [`Network::route_via_relay`] with [`Network::relay_latency`], and is lost
/// if the relay is down.
pub trait Network: Topology + LatencyModel {
    /// The relay of `node` if it is behind NAT.
    fn nat_relay(&self, node: u32) -> Option<u32> {
        let _ = node;
        None
    }
    /// Route of an unsolicited message (direct unless `to` is behind NAT).
    fn route_via_relay(&self, from: u32, to: u32, out: &mut Vec<LinkId>) -> Result<(), RouteError> {
        self.route(from, to, out)
    }
    /// Latency-model part of an unsolicited message's delay.
    fn relay_latency(&self, from: u32, to: u32) -> Duration {
        self.latency(from, to)
    }
}

impl LatencyModel for AccessOnly {
    /// All of an access-only network's latency is in its links.
    fn latency(&self, _from: u32, _to: u32) -> Duration {
        Duration::ZERO
    }
}
impl Network for AccessOnly {}
pub use latency::{Constant, LatencyModel, Matrix, MatrixError};
pub use route::{Access, AccessOnly, LinkError, LinkId, LinkSpec, PathModel, RouteError, Topology};
