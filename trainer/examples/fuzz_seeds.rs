//! Writes the seed corpus of each fuzz target (`fuzz/fuzz_targets/`) into `<dir>/<target>/`:
//! small valid files of every kind the target reads, so that libFuzzer starts from the formats'
//! structure instead of noise. WordNet seeds are cut from the real files (`$RTICKET_ASSETS/wordnet`).
//! Built with the workspace (not in the fuzz crate: a plain binary there would be linked
//! against libFuzzer's coverage hooks); `scripts/fuzz.sh` runs it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use rticket_core::attack::NeighbourTable;
use rticket_core::attack::neighbours::ENCODER_VECTORS;
use rticket_core::ticket::{MaskEncoding, Ticket, TicketMeta, ValueDtype};
use rticket_core::{BertConfig, SequenceClassifier, SequenceClassifierConfig, Window};

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).expect("seed folder");
    std::fs::write(dir.join(name), bytes).expect("seed file");
}

/// `pick` followed by `bytes`: the targets that read several formats take the first byte as the choice.
fn picked(pick: u8, bytes: &[u8]) -> Vec<u8> {
    [&[pick][..], bytes].concat()
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "seeds".into()));
    let assets = PathBuf::from(std::env::var("RTICKET_ASSETS").unwrap_or_else(|_| "../assets".into()));
    let device = Device::flex();
    device.seed(9);

    // A tiny random model: its weights, a saved classifier, and tickets of it.
    let config = SequenceClassifierConfig::new(BertConfig::tiny(64), vec!["negative".into(), "positive".into(), "neutral".into()]);
    let model = SequenceClassifier::random(&config, &device).expect("a tiny model");
    let saved = model.to_safetensors(&config, HashMap::new()).expect("the tiny model saves");
    let dir = root.join("model_files");
    write(&dir, "classifier", &picked(2, &saved));
    write(&dir, "weights", &picked(1, &saved));
    let minilm_config = std::fs::read(assets.join("minilm/config.json")).expect("$RTICKET_ASSETS/minilm/config.json (scripts/setup.sh fetches it)");
    write(&dir, "config", &picked(0, &minilm_config));

    let masks: Vec<Vec<bool>> =
        model.bert.dense_layers().iter().map(|(_, d)| (0..d.shape()[0] * d.shape()[1]).map(|i| i % 5 != 0).collect()).collect();
    let meta = TicketMeta::new("tiny", "0".repeat(64), "0".repeat(64), 16, Window::Head, config.clone());
    for values in [None, Some(ValueDtype::F16)] {
        for encoding in [MaskEncoding::Bits, MaskEncoding::Ans] {
            let mut ticket = Ticket::from_classifier(&model, &masks, values, meta.clone()).expect("a tiny ticket");
            ticket.mask_encoding = encoding;
            write(&root.join("ticket"), &format!("{encoding:?}-{values:?}"), &ticket.to_bytes().expect("the ticket writes"));
        }
    }

    let words: Vec<String> = ["good", "great", "fine", "bad", "awful", "film"].map(String::from).into();
    let rows = vec![vec![(1, 0.9), (2, 0.7)], vec![(0, 0.9)], vec![(0, 0.7)], vec![(4, 0.8)], vec![(3, 0.8)], vec![]];
    let table = NeighbourTable::new(words, rows, ENCODER_VECTORS.into(), "ab".repeat(32));
    write(&root.join("neighbours"), "table", &table.to_bytes().expect("the table writes"));

    // WordNet: the first entries of each data file (after its licence header), and exceptions.
    for (pick, name) in ["noun", "verb", "adj", "adv"].iter().enumerate() {
        let path = assets.join("wordnet").join(format!("data.{name}"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (scripts/setup.sh fetches WordNet)", path.display()));
        let entries: Vec<&str> = text.lines().filter(|l| !l.starts_with("  ")).take(40).collect();
        let exceptions = std::fs::read_to_string(assets.join("wordnet").join(format!("{name}.exc"))).unwrap_or_default();
        let exceptions: Vec<&str> = exceptions.lines().take(20).collect();
        let seed = format!("{}\n\0{}\n", entries.join("\n"), exceptions.join("\n"));
        write(&root.join("wordnet"), name, &picked(pick as u8, seed.as_bytes()));
    }

    let dir = root.join("dataset");
    write(&dir, "csv", &picked(0, b"text,label\n\"a gripping, tender film\",positive\ndull,negative\n"));
    write(&dir, "tsv", &picked(1, b"sentence\tlabel\nfine work\t1\nno\t0\n"));
    write(&dir, "jsonl", &picked(2, b"{\"text\": \"good\", \"label\": \"pos\"}\n{\"text\": \"bad\", \"label\": 0}\n"));
    write(&dir, "named-csv", &picked(3, b"review,stars\nok,3\nbad,1\n"));
    write(&dir, "pair-jsonl", &picked(8, b"{\"premise\": \"a\", \"hypothesis\": \"b\", \"label\": \"entailment\"}\n"));
    eprintln!("seeds written under {}", root.display());
}
