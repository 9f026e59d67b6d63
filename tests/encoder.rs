//! The encoder against the reference numbers, and the tiny model's code paths.

use std::collections::HashMap;

use rticket_core::model::{EncoderInput, mean_pool};
use rticket_core::{BertConfig, SequenceClassifier, SequenceClassifierConfig, Weights};

use crate::common::*;

fn mean_embeddings(texts: &[&str]) -> Vec<Vec<f32>> {
    let files = minilm();
    let device = cpu();
    let tokenizer = files.tokenizer(128).unwrap();
    let encoder = files.encoder(&device).unwrap();
    let batch = tokenizer.encode_batch(texts).unwrap();
    let input = EncoderInput::new(&batch, &device);
    let pooled = mean_pool(encoder.forward(&input), input.attention_mask.clone());
    let [rows, width] = pooled.dims();
    let values = pooled.into_data().try_into_vec::<f32>().unwrap();
    (0..rows).map(|r| values[r * width..(r + 1) * width].to_vec()).collect()
}

#[test]
fn minilm_mean_pooling_matches_the_reference_cosines() {
    let e = mean_embeddings(&["the movie was great", "the film was excellent", "the stock market crashed today"]);
    let close = cosine(&e[0], &e[1]);
    let far = cosine(&e[0], &e[2]);
    assert!((close - 0.878).abs() <= 0.005, "cosine(great, excellent) = {close}, reference 0.878");
    assert!((far - 0.092).abs() <= 0.005, "cosine(great, stock market) = {far}, reference 0.092");
}

#[test]
fn a_pair_joined_by_the_separator_encodes_as_berts_pair_encoding() {
    let files = minilm();
    let ours = files.tokenizer(64).unwrap().encode_batch(&["A gripping story. [SEP] The film is dull."]).unwrap();
    let json = std::fs::read(rticket::model_files::assets_dir().join("minilm/tokenizer.json")).unwrap();
    let mut reference = tokenizers::Tokenizer::from_bytes(&json).unwrap();
    reference.with_padding(None).with_truncation(None).unwrap();
    let pair = reference.encode(("A gripping story.", "The film is dull."), true).unwrap();
    let ids: Vec<i64> = pair.get_ids().iter().map(|&i| i as i64).collect();
    let types: Vec<i64> = pair.get_type_ids().iter().map(|&t| t as i64).collect();
    assert_eq!(ours.input_ids, ids);
    assert_eq!(ours.token_type_ids, types);
    assert!(types.contains(&1) && types[0] == 0, "{types:?}");
    let single = files.tokenizer(64).unwrap().encode_batch(&["A gripping story."]).unwrap();
    assert!(single.token_type_ids.iter().all(|&t| t == 0), "a single text is one segment");
}

#[test]
fn padding_does_not_change_an_embedding() {
    // Alone vs. batched with a much longer text: the padded copy must give the same vector.
    let alone = mean_embeddings(&["a quiet film"]);
    let batched = mean_embeddings(&["a quiet film", "a much longer sentence that forces plenty of padding onto the first one"]);
    assert!(cosine(&alone[0], &batched[0]) > 0.99999, "padding leaked into attention");
}

#[test]
fn a_pad_multiple_pads_past_the_longest_text_and_leaves_the_logits_alone() {
    let files = minilm();
    let device = cpu();
    device.seed(3);
    let config = polarity_config(files.config.clone());
    let model = files.classifier(&config, &device).unwrap();
    let texts = ["a quiet film", "an uneven but often very funny comedy"];
    let exact = files.tokenizer(64).unwrap().encode_batch(&texts).unwrap();
    let padded = files.tokenizer(64).unwrap().with_pad_multiple(16).encode_batch(&texts).unwrap();
    assert!(exact.seq_len < 16, "the texts should be shorter than one multiple, got {}", exact.seq_len);
    assert_eq!(padded.seq_len, 16);
    assert_eq!(padded.lengths, exact.lengths);
    let logits = |batch| model.forward(&EncoderInput::new(batch, &device));
    let diff: f32 = (logits(&exact) - logits(&padded)).abs().max().into_scalar();
    assert!(diff < 1e-5, "padding to 16 tokens changed the logits by {diff}");

    // Never past max_len: 12 tokens with a multiple of 16 and max_len 12 stay at 12.
    let capped = files.tokenizer(12).unwrap().with_pad_multiple(16).encode_batch(&[texts[1].repeat(3)]).unwrap();
    assert_eq!((capped.seq_len, capped.lengths[0]), (12, 12));
    // The trainer pads on the CPU backend as it always did (the recorded runs depend on it).
    assert_eq!(rticket::device::pad_multiple(&device), 1);
}

