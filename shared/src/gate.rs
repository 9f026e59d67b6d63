//! Hard-concrete gates (Louizos et al. 2018), one per weight, and their smoothed L0 penalty.
//!
//! The constants are PAPER.md's; a gate samples only when its device tracks gradients (the
//! search), and is deterministic (still soft) otherwise (evaluation), so train vs. eval is a
//! property of the device, not a flag.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor, activation::sigmoid};

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
        let soft = if log_alpha.device().is_autodiff() {
            self.sample_soft(log_alpha)
        } else {
            sigmoid(log_alpha)
        };
        self.stretch(soft)
    }

    /// The deterministic gate, whatever the device.
    pub fn deterministic(&self) -> Tensor<2> {
        self.stretch(sigmoid(self.log_alpha.val()))
    }

    /// s = sigmoid((ln u - ln(1 - u) + log_alpha) / beta), one u per weight.
    fn sample_soft(&self, log_alpha: Tensor<2>) -> Tensor<2> {
        let u = log_alpha
            .random_like(Distribution::Uniform(self.noise_eps, 1.0 - self.noise_eps))
            .detach();
        let logistic = u.clone().log() - (u.neg() + 1.0).log();
        sigmoid((logistic + log_alpha) / self.temperature)
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
