//! Fine-tuning end to end on the tiny model, and classifying with what it saved.

use rticket::cli::Preset;
use rticket::commands::{FinetuneSettings, run_finetune};
use rticket::data::DatasetName;

use crate::common::*;

#[test]
fn finetune_writes_a_classifier_that_classify_reads() {
    let model = tiny_model_dir("finetune");
    let out = TempDir::new("finetune-out");
    let mut settings = FinetuneSettings::preset(Preset::Quick, DatasetName::Mr, model.path().to_path_buf());
    settings.train_limit = Some(64);
    settings.max_len = 32;
    settings.fit.epochs = 2;
    let run = out.path().join("run");
    let summary = run_finetune(&settings, &run, false, &cpu(), "cpu").unwrap();

    assert_eq!(summary.history.len(), 2);
    assert!(summary.history.iter().all(|e| e.train_loss.is_finite()));
    assert_eq!(summary.dev.examples, 400);
    assert_eq!(summary.test.examples, 400);
    for file in ["run.json", "split.json", "metrics.json", "classifier.safetensors", "checkpoint/state.json"] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    // The recorded split is the stratified 3200/400/400 one (before the train limit).
    let split: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("split.json")).unwrap()).unwrap();
    assert_eq!(split["dev"].as_array().unwrap().len(), 400);
    assert_eq!(split["train"].as_array().unwrap().len(), 64);

    // A finished run is never overwritten.
    let again = run_finetune(&settings, &run, false, &cpu(), "cpu").err().unwrap().to_string();
    assert!(again.contains("already holds a finished run"), "{again}");

    let classifier = run.join("classifier.safetensors");
    let tokenizer = model.path().join("tokenizer.json");
    let (ok, stdout, stderr) = rticket(&[
        "--device", "cpu", "classify", "--classifier", classifier.to_str().unwrap(),
        "--tokenizer", tokenizer.to_str().unwrap(), "a gripping film", "dull",
    ]);
    assert!(ok, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let p = line["probabilities"].as_object().unwrap();
        let total: f64 = p.values().map(|v| v.as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-4);
        assert!(["negative", "positive"].contains(&line["label"].as_str().unwrap()));
    }

    // The wrong tokenizer is refused by hash.
    let other = TempDir::new("other-tokenizer");
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&tokenizer).unwrap()).unwrap();
    json["truncation"] = serde_json::Value::Null;
    let wrong = other.path().join("tokenizer.json");
    std::fs::write(&wrong, serde_json::to_vec(&json).unwrap()).unwrap();
    let (ok, _, stderr) = rticket(&[
        "--device", "cpu", "classify", "--classifier", classifier.to_str().unwrap(), "--tokenizer", wrong.to_str().unwrap(), "x",
    ]);
    assert!(!ok && stderr.contains("not the tokenizer this classifier was trained with"), "{stderr}");
}
