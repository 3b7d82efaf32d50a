//! # jobs: distributed job scheduling on idle machines
//!
//! The compute layer of the People's Cloud: submitters (households) hand
//! jobs to workers (home machines giving their idle CPU), and a validator
//! accepts a result when enough workers agree. This module's shared types
//! ([`job`]) and rows ([`report`]) are also what the data-center compute
//! baseline (`datacenter::compute`) reports, so that an experiment writes
//! identical tables for both sides.
//!
//! The P2P side is a sans-IO machine per peer ([`protocol::Jobs`], its
//! drive loop and rules in [`protocol`]), run in the engine by
//! [`node::JobsNode`]:
//! - placement policies ([`Policy`]): random, power of d choices, work
//!   stealing, BOINC-style pull;
//! - redundancy and quorum against wrong answers, with more copies when
//!   the results disagree;
//! - inputs and outputs as bulk transfers in the compute traffic class;
//! - deadlines, lost copies found by heartbeats and re-issued, work lost to
//!   churn since the last checkpoint, and every CPU-second that did not go
//!   into an accepted result reported by cause ([`Waste`]).
//!
//! [`harness`] builds small runs for tests and benchmarks.
//!
//! The statistical claims about these mechanisms are reproduction cases of
//! `scenarios check` (`repro/jobs-*.toml`, drivers in
//! `scenarios/src/check/drivers/jobs.rs`), each with a negative control:
//! power of two choices against the supermarket model and one choice
//! against M/M/1, quorum acceptance of wrong results by non-colluding and
//! colluding workers against the hypergeometric prediction, and work lost
//! to churn with and without checkpoints against renewal theory. They
//! replace the crate's integration tests of the same measurements; the
//! crate's tests keep the end-to-end and accounting checks.
#![warn(missing_docs)]

pub mod config;
pub mod harness;
pub mod job;
pub mod message;
pub mod node;
pub mod protocol;
pub mod report;
pub mod swf;

pub use config::{Config, ConfigError, Policy};
pub use job::{
    Answer, Command, Event, EventLog, Fault, Job, JobFailure, Waste, answer_of, run_time,
};
pub use message::{CopyKey, Msg};
pub use node::JobsNode;
pub use protocol::{Bulk, Input, Jobs, Output, Timer, WorkerSpec};
pub use report::{JOBS_HEADER, JobRow};
