//! Gradient bookkeeping burn leaves to the caller: summing gradients over several backward
//! passes (the adversary's K iterates), clipping by the global norm (PyTorch's
//! `clip_grad_norm_`, which the reference code uses; burn clips per tensor), and splitting
//! gradients into parameter groups with their own learning rates.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// Float parameters of a module, with their rank.
#[derive(Debug, Clone, Default)]
pub struct ParamIds(pub Vec<(ParamId, usize)>);

impl ModuleVisitor for ParamIds {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

impl ParamIds {
    pub fn of<M: Module>(module: &M) -> Self {
        let mut ids = Self::default();
        module.visit(&mut ids);
        ids
    }
}

/// Applies `f` to the gradient of each parameter in `ids`, whatever its rank.
macro_rules! for_each_rank {
    ($rank:expr, $body:ident, $($arg:expr),*) => {
        match $rank {
            1 => $body::<1>($($arg),*),
            2 => $body::<2>($($arg),*),
            3 => $body::<3>($($arg),*),
            r => unreachable!("no rank-{r} parameters in these models"),
        }
    };
}

/// Adds `more` into `acc`, parameter by parameter.
pub fn accumulate(acc: &mut GradientsParams, mut more: GradientsParams, ids: &ParamIds) {
    fn add<const D: usize>(acc: &mut GradientsParams, more: &mut GradientsParams, id: ParamId) {
        if let Some(g) = more.remove::<D>(id) {
            let sum = match acc.remove::<D>(id) {
                Some(prev) => prev + g,
                None => g,
            };
            acc.register(id, sum);
        }
    }
    for &(id, rank) in &ids.0 {
        for_each_rank!(rank, add, acc, &mut more, id);
    }
}

/// Scales every gradient so their joint L2 norm is at most `max_norm`; returns the norm
/// before clipping. One read-back from the device, not one per tensor.
pub fn clip_global_norm(grads: &mut GradientsParams, ids: &ParamIds, max_norm: f64) -> f64 {
    fn sq<const D: usize>(grads: &GradientsParams, id: ParamId, acc: &mut Option<Tensor<1>>) {
        if let Some(g) = grads.get::<D>(id) {
            let s = g.powi_scalar(2).sum();
            *acc = Some(match acc.take() {
                Some(a) => a + s,
                None => s,
            });
        }
    }
    fn scale<const D: usize>(grads: &mut GradientsParams, id: ParamId, factor: f64) {
        if let Some(g) = grads.remove::<D>(id) {
            grads.register(id, g.mul_scalar(factor));
        }
    }
    let mut total = None;
    for &(id, rank) in &ids.0 {
        for_each_rank!(rank, sq, grads, id, &mut total);
    }
    let norm = total.map(|t| (t.into_scalar::<f32>() as f64).sqrt()).unwrap_or(0.0);
    if norm > max_norm {
        let factor = max_norm / (norm + 1e-6);
        for &(id, rank) in &ids.0 {
            for_each_rank!(rank, scale, grads, id, factor);
        }
    }
    norm
}

/// Moves the gradients of the parameters in `ids` out of `grads` into their own set.
pub fn take(grads: &mut GradientsParams, ids: &ParamIds) -> GradientsParams {
    let mut out = GradientsParams::new();
    fn mv<const D: usize>(from: &mut GradientsParams, to: &mut GradientsParams, id: ParamId) {
        if let Some(g) = from.remove::<D>(id) {
            to.register(id, g);
        }
    }
    for &(id, rank) in &ids.0 {
        for_each_rank!(rank, mv, grads, &mut out, id);
    }
    out
}
