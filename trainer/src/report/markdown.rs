//! The report's markdown, derived from the records alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use rticket_core::attack::Recipe;

use super::records::Records;
use super::stats::{cell, mean_sd, points, without_noise};
use crate::data::DatasetName;
use crate::reproduce::{AttackRecord, DatasetKey, Method, Phase, Plan, SAME_SPARSITY, serde_name};

/// Names of the report's rows.
pub fn method_name(method: &str) -> &str {
    match method {
        "fine-tune" => "Fine-tune",
        "imp" => "IMP (lottery ticket)",
        "random" => "Random pruning",
        "freelb" => "FreeLB",
        "robust-ticket" => "Robust ticket (paper pipeline)",
        "mask-only" => "Robust ticket (mask-only)",
        "no-adversary" => "Search without the adversarial loss",
        "reinit" => "Robust ticket mask, re-initialised weights",
        other => other,
    }
}

/// The records' key of the movie-review documents (the `documents` phase).
fn documents_key() -> DatasetKey {
    DatasetName::MovieReviews.into()
}

/// The headline table's rows, in the paper's order.
const HEADLINE: [Method; 6] = [Method::FineTune, Method::Imp, Method::Random, Method::Freelb, Method::RobustTicket, Method::MaskOnly];

/// The whole report.
pub fn render(records: &Records, plots: &[(&str, &str)], findings: Option<&str>) -> String {
    let mut r = String::new();
    let plan = &records.plan;
    let mr = records.plan.main_key();
    let _ = writeln!(r, "# Reproduction: robust tickets for all-MiniLM-L6-v2\n");
    if let Some(findings) = findings {
        let _ = writeln!(r, "{}\n", findings.trim_end());
    }
    let _ = writeln!(
        r,
        "{} by `rticket report` from the JSON records in [`data/`](data/) that `rticket reproduce` writes; \
         not edited by hand (`cargo test` fails when this file and the records disagree). Hand-written analysis: \
         [`NOTES.md`](NOTES.md).\n",
        if findings.is_some() { "Everything below is generated" } else { "Generated" }
    );
    super::setup::setup(&mut r, records);
    verdict(&mut r, records);
    let shown = Sections::of(records, plots);
    if shown.core {
        headline(&mut r, records, &mr, plan.sparsity, &HEADLINE);
    }
    if shown.recipes {
        other_recipes(&mut r, records, plan);
    }
    if shown.core {
        ablations(&mut r, records, plan);
        gate_movement(&mut r, records, plan);
    }
    if shown.sweep {
        sweep(&mut r, records, plots);
    }
    density(&mut r, plots);
    if shown.documents {
        documents(&mut r, records, plan);
    }
    shown.left_out(&mut r, plan);
    tickets(&mut r, records);
    set_aside(&mut r, records);
    wall_time(&mut r, records);
    r
}

/// Which phases' sections the report has: those the plan runs, and any other with records. A
/// side experiment runs a phase or two; the others' tables would be empty.
struct Sections {
    core: bool,
    sweep: bool,
    recipes: bool,
    documents: bool,
}

impl Sections {
    fn of(records: &Records, plots: &[(&str, &str)]) -> Self {
        let plan = &records.plan;
        let mr = records.plan.main_key();
        let planned = |phase| plan.phases.contains(&phase);
        let swept = plan.sweep.iter().any(|&s| SWEEP.iter().any(|m| !records.models(&mr, m.key(), s).is_empty()));
        Self {
            core: planned(Phase::Core) || !records.seeds(&mr).is_empty(),
            // A sparsity plot drawn from the table's sparsity alone is shown with its table.
            sweep: planned(Phase::Sweep) || swept || plots.iter().any(|(f, _)| f.starts_with("sparsity")),
            recipes: planned(Phase::Recipes) || Plan::EXTRA_RECIPES.iter().any(|&recipe| records.attack_set(&mr, recipe).is_some()),
            documents: planned(Phase::Documents) || !records.seeds(&documents_key()).is_empty(),
        }
    }

    /// One line naming the phases left out, so that their absence reads as a choice.
    fn left_out(&self, r: &mut String, plan: &Plan) {
        let omitted: Vec<String> = [
            (self.core, format!("`core` (the {} table and the ablations)", plan.main_name())),
            (self.recipes, "`recipes` (the other attacks)".into()),
            (self.sweep, "`sweep` (accuracy against sparsity)".into()),
            (self.documents, "`documents` (the movie-review documents)".into()),
        ]
        .into_iter()
        .filter_map(|(shown, name)| (!shown).then_some(name))
        .collect();
        if !omitted.is_empty() {
            let _ = writeln!(r, "Not in this plan, and no records: phase(s) {}.\n", omitted.join(", "));
        }
    }
}

