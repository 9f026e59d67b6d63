//! `rticket reproduce`: the experiments behind the paper's tables, seed by seed, each stored
//! as a small JSON record under `results/data/` from which `rticket report` derives the
//! markdown report and its plots. Finished records are read back instead of rerun, so a
//! killed reproduction continues where it stopped (a stage cut mid-way from its checkpoint;
//! an attack cut mid-way from the last example its log holds). A record whose model file is
//! not on this machine has its model trained again (`SeedRun::model`).

mod plan;
mod records;
mod seed_run;

use std::path::Path;

use anyhow::{Context, Result, bail};
use rticket_core::attack::Recipe;

pub use plan::{Method, Phase, Plan, SearchOverrides, TrainingOverrides};
pub use records::{AttackRecord, DatasetKey, DevSelection, ModelRecord, SAME_SPARSITY, ScoreStats, StageTime, TicketRecord, attack_file, load_all, model_file, seed_dir, serde_name, superseded_records};
pub use seed_run::SeedRun;

use crate::cli::ReproduceArgs;
use crate::data::{DataSource, DatasetName};
use crate::device::{self, DeviceChoice};
use crate::outputs::RunDir;
use crate::resources::AttackKit;
use crate::stages::RetrainHead;

pub fn run(args: ReproduceArgs, device: DeviceChoice) -> Result<()> {
    let selected = device::select(device)?;
    let (dev, name) = (&selected.device, selected.description.as_str());
    let data = args.data.source()?;
    let mut phases = args.phases.clone().unwrap_or_else(|| Phase::defaults(&data));
    phases.sort();
    phases.dedup();
    if data == DatasetName::MovieReviews.into() && phases.contains(&Phase::Documents) {
        bail!("--data movie-reviews runs the movie-review documents in the core phases already: leave `documents` out of --phases");
    }
    let plan = Plan {
        data,
        preset: args.preset,
        seeds: args.seeds.clone(),
        sparsity: args.sparsity,
        document_sparsity: args.document_sparsity,
        sweep: args.sweep.clone(),
        recipe_examples: args.recipe_examples,
        phases,
        search: args.search,
        training: args.training,
    };
    if plan.seeds.is_empty() {
        bail!("--seeds is empty: give at least one seed, e.g. --seeds 1,2,3");
    }
    for s in std::iter::once(plan.sparsity).chain([plan.document_sparsity]).chain(plan.sweep.iter().copied()) {
        if !(s > 0.0 && s < 1.0) {
            bail!("sparsity {s} is not a fraction in (0, 1): pass e.g. --sparsity 0.3");
        }
    }
    let records = args.results.join("data");
    std::fs::create_dir_all(&records).with_context(|| format!("creating {}", records.display()))?;
    // This invocation runs only its own phases and seeds; plan.json records everything run so far.
    let (phases, seeds) = (plan.phases.clone(), plan.seeds.clone());
    let plan = record_plan(plan, &records)?;
    let model_dir = args.model.dir();
    let kit = AttackKit::load(&model_dir, None, dev)?;
    let documents = DataSource::from(DatasetName::MovieReviews);
    let seed_run = |dataset: &DataSource, seed| SeedRun::new(&plan, dataset, seed, model_dir.clone(), &args.work, &records, dev, name);
    let chosen = |methods: &[Method]| -> Vec<Method> {
        methods.iter().copied().filter(|m| args.methods.as_ref().is_none_or(|only| only.contains(m))).collect()
    };
    for &phase in &phases {
        match phase {
            Phase::Core => {
                for &seed in &seeds {
                    let run = seed_run(&plan.data, seed);
                    for method in chosen(&Method::CORE) {
                        let model = run.model(method, plan.sparsity)?;
                        run.attack(&kit, &model, Recipe::TextFooler, usize::MAX)?;
                    }
                    regenerate(&args.results)?;
                }
            }
            Phase::Sweep => {
                // The recorded plan's first seed, whichever seeds this invocation was given: the
                // report's sweep section reads that seed.
                let run = seed_run(&plan.data, plan.seeds[0]);
                for &sparsity in &plan.sweep {
                    for method in chosen(&[Method::RobustTicket, Method::MaskOnly, Method::Imp, Method::Random]) {
                        let model = run.model(method, sparsity)?;
                        run.attack(&kit, &model, Recipe::TextFooler, usize::MAX)?;
                    }
                }
                regenerate(&args.results)?;
            }
            Phase::Recipes => {
                for &seed in &seeds {
                    let run = seed_run(&plan.data, seed);
                    for method in chosen(&Method::CORE) {
                        let model = run.model(method, plan.sparsity)?;
                        for recipe in Plan::EXTRA_RECIPES {
                            run.attack(&kit, &model, recipe, plan.recipe_examples)?;
                        }
                    }
                    regenerate(&args.results)?;
                }
            }
            Phase::Documents => {
                for &seed in &seeds {
                    let run = seed_run(&documents, seed);
                    for method in chosen(&[Method::FineTune, Method::RobustTicket]) {
                        let model = run.model(method, plan.document_sparsity)?;
                        run.attack(&kit, &model, Recipe::TextFooler, usize::MAX)?;
                    }
                    regenerate(&args.results)?;
                }
            }
        }
    }
    regenerate(&args.results)
}

