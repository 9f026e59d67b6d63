//! Where a run's examples come from: a built-in corpus by name, or the user's own table (split
//! here, seeded and stratified) or tables (their own train/dev/test split). Recorded in
//! `run.json`; a built-in corpus as its bare name, as runs before user data recorded it.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use super::labels::{label_set, require_every_class, require_two_classes, to_examples};
use super::table::{Columns, Row, TableFormat, read_table};
use super::{DatasetName, Split, SplitSizes, load_polarity_csv, stratified_split};

/// A run's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DataSource {
    /// A corpus of ASSETS.md, read from the assets folder.
    Builtin(DatasetName),
    /// The user's table(s).
    Files(UserData),
}

/// A user's labelled table(s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserData {
    #[serde(flatten)]
    pub files: DataFiles,
    /// The layout of every file; `None`: each file's extension says.
    pub format: Option<TableFormat>,
    pub columns: Columns,
}

/// One table to split, or the user's own split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DataFiles {
    One { path: PathBuf },
    Split { train: PathBuf, dev: PathBuf, test: PathBuf },
}

impl From<DatasetName> for DataSource {
    fn from(name: DatasetName) -> Self {
        Self::Builtin(name)
    }
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin(name) => write!(f, "{}", builtin_name(*name)),
            Self::Files(UserData { files: DataFiles::One { path }, .. }) => write!(f, "{}", path.display()),
            Self::Files(UserData { files: DataFiles::Split { train, dev, test }, .. }) => {
                write!(f, "train {}, dev {}, test {}", train.display(), dev.display(), test.display())
            }
        }
    }
}

/// `mr`, `movie-reviews`: the name `--data` takes.
fn builtin_name(name: DatasetName) -> String {
    name.to_possible_value().map_or_else(|| format!("{name:?}"), |v| v.get_name().to_string())
}

/// The built-in names, for messages.
pub fn builtin_names() -> String {
    DatasetName::value_variants().iter().map(|n| builtin_name(*n)).collect::<Vec<_>>().join(", ")
}

impl DataSource {
    /// `--data NAME|FILE`: a built-in corpus when `value` names one, else a file (which must
    /// exist and have a known format).
    pub fn named(value: &str, format: Option<TableFormat>, columns: Columns) -> Result<Self> {
        if let Ok(name) = DatasetName::from_str(value, false) {
            if format.is_some() || columns != Columns::default() {
                bail!("--format, --text-column, --text-pair-column and --label-column describe a file of your own, and --data {value} is built in: drop them");
            }
            return Ok(Self::Builtin(name));
        }
        let data = UserData { files: DataFiles::One { path: PathBuf::from(value) }, format, columns };
        data.check("--data", Path::new(value)).map_err(|e| {
            if Path::new(value).exists() { e } else { anyhow::anyhow!("{e} (the built-in corpora are {})", builtin_names()) }
        })?;
        Ok(Self::Files(data))
    }

    /// `--train --dev --test`: the user's own split.
    pub fn split_files(train: PathBuf, dev: PathBuf, test: PathBuf, format: Option<TableFormat>, columns: Columns) -> Result<Self> {
        let data = UserData { files: DataFiles::Split { train: train.clone(), dev: dev.clone(), test: test.clone() }, format, columns };
        for (flag, path) in [("--train", &train), ("--dev", &dev), ("--test", &test)] {
            data.check(flag, path)?;
        }
        Ok(Self::Files(data))
    }

    /// Long documents (the movie reviews), which the presets read at a longer length.
    pub fn is_documents(&self) -> bool {
        *self == Self::Builtin(DatasetName::MovieReviews)
    }

    /// The label names and the train/dev/test split: a built-in corpus or a single table cut
    /// by `sizes` with `seed` ([`stratified_split`]), or the user's own split.
    pub fn load(&self, sizes: SplitSizes, seed: u64) -> Result<(Vec<String>, Split)> {
        match self {
            Self::Builtin(name) => {
                let corpus = load_polarity_csv(&name.path(&crate::model_files::assets_dir()))?;
                Ok((corpus.labels.clone(), stratified_split(&corpus.examples, corpus.labels.len(), sizes, seed)))
            }
            Self::Files(data) => data.load(sizes, seed),
        }
    }
}

