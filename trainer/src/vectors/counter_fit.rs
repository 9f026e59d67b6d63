//! Counter-fitting (Mrkšić et al., NAACL 2016), the procedure behind TextAttack's word vectors:
//! pull synonyms together, push antonyms apart, and keep each word's close neighbourhood from
//! the original space, by full-batch gradient steps on unit vectors.

use std::collections::{HashMap, HashSet};

use rticket_core::attack::WordNet;
use serde::{Deserialize, Serialize};

use super::{WordVectors, dot, normalise};

/// The procedure's hyper-parameters; the defaults are the paper's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CounterFitting {
    /// Full-batch steps.
    pub iterations: usize,
    /// Weights of the antonym-repel, synonym-attract and vector-space-preservation terms.
    pub k_antonym: f32,
    pub k_synonym: f32,
    pub k_preserve: f32,
    /// Antonyms closer than this cosine distance are pushed apart.
    pub delta: f32,
    /// Synonyms further than this cosine distance are pulled together.
    pub gamma: f32,
    /// Pairs within this cosine distance in the original space keep (at most) it.
    pub rho: f32,
}

impl Default for CounterFitting {
    fn default() -> Self {
        Self { iterations: 20, k_antonym: 0.1, k_synonym: 0.1, k_preserve: 0.1, delta: 1.0, gamma: 0.0, rho: 0.2 }
    }
}

/// The linguistic constraints over a vocabulary's rows, each pair in both directions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    pub synonyms: Vec<(u32, u32)>,
    pub antonyms: Vec<(u32, u32)>,
}

impl Constraints {
    /// WordNet's single-word synonyms and antonyms (direct and adjective-cluster) among `vectors`' words. A pair that
    /// WordNet lists as both (different senses) counts as antonyms only, as in the paper.
    pub fn from_wordnet(vectors: &WordVectors, wordnet: &WordNet) -> Self {
        let index = vectors.index();
        let pairs = |related: &dyn Fn(&str) -> Vec<String>| -> HashSet<(u32, u32)> {
            let mut out = HashSet::new();
            for (i, word) in vectors.words.iter().enumerate() {
                for other in related(word) {
                    if let Some(&j) = index.get(other.as_str())
                        && j as usize != i
                    {
                        out.insert((i as u32, j));
                        out.insert((j, i as u32));
                    }
                }
            }
            out
        };
        // An antonym lemma stands for every table word that inflects it or derives from it, so
        // `smartest` is pushed from `stupidest` and `endearingly` from `annoyingly`.
        let mut standing_for: HashMap<String, Vec<String>> = HashMap::new();
        for word in &vectors.words {
            for key in wordnet.lemma_keys(word) {
                standing_for.entry(key).or_default().push(word.clone());
            }
        }
        let antonyms = pairs(&|w| {
            wordnet.antonyms(w).into_iter().flat_map(|a| standing_for.get(a).cloned().unwrap_or_else(|| vec![a.to_string()])).collect()
        });
        let synonyms = pairs(&|w| wordnet.synonyms(w).into_iter().map(String::from).collect());
        let mut synonyms: Vec<(u32, u32)> = synonyms.difference(&antonyms).copied().collect();
        let mut antonyms: Vec<(u32, u32)> = antonyms.into_iter().collect();
        synonyms.sort_unstable();
        antonyms.sort_unstable();
        Self { synonyms, antonyms }
    }
}

