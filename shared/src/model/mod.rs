//! The BERT-family encoder in burn, its layers named after the HF checkpoint keys.
//!
//! Structure (HF key in brackets): [`BertEmbeddings`] (`embeddings.*`), one [`BertLayer`] per
//! `encoder.layer.{i}`, an optional pooler (`pooler.dense`), and a [`SequenceClassifier`] head
//! (`classifier`). Every dense matrix the ticket search gates is a [`Dense`], which carries an
//! optional gate and an optional fixed mask, so gating never touches the model code.

mod bert;
mod classifier;
mod dense;
mod dropout;
mod embeddings;
mod input;
mod layer;
mod layer_norm;
mod masked_lm;
mod saved_meta;

pub use bert::{BertModel, attention_bias, cls, mean_pool};
pub use classifier::{
    CONFIG_METADATA_KEY, HostTensor, Pooling, SequenceClassifier, SequenceClassifierConfig, host_tensors, sentence_features,
};
pub use dense::{Dense, mask_from_hf_order, read_rows, read_rows_async, read_values, to_hf_order};
pub use dropout::dropout;
pub use embeddings::BertEmbeddings;
pub use input::EncoderInput;
pub use layer::BertLayer;
pub use masked_lm::MaskedLmHead;
pub use saved_meta::{BASE_MODEL_SHA_KEY, MAX_LEN_KEY, SavedMeta, TOKENIZER_SHA_KEY, WINDOW_KEY};

/// Initial standard deviation of fresh weights (HF `initializer_range`).
pub const INIT_STD: f64 = 0.02;
