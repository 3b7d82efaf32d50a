//! sim-core: the deterministic discrete-event engine of peoplescloud.
pub mod units;
