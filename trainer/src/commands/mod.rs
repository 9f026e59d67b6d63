//! The subcommands. Each turns parsed arguments into configured objects in one place, then runs.

mod attack;
mod baseline;
mod bench;
mod calibrate;
mod classify;
mod draw;
mod embed;
mod finetune;
mod neighbours;
mod pipeline;
mod retrain;
mod search;

use std::io::Read;

use anyhow::{Context, Result, bail};

use crate::cli::{Cli, Command, ModelArg, TextInput};
use crate::data::{Columns, DataSource};
use crate::device;
use crate::model_files::default_model_dir;

pub use neighbours::{TableBuild, build_from_encoder, build_glove, write_table};

/// Runs one parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Devices => {
            let adapters = device::adapters();
            if adapters.is_empty() {
                println!("wgpu sees no adapter");
            }
            for (name, hardware) in adapters {
                println!("{name}{}", if hardware { "" } else { "  (software: auto will not pick it)" });
            }
            println!("--device auto picks: {}", device::select(device::DeviceChoice::Auto)?.description);
            Ok(())
        }
        Command::Baseline(args) => baseline::run(args, cli.device),
        Command::Attack(args) => attack::run(args, cli.device),
        Command::Calibrate(args) => calibrate::run(args, cli.device),
        Command::Neighbours(args) => neighbours::run(args, cli.device),
        Command::Bench(args) => bench::run(args, cli.device),
        Command::Embed(args) => embed::run(args, cli.device),
        Command::Classify(args) => classify::run(args, cli.device),
        Command::Finetune(args) => finetune::run(args, cli.device),
        Command::Pipeline(args) => pipeline::run(args, cli.device),
        Command::Search(args) => search::run(args, cli.device),
        Command::Draw(args) => draw::run(args, cli.device),
        Command::Retrain(args) => retrain::run(args, cli.device),
        Command::Reproduce(args) => crate::reproduce::run(args, cli.device),
        Command::Report(args) => crate::report::run(&args),
        Command::Site(args) => crate::site::run(args, cli.device),
    }
}

impl ModelArg {
    /// The folder given, or the embedded default.
    pub fn dir(&self) -> std::path::PathBuf {
        self.model.clone().unwrap_or_else(default_model_dir)
    }
}

impl crate::cli::TrainingFlags {
    /// `settings` with these overrides applied.
    pub fn apply(&self, settings: &mut crate::stages::StageSettings) {
        if let Some(seed) = self.seed {
            settings.fit.seed = seed;
        }
        if self.train_limit.is_some() {
            settings.train_limit = self.train_limit;
        }
        if let Some(epochs) = self.epochs {
            settings.fit.epochs = epochs;
        }
        if let Some(window) = self.window {
            settings.window = window.into();
        }
        if let Some(n) = self.select_under_attack {
            settings.fit.selection = crate::train::Selection::under_text_fooler(n);
        }
    }
}

impl crate::cli::DataArgs {
    /// The data these flags name; a missing file, an unknown format or a half-given split is
    /// refused here, before any model loads.
    pub fn source(&self) -> Result<DataSource> {
        let columns = Columns { text: self.text_column.clone(), text_pair: self.text_pair_column.clone(), label: self.label_column.clone() };
        match (&self.train, &self.dev, &self.test) {
            (Some(train), Some(dev), Some(test)) => DataSource::split_files(train.clone(), dev.clone(), test.clone(), self.format, columns),
            (None, None, None) => DataSource::named(&self.data, self.format, columns),
            _ => bail!("give all three of --train, --dev and --test, or one file with --data (split 80/10/10 here)"),
        }
    }
}

impl crate::cli::StageArgs {
    /// The preset's settings on the data given, with the training overrides applied.
    pub fn settings(&self) -> Result<crate::stages::StageSettings> {
        let mut settings = crate::stages::StageSettings::preset(self.preset, self.data.source()?, self.model.dir());
        self.training.apply(&mut settings);
        Ok(settings)
    }

    /// Refuses `--select-under-attack` for a command whose stage keeps no epoch by dev (`what`
    /// says what it keeps instead), rather than ignoring it.
    pub fn refuse_selection(&self, command: &str, what: &str) -> anyhow::Result<()> {
        match self.training.select_under_attack {
            Some(_) => anyhow::bail!(
                "`{command}` {what}, so --select-under-attack has nothing to choose; it applies to fine-tuning and retraining \
                 (`finetune`, `retrain`, `pipeline`, `baseline`, `reproduce`)"
            ),
            None => Ok(()),
        }
    }

    /// The window a stage reads when it continues from `input` (a fine-tuned classifier, search
    /// scores, a ticket) trained on `recorded`: that one; a different --window is refused, since
    /// the input's weights or scores were fitted to what that window shows.
    pub fn window_of(&self, recorded: rticket_core::Window, input: &std::path::Path) -> anyhow::Result<rticket_core::Window> {
        match self.training.window.map(rticket_core::Window::from) {
            Some(given) if given != recorded => anyhow::bail!(
                "{} was trained reading the {} of long texts, not the {}: drop --window {} to continue from it",
                input.display(),
                recorded.name(),
                given.name(),
                given.name()
            ),
            _ => Ok(recorded),
        }
    }
}

impl TextInput {
    /// The texts of the arguments, or of `--input` (one per line).
    pub fn texts(&self) -> Result<Vec<String>> {
        let mut texts = self.texts.clone();
        if let Some(path) = &self.input {
            let mut content = String::new();
            if path.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut content).context("reading texts from stdin")?;
            } else {
                content = std::fs::read_to_string(path).with_context(|| format!("reading texts from {}", path.display()))?;
            }
            texts.extend(content.lines().filter(|l| !l.trim().is_empty()).map(str::to_string));
        }
        if texts.is_empty() {
            bail!("no texts: pass them as arguments or with --input FILE");
        }
        Ok(texts)
    }
}
