//! `rticket neighbours`: build the attacks' neighbour table: GloVe counter-fitted to WordNet
//! (default), or the encoder's input embeddings, with WordNet antonyms removed; a quality
//! report and the build's settings go beside the table.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rticket_core::attack::neighbours::{COUNTER_FITTED_GLOVE, ENCODER_VECTORS};
use rticket_core::attack::{NeighbourTable, WordNet};
use serde::Serialize;

use crate::cli::{NeighboursArgs, VectorsArg};
use crate::device::{self, DeviceChoice};
use crate::model_files::{ModelFiles, assets_dir};
use crate::resources::{default_neighbours_path, load_wordnet};
use crate::vectors::{Constraints, CounterFitting, GLOVE_DIR, QualityReport, WordVectors, counter_fit, is_substitutable, nearest, quality_report, read_glove};

/// How a table is built: recorded beside it.
#[derive(Debug, Clone, Serialize)]
pub struct TableBuild {
    pub vectors: VectorsArg,
    pub k: usize,
    pub vocabulary: usize,
    pub counter_fitting: CounterFitting,
    /// Vector-space preservation holds each word's this many nearest words within rho.
    pub preserve_neighbours: usize,
}

impl TableBuild {
    /// The default table: GloVe, 100,000 words, 50 neighbours, the paper's counter-fitting.
    pub fn glove() -> Self {
        Self { vectors: VectorsArg::Glove, k: 50, vocabulary: 100_000, counter_fitting: CounterFitting::default(), preserve_neighbours: 50 }
    }
}

pub fn run(args: NeighboursArgs, device: DeviceChoice) -> Result<()> {
    let selected = device::select(device)?;
    let started = Instant::now();
    let wordnet = load_wordnet(None)?;
    let build = TableBuild {
        vectors: args.vectors,
        k: args.k,
        vocabulary: args.vocabulary,
        counter_fitting: CounterFitting { iterations: args.iterations, ..Default::default() },
        ..TableBuild::glove()
    };
    let out = args.out.clone().unwrap_or_else(default_neighbours_path);
    let table = write_table(&out, &build, &args.model.dir(), &wordnet, &selected.device)?;
    let bytes = std::fs::metadata(&out)?.len();
    eprintln!("wrote {} ({} words, {bytes} bytes) in {:.0}s", out.display(), table.len(), started.elapsed().as_secs_f64());
    Ok(())
}

/// Builds the table `build` describes and writes it to `out`, with the build's settings
/// (`<out>.json`) and, for GloVe, the quality report (`<out>.md`) beside it. `model_dir` is the
/// base model, read only for `--vectors encoder`.
pub fn write_table(out: &Path, build: &TableBuild, model_dir: &Path, wordnet: &WordNet, device: &Device) -> Result<NeighbourTable> {
    // Before minutes of work, not after: the folder must exist for the files to land.
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let (table, report) = match build.vectors {
        VectorsArg::Glove => {
            let (table, report) = build_glove(wordnet, build, device)?;
            (table, Some(report))
        }
        VectorsArg::Encoder => (build_from_encoder(&ModelFiles::open(model_dir)?, wordnet, build.k, device)?, None),
    };
    let json = serde_json::json!({ "build": build, "quality": report.as_ref().map(|r| serde_json::json!({
        "synonyms": r.synonyms, "antonyms": r.antonyms, "random": r.random })) });
    crate::outputs::write_atomically(&out.with_extension("json"), serde_json::to_string_pretty(&json)?.as_bytes())?;
    if let Some(report) = &report {
        crate::outputs::write_atomically(&out.with_extension("md"), report.markdown.as_bytes())?;
    }
    crate::outputs::write_atomically(out, &table.to_bytes()?)?;
    Ok(table)
}

/// GloVe's `build.vocabulary` most frequent substitutable words, counter-fitted to WordNet,
/// and each word's `build.k` nearest others (antonyms removed).
pub fn build_glove(wordnet: &WordNet, build: &TableBuild, device: &Device) -> Result<(NeighbourTable, QualityReport)> {
    let (glove, sha256) = read_glove(&assets_dir().join(GLOVE_DIR))?;
    let mut vectors = glove.restricted(build.vocabulary, is_substitutable);
    drop(glove);
    vectors.normalise();
    let before = vectors.clone();
    let constraints = Constraints::from_wordnet(&vectors, wordnet);
    let rho = build.counter_fitting.rho;
    let preserve: Vec<(u32, u32)> = nearest(&vectors, build.preserve_neighbours, 1.0 - rho, device)?
        .into_iter()
        .enumerate()
        .flat_map(|(i, row)| row.into_iter().map(move |(j, _)| (i as u32, j)))
        .collect();
    eprintln!(
        "counter-fitting {} words: {} synonym, {} antonym and {} preservation pairs, {} steps",
        vectors.len(),
        constraints.synonyms.len() / 2,
        constraints.antonyms.len() / 2,
        preserve.len(),
        build.counter_fitting.iterations
    );
    counter_fit(&mut vectors, &constraints, &preserve, &build.counter_fitting);
    let table = table_of(&vectors, wordnet, build.k, COUNTER_FITTED_GLOVE, sha256, device)?;
    let report = quality_report(&before, &vectors, &constraints, &table, "The attacks' word vectors: GloVe 6B 50d counter-fitted to WordNet 3.0");
    Ok((table, report))
}

/// Each word's `k` nearest others in `vectors` (unit rows), WordNet antonyms left out.
fn table_of(vectors: &WordVectors, wordnet: &WordNet, k: usize, name: &str, sha256: String, device: &Device) -> Result<NeighbourTable> {
    // A few more than k, for the antonyms dropped.
    let rows = nearest(vectors, k + 4, -1.0, device)?
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let word = &vectors.words[i];
            row.into_iter().filter(|(j, _)| !wordnet.are_antonyms(word, &vectors.words[*j as usize])).take(k).collect()
        })
        .collect();
    Ok(NeighbourTable::new(vectors.words.clone(), rows, name.to_string(), sha256))
}

/// The old stand-in: whole lower-case alphabetic words of the encoder's vocabulary (no word
/// pieces, no special tokens) and their nearest others by cosine of input embeddings.
pub fn build_from_encoder(files: &ModelFiles, wordnet: &WordNet, k: usize, device: &Device) -> Result<NeighbourTable> {
    let tokenizer = files.tokenizer(files.config.max_position_embeddings)?;
    let mut words: Vec<(String, u32)> =
        tokenizer.vocab().into_iter().filter(|(w, _)| w.len() >= 2 && w.chars().all(|c| c.is_ascii_lowercase())).collect();
    words.sort_by_key(|(_, id)| *id);
    let encoder = files.encoder(device)?;
    let n = words.len();
    let ids = Tensor::<1, Int>::from_data(TensorData::new(words.iter().map(|(_, id)| *id as i64).collect::<Vec<_>>(), [n]), device);
    let embeddings = encoder.embeddings.word_embeddings.val().select(0, ids);
    let dim = embeddings.dims()[1];
    let values = embeddings.into_data().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut vectors = WordVectors { words: words.into_iter().map(|(w, _)| w).collect(), dim, values };
    vectors.normalise();
    table_of(&vectors, wordnet, k, ENCODER_VECTORS, files.weights_sha256(), device)
}
