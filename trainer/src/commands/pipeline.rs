//! `rticket pipeline`: every stage end to end with a named preset, and a markdown report.
//!
//! fine-tune -> search (paper mode, adversarial) -> draw -> retrain -> ticket; and the
//! mask-only search -> draw -> ticket (bitmask + head). Attacks join when they land.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use rticket_core::gate::HardConcreteConfig;
use rticket_core::ticket::{MaskEncoding, ValueDtype};
use rticket_core::Weights;

use crate::cli::PipelineArgs;
use crate::device::{self, DeviceChoice};
use crate::model_files::read;
use crate::outputs::RunDir;
use crate::stages::{
    SearchMode, StageContext, StageSettings, StageSummary, TicketReport, draw_tickets, export_draws, export_ticket, head_refit_config,
    run_finetune, run_retrain, run_search, scores_from_file, scores_path, search_settings,
};

pub fn run(args: PipelineArgs, device: DeviceChoice) -> Result<()> {
    let selected = device::select(device)?;
    let (dev, name) = (&selected.device, selected.description.as_str());
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let preset_name = serde_json::to_value(args.stage.preset)?.as_str().unwrap_or("preset").to_string();
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(format!("pipeline-{preset_name}-{stamp}")));
    let run = RunDir::create(&out, args.stage.resume)?;
    eprintln!("pipeline ({preset_name} preset, sparsity {}) on {name} -> {}", args.sparsity, out.display());
    let started = std::time::Instant::now();

    let base = args.stage.settings()?;
    let gates = HardConcreteConfig::new();

    // Stage 1: fine-tune.
    let finetune = run_finetune(&base, &out.join("finetune"), args.stage.resume, dev, name)?;
    let finetuned = out.join("finetune").join("classifier.safetensors");

    // Stage 2: robust mask search on the frozen fine-tuned model.
    let paper_settings = search_settings(&base, SearchMode::Paper, true);
    let search = run_search(&paper_settings, SearchMode::Paper, Some(&finetuned), None, &gates, &out.join("search"), args.stage.resume, dev, name)?;

    // Stage 3: draw, retrain on the pre-trained weights, export.
    let (retrain_ctx, retrain, robust_ticket) = {
        let probe = StageContext::open(&base, "draw", &out.join("draw"), true, dev, name, serde_json::json!({"sparsity": args.sparsity}))?;
        let model = probe.files.classifier(&probe.classifier_config(), dev)?;
        let scores = scores_from_file(&read(&scores_path(&out.join("search")), "search scores")?, &model)?;
        let drawn = draw_tickets(&scores, &[args.sparsity]).remove(0);
        let (ctx, summary, best) = run_retrain(&base, &drawn.masks, false, &out.join("retrain"), args.stage.resume, dev, name)?;
        let training = serde_json::json!({ "pipeline": "paper", "preset": preset_name, "search": paper_settings.fit, "retrain": base.fit, "head": base.retrain_head });
        let report = export_ticket(&ctx, &best, &drawn, Some(ValueDtype::F16), MaskEncoding::Ans, training, "ticket.safetensors")?;
        (ctx, summary, report)
    };
    drop(retrain_ctx);

    // Mask-only: search on the pre-trained weights with a trainable head; the ticket is masks + head.
    let mask_only_settings = search_settings(&base, SearchMode::MaskOnly, true);
    let mask_only_dir = out.join("search-mask-only");
    let mask_only = run_search(&mask_only_settings, SearchMode::MaskOnly, None, None, &gates, &mask_only_dir, args.stage.resume, dev, name)?;
    let mask_only_ticket = {
        let ctx = StageContext::open(&base, "draw", &out.join("draw-mask-only"), true, dev, name, serde_json::json!({"sparsity": args.sparsity}))?;
        let training = serde_json::json!({ "pipeline": "mask-only", "preset": preset_name, "search": mask_only_settings.fit });
        let scores = read(&scores_path(&mask_only_dir), "search scores")?;
        let refit = (args.mask_only_refit_head > 0).then(|| head_refit_config(&ctx, args.mask_only_refit_head));
        export_draws(&ctx, &scores, &[args.sparsity], MaskEncoding::Ans, training, refit.as_ref())?.remove(0).1
    };

    // Robustness: the same fixed test examples against each model.
    let robustness = robustness(&base, &args, &out, &finetuned, &robust_ticket.path, &mask_only_ticket.path, dev)?;

    let mut report = report(&args, &preset_name, name, &finetune, &search, &retrain, &robust_ticket, &mask_only, &mask_only_ticket, started.elapsed().as_secs_f64())?;
    report.push_str(&robustness.0);
    let path = run.write("report.md", report.as_bytes())?;
    run.write_json(
        "metrics.json",
        &serde_json::json!({
            "finetune": finetune, "search": search, "retrain": retrain, "ticket": robust_ticket,
            "search_mask_only": mask_only, "ticket_mask_only": mask_only_ticket,
            "attacks": robustness.1,
        }),
    )?;
    println!("{report}\nreport written to {}", path.display());
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn report(
    args: &PipelineArgs,
    preset: &str,
    device: &str,
    finetune: &StageSummary,
    search: &StageSummary,
    retrain: &StageSummary,
    ticket: &TicketReport,
    mask_only: &StageSummary,
    mask_only_ticket: &TicketReport,
    seconds: f64,
) -> Result<String> {
    let mut r = String::new();
    writeln!(r, "# rticket pipeline report\n")?;
    writeln!(r, "- preset `{preset}`, data `{}`, target sparsity {:.0}%", args.stage.data.source()?, 100.0 * args.sparsity)?;
    writeln!(r, "- base model sha256 `{}`", finetune.base_model_sha256)?;
    writeln!(r, "- device: {device}; wall time {seconds:.0} s")?;
    writeln!(r)?;
    writeln!(r, "| model | sparsity | dev acc | test acc | seconds |")?;
    writeln!(r, "|---|---|---|---|---|")?;
    let pct = |e: &crate::train::Evaluation| format!("{:.2}", 100.0 * e.accuracy);
    writeln!(r, "| fine-tune | 0% | {} | {} | {:.0} |", pct(&finetune.dev), pct(&finetune.test), finetune.seconds)?;
    let density = |s: &StageSummary| s.history.last().and_then(|m| m.expected_density).unwrap_or(f64::NAN);
    writeln!(r, "| search (soft gates, expected density {:.3}) | - | {} | {} | {:.0} |", density(search), pct(&search.dev), pct(&search.test), search.seconds)?;
    writeln!(r, "| robust ticket (drawn, retrained) | {:.1}% | {} | {} | {:.0} |", 100.0 * ticket.sparsity, pct(&ticket.dev), pct(&ticket.test), retrain.seconds)?;
    writeln!(r, "| mask-only search (soft gates, expected density {:.3}) | - | {} | {} | {:.0} |", density(mask_only), pct(&mask_only.dev), pct(&mask_only.test), mask_only.seconds)?;
    let head = match args.mask_only_refit_head {
        0 => "the searched head".to_string(),
        epochs => format!("head refit for {epochs} epoch(s)"),
    };
    writeln!(r, "| mask-only ticket ({head}) | {:.1}% | {} | {} | - |", 100.0 * mask_only_ticket.sparsity, pct(&mask_only_ticket.dev), pct(&mask_only_ticket.test))?;
    writeln!(r, "\n## Tickets\n")?;
    writeln!(r, "| ticket | file | bytes | mask bits / gated weight | entropy bound H(density) |")?;
    writeln!(r, "|---|---|---|---|---|")?;
    for (label, t) in [("robust (retrained, f16 values)", ticket), ("mask-only (bitmask + head)", mask_only_ticket)] {
        writeln!(
            r,
            "| {label} | `{}` | {} | {:.4} | {:.4} |",
            t.path.display(),
            t.file_bytes,
            t.mask_bits_per_weight,
            t.entropy_bits_per_weight
        )?;
    }
    Ok(r)
}

