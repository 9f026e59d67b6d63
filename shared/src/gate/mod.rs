//! Hard-concrete gates (Louizos et al. 2018), one per weight, and their smoothed L0 penalty.
//!
//! The constants are PAPER.md's; a gate samples only when its device tracks gradients (the
//! search), and is deterministic (still soft) otherwise (evaluation), so train vs. eval is a
//! property of the device, not a flag.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor, TensorData, activation::sigmoid};

mod host;

use crate::random::StreamKey;
use host::HostSample;

/// Constants of a hard-concrete gate.
#[derive(Config, Debug, PartialEq)]
pub struct HardConcreteConfig {
    /// Lower stretch limit (gamma).
    #[config(default = -0.1)]
    pub limit_low: f64,
    /// Upper stretch limit (zeta).
    #[config(default = 1.1)]
    pub limit_high: f64,
    /// Temperature (beta), fixed as in the reference code.
    #[config(default = 0.6666666666666666)]
    pub temperature: f64,
    /// Initial score: log_alpha = ln(5), the reference's "mask_p = 0.9".
    #[config(default = 1.6094379124341003)]
    pub init_log_alpha: f64,
    /// The uniform noise is drawn from (eps, 1 - eps) to keep its logit finite.
    #[config(default = 1e-4)]
    pub noise_eps: f64,
    /// Binary gates with a straight-through gradient instead of hard-concrete samples: the
    /// forward pass (search and evaluation alike) sees `W * 1[log_alpha > 0]`, exactly the
    /// masked weights a draw at the search's own sparsity exports, and the scores' gradient is
    /// the slope of the deterministic gate, `(zeta - gamma) sigmoid'(log_alpha)` (the masking of
    /// Zhao et al. 2020, with the L0 penalty unchanged). No noise: what the head learns to read
    /// is what the ticket computes.
    #[config(default = false)]
    pub straight_through: bool,
}

/// A gate per weight of one matrix.
#[derive(Module, Debug)]
pub struct HardConcreteGate {
    /// The learnt scores, one per weight, shaped like the gated weight.
    pub log_alpha: Param<Tensor<2>>,
    limit_low: f64,
    limit_high: f64,
    temperature: f64,
    noise_eps: f64,
    straight_through: bool,
}

impl HardConcreteConfig {
    /// Gates for a `shape` matrix, every score at `init_log_alpha`.
    pub fn init(&self, shape: [usize; 2], device: &Device) -> HardConcreteGate {
        let scores = Tensor::full(shape, self.init_log_alpha, device);
        self.init_with_scores(scores)
    }

    /// Gates with the given scores (a checkpoint being resumed).
    pub fn init_with_scores(&self, log_alpha: Tensor<2>) -> HardConcreteGate {
        HardConcreteGate {
            log_alpha: Param::from_tensor(log_alpha),
            limit_low: self.limit_low,
            limit_high: self.limit_high,
            temperature: self.temperature,
            noise_eps: self.noise_eps,
            straight_through: self.straight_through,
        }
    }
}

impl HardConcreteGate {
    /// The gate values z in [0, 1]: one fresh sample when gradients are tracked, else the
    /// deterministic gate `clamp(sigmoid(log_alpha) * (zeta - gamma) + gamma, 0, 1)`.
    ///
    /// # Shapes
    /// output: same as `log_alpha`.
    pub fn values(&self) -> Tensor<2> {
        let log_alpha = self.log_alpha.val();
        if !log_alpha.device().is_autodiff() {
            return self.deterministic();
        }
        let (z, slope) = self.sample(None);
        straight_through(log_alpha, slope, z)
    }

    /// `weight * z`, the weight the forward pass sees, with the gradient reaching the scores
    /// (and the weight, when it is trained). A frozen weight (the search) takes one fused pass:
    /// `W * z` and `W * dz/dlog_alpha` are computed together, untracked, and the scores'
    /// gradient is `dL/dW_eff * W * dz/dlog_alpha` through a straight-through term that adds
    /// exactly zero to the value, where the gate's own arithmetic would leave a dozen tracked
    /// element-wise ops per matrix and pass.
    pub fn gate_weight(&self, weight: Tensor<2>) -> Tensor<2> {
        let log_alpha = self.log_alpha.val();
        if !log_alpha.device().is_autodiff() {
            return weight * self.deterministic();
        }
        if weight.is_require_grad() {
            return weight * self.values();
        }
        let (weighted_z, weighted_slope) = self.sample(Some(weight));
        straight_through(log_alpha, weighted_slope, weighted_z)
    }

