//! A user's labelled table: CSV, TSV or JSON Lines, one example per row, read into rows of
//! text and label strings (a sentence pair's two texts joined by the tokenizer's separator).
//! Errors name the line the row starts on (a CSV's header is line 1) and say how to fix it.

use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use rticket_core::tokenize::SEGMENT_SEPARATOR;
use serde::{Deserialize, Serialize};

/// How a table file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    /// Comma-separated with a header row; fields holding commas, quotes or newlines are quoted.
    Csv,
    /// Tab-separated with a header row, unquoted (as GLUE's files): no tab or newline in a field.
    Tsv,
    /// One JSON object per line.
    #[value(alias = "json-lines")]
    Jsonl,
}

impl TableFormat {
    /// The format a file's extension names (`.csv`, `.tsv`, `.jsonl`, `.json-lines`).
    pub fn from_extension(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "tsv" => Some(Self::Tsv),
            "jsonl" | "json-lines" => Some(Self::Jsonl),
            _ => None,
        }
    }

    /// `format`, or the one `path`'s extension names.
    pub fn of(path: &Path, format: Option<Self>) -> Result<Self> {
        format.or_else(|| Self::from_extension(path)).with_context(|| {
            format!("cannot tell the format of {} from its extension (.csv, .tsv, .jsonl): pass --format csv|tsv|jsonl", path.display())
        })
    }
}

/// Which columns (CSV/TSV header names, JSON keys) hold the text, the optional second text of
/// a sentence pair, and the label; `None` takes the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Columns {
    /// Default: a pair of [`DEFAULT_PAIR_COLUMNS`] when the table has one, else `text`, else `sentence`.
    pub text: Option<String>,
    /// The second segment of a sentence pair (with `text` the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_pair: Option<String>,
    /// Default: `label`.
    pub label: Option<String>,
}

/// Text columns tried in turn when none is named.
const DEFAULT_TEXT_COLUMNS: [&str; 2] = ["text", "sentence"];
/// Sentence-pair columns tried in turn when no text column is named (GLUE's names: MRPC/RTE,
/// MNLI/SNLI, QNLI).
const DEFAULT_PAIR_COLUMNS: [(&str, &str); 3] = [("sentence1", "sentence2"), ("premise", "hypothesis"), ("question", "sentence")];
const DEFAULT_LABEL_COLUMN: &str = "label";

/// Where a table's text (one column, or the two of a pair) and label are.
struct Layout {
    text: usize,
    pair: Option<usize>,
    label: usize,
}

impl Layout {
    /// Finds the columns in `found` (header names or the first JSON object's keys).
    fn find(found: &[&str], columns: &Columns) -> Result<Self> {
        let position = |name: &str| found.iter().position(|f| *f == name);
        let default_pair = DEFAULT_PAIR_COLUMNS.iter().find_map(|(a, b)| Some((position(a)?, position(b)?)));
        let (text, pair) = match default_pair {
            Some((text, pair)) if columns.text.is_none() && columns.text_pair.is_none() => (text, Some(pair)),
            _ => {
                let text = find_column(found, columns.text.as_deref(), &DEFAULT_TEXT_COLUMNS, "text", "--text-column")?;
                let pair = match &columns.text_pair {
                    Some(name) => Some(find_column(found, Some(name), &[], "second text", "--text-pair-column")?),
                    None => None,
                };
                (text, pair)
            }
        };
        let label = find_column(found, columns.label.as_deref(), &[DEFAULT_LABEL_COLUMN], "label", "--label-column")?;
        Ok(Self { text, pair, label })
    }

    /// The text columns in reading order: the text, then a pair's second text.
    fn texts(&self) -> impl Iterator<Item = usize> {
        std::iter::once(self.text).chain(self.pair)
    }
}

/// One row of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The line of the file the row starts on (1-based; a CSV's header is line 1).
    pub line: usize,
    /// The text, trimmed (never empty).
    pub text: String,
    /// The label as written (trimmed; a JSON integer in its decimal form).
    pub label: String,
}

/// Reads the table in `path`.
pub fn read_table(path: &Path, format: TableFormat, columns: &Columns) -> Result<Vec<Row>> {
    let bytes = crate::model_files::read_or(path, "data file", "check the path given to --data, --train, --dev or --test")?;
    parse_table(&bytes, format, columns).with_context(|| format!("reading the data file {}", path.display()))
}