/// Attacks the fine-tuned model and both tickets on the same test examples (quick: a fixed,
/// class-balanced 50 with TextFooler; paper: the whole test split with every recipe).
fn robustness(
    base: &StageSettings,
    args: &PipelineArgs,
    out: &std::path::Path,
    finetuned: &std::path::Path,
    robust_ticket: &std::path::Path,
    mask_only_ticket: &std::path::Path,
    device: &burn::tensor::Device,
) -> Result<(String, serde_json::Value)> {
    use rticket_core::attack::Recipe;
    use rticket_core::ticket::Ticket;

    let kit = crate::resources::AttackKit::load(&base.model_dir, None, device)?;
    let files = &kit.files;
    let tokenizer = files.tokenizer_on(base.max_len, device)?.with_window(base.window)?;
    let (_, split) = base.split()?;
    let (examples, recipes): (Vec<_>, Vec<Recipe>) = match args.stage.preset {
        crate::cli::Preset::Quick => (crate::data::balanced_subset(split.test, 50, crate::data::SPLIT_SEED), vec![Recipe::TextFooler]),
        crate::cli::Preset::Paper => (split.test, Recipe::ALL.to_vec()),
    };
    let base_weights = Weights::from_bytes(&files.weights)?;
    let bytes = read(finetuned, "fine-tuned classifier")?;
    let models = vec![
        ("fine-tune", rticket_core::SequenceClassifier::from_safetensors(&bytes, device)?.0),
        ("robust ticket", Ticket::from_bytes(&read(robust_ticket, "ticket")?)?.classifier(&base_weights, &files.weights_sha256(), device)?),
        ("mask-only ticket", Ticket::from_bytes(&read(mask_only_ticket, "ticket")?)?.classifier(&base_weights, &files.weights_sha256(), device)?),
    ];
    let dir = out.join("attacks");
    std::fs::create_dir_all(&dir)?;
    let mut table = format!("\n## Robustness ({} test examples, fixed, class-balanced)\n\n", examples.len());
    let mut rows = String::new();
    let mut all = serde_json::Map::new();
    for (label, model) in &models {
        let setup = crate::stages::AttackSetup {
            victim: model,
            tokenizer: &tokenizer,
            encoder: &kit.encoder,
            resources: kit.resources(),
            device: device.clone(),
            batch_size: 64,
            options: Default::default(),
        };
        let mut summaries = Vec::new();
        for &recipe in &recipes {
            let file = dir.join(format!("{}-{}.jsonl", label.replace(' ', "-"), serde_json::to_value(recipe)?.as_str().unwrap_or("attack")));
            summaries.push(crate::stages::attack_examples(&setup, recipe, &examples, 0, &file, args.stage.resume)?);
        }
        let t = crate::stages::summary_table(label, &summaries);
        if rows.is_empty() {
            rows.push_str(&t);
        } else {
            rows.push_str(&t.lines().skip(2).map(|l| format!("{l}\n")).collect::<String>());
        }
        all.insert(label.to_string(), serde_json::to_value(&summaries)?);
    }
    table.push_str(&rows);
    table.push_str("\nCandidates: neighbours in GloVe 6B 50d counter-fitted to WordNet (antonyms removed), TextAttack's recipe on other vectors; similarity: MiniLM mean pooling with a calibrated floor, standing in for USE (README, 'The attacks').\n");
    Ok((table, serde_json::Value::Object(all)))
}
