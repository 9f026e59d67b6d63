//! What a reproduction runs, in which order, and at what scale.

use clap::ValueEnum;
use rticket_core::attack::Recipe;
use serde::{Deserialize, Serialize};

use std::path::PathBuf;

use crate::cli::Preset;
use super::records::DatasetKey;
use crate::data::{DataSource, DatasetName};
use crate::stages::{RetrainHead, StageSettings};

/// The methods of the paper's tables and ablations, each a way to get a classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    FineTune,
    Imp,
    Random,
    Freelb,
    RobustTicket,
    MaskOnly,
    NoAdversary,
    Reinit,
}

impl Method {
    /// The methods of the headline table and the ablations, in report order.
    pub const CORE: [Method; 8] = [
        Self::FineTune,
        Self::Imp,
        Self::Random,
        Self::Freelb,
        Self::RobustTicket,
        Self::MaskOnly,
        Self::NoAdversary,
        Self::Reinit,
    ];

    /// The key in records and file names.
    pub fn key(self) -> &'static str {
        match self {
            Self::FineTune => "fine-tune",
            Self::Imp => "imp",
            Self::Random => "random",
            Self::Freelb => "freelb",
            Self::RobustTicket => "robust-ticket",
            Self::MaskOnly => "mask-only",
            Self::NoAdversary => "no-adversary",
            Self::Reinit => "reinit",
        }
    }

    /// Whether the method prunes (dense methods ignore the sparsity).
    pub fn sparse(self) -> bool {
        !matches!(self, Self::FineTune | Self::Freelb)
    }

    /// The sparsity this method's models are recorded at when a table's is `sparsity` (0 for dense ones).
    pub fn sparsity_at(self, sparsity: f64) -> f64 {
        if self.sparse() { sparsity } else { 0.0 }
    }
}

/// The parts of a reproduction, run in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// MR: every method of the table at the table's sparsity, every seed, TextFooler on the whole test split.
    Core,
    /// MR, first seed: robust ticket, mask-only, IMP and random at the sweep's sparsities, TextFooler
    /// (IMP's runs share their first rounds with the table's).
    Sweep,
    /// MR, every seed: PWWS, TextBugger and BERT-Attack on a class-balanced subset of the test
    /// sentences, core methods.
    Recipes,
    /// Movie-review documents: fine-tune and robust ticket, every seed, TextFooler on the whole test split.
    Documents,
}

impl Phase {
    /// The phases a reproduction on `data` runs unless told: all on MR; on other data, all
    /// but the built-in documents.
    pub fn defaults(data: &DataSource) -> Vec<Phase> {
        match data {
            DataSource::Builtin(DatasetName::Mr) => vec![Phase::Core, Phase::Sweep, Phase::Recipes, Phase::Documents],
            _ => vec![Phase::Core, Phase::Sweep, Phase::Recipes],
        }
    }
}

/// A reproduction's scale; written to `results/data/plan.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// The data of the `core`, `sweep` and `recipes` phases (MR in plans made before user data).
    #[serde(default = "Plan::mr")]
    pub data: DataSource,
    pub preset: Preset,
    pub seeds: Vec<u64>,
    /// The sparsity of the tables (PAPER.md: 30% for SST-2; 20% for IMDB).
    pub sparsity: f64,
    pub document_sparsity: f64,
    /// Extra sparsities drawn from the first seed's searches, for the plots.
    pub sweep: Vec<f64>,
    /// How many test sentences the recipes of the `recipes` phase attack.
    pub recipe_examples: usize,
    pub phases: Vec<Phase>,
    /// Changes to the preset's search (recorded as top-level keys of plan.json).
    #[serde(flatten)]
    pub search: SearchOverrides,
    /// Changes to the preset's weight training (recorded as top-level keys of plan.json).
    #[serde(flatten)]
    pub training: TrainingOverrides,
}

