//! The search every recipe shares: rank words by importance, then walk them in order, trying
//! all candidates of a position in one batched query and keeping the best, until the label
//! flips or the words, the modification budget or the query budget run out.

use serde::{Deserialize, Serialize};

use super::bugs::bugs;
use super::masked_lm::MaskedLm;
use super::neighbours::NeighbourTable;
use super::recipe::{CandidateSource, Importance, RecipeConfig};
use super::victim::{QueryError, QueryLedger, SentenceEncoder, Victim, angular, cosine};
use super::wordnet::WordNet;
use super::words::Words;
use crate::{Error, Result};

/// The word resources candidates come from.
#[derive(Clone, Copy, Default)]
pub struct Resources<'a> {
    pub neighbours: Option<&'a NeighbourTable>,
    pub wordnet: Option<&'a WordNet>,
    /// For [`CandidateSource::MaskedLm`]: a model with a masked-LM head.
    pub masked_lm: Option<&'a dyn MaskedLm>,
}

/// What happened to one example.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The model was already wrong: not attacked.
    Skipped,
    /// The label flipped.
    Succeeded,
    /// The model held.
    Failed,
}

/// One kept substitution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub position: usize,
    pub from: String,
    pub to: String,
}

/// Progress of an attack, for live displays (serialised as `{"ranked": [...]}`, `{"trying": {...}}`, `{"kept": {...}}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackEvent {
    /// Positions in the order they will be tried.
    Ranked(Vec<usize>),
    /// Candidates being tried at a position (after the constraints).
    Trying { position: usize, candidates: Vec<String> },
    /// A substitution was kept; `true_probability` is the model's belief in the label after it.
    Kept { change: Change, true_probability: f32 },
}

/// The record of one attacked example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackResult {
    pub original: String,
    pub adversarial: String,
    pub label: usize,
    pub original_prediction: usize,
    pub final_prediction: usize,
    pub final_true_probability: f32,
    pub outcome: Outcome,
    /// Distinct texts the victim was asked about, the first prediction included.
    pub queries: usize,
    pub changes: Vec<Change>,
    pub words: usize,
    /// Why the attack stopped early, when it did (no attackable word, query budget).
    pub note: Option<String>,
}

impl AttackResult {
    /// Fraction of the words changed.
    pub fn perturbed_rate(&self) -> f64 {
        self.changes.len() as f64 / self.words.max(1) as f64
    }
}

fn argmax(p: &[f32]) -> usize {
    p.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0
}

