//! Loading the attacks' word resources from the assets folder, and the kit every attack run needs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;
use rticket_core::model::MaskedLmHead;
use rticket_core::{BertModel, Weights};
use rticket_core::attack::neighbours::TABLE_VERSION;
use rticket_core::attack::{NeighbourTable, Pos, Resources, WordNet};

use crate::model_files::{ModelFiles, assets_dir, read_or};

/// How to get WordNet's files.
const WORDNET_FIX: &str = "scripts/setup.sh fetches WordNet into the assets folder (assets/, or $RTICKET_ASSETS)";

/// WordNet from its `data.*` files and `*.exc` exception lists in `dir` (default `assets/wordnet`).
pub fn load_wordnet(dir: Option<&Path>) -> Result<WordNet> {
    let dir = dir.map(Path::to_path_buf).unwrap_or_else(|| assets_dir().join("wordnet"));
    let files = Pos::ALL
        .iter()
        .map(|&pos| Ok((pos, read_or(&dir.join(format!("data.{}", pos.file_suffix())), "WordNet data file", WORDNET_FIX)?)))
        .collect::<Result<Vec<_>>>()?;
    let borrowed: Vec<(Pos, &[u8])> = files.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    let mut wordnet = WordNet::from_data_files(&borrowed).with_context(|| format!("parsing WordNet in {}", dir.display()))?;
    for pos in Pos::ALL {
        let path = dir.join(format!("{}.exc", pos.file_suffix()));
        wordnet.add_exceptions(pos, &read_or(&path, "WordNet exception list", WORDNET_FIX)?).with_context(|| format!("in {}", path.display()))?;
    }
    Ok(wordnet)
}

/// The default neighbour table path (named by the table version, so that a table of an older
/// format left in the assets is not mistaken for the current one).
pub fn default_neighbours_path() -> PathBuf {
    assets_dir().join(format!("neighbours-v{TABLE_VERSION}.safetensors"))
}

/// Reads a neighbour table, checking it can serve attacks on the base weights in use.
pub fn load_neighbours(path: &Path, weights_sha256: &str) -> Result<NeighbourTable> {
    let bytes = std::fs::read(path).with_context(|| {
        format!("cannot read the neighbour table {} (build it with `rticket neighbours`)", path.display())
    })?;
    let table = NeighbourTable::from_bytes(&bytes).with_context(|| format!("in {}", path.display()))?;
    table.check_source(weights_sha256).with_context(|| format!("in {}", path.display()))?;
    Ok(table)
}

/// The default table, built (GloVe counter-fitted to WordNet, with its report and settings
/// beside it) when it is missing.
pub fn default_neighbours(wordnet: &WordNet, device: &Device) -> Result<PathBuf> {
    let path = default_neighbours_path();
    if !path.exists() {
        eprintln!("building the neighbour table {} (GloVe counter-fitted to WordNet; once)", path.display());
        let build = crate::commands::TableBuild::glove();
        crate::commands::write_table(&path, &build, &crate::model_files::default_model_dir(), wordnet, device)?;
    }
    Ok(path)
}

/// What every attack run loads besides its victim: the base model's files, its encoder (the
/// similarity model), WordNet and the neighbour table (the default one built once when missing).
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
        let table_path = match neighbours {
            Some(path) => path.to_path_buf(),
            None => default_neighbours(&wordnet, device)?,
        };
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

    /// The neighbour table's vector space and version, as attack records name it.
    pub fn neighbours_name(&self) -> String {
        format!("{} v{TABLE_VERSION}", self.neighbours.vectors)
    }

    /// The word resources, without a masked language model.
    pub fn resources(&self) -> Resources<'_> {
        Resources { neighbours: Some(&self.neighbours), wordnet: Some(&self.wordnet), masked_lm: None }
    }
}
