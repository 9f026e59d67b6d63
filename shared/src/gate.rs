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
