//! A fixed, seeded, stratified train/dev/test split (the corpora ship without one).

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::Example;

/// The default split seed, written down in the README.
pub const SPLIT_SEED: u64 = 20220522;

/// Fractions of each class that go to dev and test; the rest is train.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct SplitSizes {
    pub dev: f64,
    pub test: f64,
}

impl Default for SplitSizes {
    fn default() -> Self {
        Self { dev: 0.1, test: 0.1 }
    }
}

/// The three parts of a corpus.
#[derive(Debug, Clone)]
pub struct Split {
    pub train: Vec<Example>,
    pub dev: Vec<Example>,
    pub test: Vec<Example>,
}

/// Shuffles each class with ChaCha8 (stable across platforms and rand versions) seeded by
/// `seed`, cuts it by `sizes`, and sorts each part by source row.
pub fn stratified_split(examples: &[Example], num_labels: usize, sizes: SplitSizes, seed: u64) -> Split {
    let mut split = Split { train: Vec::new(), dev: Vec::new(), test: Vec::new() };
    for label in 0..num_labels {
        let mut class: Vec<&Example> = examples.iter().filter(|e| e.label == label).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(label as u64));
        class.shuffle(&mut rng);
        let n_dev = (class.len() as f64 * sizes.dev).round() as usize;
        let n_test = (class.len() as f64 * sizes.test).round() as usize;
        split.test.extend(class[..n_test].iter().map(|e| (*e).clone()));
        split.dev.extend(class[n_test..n_test + n_dev].iter().map(|e| (*e).clone()));
        split.train.extend(class[n_test + n_dev..].iter().map(|e| (*e).clone()));
    }
    for part in [&mut split.train, &mut split.dev, &mut split.test] {
        part.sort_by_key(|e| e.id);
    }
    split
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(n: usize) -> Vec<Example> {
        (0..n).map(|id| Example { id, text: format!("t{id}"), label: id % 2 }).collect()
    }

    #[test]
    fn split_is_stratified_disjoint_and_complete() {
        let examples = corpus(1000);
        let split = stratified_split(&examples, 2, SplitSizes::default(), 7);
        assert_eq!((split.train.len(), split.dev.len(), split.test.len()), (800, 100, 100));
        for part in [&split.dev, &split.test] {
            assert_eq!(part.iter().filter(|e| e.label == 1).count(), 50);
        }
        let mut ids: Vec<usize> =
            split.train.iter().chain(&split.dev).chain(&split.test).map(|e| e.id).collect();
        ids.sort();
        assert_eq!(ids, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn seed_decides_the_split() {
        let examples = corpus(200);
        let a = stratified_split(&examples, 2, SplitSizes::default(), 1);
        let b = stratified_split(&examples, 2, SplitSizes::default(), 1);
        let c = stratified_split(&examples, 2, SplitSizes::default(), 2);
        assert_eq!(a.test, b.test);
        assert_ne!(a.test, c.test);
    }
}
