//! The lookup termination rule and the directory's retry policy: bad values
//! give clear errors, and `report.md` states which ones ran.

use std::path::{Path, PathBuf};
use std::process::Output;
mod common;
use common::{bin, tmp};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// 30 internet peers, one simulated minute of lookups.
const SMALL: &str = r#"
[scenario]
name = "policies"
seed = 3
warmup = "1min"
duration = "1min"

[topology]
kind = "internet"
nodes = 30

[workload]
clients = 10
mean_gap = "10s"

[output]
plots = false
"#;

#[test]
fn bad_policies_give_clear_errors() {
    let d = tmp("bad");
    let p = d.join("s.toml");
    std::fs::write(&p, SMALL).unwrap();
    let long = "x".repeat(500);
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            "kademlia.termination=closest".into(),
            vec!["kademlia.termination", "k-closest", "closest-answered"],
        ),
        (
            format!("kademlia.termination={long}"),
            vec!["kademlia.termination", "k-closest"],
        ),
        (
            "kademlia.termination_results=21".into(),
            vec!["kademlia.termination_results", "1 to k = 20"],
        ),
        (
            "kademlia.termination_results=0".into(),
            vec!["kademlia.termination_results", "1 to k"],
        ),
        (
            "kademlia.termination_wait=2h".into(),
            vec!["kademlia.termination_wait", "at most"],
        ),
        (
            "datacenter.attempt_timeout=0s".into(),
            vec!["datacenter.attempt_timeout", "more than 0"],
        ),
        (
            "datacenter.retries=1000".into(),
            vec!["datacenter.retries", "0 to 100"],
        ),
    ];
    for (set, wants) in cases {
        let o = bin()
            .args(["validate"])
            .arg(&p)
            .args(["--set", &set])
            .output()
            .unwrap();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{set}: {e}");
        assert!(!e.contains("panicked"), "{set}: {e}");
        for w in wants {
            assert!(e.contains(w), "{set}: {w:?} not in {e}");
        }
        assert!(!e.contains(&long), "the long value is echoed in full");
    }
}

/// Run the scenario file `p` into `out` with `--set` overrides.
fn run(p: &Path, out: &Path, sets: &[&str]) -> Output {
    let mut c = bin();
    c.arg(p).arg("--out").arg(out);
    for s in sets {
        c.args(["--set", s]);
    }
    c.output().unwrap()
}

/// The (only) run directory under `out`.
fn run_dir(out: &Path) -> PathBuf {
    std::fs::read_dir(out.join("policies"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

fn report(out: &Path) -> String {
    std::fs::read_to_string(run_dir(out).join("report.md")).unwrap()
}

#[test]
fn the_report_states_each_sides_policy() {
    let d = tmp("report");
    let p = d.join("s.toml");
    std::fs::write(&p, SMALL).unwrap();

    let out = d.join("default");
    let o = run(&p, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&out);
    assert!(r.contains("`closest-answered`"), "{r}");
    assert!(
        r.contains("100ms after the closest known node has answered"),
        "{r}"
    );
    assert!(r.contains("retry up to 3 times"), "{r}");
    assert!(r.contains("requests were retried"), "{r}");
    // No operation was rejected, so the report says nothing of it.
    assert!(!r.contains("kad.ops_rejected"), "{r}");

    let out = d.join("paper");
    let o = run(
        &p,
        &out,
        &["kademlia.termination=k-closest", "datacenter.retries=0"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let r = report(&out);
    assert!(r.contains("`k-closest`, the paper's rule"), "{r}");
    assert!(r.contains("(no retries)"), "{r}");
    assert!(!r.contains("closest-answered"), "{r}");
}

/// Operations a Kademlia node rejects for lack of room are stated in
/// `report.md`, with the count of `p2p/counters.csv`: one client asking
/// every 2 ms keeps far more than `ops_max` (64) lookups running.
#[test]
fn the_report_states_rejected_operations() {
    let d = tmp("rejected");
    let p = d.join("s.toml");
    std::fs::write(&p, SMALL).unwrap();
    let out = d.join("busy");
    let o = run(&p, &out, &["workload.clients=1", "workload.mean_gap=2ms"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let counters = std::fs::read_to_string(run_dir(&out).join("p2p/counters.csv")).unwrap();
    let n: u64 = counters
        .lines()
        .find_map(|l| l.strip_prefix("kad.ops_rejected,"))
        .expect("kad.ops_rejected counted")
        .parse()
        .unwrap();
    assert!(n > 0);
    let r = report(&out);
    assert!(
        r.contains(&format!(
            "{n} Kademlia operations were rejected because their node already ran as many as it may at once (`kad.ops_rejected`"
        )),
        "{r}"
    );
}
