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

pub mod flow;
pub mod latency;
pub mod route;

pub use flow::{ComponentSize, FlowError, FlowId, FlowNet};
pub use latency::{Constant, LatencyModel, Matrix, MatrixError};
pub use route::{Access, AccessOnly, LinkError, LinkId, LinkSpec, PathModel, RouteError, Topology};
