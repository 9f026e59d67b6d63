//! The ticket file: lossless round trips, refusal of the wrong base model, and a reader that
//! answers every corrupt input with an error, never a panic.

use rticket::model_files::{ModelFiles, sha256_hex};
use rticket_core::ticket::{Ticket, TicketError, TicketMeta, ValueDtype};
use rticket_core::{SequenceClassifier, SequenceClassifierConfig, Weights};

use crate::common::*;

struct Fixture {
    _dir: TempDir,
    files: ModelFiles,
    config: SequenceClassifierConfig,
    model: SequenceClassifier,
    masks: Vec<Vec<bool>>,
}

/// The tiny model with a pseudo-random 30%-sparse mask.
fn fixture() -> Fixture {
    let dir = tiny_model_dir("ticket");
    let files = ModelFiles::open(dir.path()).unwrap();
    let config = polarity_config(files.config.clone());
    let device = cpu();
    device.seed(4);
    let model = files.classifier(&config, &device).unwrap();
    let shapes: Vec<[usize; 2]> = model.bert.dense_layers().iter().map(|(_, d)| d.shape()).collect();
    let masks = rticket::stages::random_masks(&shapes, 0.3, 12345);
    Fixture { _dir: dir, files, config, model, masks }
}

fn meta(f: &Fixture) -> TicketMeta {
    // A tail window (not the default), so that the round trips show it is kept.
    let meta = TicketMeta::new("tiny", f.files.weights_sha256(), sha256_hex(&f.files.tokenizer), 32, rticket_core::Window::Tail, f.config.clone());
    TicketMeta { training: serde_json::json!({"test": true}), metrics: serde_json::json!({"dev": 0.5}), ..meta }
}

