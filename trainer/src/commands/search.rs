//! `rticket search`: stage 2 from the command line.

use anyhow::{Context, Result};
use rticket_core::model::SavedMeta;

use crate::cli::SearchArgs;
use crate::device::{self, DeviceChoice};
use crate::model_files::read;
use crate::stages::{run_search, scores_path, search_settings_on};

pub fn run(args: SearchArgs, device: DeviceChoice) -> Result<()> {
    args.stage.refuse_selection("search", "keeps the gate scores of its last epoch")?;
    let selected = device::select(device)?;
    // The sample the user asked for: the quick preset's halving is the pipeline's choice.
    let mut settings = search_settings_on(&args.stage.settings()?, args.mode, !args.no_adversary);
    // A paper-mode search reads what its fine-tuned start read: the same end of long texts,
    // at the same length (the preset's when the file does not record one).
    if let Some(start) = args.start.as_deref() {
        let saved = SavedMeta::read(&read(start, "fine-tuned classifier")?).with_context(|| format!("reading {}", start.display()))?;
        settings.window = args.stage.window_of(saved.window, start)?;
        settings.max_len = saved.max_len.unwrap_or(settings.max_len);
    }
    if let Some(epochs) = args.stage.training.epochs {
        settings.fit.epochs = epochs;
    }
    args.tuning.apply(&mut settings.fit);
    let summary = run_search(
        &settings,
        args.mode,
        args.start.as_deref(),
        args.head_warmup,
        &args.gates.config(),
        &args.out,
        args.stage.resume,
        &selected.device,
        &selected.description,
    )?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    eprintln!("scores: {} (next: rticket draw --search {})", scores_path(&args.out).display(), args.out.display());
    Ok(())
}
