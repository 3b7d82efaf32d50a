//! `scenarios`: run a scenario file (or a bundled scenario by name) and
//! write a result directory with CSV files, plots and a report.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use scenarios::load::{LoadError, Origin, Override, load};
use scenarios::output::{Provenance, Staging, run_hash};
use scenarios::schema::Scenario;
use scenarios::{bundled, experiment};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "scenarios",
    version,
    about = "Run peoplescloud scenarios: a P2P system and a data-center baseline on the same workload.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario (the default when a file is given).
    Run(RunArgs),
    /// Parse a scenario, print it resolved (every default filled in), exit.
    Validate(ValidateArgs),
    /// List the bundled scenarios.
    List,
}

#[derive(Args, Clone)]
struct RunArgs {
    /// A scenario file, or the name of a bundled scenario (see `list`).
    file: Option<String>,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Where results go (`<out>/<scenario>/<run-id>/`).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Override a value: `--set kademlia.k=8` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<Override>,
    /// No progress bar, no summary.
    #[arg(long)]
    quiet: bool,
    /// Run even if a complete result for the same scenario and build exists.
    #[arg(long)]
    force: bool,
    /// Stop abnormally after this many events (tests of interruption).
    #[arg(long, hide = true)]
    abort_after_events: Option<u64>,
}

#[derive(Args)]
struct ValidateArgs {
    /// A scenario file or bundled name.
    file: String,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override a value (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<Override>,
}

/// A user error: printed without a backtrace, exit code 2.
struct UserError(String);

fn read_scenario(name: &str, seed: Option<u64>, set: &[Override]) -> Result<Scenario, UserError> {
    let (text, origin) = if Path::new(name).is_file() {
        let text = std::fs::read_to_string(name)
            .map_err(|e| UserError(format!("{name}: cannot read: {e}")))?;
        (text, Origin::File(name.to_string()))
    } else if let Some((n, text)) = bundled::find(name) {
        (text.to_string(), Origin::Bundled(n))
    } else {
        return Err(UserError(format!(
            "{name}: no such file, and no bundled scenario of that name (bundled: {})",
            bundled::names().join(", ")
        )));
    };
    let mut s: Scenario =
        load(&text, &origin, set).map_err(|e: LoadError| UserError(e.to_string()))?;
    if let Some(seed) = seed {
        s.scenario.seed = seed;
    }
    experiment::check(&s)
        .map_err(|e| UserError(format!("{origin}: key `{}`: {}", e.field, e.message)))?;
    Ok(s)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::List) => {
            for (name, text) in bundled::ALL {
                println!("{name:<18} {}", bundled::description(text));
            }
            Ok(())
        }
        Some(Command::Validate(v)) => match read_scenario(&v.file, v.seed, &v.set) {
            Ok(s) => {
                print!("{}", toml::to_string(&s).unwrap_or_default());
                Ok(())
            }
            Err(e) => Err(e),
        },
        Some(Command::Run(r)) => run(r),
        None => run(cli.run),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(UserError(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(args: RunArgs) -> Result<(), UserError> {
    let Some(file) = args.file.clone() else {
        return Err(UserError(
            "no scenario given: `scenarios FILE.toml`, or `scenarios list` for the bundled ones"
                .into(),
        ));
    };
    let s = read_scenario(&file, args.seed, &args.set)?;
    execute(&s, &args).map_err(|e| UserError(format!("{e:#}")))
}

fn execute(s: &Scenario, args: &RunArgs) -> Result<()> {
    let resolved = toml::to_string(s).context("printing the resolved scenario")?;
    let prov = Provenance::current();
    let hash = run_hash(&resolved, &prov);
    let run_id = format!("seed-{}-{}", s.scenario.seed, &hash[..12]);
    let target = args.out.join(&s.scenario.name).join(&run_id);
    if target.join("report.md").exists() && !args.force {
        if !args.quiet {
            println!(
                "already complete (same scenario and build): {}",
                target.display()
            );
            println!("use --force to run it again");
        }
        return Ok(());
    }
    let bar = if args.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(1_000);
        b.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} [{bar:40}] {msg} (elapsed {elapsed}, eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    };
    let wall = std::time::Instant::now();
    let mut progress = |side: &str, now: sim_core::Time, end: sim_core::Time, events: u64| {
        bar.set_prefix(side.to_string());
        bar.set_position((now.0 as u128 * 1_000 / end.0.max(1) as u128) as u64);
        let secs = wall.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!(
            "sim {} / {}, {:.2} M events/s",
            sim_core::Duration(now.0),
            sim_core::Duration(end.0),
            events as f64 / secs / 1e6
        ));
    };
    let out = experiment::run(s, args.abort_after_events, &mut progress)
        .map_err(|e| anyhow::anyhow!("key `{}`: {}", e.field, e.message))?;
    bar.finish_and_clear();
    if out.aborted {
        bail!("the run was aborted before its end; no result was written");
    }
    check_identical_workload(&out.files)?;
    let stage = Staging::new(target.clone())?;
    stage.write("scenario.toml", &resolved)?;
    stage.write("provenance.toml", prov.to_toml())?;
    stage.write("run-info.csv", &out.run_info)?;
    for (name, bytes) in &out.files {
        stage.write(name, bytes)?;
    }
    let title = format!("{}: {}", s.scenario.name, s.scenario.description);
    let warm = if s.kademlia.start == "warm" {
        " Routing tables were built from global knowledge (**warm start**), not by joins."
    } else {
        ""
    };
    let notes = format!(
        "Topology: {}. Seed {}. Warm-up {}, then {} of requests from {} clients (one every {} on average each).{warm}",
        out.topology,
        s.scenario.seed,
        s.scenario.warmup,
        s.scenario.duration,
        s.workload.clients,
        s.workload.mean_gap
    );
    let analysis = analysis::report::write(stage.dir(), &title, &notes, s.output.plots)?;
    let dir = stage.commit()?;
    if !args.quiet {
        println!("{title}");
        println!(
            "{:<22} {:>14} {:>14} {:>28}",
            "metric", "P2P", "data center", "difference (95% CI)"
        );
        for r in &analysis.summary {
            let diff = match r.difference {
                Some((d, lo, hi)) if !d.is_nan() => format!("{d:.2} [{lo:.2}, {hi:.2}]"),
                _ => "-".into(),
            };
            println!(
                "{:<22} {:>14.2} {:>14.2} {:>28}",
                format!("{} ({})", r.metric, r.unit),
                r.p2p,
                r.datacenter,
                diff
            );
        }
        println!("results: {}", dir.display());
    }
    Ok(())
}

/// The two systems must have received exactly the same requests.
fn check_identical_workload(files: &std::collections::BTreeMap<String, Vec<u8>>) -> Result<()> {
    let text = String::from_utf8_lossy(files.get("requests.csv").map_or(&[][..], |v| v));
    let mut sides: [Vec<&str>; 2] = [Vec::new(), Vec::new()];
    for line in text.lines().skip(1) {
        if let Some(rest) = line.strip_prefix("p2p,") {
            sides[0].push(rest);
        } else if let Some(rest) = line.strip_prefix("datacenter,") {
            sides[1].push(rest);
        }
    }
    if sides[0] != sides[1] {
        bail!("internal error: the two systems received different requests");
    }
    Ok(())
}
