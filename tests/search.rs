//! The search's pieces on real weights (the adversary, frozen weights, gate training), and the
//! search -> draw -> retrain subcommands end to end on the tiny model.

use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use rticket::train::{AdversarialConfig, ObjectiveConfig, ParamIds, task_gradients};
use rticket_core::gate::HardConcreteConfig;
use rticket_core::model::{EncoderInput, SavedMeta};
use rticket_core::{Pooling, Window};
use rticket_core::ticket::{MaskEncoding, Ticket, ValueDtype};

use crate::common::*;

#[test]
fn the_adversarial_steps_increase_the_loss_on_a_fixed_batch() {
    let files = minilm();
    let device = cpu().autodiff();
    device.seed(11);
    let config = polarity_config(files.config.clone());
    let mut model = files.classifier(&config, &device).unwrap().no_grad();
    model.bert = model.bert.with_gates(&HardConcreteConfig::new());
    let tokenizer = files.tokenizer(64).unwrap();
    let texts = ["a gripping , moving film", "tedious and far too long", "the cast is wonderful", "a mess from start to end"];
    let input = EncoderInput::new(&tokenizer.encode_batch(&texts).unwrap(), &device);
    let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 0, 1, 0], [4]), &device);
    // A large step makes the ascent visible through the gates' sampling noise.
    let objective = ObjectiveConfig {
        adversarial: Some(AdversarialConfig { steps: 4, step_size: 2.0, init_magnitude: 0.05 }),
        l0: None,
    };
    let ids = ParamIds::of(&model);
    device.seed(5);
    let out = task_gradients(&objective, &model, &input, targets, &ids);
    let losses = out.iterate_losses;
    assert_eq!(losses.len(), 4);
    assert!(losses[3] > losses[0] + 1e-3, "the loss did not rise along the ascent: {losses:?}");

    // Only the gate scores received gradients: the encoder and head are frozen.
    let gate = model.bert.gates()[0];
    assert!(out.grads.get::<2>(gate.log_alpha.id).is_some(), "the gates got no gradient");
    assert!(out.grads.get::<2>(model.bert.layers[0].query.weight.id).is_none(), "a frozen weight got a gradient");
    assert!(out.grads.get::<2>(model.classifier.weight.id).is_none(), "the frozen head got a gradient");
}

