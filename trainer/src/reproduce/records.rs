//! The per-run JSON records of a reproduction: one per trained model and one per attack on
//! it. They are small, kept in the repository (`results/data/`), and the report is derived
//! from them alone, so the markdown cannot drift from the data.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::data::{DataFiles, DataSource, DatasetName, UserData};
use crate::stages::{AttackSummary, StageSummary};

/// The data a record is about, and its folder under the records root: a built-in corpus's
/// name (`mr`, `movie-reviews`, as records made before user data wrote them) or, for a user's
/// files, a name made from the file's stem (a split's `train` file: its folder's name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatasetKey(pub String);

impl DatasetKey {
    /// The key of `source`. A user's file named like a built-in corpus gets `-file` appended,
    /// so its records never sit in the corpus's folder.
    pub fn of(source: &DataSource) -> Self {
        let name = |path: &Path| path.file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
        let stem = match source {
            DataSource::Builtin(name) => return (*name).into(),
            DataSource::Files(UserData { files: DataFiles::One { path }, .. }) => name(path),
            // A split's files are often train/dev/test in a folder named for the data.
            DataSource::Files(UserData { files: DataFiles::Split { train, .. }, .. }) => match (name(train), train.parent()) {
                (stem, Some(folder)) if stem == "train" && !name(folder).is_empty() => name(folder),
                (stem, _) => stem,
            },
        };
        let mut key: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        if key.is_empty() {
            key = "data".into();
        }
        if DatasetName::value_variants().iter().any(|n| serde_name(n) == key) {
            key += "-file";
        }
        Self(key)
    }
}

impl From<DatasetName> for DatasetKey {
    fn from(name: DatasetName) -> Self {
        Self(serde_name(&name))
    }
}

impl std::fmt::Display for DatasetKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One trained model (dense or ticket) of one seed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelRecord {
    pub dataset: DatasetKey,
    pub seed: u64,
    /// The method: `fine-tune`, `imp`, `random`, `freelb`, `robust-ticket`, `mask-only`,
    /// `no-adversary`, `reinit`.
    pub method: String,
    /// Fraction of the gated weights pruned (0 for dense models).
    pub sparsity: f64,
    pub dev_accuracy: f64,
    pub test_accuracy: f64,
    /// The dense classifier file (dense methods).
    pub classifier: Option<PathBuf>,
    /// The dense classifier file's sha256 (absent in records made before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier_sha256: Option<String>,
    /// The ticket file (sparse methods).
    pub ticket: Option<TicketRecord>,
    /// How far the search moved the gate scores (searched methods).
    #[serde(default)]
    pub search: Option<ScoreStats>,
    /// The stages that made this model (shared ones included, e.g. the fine-tuning a search
    /// started from), each with its folder and wall time.
    pub stages: Vec<StageTime>,
    pub preset: String,
    pub device: String,
    pub base_model_sha256: String,
    /// The command line that produced the record.
    pub command: String,
    /// The oldest random streams among its stages (`rticket_core::random::RANDOM_STREAMS`; 1 in
    /// records made before the versions): a record of v1 stands, it was drawn differently.
    #[serde(default = "rticket_core::random::unversioned_streams")]
    pub random_streams: u32,
}

impl ModelRecord {
    /// The model file the record describes: its ticket, or its dense classifier.
    pub fn model_path(&self) -> Option<&Path> {
        self.ticket.as_ref().map(|t| t.file.as_path()).or(self.classifier.as_deref())
    }

    /// How `retrained` was found to be the very model this record describes, or `None` when it
    /// is another: the same file bytes (sha256), or, for a dense record made before classifier
    /// hashes were kept, the same dev and test accuracy (all that record says of its model).
    pub fn same_model_as(&self, retrained: &ModelRecord) -> Option<&'static str> {
        match (&self.ticket, &retrained.ticket, &self.classifier_sha256, &retrained.classifier_sha256) {
            (Some(old), Some(new), _, _) => (old.sha256 == new.sha256).then_some("the same ticket sha256"),
            (None, None, Some(old), Some(new)) => (old == new).then_some("the same classifier sha256"),
            (None, None, None, _) => (self.dev_accuracy == retrained.dev_accuracy && self.test_accuracy == retrained.test_accuracy)
                .then_some("the same dev and test accuracy; the record predates classifier hashes"),
            _ => None,
        }
    }
}

/// A stage's folder (under the work folder) and wall time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StageTime {
    pub stage: String,
    pub dir: PathBuf,
    pub seconds: f64,
    /// Epochs the search's collapse guard made it do again (`FitConfig::collapse_guard`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redone_epochs: usize,
    /// How the stage chose its epoch, when it attacked dev to choose (`--select-under-attack`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<DevSelection>,
    /// The random streams a training stage drew from (absent: a step that draws nothing, or a
    /// record before the versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_streams: Option<u32>,
}

