//! `scenarios`: run a scenario file (or a bundled scenario by name) and
//! write a result directory with CSV files, plots and a report.

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use scenarios::load::{Origin, Override};
use scenarios::runner::{RunOptions, RunStatus, run_one};
use scenarios::schema::Scenario;
use scenarios::sweep::{self, Shard, SweepOptions};
use scenarios::{bundled, slurm};
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
    /// Check a scenario without simulating (every value and its bounds,
    /// the topology, the sweep grid, and with `--out` that the output
    /// folder is writable); print it resolved (every default filled in).
    Validate(ValidateArgs),
    /// List the bundled scenarios.
    List,
    /// Run a scenario's `[sweep]` grid: every point × every seed, in
    /// parallel, skipping runs whose results exist.
    Sweep(SweepArgs),
    /// Combine the shards of a sweep (`sweep --shard I/N`) into one result.
    Merge(MergeArgs),
    /// Write Slurm job scripts for a sweep (a job array, one task per
    /// shard, and a merge job that runs after it), or for a tune (a job
    /// array per round of seeds, and a script that submits them in turn).
    Slurm(SlurmArgs),
    /// Search a storage scenario's `[tune]` grid for the cheapest
    /// parameters that keep its constraints: closed-form pruning, then
    /// seeds added until each point is decided; runs are reused.
    Tune(TuneArgs),
    /// Run the reproduction cases (`repro/`): published and analytic
    /// results, each with a negative control that must fail. Exit code 1
    /// when a case fails.
    Check(CheckArgs),
}

#[derive(Args)]
struct CheckArgs {
    /// Cases to run, by name (default: the quick set; with `--all`, every
    /// case).
    cases: Vec<String>,
    /// The quick set (the default; what CI runs).
    #[arg(long, conflicts_with = "all")]
    quick: bool,
    /// Every case, quick and full.
    #[arg(long)]
    all: bool,
    /// Read the cases from this folder instead of the compiled-in `repro/`.
    #[arg(long)]
    repro: Option<PathBuf>,
    /// Where the results go: `<out>/check/` (`check.csv`, `report.md`,
    /// `plots/`), replaced atomically.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Cases run at a time.
    #[arg(long, short = 'j', default_value_t = 2)]
    jobs: usize,
    /// List the cases and the drivers; run nothing.
    #[arg(long)]
    list: bool,
    /// No plots.
    #[arg(long)]
    no_plots: bool,
    /// No per-case lines while running.
    #[arg(long)]
    quiet: bool,
}

/// The scenario a command reads: a file or bundled name, with the seed and
/// values overridden.
#[derive(Args)]
struct Source {
    /// A scenario file, or the name of a bundled scenario (see `list`).
    file: String,
    /// Override the scenario's seed (for a sweep: the first of `seeds = N`).
    #[arg(long)]
    seed: Option<u64>,
    /// Override a value: `--set kademlia.k=8` (repeatable; in a sweep, in
    /// every run, and not a swept key).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<Override>,
}

#[derive(Args)]
struct ValidateArgs {
    #[command(flatten)]
    src: Source,
    /// Also check that results can be written here (a probe file is created
    /// and removed; nothing else is written).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct SweepArgs {
    #[command(flatten)]
    src: Source,
    /// Where results go: runs in `<out>/<scenario>/<run-id>/`, the combined
    /// output in `<out>/<scenario>/sweep-<hash>/`.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Runs at a time (default: the number of CPUs).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Run only shard I of N (1-based; points I-1, I-1+N, …); combine the
    /// shards with `merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Rerun runs whose results exist.
    #[arg(long)]
    force: bool,
    /// No progress bar, no per-run lines, no summary.
    #[arg(long)]
    quiet: bool,
    /// Abort the process while writing a run after this many runs (tests of
    /// resumption).
    #[arg(long, hide = true)]
    die_after_runs: Option<usize>,
}

#[derive(Args)]
struct TuneArgs {
    #[command(flatten)]
    src: Source,
    /// Where results go: runs in `<out>/<scenario>/<run-id>/`, the search's
    /// output in `<out>/<scenario>/tune-<hash>/`.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Runs at a time (default: the number of CPUs).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Rerun runs whose results exist.
    #[arg(long, conflicts_with = "shard")]
    force: bool,
    /// No per-run lines.
    #[arg(long)]
    quiet: bool,
    /// Run only shard I of N (1-based) of the first round that has runs
    /// missing, then stop; once every shard has, run `tune` again for the
    /// next round (or, when none is missing, the result).
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Run nothing: decide the rounds whose runs are all complete; exit 0
    /// with the result written when the search has ended, 3 when a round
    /// has runs missing (the Slurm scripts of a tune loop on it).
    #[arg(long, conflicts_with_all = ["shard", "force"])]
    status: bool,
}