fn aua(attacks: &[&AttackRecord]) -> Vec<f64> {
    attacks.iter().map(|a| a.summary.accuracy_under_attack).collect()
}

/// The bar: several points (3) above the baseline under TextFooler, clean accuracy
/// within 1.5 points.
fn bar_met(points_under_attack: f64, points_clean: f64) -> bool {
    points_under_attack >= 3.0 && points_clean >= -1.5
}

/// The MR table's bar: [`bar_met`] against fine-tuning, and several points above IMP under attack.
fn table_bar_met(over_fine_tuning: f64, over_imp: f64, clean: f64) -> bool {
    bar_met(over_fine_tuning, clean) && over_imp >= 3.0
}

/// (accuracy under TextFooler, clean test accuracy) of one method by seed, for the seeds
/// where it has both a model and its TextFooler record on `examples` test examples.
fn by_seed(records: &Records, dataset: &DatasetKey, method: Method, sparsity: f64, examples: usize) -> BTreeMap<u64, (f64, f64)> {
    let attacks = records.attacks(dataset, method.key(), sparsity, Recipe::TextFooler, examples);
    records
        .models(dataset, method.key(), sparsity)
        .into_iter()
        .filter_map(|m| attacks.iter().find(|a| a.seed == m.seed).map(|a| (m.seed, (a.summary.accuracy_under_attack, m.test_accuracy))))
        .collect()
}

fn verdict(r: &mut String, records: &Records) {
    let _ = writeln!(r, "## Does the robust ticket show the paper's effect?\n");
    let documents = records.attack_set(&documents_key(), Recipe::TextFooler);
    match records.attack_set(&records.plan.main_key(), Recipe::TextFooler) {
        Some(n) => mr_verdict(r, records, n),
        None if documents.is_none() => {
            let _ = writeln!(r, "No TextFooler records yet.\n");
        }
        None if records.plan.phases.contains(&Phase::Core) => {
            let _ = writeln!(r, "{}: no TextFooler records yet.\n", records.plan.main_name());
        }
        None => {}
    }
    if let Some(n) = documents {
        documents_verdict(r, records, n);
    }
}

/// The documents' row: fine-tuning against the robust ticket, seed by seed (few seeds, and
/// their differences disagree more than on MR, so each is shown).
fn documents_verdict(r: &mut String, records: &Records, examples: usize) {
    let docs = &documents_key();
    let s = records.plan.document_sparsity;
    let ticket = by_seed(records, docs, Method::RobustTicket, s, examples);
    let tuned = by_seed(records, docs, Method::FineTune, 0.0, examples);
    let seeds: Vec<u64> = ticket.keys().copied().filter(|seed| tuned.contains_key(seed)).collect();
    if seeds.is_empty() {
        let _ = writeln!(r, "Movie-review documents: no seed has both the robust ticket's and fine-tuning's TextFooler records yet.\n");
        return;
    }
    // Points the ticket gains (under attack, clean) on each seed.
    let gains: Vec<(u64, f64, f64)> =
        seeds.iter().map(|seed| (*seed, points(ticket[seed].0, tuned[seed].0), points(ticket[seed].1, tuned[seed].1))).collect();
    let each = gains.iter().map(|(seed, attack, clean)| format!("seed {seed} {attack:+.2} / {clean:+.2}")).collect::<Vec<_>>().join(", ");
    let mean = |pick: fn(&(u64, f64, f64)) -> f64| without_noise(gains.iter().map(pick).sum::<f64>() / gains.len() as f64);
    let (attack, clean) = (mean(|g| g.1), mean(|g| g.2));
    let _ = writeln!(
        r,
        "Movie-review documents: robust ticket (paper pipeline, {:.0}%) against fine-tuning, points under TextFooler / clean on each \
         seed both have: {each}; mean {attack:+.2} under attack, {clean:+.2} clean over {} seed(s). The same bar: **{}**.\n",
        100.0 * s,
        seeds.len(),
        if bar_met(attack, clean) { "met" } else { "not met" }
    );
}

