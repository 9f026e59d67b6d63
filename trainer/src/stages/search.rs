//! Stage 2: learn the gate scores. `paper` searches on the fine-tuned weights (frozen, head
//! frozen too); `mask-only` searches on the frozen pre-trained weights with a trainable head,
//! so the ticket is a bitmask plus a head.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::module::Module;
use burn::tensor::Device;
use clap::ValueEnum;
use rticket_core::gate::HardConcreteConfig;
use rticket_core::model::{CONFIG_METADATA_KEY, SavedMeta, to_hf_order};
use rticket_core::{Pooling, SequenceClassifier, Weights};
use safetensors::Dtype;
use safetensors::tensor::TensorView;
use serde::{Deserialize, Serialize};

use super::{StageContext, StageSettings, StageSummary};
use crate::cli::Preset;
use crate::model_files::read;
use crate::train::{AdversarialConfig, FitConfig, L0Config, ObjectiveConfig};

/// Where the search starts and what it may train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SearchMode {
    /// PAPER.md: the fine-tuned encoder and head, frozen; only the gate scores learn.
    Paper,
    /// The pre-trained encoder, frozen, with a fresh trainable head.
    MaskOnly,
}

impl SearchMode {
    /// The sentence representation the head reads, given the one the settings name. A
    /// mask-only search keeps the pre-trained encoder frozen, so its head reads the encoder's
    /// own sentence embedding, mean pooling: all-MiniLM-L6-v2 was trained for it, and its
    /// untrained pooler gives a linear probe 66% on MR where mean pooling gives 75%
    /// (bench/linear_probe.py), and a head on [CLS] alone dies with it when the masks make [CLS]
    /// stop depending on the sentence (results/experiments/NOTES.md, "Why searches collapse").
    pub fn pooling(self, settings: Pooling) -> Pooling {
        match self {
            SearchMode::Paper => settings,
            SearchMode::MaskOnly => Pooling::Mean,
        }
    }
}

/// The search's optimisation settings (PAPER.md's table, SST-2/IMDB row, for `paper`).
pub fn search_fit(preset: Preset, mode: SearchMode, adversarial: bool) -> FitConfig {
    let mut fit = super::base_fit(preset);
    let (epochs, steps) = match preset {
        Preset::Quick => (1, 2),
        Preset::Paper => (20, 5),
    };
    fit.epochs = epochs;
    fit.gate_lr = 0.1;
    fit.gate_weight_decay = 1e-6;
    // Only the head (mask-only) trains besides the gates: a fresh linear probe on frozen
    // features, which at 1e-3 barely moves within a short schedule.
    fit.lr = if mode == SearchMode::MaskOnly { 1e-2 } else { 0.0 };
    fit.objective = ObjectiveConfig {
        adversarial: adversarial.then(|| AdversarialConfig { steps, ..AdversarialConfig::default() }),
        l0: Some(L0Config::default()),
    };
    fit
}

/// `base` (same data, seed, sample and lengths) with the search's optimisation settings and the
/// pooling its mode reads.
pub fn search_settings_on(base: &StageSettings, mode: SearchMode, adversarial: bool) -> StageSettings {
    let mut settings = base.clone();
    settings.fit = search_fit(base.preset, mode, adversarial);
    settings.fit.seed = base.fit.seed;
    settings.pooling = mode.pooling(base.pooling);
    settings
}

/// A search stage's settings, derived from the fine-tuning settings `base` (same data, seed
/// and lengths). The quick preset searches on half its sample: the adversary costs K passes
/// per batch.
pub fn search_settings(base: &StageSettings, mode: SearchMode, adversarial: bool) -> StageSettings {
    let mut settings = search_settings_on(base, mode, adversarial);
    if base.preset == Preset::Quick {
        settings.train_limit = Some(settings.train_limit.map_or(512, |l| l.min(512)));
    }
    settings
}

