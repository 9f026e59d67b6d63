//! `rticket site`: the folder a static host serves (page bundle, base model once, word
//! resources, content-hashed tickets, manifest.json), and its refusals.

use rticket::model_files::sha256_hex;
use rticket::site::Manifest;
use rticket_core::attack::NeighbourTable;
use rticket_core::attack::neighbours::ENCODER_VECTORS;
use rticket_core::ticket::{Ticket, TicketMeta};

use crate::common::*;

/// A mask-only ticket of the tiny model in `model_dir`, keeping one weight in `keep_every`.
fn tiny_ticket(model_dir: &std::path::Path, keep_every: usize) -> Vec<u8> {
    let files = rticket::model_files::ModelFiles::open(model_dir).unwrap();
    let config = polarity_config(files.config.clone());
    let model = files.classifier(&config, &cpu()).unwrap();
    let masks: Vec<Vec<bool>> =
        model.bert.dense_layers().iter().map(|(_, d)| (0..d.shape()[0] * d.shape()[1]).map(|i| i % keep_every == 0).collect()).collect();
    let meta = TicketMeta {
        metrics: serde_json::json!({"test": {"accuracy": 0.75}}),
        ..TicketMeta::new("tiny", files.weights_sha256(), sha256_hex(&files.tokenizer), 32, rticket_core::Window::Head, config)
    };
    Ticket::from_classifier(&model, &masks, None, meta).unwrap().to_bytes().unwrap()
}

