//! The attacks on a hand-made lexicon model, where the right answers are known.

use std::cell::RefCell;
use std::rc::Rc;

use super::*;
use super::greedy::attack_blocking as attack;
use crate::Result;

/// Positive minus negative word counts through a sigmoid: P(positive).
struct Lexicon {
    /// Texts seen, in order, to check batching and caching.
    seen: Rc<RefCell<Vec<String>>>,
}

impl Victim for Lexicon {
    async fn probabilities(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.seen.borrow_mut().extend(texts.iter().cloned());
        Ok(texts
            .iter()
            .map(|t| {
                let score: f32 = t
                    .split_whitespace()
                    .map(|w| match w {
                        "good" | "great" | "fine" | "superb" => 1.0,
                        "bad" | "awful" | "terrible" | "dull" => -1.0,
                        _ => 0.0,
                    })
                    .sum();
                let p = 1.0 / (1.0 + (-(2.0 * score + 0.1)).exp());
                vec![1.0 - p, p]
            })
            .collect())
    }
}

/// Embeds a text as counts of a few marker words: swaps of "superb" break similarity.
struct Markers;

impl SentenceEncoder for Markers {
    fn embed(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|t| {
                let has = |w: &str| t.split_whitespace().filter(|x| *x == w).count() as f32;
                vec![1.0, has("superb") * 10.0, has("movie")]
            })
            .collect())
    }
}

fn table() -> NeighbourTable {
    let words: Vec<String> = ["good", "terrible", "fine", "awful", "superb", "movie", "film"].map(String::from).to_vec();
    // good -> superb (0.9), terrible (0.8), fine (0.7); movie -> film.
    NeighbourTable::new(
        words,
        vec![vec![(4, 0.9), (1, 0.8), (2, 0.7)], vec![(3, 0.9)], vec![], vec![], vec![], vec![(6, 0.9)], vec![]],
        "test".into(),
        "test".into(),
    )
}

fn wordnet() -> WordNet {
    // "terrible" is (falsely, for the test) only a noun; good/superb/fine/awful adjectives.
    let adj = "00000001 00 a 03 good 0 superb 0 fine 0 000 | x\n00000002 00 a 01 awful 0 000 | y\n";
    let noun = "00000003 00 n 01 terrible 0 000 | z\n";
    WordNet::from_data_files(&[(Pos::Adjective, adj.as_bytes()), (Pos::Noun, noun.as_bytes())]).unwrap()
}

fn plain(recipe: Recipe) -> RecipeConfig {
    RecipeConfig { pos_match: false, similarity: None, max_modify_rate: None, query_budget: None, ..recipe.config() }
}

fn run(text: &str, label: usize, config: &RecipeConfig, encoder: bool) -> (AttackResult, Vec<String>, Vec<AttackEvent>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut victim = Lexicon { seen: seen.clone() };
    let (t, wn) = (table(), wordnet());
    let mut markers = Markers;
    let mut events = Vec::new();
    let result = attack(
        text,
        label,
        config,
        &mut victim,
        if encoder { Some(&mut markers) } else { None },
        Resources { neighbours: Some(&t), wordnet: Some(&wn), masked_lm: None },
        7,
        &mut |e| events.push(e),
    )
    .unwrap();
    let seen = seen.borrow().clone();
    (result, seen, events)
}

#[test]
fn finds_the_known_flip_and_counts_queries_exactly() {
    let config = plain(Recipe::TextFooler);
    let (r, seen, events) = run("the movie is good", 1, &config, false);
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert_eq!(r.adversarial, "the movie is terrible");
    assert_eq!(r.changes, vec![Change { position: 3, from: "good".into(), to: "terrible".into() }]);
    // 1 original + 2 deletions (movie, good; "the" and "is" are stop words) + 3 candidates for "good".
    assert_eq!(r.queries, 6);
    assert_eq!(seen.len(), 6, "every query reached the victim exactly once: {seen:?}");
    assert_eq!(events[0], AttackEvent::Ranked(vec![3, 1]));
}

