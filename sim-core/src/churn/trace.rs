//! Replay of measured availability traces.
//!
//! Two input formats:
//!
//! - **Failure Trace Archive `event_trace`** ([`Trace::parse_fta`]):
//!   tab-separated `event_id component_id node_id platform_id node_name
//!   event_type event_start_time event_stop_time event_end_reason`; times in
//!   Unix seconds (a decimal fraction is allowed and kept to the nanosecond;
//!   an exponent form such as `1.2e9` is read as a float); `event_type` 1 =
//!   available, 0 = unavailable. Blank lines, lines starting with `#` and a
//!   header line whose first field is `event_id` are skipped. The trailing
//!   `event_end_reason` may be missing (8 fields). A line without any tab is
//!   split on runs of whitespace instead. Nodes are identified by the
//!   integer `node_id`; times are shifted so that the earliest event (of
//!   either type) is time zero. Unavailable events and gaps between events
//!   both count as down.
//! - **CSV** ([`Trace::parse_csv`]): a header `node,up_at,down_at` (required,
//!   in that order), then one up interval per line. `node` is a
//!   non-negative integer; times are either bare numbers of seconds
//!   (decimals allowed) or durations with a unit (`90s`, `1.5h`, `2d`), and
//!   are offsets from the start of the simulation (not shifted), so a CSV
//!   can say "node 3 comes up after an hour".
//!
//! In both formats the intervals of a node must not overlap (touching is
//! fine: back-to-back up intervals are merged into one), an end before its
//! start is an error, and a zero-length interval is dropped. Trace nodes
//! are numbered `0..n` in increasing order of their id.
//!
//! [`TraceReplay`] replays a trace exactly, without randomness: by default
//! simulated node `i` follows trace node `i % n` ([`Mapping::Modulo`]), or
//! an explicit list ([`Mapping::Explicit`]: nodes without a trace node are
//! never up; [`Mapping::ExplicitOrUp`]: they are up for good). After its
//! last interval a node stays down for good.
//!
//! Bad input never panics: every error names the file, the line, the field
//! (column name) and what was expected.

use super::{ChurnModel, Transition};
use crate::units::{Duration, Time};
use std::collections::BTreeMap;
use std::path::Path;

const NS_PER_S: u64 = 1_000_000_000;
const FTA_COLUMNS: [&str; 9] = [
    "event_id",
    "component_id",
    "node_id",
    "platform_id",
    "node_name",
    "event_type",
    "event_start_time",
    "event_stop_time",
    "event_end_reason",
];
const CSV_COLUMNS: [&str; 3] = ["node", "up_at", "down_at"];

/// A trace file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// File name.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line has the wrong number of fields.
    #[error(
        "{file}:{line}: field `{field}`: expected {expected} fields ({columns}), found {found}"
    )]
    FieldCount {
        /// File name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The first missing or the first surplus column.
        field: String,
        /// Number of fields expected (for FTA: 8 or 9).
        expected: &'static str,
        /// The column names expected.
        columns: String,
        /// Number of fields found.
        found: usize,
    },
    /// A field has a value that is not valid.
    #[error("{file}:{line}: field `{field}`: invalid value {}; expected {expected}", clip(.value))]
    Field {
        /// File name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// Column name.
        field: &'static str,
        /// The text found.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
    /// Two intervals of the same node overlap.
    #[error(
        "{file}:{line}: field `{field}`: interval of node {node} overlaps the one on line {other_line}; expected non-overlapping intervals per node"
    )]
    Overlap {
        /// File name.
        file: String,
        /// 1-based line of the later-starting interval.
        line: usize,
        /// Column name of the start time.
        field: &'static str,
        /// Node id in the trace.
        node: u64,
        /// 1-based line of the interval it overlaps.
        other_line: usize,
    },
    /// The file holds no event at all.
    #[error("{file}:{line}: field `{field}`: the file holds no events; expected at least one")]
    Empty {
        /// File name.
        file: String,
        /// Number of lines read (0 for an empty file).
        line: usize,
        /// The column that has no values.
        field: &'static str,
    },
}

