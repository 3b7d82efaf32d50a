//! The comparison report of a result directory: `summary.csv`, plots and
//! `report.md`.
//!
//! Input files (tidy CSV, as the scenario runner writes them):
//! - `lookups.csv`: one row per finished request, with a leading `system`
//!   column (`p2p` or `datacenter`) and at least `node`, `start_ns`,
//!   `latency_ns`, `messages`, `bytes`, `answered` (the request got an
//!   answer, right or wrong), and optionally `correct` (the true closest
//!   live node is in the answer) and `exact` (the answer is the true k
//!   closest live nodes); a `correct` or `exact` cell left empty was not
//!   checked, and an answered request then counts as correct or exact;
//! - `requests.csv`: one row per workload request (`system`, `time_ns`,
//!   `client`, `seq`, `delivered`), byte-identical between the systems but
//!   for the `system` column;
//! - optionally `p2p/timeseries.csv` (`time_ns,name,value`).
//!
//! Pairing: request *r* (client, time) was issued to both systems. Its
//! outcome on each side is the row of that client starting at that time; a
//! request without a row (its client went down before it ended) failed.
//! Differences are P2P minus data center, per request. Requests close in
//! time share network conditions and are not independent, so the 95 %
//! confidence intervals of mean differences use batch means over 20
//! consecutive batches of requests in time order. Rates (answered,
//! correct, exact:
//! unit `%`) are proportions, for which a symmetric batch-means interval
//! can pass ±100 points at small n: their difference gets Newcombe's
//! hybrid score interval from the Wilson intervals of each side, each side
//! with its effective sample size (requests divided by the design effect
//! that batch means measure), which stays within ±100 points
//! ([`crate::stats::paired_rate_difference`]).
//!
//! A value without observations (no request, no answer on a side) is
//! blank in every output, with its `n`: never NaN.
//!
//! Input is checked strictly: a value of the wrong form (`answered=maybe`,
//! a negative or non-numeric latency) is an error naming the file, line
//! and column and the expected form, never a silent failure or a dropped
//! row. Columns this module does not use are ignored.

