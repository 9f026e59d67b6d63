//! Reading and writing ticket files (specification: TICKET.md).

use std::collections::HashMap;

use burn::tensor::{Device, Tensor};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::TicketError;
use super::bits::{pack_bits, popcount, unpack_bits};
use super::entropy;
use crate::model::{Dense, HostTensor, host_tensors, mask_from_hf_order, to_hf_order};
use crate::{SequenceClassifier, SequenceClassifierConfig, Weights, Window};

/// Value of the `format` metadata key.
pub const FORMAT_NAME: &str = "rticket.ticket";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: &str = "1";
/// Value of the `mask_bit_order` metadata key.
const BIT_ORDER: &str = "row-major over HF's [out, in] weight; element i is bit i%8 (LSB first) of byte i/8";

/// Precision of stored surviving values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueDtype {
    F16,
    F32,
}

/// How the masks are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskEncoding {
    /// One bit per weight (`U8`, LSB first): readable with a few lines of code anywhere.
    #[default]
    Bits,
    /// ANS-coded under a per-matrix Bernoulli model (`U32` words): about H(density) bits per weight.
    Ans,
}

/// The ticket's description, stored as metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketMeta {
    /// Human name of the base model (e.g. `sentence-transformers/all-MiniLM-L6-v2`).
    pub base_model: String,
    /// sha256 of the base model's `model.safetensors`.
    pub base_model_sha256: String,
    /// sha256 of the base model's `tokenizer.json`.
    pub tokenizer_sha256: String,
    /// Longest input in tokens the ticket was trained with.
    pub max_len: usize,
    /// Which end of longer texts it read (absent in tickets written before it could be the
    /// tail: those read the head).
    pub window: Window,
    /// Encoder config, labels and pooling of the classifier.
    pub classifier: SequenceClassifierConfig,
    /// Gated matrices (HF keys without `.weight`), in order.
    pub gated: Vec<String>,
    /// HF shape `[out, in]` of each gated matrix.
    pub shapes: Vec<[usize; 2]>,
    /// Fraction of gated weights pruned.
    pub sparsity: f64,
    /// Fraction kept, per gated matrix.
    pub density: Vec<f64>,
    /// How the ticket was trained (free-form JSON).
    pub training: serde_json::Value,
    /// Dev/test metrics (free-form JSON).
    pub metrics: serde_json::Value,
}

impl TicketMeta {
    /// The description of a ticket of `classifier` on the base model with these hashes, before
    /// [`Ticket::from_classifier`] fills in the masks' layout and sparsity; no training record
    /// or metrics yet (both JSON null).
    pub fn new(
        base_model: impl Into<String>,
        base_model_sha256: impl Into<String>,
        tokenizer_sha256: impl Into<String>,
        max_len: usize,
        window: Window,
        classifier: SequenceClassifierConfig,
    ) -> Self {
        Self {
            base_model: base_model.into(),
            base_model_sha256: base_model_sha256.into(),
            tokenizer_sha256: tokenizer_sha256.into(),
            max_len,
            window,
            classifier,
            gated: Vec::new(),
            shapes: Vec::new(),
            sparsity: 0.0,
            density: Vec::new(),
            training: serde_json::Value::Null,
            metrics: serde_json::Value::Null,
        }
    }
}

/// A ticket in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub meta: TicketMeta,
    /// Bit-packed keep-masks, one per gated matrix (in memory, whatever the encoding on disk).
    pub masks: Vec<Vec<u8>>,
    /// How [`Self::to_bytes`] stores the masks.
    pub mask_encoding: MaskEncoding,
    /// `classifier.weight` `[labels, hidden]` and `classifier.bias` `[labels]`.
    pub head: (Vec<f32>, Vec<f32>),
    /// For a retrained ticket: the surviving values of each gated matrix (in mask order) and
    /// their stored precision.
    pub values: Option<(ValueDtype, Vec<Vec<f32>>)>,
    /// For a retrained ticket: every other encoder tensor (`bert.*`, HF layout).
    pub rest: Vec<HostTensor>,
}

