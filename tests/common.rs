//! Helpers: asset paths, temp dirs, the tiny model folder, running the binary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use burn::tensor::Device;
use rticket::model_files::{ModelFiles, assets_dir};
use rticket_core::{BertConfig, SequenceClassifier, SequenceClassifierConfig};

/// The real MiniLM folder; panics with the fix when the set-up step has not run.
pub fn minilm_dir() -> PathBuf {
    let dir = assets_dir().join("minilm");
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        assert!(
            dir.join(file).is_file(),
            "missing asset {}: run scripts/setup.sh (or `scripts/setup.sh assets`) first",
            dir.join(file).display()
        );
    }
    dir
}

pub fn minilm() -> ModelFiles {
    ModelFiles::open(&minilm_dir()).expect("MiniLM loads")
}

pub fn cpu() -> Device {
    Device::flex()
}

/// A fresh temporary folder, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let path = std::env::temp_dir().join(format!("rticket-test-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The two-label (negative, positive) classifier config the MR and documents data use, on `bert`.
pub fn polarity_config(bert: BertConfig) -> SequenceClassifierConfig {
    SequenceClassifierConfig::new(bert, vec!["negative".into(), "positive".into()])
}

/// A model folder holding a tiny random BERT (2 layers, hidden 32) that uses MiniLM's real
/// tokenizer, so every code path runs in seconds.
pub fn tiny_model_dir(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    let tokenizer = std::fs::read(minilm_dir().join("tokenizer.json")).unwrap();
    let bert = BertConfig::tiny(30522);
    let config = polarity_config(bert.clone());
    let device = cpu();
    device.seed(7);
    let model = SequenceClassifier::random(&config, &device).unwrap();
    std::fs::write(dir.path().join("model.safetensors"), model.to_safetensors(&config, HashMap::new()).unwrap()).unwrap();
    std::fs::write(dir.path().join("config.json"), serde_json::to_vec(&bert).unwrap()).unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), tokenizer).unwrap();
    dir
}

/// [`tiny_model_dir`] without the classifier head, like a real pre-trained encoder's file
/// (MiniLM's has none): loading it draws a fresh head.
pub fn tiny_encoder_dir(tag: &str) -> TempDir {
    let dir = tiny_model_dir(tag);
    let path = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let encoder: Vec<_> = file.tensors().into_iter().filter(|(name, _)| !name.starts_with("classifier.")).collect();
    assert_eq!(encoder.len() + 2, file.len(), "the tiny model's head is not classifier.weight and classifier.bias");
    std::fs::write(&path, safetensors::serialize(encoder, None).unwrap()).unwrap();
    dir
}

/// Runs the built `rticket` binary; returns (success, stdout, stderr).
pub fn rticket(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rticket")).args(args).output().expect("rticket runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}
