//! The report's "How these numbers were made": plan, commands, scale, every departure from
//! PAPER.md and what the attacks draw their candidates from, as the records state them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use super::records::Records;
use crate::data::DatasetName;
use crate::reproduce::{Plan, serde_name};
use crate::stages::RetrainHead;

pub(super) fn setup(r: &mut String, records: &Records) {
    let plan = &records.plan;
    let _ = writeln!(r, "## How these numbers were made\n");
    let preset = serde_name(&plan.preset);
    let mut commands: Vec<&str> = records.models.iter().map(|m| m.command.as_str()).chain(records.attacks.iter().map(|a| a.command.as_str())).collect();
    commands.sort_unstable();
    commands.dedup();
    let mut devices: Vec<&str> = records.models.iter().map(|m| m.device.as_str()).collect();
    devices.sort_unstable();
    devices.dedup();
    let mut bases: Vec<&str> = records.models.iter().map(|m| m.base_model_sha256.as_str()).collect();
    bases.sort_unstable();
    bases.dedup();
    let seeds: Vec<String> = plan.seeds.iter().map(u64::to_string).collect();
    let _ = writeln!(r, "- Plan: preset `{preset}`, seeds {}, table sparsity {:.0}% (documents {:.0}%), sweep {}, phases {:?}.", seeds.join(", "), 100.0 * plan.sparsity, 100.0 * plan.document_sparsity, plan.sweep.iter().map(|s| format!("{:.0}%", 100.0 * s)).collect::<Vec<_>>().join(", "), plan.phases);
    for c in commands {
        let _ = writeln!(r, "- Command: `{c}`");
    }
    if !devices.is_empty() {
        let _ = writeln!(r, "- Device: {}; base model weights sha256 {}.", devices.join(", "), bases.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", "));
    }
    match &plan.data {
        crate::data::DataSource::Builtin(DatasetName::Mr) => {
            let _ = writeln!(r, "- Data: MR sentences (3200 / 400 / 400, fixed seeded split; README), movie-review documents (1200 / 150 / 150). Checkpoints are chosen on dev; test is reported.");
        }
        data => {
            let _ = writeln!(r, "- Data: {data} (the main table, sweep and recipes; a single file is split 80 / 10 / 10, seeded and stratified), movie-review documents (1200 / 150 / 150). Checkpoints are chosen on dev; test is reported.");
        }
    }
    let _ = writeln!(r, "- {}", scale(plan));
    let search = &plan.search;
    if let Some(eta) = search.search_eta {
        let _ = writeln!(r, "- The search's adversary takes ascent steps of eta = {eta} instead of 0.03.");
    }
    if let Some(eta) = plan.training.freelb_eta {
        let _ = writeln!(r, "- FreeLB's adversary takes ascent steps of eta = {eta} instead of its own 0.03.");
    }
    if let Some(eta) = plan.training.retrain_adversary_eta {
        let _ = writeln!(r, "- Not the paper's pipeline: every ticket (IMP's and random pruning's too) is retrained against FreeLB's adversary at eta = {eta} instead of with plain cross-entropy (`--retrain-adversary-eta`).");
    }
    if let Some(lambda) = search.search_lambda {
        let _ = writeln!(r, "- The search's sparsity penalty ends at lambda = {lambda} instead of 0.5.");
    }
    if let Some(lambda) = search.mask_only_lambda {
        let _ = writeln!(r, "- The mask-only search's sparsity penalty ends at lambda = {lambda} (its weights are frozen; the paper pipeline's searches keep the lambda above).");
    }
    if let Some(epochs) = search.mask_only_refit_head {
        let _ = writeln!(r, "- Each mask-only ticket's head is trained again for {epochs} epoch(s) on the ticket's own masked, frozen encoder after the draw (best dev epoch; not in the paper, whose mask-only ablation keeps the searched head).");
    }
    if let Some(lr) = search.search_gate_lr {
        let _ = writeln!(r, "- The search's gate scores learn at a peak rate of {lr} instead of 0.1.");
    }
    if let Some(retries) = search.search_collapse_retries {
        let redone: Vec<String> = records
            .models
            .iter()
            .flat_map(|m| m.stages.iter().filter(|s| s.redone_epochs > 0).map(move |s| (m, s)))
            .map(|(m, s)| format!("{} seed {} {} ({} time(s))", serde_name(&m.dataset), m.seed, s.stage, s.redone_epochs))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let _ = writeln!(
            r,
            "- Collapse guard: a search whose epoch ends with one class predicted for all of dev goes back to that epoch's start \
             and redoes it at half the gate learning rate, at most {retries} time(s) (not in the reference code). Redone: {}.",
            if redone.is_empty() { "none".to_string() } else { redone.join(", ") }
        );
    }
    if search.search_epochs.is_some() || search.search_train_limit.is_some() {
        let _ = writeln!(
            r,
            "- Longer searches than the preset's: {} epoch(s) on {} training sentences.",
            search.search_epochs.map_or("the preset's".to_string(), |e| e.to_string()),
            search.search_train_limit.map_or("the preset's".to_string(), |l| l.to_string())
        );
    }
    if let Some(epochs) = plan.training.retrain_epochs {
        let trained = plan.training_settings(plan.data.clone(), PathBuf::new()).fit.epochs;
        let _ = writeln!(
            r,
            "- Retraining that makes a ticket (robust tickets and their ablations, random pruning, IMP after its last round) \
             runs {epochs} epoch(s), {} fine-tuning and IMP's rounds (`--retrain-epochs`).",
            if epochs == trained { "as many as".to_string() } else { format!("not the {trained} of") }
        );
    }
    if let Some(examples) = plan.training.select_under_attack {
        let kept: Vec<String> = records
            .models
            .iter()
            .flat_map(|m| m.stages.iter().filter_map(move |s| s.selection.as_ref().map(|sel| (m, s, sel))))
            .map(|(m, s, sel)| {
                let by_epoch = sel.dev_under_attack.iter().map(|a| format!("{:.2}", 100.0 * a)).collect::<Vec<_>>().join(" / ");
                let kept = format!("{} seed {} {}: epoch {} of {} (dev under attack {by_epoch})", serde_name(&m.dataset), m.seed, s.stage, sel.kept_epoch, sel.dev_accuracy.len());
                (s.dir.clone(), kept)
            })
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect();
        let _ = writeln!(
            r,
            "- Fine-tuning, FreeLB and the retraining that makes a ticket keep the epoch with the highest accuracy under \
             TextFooler on {examples} class-balanced dev sentences, attacked after every epoch, not the highest clean dev accuracy \
             (`--select-under-attack {examples}`; IMP's pruning rounds and the searches keep theirs). Epochs kept: {}.",
            if kept.is_empty() { "none recorded yet".to_string() } else { kept.join(", ") }
        );
    }
    if plan.training.window == Some(crate::cli::WindowArg::Tail) {
        let _ = writeln!(r, "- Every stage reads the last tokens of a longer text (`--window tail`), not the first: it matters for the documents (MR sentences hardly ever run past the window).");
    }
    let _ = match plan.training.retrain_head.unwrap_or_else(RetrainHead::before_the_choice) {
        RetrainHead::Fresh => writeln!(r, "- Retraining (robust tickets, IMP's rounds, random pruning) starts from a freshly drawn head (`--retrain-head fresh`)."),
        RetrainHead::FineTuneInit => writeln!(
            r,
            "- Retraining (robust tickets, IMP's rounds, random pruning) starts from the head fine-tuning started from (both drawn \
             from the training seed; `--retrain-head fine-tune-init`, every run before 2026-11-28), not from a fresh one as PAPER.md's."
        ),
    };
    let _ = writeln!(r, "- Attacks: {} Aua = accuracy under attack, Suc = attack success rate, #Query = mean victim queries per attacked example. Mean ± sample standard deviation over seeds.\n", candidates(records));
}

