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

pub mod churn;
pub mod datacenter;
pub mod directory_mmc;
pub mod jobs;
pub mod kademlia_churn;
pub mod kademlia_hops;
pub mod kademlia_occupancy;
pub mod kademlia_survival;
pub mod network;
pub mod storage;

/// A measurement: parameters in, compared points out.
pub type Driver = fn(&Params) -> Result<Measurement, CheckError>;

/// Every driver: (name, function, one line on what it measures).
pub const ALL: &[(&str, Driver, &str)] = &[
    (
        "directory-mmc",
        directory_mmc::run,
        "the directory site's mean time in system against M/M/c (Erlang C)",
    ),
    (
        "churn-equilibrium",
        churn::equilibrium,
        "the engine's churn: availability over time and residual up sessions against renewal theory",
    ),
    (
        "churn-snapshots",
        churn::snapshots,
        "session lengths measured by periodic snapshots (create-based or naive) against the session law",
    ),
    (
        "maxmin-shares",
        network::maxmin,
        "flow rates on a small network against hand-computed max-min fair shares",
    ),
    (
        "ba-degree-tail",
        network::ba_tail,
        "the degree tail exponent of grown graphs (discrete MLE) against Barabási–Albert's 3",
    ),
    (
        "jobs-supermarket",
        jobs::supermarket_driver,
        "mean time in system under the power of d choices (volunteer compute)",
    ),
    (
        "jobs-quorum",
        jobs::quorum_driver,
        "wrong results accepted and jobs without a quorum among faulty workers",
    ),
    (
        "jobs-churn-waste",
        jobs::churn_driver,
        "CPU lost to churn per job, with or without checkpoints",
    ),
    (
        "dc-erlang-c",
        datacenter::erlang_c_driver,
        "the data-center compute site's time in system and waiting probability (M/M/c)",
    ),
    (
        "storage-availability",
        storage::availability_driver,
        "read success and readable objects under churn, replicas or m-of-n fragments",
    ),
    (
        "storage-durability",
        storage::durability_driver,
        "mean time to data loss of replicated objects under permanent departures",
    ),
    (
        "kademlia-survival",
        kademlia_survival::run,
        "records without republish retrieved after exponential node lifetimes",
    ),
    (
        "kademlia-churn",
        kademlia_churn::run,
        "lookups determining the closest live node within a deadline under churn",
    ),
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
