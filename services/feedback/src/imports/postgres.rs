//! Drafts and jobs in PostgreSQL (`heard_imports`, migration 3 of
//! `heard_eventstore::postgres_backend`), so that a coordinator's upload, review, confirmation
//! and progress page may each reach any replica over the same log.
//!
//! A draft holds the unredacted rows, so its file, its file name and the column choices (whose
//! headings are cells of the file) are sealed with ChaCha20-Poly1305 under a key of the draft's
//! own, derived from the [`ImportKey`] (itself derived from the server key `secret.key` that
//! every replica holds, and that is not in the database) and the draft's id; the associated data
//! names the draft and the column, so a ciphertext cannot be moved to another draft or field. A
//! row holds in the clear only its owner account (so that it can be removed with the account),
//! the hub, its state, counts and times.
//!
//! A draft lives an hour after it was last looked at. Confirmed, it becomes a job of the same
//! id, run by the replica that confirmed it: that replica writes its progress after each batch
//! and renews a lease every few seconds; a job whose lease has lapsed was interrupted (its
//! replica stopped) and is shown as stopped part of the way. When a job ends, its file is
//! removed; the job's counts, file name and rows to fix (sealed) stay a day. Rows past their
//! lifetime are deleted when a draft is kept and on a timer, and are never shown before then.
//!
//! Each replica keeps its own reading of a draft (the parsed file) for the revision it read, so
//! that a file is read again only on a replica that has not read that revision.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use heard_api::{ApiError, ApiResult};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::kept::{DRAFT_LIFETIME, Draft, FoundJob, IN_ALL, JOB_LIFETIME, Job, JobState, KeptImports, PER_ACCOUNT};
use crate::import::{Choice, Column, Reading};

/// How long a job's lease lasts: a job whose replica has not renewed it for this long was
/// interrupted.
pub(crate) const LEASE: Duration = Duration::from_secs(30);
/// How often the replica running a job renews its lease.
pub(crate) const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How often expired rows are deleted besides when a draft is kept.
const PRUNE_EVERY: Duration = Duration::from_secs(10 * 60);

/// The key every draft's own key is derived from: the same on every replica holding the same
/// server key, never stored.
#[derive(Clone)]
pub struct ImportKey([u8; 32]);

impl std::fmt::Debug for ImportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImportKey(..)")
    }
}

impl ImportKey {
    /// The gateway derives it from the server key (`Secrets::derived_key("import drafts")`).
    pub fn new(key: [u8; 32]) -> Self {
        ImportKey(key)
    }

