//! One optimisation step, the same for every stage and for the benchmark: the objective's
//! task gradients (K adversarial passes or one), global-norm clipping, the L0 penalty's
//! gradients added after clipping, then one AdamW step per parameter group.

use anyhow::{Result, bail};
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Int, Tensor};
use rticket_core::SequenceClassifier;
use rticket_core::model::EncoderInput;

use super::fit::FitConfig;
use super::grads::{ParamIds, accumulate, clip_global_norm, take};
use super::objective::{penalty_gradients, task_gradients};
use super::LinearSchedule;

/// The optimisers and schedules of a run, and the parameter groups they act on.
pub struct Stepper {
    config: FitConfig,
    total_steps: usize,
    weights_schedule: LinearSchedule,
    gates_schedule: LinearSchedule,
    /// AdamW of every trainable weight that is not a gate score.
    pub weight_optimizer: ModuleOptimizer,
    /// AdamW of the gate scores (their own learning rate and weight decay).
    pub gate_optimizer: ModuleOptimizer,
    gates: ParamIds,
    all: ParamIds,
}

/// What a step reports for the progress bar and the epoch metrics.
pub struct StepOutput {
    /// Mean task loss over the adversarial iterates (or the plain loss).
    pub loss: f64,
    /// Logits of the first (clean) forward pass.
    pub logits: Tensor<2>,
    /// The L0 penalty R (expected density) when gates train.
    pub density: Option<f64>,
    /// Cross-entropy at each adversarial iterate (one value without an adversary).
    pub iterate_losses: Vec<f64>,
    /// Global norm of the task gradients before clipping (when clipping is on).
    pub grad_norm: Option<f64>,
    /// lambda of the L0 penalty at this step (when gates train).
    pub lambda: Option<f64>,
    /// Learning rates of the weights and of the gate scores at this step.
    pub lr: f64,
    pub gate_lr: f64,
}

impl Stepper {
    /// Optimisers for `model`'s trainable parameters over a run of `total_steps`.
    pub fn new(model: &SequenceClassifier, config: &FitConfig, total_steps: usize) -> Self {
        let adamw = |wd: f64| AdamWConfig::new().with_weight_decay(wd as f32).with_epsilon(1e-8).init();
        Self {
            config: config.clone(),
            total_steps,
            weights_schedule: LinearSchedule::new(config.lr, config.warmup_ratio, total_steps),
            gates_schedule: LinearSchedule::new(config.gate_lr, config.warmup_ratio, total_steps),
            weight_optimizer: adamw(config.weight_decay),
            gate_optimizer: adamw(config.gate_weight_decay),
            gates: gate_ids(model),
            all: ParamIds::of(model),
        }
    }

    /// Scales the gate scores' learning rate schedule (the collapse guard's retries).
    pub fn scale_gate_lr(&mut self, scale: f64) {
        self.gates_schedule = LinearSchedule::new(self.config.gate_lr * scale, self.config.warmup_ratio, self.total_steps);
    }

    /// Whether the model has gate scores to train.
    pub fn has_gates(&self) -> bool {
        !self.gates.0.is_empty()
    }

    /// Step number `step` (0-based, for the schedules) on one batch.
    pub fn step(
        &mut self,
        model: SequenceClassifier,
        input: &EncoderInput,
        targets: Tensor<1, Int>,
        step: usize,
    ) -> Result<(SequenceClassifier, StepOutput)> {
        let task = task_gradients(&self.config.objective, &model, input, targets, &self.all);
        if !task.loss.is_finite() {
            bail!("the loss became {} at step {step}: lower the learning rate or check the data", task.loss);
        }
        let mut grads = task.grads;
        let grad_norm = self.config.max_grad_norm.map(|max_norm| clip_global_norm(&mut grads, &self.all, max_norm));
        let (mut density, mut lambda) = (None, None);
        if let Some((penalty, r, l)) = penalty_gradients(&self.config.objective, &model, step, self.total_steps) {
            accumulate(&mut grads, penalty, &self.all);
            (density, lambda) = (Some(r), Some(l));
        }
        let gate_grads = take(&mut grads, &self.gates);
        let (lr, gate_lr) = (self.weights_schedule.at(step), self.gates_schedule.at(step));
        let model = step_if_any(&mut self.weight_optimizer, lr, model, grads);
        let model = step_if_any(&mut self.gate_optimizer, gate_lr, model, gate_grads);
        let out = StepOutput { loss: task.loss, logits: task.logits, density, iterate_losses: task.iterate_losses, grad_norm, lambda, lr, gate_lr };
        Ok((model, out))
    }
}

fn step_if_any(optimizer: &mut ModuleOptimizer, lr: f64, model: SequenceClassifier, grads: GradientsParams) -> SequenceClassifier {
    if grads.is_empty() { model } else { optimizer.step(lr, model, grads) }
}

/// Ids of the gate scores.
struct GateIds(ParamIds);

impl ModuleVisitor for GateIds {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.0.push((param.id, D));
    }
}

fn gate_ids(model: &SequenceClassifier) -> ParamIds {
    let mut ids = GateIds(ParamIds::default());
    for gate in model.bert.gates() {
        gate.visit(&mut ids);
    }
    ids.0
}
