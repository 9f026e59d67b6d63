//! The training loop shared by every stage, with per-epoch checkpoints and exact resume.
//!
//! Two parameter groups, each with its own AdamW: the gate scores (mask search: lr 0.1,
//! weight decay 1e-6 in the reference) and every other trainable weight. Both follow the same
//! warm-up/decay shape. The step itself is [`Stepper::step`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rticket_core::model::{EncoderInput, read_rows};
use rticket_core::{SequenceClassifier, TextTokenizer};
use serde::{Deserialize, Serialize};

use super::checkpoint_dir;
use super::evaluate::{Evaluation, argmax, constant_prediction_warning, evaluate_with_predictions};
use super::objective::ObjectiveConfig;
use super::progress::progress_bar;
use super::selection::{DevAttack, Selection};
use super::shuffled_batches;
use super::step::Stepper;
use super::step_log::{StepLog, StepRecord, logit_spread};
use crate::data::Example;

/// Optimisation settings of a stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Peak learning rate of the weights (head, encoder) that are trainable.
    pub lr: f64,
    pub weight_decay: f64,
    /// Peak learning rate of the gate scores.
    pub gate_lr: f64,
    pub gate_weight_decay: f64,
    /// Fraction of all steps spent warming up.
    pub warmup_ratio: f64,
    /// Clip the global gradient norm to this (None: no clipping).
    pub max_grad_norm: Option<f64>,
    /// Seeds the shuffling (epoch e uses seed + e) and the device RNG (dropout, gates, the
    /// adversary's start), which is re-seeded at each epoch so a resumed run is exact.
    pub seed: u64,
    pub objective: ObjectiveConfig,
    /// Going back when an epoch leaves the model predicting one class for all of dev (None:
    /// keep going, as the reference code does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collapse_guard: Option<CollapseGuard>,
    /// What picks the epoch the run keeps (absent: clean dev accuracy, as every run before the choice).
    #[serde(default, skip_serializing_if = "Selection::is_dev_accuracy")]
    pub selection: Selection,
    /// The random streams gate noise and dropout are drawn from
    /// ([`rticket_core::random::RANDOM_STREAMS`]); a checkpoint made by other streams cannot
    /// be resumed bit-exactly, so it is refused. Absent (1) in runs before the versions.
    #[serde(default = "rticket_core::random::unversioned_streams")]
    pub random_streams: u32,
}

/// What a run does when an epoch ends with every dev example predicted as the same class. In a
/// gated search that is an absorbing state (results/experiments/NOTES.md, "Why searches collapse"): the
/// masks have made the head's input independent of the sentence, so no gradient can undo it.
/// The run goes back to the start of that epoch (model, optimiser states and step count as they
/// were) and redoes it with the gate scores' learning rate scaled by `gate_lr_factor`, at most
/// `retries` times; after that it keeps the collapsed epoch, with the warning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CollapseGuard {
    pub retries: usize,
    pub gate_lr_factor: f64,
}

impl CollapseGuard {
    /// At most `retries` retries, each at half the gate learning rate of the attempt before.
    pub fn halving(retries: usize) -> Self {
        Self { retries, gate_lr_factor: 0.5 }
    }
}

/// An epoch that was done again, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollback {
    pub epoch: usize,
    /// Dev accuracy of the discarded attempt (every example one class).
    pub dev_accuracy: f64,
    pub train_loss: f64,
    /// Factor on the gate scores' learning rate from then on.
    pub gate_lr_scale: f64,
    /// The per-step log as it stood when the attempt was discarded (its last epoch is the
    /// discarded one).
    pub step_log: Option<PathBuf>,
}

/// What one epoch achieved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    /// Mean L0 penalty R (expected density) over the epoch, when gates are trained.
    pub expected_density: Option<f64>,
    pub dev: Evaluation,
    /// Accuracy under attack on dev, when the run selects on it ([`Selection::DevUnderAttack`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_under_attack: Option<f64>,
    pub seconds: f64,
}

/// The model of the best dev epoch (by the config's [`Selection`]), the last model, and the history.
pub struct FitOutput {
    pub best: SequenceClassifier,
    pub last: SequenceClassifier,
    pub best_epoch: usize,
    pub history: Vec<EpochMetrics>,
    /// Seconds the epochs restored from a checkpoint took in the runs before this one.
    pub resumed_seconds: f64,
    /// The epochs after which a killed run of this stage was resumed.
    pub resumed_after: Vec<usize>,
    /// The epochs the collapse guard made the run do again.
    pub rollbacks: Vec<Rollback>,
}

