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
    Ok(evaluate_with_predictions(model, tokenizer, examples, batch_size, device)?.0)
}

/// [`evaluate`], with the predicted class of each example.
pub fn evaluate_with_predictions(
    model: &SequenceClassifier,
    tokenizer: &TextTokenizer,
    examples: &[Example],
    batch_size: usize,
    device: &Device,
) -> Result<(Evaluation, Vec<usize>)> {
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let predicted: Vec<usize> = predict_probabilities(model, tokenizer, &texts, batch_size, device)?.iter().map(|p| argmax(p)).collect();
    let correct = predicted.iter().zip(examples).filter(|&(&p, e)| p == e.label).count();
    Ok((Evaluation { accuracy: correct as f64 / examples.len().max(1) as f64, examples: examples.len() }, predicted))
}

/// The warning for a model that gives every example the same class while the examples have
/// several: its output no longer depends on its input.
pub fn constant_prediction_warning(predicted: &[usize], examples: &[Example]) -> Option<String> {
    let first = *predicted.first()?;
    let several_labels = examples.iter().any(|e| e.label != examples[0].label);
    (several_labels && predicted.iter().all(|&p| p == first)).then(|| {
        format!(
            "every one of the {} dev examples is predicted as class {first}: the model no longer reads its input \
             (a collapsed search; steps.jsonl shows when, results/experiments/NOTES.md \"Why searches collapse\" why)",
            predicted.len()
        )
    })
}

/// Index of the largest value (the first on ties).
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples(labels: &[usize]) -> Vec<Example> {
        labels.iter().enumerate().map(|(id, &label)| Example { id, text: String::new(), label }).collect()
    }

    #[test]
    fn warns_only_when_one_class_is_predicted_for_several() {
        let mixed = examples(&[0, 1, 1]);
        let warning = constant_prediction_warning(&[1, 1, 1], &mixed).expect("a constant model is reported");
        assert!(warning.contains("3 dev examples") && warning.contains("class 1"), "{warning}");
        assert!(constant_prediction_warning(&[1, 0, 1], &mixed).is_none());
        // A one-class set cannot tell a constant model from a right one.
        assert!(constant_prediction_warning(&[0, 0], &examples(&[0, 0])).is_none());
        assert!(constant_prediction_warning(&[], &examples(&[])).is_none());
    }
}
