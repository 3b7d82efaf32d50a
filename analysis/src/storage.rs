//! The comparison report of a storage result directory (P2P backup against
//! data-center storage): `summary.csv`, plots and `report.md`.
//!
//! Input files (tidy CSV, as the scenario runner writes them), each with a
//! leading `system` column (`p2p` or `datacenter`); an empty cell has no
//! value:
//! - `requests.csv`: the workload (`time_ns`, `workload`: `0` for a write,
//!   `1` for a read, `client`, `seq`, `delivered`), identical between the
//!   systems but for the `system` column;
//! - `reads.csv` and `writes.csv`: one row per finished read or write
//!   (`node`: the client, `start_ns`: the request's time, `latency_ns`,
//!   `ok`, and columns this module does not use);
//! - `objects.csv`: one row per object per system at the end of the run
//!   (`written`, `lost`, `readable_fraction`: the fraction of sampled
//!   instants at which it was readable, empty if never sampled);
//! - `over-time.csv`: one row per sampled instant per system (`time_ns`,
//!   `peers`, `objects_written`, `objects_readable`, `objects_lost`, the
//!   cumulative repair bytes by cause `repair_bytes_true_loss`,
//!   `repair_bytes_false_alarm`, `repair_bytes_audit`, `stored_bytes`,
//!   `logical_bytes`), in time order;
//! - optionally `p2p/timeseries.csv` (`time_ns,name,value`).
//!
//! Pairing: a delivered request (client, time) was issued to both systems.
//! Its outcome on each side is the row of `reads.csv` (for a read) or
//! `writes.csv` (for a write) of that client starting at that time; a
//! request without a row failed on that side. Differences are P2P minus
//! data center, per request, with the intervals of
//! [`crate::report`]: batch means over 20 consecutive batches of requests
//! in time order for means, Newcombe's hybrid score interval with effective
//! sample sizes for success rates (`%`).
//!
//! The object and repair figures are one number per side at the end of the
//! run (or over the sampled period), not paired: they have no difference.
//! The data center's repair bytes are its site's internal disk rebuilds,
//! not traffic on home links.
//!
//! A value without observations (no read, no written object, a sampled
//! period of length 0) is blank in every output, with its `n`: never NaN.
//!
//! Input is checked strictly, as in [`crate::report`]: a value of the wrong
//! form (`ok=maybe`, a negative latency, a workload other than 0 or 1, a
//! fraction above 1) is an error naming the file, line and column and the
//! expected form. So is a second row of one side for the same client and
//! start time (it could not be paired), a sample not later than the
//! previous one of its side, and cumulative repair bytes (the three causes
//! summed: a repair's bytes may move from true loss to false alarm when the
//! holder presumed gone is heard from again) that decrease.
//! Columns this module does not use are ignored.

