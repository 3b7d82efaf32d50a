//! The SWF reader: a small synthetic file parses exactly to the jobs
//! written by hand below; its replay maps them as documented; corrupted
//! copies give errors naming the file, the line and the field; no input
//! makes it panic.

use jobs::swf::{
    FIELDS, MAX_LINES, Mapping, Submission, Submitter, Swf, SwfError, SwfJob, Unknown, parse,
};
use jobs::{Command, Job};
use proptest::prelude::*;
use sim_core::prelude::*;

const NAME: &str = "tests/data/synthetic-small.swf";
const TEXT: &str = include_str!("data/synthetic-small.swf");

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A job line with every optional field unknown; the test fills in what
/// the file says.
fn blank(line: usize, number: u64, submit: Duration) -> SwfJob {
    SwfJob {
        line,
        number,
        submit,
        wait: None,
        run: None,
        allocated: None,
        cpu: None,
        memory: None,
        requested: None,
        requested_time: None,
        requested_memory: None,
        status: None,
        user: None,
        group: None,
        executable: None,
        queue: None,
        partition: None,
        preceding: None,
        think: None,
    }
}

/// The file's nine jobs, written by hand from its text.
fn expected_jobs() -> Vec<SwfJob> {
    vec![
        SwfJob {
            wait: Some(secs(10)),
            run: Some(secs(3600)),
            allocated: Some(64),
            cpu: Some(secs(3500)),
            memory: Some(1024.0),
            requested: Some(64),
            requested_time: Some(secs(7200)),
            requested_memory: Some(2048.0),
            status: Some(1),
            user: Some(3),
            group: Some(1),
            executable: Some(1),
            queue: Some(1),
            partition: Some(1),
            ..blank(16, 1, secs(10))
        },
        SwfJob {
            wait: Some(secs(5)),
            run: Some(Duration(120_500_000_000)),
            allocated: Some(1),
            requested: Some(1),
            requested_time: Some(secs(600)),
            status: Some(1),
            user: Some(7),
            group: Some(2),
            queue: Some(1),
            partition: Some(1),
            ..blank(17, 2, secs(30))
        },
        SwfJob {
            wait: Some(secs(0)),
            run: Some(secs(0)),
            allocated: Some(4),
            cpu: Some(secs(0)),
            requested: Some(4),
            requested_time: Some(secs(60)),
            status: Some(0),
            user: Some(3),
            group: Some(1),
            executable: Some(2),
            queue: Some(1),
            partition: Some(1),
            preceding: Some(1),
            think: Some(secs(12)),
            ..blank(18, 3, secs(30))
        },
        SwfJob {
            allocated: Some(8),
            requested: Some(8),
            requested_time: Some(secs(3600)),
            status: Some(5),
            user: Some(12),
            group: Some(1),
            queue: Some(2),
            partition: Some(1),
            ..blank(20, 4, secs(95))
        },
        SwfJob {
            wait: Some(secs(20)),
            run: Some(secs(50)),
            requested: Some(16),
            requested_time: Some(secs(100)),
            status: Some(1),
            queue: Some(1),
            partition: Some(1),
            ..blank(21, 5, secs(100))
        },
        SwfJob {
            wait: Some(secs(0)),
            run: Some(secs(10)),
            status: Some(1),
            user: Some(5),
            group: Some(1),
            queue: Some(1),
            partition: Some(1),
            ..blank(23, 6, Duration(180_250_000_000))
        },
        SwfJob {
            wait: Some(secs(1)),
            run: Some(secs(86_400)),
            allocated: Some(128),
            cpu: Some(secs(86_000)),
            memory: Some(512.5),
            requested: Some(128),
            requested_time: Some(secs(86_400)),
            requested_memory: Some(1024.0),
            status: Some(1),
            user: Some(8),
            group: Some(3),
            executable: Some(4),
            queue: Some(1),
            partition: Some(1),
            ..blank(24, 7, secs(200))
        },
        SwfJob {
            wait: Some(secs(0)),
            run: Some(secs(1)),
            allocated: Some(0),
            requested: Some(2),
            requested_time: Some(secs(10)),
            status: Some(1),
            user: Some(8),
            group: Some(3),
            executable: Some(4),
            queue: Some(1),
            partition: Some(1),
            ..blank(25, 8, secs(200))
        },
        SwfJob {
            wait: Some(secs(0)),
            run: Some(secs(7)),
            allocated: Some(1),
            cpu: Some(Duration(6_500_000_000)),
            requested: Some(1),
            requested_time: Some(secs(10)),
            status: Some(1),
            user: Some(21),
            group: Some(2),
            executable: Some(5),
            queue: Some(3),
            partition: Some(2),
            ..blank(26, 9, secs(3600))
        },
    ]
}

