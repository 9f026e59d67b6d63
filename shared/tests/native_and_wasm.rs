//! The same attacks give the same results natively and in wasm32 (run in headless Chromium
//! by wasm-bindgen-test): every recipe against a tiny seeded BERT classifier, with a tiny
//! vocabulary, neighbour table and WordNet. Both targets compare their results with one golden
//! file, `golden/attacks.json`, which the native run rewrites when `RTICKET_BLESS=1`.

use burn::tensor::Device;
use rticket_core::attack::{
    AttackResult, ClassifierVictim, MeanPoolEncoder, NeighbourTable, Pos, Recipe, Resources, WordNet, attack,
};
use rticket_core::model::host_tensors;
use rticket_core::{BertConfig, SequenceClassifier, SequenceClassifierConfig, TextTokenizer, Weights};
use safetensors::Dtype;
use safetensors::tensor::TensorView;
use serde_json::json;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const SPECIAL: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
const WORDS: [&str; 27] = [
    "the", "a", "movie", "film", "story", "plot", "is", "was", "and", "but", "very", "good", "great", "fine", "superb",
    "bad", "awful", "terrible", "dull", "boring", "moving", "acting", "cast", "slow", "fun", "mess", "gem",
];
const TEXTS: [&str; 4] = [
    "the movie was very good and the cast was superb",
    "a dull and boring plot , the acting is bad",
    "the story is slow but the film is a gem",
    "awful mess , terrible acting",
];

/// A BERT-style tokenizer.json over [`SPECIAL`] + [`WORDS`].
fn tokenizer_json() -> Vec<u8> {
    let vocab: serde_json::Map<String, serde_json::Value> =
        SPECIAL.iter().chain(WORDS.iter()).chain([",", "."].iter()).enumerate().map(|(i, w)| (w.to_string(), json!(i))).collect();
    let special = |id: usize| {
        json!({"id": id, "content": SPECIAL[id], "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true})
    };
    let token = |t: &str| json!({"SpecialToken": {"id": t, "type_id": 0}});
    let seq = |s: &str, type_id: u32| json!({"Sequence": {"id": s, "type_id": type_id}});
    serde_json::to_vec(&json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": (0..SPECIAL.len()).map(special).collect::<Vec<_>>(),
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [token("[CLS]"), seq("A", 0), token("[SEP]")],
            "pair": [token("[CLS]"), seq("A", 0), token("[SEP]"), seq("B", 1), token("[SEP]")],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}
            }
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab}
    }))
    .expect("plain JSON")
}

fn neighbours() -> NeighbourTable {
    let index = |w: &str| WORDS.iter().position(|x| *x == w).expect("a word of the table") as u32;
    let groups: [&[&str]; 6] = [
        &["good", "great", "fine", "superb", "fun", "bad"],
        &["bad", "awful", "terrible", "dull", "boring", "good"],
        &["movie", "film", "story"],
        &["slow", "dull", "boring"],
        &["mess", "gem"],
        &["acting", "cast"],
    ];
    let rows = WORDS
        .iter()
        .map(|w| {
            groups
                .iter()
                .filter(|g| g.contains(w))
                .flat_map(|g| g.iter().filter(|x| *x != w).enumerate().map(|(rank, x)| (index(x), 0.95 - 0.05 * rank as f32)))
                .collect()
        })
        .collect();
    NeighbourTable::new(WORDS.map(String::from).to_vec(), rows, "tiny".into(), "tiny".into())
}

fn wordnet() -> WordNet {
    let adj = "00000001 00 a 04 good 0 great 0 fine 0 superb 0 000 | x\n\
               00000002 00 a 03 bad 0 awful 0 terrible 0 000 | y\n\
               00000003 00 a 03 dull 0 boring 0 slow 0 000 | z\n";
    let noun = "00000004 00 n 03 movie 0 film 0 story 0 000 | w\n00000005 00 n 02 acting 0 cast 0 000 | v\n";
    WordNet::from_data_files(&[(Pos::Adjective, adj.as_bytes()), (Pos::Noun, noun.as_bytes())]).expect("valid WordNet lines")
}

