//! One transformer block (HF `BertLayer`: self-attention, its output, intermediate, output).

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, LayerNorm};
use burn::tensor::{Device, Tensor, activation};

use crate::{BertConfig, HiddenAct, Result, Weights};

use super::{dropout, Dense, layer_norm};

/// The six gated matrices of a layer, in PAPER.md's order, with their HF key suffixes.
pub const GATED_IN_LAYER: [&str; 6] = [
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
];

/// Post-norm transformer block.
#[derive(Module, Debug)]
pub struct BertLayer {
    pub query: Dense,
    pub key: Dense,
    pub value: Dense,
    /// `attention.output.dense`.
    pub attention_output: Dense,
    /// `attention.output.LayerNorm`.
    pub attention_norm: LayerNorm,
    /// `intermediate.dense`.
    pub intermediate: Dense,
    /// `output.dense`.
    pub output: Dense,
    /// `output.LayerNorm`.
    pub output_norm: LayerNorm,
    attention_dropout: Dropout,
    hidden_dropout: Dropout,
    num_heads: usize,
    #[module(skip)]
    act: HiddenAct,
}

impl BertLayer {
    pub fn random(config: &BertConfig, device: &Device) -> Self {
        let (h, i, eps) = (config.hidden_size, config.intermediate_size, config.layer_norm_eps);
        Self::assemble(
            config,
            [
                Dense::random(h, h, device),
                Dense::random(h, h, device),
                Dense::random(h, h, device),
                Dense::random(h, h, device),
                Dense::random(h, i, device),
                Dense::random(i, h, device),
            ],
            [layer_norm::random(h, eps, device), layer_norm::random(h, eps, device)],
        )
    }

    /// Loads `encoder.layer.{index}.*`.
    pub fn load(config: &BertConfig, weights: &Weights, index: usize, device: &Device) -> Result<Self> {
        let (h, i, eps) = (config.hidden_size, config.intermediate_size, config.layer_norm_eps);
        let key = |suffix: &str| weights.encoder_key(&format!("encoder.layer.{index}.{suffix}"));
        let dims = [(h, h), (h, h), (h, h), (h, h), (h, i), (i, h)];
        let mut dense = Vec::with_capacity(6);
        for (suffix, (d_in, d_out)) in GATED_IN_LAYER.iter().zip(dims) {
            dense.push(Dense::load(weights, &key(suffix), d_in, d_out, device)?);
        }
        let norms = [
            layer_norm::load(weights, &key("attention.output.LayerNorm"), h, eps, device)?,
            layer_norm::load(weights, &key("output.LayerNorm"), h, eps, device)?,
        ];
        let dense: [Dense; 6] = dense.try_into().expect("six dense layers");
        Ok(Self::assemble(config, dense, norms))
    }

    fn assemble(config: &BertConfig, dense: [Dense; 6], norms: [LayerNorm; 2]) -> Self {
        let [query, key, value, attention_output, intermediate, output] = dense;
        let [attention_norm, output_norm] = norms;
        Self {
            query,
            key,
            value,
            attention_output,
            attention_norm,
            intermediate,
            output,
            output_norm,
            attention_dropout: DropoutConfig::new(config.attention_probs_dropout_prob).init(),
            hidden_dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            num_heads: config.num_attention_heads,
            act: config.hidden_act,
        }
    }

    /// The gated matrices in [`GATED_IN_LAYER`] order.
    pub fn dense_layers(&self) -> [&Dense; 6] {
        [&self.query, &self.key, &self.value, &self.attention_output, &self.intermediate, &self.output]
    }

    /// Mutable access in [`GATED_IN_LAYER`] order.
    pub fn dense_layers_mut(&mut self) -> [&mut Dense; 6] {
        [
            &mut self.query,
            &mut self.key,
            &mut self.value,
            &mut self.attention_output,
            &mut self.intermediate,
            &mut self.output,
        ]
    }

    /// # Shapes
    /// hidden: `[batch, seq, hidden]`, mask_bias: `[batch, 1, 1, seq]` (0 or a large negative),
    /// output: `[batch, seq, hidden]`.
    pub fn forward(&self, hidden: Tensor<3>, mask_bias: Tensor<4>) -> Tensor<3> {
        let [batch, seq, width] = hidden.dims();
        let head_dim = width / self.num_heads;
        let heads = |x: Tensor<3>| x.reshape([batch, seq, self.num_heads, head_dim]).swap_dims(1, 2);

        let query = heads(self.query.forward(hidden.clone())); // [b, heads, seq, head_dim]
        let key = heads(self.key.forward(hidden.clone()));
        let value = heads(self.value.forward(hidden.clone()));
        let scores = query.matmul(key.transpose()) / (head_dim as f64).sqrt() + mask_bias; // [b, heads, seq, seq]
        let probs = dropout(&self.attention_dropout, activation::softmax(scores, 3));
        let context = probs.matmul(value).swap_dims(1, 2).reshape([batch, seq, width]);

        let attended = dropout(&self.hidden_dropout, self.attention_output.forward(context));
        let attended = self.attention_norm.forward(attended + hidden);

        let inner = self.intermediate.forward(attended.clone());
        let inner = activate(self.act, inner);
        let out = dropout(&self.hidden_dropout, self.output.forward(inner));
        self.output_norm.forward(out + attended)
    }
}

/// The config's hidden activation.
pub(crate) fn activate<const D: usize>(act: HiddenAct, x: Tensor<D>) -> Tensor<D> {
    match act {
        HiddenAct::Gelu => activation::gelu(x),
        HiddenAct::GeluNew => activation::gelu_approximate(x),
        HiddenAct::Relu => activation::relu(x),
    }
}
