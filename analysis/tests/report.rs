//! The report of hand-made result directories: runs where nothing was
//! measured give blanks (never NaN), bad values are refused with their
//! file, line and column, extra columns are ignored.

use analysis::report;
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pc-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const LOOKUPS_HEAD: &str = "system,node,start_ns,latency_ns,messages,bytes,answered,exact\n";
const REQUESTS_HEAD: &str = "system,time_ns,client,seq,delivered\n";

/// A result directory with `n` requests from client 1, one per second;
/// `p2p(i)` and `dc(i)` give each side's lookups row tail after
/// `node,start_ns,` (None: no row).
fn result_dir(
    name: &str,
    n: u64,
    p2p: impl Fn(u64) -> Option<String>,
    dc: impl Fn(u64) -> Option<String>,
) -> PathBuf {
    let d = tmp(name);
    let mut req = String::from(REQUESTS_HEAD);
    let mut look = String::from(LOOKUPS_HEAD);
    for (system, f) in [
        ("p2p", &p2p as &dyn Fn(u64) -> Option<String>),
        ("datacenter", &dc),
    ] {
        for i in 0..n {
            let t = (i + 1) * 1_000_000_000;
            req.push_str(&format!("{system},{t},1,{i},true\n"));
            if let Some(tail) = f(i) {
                look.push_str(&format!("{system},1,{t},{tail}\n"));
            }
        }
    }
    std::fs::write(d.join("requests.csv"), req).unwrap();
    std::fs::write(d.join("lookups.csv"), look).unwrap();
    d
}

fn ok_row(_: u64) -> Option<String> {
    Some("2000000,4,100,true,true".into())
}

fn failed_row(_: u64) -> Option<String> {
    Some("9000000,7,300,false,".into())
}

