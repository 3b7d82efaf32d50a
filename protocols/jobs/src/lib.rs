//! # jobs: distributed job scheduling on idle machines
//!
//! The compute layer of the People's Cloud: submitters (households) hand
//! jobs to workers (home machines giving their idle CPU), and a validator
//! accepts a result when enough workers agree. This module's shared types
//! ([`job`]) and rows ([`report`]) are also what the data-center compute
//! baseline (`datacenter::compute`) reports, so that an experiment writes
//! identical tables for both sides.
#![warn(missing_docs)]

pub mod job;
pub mod report;
pub mod swf;

pub use job::{
    Answer, Command, Event, EventLog, Fault, Job, JobFailure, Waste, answer_of, run_time,
};
pub use report::JobRow;
