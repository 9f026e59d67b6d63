//! What the page shows about a loaded ticket: sparsity overall and per matrix (for the heat
//! map), its size against the dense weights, its recorded metrics, and the base-model check.

use rticket_core::ticket::Ticket;
use serde::Serialize;

/// One gated matrix of the ticket.
#[derive(Serialize)]
pub struct MatrixInfo {
    pub name: String,
    /// HF `[out, in]`.
    pub shape: [usize; 2],
    pub density: f64,
}

/// The ticket panel's content.
#[derive(Serialize)]
pub struct TicketInfo {
    pub base_model: String,
    pub base_model_sha256: String,
    /// Always true for a loaded ticket: loading refuses other base weights.
    pub base_matches: bool,
    pub sparsity: f64,
    pub matrices: Vec<MatrixInfo>,
    pub file_bytes: usize,
    /// The base model's `model.safetensors`, for comparison.
    pub dense_bytes: usize,
    pub mask_encoding: String,
    pub values: String,
    pub labels: Vec<String>,
    pub max_len: usize,
    /// Which end of longer texts the ticket reads: "head" or "tail".
    pub window: String,
    pub metrics: serde_json::Value,
}

impl TicketInfo {
    pub fn new(ticket: &Ticket, file_bytes: usize, dense_bytes: usize) -> Self {
        let m = &ticket.meta;
        Self {
            base_model: m.base_model.clone(),
            base_model_sha256: m.base_model_sha256.clone(),
            base_matches: true,
            sparsity: m.sparsity,
            matrices: m
                .gated
                .iter()
                .zip(&m.shapes)
                .zip(&m.density)
                .map(|((name, shape), density)| MatrixInfo { name: name.clone(), shape: *shape, density: *density })
                .collect(),
            file_bytes,
            dense_bytes,
            mask_encoding: format!("{:?}", ticket.mask_encoding).to_lowercase(),
            values: ticket.values.as_ref().map(|(d, _)| format!("{d:?}").to_lowercase()).unwrap_or_else(|| "none (mask-only)".into()),
            labels: m.classifier.labels.clone(),
            max_len: m.max_len,
            window: m.window.name().to_string(),
            metrics: m.metrics.clone(),
        }
    }
}