#[derive(Args)]
struct MergeArgs {
    /// Sweep directories (`<out>/<scenario>/sweep-<hash>/`) of the shards.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Output root of the merged sweep (default: that of the first
    /// directory); runs found elsewhere are copied into it.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct SlurmArgs {
    #[command(flatten)]
    src: Source,
    /// Output root, on a file system every node sees.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Array tasks (shards); at most the number of runs.
    #[arg(long, default_value_t = 8)]
    shards: usize,
    /// CPUs per task; each task runs that many runs at a time.
    #[arg(long, default_value_t = 1)]
    cpus_per_task: usize,
    /// Time limit per task, in Slurm's notation.
    #[arg(long, default_value = "04:00:00")]
    time: String,
    /// Memory per task, e.g. 4G.
    #[arg(long)]
    mem: Option<String>,
    /// Partition.
    #[arg(long)]
    partition: Option<String>,
    /// Account.
    #[arg(long)]
    account: Option<String>,
    /// Scripts for `tune` (the scenario's [tune] table) rather than for its
    /// sweep; the default when the scenario has a [tune] table and no
    /// [sweep] table.
    #[arg(long)]
    tune: bool,
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
    /// Bytes of rows a table of the lookup experiment holds in memory
    /// before it streams them to a file beside the result [default:
    /// 8388608, 8 MiB]. The result is the same whatever the value.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    row_buffer: Option<u64>,
    /// When standard error is not a terminal (a log file, a batch job),
    /// print a progress line there at most every this many seconds of
    /// wall time (0: at every step of a side, about 200).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    progress_every: u64,
}

/// A user error: printed without a backtrace, exit code 2.
struct UserError(String);

fn read_text(name: &str) -> Result<(String, Origin), UserError> {
    if Path::new(name).is_file() {
        // A scenario is a few kilobytes; refuse to read a huge file whole.
        const SCENARIO_BYTES_MAX: u64 = 10 << 20;
        let len = std::fs::metadata(name).map_or(0, |m| m.len());
        if len > SCENARIO_BYTES_MAX {
            return Err(UserError(format!(
                "{name}: {len} bytes; a scenario file is at most {SCENARIO_BYTES_MAX} bytes (10 MiB)"
            )));
        }
        let text = std::fs::read_to_string(name)
            .map_err(|e| UserError(format!("{name}: cannot read: {e}")))?;
        Ok((text, Origin::File(name.to_string())))
    } else if let Some((n, text)) = bundled::find(name) {
        Ok((text.to_string(), Origin::Bundled(n)))
    } else {
        Err(UserError(format!(
            "{name}: no such file, and no bundled scenario of that name (bundled: {})",
            bundled::names().join(", ")
        )))
    }
}

fn read_scenario(name: &str, seed: Option<u64>, set: &[Override]) -> Result<Scenario, UserError> {
    let (text, origin) = read_text(name)?;
    scenarios::validate::validate_text(&text, &origin, set, seed).map_err(UserError)
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
        Some(Command::Validate(v)) => validate(v),
        Some(Command::Sweep(a)) => run_sweep(a),
        Some(Command::Merge(a)) => merge(a),
        Some(Command::Tune(a)) => match run_tune(a) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(3),
            Err(e) => Err(e),
        },
        Some(Command::Slurm(a)) => write_slurm(a),
        Some(Command::Run(r)) => run(r),
        Some(Command::Check(a)) => match check(a) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
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

