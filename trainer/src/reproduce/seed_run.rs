//! One dataset and seed of a reproduction: the stages each method needs, each run once and
//! shared (a finished stage is read back, a cut one continues from its checkpoint), and one
//! record per model and per attack.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;
use rticket_core::attack::Recipe;
use rticket_core::gate::HardConcreteConfig;
use rticket_core::ticket::{MaskEncoding, Ticket, ValueDtype};
use rticket_core::{SequenceClassifier, Weights};
use serde::Serialize;

use super::plan::{Method, Plan};
use super::records::{AttackRecord, DatasetKey, ModelRecord, SUPERSEDED, ScoreStats, StageTime, TicketRecord, attack_file, attack_prefix, model_file, seed_dir, serde_name};
use crate::data::{DataSource, SPLIT_SEED, balanced_subset, label_counts};
use crate::model_files::{ModelFiles, read, sha256_hex};
use crate::outputs::write_atomically;
use crate::resources::AttackKit;
use crate::stages::{
    AttackSetup, DrawnTicket, SearchMode, SharedImpRun, StageContext, StageSettings, StageSummary, TicketReport,
    attack_examples, draw_tickets, export_draws, export_ticket, gated_shapes, head_refit_config, imp_masks, percent_label, random_masks, run_finetune, run_retrain,
    run_search, scores_from_file, scores_path, scores_pooling, search_settings,
};

/// The stages and records of one dataset and seed.
pub struct SeedRun<'a> {
    pub plan: &'a Plan,
    pub dataset: DatasetKey,
    pub seed: u64,
    /// Fine-tuning and retraining settings, with this seed.
    pub base: StageSettings,
    /// Stage folders: `<work>/<dataset>/seed-<s>/`.
    pub work: PathBuf,
    /// Records: `<records>/<dataset>/seed-<s>/`.
    pub records: PathBuf,
    pub device: &'a Device,
    pub device_name: &'a str,
}

