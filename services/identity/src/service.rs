//! Commands and authentication: what the GraphQL resolvers, the gateway and the CLI call.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use heard_access::{Actor, Role};
use heard_api::{ApiError, ApiResult, Viewer};
use heard_contracts::Event as _;
use heard_contracts::access::AccessRecorded;
use heard_eventstore::{EventStore, ExpectedRevision, ModelStore, NewEvent, StreamName, SubjectId};
use uuid::Uuid;

use crate::directory::{
    AccessEntry, Account, ApiToken, Directory, Hub, IndexEmails, KeptAccount, Provider, Session, State,
};
use crate::domain::{self, *};
use crate::secrets::{self, Secrets};
use crate::shared::{Attempt, Policy, Reservation, SharedState};

/// How logins and sessions behave. The gateway fills it from configuration.
#[derive(Clone, Debug)]
pub struct IdentityConfig {
    /// How long a login lasts.
    pub session_lifetime: Duration,
    /// Failed logins in a row, for one email from one address, before that address must wait.
    pub max_failed_logins: u32,
    /// The longest wait; the first is a minute and each further failure doubles it.
    pub lockout: Duration,
    /// Failed logins from one IP address within 15 minutes before it is refused for a while.
    pub max_failures_per_ip: u32,
    /// Mark cookies `Secure` (set when Heard is served over HTTPS).
    pub secure_cookies: bool,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            session_lifetime: Duration::from_secs(12 * 3600),
            max_failed_logins: 5,
            lockout: Duration::from_secs(15 * 60),
            max_failures_per_ip: 30,
            secure_cookies: false,
        }
    }
}

/// What a new account needs.
#[derive(Clone, Debug, Default)]
pub struct NewAccount {
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub hubs: Vec<String>,
    pub provider: Option<String>,
    /// `None`: generate a one-time password and return it.
    pub password: Option<String>,
}

/// What a password change ended besides the old password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordChange {
    /// Other sessions of the account that were logged out.
    pub sessions_ended: usize,
    /// API tokens revoked (only when asked).
    pub tokens_revoked: usize,
}

/// A successful login.
#[derive(Clone, Debug)]
pub struct LoggedIn {
    pub account: Account,
    pub session: Uuid,
    /// The value of the session cookie.
    pub cookie: String,
    pub csrf_token: String,
    pub expires_at_micros: i64,
}

/// The first wait after `max_failed_logins`; each further failure doubles it, up to `lockout`.
const FIRST_WAIT: Duration = Duration::from_secs(60);
/// How long what a page shows once waits for that page ([`IdentityService::keep_once`]).
pub const SHOWN_ONCE_FOR: Duration = Duration::from_secs(10 * 60);
/// An email reserved this long ago by an account that is still not in the log was never made
/// (its replica stopped half-way): another creation may take the email.
const RESERVATION_ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// The identity service.
#[derive(Clone, Debug)]
pub struct IdentityService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: EventStore,
    directory: Directory,
    secrets: Secrets,
    config: IdentityConfig,
    /// What every replica over the same store shares: login throttling, email reservations
    /// (so that two accounts never share an email), how far to read before trusting a session.
    shared: Arc<dyn SharedState>,
    /// Verified against when an email has no account, so both cases take as long.
    dummy_hash: String,
    /// Added to the wall clock: lets a test or a drill see what happens after a session expires
    /// without waiting for it.
    clock_offset_micros: std::sync::atomic::AtomicI64,
    /// Failed logins and waits begun, for `/metrics`.
    logins: LoginCounters,
}

/// Failed logins at this process since it started, by why they failed, and the waits they
/// began (for `/metrics`). Counts only: never an email, an address or an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginCounts {
    /// The email or the password was not right.
    pub wrong_credentials: u64,
    /// Refused unchecked: this email must wait at this address after failed logins.
    pub waiting: u64,
    /// Refused unchecked: too many failed logins from this address.
    pub address_throttled: u64,
    /// The password was right, but the account is deactivated.
    pub deactivated: u64,
    /// Waits begun: an email's `max_failed_logins`th failure in a row from one address (an
    /// account's is also recorded as `AccountLockedOut`; an email without one is counted alike,
    /// so this never tells which emails have accounts).
    pub lockouts: u64,
}

#[derive(Debug, Default)]
struct LoginCounters {
    wrong_credentials: std::sync::atomic::AtomicU64,
    waiting: std::sync::atomic::AtomicU64,
    address_throttled: std::sync::atomic::AtomicU64,
    deactivated: std::sync::atomic::AtomicU64,
    lockouts: std::sync::atomic::AtomicU64,
}

