//! Metrics: counters, histograms, per-event rows and periodic samples,
//! written as tidy CSV (one row per observation).
//!
//! Files written by [`Metrics::write_csv_dir`] and their columns:
//!
//! | file | columns | one row per |
//! |---|---|---|
//! | `counters.csv` | `name,value` | counter (final value) |
//! | `histograms.csv` | `name,bucket_low,bucket_high,count` | non-empty bucket; values in the unit the recorder used (ns for latencies) |
//! | `histogram_summary.csv` | `name,count,min,max,mean,p50,p90,p99` | histogram |
//! | `timeseries.csv` | `time_ns,name,value` | sampled value at a sampling instant |
//! | `<table>.csv` | the fields of the row type, in declaration order | recorded event |
//!
//! Histograms are log-linear: exact below 128, then 64 sub-buckets per power
//! of two (relative bucket width ≤ 1/64, about 1.6 %). Quantiles are reported
//! as the upper bound of the bucket holding them; count, min, max and mean
//! are exact.
//!
//! Everything is kept in ordered maps and buffered, so the files are
//! byte-identical for identical runs. Floats are printed by the shortest
//! round-trip representation, which is deterministic.
//!
//! A large run's tables need not stay in memory: after
//! [`Metrics::stream_rows`], a table whose buffered rows reach a threshold
//! appends them to its file on disk and starts again, so a table holds at
//! most the threshold in memory. The file's bytes are those the table would
//! have held ([`CsvFile`]).

use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// An error while recording or writing metrics.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// A row could not be serialised as CSV (nested structs, maps, ...).
    #[error("metrics table {table:?}: a row could not be written as CSV: {source}")]
    Row {
        /// The table.
        table: &'static str,
        /// What csv said.
        source: csv::Error,
    },
    /// Writing a file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

const EXACT: u64 = 128;
const SUB: u64 = 64;
const N_BUCKETS: usize = (EXACT + 57 * SUB) as usize;

/// A log-linear histogram of `u64` values.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; N_BUCKETS],
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }
}

fn bucket_of(v: u64) -> usize {
    if v < EXACT {
        return v as usize;
    }
    let e = 63 - v.leading_zeros() as u64; // >= 7
    let shift = e - 6;
    let m = v >> shift; // in [64, 128)
    (shift * SUB + m) as usize
}

fn bucket_bounds(b: usize) -> (u64, u64) {
    let b = b as u64;
    if b < EXACT {
        return (b, b);
    }
    let shift = b / SUB - 1;
    let m = b % SUB + SUB;
    let lo = m << shift;
    let hi = lo + ((1u64 << shift) - 1);
    (lo, hi)
}

impl Histogram {
    /// Add one observation.
    #[inline]
    pub fn record(&mut self, v: u64) {
        self.counts[bucket_of(v)] += 1;
        self.count += 1;
        self.sum += v as u128;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }
    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }
    /// Exact mean (0 when empty).
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }
    /// Smallest observation (None when empty).
    pub fn min(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min)
    }
    /// Largest observation (None when empty).
    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }
    /// The `q`-quantile (`0 <= q <= 1`), as the upper bound of its bucket
    /// capped at the maximum; None when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(bucket_bounds(b).1.min(self.max));
            }
        }
        Some(self.max)
    }
    /// Non-empty buckets as `(low, high, count)`.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(b, &c)| {
                let (lo, hi) = bucket_bounds(b);
                (lo, hi, c)
            })
    }
}

/// Where tables stream their rows ([`Metrics::stream_rows`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowStream {
    /// The folder the files are created in (with its parents, when the
    /// first table writes out).
    pub dir: PathBuf,
    /// Prepended to `<table>.csv`: two sinks streaming into one folder
    /// (the two sides of an experiment) use different prefixes.
    pub prefix: String,
    /// A table writes its rows out once it holds this many bytes of them.
    pub threshold: usize,
}

/// One output file of a sink: its bytes, or the file its rows were streamed
/// to (header and every row, complete).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CsvFile {
    /// The file's bytes.
    Bytes(Vec<u8>),
    /// The file on disk holding them.
    Disk(PathBuf),
}

