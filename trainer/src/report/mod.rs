//! `rticket report`: `results/README.md` and its plots, derived from the reproduction's
//! records in `results/data` and nothing else.

mod markdown;
mod plots;
mod records;
mod setup;
mod stats;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

pub use records::Records;
pub use stats::{cell, mean_sd};

use crate::cli::ReportArgs;
use crate::outputs::RunDir;

/// The hand-written summary a results folder may have, shown on top of its report.
pub const FINDINGS: &str = "FINDINGS.md";

/// The report's files (README.md and the plots) as they follow from the records (and the
/// folder's hand-written FINDINGS.md, when it has one).
pub fn render(results: &Path) -> Result<Vec<(String, String)>> {
    let records = Records::load(&results.join("data"))?;
    let plots = plots::draw(&records)?;
    let names: Vec<(&str, &str)> = plots.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
    // What we found, written by hand from the records, goes on top when the folder has it.
    let findings = match std::fs::read_to_string(results.join(FINDINGS)) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(anyhow::Error::new(e).context(format!("reading {}", results.join(FINDINGS).display()))),
    };
    let markdown = markdown::render(&records, &names, findings.as_deref());
    let mut files = vec![("README.md".to_string(), markdown)];
    files.extend(plots);
    Ok(files)
}

/// Writes the report into `results`; returns the markdown's path.
pub fn write(results: &Path) -> Result<PathBuf> {
    let dir = RunDir { path: results.to_path_buf() };
    for (name, text) in render(results)? {
        dir.write(&name, text.as_bytes())?;
    }
    Ok(results.join("README.md"))
}

/// The files under `results` that differ from what the records give (empty: in step).
pub fn drift(results: &Path) -> Result<Vec<String>> {
    Ok(render(results)?
        .into_iter()
        .filter(|(name, text)| std::fs::read_to_string(results.join(name)).ok().as_deref() != Some(text.as_str()))
        .map(|(name, _)| name)
        .collect())
}

pub fn run(args: &ReportArgs) -> Result<()> {
    if args.check {
        let stale = drift(&args.results)?;
        if !stale.is_empty() {
            bail!("{} do not match the records in {}: run `rticket report`", stale.join(", "), args.results.join("data").display());
        }
        println!("{} matches its records", args.results.join("README.md").display());
        return Ok(());
    }
    println!("report written to {}", write(&args.results)?.display());
    Ok(())
}