/// A value as shown in an error: quoted, and cut to its first 60 characters
/// so that a huge field is never echoed in full.
fn clip(value: &str) -> String {
    const SHOWN_MAX: usize = 60;
    match value.char_indices().nth(SHOWN_MAX) {
        None => format!("{value:?}"),
        Some((at, _)) => format!("{:?}… ({} bytes in all)", &value[..at], value.len()),
    }
}

/// One up interval `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval {
    /// When the node comes up.
    pub start: Time,
    /// When it goes down.
    pub end: Time,
}

/// The up intervals of one trace node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceNode {
    /// The node's id in the file.
    pub id: u64,
    /// Sorted, disjoint, non-touching up intervals.
    pub up: Vec<Interval>,
}

/// A parsed availability trace: nodes in increasing id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Trace nodes, indexed `0..n`.
    pub nodes: Vec<TraceNode>,
    /// For FTA traces the Unix time (ns) of the earliest event, which became
    /// time zero; 0 for CSV traces.
    pub origin_unix_ns: u64,
}

struct RawEvent {
    node: u64,
    up: bool,
    start: u64,
    end: u64,
    line: usize,
}

impl Trace {
    /// Reads an FTA `event_trace` file.
    pub fn load_fta(path: &Path) -> Result<Trace, TraceError> {
        let text = read(path)?;
        Trace::parse_fta(&text, &path.display().to_string())
    }

    /// Reads a `node,up_at,down_at` CSV file.
    pub fn load_csv(path: &Path) -> Result<Trace, TraceError> {
        let text = read(path)?;
        Trace::parse_csv(&text, &path.display().to_string())
    }

    /// Parses FTA `event_trace` text; `file` names it in errors.
    pub fn parse_fta(text: &str, file: &str) -> Result<Trace, TraceError> {
        let mut events = Vec::new();
        let mut lines = 0;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            lines = line;
            let l = raw.trim_end_matches('\r');
            if l.trim().is_empty() || l.trim_start().starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = if l.contains('\t') {
                l.split('\t').map(str::trim).collect()
            } else {
                l.split_whitespace().collect()
            };
            if fields[0].eq_ignore_ascii_case("event_id") {
                continue;
            }
            if fields.len() != 8 && fields.len() != 9 {
                let field = FTA_COLUMNS
                    .get(fields.len())
                    .copied()
                    .unwrap_or("(extra field)")
                    .to_string();
                return Err(TraceError::FieldCount {
                    file: file.into(),
                    line,
                    field,
                    expected: "8 or 9",
                    columns: FTA_COLUMNS.join(" "),
                    found: fields.len(),
                });
            }
            let f = |field: &'static str, value: &str, expected: &str| TraceError::Field {
                file: file.into(),
                line,
                field,
                value: value.into(),
                expected: expected.into(),
            };
            let node = fields[2]
                .parse::<u64>()
                .map_err(|_| f("node_id", fields[2], "a non-negative integer"))?;
            let up = match fields[5] {
                "1" => true,
                "0" => false,
                other => return Err(f("event_type", other, "1 (available) or 0 (unavailable)")),
            };
            const SECS: &str =
                "Unix seconds: a non-negative number such as 1104537600 or 1104537600.25";
            let start =
                parse_unix_secs(fields[6]).ok_or_else(|| f("event_start_time", fields[6], SECS))?;
            let end =
                parse_unix_secs(fields[7]).ok_or_else(|| f("event_stop_time", fields[7], SECS))?;
            if end < start {
                return Err(f(
                    "event_stop_time",
                    fields[7],
                    &format!("a time not before event_start_time ({})", fields[6]),
                ));
            }
            events.push(RawEvent {
                node,
                up,
                start,
                end,
                line,
            });
        }
        let origin = events
            .iter()
            .map(|e| e.start)
            .min()
            .ok_or(TraceError::Empty {
                file: file.into(),
                line: lines,
                field: "event_start_time",
            })?;
        let nodes = build(events, origin, file, "event_start_time")?;
        Ok(Trace {
            nodes,
            origin_unix_ns: origin,
        })
    }

    /// Parses `node,up_at,down_at` CSV text; `file` names it in errors.
    pub fn parse_csv(text: &str, file: &str) -> Result<Trace, TraceError> {
        let mut events = Vec::new();
        let mut header_seen = false;
        let mut lines = 0;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            lines = line;
            let l = raw.trim_end_matches('\r').trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = l.split(',').map(str::trim).collect();
            if !header_seen {
                let ok = fields.len() == 3
                    && fields
                        .iter()
                        .zip(CSV_COLUMNS)
                        .all(|(a, b)| a.eq_ignore_ascii_case(b));
                if !ok {
                    return Err(TraceError::Field {
                        file: file.into(),
                        line,
                        field: "node",
                        value: l.into(),
                        expected: "the header line `node,up_at,down_at`".into(),
                    });
                }
                header_seen = true;
                continue;
            }
            if fields.len() != 3 {
                let field = CSV_COLUMNS
                    .get(fields.len())
                    .copied()
                    .unwrap_or("(extra field)")
                    .to_string();
                return Err(TraceError::FieldCount {
                    file: file.into(),
                    line,
                    field,
                    expected: "3",
                    columns: CSV_COLUMNS.join(","),
                    found: fields.len(),
                });
            }
            let f = |field: &'static str, value: &str, expected: &str| TraceError::Field {
                file: file.into(),
                line,
                field,
                value: value.into(),
                expected: expected.into(),
            };
            let node = fields[0]
                .parse::<u64>()
                .map_err(|_| f("node", fields[0], "a non-negative integer"))?;
            const T: &str = "seconds (e.g. 3600 or 0.5) or a duration with a unit (e.g. 1h, 90min)";
            let start = parse_offset(fields[1]).ok_or_else(|| f("up_at", fields[1], T))?;
            let end = parse_offset(fields[2]).ok_or_else(|| f("down_at", fields[2], T))?;
            if end < start {
                return Err(f(
                    "down_at",
                    fields[2],
                    &format!("a time not before up_at ({})", fields[1]),
                ));
            }
            events.push(RawEvent {
                node,
                up: true,
                start,
                end,
                line,
            });
        }
        if events.is_empty() {
            return Err(TraceError::Empty {
                file: file.into(),
                line: lines,
                field: "up_at",
            });
        }
        let nodes = build(events, 0, file, "up_at")?;
        Ok(Trace {
            nodes,
            origin_unix_ns: 0,
        })
    }

    /// Number of trace nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the trace has no nodes (never true for a parsed trace).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The end of the last up interval.
    pub fn end(&self) -> Time {
        self.nodes
            .iter()
            .filter_map(|n| n.up.last().map(|iv| iv.end))
            .max()
            .unwrap_or(Time::ZERO)
    }
}

