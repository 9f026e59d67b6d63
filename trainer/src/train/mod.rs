//! One training loop for every stage; what it optimises is an [`Objective`].
//!
//! Fine-tuning, mask search, retraining and the baselines differ only in the objective (plain
//! cross-entropy, adversarial, plus L0) and in which parameters are trainable; the loop,
//! schedule, clipping, evaluation and model selection on the dev split are shared.

mod batches;
mod checkpoint_dir;
mod evaluate;
mod fit;
mod grads;
mod objective;
mod progress;
mod schedule;
mod selection;
mod step;
mod step_log;

pub use batches::{batches_by_length, shuffled_batches};
pub use checkpoint_dir::exists as checkpoint_exists;
pub use evaluate::{Evaluation, argmax, evaluate, predict_probabilities};
pub use fit::{CollapseGuard, EpochMetrics, FitConfig, FitOutput, Rollback, fit};
pub use grads::ParamIds;
pub use progress::progress_bar;
pub use objective::{AdversarialConfig, L0Config, ObjectiveConfig, TaskGradients, task_gradients};
pub use schedule::LinearSchedule;
pub use selection::{DevAttack, Selection};
pub use step::{StepOutput, Stepper};
pub use step_log::{StepRecord, read_step_log};