impl CsvFile {
    /// The file's bytes, read from disk if it was streamed.
    pub fn bytes(&self) -> std::io::Result<Cow<'_, [u8]>> {
        match self {
            CsvFile::Bytes(b) => Ok(Cow::Borrowed(b)),
            CsvFile::Disk(p) => std::fs::read(p).map(Cow::Owned).map_err(|e| at(p, e)),
        }
    }
    /// A reader of the file's bytes, streaming from disk if it was streamed.
    pub fn reader(&self) -> std::io::Result<Box<dyn BufRead + '_>> {
        match self {
            CsvFile::Bytes(b) => Ok(Box::new(&b[..])),
            CsvFile::Disk(p) => Ok(Box::new(std::io::BufReader::with_capacity(
                1 << 16,
                std::fs::File::open(p).map_err(|e| at(p, e))?,
            ))),
        }
    }
}

impl From<Vec<u8>> for CsvFile {
    fn from(b: Vec<u8>) -> CsvFile {
        CsvFile::Bytes(b)
    }
}

/// An I/O error that names its file.
fn at(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// What a table's CSV writer writes into: a buffer, appended to a file on
/// disk whenever it reaches the threshold (when streaming is on).
struct Sink {
    buf: Vec<u8>,
    /// The file rows stream to (streaming on).
    path: Option<PathBuf>,
    threshold: usize,
    /// Open once the first rows were written out.
    file: Option<std::fs::File>,
}

impl Sink {
    fn new(stream: Option<&RowStream>, table: &str) -> Sink {
        let mut s = Sink {
            buf: Vec::new(),
            path: None,
            threshold: usize::MAX,
            file: None,
        };
        s.set_stream(stream, table);
        s
    }
    fn set_stream(&mut self, stream: Option<&RowStream>, table: &str) {
        if self.file.is_none()
            && let Some(st) = stream
        {
            self.path = Some(st.dir.join(format!("{}{table}.csv", st.prefix)));
            self.threshold = st.threshold.max(1);
        }
    }
    /// Append the buffer to the file (opening it the first time).
    fn write_out(&mut self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if self.file.is_none() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| at(dir, e))?;
            }
            self.file = Some(std::fs::File::create(path).map_err(|e| at(path, e))?);
        }
        if let Some(f) = &mut self.file {
            f.write_all(&self.buf).map_err(|e| at(path, e))?;
        }
        self.buf.clear();
        Ok(())
    }
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= self.threshold {
            self.write_out()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Table {
    writer: csv::Writer<Sink>,
    rows: u64,
}

impl Table {
    /// Run `f` on the sink, every row written so far in it. (The CSV
    /// writer lends its sink only by value: it is taken out and a writer
    /// that continues the same file, without a second header, put back.)
    fn with_sink<T>(&mut self, f: impl FnOnce(&mut Sink) -> T) -> std::io::Result<T> {
        let w = std::mem::replace(
            &mut self.writer,
            csv::Writer::from_writer(Sink::new(None, "")),
        );
        let mut sink = match w.into_inner() {
            Ok(sink) => sink,
            Err(e) => {
                let source = std::io::Error::new(e.error().kind(), e.error().to_string());
                self.writer = e.into_inner();
                return Err(source);
            }
        };
        let out = f(&mut sink);
        self.writer = csv::WriterBuilder::new()
            .has_headers(self.rows == 0)
            .from_writer(sink);
        Ok(out)
    }
    /// [`Table::with_sink`] making one of the sink's outputs: an I/O error,
    /// `f`'s or the writer's, names the file `<name>.csv`.
    fn output<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Sink) -> std::io::Result<T>,
    ) -> Result<T, MetricsError> {
        self.with_sink(f)
            .and_then(|r| r)
            .map_err(|source| MetricsError::Io {
                path: format!("{name}.csv"),
                source,
            })
    }
}

