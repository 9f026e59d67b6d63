//! Bad input gets a clear error that names the problem and the fix, never a panic.

use rticket::model_files::ModelFiles;
use std::collections::HashMap;

use rticket_core::{BertConfig, Error, Pooling, SequenceClassifier, SequenceClassifierConfig, TextTokenizer, Weights};
use safetensors::SafeTensors;
use safetensors::tensor::TensorView;

use crate::common::*;

fn copy_minilm(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::fs::copy(minilm_dir().join(file), dir.path().join(file)).unwrap();
    }
    dir
}

fn load_error(dir: &std::path::Path) -> String {
    let result = ModelFiles::open(dir).and_then(|files| files.encoder(&cpu()).map(|_| ()));
    format!("{:#}", result.expect_err("loading must fail"))
}

#[test]
fn missing_weights_say_how_to_get_them() {
    let dir = copy_minilm("missing");
    std::fs::remove_file(dir.path().join("model.safetensors")).unwrap();
    let err = load_error(dir.path());
    assert!(err.contains("model.safetensors") && err.contains("scripts/setup.sh"), "{err}");
}

#[test]
fn truncated_weights_are_called_corrupt() {
    let dir = copy_minilm("truncated");
    let bytes = std::fs::read(dir.path().join("model.safetensors")).unwrap();
    std::fs::write(dir.path().join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    let err = load_error(dir.path());
    assert!(err.contains("corrupt or truncated"), "{err}");
}

#[test]
fn garbage_weights_are_called_corrupt() {
    let dir = copy_minilm("garbage");
    std::fs::write(dir.path().join("model.safetensors"), b"this is not a safetensors file at all").unwrap();
    assert!(load_error(dir.path()).contains("corrupt or truncated"));
}

#[test]
fn a_config_from_another_model_is_refused() {
    let dir = copy_minilm("config");
    let mut config: BertConfig = serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
    config.hidden_size = 768;
    config.num_attention_heads = 12;
    std::fs::write(dir.path().join("config.json"), serde_json::to_vec(&config).unwrap()).unwrap();
    let err = load_error(dir.path());
    assert!(err.contains("shape") && err.contains("different models"), "{err}");

    let dir = copy_minilm("layers");
    config.hidden_size = 384;
    config.num_hidden_layers = 4;
    std::fs::write(dir.path().join("config.json"), serde_json::to_vec(&config).unwrap()).unwrap();
    let err = load_error(dir.path());
    assert!(err.contains("more layers"), "{err}");
}

#[test]
fn missing_or_broken_tokenizer_is_named() {
    let dir = copy_minilm("tokenizer");
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let err = format!("{:#}", ModelFiles::open(dir.path()).err().unwrap());
    assert!(err.contains("tokenizer") && err.contains("tokenizer.json"), "{err}");

    let err = TextTokenizer::from_bytes(b"{\"not\": \"a tokenizer\"}", 128).err().unwrap().to_string();
    assert!(err.contains("invalid tokenizer.json"), "{err}");
}

#[test]
fn empty_text_is_an_error_with_its_position() {
    let tokenizer = minilm().tokenizer(128).unwrap();
    match tokenizer.encode_batch(&["fine", "   "]) {
        Err(Error::EmptyText { index: 1 }) => {}
        other => panic!("expected EmptyText at 1, got {other:?}"),
    }
    let (ok, _, stderr) = rticket(&["--device", "cpu", "embed", "fine", ""]);
    assert!(!ok && stderr.contains("text #1 is empty"), "{stderr}");
}

#[test]
fn text_far_past_512_tokens_is_truncated_and_reported() {
    let tokenizer = minilm().tokenizer(512).unwrap();
    let long = "good ".repeat(3000);
    let batch = tokenizer.encode_batch(&[long.as_str(), "short"]).unwrap();
    assert_eq!(batch.seq_len, 512);
    assert_eq!(batch.truncated, vec![true, false]);
    assert_eq!(batch.lengths, vec![512, 3]);

    let (ok, stdout, stderr) = rticket(&["--device", "cpu", "embed", long.as_str()]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("truncated"), "{stderr}");
    assert!(stdout.contains("\"truncated\":[0]"));
}

#[test]
fn max_len_beyond_the_positions_is_refused() {
    let err = format!("{:#}", minilm().tokenizer(1024).err().unwrap());
    assert!(err.contains("exceeds the model's 512 positions"), "{err}");
}

#[test]
fn a_checkpoint_without_pooler_refuses_pooler_pooling_but_serves_mean() {
    let device = cpu();
    let config = SequenceClassifierConfig::new(BertConfig::tiny(100), vec!["a".into(), "b".into()]);
    let full = SequenceClassifier::random(&config, &device).unwrap().to_safetensors(&config, HashMap::new()).unwrap();
    let parsed = SafeTensors::deserialize(&full).unwrap();
    let kept: Vec<(String, TensorView)> = parsed.tensors().into_iter().filter(|(name, _)| !name.contains("pooler")).collect();
    let bytes = safetensors::serialize(kept, None).unwrap();
    let weights = Weights::from_bytes(&bytes).unwrap();

    let err = SequenceClassifier::load(&config, &weights, &device).err().unwrap().to_string();
    assert!(err.contains("no pooler.dense") && err.contains("mean or cls"), "{err}");
    let mut mean = config.clone();
    mean.pooling = Pooling::Mean;
    let model = SequenceClassifier::load(&mean, &weights, &device).unwrap();
    assert!(model.bert.pooler.is_none());
    assert_eq!(model.bert.dense_layers().len(), 12);
}

#[test]
fn an_empty_checkpoint_names_the_first_missing_tensor() {
    let bytes = safetensors::serialize(Vec::<(String, TensorView)>::new(), None).unwrap();
    let weights = Weights::from_bytes(&bytes).unwrap();
    let err = rticket_core::BertModel::load(&BertConfig::tiny(100), &weights, &cpu()).err().unwrap().to_string();
    assert!(err.contains("have no tensor `encoder.layer.0.attention.self.query.weight`"), "{err}");
}

#[test]
fn an_attack_with_a_missing_neighbour_table_says_how_to_build_one() {
    let dir = TempDir::new("attack-no-table");
    let table = dir.path().join("no-such-table.safetensors");
    let classifier = dir.path().join("classifier.safetensors");
    let (ok, _, stderr) = rticket(&[
        "--device", "cpu", "attack", "--classifier", classifier.to_str().unwrap(), "--neighbours", table.to_str().unwrap(), "--examples", "1", "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert!(!ok, "an attack without its neighbour table must fail");
    assert!(stderr.contains("no-such-table.safetensors") && stderr.contains("rticket neighbours"), "{stderr}");
}

#[test]
fn a_classifier_whose_recorded_length_is_damaged_is_refused_not_guessed() {
    let dir = TempDir::new("damaged-max-len");
    let config = polarity_config(BertConfig::tiny(30522));
    let model = SequenceClassifier::random(&config, &cpu()).unwrap();
    let tokenizer = minilm_dir().join("tokenizer.json");
    let write = |name: &str, max_len: &str| {
        let metadata = HashMap::from([(rticket_core::model::MAX_LEN_KEY.to_string(), max_len.to_string())]);
        let path = dir.path().join(name);
        std::fs::write(&path, model.to_safetensors(&config, metadata).unwrap()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let classify = |path: &str| rticket(&["--device", "cpu", "classify", "--classifier", path, "--tokenizer", tokenizer.to_str().unwrap(), "a fine film"]);
    // The same file with a readable length classifies, so the refusal below is the length's.
    let (ok, stdout, stderr) = classify(&write("good.safetensors", "32"));
    assert!(ok && stdout.contains("\"label\""), "{stderr}");
    let (ok, _, stderr) = classify(&write("damaged.safetensors", "thirty-two"));
    assert!(!ok && stderr.contains("rticket.max_len") && stderr.contains("thirty-two") && stderr.contains("damaged"), "{stderr}");
    // A length the model has no positions for would index past its position table.
    let (ok, _, stderr) = classify(&write("too-long.safetensors", "100000"));
    assert!(!ok && stderr.contains("100000 tokens, beyond the model's"), "{stderr}");
}

#[test]
fn selecting_under_attack_is_refused_where_no_epoch_is_chosen() {
    let dir = TempDir::new("select-refused");
    let out = dir.path().join("out");
    let (ok, _, stderr) = rticket(&["--device", "cpu", "search", "--select-under-attack", "100", "--out", out.to_str().unwrap()]);
    assert!(!ok && stderr.contains("--select-under-attack has nothing to choose") && stderr.contains("last epoch"), "{stderr}");
    assert!(!out.exists(), "a refused search must not create its folder");
}

#[test]
fn freelbs_eta_is_refused_for_a_baseline_without_an_adversary() {
    let dir = TempDir::new("freelb-eta-refused");
    let out = dir.path().join("out");
    let (ok, _, stderr) = rticket(&["--device", "cpu", "baseline", "--kind", "imp", "--freelb-eta", "0.3", "--out", out.to_str().unwrap()]);
    assert!(!ok && stderr.contains("--freelb-eta sets FreeLB's adversary") && stderr.contains("--kind freelb"), "{stderr}");
    assert!(!out.exists(), "a refused baseline must not create its folder");
}