#[test]
fn search_then_draw_at_several_sparsities_then_retrain_from_the_command_line() {
    let model = tiny_model_dir("stages");
    let out = TempDir::new("stages-out");
    let (search, draw, retrain) = (out.path().join("search"), out.path().join("draw"), out.path().join("retrain"));
    let m = model.path().to_str().unwrap();
    let (ok, _, stderr) = rticket(&["--device", "cpu", "search", "--model", m, "--mode", "mask-only", "--out", search.to_str().unwrap()]);
    assert!(ok, "search failed: {stderr}");
    assert!(search.join("scores.safetensors").is_file());

    let (ok, stdout, stderr) = rticket(&[
        "--device", "cpu", "draw", "--model", m, "--search", search.to_str().unwrap(), "--sparsity", "0.3,0.8",
        "--out", draw.to_str().unwrap(),
    ]);
    assert!(ok, "draw failed: {stderr}");
    assert!(stdout.contains("| 80.0% |"), "{stdout}");
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(draw.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(reports.len(), 2);
    for (report, sparsity, file) in [(&reports[0], 0.3, "ticket-30.safetensors"), (&reports[1], 0.8, "ticket-80.safetensors")] {
        let ticket = Ticket::from_bytes(&std::fs::read(draw.join(file)).unwrap()).unwrap();
        let total = ticket.gated_weights() as f64;
        // Exact global top-k: the kept count is the requested one, rounded.
        let kept = ticket.keep_masks().iter().flatten().filter(|k| **k).count() as f64;
        assert!((kept - (total * (1.0 - sparsity)).round()).abs() <= 1.0, "{file}: kept {kept} of {total}");
        assert_eq!(ticket.mask_encoding, MaskEncoding::Ans);
        assert!(ticket.values.is_none(), "a drawn ticket holds no values");
        // The mask-only head reads the frozen encoder's mean pooling; the unread pooler is not gated.
        assert_eq!(ticket.meta.classifier.pooling, Pooling::Mean);
        assert!(ticket.meta.gated.iter().all(|name| !name.contains("pooler")), "{:?}", ticket.meta.gated);
        // The entropy-coded masks come within 1% of the bound H(density), plus ANS's fixed cost
        // of at most two 32-bit words per matrix (6% of these tiny 1024-weight matrices).
        let (stored, bound) = (report["mask_bits_per_weight"].as_f64().unwrap(), report["entropy_bits_per_weight"].as_f64().unwrap());
        let fixed = 64.0 * ticket.meta.gated.len() as f64 / total;
        assert!(stored <= bound * 1.01 + fixed, "{file}: {stored} bits per weight against the bound {bound} (+{fixed} fixed)");
    }
    // Garbage sparsities are refused before any work.
    let (ok, _, stderr) = rticket(&["--device", "cpu", "draw", "--model", m, "--search", search.to_str().unwrap(), "--sparsity", "1.5", "--out", out.path().join("bad").to_str().unwrap()]);
    assert!(!ok && stderr.contains("outside [0, 1)"), "{stderr}");
    // A scores file cut in its data (header intact) is called truncated, not drawn from.
    let cut = out.path().join("cut-search");
    std::fs::create_dir_all(&cut).unwrap();
    std::fs::copy(search.join("run.json"), cut.join("run.json")).unwrap();
    let scores = std::fs::read(search.join("scores.safetensors")).unwrap();
    std::fs::write(cut.join("scores.safetensors"), &scores[..scores.len() - 100]).unwrap();
    let (ok, _, stderr) = rticket(&["--device", "cpu", "draw", "--model", m, "--search", cut.to_str().unwrap(), "--sparsity", "0.3", "--out", out.path().join("cut-draw").to_str().unwrap()]);
    assert!(!ok && stderr.contains("corrupt or truncated"), "{stderr}");

    let drawn = draw.join("ticket-80.safetensors");
    let (ok, _, stderr) = rticket(&[
        "--device", "cpu", "retrain", "--model", m, "--ticket", drawn.to_str().unwrap(), "--values", "f32", "--out", retrain.to_str().unwrap(),
    ]);
    assert!(ok, "retrain failed: {stderr}");
    let retrained = Ticket::from_bytes(&std::fs::read(retrain.join("ticket.safetensors")).unwrap()).unwrap();
    let original = Ticket::from_bytes(&std::fs::read(&drawn).unwrap()).unwrap();
    assert_eq!(retrained.masks, original.masks, "retraining changed the mask");
    assert_eq!(retrained.meta.classifier.pooling, Pooling::Mean, "the retrained head reads another pooling than the ticket's");
    assert!(matches!(retrained.values, Some((ValueDtype::F32, _))));

    // A ticket of another base model is refused by retrain (one weight differs in its last bit).
    let other = TempDir::new("stages-other");
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(model.path().join(file), other.path().join(file)).unwrap();
    }
    let mut weights = std::fs::read(other.path().join("model.safetensors")).unwrap();
    *weights.last_mut().unwrap() ^= 1;
    std::fs::write(other.path().join("model.safetensors"), weights).unwrap();
    let (ok, _, stderr) = rticket(&[
        "--device", "cpu", "retrain", "--model", other.path().to_str().unwrap(), "--ticket", drawn.to_str().unwrap(),
        "--out", out.path().join("wrong").to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("load the base model the ticket names"), "{stderr}");
}

#[test]
fn the_adversary_also_trains_every_weight_for_freelb() {
    // FreeLB fine-tuning: no gates, the embeddings and all weights trainable, K passes whose
    // gradients accumulate (each pass looks the embeddings up afresh).
    let model_dir = tiny_model_dir("freelb");
    let files = rticket::model_files::ModelFiles::open(model_dir.path()).unwrap();
    let device = cpu().autodiff();
    device.seed(3);
    let config = polarity_config(files.config.clone());
    let model = files.classifier(&config, &device).unwrap();
    let tokenizer = files.tokenizer(32).unwrap();
    let input = EncoderInput::new(&tokenizer.encode_batch(&["a gripping film", "tedious and long"]).unwrap(), &device);
    let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 0], [2]), &device);
    let objective = ObjectiveConfig { adversarial: Some(AdversarialConfig { steps: 3, ..AdversarialConfig::default() }), l0: None };
    let out = task_gradients(&objective, &model, &input, targets, &ParamIds::of(&model));
    assert_eq!(out.iterate_losses.len(), 3);
    assert!(out.grads.get::<2>(model.bert.embeddings.word_embeddings.id).is_some(), "the word embeddings got no gradient");
    assert!(out.grads.get::<2>(model.bert.layers[1].value.weight.id).is_some(), "an encoder weight got no gradient");
    assert!(out.grads.get::<2>(model.classifier.weight.id).is_some(), "the head got no gradient");
}