#[test]
fn a_candidate_that_breaks_a_constraint_is_never_used() {
    // POS: "terrible" is only a noun here, so "good" (adjective) may not become it.
    let config = RecipeConfig { pos_match: true, ..plain(Recipe::TextFooler) };
    let (r, _, events) = run("the movie is good", 1, &config, false);
    assert!(r.changes.iter().all(|c| c.to != "terrible"), "{r:?}");
    for e in &events {
        if let AttackEvent::Trying { candidates, .. } = e {
            assert!(!candidates.contains(&"terrible".to_string()));
        }
    }
    // Similarity: swapping in "superb" moves the marker embedding away.
    let config = RecipeConfig {
        similarity: Some(SimilarityConstraint { min: 0.9, angular: false, window: None, skip_shorter_than_window: false, against_original: false }),
        ..plain(Recipe::TextFooler)
    };
    let (r, _, events) = run("the movie is good", 1, &config, true);
    assert_eq!(r.outcome, Outcome::Succeeded);
    for e in &events {
        if let AttackEvent::Trying { candidates, .. } = e {
            assert!(!candidates.contains(&"superb".to_string()), "{candidates:?}");
        }
    }
}

#[test]
fn misclassified_inputs_are_skipped_after_one_query() {
    let (r, seen, _) = run("the movie is good", 0, &plain(Recipe::TextFooler), false);
    assert_eq!((r.outcome, r.queries, seen.len()), (Outcome::Skipped, 1, 1));
}

#[test]
fn pwws_uses_wordnet_synonyms() {
    let (r, _, _) = run("a good movie", 1, &plain(Recipe::Pwws), false);
    // WordNet offers superb and fine for good: both positive, so the model holds.
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.changes.iter().all(|c| ["superb", "fine"].contains(&c.to.as_str())));
}

#[test]
fn budgets_are_respected() {
    let config = RecipeConfig { max_modify_rate: Some(0.01), ..plain(Recipe::TextFooler) };
    let (r, _, _) = run("good good good good", 1, &config, false);
    assert_eq!(r.changes.len(), 1, "one change allowed at most");
    let config = RecipeConfig { query_budget: Some(3), ..plain(Recipe::TextFooler) };
    let (r, seen, _) = run("the movie is good", 1, &config, false);
    assert!(r.queries <= 3 && seen.len() <= 3, "{r:?}");
    assert_eq!(r.outcome, Outcome::Failed);
}

#[test]
fn awkward_inputs_are_handled() {
    let config = plain(Recipe::TextFooler);
    let (r, _, _) = run("good", 1, &config, false);
    assert_eq!(r.outcome, Outcome::Succeeded);
    let (r, _, _) = run("the is a of", 1, &config, false);
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.note.as_deref().unwrap().contains("no attackable word"));
    let (r, _, _) = run("très bien 🎬 good ✨", 1, &config, false);
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert!(r.adversarial.contains("🎬"));

    let mut victim = Lexicon { seen: Rc::new(RefCell::new(Vec::new())) };
    let err = attack("   ", 1, &config, &mut victim, None, Resources::default(), 0, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("empty"), "{err}");
    let err = attack("good", 1, &config, &mut victim, None, Resources::default(), 0, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("needs the neighbour table"), "{err}");
}

#[test]
fn textbugger_bugs_words() {
    let config = plain(Recipe::TextBugger);
    let (r, _, _) = run("the movie is good", 1, &config, false);
    assert_eq!(r.outcome, Outcome::Succeeded);
}

/// Proposes, for each word, its right-hand neighbour in the sentence (context-dependent, so
/// only an in-context source could produce it), plus "terrible".
struct EchoLm;

impl MaskedLm for EchoLm {
    fn substitutes(&self, words: &[String], k: usize) -> Result<Vec<Vec<String>>> {
        Ok((0..words.len())
            .map(|i| words.get(i + 1).into_iter().cloned().chain(["terrible".to_string()]).take(k).collect())
            .collect())
    }
}

#[test]
fn bert_attack_takes_in_context_candidates_from_a_masked_lm_when_there_is_one() {
    let config = RecipeConfig { similarity: None, max_modify_rate: None, ..Recipe::BertAttack.config_for(true) };
    assert_eq!(config.candidates, CandidateSource::MaskedLm { k: 48 });
    assert_eq!(config.name(), "BERT-Attack (masked LM)");
    assert_eq!(Recipe::BertAttack.config_for(false).name(), "BERT-Attack (embedding candidates)");

    let lm = EchoLm;
    let mut victim = Lexicon { seen: Rc::new(RefCell::new(Vec::new())) };
    let mut events = Vec::new();
    let resources = Resources { neighbours: None, wordnet: None, masked_lm: Some(&lm) };
    let r = attack("good film good", 1, &config, &mut victim, None, resources, 0, &mut |e| events.push(e)).unwrap();
    assert_eq!(r.outcome, Outcome::Succeeded);
    // Every candidate list came from the masked LM: the right-hand word, then "terrible".
    for e in &events {
        if let AttackEvent::Trying { position, candidates } = e {
            let words = ["good", "film", "good"];
            let mut expected: Vec<String> = words.get(position + 1).map(|w| w.to_string()).into_iter().collect();
            expected.push("terrible".into());
            expected.retain(|c| c != words[*position]);
            assert_eq!(candidates, &expected, "position {position}");
        }
    }
    // Without a masked LM the recipe says what it needs.
    let err = attack("good film", 1, &config, &mut victim, None, Resources::default(), 0, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("masked-LM head"), "{err}");
}

