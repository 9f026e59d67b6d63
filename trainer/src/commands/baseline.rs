//! `rticket baseline`: the comparisons of the paper's tables at a given sparsity.

use anyhow::{Result, bail};
use rticket_core::gate::HardConcreteConfig;
use rticket_core::ticket::{MaskEncoding, ValueDtype};

use crate::cli::{BaselineArgs, BaselineKind};
use crate::device::{self, DeviceChoice};
use crate::model_files::{ModelFiles, read};
use crate::outputs::RunDir;
use crate::stages::{
    DrawnTicket, SearchMode, draw_tickets, export_ticket, freelb_settings, gated_shapes, imp_masks, random_masks, run_finetune, run_retrain,
    run_search, scores_from_file, scores_path, search_settings,
};

pub fn run(args: BaselineArgs, device: DeviceChoice) -> Result<()> {
    if args.freelb_eta.is_some() && args.kind != BaselineKind::Freelb {
        bail!("--freelb-eta sets FreeLB's adversary; the {:?} baseline has none: drop the flag or use --kind freelb", args.kind);
    }
    let selected = device::select(device)?;
    let (dev, name) = (&selected.device, selected.description.as_str());
    let settings = args.stage.settings()?;
    let out = &args.out;
    RunDir::create(out, args.stage.resume)?;
    let files = ModelFiles::open(&settings.model_dir)?;
    let shapes = gated_shapes(&files, dev)?;
    let training = serde_json::json!({ "baseline": args.kind, "preset": args.stage.preset, "fit": settings.fit, "head": settings.retrain_head });

    let masks = match args.kind {
        BaselineKind::Freelb => {
            let summary = run_finetune(&freelb_settings(&settings, args.freelb_eta), &out.join("freelb"), args.stage.resume, dev, name)?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            return Ok(());
        }
        BaselineKind::Random => random_masks(&shapes, args.sparsity, settings.fit.seed),
        BaselineKind::Imp => imp_masks(&settings, &shapes, args.sparsity, &out.join("imp"), &[], args.stage.resume, dev, name)?.0,
        BaselineKind::NoAdversary => {
            // Ablation: the paper's search without the adversarial loss.
            let finetune = run_finetune(&settings, &out.join("finetune"), args.stage.resume, dev, name)?;
            let search = search_settings(&settings, SearchMode::Paper, false);
            let start = finetune.outputs[0].clone();
            run_search(&search, SearchMode::Paper, Some(&start), None, &HardConcreteConfig::new(), &out.join("search"), args.stage.resume, dev, name)?;
            let model = files.classifier(&crate::stages::StageContext::classifier_config_for(&files, &settings)?, dev)?;
            let scores = scores_from_file(&read(&scores_path(&out.join("search")), "search scores")?, &model)?;
            draw_tickets(&scores, &[args.sparsity]).remove(0).masks
        }
    };
    let drawn = DrawnTicket { sparsity: args.sparsity, masks };
    let (ctx, summary, best) = run_retrain(&settings, &drawn.masks, args.reinit, &out.join("retrain"), args.stage.resume, dev, name)?;
    let ticket = export_ticket(&ctx, &best, &drawn, Some(ValueDtype::F16), MaskEncoding::Ans, training, "ticket.safetensors")?;
    println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "retrain": summary, "ticket": ticket }))?);
    Ok(())
}
