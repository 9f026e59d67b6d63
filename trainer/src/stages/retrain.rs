//! Stage 3b: apply a drawn mask to the pre-trained weights and retrain the survivors and a
//! fresh head with plain cross-entropy.

use std::path::Path;

use anyhow::{Result, bail};
use burn::tensor::Device;
use rticket_core::model::mask_from_hf_order;

use super::{StageContext, StageSettings, StageSummary};

/// Retrains under `masks` (HF `[out, in]` order); with `reinit`, the surviving weights start
/// from fresh random values instead (the paper's "re-initialised ticket" ablation).
pub fn run_retrain(
    settings: &StageSettings,
    masks: &[Vec<bool>],
    reinit: bool,
    out: &Path,
    resume: bool,
    device: &Device,
    device_name: &str,
) -> Result<(StageContext, StageSummary, rticket_core::SequenceClassifier)> {
    let extra = serde_json::json!({ "reinit": reinit, "sparsity": sparsity(masks) });
    let ctx = StageContext::open(settings, "retrain", out, resume, device, device_name, extra)?;
    let train_device = ctx.train_device();
    let mut model = ctx.pretrained()?;
    let gated = model.bert.dense_layers().len();
    if masks.len() != gated {
        bail!("{} masks for the model's {gated} gated matrices: the masks were drawn for another model or pooling", masks.len());
    }
    if reinit {
        for dense in model.bert.dense_layers_mut() {
            let [d_in, d_out] = dense.shape();
            *dense = rticket_core::model::Dense::random(d_in, d_out, &train_device);
        }
    }
    let tensors = model
        .bert
        .dense_layers()
        .into_iter()
        .zip(masks)
        .map(|((_, dense), mask)| mask_from_hf_order(mask, dense.shape(), &train_device))
        .collect();
    model.bert = model.bert.with_masks(tensors);
    let output = ctx.train(model, &settings.fit)?;
    let summary = ctx.finish(&output, Vec::new())?;
    Ok((ctx, summary, output.best))
}

fn sparsity(masks: &[Vec<bool>]) -> f64 {
    let total: usize = masks.iter().map(Vec::len).sum();
    1.0 - masks.iter().flatten().filter(|k| **k).count() as f64 / total.max(1) as f64
}
