//! Stage 3b: apply a drawn mask to the pre-trained weights and retrain the survivors and a
//! fresh head with plain cross-entropy.

use std::path::Path;

use anyhow::{Result, bail};
use burn::tensor::Device;
use clap::ValueEnum;
use rticket_core::model::mask_from_hf_order;
use serde::{Deserialize, Serialize};

use super::{StageContext, StageSettings, StageSummary};

/// Which classifier head a retraining starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum RetrainHead {
    /// A head drawn from a seed stream of its own (PAPER.md: "a fresh head"; the reference's
    /// retraining draws it after loading the search's model, so not as fine-tuning did).
    #[default]
    Fresh,
    /// The head fine-tuning started from (both drawn from the training seed): what every
    /// retraining did before 2026-11-28. Fine-tuning moves that head little and the search
    /// fits the mask to it, so the masked pre-trained encoder starts retraining already
    /// fitting the training set (98% on MR at equal data; results/experiments/NOTES.md).
    FineTuneInit,
}

impl RetrainHead {
    /// What a record or plan made before the choice existed (one without the field) did.
    pub fn before_the_choice() -> Self {
        RetrainHead::FineTuneInit
    }

    /// The name on the command line (clap's kebab-case, which serde's matches in plan.json).
    pub fn name(self) -> String {
        self.to_possible_value().expect("no head is hidden from the command line").get_name().to_owned()
    }

    /// The seed the head is drawn from, for a retraining with training seed `seed`.
    pub fn seed(self, seed: u64) -> u64 {
        // Any fixed offset gives a stream unrelated to the training seed's; this one spells "head".
        const FRESH_HEAD_STREAM: u64 = 0x6865_6164;
        match self {
            RetrainHead::Fresh => seed ^ FRESH_HEAD_STREAM,
            RetrainHead::FineTuneInit => seed,
        }
    }
}

/// Retrains under `masks` (HF `[out, in]` order), from the head `settings.retrain_head` names;
/// with `reinit`, the surviving weights start from fresh random values instead (the paper's
/// "re-initialised ticket" ablation).
pub fn run_retrain(
    settings: &StageSettings,
    masks: &[Vec<bool>],
    reinit: bool,
    out: &Path,
    resume: bool,
    device: &Device,
    device_name: &str,
) -> Result<(StageContext, StageSummary, rticket_core::SequenceClassifier)> {
    let head_seed = settings.retrain_head.seed(settings.fit.seed);
    let extra = serde_json::json!({ "reinit": reinit, "sparsity": sparsity(masks), "head_seed": head_seed });
    let ctx = StageContext::open(settings, "retrain", out, resume, device, device_name, extra)?;
    let train_device = ctx.train_device();
    let mut model = ctx.pretrained_with_head(head_seed)?;
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
