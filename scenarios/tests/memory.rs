//! Memory regression: the max RSS of a real `scenarios` run against the
//! figure the README's performance table reports for the same command.
//!
//! The figure is `kademlia-scale` at 500 nodes (every node joining at time
//! 0, 780 simulated seconds), measured with `/usr/bin/time -v` on the
//! release build; the bound is 1.5 times it. The run here uses the test
//! profile's build of the same binary and reads the child's max RSS from
//! `wait4`, as `time` does.
#![cfg(target_os = "linux")]

use std::process::{Command, Stdio};

/// Max RSS of the README's command, in KiB (`/usr/bin/time -v
/// target/release/scenarios kademlia-scale --set topology.nodes=500 --set
/// workload.clients=500 --force`).
const README_MAX_RSS_KIB: u64 = 21_452;
/// The bound: 1.5 times the README's figure.
const BOUND_KIB: u64 = README_MAX_RSS_KIB * 3 / 2;

/// Run the scenarios binary on `kademlia-scale` at 500 nodes with `extra`
/// overrides; its exit status and max RSS in KiB.
#[allow(clippy::zombie_processes)] // reaped by `wait_with_rusage`
fn max_rss_kib(extra: &[&str]) -> (i32, u64) {
    let out = std::env::temp_dir().join(format!(
        "peoplescloud-memory-{}-{}",
        std::process::id(),
        extra.len()
    ));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scenarios"));
    cmd.args(["kademlia-scale", "--quiet", "--force", "--out"])
        .arg(&out)
        .args([
            "--set",
            "topology.nodes=500",
            "--set",
            "workload.clients=500",
        ]);
    for e in extra {
        cmd.args(["--set", e]);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the scenarios binary");
    let (status, kib) = wait_with_rusage(child.id());
    let _ = std::fs::remove_dir_all(&out);
    (status, kib)
}

/// Reap the child `pid`: its exit status and `ru_maxrss` (KiB on Linux).
#[allow(unsafe_code)]
fn wait_with_rusage(pid: u32) -> (i32, u64) {
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `status` and `ru` are valid for writes for the call; `pid`
    // is our own unreaped child, so nothing else waits for it.
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut ru) };
    assert_eq!(r, pid as libc::pid_t, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, ru.ru_maxrss as u64)
}

/// The scenario's join (one refresh lookup per bucket, one at a time, as
/// SimGrid's example joins) keeps the run within 1.5 times the README's
/// figure; starting every refresh lookup of a join at once (the behaviour
/// before `join_refresh_parallel`), with all their messages pending
/// together, does not (36,452 KiB against 21,452, release build; 4 at once:
/// 26,704): the bound is tight enough to see that regression.
#[test]
fn a_joining_network_stays_within_the_reported_memory() {
    let (status, kib) = max_rss_kib(&[]);
    assert_eq!(status, 0, "the run failed");
    assert!(
        kib <= BOUND_KIB,
        "max RSS {kib} KiB is over 1.5 x the README's {README_MAX_RSS_KIB} KiB"
    );

    // Negative control: the same run with every refresh lookup of a join
    // started at once must go over the bound.
    let (status, unpaced) = max_rss_kib(&["kademlia.join_refresh_parallel=64"]);
    assert_eq!(status, 0, "the control run failed");
    eprintln!("max RSS {kib} KiB, unpaced joins {unpaced} KiB, bound {BOUND_KIB} KiB");
    assert!(
        unpaced > BOUND_KIB,
        "the control (unpaced joins) peaked at {unpaced} KiB, within the bound {BOUND_KIB} KiB: the test cannot see that regression"
    );
}
