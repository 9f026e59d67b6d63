//! Picks where tensors live: a real GPU through wgpu when one exists, else burn's CPU backend.

use burn::tensor::Device;
use clap::ValueEnum;

/// The `--device` choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// A hardware GPU through wgpu if one is found, else the CPU backend.
    Auto,
    /// burn's `flex` CPU backend.
    Cpu,
    /// wgpu (WGSL compute shaders), on whatever adapter wgpu picks, software ones included.
    Gpu,
}

/// The device to compute on, and a human description of it.
pub struct Selected {
    pub device: Device,
    pub description: String,
}

/// Resolves `--device`. `Auto` never picks a software rasteriser (lavapipe, SwiftShader): on a
/// machine without a GPU they are several times slower than the CPU backend.
pub fn select(choice: DeviceChoice) -> anyhow::Result<Selected> {
    match choice {
        DeviceChoice::Cpu => Ok(cpu()),
        DeviceChoice::Gpu => gpu(None),
        DeviceChoice::Auto => match hardware_adapter() {
            Some(name) => {
                eprintln!("device: wgpu on {name}, a hardware GPU (--device cpu for the CPU backend)");
                gpu(Some(name))
            }
            None => {
                eprintln!("device: the CPU backend, as wgpu finds no hardware GPU (software adapters are slower than it)");
                Ok(cpu())
            }
        },
    }
}

fn cpu() -> Selected {
    Selected { device: Device::flex(), description: "cpu (burn flex backend)".into() }
}

#[cfg(feature = "wgpu")]
fn gpu(name: Option<String>) -> anyhow::Result<Selected> {
    use burn::tensor::DeviceKind;
    let name = match name {
        Some(name) => name,
        None => adapters()
            .into_iter()
            .next()
            .map(|(name, _)| name)
            .ok_or_else(|| anyhow::anyhow!("--device gpu: wgpu finds no adapter (install a Vulkan driver, e.g. mesa-vulkan-drivers)"))?,
    };
    Ok(Selected { device: Device::wgpu(DeviceKind::DefaultDevice), description: format!("wgpu ({name})") })
}

#[cfg(not(feature = "wgpu"))]
fn gpu(_: Option<String>) -> anyhow::Result<Selected> {
    anyhow::bail!("this build has no GPU support: rebuild with `--features wgpu`")
}

/// Adapters wgpu can see: name and whether it is real hardware.
#[cfg(feature = "wgpu")]
pub fn adapters() -> Vec<(String, bool)> {
    use burn::tensor::wgpu::wgpu;
    // The primary backends only (Vulkan, Metal, DX12), which burn's wgpu runtime computes on:
    // the GL backend would start EGL and its display probing for nothing.
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor { backends: wgpu::Backends::PRIMARY, ..wgpu::InstanceDescriptor::new_without_display_handle_from_env() });
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
        .into_iter()
        .map(|adapter| {
            let info = adapter.get_info();
            let hardware = matches!(
                info.device_type,
                wgpu::DeviceType::DiscreteGpu | wgpu::DeviceType::IntegratedGpu | wgpu::DeviceType::VirtualGpu
            );
            (format!("{} [{:?}, {:?}]", info.name, info.backend, info.device_type), hardware)
        })
        .collect()
}

#[cfg(not(feature = "wgpu"))]
pub fn adapters() -> Vec<(String, bool)> {
    Vec::new()
}

fn hardware_adapter() -> Option<String> {
    adapters().into_iter().find(|(_, hardware)| *hardware).map(|(name, _)| name)
}

/// Tokens a batch is padded to a multiple of on `device` (see
/// [`rticket_core::TextTokenizer::with_pad_multiple`]). The CPU backend pays nothing for a new
/// shape, and its recorded runs pad to the longest text, so it keeps 1. A GPU compiles
/// and autotunes kernels per shape: padding to the longest text there made a quick-preset
/// fine-tuning epoch on an H200 take 82 s for 64 steps of 16 sentences, 1.3 s a step, while
/// the search step (one fixed shape, six passes) takes 0.16 s.
pub fn pad_multiple(device: &Device) -> usize {
    if device.clone().without_autodiff() == Device::flex() { 1 } else { rticket_core::GPU_PAD_MULTIPLE }
}