fn parsed() -> Swf {
    parse(TEXT, NAME).unwrap()
}

#[test]
fn the_synthetic_file_parses_to_the_jobs_written_by_hand() {
    let swf = parsed();
    assert_eq!(swf.file, NAME);
    let expected = expected_jobs();
    assert_eq!(swf.jobs.len(), expected.len());
    for (got, want) in swf.jobs.iter().zip(&expected) {
        assert_eq!(got, want, "job {}", want.number);
    }
    assert_eq!(swf.header_value("MaxNodes"), Some("128"));
    assert_eq!(swf.header_value("UnixStartTime"), Some("1000000000"));
    assert_eq!(
        swf.header_value("Synthetic"),
        Some("yes. Written by hand to the Standard Workload Format 2.2 for the")
    );
    assert_eq!(swf.header["Note"].len(), 3, "every Note, in order");
    assert!(swf.header["Note"][0].starts_with("job 4 has"));
    // Comment lines without a key are not header entries.
    let keys: Vec<&str> = swf.header.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "Computer",
            "MaxJobs",
            "MaxNodes",
            "MaxProcs",
            "MaxRecords",
            "Note",
            "Synthetic",
            "TimeZoneString",
            "UnixStartTime",
            "Version"
        ]
    );
}

/// Work = run time × processors (allocated, or requested when allocated
/// is unknown or 0), submissions from the first replayed job (job 1, at
/// 10 s), jobs 4 (unknown run time) and 6 (unknown processors) skipped.
/// By user over 4 clients: users 3, 7, 3 → client 3; job 5's unknown user
/// goes by its number, 5 mod 4 = 1; user 8 → 0; user 21 → 1.
#[test]
fn the_replay_maps_jobs_as_documented() {
    let swf = parsed();
    let m = Mapping {
        input: 1_000,
        output: 20,
        ..Mapping::new(4)
    };
    let r = swf.replay(&m).unwrap();
    assert_eq!(r.skipped, 2);
    let sub = |at: Duration, client, id, work: Duration| Submission {
        at,
        client,
        job: Job {
            id,
            work,
            input: 1_000,
            output: 20,
            deadline: None,
        },
    };
    let expected = vec![
        sub(secs(0), 3, 1, secs(3600 * 64)),
        sub(secs(20), 3, 2, Duration(120_500_000_000)),
        sub(secs(20), 3, 3, secs(0)),
        sub(secs(90), 1, 5, secs(50 * 16)),
        sub(secs(190), 0, 7, secs(86_400 * 128)),
        sub(secs(190), 0, 8, secs(2)),
        sub(secs(3590), 1, 9, secs(7)),
    ];
    assert_eq!(r.jobs, expected);

    // Round-robin over the replayed jobs.
    let rr = swf
        .replay(&Mapping {
            submitter: Submitter::RoundRobin,
            ..Mapping::new(3)
        })
        .unwrap();
    let clients: Vec<u32> = rr.jobs.iter().map(|s| s.client).collect();
    assert_eq!(clients, vec![0, 1, 2, 0, 1, 2, 0]);
    assert!(
        rr.jobs
            .iter()
            .all(|s| s.job.input == 0 && s.job.output == 0)
    );

    // Unknown jobs as errors: job 4's run time, on line 20, column 4.
    let e = swf
        .replay(&Mapping {
            unknown: Unknown::Error,
            ..Mapping::new(4)
        })
        .unwrap_err();
    assert_eq!((e.file.as_str(), e.line, e.column), (NAME, 20, Some(4)));
    assert!(e.to_string().contains("run time"), "{e}");
}

/// The replay as a workload: each client's jobs at their times from the
/// start, drawn from no stream.
#[test]
fn the_replay_is_a_workload() {
    let r = parsed().replay(&Mapping::new(4)).unwrap();
    let nodes: Vec<NodeId> = (10..14).map(NodeId).collect();
    let start = Time::ZERO + secs(1000);
    let mut w = r.workload(&nodes, start).unwrap();
    let mut rng = sim_core::rng::node_rng(1, sim_core::rng::Purpose::Workload, 0, 0);
    // Client 3 (node 13): jobs 1, 2, 3 at 1000, 1020, 1020 s.
    let mut now = Time::ZERO;
    let mut got = Vec::new();
    while let Some((gap, Command::Submit(j))) = w.next(NodeId(13), now, &mut rng) {
        now = now + gap;
        got.push((now, j.id));
    }
    assert_eq!(
        got,
        vec![(start, 1), (start + secs(20), 2), (start + secs(20), 3)]
    );
    assert!(
        w.next(NodeId(12), now, &mut rng).is_none(),
        "client 2 has no jobs"
    );
    let e = r.workload(&nodes[..2], start).unwrap_err();
    assert_eq!((e.client, e.clients), (3, 2));
}