/// Merges `plan` into `data/plan.json` and writes it back, holding an exclusive lock on `data/.plan.lock`
/// meanwhile: two reproductions started together into one folder (one a seed, say) would otherwise both
/// read the old plan, and the one that wrote last would drop the other's seeds.
fn record_plan(plan: Plan, data: &Path) -> Result<Plan> {
    let lock_path = data.join(".plan.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("creating {}", lock_path.display()))?;
    lock.lock().with_context(|| format!("locking {}", lock_path.display()))?;
    let plan = merged_with_recorded(plan, data)?;
    RunDir { path: data.to_path_buf() }.write_json("plan.json", &plan)?;
    Ok(plan)
}

/// The plan to record: `plan` with the seeds and phases of an earlier plan in `data` added. Refuses a
/// plan whose models would differ from the recorded ones (another preset or search length):
/// records and stage folders are reused by name, so the two must not share folders. A plan that
/// does not name the retraining's head takes the recorded plan's (a fresh one in a new folder).
fn merged_with_recorded(mut plan: Plan, data: &Path) -> Result<Plan> {
    let path = data.join("plan.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        // Explicit in every plan.json written from now on: one without it was made before the choice existed.
        plan.training.retrain_head.get_or_insert_default();
        return Ok(plan);
    };
    let mut recorded: Plan = serde_json::from_str(&text).with_context(|| format!("{} is not a reproduction plan", path.display()))?;
    let recorded_head = *recorded.training.retrain_head.get_or_insert_with(RetrainHead::before_the_choice);
    if plan.training.retrain_head.is_none() && recorded_head != RetrainHead::default() {
        eprintln!(
            "{}: retraining from the {} head, as this folder's records did (PAPER.md's is a fresh one: --retrain-head fresh, in another --results)",
            path.display(),
            recorded_head.name()
        );
    }
    if recorded.data != plan.data {
        bail!(
            "{} records a reproduction on {}; this one is on {}: pass another --results and --work",
            path.display(),
            recorded.data,
            plan.data
        );
    }
    let head = *plan.training.retrain_head.get_or_insert(recorded_head);
    if (recorded.preset, recorded.search, recorded.training) != (plan.preset, plan.search, plan.training) {
        let head_hint = if head == recorded_head {
            String::new()
        } else {
            format!(" (its records retrained from the {} head: leave out --retrain-head to continue it)", recorded_head.name())
        };
        bail!(
            "{} records a reproduction with preset {:?}, search {} and training {}{head_hint}; this one would train other \
             models under the same names: pass another --results and --work",
            path.display(),
            recorded.preset,
            serde_json::to_string(&recorded.search)?,
            serde_json::to_string(&recorded.training)?,
        );
    }
    plan.seeds.extend(recorded.seeds);
    plan.seeds.sort_unstable();
    plan.seeds.dedup();
    plan.phases.extend(recorded.phases);
    plan.phases.sort();
    plan.phases.dedup();
    Ok(plan)
}

/// Rewrites the report from every record so far (partial results are reported as such).
fn regenerate(results: &Path) -> Result<()> {
    let written = crate::report::write(results)?;
    eprintln!("report updated: {}", written.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Preset;

    fn plan(seeds: Vec<u64>, phases: Vec<Phase>) -> Plan {
        let training = TrainingOverrides { retrain_head: Some(RetrainHead::Fresh), ..Default::default() };
        Plan { data: DatasetName::Mr.into(), preset: Preset::Quick, seeds, sparsity: 0.3, document_sparsity: 0.2, sweep: vec![0.5], recipe_examples: 100, phases, search: Default::default(), training }
    }

    #[test]
    fn a_later_invocation_adds_its_seeds_and_phases_to_the_recorded_plan() {
        let data = std::env::temp_dir().join(format!("rticket-plan-merge-{}", std::process::id()));
        std::fs::create_dir_all(&data).unwrap();
        RunDir { path: data.clone() }.write_json("plan.json", &plan(vec![1, 2], vec![Phase::Core])).unwrap();
        let merged = merged_with_recorded(plan(vec![3], vec![Phase::Sweep]), &data).unwrap();
        assert_eq!(merged.seeds, vec![1, 2, 3]);
        assert_eq!(merged.phases, vec![Phase::Core, Phase::Sweep]);
        std::fs::remove_dir_all(&data).unwrap();
    }

    #[test]
    fn reproductions_started_together_keep_every_seed_in_the_plan() {
        let data = std::env::temp_dir().join(format!("rticket-plan-race-{}", std::process::id()));
        std::fs::create_dir_all(&data).unwrap();
        record_plan(plan(vec![1], vec![Phase::Core]), &data).unwrap();
        // Each thread opens the lock file itself, as separate processes would.
        let threads: Vec<_> = (2..10)
            .map(|seed| {
                let data = data.clone();
                std::thread::spawn(move || record_plan(plan(vec![seed], vec![Phase::Core]), &data).unwrap())
            })
            .collect();
        threads.into_iter().for_each(|t| drop(t.join().unwrap()));
        let recorded: Plan = serde_json::from_str(&std::fs::read_to_string(data.join("plan.json")).unwrap()).unwrap();
        assert_eq!(recorded.seeds, (1..10).collect::<Vec<u64>>());
        std::fs::remove_dir_all(&data).unwrap();
    }

    #[test]
    fn a_plan_that_trains_the_baselines_differently_is_refused_in_the_same_folder() {
        let data = std::env::temp_dir().join(format!("rticket-plan-training-{}", std::process::id()));
        std::fs::create_dir_all(&data).unwrap();
        RunDir { path: data.clone() }.write_json("plan.json", &plan(vec![1], vec![Phase::Core])).unwrap();
        let mut longer = plan(vec![1], vec![Phase::Core]);
        longer.training = TrainingOverrides { train_limit: Some(3200), train_epochs: Some(4), ..longer.training };
        let err = merged_with_recorded(longer, &data).unwrap_err().to_string();
        assert!(err.contains(r#"training {"train_limit":null,"train_epochs":null,"retrain_head":"fresh"}"#) && err.contains("another --results"), "{err}");
        // So is one whose searches would redo collapsed epochs.
        let mut guarded = plan(vec![1], vec![Phase::Core]);
        guarded.search.search_collapse_retries = Some(2);
        let err = merged_with_recorded(guarded, &data).unwrap_err().to_string();
        assert!(err.contains("another --results"), "{err}");
        std::fs::remove_dir_all(&data).unwrap();
    }

    #[test]
    fn a_folder_made_before_the_retrain_head_choice_continues_with_fine_tunings_head() {
        let data = std::env::temp_dir().join(format!("rticket-plan-head-{}", std::process::id()));
        std::fs::create_dir_all(&data).unwrap();
        let mut old = plan(vec![1], vec![Phase::Core]);
        old.training.retrain_head = None;
        RunDir { path: data.clone() }.write_json("plan.json", &old).unwrap();
        assert!(!std::fs::read_to_string(data.join("plan.json")).unwrap().contains("retrain_head"));
        // Asking for a fresh head would retrain other models under the old records' names.
        let err = merged_with_recorded(plan(vec![2], vec![Phase::Core]), &data).unwrap_err().to_string();
        assert!(err.contains("from the fine-tune-init head") && err.contains("leave out --retrain-head"), "{err}");
        // Naming no head continues the folder as it was made, and says so in the plan.
        let mut continued = plan(vec![2], vec![Phase::Core]);
        continued.training.retrain_head = None;
        let merged = merged_with_recorded(continued, &data).unwrap();
        assert_eq!((merged.seeds, merged.training.retrain_head), (vec![1, 2], Some(RetrainHead::FineTuneInit)));
        // In a new folder, naming no head means a fresh one.
        std::fs::remove_dir_all(&data).unwrap();
        let mut new = plan(vec![1], vec![Phase::Core]);
        new.training.retrain_head = None;
        assert_eq!(merged_with_recorded(new, &data).unwrap().training.retrain_head, Some(RetrainHead::Fresh));
    }
}
