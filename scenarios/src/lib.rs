//! The peoplescloud scenario runner: TOML scenarios, overrides, result
//! directories with provenance.
#![warn(missing_docs)]

pub mod bounds;
pub mod bundled;
pub mod check;
pub mod churn;
pub mod experiment;
pub mod load;
pub mod output;
pub mod runner;
pub mod schema;
pub mod slurm;
pub mod sweep;
pub mod theory;
pub mod tune;
pub mod validate;
