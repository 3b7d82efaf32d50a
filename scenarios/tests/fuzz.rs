//! The fuzz harness (`tests/fuzz_harness/`) at CI size: a fixed seed,
//! 10,000 inputs per parser, each target in a child process of this test
//! binary (a hang or an allocation over the cap ends its process), and
//! negative controls showing that a panic, a hang and a huge allocation
//! each fail the run with the seed, input index, target and input file.
//!
//! Long runs and reproduction: `cargo run --release -p scenarios --example
//! fuzz -- --help`.

mod fuzz_harness;

use fuzz_harness::alloc::{CapAlloc, EXIT_ALLOC};
use fuzz_harness::driver::{self, Config, EXIT_HANG, Target};
use fuzz_harness::targets::{self, Targets};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

#[global_allocator]
static ALLOC: CapAlloc = CapAlloc;

const CI_SEED: u64 = 1;
const CI_INPUTS: u64 = 10_000;

fn out_dir(what: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz")
        .join(what)
}

/// Run `child_entry` in a child process with `env` set.
fn child(env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args([
        "child_entry",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run the child");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn ci(target: &str) {
    let (code, text) = child(&[("FUZZ_TARGET", target)]);
    assert_eq!(code, 0, "fuzz target `{target}` failed:\n{text}");
    assert!(
        text.contains(&format!("fuzz: {target}: {CI_INPUTS} inputs")),
        "{text}"
    );
}

#[test]
fn fuzz_scenario() {
    ci("scenario");
}

#[test]
fn fuzz_sweep() {
    ci("sweep");
}

#[test]
fn fuzz_override() {
    ci("override");
}

#[test]
fn fuzz_topology() {
    ci("topology");
}

#[test]
fn fuzz_fta() {
    ci("fta");
}

#[test]
fn fuzz_csv() {
    ci("csv");
}

/// The body of the child processes: the CI-sized run of one target
/// (`FUZZ_TARGET`) or a negative control (`FUZZ_CONTROL`).
#[test]
#[ignore = "run in a child process by the other tests of this file"]
fn child_entry() {
    if let Ok(control) = std::env::var("FUZZ_CONTROL") {
        run_control(&control);
        return;
    }
    let target = std::env::var("FUZZ_TARGET").expect("FUZZ_TARGET or FUZZ_CONTROL");
    let dir = out_dir(&target);
    let t = Targets::new(&dir);
    let generate = |s| t.generate(&target, s);
    let run = |i: &[u8]| t.run(&target, i);
    let cfg = Config {
        seed: CI_SEED,
        inputs: CI_INPUTS,
        first: 0,
        out_dir: dir.clone(),
        hang_limit: Duration::from_secs(10),
        progress_every: 0,
    };
    let report = driver::fuzz(
        &cfg,
        &[Target {
            name: &target,
            ext: targets::ext(&target),
            generate: &generate,
            run: &run,
        }],
    );
    for (name, n, took) in &report.runs {
        eprintln!("fuzz: {name}: {n} inputs in {:.1} s", took.as_secs_f64());
    }
    let shown: Vec<String> = report.findings.iter().map(|f| f.to_string()).collect();
    assert!(
        report.findings.is_empty(),
        "{} distinct failures:\n{}",
        shown.len(),
        shown.join("\n")
    );
}

/// Targets that misbehave on purpose, run through the real driver.
fn run_control(control: &str) {
    let generate = |s: u64| s.to_le_bytes().to_vec();
    type Run = Box<dyn Fn(&[u8]) + Sync>;
    let run: Run = match control {
        // Input 5 sleeps past the 1 s limit.
        "hang" => Box::new(|i: &[u8]| {
            if i == control_input(5) {
                std::thread::sleep(Duration::from_secs(30));
            }
        }),
        // Input 3 asks for 2 GiB at once.
        "alloc" => Box::new(|i: &[u8]| {
            if i == control_input(3) {
                let v: Vec<u8> = Vec::with_capacity(2 << 30);
                std::hint::black_box(v);
            }
        }),
        // Input 4 keeps 8 x 512 MiB live (reserved, never touched).
        "live" => Box::new(|i: &[u8]| {
            if i == control_input(4) {
                let v: Vec<Vec<u8>> = (0..8).map(|_| Vec::with_capacity(512 << 20)).collect();
                std::hint::black_box(v);
            }
        }),
        other => panic!("no control {other:?}"),
    };
    let cfg = Config {
        seed: 7,
        inputs: 10,
        first: 0,
        out_dir: out_dir(&format!("control-{control}")),
        hang_limit: Duration::from_secs(1),
        progress_every: 0,
    };
    let report = driver::fuzz(
        &cfg,
        &[Target {
            name: "control",
            ext: "bin",
            generate: &|s| generate(s),
            run: &*run,
        }],
    );
    panic!("the control `{control}` was not caught: {report:?}");
}

fn control_input(index: u64) -> Vec<u8> {
    driver::input_seed(7, "control", index)
        .to_le_bytes()
        .to_vec()
}

#[test]
fn a_hang_fails_the_run_naming_the_input() {
    let (code, text) = child(&[("FUZZ_CONTROL", "hang")]);
    assert_eq!(code, EXIT_HANG, "{text}");
    assert!(
        text.contains("target `control`, seed 7, input 5: hang"),
        "{text}"
    );
    let file = driver::finding_file(&out_dir("control-hang"), "control", 7, 5, "bin");
    assert_eq!(std::fs::read(&file).unwrap(), control_input(5), "{text}");
}

#[test]
fn a_huge_allocation_fails_the_run_naming_the_input() {
    let (code, text) = child(&[("FUZZ_CONTROL", "alloc")]);
    assert_eq!(code, EXIT_ALLOC, "{text}");
    assert!(
        text.contains("target `control`, seed 7, input 3: allocation of 2147483648 bytes"),
        "{text}"
    );
    let file = driver::finding_file(&out_dir("control-alloc"), "control", 7, 3, "bin");
    assert_eq!(std::fs::read(&file).unwrap(), control_input(3), "{text}");
}

#[test]
fn too_much_live_memory_fails_the_run_naming_the_input() {
    let (code, text) = child(&[("FUZZ_CONTROL", "live")]);
    assert_eq!(code, EXIT_ALLOC, "{text}");
    assert!(
        text.contains("target `control`, seed 7, input 4: allocation of 536870912 bytes with"),
        "{text}"
    );
}

#[test]
fn panics_are_caught_deduplicated_and_written_out() {
    let generate = |s: u64| s.to_le_bytes().to_vec();
    // Every input whose first byte is even panics, from one place.
    let run = |i: &[u8]| assert!(i[0] % 2 == 1, "even first byte {}", i[0]);
    let cfg = Config {
        seed: 3,
        inputs: 50,
        first: 0,
        out_dir: out_dir("control-panic"),
        hang_limit: Duration::from_secs(10),
        progress_every: 0,
    };
    let report = driver::fuzz(
        &cfg,
        &[Target {
            name: "control",
            ext: "bin",
            generate: &generate,
            run: &run,
        }],
    );
    let expected: Vec<u64> = (0..50)
        .filter(|&i| driver::input_seed(3, "control", i).is_multiple_of(2))
        .collect();
    assert!(expected.len() > 5, "the control needs several panics");
    assert_eq!(report.findings.len(), 1, "{report:?}");
    let f = &report.findings[0];
    assert_eq!(f.count, expected.len() as u64);
    assert_eq!(f.index, expected[0]);
    assert_eq!((f.target.as_str(), f.seed), ("control", 3));
    assert!(f.location.contains("tests/fuzz.rs"), "{f}");
    assert!(f.message.starts_with("even first byte"), "{f}");
    assert_eq!(
        std::fs::read(&f.input_file).unwrap(),
        generate(driver::input_seed(3, "control", f.index))
    );
}

/// The unmutated seeds pass, so mutations start from inputs that reach
/// the deep checks (a seed that failed early would fuzz only the parser's
/// first line of defence).
#[test]
fn seeds_are_valid() {
    use scenarios::load::Origin;
    use sim_core::churn::trace::Trace;
    let dir = out_dir("seeds");
    let t = Targets::new(&dir);
    let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_seeds");
    let fta = std::fs::read_to_string(format!("{seeds}/synthetic-trace.fta.tsv")).unwrap();
    assert_eq!(Trace::parse_fta(&fta, "fta").unwrap().len(), 3);
    let csv = std::fs::read_to_string(format!("{seeds}/synthetic-trace.csv")).unwrap();
    assert_eq!(Trace::parse_csv(&csv, "csv").unwrap().len(), 3);
    for f in [
        "synthetic-mesh.nodelink.json",
        "synthetic-mesh.netjson.json",
    ] {
        let path = format!("{seeds}/{f}");
        let s = format!(
            "[scenario]\nname = \"x\"\nduration = \"1min\"\n[topology]\nkind = \"mesh\"\n\
             file = \"{path}\"\ngateways = \"role:gateway\"\n[workload]\nclients = 2\nmean_gap = \"1min\"\n"
        );
        let r = scenarios::validate::validate_text(&s, &Origin::File("x".into()), &[], None);
        assert!(r.is_ok(), "{f}: {r:?}");
    }
    for name in targets::NAMES {
        assert_eq!(t.generate(name, 42), t.generate(name, 42), "{name}");
        assert_ne!(t.generate(name, 42), t.generate(name, 43), "{name}");
    }
}