fn read(path: &Path) -> Result<String, TraceError> {
    std::fs::read_to_string(path).map_err(|source| TraceError::Io {
        file: path.display().to_string(),
        source,
    })
}

/// Groups events by node, checks overlaps, keeps up intervals (shifted by
/// `origin`), merges touching ones and drops empty ones.
fn build(
    events: Vec<RawEvent>,
    origin: u64,
    file: &str,
    start_field: &'static str,
) -> Result<Vec<TraceNode>, TraceError> {
    let mut by_node: BTreeMap<u64, Vec<RawEvent>> = BTreeMap::new();
    for e in events {
        by_node.entry(e.node).or_default().push(e);
    }
    let mut nodes = Vec::with_capacity(by_node.len());
    for (id, mut evs) in by_node {
        evs.sort_by_key(|e| (e.start, e.end, e.line));
        for w in evs.windows(2) {
            if w[1].start < w[0].end {
                return Err(TraceError::Overlap {
                    file: file.into(),
                    line: w[0].line.max(w[1].line),
                    field: start_field,
                    node: id,
                    other_line: w[0].line.min(w[1].line),
                });
            }
        }
        let mut up: Vec<Interval> = Vec::new();
        for e in evs.iter().filter(|e| e.up && e.end > e.start) {
            let iv = Interval {
                start: Time(e.start - origin),
                end: Time(e.end - origin),
            };
            match up.last_mut() {
                Some(last) if last.end == iv.start => last.end = iv.end,
                _ => up.push(iv),
            }
        }
        nodes.push(TraceNode { id, up });
    }
    Ok(nodes)
}