/// Attacks `text` (true class `label`) with `config`.
#[allow(clippy::too_many_arguments)]
pub async fn attack<V: Victim>(
    text: &str,
    label: usize,
    config: &RecipeConfig,
    victim: &mut V,
    mut encoder: Option<&mut dyn SentenceEncoder>,
    resources: Resources<'_>,
    seed: u64,
    on_event: &mut dyn FnMut(AttackEvent),
) -> Result<AttackResult> {
    let words = Words::new(text);
    if words.is_empty() {
        return Err(Error::Attack("the text is empty".into()));
    }
    check_resources(config, resources, encoder.is_some())?;
    let original = words.text();
    let mut ledger = QueryLedger::new(victim, config.query_budget.map(|b| b.max(1)));
    let first = ledger.query(std::slice::from_ref(&original)).await.map_err(into_error)?.remove(0);
    if label >= first.len() {
        return Err(Error::Attack(format!("label {label} is not one of the model's {} classes", first.len())));
    }
    let mut result = AttackResult {
        original: original.clone(),
        adversarial: original.clone(),
        label,
        original_prediction: argmax(&first),
        final_prediction: argmax(&first),
        final_true_probability: first[label],
        outcome: Outcome::Skipped,
        queries: 0,
        changes: Vec::new(),
        words: words.len(),
        note: None,
    };
    if result.original_prediction != label {
        result.queries = ledger.queries;
        return Ok(result);
    }
    result.outcome = Outcome::Failed;
    let positions: Vec<usize> = config
        .segment
        .positions(&words.0)
        .filter(|&i| Words::is_wordlike(&words.0[i]) && !config.stop_words.contains(&words.0[i]))
        .collect();
    if positions.is_empty() {
        result.note = Some("no attackable word: only stop words, punctuation or symbols".into());
        result.queries = ledger.queries;
        return Ok(result);
    }
    // In-context predictions come from one pass over the original sentence.
    let predicted = match (config.candidates, resources.masked_lm) {
        (CandidateSource::MaskedLm { k }, Some(lm)) => Some(lm.substitutes(&words.0, k)?),
        _ => None,
    };
    let candidates_of = |position: usize| match &predicted {
        Some(all) => without_duplicates(&words.0[position], all[position].clone()),
        None => candidates(&words.0[position], config, resources, seed),
    };
    let (order, pwws_best) = match rank(&words, &positions, label, first[label], config, &mut ledger, &candidates_of).await {
        Ok(ranked) => ranked,
        Err(QueryError::BudgetExhausted) => {
            result.note = Some("the query budget ran out while ranking words".into());
            result.queries = ledger.queries;
            return Ok(result);
        }
        Err(QueryError::Model(e)) => return Err(e),
    };
    on_event(AttackEvent::Ranked(order.clone()));

    let max_changes = config.max_modify_rate.map(|r| ((r * words.len() as f64).ceil() as usize).max(1));
    let mut current = words.clone();
    let mut current_p = first[label];
    let mut read = ledger.words_read(&current.0)?;
    for position in order {
        if max_changes.is_some_and(|m| result.changes.len() >= m) {
            result.note = Some("the modification budget is spent".into());
            break;
        }
        if !read.contains(&position) {
            // The victim does not read this word: no substitute can change its answer, so none
            // would be kept. (A kept change that shortens the text can bring it back in view.)
            continue;
        }
        let word = words.0[position].clone();
        let mut options: Vec<String> = match &pwws_best {
            Some(best) => best[position].iter().cloned().collect(),
            None => candidates_of(position),
        };
        if config.pos_match
            && let Some(wn) = resources.wordnet
        {
            // A stop word is a closed-class word (pronoun, conjunction, preposition, ...), which a
            // tagger would never give the content word's part of speech; WordNet lists almost none
            // of them, so without this rule `like -> how` and `made -> although` would pass.
            let pos = wn.pos(&word).with_nouns_as_verbs();
            options.retain(|c| {
                !config.stop_words.contains(c) && (pos.is_empty() || wn.pos(c).is_empty() || wn.pos(c).with_nouns_as_verbs().intersects(pos))
            });
        }
        // Each option's similarity to the reference text (1 where no constraint applies).
        let mut similarity = vec![1.0f32; options.len()];
        if let (Some(sim), Some(enc)) = (config.similarity, encoder.as_deref_mut()) {
            let reference = if sim.against_original { &words } else { &current };
            (options, similarity) = similar_enough(reference, &current, position, options, sim, enc)?.into_iter().unzip();
        }
        on_event(AttackEvent::Trying { position, candidates: options.clone() });
        if options.is_empty() {
            continue;
        }
        let texts: Vec<String> = options.iter().map(|c| current.with(position, c)).collect();
        let probs = match ledger.query(&texts).await {
            Ok(p) => p,
            Err(QueryError::BudgetExhausted) => {
                result.note = Some("the query budget ran out".into());
                break;
            }
            Err(QueryError::Model(e)) => return Err(e),
        };
        // The candidate that hurts the true class most (with more than two classes, any flip
        // first). When flips exist, TextAttack keeps the most similar of them (ties: the most hurtful).
        let flip = |i: usize| argmax(&probs[i]) != label;
        let best = (0..options.len())
            .min_by(|&a, &b| {
                flip(b).cmp(&flip(a)).then_with(|| {
                    let by_similarity = if flip(a) && flip(b) { similarity[b].total_cmp(&similarity[a]) } else { std::cmp::Ordering::Equal };
                    by_similarity.then(probs[a][label].total_cmp(&probs[b][label]))
                })
            })
            .expect("non-empty");
        let flipped = argmax(&probs[best]) != label;
        if flipped || probs[best][label] < current_p {
            current = current.swapped(position, &options[best]);
            current_p = probs[best][label];
            let change = Change { position, from: word, to: options[best].clone() };
            on_event(AttackEvent::Kept { change: change.clone(), true_probability: current_p });
            result.changes.push(change);
            read = ledger.words_read(&current.0)?;
            result.final_prediction = argmax(&probs[best]);
            result.final_true_probability = current_p;
            if flipped {
                result.outcome = Outcome::Succeeded;
                break;
            }
        }
    }
    result.adversarial = current.text();
    result.queries = ledger.queries;
    Ok(result)
}

