//! `manifest.sha256`: the SHA-256 of every file of a result directory, so
//! that a result can be checked before it is used (`scenarios merge` does).
//!
//! The runner writes it last, after `report.md` and before the directory is
//! renamed into place, so it covers every file of the run but itself and
//! `run-info.csv` (wall-clock figures, which differ between identical runs).
//! Its format is that of `sha256sum`: one `<64 hex digits>  <path>` line per
//! file, paths relative with `/`, in byte order; it is byte-identical across
//! identical runs. `analysis` rebuilds `summary.csv`, plots and `report.md`
//! in place: it rewrites the manifest only when the directory matched it
//! before, so rebuilding never makes a changed result look intact.

use crate::cut;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// The manifest's file name.
pub const FILE: &str = "manifest.sha256";

/// Files of a result directory that the manifest does not cover.
pub const UNCOVERED: [&str; 2] = [FILE, "run-info.csv"];

/// A result directory does not match its manifest, or cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ManifestError {
    /// The directory or file.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err(path: &Path, message: impl Into<String>) -> ManifestError {
    ManifestError {
        path: path.display().to_string(),
        message: message.into(),
    }
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Relative path (with `/`) → hex SHA-256 of every covered file under `dir`.
fn hashes(dir: &Path) -> Result<BTreeMap<String, String>, ManifestError> {
    fn walk(
        dir: &Path,
        rel: &str,
        out: &mut BTreeMap<String, String>,
    ) -> Result<(), ManifestError> {
        let entries = std::fs::read_dir(dir).map_err(|e| err(dir, format!("cannot read: {e}")))?;
        for e in entries {
            let e = e.map_err(|e| err(dir, format!("cannot read: {e}")))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            let r = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if path.is_dir() {
                walk(&path, &r, out)?;
            } else if !(rel.is_empty() && UNCOVERED.contains(&name.as_str())) {
                let bytes =
                    std::fs::read(&path).map_err(|e| err(&path, format!("cannot read: {e}")))?;
                out.insert(r, hex(&bytes));
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out)?;
    Ok(out)
}

/// The manifest of `dir` as it is now.
pub fn text(dir: &Path) -> Result<String, ManifestError> {
    Ok(hashes(dir)?
        .iter()
        .map(|(p, h)| format!("{h}  {p}\n"))
        .collect())
}

/// Write `dir`'s manifest.
pub fn write(dir: &Path) -> Result<(), ManifestError> {
    let t = text(dir)?;
    let p = dir.join(FILE);
    std::fs::write(&p, t).map_err(|e| err(&p, format!("cannot write: {e}")))
}

/// Check every file of `dir` against its manifest: none changed, none
/// missing, none added. The error names the first file that differs.
pub fn verify(dir: &Path) -> Result<(), ManifestError> {
    let p = dir.join(FILE);
    let listed_text = std::fs::read_to_string(&p).map_err(|e| {
        err(
            &p,
            format!("cannot read ({e}): a result without a manifest cannot be checked; run it again with this build"),
        )
    })?;
    let mut listed = BTreeMap::new();
    for (i, line) in listed_text.lines().enumerate() {
        let parsed = line.split_once("  ").filter(|(h, f)| {
            h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) && !f.is_empty()
        });
        let Some((h, f)) = parsed else {
            return Err(err(
                &p,
                format!(
                    "line {}: {:?} is not `<64 hex digits>  <path>`",
                    i + 1,
                    cut(line)
                ),
            ));
        };
        listed.insert(f.to_string(), h.to_ascii_lowercase());
    }
    let actual = hashes(dir)?;
    for (f, h) in &listed {
        match actual.get(f) {
            None => {
                return Err(err(
                    dir,
                    format!("{} is listed in {FILE} but missing", cut(f)),
                ));
            }
            Some(a) if a != h => {
                return Err(err(
                    dir,
                    format!(
                        "{} was changed after the run (its SHA-256 differs from {FILE})",
                        cut(f)
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(f) = actual.keys().find(|f| !listed.contains_key(*f)) {
        return Err(err(
            dir,
            format!("{} was added after the run (it is not in {FILE})", cut(f)),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_missing_or_added_file_is_named() {
        let d = std::env::temp_dir().join(format!("pc-manifest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("p2p")).unwrap();
        std::fs::write(d.join("summary.csv"), "a,b\n1,2\n").unwrap();
        std::fs::write(d.join("p2p/counters.csv"), "x\n").unwrap();
        std::fs::write(d.join("run-info.csv"), "wall\n1\n").unwrap();
        write(&d).unwrap();
        // sha256sum's format; run-info.csv is not covered.
        let m = std::fs::read_to_string(d.join(FILE)).unwrap();
        let names: Vec<&str> = m.lines().map(|l| &l[66..]).collect();
        assert_eq!(names, ["p2p/counters.csv", "summary.csv"]);
        assert_eq!(&m[..64], hex(b"x\n"));
        verify(&d).unwrap();
        std::fs::write(d.join("run-info.csv"), "wall\n2\n").unwrap();
        verify(&d).unwrap();

        std::fs::write(d.join("summary.csv"), "a,b\n1,3\n").unwrap();
        let e = verify(&d).unwrap_err().to_string();
        assert!(e.contains("summary.csv was changed"), "{e}");
        std::fs::write(d.join("summary.csv"), "a,b\n1,2\n").unwrap();
        std::fs::remove_file(d.join("p2p/counters.csv")).unwrap();
        let e = verify(&d).unwrap_err().to_string();
        assert!(e.contains("p2p/counters.csv is listed"), "{e}");
        std::fs::write(d.join("p2p/counters.csv"), "x\n").unwrap();
        std::fs::write(d.join("extra.csv"), "").unwrap();
        let e = verify(&d).unwrap_err().to_string();
        assert!(e.contains("extra.csv was added"), "{e}");
        std::fs::remove_file(d.join("extra.csv")).unwrap();
        std::fs::write(d.join(FILE), "garbage\n").unwrap();
        let e = verify(&d).unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        std::fs::remove_file(d.join(FILE)).unwrap();
        let e = verify(&d).unwrap_err().to_string();
        assert!(e.contains("without a manifest"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
