//! Word, position and token-type embeddings (HF `BertEmbeddings`).

use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, LayerNorm};
use burn::tensor::{Device, Distribution, Int, Tensor, module::embedding};

use crate::{BertConfig, Result, Weights};

use super::{dropout, INIT_STD, layer_norm};

/// The input layer. The word embedding is exposed on its own so that an adversary can perturb
/// it (HF's `inputs_embeds`) before positions and types are added.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    /// `[vocab, hidden]`.
    pub word_embeddings: Param<Tensor<2>>,
    /// `[max_positions, hidden]`.
    pub position_embeddings: Param<Tensor<2>>,
    /// `[type_vocab, hidden]`.
    pub token_type_embeddings: Param<Tensor<2>>,
    pub layer_norm: LayerNorm,
    dropout: Dropout,
}

impl BertEmbeddings {
    pub fn random(config: &BertConfig, device: &Device) -> Self {
        let table = |rows: usize| Tensor::random([rows, config.hidden_size], Distribution::Normal(0.0, INIT_STD), device);
        Self {
            word_embeddings: Param::from_tensor(table(config.vocab_size)),
            position_embeddings: Param::from_tensor(table(config.max_position_embeddings)),
            token_type_embeddings: Param::from_tensor(table(config.type_vocab_size)),
            layer_norm: layer_norm::random(config.hidden_size, config.layer_norm_eps, device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        }
    }

    pub fn load(config: &BertConfig, weights: &Weights, device: &Device) -> Result<Self> {
        let h = config.hidden_size;
        let key = |name: &str| weights.encoder_key(&format!("embeddings.{name}"));
        let table = |name: &str, rows: usize| weights.matrix(&key(name), [rows, h], device);
        Ok(Self {
            word_embeddings: Param::from_tensor(table("word_embeddings.weight", config.vocab_size)?),
            position_embeddings: Param::from_tensor(table("position_embeddings.weight", config.max_position_embeddings)?),
            token_type_embeddings: Param::from_tensor(table("token_type_embeddings.weight", config.type_vocab_size)?),
            layer_norm: layer_norm::load(weights, &key("LayerNorm"), h, config.layer_norm_eps, device)?,
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        })
    }

    /// Looks up word embeddings.
    ///
    /// # Shapes
    /// input_ids: `[batch, seq]`, output: `[batch, seq, hidden]`.
    pub fn words(&self, input_ids: Tensor<2, Int>) -> Tensor<3> {
        embedding(self.word_embeddings.val(), input_ids)
    }

    /// Adds positions and token types to (possibly perturbed) word embeddings, then normalises.
    ///
    /// # Shapes
    /// words: `[batch, seq, hidden]`, token_type_ids: `[batch, seq]`, output like `words`.
    pub fn forward(&self, words: Tensor<3>, token_type_ids: Tensor<2, Int>) -> Tensor<3> {
        let [_, seq, _] = words.dims();
        let device = words.device();
        let positions = Tensor::<1, Int>::arange(0..seq as i64, &device).reshape([1, seq]);
        let positions = embedding(self.position_embeddings.val(), positions); // [1, seq, hidden]
        let types = embedding(self.token_type_embeddings.val(), token_type_ids);
        dropout(&self.dropout, self.layer_norm.forward(words + positions + types))
    }
}
