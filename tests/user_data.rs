//! The user's own data through every stage on the real MiniLM: a 3-class CSV split here, a
//! TSV of sentence pairs, and a JSON Lines train/dev/test split with string labels, each from fine-tuning to an attacked,
//! classifying ticket that names its labels; and a ticket refused on data with other labels.

use rticket_core::ticket::Ticket;

use crate::common::*;

const TOPICS: [(&str, &[&str]); 3] = [
    ("world", &["the president met foreign leaders", "elections were held across the country", "the minister signed a peace treaty", "troops left the capital"]),
    ("sports", &["the team won the final match", "the striker scored a late goal", "the coach praised his players", "fans filled the stadium"]),
    ("business", &["the company reported higher profits", "shares fell after the earnings call", "the bank raised interest rates", "investors bought more stock"]),
];

/// `n` sentences of each topic, as (text, topic index), topics interleaved.
fn sentences(n: usize) -> Vec<(String, usize)> {
    let tails = ["today", "on monday", "this week", "last night"];
    (0..n).flat_map(|i| (0..3).map(move |t| (format!("{} {}", TOPICS[t].1[i % 4], tails[(i / 4) % 4]), t))).collect()
}

fn run(args: &[&str]) -> String {
    let mut all = vec!["--device", "cpu"];
    all.extend(args);
    let (ok, stdout, stderr) = rticket(&all);
    assert!(ok, "{args:?} failed: {stderr}");
    stdout
}

