//! `rticket classify`: labels and probabilities from a saved classifier or a ticket, one JSON
//! line per text.

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use rticket_core::ticket::Ticket;
use rticket_core::model::SavedMeta;
use rticket_core::{SequenceClassifier, SequenceClassifierConfig, TextTokenizer, Weights};

use crate::cli::ClassifyArgs;
use crate::device::{self, DeviceChoice};
use crate::model_files::{ModelFiles, default_model_dir, read, sha256_hex};
use crate::train::predict_probabilities;

pub fn run(args: ClassifyArgs, device: DeviceChoice) -> Result<()> {
    let texts = args.input.texts()?;
    let selected = device::select(device)?;
    let (model, config, tokenizer) = match (&args.classifier, &args.ticket) {
        (Some(path), _) => classifier(path, args.tokenizer.as_deref(), &selected.device)?,
        (None, Some(path)) => ticket(path, &args.model.dir(), &selected.device)?,
        (None, None) => bail!("give --classifier or --ticket"),
    };
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let probs = predict_probabilities(&model, &tokenizer, &refs, 32, &selected.device)?;
    for (text, p) in texts.iter().zip(probs) {
        let best = crate::train::argmax(&p);
        let line = serde_json::json!({
            "text": text,
            "label": config.labels[best],
            "probability": p[best],
            "probabilities": config.labels.iter().zip(&p).map(|(l, v)| (l.clone(), serde_json::Value::from(*v))).collect::<serde_json::Map<_, _>>(),
        });
        println!("{line}");
    }
    Ok(())
}

/// A saved dense classifier and the tokenizer it was trained with (checked by hash).
fn classifier(path: &Path, tokenizer: Option<&Path>, device: &Device) -> Result<(SequenceClassifier, SequenceClassifierConfig, TextTokenizer)> {
    let bytes = read(path, "classifier")?;
    let context = || format!("loading classifier {}", path.display());
    let (model, config) = SequenceClassifier::from_safetensors(&bytes, device).with_context(context)?;
    let saved = SavedMeta::read(&bytes).with_context(context)?;
    let tokenizer_path = tokenizer.map(Path::to_path_buf).unwrap_or_else(|| default_model_dir().join("tokenizer.json"));
    let tokenizer_bytes = read(&tokenizer_path, "tokenizer")?;
    if let Some(expected) = &saved.tokenizer_sha256 {
        let found = sha256_hex(&tokenizer_bytes);
        if &found != expected {
            bail!(
                "{} (sha256 {found}) is not the tokenizer this classifier was trained with (sha256 {expected}): \
                 pass the base model's tokenizer.json with --tokenizer",
                tokenizer_path.display()
            );
        }
    }
    let max_len = saved.max_len_within(&config.bert).with_context(context)?;
    let tokenizer = TextTokenizer::from_bytes(&tokenizer_bytes, max_len)?.with_window(saved.window)?;
    tokenizer.check_vocab(config.bert.vocab_size)?;
    Ok((model, config, tokenizer))
}

/// A ticket applied to the base model in `base` (refused when drawn from other weights).
fn ticket(path: &Path, base: &Path, device: &Device) -> Result<(SequenceClassifier, SequenceClassifierConfig, TextTokenizer)> {
    let files = ModelFiles::open(base)?;
    let ticket = Ticket::from_bytes(&read(path, "ticket")?).with_context(|| format!("reading {}", path.display()))?;
    if ticket.meta.tokenizer_sha256 != sha256_hex(&files.tokenizer) {
        bail!("{} was trained with another tokenizer than {}'s", path.display(), base.display());
    }
    let model = ticket.classifier(&Weights::from_bytes(&files.weights)?, &files.weights_sha256(), device)?;
    let tokenizer = files.tokenizer_on(ticket.meta.max_len, device)?.with_window(ticket.meta.window)?;
    Ok((model, ticket.meta.classifier, tokenizer))
}