fn logits(model: &SequenceClassifier) -> Vec<f32> {
    let tokenizer = rticket_core::TextTokenizer::from_bytes(&std::fs::read(minilm_dir().join("tokenizer.json")).unwrap(), 32).unwrap();
    let batch = tokenizer.encode_batch(&["a fine film", "dull and slow , a waste"]).unwrap();
    let input = rticket_core::model::EncoderInput::new(&batch, &cpu());
    model.forward(&input).into_data().try_into_vec::<f32>().unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn mask_only_ticket_round_trips_losslessly_and_reproduces_the_masked_model() {
    let f = fixture();
    let ticket = Ticket::from_classifier(&f.model, &f.masks, None, meta(&f)).unwrap();
    assert!((ticket.meta.sparsity - 0.3).abs() < 0.02, "sparsity {}", ticket.meta.sparsity);
    let bytes = ticket.to_bytes().unwrap();
    let back = Ticket::from_bytes(&bytes).unwrap();
    assert!(back == ticket, "the ticket changed in a write/read round trip");
    // Byte for byte the same file each time it is written (reports cite tickets by sha256).
    for _ in 0..3 {
        assert!(ticket.to_bytes().unwrap() == bytes, "the same ticket was written as different bytes");
    }

    let weights = Weights::from_bytes(&f.files.weights).unwrap();
    let sparse = back.classifier(&weights, &f.files.weights_sha256(), &cpu()).unwrap();
    // The same masks applied by hand give the same logits.
    let mut by_hand = f.model.clone();
    let masks = f
        .model
        .bert
        .dense_layers()
        .iter()
        .zip(&f.masks)
        .map(|((_, d), m)| {
            let [d_in, d_out] = d.shape();
            let v: Vec<f32> = m.iter().map(|&k| k as u8 as f32).collect();
            burn::tensor::Tensor::from_data(
                burn::tensor::TensorData::new(rticket_core::weights::transpose(&v, d_out, d_in), [d_in, d_out]),
                &cpu(),
            )
        })
        .collect();
    by_hand.bert = by_hand.bert.with_masks(masks);
    let diff = max_diff(&logits(&sparse), &logits(&by_hand));
    assert!(diff < 1e-5, "ticket model differs from the hand-masked model by {diff}");
    // Masking changed the model.
    assert!(max_diff(&logits(&sparse), &logits(&f.model)) > 1e-4);

    // A mask-only ticket costs one bit per gated weight plus the head.
    let expected: usize = ticket.meta.shapes.iter().map(|[o, i]| (o * i).div_ceil(8)).sum();
    let mask_bytes: usize = ticket.masks.iter().map(Vec::len).sum();
    assert_eq!(mask_bytes, expected);
    assert!((mask_bytes * 8) as f64 / (ticket.gated_weights() as f64) < 1.001);
}

#[test]
fn retrained_tickets_round_trip_in_f32_exactly_and_in_f16_closely() {
    let f = fixture();
    let weights = Weights::from_bytes(&f.files.weights).unwrap();
    let mut reference = None;
    for (dtype, tolerance) in [(ValueDtype::F32, 1e-5f32), (ValueDtype::F16, 2e-2)] {
        let ticket = Ticket::from_classifier(&f.model, &f.masks, Some(dtype), meta(&f)).unwrap();
        let back = Ticket::from_bytes(&ticket.to_bytes().unwrap()).unwrap();
        assert!(back == ticket, "the ticket changed in a write/read round trip");
        let sparse = back.classifier(&weights, &f.files.weights_sha256(), &cpu()).unwrap();
        let mask_only = Ticket::from_classifier(&f.model, &f.masks, None, meta(&f)).unwrap();
        let expected = reference.get_or_insert_with(|| logits(&mask_only.classifier(&weights, &f.files.weights_sha256(), &cpu()).unwrap()));
        let diff = max_diff(&logits(&sparse), expected);
        assert!(diff < tolerance, "{dtype:?}: {diff}");
    }
}

#[test]
fn a_ticket_for_another_base_model_is_refused() {
    let f = fixture();
    let bytes = Ticket::from_classifier(&f.model, &f.masks, None, meta(&f)).unwrap().to_bytes().unwrap();
    let ticket = Ticket::from_bytes(&bytes).unwrap();
    let real = minilm();
    let err = ticket.classifier(&Weights::from_bytes(&real.weights).unwrap(), &real.weights_sha256(), &cpu()).err().unwrap();
    assert!(matches!(err, TicketError::WrongBaseModel { .. }), "{err}");
    assert!(err.to_string().contains("load the base model the ticket names"));
}

#[test]
fn corrupt_truncated_or_foreign_files_are_errors_never_panics() {
    let f = fixture();
    let ticket = Ticket::from_classifier(&f.model, &f.masks, Some(ValueDtype::F16), meta(&f)).unwrap();
    let bytes = ticket.to_bytes().unwrap();

    // Every truncation point in the header and a spread of them in the data.
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize + 8;
    let cuts = (0..header_len.min(4096)).chain((header_len..bytes.len()).step_by(997));
    for cut in cuts {
        let result = std::panic::catch_unwind(|| Ticket::from_bytes(&bytes[..cut]));
        assert!(matches!(result, Ok(Err(_))), "truncation at {cut} of {} was not an error", bytes.len());
    }
    // Random single-byte corruptions anywhere: an error or a ticket, never a panic.
    let mut state = 99u64;
    for _ in 0..2000 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut bad = bytes.clone();
        let at = (state >> 20) as usize % bad.len();
        bad[at] ^= 1 << ((state >> 8) % 8);
        assert!(std::panic::catch_unwind(|| Ticket::from_bytes(&bad)).is_ok(), "flipping a bit at {at} panicked");
    }
    // A classifier file, not a ticket.
    let classifier = f.model.to_safetensors(&f.config, Default::default()).unwrap();
    assert!(matches!(Ticket::from_bytes(&classifier), Err(TicketError::NotATicket { .. })));
    // The same data under an edited header.
    let edited = |from: &str, to: &str| {
        let text = String::from_utf8_lossy(&bytes[8..header_len]).to_string();
        assert!(text.contains(from), "{from} is not in the header");
        let text = text.replace(from, to);
        let mut out = (text.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(&bytes[header_len..]);
        out
    };
    // An unknown version.
    let err = Ticket::from_bytes(&edited("\"version\":\"1\"", "\"version\":\"9\"")).err().unwrap();
    assert!(matches!(err, TicketError::UnsupportedVersion { .. }), "{err}");
    // An unknown window is named; a ticket from before windows existed read the head.
    let err = Ticket::from_bytes(&edited("\"window\":\"tail\"", "\"window\":\"middle\"")).err().unwrap();
    assert!(matches!(err, TicketError::BadMetadata { key: "window", .. }), "{err}");
    assert!(err.to_string().contains("middle"), "{err}");
    let older = Ticket::from_bytes(&edited(",\"window\":\"tail\"", "")).unwrap();
    assert_eq!((older.meta.window, ticket.meta.window), (rticket_core::Window::Head, rticket_core::Window::Tail));
}