/// A seeded random classifier whose weights are scaled up: at BERT's init scale every text gets
/// almost the same output, and an attack's choices would hang on the last bits of the floats.
fn decisive(config: &SequenceClassifierConfig, device: &Device) -> SequenceClassifier {
    let random = SequenceClassifier::random(config, device).expect("a tiny model");
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = host_tensors(&random)
        .expect("host copies")
        .into_iter()
        .map(|(name, shape, values)| {
            let scale = if name.contains("LayerNorm") || name.ends_with(".bias") { 1.0 } else { WEIGHT_SCALE };
            (name, shape, values.iter().flat_map(|v| (v * scale).to_le_bytes()).collect())
        })
        .collect();
    let views = tensors.iter().map(|(n, s, d)| (n.clone(), TensorView::new(Dtype::F32, s.clone(), d).expect("consistent")));
    let bytes = safetensors::serialize(views, None).expect("serialises");
    SequenceClassifier::load(config, &Weights::from_bytes(&bytes).expect("readable"), device).expect("loads")
}

const WEIGHT_SCALE: f32 = 8.0;

/// Every recipe on every text, as JSON (probabilities rounded to 1e-3 so the last float bits
/// of two platforms' kernels cannot matter unless a decision does).
async fn results() -> serde_json::Value {
    let device = Device::flex();
    device.seed(2022);
    let tokenizer = TextTokenizer::from_bytes(&tokenizer_json(), 32).expect("the tokenizer parses");
    let bert = BertConfig::tiny(tokenizer.vocab_size());
    let config = SequenceClassifierConfig::new(bert, vec!["negative".into(), "positive".into()]);
    let model = decisive(&config, &device);
    let (table, wordnet) = (neighbours(), wordnet());
    let mut out = Vec::new();
    for recipe in Recipe::ALL {
        for text in TEXTS {
            let mut victim = ClassifierVictim { model: &model, tokenizer: &tokenizer, device: device.clone(), batch_size: 16, forward_passes: 0 };
            // Attack the model's own prediction so that no example is skipped.
            let probabilities = rticket_core::attack::Victim::probabilities(&mut victim, &[text.to_string()]).await.expect("a forward pass");
            let label = usize::from(probabilities[0][1] > probabilities[0][0]);
            let mut encoder = MeanPoolEncoder { model: &model.bert, tokenizer: &tokenizer, device: device.clone(), batch_size: 16 };
            let resources = Resources { neighbours: Some(&table), wordnet: Some(&wordnet), masked_lm: None };
            let r: AttackResult = attack(text, label, &recipe.config(), &mut victim, Some(&mut encoder), resources, 5, &mut |_| {})
                .await
                .expect("the attack runs");
            out.push(json!({
                "recipe": recipe,
                "original": r.original,
                "adversarial": r.adversarial,
                "label": r.label,
                "outcome": r.outcome,
                "queries": r.queries,
                "changes": r.changes,
                "final_true_probability": (f64::from(r.final_true_probability) * 1000.0).round() / 1000.0,
            }));
        }
    }
    json!(out)
}

const GOLDEN: &str = include_str!("golden/attacks.json");

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn attacks_match_the_golden_results_on_this_target() {
    pollster::block_on(check_against_golden());
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test::wasm_bindgen_test]
async fn attacks_match_the_golden_results_on_this_target() {
    check_against_golden().await;
}

async fn check_against_golden() {
    let got = results().await;
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("RTICKET_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/attacks.json");
        std::fs::write(path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
        return;
    }
    let golden: serde_json::Value = serde_json::from_str(GOLDEN).expect("golden/attacks.json is JSON");
    assert_eq!(got, golden, "the attacks changed: if on purpose, rerun natively with RTICKET_BLESS=1 and commit golden/attacks.json");
    // The scenario must exercise something: at least one attack changed a word.
    assert!(got.as_array().unwrap().iter().any(|r| !r["changes"].as_array().unwrap().is_empty()), "no attack changed anything");
}