fn mr_verdict(r: &mut String, records: &Records, n: usize) {
    let plan = &records.plan;
    let mr = records.plan.main_key();
    let s = plan.sparsity;
    let methods = [(Method::RobustTicket, s), (Method::FineTune, 0.0), (Method::Imp, s)];
    // Only seeds where all three have a model and its TextFooler record: a mean over other
    // seeds for one method than for another would compare different draws.
    let per_seed = |method: Method, sparsity: f64| by_seed(records, &mr, method, sparsity, n);
    let tables: Vec<BTreeMap<u64, (f64, f64)>> = methods.iter().map(|&(m, sp)| per_seed(m, sp)).collect();
    let seeds: Vec<u64> = tables[0].keys().copied().filter(|seed| tables.iter().all(|t| t.contains_key(seed))).collect();
    // (accuracy under attack, clean accuracy) of one method, averaged over `on` (all in `table`).
    let mean = |table: &BTreeMap<u64, (f64, f64)>, on: &[u64]| {
        let pick = |f: fn(&(f64, f64)) -> f64| mean_sd(&on.iter().map(|seed| f(&table[seed])).collect::<Vec<_>>()).map(|m| m.0);
        pick(|v| v.0).zip(pick(|v| v.1))
    };
    let (Some((rt_aua, rt_clean)), Some((ft_aua, ft_clean)), Some((imp_aua, _))) =
        (mean(&tables[0], &seeds), mean(&tables[1], &seeds), mean(&tables[2], &seeds))
    else {
        let _ = writeln!(r, "No verdict: the robust ticket, fine-tuning and IMP have no TextFooler records on a common seed in this folder \
             (a reproduction still running, or one run with `--methods` for part of the table).\n");
        return;
    };
    let (vs_ft, vs_imp, clean) = (points(rt_aua, ft_aua), points(rt_aua, imp_aua), points(rt_clean, ft_clean));
    let met = table_bar_met(vs_ft, vs_imp, clean);
    let _ = writeln!(
        r,
        "Robust ticket (paper pipeline, {:.0}%) against fine-tuning, means over the {} seed(s) all three have: TextFooler accuracy under attack \
         {vs_ft:+.2} points (against IMP {vs_imp:+.2}), clean test accuracy {clean:+.2} points. The issue's bar (several points \
         above fine-tuning and IMP under TextFooler, clean accuracy within 1.5 points): **{}**.\n",
        100.0 * s,
        seeds.len(),
        if met { "met" } else { "not met" }
    );
    if seeds.len() > 1 {
        per_seed_margins(r, &tables, &seeds);
    }
    // Models of different clean accuracy are easier compared by how often the attack flips a
    // correct prediction; on the same seeds as the comparison it goes with.
    // A method with records on only some of `on` is averaged over those, and says how many.
    let success = |method: Method, sparsity: f64, on: &[u64]| {
        let attacks = records.attacks(&mr, method.key(), sparsity, Recipe::TextFooler, n);
        let rates: Vec<f64> = attacks.iter().filter(|a| on.contains(&a.seed)).map(|a| a.summary.success_rate).collect();
        let partial = if rates.len() < on.len() { format!(" ({} of {} seeds)", rates.len(), on.len()) } else { String::new() };
        mean_sd(&rates).map_or("–".to_string(), |(m, _)| format!("{:.1}%{partial}", 100.0 * m))
    };
    let _ = writeln!(
        r,
        "TextFooler's success rate (correct predictions it flips), on the same seeds: robust ticket {}, fine-tune {}, IMP {}, FreeLB {}, random {}.\n",
        success(Method::RobustTicket, s, &seeds),
        success(Method::FineTune, 0.0, &seeds),
        success(Method::Imp, s, &seeds),
        success(Method::Freelb, 0.0, &seeds),
        success(Method::Random, s, &seeds)
    );
    // The ticket against another model on the seeds both have (those may be fewer than the
    // verdict's: a baseline or an ablation run for part of the seeds).
    // `described` opens the sentence, `short` names the other model's figures, `missing` it when it has none.
    let against = |method: Method, sparsity: f64, question: &str, described: &str, short: &str, missing: &str| {
        let table = per_seed(method, sparsity);
        let paired: Vec<u64> = tables[0].keys().copied().filter(|seed| table.contains_key(seed)).collect();
        let (Some((rt_aua, rt_clean)), Some((o_aua, o_clean))) = (mean(&tables[0], &paired), mean(&table, &paired)) else {
            return format!("{question} Not known yet: {missing} has no TextFooler records on the robust ticket's seeds.\n");
        };
        let (vs_aua, vs_clean) = (points(rt_aua, o_aua), points(rt_clean, o_clean));
        let [rt_aua, rt_clean, o_aua, o_clean] = [rt_aua, rt_clean, o_aua, o_clean].map(|v| 100.0 * v);
        format!(
            "{question} {described}, means over the {} seed(s) both have: robust ticket {rt_clean:.1} clean / {rt_aua:.1} under TextFooler \
             (success {}), {short} {o_clean:.1} / {o_aua:.1} ({}): {vs_aua:+.2} points under attack, {vs_clean:+.2} clean.\n",
            paired.len(),
            success(Method::RobustTicket, s, &paired),
            success(method, sparsity, &paired)
        )
    };
    // The paper's other defence: adversarial training of the dense model, no pruning.
    let _ = writeln!(
        r,
        "{}",
        against(Method::Freelb, 0.0, "Against adversarial training?", "FreeLB (the dense model trained against the FreeLB adversary)", "FreeLB", "FreeLB")
    );
    // The control with the search's own data and steps: only the adversarial term differs.
    let _ = writeln!(
        r,
        "{}",
        against(
            Method::NoAdversary,
            s,
            "Is it the adversarial loss?",
            "The same search without it (same data, steps and draw)",
            "without the adversary",
            "the search without it"
        )
    );
}