/// Unix seconds as a decimal (kept exactly to the nanosecond, further
/// digits truncated) or in exponent form (read as a float).
fn parse_unix_secs(s: &str) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !int.is_empty() && digits(int) && digits(frac) {
        let whole = int.parse::<u64>().ok()?.checked_mul(NS_PER_S)?;
        let mut ns = 0u64;
        for (i, b) in frac.bytes().take(9).enumerate() {
            ns += u64::from(b - b'0') * 10u64.pow(8 - i as u32);
        }
        return whole.checked_add(ns);
    }
    let v: f64 = s.parse().ok()?;
    if !(0.0..1.8e10).contains(&v) {
        return None;
    }
    Some(Duration::from_secs_f64(v).as_nanos())
}

/// Seconds (bare number) or a unit string, as nanoseconds.
fn parse_offset(s: &str) -> Option<u64> {
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if frac.len() > 9 || frac.contains('.') {
            return None;
        }
        let whole = if int.is_empty() {
            0
        } else {
            int.parse::<u64>().ok()?
        };
        let mut ns = 0u64;
        for (i, b) in frac.bytes().enumerate() {
            ns += u64::from(b - b'0') * 10u64.pow(8 - i as u32);
        }
        return whole.checked_mul(NS_PER_S)?.checked_add(ns);
    }
    s.parse::<Duration>().ok().map(Duration::as_nanos)
}

/// How simulated nodes map onto trace nodes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mapping {
    /// Simulated node `i` follows trace node `i % n`.
    #[default]
    Modulo,
    /// Simulated node `i` follows trace node `map[i]`; nodes beyond the list,
    /// or mapped past the trace, are never up.
    Explicit(Vec<usize>),
    /// Simulated node `i` follows trace node `map[i]`; nodes beyond the list,
    /// or mapped past the trace, are up from time zero and never fail (a
    /// trace that covers only some of the nodes, the others stable).
    ExplicitOrUp(Vec<usize>),
}

/// What a node without a trace node follows under
/// [`Mapping::ExplicitOrUp`]: one interval that never ends.
static ALWAYS_UP: [Interval; 1] = [Interval {
    start: Time::ZERO,
    end: Time::MAX,
}];

/// Exact, deterministic replay of a [`Trace`] (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceReplay {
    trace: Trace,
    mapping: Mapping,
}

impl TraceReplay {
    /// Replays `trace` with the given mapping.
    pub fn new(trace: Trace, mapping: Mapping) -> Self {
        TraceReplay { trace, mapping }
    }

    /// The trace.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// The up intervals simulated node `node` follows: its trace node's; for
    /// a node without one, none (never up), or under
    /// [`Mapping::ExplicitOrUp`] the single interval `[0, Time::MAX)` (up
    /// for good: an interval ending at `Time::MAX` never ends).
    pub fn intervals(&self, node: u32) -> &[Interval] {
        let n = self.trace.nodes.len();
        let idx = match &self.mapping {
            Mapping::Modulo if n > 0 => Some(node as usize % n),
            Mapping::Modulo => None,
            Mapping::Explicit(map) | Mapping::ExplicitOrUp(map) => {
                map.get(node as usize).copied().filter(|&i| i < n)
            }
        };
        match (idx, &self.mapping) {
            (Some(i), _) => &self.trace.nodes[i].up,
            (None, Mapping::ExplicitOrUp(_)) => &ALWAYS_UP,
            (None, _) => &[],
        }
    }

    /// The interval `node` is in at `now`, if it is up then.
    fn current(&self, node: u32, now: Time) -> Option<Interval> {
        let ivs = self.intervals(node);
        // Intervals starting at or before `now`.
        let k = ivs.partition_point(|iv| iv.start <= now);
        let iv = ivs.get(k.checked_sub(1)?)?;
        (iv.end > now).then_some(*iv)
    }

    /// Next transition after `now` for a node in state `up`.
    fn next_from(&self, node: u32, now: Time, up: bool) -> Option<(Duration, Transition)> {
        if up {
            let iv = self.current(node, now)?;
            (iv.end < Time::MAX).then(|| (iv.end.since(now), Transition::Down { permanent: false }))
        } else {
            let ivs = self.intervals(node);
            let k = ivs.partition_point(|iv| iv.start <= now);
            ivs.get(k).map(|iv| (iv.start.since(now), Transition::Up))
        }
    }
}

