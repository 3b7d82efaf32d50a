//! Network model: routes and link capacities.

pub mod route;

pub use route::{Access, AccessOnly, LinkError, LinkId, LinkSpec, PathModel, RouteError, Topology};