use crate::plot;
use crate::stats::{paired_difference, paired_rate_difference, summarize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read or parsed.
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: String,
        /// What went wrong (with the line, for a bad row).
        message: String,
    },
    /// An output could not be written.
    #[error("writing {path}: {message}")]
    Output {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// A CSV file read as text columns. Columns are found by name, so extra
/// columns (added by newer writers) are ignored.
pub struct Table {
    path: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    /// The line each row starts on (1-based, the header being line 1).
    lines: Vec<u64>,
}

/// `v` quoted, cut short (see [`crate::cut`]).
fn quote(v: &str) -> String {
    let c = crate::cut(v);
    match c.strip_suffix('…') {
        Some(head) => format!("{head:?}…"),
        None => format!("{c:?}"),
    }
}

impl Table {
    /// Read `path`.
    pub fn read(path: &Path) -> Result<Table, ReportError> {
        let p = path.display().to_string();
        let input = |message: String| ReportError::Input {
            path: p.clone(),
            message,
        };
        let mut r = csv::Reader::from_path(path).map_err(|e| input(e.to_string()))?;
        let headers = r
            .headers()
            .map_err(|e| input(e.to_string()))?
            .iter()
            .map(String::from)
            .collect();
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| input(e.to_string()))?;
            lines.push(rec.position().map_or(rows.len() as u64 + 2, |p| p.line()));
            rows.push(rec.iter().map(String::from).collect());
        }
        Ok(Table {
            path: p,
            headers,
            rows,
            lines,
        })
    }

    /// Index of column `name`.
    pub fn col(&self, name: &str) -> Result<usize, ReportError> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| ReportError::Input {
                path: self.path.clone(),
                message: format!(
                    "no column {name:?} (columns: {})",
                    crate::cut(&self.headers.join(", "))
                ),
            })
    }

    /// Rows.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// The line row `row` starts on (1-based, the header being line 1).
    pub(crate) fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    /// The error `message` about the value of row `row`, column `col`,
    /// naming the file, line and column.
    pub(crate) fn error_at(&self, row: usize, col: usize, message: &str) -> ReportError {
        ReportError::Input {
            path: self.path.clone(),
            message: format!(
                "line {}, column {} ({}): {message}",
                self.lines[row],
                col + 1,
                crate::cut(&self.headers[col]),
            ),
        }
    }

    /// The value of row `row`, column `col`, quoted and cut short for an
    /// error message.
    pub(crate) fn quoted(&self, row: usize, col: usize) -> String {
        quote(&self.rows[row][col])
    }

    /// The error for the value of row `row`, column `col`, that is not
    /// of the `expected` form.
    pub(crate) fn bad(&self, row: usize, col: usize, expected: &str) -> ReportError {
        self.error_at(
            row,
            col,
            &format!("{} is not {expected}", self.quoted(row, col)),
        )
    }

    /// A number, NaN when empty.
    pub(crate) fn num(&self, row: usize, col: usize) -> Result<f64, ReportError> {
        let v = &self.rows[row][col];
        if v.is_empty() {
            return Ok(f64::NAN);
        }
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| self.bad(row, col, "a number"))
    }

    /// A finite number ≥ 0 (a latency, a count of messages or bytes).
    pub(crate) fn non_negative(&self, row: usize, col: usize) -> Result<f64, ReportError> {
        self.rows[row][col]
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| self.bad(row, col, "a number ≥ 0"))
    }

    /// An integer ≥ 0 (a node, a time in ns).
    pub(crate) fn unsigned(&self, row: usize, col: usize) -> Result<u64, ReportError> {
        self.rows[row][col]
            .parse::<u64>()
            .map_err(|_| self.bad(row, col, "an integer ≥ 0"))
    }

    /// `true` or `false`; with `empty_ok`, also empty (`None`).
    pub(crate) fn flag(
        &self,
        row: usize,
        col: usize,
        empty_ok: bool,
    ) -> Result<Option<bool>, ReportError> {
        match self.rows[row][col].as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            "" if empty_ok => Ok(None),
            _ if empty_ok => Err(self.bad(row, col, "true, false or empty")),
            _ => Err(self.bad(row, col, "true or false")),
        }
    }

    /// One of `SYSTEMS`.
    pub(crate) fn system(&self, row: usize, col: usize) -> Result<usize, ReportError> {
        SYSTEMS
            .iter()
            .position(|s| *s == self.rows[row][col])
            .ok_or_else(|| self.bad(row, col, "p2p or datacenter"))
    }
}

/// Batches of requests behind every interval (see the module doc).
pub(crate) const BATCHES: usize = 20;

/// The two systems, in report order.
pub const SYSTEMS: [&str; 2] = ["p2p", "datacenter"];
const LABELS: [&str; 2] = ["P2P (Kademlia)", "data center"];

/// Per-request outcome on one side.
#[derive(Clone, Copy, Debug)]
struct Out {
    /// An answer came back, right or wrong.
    answered: bool,
    /// The answer holds the true closest live node.
    correct: bool,
    /// The answer is the true k closest live nodes.
    exact: bool,
    latency_ms: f64,
    messages: f64,
    bytes: f64,
}

/// One row of `summary.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Metric name.
    pub metric: Cow<'static, str>,
    /// Its unit.
    pub unit: Cow<'static, str>,
    /// P2P value.
    pub p2p: f64,
    /// Data-center value.
    pub datacenter: f64,
    /// Mean paired difference (P2P − data center), when paired.
    pub difference: Option<(f64, f64, f64)>,
    /// Pairs behind the difference (or requests behind the values).
    pub n: usize,
}

/// What the report computed.
pub struct Analysis {
    /// `summary.csv` rows.
    pub summary: Vec<SummaryRow>,
    latencies: [Vec<f64>; 2],
    answered_over_time: [Vec<(f64, f64)>; 2],
    nodes_up: Vec<(f64, f64)>,
}