/// Changes to the preset's search, for side experiments on it. The models they give differ
/// from the preset's under the same names, so each goes into its own --results and --work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct SearchOverrides {
    /// Search epochs instead of the preset's (the quick preset's search is one epoch).
    #[arg(long)]
    #[serde(default)]
    pub search_epochs: Option<usize>,
    /// Search training sentences instead of the preset's (quick: 512).
    #[arg(long)]
    #[serde(default)]
    pub search_train_limit: Option<usize>,
    /// The search adversary's ascent step eta instead of PAPER.md's 0.03 (the quick preset runs
    /// K = 2 steps, not 5, so the mean perturbation over the iterates is 4x smaller at the same eta).
    #[arg(long)]
    #[serde(default)]
    pub search_eta: Option<f64>,
    /// The gate scores' peak learning rate instead of PAPER.md's 0.1 (results/experiments/NOTES.md: at 0.1
    /// a search can fall into an input-independent [CLS]; lower rates avoid it but spread the
    /// scores less).
    #[arg(long)]
    #[serde(default)]
    pub search_gate_lr: Option<f64>,
    /// The search's final sparsity penalty lambda instead of PAPER.md's 0.5 (a short search ends far
    /// above the drawn density at 0.5: expected density 0.90 after 800 steps, drawn at 0.70).
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_lambda: Option<f64>,
    /// Lets each search redo an epoch that ends with one class predicted for all of dev (an
    /// absorbing state; results/experiments/NOTES.md), up to N times, each at half the gate learning rate
    /// [default: never, as the reference code].
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_collapse_retries: Option<usize>,
    /// The mask-only search's final lambda instead of --search-lambda's: with every weight frozen
    /// the same pressure prunes much further (at lambda 5 the claim setting's mask-only search
    /// ended at expected density 0.38 against the paper pipeline's 0.63; experiments/README.md).
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_only_lambda: Option<f64>,
    /// Trains each mask-only ticket's head again for N epochs on the ticket's own masked, frozen
    /// encoder after the draw, the best dev epoch kept (a hard-concrete search trains its head on
    /// noisily scaled weights; experiments/mask-only-probe: +6.5 to +8.75 dev points) [default:
    /// the searched head, as the records made before this option].
    #[arg(long, value_name = "EPOCHS")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_only_refit_head: Option<usize>,
}

impl SearchOverrides {
    /// A search stage's `settings` with these changes applied.
    pub fn apply(&self, settings: &mut StageSettings) {
        if let Some(epochs) = self.search_epochs {
            settings.fit.epochs = epochs;
        }
        if let Some(limit) = self.search_train_limit {
            settings.train_limit = Some(limit);
        }
        if let (Some(eta), Some(adversary)) = (self.search_eta, settings.fit.objective.adversarial.as_mut()) {
            adversary.step_size = eta;
        }
        if let (Some(lambda), Some(l0)) = (self.search_lambda, settings.fit.objective.l0.as_mut()) {
            l0.lambda = lambda;
        }
        if let Some(lr) = self.search_gate_lr {
            settings.fit.gate_lr = lr;
        }
        if let Some(retries) = self.search_collapse_retries {
            settings.fit.collapse_guard = Some(crate::train::CollapseGuard::halving(retries));
        }
    }

    /// A mask-only search's `settings` with these changes applied (the general ones, then its own).
    pub fn apply_mask_only(&self, settings: &mut StageSettings) {
        self.apply(settings);
        if let (Some(lambda), Some(l0)) = (self.mask_only_lambda, settings.fit.objective.l0.as_mut()) {
            l0.lambda = lambda;
        }
    }
}

