//! The reproduction report: the committed `results/README.md` and plots follow from the
//! committed records, and the report really is computed from records (change one and it
//! changes; means, spreads and the verdict come out of the numbers).

use std::path::{Path, PathBuf};

use rticket::cli::Preset;
use rticket::data::DatasetName;
use rticket::reproduce::{AttackRecord, DevSelection, ModelRecord, Phase, Plan, StageTime, TicketRecord, attack_file, model_file, seed_dir, serde_name};
use rticket::stages::AttackSummary;
use rticket_core::attack::Recipe;

use crate::common::TempDir;

/// The quick preset's plan at MR 30% / documents 20%, for `seeds` and one phase.
fn quick_plan(seeds: Vec<u64>, phase: Phase) -> Plan {
    Plan { data: DatasetName::Mr.into(), preset: Preset::Quick, seeds, sparsity: 0.3, document_sparsity: 0.2, sweep: vec![], recipe_examples: 100, phases: vec![phase], search: Default::default(), training: Default::default() }
}

#[test]
fn the_committed_report_matches_its_records() {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results");
    assert!(
        results.join("data/plan.json").is_file(),
        "{} is missing: the reproduction's records belong in the repository (`rticket reproduce`)",
        results.join("data/plan.json").display()
    );
    // Side experiments (e.g. `results/experiments/long-search`) keep their own records and report.
    let mut folders = vec![results.clone()];
    for entry in std::fs::read_dir(results.join("experiments")).expect("results/experiments/ lists") {
        let path = entry.expect("results/experiments/ lists").path();
        if path.join("data/plan.json").is_file() {
            folders.push(path);
        }
    }
    assert!(folders.len() > 1, "no side experiment with records found under {}/experiments", results.display());
    for folder in folders {
        let stale = rticket::report::drift(&folder).expect("the records load");
        assert!(stale.is_empty(), "{stale:?} differ from what {}/data gives: run `rticket report --results {}`", folder.display(), folder.display());
    }
}

fn model(seed: u64, method: &str, sparsity: f64, test: f64) -> ModelRecord {
    ModelRecord {
        dataset: DatasetName::Mr.into(),
        seed,
        method: method.into(),
        sparsity,
        dev_accuracy: test + 0.01,
        test_accuracy: test,
        classifier: (sparsity == 0.0).then(|| PathBuf::from("classifier.safetensors")),
        classifier_sha256: None,
        ticket: (sparsity > 0.0).then(|| TicketRecord {
            file: PathBuf::from(format!("{method}-{seed}.safetensors")),
            bytes: 1000,
            sha256: "ab".repeat(32),
            mask_bits_per_weight: 0.9,
            entropy_bits_per_weight: 0.88,
            density: vec![("encoder.layer.0.attention.self.query".into(), 0.6), ("encoder.layer.1.attention.self.query".into(), 0.8)],
        }),
        search: None,
        stages: vec![StageTime { stage: "finetune".into(), dir: PathBuf::from(format!("w/{seed}/finetune")), seconds: 60.0, redone_epochs: 0, selection: None, random_streams: Some(2) }],
        preset: "quick".into(),
        device: "test".into(),
        base_model_sha256: "cd".repeat(32),
        command: "rticket reproduce".into(),
        random_streams: 2,
    }
}

fn attack(seed: u64, method: &str, sparsity: f64, clean: f64, under: f64) -> AttackRecord {
    AttackRecord {
        dataset: DatasetName::Mr.into(),
        seed,
        method: method.into(),
        sparsity,
        labels: vec![200, 200],
        summary: AttackSummary {
            recipe: Recipe::TextFooler,
            recipe_name: "TextFooler".into(),
            examples: 400,
            clean_accuracy: clean,
            accuracy_under_attack: under,
            success_rate: (clean - under) / clean,
            mean_queries: 20.0 + seed as f64,
            mean_perturbed_rate: 0.1,
            seconds: 10.0,
            forward_passes: 1,
        },
        neighbours: Some("glove-6b-50d-counter-fitted-wordnet v4".into()),
        device: "test".into(),
        command: "rticket reproduce".into(),
    }
}

