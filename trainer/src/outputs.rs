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
        let temp = self.path.join(format!(".{name}.partial"));
        std::fs::write(&temp, bytes).with_context(|| format!("writing {}", temp.display()))?;
        std::fs::rename(&temp, &target).with_context(|| format!("moving {} into place", target.display()))?;
        Ok(target)
    }
}

/// Whether `path` or one of its stage folders holds a checkpoint.
fn has_checkpoint(path: &Path) -> bool {
    path.join("checkpoint").exists()
        || std::fs::read_dir(path)
            .map(|entries| entries.flatten().any(|e| e.path().join("checkpoint").exists()))
            .unwrap_or(false)
}