impl StageTime {
    /// A stage that trained, from its summary.
    pub fn of(stage: impl Into<String>, dir: PathBuf, summary: &StageSummary) -> Self {
        Self {
            stage: stage.into(),
            dir,
            seconds: summary.seconds,
            redone_epochs: summary.rollbacks.len(),
            selection: DevSelection::of(summary),
            random_streams: Some(summary.random_streams),
        }
    }

    /// A step without epochs (an IMP run's bookkeeping, a draw).
    pub fn timed(stage: impl Into<String>, dir: PathBuf, seconds: f64) -> Self {
        Self { stage: stage.into(), dir, seconds, redone_epochs: 0, selection: None, random_streams: None }
    }
}

/// The dev figures a stage that selected on dev under attack chose its epoch from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DevSelection {
    /// The 1-based epoch kept.
    pub kept_epoch: usize,
    /// Clean dev accuracy after each epoch.
    pub dev_accuracy: Vec<f64>,
    /// Dev accuracy under attack after each epoch.
    pub dev_under_attack: Vec<f64>,
}

impl DevSelection {
    /// The figures of `summary`, when every epoch of it was attacked on dev.
    pub fn of(summary: &StageSummary) -> Option<Self> {
        let dev_under_attack: Option<Vec<f64>> = summary.history.iter().map(|m| m.dev_under_attack).collect();
        Some(Self {
            kept_epoch: summary.best_epoch,
            dev_accuracy: summary.history.iter().map(|m| m.dev.accuracy).collect(),
            dev_under_attack: dev_under_attack.filter(|d| !d.is_empty())?,
        })
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A ticket file and what it holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TicketRecord {
    pub file: PathBuf,
    pub bytes: usize,
    pub sha256: String,
    pub mask_bits_per_weight: f64,
    pub entropy_bits_per_weight: f64,
    /// (gated matrix, fraction kept), in the ticket's order.
    pub density: Vec<(String, f64)>,
}

/// The distribution of a search's gate scores (log_alpha) over all gated weights.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScoreStats {
    /// Where every score started (PAPER.md: ln 5).
    pub init: f64,
    pub mean: f64,
    pub sd: f64,
    pub p01: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    /// Fraction of scores more than 0.5 from `init`.
    pub moved: f64,
}

impl ScoreStats {
    /// The statistics of `scores` (all matrices together).
    pub fn of(scores: &[Vec<f32>], init: f64) -> Self {
        let mut all: Vec<f32> = scores.iter().flatten().copied().collect();
        all.sort_unstable_by(f32::total_cmp);
        let n = all.len().max(1) as f64;
        let mean = all.iter().map(|&v| v as f64).sum::<f64>() / n;
        let sd = (all.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        let quantile = |q: f64| all.get(((all.len().saturating_sub(1)) as f64 * q).round() as usize).map_or(f64::NAN, |&v| v as f64);
        let moved = all.iter().filter(|&&v| (v as f64 - init).abs() > 0.5).count() as f64 / n;
        Self { init, mean, sd, p01: quantile(0.01), p10: quantile(0.1), p50: quantile(0.5), p90: quantile(0.9), p99: quantile(0.99), moved }
    }
}

/// One attack recipe on one model record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttackRecord {
    pub dataset: DatasetKey,
    pub seed: u64,
    pub method: String,
    pub sparsity: f64,
    /// How many attacked examples each label has (empty in records made before it was kept).
    /// The examples are the whole test split, or a seeded class-balanced subset of it
    /// (`data::balanced_subset`), the same for every model and seed.
    #[serde(default)]
    pub labels: Vec<usize>,
    pub summary: AttackSummary,
    /// The neighbour table the word substitutes came from: its vector space and version, e.g.
    /// `glove-6b-50d-counter-fitted-wordnet v4` (absent in records made before it was kept,
    /// all of them with the encoder's input embeddings: the weak attacks of before issue 38).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbours: Option<String>,
    pub device: String,
    pub command: String,
}

/// Sparsities closer than this are the same model (tickets prune exact counts, so their
/// recorded sparsity differs from the requested one in the 8th decimal).
pub const SAME_SPARSITY: f64 = 1e-3;

impl AttackRecord {
    /// Whether `other` records the same model, recipe and example count.
    pub fn same_attack(&self, other: &AttackRecord) -> bool {
        (&self.dataset, self.seed, &self.method, self.summary.recipe, self.summary.examples)
            == (&other.dataset, other.seed, &other.method, other.summary.recipe, other.summary.examples)
            && (self.sparsity - other.sparsity).abs() < SAME_SPARSITY
    }
}

/// The file name of a model's record: `<method>-<percent>.json`.
pub fn model_file(method: &str, sparsity: f64) -> String {
    format!("{method}-{}.json", crate::stages::percent_label(sparsity))
}

/// The path of an attack's record under a seed folder: `attacks/<method>-<percent>-<recipe>-<examples>[-balanced].json`.
pub fn attack_file(method: &str, sparsity: f64, recipe: &str, examples: usize, whole_split: bool) -> String {
    // A subset's name says how it was drawn: records of the old "first N" sets (one class
    // only) must never be taken for it.
    let subset = if whole_split { "" } else { "-balanced" };
    format!("attacks/{}{recipe}-{examples}{subset}.json", attack_prefix(method, sparsity))
}

/// How the names of a model's attack records (and their per-example logs) start: `<method>-<percent>-`.
pub fn attack_prefix(method: &str, sparsity: f64) -> String {
    format!("{method}-{}-", crate::stages::percent_label(sparsity))
}

/// The folder of one dataset and seed under the records root.
pub fn seed_dir(root: &Path, dataset: &DatasetKey, seed: u64) -> PathBuf {
    root.join(&dataset.0).join(format!("seed-{seed}"))
}

/// The name serde gives a unit enum value (`DatasetName::Mr` -> `mr`), as in the records.
pub fn serde_name(value: &impl Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The folder, under a seed's records, that holds records of models no longer reproduced (a
/// model retrained on another machine to other bytes): kept, but not reported.
pub const SUPERSEDED: &str = "superseded";

/// Every record under `root` (but those in [`SUPERSEDED`] folders), sorted by path (so reports are deterministic).
pub fn load_all(root: &Path) -> Result<(Vec<ModelRecord>, Vec<AttackRecord>)> {
    let mut files = RecordFiles::under(root)?.records;
    files.sort();
    let (mut models, mut attacks) = (Vec::new(), Vec::new());
    let mut attack_files: Vec<PathBuf> = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let in_attacks = file.parent().and_then(|p| p.file_name()).is_some_and(|n| n == "attacks");
        if !in_attacks {
            models.push(serde_json::from_str(&text).with_context(|| format!("{} is not a model record", file.display()))?);
        } else {
            let record: AttackRecord = serde_json::from_str(&text).with_context(|| format!("{} is not an attack record", file.display()))?;
            // Two records of one attack would be averaged as two seeds; the likely pair is an
            // old "first N" record (one class only) beside its class-balanced successor.
            if let Some(twin) = attacks.iter().position(|a: &AttackRecord| a.same_attack(&record)) {
                bail!(
                    "{} and {} record the same attack (seed {}, {} at {:.0}%, {:?} on {} examples): delete the older one",
                    attack_files[twin].display(),
                    file.display(),
                    record.seed,
                    record.method,
                    100.0 * record.sparsity,
                    record.summary.recipe,
                    record.summary.examples
                );
            }
            attacks.push(record);
            attack_files.push(file);
        }
    }
    Ok((models, attacks))
}

/// The folders of records set aside under `root` (each a model record with its attacks, in a
/// [`SUPERSEDED`] folder), relative to `root`, sorted.
pub fn superseded_records(root: &Path) -> Result<Vec<PathBuf>> {
    let found = RecordFiles::under(root)?.set_aside;
    let mut relative: Vec<PathBuf> = found.into_iter().filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf)).collect();
    relative.sort();
    Ok(relative)
}

