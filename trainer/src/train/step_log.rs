//! The per-step log (`steps.jsonl` in a run folder): one JSON line per optimiser step, so a run
//! that goes wrong mid-epoch (a search collapsing to chance) can be read step by step.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// What one step did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 0-based step over the whole run.
    pub step: usize,
    pub epoch: usize,
    /// Mean task loss over the adversarial iterates (or the plain loss).
    pub loss: f64,
    /// Cross-entropy at each adversarial iterate.
    pub iterate_losses: Vec<f64>,
    pub batch_accuracy: f64,
    /// Standard deviation over the batch of each class's logit, averaged over the classes: zero
    /// when the model gives every input the same output (a collapsed search).
    pub logit_spread: f64,
    /// Global norm of the task gradients before clipping.
    pub grad_norm: Option<f64>,
    /// The L0 penalty R (expected density) when gates train.
    pub density: Option<f64>,
    /// lambda of the L0 penalty at this step.
    pub lambda: Option<f64>,
    pub lr: f64,
    pub gate_lr: f64,
}

/// Mean over classes of the per-class standard deviation of `rows` (one row of logits per example).
pub fn logit_spread(rows: &[Vec<f32>]) -> f64 {
    let Some(classes) = rows.first().map(Vec::len).filter(|&c| c > 0) else { return 0.0 };
    let n = rows.len() as f64;
    let per_class = (0..classes).map(|c| {
        let mean = rows.iter().map(|r| r[c] as f64).sum::<f64>() / n;
        (rows.iter().map(|r| (r[c] as f64 - mean).powi(2)).sum::<f64>() / n).sqrt()
    });
    per_class.sum::<f64>() / classes as f64
}

/// Appends step records to a run's `steps.jsonl`.
pub struct StepLog {
    path: PathBuf,
    out: BufWriter<std::fs::File>,
}

impl StepLog {
    /// Opens the log at `path` for a run that has done `steps_done` steps: records of later
    /// steps (written by a killed run after its last checkpoint) are dropped, so a resumed run's
    /// log reads as if it had never stopped.
    pub fn open(path: &Path, steps_done: usize) -> Result<Self> {
        let mut kept = Vec::new();
        if steps_done > 0 && path.exists() {
            let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
            for line in BufReader::new(file).lines() {
                let line = line.with_context(|| format!("reading {}", path.display()))?;
                // A line cut short by the kill does not parse; it is after the checkpoint anyway.
                match serde_json::from_str::<StepRecord>(&line) {
                    Ok(record) if record.step < steps_done => kept.push(line),
                    _ => break,
                }
            }
        }
        // The kept records replace the log in one rename: truncating it in place would lose them
        // to a kill before the next flush (the kill soak found it).
        let kept: String = kept.into_iter().map(|line| line + "\n").collect();
        crate::outputs::write_atomically(path, kept.as_bytes())?;
        let file = std::fs::OpenOptions::new().append(true).open(path).with_context(|| format!("writing {}", path.display()))?;
        Ok(Self { path: path.to_path_buf(), out: BufWriter::new(file) })
    }

    pub fn write(&mut self, record: &StepRecord) -> Result<()> {
        serde_json::to_writer(&mut self.out, record)?;
        writeln!(self.out).with_context(|| format!("writing {}", self.path.display()))
    }

    /// Flushes to disk (at each checkpoint, so the log is whole up to it).
    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().with_context(|| format!("writing {}", self.path.display()))
    }
}

/// The records of a finished or killed run's log.
pub fn read_step_log(path: &Path) -> Result<Vec<StepRecord>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(i, line)| serde_json::from_str(line).with_context(|| format!("{} line {}", path.display(), i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_zero_for_identical_outputs_and_grows_with_them() {
        assert_eq!(logit_spread(&[vec![0.3, -0.2], vec![0.3, -0.2], vec![0.3, -0.2]]), 0.0);
        let spread = logit_spread(&[vec![1.0, -1.0], vec![-1.0, 1.0]]);
        assert!((spread - 1.0).abs() < 1e-12, "{spread}");
    }

    #[test]
    fn a_resumed_log_keeps_the_steps_before_the_checkpoint_even_if_killed_at_once() {
        let dir = std::env::temp_dir().join(format!("rticket-step-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("steps.jsonl");
        let record = |step| StepRecord {
            step,
            epoch: 1 + step / 2,
            loss: 0.5,
            iterate_losses: vec![0.5],
            batch_accuracy: 1.0,
            logit_spread: 0.1,
            grad_norm: Some(1.0),
            density: None,
            lambda: None,
            lr: 1e-3,
            gate_lr: 0.0,
        };
        let mut log = StepLog::open(&path, 0).unwrap();
        (0..5).for_each(|s| log.write(&record(s)).unwrap());
        log.flush().unwrap();
        drop(log);
        // Resumed at step 3, then killed before it wrote or flushed anything (no Drop runs).
        std::mem::forget(StepLog::open(&path, 3).unwrap());
        assert_eq!(read_step_log(&path).unwrap(), (0..3).map(record).collect::<Vec<_>>());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "a temporary file is left beside the log");
        // And it appends after them.
        let mut log = StepLog::open(&path, 3).unwrap();
        log.write(&record(3)).unwrap();
        log.flush().unwrap();
        assert_eq!(read_step_log(&path).unwrap(), (0..4).map(record).collect::<Vec<_>>());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
