//! sim-core: the deterministic discrete-event engine of peoplescloud.
pub mod churn;
pub mod units;
