//! Writes the site folder: the page bundle, content-addressed assets and `manifest.json`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rticket_core::ticket::Ticket;
use serde::{Deserialize, Serialize};

use super::sources::{TicketSource, newest_pipeline_run, tickets_of_run};
use crate::cli::SiteArgs;
use crate::device::DeviceChoice;
use crate::model_files::{ModelFiles, assets_dir, default_model_dir, read, sha256_hex};

/// What `manifest.json` says: every URL relative to the site's root.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    /// Folder with config.json, model.safetensors and tokenizer.json.
    pub base: String,
    pub base_model_sha256: String,
    pub neighbours: String,
    /// Folder with WordNet's data.* and *.exc files.
    pub wordnet: String,
    pub dense: Option<String>,
    pub tickets: Vec<ManifestTicket>,
}

/// One ticket in the page's chooser.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ManifestTicket {
    pub name: String,
    pub file: String,
    pub bytes: usize,
    pub sparsity: f64,
    pub dev_accuracy: Option<f64>,
    pub test_accuracy: Option<f64>,
    /// TextFooler on the run's test examples: `examples`, `clean_accuracy`, `accuracy_under_attack`.
    pub attack: Option<serde_json::Value>,
}

pub const MANIFEST_FORMAT: &str = "rticket.site/1";

/// Assembles the site for `args` in `out` (replacing an earlier site there, refusing any other folder).
pub fn assemble(args: &SiteArgs, out: &Path, device: DeviceChoice) -> Result<Manifest> {
    let bundle = &args.bundle;
    if !bundle.join("index.html").exists() {
        bail!("no page bundle in {} (index.html): run `make bundle` first (or `make demo`, which does both)", bundle.display());
    }
    let (mut sources, mut dense) = (Vec::new(), args.dense.clone());
    let runs = if args.run.is_empty() && args.ticket.is_empty() { vec![newest_pipeline_run(Path::new("runs"))?] } else { args.run.clone() };
    for run in &runs {
        let (tickets, run_dense) = tickets_of_run(run)?;
        eprintln!("site: {} ticket(s) from {}", tickets.len(), run.display());
        sources.extend(tickets);
        dense = dense.or(run_dense);
    }
    sources.extend(args.ticket.iter().map(|path| TicketSource {
        name: ticket_name(path),
        path: path.clone(),
        attack: None,
    }));

    let model_dir = args.model.model.clone().unwrap_or_else(default_model_dir);
    let files = ModelFiles::open(&model_dir)?;
    let base_sha = files.weights_sha256();
    // Every ticket is read and checked before anything is written.
    let tickets: Vec<(TicketSource, Vec<u8>, Ticket)> = sources
        .into_iter()
        .map(|source| {
            let bytes = read(&source.path, "ticket")?;
            let ticket = Ticket::from_bytes(&bytes).with_context(|| format!("reading the ticket {}", source.path.display()))?;
            if ticket.meta.base_model_sha256 != base_sha {
                bail!(
                    "{} is a ticket for another base model (weights sha256 {}), not for {} (sha256 {base_sha}): \
                     pass --model with the folder of the model it was made for",
                    source.path.display(),
                    ticket.meta.base_model_sha256,
                    model_dir.display()
                );
            }
            Ok((source, bytes, ticket))
        })
        .collect::<Result<_>>()?;

    prepare_folder(out)?;
    let copied = copy_tree(bundle, out)?;
    eprintln!("site: the page bundle from {} ({})", bundle.display(), megabytes(copied));
    let site = Site { root: out.to_path_buf() };
    let base_files = [("config.json", read(&model_dir.join("config.json"), "model config")?), ("model.safetensors", files.weights.clone()), ("tokenizer.json", files.tokenizer.clone())];
    let base = site.folder("base", &base_files, "the base model")?;
    let wordnet_dir = assets_dir().join("wordnet");
    let wordnet_files: Vec<(String, Vec<u8>)> = ["noun", "verb", "adj", "adv"]
        .iter()
        .flat_map(|pos| [format!("data.{pos}"), format!("{pos}.exc")])
        .map(|name| read(&wordnet_dir.join(&name), "WordNet file").map(|bytes| (name, bytes)))
        .collect::<Result<_>>()?;
    let wordnet = site.folder("wordnet", &wordnet_files, "WordNet")?;
    let neighbours_path = match &args.neighbours {
        Some(path) => path.clone(),
        None => page_neighbours(device)?,
    };
    let neighbours = site.file("neighbours", "safetensors", &read(&neighbours_path, "neighbour table")?, "the neighbour table")?;
    let dense = dense.map(|path| site.file("classifier", "safetensors", &read(&path, "dense classifier")?, "the dense classifier")).transpose()?;
    let mut published = Vec::new();
    for (source, bytes, ticket) in tickets {
        let slug: String = source.name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
        let file = site.file(&format!("tickets/{slug}"), "safetensors", &bytes, &source.name)?;
        let accuracy = |split: &str| ticket.meta.metrics[split]["accuracy"].as_f64();
        published.push(ManifestTicket {
            name: source.name,
            file,
            bytes: bytes.len(),
            sparsity: ticket.meta.sparsity,
            dev_accuracy: accuracy("dev"),
            test_accuracy: accuracy("test"),
            attack: source.attack,
        });
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        base,
        base_model_sha256: base_sha,
        neighbours,
        wordnet,
        dense,
        tickets: published,
    };
    std::fs::write(out.join("manifest.json"), serde_json::to_vec_pretty(&manifest)?)?;
    Ok(manifest)
}

