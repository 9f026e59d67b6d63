//! Attacking a model on a fixed set of examples: per-example JSONL and a summary in the
//! paper's layout (clean accuracy, accuracy under attack, success rate, queries, perturbed words).

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::tensor::Device;
use rticket_core::attack::{AttackResult, CandidateSource, ClassifierVictim, MeanPoolEncoder, Outcome, Recipe, RecipeConfig, Resources, Segment, attack_blocking};
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
    /// What the run changes in the recipes' settings.
    pub options: AttackOptions,
}

/// A run's changes to the recipes' settings (none by default: TextAttack's recipes).
#[derive(Debug, Clone, Copy, Default)]
pub struct AttackOptions {
    /// The text of a sentence pair the attacks change.
    pub segment: Segment,
    /// TextFooler's cosine floor on embedding neighbours, instead of TextAttack's 0.5.
    pub min_cosine: Option<f32>,
}

impl AttackOptions {
    /// `recipe`'s settings (with or without a masked-LM head) under these options.
    pub fn config(&self, recipe: Recipe, masked_lm: bool) -> RecipeConfig {
        let mut config = RecipeConfig { segment: self.segment, ..recipe.config_for(masked_lm) };
        if let (Some(floor), Recipe::TextFooler, CandidateSource::Embedding { k, .. }) = (self.min_cosine, recipe, config.candidates) {
            config.candidates = CandidateSource::Embedding { k, min_cosine: floor };
        }
        config
    }
}

/// One line of an attack's JSONL log: the example, its result, and what it cost (so a
/// resumed attack still reports the whole run's time and forward passes).
#[derive(Debug, Serialize, Deserialize)]
struct LoggedAttack {
    id: usize,
    recipe: Recipe,
    result: AttackResult,
    #[serde(default)]
    seconds: f64,
    #[serde(default)]
    forward_passes: usize,
}

/// The results logged in `jsonl` by an earlier, cut run on the same examples, in order; the
/// file is cut back to those whole lines (a line half-written when the run was killed goes).
fn logged_results(jsonl: &Path, recipe: Recipe, examples: &[Example]) -> Result<Vec<LoggedAttack>> {
    let Ok(text) = std::fs::read_to_string(jsonl) else { return Ok(Vec::new()) };
    let mut logged = Vec::new();
    let mut kept_bytes = 0;
    for line in text.split_inclusive('\n') {
        let Some(example) = examples.get(logged.len()) else { break };
        match serde_json::from_str::<LoggedAttack>(line.trim_end()) {
            Ok(entry) if line.ends_with('\n') && entry.id == example.id && entry.recipe == recipe => logged.push(entry),
            _ => break,
        }
        kept_bytes += line.len();
    }
    if kept_bytes < text.len() {
        let file = std::fs::OpenOptions::new().write(true).open(jsonl).with_context(|| format!("opening {}", jsonl.display()))?;
        file.set_len(kept_bytes as u64).with_context(|| format!("cutting {} back to its whole lines", jsonl.display()))?;
    }
    Ok(logged)
}

/// Attacks each example with `recipe`, one JSON line per example in `jsonl`. With `resume`,
/// the examples an earlier cut run logged there are read back instead of attacked again.
pub fn attack_examples(setup: &AttackSetup, recipe: Recipe, examples: &[Example], seed: u64, jsonl: &Path, resume: bool) -> Result<AttackSummary> {
    let logged = if resume { logged_results(jsonl, recipe, examples)? } else { Vec::new() };
    let mut seconds: f64 = logged.iter().map(|l| l.seconds).sum();
    let mut forward_passes: usize = logged.iter().map(|l| l.forward_passes).sum();
    let mut results: Vec<AttackResult> = logged.into_iter().map(|l| l.result).collect();
    let open = std::fs::OpenOptions::new().create(true).write(true).append(resume).truncate(!resume).open(jsonl);
    let mut file = std::io::BufWriter::new(open.with_context(|| format!("creating {}", jsonl.display()))?);
    let config = setup.options.config(recipe, setup.resources.masked_lm.is_some());
    let mut victim = ClassifierVictim {
        model: setup.victim,
        tokenizer: setup.tokenizer,
        device: setup.device.clone(),
        batch_size: setup.batch_size,
        forward_passes: 0,
    };
    let mut encoder = MeanPoolEncoder { model: setup.encoder, tokenizer: setup.tokenizer, device: setup.device.clone(), batch_size: setup.batch_size };
    let bar = progress_bar(examples.len(), recipe.name());
    bar.inc(results.len() as u64);
    for example in &examples[results.len()..] {
        let started = Instant::now();
        let passes_before = victim.forward_passes;
        let result = attack_blocking(
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
        let entry = LoggedAttack {
            id: example.id,
            recipe,
            result,
            seconds: started.elapsed().as_secs_f64(),
            forward_passes: victim.forward_passes - passes_before,
        };
        serde_json::to_writer(&mut file, &entry)?;
        file.write_all(b"\n")?;
        // A whole line on disk per example: a killed run loses at most the one in flight.
        file.flush()?;
        seconds += entry.seconds;
        forward_passes += entry.forward_passes;
        results.push(entry.result);
        let succeeded = results.iter().filter(|r| r.outcome == Outcome::Succeeded).count();
        bar.set_message(format!("{succeeded} flipped of {}", results.len()));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let mut summary = summarise(recipe, &results, seconds, forward_passes);
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

/// The first `n` successful attacks logged in `jsonl`, in the order they were attacked.
pub fn logged_successes(jsonl: &Path, n: usize) -> Result<Vec<AttackResult>> {
    let text = std::fs::read_to_string(jsonl).with_context(|| format!("reading {}", jsonl.display()))?;
    let mut out = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        let entry: LoggedAttack = serde_json::from_str(line).with_context(|| format!("{} line {}", jsonl.display(), line_no + 1))?;
        if entry.result.outcome == Outcome::Succeeded && out.len() < n {
            out.push(entry.result);
        }
    }
    Ok(out)
}

/// Adversarial examples as a markdown table: the sentence before and after, the swaps, the queries.
pub fn examples_table(results: &[AttackResult]) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut s = String::from("| original | adversarial | swaps | queries |\n|---|---|---|---|\n");
    for r in results {
        let swaps: Vec<String> = r.changes.iter().map(|c| format!("{} → {}", cell(&c.from), cell(&c.to))).collect();
        s.push_str(&format!("| {} | {} | {} | {} |\n", cell(&r.original), cell(&r.adversarial), swaps.join(", "), r.queries));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_change_the_segment_everywhere_and_the_floor_only_for_text_fooler() {
        let options = AttackOptions { segment: Segment::First, min_cosine: Some(0.8) };
        let fooler = options.config(Recipe::TextFooler, false);
        assert_eq!(fooler.candidates, CandidateSource::Embedding { k: 50, min_cosine: 0.8 });
        assert_eq!(fooler.segment, Segment::First);
        for recipe in [Recipe::Pwws, Recipe::TextBugger, Recipe::BertAttack] {
            let config = options.config(recipe, false);
            assert_eq!(config.candidates, recipe.config().candidates, "{recipe:?}");
            assert_eq!(config.segment, Segment::First);
        }
        assert_eq!(AttackOptions::default().config(Recipe::TextFooler, false), Recipe::TextFooler.config(), "no options: TextAttack's recipe");
    }
}
