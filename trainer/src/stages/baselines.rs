//! The paper's baselines at the ticket's sparsity: random pruning and IMP (the lottery ticket
//! of Chen et al. 2020: 10% of the remaining weights per round by global magnitude, rewinding
//! to the pre-trained weights), each retrained; and FreeLB adversarial fine-tuning.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rticket_core::SequenceClassifier;
use rticket_core::mask::draw_global;
use rticket_core::model::to_hf_order;
use rticket_core::ticket::{pack_bits, unpack_bits};

use super::{StageSettings, StageSummary, run_retrain};
use crate::cli::Preset;
use crate::model_files::ModelFiles;
use crate::train::{AdversarialConfig, Selection};

/// Fraction of the remaining weights IMP prunes per round.
pub const IMP_RATE: f64 = 0.1;

/// The gated matrices' HF shapes `[out, in]`, in gated order.
pub fn gated_shapes(files: &ModelFiles, device: &Device) -> Result<Vec<[usize; 2]>> {
    let encoder = files.encoder(device)?;
    Ok(encoder.dense_layers().iter().map(|(_, d)| [d.shape()[1], d.shape()[0]]).collect())
}

/// FreeLB adversarial fine-tuning: the fine-tuning settings `base` with the adversary
/// (K = 2 steps in the quick preset, PAPER.md's 5 otherwise), ascending by `eta` when given
/// instead of FreeLB's own 0.03 (e.g. the search's eta, for an adversary of the same size).
pub fn freelb_settings(base: &StageSettings, eta: Option<f64>) -> StageSettings {
    let mut settings = base.clone();
    let steps = if base.preset == Preset::Quick { 2 } else { 5 };
    let own = AdversarialConfig::default();
    settings.fit.objective.adversarial = Some(AdversarialConfig { steps, step_size: eta.unwrap_or(own.step_size), ..own });
    settings
}

/// Masks keeping a uniformly random `1 - sparsity` of the gated weights (global, exact count).
pub fn random_masks(shapes: &[[usize; 2]], sparsity: f64, seed: u64) -> Vec<Vec<bool>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let scores: Vec<Vec<f32>> = shapes.iter().map(|[o, i]| (0..o * i).map(|_| rng.random::<f32>()).collect()).collect();
    let slices: Vec<&[f32]> = scores.iter().map(Vec::as_slice).collect();
    draw_global(&slices, sparsity)
}

/// The sparsities IMP passes through on its way to `target`: 1 - 0.9^r, the last capped.
pub fn imp_schedule(target: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut s: f64 = 0.0;
    while s < target - 1e-9 {
        s = (1.0 - (1.0 - s) * (1.0 - IMP_RATE)).min(target);
        out.push(s);
    }
    out
}

/// Gated weights' magnitudes in HF `[out, in]` order, pruned ones at -1 so they stay pruned.
fn magnitudes(model: &SequenceClassifier, masks: &[Vec<bool>]) -> Result<Vec<Vec<f32>>> {
    model
        .bert
        .dense_layers()
        .into_iter()
        .zip(masks)
        .map(|((_, dense), mask)| {
            let weights = to_hf_order(dense.weight.val())?;
            Ok(weights.iter().zip(mask).map(|(w, &k)| if k { w.abs() } else { -1.0 }).collect())
        })
        .collect()
}

/// One finished IMP round: the folder holding its pruned masks and metrics (its own, or the same
/// round of another run it shares, [`SharedImpRun`]) and its training summary.
pub struct ImpRound {
    pub dir: PathBuf,
    pub summary: StageSummary,
}

/// Another IMP run with the same settings whose finished rounds a run may read instead of training
/// them again: a round depends only on the sparsities IMP passed through before it, so a run to 50%
/// repeats exactly the first three rounds (10%, 19%, 27.1%) of one to 30%.
pub struct SharedImpRun {
    pub target: f64,
    pub dir: PathBuf,
}

