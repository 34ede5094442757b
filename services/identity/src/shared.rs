//! What every `heard serve` replica over one log must agree on beside the log itself: login
//! throttling and lockouts, which account an email belongs to while it is being created, which
//! server key they all hold, and how far the directory must have read before a session or a
//! token is trusted.
//!
//! [`SharedState`] is the one seam: [`InProcess`] keeps today's behaviour of a single process
//! (memory, a mutex), [`InPostgres`] keeps the same facts in tables of the log's own schema
//! (migration 2 of `heard_eventstore::postgres_backend`), so that two replicas count one
//! person's failed logins together and never give one email two accounts. The service picks
//! one when it opens ([`for_store`]) and calls nothing else.
//!
//! Neither holds an email or an address in the clear: the service hands over keyed hashes
//! ([`crate::secrets::Secrets::email_key`], [`crate::secrets::Secrets::address_key`]), and
//! each row names the account it concerns, when there is one, so [`SharedState::forget_account`]
//! removes everything about an account when it is deactivated.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use heard_api::{ApiError, ApiResult};
use heard_eventstore::EventStore;
use tokio_postgres::Statement;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::directory::Directory;
use crate::secrets::Secrets;

/// Failed logins from one address are counted over this window.
pub const ADDRESS_WINDOW: Duration = Duration::from_secs(15 * 60);
/// A run of failed logins nobody has added to for this long is forgotten (in memory too, once
/// there are many), as a process restart forgot them before replicas shared them.
pub const FORGET_FAILURES_AFTER: Duration = Duration::from_secs(24 * 3600);
/// How long the directory may take to reach the database's head before a request that must
/// trust it is refused as unavailable.
const CATCH_UP_WITHIN: Duration = Duration::from_secs(5);
/// Entries kept in memory before old ones are pruned, so that spraying emails cannot grow it.
const MAX_ENTRIES: usize = 100_000;

/// One login attempt's keys: the keyed hash of the (normalised) email, and of the client's
/// address (empty when it is not known).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attempt {
    pub email_key: String,
    pub address_key: String,
}

/// Failed logins in a row for one [`Attempt`], and the wait they earned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    pub failures: u32,
    /// No attempt is checked before this time (microseconds since the epoch).
    pub until_micros: i64,
}

/// The wait the `failures`th failure in a row earns: none below `max`, then `first`, doubling
/// with each further failure, never more than `longest`.
pub fn wait_after(failures: u32, max: u32, first: Duration, longest: Duration) -> Option<Duration> {
    if failures < max {
        return None;
    }
    let doublings = (failures - max).min(20);
    Some(first.saturating_mul(1u32 << doublings).min(longest))
}

/// How a run of failures turns into waits (from `IdentityConfig`).
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub max_failures: u32,
    pub first_wait: Duration,
    pub longest_wait: Duration,
}

/// Who holds an email's reservation, when it is not the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder {
    pub account: Uuid,
    pub since_micros: i64,
}

/// The answer to [`SharedState::reserve_email`].
#[derive(Debug)]
pub enum Reservation {
    /// The caller holds the email until its account is created or [`SharedState::release_email`].
    /// In one process this also holds the creation lock, released when it is dropped.
    Held(Option<tokio::sync::OwnedMutexGuard<()>>),
    /// Another account holds it.
    HeldBy(Holder),
}

/// What replicas share beside the log. See the module documentation.
#[async_trait]
pub trait SharedState: Send + Sync + std::fmt::Debug {
    /// Returns once `directory` has applied everything any replica had committed when this was
    /// called: a session ended, a token revoked or an account created on another replica a
    /// moment ago is seen here. Fails (as unavailable) if the database cannot say or the
    /// directory does not get there within 5 s.
    async fn catch_up(&self, directory: &Directory) -> ApiResult<()>;

    /// Whether this process holds the same server key (named by `key_id`) as every other over
    /// the same store; the first to ask records its own.
    async fn server_key_matches(&self, key_id: &str) -> ApiResult<bool>;

