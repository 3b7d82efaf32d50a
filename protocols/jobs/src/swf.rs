//! # Standard Workload Format (SWF) replay
//!
//! The Parallel Workloads Archive (Feitelson et al.,
//! <https://www.cs.huji.ac.il/labs/parallel/workload/>) keeps the job logs
//! of real parallel machines in the Standard Workload Format, version 2.2
//! (<https://www.cs.huji.ac.il/labs/parallel/workload/swf.html>). This
//! module reads such a file ([`parse`]) and turns its jobs into [`Job`]s
//! submitted by the clients of an experiment ([`Swf::replay`],
//! [`Replay::workload`]).
//!
//! # The format
//! An ASCII file, one job per line. Lines starting with `;` are comments;
//! those of the form `; Key: value` (a key without blanks) make the header
//! ([`Swf::header`]: `; MaxNodes: 128`, `; UnixStartTime: 1041379200`, …;
//! a key given more than once, like `Note`, keeps every value in order).
//! Blank lines are skipped. Every other line is a job of exactly 18
//! whitespace-separated fields ([`FIELDS`]), -1 meaning unknown:
//!
//! | column | field | unit | read as |
//! | --- | --- | --- | --- |
//! | 1 | job number | | integer, required |
//! | 2 | submit time | s | time, required |
//! | 3 | wait time | s | time |
//! | 4 | run time | s | time |
//! | 5 | allocated processors | | integer |
//! | 6 | average CPU time | s | time |
//! | 7 | used memory | KB per processor | decimal |
//! | 8 | requested processors | | integer |
//! | 9 | requested time | s | time |
//! | 10 | requested memory | KB per processor | decimal |
//! | 11 | status | 1 completed, 0 failed, 5 cancelled, … | integer |
//! | 12 | user id | | integer |
//! | 13 | group id | | integer |
//! | 14 | executable number | | integer |
//! | 15 | queue number | | integer |
//! | 16 | partition number | | integer |
//! | 17 | preceding job number | | integer |
//! | 18 | think time | s | time |
//!
//! Numbers are written in decimal, `123` or `123.25` (the format allows
//! fractional seconds in time fields). Times are kept to the nanosecond
//! (further digits are dropped), without floating point: [`Duration`]s.
//! Integer fields accept a zero fraction (`4.0`). Every value is either
//! -1 or at least 0; any other negative value is an error, as is a
//! required field given as -1.
//!
//! The format sorts lines by submit time; a job submitted before the
//! previous line's job is an error (it is how a file that is not SWF, or
//! two logs pasted together, shows).
//!
//! # Bounds and errors
//! A file of more than [`MAX_LINES`] lines (10⁷; the archive's largest
//! logs have a few million jobs) is refused, as is a value that does not
//! fit (an integer beyond 64 bits, a time beyond 2⁶⁴ ns ≈ 584 years). An
//! error ([`SwfError`]) names the file, the 1-based line number and, for a
//! field, its name and 1-based column, and says what was expected and what
//! was found (at most 60 characters of it). Parsing never panics, whatever
//! the input.
//!
//! # From SWF jobs to [`Job`]s ([`Mapping`])
//! - **Work** is the job's CPU time on the reference machine: run time ×
//!   processors, the processors being the allocated ones, or, when that is
//!   unknown or 0, the requested ones. The logged machine is taken as the
//!   reference (speed 1000, see [`crate::run_time`]); the job becomes one
//!   unit of work, run by one machine (no parallelism within a job).
//! - A job whose run time or processors are unknown cannot be replayed:
//!   with [`Unknown::Skip`] (default) it is left out and counted
//!   ([`Replay::skipped`]); with [`Unknown::Error`] it is an error naming
//!   its line. A run time of 0 (less than half a second, in logs rounded
//!   to seconds) gives zero work and is kept. The status is not used:
//!   failed and cancelled jobs that ran are replayed for the work they did.
//! - **Submission** is the submit time less the first replayed job's, so
//!   the replay starts at 0 ([`Submission::at`]).
//! - **Input and output**: SWF records no data sizes; every job gets the
//!   mapping's [`Mapping::input`] and [`Mapping::output`] bytes (default
//!   0).
//! - **Deadline**: none (SWF's requested time is a limit on the run, not on
//!   the job's completion).
//! - **Id**: the job number. Job numbers must be unique: a repeated one is
//!   an error naming both lines.
//! - **Submitter**, one of [`Mapping::clients`] clients
//!   ([`Submitter`]): by default the user id modulo the number of clients
//!   (a user's jobs all come from one household; a job of unknown user goes
//!   by its job number modulo the clients), or round-robin over the
//!   replayed jobs in file order.