/// Runs the search. `start` is the fine-tuned classifier for `paper` mode. `head_warmup`
/// (mask-only): first train the fresh head alone for that many epochs on the frozen, ungated
/// encoder (`head-warmup/`, best dev epoch), so that the gates start under a head that reads
/// the sentences instead of one at chance. Writes `scores.safetensors`: the gate scores
/// (log_alpha) of the last epoch, one `scores.<name>` per gated matrix in HF `[out, in]` layout,
/// plus the head.
#[allow(clippy::too_many_arguments)]
pub fn run_search(
    settings: &StageSettings,
    mode: SearchMode,
    start: Option<&Path>,
    head_warmup: Option<usize>,
    gates: &HardConcreteConfig,
    out: &Path,
    resume: bool,
    device: &Device,
    device_name: &str,
) -> Result<StageSummary> {
    if head_warmup.is_some() && mode != SearchMode::MaskOnly {
        anyhow::bail!("--head-warmup is for mask-only searches: a paper-mode search keeps its fine-tuned head");
    }
    let extra = serde_json::json!({ "mode": mode, "start": start, "gates": gates, "head_warmup_epochs": head_warmup });
    let ctx = StageContext::open(settings, "search", out, resume, device, device_name, extra)?;
    let model = match mode {
        SearchMode::Paper => {
            let path = start.context("paper-mode search starts from a fine-tuned classifier (--start)")?;
            let bytes = read(path, "fine-tuned classifier")?;
            // A safety net for library callers: the `search` command takes both from the start.
            let trained_on = SavedMeta::read(&bytes).with_context(|| format!("reading {}", path.display()))?;
            if trained_on.window != settings.window {
                anyhow::bail!(
                    "{} was fine-tuned reading the {} of long texts and this search reads their {}: pass --window {}",
                    path.display(),
                    trained_on.window.name(),
                    settings.window.name(),
                    trained_on.window.name()
                );
            }
            if trained_on.max_len.is_some_and(|n| n != settings.max_len) {
                anyhow::bail!(
                    "{} was fine-tuned on inputs of at most {} tokens and this search reads {}: search with its max_len",
                    path.display(),
                    trained_on.max_len.unwrap_or_default(),
                    settings.max_len
                );
            }
            // Its head's outputs must mean the data's classes.
            if let Ok(config) = SequenceClassifier::config_from_safetensors(&bytes) {
                crate::data::require_same_labels(&config.labels, &ctx.labels, &path.display().to_string())?;
            }
            let weights = Weights::from_bytes(&bytes).with_context(|| format!("loading {}", path.display()))?;
            SequenceClassifier::load(&ctx.classifier_config(), &weights, &ctx.train_device())?.no_grad()
        }
        SearchMode::MaskOnly => match head_warmup {
            Some(epochs) => super::refit_head(&ctx, ctx.pretrained()?, &super::head_refit_config(&ctx, epochs), &ctx.run.path.join("head-warmup"))?,
            None => {
                let mut model = ctx.pretrained()?;
                model.bert = model.bert.no_grad();
                model
            }
        },
    };
    let mut model = model;
    model.bert = model.bert.with_gates(gates);
    let output = ctx.train(model, &settings.fit)?;
    let scores = ctx.run.write("scores.safetensors", &scores_bytes(&output.last, &ctx)?)?;
    ctx.finish(&output, vec![scores])
}

/// Serialises the gate scores (HF layout) and the head.
fn scores_bytes(model: &SequenceClassifier, ctx: &StageContext) -> Result<Vec<u8>> {
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, dense) in model.bert.dense_layers() {
        let gate = dense.gate.as_ref().context("the searched model lost a gate")?;
        let [d_in, d_out] = dense.shape();
        let hf = to_hf_order(gate.log_alpha.val())?;
        buffers.push((format!("scores.{name}"), vec![d_out, d_in], hf.iter().flat_map(|v| v.to_le_bytes()).collect()));
    }
    let [hidden, labels] = model.classifier.shape();
    let head = to_hf_order(model.classifier.weight.val())?;
    let bias = model.classifier.bias.val().into_data().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    buffers.push(("classifier.weight".into(), vec![labels, hidden], head.iter().flat_map(|v| v.to_le_bytes()).collect()));
    buffers.push(("classifier.bias".into(), vec![labels], bias.iter().flat_map(|v| v.to_le_bytes()).collect()));
    let views = buffers
        .iter()
        .map(|(n, s, d)| Ok((n.clone(), TensorView::new(Dtype::F32, s.clone(), d)?)))
        .collect::<Result<Vec<_>>>()?;
    let mut metadata = ctx.saved_meta().to_metadata();
    metadata.extend([
        ("rticket.scores".to_string(), "1".to_string()),
        (CONFIG_METADATA_KEY.to_string(), serde_json::to_string(&ctx.classifier_config())?),
    ]);
    Ok(rticket_core::weights::serialize_with_metadata(views, metadata)?)
}

/// Where a search's scores file lies in its run folder.
pub fn scores_path(search_dir: &Path) -> PathBuf {
    search_dir.join("scores.safetensors")
}
