//! `[churn]`: how peers come and go, and the one model both sides use.
//!
//! Either alternating sessions drawn from two distributions (`up`, `down`)
//! or the exact replay of an availability trace (`trace`): a Failure Trace
//! Archive `event_trace` or a `node,up_at,down_at` CSV, parsed by
//! [`sim_core::churn::Trace`] and replayed by [`TraceReplay`]. The two are
//! exclusive.
//!
//! With `lifetime`, each peer also departs for good after an exponential
//! lifetime of that mean (on a clock of its own, whether up or down), and
//! its disk is lost. In the storage experiment on the synthetic internet a
//! newcomer (a new id, at a new place of the network) joins at once in its
//! place; elsewhere departed peers are not replaced.
//!
//! Both sides get the same model ([`PeerChurn`], the trace shared, not
//! copied): a peer's availability depends only on its id (a session draw
//! from its own stream, or the trace host it is mapped to), so client `i`
//! is up at the same instants on both sides and the comparison stays
//! paired.
//!
//! Mapping (`trace_hosts`): peer `i` follows the trace's `i`-th host (trace
//! hosts are numbered in increasing order of their id), or the `i`-th of
//! the hosts in a random order drawn from the scenario's seed (stream
//! `Custom(3)`): a random choice without replacement. A trace with more
//! hosts than peers uses only the hosts chosen. With fewer hosts than peers
//! (`trace_short`): an error naming the key, the other peers up for the
//! whole run (`stable`), or peer `i` following the `(i mod hosts)`-th host
//! chosen (`wrap`).
//!
//! Time zero of the run (the start of the warm-up) is the trace's time
//! zero: the earliest event of an FTA trace, zero of a CSV. After its last
//! up interval a traced peer stays down, so once the trace ends every
//! traced peer is down for good.
//!
//! Bad traces are errors before anything runs (`validate` reads and checks
//! the file): they name the file, the line, the column and what was
//! expected, under the key `churn.trace`; a file too large, too long or
//! with too many hosts is refused ([`crate::bounds`]).

use crate::bounds::{self, FILE_LEN_MAX, TRACE_BYTES_MAX, TRACE_HOSTS_MAX, TRACE_LINES_MAX, shown};
use crate::experiment::BuildError;
use crate::schema::{ChurnSpec, Scenario, TraceFormat, TraceHosts, TraceShort};
use rand::seq::SliceRandom;
use sim_core::churn::{
    Alternating, ChurnModel, Dist, Mapping, PermanentPolicy, Trace, TraceReplay, Transition,
};
use sim_core::rng::{Purpose, node_rng};
use sim_core::units::{Duration, Time};
use std::sync::Arc;

/// The random stream that orders the trace's hosts for
/// `trace_hosts = "random"` (streams 1 and 2 draw the DHT ids and the
/// bootstrap contacts).
const HOSTS_STREAM: Purpose = Purpose::Custom(3);