use crate::job::{Command, Job};
use sim_core::rng::NodeRng;
use sim_core::sim::Workload;
use sim_core::{Duration, NodeId, Time};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// The most lines a file may have.
pub const MAX_LINES: usize = 10_000_000;

/// Names of the 18 fields, column 1 first.
pub const FIELDS: [&str; 18] = [
    "job number",
    "submit time",
    "wait time",
    "run time",
    "allocated processors",
    "average CPU time",
    "used memory",
    "requested processors",
    "requested time",
    "requested memory",
    "status",
    "user id",
    "group id",
    "executable number",
    "queue number",
    "partition number",
    "preceding job number",
    "think time",
];

/// Most characters of a bad value repeated in an error.
const ECHO: usize = 60;

/// An error in an SWF file, or in replaying it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {what}")]
pub struct SwfError {
    /// The file, as the caller named it.
    pub file: String,
    /// The line, from 1.
    pub line: usize,
    /// The field's column, from 1, when a field is at fault.
    pub column: Option<usize>,
    /// What is wrong: the field's name and column, what was expected and
    /// what was found.
    pub what: String,
}

/// One job line of an SWF file. Unknown values (-1) are None.
#[derive(Debug, Clone, PartialEq)]
pub struct SwfJob {
    /// The line it was read from (from 1).
    pub line: usize,
    /// Job number.
    pub number: u64,
    /// Submit time, from the log's start.
    pub submit: Duration,
    /// Wait time in the logged machine's queue.
    pub wait: Option<Duration>,
    /// Run time (wall clock).
    pub run: Option<Duration>,
    /// Allocated processors.
    pub allocated: Option<u64>,
    /// Average CPU time per processor.
    pub cpu: Option<Duration>,
    /// Used memory, KB per processor.
    pub memory: Option<f64>,
    /// Requested processors.
    pub requested: Option<u64>,
    /// Requested time.
    pub requested_time: Option<Duration>,
    /// Requested memory, KB per processor.
    pub requested_memory: Option<f64>,
    /// Status: 1 completed, 0 failed, 5 cancelled (other values with
    /// checkpointing or swapping).
    pub status: Option<u64>,
    /// User id.
    pub user: Option<u64>,
    /// Group id.
    pub group: Option<u64>,
    /// Executable (application) number.
    pub executable: Option<u64>,
    /// Queue number.
    pub queue: Option<u64>,
    /// Partition number.
    pub partition: Option<u64>,
    /// Preceding job number.
    pub preceding: Option<u64>,
    /// Think time from the preceding job.
    pub think: Option<Duration>,
}

impl SwfJob {
    /// Processors the job used: allocated, or requested when that is
    /// unknown or 0; None when neither is known and positive.
    pub fn processors(&self) -> Option<u64> {
        self.allocated
            .filter(|&p| p > 0)
            .or(self.requested.filter(|&p| p > 0))
    }
}

/// A parsed SWF file.
#[derive(Debug, Clone, PartialEq)]
pub struct Swf {
    /// The file, as the caller named it (for errors).
    pub file: String,
    /// Header comments `; Key: value`, every value of a key in file order.
    pub header: BTreeMap<String, Vec<String>>,
    /// Jobs in file order.
    pub jobs: Vec<SwfJob>,
}

impl Swf {
    /// The first value of header key `key`.
    pub fn header_value(&self, key: &str) -> Option<&str> {
        self.header
            .get(key)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

/// What happens to a job whose run time or processors are unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unknown {
    /// Leave it out, and count it.
    #[default]
    Skip,
    /// Refuse the file.
    Error,
}

/// Which client submits a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Submitter {
    /// User id modulo the number of clients (unknown user: job number
    /// modulo the number of clients).
    #[default]
    User,
    /// Round-robin over the replayed jobs, in file order.
    RoundRobin,
}

/// How SWF jobs become [`Job`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// Number of clients (at least 1).
    pub clients: u32,
    /// Which client submits a job.
    pub submitter: Submitter,
    /// Input bytes of every job (SWF has none).
    pub input: u64,
    /// Output bytes of every job (SWF has none).
    pub output: u64,
    /// Jobs of unknown run time or processors.
    pub unknown: Unknown,
}

