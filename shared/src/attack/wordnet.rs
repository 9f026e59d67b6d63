//! WordNet 3.0 from its `data.{noun,verb,adj,adv}` files (as bytes): single-word synonyms,
//! antonyms (direct, between opposed adjective clusters, and carried to inflections and to the
//! adverbs derived from adjectives), and the parts of speech each word can take, inflected forms
//! included (through [`Morphy`]).

use std::collections::{BTreeSet, HashMap};

use super::morphy::Morphy;
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
    /// For an adverb, the adjectives it is derived from (`annoyingly` -> `annoying`).
    pertains_to: BTreeSet<String>,
}

/// What the attacks need from WordNet.
#[derive(Debug, Default, Clone)]
pub struct WordNet {
    lemmas: HashMap<String, Lemma>,
    morphy: Morphy,
}

struct Synset {
    words: Vec<String>,
    /// (source word index or 0 for the whole synset, target pos, target offset, target word index)
    antonyms: Vec<(usize, char, u64, usize)>,
    /// For an adjective satellite (`s`), the head synsets it is similar to (`&` pointers).
    heads: Vec<u64>,
    /// For an adjective, the adjective synsets WordNet says to "see also" (`^`: `exciting` -> `interesting`).
    also_see: Vec<u64>,
    /// For an adverb, the adjectives it derives from (`\` pointers): (source word, adjective offset, target word).
    pertainyms: Vec<(usize, u64, usize)>,
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
                add_antonyms(&mut lemmas, a, b);
            }
            for &(source, target_offset, target_word) in &synset.pertainyms {
                let Some((_, target)) = synsets.get(&('a', target_offset)) else { continue };
                let sources = if source == 0 { synset.words.iter().collect() } else { synset.words.get(source - 1).into_iter().collect::<Vec<_>>() };
                let Some(adjective) = target.words.get(target_word.wrapping_sub(1)) else { continue };
                for adverb in sources {
                    lemmas.entry(adverb.clone()).or_default().pertains_to.insert(adjective.clone());
                }
            }
        }
        for (a, b) in cluster_antonyms(&synsets) {
            add_antonyms(&mut lemmas, a, b);
        }
        Ok(Self { lemmas, morphy: Morphy::default() })
    }

    /// Adds one of WordNet's exception lists (`noun.exc`, `verb.exc`, `adj.exc`, `adv.exc`:
    /// irregular inflections and their lemmas, as `geese goose`), which [`WordNet::pos`] uses
    /// beside the regular suffix rules.
    pub fn add_exceptions(&mut self, pos: Pos, bytes: &[u8]) -> Result<()> {
        self.morphy.add_exceptions(pos, bytes)
    }

    /// Single-word synonyms of `word` over all its senses (lower case).
    pub fn synonyms(&self, word: &str) -> Vec<&str> {
        self.lemmas.get(word).map(|l| l.synonyms.iter().map(String::as_str).collect()).unwrap_or_default()
    }

    /// Antonyms (lemmas) of `word` or of what it stands for (see [`WordNet::lemma_keys`]): direct
    /// ones, and for adjectives those between opposed clusters (each head with its similar
    /// satellites and the heads it says to "see also": `boring` against `fascinating`, `tiresome`
    /// against `exhilarating`).
    pub fn antonyms(&self, word: &str) -> Vec<&str> {
        let keys = self.lemma_keys(word);
        let all: BTreeSet<&str> = keys.iter().filter_map(|k| self.lemmas.get(k)).flat_map(|l| l.antonyms.iter().map(String::as_str)).collect();
        all.into_iter().collect()
    }

    /// Whether `a` and `b` are antonyms, inflections and derived adverbs included
    /// (`smartest`/`stupidest`, `endearingly`/`annoyingly` when their adjectives are opposed).
    pub fn are_antonyms(&self, a: &str, b: &str) -> bool {
        let theirs = self.lemma_keys(b);
        self.lemma_keys(a).iter().filter_map(|k| self.lemmas.get(k)).any(|l| theirs.iter().any(|t| l.antonyms.contains(t)))
    }

    /// The lemmas `word` stands for when asking about opposites: itself, the lemmas it inflects
    /// (`stupidest` -> `stupid`) and the adjectives an adverb derives from (`annoyingly` -> `annoying`).
    pub fn lemma_keys(&self, word: &str) -> Vec<String> {
        let mut keys = vec![word.to_string()];
        for pos in Pos::ALL {
            keys.extend(self.morphy.lemmas(word, pos).filter(|l| self.lemmas.get(l.as_str()).is_some_and(|e| e.pos.0 & pos as u8 != 0)));
        }
        let derived: Vec<String> = keys.iter().filter_map(|k| self.lemmas.get(k)).flat_map(|l| l.pertains_to.iter().cloned()).collect();
        keys.extend(derived);
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// The parts of speech `word` can take, as itself or as an inflection of a lemma (empty when
    /// WordNet knows neither).
    pub fn pos(&self, word: &str) -> PosSet {
        let own = self.lemmas.get(word).map(|l| l.pos).unwrap_or_default();
        let inflected = Pos::ALL.iter().filter(|&&pos| {
            self.morphy.lemmas(word, pos).any(|lemma| self.lemmas.get(lemma.as_str()).is_some_and(|l| l.pos.0 & pos as u8 != 0))
        });
        PosSet(inflected.fold(own.0, |bits, &pos| bits | pos as u8))
    }

    /// Number of words known.
    pub fn len(&self) -> usize {
        self.lemmas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lemmas.is_empty()
    }
}