fn write(dir: &Path, name: &str, value: &impl serde::Serialize) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// Writes a model's record and its attack's (on the whole test split) where `reproduce` puts them.
fn write_attacked(data: &Path, model: &ModelRecord, attack: &AttackRecord) {
    let dir = seed_dir(data, &model.dataset, model.seed);
    write(&dir, &model_file(&model.method, model.sparsity), model);
    let recipe = serde_name(&attack.summary.recipe);
    write(&dir, &attack_file(&attack.method, attack.sparsity, &recipe, attack.summary.examples, true), attack);
}

#[test]
fn the_report_is_computed_from_the_records() {
    let tmp = TempDir::new("report");
    let data = tmp.0.join("data");
    let plan = quick_plan(vec![1, 2], Phase::Core);
    write(&data, "plan.json", &plan);
    for (seed, ft, rt, imp) in [(1, 0.72, 0.71, 0.70), (2, 0.74, 0.73, 0.72)] {
        write_attacked(&data, &model(seed, "fine-tune", 0.0, ft), &attack(seed, "fine-tune", 0.0, ft, 0.20));
        write_attacked(&data, &model(seed, "robust-ticket", 0.3, rt), &attack(seed, "robust-ticket", 0.3, rt, 0.30));
        write_attacked(&data, &model(seed, "imp", 0.3, imp), &attack(seed, "imp", 0.3, imp, 0.10));
    }
    rticket::report::write(&tmp.0).expect("the report renders");
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    // Means and sample deviations over the two seeds: 73.0 ± 1.4 (fine-tune test), Aua 20.0 ± 0.0.
    assert!(report.contains("| Fine-tune | 0% | 2 | 74.0 ± 1.4 | 73.0 ± 1.4 | 20.0 ± 0.0 |"), "{report}");
    assert!(report.contains("| Robust ticket (paper pipeline) | 30% | 2 | 73.0 ± 1.4 | 72.0 ± 1.4 | 30.0 ± 0.0 |"), "{report}");
    // +10 points over fine-tuning and +20 over IMP, clean -1.0: the bar is met.
    assert!(report.contains("+10.00 points (against IMP +20.00), clean test accuracy -1.00 points"), "{report}");
    assert!(report.contains("**met**"), "{report}");
    assert!(
        report.contains("seed 1 +10.00 / +20.00 / -1.00, seed 2 +10.00 / +20.00 / -1.00. The ticket is above both under attack on 2 of 2 seeds; the bar is met by 2 of them taken alone."),
        "{report}"
    );
    assert!(report.contains("Against adversarial training? Not known yet: FreeLB has no TextFooler records"), "{report}");
    assert!(report.contains("Is it the adversarial loss? Not known yet"), "{report}");
    // Phases the plan does not run have no section (only `core` here; the sparsity plot of the table's
    // sparsity keeps its table); a planned one without records would say "Not run yet".
    assert!(report.contains("phase(s) `recipes` (the other attacks), `documents` (the movie-review documents)."), "{report}");
    assert!(!report.contains("## Movie-review documents") && !report.contains("Not run yet"), "{report}");
    assert!(tmp.0.join("sparsity.svg").is_file() && tmp.0.join("layer-density.svg").is_file());
    assert!(std::fs::read_to_string(tmp.0.join("layer-density.svg")).unwrap().contains("<svg"));
    assert!(rticket::report::drift(&tmp.0).unwrap().is_empty());

    // The ablation without the adversary, on seed 1 only: compared on that seed alone.
    write(&data, "mr/seed-1/no-adversary-30.json", &model(1, "no-adversary", 0.3, 0.69));
    write(&data, "mr/seed-1/attacks/no-adversary-30-text-fooler-400.json", &attack(1, "no-adversary", 0.3, 0.69, 0.15));
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(
        report.contains(
            "over the 1 seed(s) both have: robust ticket 71.0 clean / 30.0 under TextFooler (success 57.7%), without the adversary 69.0 / \
             15.0 (78.3%): +15.00 points under attack, +2.00 clean"
        ),
        "{report}"
    );

    // FreeLB on seed 2 only, run on another device: compared with the ticket on that seed alone.
    let (mut freelb, mut freelb_attack) = (model(2, "freelb", 0.0, 0.75), attack(2, "freelb", 0.0, 0.75, 0.25));
    (freelb.device, freelb_attack.device) = ("gpu-test".into(), "gpu-test".into());
    write_attacked(&data, &freelb, &freelb_attack);
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(
        report.contains("over the 1 seed(s) both have: robust ticket 73.0 clean / 30.0 under TextFooler (success 58.9%), FreeLB 75.0 / 25.0 (66.7%): +5.00 points under attack, -2.00 clean"),
        "{report}"
    );
    // The success-rate line of the verdict's two seeds says FreeLB's rate is one seed's.
    assert!(report.contains(", FreeLB 66.7% (1 of 2 seeds), random –."), "{report}");
    // Wall time per device: FreeLB's fine-tuning folder has the same name as the other methods' but ran
    // again on the GPU, so it counts there too (60 s + one 10 s attack), beside the CPU's 60 s a seed.
    assert!(report.contains("| mr | 2 | gpu-test | 1 | 60 | 1 | 10 |\n| mr | 2 | test | 1 | 60 | 3 | 30 |"), "{report}");
    assert!(report.contains("Total compute: 0.0 h on gpu-test, 0.1 h on test."), "{report}");

    // A third seed's fine-tuned model, not attacked yet: the row says how many seeds each part has.
    write(&data, "mr/seed-3/fine-tune-0.json", &model(3, "fine-tune", 0.0, 0.76));
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(report.contains("| Fine-tune | 0% | 3 (2 attacked) | 75.0 ± 2.0 | 74.0 ± 2.0 | 20.0 ± 0.0 |"), "{report}");
    std::fs::remove_file(data.join("mr/seed-3/fine-tune-0.json")).unwrap();

    // Change one number in one record: the committed report no longer matches.
    write(&data, "mr/seed-1/attacks/robust-ticket-30-text-fooler-400.json", &attack(1, "robust-ticket", 0.3, 0.71, 0.10));
    assert_eq!(rticket::report::drift(&tmp.0).unwrap(), vec!["README.md".to_string(), "sparsity.svg".to_string()]);
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(report.contains("**not met**"), "{report}");
    // Seed 1 alone now falls short under attack (-10 over fine-tuning, level with IMP); seed 2 still clears the bar.
    assert!(report.contains("seed 1 -10.00 / +0.00 / -1.00, seed 2 +10.00 / +20.00 / -1.00. The ticket is above both under attack on 1 of 2 seeds; the bar is met by 1 of them taken alone."), "{report}");
}

