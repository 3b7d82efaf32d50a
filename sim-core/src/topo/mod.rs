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

pub use coords::{Coordinates, CoordinatesConfig, Region};
pub use error::{Item, LISTED_IDS_MAX, TopoError};
pub use file::{ComponentPolicy, DuplicatePolicy, Format, LoadOptions};
pub use graph::{EARTH_RADIUS_M, GraphLink, LatLon, LoadReport, NodeSelector, Router, RouterGraph};
pub use kind::{KindTable, LinkKind, LinkKindParams, LossModel, Metric};
pub use matrix::MatrixTopology;
pub use mesh::{GatewaySpec, HostPlacement, MeshConfig, MeshTopology};
pub use nat::Nat;
pub use star::{Site, Star};

#[cfg(test)]
mod tests;
