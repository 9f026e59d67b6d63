//! Refitting a drawn mask-only ticket's head on the ticket's own features. A hard-concrete
//! search trains its head on an encoder whose every weight is scaled by a fresh gate sample
//! (about 0.9 on average, with noise), while the ticket computes with exact 0/1 masks at the
//! drawn sparsity: the head meets features it never saw. Refitting it on the masked, frozen
//! encoder closes that gap and keeps the ticket a bitmask plus a head.

use std::path::Path;

use anyhow::Result;
use burn::module::Module;
use rticket_core::SequenceClassifier;

use super::{StageContext, base_fit};
use crate::train::{FitConfig, fit};

/// The head refit's optimisation: the search's head rate (1e-2; a linear probe on frozen
/// features), plain cross-entropy, `epochs` epochs, the epoch with the best dev accuracy kept.
pub fn head_refit_config(ctx: &StageContext, epochs: usize) -> FitConfig {
    let mut config = base_fit(ctx.settings.preset);
    config.epochs = epochs;
    config.lr = 1e-2;
    config.seed = ctx.settings.fit.seed;
    config
}

/// Trains the head of `sparse` (a ticket's classifier, masks applied to the base weights, or the
/// pre-trained encoder with a fresh head; on any device) with its encoder frozen; checkpoints and
/// the step log go to `dir`. Returns the best-dev model.
pub fn refit_head(ctx: &StageContext, sparse: SequenceClassifier, refit: &FitConfig, dir: &Path) -> Result<SequenceClassifier> {
    std::fs::create_dir_all(dir)?;
    let device = ctx.train_device();
    // Loaded afresh on the training device, as fine-tuning loads its start: the masked weights
    // become plain leaves there (the encoder's then frozen), the head a trainable one.
    let mut config = ctx.classifier_config();
    config.pooling = sparse.pooling();
    let bytes = sparse.to_safetensors(&config, Default::default())?;
    let (mut model, _) = SequenceClassifier::from_safetensors(&bytes, &device)?;
    model.bert = model.bert.no_grad();
    let output = fit(model, &ctx.tokenizer, &ctx.split.train, &ctx.split.dev, refit, &device, Some(dir), None)?;
    Ok(output.best)
}
