//! Where a site's tickets come from: a finished pipeline run's folder (its `metrics.json` names
//! the tickets and their attack figures), or ticket files given one by one.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// One ticket to publish, with what its run measured.
#[derive(Debug, Clone)]
pub struct TicketSource {
    /// Shown in the page's chooser.
    pub name: String,
    pub path: PathBuf,
    /// TextFooler's figures on the run's test examples (a pipeline run's attacks).
    pub attack: Option<serde_json::Value>,
}

/// The newest `runs/pipeline-*` folder that finished (has `metrics.json`).
pub fn newest_pipeline_run(runs: &Path) -> Result<PathBuf> {
    let entries = std::fs::read_dir(runs).with_context(|| {
        format!("no {} folder: run `make run` (the quick pipeline) first, or pass --run DIR or --ticket FILE", runs.display())
    })?;
    let mut finished: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let is_pipeline = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("pipeline-"));
        if let (true, Ok(meta)) = (is_pipeline, std::fs::metadata(path.join("metrics.json"))) {
            finished.push((meta.modified()?, path));
        }
    }
    finished.sort();
    match finished.pop() {
        Some((_, path)) => Ok(path),
        None => bail!(
            "no finished pipeline run in {} (a folder pipeline-* with metrics.json): run `make run` first, or pass --run DIR or --ticket FILE",
            runs.display()
        ),
    }
}

/// The tickets a finished pipeline run exported (robust, then mask-only), and its dense
/// fine-tuned classifier when it is there.
pub fn tickets_of_run(run: &Path) -> Result<(Vec<TicketSource>, Option<PathBuf>)> {
    let metrics_path = run.join("metrics.json");
    let text = std::fs::read_to_string(&metrics_path).with_context(|| {
        format!("{} has no metrics.json: not a finished pipeline run (pass --ticket FILE for a ticket file)", run.display())
    })?;
    let metrics: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", metrics_path.display()))?;
    let mut tickets = Vec::new();
    for (key, name, attacked) in [("ticket", "robust ticket", "robust ticket"), ("ticket_mask_only", "mask-only ticket", "mask-only ticket")] {
        let Some(path) = metrics[key]["path"].as_str() else { continue };
        let attack = metrics["attacks"][attacked].as_array().and_then(|a| a.iter().find(|s| s["recipe"] == "text-fooler")).cloned();
        tickets.push(TicketSource { name: name.into(), path: locate(run, Path::new(path)), attack });
    }
    if tickets.is_empty() {
        bail!("{} names no ticket: the run holds no tickets to publish (pass --ticket FILE)", metrics_path.display());
    }
    let dense = Some(run.join("finetune").join("classifier.safetensors")).filter(|p| p.exists());
    Ok((tickets, dense))
}

/// A path the run's metrics.json recorded (relative to where the pipeline ran): as it is when it
/// exists, else the same file inside `run` (a run folder moved, or a site assembled from elsewhere).
fn locate(run: &Path, recorded: &Path) -> PathBuf {
    if recorded.exists() {
        return recorded.to_path_buf();
    }
    let name = run.file_name();
    let inside: PathBuf = recorded.components().skip_while(|c| Some(c.as_os_str()) != name).skip(1).collect();
    if inside.as_os_str().is_empty() { recorded.to_path_buf() } else { run.join(inside) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_without_tickets_or_metrics_is_refused_with_the_fix() {
        let dir = std::env::temp_dir().join(format!("rticket-site-sources-{}", std::process::id()));
        let run = dir.join("pipeline-quick-1");
        std::fs::create_dir_all(&run).unwrap();
        let err = tickets_of_run(&run).unwrap_err().to_string();
        assert!(err.contains("no metrics.json") && err.contains("--ticket"), "{err}");
        assert!(newest_pipeline_run(&dir).unwrap_err().to_string().contains("make run"));
        std::fs::write(run.join("metrics.json"), r#"{"finetune": {}}"#).unwrap();
        assert!(tickets_of_run(&run).unwrap_err().to_string().contains("no ticket"));
        assert_eq!(newest_pipeline_run(&dir).unwrap(), run);
        std::fs::write(
            run.join("metrics.json"),
            r#"{"ticket": {"path": "t.safetensors"}, "attacks": {"robust ticket": [{"recipe": "text-fooler", "accuracy_under_attack": 0.5}]}}"#,
        )
        .unwrap();
        let (tickets, dense) = tickets_of_run(&run).unwrap();
        assert_eq!(tickets.len(), 1);
        // Recorded relative to where the pipeline ran: found inside the run folder.
        std::fs::create_dir_all(run.join("retrain")).unwrap();
        std::fs::write(run.join("retrain/ticket.safetensors"), b"t").unwrap();
        assert_eq!(locate(&run, Path::new("runs/pipeline-quick-1/retrain/ticket.safetensors")), run.join("retrain/ticket.safetensors"));
        assert_eq!(tickets[0].attack.as_ref().unwrap()["accuracy_under_attack"], 0.5);
        assert!(dense.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
