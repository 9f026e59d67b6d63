//! LayerNorm built from HF `*.LayerNorm.{weight,bias}` keys with the config's epsilon.

use burn::module::Param;
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::Device;

use crate::{Result, Weights};

/// A fresh LayerNorm (gamma 1, beta 0).
pub fn random(hidden: usize, eps: f64, device: &Device) -> LayerNorm {
    LayerNormConfig::new(hidden).with_epsilon(eps).init(device)
}

/// Loads `{key}.weight` as gamma and `{key}.bias` as beta.
pub fn load(weights: &Weights, key: &str, hidden: usize, eps: f64, device: &Device) -> Result<LayerNorm> {
    let mut norm = random(hidden, eps, device);
    norm.gamma = Param::from_tensor(weights.vector(&format!("{key}.weight"), hidden, device)?);
    norm.beta = Some(Param::from_tensor(weights.vector(&format!("{key}.bias"), hidden, device)?));
    Ok(norm)
}
