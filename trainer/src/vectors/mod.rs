//! Word vectors for the attacks' substitutes: reading GloVe, counter-fitting it to WordNet's
//! synonyms and antonyms, and nearest neighbours by cosine.

mod counter_fit;
mod glove;
mod nearest;
mod quality;

use std::collections::HashMap;

pub use counter_fit::{Constraints, CounterFitting, counter_fit};
pub use glove::{GLOVE_DIR, read_glove};
pub use nearest::nearest;
pub use quality::{QualityReport, quantile, quality_report};

/// Words and their vectors, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct WordVectors {
    pub words: Vec<String>,
    pub dim: usize,
    /// `[words, dim]`.
    pub values: Vec<f32>,
}

impl WordVectors {
    /// The vector of word `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Word -> row.
    pub fn index(&self) -> HashMap<&str, u32> {
        self.words.iter().enumerate().map(|(i, w)| (w.as_str(), i as u32)).collect()
    }

    /// Scales every vector to unit length (all-zero vectors stay zero).
    pub fn normalise(&mut self) {
        for row in self.values.chunks_exact_mut(self.dim) {
            normalise(row);
        }
    }

    /// The first `limit` words (the files list words by frequency) that `keep` accepts.
    pub fn restricted(&self, limit: usize, keep: impl Fn(&str) -> bool) -> Self {
        let rows: Vec<usize> = (0..self.len()).filter(|&i| keep(&self.words[i])).take(limit).collect();
        Self {
            words: rows.iter().map(|&i| self.words[i].clone()).collect(),
            dim: self.dim,
            values: rows.iter().flat_map(|&i| self.row(i).iter().copied()).collect(),
        }
    }

    /// Cosine of two unit rows.
    pub fn cosine(&self, a: usize, b: usize) -> f32 {
        dot(self.row(a), self.row(b))
    }
}

/// Whether a vocabulary entry is a word an attack may swap in: lower-case letters, at least two,
/// with inner hyphens or apostrophes allowed (`well-made`, `o'clock`); no digits or punctuation.
pub fn is_substitutable(word: &str) -> bool {
    let parts = word.split(['-', '\'']);
    word.len() >= 2 && parts.clone().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
}

pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(crate) fn normalise(row: &mut [f32]) {
    let norm = dot(row, row).sqrt();
    if norm > 0.0 {
        row.iter_mut().for_each(|v| *v /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutable_words_are_lower_case_letters_with_inner_joiners() {
        for ok in ["movie", "well-made", "o'clock", "ok"] {
            assert!(is_substitutable(ok), "{ok}");
        }
        for bad in ["a", "Movie", "1990s", "-ish", "it's-", "don''t", ",", "'s", "e.g."] {
            assert!(!is_substitutable(bad), "{bad}");
        }
    }

    #[test]
    fn restriction_keeps_frequency_order_and_rows() {
        let v = WordVectors { words: ["the", "good", "1", "bad"].map(String::from).to_vec(), dim: 2, values: vec![1., 0., 0., 1., 5., 5., 1., 1.] };
        let r = v.restricted(2, |w| is_substitutable(w) && w != "the");
        assert_eq!(r.words, vec!["good", "bad"]);
        assert_eq!(r.values, vec![0., 1., 1., 1.]);
    }
}