    fn cipher(&self, id: Uuid) -> ChaCha20Poly1305 {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"heard import draft\0");
        mac.update(id.as_bytes());
        ChaCha20Poly1305::new_from_slice(&mac.finalize().into_bytes()).expect("a 32-byte key")
    }

    /// The nonce, then the ciphertext of `plaintext` for the draft `id`'s `field`.
    pub(crate) fn seal(&self, id: Uuid, field: &str, plaintext: &[u8]) -> ApiResult<Vec<u8>> {
        let nonce = Nonce::generate();
        let aad = associated_data(id, field);
        let ciphertext = self
            .cipher(id)
            .encrypt(&nonce, Payload { msg: plaintext, aad: &aad })
            .map_err(|_| ApiError::internal("a draft could not be sealed"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    pub(crate) fn open(&self, id: Uuid, field: &str, sealed: &[u8]) -> ApiResult<Vec<u8>> {
        let unopenable = || {
            ApiError::internal(
                "a kept import draft does not open: every replica must hold the same secret.key as the one that kept it",
            )
        };
        if sealed.len() < 12 {
            return Err(unopenable());
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        let nonce = Nonce::try_from(nonce).map_err(|_| unopenable())?;
        let aad = associated_data(id, field);
        self.cipher(id).decrypt(&nonce, Payload { msg: ciphertext, aad: &aad }).map_err(|_| unopenable())
    }
}

fn associated_data(id: Uuid, field: &str) -> Vec<u8> {
    let mut aad = id.as_bytes().to_vec();
    aad.push(0);
    aad.extend_from_slice(field.as_bytes());
    aad
}

/// The sheet and column choices a draft is read with, as sealed.
#[derive(serde::Serialize, serde::Deserialize)]
struct Settings {
    sheet: Option<String>,
    /// (heading, Heard's name of the column or `None` to leave it out)
    choices: Vec<(String, Option<String>)>,
}

impl Settings {
    fn of(draft: &Draft) -> Self {
        Settings {
            sheet: draft.sheet.clone(),
            choices: draft
                .choices
                .iter()
                .map(|choice| (choice.heading.clone(), choice.column.map(|column| column.name().to_owned())))
                .collect(),
        }
    }

    fn choices(&self) -> Vec<Choice> {
        self.choices
            .iter()
            .map(|(heading, column)| Choice {
                heading: heading.clone(),
                column: column.as_deref().and_then(|name| Column::ALL.into_iter().find(|c| c.name() == name)),
            })
            .collect()
    }
}

/// A job's counts, as the `progress` column holds them (nothing personal).
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Progress {
    total: usize,
    done: usize,
    imported: usize,
    already_there: usize,
    rows_to_fix: usize,
    message: Option<String>,
    /// Set once, when the job starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    already_at_start: Option<usize>,
}

impl Progress {
    fn of(job: &Job) -> Self {
        Progress {
            total: job.total,
            done: job.done,
            imported: job.imported,
            already_there: job.already_there,
            rows_to_fix: job.rows_to_fix,
            message: job.message.clone(),
            already_at_start: None,
        }
    }

    /// As the `progress` column takes it.
    fn json(&self) -> ApiResult<String> {
        serde_json::to_string(self).map_err(ApiError::internal)
    }
}

fn state_name(state: JobState) -> &'static str {
    match state {
        JobState::Running => "running",
        JobState::Finished => "finished",
        JobState::Failed => "failed",
    }
}

fn db(error: tokio_postgres::Error) -> ApiError {
    ApiError::internal(heard_eventstore::postgres_backend::pg_error(error))
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// Drafts and jobs in the log's PostgreSQL schema. See the module documentation.
pub(crate) struct InPostgres {
    pool: deadpool_postgres::Pool,
    key: ImportKey,
    /// This process's readings of drafts: (revision, reading) by draft id.
    readings: Mutex<HashMap<Uuid, (i64, Arc<Reading>)>>,
    /// How far [`KeptImports::advance_clock`] has moved this store's clock (tests only).
    offset_micros: AtomicI64,
}

impl std::fmt::Debug for InPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InPostgres(..)")
    }
}

impl InPostgres {
    /// The store over `pool`, pruned every ten minutes for as long as it is held.
    pub(crate) fn start(pool: deadpool_postgres::Pool, key: ImportKey) -> Arc<Self> {
        let store = Arc::new(InPostgres { pool, key, readings: Mutex::default(), offset_micros: AtomicI64::new(0) });
        let weak: Weak<InPostgres> = Arc::downgrade(&store);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PRUNE_EVERY).await;
                let Some(store) = weak.upgrade() else { return };
                if let Err(error) = store.prune().await {
                    tracing::warn!(error = %error.message(), "could not delete expired import drafts");
                }
            }
        });
        store
    }

    fn now(&self) -> i64 {
        let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        micros(wall) + self.offset_micros.load(Ordering::Relaxed)
    }

    async fn client(&self) -> ApiResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|error| ApiError::internal(heard_eventstore::postgres_backend::pool_error(error)))
    }

    /// Runs one statement on a connection of its own: how many rows it changed.
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> ApiResult<u64> {
        self.client().await?.execute(sql, params).await.map_err(db)
    }

    /// Runs one statement on a connection of its own: the row it answered, if any.
    async fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> ApiResult<Option<Row>> {
        self.client().await?.query_opt(sql, params).await.map_err(db)
    }

    /// The SQL condition a row within its lifetime meets at `now` (numbers only, no input).
    fn alive(now: i64) -> String {
        let draft = now - micros(DRAFT_LIFETIME);
        let job = now - micros(JOB_LIFETIME);
        format!(
            "(CASE state WHEN 'draft' THEN touched_micros > {draft} \
             WHEN 'running' THEN greatest(touched_micros, lease_micros) > {job} \
             ELSE touched_micros > {job} END)"
        )
    }

    /// The condition a row that may be evicted to make room meets: anything but a job still
    /// being run.
    fn evictable(now: i64) -> String {
        format!("NOT (state = 'running' AND lease_micros >= {now})")
    }

    fn cached(&self, id: Uuid, revision: i64) -> Option<Arc<Reading>> {
        let readings = self.readings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        readings.get(&id).filter(|(at, _)| *at == revision).map(|(_, reading)| reading.clone())
    }

    fn forget_reading(&self, id: Uuid) {
        self.readings.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
    }

    /// A draft from its row's sealed columns: its name, file and reading settings.
    fn open_draft(&self, id: Uuid, owner: Uuid, hub: String, sealed: [&[u8]; 3], revision: i64) -> ApiResult<Draft> {
        let [name, file, settings] = sealed;
        let file_name = String::from_utf8_lossy(&self.key.open(id, "name", name)?).into_owned();
        let bytes = self.key.open(id, "file", file)?;
        let settings: Settings =
            serde_json::from_slice(&self.key.open(id, "reading", settings)?).map_err(ApiError::internal)?;
        Ok(Draft {
            owner,
            hub,
            file_name,
            bytes: Arc::new(bytes),
            sheet: settings.sheet.clone(),
            choices: settings.choices(),
            revision,
            reading: self.cached(id, revision),
        })
    }

    fn seal_settings(&self, id: Uuid, draft: &Draft) -> ApiResult<Vec<u8>> {
        self.key.seal(id, "reading", &serde_json::to_vec(&Settings::of(draft)).map_err(ApiError::internal)?)
    }
}