/// The verdict's margins seed by seed: a mean over few seeds can rest on one of them, so each
/// seed's differences are shown and how many clear the bar alone. `tables` are the robust
/// ticket's, fine-tuning's and IMP's (accuracy under TextFooler, clean) by seed.
fn per_seed_margins(r: &mut String, tables: &[BTreeMap<u64, (f64, f64)>], seeds: &[u64]) {
    let margins: Vec<(u64, f64, f64, f64)> = seeds
        .iter()
        .map(|seed| {
            let (rt, ft, imp) = (tables[0][seed], tables[1][seed], tables[2][seed]);
            (*seed, points(rt.0, ft.0), points(rt.0, imp.0), points(rt.1, ft.1))
        })
        .collect();
    let each = margins
        .iter()
        .map(|(seed, vs_ft, vs_imp, clean)| format!("seed {seed} {vs_ft:+.2} / {vs_imp:+.2} / {clean:+.2}"))
        .collect::<Vec<_>>()
        .join(", ");
    let alone = margins.iter().filter(|(_, vs_ft, vs_imp, clean)| table_bar_met(*vs_ft, *vs_imp, *clean)).count();
    let above = margins.iter().filter(|(_, vs_ft, vs_imp, _)| *vs_ft > 0.0 && *vs_imp > 0.0).count();
    let _ = writeln!(
        r,
        "Seed by seed (points under TextFooler over fine-tuning / over IMP / clean over fine-tuning): {each}. The ticket is above both \
         under attack on {above} of {} seeds; the bar is met by {alone} of them taken alone.\n",
        seeds.len()
    );
}

fn headline(r: &mut String, records: &Records, dataset: &DatasetKey, sparsity: f64, methods: &[Method]) {
    let tf = records.attack_set(dataset, Recipe::TextFooler);
    let name = if *dataset == documents_key() {
        "Movie-review documents".to_string()
    } else if records.plan.data == DatasetName::Mr.into() {
        "MR sentences".to_string()
    } else {
        records.plan.main_name()
    };
    let _ = writeln!(
        r,
        "## {name}, {:.0}% sparsity: clean accuracy and TextFooler ({} test examples)\n",
        100.0 * sparsity,
        tf.map_or("no".to_string(), |n| n.to_string())
    );
    let _ = writeln!(r, "| method | sparsity | seeds | clean dev | clean test | TextFooler Aua | Suc | #Query |");
    let _ = writeln!(r, "|---|---|---|---|---|---|---|---|");
    for &method in methods {
        let s = method.sparsity_at(sparsity);
        let models = records.models(dataset, method.key(), s);
        let attacks = tf.map(|n| records.attacks(dataset, method.key(), s, Recipe::TextFooler, n)).unwrap_or_default();
        // While a reproduction runs, a model can be trained and not yet attacked: the attack
        // columns then average fewer seeds than the clean ones, and the row says so.
        let seeds = if attacks.is_empty() || attacks.len() == models.len() {
            models.len().to_string()
        } else {
            format!("{} ({} attacked)", models.len(), attacks.len())
        };
        let _ = writeln!(
            r,
            "| {} | {:.0}% | {} | {} | {} | {} | {} | {} |",
            method_name(method.key()),
            100.0 * s,
            seeds,
            cell(&models.iter().map(|m| m.dev_accuracy).collect::<Vec<_>>(), 100.0, 1),
            cell(&models.iter().map(|m| m.test_accuracy).collect::<Vec<_>>(), 100.0, 1),
            cell(&aua(&attacks), 100.0, 1),
            cell(&attacks.iter().map(|a| a.summary.success_rate).collect::<Vec<_>>(), 100.0, 1),
            cell(&attacks.iter().map(|a| a.summary.mean_queries).collect::<Vec<_>>(), 1.0, 1),
        );
    }
    let _ = writeln!(r);
}