/// Analyse the result directory `dir`.
pub fn analyse(dir: &Path) -> Result<Analysis, ReportError> {
    let lookups = Table::read(&dir.join("lookups.csv"))?;
    let requests = Table::read(&dir.join("requests.csv"))?;
    let (ls, ln, lst, llat, lmsg, lbytes, lok) = (
        lookups.col("system")?,
        lookups.col("node")?,
        lookups.col("start_ns")?,
        lookups.col("latency_ns")?,
        lookups.col("messages")?,
        lookups.col("bytes")?,
        lookups.col("answered")?,
    );
    let lcorrect = lookups.col("correct").ok();
    let lexact = lookups.col("exact").ok();
    let mut outcome: BTreeMap<(usize, u64, u64), Out> = BTreeMap::new();
    for i in 0..lookups.rows().len() {
        let key = (
            lookups.system(i, ls)?,
            lookups.unsigned(i, ln)?,
            lookups.unsigned(i, lst)?,
        );
        let answered = lookups.flag(i, lok, false)? == Some(true);
        let check = |col: Option<usize>| match col {
            Some(c) => lookups.flag(i, c, true),
            None => Ok(None),
        };
        let (correct, exact) = (check(lcorrect)?, check(lexact)?);
        outcome.insert(
            key,
            Out {
                answered,
                correct: answered && correct != Some(false),
                exact: answered && exact != Some(false),
                latency_ms: lookups.non_negative(i, llat)? / 1e6,
                messages: lookups.non_negative(i, lmsg)?,
                bytes: lookups.non_negative(i, lbytes)?,
            },
        );
    }
    let (rs, rt, rc, rd) = (
        requests.col("system")?,
        requests.col("time_ns")?,
        requests.col("client")?,
        requests.col("delivered")?,
    );
    // The issued requests, in time order, from the P2P log (the baseline's
    // is identical; the runner checks it).
    let mut issued: Vec<(u64, u64)> = Vec::new();
    for i in 0..requests.rows().len() {
        let system = requests.system(i, rs)?;
        let delivered = requests.flag(i, rd, false)? == Some(true);
        let (t, c) = (requests.unsigned(i, rt)?, requests.unsigned(i, rc)?);
        if system == 0 && delivered {
            issued.push((t, c));
        }
    }
    let fail = Out {
        answered: false,
        correct: false,
        exact: false,
        latency_ms: f64::NAN,
        messages: f64::NAN,
        bytes: f64::NAN,
    };
    let per_side: Vec<Vec<Out>> = (0..SYSTEMS.len())
        .map(|s| {
            issued
                .iter()
                .map(|&(t, c)| *outcome.get(&(s, c, t)).unwrap_or(&fail))
                .collect()
        })
        .collect();
    let (a, b) = (&per_side[0], &per_side[1]);
    let n = issued.len();
    let rate = |v: &[Out], f: fn(&Out) -> bool| {
        v.iter()
            .map(|o| if f(o) { 100.0 } else { 0.0 })
            .collect::<Vec<_>>()
    };
    let both: Vec<usize> = (0..n).filter(|&i| a[i].answered && b[i].answered).collect();
    let pick = |v: &[Out], f: fn(&Out) -> f64| both.iter().map(|&i| f(&v[i])).collect::<Vec<_>>();
    let answered = (rate(a, |o| o.answered), rate(b, |o| o.answered));
    let correct = (rate(a, |o| o.correct), rate(b, |o| o.correct));
    let exact = (rate(a, |o| o.exact), rate(b, |o| o.exact));
    let lat = (pick(a, |o| o.latency_ms), pick(b, |o| o.latency_ms));
    let msgs = (pick(a, |o| o.messages), pick(b, |o| o.messages));
    let bytes = (pick(a, |o| o.bytes), pick(b, |o| o.bytes));
    let own = |v: &[Out]| {
        v.iter()
            .filter(|o| o.answered)
            .map(|o| o.latency_ms)
            .collect::<Vec<_>>()
    };
    let (la, lb) = (summarize(&own(a)), summarize(&own(b)));
    let paired = |x: &(Vec<f64>, Vec<f64>), metric: &'static str, unit: &'static str| {
        // Rates are proportions: a bounded interval (see the module doc).
        let (m, lo, hi, pairs) = if unit == "%" {
            paired_rate_difference(&x.0, &x.1, BATCHES)
        } else {
            paired_difference(&x.0, &x.1, BATCHES)
        };
        SummaryRow {
            metric: metric.into(),
            unit: unit.into(),
            p2p: summarize(&x.0).mean,
            datacenter: summarize(&x.1).mean,
            difference: Some((m, lo, hi)),
            n: pairs,
        }
    };
    let mut summary = vec![
        paired(&answered, "answered_rate", "%"),
        paired(&correct, "correct_rate", "%"),
        paired(&exact, "exact_rate", "%"),
        paired(&lat, "latency_mean", "ms"),
    ];
    for (metric, fa, fb) in [
        ("latency_p50", la.p50, lb.p50),
        ("latency_p90", la.p90, lb.p90),
        ("latency_p99", la.p99, lb.p99),
    ] {
        summary.push(SummaryRow {
            metric: metric.into(),
            unit: "ms".into(),
            p2p: fa,
            datacenter: fb,
            difference: None,
            n: la.n.min(lb.n),
        });
    }
    summary.push(paired(&msgs, "messages_per_request", "messages"));
    summary.push(paired(&bytes, "bytes_per_request", "bytes"));

    // Answered over time: 20 windows over the measured period.
    let t0 = issued.first().map_or(0, |x| x.0) as f64;
    let t1 = issued.last().map_or(0, |x| x.0) as f64;
    let width = ((t1 - t0) / 20.0).max(1.0);
    let windows = |v: &[Out]| {
        let mut acc = vec![(0.0, 0.0); 20];
        for (i, &(t, _)) in issued.iter().enumerate() {
            let w = (((t as f64 - t0) / width) as usize).min(19);
            acc[w].0 += 1.0;
            if v[i].answered {
                acc[w].1 += 1.0;
            }
        }
        acc.iter()
            .enumerate()
            .filter(|(_, (tot, _))| *tot > 0.0)
            .map(|(w, (tot, s))| ((t0 + (w as f64 + 0.5) * width) / 3.6e12, 100.0 * s / tot))
            .collect::<Vec<_>>()
    };
    let mut nodes_up = Vec::new();
    let ts = dir.join("p2p").join("timeseries.csv");
    if ts.exists() {
        let t = Table::read(&ts)?;
        let (ct, cn, cv) = (t.col("time_ns")?, t.col("name")?, t.col("value")?);
        for i in 0..t.rows().len() {
            if t.rows()[i][cn] == "nodes_up" {
                nodes_up.push((t.unsigned(i, ct)? as f64 / 3.6e12, t.num(i, cv)?));
            }
        }
    }
    Ok(Analysis {
        summary,
        latencies: [own(a), own(b)],
        answered_over_time: [windows(a), windows(b)],
        nodes_up,
    })
}

