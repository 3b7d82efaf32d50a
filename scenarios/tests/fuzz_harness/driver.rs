//! The fuzz loop: generate input `i` of a target from `(seed, target, i)`,
//! run it with panics caught, a watchdog for hangs and the allocation cap
//! of [`super::alloc`], and keep every distinct failure with the input that
//! caused it written to a file.
//!
//! Input `i` depends only on the seed, the target and `i`, so a failure
//! reproduces from its file (`--replay`) or from `--seed S --index I`.

use super::alloc;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Exit status of a process stopped by the watchdog (an input ran too long).
pub const EXIT_HANG: i32 = 70;

/// One fuzz target: how to make input `i` and what to run it through.
pub struct Target<'a> {
    /// Short name (`scenario`, `fta`, ...), used in file names.
    pub name: &'a str,
    /// File extension of its inputs.
    pub ext: &'a str,
    /// Input from a per-input seed.
    pub generate: &'a (dyn Fn(u64) -> Vec<u8> + Sync),
    /// Run one input; a panic is a finding, the result is ignored.
    pub run: &'a (dyn Fn(&[u8]) + Sync),
}

/// How to fuzz.
#[derive(Clone, Debug)]
pub struct Config {
    /// The run's seed.
    pub seed: u64,
    /// Inputs per target.
    pub inputs: u64,
    /// First input index (to resume or reproduce one input).
    pub first: u64,
    /// Where failing inputs are written.
    pub out_dir: PathBuf,
    /// An input running longer than this is a hang.
    pub hang_limit: Duration,
    /// Print progress every this many inputs (0: never).
    pub progress_every: u64,
}

/// A distinct failure: one per target, panic location and message shape
/// ([`shape`]), so one assertion failing for different kinds of reason
/// counts once per kind.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Target name.
    pub target: String,
    /// The run's seed.
    pub seed: u64,
    /// Index of the first input that failed this way.
    pub index: u64,
    /// Panic message (shortened) and location.
    pub message: String,
    /// Where the panic was raised (`file:line:col`); with `shape`, the
    /// dedup key.
    pub location: String,
    /// The message's [`shape`].
    pub shape: String,
    /// The first failing input.
    pub input_file: PathBuf,
    /// How many inputs failed this way.
    pub count: u64,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "target `{}`, seed {}, input {} ({} inputs alike): panic at {}: {}\n  input: {}",
            self.target,
            self.seed,
            self.index,
            self.count,
            self.location,
            self.message,
            self.input_file.display()
        )
    }
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// (target, inputs run, wall time).
    pub runs: Vec<(String, u64, Duration)>,
    /// Distinct failures.
    pub findings: Vec<Finding>,
}

/// What the watchdog needs to know about the input now running.
struct Current {
    target: String,
    ext: String,
    seed: u64,
    index: u64,
    out_dir: PathBuf,
    limit: Duration,
}

static CURRENT: Mutex<Option<Current>> = Mutex::new(None);
/// Start of the current input, in ms since [`epoch`]; 0 when idle.
static STARTED_MS: AtomicU64 = AtomicU64::new(0);
static LAST_PANIC: Mutex<Option<(String, String)>> = Mutex::new(None);
static WATCHDOG: OnceLock<()> = OnceLock::new();
static RUNNING: AtomicBool = AtomicBool::new(false);

fn epoch() -> Instant {
    static E: OnceLock<Instant> = OnceLock::new();
    *E.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64 + 1
}

/// `s` cut to `max` bytes (at a char boundary), with the length noted.
pub fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes)", &s[..cut], s.len())
}

/// The file holding the input now running of a target.
fn current_file(out_dir: &Path, target: &str, ext: &str) -> PathBuf {
    out_dir.join(format!("{target}-current.{ext}"))
}

/// The file a failing input is kept in.
pub fn finding_file(out_dir: &Path, target: &str, seed: u64, index: u64, ext: &str) -> PathBuf {
    out_dir.join(format!("{target}-seed{seed}-input{index}.{ext}"))
}

/// Per-input generator seed: a SplitMix64 mix of the run seed, the target
/// and the index.
pub fn input_seed(seed: u64, target: &str, index: u64) -> u64 {
    let mut h = seed ^ 0x9e37_79b9_7f4a_7c15;
    for b in target.bytes() {
        h = mix(h ^ u64::from(b));
    }
    mix(h ^ index.wrapping_mul(0xbf58_476d_1ce4_e5b9))
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn start_watchdog() {
    WATCHDOG.get_or_init(|| {
        alloc::WATCHED.store(true, Ordering::SeqCst);
        std::thread::Builder::new()
            .name("fuzz-watchdog".into())
            .spawn(watchdog)
            .expect("spawn the watchdog");
    });
}

fn watchdog() {
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let breach = alloc::breach();
        let started = STARTED_MS.load(Ordering::SeqCst);
        let elapsed = Duration::from_millis(now_ms().saturating_sub(started));
        let cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
        let Some(c) = cur.as_ref() else {
            if let Some((_, bytes)) = breach {
                eprintln!("fuzz: allocation cap exceeded outside an input: {bytes} bytes");
                std::process::exit(alloc::EXIT_ALLOC);
            }
            continue;
        };
        let (what, code) = if let Some((kind, bytes)) = breach {
            let what = if kind == 1 {
                format!(
                    "allocation of {bytes} bytes (cap: {} bytes for one allocation)",
                    alloc::SINGLE_MAX_BYTES
                )
            } else {
                format!(
                    "allocation of {bytes} bytes with {} bytes live (cap: {} bytes live)",
                    alloc::live_bytes(),
                    alloc::LIVE_MAX_BYTES
                )
            };
            (what, alloc::EXIT_ALLOC)
        } else if started != 0 && elapsed > c.limit {
            (
                format!(
                    "hang: still running after {:.1} s (limit {:.1} s)",
                    elapsed.as_secs_f64(),
                    c.limit.as_secs_f64()
                ),
                EXIT_HANG,
            )
        } else {
            continue;
        };
        let from = current_file(&c.out_dir, &c.target, &c.ext);
        let to = finding_file(&c.out_dir, &c.target, c.seed, c.index, &c.ext);
        let kept = std::fs::copy(&from, &to).is_ok();
        let preview = std::fs::read(&to).unwrap_or_default();
        eprintln!(
            "fuzz: FAILURE target `{}`, seed {}, input {}: {what}\n  input: {}\n  starts: {:?}",
            c.target,
            c.seed,
            c.index,
            if kept {
                to.display().to_string()
            } else {
                format!("(could not copy {})", from.display())
            },
            shorten(&String::from_utf8_lossy(&preview), 300)
        );
        std::process::exit(code);
    }
}