/// What a records folder holds: the record files (`plan.json` aside) and, apart from them, the
/// folders set aside in [`SUPERSEDED`] folders.
#[derive(Default)]
struct RecordFiles {
    records: Vec<PathBuf>,
    set_aside: Vec<PathBuf>,
}

impl RecordFiles {
    fn under(root: &Path) -> Result<Self> {
        let mut found = Self::default();
        found.collect(root).with_context(|| format!("listing the records in {}", root.display()))?;
        Ok(found)
    }

    fn collect(&mut self, dir: &Path) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == SUPERSEDED) {
                    for aside in std::fs::read_dir(&path)? {
                        self.set_aside.push(aside?.path());
                    }
                } else {
                    self.collect(&path)?;
                }
            } else if path.extension().is_some_and(|e| e == "json") && path.file_name().is_some_and(|n| n != "plan.json") {
                self.records.push(path);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Columns;

    #[test]
    fn a_dataset_key_is_the_corpus_name_or_the_files_stem_never_a_corpus_of_its_own() {
        let file = |path: &str| DataSource::Files(UserData { files: DataFiles::One { path: path.into() }, format: None, columns: Columns::default() });
        assert_eq!(DatasetKey::of(&DatasetName::Mr.into()).0, "mr");
        assert_eq!(DatasetKey::of(&DatasetName::MovieReviews.into()).0, "movie-reviews");
        assert_eq!(DatasetKey::of(&file("data/My Topics.v2.csv")).0, "my-topics-v2");
        assert_eq!(DatasetKey::of(&file("elsewhere/mr.csv")).0, "mr-file");
        let split = DataSource::Files(UserData {
            files: DataFiles::Split { train: "nli/train.jsonl".into(), dev: "nli/dev.jsonl".into(), test: "nli/test.jsonl".into() },
            format: None,
            columns: Columns::default(),
        });
        assert_eq!(DatasetKey::of(&split).0, "nli");
        // Records made before user data name their corpus the same way.
        let record: DatasetKey = serde_json::from_str(r#""mr""#).unwrap();
        assert_eq!(record, DatasetName::Mr.into());
    }
}