fn bad(field: &str, message: impl std::fmt::Display) -> BuildError {
    BuildError {
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// The churn of every peer, on both sides.
#[derive(Debug, Clone)]
pub enum PeerChurn {
    /// Alternating sessions.
    Sessions(Alternating),
    /// A trace replayed exactly.
    Trace(Arc<TraceReplay>),
}

impl ChurnModel for PeerChurn {
    fn initial(
        &self,
        node: u32,
        rng: &mut dyn rand::Rng,
    ) -> (bool, Option<(Duration, Transition)>) {
        match self {
            PeerChurn::Sessions(m) => m.initial(node, rng),
            PeerChurn::Trace(m) => m.initial(node, rng),
        }
    }
    fn next(
        &self,
        node: u32,
        now: Time,
        t: &Transition,
        rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)> {
        match self {
            PeerChurn::Sessions(m) => m.next(node, now, t, rng),
            PeerChurn::Trace(m) => m.next(node, now, t, rng),
        }
    }
    fn join(
        &self,
        node: u32,
        now: Time,
        rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)> {
        match self {
            PeerChurn::Sessions(m) => m.join(node, now, rng),
            PeerChurn::Trace(m) => m.join(node, now, rng),
        }
    }
}

/// `[churn]` ready to run on a network of a given size.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The model both sides use.
    pub model: PeerChurn,
    /// `[churn]` with the settings in effect written out (a trace's
    /// detected format and the defaults of the `trace_*` keys).
    pub resolved: ChurnSpec,
    /// A sentence for the report (empty for sessions).
    pub note: String,
}

/// Check `[churn]`'s keys without reading any file: sessions or a trace,
/// not both, and the session distributions.
pub fn check_keys(c: &ChurnSpec) -> Result<(), BuildError> {
    if let Some(path) = &c.trace {
        for (key, set) in [("up", c.up.is_some()), ("down", c.down.is_some())] {
            if set {
                return Err(bad(
                    "churn.trace",
                    format!(
                        "`churn.trace` and `churn.{key}` are both set; they are exclusive: a trace replaces the up/down sessions (remove `up` and `down`, or `trace`)"
                    ),
                ));
            }
        }
        if c.lifetime.is_some() {
            return Err(bad(
                "churn.lifetime",
                "only used with sessions (`churn.up` and `churn.down`); a trace says when its hosts leave: remove `churn.lifetime` or `churn.trace`",
            ));
        }
        if path.is_empty() {
            return Err(bad(
                "churn.trace",
                "is empty; expected the path of a trace file",
            ));
        }
        if path.len() > FILE_LEN_MAX {
            return Err(bad(
                "churn.trace",
                format!("{}: longer than {FILE_LEN_MAX} bytes", shown(path)),
            ));
        }
        return Ok(());
    }
    for (key, set) in [
        ("trace_format", c.trace_format.is_some()),
        ("trace_hosts", c.trace_hosts.is_some()),
        ("trace_short", c.trace_short.is_some()),
    ] {
        if set {
            return Err(bad(
                &format!("churn.{key}"),
                format!("only used with `churn.trace`; set `churn.trace` or remove `churn.{key}`"),
            ));
        }
    }
    if let Some(l) = c.lifetime
        && l < Duration::from_secs(60)
    {
        return Err(bad(
            "churn.lifetime",
            format!("a mean lifetime of {l}: expected at least 1min"),
        ));
    }
    sessions(c).map(|_| ())
}

/// The up and down distributions of a sessions `[churn]`.
fn sessions(c: &ChurnSpec) -> Result<(Dist, Dist), BuildError> {
    let need = |key: &str, v: &Option<String>| -> Result<Dist, BuildError> {
        let text = v.as_deref().ok_or_else(|| {
            bad(
                &format!("churn.{key}"),
                "required: set `churn.up` and `churn.down` (sessions), or `churn.trace` (a trace to replay)",
            )
        })?;
        text.parse().map_err(|e| bad(&format!("churn.{key}"), e))
    };
    Ok((need("up", &c.up)?, need("down", &c.down)?))
}

/// Everything `[churn]` needs on a network of `peers` peers: the session
/// bounds, or the trace read, checked and mapped. `None` without `[churn]`.
pub fn prepare(s: &Scenario, peers: u32) -> Result<Option<Prepared>, BuildError> {
    let Some(c) = &s.churn else {
        return Ok(None);
    };
    check_keys(c)?;
    let Some(path) = &c.trace else {
        let (up, down) = sessions(c)?;
        bounds::check_churn(s, up.mean(), down.mean(), peers)?;
        let mut model = Alternating::new(up, down);
        if let Some(l) = c.lifetime {
            let p = PermanentPolicy::departure_rate(l).map_err(|e| bad("churn.lifetime", e))?;
            model = model.with_permanent(p);
        }
        return Ok(Some(Prepared {
            model: PeerChurn::Sessions(model),
            resolved: c.clone(),
            note: String::new(),
        }));
    };
    let (trace, format) = load(path, c.trace_format.unwrap_or_default())?;
    let hosts_choice = c.trace_hosts.unwrap_or_default();
    let short = c.trace_short.unwrap_or_default();
    let hosts = trace.len();
    let peers_n = peers as usize;
    let name = crate::experiment::clip_path(path);
    if hosts < peers_n && short == TraceShort::Error {
        return Err(bad(
            "churn.trace_short",
            format!(
                "{name} has {hosts} host{} but the network has {peers} peers; set `churn.trace_short` to \"stable\" (the other peers never fail) or \"wrap\" (hosts reused in turn), or use a trace with at least {peers} hosts",
                if hosts == 1 { "" } else { "s" }
            ),
        ));
    }
    let end = Time(s.scenario.warmup.0.saturating_add(s.scenario.duration.0));
    check_transitions(&trace, end, peers_n, short)?;
    let mut order: Vec<usize> = (0..hosts).collect();
    if hosts_choice == TraceHosts::Random {
        let mut rng = node_rng(s.scenario.seed, HOSTS_STREAM, 0, 0);
        order.shuffle(&mut rng);
    }
    let mapping = if hosts >= peers_n {
        order.truncate(peers_n);
        Mapping::Explicit(order)
    } else {
        match short {
            TraceShort::Stable => Mapping::ExplicitOrUp(order),
            _ => Mapping::Explicit((0..peers_n).map(|i| order[i % hosts]).collect()),
        }
    };
    let trace_end = trace.end();
    let used = hosts.min(peers_n);
    let who = match (hosts_choice, hosts < peers_n, short) {
        (TraceHosts::First, false, _) => {
            format!("peer i follows the trace's host i (the first {used} of {hosts} hosts)")
        }
        (TraceHosts::Random, false, _) => {
            format!("the peers follow {used} of its {hosts} hosts drawn with the seed")
        }
        (_, true, TraceShort::Stable) => format!(
            "{used} peers follow its {hosts} hosts, the other {} never fail",
            peers_n - used
        ),
        (_, true, _) => format!("the {peers} peers follow its {hosts} hosts in turn (`wrap`)"),
    };
    let after = if trace_end < end {
        format!(
            "; the trace ends at {}, {} before the run's end, after which every traced peer is down",
            Duration(trace_end.0),
            end.since(trace_end)
        )
    } else {
        String::new()
    };
    let note = format!(
        "Churn replays the trace {name} ({}; {who}; same mapping on both sides{after}).",
        match format {
            TraceFormat::Csv => "CSV",
            _ => "FTA event_trace",
        }
    );
    let resolved = ChurnSpec {
        trace_format: Some(format),
        trace_hosts: Some(hosts_choice),
        trace_short: Some(short),
        ..c.clone()
    };
    Ok(Some(Prepared {
        model: PeerChurn::Trace(Arc::new(TraceReplay::new(trace, mapping))),
        resolved,
        note,
    }))
}

/// The number of transitions the trace can make before `end`: at most two
/// per up interval that starts before it, for every host (times the
/// number of times a host is reused with `wrap`).
fn check_transitions(
    trace: &Trace,
    end: Time,
    peers: usize,
    short: TraceShort,
) -> Result<(), BuildError> {
    let starts: u64 = trace
        .nodes
        .iter()
        .map(|n| n.up.partition_point(|iv| iv.start < end) as u64)
        .sum();
    let reuse = match short {
        TraceShort::Wrap => peers.div_ceil(trace.len().max(1)) as u64,
        _ => 1,
    };
    let n = starts.saturating_mul(2).saturating_mul(reuse);
    if n > bounds::CHURN_EVENTS_MAX {
        return Err(bad(
            "churn.trace",
            format!(
                "the trace's {} hosts make up to {n} transitions before {} (each host reused up to {reuse} times); at most {} are allowed",
                trace.len(),
                Duration(end.0),
                bounds::CHURN_EVENTS_MAX
            ),
        ));
    }
    Ok(())
}

/// Read and parse a trace file under the bounds; returns the trace and its
/// format (never `Auto`).
pub fn load(path: &str, format: TraceFormat) -> Result<(Trace, TraceFormat), BuildError> {
    let name = crate::experiment::clip_path(path);
    let key = |m: String| bad("churn.trace", m);
    let meta = std::fs::metadata(path).map_err(|e| key(format!("{name}: cannot read: {e}")))?;
    if meta.is_dir() {
        return Err(key(format!("{name}: is a folder; expected a trace file")));
    }
    if meta.len() > TRACE_BYTES_MAX {
        return Err(key(format!(
            "{name}: {} bytes, more than {TRACE_BYTES_MAX} (256 MiB)",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| key(format!("{name}: cannot read: {e}")))?;
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    if lines > TRACE_LINES_MAX {
        return Err(key(format!(
            "{name}: {lines} lines, more than {TRACE_LINES_MAX}"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        key(format!(
            "{name}:{line}: not UTF-8 text; expected a text file (an FTA event_trace or a CSV)"
        ))
    })?;
    let format = match format {
        TraceFormat::Auto => detect(&text, &name)?,
        f => f,
    };
    let trace = match format {
        TraceFormat::Csv => Trace::parse_csv(&text, &name),
        _ => Trace::parse_fta(&text, &name),
    }
    .map_err(|e| key(e.to_string()))?;
    if trace.len() > TRACE_HOSTS_MAX {
        return Err(key(format!(
            "{name}: {} hosts, more than {TRACE_HOSTS_MAX}",
            trace.len()
        )));
    }
    Ok((trace, format))
}

/// The format of a trace, from its first line that is neither blank nor a
/// `#` comment: a tab means FTA, else a comma CSV, else five or more
/// fields separated by spaces (or a first field `event_id`) FTA.
fn detect(text: &str, name: &str) -> Result<TraceFormat, BuildError> {
    let mut last = 0;
    for (i, raw) in text.lines().enumerate() {
        last = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if l.contains('\t') {
            return Ok(TraceFormat::Fta);
        }
        if l.contains(',') {
            return Ok(TraceFormat::Csv);
        }
        let fields: Vec<&str> = l.split_whitespace().collect();
        if fields.len() >= 5 || fields[0].eq_ignore_ascii_case("event_id") {
            return Ok(TraceFormat::Fta);
        }
        return Err(bad(
            "churn.trace",
            format!(
                "{name}:{}: cannot tell the trace's format from this line ({}); expected the CSV header `node,up_at,down_at` or an FTA event_trace line (fields separated by tabs); or set `churn.trace_format` to \"fta\" or \"csv\"",
                i + 1,
                shown(l)
            ),
        ));
    }
    Err(bad(
        "churn.trace",
        format!(
            "{name}:{last}: the file holds no events; expected at least one (a CSV with the header `node,up_at,down_at`, or an FTA event_trace)"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Origin, Override, load};

    /// A scenario of `peers` internet peers replaying a CSV trace of
    /// `hosts` synthetic hosts (host `h` up from `h` s to `h + 1` s), with
    /// `sets` applied.
    fn prepared(hosts: u32, peers: u32, sets: &[&str]) -> Result<Prepared, BuildError> {
        let mut text = String::from("# synthetic\nnode,up_at,down_at\n");
        for h in 0..hosts {
            text += &format!("{},{h},{}\n", 100 + h, h + 1);
        }
        prepared_text(&format!("synthetic-{hosts}.csv"), &text, peers, sets)
    }

    /// A scenario of `peers` internet peers replaying the trace `text`.
    fn prepared_text(
        name: &str,
        text: &str,
        peers: u32,
        sets: &[&str],
    ) -> Result<Prepared, BuildError> {
        let dir = std::env::temp_dir().join(format!("pc-churn-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let toml = format!(
            "[scenario]\nname = \"t\"\nduration = \"1min\"\n[topology]\nkind = \"internet\"\nnodes = {peers}\n[churn]\ntrace = {:?}\n[workload]\nclients = 1\nmean_gap = \"1s\"\n",
            file.display().to_string()
        );
        let sets: Vec<Override> = sets.iter().map(|s| s.parse().unwrap()).collect();
        let s: Scenario = load(&toml, &Origin::File("t.toml".into()), &sets).unwrap();
        let p = prepare(&s, peers).map(Option::unwrap);
        let _ = std::fs::remove_file(&file);
        p
    }

    /// The trace host (its index) each peer follows, `None` for a peer up
    /// for good.
    fn hosts_of(p: &Prepared, peers: u32) -> Vec<Option<u64>> {
        let PeerChurn::Trace(r) = &p.model else {
            panic!("not a trace")
        };
        (0..peers)
            .map(|i| {
                let ivs = r.intervals(i);
                assert_eq!(ivs.len(), 1, "peer {i}");
                (ivs[0].end != Time::MAX).then(|| ivs[0].start.as_nanos() / 1_000_000_000)
            })
            .collect()
    }

    #[test]
    fn peers_map_onto_hosts_as_the_keys_say() {
        let first = prepared(6, 4, &[]).unwrap();
        assert_eq!(hosts_of(&first, 4), [Some(0), Some(1), Some(2), Some(3)]);
        assert_eq!(first.resolved.trace_format, Some(TraceFormat::Csv));
        assert_eq!(first.resolved.trace_hosts, Some(TraceHosts::First));
        assert_eq!(first.resolved.trace_short, Some(TraceShort::Error));
        // Random: distinct hosts, the same for a seed, not always the first.
        let mut differs = false;
        for seed in 1..=5 {
            let seed_set = format!("scenario.seed={seed}");
            let sets = ["churn.trace_hosts=random", seed_set.as_str()];
            let a = hosts_of(&prepared(6, 4, &sets).unwrap(), 4);
            assert_eq!(a, hosts_of(&prepared(6, 4, &sets).unwrap(), 4));
            let mut distinct = a.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), 4, "{a:?}");
            differs |= a != hosts_of(&first, 4);
        }
        assert!(differs, "random chose the first hosts for every seed");
        // Fewer hosts than peers.
        let e = prepared(2, 4, &[]).unwrap_err();
        assert_eq!(e.field, "churn.trace_short");
        assert!(
            e.message.contains("2 hosts") && e.message.contains("4 peers"),
            "{}",
            e.message
        );
        let stable = prepared(2, 4, &["churn.trace_short=stable"]).unwrap();
        assert_eq!(hosts_of(&stable, 4), [Some(0), Some(1), None, None]);
        let wrap = prepared(2, 5, &["churn.trace_short=wrap"]).unwrap();
        assert_eq!(
            hosts_of(&wrap, 5),
            [Some(0), Some(1), Some(0), Some(1), Some(0)]
        );
        let wrap = prepared(
            3,
            7,
            &["churn.trace_short=wrap", "churn.trace_hosts=random"],
        )
        .unwrap();
        let got = hosts_of(&wrap, 7);
        for i in 3..7 {
            assert_eq!(got[i], got[i - 3], "{got:?}");
        }
    }

    #[test]
    fn the_transitions_of_a_wrapped_trace_are_bounded() {
        // One host up for 1 s in every 2 s: 2 transitions per interval and
        // per peer following it.
        let mut text = String::from("# synthetic\nnode,up_at,down_at\n");
        for i in 0..1_000 {
            text += &format!("0,{},{}\n", 2 * i, 2 * i + 1);
        }
        let sets = ["churn.trace_short=wrap", "scenario.duration=\"1h\""];
        prepared_text("one-host.csv", &text, 40_000, &sets).unwrap();
        let e = prepared_text("one-host.csv", &text, 60_000, &sets)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.field, "churn.trace");
        assert!(
            e.message.contains("120000000 transitions") && e.message.contains("60000 times"),
            "{}",
            e.message
        );
        // Without `wrap` a trace within the line bound is within it too.
        let e = prepared_text("one-host.csv", &text, 60_000, &[])
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.field, "churn.trace_short");
    }

    #[test]
    fn the_format_is_told_from_the_first_line() {
        let d = |t: &str| detect(t, "t").map_err(|e| e.message);
        assert_eq!(d("# c\n\nnode,up_at,down_at\n"), Ok(TraceFormat::Csv));
        assert_eq!(d("0,0,1h\n"), Ok(TraceFormat::Csv));
        assert_eq!(d("event_id\tcomponent_id\n"), Ok(TraceFormat::Fta));
        assert_eq!(d("1 0 7 1 h 1 100 200\n"), Ok(TraceFormat::Fta));
        assert_eq!(d("event_id node_id\n"), Ok(TraceFormat::Fta));
        let e = d("#c\nhello world\n").unwrap_err();
        assert!(
            e.contains("t:2:") && e.contains("\"hello world\"") && e.contains("churn.trace_format"),
            "{e}"
        );
        let e = d("# nothing\n\n").unwrap_err();
        assert!(e.contains("t:2:") && e.contains("no events"), "{e}");
        assert!(d("").unwrap_err().contains("t:0:"));
    }
}
