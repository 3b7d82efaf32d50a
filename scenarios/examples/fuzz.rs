//! Long fuzz runs and reproduction of a failure.
//!
//! ```text
//! cargo run --release -p scenarios --example fuzz -- --inputs 1000000 --seed 1
//! cargo run --release -p scenarios --example fuzz -- --target sweep --seed 1 --first 4711 --inputs 1
//! cargo run --release -p scenarios --example fuzz -- --target fta --replay fuzz-out/fta-seed1-input17.tsv
//! ```
//!
//! Exit status: 0 when nothing failed, 1 when an input panicked, 70 on a
//! hang, 71 on an allocation over the cap.

#[path = "../tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

use clap::Parser;
use fuzz_harness::alloc::CapAlloc;
use fuzz_harness::driver::{self, Config, Target};
use fuzz_harness::targets::{self, Targets};
use std::path::PathBuf;
use std::time::Duration;

#[global_allocator]
static ALLOC: CapAlloc = CapAlloc;

/// Fuzz the scenario, sweep, override, topology and trace parsers.
#[derive(Parser)]
struct Args {
    /// Inputs per target.
    #[arg(long, default_value_t = 100_000)]
    inputs: u64,
    /// The run's seed; input i of a target depends only on it, the target
    /// and i.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// First input index (with `--inputs 1`: reproduce one input).
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Targets (default: all): scenario, sweep, override, topology, fta, csv.
    #[arg(long = "target")]
    targets: Vec<String>,
    /// Run this file through the (single) target instead of fuzzing.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// Where failing inputs are written.
    #[arg(long, default_value = "fuzz-out")]
    out: PathBuf,
    /// Seconds an input may run before it counts as a hang.
    #[arg(long, default_value_t = 10.0)]
    hang_limit_s: f64,
    /// Instead of fuzzing, count the outcomes (accepted, or the error's
    /// key) of the inputs, to see how deep the mutations reach.
    #[arg(long)]
    stats: bool,
    /// Share of scenario and override inputs on a bundled mesh.
    #[arg(long, default_value_t = 0.05)]
    mesh_share: f64,
}

fn main() {
    let args = Args::parse();
    let names: Vec<String> = if args.targets.is_empty() {
        targets::NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        args.targets.clone()
    };
    for n in &names {
        if !targets::NAMES.contains(&n.as_str()) {
            eprintln!("no target {n:?}; targets: {}", targets::NAMES.join(", "));
            std::process::exit(2);
        }
    }
    let mut t = Targets::new(&args.out);
    t.mesh_share = args.mesh_share;
    if let Some(file) = &args.replay {
        let [name] = &names[..] else {
            eprintln!("--replay needs exactly one --target");
            std::process::exit(2);
        };
        let input = std::fs::read(file).expect("read the input to replay");
        // Not caught: the panic and its location print as usual.
        t.run(name, &input);
        println!("{name}: {} ran without panicking", file.display());
        return;
    }
    if args.stats {
        for name in &names {
            let mut counts = std::collections::BTreeMap::<String, u64>::new();
            let mut slowest: Vec<(Duration, u64)> = Vec::new();
            for i in args.first..args.first + args.inputs {
                let input = t.generate(name, driver::input_seed(args.seed, name, i));
                let began = std::time::Instant::now();
                let outcome = t.outcome(name, &input);
                slowest.push((began.elapsed(), i));
                slowest.sort_by(|a, b| b.cmp(a));
                slowest.truncate(5);
                let class = match outcome {
                    Ok(()) => "accepted".to_string(),
                    Err(e) => error_class(&e),
                };
                *counts.entry(class).or_default() += 1;
            }
            println!("{name}:");
            for (class, n) in counts {
                println!("  {n:>7}  {class}");
            }
            for (took, i) in slowest {
                println!("  slow: input {i}: {:.1} ms", took.as_secs_f64() * 1e3);
            }
        }
        return;
    }
    let cfg = Config {
        seed: args.seed,
        inputs: args.inputs,
        first: args.first,
        out_dir: args.out.clone(),
        hang_limit: Duration::from_secs_f64(args.hang_limit_s),
        progress_every: (args.inputs / 10).max(1),
    };
    let gens: Vec<_> = names
        .iter()
        .map(|n| {
            let t = &t;
            (move |s: u64| t.generate(n, s), move |i: &[u8]| t.run(n, i))
        })
        .collect();
    let list: Vec<Target<'_>> = names
        .iter()
        .zip(&gens)
        .map(|(n, (g, r))| Target {
            name: n,
            ext: targets::ext(n),
            generate: g,
            run: r,
        })
        .collect();
    let report = driver::fuzz(&cfg, &list);
    for (name, n, took) in &report.runs {
        println!("{name}: {n} inputs in {:.1} s", took.as_secs_f64());
    }
    for f in &report.findings {
        println!("FAILURE {f}");
    }
    println!(
        "seed {}: {} distinct failures",
        args.seed,
        report.findings.len()
    );
    if !report.findings.is_empty() {
        std::process::exit(1);
    }
}

/// The key an error names (`key `x``), or its field, or its first words.
fn error_class(e: &str) -> String {
    for marker in ["key `", "field `"] {
        if let Some(rest) = e.split(marker).nth(1) {
            let key = rest.split('`').next().unwrap_or("");
            return format!("{marker}{}`", driver::shorten(key, 60));
        }
    }
    let words: Vec<&str> = e.split_whitespace().skip(1).take(4).collect();
    driver::shorten(&words.join(" "), 60)
}
