//! `rticket calibrate`: TextFooler's sentence-similarity floor for our encoder. USE's 0.840845
//! (angular, 15-word windows) means nothing on mean-pooled MiniLM, so we measure the windowed
//! similarity of single word swaps in dev sentences: to a WordNet synonym (a swap the constraint
//! should let through), to a counter-fitted neighbour (what TextFooler proposes), and to a random
//! word (what it should stop), and propose the floor that keeps 95% of synonym swaps.

use anyhow::Result;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rticket_core::attack::{MeanPoolEncoder, SentenceEncoder, StopWords, Words, angular};
use serde::Serialize;

use crate::cli::{CalibrateArgs, Preset};
use crate::device::{self, DeviceChoice};
use crate::outputs::RunDir;
use crate::resources::AttackKit;
use crate::stages::StageSettings;
use crate::vectors::quantile;

/// TextFooler's window.
const WINDOW: usize = 15;
/// The share of synonym swaps the floor keeps.
const KEEP: f64 = 0.95;

/// One kind of swap's similarity distribution.
#[derive(Debug, Serialize)]
struct Swaps {
    count: usize,
    quantiles: Vec<(f64, f32)>,
    /// Share at or above the proposed floor.
    kept: f64,
}

pub fn run(args: CalibrateArgs, device: DeviceChoice) -> Result<()> {
    let selected = device::select(device)?;
    let dev = &selected.device;
    let kit = AttackKit::load(&args.model.dir(), None, dev)?;
    let tokenizer = kit.files.tokenizer_on(128, dev)?;
    let mut encoder = MeanPoolEncoder { model: &kit.encoder, tokenizer: &tokenizer, device: dev.clone(), batch_size: 64 };
    let settings = StageSettings::preset(Preset::Paper, args.data.source()?, args.model.dir());
    let (_, split) = settings.split()?;
    let vocabulary: Vec<&str> = (0..kit.neighbours.len()).map(|i| kit.neighbours.word(i)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    // (kind, original window, swapped window)
    let mut pairs: [Vec<(String, String)>; 3] = Default::default();
    for example in split.dev.iter().take(args.sentences) {
        let words = Words::new(&example.text);
        if words.len() < WINDOW {
            continue; // TextFooler skips the check for these
        }
        for (i, word) in words.0.iter().enumerate() {
            if !Words::is_wordlike(word) || StopWords::TextFooler.contains(word) {
                continue;
            }
            let synonyms: Vec<&str> = kit.wordnet.synonyms(word).into_iter().filter(|s| kit.neighbours.contains(s)).collect();
            let neighbours: Vec<&str> = kit.neighbours.neighbours(word).into_iter().filter(|(_, c)| *c >= 0.5).map(|(w, _)| w).collect();
            let (Some(synonym), Some(neighbour)) = (synonyms.choose(&mut rng), neighbours.choose(&mut rng)) else { continue };
            let random = vocabulary[rng.random_range(0..vocabulary.len())];
            for (kind, substitute) in [synonym, neighbour, &random].into_iter().enumerate() {
                pairs[kind].push((words.window(i, WINDOW), words.swapped(i, substitute).window(i, WINDOW)));
            }
        }
    }
    anyhow::ensure!(!pairs[0].is_empty(), "no dev sentence of {WINDOW}+ words has a word with a WordNet synonym in the table");
    let mut similarities = Vec::new();
    for kind in &pairs {
        let mut sims = Vec::with_capacity(kind.len());
        for chunk in kind.chunks(32) {
            let texts: Vec<String> = chunk.iter().flat_map(|(a, b)| [a.clone(), b.clone()]).collect();
            let e = encoder.embed(&texts)?;
            sims.extend(e.chunks_exact(2).map(|p| angular(&p[0], &p[1])));
        }
        sims.sort_by(f32::total_cmp);
        similarities.push(sims);
    }
    let floor = quantile(&similarities[0], 1.0 - KEEP);
    let describe = |s: &[f32]| Swaps {
        count: s.len(),
        quantiles: [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9].iter().map(|&q| (q, quantile(s, q))).collect(),
        kept: s.iter().filter(|&&x| x >= floor).count() as f64 / s.len() as f64,
    };
    let [synonym, neighbour, random] = [0, 1, 2].map(|k| describe(&similarities[k]));
    let run = RunDir::create(&args.out, false)?;
    let record = serde_json::json!({
        "command": std::env::args().collect::<Vec<_>>(),
        "what": "angular similarity (1 - arccos(cos)/pi) of mean-pooled base-encoder embeddings of the 15-word window around one swapped word, \
                 in dev sentences of 15+ words; one swap of each kind per eligible word (TextFooler's stop words excluded)",
        "encoder": kit.files.dir.display().to_string(), "neighbours": kit.neighbours.vectors, "data": settings.data.to_string(),
        "sentences": args.sentences, "seed": args.seed, "keep": KEEP,
        "proposed_floor": floor, "synonym_swaps": synonym, "neighbour_swaps": neighbour, "random_swaps": random,
        "use_floor_in_text_attack": 0.840845,
    });
    run.write_json("similarity.json", &record)?;
    eprintln!(
        "floor {floor:.4}: keeps {:.1}% of {} synonym swaps, {:.1}% of neighbour swaps, {:.1}% of random swaps",
        100.0 * synonym.kept,
        synonym.count,
        100.0 * neighbour.kept,
        100.0 * random.kept
    );
    println!("{}", serde_json::to_string_pretty(&record)?);
    Ok(())
}
