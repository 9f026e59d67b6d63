//! Attacking a model on a fixed set of examples: per-example JSONL and a summary in the
//! paper's layout (clean accuracy, accuracy under attack, success rate, queries, perturbed words).

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::tensor::Device;
use rticket_core::attack::{AttackResult, ClassifierVictim, MeanPoolEncoder, Outcome, Recipe, Resources, attack};
use rticket_core::{BertModel, SequenceClassifier, TextTokenizer};
use serde::{Deserialize, Serialize};

use crate::data::Example;
use crate::train::progress_bar;

/// One recipe's numbers on one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackSummary {
    pub recipe: Recipe,
    pub recipe_name: String,
    pub examples: usize,
    pub clean_accuracy: f64,
    pub accuracy_under_attack: f64,
    /// (clean - under attack) / clean.
    pub success_rate: f64,
    /// Mean victim queries per attacked (initially correct) example.
    pub mean_queries: f64,
    /// Mean fraction of words changed, over successful attacks.
    pub mean_perturbed_rate: f64,
    pub seconds: f64,
    /// Forward passes of the victim (batches), for overhead measurements.
    pub forward_passes: usize,
}

/// What the attacks run against and with.
pub struct AttackSetup<'a> {
    pub victim: &'a SequenceClassifier,
    pub tokenizer: &'a TextTokenizer,
    /// The similarity encoder (the pre-trained base encoder, independent of the victim).
    pub encoder: &'a BertModel,
    pub resources: Resources<'a>,
    pub device: Device,
    pub batch_size: usize,
}

/// Attacks each example with `recipe`, appending one JSON line per example to `jsonl`.
pub fn attack_examples(setup: &AttackSetup, recipe: Recipe, examples: &[Example], seed: u64, jsonl: &Path) -> Result<AttackSummary> {
    let started = Instant::now();
    let config = recipe.config_for(setup.resources.masked_lm.is_some());
    let mut file = std::io::BufWriter::new(std::fs::File::create(jsonl).with_context(|| format!("creating {}", jsonl.display()))?);
    let mut victim = ClassifierVictim {
        model: setup.victim,
        tokenizer: setup.tokenizer,
        device: setup.device.clone(),
        batch_size: setup.batch_size,
        forward_passes: 0,
    };
    let mut encoder = MeanPoolEncoder { model: setup.encoder, tokenizer: setup.tokenizer, device: setup.device.clone(), batch_size: setup.batch_size };
    let bar = progress_bar(examples.len(), recipe.name());
    let mut results: Vec<AttackResult> = Vec::with_capacity(examples.len());
    for (i, example) in examples.iter().enumerate() {
        let result = attack(
            &example.text,
            example.label,
            &config,
            &mut victim,
            Some(&mut encoder),
            setup.resources,
            seed.wrapping_add(example.id as u64),
            &mut |_| {},
        )
        .with_context(|| format!("attacking example {} ({:?})", example.id, example.text))?;
        serde_json::to_writer(&mut file, &serde_json::json!({ "id": example.id, "recipe": recipe, "result": result }))?;
        file.write_all(b"\n")?;
        results.push(result);
        let succeeded = results.iter().filter(|r| r.outcome == Outcome::Succeeded).count();
        bar.set_message(format!("{succeeded} flipped of {}", i + 1));
        bar.inc(1);
    }
    bar.finish_and_clear();
    file.flush()?;
    let mut summary = summarise(recipe, &results, started.elapsed().as_secs_f64(), victim.forward_passes);
    summary.recipe_name = config.name().to_string();
    Ok(summary)
}

/// The paper's metrics from per-example results.
pub fn summarise(recipe: Recipe, results: &[AttackResult], seconds: f64, forward_passes: usize) -> AttackSummary {
    let n = results.len().max(1) as f64;
    let attacked: Vec<&AttackResult> = results.iter().filter(|r| r.outcome != Outcome::Skipped).collect();
    let succeeded: Vec<&AttackResult> = attacked.iter().copied().filter(|r| r.outcome == Outcome::Succeeded).collect();
    let clean = attacked.len() as f64 / n;
    let under_attack = (attacked.len() - succeeded.len()) as f64 / n;
    AttackSummary {
        recipe,
        recipe_name: recipe.name().to_string(),
        examples: results.len(),
        clean_accuracy: clean,
        accuracy_under_attack: under_attack,
        success_rate: if clean > 0.0 { (clean - under_attack) / clean } else { 0.0 },
        mean_queries: attacked.iter().map(|r| r.queries as f64).sum::<f64>() / attacked.len().max(1) as f64,
        mean_perturbed_rate: succeeded.iter().map(|r| r.perturbed_rate()).sum::<f64>() / succeeded.len().max(1) as f64,
        seconds,
        forward_passes,
    }
}

/// The summary table in the paper's layout.
pub fn summary_table(model: &str, summaries: &[AttackSummary]) -> String {
    let mut s = String::from("| model | attack | clean acc | acc under attack | success rate | mean queries | perturbed words |\n|---|---|---|---|---|---|---|\n");
    for a in summaries {
        s.push_str(&format!(
            "| {model} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1}% |\n",
            a.recipe_name,
            100.0 * a.clean_accuracy,
            100.0 * a.accuracy_under_attack,
            100.0 * a.success_rate,
            a.mean_queries,
            100.0 * a.mean_perturbed_rate
        ));
    }
    s
}
