//! Loading the attacks' word resources from the assets folder.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rticket_core::attack::{NeighbourTable, Pos, WordNet};

use crate::model_files::{assets_dir, read};

/// WordNet from its `data.*` files in `dir` (default `assets/wordnet`).
pub fn load_wordnet(dir: Option<&Path>) -> Result<WordNet> {
    let dir = dir.map(Path::to_path_buf).unwrap_or_else(|| assets_dir().join("wordnet"));
    let files = Pos::ALL
        .iter()
        .map(|&pos| Ok((pos, read(&dir.join(format!("data.{}", pos.file_suffix())), "WordNet data file")?)))
        .collect::<Result<Vec<_>>>()?;
    let borrowed: Vec<(Pos, &[u8])> = files.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    WordNet::from_data_files(&borrowed).with_context(|| format!("parsing WordNet in {}", dir.display()))
}

/// The default neighbour table path.
pub fn default_neighbours_path() -> PathBuf {
    assets_dir().join("neighbours.safetensors")
}

/// Reads a neighbour table, checking it was built from the weights in use.
pub fn load_neighbours(path: &Path, weights_sha256: &str) -> Result<NeighbourTable> {
    let bytes = std::fs::read(path).with_context(|| {
        format!("cannot read the neighbour table {} (build it with `rticket neighbours`)", path.display())
    })?;
    let table = NeighbourTable::from_bytes(&bytes).with_context(|| format!("in {}", path.display()))?;
    if table.source_sha256 != weights_sha256 {
        anyhow::bail!(
            "{} was built from other weights (sha256 {}) than the base model in use ({weights_sha256}): rebuild it with `rticket neighbours`",
            path.display(),
            table.source_sha256
        );
    }
    Ok(table)
}
