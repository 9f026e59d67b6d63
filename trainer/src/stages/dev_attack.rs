//! Attacking a fixed part of dev after every epoch, for runs that keep the epoch most robust on
//! dev ([`crate::train::Selection::DevUnderAttack`]).

use anyhow::Result;
use rticket_core::SequenceClassifier;
use rticket_core::attack::Recipe;

use super::{AttackSetup, StageContext, attack_examples};
use crate::data::{Example, SPLIT_SEED, balanced_subset};
use crate::resources::AttackKit;
use crate::train::DevAttack;

/// The attack a stage runs on dev after each epoch; its per-example logs go to
/// `dev-attacks/epoch-<e>.jsonl` in the stage's folder. It attacks the model as trained (f32);
/// a ticket exported from it stores f16 values, so the ticket's own dev figures can differ by
/// an example or two.
pub struct DevAttackOnSplit<'a> {
    ctx: &'a StageContext,
    kit: AttackKit,
    recipe: Recipe,
    /// A class-balanced sample of dev, the same for every epoch, stage and seed.
    examples: Vec<Example>,
}

impl<'a> DevAttackOnSplit<'a> {
    /// Loads the word resources of the stage's base model (the default neighbour table).
    pub fn new(ctx: &'a StageContext, recipe: Recipe, examples: usize) -> Result<Self> {
        if examples == 0 {
            anyhow::bail!("selecting on dev under attack needs at least one dev example to attack");
        }
        let kit = AttackKit::load(&ctx.settings.model_dir, None, &ctx.device)?;
        let examples = balanced_subset(ctx.split.dev.clone(), examples, SPLIT_SEED);
        std::fs::create_dir_all(ctx.run.path.join("dev-attacks"))?;
        Ok(Self { ctx, kit, recipe, examples })
    }
}

impl DevAttack for DevAttackOnSplit<'_> {
    fn accuracy_under_attack(&self, model: &SequenceClassifier, epoch: usize) -> Result<f64> {
        let setup = AttackSetup {
            victim: model,
            tokenizer: &self.ctx.tokenizer,
            encoder: &self.kit.encoder,
            resources: self.kit.resources(),
            device: self.ctx.device.clone(),
            batch_size: 64,
            options: Default::default(),
        };
        let jsonl = self.ctx.run.path.join("dev-attacks").join(format!("epoch-{epoch}.jsonl"));
        // Not resumed: a killed run redoes the whole epoch, and the attack with it.
        Ok(attack_examples(&setup, self.recipe, &self.examples, 0, &jsonl, false)?.accuracy_under_attack)
    }
}