/// The lexicon model reading only its first (or last) `reads` words, like a classifier
/// truncating at a token limit; it says so through `words_read` only when `tells` is set.
struct Window {
    inner: Lexicon,
    reads: usize,
    from_end: bool,
    tells: bool,
}

impl Window {
    fn span(&self, words: usize) -> std::ops::Range<usize> {
        let n = words.min(self.reads);
        if self.from_end { words - n..words } else { 0..n }
    }
}

impl Victim for Window {
    async fn probabilities(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let cut: Vec<String> = texts
            .iter()
            .map(|t| {
                let words: Vec<&str> = t.split_whitespace().collect();
                words[self.span(words.len())].join(" ")
            })
            .collect();
        let answers = self.inner.probabilities(&cut).await?;
        Ok(answers)
    }

    fn words_read(&self, words: &[String]) -> Result<std::ops::Range<usize>> {
        Ok(if self.tells { self.span(words.len()) } else { 0..words.len() })
    }
}

#[test]
fn skipping_words_the_victim_cannot_read_changes_nothing_but_the_queries() {
    let (t, wn) = (table(), wordnet());
    let texts = [
        // Flips inside the window; "good" outside it would be tried in vain.
        ("the movie is good and the film is good too", 1),
        // Cannot flip: two positives in view; deleting one pulls a third into view.
        ("good good movie good film good great", 1),
        // Negative, the flip needs a word in view.
        ("awful movie film film good good", 0),
    ];
    // A victim reading the last words sees the texts reversed word by word as a victim reading
    // the first words sees them as written.
    for (from_end, recipe) in [(false, Recipe::TextFooler), (false, Recipe::Pwws), (true, Recipe::TextFooler), (true, Recipe::Pwws)] {
        for (text, label) in texts {
            let text = if from_end { text.split(' ').rev().collect::<Vec<_>>().join(" ") } else { text.to_string() };
            let outcome = |tells: bool| {
                let mut victim = Window { inner: Lexicon { seen: Rc::default() }, reads: 4, from_end, tells };
                let resources = Resources { neighbours: Some(&t), wordnet: Some(&wn), masked_lm: None };
                attack(&text, label, &plain(recipe), &mut victim, None, resources, 7, &mut |_| {}).unwrap()
            };
            let (blind, told) = (outcome(false), outcome(true));
            assert_eq!(
                (&told.outcome, &told.adversarial, &told.changes, told.final_true_probability),
                (&blind.outcome, &blind.adversarial, &blind.changes, blind.final_true_probability),
                "{recipe:?} on {text:?} (from the end: {from_end}): knowing the window changed the attack"
            );
            assert!(told.queries < blind.queries, "{recipe:?} on {text:?} (from the end: {from_end}): {} queries told, {} blind", told.queries, blind.queries);
        }
    }
}

#[test]
fn a_text_shorter_than_the_window_skips_the_similarity_check() {
    let sim = SimilarityConstraint { min: 0.9, angular: false, window: Some(15), skip_shorter_than_window: true, against_original: false };
    let config = RecipeConfig { similarity: Some(sim), ..plain(Recipe::TextFooler) };
    let (_, _, events) = run("the movie is good", 1, &config, true);
    let tried_superb = events.iter().any(|e| matches!(e, AttackEvent::Trying { candidates, .. } if candidates.contains(&"superb".to_string())));
    assert!(tried_superb, "four words are fewer than the window of 15: the constraint does not apply ({events:?})");
    let config = RecipeConfig { similarity: Some(SimilarityConstraint { skip_shorter_than_window: false, ..sim }), ..plain(Recipe::TextFooler) };
    let (_, _, events) = run("the movie is good", 1, &config, true);
    assert!(!events.iter().any(|e| matches!(e, AttackEvent::Trying { candidates, .. } if candidates.contains(&"superb".to_string()))));
}