    /// Failed logins from `address_key` since `since_micros`.
    async fn address_failures(&self, address_key: &str, since_micros: i64) -> ApiResult<u32>;

    /// The run of failures for `attempt`, if any.
    async fn backoff(&self, attempt: &Attempt) -> ApiResult<Option<Backoff>>;

    /// Counts one more failure for `attempt` (and for its address), atomically across replicas,
    /// and returns the run with the wait it has earned under `policy`. `account` is the account
    /// the email belongs to, if any (so the row goes when that account is erased).
    async fn count_failure(
        &self,
        attempt: &Attempt,
        account: Option<Uuid>,
        now_micros: i64,
        policy: Policy,
    ) -> ApiResult<Backoff>;

    /// Forgets the run of failures for `attempt` (a successful login).
    async fn clear(&self, attempt: &Attempt) -> ApiResult<()>;

    /// Forgets every run of failures for an email, from every address (an administrator's unlock).
    async fn unlock(&self, email_key: &str) -> ApiResult<()>;

    /// Reserves an email for the account about to be created.
    async fn reserve_email(&self, email_key: &str, account: Uuid, now_micros: i64) -> ApiResult<Reservation>;

    /// Hands an email's reservation from `from` (a holder that never made its account, or whose
    /// person was erased) to `to`; `false` if someone else took it first.
    async fn take_over_email(&self, email_key: &str, from: Uuid, to: Uuid, now_micros: i64) -> ApiResult<bool>;

    /// Gives up `account`'s reservation of an email (its creation failed).
    async fn release_email(&self, email_key: &str, account: Uuid) -> ApiResult<()>;

    /// Reserves the email of every account in `directory` that has no reservation yet (accounts
    /// made before reservations were shared), keyed by `secrets`; not a deactivated account's,
    /// whose reservation went with its deactivation. Called once at start.
    async fn enter_existing_emails(&self, directory: &Directory, secrets: &Secrets, now_micros: i64) -> ApiResult<()>;

    /// Removes everything kept about `account`: its email's reservation and its runs of failed
    /// logins. For an account's deactivation.
    async fn forget_account(&self, account: Uuid) -> ApiResult<()>;

    /// Keeps `sealed` (what one page view after a form's redirect shows, sealed by the caller)
    /// for `session`'s `slot`, in place of anything kept there, at `now_micros`. What was kept
    /// at or before `expired_micros` goes, and a session keeps at most [`ONCE_PER_SESSION`].
    async fn keep_once(
        &self,
        session: Uuid,
        slot: &str,
        sealed: Vec<u8>,
        now_micros: i64,
        expired_micros: i64,
    ) -> ApiResult<()>;

    /// Takes what is kept for `session`'s `slot`, if it was kept after `expired_micros`: the
    /// next call, on any replica, finds nothing.
    async fn take_once(&self, session: Uuid, slot: &str, expired_micros: i64) -> ApiResult<Option<Vec<u8>>>;
}

/// The most things one session keeps for one view at once (the oldest go first).
pub const ONCE_PER_SESSION: usize = 20;
/// The most things one process keeps for one view at once, on the embedded store (the oldest
/// go first).
pub const ONCE_IN_ALL: usize = 1_000;

/// The shared state for `store`: in PostgreSQL when the log is, else in this process.
pub fn for_store(store: &EventStore) -> Arc<dyn SharedState> {
    match store.postgres_pool() {
        Some(pool) => Arc::new(InPostgres::new(store.clone(), pool)),
        None => Arc::new(InProcess::default()),
    }
}

/// One process's shared state: memory only (never logged), and a mutex around account creation.
#[derive(Debug, Default)]
pub struct InProcess {
    throttle: Mutex<Throttle>,
    creating: Arc<tokio::sync::Mutex<()>>,
    /// What one view shows, by (session, slot).
    once: Mutex<HashMap<(Uuid, String), KeptOnce>>,
}

/// What one view shows, sealed, and when it was kept (micros).
type KeptOnce = (i64, Vec<u8>);

