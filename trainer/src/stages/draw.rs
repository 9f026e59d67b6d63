//! Stage 3a: draw tickets from searched scores by global top-k at exact sparsities.

use anyhow::{Context, Result, bail};
use burn::module::Module;
use rticket_core::mask::draw_global;
use rticket_core::model::{Dense, SavedMeta};
use rticket_core::ticket::{MaskEncoding, Ticket};
use rticket_core::{Pooling, SequenceClassifier, Weights};

use super::{StageContext, TicketReport, export_ticket};
use crate::train::FitConfig;

/// Gate scores read back from a search, HF layout.
pub struct SearchScores {
    pub names: Vec<String>,
    pub scores: Vec<Vec<f32>>,
}

/// A drawn ticket's keep-masks (HF `[out, in]` order, one per gated matrix).
#[derive(Debug, Clone)]
pub struct DrawnTicket {
    pub sparsity: f64,
    pub masks: Vec<Vec<bool>>,
}

/// Reads `scores.safetensors`, in the gated order of `model`.
pub fn scores_from_file(bytes: &[u8], model: &SequenceClassifier) -> Result<SearchScores> {
    let file = Weights::from_bytes(bytes).context("the scores file is corrupt or truncated")?;
    let mut names = Vec::new();
    let mut scores = Vec::new();
    for (name, dense) in model.bert.dense_layers() {
        let [d_in, d_out] = dense.shape();
        let values = file.values(&format!("scores.{name}"), &[d_out, d_in])?;
        names.push(name);
        scores.push(values);
    }
    if file.tensor_count() != names.len() + 2 {
        bail!("the scores file has {} tensors; expected {} scores and a head", file.tensor_count(), names.len());
    }
    Ok(SearchScores { names, scores })
}

/// The pooling the searched head read, as the scores file records it (in the header a saved
/// classifier carries its config under, read the same way).
pub fn scores_pooling(bytes: &[u8]) -> Result<Pooling> {
    let recorded = SequenceClassifier::config_from_safetensors(bytes)
        .context("the scores file does not record a readable classifier config (rticket.classifier_config): rerun the search")?;
    Ok(recorded.pooling)
}

/// Global top-k on the scores at each sparsity. Ranking log_alpha equals ranking
/// sigmoid(log_alpha) (PAPER.md's draw), sigmoid being monotone.
pub fn draw_tickets(scores: &SearchScores, sparsities: &[f64]) -> Vec<DrawnTicket> {
    sparsities.iter().map(|&sparsity| DrawnTicket { sparsity, masks: draw_global(&scores.scores, sparsity) }).collect()
}

/// Draws from a search's scores file at each sparsity and exports each draw as a ticket of
/// masks plus the searched head (`ticket-<percent>.safetensors` in the stage folder), measured
/// on dev and test as loaded back onto the base weights. For a mask-only search these are the
/// final tickets; a paper-mode draw is retrained next. With `refit_head`, each ticket's head is
/// then trained again on the ticket's own features (`refit-<percent>/`, see [`super::refit_head`])
/// and the ticket exported with it; its training record keeps the searched head's accuracy.
pub fn export_draws(
    ctx: &StageContext,
    scores_bytes: &[u8],
    sparsities: &[f64],
    mask_encoding: MaskEncoding,
    training: serde_json::Value,
    refit_head: Option<&FitConfig>,
) -> Result<Vec<(DrawnTicket, TicketReport)>> {
    let recorded = SavedMeta::read(scores_bytes).context("the scores file is corrupt or truncated")?.base_model_sha256;
    if recorded.as_deref() != Some(ctx.files.weights_sha256().as_str()) {
        bail!(
            "these scores were searched on base weights with sha256 {recorded:?}, not the loaded {}: pass that search's --model",
            ctx.files.weights_sha256()
        );
    }
    // The head reads what it read in the search (a mask-only search reads mean pooling), and
    // its outputs must mean the data's classes.
    let mut config = ctx.classifier_config();
    config.pooling = scores_pooling(scores_bytes)?;
    let searched = SequenceClassifier::config_from_safetensors(scores_bytes).context("the scores file records no classifier config")?;
    crate::data::require_same_labels(&searched.labels, &ctx.labels, "the search these scores come from")?;
    let mut model = ctx.files.classifier(&config, &ctx.device)?;
    let scores = scores_from_file(scores_bytes, &model)?;
    let (hidden, labels) = (ctx.files.config.hidden_size, ctx.labels.len());
    model.classifier = Dense::load(&Weights::from_bytes(scores_bytes)?, "classifier", hidden, labels, &ctx.device)
        .context("reading the searched head")?;
    let mut out = Vec::new();
    for drawn in draw_tickets(&scores, sparsities) {
        let name = format!("ticket-{}.safetensors", percent_label(drawn.sparsity));
        let mut report = export_ticket(ctx, &model, &drawn, None, mask_encoding, training.clone(), &name)?;
        if let Some(config) = refit_head {
            let ticket = Ticket::from_bytes(&std::fs::read(&report.path)?)?;
            let sparse = ticket.classifier(&Weights::from_bytes(&ctx.files.weights)?, &ctx.files.weights_sha256(), &ctx.device)?;
            let dir = ctx.run.path.join(format!("refit-{}", percent_label(drawn.sparsity)));
            let refitted = super::refit_head(ctx, sparse, config, &dir)?;
            let mut with_head = model.clone();
            with_head.classifier = refitted.classifier.valid().fork(&ctx.device);
            let mut training = training.clone();
            training["head_refit"] = serde_json::json!({ "fit": config, "searched_head": { "dev": report.dev, "test": report.test } });
            report = export_ticket(ctx, &with_head, &drawn, None, mask_encoding, training, &name)?;
        }
        out.push((drawn, report));
    }
    Ok(out)
}

/// `0.3` -> `30`, `0.325` -> `32.5`.
pub fn percent_label(sparsity: f64) -> String {
    let text = format!("{:.2}", 100.0 * sparsity);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
