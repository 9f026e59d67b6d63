//! What a training step minimises.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Int, Tensor};
use rticket_core::SequenceClassifier;
use rticket_core::model::EncoderInput;

/// The loss of one step, and the logits it saw (for running accuracy).
pub struct StepOutput {
    /// Scalar loss whose backward pass gives the step's gradients.
    pub loss: Tensor<1>,
    /// `[batch, labels]` logits of the clean input.
    pub logits: Tensor<2>,
}

/// A training objective. Implementations may keep state (an adversary's settings, a
/// penalty's weight schedule); `step` is the 0-based optimiser step.
pub trait Objective {
    /// Short name for logs and reports.
    fn name(&self) -> &'static str;

    /// The loss of `model` on one batch.
    fn loss(&mut self, model: &SequenceClassifier, input: &EncoderInput, targets: Tensor<1, Int>, step: usize) -> StepOutput;
}

/// Plain cross-entropy: fine-tuning and retraining.
pub struct CrossEntropy;

impl Objective for CrossEntropy {
    fn name(&self) -> &'static str {
        "cross-entropy"
    }

    fn loss(&mut self, model: &SequenceClassifier, input: &EncoderInput, targets: Tensor<1, Int>, _step: usize) -> StepOutput {
        let logits = model.forward(input);
        let loss = CrossEntropyLossConfig::new().init(&logits.device()).forward(logits.clone(), targets);
        StepOutput { loss, logits }
    }
}
