//! rticket-core: robust lottery tickets for BERT-family encoders.
//!
//! Everything here runs both natively and in the browser (wasm32): the encoder ([`model`]),
//! its tokenizer ([`tokenize`]), weight loading from safetensors bytes ([`weights`]) and the
//! hard-concrete gates that the ticket search learns ([`gate`]). The crate does no file or
//! network I/O: callers hand it bytes and get tensors, values or bytes back.

pub mod attack;
pub mod config;
pub mod error;
pub mod gate;
pub mod mask;
pub mod model;
pub mod random;
pub mod tokenize;
pub mod ticket;
pub mod weights;

pub use config::{BertConfig, HiddenAct};
pub use error::{Error, Result};
pub use model::{BertModel, Pooling, SequenceClassifier, SequenceClassifierConfig};
pub use tokenize::{EncodedBatch, GPU_PAD_MULTIPLE, TextTokenizer, Window};
pub use weights::Weights;
