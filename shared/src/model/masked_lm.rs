//! BERT's masked-language-model head (`cls.predictions.*`), for the masked-LM version of
//! BERT-Attack: transform (dense + activation + LayerNorm), then scores over the vocabulary
//! from the decoder (tied to the word embeddings when the file has no decoder of its own).

use burn::module::Module;
use burn::nn::LayerNorm;
use burn::tensor::{Device, Tensor};

use super::{Dense, layer::activate, layer_norm};
use crate::{BertConfig, BertModel, HiddenAct, Result, Weights};

/// Keys of the head in HF checkpoints (`BertForMaskedLM`, `BertForPreTraining`).
const PREFIX: &str = "cls.predictions";

/// The masked-LM head.
#[derive(Module, Debug)]
pub struct MaskedLmHead {
    transform: Dense,
    #[module(skip)]
    act: HiddenAct,
    layer_norm: LayerNorm,
    /// `[hidden, vocab]`.
    decoder: Tensor<2>,
    /// `[vocab]`.
    bias: Tensor<1>,
}

impl MaskedLmHead {
    /// Whether `weights` hold a masked-LM head.
    pub fn present(weights: &Weights) -> bool {
        weights.has(&format!("{PREFIX}.bias"))
    }

    /// Loads the head; the decoder is `cls.predictions.decoder.weight` when stored, else the
    /// encoder's word embeddings (BERT ties them).
    pub fn load(config: &BertConfig, weights: &Weights, encoder: &BertModel, device: &Device) -> Result<Self> {
        let (h, v) = (config.hidden_size, config.vocab_size);
        let decoder_key = format!("{PREFIX}.decoder.weight");
        let decoder = if weights.has(&decoder_key) {
            weights.linear_weight(&decoder_key, h, v, device)?
        } else {
            encoder.embeddings.word_embeddings.val().transpose()
        };
        Ok(Self {
            transform: Dense::load(weights, &format!("{PREFIX}.transform.dense"), h, h, device)?,
            act: config.hidden_act,
            layer_norm: layer_norm::load(weights, &format!("{PREFIX}.transform.LayerNorm"), h, config.layer_norm_eps, device)?,
            decoder,
            bias: weights.vector(&format!("{PREFIX}.bias"), v, device)?,
        })
    }

    /// Vocabulary scores (logits) for every token.
    ///
    /// # Shapes
    /// hidden: `[batch, seq, hidden]`, output: `[batch, seq, vocab]`.
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        let x = self.layer_norm.forward(activate(self.act, self.transform.forward(hidden)));
        burn::tensor::module::linear(x, self.decoder.clone(), Some(self.bias.clone()))
    }
}
