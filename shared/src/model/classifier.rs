//! A sequence classifier (HF `BertForSequenceClassification`): encoder, pooling, dropout, linear head.

use std::collections::HashMap;

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, LayerNorm};
use burn::tensor::{Device, Tensor};
use safetensors::{Dtype, tensor::TensorView};
use serde::{Deserialize, Serialize};

use crate::{BertConfig, Error, Result, Weights};

use super::{dropout, BertModel, Dense, EncoderInput, bert};

/// Key of the head in HF classification checkpoints.
const HEAD_KEY: &str = "classifier";
/// Metadata key under which a saved classifier stores its [`SequenceClassifierConfig`] (JSON).
pub const CONFIG_METADATA_KEY: &str = "rticket.classifier_config";

/// Which sentence representation the head reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// `tanh(pooler(h_[CLS]))`, as HF's BertForSequenceClassification (the pooler is gated).
    Pooler,
    /// Mean over real tokens, as sentence-transformers.
    Mean,
    /// The [CLS] token's last hidden state.
    Cls,
}

/// Everything needed to rebuild a classifier around a set of weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceClassifierConfig {
    pub bert: BertConfig,
    /// Label names; the head has one output per label.
    pub labels: Vec<String>,
    pub pooling: Pooling,
    /// Dropout before the head (HF: `classifier_dropout`, else `hidden_dropout_prob`).
    pub classifier_dropout: f64,
}

impl SequenceClassifierConfig {
    pub fn new(bert: BertConfig, labels: Vec<String>) -> Self {
        let classifier_dropout = bert.hidden_dropout_prob;
        Self { bert, labels, pooling: Pooling::Pooler, classifier_dropout }
    }

    /// Checks that the config describes a classifier that can exist: a valid encoder, at least
    /// two labels, a head dropout in `[0, 1)`. Configs come from files (tickets, saved
    /// classifiers), so a damaged number must be an error here, not a panic in burn.
    pub fn validate(&self) -> Result<()> {
        self.bert.validate()?;
        if self.labels.len() < 2 {
            return Err(Error::Config(format!("a classifier needs at least 2 labels, got {:?}", self.labels)));
        }
        if !(0.0..1.0).contains(&self.classifier_dropout) {
            return Err(Error::Config(format!("classifier_dropout = {} is not in [0, 1)", self.classifier_dropout)));
        }
        Ok(())
    }
}

/// Encoder plus linear head.
#[derive(Module, Debug)]
pub struct SequenceClassifier {
    pub bert: BertModel,
    /// `classifier`: `[hidden, labels]`; never gated.
    pub classifier: Dense,
    dropout: Dropout,
    #[module(skip)]
    pooling: Pooling,
}

impl SequenceClassifier {
    /// Randomly initialised encoder and head.
    pub fn random(config: &SequenceClassifierConfig, device: &Device) -> Result<Self> {
        config.validate()?;
        let bert = BertModel::random(&config.bert, device);
        Self::with_encoder(config, bert, None, device)
    }

    /// Loads the encoder from `weights`, and the head too when the file has one
    /// (`classifier.*`); otherwise the head starts fresh.
    pub fn load(config: &SequenceClassifierConfig, weights: &Weights, device: &Device) -> Result<Self> {
        config.validate()?;
        let bert = BertModel::load(&config.bert, weights, device)?;
        Self::with_encoder(config, bert, Some(weights), device)
    }

    fn with_encoder(
        config: &SequenceClassifierConfig,
        bert: BertModel,
        weights: Option<&Weights>,
        device: &Device,
    ) -> Result<Self> {
        if config.pooling == Pooling::Pooler && bert.pooler.is_none() {
            return Err(Error::Config(
                "pooling is `pooler` but the weights have no pooler.dense: choose mean or cls pooling".into(),
            ));
        }
        // A head that does not read the pooler does not carry it: its weights would be gated,
        // counted in the sparsity and, with no task gradient to keep them, pruned for free.
        let mut bert = bert;
        if config.pooling != Pooling::Pooler {
            bert.pooler = None;
        }
        let (hidden, labels) = (config.bert.hidden_size, config.labels.len());
        let classifier = match weights {
            Some(w) if w.has(&format!("{HEAD_KEY}.weight")) => Dense::load(w, HEAD_KEY, hidden, labels, device)
                .map_err(|e| match e {
                    Error::ShapeMismatch { found, .. } => Error::LabelCount { head: found[0], labels },
                    other => other,
                })?,
            _ => Dense::random(hidden, labels, device),
        };
        Ok(Self {
            bert,
            classifier,
            dropout: DropoutConfig::new(config.classifier_dropout).init(),
            pooling: config.pooling,
        })
    }

    /// Class logits.
    ///
    /// # Shapes
    /// output: `[batch, labels]`.
    pub fn forward(&self, input: &EncoderInput) -> Tensor<2> {
        self.head(self.bert.forward(input), input)
    }

    /// Class logits from given (for example perturbed) word embeddings `[batch, seq, hidden]`.
    pub fn forward_words(&self, words: Tensor<3>, input: &EncoderInput) -> Tensor<2> {
        self.head(self.bert.forward_words(words, input), input)
    }

    fn head(&self, hidden: Tensor<3>, input: &EncoderInput) -> Tensor<2> {
        let features = sentence_features(&self.bert, hidden, input, self.pooling);
        self.classifier.forward(dropout(&self.dropout, features))
    }

