//! The encoder (HF `BertModel`): embeddings, layers, optional pooler, and pooled outputs.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::gate::{HardConcreteConfig, HardConcreteGate};
use crate::{BertConfig, Error, Result, Weights};

use super::{BertEmbeddings, BertLayer, Dense, EncoderInput};

/// Additive attention bias for padded positions: small enough that softmax gives them exactly 0.
const MASKED_SCORE: f32 = -1e4;

/// A BERT-family encoder.
#[derive(Module, Debug)]
pub struct BertModel {
    pub embeddings: BertEmbeddings,
    /// `encoder.layer.{i}`.
    pub layers: Vec<BertLayer>,
    /// `pooler.dense`; absent in checkpoints saved without a pooler.
    pub pooler: Option<Dense>,
}

impl BertModel {
    /// A randomly initialised encoder (tests, the tiny config).
    pub fn random(config: &BertConfig, device: &Device) -> Self {
        Self {
            embeddings: BertEmbeddings::random(config, device),
            layers: (0..config.num_hidden_layers).map(|_| BertLayer::random(config, device)).collect(),
            pooler: Some(Dense::random(config.hidden_size, config.hidden_size, device)),
        }
    }

    /// Loads every tensor the config calls for, checking each shape.
    pub fn load(config: &BertConfig, weights: &Weights, device: &Device) -> Result<Self> {
        config.validate()?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| BertLayer::load(config, weights, i, device))
            .collect::<Result<Vec<_>>>()?;
        // A checkpoint with more layers than the config is a config from another model.
        let extra = weights.encoder_key(&format!("encoder.layer.{}.output.dense.weight", config.num_hidden_layers));
        if weights.has(&extra) {
            return Err(Error::Config(format!(
                "num_hidden_layers is {} but the weights have more layers (found `{extra}`): \
                 config.json belongs to another model",
                config.num_hidden_layers
            )));
        }
        let pooler_key = weights.encoder_key("pooler.dense");
        let pooler = if weights.has(&format!("{pooler_key}.weight")) {
            Some(Dense::load(weights, &pooler_key, config.hidden_size, config.hidden_size, device)?)
        } else {
            None
        };
        Ok(Self { embeddings: BertEmbeddings::load(config, weights, device)?, layers, pooler })
    }

    /// Token representations of the last layer.
    ///
    /// # Shapes
    /// output: `[batch, seq, hidden]`.
    pub fn forward(&self, input: &EncoderInput) -> Tensor<3> {
        let words = self.embeddings.words(input.input_ids.clone());
        self.forward_words(words, input)
    }

    /// Like [`Self::forward`], from given (for example perturbed) word embeddings.
    ///
    /// # Shapes
    /// words: `[batch, seq, hidden]`, output: `[batch, seq, hidden]`.
    pub fn forward_words(&self, words: Tensor<3>, input: &EncoderInput) -> Tensor<3> {
        let mask_bias = attention_bias(input.attention_mask.clone());
        let mut hidden = self.embeddings.forward(words, input.token_type_ids.clone());
        for layer in &self.layers {
            hidden = layer.forward(hidden, mask_bias.clone());
        }
        hidden
    }

    /// Pooler output, `tanh(W h_[CLS] + b)`; `None` when the checkpoint has no pooler.
    ///
    /// # Shapes
    /// hidden: `[batch, seq, hidden]`, output: `[batch, hidden]`.
    pub fn pool(&self, hidden: Tensor<3>) -> Option<Tensor<2>> {
        self.pooler.as_ref().map(|pooler| pooler.forward(cls(hidden)).tanh())
    }

    /// The gated matrices with their HF key (without prefix), in PAPER.md's order:
    /// each layer's six, then the pooler.
    pub fn dense_layers(&self) -> Vec<(String, &Dense)> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            for (suffix, dense) in super::layer::GATED_IN_LAYER.iter().zip(layer.dense_layers()) {
                out.push((format!("encoder.layer.{i}.{suffix}"), dense));
            }
        }
        if let Some(pooler) = &self.pooler {
            out.push(("pooler.dense".to_string(), pooler));
        }
        out
    }

    /// Mutable access to the gated matrices, in the order of [`Self::dense_layers`].
    pub fn dense_layers_mut(&mut self) -> Vec<&mut Dense> {
        let mut out: Vec<&mut Dense> = self.layers.iter_mut().flat_map(|l| l.dense_layers_mut()).collect();
        if let Some(pooler) = &mut self.pooler {
            out.push(pooler);
        }
        out
    }
}

impl BertModel {
    /// Gates every gated matrix with fresh hard-concrete gates (the start of a mask search).
    pub fn with_gates(mut self, config: &HardConcreteConfig) -> Self {
        for dense in self.dense_layers_mut() {
            let device = dense.weight.val().device();
            let gate = config.init(dense.shape(), &device);
            *dense = dense.clone().with_gate(gate);
        }
        self
    }

    /// The gates of the gated matrices, in [`Self::dense_layers`] order (empty when ungated).
    pub fn gates(&self) -> Vec<&HardConcreteGate> {
        self.dense_layers().into_iter().filter_map(|(_, d)| d.gate.as_ref()).collect()
    }

    /// Fixes a 0/1 mask (stored `[d_in, d_out]`) on each gated matrix, in [`Self::dense_layers`] order.
    pub fn with_masks(mut self, masks: Vec<Tensor<2>>) -> Self {
        let dense = self.dense_layers_mut();
        assert_eq!(dense.len(), masks.len(), "one mask per gated matrix");
        for (dense, mask) in dense.into_iter().zip(masks) {
            *dense = dense.clone().with_mask(mask);
        }
        self
    }

    /// Like [`Self::with_masks`], but multiplied into the weights once (inference only: the
    /// pruned weights would come back if such a model were trained).
    pub fn with_masks_applied(mut self, masks: Vec<Tensor<2>>) -> Self {
        let dense = self.dense_layers_mut();
        assert_eq!(dense.len(), masks.len(), "one mask per gated matrix");
        for (dense, mask) in dense.into_iter().zip(masks) {
            *dense = dense.clone().with_mask_applied(mask);
        }
        self
    }
}

/// The additive attention bias of a padding mask: 0 for real tokens, [`MASKED_SCORE`] for padding.
///
/// # Shapes
/// attention_mask: `[batch, seq]`, output: `[batch, 1, 1, seq]`.
pub fn attention_bias(attention_mask: Tensor<2>) -> Tensor<4> {
    let [batch, seq] = attention_mask.dims();
    (attention_mask.neg() + 1.0).mul_scalar(MASKED_SCORE).reshape([batch, 1, 1, seq])
}

/// The first token's representation.
///
/// # Shapes
/// hidden: `[batch, seq, hidden]`, output: `[batch, hidden]`.
pub fn cls(hidden: Tensor<3>) -> Tensor<2> {
    let [batch, _, width] = hidden.dims();
    hidden.slice([0..batch, 0..1]).reshape([batch, width])
}

/// Mean of the real tokens' representations (sentence-transformers' mean pooling).
///
/// # Shapes
/// hidden: `[batch, seq, hidden]`, mask: `[batch, seq]`, output: `[batch, hidden]`.
pub fn mean_pool(hidden: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
    let [batch, seq, width] = hidden.dims();
    let mask = mask.reshape([batch, seq, 1]);
    let summed = (hidden * mask.clone()).sum_dim(1).reshape([batch, width]);
    let counts = mask.sum_dim(1).reshape([batch, 1]).clamp_min(1e-9);
    summed / counts
}
