//! `rticket attack`: attack a classifier or a ticket on a split, writing per-example JSONL
//! and a summary in the paper's layout.

use anyhow::{Context, Result, bail};
use rticket_core::attack::{MaskedLm, ModelMaskedLm, Recipe, Resources};
use rticket_core::model::SavedMeta;
use rticket_core::ticket::Ticket;
use rticket_core::{SequenceClassifier, Weights};

use crate::cli::{AttackArgs, Preset, SplitArg};
use crate::device::{self, DeviceChoice};
use crate::model_files::read;
use crate::outputs::RunDir;
use crate::resources::AttackKit;
use crate::stages::{AttackOptions, AttackSetup, StageSettings, attack_examples, examples_table, logged_successes, summary_table};

pub fn run(args: AttackArgs, device: DeviceChoice) -> Result<()> {
    let selected = device::select(device)?;
    let dev = &selected.device;
    let kit = AttackKit::load(&args.model.dir(), args.neighbours.as_deref(), dev)?;
    let files = &kit.files;
    let (model, max_len, window, what, trained_on) = match (&args.classifier, &args.ticket) {
        (Some(path), None) => {
            let bytes = read(path, "classifier")?;
            let context = || format!("loading {}", path.display());
            let (model, config) = SequenceClassifier::from_safetensors(&bytes, dev).with_context(context)?;
            let saved = SavedMeta::read(&bytes).with_context(context)?;
            (model, saved.max_len_within(&config.bert).with_context(context)?, saved.window, path.display().to_string(), config.labels)
        }
        (None, Some(path)) => {
            let ticket = Ticket::from_bytes(&read(path, "ticket")?).with_context(|| format!("reading {}", path.display()))?;
            let model = ticket.classifier(&Weights::from_bytes(&files.weights)?, &files.weights_sha256(), dev)?;
            (model, ticket.meta.max_len, ticket.meta.window, path.display().to_string(), ticket.meta.classifier.labels)
        }
        _ => bail!("give exactly one of --classifier or --ticket"),
    };
    let tokenizer = files.tokenizer_on(max_len, dev)?.with_window(window)?;
    let settings = StageSettings::preset(Preset::Paper, args.data.source()?, args.model.dir());
    let (labels, split) = settings.split()?;
    crate::data::require_same_labels(&trained_on, &labels, &what)?;
    let examples = match args.split {
        SplitArg::Dev => split.dev,
        SplitArg::Test => split.test,
    };
    let examples = crate::data::balanced_subset(examples, args.examples.unwrap_or(usize::MAX), crate::data::SPLIT_SEED);
    let mut recipes: Vec<Recipe> = Vec::new();
    for arg in &args.recipe {
        let more = match arg.recipe() {
            Some(one) => vec![one],
            None => Recipe::ALL.to_vec(),
        };
        recipes.extend(more.into_iter().filter(|r| !recipes.contains(r)).collect::<Vec<_>>());
    }
    // BERT-Attack's own candidates need a masked-LM head in the base model's weights.
    let head = kit.masked_lm_head(dev)?;
    let masked_lm = head.as_ref().map(|head| ModelMaskedLm { encoder: &kit.encoder, head, tokenizer: &tokenizer, device: dev.clone() });
    if let Some(floor) = args.min_cosine.filter(|c| !(-1.0..=1.0).contains(c)) {
        bail!("--min-cosine {floor} is not a cosine: give a number from -1 to 1");
    }
    let options = AttackOptions { segment: args.attack_segment.segment(), min_cosine: args.min_cosine };
    let run = RunDir::create(&args.out, args.resume)?;
    // The recipe's serde name (`text-fooler`) names its log.
    let stem = |r: &Recipe| serde_json::to_value(r).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_else(|| "attack".into());
    let logs = |r: &Recipe| run.path.join(format!("{}.jsonl", stem(r)));
    if !args.resume && let Some(log) = recipes.iter().map(logs).find(|p| p.exists()) {
        bail!("{} holds the log of an earlier attack: pass --resume to continue it, or another --out", log.display());
    }
    run.write_json("run.json", &serde_json::json!({
        "command": std::env::args().collect::<Vec<_>>(),
        "model": what, "device": selected.description, "split": format!("{:?}", args.split),
        "data": args.data.source()?, "examples": examples.len(), "seed": args.seed,
        "recipes": recipes.iter().map(|r| options.config(*r, masked_lm.is_some())).collect::<Vec<_>>(),
        "recipe_names": recipes.iter().map(|r| options.config(*r, masked_lm.is_some()).name()).collect::<Vec<_>>(),
        "similarity_encoder": "base encoder, mean pooling (stand-in for the Universal Sentence Encoder)",
        "neighbours": { "path": args.neighbours.clone().unwrap_or_else(crate::resources::default_neighbours_path),
                        "vectors": kit.neighbours.vectors, "source_sha256": kit.neighbours.source_sha256 },
    }))?;
    let setup = AttackSetup {
        victim: &model,
        tokenizer: &tokenizer,
        encoder: &kit.encoder,
        resources: Resources { masked_lm: masked_lm.as_ref().map(|m| m as &dyn MaskedLm), ..kit.resources() },
        device: dev.clone(),
        batch_size: 64,
        options,
    };
    let mut summaries = Vec::new();
    let mut shown = String::new();
    for recipe in recipes {
        let name = stem(&recipe);
        let jsonl = logs(&recipe);
        let summary = attack_examples(&setup, recipe, &examples, args.seed, &jsonl, args.resume)?;
        eprintln!("{}: accuracy under attack {:.1}%, success {:.1}%", summary.recipe_name, 100.0 * summary.accuracy_under_attack, 100.0 * summary.success_rate);
        let successes = logged_successes(&jsonl, args.show)?;
        if !successes.is_empty() {
            shown += &format!("\n## {}: the first {} successful attacks ({name}.jsonl has every example)\n\n", summary.recipe_name, successes.len());
            shown += &examples_table(&successes);
        }
        summaries.push(summary);
    }
    let table = summary_table(&what, &summaries);
    run.write("summary.md", format!("{table}{shown}").as_bytes())?;
    run.write_json("metrics.json", &summaries)?;
    println!("{table}");
    Ok(())
}
