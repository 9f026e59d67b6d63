//! Where a collapsed mask search loses the input: reads a search run's checkpoint (or its best
//! model) and prints, layer by layer, how much the [CLS] representation still varies between
//! dev sentences, then the pooler, the head and the gates.
//!
//! `cargo run --release -p rticket --example probe_collapse -- RUN_DIR [model.bpk|best.bpk|scores]`
//! (`scores`: the finished search's `scores.safetensors` on the model it started from).

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Device, Tensor, TensorData};
use rticket::model_files::ModelFiles;
use rticket::stages::{StageContext, StageSettings, scores_from_file};
use rticket_core::gate::HardConcreteConfig;
use rticket_core::model::{Dense, EncoderInput, attention_bias, cls, read_rows, sentence_features};
use rticket_core::{SequenceClassifier, Weights};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let run = PathBuf::from(args.next().context("usage: probe_collapse RUN_DIR [model.bpk|best.bpk]")?);
    let which = args.next().unwrap_or_else(|| "model.bpk".into());
    let run_json: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("run.json"))?)?;
    let settings: StageSettings = serde_json::from_value(run_json["settings"].clone())?;
    let gates: HardConcreteConfig = serde_json::from_value(run_json["stage_settings"]["gates"].clone())?;

    let device = Device::flex();
    let files = ModelFiles::open(&settings.model_dir)?;
    let config = StageContext::classifier_config_for(&files, &settings)?;
    let model = if which == "scores" {
        // The start (fine-tuned classifier, or the pre-trained encoder) with the searched scores.
        let start = run_json["stage_settings"]["start"].as_str();
        let bytes = std::fs::read(run.join("scores.safetensors"))?;
        let mut model = match start {
            Some(path) => SequenceClassifier::load(&config, &Weights::from_bytes(&std::fs::read(path)?)?, &device)?,
            None => files.classifier(&config, &device)?,
        };
        if start.is_none() {
            let head = Weights::from_bytes(&bytes)?;
            model.classifier = Dense::load(&head, "classifier", config.bert.hidden_size, config.labels.len(), &device)?;
        }
        let scores = scores_from_file(&bytes, &model)?;
        for (values, dense) in scores.scores.into_iter().zip(model.bert.dense_layers_mut()) {
            let [d_in, d_out] = dense.shape();
            let hf = Tensor::<2>::from_data(TensorData::new(values, [d_out, d_in]), &device);
            *dense = dense.clone().with_gate(gates.init_with_scores(hf.transpose()));
        }
        model
    } else {
        let mut model = files.classifier(&config, &device)?;
        model.bert = model.bert.with_gates(&gates);
        let record = ModuleRecord::load(run.join("checkpoint").join(&which)).context("reading the checkpoint")?;
        model.try_load_record(record).context("applying the checkpoint")?
    };

    let tokenizer = files.tokenizer(settings.max_len)?;
    let (_, split) = settings.split()?;
    let texts: Vec<&str> = split.dev.iter().take(64).map(|e| e.text.as_str()).collect();
    let input = EncoderInput::new(&tokenizer.encode_batch(&texts)?, &device);

    // The encoder's forward pass, keeping each layer's [CLS] vector.
    let batch = texts.len();
    let mask_bias = attention_bias(input.attention_mask.clone());
    let mut hidden = model.bert.embeddings.forward(model.bert.embeddings.words(input.input_ids.clone()), input.token_type_ids.clone());
    println!("{which}: spread = mean over dims of the std across {batch} dev sentences; norm = mean L2 norm");
    println!("{:>12} {:>9} {:>9} {:>9}", "where", "spread", "norm", "cos");
    report("embeddings", cls(hidden.clone()))?;
    for (i, layer) in model.bert.layers.iter().enumerate() {
        hidden = layer.forward(hidden, mask_bias.clone());
        report(&format!("layer {i}"), cls(hidden.clone()))?;
    }
    if let Some(pooler) = model.bert.pooler.as_ref() {
        let pre = pooler.forward(cls(hidden.clone()));
        report("pooler pre", pre.clone())?;
        let pre_values = rticket_core::model::read_values(pre)?;
        let saturated = pre_values.iter().filter(|v| v.abs() > 3.0).count() as f64 / pre_values.len() as f64;
        println!("{:>12} {:>8.1}% of |pre-activation| > 3", "saturated", 100.0 * saturated);
    }
    let features = sentence_features(&model.bert, hidden, &input, model.pooling());
    report(&format!("{:?}", model.pooling()).to_lowercase(), features.clone())?;
    let logits = model.classifier.forward(features);
    report("logits", logits.clone())?;
    let rows = read_rows(logits)?;
    let first: Vec<String> = rows.iter().take(4).map(|r| format!("{:.3?}", r)).collect();
    println!("logits of the first sentences: {}", first.join(" "));
    let head = rticket_core::model::read_values(model.classifier.weight.val())?;
    let bias = rticket_core::model::read_values(model.classifier.bias.val())?;
    println!("head: |W| = {:.3}, bias = {bias:.3?}", head.iter().map(|v| v * v).sum::<f32>().sqrt());

    println!("{:>40} {:>8} {:>8} {:>8} {:>9}", "gated matrix", "mean z", "z = 0", "z = 1", "mean la");
    for (name, dense) in model.bert.dense_layers() {
        let gate = dense.gate.as_ref().context("a matrix without gate")?;
        let z = rticket_core::model::read_values(gate.deterministic())?;
        let la = rticket_core::model::read_values(gate.log_alpha.val())?;
        let n = z.len() as f64;
        println!(
            "{name:>40} {:>8.3} {:>8.3} {:>8.3} {:>9.3}",
            z.iter().map(|&v| v as f64).sum::<f64>() / n,
            z.iter().filter(|&&v| v == 0.0).count() as f64 / n,
            z.iter().filter(|&&v| v == 1.0).count() as f64 / n,
            la.iter().map(|&v| v as f64).sum::<f64>() / n,
        );
    }
    Ok(())
}

/// Spread across the batch (mean over dims of the per-dim std), mean norm, and mean pairwise
/// cosine similarity of the rows of `x` `[batch, dims]`.
fn report(label: &str, x: Tensor<2>) -> Result<()> {
    let rows = read_rows(x)?;
    let (n, d) = (rows.len() as f64, rows[0].len());
    let spread = (0..d)
        .map(|j| {
            let mean = rows.iter().map(|r| r[j] as f64).sum::<f64>() / n;
            (rows.iter().map(|r| (r[j] as f64 - mean).powi(2)).sum::<f64>() / n).sqrt()
        })
        .sum::<f64>()
        / d as f64;
    let norms: Vec<f64> = rows.iter().map(|r| r.iter().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt()).collect();
    let mut cos = 0.0f64;
    let mut pairs = 0.0f64;
    for a in 0..rows.len() {
        for b in a + 1..rows.len() {
            let dot: f64 = rows[a].iter().zip(&rows[b]).map(|(&x, &y)| x as f64 * y as f64).sum();
            cos += dot / (norms[a] * norms[b]).max(1e-12);
            pairs += 1.0;
        }
    }
    println!("{label:>12} {spread:>9.4} {:>9.3} {:>9.4}", norms.iter().sum::<f64>() / n, cos / pairs.max(1.0));
    Ok(())
}
