//! `analysis DIR...`: (re)build `summary.csv`, plots and `report.md` of
//! each result directory; with several directories (the same scenario under
//! different seeds), also the mean of every summary metric across them with
//! its 95 % confidence interval (Student t over seeds), in
//! `across-seeds.csv` beside the first directory.

use analysis::report;
use analysis::stats::summarize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dirs: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() || dirs.iter().any(|d| d == "-h" || d == "--help") {
        eprintln!("usage: analysis RESULT_DIR [RESULT_DIR...]");
        eprintln!("  rebuilds summary.csv, plots/ and report.md of each result directory;");
        eprintln!("  with several (one scenario, several seeds) also writes across-seeds.csv");
        return ExitCode::from(2);
    }
    let mut per_metric: BTreeMap<(String, String), [Vec<f64>; 2]> = BTreeMap::new();
    for d in &dirs {
        if !d.join("lookups.csv").is_file() {
            eprintln!(
                "error: {}: not a result directory (no lookups.csv)",
                d.display()
            );
            return ExitCode::from(2);
        }
        let title = d.display().to_string();
        match report::write(d, &title, "Rebuilt by `analysis`.", true) {
            Ok(a) => {
                for r in &a.summary {
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
        let mut out =
            String::from("metric,unit,runs,p2p_mean,p2p_ci95,datacenter_mean,datacenter_ci95\n");
        for ((m, u), [a, b]) in &per_metric {
            let (sa, sb) = (summarize(a), summarize(b));
            out.push_str(&format!(
                "{m},{u},{},{},{},{},{}\n",
                sa.n, sa.mean, sa.ci95, sb.mean, sb.ci95
            ));
        }
        let path = dirs[0]
            .parent()
            .unwrap_or(std::path::Path::new("."))
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
