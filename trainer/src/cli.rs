//! Command-line arguments, parsed into plain values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rticket_core::Pooling;

use crate::data::DatasetName;
use crate::device::DeviceChoice;

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
    /// Train a baseline or ablation at a sparsity (random, IMP, FreeLB, search without adversary).
    Baseline(BaselineArgs),
    /// Attack a classifier or a ticket with word substitutions and report robustness.
    Attack(AttackArgs),
    /// Build the attacks' neighbour table from the encoder's input embeddings.
    Neighbours(NeighboursArgs),
    /// Measure encode throughput (sentences/s) on the chosen device.
    Bench(BenchArgs),
    /// List the wgpu adapters and say which device `--device auto` picks.
    Devices,
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
    #[arg(long)]
    pub classifier: PathBuf,
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
    /// Dataset (the set-up step fetches it into assets/data).
    #[arg(long, value_enum, default_value = "mr")]
    pub data: DatasetName,
    /// Output folder (created; refuses to overwrite a finished run).
    #[arg(long)]
    pub out: PathBuf,
    /// Settings preset; the flags below override single values.
    #[arg(long, value_enum, default_value = "paper")]
    pub preset: Preset,
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long)]
    pub max_len: Option<usize>,
    /// Use only the first N training examples (after the seeded split).
    #[arg(long)]
    pub train_limit: Option<usize>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Continue the unfinished run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// How many MR sentences to encode per repeat.
    #[arg(long, default_value_t = 512)]
    pub sentences: usize,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 128)]
    pub max_len: usize,
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
}

/// What every multi-stage run takes: base model, data, preset, sparsity, seed, resumption.
#[derive(Debug, Args)]
pub struct StageArgs {
    #[command(flatten)]
    pub model: ModelArg,
    #[arg(long, value_enum, default_value = "mr")]
    pub data: DatasetName,
    #[arg(long, value_enum, default_value = "quick")]
    pub preset: Preset,
    /// Fraction of the gated weights the tickets prune.
    #[arg(long, default_value_t = 0.3)]
    pub sparsity: f64,
    /// Overrides the preset's training seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Continue the unfinished run in --out from its last checkpoints.
    #[arg(long)]
    pub resume: bool,
}

#[derive(Debug, Args)]
pub struct PipelineArgs {
    #[command(flatten)]
    pub stage: StageArgs,
    /// Output folder [default: runs/pipeline-<preset>-<unix time>].
    #[arg(long)]
    pub out: Option<PathBuf>,
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
    #[arg(long, value_enum, default_value = "text-fooler")]
    pub recipe: RecipeArg,
    #[arg(long, value_enum, default_value = "mr")]
    pub data: DatasetName,
    #[arg(long, value_enum, default_value = "test")]
    pub split: SplitArg,
    /// Attack only the first N examples of the split.
    #[arg(long)]
    pub examples: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The neighbour table [default: assets/neighbours.safetensors].
    #[arg(long)]
    pub neighbours: Option<PathBuf>,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[arg(long, value_enum)]
    pub kind: BaselineKind,
    /// (--sparsity is ignored by freelb.)
    #[command(flatten)]
    pub stage: StageArgs,
    /// Re-initialise the surviving weights before retraining (the paper's ablation).
    #[arg(long)]
    pub reinit: bool,
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
pub struct NeighboursArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Neighbours kept per word.
    #[arg(long, default_value_t = 50)]
    pub k: usize,
    /// Output file [default: assets/neighbours.safetensors].
    #[arg(long)]
    pub out: Option<PathBuf>,
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

impl From<PoolingArg> for Pooling {
    fn from(p: PoolingArg) -> Self {
        match p {
            PoolingArg::Mean => Pooling::Mean,
            PoolingArg::Cls => Pooling::Cls,
            PoolingArg::Pooler => Pooling::Pooler,
        }
    }
}