impl<'a> SeedRun<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        plan: &'a Plan,
        data: &DataSource,
        seed: u64,
        model_dir: PathBuf,
        work_root: &Path,
        records_root: &Path,
        device: &'a Device,
        device_name: &'a str,
    ) -> Self {
        let mut base = plan.training_settings(data.clone(), model_dir);
        base.fit.seed = seed;
        let dataset = DatasetKey::of(data);
        Self {
            plan,
            work: seed_dir(work_root, &dataset, seed),
            records: seed_dir(records_root, &dataset, seed),
            dataset,
            seed,
            base,
            device,
            device_name,
        }
    }

    /// The record of `method` at `sparsity`: read back when it exists and its model file is here,
    /// else trained now. A record whose model file is not here (made on another machine) is
    /// trained again: when the new model is the recorded one, the record and its attacks stand;
    /// when not, they are moved to the seed's [`SUPERSEDED`] folder and the new model is attacked.
    pub fn model(&self, method: Method, sparsity: f64) -> Result<ModelRecord> {
        let sparsity = method.sparsity_at(sparsity);
        let path = self.records.join(model_file(method.key(), sparsity));
        let recorded = if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let recorded: ModelRecord =
                serde_json::from_str(&text).with_context(|| format!("{} is not a model record: delete it to retrain", path.display()))?;
            match recorded.model_path() {
                Some(file) if !file.exists() => {
                    eprintln!("{}: its model {} is not on this machine: training it again", path.display(), file.display());
                }
                _ => return Ok(recorded),
            }
            Some(recorded)
        } else {
            None
        };
        eprintln!("== {} seed {}: {} at {:.0}%", self.dataset, self.seed, method.key(), 100.0 * sparsity);
        let record = self.train(method, sparsity)?;
        if let Some(mut recorded) = recorded {
            if let Some(how) = recorded.same_model_as(&record) {
                eprintln!("{}: trained again to the recorded model ({how}): the record and its attacks stand", path.display());
                // The file itself may be elsewhere now (a record copied from another folder names that one's).
                recorded.classifier = record.classifier;
                if let (Some(kept), Some(new)) = (&mut recorded.ticket, record.ticket) {
                    kept.file = new.file;
                }
                return Ok(recorded);
            }
            let aside = self.supersede(&recorded, &path)?;
            eprintln!(
                "{}: trained again to another model than the recorded one (dev {:.4} test {:.4}, recorded {:.4} {:.4}): \
                 the old record and its attack records are in {}, and the new model is attacked again",
                path.display(),
                record.dev_accuracy,
                record.test_accuracy,
                recorded.dev_accuracy,
                recorded.test_accuracy,
                aside.display()
            );
        }
        self.forget_attack_logs(&record)?;
        write_json(&path, &record)?;
        Ok(record)
    }

    /// Moves the record at `path` and its attack records to `<records>/superseded/<name>-<unix
    /// time>/` (where the report does not look): they measured a model this machine cannot
    /// make again, which must neither be lost nor averaged with its successor.
    fn supersede(&self, recorded: &ModelRecord, path: &Path) -> Result<PathBuf> {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
        let stem = path.file_stem().and_then(|s| s.to_str()).context("a record has a file name")?;
        let aside = self.records.join(SUPERSEDED).join(format!("{stem}-{stamp}"));
        std::fs::create_dir_all(aside.join("attacks")).with_context(|| format!("creating {}", aside.display()))?;
        let mut moved = vec![(path.to_path_buf(), aside.join(format!("{stem}.json")))];
        for attack in files_named(&self.records.join("attacks"), &attack_log_prefix(recorded), ".json")? {
            let name = attack.file_name().context("a listed file has a name")?.to_owned();
            moved.push((attack, aside.join("attacks").join(name)));
        }
        for (from, to) in moved {
            std::fs::rename(&from, &to).with_context(|| format!("moving {} to {}", from.display(), to.display()))?;
        }
        Ok(aside)
    }

    fn train(&self, method: Method, sparsity: f64) -> Result<ModelRecord> {
        let pct = percent_label(sparsity);
        match method {
            Method::FineTune => {
                let (summary, time) = self.finetune()?;
                self.dense_record(method, &summary, vec![time])
            }
            Method::Freelb => {
                let settings = self.plan.freelb_settings(&self.base);
                let (summary, time) = self.stage("freelb", |dir| run_finetune(&settings, dir, true, self.device, self.device_name))?;
                self.dense_record(method, &summary, vec![time])
            }
            Method::RobustTicket | Method::NoAdversary | Method::Reinit => {
                let adversarial = method != Method::NoAdversary;
                let (scores, mut stages) = self.paper_search(adversarial)?;
                let (masks, stats) = self.draw(&scores, sparsity)?;
                let name = format!("retrain-{}-{pct}", method.key());
                let mut record = self.retrained(method, sparsity, masks, method == Method::Reinit, &name, &mut stages)?;
                record.search = Some(stats);
                Ok(record)
            }
            Method::Random => {
                let masks = random_masks(&self.shapes()?, sparsity, self.seed);
                self.retrained(method, sparsity, masks, false, &format!("retrain-random-{pct}"), &mut Vec::new())
            }
            Method::Imp => {
                let imp_dir = |s: f64| self.work.join(format!("imp-{}", percent_label(s)));
                let dir = imp_dir(sparsity);
                let started = std::time::Instant::now();
                // The sweep's IMP runs share their first rounds with the table's (and each other's).
                let shared: Vec<SharedImpRun> = std::iter::once(self.plan.sparsity)
                    .chain(self.plan.sweep.iter().copied())
                    .filter(|&s| s != sparsity)
                    .map(|s| SharedImpRun { target: s, dir: imp_dir(s) })
                    .collect();
                let (masks, rounds) = imp_masks(&self.base, &self.shapes()?, sparsity, &dir, &shared, true, self.device, self.device_name)?;
                // A shared round names the folder it was trained in, so the report counts its time once.
                let mut stages: Vec<StageTime> =
                    rounds.iter().enumerate().map(|(r, round)| StageTime::of(format!("imp round {r}"), round.dir.clone(), &round.summary)).collect();
                if stages.is_empty() {
                    stages.push(StageTime::timed("imp", dir.clone(), started.elapsed().as_secs_f64()));
                }
                self.retrained(method, sparsity, masks, false, &format!("retrain-imp-{pct}"), &mut stages)
            }
            Method::MaskOnly => {
                let settings = self.search_settings(SearchMode::MaskOnly, true);
                let (_, search_time) = self.stage("search-mask-only", |dir| {
                    run_search(&settings, SearchMode::MaskOnly, None, None, &HardConcreteConfig::new(), dir, true, self.device, self.device_name)
                })?;
                let dir = self.work.join(format!("draw-mask-only-{pct}"));
                let file = dir.join(format!("ticket-{pct}.safetensors"));
                let started = std::time::Instant::now();
                let refit_epochs = self.plan.search.mask_only_refit_head;
                if !drawn_as_planned(&file, refit_epochs.is_some())? {
                    let ctx = StageContext::open(&self.base, "draw", &dir, true, self.device, self.device_name, serde_json::json!({ "sparsity": sparsity }))?;
                    let training = serde_json::json!({ "pipeline": "mask-only", "preset": self.plan.preset, "search": settings.fit });
                    let scores = read(&scores_path(&self.work.join("search-mask-only")), "search scores")?;
                    let refit = refit_epochs.map(|epochs| head_refit_config(&ctx, epochs));
                    export_draws(&ctx, &scores, &[sparsity], MaskEncoding::Ans, training, refit.as_ref())?;
                }
                let draw_time = StageTime::timed("draw", dir, started.elapsed().as_secs_f64());
                let mut record = self.ticket_record(method, &file, vec![search_time, draw_time])?;
                record.search = Some(self.draw(&scores_path(&self.work.join("search-mask-only")), sparsity)?.1);
                Ok(record)
            }
        }
    }

    /// Fine-tuning (stage 1), shared by every paper-mode search.
    fn finetune(&self) -> Result<(StageSummary, StageTime)> {
        self.stage("finetune", |dir| run_finetune(&self.base, dir, true, self.device, self.device_name))
    }

    /// The paper-mode search (with or without the adversary) on the fine-tuned model.
    fn paper_search(&self, adversarial: bool) -> Result<(PathBuf, Vec<StageTime>)> {
        let (_, finetune) = self.finetune()?;
        let start = finetune.dir.join("classifier.safetensors");
        let settings = self.search_settings(SearchMode::Paper, adversarial);
        let name = if adversarial { "search" } else { "search-no-adversary" };
        let (_, search) = self.stage(name, |dir| {
            run_search(&settings, SearchMode::Paper, Some(&start), None, &HardConcreteConfig::new(), dir, true, self.device, self.device_name)
        })?;
        Ok((scores_path(&search.dir), vec![finetune, search]))
    }

    /// A search's settings: the preset's, with the plan's search overrides.
    fn search_settings(&self, mode: SearchMode, adversarial: bool) -> StageSettings {
        let mut settings = search_settings(&self.base, mode, adversarial);
        match mode {
            SearchMode::MaskOnly => self.plan.search.apply_mask_only(&mut settings),
            SearchMode::Paper => self.plan.search.apply(&mut settings),
        }
        settings
    }

    /// Global top-k on a search's scores, and how far the search moved them.
    fn draw(&self, scores: &Path, sparsity: f64) -> Result<(Vec<Vec<bool>>, ScoreStats)> {
        let files = ModelFiles::open(&self.base.model_dir)?;
        let bytes = read(scores, "search scores")?;
        let mut config = StageContext::classifier_config_for(&files, &self.base)?;
        config.pooling = scores_pooling(&bytes)?;
        let model = files.classifier(&config, self.device)?;
        let scores = scores_from_file(&bytes, &model)?;
        let stats = ScoreStats::of(&scores.scores, HardConcreteConfig::new().init_log_alpha);
        Ok((draw_tickets(&scores, &[sparsity]).remove(0).masks, stats))
    }

    /// Retrains under `masks` in `work/<name>` and exports the ticket there (f16 values, ANS masks).
    fn retrained(
        &self,
        method: Method,
        sparsity: f64,
        masks: Vec<Vec<bool>>,
        reinit: bool,
        name: &str,
        stages: &mut Vec<StageTime>,
    ) -> Result<ModelRecord> {
        let dir = self.work.join(name);
        let file = dir.join("ticket.safetensors");
        if !file.exists() {
            // Killed after training but before the export: the checkpoint still holds the
            // trained model, so reopening the stage resumes at its end and exports.
            if dir.join("metrics.json").exists() {
                StageSummary::reopen(&dir)?;
            }
            let settings = self.plan.retraining_settings(&self.base);
            let (ctx, _, best) = run_retrain(&settings, &masks, reinit, &dir, true, self.device, self.device_name)?;
            let training = serde_json::json!({ "method": method, "preset": self.plan.preset, "retrain": settings.fit, "reinit": reinit, "head": settings.retrain_head });
            let drawn = DrawnTicket { sparsity, masks };
            export_ticket(&ctx, &best, &drawn, Some(ValueDtype::F16), MaskEncoding::Ans, training, "ticket.safetensors")?;
            remove_checkpoint(&dir);
        }
        let summary: StageSummary = StageSummary::read(&dir)?;
        stages.push(StageTime::of("retrain", dir, &summary));
        self.ticket_record(method, &file, std::mem::take(stages))
    }

    /// Runs a stage in `work/<name>` unless it finished before; drops its checkpoint after.
    fn stage(&self, name: &str, run: impl FnOnce(&Path) -> Result<StageSummary>) -> Result<(StageSummary, StageTime)> {
        let dir = self.work.join(name);
        let summary = match StageSummary::read(&dir) {
            Ok(summary) => summary,
            Err(_) => run(&dir)?,
        };
        remove_checkpoint(&dir);
        let time = StageTime::of(summary.stage.clone(), dir, &summary);
        Ok((summary, time))
    }

    /// The gated matrices' HF shapes `[out, in]`.
    fn shapes(&self) -> Result<Vec<[usize; 2]>> {
        gated_shapes(&ModelFiles::open(&self.base.model_dir)?, self.device)
    }

    fn dense_record(&self, method: Method, summary: &StageSummary, stages: Vec<StageTime>) -> Result<ModelRecord> {
        let classifier = summary.outputs.first().cloned();
        let classifier_sha256 = classifier.as_deref().map(|path| read(path, "classifier").map(|bytes| sha256_hex(&bytes))).transpose()?;
        Ok(ModelRecord {
            dataset: self.dataset.clone(),
            seed: self.seed,
            method: method.key().into(),
            sparsity: 0.0,
            dev_accuracy: summary.dev.accuracy,
            test_accuracy: summary.test.accuracy,
            classifier,
            classifier_sha256,
            ticket: None,
            search: None,
            random_streams: oldest_streams(&stages),
            stages,
            preset: serde_name(&self.plan.preset),
            device: self.device_name.into(),
            base_model_sha256: summary.base_model_sha256.clone(),
            command: command_line(),
        })
    }

    /// A record for a ticket file, with the dev/test accuracy recorded in it (measured as
    /// loaded back onto the base weights).
    fn ticket_record(&self, method: Method, file: &Path, stages: Vec<StageTime>) -> Result<ModelRecord> {
        let bytes = read(file, "ticket")?;
        let ticket = Ticket::from_bytes(&bytes).with_context(|| format!("reading {}", file.display()))?;
        let report = TicketReport::measure(&ticket, &bytes, file)?;
        Ok(ModelRecord {
            dataset: self.dataset.clone(),
            seed: self.seed,
            method: method.key().into(),
            sparsity: ticket.meta.sparsity,
            dev_accuracy: report.dev.accuracy,
            test_accuracy: report.test.accuracy,
            classifier: None,
            classifier_sha256: None,
            ticket: Some(TicketRecord {
                file: file.to_path_buf(),
                bytes: bytes.len(),
                sha256: sha256_hex(&bytes),
                mask_bits_per_weight: report.mask_bits_per_weight,
                entropy_bits_per_weight: report.entropy_bits_per_weight,
                density: ticket.meta.gated.iter().cloned().zip(ticket.meta.density.iter().copied()).collect(),
            }),
            search: None,
            random_streams: oldest_streams(&stages),
            stages,
            preset: serde_name(&self.plan.preset),
            device: self.device_name.into(),
            base_model_sha256: ticket.meta.base_model_sha256.clone(),
            command: command_line(),
        })
    }

    /// Attacks a model on a fixed, class-balanced `examples` of the test split (all of it with
    /// `usize::MAX`; every model and seed gets the same ones), unless that record exists.
    pub fn attack(&self, kit: &AttackKit, model: &ModelRecord, recipe: Recipe, examples: usize) -> Result<AttackRecord> {
        let (_, split) = self.base.split()?;
        let whole_split = examples >= split.test.len();
        let chosen = balanced_subset(split.test, examples, SPLIT_SEED);
        let recipe_key = serde_json::to_value(recipe)?.as_str().unwrap_or("attack").to_string();
        let path = self.records.join(attack_file(&model.method, model.sparsity, &recipe_key, chosen.len(), whole_split));
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            return serde_json::from_str(&text).with_context(|| format!("{} is not an attack record: delete it to rerun", path.display()));
        }
        eprintln!("== {} seed {}: {} on {} at {:.0}%, {} examples", self.dataset, self.seed, recipe.name(), model.method, 100.0 * model.sparsity, chosen.len());
        let victim = self.victim(kit, model)?;
        let tokenizer = kit.files.tokenizer_on(self.base.max_len, self.device)?.with_window(self.base.window)?;
        let setup = AttackSetup {
            victim: &victim,
            tokenizer: &tokenizer,
            encoder: &kit.encoder,
            resources: kit.resources(),
            device: self.device.clone(),
            batch_size: 64,
            options: Default::default(),
        };
        let dir = self.work.join("attacks");
        std::fs::create_dir_all(&dir)?;
        let jsonl = self.work.join(attack_file(&model.method, model.sparsity, &recipe_key, chosen.len(), whole_split)).with_extension("jsonl");
        let summary = attack_examples(&setup, recipe, &chosen, 0, &jsonl, true)?;
        let record = AttackRecord {
            dataset: self.dataset.clone(),
            seed: self.seed,
            method: model.method.clone(),
            sparsity: model.sparsity,
            labels: label_counts(&chosen),
            summary,
            neighbours: Some(kit.neighbours_name()),
            device: self.device_name.into(),
            command: command_line(),
        };
        write_json(&path, &record)?;
        Ok(record)
    }

    /// The per-example attack logs of a model's folder-mate: a model trained anew must not
    /// resume attacks that an earlier model of the same name began.
    fn forget_attack_logs(&self, model: &ModelRecord) -> Result<()> {
        for log in files_named(&self.work.join("attacks"), &attack_log_prefix(model), ".jsonl")? {
            std::fs::remove_file(&log).with_context(|| format!("removing the stale attack log {}", log.display()))?;
        }
        Ok(())
    }

    fn victim(&self, kit: &AttackKit, model: &ModelRecord) -> Result<SequenceClassifier> {
        match (&model.ticket, &model.classifier) {
            (Some(ticket), _) => {
                let t = Ticket::from_bytes(&read(&ticket.file, "ticket")?).with_context(|| format!("reading {}", ticket.file.display()))?;
                Ok(t.classifier(&Weights::from_bytes(&kit.files.weights)?, &kit.files.weights_sha256(), self.device)?)
            }
            (None, Some(path)) => Ok(SequenceClassifier::from_safetensors(&read(path, "classifier")?, self.device)?.0),
            (None, None) => anyhow::bail!("the record of {} names no model file", model.method),
        }
    }
}