impl LoginCounters {
    fn count(counter: &std::sync::atomic::AtomicU64) {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn counts(&self) -> LoginCounts {
        let load = |counter: &std::sync::atomic::AtomicU64| counter.load(std::sync::atomic::Ordering::Relaxed);
        LoginCounts {
            wrong_credentials: load(&self.wrong_credentials),
            waiting: load(&self.waiting),
            address_throttled: load(&self.address_throttled),
            deactivated: load(&self.deactivated),
            lockouts: load(&self.lockouts),
        }
    }
}

pub fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

fn bad((field, message): (String, String)) -> ApiError {
    ApiError::BadUserInput { field, message }
}

impl IdentityService {
    /// Seeds the reference data if this is a new store, starts the projection (from what it
    /// saved in `models`, when that can be trusted) and waits until it has caught up with the
    /// log.
    pub async fn open(
        store: EventStore,
        data_dir: &Path,
        config: IdentityConfig,
        models: &ModelStore,
    ) -> Result<Self, StartError> {
        let secrets = Secrets::load_or_create(data_dir)?;
        let shared = crate::shared::for_store(&store);
        let same_key =
            shared.server_key_matches(&secrets.key_id()).await.map_err(|error| StartError::Other(error.message()))?;
        if !same_key {
            return Err(StartError::Other(
                "this data directory's secret.key is not the server key of the other Heard processes over this \
                 database: copy secret.key from a running replica's data directory (it signs every session)"
                    .into(),
            ));
        }
        let dummy_hash = tokio::task::spawn_blocking(|| secrets::hash_password("no account has this password"))
            .await
            .map_err(|error| StartError::Other(error.to_string()))?
            .map_err(StartError::Other)?;
        seed(&store).await?;
        let index = IndexEmails::new(secrets.clone(), store.clone());
        let started = Directory::start_kept("identity", store.clone(), Duration::from_secs(600), index, models);
        let directory = match started.await {
            Ok(directory) => directory,
            Err(heard_eventstore::Error::CatchUp { .. }) => {
                return Err(StartError::Other("the identity projection did not catch up with the log".into()));
            }
            Err(error) => return Err(error.into()),
        };
        // From now on, the directory finds accounts by email (`state.by_email`).
        directory.read(|state| state.by_email.open_with(secrets.clone(), store.clone()));
        shared
            .enter_existing_emails(&directory, &secrets, now_micros())
            .await
            .map_err(|error| StartError::Other(error.message()))?;
        Ok(IdentityService {
            inner: Arc::new(Inner {
                store,
                directory,
                secrets,
                config,
                shared,
                dummy_hash,
                clock_offset_micros: std::sync::atomic::AtomicI64::new(0),
                logins: LoginCounters::default(),
            }),
        })
    }

    /// Failed logins and the waits they began since this service started (for `/metrics`).
    pub fn login_counts(&self) -> LoginCounts {
        self.inner.logins.counts()
    }

    /// Waits for the projection task to finish after the store was closed, so that nothing
    /// of this service holds the store any more.
    pub async fn stopped(&self) {
        self.inner.directory.stopped().await;
    }