/// Runs IMP to `target` sparsity: train under the current mask from the pre-trained weights,
/// prune by global magnitude, rewind; each round in `out/round-<r>`, which keeps the round's
/// pruned masks (`pruned-masks.bin`, bit-packed) so that a resumed run skips finished rounds,
/// and (when resuming) reads the rounds it has in common with a run in `shared`.
/// Returns the final masks.
#[allow(clippy::too_many_arguments)]
pub fn imp_masks(
    settings: &StageSettings,
    shapes: &[[usize; 2]],
    target: f64,
    out: &Path,
    shared: &[SharedImpRun],
    resume: bool,
    device: &Device,
    device_name: &str,
) -> Result<(Vec<Vec<bool>>, Vec<ImpRound>)> {
    let mut masks: Vec<Vec<bool>> = shapes.iter().map(|[o, i]| vec![true; o * i]).collect();
    let mut rounds = Vec::new();
    // A round's model only ranks the weights for the next mask; what IMP keeps is the final
    // retraining's, which selects as the caller's settings say.
    let mut settings = settings.clone();
    settings.fit.selection = Selection::DevAccuracy;
    let settings = &settings;
    let schedule = imp_schedule(target);
    for (round, &sparsity) in schedule.iter().enumerate() {
        let dir = out.join(format!("round-{round}"));
        let finished = match resume {
            true if dir.join(PRUNED_MASKS).exists() => Some(dir.clone()),
            true => shared_round(&schedule, round, shared),
            false => None,
        };
        if let Some(done) = finished {
            masks = read_masks(&done.join(PRUNED_MASKS), shapes)?;
            let summary = StageSummary::read(&done).with_context(|| format!("a finished IMP round ({}) lost its metrics.json", done.display()))?;
            if done != dir {
                eprintln!("IMP round {round}: the same as {}, read from there", done.display());
            }
            rounds.push(ImpRound { dir: done, summary });
            continue;
        }
        // Killed after the round's training but before its masks were saved: the checkpoint
        // still holds the trained model, so the round resumes at its end.
        if resume && dir.join("metrics.json").exists() && dir.join("checkpoint").exists() {
            StageSummary::reopen(&dir)?;
        }
        let (_, summary, trained) = run_retrain(settings, &masks, false, &dir, resume, device, device_name)?;
        let scores = magnitudes(&trained, &masks)?;
        let slices: Vec<&[f32]> = scores.iter().map(Vec::as_slice).collect();
        masks = draw_global(&slices, sparsity);
        let packed: Vec<u8> = masks.iter().flat_map(|m| pack_bits(m)).collect();
        crate::outputs::RunDir { path: dir.clone() }.write(PRUNED_MASKS, &packed)?;
        // The round's checkpoint is not needed once its masks are saved (hundreds of MB).
        let _ = std::fs::remove_dir_all(dir.join("checkpoint"));
        eprintln!("IMP round {round}: trained at the previous mask, pruned to {:.1}%", 100.0 * sparsity);
        rounds.push(ImpRound { dir, summary });
    }
    Ok((masks, rounds))
}

/// The folder of round `round` of a run in `shared` that has finished it and passed through the
/// same sparsities as `schedule` up to and including it.
fn shared_round(schedule: &[f64], round: usize, shared: &[SharedImpRun]) -> Option<PathBuf> {
    shared.iter().find_map(|other| {
        let theirs = imp_schedule(other.target);
        let dir = other.dir.join(format!("round-{round}"));
        let same_path = theirs.len() > round && theirs[..=round] == schedule[..=round];
        (same_path && dir.join(PRUNED_MASKS).exists()).then_some(dir)
    })
}

/// File name of an IMP round's pruned masks.
const PRUNED_MASKS: &str = "pruned-masks.bin";

/// Reads masks written by [`imp_masks`] (each matrix bit-packed on its own, in order).
fn read_masks(path: &Path, shapes: &[[usize; 2]]) -> Result<Vec<Vec<bool>>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let expected: usize = shapes.iter().map(|[o, i]| (o * i).div_ceil(8)).sum();
    if bytes.len() != expected {
        bail!("{} holds {} bytes, not the {expected} of these masks: delete its round folder to redo the round", path.display(), bytes.len());
    }
    let mut offset = 0;
    Ok(shapes
        .iter()
        .map(|[o, i]| {
            let n = (o * i).div_ceil(8);
            let mask = unpack_bits(&bytes[offset..offset + n], o * i);
            offset += n;
            mask
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imp_prunes_ten_percent_of_what_remains_and_stops_at_the_target() {
        let s = imp_schedule(0.3);
        assert_eq!(s.len(), 4);
        assert!((s[0] - 0.1).abs() < 1e-12 && (s[1] - 0.19).abs() < 1e-12 && (s[2] - 0.271).abs() < 1e-12);
        assert_eq!(*s.last().unwrap(), 0.3);
        assert!(imp_schedule(0.0).is_empty());
    }

    #[test]
    fn imp_reads_only_the_finished_rounds_another_run_passed_through_the_same_way() {
        let root = std::env::temp_dir().join(format!("rticket-imp-shared-{}", std::process::id()));
        let thirty = root.join("imp-30");
        for round in 0..4 {
            std::fs::create_dir_all(thirty.join(format!("round-{round}"))).unwrap();
            std::fs::write(thirty.join(format!("round-{round}")).join(PRUNED_MASKS), [0u8]).unwrap();
        }
        let shared = [SharedImpRun { target: 0.3, dir: thirty.clone() }];
        let fifty = imp_schedule(0.5);
        // 10%, 19%, 27.1% are common; the 30% run's last round prunes to 30%, the 50% run's to 34.4%.
        for round in 0..3 {
            assert_eq!(shared_round(&fifty, round, &shared), Some(thirty.join(format!("round-{round}"))));
        }
        assert_eq!(shared_round(&fifty, 3, &shared), None);
        assert_eq!(shared_round(&fifty, 5, &shared), None);
        // An unfinished round (no pruned masks yet) is not read.
        std::fs::remove_file(thirty.join("round-2").join(PRUNED_MASKS)).unwrap();
        assert_eq!(shared_round(&fifty, 2, &shared), None);
        // A shorter run's rounds all come from a longer one that passed through the same sparsities.
        assert_eq!(shared_round(&imp_schedule(0.271), 1, &shared), Some(thirty.join("round-1")));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn random_masks_hit_the_sparsity_and_depend_on_the_seed() {
        let shapes = [[10, 20], [5, 7]];
        let a = random_masks(&shapes, 0.3, 1);
        let kept: usize = a.iter().flatten().filter(|k| **k).count();
        assert_eq!(kept, ((1.0 - 0.3) * 235.0f64).round() as usize);
        assert_eq!(a, random_masks(&shapes, 0.3, 1));
        assert_ne!(a, random_masks(&shapes, 0.3, 2));
    }
}
