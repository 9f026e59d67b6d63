//! The CPU's gate sample: counter-based noise and the whole hard-concrete arithmetic in one
//! threaded pass per matrix, laid out so that the compiler vectorises all of it but the
//! exponential.

use crate::random::{StreamKey, fill_chunk_pairs};

/// The constants of one sample, in f32 as the pass computes.
#[derive(Debug, Clone, Copy)]
pub(super) struct HostSample {
    pub key: StreamKey,
    /// gamma
    pub low: f32,
    /// zeta - gamma
    pub span: f32,
    /// 1 / beta
    pub power: f32,
    /// (zeta - gamma) / beta
    pub slope_factor: f32,
    pub eps: f32,
}

impl HostSample {
    pub fn new(key: StreamKey, limit_low: f64, limit_high: f64, temperature: f64, noise_eps: f64) -> Self {
        let (low, high, beta) = (limit_low as f32, limit_high as f32, temperature as f32);
        Self { key, low, span: high - low, power: 1.0 / beta, slope_factor: (high - low) / beta, eps: noise_eps as f32 }
    }

    /// `(scale * z, scale * dz/dlog_alpha)` for every score (scale 1 without one).
    pub fn run(&self, scores: &[f32], scale: Option<&[f32]>) -> (Vec<f32>, Vec<f32>) {
        fill_chunk_pairs(scores.len(), |start, values, slopes| {
            let range = start..start + values.len();
            self.fill(start, &scores[range.clone()], scale.map(|w| &w[range]), values, slopes);
        })
    }

    /// One chunk, the indices from `start`. The arithmetic of every weight is
    /// `u = eps + unit (1 - 2 eps)`, `s = sigmoid((ln u - ln(1 - u) + a) / beta)` computed as
    /// `1 / (1 + ((1 - u) / u)^(1 / beta) e^(-a / beta))` (one exp and, at beta = 2/3, a square
    /// root instead of two logs and an exp), `z = clamp(s (zeta - gamma) + gamma, 0, 1)`, slope
    /// `(zeta - gamma) / beta s (1 - s)` inside the clamp and 0 where it holds. Three loops so
    /// that two of them vectorise: the same operations in the same order as one loop, so the
    /// same bits (random streams v2), only `exp` (libm's) stays scalar.
    fn fill(&self, start: usize, scores: &[f32], scale: Option<&[f32]>, values: &mut [f32], slopes: &mut [f32]) {
        let Self { key, low, span, power, slope_factor, eps } = *self;
        // 1. The noise into `values` (64-bit integer mixing: scalar on SSE2), then the odds'
        // power in place and the exponent's argument into `slopes` (vectorised).
        for (j, v) in values.iter_mut().enumerate() {
            *v = key.unit(start + j);
        }
        let odds = |unit: f32| {
            let u = eps + unit * (1.0 - 2.0 * eps);
            (1.0 - u) / u
        };
        if power == 1.5 {
            for (v, (e, &a)) in values.iter_mut().zip(slopes.iter_mut().zip(scores)) {
                let o = odds(*v);
                *v = o * o.sqrt();
                *e = -a * power;
            }
        } else {
            for (v, (e, &a)) in values.iter_mut().zip(slopes.iter_mut().zip(scores)) {
                *v = odds(*v).powf(power);
                *e = -a * power;
            }
        }
        // 2. The exponential, one element at a time.
        for e in slopes.iter_mut() {
            *e = e.exp();
        }
        // 3. Sigmoid, stretch, clamp and slope, branch-free (selects the compiler vectorises).
        for (v, e) in values.iter_mut().zip(slopes.iter_mut()) {
            let s = 1.0 / (1.0 + *v * *e);
            let stretched = s * span + low;
            let inside_slope = slope_factor * s * (1.0 - s);
            let (z, slope) = if stretched <= 0.0 {
                (0.0, 0.0)
            } else if stretched >= 1.0 {
                (1.0, 0.0)
            } else {
                (stretched, inside_slope)
            };
            (*v, *e) = (z, slope);
        }
        if let Some(w) = scale {
            for ((v, e), &w) in values.iter_mut().zip(slopes.iter_mut()).zip(w) {
                (*v, *e) = (w * *v, w * *e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-weight closure of random streams v2 as it was written before the chunked pass.
    fn one_weight(sample: &HostSample, i: usize, score: f32, w: f32) -> (f32, f32) {
        let HostSample { key, low, span, power, slope_factor, eps } = *sample;
        let odds_power = |odds: f32| if power == 1.5 { odds * odds.sqrt() } else { odds.powf(power) };
        let u = eps + key.unit(i) * (1.0 - 2.0 * eps);
        let s = 1.0 / (1.0 + odds_power((1.0 - u) / u) * (-score * power).exp());
        let stretched = s * span + low;
        let (z, slope) = if stretched <= 0.0 {
            (0.0, 0.0)
        } else if stretched >= 1.0 {
            (1.0, 0.0)
        } else {
            (stretched, slope_factor * s * (1.0 - s))
        };
        (w * z, w * slope)
    }

    #[test]
    fn the_chunked_pass_gives_the_bits_of_the_per_weight_arithmetic() {
        // Several chunks and a ragged end; scores from shut through open, a NaN, both temperatures' paths.
        let n = 3 * (1 << 14) + 777;
        let scores: Vec<f32> = (0..n).map(|i| if i == 5 { f32::NAN } else { ((i * 37 % 1001) as f32 - 500.0) / 60.0 }).collect();
        let w: Vec<f32> = (0..n).map(|i| ((i * 53 % 97) as f32 - 48.5) / 50.0).collect();
        for temperature in [2.0 / 3.0, 0.5] {
            let sample = HostSample::new(StreamKey::from_parts(3, 9), -0.1, 1.1, temperature, 1e-4);
            for scale in [None, Some(w.as_slice())] {
                let (values, slopes) = sample.run(&scores, scale);
                for i in 0..n {
                    let (want_v, want_s) = one_weight(&sample, i, scores[i], scale.map_or(1.0, |w| w[i]));
                    // NaN in, NaN out (its payload may depend on the operands' order).
                    let same = |got: f32, want: f32| got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
                    assert!(same(values[i], want_v), "value {i} at beta {temperature}: {} against {want_v}", values[i]);
                    assert!(same(slopes[i], want_s), "slope {i} at beta {temperature}: {} against {want_s}", slopes[i]);
                }
                let inside = slopes.iter().filter(|&&s| s != 0.0 && s.is_finite()).count();
                assert!(inside > n / 10 && values.iter().filter(|&&v| v == 0.0).count() > n / 10, "{inside} inside");
            }
        }
    }
}