    /// The service's notion of now (the wall clock, plus any offset from [`Self::advance_clock`]).
    pub fn now_micros(&self) -> i64 {
        now_micros() + self.inner.clock_offset_micros.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Moves this service's clock forward, e.g. to check that sessions expire.
    pub fn advance_clock(&self, by: Duration) {
        self.inner.clock_offset_micros.fetch_add(micros(by), std::sync::atomic::Ordering::Relaxed);
    }

    pub fn directory(&self) -> &Directory {
        &self.inner.directory
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.inner.config
    }

    pub fn secrets(&self) -> &Secrets {
        &self.inner.secrets
    }

    pub fn store(&self) -> &EventStore {
        &self.inner.store
    }

    /// The access log's entries at `positions` (from [`State::access`](crate::directory::State)),
    /// read from the log, in the order given.
    pub async fn access_entries(&self, positions: &[u64]) -> ApiResult<Vec<AccessEntry>> {
        let mut entries = Vec::with_capacity(positions.len());
        for &position in positions {
            let event = self.inner.store.read_all(position, 1).await?.into_iter().next();
            let event = event
                .filter(|event| event.position == position && event.event_type == AccessRecorded::TYPE)
                .ok_or_else(|| ApiError::internal("an access log entry is missing from the log"))?;
            entries.push(AccessEntry::of(&event).map_err(ApiError::internal)?);
        }
        Ok(entries)
    }

    /// Every entry of the access log the model has applied, oldest first, read from the log a
    /// page at a time: each page is given to `each` with the model, to pick what it needs.
    pub async fn each_access_page(&self, mut each: impl FnMut(&[AccessEntry], &State)) -> ApiResult<()> {
        let applied = self.inner.directory.read(|state| state.access.last().map_or(0, |mark| mark.position));
        let mut from = 1;
        while from <= applied {
            let page = self.inner.store.read_category(AccessRecorded::CATEGORY, from, 1024).await?;
            let Some(last) = page.last().map(|event| event.position) else { break };
            from = last + 1;
            let entries = page
                .iter()
                .filter(|event| event.position <= applied && event.event_type == AccessRecorded::TYPE)
                .map(AccessEntry::of)
                .collect::<heard_eventstore::Result<Vec<_>>>()
                .map_err(ApiError::internal)?;
            self.inner.directory.read(|state| each(&entries, state));
        }
        Ok(())
    }

    async fn append(&self, stream: &StreamName, expected: ExpectedRevision, events: Vec<NewEvent>) -> ApiResult<()> {
        let outcome = self.inner.store.append(stream, expected, events).await?;
        self.inner.directory.wait_for(outcome.last_position, Duration::from_secs(10)).await;
        Ok(())
    }

    fn stream(category: &str, id: impl std::fmt::Display) -> ApiResult<StreamName> {
        StreamName::of(category, id).map_err(ApiError::internal)
    }

    fn event(event_type: &str, data: &impl serde::Serialize, by: Option<Uuid>) -> ApiResult<NewEvent> {
        Ok(NewEvent::new(event_type, 1, data)
            .map_err(ApiError::internal)?
            .with_metadata(serde_json::json!({ "actor": by })))
    }

    /// Checks roles against scopes and reference data.
    fn check_scopes(
        &self,
        roles: &[Role],
        hubs: &[String],
        provider: &Option<String>,
        prefix: &str,
    ) -> ApiResult<(BTreeSet<Role>, BTreeSet<String>, Option<String>)> {
        let field = |name: &str| format!("{prefix}{name}");
        if roles.is_empty() {
            return Err(ApiError::bad_input(field("roles"), "choose at least one role"));
        }
        let roles: BTreeSet<Role> = roles.iter().copied().collect();
        let hubs: BTreeSet<String> = hubs.iter().map(|hub| hub.trim().to_owned()).collect();
        let known_hubs = self.directory().read(|state| hubs.iter().all(|hub| state.hubs.contains_key(hub)));
        if !known_hubs {
            return Err(ApiError::bad_input(field("hubs"), "one of these hubs does not exist; see the `hubs` query"));
        }
        if roles.iter().any(|role| role.needs_hub()) && hubs.is_empty() {
            return Err(ApiError::bad_input(field("hubs"), "hub members and hub coordinators need at least one hub"));
        }
        let provider = provider.as_ref().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
        if let Some(provider) = &provider
            && !self.directory().read(|state| state.providers.contains_key(provider))
        {
            return Err(ApiError::bad_input(
                field("provider"),
                "this provider does not exist; see the `providers` query",
            ));
        }
        if roles.iter().any(|role| role.needs_provider()) && provider.is_none() {
            return Err(ApiError::bad_input(field("provider"), "a provider responder needs a provider"));
        }
        Ok((roles, hubs, provider))
    }

    /// Creates an account. Returns it, and the one-time password when one was generated.
    pub async fn create_account(&self, by: Option<Uuid>, input: NewAccount) -> ApiResult<(Account, Option<String>)> {
        let email = domain::email("input.email", &input.email).map_err(bad)?;
        let display_name = domain::display_name("input.displayName", &input.display_name).map_err(bad)?;
        if let Some(password) = &input.password {
            domain::password("input.password", password).map_err(bad)?;
        }
        let (roles, hubs, provider) = self.check_scopes(&input.roles, &input.hubs, &input.provider, "input.")?;
        let (password, one_time) = match input.password {
            Some(password) => (password, None),
            None => {
                let generated = secrets::generate_password();
                (generated.clone(), Some(generated))
            }
        };
        let password_hash = hash_off_thread(password).await?;

        let id = Uuid::new_v4();
        let email_key = self.inner.secrets.email_key(&email);
        // Another replica may have created this email a moment ago: read up to it first.
        self.catch_up().await?;
        let _reserved = self.reserve_email(&email, &email_key, id).await?;
        if self.account_id_by_email(&email).is_some() {
            self.inner.shared.release_email(&email_key, id).await?;
            return Err(ApiError::Conflict("an account with this email already exists".into()));
        }
        let created = AccountCreated {
            account: id,
            roles,
            hubs,
            provider,
            must_change_password: one_time.is_some(),
            created_by: by,
        };
        let personal = AccountPersonal { display_name, email, password_hash };
        let event = Self::event(AccountCreated::TYPE, &created, by)?
            .with_personal(SubjectId(id), &personal)
            .map_err(ApiError::internal)?;
        if let Err(error) = self.append(&Self::stream(ACCOUNT, id)?, ExpectedRevision::NoStream, vec![event]).await {
            self.inner.shared.release_email(&email_key, id).await?;
            return Err(error);
        }
        let account =
            self.account(id).ok_or_else(|| ApiError::internal("a new account is missing from the projection"))?;
        Ok((account, one_time))
    }

    /// Reserves `email` (keyed `email_key`) for the new account `id`, across replicas. An
    /// email held by an account that has it still, or by one being created right now, is a
    /// conflict; one held by an erased account, or by a creation abandoned over a minute ago,
    /// is taken over.
    async fn reserve_email(&self, email: &str, email_key: &str, id: Uuid) -> ApiResult<Reservation> {
        let taken = || ApiError::Conflict("an account with this email already exists".into());
        let now = now_micros();
        match self.inner.shared.reserve_email(email_key, id, now).await? {
            held @ Reservation::Held(_) => Ok(held),
            Reservation::HeldBy(holder) => {
                let abandoned = match self.account(holder.account) {
                    // Its person was erased, so its email is free again.
                    Some(account) => account.email.as_deref() != Some(email),
                    None => holder.since_micros < now - micros(RESERVATION_ABANDONED_AFTER),
                };
                if abandoned && self.inner.shared.take_over_email(email_key, holder.account, id, now).await? {
                    Ok(Reservation::Held(None))
                } else {
                    Err(taken())
                }
            }
        }
    }

    /// Waits until this replica has read everything any replica over the same store had
    /// committed when it was called: before a session or token is trusted, a login is
    /// checked or an account is created. Nothing to wait for with an embedded log.
    pub async fn catch_up(&self) -> ApiResult<()> {
        self.inner.shared.catch_up(&self.inner.directory).await
    }

    /// Removes what the replicas share about `account` (its email's reservation, its runs of
    /// failed logins): [`Self::deactivate`] calls it, the nearest Heard comes to removing an
    /// account. (An erasure never concerns an account: it names feedback items, cases and
    /// complaints, whose personal fields are sealed under keys of their own, never an
    /// account's.) Keyed hashes only, but still theirs.
    pub async fn forget_shared_traces(&self, account: Uuid) -> ApiResult<()> {
        self.inner.shared.forget_account(account).await
    }

    /// The account, its name, email and password hash opened.
    pub fn account(&self, id: Uuid) -> Option<Account> {
        let kept = self.kept(id)?;
        Some(kept.open(self.store()))
    }

    /// The account as the model keeps it: its facts, the person's fields sealed.
    fn kept(&self, id: Uuid) -> Option<KeptAccount> {
        self.directory().read(|state| state.accounts.get(&id).cloned())
    }

    /// The account whose email is `email` (lower-cased and trimmed), if its person is still
    /// known.
    fn account_id_by_email(&self, email: &str) -> Option<Uuid> {
        self.directory().read(|state| state.by_email.get(email).copied())
    }

    pub async fn change_roles(
        &self,
        by: Uuid,
        account: Uuid,
        roles: &[Role],
        hubs: &[String],
        provider: &Option<String>,
    ) -> ApiResult<Account> {
        if self.kept(account).is_none() {
            return Err(ApiError::NotFound);
        }
        let (roles, hubs, provider) = self.check_scopes(roles, hubs, provider, "input.")?;
        let event = Self::event(RolesChanged::TYPE, &RolesChanged { roles, hubs, provider, by }, Some(by))?;
        self.append(&Self::stream(ACCOUNT, account)?, ExpectedRevision::StreamExists, vec![event]).await?;
        self.account(account).ok_or(ApiError::NotFound)
    }

    /// Replaces an account's password, then ends every other live session of the account
    /// (`keep` is the session the change was made from, if any) and, when asked, revokes all
    /// its API tokens: whoever knew the old password, or holds a leaked token, is shut out.
    pub async fn change_password(
        &self,
        account: Uuid,
        current: &str,
        new: &str,
        keep: Option<Uuid>,
        revoke_tokens: bool,
    ) -> ApiResult<PasswordChange> {
        let existing = self.account(account).ok_or(ApiError::NotFound)?;
        domain::password("newPassword", new).map_err(bad)?;
        let hash = existing.password_hash.clone().unwrap_or_else(|| self.inner.dummy_hash.clone());
        if !verify_off_thread(current.to_owned(), hash).await? {
            return Err(ApiError::bad_input("currentPassword", "this is not your current password"));
        }
        if new == current {
            return Err(ApiError::bad_input("newPassword", "choose a new password, not the one you have now"));
        }
        let password_hash = hash_off_thread(new.to_owned()).await?;
        let event =
            Self::event(PasswordChanged::TYPE, &PasswordChanged { must_change_password: false }, Some(account))?
                .with_personal(SubjectId(account), &PasswordPersonal { password_hash })
                .map_err(ApiError::internal)?;
        self.append(&Self::stream(ACCOUNT, account)?, ExpectedRevision::StreamExists, vec![event]).await?;

        // The old password no longer logs in; now end what it opened.
        let now = self.now_micros();
        let others: Vec<Uuid> = self.directory().read(|state| {
            state
                .sessions
                .values()
                .filter(|session| session.account == account && session.is_live(now) && Some(session.id) != keep)
                .map(|session| session.id)
                .collect()
        });
        for session in &others {
            self.end_session(*session, SessionEndReason::PasswordChanged, account).await?;
        }
        let mut tokens_revoked = 0;
        if revoke_tokens {
            let tokens: Vec<Uuid> = self.directory().read(|state| {
                state
                    .tokens
                    .values()
                    .filter(|token| token.account == account && token.revoked_at_micros.is_none())
                    .map(|token| token.id)
                    .collect()
            });
            for token in &tokens {
                self.revoke_token(account, *token).await?;
            }
            tokens_revoked = tokens.len();
        }
        Ok(PasswordChange { sessions_ended: others.len(), tokens_revoked })
    }

    pub async fn unlock(&self, by: Uuid, account: Uuid) -> ApiResult<Account> {
        let existing = self.account(account).ok_or(ApiError::NotFound)?;
        if let Some(email) = &existing.email {
            self.inner.shared.unlock(&self.inner.secrets.email_key(email)).await?;
        }
        let event = Self::event(AccountUnlocked::TYPE, &AccountUnlocked { by }, Some(by))?;
        self.append(&Self::stream(ACCOUNT, account)?, ExpectedRevision::StreamExists, vec![event]).await?;
        self.account(account).ok_or(ApiError::NotFound)
    }

    /// Deactivates an account: in one event, every session of it ends and every API token of it
    /// is revoked, so the very next request made with them is refused, and it cannot log in
    /// until it is reactivated. An administrator cannot deactivate their own account (someone
    /// must be left to reactivate it). Deactivating a deactivated account appends nothing.
    ///
    /// Then what replicas share about the account goes at once ([`Self::forget_shared_traces`]:
    /// its email's reservation, its runs of failed logins), on every backend; deactivating
    /// again finishes that if it failed. The account's email stays in the directory, so nobody
    /// else can take it meanwhile; reactivation reserves it again.
    pub async fn deactivate(&self, by: Uuid, account: Uuid) -> ApiResult<Account> {
        let existing = self.kept(account).ok_or(ApiError::NotFound)?;
        if account == by {
            return Err(ApiError::bad_input(
                "id",
                "you cannot deactivate your own account; another administrator can, if it must be done",
            ));
        }
        if !existing.is_deactivated() {
            let event = Self::event(AccountDeactivated::TYPE, &AccountDeactivated { by }, Some(by))?;
            self.append(&Self::stream(ACCOUNT, account)?, ExpectedRevision::StreamExists, vec![event]).await?;
            tracing::info!(account = %account, "an account was deactivated");
        }
        self.forget_shared_traces(account).await?;
        self.account(account).ok_or(ApiError::NotFound)
    }

    /// Reactivates a deactivated account: it logs in again with the password it had. Nothing
    /// the deactivation ended comes back; its email is reserved for it again.
    pub async fn reactivate(&self, by: Uuid, account: Uuid) -> ApiResult<Account> {
        let existing = self.kept(account).ok_or(ApiError::NotFound)?;
        if existing.is_deactivated() {
            let event = Self::event(AccountReactivated::TYPE, &AccountReactivated { by }, Some(by))?;
            self.append(&Self::stream(ACCOUNT, account)?, ExpectedRevision::StreamExists, vec![event]).await?;
        }
        let reactivated = self.account(account).ok_or(ApiError::NotFound)?;
        if let Some(email) = &reactivated.email {
            let email_key = self.inner.secrets.email_key(email);
            // Held by nobody else: the directory kept the email for this account meanwhile.
            if let Reservation::HeldBy(holder) =
                self.inner.shared.reserve_email(&email_key, account, now_micros()).await?
                && holder.account != account
            {
                tracing::warn!(account = %account, "a reactivated account's email is reserved for another account");
            }
        }
        Ok(reactivated)
    }

    /// Gives an account a new one-time password, returned once, which the person must change at
    /// their next login. In the same event every session of the account ends. An administrator
    /// changes their own password as everyone does, knowing the current one.
    pub async fn reset_password(&self, by: Uuid, account: Uuid) -> ApiResult<(Account, String)> {
        self.kept(account).ok_or(ApiError::NotFound)?;
        if account == by {
            return Err(ApiError::bad_input(
                "id",
                "to change your own password, use Change your password, with the one you have now",
            ));
        }
        let password = secrets::generate_password();
        let password_hash = hash_off_thread(password.clone()).await?;
        let event = Self::event(PasswordReset::TYPE, &PasswordReset { by }, Some(by))?
            .with_personal(SubjectId(account), &PasswordPersonal { password_hash })
            .map_err(ApiError::internal)?;
        self.append(&Self::stream(ACCOUNT, account)?, ExpectedRevision::StreamExists, vec![event]).await?;
        let account = self.account(account).ok_or(ApiError::NotFound)?;
        Ok((account, password))
    }

    /// Checks an email and password. Wrong credentials, a wait after failed logins and a
    /// throttled address each get a clear message that never reveals whether the email has an
    /// account. `ip` is the client's address (the gateway reads it, through trusted proxies);
    /// GraphQL and the web UI's form go through here alike.
    pub async fn login(&self, email: &str, password: &str, ip: Option<IpAddr>) -> ApiResult<LoggedIn> {
        let now = self.now_micros();
        let email = email.trim().to_lowercase();
        let attempt = Attempt {
            email_key: self.inner.secrets.email_key(&email),
            address_key: ip.map(|ip| self.inner.secrets.address_key(ip)).unwrap_or_default(),
        };
        // An account made, a password reset or a lockout reached on another replica counts here.
        self.catch_up().await?;
        if ip.is_some() {
            let since = now - micros(crate::shared::ADDRESS_WINDOW);
            let failures = self.inner.shared.address_failures(&attempt.address_key, since).await?;
            if failures >= self.inner.config.max_failures_per_ip {
                LoginCounters::count(&self.inner.logins.address_throttled);
                return Err(ApiError::Forbidden(
                    "too many failed logins from this network; wait 15 minutes and try again".into(),
                ));
            }
        }
        let waiting = self.inner.shared.backoff(&attempt).await?.map(|b| b.until_micros).filter(|until| *until > now);
        if let Some(until) = waiting {
            LoginCounters::count(&self.inner.logins.waiting);
            return Err(locked_message(until));
        }
        let account = self.account_id_by_email(&email).and_then(|id| self.account(id));
        let hash =
            account.as_ref().and_then(|a| a.password_hash.clone()).unwrap_or_else(|| self.inner.dummy_hash.clone());
        let right = verify_off_thread(password.to_owned(), hash.clone()).await? && account.is_some();
        let Some(account) = account.filter(|_| right) else {
            return Err(self.failed_login(&email, &attempt, now).await);
        };
        // The password may have changed while it was being checked: then the old one must not
        // open a session that the change did not see to end.
        let current = self.account(account.id);
        if current.as_ref().and_then(|now| now.password_hash.clone()) != Some(hash) {
            LoginCounters::count(&self.inner.logins.wrong_credentials);
            return Err(ApiError::Unauthenticated("the email or password is not right".into()));
        }
        self.inner.shared.clear(&attempt).await?;
        // Only someone who knows the password learns that the account is deactivated.
        if current.is_some_and(|now| now.is_deactivated()) {
            LoginCounters::count(&self.inner.logins.deactivated);
            return Err(deactivated());
        }
        let logged_in = self.start_session(&account, now).await?;
        // A deactivation that landed while the session was starting has already ended it.
        if !self.session(logged_in.session).is_some_and(|session| session.is_live(self.now_micros())) {
            return Err(deactivated());
        }
        Ok(logged_in)
    }

    async fn start_session(&self, account: &Account, now: i64) -> ApiResult<LoggedIn> {
        let session = Uuid::new_v4();
        let secret = secrets::random_bytes();
        let expires_at_micros = now + micros(self.inner.config.session_lifetime);
        let started = SessionStarted {
            session,
            account: account.id,
            secret_hash: secrets::sha256_hex(&secret),
            expires_at_micros,
        };
        let event = Self::event(SessionStarted::TYPE, &started, Some(account.id))?;
        self.append(&Self::stream(SESSION, session)?, ExpectedRevision::NoStream, vec![event]).await?;
        Ok(LoggedIn {
            account: account.clone(),
            session,
            cookie: self.inner.secrets.session_cookie(session, &secret),
            csrf_token: self.inner.secrets.csrf_token(session),
            expires_at_micros,
        })
    }

    /// Counts a failure for this email from this address. From the `max_failed_logins`th in a
    /// row, the address must wait before trying this email again: a minute, then twice as
    /// long after each further failure, up to `lockout`. A real account's first wait is
    /// recorded (`AccountLockedOut`) so that administrators see it.
    async fn failed_login(&self, email: &str, attempt: &Attempt, now: i64) -> ApiError {
        let max = self.inner.config.max_failed_logins;
        let account = self.account_id_by_email(email);
        let policy = Policy { max_failures: max, first_wait: FIRST_WAIT, longest_wait: self.inner.config.lockout };
        let backoff = match self.inner.shared.count_failure(attempt, account, now, policy).await {
            Ok(backoff) => backoff,
            Err(error) => return error,
        };
        LoginCounters::count(&self.inner.logins.wrong_credentials);
        if backoff.failures == max {
            LoginCounters::count(&self.inner.logins.lockouts);
        }
        if backoff.failures < max {
            return ApiError::Unauthenticated("the email or password is not right".into());
        }
        if let Some(account) = account
            && backoff.failures == max
        {
            let locked = AccountLockedOut { until_micros: backoff.until_micros, failed_attempts: backoff.failures };
            let appended = match (Self::event(AccountLockedOut::TYPE, &locked, None), Self::stream(ACCOUNT, account)) {
                (Ok(event), Ok(stream)) => self.append(&stream, ExpectedRevision::StreamExists, vec![event]).await,
                (Err(error), _) | (_, Err(error)) => Err(error),
            };
            if let Err(error) = appended {
                return error;
            }
            tracing::warn!(account = %account, "logins to an account are delayed after failed logins");
        }
        locked_message(backoff.until_micros)
    }

    /// Ends a session (logout, or revocation by its owner or an administrator).
    pub async fn end_session(&self, session: Uuid, reason: SessionEndReason, by: Uuid) -> ApiResult<()> {
        let live = self.directory().read(|state| state.sessions.get(&session).map(|s| s.ended_at_micros.is_none()));
        match live {
            None => Err(ApiError::NotFound),
            Some(false) => Ok(()),
            Some(true) => {
                let event = Self::event(SessionEnded::TYPE, &SessionEnded { reason, by }, Some(by))?;
                self.append(&Self::stream(SESSION, session)?, ExpectedRevision::StreamExists, vec![event]).await
            }
        }
    }

    pub fn session(&self, id: Uuid) -> Option<Session> {
        self.directory().read(|state| state.sessions.get(&id).cloned())
    }

    /// The viewer behind a session cookie, if it is signed, live and its account exists.
    pub fn authenticate_cookie(&self, cookie: &str) -> Option<Viewer> {
        let (session, secret) = self.inner.secrets.open_session_cookie(cookie)?;
        let now = self.now_micros();
        self.directory().read(|state| {
            let found = state.sessions.get(&session)?;
            if !found.is_live(now) || found.secret_hash != secrets::sha256_hex(&secret) {
                return None;
            }
            let account = state.accounts.get(&found.account).filter(|account| !account.is_deactivated())?;
            Some(Viewer {
                actor: account.actor(),
                session: Some(session),
                token: None,
                must_change_password: account.must_change_password,
            })
        })
    }

    /// The viewer behind a bearer API token, if it exists and is not revoked.
    pub fn authenticate_token(&self, token: &str) -> Option<Viewer> {
        let hash = secrets::sha256_hex(token.trim().as_bytes());
        self.directory().read(|state| {
            let found = state.tokens.get(state.token_by_hash.get(&hash)?)?;
            if found.revoked_at_micros.is_some() {
                return None;
            }
            let account = state.accounts.get(&found.account).filter(|account| !account.is_deactivated())?;
            Some(Viewer {
                actor: account.actor(),
                session: None,
                token: Some(found.id),
                must_change_password: account.must_change_password,
            })
        })
    }

    /// Whether what `viewer` came with (a session or an API token) still opens anything now:
    /// not ended, expired or revoked, and its account not deactivated. Someone not logged in
    /// always may carry on as they are.
    pub fn still_valid(&self, viewer: &Viewer) -> bool {
        let now = self.now_micros();
        self.directory().read(|state| {
            let active = |account: &Uuid| state.accounts.get(account).is_some_and(|found| !found.is_deactivated());
            match (viewer.session, viewer.token) {
                (Some(session), _) => {
                    state.sessions.get(&session).is_some_and(|found| found.is_live(now) && active(&found.account))
                }
                (None, Some(token)) => state
                    .tokens
                    .get(&token)
                    .is_some_and(|found| found.revoked_at_micros.is_none() && active(&found.account)),
                (None, None) => true,
            }
        })
    }

    /// Resolves once what `viewer` came with stops opening anything ([`Self::still_valid`]):
    /// its session ended or expired, its token was revoked, or its account was deactivated.
    /// An open websocket waits on this to close itself. Never resolves for someone not logged in.
    pub async fn credentials_end(&self, viewer: &Viewer) {
        if viewer.session.is_none() && viewer.token.is_none() {
            return std::future::pending().await;
        }
        let mut applied = self.directory().watch_applied();
        loop {
            if !self.still_valid(viewer) {
                return;
            }
            // A session also ends by expiring, with nothing in the log to say so.
            let expires = viewer.session.and_then(|id| self.session(id)).map(|session| session.expires_at_micros);
            let until_expiry =
                expires.map(|at| Duration::from_micros(at.saturating_sub(self.now_micros()).max(0) as u64));
            let expiry = async {
                match until_expiry {
                    Some(wait) => tokio::time::sleep(wait.min(Duration::from_secs(3600))).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                changed = applied.changed() => if changed.is_err() { return },
                () = expiry => {}
            }
        }
    }

    pub fn csrf_matches(&self, session: Uuid, given: &str) -> bool {
        self.inner.secrets.csrf_matches(session, given)
    }

    /// A new visit to the login form: the `Set-Cookie` header naming it (HttpOnly,
    /// SameSite=Strict, an hour) and the token its form must send back. Together they stop
    /// another site from signing someone into an account of its choosing (login CSRF).
    pub fn login_challenge(&self) -> (String, String) {
        let visit = Uuid::new_v4();
        let header = crate::cookies::cookie(
            crate::LOGIN_COOKIE,
            &visit.simple().to_string(),
            3600,
            true,
            "Strict",
            self.inner.config.secure_cookies,
        );
        (header, self.inner.secrets.login_token(visit))
    }

    /// The `Set-Cookie` header that carries a one-shot message (`payload`) to the next page
    /// `session` sees: HttpOnly, SameSite=Strict, five minutes, signed with the session.
    pub fn flash_cookie(&self, session: Uuid, payload: &str) -> String {
        let value = self.inner.secrets.flash_cookie(session, payload);
        let secure = self.inner.config.secure_cookies;
        crate::cookies::cookie(
            crate::cookies::FLASH_COOKIE,
            &value,
            crate::cookies::FLASH_SECONDS,
            true,
            "Strict",
            secure,
        )
    }

    /// The payload of a flash cookie's `value`, when this server made it for `session`.
    pub fn open_flash(&self, session: Uuid, value: &str) -> Option<String> {
        self.inner.secrets.open_flash_cookie(session, value)
    }

    /// The `Set-Cookie` header that removes the flash once its page was shown.
    pub fn forget_flash_cookie(&self) -> String {
        let secure = self.inner.config.secure_cookies;
        crate::cookies::cookie(crate::cookies::FLASH_COOKIE, "", 0, true, "Strict", secure)
    }

    /// Keeps `shown` for `session`'s next view of `slot` (a refused form's page with what was
    /// typed, a new one-time password, a new API token), where the replica the browser's next
    /// request reaches finds it: in the database beside a PostgreSQL log, else in this
    /// process. Sealed first, under a key derived from `secret.key` and bound to the session and
    /// slot, so the table never holds it in the clear. Kept for [`SHOWN_ONCE_FOR`]. A failure
    /// is logged (without what was kept) and the page then shows as after a restart.
    pub async fn keep_once(&self, session: Uuid, slot: &str, shown: &str) {
        let (now, expired) = self.shown_once_window();
        let kept = match crate::once::seal(&self.inner.secrets, session, slot, shown) {
            Some(sealed) => self.inner.shared.keep_once(session, slot, sealed, now, expired).await,
            None => Err(ApiError::internal("a page for one view could not be sealed")),
        };
        if let Err(error) = kept {
            tracing::warn!(error = %error.message(), "a page for one view could not be kept");
        }
    }

    /// What [`keep_once`](Self::keep_once) kept for `session`'s `slot`, taken: the next call,
    /// on any replica, finds nothing.
    pub async fn take_once(&self, session: Uuid, slot: &str) -> Option<String> {
        let (_, expired) = self.shown_once_window();
        match self.inner.shared.take_once(session, slot, expired).await {
            Ok(sealed) => sealed.and_then(|sealed| crate::once::open(&self.inner.secrets, session, slot, &sealed)),
            Err(error) => {
                tracing::warn!(error = %error.message(), "a page for one view could not be read");
                None
            }
        }
    }

    /// Now, and the time at or before which what was kept for one view has expired (micros).
    fn shown_once_window(&self) -> (i64, i64) {
        let now = self.now_micros();
        (now, now - i64::try_from(SHOWN_ONCE_FOR.as_micros()).unwrap_or(i64::MAX))
    }

    /// Whether a login form's token belongs to the visit its cookie names.
    pub fn login_token_matches(&self, cookie: &str, given: &str) -> bool {
        Uuid::parse_str(cookie).is_ok_and(|visit| self.inner.secrets.login_token_matches(visit, given))
    }

    /// Creates an API token for `account`; the secret is returned once and stored only hashed.
    pub async fn create_token(&self, by: Uuid, account: Uuid, label: &str) -> ApiResult<(ApiToken, String)> {
        let label = domain::label("label", label).map_err(bad)?;
        match self.kept(account) {
            None => return Err(ApiError::NotFound),
            Some(found) if found.is_deactivated() => {
                return Err(ApiError::Conflict("this account is deactivated: reactivate it first".into()));
            }
            Some(_) => {}
        }
        let secret = secrets::new_api_token();
        let id = Uuid::new_v4();
        let created = ApiTokenCreated {
            token: id,
            account,
            label,
            secret_hash: secrets::sha256_hex(secret.as_bytes()),
            created_by: by,
        };
        let event = Self::event(ApiTokenCreated::TYPE, &created, Some(by))?;
        self.append(&Self::stream(API_TOKEN, id)?, ExpectedRevision::NoStream, vec![event]).await?;
        let token = self.token(id).ok_or_else(|| ApiError::internal("a new token is missing from the projection"))?;
        Ok((token, secret))
    }

    pub fn token(&self, id: Uuid) -> Option<ApiToken> {
        self.directory().read(|state| state.tokens.get(&id).cloned())
    }

    pub async fn revoke_token(&self, by: Uuid, id: Uuid) -> ApiResult<ApiToken> {
        let token = self.token(id).ok_or(ApiError::NotFound)?;
        if token.revoked_at_micros.is_none() {
            let event = Self::event(ApiTokenRevoked::TYPE, &ApiTokenRevoked { by }, Some(by))?;
            self.append(&Self::stream(API_TOKEN, id)?, ExpectedRevision::StreamExists, vec![event]).await?;
        }
        self.token(id).ok_or(ApiError::NotFound)
    }

    pub fn hubs(&self) -> Vec<Hub> {
        self.directory().read(|state| state.hubs.values().cloned().collect())
    }

    pub fn providers(&self) -> Vec<Provider> {
        self.directory().read(|state| state.providers.values().cloned().collect())
    }

    pub async fn add_hub(&self, by: Uuid, name: &str, kind: HubKind, area: &str) -> ApiResult<Hub> {
        let name = domain::display_name("input.name", name).map_err(bad)?;
        let area = domain::display_name("input.area", area).map_err(bad)?;
        let id = domain::slug(&name);
        if id.is_empty() {
            return Err(ApiError::bad_input("input.name", "a name needs at least one letter or digit"));
        }
        let event = Self::event(HubAdded::TYPE, &HubAdded { hub: id.clone(), name, kind, area }, Some(by))?;
        self.append_reference(HUB, &id, event).await?;
        self.directory().read(|state| state.hubs.get(&id).cloned()).ok_or(ApiError::NotFound)
    }

    pub async fn add_provider(&self, by: Uuid, name: &str) -> ApiResult<Provider> {
        let name = domain::display_name("input.name", name).map_err(bad)?;
        let id = domain::slug(&name);
        if id.is_empty() {
            return Err(ApiError::bad_input("input.name", "a name needs at least one letter or digit"));
        }
        let event = Self::event(ProviderAdded::TYPE, &ProviderAdded { provider: id.clone(), name }, Some(by))?;
        self.append_reference(PROVIDER, &id, event).await?;
        self.directory().read(|state| state.providers.get(&id).cloned()).ok_or(ApiError::NotFound)
    }

    async fn append_reference(&self, category: &str, id: &str, event: NewEvent) -> ApiResult<()> {
        match self.append(&Self::stream(category, id)?, ExpectedRevision::NoStream, vec![event]).await {
            Err(ApiError::Conflict(_)) => {
                Err(ApiError::Conflict(format!("a {category} with this name already exists")))
            }
            other => other,
        }
    }

    /// Everything a viewer's actor is allowed to be, re-read now (roles may have changed).
    pub fn actor_of(&self, account: Uuid) -> Option<Actor> {
        self.directory().read(|state| state.accounts.get(&account).map(KeptAccount::actor))
    }
}

/// What logging in to a deactivated account answers, once the password was right.
fn deactivated() -> ApiError {
    ApiError::Unauthenticated("this account has been deactivated; ask an administrator if you need it again".into())
}

fn locked_message(until_micros: i64) -> ApiError {
    let until = jiff::Timestamp::from_microsecond(until_micros)
        .map(|at| at.strftime("%H:%M UTC").to_string())
        .unwrap_or_else(|_| "later".into());
    ApiError::Unauthenticated(format!(
        "logins to this account from your network are locked after too many failed tries; try again after {until}, \
         or ask an administrator to unlock it"
    ))
}

async fn hash_off_thread(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

async fn verify_off_thread(password: String, hash: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || secrets::verify_password(&password, &hash)).await.map_err(ApiError::internal)
}

/// Appends the EXACT hubs, the Forum and the seed providers once, each its own stream.
async fn seed(store: &EventStore) -> Result<(), StartError> {
    for hub in domain::exact_hubs() {
        store.seed(&StreamName::of(HUB, &hub.hub)?, NewEvent::new(HubAdded::TYPE, HubAdded::VERSION, &hub)?).await?;
    }
    for provider in domain::seed_providers() {
        store
            .seed(
                &StreamName::of(PROVIDER, &provider.provider)?,
                NewEvent::new(ProviderAdded::TYPE, ProviderAdded::VERSION, &provider)?,
            )
            .await?;
    }
    Ok(())
}

/// Why the identity service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot read or create the server key (secret.key): {0}")]
    Key(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] heard_eventstore::Error),
    #[error("{0}")]
    Other(String),
}
