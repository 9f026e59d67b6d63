//! The one error type of the library: every variant names the problem and, where there is one, the fix.

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when loading a model, a tokenizer or a ticket, or encoding text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HF `config.json` could not be parsed or describes an impossible model.
    #[error("invalid model config: {0}")]
    Config(String),

    /// The weights are not a readable safetensors file (corrupt, truncated or another format).
    #[error(
        "the weights are not a valid safetensors file ({0}); the file is corrupt or truncated: \
         fetch it again (the set-up step checks its sha256)"
    )]
    Safetensors(#[from] safetensors::SafeTensorError),

    /// A tensor the config requires is absent from the weights.
    #[error(
        "the weights have no tensor `{name}` (looked for it with key prefix `{prefix}`); \
         the file does not belong to a BERT-family model with this config.json"
    )]
    MissingTensor { name: String, prefix: String },

    /// A tensor exists but its shape disagrees with the config.
    #[error(
        "tensor `{name}` has shape {found:?} but config.json implies {expected:?}: \
         the config and the weights come from different models"
    )]
    ShapeMismatch { name: String, expected: Vec<usize>, found: Vec<usize> },

    /// A tensor is stored in a dtype we cannot convert to f32.
    #[error("tensor `{name}` is stored as {dtype}, but only F32, F16 and BF16 weights can be loaded")]
    UnsupportedDtype { name: String, dtype: String },

    /// The tokenizer file could not be read.
    #[error("invalid tokenizer.json: {0}")]
    Tokenizer(String),

    /// An input text is empty (or only whitespace): there is nothing to classify.
    #[error("text #{index} is empty (or only whitespace); give at least one word")]
    EmptyText { index: usize },

    /// A batch without any text.
    #[error("no texts were given")]
    EmptyBatch,

    /// The tokenizer produces ids the model has no embedding for.
    #[error(
        "the tokenizer produced token id {id}, but the model has only {vocab_size} embeddings: \
         tokenizer.json and the weights belong to different models"
    )]
    TokenOutOfVocab { id: u32, vocab_size: usize },

    /// A classifier was asked for labels that disagree with its head.
    #[error("classifier has {head} outputs but {labels} labels were given")]
    LabelCount { head: usize, labels: usize },

    /// WordNet files that cannot be parsed.
    #[error("invalid WordNet data: {0}")]
    WordNet(String),

    /// A synonym/neighbour table that cannot be read.
    #[error("invalid neighbour table: {0} (rebuild it with `rticket neighbours`)")]
    NeighbourTable(String),

    /// A text that cannot be attacked.
    #[error("cannot attack this text: {0}")]
    Attack(String),

    /// A saved file's metadata holds a value that cannot be read.
    #[error("the file's metadata `{key}` cannot be read ({reason}): the file is damaged; save it again")]
    FileMetadata { key: &'static str, reason: String },

    /// Reading tensor values back from the device failed.
    #[error("could not read a tensor back from the device: {0}")]
    Readback(String),
}
