//! # analysis: from CSV results to statistics, plots and a report
//!
//! Reads the tidy CSV files of a result directory (written by the scenario
//! runner, or by anything else in the same format), computes means,
//! percentiles and 95 % confidence intervals, draws plots (SVG and PNG,
//! with an embedded font) and writes `report.md`. It knows nothing of the
//! engine.
#![warn(missing_docs)]

pub mod manifest;
pub mod plot;
pub mod report;
pub mod stats;
