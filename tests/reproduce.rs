//! `rticket reproduce` end to end on MiniLM and MR (32 training sentences, 2 attacked): its
//! records on a machine that has them but not the models they name.

use std::path::Path;

use rticket::reproduce::{AttackRecord, ModelRecord, load_all};

use crate::common::{TempDir, minilm_dir, rticket};

/// The names and bytes of the files in `dir` whose names start with `prefix`, sorted.
fn files_starting(dir: &Path, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .map(|path| (path.file_name().unwrap().to_str().unwrap().to_owned(), std::fs::read(&path).unwrap()))
        .collect();
    files.sort();
    files
}

/// Records copied to another machine without the work folder: each model is trained again (in
/// that machine's work folder). A model that comes out the same keeps its record and attacks
/// byte for byte, and an attack missing from its records runs on the new file; one that comes
/// out different (as float bits may on other hardware, made here by changing the recorded
/// sha256) has its record and attacks moved aside, out of the report, and is attacked anew.
#[test]
fn a_record_whose_model_file_is_gone_is_trained_again_and_kept_only_when_the_model_is_the_same() {
    minilm_dir();
    let tmp = TempDir::new("reproduce-gone");
    let results = tmp.0.join("results");
    let results_arg = results.to_str().unwrap();
    let reproduce = |work: &str| {
        let work = tmp.0.join(work);
        #[rustfmt::skip]
        let args = [
            "--device", "cpu", "reproduce", "--phases", "recipes", "--methods", "fine-tune,random", "--seeds", "1",
            "--recipe-examples", "2", "--train-limit", "32", "--train-epochs", "1", "--retrain-epochs", "1",
            "--results", results_arg, "--work", work.to_str().unwrap(),
        ];
        rticket(&args)
    };
    let (ok, _, err) = reproduce("work");
    assert!(ok, "{err}");
    let seed = results.join("data/mr/seed-1");
    let record = |name: &str| -> ModelRecord { serde_json::from_slice(&std::fs::read(seed.join(name)).unwrap()).unwrap() };
    let fine_tune_record = std::fs::read(seed.join("fine-tune-0.json")).unwrap();
    let fine_tune_attacks = files_starting(&seed.join("attacks"), "fine-tune-0-");
    let random = record("random-30.json");
    assert_eq!(fine_tune_attacks.len(), 3, "PWWS, TextBugger and BERT-Attack records");
    assert!(record("fine-tune-0.json").classifier_sha256.is_some_and(|h| h.len() == 64), "a dense record names its classifier's hash");

    // The other machine: the same records, no models, another work folder; one of fine-tuning's
    // attacks not run yet. The random ticket's record names another ticket.
    std::fs::remove_dir_all(tmp.0.join("work")).unwrap();
    let pwws = "attacks/fine-tune-0-pwws-2-balanced.json";
    let pwws_record: AttackRecord = serde_json::from_slice(&std::fs::read(seed.join(pwws)).unwrap()).unwrap();
    std::fs::remove_file(seed.join(pwws)).unwrap();
    let mut other = random.clone();
    other.ticket.as_mut().unwrap().sha256 = "00".repeat(32);
    let other_bytes = serde_json::to_vec_pretty(&other).unwrap();
    std::fs::write(seed.join("random-30.json"), &other_bytes).unwrap();
    let (ok, _, err) = reproduce("other-work");
    assert!(ok, "{err}");

    assert!(err.contains("fine-tune-0.json: its model") && err.contains("is not on this machine: training it again"), "{err}");
    assert!(err.contains("fine-tune-0.json: trained again to the recorded model (the same classifier sha256)"), "{err}");
    assert_eq!(std::fs::read(seed.join("fine-tune-0.json")).unwrap(), fine_tune_record, "the fine-tuning's record stands");
    let others = |files: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> { files.into_iter().filter(|(name, _)| !pwws.ends_with(name.as_str())).collect() };
    assert_eq!(others(files_starting(&seed.join("attacks"), "fine-tune-0-")), others(fine_tune_attacks), "so do its attacks");
    assert_eq!(err.matches("on fine-tune at 0%").count(), 1, "only the missing attack runs: {err}");
    let rerun: AttackRecord = serde_json::from_slice(&std::fs::read(seed.join(pwws)).unwrap()).unwrap();
    let outcome = |r: &AttackRecord| (r.summary.clean_accuracy, r.summary.accuracy_under_attack, r.summary.forward_passes);
    assert_eq!(outcome(&rerun), outcome(&pwws_record), "the same model, attacked from its new folder, gives the same outcome");

    assert!(err.contains("random-30.json: trained again to another model than the recorded one"), "{err}");
    let superseded: Vec<_> = std::fs::read_dir(seed.join("superseded")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(superseded.len(), 1, "{superseded:?}");
    assert_eq!(std::fs::read(superseded[0].join("random-30.json")).unwrap(), other_bytes, "the old record is kept aside");
    assert_eq!(files_starting(&superseded[0].join("attacks"), "random-30-").len(), 3, "with its attack records");
    let retrained = record("random-30.json");
    assert_eq!(retrained.ticket.as_ref().unwrap().sha256, random.ticket.as_ref().unwrap().sha256, "training again made the first run's ticket");
    assert_eq!(err.matches("on random at 30%").count(), 3, "the new ticket is attacked by the three recipes: {err}");
    assert_eq!(files_starting(&seed.join("attacks"), "random-30-").len(), 3);

    // The report reads the current records only: two models, six attacks.
    let (models, attacks) = load_all(&results.join("data")).unwrap();
    assert_eq!((models.len(), attacks.len()), (2, 6));
    let (ok, _, err) = rticket(&["report", "--results", results_arg, "--check"]);
    assert!(ok, "{err}");
    let aside = format!("data/mr/seed-1/superseded/{}", superseded[0].file_name().unwrap().to_str().unwrap());
    let report = std::fs::read_to_string(results.join("README.md")).unwrap();
    assert!(report.contains("## Records set aside") && report.contains(&format!("[`{aside}`]({aside})")), "{report}");
}

/// The sweep's IMP run to 50% passes through the same sparsities as the table's run to 30% for
/// three rounds (10%, 19%, 27.1%): it reads those rounds' masks from the 30% run instead of
/// training them again; its fourth round trains at the same 27.1% mask as the 30% run's last, so
/// it prunes by that round's ranking to 34.4%; it trains its own three, and its record names
/// where each round was trained, so the report's wall time counts the shared rounds once.
#[test]
fn imp_in_the_sweep_reads_the_rounds_it_shares_with_the_tables_imp() {
    minilm_dir();
    let tmp = TempDir::new("reproduce-imp-sweep");
    let (results, work) = (tmp.0.join("results"), tmp.0.join("work"));
    let reproduce = |phase: &str| {
        #[rustfmt::skip]
        let args = [
            "--device", "cpu", "reproduce", "--phases", phase, "--methods", "imp", "--seeds", "1",
            "--sweep", "0.5", "--recipe-examples", "2", "--train-limit", "32", "--train-epochs", "1", "--retrain-epochs", "1",
            "--results", results.to_str().unwrap(), "--work", work.to_str().unwrap(),
        ];
        rticket(&args)
    };
    // The table's IMP first, as `core` runs before `sweep` (`recipes` is the cheaper way to make it).
    let (ok, _, err) = reproduce("recipes");
    assert!(ok, "{err}");
    let (ok, _, err) = reproduce("sweep");
    assert!(ok, "{err}");
    let seed = results.join("data/mr/seed-1");
    let record = |name: &str| -> ModelRecord { serde_json::from_slice(&std::fs::read(seed.join(name)).unwrap()).unwrap() };
    let rounds = |r: &ModelRecord| -> Vec<(String, std::path::PathBuf)> {
        r.stages.iter().filter(|s| s.stage.starts_with("imp round")).map(|s| (s.stage.clone(), s.dir.clone())).collect()
    };
    let thirty = rounds(&record("imp-30.json"));
    let fifty = rounds(&record("imp-50.json"));
    assert_eq!(thirty.len(), 4, "{thirty:?}");
    assert_eq!(fifty.len(), 7, "10, 19, 27.1, 34.4, 41, 46.9 and 50%: {fifty:?}");
    let run = work.join("mr/seed-1");
    for (r, (stage, dir)) in fifty.iter().enumerate() {
        assert_eq!(stage, &format!("imp round {r}"));
        let owner = if r < 4 { "imp-30" } else { "imp-50" };
        assert_eq!(dir, &run.join(owner).join(format!("round-{r}")), "round {r}");
        assert_eq!(run.join("imp-50").join(format!("round-{r}")).exists(), r >= 4, "round {r} trained in the 50% run's folder");
    }
    assert_eq!(err.matches("the same as").count(), 3, "three rounds read from the 30% run: {err}");
    assert_eq!(err.matches("pruned by its ranking to 34.4%").count(), 1, "round 3 pruned from the 30% run's last: {err}");
    // Only each run's last round keeps a ranking.
    let rankings = |r: &str| (0..7).filter(|i| run.join(r).join(format!("round-{i}/ranking.safetensors")).exists()).collect::<Vec<_>>();
    assert_eq!((rankings("imp-30"), rankings("imp-50")), (vec![3], vec![6]));
    assert!((record("imp-50.json").sparsity - 0.5).abs() < 1e-9);

    let (ok, _, err) = rticket(&["report", "--results", results.to_str().unwrap(), "--check"]);
    assert!(ok, "{err}");
    let report = std::fs::read_to_string(results.join("README.md")).unwrap();
    assert!(report.contains("| IMP (lottery ticket) | 50% | 1 |"), "the sweep's table has IMP at 50%: {report}");
    assert!(report.contains("share their first rounds with the lower ones"), "{report}");
    // Four rounds and a retraining for the 30% run, three and a retraining for the 50% run: nine
    // training stages, not thirteen.
    assert!(report.contains("| mr | 1 | 9 |"), "the wall time counts each shared round once: {report}");
}

/// The mask-only method with its own lambda and a head refit after the draw: the search runs at
/// the mask-only lambda (the paper pipeline's stays the plan's), the ticket carries the refit head
/// (its training record keeps the searched head's accuracy), the page says both; and a ticket
/// that lacks the refit (a run killed during it) is drawn and refit again, not taken as done.
#[test]
fn the_mask_only_method_searches_at_its_own_lambda_and_refits_the_drawn_tickets_head() {
    minilm_dir();
    let tmp = TempDir::new("reproduce-mask-only-refit");
    let (results, work) = (tmp.0.join("results"), tmp.0.join("work"));
    let reproduce = || {
        #[rustfmt::skip]
        let args = [
            "--device", "cpu", "reproduce", "--phases", "recipes", "--methods", "mask-only", "--seeds", "1",
            "--recipe-examples", "2", "--train-limit", "32", "--search-train-limit", "32", "--search-epochs", "1",
            "--search-lambda", "5", "--mask-only-lambda", "0.7", "--mask-only-refit-head", "1",
            "--results", results.to_str().unwrap(), "--work", work.to_str().unwrap(),
        ];
        rticket(&args)
    };
    let (ok, _, err) = reproduce();
    assert!(ok, "{err}");
    let plan: serde_json::Value = serde_json::from_slice(&std::fs::read(results.join("data/plan.json")).unwrap()).unwrap();
    assert_eq!((plan["mask_only_lambda"].as_f64(), plan["mask_only_refit_head"].as_u64()), (Some(0.7), Some(1)), "{plan}");
    let run = work.join("mr/seed-1");
    let search: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("search-mask-only/run.json")).unwrap()).unwrap();
    assert_eq!(search["settings"]["fit"]["objective"]["l0"]["lambda"].as_f64(), Some(0.7), "{search}");

    let draw = run.join("draw-mask-only-30");
    let ticket_path = draw.join("ticket-30.safetensors");
    let ticket = rticket_core::ticket::Ticket::from_bytes(&std::fs::read(&ticket_path).unwrap()).unwrap();
    let refit = &ticket.meta.training["head_refit"];
    assert_eq!(refit["fit"]["epochs"].as_u64(), Some(1), "{}", ticket.meta.training);
    assert!(refit["searched_head"]["dev"]["accuracy"].is_number(), "{refit}");
    assert!(draw.join("refit-30/steps.jsonl").exists(), "the refit's step log");
    let record: ModelRecord = serde_json::from_slice(&std::fs::read(results.join("data/mr/seed-1/mask-only-30.json")).unwrap()).unwrap();
    assert_eq!(record.ticket.as_ref().unwrap().sha256, rticket::model_files::sha256_hex(&std::fs::read(&ticket_path).unwrap()));
    let page = std::fs::read_to_string(results.join("README.md")).unwrap();
    assert!(page.contains("mask-only search's sparsity penalty ends at lambda = 0.7"), "{page}");
    assert!(page.contains("head is trained again for 1 epoch(s)"), "{page}");

    // Killed during the refit: the folder holds the searched head's ticket and no record yet.
    let searched_head = tmp.0.join("searched-head");
    #[rustfmt::skip]
    let (ok, _, err) = rticket(&[
        "--device", "cpu", "draw", "--search", run.join("search-mask-only").to_str().unwrap(), "--seed", "1", "--train-limit", "32",
        "--sparsity", "0.3", "--out", searched_head.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    std::fs::copy(searched_head.join("ticket-30.safetensors"), &ticket_path).unwrap();
    std::fs::remove_file(results.join("data/mr/seed-1/mask-only-30.json")).unwrap();
    let (ok, _, err) = reproduce();
    assert!(ok, "{err}");
    let again = rticket_core::ticket::Ticket::from_bytes(&std::fs::read(&ticket_path).unwrap()).unwrap();
    assert!(again.meta.training.get("head_refit").is_some(), "the unfinished draw was refit: {}", again.meta.training);
    let again_record: ModelRecord = serde_json::from_slice(&std::fs::read(results.join("data/mr/seed-1/mask-only-30.json")).unwrap()).unwrap();
    assert_eq!(again_record.dev_accuracy, record.dev_accuracy, "the refit resumed from its finished checkpoint to the same head");
}