/// `scenarios check`: Ok(true) when every case passed.
fn check(a: CheckArgs) -> Result<bool, UserError> {
    use scenarios::check::{drivers, run};
    let err = |e: scenarios::check::CheckError| UserError(e.0);
    let cases = match &a.repro {
        Some(dir) => run::from_dir(dir).map_err(err)?,
        None => run::bundled().map_err(err)?,
    };
    if a.list {
        let mut cases = cases;
        cases.sort_by(|x, y| x.name.cmp(&y.name));
        println!("cases:");
        for c in &cases {
            println!("  {:<36} {:<5} {}", c.name, c.set.name(), c.title);
        }
        println!("drivers:");
        for (name, _, what) in drivers::ALL {
            println!("  {name:<36} {what}");
        }
        return Ok(true);
    }
    let sel = run::Selection {
        all: a.all,
        names: a.cases.clone(),
    };
    let cases = run::select(cases, &sel).map_err(err)?;
    if cases.is_empty() {
        return Err(UserError(
            "no case to run (the folder has no case of that set; `--all` runs every set)".into(),
        ));
    }
    let target = scenarios::output::inside(&a.out, Path::new("check"))
        .map_err(|e| UserError(format!("{e:#}")))?;
    let stage = scenarios::output::Staging::new(target).map_err(|e| UserError(format!("{e:#}")))?;
    if !a.quiet {
        println!(
            "running {} case(s) and their controls, {} at a time",
            cases.len(),
            a.jobs.max(1)
        );
    }
    let quiet = a.quiet;
    let outcomes = run::run_all(&cases, a.jobs, &|o| {
        if !quiet {
            println!(
                "  {:<36} {} ({:.1} s)",
                o.case.name,
                if o.passed() { "pass" } else { "FAIL" },
                o.main.seconds + o.control.seconds
            );
        }
    });
    run::write(stage.dir(), &outcomes, !a.no_plots).map_err(err)?;
    let dir = stage.commit().map_err(|e| UserError(format!("{e:#}")))?;
    print!("{}", run::table(&outcomes));
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    println!(
        "{} of {} cases passed; results: {}",
        outcomes.len() - failed,
        outcomes.len(),
        dir.display()
    );
    Ok(failed == 0)
}

fn run(args: RunArgs) -> Result<(), UserError> {
    let Some(file) = args.file.clone() else {
        return Err(UserError(
            "no scenario given: `scenarios FILE.toml`, or `scenarios list` for the bundled ones"
                .into(),
        ));
    };
    let s = read_scenario(&file, args.seed, &args.set)?;
    check_result_dir(&args.out, &s.scenario.name)?;
    if !args.quiet {
        warn_of_memory(&s);
    }
    execute(&s, &args).map_err(|e| UserError(format!("{e:#}")))
}