impl Mapping {
    /// A mapping onto `clients` clients (at least 1): by user, no input or
    /// output, unknown jobs skipped.
    pub fn new(clients: u32) -> Mapping {
        Mapping {
            clients: clients.max(1),
            submitter: Submitter::User,
            input: 0,
            output: 0,
            unknown: Unknown::Skip,
        }
    }
}

/// A job to submit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submission {
    /// When, from the replay's start.
    pub at: Duration,
    /// The submitting client's index (below [`Mapping::clients`]).
    pub client: u32,
    /// The job.
    pub job: Job,
}

/// The jobs of a file, ready to submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// In file order (so by submission time).
    pub jobs: Vec<Submission>,
    /// Jobs left out for an unknown run time or processors.
    pub skipped: u64,
}

/// A replay's client index beyond the clients given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a job is submitted by client {client}, but only {clients} clients were given")]
pub struct ClientsError {
    /// The client index.
    pub client: u32,
    /// Clients given.
    pub clients: usize,
}

impl Swf {
    /// The jobs to replay, by `m`.
    pub fn replay(&self, m: &Mapping) -> Result<Replay, SwfError> {
        let clients = u64::from(m.clients.max(1));
        let mut seen: HashMap<u64, usize> = HashMap::with_capacity(self.jobs.len());
        let mut jobs = Vec::with_capacity(self.jobs.len());
        let mut skipped = 0;
        let mut first = None;
        for j in &self.jobs {
            let err = |column: usize, what: String| SwfError {
                file: self.file.clone(),
                line: j.line,
                column: Some(column),
                what: format!("field {column} ({}): {what}", FIELDS[column - 1]),
            };
            if let Some(prev) = seen.insert(j.number, j.line) {
                return Err(err(
                    1,
                    format!("job {} already appears on line {prev}", j.number),
                ));
            }
            let (Some(run), Some(procs)) = (j.run, j.processors()) else {
                if m.unknown == Unknown::Error {
                    let (column, what) = if j.run.is_none() {
                        (4, "is -1 (unknown); expected a run time to replay")
                    } else {
                        (
                            5,
                            "and field 8 (requested processors) are unknown or 0; \
                             expected a number of processors to replay",
                        )
                    };
                    return Err(err(column, what.to_string()));
                }
                skipped += 1;
                continue;
            };
            let work = run.0.checked_mul(procs).ok_or_else(|| {
                err(
                    4,
                    format!(
                        "run time × {procs} processors does not fit in 2^64 ns \
                         (≈ 584 years of CPU)"
                    ),
                )
            })?;
            let first = *first.get_or_insert(j.submit);
            let client = match m.submitter {
                Submitter::User => j.user.unwrap_or(j.number) % clients,
                Submitter::RoundRobin => jobs.len() as u64 % clients,
            };
            jobs.push(Submission {
                at: Duration(j.submit.0.saturating_sub(first.0)),
                client: client as u32,
                job: Job {
                    id: j.number,
                    work: Duration(work),
                    input: m.input,
                    output: m.output,
                    deadline: None,
                },
            });
        }
        Ok(Replay { jobs, skipped })
    }
}

impl Replay {
    /// A workload submitting the jobs from `start`: client index `i` is
    /// node `clients[i]`.
    pub fn workload(
        &self,
        clients: &[NodeId],
        start: Time,
    ) -> Result<ReplayWorkload, ClientsError> {
        let mut queues: BTreeMap<NodeId, VecDeque<(Time, Job)>> = BTreeMap::new();
        for s in &self.jobs {
            let node = *clients.get(s.client as usize).ok_or(ClientsError {
                client: s.client,
                clients: clients.len(),
            })?;
            queues
                .entry(node)
                .or_default()
                .push_back((start.saturating_add(s.at), s.job));
        }
        Ok(ReplayWorkload { queues })
    }
}

/// A replay as a workload ([`Replay::workload`]): each client's jobs at
/// their times. It draws nothing from the clients' streams.
#[derive(Debug, Clone)]
pub struct ReplayWorkload {
    queues: BTreeMap<NodeId, VecDeque<(Time, Job)>>,
}

impl Workload<Command> for ReplayWorkload {
    fn next(
        &mut self,
        client: NodeId,
        now: Time,
        _rng: &mut NodeRng,
    ) -> Option<(Duration, Command)> {
        let (at, job) = self.queues.get_mut(&client)?.pop_front()?;
        Some((at.since(now), Command::Submit(job)))
    }
}

