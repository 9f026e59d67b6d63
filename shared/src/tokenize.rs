//! The model's own WordPiece tokenizer (from `tokenizer.json` bytes), padded per batch.
//!
//! HF sentence-transformers ship `tokenizer.json` with fixed padding and truncation at 128 turned
//! on; both are switched off here. Texts longer than `max_len` tokens are truncated (documented
//! behaviour, reported per text in [`EncodedBatch::truncated`]), never an error: the model reads
//! their first tokens, or their last ones ([`Window`]).
//!
//! A sentence pair travels as one text, its two segments joined by [`SEGMENT_SEPARATOR`]: the
//! tokenizer matches `[SEP]` as its special token, and the tokens after it get segment id 1, as
//! BERT's pair encoding gives them. (A text too long is cut from its end: the second segment
//! gives way first.)

use std::ops::Range;

use serde::{Deserialize, Serialize};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams};

use crate::{Error, Result};

/// The pad multiple for a GPU backend ([`TextTokenizer::with_pad_multiple`]): at most
/// `max_len / 16` shapes (4 for sentences at 64 tokens), at the cost of a few masked tokens
/// per row.
pub const GPU_PAD_MULTIPLE: usize = 16;

/// What joins the two segments of a sentence pair in one text (`premise [SEP] hypothesis`).
pub const SEGMENT_SEPARATOR: &str = "[SEP]";

/// Which tokens of a text longer than `max_len` the model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// The first tokens (BERT's usual truncation).
    #[default]
    Head,
    /// The last tokens: where a review usually gives its verdict.
    Tail,
}

impl Window {
    /// The name used in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Window::Head => "head",
            Window::Tail => "tail",
        }
    }

    /// Parses [`Self::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [Window::Head, Window::Tail].into_iter().find(|w| w.name() == name)
    }

    /// The window a file records (a ticket's or a classifier's metadata value): absent means
    /// head, since files written before the tail could be read carry none; an unknown name is
    /// an error that quotes it.
    pub fn from_record(value: Option<&str>) -> std::result::Result<Self, String> {
        match value {
            None => Ok(Window::Head),
            Some(name) => Self::from_name(name).ok_or_else(|| format!("{name:?} is neither \"head\" nor \"tail\"")),
        }
    }
}

/// A tokenizer bound to a maximum sequence length.
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    max_len: usize,
    window: Window,
    pad_id: u32,
    pad_multiple: usize,
    /// The id of [`SEGMENT_SEPARATOR`], when the vocabulary has it.
    separator_id: Option<u32>,
}

/// Token ids of a batch of texts, right-padded to the longest text (or past it to a multiple,
/// see [`TextTokenizer::with_pad_multiple`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedBatch {
    /// Padded length of every row: the longest sequence in the batch (with [CLS] and [SEP]),
    /// rounded up to the tokenizer's pad multiple.
    pub seq_len: usize,
    /// `[batch * seq_len]` row-major token ids.
    pub input_ids: Vec<i64>,
    /// `[batch * seq_len]` segment ids.
    pub token_type_ids: Vec<i64>,
    /// `[batch * seq_len]`, 1.0 for real tokens.
    pub attention_mask: Vec<f32>,
    /// Real tokens per text.
    pub lengths: Vec<usize>,
    /// Whether each text was cut at `max_len`.
    pub truncated: Vec<bool>,
}

impl EncodedBatch {
    /// Number of texts.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// Whether the batch has no text.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }
}