/// Changes to the preset's training of weights: fine-tuning, the baselines (IMP's rounds, random
/// pruning, FreeLB) and retraining. A longer search reads more data than the quick preset's
/// baselines do; these give the baselines as much, so that the comparison is on equal data. Like
/// [`SearchOverrides`], each setting goes into its own --results and --work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct TrainingOverrides {
    /// Training examples of fine-tuning, baselines and retraining instead of the preset's (quick: 1024).
    #[arg(long)]
    #[serde(default)]
    pub train_limit: Option<usize>,
    /// Epochs of fine-tuning, baselines (each IMP round) and retraining instead of the preset's
    /// (quick: 1 on MR, 3 on the documents).
    #[arg(long)]
    #[serde(default)]
    pub train_epochs: Option<usize>,
    /// Epochs of the retraining that makes a ticket (robust tickets and their ablations after the
    /// draw, random pruning, IMP after its last round) instead of --train-epochs' (IMP's pruning
    /// rounds keep those). The searched mask carries the ticket's robustness, and long plain
    /// cross-entropy retraining can wash it out.
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrain_epochs: Option<usize>,
    /// Which end of a text longer than the preset's token window every stage reads, the searches
    /// included (the documents run past it; MR sentences hardly ever) [default: head].
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<crate::cli::WindowArg>,
    /// The head retraining starts from (the robust tickets', IMP's rounds', random pruning's)
    /// [default: the results folder's, fresh in a new one]. Always written to plan.json; a
    /// plan.json without it was made before 2026-11-28, with `fine-tune-init`.
    #[arg(long, value_enum)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrain_head: Option<RetrainHead>,
    /// Keep, in fine-tuning, FreeLB and every retraining that makes a ticket, the epoch with the
    /// highest accuracy under TextFooler on N class-balanced dev sentences (attacked after every
    /// epoch) instead of the highest clean dev accuracy. IMP's pruning rounds and the searches
    /// keep their own rules [default: clean dev accuracy].
    #[arg(long, value_name = "N")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_under_attack: Option<usize>,
    /// The FreeLB baseline's ascent step eta instead of its own 0.03 (e.g. the search's --search-eta,
    /// to compare the ticket with adversarial training under an adversary of the same size).
    #[arg(long)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freelb_eta: Option<f64>,
    /// Retrain every ticket (robust tickets and their ablations after the draw, random pruning, IMP
    /// after its last round) against FreeLB's adversary with ascent step ETA, instead of with plain
    /// cross-entropy as PAPER.md does. Not the paper's pipeline: with --freelb-eta at the same ETA it
    /// asks whether the searched mask adds robustness on top of adversarial training.
    #[arg(long, value_name = "ETA")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrain_adversary_eta: Option<f64>,
}

impl TrainingOverrides {
    /// The weight-training `settings` with these changes applied.
    pub fn apply(&self, settings: &mut StageSettings) {
        if let Some(limit) = self.train_limit {
            settings.train_limit = Some(limit);
        }
        if let Some(epochs) = self.train_epochs {
            settings.fit.epochs = epochs;
        }
        if let Some(window) = self.window {
            settings.window = window.into();
        }
        if let Some(head) = self.retrain_head {
            settings.retrain_head = head;
        }
        if let Some(n) = self.select_under_attack {
            settings.fit.selection = crate::train::Selection::under_text_fooler(n);
        }
    }
}

impl Plan {
    fn mr() -> DataSource {
        DatasetName::Mr.into()
    }

    /// The records' key of the `core`, `sweep` and `recipes` phases' data.
    pub fn main_key(&self) -> DatasetKey {
        DatasetKey::of(&self.data)
    }

    /// How the report names the `core`, `sweep` and `recipes` phases' data.
    pub fn main_name(&self) -> String {
        match &self.data {
            DataSource::Builtin(DatasetName::Mr) => "MR".into(),
            DataSource::Builtin(DatasetName::MovieReviews) => "movie-review documents".into(),
            files => format!("`{files}`"),
        }
    }

    /// The settings of this plan's weight training (fine-tuning, baselines, retraining) on
    /// `dataset`: the preset's, with the training overrides applied.
    pub fn training_settings(&self, dataset: impl Into<DataSource>, model_dir: PathBuf) -> StageSettings {
        let mut settings = StageSettings::preset(self.preset, dataset, model_dir);
        self.training.apply(&mut settings);
        settings
    }

