//! `rticket bench`: throughput, memory and overhead numbers for the notes (never asserted in tests).

use std::time::Instant;

use anyhow::Result;
use burn::module::Module;
use burn::tensor::{Int, Tensor, TensorData};
use rticket_core::gate::HardConcreteConfig;
use rticket_core::model::{EncoderInput, mean_pool};
use rticket_core::attack::{ClassifierVictim, MeanPoolEncoder, SentenceEncoder, Victim, attack_blocking};
use rticket_core::{SequenceClassifier, SequenceClassifierConfig};

use crate::cli::{BenchArgs, BenchKind, Preset};
use crate::data::{DatasetName, load_polarity_csv};
use crate::device::{self, DeviceChoice, Selected};
use crate::model_files::{ModelFiles, assets_dir, read};
use crate::resources::AttackKit;
use crate::stages::{SearchMode, StageContext, StageSettings, search_fit};
use crate::train::{AdversarialConfig, Stepper};

pub fn run(args: BenchArgs, device: DeviceChoice) -> Result<()> {
    let selected = device::select(device)?;
    let result = match args.what {
        BenchKind::Encode => encode(&args, &selected)?,
        BenchKind::SearchStep => search_step(&args, &selected)?,
        BenchKind::Attack => attack_overhead(&args, &selected)?,
    };
    println!("{result}");
    Ok(())
}

/// Encode throughput: MR sentences through the encoder with mean pooling, after a warm-up.
fn encode(args: &BenchArgs, selected: &Selected) -> Result<serde_json::Value> {
    let files = ModelFiles::open(&args.model.dir())?;
    let tokenizer = files.tokenizer_on(args.max_len, &selected.device)?;
    let encoder = files.encoder(&selected.device)?;
    let corpus = load_polarity_csv(&DatasetName::Mr.path(&assets_dir()))?;
    let texts: Vec<&str> = corpus.examples.iter().take(args.sentences).map(|e| e.text.as_str()).collect();

    let encode = |chunk: &[&str]| -> Result<()> {
        let input = EncoderInput::new(&tokenizer.encode_batch(chunk)?, &selected.device);
        let pooled = mean_pool(encoder.forward(&input), input.attention_mask.clone());
        pooled.into_data().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(())
    };
    for chunk in texts.chunks(args.batch_size).take(2) {
        encode(chunk)?; // warm-up: kernel compilation, allocator
    }
    let mut runs = Vec::new();
    for _ in 0..args.repeats {
        let started = Instant::now();
        for chunk in texts.chunks(args.batch_size) {
            encode(chunk)?;
        }
        runs.push(texts.len() as f64 / started.elapsed().as_secs_f64());
    }
    runs.sort_by(f64::total_cmp);
    Ok(serde_json::json!({
        "bench": "encode",
        "device": selected.description,
        "sentences": texts.len(),
        "batch_size": args.batch_size,
        "max_len": args.max_len,
        "repeats": args.repeats,
        "sentences_per_second_median": runs[runs.len() / 2],
        "sentences_per_second_runs": runs,
        "peak_rss_mib": peak_rss_mib(),
    }))
}

/// The paper-mode search step exactly as `search` runs it ([`Stepper::step`]: gates sampled
/// per pass, K adversarial passes, clipping, L0, AdamW on the scores) on a fixed random batch
/// of `batch_size` inputs of exactly `max_len` tokens; the same step `bench/search_step.py`
/// times in PyTorch. `warmup` untimed steps, then `repeats` timed steps.
fn search_step(args: &BenchArgs, selected: &Selected) -> Result<serde_json::Value> {
    let files = ModelFiles::open(&args.model.dir())?;
    let device = selected.device.clone().autodiff();
    device.seed(0);
    let config = SequenceClassifierConfig::new(files.config.clone(), vec!["negative".into(), "positive".into()]);
    let mut model = files.classifier(&config, &device)?.no_grad();
    model.bert = model.bert.with_gates(&HardConcreteConfig::new());
    let mut fit = search_fit(Preset::Paper, SearchMode::Paper, true);
    fit.batch_size = args.batch_size;
    fit.objective.adversarial = Some(AdversarialConfig { steps: args.adversarial_steps, ..AdversarialConfig::default() });
    let rss_loaded = peak_rss_mib();

    let (batch, seq) = (args.batch_size, args.max_len);
    let mut state = 20220522u64;
    let ids: Vec<i64> = (0..batch * seq)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            1000 + ((state >> 33) % 29000) as i64
        })
        .collect();
    let input = EncoderInput {
        input_ids: Tensor::from_data(TensorData::new(ids, [batch, seq]), &device),
        token_type_ids: Tensor::zeros([batch, seq], &device),
        attention_mask: Tensor::ones([batch, seq], &device),
    };
    let labels: Vec<i64> = (0..batch as i64).map(|i| i % 2).collect();
    let targets = Tensor::<1, Int>::from_data(TensorData::new(labels, [batch]), &device);

    let mut stepper = Stepper::new(&model, &fit, args.warmup + args.repeats);
    let mut seconds = Vec::new();
    for step in 0..args.warmup + args.repeats {
        let started = Instant::now();
        let (next, out) = stepper.step(model, &input, targets.clone(), step)?;
        model = next;
        out.logits.into_data(); // wait for the device
        if step >= args.warmup {
            seconds.push(started.elapsed().as_secs_f64());
        }
    }
    let mean = seconds.iter().sum::<f64>() / seconds.len().max(1) as f64;
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
    Ok(serde_json::json!({
        "bench": "search-step",
        "device": selected.description,
        "batch_size": batch,
        "seq_len": seq,
        "adversarial_steps": args.adversarial_steps,
        "warmup_steps": args.warmup,
        "timed_steps": seconds.len(),
        "seconds_per_step": seconds,
        "examples_per_second": batch as f64 / mean,
        "examples_per_second_median_step": batch as f64 / median,
        "peak_rss_mib_after_loading": rss_loaded,
        "peak_rss_mib": peak_rss_mib(),
    }))
}

