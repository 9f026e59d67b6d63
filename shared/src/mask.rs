//! From gate scores to a ticket: the L0 penalty the search minimises, and drawing a binary mask
//! at an exact sparsity by global top-k on the scores.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::gate::HardConcreteGate;

/// How the expected-L0 penalty averages over matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum L0Form {
    /// PAPER.md: the mean over all gated weights.
    #[default]
    MeanOverWeights,
    /// The reference code: unweighted mean of per-matrix means (a 384x384 matrix counts as
    /// much as a 1536x384 one).
    MeanOfMatrixMeans,
}

/// The smoothed L0 penalty R: expected fraction of open gates.
///
/// # Shapes
/// output: `[1]`.
pub fn l0_penalty(gates: &[&HardConcreteGate], form: L0Form) -> Tensor<1> {
    assert!(!gates.is_empty(), "l0_penalty needs at least one gate");
    match form {
        L0Form::MeanOverWeights => {
            let total: usize = gates.iter().map(|g| g.len()).sum();
            let sum = gates.iter().map(|g| g.open_probability().sum()).reduce(|a, b| a + b).expect("non-empty");
            sum / total as f64
        }
        L0Form::MeanOfMatrixMeans => {
            let sum = gates.iter().map(|g| g.open_probability().mean()).reduce(|a, b| a + b).expect("non-empty");
            sum / gates.len() as f64
        }
    }
}

/// Keeps the `round((1 - sparsity) * N)` highest scores across all matrices (global top-k),
/// ties broken by position (earlier matrix, then earlier weight, wins), so the sparsity is
/// exact. Returns one keep-mask per matrix, in input order. Takes the matrices as slices or
/// owned vectors alike, so callers holding `Vec<Vec<f32>>` pass them as they are.
pub fn draw_global<S: AsRef<[f32]>>(scores: &[S], sparsity: f64) -> Vec<Vec<bool>> {
    let scores: Vec<&[f32]> = scores.iter().map(AsRef::as_ref).collect();
    assert!((0.0..=1.0).contains(&sparsity), "sparsity {sparsity} is not in [0, 1]");
    let total: usize = scores.iter().map(|s| s.len()).sum();
    let keep = ((1.0 - sparsity) * total as f64).round() as usize;
    let mut order: Vec<(usize, usize)> =
        scores.iter().enumerate().flat_map(|(m, s)| (0..s.len()).map(move |i| (m, i))).collect();
    // Descending score; NaN (a broken search) sorts last so it is pruned first.
    order.sort_by(|&(ma, ia), &(mb, ib)| {
        let (a, b) = (scores[ma][ia], scores[mb][ib]);
        b.partial_cmp(&a).unwrap_or_else(|| a.is_nan().cmp(&b.is_nan())).then((ma, ia).cmp(&(mb, ib)))
    });
    let mut masks: Vec<Vec<bool>> = scores.iter().map(|s| vec![false; s.len()]).collect();
    for &(m, i) in &order[..keep] {
        masks[m][i] = true;
    }
    masks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draw_hits_the_sparsity_exactly_and_keeps_the_top_scores() {
        let a = [0.9f32, 0.1, 0.5, 0.5];
        let b = [0.7f32, 0.2, 0.5, 0.0, 0.95, 0.3];
        for (sparsity, kept) in [(0.0, 10), (0.3, 7), (0.5, 5), (0.95, 1), (1.0, 0)] {
            let masks = draw_global(&[&a[..], &b[..]], sparsity);
            let count: usize = masks.iter().flatten().filter(|k| **k).count();
            assert_eq!(count, kept, "sparsity {sparsity}");
        }
        let masks = draw_global(&[&a[..], &b[..]], 0.5);
        assert_eq!(masks[0], vec![true, false, true, true]); // 0.9 and both 0.5s (ties: earlier matrix first)
        assert_eq!(masks[1], vec![true, false, false, false, true, false]); // 0.95, 0.7; its 0.5 loses the tie
    }

    #[test]
    fn nan_scores_are_pruned_first() {
        let masks = draw_global(&[&[f32::NAN, 0.1, 0.2]], 1.0 / 3.0);
        assert_eq!(masks[0], vec![false, true, true]);
    }
}