#[test]
fn nouns_and_verbs_may_swap_under_the_pos_constraint() {
    // "terrible" is only a noun in the test WordNet; make "good" a verb too: the swap is allowed.
    let adj = "00000001 00 a 03 good 0 superb 0 fine 0 000 | x\n";
    let verb = "00000004 00 v 01 good 0 000 | w\n";
    let noun = "00000003 00 n 01 terrible 0 000 | z\n";
    let wn = WordNet::from_data_files(&[(Pos::Adjective, adj.as_bytes()), (Pos::Verb, verb.as_bytes()), (Pos::Noun, noun.as_bytes())]).unwrap();
    let config = RecipeConfig { pos_match: true, ..plain(Recipe::TextFooler) };
    let t = table();
    let mut victim = Lexicon { seen: Default::default() };
    let r = attack("the movie is good", 1, &config, &mut victim, None, Resources { neighbours: Some(&t), wordnet: Some(&wn), masked_lm: None }, 7, &mut |_| {})
        .unwrap();
    assert_eq!(r.adversarial, "the movie is terrible", "{r:?}");
}

/// "awful" hurts the positive class three times as much as "terrible".
struct Weighted;

impl Victim for Weighted {
    async fn probabilities(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|t| {
                let score: f32 = t.split_whitespace().map(|w| match w { "good" => 1.0, "terrible" => -1.0, "awful" => -3.0, _ => 0.0 }).sum();
                let p = 1.0 / (1.0 + (-(score + 0.1)).exp());
                vec![1.0 - p, p]
            })
            .collect())
    }
}

/// Texts with "awful" sit a little further from the rest.
struct AwfulFar;

impl SentenceEncoder for AwfulFar {
    fn embed(&mut self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| vec![1.0, if t.contains("awful") { 0.3 } else { 0.0 }]).collect())
    }
}

#[test]
fn among_flips_the_most_similar_substitute_is_kept() {
    let words: Vec<String> = ["good", "awful", "terrible"].map(String::from).to_vec();
    let t = NeighbourTable::new(words, vec![vec![(1, 0.9), (2, 0.8)], vec![], vec![]], "test".into(), "test".into());
    let sim = SimilarityConstraint { min: 0.5, angular: false, window: None, skip_shorter_than_window: false, against_original: false };
    let config = RecipeConfig { similarity: Some(sim), ..plain(Recipe::TextFooler) };
    let resources = Resources { neighbours: Some(&t), wordnet: None, masked_lm: None };
    let r = attack("a good one", 1, &config, &mut Weighted, Some(&mut AwfulFar), resources, 0, &mut |_| {}).unwrap();
    assert_eq!(r.outcome, Outcome::Succeeded);
    assert_eq!(r.adversarial, "a terrible one", "both flip; TextAttack keeps the more similar: {r:?}");
    // Without a similarity constraint the most hurtful flip wins.
    let r = attack("a good one", 1, &plain(Recipe::TextFooler), &mut Weighted, None, resources, 0, &mut |_| {}).unwrap();
    assert_eq!(r.adversarial, "a awful one");
}

#[test]
fn a_pair_is_attacked_in_one_segment_only() {
    // The sentiment sits in the second text: the default (second) segment flips it.
    let (r, _, events) = run("a long movie [SEP] the movie is good", 1, &plain(Recipe::TextFooler), false);
    assert_eq!(r.outcome, Outcome::Succeeded, "{r:?}");
    assert!(!r.changes.is_empty() && r.changes.iter().all(|c| c.position > 3), "{r:?}");
    assert!(r.adversarial.starts_with("a long movie [SEP] "), "{}", r.adversarial);
    let Some(AttackEvent::Ranked(order)) = events.first() else { panic!("{events:?}") };
    assert!(order.iter().all(|&i| i > 3), "ranked outside the second segment: {order:?}");
    // In the first segment, when asked; the second is then left alone, even where it could flip.
    let first = RecipeConfig { segment: Segment::First, ..plain(Recipe::TextFooler) };
    let (r, _, _) = run("the movie is good [SEP] a long movie", 1, &first, false);
    assert_eq!(r.outcome, Outcome::Succeeded, "{r:?}");
    assert!(r.changes.iter().all(|c| c.position < 4), "{r:?}");
    assert!(r.adversarial.ends_with(" [SEP] a long movie"), "{}", r.adversarial);
    let (r, _, _) = run("the movie is good [SEP] a long movie", 1, &plain(Recipe::TextFooler), false);
    assert!(r.changes.iter().all(|c| c.position > 4), "{r:?}");
}