// ------------------------------------------------------------------ parsing

/// A number as written: -1 (unknown), or a value ≥ 0 with up to nine
/// decimals kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Unknown,
    Value { int: u64, nanos: u32 },
}

const NUMBER: &str = "a decimal number ≥ 0 (like 12 or 12.5), or -1 for unknown";

/// Read a number; Err is what was expected.
fn number(s: &str) -> Result<Num, &'static str> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int_part)
        || !frac_part.is_none_or(digits)
        || (int_part.is_empty() && frac_part.is_none_or(str::is_empty))
    {
        return Err(NUMBER);
    }
    let mut int = 0u64;
    for b in int_part.bytes() {
        int = int
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or("a number that fits in 64 bits (at most 18446744073709551615)")?;
    }
    let mut nanos = 0u32;
    let mut scale = 100_000_000u32;
    for b in frac_part.unwrap_or("").bytes().take(9) {
        nanos += u32::from(b - b'0') * scale;
        scale /= 10;
    }
    let frac_zero = frac_part.is_none_or(|f| f.bytes().all(|b| b == b'0'));
    if neg {
        return if int == 1 && frac_zero {
            Ok(Num::Unknown)
        } else {
            Err("-1 (unknown) or a number ≥ 0: no other negative value")
        };
    }
    Ok(Num::Value { int, nanos })
}

/// What a field holds.
#[derive(Clone, Copy)]
enum Kind {
    Integer,
    Time,
    Decimal,
}

/// One field's value, converted.
enum Val {
    Unknown,
    Int(u64),
    Time(Duration),
    Dec(f64),
}

fn convert(n: Num, kind: Kind) -> Result<Val, &'static str> {
    let Num::Value { int, nanos } = n else {
        return Ok(Val::Unknown);
    };
    match kind {
        Kind::Integer if nanos == 0 => Ok(Val::Int(int)),
        Kind::Integer => Err("a whole number (or -1 for unknown)"),
        Kind::Time => int
            .checked_mul(1_000_000_000)
            .and_then(|ns| ns.checked_add(u64::from(nanos)))
            .map(|ns| Val::Time(Duration(ns)))
            .ok_or("a time that fits in 2^64 ns (at most 18446744073 s)"),
        Kind::Decimal => Ok(Val::Dec(int as f64 + f64::from(nanos) / 1e9)),
    }
}

const KINDS: [Kind; 18] = [
    Kind::Integer, // job number
    Kind::Time,    // submit
    Kind::Time,    // wait
    Kind::Time,    // run
    Kind::Integer, // allocated
    Kind::Time,    // average CPU
    Kind::Decimal, // used memory
    Kind::Integer, // requested processors
    Kind::Time,    // requested time
    Kind::Decimal, // requested memory
    Kind::Integer, // status
    Kind::Integer, // user
    Kind::Integer, // group
    Kind::Integer, // executable
    Kind::Integer, // queue
    Kind::Integer, // partition
    Kind::Integer, // preceding job
    Kind::Time,    // think time
];

/// At most `ECHO` characters of `s`, quoted.
fn echo(s: &str) -> String {
    let mut out: String = s.chars().take(ECHO).collect();
    if s.chars().nth(ECHO).is_some() {
        out.push('…');
    }
    format!("{out:?}")
}