#[test]
fn the_documents_get_their_own_verdict_seed_by_seed() {
    let tmp = TempDir::new("report-documents");
    let data = tmp.0.join("data");
    let plan = quick_plan(vec![1, 2], Phase::Documents);
    write(&data, "plan.json", &plan);
    let on_documents = |mut m: ModelRecord| {
        m.dataset = DatasetName::MovieReviews.into();
        m
    };
    let attacked = |mut a: AttackRecord| {
        a.dataset = DatasetName::MovieReviews.into();
        a.summary.examples = 150;
        a
    };
    // (seed, fine-tune clean, under attack, robust ticket clean, under attack)
    for (seed, ft, ft_under, rt, rt_under) in [(1, 0.75, 0.25, 0.78, 0.29), (2, 0.80, 0.35, 0.79, 0.34)] {
        write_attacked(&data, &on_documents(model(seed, "fine-tune", 0.0, ft)), &attacked(attack(seed, "fine-tune", 0.0, ft, ft_under)));
        write_attacked(&data, &on_documents(model(seed, "robust-ticket", 0.2, rt)), &attacked(attack(seed, "robust-ticket", 0.2, rt, rt_under)));
    }
    let render = || {
        rticket::report::write(&tmp.0).unwrap();
        std::fs::read_to_string(tmp.0.join("README.md")).unwrap()
    };
    let report = render();
    // +4 / +3 on seed 1, -1 / -1 on seed 2: a mean of +1.5 under attack is not several points.
    assert!(report.contains("seed 1 +4.00 / +3.00, seed 2 -1.00 / -1.00; mean +1.50 under attack, +1.00 clean over 2 seed(s). The same bar: **not met**"), "{report}");
    // A folder of documents only has no MR verdict to miss, nor empty MR tables: it says which phases it left out.
    assert!(!report.contains("No TextFooler records yet") && !report.contains("MR sentences: no TextFooler"), "{report}");
    assert!(!report.contains("## MR sentences") && !report.contains("## Ablations") && !report.contains("## Accuracy against sparsity"), "{report}");
    assert!(report.contains("Not in this plan, and no records: phase(s) `core` (the MR table and the ablations), `recipes` (the other attacks), `sweep` (accuracy against sparsity)."), "{report}");

    // Seed 2's ticket not attacked yet: the verdict rests on seed 1 alone, and says so.
    std::fs::remove_file(data.join("movie-reviews/seed-2/attacks/robust-ticket-20-text-fooler-150.json")).unwrap();
    let report = render();
    assert!(report.contains("seed 1 +4.00 / +3.00; mean +4.00 under attack, +3.00 clean over 1 seed(s). The same bar: **met**"), "{report}");
}

