//! WordNet's lemmatiser ("morphy", as in WordNet's own `morph.c` and NLTK): an inflected word's
//! candidate lemmas for a part of speech, from the exception lists (`geese -> goose`) and the
//! regular suffix rules (`relationships -> relationship`, `deeper -> deep`). Whether a candidate
//! really is a lemma of that part of speech is the caller's lookup.

use std::collections::HashMap;

use super::wordnet::Pos;
use crate::{Error, Result};

/// Suffix rules per part of speech: (inflected ending, lemma ending), WordNet's `morph.c` order.
fn rules(pos: Pos) -> &'static [(&'static str, &'static str)] {
    match pos {
        Pos::Noun => &[("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"), ("ies", "y")],
        Pos::Verb => &[("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")],
        Pos::Adjective => &[("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
        Pos::Adverb => &[],
    }
}

/// The exception lists, by part of speech; the suffix rules need no data.
#[derive(Debug, Default, Clone)]
pub struct Morphy {
    exceptions: HashMap<(u8, String), Vec<String>>,
}

impl Morphy {
    /// Reads an exception list: one `inflected lemma [lemma ...]` per line.
    pub fn add_exceptions(&mut self, pos: Pos, bytes: &[u8]) -> Result<()> {
        let file = || format!("{}.exc", pos.file_suffix());
        let text = std::str::from_utf8(bytes).map_err(|e| Error::WordNet(format!("{}: {e}", file())))?;
        for (line_no, line) in text.lines().enumerate() {
            let mut fields = line.split_ascii_whitespace();
            let Some(inflected) = fields.next() else { continue };
            let lemmas: Vec<String> = fields.map(str::to_string).collect();
            if lemmas.is_empty() {
                return Err(Error::WordNet(format!("{} line {}: expected `inflected lemma`, found {line:?}", file(), line_no + 1)));
            }
            self.exceptions.entry((pos as u8, inflected.to_string())).or_default().extend(lemmas);
        }
        Ok(())
    }

    /// The candidate lemmas of `word` as `pos`: its exceptions, then each suffix rule that applies
    /// (the word itself is not among them).
    pub fn lemmas<'a>(&'a self, word: &'a str, pos: Pos) -> impl Iterator<Item = String> + 'a {
        let exceptions = self.exceptions.get(&(pos as u8, word.to_string())).into_iter().flatten().cloned();
        let by_rule = rules(pos).iter().filter_map(move |(ending, replacement)| {
            let stem = word.strip_suffix(ending)?;
            (!stem.is_empty()).then(|| format!("{stem}{replacement}"))
        });
        exceptions.chain(by_rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_rules_and_exceptions() {
        let mut morphy = Morphy::default();
        morphy.add_exceptions(Pos::Noun, b"geese goose\n").unwrap();
        assert_eq!(morphy.lemmas("geese", Pos::Noun).next().as_deref(), Some("goose"));
        assert!(morphy.lemmas("relationships", Pos::Noun).any(|l| l == "relationship"));
        assert!(morphy.lemmas("deeper", Pos::Adjective).any(|l| l == "deep"));
        assert!(morphy.lemmas("captures", Pos::Verb).any(|l| l == "capture"));
        assert!(morphy.lemmas("moving", Pos::Verb).any(|l| l == "move"));
        assert_eq!(morphy.lemmas("s", Pos::Noun).count(), 0, "an empty stem is no lemma");
        assert_eq!(morphy.lemmas("quickly", Pos::Adverb).count(), 0);
    }

    #[test]
    fn a_line_without_a_lemma_is_an_error() {
        let err = Morphy::default().add_exceptions(Pos::Verb, b"abetted abet\nlonely\n").unwrap_err().to_string();
        assert!(err.contains("verb.exc line 2"), "{err}");
    }
}
