//! Entropy-coded masks: the keep bits of one matrix coded with ANS (the `constriction` crate)
//! under an i.i.d. Bernoulli model, so a matrix of n weights at density d costs about
//! n * H(d) bits instead of n. The model's keep probability is stored as a 24-bit fixed-point
//! integer, so encoder and decoder agree bit for bit on every platform (no floats involved).

use constriction::stream::model::DefaultContiguousCategoricalEntropyModel;
use constriction::stream::stack::DefaultAnsCoder;
use constriction::stream::Decode;

use super::TicketError;

/// Fixed-point precision of the model's probabilities (constriction's default).
const PRECISION: u32 = 24;
const ONE: u32 = 1 << PRECISION;

/// The keep probability for `kept` of `total` bits, in units of 2^-24, kept strictly inside
/// (0, 1) so both symbols stay codable.
pub fn keep_probability(kept: usize, total: usize) -> u32 {
    let exact = (kept as f64 / total.max(1) as f64 * f64::from(ONE)).round() as u32;
    exact.clamp(1, ONE - 1)
}

fn model(keep: u32) -> Result<DefaultContiguousCategoricalEntropyModel, TicketError> {
    if keep == 0 || keep >= ONE {
        return Err(TicketError::Corrupt(format!("mask keep probability {keep} is outside (0, 2^24)")));
    }
    DefaultContiguousCategoricalEntropyModel::from_nonzero_fixed_point_probabilities([ONE - keep, keep], false)
        .map_err(|()| TicketError::Corrupt(format!("mask keep probability {keep} gives no valid model")))
}

/// Codes `bits` under keep probability `keep` (see [`keep_probability`]).
pub fn encode(bits: &[bool], keep: u32) -> Result<Vec<u32>, TicketError> {
    let model = model(keep)?;
    let mut coder = DefaultAnsCoder::new();
    coder
        .encode_iid_symbols_reverse(bits.iter().map(|&b| usize::from(b)), &model)
        .map_err(|e| TicketError::Corrupt(format!("entropy coding a mask: {e:?}")))?;
    coder.into_compressed().map_err(|e| TicketError::Corrupt(format!("entropy coding a mask: {e:?}")))
}

/// Decodes `len` bits coded by [`encode`], checking that the words hold exactly that many.
pub fn decode(words: &[u32], len: usize, keep: u32) -> Result<Vec<bool>, TicketError> {
    let model = model(keep)?;
    let mut coder = DefaultAnsCoder::from_compressed(words.to_vec())
        .map_err(|_| TicketError::Corrupt("an entropy-coded mask ends in a zero word".into()))?;
    let bits = coder
        .decode_iid_symbols(len, &model)
        .map(|symbol| symbol.map(|s| s == 1))
        .collect::<Result<Vec<bool>, _>>()
        .map_err(|e| TicketError::Corrupt(format!("decoding an entropy-coded mask: {e:?}")))?;
    if !coder.is_empty() {
        return Err(TicketError::Corrupt(format!("an entropy-coded mask holds more than its {len} weights")));
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bernoulli(n: usize, density: f64, seed: u64) -> Vec<bool> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 11) as f64 / (1u64 << 53) as f64) < density
            })
            .collect()
    }

    fn entropy(p: f64) -> f64 {
        -(p * p.log2() + (1.0 - p) * (1.0 - p).log2())
    }

    #[test]
    fn round_trips_and_comes_within_one_percent_of_the_entropy_bound() {
        for density in [0.7, 0.3, 0.05, 0.5] {
            let n = 200_000;
            let bits = bernoulli(n, density, 7);
            let kept = bits.iter().filter(|b| **b).count();
            let keep = keep_probability(kept, n);
            let words = encode(&bits, keep).unwrap();
            assert_eq!(decode(&words, n, keep).unwrap(), bits, "density {density}");
            let stored = words.len() as f64 * 32.0 / n as f64;
            let bound = entropy(kept as f64 / n as f64);
            assert!(stored < bound * 1.01 + 1e-3, "density {density}: {stored:.4} bits/weight vs bound {bound:.4}");
        }
    }

    #[test]
    fn all_kept_or_all_pruned_masks_cost_almost_nothing_and_round_trip() {
        for value in [true, false] {
            let bits = vec![value; 50_000];
            let keep = keep_probability(if value { bits.len() } else { 0 }, bits.len());
            let words = encode(&bits, keep).unwrap();
            assert!(words.len() <= 4, "{} words for a constant mask", words.len());
            assert_eq!(decode(&words, bits.len(), keep).unwrap(), bits);
        }
    }

    #[test]
    fn wrong_length_or_damaged_words_are_errors_or_other_bits_never_panics() {
        let bits = bernoulli(10_000, 0.7, 3);
        let keep = keep_probability(bits.iter().filter(|b| **b).count(), bits.len());
        let words = encode(&bits, keep).unwrap();
        assert!(decode(&words, bits.len() - 100, keep).is_err(), "leftover words went unnoticed");
        assert!(decode(&[], 10, keep).is_err() || decode(&[], 10, keep).unwrap().len() == 10);
        assert!(decode(&words, bits.len(), 0).is_err());
        assert!(decode(&words, bits.len(), ONE).is_err());
        for i in 0..words.len() {
            let mut damaged = words.clone();
            damaged[i] ^= 0x0010_0401;
            // Either an error or some mask of the right length; the ticket reader then
            // checks the mask's count against the recorded density.
            if let Ok(decoded) = decode(&damaged, bits.len(), keep) {
                assert_eq!(decoded.len(), bits.len());
            }
        }
    }
}