/// Parses a table from its bytes (UTF-8, a byte-order mark allowed).
pub fn parse_table(bytes: &[u8], format: TableFormat, columns: &Columns) -> Result<Vec<Row>> {
    let text = utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))?;
    let rows = match format {
        TableFormat::Csv => parse_delimited(text, b',', columns)?,
        TableFormat::Tsv => parse_delimited(text, b'\t', columns)?,
        TableFormat::Jsonl => parse_jsonl(text, columns)?,
    };
    if rows.is_empty() {
        bail!("no rows: the file holds no examples");
    }
    Ok(rows)
}

fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at - bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
        anyhow::anyhow!("line {line}: byte 0x{:02x} (column {column}) is not UTF-8: save the file as UTF-8", bytes[at])
    })
}

/// The column `wanted` names, or the first default present; the error lists what there is.
fn find_column(found: &[&str], wanted: Option<&str>, defaults: &[&str], what: &str, flag: &str) -> Result<usize> {
    let names: Vec<&str> = wanted.map_or_else(|| defaults.to_vec(), |w| vec![w]);
    names.iter().find_map(|name| found.iter().position(|f| f == name)).with_context(|| {
        let names = names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(" or ");
        let found = found.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(", ");
        format!("no {what} column {names} (the columns are {found}): name it with {flag}")
    })
}

/// One segment's text, trimmed; empty, or holding the pair separator itself, is an error.
fn segment(line: usize, text: &str, column: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        bail!("line {line}: the text (column {column:?}) is empty: fill it in or delete the row");
    }
    if text.contains(SEGMENT_SEPARATOR) {
        bail!("line {line}: the text (column {column:?}) holds {SEGMENT_SEPARATOR}, which joins the two texts of a pair: give the second text its own column (--text-pair-column)");
    }
    Ok(text.to_string())
}

/// A row from its fields: `texts` holds one (column, text) or the two of a pair, which become
/// one text joined by the separator the tokenizer reads as BERT's pair encoding.
fn text_and_label(line: usize, texts: &[(&str, &str)], label: String, label_column: &str) -> Result<Row> {
    let segments = texts.iter().map(|(column, text)| segment(line, text, column)).collect::<Result<Vec<_>>>()?;
    let text = segments.join(&format!(" {SEGMENT_SEPARATOR} "));
    let label = label.trim().to_string();
    if label.is_empty() {
        bail!("line {line}: the label (column {label_column:?}) is empty: fill it in or delete the row");
    }
    Ok(Row { line, text, label })
}

fn parse_delimited(text: &str, delimiter: u8, columns: &Columns) -> Result<Vec<Row>> {
    let tsv = delimiter == b'\t';
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).quoting(!tsv).has_headers(true).flexible(false).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| delimited_error(e, tsv))?.clone();
    let found: Vec<&str> = header.iter().map(str::trim).collect();
    if found.iter().all(|f| f.is_empty()) {
        bail!("line 1: no header row: the first line must name the columns (e.g. text{}label)", if tsv { "\\t" } else { "," });
    }
    let layout = Layout::find(&found, columns)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| delimited_error(e, tsv))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let texts: Vec<(&str, &str)> = layout.texts().map(|at| (found[at], &record[at])).collect();
        rows.push(text_and_label(line, &texts, record[layout.label].to_string(), found[layout.label])?);
    }
    Ok(rows)
}

/// A CSV reader's error, with its line and the likely fix.
fn delimited_error(error: csv::Error, tsv: bool) -> anyhow::Error {
    let line = error.position().map(|p| p.line());
    match (error.kind(), line) {
        (csv::ErrorKind::UnequalLengths { expected_len, len, .. }, Some(line)) => {
            let fix = if tsv {
                "a field must not hold a tab; every row needs one field per column"
            } else {
                "quote a field that holds a comma (\"a, b\"); every row needs one field per column"
            };
            anyhow::anyhow!("line {line}: {len} fields where the header has {expected_len}: {fix}")
        }
        (_, Some(line)) => anyhow::anyhow!("line {line}: not valid {}: {error}", if tsv { "TSV" } else { "CSV" }),
        (_, None) => anyhow::anyhow!("not valid {}: {error}", if tsv { "TSV" } else { "CSV" }),
    }
}

