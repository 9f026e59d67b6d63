//! The GPU path (burn's wgpu backend: WGSL shaders, kernel fusion, autotune) against the CPU
//! backend on the same weights and inputs. Any adapter will do: without a GPU (as in CI) wgpu
//! runs on lavapipe, which is slow but computes the same shaders.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rticket::device::{DeviceChoice, select};
use rticket::stages::{SearchMode, search_fit};
use rticket::train::{AdversarialConfig, Stepper};
use rticket_core::gate::HardConcreteConfig;
use rticket_core::model::{EncoderInput, read_values};
use rticket_core::SequenceClassifier;

use crate::common::*;

fn wgpu() -> Device {
    match select(DeviceChoice::Gpu) {
        Ok(selected) => selected.device,
        Err(e) => panic!("{e:#}: the GPU path is tested on any wgpu adapter; `scripts/setup.sh` installs lavapipe (mesa-vulkan-drivers)"),
    }
}

/// Gate scores spread over [-2, 2) in a fixed pattern.
fn starting_scores(count: usize) -> Vec<f32> {
    (0..count).map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0).collect()
}

/// MiniLM with a gate on every encoder matrix, its scores moved off their common start so that
/// every matrix's gates differ, on the autodiff form of `device`. Nothing random may differ (the
/// devices' random streams do): the head is fixed, dropout is off, and the gates' uniform noise
/// is squeezed to (0.5 - 1e-7, 0.5 + 1e-7), so the training-time sample runs (noise, logit,
/// sigmoid, stretch) but gives the same gates on both.
fn gated_minilm(device: &Device) -> (SequenceClassifier, EncoderInput, Tensor<1, Int>) {
    let files = minilm();
    let device = device.clone().autodiff();
    let mut bert = files.config.clone();
    bert.hidden_dropout_prob = 0.0;
    bert.attention_probs_dropout_prob = 0.0;
    let config = polarity_config(bert);
    let mut model = files.classifier(&config, &device).unwrap().no_grad();
    // MiniLM has no head: a fresh one comes from the device's random stream; give both the same.
    let [hidden, labels] = model.classifier.shape();
    let head: Vec<f32> = (0..hidden * labels).map(|i| ((i * 37) % 100) as f32 / 500.0 - 0.1).collect();
    model.classifier.weight = model.classifier.weight.clone().map(|_| Tensor::from_data(TensorData::new(head, [hidden, labels]), &device));
    let gates = HardConcreteConfig::new().with_noise_eps(0.5 - 1e-7);
    model.bert = model.bert.with_gates(&gates);
    for layer in model.bert.dense_layers_mut() {
        let gate = layer.gate.as_mut().expect("gated");
        let [rows, cols] = gate.log_alpha.shape().dims();
        let scores = starting_scores(rows * cols);
        gate.log_alpha = gate.log_alpha.clone().map(|_| Tensor::from_data(TensorData::new(scores, [rows, cols]), &device).require_grad());
    }
    let tokenizer = files.tokenizer(32).unwrap();
    let input = EncoderInput::new(&tokenizer.encode_batch(&["a gripping, beautifully acted film", "dull and far too long"]).unwrap(), &device);
    let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 0], [2]), &device);
    (model, input, targets)
}

/// Logits, and the gradient of the cross-entropy on the first and last gated matrices' scores.
fn logits_and_score_gradients(device: &Device) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (model, input, targets) = gated_minilm(device);
    let logits = model.forward(&input);
    let loss = CrossEntropyLossConfig::new().init(&logits.device()).forward(logits.clone(), targets);
    let grads = loss.backward();
    let gates = model.bert.gates();
    let gradient = |i: usize| read_values(gates[i].log_alpha.val().grad(&grads).expect("a score gradient")).unwrap();
    (read_values(logits).unwrap(), gradient(0), gradient(gates.len() - 1))
}

fn assert_close(name: &str, gpu: &[f32], cpu: &[f32], tolerance: f32) {
    assert_eq!(gpu.len(), cpu.len(), "{name}: lengths");
    let scale = cpu.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-12);
    let worst = gpu.iter().zip(cpu).map(|(g, c)| (g - c).abs()).fold(0f32, f32::max);
    assert!(worst <= tolerance * scale, "{name}: wgpu differs from the CPU backend by {worst} (largest |value| {scale})");
    assert!(gpu.iter().all(|x| x.is_finite()), "{name}: non-finite values on wgpu");
}

