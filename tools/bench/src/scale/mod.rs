//! `heard-bench scale`: Heard at the size of a real county's years of use (issue #17).
//!
//! Two phases:
//!
//! 1. [`build`]: a data directory of N events, written through the services' own commands on
//!    a server started in process, so every event is exactly what Heard writes (personal fields
//!    sealed under their subject's key, search index kept on disk): feedback logged with consent
//!    and themes and moderated (shared, some redacted first, some held, flagged for safeguarding
//!    or consent withdrawn), advocacy cases with their actions, Bill of Rights complaints through
//!    their lifecycle, commissioning decisions with evidence linking shared feedback, answers to
//!    shared feedback, and a few hundred accounts. The same seed gives the same content (ids and
//!    the interleaving of streams in the log vary). A directory that already holds a store of
//!    the asked size (its manifest, [`build::MANIFEST`], says so) is reused as it is.
//! 2. [`measure`]: a copy of that directory served by the real `heard` binary as a child
//!    process: seconds from spawn to `GET /readyz` answering 200, resident memory after start,
//!    p50/p99 of a mix of GraphQL queries over HTTP, resident memory again, then the
//!    `logFeedback` rate with 32 clients. The copy is removed afterwards, so the built directory
//!    stays as built and every run starts from the same N events.
//!
//! Figures, never assertions; `BENCHMARKS.md` holds the commands and results.

pub mod build;
pub mod measure;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::{Value, json};

/// Options of `heard-bench scale`.
#[derive(Clone, Debug)]
pub struct ScaleOptions {
    pub events: u64,
    /// Where the store is built (or found); a temporary directory when `None`.
    pub data: Option<PathBuf>,
    /// Keep the temporary directory (with `data: None`) and print where it is.
    pub keep: bool,
    pub seed: u64,
    /// GraphQL queries in the mix.
    pub queries: usize,
    /// The query mix stops after this many seconds even if not all queries ran.
    pub query_budget_seconds: u64,
    pub log_clients: usize,
    pub log_seconds: u64,
    /// The `heard` binary; by default the one beside `heard-bench`.
    pub heard: Option<PathBuf>,
}

/// The targets issue #17 sets, printed beside the figures.
pub const TARGET_READY_SECONDS: f64 = 3.0;
pub const TARGET_RSS_MB: f64 = 300.0;
pub const TARGET_POINT_IN_TIME_P99_MS: f64 = 50.0;

/// Builds (or reuses) the store, measures it, and returns the summary line.
pub async fn scale(options: ScaleOptions) -> anyhow::Result<Value> {
    anyhow::ensure!(options.events >= 2_000, "--events must be at least 2000");
    anyhow::ensure!(options.log_clients >= 1, "--log-clients must be at least 1");
    let heard = heard_binary(options.heard.as_deref())?;
    let (temporary, dir) = store_directory(options.data.as_deref(), "heard-scale-")?;
    let manifest = build::build_or_reuse(&dir, options.events, options.seed).await?;
    let figures = measure::measure(&dir, &manifest, &heard, &options).await;
    if let Some(temporary) = temporary
        && options.keep
    {
        let kept = temporary.keep();
        eprintln!("scale: the store is kept in {}", kept.join("data").display());
    }
    let figures = figures?;
    let mut summary = json!({
        "events_asked": options.events,
        "events": manifest.events,
        "seed": manifest.seed,
        "built_on": manifest.built_on,
        "build_seconds": manifest.build_seconds,
        "reused": manifest.reused,
        "counts": manifest.counts,
        "data_mb": crate::store::round(directory_bytes(&dir)? as f64 / 1e6),
        "targets": {
            "ready_seconds": TARGET_READY_SECONDS,
            "rss_mb": TARGET_RSS_MB,
            "point_in_time_p99_ms": TARGET_POINT_IN_TIME_P99_MS,
            "you_said_we_did_p99_ms": TARGET_POINT_IN_TIME_P99_MS,
        },
    });
    if let (Value::Object(summary), Value::Object(figures)) = (&mut summary, figures) {
        summary.extend(figures);
    }
    Ok(summary)
}

/// Where the store is built: `data` if given, else `data` in a new temporary directory, which
/// is returned too and removed when dropped (unless kept).
pub(crate) fn store_directory(
    data: Option<&Path>,
    prefix: &str,
) -> anyhow::Result<(Option<tempfile::TempDir>, PathBuf)> {
    match data {
        Some(dir) => Ok((None, dir.to_owned())),
        None => {
            let temporary =
                tempfile::Builder::new().prefix(prefix).tempdir().context("cannot make a temporary data directory")?;
            let dir = temporary.path().join("data");
            Ok((Some(temporary), dir))
        }
    }
}

/// The `heard` binary to serve with: `given`, or the one beside heard-bench; it must be there.
pub(crate) fn heard_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let heard = match given {
        Some(path) => path.to_owned(),
        None => beside_this_binary("heard")?,
    };
    anyhow::ensure!(
        heard.is_file(),
        "{} is not there: build it first (cargo build --release -p heard -p heard-bench) or give --heard",
        heard.display()
    );
    Ok(heard)
}

/// A binary in the same directory as the running one (`target/release/heard` beside
/// `target/release/heard-bench`).
fn beside_this_binary(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("cannot tell where heard-bench is")?;
    let dir = me.parent().context("heard-bench is in no directory")?;
    Ok(dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// The bytes of every file under `dir`.
pub fn directory_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += directory_bytes(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// Copies `from` into `to` (which must not exist), files and directories only.
pub fn copy_directory(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_directory(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {} to {}", entry.path().display(), target.display()))?;
        }
    }
    Ok(())
}
