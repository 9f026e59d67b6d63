//! The paper's baselines at the ticket's sparsity: random pruning and IMP (the lottery ticket
//! of Chen et al. 2020: 10% of the remaining weights per round by global magnitude, rewinding
//! to the pre-trained weights), each retrained; and FreeLB adversarial fine-tuning.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rticket_core::{SequenceClassifier, Weights};
use rticket_core::mask::draw_global;
use rticket_core::model::to_hf_order;
use rticket_core::ticket::{pack_bits, unpack_bits};
use safetensors::{Dtype, tensor::TensorView};

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
    draw_global(&scores, sparsity)
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
            true => shared_round(&schedule, round, shared, PRUNED_MASKS),
            false => None,
        };
        if let Some(done) = finished {
            masks = read_masks(&done.join(PRUNED_MASKS), shapes)?;
            let summary = finished_round_summary(&done)?;
            if done != dir {
                eprintln!("IMP round {round}: the same as {}, read from there", done.display());
            }
            rounds.push(ImpRound { dir: done, summary });
            continue;
        }
        // Another run's last round trained at this round's mask and pruned less far: its
        // ranking prunes to this round's sparsity without training the round again.
        if let Some(trained) = resume.then(|| shared_round(&schedule, round, shared, ROUND_RANKING)).flatten() {
            let scores = read_ranking(&trained.join(ROUND_RANKING), shapes)?;
            let summary = finished_round_summary(&trained)?;
            masks = draw_global(&scores, sparsity);
            eprintln!("IMP round {round}: trained as {} was, pruned by its ranking to {:.1}%", trained.display(), 100.0 * sparsity);
            rounds.push(ImpRound { dir: trained, summary });
            continue;
        }
        // Killed after the round's training but before its masks were saved: the checkpoint
        // still holds the trained model, so the round resumes at its end.
        if resume && dir.join("metrics.json").exists() && dir.join("checkpoint").exists() {
            StageSummary::reopen(&dir)?;
        }
        let (_, summary, trained) = run_retrain(settings, &masks, false, &dir, resume, device, device_name)?;
        let scores = magnitudes(&trained, &masks)?;
        masks = draw_global(&scores, sparsity);
        let packed: Vec<u8> = masks.iter().flat_map(|m| pack_bits(m)).collect();
        let run = crate::outputs::RunDir { path: dir.clone() };
        if round + 1 == schedule.len() {
            run.write(ROUND_RANKING, &ranking_bytes(&scores, shapes)?)?;
        }
        run.write(PRUNED_MASKS, &packed)?;
        // The round's checkpoint is not needed once its masks are saved (hundreds of MB).
        let _ = std::fs::remove_dir_all(dir.join("checkpoint"));
        eprintln!("IMP round {round}: trained at the previous mask, pruned to {:.1}%", 100.0 * sparsity);
        rounds.push(ImpRound { dir, summary });
    }
    Ok((masks, rounds))
}

/// The folder of round `round` of a run in `shared` that holds `file` and trained the round at the
/// same mask: it passed through the same sparsities as `schedule` before the round, and, for
/// [`PRUNED_MASKS`], pruned to the same one in it.
fn shared_round(schedule: &[f64], round: usize, shared: &[SharedImpRun], file: &str) -> Option<PathBuf> {
    let through = if file == PRUNED_MASKS { round + 1 } else { round };
    shared.iter().find_map(|other| {
        let theirs = imp_schedule(other.target);
        let dir = other.dir.join(format!("round-{round}"));
        let same_path = theirs.len() > round && theirs[..through] == schedule[..through];
        (same_path && dir.join(file).exists()).then_some(dir)
    })
}

/// The training summary of a finished IMP round, this run's or a shared one.
fn finished_round_summary(dir: &Path) -> Result<StageSummary> {
    StageSummary::read(dir).with_context(|| format!("a finished IMP round ({}) lost its metrics.json", dir.display()))
}

/// File name of an IMP round's pruned masks.
const PRUNED_MASKS: &str = "pruned-masks.bin";

/// File name of the magnitudes the last round of an IMP run ranked the weights by (safetensors,
/// `magnitude.<i>` per gated matrix in HF order, pruned weights at -1). Only a run's last round
/// is capped at its target; a run to a higher sparsity trains the same round at the same mask
/// and prunes further, so it reads these instead of training the round again (~40 MB for MiniLM).
const ROUND_RANKING: &str = "ranking.safetensors";