/// A PWWS record on `labels` (per-label counts; empty as in records older than them).
fn pwws(seed: u64, method: &str, sparsity: f64, labels: Vec<usize>) -> AttackRecord {
    let mut record = attack(seed, method, sparsity, 0.7, 0.2);
    record.summary.recipe = Recipe::Pwws;
    record.summary.examples = labels.iter().sum::<usize>().max(100);
    record.labels = labels;
    record
}

#[test]
fn the_other_recipes_say_which_sentences_they_attacked() {
    let tmp = TempDir::new("report-recipes");
    let data = tmp.0.join("data");
    let plan = quick_plan(vec![1, 2], Phase::Recipes);
    write(&data, "plan.json", &plan);
    for seed in [1, 2] {
        write(&data, &format!("mr/seed-{seed}/fine-tune-0.json"), &model(seed, "fine-tune", 0.0, 0.7));
        write(&data, &format!("mr/seed-{seed}/attacks/fine-tune-0-pwws-100-balanced.json"), &pwws(seed, "fine-tune", 0.0, vec![50, 50]));
    }
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(report.contains("class-balanced subset of the test split (count in the header; 50 / 50 sentences per label"), "{report}");

    // An old "first 100" record beside its successor: both would be averaged as one seed's.
    write(&data, "mr/seed-1/attacks/fine-tune-0-pwws-100.json", &pwws(1, "fine-tune", 0.0, vec![]));
    let err = rticket::report::write(&tmp.0).unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("record the same attack") && message.contains("fine-tune-0-pwws-100.json") && message.contains("delete the older one"), "{message}");

    // Alone, an old record is shown with the warning that it may be one class only.
    std::fs::remove_file(data.join("mr/seed-1/attacks/fine-tune-0-pwws-100-balanced.json")).unwrap();
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(report.contains("which are all positive. Rerun the phase."), "{report}");
    assert!(!report.contains("class-balanced subset of the test split"), "{report}");
}

#[test]
fn the_other_recipes_show_each_rows_seeds_and_clean_accuracy_on_their_subset() {
    let tmp = TempDir::new("report-recipe-rows");
    let data = tmp.0.join("data");
    write(&data, "plan.json", &quick_plan(vec![1, 2], Phase::Recipes));
    for (seed, clean) in [(1, 0.7), (2, 0.8)] {
        let mut record = pwws(seed, "fine-tune", 0.0, vec![50, 50]);
        record.summary.clean_accuracy = clean;
        write(&data, &format!("mr/seed-{seed}/attacks/fine-tune-0-pwws-100-balanced.json"), &record);
    }
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(report.contains("| method | seeds | clean (100) | PWWS Aua (100) |"), "{report}");
    assert!(report.contains("| Fine-tune | 2 | 75.0 ± 7.1 | 20.0 ± 0.0 |"), "{report}");
    assert!(report.contains("| IMP (lottery ticket) | – | – | – |"), "{report}");
    assert!(!report.contains("gives each recipe's count"), "{report}");
    assert!(report.contains("- PWWS: fine-tuning not known yet; IMP not known yet; FreeLB not known yet."), "{report}");

    // The robust ticket on seed 1 only: compared with fine-tuning on that seed alone.
    let mut ticket = pwws(1, "robust-ticket", 0.3, vec![50, 50]);
    (ticket.summary.clean_accuracy, ticket.summary.accuracy_under_attack) = (0.75, 0.3);
    write(&data, "mr/seed-1/attacks/robust-ticket-30-pwws-100-balanced.json", &ticket);
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(report.contains("- PWWS: +10.00 over fine-tuning under attack, +5.00 clean (by seed: 1 +10.00); IMP not known yet;"), "{report}");

    // TextBugger on seed 1 only: the row says how many seeds each recipe averages.
    let mut bugger = pwws(1, "fine-tune", 0.0, vec![50, 50]);
    bugger.summary.recipe = Recipe::TextBugger;
    write(&data, "mr/seed-1/attacks/fine-tune-0-text-bugger-100-balanced.json", &bugger);
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(report.contains("| Fine-tune | 2 / 1 / – | 75.0 ± 7.1 | 20.0 ± 0.0 |"), "{report}");
    assert!(report.contains("`seeds` gives each recipe's count in column order"), "{report}");
}