fn parse_jsonl(text: &str, columns: &Columns) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut keys: Option<(Vec<String>, String)> = None;
    for (index, content) in text.lines().enumerate() {
        let line = index + 1;
        if content.trim().is_empty() {
            continue;
        }
        let object: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(content) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(other) => bail!("line {line}: {} is not a JSON object: write one object per line, e.g. {{\"text\": \"...\", \"label\": \"...\"}}", kind(&other)),
            Err(e) => bail!("line {line}: not valid JSON ({e}): write one object per line"),
        };
        // The keys are chosen on the first row, as a CSV's columns are on its header.
        let (text_keys, label_key) = match &keys {
            Some(keys) => keys.clone(),
            None => {
                let found: Vec<&str> = object.keys().map(String::as_str).collect();
                let layout = Layout::find(&found, columns).with_context(|| format!("line {line}"))?;
                let texts = layout.texts().map(|at| found[at].to_string()).collect();
                keys.insert((texts, found[layout.label].to_string())).clone()
            }
        };
        let missing = |key: &str| {
            let found = object.keys().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ");
            anyhow::anyhow!("line {line}: no {key:?} key (the keys are {found}): every line needs the keys the first one has")
        };
        let mut texts = Vec::with_capacity(text_keys.len());
        for key in &text_keys {
            match object.get(key).ok_or_else(|| missing(key))? {
                serde_json::Value::String(text) => texts.push((key.as_str(), text.as_str())),
                other => bail!("line {line}: the text ({key:?}) is {}, not a string", kind(other)),
            }
        }
        let label = match object.get(&label_key).ok_or_else(|| missing(&label_key))? {
            serde_json::Value::String(label) => label.clone(),
            serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
            other => bail!("line {line}: the label ({label_key:?}) is {}: a label is a string or an integer", kind(other)),
        };
        rows.push(text_and_label(line, &texts, label, &label_key)?);
    }
    Ok(rows)
}

