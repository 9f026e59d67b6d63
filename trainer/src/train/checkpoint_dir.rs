//! A checkpoint folder replaced whole or not at all: the new one is written beside it and
//! swapped in by two renames, and a run killed between them finds the previous one again.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes a fresh checkpoint into `<dir>.partial` with `write`, then swaps it in for `dir`
/// (the old one passes through `<dir>.old`), so a run killed mid-write keeps a whole checkpoint.
pub(super) fn replace(dir: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let staging = sibling(dir, "partial");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    write(&staging)?;
    let old = sibling(dir, "old");
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old).with_context(|| format!("moving {} aside", dir.display()))?;
    }
    std::fs::rename(&staging, dir).with_context(|| format!("moving {} into place", staging.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// After a kill between [`replace`]'s two renames `dir` is gone and the last whole checkpoint
/// is `<dir>.old`: moves it back (returns whether it did), so resuming loses no epoch.
pub(super) fn recover(dir: &Path) -> Result<bool> {
    let old = sibling(dir, "old");
    if dir.join("state.json").exists() || !old.join("state.json").exists() {
        return Ok(false);
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::rename(&old, dir).with_context(|| format!("moving {} back to {}", old.display(), dir.display()))?;
    Ok(true)
}

/// Whether `dir` holds a checkpoint, or only the previous one that a kill left aside (which
/// [`recover`] takes back).
pub fn exists(dir: &Path) -> bool {
    dir.exists() || sibling(dir, "old").exists()
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("state.json")).unwrap()
    }

    #[test]
    fn a_kill_between_the_renames_leaves_the_previous_checkpoint_to_recover() {
        let root = std::env::temp_dir().join(format!("rticket-checkpoint-dir-{}", std::process::id()));
        let dir = root.join("checkpoint");
        std::fs::create_dir_all(&root).unwrap();
        replace(&dir, |d| Ok(std::fs::write(d.join("state.json"), "epoch 1")?)).unwrap();
        replace(&dir, |d| Ok(std::fs::write(d.join("state.json"), "epoch 2")?)).unwrap();
        assert_eq!(state(&dir), "epoch 2");
        assert!(!sibling(&dir, "old").exists() && !sibling(&dir, "partial").exists());
        assert!(!recover(&dir).unwrap(), "nothing to recover from a whole checkpoint");

        // Killed after the first rename: epoch 2 is `.old`, epoch 3 half-written in `.partial`.
        std::fs::rename(&dir, sibling(&dir, "old")).unwrap();
        std::fs::create_dir_all(sibling(&dir, "partial")).unwrap();
        assert!(recover(&dir).unwrap());
        assert_eq!(state(&dir), "epoch 2");
        // Killed while writing: the partial folder is ignored, then replaced by the next save.
        replace(&dir, |d| Ok(std::fs::write(d.join("state.json"), "epoch 3")?)).unwrap();
        assert_eq!(state(&dir), "epoch 3");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