/// Progress saved after each epoch in `checkpoint/` of the run folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointState {
    config: FitConfig,
    epochs_done: usize,
    step: usize,
    best_epoch: usize,
    history: Vec<EpochMetrics>,
    /// The epochs after which the run was resumed (absent in checkpoints of older versions).
    #[serde(default)]
    resumed_after: Vec<usize>,
    /// The collapse guard's rollbacks so far (their count sets the gate learning rate's scale).
    #[serde(default)]
    rollbacks: Vec<Rollback>,
}

impl CheckpointState {
    fn gate_lr_scale(&self) -> f64 {
        self.rollbacks.last().map_or(1.0, |r| r.gate_lr_scale)
    }
}

/// Trains `model` (on an autodiff device) on `train`, keeping the epoch the config's
/// [`Selection`] prefers on dev (`dev_attack` attacks each epoch's model when the selection
/// needs that). With `run_dir` set, each step is logged to its `steps.jsonl`, progress is saved
/// in its `checkpoint/` after every epoch, and a run that finds a checkpoint there continues
/// from it (refusing one made with other settings).
#[allow(clippy::too_many_arguments)]
pub fn fit(
    model: SequenceClassifier,
    tokenizer: &TextTokenizer,
    train: &[Example],
    dev: &[Example],
    config: &FitConfig,
    device: &Device,
    run_dir: Option<&Path>,
    dev_attack: Option<&dyn DevAttack>,
) -> Result<FitOutput> {
    if train.is_empty() || dev.is_empty() {
        bail!("training needs a non-empty train and dev split");
    }
    let dev_attack = match (config.selection, dev_attack) {
        (Selection::DevAccuracy, _) => None,
        (Selection::DevUnderAttack { .. }, Some(attack)) => Some(attack),
        (Selection::DevUnderAttack { .. }, None) => bail!("selecting epochs on dev under attack needs the attack's word resources; this caller gave none"),
    };
    if !device.is_autodiff() {
        bail!("fit needs an autodiff device");
    }
    let steps_per_epoch = train.len().div_ceil(config.batch_size);
    let total_steps = steps_per_epoch * config.epochs;
    let eval_device = device.clone().inner();
    let name = config.objective.name();
    let checkpoint = run_dir.map(|dir| dir.join("checkpoint"));
    let checkpoint = checkpoint.as_deref();

    let mut model = model;
    let mut best_model = model.clone();
    let mut state = CheckpointState {
        config: config.clone(),
        epochs_done: 0,
        step: 0,
        best_epoch: 0,
        history: Vec::new(),
        resumed_after: Vec::new(),
        rollbacks: Vec::new(),
    };
    if let Some(dir) = checkpoint
        && checkpoint_dir::recover(dir)?
    {
        eprintln!("{name}: the run was killed while swapping in a checkpoint: took the previous one back from {}.old", dir.display());
    }
    if let Some(dir) = checkpoint.filter(|d| d.join("state.json").exists()) {
        let saved: CheckpointState = serde_json::from_slice(&std::fs::read(dir.join("state.json"))?)
            .with_context(|| format!("reading {}", dir.join("state.json").display()))?;
        if saved.config.random_streams != config.random_streams {
            bail!(
                "{} holds a checkpoint drawn from random streams v{}, and this build draws v{}: resuming would not give \
                 the run the checkpoint began; delete the folder to start again, or finish it with the build that began it",
                dir.display(),
                saved.config.random_streams,
                config.random_streams
            );
        }
        if saved.config != *config {
            bail!(
                "{} holds a checkpoint made with other settings; delete it or rerun with the same settings",
                dir.display()
            );
        }
        model = load_model(model, &dir.join("model.bpk"))?;
        best_model = load_model(best_model, &dir.join("best.bpk"))?;
        eprintln!("{name}: resuming after epoch {} from {}", saved.epochs_done, dir.display());
        state = saved;
        state.resumed_after.push(state.epochs_done);
    }
    // Made from the model as loaded: a record brings the parameter ids of the run that saved
    // it, and the stepper finds gradients (to clip them, to split off the gate scores') by id.
    let mut stepper = Stepper::new(&model, config, total_steps);
    stepper.scale_gate_lr(state.gate_lr_scale());
    if state.epochs_done > 0
        && let Some(dir) = checkpoint
    {
        stepper.weight_optimizer = stepper.weight_optimizer.load(dir.join("optim-weights.bpk")).context("loading optimizer state")?;
        stepper.gate_optimizer = stepper.gate_optimizer.load(dir.join("optim-gates.bpk")).context("loading optimizer state")?;
    }
    let resumed_seconds = state.history.iter().map(|m| m.seconds).sum();
    let mut step_log = run_dir.map(|dir| StepLog::open(&dir.join("steps.jsonl"), state.step)).transpose()?;

    let mut epoch = state.epochs_done + 1;
    while epoch <= config.epochs {
        // Where the collapse guard goes back to. Tensors are immutable, so clones are snapshots;
        // they keep the epoch's starting weights and optimiser states alive, so only with a guard.
        let epoch_start = config
            .collapse_guard
            .is_some()
            .then(|| (model.clone(), stepper.weight_optimizer.clone(), stepper.gate_optimizer.clone(), state.step));
        device.seed(config.seed.wrapping_add(epoch as u64));
        let started = std::time::Instant::now();
        let bar = progress_bar(steps_per_epoch, &format!("{name} {epoch}/{}", config.epochs));
        let (mut loss_sum, mut correct, mut seen, mut density_sum) = (0.0, 0usize, 0usize, 0.0);
        for batch in shuffled_batches(train.len(), config.batch_size, config.seed.wrapping_add(epoch as u64)) {
            let texts: Vec<&str> = batch.iter().map(|&i| train[i].text.as_str()).collect();
            let labels: Vec<i64> = batch.iter().map(|&i| train[i].label as i64).collect();
            let input = EncoderInput::new(&tokenizer.encode_batch(&texts)?, device);
            let targets = Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [labels.len()]), device);

            let (next, out) = stepper
                .step(model, &input, targets, state.step)
                .with_context(|| format!("epoch {epoch}; the checkpoint of the last finished epoch is intact"))?;
            model = next;
            if let Some(density) = out.density {
                density_sum += density * labels.len() as f64;
            }

            let rows = read_rows(out.logits)?;
            let batch_correct = rows.iter().zip(&labels).filter(|&(row, &label)| argmax(row) == label as usize).count();
            if let Some(log) = step_log.as_mut() {
                log.write(&StepRecord {
                    step: state.step,
                    epoch,
                    loss: out.loss,
                    iterate_losses: out.iterate_losses,
                    batch_accuracy: batch_correct as f64 / labels.len() as f64,
                    logit_spread: logit_spread(&rows),
                    grad_norm: out.grad_norm,
                    density: out.density,
                    lambda: out.lambda,
                    lr: out.lr,
                    gate_lr: out.gate_lr,
                })?;
            }
            correct += batch_correct;
            seen += labels.len();
            loss_sum += out.loss * labels.len() as f64;
            state.step += 1;
            let density = if !stepper.has_gates() { String::new() } else { format!(" density {:.3}", density_sum / seen as f64) };
            bar.set_message(format!("loss {:.4} acc {:.3}{density}", loss_sum / seen as f64, correct as f64 / seen as f64));
            bar.inc(1);
        }
        bar.finish_and_clear();

        let (dev_eval, predicted) = evaluate_with_predictions(&model.valid(), tokenizer, dev, config.batch_size.max(64), &eval_device)?;
        if let Some(warning) = constant_prediction_warning(&predicted, dev) {
            eprintln!("warning: {name} epoch {epoch}: {warning}");
            if let (Some(guard), Some(epoch_start)) = (config.collapse_guard.filter(|g| state.rollbacks.len() < g.retries), epoch_start) {
                let gate_lr_scale = state.gate_lr_scale() * guard.gate_lr_factor;
                let discarded_log = match (step_log.take(), run_dir) {
                    (Some(mut log), Some(dir)) => {
                        log.flush()?;
                        let kept = dir.join(format!("steps-discarded-{}.jsonl", state.rollbacks.len() + 1));
                        std::fs::copy(dir.join("steps.jsonl"), &kept).with_context(|| format!("keeping the discarded steps in {}", kept.display()))?;
                        step_log = Some(StepLog::open(&dir.join("steps.jsonl"), epoch_start.3)?);
                        Some(kept)
                    }
                    (log, _) => {
                        step_log = log;
                        None
                    }
                };
                eprintln!(
                    "{name}: going back to the start of epoch {epoch} with the gate scores' learning rate scaled by {gate_lr_scale} \
                     (collapse guard, retry {} of {})",
                    state.rollbacks.len() + 1,
                    guard.retries
                );
                state.rollbacks.push(Rollback {
                    epoch,
                    dev_accuracy: dev_eval.accuracy,
                    train_loss: loss_sum / seen as f64,
                    gate_lr_scale,
                    step_log: discarded_log,
                });
                (model, stepper.weight_optimizer, stepper.gate_optimizer, state.step) = epoch_start;
                stepper.scale_gate_lr(gate_lr_scale);
                continue;
            }
        }
        let dev_under_attack = match dev_attack {
            Some(attack) => Some(attack.accuracy_under_attack(&model.valid(), epoch).with_context(|| format!("attacking dev after epoch {epoch}"))?),
            None => None,
        };
        let metrics = EpochMetrics {
            epoch,
            train_loss: loss_sum / seen as f64,
            train_accuracy: correct as f64 / seen as f64,
            expected_density: stepper.has_gates().then(|| density_sum / seen as f64),
            dev: dev_eval,
            dev_under_attack,
            seconds: started.elapsed().as_secs_f64(),
        };
        eprintln!(
            "{name} epoch {epoch}: train loss {:.4}, train acc {:.4}, dev acc {:.4}{}{} ({:.0}s)",
            metrics.train_loss,
            metrics.train_accuracy,
            metrics.dev.accuracy,
            metrics.dev_under_attack.map(|a| format!(", dev under attack {a:.4}")).unwrap_or_default(),
            metrics.expected_density.map(|d| format!(", expected density {d:.4}")).unwrap_or_default(),
            metrics.seconds
        );
        let best_so_far = state.history.get(state.best_epoch.wrapping_sub(1));
        if best_so_far.is_none_or(|best| config.selection.prefers(&metrics, best)) {
            state.best_epoch = epoch;
            best_model = model.clone();
        }
        state.history.push(metrics);
        state.epochs_done = epoch;
        if let Some(log) = step_log.as_mut() {
            log.flush()?;
        }
        if let Some(dir) = checkpoint {
            save_checkpoint(dir, &state, &model, &best_model, &stepper.weight_optimizer, &stepper.gate_optimizer)?;
        }
        if stop_requested_after(epoch) {
            bail!("stopped after epoch {epoch} as {STOP_AFTER_EPOCH_ENV} asks (the checkpoint is saved; rerun with --resume)");
        }
        epoch += 1;
    }
    Ok(FitOutput {
        best: best_model,
        last: model,
        best_epoch: state.best_epoch,
        history: state.history,
        resumed_seconds,
        resumed_after: state.resumed_after,
        rollbacks: state.rollbacks,
    })
}

