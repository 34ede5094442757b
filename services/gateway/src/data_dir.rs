//! Opening a data directory that must already hold a log: what `verify`, `export`, `import`,
//! `rebuild` and the benchmarks that read an existing log share. They never create one.

use heard_eventstore::{BackendKind, EventStore, Upcasters};

/// Opens the log in `data` with the backend it was created with, or says it holds none.
pub fn open_existing(data: &std::path::Path) -> anyhow::Result<EventStore> {
    let Some(kind) = BackendKind::detect(data) else {
        anyhow::bail!("{} holds no Heard event log", data.display());
    };
    Ok(EventStore::open_embedded(data, kind, Upcasters::new())?)
}
