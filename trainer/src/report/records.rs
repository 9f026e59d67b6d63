//! The records of a reproduction, loaded and indexed for the report.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rticket_core::attack::Recipe;

use crate::reproduce::{AttackRecord, DatasetKey, ModelRecord, Plan, SAME_SPARSITY, load_all, superseded_records};

/// Everything under `results/data`.
pub struct Records {
    pub plan: Plan,
    pub models: Vec<ModelRecord>,
    pub attacks: Vec<AttackRecord>,
    /// Folders of records set aside (relative to `data`): models that came out different when trained again.
    pub superseded: Vec<PathBuf>,
}

impl Records {
    pub fn load(data: &Path) -> Result<Self> {
        let plan_path = data.join("plan.json");
        let text = std::fs::read_to_string(&plan_path)
            .with_context(|| format!("reading {} (run `rticket reproduce` first)", plan_path.display()))?;
        let plan = serde_json::from_str(&text).with_context(|| format!("{} is not a reproduction plan", plan_path.display()))?;
        let (models, attacks) = load_all(data)?;
        Ok(Self { plan, models, attacks, superseded: superseded_records(data)? })
    }

    /// The records of one method at one sparsity (all seeds).
    pub fn models(&self, dataset: &DatasetKey, method: &str, sparsity: f64) -> Vec<&ModelRecord> {
        self.models
            .iter()
            .filter(|m| m.dataset == *dataset && m.method == method && (m.sparsity - sparsity).abs() < SAME_SPARSITY)
            .collect()
    }

    /// The attack records of one method, sparsity and recipe on exactly `examples` test examples.
    pub fn attacks(&self, dataset: &DatasetKey, method: &str, sparsity: f64, recipe: Recipe, examples: usize) -> Vec<&AttackRecord> {
        self.attacks
            .iter()
            .filter(|a| {
                a.dataset == *dataset
                    && a.method == method
                    && (a.sparsity - sparsity).abs() < SAME_SPARSITY
                    && a.summary.recipe == recipe
                    && a.summary.examples == examples
            })
            .collect()
    }

    /// The largest example count any `recipe` record on `dataset` has (the report's attack set).
    pub fn attack_set(&self, dataset: &DatasetKey, recipe: Recipe) -> Option<usize> {
        self.attacks.iter().filter(|a| a.dataset == *dataset && a.summary.recipe == recipe).map(|a| a.summary.examples).max()
    }

    /// The seeds with any record on `dataset`.
    pub fn seeds(&self, dataset: &DatasetKey) -> Vec<u64> {
        let mut seeds: Vec<u64> = self.models.iter().filter(|m| m.dataset == *dataset).map(|m| m.seed).collect();
        seeds.sort_unstable();
        seeds.dedup();
        seeds
    }

    /// The sparsities `method` has records at on `dataset`, ascending.
    pub fn sparsities(&self, dataset: &DatasetKey, method: &str) -> Vec<f64> {
        let mut out: Vec<f64> = Vec::new();
        for m in self.models.iter().filter(|m| m.dataset == *dataset && m.method == method) {
            if !out.iter().any(|s| (s - m.sparsity).abs() < SAME_SPARSITY) {
                out.push(m.sparsity);
            }
        }
        out.sort_by(f64::total_cmp);
        out
    }
}
