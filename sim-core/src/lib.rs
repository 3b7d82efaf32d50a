//! # sim-core: the deterministic discrete-event engine of peoplescloud
//!
//! This crate owns simulated time, the event queue, the node API, the
//! network and churn models, random-number streams and the metrics sink. It
//! knows nothing of any protocol: protocols are crates that implement
//! [`Node`] and act only through the context [`Cx`].
//!
//! ## The determinism contract
//! - Time is an integer number of nanoseconds ([`Time`], [`Duration`]).
//! - Events run in `(time, sequence)` order, FIFO among equal times
//!   ([`queue`]).
//! - Every random draw comes from a stream derived from
//!   `(seed, purpose, node, incarnation)` ([`rng`]).
//! - No decision depends on hash-map order, threads or wall-clock time.
//! - Same seed ⇒ byte-identical CSV; the rolling event hash and
//!   [`check::first_divergence`] find where two runs part.
//!
//! ## A walkthrough
//! See [`sim`] for a complete two-node example, and the `pingpong` test-bed
//! protocol in [`testbed`].
#![warn(missing_docs)]

pub mod check;
pub mod churn;
pub mod metrics;
pub mod net;
pub mod node;
pub mod queue;
pub mod rng;
pub mod sim;
pub mod testbed;
pub mod topo;
pub mod units;

pub use node::{
    Context, Ctx, Cx, Layer, Message, Node, NodeId, Stop, TimerId, TransferId, TransferOutcome,
};
pub use sim::{RunLimits, RunOutcome, Sim, SimConfig, SimError, SimpleNet, StopReason};
pub use units::{Bytes, Duration, Rate, Time};

/// Everything a protocol or an experiment usually needs.
pub mod prelude {
    pub use crate::metrics::Metrics;
    pub use crate::node::{Cx, Message, Node, NodeId, Stop, TimerId, TransferId, TransferOutcome};
    pub use crate::rng::NodeRng;
    pub use crate::sim::{
        Poisson, RunLimits, RunOutcome, Sim, SimConfig, SimError, SimpleNet, StopReason, Workload,
    };
    pub use crate::units::{Bytes, Duration, Rate, Time};
}