/// [`attack`] run to its end on this thread: for victims that answer at once (every native
/// backend; a browser's GPU needs the asynchronous form).
#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::too_many_arguments)]
pub fn attack_blocking<V: Victim>(
    text: &str,
    label: usize,
    config: &RecipeConfig,
    victim: &mut V,
    encoder: Option<&mut dyn SentenceEncoder>,
    resources: Resources,
    seed: u64,
    on_event: &mut dyn FnMut(AttackEvent),
) -> Result<AttackResult> {
    pollster::block_on(attack(text, label, config, victim, encoder, resources, seed, on_event))
}

fn into_error(e: QueryError) -> Error {
    match e {
        QueryError::BudgetExhausted => Error::Attack("a query budget of zero leaves nothing to ask".into()),
        QueryError::Model(e) => e,
    }
}

fn check_resources(config: &RecipeConfig, resources: Resources, has_encoder: bool) -> Result<()> {
    let name = config.recipe.name();
    let needs_table = matches!(config.candidates, CandidateSource::Embedding { .. } | CandidateSource::Bugs { .. });
    if matches!(config.candidates, CandidateSource::MaskedLm { .. }) && resources.masked_lm.is_none() {
        return Err(Error::Attack(format!("{name} with masked-LM candidates needs a model with a masked-LM head (cls.predictions.*)")));
    }
    if needs_table && resources.neighbours.is_none() {
        return Err(Error::Attack(format!("{name} needs the neighbour table (build it with `rticket neighbours`)")));
    }
    if (config.candidates == CandidateSource::WordNet || config.pos_match) && resources.wordnet.is_none() {
        return Err(Error::Attack(format!("{name} needs WordNet (scripts/setup.sh puts it in assets/wordnet)")));
    }
    if config.similarity.is_some() && !has_encoder {
        return Err(Error::Attack(format!("{name} needs a sentence encoder for its similarity constraint")));
    }
    Ok(())
}

/// Substitutes for `word` from the recipe's source (before the constraints).
fn candidates(word: &str, config: &RecipeConfig, resources: Resources, seed: u64) -> Vec<String> {
    let neighbours = |k: usize, min: f32| -> Vec<String> {
        resources
            .neighbours
            .map(|t| t.neighbours(word).into_iter().filter(|(_, c)| *c >= min).take(k).map(|(w, _)| w.to_string()).collect())
            .unwrap_or_default()
    };
    let out = match config.candidates {
        CandidateSource::Embedding { k, min_cosine } => neighbours(k, min_cosine),
        CandidateSource::MaskedLm { .. } => Vec::new(), // in context: see `attack`
        CandidateSource::WordNet => resources.wordnet.map(|wn| wn.synonyms(word).into_iter().map(String::from).collect()).unwrap_or_default(),
        CandidateSource::Bugs { embedding_k } => {
            let mut v = bugs(word, seed);
            v.extend(neighbours(embedding_k, 0.0));
            v
        }
    };
    without_duplicates(word, out)
}

/// Drops the word itself, empty strings and repeats, keeping the first occurrence's order.
fn without_duplicates(word: &str, mut out: Vec<String>) -> Vec<String> {
    out.retain(|c| c != word && !c.is_empty());
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(c.clone()));
    out
}

type Ranked = (Vec<usize>, Option<Vec<Option<String>>>);

