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
            let mut ids: Vec<usize> = (0..vocab).collect();
            ids.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            let lower = word.to_lowercase();
            let chosen = ids
                .into_iter()
                .filter_map(|id| self.tokenizer.token(id as u32))
                .filter(|t| t.chars().all(char::is_alphabetic) && *t != lower)
                .take(k)
                .collect();
            out.push(chosen);
            first_piece += pieces;
        }
        Ok(out)
    }
}
