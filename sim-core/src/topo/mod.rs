//! Topologies: who is connected to whom, over which links.
//!
//! Every topology here implements [`Topology`](crate::net::Topology) (a
//! link table and a route of [`LinkId`](crate::net::LinkId)s per pair of
//! nodes) and [`LatencyModel`](crate::net::LatencyModel) for the part of a
//! pair's one-way delay that is not carried by links. The engine's one-way
//! delay of a datagram is therefore
//! `PathModel::datagram_delay(route) + LatencyModel::latency(from, to)`
//! (plus jitter); graph topologies put all their latency in links and
//! return zero from the latency model.
//!
//! - [`MeshTopology`]: routers from a file ([`RouterGraph::load`], networkx
//!   node-link or NetJSON) or a generator ([`generate`]), end hosts attached
//!   to routers, shortest paths by a [`Metric`], per-router radio airtime,
//!   gateways to the internet. The city meshes in `data/topologies/` are
//!   embedded ([`bundled`]).
//! - [`Coordinates`]: a synthetic internet on a sphere.
//! - [`MatrixTopology`]: a measured latency matrix.
//! - [`Star`]: the data-center baseline.
//! - [`Nat`]: nodes behind NAT and relays, over any of them.
//!
//! Nothing here reads a clock; random choices come from a caller's seed.
//!
//! # Example: NYC Mesh with a data center behind its supernodes
//!
//! ```
//! use sim_core::net::{PathModel, Topology};
//! use sim_core::net::route::Access;
//! use sim_core::topo::{bundled, MeshConfig, MeshTopology};
//! use sim_core::units::Duration;
//!
//! let defaults = MeshConfig::default();
//! // Largest component (938 routers), gateways = the 4 supernodes.
//! let (graph, gateways) = bundled::load_recommended("nycmesh", &defaults.gateways)?;
//! let dc = Access {
//!     up: "10Gbit/s".parse()?,
//!     down: "10Gbit/s".parse()?,
//!     latency: Duration::from_millis(15), // WAN from the gateways
//! };
//! let cfg = MeshConfig { gateways, internet_hosts: vec![dc], ..defaults };
//! let mesh = MeshTopology::new(graph, &cfg)?;
//! assert_eq!(mesh.mesh_hosts(), 938);
//!
//! let mut route = Vec::new();
//! mesh.route(0, mesh.internet_host(0), &mut route)?;
//! let path = PathModel::new(mesh.links());
//! assert!(path.path_latency(&route) > Duration::from_millis(20));
//! assert!(path.bottleneck(&route).is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bundled;
mod coords;
mod error;
mod file;
pub mod generate;
mod graph;
mod kind;
mod matrix;
mod mesh;
mod nat;
mod star;

pub use coords::{Coordinates, CoordinatesConfig, Region, SPEED_OF_LIGHT_M_S};
pub use error::{Item, LISTED_IDS_MAX, TopoError};
pub use file::{ComponentPolicy, DuplicatePolicy, Format, ImplicitPolicy, LoadOptions};
pub use graph::{EARTH_RADIUS_M, GraphLink, LatLon, LoadReport, NodeSelector, Router, RouterGraph};
pub use kind::{KindTable, LinkKind, LinkKindParams, LossModel, Metric};
pub use matrix::MatrixTopology;
pub use mesh::{GatewaySpec, HostPlacement, MeshConfig, MeshTopology};
pub use nat::Nat;
pub use star::{CORE_CAPACITY_BPS, Site, Star};

#[cfg(test)]
mod tests;