impl UserData {
    /// Refuses a path that is missing or of no known format before any training starts.
    fn check(&self, flag: &str, path: &Path) -> Result<()> {
        if !path.is_file() {
            bail!("{flag} {}: no such file", path.display());
        }
        TableFormat::of(path, self.format)?;
        Ok(())
    }

    fn rows(&self, path: &Path) -> Result<Vec<Row>> {
        read_table(path, TableFormat::of(path, self.format)?, &self.columns)
    }

    fn load(&self, sizes: SplitSizes, seed: u64) -> Result<(Vec<String>, Split)> {
        match &self.files {
            DataFiles::One { path } => {
                let rows = self.rows(path)?;
                let name = path.display().to_string();
                let labels = label_set(rows.iter().map(|r| r.label.as_str()));
                require_two_classes(&labels, &name)?;
                let examples = to_examples(rows, &labels, &name, "the file")?;
                let split = stratified_split(&examples, labels.len(), sizes, seed);
                let fix = format!(
                    "the seeded {:.0}/{:.0}/{:.0} split keeps that share of each class for training, rounded: add examples of it",
                    100.0 * (1.0 - sizes.dev - sizes.test),
                    100.0 * sizes.dev,
                    100.0 * sizes.test
                );
                require_every_class(&labels, &split.train, &format!("the training split of {name}"), &fix)?;
                Ok((labels, split))
            }
            DataFiles::Split { train, dev, test } => {
                let rows = self.rows(train)?;
                let name = train.display().to_string();
                let labels = label_set(rows.iter().map(|r| r.label.as_str()));
                require_two_classes(&labels, &name)?;
                let why = format!("the training file {name}");
                let part = |path: &Path| to_examples(self.rows(path)?, &labels, &path.display().to_string(), &why);
                let split = Split { train: part(train)?, dev: part(dev)?, test: part(test)? };
                Ok((labels, split))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temporary folder, removed when dropped.
    struct Dir(PathBuf);

    impl Dir {
        fn new(tag: &str) -> Self {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
            let path = std::env::temp_dir().join(format!("rticket-source-{tag}-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
        fn write(&self, name: &str, content: &str) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, content).unwrap();
            path
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn err<T: fmt::Debug>(result: Result<T>) -> String {
        format!("{:#}", result.expect_err("must be refused"))
    }

    fn three_classes(per_class: usize) -> String {
        let mut csv = String::from("text,label\n");
        for i in 0..per_class {
            for label in ["world", "sports", "business"] {
                csv += &format!("{label} news number {i},{label}\n");
            }
        }
        csv
    }

    #[test]
    fn built_in_names_serialise_as_before_and_files_round_trip() {
        let mr = DataSource::named("mr", None, Columns::default()).unwrap();
        assert_eq!(mr, DataSource::Builtin(DatasetName::Mr));
        assert_eq!(serde_json::to_string(&mr).unwrap(), "\"mr\"");
        assert_eq!(serde_json::to_string(&DataSource::from(DatasetName::MovieReviews)).unwrap(), "\"movie-reviews\"");
        assert_eq!(serde_json::from_str::<DataSource>("\"mr\"").unwrap(), mr);
        assert_eq!(mr.to_string(), "mr");
        assert!(DataSource::from(DatasetName::MovieReviews).is_documents() && !mr.is_documents());

        let dir = Dir::new("serde");
        let path = dir.write("d.csv", &three_classes(10));
        let columns = Columns { text: Some("text".into()), text_pair: None, label: None };
        let one = DataSource::named(path.to_str().unwrap(), None, columns.clone()).unwrap();
        let split = DataSource::split_files(path.clone(), path.clone(), path.clone(), Some(TableFormat::Csv), columns).unwrap();
        for source in [one, split] {
            let json = serde_json::to_string(&source).unwrap();
            assert_eq!(serde_json::from_str::<DataSource>(&json).unwrap(), source, "{json}");
        }
    }

    #[test]
    fn built_in_corpora_take_no_column_flags() {
        let e = err(DataSource::named("mr", Some(TableFormat::Csv), Columns::default()));
        assert!(e.contains("--data mr is built in: drop them"), "{e}");
    }

    #[test]
    fn a_missing_file_or_unknown_format_is_refused_up_front() {
        let e = err(DataSource::named("mrr", None, Columns::default()));
        assert!(e.contains("--data mrr: no such file") && e.contains("mr, movie-reviews"), "{e}");
        let dir = Dir::new("format");
        let path = dir.write("d.txt", "text,label\n");
        let e = err(DataSource::named(path.to_str().unwrap(), None, Columns::default()));
        assert!(e.contains("--format csv|tsv|jsonl"), "{e}");
        assert!(DataSource::named(path.to_str().unwrap(), Some(TableFormat::Csv), Columns::default()).is_ok());
        let e = err(DataSource::split_files(path.clone(), dir.0.join("none.csv"), path.clone(), Some(TableFormat::Csv), Columns::default()));
        assert!(e.contains("--dev") && e.contains("no such file"), "{e}");
    }

    #[test]
    fn one_file_is_split_stratified_and_seeded() {
        let dir = Dir::new("one");
        let path = dir.write("d.csv", &three_classes(10));
        let source = DataSource::named(path.to_str().unwrap(), None, Columns::default()).unwrap();
        let (labels, split) = source.load(SplitSizes::default(), 7).unwrap();
        assert_eq!(labels, ["business", "sports", "world"]);
        assert_eq!((split.train.len(), split.dev.len(), split.test.len()), (24, 3, 3));
        for part in [&split.dev, &split.test] {
            let mut classes: Vec<usize> = part.iter().map(|e| e.label).collect();
            classes.sort();
            assert_eq!(classes, [0, 1, 2]);
        }
        // Ids are the rows' positions, so the split is the polarity corpora's rule on these rows.
        assert_eq!(split.dev[0].text, format!("{} news number {}", labels[split.dev[0].label], split.dev[0].id / 3));
        let (_, again) = source.load(SplitSizes::default(), 7).unwrap();
        assert_eq!(again.test, split.test);
    }

    #[test]
    fn the_users_split_keeps_its_files_and_refuses_labels_unseen_in_training() {
        let dir = Dir::new("split");
        let train = dir.write("train.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 0}\n{\"text\": \"c\", \"label\": 10}\n");
        let dev = dir.write("dev.csv", "text,label\nd,10\n");
        let test = dir.write("test.csv", "text,label\ne,0\nf,1\n");
        let source = DataSource::split_files(train.clone(), dev.clone(), test.clone(), None, Columns::default()).unwrap();
        let (labels, split) = source.load(SplitSizes::default(), 1).unwrap();
        assert_eq!(labels, ["0", "1", "10"]);
        assert_eq!(split.train.iter().map(|e| e.label).collect::<Vec<_>>(), [1, 0, 2]);
        assert_eq!((split.dev[0].text.as_str(), split.dev[0].label), ("d", 2));
        assert_eq!(split.test.iter().map(|e| e.id).collect::<Vec<_>>(), [0, 1]);

        let bad = dir.write("bad.csv", "text,label\ne,0\nf,7\n");
        let source = DataSource::split_files(train.clone(), dev.clone(), bad, None, Columns::default()).unwrap();
        let e = err(source.load(SplitSizes::default(), 1));
        assert!(e.contains("bad.csv: line 3: the label \"7\" does not occur in the training file") && e.contains("train.jsonl"), "{e}");
    }

    #[test]
    fn one_class_or_a_class_too_small_to_train_is_refused() {
        let dir = Dir::new("classes");
        let one = dir.write("one.csv", "text,label\na,x\nb,x\n");
        let e = err(DataSource::named(one.to_str().unwrap(), None, Columns::default()).unwrap().load(SplitSizes::default(), 1));
        assert!(e.contains("one.csv has one class only (\"x\")"), "{e}");
        // A single example of "rare": with 60% of each class for test, it lands there.
        let rare = dir.write("rare.csv", "text,label\na,x\nb,x\nc,x\nd,y\ne,y\nf,y\ng,rare\n");
        let sizes = SplitSizes { dev: 0.0, test: 0.6 };
        let e = err(DataSource::named(rare.to_str().unwrap(), None, Columns::default()).unwrap().load(sizes, 1));
        assert!(e.contains("the training split of") && e.contains("[\"rare\"]") && e.contains("add examples"), "{e}");
    }
}
