//! Finding and reading a model folder (HF `config.json`, `model.safetensors`, `tokenizer.json`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;
use rticket_core::{BertConfig, BertModel, SequenceClassifier, SequenceClassifierConfig, TextTokenizer, Weights};
use sha2::{Digest, Sha256};

/// Where the set-up step puts the assets unless `RTICKET_ASSETS` says otherwise.
pub fn assets_dir() -> PathBuf {
    std::env::var_os("RTICKET_ASSETS").map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").join("assets")
    })
}

/// The embedded default model: all-MiniLM-L6-v2.
pub fn default_model_dir() -> PathBuf {
    assets_dir().join("minilm")
}

/// Reads a whole file, saying what it is when it cannot.
pub fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read the {what} at {}", path.display()))
}

/// [`read`], the error ending with how to get the file (`fix`), for files a user does not make
/// by hand: the model's, the built-in corpora, WordNet.
pub fn read_or(path: &Path, what: &str, fix: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read the {what} at {}: {fix}", path.display()))
}

/// How to get a model folder's files.
const MODEL_FIX: &str = "for the default assets run scripts/setup.sh; for your own model pass a folder with config.json, \
                         model.safetensors and tokenizer.json";

/// sha256 of a byte buffer, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The three files of a HF BERT-family model folder, read into memory.
pub struct ModelFiles {
    pub dir: PathBuf,
    pub config: BertConfig,
    pub weights: Vec<u8>,
    pub tokenizer: Vec<u8>,
}

impl ModelFiles {
    pub fn open(dir: &Path) -> Result<Self> {
        let config_bytes = read_or(&dir.join("config.json"), "model config", MODEL_FIX)?;
        let config = BertConfig::from_json(&config_bytes).with_context(|| format!("in {}", dir.join("config.json").display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            weights: read_or(&dir.join("model.safetensors"), "model weights", MODEL_FIX)?,
            tokenizer: read_or(&dir.join("tokenizer.json"), "tokenizer", MODEL_FIX)?,
        })
    }

    /// A tokenizer cut at `max_len` tokens, checked against the model's vocabulary and positions.
    pub fn tokenizer(&self, max_len: usize) -> Result<TextTokenizer> {
        if max_len > self.config.max_position_embeddings {
            anyhow::bail!(
                "--max-len {max_len} exceeds the model's {} positions",
                self.config.max_position_embeddings
            );
        }
        let tokenizer = TextTokenizer::from_bytes(&self.tokenizer, max_len)
            .with_context(|| format!("in {}", self.dir.join("tokenizer.json").display()))?;
        tokenizer.check_vocab(self.config.vocab_size)?;
        Ok(tokenizer)
    }

    /// [`Self::tokenizer`], padding batches as suits `device` ([`crate::device::pad_multiple`]).
    pub fn tokenizer_on(&self, max_len: usize, device: &burn::tensor::Device) -> Result<TextTokenizer> {
        Ok(self.tokenizer(max_len)?.with_pad_multiple(crate::device::pad_multiple(device)))
    }

    pub fn encoder(&self, device: &Device) -> Result<BertModel> {
        let weights = Weights::from_bytes(&self.weights).with_context(|| self.weights_context())?;
        BertModel::load(&self.config, &weights, device).with_context(|| self.weights_context())
    }

    pub fn classifier(&self, config: &SequenceClassifierConfig, device: &Device) -> Result<SequenceClassifier> {
        let weights = Weights::from_bytes(&self.weights).with_context(|| self.weights_context())?;
        SequenceClassifier::load(config, &weights, device).with_context(|| self.weights_context())
    }

    /// sha256 of the weights file: the base model's identity in tickets and classifiers.
    pub fn weights_sha256(&self) -> String {
        sha256_hex(&self.weights)
    }

    fn weights_context(&self) -> String {
        format!("loading {}", self.dir.join("model.safetensors").display())
    }
}
