//! `rticket search`: stage 2 from the command line.

use anyhow::Result;
use rticket_core::gate::HardConcreteConfig;

use crate::cli::SearchArgs;
use crate::device::{self, DeviceChoice};
use crate::stages::{run_search, scores_path, search_fit};

pub fn run(args: SearchArgs, device: DeviceChoice) -> Result<()> {
    let selected = device::select(device)?;
    let mut settings = args.stage.settings();
    let seed = settings.fit.seed;
    settings.fit = search_fit(args.stage.preset, args.mode, !args.no_adversary);
    settings.fit.seed = seed;
    settings.pooling = args.mode.pooling(settings.pooling);
    if let Some(epochs) = args.stage.epochs {
        settings.fit.epochs = epochs;
    }
    args.tuning.apply(&mut settings.fit);
    let summary = run_search(
        &settings,
        args.mode,
        args.start.as_deref(),
        &HardConcreteConfig::new(),
        &args.out,
        args.stage.resume,
        &selected.device,
        &selected.description,
    )?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    eprintln!("scores: {} (next: rticket draw --search {})", scores_path(&args.out).display(), args.out.display());
    Ok(())
}
