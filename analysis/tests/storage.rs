//! The `analysis` command on storage result directories: a directory with
//! `reads.csv` gets the storage report, and several seeds of one storage
//! scenario are combined in `across-seeds.csv`.

use std::path::{Path, PathBuf};

/// A fresh directory under the system's temporary folder, removed when
/// dropped.
struct TmpDir(PathBuf);

impl TmpDir {
    fn new(name: &str) -> TmpDir {
        let d = std::env::temp_dir().join(format!("pc-storage-cmd-{}-{name}", std::process::id()));
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

/// A storage result in `d`: two reads of client 1 (at 1 and 2 s) that
/// both systems answer, P2P in `p2p_ms` ms each and the data center in
/// 2 ms; one written object a side; samples at 0 and 1 day.
fn storage_result(d: &Path, seed: u64, p2p_ms: u64) {
    let mut requests = String::from("system,time_ns,workload,client,seq,delivered\n");
    let mut reads = String::from(
        "system,node,object,start_ns,end_ns,latency_ns,ok,reason,bytes,fragments_found,fragments_needed\n",
    );
    for (system, ms) in [("p2p", p2p_ms), ("datacenter", 2)] {
        for i in 1..=2u64 {
            let t = i * 1_000_000_000;
            let lat = ms * 1_000_000;
            requests.push_str(&format!("{system},{t},1,1,{i},true\n"));
            reads.push_str(&format!(
                "{system},1,ab,{t},{},{lat},true,,100,,\n",
                t + lat
            ));
        }
    }
    let day = 86_400_000_000_000u64;
    let files = [
        ("requests.csv", requests),
        ("reads.csv", reads),
        (
            "writes.csv",
            "system,node,object,start_ns,end_ns,latency_ns,ok,reason,bytes,fragments_found,fragments_needed\n".to_string(),
        ),
        (
            "objects.csv",
            "system,object,owner,size_bytes,written,lost,lost_ns,fragments,fragments_up,readable_fraction\n\
             p2p,ab,1,100,true,false,,6,6,1\n\
             datacenter,ab,1,100,true,false,,6,6,1\n"
                .to_string(),
        ),
        (
            "over-time.csv",
            format!(
                "system,time_ns,peers,peers_up,objects_written,objects_readable,objects_lost,repair_bytes_true_loss,repair_bytes_false_alarm,repair_bytes_audit,stored_bytes,logical_bytes\n\
                 p2p,0,2,2,1,1,0,0,0,0,150,100\n\
                 p2p,{day},2,2,1,1,0,40,0,0,150,100\n\
                 datacenter,0,2,2,1,1,0,0,0,0,120,100\n\
                 datacenter,{day},2,2,1,1,0,0,0,0,120,100\n"
            ),
        ),
        (
            "scenario.toml",
            format!("[scenario]\nname = \"backup\"\nseed = {seed}\n"),
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
fn a_directory_with_reads_gets_the_storage_report() {
    let root = TmpDir::new("one");
    storage_result(&root.0, 1, 10);
    let o = analysis_bin(&[root.0.as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = std::fs::read_to_string(root.0.join("summary.csv")).unwrap();
    // (40 − 0) bytes / 2 peers / 1 day = 20.
    for want in [
        "read_success_rate,%,100.000000,100.000000,0.000000,",
        "read_latency_mean,ms,10.000000,2.000000,8.000000,",
        "repair_bytes_per_peer_day,bytes,20.000000,0.000000,,,,2",
        "storage_overhead,ratio,1.500000,1.200000,,,,2",
    ] {
        assert!(summary.contains(want), "expected {want:?} in {summary}");
    }
    assert!(root.0.join("plots/readable_over_time.svg").is_file());
    assert!(root.0.join("report.md").is_file());
}

#[test]
fn seeds_of_a_storage_scenario_are_combined() {
    let root = TmpDir::new("seeds");
    let (a, b) = (root.0.join("s1"), root.0.join("s2"));
    for (d, seed, ms) in [(&a, 1, 10), (&b, 2, 20)] {
        std::fs::create_dir_all(d).unwrap();
        storage_result(d, seed, ms);
    }
    let o = analysis_bin(&[a.as_os_str(), b.as_os_str()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(root.0.join("across-seeds.csv")).unwrap();
    // P2P's mean read latency is 10 ms in one run and 20 in the other:
    // mean 15, sd √50, t(1) = 12.706 → ±12.706 × √50 / √2 = ±63.53.
    let line = text
        .lines()
        .find(|l| l.starts_with("read_latency_mean,"))
        .unwrap();
    assert_eq!(
        line,
        "read_latency_mean,ms,2,2,15.000000,63.530000,2,2.000000,0.000000"
    );
    assert!(!text.contains("NaN"), "{text}");
}

#[test]
fn a_directory_without_a_result_is_refused() {
    let root = TmpDir::new("none");
    let o = analysis_bin(&[root.0.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("no lookups.csv, reads.csv or jobs.csv"), "{e}");
}
