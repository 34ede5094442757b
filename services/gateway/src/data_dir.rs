//! Opening a store that must already hold a log: what `verify`, `export`, `import`, `rebuild`,
//! `copy` and the benchmarks that read an existing log share. They never create one.

use std::path::{Path, PathBuf};

use heard_eventstore::{BackendKind, EventStore, Upcasters};

/// Opens the log in `data` with the backend it was created with, or says it holds none.
pub fn open_existing(data: &std::path::Path) -> anyhow::Result<EventStore> {
    let Some(kind) = BackendKind::detect(data) else {
        anyhow::bail!("{} holds no Heard event log", data.display());
    };
    Ok(EventStore::open_embedded(data, kind, Upcasters::new())?)
}

/// Where a command finds a store: a data directory, or a PostgreSQL database. The URL may hold
/// a password, so neither `Debug` nor any message shows it.
#[derive(Clone, PartialEq, Eq)]
pub enum StorePlace {
    Dir(PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for StorePlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorePlace::Dir(dir) => f.debug_tuple("Dir").field(dir).finish(),
            StorePlace::Postgres(_) => f.write_str("Postgres(..)"),
        }
    }
}

impl StorePlace {
    /// What `flag` was given: a `postgres://` (or `postgresql://`) URL, or else a data directory
    /// path. Any other URL is refused, naming the flag.
    pub fn parse(flag: &str, text: &str) -> anyhow::Result<StorePlace> {
        if text.trim().is_empty() {
            anyhow::bail!("{flag}: give a data directory or a postgres:// URL");
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            heard_eventstore::postgres_backend::parse_url(text).map_err(|_| {
                anyhow::anyhow!("{flag}: not a valid PostgreSQL URL (postgres://user@host:port/database)")
            })?;
            return Ok(StorePlace::Postgres(text.to_owned()));
        }
        if let Some((scheme, _)) = text.split_once("://") {
            let scheme: String = scheme.chars().filter(char::is_ascii_alphanumeric).take(20).collect();
            anyhow::bail!(
                "{flag}: {scheme}:// is not a store's address; give a data directory or a postgres:// URL (postgres://user@host:port/database)"
            );
        }
        Ok(StorePlace::Dir(PathBuf::from(text)))
    }

    /// The store a command reads: `--store-url`, else `--data`, else the configured one
    /// (`store.backend` and `store.url`, or `data_dir`, from `--config` and `HEARD_…`).
    pub fn chosen(
        data: Option<PathBuf>,
        store_url: Option<String>,
        config: Option<&Path>,
    ) -> anyhow::Result<(StorePlace, &'static str)> {
        match (data, store_url) {
            (Some(_), Some(_)) => anyhow::bail!("--data and --store-url: give one of them, not both"),
            (None, Some(url)) => match StorePlace::parse("--store-url", &url)? {
                StorePlace::Dir(_) => anyhow::bail!(
                    "--store-url: not a PostgreSQL URL (postgres://user@host:port/database); give a data directory with --data"
                ),
                place => Ok((place, "--store-url")),
            },
            (Some(data), None) => Ok((StorePlace::Dir(data), "--data")),
            (None, None) => {
                let settings = crate::config::Settings::load(config, std::env::vars())?;
                settings.validate().map_err(anyhow::Error::msg)?;
                settings.store.complete().map_err(anyhow::Error::msg)?;
                match settings.store.url {
                    Some(url) if settings.store.backend == BackendKind::Postgres => {
                        Ok((StorePlace::Postgres(url), "store.url"))
                    }
                    _ => Ok((StorePlace::Dir(settings.data_dir), "data_dir")),
                }
            }
        }
    }

    /// Opens the log here, which must exist; errors name `flag` (and never the URL).
    pub async fn open_existing(&self, flag: &str) -> anyhow::Result<EventStore> {
        match self {
            StorePlace::Dir(dir) => {
                if !dir.exists() {
                    anyhow::bail!("{flag}: {} holds no Heard event log (it does not exist)", dir.display());
                }
                if BackendKind::detect(dir).is_none() {
                    anyhow::bail!("{flag}: {} holds no Heard event log (no log/ or sled-log/ in it)", dir.display());
                }
                match open_existing(dir) {
                    Err(error) if matches!(error.downcast_ref(), Some(heard_eventstore::Error::Locked)) => {
                        anyhow::bail!("{flag}: Heard is running on {}: stop it, then run this again", dir.display())
                    }
                    opened => opened,
                }
            }
            StorePlace::Postgres(url) => {
                let holds = heard_eventstore::postgres_backend::holds_log(url)
                    .await
                    .map_err(|error| anyhow::anyhow!("{flag}: cannot reach the database: {error}"))?;
                if !holds {
                    anyhow::bail!("{flag}: the database holds no Heard event log");
                }
                EventStore::open_postgres(url, Upcasters::new())
                    .await
                    .map_err(|error| anyhow::anyhow!("{flag}: cannot open the event store: {error}"))
            }
        }
    }

    /// Opens (creating it if need be) the store a copy writes, which must hold nothing: a
    /// directory that is missing, empty or an empty Heard store, or a database with no Heard
    /// events or keys. Errors name `flag`.
    pub async fn open_empty(&self, flag: &str) -> anyhow::Result<EventStore> {
        let store = match self {
            StorePlace::Dir(dir) => {
                if dir.exists() && !dir.is_dir() {
                    anyhow::bail!("{flag}: {} is a file, not a directory", dir.display());
                }
                let kind = BackendKind::detect(dir);
                let holds_other_files = kind.is_none()
                    && dir.is_dir()
                    && std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?.next().is_some();
                if holds_other_files {
                    anyhow::bail!(
                        "{flag}: {} is not empty and holds no Heard store: give a new or empty directory",
                        dir.display()
                    );
                }
                let (dir, kind) = (dir.clone(), kind.unwrap_or_default());
                let opened =
                    tokio::task::spawn_blocking(move || EventStore::open_embedded(&dir, kind, Upcasters::new()))
                        .await?;
                match opened {
                    Err(heard_eventstore::Error::Locked) => {
                        anyhow::bail!("{flag}: Heard is running on this directory: stop it, then copy again")
                    }
                    opened => opened.map_err(|error| anyhow::anyhow!("{flag}: cannot open the store: {error}"))?,
                }
            }
            StorePlace::Postgres(url) => EventStore::open_postgres(url, Upcasters::new())
                .await
                .map_err(|error| anyhow::anyhow!("{flag}: cannot open the event store: {error}"))?,
        };
        let (events, keys) = heard_eventstore::copy::contents(&store).await?;
        if events > 0 || keys > 0 {
            let _ = store.close().await;
            anyhow::bail!(
                "{flag}: the destination already holds {events} event(s) and {keys} person key(s); copy only into a new, empty data directory or database"
            );
        }
        Ok(store)
    }
}