/// Fine-tune, search (paper mode), draw, retrain, attack and classify on `data` (the flags
/// naming it); returns the retrained ticket's path.
fn through_every_stage(out: &std::path::Path, data: &[&str], labels: &[&str]) -> String {
    let m = minilm_dir();
    let m = m.to_str().unwrap();
    let dir = |name: &str| out.join(name).to_str().unwrap().to_string();
    let common = [&["--model", m, "--epochs", "1"][..], data].concat();
    let finetune = dir("finetune");
    run(&[&["finetune", "--preset", "quick", "--max-len", "16", "--batch-size", "16", "--out", &finetune][..], &common].concat());
    let classifier = format!("{finetune}/classifier.safetensors");
    let search = dir("search");
    run(&[&["search", "--mode", "paper", "--adv-steps", "1", "--start", &classifier, "--out", &search][..], &common].concat());
    let draw = dir("draw");
    run(&[&["draw", "--search", &search, "--sparsity", "0.3", "--out", &draw][..], &common].concat());
    let retrain = dir("retrain");
    run(&[&["retrain", "--ticket", &format!("{draw}/ticket-30.safetensors"), "--out", &retrain][..], &common].concat());
    let ticket = format!("{retrain}/ticket.safetensors");
    let meta = Ticket::from_bytes(&std::fs::read(&ticket).unwrap()).unwrap().meta;
    assert_eq!(meta.classifier.labels, labels, "the ticket does not name the data's labels");

    let attack = dir("attack");
    run(&[&["attack", "--model", m, "--ticket", &ticket, "--examples", "3", "--out", &attack][..], data].concat());
    let metrics: serde_json::Value = serde_json::from_slice(&std::fs::read(format!("{attack}/metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics[0]["examples"], 3, "{metrics}");
    // As if killed before its summary: a plain rerun refuses to overwrite the log, --resume reads it back.
    std::fs::remove_file(format!("{attack}/metrics.json")).unwrap();
    let again = [&["--device", "cpu", "attack", "--model", m, "--ticket", &ticket, "--examples", "3", "--out", &attack][..], data].concat();
    let (ok, _, stderr) = rticket(&again);
    assert!(!ok && stderr.contains("pass --resume"), "{stderr}");
    run(&[&again[2..], &["--resume"]].concat());
    let mut resumed: serde_json::Value = serde_json::from_slice(&std::fs::read(format!("{attack}/metrics.json")).unwrap()).unwrap();
    // Seconds are re-summed from the log, in another order: equal up to rounding.
    let mut metrics = metrics;
    let (a, b) = (resumed[0]["seconds"].take().as_f64().unwrap(), metrics[0]["seconds"].take().as_f64().unwrap());
    assert!((a - b).abs() < 1e-6 * b.max(1.0), "seconds {a} vs {b}");
    assert_eq!(resumed, metrics, "the resumed summary is the logged one");

    let answers = run(&["classify", "--model", m, "--ticket", &ticket, "the team scored a goal", "profits rose at the bank"]);
    for line in answers.lines() {
        let answer: serde_json::Value = serde_json::from_str(line).unwrap();
        let probabilities = answer["probabilities"].as_object().unwrap();
        let mut named: Vec<&str> = probabilities.keys().map(String::as_str).collect();
        let mut expected = labels.to_vec();
        named.sort_unstable();
        expected.sort_unstable();
        assert_eq!(named, expected, "{answer}");
        let total: f64 = probabilities.values().map(|p| p.as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-4, "{answer}");
        assert!(labels.contains(&answer["label"].as_str().unwrap()), "{answer}");
    }
    ticket
}

#[test]
fn a_users_csv_and_jsonl_go_from_fine_tuning_to_an_attacked_ticket() {
    let out = TempDir::new("user-data");
    // A CSV with integer labels (1, 2, 10: sorted as numbers), an extra column, the label first
    // and a quoted comma; split here, 80/10/10.
    let csv = out.path().join("topics.csv");
    let mut text = String::from("label,id,text\n");
    for (i, (sentence, topic)) in sentences(10).into_iter().enumerate() {
        text += &format!("{},{i},\"{sentence}, reports said\"\n", [1, 2, 10][topic]);
    }
    std::fs::write(&csv, text).unwrap();
    let csv_ticket = through_every_stage(&out.path().join("csv"), &["--data", csv.to_str().unwrap()], &["1", "2", "10"]);
    let split: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path().join("csv/finetune/split.json")).unwrap()).unwrap();
    assert_eq!((split["train"].as_array().unwrap().len(), split["dev"].as_array().unwrap().len()), (24, 3), "{split}");
    assert_eq!(split["labels"], serde_json::json!(["1", "2", "10"]));

    // JSON Lines with string labels, in the user's own train/dev/test files.
    let all = sentences(8);
    let mut paths = Vec::new();
    for (part, range) in [("train", 0..18), ("dev", 18..21), ("test", 21..24)] {
        let lines: String = all[range]
            .iter()
            .map(|(sentence, topic)| format!("{}\n", serde_json::json!({ "sentence": sentence, "topic": TOPICS[*topic].0 })))
            .collect();
        let path = out.path().join(format!("{part}.jsonl"));
        std::fs::write(&path, lines).unwrap();
        paths.push(path.to_str().unwrap().to_string());
    }
    let data = ["--train", &paths[0], "--dev", &paths[1], "--test", &paths[2], "--label-column", "topic"];
    through_every_stage(&out.path().join("jsonl"), &data, &["business", "sports", "world"]);

    // A ticket is refused on data with other labels, before anything trains or is attacked.
    let m = minilm_dir();
    let m = m.to_str().unwrap();
    let wrong = out.path().join("wrong");
    let wrong = wrong.to_str().unwrap();
    let (ok, _, stderr) = rticket(&[&["--device", "cpu", "retrain", "--model", m, "--ticket", &csv_ticket, "--out", wrong][..], &data].concat());
    assert!(!ok && stderr.contains("was trained on the labels [\"1\", \"2\", \"10\"]") && stderr.contains("--data"), "{stderr}");
    let (ok, _, stderr) = rticket(&[&["--device", "cpu", "attack", "--model", m, "--ticket", &csv_ticket, "--out", wrong][..], &data].concat());
    assert!(!ok && stderr.contains("was trained on the labels [\"1\", \"2\", \"10\"]"), "{stderr}");
    let (ok, _, stderr) = rticket(&["--device", "cpu", "attack", "--model", m, "--ticket", &csv_ticket, "--out", wrong]);
    assert!(!ok && stderr.contains("and the data has [\"negative\", \"positive\"]"), "{stderr}");
}

/// Every ticket file under `dir`, at any depth.
/// `dir/topics.csv`: 10 sentences of each topic, labels named.
fn topics_csv(dir: &std::path::Path) -> std::path::PathBuf {
    let csv = dir.join("topics.csv");
    let mut text = String::from("text,label\n");
    for (sentence, topic) in sentences(10) {
        text += &format!("{sentence},{}\n", TOPICS[topic].0);
    }
    std::fs::write(&csv, text).unwrap();
    csv
}

fn tickets_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(tickets_under(&path));
        } else if path.file_name().unwrap().to_str().unwrap().starts_with("ticket") && path.extension().is_some_and(|e| e == "safetensors") {
            found.push(path);
        }
    }
    found
}

