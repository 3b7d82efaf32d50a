//! Result directories: `out/<scenario>/<run-id>/`, written complete or not
//! at all.
//!
//! A run writes into a hidden temporary directory beside the final one and
//! renames it when every file is written, so an interrupted run (a crash, a
//! kill, the engine's deterministic abort) never leaves a directory that
//! looks like a complete result. The run id is a stable hash (SHA-256) of
//! the resolved scenario and the provenance, so rerunning the same scenario
//! with the same build finds the existing result.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What produced a result.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Provenance {
    /// Version of the peoplescloud crates.
    pub version: String,
    /// Git commit of the build (`-dirty` if the tree had changes; `unknown`
    /// outside a checkout).
    pub git_commit: String,
    /// `rustc --version` of the build.
    pub rustc: String,
    /// SHA-256 of Cargo.lock at build time.
    pub cargo_lock_sha256: String,
}

impl Provenance {
    /// The provenance of this binary.
    pub fn current() -> Self {
        Provenance {
            version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: env!("PC_GIT_COMMIT").to_string(),
            rustc: env!("PC_RUSTC_VERSION").to_string(),
            cargo_lock_sha256: env!("PC_CARGO_LOCK_SHA256").to_string(),
        }
    }
    /// As TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

/// Hex SHA-256 of the canonical resolved scenario and the provenance.
pub fn run_hash(resolved_toml: &str, prov: &Provenance) -> String {
    hash_pair(resolved_toml, &prov.to_toml())
}

/// Hex SHA-256 of two texts separated by a NUL byte: a run's id hashes its
/// resolved scenario and its provenance (as TOML), a sweep's its runs and
/// its provenance.
pub fn hash_pair(a: &str, b: &str) -> String {
    let mut h = Sha256::new();
    h.update(a.as_bytes());
    h.update(b"\0");
    h.update(b.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// An I/O failure while writing results, naming the path. The OS's reason
/// is part of the message and not a separate source, so that a chain of
/// contexts printed with `{:#}` shows it once.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {reason}")]
pub struct OutputError {
    /// What was being done.
    pub action: &'static str,
    /// Where.
    pub path: String,
    /// Why it failed.
    pub reason: std::io::Error,
}

/// A result path that would not stay inside the output folder.
#[derive(Debug, thiserror::Error)]
#[error("{path:?} is not a folder inside the output folder: {reason}")]
pub struct OutsideError {
    /// The relative path, clipped.
    pub path: String,
    /// Which component is wrong, and why.
    pub reason: String,
}

/// `root` joined with `rel`, a relative path whose every component is a
/// plain name (letters, digits, `-`, `_`, `.`, not starting with `.`; see
/// [`crate::bounds::component_error`]): the result is always inside
/// `root`. Every result path (runs, sweeps, merges, Slurm scripts) is made
/// by this function.
pub fn inside(root: &Path, rel: &Path) -> Result<PathBuf, OutsideError> {
    let outside = |reason: String| OutsideError {
        path: crate::bounds::clip(&rel.display().to_string(), 100),
        reason,
    };
    let mut path = root.to_path_buf();
    let mut parts = 0;
    for c in rel.components() {
        match c {
            std::path::Component::Normal(name) => {
                let name = name
                    .to_str()
                    .ok_or_else(|| outside("a component is not valid UTF-8".into()))?;
                if let Some(e) = crate::bounds::component_error(name) {
                    return Err(outside(e));
                }
                path.push(name);
                parts += 1;
            }
            other => {
                return Err(outside(format!(
                    "{:?} is not a plain name",
                    other.as_os_str().to_string_lossy()
                )));
            }
        }
    }
    if parts == 0 {
        return Err(outside("it is empty".into()));
    }
    Ok(path)
}

/// Wrap an I/O error with what was being done and where.
pub(crate) fn io(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> OutputError + use<> {
    let path = path.display().to_string();
    move |reason| OutputError {
        action,
        path,
        reason,
    }
}

/// A result directory being written.
pub struct Staging {
    tmp: PathBuf,
    target: PathBuf,
}

impl Staging {
    /// Prepare to write `target` (e.g. `out/city-mesh/seed-1-ab12cd34ef56`).
    /// Leftovers of interrupted runs of the same target are removed. If the
    /// staging is dropped without [`Staging::commit`] (an error on the
    /// way), its temporary directory is removed.
    pub fn new(target: PathBuf) -> Result<Self, OutputError> {
        let parent = target.parent().unwrap_or(Path::new(".")).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(io("creating", &parent))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        let tmp = parent.join(format!(".{name}.partial"));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io("removing the leftover", &tmp))?;
        }
        std::fs::create_dir_all(&tmp).map_err(io("creating", &tmp))?;
        Ok(Staging { tmp, target })
    }
    /// The temporary directory to write into.
    pub fn dir(&self) -> &Path {
        &self.tmp
    }
    /// Write one file into the temporary directory.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> Result<(), OutputError> {
        let p = self.tmp.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        std::fs::write(&p, bytes).map_err(io("writing", &p))
    }
    /// Move the file at `from` (on the same file system: a run's streamed
    /// rows, beside the result) into the temporary directory as `name`.
    pub fn place(&self, name: &str, from: &Path) -> Result<(), OutputError> {
        let p = self.tmp.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        std::fs::rename(from, &p).map_err(io("moving", from))
    }
    /// Make the result visible: replace `target` (if any) by the written
    /// directory.
    pub fn commit(self) -> Result<PathBuf, OutputError> {
        if self.target.exists() {
            let old = self.tmp.with_extension("old");
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(io("removing", &old))?;
            }
            std::fs::rename(&self.target, &old).map_err(io("moving aside", &self.target))?;
            std::fs::rename(&self.tmp, &self.target).map_err(io("renaming", &self.tmp))?;
            std::fs::remove_dir_all(&old).map_err(io("removing", &old))?;
        } else {
            std::fs::rename(&self.tmp, &self.target).map_err(io("renaming", &self.tmp))?;
        }
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    /// A result not committed leaves nothing behind (after a commit the
    /// temporary directory no longer exists).
    fn drop(&mut self) {
        if self.tmp.exists() {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_paths_stay_inside_the_output_folder() {
        let root = Path::new("out");
        assert_eq!(
            inside(root, Path::new("city-mesh/seed-1-abc")).unwrap(),
            Path::new("out/city-mesh/seed-1-abc")
        );
        for bad in [
            "/etc/x",
            "../x",
            "a/../../x",
            "",
            ".",
            "./a",
            "a/.hidden",
            "a b",
            "a\nb",
        ] {
            assert!(inside(root, Path::new(bad)).is_err(), "{bad:?} accepted");
        }
    }

    /// The OS's reason appears once when a chain of contexts is printed
    /// with `{:#}` (as the command line does).
    #[test]
    fn os_errors_are_printed_once() {
        let os = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let reason = os.to_string();
        let e = io("writing", Path::new("out/x"))(os);
        let shown = format!("{:#}", anyhow::Error::from(e).context("writing the result"));
        assert_eq!(shown.matches(&reason).count(), 1, "{shown}");
    }

    #[test]
    fn an_uncommitted_staging_leaves_nothing() {
        let d = std::env::temp_dir().join(format!("pc-staging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        {
            let s = Staging::new(d.join("run")).unwrap();
            s.write("a.csv", "x").unwrap();
            assert!(s.dir().exists());
        }
        let left: Vec<_> = std::fs::read_dir(&d).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        let s = Staging::new(d.join("run")).unwrap();
        s.write("a.csv", "x").unwrap();
        let done = s.commit().unwrap();
        assert!(done.join("a.csv").is_file());
        let _ = std::fs::remove_dir_all(&d);
    }
}