/// The page's neighbour table (the 20,000 most frequent words: 6 MB), built once when missing.
fn page_neighbours(device: DeviceChoice) -> Result<PathBuf> {
    let path = assets_dir().join(format!("neighbours-page-v{}.safetensors", rticket_core::attack::neighbours::TABLE_VERSION));
    if !path.exists() {
        eprintln!("site: building the page's neighbour table {} (once, about a minute)", path.display());
        let wordnet = crate::resources::load_wordnet(None)?;
        let build = crate::commands::TableBuild { vocabulary: 20_000, ..crate::commands::TableBuild::glove() };
        let selected = crate::device::select(device)?;
        crate::commands::write_table(&path, &build, &default_model_dir(), &wordnet, &selected.device)?;
    }
    Ok(path)
}

/// An empty folder, or an earlier site (emptied); any other folder is refused.
fn prepare_folder(out: &Path) -> Result<()> {
    if out.exists() {
        let empty = std::fs::read_dir(out)?.next().is_none();
        if !empty && !out.join("manifest.json").exists() {
            bail!("{} holds files but no site (manifest.json): choose another --out, or empty it", out.display());
        }
        std::fs::remove_dir_all(out).with_context(|| format!("clearing the earlier site in {}", out.display()))?;
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))
}

/// Copies every file under `from` into `to`; returns the bytes copied.
fn copy_tree(from: &Path, to: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            total += copy_tree(&entry.path(), &target)?;
        } else {
            total += std::fs::copy(entry.path(), &target).with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(total)
}

/// A ticket file's name in the chooser: its folder and stem (`draw-topics/ticket-30`), since
/// every draw names its file by the sparsity alone.
fn ticket_name(path: &Path) -> String {
    let stem = path.file_stem().map_or("ticket".into(), |s| s.to_string_lossy().into_owned());
    match path.parent().and_then(Path::file_name) {
        Some(folder) => format!("{}/{stem}", folder.to_string_lossy()),
        None => stem,
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The site's assets/ folder, every name carrying a hash of its content.
struct Site {
    root: PathBuf,
}

impl Site {
    /// `assets/<stem>-<hash>.<ext>`; returns its URL relative to the root.
    fn file(&self, stem: &str, ext: &str, bytes: &[u8], what: &str) -> Result<String> {
        let url = format!("assets/{stem}-{}.{ext}", &sha256_hex(bytes)[..16]);
        self.write(&url, bytes)?;
        eprintln!("site: {what} -> {url} ({})", megabytes(bytes.len() as u64));
        Ok(url)
    }

    /// `assets/<stem>-<hash>/` holding `files` under their own names (a folder the page reads by
    /// fixed names); the hash covers every name and content. Returns the folder's URL (no `/`).
    fn folder(&self, stem: &str, files: &[(impl AsRef<str>, Vec<u8>)], what: &str) -> Result<String> {
        let digest: String = files.iter().map(|(name, bytes)| format!("{}:{}\n", name.as_ref(), sha256_hex(bytes))).collect();
        let url = format!("assets/{stem}-{}", &sha256_hex(digest.as_bytes())[..16]);
        for (name, bytes) in files {
            self.write(&format!("{url}/{}", name.as_ref()), bytes)?;
        }
        let total: usize = files.iter().map(|(_, b)| b.len()).sum();
        eprintln!("site: {what} -> {url} ({})", megabytes(total as u64));
        Ok(url)
    }

    fn write(&self, url: &str, bytes: &[u8]) -> Result<()> {
        let path = self.root.join(url);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
    }
}
