//! Writing a drawn ticket to a file, evaluating it as loaded back from that file, and
//! measuring its size against the entropy bound of its masks.

use anyhow::Result;
use rticket_core::ticket::{MaskEncoding, Ticket, ValueDtype};
use rticket_core::{SequenceClassifier, Weights};
use serde::{Deserialize, Serialize};

use super::{DrawnTicket, StageContext};
use crate::train::Evaluation;

/// A written ticket and its numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketReport {
    pub path: std::path::PathBuf,
    pub sparsity: f64,
    pub values: Option<ValueDtype>,
    pub mask_encoding: MaskEncoding,
    pub dev: Evaluation,
    pub test: Evaluation,
    pub file_bytes: usize,
    pub gated_weights: usize,
    /// Mask bits stored in the file per gated weight (1.0 plus padding with plain packing;
    /// near the entropy bound with ANS).
    pub mask_bits_per_weight: f64,
    /// The entropy bound: sum over matrices of n_i * H(density_i), per gated weight.
    pub entropy_bits_per_weight: f64,
}

/// Exports `model` under `drawn` as `name` in the stage's folder. The metrics recorded in the
/// ticket come from the ticket itself, loaded back through the reader onto the base weights.
pub fn export_ticket(
    ctx: &StageContext,
    model: &SequenceClassifier,
    drawn: &DrawnTicket,
    values: Option<ValueDtype>,
    mask_encoding: MaskEncoding,
    training: serde_json::Value,
    name: &str,
) -> Result<TicketReport> {
    let mut meta = ctx.ticket_meta(training);
    meta.classifier.pooling = model.pooling();
    let mut ticket = Ticket::from_classifier(model, &drawn.masks, values, meta)?;
    ticket.mask_encoding = mask_encoding;
    let loaded = Ticket::from_bytes(&ticket.to_bytes()?)?;
    let base = Weights::from_bytes(&ctx.files.weights)?;
    let sparse = loaded.classifier(&base, &ctx.files.weights_sha256(), &ctx.device)?;
    let (dev, test) = ctx.evaluate(&sparse)?;
    ticket.meta.metrics = serde_json::json!({ "dev": dev, "test": test });
    let bytes = ticket.to_bytes()?;
    let path = ctx.run.write(name, &bytes)?;
    TicketReport::measure(&ticket, &bytes, &path)
}

impl TicketReport {
    /// The numbers of a ticket as written to `path` (`bytes`), with the dev/test metrics it records.
    pub fn measure(ticket: &Ticket, bytes: &[u8], path: &std::path::Path) -> Result<Self> {
        let gated_weights = ticket.gated_weights();
        // Measured on the written file: the bytes of its mask tensors.
        let stored = safetensors::SafeTensors::deserialize(bytes)?;
        let mask_bits: usize = stored.tensors().iter().filter(|(n, _)| n.starts_with("mask.")).map(|(_, v)| v.data().len() * 8).sum();
        let entropy_bits: f64 = ticket
            .meta
            .shapes
            .iter()
            .zip(&ticket.meta.density)
            .map(|([o, i], d)| (o * i) as f64 * binary_entropy(*d))
            .sum();
        let evaluation = |split: &str| serde_json::from_value(ticket.meta.metrics[split].clone());
        Ok(Self {
            path: path.to_path_buf(),
            sparsity: ticket.meta.sparsity,
            values: ticket.values.as_ref().map(|(dtype, _)| *dtype),
            mask_encoding: ticket.mask_encoding,
            dev: evaluation("dev")?,
            test: evaluation("test")?,
            file_bytes: bytes.len(),
            gated_weights,
            mask_bits_per_weight: mask_bits as f64 / gated_weights as f64,
            entropy_bits_per_weight: entropy_bits / gated_weights as f64,
        })
    }
}

/// H(p) in bits.
pub fn binary_entropy(p: f64) -> f64 {
    if p <= 0.0 || p >= 1.0 {
        0.0
    } else {
        -(p * p.log2() + (1.0 - p) * (1.0 - p).log2())
    }
}
