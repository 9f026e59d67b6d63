//! Reading HF safetensors checkpoints (from bytes) into burn tensors, with shape checks.
//!
//! HF writes BERT keys either bare (`embeddings.word_embeddings.weight`, as in sentence-transformers
//! checkpoints) or under a `bert.` prefix (`BertForSequenceClassification`). [`Weights`] finds
//! which one a file uses, so the model code can always ask for the bare name.

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

use crate::{Error, Result};

/// Prefixes under which HF stores the encoder, tried in order.
const ENCODER_PREFIXES: [&str; 2] = ["", "bert."];
/// The tensor whose presence identifies the prefix.
const PROBE: &str = "embeddings.word_embeddings.weight";

/// A parsed safetensors checkpoint.
pub struct Weights<'a> {
    tensors: SafeTensors<'a>,
    prefix: &'static str,
}

impl<'a> Weights<'a> {
    /// Parses a safetensors buffer. Fails on corrupt or truncated data.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self> {
        let tensors = SafeTensors::deserialize(bytes)?;
        let prefix = ENCODER_PREFIXES
            .into_iter()
            .find(|p| tensors.tensor(&format!("{p}{PROBE}")).is_ok())
            .unwrap_or("");
        Ok(Self { tensors, prefix })
    }

    /// The key prefix of the encoder's tensors (`""` or `"bert."`).
    pub fn encoder_prefix(&self) -> &'static str {
        self.prefix
    }

    /// The full key of encoder tensor `name` (its bare HF name).
    pub fn encoder_key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Whether a tensor with this exact key exists.
    pub fn has(&self, key: &str) -> bool {
        self.tensors.tensor(key).is_ok()
    }

    /// The values of the tensor stored under exactly `key`, checked against `expected`.
    pub fn values(&self, key: &str, expected: &[usize]) -> Result<Vec<f32>> {
        let view = self.tensors.tensor(key).map_err(|_| Error::MissingTensor {
            name: key.to_string(),
            prefix: self.prefix.to_string(),
        })?;
        if view.shape() != expected {
            return Err(Error::ShapeMismatch {
                name: key.to_string(),
                expected: expected.to_vec(),
                found: view.shape().to_vec(),
            });
        }
        let data = view.data();
        let values = match view.dtype() {
            Dtype::F32 => data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(Error::UnsupportedDtype { name: key.to_string(), dtype: format!("{other:?}") });
            }
        };
        Ok(values)
    }

    /// The matrix stored under `key`, as stored (`[rows, cols]`).
    pub fn matrix(&self, key: &str, shape: [usize; 2], device: &Device) -> Result<Tensor<2>> {
        let values = self.values(key, &shape)?;
        Ok(Tensor::from_data(TensorData::new(values, shape), device))
    }

    /// A HF linear weight (stored `[out, in]`) under `key`, transposed to burn's `[in, out]`.
    pub fn linear_weight(&self, key: &str, d_in: usize, d_out: usize, device: &Device) -> Result<Tensor<2>> {
        let values = self.values(key, &[d_out, d_in])?;
        Ok(Tensor::from_data(TensorData::new(transpose(&values, d_out, d_in), [d_in, d_out]), device))
    }

    /// A rank-1 tensor stored under exactly `key`.
    pub fn vector(&self, key: &str, len: usize, device: &Device) -> Result<Tensor<1>> {
        let values = self.values(key, &[len])?;
        Ok(Tensor::from_data(TensorData::new(values, [len]), device))
    }

    /// The string metadata of the file's header, if any.
    pub fn metadata(bytes: &[u8]) -> Result<std::collections::HashMap<String, String>> {
        let (_, meta) = SafeTensors::read_metadata(bytes)?;
        Ok(meta.metadata().clone().unwrap_or_default())
    }
}

/// Transposes a row-major `[rows, cols]` matrix.
pub fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_swaps_rows_and_columns() {
        assert_eq!(transpose(&[1., 2., 3., 4., 5., 6.], 2, 3), vec![1., 4., 2., 5., 3., 6.]);
    }

    #[test]
    fn truncated_bytes_are_an_error_not_a_panic() {
        for bytes in [&b""[..], b"\x08\x00\x00\x00\x00\x00\x00\x00{}", b"\xff\xff\xff\xff\xff\xff\xff\xff"] {
            let err = Weights::from_bytes(bytes).err().expect("must fail").to_string();
            assert!(err.contains("corrupt or truncated"), "{err}");
        }
    }
}
