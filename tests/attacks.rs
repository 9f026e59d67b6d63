//! Attacks on the real MiniLM: the counter-fitted neighbour table, and TextFooler's constraints
//! holding on MR.

use std::sync::OnceLock;

use rticket::resources::{default_neighbours, load_neighbours, load_wordnet};
use rticket::vectors::{Constraints, CounterFitting, GLOVE_DIR, counter_fit, is_substitutable, read_glove};
use rticket_core::attack::neighbours::COUNTER_FITTED_GLOVE;
use rticket_core::attack::{
    AttackEvent, ClassifierVictim, MeanPoolEncoder, NeighbourTable, Outcome, Recipe, Resources, SentenceEncoder, StopWords,
    TEXT_FOOLER_MIN_COSINE, TEXT_FOOLER_MIN_SIMILARITY, Words, angular, attack_blocking,
};
use rticket_core::{Weights, Window};

use crate::common::*;

/// The attacks' default table (GloVe counter-fitted to WordNet), built into the assets once.
fn table() -> &'static NeighbourTable {
    static TABLE: OnceLock<NeighbourTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let wordnet = load_wordnet(None).expect("WordNet: run scripts/setup.sh");
        let path = default_neighbours(&wordnet, &cpu()).unwrap();
        load_neighbours(&path, &minilm().weights_sha256()).unwrap()
    })
}

fn top(word: &str, n: usize) -> Vec<String> {
    table().neighbours(word).into_iter().take(n).map(|(w, _)| w.to_string()).collect()
}

#[test]
fn counter_fitted_neighbours_are_synonyms_and_antonym_free() {
    assert_eq!(table().vectors, COUNTER_FITTED_GLOVE);
    // Counter-fitting pulled WordNet's synonyms to the top (raw GloVe's good -> really, always, ...).
    let wordnet = load_wordnet(None).unwrap();
    // (`good` keeps only `goodness`: its hundreds of cluster antonyms push it harder than its
    // scattered synonyms pull; the words on its side, kind and happy, take their places.)
    let mut total = 0;
    for word in ["good", "terrible", "funny", "boring", "movie"] {
        let near = top(word, 10);
        let synonyms = near.iter().filter(|w| wordnet.synonyms(word).contains(&w.as_str())).count();
        assert!(synonyms >= 1, "{word} -> {near:?}: no WordNet synonym in the top 10");
        total += synonyms;
    }
    assert!(total >= 10, "{total} WordNet synonyms in the top 10 of five words");
    for (word, antonym) in [("good", "bad"), ("funny", "serious"), ("boring", "interesting")] {
        assert!(!top(word, 50).contains(&antonym.to_string()), "{word} -> {antonym}: {:?}", top(word, 50));
    }
    let terrible = top("terrible", 10);
    assert!(terrible.iter().any(|w| ["horrible", "awful", "dreadful", "terrific"].contains(&w.as_str())), "terrible -> {terrible:?}");
    let movie = top("movie", 5);
    assert!(movie.iter().any(|w| ["film", "picture", "flick"].contains(&w.as_str())), "movie -> {movie:?}");
    let cos: Vec<f32> = table().neighbours("good").into_iter().map(|(_, c)| c).collect();
    assert!(cos.windows(2).all(|w| w[0] >= w[1] - 1e-3), "ranked by cosine");
}

#[test]
fn wordnet_knows_inflected_words_and_opposed_adjective_clusters() {
    use rticket_core::attack::{Pos, PosSet};
    let wordnet = load_wordnet(None).unwrap();
    let has = |word: &str, pos: Pos| wordnet.pos(word).intersects(PosSet(pos as u8));
    // Inflections through the suffix rules and the exception lists (assets/wordnet/*.exc).
    for (word, pos) in [("relationships", Pos::Noun), ("deeper", Pos::Adjective), ("captures", Pos::Verb), ("better", Pos::Adjective), ("geese", Pos::Noun), ("ran", Pos::Verb)] {
        assert!(has(word, pos), "{word} should be a {pos:?}: {:?}", wordnet.pos(word));
    }
    assert!(!has("relationships", Pos::Adjective), "no rule makes a plural noun an adjective");
    // Opposed through their clusters, not only directly.
    for (a, b) in [("good", "bad"), ("boring", "fascinating"), ("charming", "maddening"), ("gifted", "untalented")] {
        assert!(wordnet.are_antonyms(a, b), "{a} / {b}");
    }
    assert!(!wordnet.are_antonyms("boring", "tedious") && !wordnet.are_antonyms("good", "great"), "a cluster is not opposed to itself");
    // Through a head's see-also (exciting sees interesting), inflections, and adverbs' adjectives.
    for (a, b) in [("exhilarating", "tiresome"), ("smartest", "stupidest"), ("amusingly", "boringly"), ("cleverly", "stupidly")] {
        assert!(wordnet.are_antonyms(a, b) && wordnet.are_antonyms(b, a), "{a} / {b}");
    }
    assert!(!wordnet.are_antonyms("smartest", "cleverest") && !wordnet.are_antonyms("amusingly", "amusing"));
    for word in ["boring", "charming", "exciting", "gifted", "smartest", "brilliantly", "exhilarating"] {
        let opposed: Vec<String> = top(word, 50).into_iter().filter(|n| wordnet.are_antonyms(word, n)).collect();
        assert!(opposed.is_empty(), "{word}'s substitutes include its antonyms {opposed:?}");
    }
}

