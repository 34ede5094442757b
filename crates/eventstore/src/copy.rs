//! Copying a whole store into an empty one, from any backend to any backend (`heard copy`).
//!
//! [`copy_store`] copies the subject keys first, every key and every tombstone as it is (so an
//! erased person stays erased: a destroyed key is copied as destroyed, and never comes back),
//! then every event in global order through [`Backend::import`](crate::Backend::import), which
//! writes each raw record exactly as it was recorded: the same position, stream, revision, id,
//! type, time, metadata, data and personal ciphertext, so the same chain hash. The destination
//! checks each event's hash as it writes it, so the copy ends at the source's chain head or
//! fails at the first event that would not.
//!
//! The source must not change meanwhile. An embedded store is locked by the copy's own open; a
//! PostgreSQL database has no such lock (several processes may share it), so the copy reads the
//! head and the keys again at the end and fails if either moved: stop every Heard on the
//! database before copying it.

use std::collections::HashMap;

use crate::crypto::SubjectKey;
use crate::error::{Error, Result};
use crate::store::EventStore;
use crate::types::{Head, SubjectId};

/// Events read and written at a time.
const PAGE: usize = 4096;

/// What a copy copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyReport {
    /// Events copied.
    pub events: u64,
    /// The chain head both stores now end at.
    pub head: Head,
    /// Subjects with a live key copied.
    pub keys: u64,
    /// Subjects whose key was destroyed (people erased), copied as destroyed.
    pub destroyed: u64,
}

/// How many events and keys a store holds: a copy's destination must hold neither.
pub async fn contents(store: &EventStore) -> Result<(u64, usize)> {
    let keys = all_keys(store).await?;
    Ok((current_head(store).await?.position, keys.len()))
}

/// Copies every key, tombstone and event of `from` into `to`, which must be empty; calls
/// `progress(copied, total)` after each page of events. See the module docs.
pub async fn copy_store(from: &EventStore, to: &EventStore, mut progress: impl FnMut(u64, u64)) -> Result<CopyReport> {
    let (events, keys) = contents(to).await?;
    if events > 0 || keys > 0 {
        return Err(Error::Storage {
            detail: format!(
                "the destination already holds {events} event(s) and {keys} key(s): copy only into an empty store"
            ),
        });
    }
    let head = current_head(from).await?;
    let keys = all_keys(from).await?;
    let destroyed = keys.iter().filter(|(_, key)| key.is_none()).count() as u64;
    let live = keys.len() as u64 - destroyed;
    // The keys first, so that no copied event is ever there without its key (it would read as
    // erased), as for an append.
    let destination = to.keys().clone();
    let copied = keys.clone();
    tokio::task::spawn_blocking(move || destination.import_keys(&copied)).await.map_err(Error::storage)??;

    let mut next = 1;
    while next <= head.position {
        let mut page = from.read_all_raw(next, PAGE).await?;
        page.retain(|event| event.position <= head.position);
        let Some(last) = page.last() else {
            return Err(Error::corrupt(next, "the source's log ends before its head"));
        };
        next = last.position + 1;
        to.backend().import(page).await?;
        progress(next - 1, head.position);
    }
    let copied = to.head();
    if copied != head {
        return Err(Error::Storage {
            detail: format!("the copy ends at position {} but the source at {}", copied.position, head.position),
        });
    }
    // Nothing locks a PostgreSQL source against a running Heard: say so if it moved.
    let after = current_head(from).await?;
    if after != head || !same_keys(&keys, &all_keys(from).await?) {
        return Err(Error::Storage {
            detail: "the source changed while it was copied (a Heard is using it): stop every Heard using it, \
                     then copy again into a new, empty destination"
                .into(),
        });
    }
    Ok(CopyReport { events: head.position, head, keys: live, destroyed })
}

/// The head as the source's log holds it now (the PostgreSQL backend's own view of it may
/// trail another process's appends by a poll).
pub(crate) async fn current_head(store: &EventStore) -> Result<Head> {
    let mut head = store.head();
    loop {
        let later = store.read_all_raw(head.position + 1, PAGE).await?;
        let Some(last) = later.last() else { return Ok(head) };
        head = Head { position: last.position, hash: last.hash };
    }
}

async fn all_keys(store: &EventStore) -> Result<Vec<(SubjectId, Option<SubjectKey>)>> {
    let keys = store.keys().clone();
    tokio::task::spawn_blocking(move || keys.all_keys()).await.map_err(Error::storage)?
}

fn same_keys(before: &[(SubjectId, Option<SubjectKey>)], after: &[(SubjectId, Option<SubjectKey>)]) -> bool {
    let bytes = |keys: &[(SubjectId, Option<SubjectKey>)]| -> HashMap<SubjectId, Option<[u8; 32]>> {
        keys.iter().map(|(subject, key)| (*subject, key.as_ref().map(|key| *key.as_bytes()))).collect()
    };
    bytes(before) == bytes(after)
}
