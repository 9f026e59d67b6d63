//! `rticket finetune`: stage 1 from the command line.

use anyhow::Result;

use crate::cli::FinetuneArgs;
use crate::device::{self, DeviceChoice};
use crate::stages::{StageSettings, run_finetune};

pub fn run(args: FinetuneArgs, device: DeviceChoice) -> Result<()> {
    let mut settings = StageSettings::preset(args.preset, args.data.source()?, args.model.dir());
    if let Some(v) = args.lr {
        settings.fit.lr = v;
    }
    if let Some(v) = args.batch_size {
        settings.fit.batch_size = v;
    }
    if let Some(v) = args.max_len {
        settings.max_len = v;
    }
    if let Some(v) = args.pooling {
        settings.pooling = v.into();
    }
    args.training.apply(&mut settings);
    let selected = device::select(device)?;
    let summary = run_finetune(&settings, &args.out, args.resume, &selected.device, &selected.description)?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
