//! The `analysis` command on compute result directories: a directory with
//! `jobs.csv` gets the compute report, several seeds of one compute
//! scenario are combined in `across-seeds.csv`, and a refused input writes
//! nothing.

use std::path::{Path, PathBuf};

/// A fresh directory under the system's temporary folder, removed when
/// dropped.
struct TmpDir(PathBuf);

impl TmpDir {
    fn new(name: &str) -> TmpDir {
        let d = std::env::temp_dir().join(format!("pc-compute-cmd-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TmpDir(d)
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const H: u64 = 3_600_000_000_000;

/// A compute result in `d`: two jobs of client 1 (submitted at 1 and 2 s)
/// that both systems accept, P2P in `p2p_s` seconds each and the data
/// center in 2 s; samples at 0 and 1 h.
fn compute_result(d: &Path, seed: u64, p2p_s: u64) {
    let mut requests = String::from("system,time_ns,workload,client,seq,delivered,request\n");
    let mut jobs = String::from(
        "system,node,job,submit_ns,start_ns,end_ns,latency_ns,worker,attempts,ok,reason,answer\n",
    );
    for (system, s) in [("p2p", p2p_s), ("datacenter", 2)] {
        for i in 1..=2u64 {
            let t = i * 1_000_000_000;
            let lat = s * 1_000_000_000;
            requests.push_str(&format!("{system},{t},0,1,{i},true,Submit({i})\n"));
            jobs.push_str(&format!(
                "{system},1,{i},{t},{t},{},{lat},9,1,true,,right\n",
                t + lat
            ));
        }
    }
    let files = [
        ("requests.csv", requests),
        ("jobs.csv", jobs),
        (
            "over-time.csv",
            format!(
                "system,time_ns,machines,machines_up,busy,queued,cpu_busy_ns,cpu_up_ns,waste_churn_ns,waste_redundant_ns,waste_rejected_ns,bytes\n\
                 p2p,0,4,4,0,0,0,0,0,0,0,0\n\
                 p2p,{H},4,3,1,0,1800000000000,7200000000000,360000000000,0,0,400\n\
                 datacenter,0,1,1,0,0,0,0,0,0,0,0\n\
                 datacenter,{H},1,1,1,0,1800000000000,3600000000000,0,0,0,100\n"
            ),
        ),
        (
            "scenario.toml",
            format!("[scenario]\nname = \"volunteer\"\nseed = {seed}\n"),
        ),
    ];
    for (f, text) in files {
        std::fs::write(d.join(f), text).unwrap();
    }
}

fn analysis_bin(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_analysis"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_directory_with_jobs_gets_the_compute_report() {
    let root = TmpDir::new("one");
    compute_result(&root.0, 1, 10);
    let o = analysis_bin(&[root.0.as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = std::fs::read_to_string(root.0.join("summary.csv")).unwrap();
    // 2 jobs accepted in 1 h; P2P: 0.5 of 2 CPU-h offered busy (75 %
    // idle), 0.1 CPU-h lost to churn, 400 bytes over 2 jobs; the data
    // center: 0.5 of 1 (50 % idle), 100 bytes over 2 jobs.
    for want in [
        "success_rate,%,100.000000,100.000000,0.000000,",
        "completion_time_mean,s,10.000000,2.000000,8.000000,",
        "throughput,jobs/h,2.000000,2.000000,,,,2",
        "wasted_cpu_churn,CPU-h,0.100000,0.000000,,,,2",
        "idle_fraction,%,75.000000,50.000000,,,,2",
        "bytes_per_job,bytes,200.000000,50.000000,,,,2",
    ] {
        assert!(summary.contains(want), "expected {want:?} in {summary}");
    }
    for p in [
        "completion_time_cdf",
        "queue_over_time",
        "machines_up_over_time",
        "busy_over_time",
    ] {
        assert!(root.0.join(format!("plots/{p}.svg")).is_file(), "{p}");
    }
    let md = std::fs::read_to_string(root.0.join("report.md")).unwrap();
    assert!(
        md.contains("## Files") && md.contains("- `jobs.csv`"),
        "{md}"
    );
}

#[test]
fn seeds_of_a_compute_scenario_are_combined() {
    let root = TmpDir::new("seeds");
    let (a, b) = (root.0.join("s1"), root.0.join("s2"));
    for (d, seed, s) in [(&a, 1, 10), (&b, 2, 20)] {
        std::fs::create_dir_all(d).unwrap();
        compute_result(d, seed, s);
    }
    let o = analysis_bin(&[a.as_os_str(), b.as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(root.0.join("across-seeds.csv")).unwrap();
    // P2P's mean completion time is 10 s in one run and 20 in the other:
    // mean 15, sd √50, t(1) = 12.706 → ±12.706 × √50 / √2 = ±63.53.
    let line = text
        .lines()
        .find(|l| l.starts_with("completion_time_mean,"))
        .unwrap();
    assert_eq!(
        line,
        "completion_time_mean,s,2,2,15.000000,63.530000,2,2.000000,0.000000"
    );
    assert!(!text.contains("NaN"), "{text}");
}

#[test]
fn a_refused_compute_result_writes_nothing() {
    let root = TmpDir::new("bad");
    compute_result(&root.0, 1, 10);
    let jobs = std::fs::read_to_string(root.0.join("jobs.csv")).unwrap();
    std::fs::write(
        root.0.join("jobs.csv"),
        jobs.replacen("true,,right", "true,,maybe", 1),
    )
    .unwrap();
    let o = analysis_bin(&[root.0.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("jobs.csv: line 2, column 12 (answer): \"maybe\" is not right or wrong"),
        "{e}"
    );
    assert!(!root.0.join("summary.csv").exists());
    assert!(!root.0.join("report.md").exists());
}
