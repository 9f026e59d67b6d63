//! The models an attack talks to, behind small batched interfaces, and the query ledger.

use std::collections::HashMap;
use std::ops::Range;

use crate::Result;

/// A classifier under attack: class probabilities for a batch of texts. Asynchronous because
/// a browser reads a GPU's results back only asynchronously; natively, victims answer at once
/// and [`attack_blocking`](super::attack_blocking) drives the attack to its end.
// The browser's futures are not `Send`, so no `Send` bound is promised.
#[allow(async_fn_in_trait)]
pub trait Victim {
    async fn probabilities(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>>;

    /// Which of `words` reach the model: one run of them. A classifier reads a fixed number of
    /// tokens, the first or the last ones: a change outside them cannot alter its answer, so the
    /// attack need not ask about it (the outcome is the same; only the queries it would have
    /// wasted are saved). All of them, unless the victim knows better.
    fn words_read(&self, words: &[String]) -> Result<Range<usize>> {
        Ok(0..words.len())
    }
}

/// A sentence encoder for the similarity constraint (the Universal Sentence Encoder in the
/// papers; the MiniLM mean-pooled embedding here).
pub trait SentenceEncoder {
    fn embed(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>>;
}

/// Why a query was not answered.
#[derive(Debug)]
pub enum QueryError {
    /// The attack used up its query budget.
    BudgetExhausted,
    Model(crate::Error),
}

impl From<crate::Error> for QueryError {
    fn from(e: crate::Error) -> Self {
        QueryError::Model(e)
    }
}

/// Wraps a victim for one attacked example: answers repeated texts from a cache, sends the
/// rest in one batch, and counts each distinct text once against the budget.
pub struct QueryLedger<'a, V: Victim> {
    victim: &'a mut V,
    cache: HashMap<String, Vec<f32>>,
    budget: Option<usize>,
    /// Distinct texts sent to the victim.
    pub queries: usize,
}

impl<'a, V: Victim> QueryLedger<'a, V> {
    pub fn new(victim: &'a mut V, budget: Option<usize>) -> Self {
        Self { victim, cache: HashMap::new(), budget, queries: 0 }
    }

    /// Which of `words` the victim reads (see [`Victim::words_read`]).
    pub fn words_read(&self, words: &[String]) -> Result<Range<usize>> {
        self.victim.words_read(words)
    }

    /// Probabilities for every text, in order. When the budget cannot cover the new texts,
    /// nothing is sent.
    pub async fn query(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>, QueryError> {
        let mut fresh: Vec<String> = Vec::new();
        for t in texts {
            if !self.cache.contains_key(t) && !fresh.contains(t) {
                fresh.push(t.clone());
            }
        }
        if let Some(budget) = self.budget
            && self.queries + fresh.len() > budget
        {
            return Err(QueryError::BudgetExhausted);
        }
        if !fresh.is_empty() {
            let answers = self.victim.probabilities(&fresh).await?;
            self.queries += fresh.len();
            self.cache.extend(fresh.into_iter().zip(answers));
        }
        Ok(texts.iter().map(|t| self.cache[t].clone()).collect())
    }
}

/// Cosine similarity.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na * nb) }
}

/// Angular similarity, 1 - arccos(cos) / pi (TextFooler's metric).
pub fn angular(a: &[f32], b: &[f32]) -> f32 {
    1.0 - cosine(a, b).clamp(-1.0, 1.0).acos() / std::f32::consts::PI
}
