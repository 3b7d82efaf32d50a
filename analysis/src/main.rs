//! `analysis [--allow-mixed] DIR...`: (re)build `summary.csv`, plots and
//! `report.md` of each result directory (the flagship report, parts
//! included, for a directory with `gateways.csv` or the three part folders
//! `lookups/`, `storage/` and `compute/`; the compute report for a
//! directory with `jobs.csv`, the storage report for one with `reads.csv`,
//! the lookup report otherwise); with several directories (the same
//! scenario under different seeds), also the mean of every summary metric
//! across them with its 95 % confidence interval (Student t over seeds),
//! in `across-seeds.csv` beside the first directory.
//!
//! `across-seeds.csv`: `metric,unit,runs,p2p_n,p2p_mean,p2p_ci95,
//! datacenter_n,datacenter_mean,datacenter_ci95`, where `runs` counts the
//! directories and each side's `n` those with a value (a run that measured
//! nothing has none: blank, never NaN). The interval of a rate (`%`) that
//! would leave [0, 100] is blank: too few runs for a symmetric interval.
//!
//! Several directories must hold the same scenario but for its seed (their
//! `scenario.toml` files are compared key by key) unless `--allow-mixed`
//! is given: a mean over different scenarios is rarely what was meant.

use analysis::report::{self, SummaryRow, blank_or};
use analysis::stats::{bounded_half_width, summarize};
use analysis::{city, compute, cut, manifest, storage};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: analysis [--allow-mixed] RESULT_DIR [RESULT_DIR...]
  rebuilds summary.csv, plots/ and report.md of each result directory
  (a flagship result, with gateways.csv or the folders lookups/, storage/
  and compute/, a compute result, with jobs.csv, a storage result, with
  reads.csv, or a lookup result, with lookups.csv);
  with several (one scenario, several seeds) also writes across-seeds.csv
  beside the first.

  --allow-mixed  combine runs of different scenarios in across-seeds.csv
                 (by default their scenario.toml files, seed aside, must
                 be identical)";

/// `d` holds a flagship result: its own `gateways.csv`, or the three part
/// folders.
fn is_city(d: &Path) -> bool {
    d.join("gateways.csv").is_file() || city::PARTS.iter().all(|p| d.join(p).is_dir())
}

/// `d` holds a compute result (its jobs are in `jobs.csv`).
fn is_compute(d: &Path) -> bool {
    d.join("jobs.csv").is_file()
}

/// `d` holds a storage result (its reads are in `reads.csv`).
fn is_storage(d: &Path) -> bool {
    d.join("reads.csv").is_file()
}

/// The resolved scenario of result directory `d` without its seed, by
/// dotted key.
fn scenario_of(d: &Path) -> Result<BTreeMap<String, String>, String> {
    let p = d.join("scenario.toml");
    let text = std::fs::read_to_string(&p).map_err(|e| {
        format!(
            "{}: cannot read ({e}); without it the runs cannot be checked to be of one scenario (--allow-mixed combines them unchecked)",
            p.display()
        )
    })?;
    let mut keys = analysis::toml_leaves(&text).map_err(|e| format!("{}: {e}", p.display()))?;
    keys.remove("scenario.seed");
    Ok(keys)
}