#[test]
fn the_report_names_the_searches_the_collapse_guard_redid() {
    let tmp = TempDir::new("report-guard");
    let data = tmp.0.join("data");
    let mut plan = quick_plan(vec![1, 2], Phase::Core);
    plan.search.search_collapse_retries = Some(2);
    write(&data, "plan.json", &plan);
    for seed in [1, 2] {
        let mut ticket = model(seed, "no-adversary", 0.3, 0.7);
        let redone_epochs = usize::from(seed == 2);
        ticket.stages.push(StageTime { stage: "search".into(), dir: PathBuf::from(format!("w/{seed}/search-no-adversary")), seconds: 600.0, redone_epochs, selection: None, random_streams: Some(2) });
        write(&data, &format!("mr/seed-{seed}/no-adversary-30.json"), &ticket);
    }
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(report.contains("redoes it at half the gate learning rate, at most 2 time(s)"), "{report}");
    assert!(report.contains("Redone: mr seed 2 search (1 time(s))."), "{report}");
}

#[test]
fn the_report_names_the_epochs_kept_under_attack_on_dev() {
    let tmp = TempDir::new("report-selection");
    let data = tmp.0.join("data");
    let mut plan = quick_plan(vec![1], Phase::Core);
    plan.training.select_under_attack = Some(200);
    write(&data, "plan.json", &plan);
    let selection = |kept_epoch: usize, dev_under_attack: [f64; 3]| {
        Some(DevSelection { kept_epoch, dev_accuracy: vec![0.79, 0.81, 0.82], dev_under_attack: dev_under_attack.to_vec() })
    };
    let mut fine_tune = model(1, "fine-tune", 0.0, 0.8);
    fine_tune.stages[0].selection = selection(2, [0.6, 0.64, 0.62]);
    let mut ticket = model(1, "robust-ticket", 0.3, 0.8);
    // The ticket's record repeats the fine-tuning it started from: named once.
    ticket.stages[0].selection = fine_tune.stages[0].selection.clone();
    let retrain = selection(1, [0.6525, 0.62, 0.61]);
    ticket.stages.push(StageTime { stage: "retrain".into(), dir: PathBuf::from("w/1/retrain-robust-ticket-30"), seconds: 60.0, redone_epochs: 0, selection: retrain, random_streams: Some(2) });
    for record in [&fine_tune, &ticket] {
        write(&data, &format!("mr/seed-1/{}", model_file(&record.method, record.sparsity)), record);
    }
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(report.contains("TextFooler on 200 class-balanced dev sentences"), "{report}");
    assert!(
        report.contains(
            "Epochs kept: mr seed 1 finetune: epoch 2 of 3 (dev under attack 60.00 / 64.00 / 62.00), \
             mr seed 1 retrain: epoch 1 of 3 (dev under attack 65.25 / 62.00 / 61.00)."
        ),
        "{report}"
    );
}

#[test]
fn the_report_says_which_neighbour_tables_the_attacks_drew_from() {
    let table = "glove-6b-50d-counter-fitted-wordnet v4";
    for (tables, said) in [
        (vec![Some(table), Some(table)], format!("substitutes from the neighbour table `{table}`")),
        (vec![None, None], "candidates are cosine neighbours in MiniLM's input word-piece embeddings".to_string()),
        (vec![Some(table), None], format!("mixed: some records name `{table}`, the others used cosine neighbours")),
    ] {
        let tmp = TempDir::new("report-neighbours");
        let data = tmp.0.join("data");
        write(&data, "plan.json", &quick_plan(vec![1, 2], Phase::Core));
        for (seed, table) in (1..).zip(tables) {
            let mut record = attack(seed, "fine-tune", 0.0, 0.8, 0.1);
            record.neighbours = table.map(str::to_string);
            write_attacked(&data, &model(seed, "fine-tune", 0.0, 0.8), &record);
        }
        rticket::report::write(&tmp.0).unwrap();
        let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
        assert!(report.contains(&said), "{said}: {report}");
    }
}

