//! WordNet 3.0 from its `data.{noun,verb,adj,adv}` files (as bytes): single-word synonyms,
//! direct antonyms, and the parts of speech each word can take.

use std::collections::{BTreeSet, HashMap};

use crate::{Error, Result};

/// A WordNet part of speech, as a bit in [`PosSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pos {
    Noun = 1,
    Verb = 2,
    Adjective = 4,
    Adverb = 8,
}

impl Pos {
    /// The four data files, in order.
    pub const ALL: [Pos; 4] = [Pos::Noun, Pos::Verb, Pos::Adjective, Pos::Adverb];

    /// The data file's suffix (`data.noun`, ...).
    pub fn file_suffix(self) -> &'static str {
        match self {
            Pos::Noun => "noun",
            Pos::Verb => "verb",
            Pos::Adjective => "adj",
            Pos::Adverb => "adv",
        }
    }
}

/// The parts of speech a word can take, as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PosSet(pub u8);

impl PosSet {
    /// Whether two words share a part of speech.
    pub fn intersects(self, other: PosSet) -> bool {
        self.0 & other.0 != 0
    }

    /// The set with nouns and verbs merged (a noun may stand for a verb and back), for
    /// TextFooler's `allow_verb_noun_swap`.
    pub fn with_nouns_as_verbs(self) -> PosSet {
        let noun_or_verb = Pos::Noun as u8 | Pos::Verb as u8;
        if self.0 & noun_or_verb != 0 { PosSet(self.0 | noun_or_verb) } else { self }
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

#[derive(Debug, Default, Clone)]
struct Lemma {
    pos: PosSet,
    synonyms: BTreeSet<String>,
    antonyms: BTreeSet<String>,
}

/// What the attacks need from WordNet.
#[derive(Debug, Default, Clone)]
pub struct WordNet {
    lemmas: HashMap<String, Lemma>,
}

struct Synset {
    words: Vec<String>,
    /// (source word index or 0 for the whole synset, target pos, target offset, target word index)
    antonyms: Vec<(usize, char, u64, usize)>,
}

impl WordNet {
    /// Parses the four data files (`data.noun`, `data.verb`, `data.adj`, `data.adv`).
    pub fn from_data_files(files: &[(Pos, &[u8])]) -> Result<Self> {
        let mut synsets: HashMap<(char, u64), (Pos, Synset)> = HashMap::new();
        for &(pos, bytes) in files {
            let text = std::str::from_utf8(bytes).map_err(|e| Error::WordNet(format!("data.{}: {e}", pos.file_suffix())))?;
            for (line_no, line) in text.lines().enumerate() {
                if line.starts_with("  ") || line.trim().is_empty() {
                    continue; // licence header
                }
                let (offset, synset) = parse_synset(line)
                    .ok_or_else(|| Error::WordNet(format!("data.{} line {}: not a synset record", pos.file_suffix(), line_no + 1)))?;
                synsets.insert((file_char(pos), offset), (pos, synset));
            }
        }
        if synsets.is_empty() {
            return Err(Error::WordNet("no synsets found: pass WordNet's data.* files".into()));
        }
        let mut lemmas: HashMap<String, Lemma> = HashMap::new();
        for (pos, synset) in synsets.values() {
            let singles: Vec<&String> = synset.words.iter().filter(|w| !w.contains(['_', '-', '.', '\''])).collect();
            for word in &singles {
                let lemma = lemmas.entry((*word).clone()).or_default();
                lemma.pos.0 |= *pos as u8;
                lemma.synonyms.extend(singles.iter().filter(|w| **w != *word).map(|w| (*w).clone()));
            }
            for &(source, target_pos, target_offset, target_word) in &synset.antonyms {
                let Some((_, target)) = synsets.get(&(target_pos, target_offset)) else { continue };
                let (Some(a), Some(b)) = (synset.words.get(source.wrapping_sub(1)), target.words.get(target_word.wrapping_sub(1))) else {
                    continue;
                };
                lemmas.entry(a.clone()).or_default().antonyms.insert(b.clone());
                lemmas.entry(b.clone()).or_default().antonyms.insert(a.clone());
            }
        }
        Ok(Self { lemmas })
    }

    /// Single-word synonyms of `word` over all its senses (lower case).
    pub fn synonyms(&self, word: &str) -> Vec<&str> {
        self.lemmas.get(word).map(|l| l.synonyms.iter().map(String::as_str).collect()).unwrap_or_default()
    }

    /// Direct antonyms of `word`.
    pub fn antonyms(&self, word: &str) -> Vec<&str> {
        self.lemmas.get(word).map(|l| l.antonyms.iter().map(String::as_str).collect()).unwrap_or_default()
    }

    /// Whether `a` and `b` are direct antonyms.
    pub fn are_antonyms(&self, a: &str, b: &str) -> bool {
        self.lemmas.get(a).is_some_and(|l| l.antonyms.contains(b))
    }

    /// The parts of speech `word` can take (empty when WordNet does not know it).
    pub fn pos(&self, word: &str) -> PosSet {
        self.lemmas.get(word).map(|l| l.pos).unwrap_or_default()
    }

    /// Number of words known.
    pub fn len(&self) -> usize {
        self.lemmas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lemmas.is_empty()
    }
}

fn file_char(pos: Pos) -> char {
    match pos {
        Pos::Noun => 'n',
        Pos::Verb => 'v',
        Pos::Adjective => 'a',
        Pos::Adverb => 'r',
    }
}

/// `offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt (symbol offset pos src/tgt)* ... | gloss`
fn parse_synset(line: &str) -> Option<(u64, Synset)> {
    let body = line.split(" | ").next()?;
    let mut fields = body.split_ascii_whitespace();
    let offset: u64 = fields.next()?.parse().ok()?;
    fields.next()?; // lex_filenum
    fields.next()?; // ss_type
    let count = usize::from_str_radix(fields.next()?, 16).ok()?;
    let mut words = Vec::with_capacity(count);
    for _ in 0..count {
        let word = fields.next()?;
        fields.next()?; // lex_id
        // Adjectives may carry a syntactic marker: "good(a)".
        let word = word.split('(').next()?.to_ascii_lowercase();
        words.push(word);
    }
    let pointers: usize = fields.next()?.parse().ok()?;
    let mut antonyms = Vec::new();
    for _ in 0..pointers {
        let symbol = fields.next()?;
        let target: u64 = fields.next()?.parse().ok()?;
        let pos = fields.next()?.chars().next()?;
        let source_target = fields.next()?;
        if symbol == "!" && source_target.len() == 4 {
            let source = usize::from_str_radix(&source_target[..2], 16).ok()?;
            let target_word = usize::from_str_radix(&source_target[2..], 16).ok()?;
            let pos = if pos == 's' { 'a' } else { pos };
            antonyms.push((source, pos, target, target_word));
        }
    }
    Some((offset, Synset { words, antonyms }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADJ: &str = "  1 licence header line\n\
        01123148 00 a 02 good(a) 1 full 0 001 ! 01125429 a 0101 | having desirable qualities\n\
        01125429 00 a 01 bad 0 001 ! 01123148 a 0101 | having undesirable qualities\n";
    const NOUN: &str = "04723816 07 n 03 good 0 goodness 0 commodity_item 0 000 | moral excellence\n";

    #[test]
    fn parses_synonyms_antonyms_and_pos() {
        let wn = WordNet::from_data_files(&[(Pos::Adjective, ADJ.as_bytes()), (Pos::Noun, NOUN.as_bytes())]).unwrap();
        assert_eq!(wn.synonyms("good"), vec!["full", "goodness"]);
        assert_eq!(wn.antonyms("good"), vec!["bad"]);
        assert!(wn.are_antonyms("bad", "good"));
        assert_eq!(wn.pos("good"), PosSet(Pos::Adjective as u8 | Pos::Noun as u8));
        assert!(wn.pos("commodity_item").is_empty(), "multi-word entries are not substitutes");
    }

    #[test]
    fn garbage_is_an_error() {
        let err = WordNet::from_data_files(&[(Pos::Noun, b"not wordnet at all\n")]).unwrap_err().to_string();
        assert!(err.contains("data.noun line 1"), "{err}");
    }
}
