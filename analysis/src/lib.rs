//! # analysis: from CSV results to statistics, plots and a report
//!
//! Reads the tidy CSV files of a result directory (written by the scenario
//! runner, or by anything else in the same format), computes means,
//! percentiles and 95 % confidence intervals, draws plots (SVG and PNG,
//! with an embedded font) and writes `report.md`. It knows nothing of the
//! engine.
//!
//! Three experiments have a report of their own: the lookup experiment ([`report`]:
//! request success, exactness, latency and cost, Kademlia against a
//! directory), the storage experiment ([`storage`]: P2P backup against
//! data-center storage — read and write success and latency, durability,
//! availability, repair bytes by cause and storage overhead) and the
//! compute experiment ([`compute`]: jobs on volunteers' machines against a
//! data center's servers — job success, completion time, throughput, wrong
//! answers accepted, CPU time wasted by cause, idle fraction and bytes per
//! job). The flagship experiment ([`city`]: every home of a city mesh
//! running lookups, storage and compute at once, against a data center
//! behind the mesh's gateways) runs those three reports on its parts and
//! adds gateway-link load, energy and cost, and an at-a-glance table. All
//! write the same `summary.csv` form, which is what runs across seeds
//! combine. [`cost`] is the cost and energy model: usage figures of both
//! sides to kWh and US dollars, by service and per unit.
#![warn(missing_docs)]

pub mod city;
pub mod compute;
pub mod cost;
pub mod manifest;
pub mod plot;
pub mod report;
pub mod stats;
pub mod storage;

/// The longest value an error message quotes in full.
pub const QUOTE_CHARS_MAX: usize = 60;

/// `v` cut to [`QUOTE_CHARS_MAX`] characters (with `…` when cut), for
/// error messages that quote values read from files.
pub fn cut(v: &str) -> String {
    if v.chars().count() > QUOTE_CHARS_MAX {
        v.chars().take(QUOTE_CHARS_MAX).collect::<String>() + "…"
    } else {
        v.to_string()
    }
}

/// Every leaf value of a TOML text by dotted key (`kademlia.k` → `20`), in
/// key order; an unparsable text has none. How two resolved scenarios are
/// compared key by key.
pub fn toml_leaves(text: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    fn walk(prefix: &str, t: &toml::Table, out: &mut std::collections::BTreeMap<String, String>) {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(t) => walk(&key, t, out),
                other => {
                    out.insert(key, other.to_string());
                }
            }
        }
    }
    let t: toml::Table = text.parse().map_err(|e| format!("not TOML: {e}"))?;
    let mut out = std::collections::BTreeMap::new();
    walk("", &t, &mut out);
    Ok(out)
}