#[async_trait]
impl KeptImports for InPostgres {
    async fn keep(&self, id: Uuid, draft: Draft) -> ApiResult<()> {
        let name = self.key.seal(id, "name", draft.file_name.as_bytes())?;
        let file = self.key.seal(id, "file", &draft.bytes)?;
        let settings = self.seal_settings(id, &draft)?;
        let now = self.now();
        let (alive, evictable) = (Self::alive(now), Self::evictable(now));
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        // One draft kept at a time, whichever replica keeps it, so that the limits hold.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext('heard_imports'))", &[]).await.map_err(db)?;
        tx.execute(&format!("DELETE FROM heard_imports WHERE NOT {alive}"), &[]).await.map_err(db)?;
        let theirs: i64 = tx
            .query_one("SELECT count(*) FROM heard_imports WHERE owner = $1", &[&draft.owner])
            .await
            .map_err(db)?
            .get(0);
        if theirs >= PER_ACCOUNT as i64 {
            tx.execute(
                &format!(
                    "DELETE FROM heard_imports WHERE id = (SELECT id FROM heard_imports WHERE owner = $1 \
                     AND {evictable} ORDER BY touched_micros LIMIT 1)"
                ),
                &[&draft.owner],
            )
            .await
            .map_err(db)?;
        }
        let all: i64 = tx.query_one("SELECT count(*) FROM heard_imports", &[]).await.map_err(db)?.get(0);
        if all >= IN_ALL as i64 {
            tx.execute(
                &format!(
                    "DELETE FROM heard_imports WHERE id = (SELECT id FROM heard_imports WHERE {evictable} \
                     ORDER BY touched_micros LIMIT 1)"
                ),
                &[],
            )
            .await
            .map_err(db)?;
        }
        tx.execute(
            "INSERT INTO heard_imports (id, owner, hub, state, name, file, reading, revision, touched_micros) \
             VALUES ($1, $2, $3, 'draft', $4, $5, $6, 0, $7)",
            &[&id, &draft.owner, &draft.hub, &name, &file, &settings, &now],
        )
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        if let Some(reading) = draft.reading {
            self.remember(id, 0, reading);
        }
        Ok(())
    }

