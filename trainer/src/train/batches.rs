//! Cutting examples into batches: shuffled for training, length-sorted for evaluation.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Indices `0..n` shuffled by `seed` (ChaCha8: the same on every platform), in batches.
pub fn shuffled_batches(n: usize, batch_size: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    order.chunks(batch_size).map(<[usize]>::to_vec).collect()
}

/// Indices sorted by `lengths` (so padding is minimal), in batches.
pub fn batches_by_length(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    order.chunks(batch_size).map(<[usize]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_batches_cover_everything_once() {
        let batches = shuffled_batches(10, 4, 3);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 2]);
        let mut all: Vec<usize> = batches.concat();
        assert_ne!(all, (0..10).collect::<Vec<_>>(), "seed 3 should move something");
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn length_batches_group_similar_lengths() {
        assert_eq!(batches_by_length(&[5, 1, 3, 2], 2), vec![vec![1, 3], vec![2, 0]]);
    }
}
