//! `rticket embed`: sentence embeddings as JSON, to check the encoder against Python tooling.

use anyhow::Result;
use rticket_core::model::{EncoderInput, read_rows, sentence_features};

use crate::cli::EmbedArgs;
use crate::device::{self, DeviceChoice};
use crate::model_files::ModelFiles;

/// Embeddings are computed in batches of this many texts.
const BATCH: usize = 32;

pub fn run(args: EmbedArgs, device: DeviceChoice) -> Result<()> {
    let texts = args.input.texts()?;
    let selected = device::select(device)?;
    let files = ModelFiles::open(&args.model.dir())?;
    let tokenizer = files.tokenizer_on(args.max_len.min(files.config.max_position_embeddings), &selected.device)?;
    let encoder = files.encoder(&selected.device)?;
    let pooling = args.pooling.into();
    if pooling == rticket_core::Pooling::Pooler && encoder.pooler.is_none() {
        anyhow::bail!("--pooling pooler: this model has no pooler; use mean or cls");
    }

    let mut embeddings = Vec::with_capacity(texts.len());
    let mut truncated = Vec::new();
    for (chunk_index, chunk) in texts.chunks(BATCH).enumerate() {
        let encoded = tokenizer.encode_batch(chunk).map_err(|e| offset_error(e, chunk_index * BATCH))?;
        for (i, cut) in encoded.truncated.iter().enumerate() {
            if *cut {
                truncated.push(chunk_index * BATCH + i);
            }
        }
        let input = EncoderInput::new(&encoded, &selected.device);
        let hidden = encoder.forward(&input);
        let features = sentence_features(&encoder, hidden, &input, pooling);
        for mut v in read_rows(features)? {
            if args.normalize {
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.iter_mut().for_each(|x| *x /= norm);
            }
            embeddings.push(v);
        }
    }
    for i in &truncated {
        eprintln!("note: text #{i} is longer than {} tokens and was truncated", tokenizer.max_len());
    }
    let out = serde_json::json!({
        "model": files.dir,
        "pooling": format!("{pooling:?}").to_lowercase(),
        "normalized": args.normalize,
        "device": selected.description,
        "texts": texts,
        "truncated": truncated,
        "embeddings": embeddings,
    });
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

/// Errors name the text by its position in the whole input, not in its batch.
fn offset_error(err: rticket_core::Error, offset: usize) -> anyhow::Error {
    match err {
        rticket_core::Error::EmptyText { index } => rticket_core::Error::EmptyText { index: index + offset }.into(),
        other => other.into(),
    }
}
