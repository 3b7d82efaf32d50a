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

/// An I/O failure while writing results, naming the path.
#[derive(Debug, thiserror::Error)]
#[error("{action} {path}: {source}")]
pub struct OutputError {
    /// What was being done.
    pub action: &'static str,
    /// Where.
    pub path: String,
    /// Why it failed.
    pub source: std::io::Error,
}

/// Wrap an I/O error with what was being done and where.
pub(crate) fn io(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> OutputError + use<> {
    let path = path.display().to_string();
    move |source| OutputError {
        action,
        path,
        source,
    }
}

/// A result directory being written.
pub struct Staging {
    tmp: PathBuf,
    target: PathBuf,
}

impl Staging {
    /// Prepare to write `target` (e.g. `out/city-mesh/seed-1-ab12cd34ef56`).
    /// Leftovers of interrupted runs of the same target are removed.
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
        Ok(self.target)
    }
}