/// `v` with `decimals` decimals; blank when there is no value (NaN).
pub fn blank_or(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        String::new()
    }
}

fn fmt(v: f64) -> String {
    blank_or(v, 6)
}

/// A difference with its interval, `d [lo, hi]`; blank without a value,
/// `d` alone without an interval, `unpaired` for a metric that has no
/// paired difference.
pub(crate) fn diff_text(
    difference: Option<(f64, f64, f64)>,
    decimals: usize,
    unpaired: &str,
) -> String {
    match difference {
        Some((d, lo, hi)) if d.is_finite() && lo.is_finite() && hi.is_finite() => {
            format!("{d:.decimals$} [{lo:.decimals$}, {hi:.decimals$}]")
        }
        Some((d, _, _)) => blank_or(d, decimals),
        None => unpaired.to_string(),
    }
}

/// The summary as a fixed-width text table (the command line's summary):
/// blank where there is no value.
pub fn summary_text(rows: &[SummaryRow]) -> String {
    let name = |r: &SummaryRow| format!("{} ({})", r.metric, r.unit);
    let w = rows
        .iter()
        .map(|r| name(r).chars().count())
        .fold(22, usize::max);
    let mut s = format!(
        "{:<w$} {:>14} {:>14} {:>28} {:>6}\n",
        "metric", "P2P", "data center", "difference (95% CI)", "n"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:<w$} {:>14} {:>14} {:>28} {:>6}",
            name(r),
            blank_or(r.p2p, 2),
            blank_or(r.datacenter, 2),
            diff_text(r.difference, 2, "-"),
            r.n
        );
    }
    s
}

/// The summary as a markdown table (the reports' `## Summary`), blank
/// where there is no value, `—` for a metric without a paired difference.
pub(crate) fn summary_markdown(md: &mut String, rows: &[SummaryRow]) {
    let _ = writeln!(
        md,
        "| metric | unit | P2P | data center | difference (95 % CI) | n |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---|---:|");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            r.metric,
            r.unit,
            blank_or(r.p2p, 3),
            blank_or(r.datacenter, 3),
            diff_text(r.difference, 3, "—"),
            r.n
        );
    }
}