impl TextTokenizer {
    /// Reads `tokenizer.json`. `max_len` counts [CLS] and [SEP] and must not exceed the
    /// model's `max_position_embeddings`. Long texts keep their head; see [`Self::with_window`].
    pub fn from_bytes(json: &[u8], max_len: usize) -> Result<Self> {
        if max_len < 3 {
            return Err(Error::Tokenizer(format!("max_len {max_len} leaves no room for a word")));
        }
        let mut inner = Tokenizer::from_bytes(json).map_err(|e| Error::Tokenizer(e.to_string()))?;
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams { max_length: max_len, ..Default::default() }))
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        let pad_id = inner
            .get_padding()
            .map(|p| p.pad_id)
            .or_else(|| inner.token_to_id("[PAD]"))
            .unwrap_or(0);
        let separator_id = inner.token_to_id(SEGMENT_SEPARATOR);
        Ok(Self { inner, max_len, window: Window::Head, pad_id, pad_multiple: 1, separator_id })
    }

    /// The same tokenizer, keeping `window`'s end of long texts.
    pub fn with_window(mut self, window: Window) -> Result<Self> {
        let direction = match window {
            Window::Head => TruncationDirection::Right,
            Window::Tail => TruncationDirection::Left,
        };
        self.inner
            .with_truncation(Some(TruncationParams { max_length: self.max_len, direction, ..Default::default() }))
            .map_err(|e| Error::Tokenizer(e.to_string()))?;
        self.window = window;
        Ok(self)
    }

    /// The same tokenizer, padding every batch to a multiple of `multiple` tokens (never past
    /// `max_len`). A GPU backend compiles and autotunes kernels per input shape, so padding to
    /// the longest text gives it a new shape almost every batch; a multiple bounds the shapes
    /// at `max_len / multiple`. Padded positions are masked, so outputs do not change, but the
    /// shapes of random draws (dropout) do: 1, the default, keeps the longest-text padding.
    pub fn with_pad_multiple(mut self, multiple: usize) -> Self {
        self.pad_multiple = multiple.max(1);
        self
    }

    /// Which end of long texts is read.
    pub fn window(&self) -> Window {
        self.window
    }

    /// The maximum sequence length, [CLS] and [SEP] included.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Vocabulary size, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The id of `token`, if the vocabulary has it.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The token of `id`, if the vocabulary has it.
    pub fn token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The vocabulary: token to id, added tokens included.
    pub fn vocab(&self) -> std::collections::HashMap<String, u32> {
        self.inner.get_vocab(true)
    }

    /// The word pieces of one text, without special tokens.
    pub fn pieces(&self, text: &str) -> Result<Vec<String>> {
        let encoding = self.inner.encode(text, false).map_err(|e| Error::Tokenizer(e.to_string()))?;
        Ok(encoding.get_tokens().to_vec())
    }

    /// Which of `words`, joined by single spaces, have a token inside the window: the words a
    /// model with this tokenizer reads (a word cut mid-way counts as read). Always one run of
    /// words: the first ones for [`Window::Head`], the last ones for [`Window::Tail`].
    pub fn words_read(&self, words: &[String]) -> Result<Range<usize>> {
        let text = words.join(" ");
        let encoding = self.inner.encode(text.as_str(), true).map_err(|e| Error::Tokenizer(e.to_string()))?;
        if encoding.get_overflowing().is_empty() {
            return Ok(0..words.len());
        }
        // Where the kept (non-special) tokens begin and end in the text's bytes. The window
        // runs from the text's start (head) or to its end (tail).
        let kept = || encoding.get_offsets().iter().zip(encoding.get_special_tokens_mask()).filter(|(_, special)| **special == 0);
        let kept_start = kept().map(|((start, _), _)| *start).min().unwrap_or(usize::MAX);
        let kept_end = kept().map(|((_, end), _)| *end).max().unwrap_or(0);
        let reads = |start: usize, end: usize| match self.window {
            Window::Head => start < kept_end,
            Window::Tail => end > kept_start,
        };
        let mut read = words.len()..0;
        let mut start = 0;
        for (i, word) in words.iter().enumerate() {
            let end = start + word.len();
            if reads(start, end) {
                read.start = read.start.min(i);
                read.end = i + 1;
            }
            start = end + 1;
        }
        Ok(if read.start < read.end { read } else { 0..0 })
    }

    /// Tokenizes and pads a batch. Empty (or whitespace-only) texts are an error; texts past
    /// `max_len` tokens are truncated.
    pub fn encode_batch<S: AsRef<str>>(&self, texts: &[S]) -> Result<EncodedBatch> {
        if texts.is_empty() {
            return Err(Error::EmptyBatch);
        }
        let mut encodings = Vec::with_capacity(texts.len());
        for (index, text) in texts.iter().enumerate() {
            let text = text.as_ref();
            if text.trim().is_empty() {
                return Err(Error::EmptyText { index });
            }
            encodings.push(self.inner.encode(text, true).map_err(|e| Error::Tokenizer(e.to_string()))?);
        }
        let longest = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0);
        let seq_len = longest.next_multiple_of(self.pad_multiple).min(self.max_len).max(longest);
        let size = texts.len() * seq_len;
        let mut batch = EncodedBatch {
            seq_len,
            input_ids: vec![self.pad_id as i64; size],
            token_type_ids: vec![0; size],
            attention_mask: vec![0.0; size],
            lengths: Vec::with_capacity(texts.len()),
            truncated: Vec::with_capacity(texts.len()),
        };
        for (row, encoding) in encodings.iter().enumerate() {
            let start = row * seq_len;
            let second_segment = self.second_segment_start(encoding.get_ids());
            for (j, (&id, &type_id)) in encoding.get_ids().iter().zip(encoding.get_type_ids()).enumerate() {
                batch.input_ids[start + j] = id as i64;
                batch.token_type_ids[start + j] = if second_segment.is_some_and(|s| j >= s) { 1 } else { type_id as i64 };
                batch.attention_mask[start + j] = 1.0;
            }
            batch.lengths.push(encoding.get_ids().len());
            batch.truncated.push(!encoding.get_overflowing().is_empty());
        }
        Ok(batch)
    }

    /// Where a pair's second segment starts: after the first separator that is not the last
    /// token (the one closing the sequence).
    fn second_segment_start(&self, ids: &[u32]) -> Option<usize> {
        let separator = self.separator_id?;
        let inner = &ids[..ids.len().saturating_sub(1)];
        inner.iter().position(|&id| id == separator).map(|p| p + 1)
    }

    /// Checks that every id the tokenizer can produce has an embedding in a model of
    /// `vocab_size` rows.
    pub fn check_vocab(&self, vocab_size: usize) -> Result<()> {
        match self.inner.get_vocab(true).values().copied().max() {
            Some(id) if id as usize >= vocab_size => Err(Error::TokenOutOfVocab { id, vocab_size }),
            _ => Ok(()),
        }
    }
}
