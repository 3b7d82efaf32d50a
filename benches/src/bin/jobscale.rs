//! A million jobs on ten thousand churning home machines.
//!
//! `jobscale [jobs] [workers] [submitters]` (defaults 1000000, 10000, 100):
//! - workers: reference machines giving their whole CPU, alternating
//!   Weibull sessions (shape 0.5: heavy-tailed home machines), mean up 12 h,
//!   mean down 2 h, started in equilibrium (`Alternating`), transient
//!   failures only;
//! - submitters: stable peers that run no jobs (a household's always-on
//!   box), so that every job of the workload is submitted; Poisson arrivals,
//!   `jobs / submitters` each;
//! - jobs: exponential work of mean 30 min on the reference machine, 1 MiB
//!   in, 64 KiB out, a deadline of one day;
//! - scheduling: power of two choices, one copy per job (r = q = 1), the
//!   crate's defaults otherwise (60 s checkpoints, heartbeat 10 min, RPC
//!   timeout 5 s, 10 attempts);
//! - network: 20 ms one way, 100 Mbit/s per transfer (the engine's simple
//!   network).
//!
//! Load: about 6/7 of the workers are up (12 h of 14), each completes two
//! jobs an hour, so the arrival rate is set to half of `workers × 6/7 × 2`
//! per hour. The run lasts until every job has ended. Progress goes to
//! stderr every simulated day; the summary to stdout.
use jobs::harness::{Arrivals, Harness, Setup, exponential, job_id};
use jobs::{Event, Job, JobFailure, Policy, Waste, WorkerSpec};
use sim_core::churn::{Alternating, Dist};
use sim_core::prelude::*;
use std::process::ExitCode;
use std::time::Instant;

const SEED: u64 = 2026;
const HOUR: u64 = 3600;

const USAGE: &str = "usage: jobscale [jobs] [workers] [submitters]
  jobs        jobs submitted in all (default 1000000)
  workers     churning worker peers (default 10000, at least 2)
  submitters  stable submitting peers (default 100, at least 1)";

#[derive(Default)]
struct Tally {
    accepted: u64,
    failed: [u64; 4],
    latency_sum_s: f64,
    latency_max_s: f64,
    attempts: u64,
    waste: [Duration; 3],
}

impl Tally {
    /// Take the events logged so far (the log is emptied: a million jobs
    /// would otherwise keep every event in memory).
    fn drain(&mut self, h: &Harness) {
        for (_, _, e) in h.log.borrow_mut().drain(..) {
            match e {
                Event::Done {
                    submitted,
                    ended,
                    attempts,
                    result,
                    ..
                } => {
                    self.attempts += u64::from(attempts);
                    match result {
                        Ok(_) => {
                            self.accepted += 1;
                            let s = ended.since(submitted).as_secs_f64();
                            self.latency_sum_s += s;
                            self.latency_max_s = self.latency_max_s.max(s);
                        }
                        Err(f) => {
                            let i = match f {
                                JobFailure::Deadline => 0,
                                JobFailure::NoQuorum => 1,
                                JobFailure::Timeout => 2,
                                JobFailure::Rejected => 3,
                            };
                            self.failed[i] += 1;
                        }
                    }
                }
                Event::Wasted { cpu, cause, .. } => {
                    let i = match cause {
                        Waste::Churn => 0,
                        Waste::Redundant => 1,
                        Waste::Rejected => 2,
                    };
                    self.waste[i] = self.waste[i].saturating_add(cpu);
                }
            }
        }
    }
    fn ended(&self) -> u64 {
        self.accepted + self.failed.iter().sum::<u64>()
    }
}