fn other_recipes(r: &mut String, records: &Records, plan: &Plan) {
    let mr = records.plan.main_key();
    let _ = writeln!(r, "## {}, {:.0}%: the other attacks\n", plan.main_name(), 100.0 * plan.sparsity);
    let sets: Vec<(Recipe, Option<usize>)> = Plan::EXTRA_RECIPES.iter().map(|&recipe| (recipe, records.attack_set(&mr, recipe))).collect();
    if sets.iter().all(|(_, n)| n.is_none()) {
        let _ = writeln!(r, "Not run yet (phase `recipes`).\n");
        return;
    }
    // Every recipe of a row attacks the same model on the same subset, so the clean accuracy on
    // that subset is one figure per seed (Aua is bounded by it, and it differs from the whole
    // split's), read from the records on the first recipe's subset.
    let subset = sets.iter().find_map(|(_, n)| *n);
    let mut header = format!("| method | seeds | clean ({}) |", subset.map_or("–".to_string(), |n| n.to_string()));
    let mut rule = String::from("|---|---|---|");
    for (recipe, n) in &sets {
        let n = n.map_or("–".to_string(), |n| n.to_string());
        let _ = write!(header, " {} Aua ({n}) | Suc | #Query |", recipe.name());
        rule.push_str("---|---|---|");
    }
    let _ = writeln!(r, "{header}\n{rule}");
    // Each core method's records, recipe by recipe (empty where a recipe has not run).
    let rows: Vec<(Method, Vec<Vec<&AttackRecord>>)> = Method::CORE
        .iter()
        .map(|&method| {
            let s = method.sparsity_at(plan.sparsity);
            (method, sets.iter().map(|(recipe, n)| n.map(|n| records.attacks(&mr, method.key(), s, *recipe, n)).unwrap_or_default()).collect())
        })
        .collect();
    let mut uneven = false;
    for (method, per_recipe) in &rows {
        let clean: BTreeMap<u64, f64> = per_recipe
            .iter()
            .flatten()
            .filter(|a| Some(a.summary.examples) == subset)
            .map(|a| (a.seed, a.summary.clean_accuracy))
            .collect();
        // Seeds per recipe, among the recipes run at all (a recipe no model has is not run yet).
        let counts: Vec<Option<usize>> = sets.iter().zip(per_recipe).map(|((_, n), attacks)| n.map(|_| attacks.len())).collect();
        let mut run: Vec<usize> = counts.iter().flatten().copied().collect();
        run.dedup();
        let seeds = match run.as_slice() {
            [0] => "–".to_string(),
            [one] => one.to_string(),
            _ => {
                uneven = true;
                counts.iter().map(|c| c.map_or("–".to_string(), |c| c.to_string())).collect::<Vec<_>>().join(" / ")
            }
        };
        let mut line = format!("| {} | {seeds} | {} |", method_name(method.key()), cell(&clean.values().copied().collect::<Vec<_>>(), 100.0, 1));
        for attacks in per_recipe {
            let _ = write!(
                line,
                " {} | {} | {} |",
                cell(&aua(attacks), 100.0, 1),
                cell(&attacks.iter().map(|a| a.summary.success_rate).collect::<Vec<_>>(), 100.0, 1),
                cell(&attacks.iter().map(|a| a.summary.mean_queries).collect::<Vec<_>>(), 1.0, 1)
            );
        }
        let _ = writeln!(r, "{line}");
    }
    if uneven {
        let _ = writeln!(r, "\nWhere a row's recipes have records from different numbers of seeds, `seeds` gives each recipe's count in column order.");
    }
    let _ = writeln!(r, "\n{}", recipe_margins(&rows, &sets));
    let _ = writeln!(r, "\n{}\n", attack_set_note(records, &mr, &sets));
}