/// Orders `positions` by importance (descending; ties keep text order). PWWS also returns
/// each position's best substitute.
async fn rank<V: Victim>(
    words: &Words,
    positions: &[usize],
    label: usize,
    p_true: f32,
    config: &RecipeConfig,
    ledger: &mut QueryLedger<'_, V>,
    candidates_of: &dyn Fn(usize) -> Vec<String>,
) -> Result<Ranked, QueryError> {
    // A position outside what the victim reads leaves its input as it is: its drop is exactly 0,
    // known without asking. `positions` ascend and the victim reads one run of words, so the
    // readable positions are one run of `positions` too.
    let read = ledger.words_read(&words.0)?;
    let readable = positions.partition_point(|&i| i < read.start)..positions.partition_point(|&i| i < read.end);
    let replaced = |with: &str| -> Vec<String> { positions[readable.clone()].iter().map(|&i| words.with(i, with)).collect() };
    let padded = |drops: Vec<f32>| {
        let mut all = vec![0.0; positions.len()];
        all[readable.clone()].copy_from_slice(&drops);
        all
    };
    let (scores, best) = match config.importance {
        Importance::Deletion => (padded(drops(ledger, &replaced(""), label, p_true).await?), None),
        Importance::Unknown => (padded(drops(ledger, &replaced("[UNK]"), label, p_true).await?), None),
        Importance::WeightedSaliency => {
            let saliency = padded(drops(ledger, &replaced("[UNK]"), label, p_true).await?);
            let max = saliency.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let exp: Vec<f32> = saliency.iter().map(|s| (s - max).exp()).collect();
            let total: f32 = exp.iter().sum();
            let mut best = vec![None; words.len()];
            let mut scores = Vec::with_capacity(positions.len());
            for (j, &i) in positions.iter().enumerate() {
                let options = candidates_of(i);
                let mut gain = 0.0f32; // the best candidate's drop
                if !readable.contains(&j) {
                    // Every candidate drops 0: the first is the best, as asking would find.
                    best[i] = options.first().cloned();
                } else if !options.is_empty() {
                    let texts: Vec<String> = options.iter().map(|c| words.with(i, c)).collect();
                    let drops = drops(ledger, &texts, label, p_true).await?;
                    let (k, d) = drops.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (k, &d)| if d > b.1 { (k, d) } else { b });
                    best[i] = Some(options[k].clone());
                    gain = d;
                }
                // TextAttack weighs the best candidate's raw goal score, 1 - p(label), not its drop.
                let raw = if options.is_empty() { 0.0 } else { gain + 1.0 - p_true };
                scores.push(exp[j] / total * raw);
            }
            (scores, Some(best))
        }
    };
    let mut order: Vec<usize> = (0..positions.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    Ok((order.into_iter().map(|j| positions[j]).collect(), best))
}

/// How far each text drops the true class's probability below `p_true`.
async fn drops<V: Victim>(ledger: &mut QueryLedger<'_, V>, texts: &[String], label: usize, p_true: f32) -> Result<Vec<f32>, QueryError> {
    Ok(ledger.query(texts).await?.iter().map(|p| p_true - p[label]).collect())
}

/// Keeps the candidates whose text (`current` with the word at `position` swapped) stays similar
/// enough to `reference`, with their similarity.
fn similar_enough(
    reference: &Words,
    current: &Words,
    position: usize,
    options: Vec<String>,
    sim: super::recipe::SimilarityConstraint,
    encoder: &mut dyn SentenceEncoder,
) -> Result<Vec<(String, f32)>> {
    if options.is_empty() {
        return Ok(Vec::new());
    }
    if sim.skip_shorter_than_window && sim.window.is_some_and(|size| current.len() < size) {
        return Ok(options.into_iter().map(|c| (c, 1.0)).collect());
    }
    let view = |w: &Words| match sim.window {
        Some(size) => w.window(position, size),
        None => w.text(),
    };
    let mut texts = vec![view(reference)];
    texts.extend(options.iter().map(|c| view(&current.swapped(position, c))));
    let embeddings = encoder.embed(&texts)?;
    let metric = |a: &[f32], b: &[f32]| if sim.angular { angular(a, b) } else { cosine(a, b) };
    Ok(options.into_iter().zip(&embeddings[1..]).map(|(c, e)| (c, metric(&embeddings[0], e))).filter(|(_, s)| *s >= sim.min).collect())
}
