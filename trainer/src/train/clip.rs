//! Clipping by the global gradient norm (PyTorch's `clip_grad_norm_`), which the reference
//! code uses; burn's own clipping works per parameter tensor.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

struct TrainableIds(Vec<(ParamId, usize)>);

impl ModuleVisitor for TrainableIds {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

/// Scales every gradient so that their joint L2 norm is at most `max_norm`; returns the
/// norm before clipping.
pub fn clip_global_norm<M: Module>(grads: &mut GradientsParams, model: &M, max_norm: f64) -> f64 {
    let mut ids = TrainableIds(Vec::new());
    model.visit(&mut ids);
    let mut squared = 0.0f64;
    for &(id, rank) in &ids.0 {
        squared += match rank {
            1 => norm_sq::<1>(grads, id),
            2 => norm_sq::<2>(grads, id),
            3 => norm_sq::<3>(grads, id),
            _ => 0.0,
        };
    }
    let norm = squared.sqrt();
    if norm > max_norm {
        let scale = max_norm / (norm + 1e-6);
        for &(id, rank) in &ids.0 {
            match rank {
                1 => rescale::<1>(grads, id, scale),
                2 => rescale::<2>(grads, id, scale),
                3 => rescale::<3>(grads, id, scale),
                _ => {}
            }
        }
    }
    norm
}

fn norm_sq<const D: usize>(grads: &GradientsParams, id: ParamId) -> f64 {
    grads.get::<D>(id).map(|g| g.powi_scalar(2).sum().into_scalar::<f32>() as f64).unwrap_or(0.0)
}

fn rescale<const D: usize>(grads: &mut GradientsParams, id: ParamId, scale: f64) {
    if let Some(g) = grads.remove::<D>(id) {
        grads.register(id, g.mul_scalar(scale));
    }
}
