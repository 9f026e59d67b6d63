//! Batched prediction and accuracy, without gradients.

use anyhow::Result;
use burn::tensor::{Device, activation::softmax};
use rticket_core::model::{EncoderInput, read_rows};
use rticket_core::{SequenceClassifier, TextTokenizer};

use super::batches_by_length;
use crate::data::Example;

/// Accuracy on a set of examples, and its size.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    pub accuracy: f64,
    pub examples: usize,
}

/// Class probabilities of each text, in input order. `model` must live on a plain device.
pub fn predict_probabilities(
    model: &SequenceClassifier,
    tokenizer: &TextTokenizer,
    texts: &[&str],
    batch_size: usize,
    device: &Device,
) -> Result<Vec<Vec<f32>>> {
    let lengths: Vec<usize> = texts.iter().map(|t| t.len()).collect();
    let mut out = vec![Vec::new(); texts.len()];
    for batch in batches_by_length(&lengths, batch_size) {
        let batch_texts: Vec<&str> = batch.iter().map(|&i| texts[i]).collect();
        let encoded = tokenizer.encode_batch(&batch_texts)?;
        let input = EncoderInput::new(&encoded, device);
        for (probs, &i) in read_rows(softmax(model.forward(&input), 1))?.into_iter().zip(&batch) {
            out[i] = probs;
        }
    }
    Ok(out)
}

/// Accuracy of `model` on `examples`.
pub fn evaluate(
    model: &SequenceClassifier,
    tokenizer: &TextTokenizer,
    examples: &[Example],
    batch_size: usize,
    device: &Device,
) -> Result<Evaluation> {
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let probs = predict_probabilities(model, tokenizer, &texts, batch_size, device)?;
    let correct = probs.iter().zip(examples).filter(|(p, e)| argmax(p) == e.label).count();
    Ok(Evaluation { accuracy: correct as f64 / examples.len().max(1) as f64, examples: examples.len() })
}

/// Index of the largest value (the first on ties).
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best })
        .0
}