#[test]
fn words_of_several_word_pieces_now_get_candidates() {
    let tokenizer = minilm().tokenizer(64).unwrap();
    for word in ["pretentious", "tedious", "mediocre", "forgettable", "contrived"] {
        let pieces = tokenizer.encode_batch(&[word]).unwrap().lengths[0] - 2; // without [CLS] and [SEP]
        let kept: Vec<(&str, f32)> = table().neighbours(word).into_iter().filter(|(_, c)| *c >= TEXT_FOOLER_MIN_COSINE).collect();
        assert!(!kept.is_empty(), "{word} ({pieces} pieces) has no candidate at cosine >= {TEXT_FOOLER_MIN_COSINE}");
        if word == "pretentious" {
            assert!(pieces > 1, "{word} is one MiniLM piece: the test no longer shows what it says");
        }
    }
}

#[test]
fn counter_fitting_pulls_synonyms_together_and_pushes_antonyms_apart() {
    let (glove, _) = read_glove(&rticket::model_files::assets_dir().join(GLOVE_DIR)).expect("GloVe: run scripts/setup.sh");
    let mut vectors = glove.restricted(100_000, is_substitutable);
    vectors.normalise();
    let wordnet = load_wordnet(None).unwrap();
    let constraints = Constraints::from_wordnet(&vectors, &wordnet);
    let before = vectors.clone();
    counter_fit(&mut vectors, &constraints, &[], &CounterFitting::default());
    let index = vectors.index();
    let cos = |v: &rticket::vectors::WordVectors, a: &str, b: &str| v.cosine(index[a] as usize, index[b] as usize);
    for (a, b) in [("movie", "film"), ("boring", "tedious")] {
        assert!(cos(&vectors, a, b) > cos(&before, a, b) + 0.05, "{a}/{b}: {} -> {}", cos(&before, a, b), cos(&vectors, a, b));
    }
    // Over all constraints: a word with many antonyms (funny: 0.87 -> 0.81 from amusing) can drift
    // from a synonym that started close, but synonyms as a whole come together and antonyms part.
    let mean = |v: &rticket::vectors::WordVectors, pairs: &[(u32, u32)]| {
        pairs.iter().map(|&(i, j)| v.cosine(i as usize, j as usize) as f64).sum::<f64>() / pairs.len() as f64
    };
    let (synonyms, antonyms) = (&constraints.synonyms, &constraints.antonyms);
    assert!(mean(&vectors, synonyms) > mean(&before, synonyms) + 0.3, "synonyms {} -> {}", mean(&before, synonyms), mean(&vectors, synonyms));
    assert!(mean(&vectors, antonyms) < mean(&before, antonyms) - 0.2, "antonyms {} -> {}", mean(&before, antonyms), mean(&vectors, antonyms));
    for (a, b) in [("good", "bad"), ("boring", "interesting"), ("happy", "sad")] {
        // Close in raw GloVe; apart after (a word with many synonyms, as good, moves by the mean of
        // its terms, so 20 steps part it from its antonym less than an antonym-only word).
        assert!(cos(&before, a, b) > 0.5, "{a}/{b} start close in GloVe ({})", cos(&before, a, b));
        assert!(cos(&vectors, a, b) < cos(&before, a, b) - 0.05, "{a}/{b}: {} -> {}", cos(&before, a, b), cos(&vectors, a, b));
    }
}

