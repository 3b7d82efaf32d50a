//! sim-core: the deterministic discrete-event engine of peoplescloud.
pub mod net;
pub mod topo;
pub mod units;
