//! `rticket retrain`: stage 3b from the command line, under the masks of any ticket.

use anyhow::Result;
use rticket_core::ticket::Ticket;

use crate::cli::RetrainArgs;
use crate::data::require_same_labels;
use crate::device::{self, DeviceChoice};
use crate::model_files::{ModelFiles, read};
use crate::stages::{DrawnTicket, export_ticket, run_retrain};

pub fn run(args: RetrainArgs, device: DeviceChoice) -> Result<()> {
    let selected = device::select(device)?;
    let mut settings = args.stage.settings()?;
    let drawn_from = Ticket::from_bytes(&read(&args.ticket, "ticket")?)?;
    drawn_from.check_base(&ModelFiles::open(&settings.model_dir)?.weights_sha256())?;
    if drawn_from.values.is_some() {
        eprintln!("{} is already retrained: only its masks are used", args.ticket.display());
    }
    let (labels, _) = settings.split()?;
    require_same_labels(&drawn_from.meta.classifier.labels, &labels, &format!("the ticket {}", args.ticket.display()))?;
    // The retrained head reads what the ticket's head read (a mask-only ticket: mean pooling,
    // no pooler among its gated matrices).
    settings.pooling = drawn_from.meta.classifier.pooling;
    // And it reads the end of long texts the drawn one read, at its length.
    settings.window = args.stage.window_of(drawn_from.meta.window, &args.ticket)?;
    settings.max_len = drawn_from.meta.max_len;
    let drawn = DrawnTicket { sparsity: drawn_from.meta.sparsity, masks: drawn_from.keep_masks() };
    let (ctx, summary, best) =
        run_retrain(&settings, &drawn.masks, args.reinit, &args.out, args.stage.resume, &selected.device, &selected.description)?;
    let training = serde_json::json!({ "retrain": settings.fit, "reinit": args.reinit, "head": settings.retrain_head, "masks_from": args.ticket, "drawn": drawn_from.meta.training });
    let ticket = export_ticket(&ctx, &best, &drawn, Some(args.values.into()), args.mask_encoding.into(), training, "ticket.safetensors")?;
    println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "retrain": summary, "ticket": ticket }))?);
    Ok(())
}