#[test]
fn textfooler_on_minilm_keeps_every_constraint() {
    let files = minilm();
    let device = cpu();
    device.seed(3);
    let config = polarity_config(files.config.clone());
    let model = rticket_core::SequenceClassifier::load(&config, &Weights::from_bytes(&files.weights).unwrap(), &device).unwrap();
    let tokenizer = files.tokenizer(64).unwrap();
    let encoder_model = files.encoder(&device).unwrap();
    let wordnet = load_wordnet(None).unwrap();
    let recipe = Recipe::TextFooler.config();
    // Two shorter than TextFooler's window (the similarity check is skipped) and two longer.
    let sentences = [
        "the film is a charming , funny and moving portrait of family life",
        "a dull , plodding mess that wastes a talented cast",
        "it is hard to imagine a more boring movie , and harder still to sit through its tedious second hour",
        "an intelligent , moving and funny film about growing up that never condescends to its young audience",
    ];
    let mut any_attacked = false;
    for text in sentences {
        let mut victim = ClassifierVictim { model: &model, tokenizer: &tokenizer, device: device.clone(), batch_size: 64, forward_passes: 0 };
        let predicted = {
            use rticket_core::attack::Victim;
            let p = pollster::block_on(victim.probabilities(&[text.to_string()])).unwrap().remove(0);
            usize::from(p[1] > p[0])
        };
        let mut encoder = MeanPoolEncoder { model: &encoder_model, tokenizer: &tokenizer, device: device.clone(), batch_size: 64 };
        let mut kept = Vec::new();
        let result = attack_blocking(
            text,
            predicted,
            &recipe,
            &mut victim,
            Some(&mut encoder),
            Resources { neighbours: Some(table()), wordnet: Some(&wordnet), masked_lm: None },
            0,
            &mut |e| if let AttackEvent::Kept { change, .. } = e { kept.push(change) },
        )
        .unwrap();
        assert_ne!(result.outcome, Outcome::Skipped, "the label given is the model's own prediction");
        any_attacked = true;
        let original = Words::new(text);
        let adversarial = Words::new(&result.adversarial);
        assert_eq!(original.len(), adversarial.len());
        assert_eq!(kept, result.changes);
        let mut current = original.clone();
        for change in &result.changes {
            assert!(!StopWords::TextFooler.contains(&change.from), "{change:?} changed a stop word");
            let rank = table().neighbours(&change.from).iter().position(|(w, _)| *w == change.to);
            let cos = rank.map(|r| table().neighbours(&change.from)[r].1);
            assert!(rank.is_some_and(|r| r < 50) && cos.unwrap() >= TEXT_FOOLER_MIN_COSINE, "{change:?} is not a close neighbour");
            let (a, b) = (wordnet.pos(&change.from).with_nouns_as_verbs(), wordnet.pos(&change.to).with_nouns_as_verbs());
            assert!(a.is_empty() || b.is_empty() || a.intersects(b), "{change:?} changes the part of speech");
            assert!(!StopWords::TextFooler.contains(&change.to), "{change:?} puts a closed-class word for a content word");
            assert!(!wordnet.are_antonyms(&change.from, &change.to), "{change:?} swaps in an antonym");
            let before = current.window(change.position, 15);
            current.0[change.position] = change.to.clone();
            let after = current.window(change.position, 15);
            let e = encoder.embed(&[before, after]).unwrap();
            if original.len() >= 15 {
                assert!(angular(&e[0], &e[1]) >= TEXT_FOOLER_MIN_SIMILARITY - 1e-4, "{change:?} broke the similarity constraint");
            }
        }
        assert_eq!(current.text(), result.adversarial);
        let positions: std::collections::HashSet<usize> = result.changes.iter().map(|c| c.position).collect();
        assert_eq!(positions.len(), result.changes.len(), "a word was changed twice");
        // One query for the prediction and one per attackable word for the deletion ranking, at least.
        let attackable = original.0.iter().filter(|w| Words::is_wordlike(w) && !StopWords::TextFooler.contains(w)).count();
        assert!(result.queries > attackable, "{} queries for {attackable} attackable words", result.queries);
    }
    assert!(any_attacked);
}