#[test]
fn embed_command_prints_json_the_user_can_check() {
    let (ok, stdout, stderr) = rticket(&["--device", "cpu", "embed", "--normalize", "the movie was great", "the film was excellent"]);
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let e: Vec<Vec<f32>> = serde_json::from_value(json["embeddings"].clone()).unwrap();
    assert_eq!((e.len(), e[0].len()), (2, 384));
    let norm: f32 = e[0].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4);
    assert!((cosine(&e[0], &e[1]) - 0.878).abs() <= 0.005);
}

#[test]
fn tiny_model_runs_every_path_and_round_trips_through_safetensors() {
    let device = cpu();
    device.seed(1);
    let config = SequenceClassifierConfig::new(BertConfig::tiny(30522), vec!["a".into(), "b".into(), "c".into()]);
    let model = SequenceClassifier::random(&config, &device).unwrap();
    let tokenizer = rticket_core::TextTokenizer::from_bytes(&std::fs::read(minilm_dir().join("tokenizer.json")).unwrap(), 64).unwrap();
    let batch = tokenizer.encode_batch(&["one short text", "and a second, longer one with more words"]).unwrap();
    let input = EncoderInput::new(&batch, &device);
    let logits = model.forward(&input);
    assert_eq!(logits.dims(), [2, 3]);

    let bytes = model.to_safetensors(&config, HashMap::new()).unwrap();
    let restored_config = SequenceClassifier::config_from_safetensors(&bytes).unwrap();
    assert_eq!(restored_config, config);
    let restored = SequenceClassifier::load(&config, &Weights::from_bytes(&bytes).unwrap(), &device).unwrap();
    let again = restored.forward(&input);
    let diff: f32 = (logits - again).abs().max().into_scalar();
    assert!(diff < 1e-5, "round trip changed logits by {diff}");

    // Every pooling reads a different representation but gives the right shape.
    for pooling in [rticket_core::Pooling::Mean, rticket_core::Pooling::Cls] {
        let mut c = config.clone();
        c.pooling = pooling;
        let m = SequenceClassifier::load(&c, &Weights::from_bytes(&bytes).unwrap(), &device).unwrap();
        assert_eq!(m.forward(&input).dims(), [2, 3]);
        // A head that does not read the pooler leaves it out, so it is neither gated nor counted.
        assert!(m.bert.pooler.is_none(), "{pooling:?} pooling kept the pooler");
        assert_eq!(m.bert.dense_layers().len(), 2 * 6);
    }
    let gated: Vec<String> = model.bert.dense_layers().into_iter().map(|(name, _)| name).collect();
    assert_eq!(gated.len(), 2 * 6 + 1);
    assert_eq!(gated[0], "encoder.layer.0.attention.self.query");
    assert_eq!(gated.last().unwrap(), "pooler.dense");
}

#[test]
fn minilm_has_the_papers_37_gated_matrices() {
    let encoder = minilm().encoder(&cpu()).unwrap();
    let dense = encoder.dense_layers();
    assert_eq!(dense.len(), 37);
    let weights: usize = dense.iter().map(|(_, d)| d.shape().iter().product::<usize>()).sum();
    assert_eq!(weights, 6 * (4 * 384 * 384 + 2 * 384 * 1536) + 384 * 384);
}
