//! Stage 1 of PAPER.md: fine-tune the encoder and a fresh head with cross-entropy.

use std::path::Path;

use anyhow::Result;
use burn::tensor::Device;

use super::{StageContext, StageSettings, StageSummary};

/// Fine-tunes with `settings.fit`, writing `run.json`, `split.json`, `checkpoint/`,
/// `classifier.safetensors` (best dev epoch) and `metrics.json` into `out`.
pub fn run_finetune(settings: &StageSettings, out: &Path, resume: bool, device: &Device, device_name: &str) -> Result<StageSummary> {
    let ctx = StageContext::open(settings, "finetune", out, resume, device, device_name, serde_json::json!({}))?;
    let output = ctx.train(ctx.pretrained()?, &settings.fit)?;
    let classifier = ctx.save_classifier(&output.best, "classifier.safetensors")?;
    ctx.finish(&output, vec![classifier])
}