fn add_antonyms(lemmas: &mut HashMap<String, Lemma>, a: &str, b: &str) {
    lemmas.entry(a.to_string()).or_default().antonyms.insert(b.to_string());
    lemmas.entry(b.to_string()).or_default().antonyms.insert(a.to_string());
}

/// WordNet's adjectives come in clusters: a head synset with a direct antonym, and satellites
/// similar to it. Every single word of one head's cluster is opposed to every word of its
/// antonym's cluster (WordNet's "indirect antonyms", taken cluster against cluster), which is what
/// keeps `boring` from `fascinating`; direct antonyms alone are ~1.8k adjective pairs. A head's
/// "see also" synsets share its side (`exciting` sees `interesting`, so `exhilarating`, similar to
/// `exciting`, is opposed to `tiresome`, similar to `uninteresting`).
fn cluster_antonyms(synsets: &HashMap<(char, u64), (Pos, Synset)>) -> BTreeSet<(&str, &str)> {
    let single = |w: &&String| !w.contains(['_', '-', '.', '\'']);
    let mut clusters: HashMap<u64, Vec<&str>> = HashMap::new();
    for (&(kind, offset), (pos, synset)) in synsets {
        if *pos != Pos::Adjective || kind != 'a' {
            continue;
        }
        let heads = if synset.heads.is_empty() { std::slice::from_ref(&offset) } else { synset.heads.as_slice() };
        for head in heads {
            clusters.entry(*head).or_default().extend(synset.words.iter().filter(single).map(String::as_str));
        }
    }
    // A synset's side: its cluster when it is a head, its own words when it is a satellite.
    let side = |offset: u64| -> Vec<&str> {
        match (clusters.get(&offset), synsets.get(&('a', offset))) {
            (Some(cluster), _) => cluster.clone(),
            (None, Some((_, synset))) => synset.words.iter().filter(single).map(String::as_str).collect(),
            (None, None) => Vec::new(),
        }
    };
    let mut pairs = BTreeSet::new();
    for (&(kind, offset), (pos, synset)) in synsets {
        if *pos != Pos::Adjective || kind != 'a' || !synset.heads.is_empty() {
            continue;
        }
        for &(_, target_pos, target, _) in &synset.antonyms {
            if target_pos != 'a' || !clusters.contains_key(&target) {
                continue;
            }
            let ours: Vec<&str> = std::iter::once(offset).chain(synset.also_see.iter().copied()).flat_map(&side).collect();
            let theirs = side(target);
            pairs.extend(ours.iter().flat_map(|a| theirs.iter().filter(move |b| a != *b).map(move |b| (*a, *b))));
        }
    }
    pairs
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
    let satellite = fields.next()? == "s";
    let count = usize::from_str_radix(fields.next()?, 16).ok()?;
    // A word and its lex_id take at least four bytes of the line: a larger count is a corrupt
    // line (found by fuzzing: `ffffffffff` reserved 206 GB), refused below when the fields run out.
    let mut words = Vec::with_capacity(count.min(body.len() / 4));
    for _ in 0..count {
        let word = fields.next()?;
        fields.next()?; // lex_id
        // Adjectives may carry a syntactic marker: "good(a)".
        let word = word.split('(').next()?.to_ascii_lowercase();
        words.push(word);
    }
    let pointers: usize = fields.next()?.parse().ok()?;
    let mut antonyms = Vec::new();
    let mut heads = Vec::new();
    let mut also_see = Vec::new();
    let mut pertainyms = Vec::new();
    for _ in 0..pointers {
        let symbol = fields.next()?;
        let target: u64 = fields.next()?.parse().ok()?;
        let pos = fields.next()?.chars().next()?;
        let source_target = fields.next()?;
        // Two hex digits each; a multi-byte character would split inside it.
        let hex_pair = source_target.len() == 4 && source_target.is_ascii();
        if symbol == "!" && hex_pair {
            let source = usize::from_str_radix(&source_target[..2], 16).ok()?;
            let target_word = usize::from_str_radix(&source_target[2..], 16).ok()?;
            let pos = if pos == 's' { 'a' } else { pos };
            antonyms.push((source, pos, target, target_word));
        } else if symbol == "&" && satellite {
            heads.push(target);
        } else if symbol == "^" && matches!(pos, 'a' | 's') {
            also_see.push(target);
        } else if symbol == "\\" && matches!(pos, 'a' | 's') && hex_pair {
            let source = usize::from_str_radix(&source_target[..2], 16).ok()?;
            let target_word = usize::from_str_radix(&source_target[2..], 16).ok()?;
            pertainyms.push((source, target, target_word));
        }
    }
    Some((offset, Synset { words, antonyms, heads, also_see, pertainyms }))
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
    fn adjective_clusters_are_opposed() {
        let adj = "01123148 00 a 01 good 0 002 ! 01125429 a 0101 & 01200000 a 0000 | good\n\
            01125429 00 a 01 bad 0 002 ! 01123148 a 0101 & 01300000 a 0000 | bad\n\
            01200000 00 s 02 great 0 fine 0 001 & 01123148 a 0000 | very good\n\
            01300000 00 s 01 awful 0 001 & 01125429 a 0000 | very bad\n";
        let wn = WordNet::from_data_files(&[(Pos::Adjective, adj.as_bytes())]).unwrap();
        for (a, b) in [("good", "bad"), ("great", "awful"), ("great", "bad"), ("fine", "awful"), ("awful", "good")] {
            assert!(wn.are_antonyms(a, b) && wn.are_antonyms(b, a), "{a} / {b}");
        }
        assert!(!wn.are_antonyms("great", "good") && !wn.are_antonyms("great", "fine"), "a cluster is not opposed to itself");
    }

    #[test]
    fn see_also_inflections_and_derived_adverbs_share_opposites() {
        let adj = "01123148 00 a 01 good 0 003 ! 01125429 a 0101 & 01200000 a 0000 ^ 01500000 a 0000 | good\n\
            01125429 00 a 01 bad 0 001 ! 01123148 a 0101 | bad\n\
            01200000 00 s 01 great 0 001 & 01123148 a 0000 | very good\n\
            01500000 00 a 01 kind 0 000 | kind\n";
        let adv = "00011111 02 r 01 nicely 0 001 \\ 01200000 a 0101 | in a great manner\n\
            00022222 02 r 01 badly 0 001 \\ 01125429 a 0101 | in a bad manner\n";
        let wn = WordNet::from_data_files(&[(Pos::Adjective, adj.as_bytes()), (Pos::Adverb, adv.as_bytes())]).unwrap();
        assert!(wn.are_antonyms("kind", "bad") && wn.are_antonyms("bad", "kind"), "a head's see-also is on its side");
        assert!(wn.are_antonyms("nicely", "badly"), "adverbs take their adjectives' opposites");
        assert!(wn.are_antonyms("greatest", "bad") && wn.are_antonyms("bad", "kinder"), "inflections take their lemmas' opposites");
        assert_eq!(wn.lemma_keys("nicely"), vec!["great", "nicely"]);
        assert_eq!(wn.antonyms("greater"), vec!["bad"]);
        assert!(!wn.are_antonyms("kind", "good") && !wn.are_antonyms("nicely", "great") && !wn.are_antonyms("badly", "bad"));
    }

    #[test]
    fn inflected_words_take_their_lemmas_pos() {
        let mut wn = WordNet::from_data_files(&[(Pos::Adjective, ADJ.as_bytes()), (Pos::Noun, NOUN.as_bytes())]).unwrap();
        assert_eq!(wn.pos("goods"), PosSet(Pos::Noun as u8), "noun plural by rule");
        assert!(wn.pos("better").is_empty(), "irregular forms need the exception list");
        wn.add_exceptions(Pos::Adjective, b"better good well\n").unwrap();
        assert_eq!(wn.pos("better"), PosSet(Pos::Adjective as u8));
        assert_eq!(wn.pos("fuller"), PosSet(Pos::Adjective as u8), "comparative by rule");
        assert_eq!(wn.pos("goodness"), PosSet(Pos::Noun as u8), "a lemma keeps its own part of speech");
    }

    #[test]
    fn garbage_is_an_error() {
        let err = WordNet::from_data_files(&[(Pos::Noun, b"not wordnet at all\n")]).unwrap_err().to_string();
        assert!(err.contains("data.noun line 1"), "{err}");
    }
}
