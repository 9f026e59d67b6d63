//! `rticket calibrate`: TextFooler's sentence-similarity floor for our encoder. USE's 0.840845
//! (angular, 15-word windows) means nothing on mean-pooled MiniLM, so we measure the windowed
//! similarity of single word swaps in dev sentences: to a WordNet synonym (a swap the constraint
//! should let through), to a counter-fitted neighbour (what TextFooler proposes), and to a random
//! word (what it should stop), and propose the floor that keeps 95% of synonym swaps.
//!
//! It also proposes TextFooler's *neighbour* floor for our word vectors. TextAttack's cosine 0.5
//! was set for 300-d counter-fitted paragram vectors; in our 50-d counter-fitted GloVe nearly
//! every one of a word's 50 neighbours clears it. Among the neighbours of the dev sentences' words,
//! it proposes the floor that best separates WordNet synonyms from the rest (Youden's J: share of
//! synonyms kept minus share of others kept); the recipe keeps TextAttack's 0.5 (see
//! `TEXT_FOOLER_MIN_COSINE` for why) and `attack --min-cosine` applies the proposal.

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

/// Neighbour floors tried: 0.50, 0.51, ..., 0.95.
const NEIGHBOUR_FLOORS: std::ops::RangeInclusive<u32> = 50..=95;

/// One neighbour floor's separation of synonyms from other neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
struct FloorScore {
    floor: f32,
    /// Share of the synonym neighbours at or above the floor.
    synonyms_kept: f64,
    /// Share of the other neighbours at or above the floor.
    others_kept: f64,
    /// Neighbours per word occurrence at or above the floor.
    per_word: f64,
}

impl FloorScore {
    fn youden(&self) -> f64 {
        self.synonyms_kept - self.others_kept
    }
}

/// Scores each floor of `floors` on neighbour cosines labelled synonym (`true`) or not; the
/// proposal is the floor of highest Youden's J (the lowest of equals).
fn score_floors(neighbours: &[(f32, bool)], occurrences: usize, floors: impl Iterator<Item = f32>) -> (Vec<FloorScore>, FloorScore) {
    let count = |synonym: bool| neighbours.iter().filter(|n| n.1 == synonym).count().max(1) as f64;
    let (synonyms, others) = (count(true), count(false));
    let scores: Vec<FloorScore> = floors
        .map(|floor| {
            let kept = |synonym: bool| neighbours.iter().filter(|n| n.1 == synonym && n.0 >= floor).count() as f64;
            FloorScore {
                floor,
                synonyms_kept: kept(true) / synonyms,
                others_kept: kept(false) / others,
                per_word: neighbours.iter().filter(|n| n.0 >= floor).count() as f64 / occurrences.max(1) as f64,
            }
        })
        .collect();
    let best = scores.iter().copied().reduce(|best, s| if s.youden() > best.youden() { s } else { best }).expect("at least one floor");
    (scores, best)
}

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
    // Every neighbour of every eligible word occurrence, labelled WordNet synonym or not.
    let (mut labelled, mut occurrences) = (Vec::new(), 0);
    for example in split.dev.iter().take(args.sentences) {
        for word in Words::new(&example.text).0.iter().filter(|w| Words::is_wordlike(w) && !StopWords::TextFooler.contains(w)) {
            let synonyms = kit.wordnet.synonyms(word);
            let neighbours = kit.neighbours.neighbours(word);
            occurrences += usize::from(!neighbours.is_empty());
            labelled.extend(neighbours.into_iter().map(|(n, cosine)| (cosine, synonyms.contains(&n))));
        }
    }
    anyhow::ensure!(labelled.iter().any(|n| n.1), "no dev word has a WordNet synonym among its table neighbours");
    let (floor_scores, neighbour_floor) = score_floors(&labelled, occurrences, NEIGHBOUR_FLOORS.map(|f| f as f32 / 100.0));
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
        "neighbour_floor": {
            "what": "cosine floor on the neighbour table: among the table neighbours of every eligible word occurrence in the dev sentences \
                     (all lengths; TextFooler's stop words excluded), the floor of highest Youden's J = share of WordNet-synonym \
                     neighbours kept - share of other neighbours kept",
            "word_occurrences": occurrences,
            "synonym_neighbours": labelled.iter().filter(|n| n.1).count(),
            "other_neighbours": labelled.iter().filter(|n| !n.1).count(),
            "proposed": neighbour_floor,
            "floors": floor_scores,
            "text_attack_floor": 0.5,
        },
    });
    run.write_json("similarity.json", &record)?;
    eprintln!(
        "floor {floor:.4}: keeps {:.1}% of {} synonym swaps, {:.1}% of neighbour swaps, {:.1}% of random swaps",
        100.0 * synonym.kept,
        synonym.count,
        100.0 * neighbour.kept,
        100.0 * random.kept
    );
    eprintln!(
        "neighbour floor {:.2}: keeps {:.1}% of synonym neighbours, {:.1}% of the others, {:.1} neighbours a word",
        neighbour_floor.floor,
        100.0 * neighbour_floor.synonyms_kept,
        100.0 * neighbour_floor.others_kept,
        neighbour_floor.per_word
    );
    println!("{}", serde_json::to_string_pretty(&record)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proposed_floor_separates_synonyms_best() {
        // Synonyms at 0.9 and 0.8, others at 0.7, 0.6 and 0.85: 0.8 keeps both synonyms and one
        // other (J = 2/3); 0.9 keeps one synonym, no other (J = 1/2); 0.7 keeps all but 0.6 (J = 1/3).
        let neighbours = [(0.9, true), (0.8, true), (0.7, false), (0.6, false), (0.85, false)];
        let (scores, best) = score_floors(&neighbours, 2, [0.7, 0.8, 0.9].into_iter());
        assert_eq!(best.floor, 0.8);
        assert!((best.youden() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(scores.iter().map(|s| s.per_word).collect::<Vec<_>>(), vec![2.0, 1.5, 0.5]);
        // Equal J: the lower floor.
        let (_, tie) = score_floors(&[(0.9, true), (0.5, false)], 1, [0.6, 0.7].into_iter());
        assert_eq!(tie.floor, 0.6);
    }
}