    /// `training`'s settings for the retraining that makes a ticket ([`TrainingOverrides::retrain_epochs`],
    /// [`TrainingOverrides::retrain_adversary_eta`]).
    pub fn retraining_settings(&self, training: &StageSettings) -> StageSettings {
        let mut settings = match self.training.retrain_adversary_eta {
            Some(eta) => crate::stages::freelb_settings(training, Some(eta)),
            None => training.clone(),
        };
        if let Some(epochs) = self.training.retrain_epochs {
            settings.fit.epochs = epochs;
        }
        settings
    }

    /// The FreeLB baseline's settings: `training` with FreeLB's adversary, at [`TrainingOverrides::freelb_eta`]
    /// when the plan names one.
    pub fn freelb_settings(&self, training: &StageSettings) -> StageSettings {
        crate::stages::freelb_settings(training, self.training.freelb_eta)
    }

    /// The recipes of the `recipes` phase (TextFooler runs in `core` on the whole split).
    pub const EXTRA_RECIPES: [Recipe; 3] = [Recipe::Pwws, Recipe::TextBugger, Recipe::BertAttack];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::{SearchMode, search_settings};

    #[test]
    fn search_overrides_change_what_they_name_and_nothing_else() {
        let base = StageSettings::preset(Preset::Quick, DatasetName::Mr, PathBuf::new());
        let preset = search_settings(&base, SearchMode::Paper, true);
        let mut changed = preset.clone();
        SearchOverrides { search_lambda: Some(2.0), search_eta: Some(0.12), ..Default::default() }.apply(&mut changed);
        let objective = &changed.fit.objective;
        assert_eq!(objective.l0.as_ref().map(|l0| l0.lambda), Some(2.0));
        assert_eq!(objective.adversarial.as_ref().map(|a| a.step_size), Some(0.12));
        let (mut before, after) = (serde_json::to_value(&preset).unwrap(), serde_json::to_value(&changed).unwrap());
        before["fit"]["objective"]["l0"]["lambda"] = 2.0.into();
        before["fit"]["objective"]["adversarial"]["step_size"] = 0.12.into();
        assert_eq!(before, after);
        // A search without the adversary has no step to change.
        let mut plain = search_settings(&base, SearchMode::Paper, false);
        SearchOverrides { search_eta: Some(0.12), ..Default::default() }.apply(&mut plain);
        assert!(plain.fit.objective.adversarial.is_none());
    }

    #[test]
    fn retrain_epochs_change_the_tickets_retraining_and_nothing_else() {
        let recorded = r#"{"preset":"quick","seeds":[1],"sparsity":0.3,"document_sparsity":0.2,"sweep":[0.5],"recipe_examples":100,
            "phases":["core"],"train_limit":3200,"train_epochs":4,"retrain_head":"fresh"}"#;
        let mut plan: Plan = serde_json::from_str(recorded).unwrap();
        // A plan.json from before the option reads as "as --train-epochs" and writes back unchanged.
        assert_eq!(plan.training.retrain_epochs, None);
        assert!(!serde_json::to_string(&plan).unwrap().contains("retrain_epochs"));
        let training = plan.training_settings(DatasetName::Mr, PathBuf::new());
        let json = |settings: &StageSettings| serde_json::to_value(settings).unwrap();
        assert_eq!(json(&plan.retraining_settings(&training)), json(&training));