#[derive(Debug, Default)]
struct Throttle {
    attempts: HashMap<Attempt, (Backoff, Option<Uuid>, i64)>,
    by_address: HashMap<String, VecDeque<i64>>,
}

impl InProcess {
    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl SharedState for InProcess {
    async fn catch_up(&self, _: &Directory) -> ApiResult<()> {
        // One process: every append went through this process and its directory waits for it.
        Ok(())
    }

    async fn server_key_matches(&self, _: &str) -> ApiResult<bool> {
        Ok(true)
    }

    async fn address_failures(&self, address_key: &str, since_micros: i64) -> ApiResult<u32> {
        let throttle = self.throttle();
        let count = throttle
            .by_address
            .get(address_key)
            .map_or(0, |times| times.iter().filter(|at| **at > since_micros).count());
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn backoff(&self, attempt: &Attempt) -> ApiResult<Option<Backoff>> {
        Ok(self.throttle().attempts.get(attempt).map(|(backoff, _, _)| *backoff))
    }

    async fn count_failure(
        &self,
        attempt: &Attempt,
        account: Option<Uuid>,
        now_micros: i64,
        policy: Policy,
    ) -> ApiResult<Backoff> {
        let mut throttle = self.throttle();
        let window = micros(ADDRESS_WINDOW);
        if throttle.attempts.len() > MAX_ENTRIES {
            let stale = now_micros - micros(FORGET_FAILURES_AFTER);
            throttle.attempts.retain(|_, (backoff, _, at)| backoff.until_micros > now_micros || *at > stale);
        }
        if throttle.by_address.len() > MAX_ENTRIES {
            throttle.by_address.retain(|_, times| times.back().is_some_and(|at| *at > now_micros - window));
        }
        if !attempt.address_key.is_empty() {
            let times = throttle.by_address.entry(attempt.address_key.clone()).or_default();
            while times.front().is_some_and(|at| *at <= now_micros - window) {
                times.pop_front();
            }
            times.push_back(now_micros);
        }
        let (backoff, held_by, at) = throttle.attempts.entry(attempt.clone()).or_default();
        backoff.failures = backoff.failures.saturating_add(1);
        if let Some(wait) = wait_after(backoff.failures, policy.max_failures, policy.first_wait, policy.longest_wait) {
            backoff.until_micros = backoff.until_micros.max(now_micros + micros(wait));
        }
        *held_by = account;
        *at = now_micros;
        Ok(*backoff)
    }

    async fn clear(&self, attempt: &Attempt) -> ApiResult<()> {
        self.throttle().attempts.remove(attempt);
        Ok(())
    }

    async fn unlock(&self, email_key: &str) -> ApiResult<()> {
        self.throttle().attempts.retain(|attempt, _| attempt.email_key != email_key);
        Ok(())
    }

    async fn reserve_email(&self, _: &str, _: Uuid, _: i64) -> ApiResult<Reservation> {
        // In one process the directory is the truth, checked under this lock.
        Ok(Reservation::Held(Some(self.creating.clone().lock_owned().await)))
    }

    async fn take_over_email(&self, _: &str, _: Uuid, _: Uuid, _: i64) -> ApiResult<bool> {
        Ok(true)
    }

    async fn release_email(&self, _: &str, _: Uuid) -> ApiResult<()> {
        Ok(())
    }

    async fn enter_existing_emails(&self, _: &Directory, _: &Secrets, _: i64) -> ApiResult<()> {
        Ok(())
    }

    async fn forget_account(&self, account: Uuid) -> ApiResult<()> {
        self.throttle().attempts.retain(|_, (_, held_by, _)| *held_by != Some(account));
        Ok(())
    }

    async fn keep_once(
        &self,
        session: Uuid,
        slot: &str,
        sealed: Vec<u8>,
        now_micros: i64,
        expired_micros: i64,
    ) -> ApiResult<()> {
        let mut once = self.once.lock().unwrap_or_else(|p| p.into_inner());
        once.retain(|_, (at, _)| *at > expired_micros);
        once.insert((session, slot.to_owned()), (now_micros, sealed));
        let mut theirs: Vec<(i64, String)> = once
            .iter()
            .filter(|((held_by, _), _)| *held_by == session)
            .map(|((_, slot), (at, _))| (*at, slot.clone()))
            .collect();
        if theirs.len() > ONCE_PER_SESSION {
            theirs.sort();
            for (_, slot) in &theirs[..theirs.len() - ONCE_PER_SESSION] {
                once.remove(&(session, slot.clone()));
            }
        }
        // One process's memory: never more than ONCE_IN_ALL, whoever keeps them.
        while once.len() > ONCE_IN_ALL {
            let Some(oldest) = once.iter().min_by_key(|(_, (at, _))| *at).map(|(key, _)| key.clone()) else { break };
            once.remove(&oldest);
        }
        Ok(())
    }

    async fn take_once(&self, session: Uuid, slot: &str, expired_micros: i64) -> ApiResult<Option<Vec<u8>>> {
        let mut once = self.once.lock().unwrap_or_else(|p| p.into_inner());
        Ok(once.remove(&(session, slot.to_owned())).filter(|(at, _)| *at > expired_micros).map(|(_, sealed)| sealed))
    }
}

/// The shared state in PostgreSQL, beside the log (tables of migration 2).
pub struct InPostgres {
    store: EventStore,
    pool: deadpool_postgres::Pool,
}

impl std::fmt::Debug for InPostgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InPostgres(..)")
    }
}

