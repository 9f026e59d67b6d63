//! Labelled text data: the built-in polarity CSVs of ASSETS.md, the user's own CSV, TSV or JSON
//! Lines tables, and the fixed, seeded split.

mod labels;
mod polarity;
mod source;
mod split;
mod table;

pub use labels::{label_set, require_every_class, require_same_labels};
pub use polarity::{Corpus, DatasetName, load_polarity_csv};
pub use source::{DataFiles, DataSource, UserData, builtin_names};
pub use split::{SPLIT_SEED, Split, SplitSizes, balanced_subset, label_counts, stratified_split};
pub use table::{Columns, Row, TableFormat, parse_table, read_table};

/// One labelled text. (A second segment, for sentence pairs, would be a field here.)
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Example {
    /// Position in the source file (0-based row among its examples; a header is not counted),
    /// so splits can be written down and checked. With the user's own train/dev/test files,
    /// the position in its part's file.
    pub id: usize,
    pub text: String,
    pub label: usize,
}
