//! Churn traces from the command line: a trace in either format replays
//! exactly (engine counters and the `nodes_up` series match what the trace
//! prescribes, on both sides), the host mapping keys, and bad traces
//! refused with the file and the line, before anything is written.
//!
//! Every trace here is synthetic, written by the test.

use std::path::{Path, PathBuf};
use std::process::Output;
mod common;
use common::{bin, tmp};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Four peers, all clients, 10 s of warm-up and 1 min of requests: the run
/// ends at 70 s. Availability comes only from `trace.tab`.
const SCENARIO: &str = r#"
[scenario]
name = "traced"
seed = 3
warmup = "10s"
duration = "1min"

[topology]
kind = "internet"
nodes = 4

[churn]
trace = "trace.tab"

[workload]
clients = 4
mean_gap = "5s"

[output]
plots = false
sample_every = "5s"
"#;

/// The run's end, in seconds.
const END_S: u64 = 70;

/// The synthetic trace: (host id, up intervals in seconds). Hosts are
/// numbered by increasing id, so peers 0..4 follow ids 3, 8, 12, 20; id 41
/// is not used (up nearly all the run, it would change every count). No
/// boundary falls on a multiple of 5 s but 0 (the samples), the last
/// interval of a used host ends at 57 s and the trace at 69 s: the run goes
/// on after the trace's end.
const HOSTS: [(u64, &[(u64, u64)]); 5] = [
    (3, &[(0, 12), (23, 37)]),
    (8, &[(7, 18), (31, 44), (52, 57)]),
    (12, &[(2, 33)]),
    (20, &[(14, 27), (48, 53)]),
    (41, &[(1, 69)]),
];
const USED: usize = 4;

/// Unix time of the trace's first event (time zero of the run).
const ORIGIN: u64 = 1_104_537_600;

/// The trace as a CSV (some times with units).
fn csv_trace() -> String {
    let mut t =
        String::from("# synthetic trace for tests: not a measurement\nnode,up_at,down_at\n");
    for (id, ivs) in HOSTS {
        for (i, (a, b)) in ivs.iter().enumerate() {
            if i % 2 == 0 {
                t += &format!("{id},{a},{b}\n");
            } else {
                t += &format!("{id}, {a}s , {b}000ms\n");
            }
        }
    }
    t
}

/// The trace as an FTA `event_trace`: an unavailable event for each gap
/// between two up intervals, and host 12's interval split in two touching
/// events (merged on reading).
fn fta_trace() -> String {
    let mut t = String::from(
        "# synthetic event_trace for tests: not a measurement\n\
         event_id\tcomponent_id\tnode_id\tplatform_id\tnode_name\tevent_type\tevent_start_time\tevent_stop_time\tevent_end_reason\n",
    );
    let mut event = 0;
    let mut line = |t: &mut String, id: u64, up: u8, a: u64, b: u64| {
        event += 1;
        *t += &format!(
            "{event}\t0\t{id}\t1\thost-{id}\t{up}\t{}\t{}\t0\n",
            ORIGIN + a,
            ORIGIN + b
        );
    };
    for (id, ivs) in HOSTS {
        for (i, &(a, b)) in ivs.iter().enumerate() {
            if id == 12 {
                line(&mut t, id, 1, a, 20);
                line(&mut t, id, 1, 20, b);
            } else {
                line(&mut t, id, 1, a, b);
            }
            if let Some(&(next, _)) = ivs.get(i + 1) {
                line(&mut t, id, 0, b, next);
            }
        }
    }
    t
}

/// Starts and stops the trace prescribes for the first `used` hosts before
/// the run's end.
fn prescribed(used: usize) -> (u64, u64) {
    let ivs = HOSTS[..used].iter().flat_map(|(_, ivs)| ivs.iter());
    let starts = ivs.clone().filter(|(a, _)| *a < END_S).count();
    let stops = ivs.filter(|(_, b)| *b < END_S).count();
    (starts as u64, stops as u64)
}

/// Used hosts up at `t` seconds.
fn up_at(t: u64) -> u64 {
    HOSTS[..USED]
        .iter()
        .filter(|(_, ivs)| ivs.iter().any(|&(a, b)| a <= t && t < b))
        .count() as u64
}

fn counter(counters: &str, name: &str) -> u64 {
    counters
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name},")))
        .unwrap_or_else(|| panic!("no {name} in {counters}"))
        .parse()
        .unwrap()
}

/// The only run directory under `out/traced/`.
fn run_dir(out: &Path) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out.join("traced"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().unwrap()
}

/// Run the scenario in `d` (trace path relative to `d`) with `sets`.
fn run(d: &Path, out: &str, sets: &[&str]) -> Output {
    let mut c = bin();
    c.current_dir(d)
        .args(["run", "traced.toml", "--quiet", "--out", out]);
    for s in sets {
        c.args(["--set", s]);
    }
    c.output().unwrap()
}

