//! The tensors one forward pass of the encoder takes.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::tokenize::EncodedBatch;

/// A padded batch on a device.
#[derive(Debug, Clone)]
pub struct EncoderInput {
    /// `[batch, seq]` token ids.
    pub input_ids: Tensor<2, Int>,
    /// `[batch, seq]` segment ids.
    pub token_type_ids: Tensor<2, Int>,
    /// `[batch, seq]`, 1.0 for real tokens, 0.0 for padding.
    pub attention_mask: Tensor<2>,
}

impl EncoderInput {
    /// Moves a tokenized batch to `device`.
    pub fn new(batch: &EncodedBatch, device: &Device) -> Self {
        let shape = [batch.len(), batch.seq_len];
        Self {
            input_ids: Tensor::from_data(TensorData::new(batch.input_ids.clone(), shape), device),
            token_type_ids: Tensor::from_data(TensorData::new(batch.token_type_ids.clone(), shape), device),
            attention_mask: Tensor::from_data(TensorData::new(batch.attention_mask.clone(), shape), device),
        }
    }
}