/// How a model's per-example attack logs start (they are named as its attack records).
fn attack_log_prefix(model: &ModelRecord) -> String {
    attack_prefix(&model.method, model.sparsity)
}

/// The files in `dir` whose names start with `prefix` and end with `suffix` (none when `dir` is absent).
fn files_named(dir: &Path, prefix: &str, suffix: &str) -> Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("listing {}", dir.display()))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with(prefix) && name.ends_with(suffix) {
            files.push(path);
        }
    }
    Ok(files)
}

/// Drops a finished stage's checkpoint (hundreds of MB each; the stage's outputs stay).
fn remove_checkpoint(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir.join("checkpoint"));
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let dir = path.parent().context("a record path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_atomically(path, &serde_json::to_vec_pretty(value)?)
}

/// The command line, with the program named `rticket` whatever its path.
fn command_line() -> String {
    std::iter::once("rticket".to_string()).chain(std::env::args().skip(1)).collect::<Vec<_>>().join(" ")
}

/// The oldest random streams a record's training stages drew from (the current ones when none
/// trained: a draw alone draws nothing).
fn oldest_streams(stages: &[StageTime]) -> u32 {
    stages.iter().filter_map(|s| s.random_streams).min().unwrap_or(rticket_core::random::RANDOM_STREAMS)
}

/// Whether a mask-only draw's ticket is finished: written, and, when the plan refits heads, with
/// its refit head (the draw writes the searched head's ticket first, so a run killed during the
/// refit leaves one without).
fn drawn_as_planned(file: &Path, refit: bool) -> Result<bool> {
    if !file.exists() {
        return Ok(false);
    }
    if !refit {
        return Ok(true);
    }
    let ticket = Ticket::from_bytes(&read(file, "ticket")?).with_context(|| format!("reading {}", file.display()))?;
    Ok(ticket.meta.training.get("head_refit").is_some())
}
