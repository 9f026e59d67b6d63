//! A run's output folder: its full configuration, metrics and artefacts side by side.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

/// An output folder being written.
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    /// Creates `path`. A folder that already holds a finished run (`metrics.json`) is refused
    /// rather than overwritten; one holding an unfinished run's checkpoint is continued only
    /// when `resume` is set.
    pub fn create(path: &Path, resume: bool) -> Result<Self> {
        if path.join("metrics.json").exists() {
            bail!("{} already holds a finished run: pass another --out or delete it", path.display());
        }
        if !resume && has_checkpoint(path) {
            bail!(
                "{} holds the checkpoint of an unfinished run: pass --resume to continue it, or another --out",
                path.display()
            );
        }
        std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self { path: path.to_path_buf() })
    }

    /// Writes `value` as pretty JSON to `name`, atomically (temp file + rename), so a killed
    /// run never leaves half a file.
    pub fn write_json(&self, name: &str, value: &impl Serialize) -> Result<PathBuf> {
        let json = serde_json::to_vec_pretty(value)?;
        self.write(name, &json)
    }

    /// Writes bytes to `name` atomically.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let target = self.path.join(name);
        write_atomically(&target, bytes)?;
        Ok(target)
    }
}

/// Writes `bytes` to `target` through a temporary file beside it and a rename, so that a killed
/// run never leaves half a file and two runs writing the same shared file (the neighbour table
/// two reproductions build at once) never read each other's half-written bytes: the temporary
/// name carries the process id, and the rename replaces the target whole.
pub fn write_atomically(target: &Path, bytes: &[u8]) -> Result<()> {
    let name = target.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy());
    let temp = target.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    std::fs::write(&temp, bytes).with_context(|| format!("writing {}", temp.display()))?;
    std::fs::rename(&temp, target).with_context(|| format!("moving {} into place", target.display()))
}

/// Whether `path` or one of its stage folders holds a checkpoint.
fn has_checkpoint(path: &Path) -> bool {
    let holds = |dir: &Path| crate::train::checkpoint_exists(&dir.join("checkpoint"));
    holds(path) || std::fs::read_dir(path).map(|entries| entries.flatten().any(|e| holds(&e.path()))).unwrap_or(false)
}