/// Stops a run after the given epoch, as if it were killed there (to test resuming).
pub const STOP_AFTER_EPOCH_ENV: &str = "RTICKET_STOP_AFTER_EPOCH";

fn stop_requested_after(epoch: usize) -> bool {
    std::env::var(STOP_AFTER_EPOCH_ENV).ok().and_then(|v| v.parse::<usize>().ok()) == Some(epoch)
}

fn load_model(model: SequenceClassifier, path: &Path) -> Result<SequenceClassifier> {
    let record = ModuleRecord::load(path).with_context(|| format!("reading checkpoint {}", path.display()))?;
    model.try_load_record(record).with_context(|| format!("applying checkpoint {}", path.display()))
}

/// Writes the checkpoint (see [`checkpoint_dir::replace`]: a run killed mid-write keeps the previous one).
fn save_checkpoint(
    dir: &Path,
    state: &CheckpointState,
    model: &SequenceClassifier,
    best: &SequenceClassifier,
    weight_optimizer: &burn::optim::ModuleOptimizer,
    gate_optimizer: &burn::optim::ModuleOptimizer,
) -> Result<()> {
    checkpoint_dir::replace(dir, |staging| {
        let record_error = |e| anyhow::anyhow!("writing checkpoint: {e:?}");
        model.clone().into_record().save(staging.join("model.bpk")).map_err(record_error)?;
        best.clone().into_record().save(staging.join("best.bpk")).map_err(record_error)?;
        weight_optimizer.save(staging.join("optim-weights.bpk")).map_err(record_error)?;
        gate_optimizer.save(staging.join("optim-gates.bpk")).map_err(record_error)?;
        std::fs::write(staging.join("state.json"), serde_json::to_vec_pretty(state)?)?;
        Ok(())
    })
}