#[test]
fn the_pipeline_and_a_baseline_run_on_a_users_csv() {
    let out = TempDir::new("user-pipeline");
    let csv = topics_csv(out.path());
    let m = minilm_dir();
    let (m, data) = (m.to_str().unwrap(), csv.to_str().unwrap());
    let labels = ["business", "sports", "world"];
    for (name, args) in [
        ("pipeline", vec!["pipeline", "--preset", "quick", "--epochs", "1"]),
        ("baseline", vec!["baseline", "--kind", "imp", "--preset", "quick", "--epochs", "1", "--sparsity", "0.3"]),
    ] {
        let dir = out.path().join(name);
        run(&[&args[..], &["--model", m, "--data", data, "--out", dir.to_str().unwrap()]].concat());
        let tickets = tickets_under(&dir);
        assert!(!tickets.is_empty(), "{name} wrote no ticket under {}", dir.display());
        for ticket in tickets {
            let meta = Ticket::from_bytes(&std::fs::read(&ticket).unwrap()).unwrap().meta;
            assert_eq!(meta.classifier.labels, labels, "{}", ticket.display());
        }
    }
    let report = std::fs::read_to_string(out.path().join("pipeline/report.md")).unwrap();
    assert!(report.contains(&format!("data `{data}`")), "{report}");
    // The mask-only ticket's head is trained again on its own features by default.
    assert!(report.contains("mask-only ticket (head refit for 2 epoch(s))"), "{report}");
    let mask_only = out.path().join("pipeline/draw-mask-only");
    assert!(mask_only.join("refit-30/steps.jsonl").exists(), "no refit step log under {}", mask_only.display());
    let meta = Ticket::from_bytes(&std::fs::read(mask_only.join("ticket-30.safetensors")).unwrap()).unwrap().meta;
    assert_eq!(meta.training["head_refit"]["fit"]["epochs"].as_u64(), Some(2), "{}", meta.training);
}