fn validate(d: &Path, sets: &[&str]) -> Output {
    let mut c = bin();
    c.current_dir(d).args(["validate", "traced.toml"]);
    for s in sets {
        c.args(["--set", s]);
    }
    c.output().unwrap()
}

/// The same trace in either format replays exactly: the P2P side's starts,
/// stops and peers up at every sample are what the trace says for the four
/// hosts used (after the trace's end every peer is down), and the baseline's
/// clients (here every peer) follow the same hosts.
#[test]
fn a_trace_replays_exactly_in_either_format() {
    let d = tmp("exact");
    std::fs::write(d.join("traced.toml"), SCENARIO).unwrap();
    let (starts, stops) = prescribed(USED);
    assert_eq!((starts, stops), (8, 8));
    let mut series = Vec::new();
    for (format, text) in [("fta", fta_trace()), ("csv", csv_trace())] {
        std::fs::write(d.join("trace.tab"), &text).unwrap();
        // validate prints the keys in effect, the format detected.
        let o = validate(&d, &[]);
        assert!(o.status.success(), "{format}: {}", stderr(&o));
        let resolved = String::from_utf8_lossy(&o.stdout).into_owned();
        let churn = format!(
            "[churn]\ntrace = \"trace.tab\"\ntrace_format = \"{format}\"\ntrace_hosts = \"first\"\ntrace_short = \"error\"\n"
        );
        assert!(resolved.contains(&churn), "{format}: {resolved}");
        let out = format!("out-{format}");
        let o = run(&d, &out, &[]);
        assert!(o.status.success(), "{format}: {}", stderr(&o));
        let r = run_dir(&d.join(&out));
        assert!(read(&r.join("scenario.toml")).contains(&churn));
        let p2p = read(&r.join("p2p/counters.csv"));
        assert_eq!(counter(&p2p, "engine.node_starts"), starts, "{format}");
        assert_eq!(counter(&p2p, "engine.node_stops"), stops, "{format}");
        // The baseline: the same four clients, and the site started once.
        let dc = read(&r.join("datacenter/counters.csv"));
        assert_eq!(counter(&dc, "engine.node_starts"), starts + 1, "{format}");
        assert_eq!(counter(&dc, "engine.node_stops"), stops, "{format}");
        let up: Vec<(u64, u64)> = read(&r.join("p2p/timeseries.csv"))
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f.get(1) == Some(&"nodes_up"))
                    .then(|| (f[0].parse().unwrap(), f[2].parse().unwrap()))
            })
            .collect();
        assert_eq!(up.len() as u64, END_S / 5 + 1, "{up:?}");
        // The sample at time zero is taken before the first transitions.
        for &(t_ns, n) in &up[1..] {
            let t = t_ns / 1_000_000_000;
            assert_eq!(n, up_at(t), "{format}: peers up at {t} s");
        }
        assert_eq!(
            up.last().unwrap().1,
            0,
            "a peer is up after the trace's end"
        );
        let report = read(&r.join("report.md"));
        assert!(
            report.contains("replays the trace trace.tab")
                && report.contains("the trace ends at 69s, 1s before the run's end"),
            "{report}"
        );
        series.push(up);
    }
    assert_eq!(series[0], series[1], "the two formats replay differently");
    let _ = std::fs::remove_dir_all(&d);
}