        plan.training.retrain_epochs = Some(1);
        let training = plan.training_settings(DatasetName::Mr, PathBuf::new());
        assert_eq!(training.fit.epochs, 4, "fine-tuning and IMP's rounds keep --train-epochs");
        let mut retraining = plan.retraining_settings(&training);
        assert_eq!(retraining.fit.epochs, 1);
        retraining.fit.epochs = 4;
        assert_eq!(json(&retraining), json(&training), "only the epochs differ");
    }

    /// A plan.json written before the optional training fields existed.
    fn older_plan() -> Plan {
        serde_json::from_str(r#"{"preset":"quick","seeds":[1],"sparsity":0.3,"document_sparsity":0.2,"sweep":[],"recipe_examples":100,"phases":["core"]}"#)
            .unwrap()
    }

    #[test]
    fn freelb_eta_changes_freelbs_step_and_nothing_else() {
        let mut plan = older_plan();
        assert!(!serde_json::to_string(&plan).unwrap().contains("freelb_eta"), "an older plan.json writes back unchanged");
        let training = plan.training_settings(DatasetName::Mr, PathBuf::new());
        let own = plan.freelb_settings(&training);
        assert_eq!(own.fit.objective.adversarial.as_ref().map(|a| (a.steps, a.step_size)), Some((2, 0.03)));
        plan.training.freelb_eta = Some(0.3);
        let training_after = plan.training_settings(DatasetName::Mr, PathBuf::new());
        assert_eq!(serde_json::to_value(&training_after).unwrap(), serde_json::to_value(&training).unwrap(), "fine-tuning is unchanged");
        let (mut before, after) = (serde_json::to_value(&own).unwrap(), serde_json::to_value(plan.freelb_settings(&training_after)).unwrap());
        before["fit"]["objective"]["adversarial"]["step_size"] = 0.3.into();
        assert_eq!(before, after);
    }

    #[test]
    fn an_adversarial_retraining_changes_only_the_retrainings_objective() {
        let mut plan = older_plan();
        plan.training.retrain_epochs = Some(1);
        let training = plan.training_settings(DatasetName::Mr, PathBuf::new());
        let plain = plan.retraining_settings(&training);
        assert!(plain.fit.objective.adversarial.is_none(), "PAPER.md retrains with plain cross-entropy");
        plan.training.retrain_adversary_eta = Some(0.3);
        let training_after = plan.training_settings(DatasetName::Mr, PathBuf::new());
        assert_eq!(serde_json::to_value(&training_after).unwrap(), serde_json::to_value(&training).unwrap(), "fine-tuning is unchanged");
        assert_eq!(serde_json::to_value(plan.freelb_settings(&training_after)).unwrap(), serde_json::to_value(plan.freelb_settings(&training)).unwrap());
        let adversarial = plan.retraining_settings(&training_after);
        assert_eq!(adversarial.fit.objective.adversarial.as_ref().map(|a| (a.steps, a.step_size)), Some((2, 0.3)));
        assert_eq!(adversarial.fit.epochs, 1, "--retrain-epochs still applies");
        let (mut before, after) = (serde_json::to_value(&plain).unwrap(), serde_json::to_value(&adversarial).unwrap());
        before["fit"]["objective"]["adversarial"] = after["fit"]["objective"]["adversarial"].clone();
        assert_eq!(before, after, "nothing but the adversary changes");
    }

    #[test]
    fn selecting_under_attack_reaches_the_weight_training_and_not_the_searches() {
        let mut plan = older_plan();
        assert!(!serde_json::to_string(&plan).unwrap().contains("select_under_attack"), "an older plan.json writes back unchanged");
        plan.training.select_under_attack = Some(200);
        let training = plan.training_settings(DatasetName::Mr, PathBuf::new());
        let kept = crate::train::Selection::under_text_fooler(200);
        assert_eq!(training.fit.selection, kept);
        assert_eq!(plan.retraining_settings(&training).fit.selection, kept);
        assert_eq!(crate::stages::freelb_settings(&training, None).fit.selection, kept);
        for adversarial in [true, false] {
            assert!(search_settings(&training, SearchMode::Paper, adversarial).fit.selection.is_dev_accuracy());
        }
        let again: Plan = serde_json::from_str(&serde_json::to_string(&plan).unwrap()).unwrap();
        assert_eq!(again.training.select_under_attack, Some(200));
    }
}
