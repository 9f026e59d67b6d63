//! Fine-tuning end to end on the tiny model, resuming, and classifying with what it saved.

use rticket::cli::Preset;
use rticket::data::DatasetName;
use rticket::stages::{RetrainHead, StageContext, StageSettings, freelb_settings, gated_shapes, random_masks, run_finetune, run_retrain};
use rticket::train::Selection;

use crate::common::*;

fn tiny_settings(model: &TempDir) -> StageSettings {
    let mut settings = StageSettings::preset(Preset::Quick, DatasetName::Mr, model.path().to_path_buf());
    settings.train_limit = Some(64);
    settings.max_len = 32;
    settings.fit.epochs = 2;
    settings
}

#[test]
fn finetune_writes_a_classifier_that_classify_reads() {
    let model = tiny_model_dir("finetune");
    let out = TempDir::new("finetune-out");
    let settings = tiny_settings(&model);
    let run = out.path().join("run");
    let summary = run_finetune(&settings, &run, false, &cpu(), "cpu").unwrap();

    assert_eq!(summary.history.len(), 2);
    assert!(summary.history.iter().all(|e| e.train_loss.is_finite()));
    assert_eq!(summary.dev.examples, 400);
    assert_eq!(summary.test.examples, 400);
    for file in ["run.json", "split.json", "metrics.json", "classifier.safetensors", "checkpoint/state.json"] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    // The recorded split is the stratified 3200/400/400 one, with the train sample applied.
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

/// Retraining draws its own head, not the one fine-tuning started from (fine-tuning moves it
/// little and the search fits its mask to it, so reusing it hands the ticket a trained start),
/// unless a folder made before the choice asks for the old behaviour.
#[test]
fn retraining_draws_a_head_of_its_own_unless_told_to_reuse_fine_tunings() {
    let model = tiny_encoder_dir("retrain-head");
    let out = TempDir::new("retrain-head-out");
    let settings = tiny_settings(&model);
    assert_eq!(settings.retrain_head, RetrainHead::Fresh, "the presets retrain from a fresh head");
    let ctx = StageContext::open(&settings, "probe", &out.path().join("probe"), false, &cpu(), "cpu", serde_json::json!({})).unwrap();
    let head = |model: rticket_core::SequenceClassifier| model.classifier.weight.val().into_data().try_into_vec::<f32>().unwrap();
    let fine_tuning = head(ctx.pretrained().unwrap());
    let seed = settings.fit.seed;
    assert_eq!(head(ctx.pretrained_with_head(RetrainHead::FineTuneInit.seed(seed)).unwrap()), fine_tuning);
    let fresh = head(ctx.pretrained_with_head(RetrainHead::Fresh.seed(seed)).unwrap());
    let same = fresh.iter().zip(&fine_tuning).filter(|(a, b)| a == b).count();
    assert_eq!(same, 0, "{same} of {} head weights equal fine-tuning's initial ones", fresh.len());
    // The same seed draws the same fresh head (a resumed or repeated run is exact).
    assert_eq!(head(ctx.pretrained_with_head(RetrainHead::Fresh.seed(seed)).unwrap()), fresh);
}

/// `--select-under-attack`: every epoch is attacked on the same dev sentences, and the model
/// kept is the epoch with the highest accuracy under attack (clean dev accuracy breaks ties).
#[test]
fn selecting_on_dev_under_attack_keeps_the_most_robust_epoch() {
    let out = TempDir::new("select-under-attack");
    let mut settings = StageSettings::preset(Preset::Quick, DatasetName::Mr, minilm_dir());
    settings.train_limit = Some(32);
    settings.max_len = 32;
    settings.fit.epochs = 3;
    settings.fit.selection = Selection::under_text_fooler(6);
    let run = out.path().join("run");
    let summary = run_finetune(&settings, &run, false, &cpu(), "cpu").unwrap();

    let under_attack: Vec<f64> = summary.history.iter().map(|m| m.dev_under_attack.expect("every epoch attacked on dev")).collect();
    assert_eq!(under_attack.len(), 3);
    for (epoch, accuracy) in under_attack.iter().enumerate() {
        let log = std::fs::read_to_string(run.join(format!("dev-attacks/epoch-{}.jsonl", epoch + 1))).unwrap();
        assert_eq!(log.lines().count(), 6, "epoch {}: {log}", epoch + 1);
        let outcome = |line: &str| serde_json::from_str::<serde_json::Value>(line).unwrap()["result"]["outcome"].as_str().unwrap().to_owned();
        let survived = log.lines().filter(|&l| outcome(l) == "failed").count();
        assert_eq!(*accuracy, survived as f64 / 6.0, "epoch {}: {log}", epoch + 1);
    }
    let kept = summary.best_epoch;
    assert_eq!(kept, settings.fit.selection.best_epoch(&summary.history), "{:?}", summary.history);
    let best = under_attack.iter().cloned().fold(f64::MIN, f64::max);
    assert_eq!(under_attack[kept - 1], best, "kept epoch {kept} of {under_attack:?}");
    // The stage's final dev figure is the kept model's, evaluated again.
    assert_eq!(summary.dev.accuracy, summary.history[kept - 1].dev.accuracy);
    let recorded: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(recorded["settings"]["fit"]["selection"], serde_json::json!({ "by": "dev-under-attack", "recipe": "text-fooler", "examples": 6 }));
}

fn finetune_cli(model: &TempDir, out: &std::path::Path, extra: &[&str], stop_after: Option<&str>) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rticket"));
    cmd.args(["--device", "cpu", "finetune", "--preset", "quick", "--train-limit", "48", "--max-len", "32", "--epochs", "2"])
        .arg("--model")
        .arg(model.path())
        .arg("--out")
        .arg(out)
        .args(extra);
    if let Some(epoch) = stop_after {
        cmd.env("RTICKET_STOP_AFTER_EPOCH", epoch);
    }
    let output = cmd.output().unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into())
}