    /// The pooling the head reads.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// Serialises every tensor under HF key names (`bert.*`, `classifier.*`; linear weights
    /// back in HF's `[out, in]` layout), with `metadata` in the header. Gates and masks are
    /// not part of a classifier file.
    pub fn to_safetensors(&self, config: &SequenceClassifierConfig, mut metadata: HashMap<String, String>) -> Result<Vec<u8>> {
        let config_json = serde_json::to_string(config).map_err(|e| Error::Config(e.to_string()))?;
        metadata.insert(CONFIG_METADATA_KEY.to_string(), config_json);
        let tensors = host_tensors(self)?;
        let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
            .into_iter()
            .map(|(name, shape, values)| (name, shape, values.iter().flat_map(|v| v.to_le_bytes()).collect()))
            .collect();
        let views = bytes
            .iter()
            .map(|(name, shape, data)| Ok((name.clone(), TensorView::new(Dtype::F32, shape.clone(), data)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(crate::weights::serialize_with_metadata(views, metadata)?)
    }

    /// Rebuilds a classifier saved by [`Self::to_safetensors`], with the config its header carries.
    pub fn from_safetensors(bytes: &[u8], device: &Device) -> Result<(Self, SequenceClassifierConfig)> {
        let config = Self::config_from_safetensors(bytes)?;
        let model = Self::load(&config, &Weights::from_bytes(bytes)?, device)?;
        Ok((model, config))
    }

    /// Reads the [`SequenceClassifierConfig`] a saved classifier carries in its header.
    pub fn config_from_safetensors(bytes: &[u8]) -> Result<SequenceClassifierConfig> {
        let metadata = Weights::metadata(bytes)?;
        let json = metadata.get(CONFIG_METADATA_KEY).ok_or_else(|| {
            Error::Config(format!(
                "this safetensors file has no `{CONFIG_METADATA_KEY}` metadata: it is not a classifier saved by rticket \
                 (to classify with a plain HF checkpoint, give its config.json instead)"
            ))
        })?;
        let config: SequenceClassifierConfig =
            serde_json::from_str(json).map_err(|e| Error::Config(format!("classifier metadata: {e}")))?;
        config.validate()?;
        Ok(config)
    }
}

/// The sentence representation `pooling` selects.
///
/// # Shapes
/// hidden: `[batch, seq, hidden]`, output: `[batch, hidden]`.
pub fn sentence_features(bert: &BertModel, hidden: Tensor<3>, input: &EncoderInput, pooling: Pooling) -> Tensor<2> {
    match pooling {
        Pooling::Pooler => bert.pool(hidden).expect("checked at construction: the encoder has a pooler"),
        Pooling::Mean => bert::mean_pool(hidden, input.attention_mask.clone()),
        Pooling::Cls => bert::cls(hidden),
    }
}

/// A tensor read back to the host: HF key, shape, values.
pub type HostTensor = (String, Vec<usize>, Vec<f32>);

/// Every tensor of `model` under HF key names (`bert.*`, `classifier.*`), linear weights in
/// HF's `[out, in]` layout. Gates and masks are not included.
pub fn host_tensors(model: &SequenceClassifier) -> Result<Vec<HostTensor>> {
    let mut tensors = Vec::new();
    let emb = &model.bert.embeddings;
    for (name, table) in [
        ("word_embeddings", &emb.word_embeddings),
        ("position_embeddings", &emb.position_embeddings),
        ("token_type_embeddings", &emb.token_type_embeddings),
    ] {
        tensors.push(host(format!("bert.embeddings.{name}.weight"), table.val())?);
    }
    push_norm(&mut tensors, "bert.embeddings.LayerNorm", &emb.layer_norm)?;
    for (name, dense) in model.bert.dense_layers() {
        push_dense(&mut tensors, &format!("bert.{name}"), dense)?;
    }
    for (i, layer) in model.bert.layers.iter().enumerate() {
        push_norm(&mut tensors, &format!("bert.encoder.layer.{i}.attention.output.LayerNorm"), &layer.attention_norm)?;
        push_norm(&mut tensors, &format!("bert.encoder.layer.{i}.output.LayerNorm"), &layer.output_norm)?;
    }
    push_dense(&mut tensors, HEAD_KEY, &model.classifier)?;
    Ok(tensors)
}

fn host<const D: usize>(name: String, tensor: Tensor<D>) -> Result<HostTensor> {
    let shape = tensor.dims().to_vec();
    Ok((name, shape, super::read_values(tensor)?))
}

fn push_dense(out: &mut Vec<HostTensor>, key: &str, dense: &Dense) -> Result<()> {
    let [d_in, d_out] = dense.shape();
    out.push((format!("{key}.weight"), vec![d_out, d_in], super::to_hf_order(dense.weight.val())?));
    out.push(host(format!("{key}.bias"), dense.bias.val())?);
    Ok(())
}

fn push_norm(out: &mut Vec<HostTensor>, key: &str, norm: &LayerNorm) -> Result<()> {
    out.push(host(format!("{key}.weight"), norm.gamma.val())?);
    let beta = norm.beta.as_ref().expect("BERT LayerNorms have a bias");
    out.push(host(format!("{key}.bias"), beta.val())?);
    Ok(())
}