/// `trace_hosts = "random"` is the same for a seed and differs from
/// `first` for some seed; `trace_short` refuses a short trace naming the
/// key, or leaves the other peers up; a sweep point run on its own is the
/// same run.
#[test]
fn the_mapping_keys_choose_the_hosts() {
    let d = tmp("mapping");
    std::fs::write(d.join("traced.toml"), SCENARIO).unwrap();
    std::fs::write(d.join("trace.tab"), csv_trace()).unwrap();
    // The p2p counters and nodes_up series identify the hosts used.
    let fingerprint = |out: &str, sets: &[&str]| {
        let o = run(&d, out, sets);
        assert!(o.status.success(), "{sets:?}: {}", stderr(&o));
        let r = run_dir(&d.join(out));
        let t = read(&r.join("p2p/counters.csv"));
        let s = read(&r.join("p2p/timeseries.csv"));
        let up: Vec<&str> = s.lines().filter(|l| l.contains(",nodes_up,")).collect();
        format!(
            "{} {} {}",
            counter(&t, "engine.node_starts"),
            counter(&t, "engine.node_stops"),
            up.join(" ")
        )
    };
    let first = fingerprint("first", &[]);
    let random = fingerprint("random-a", &["churn.trace_hosts=random"]);
    assert_eq!(
        random,
        fingerprint("random-b", &["churn.trace_hosts=random"])
    );
    let mut differs = random != first;
    for seed in 4..8 {
        let set = format!("scenario.seed={seed}");
        differs |= fingerprint(
            &format!("random-{seed}"),
            &["churn.trace_hosts=random", &set],
        ) != first;
    }
    assert!(differs, "random hosts were the first ones for every seed");
    // Six peers, five hosts.
    let o = validate(&d, &["topology.nodes=6"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("key `churn.trace_short`") && e.contains("5 hosts") && e.contains("6 peers"),
        "{e}"
    );
    let o = run(
        &d,
        "stable",
        &["topology.nodes=6", "churn.trace_short=stable"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let t = read(&run_dir(&d.join("stable")).join("p2p/counters.csv"));
    let (starts, stops) = prescribed(5);
    // The sixth peer starts once and never stops.
    assert_eq!(counter(&t, "engine.node_starts"), starts + 1);
    assert_eq!(counter(&t, "engine.node_stops"), stops);
    let o = run(&d, "wrap", &["topology.nodes=6", "churn.trace_short=wrap"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = read(&run_dir(&d.join("wrap")).join("p2p/counters.csv"));
    // The sixth peer follows the first host again.
    let again = HOSTS[0].1.len() as u64;
    assert_eq!(counter(&t, "engine.node_starts"), starts + again);
    assert_eq!(counter(&t, "engine.node_stops"), stops + again);
    // A sweep over the mapping: each point is the run of the same values.
    let sweep = format!("{SCENARIO}\n[sweep]\n\"churn.trace_hosts\" = [\"first\", \"random\"]\n");
    std::fs::write(d.join("traced.toml"), sweep).unwrap();
    let o = bin()
        .current_dir(&d)
        .args([
            "sweep",
            "traced.toml",
            "--quiet",
            "-j",
            "1",
            "--out",
            "swept",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = bin()
        .current_dir(&d)
        .args([
            "run",
            "traced.toml",
            "--out",
            "swept",
            "--set",
            "churn.trace_hosts=random",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("already complete"), "{said}{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&d);
}

/// Corrupted copies of either trace are refused by `validate` and `run`
/// with exit code 2, the file and the line, under `churn.trace`; `run`
/// writes nothing.
#[test]
fn bad_traces_name_the_file_and_the_line() {
    let d = tmp("bad");
    std::fs::write(d.join("traced.toml"), SCENARIO).unwrap();
    let fta = fta_trace();
    let csv = csv_trace();
    // (name, bytes, line, words).
    let fta_line = |n: usize| fta.lines().nth(n - 1).unwrap().to_string();
    let with_line = |text: &str, n: usize, new: &str| {
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[n - 1] = new.to_string();
        (lines.join("\n") + "\n").into_bytes()
    };
    // Lines of the FTA trace: 1 comment, 2 header, 3-5 host 3, 6-10 host 8,
    // 11-12 host 12, 13-15 host 20, 16 host 41. Of the CSV: 1 comment, 2
    // header, 3-4 host 3, 5-7 host 8, 8 host 12, 9-10 host 20, 11 host 41.
    assert_eq!((fta.lines().count(), csv.lines().count()), (16, 11));
    let cases: Vec<(&str, Vec<u8>, usize, Vec<&str>)> = vec![
        (
            "fta-time.tab",
            with_line(
                &fta,
                5,
                &fta_line(5).replace(&(ORIGIN + 23).to_string(), "soon"),
            ),
            5,
            vec!["event_start_time", "\"soon\"", "Unix seconds"],
        ),
        (
            // Without its node_name the line has 8 fields, read as 8
            // fields without event_end_reason: the start time lands in
            // event_type.
            "fta-column.tab",
            with_line(&fta, 6, &fta_line(6).replace("\thost-8", "")),
            6,
            vec!["event_type", "1 (available) or 0 (unavailable)"],
        ),
        (
            "fta-backwards.tab",
            with_line(
                &fta,
                3,
                &format!("1\t0\t3\t1\thost-3\t1\t{}\t{}\t0", ORIGIN + 12, ORIGIN),
            ),
            3,
            vec!["event_stop_time", "not before event_start_time"],
        ),
        (
            // Cut in the middle of the last line's start time.
            "fta-truncated.tab",
            fta.as_bytes()[..fta.find(&format!("\t{}\t", ORIGIN + 69)).unwrap() - 3].to_vec(),
            16,
            vec!["event_stop_time", "found 7"],
        ),
        (
            "csv-time.csv",
            with_line(&csv, 5, "8,soon,44"),
            5,
            vec!["up_at", "\"soon\"", "seconds"],
        ),
        (
            "csv-column.csv",
            with_line(&csv, 6, "8,52"),
            6,
            vec!["down_at", "expected 3 fields", "found 2"],
        ),
        (
            "csv-backwards.csv",
            with_line(&csv, 7, "12,33,2"),
            7,
            vec!["down_at", "not before up_at"],
        ),
        (
            "csv-truncated.csv",
            csv.as_bytes()[..csv.trim_end().rfind(',').unwrap()].to_vec(),
            11,
            vec!["down_at", "found 2"],
        ),
        (
            "csv-header.csv",
            csv.replace("node,up_at,down_at", "host,up,down")
                .into_bytes(),
            2,
            vec!["node", "header line `node,up_at,down_at`"],
        ),
        (
            "neither.txt",
            b"# synthetic\nhello world\n".to_vec(),
            2,
            vec!["cannot tell the trace's format", "churn.trace_format"],
        ),
        (
            "empty.csv",
            b"# synthetic, and nothing else\n".to_vec(),
            1,
            vec!["no events"],
        ),
        (
            "binary.tab",
            b"# synthetic\n1\xff\n".to_vec(),
            2,
            vec!["not UTF-8"],
        ),
    ];
    for (name, bytes, line, words) in cases {
        std::fs::write(d.join(name), bytes).unwrap();
        let set = format!("churn.trace={name}");
        for (what, o) in [
            ("validate", validate(&d, &[&set])),
            ("run", run(&d, "out", &[&set])),
        ] {
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{what} {name}: {e}");
            assert!(!e.contains("panicked"), "{what} {name}: {e}");
            assert!(
                e.contains("key `churn.trace`") && e.contains(&format!("{name}:{line}:")),
                "{what} {name}: no key or line {line} in:\n{e}"
            );
            for w in &words {
                assert!(e.contains(w), "{what} {name}: {w:?} missing from:\n{e}");
            }
            let left = std::fs::read_dir(d.join("out")).map_or(0, |r| r.count());
            assert_eq!(left, 0, "{what} {name} wrote into the output folder");
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// Keys that cannot go together, a missing file, an explicit format that
/// does not fit, and traces beyond the bounds: clear errors, no panic.
#[test]
fn trace_keys_and_bounds_give_clear_errors() {
    let d = tmp("keys");
    std::fs::write(d.join("traced.toml"), SCENARIO).unwrap();
    std::fs::write(d.join("trace.tab"), fta_trace()).unwrap();
    let refused = |sets: &[&str], words: &[&str]| {
        let o = validate(&d, sets);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{sets:?}: {e}");
        assert!(!e.contains("panicked"), "{sets:?}: {e}");
        for w in words {
            assert!(e.contains(w), "{sets:?}: {w:?} missing from:\n{e}");
        }
        assert!(e.len() < 800, "{sets:?}: a {}-byte message", e.len());
    };
    refused(
        &["churn.up=exponential(1h)"],
        &["key `churn.trace`", "`churn.up`", "exclusive"],
    );
    refused(&["churn.trace_format=csv"], &["trace.tab:2:", "header"]);
    refused(
        &["churn.trace=missing.tab"],
        &["key `churn.trace`", "missing.tab", "cannot read"],
    );
    refused(&["churn.trace=\"\""], &["key `churn.trace`", "empty"]);
    refused(&["churn.trace=."], &["key `churn.trace`", "folder"]);
    refused(&["churn.trace_hosts=some"], &["churn.trace_hosts", "some"]);
    // The format keys mean nothing without a trace.
    let sessions = SCENARIO.replace(
        "trace = \"trace.tab\"",
        "up = \"exponential(1h)\"\ndown = \"exponential(1h)\"\ntrace_short = \"stable\"",
    );
    std::fs::write(d.join("sessions.toml"), sessions).unwrap();
    let o = bin()
        .current_dir(&d)
        .args(["validate", "sessions.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("key `churn.trace_short`: only used with `churn.trace`"),
        "{}",
        stderr(&o)
    );
    // Too many lines (counted before parsing), too many hosts, too large.
    let mut lines = String::from("node,up_at,down_at\n0,0,1\n");
    lines.push_str(&"\n".repeat(10_000_000));
    std::fs::write(d.join("long.csv"), lines).unwrap();
    refused(
        &["churn.trace=long.csv"],
        &["long.csv", "10000002 lines", "10000000"],
    );
    let mut hosts = String::from("node,up_at,down_at\n");
    for h in 0..1_000_001u32 {
        hosts += &format!("{h},0,1\n");
    }
    std::fs::write(d.join("hosts.csv"), hosts).unwrap();
    refused(
        &["churn.trace=hosts.csv"],
        &["hosts.csv", "1000001 hosts", "1000000"],
    );
    let f = std::fs::File::create(d.join("huge.tab")).unwrap();
    f.set_len(300 << 20).unwrap(); // sparse: nothing is written
    refused(&["churn.trace=huge.tab"], &["huge.tab", "256 MiB"]);
    let _ = std::fs::remove_dir_all(&d);
}
