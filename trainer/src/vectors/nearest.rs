//! Every word's nearest words by cosine: the similarity matrix in row blocks on the chosen
//! device (a matrix product), each row's top `k` picked on the CPU's threads.

use anyhow::Result;
use burn::tensor::{Device, Tensor, TensorData};
use rayon::prelude::*;

use super::WordVectors;

/// Rows of the similarity matrix held at once (512 x 100k floats = 200 MB).
const BLOCK: usize = 512;

/// For each word of `vectors` (unit rows), up to `k` other words with cosine >= `min_cosine`,
/// best first, as `(row, cosine)`. Ties keep the lower row (the more frequent word) first.
pub fn nearest(vectors: &WordVectors, k: usize, min_cosine: f32, device: &Device) -> Result<Vec<Vec<(u32, f32)>>> {
    let n = vectors.len();
    let all = Tensor::<2>::from_data(TensorData::new(vectors.values.clone(), [n, vectors.dim]), device);
    let transposed = all.clone().transpose();
    let mut rows = Vec::with_capacity(n);
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        let sims = all.clone().narrow(0, start, end - start).matmul(transposed.clone());
        let sims = sims.into_data().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let block: Vec<Vec<(u32, f32)>> =
            sims.par_chunks_exact(n).enumerate().map(|(r, row)| top_k(row, start + r, k, min_cosine)).collect();
        rows.extend(block);
    }
    Ok(rows)
}

/// The `k` largest entries of `row` at or above `floor`, leaving out `itself`.
fn top_k(row: &[f32], itself: usize, k: usize, floor: f32) -> Vec<(u32, f32)> {
    let mut best: Vec<(u32, f32)> = Vec::with_capacity(k + 1);
    if k == 0 {
        return best;
    }
    for (j, &c) in row.iter().enumerate() {
        if j == itself || c < floor || c.is_nan() || (best.len() == k && c <= best[k - 1].1) {
            continue;
        }
        // Sorted descending; an equal cosine goes after the ones already there (lower rows).
        let at = best.partition_point(|&(_, b)| b >= c);
        best.insert(at, (j as u32, c));
        best.truncate(k);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_is_sorted_skips_itself_and_the_floor() {
        let row = [1.0, 0.2, 0.9, 0.5, 0.9, -0.3];
        assert_eq!(top_k(&row, 0, 3, 0.0), vec![(2, 0.9), (4, 0.9), (3, 0.5)]);
        assert_eq!(top_k(&row, 2, 10, 0.4), vec![(0, 1.0), (4, 0.9), (3, 0.5)]);
        assert!(top_k(&row, 0, 0, 0.0).is_empty());
    }

    #[test]
    fn nearest_matches_brute_force() {
        let device = burn::tensor::Device::flex();
        let mut v = WordVectors { words: (0..700).map(|i| format!("w{i}")).collect(), dim: 3, values: Vec::new() };
        v.values = (0..700 * 3).map(|i| ((i * 7919 % 1013) as f32 / 1013.0) - 0.5).collect();
        v.normalise();
        let got = nearest(&v, 4, 0.1, &device).unwrap();
        for i in [0, 511, 512, 699] {
            let mut want: Vec<(u32, f32)> = (0..700).filter(|&j| j != i).map(|j| (j as u32, v.cosine(i, j))).filter(|p| p.1 >= 0.1).collect();
            want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let ids: Vec<u32> = got[i].iter().map(|p| p.0).collect();
            let want_ids: Vec<u32> = want.iter().take(4).map(|p| p.0).collect();
            let close = got[i].iter().zip(&want).all(|(g, w)| (g.1 - w.1).abs() < 1e-5);
            assert!(ids == want_ids || close, "row {i}: {:?} vs {:?}", got[i], &want[..4]);
        }
    }
}