/// Where the attacks' word substitutes came from, by the neighbour tables the attack records name
/// (none named: the encoder-embedding candidates every record before issue 38 used).
fn candidates(records: &Records) -> String {
    let tables: std::collections::BTreeSet<Option<&str>> = records.attacks.iter().map(|a| a.neighbours.as_deref()).collect();
    let named: Vec<String> = tables.iter().flatten().map(|t| format!("`{t}`")).collect();
    let old = "cosine neighbours in MiniLM's input word-piece embeddings with WordNet antonyms removed (the weak attacks of \
               every record before 2026-12: TextFooler flipped ~24% of a fine-tuned model's correct predictions)";
    let new = format!(
        "TextFooler, TextBugger and BERT-Attack (its embedding-candidate variant, the one the paper's scripts ran) take \
         substitutes from the neighbour table {}: GloVe 6B 50d counter-fitted to WordNet here (`rticket neighbours`, as \
         TextAttack's counter-fitted vectors), 50 neighbours a word, TextAttack's cosine floor 0.5; PWWS takes WordNet's \
         synonyms. The similarity constraint uses MiniLM mean pooling (no USE in our registries; ASSETS.md). How strong \
         that makes them (TextFooler flips ~98% of a fine-tuned MiniLM's correct MR predictions; TextAttack's ~87% of \
         BERT's): results/experiments/attack-calibration",
        named.join(", ")
    );
    match (tables.contains(&None), named.is_empty()) {
        (_, true) if records.attacks.is_empty() => "no attack records yet.".to_string(),
        (true, true) => format!("candidates are {old}."),
        (false, false) => format!("{new}."),
        _ => format!("mixed: some records name {}, the others used {old}. Compare only rows made with one.", named.join(", ")),
    }
}

/// What the preset reduces, in words.
fn scale(plan: &Plan) -> String {
    let mr = plan.training_settings(plan.data.clone(), PathBuf::new());
    let (epochs, retrain) = (mr.fit.epochs, plan.retraining_settings(&mr).fit.epochs);
    let baselines = if retrain == epochs {
        format!("IMP (each round) and random retrained for the same {epochs} epoch(s)")
    } else {
        format!("IMP's rounds trained for {epochs} epoch(s), every ticket (IMP's and random's too) retrained for {retrain}")
    };
    match plan.preset {
        crate::cli::Preset::Quick => format!(
            "Scale (preset `quick`, reduced to fit a 2-core CPU; PAPER.md's values in brackets): {train} training sentences \
            [3200], searches on {} [3200], max length 64 [128], epochs of fine-tuning, search and retraining {epochs}, {}, {retrain} [3, 20, 3], batch 16 \
            [32], fine-tuning lr 5e-5 [2e-5], K = 2 adversarial steps [5], {baselines}. \
            Mask lr {}, lambda {}, eta {}, eps0 0.05, hard-concrete constants and the L0 form as in PAPER.md.",
            plan.search.search_train_limit.unwrap_or(512),
            plan.search.search_epochs.unwrap_or(1),
            plan.search.search_gate_lr.unwrap_or(0.1),
            plan.search.search_lambda.unwrap_or(0.5),
            plan.search.search_eta.unwrap_or(0.03),
            train = mr.train_limit.map_or("all".to_string(), |l| l.to_string()),
        ),
        crate::cli::Preset::Paper => "Scale: preset `paper`, PAPER.md's hyper-parameters (SST-2/IMDB row).".to_string(),
    }
}