/// The file with line `line` (1-based) replaced by `f(old line)`.
fn with_line(line: usize, f: impl Fn(&str) -> String) -> String {
    TEXT.lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == line { f(l) } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Field `col` (1-based) of a job line replaced by `v`.
fn set_field(l: &str, col: usize, v: &str) -> String {
    let mut t: Vec<&str> = l.split_whitespace().collect();
    t[col - 1] = v;
    t.join(" ")
}

fn err(text: &str) -> SwfError {
    parse(text, NAME).expect_err("must be refused")
}

fn check(e: &SwfError, line: usize, column: Option<usize>, says: &[&str]) {
    assert_eq!(e.file, NAME);
    assert_eq!((e.line, e.column), (line, column), "{e}");
    let text = e.to_string();
    assert!(text.starts_with(&format!("{NAME}:{line}: ")), "{text}");
    for s in says {
        assert!(text.contains(s), "{text:?} does not say {s:?}");
    }
}

#[test]
fn corrupted_copies_name_the_file_the_line_and_the_field() {
    // A missing field: job 2 without its think time.
    let t = with_line(17, |l| {
        let mut v: Vec<&str> = l.split_whitespace().collect();
        v.pop();
        v.join(" ")
    });
    check(
        &err(&t),
        17,
        Some(18),
        &[
            "expected 18",
            "found 17",
            "field 18 (think time) is missing",
        ],
    );
    // One too many.
    let t = with_line(18, |l| format!("{l} 4"));
    check(&err(&t), 18, None, &["expected 18", "found 19"]);
    // Not a number.
    let t = with_line(18, |l| set_field(l, 4, "abc"));
    check(
        &err(&t),
        18,
        Some(4),
        &["field 4 (run time)", "decimal number", "found \"abc\""],
    );
    // A negative run time other than -1.
    let t = with_line(21, |l| set_field(l, 4, "-5"));
    check(
        &err(&t),
        21,
        Some(4),
        &["field 4 (run time)", "-1 (unknown)", "\"-5\""],
    );
    // A fraction where a whole number is due.
    let t = with_line(24, |l| set_field(l, 5, "2.5"));
    check(
        &err(&t),
        24,
        Some(5),
        &["allocated processors", "whole number"],
    );
    // A required field unknown.
    let t = with_line(16, |l| set_field(l, 1, "-1"));
    check(
        &err(&t),
        16,
        Some(1),
        &["field 1 (job number)", "known value"],
    );
    let t = with_line(26, |l| set_field(l, 2, "-1"));
    check(
        &err(&t),
        26,
        Some(2),
        &["field 2 (submit time)", "known value"],
    );
    // A submit time going backwards: job 9 at 150 s, after job 8 at 200 s.
    let t = with_line(26, |l| set_field(l, 2, "150"));
    check(
        &err(&t),
        26,
        Some(2),
        &[
            "submit time",
            "previous job's (200 s, line 25)",
            "found 150 s",
        ],
    );
    // Values that do not fit.
    let t = with_line(24, |l| set_field(l, 5, "99999999999999999999"));
    check(&err(&t), 24, Some(5), &["fits in 64 bits"]);
    let t = with_line(24, |l| set_field(l, 4, "18446744074"));
    check(&err(&t), 24, Some(4), &["fits in 2^64 ns"]);
    // A long bad value is echoed shortened.
    let long = "x".repeat(10_000);
    let t = with_line(16, |l| set_field(l, 12, &long));
    let e = err(&t);
    check(&e, 16, Some(12), &["user id", "…"]);
    assert!(e.to_string().len() < 300, "{}", e.to_string().len());

    // Errors of the replay: a repeated job number, work that does not fit.
    let t = with_line(26, |l| set_field(l, 1, "7"));
    let e = parse(&t, NAME)
        .unwrap()
        .replay(&Mapping::new(2))
        .unwrap_err();
    check(&e, 26, Some(1), &["job 7 already appears on line 24"]);
    let t = with_line(24, |l| set_field(l, 4, "18446744073"));
    let e = parse(&t, NAME)
        .unwrap()
        .replay(&Mapping::new(2))
        .unwrap_err();
    check(&e, 24, Some(4), &["× 128 processors does not fit"]);

    // Control: the untouched file parses and replays: each error above
    // comes from its corruption.
    assert!(parse(TEXT, NAME).unwrap().replay(&Mapping::new(2)).is_ok());
}

#[test]
fn files_of_more_than_ten_million_lines_are_refused() {
    let ok = "\n".repeat(MAX_LINES);
    assert_eq!(parse(&ok, NAME).unwrap().jobs.len(), 0);
    let over = "\n".repeat(MAX_LINES + 1);
    let e = parse(&over, NAME).unwrap_err();
    check(&e, MAX_LINES + 1, None, &["more than 10000000 lines"]);
}

/// Every job line of the file, mutated every way below, parses or fails
/// with an error naming the file and a line of the file; never a panic.
/// The mutations: a field dropped, duplicated, or replaced by each of a
/// list of bad values; the line cut at each character; two lines swapped.
#[test]
fn mutated_lines_never_panic() {
    let lines: Vec<&str> = TEXT.lines().collect();
    let bad = [
        "",
        "-",
        "-0",
        "-2",
        "-1.5",
        "+3",
        "1e5",
        "x",
        "0x1f",
        ".",
        "..",
        "1..2",
        "١٢",
        "\u{0}",
        "∞",
        "NaN",
        "inf",
        "18446744073709551616",
        "18446744073.999999999",
        "0.00000000001",
        "-1",
        "4294967296",
        ";",
    ];
    let mut cases = 0;
    let mut refused = 0;
    let mut try_text = |t: String| {
        cases += 1;
        match parse(&t, NAME) {
            Ok(swf) => {
                for m in [
                    Mapping::new(3),
                    Mapping {
                        unknown: Unknown::Error,
                        submitter: Submitter::RoundRobin,
                        ..Mapping::new(1)
                    },
                ] {
                    if let Err(e) = swf.replay(&m) {
                        assert!(e.line >= 1 && e.line <= lines.len(), "{e}");
                    }
                }
            }
            Err(e) => {
                refused += 1;
                assert_eq!(e.file, NAME);
                assert!(e.line >= 1 && e.line <= lines.len(), "{e}");
                if let Some(c) = e.column {
                    assert!((1..=18).contains(&c), "{e}");
                    assert!(e.what.contains(FIELDS[c - 1]), "{e}");
                }
            }
        }
    };
    for (i, l) in lines.iter().enumerate() {
        let n = i + 1;
        let fields = l.split_whitespace().count();
        if fields == 18 && !l.trim_start().starts_with(';') {
            for col in 1..=18 {
                try_text(with_line(n, |l| {
                    let mut v: Vec<&str> = l.split_whitespace().collect();
                    v.remove(col - 1);
                    v.join(" ")
                }));
                try_text(with_line(n, |l| {
                    let mut v: Vec<&str> = l.split_whitespace().collect();
                    v.insert(col - 1, v[col - 1]);
                    v.join(" ")
                }));
                for b in bad {
                    try_text(with_line(n, |l| set_field(l, col, b)));
                }
            }
        }
        for (cut, _) in l.char_indices() {
            try_text(with_line(n, |l| l[..cut].to_string()));
        }
        if n < lines.len() {
            let mut v = lines.clone();
            v.swap(i, i + 1);
            try_text(v.join("\n"));
        }
    }
    println!("{cases} mutated files, {refused} refused");
    assert!(cases > 5_000 && refused > cases / 2);
}

proptest! {
    // A fixed seed keeps the run reproducible; no failure-persistence files.
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5377_f000),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any text: parsed or refused, never a panic.
    #[test]
    fn any_text_never_panics(s in "[-0-9. ;:\\tA-Za-z\\n١∞]{0,300}") {
        if let Ok(swf) = parse(&s, "p") {
            let _ = swf.replay(&Mapping::new(2));
        }
    }

    /// Lines of 16 to 20 number-like tokens (some empty): parsed or
    /// refused, never a panic; when parsed, every line that was not blank
    /// had 18 fields.
    #[test]
    fn number_like_lines_never_panic(
        lines in proptest::collection::vec(
            proptest::collection::vec("-?[0-9]{0,22}(\\.[0-9]{0,12})?", 16..=20),
            1..12,
        )
    ) {
        let text = lines.iter().map(|l| l.join(" ")).collect::<Vec<_>>().join("\n");
        match parse(&text, "p") {
            Ok(swf) => {
                let whole = lines.iter().all(|l| {
                    let k = l.iter().filter(|t| !t.is_empty()).count();
                    k == 0 || k == 18
                });
                prop_assert!(whole);
                let _ = swf.replay(&Mapping::new(5));
            }
            Err(e) => prop_assert!(e.line >= 1 && e.line <= lines.len()),
        }
    }
}
