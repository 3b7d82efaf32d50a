//! Helpers shared by the command-line tests (each test file is its own
//! crate and uses some of them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `scenarios` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scenarios"))
}

/// A fresh, empty folder for one test: `pc-<test file>-<pid>-<name>` in
/// the temporary folder.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "pc-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What a command printed: stdout, then stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file of a Slurm script folder's `logs/`, each under its path.
pub fn logs(dir: &Path) -> String {
    std::fs::read_dir(dir.join("logs"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| {
                    format!(
                        "--- {}\n{}",
                        e.path().display(),
                        std::fs::read_to_string(e.path()).unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The entries of `dir` whose names start with `prefix`, in name order
/// (none when `dir` does not exist).
pub fn entries(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).map_or(Vec::new(), |rd| {
        rd.map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
            .collect()
    });
    v.sort();
    v
}

/// The one entry of `dir` whose name starts with `prefix`.
pub fn one_entry(dir: &Path, prefix: &str) -> PathBuf {
    let v = entries(dir, prefix);
    assert_eq!(v.len(), 1, "{prefix}* in {}: {v:?}", dir.display());
    v[0].clone()
}
