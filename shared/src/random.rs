//! Counter-based random streams for training on the CPU: each value a pure function of a key
//! and its index, so a whole tensor of gate noise or dropout fills in one threaded pass.
//!
//! burn's CPU backend draws its random tensors one element at a time from a generator behind a
//! lock (issue 40's profile: ~12% of a search step, on one core). Here each draw takes one
//! 64-bit key from the device's own generator (so `device.seed` still decides everything and a
//! resumed run is exact) and expands it with SplitMix64 over the element index. Other devices
//! keep their own on-device generators: a GPU draws faster than it could upload host noise.

use burn::tensor::{Device, Distribution, Tensor};

/// Which random streams a run drew from. Version 1: burn's per-element samplers for gate noise
/// and dropout on every device (every record made before this module). Version 2: on the CPU,
/// the counter-based streams of this module; other devices unchanged in distribution (their
/// gate arithmetic reordered, so their bits differ from version 1 too).
pub const RANDOM_STREAMS: u32 = 2;

/// The streams of a record written before they were versioned (version 1): the serde default
/// of every `random_streams` field that old files lack.
pub fn unversioned_streams() -> u32 {
    1
}

/// Elements a worker fills at a time (wasm32 fills every chunk on one thread).
const CHUNK: usize = 1 << 14;

/// The key of one counter-based draw: 64 bits from the device's generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamKey(u64);

impl StreamKey {
    /// A fresh key from `device`'s generator, or `None` where the device draws on itself (every
    /// device but the CPU's flex backend).
    pub fn draw(device: &Device) -> Option<Self> {
        if *device != Device::flex() {
            return None;
        }
        let plain = device.clone().inner();
        let halves = Tensor::<1>::random([2], Distribution::Default, &plain).into_data();
        let halves = halves.as_slice::<f32>().expect("a float tensor reads back as f32");
        Some(Self::from_parts(halves[0].to_bits(), halves[1].to_bits()))
    }

    /// A key made of two 32-bit words (tests, and [`Self::draw`]).
    pub fn from_parts(high: u32, low: u32) -> Self {
        Self(((high as u64) << 32) | low as u64)
    }

    /// A uniform value in `[0, 1)` with 24 random bits: SplitMix64's output at counter `index`.
    #[inline]
    pub fn unit(self, index: usize) -> f32 {
        let mut z = self.0.wrapping_add((index as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // Through i32 (exact below 2^24): the one integer-to-float conversion SSE2 has in vector form.
        ((z >> 40) as i32) as f32 * (1.0 / (1u32 << 24) as f32)
    }
}

/// A vector of `len` values written chunk by chunk, over all cores natively (one in wasm32):
/// `fill(start, chunk)` writes the values of indices `start..start + chunk.len()`. Chunks, not
/// a closure per element, so the fill's loops are plain loops over slices that the compiler
/// vectorises (issue 40: a per-element closure behind rayon ran fully scalar).
pub fn fill_chunks(len: usize, fill: impl Fn(usize, &mut [f32]) + Sync + Send) -> Vec<f32> {
    let mut out = vec![0.0; len];
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| fill(c * CHUNK, chunk));
    }
    #[cfg(target_arch = "wasm32")]
    out.chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| fill(c * CHUNK, chunk));
    out
}

/// Two vectors filled together, as [`fill_chunks`] (a gate's values and slopes).
pub fn fill_chunk_pairs(len: usize, fill: impl Fn(usize, &mut [f32], &mut [f32]) + Sync + Send) -> (Vec<f32>, Vec<f32>) {
    let (mut first, mut second) = (vec![0.0; len], vec![0.0; len]);
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        first.par_chunks_mut(CHUNK).zip(second.par_chunks_mut(CHUNK)).enumerate().for_each(|(c, (a, b))| fill(c * CHUNK, a, b));
    }
    #[cfg(target_arch = "wasm32")]
    first.chunks_mut(CHUNK).zip(second.chunks_mut(CHUNK)).enumerate().for_each(|(c, (a, b))| fill(c * CHUNK, a, b));
    (first, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_uniform_and_independent_of_their_neighbours() {
        let key = StreamKey::from_parts(7, 11);
        let n = 1 << 20;
        let values = fill_chunks(n, |start, out| out.iter_mut().enumerate().for_each(|(j, v)| *v = key.unit(start + j)));
        assert!(values.iter().all(|&v| (0.0..1.0).contains(&v)));
        let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        // Standard error of the mean: sqrt(1/12 / 2^20) ~ 2.8e-4.
        assert!((mean - 0.5).abs() < 1.5e-3, "mean {mean}");
        assert!((var - 1.0 / 12.0).abs() < 1e-3, "variance {var}");
        // Ten equal bins each within 1% of n/10 (expected spread ~0.3%).
        let mut bins = [0usize; 10];
        values.iter().for_each(|&v| bins[(v * 10.0) as usize] += 1);
        assert!(bins.iter().all(|&b| (b as f64 - n as f64 / 10.0).abs() < 0.01 * n as f64), "{bins:?}");
        // Lag-1 correlation of a counter stream is what a weak mixer would betray.
        let lag: f64 = values.windows(2).map(|w| (w[0] as f64 - mean) * (w[1] as f64 - mean)).sum::<f64>() / (n - 1) as f64;
        assert!((lag / var).abs() < 5e-3, "lag-1 correlation {}", lag / var);
    }

    #[test]
    fn a_key_decides_the_stream_and_threads_do_not() {
        let key = StreamKey::from_parts(1, 2);
        let threaded = fill_chunks(100_003, |start, out| out.iter_mut().enumerate().for_each(|(j, v)| *v = key.unit(start + j)));
        let serial: Vec<f32> = (0..threaded.len()).map(|i| key.unit(i)).collect();
        assert_eq!(threaded, serial);
        let other = StreamKey::from_parts(1, 3);
        let same = (0..1000).filter(|&i| key.unit(i) == other.unit(i)).count();
        assert!(same < 5, "{same} of 1000 values equal under another key");
    }

    #[test]
    fn keys_come_from_the_seeded_cpu_generator_only() {
        let device = Device::flex().autodiff();
        device.seed(5);
        let first = StreamKey::draw(&device).expect("the CPU draws keys");
        let second = StreamKey::draw(&device).expect("the CPU draws keys");
        assert_ne!(first, second);
        device.seed(5);
        assert_eq!(StreamKey::draw(&device), Some(first));
    }
}
