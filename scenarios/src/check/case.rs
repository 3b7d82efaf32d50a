//! A reproduction case: one TOML file of the `repro/` folder.
//!
//! ```toml
//! title = "The directory site is an M/M/c queue"
//! set = "quick"                 # "quick" (run in CI) or "full" (on demand)
//! driver = "directory-mmc"      # a driver of `scenarios check --list`
//! sigmas = 4                    # band half-width in standard errors (≥ 4
//!                               # unless `sigmas_reason` says why)
//! citation = "Erlang C: Kleinrock, Queueing Systems vol. 1 (1975), §3.5"
//! expected = "mean time in system W = C(c, a)/(cμ − λ) + 1/μ"
//! tolerance = "batch means over 20 batches of requests"
//!
//! [params]                      # the driver's parameters
//! servers = 4
//! rho = 0.8
//!
//! [control]
//! description = "fixed service times: M/D/c waits about half as long"
//! [control.params]              # laid over [params] for the control run
//! service = "fixed"
//! ```

use super::{CheckError, Params};
use serde::Deserialize;

/// Which set a case is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Set {
    /// Run by `scenarios check --quick` (and in CI).
    Quick,
    /// Run by `scenarios check --all` only.
    Full,
}

impl Set {
    /// `quick` or `full`.
    pub fn name(self) -> &'static str {
        match self {
            Set::Quick => "quick",
            Set::Full => "full",
        }
    }
}

/// The control run of a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// What it changes, and why the claim must then fail.
    pub description: String,
    /// Parameters laid over the case's.
    pub params: toml::Table,
}

/// One case file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The case's name: its file name without `.toml` (set when loaded).
    #[serde(skip)]
    pub name: String,
    /// One line: what is reproduced.
    pub title: String,
    /// Quick or full.
    pub set: Set,
    /// The driver that measures it.
    pub driver: String,
    /// Band half-width in standard errors.
    #[serde(default = "four")]
    pub sigmas: f64,
    /// Why fewer than 4 standard errors, when so.
    #[serde(default)]
    pub sigmas_reason: Option<String>,
    /// The paper, figure or table, or the derivation's source.
    pub citation: String,
    /// The expected value and how it is obtained.
    pub expected: String,
    /// Where the standard errors (and any allowance) come from.
    pub tolerance: String,
    /// The driver's parameters.
    #[serde(default)]
    pub params: toml::Table,
    /// The negative control.
    pub control: Control,
}

fn four() -> f64 {
    4.0
}

impl Case {
    /// Parse the case `name` from its file's `text`; `file` names it in
    /// errors.
    pub fn parse(name: &str, text: &str, file: &str) -> Result<Case, CheckError> {
        let mut c: Case = toml::from_str(text)
            .map_err(|e| CheckError(format!("{file}: {}", e.to_string().trim_end())))?;
        c.name = name.to_string();
        if !c.sigmas.is_finite() || c.sigmas <= 0.0 {
            return Err(CheckError(format!(
                "{file}: key `sigmas`: {}: expected a positive number of standard errors",
                c.sigmas
            )));
        }
        if c.sigmas < 4.0 && c.sigmas_reason.as_deref().is_none_or(str::is_empty) {
            return Err(CheckError(format!(
                "{file}: key `sigmas`: {} is below 4 standard errors; say why in `sigmas_reason`",
                c.sigmas
            )));
        }
        if c.control.params.is_empty() {
            return Err(CheckError(format!(
                "{file}: key `control.params`: empty; a control must change the system"
            )));
        }
        for (k, v) in &c.control.params {
            if c.params.get(k) == Some(v) {
                return Err(CheckError(format!(
                    "{file}: key `control.params.{k}`: the same value as `params.{k}`; a control must change the system"
                )));
            }
        }
        if super::drivers::find(&c.driver).is_none() {
            let known: Vec<&str> = super::drivers::ALL.iter().map(|d| d.0).collect();
            return Err(CheckError(format!(
                "{file}: key `driver`: no driver {:?}; the drivers are {}",
                c.driver,
                known.join(", ")
            )));
        }
        Ok(c)
    }
    /// The case's parameters.
    pub fn params(&self) -> Params {
        Params::new(self.params.clone())
    }
    /// The control's parameters: the case's with the control's laid over.
    pub fn control_params(&self) -> Params {
        self.params().overlaid(&self.control.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
title = "t"
set = "quick"
driver = "nonesuch"
citation = "c"
expected = "e"
tolerance = "4 SE"
[params]
a = 1
[control]
description = "d"
[control.params]
a = 2
"#;

    fn err(text: &str) -> String {
        Case::parse("x", text, "repro/x.toml").unwrap_err().0
    }

    #[test]
    fn bad_case_files_name_the_file_and_key() {
        let e = err(GOOD);
        assert!(
            e.contains("repro/x.toml") && e.contains("`driver`") && e.contains("nonesuch"),
            "{e}"
        );
        let e = err(&GOOD.replace("a = 2", "a = 1"));
        assert!(
            e.contains("control.params.a") && e.contains("must change"),
            "{e}"
        );
        let e = err(&GOOD.replace("[control.params]\na = 2", "[control.params]"));
        assert!(e.contains("control.params") && e.contains("empty"), "{e}");
        let e = err(&GOOD.replace("tolerance = \"4 SE\"", "tolerance = \"4 SE\"\nsigmas = 2"));
        assert!(e.contains("sigmas") && e.contains("sigmas_reason"), "{e}");
        let e = err(&GOOD.replace("set = \"quick\"", "set = \"nightly\""));
        assert!(e.contains("repro/x.toml") && e.contains("nightly"), "{e}");
        let e = err(&GOOD.replace("title = \"t\"", "titel = \"t\""));
        assert!(e.contains("titel"), "{e}");
    }
}
