//! `rticket draw`: tickets at one or several sparsities from one search.

use anyhow::{Context, Result, bail};
use rticket_core::model::SavedMeta;

use crate::cli::DrawArgs;
use crate::device::{self, DeviceChoice};
use crate::model_files::read;
use crate::stages::{StageContext, export_draws, head_refit_config, scores_path};

pub fn run(args: DrawArgs, device: DeviceChoice) -> Result<()> {
    args.stage.refuse_selection("draw", "trains nothing")?;
    if let Some(bad) = args.sparsity.iter().find(|s| !(0.0..1.0).contains(*s)) {
        bail!("--sparsity {bad} is outside [0, 1): it is the fraction of gated weights pruned");
    }
    let selected = device::select(device)?;
    let mut settings = args.stage.settings()?;
    let scores_file = scores_path(&args.search);
    let scores = read(&scores_file, "search scores (run `rticket search` first)")?;
    // The tickets read what the search read, at its length (it measures their dev and test
    // accuracy; scores files from before max_len was recorded take the preset's).
    let searched = SavedMeta::read(&scores).with_context(|| format!("reading {}", scores_file.display()))?;
    settings.window = args.stage.window_of(searched.window, &scores_file)?;
    settings.max_len = searched.max_len.unwrap_or(settings.max_len);
    let extra = serde_json::json!({ "search": args.search, "sparsities": args.sparsity, "refit_head_epochs": args.refit_head });
    let ctx = StageContext::open(&settings, "draw", &args.out, args.stage.resume, &selected.device, &selected.description, extra)?;
    let search_run: serde_json::Value = serde_json::from_slice(&read(&args.search.join("run.json"), "the search's run.json")?)?;
    let training = serde_json::json!({ "search": search_run, "drawn_by": "global top-k on log_alpha" });
    let refit = args.refit_head.map(|epochs| head_refit_config(&ctx, epochs));
    let draws = export_draws(&ctx, &scores, &args.sparsity, args.mask_encoding.into(), training, refit.as_ref())?;
    let reports: Vec<_> = draws.iter().map(|(_, report)| report).collect();
    ctx.run.write_json("metrics.json", &reports)?;
    println!("| sparsity | dev acc | test acc | bytes | mask bits / weight | H(density) | file |");
    println!("|---|---|---|---|---|---|---|");
    for r in &reports {
        println!(
            "| {:.1}% | {:.2} | {:.2} | {} | {:.4} | {:.4} | {} |",
            100.0 * r.sparsity,
            100.0 * r.dev.accuracy,
            100.0 * r.test.accuracy,
            r.file_bytes,
            r.mask_bits_per_weight,
            r.entropy_bits_per_weight,
            r.path.display()
        );
    }
    if search_run["stage_settings"]["mode"] == "paper" {
        eprintln!("paper-mode draws carry the fine-tuned head: retrain them (rticket retrain --ticket FILE)");
    }
    Ok(())
}