#[test]
fn a_site_holds_the_page_the_model_once_and_content_named_tickets_and_refuses_what_would_break_it() {
    let model = tiny_model_dir("site-model");
    let work = TempDir::new("site-work");
    let w = |name: &str| work.path().join(name);
    std::fs::create_dir_all(w("dist/js")).unwrap();
    std::fs::write(w("dist/index.html"), "<p>page</p>").unwrap();
    std::fs::write(w("dist/js/worker.js"), "// worker").unwrap();
    for (folder, keep) in [("draw", 2), ("draw-sparser", 5)] {
        std::fs::create_dir_all(w(folder)).unwrap();
        std::fs::write(w(folder).join("ticket-30.safetensors"), tiny_ticket(model.path(), keep)).unwrap();
    }
    let table = NeighbourTable::new(vec!["good".into(), "fine".into()], vec![vec![(1, 0.9)], vec![(0, 0.9)]], ENCODER_VECTORS.into(), "ab".repeat(32));
    std::fs::write(w("neighbours.safetensors"), table.to_bytes().unwrap()).unwrap();
    let (m, site) = (model.path().to_str().unwrap(), w("site"));
    let t1 = w("draw/ticket-30.safetensors");
    let t2 = w("draw-sparser/ticket-30.safetensors");
    let neighbours = w("neighbours.safetensors");
    let dist = w("dist");
    let args = |tickets: &[&std::path::Path], out: &std::path::Path, bundle: &std::path::Path| -> Vec<String> {
        let mut a: Vec<String> = ["site", "--model", m, "--neighbours", neighbours.to_str().unwrap(), "--bundle", bundle.to_str().unwrap(), "--out", out.to_str().unwrap()]
            .map(String::from)
            .into();
        for t in tickets {
            a.extend(["--ticket".into(), t.to_str().unwrap().into()]);
        }
        a
    };
    let run = |a: Vec<String>| rticket(&a.iter().map(String::as_str).collect::<Vec<_>>());

    let (ok, _, stderr) = run(args(&[&t1, &t2], &site, &dist));
    assert!(ok, "{stderr}");
    assert!(stderr.contains("MB"), "sizes are printed as it goes: {stderr}");
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(site.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(std::fs::read_to_string(site.join("index.html")).unwrap(), "<p>page</p>");
    assert!(site.join("js/worker.js").exists());
    assert_eq!(manifest.tickets.len(), 2);
    assert_eq!((manifest.tickets[0].name.as_str(), manifest.tickets[1].name.as_str()), ("draw/ticket-30", "draw-sparser/ticket-30"));
    assert_eq!(manifest.tickets[0].test_accuracy, Some(0.75));
    assert!(manifest.tickets[1].sparsity > manifest.tickets[0].sparsity);
    // Every file is where the manifest says, named by its content's hash.
    for (file, source) in [(&manifest.tickets[0].file, &t1), (&manifest.tickets[1].file, &t2), (&manifest.neighbours, &neighbours)] {
        let bytes = std::fs::read(site.join(file)).unwrap();
        assert_eq!(bytes, std::fs::read(source).unwrap(), "{file}");
        assert!(file.contains(&sha256_hex(&bytes)[..16]), "{file} is not named by its content");
    }
    for name in ["config.json", "model.safetensors", "tokenizer.json"] {
        assert_eq!(std::fs::read(site.join(&manifest.base).join(name)).unwrap(), std::fs::read(model.path().join(name)).unwrap(), "{name}");
    }
    assert!(site.join(&manifest.wordnet).join("data.noun").exists() && site.join(&manifest.wordnet).join("verb.exc").exists());
    assert_eq!(manifest.dense, None);

    // From a finished pipeline run: its two tickets under their roles, TextFooler's figures from
    // its attacks, and its fine-tuned classifier as the dense model.
    let run_dir = w("pipeline-quick-1");
    std::fs::create_dir_all(run_dir.join("finetune")).unwrap();
    std::fs::write(run_dir.join("finetune/classifier.safetensors"), std::fs::read(model.path().join("model.safetensors")).unwrap()).unwrap();
    let attack = |under: f64| serde_json::json!([{"recipe": "text-fooler", "examples": 50, "clean_accuracy": 0.7, "accuracy_under_attack": under}]);
    let metrics = serde_json::json!({
        "ticket": {"path": t1}, "ticket_mask_only": {"path": t2},
        "attacks": {"fine-tune": attack(0.04), "robust ticket": attack(0.3), "mask-only ticket": attack(0.2)},
    });
    std::fs::write(run_dir.join("metrics.json"), serde_json::to_vec(&metrics).unwrap()).unwrap();
    let mut from_run = args(&[], &w("site-from-run"), &dist);
    from_run.extend(["--run".into(), run_dir.to_str().unwrap().into()]);
    let (ok, _, stderr) = run(from_run);
    assert!(ok, "{stderr}");
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(w("site-from-run/manifest.json")).unwrap()).unwrap();
    let names: Vec<&str> = manifest.tickets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["robust ticket", "mask-only ticket"]);
    assert_eq!(manifest.tickets[1].attack.as_ref().unwrap()["accuracy_under_attack"], 0.2);
    assert!(w("site-from-run").join(manifest.dense.expect("the run's classifier")).exists());

    // Again into the same folder: the earlier site is replaced.
    let (ok, _, stderr) = run(args(&[&t1], &site, &dist));
    assert!(ok, "{stderr}");
    let again: Manifest = serde_json::from_slice(&std::fs::read(site.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(again.tickets.len(), 1);
    assert!(!site.join(&manifest.tickets[1].file).exists(), "the earlier site's files are gone");

    // Refusals, each naming the fix: a folder that is not a site, no bundle, a ticket of
    // another base model (one bit of its weights differs), a run folder without tickets.
    std::fs::create_dir_all(w("elsewhere")).unwrap();
    std::fs::write(w("elsewhere/notes.txt"), "mine").unwrap();
    let (ok, _, stderr) = run(args(&[&t1], &w("elsewhere"), &dist));
    assert!(!ok && stderr.contains("holds files but no site") && w("elsewhere/notes.txt").exists(), "{stderr}");
    let (ok, _, stderr) = run(args(&[&t1], &w("site2"), &w("no-dist")));
    assert!(!ok && stderr.contains("make bundle"), "{stderr}");
    let other = TempDir::new("site-other");
    for file in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(model.path().join(file), other.path().join(file)).unwrap();
    }
    let mut weights = std::fs::read(other.path().join("model.safetensors")).unwrap();
    *weights.last_mut().unwrap() ^= 1;
    std::fs::write(other.path().join("model.safetensors"), weights).unwrap();
    let mut wrong = args(&[&t1], &w("site3"), &dist);
    wrong[2] = other.path().to_str().unwrap().into();
    let (ok, _, stderr) = run(wrong);
    assert!(!ok && stderr.contains("a ticket for another base model") && stderr.contains("--model"), "{stderr}");
    std::fs::create_dir_all(w("empty-run")).unwrap();
    let mut from_run = args(&[], &w("site4"), &dist);
    from_run.extend(["--run".into(), w("empty-run").to_str().unwrap().into()]);
    let (ok, _, stderr) = run(from_run);
    assert!(!ok && stderr.contains("not a finished pipeline run"), "{stderr}");
}