/// Parse the text of an SWF file named `file` (the name is only used in
/// errors).
pub fn parse(text: &str, file: &str) -> Result<Swf, SwfError> {
    let mut header: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut jobs: Vec<SwfJob> = Vec::new();
    let fail = |line: usize, column: Option<usize>, what: String| SwfError {
        file: file.to_string(),
        line,
        column,
        what,
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if line > MAX_LINES {
            return Err(fail(
                line,
                None,
                format!("more than {MAX_LINES} lines; split the log into smaller files"),
            ));
        }
        let l = raw.trim();
        if l.is_empty() {
            continue;
        }
        if let Some(c) = l.strip_prefix(';') {
            if let Some((k, v)) = c.split_once(':') {
                let k = k.trim();
                if !k.is_empty() && !k.contains(char::is_whitespace) {
                    header
                        .entry(k.to_string())
                        .or_default()
                        .push(v.trim().to_string());
                }
            }
            continue;
        }
        let mut vals: [Option<Val>; 18] = Default::default();
        let mut n = 0;
        for tok in l.split_whitespace() {
            if n == 18 {
                let found = l.split_whitespace().count();
                return Err(fail(
                    line,
                    None,
                    format!(
                        "expected 18 whitespace-separated fields (an SWF job line), found {found}"
                    ),
                ));
            }
            let field = |what: &str| {
                fail(
                    line,
                    Some(n + 1),
                    format!(
                        "field {} ({}): expected {what}, found {}",
                        n + 1,
                        FIELDS[n],
                        echo(tok)
                    ),
                )
            };
            let v = number(tok)
                .and_then(|x| convert(x, KINDS[n]))
                .map_err(field)?;
            if matches!(v, Val::Unknown) && n < 2 {
                return Err(field("a known value (it may not be -1)"));
            }
            vals[n] = Some(v);
            n += 1;
        }
        if n < 18 {
            return Err(fail(
                line,
                Some(n + 1),
                format!(
                    "expected 18 whitespace-separated fields (an SWF job line), found {n}: \
                     field {} ({}) is missing",
                    n + 1,
                    FIELDS[n]
                ),
            ));
        }
        let [
            number,
            submit,
            wait,
            run,
            allocated,
            cpu,
            memory,
            requested,
            requested_time,
            requested_memory,
            status,
            user,
            group,
            executable,
            queue,
            partition,
            preceding,
            think,
        ] = vals.map(|v| v.unwrap_or(Val::Unknown));
        let int = |v: Val| match v {
            Val::Int(x) => Some(x),
            _ => None,
        };
        let time = |v: Val| match v {
            Val::Time(x) => Some(x),
            _ => None,
        };
        let dec = |v: Val| match v {
            Val::Dec(x) => Some(x),
            _ => None,
        };
        let submit = time(submit).unwrap_or(Duration::ZERO);
        if let Some(prev) = jobs.last()
            && submit < prev.submit
        {
            return Err(fail(
                line,
                Some(2),
                format!(
                    "field 2 (submit time): expected a time at or after the previous job's \
                     ({} s, line {}): SWF lines are sorted by submit time; found {} s",
                    prev.submit.as_secs_f64(),
                    prev.line,
                    submit.as_secs_f64()
                ),
            ));
        }
        jobs.push(SwfJob {
            line,
            number: int(number).unwrap_or(0),
            submit,
            wait: time(wait),
            run: time(run),
            allocated: int(allocated),
            cpu: time(cpu),
            memory: dec(memory),
            requested: int(requested),
            requested_time: time(requested_time),
            requested_memory: dec(requested_memory),
            status: int(status),
            user: int(user),
            group: int(group),
            executable: int(executable),
            queue: int(queue),
            partition: int(partition),
            preceding: int(preceding),
            think: time(think),
        });
    }
    Ok(Swf {
        file: file.to_string(),
        header,
        jobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_exactly() {
        assert_eq!(number("0"), Ok(Num::Value { int: 0, nanos: 0 }));
        assert_eq!(
            number("12.5"),
            Ok(Num::Value {
                int: 12,
                nanos: 500_000_000
            })
        );
        assert_eq!(number(".000000001"), Ok(Num::Value { int: 0, nanos: 1 }));
        assert_eq!(number("7."), Ok(Num::Value { int: 7, nanos: 0 }));
        // Digits beyond the nanosecond are dropped.
        assert_eq!(number("1.0000000019"), Ok(Num::Value { int: 1, nanos: 1 }));
        assert_eq!(number("-1"), Ok(Num::Unknown));
        assert_eq!(number("-1.00"), Ok(Num::Unknown));
        for bad in [
            "-2", "-0.5", "", ".", "-", "1e3", "+1", "1.2.3", "0x10", "١",
        ] {
            assert!(number(bad).is_err(), "{bad:?}");
        }
        assert!(number("18446744073709551615").is_ok());
        assert!(number("18446744073709551616").is_err());
        assert!(matches!(
            convert(number("18446744073").unwrap(), Kind::Time),
            Ok(Val::Time(_))
        ));
        assert!(convert(number("18446744074").unwrap(), Kind::Time).is_err());
        assert!(convert(number("4.5").unwrap(), Kind::Integer).is_err());
        assert!(matches!(
            convert(number("4.0").unwrap(), Kind::Integer),
            Ok(Val::Int(4))
        ));
    }
}
