//! What counter-fitting did, for a reader: cosine distributions of synonym, antonym and random
//! pairs before and after, and the neighbours of a fixed list of words, as markdown.

use std::fmt::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rticket_core::attack::NeighbourTable;
use serde::Serialize;

use super::{Constraints, WordVectors};

/// Words whose neighbours the report lists (the list: sentiment words and the domain's nouns).
pub const PROBE_WORDS: [&str; 7] = ["good", "terrible", "movie", "funny", "boring", "tedious", "pretentious"];
const QUANTILES: [f64; 5] = [0.1, 0.25, 0.5, 0.75, 0.9];

/// Cosine quantiles of one kind of pair.
#[derive(Debug, Clone, Serialize)]
pub struct Distribution {
    pub pairs: usize,
    pub quantiles: Vec<f32>,
    /// Fraction at or above the TextFooler cut (0.5).
    pub at_least_half: f64,
}

/// Distributions before and after, per kind of pair.
#[derive(Debug, Clone, Serialize)]
pub struct QualityReport {
    pub synonyms: [Distribution; 2],
    pub antonyms: [Distribution; 2],
    pub random: [Distribution; 2],
    pub markdown: String,
}

/// The `q` quantile of ascending `sorted` (nearest rank; NaN when empty).
pub fn quantile(sorted: &[f32], q: f64) -> f32 {
    sorted.get((sorted.len().saturating_sub(1) as f64 * q).round() as usize).copied().unwrap_or(f32::NAN)
}

fn distribution(vectors: &WordVectors, pairs: &[(u32, u32)]) -> Distribution {
    let mut cos: Vec<f32> = pairs.iter().map(|&(i, j)| vectors.cosine(i as usize, j as usize)).collect();
    cos.sort_by(f32::total_cmp);
    Distribution {
        pairs: cos.len(),
        quantiles: QUANTILES.iter().map(|&q| quantile(&cos, q)).collect(),
        at_least_half: cos.iter().filter(|&&c| c >= 0.5).count() as f64 / cos.len().max(1) as f64,
    }
}

/// Compares `before` and `after` (same words) and lists `table`'s neighbours of [`PROBE_WORDS`].
pub fn quality_report(before: &WordVectors, after: &WordVectors, constraints: &Constraints, table: &NeighbourTable, title: &str) -> QualityReport {
    let one_way = |pairs: &[(u32, u32)]| pairs.iter().copied().filter(|(i, j)| i < j).collect::<Vec<_>>();
    let (synonyms, antonyms) = (one_way(&constraints.synonyms), one_way(&constraints.antonyms));
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = before.len() as u32;
    let random: Vec<(u32, u32)> = (0..20_000).map(|_| (rng.random_range(0..n), rng.random_range(0..n))).filter(|(i, j)| i != j).collect();
    let both = |pairs: &[(u32, u32)]| [distribution(before, pairs), distribution(after, pairs)];
    let (synonyms, antonyms, random) = (both(&synonyms), both(&antonyms), both(&random));

    let mut md = format!("# {title}\n\n");
    md += "Cosine of word pairs before and after counter-fitting (quantiles 10 / 25 / 50 / 75 / 90 %, and the share at or above \
           TextFooler's 0.5 cut). Synonyms and antonyms are WordNet's pairs among the table's words (the constraints counter-fitting \
           was given; antonyms are the direct ones and, for adjectives, each word of one cluster, with the heads it says to see also, \
           against each of its antonym's cluster, carried to inflections and to adverbs derived from the adjectives); random pairs \
           are 20,000 seeded draws.\n\n";
    md += "| pairs | count | before | >= 0.5 before | after | >= 0.5 after |\n|---|---:|---|---:|---|---:|\n";
    for (name, [b, a]) in [("synonyms", &synonyms), ("antonyms", &antonyms), ("random", &random)] {
        let q = |d: &Distribution| d.quantiles.iter().map(|c| format!("{c:.2}")).collect::<Vec<_>>().join(" / ");
        let _ = writeln!(md, "| {name} | {} | {} | {:.1}% | {} | {:.1}% |", b.pairs, q(b), 100.0 * b.at_least_half, q(a), 100.0 * a.at_least_half);
    }
    md += "\n## Neighbours in the table\n\nThe first 15 of each word's neighbours (cosine after counter-fitting); TextFooler keeps those at or above 0.5.\n\n";
    for word in PROBE_WORDS {
        let list: Vec<String> = table.neighbours(word).iter().take(15).map(|(w, c)| format!("{w} {c:.2}")).collect();
        let kept = table.neighbours(word).iter().filter(|(_, c)| *c >= 0.5).count();
        let _ = writeln!(md, "- **{word}** ({kept} at >= 0.5): {}", if list.is_empty() { "(not in the table)".into() } else { list.join(", ") });
    }
    QualityReport { synonyms, antonyms, random, markdown: md }
}
