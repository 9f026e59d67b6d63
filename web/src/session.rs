//! One browser session: the base model (also the attacks' similarity encoder), an optional
//! dense fine-tuned classifier, an optional ticket applied to the base weights, and the word
//! resources the attacks need. All inputs are byte buffers; all outputs JSON strings.

use burn::tensor::{Device, Tensor, activation::softmax};
use rticket_core::attack::{
    AttackEvent, ClassifierVictim, MeanPoolEncoder, NeighbourTable, Pos, Recipe, Resources, WordNet, attack,
};
use rticket_core::model::{EncoderInput, SavedMeta};
use rticket_core::ticket::Ticket;
use rticket_core::{BertConfig, BertModel, GPU_PAD_MULTIPLE, SequenceClassifier, TextTokenizer, Weights, Window};
use sha2::{Digest, Sha256};
use wasm_bindgen::prelude::*;

use crate::js_error;
use crate::ticket_info::TicketInfo;

/// A classifier with the tokenizer bound to its maximum length. `model` lives on the CPU
/// backend; `gpu_model`, when WebGPU is in use, is the same classifier on it, which both
/// classification and the attacks' queries use (reading back asynchronously).
struct Classifier {
    model: SequenceClassifier,
    gpu_model: Option<SequenceClassifier>,
    tokenizer: TextTokenizer,
    labels: Vec<String>,
}

/// A WebGPU device with burn's wgpu runtime set up on it (see [`webgpu_device`]).
#[wasm_bindgen]
pub struct GpuDevice {
    device: Device,
}

/// Sets up burn's wgpu runtime on the browser's WebGPU adapter. Asynchronous because a
/// browser cannot block on adapter and device requests; fails when WebGPU is missing.
#[wasm_bindgen]
pub async fn webgpu_device() -> Result<GpuDevice, JsError> {
    #[cfg(target_arch = "wasm32")]
    {
        let device = Device::wgpu_options()
            .init_async()
            .await
            .map_err(|e| JsError::new(&format!("WebGPU could not be set up: {e:?}")))?;
        Ok(GpuDevice { device })
    }
    #[cfg(not(target_arch = "wasm32"))]
    Err(JsError::new("WebGPU exists only in the browser (wasm32)"))
}

/// A classification whose forward passes are queued on the device; [`Self::finish`] reads
/// the probabilities back without blocking (WebGPU has no synchronous readback).
#[wasm_bindgen]
pub struct PendingClassification {
    dense: Option<(Tensor<2>, Vec<String>)>,
    ticket: Option<(Tensor<2>, Vec<String>)>,
}

#[wasm_bindgen]
impl PendingClassification {
    /// `{"dense": {"label", "labels", "probabilities"}, "ticket": {...}}`, null where not loaded.
    pub async fn finish(self) -> Result<String, JsError> {
        let mut out = serde_json::Map::new();
        for (key, pending) in [("dense", self.dense), ("ticket", self.ticket)] {
            let value = match pending {
                None => serde_json::Value::Null,
                Some((probabilities, labels)) => {
                    let data = probabilities.into_data_async().await.map_err(|e| JsError::new(&format!("reading back: {e:?}")))?;
                    let probabilities = data.try_to_vec::<f32>().map_err(|e| JsError::new(&format!("reading back: {e:?}")))?;
                    let best = (0..probabilities.len()).max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b])).unwrap_or(0);
                    serde_json::json!({ "label": labels.get(best), "labels": labels, "probabilities": probabilities })
                }
            };
            out.insert(key.to_string(), value);
        }
        Ok(serde_json::Value::Object(out).to_string())
    }
}

/// Everything loaded into the page's worker.
#[wasm_bindgen]
pub struct Session {
    config: BertConfig,
    weights: Vec<u8>,
    weights_sha256: String,
    tokenizer_json: Vec<u8>,
    encoder: BertModel,
    similarity_tokenizer: TextTokenizer,
    dense: Option<Classifier>,
    ticket: Option<(Classifier, TicketInfo)>,
    neighbours: Option<NeighbourTable>,
    wordnet: Option<WordNet>,
    device: Device,
    gpu: Option<Device>,
}