/// Every file written into `d`, as text (SVG included; PNG skipped).
fn outputs(d: &Path) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for f in ["summary.csv", "report.md"] {
        v.push((f.to_string(), std::fs::read_to_string(d.join(f)).unwrap()));
    }
    for e in std::fs::read_dir(d.join("plots")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "svg") {
            v.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
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

fn summary_line(d: &Path, metric: &str) -> String {
    std::fs::read_to_string(d.join("summary.csv"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with(&format!("{metric},")))
        .unwrap()
        .to_string()
}

#[test]
fn one_side_without_successes_gives_blanks_not_nan() {
    let d = result_dir("nosuccess", 30, failed_row, ok_row);
    let a = report::write(&d, "t", "n", true).unwrap();
    assert_no_nan(&d);
    // The mean latency is paired over requests both sides answered: none,
    // so blank, with the count of pairs (0). The percentiles are each
    // side's own.
    assert_eq!(summary_line(&d, "latency_mean"), "latency_mean,ms,,,,,,0");
    assert_eq!(
        summary_line(&d, "latency_p50"),
        "latency_p50,ms,,2.000000,,,,0"
    );
    let md = std::fs::read_to_string(d.join("report.md")).unwrap();
    assert!(
        md.contains("| latency_p50 | ms |  | 2.000 | — | 0 |"),
        "{md}"
    );
    // The command line's table too.
    let text = report::summary_text(&a.summary);
    assert!(!text.contains("NaN"), "{text}");
    assert!(text.contains("latency_mean (ms)"), "{text}");
}

#[test]
fn a_run_without_requests_gives_blanks_not_nan() {
    // Nothing measured at all (e.g. a mesh of one node: no peer to ask).
    let d = result_dir("empty", 0, ok_row, ok_row);
    std::fs::create_dir_all(d.join("p2p")).unwrap();
    std::fs::write(
        d.join("p2p/timeseries.csv"),
        "time_ns,name,value\n0,nodes_up,0\n60000000000,nodes_up,0\n",
    )
    .unwrap();
    let a = report::write(&d, "t", "n", true).unwrap();
    assert_no_nan(&d);
    assert_eq!(summary_line(&d, "answered_rate"), "answered_rate,%,,,,,,0");
    assert!(!report::summary_text(&a.summary).contains("NaN"));
}

/// Answered, correct and exact are three rates: a wrong answer is answered
/// but not correct, a correct one need not be exact, and an empty cell
/// (not checked) counts an answered request as correct or exact.
#[test]
fn answered_correct_and_exact_are_told_apart() {
    let d = tmp("rates");
    let mut req = String::from(REQUESTS_HEAD);
    let mut look =
        String::from("system,node,start_ns,latency_ns,messages,bytes,answered,correct,exact\n");
    // P2P, 4 requests: unanswered; answered wrong; correct but not exact;
    // exact. The directory answers all four, correct and exact.
    let p2p = [
        "false,false,false",
        "true,false,false",
        "true,true,false",
        "true,true,true",
    ];
    for (i, tail) in p2p.iter().enumerate() {
        let t = (i as u64 + 1) * 1_000_000_000;
        for system in ["p2p", "datacenter"] {
            req.push_str(&format!("{system},{t},1,{i},true\n"));
        }
        look.push_str(&format!("p2p,1,{t},2000000,4,100,{tail}\n"));
        look.push_str(&format!("datacenter,1,{t},1000000,2,50,true,,\n"));
    }
    std::fs::write(d.join("requests.csv"), req).unwrap();
    std::fs::write(d.join("lookups.csv"), look).unwrap();
    report::write(&d, "t", "n", false).unwrap();
    let p2p_dc = |metric: &str| -> (f64, f64) {
        let l = summary_line(&d, metric);
        let f: Vec<&str> = l.split(',').collect();
        (f[2].parse().unwrap(), f[3].parse().unwrap())
    };
    assert_eq!(p2p_dc("answered_rate"), (75.0, 100.0));
    assert_eq!(p2p_dc("correct_rate"), (50.0, 100.0));
    assert_eq!(p2p_dc("exact_rate"), (25.0, 100.0));
}

#[test]
fn a_rate_difference_stays_within_100_points_at_small_n() {
    // 3 requests: P2P answers one, the baseline all three.
    let d = result_dir(
        "smalln",
        3,
        |i| if i == 2 { ok_row(i) } else { failed_row(i) },
        ok_row,
    );
    report::write(&d, "t", "n", false).unwrap();
    let line = summary_line(&d, "answered_rate");
    let f: Vec<f64> = line
        .split(',')
        .skip(2)
        .map(|v| v.parse().unwrap())
        .collect();
    let (p2p, dc, diff, lo, hi, n) = (f[0], f[1], f[2], f[3], f[4], f[5]);
    assert_eq!((n, dc), (3.0, 100.0), "{line}");
    assert!((p2p - 100.0 / 3.0).abs() < 1e-5, "{line}");
    assert!((diff + 200.0 / 3.0).abs() < 1e-5, "{line}");
    assert!(
        (-100.0..diff).contains(&lo) && (diff..=100.0).contains(&hi),
        "{line}"
    );
    let md = std::fs::read_to_string(d.join("report.md")).unwrap();
    assert!(md.contains("Newcombe"), "the notes say how: {md}");
}

#[test]
fn bad_values_are_refused_with_file_line_and_column() {
    for (tail, column, expected) in [
        (
            "2000000,4,100,maybe,",
            "column 7 (answered)",
            "true or false",
        ),
        ("-5,4,100,true,", "column 4 (latency_ns)", "a number ≥ 0"),
        ("NaN,4,100,true,", "column 4 (latency_ns)", "a number ≥ 0"),
        (
            "2000000,four,100,true,",
            "column 5 (messages)",
            "a number ≥ 0",
        ),
        (
            "2000000,4,100,true,sure",
            "column 8 (exact)",
            "true, false or empty",
        ),
    ] {
        let d = result_dir(
            "bad",
            5,
            |i| {
                if i == 3 {
                    Some(tail.to_string())
                } else {
                    ok_row(i)
                }
            },
            ok_row,
        );
        let e = report::write(&d, "t", "n", false)
            .err()
            .unwrap()
            .to_string();
        // Row 4 of P2P: line 5 of lookups.csv.
        for want in ["lookups.csv", "line 5", column, expected] {
            assert!(e.contains(want), "{tail}: expected {want:?} in {e}");
        }
        assert!(!d.join("summary.csv").exists(), "{tail}: nothing written");
    }
    // A huge value is not echoed in full.
    let long = "9".repeat(500);
    let d = result_dir("long", 2, |_| Some(format!("{long}x,4,100,true,")), ok_row);
    let e = report::write(&d, "t", "n", false)
        .err()
        .unwrap()
        .to_string();
    assert!(e.len() < 300, "{e}");
    // requests.csv is checked as well.
    let d = result_dir("badreq", 2, ok_row, ok_row);
    let req = std::fs::read_to_string(d.join("requests.csv")).unwrap();
    std::fs::write(d.join("requests.csv"), req.replacen(",true\n", ",yes\n", 1)).unwrap();
    let e = report::write(&d, "t", "n", false)
        .err()
        .unwrap()
        .to_string();
    for want in [
        "requests.csv",
        "line 2",
        "column 5 (delivered)",
        "true or false",
    ] {
        assert!(e.contains(want), "expected {want:?} in {e}");
    }
}

#[test]
fn extra_columns_are_ignored() {
    let plain = result_dir("plain", 10, ok_row, failed_row);
    report::write(&plain, "t", "n", false).unwrap();
    let extra = result_dir("extra", 10, ok_row, failed_row);
    for f in ["lookups.csv", "requests.csv"] {
        let text = std::fs::read_to_string(extra.join(f)).unwrap();
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
        std::fs::write(extra.join(f), more).unwrap();
    }
    report::write(&extra, "t", "n", false).unwrap();
    assert_eq!(
        std::fs::read_to_string(plain.join("summary.csv")).unwrap(),
        std::fs::read_to_string(extra.join("summary.csv")).unwrap()
    );
}

fn analysis_bin(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_analysis"))
        .args(args)
        .output()
        .unwrap()
}

const SCENARIO: &str = "[scenario]\nname = \"t\"\nseed = 1\n\n[kademlia]\nalpha = 3\nk = 8\n";

#[test]
fn across_seeds_refuses_mixed_scenarios_unless_allowed() {
    let root = tmp("mixed");
    let mk = |name: &str, scenario: &str| {
        let d = result_dir(&format!("mixed-{name}"), 10, ok_row, failed_row);
        std::fs::write(d.join("scenario.toml"), scenario).unwrap();
        let to = root.join(name);
        std::fs::rename(&d, &to).unwrap();
        to
    };
    let a = mk("a", SCENARIO);
    let b = mk("b", &SCENARIO.replace("seed = 1", "seed = 2"));
    let c = mk(
        "c",
        &SCENARIO
            .replace("seed = 1", "seed = 3")
            .replace("k = 8", "k = 20"),
    );
    // Seeds of one scenario: combined.
    let o = analysis_bin(&[a.as_os_str(), b.as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(root.join("across-seeds.csv").is_file());
    std::fs::remove_file(root.join("across-seeds.csv")).unwrap();
    // Another scenario: refused, naming the first differing key, nothing written.
    let o = analysis_bin(&[a.as_os_str(), b.as_os_str(), c.as_os_str()]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    for want in ["kademlia.k", "8", "20", "--allow-mixed"] {
        assert!(e.contains(want), "expected {want:?} in {e}");
    }
    assert!(!root.join("across-seeds.csv").exists());
    assert!(!c.join("summary.csv").exists(), "nothing rebuilt");
    // Unless told.
    let o = analysis_bin(&[
        std::ffi::OsStr::new("--allow-mixed"),
        a.as_os_str(),
        c.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(root.join("across-seeds.csv").is_file());
    let o = analysis_bin(&[std::ffi::OsStr::new("--help")]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("--allow-mixed"));
}

#[test]
fn across_seeds_of_runs_without_successes_has_blanks_not_nan() {
    let root = tmp("acrossnan");
    let mut dirs = Vec::new();
    for seed in 1..=2 {
        let d = result_dir(&format!("acrossnan-{seed}"), 10, failed_row, ok_row);
        std::fs::write(
            d.join("scenario.toml"),
            SCENARIO.replace("seed = 1", &format!("seed = {seed}")),
        )
        .unwrap();
        let to = root.join(format!("s{seed}"));
        std::fs::rename(&d, &to).unwrap();
        dirs.push(to);
    }
    let o = analysis_bin(&[dirs[0].as_os_str(), dirs[1].as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(root.join("across-seeds.csv")).unwrap();
    assert!(!text.contains("NaN"), "{text}");
    // P2P answered nothing: no latency in either run (n = 0, blank); the
    // baseline answered everything in both.
    let p50 = text
        .lines()
        .find(|l| l.starts_with("latency_p50,"))
        .unwrap();
    assert_eq!(p50, "latency_p50,ms,2,0,,,2,2.000000,0.000000");
}

#[test]
fn rebuilding_keeps_an_intact_result_verifiable_and_a_changed_one_not() {
    use analysis::manifest;
    let d = result_dir("rebuild", 10, ok_row, failed_row);
    report::write(&d, "t", "n", false).unwrap();
    manifest::write(&d).unwrap();
    // Rebuilt in place (new report.md, plots): still matches.
    let o = analysis_bin(&[d.as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    manifest::verify(&d).unwrap();
    // A changed input is not blessed by a rebuild.
    let l = std::fs::read_to_string(d.join("lookups.csv")).unwrap();
    std::fs::write(
        d.join("lookups.csv"),
        l.replacen(",true,true", ",false,", 1),
    )
    .unwrap();
    let o = analysis_bin(&[d.as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let e = manifest::verify(&d).unwrap_err().to_string();
    assert!(e.contains("was changed"), "{e}");
}

#[test]
fn mutated_inputs_give_an_error_or_a_report_never_a_panic_or_nan() {
    // 300 mutations of a valid directory: one field of lookups.csv or
    // requests.csv replaced by an odd value, or a line cut short.
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
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let base = result_dir(
        "fuzzbase",
        12,
        |i| {
            if i % 3 == 0 { failed_row(i) } else { ok_row(i) }
        },
        ok_row,
    );
    let files: Vec<(String, String)> = ["lookups.csv", "requests.csv"]
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read_to_string(base.join(f)).unwrap(),
            )
        })
        .collect();
    let d = tmp("fuzz");
    for case in 0..300 {
        let which = next(2);
        for (k, (f, text)) in files.iter().enumerate() {
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
        let r = std::panic::catch_unwind(|| report::write(&d, "t", "n", false).map(drop));
        match r {
            Err(_) => panic!("case {case}: panicked"),
            Ok(Err(e)) => {
                let e = e.to_string();
                assert!(e.contains(".csv"), "case {case}: {e}");
            }
            Ok(Ok(())) => {
                let s = std::fs::read_to_string(d.join("summary.csv")).unwrap();
                assert!(!s.contains("NaN") && !s.contains("inf"), "case {case}: {s}");
            }
        }
    }
}
