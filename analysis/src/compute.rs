//! The comparison report of a compute result directory (jobs run by
//! volunteers' machines, peer to peer, against a data center's servers):
//! `summary.csv`, plots and `report.md`.
//!
//! Input files (tidy CSV, as the scenario runner writes them), each with a
//! leading `system` column (`p2p` or `datacenter`); an empty cell has no
//! value:
//! - `requests.csv`: the workload (`time_ns`, `workload`: `0` for a job
//!   submission, `client`, `seq`, `delivered`, `request`), identical
//!   between the systems but for the `system` column;
//! - `jobs.csv`: one row per finished job at its submitter (`node`, `job`,
//!   `submit_ns`, `start_ns` (empty if no copy started), `end_ns`,
//!   `latency_ns` = `end_ns` − `submit_ns`, `worker`, `attempts`, `ok`:
//!   accepted, `reason`: empty when accepted, else `deadline`,
//!   `no-quorum`, `timeout` or `rejected`, `answer`: `right` or `wrong`
//!   when accepted, empty otherwise);
//! - `over-time.csv`: one row per sampled instant per system (`time_ns`,
//!   `machines`: the workers, P2P peers or data-center servers,
//!   `machines_up`, `busy`: machines running a job, `queued`: jobs
//!   waiting, then cumulative since the run's start: `cpu_busy_ns`, the CPU
//!   time spent running jobs, `cpu_up_ns`, the CPU time offered (up time ×
//!   the share of its CPU a machine gives), the CPU time wasted by cause
//!   `waste_churn_ns`, `waste_redundant_ns`, `waste_rejected_ns`, and
//!   `bytes` moved for inputs and outputs), both sides sampled at the same
//!   instants;
//! - optionally `p2p/timeseries.csv` (`time_ns,name,value`).
//!
//! Pairing: a delivered job submission (client, time) was made to both
//! systems. Its outcome on each side is the row of `jobs.csv` of that
//! submitter submitted at that time; a submission without a row never
//! finished on that side by the end of the run, and failed there.
//! Differences are P2P minus data center, per job, with the intervals of
//! [`crate::report`]: batch means over 20 consecutive batches of jobs in
//! submission order for means, Newcombe's hybrid score interval with
//! effective sample sizes for success rates (`%`).
//!
//! The other figures (completion-time percentiles, throughput, wrong
//! answers accepted, wasted CPU, idle fraction, bytes per job) are one
//! number per side, not paired: they have no difference. The CPU and byte
//! figures are taken between the first and the last sample.
//!
//! A value without observations (no job accepted, a sampled period of
//! length 0, no CPU time offered) is blank in every output, with its `n`:
//! never NaN.
//!
//! Input is checked strictly, as in [`crate::report`]: a value of the wrong
//! form (`ok=maybe`, a negative time, a workload other than 0, a reason
//! given for an accepted job or missing for a failed one, an answer other
//! than `right` or `wrong` for an accepted job) is an error naming the
//! file, line and column and the expected form. So is what cannot be
//! paired or contradicts the contract: a `requests.csv` whose two sides
//! differ, two delivered submissions of one client at one instant, a
//! second row of one side for the same submitter and submission time, a
//! job row without a delivered submission, a latency other than
//! `end_ns` − `submit_ns`, a start outside [`submit_ns`, `end_ns`]; in
//! `over-time.csv`, a sample not later than the previous one of its side,
//! the two sides not sampled at the same instants, more machines up than
//! machines or more busy than up, a cumulative column that decreases, and
//! more CPU time spent running jobs than offered (at the first sample, or
//! between two consecutive samples). Columns this module does not use are
//! ignored.

