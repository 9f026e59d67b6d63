//! BERT-Attack's own candidate source: the masked language model's top predictions at each
//! word's position in the unmasked original sentence (Li et al., 2020), one forward pass for
//! all positions. Used when the loaded model has a masked-LM head (`cls.predictions.*`).

use burn::tensor::Device;

use crate::model::{EncoderInput, MaskedLmHead, read_values};
use crate::{BertModel, Result, TextTokenizer};

/// Anything that proposes in-context substitutes for every word of a sentence.
pub trait MaskedLm {
    /// Up to `k` whole-word substitutes for each of `words` (same length as `words`).
    fn substitutes(&self, words: &[String], k: usize) -> Result<Vec<Vec<String>>>;
}

/// An encoder with its masked-LM head.
pub struct ModelMaskedLm<'a> {
    pub encoder: &'a BertModel,
    pub head: &'a MaskedLmHead,
    pub tokenizer: &'a TextTokenizer,
    pub device: Device,
}

impl MaskedLm for ModelMaskedLm<'_> {
    /// A word's substitutes are the predictions at its first word piece, keeping whole-word
    /// vocabulary entries only (no `##` pieces, special tokens or punctuation). BERT-Attack
    /// also combines predictions across the pieces of a multi-piece word; we do not.
    fn substitutes(&self, words: &[String], k: usize) -> Result<Vec<Vec<String>>> {
        let batch = self.tokenizer.encode_batch(&[words.join(" ")])?;
        let seq = batch.seq_len;
        let input = EncoderInput::new(&batch, &self.device);
        let logits = self.head.forward(self.encoder.forward(&input)); // [1, seq, vocab]
        let vocab = logits.dims()[2];
        let logits = read_values(logits)?;
        let mut first_piece = 1; // after [CLS]
        let mut out = Vec::with_capacity(words.len());
        for word in words {
            let pieces = self.tokenizer.pieces(word)?.len();
            if pieces == 0 || first_piece >= seq - 1 {
                // Punctuation-free symbols or a word cut off by truncation: nothing to predict.
                out.push(Vec::new());
                first_piece += pieces;
                continue;
            }
            let row = &logits[first_piece * vocab..(first_piece + 1) * vocab];
            let chosen = top_words(row, k, &word.to_lowercase(), |id| self.tokenizer.token(id as u32));
            out.push(chosen);
            first_piece += pieces;
        }
        Ok(out)
    }
}

/// The `k` best whole-word tokens of one row of logits (highest first, ties by id), skipping
/// `word` itself. Sorts a shortlist of the best `4k + 64` ids rather than the whole vocabulary,
/// and the whole vocabulary only when filtering leaves the shortlist short; same answer either way.
fn top_words(row: &[f32], k: usize, word: &str, token: impl Fn(usize) -> Option<String>) -> Vec<String> {
    let order = |a: &usize, b: &usize| row[*b].total_cmp(&row[*a]).then(a.cmp(b));
    let pick = |ids: &[usize]| -> Vec<String> {
        ids.iter()
            .filter_map(|&id| token(id))
            .filter(|t| t.chars().all(char::is_alphabetic) && t != word)
            .take(k)
            .collect()
    };
    let mut ids: Vec<usize> = (0..row.len()).collect();
    let shortlist = (4 * k + 64).min(row.len());
    if shortlist < row.len() {
        ids.select_nth_unstable_by(shortlist - 1, order);
        let mut best = ids[..shortlist].to_vec();
        best.sort_by(order);
        let chosen = pick(&best);
        if chosen.len() == k {
            return chosen;
        }
    }
    ids.sort_by(order);
    pick(&ids)
}

#[cfg(test)]
mod tests {
    use super::top_words;

    #[test]
    fn the_shortlist_gives_the_full_sort_answer() {
        // 1000 ids with a few ties; the alphabetic filter drops every third token.
        let row: Vec<f32> = (0..1000).map(|i| ((i * 7919) % 613) as f32).collect();
        let token = |id: usize| Some(if id.is_multiple_of(3) { format!("{id}") } else { format!("w{}", "x".repeat(id % 5)) });
        for k in [1, 8, 48, 300] {
            let fast = top_words(&row, k, "wx", token);
            let mut ids: Vec<usize> = (0..row.len()).collect();
            ids.sort_by(|a, b| row[*b].total_cmp(&row[*a]).then(a.cmp(b)));
            let slow: Vec<String> =
                ids.into_iter().filter_map(token).filter(|t| t.chars().all(char::is_alphabetic) && t != "wx").take(k).collect();
            assert_eq!(fast, slow, "k = {k}");
        }
    }
}
