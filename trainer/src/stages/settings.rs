//! What decides a stage's run: data, split, lengths and the optimisation settings. Written
//! to `run.json` beside every stage's outputs.

use std::path::PathBuf;

use anyhow::Result;
use rticket_core::{Pooling, Window};
use serde::{Deserialize, Serialize};

use super::RetrainHead;
use crate::cli::Preset;
use crate::data::{DataSource, SPLIT_SEED, Split, SplitSizes, require_every_class};
use crate::train::{FitConfig, ObjectiveConfig, shuffled_batches};

/// Settings common to every stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageSettings {
    pub preset: Preset,
    /// A built-in corpus (recorded as its name: `"mr"`) or the user's files.
    pub data: DataSource,
    pub model_dir: PathBuf,
    pub split_seed: u64,
    pub dev_fraction: f64,
    pub test_fraction: f64,
    /// Keep only this many training examples (a seeded sample of the train split), if set.
    pub train_limit: Option<usize>,
    pub max_len: usize,
    /// Which end of a longer text every stage reads (absent in runs made before the tail could
    /// be read: those read the head).
    #[serde(default)]
    pub window: Window,
    pub pooling: Pooling,
    pub fit: FitConfig,
    /// The head a retraining starts from (absent in runs made before the choice: those
    /// started from fine-tuning's initial head).
    #[serde(default = "RetrainHead::before_the_choice")]
    pub retrain_head: RetrainHead,
}

/// Weight training with plain cross-entropy at the preset's scale: PAPER.md's fine-tuning
/// (3 epochs, lr 2e-5, batch 32, wd 0.01, 10% warm-up) for `paper`; one short epoch for `quick`.
pub fn base_fit(preset: Preset) -> FitConfig {
    let (epochs, batch_size, lr) = match preset {
        Preset::Quick => (1, 16, 5e-5),
        Preset::Paper => (3, 32, 2e-5),
    };
    FitConfig {
        epochs,
        batch_size,
        lr,
        weight_decay: 0.01,
        gate_lr: 0.0,
        gate_weight_decay: 0.0,
        warmup_ratio: 0.1,
        max_grad_norm: Some(1.0),
        seed: 42,
        objective: ObjectiveConfig::default(),
        collapse_guard: None,
        selection: Default::default(),
        random_streams: rticket_core::random::RANDOM_STREAMS,
    }
}

impl StageSettings {
    /// Fine-tuning (and retraining) settings of a preset.
    pub fn preset(preset: Preset, data: impl Into<DataSource>, model_dir: PathBuf) -> Self {
        let data = data.into();
        let document = data.is_documents();
        let (max_len, train_limit) = match preset {
            // A 1024-example sample at 64 tokens: minutes on 2 CPU cores.
            Preset::Quick => (if document { 128 } else { 64 }, Some(1024)),
            Preset::Paper => (if document { 256 } else { 128 }, None),
        };
        let mut fit = base_fit(preset);
        if document && preset == Preset::Quick {
            // PAPER.md's 3 epochs: after one (64 steps) the pooler head still reads noise and
            // dev accuracy is at chance (53%); after three, 65% (results/experiments/NOTES.md).
            fit.epochs = 3;
        }
        Self {
            preset,
            data,
            model_dir,
            split_seed: SPLIT_SEED,
            dev_fraction: SplitSizes::default().dev,
            test_fraction: SplitSizes::default().test,
            train_limit,
            max_len,
            window: Window::Head,
            pooling: Pooling::Pooler,
            fit,
            retrain_head: RetrainHead::Fresh,
        }
    }

    /// The label names and the split these settings describe (with the train limit applied).
    pub fn split(&self) -> Result<(Vec<String>, Split)> {
        let sizes = SplitSizes { dev: self.dev_fraction, test: self.test_fraction };
        let (labels, mut split) = self.data.load(sizes, self.split_seed)?;
        if let Some(limit) = self.train_limit.filter(|&l| l < split.train.len()) {
            let mut chosen = shuffled_batches(split.train.len(), limit, self.split_seed)[0].clone();
            chosen.sort_unstable();
            split.train = chosen.into_iter().map(|i| split.train[i].clone()).collect();
            let what = format!("the training sample of {limit} (--train-limit)");
            require_every_class(&labels, &split.train, &what, "raise --train-limit")?;
        }
        Ok((labels, split))
    }
}