/// Serialises a round's magnitudes as [`ROUND_RANKING`].
fn ranking_bytes(scores: &[Vec<f32>], shapes: &[[usize; 2]]) -> Result<Vec<u8>> {
    let data: Vec<Vec<u8>> = scores.iter().map(|s| s.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let views = data
        .iter()
        .zip(shapes)
        .enumerate()
        .map(|(i, (bytes, &[o, n]))| Ok((format!("magnitude.{i}"), TensorView::new(Dtype::F32, vec![o, n], bytes)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(safetensors::serialize(views, None)?)
}

/// Reads a [`ROUND_RANKING`] file, checked against `shapes`.
fn read_ranking(path: &Path, shapes: &[[usize; 2]]) -> Result<Vec<Vec<f32>>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let redo = || format!("{} is not the ranking of these masks: delete it to train the round again", path.display());
    let file = Weights::from_bytes(&bytes).with_context(redo)?;
    if file.tensor_count() != shapes.len() {
        bail!("{} ranks {} matrices, not {}: delete it to train the round again", path.display(), file.tensor_count(), shapes.len());
    }
    shapes.iter().enumerate().map(|(i, &[o, n])| file.values(&format!("magnitude.{i}"), &[o, n]).with_context(redo)).collect()
}

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
            assert_eq!(shared_round(&fifty, round, &shared, PRUNED_MASKS), Some(thirty.join(format!("round-{round}"))));
        }
        assert_eq!(shared_round(&fifty, 3, &shared, PRUNED_MASKS), None);
        assert_eq!(shared_round(&fifty, 5, &shared, PRUNED_MASKS), None);
        // An unfinished round (no pruned masks yet) is not read.
        std::fs::remove_file(thirty.join("round-2").join(PRUNED_MASKS)).unwrap();
        assert_eq!(shared_round(&fifty, 2, &shared, PRUNED_MASKS), None);
        // A shorter run's rounds all come from a longer one that passed through the same sparsities.
        assert_eq!(shared_round(&imp_schedule(0.271), 1, &shared, PRUNED_MASKS), Some(thirty.join("round-1")));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn imp_prunes_from_the_ranking_of_a_last_round_trained_at_the_same_mask() {
        let root = std::env::temp_dir().join(format!("rticket-imp-ranking-{}", std::process::id()));
        let thirty = root.join("imp-30");
        let shapes = [[3, 4], [2, 5]];
        let scores = vec![(0..12).map(|v| v as f32).collect::<Vec<_>>(), vec![-1.0, 20.0, 0.5, 7.0, 11.5, 3.0, -1.0, 9.0, 1.0, 2.0]];
        for round in 0..4 {
            std::fs::create_dir_all(thirty.join(format!("round-{round}"))).unwrap();
        }
        // The 30% run's last round (trained at the 27.1% mask, pruned to 30%) keeps its ranking.
        std::fs::write(thirty.join("round-3").join(ROUND_RANKING), ranking_bytes(&scores, &shapes).unwrap()).unwrap();
        let shared = [SharedImpRun { target: 0.3, dir: thirty.clone() }];
        let fifty = imp_schedule(0.5);
        // The 50% run trains its round 3 at the same 27.1% mask: it prunes from that ranking to 34.4%.
        assert_eq!(shared_round(&fifty, 3, &shared, ROUND_RANKING), Some(thirty.join("round-3")));
        assert_eq!(shared_round(&fifty, 3, &shared, PRUNED_MASKS), None, "the pruned masks are the 30% run's, not the 50% run's");
        // Rounds without a ranking, and rounds the 30% run never trained, are not read.
        assert_eq!(shared_round(&fifty, 2, &shared, ROUND_RANKING), None);
        assert_eq!(shared_round(&fifty, 4, &shared, ROUND_RANKING), None);
        // A run capped earlier (two rounds: 10%, 15%) trained its round 1 at the same 10% mask.
        std::fs::write(thirty.join("round-1").join(ROUND_RANKING), ranking_bytes(&scores, &shapes).unwrap()).unwrap();
        let fifteen = [SharedImpRun { target: 0.15, dir: thirty.clone() }];
        assert_eq!(shared_round(&fifty, 1, &fifteen, ROUND_RANKING), Some(thirty.join("round-1")));

        // The ranking reads back exactly, so the pruning equals the one after training the round.
        let path = thirty.join("round-3").join(ROUND_RANKING);
        assert_eq!(read_ranking(&path, &shapes).unwrap(), scores);
        let err = read_ranking(&path, &[[4, 3], [2, 5]]).unwrap_err();
        assert!(format!("{err:#}").contains("delete it to train the round again"), "{err:#}");
        let err = read_ranking(&path, &shapes[..1]).unwrap_err();
        assert!(format!("{err:#}").contains("ranks 2 matrices, not 1"), "{err:#}");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 9]).unwrap();
        let err = read_ranking(&path, &shapes).unwrap_err();
        assert!(format!("{err:#}").contains("is not the ranking of these masks: delete it"), "truncated: {err:#}");
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
