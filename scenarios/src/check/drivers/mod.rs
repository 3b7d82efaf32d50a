//! The measurement drivers cases name (`driver = "..."` in a case file).
//!
//! A driver runs a measurement from its [`Params`] and returns the points it
//! compares. Its rules:
//! - the **expected value depends only on the claim's parameters**: a
//!   control changes the system (a parameter the driver reads as "what
//!   runs"), never the prediction, so that a control that fails fails for
//!   the reason the case claims;
//! - fixed seeds from the parameters (`seed`, default 1): the same
//!   parameters give the same points;
//! - standard errors from independent replications (seeds, or independent
//!   networks when the network itself is random) or batch means, never
//!   from counting the driver's own coin flips;
//! - unknown parameters are errors ([`Params::only`]).

use super::{CheckError, Measurement, Params};

pub mod kademlia_hops;
pub mod kademlia_occupancy;

/// A measurement: parameters in, compared points out.
pub type Driver = fn(&Params) -> Result<Measurement, CheckError>;

/// Every driver: (name, function, one line on what it measures).
pub const ALL: &[(&str, Driver, &str)] = &[
    (
        "kademlia-hops",
        kademlia_hops::run,
        "slope on log2 N of lookup hops over joined tables minus full-knowledge tables",
    ),
    (
        "kademlia-occupancy",
        kademlia_occupancy::run,
        "routing-table occupancy (full knowledge or joined) against the binomial expectation",
    ),
];

/// The driver called `name`.
pub fn find(name: &str) -> Option<Driver> {
    ALL.iter().find(|(n, _, _)| *n == name).map(|(_, d, _)| *d)
}
