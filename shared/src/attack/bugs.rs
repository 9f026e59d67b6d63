//! TextBugger's character-level bugs: insert a space, delete, swap neighbours, swap for a
//! look-alike character. One deterministic variant of each per word and seed.

/// Look-alike substitutions (TextBugger's "Sub-C").
const LOOK_ALIKES: &[(char, char)] = &[('o', '0'), ('l', '1'), ('i', '1'), ('a', '@'), ('e', '3'), ('s', '$'), ('t', '7'), ('b', '6'), ('g', '9')];

/// The bugged variants of `word` (never the word itself, no duplicates).
pub fn bugs(word: &str, seed: u64) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let n = chars.len();
    let mut out = Vec::new();
    if n >= 2 {
        // An inner position chosen by the seed and the word, stable across platforms: the
        // remainder is taken in u64 (a `usize` cast first would keep only 32 bits on wasm32).
        let hash = word.bytes().fold(seed ^ 0xcbf29ce484222325, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
        let inner = |span: usize| 1 + (hash % span.max(1) as u64) as usize;
        // Insert a space.
        let at = inner(n - 1).min(n - 1);
        out.push(chars[..at].iter().chain(&[' ']).chain(&chars[at..]).collect());
        if n >= 3 {
            // Delete an inner character.
            let at = inner(n - 2).min(n - 2);
            out.push(chars.iter().enumerate().filter(|(i, _)| *i != at).map(|(_, c)| *c).collect());
        }
        if n >= 4 {
            // Swap two inner neighbours.
            let at = inner(n - 3).min(n - 3);
            let mut swapped = chars.clone();
            swapped.swap(at, at + 1);
            out.push(swapped.into_iter().collect());
        }
    }
    if let Some(i) = chars.iter().position(|c| LOOK_ALIKES.iter().any(|(from, _)| from == c)) {
        let to = LOOK_ALIKES.iter().find(|(from, _)| *from == chars[i]).map(|(_, to)| *to).expect("found above");
        let mut sub = chars.clone();
        sub[i] = to;
        out.push(sub.into_iter().collect());
    }
    out.retain(|v: &String| v != word);
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bug_type_appears_and_is_deterministic() {
        let a = bugs("terrible", 1);
        assert_eq!(a, bugs("terrible", 1));
        assert!(a.iter().any(|v| v.contains(' ')), "{a:?}");
        assert!(a.iter().any(|v| v.chars().count() == 7), "{a:?}");
        assert!(a.iter().any(|v| v.contains('7') || v.contains('3') || v.contains('1')), "{a:?}");
        assert!(a.iter().all(|v| v != "terrible"));
        assert!(bugs("a", 1).iter().all(|v| v != "a"));
    }
}