/// A JSON value's kind, for messages (`null`, `an array`, `the number 0.5`).
fn kind(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(b) => format!("the boolean {b}"),
        serde_json::Value::Number(n) => format!("the number {n}"),
        serde_json::Value::String(s) => format!("the string {s:?}"),
        serde_json::Value::Array(_) => "an array".into(),
        serde_json::Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Vec<Row>> {
        parse_table(text.as_bytes(), TableFormat::Csv, &Columns::default())
    }

    fn err(result: Result<Vec<Row>>) -> String {
        format!("{:#}", result.expect_err("must be refused"))
    }

    fn row(line: usize, text: &str, label: &str) -> Row {
        Row { line, text: text.into(), label: label.into() }
    }

    #[test]
    fn a_missing_data_file_names_the_options_not_the_models_set_up() {
        let e = format!("{:#}", read_table(Path::new("no/such/reviews.csv"), TableFormat::Csv, &Columns::default()).unwrap_err());
        assert!(e.contains("no/such/reviews.csv") && e.contains("--data, --train, --dev or --test"), "{e}");
        assert!(!e.contains("model.safetensors"), "{e}");
    }

    #[test]
    fn formats_come_from_the_extension_or_the_flag() {
        assert_eq!(TableFormat::from_extension(Path::new("a/b.CSV")), Some(TableFormat::Csv));
        assert_eq!(TableFormat::from_extension(Path::new("b.tsv")), Some(TableFormat::Tsv));
        assert_eq!(TableFormat::from_extension(Path::new("b.jsonl")), Some(TableFormat::Jsonl));
        assert_eq!(TableFormat::from_extension(Path::new("b.json-lines")), Some(TableFormat::Jsonl));
        assert_eq!(TableFormat::from_extension(Path::new("b.txt")), None);
        assert_eq!(TableFormat::of(Path::new("b.txt"), Some(TableFormat::Tsv)).unwrap(), TableFormat::Tsv);
        let e = format!("{:#}", TableFormat::of(Path::new("b.txt"), None).unwrap_err());
        assert!(e.contains("b.txt") && e.contains("--format"), "{e}");
    }

    #[test]
    fn csv_reads_quotes_bom_any_column_order_and_trims() {
        let rows = csv("\u{feff}id,label,text\n1,pos,\" a \"\"quoted\"\", gem \"\n2,neg,\"two\nlines\"\n3,neg,plain\n").unwrap();
        assert_eq!(rows, vec![row(2, "a \"quoted\", gem", "pos"), row(3, "two\nlines", "neg"), row(5, "plain", "neg")]);
    }

    #[test]
    fn the_text_column_defaults_to_text_then_sentence_and_can_be_named() {
        let rows = csv("sentence,label\nhello,1\n").unwrap();
        assert_eq!(rows, vec![row(2, "hello", "1")]);
        let rows = csv("sentence,text,label\nnot this,this,1\n").unwrap();
        assert_eq!(rows[0].text, "this");
        let columns = Columns { text: Some("review".into()), text_pair: None, label: Some("stars".into()) };
        let rows = parse_table(b"review,stars\ngood,5\n", TableFormat::Csv, &columns).unwrap();
        assert_eq!(rows, vec![row(2, "good", "5")]);
    }

    #[test]
    fn tsv_is_unquoted() {
        let rows = parse_table(b"text\tlabel\nsays \"hi, there\t1\n\"quoted\" start\t0\n", TableFormat::Tsv, &Columns::default()).unwrap();
        assert_eq!(rows, vec![row(2, "says \"hi, there", "1"), row(3, "\"quoted\" start", "0")]);
        let e = err(parse_table(b"text\tlabel\na\tb\t1\n", TableFormat::Tsv, &Columns::default()));
        assert!(e.contains("line 2: 3 fields where the header has 2") && e.contains("tab"), "{e}");
    }

    #[test]
    fn jsonl_takes_string_and_integer_labels_and_skips_blank_lines() {
        let text = "{\"text\": \"a\", \"label\": \"sports\"}\n\n{\"label\": 3, \"text\": \" b \", \"other\": null}\n";
        let rows = parse_table(text.as_bytes(), TableFormat::Jsonl, &Columns::default()).unwrap();
        assert_eq!(rows, vec![row(1, "a", "sports"), row(3, "b", "3")]);
        let rows = parse_table(b"{\"sentence\": \"a\", \"y\": -1}\n", TableFormat::Jsonl, &Columns { text: None, text_pair: None, label: Some("y".into()) }).unwrap();
        assert_eq!(rows, vec![row(1, "a", "-1")]);
    }

    #[test]
    fn a_missing_column_lists_the_columns_found() {
        let e = err(csv("review,label\ngood,1\n"));
        assert!(e.contains("no text column \"text\" or \"sentence\"") && e.contains("\"review\", \"label\"") && e.contains("--text-column"), "{e}");
        let e = err(csv("text,class\ngood,1\n"));
        assert!(e.contains("no label column \"label\"") && e.contains("\"class\"") && e.contains("--label-column"), "{e}");
        let e = err(parse_table(b"{\"text\": \"a\", \"y\": 1}\n", TableFormat::Jsonl, &Columns::default()));
        assert!(e.contains("line 1") && e.contains("\"text\", \"y\"") && e.contains("--label-column"), "{e}");
        let e = err(parse_table(b"{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\"}\n", TableFormat::Jsonl, &Columns::default()));
        assert!(e.contains("line 2: no \"label\" key"), "{e}");
    }

    #[test]
    fn empty_text_or_label_names_its_line() {
        let e = err(csv("text,label\ngood,1\n  ,0\n"));
        assert!(e.contains("line 3: the text (column \"text\") is empty") && e.contains("delete the row"), "{e}");
        let e = err(csv("text,label\ngood,\n"));
        assert!(e.contains("line 2: the label (column \"label\") is empty"), "{e}");
        let e = err(parse_table(b"{\"text\": \"\", \"label\": 1}\n", TableFormat::Jsonl, &Columns::default()));
        assert!(e.contains("line 1: the text"), "{e}");
    }

    #[test]
    fn non_utf8_bytes_name_their_line() {
        let e = err(parse_table(b"text,label\ngood,1\ncaf\xe9,0\n", TableFormat::Csv, &Columns::default()));
        assert!(e.contains("line 3: byte 0xe9 (column 4) is not UTF-8") && e.contains("save the file as UTF-8"), "{e}");
        let e = err(parse_table(b"{\"text\": \"caf\xe9\", \"label\": 1}\n", TableFormat::Jsonl, &Columns::default()));
        assert!(e.contains("line 1: byte 0xe9"), "{e}");
    }

    #[test]
    fn ragged_rows_name_their_line_and_the_fix() {
        let e = err(csv("text,label\ngood,1\nbad, really,0\n"));
        assert!(e.contains("line 3: 3 fields where the header has 2") && e.contains("quote a field"), "{e}");
        let e = err(csv("text,label\ngood\n"));
        assert!(e.contains("line 2: 1 fields where the header has 2"), "{e}");
    }

    #[test]
    fn bad_json_lines_and_labels_are_refused() {
        let e = err(parse_table(b"{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\",\n", TableFormat::Jsonl, &Columns::default()));
        assert!(e.contains("line 2: not valid JSON"), "{e}");
        let e = err(parse_table(b"[\"a\", 1]\n", TableFormat::Jsonl, &Columns::default()));
        assert!(e.contains("line 1: an array is not a JSON object"), "{e}");
        let e = err(parse_table(b"{\"text\": \"a\", \"label\": 0.5}\n", TableFormat::Jsonl, &Columns::default()));
        assert!(e.contains("line 1: the label (\"label\") is the number 0.5: a label is a string or an integer"), "{e}");
        let e = err(parse_table(b"{\"text\": 7, \"label\": 1}\n", TableFormat::Jsonl, &Columns::default()));
        assert!(e.contains("line 1: the text (\"text\") is the number 7, not a string"), "{e}");
    }

    #[test]
    fn a_table_without_rows_is_refused() {
        assert!(err(csv("text,label\n")).contains("no rows"));
        assert!(err(parse_table(b"\n\n", TableFormat::Jsonl, &Columns::default())).contains("no rows"));
        assert!(err(csv("")).contains("line 1: no header row"));
    }

    #[test]
    fn sentence_pairs_are_found_by_their_glue_names_or_named_and_joined_by_the_separator() {
        let tsv = |text: &str, columns: &Columns| parse_table(text.as_bytes(), TableFormat::Tsv, columns);
        let rows = tsv("id\tsentence1\tsentence2\tlabel\n7\tA man sings.\tA person sings.\t1\n", &Columns::default()).unwrap();
        assert_eq!(rows, vec![row(2, "A man sings. [SEP] A person sings.", "1")]);
        let rows = parse_table(b"{\"hypothesis\": \"b\", \"premise\": \"a\", \"label\": \"entailment\"}\n", TableFormat::Jsonl, &Columns::default()).unwrap();
        assert_eq!(rows, vec![row(1, "a [SEP] b", "entailment")]);
        let rows = csv("question,sentence,label\nwho?,him.,0\n").unwrap();
        assert_eq!(rows[0].text, "who? [SEP] him.", "QNLI's pair before the single `sentence`");
        let named = Columns { text: Some("q1".into()), text_pair: Some("q2".into()), label: None };
        assert_eq!(tsv("q1\tq2\tlabel\nx\ty\t1\n", &named).unwrap()[0].text, "x [SEP] y");
        let single = Columns { text: Some("sentence1".into()), ..Columns::default() };
        assert_eq!(tsv("sentence1\tsentence2\tlabel\nx\ty\t1\n", &single).unwrap()[0].text, "x", "a named text column reads one text");
        let e = err(tsv("sentence1\tsentence2\tlabel\nx\t \t1\n", &Columns::default()));
        assert!(e.contains("line 2") && e.contains("\"sentence2\"") && e.contains("empty"), "{e}");
        let e = err(tsv("text\tlabel\na [SEP] b\t1\n", &Columns::default()));
        assert!(e.contains("line 2") && e.contains("--text-pair-column"), "{e}");
        let missing = Columns { text_pair: Some("other".into()), ..Columns::default() };
        let e = err(tsv("text\tlabel\na\t1\n", &missing));
        assert!(e.contains("\"other\"") && e.contains("--text-pair-column"), "{e}");
    }
}