fn execute(s: &Scenario, args: &RunArgs) -> Result<()> {
    if s.sweep.is_some() && !args.quiet {
        println!(
            "note: this scenario has a [sweep] table; this runs its base point only (`scenarios sweep FILE` runs the grid)"
        );
    }
    if s.tune.is_some() && !args.quiet {
        println!(
            "note: this scenario has a [tune] table; this runs its base point only (`scenarios tune FILE` searches)"
        );
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
    // Without a terminal, plain lines: a long run under a batch system or
    // with its output in a file says how far it is.
    let lines = !args.quiet && !std::io::stderr().is_terminal();
    let every = std::time::Duration::from_secs(args.progress_every);
    let mut last_line = std::time::Instant::now();
    let mut progress = |side: &str, now: sim_core::Time, end: sim_core::Time, events: u64| {
        if lines && last_line.elapsed() >= every {
            last_line = std::time::Instant::now();
            let secs = wall.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "progress: {side} {:.1} % (sim {} / {}), {} events, {:.2} M events/s, {:.0} s elapsed",
                now.0 as f64 * 100.0 / end.0.max(1) as f64,
                sim_core::Duration(now.0),
                sim_core::Duration(end.0),
                events,
                events as f64 / secs / 1e6,
                secs
            );
        }
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
    let opts = RunOptions {
        out: args.out.clone(),
        force: args.force,
        abort_after_events: args.abort_after_events,
        die_while_writing: false,
        row_buffer: args
            .row_buffer
            .map(|b| usize::try_from(b).unwrap_or(usize::MAX)),
    };
    let status = run_one(s, &opts, &mut progress);
    bar.finish_and_clear();
    match status? {
        RunStatus::Existing { dir } => {
            if !args.quiet {
                println!(
                    "already complete (same scenario and build): {}",
                    dir.display()
                );
                println!("use --force to run it again");
            }
        }
        RunStatus::Done { dir, summary } => {
            if !args.quiet {
                println!("{}: {}", s.scenario.name, s.scenario.description);
                print!("{}", analysis::report::summary_text(&summary));
                println!("results: {}", dir.display());
            }
        }
    }
    Ok(())
}

/// Check, before simulating, that results can be written to
/// `<out>/<name>/`.
fn check_result_dir(out: &Path, name: &str) -> Result<(), UserError> {
    let dir = scenarios::output::inside(out, Path::new(name))
        .map_err(|e| UserError(format!("key `scenario.name`: {e}")))?;
    scenarios::validate::check_out_dir(&dir).map_err(UserError)
}

fn validate(a: ValidateArgs) -> Result<(), UserError> {
    let v = a.src;
    let s = read_scenario(&v.file, v.seed, &v.set)?;
    if let Some(out) = &a.out {
        check_result_dir(out, &s.scenario.name)?;
    }
    warn_of_memory(&s);
    print!("{}", toml::to_string(&s).unwrap_or_default());
    if s.sweep.is_some() {
        let g = grid_of(&v)?;
        println!("\n# [sweep]: {}", g.spec.describe());
    }
    if s.tune.is_some() {
        let t = scenarios::tune::TuneSpec::parse(&s).map_err(UserError)?;
        println!(
            "\n# [tune]: {} points (`scenarios tune FILE` searches them)",
            t.grid_size()
        );
    }
    Ok(())
}

/// On standard error: a warning if the run would need more memory than
/// the machine has available, by the measured runs.
fn warn_of_memory(s: &Scenario) {
    if let Some(w) =
        scenarios::bounds::available_memory().and_then(|a| scenarios::bounds::memory_warning(s, a))
    {
        eprintln!("warning: {w}");
    }
}

fn grid_of(src: &Source) -> Result<sweep::Grid, UserError> {
    let (text, origin) = read_text(&src.file)?;
    let g = sweep::grid(&text, &origin, &src.set, src.seed).map_err(UserError)?;
    if g.spec.axes.is_empty() && g.spec.seeds.len() == 1 {
        eprintln!(
            "note: {origin} has no [sweep] table with values or seeds; the sweep is its one run"
        );
    }
    Ok(g)
}

fn run_sweep(a: SweepArgs) -> Result<(), UserError> {
    let g = grid_of(&a.src)?;
    check_result_dir(&a.out, &g.manifest.name)?;
    let asked = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if asked == 0 {
        return Err(UserError("--jobs 0: at least one run at a time".into()));
    }
    let runs = g
        .points
        .iter()
        .filter(|p| a.shard.is_none_or(|s| s.has(p.index)))
        .count();
    let jobs = asked.min(runs.max(1)).min(sweep::JOBS_MAX);
    if a.jobs.is_some() && jobs < asked && !a.quiet {
        println!(
            "note: --jobs {asked}: running {jobs} at a time (at most one per run, and at most {})",
            sweep::JOBS_MAX
        );
    }
    if !a.quiet {
        let part = a.shard.map_or(String::new(), |s| format!(", shard {s}"));
        println!(
            "sweep {}: {}{part}, {jobs} at a time",
            g.manifest.name,
            g.spec.describe()
        );
    }
    let opts = SweepOptions {
        out: a.out.clone(),
        jobs,
        shard: a.shard,
        force: a.force,
        quiet: a.quiet,
        die_after_runs: a.die_after_runs,
    };
    let o = sweep::run_sweep(&g, &opts).map_err(|e| UserError(format!("{e:#}")))?;
    if !a.quiet {
        println!("{} runs simulated, {} already complete", o.ran, o.skipped);
        if o.combined {
            println!("results: {}", o.dir.display());
        } else {
            println!(
                "shard done; when every shard is: scenarios merge {}",
                o.dir.display()
            );
        }
    }
    Ok(())
}

/// `scenarios tune`: Ok(false) when `--status` found a round with runs
/// missing.
fn run_tune(a: TuneArgs) -> Result<bool, UserError> {
    let (text, origin) = read_text(&a.src.file)?;
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        return Err(UserError("--jobs 0: at least one run at a time".into()));
    }
    let s = read_scenario(&a.src.file, a.src.seed, &a.src.set)?;
    check_result_dir(&a.out, &s.scenario.name)?;
    let opts = scenarios::tune::TuneOptions {
        out: a.out.clone(),
        jobs: jobs.min(sweep::JOBS_MAX),
        force: a.force,
        quiet: a.quiet,
        shard: a.shard,
        status_only: a.status,
    };
    let o =
        scenarios::tune::tune(&text, &origin, &a.src.set, a.src.seed, &opts).map_err(UserError)?;
    for line in &o.log {
        println!("{line}");
    }
    if let Some(msg) = &o.shard_stopped {
        println!("{msg}");
        return Ok(!a.status);
    }
    println!(
        "evaluated {} of {} grid points (the others pruned); {} runs simulated, {} reused",
        o.evaluated, o.grid, o.ran, o.reused
    );
    println!("results: {}", o.dir.display());
    match (&o.recommended, &o.failure) {
        (Some(r), _) => {
            println!(
                "recommended: {r} ({})",
                o.dir.join("recommendation.toml").display()
            );
            Ok(true)
        }
        (None, Some(why)) => Err(UserError(why.clone())),
        (None, None) => Err(UserError("no recommendation".into())),
    }
}