#[test]
fn a_folders_hand_written_findings_go_on_top_and_stay_in_step() {
    let tmp = TempDir::new("report-findings");
    let data = tmp.0.join("data");
    write(&data, "plan.json", &quick_plan(vec![1], Phase::Core));
    write_attacked(&data, &model(1, "fine-tune", 0.0, 0.8), &attack(1, "fine-tune", 0.0, 0.8, 0.1));
    rticket::report::write(&tmp.0).unwrap();
    let plain = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    assert!(plain.contains("\nGenerated by `rticket report`"), "{plain}");
    let findings = "## What we found\n\nThe ticket holds under attack on two seeds of three.";
    std::fs::write(tmp.0.join(rticket::report::FINDINGS), findings).unwrap();
    assert_eq!(rticket::report::drift(&tmp.0).unwrap(), vec!["README.md".to_string()], "a changed FINDINGS.md leaves the page stale");
    rticket::report::write(&tmp.0).unwrap();
    let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
    let title = "# Reproduction: robust tickets for all-MiniLM-L6-v2\n\n";
    assert!(report.starts_with(&format!("{title}{findings}\n\nEverything below is generated by `rticket report`")), "{report}");
    assert!(rticket::report::drift(&tmp.0).unwrap().is_empty());
}

#[test]
fn the_report_says_how_long_tickets_were_retrained() {
    for (retrain, said) in [(1, "runs 1 epoch(s), not the 4 of fine-tuning"), (4, "runs 4 epoch(s), as many as fine-tuning")] {
        let tmp = TempDir::new("report-retrain-epochs");
        let data = tmp.0.join("data");
        let mut plan = quick_plan(vec![1], Phase::Core);
        plan.training.train_epochs = Some(4);
        plan.training.retrain_epochs = Some(retrain);
        write(&data, "plan.json", &plan);
        let ticket = model(1, "robust-ticket", 0.3, 0.8);
        write(&data, &format!("mr/seed-1/{}", model_file(&ticket.method, ticket.sparsity)), &ticket);
        rticket::report::write(&tmp.0).unwrap();
        let report = std::fs::read_to_string(tmp.0.join("README.md")).unwrap();
        assert!(report.contains(said), "--retrain-epochs {retrain}: {report}");
    }
}

#[test]
fn a_reproduction_with_a_bad_plan_or_no_records_says_what_to_do() {
    let tmp = TempDir::new("report-bad");
    let results = tmp.0.to_str().unwrap();
    let (ok, _, err) = crate::common::rticket(&["reproduce", "--sparsity", "1.5", "--results", results, "--work", results]);
    assert!(!ok && err.contains("sparsity 1.5 is not a fraction"), "{err}");
    let (ok, _, err) = crate::common::rticket(&["report", "--results", results]);
    assert!(!ok && err.contains("run `rticket reproduce` first"), "{err}");
    // A damaged record is named, with the fix.
    let plan = quick_plan(vec![1], Phase::Core);
    write(&tmp.0.join("data"), "plan.json", &plan);
    std::fs::create_dir_all(tmp.0.join("data/mr/seed-1")).unwrap();
    std::fs::write(tmp.0.join("data/mr/seed-1/imp-30.json"), b"{\"dataset\": \"mr\", \"se").unwrap();
    let (ok, _, err) = crate::common::rticket(&["report", "--results", results]);
    assert!(!ok && err.contains("imp-30.json is not a model record"), "{err}");
    // Another preset into the same records would reuse the quick models by name: refused.
    let (ok, _, err) = crate::common::rticket(&["reproduce", "--preset", "paper", "--results", results, "--work", results]);
    assert!(!ok && err.contains("pass another --results and --work"), "{err}");
}
