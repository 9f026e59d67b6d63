//! Texts as sequences of words: what the attacks rank, swap and count.

/// A text split on whitespace. MR is already tokenised and lower-cased, so whitespace words
/// are its words; punctuation tokens are words that no candidate source will replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words(pub Vec<String>);

impl Words {
    pub fn new(text: &str) -> Self {
        Self(text.split_whitespace().map(str::to_string).collect())
    }

    /// The text with word `i` replaced (an empty replacement deletes the word).
    pub fn with(&self, i: usize, replacement: &str) -> String {
        self.0
            .iter()
            .enumerate()
            .map(|(j, w)| if j == i { replacement } else { w.as_str() })
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The words `center - half ..= center + half` (clamped), joined: the window the
    /// sentence-similarity constraint compares.
    pub fn window(&self, center: usize, size: usize) -> String {
        let half = size / 2;
        let start = center.saturating_sub(half);
        let end = (center + half + 1).min(self.0.len());
        self.0[start..end].join(" ")
    }

    pub fn text(&self) -> String {
        self.0.join(" ")
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a word has letters (only those are attacked).
    pub fn is_wordlike(word: &str) -> bool {
        word.chars().any(char::is_alphabetic)
    }
}
