//! `rticket site`: a folder any static host can serve (the page, the base model stored once, the
//! attacks' word resources, the tickets, and a manifest of them), and `--serve` to try it here.
//!
//! Every file but the page and `manifest.json` is named by its content's hash, so a browser's
//! Cache API (the page's worker caches every download) and HTTP caches never serve a stale one;
//! `manifest.json` is fetched uncached and names the current files.

mod assemble;
mod serve;
mod sources;

pub use assemble::{Manifest, ManifestTicket, assemble};
pub use serve::serve;
pub use sources::{TicketSource, newest_pipeline_run, tickets_of_run};

use anyhow::Result;

use crate::cli::SiteArgs;
use crate::device::DeviceChoice;

pub fn run(args: SiteArgs, device: DeviceChoice) -> Result<()> {
    let out = args.out.clone().unwrap_or_else(|| std::path::PathBuf::from("runs/site"));
    let manifest = assemble(&args, &out, device)?;
    eprintln!("site: {} ticket(s) in {}", manifest.tickets.len(), out.display());
    if args.serve {
        serve(&out, args.port)?;
    }
    Ok(())
}