/// The metrics sink of a run. Nodes reach it through the context; the
/// engine adds its own counters.
#[derive(Default)]
pub struct Metrics {
    counters: BTreeMap<&'static str, u64>,
    histograms: BTreeMap<&'static str, Histogram>,
    tables: BTreeMap<&'static str, Table>,
    series: Vec<(u64, &'static str, f64)>,
    first_error: Option<MetricsError>,
    stream: Option<RowStream>,
}

impl Metrics {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }
    /// Add `delta` to counter `name`.
    #[inline]
    pub fn count(&mut self, name: &'static str, delta: u64) {
        *self.counters.entry(name).or_insert(0) += delta;
    }
    /// Set counter `name` to `value` (used for engine totals at the end).
    pub fn set_counter(&mut self, name: &'static str, value: u64) {
        self.counters.insert(name, value);
    }
    /// Current value of a counter (0 if never touched).
    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }
    /// All counters, ordered by name.
    pub fn counters(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.counters.iter().map(|(k, v)| (*k, *v))
    }
    /// Record `value` into histogram `name`.
    #[inline]
    pub fn observe(&mut self, name: &'static str, value: u64) {
        self.histograms.entry(name).or_default().record(value);
    }
    /// A histogram, if anything was recorded into it.
    pub fn histogram(&self, name: &str) -> Option<&Histogram> {
        self.histograms.get(name)
    }
    /// Stream every table's rows to `<dir>/<prefix><table>.csv` once it
    /// holds `threshold` bytes of them, instead of keeping them all in
    /// memory. Tables that already streamed keep their file. The files of
    /// [`Metrics::take_csv_files`] are then [`CsvFile::Disk`] for the tables
    /// that streamed; their bytes are those the tables would have held.
    pub fn stream_rows(&mut self, stream: RowStream) {
        for (name, t) in self.tables.iter_mut() {
            if let Err(source) = t.with_sink(|sink| sink.set_stream(Some(&stream), name))
                && self.first_error.is_none()
            {
                self.first_error = Some(MetricsError::Io {
                    path: format!("{name}.csv"),
                    source,
                });
            }
        }
        self.stream = Some(stream);
    }

    /// Append a row to table `table` (written as `<table>.csv`). The row is
    /// a struct of scalars; its field names become the CSV header.
    pub fn record<R: Serialize>(&mut self, table: &'static str, row: &R) {
        let stream = self.stream.as_ref();
        let t = self.tables.entry(table).or_insert_with(|| Table {
            writer: csv::Writer::from_writer(Sink::new(stream, table)),
            rows: 0,
        });
        match t.writer.serialize(row) {
            Ok(()) => t.rows += 1,
            Err(source) => {
                if self.first_error.is_none() {
                    self.first_error = Some(MetricsError::Row { table, source });
                }
            }
        }
    }
    /// Number of rows recorded in `table`.
    pub fn rows(&self, table: &str) -> u64 {
        self.tables.get(table).map_or(0, |t| t.rows)
    }
    /// Add a time-series sample.
    pub fn sample(&mut self, time_ns: u64, name: &'static str, value: f64) {
        self.series.push((time_ns, name, value));
    }
    /// The time-series samples recorded so far.
    pub fn samples(&self) -> &[(u64, &'static str, f64)] {
        &self.series
    }

    /// The CSV text of every output file, by file name, in name order
    /// (a streamed table's file is read back). Fails if a recorded row could
    /// not be serialised or a streamed file not written or read.
    pub fn to_csv_files(&mut self) -> Result<BTreeMap<String, Vec<u8>>, MetricsError> {
        let mut files = self.fixed_files()?;
        for (name, t) in self.tables.iter_mut() {
            let bytes = t.output(name, |sink| {
                if sink.file.is_some() {
                    sink.write_out()?;
                    let path = sink.path.clone().unwrap_or_default();
                    std::fs::read(&path).map_err(|e| at(&path, e))
                } else {
                    Ok(sink.buf.clone())
                }
            })?;
            files.insert(format!("{name}.csv"), bytes);
        }
        Ok(files)
    }

    /// Every output file, moving the tables' rows out instead of copying
    /// them (the tables are empty afterwards): for the end of a run, where a
    /// copy would double the rows' memory while the nodes still hold
    /// theirs. A table that streamed its rows ([`Metrics::stream_rows`])
    /// writes out the rest and is given as its file on disk, which it no
    /// longer writes to.
    pub fn take_csv_files(&mut self) -> Result<BTreeMap<String, CsvFile>, MetricsError> {
        let mut files: BTreeMap<String, CsvFile> = self
            .fixed_files()?
            .into_iter()
            .map(|(k, v)| (k, CsvFile::Bytes(v)))
            .collect();
        for (name, t) in self.tables.iter_mut() {
            let out = t.output(name, |sink| {
                if sink.file.is_some() {
                    sink.write_out()?;
                    Ok(CsvFile::Disk(sink.path.clone().unwrap_or_default()))
                } else {
                    Ok(CsvFile::Bytes(std::mem::take(&mut sink.buf)))
                }
            })?;
            // A fresh table, kept in memory: a row recorded later starts
            // again with its header, and never writes into the file given
            // out.
            t.writer = csv::Writer::from_writer(Sink::new(None, name));
            t.rows = 0;
            files.insert(format!("{name}.csv"), out);
        }
        Ok(files)
    }

    /// The files that are not tables: counters, histograms, time series.
    fn fixed_files(&mut self) -> Result<BTreeMap<String, Vec<u8>>, MetricsError> {
        if let Some(e) = self.first_error.take() {
            return Err(e);
        }
        let mut files = BTreeMap::new();
        let io = |path: &str| {
            let path = path.to_string();
            move |source| MetricsError::Io { path, source }
        };
        let mut c = b"name,value\n".to_vec();
        for (k, v) in &self.counters {
            writeln!(c, "{k},{v}").map_err(io("counters.csv"))?;
        }
        files.insert("counters.csv".to_string(), c);
        let mut h = b"name,bucket_low,bucket_high,count\n".to_vec();
        let mut hs = b"name,count,min,max,mean,p50,p90,p99\n".to_vec();
        for (k, hist) in &self.histograms {
            for (lo, hi, n) in hist.buckets() {
                writeln!(h, "{k},{lo},{hi},{n}").map_err(io("histograms.csv"))?;
            }
            let q = |p| hist.quantile(p).unwrap_or(0);
            writeln!(
                hs,
                "{k},{},{},{},{},{},{},{}",
                hist.count(),
                hist.min().unwrap_or(0),
                hist.max().unwrap_or(0),
                hist.mean(),
                q(0.5),
                q(0.9),
                q(0.99)
            )
            .map_err(io("histogram_summary.csv"))?;
        }
        files.insert("histograms.csv".to_string(), h);
        files.insert("histogram_summary.csv".to_string(), hs);
        let mut s = b"time_ns,name,value\n".to_vec();
        for (t, k, v) in &self.series {
            writeln!(s, "{t},{k},{v}").map_err(io("timeseries.csv"))?;
        }
        files.insert("timeseries.csv".to_string(), s);
        Ok(files)
    }

    /// Write every file of [`Metrics::to_csv_files`] into `dir` (which must
    /// exist). Callers that need all-or-nothing output write into a
    /// temporary directory and rename it when complete.
    pub fn write_csv_dir(&mut self, dir: &Path) -> Result<(), MetricsError> {
        for (name, bytes) in self.to_csv_files()? {
            let path = dir.join(&name);
            std::fs::write(&path, bytes).map_err(|source| MetricsError::Io {
                path: path.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn buckets_cover_every_value_once_and_are_narrow() {
        let mut prev_hi = None::<u64>;
        for b in 0..N_BUCKETS {
            let (lo, hi) = bucket_bounds(b);
            if let Some(p) = prev_hi {
                assert_eq!(lo, p + 1, "bucket {b} does not follow the previous one");
            }
            assert!(lo <= hi);
            assert_eq!(bucket_of(lo), b);
            assert_eq!(bucket_of(hi), b);
            if lo >= EXACT {
                assert!((hi - lo) as f64 / lo as f64 <= 1.0 / 64.0 + 1e-12);
            }
            prev_hi = Some(hi);
        }
        assert_eq!(prev_hi, Some(u64::MAX));
    }

    #[test]
    fn quantiles_of_a_known_sample() {
        let mut h = Histogram::default();
        for v in 1..=100u64 {
            h.record(v);
        }
        // Values below 128 are exact.
        assert_eq!(h.quantile(0.5), Some(50));
        assert_eq!(h.quantile(0.99), Some(99));
        assert_eq!(h.quantile(1.0), Some(100));
        assert_eq!(h.mean(), 50.5);
        let mut big = Histogram::default();
        big.record(1_000_000);
        let q = big.quantile(0.5).unwrap();
        assert_eq!(q, 1_000_000, "capped at the max");
    }

    #[derive(Serialize)]
    struct Row {
        time_ns: u64,
        node: u32,
        ok: bool,
        latency_ms: f64,
    }

    #[test]
    fn tables_are_tidy_csv_with_headers() {
        let mut m = Metrics::new();
        m.record(
            "lookups",
            &Row {
                time_ns: 5,
                node: 1,
                ok: true,
                latency_ms: 1.5,
            },
        );
        m.record(
            "lookups",
            &Row {
                time_ns: 9,
                node: 2,
                ok: false,
                latency_ms: 0.25,
            },
        );
        m.count("sent", 3);
        m.count("sent", 2);
        let files = m.to_csv_files().unwrap();
        assert_eq!(
            String::from_utf8(files["lookups.csv"].clone()).unwrap(),
            "time_ns,node,ok,latency_ms\n5,1,true,1.5\n9,2,false,0.25\n"
        );
        assert_eq!(
            String::from_utf8(files["counters.csv"].clone()).unwrap(),
            "name,value\nsent,5\n"
        );
    }

    #[test]
    fn taken_files_are_the_copied_files_and_leave_the_tables_empty() {
        let mut m = Metrics::new();
        for i in 0..3 {
            m.record(
                "lookups",
                &Row {
                    time_ns: i,
                    node: 7,
                    ok: i % 2 == 0,
                    latency_ms: 0.5,
                },
            );
        }
        m.count("sent", 3);
        let copied = m.to_csv_files().unwrap();
        assert_eq!(m.rows("lookups"), 3);
        let taken: BTreeMap<String, Vec<u8>> = m
            .take_csv_files()
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.bytes().unwrap().into_owned()))
            .collect();
        assert_eq!(taken, copied);
        assert_eq!(m.rows("lookups"), 0);
        assert!(m.to_csv_files().unwrap()["lookups.csv"].is_empty());
    }

    fn rows(m: &mut Metrics, n: u64) {
        rows_from(m, 0, n);
    }

    /// A table that streams its rows to disk gives the bytes it would have
    /// held, whatever the threshold, and holds at most the threshold.
    #[test]
    fn streamed_tables_are_the_tables_kept_in_memory() {
        let mut kept = Metrics::new();
        rows(&mut kept, 5_000);
        let kept = kept.to_csv_files().unwrap();
        let dir = std::env::temp_dir().join(format!("pc-metrics-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for threshold in [1, 100, 4096, 1 << 20] {
            let mut m = Metrics::new();
            rows(&mut m, 10);
            // Turned on after the tables exist, as on before.
            m.stream_rows(RowStream {
                dir: dir.clone(),
                prefix: format!("t{threshold}-"),
                threshold,
            });
            rows_from(&mut m, 10, 5_000);
            assert!(
                m.tables
                    .values()
                    .all(|t| t.writer.get_ref().buf.len() < threshold),
                "a table holds more than its threshold"
            );
            assert_eq!(m.to_csv_files().unwrap(), kept, "threshold {threshold}");
            let taken = m.take_csv_files().unwrap();
            let on_disk = taken
                .values()
                .filter(|f| matches!(f, CsvFile::Disk(_)))
                .count();
            // The threshold of 1 MiB is above both tables: nothing streamed.
            assert_eq!(on_disk, if threshold == 1 << 20 { 0 } else { 2 });
            if let CsvFile::Disk(p) = &taken["lookups.csv"] {
                assert_eq!(p, &dir.join(format!("t{threshold}-lookups.csv")));
            }
            for (name, f) in &taken {
                assert_eq!(f.bytes().unwrap().as_ref(), &kept[name][..], "{name}");
                let mut via_reader = Vec::new();
                f.reader().unwrap().read_to_end(&mut via_reader).unwrap();
                assert_eq!(via_reader, kept[name], "{name}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn rows_from(m: &mut Metrics, from: u64, to: u64) {
        for i in from..to {
            m.record(
                "lookups",
                &Row {
                    time_ns: i * 1_000_003,
                    node: (i % 97) as u32,
                    ok: i % 3 == 0,
                    latency_ms: i as f64 / 7.0,
                },
            );
            m.record("other", &(i, i * i));
        }
    }

    /// Streaming into a folder that cannot be made (under a file) is an
    /// error that names the folder, at the end of the run.
    #[test]
    fn a_stream_that_cannot_be_written_is_an_error_naming_the_folder() {
        let file = std::env::temp_dir().join(format!("pc-metrics-a-file-{}", std::process::id()));
        std::fs::write(&file, b"not a folder").unwrap();
        let mut m = Metrics::new();
        m.stream_rows(RowStream {
            dir: file.join("inner"),
            prefix: String::new(),
            threshold: 10,
        });
        rows(&mut m, 100);
        let e = m.take_csv_files().unwrap_err().to_string();
        std::fs::remove_file(&file).unwrap();
        assert!(e.contains("pc-metrics-a-file"), "{e}");
    }

    #[test]
    fn unserialisable_rows_are_an_error_at_write_time() {
        #[derive(Serialize)]
        struct Nested {
            inner: BTreeMap<u32, u32>,
        }
        let mut m = Metrics::new();
        m.record(
            "bad",
            &Nested {
                inner: BTreeMap::from([(1, 2)]),
            },
        );
        let e = m.to_csv_files().unwrap_err();
        assert!(e.to_string().contains("\"bad\""), "{e}");
    }
}
