//! Named locks that hold across every process over one store: [`EventStore::exclusive`].
//!
//! A service that must decide something from its model and append it without another decision
//! of the same kind slipping in between (advocacy attributing a client's cases together, say)
//! takes `store.exclusive(NAME)` and holds the [`Exclusive`] guard while it reads and appends.
//!
//! - With an embedded log only one process can open the store, so the lock is an async mutex
//!   per name, shared by every clone of the [`EventStore`].
//! - With the log in PostgreSQL the same mutex is taken first (so this process's own callers
//!   queue here and hold at most one connection per name), then a session advisory lock,
//!   `pg_advisory_lock(hashtext(current_schema()), hashtext(name))`, on a connection of the
//!   store's pool kept for the guard alone. Two keys keep it apart from the single-key lock the
//!   migrations take, and the schema keeps two Heard stores in one database apart. When the
//!   guard drops, the lock is released (`pg_advisory_unlock`) and the connection goes back to
//!   the pool only if the release was confirmed; otherwise, and whenever taking the lock fails
//!   or is abandoned half-way (a request cancelled while it waits), the connection is closed
//!   instead, which ends its session and every lock it holds. A pooled connection therefore
//!   never holds an advisory lock for someone who is gone.
//!
//! A process holding a name gives it up only by dropping the guard (or by its connection
//! ending). Whoever takes a name after another process must read the log up to the database's
//! head before deciding (`EventStore::refresh_head`, then wait for the model to reach it): the
//! lock orders the decisions, the log carries what the one before decided.
//!
//! Names are constants in the code (`&'static str`, checked to be 1–63 of `a-z 0-9 . _ -`),
//! never built from anything a person said or is.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::{Object, Pool};
use tokio::sync::OwnedMutexGuard;

use crate::error::{Error, Result};
use crate::postgres_backend::{pg_error, pool_error};

/// How long taking a lock may wait for whoever holds it, in this process or another, before it
/// fails: a holder stuck for this long is a fault to report, not a queue to join.
pub const WAIT_AT_MOST: Duration = Duration::from_secs(30);

/// Takes the advisory lock of a name in the connection's schema. Session-level: it outlives the
/// transaction that bounds its wait.
const LOCK: &str = "SELECT pg_advisory_lock(hashtext(current_schema()), hashtext($1))";
const UNLOCK: &str = "SELECT pg_advisory_unlock(hashtext(current_schema()), hashtext($1))";

/// This process's mutex for each name, shared by every clone of one store.
#[derive(Debug, Default)]
pub(crate) struct Local {
    by_name: Mutex<HashMap<&'static str, Arc<tokio::sync::Mutex<()>>>>,
}

impl Local {
    fn mutex(&self, name: &'static str) -> Arc<tokio::sync::Mutex<()>> {
        let mut by_name = self.by_name.lock().unwrap_or_else(|p| p.into_inner());
        by_name.entry(name).or_default().clone()
    }
}

/// A name is a constant of the code: 1–63 characters of `a-z`, `0-9`, `.`, `_` and `-`.
fn check_name(name: &str) -> Result<()> {
    let valid = (1..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(Error::Storage { detail: "a lock name is 1–63 characters of a-z, 0-9, '.', '_' and '-'".into() })
    }
}

fn waited_too_long(name: &str) -> Error {
    Error::Storage {
        detail: format!("the lock {name} was held elsewhere for over {} s; try again", WAIT_AT_MOST.as_secs()),
    }
}

/// Takes `name` in this process, then, when `pool` is the log's PostgreSQL pool, across every
/// process over it. See [`crate::EventStore::exclusive`].
pub(crate) async fn take(local: &Local, pool: Option<Pool>, name: &'static str) -> Result<Exclusive> {
    check_name(name)?;
    let mutex = local.mutex(name);
    let local = tokio::time::timeout(WAIT_AT_MOST, mutex.lock_owned()).await.map_err(|_| waited_too_long(name))?;
    let held = match pool {
        Some(pool) => Some(Held::take(&pool, name).await?),
        None => None,
    };
    Ok(Exclusive { name, local: Some(local), held })
}

/// A named lock, held until this is dropped (or [`Exclusive::release`]d). See the module
/// documentation.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct Exclusive {
    name: &'static str,
    local: Option<OwnedMutexGuard<()>>,
    held: Option<Held>,
}

impl std::fmt::Debug for Exclusive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exclusive").field("name", &self.name).field("in_postgres", &self.held.is_some()).finish()
    }
}

impl Exclusive {
    /// The lock's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Releases the lock and returns once every process can take it. Dropping the guard releases
    /// it too, a moment later (the release is sent from a task of its own).
    pub async fn release(mut self) {
        if let Some(held) = self.held.take() {
            held.release().await;
        }
        self.local.take();
    }
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        let Some(held) = self.held.take() else { return };
        // This process's mutex is kept until the database has released the lock, so that the
        // next caller here does not queue on a second connection meanwhile.
        let local = self.local.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    held.release().await;
                    drop(local);
                });
            }
            // No runtime to send the release from: closing the connection releases it.
            Err(_) => drop(held),
        }
    }
}

/// An advisory lock held on a connection taken from the pool for it. Dropped without
/// [`Held::release`], the connection is closed rather than returned.
struct Held {
    client: Option<Object>,
    name: &'static str,
}

impl Held {
    async fn take(pool: &Pool, name: &'static str) -> Result<Held> {
        let client = tokio::time::timeout(WAIT_AT_MOST, pool.get())
            .await
            .map_err(|_| waited_too_long(name))?
            .map_err(pool_error)?;
        // From here until the lock is confirmed, any failure, and the caller giving up while
        // PostgreSQL still waits for the lock, closes the connection (`Held`'s drop).
        let mut held = Held { client: Some(client), name };
        let client = held.client.as_mut().expect("just set");
        let tx = client.transaction().await.map_err(pg_error)?;
        tx.batch_execute(&format!("SET LOCAL lock_timeout = '{}s'", WAIT_AT_MOST.as_secs())).await.map_err(pg_error)?;
        tx.execute(LOCK, &[&name]).await.map_err(|error| {
            if error.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
                waited_too_long(name)
            } else {
                pg_error(error)
            }
        })?;
        tx.commit().await.map_err(pg_error)?;
        Ok(held)
    }

    /// Releases the lock; the connection goes back to the pool only if PostgreSQL confirmed it.
    async fn release(mut self) {
        let Some(client) = self.client.take() else { return };
        match client.query_one(UNLOCK, &[&self.name]).await {
            Ok(row) if row.get::<_, bool>(0) => drop(client),
            Ok(_) => {
                tracing::warn!(lock = self.name, "an advisory lock was not held at release; closing its connection");
                drop(Object::take(client));
            }
            Err(error) => {
                tracing::warn!(lock = self.name, error = %pg_error(error), "releasing an advisory lock failed; closing its connection");
                drop(Object::take(client));
            }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Closing the connection ends its session, and with it every lock the session held.
            drop(Object::take(client));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn a_lock_name_is_a_short_constant_of_plain_characters() {
        assert!(check_name("advocacy.attributing").is_ok());
        assert!(check_name("feedback.imports-adding_2").is_ok());
        for bad in ["", "Attributing", "a name", "o'brien", &"x".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad:?} is refused");
        }
    }
}
