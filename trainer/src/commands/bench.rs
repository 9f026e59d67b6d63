//! `rticket bench`: throughput numbers for the notes (never asserted in tests).

use std::time::Instant;

use anyhow::Result;
use rticket_core::model::{EncoderInput, mean_pool};

use crate::cli::BenchArgs;
use crate::data::{DatasetName, load_polarity_csv};
use crate::device::{self, DeviceChoice};
use crate::model_files::{ModelFiles, assets_dir};

/// Encode throughput: MR sentences through the encoder with mean pooling, after a warm-up.
pub fn run(args: BenchArgs, device: DeviceChoice) -> Result<()> {
    let selected = device::select(device)?;
    let files = ModelFiles::open(&args.model.dir())?;
    let tokenizer = files.tokenizer(args.max_len)?;
    let encoder = files.encoder(&selected.device)?;
    let corpus = load_polarity_csv(&DatasetName::Mr.path(&assets_dir()))?;
    let texts: Vec<&str> = corpus.examples.iter().take(args.sentences).map(|e| e.text.as_str()).collect();

    let encode = |chunk: &[&str]| -> Result<()> {
        let input = EncoderInput::new(&tokenizer.encode_batch(chunk)?, &selected.device);
        let pooled = mean_pool(encoder.forward(&input), input.attention_mask.clone());
        pooled.into_data().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(())
    };
    for chunk in texts.chunks(args.batch_size).take(2) {
        encode(chunk)?; // warm-up: kernel compilation, allocator
    }
    let mut runs = Vec::new();
    for _ in 0..args.repeats {
        let started = Instant::now();
        for chunk in texts.chunks(args.batch_size) {
            encode(chunk)?;
        }
        runs.push(texts.len() as f64 / started.elapsed().as_secs_f64());
    }
    runs.sort_by(f64::total_cmp);
    let median = runs[runs.len() / 2];
    println!(
        "{}",
        serde_json::json!({
            "bench": "encode",
            "device": selected.description,
            "sentences": texts.len(),
            "batch_size": args.batch_size,
            "max_len": args.max_len,
            "repeats": args.repeats,
            "sentences_per_second_median": median,
            "sentences_per_second_runs": runs,
        })
    );
    Ok(())
}
