//! rticket in the browser: a wasm-bindgen API over the shared encoder.
//!
//! The only crate that knows wasm-bindgen. Everything is built from byte buffers the page
//! fetched (weights, config, tokenizer), as in candle's wasm examples.

use burn::tensor::Device;
use rticket_core::model::{EncoderInput, mean_pool};
use rticket_core::{BertConfig, BertModel, TextTokenizer, Weights};
use wasm_bindgen::prelude::*;

/// A sentence encoder (mean pooling) running on the CPU backend in wasm.
#[wasm_bindgen]
pub struct Encoder {
    model: BertModel,
    tokenizer: TextTokenizer,
    device: Device,
}

#[wasm_bindgen]
impl Encoder {
    /// Builds the encoder from `config.json`, `model.safetensors` and `tokenizer.json` bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &[u8], weights: &[u8], tokenizer: &[u8], max_len: usize) -> Result<Encoder, JsError> {
        let config = BertConfig::from_json(config)?;
        let device = Device::flex();
        let model = BertModel::load(&config, &Weights::from_bytes(weights)?, &device)?;
        let tokenizer = TextTokenizer::from_bytes(tokenizer, max_len.min(config.max_position_embeddings))?;
        tokenizer.check_vocab(config.vocab_size)?;
        Ok(Self { model, tokenizer, device })
    }

    /// Mean-pooled embeddings of `texts`, flattened row-major (`texts.len() * hidden` values).
    pub fn embed(&self, texts: Vec<String>) -> Result<Vec<f32>, JsError> {
        let batch = self.tokenizer.encode_batch(&texts)?;
        let input = EncoderInput::new(&batch, &self.device);
        let pooled = mean_pool(self.model.forward(&input), input.attention_mask.clone());
        pooled.into_data().try_into_vec::<f32>().map_err(|e| JsError::new(&format!("{e:?}")))
    }
}