impl Ticket {
    /// Builds a ticket from a classifier and keep-masks in HF `[out, in]` order. With
    /// `values`, the classifier's own gated weights (surviving ones) and other encoder tensors
    /// are stored too (a retrained ticket); without, the ticket is masks plus head.
    pub fn from_classifier(
        model: &SequenceClassifier,
        masks: &[Vec<bool>],
        values: Option<ValueDtype>,
        mut meta: TicketMeta,
    ) -> Result<Self, TicketError> {
        let dense = model.bert.dense_layers();
        if dense.len() != masks.len() {
            return Err(TicketError::ModelMismatch(format!("{} masks for {} gated matrices", masks.len(), dense.len())));
        }
        meta.gated = dense.iter().map(|(name, _)| name.clone()).collect();
        meta.shapes = dense.iter().map(|(_, d)| [d.shape()[1], d.shape()[0]]).collect();
        meta.density = masks.iter().map(|m| m.iter().filter(|b| **b).count() as f64 / m.len().max(1) as f64).collect();
        let total: usize = masks.iter().map(Vec::len).sum();
        meta.sparsity = 1.0 - masks.iter().flatten().filter(|b| **b).count() as f64 / total.max(1) as f64;
        let head = (hf_weight(&model.classifier)?, host_vector(model.classifier.bias.val())?);
        let (values, rest) = match values {
            None => (None, Vec::new()),
            Some(dtype) => {
                let mut kept = Vec::with_capacity(dense.len());
                for ((_, d), mask) in dense.iter().zip(masks) {
                    let w = hf_weight(d)?;
                    let v: Vec<f32> = w.iter().zip(mask).filter(|(_, k)| **k).map(|(x, _)| round(*x, dtype)).collect();
                    kept.push(v);
                }
                let gated_keys: Vec<String> = meta.gated.iter().map(|n| format!("bert.{n}.weight")).collect();
                let mut rest: Vec<HostTensor> = host_tensors(model)?
                    .into_iter()
                    .filter(|(name, _, _)| name.starts_with("bert.") && !gated_keys.contains(name))
                    .collect();
                rest.sort_by(|a, b| a.0.cmp(&b.0)); // the order the reader gives them back in
                for (_, _, v) in &mut rest {
                    v.iter_mut().for_each(|x| *x = round(*x, dtype));
                }
                (Some((dtype, kept)), rest)
            }
        };
        let masks = masks.iter().map(|m| pack_bits(m)).collect();
        Ok(Self { meta, masks, mask_encoding: MaskEncoding::Bits, head, values, rest })
    }