/// `summary.csv` text.
pub fn summary_csv(rows: &[SummaryRow]) -> String {
    summary_csv_with(rows, fmt)
}

/// `summary.csv` text with the numbers written by `num` (blank for a
/// missing value).
pub fn summary_csv_with(rows: &[SummaryRow], num: impl Fn(f64) -> String) -> String {
    let mut s =
        String::from("metric,unit,p2p,datacenter,difference,diff_ci95_low,diff_ci95_high,n\n");
    for r in rows {
        let (d, lo, hi) = r.difference.unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{}",
            r.metric,
            r.unit,
            num(r.p2p),
            num(r.datacenter),
            num(d),
            num(lo),
            num(hi),
            r.n
        );
    }
    s
}

/// Write `summary.csv`, `plots/` and `report.md` into `dir`. `title` and
/// `notes` (markdown) head the report.
pub fn write(dir: &Path, title: &str, notes: &str, plots: bool) -> Result<Analysis, ReportError> {
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
        "Paired over the same requests; difference = P2P − data center, with its 95 % confidence interval. Means: batch means over {BATCHES} consecutive batches of requests (requests close in time are not independent). Rates (%): Newcombe's hybrid score interval from each side's Wilson interval, with the sample size divided by the design effect that batch means measure, so that it stays within ±100 points. `answered_rate` is the share of requests that got an answer, right or wrong; `correct_rate` the share whose answer holds the true closest live node to the key; `exact_rate` the share whose answer is exactly the true k closest live nodes (or the n closest, when the DHT's termination rule promises only those). The truth comes from global knowledge at the lookup's end; the directory's answer is the record itself, so it is correct and exact whenever it is answered. Latencies are of answered requests. A blank value has no observation behind it (n counts them).\n"
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
            .map(|i| (LABELS[i].to_string(), a.latencies[i].clone()))
            .collect();
        plot::cdf(
            &pdir.join("latency_cdf"),
            "Request latency (answered requests)",
            "latency (ms)",
            &series,
        )
        .map_err(plot_err)?;
        let lines: Vec<(String, Vec<(f64, f64)>)> = (0..2)
            .map(|i| (LABELS[i].to_string(), a.answered_over_time[i].clone()))
            .collect();
        plot::lines(
            &pdir.join("answered_over_time"),
            "Requests answered over time",
            "simulated time (h)",
            "answered (%)",
            &lines,
        )
        .map_err(plot_err)?;
        let systems: Vec<String> = LABELS.iter().map(|s| s.to_string()).collect();
        let bar = |r: &SummaryRow| vec![(r.p2p, None), (r.datacenter, None)];
        let lat = a
            .summary
            .iter()
            .filter(|r| r.unit == "ms")
            .map(|r| (r.metric.replace("latency_", ""), bar(r)))
            .collect::<Vec<_>>();
        plot::bars(
            &pdir.join("latency_summary"),
            "Latency of answered requests",
            "latency (ms)",
            &systems,
            &lat,
        )
        .map_err(plot_err)?;
        let _ = writeln!(md, "\n## Plots\n");
        let _ = writeln!(md, "![Latency CDF](plots/latency_cdf.svg)\n");
        let _ = writeln!(md, "![Latency summary](plots/latency_summary.svg)\n");
        let _ = writeln!(
            md,
            "![Requests answered over time](plots/answered_over_time.svg)\n"
        );
        if !a.nodes_up.is_empty() {
            plot::lines(
                &pdir.join("peers_up"),
                "P2P peers up",
                "simulated time (h)",
                "peers up",
                &[("peers up".to_string(), a.nodes_up.clone())],
            )
            .map_err(plot_err)?;
            let _ = writeln!(md, "![Peers up](plots/peers_up.svg)\n");
        }
    }
    let _ = writeln!(
        md,
        "## Files\n\n- `lookups.csv`: one row per finished request, both systems (`system` column).\n- `requests.csv`: the workload, identical for both systems.\n- `summary.csv`: the table above.\n- `p2p/`, `datacenter/`: each side's counters, histograms and time series.\n- `scenario.toml`, `provenance.toml`: what ran, and what built it.\n- `run-info.csv`: wall-clock figures (they differ between identical runs).\n"
    );
    let report = dir.join("report.md");
    std::fs::write(&report, md).map_err(|e| out(report.clone(), e.to_string()))?;
    Ok(a)
}
