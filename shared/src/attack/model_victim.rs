//! The shared model behind the attack interfaces: a classifier as [`Victim`] (on any device,
//! a browser's GPU included: it reads back asynchronously), the encoder's mean-pooled embedding
//! as [`SentenceEncoder`]. Both batch every call into forward passes of at most `batch_size` texts.

use burn::tensor::{Device, activation::softmax};

use super::victim::{SentenceEncoder, Victim};
use crate::model::{EncoderInput, mean_pool, read_rows, read_rows_async};
use crate::{BertModel, Result, SequenceClassifier, TextTokenizer};

/// A classifier under attack.
pub struct ClassifierVictim<'a> {
    pub model: &'a SequenceClassifier,
    pub tokenizer: &'a TextTokenizer,
    pub device: Device,
    pub batch_size: usize,
    /// Forward passes run so far (for overhead measurements).
    pub forward_passes: usize,
}

impl Victim for ClassifierVictim<'_> {
    async fn probabilities(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.batch_size.max(1)) {
            let input = EncoderInput::new(&self.tokenizer.encode_batch(chunk)?, &self.device);
            out.extend(read_rows_async(softmax(self.model.forward(&input), 1)).await?);
            self.forward_passes += 1;
        }
        Ok(out)
    }

    fn words_read(&self, words: &[String]) -> Result<std::ops::Range<usize>> {
        self.tokenizer.words_read(words)
    }
}

/// Mean-pooled sentence embeddings (the Universal Sentence Encoder's stand-in).
pub struct MeanPoolEncoder<'a> {
    pub model: &'a BertModel,
    pub tokenizer: &'a TextTokenizer,
    pub device: Device,
    pub batch_size: usize,
}

impl SentenceEncoder for MeanPoolEncoder<'_> {
    fn embed(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.batch_size.max(1)) {
            let input = EncoderInput::new(&self.tokenizer.encode_batch(chunk)?, &self.device);
            out.extend(read_rows(mean_pool(self.model.forward(&input), input.attention_mask.clone()))?);
        }
        Ok(out)
    }
}
