//! What every stage does around its training: open the model files, split the data, write
//! the run's configuration, train with checkpoints, evaluate on test, write metrics.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use burn::module::Module;
use burn::tensor::Device;
use rticket_core::model::SavedMeta;
use rticket_core::random::RANDOM_STREAMS;
use rticket_core::ticket::TicketMeta;
use rticket_core::{SequenceClassifier, SequenceClassifierConfig, TextTokenizer};
use serde::{Deserialize, Serialize};

use super::{DevAttackOnSplit, StageSettings};
use crate::data::{DataSource, Split};
use crate::model_files::{ModelFiles, default_model_dir, sha256_hex};
use crate::outputs::RunDir;
use crate::train::{DevAttack, EpochMetrics, Evaluation, FitConfig, FitOutput, Rollback, Selection, evaluate, fit};

/// What a stage produced; written to its `metrics.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageSummary {
    pub stage: String,
    pub best_epoch: usize,
    pub dev: Evaluation,
    pub test: Evaluation,
    pub history: Vec<EpochMetrics>,
    pub outputs: Vec<PathBuf>,
    pub device: String,
    pub base_model_sha256: String,
    pub seconds: f64,
    /// The epochs after which a killed run of the stage was resumed (empty: one uninterrupted run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed_after: Vec<usize>,
    /// The epochs the collapse guard made the stage do again, with the discarded attempts' dev
    /// accuracy and step logs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollbacks: Vec<Rollback>,
    /// The random streams the stage drew from ([`RANDOM_STREAMS`]; 1 in summaries before them).
    #[serde(default = "rticket_core::random::unversioned_streams")]
    pub random_streams: u32,
}

impl StageSummary {
    /// The summary a finished stage wrote into `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join("metrics.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a stage summary", path.display()))
    }

    /// Marks the finished stage in `dir` unfinished again, so that opening it with `resume`
    /// continues from its checkpoint (which holds the trained model) instead of refusing it.
    pub fn reopen(dir: &Path) -> Result<()> {
        std::fs::remove_file(dir.join("metrics.json")).with_context(|| format!("reopening {}", dir.display()))
    }
}

/// An open stage run.
pub struct StageContext {
    pub settings: StageSettings,
    pub files: ModelFiles,
    pub tokenizer: TextTokenizer,
    pub labels: Vec<String>,
    pub split: Split,
    pub run: RunDir,
    /// The plain device (evaluation); training uses its autodiff twin.
    pub device: Device,
    pub device_name: String,
    stage: String,
    started: Instant,
}

impl StageContext {
    /// Opens `out` for `stage` and records the settings (plus stage-specific `extra`).
    pub fn open(
        settings: &StageSettings,
        stage: &str,
        out: &Path,
        resume: bool,
        device: &Device,
        device_name: &str,
        extra: serde_json::Value,
    ) -> Result<Self> {
        // The data first: a file of the user's with a bad row is refused before a folder is made.
        let (labels, split) = settings.split()?;
        let run = RunDir::create(out, resume)?;
        run.write_json(
            "run.json",
            &serde_json::json!({
                "command": std::env::args().collect::<Vec<_>>(),
                "stage": stage,
                "device": device_name,
                "pad_multiple": crate::device::pad_multiple(device),
                "random_streams": RANDOM_STREAMS,
                "settings": settings,
                "stage_settings": extra,
            }),
        )?;
        let files = ModelFiles::open(&settings.model_dir)?;
        let tokenizer = files.tokenizer_on(settings.max_len, device)?.with_window(settings.window)?;
        let mut split_json = serde_json::json!({
            "seed": settings.split_seed,
            "train": split.train.iter().map(|e| e.id).collect::<Vec<_>>(),
            "dev": split.dev.iter().map(|e| e.id).collect::<Vec<_>>(),
            "test": split.test.iter().map(|e| e.id).collect::<Vec<_>>(),
        });
        // A user's data: which files the ids (0-based rows, the header not counted) index, and
        // the labels in head order. The built-in corpora's split.json stays as it was.
        if let DataSource::Files(data) = &settings.data {
            split_json["data"] = serde_json::to_value(data)?;
            split_json["labels"] = serde_json::to_value(&labels)?;
        }
        run.write_json("split.json", &split_json)?;
        Ok(Self {
            settings: settings.clone(),
            files,
            tokenizer,
            labels,
            split,
            run,
            device: device.clone(),
            device_name: device_name.to_string(),
            stage: stage.to_string(),
            started: Instant::now(),
        })
    }

    /// The classifier's shape: the base config, the data's labels, the settings' pooling.
    pub fn classifier_config(&self) -> SequenceClassifierConfig {
        let mut config = SequenceClassifierConfig::new(self.files.config.clone(), self.labels.clone());
        config.pooling = self.settings.pooling;
        config
    }