/// The robust ticket against fine-tuning, IMP and FreeLB under each other attack, on the seeds
/// both have: the table's means can come from different seeds while a reproduction is under way.
fn recipe_margins(rows: &[(Method, Vec<Vec<&AttackRecord>>)], sets: &[(Recipe, Option<usize>)]) -> String {
    // A method's (accuracy under attack, clean accuracy) by seed under the `i`-th recipe.
    let by_seed = |method: Method, i: usize| -> BTreeMap<u64, (f64, f64)> {
        rows.iter()
            .filter(|(m, _)| *m == method)
            .flat_map(|(_, per_recipe)| &per_recipe[i])
            .map(|a| (a.seed, (a.summary.accuracy_under_attack, a.summary.clean_accuracy)))
            .collect()
    };
    let mut parts = Vec::new();
    for (i, &(recipe, n)) in sets.iter().enumerate() {
        if n.is_none() {
            continue;
        }
        let ticket = by_seed(Method::RobustTicket, i);
        let against: Vec<String> = [(Method::FineTune, "fine-tuning"), (Method::Imp, "IMP"), (Method::Freelb, "FreeLB")]
            .into_iter()
            .map(|(method, name)| {
                let other = by_seed(method, i);
                let paired: Vec<u64> = ticket.keys().copied().filter(|seed| other.contains_key(seed)).collect();
                if paired.is_empty() {
                    return format!("{name} not known yet");
                }
                let mean_points = |pick: fn(&(f64, f64)) -> f64| {
                    paired.iter().map(|seed| points(pick(&ticket[seed]), pick(&other[seed]))).sum::<f64>() / paired.len() as f64
                };
                let each = paired.iter().map(|seed| format!("{seed} {:+.2}", points(ticket[seed].0, other[seed].0))).collect::<Vec<_>>().join(", ");
                format!(
                    "{:+.2} over {name} under attack, {:+.2} clean (by seed: {each})",
                    without_noise(mean_points(|v| v.0)),
                    without_noise(mean_points(|v| v.1))
                )
            })
            .collect();
        parts.push(format!("- {}: {}.", recipe.name(), against.join("; ")));
    }
    format!(
        "The robust ticket against the baselines under each attack, in points of accuracy on these sentences, mean over the \
         seeds both have (then under attack seed by seed):\n\n{}",
        parts.join("\n")
    )
}

/// Which test sentences the recipes attacked, from the records' label counts.
fn attack_set_note(records: &Records, dataset: &DatasetKey, sets: &[(Recipe, Option<usize>)]) -> String {
    let mut balances: Vec<Vec<usize>> = Vec::new();
    for (recipe, n) in sets {
        for a in records.attacks.iter().filter(|a| a.dataset == *dataset && a.summary.recipe == *recipe && Some(a.summary.examples) == *n) {
            if !balances.contains(&a.labels) {
                balances.push(a.labels.clone());
            }
        }
    }
    let counts = |labels: &[usize]| labels.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" / ");
    match balances.as_slice() {
        [one] if !one.is_empty() => format!(
            "Each recipe attacks the same seeded, class-balanced subset of the test split (count in the header; \
             {} sentences per label, negative / positive), for every model and seed.",
            counts(one)
        ),
        _ if balances.iter().any(|b| b.is_empty()) => "Some of these records do not say which sentences they attacked: records \
             made before 2026-11-27 attacked the first sentences of the split, which are all positive. Rerun the phase."
            .to_string(),
        _ => format!(
            "The records attacked sets of different class balance ({}): rerun the phase.",
            balances.iter().map(|b| counts(b)).collect::<Vec<_>>().join("; ")
        ),
    }
}

fn ablations(r: &mut String, records: &Records, plan: &Plan) {
    let _ = writeln!(r, "## Ablations ({}, {:.0}%)\n", plan.main_name(), 100.0 * plan.sparsity);
    let rows = [
        ("Robust ticket (full method)", Method::RobustTicket),
        ("Without mask learning: IMP mask + retraining (the IMP row above)", Method::Imp),
        ("Without the adversarial loss in the search", Method::NoAdversary),
        ("Robust ticket mask with re-initialised weights", Method::Reinit),
    ];
    let main = plan.main_key();
    let tf = records.attack_set(&main, Recipe::TextFooler);
    let _ = writeln!(r, "| variant | seeds | clean test | TextFooler Aua | Suc |\n|---|---|---|---|---|");
    for (label, method) in rows {
        let models = records.models(&main, method.key(), plan.sparsity);
        let attacks = tf.map(|n| records.attacks(&main, method.key(), plan.sparsity, Recipe::TextFooler, n)).unwrap_or_default();
        let _ = writeln!(
            r,
            "| {label} | {} | {} | {} | {} |",
            models.len(),
            cell(&models.iter().map(|m| m.test_accuracy).collect::<Vec<_>>(), 100.0, 1),
            cell(&aua(&attacks), 100.0, 1),
            cell(&attacks.iter().map(|a| a.summary.success_rate).collect::<Vec<_>>(), 100.0, 1)
        );
    }
    let _ = writeln!(r);
}