fn db(error: tokio_postgres::Error) -> ApiError {
    ApiError::internal(heard_eventstore::postgres_backend::pg_error(error))
}

impl InPostgres {
    pub fn new(store: EventStore, pool: deadpool_postgres::Pool) -> Self {
        InPostgres { store, pool }
    }

    async fn client(&self) -> ApiResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|error| ApiError::internal(heard_eventstore::postgres_backend::pool_error(error)))
    }

    /// Runs one statement on a connection of its own: how many rows it changed.
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> ApiResult<u64> {
        self.client().await?.execute(sql, params).await.map_err(db)
    }
}

/// `sql` prepared on `client`, once per connection (the pool keeps it).
async fn prepared(client: &deadpool_postgres::Object, sql: &str) -> ApiResult<Statement> {
    client.prepare_cached(sql).await.map_err(db)
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

#[async_trait]
impl SharedState for InPostgres {
    async fn catch_up(&self, directory: &Directory) -> ApiResult<()> {
        let head = self.store.refresh_head().await.map_err(ApiError::internal)?;
        if directory.wait_for(head, CATCH_UP_WITHIN).await {
            Ok(())
        } else {
            Err(ApiError::internal(format!("the identity model did not reach position {head} within 5 s")))
        }
    }

    async fn server_key_matches(&self, key_id: &str) -> ApiResult<bool> {
        let client = self.client().await?;
        client
            .execute("INSERT INTO heard_server_key (key_id) VALUES ($1) ON CONFLICT DO NOTHING", &[&key_id])
            .await
            .map_err(db)?;
        let row = client.query_one("SELECT key_id FROM heard_server_key", &[]).await.map_err(db)?;
        Ok(row.get::<_, String>(0) == key_id)
    }

    async fn address_failures(&self, address_key: &str, since_micros: i64) -> ApiResult<u32> {
        let client = self.client().await?;
        let statement =
            prepared(&client, "SELECT count(*) FROM heard_address_failures WHERE address_key = $1 AND at_micros > $2")
                .await?;
        let row = client.query_one(&statement, &[&address_key, &since_micros]).await.map_err(db)?;
        Ok(u32::try_from(row.get::<_, i64>(0)).unwrap_or(u32::MAX))
    }

    async fn backoff(&self, attempt: &Attempt) -> ApiResult<Option<Backoff>> {
        let client = self.client().await?;
        let statement = prepared(
            &client,
            "SELECT failures, until_micros FROM heard_login_failures WHERE email_key = $1 AND address_key = $2",
        )
        .await?;
        let row = client.query_opt(&statement, &[&attempt.email_key, &attempt.address_key]).await.map_err(db)?;
        Ok(row.map(|row| Backoff {
            failures: u32::try_from(row.get::<_, i32>(0)).unwrap_or(0),
            until_micros: row.get(1),
        }))
    }

    async fn count_failure(
        &self,
        attempt: &Attempt,
        account: Option<Uuid>,
        now_micros: i64,
        policy: Policy,
    ) -> ApiResult<Backoff> {
        let client = self.client().await?;
        if !attempt.address_key.is_empty() {
            let at = prepared(&client, "INSERT INTO heard_address_failures (address_key, at_micros) VALUES ($1, $2)")
                .await?;
            client.execute(&at, &[&attempt.address_key, &now_micros]).await.map_err(db)?;
        }
        // One statement adds the failure: replicas counting at once each see their own number.
        let count = prepared(
            &client,
            "INSERT INTO heard_login_failures (email_key, address_key, account, failures, updated_micros)
             VALUES ($1, $2, $3, 1, $4)
             ON CONFLICT (email_key, address_key) DO UPDATE
             SET failures = heard_login_failures.failures + 1, account = EXCLUDED.account,
                 updated_micros = EXCLUDED.updated_micros
             RETURNING failures, until_micros",
        )
        .await?;
        let row = client
            .query_one(&count, &[&attempt.email_key, &attempt.address_key, &account, &now_micros])
            .await
            .map_err(db)?;
        let failures = u32::try_from(row.get::<_, i32>(0)).unwrap_or(0);
        let mut backoff = Backoff { failures, until_micros: row.get(1) };
        if let Some(wait) = wait_after(failures, policy.max_failures, policy.first_wait, policy.longest_wait) {
            let update = prepared(
                &client,
                "UPDATE heard_login_failures SET until_micros = greatest(until_micros, $3)
                 WHERE email_key = $1 AND address_key = $2 RETURNING until_micros",
            )
            .await?;
            let until = now_micros + micros(wait);
            let row =
                client.query_opt(&update, &[&attempt.email_key, &attempt.address_key, &until]).await.map_err(db)?;
            backoff.until_micros = row.map_or(until, |row| row.get(0));
        }
        // What no longer counts goes: addresses' failures past the window, and runs of failures
        // nobody added to for a day whose wait is over.
        let prune = prepared(
            &client,
            "WITH old_addresses AS (DELETE FROM heard_address_failures WHERE at_micros <= $1)
             DELETE FROM heard_login_failures WHERE updated_micros <= $2 AND until_micros <= $3",
        )
        .await?;
        let window_start = now_micros - micros(ADDRESS_WINDOW);
        let stale = now_micros - micros(FORGET_FAILURES_AFTER);
        client.execute(&prune, &[&window_start, &stale, &now_micros]).await.map_err(db)?;
        Ok(backoff)
    }

    async fn clear(&self, attempt: &Attempt) -> ApiResult<()> {
        self.execute(
            "DELETE FROM heard_login_failures WHERE email_key = $1 AND address_key = $2",
            &[&attempt.email_key, &attempt.address_key],
        )
        .await?;
        Ok(())
    }

    async fn unlock(&self, email_key: &str) -> ApiResult<()> {
        self.execute("DELETE FROM heard_login_failures WHERE email_key = $1", &[&email_key]).await?;
        Ok(())
    }

    async fn reserve_email(&self, email_key: &str, account: Uuid, now_micros: i64) -> ApiResult<Reservation> {
        let client = self.client().await?;
        // A reservation released between the insert and the read is tried once more.
        for _ in 0..2 {
            let reserved = client
                .query_opt(
                    "INSERT INTO heard_email_reservations (email_key, account, reserved_micros) VALUES ($1, $2, $3)
                     ON CONFLICT (email_key) DO NOTHING RETURNING account",
                    &[&email_key, &account, &now_micros],
                )
                .await
                .map_err(db)?;
            if reserved.is_some() {
                return Ok(Reservation::Held(None));
            }
            let holder = client
                .query_opt(
                    "SELECT account, reserved_micros FROM heard_email_reservations WHERE email_key = $1",
                    &[&email_key],
                )
                .await
                .map_err(db)?;
            if let Some(row) = holder {
                return Ok(Reservation::HeldBy(Holder { account: row.get(0), since_micros: row.get(1) }));
            }
        }
        Err(ApiError::Conflict("someone is creating an account with this email; try again".into()))
    }

    async fn take_over_email(&self, email_key: &str, from: Uuid, to: Uuid, now_micros: i64) -> ApiResult<bool> {
        let changed = self
            .execute(
                "UPDATE heard_email_reservations SET account = $3, reserved_micros = $4
                 WHERE email_key = $1 AND account = $2",
                &[&email_key, &from, &to, &now_micros],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn release_email(&self, email_key: &str, account: Uuid) -> ApiResult<()> {
        self.execute(
            "DELETE FROM heard_email_reservations WHERE email_key = $1 AND account = $2",
            &[&email_key, &account],
        )
        .await?;
        Ok(())
    }

    async fn enter_existing_emails(&self, directory: &Directory, secrets: &Secrets, now_micros: i64) -> ApiResult<()> {
        let (keys, accounts): (Vec<String>, Vec<Uuid>) = directory.read(|state| {
            state
                .accounts
                .values()
                .filter(|account| !account.is_deactivated())
                .filter_map(|account| Some((secrets.email_key(&account.email(&self.store)?), account.id)))
                .unzip()
        });
        if keys.is_empty() {
            return Ok(());
        }
        self.execute(
            "INSERT INTO heard_email_reservations (email_key, account, reserved_micros)
             SELECT key, account, $3 FROM unnest($1::text[], $2::uuid[]) AS held (key, account)
             ON CONFLICT (email_key) DO NOTHING",
            &[&keys, &accounts, &now_micros],
        )
        .await?;
        Ok(())
    }

    async fn forget_account(&self, account: Uuid) -> ApiResult<()> {
        let client = self.client().await?;
        for sql in [
            "DELETE FROM heard_email_reservations WHERE account = $1",
            "DELETE FROM heard_login_failures WHERE account = $1",
        ] {
            client.execute(sql, &[&account]).await.map_err(db)?;
        }
        Ok(())
    }

    async fn keep_once(
        &self,
        session: Uuid,
        slot: &str,
        sealed: Vec<u8>,
        now_micros: i64,
        expired_micros: i64,
    ) -> ApiResult<()> {
        let client = self.client().await?;
        let limit = i64::try_from(ONCE_PER_SESSION).unwrap_or(i64::MAX);
        let keep = prepared(
            &client,
            "WITH expired AS (DELETE FROM heard_shown_once WHERE kept_micros <= $5),
             kept AS (
                 INSERT INTO heard_shown_once (session, slot, sealed, kept_micros) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (session, slot) DO UPDATE SET sealed = excluded.sealed, kept_micros = excluded.kept_micros
             )
             DELETE FROM heard_shown_once WHERE session = $1 AND slot <> $2 AND slot NOT IN (
                 SELECT slot FROM heard_shown_once WHERE session = $1 AND slot <> $2
                 ORDER BY kept_micros DESC LIMIT $6::bigint - 1
             )",
        )
        .await?;
        client.execute(&keep, &[&session, &slot, &sealed, &now_micros, &expired_micros, &limit]).await.map_err(db)?;
        Ok(())
    }

    async fn take_once(&self, session: Uuid, slot: &str, expired_micros: i64) -> ApiResult<Option<Vec<u8>>> {
        let client = self.client().await?;
        let take = prepared(
            &client,
            "DELETE FROM heard_shown_once WHERE session = $1 AND slot = $2 RETURNING sealed, kept_micros",
        )
        .await?;
        let row = client.query_opt(&take, &[&session, &slot]).await.map_err(db)?;
        Ok(row.filter(|row| row.get::<_, i64>(1) > expired_micros).map(|row| row.get(0)))
    }
}

#[cfg(test)]
#[path = "shared_tests.rs"]
mod tests;
