//! Property tests of the ticket reader: whatever bytes it is given (valid tickets cut short,
//! overwritten, spliced, or plain noise), it returns a value or a `TicketError`, never
//! panics; and what it accepts loads onto the base model without panicking either.

use std::collections::HashMap;
use std::sync::OnceLock;

use burn::tensor::Device;
use proptest::prelude::*;
use rticket_core::ticket::{MaskEncoding, Ticket, TicketMeta, ValueDtype};
use rticket_core::{BertConfig, SequenceClassifier, SequenceClassifierConfig, Weights};

struct Fixture {
    base: Vec<u8>,
    /// Valid tickets: bits / ANS masks, mask-only / f16 values.
    tickets: Vec<Vec<u8>>,
}

fn device() -> Device {
    Device::flex()
}

/// A tiny random model and four valid tickets of it (built once).
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let device = device();
        device.seed(9);
        let config = SequenceClassifierConfig::new(BertConfig::tiny(64), vec!["negative".into(), "positive".into()]);
        let model = SequenceClassifier::random(&config, &device).unwrap();
        let base = model.to_safetensors(&config, HashMap::new()).unwrap();
        let mut state = 77u64;
        let masks: Vec<Vec<bool>> = model
            .bert
            .dense_layers()
            .iter()
            .map(|(_, d)| {
                (0..d.shape()[0] * d.shape()[1])
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        (state >> 33) % 10 >= 8
                    })
                    .collect()
            })
            .collect();
        let meta = TicketMeta::new("tiny", sha(&base), "0".repeat(64), 16, rticket_core::Window::Head, config.clone());
        let mut tickets = Vec::new();
        for values in [None, Some(ValueDtype::F16)] {
            for encoding in [MaskEncoding::Bits, MaskEncoding::Ans] {
                let mut ticket = Ticket::from_classifier(&model, &masks, values, meta.clone()).unwrap();
                ticket.mask_encoding = encoding;
                let bytes = ticket.to_bytes().unwrap();
                assert_eq!(Ticket::from_bytes(&bytes).unwrap(), ticket, "{encoding:?} {values:?} did not round trip");
                tickets.push(bytes);
            }
        }
        Fixture { base, tickets }
    })
}

/// A stand-in for the weights' sha256: the reader only compares strings.
fn sha(bytes: &[u8]) -> String {
    let sum = bytes.iter().fold(0u64, |h, b| h.wrapping_mul(1099511628211).wrapping_add(u64::from(*b)));
    format!("{sum:064x}")
}

/// Reads `bytes` and, if that works, applies the ticket to the base model.
fn read_and_apply(bytes: &[u8]) {
    let f = fixture();
    if let Ok(ticket) = Ticket::from_bytes(bytes) {
        let base = Weights::from_bytes(&f.base).unwrap();
        let _ = ticket.classifier(&base, &sha(&f.base), &device());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn truncated_tickets_are_errors(which in 0usize..4, cut in any::<prop::sample::Index>()) {
        let bytes = &fixture().tickets[which];
        let cut = cut.index(bytes.len());
        prop_assert!(Ticket::from_bytes(&bytes[..cut]).is_err(), "a ticket cut to {cut} of {} bytes was accepted", bytes.len());
    }

    #[test]
    fn overwritten_bytes_never_panic(
        which in 0usize..4,
        at in any::<prop::sample::Index>(),
        patch in prop::collection::vec(any::<u8>(), 1..16),
    ) {
        let mut bytes = fixture().tickets[which].clone();
        let at = at.index(bytes.len());
        for (slot, b) in bytes[at..].iter_mut().zip(&patch) {
            *slot = *b;
        }
        read_and_apply(&bytes);
    }

    #[test]
    fn overwritten_header_bytes_never_panic(
        which in 0usize..4,
        at in any::<prop::sample::Index>(),
        patch in prop::collection::vec(prop::sample::select(b"0123456789-.e".to_vec()), 1..4),
    ) {
        // Most of a ticket is tensor data; aim at the JSON header too, where one changed digit
        // turns a valid number into an impossible one (a dropout of 1.1 was found this way), so the
        // patch is made of the characters numbers are written with.
        let mut bytes = fixture().tickets[which].clone();
        let header = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let at = 8 + at.index(header - 8);
        for (slot, b) in bytes[at..header].iter_mut().zip(&patch) {
            *slot = *b;
        }
        read_and_apply(&bytes);
    }

    #[test]
    fn damaged_mask_data_is_caught_or_harmless(which in 0usize..4, at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        // The tensor data lies after the header; damage it there, where the JSON checks cannot see.
        let mut bytes = fixture().tickets[which].clone();
        let header = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let at = header + at.index(bytes.len() - header);
        bytes[at] ^= flip;
        read_and_apply(&bytes);
    }

    #[test]
    fn arbitrary_bytes_are_errors(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(Ticket::from_bytes(&bytes).is_err());
    }

    #[test]
    fn a_forged_header_length_is_an_error(which in 0usize..4, length in any::<u64>()) {
        let mut bytes = fixture().tickets[which].clone();
        let original = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        prop_assume!(length != original);
        bytes[..8].copy_from_slice(&length.to_le_bytes());
        prop_assert!(Ticket::from_bytes(&bytes).is_err());
    }
}

#[test]
fn ans_masks_are_smaller_than_bits_at_twenty_percent_density() {
    let f = fixture();
    let (bits, ans) = (f.tickets[0].len(), f.tickets[1].len());
    assert!(ans < bits, "ANS ticket {ans} bytes, bit-packed {bits} bytes");
}

/// Found by `overwritten_bytes_never_panic`: one digit changed turned the head's dropout 0.1 into
/// 1.1, which burn's `DropoutConfig::init` panics on. The reader must refuse it by name.
#[test]
fn a_ticket_with_an_impossible_dropout_is_an_error() {
    let mut bytes = fixture().tickets[0].clone();
    let needle = b"\\\"classifier_dropout\\\":0.1";
    let at = bytes.windows(needle.len()).position(|w| w == needle).expect("the fixture's header holds the head's dropout 0.1");
    // 0.1 -> 1.1: the digit before the point.
    bytes[at + needle.len() - 3] = b'1';
    let err = Ticket::from_bytes(&bytes).unwrap_err().to_string();
    assert!(err.contains("classifier_dropout = 1.1"), "{err}");
}

/// A stranger's ticket cannot ask for a length the model could not embed (the page builds its
/// tokenizer from this field before reading a weight).
#[test]
fn a_ticket_reading_past_the_models_positions_is_an_error() {
    let f = fixture();
    let ticket = Ticket::from_bytes(&f.tickets[0]).unwrap();
    let positions = ticket.meta.classifier.bert.max_position_embeddings;
    for max_len in [positions + 1, 1 << 40, 2] {
        let mut stranger = ticket.clone();
        stranger.meta.max_len = max_len;
        let err = Ticket::from_bytes(&stranger.to_bytes().unwrap()).unwrap_err().to_string();
        assert!(err.contains("max_len") && err.contains(&format!("{max_len} tokens")), "max_len {max_len}: {err}");
    }
    let mut longest = ticket.clone();
    longest.meta.max_len = positions;
    assert_eq!(Ticket::from_bytes(&longest.to_bytes().unwrap()).unwrap(), longest);
}