/// Refuse to combine runs of different scenarios: the first key (in key
/// order) whose value differs.
fn check_one_scenario(dirs: &[PathBuf]) -> Result<(), String> {
    let first = scenario_of(&dirs[0])?;
    for d in &dirs[1..] {
        let other = scenario_of(d)?;
        let keys: std::collections::BTreeSet<&String> = first.keys().chain(other.keys()).collect();
        for k in keys {
            let (a, b) = (first.get(k), other.get(k));
            if a != b {
                let show = |v: Option<&String>| v.map_or("(absent)".to_string(), |v| cut(v));
                return Err(format!(
                    "{} and {} are runs of different scenarios: key `{}` is {} in the first and {} in the second; across-seeds.csv combines seeds of one scenario (pass --allow-mixed to combine them anyway)",
                    dirs[0].display(),
                    d.display(),
                    cut(k),
                    show(a),
                    show(b)
                ));
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut allow_mixed = false;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for a in std::env::args_os().skip(1) {
        if a == "-h" || a == "--help" {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        } else if a == "--allow-mixed" {
            allow_mixed = true;
        } else if a.to_string_lossy().starts_with("--") {
            eprintln!(
                "error: unknown option {}\n{USAGE}",
                cut(&a.to_string_lossy())
            );
            return ExitCode::from(2);
        } else {
            dirs.push(PathBuf::from(a));
        }
    }
    if dirs.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    for d in &dirs {
        if !is_city(d) && !is_compute(d) && !is_storage(d) && !d.join("lookups.csv").is_file() {
            eprintln!(
                "error: {}: not a result directory (no lookups.csv, reads.csv or jobs.csv, nor a flagship's gateways.csv)",
                d.display()
            );
            return ExitCode::from(2);
        }
    }
    if dirs.len() > 1
        && !allow_mixed
        && let Err(e) = check_one_scenario(&dirs)
    {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let mut per_metric: BTreeMap<(String, String), [Vec<f64>; 2]> = BTreeMap::new();
    for d in &dirs {
        let title = d.display().to_string();
        // A result that matches its manifest still does once rebuilt; one
        // that does not keeps its stale manifest (see `manifest`).
        let intact = d.join(manifest::FILE).is_file() && manifest::verify(d).is_ok();
        let notes = "Rebuilt by `analysis`.";
        let written: Result<Vec<SummaryRow>, _> = if is_city(d) {
            city::write(d, &title, &city::CityNotes::same(notes), true).map(|a| a.summary)
        } else if is_compute(d) {
            compute::write(d, &title, notes, true).map(|a| a.summary)
        } else if is_storage(d) {
            storage::write(d, &title, notes, true).map(|a| a.summary)
        } else {
            report::write(d, &title, notes, true).map(|a| a.summary)
        };
        match written {
            Ok(summary) => {
                if intact && let Err(e) = manifest::write(d) {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
                for r in &summary {
                    let e = per_metric
                        .entry((r.metric.to_string(), r.unit.to_string()))
                        .or_default();
                    e[0].push(r.p2p);
                    e[1].push(r.datacenter);
                }
                println!("{}: report.md, summary.csv, plots/", d.display());
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if dirs.len() > 1 {
        // A blank is a metric without a value in a run (nothing measured);
        // each side's n counts the runs with a value. The interval of a
        // rate (%) that would leave [0, 100] is left blank: too few runs
        // for a symmetric interval.
        let mut out = String::from(
            "metric,unit,runs,p2p_n,p2p_mean,p2p_ci95,datacenter_n,datacenter_mean,datacenter_ci95\n",
        );
        for ((m, u), [a, b]) in &per_metric {
            let (sa, sb) = (summarize(a), summarize(b));
            let half = |s: &analysis::stats::Summary| {
                if u == "%" {
                    bounded_half_width(s.mean, s.ci95, 0.0, 100.0)
                } else {
                    s.ci95
                }
            };
            out.push_str(&format!(
                "{m},{u},{},{},{},{},{},{},{}\n",
                dirs.len(),
                sa.n,
                blank_or(sa.mean, 6),
                blank_or(half(&sa), 6),
                sb.n,
                blank_or(sb.mean, 6),
                blank_or(half(&sb), 6)
            ));
        }
        let path = dirs[0]
            .parent()
            .unwrap_or(Path::new("."))
            .join("across-seeds.csv");
        if let Err(e) = std::fs::write(&path, &out) {
            eprintln!("error: writing {}: {e}", path.display());
            return ExitCode::from(2);
        }
        print!("{out}");
        println!("written to {}", path.display());
    }
    ExitCode::SUCCESS
}