fn merge(a: MergeArgs) -> Result<(), UserError> {
    let dir = sweep::merge(&a.dirs, a.out.as_deref()).map_err(|e| UserError(format!("{e:#}")))?;
    println!("merged: {}", dir.display());
    Ok(())
}

fn write_slurm(a: SlurmArgs) -> Result<(), UserError> {
    if a.shards == 0 || a.cpus_per_task == 0 {
        return Err(UserError(
            "--shards and --cpus-per-task must be at least 1".into(),
        ));
    }
    let s = read_scenario(&a.src.file, a.src.seed, &a.src.set)?;
    if a.tune || (s.tune.is_some() && s.sweep.is_none()) {
        return write_slurm_tune(a, &s);
    }
    let g = grid_of(&a.src)?;
    scenarios::validate::check_out_dir(&a.out).map_err(UserError)?;
    let scenario = scenario_arg(&a.src.file)?;
    let bin = std::env::current_exe()
        .map_err(|e| UserError(format!("cannot locate this program: {e}")))?;
    let opts = a.options();
    let s = slurm::write(&g, &scenario, &a.src.set, a.src.seed, &a.out, &bin, &opts)
        .map_err(|e| UserError(format!("{e:#}")))?;
    println!(
        "sweep {}: {} in {} array tasks",
        g.manifest.name,
        g.spec.describe(),
        s.shards
    );
    println!("job array:  {}", s.array.display());
    println!("merge job:  {}", s.merge.display());
    println!("submit both with: {}", s.submit.display());
    println!("results will be in {}", s.sweep_dir.display());
    Ok(())
}

/// The scenario argument as a job sees it: a file by its absolute path, a
/// bundled name as it is.
fn scenario_arg(file: &str) -> Result<String, UserError> {
    Ok(if Path::new(file).is_file() {
        std::fs::canonicalize(file)
            .map_err(|e| UserError(format!("{file}: {e}")))?
            .display()
            .to_string()
    } else {
        file.to_string()
    })
}

impl SlurmArgs {
    fn options(&self) -> slurm::SlurmOptions {
        slurm::SlurmOptions {
            shards: self.shards,
            cpus_per_task: self.cpus_per_task,
            time: self.time.clone(),
            mem: self.mem.clone(),
            partition: self.partition.clone(),
            account: self.account.clone(),
        }
    }
}

/// `scenarios slurm` for a tune.
fn write_slurm_tune(a: SlurmArgs, s: &Scenario) -> Result<(), UserError> {
    let spec = scenarios::tune::TuneSpec::parse(s).map_err(UserError)?;
    check_result_dir(&a.out, &s.scenario.name)?;
    let scenario = scenario_arg(&a.src.file)?;
    let bin = std::env::current_exe()
        .map_err(|e| UserError(format!("cannot locate this program: {e}")))?;
    // The first round, then one per `seeds_step` up to `max_seeds`.
    let rounds = 1 + (spec.max_seeds - spec.seeds).div_ceil(spec.seeds_step);
    let opts = a.options();
    let t = slurm::write_tune(
        &s.scenario.name,
        rounds,
        &scenario,
        &a.src.set,
        a.src.seed,
        &a.out,
        &bin,
        &opts,
    )
    .map_err(|e| UserError(format!("{e:#}")))?;
    println!(
        "tune {}: {} grid points, at most {} rounds of seeds, each a job array of {} tasks",
        s.scenario.name,
        spec.grid_size(),
        t.rounds,
        t.shards
    );
    println!("job array:  {}", t.array.display());
    println!(
        "run the search with: {} (it stays running, submitting one job array per round)",
        t.submit.display()
    );
    Ok(())
}
