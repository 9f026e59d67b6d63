//! `rticket finetune`: stage 1 of PAPER.md, fine-tuning the encoder and a fresh head.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::Device;
use rticket_core::{Pooling, SequenceClassifier, SequenceClassifierConfig};
use serde::{Deserialize, Serialize};

use super::classify::{BASE_SHA_KEY, MAX_LEN_KEY, TOKENIZER_SHA_KEY};
use crate::cli::{FinetuneArgs, Preset};
use crate::data::{DatasetName, Split, SplitSizes, load_polarity_csv, stratified_split};
use crate::device::{self, DeviceChoice};
use crate::model_files::{ModelFiles, assets_dir, sha256_hex};
use crate::outputs::RunDir;
use crate::train::{EpochMetrics, Evaluation, FitConfig, ObjectiveConfig, evaluate, fit};

/// Everything that decides a fine-tuning run; written to `run.json` beside its outputs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinetuneSettings {
    pub preset: Preset,
    pub data: DatasetName,
    pub model_dir: PathBuf,
    pub split_seed: u64,
    pub dev_fraction: f64,
    pub test_fraction: f64,
    /// Keep only the first N training examples (after the split), if set.
    pub train_limit: Option<usize>,
    pub max_len: usize,
    pub pooling: Pooling,
    pub fit: FitConfig,
}

impl FinetuneSettings {
    /// The preset's values (PAPER.md's reference for `paper`).
    pub fn preset(preset: Preset, data: DatasetName, model_dir: PathBuf) -> Self {
        let document = data == DatasetName::MovieReviews;
        let (epochs, batch_size, lr, max_len, train_limit) = match preset {
            // One pass over 1024 examples at 64 tokens: a few minutes on 2 CPU cores.
            Preset::Quick => (1, 16, 5e-5, if document { 128 } else { 64 }, Some(1024)),
            Preset::Paper => (3, 32, 2e-5, if document { 256 } else { 128 }, None),
        };
        Self {
            preset,
            data,
            model_dir,
            split_seed: crate::data::SPLIT_SEED,
            dev_fraction: SplitSizes::default().dev,
            test_fraction: SplitSizes::default().test,
            train_limit,
            max_len,
            pooling: Pooling::Pooler,
            fit: FitConfig {
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
            },
        }
    }

    /// The corpus split these settings describe.
    pub fn split(&self) -> Result<(Vec<String>, Split)> {
        let corpus = load_polarity_csv(&self.data.path(&assets_dir()))?;
        let sizes = SplitSizes { dev: self.dev_fraction, test: self.test_fraction };
        let mut split = stratified_split(&corpus.examples, corpus.labels.len(), sizes, self.split_seed);
        if let Some(limit) = self.train_limit {
            split.train = crate::train::shuffled_batches(split.train.len(), limit, self.split_seed)[0]
                .iter()
                .map(|&i| split.train[i].clone())
                .collect();
        }
        Ok((corpus.labels, split))
    }
}

/// What a fine-tuning run produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinetuneSummary {
    pub best_epoch: usize,
    pub dev: Evaluation,
    pub test: Evaluation,
    pub history: Vec<EpochMetrics>,
    pub classifier: PathBuf,
    pub device: String,
    pub base_model_sha256: String,
    pub seconds: f64,
}

pub fn run(args: FinetuneArgs, device: DeviceChoice) -> Result<()> {
    let mut settings = FinetuneSettings::preset(args.preset, args.data, args.model.dir());
    if let Some(v) = args.epochs {
        settings.fit.epochs = v;
    }
    if let Some(v) = args.lr {
        settings.fit.lr = v;
    }
    if let Some(v) = args.batch_size {
        settings.fit.batch_size = v;
    }
    if let Some(v) = args.max_len {
        settings.max_len = v;
    }
    if let Some(v) = args.seed {
        settings.fit.seed = v;
    }
    if args.train_limit.is_some() {
        settings.train_limit = args.train_limit;
    }
    let selected = device::select(device)?;
    let summary = run_finetune(&settings, &args.out, args.resume, &selected.device, &selected.description)?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// Fine-tunes with `settings`, writing `run.json`, `split.json`, `checkpoint/` (each epoch),
/// `classifier.safetensors` (best dev epoch) and `metrics.json` into `out`.
pub fn run_finetune(
    settings: &FinetuneSettings,
    out: &Path,
    resume: bool,
    device: &Device,
    device_name: &str,
) -> Result<FinetuneSummary> {
    if settings.fit.epochs == 0 || settings.fit.batch_size == 0 {
        bail!("epochs and batch size must be positive");
    }
    let started = std::time::Instant::now();
    let run = RunDir::create(out, resume)?;
    run.write_json("run.json", &serde_json::json!({
        "command": std::env::args().collect::<Vec<_>>(),
        "stage": "finetune",
        "device": device_name,
        "settings": settings,
    }))?;

    let files = ModelFiles::open(&settings.model_dir)?;
    let tokenizer = files.tokenizer(settings.max_len)?;
    let (labels, split) = settings.split()?;
    run.write_json("split.json", &serde_json::json!({
        "seed": settings.split_seed,
        "train": split.train.iter().map(|e| e.id).collect::<Vec<_>>(),
        "dev": split.dev.iter().map(|e| e.id).collect::<Vec<_>>(),
        "test": split.test.iter().map(|e| e.id).collect::<Vec<_>>(),
    }))?;

    let mut config = SequenceClassifierConfig::new(files.config.clone(), labels);
    config.pooling = settings.pooling;
    let train_device = device.clone().autodiff();
    train_device.seed(settings.fit.seed);
    let model = files.classifier(&config, &train_device)?;

    let metadata = HashMap::from([
        (BASE_SHA_KEY.to_string(), files.weights_sha256()),
        (TOKENIZER_SHA_KEY.to_string(), sha256_hex(&files.tokenizer)),
        (MAX_LEN_KEY.to_string(), settings.max_len.to_string()),
    ]);
    let save = |model: &SequenceClassifier, name: &str| -> Result<PathBuf> {
        let bytes = model.valid().to_safetensors(&config, metadata.clone())?;
        run.write(name, &bytes)
    };

    let output = fit(model, &tokenizer, &split.train, &split.dev, &settings.fit, &train_device, Some(&out.join("checkpoint")))?;
    let classifier = save(&output.best, "classifier.safetensors")?;
    let best = output.best.valid();
    let dev = output.history[output.best_epoch - 1].dev;
    let test = evaluate(&best, &tokenizer, &split.test, 64, device).context("evaluating on test")?;
    let summary = FinetuneSummary {
        best_epoch: output.best_epoch,
        dev,
        test,
        history: output.history,
        classifier,
        device: device_name.to_string(),
        base_model_sha256: files.weights_sha256(),
        seconds: started.elapsed().as_secs_f64(),
    };
    run.write_json("metrics.json", &summary)?;
    Ok(summary)
}