fn parse(args: &[String]) -> Result<(u64, u64, u64), String> {
    if args.len() > 3 {
        return Err(format!("{} arguments, at most 3", args.len()));
    }
    let num = |i: usize, what: &str, default: u64, min: u64| -> Result<u64, String> {
        match args.get(i) {
            None => Ok(default),
            Some(s) => match s.replace('_', "").parse::<u64>() {
                Ok(v) if v >= min && v <= u64::from(u32::MAX / 2) => Ok(v),
                _ => Err(format!("{what} must be an integer >= {min}, got {s:?}")),
            },
        }
    };
    Ok((
        num(0, "jobs", 1_000_000, 1)?,
        num(1, "workers", 10_000, 2)?,
        num(2, "submitters", 100, 1)?,
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (jobs, workers, submitters) = match parse(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("jobscale: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let t0 = Instant::now();
    let mut s = Setup::new(workers as usize, SEED);
    s.stable = vec![WorkerSpec::NONE; submitters as usize];
    s.cfg.policy = Policy::PowerOfD { d: 2 };
    s.cfg.redundancy = 1;
    s.cfg.quorum = 1;
    s.cfg.max_copies = 1;
    s.net = SimpleNet::constant(
        Duration::from_millis(20),
        Rate::new(100_000_000).expect("positive"),
    );
    let up = Dist::weibull(Duration::from_secs(12 * HOUR), 0.5).expect("valid");
    let down = Dist::weibull(Duration::from_secs(2 * HOUR), 0.5).expect("valid");
    s.churn = Some(Box::new(Alternating::new(up, down)));
    let mut h = Harness::new(s).expect("set-up");
    // Half the capacity: workers × 6/7 up × 2 jobs an hour.
    let rate_per_h = workers as f64 * (6.0 / 7.0) * 2.0 * 0.5;
    let gap = Duration::from_secs_f64(submitters as f64 * 3600.0 / rate_per_h);
    let mut arrivals = Arrivals::new(gap, |node, seq, rng: &mut NodeRng| Job {
        id: job_id(node, seq),
        work: exponential(rng, Duration::from_secs(1800)),
        input: 1 << 20,
        output: 64 << 10,
        deadline: Some(Duration::from_secs(24 * HOUR)),
    });
    arrivals.per_submitter = Some(jobs.div_ceil(submitters));
    let subs = h.stable.clone();
    h.add_arrivals(&subs, arrivals).expect("workload");
    let setup = t0.elapsed();
    let total = jobs.div_ceil(submitters) * submitters;
    let mut tally = Tally::default();
    let day = Duration::from_secs(24 * HOUR);
    // Arrivals take total / rate hours; allow a month beyond.
    let limit = Time::ZERO.saturating_add(Duration::from_secs_f64(
        (total as f64 / rate_per_h + 30.0 * 24.0) * 3600.0,
    ));
    while tally.ended() < total && h.sim.now() < limit {
        let until = h.sim.now().saturating_add(day).min(limit);
        h.sim.run(RunLimits::until(until)).expect("run");
        tally.drain(&h);
        eprintln!(
            "day {:>4.1}: {} jobs ended, {} events, {:.0} s wall",
            h.sim.now().as_secs_f64() / 86_400.0,
            tally.ended(),
            h.sim.run_info().events,
            t0.elapsed().as_secs_f64()
        );
    }
    h.sim.finish_metrics();
    let info = h.sim.run_info();
    let m = h.sim.metrics();
    println!("jobs={total} workers={workers} submitters={submitters} seed={SEED}");
    println!(
        "events={} events_per_s={:.0} run_s={:.1} setup_s={:.2} sim_days={:.2} peak_queue={}",
        info.events,
        info.events_per_sec,
        info.wall_secs,
        setup.as_secs_f64(),
        info.sim_time_ns as f64 / 86_400e9,
        info.peak_queue
    );
    println!(
        "accepted={} failed_deadline={} failed_no_quorum={} failed_timeout={} rejected={} unfinished={}",
        tally.accepted,
        tally.failed[0],
        tally.failed[1],
        tally.failed[2],
        tally.failed[3],
        total - tally.ended()
    );
    println!(
        "latency_mean_s={:.1} latency_max_s={:.1} attempts_per_job={:.3}",
        tally.latency_sum_s / tally.accepted.max(1) as f64,
        tally.latency_max_s,
        tally.attempts as f64 / tally.ended().max(1) as f64
    );
    let busy = h.busy_cpu().as_secs_f64() / 3600.0;
    println!(
        "busy_cpu_h={busy:.0} waste_churn_h={:.0} waste_redundant_h={:.0} waste_rejected_h={:.0}",
        tally.waste[0].as_secs_f64() / 3600.0,
        tally.waste[1].as_secs_f64() / 3600.0,
        tally.waste[2].as_secs_f64() / 3600.0
    );
    println!("trace_hash={:016x}", h.sim.trace_hash());
    for (k, v) in m.counters() {
        println!("{k}={v}");
    }
    if tally.ended() < total {
        eprintln!(
            "jobscale: {} jobs had not ended by the limit",
            total - tally.ended()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