fn gate_movement(r: &mut String, records: &Records, plan: &Plan) {
    let main = plan.main_key();
    let rows: Vec<(Method, Vec<&crate::reproduce::ScoreStats>)> = [Method::RobustTicket, Method::NoAdversary, Method::MaskOnly]
        .into_iter()
        .map(|m| (m, records.models(&main, m.key(), plan.sparsity).into_iter().filter_map(|r| r.search.as_ref()).collect()))
        .collect();
    if rows.iter().all(|(_, s)| s.is_empty()) {
        return;
    }
    let _ = writeln!(r, "## How far the searches moved the gate scores ({})\n", plan.main_name());
    let _ = writeln!(r, "log_alpha over all gated weights at the end of the search; every score starts at ln 5 = 1.609. Mean over seeds.
");
    let _ = writeln!(r, "| search | seeds | mean | sd | 1st pct | 10th | median | 90th | 99th | moved > 0.5 |\n|---|---|---|---|---|---|---|---|---|---|");
    for (method, stats) in rows {
        let col = |f: fn(&crate::reproduce::ScoreStats) -> f64| cell(&stats.iter().map(|s| f(s)).collect::<Vec<_>>(), 1.0, 3);
        let _ = writeln!(
            r,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            method_name(method.key()),
            stats.len(),
            col(|s| s.mean),
            col(|s| s.sd),
            col(|s| s.p01),
            col(|s| s.p10),
            col(|s| s.p50),
            col(|s| s.p90),
            col(|s| s.p99),
            percent(cell(&stats.iter().map(|s| s.moved).collect::<Vec<_>>(), 100.0, 1))
        );
    }
    let _ = writeln!(r);
}

/// A percentage cell: `12.3 ± 0.4%`, or `–` when empty.
fn percent(cell: String) -> String {
    if cell == "–" { cell } else { cell + "%" }
}

/// Methods of the sparsity plot.
pub const SWEEP: [Method; 4] = [Method::RobustTicket, Method::MaskOnly, Method::Imp, Method::Random];

fn sweep(r: &mut String, records: &Records, plots: &[(&str, &str)]) {
    let mr = records.plan.main_key();
    let seed = records.plan.seeds.first().copied().unwrap_or_default();
    let _ = writeln!(r, "## Accuracy against sparsity ({}, seed {seed})\n", records.plan.main_name());
    if let Some((file, _)) = plots.iter().find(|(f, _)| f.starts_with("sparsity")) {
        let _ = writeln!(r, "![clean accuracy and accuracy under TextFooler against sparsity]({file})\n");
    }
    let tf = records.attack_set(&mr, Recipe::TextFooler);
    let _ = writeln!(r, "| method | sparsity | models | clean test | TextFooler Aua |\n|---|---|---|---|---|");
    for method in SWEEP {
        for s in records.sparsities(&mr, method.key()) {
            let mut models = records.models(&mr, method.key(), s);
            models.retain(|m| m.seed == seed);
            let mut attacks = tf.map(|n| records.attacks(&mr, method.key(), s, Recipe::TextFooler, n)).unwrap_or_default();
            attacks.retain(|a| a.seed == seed);
            let _ = writeln!(
                r,
                "| {} | {:.0}% | {} | {} | {} |",
                method_name(method.key()),
                100.0 * s,
                models.len(),
                cell(&models.iter().map(|m| m.test_accuracy).collect::<Vec<_>>(), 100.0, 1),
                cell(&aua(&attacks), 100.0, 1)
            );
        }
    }
    let imp_swept = records.sparsities(&mr, Method::Imp.key()).iter().any(|&s| (s - records.plan.sparsity).abs() >= SAME_SPARSITY);
    let imp = if imp_swept {
        "IMP's runs to higher sparsities (10% of the remaining weights per round) share their first rounds with the lower ones"
    } else {
        "IMP has no models at the sweep's sparsities (10% of the remaining weights per round makes 70% cost 12 rounds; the reproduce command above with `--phases sweep --methods imp` adds them, sharing their first rounds with the table's)"
    };
    let _ = writeln!(r, "\nOne seed (the plan's first), so every point comes from the same searches (one search, several draws); {imp}.\n");
}

fn density(r: &mut String, plots: &[(&str, &str)]) {
    if let Some((file, _)) = plots.iter().find(|(f, _)| f.starts_with("layer-density")) {
        let _ = writeln!(r, "## Where the robust ticket prunes\n");
        let _ = writeln!(r, "![fraction of weights kept per layer and matrix]({file})\n");
    }
}

fn documents(r: &mut String, records: &Records, plan: &Plan) {
    if records.seeds(&documents_key()).is_empty() {
        let _ = writeln!(r, "## Movie-review documents\n\nNot run yet (phase `documents`).\n");
        return;
    }
    headline(r, records, &documents_key(), plan.document_sparsity, &[Method::FineTune, Method::RobustTicket]);
    let documents = plan.training_settings(DatasetName::MovieReviews, PathBuf::new());
    let (end, outside) = match documents.window {
        rticket_core::Window::Head => ("first", "past"),
        rticket_core::Window::Tail => ("last", "before"),
    };
    let _ = writeln!(
        r,
        "Documents train for {} epochs of fine-tuning and retraining (in the quick preset one epoch leaves \
         the model at chance). A review runs to ~650 words; the models read the {end} {} tokens. TextFooler does not ask about words {outside} that window \
         (no substitute there can change the answer, so the outcome is the one asking would give): #Query counts the queries asked.\n",
        documents.fit.epochs,
        documents.max_len
    );
}

fn tickets(r: &mut String, records: &Records) {
    let _ = writeln!(r, "## Tickets produced\n");
    let _ = writeln!(r, "| data | seed | method | sparsity | bytes | mask bits / weight | bound H(density) | file | sha256 |\n|---|---|---|---|---|---|---|---|---|");
    for m in &records.models {
        if let Some(t) = &m.ticket {
            let data = serde_name(&m.dataset);
            let _ = writeln!(
                r,
                "| {data} | {} | {} | {:.1}% | {} | {:.4} | {:.4} | `{}` | `{}` |",
                m.seed,
                m.method,
                100.0 * m.sparsity,
                t.bytes,
                t.mask_bits_per_weight,
                t.entropy_bits_per_weight,
                t.file.display(),
                &t.sha256[..t.sha256.len().min(12)]
            );
        }
    }
    let _ = writeln!(r, "\nTickets are kept outside the repository (the work folder); retrained ones hold f16 values of the surviving weights, mask-only ones only masks and a head. Masks are ANS-coded (TICKET.md).\n");
}

/// The records no table reads: models trained again (on a machine without their files) that
/// came out as other models. Named, so that no measurement disappears unsaid.
fn set_aside(r: &mut String, records: &Records) {
    if records.superseded.is_empty() {
        return;
    }
    let _ = writeln!(r, "## Records set aside\n");
    let _ = writeln!(
        r,
        "Trained again where their files were missing, these models came out as other models than their records \
         describe (another sha256 or accuracy); the old records and their attacks are kept, outside every table above:\n"
    );
    for folder in &records.superseded {
        let path = format!("data/{}", folder.display());
        let _ = writeln!(r, "- [`{path}`]({path})");
    }
    let _ = writeln!(r);
}

fn wall_time(r: &mut String, records: &Records) {
    let _ = writeln!(r, "## Wall time\n");
    // Stages are shared between methods (one fine-tuning serves every paper-mode search): count each folder once
    // per device, since a seed continued on another device trains the shared stages again there.
    let mut per_seed: BTreeMap<(String, u64, &str), SeedTime> = BTreeMap::new();
    for m in &records.models {
        let entry = per_seed.entry((serde_name(&m.dataset), m.seed, m.device.as_str())).or_default();
        for s in &m.stages {
            entry.stages.insert(s.dir.display().to_string(), s.seconds);
        }
    }
    for a in &records.attacks {
        let entry = per_seed.entry((serde_name(&a.dataset), a.seed, a.device.as_str())).or_default();
        entry.attacks += 1;
        entry.attack_seconds += a.summary.seconds;
    }
    let mut per_device: BTreeMap<&str, f64> = BTreeMap::new();
    for ((_, _, device), time) in &per_seed {
        *per_device.entry(device).or_default() += time.stages.values().sum::<f64>() + time.attack_seconds;
    }
    let several = per_device.len() > 1;
    let device_column = if several { " device |" } else { "" };
    let _ = writeln!(r, "| data | seed |{device_column} training stages | s | attacks | s |");
    let _ = writeln!(r, "|---|---|{}---|---|---|---|", if several { "---|" } else { "" });
    for ((data, seed, device), SeedTime { stages, attacks, attack_seconds }) in &per_seed {
        let stage_seconds: f64 = stages.values().sum();
        let device = if several { format!(" {device} |") } else { String::new() };
        let _ = writeln!(r, "| {data} | {seed} |{device} {} | {stage_seconds:.0} | {attacks} | {attack_seconds:.0} |", stages.len());
    }
    if several {
        let totals: Vec<String> = per_device.iter().map(|(device, s)| format!("{:.1} h on {device}", s / 3600.0)).collect();
        let _ = writeln!(r, "\nTotal compute: {}.", totals.join(", "));
    } else {
        let total: f64 = per_device.values().sum();
        let _ = writeln!(r, "\nTotal: {:.1} h of compute on the device above.", total / 3600.0);
    }
}

/// One seed's compute: each stage folder once (seconds), and the attacks.
#[derive(Default)]
struct SeedTime {
    stages: BTreeMap<String, f64>,
    attacks: usize,
    attack_seconds: f64,
}

