//! Loading the attacks' word resources from the assets folder, and the kit every attack run needs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;
use rticket_core::model::MaskedLmHead;
use rticket_core::{BertModel, Weights};
use rticket_core::attack::{NeighbourTable, Pos, Resources, WordNet};

use crate::model_files::{ModelFiles, assets_dir, read};

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

/// What every attack run loads besides its victim: the base model's files, its encoder (the
/// similarity model), WordNet and the neighbour table (built once, from the base model, when
/// the default table is missing).
pub struct AttackKit {
    pub files: ModelFiles,
    pub encoder: BertModel,
    pub wordnet: WordNet,
    pub neighbours: NeighbourTable,
}

impl AttackKit {
    /// Loads the kit for the base model in `model_dir`; `neighbours` overrides the default table.
    pub fn load(model_dir: &Path, neighbours: Option<&Path>, device: &Device) -> Result<Self> {
        let files = ModelFiles::open(model_dir)?;
        let wordnet = load_wordnet(None)?;
        let table_path = neighbours.map(Path::to_path_buf).unwrap_or_else(default_neighbours_path);
        if neighbours.is_none() && !table_path.exists() {
            eprintln!("building the neighbour table {}", table_path.display());
            let table = crate::commands::build_neighbours(&files, &wordnet, 50, device)?;
            crate::outputs::write_atomically(&table_path, &table.to_bytes()?)?;
        }
        let neighbours = load_neighbours(&table_path, &files.weights_sha256())?;
        let encoder = files.encoder(device)?;
        Ok(Self { files, encoder, wordnet, neighbours })
    }

    /// The base model's masked-LM head (BERT-Attack's own candidates), when its weights have one.
    pub fn masked_lm_head(&self, device: &Device) -> Result<Option<MaskedLmHead>> {
        let weights = Weights::from_bytes(&self.files.weights)?;
        if !MaskedLmHead::present(&weights) {
            return Ok(None);
        }
        Ok(Some(MaskedLmHead::load(&self.files.config, &weights, &self.encoder, device).context("loading the masked-LM head")?))
    }

    /// The word resources, without a masked language model.
    pub fn resources(&self) -> Resources<'_> {
        Resources { neighbours: Some(&self.neighbours), wordnet: Some(&self.wordnet), masked_lm: None }
    }
}
