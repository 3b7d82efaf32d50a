//! A case's driver parameters: the `[params]` table of its file, with the
//! `[control.params]` table laid over it for the control run.

use super::CheckError;

/// Driver parameters, read with clear errors naming the key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    table: toml::Table,
}

impl Params {
    /// Parameters from a TOML table.
    pub fn new(table: toml::Table) -> Params {
        Params { table }
    }
    /// These parameters with `over`'s keys replacing theirs.
    pub fn overlaid(&self, over: &toml::Table) -> Params {
        let mut t = self.table.clone();
        for (k, v) in over {
            t.insert(k.clone(), v.clone());
        }
        Params { table: t }
    }
    /// The keys given.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.table.keys().map(String::as_str)
    }
    /// Refuse keys other than `known` (a misspelt key is an error, not a
    /// silent default).
    pub fn only(&self, known: &[&str]) -> Result<(), CheckError> {
        for k in self.keys() {
            if !known.contains(&k) {
                return Err(CheckError::param(
                    k,
                    format!("unknown; the driver reads {}", known.join(", ")),
                ));
            }
        }
        Ok(())
    }
    /// A non-negative integer, `default` when absent.
    pub fn u64(&self, key: &str, default: u64) -> Result<u64, CheckError> {
        match self.table.get(key) {
            None => Ok(default),
            Some(toml::Value::Integer(i)) if *i >= 0 => Ok(*i as u64),
            Some(v) => Err(CheckError::param(
                key,
                format!("{v}: expected a non-negative integer"),
            )),
        }
    }
    /// A number (an integer is accepted), `default` when absent.
    pub fn f64(&self, key: &str, default: f64) -> Result<f64, CheckError> {
        match self.table.get(key) {
            None => Ok(default),
            Some(toml::Value::Float(f)) if f.is_finite() => Ok(*f),
            Some(toml::Value::Integer(i)) => Ok(*i as f64),
            Some(v) => Err(CheckError::param(key, format!("{v}: expected a number"))),
        }
    }
    /// A boolean, `default` when absent.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, CheckError> {
        match self.table.get(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(v) => Err(CheckError::param(
                key,
                format!("{v}: expected true or false"),
            )),
        }
    }
    /// A string, `default` when absent.
    pub fn str(&self, key: &str, default: &str) -> Result<String, CheckError> {
        match self.table.get(key) {
            None => Ok(default.to_string()),
            Some(toml::Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(CheckError::param(key, format!("{v}: expected a string"))),
        }
    }
    /// A list of non-negative integers, `default` when absent.
    pub fn u64s(&self, key: &str, default: &[u64]) -> Result<Vec<u64>, CheckError> {
        match self.table.get(key) {
            None => Ok(default.to_vec()),
            Some(toml::Value::Array(a)) if !a.is_empty() => a
                .iter()
                .map(|v| match v {
                    toml::Value::Integer(i) if *i >= 0 => Ok(*i as u64),
                    _ => Err(CheckError::param(
                        key,
                        format!("{v}: expected a list of non-negative integers"),
                    )),
                })
                .collect(),
            Some(v) => Err(CheckError::param(
                key,
                format!("{v}: expected a non-empty list of non-negative integers"),
            )),
        }
    }
    /// A list of numbers, `default` when absent.
    pub fn f64s(&self, key: &str, default: &[f64]) -> Result<Vec<f64>, CheckError> {
        match self.table.get(key) {
            None => Ok(default.to_vec()),
            Some(toml::Value::Array(a)) if !a.is_empty() => a
                .iter()
                .map(|v| match v {
                    toml::Value::Float(f) if f.is_finite() => Ok(*f),
                    toml::Value::Integer(i) => Ok(*i as f64),
                    _ => Err(CheckError::param(
                        key,
                        format!("{v}: expected a list of numbers"),
                    )),
                })
                .collect(),
            Some(v) => Err(CheckError::param(
                key,
                format!("{v}: expected a non-empty list of numbers"),
            )),
        }
    }
    /// A duration with a unit (`"10min"`), `default` when absent.
    pub fn duration(
        &self,
        key: &str,
        default: sim_core::Duration,
    ) -> Result<sim_core::Duration, CheckError> {
        match self.table.get(key) {
            None => Ok(default),
            Some(toml::Value::String(s)) => s.parse().map_err(|e| {
                CheckError::param(
                    key,
                    format!("{s:?}: {e}; expected a duration such as \"10min\""),
                )
            }),
            Some(v) => Err(CheckError::param(
                key,
                format!("{v}: expected a duration string such as \"10min\""),
            )),
        }
    }
    /// `"none"` or a positive duration (`"2h"`), `default` when absent;
    /// `none_means` says what `"none"` stands for in the error of a zero.
    pub fn duration_or_none(
        &self,
        key: &str,
        default: &str,
        none_means: &str,
    ) -> Result<Option<sim_core::Duration>, CheckError> {
        let s = self.str(key, default)?;
        if s == "none" {
            return Ok(None);
        }
        let d: sim_core::Duration = s.parse().map_err(|e| {
            CheckError::param(key, format!("{s:?}: {e}; expected \"none\" or a duration"))
        })?;
        if d.0 == 0 {
            return Err(CheckError::param(
                key,
                format!("zero; say \"none\"{none_means}"),
            ));
        }
        Ok(Some(d))
    }
}