/// Run `cfg.inputs` inputs of each target, on a thread with the main
/// thread's 8 MiB stack (as the command line has). Panics are collected;
/// a hang or an allocation over the cap ends the process (see the module
/// docs) after writing the input out.
pub fn fuzz(cfg: &Config, targets: &[Target<'_>]) -> Report {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("fuzz".into())
            .stack_size(8 << 20)
            .spawn_scoped(s, || fuzz_here(cfg, targets))
            .expect("spawn the fuzz thread")
            .join()
            .expect("the fuzz loop itself does not panic")
    })
}

fn fuzz_here(cfg: &Config, targets: &[Target<'_>]) -> Report {
    assert!(
        !RUNNING.swap(true, Ordering::SeqCst),
        "one fuzz run per process at a time"
    );
    std::fs::create_dir_all(&cfg.out_dir).expect("create the fuzz output directory");
    start_watchdog();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map_or_else(|| "?".to_string(), |l| l.to_string());
        let message = payload_text(info.payload());
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some((location, message));
    }));
    let mut report = Report::default();
    for t in targets {
        let began = Instant::now();
        let mut run = 0;
        for index in cfg.first..cfg.first + cfg.inputs {
            // The watchdog names this input from here on, generation
            // included (an empty input file then).
            *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(Current {
                target: t.name.to_string(),
                ext: t.ext.to_string(),
                seed: cfg.seed,
                index,
                out_dir: cfg.out_dir.clone(),
                limit: cfg.hang_limit,
            });
            let cur = current_file(&cfg.out_dir, t.name, t.ext);
            std::fs::write(&cur, b"").expect("write the current input");
            STARTED_MS.store(now_ms(), Ordering::SeqCst);
            let input = (t.generate)(input_seed(cfg.seed, t.name, index));
            std::fs::write(&cur, &input).expect("write the current input");
            let result = catch_unwind(AssertUnwindSafe(|| (t.run)(&input)));
            STARTED_MS.store(0, Ordering::SeqCst);
            run += 1;
            if let Err(payload) = result {
                let (location, message) = LAST_PANIC
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or_else(|| ("?".into(), payload_text(&*payload)));
                record(&mut report, cfg, t, index, &input, location, message);
            }
            if cfg.progress_every > 0 && run % cfg.progress_every == 0 {
                eprintln!(
                    "fuzz: {} {run}/{} inputs, {:.1} s, {} findings",
                    t.name,
                    cfg.inputs,
                    began.elapsed().as_secs_f64(),
                    report.findings.len()
                );
            }
        }
        report.runs.push((t.name.to_string(), run, began.elapsed()));
        let _ = std::fs::remove_file(current_file(&cfg.out_dir, t.name, t.ext));
    }
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    std::panic::set_hook(hook);
    RUNNING.store(false, Ordering::SeqCst);
    report
}

fn record(
    report: &mut Report,
    cfg: &Config,
    t: &Target<'_>,
    index: u64,
    input: &[u8],
    location: String,
    message: String,
) {
    if let Some(f) = report
        .findings
        .iter_mut()
        .find(|f| f.target == t.name && f.location == location && f.shape == shape(&message))
    {
        f.count += 1;
        return;
    }
    let file = finding_file(&cfg.out_dir, t.name, cfg.seed, index, t.ext);
    std::fs::write(&file, input).expect("write the failing input");
    let f = Finding {
        target: t.name.to_string(),
        seed: cfg.seed,
        index,
        shape: shape(&message),
        message: shorten(&message, 300),
        location,
        input_file: file,
        count: 1,
    };
    // Said at once: a later hang or allocation ends the process before the
    // report.
    eprintln!("fuzz: new failure: {f}");
    report.findings.push(f);
}

/// The part of a panic message that names the kind of failure: up to the
/// first double quote (where values start), without digits and without
/// what is between backquotes (key and field names), at most 120
/// characters.
pub fn shape(message: &str) -> String {
    let mut quoted = false;
    message
        .split('"')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|&c| {
            if c == '`' {
                quoted = !quoted;
                return true;
            }
            !quoted && !c.is_ascii_digit()
        })
        .take(120)
        .collect()
}

fn payload_text(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-text panic payload)".to_string()
    }
}
