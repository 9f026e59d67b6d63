//! Labelled text data: the polarity CSVs of ASSETS.md and their fixed, seeded split.

mod polarity;
mod split;

pub use polarity::{Corpus, DatasetName, load_polarity_csv};
pub use split::{SPLIT_SEED, Split, SplitSizes, balanced_subset, label_counts, stratified_split};

/// One labelled text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Example {
    /// Position in the source file (0-based row), so splits can be written down and checked.
    pub id: usize,
    pub text: String,
    pub label: usize,
}
