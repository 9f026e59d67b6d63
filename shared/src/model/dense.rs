//! A dense (linear) layer whose weight can be gated or masked without changing its callers.

use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor, module::linear};

use crate::gate::HardConcreteGate;
use crate::{Result, Weights};

use super::INIT_STD;

/// `y = x W + b`, with `W` multiplied element-wise by a gate or a binary mask when present.
#[derive(Module, Debug)]
pub struct Dense {
    /// Weight, stored `[d_in, d_out]` (the transpose of HF's `[out, in]`).
    pub weight: Param<Tensor<2>>,
    /// Bias, `[d_out]`.
    pub bias: Param<Tensor<1>>,
    /// Hard-concrete gates learnt by the ticket search, shaped like `weight`.
    pub gate: Option<HardConcreteGate>,
    /// A drawn ticket's fixed 0/1 mask, shaped like `weight`.
    pub mask: Option<Tensor<2>>,
}

impl Dense {
    /// A fresh layer: weight ~ N(0, 0.02), bias 0 (HF's initialisation).
    pub fn random(d_in: usize, d_out: usize, device: &Device) -> Self {
        Self::from_tensors(
            Tensor::random([d_in, d_out], Distribution::Normal(0.0, INIT_STD), device),
            Tensor::zeros([d_out], device),
        )
    }

    /// Loads `{key}.weight` (`[d_out, d_in]` in the file) and `{key}.bias`.
    pub fn load(weights: &Weights, key: &str, d_in: usize, d_out: usize, device: &Device) -> Result<Self> {
        Ok(Self::from_tensors(
            weights.linear_weight(&format!("{key}.weight"), d_in, d_out, device)?,
            weights.vector(&format!("{key}.bias"), d_out, device)?,
        ))
    }

    fn from_tensors(weight: Tensor<2>, bias: Tensor<1>) -> Self {
        Self { weight: Param::from_tensor(weight), bias: Param::from_tensor(bias), gate: None, mask: None }
    }

    /// Puts hard-concrete gates on the weight (replacing any gate or mask).
    pub fn with_gate(mut self, gate: HardConcreteGate) -> Self {
        assert_eq!(gate.log_alpha.shape().dims::<2>(), self.shape(), "gate shape must match the weight");
        self.gate = Some(gate);
        self.mask = None;
        self
    }

    /// Puts a fixed 0/1 mask on the weight (replacing any gate or mask).
    pub fn with_mask(mut self, mask: Tensor<2>) -> Self {
        assert_eq!(mask.dims(), self.shape(), "mask shape must match the weight");
        self.mask = Some(mask);
        self.gate = None;
        self
    }

    /// Multiplies a fixed 0/1 mask into the weight once, for inference: the same outputs as
    /// [`Self::with_mask`] without a `W * m` product in every forward pass.
    pub fn with_mask_applied(mut self, mask: Tensor<2>) -> Self {
        assert_eq!(mask.dims(), self.shape(), "mask shape must match the weight");
        self.weight = Param::from_tensor(self.weight.val() * mask);
        self.mask = None;
        self.gate = None;
        self
    }

    /// The weight as the forward pass sees it: `W * z` under a gate, `W * m` under a mask.
    pub fn effective_weight(&self) -> Tensor<2> {
        let mut weight = self.weight.val();
        if let Some(gate) = &self.gate {
            weight = gate.gate_weight(weight);
        }
        if let Some(mask) = &self.mask {
            weight = weight * mask.clone();
        }
        weight
    }

    /// # Shapes
    /// input: `[..., d_in]`, output: `[..., d_out]`.
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        linear(input, self.effective_weight(), Some(self.bias.val()))
    }

    /// `[d_in, d_out]`.
    pub fn shape(&self) -> [usize; 2] {
        self.weight.shape().dims()
    }
}

/// A tensor's values read back to the host, row-major.
pub fn read_values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    tensor.into_data().try_into_vec::<f32>().map_err(|e| crate::Error::Readback(format!("{e:?}")))
}

/// [`read_rows`] without blocking: the only readback a browser's GPU offers.
pub async fn read_rows_async(tensor: Tensor<2>) -> Result<Vec<Vec<f32>>> {
    let [_, width] = tensor.dims();
    let data = tensor.into_data_async().await.map_err(|e| crate::Error::Readback(format!("{e:?}")))?;
    let values = data.try_into_vec::<f32>().map_err(|e| crate::Error::Readback(format!("{e:?}")))?;
    Ok(values.chunks(width.max(1)).map(<[f32]>::to_vec).collect())
}

/// A `[rows, width]` tensor read back as one vector per row.
pub fn read_rows(tensor: Tensor<2>) -> Result<Vec<Vec<f32>>> {
    let [_, width] = tensor.dims();
    Ok(read_values(tensor)?.chunks(width.max(1)).map(<[f32]>::to_vec).collect())
}

/// A `[d_in, d_out]` matrix (a weight, its gate scores) read back in HF's row-major
/// `[out, in]` order, the order masks and scores are stored in.
pub fn to_hf_order(matrix: Tensor<2>) -> Result<Vec<f32>> {
    let [d_in, d_out] = matrix.dims();
    Ok(crate::weights::transpose(&read_values(matrix)?, d_in, d_out))
}

/// A keep-mask given in HF `[out, in]` order, as the 0/1 `[d_in, d_out]` tensor a [`Dense`] takes.
pub fn mask_from_hf_order(keep: &[bool], [d_in, d_out]: [usize; 2], device: &Device) -> Tensor<2> {
    let values: Vec<f32> = keep.iter().map(|&k| k as u8 as f32).collect();
    Tensor::from_data(burn::tensor::TensorData::new(crate::weights::transpose(&values, d_out, d_in), [d_in, d_out]), device)
}