    /// [`Self::classifier_config`] without an open stage.
    pub fn classifier_config_for(files: &ModelFiles, settings: &StageSettings) -> Result<SequenceClassifierConfig> {
        let (labels, _) = settings.split()?;
        let mut config = SequenceClassifierConfig::new(files.config.clone(), labels);
        config.pooling = settings.pooling;
        Ok(config)
    }

    /// The training device (autodiff on the chosen device).
    pub fn train_device(&self) -> Device {
        self.device.clone().autodiff()
    }

    /// The pre-trained encoder with a fresh head drawn from the training seed, on the training device.
    pub fn pretrained(&self) -> Result<SequenceClassifier> {
        self.pretrained_with_head(self.settings.fit.seed)
    }

    /// The pre-trained encoder with a fresh head drawn from `head_seed`, on the training device.
    pub fn pretrained_with_head(&self, head_seed: u64) -> Result<SequenceClassifier> {
        let device = self.train_device();
        device.seed(head_seed);
        self.files.classifier(&self.classifier_config(), &device)
    }

    /// Trains with checkpoints in `checkpoint/` and the step log in `steps.jsonl` (and, when the
    /// config selects on dev under attack, the dev attacks in `dev-attacks/`).
    pub fn train(&self, model: SequenceClassifier, fit_config: &FitConfig) -> Result<FitOutput> {
        let dev_attack = match fit_config.selection {
            Selection::DevAccuracy => None,
            Selection::DevUnderAttack { recipe, examples } => Some(DevAttackOnSplit::new(self, recipe, examples)?),
        };
        fit(
            model,
            &self.tokenizer,
            &self.split.train,
            &self.split.dev,
            fit_config,
            &self.train_device(),
            Some(&self.run.path),
            dev_attack.as_ref().map(|a| a as &dyn DevAttack),
        )
    }

    /// Accuracy of a model (any device) on the dev and test splits.
    pub fn evaluate(&self, model: &SequenceClassifier) -> Result<(Evaluation, Evaluation)> {
        let model = model.valid().fork(&self.device);
        let dev = evaluate(&model, &self.tokenizer, &self.split.dev, 64, &self.device).context("evaluating on dev")?;
        let test = evaluate(&model, &self.tokenizer, &self.split.test, 64, &self.device).context("evaluating on test")?;
        Ok((dev, test))
    }

    /// Saves a classifier (dense weights and head) under `name`, with the metadata `classify` checks.
    pub fn save_classifier(&self, model: &SequenceClassifier, name: &str) -> Result<PathBuf> {
        let bytes = model.valid().to_safetensors(&self.classifier_config(), self.saved_meta().to_metadata())?;
        self.run.write(name, &bytes)
    }

    /// What a file this run saves records of how it reads text and what it was trained from.
    pub fn saved_meta(&self) -> SavedMeta {
        SavedMeta {
            base_model_sha256: Some(self.files.weights_sha256()),
            tokenizer_sha256: Some(sha256_hex(&self.files.tokenizer)),
            max_len: Some(self.settings.max_len),
            window: self.settings.window,
        }
    }

    /// Ticket metadata for this run, before masks and metrics are filled in.
    pub fn ticket_meta(&self, training: serde_json::Value) -> TicketMeta {
        let base_model = if self.settings.model_dir == default_model_dir() {
            "sentence-transformers/all-MiniLM-L6-v2".to_string()
        } else {
            self.settings.model_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        };
        let meta = TicketMeta::new(
            base_model,
            self.files.weights_sha256(),
            sha256_hex(&self.files.tokenizer),
            self.settings.max_len,
            self.settings.window,
            self.classifier_config(),
        );
        TicketMeta { training, ..meta }
    }

    /// Evaluates the best model on test and writes `metrics.json`.
    pub fn finish(&self, output: &FitOutput, outputs: Vec<PathBuf>) -> Result<StageSummary> {
        let (dev, test) = self.evaluate(&output.best)?;
        let summary = StageSummary {
            stage: self.stage.clone(),
            best_epoch: output.best_epoch,
            dev,
            test,
            history: output.history.clone(),
            outputs,
            device: self.device_name.clone(),
            base_model_sha256: self.files.weights_sha256(),
            // A resumed stage counts its earlier runs' epochs too.
            seconds: self.started.elapsed().as_secs_f64() + output.resumed_seconds,
            resumed_after: output.resumed_after.clone(),
            rollbacks: output.rollbacks.clone(),
            random_streams: RANDOM_STREAMS,
        };
        self.run.write_json("metrics.json", &summary)?;
        Ok(summary)
    }
}