/// Runs one recipe on the first `sentences` MR test sentences while recording every batch the
/// victim and the similarity encoder were asked about, then replays exactly those batches
/// through the same models with no attack around them. The ratio of the two times is the
/// attack machinery's overhead (ranking, candidates, constraints, caching, bookkeeping).
fn attack_overhead(args: &BenchArgs, selected: &Selected) -> Result<serde_json::Value> {
    let device = &selected.device;
    let kit = AttackKit::load(&args.model.dir(), None, device)?;
    let files = &kit.files;
    let settings = StageSettings::preset(Preset::Quick, DatasetName::Mr, args.model.dir());
    let tokenizer = files.tokenizer_on(args.max_len, device)?;
    let victim_model = match &args.classifier {
        Some(path) => SequenceClassifier::from_safetensors(&read(path, "classifier")?, device)?.0,
        None => {
            device.seed(0);
            files.classifier(&StageContext::classifier_config_for(files, &settings)?, device)?
        }
    };
    let (_, split) = settings.split()?;
    let examples: Vec<_> = split.test.into_iter().take(args.sentences).collect();
    let recipe = args.recipe.recipe().ok_or_else(|| anyhow::anyhow!("bench one recipe at a time, not `all`"))?;
    let config = recipe.config();

    let mut victim = Recorder::new(ClassifierVictim { model: &victim_model, tokenizer: &tokenizer, device: device.clone(), batch_size: args.batch_size, forward_passes: 0 });
    let mut similarity = Recorder::new(MeanPoolEncoder { model: &kit.encoder, tokenizer: &tokenizer, device: device.clone(), batch_size: args.batch_size });
    let resources = kit.resources();
    let started = Instant::now();
    let mut queries = 0;
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for example in &examples {
        let result = attack_blocking(&example.text, example.label, &config, &mut victim, Some(&mut similarity), resources, 0, &mut |_| {})?;
        queries += result.queries;
        *outcomes.entry(format!("{:?}", result.outcome)).or_default() += 1;
    }
    let attack_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    for call in &victim.calls {
        pollster::block_on(victim.inner.probabilities(call))?;
    }
    let victim_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for call in &similarity.calls {
        similarity.inner.embed(call)?;
    }
    let encoder_seconds = started.elapsed().as_secs_f64();
    Ok(serde_json::json!({
        "bench": "attack",
        "device": selected.description,
        "recipe": recipe.name(),
        "examples": examples.len(),
        "outcomes": outcomes,
        "queries": queries,
        "victim_texts": victim.calls.iter().map(Vec::len).sum::<usize>(),
        "similarity_texts": similarity.calls.iter().map(Vec::len).sum::<usize>(),
        "batch_size": args.batch_size,
        "attack_seconds": attack_seconds,
        "examples_per_second": examples.len() as f64 / attack_seconds,
        "queries_per_second": queries as f64 / attack_seconds,
        "replayed_victim_seconds": victim_seconds,
        "replayed_similarity_seconds": encoder_seconds,
        "ratio_to_victim_forwards": attack_seconds / victim_seconds,
        "ratio_to_all_forwards": attack_seconds / (victim_seconds + encoder_seconds),
    }))
}

/// Passes calls through and keeps every batch of texts it was asked about.
struct Recorder<T> {
    inner: T,
    calls: Vec<Vec<String>>,
}

impl<T> Recorder<T> {
    fn new(inner: T) -> Self {
        Self { inner, calls: Vec::new() }
    }
}

impl<T: Victim> Victim for Recorder<T> {
    async fn probabilities(&mut self, texts: &[String]) -> rticket_core::Result<Vec<Vec<f32>>> {
        self.calls.push(texts.to_vec());
        self.inner.probabilities(texts).await
    }

    fn words_read(&self, words: &[String]) -> rticket_core::Result<std::ops::Range<usize>> {
        self.inner.words_read(words)
    }
}

impl<T: SentenceEncoder> SentenceEncoder for Recorder<T> {
    fn embed(&mut self, texts: &[String]) -> rticket_core::Result<Vec<Vec<f32>>> {
        self.calls.push(texts.to_vec());
        self.inner.embed(texts)
    }
}

/// The process's peak resident memory (VmHWM) in MiB, where the OS reports it.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