#[test]
fn every_search_constant_can_be_set_from_the_command_line_and_is_recorded() {
    let model = tiny_model_dir("tuning");
    let out = TempDir::new("tuning-out");
    let m = model.path().to_str().unwrap();
    let (ok, _, stderr) = rticket(&[
        "--device", "cpu", "search", "--model", m, "--mode", "mask-only", "--train-limit", "32", "--gate-lr", "0.05",
        "--l0-lambda", "0.2", "--l0-form", "mean-of-matrix-means", "--adv-steps", "3", "--adv-eta", "0.07",
        "--out", out.path().to_str().unwrap(),
    ]);
    assert!(ok, "search failed: {stderr}");
    let run: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("run.json")).unwrap()).unwrap();
    let fit = &run["settings"]["fit"];
    assert_eq!(fit["gate_lr"], 0.05);
    assert_eq!(fit["objective"]["l0"]["lambda"], 0.2);
    assert_eq!(fit["objective"]["l0"]["form"], "mean-of-matrix-means");
    assert_eq!(fit["objective"]["adversarial"]["steps"], 3);
    assert_eq!(fit["objective"]["adversarial"]["step_size"], 0.07);
    // Each step ran K = 3 adversarial iterates.
    let steps = rticket::train::read_step_log(&out.path().join("steps.jsonl")).unwrap();
    assert!(!steps.is_empty() && steps.iter().all(|s| s.iterate_losses.len() == 3), "{steps:?}");
}