/// The tiny model with a random masked-LM head (decoder tied to the word embeddings) whose
/// output bias strongly favours `favoured`.
fn tiny_model_with_masked_lm(favoured: u32) -> (TempDir, rticket::model_files::ModelFiles) {
    use safetensors::tensor::TensorView;
    use safetensors::{Dtype, SafeTensors};
    let dir = tiny_model_dir("masked-lm");
    let path = dir.path().join("model.safetensors");
    let original = std::fs::read(&path).unwrap();
    let tensors = SafeTensors::deserialize(&original).unwrap();
    let (hidden, vocab) = (32usize, 30522usize);
    let mut state = 99u64;
    let mut noise = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
            })
            .collect()
    };
    let mut bias = noise(vocab);
    bias[favoured as usize] = 1000.0;
    let extra: Vec<(String, Vec<usize>, Vec<f32>)> = vec![
        ("cls.predictions.transform.dense.weight".into(), vec![hidden, hidden], noise(hidden * hidden)),
        ("cls.predictions.transform.dense.bias".into(), vec![hidden], vec![0.0; hidden]),
        ("cls.predictions.transform.LayerNorm.weight".into(), vec![hidden], vec![1.0; hidden]),
        ("cls.predictions.transform.LayerNorm.bias".into(), vec![hidden], vec![0.0; hidden]),
        ("cls.predictions.bias".into(), vec![vocab], bias),
    ];
    let extra_bytes: Vec<(String, Vec<usize>, Vec<u8>)> =
        extra.into_iter().map(|(n, s, v)| (n, s, v.iter().flat_map(|x| x.to_le_bytes()).collect())).collect();
    let mut views: Vec<(String, TensorView)> = tensors.tensors().into_iter().collect();
    for (n, s, d) in &extra_bytes {
        views.push((n.clone(), TensorView::new(Dtype::F32, s.clone(), d).unwrap()));
    }
    let (_, header) = SafeTensors::read_metadata(&original).unwrap();
    std::fs::write(&path, safetensors::serialize(views, header.metadata().clone()).unwrap()).unwrap();
    let files = rticket::model_files::ModelFiles::open(dir.path()).unwrap();
    (dir, files)
}

#[test]
fn the_masked_lm_proposes_whole_words_in_context_from_the_tied_decoder() {
    use rticket_core::attack::{MaskedLm, ModelMaskedLm};
    use rticket_core::model::MaskedLmHead;
    let tokenizer = minilm().tokenizer(32).unwrap();
    let favoured = tokenizer.token_id("excellent").unwrap();
    let (_dir, files) = tiny_model_with_masked_lm(favoured);
    let weights = Weights::from_bytes(&files.weights).unwrap();
    assert!(MaskedLmHead::present(&weights));
    assert!(!MaskedLmHead::present(&Weights::from_bytes(&minilm().weights).unwrap()), "MiniLM has no masked-LM head");
    let encoder = files.encoder(&cpu()).unwrap();
    let head = MaskedLmHead::load(&files.config, &weights, &encoder, &cpu()).unwrap();
    let lm = ModelMaskedLm { encoder: &encoder, head: &head, tokenizer: &tokenizer, device: cpu() };
    let words: Vec<String> = "the unwatchable movie , sadly".split(' ').map(String::from).collect();
    let subs = lm.substitutes(&words, 5).unwrap();
    assert_eq!(subs.len(), words.len());
    for (word, list) in words.iter().zip(&subs) {
        assert!(list.len() <= 5, "{word}: {list:?}");
        assert!(list.iter().all(|s| s.chars().all(char::is_alphabetic) && s != word), "{word}: {list:?}");
        if word != "," {
            // The bias makes "excellent" the top prediction at every position.
            assert_eq!(list.first().map(String::as_str), Some("excellent"), "{word}: {list:?}");
        }
    }
}