/// Counter-fits unit `vectors` in place. `preserve` lists `(i, j)` pairs of close words in the
/// original space (the vector-space-preservation term keeps them at most as far apart as they were).
pub fn counter_fit(vectors: &mut WordVectors, constraints: &Constraints, preserve: &[(u32, u32)], params: &CounterFitting) {
    let dim = vectors.dim;
    let antonyms: HashSet<(u32, u32)> = constraints.antonyms.iter().copied().collect();
    let preserve: Vec<(u32, u32, f32)> = preserve
        .iter()
        .filter(|p| !antonyms.contains(p))
        .map(|&(i, j)| (i, j, 1.0 - vectors.cosine(i as usize, j as usize)))
        .filter(|p| p.2 <= params.rho)
        .collect();
    let mut updates = vec![0.0f32; vectors.values.len()];
    let mut counts = vec![0u32; vectors.len()];
    for _ in 0..params.iterations {
        updates.iter_mut().for_each(|u| *u = 0.0);
        counts.iter_mut().for_each(|c| *c = 0);
        let v = &vectors.values;
        let row = |i: u32| &v[i as usize * dim..(i as usize + 1) * dim];
        // Moves `moved` along `weight` times d(1 - u.v)/du projected onto the sphere, u (u.v) - v,
        // given the pair's cosine (already computed for the term's test).
        let mut step = |moved: u32, other: u32, cos: f32, weight: f32| {
            let m = moved as usize;
            for ((g, a), b) in updates[m * dim..(m + 1) * dim].iter_mut().zip(row(moved)).zip(row(other)) {
                *g += weight * (a * cos - b);
            }
            counts[m] += 1;
        };
        for &(i, j) in &constraints.antonyms {
            let cos = dot(row(i), row(j));
            if 1.0 - cos < params.delta {
                step(i, j, cos, params.k_antonym); // up the distance's gradient: apart
            }
        }
        for &(i, j) in &constraints.synonyms {
            let cos = dot(row(i), row(j));
            if 1.0 - cos > params.gamma {
                step(j, i, cos, -params.k_synonym); // down it: together
            }
        }
        for &(i, j, original) in &preserve {
            let cos = dot(row(i), row(j));
            if 1.0 - cos > original {
                step(i, j, cos, -params.k_preserve);
            }
        }
        // Each word moves by the mean of its terms' steps (the paper's scaling), then back to the sphere.
        for (w, &count) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
            let row = &mut vectors.values[w * dim..(w + 1) * dim];
            for (x, g) in row.iter_mut().zip(&updates[w * dim..(w + 1) * dim]) {
                *x += g / count as f32;
            }
            normalise(row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> WordVectors {
        // good ~ fine, bad close to good (as raw distributional vectors have it), film unrelated.
        let mut v = WordVectors {
            words: ["good", "fine", "bad", "film"].map(String::from).to_vec(),
            dim: 3,
            values: vec![1.0, 0.2, 0.0, 0.3, 1.0, 0.0, 1.0, 0.4, 0.1, 0.0, 0.1, 1.0],
        };
        v.normalise();
        v
    }

    #[test]
    fn synonyms_come_together_and_antonyms_part() {
        let mut v = words();
        let constraints = Constraints { synonyms: vec![(0, 1), (1, 0)], antonyms: vec![(0, 2), (2, 0)] };
        let (syn, ant, other) = (v.cosine(0, 1), v.cosine(0, 2), v.cosine(0, 3));
        counter_fit(&mut v, &constraints, &[], &CounterFitting::default());
        assert!(v.cosine(0, 1) > syn + 0.1, "synonyms {syn} -> {}", v.cosine(0, 1));
        assert!(v.cosine(0, 2) < ant - 0.3, "antonyms {ant} -> {}", v.cosine(0, 2));
        assert!((v.cosine(3, 3) - 1.0).abs() < 1e-5 && (v.cosine(0, 3) - other).abs() < 0.5);
        // A word no constraint touches does not move.
        assert_eq!(v.row(3), words().row(3));
    }

    #[test]
    fn preservation_holds_close_pairs_together() {
        let constraints = Constraints { synonyms: vec![], antonyms: vec![(0, 2), (2, 0)] };
        let params = CounterFitting { rho: 1.0, ..Default::default() };
        let mut free = words();
        counter_fit(&mut free, &constraints, &[], &params);
        let mut kept = words();
        counter_fit(&mut kept, &constraints, &[(1, 0), (0, 1)], &params);
        assert!(kept.cosine(0, 1) > free.cosine(0, 1), "{} vs {}", kept.cosine(0, 1), free.cosine(0, 1));
    }
}
