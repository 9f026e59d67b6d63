//! Stage 3a: draw tickets from searched scores by global top-k at exact sparsities.

use anyhow::{Context, Result, bail};
use rticket_core::mask::draw_global;
use rticket_core::{SequenceClassifier, Weights};
use safetensors::SafeTensors;

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
    let tensors = SafeTensors::deserialize(bytes).context("the scores file is corrupt or truncated")?;
    let mut names = Vec::new();
    let mut scores = Vec::new();
    for (name, dense) in model.bert.dense_layers() {
        let [d_in, d_out] = dense.shape();
        let values = Weights::from_bytes(bytes)?.values(&format!("scores.{name}"), &[d_out, d_in])?;
        names.push(name);
        scores.push(values);
    }
    if tensors.len() != names.len() + 2 {
        bail!("the scores file has {} tensors; expected {} scores and a head", tensors.len(), names.len());
    }
    Ok(SearchScores { names, scores })
}

/// Global top-k on the scores at each sparsity. Ranking log_alpha equals ranking
/// sigmoid(log_alpha) (PAPER.md's draw), sigmoid being monotone.
pub fn draw_tickets(scores: &SearchScores, sparsities: &[f64]) -> Vec<DrawnTicket> {
    let slices: Vec<&[f32]> = scores.scores.iter().map(Vec::as_slice).collect();
    sparsities.iter().map(|&sparsity| DrawnTicket { sparsity, masks: draw_global(&slices, sparsity) }).collect()
}
