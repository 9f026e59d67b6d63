//! The search's pieces on real weights: the adversary, frozen weights, gate training.

use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use rticket::train::{AdversarialConfig, ObjectiveConfig, ParamIds, task_gradients};
use rticket_core::gate::HardConcreteConfig;
use rticket_core::model::EncoderInput;
use rticket_core::SequenceClassifierConfig;

use crate::common::*;

#[test]
fn the_adversarial_steps_increase_the_loss_on_a_fixed_batch() {
    let files = minilm();
    let device = cpu().autodiff();
    device.seed(11);
    let config = SequenceClassifierConfig::new(files.config.clone(), vec!["negative".into(), "positive".into()]);
    let mut model = files.classifier(&config, &device).unwrap().no_grad();
    model.bert = model.bert.with_gates(&HardConcreteConfig::new());
    let tokenizer = files.tokenizer(64).unwrap();
    let texts = ["a gripping , moving film", "tedious and far too long", "the cast is wonderful", "a mess from start to end"];
    let input = EncoderInput::new(&tokenizer.encode_batch(&texts).unwrap(), &device);
    let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 0, 1, 0], [4]), &device);
    // A large step makes the ascent visible through the gates' sampling noise.
    let objective = ObjectiveConfig {
        adversarial: Some(AdversarialConfig { steps: 4, step_size: 2.0, init_magnitude: 0.05 }),
        l0: None,
    };
    let ids = ParamIds::of(&model);
    device.seed(5);
    let out = task_gradients(&objective, &model, &input, targets, &ids);
    let losses = out.iterate_losses;
    assert_eq!(losses.len(), 4);
    assert!(losses[3] > losses[0] + 1e-3, "the loss did not rise along the ascent: {losses:?}");

    // Only the gate scores received gradients: the encoder and head are frozen.
    let gate = model.bert.gates()[0];
    assert!(out.grads.get::<2>(gate.log_alpha.id).is_some(), "the gates got no gradient");
    assert!(out.grads.get::<2>(model.bert.layers[0].query.weight.id).is_none(), "a frozen weight got a gradient");
    assert!(out.grads.get::<2>(model.classifier.weight.id).is_none(), "the frozen head got a gradient");
}