/// `reproduce` and `report` on a user's 3-class CSV: records under the file's own key, the plan
/// naming the file, a report that names it and passes `report --check`; the same results
/// folder refuses a reproduction on other data.
#[test]
fn reproduce_and_report_run_on_a_users_csv() {
    let out = TempDir::new("user-reproduce");
    let csv = topics_csv(out.path());
    let m = minilm_dir();
    let (results, work) = (out.path().join("results"), out.path().join("work"));
    let reproduce = |data: &[&str]| {
        #[rustfmt::skip]
        let args = [
            &["--device", "cpu", "reproduce", "--model", m.to_str().unwrap(), "--phases", "core", "--methods", "fine-tune,random",
              "--seeds", "1", "--train-limit", "32", "--train-epochs", "1", "--retrain-epochs", "1",
              "--results", results.to_str().unwrap(), "--work", work.to_str().unwrap()][..],
            data,
        ].concat();
        rticket(&args)
    };
    let (ok, _, err) = reproduce(&["--data", csv.to_str().unwrap()]);
    assert!(ok, "{err}");
    let seed = results.join("data/topics/seed-1");
    for record in ["fine-tune-0.json", "random-30.json", "attacks/fine-tune-0-text-fooler-3.json", "attacks/random-30-text-fooler-3.json"] {
        assert!(seed.join(record).exists(), "no {record} under {}: {err}", seed.display());
    }
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(seed.join("random-30.json")).unwrap()).unwrap();
    assert_eq!(record["dataset"], "topics");
    let ticket = Ticket::from_bytes(&std::fs::read(record["ticket"]["file"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(ticket.meta.classifier.labels, ["business", "sports", "world"]);
    let plan: serde_json::Value = serde_json::from_slice(&std::fs::read(results.join("data/plan.json")).unwrap()).unwrap();
    assert_eq!(plan["data"]["path"], csv.to_str().unwrap(), "{plan}");
    let report = std::fs::read_to_string(results.join("README.md")).unwrap();
    assert!(report.contains(&format!("- Data: {}", csv.display())) && report.contains(&format!("## Ablations (`{}`, 30%)", csv.display())), "{report}");
    assert!(!report.contains("MR sentences"), "{report}");
    let (ok, _, err) = rticket(&["report", "--results", results.to_str().unwrap(), "--check"]);
    assert!(ok, "{err}");
    // MR into the same folder would mix two reproductions' plans.
    let (ok, _, err) = reproduce(&[]);
    assert!(!ok && err.contains("records a reproduction on") && err.contains("another --results"), "{err}");
}

#[test]
fn a_tsv_of_sentence_pairs_goes_through_every_stage_and_is_attacked_in_its_second_text() {
    // GLUE's layout (sentence1, sentence2): does the second sentence share the first's topic?
    let out = TempDir::new("user-pairs");
    let tsv = out.path().join("pairs.tsv");
    let all = sentences(8);
    let mut text = String::from("index\tsentence1\tsentence2\tlabel\n");
    for (i, (first, topic)) in all.iter().enumerate() {
        let (second, other) = &all[(i * 5 + 1) % all.len()]; // a third share the topic
        text += &format!("{i}\t{first}\t{second}\t{}\n", if topic == other { "same" } else { "different" });
    }
    std::fs::write(&tsv, text).unwrap();
    through_every_stage(&out.path().join("tsv"), &["--data", tsv.to_str().unwrap()], &["different", "same"]);
    // A pair is one text, its two sentences joined; every change the attack kept lies in the second.
    let log = std::fs::read_to_string(out.path().join("tsv/attack/text-fooler.jsonl")).unwrap();
    let mut changes = 0;
    for line in log.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        let words: Vec<&str> = entry["result"]["original"].as_str().unwrap().split_whitespace().collect();
        assert_eq!(words.iter().filter(|w| **w == "[SEP]").count(), 1, "{entry}");
        let separator = words.iter().position(|w| *w == "[SEP]").unwrap();
        for change in entry["result"]["changes"].as_array().unwrap() {
            assert!(change["position"].as_u64().unwrap() as usize > separator, "{entry}");
            changes += 1;
        }
    }
    assert!(log.lines().count() == 3, "{log}");
    eprintln!("{changes} changes, all in the second sentence");
}

#[test]
fn bad_data_files_are_refused_from_the_command_line_with_the_line_and_the_fix() {
    let out = TempDir::new("user-data-bad");
    let m = minilm_dir();
    let finetune = |data: &[&str]| {
        let run = out.path().join("run");
        let mut args = vec!["--device", "cpu", "finetune", "--model", m.to_str().unwrap(), "--out", run.to_str().unwrap()];
        args.extend(data);
        let (ok, _, stderr) = rticket(&args);
        assert!(!ok, "{data:?} was accepted");
        assert!(!run.exists(), "a refused data file left a run folder");
        stderr
    };
    let write = |name: &str, content: &[u8]| {
        let path = out.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_string()
    };
    let ragged = write("ragged.csv", b"text,label\na fine film,1\nbad, slow,0\n");
    assert!(finetune(&["--data", &ragged]).contains("line 3: 3 fields where the header has 2"));
    let latin1 = write("latin1.tsv", b"text\tlabel\ncaf\xe9 society\t1\n");
    assert!(finetune(&["--data", &latin1]).contains("line 2: byte 0xe9"));
    let columns = write("columns.csv", b"review,stars\ngood,5\n");
    let stderr = finetune(&["--data", &columns]);
    assert!(stderr.contains("the columns are \"review\", \"stars\"") && stderr.contains("--text-column"), "{stderr}");
    let stderr = finetune(&["--data", &columns, "--text-column", "review", "--label-column", "stars"]);
    assert!(stderr.contains("one class only (\"5\")"), "{stderr}");
    let stderr = finetune(&["--data", "nothing-here.csv"]);
    assert!(stderr.contains("--data nothing-here.csv: no such file") && stderr.contains("mr, movie-reviews"), "{stderr}");
    let stderr = finetune(&["--train", &ragged, "--dev", &ragged]);
    assert!(stderr.contains("--test"), "{stderr}");
    let stderr = finetune(&["--data", &ragged, "--train", &ragged, "--dev", &ragged, "--test", &ragged]);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