    async fn draft(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<Draft>> {
        let now = self.now();
        let alive = Self::alive(now);
        let sql = format!(
            "UPDATE heard_imports SET touched_micros = $3 WHERE id = $1 AND owner = $2 AND state = 'draft' \
             AND {alive} RETURNING hub, name, file, reading, revision"
        );
        let Some(row) = self.query_opt(&sql, &[&id, &owner, &now]).await? else { return Ok(None) };
        let (name, file, settings): (Vec<u8>, Vec<u8>, Vec<u8>) = (row.get(1), row.get(2), row.get(3));
        Ok(Some(self.open_draft(id, owner, row.get(0), [&name, &file, &settings], row.get(4))?))
    }

    fn remember(&self, id: Uuid, revision: i64, reading: Arc<Reading>) {
        let mut readings = self.readings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if readings.len() >= IN_ALL && !readings.contains_key(&id) {
            readings.clear();
        }
        readings.insert(id, (revision, reading));
    }

    async fn revise(&self, owner: Uuid, id: Uuid, revised: &Draft) -> ApiResult<bool> {
        let settings = self.seal_settings(id, revised)?;
        let now = self.now();
        let alive = Self::alive(now);
        let sql = format!(
            "UPDATE heard_imports SET reading = $3, revision = revision + 1, touched_micros = $4 \
             WHERE id = $1 AND owner = $2 AND state = 'draft' AND {alive} RETURNING revision"
        );
        let Some(row) = self.query_opt(&sql, &[&id, &owner, &settings, &now]).await? else { return Ok(false) };
        if let Some(reading) = &revised.reading {
            self.remember(id, row.get(0), reading.clone());
        }
        Ok(true)
    }

    async fn cancel(&self, owner: Uuid, id: Uuid) -> ApiResult<bool> {
        let alive = Self::alive(self.now());
        let sql = format!("DELETE FROM heard_imports WHERE id = $1 AND owner = $2 AND state = 'draft' AND {alive}");
        let deleted = self.execute(&sql, &[&id, &owner]).await?;
        self.forget_reading(id);
        Ok(deleted == 1)
    }

    async fn start(&self, owner: Uuid, job: &Job, rejects: Vec<u8>, already_at_start: usize) -> ApiResult<bool> {
        let rejects = self.key.seal(job.id, "rejects", &rejects)?;
        let progress = Progress { already_at_start: Some(already_at_start), ..Progress::of(job) }.json()?;
        let now = self.now();
        let lease = now + micros(LEASE);
        let alive = Self::alive(now);
        let sql = format!(
            "UPDATE heard_imports SET state = 'running', progress = $3::text::jsonb, rejects = $4, touched_micros = $5, \
             lease_micros = $6 WHERE id = $1 AND owner = $2 AND state = 'draft' AND {alive}"
        );
        let started = self.execute(&sql, &[&job.id, &owner, &progress, &rejects, &now, &lease]).await?;
        self.forget_reading(job.id);
        Ok(started == 1)
    }

    async fn progress(&self, job: &Job) -> ApiResult<bool> {
        let progress = Progress::of(job).json()?;
        let now = self.now();
        let lease = now + micros(LEASE);
        let state = state_name(job.state);
        // Once it has ended, its file goes: only the counts and the rows to fix stay.
        let updated = self
            .execute(
                "UPDATE heard_imports SET progress = progress || $2::text::jsonb, state = $3, touched_micros = $4, \
                 lease_micros = $5, \
                 file = CASE WHEN $3 = 'running' THEN file END, reading = CASE WHEN $3 = 'running' THEN reading END \
                 WHERE id = $1 AND state = 'running' AND lease_micros >= $4",
                &[&job.id, &progress, &state, &now, &lease],
            )
            .await?;
        Ok(updated == 1)
    }

    async fn interrupted(&self, job: &Job) -> ApiResult<()> {
        let progress = Progress::of(job).json()?;
        let now = self.now();
        self.execute(
            "UPDATE heard_imports SET progress = progress || $2::text::jsonb, state = 'failed', \
             touched_micros = $3, file = NULL, reading = NULL \
             WHERE id = $1 AND state = 'running' AND lease_micros < $3",
            &[&job.id, &progress, &now],
        )
        .await?;
        Ok(())
    }

    async fn renew(&self, id: Uuid) -> ApiResult<bool> {
        let now = self.now();
        let lease = now + micros(LEASE);
        let renewed = self
            .execute(
                "UPDATE heard_imports SET lease_micros = $2 WHERE id = $1 AND state = 'running' AND lease_micros >= $3",
                &[&id, &lease, &now],
            )
            .await?;
        Ok(renewed == 1)
    }

    async fn job(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<FoundJob>> {
        let now = self.now();
        let alive = Self::alive(now);
        let sql = format!(
            "SELECT hub, state, name, progress::text, lease_micros, file, reading, revision FROM heard_imports \
             WHERE id = $1 AND owner = $2 AND state <> 'draft' AND {alive}"
        );
        let Some(row) = self.query_opt(&sql, &[&id, &owner]).await? else { return Ok(None) };
        let hub: String = row.get(0);
        let state: String = row.get(1);
        let name: Vec<u8> = row.get(2);
        let progress: Progress = serde_json::from_str(row.get(3)).map_err(ApiError::internal)?;
        let lease: Option<i64> = row.get(4);
        let job = Job {
            id,
            hub: hub.clone(),
            file_name: String::from_utf8_lossy(&self.key.open(id, "name", &name)?).into_owned(),
            state: match state.as_str() {
                "running" => JobState::Running,
                "finished" => JobState::Finished,
                _ => JobState::Failed,
            },
            total: progress.total,
            done: progress.done,
            imported: progress.imported,
            already_there: progress.already_there,
            rows_to_fix: progress.rows_to_fix,
            message: progress.message,
        };
        if job.state != JobState::Running || lease.is_some_and(|lease| lease >= now) {
            return Ok(Some(FoundJob::Job(job)));
        }
        let (file, settings): (Option<Vec<u8>>, Option<Vec<u8>>) = (row.get(5), row.get(6));
        let draft = match (file, settings) {
            (Some(file), Some(settings)) => {
                Some(self.open_draft(id, owner, hub, [&name, &file, &settings], row.get(7))?)
            }
            _ => None,
        };
        Ok(Some(FoundJob::Interrupted { job, draft, already_at_start: progress.already_at_start.unwrap_or(0) }))
    }

    async fn rejects(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<Vec<u8>>> {
        let alive = Self::alive(self.now());
        let sql =
            format!("SELECT rejects FROM heard_imports WHERE id = $1 AND owner = $2 AND state <> 'draft' AND {alive}");
        let row = self.query_opt(&sql, &[&id, &owner]).await?;
        let Some(sealed) = row.and_then(|row| row.get::<_, Option<Vec<u8>>>(0)) else { return Ok(None) };
        Ok(Some(self.key.open(id, "rejects", &sealed)?))
    }

    async fn prune(&self) -> ApiResult<()> {
        let alive = Self::alive(self.now());
        self.execute(&format!("DELETE FROM heard_imports WHERE NOT {alive}"), &[]).await?;
        Ok(())
    }

    #[cfg(test)]
    fn advance_clock(&self, by: Duration) {
        self.offset_micros.fetch_add(micros(by), Ordering::Relaxed);
    }
}

#[cfg(test)]
#[path = "postgres_tests.rs"]
mod tests;
