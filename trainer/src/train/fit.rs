//! The training loop shared by every stage.

use anyhow::{Result, bail};
use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use rticket_core::model::EncoderInput;
use rticket_core::{SequenceClassifier, TextTokenizer};

use super::clip::clip_global_norm;
use super::evaluate::{Evaluation, argmax, evaluate};
use super::{LinearSchedule, Objective, shuffled_batches};
use crate::data::Example;

/// Optimisation settings common to every stage.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FitConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    pub weight_decay: f64,
    /// Fraction of all steps spent warming up.
    pub warmup_ratio: f64,
    /// Clip the global gradient norm to this (None: no clipping).
    pub max_grad_norm: Option<f64>,
    /// Seeds the shuffling (epoch e uses seed + e) and the device RNG (dropout, gates).
    pub seed: u64,
}

/// What one epoch achieved.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub dev: Evaluation,
    pub seconds: f64,
}

/// The model of the best dev epoch, and the history.
pub struct FitOutput {
    pub best: SequenceClassifier,
    pub best_epoch: usize,
    pub history: Vec<EpochMetrics>,
}

/// Trains `model` (already on an autodiff device) on `train`, picking the epoch with the best
/// dev accuracy. `on_epoch` sees each epoch's model and metrics (checkpoints, logs).
pub fn fit(
    mut model: SequenceClassifier,
    objective: &mut dyn Objective,
    tokenizer: &TextTokenizer,
    train: &[Example],
    dev: &[Example],
    config: &FitConfig,
    device: &Device,
    mut on_epoch: impl FnMut(&SequenceClassifier, &EpochMetrics) -> Result<()>,
) -> Result<FitOutput> {
    if train.is_empty() || dev.is_empty() {
        bail!("training needs a non-empty train and dev split");
    }
    if !device.is_autodiff() {
        bail!("fit needs an autodiff device");
    }
    device.seed(config.seed);
    let steps_per_epoch = train.len().div_ceil(config.batch_size);
    let schedule = LinearSchedule::new(config.lr, config.warmup_ratio, steps_per_epoch * config.epochs);
    let mut optimizer = AdamWConfig::new().with_weight_decay(config.weight_decay as f32).with_epsilon(1e-8).init();
    let eval_device = device.clone().inner();
    let mut history = Vec::new();
    let mut best: Option<(f64, usize, SequenceClassifier)> = None;
    let mut step = 0;

    for epoch in 1..=config.epochs {
        let started = std::time::Instant::now();
        let bar = progress_bar(steps_per_epoch, &format!("{} epoch {epoch}/{}", objective.name(), config.epochs));
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0usize, 0usize);
        for batch in shuffled_batches(train.len(), config.batch_size, config.seed + epoch as u64) {
            let texts: Vec<&str> = batch.iter().map(|&i| train[i].text.as_str()).collect();
            let labels: Vec<i64> = batch.iter().map(|&i| train[i].label as i64).collect();
            let input = EncoderInput::new(&tokenizer.encode_batch(&texts)?, device);
            let targets = Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [labels.len()]), device);

            let out = objective.loss(&model, &input, targets, step);
            let loss = out.loss.clone().into_scalar::<f32>() as f64;
            if !loss.is_finite() {
                bail!(
                    "the loss became {loss} at step {step} (epoch {epoch}): lower the learning rate \
                     (now {:.2e}) or check the data; the last checkpoint is intact",
                    config.lr
                );
            }
            let mut grads = GradientsParams::from_grads(out.loss.backward(), &model);
            if let Some(max_norm) = config.max_grad_norm {
                clip_global_norm(&mut grads, &model, max_norm);
            }
            model = optimizer.step(schedule.at(step), model, grads);

            let logits = out.logits.into_data().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let width = logits.len() / labels.len();
            correct += labels
                .iter()
                .enumerate()
                .filter(|&(row, &label)| argmax(&logits[row * width..(row + 1) * width]) == label as usize)
                .count();
            seen += labels.len();
            loss_sum += loss * labels.len() as f64;
            step += 1;
            bar.set_message(format!("loss {:.4} acc {:.3}", loss_sum / seen as f64, correct as f64 / seen as f64));
            bar.inc(1);
        }
        bar.finish_and_clear();

        let dev_eval = evaluate(&model.valid(), tokenizer, dev, config.batch_size.max(64), &eval_device)?;
        let metrics = EpochMetrics {
            epoch,
            train_loss: loss_sum / seen as f64,
            train_accuracy: correct as f64 / seen as f64,
            dev: dev_eval,
            seconds: started.elapsed().as_secs_f64(),
        };
        eprintln!(
            "{} epoch {epoch}: train loss {:.4}, train acc {:.4}, dev acc {:.4} ({:.0}s)",
            objective.name(),
            metrics.train_loss,
            metrics.train_accuracy,
            metrics.dev.accuracy,
            metrics.seconds
        );
        on_epoch(&model, &metrics)?;
        if best.as_ref().is_none_or(|(acc, _, _)| metrics.dev.accuracy > *acc) {
            best = Some((metrics.dev.accuracy, epoch, model.clone()));
        }
        history.push(metrics);
    }
    let (_, best_epoch, best) = best.expect("at least one epoch");
    Ok(FitOutput { best, best_epoch, history })
}

fn progress_bar(len: usize, prefix: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_string());
    bar
}