use crate::plot;
use crate::report::{
    BATCHES, ReportError, SYSTEMS, SummaryRow, Table, summary_csv, summary_markdown,
};
use crate::stats::{paired_difference, paired_rate_difference, summarize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Plot labels of the two systems, in [`SYSTEMS`] order.
const LABELS: [&str; 2] = ["P2P (storage)", "data center"];

/// Nanoseconds in a day.
const NS_PER_DAY: f64 = 86_400e9;

/// The outcome of one request on one side.
#[derive(Clone, Copy, Debug)]
struct Op {
    ok: bool,
    /// NaN for a failed operation.
    latency_ms: f64,
}

const FAILED: Op = Op {
    ok: false,
    latency_ms: f64::NAN,
};

/// One row of `over-time.csv`.
#[derive(Clone, Copy, Debug)]
struct Sample {
    time_ns: u64,
    peers: u64,
    written: u64,
    readable: u64,
    lost: u64,
    /// Cumulative repair bytes: true loss, false alarm, audit.
    repair: [f64; 3],
    stored: f64,
    logical: f64,
}

impl Sample {
    fn repair_total(&self) -> f64 {
        self.repair.iter().sum()
    }
}

/// One side's objects at the end of the run.
#[derive(Clone, Debug, Default)]
struct Objects {
    rows: usize,
    written: usize,
    /// Written and no longer recoverable.
    lost: usize,
    /// `readable_fraction` × 100 of each written object that has one.
    availability: Vec<f64>,
}

/// What the storage report computed.
pub struct StorageAnalysis {
    /// `summary.csv` rows.
    pub summary: Vec<SummaryRow>,
    /// Each side's successful read latencies (ms).
    read_latencies: [Vec<f64>; 2],
    /// Each side's samples, in time order.
    samples: [Vec<Sample>; 2],
    /// P2P peers up (time in days, count), from `p2p/timeseries.csv`.
    nodes_up: Vec<(f64, f64)>,
}

/// A cumulative count of a sample.
type Cumulative = fn(&Sample) -> f64;

/// A plotted series of one side, (days, value) points.
type Curve = fn(&StorageAnalysis, usize) -> Vec<(f64, f64)>;

/// Delivered requests, `(time_ns, client)`.
type Issued = Vec<(u64, u64)>;

/// Workload codes of `requests.csv`.
const WRITE: u64 = 0;
const READ: u64 = 1;

/// The delivered requests of the workload, `(time_ns, client)` of reads
/// and of writes, each in time order (from the P2P log; the baseline's is
/// identical). Every row is checked.
fn requests(t: &Table) -> Result<(Issued, Issued), ReportError> {
    let (cs, ct, cw, cc, cd) = (
        t.col("system")?,
        t.col("time_ns")?,
        t.col("workload")?,
        t.col("client")?,
        t.col("delivered")?,
    );
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    for i in 0..t.rows().len() {
        let system = t.system(i, cs)?;
        let time = t.unsigned(i, ct)?;
        let workload = t
            .unsigned(i, cw)
            .ok()
            .filter(|w| *w == WRITE || *w == READ)
            .ok_or_else(|| t.bad(i, cw, "0 (a write) or 1 (a read)"))?;
        let client = t.unsigned(i, cc)?;
        let delivered = t.flag(i, cd, false)? == Some(true);
        if system == 0 && delivered {
            if workload == READ {
                reads.push((time, client));
            } else {
                writes.push((time, client));
            }
        }
    }
    // Stable: requests of one instant keep their order in the file.
    reads.sort_by_key(|r| r.0);
    writes.sort_by_key(|r| r.0);
    Ok((reads, writes))
}

/// The rows of `reads.csv` or `writes.csv` by (system, node, start_ns).
fn operations(t: &Table) -> Result<BTreeMap<(usize, u64, u64), Op>, ReportError> {
    let (cs, cn, cst, clat, cok) = (
        t.col("system")?,
        t.col("node")?,
        t.col("start_ns")?,
        t.col("latency_ns")?,
        t.col("ok")?,
    );
    let mut out = BTreeMap::new();
    let mut first_line: BTreeMap<(usize, u64, u64), u64> = BTreeMap::new();
    for i in 0..t.rows().len() {
        let key = (t.system(i, cs)?, t.unsigned(i, cn)?, t.unsigned(i, cst)?);
        let ok = t.flag(i, cok, false)? == Some(true);
        // A failed operation may have no latency; a successful one must.
        let latency_ms = if !ok && t.rows()[i][clat].is_empty() {
            f64::NAN
        } else {
            t.non_negative(i, clat)? / 1e6
        };
        if let Some(line) = first_line.insert(key, t.line(i)) {
            return Err(t.error_at(
                i,
                cst,
                &format!(
                    "a second row of {} for node {} starting at {} ns (the first is on line {line}): each request is paired with the one row of its client and start time",
                    SYSTEMS[key.0], key.1, key.2
                ),
            ));
        }
        out.insert(key, Op { ok, latency_ms });
    }
    Ok(out)
}

/// `objects.csv`, per side.
fn objects(t: &Table) -> Result<[Objects; 2], ReportError> {
    let (cs, cw, cl, cr) = (
        t.col("system")?,
        t.col("written")?,
        t.col("lost")?,
        t.col("readable_fraction")?,
    );
    let mut out: [Objects; 2] = Default::default();
    for i in 0..t.rows().len() {
        let s = t.system(i, cs)?;
        let written = t.flag(i, cw, false)? == Some(true);
        let lost = t.flag(i, cl, false)? == Some(true);
        let fraction = if t.rows()[i][cr].is_empty() {
            None
        } else {
            Some(
                t.rows()[i][cr]
                    .parse::<f64>()
                    .ok()
                    .filter(|x| (0.0..=1.0).contains(x))
                    .ok_or_else(|| t.bad(i, cr, "a number from 0 to 1, or empty"))?,
            )
        };
        let o = &mut out[s];
        o.rows += 1;
        if written {
            o.written += 1;
            if lost {
                o.lost += 1;
            }
            if let Some(f) = fraction {
                o.availability.push(100.0 * f);
            }
        }
    }
    Ok(out)
}

/// `over-time.csv`, per side, checked to be in time order with cumulative
/// repair counts that never decrease.
fn samples(t: &Table) -> Result<[Vec<Sample>; 2], ReportError> {
    let cs = t.col("system")?;
    let ct = t.col("time_ns")?;
    let cp = t.col("peers")?;
    let (cw, cr, cl) = (
        t.col("objects_written")?,
        t.col("objects_readable")?,
        t.col("objects_lost")?,
    );
    let crep = [
        t.col("repair_bytes_true_loss")?,
        t.col("repair_bytes_false_alarm")?,
        t.col("repair_bytes_audit")?,
    ];
    let (cst, clog) = (t.col("stored_bytes")?, t.col("logical_bytes")?);
    let mut out: [Vec<Sample>; 2] = Default::default();
    let mut prev_line: [u64; 2] = [0; 2];
    for i in 0..t.rows().len() {
        let s = t.system(i, cs)?;
        let mut repair = [0.0; 3];
        for (r, &c) in repair.iter_mut().zip(&crep) {
            *r = t.non_negative(i, c)?;
        }
        let x = Sample {
            time_ns: t.unsigned(i, ct)?,
            peers: t.unsigned(i, cp)?,
            written: t.unsigned(i, cw)?,
            readable: t.unsigned(i, cr)?,
            lost: t.unsigned(i, cl)?,
            repair,
            stored: t.non_negative(i, cst)?,
            logical: t.non_negative(i, clog)?,
        };
        if let Some(p) = out[s].last() {
            let line = prev_line[s];
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
            // A repair's bytes may move from one cause to another (a holder
            // presumed gone that is heard from later turns a true loss into
            // a false alarm), but their sum never decreases.
            let (now, before): (f64, f64) = (x.repair.iter().sum(), p.repair.iter().sum());
            if now < before {
                return Err(t.error_at(
                    i,
                    crep[0],
                    &format!(
                        "the repair bytes of the three causes sum to {now}, below the previous {} sample's {before} (line {line}): repair bytes are cumulative",
                        SYSTEMS[s],
                    ),
                ));
            }
        }
        prev_line[s] = t.line(i);
        out[s].push(x);
    }
    Ok(out)
}

/// Each side's outcome of each request: the row of its client starting at
/// its time, or a failure.
fn outcomes(issued: &[(u64, u64)], rows: &BTreeMap<(usize, u64, u64), Op>) -> [Vec<Op>; 2] {
    [0, 1].map(|s| {
        issued
            .iter()
            .map(|&(t, c)| *rows.get(&(s, c, t)).unwrap_or(&FAILED))
            .collect()
    })
}

/// Success rate and mean latency of one kind of operation (paired), in
/// `summary.csv` form.
fn paired_rows(
    ops: &[Vec<Op>; 2],
    rate: &'static str,
    mean: &'static str,
) -> (SummaryRow, SummaryRow) {
    let pct = |v: &[Op]| {
        v.iter()
            .map(|o| if o.ok { 100.0 } else { 0.0 })
            .collect::<Vec<_>>()
    };
    let (a, b) = (pct(&ops[0]), pct(&ops[1]));
    let (d, lo, hi, n) = paired_rate_difference(&a, &b, BATCHES);
    let rate_row = SummaryRow {
        metric: rate.into(),
        unit: "%".into(),
        p2p: summarize(&a).mean,
        datacenter: summarize(&b).mean,
        difference: Some((d, lo, hi)),
        n,
    };
    let both: Vec<usize> = (0..ops[0].len())
        .filter(|&i| ops[0][i].ok && ops[1][i].ok)
        .collect();
    let lat = |v: &[Op]| both.iter().map(|&i| v[i].latency_ms).collect::<Vec<_>>();
    let (a, b) = (lat(&ops[0]), lat(&ops[1]));
    let (d, lo, hi, n) = paired_difference(&a, &b, BATCHES);
    let mean_row = SummaryRow {
        metric: mean.into(),
        unit: "ms".into(),
        p2p: summarize(&a).mean,
        datacenter: summarize(&b).mean,
        difference: Some((d, lo, hi)),
        n,
    };
    (rate_row, mean_row)
}

/// Each side's successful latencies (ms).
fn own_latencies(ops: &[Vec<Op>; 2]) -> [Vec<f64>; 2] {
    [0, 1].map(|s| {
        ops[s]
            .iter()
            .filter(|o| o.ok)
            .map(|o| o.latency_ms)
            .collect()
    })
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

/// Bytes per peer per day of the cumulative count `f` between the first
/// and the last sample; NaN over a period of length 0 or without peers at
/// the last sample.
fn per_peer_day(s: &[Sample], f: impl Fn(&Sample) -> f64) -> f64 {
    let (Some(a), Some(b)) = (s.first(), s.last()) else {
        return f64::NAN;
    };
    let days = (b.time_ns - a.time_ns) as f64 / NS_PER_DAY;
    if days <= 0.0 || b.peers == 0 {
        return f64::NAN;
    }
    (f(b) - f(a)) / b.peers as f64 / days
}

/// Analyse the storage result directory `dir`.
pub fn analyse(dir: &Path) -> Result<StorageAnalysis, ReportError> {
    let (read_reqs, write_reqs) = requests(&Table::read(&dir.join("requests.csv"))?)?;
    let read_rows = operations(&Table::read(&dir.join("reads.csv"))?)?;
    let write_rows = operations(&Table::read(&dir.join("writes.csv"))?)?;
    let objs = objects(&Table::read(&dir.join("objects.csv"))?)?;
    let samples = samples(&Table::read(&dir.join("over-time.csv"))?)?;

    let reads = outcomes(&read_reqs, &read_rows);
    let writes = outcomes(&write_reqs, &write_rows);
    let read_latencies = own_latencies(&reads);
    let (read_rate, read_mean) = paired_rows(&reads, "read_success_rate", "read_latency_mean");
    let (write_rate, write_mean) = paired_rows(&writes, "write_success_rate", "write_latency_mean");

    let mut summary = vec![read_rate, read_mean];
    let (la, lb) = (summarize(&read_latencies[0]), summarize(&read_latencies[1]));
    for (metric, a, b) in [
        ("read_latency_p50", la.p50, lb.p50),
        ("read_latency_p90", la.p90, lb.p90),
        ("read_latency_p99", la.p99, lb.p99),
    ] {
        summary.push(unpaired(metric, "ms", [a, b], la.n.min(lb.n)));
    }
    summary.push(write_rate);
    summary.push(write_mean);

    let rows = objs[0].rows.max(objs[1].rows);
    summary.push(unpaired(
        "objects_written",
        "objects",
        objs.clone().map(|o| o.written as f64),
        rows,
    ));
    summary.push(unpaired(
        "objects_lost",
        "objects",
        objs.clone().map(|o| o.lost as f64),
        rows,
    ));
    summary.push(unpaired(
        "durability",
        "%",
        objs.clone().map(|o| {
            if o.written == 0 {
                f64::NAN
            } else {
                100.0 * (1.0 - o.lost as f64 / o.written as f64)
            }
        }),
        objs[0].written.min(objs[1].written),
    ));
    summary.push(unpaired(
        "availability",
        "%",
        objs.clone().map(|o| summarize(&o.availability).mean),
        objs[0].availability.len().min(objs[1].availability.len()),
    ));

    let n_samples = samples[0].len().min(samples[1].len());
    let repair: [(&'static str, Cumulative); 4] = [
        ("repair_bytes_per_peer_day", Sample::repair_total),
        ("repair_true_loss_bytes_per_peer_day", |s| s.repair[0]),
        ("repair_false_alarm_bytes_per_peer_day", |s| s.repair[1]),
        ("repair_audit_bytes_per_peer_day", |s| s.repair[2]),
    ];
    for (metric, f) in repair {
        summary.push(unpaired(
            metric,
            "bytes",
            [0, 1].map(|s| per_peer_day(&samples[s], f)),
            n_samples,
        ));
    }
    summary.push(unpaired(
        "storage_overhead",
        "ratio",
        [0, 1].map(|s| match samples[s].last() {
            Some(x) if x.logical > 0.0 => x.stored / x.logical,
            _ => f64::NAN,
        }),
        n_samples,
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
                    nodes_up.push((t.unsigned(i, ct)? as f64 / NS_PER_DAY, v));
                }
            }
        }
    }
    Ok(StorageAnalysis {
        summary,
        read_latencies,
        samples,
        nodes_up,
    })
}

impl StorageAnalysis {
    /// Each side's successful read latencies (ms), in [`SYSTEMS`] order.
    pub fn read_latencies(&self) -> &[Vec<f64>; 2] {
        &self.read_latencies
    }

    /// Objects readable as a share of objects written (%), per sample with
    /// any written, against days, of side `s` (in [`SYSTEMS`] order).
    pub fn readable_over_time(&self, s: usize) -> Vec<(f64, f64)> {
        self.samples[s]
            .iter()
            .filter(|x| x.written > 0)
            .map(|x| {
                (
                    x.time_ns as f64 / NS_PER_DAY,
                    100.0 * x.readable as f64 / x.written as f64,
                )
            })
            .collect()
    }

    /// Objects lost (cumulative) against days.
    fn lost_over_time(&self, s: usize) -> Vec<(f64, f64)> {
        self.samples[s]
            .iter()
            .map(|x| (x.time_ns as f64 / NS_PER_DAY, x.lost as f64))
            .collect()
    }

    /// Repair bytes per peer per day within each interval between
    /// consecutive samples, at the interval's end, against days (intervals
    /// ending without peers are skipped).
    fn repair_over_time(&self, s: usize) -> Vec<(f64, f64)> {
        self.samples[s]
            .windows(2)
            .filter(|w| w[1].peers > 0)
            .map(|w| {
                let days = (w[1].time_ns - w[0].time_ns) as f64 / NS_PER_DAY;
                (
                    w[1].time_ns as f64 / NS_PER_DAY,
                    (w[1].repair_total() - w[0].repair_total()) / w[1].peers as f64 / days,
                )
            })
            .collect()
    }
}

/// The files of a storage result directory, with what each holds; the
/// optional ones are listed only when present.
const FILES: [(&str, &str, bool); 12] = [
    (
        "requests.csv",
        "the workload (writes and reads), identical for both systems",
        true,
    ),
    (
        "reads.csv",
        "one row per finished read, both systems (`system` column)",
        true,
    ),
    (
        "writes.csv",
        "one row per finished write, both systems",
        true,
    ),
    (
        "objects.csv",
        "one row per object per system at the end of the run",
        true,
    ),
    (
        "over-time.csv",
        "one row per sampled instant per system: objects, cumulative repair bytes by cause, stored and logical bytes",
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
/// storage result directory `dir`. `title` and `notes` (markdown) head the
/// report. Nothing is written when an input is refused.
pub fn write(
    dir: &Path,
    title: &str,
    notes: &str,
    plots: bool,
) -> Result<StorageAnalysis, ReportError> {
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
        "Reads and writes are paired over the same requests: every delivered request of the workload was issued to both systems, and one without a finished operation on a side failed there. Difference = P2P − data center, with its 95 % confidence interval. Means: batch means over {BATCHES} consecutive batches of requests (requests close in time are not independent). Rates (%): Newcombe's hybrid score interval from each side's Wilson interval, with the sample size divided by the design effect that batch means measure, so that it stays within ±100 points. The latency mean is over the requests that succeeded on both sides; the percentiles are each side's own successful reads (n: the smaller count).\n"
    );
    let _ = writeln!(
        md,
        "The other figures are one number per side, not paired (—). `objects_written` counts the objects whose write succeeded and `objects_lost` those of them no longer recoverable at the end (n: objects listed); `durability` is the share of written objects not lost (n: written objects); `availability` is the mean over written objects of the fraction of sampled instants at which each was readable (n: objects sampled). `repair_bytes_per_peer_day` is the bytes moved by repair between the first and the last sample, per household and per day, then the same for each cause: rebuilding fragments that were truly lost, fragments wrongly presumed lost (a false alarm of the failure detector), and audits. The data center's repair bytes are its site's internal disk rebuilds, not traffic on home links. `storage_overhead` is the bytes on disks over the logical bytes of the objects still recoverable, at the last sample (n: samples). A blank value has no observation behind it (n counts them).\n"
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
            .map(|i| (LABELS[i].to_string(), a.read_latencies[i].clone()))
            .collect();
        plot::cdf(
            &pdir.join("read_latency_cdf"),
            "Read latency (successful reads)",
            "latency (ms)",
            &series,
        )
        .map_err(plot_err)?;
        let _ = writeln!(md, "\n## Plots\n");
        let _ = writeln!(
            md,
            "![Read latency CDF](plots/read_latency_cdf.svg)\n\nThe fraction of each side's successful reads that finished within a given latency.\n"
        );
        // (file, title, y label, series, y scale, y axis from zero, sentence)
        let over_time: [(&str, &str, &str, Curve, f64, bool, &str); 3] = [
            (
                "readable_over_time",
                "Objects readable over time",
                "readable (% of objects written)",
                StorageAnalysis::readable_over_time,
                1.0,
                false,
                "The objects readable at each sampled instant, as a share of the objects written by then.",
            ),
            (
                "lost_over_time",
                "Objects lost over time",
                "objects lost (cumulative)",
                StorageAnalysis::lost_over_time,
                1.0,
                true,
                "The number of objects no longer recoverable by each sampled instant.",
            ),
            (
                "repair_over_time",
                "Repair bandwidth",
                "repair (MB per peer per day)",
                StorageAnalysis::repair_over_time,
                1e-6,
                true,
                "Repair bytes per household per day within each interval between consecutive samples (for the data center, its internal disk rebuilds).",
            ),
        ];
        for (file, title, y_label, f, scale, from_zero, sentence) in over_time {
            let lines: Vec<(String, Vec<(f64, f64)>)> = (0..2)
                .map(|i| {
                    let pts = f(&a, i).into_iter().map(|(x, y)| (x, y * scale));
                    (LABELS[i].to_string(), pts.collect())
                })
                .collect();
            let draw = if from_zero {
                plot::lines
            } else {
                plot::lines_zoomed
            };
            draw(
                &pdir.join(file),
                title,
                "simulated time (days)",
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
                "simulated time (days)",
                "peers up",
                &[("peers up".to_string(), a.nodes_up.clone())],
            )
            .map_err(plot_err)?;
            let _ = writeln!(
                md,
                "![Peers up](plots/peers_up.svg)\n\nThe number of P2P households up at each instant.\n"
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
    //! Hand-made storage result directories whose figures are worked out
    //! by hand below.

    use super::*;

    /// A fresh directory under the system's temporary folder, removed when
    /// dropped (kept when `PC_KEEP_PLOTS` is set, to look at).
    struct TmpDir(PathBuf);

    impl TmpDir {
        fn new(name: &str) -> TmpDir {
            let d = std::env::temp_dir().join(format!("pc-storage-{}-{name}", std::process::id()));
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
    const DAY: u64 = 86_400 * S;
    const MS: u64 = 1_000_000;

    const REQUESTS_HEAD: &str = "system,time_ns,workload,client,seq,delivered\n";
    const OPS_HEAD: &str = "system,node,object,start_ns,end_ns,latency_ns,ok,reason,bytes,fragments_found,fragments_needed\n";
    const OBJECTS_HEAD: &str = "system,object,owner,size_bytes,written,lost,lost_ns,fragments,fragments_up,readable_fraction\n";
    const OVER_TIME_HEAD: &str = "system,time_ns,peers,peers_up,objects_written,objects_readable,objects_lost,repair_bytes_true_loss,repair_bytes_false_alarm,repair_bytes_audit,stored_bytes,logical_bytes\n";

    /// An operation row: `system,node,object,start,end,latency,ok,reason,…`.
    fn op(system: &str, node: u64, start: u64, latency: u64, ok: bool, reason: &str) -> String {
        format!(
            "{system},{node},ab12,{start},{},{latency},{ok},{reason},{},,\n",
            start + latency,
            if ok { "1000" } else { "" }
        )
    }

    /// The directory of the worked example:
    /// - reads: client 1 at 1, 2, 3, 4 s (and an undelivered one of
    ///   client 2 at 5 s). P2P: 10, 20, 30 ms, then a failure; data
    ///   center: 1, 2, 3, 4 ms.
    /// - writes: client 3 at 0.5 and 0.6 s (and an undelivered one at
    ///   0.7 s). P2P: 40 ms, then no row (failed); data center: 15, 25 ms.
    /// - objects: P2P 4 written (fractions 1, 0.5, 0.9, 0.6; the last
    ///   lost) and one not written (marked lost: not counted); data center
    ///   4 written (fractions 1, 1, 1 and none), not lost, one not written.
    /// - over time: 10 peers, samples at 0, 1 and 2 days (see
    ///   `the_worked_example`).
    fn worked_example(d: &Path) {
        let mut req = String::from(REQUESTS_HEAD);
        for system in SYSTEMS {
            for (t, w, c, seq, delivered) in [
                (S / 2, 0, 3, 0, true),
                (6 * S / 10, 0, 3, 1, true),
                (7 * S / 10, 0, 3, 2, false),
                (S, 1, 1, 0, true),
                (2 * S, 1, 1, 1, true),
                (3 * S, 1, 1, 2, true),
                (4 * S, 1, 1, 3, true),
                (5 * S, 1, 2, 0, false),
            ] {
                req.push_str(&format!("{system},{t},{w},{c},{seq},{delivered}\n"));
            }
        }
        let mut reads = String::from(OPS_HEAD);
        for (i, ms) in [10, 20, 30].into_iter().enumerate() {
            reads.push_str(&op("p2p", 1, (i as u64 + 1) * S, ms * MS, true, ""));
        }
        reads.push_str(
            "p2p,1,ab12,4000000000,4500000000,500000000,false,not-enough-fragments,,3,4\n",
        );
        for (i, ms) in [1, 2, 3, 4].into_iter().enumerate() {
            reads.push_str(&op("datacenter", 1, (i as u64 + 1) * S, ms * MS, true, ""));
        }
        let mut writes = String::from(OPS_HEAD);
        writes.push_str(&op("p2p", 3, S / 2, 40 * MS, true, ""));
        writes.push_str(&op("datacenter", 3, S / 2, 15 * MS, true, ""));
        writes.push_str(&op("datacenter", 3, 6 * S / 10, 25 * MS, true, ""));
        let objects = format!(
            "{OBJECTS_HEAD}\
             p2p,a1,1,1000,true,false,,8,6,1\n\
             p2p,a2,1,1000,true,false,,8,5,0.5\n\
             p2p,a3,2,1000,true,false,,7,7,0.9\n\
             p2p,a4,2,1000,true,true,{DAY},2,1,0.6\n\
             p2p,a5,3,1000,false,true,,0,0,\n\
             datacenter,b1,1,1000,true,false,,8,8,1\n\
             datacenter,b2,1,1000,true,false,,8,8,1.0\n\
             datacenter,b3,2,1000,true,false,,8,8,1\n\
             datacenter,b4,2,1000,true,false,,8,8,\n\
             datacenter,b5,3,1000,false,false,,0,0,\n"
        );
        let over_time = format!(
            "{OVER_TIME_HEAD}\
             p2p,0,10,10,0,0,0,100,0,0,0,0\n\
             p2p,{DAY},10,8,4,3,0,1200,500,200,4000,4000\n\
             p2p,{},10,9,4,2,1,2100,1000,400,3000,1000\n\
             datacenter,0,10,10,0,0,0,0,0,0,0,0\n\
             datacenter,{DAY},10,10,4,4,0,2000,0,0,1500,1000\n\
             datacenter,{},10,10,4,4,0,4000,0,0,1500,1000\n",
            2 * DAY,
            2 * DAY
        );
        for (f, text) in [
            ("requests.csv", req),
            ("reads.csv", reads),
            ("writes.csv", writes),
            ("objects.csv", objects),
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
                "read_success_rate",
                "read_latency_mean",
                "read_latency_p50",
                "read_latency_p90",
                "read_latency_p99",
                "write_success_rate",
                "write_latency_mean",
                "objects_written",
                "objects_lost",
                "durability",
                "availability",
                "repair_bytes_per_peer_day",
                "repair_true_loss_bytes_per_peer_day",
                "repair_false_alarm_bytes_per_peer_day",
                "repair_audit_bytes_per_peer_day",
                "storage_overhead",
            ]
        );

        // Reads: 4 delivered (the undelivered one is not counted); P2P 3
        // ok, the data center 4. With 4 outcomes in 20 batches, batch
        // means fall back to the plain standard error: design effect 1,
        // so Newcombe's interval with n = 4 on each side.
        let f = fields(d, "read_success_rate");
        assert_eq!(&f[..3], ["75.000000", "100.000000", "-25.000000"], "{f:?}");
        assert_eq!(f[5], "4");
        let (l1, u1) = wilson(0.75, 4.0);
        let (l2, _) = wilson(1.0, 4.0);
        let lo = -0.25 - (0.75 - l1); // (u2 − p2) = 0: u2 is capped at 1
        let hi = -0.25 + ((u1 - 0.75).powi(2) + (1.0 - l2).powi(2)).sqrt();
        let (flo, fhi): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        assert!((flo - 100.0 * lo).abs() < 1e-5, "{flo} vs {}", 100.0 * lo);
        assert!((fhi - 100.0 * hi).abs() < 1e-5, "{fhi} vs {}", 100.0 * hi);

        // Mean latency over the 3 reads both answered: 20 and 2 ms;
        // differences 9, 18, 27 (mean 18, sd 9), t(2) = 4.303.
        let f = fields(d, "read_latency_mean");
        assert_eq!(&f[..3], ["20.000000", "2.000000", "18.000000"], "{f:?}");
        let half = 4.303 * 9.0 / 3f64.sqrt();
        let (flo, fhi): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        assert!((flo - (18.0 - half)).abs() < 1e-5 && (fhi - (18.0 + half)).abs() < 1e-5);
        assert_eq!(f[5], "3");

        // Percentiles (linear interpolation): P2P 10, 20, 30 → p50 20,
        // p90 at rank 1.8 → 28, p99 at 1.98 → 29.8; data center 1..4 →
        // 2.5, 3.7 (rank 2.7), 3.97 (rank 2.97). n: the fewer, 3.
        for (m, p, dc) in [
            ("read_latency_p50", 20.0, 2.5),
            ("read_latency_p90", 28.0, 3.7),
            ("read_latency_p99", 29.8, 3.97),
        ] {
            let (a, b, n) = values(d, m);
            assert!(
                close(a, p) && close(b, dc) && n == 3,
                "{m}: {a:?} {b:?} {n}"
            );
            assert_eq!(fields(d, m)[2], "", "{m} is unpaired");
        }

        // Writes: 2 delivered; P2P has no row for the second (failed).
        let f = fields(d, "write_success_rate");
        assert_eq!(&f[..3], ["50.000000", "100.000000", "-50.000000"]);
        assert_eq!(f[5], "2");
        // One pair: a difference, no interval.
        assert_eq!(
            fields(d, "write_latency_mean").join(","),
            "40.000000,15.000000,25.000000,,,1"
        );

        // Objects: 5 rows a side; 4 written each; 1 of P2P's lost (the
        // unwritten one marked lost does not count).
        assert_eq!(values(d, "objects_written"), (Some(4.0), Some(4.0), 5));
        assert_eq!(values(d, "objects_lost"), (Some(1.0), Some(0.0), 5));
        // Durability 100 × (1 − 1/4) = 75; n: written objects.
        assert_eq!(values(d, "durability"), (Some(75.0), Some(100.0), 4));
        // Availability: P2P (100 + 50 + 90 + 60) / 4 = 75; the data
        // center 100 over its 3 sampled objects; n = 3.
        let (a, b, n) = values(d, "availability");
        assert!(
            close(a, 75.0) && close(b, 100.0) && n == 3,
            "{a:?} {b:?} {n}"
        );

        // Repair over 2 days, 10 peers. P2P: true loss 100 → 2100,
        // false alarm 0 → 1000, audit 0 → 400: (2000 + 1000 + 400) / 10
        // / 2 = 170, then 100, 50, 20. Data center: 0 → 4000 rebuilt: 200.
        for (m, p, dc) in [
            ("repair_bytes_per_peer_day", 170.0, 200.0),
            ("repair_true_loss_bytes_per_peer_day", 100.0, 200.0),
            ("repair_false_alarm_bytes_per_peer_day", 50.0, 0.0),
            ("repair_audit_bytes_per_peer_day", 20.0, 0.0),
        ] {
            let (a, b, n) = values(d, m);
            assert!(
                close(a, p) && close(b, dc) && n == 3,
                "{m}: {a:?} {b:?} {n}"
            );
        }
        // Overhead at the last sample: 3000 / 1000 and 1500 / 1000.
        assert_eq!(values(d, "storage_overhead"), (Some(3.0), Some(1.5), 3));

        // The plotted series.
        assert_eq!(an.readable_over_time(0), [(1.0, 75.0), (2.0, 50.0)]);
        assert_eq!(an.readable_over_time(1), [(1.0, 100.0), (2.0, 100.0)]);
        assert_eq!(an.lost_over_time(0), [(0.0, 0.0), (1.0, 0.0), (2.0, 1.0)]);
        // P2P: sums 100, 1900, 3500: 1800 then 1600 bytes in each day,
        // over 10 peers.
        assert_eq!(an.repair_over_time(0), [(1.0, 180.0), (2.0, 160.0)]);
        assert_eq!(an.repair_over_time(1), [(1.0, 200.0), (2.0, 200.0)]);
        assert_eq!(an.read_latencies[0], [10.0, 20.0, 30.0]);
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
    fn a_run_without_reads_gives_blanks_not_nan() {
        // Writes only, none finished; nothing stored; one sample a side (a
        // period of length 0).
        let d = TmpDir::new("noreads");
        let d = &d.0;
        let files = [
            (
                "requests.csv",
                format!("{REQUESTS_HEAD}p2p,5,0,1,0,true\ndatacenter,5,0,1,0,true\n"),
            ),
            ("reads.csv", OPS_HEAD.to_string()),
            ("writes.csv", OPS_HEAD.to_string()),
            ("objects.csv", OBJECTS_HEAD.to_string()),
            (
                "over-time.csv",
                format!(
                    "{OVER_TIME_HEAD}p2p,0,3,3,0,0,0,0,0,0,0,0\ndatacenter,0,3,3,0,0,0,0,0,0,0,0\n"
                ),
            ),
        ];
        for (f, text) in files {
            std::fs::write(d.join(f), text).unwrap();
        }
        let a = write(d, "t", "n", true).unwrap();
        assert_no_nan(d);
        for (m, n) in [
            ("read_success_rate", "0"),
            ("read_latency_mean", "0"),
            ("read_latency_p50", "0"),
            ("write_latency_mean", "0"),
            ("durability", "0"),
            ("availability", "0"),
            ("repair_bytes_per_peer_day", "1"),
            ("repair_audit_bytes_per_peer_day", "1"),
            ("storage_overhead", "1"),
        ] {
            assert_eq!(fields(d, m).join(","), format!(",,,,,{n}"), "{m}");
        }
        // The one write failed on both sides (no row): rates of 0, a
        // difference of 0.
        assert_eq!(
            &fields(d, "write_success_rate")[..3],
            ["0.000000", "0.000000", "0.000000"]
        );
        assert_eq!(
            fields(d, "objects_written").join(","),
            "0.000000,0.000000,,,,0"
        );
        let md = std::fs::read_to_string(d.join("report.md")).unwrap();
        assert!(
            md.contains("| read_latency_p50 | ms |  |  | — | 0 |"),
            "{md}"
        );
        assert!(!crate::report::summary_text(&a.summary).contains("NaN"));
    }

    #[test]
    fn plots_and_report_are_written() {
        let d = TmpDir::new("plots");
        let d = &d.0;
        worked_example(d);
        std::fs::create_dir_all(d.join("p2p")).unwrap();
        std::fs::write(
            d.join("p2p/timeseries.csv"),
            format!("time_ns,name,value\n0,nodes_up,10\n{DAY},nodes_up,8\n{DAY},other,3\n"),
        )
        .unwrap();
        write(d, "Storage", "Notes here.", true).unwrap();
        let plots = [
            "read_latency_cdf",
            "readable_over_time",
            "lost_over_time",
            "repair_over_time",
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
        let svg = std::fs::read_to_string(d.join("plots/read_latency_cdf.svg")).unwrap();
        assert!(svg.contains("P2P (storage)") && svg.contains("data center"));
        let md = std::fs::read_to_string(d.join("report.md")).unwrap();
        assert!(md.starts_with("# Storage\n\nNotes here.\n"), "{md}");
        for p in plots {
            assert_eq!(md.matches(&format!("(plots/{p}.svg)")).count(), 1, "{p}");
        }
        for want in [
            "internal disk rebuilds",
            "not traffic on home links",
            "Newcombe",
            "| storage_overhead | ratio | 3.000 | 1.500 | — | 3 |",
            "- `reads.csv`",
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
        write(d, "Storage", "n", false).unwrap();
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

    #[test]
    fn bad_values_are_refused_with_file_line_and_column() {
        let d = TmpDir::new("bad");
        let d = &d.0;
        for (file, line, col, value, want) in [
            (
                "reads.csv",
                3,
                6,
                "maybe",
                "column 7 (ok): \"maybe\" is not true or false",
            ),
            (
                "reads.csv",
                2,
                5,
                "-3",
                "column 6 (latency_ns): \"-3\" is not a number ≥ 0",
            ),
            (
                "writes.csv",
                2,
                0,
                "cloud",
                "column 1 (system): \"cloud\" is not p2p or datacenter",
            ),
            (
                "requests.csv",
                4,
                2,
                "2",
                "column 3 (workload): \"2\" is not 0 (a write) or 1 (a read)",
            ),
            ("requests.csv", 2, 5, "yes", "column 6 (delivered)"),
            (
                "objects.csv",
                3,
                9,
                "1.5",
                "column 10 (readable_fraction): \"1.5\" is not a number from 0 to 1, or empty",
            ),
            (
                "objects.csv",
                2,
                5,
                "",
                "column 6 (lost): \"\" is not true or false",
            ),
            ("over-time.csv", 3, 9, "x", "column 10 (repair_bytes_audit)"),
            // Out of time order, or a cumulative count going down.
            (
                "over-time.csv",
                3,
                1,
                "0",
                "column 2 (time_ns): \"0\" is not after the previous p2p sample (0 ns, line 2)",
            ),
            (
                "over-time.csv",
                4,
                7,
                "100",
                "column 8 (repair_bytes_true_loss): the repair bytes of the three causes sum to 1500, below the previous p2p sample's 1900 (line 3)",
            ),
            // A second P2P row for client 1 at 1 s.
            (
                "reads.csv",
                3,
                3,
                "1000000000",
                "column 4 (start_ns): a second row of p2p for node 1 starting at 1000000000 ns (the first is on line 2)",
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
        // A failed operation may have no latency; a successful one must.
        worked_example(d);
        let text = std::fs::read_to_string(d.join("reads.csv")).unwrap();
        std::fs::write(d.join("reads.csv"), replace_field(&text, 5, 5, "")).unwrap();
        write(d, "t", "n", false).unwrap();
        std::fs::write(d.join("reads.csv"), replace_field(&text, 2, 5, "")).unwrap();
        let e = write(d, "t", "n", false).err().unwrap().to_string();
        assert!(e.contains("line 2, column 6 (latency_ns)"), "{e}");
        // A missing column is named.
        worked_example(d);
        std::fs::write(d.join("objects.csv"), "system,object,written,lost\n").unwrap();
        let e = write(d, "t", "n", false).err().unwrap().to_string();
        assert!(
            e.contains("objects.csv") && e.contains("\"readable_fraction\""),
            "{e}"
        );
    }

    #[test]
    fn extra_columns_are_ignored() {
        let plain = TmpDir::new("plain");
        worked_example(&plain.0);
        write(&plain.0, "t", "n", false).unwrap();
        let extra = TmpDir::new("extra");
        worked_example(&extra.0);
        for f in [
            "requests.csv",
            "reads.csv",
            "writes.csv",
            "objects.csv",
            "over-time.csv",
        ] {
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
        write(&extra.0, "t", "n", false).unwrap();
        assert_eq!(
            std::fs::read_to_string(plain.0.join("summary.csv")).unwrap(),
            std::fs::read_to_string(extra.0.join("summary.csv")).unwrap()
        );
    }

    #[test]
    fn mutated_inputs_give_an_error_or_a_report_never_a_panic_or_nan() {
        // 200 mutations of the worked example: one field of one file
        // replaced by an odd value, or a line cut short.
        const ODD: [&str; 14] = [
            "",
            "-1",
            "NaN",
            "inf",
            "-inf",
            "1e400",
            "maybe",
            "18446744073709551616",
            " 3",
            "p2p",
            "datacenter",
            "true",
            "false",
            "0",
        ];
        const FILES: [&str; 5] = [
            "requests.csv",
            "reads.csv",
            "writes.csv",
            "objects.csv",
            "over-time.csv",
        ];
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
        for case in 0..200 {
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
                }
                Ok(Ok(())) => assert_no_nan(d),
            }
        }
    }
}