#[wasm_bindgen]
impl Session {
    /// The base model from `config.json`, `model.safetensors` and `tokenizer.json` bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &[u8], weights: Vec<u8>, tokenizer: Vec<u8>) -> Result<Session, JsError> {
        let config = BertConfig::from_json(config)?;
        let device = Device::flex();
        let encoder = BertModel::load(&config, &Weights::from_bytes(&weights)?, &device)?;
        let similarity_tokenizer = TextTokenizer::from_bytes(&tokenizer, config.max_position_embeddings.min(128))?;
        similarity_tokenizer.check_vocab(config.vocab_size)?;
        let weights_sha256 = hex::encode(Sha256::digest(&weights));
        Ok(Self {
            config,
            weights,
            weights_sha256,
            tokenizer_json: tokenizer,
            encoder,
            similarity_tokenizer,
            dense: None,
            ticket: None,
            neighbours: None,
            wordnet: None,
            device,
            gpu: None,
        })
    }

    /// Classifies and answers the attacks' queries on `gpu` from now on (models loaded later get
    /// a copy there; the attacks' similarity encoder stays on the CPU backend). Call before
    /// loading the dense classifier and the ticket.
    pub fn use_gpu(&mut self, gpu: GpuDevice) {
        self.gpu = Some(gpu.device);
    }

    /// Where classification and the attacked model run: `"webgpu"` or `"cpu"`.
    #[wasm_bindgen(getter)]
    pub fn classify_backend(&self) -> String {
        if self.gpu.is_some() { "webgpu" } else { "cpu" }.to_string()
    }

    /// sha256 of the base weights (tickets must name it).
    #[wasm_bindgen(getter)]
    pub fn weights_sha256(&self) -> String {
        self.weights_sha256.clone()
    }

    /// A fine-tuned dense classifier (`classifier.safetensors` from `rticket finetune`).
    pub fn load_dense(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        let (model, config) = SequenceClassifier::from_safetensors(bytes, &self.device)?;
        let gpu_model = match &self.gpu {
            Some(gpu) => Some(SequenceClassifier::from_safetensors(bytes, gpu)?.0),
            None => None,
        };
        let saved = SavedMeta::read(bytes)?;
        let max_len = saved.max_len_within(&config.bert)?;
        self.dense = Some(Classifier { model, gpu_model, tokenizer: self.tokenizer(max_len, saved.window)?, labels: config.labels });
        Ok(())
    }

    /// A ticket, applied to the base weights; refused (with the reason) when it was drawn from
    /// other base weights or is corrupt. Returns the ticket panel's JSON.
    pub fn load_ticket(&mut self, bytes: &[u8]) -> Result<String, JsError> {
        let ticket = Ticket::from_bytes(bytes)?;
        let base = Weights::from_bytes(&self.weights)?;
        let model = ticket.classifier(&base, &self.weights_sha256, &self.device)?;
        let gpu_model = match &self.gpu {
            Some(gpu) => Some(ticket.classifier(&base, &self.weights_sha256, gpu)?),
            None => None,
        };
        let info = TicketInfo::new(&ticket, bytes.len(), self.weights.len());
        let json = serde_json::to_string(&info).map_err(js_error)?;
        let labels = ticket.meta.classifier.labels.clone();
        self.ticket = Some((Classifier { model, gpu_model, tokenizer: self.tokenizer(ticket.meta.max_len, ticket.meta.window)?, labels }, info));
        Ok(json)
    }

    /// The attacks' neighbour table (`rticket neighbours`), checked against its vectors' source.
    pub fn load_neighbours(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        let table = NeighbourTable::from_bytes(bytes)?;
        table.check_source(&self.weights_sha256)?;
        self.neighbours = Some(table);
        Ok(())
    }

    /// WordNet from its four data files, each followed by its exception list (`data.noun`,
    /// `noun.exc`, `data.verb`, `verb.exc`, ...), as `rticket` reads it natively.
    #[allow(clippy::too_many_arguments)] // one argument per WordNet file, in the order JavaScript passes them
    pub fn load_wordnet(
        &mut self,
        noun: &[u8],
        noun_exc: &[u8],
        verb: &[u8],
        verb_exc: &[u8],
        adj: &[u8],
        adj_exc: &[u8],
        adv: &[u8],
        adv_exc: &[u8],
    ) -> Result<(), JsError> {
        let files = [(Pos::Noun, noun), (Pos::Verb, verb), (Pos::Adjective, adj), (Pos::Adverb, adv)];
        let mut wordnet = WordNet::from_data_files(&files)?;
        for (pos, exc) in [(Pos::Noun, noun_exc), (Pos::Verb, verb_exc), (Pos::Adjective, adj_exc), (Pos::Adverb, adv_exc)] {
            wordnet.add_exceptions(pos, exc)?;
        }
        self.wordnet = Some(wordnet);
        Ok(())
    }

    /// Queues the dense model's and the ticket's forward passes on `text` (on WebGPU when in
    /// use); `finish()` on the result gives their labels and class probabilities.
    pub fn classify(&self, text: &str) -> Result<PendingClassification, JsError> {
        let one = |c: Option<&Classifier>| -> Result<Option<(Tensor<2>, Vec<String>)>, JsError> {
            let Some(c) = c else { return Ok(None) };
            let (model, device) = self.placed(c);
            let input = EncoderInput::new(&c.tokenizer.encode_batch(&[text])?, device);
            Ok(Some((softmax(model.forward(&input), 1), c.labels.clone())))
        };
        Ok(PendingClassification { dense: one(self.dense.as_ref())?, ticket: one(self.ticket.as_ref().map(|(c, _)| c))? })
    }

    /// Attacks `target` (`"dense"` or `"ticket"`) on `text` with `recipe` (`text-fooler`,
    /// `pwws`, `text-bugger`, `bert-attack`), taking the model's own prediction as the label.
    /// `on_event` receives each step as JSON (`ranked`, `trying`, `kept`); returns the result.
    /// Runs on WebGPU when in use: each batch of queries is read back without blocking.
    pub async fn attack(&self, text: &str, recipe: &str, target: &str, seed: u32, on_event: &js_sys::Function) -> Result<String, JsError> {
        let recipe: Recipe = serde_json::from_value(serde_json::json!(recipe))
            .map_err(|_| JsError::new(&format!("unknown recipe {recipe:?}: use text-fooler, pwws, text-bugger or bert-attack")))?;
        let classifier = match target {
            "dense" => self.dense.as_ref().ok_or_else(|| JsError::new("load a dense classifier first"))?,
            "ticket" => self.ticket.as_ref().map(|(c, _)| c).ok_or_else(|| JsError::new("load a ticket first"))?,
            other => return Err(JsError::new(&format!("unknown target {other:?}: use dense or ticket"))),
        };
        let (model, device) = self.placed(classifier);
        let mut victim = ClassifierVictim { model, tokenizer: &classifier.tokenizer, device: device.clone(), batch_size: 32, forward_passes: 0 };
        let first = rticket_core::attack::Victim::probabilities(&mut victim, &[text.trim().to_string()]).await?.remove(0);
        let label = (0..first.len()).max_by(|&a, &b| first[a].total_cmp(&first[b])).unwrap_or(0);
        let mut encoder = MeanPoolEncoder { model: &self.encoder, tokenizer: &self.similarity_tokenizer, device: self.device.clone(), batch_size: 32 };
        let resources = Resources { neighbours: self.neighbours.as_ref(), wordnet: self.wordnet.as_ref(), masked_lm: None };
        let mut forward = |event: AttackEvent| {
            if let Ok(json) = serde_json::to_string(&event) {
                let _ = on_event.call1(&JsValue::NULL, &JsValue::from_str(&json));
            }
        };
        let result = attack(text, label, &recipe.config(), &mut victim, Some(&mut encoder), resources, u64::from(seed), &mut forward).await?;
        let mut json = serde_json::to_value(&result).map_err(js_error)?;
        json["recipe_name"] = serde_json::json!(recipe.config().name());
        json["label_name"] = serde_json::json!(classifier.labels.get(label));
        Ok(json.to_string())
    }
}

impl Session {
    /// The copy of `c` that runs: on WebGPU when in use, else on the CPU backend.
    fn placed<'a>(&'a self, c: &'a Classifier) -> (&'a SequenceClassifier, &'a Device) {
        match (&c.gpu_model, &self.gpu) {
            (Some(model), Some(gpu)) => (model, gpu),
            _ => (&c.model, &self.device),
        }
    }

    /// The tokenizer for a classifier loaded now: on WebGPU, batches padded to a few shapes,
    /// since each new shape costs a shader compilation there.
    fn tokenizer(&self, max_len: usize, window: Window) -> Result<TextTokenizer, JsError> {
        let pad_multiple = if self.gpu.is_some() { GPU_PAD_MULTIPLE } else { 1 };
        Ok(TextTokenizer::from_bytes(&self.tokenizer_json, max_len.min(self.config.max_position_embeddings))?
            .with_window(window)?
            .with_pad_multiple(pad_multiple))
    }
}
