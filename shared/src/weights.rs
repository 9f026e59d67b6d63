//! Reading HF safetensors checkpoints (from bytes) into burn tensors, with shape checks.
//!
//! HF writes BERT keys either bare (`embeddings.word_embeddings.weight`, as in sentence-transformers
//! checkpoints) or under a `bert.` prefix (`BertForSequenceClassification`). [`Weights`] finds
//! which one a file uses, so the model code can always ask for the bare name.

use std::collections::{BTreeMap, HashMap};

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::tensor::View;
use safetensors::{Dtype, SafeTensorError, SafeTensors};

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

    /// How many tensors the file holds.
    pub fn tensor_count(&self) -> usize {
        self.tensors.len()
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
    pub fn metadata(bytes: &[u8]) -> Result<HashMap<String, String>> {
        let (_, meta) = SafeTensors::read_metadata(bytes)?;
        Ok(meta.metadata().clone().unwrap_or_default())
    }
}

/// [`safetensors::serialize`] with the metadata written in key order, so that the same tensors
/// and metadata are always the same bytes (and the same sha256 in a report). safetensors keeps
/// the metadata in a `HashMap` and writes it in that map's order, which is random per map.
/// Only the header's JSON is rewritten; tensor entries and data are left as they are.
pub fn serialize_with_metadata<S, V, I>(tensors: I, metadata: HashMap<String, String>) -> std::result::Result<Vec<u8>, SafeTensorError>
where
    S: AsRef<str> + Ord + std::fmt::Display,
    V: View,
    I: IntoIterator<Item = (S, V)>,
{
    let bytes = safetensors::serialize(tensors, Some(metadata))?;
    let header_len = bytes.get(..8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize).ok_or(SafeTensorError::HeaderTooSmall)?;
    let header = bytes.get(8..8 + header_len).ok_or(SafeTensorError::InvalidHeaderLength)?;
    let mut entries: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(header)?;
    if let Some(metadata) = entries.remove("__metadata__") {
        // Explicitly ordered: serde_json's map keeps insertion order when a crate in the build
        // turns on its `preserve_order` feature.
        let sorted: BTreeMap<String, serde_json::Value> = serde_json::from_value(metadata)?;
        entries.insert("__metadata__".into(), serde_json::to_value(sorted)?);
    }
    let mut text = serde_json::to_vec(&entries)?;
    // safetensors pads the header with spaces so the data starts 8-byte aligned.
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + text.len() + bytes.len() - 8 - header_len);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    out.extend_from_slice(&bytes[8 + header_len..]);
    Ok(out)
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
    fn the_same_tensors_and_metadata_are_the_same_bytes() {
        let data: Vec<u8> = [1.0f32, 2.0, 3.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        // Each HashMap iterates in its own random order; twenty keys make two equal orders
        // vanishingly unlikely, so the comparison fails without the sorting.
        let write = || {
            let metadata: HashMap<String, String> = (0..20).map(|i| (format!("key{i}"), format!("value {i}"))).collect();
            let view = safetensors::tensor::TensorView::new(Dtype::F32, vec![3], &data).expect("view");
            serialize_with_metadata([("t", view)], metadata).expect("serialize")
        };
        let first = write();
        for _ in 0..3 {
            assert!(write() == first, "two writes of the same tensors differ");
        }
        let parsed = Weights::from_bytes(&first).expect("readable");
        assert_eq!(parsed.values("t", &[3]).expect("tensor"), vec![1.0, 2.0, 3.0]);
        let metadata = Weights::metadata(&first).expect("metadata");
        assert_eq!((metadata.len(), metadata["key7"].as_str()), (20, "value 7"));
    }

    #[test]
    fn truncated_bytes_are_an_error_not_a_panic() {
        for bytes in [&b""[..], b"\x08\x00\x00\x00\x00\x00\x00\x00{}", b"\xff\xff\xff\xff\xff\xff\xff\xff"] {
            let err = Weights::from_bytes(bytes).err().expect("must fail").to_string();
            assert!(err.contains("corrupt or truncated"), "{err}");
        }
    }
}
