//! What a training step minimises: cross-entropy, optionally under a FreeLB-style adversary in
//! word-embedding space, optionally plus the L0 penalty on the gates. Every stage (fine-tune,
//! search, retrain, FreeLB baseline, ablations) is one combination of these.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Distribution, Int, Tensor};
use rticket_core::SequenceClassifier;
use rticket_core::mask::{L0Form, l0_penalty};
use rticket_core::model::EncoderInput;
use serde::{Deserialize, Serialize};

use super::grads::{ParamIds, accumulate};

/// The adversary (PAPER.md, "Adversarial objective"): K ascent steps on a perturbation of the
/// word embeddings, the model's gradients averaged over the K iterates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdversarialConfig {
    /// K: ascent steps (and loss terms) per batch.
    pub steps: usize,
    /// eta: ascent step size, applied to the per-example normalised gradient.
    pub step_size: f64,
    /// eps0: scale of the random start, divided by sqrt(L * hidden).
    pub init_magnitude: f64,
}

impl Default for AdversarialConfig {
    fn default() -> Self {
        Self { steps: 5, step_size: 0.03, init_magnitude: 0.05 }
    }
}

/// The sparsity penalty lambda * R on the gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct L0Config {
    /// Final lambda.
    pub lambda: f64,
    /// lambda grows linearly from 0 to its final value over this fraction of all steps, then
    /// stays (the reference meant such a ramp but counted dict keys instead of examples).
    pub ramp_ratio: f64,
    pub form: L0Form,
}

impl Default for L0Config {
    fn default() -> Self {
        Self { lambda: 0.5, ramp_ratio: 0.1, form: L0Form::MeanOverWeights }
    }
}

impl L0Config {
    /// lambda at 0-based `step` of `total` steps.
    pub fn lambda_at(&self, step: usize, total: usize) -> f64 {
        let ramp = (self.ramp_ratio * total as f64).max(1.0);
        self.lambda * ((step + 1) as f64 / ramp).min(1.0)
    }
}

/// A stage's objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ObjectiveConfig {
    /// Train under the adversary (robust search, FreeLB); plain cross-entropy when absent.
    pub adversarial: Option<AdversarialConfig>,
    /// Penalise open gates (mask search); absent for weight training.
    pub l0: Option<L0Config>,
}

impl ObjectiveConfig {
    pub fn name(&self) -> String {
        let task = if self.adversarial.is_some() { "adversarial" } else { "cross-entropy" };
        if self.l0.is_some() { format!("{task}+L0") } else { task.to_string() }
    }
}

/// The task part of a step: gradients of every trainable parameter, the mean loss, and the
/// logits of the first forward pass (for running accuracy).
pub struct TaskGradients {
    pub grads: GradientsParams,
    pub loss: f64,
    pub logits: Tensor<2>,
    /// Cross-entropy at each adversarial iterate (one value without an adversary).
    pub iterate_losses: Vec<f64>,
}

fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    CrossEntropyLossConfig::new().init(&logits.device()).forward(logits, targets)
}

/// Runs the task loss's backward pass(es) on one batch.
pub fn task_gradients(
    config: &ObjectiveConfig,
    model: &SequenceClassifier,
    input: &EncoderInput,
    targets: Tensor<1, Int>,
    trainable: &ParamIds,
) -> TaskGradients {
    match &config.adversarial {
        None => {
            let logits = model.forward(input);
            let loss = cross_entropy(logits.clone(), targets);
            let value = loss.clone().into_scalar::<f32>() as f64;
            TaskGradients { grads: GradientsParams::from_grads(loss.backward(), model), loss: value, logits, iterate_losses: vec![value] }
        }
        Some(adversary) => adversarial_gradients(adversary, model, input, targets, trainable),
    }
}

/// FreeLB in word-embedding space (PAPER.md): delta_0 = U(-1, 1) * mask * eps0 / sqrt(L * h);
/// for t = 1..K, loss_t = CE(f(x + delta_{t-1})) / K is backpropagated (gradients accumulate),
/// then delta_t = delta_{t-1} + eta * g / ||g||_F per example. No projection.
fn adversarial_gradients(
    adversary: &AdversarialConfig,
    model: &SequenceClassifier,
    input: &EncoderInput,
    targets: Tensor<1, Int>,
    trainable: &ParamIds,
) -> TaskGradients {
    let k = adversary.steps.max(1);
    // Looked up afresh in every iteration: with trainable embeddings (FreeLB fine-tuning) each
    // backward pass consumes the lookup's graph, and burn does not retain graphs.
    let words = || model.bert.embeddings.words(input.input_ids.clone()); // [b, s, h]
    let [batch, seq] = input.attention_mask.dims();
    let hidden = model.bert.embeddings.word_embeddings.val().dims()[1];
    let mask = input.attention_mask.clone().reshape([batch, seq, 1]);
    let lengths = input.attention_mask.clone().sum_dim(1).reshape([batch, 1, 1]);
    let scale = (lengths * hidden as f64).sqrt().recip() * adversary.init_magnitude;
    let mut delta = (Tensor::<3>::random([batch, seq, hidden], Distribution::Uniform(-1.0, 1.0), &mask.device()) * mask.clone() * scale).detach();

    let mut grads = GradientsParams::new();
    let mut iterate_losses = Vec::with_capacity(k);
    let mut first_logits = None;
    for t in 0..k {
        let delta_leaf = delta.clone().require_grad();
        let logits = model.forward_words(words() + delta_leaf.clone(), input);
        let loss = cross_entropy(logits.clone(), targets.clone()) / k as f64;
        iterate_losses.push(loss.clone().into_scalar::<f32>() as f64 * k as f64);
        first_logits.get_or_insert(logits.detach());
        let mut backward = loss.backward();
        let delta_grad = delta_leaf.grad_remove(&mut backward);
        accumulate(&mut grads, GradientsParams::from_grads(backward, model), trainable);
        if t + 1 < k {
            let g = delta_grad.expect("the perturbation is on the loss's graph");
            let norm = g.clone().powi_scalar(2).sum_dim(2).sum_dim(1).sqrt().clamp_min(1e-8); // [b, 1, 1]
            delta = (delta + g / norm * adversary.step_size).detach();
        }
    }
    let loss = iterate_losses.iter().sum::<f64>() / k as f64;
    TaskGradients { grads, loss, logits: first_logits.expect("K >= 1"), iterate_losses }
}

/// Gradients of lambda(step) * R, R itself and lambda(step), when the objective penalises gates.
pub fn penalty_gradients(
    config: &ObjectiveConfig,
    model: &SequenceClassifier,
    step: usize,
    total_steps: usize,
) -> Option<(GradientsParams, f64, f64)> {
    let l0 = config.l0.as_ref()?;
    let gates = model.bert.gates();
    if gates.is_empty() {
        return None;
    }
    let r = l0_penalty(&gates, l0.form);
    let value = r.clone().into_scalar::<f32>() as f64;
    let lambda = l0.lambda_at(step, total_steps);
    let weighted = r * lambda;
    Some((GradientsParams::from_grads(weighted.backward(), model), value, lambda))
}
