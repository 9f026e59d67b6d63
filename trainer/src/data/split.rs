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

/// `n` of `examples` with the classes as even as they allow, drawn by ChaCha8 from `seed` and
/// returned in source order; all of them when `n` covers them. Parts of a split are sorted by
/// source row and MR lists its rows class by class, so "the first `n`" of its test split
/// would be one class only.
pub fn balanced_subset(examples: Vec<Example>, n: usize, seed: u64) -> Vec<Example> {
    if n >= examples.len() {
        return examples;
    }
    let mut classes: Vec<Vec<Example>> = label_counts(&examples).into_iter().map(Vec::with_capacity).collect();
    for example in examples {
        classes[example.label].push(example);
    }
    for (label, class) in classes.iter_mut().enumerate() {
        class.shuffle(&mut ChaCha8Rng::seed_from_u64(seed.wrapping_add(label as u64)));
        // Dealt from the back below, so reverse to deal the shuffled order from its front.
        class.reverse();
    }
    // Deal one example per class in turn, so every class gets an equal share (or one more)
    // until a class runs out.
    let mut chosen = Vec::with_capacity(n);
    while chosen.len() < n {
        for class in classes.iter_mut() {
            if chosen.len() < n
                && let Some(example) = class.pop()
            {
                chosen.push(example);
            }
        }
    }
    chosen.sort_by_key(|e| e.id);
    chosen
}

/// How many of `examples` each label has, by label (up to the largest label present).
pub fn label_counts(examples: &[Example]) -> Vec<usize> {
    let mut counts = vec![0; examples.iter().map(|e| e.label + 1).max().unwrap_or(0)];
    for example in examples {
        counts[example.label] += 1;
    }
    counts
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

    /// Labels as the real corpora list them: one class's rows, then the other's.
    fn class_by_class(n: usize) -> Vec<Example> {
        (0..n).map(|id| Example { id, text: format!("t{id}"), label: usize::from(id >= n / 2) }).collect()
    }

    #[test]
    fn a_subset_is_balanced_seeded_and_in_source_order() {
        let examples = class_by_class(400);
        let subset = balanced_subset(examples.clone(), 100, 5);
        assert_eq!(subset.len(), 100);
        assert_eq!(subset.iter().filter(|e| e.label == 1).count(), 50);
        assert!(subset.windows(2).all(|w| w[0].id < w[1].id), "not in source order");
        assert!(subset.iter().all(|e| examples.contains(e)));
        assert_eq!(subset, balanced_subset(examples.clone(), 100, 5));
        assert_ne!(subset, balanced_subset(examples.clone(), 100, 6));
        // Not simply each class's first rows.
        assert_ne!(subset.iter().filter(|e| e.label == 0).map(|e| e.id).collect::<Vec<_>>(), (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn a_subset_fills_up_from_the_larger_class_and_all_is_all() {
        let mut examples = class_by_class(20);
        examples.truncate(13); // ten of class 0, three of class 1
        let subset = balanced_subset(examples.clone(), 9, 1);
        assert_eq!(subset.iter().filter(|e| e.label == 1).count(), 3);
        assert_eq!(subset.len(), 9);
        assert_eq!(balanced_subset(examples.clone(), 13, 1), examples);
        assert_eq!(balanced_subset(examples.clone(), usize::MAX, 1), examples);
        assert_eq!(balanced_subset(Vec::new(), 5, 1), Vec::new());
    }
}