#[test]
fn a_killed_run_resumes_to_exactly_the_uninterrupted_result() {
    let model = tiny_model_dir("resume");
    let out = TempDir::new("resume-out");
    let (straight, interrupted) = (out.path().join("straight"), out.path().join("interrupted"));

    let (ok, stderr) = finetune_cli(&model, &straight, &[], None);
    assert!(ok, "{stderr}");
    let (ok, stderr) = finetune_cli(&model, &interrupted, &[], Some("1"));
    assert!(!ok && stderr.contains("stopped after epoch 1"), "{stderr}");
    // Without --resume the unfinished run is protected.
    let (ok, stderr) = finetune_cli(&model, &interrupted, &[], None);
    assert!(!ok && stderr.contains("pass --resume"), "{stderr}");
    // A checkpoint drawn from other random streams (here: one written before the versions, v1)
    // is refused on resume, with the fix; it stays as it was.
    let state_path = interrupted.join("checkpoint/state.json");
    let mut state: serde_json::Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    assert_eq!(state["config"]["random_streams"], rticket_core::random::RANDOM_STREAMS);
    let mut old = state.clone();
    old["config"].as_object_mut().unwrap().remove("random_streams");
    std::fs::write(&state_path, serde_json::to_vec(&old).unwrap()).unwrap();
    let (ok, stderr) = finetune_cli(&model, &interrupted, &["--resume"], None);
    assert!(!ok && stderr.contains("random streams v1") && stderr.contains("delete the folder"), "{stderr}");
    // Mark the killed run's epoch as long, to see the resumed stage's time count it.
    state["history"][0]["seconds"] = serde_json::json!(1000.0);
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    let (ok, stderr) = finetune_cli(&model, &interrupted, &["--resume"], None);
    assert!(ok && stderr.contains("resuming after epoch 1"), "{stderr}");

    // Same tensors, bit for bit (the header's metadata order may differ between processes).
    let a = std::fs::read(straight.join("classifier.safetensors")).unwrap();
    let b = std::fs::read(interrupted.join("classifier.safetensors")).unwrap();
    let (a, b) = (safetensors::SafeTensors::deserialize(&a).unwrap(), safetensors::SafeTensors::deserialize(&b).unwrap());
    let mut names = a.names();
    names.sort();
    assert_eq!(names.len(), b.names().len());
    for name in names {
        assert!(a.tensor(name).unwrap().data() == b.tensor(name).unwrap().data(), "{name} differs after resuming");
    }
    let metrics = |dir: &std::path::Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap()
    };
    let (ma, mb) = (metrics(&straight), metrics(&interrupted));
    for epoch in 0..2 {
        assert_eq!(ma["history"][epoch]["train_loss"], mb["history"][epoch]["train_loss"]);
        assert_eq!(ma["history"][epoch]["dev"], mb["history"][epoch]["dev"]);
    }
    // The step log reads as if the run had never stopped: every step once, the same values.
    let steps = |dir: &std::path::Path| std::fs::read_to_string(dir.join("steps.jsonl")).unwrap();
    let (sa, sb) = (steps(&straight), steps(&interrupted));
    let records = rticket::train::read_step_log(&straight.join("steps.jsonl")).unwrap();
    assert!(records.len() >= 2 && records.iter().enumerate().all(|(i, r)| r.step == i), "{sa}");
    assert!(records.iter().all(|r| r.grad_norm.is_some_and(|n| n > 0.0)), "a step without a gradient norm: {sa}");
    assert_eq!(sa, sb, "the resumed run's step log differs");
    // The resumed stage says so; the uninterrupted one has nothing to say.
    assert_eq!(mb["resumed_after"], serde_json::json!([1]));
    assert!(ma.get("resumed_after").is_none(), "{ma}");
    // The resumed stage's time counts the epoch its first, killed run trained.
    assert!(mb["seconds"].as_f64().unwrap() >= 1000.0, "{} s: the killed run's epoch is not counted", mb["seconds"]);
}

