//! The report's plots, drawn as SVG text with plotters (deterministic, so the test can
//! compare them with the files in the repository).

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use rticket_core::attack::Recipe;

use super::markdown::{SWEEP, method_name};
use super::records::Records;
use super::stats::mean_sd;
use crate::reproduce::Method;

const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Every plot the records allow, as (file name, SVG text).
pub fn draw(records: &Records) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    if let Some(svg) = sparsity(records)? {
        out.push(("sparsity.svg".to_string(), svg));
    }
    if let Some(svg) = layer_density(records)? {
        out.push(("layer-density.svg".to_string(), svg));
    }
    Ok(out)
}

/// (sparsity %, mean %) points of a line.
type Points = Vec<(f64, f64)>;

/// One method's lines: clean test accuracy, and TextFooler Aua.
fn sweep_points(records: &Records, method: Method) -> (Points, Points) {
    let mr = records.plan.main_key();
    let tf = records.attack_set(&mr, Recipe::TextFooler);
    // The plan's first seed only: every point of a line from the same search.
    let seed = records.plan.seeds.first().copied().unwrap_or_default();
    let (mut clean, mut attacked) = (Vec::new(), Vec::new());
    for s in records.sparsities(&mr, method.key()) {
        let tests: Vec<f64> = records.models(&mr, method.key(), s).iter().filter(|m| m.seed == seed).map(|m| m.test_accuracy).collect();
        if let Some((mean, _)) = mean_sd(&tests) {
            clean.push((100.0 * s, 100.0 * mean));
        }
        let aua: Vec<f64> = tf
            .map(|n| records.attacks(&mr, method.key(), s, Recipe::TextFooler, n))
            .unwrap_or_default()
            .iter()
            .filter(|a| a.seed == seed)
            .map(|a| a.summary.accuracy_under_attack)
            .collect();
        if let Some((mean, _)) = mean_sd(&aua) {
            attacked.push((100.0 * s, 100.0 * mean));
        }
    }
    (clean, attacked)
}

fn sparsity(records: &Records) -> Result<Option<String>> {
    let series: Vec<(Method, (Points, Points))> =
        SWEEP.iter().map(|&m| (m, sweep_points(records, m))).filter(|(_, (c, _))| !c.is_empty()).collect();
    if series.is_empty() {
        return Ok(None);
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let panels = root.split_evenly((1, 2));
        for (panel, (title, attacked)) in panels.iter().zip([("clean test accuracy (%)", false), ("accuracy under TextFooler (%)", true)]) {
            let mut chart = ChartBuilder::on(panel)
                .caption(title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(44)
                .build_cartesian_2d(0.0..100.0, 0.0..100.0)
                .map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_desc("sparsity (%)")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_label_formatter(&|y| format!("{y:.0}"))
                .draw()
                .map_err(plot_error)?;
            for (i, (method, (clean, under))) in series.iter().enumerate() {
                let points = if attacked { under } else { clean };
                let colour = COLOURS[i % COLOURS.len()];
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))
                    .map_err(plot_error)?
                    .label(method_name(method.key()))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2)));
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled()))).map_err(plot_error)?;
            }
            chart.configure_series_labels().position(SeriesLabelPosition::LowerLeft).background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(plot_error)?;
        }
        root.present().map_err(plot_error)?;
    }
    Ok(Some(svg))
}

fn layer_density(records: &Records) -> Result<Option<String>> {
    let plan = &records.plan;
    let Some(record) = records.models(&records.plan.main_key(), Method::RobustTicket.key(), plan.sparsity).into_iter().find(|m| m.ticket.is_some())
    else {
        return Ok(None);
    };
    let density = &record.ticket.as_ref().expect("filtered").density;
    // `encoder.layer.<i>.<matrix>` -> (layer, matrix kind).
    let mut kinds: Vec<String> = Vec::new();
    let mut points: Vec<(String, usize, f64)> = Vec::new();
    for (name, d) in density {
        let Some(rest) = name.strip_prefix("encoder.layer.") else { continue };
        let Some((layer, kind)) = rest.split_once('.') else { continue };
        let Ok(layer) = layer.parse::<usize>() else { continue };
        let kind = matrix_kind(kind);
        if !kinds.contains(&kind) {
            kinds.push(kind.clone());
        }
        points.push((kind, layer, 100.0 * d));
    }
    let layers = points.iter().map(|p| p.1).max().map_or(1, |l| l + 1);
    // Zoomed to the data: the differences between matrices are a few points.
    let low = points.iter().map(|p| p.2).fold(100.0, f64::min);
    let high = points.iter().map(|p| p.2).fold(0.0, f64::max);
    let (low, high) = (((low - 5.0) / 5.0).floor().max(0.0) * 5.0, ((high + 5.0) / 5.0).ceil().min(20.0) * 5.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let caption = format!("robust ticket at {:.0}% sparsity (seed {}): weights kept per matrix", 100.0 * record.sparsity, record.seed);
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5..(layers as f64 - 0.5), low..high)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("layer")
            .y_desc("kept (%)")
            .x_labels(layers)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(plot_error)?;
        for (i, kind) in kinds.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let series: Vec<(f64, f64)> = points.iter().filter(|p| &p.0 == kind).map(|p| (p.1 as f64, p.2)).collect();
            chart
                .draw_series(LineSeries::new(series.iter().copied(), colour.stroke_width(2)))
                .map_err(plot_error)?
                .label(kind.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2)));
            chart.draw_series(series.iter().map(|&p| Circle::new(p, 3, colour.filled()))).map_err(plot_error)?;
        }
        chart.configure_series_labels().position(SeriesLabelPosition::LowerLeft).background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(Some(svg))
}

/// A readable name for a gated matrix of a BERT layer (`attention.self.query` -> `query`).
fn matrix_kind(name: &str) -> String {
    match name {
        "attention.self.query" => "query",
        "attention.self.key" => "key",
        "attention.self.value" => "value",
        "attention.output.dense" => "attention output",
        "intermediate.dense" => "intermediate (FFN in)",
        "output.dense" => "output (FFN out)",
        other => other,
    }
    .to_string()
}

fn plot_error<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing a plot: {e:?}")
}