#[test]
fn a_cut_attack_resumes_from_its_log() {
    let files = minilm();
    let device = cpu();
    device.seed(5);
    let config = polarity_config(files.config.clone());
    let model = rticket_core::SequenceClassifier::load(&config, &Weights::from_bytes(&files.weights).unwrap(), &device).unwrap();
    let tokenizer = files.tokenizer(64).unwrap();
    let encoder = files.encoder(&device).unwrap();
    let wordnet = load_wordnet(None).unwrap();
    let setup = rticket::stages::AttackSetup {
        victim: &model,
        tokenizer: &tokenizer,
        encoder: &encoder,
        resources: Resources { neighbours: Some(table()), wordnet: Some(&wordnet), masked_lm: None },
        device: device.clone(),
        batch_size: 64,
        options: Default::default(),
    };
    let texts = [
        "the film is a charming , funny and moving portrait of family life",
        "a dull , plodding mess that wastes a talented cast",
        "it is hard to imagine a more boring movie",
        "a gorgeous , witty and surprising film",
    ];
    // Both labels for each text, so some examples are attacked and some skipped.
    let examples: Vec<rticket::data::Example> =
        texts.iter().enumerate().flat_map(|(i, t)| (0..2).map(move |label| rticket::data::Example { id: 2 * i + label, text: t.to_string(), label })).collect();
    let dir = TempDir::new("attack-resume");
    let whole = dir.path().join("whole.jsonl");
    let full = rticket::stages::attack_examples(&setup, Recipe::TextFooler, &examples, 0, &whole, false).unwrap();
    let lines: Vec<String> = std::fs::read_to_string(&whole).unwrap().lines().map(String::from).collect();
    assert_eq!(lines.len(), examples.len());

    // A run killed during its fourth example: three whole lines (the first marked, to see it
    // is read back, not redone) and half a line.
    let mut first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    first["seconds"] = serde_json::json!(1000.0);
    let cut = dir.path().join("cut.jsonl");
    let planted = format!("{first}\n{}\n{}\n{}", lines[1], lines[2], &lines[3][..lines[3].len() / 2]);
    std::fs::write(&cut, planted).unwrap();
    let resumed = rticket::stages::attack_examples(&setup, Recipe::TextFooler, &examples, 0, &cut, true).unwrap();
    assert!(resumed.seconds >= 1000.0, "the logged examples were attacked again");
    for (a, b) in [(full.clean_accuracy, resumed.clean_accuracy), (full.accuracy_under_attack, resumed.accuracy_under_attack), (full.mean_queries, resumed.mean_queries)] {
        assert_eq!(a, b, "the resumed attack differs from the whole one");
    }
    assert_eq!(full.forward_passes, resumed.forward_passes);
    let result = |line: &str| serde_json::from_str::<serde_json::Value>(line).unwrap()["result"].clone();
    let resumed_lines: Vec<String> = std::fs::read_to_string(&cut).unwrap().lines().map(String::from).collect();
    assert_eq!(resumed_lines.len(), examples.len(), "the half line must be replaced, not kept");
    for (a, b) in lines.iter().zip(&resumed_lines) {
        assert_eq!(result(a), result(b));
    }

    // Without `resume` the log starts over.
    let fresh = rticket::stages::attack_examples(&setup, Recipe::TextFooler, &examples, 0, &cut, false).unwrap();
    assert!(fresh.seconds < 1000.0);
    assert_eq!(std::fs::read_to_string(&cut).unwrap().lines().count(), examples.len());
}

/// The attack skips words outside the victim's token window (`words_read`); that is exact only
/// if the model's input really ignores them and really reads the first and last words it counts.
/// For a window on the head of the text and one on its tail.
#[test]
fn words_read_is_where_the_real_tokenizer_stops() {
    let words = Words::new("an unbelievably overlong , self-indulgent reflection on filmmaking that never finds its footing or its point");
    for window in [Window::Head, Window::Tail] {
        let tokenizer = minilm().tokenizer(16).unwrap().with_window(window).unwrap();
        let read = tokenizer.words_read(&words.0).unwrap();
        assert!(read.len() > 1 && read.len() < words.len(), "16 tokens should cut this sentence: read {read:?} of {}", words.len());
        assert!(if window == Window::Head { read.start == 0 } else { read.end == words.len() }, "{window:?} reads {read:?}");
        let ids = |text: &str| tokenizer.encode_batch(&[text]).unwrap().input_ids;
        let original = ids(&words.text());
        for position in (0..words.len()).filter(|p| !read.contains(p)) {
            assert_eq!(ids(&words.with(position, "zebra")), original, "{window:?}: word {position} ({}) is outside the window but changed the input", words.0[position]);
        }
        for position in [read.start, read.end - 1] {
            assert_ne!(ids(&words.with(position, "zebra")), original, "{window:?}: word {position} ({}) is counted as read but the model does not see it", words.0[position]);
        }
        let short = Words::new("a short one");
        assert_eq!(tokenizer.words_read(&short.0).unwrap(), 0..3);
    }
}

#[test]
fn attack_subsets_of_the_real_test_splits_have_both_classes() {
    use rticket::cli::Preset;
    use rticket::data::{DatasetName, SPLIT_SEED, balanced_subset};
    for data in [DatasetName::Mr, DatasetName::MovieReviews] {
        let settings = rticket::stages::StageSettings::preset(Preset::Quick, data, minilm_dir());
        let (_, split) = settings.split().expect("the corpus loads (scripts/setup.sh fetches it)");
        // Why a subset must be drawn: the split lists its examples by source row, and MR's rows
        // run class by class, so its first 100 are one class.
        let first: Vec<usize> = split.test.iter().take(100).map(|e| e.label).collect();
        if data == DatasetName::Mr {
            assert!(first.iter().all(|&l| l == first[0]), "MR's first 100 test sentences are mixed now; revisit the note in results/experiments/NOTES.md");
        }
        let subset = balanced_subset(split.test.clone(), 100, SPLIT_SEED);
        assert_eq!(subset.iter().filter(|e| e.label == 1).count(), 50, "{data:?}");
        assert!(subset.iter().all(|e| split.test.contains(e)), "{data:?}: the subset left the test split");
    }
}