    /// Serialises to safetensors bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, TicketError> {
        let mut buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        let mut keep_probabilities = Vec::new();
        for ((name, mask), [out, inp]) in self.meta.gated.iter().zip(&self.masks).zip(&self.meta.shapes) {
            match self.mask_encoding {
                MaskEncoding::Bits => buffers.push((format!("mask.{name}"), Dtype::U8, vec![mask.len()], mask.clone())),
                MaskEncoding::Ans => {
                    let n = out * inp;
                    let keep = entropy::keep_probability(popcount(mask), n);
                    let words = entropy::encode(&unpack_bits(mask, n), keep)?;
                    keep_probabilities.push(keep);
                    let bytes = words.iter().flat_map(|w| w.to_le_bytes()).collect();
                    buffers.push((format!("mask.{name}"), Dtype::U32, vec![words.len()], bytes));
                }
            }
        }
        let labels = self.head.1.len();
        let hidden = self.head.0.len() / labels.max(1);
        buffers.push(("classifier.weight".into(), Dtype::F32, vec![labels, hidden], f32_bytes(&self.head.0)));
        buffers.push(("classifier.bias".into(), Dtype::F32, vec![labels], f32_bytes(&self.head.1)));
        if let Some((dtype, values)) = &self.values {
            for (name, v) in self.meta.gated.iter().zip(values) {
                let (dt, bytes) = encode(v, *dtype);
                buffers.push((format!("values.{name}"), dt, vec![v.len()], bytes));
            }
        }
        // The other retrained tensors use the values' precision too.
        let rest_dtype = self.values.as_ref().map(|(d, _)| *d).unwrap_or(ValueDtype::F32);
        for (name, shape, v) in &self.rest {
            let (dt, bytes) = encode(v, rest_dtype);
            buffers.push((name.clone(), dt, shape.clone(), bytes));
        }
        let views = buffers
            .iter()
            .map(|(n, dt, shape, data)| {
                TensorView::new(*dt, shape.clone(), data).map(|v| (n.clone(), v)).map_err(|e| TicketError::Corrupt(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let json = |v: &dyn erased::Json| v.to_json();
        let m = &self.meta;
        let metadata: HashMap<String, String> = [
            ("format", FORMAT_NAME.to_string()),
            ("version", FORMAT_VERSION.to_string()),
            ("base_model", m.base_model.clone()),
            ("base_model_sha256", m.base_model_sha256.clone()),
            ("tokenizer_sha256", m.tokenizer_sha256.clone()),
            ("max_len", m.max_len.to_string()),
            ("window", m.window.name().to_string()),
            ("classifier", json(&m.classifier)),
            ("gated", json(&m.gated)),
            ("shapes", json(&m.shapes)),
            ("sparsity", m.sparsity.to_string()),
            ("density", json(&m.density)),
            ("training", json(&m.training)),
            ("metrics", json(&m.metrics)),
            ("mask_bit_order", BIT_ORDER.to_string()),
            ("mask_encoding", json(&self.mask_encoding).trim_matches('"').to_string()),
            ("values", self.values.as_ref().map(|(d, _)| json(d).trim_matches('"').to_string()).unwrap_or("none".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain((self.mask_encoding == MaskEncoding::Ans).then(|| ("mask_keep_probability".to_string(), json(&keep_probabilities))))
        .collect();
        crate::weights::serialize_with_metadata(views, metadata).map_err(corrupt)
    }

    /// Parses and validates ticket bytes: format and version, metadata, every tensor's dtype,
    /// shape and consistency with the masks.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TicketError> {
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| TicketError::Corrupt(e.to_string()))?;
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| TicketError::Corrupt(e.to_string()))?;
        let md = header.metadata().clone().unwrap_or_default();
        let format = md.get("format").cloned();
        if format.as_deref() != Some(FORMAT_NAME) {
            return Err(TicketError::NotATicket { found: format });
        }
        let version = md.get("version").cloned().unwrap_or_default();
        if version != FORMAT_VERSION {
            return Err(TicketError::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
        }
        let text = |key: &'static str| {
            md.get(key).cloned().ok_or(TicketError::BadMetadata { key, reason: "missing".into() })
        };
        fn parse<T: DeserializeOwned>(key: &'static str, s: &str) -> Result<T, TicketError> {
            serde_json::from_str(s).map_err(|e| TicketError::BadMetadata { key, reason: e.to_string() })
        }
        let meta = TicketMeta {
            base_model: text("base_model")?,
            base_model_sha256: text("base_model_sha256")?,
            tokenizer_sha256: text("tokenizer_sha256")?,
            max_len: parse("max_len", &text("max_len")?)?,
            window: Window::from_record(md.get("window").map(String::as_str)).map_err(|reason| TicketError::BadMetadata { key: "window", reason })?,
            classifier: parse("classifier", &text("classifier")?)?,
            gated: parse("gated", &text("gated")?)?,
            shapes: parse("shapes", &text("shapes")?)?,
            sparsity: parse("sparsity", &text("sparsity")?)?,
            density: parse("density", &text("density")?)?,
            training: parse("training", &text("training")?)?,
            metrics: parse("metrics", &text("metrics")?)?,
        };
        if meta.gated.len() != meta.shapes.len() || meta.gated.len() != meta.density.len() {
            return Err(TicketError::BadMetadata { key: "gated", reason: "gated, shapes and density differ in length".into() });
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = meta.gated.iter().find(|name| !seen.insert(name.as_str())) {
            return Err(TicketError::BadMetadata { key: "gated", reason: format!("{twice} is listed twice") });
        }
        meta.classifier.validate()?;
        // The page builds a tokenizer for this length before any weight is read: a length past the
        // model's positions could not be embedded, and one under 3 leaves no room for a word.
        let positions = meta.classifier.bert.max_position_embeddings;
        if !(3..=positions).contains(&meta.max_len) {
            return Err(TicketError::BadMetadata { key: "max_len", reason: format!("{} tokens: the model reads 3 to {positions}", meta.max_len) });
        }
        let value_dtype = match text("values")?.as_str() {
            "none" => None,
            "f16" => Some(ValueDtype::F16),
            "f32" => Some(ValueDtype::F32),
            other => return Err(TicketError::BadMetadata { key: "values", reason: format!("unknown value type {other:?}") }),
        };

        // Files written before the key existed store plain bits.
        let mask_encoding = match md.get("mask_encoding").map(String::as_str) {
            None | Some("bits") => MaskEncoding::Bits,
            Some("ans") => MaskEncoding::Ans,
            Some(other) => {
                return Err(TicketError::BadMetadata { key: "mask_encoding", reason: format!("unknown mask encoding {other:?}") });
            }
        };
        let keep_probabilities: Vec<u32> = match mask_encoding {
            MaskEncoding::Bits => Vec::new(),
            MaskEncoding::Ans => {
                let list: Vec<u32> = parse("mask_keep_probability", &text("mask_keep_probability")?)?;
                if list.len() != meta.gated.len() {
                    return Err(TicketError::BadMetadata { key: "mask_keep_probability", reason: format!("{} values for {} masks", list.len(), meta.gated.len()) });
                }
                list
            }
        };
        let mut masks = Vec::with_capacity(meta.gated.len());
        let mut values = Vec::new();
        let mut kept_total = 0usize;
        let mut total = 0usize;
        for (i, ((name, [out, inp]), density)) in meta.gated.iter().zip(&meta.shapes).zip(&meta.density).enumerate() {
            let n = out.checked_mul(*inp).filter(|&n| n <= MAX_MATRIX_WEIGHTS).ok_or_else(|| {
                bad(name, format!("shape [{out}, {inp}] is past the {MAX_MATRIX_WEIGHTS} weights a gated matrix may have"))
            })?;
            if total + n > MAX_GATED_WEIGHTS {
                return Err(TicketError::BadMetadata { key: "shapes", reason: format!("more than {MAX_GATED_WEIGHTS} gated weights in all") });
            }
            let key = format!("mask.{name}");
            let mask = match mask_encoding {
                MaskEncoding::Bits => raw(&tensors, &key, Dtype::U8, &[n.div_ceil(8)])?,
                MaskEncoding::Ans => {
                    let view = tensors.tensor(&key).map_err(|_| bad(&key, "missing".into()))?;
                    if view.dtype() != Dtype::U32 || view.shape().len() != 1 {
                        return Err(bad(&key, format!("{:?} {:?}, expected a U32 vector of ANS words", view.dtype(), view.shape())));
                    }
                    if view.shape()[0] > n.div_ceil(32) + 4 {
                        return Err(bad(&key, format!("{} words code more than {n} weights can need", view.shape()[0])));
                    }
                    let words: Vec<u32> = view.data().chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                    let bits = entropy::decode(&words, n, keep_probabilities[i]).map_err(|e| bad(&key, e.to_string()))?;
                    pack_bits(&bits)
                }
            };
            if n % 8 != 0 && mask[n / 8] >> (n % 8) != 0 {
                return Err(bad(name, "padding bits after the last weight are not zero".into()));
            }
            let kept = popcount(&mask);
            if (kept as f64 / n.max(1) as f64 - density).abs() > 1e-6 {
                return Err(TicketError::BadMetadata { key: "density", reason: format!("{name}: recorded {density}, mask has {kept}/{n}") });
            }
            if let Some(dtype) = value_dtype {
                let key = format!("values.{name}");
                values.push(finite(&key, decode(&raw(&tensors, &key, safetensors_dtype(dtype), &[kept])?, dtype))?);
            }
            kept_total += kept;
            total += n;
            masks.push(mask);
        }
        if (1.0 - kept_total as f64 / total.max(1) as f64 - meta.sparsity).abs() > 1e-6 {
            return Err(TicketError::BadMetadata { key: "sparsity", reason: format!("recorded {}, masks give {}", meta.sparsity, 1.0 - kept_total as f64 / total as f64) });
        }
        let (labels, hidden) = (meta.classifier.labels.len(), meta.classifier.bert.hidden_size);
        let head = (
            finite("classifier.weight", f32_values(&raw(&tensors, "classifier.weight", Dtype::F32, &[labels, hidden])?))?,
            finite("classifier.bias", f32_values(&raw(&tensors, "classifier.bias", Dtype::F32, &[labels])?))?,
        );
        let mut rest = Vec::new();
        if let Some(dtype) = value_dtype {
            let expected = safetensors_dtype(dtype);
            for (name, view) in tensors.tensors() {
                if name.starts_with("bert.") {
                    if view.dtype() != expected {
                        return Err(bad(&name, format!("dtype {:?}, expected {expected:?}", view.dtype())));
                    }
                    let values = finite(&name, decode(view.data(), dtype))?;
                    rest.push((name.clone(), view.shape().to_vec(), values));
                }
            }
            rest.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Ok(Self { meta, masks, mask_encoding, head, values: value_dtype.map(|d| (d, values)), rest })
    }

    /// The keep-masks unpacked, one boolean per weight in HF `[out, in]` order.
    pub fn keep_masks(&self) -> Vec<Vec<bool>> {
        self.masks.iter().zip(&self.meta.shapes).map(|(mask, [out, inp])| unpack_bits(mask, out * inp)).collect()
    }

    /// Number of gated weights the masks cover.
    pub fn gated_weights(&self) -> usize {
        self.meta.shapes.iter().map(|[o, i]| o * i).sum()
    }

    /// Refuses base weights other than the ones the ticket was drawn from.
    pub fn check_base(&self, weights_sha256: &str) -> Result<(), TicketError> {
        if weights_sha256 != self.meta.base_model_sha256 {
            return Err(TicketError::WrongBaseModel {
                expected_name: self.meta.base_model.clone(),
                expected: self.meta.base_model_sha256.clone(),
                found: weights_sha256.to_string(),
            });
        }
        Ok(())
    }

    /// The sparse classifier for inference: the base weights (checked by hash), or the
    /// ticket's own retrained values, with the masks multiplied in and the ticket's head.
    pub fn classifier(&self, base: &Weights, base_sha256: &str, device: &Device) -> Result<SequenceClassifier, TicketError> {
        self.check_base(base_sha256)?;
        let config = &self.meta.classifier;
        let mut model = match &self.values {
            None => SequenceClassifier::load(config, base, device)?,
            Some(_) => {
                let bytes = self.retrained_weights()?;
                SequenceClassifier::load(config, &Weights::from_bytes(&bytes)?, device)?
            }
        };
        let names: Vec<String> = model.bert.dense_layers().into_iter().map(|(n, _)| n).collect();
        if names != self.meta.gated {
            return Err(TicketError::ModelMismatch(format!("model gates {names:?}, ticket gates {:?}", self.meta.gated)));
        }
        let mut masks = Vec::with_capacity(self.masks.len());
        for (mask, [out, inp]) in self.masks.iter().zip(&self.meta.shapes) {
            masks.push(mask_from_hf_order(&unpack_bits(mask, out * inp), [*inp, *out], device));
        }
        // An inference model: the masks are multiplied into the weights once.
        model.bert = model.bert.with_masks_applied(masks);
        let (labels, hidden) = (config.labels.len(), config.bert.hidden_size);
        let head_bytes = safetensors::serialize(
            [
                ("classifier.weight", TensorView::new(Dtype::F32, vec![labels, hidden], &f32_bytes(&self.head.0)).map_err(corrupt)?),
                ("classifier.bias", TensorView::new(Dtype::F32, vec![labels], &f32_bytes(&self.head.1)).map_err(corrupt)?),
            ],
            None,
        )
        .map_err(corrupt)?;
        model.classifier = Dense::load(&Weights::from_bytes(&head_bytes)?, "classifier", hidden, labels, device)?;
        Ok(model)
    }

    /// A safetensors buffer with the retrained encoder: survivors scattered into zeros, plus
    /// the other tensors.
    fn retrained_weights(&self) -> Result<Vec<u8>, TicketError> {
        let (_, values) = self.values.as_ref().expect("called for retrained tickets");
        let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (((name, [out, inp]), mask), kept) in self.meta.gated.iter().zip(&self.meta.shapes).zip(&self.masks).zip(values) {
            let mut dense = vec![0f32; out * inp];
            let mut it = kept.iter();
            for (slot, keep) in dense.iter_mut().zip(unpack_bits(mask, out * inp)) {
                if keep {
                    *slot = *it.next().expect("count checked at load");
                }
            }
            owned.push((format!("bert.{name}.weight"), vec![*out, *inp], f32_bytes(&dense)));
        }
        for (name, shape, v) in &self.rest {
            owned.push((name.clone(), shape.clone(), f32_bytes(v)));
        }
        let views = owned
            .iter()
            .map(|(n, s, d)| TensorView::new(Dtype::F32, s.clone(), d).map(|v| (n.clone(), v)).map_err(corrupt))
            .collect::<Result<Vec<_>, _>>()?;
        safetensors::serialize(views, None).map_err(corrupt)
    }
}

fn corrupt(e: impl std::fmt::Display) -> TicketError {
    TicketError::Corrupt(e.to_string())
}

fn bad(name: &str, reason: String) -> TicketError {
    TicketError::BadTensor { name: name.to_string(), reason }
}

/// The raw bytes of tensor `key`, checked for dtype and shape.
fn raw(tensors: &SafeTensors, key: &str, dtype: Dtype, shape: &[usize]) -> Result<Vec<u8>, TicketError> {
    let view = tensors.tensor(key).map_err(|_| bad(key, "missing".into()))?;
    if view.dtype() != dtype {
        return Err(bad(key, format!("dtype {:?}, expected {dtype:?}", view.dtype())));
    }
    if view.shape() != shape {
        return Err(bad(key, format!("shape {:?}, expected {shape:?}", view.shape())));
    }
    Ok(view.data().to_vec())
}

/// The most weights one gated matrix may have (bert-large's largest has 4.2M; a 7B decoder's
/// 45M): the ANS decoder expands a mask to one byte a weight, so a header's shape must not ask
/// for gigabytes from a few bytes of code.
pub const MAX_MATRIX_WEIGHTS: usize = 1 << 26;
/// The most gated weights a ticket may have in all (their packed masks: 128 MB).
pub const MAX_GATED_WEIGHTS: usize = 1 << 30;

/// `values`, or an error naming the tensor when one is NaN or infinite (a corrupt file: no
/// trained ticket holds one, and a model would answer NaN with it).
fn finite(name: &str, values: Vec<f32>) -> Result<Vec<f32>, TicketError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(values),
        Some(i) => Err(bad(name, format!("value {i} is {}: the file is corrupt; export it again", values[i]))),
    }
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f32_values(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

fn f16_values(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()
}

/// The safetensors dtype values of this precision are stored as.
fn safetensors_dtype(dtype: ValueDtype) -> Dtype {
    match dtype {
        ValueDtype::F32 => Dtype::F32,
        ValueDtype::F16 => Dtype::F16,
    }
}

/// Values in the given precision, as safetensors bytes.
fn encode(values: &[f32], dtype: ValueDtype) -> (Dtype, Vec<u8>) {
    let bytes = match dtype {
        ValueDtype::F32 => f32_bytes(values),
        ValueDtype::F16 => values.iter().flat_map(|x| half::f16::from_f32(*x).to_le_bytes()).collect(),
    };
    (safetensors_dtype(dtype), bytes)
}

/// The inverse of [`encode`]: stored bytes of this precision, widened to f32.
fn decode(bytes: &[u8], dtype: ValueDtype) -> Vec<f32> {
    match dtype {
        ValueDtype::F32 => f32_values(bytes),
        ValueDtype::F16 => f16_values(bytes),
    }
}

fn round(x: f32, dtype: ValueDtype) -> f32 {
    match dtype {
        ValueDtype::F32 => x,
        ValueDtype::F16 => half::f16::from_f32(x).to_f32(),
    }
}

/// A dense layer's weight in HF `[out, in]` order.
fn hf_weight(dense: &Dense) -> Result<Vec<f32>, TicketError> {
    Ok(to_hf_order(dense.weight.val())?)
}

fn host_vector(t: Tensor<1>) -> Result<Vec<f32>, TicketError> {
    Ok(crate::model::read_values(t)?)
}

mod erased {
    /// Serialises anything to compact JSON (infallible for these plain types).
    pub trait Json {
        fn to_json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).expect("plain data serialises")
        }
    }
}