    /// The deterministic gate, whatever the device: soft (`clamp(sigmoid(log_alpha) (zeta -
    /// gamma) + gamma, 0, 1)`), or binary for straight-through gates.
    pub fn deterministic(&self) -> Tensor<2> {
        if self.straight_through {
            return self.log_alpha.val().greater_elem(0.0).float();
        }
        self.stretch(sigmoid(self.log_alpha.val()))
    }

    /// One sample of the gates, untracked: `(scale * z, scale * dz/dlog_alpha)` (scale 1 when
    /// `None`), with u ~ U(eps, 1 - eps) drawn per weight, s = sigmoid((ln u - ln(1 - u) +
    /// log_alpha) / beta), z = clamp(s (zeta - gamma) + gamma, 0, 1); the slope is zero where
    /// the clamp holds z at 0 or 1.
    fn sample(&self, scale: Option<Tensor<2>>) -> (Tensor<2>, Tensor<2>) {
        let log_alpha = self.log_alpha.val();
        let device = log_alpha.device();
        if self.straight_through {
            return self.binary(log_alpha, scale);
        }
        match StreamKey::draw(&device) {
            Some(key) => self.sample_on_host(log_alpha, scale, key),
            None => self.sample_on_device(log_alpha, scale),
        }
    }

    /// The CPU's sample: counter-based noise and the whole gate in one threaded pass ([`host`]).
    fn sample_on_host(&self, log_alpha: Tensor<2>, scale: Option<Tensor<2>>, key: StreamKey) -> (Tensor<2>, Tensor<2>) {
        let device = log_alpha.device();
        let shape = log_alpha.dims();
        let scores = log_alpha.inner().into_data();
        let scores = scores.as_slice::<f32>().expect("gate scores are f32");
        let scale = scale.map(|w| w.inner().into_data());
        let scale = scale.as_ref().map(|w| w.as_slice::<f32>().expect("a gated weight is f32"));
        let sample = HostSample::new(key, self.limit_low, self.limit_high, self.temperature, self.noise_eps);
        let (values, slopes) = sample.run(scores, scale);
        let tensor = |v: Vec<f32>| Tensor::from_data(TensorData::new(v, shape), &device);
        (tensor(values), tensor(slopes))
    }

    /// Straight-through gates, untracked: `(scale * 1[a > 0], scale * (zeta - gamma) s (1 - s))`
    /// with s = sigmoid(a). The slope is the soft deterministic gate's without its clamp, so a
    /// closed weight's score still feels the loss and can reopen.
    fn binary(&self, log_alpha: Tensor<2>, scale: Option<Tensor<2>>) -> (Tensor<2>, Tensor<2>) {
        let log_alpha = log_alpha.detach();
        let z = log_alpha.clone().greater_elem(0.0).float();
        let s = sigmoid(log_alpha);
        let slope = s.clone() * (s.neg() + 1.0) * (self.limit_high - self.limit_low);
        scaled(z, slope, scale)
    }

    /// Other devices' sample: their own generator, the same arithmetic in tensor ops.
    fn sample_on_device(&self, log_alpha: Tensor<2>, scale: Option<Tensor<2>>) -> (Tensor<2>, Tensor<2>) {
        let log_alpha = log_alpha.detach();
        let u = log_alpha.random_like(Distribution::Uniform(self.noise_eps, 1.0 - self.noise_eps));
        let logistic = u.clone().log() - (u.neg() + 1.0).log();
        let s = sigmoid((logistic + log_alpha) / self.temperature);
        let stretched = s.clone() * (self.limit_high - self.limit_low) + self.limit_low;
        let inside = stretched.clone().greater_elem(0.0).float() * stretched.clone().lower_elem(1.0).float();
        let slope = s.clone() * (s.neg() + 1.0) * inside * ((self.limit_high - self.limit_low) / self.temperature);
        let z = stretched.clamp(0.0, 1.0);
        scaled(z, slope, scale)
    }

    fn stretch(&self, soft: Tensor<2>) -> Tensor<2> {
        (soft * (self.limit_high - self.limit_low) + self.limit_low).clamp(0.0, 1.0)
    }

