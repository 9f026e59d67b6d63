//! Dropout that draws its mask from the CPU's counter-based streams (burn's own elsewhere).

use burn::nn::Dropout;
use burn::tensor::{Tensor, TensorData};

use crate::random::{StreamKey, fill_chunks};

/// `layer.forward(input)`, with the same rules (identity unless the device tracks gradients,
/// the layer is training and `p > 0`; kept values scaled by `1 / (1 - p)`), but on the CPU
/// the mask of multipliers comes from one threaded counter-based fill instead of burn's
/// per-element sampler and two tracked multiplies.
pub fn dropout<const D: usize>(layer: &Dropout, input: Tensor<D>) -> Tensor<D> {
    if !layer.training.is_enabled() || !input.device().is_autodiff() || layer.prob == 0.0 {
        return input;
    }
    let device = input.device();
    let Some(key) = StreamKey::draw(&device) else {
        return layer.forward(input);
    };
    let keep = (1.0 - layer.prob) as f32;
    let kept = 1.0 / keep;
    let shape = input.shape();
    let multipliers = fill_chunks(shape.num_elements(), |start, out| {
        for (j, m) in out.iter_mut().enumerate() {
            *m = if key.unit(start + j) < keep { kept } else { 0.0 };
        }
    });
    input * Tensor::from_data(TensorData::new(multipliers, shape), &device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::DropoutConfig;
    use burn::tensor::Device;

    #[test]
    fn keeps_the_expected_share_scaled_and_only_while_training() {
        let layer = DropoutConfig::new(0.25).init();
        let device = Device::flex().autodiff();
        device.seed(9);
        let ones = Tensor::<2>::ones([400, 500], &device);
        let out = dropout(&layer, ones.clone()).into_data().try_to_vec::<f32>().expect("f32");
        let kept = out.iter().filter(|&&v| v != 0.0).count() as f64 / out.len() as f64;
        assert!((kept - 0.75).abs() < 0.005, "kept {kept}");
        assert!(out.iter().all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-6));
        // Same seed, same mask; evaluation (no autodiff) and a frozen layer leave the input.
        device.seed(9);
        assert_eq!(dropout(&layer, ones).into_data().try_to_vec::<f32>().expect("f32"), out);
        let plain = Tensor::<2>::ones([4, 5], &Device::flex());
        assert_eq!(dropout(&layer, plain).into_data().try_to_vec::<f32>().expect("f32"), vec![1.0; 20]);
    }

    #[test]
    fn gradients_flow_through_the_kept_values_only() {
        let layer = DropoutConfig::new(0.5).init();
        let device = Device::flex().autodiff();
        let x = Tensor::<1>::ones([1000], &device).require_grad();
        let out = dropout(&layer, x.clone());
        let values = out.clone().into_data().try_to_vec::<f32>().expect("f32");
        let grads = out.sum().backward();
        let grad = x.grad(&grads).expect("the input has a gradient").into_data().try_to_vec::<f32>().expect("f32");
        assert_eq!(grad, values, "d out / d x is the multiplier itself");
    }
}
