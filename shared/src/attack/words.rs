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

    /// The words with word `i` replaced by `replacement` (same length, unlike [`Words::with`]).
    pub fn swapped(&self, i: usize, replacement: &str) -> Words {
        let mut words = self.clone();
        words.0[i] = replacement.to_string();
        words
    }

    /// The `size` words around `center`, joined: the window the sentence-similarity constraint
    /// compares. As TextAttack: centred where it fits (`center - ceil(h) ..= center + floor(h)`,
    /// `h = (size - 1) / 2`), otherwise the first or last `size` words.
    pub fn window(&self, center: usize, size: usize) -> String {
        let len = self.0.len();
        if len == 0 || size == 0 {
            return String::new();
        }
        let half = (size - 1) as f64 / 2.0;
        let (start, end) = if (center as f64) < half {
            (0, (size - 1).min(len - 1))
        } else if center as f64 + half >= len as f64 {
            (len.saturating_sub(size), len - 1)
        } else {
            (center - half.ceil() as usize, center + half.floor() as usize)
        };
        self.0[start..=end].join(" ")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_text_attack() {
        let w = Words::new("a b c d e f g h i j");
        assert_eq!(w.window(5, 5), "d e f g h");
        assert_eq!(w.window(4, 4), "c d e f"); // h = 1.5: two before, one after
        assert_eq!(w.window(0, 5), "a b c d e"); // shifted, not clipped
        assert_eq!(w.window(9, 5), "f g h i j");
        assert_eq!(w.window(3, 15), w.text());
    }
}
