//! What a saved classifier (or a search's scores file) records beside its tensors and config:
//! the base files it was trained from and the token window it reads. One definition, read by
//! the trainer and the web page alike.

use std::collections::HashMap;

use crate::{BertConfig, Error, Result, Weights, Window};

/// sha256 of the base model's weights the file was trained from.
pub const BASE_MODEL_SHA_KEY: &str = "rticket.base_model_sha256";
/// sha256 of the tokenizer.json it was trained with.
pub const TOKENIZER_SHA_KEY: &str = "rticket.tokenizer_sha256";
/// Longest input in tokens it was trained on.
pub const MAX_LEN_KEY: &str = "rticket.max_len";
/// Which end of long texts it read ([`Window::name`]).
pub const WINDOW_KEY: &str = "rticket.window";

/// How a saved model reads text and what it was trained from. Each field is optional in the
/// file, since older files lack some: an absent window is the head (the only one there was),
/// an absent `max_len` is the caller's default. A present but unreadable value is an error,
/// never a silent default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMeta {
    pub base_model_sha256: Option<String>,
    pub tokenizer_sha256: Option<String>,
    pub max_len: Option<usize>,
    pub window: Window,
}

impl SavedMeta {
    /// The metadata entries of these fields (absent ones left out).
    pub fn to_metadata(&self) -> HashMap<String, String> {
        let mut metadata = HashMap::from([(WINDOW_KEY.to_string(), self.window.name().to_string())]);
        let optional = [
            (BASE_MODEL_SHA_KEY, self.base_model_sha256.clone()),
            (TOKENIZER_SHA_KEY, self.tokenizer_sha256.clone()),
            (MAX_LEN_KEY, self.max_len.map(|n| n.to_string())),
        ];
        metadata.extend(optional.into_iter().filter_map(|(key, value)| Some((key.to_string(), value?))));
        metadata
    }

    /// Reads the fields from a safetensors header's metadata.
    pub fn from_metadata(metadata: &HashMap<String, String>) -> Result<Self> {
        let damaged = |key: &'static str, reason: String| Error::FileMetadata { key, reason };
        let window = Window::from_record(metadata.get(WINDOW_KEY).map(String::as_str)).map_err(|r| damaged(WINDOW_KEY, r))?;
        let max_len = match metadata.get(MAX_LEN_KEY) {
            None => None,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n >= 2 => Some(n),
                _ => return Err(damaged(MAX_LEN_KEY, format!("{text:?} is not a length of at least 2 tokens"))),
            },
        };
        Ok(Self {
            base_model_sha256: metadata.get(BASE_MODEL_SHA_KEY).cloned(),
            tokenizer_sha256: metadata.get(TOKENIZER_SHA_KEY).cloned(),
            max_len,
            window,
        })
    }

    /// The length to read with a model of `config`: the recorded one, else all its positions. A
    /// recorded length beyond the positions is an error: the model could not embed such inputs.
    pub fn max_len_within(&self, config: &BertConfig) -> Result<usize> {
        let positions = config.max_position_embeddings;
        match self.max_len {
            None => Ok(positions),
            Some(n) if n <= positions => Ok(n),
            Some(n) => Err(Error::FileMetadata { key: MAX_LEN_KEY, reason: format!("{n} tokens, beyond the model's {positions} positions") }),
        }
    }

    /// Reads the fields from a saved file's bytes (its header only).
    pub fn read(bytes: &[u8]) -> Result<Self> {
        Self::from_metadata(&Weights::metadata(bytes)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_survive_a_round_trip_and_older_files_read_as_before() {
        let full = SavedMeta {
            base_model_sha256: Some("ab".repeat(32)),
            tokenizer_sha256: Some("cd".repeat(32)),
            max_len: Some(384),
            window: Window::Tail,
        };
        assert_eq!(SavedMeta::from_metadata(&full.to_metadata()).unwrap(), full);
        // A file written before max_len and the window were recorded.
        let old = HashMap::from([(BASE_MODEL_SHA_KEY.to_string(), "ef".to_string())]);
        let read = SavedMeta::from_metadata(&old).unwrap();
        assert_eq!((read.max_len, read.window, read.tokenizer_sha256), (None, Window::Head, None));
        assert_eq!(read.base_model_sha256.as_deref(), Some("ef"));
    }

    #[test]
    fn a_damaged_value_is_an_error_naming_its_key() {
        for (key, value) in [(MAX_LEN_KEY, "sixty-four"), (MAX_LEN_KEY, "1"), (WINDOW_KEY, "middle")] {
            let metadata = HashMap::from([(key.to_string(), value.to_string())]);
            let err = SavedMeta::from_metadata(&metadata).unwrap_err().to_string();
            assert!(err.contains(key) && err.contains(value), "{key}={value}: {err}");
        }
    }

    #[test]
    fn the_length_read_fits_the_model() {
        let config = BertConfig::tiny(100);
        let positions = config.max_position_embeddings;
        let with = |max_len| SavedMeta { base_model_sha256: None, tokenizer_sha256: None, max_len, window: Window::Head };
        assert_eq!(with(None).max_len_within(&config).unwrap(), positions);
        assert_eq!(with(Some(positions)).max_len_within(&config).unwrap(), positions);
        let err = with(Some(positions + 1)).max_len_within(&config).unwrap_err().to_string();
        assert!(err.contains(MAX_LEN_KEY) && err.contains("beyond the model's"), "{err}");
    }
}