impl ChurnModel for TraceReplay {
    fn initial(
        &self,
        node: u32,
        _rng: &mut dyn rand::Rng,
    ) -> (bool, Option<(Duration, Transition)>) {
        let up = self
            .intervals(node)
            .first()
            .is_some_and(|iv| iv.start == Time::ZERO);
        (up, self.next_from(node, Time::ZERO, up))
    }

    fn next(
        &self,
        node: u32,
        now: Time,
        t: &Transition,
        _rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)> {
        if t.is_permanent() {
            return None;
        }
        self.next_from(node, now, t.is_up())
    }

    /// A node joining at `now` follows the trace from there: if `now` is
    /// inside one of its up intervals it goes down at the interval's end
    /// (never, for a node up for good); otherwise it goes down at once (a
    /// zero delay) and comes up at its next interval.
    fn join(
        &self,
        node: u32,
        now: Time,
        _rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)> {
        match self.current(node, now) {
            Some(_) => self.next_from(node, now, true),
            None => Some((Duration::ZERO, Transition::Down { permanent: false })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::churn::testutil::{node_rng, run_node};

    const S: u64 = 1_000_000_000;
    fn iv(a_ns: u64, b_ns: u64) -> Interval {
        Interval {
            start: Time(a_ns),
            end: Time(b_ns),
        }
    }

    /// Synthetic FTA event trace (three nodes; times from 1_100_000_000).
    const FTA: &str = "# synthetic event_trace for tests\n\
# columns as in the Failure Trace Archive\n\
event_id\tcomponent_id\tnode_id\tplatform_id\tnode_name\tevent_type\tevent_start_time\tevent_stop_time\tevent_end_reason\n\
1\t0\t12\t1\thost-b\t1\t1100000100\t1100000200.5\tNULL\n\
2\t0\t7\t1\thost-a\t1\t1100000000\t1100000050\t\n\
\n\
3\t0\t7\t1\thost-a\t0\t1100000050\t1100000060\t2\r\n\
4\t0\t7\t1\thost-a\t1\t1100000060\t1100000080\t1\n\
5\t0\t7\t1\thost-a\t1\t1100000080\t1100000090.25\t1\n\
6\t0\t100\t1\thost-c\t1\t1100000300\t1100000300\t1\n\
7\t0\t100\t1\thost-c\t1\t1100000400\t1100000500\n\
8\t0\t12\t1\thost-b\t1\t1100000300\t1100000350\t1\n";

    #[test]
    fn churn_trace_fta_parses_to_expected_intervals() {
        let t = Trace::parse_fta(FTA, "synthetic.tab").unwrap();
        assert_eq!(t.origin_unix_ns, 1_100_000_000 * S);
        let ids: Vec<u64> = t.nodes.iter().map(|n| n.id).collect();
        assert_eq!(ids, vec![7, 12, 100]);
        // Node 7: [0, 50) then [60, 80) + [80, 90.25) merged.
        assert_eq!(
            t.nodes[0].up,
            vec![iv(0, 50 * S), iv(60 * S, 90 * S + S / 4)]
        );
        assert_eq!(
            t.nodes[1].up,
            vec![iv(100 * S, 200 * S + S / 2), iv(300 * S, 350 * S)]
        );
        // Node 100: the zero-length event is dropped.
        assert_eq!(t.nodes[2].up, vec![iv(400 * S, 500 * S)]);
        assert_eq!(t.end(), Time(500 * S));
    }

    #[test]
    fn churn_trace_replays_exactly() {
        let t = Trace::parse_fta(FTA, "synthetic.tab").unwrap();
        let replay = TraceReplay::new(t.clone(), Mapping::Modulo);
        let down = Transition::Down { permanent: false };
        // Sim node 0 and 3 follow trace node 0 (id 7), node 4 follows id 12.
        let expected0 = vec![
            (Time(50 * S), down),
            (Time(60 * S), Transition::Up),
            (Time(90 * S + S / 4), down),
        ];
        for node in [0, 3] {
            let h = run_node(&replay, 1, node, Time::MAX);
            assert!(h.initial_up);
            assert_eq!(h.transitions, expected0, "sim node {node}");
        }
        let h = run_node(&replay, 1, 4, Time::MAX);
        assert!(!h.initial_up);
        assert_eq!(
            h.transitions,
            vec![
                (Time(100 * S), Transition::Up),
                (Time(200 * S + S / 2), down),
                (Time(300 * S), Transition::Up),
                (Time(350 * S), down),
            ]
        );
        // Explicit mapping: sim node 0 -> trace node 2; sim node 1 unmapped.
        let replay = TraceReplay::new(t, Mapping::Explicit(vec![2, 9]));
        let h = run_node(&replay, 1, 0, Time::MAX);
        assert_eq!(
            h.transitions,
            vec![(Time(400 * S), Transition::Up), (Time(500 * S), down)]
        );
        let h = run_node(&replay, 1, 1, Time::MAX);
        assert!(!h.initial_up && h.transitions.is_empty());
        // Joining mid-interval goes down at its end; between intervals, at once.
        let mut rng = node_rng(1, 0);
        assert_eq!(
            replay.join(0, Time(450 * S), &mut rng),
            Some((Duration::from_secs(50), down))
        );
        assert_eq!(
            replay.join(0, Time(10 * S), &mut rng),
            Some((Duration::ZERO, down))
        );
        assert_eq!(
            replay.next(0, Time(10 * S), &down, &mut rng),
            Some((Duration::from_secs(390), Transition::Up))
        );
    }

    #[test]
    fn churn_trace_unmapped_nodes_can_stay_up() {
        let t = Trace::parse_fta(FTA, "synthetic.tab").unwrap();
        let down = Transition::Down { permanent: false };
        // Sim node 0 -> trace node 2, node 1 mapped past the trace, node 2
        // beyond the list.
        let replay = TraceReplay::new(t.clone(), Mapping::ExplicitOrUp(vec![2, 9]));
        let h = run_node(&replay, 1, 0, Time::MAX);
        assert!(!h.initial_up);
        assert_eq!(
            h.transitions,
            vec![(Time(400 * S), Transition::Up), (Time(500 * S), down)]
        );
        for node in [1, 2] {
            let h = run_node(&replay, 1, node, Time::MAX);
            assert!(h.initial_up && h.transitions.is_empty(), "node {node}");
            assert_eq!(replay.intervals(node), &[iv(0, u64::MAX)]);
            let mut rng = node_rng(1, node);
            assert_eq!(replay.join(node, Time(450 * S), &mut rng), None);
            assert_eq!(
                replay.next(node, Time(450 * S), &Transition::Up, &mut rng),
                None
            );
        }
        // A mapped node joins as under `Explicit`.
        let mut rng = node_rng(1, 0);
        assert_eq!(
            replay.join(0, Time(450 * S), &mut rng),
            Some((Duration::from_secs(50), down))
        );
        assert_eq!(
            replay.join(0, Time(10 * S), &mut rng),
            Some((Duration::ZERO, down))
        );
        // The same list under `Explicit`: the unmapped nodes are never up.
        let replay = TraceReplay::new(t, Mapping::Explicit(vec![2, 9]));
        for node in [1, 2] {
            let h = run_node(&replay, 1, node, Time::MAX);
            assert!(!h.initial_up && h.transitions.is_empty(), "node {node}");
        }
    }

    #[test]
    fn churn_trace_csv_with_units() {
        let text = "node,up_at,down_at\n3,0,1h\n3,5400,2h\n# comment\n1, 0.5 ,90s\n3,2h,2.5h\n";
        let t = Trace::parse_csv(text, "sessions.csv").unwrap();
        let h = 3_600 * S;
        assert_eq!(t.nodes[0].id, 1);
        assert_eq!(t.nodes[0].up, vec![iv(S / 2, 90 * S)]);
        // [1.5 h, 2 h) and [2 h, 2.5 h) touch and merge.
        assert_eq!(t.nodes[1].up, vec![iv(0, h), iv(h + h / 2, 2 * h + h / 2)]);
    }

    /// Parses `text` and returns the error message; checks it names the
    /// file, the line and the field.
    fn err_of(fta: bool, text: &str, line: usize, field: &str) -> String {
        let file = if fta { "bad.tab" } else { "bad.csv" };
        let r = if fta {
            Trace::parse_fta(text, file)
        } else {
            Trace::parse_csv(text, file)
        };
        let msg = r.unwrap_err().to_string();
        assert!(msg.contains(&format!("{file}:{line}:")), "{msg}");
        assert!(msg.contains(&format!("`{field}`")), "{msg}");
        msg
    }

    #[test]
    fn churn_trace_malformed_fta_errors() {
        let ok = "1\t0\t7\t1\th\t1\t100\t200\t1\n";
        let m = err_of(true, &format!("{ok}2\t0\t7\t1\th\n"), 2, "event_type");
        assert!(m.contains("found 5"), "{m}");
        err_of(
            true,
            &format!("{ok}2\t0\t7\t1\th\t1\t1\t2\t3\t4\n"),
            2,
            "(extra field)",
        );
        let m = err_of(
            true,
            &format!("{ok}2\t0\t7\t1\th\t1\tsoon\t300\t1\n"),
            2,
            "event_start_time",
        );
        assert!(m.contains("\"soon\"") && m.contains("Unix seconds"), "{m}");
        err_of(
            true,
            &format!("{ok}2\t0\t7\t1\th\t1\t300\t-4\t1\n"),
            2,
            "event_stop_time",
        );
        let m = err_of(
            true,
            &format!("{ok}2\t0\t7\t1\th\t1\t300\t250\t1\n"),
            2,
            "event_stop_time",
        );
        assert!(m.contains("not before event_start_time"), "{m}");
        let m = err_of(
            true,
            &format!("{ok}2\t0\t7\t1\th\t2\t300\t400\t1\n"),
            2,
            "event_type",
        );
        assert!(m.contains("1 (available) or 0 (unavailable)"), "{m}");
        err_of(
            true,
            &format!("{ok}2\t0\tx7\t1\th\t1\t300\t400\t1\n"),
            2,
            "node_id",
        );
        let m = err_of(
            true,
            &format!("#c\n{ok}2\t0\t7\t1\th\t0\t150\t400\t1\n"),
            3,
            "event_start_time",
        );
        assert!(
            m.contains("overlaps the one on line 2") && m.contains("node 7"),
            "{m}"
        );
        let m = err_of(true, "# only a comment\n\n", 2, "event_start_time");
        assert!(m.contains("no events"), "{m}");
        err_of(true, "", 0, "event_start_time");
        // Whitespace-separated lines and exponent times are accepted.
        let t = Trace::parse_fta("1 0 7 1 h 1 1.0e2 2e2\n", "spaces.tab").unwrap();
        assert_eq!(t.nodes[0].up, vec![iv(0, 100 * S)]);
    }

    #[test]
    fn churn_trace_malformed_csv_errors() {
        let m = err_of(false, "0,0,1h\n", 1, "node");
        assert!(m.contains("header"), "{m}");
        let h = "node,up_at,down_at\n";
        let m = err_of(false, &format!("{h}0,0\n"), 2, "down_at");
        assert!(m.contains("found 2"), "{m}");
        err_of(false, &format!("{h}0,0,1h,3\n"), 2, "(extra field)");
        err_of(false, &format!("{h}0,later,1h\n"), 2, "up_at");
        err_of(false, &format!("{h}0,0,1 fortnight\n"), 2, "down_at");
        err_of(false, &format!("{h}-1,0,1h\n"), 2, "node");
        let m = err_of(false, &format!("{h}0,2h,1h\n"), 2, "down_at");
        assert!(m.contains("not before up_at"), "{m}");
        let m = err_of(false, &format!("{h}0,0,2h\n0,1h,3h\n"), 3, "up_at");
        assert!(m.contains("line 2"), "{m}");
        let m = err_of(false, h, 1, "up_at");
        assert!(m.contains("no events"), "{m}");
    }

    #[test]
    fn churn_trace_loads_files() {
        let dir = std::env::temp_dir().join(format!("churn-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("synthetic.tab");
        std::fs::write(&p, FTA).unwrap();
        assert_eq!(
            Trace::load_fta(&p).unwrap(),
            Trace::parse_fta(FTA, "x").unwrap()
        );
        let missing = dir.join("missing.csv");
        let m = Trace::load_csv(&missing).unwrap_err().to_string();
        assert!(
            m.contains("missing.csv") && m.contains("cannot read"),
            "{m}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// Checks the invariants of a parsed trace.
    fn well_formed(t: &Trace) -> bool {
        t.nodes.windows(2).all(|w| w[0].id < w[1].id)
            && t.nodes.iter().all(|n| {
                n.up.iter().all(|iv| iv.start < iv.end)
                    && n.up.windows(2).all(|w| w[0].end < w[1].start)
            })
    }

    /// Field values near the valid ones: numbers, decimals, units, signs,
    /// exponents, huge values.
    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,3}",
            "[0-9]{1,21}\\.[0-9]{0,12}",
            "-?[0-9e.]{1,6}",
            "[0-9]{1,4}(h|min|s|ms|d|w|x)",
            "0|1|2",
            Just(String::new()),
            Just("NULL".to_string()),
            Just("18446744073709551615".to_string()),
        ]
    }

    proptest! {
        // A fixed seed keeps the run reproducible; no failure-persistence files.
        #![proptest_config(ProptestConfig {
            cases: 2_000,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_c4a7),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn churn_trace_structured_garbage_never_panics(
            rows in proptest::collection::vec(proptest::collection::vec(token(), 2..11), 0..8),
        ) {
            let fta: Vec<String> = rows.iter().map(|r| r.join("\t")).collect();
            if let Ok(t) = Trace::parse_fta(&fta.join("\n"), "fuzz.tab") {
                prop_assert!(well_formed(&t));
            }
            let csv: Vec<String> = rows.iter().map(|r| r.join(",")).collect();
            if let Ok(t) = Trace::parse_csv(&format!("node,up_at,down_at\n{}", csv.join("\n")), "fuzz.csv") {
                prop_assert!(well_formed(&t));
            }
        }

        #[test]
        fn churn_trace_parsers_never_panic(text in "[0-9\t,. e#hmsx\n\r-]{0,200}") {
            if let Ok(t) = Trace::parse_fta(&text, "fuzz.tab") {
                prop_assert!(well_formed(&t));
            }
            if let Ok(t) = Trace::parse_csv(&format!("node,up_at,down_at\n{text}"), "fuzz.csv") {
                prop_assert!(well_formed(&t));
            }
        }

        #[test]
        fn churn_trace_random_fta_rows_round_trip(
            rows in proptest::collection::vec((0u64..5, 0u64..1_000, 1u64..50, any::<bool>()), 1..40)
        ) {
            // Lay each node's events end to end so they never overlap.
            let mut next_free = [0u64; 5];
            let mut text = String::new();
            let mut expected: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
            for (i, (node, gap, len, up)) in rows.iter().enumerate() {
                let start = next_free[*node as usize] + gap;
                let end = start + len;
                next_free[*node as usize] = end;
                text += &format!("{i}\t0\t{node}\t1\tn{node}\t{}\t{start}\t{end}\t0\n", u8::from(*up));
                let ivs = expected.entry(*node).or_default();
                if *up {
                    match ivs.last_mut() {
                        Some(last) if last.1 == start => last.1 = end,
                        _ => ivs.push((start, end)),
                    }
                }
            }
            let t = Trace::parse_fta(&text, "gen.tab").unwrap();
            prop_assert!(well_formed(&t));
            let origin = t.origin_unix_ns / NS_PER_S;
            let got: BTreeMap<u64, Vec<(u64, u64)>> = t
                .nodes
                .iter()
                .map(|n| {
                    let ivs = n.up.iter().map(|iv| (iv.start.as_nanos() / NS_PER_S + origin, iv.end.as_nanos() / NS_PER_S + origin));
                    (n.id, ivs.collect())
                })
                .collect();
            prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn a_huge_field_is_not_echoed_in_full() {
        let big = "9".repeat(5_000);
        let text = format!("node,up_at,down_at\n1,{big},5\n");
        let e = Trace::parse_csv(&text, "t.csv").unwrap_err().to_string();
        assert!(e.len() < 300, "{} bytes: {}", e.len(), &e[..200]);
        assert!(e.contains("5000 bytes in all"), "{e}");
    }
}