use crate::plot;
use crate::report::{
    BATCHES, ReportError, SYSTEMS, SummaryRow, Table, summary_csv, summary_markdown,
};
use crate::stats::{paired_difference, paired_rate_difference, quantile_sorted, summarize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Plot labels of the two systems, in [`SYSTEMS`] order.
const LABELS: [&str; 2] = ["P2P (volunteer)", "data center"];

/// Nanoseconds in an hour.
const NS_PER_HOUR: f64 = 3.6e12;

/// Nanoseconds in a second.
const NS_PER_S: f64 = 1e9;

/// Workload code of a job submission in `requests.csv`.
const SUBMIT: u64 = 0;

/// Why a job failed (`reason` of a failed job in `jobs.csv`).
const REASONS: [&str; 4] = ["deadline", "no-quorum", "timeout", "rejected"];

/// The outcome of one job on one side.
#[derive(Clone, Copy, Debug)]
struct Job {
    /// Its result was accepted (right or wrong).
    ok: bool,
    /// The accepted answer was wrong.
    wrong: bool,
    /// Submission to end, in seconds.
    completion_s: f64,
}

/// A submission without a row: never finished by the end of the run.
const UNFINISHED: Job = Job {
    ok: false,
    wrong: false,
    completion_s: f64::NAN,
};

/// The cumulative columns of `over-time.csv`, in [`Sample::cumulative`]
/// order.
const CUMULATIVE: [&str; 6] = [
    "cpu_busy_ns",
    "cpu_up_ns",
    "waste_churn_ns",
    "waste_redundant_ns",
    "waste_rejected_ns",
    "bytes",
];

/// Indices into [`Sample::cumulative`].
const CPU_BUSY: usize = 0;
const CPU_UP: usize = 1;
const WASTE: [usize; 3] = [2, 3, 4];
const BYTES: usize = 5;

/// One row of `over-time.csv`.
#[derive(Clone, Copy, Debug)]
struct Sample {
    time_ns: u64,
    machines: u64,
    machines_up: u64,
    busy: u64,
    queued: u64,
    /// The [`CUMULATIVE`] columns.
    cumulative: [f64; 6],
}

/// What the compute report computed.
pub struct ComputeAnalysis {
    /// `summary.csv` rows.
    pub summary: Vec<SummaryRow>,
    /// Each side's completion times of accepted jobs (s), in submission
    /// order.
    completion_times: [Vec<f64>; 2],
    /// Each side's samples, in time order.
    samples: [Vec<Sample>; 2],
    /// P2P peers up (time in hours, count), from `p2p/timeseries.csv`.
    nodes_up: Vec<(f64, f64)>,
}

/// A plotted series of one side, (hours, value) points.
type Curve = fn(&ComputeAnalysis, usize) -> Vec<(f64, f64)>;

/// The delivered job submissions, `(time_ns, client)`, in time order (from
/// the P2P log, checked identical to the baseline's). Every row is checked.
fn requests(t: &Table) -> Result<Vec<(u64, u64)>, ReportError> {
    let (cs, ct, cw, cc, cd) = (
        t.col("system")?,
        t.col("time_ns")?,
        t.col("workload")?,
        t.col("client")?,
        t.col("delivered")?,
    );
    let mut issued = Vec::new();
    // Each side's rows, in file order.
    let mut rows: [Vec<usize>; 2] = Default::default();
    let mut first_line: BTreeMap<(usize, u64, u64), u64> = BTreeMap::new();
    for i in 0..t.rows().len() {
        let system = t.system(i, cs)?;
        let time = t.unsigned(i, ct)?;
        t.unsigned(i, cw)
            .ok()
            .filter(|w| *w == SUBMIT)
            .ok_or_else(|| t.bad(i, cw, "0 (a job submission)"))?;
        let client = t.unsigned(i, cc)?;
        let delivered = t.flag(i, cd, false)? == Some(true);
        rows[system].push(i);
        if !delivered {
            continue;
        }
        if let Some(line) = first_line.insert((system, client, time), t.line(i)) {
            return Err(t.error_at(
                i,
                ct,
                &format!(
                    "a second delivered job submission of {} client {client} at {time} ns (the first is on line {line}): each is paired with the one job row of its submitter and submission time",
                    SYSTEMS[system]
                ),
            ));
        }
        if system == 0 {
            issued.push((time, client));
        }
    }
    // Both sides ran the same workload: row k of one side is row k of the
    // other, column for column but for `system`.
    let [p2p, dc] = &rows;
    for (k, (&a, &b)) in p2p.iter().zip(dc).enumerate() {
        if let Some(c) =
            (0..t.rows()[a].len()).find(|&c| c != cs && t.rows()[a][c] != t.rows()[b][c])
        {
            return Err(t.error_at(
                b,
                c,
                &format!(
                    "{} differs from the p2p side's request {} ({}, line {}): both sides run the same workload",
                    t.quoted(b, c),
                    k + 1,
                    t.quoted(a, c),
                    t.line(a)
                ),
            ));
        }
    }
    if p2p.len() != dc.len() {
        let (longer, side, other) = if p2p.len() > dc.len() {
            (p2p, 0, 1)
        } else {
            (dc, 1, 0)
        };
        let k = rows[other].len();
        return Err(t.error_at(
            longer[k],
            cs,
            &format!(
                "request {} of {} has no counterpart on the {} side ({} rows against {}): both sides run the same workload",
                k + 1,
                SYSTEMS[side],
                SYSTEMS[other],
                rows[other].len(),
                longer.len()
            ),
        ));
    }
    // Stable: submissions of one instant keep their order in the file.
    issued.sort_by_key(|r| r.0);
    Ok(issued)
}

/// The rows of `jobs.csv` by (system, node, submit_ns), each checked
/// against the delivered submissions `issued`.
fn jobs(t: &Table, issued: &[(u64, u64)]) -> Result<BTreeMap<(usize, u64, u64), Job>, ReportError> {
    let (cs, cn, csub, cst, cend, clat, cok, creason, canswer) = (
        t.col("system")?,
        t.col("node")?,
        t.col("submit_ns")?,
        t.col("start_ns")?,
        t.col("end_ns")?,
        t.col("latency_ns")?,
        t.col("ok")?,
        t.col("reason")?,
        t.col("answer")?,
    );
    let submitted: BTreeSet<(u64, u64)> = issued.iter().map(|&(time, c)| (c, time)).collect();
    let mut out = BTreeMap::new();
    let mut first_line: BTreeMap<(usize, u64, u64), u64> = BTreeMap::new();
    for i in 0..t.rows().len() {
        let key = (t.system(i, cs)?, t.unsigned(i, cn)?, t.unsigned(i, csub)?);
        if let Some(line) = first_line.insert(key, t.line(i)) {
            return Err(t.error_at(
                i,
                csub,
                &format!(
                    "a second row of {} for node {} submitted at {} ns (the first is on line {line}): each job submission is paired with the one row of its submitter and submission time",
                    SYSTEMS[key.0], key.1, key.2
                ),
            ));
        }
        if !submitted.contains(&(key.1, key.2)) {
            return Err(t.error_at(
                i,
                csub,
                &format!(
                    "no delivered job submission of client {} at {} ns in requests.csv: a job row is the end of a submission of the workload",
                    key.1, key.2
                ),
            ));
        }
        let (submit, end) = (key.2, t.unsigned(i, cend)?);
        if end < submit {
            return Err(t.error_at(
                i,
                cend,
                &format!(
                    "{} is before submit_ns ({submit}): a job cannot end before its submission",
                    t.quoted(i, cend)
                ),
            ));
        }
        if !t.rows()[i][cst].is_empty() {
            let start = t
                .unsigned(i, cst)
                .map_err(|_| t.bad(i, cst, "an integer ≥ 0, or empty"))?;
            if !(submit..=end).contains(&start) {
                return Err(t.bad(
                    i,
                    cst,
                    &format!("between submit_ns ({submit}) and end_ns ({end}), or empty"),
                ));
            }
        }
        let latency = t.unsigned(i, clat)?;
        if latency != end - submit {
            return Err(t.bad(i, clat, &format!("end_ns − submit_ns ({})", end - submit)));
        }
        let ok = t.flag(i, cok, false)? == Some(true);
        let (reason, answer) = (t.rows()[i][creason].as_str(), t.rows()[i][canswer].as_str());
        let wrong = if ok {
            if !reason.is_empty() {
                return Err(t.bad(i, creason, "empty (the job was accepted)"));
            }
            match answer {
                "right" => false,
                "wrong" => true,
                _ => return Err(t.bad(i, canswer, "right or wrong (the job was accepted)")),
            }
        } else {
            if !REASONS.contains(&reason) {
                return Err(t.bad(
                    i,
                    creason,
                    "deadline, no-quorum, timeout or rejected (the job failed)",
                ));
            }
            if !answer.is_empty() {
                return Err(t.bad(i, canswer, "empty (the job failed)"));
            }
            false
        };
        out.insert(
            key,
            Job {
                ok,
                wrong,
                completion_s: latency as f64 / NS_PER_S,
            },
        );
    }
    Ok(out)
}

/// `a` exceeds `b` by more than the rounding of values of magnitude up to
/// `scale` (numbers read from decimal text, and their differences).
fn exceeds(a: f64, b: f64, scale: f64) -> bool {
    a > b + 1e-12 * scale
}

/// `over-time.csv`, per side, checked: in time order, both sides at the
/// same instants, counts consistent, cumulative columns that never
/// decrease, and no more CPU time spent than offered.
fn samples(t: &Table) -> Result<[Vec<Sample>; 2], ReportError> {
    let cs = t.col("system")?;
    let ct = t.col("time_ns")?;
    let (cm, cu, cb, cq) = (
        t.col("machines")?,
        t.col("machines_up")?,
        t.col("busy")?,
        t.col("queued")?,
    );
    let mut ccum = [0; 6];
    for (c, name) in ccum.iter_mut().zip(CUMULATIVE) {
        *c = t.col(name)?;
    }
    let mut out: [Vec<Sample>; 2] = Default::default();
    // Each side's rows, for the lines of error messages.
    let mut rows: [Vec<usize>; 2] = Default::default();
    for i in 0..t.rows().len() {
        let s = t.system(i, cs)?;
        let mut cumulative = [0.0; 6];
        for (v, &c) in cumulative.iter_mut().zip(&ccum) {
            *v = t.non_negative(i, c)?;
        }
        let x = Sample {
            time_ns: t.unsigned(i, ct)?,
            machines: t.unsigned(i, cm)?,
            machines_up: t.unsigned(i, cu)?,
            busy: t.unsigned(i, cb)?,
            queued: t.unsigned(i, cq)?,
            cumulative,
        };
        if x.machines_up > x.machines {
            return Err(t.bad(i, cu, &format!("at most machines ({})", x.machines)));
        }
        if x.busy > x.machines_up {
            return Err(t.bad(
                i,
                cb,
                &format!(
                    "at most machines_up ({}): a busy machine is up",
                    x.machines_up
                ),
            ));
        }
        match (out[s].last(), rows[s].last()) {
            (Some(p), Some(&pi)) => {
                let line = t.line(pi);
                if x.time_ns <= p.time_ns {
                    return Err(t.error_at(
                        i,
                        ct,
                        &format!(
                            "{} is not after the previous {} sample ({} ns, line {line}): samples are in time order",
                            t.quoted(i, ct),
                            SYSTEMS[s],
                            p.time_ns
                        ),
                    ));
                }
                for (k, &c) in ccum.iter().enumerate() {
                    if x.cumulative[k] < p.cumulative[k] {
                        return Err(t.error_at(
                            i,
                            c,
                            &format!(
                                "{} is below the previous {} sample's {} (line {line}): {} is cumulative",
                                t.quoted(i, c),
                                SYSTEMS[s],
                                t.rows()[pi][c],
                                CUMULATIVE[k]
                            ),
                        ));
                    }
                }
                let busy = x.cumulative[CPU_BUSY] - p.cumulative[CPU_BUSY];
                let up = x.cumulative[CPU_UP] - p.cumulative[CPU_UP];
                if exceeds(busy, up, x.cumulative[CPU_BUSY].max(x.cumulative[CPU_UP])) {
                    return Err(t.error_at(
                        i,
                        ccum[CPU_BUSY],
                        &format!(
                            "{busy} ns of CPU time spent running jobs since the previous {} sample (line {line}), more than the {up} ns offered (cpu_up_ns): jobs run on the CPU time machines offer",
                            SYSTEMS[s]
                        ),
                    ));
                }
            }
            _ => {
                let (busy, up) = (x.cumulative[CPU_BUSY], x.cumulative[CPU_UP]);
                if exceeds(busy, up, busy) {
                    return Err(t.bad(
                        i,
                        ccum[CPU_BUSY],
                        &format!(
                            "at most cpu_up_ns ({}): jobs run on the CPU time machines offer",
                            t.rows()[i][ccum[CPU_UP]]
                        ),
                    ));
                }
            }
        }
        rows[s].push(i);
        out[s].push(x);
    }
    // Both sides are sampled at the same instants.
    for (k, (&a, &b)) in rows[0].iter().zip(&rows[1]).enumerate() {
        if out[0][k].time_ns != out[1][k].time_ns {
            return Err(t.error_at(
                b,
                ct,
                &format!(
                    "{} is not the time of the p2p side's sample {} ({} ns, line {}): both sides are sampled at the same instants",
                    t.quoted(b, ct),
                    k + 1,
                    out[0][k].time_ns,
                    t.line(a)
                ),
            ));
        }
    }
    if rows[0].len() != rows[1].len() {
        let (side, other) = if rows[0].len() > rows[1].len() {
            (0, 1)
        } else {
            (1, 0)
        };
        let k = rows[other].len();
        return Err(t.error_at(
            rows[side][k],
            ct,
            &format!(
                "{} sample {} ({} ns) has no {} sample at the same instant ({} samples against {}): both sides are sampled at the same instants",
                SYSTEMS[side],
                k + 1,
                out[side][k].time_ns,
                SYSTEMS[other],
                rows[other].len(),
                rows[side].len()
            ),
        ));
    }
    Ok(out)
}

/// A row without a paired difference.
fn unpaired(metric: &'static str, unit: &'static str, v: [f64; 2], n: usize) -> SummaryRow {
    SummaryRow {
        metric: metric.into(),
        unit: unit.into(),
        p2p: v[0],
        datacenter: v[1],
        difference: None,
        n,
    }
}

/// The last sample's cumulative column `k` minus the first's; NaN over a
/// period of length 0 (fewer than two samples).
fn delta(s: &[Sample], k: usize) -> f64 {
    match (s.first(), s.last()) {
        (Some(a), Some(b)) if b.time_ns > a.time_ns => b.cumulative[k] - a.cumulative[k],
        _ => f64::NAN,
    }
}

/// The sampled period in hours; NaN over a period of length 0.
fn span_hours(s: &[Sample]) -> f64 {
    match (s.first(), s.last()) {
        (Some(a), Some(b)) if b.time_ns > a.time_ns => (b.time_ns - a.time_ns) as f64 / NS_PER_HOUR,
        _ => f64::NAN,
    }
}

/// Analyse the compute result directory `dir`.
pub fn analyse(dir: &Path) -> Result<ComputeAnalysis, ReportError> {
    let issued = requests(&Table::read(&dir.join("requests.csv"))?)?;
    let rows = jobs(&Table::read(&dir.join("jobs.csv"))?, &issued)?;
    let samples = samples(&Table::read(&dir.join("over-time.csv"))?)?;

    // Each side's outcome of each delivered submission.
    let outcomes: [Vec<Job>; 2] = [0, 1].map(|s| {
        issued
            .iter()
            .map(|&(t, c)| *rows.get(&(s, c, t)).unwrap_or(&UNFINISHED))
            .collect()
    });
    let submitted = issued.len();

    let pct = |v: &[Job]| {
        v.iter()
            .map(|j| if j.ok { 100.0 } else { 0.0 })
            .collect::<Vec<_>>()
    };
    let (a, b) = (pct(&outcomes[0]), pct(&outcomes[1]));
    let (d, lo, hi, n) = paired_rate_difference(&a, &b, BATCHES);
    let mut summary = vec![SummaryRow {
        metric: "success_rate".into(),
        unit: "%".into(),
        p2p: summarize(&a).mean,
        datacenter: summarize(&b).mean,
        difference: Some((d, lo, hi)),
        n,
    }];

    let both: Vec<usize> = (0..submitted)
        .filter(|&i| outcomes[0][i].ok && outcomes[1][i].ok)
        .collect();
    let paired_times = |v: &[Job]| both.iter().map(|&i| v[i].completion_s).collect::<Vec<_>>();
    let (a, b) = (paired_times(&outcomes[0]), paired_times(&outcomes[1]));
    let (d, lo, hi, n) = paired_difference(&a, &b, BATCHES);
    summary.push(SummaryRow {
        metric: "completion_time_mean".into(),
        unit: "s".into(),
        p2p: summarize(&a).mean,
        datacenter: summarize(&b).mean,
        difference: Some((d, lo, hi)),
        n,
    });

    let completion_times: [Vec<f64>; 2] = [0, 1].map(|s| {
        outcomes[s]
            .iter()
            .filter(|j| j.ok)
            .map(|j| j.completion_s)
            .collect()
    });
    let sorted = completion_times.clone().map(|mut v| {
        v.sort_by(f64::total_cmp);
        v
    });
    let accepted = [0, 1].map(|s| completion_times[s].len());
    let fewer_accepted = accepted[0].min(accepted[1]);
    for (metric, q) in [
        ("completion_time_p50", 0.5),
        ("completion_time_p95", 0.95),
        ("completion_time_p99", 0.99),
    ] {
        summary.push(unpaired(
            metric,
            "s",
            [0, 1].map(|s| quantile_sorted(&sorted[s], q)),
            fewer_accepted,
        ));
    }

    summary.push(unpaired(
        "throughput",
        "jobs/h",
        [0, 1].map(|s| accepted[s] as f64 / span_hours(&samples[s])),
        submitted,
    ));
    summary.push(unpaired(
        "wrong_accepted",
        "%",
        [0, 1].map(|s| {
            if accepted[s] == 0 {
                f64::NAN
            } else {
                let wrong = outcomes[s].iter().filter(|j| j.ok && j.wrong).count();
                100.0 * wrong as f64 / accepted[s] as f64
            }
        }),
        fewer_accepted,
    ));

    let n_samples = samples[0].len().min(samples[1].len());
    for (metric, k) in [
        ("wasted_cpu_churn", WASTE[0]),
        ("wasted_cpu_redundant", WASTE[1]),
        ("wasted_cpu_rejected", WASTE[2]),
    ] {
        summary.push(unpaired(
            metric,
            "CPU-h",
            [0, 1].map(|s| delta(&samples[s], k) / NS_PER_HOUR),
            n_samples,
        ));
    }
    summary.push(unpaired(
        "idle_fraction",
        "%",
        [0, 1].map(|s| {
            let up = delta(&samples[s], CPU_UP);
            if up > 0.0 {
                100.0 * (1.0 - delta(&samples[s], CPU_BUSY) / up)
            } else {
                f64::NAN
            }
        }),
        n_samples,
    ));
    summary.push(unpaired(
        "bytes_per_job",
        "bytes",
        [0, 1].map(|s| {
            if submitted == 0 {
                f64::NAN
            } else {
                delta(&samples[s], BYTES) / submitted as f64
            }
        }),
        submitted,
    ));

    let mut nodes_up = Vec::new();
    let ts = dir.join("p2p").join("timeseries.csv");
    if ts.exists() {
        let t = Table::read(&ts)?;
        let (ct, cn, cv) = (t.col("time_ns")?, t.col("name")?, t.col("value")?);
        for i in 0..t.rows().len() {
            if t.rows()[i][cn] == "nodes_up" {
                let v = t.num(i, cv)?;
                if v.is_finite() {
                    nodes_up.push((t.unsigned(i, ct)? as f64 / NS_PER_HOUR, v));
                }
            }
        }
    }
    Ok(ComputeAnalysis {
        summary,
        completion_times,
        samples,
        nodes_up,
    })
}

impl ComputeAnalysis {
    /// Each side's completion times of accepted jobs (s), in submission
    /// order, in [`SYSTEMS`] order.
    pub fn completion_times(&self) -> &[Vec<f64>; 2] {
        &self.completion_times
    }

    /// Jobs waiting, per sample, against hours.
    fn queue_over_time(&self, s: usize) -> Vec<(f64, f64)> {
        self.samples[s]
            .iter()
            .map(|x| (x.time_ns as f64 / NS_PER_HOUR, x.queued as f64))
            .collect()
    }

    /// Machines up as a share of machines (%), per sample with any
    /// machine, against hours.
    fn machines_up_over_time(&self, s: usize) -> Vec<(f64, f64)> {
        self.samples[s]
            .iter()
            .filter(|x| x.machines > 0)
            .map(|x| {
                (
                    x.time_ns as f64 / NS_PER_HOUR,
                    100.0 * x.machines_up as f64 / x.machines as f64,
                )
            })
            .collect()
    }

    /// Machines running a job as a share of machines up (%), per sample
    /// with any machine up, against hours.
    fn busy_over_time(&self, s: usize) -> Vec<(f64, f64)> {
        self.samples[s]
            .iter()
            .filter(|x| x.machines_up > 0)
            .map(|x| {
                (
                    x.time_ns as f64 / NS_PER_HOUR,
                    100.0 * x.busy as f64 / x.machines_up as f64,
                )
            })
            .collect()
    }
}

/// The files of a compute result directory, with what each holds; the
/// optional ones are listed only when present.
const FILES: [(&str, &str, bool); 10] = [
    (
        "requests.csv",
        "the workload (job submissions), identical for both systems",
        true,
    ),
    (
        "jobs.csv",
        "one row per finished job at its submitter, both systems (`system` column)",
        true,
    ),
    (
        "over-time.csv",
        "one row per sampled instant per system: machines, machines up, busy, jobs queued, cumulative CPU time spent, offered and wasted by cause, bytes moved",
        true,
    ),
    ("summary.csv", "the table above", true),
    ("plots/", "the plots above, as SVG and PNG", false),
    (
        "p2p/",
        "the P2P side's counters, histograms and time series",
        false,
    ),
    (
        "datacenter/",
        "the data center's counters, histograms and time series",
        false,
    ),
    ("scenario.toml", "what ran", false),
    ("provenance.toml", "what built it", false),
    (
        "run-info.csv",
        "wall-clock figures (they differ between identical runs)",
        false,
    ),
];

/// Write `summary.csv`, `plots/` (when `plots`) and `report.md` of the
/// compute result directory `dir`. `title` and `notes` (markdown) head the
/// report. Nothing is written when an input is refused.
pub fn write(
    dir: &Path,
    title: &str,
    notes: &str,
    plots: bool,
) -> Result<ComputeAnalysis, ReportError> {
    let a = analyse(dir)?;
    let out = |p: PathBuf, e: String| ReportError::Output {
        path: p.display().to_string(),
        message: e,
    };
    let summary_path = dir.join("summary.csv");
    std::fs::write(&summary_path, summary_csv(&a.summary))
        .map_err(|e| out(summary_path.clone(), e.to_string()))?;
    let mut md = String::new();
    let _ = writeln!(md, "# {title}\n\n{notes}\n");
    let _ = writeln!(md, "## Summary\n");
    let _ = writeln!(
        md,
        "The machines differ between the sides. The data center's are its servers, always trusted. The P2P side's are volunteers' machines: they come and go, their answers are not taken on trust, and they give only their idle CPU, so the CPU time they offer is each one's up time times the share of its CPU it gives.\n"
    );
    let _ = writeln!(
        md,
        "Job success and completion time are paired over the same jobs: every delivered job submission of the workload was made to both systems, and one without a row in `jobs.csv` on a side had not finished there by the end of the run and counts as failed. Difference = P2P − data center, with its 95 % confidence interval. Means: batch means over {BATCHES} consecutive batches of jobs in submission order (jobs submitted close in time are not independent). Rates (%): Newcombe's hybrid score interval from each side's Wilson interval, with the sample size divided by the design effect that batch means measure, so that it stays within ±100 points. `success_rate` is the share of submitted jobs whose result was accepted (a wrong answer accepted counts); `completion_time_mean` is the mean time from submission to acceptance over the jobs accepted on both sides; the percentiles are each side's own accepted jobs (n: the smaller count).\n"
    );
    let _ = writeln!(
        md,
        "The other figures are one number per side, not paired (—). `throughput` is the jobs accepted per hour of the sampled period (n: jobs submitted). `wrong_accepted` is the share of accepted jobs whose answer was wrong (n: the smaller count of accepted jobs). The CPU figures are taken between the first and the last sample (n: samples), in CPU-hours: `wasted_cpu_churn` is the work lost when a machine went down mid-job (since its last checkpoint), `wasted_cpu_redundant` the copies beyond what the validator used (results after acceptance or failure, copies cancelled mid-run), `wasted_cpu_rejected` the work whose answer the validator did not accept (wrong or outvoted). `idle_fraction` is the share of the CPU time offered that ran no job. `bytes_per_job` is the bytes moved for job inputs and outputs over the sampled period per job submitted (n: jobs submitted). A blank value has no observation behind it (n counts them).\n"
    );
    summary_markdown(&mut md, &a.summary);
    if plots {
        let pdir = dir.join("plots");
        std::fs::create_dir_all(&pdir).map_err(|e| out(pdir.clone(), e.to_string()))?;
        let plot_err = |e: plot::PlotError| ReportError::Output {
            path: e.path,
            message: e.message,
        };
        let series: Vec<plot::Series> = (0..2)
            .map(|i| (LABELS[i].to_string(), a.completion_times[i].clone()))
            .collect();
        plot::cdf_labelled(
            &pdir.join("completion_time_cdf"),
            "Job completion time (accepted jobs)",
            "completion time (s)",
            "fraction of jobs ≤ x",
            &series,
        )
        .map_err(plot_err)?;
        let _ = writeln!(md, "\n## Plots\n");
        let _ = writeln!(
            md,
            "![Completion time CDF](plots/completion_time_cdf.svg)\n\nThe fraction of each side's accepted jobs that completed within a given time of their submission.\n"
        );
        // (file, title, y label, series, sentence)
        let over_time: [(&str, &str, &str, Curve, &str); 3] = [
            (
                "queue_over_time",
                "Jobs queued over time",
                "jobs queued",
                ComputeAnalysis::queue_over_time,
                "The number of jobs waiting for a machine at each sampled instant.",
            ),
            (
                "machines_up_over_time",
                "Machines up over time",
                "machines up (% of machines)",
                ComputeAnalysis::machines_up_over_time,
                "The machines up at each sampled instant, as a share of all the side's machines (the data center's servers, the volunteers' machines for P2P).",
            ),
            (
                "busy_over_time",
                "Machines busy over time",
                "busy (% of machines up)",
                ComputeAnalysis::busy_over_time,
                "The machines running a job at each sampled instant, as a share of the machines up then (instants with none up are left out).",
            ),
        ];
        for (file, title, y_label, f, sentence) in over_time {
            let lines: Vec<(String, Vec<(f64, f64)>)> =
                (0..2).map(|i| (LABELS[i].to_string(), f(&a, i))).collect();
            plot::lines(
                &pdir.join(file),
                title,
                "simulated time (h)",
                y_label,
                &lines,
            )
            .map_err(plot_err)?;
            let _ = writeln!(md, "![{title}](plots/{file}.svg)\n\n{sentence}\n");
        }
        if !a.nodes_up.is_empty() {
            plot::lines(
                &pdir.join("peers_up"),
                "P2P peers up",
                "simulated time (h)",
                "peers up",
                &[("peers up".to_string(), a.nodes_up.clone())],
            )
            .map_err(plot_err)?;
            let _ = writeln!(
                md,
                "![Peers up](plots/peers_up.svg)\n\nThe number of P2P peers up at each instant.\n"
            );
        }
    }
    if !md.ends_with("\n\n") {
        md.push('\n');
    }
    let _ = writeln!(md, "## Files\n");
    for (file, what, always) in FILES {
        let present = match file {
            "plots/" => plots,
            _ => always || dir.join(file).exists(),
        };
        if present {
            let _ = writeln!(md, "- `{file}`: {what}.");
        }
    }
    let report = dir.join("report.md");
    std::fs::write(&report, md).map_err(|e| out(report.clone(), e.to_string()))?;
    Ok(a)
}

#[cfg(test)]
mod tests {
    //! Hand-made compute result directories whose figures are worked out
    //! by hand below.

    use super::*;

    /// A fresh directory under the system's temporary folder, removed when
    /// dropped (kept when `PC_KEEP_PLOTS` is set, to look at).
    struct TmpDir(PathBuf);

    impl TmpDir {
        fn new(name: &str) -> TmpDir {
            let d = std::env::temp_dir().join(format!("pc-compute-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            TmpDir(d)
        }
    }

    impl Drop for TmpDir {
        fn drop(&mut self) {
            if std::env::var_os("PC_KEEP_PLOTS").is_none() {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    const S: u64 = 1_000_000_000;
    const H: u64 = 3_600 * S;

    const REQUESTS_HEAD: &str = "system,time_ns,workload,client,seq,delivered,request\n";
    const JOBS_HEAD: &str =
        "system,node,job,submit_ns,start_ns,end_ns,latency_ns,worker,attempts,ok,reason,answer\n";
    const OVER_TIME_HEAD: &str = "system,time_ns,machines,machines_up,busy,queued,cpu_busy_ns,cpu_up_ns,waste_churn_ns,waste_redundant_ns,waste_rejected_ns,bytes\n";

    /// A `jobs.csv` row: submitted at `submit` s, started at `start` ms
    /// (None: empty), ended `latency` s later.
    #[allow(clippy::too_many_arguments)]
    fn job(
        system: &str,
        node: u64,
        job: u64,
        submit: u64,
        start_ms: Option<u64>,
        latency: u64,
        worker: &str,
        ok_reason_answer: &str,
    ) -> String {
        let (submit, latency) = (submit * S, latency * S);
        let start = start_ms.map_or(String::new(), |ms| (ms * 1_000_000).to_string());
        format!(
            "{system},{node},{job},{submit},{start},{},{latency},{worker},2,{ok_reason_answer}\n",
            submit + latency
        )
    }

    /// The directory of the worked example:
    /// - submissions (both sides): client 1 at 1 s, client 2 at 2 s,
    ///   client 1 at 3 s, client 2 at 4 s, delivered; client 1 at 5 s, not
    ///   delivered.
    /// - P2P: 10 s (right), 30 s (wrong, accepted), then a failure at its
    ///   deadline after 100 s, then no row (never finished).
    /// - data center: 2, 4 and 6 s (right), then rejected at once.
    /// - over time (lines 2–4 P2P, 5–7 the data center): samples at 1, 2
    ///   and 3 h; see `the_worked_example`.
    fn worked_example(d: &Path) {
        let mut req = String::from(REQUESTS_HEAD);
        for system in SYSTEMS {
            for (t, c, seq, delivered) in [
                (1, 1, 0, true),
                (2, 2, 0, true),
                (3, 1, 1, true),
                (4, 2, 1, true),
                (5, 1, 2, false),
            ] {
                req.push_str(&format!(
                    "{system},{},0,{c},{seq},{delivered},Submit({c}.{seq})\n",
                    t * S
                ));
            }
        }
        let jobs = [
            job("p2p", 1, 0, 1, Some(1_500), 10, "7", "true,,right"),
            job("p2p", 2, 1, 2, Some(2_500), 30, "8", "true,,wrong"),
            job("p2p", 1, 2, 3, Some(3_500), 100, "", "false,deadline,"),
            job("datacenter", 1, 0, 1, Some(1_000), 2, "100", "true,,right"),
            job("datacenter", 2, 1, 2, Some(2_000), 4, "100", "true,,right"),
            job("datacenter", 1, 2, 3, Some(3_000), 6, "100", "true,,right"),
            job("datacenter", 2, 3, 4, None, 0, "", "false,rejected,"),
        ]
        .concat();
        let over_time = format!(
            "{OVER_TIME_HEAD}\
             p2p,{H},10,8,2,1,1800000000000,7200000000000,360000000000,0,0,500\n\
             p2p,{},10,6,3,0,5400000000000,18000000000000,2160000000000,900000000000,0,1500\n\
             p2p,{},10,0,0,2,9000000000000,25200000000000,3960000000000,900000000000,360000000000,3500\n\
             datacenter,{H},2,2,1,0,3600000000000,7200000000000,0,0,0,0\n\
             datacenter,{},2,2,2,3,7200000000000,14400000000000,0,0,0,1000\n\
             datacenter,{},2,2,0,0,9000000000000,21600000000000,0,0,0,2000\n",
            2 * H,
            3 * H,
            2 * H,
            3 * H
        );
        for (f, text) in [
            ("requests.csv", req),
            ("jobs.csv", String::from(JOBS_HEAD) + &jobs),
            ("over-time.csv", over_time),
        ] {
            std::fs::write(d.join(f), text).unwrap();
        }
    }

    /// The fields of `metric`'s line of `summary.csv` after `metric,unit,`.
    fn fields(d: &Path, metric: &str) -> Vec<String> {
        let text = std::fs::read_to_string(d.join("summary.csv")).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{metric},")))
            .unwrap_or_else(|| panic!("no {metric} in {text}"));
        line.split(',').skip(2).map(String::from).collect()
    }

    /// `metric`'s P2P and data-center values (None: blank) and n.
    fn values(d: &Path, metric: &str) -> (Option<f64>, Option<f64>, usize) {
        let f = fields(d, metric);
        let v = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().unwrap());
        (v(&f[0]), v(&f[1]), f[5].parse().unwrap())
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-5)
    }

    /// Wilson's 95 % interval, written out here to check the report's.
    fn wilson(p: f64, n: f64) -> (f64, f64) {
        let z: f64 = 1.959_963_984_540_054;
        let z2 = z * z;
        let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        ((centre - half).max(0.0), (centre + half).min(1.0))
    }

    #[test]
    fn the_worked_example() {
        let d = TmpDir::new("worked");
        worked_example(&d.0);
        let an = write(&d.0, "t", "n", false).unwrap();
        let d = &d.0;
        let order: Vec<&str> = an.summary.iter().map(|r| r.metric.as_ref()).collect();
        assert_eq!(
            order,
            [
                "success_rate",
                "completion_time_mean",
                "completion_time_p50",
                "completion_time_p95",
                "completion_time_p99",
                "throughput",
                "wrong_accepted",
                "wasted_cpu_churn",
                "wasted_cpu_redundant",
                "wasted_cpu_rejected",
                "idle_fraction",
                "bytes_per_job",
            ]
        );
        let units: Vec<&str> = an.summary.iter().map(|r| r.unit.as_ref()).collect();
        assert_eq!(
            units,
            [
                "%", "s", "s", "s", "s", "jobs/h", "%", "CPU-h", "CPU-h", "CPU-h", "%", "bytes"
            ]
        );

        // 4 delivered submissions (the undelivered one is not counted).
        // P2P accepted 2 (one wrong answer counts: accepted), the data
        // center 3. With 4 outcomes in 20 batches, batch means fall back
        // to the plain standard error: design effect 1, so Newcombe's
        // interval with n = 4 on each side.
        let f = fields(d, "success_rate");
        assert_eq!(&f[..3], ["50.000000", "75.000000", "-25.000000"], "{f:?}");
        assert_eq!(f[5], "4");
        let (l1, u1) = wilson(0.5, 4.0);
        let (l2, u2) = wilson(0.75, 4.0);
        let lo = -0.25 - ((0.5 - l1).powi(2) + (u2 - 0.75).powi(2)).sqrt();
        let hi = -0.25 + ((u1 - 0.5).powi(2) + (0.75 - l2).powi(2)).sqrt();
        let (flo, fhi): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        assert!((flo - 100.0 * lo).abs() < 1e-5, "{flo} vs {}", 100.0 * lo);
        assert!((fhi - 100.0 * hi).abs() < 1e-5, "{fhi} vs {}", 100.0 * hi);

        // Completion time over the 2 jobs both accepted: P2P 10 and 30 s
        // (mean 20), the data center 2 and 4 (mean 3); differences 8 and
        // 26: mean 17, sd 18 / √2, standard error 9, t(1) = 12.706.
        let f = fields(d, "completion_time_mean");
        assert_eq!(&f[..3], ["20.000000", "3.000000", "17.000000"], "{f:?}");
        let half = 12.706 * 9.0;
        let (flo, fhi): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        assert!((flo - (17.0 - half)).abs() < 1e-5 && (fhi - (17.0 + half)).abs() < 1e-5);
        assert_eq!(f[5], "2");

        // Percentiles (linear interpolation), each side's accepted jobs:
        // P2P 10, 30 → 20, 10 + 0.95 × 20 = 29, 10 + 0.99 × 20 = 29.8;
        // data center 2, 4, 6 → 4, rank 1.9 → 5.8, rank 1.98 → 5.96.
        // n: the fewer, 2.
        for (m, p, dc) in [
            ("completion_time_p50", 20.0, 4.0),
            ("completion_time_p95", 29.0, 5.8),
            ("completion_time_p99", 29.8, 5.96),
        ] {
            let (a, b, n) = values(d, m);
            assert!(
                close(a, p) && close(b, dc) && n == 2,
                "{m}: {a:?} {b:?} {n}"
            );
            assert_eq!(fields(d, m)[2], "", "{m} is unpaired");
        }

        // Samples from 1 to 3 h: 2 h. P2P 2 accepted → 1 job/h, the data
        // center 3 → 1.5; n: jobs submitted.
        assert_eq!(values(d, "throughput"), (Some(1.0), Some(1.5), 4));
        // One of P2P's 2 accepted jobs was wrong; n: the fewer accepted.
        assert_eq!(values(d, "wrong_accepted"), (Some(50.0), Some(0.0), 2));

        // Wasted CPU, last − first sample, in CPU-hours (3.6e12 ns): P2P
        // churn 3.96e12 − 0.36e12 = 1, redundant 0.9e12 = 0.25, rejected
        // 0.36e12 = 0.1; the data center none. n: samples.
        for (m, p) in [
            ("wasted_cpu_churn", 1.0),
            ("wasted_cpu_redundant", 0.25),
            ("wasted_cpu_rejected", 0.1),
        ] {
            let (a, b, n) = values(d, m);
            assert!(
                close(a, p) && close(b, 0.0) && n == 3,
                "{m}: {a:?} {b:?} {n}"
            );
            assert_eq!(fields(d, m)[2], "", "{m} is unpaired");
        }
        // Idle: P2P busy 9e12 − 1.8e12 = 2 CPU-h of 25.2e12 − 7.2e12 = 5
        // offered: 100 × (1 − 2/5) = 60; the data center 1.5 of 4: 62.5.
        let (a, b, n) = values(d, "idle_fraction");
        assert!(
            close(a, 60.0) && close(b, 62.5) && n == 3,
            "{a:?} {b:?} {n}"
        );
        // Bytes: (3500 − 500) / 4 jobs = 750; 2000 / 4 = 500.
        assert_eq!(values(d, "bytes_per_job"), (Some(750.0), Some(500.0), 4));

        // The plotted series.
        assert_eq!(an.completion_times, [vec![10.0, 30.0], vec![2.0, 4.0, 6.0]]);
        assert_eq!(an.queue_over_time(0), [(1.0, 1.0), (2.0, 0.0), (3.0, 2.0)]);
        assert_eq!(an.queue_over_time(1), [(1.0, 0.0), (2.0, 3.0), (3.0, 0.0)]);
        assert_eq!(
            an.machines_up_over_time(0),
            [(1.0, 80.0), (2.0, 60.0), (3.0, 0.0)]
        );
        assert_eq!(
            an.machines_up_over_time(1),
            [(1.0, 100.0), (2.0, 100.0), (3.0, 100.0)]
        );
        // 2 of 8 up, 3 of 6; none up at 3 h: left out.
        assert_eq!(an.busy_over_time(0), [(1.0, 25.0), (2.0, 50.0)]);
        assert_eq!(
            an.busy_over_time(1),
            [(1.0, 50.0), (2.0, 100.0), (3.0, 0.0)]
        );
    }

    /// Every text output in `d` (SVG included).
    fn outputs(d: &Path) -> Vec<(String, String)> {
        let mut v = Vec::new();
        for f in ["summary.csv", "report.md"] {
            v.push((f.to_string(), std::fs::read_to_string(d.join(f)).unwrap()));
        }
        if let Ok(rd) = std::fs::read_dir(d.join("plots")) {
            for e in rd {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "svg") {
                    v.push((
                        p.display().to_string(),
                        std::fs::read_to_string(&p).unwrap(),
                    ));
                }
            }
        }
        v
    }

    fn assert_no_nan(d: &Path) {
        for (f, text) in outputs(d) {
            assert!(
                !text.contains("NaN") && !text.contains(">inf<") && !text.contains(",inf"),
                "{f} has NaN:\n{text}"
            );
        }
    }

    #[test]
    fn a_run_without_jobs_gives_blanks_not_nan() {
        // One submission a side, not delivered; no job row; two samples a
        // side with every machine down (no CPU time offered).
        let d = TmpDir::new("nojobs");
        let d = &d.0;
        let files = [
            (
                "requests.csv",
                format!(
                    "{REQUESTS_HEAD}p2p,5,0,1,0,false,Submit(1)\ndatacenter,5,0,1,0,false,Submit(1)\n"
                ),
            ),
            ("jobs.csv", JOBS_HEAD.to_string()),
            (
                "over-time.csv",
                format!(
                    "{OVER_TIME_HEAD}p2p,0,3,0,0,0,0,0,0,0,0,0\np2p,{H},3,0,0,0,0,0,0,0,0,0\ndatacenter,0,1,0,0,0,0,0,0,0,0,0\ndatacenter,{H},1,0,0,0,0,0,0,0,0,0\n"
                ),
            ),
        ];
        for (f, text) in &files {
            std::fs::write(d.join(f), text).unwrap();
        }
        let a = write(d, "t", "n", true).unwrap();
        assert_no_nan(d);
        for (m, n) in [
            ("success_rate", "0"),
            ("completion_time_mean", "0"),
            ("completion_time_p50", "0"),
            ("completion_time_p95", "0"),
            ("completion_time_p99", "0"),
            ("wrong_accepted", "0"),
            ("idle_fraction", "2"),
            ("bytes_per_job", "0"),
        ] {
            assert_eq!(fields(d, m).join(","), format!(",,,,,{n}"), "{m}");
        }
        // No job accepted in an hour: a throughput of 0; nothing wasted.
        assert_eq!(fields(d, "throughput").join(","), "0.000000,0.000000,,,,0");
        assert_eq!(
            fields(d, "wasted_cpu_churn").join(","),
            "0.000000,0.000000,,,,2"
        );
        let md = std::fs::read_to_string(d.join("report.md")).unwrap();
        assert!(
            md.contains("| completion_time_p50 | s |  |  | — | 0 |"),
            "{md}"
        );
        assert!(!crate::report::summary_text(&a.summary).contains("NaN"));
        // No machine up: no busy share to plot.
        assert!(a.busy_over_time(0).is_empty() && a.busy_over_time(1).is_empty());

        // Without samples, the period has no length: every figure blank.
        std::fs::write(d.join("over-time.csv"), OVER_TIME_HEAD).unwrap();
        write(d, "t", "n", true).unwrap();
        assert_no_nan(d);
        for m in [
            "throughput",
            "wasted_cpu_churn",
            "wasted_cpu_redundant",
            "wasted_cpu_rejected",
            "idle_fraction",
            "bytes_per_job",
        ] {
            let f = fields(d, m);
            assert_eq!(&f[..5], ["", "", "", "", ""], "{m}");
        }
    }

    #[test]
    fn plots_and_report_are_written() {
        let d = TmpDir::new("plots");
        let d = &d.0;
        worked_example(d);
        std::fs::create_dir_all(d.join("p2p")).unwrap();
        std::fs::write(
            d.join("p2p/timeseries.csv"),
            format!("time_ns,name,value\n0,nodes_up,10\n{H},nodes_up,8\n{H},other,3\n"),
        )
        .unwrap();
        write(d, "Compute", "Notes here.", true).unwrap();
        let plots = [
            "completion_time_cdf",
            "queue_over_time",
            "machines_up_over_time",
            "busy_over_time",
            "peers_up",
        ];
        for p in plots {
            for ext in ["svg", "png"] {
                let f = d.join("plots").join(format!("{p}.{ext}"));
                assert!(
                    std::fs::metadata(&f).is_ok_and(|m| m.len() > 1000),
                    "{} missing",
                    f.display()
                );
            }
        }
        assert_no_nan(d);
        let svg = std::fs::read_to_string(d.join("plots/completion_time_cdf.svg")).unwrap();
        for want in [
            "P2P (volunteer)",
            "data center",
            "completion time (s)",
            "fraction of jobs",
        ] {
            assert!(svg.contains(want), "{want}");
        }
        let svg = std::fs::read_to_string(d.join("plots/busy_over_time.svg")).unwrap();
        assert!(svg.contains("simulated time (h)") && svg.contains("busy (% of machines up)"));
        let md = std::fs::read_to_string(d.join("report.md")).unwrap();
        assert!(md.starts_with("# Compute\n\nNotes here.\n"), "{md}");
        // Each plot once, followed by exactly one sentence.
        for p in plots {
            let link = format!("(plots/{p}.svg)\n\n");
            assert_eq!(md.matches(&link).count(), 1, "{p}");
            let after = &md[md.find(&link).unwrap() + link.len()..];
            let sentence = after.lines().next().unwrap();
            assert!(
                sentence.ends_with('.') && !sentence.trim_end_matches('.').contains(". "),
                "{p}: {sentence:?}"
            );
            assert!(after[sentence.len()..].starts_with("\n\n"), "{p}");
        }
        for want in [
            "servers, always trusted",
            "only their idle CPU",
            "Newcombe",
            "`success_rate`",
            "`completion_time_mean`",
            "`throughput`",
            "`wrong_accepted`",
            "`wasted_cpu_churn`",
            "`wasted_cpu_redundant`",
            "`wasted_cpu_rejected`",
            "`idle_fraction`",
            "`bytes_per_job`",
            "| bytes_per_job | bytes | 750.000 | 500.000 | — | 4 |",
            "- `jobs.csv`",
            "- `over-time.csv`",
            "- `p2p/`",
        ] {
            assert!(md.contains(want), "expected {want:?} in {md}");
        }
        assert!(
            !md.contains("- `scenario.toml`"),
            "absent files are not listed"
        );
        // Without plots: none listed or linked.
        write(d, "Compute", "n", false).unwrap();
        let md = std::fs::read_to_string(d.join("report.md")).unwrap();
        assert!(!md.contains("plots/"), "{md}");
    }

    /// `text` with field `col` (0-based) of line `line` (1-based, the
    /// header being line 1) replaced by `value`.
    fn replace_field(text: &str, line: usize, col: usize, value: &str) -> String {
        text.lines()
            .enumerate()
            .map(|(i, l)| {
                if i + 1 == line {
                    let mut f: Vec<&str> = l.split(',').collect();
                    f[col] = value;
                    f.join(",") + "\n"
                } else {
                    format!("{l}\n")
                }
            })
            .collect()
    }

    /// `text` without line `line` (1-based).
    fn remove_line(text: &str, line: usize) -> String {
        text.lines()
            .enumerate()
            .filter(|(i, _)| i + 1 != line)
            .map(|(_, l)| format!("{l}\n"))
            .collect()
    }

    #[test]
    fn bad_values_are_refused_with_file_line_and_column() {
        let d = TmpDir::new("bad");
        let d = &d.0;
        for (file, line, col, value, want) in [
            (
                "jobs.csv",
                2,
                9,
                "maybe",
                "column 10 (ok): \"maybe\" is not true or false",
            ),
            (
                "jobs.csv",
                2,
                6,
                "-3",
                "column 7 (latency_ns): \"-3\" is not an integer ≥ 0",
            ),
            (
                "jobs.csv",
                2,
                6,
                "9000000000",
                "column 7 (latency_ns): \"9000000000\" is not end_ns − submit_ns (10000000000)",
            ),
            (
                "jobs.csv",
                2,
                5,
                "500000000",
                "column 6 (end_ns): \"500000000\" is before submit_ns (1000000000)",
            ),
            (
                "jobs.csv",
                2,
                4,
                "12000000000",
                "column 5 (start_ns): \"12000000000\" is not between submit_ns (1000000000) and end_ns (11000000000), or empty",
            ),
            (
                "jobs.csv",
                2,
                4,
                "x",
                "column 5 (start_ns): \"x\" is not an integer ≥ 0, or empty",
            ),
            (
                "jobs.csv",
                2,
                10,
                "timeout",
                "column 11 (reason): \"timeout\" is not empty (the job was accepted)",
            ),
            (
                "jobs.csv",
                2,
                11,
                "",
                "column 12 (answer): \"\" is not right or wrong (the job was accepted)",
            ),
            (
                "jobs.csv",
                4,
                10,
                "",
                "column 11 (reason): \"\" is not deadline, no-quorum, timeout or rejected (the job failed)",
            ),
            (
                "jobs.csv",
                4,
                11,
                "right",
                "column 12 (answer): \"right\" is not empty (the job failed)",
            ),
            (
                "jobs.csv",
                5,
                0,
                "cloud",
                "column 1 (system): \"cloud\" is not p2p or datacenter",
            ),
            // A second P2P row for client 1 submitted at 1 s.
            (
                "jobs.csv",
                4,
                3,
                "1000000000",
                "column 4 (submit_ns): a second row of p2p for node 1 submitted at 1000000000 ns (the first is on line 2)",
            ),
            // A row of client 1 at 2 s (client 2 submitted then), and one
            // of the undelivered submission at 5 s.
            (
                "jobs.csv",
                3,
                1,
                "1",
                "column 4 (submit_ns): no delivered job submission of client 1 at 2000000000 ns in requests.csv",
            ),
            (
                "jobs.csv",
                2,
                3,
                "5000000000",
                "column 4 (submit_ns): no delivered job submission of client 1 at 5000000000 ns",
            ),
            (
                "requests.csv",
                2,
                2,
                "1",
                "column 3 (workload): \"1\" is not 0 (a job submission)",
            ),
            ("requests.csv", 2, 5, "yes", "column 6 (delivered)"),
            (
                "requests.csv",
                4,
                1,
                "1000000000",
                "column 2 (time_ns): a second delivered job submission of p2p client 1 at 1000000000 ns (the first is on line 2)",
            ),
            // The sides' workloads differ.
            (
                "requests.csv",
                8,
                4,
                "7",
                "column 5 (seq): \"7\" differs from the p2p side's request 2 (\"0\", line 3)",
            ),
            (
                "requests.csv",
                11,
                6,
                "Submit(9)",
                "column 7 (request): \"Submit(9)\" differs from the p2p side's request 5",
            ),
            (
                "over-time.csv",
                3,
                1,
                "3600000000000",
                "column 2 (time_ns): \"3600000000000\" is not after the previous p2p sample (3600000000000 ns, line 2)",
            ),
            (
                "over-time.csv",
                3,
                8,
                "0",
                "column 9 (waste_churn_ns): \"0\" is below the previous p2p sample's 360000000000 (line 2): waste_churn_ns is cumulative",
            ),
            (
                "over-time.csv",
                7,
                11,
                "999",
                "column 12 (bytes): \"999\" is below the previous datacenter sample's 1000 (line 6)",
            ),
            (
                "over-time.csv",
                4,
                7,
                "x",
                "column 8 (cpu_up_ns): \"x\" is not a number ≥ 0",
            ),
            (
                "over-time.csv",
                2,
                3,
                "11",
                "column 4 (machines_up): \"11\" is not at most machines (10)",
            ),
            (
                "over-time.csv",
                3,
                4,
                "7",
                "column 5 (busy): \"7\" is not at most machines_up (6): a busy machine is up",
            ),
            // More CPU spent running jobs than offered: between two
            // samples (1.0801e13 against 1.08e13), and at the first.
            (
                "over-time.csv",
                3,
                6,
                "12601000000000",
                "column 7 (cpu_busy_ns): 10801000000000 ns of CPU time spent running jobs since the previous p2p sample (line 2), more than the 10800000000000 ns offered",
            ),
            (
                "over-time.csv",
                5,
                6,
                "8000000000000",
                "column 7 (cpu_busy_ns): \"8000000000000\" is not at most cpu_up_ns (7200000000000)",
            ),
            // Sampled at another instant than the P2P side.
            (
                "over-time.csv",
                6,
                1,
                "7000000000000",
                "column 2 (time_ns): \"7000000000000\" is not the time of the p2p side's sample 2 (7200000000000 ns, line 3)",
            ),
        ] {
            worked_example(d);
            let _ = std::fs::remove_file(d.join("summary.csv"));
            let text = std::fs::read_to_string(d.join(file)).unwrap();
            std::fs::write(d.join(file), replace_field(&text, line, col, value)).unwrap();
            let e = write(d, "t", "n", false).err().unwrap().to_string();
            for w in [file, &format!("line {line}, "), want] {
                assert!(e.contains(w), "expected {w:?} in {e}");
            }
            assert!(!d.join("summary.csv").exists(), "{file}: nothing written");
        }
        // A side with a row or a sample fewer: named at the other side's
        // row without a counterpart.
        for (file, removed, want) in [
            (
                "requests.csv",
                11,
                "line 6, column 1 (system): request 5 of p2p has no counterpart on the datacenter side (4 rows against 5)",
            ),
            (
                "requests.csv",
                6,
                "line 10, column 1 (system): request 5 of datacenter has no counterpart on the p2p side (4 rows against 5)",
            ),
            (
                "over-time.csv",
                7,
                "line 4, column 2 (time_ns): p2p sample 3 (10800000000000 ns) has no datacenter sample at the same instant (2 samples against 3)",
            ),
        ] {
            worked_example(d);
            let _ = std::fs::remove_file(d.join("summary.csv"));
            let text = std::fs::read_to_string(d.join(file)).unwrap();
            std::fs::write(d.join(file), remove_line(&text, removed)).unwrap();
            let e = write(d, "t", "n", false).err().unwrap().to_string();
            assert!(
                e.contains(file) && e.contains(want),
                "expected {want:?} in {e}"
            );
            assert!(!d.join("summary.csv").exists(), "{file}: nothing written");
        }
        // A failed job may have no start nor worker; an accepted one may
        // have no start either.
        worked_example(d);
        let text = std::fs::read_to_string(d.join("jobs.csv")).unwrap();
        std::fs::write(d.join("jobs.csv"), replace_field(&text, 2, 4, "")).unwrap();
        write(d, "t", "n", false).unwrap();
        // A missing column is named.
        std::fs::write(d.join("jobs.csv"), "system,node,submit_ns,ok\n").unwrap();
        let e = write(d, "t", "n", false).err().unwrap().to_string();
        assert!(e.contains("jobs.csv") && e.contains("\"start_ns\""), "{e}");
    }

    #[test]
    fn extra_columns_are_ignored() {
        let plain = TmpDir::new("plain");
        worked_example(&plain.0);
        write(&plain.0, "t", "n", false).unwrap();
        let extra = TmpDir::new("extra");
        worked_example(&extra.0);
        for f in ["requests.csv", "jobs.csv", "over-time.csv"] {
            let text = std::fs::read_to_string(extra.0.join(f)).unwrap();
            let more: String = text
                .lines()
                .enumerate()
                .map(|(i, l)| {
                    if i == 0 {
                        format!("{l},retries\n")
                    } else {
                        format!("{l},{}\n", i % 3)
                    }
                })
                .collect();
            std::fs::write(extra.0.join(f), more).unwrap();
        }
        // requests.csv: the extra column is compared between the sides
        // like every other; give both sides the same values.
        let text = std::fs::read_to_string(extra.0.join("requests.csv")).unwrap();
        let same: String = text
            .lines()
            .map(|l| match l.rsplit_once(',') {
                Some((head, _)) if !l.starts_with("system,") => format!("{head},5\n"),
                _ => format!("{l}\n"),
            })
            .collect();
        std::fs::write(extra.0.join("requests.csv"), same).unwrap();
        write(&extra.0, "t", "n", false).unwrap();
        assert_eq!(
            std::fs::read_to_string(plain.0.join("summary.csv")).unwrap(),
            std::fs::read_to_string(extra.0.join("summary.csv")).unwrap()
        );
    }

    #[test]
    fn mutated_inputs_give_an_error_or_a_report_never_a_panic_or_nan() {
        // 300 mutations of the worked example: one field of one file
        // replaced by an odd value, or a line cut short.
        const ODD: [&str; 16] = [
            "",
            "-1",
            "NaN",
            "inf",
            "-inf",
            "1e400",
            "maybe",
            "18446744073709551616",
            "18446744073709551615",
            " 3",
            "p2p",
            "datacenter",
            "true",
            "false",
            "0",
            "wrong",
        ];
        const FILES: [&str; 3] = ["requests.csv", "jobs.csv", "over-time.csv"];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let base = TmpDir::new("fuzzbase");
        worked_example(&base.0);
        let texts: Vec<String> = FILES
            .iter()
            .map(|f| std::fs::read_to_string(base.0.join(f)).unwrap())
            .collect();
        let d = TmpDir::new("fuzz");
        let d = &d.0;
        let mut reports = 0;
        for case in 0..300 {
            let which = next(FILES.len());
            for (k, (f, text)) in FILES.iter().zip(&texts).enumerate() {
                let mut lines: Vec<String> = text.lines().map(String::from).collect();
                if k == which {
                    let l = 1 + next(lines.len() - 1);
                    let mut fields: Vec<String> = lines[l].split(',').map(String::from).collect();
                    if next(10) == 0 {
                        fields.truncate(next(fields.len()));
                    } else {
                        let c = next(fields.len());
                        fields[c] = ODD[next(ODD.len())].to_string();
                    }
                    lines[l] = fields.join(",");
                }
                std::fs::write(d.join(f), lines.join("\n") + "\n").unwrap();
            }
            let _ = std::fs::remove_file(d.join("summary.csv"));
            let r = std::panic::catch_unwind(|| write(d, "t", "n", false).map(drop));
            match r {
                Err(_) => panic!("case {case}: panicked"),
                Ok(Err(e)) => {
                    let e = e.to_string();
                    assert!(e.contains(".csv"), "case {case}: {e}");
                    assert!(!d.join("summary.csv").exists(), "case {case}: written");
                }
                Ok(Ok(())) => {
                    reports += 1;
                    assert_no_nan(d);
                }
            }
        }
        // Some mutations are still valid input (a queue length of 0, a
        // worker left empty): both branches are exercised.
        assert!(reports > 0, "every mutation was refused");
    }
}
