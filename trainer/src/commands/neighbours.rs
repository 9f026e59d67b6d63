//! `rticket neighbours`: build the attacks' neighbour table from the encoder's input
//! embeddings, with WordNet antonyms removed.

use std::time::Instant;

use anyhow::Result;
use burn::tensor::{Int, Tensor, TensorData};
use rticket_core::attack::NeighbourTable;

use crate::cli::NeighboursArgs;
use crate::device::{self, DeviceChoice};
use crate::model_files::ModelFiles;
use crate::resources::{default_neighbours_path, load_wordnet};

/// Rows of the similarity matrix computed at once.
const CHUNK: usize = 512;

pub fn run(args: NeighboursArgs, device: DeviceChoice) -> Result<()> {
    let selected = device::select(device)?;
    let started = Instant::now();
    let files = ModelFiles::open(&args.model.dir())?;
    let wordnet = load_wordnet(None)?;
    let table = build(&files, &wordnet, args.k, &selected.device)?;
    let out = args.out.clone().unwrap_or_else(default_neighbours_path);
    let bytes = table.to_bytes()?;
    crate::outputs::write_atomically(&out, &bytes)?;
    eprintln!(
        "wrote {} ({} words, {} bytes) in {:.0}s",
        out.display(),
        table.len(),
        bytes.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Whole lower-case alphabetic words of the vocabulary (no word pieces, no special tokens).
fn vocabulary_words(files: &ModelFiles) -> Result<Vec<(String, u32)>> {
    let tokenizer = files.tokenizer(files.config.max_position_embeddings)?;
    let mut words: Vec<(String, u32)> = tokenizer
        .vocab()
        .into_iter()
        .filter(|(w, _)| w.len() >= 2 && w.chars().all(|c| c.is_ascii_lowercase()))
        .collect();
    words.sort_by_key(|(_, id)| *id);
    Ok(words)
}

/// For every vocabulary word, its `k` nearest words by cosine of input embeddings, minus
/// WordNet antonyms.
pub fn build(files: &ModelFiles, wordnet: &rticket_core::attack::WordNet, k: usize, device: &burn::tensor::Device) -> Result<NeighbourTable> {
    let words = vocabulary_words(files)?;
    let encoder = files.encoder(device)?;
    let ids: Vec<i64> = words.iter().map(|(_, id)| *id as i64).collect();
    let n = ids.len();
    let rows = Tensor::<1, Int>::from_data(TensorData::new(ids, [n]), device);
    let table = encoder.embeddings.word_embeddings.val().select(0, rows); // [n, hidden]
    let norms = table.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
    let unit = table / norms;
    let transposed = unit.clone().transpose();
    let mut result = Vec::with_capacity(n);
    // One extra for the word itself, a few more for antonyms that get dropped.
    let take = (k + 4).min(n);
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let sims = unit.clone().narrow(0, start, end - start).matmul(transposed.clone()); // [chunk, n]
        let (values, indices) = sims.topk_with_indices(take, 1);
        let values = values.into_data().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let indices = indices.into_data().convert::<i64>().try_into_vec::<i64>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        for row in 0..end - start {
            let word = &words[start + row].0;
            let ranked: Vec<(u32, f32)> = (0..take)
                .map(|j| (indices[row * take + j] as u32, values[row * take + j]))
                .filter(|(i, _)| *i as usize != start + row && !wordnet.are_antonyms(word, &words[*i as usize].0))
                .take(k)
                .collect();
            result.push(ranked);
        }
    }
    Ok(NeighbourTable::new(words.into_iter().map(|(w, _)| w).collect(), result, files.weights_sha256()))
}