/// `--retrain-adversary-eta`: a ticket retrained against FreeLB's adversary runs its K iterates on
/// every step, records the adversary in run.json, and keeps its pruned weights at zero.
#[test]
fn a_ticket_retrains_against_the_adversary_under_its_mask() {
    let model = tiny_encoder_dir("retrain-adversary");
    let out = TempDir::new("retrain-adversary-out");
    let settings = freelb_settings(&tiny_settings(&model), Some(0.3));
    let files = rticket::model_files::ModelFiles::open(model.path()).unwrap();
    let masks = random_masks(&gated_shapes(&files, &cpu()).unwrap(), 0.3, 7);
    let run = out.path().join("retrain");
    let (_, _, best) = run_retrain(&settings, &masks, false, &run, false, &cpu(), "cpu").unwrap();

    let steps = rticket::train::read_step_log(&run.join("steps.jsonl")).unwrap();
    assert!(!steps.is_empty() && steps.iter().all(|s| s.iterate_losses.len() == 2), "{steps:?}");
    let recorded: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(recorded["settings"]["fit"]["objective"]["adversarial"]["step_size"], 0.3);
    for ((name, dense), mask) in best.bert.dense_layers().into_iter().zip(&masks) {
        // The dense layer stores [in, out]; the masks are in HF order [out, in].
        let [d_in, d_out] = dense.shape();
        let weight = rticket_core::weights::transpose(&dense.effective_weight().into_data().try_into_vec::<f32>().unwrap(), d_in, d_out);
        let pruned_nonzero = weight.iter().zip(mask).filter(|&(w, keep)| !keep && *w != 0.0).count();
        assert_eq!(pruned_nonzero, 0, "{name}: pruned weights are non-zero after retraining");
    }
}
