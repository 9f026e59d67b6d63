//! `rticket pipeline`: the stages end to end with a named preset, and a markdown report.
//!
//! Stages present today: fine-tune (with dev-split model selection and a test evaluation).
//! The mask search, draw, retrain and attacks join here as they land.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;

use super::finetune::{FinetuneSettings, run_finetune};
use crate::cli::PipelineArgs;
use crate::device::{self, DeviceChoice};
use crate::outputs::RunDir;

pub fn run(args: PipelineArgs, device: DeviceChoice) -> Result<()> {
    let selected = device::select(device)?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("runs").join(format!("pipeline-{}-{stamp}", serde_json::to_value(args.preset).unwrap().as_str().unwrap()))
    });
    let run = RunDir::create(&out, args.resume)?;
    eprintln!("pipeline ({:?} preset) on {} -> {}", args.preset, selected.description, out.display());

    let mut settings = FinetuneSettings::preset(args.preset, args.data, args.model.dir());
    if let Some(seed) = args.seed {
        settings.fit.seed = seed;
    }
    let finetune = run_finetune(&settings, &out.join("finetune"), args.resume, &selected.device, &selected.description)?;

    let mut report = String::new();
    writeln!(report, "# rticket pipeline report\n")?;
    writeln!(report, "- preset: `{:?}`, data: `{:?}`, model: `{}`", args.preset, args.data, settings.model_dir.display())?;
    writeln!(report, "- base model sha256: `{}`", finetune.base_model_sha256)?;
    writeln!(report, "- device: {}", finetune.device)?;
    writeln!(report, "- stages run: fine-tune (search, draw, retrain and attacks are not implemented yet)\n")?;
    writeln!(report, "| stage | best epoch | dev accuracy | test accuracy | seconds |")?;
    writeln!(report, "|---|---|---|---|---|")?;
    writeln!(
        report,
        "| fine-tune | {} | {:.2} ({} ex.) | {:.2} ({} ex.) | {:.0} |",
        finetune.best_epoch,
        100.0 * finetune.dev.accuracy,
        finetune.dev.examples,
        100.0 * finetune.test.accuracy,
        finetune.test.examples,
        finetune.seconds
    )?;
    writeln!(report, "\nClassifier: `{}`", finetune.classifier.display())?;
    let path = run.write("report.md", report.as_bytes())?;
    run.write_json("metrics.json", &serde_json::json!({ "finetune": finetune }))?;
    println!("{report}\nreport written to {}", path.display());
    Ok(())
}