#[test]
fn a_straight_through_search_then_a_draw_with_its_head_refit_on_the_tickets_features() {
    let model = tiny_model_dir("straight-through");
    let out = TempDir::new("straight-through-out");
    let (search, draw) = (out.path().join("search"), out.path().join("draw"));
    let m = model.path().to_str().unwrap();
    let (ok, _, stderr) = rticket(&[
        "--device", "cpu", "search", "--model", m, "--mode", "mask-only", "--gates", "straight-through", "--train-limit", "32",
        "--head-warmup", "1", "--out", search.to_str().unwrap(),
    ]);
    assert!(ok, "search failed: {stderr}");
    let run: serde_json::Value = serde_json::from_slice(&std::fs::read(search.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["stage_settings"]["gates"]["straight_through"], true, "{run}");
    assert_eq!(run["stage_settings"]["head_warmup_epochs"], 1, "{run}");
    // The head trained alone first, one epoch, in its own folder (no gate in its step log).
    let warmup = rticket::train::read_step_log(&search.join("head-warmup/steps.jsonl")).unwrap();
    assert!(!warmup.is_empty() && warmup.iter().all(|s| s.epoch == 1 && s.density.is_none()), "{warmup:?}");
    // The warm-up's fresh head is drawn from the seed: the same command gives the same scores.
    let again = out.path().join("search-again");
    let (ok, _, stderr) = rticket(&[
        "--device", "cpu", "search", "--model", m, "--mode", "mask-only", "--gates", "straight-through", "--train-limit", "32",
        "--head-warmup", "1", "--out", again.to_str().unwrap(),
    ]);
    assert!(ok, "search failed: {stderr}");
    assert!(std::fs::read(search.join("scores.safetensors")).unwrap() == std::fs::read(again.join("scores.safetensors")).unwrap(), "the same search gave other scores");
    // A paper-mode search keeps its fine-tuned head: a warm-up there is refused before any work.
    let (ok, _, stderr) = rticket(&["--device", "cpu", "search", "--model", m, "--head-warmup", "1", "--out", out.path().join("paper").to_str().unwrap()]);
    assert!(!ok && stderr.contains("--head-warmup is for mask-only searches"), "{stderr}");
    let (ok, _, stderr) = rticket(&[
        "--device", "cpu", "draw", "--model", m, "--search", search.to_str().unwrap(), "--sparsity", "0.3", "--train-limit", "32",
        "--refit-head", "2", "--out", draw.to_str().unwrap(),
    ]);
    assert!(ok, "draw failed: {stderr}");
    // The head was trained again on the ticket's features (2 epochs logged in its own folder),
    // and the ticket keeps the searched head's accuracy beside its own.
    let steps = rticket::train::read_step_log(&draw.join("refit-30/steps.jsonl")).unwrap();
    assert_eq!(steps.iter().map(|s| s.epoch).max(), Some(2));
    let ticket = Ticket::from_bytes(&std::fs::read(draw.join("ticket-30.safetensors")).unwrap()).unwrap();
    let scores = std::fs::read(search.join("scores.safetensors")).unwrap();
    let searched = rticket_core::Weights::from_bytes(&scores).unwrap();
    let labels = ticket.meta.classifier.labels.len();
    let searched_head = searched.values("classifier.weight", &[labels, ticket.meta.classifier.bert.hidden_size]).unwrap();
    assert_ne!(ticket.head.0, searched_head, "the exported head is the searched one");
    let refit = &ticket.meta.training["head_refit"];
    assert_eq!(refit["fit"]["epochs"], 2, "{refit}");
    assert!(refit["searched_head"]["dev"]["accuracy"].is_number(), "{refit}");
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(draw.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(reports[0]["dev"], ticket.meta.metrics["dev"], "metrics.json reports another head than the ticket's");
}

#[test]
fn a_killed_search_resumes_to_exactly_the_uninterrupted_scores() {
    // The gate scores have their own optimiser; a resumed search must still route their
    // gradients to it (and clip as before), or the scores drift from the uninterrupted run's.
    let model = tiny_model_dir("search-resume");
    let out = TempDir::new("search-resume-out");
    let search = |dir: &std::path::Path, resume: bool, stop_after: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rticket"));
        cmd.args(["--device", "cpu", "search", "--mode", "mask-only", "--train-limit", "48", "--epochs", "2"])
            .arg("--model")
            .arg(model.path())
            .arg("--out")
            .arg(dir);
        if resume {
            cmd.arg("--resume");
        }
        if let Some(epoch) = stop_after {
            cmd.env("RTICKET_STOP_AFTER_EPOCH", epoch);
        }
        let output = cmd.output().unwrap();
        (output.status.success(), String::from_utf8_lossy(&output.stderr).to_string())
    };
    let (straight, interrupted) = (out.path().join("straight"), out.path().join("interrupted"));
    let (ok, stderr) = search(&straight, false, None);
    assert!(ok, "{stderr}");
    let (ok, stderr) = search(&interrupted, false, Some("1"));
    assert!(!ok && stderr.contains("stopped after epoch 1"), "{stderr}");
    let (ok, stderr) = search(&interrupted, true, None);
    assert!(ok && stderr.contains("resuming after epoch 1"), "{stderr}");

    assert_same_scores(&straight, &interrupted, "differs after resuming");
    assert_eq!(steps(&straight), steps(&interrupted), "the resumed search's step log differs");
}

/// A search's per-step log, as written.
fn steps(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("steps.jsonl")).unwrap()
}

/// Asserts that two searches' `scores.safetensors` hold the same tensors, bit for bit (the files'
/// metadata, which records each run's settings, may differ).
fn assert_same_scores(a: &std::path::Path, b: &std::path::Path, what: &str) {
    let (a, b) = (std::fs::read(a.join("scores.safetensors")).unwrap(), std::fs::read(b.join("scores.safetensors")).unwrap());
    let (a, b) = (safetensors::SafeTensors::deserialize(&a).unwrap(), safetensors::SafeTensors::deserialize(&b).unwrap());
    assert_eq!(a.names().len(), b.names().len());
    for name in a.names() {
        assert!(a.tensor(name).unwrap().data() == b.tensor(name).unwrap().data(), "{name} {what}");
    }
}

/// `model`'s weights with the head set to zero: every input gets logits (0, 0), so class 0 for
/// all of dev: a search that starts there is collapsed at every epoch's end, whatever it does.
fn zero_head_classifier(model: &TempDir, out: &std::path::Path) -> std::path::PathBuf {
    let bytes = std::fs::read(model.path().join("model.safetensors")).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let data = if name.starts_with("classifier.") { vec![0; view.data().len()] } else { view.data().to_vec() };
            (name, view.dtype(), view.shape().to_vec(), data)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = owned
        .iter()
        .map(|(name, dtype, shape, data)| (name.clone(), safetensors::tensor::TensorView::new(*dtype, shape.clone(), data).unwrap()))
        .collect();
    let path = out.join("zero-head.safetensors");
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
    path
}