    /// Probability that each gate is non-zero: sigmoid(log_alpha - beta * ln(-gamma / zeta)).
    pub fn open_probability(&self) -> Tensor<2> {
        let shift = self.temperature * (-self.limit_low / self.limit_high).ln();
        sigmoid(self.log_alpha.val() - shift)
    }

    /// Number of gated weights.
    pub fn len(&self) -> usize {
        self.log_alpha.shape().num_elements()
    }

    /// Whether the gate covers no weight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `(scale * z, scale * slope)`, untracked (`(z, slope)` without a scale).
fn scaled(z: Tensor<2>, slope: Tensor<2>, scale: Option<Tensor<2>>) -> (Tensor<2>, Tensor<2>) {
    match scale {
        Some(w) => {
            let w = w.detach();
            (w.clone() * z, w * slope)
        }
        None => (z, slope),
    }
}

/// `value`, with the gradient `slope` with respect to `scores`: `(scores - scores) * slope +
/// value` adds exactly zero (finite scores) and leaves one multiply on the backward pass.
fn straight_through(scores: Tensor<2>, slope: Tensor<2>, value: Tensor<2>) -> Tensor<2> {
    (scores.clone() - scores.detach()) * slope + value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::{L0Form, l0_penalty};

    fn mean(t: Tensor<2>) -> f64 {
        t.mean().into_scalar::<f32>() as f64
    }

    /// E[z] under the hard-concrete distribution, by Monte Carlo in f64 with its own RNG.
    fn reference_expected_gate(config: &HardConcreteConfig, draws: usize) -> f64 {
        let mut state = 0x9E3779B97F4A7C15u64;
        let mut total = 0.0;
        for _ in 0..draws {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            let u = config.noise_eps + unit * (1.0 - 2.0 * config.noise_eps);
            let s = 1.0 / (1.0 + (-((u.ln() - (1.0 - u).ln() + config.init_log_alpha) / config.temperature)).exp());
            total += (s * (config.limit_high - config.limit_low) + config.limit_low).clamp(0.0, 1.0);
        }
        total / draws as f64
    }

    #[test]
    fn deterministic_gate_and_l0_at_init_match_the_paper() {
        let config = HardConcreteConfig::new();
        let gate = config.init([8, 4], &Device::flex());
        // clamp(sigmoid(ln 5) * 1.2 - 0.1, 0, 1) = 5/6 * 1.2 - 0.1 = 0.9
        assert!((mean(gate.values()) - 0.9).abs() < 1e-6);
        let l0 = l0_penalty(&[&gate], L0Form::MeanOverWeights).into_scalar::<f32>() as f64;
        assert!((l0 - 0.96).abs() < 0.005, "L0 at init = {l0}");
        assert!((l0 - 1.0 / (1.0 + (-(5f64.ln() + 1.599)).exp())).abs() < 1e-4);
    }

    #[test]
    fn training_samples_follow_the_hard_concrete_distribution() {
        let config = HardConcreteConfig::new();
        let device = Device::flex().autodiff();
        device.seed(3);
        let gate = config.init([200, 200], &device);
        let first = gate.values();
        let second = gate.values();
        let (min, max) = (first.clone().min().into_scalar::<f32>(), first.clone().max().into_scalar::<f32>());
        assert!(min >= 0.0 && max <= 1.0);
        let expected = reference_expected_gate(&config, 200_000);
        let sampled = mean(first.clone());
        assert!((sampled - expected).abs() < 0.01, "sample mean {sampled}, reference {expected}");
        // The sample mean differs from the deterministic gate (0.9): stochastic vs. eval mode.
        assert!((expected - 0.9).abs() > 0.02);
        // A fresh u per forward pass.
        assert!(mean((first - second).abs()) > 0.01);
    }

    #[test]
    fn gradients_reach_the_scores_through_a_sample() {
        let config = HardConcreteConfig::new().with_init_log_alpha(0.0);
        let device = Device::flex().autodiff();
        let gate = config.init([4, 4], &device);
        let grads = gate.values().sum().backward();
        let grad = gate.log_alpha.val().grad(&grads).expect("log_alpha has a gradient");
        assert!(grad.abs().sum().into_scalar::<f32>() > 0.0);
    }

    #[test]
    fn straight_through_gates_are_binary_and_pass_the_deterministic_slope() {
        let config = HardConcreteConfig::new().with_straight_through(true);
        let scores = [-2.0f32, -0.01, 0.01, 0.5, 3.0, -7.0];
        let (w, r) = ([0.5f32, -1.0, 2.0, 0.25, -0.75, 1.5], [1.0f32, 2.0, -1.0, 0.5, 3.0, -2.0]);
        let device = Device::flex().autodiff();
        let tensor = |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), [2, 3]), &device);
        let gate = config.init_with_scores(tensor(&scores).require_grad());
        let gated = gate.gate_weight(tensor(&w));
        let open: Vec<f32> = scores.iter().map(|&a| if a > 0.0 { 1.0 } else { 0.0 }).collect();
        // Forward: exactly W * 1[a > 0], twice the same (no noise).
        let want: Vec<f32> = w.iter().zip(&open).map(|(w, z)| w * z).collect();
        assert_eq!(host(gated.clone()), want);
        assert_eq!(host(gate.gate_weight(tensor(&w))), want);
        // Backward of sum(W_eff * r): r * W * 1.2 sigmoid(a) (1 - sigmoid(a)), closed weights too.
        let grads = (gated * tensor(&r)).sum().backward();
        let got = host(gate.log_alpha.val().grad(&grads).expect("the scores have a gradient"));
        for i in 0..scores.len() {
            let s = 1.0 / (1.0 + (-scores[i]).exp());
            let want = r[i] * w[i] * 1.2 * s * (1.0 - s);
            assert!((got[i] - want).abs() < 1e-6, "weight {i}: gradient {} against {want}", got[i]);
        }
        // Evaluation (no autodiff) sees the same binary mask.
        let plain = Device::flex();
        let eval = config.init_with_scores(Tensor::<2>::from_data(TensorData::new(scores.to_vec(), [2, 3]), &plain));
        assert_eq!(host(eval.deterministic()), open);
        assert_eq!(host(eval.values()), open);
    }

    fn host(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().expect("f32")
    }

    /// The gate as it was before the fused pass: every step a tracked tensor op, the noise `u`
    /// given. Returns `W * z` and the scores' gradient of `sum(W * z * r)`.
    fn unfused_reference(config: &HardConcreteConfig, scores: &[f32], u: &[f32], w: &[f32], r: &[f32], shape: [usize; 2]) -> (Vec<f32>, Vec<f32>) {
        let device = Device::flex().autodiff();
        let tensor = |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), shape), &device);
        let log_alpha = tensor(scores).require_grad();
        let u = tensor(u);
        let logistic = u.clone().log() - (u.neg() + 1.0).log();
        let soft = sigmoid((logistic + log_alpha.clone()) / config.temperature);
        let z = (soft * (config.limit_high - config.limit_low) + config.limit_low).clamp(0.0, 1.0);
        let gated = tensor(w) * z;
        let grads = (gated.clone() * tensor(r)).sum().backward();
        (host(gated), host(log_alpha.grad(&grads).expect("scores have a gradient")))
    }

    fn assert_close(what: &str, got: &[f32], want: &[f32], tolerance: f32) {
        let worst = got.iter().zip(want).map(|(a, b)| (a - b).abs() / b.abs().max(1e-3)).fold(0f32, f32::max);
        assert!(worst <= tolerance, "{what}: worst relative error {worst} > {tolerance}");
    }

    /// A gate with spread-out scores (clamped at 0, at 1 and in between) over a random weight.
    fn spread_gate(device: &Device, shape: [usize; 2]) -> (HardConcreteConfig, HardConcreteGate, Vec<f32>, Vec<f32>) {
        let config = HardConcreteConfig::new();
        let n = shape[0] * shape[1];
        let scores: Vec<f32> = (0..n).map(|i| ((i * 37 % 101) as f32 - 50.0) / 10.0).collect();
        let gate = config.init_with_scores(Tensor::from_data(TensorData::new(scores.clone(), shape), device));
        let w: Vec<f32> = (0..n).map(|i| ((i * 53 % 97) as f32 - 48.5) / 50.0).collect();
        (config, gate, scores, w)
    }

    #[test]
    fn the_fused_cpu_gate_equals_the_unfused_arithmetic_on_the_same_noise() {
        let device = Device::flex().autodiff();
        let shape = [60, 70];
        let (config, gate, scores, w) = spread_gate(&device, shape);
        let r: Vec<f32> = (0..w.len()).map(|i| ((i * 29 % 89) as f32 - 44.0) / 40.0).collect();
        device.seed(11);
        let key = StreamKey::draw(&device).expect("the CPU draws keys");
        let eps = config.noise_eps as f32;
        let u: Vec<f32> = (0..w.len()).map(|i| eps + key.unit(i) * (1.0 - 2.0 * eps)).collect();
        let (want_value, want_grad) = unfused_reference(&config, &scores, &u, &w, &r, shape);

        device.seed(11);
        let weight = Tensor::<2>::from_data(TensorData::new(w.clone(), shape), &device);
        let gated = gate.gate_weight(weight);
        let grads = (gated.clone() * Tensor::from_data(TensorData::new(r.clone(), shape), &device)).sum().backward();
        let got_grad = host(gate.log_alpha.val().grad(&grads).expect("scores have a gradient"));
        let got_value = host(gated);
        // The host pass computes the sigmoid through odds^(1/beta) e^(-a/beta) where the
        // reference takes two logs: equal in exact arithmetic, ~1e-5 apart in f32 (measured
        // 1.6e-5 at worst, relative to max(|value|, 1e-3)); a slope 1% off fails by 100x.
        assert_close("W * z", &got_value, &want_value, 1e-4);
        assert_close("d/dlog_alpha", &got_grad, &want_grad, 1e-4);
        assert!(got_value.iter().filter(|&&v| v == 0.0).count() > 100, "some gates are shut");
        assert!(got_grad.iter().filter(|&&g| g != 0.0).count() > 100, "some gates are inside (0, 1)");

        // Same seed, same bits; a trained weight takes the unfused path with the same draw.
        device.seed(11);
        assert_eq!(host(gate.gate_weight(Tensor::from_data(TensorData::new(w.clone(), shape), &device))), got_value);
        device.seed(11);
        let trained = Tensor::<2>::from_data(TensorData::new(w.clone(), shape), &device).require_grad();
        assert_close("trained W * z", &host(gate.gate_weight(trained)), &want_value, 1e-4);
    }

    #[test]
    fn the_device_path_gradient_is_the_slope_of_its_own_sample() {
        // Other devices draw on themselves; whatever u was, the scores' gradient of sum(W z r)
        // must be r W dz/dlog_alpha at the z the forward pass produced.
        let device = Device::flex().autodiff();
        let shape = [40, 50];
        let (config, gate, _, w) = spread_gate(&device, shape);
        device.seed(4);
        let weight = Tensor::<2>::from_data(TensorData::new(w.clone(), shape), &device);
        let (gated, slope) = gate.sample_on_device(gate.log_alpha.val(), Some(weight));
        let gated = straight_through(gate.log_alpha.val(), slope, gated);
        let grads = gated.clone().sum().backward();
        let grad = host(gate.log_alpha.val().grad(&grads).expect("scores have a gradient"));
        let (span, beta) = ((config.limit_high - config.limit_low) as f32, config.temperature as f32);
        let want: Vec<f32> = host(gated)
            .iter()
            .zip(&w)
            .map(|(&g, &w)| {
                let z = g / w;
                if z <= 1e-6 || z >= 1.0 - 1e-6 {
                    return 0.0;
                }
                let s = (z - config.limit_low as f32) / span;
                w * span / beta * s * (1.0 - s)
            })
            .collect();
        assert_close("device-path d/dlog_alpha", &grad, &want, 2e-3);
    }

    #[test]
    fn both_l0_forms_weigh_matrices_as_documented() {
        let device = Device::flex();
        let open = HardConcreteConfig::new().with_init_log_alpha(20.0).init([1, 4], &device);
        let shut = HardConcreteConfig::new().with_init_log_alpha(-20.0).init([1, 12], &device);
        let over_weights = l0_penalty(&[&open, &shut], L0Form::MeanOverWeights).into_scalar::<f32>();
        let over_matrices = l0_penalty(&[&open, &shut], L0Form::MeanOfMatrixMeans).into_scalar::<f32>();
        assert!((over_weights - 0.25).abs() < 1e-4, "{over_weights}");
        assert!((over_matrices - 0.5).abs() < 1e-4, "{over_matrices}");
    }
}
