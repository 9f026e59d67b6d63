//! A base model's files: config.json, the safetensors weights (every tensor read at its stated
//! shape), a saved classifier (the page's dense model) built on the CPU backend.
#![no_main]

use burn::tensor::Device;
use libfuzzer_sys::fuzz_target;
use rticket_core::model::SavedMeta;
use rticket_core::{BertConfig, SequenceClassifier, Weights};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    match pick % 3 {
        0 => {
            if let Ok(config) = BertConfig::from_json(bytes) {
                let _ = config.head_dim();
            }
        }
        1 => {
            let Ok(weights) = Weights::from_bytes(bytes) else { return };
            let _ = weights.tensor_count();
            let _ = Weights::metadata(bytes).map(|m| SavedMeta::from_metadata(&m));
            for key in ["embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight", "pooler.dense.bias"] {
                let key = weights.encoder_key(key);
                let _ = weights.values(&key, &[4, 4]);
                let _ = weights.values(&key, &[16]);
            }
        }
        _ => {
            let _ = SequenceClassifier::from_safetensors(bytes, &Device::flex());
        }
    }
});
