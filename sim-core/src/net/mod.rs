//! Network model: routes and link capacities, latency models.

pub mod latency;
pub mod route;

pub use latency::{Constant, LatencyModel, Matrix, MatrixError};
pub use route::{Access, AccessOnly, LinkError, LinkId, LinkSpec, PathModel, RouteError, Topology};