#[test]
fn wgpu_gives_the_cpu_backends_logits_and_gate_gradients() {
    let (cpu_logits, cpu_first, cpu_last) = logits_and_score_gradients(&cpu());
    let (gpu_logits, gpu_first, gpu_last) = logits_and_score_gradients(&wgpu());
    assert_close("logits", &gpu_logits, &cpu_logits, 1e-3);
    assert!(cpu_first.iter().any(|g| *g != 0.0) && cpu_last.iter().any(|g| *g != 0.0), "the scores get gradients");
    assert_close("first gated matrix's score gradient", &gpu_first, &cpu_first, 2e-3);
    assert_close("pooler's score gradient", &gpu_last, &cpu_last, 2e-3);
}

#[test]
fn batches_on_wgpu_are_padded_to_a_few_shapes() {
    assert_eq!(rticket::device::pad_multiple(&wgpu()), rticket_core::GPU_PAD_MULTIPLE);
    assert_eq!(rticket::device::pad_multiple(&wgpu().autodiff()), rticket_core::GPU_PAD_MULTIPLE);
    assert_eq!(rticket::device::pad_multiple(&cpu().autodiff()), 1);
}

/// Two paper-mode search steps (K = 2 adversarial passes from a zero perturbation, clipping, L0,
/// AdamW on the scores): the losses, the expected density and the first matrix's scores after.
fn two_search_steps(device: &Device) -> (Vec<f64>, f64, Vec<f32>) {
    let (mut model, input, targets) = gated_minilm(device);
    let mut fit = search_fit(rticket::cli::Preset::Quick, SearchMode::Paper, true);
    fit.objective.adversarial = Some(AdversarialConfig { steps: 2, init_magnitude: 0.0, ..AdversarialConfig::default() });
    let mut stepper = Stepper::new(&model, &fit, 2);
    let mut losses = Vec::new();
    let mut density = f64::NAN;
    for step in 0..2 {
        let (next, out) = stepper.step(model, &input, targets.clone(), step).unwrap();
        model = next;
        losses.push(out.loss);
        density = out.density.expect("the gates train");
    }
    (losses, density, read_values(model.bert.gates()[0].log_alpha.val()).unwrap())
}

#[test]
fn a_search_step_on_wgpu_equals_the_cpu_backends() {
    let (cpu_losses, cpu_density, cpu_scores) = two_search_steps(&cpu());
    let (gpu_losses, gpu_density, gpu_scores) = two_search_steps(&wgpu());
    for (g, c) in gpu_losses.iter().zip(&cpu_losses) {
        assert!((g - c).abs() <= 1e-3 * c.abs().max(1.0), "losses: wgpu {gpu_losses:?}, CPU {cpu_losses:?}");
    }
    assert!((gpu_density - cpu_density).abs() <= 1e-4, "expected density: wgpu {gpu_density}, CPU {cpu_density}");
    let start = starting_scores(cpu_scores.len());
    let moved = cpu_scores.iter().zip(&start).filter(|(a, b)| a != b).count();
    assert!(moved > cpu_scores.len() / 2, "AdamW moved only {moved} of {} scores", cpu_scores.len());
    // AdamW's first steps are near sign(gradient) * lr: a gradient within rounding of zero can
    // take either sign on either backend, so a few scores may differ by up to 2 lr.
    let differing = gpu_scores.iter().zip(&cpu_scores).filter(|(g, c)| (*g - *c).abs() > 1e-3).count();
    assert!(differing * 100 <= cpu_scores.len(), "{differing} of {} scores differ after two steps", cpu_scores.len());
}

#[test]
fn choosing_a_device_says_which_in_one_line_and_raises_no_false_alarm() {
    // Probing adapters once printed `error: XDG_RUNTIME_DIR is invalid ...` twice per probe
    // (Mesa's device-select layer looking for a desktop session).
    let (ok, stdout, stderr) = rticket(&["devices"]);
    assert!(ok, "{stderr}");
    assert!(!stderr.contains("XDG_RUNTIME_DIR") && !stderr.to_lowercase().contains("error"), "a false alarm: {stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("device: ")).count(), 1, "{stderr}");
    assert!(stdout.contains("--device auto picks"), "{stdout}");
}
