//! Label sets: read from a user's data and sorted, rows turned into examples under them, and
//! the checks that a split trains every class and a saved model knows the data's labels.

use anyhow::{Result, bail};

use super::Example;
use super::table::Row;

/// The distinct labels, sorted: numerically when every label is an integer (`2` before `10`),
/// else lexicographically. Their order is the head's output order.
pub fn label_set<'a>(labels: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut set: Vec<String> = labels.into_iter().map(str::to_string).collect();
    set.sort();
    set.dedup();
    let numbers: Option<Vec<i128>> = set.iter().map(|l| l.parse::<i128>().ok()).collect();
    if let Some(numbers) = numbers {
        let mut pairs: Vec<(i128, String)> = numbers.into_iter().zip(set).collect();
        pairs.sort();
        set = pairs.into_iter().map(|(_, l)| l).collect();
    }
    set
}

/// Refuses a label set a classifier cannot be trained on.
pub fn require_two_classes(labels: &[String], file: &str) -> Result<()> {
    match labels {
        [] => bail!("{file} holds no examples"),
        [only] => bail!("{file} has one class only ({only:?}): a classifier needs examples of at least two labels"),
        _ => Ok(()),
    }
}

/// The rows as examples (ids: their 0-based position among the rows) under `labels`; a label
/// outside the set is an error naming its line, with `why` saying where the set came from.
pub fn to_examples(rows: Vec<Row>, labels: &[String], file: &str, why: &str) -> Result<Vec<Example>> {
    rows.into_iter()
        .enumerate()
        .map(|(id, row)| match labels.iter().position(|l| *l == row.label) {
            Some(label) => Ok(Example { id, text: row.text, label }),
            None => bail!(
                "{file}: line {}: the label {:?} does not occur in {why} (its labels are {labels:?}): correct it, or add training examples of it",
                row.line,
                row.label
            ),
        })
        .collect()
}

/// Refuses a training set that lacks a class (`what` names it, `fix` says what to change).
pub fn require_every_class(labels: &[String], train: &[Example], what: &str, fix: &str) -> Result<()> {
    let mut seen = vec![false; labels.len()];
    for example in train {
        seen[example.label] = true;
    }
    let missing: Vec<&String> = labels.iter().zip(&seen).filter(|(_, seen)| !**seen).map(|(l, _)| l).collect();
    if !missing.is_empty() {
        bail!("{what} has no example of the class(es) {missing:?}: {fix}");
    }
    Ok(())
}

/// Refuses a saved model (`what`: a classifier, scores or a ticket) trained on other labels
/// than the data's, or on the same ones in another order.
pub fn require_same_labels(trained: &[String], data: &[String], what: &str) -> Result<()> {
    if trained != data {
        bail!(
            "{what} was trained on the labels {trained:?}, and the data has {data:?}: give the --data it was trained on \
             (the same labels, so that its outputs mean the same classes)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(labels: &[&str]) -> Vec<String> {
        label_set(labels.iter().copied())
    }

    #[test]
    fn integer_labels_sort_numerically_and_others_lexicographically() {
        assert_eq!(set(&["10", "2", "-1", "2", "0"]), ["-1", "0", "2", "10"]);
        assert_eq!(set(&["world", "business", "sports", "business"]), ["business", "sports", "world"]);
        // One non-integer label makes the whole set lexicographic.
        assert_eq!(set(&["10", "2", "x"]), ["10", "2", "x"]);
        assert_eq!(set(&["positive", "negative"]), ["negative", "positive"]);
    }

    #[test]
    fn one_class_is_refused() {
        let e = require_two_classes(&set(&["a", "a"]), "x.csv").unwrap_err().to_string();
        assert!(e.contains("x.csv has one class only (\"a\")") && e.contains("at least two"), "{e}");
        assert!(require_two_classes(&set(&["a", "b"]), "x.csv").is_ok());
    }

    #[test]
    fn rows_become_examples_and_unknown_labels_name_their_line() {
        let rows = vec![Row { line: 2, text: "a".into(), label: "y".into() }, Row { line: 4, text: "b".into(), label: "x".into() }];
        let labels = set(&["x", "y"]);
        let examples = to_examples(rows.clone(), &labels, "t.csv", "the training file").unwrap();
        assert_eq!(examples, vec![Example { id: 0, text: "a".into(), label: 1 }, Example { id: 1, text: "b".into(), label: 0 }]);
        let e = to_examples(rows, &set(&["x"]), "dev.csv", "the training file train.csv").unwrap_err().to_string();
        assert!(e.contains("dev.csv: line 2: the label \"y\" does not occur in the training file train.csv"), "{e}");
    }

    #[test]
    fn a_class_missing_from_training_is_named() {
        let labels = set(&["a", "b", "c"]);
        let train = vec![Example { id: 0, text: "t".into(), label: 0 }, Example { id: 1, text: "u".into(), label: 2 }];
        let e = require_every_class(&labels, &train, "the training split", "add examples").unwrap_err().to_string();
        assert!(e.contains("the training split has no example of the class(es) [\"b\"]: add examples"), "{e}");
    }

    #[test]
    fn other_labels_are_refused() {
        let e = require_same_labels(&set(&["negative", "positive"]), &set(&["a", "b", "c"]), "the ticket t.safetensors").unwrap_err().to_string();
        assert!(e.contains("the ticket t.safetensors was trained on the labels [\"negative\", \"positive\"]") && e.contains("--data"), "{e}");
        assert!(require_same_labels(&set(&["a"]), &set(&["a"]), "x").is_ok());
    }
}