#[test]
fn the_collapse_guard_redoes_a_collapsed_epoch_from_exactly_where_it_began() {
    let model = tiny_model_dir("collapse-guard");
    let out = TempDir::new("collapse-guard-out");
    let start = zero_head_classifier(&model, out.path());
    let search = |dir: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["--device", "cpu", "search", "--mode", "paper", "--train-limit", "32", "--epochs", "2"];
        args.extend(["--model", model.path().to_str().unwrap(), "--start", start.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
        args.extend(extra);
        let (ok, _, stderr) = rticket(&args);
        assert!(ok, "search failed: {stderr}");
        stderr
    };
    // Two retries at halving rates: epoch 1 is done three times, the last at a quarter of the
    // rate, which the run keeps (warned) along with epoch 2.
    let guarded = out.path().join("guarded");
    let stderr = search(&guarded, &["--gate-lr", "0.1", "--collapse-retries", "2"]);
    assert!(stderr.contains("going back to the start of epoch 1 with the gate scores' learning rate scaled by 0.25"), "{stderr}");
    let metrics: serde_json::Value = serde_json::from_slice(&std::fs::read(guarded.join("metrics.json")).unwrap()).unwrap();
    let rollbacks = metrics["rollbacks"].as_array().expect("metrics.json lists the rollbacks");
    assert_eq!(rollbacks.iter().map(|r| (r["epoch"].as_u64().unwrap(), r["gate_lr_scale"].as_f64().unwrap())).collect::<Vec<_>>(), vec![(1, 0.5), (1, 0.25)]);
    for n in [1, 2] {
        let discarded = rticket::train::read_step_log(&guarded.join(format!("steps-discarded-{n}.jsonl"))).unwrap();
        assert_eq!(discarded.len(), 2, "the discarded attempt {n} logged {} steps", discarded.len());
    }

    // The same run at a quarter of the rate from the start: identical step by step, so the
    // guard restored the model, both optimisers' states, the step count and the random streams.
    let quarter = out.path().join("quarter");
    search(&quarter, &["--gate-lr", "0.025"]);
    assert_eq!(steps(&guarded), steps(&quarter), "the redone epochs differ from a run at the final rate");
    assert_same_scores(&guarded, &quarter, "differs between the guarded search and the run at the final rate");

    // Without the guard the same start is kept as it is: one pass per epoch, no rollbacks.
    let plain = out.path().join("plain");
    let stderr = search(&plain, &["--gate-lr", "0.1"]);
    assert!(stderr.contains("the model no longer reads its input") && !stderr.contains("going back"), "{stderr}");
    let metrics: serde_json::Value = serde_json::from_slice(&std::fs::read(plain.join("metrics.json")).unwrap()).unwrap();
    assert!(metrics.get("rollbacks").is_none(), "{metrics}");
    assert_ne!(steps(&plain), steps(&quarter), "the gate rate has no effect here, so the test shows nothing");
}

#[test]
fn a_collapse_guard_that_never_fires_changes_nothing() {
    // The guard keeps an epoch-start snapshot; taking it must not touch the random streams or the
    // optimisers, so a search that never collapses is the same run with or without it (the
    // reproductions rely on this to compare guarded and unguarded folders). The real MiniLM:
    // a random tiny encoder gives every dev sentence one class, which the guard would redo.
    let model = minilm_dir();
    let out = TempDir::new("guard-idle-out");
    let search = |dir: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["--device", "cpu", "search", "--mode", "mask-only", "--train-limit", "16", "--epochs", "2"];
        args.extend(["--model", model.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
        args.extend(extra);
        let (ok, _, stderr) = rticket(&args);
        assert!(ok, "search failed: {stderr}");
        stderr
    };
    let (guarded, plain) = (out.path().join("guarded"), out.path().join("plain"));
    let stderr = search(&guarded, &["--collapse-retries", "2"]);
    assert!(!stderr.contains("going back") && !stderr.contains("no longer reads its input"), "this search collapsed, so the test shows nothing: {stderr}");
    search(&plain, &[]);
    assert_eq!(steps(&guarded), steps(&plain), "an idle guard changed the search's steps");
    assert_same_scores(&guarded, &plain, "was changed by an idle guard");
}

/// A model told to read the tail of long texts reads it at every stage: fine-tuning records the
/// window, the search, the draw and the retraining take it from their inputs (and refuse another),
/// and the classifier and the ticket answer a long text by its last tokens alone.
#[test]
fn the_window_and_length_carry_from_fine_tuning_to_the_retrained_ticket() {
    let model = tiny_model_dir("tail");
    let out = TempDir::new("tail-out");
    let m = model.path().to_str().unwrap();
    let dir = |name: &str| out.path().join(name).to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let mut all = vec!["--device", "cpu"];
        all.extend(args);
        let (ok, stdout, stderr) = rticket(&all);
        assert!(ok, "{args:?} failed: {stderr}");
        stdout
    };
    // Two texts that differ only in their first words, then run on past every window here (64 tokens).
    let ending = "the acting is wooden and the plot is thin , the jokes fall flat and the songs are forgettable , \
                  the middle drags on for far too long without a single surprise or a line worth quoting , \
                  yet the final scene lands with real grace , warmth and a lovely sense of timing"
        .repeat(2);
    let texts = [format!("a bright , funny and clever film . {ending}"), format!("dull , lifeless and cheap . {ending}")];
    let answers = |what: &[&str]| -> Vec<serde_json::Value> {
        let mut args = vec!["classify", "--model", m];
        args.extend(what);
        args.extend(texts.iter().map(String::as_str));
        run(&args).lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["probabilities"].clone()).collect()
    };

    let common = ["--model", m, "--train-limit", "16", "--epochs", "1"];
    let finetune = dir("finetune");
    run(&[&["finetune", "--preset", "quick", "--max-len", "32", "--window", "tail", "--out", &finetune][..], &common].concat());
    let classifier = format!("{finetune}/classifier.safetensors");
    let saved = SavedMeta::read(&std::fs::read(&classifier).unwrap()).unwrap();
    assert_eq!((saved.window, saved.max_len), (Window::Tail, Some(32)));
    let dense = answers(&["--classifier", &classifier]);
    assert_eq!(dense[0], dense[1], "the classifier read past its last 32 tokens");

    // A head-reading model tells the two texts apart, so the check above can fail.
    let head = dir("finetune-head");
    run(&[&["finetune", "--preset", "quick", "--max-len", "32", "--out", &head][..], &common].concat());
    let head_answers = answers(&["--classifier", &format!("{head}/classifier.safetensors")]);
    assert_ne!(head_answers[0], head_answers[1], "the texts' first words do not change a head-reading model's answer");

    let search = dir("search");
    let search_args = [&["search", "--mode", "paper", "--start", &classifier, "--out", &search][..], &common].concat();
    let (ok, _, stderr) = rticket(&[&["--device", "cpu"][..], &search_args, &["--window", "head"]].concat());
    assert!(!ok && stderr.contains("reading the tail of long texts, not the head"), "{stderr}");
    run(&search_args);
    let draw = dir("draw");
    run(&["draw", "--model", m, "--search", &search, "--sparsity", "0.3", "--out", &draw]);
    let drawn = format!("{draw}/ticket-30.safetensors");
    // The search, its draws and the retrained ticket read the fine-tuned model's 32 tokens,
    // not the quick preset's 64.
    let scores = SavedMeta::read(&std::fs::read(format!("{search}/scores.safetensors")).unwrap()).unwrap();
    assert_eq!((scores.window, scores.max_len), (Window::Tail, Some(32)));
    let meta = Ticket::from_bytes(&std::fs::read(&drawn).unwrap()).unwrap().meta;
    assert_eq!((meta.window, meta.max_len), (Window::Tail, 32));

    let retrain = dir("retrain");
    let retrain_args = [&["retrain", "--ticket", &drawn, "--out", &retrain][..], &common].concat();
    let (ok, _, stderr) = rticket(&[&["--device", "cpu"][..], &retrain_args, &["--window", "head"]].concat());
    assert!(!ok && stderr.contains("drop --window head"), "{stderr}");
    run(&retrain_args);
    let ticket = format!("{retrain}/ticket.safetensors");
    let meta = Ticket::from_bytes(&std::fs::read(&ticket).unwrap()).unwrap().meta;
    assert_eq!((meta.window, meta.max_len), (Window::Tail, 32));
    let sparse = answers(&["--ticket", &ticket]);
    assert_eq!(sparse[0], sparse[1], "the ticket read past its last tokens");
}
