//! The identity service's own projection of the log: accounts, sessions, API tokens, hubs,
//! providers and the access log, kept on disk between starts (see [`heard_eventstore::Persist`])
//! and followed from the log by the one follower mechanism every service uses ([`LiveModel`]).
//!
//! The model holds no person's words in the clear. An account's name and email, and its
//! password hash, stay [`Sealed`] under the person's key ([`KeptAccount`]) and are opened with
//! [`EventStore::unseal`] when a login, a profile, an account list or a directory reads them
//! ([`KeptAccount::open`]); once the key is destroyed they open to `None`, at once, in memory
//! and in what was saved alike.
//!
//! Login finds an account by email without an email in the clear ([`EmailIndex`]): the model
//! keeps an index from a keyed hash of the (already normalised) email, HMAC-SHA256 under the
//! server key ([`Secrets::email_key`]), to the account id and its sealed email. The hash cannot
//! be reversed, nor a guess tested, without `secret.key`, which is never saved with the model.
//! A hit is only a candidate: the sealed email is opened and must equal the email asked for, so
//! an erased account is never found. The index is filled beside the fold ([`IndexEmails`],
//! under the model's write lock, in the same batch); it records which server key it was made
//! under, and one saved under another key (a new `secret.key`) is made again from the sealed
//! emails with the next batch, a lookup meanwhile opening each sealed email in turn.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use heard_access::{Actor, Role};
use heard_contracts::Event as _;
use heard_contracts::access::AccessRecorded;
use heard_eventstore::{AfterApply, EventStore, Fold, LiveModel, Persist, RecordedEvent, Sealed};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::*;
use crate::secrets::Secrets;

/// An account as a reader sees it: its facts, with the person's fields opened.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: Uuid,
    /// `None` once the person's key has been destroyed (erased).
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub roles: BTreeSet<Role>,
    pub hubs: BTreeSet<String>,
    pub provider: Option<String>,
    pub must_change_password: bool,
    pub locked_until_micros: Option<i64>,
    pub created_at_micros: i64,
    /// When an administrator deactivated it, while it stays deactivated.
    pub deactivated_at_micros: Option<i64>,
}

impl Account {
    pub fn is_locked(&self, now_micros: i64) -> bool {
        self.locked_until_micros.is_some_and(|until| until > now_micros)
    }
}

/// The name and email of an account's [`AccountPersonal`]: what a profile or a directory opens
/// (the password hash in the same ciphertext is left unread).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NameAndEmail {
    pub display_name: String,
    pub email: String,
}

/// An account as the model keeps it: facts, and the person's fields sealed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeptAccount {
    pub id: Uuid,
    /// The name and email, sealed under the person's key; `None` if they were erased before
    /// the model read the account.
    pub personal: Option<Sealed<NameAndEmail>>,
    /// The current password hash, sealed: from the account's creation, or its last change or
    /// reset.
    pub password: Option<Sealed<PasswordPersonal>>,
    pub roles: BTreeSet<Role>,
    pub hubs: BTreeSet<String>,
    pub provider: Option<String>,
    pub must_change_password: bool,
    pub locked_until_micros: Option<i64>,
    pub created_at_micros: i64,
    /// When an administrator deactivated it, while it stays deactivated.
    pub deactivated_at_micros: Option<i64>,
}

/// Opens a sealed field; `None` once the person's key is destroyed. A failure to open is
/// logged without a word of what was sealed.
fn open<T: serde::de::DeserializeOwned>(store: &EventStore, sealed: Option<&Sealed<T>>) -> Option<T> {
    store.unseal(sealed?).unwrap_or_else(|error| {
        tracing::warn!(%error, "cannot open an account's sealed fields");
        None
    })
}

impl KeptAccount {
    /// The name and email, opened; `None` once the person is erased.
    pub fn name_and_email(&self, store: &EventStore) -> Option<NameAndEmail> {
        open(store, self.personal.as_ref())
    }

    pub fn display_name(&self, store: &EventStore) -> Option<String> {
        self.name_and_email(store).map(|personal| personal.display_name)
    }

    pub fn email(&self, store: &EventStore) -> Option<String> {
        self.name_and_email(store).map(|personal| personal.email)
    }

    /// The account as a reader sees it, its personal fields opened.
    pub fn open(&self, store: &EventStore) -> Account {
        let personal = self.name_and_email(store);
        let (display_name, email) = personal.map(|p| (p.display_name, p.email)).unzip();
        Account {
            id: self.id,
            display_name,
            email,
            password_hash: open(store, self.password.as_ref()).map(|password| password.password_hash),
            roles: self.roles.clone(),
            hubs: self.hubs.clone(),
            provider: self.provider.clone(),
            must_change_password: self.must_change_password,
            locked_until_micros: self.locked_until_micros,
            created_at_micros: self.created_at_micros,
            deactivated_at_micros: self.deactivated_at_micros,
        }
    }
}

/// What the directory's lists read of an account, however it is held.
pub trait Listed {
    fn id(&self) -> Uuid;
    fn roles(&self) -> &BTreeSet<Role>;
    fn hubs(&self) -> &BTreeSet<String>;
    fn is_deactivated(&self) -> bool;
}

/// What [`Account`] and [`KeptAccount`] read the same way, from the facts both hold in fields of
/// the same names (`id`, `roles`, `hubs`, `provider`, `deactivated_at_micros`).
macro_rules! account_facts {
    ($($account:ty),*) => {$(
        impl $account {
            pub fn is_deactivated(&self) -> bool {
                self.deactivated_at_micros.is_some()
            }

            pub fn actor(&self) -> Actor {
                Actor {
                    account: Some(self.id),
                    roles: self.roles.clone(),
                    hubs: self.hubs.clone(),
                    provider: self.provider.clone(),
                }
            }
        }

        impl Listed for $account {
            fn id(&self) -> Uuid {
                self.id
            }
            fn roles(&self) -> &BTreeSet<Role> {
                &self.roles
            }
            fn hubs(&self) -> &BTreeSet<String> {
                &self.hubs
            }
            fn is_deactivated(&self) -> bool {
                <$account>::is_deactivated(self)
            }
        }
    )*};
}

account_facts!(Account, KeptAccount);

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub id: Uuid,
    pub account: Uuid,
    pub secret_hash: String,
    pub started_at_micros: i64,
    pub expires_at_micros: i64,
    pub ended_at_micros: Option<i64>,
    pub end_reason: Option<SessionEndReason>,
}

impl Session {
    pub fn is_live(&self, now_micros: i64) -> bool {
        self.ended_at_micros.is_none() && self.expires_at_micros > now_micros
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub account: Uuid,
    pub label: String,
    pub secret_hash: String,
    pub created_at_micros: i64,
    pub revoked_at_micros: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Hub {
    pub id: String,
    pub name: String,
    pub kind: HubKind,
    pub area: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Provider {
    pub id: String,
    pub name: String,
}

/// One entry of the access log, read from the log when it is shown.
#[derive(Clone, Debug)]
pub struct AccessEntry {
    pub position: u64,
    pub at_micros: i64,
    pub record: AccessRecorded,
}

impl AccessEntry {
    /// The entry an `AccessRecorded` event of the log holds.
    pub fn of(event: &RecordedEvent) -> heard_eventstore::Result<AccessEntry> {
        Ok(AccessEntry { position: event.position, at_micros: event.recorded_at_micros, record: event.decode()? })
    }
}

/// What the model keeps of one entry of the access log: where it is in the log, and what the
/// administrators' list filters by. What was asked for and why stays in the log, read a page
/// at a time ([`crate::service::IdentityService::access_entries`]), so that reading records,
/// which adds an entry each time, does not grow the model by what each entry says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessMark {
    pub position: u64,
    pub actor: Option<Uuid>,
    pub allowed: bool,
}

/// What this service knows, in memory and saved between starts. `A` is how it holds an
/// account: the model itself keeps [`KeptAccount`]s (facts, the person's fields sealed); a
/// `State<Account>` is a directory whose accounts are already opened, and lists them by name
/// without a store.
#[derive(Debug, Serialize, Deserialize)]
pub struct State<A = KeptAccount> {
    pub accounts: HashMap<Uuid, A>,
    /// Each account by its email, which it holds only as a keyed hash and sealed.
    pub by_email: EmailIndex,
    pub sessions: HashMap<Uuid, Session>,
    pub tokens: HashMap<Uuid, ApiToken>,
    pub token_by_hash: HashMap<String, Uuid>,
    pub hubs: BTreeMap<String, Hub>,
    pub providers: BTreeMap<String, Provider>,
    /// The access log, in log order (each entry's details stay in the log).
    pub access: Vec<AccessMark>,
    /// Which cases and complaints are about which person, for the access-log part of subject
    /// access (`crate::held`).
    pub held: crate::held_records::HeldRecords,
}

impl<A> Default for State<A> {
    fn default() -> Self {
        State {
            accounts: HashMap::new(),
            by_email: EmailIndex::default(),
            sessions: HashMap::new(),
            tokens: HashMap::new(),
            token_by_hash: HashMap::new(),
            hubs: BTreeMap::new(),
            providers: BTreeMap::new(),
            access: Vec::new(),
            held: Default::default(),
        }
    }
}

/// The projection, shared by the service and its resolvers: the one follower mechanism every
/// service uses ([`LiveModel`]), over this service's [`State`], beside [`IndexEmails`].
pub type Directory = LiveModel<State>;

impl Fold for State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        State::apply(self, event)
    }
}

/// Version 1: accounts' personal fields sealed, the email index keyed by a hash. Version 2:
/// which cases and complaints are about which person ([`crate::held_records::HeldRecords`]).
impl Persist for State {
    /// 3: the access log as marks, its entries left in the log.
    const VERSION: u32 = 3;
}

/// The accounts by email, holding no email in the clear: each entry is keyed by the keyed
/// hash of an account's email ([`Secrets::email_key`]) and holds the account and its sealed
/// email, which a lookup opens to confirm the hit. Looked up as a map by email, once the
/// service has given it the server key and the store to open with ([`EmailIndex::open_with`]);
/// until then it finds nothing.
#[derive(Default, Serialize, Deserialize)]
pub struct EmailIndex {
    /// [`Secrets::email_index_id`] of the key `entries` were made under; empty until they are.
    made_under: String,
    entries: HashMap<String, IndexEntry>,
    #[serde(skip)]
    opener: std::sync::OnceLock<Opener>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct IndexEntry {
    account: Uuid,
    email: Sealed<NameAndEmail>,
}

/// What a lookup needs beside the index: the server key, and the store that opens sealed fields.
struct Opener {
    secrets: Secrets,
    store: EventStore,
}

/// Names nothing: not an email's hash, nor an account.
impl std::fmt::Debug for EmailIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EmailIndex({} entries)", self.entries.len())
    }
}

impl EmailIndex {
    /// Gives the index the server key and the store: the service does, once, when it starts.
    pub fn open_with(&self, secrets: Secrets, store: EventStore) {
        let _ = self.opener.set(Opener { secrets, store });
    }

    /// The account whose email is `email` (as account creation and login normalise it), if its
    /// person is still known.
    pub fn get(&self, email: &str) -> Option<&Uuid> {
        let opener = self.opener.get()?;
        let is_it = |entry: &IndexEntry| {
            opener.store.unseal(&entry.email).ok().flatten().is_some_and(|opened| opened.email == email)
        };
        if self.made_under == opener.secrets.email_index_id() {
            return self.entries.get(&opener.secrets.email_key(email)).filter(|entry| is_it(entry)).map(|e| &e.account);
        }
        // Made under another server key and not made again yet: each sealed email in turn.
        self.entries.values().find(|entry| is_it(entry)).map(|entry| &entry.account)
    }

    pub fn contains_key(&self, email: &str) -> bool {
        self.get(email).is_some()
    }

    /// Whether the index was made under `secrets`' key.
    pub fn made_under(&self, secrets: &Secrets) -> bool {
        self.made_under == secrets.email_index_id()
    }
}

impl std::ops::Index<&str> for EmailIndex {
    type Output = Uuid;

    fn index(&self, email: &str) -> &Uuid {
        self.get(email).expect("an account has this email")
    }
}

/// Keeps the model's email index beside the fold: for each account created in a batch, the
/// keyed hash of its email (read from the event, which the follower hands over opened), under
/// the model's write lock before the batch counts as applied. An index made under another
/// server key is made again from the accounts' sealed emails.
pub struct IndexEmails {
    secrets: Secrets,
    store: EventStore,
}

impl IndexEmails {
    pub fn new(secrets: Secrets, store: EventStore) -> Self {
        IndexEmails { secrets, store }
    }
}

impl AfterApply<State> for IndexEmails {
    type Taken = ();

    fn take(&mut self, state: &mut State, events: &[RecordedEvent]) {
        let index = &mut state.by_email;
        let index_id = self.secrets.email_index_id();
        if index.made_under != index_id {
            // Every account the model knows, this batch's among them; the newest wins a clash,
            // as it does below.
            index.entries.clear();
            let mut accounts: Vec<&KeptAccount> = state.accounts.values().collect();
            accounts.sort_by_key(|account| (account.created_at_micros, account.id));
            for account in accounts {
                let Some(sealed) = &account.personal else { continue };
                let Some(opened) = open(&self.store, Some(sealed)) else { continue };
                let entry = IndexEntry { account: account.id, email: sealed.clone() };
                index.entries.insert(self.secrets.email_key(&opened.email), entry);
            }
            index.made_under = index_id;
            return;
        }
        for event in events {
            if event.stream.category() != ACCOUNT || event.event_type != AccountCreated::TYPE {
                continue;
            }
            let (Ok(created), Ok(Some(opened)), Some(sealed)) =
                (event.decode::<AccountCreated>(), event.personal_fields::<NameAndEmail>(), event.sealed())
            else {
                continue;
            };
            let entry = IndexEntry { account: created.account, email: sealed };
            index.entries.insert(self.secrets.email_key(&opened.email), entry);
        }
    }

    async fn after(&mut self, (): (), _: u64) {}

    async fn closed(self) -> u64 {
        u64::MAX
    }
}

impl State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        let at = event.recorded_at_micros;
        match (event.stream.category(), event.event_type.as_str()) {
            (ACCOUNT, AccountCreated::TYPE) => {
                let data: AccountCreated = event.decode()?;
                self.accounts.insert(
                    data.account,
                    KeptAccount {
                        id: data.account,
                        personal: event.sealed::<NameAndEmail>(),
                        password: event.sealed::<PasswordPersonal>(),
                        roles: data.roles,
                        hubs: data.hubs,
                        provider: data.provider,
                        must_change_password: data.must_change_password,
                        locked_until_micros: None,
                        created_at_micros: at,
                        deactivated_at_micros: None,
                    },
                );
            }
            (ACCOUNT, RolesChanged::TYPE) => {
                let data: RolesChanged = event.decode()?;
                if let Some(account) = self.account_of(event) {
                    account.roles = data.roles;
                    account.hubs = data.hubs;
                    account.provider = data.provider;
                }
            }
            (ACCOUNT, PasswordChanged::TYPE) => {
                let data: PasswordChanged = event.decode()?;
                if let Some(account) = self.account_of(event) {
                    account.must_change_password = data.must_change_password;
                    account.password = event.sealed();
                }
            }
            (ACCOUNT, AccountLockedOut::TYPE) => {
                let data: AccountLockedOut = event.decode()?;
                if let Some(account) = self.account_of(event) {
                    account.locked_until_micros = Some(data.until_micros);
                }
            }
            (ACCOUNT, AccountUnlocked::TYPE) => {
                if let Some(account) = self.account_of(event) {
                    account.locked_until_micros = None;
                }
            }
            (ACCOUNT, PasswordReset::TYPE) => {
                let _: PasswordReset = event.decode()?;
                if let Some(account) = self.account_of(event) {
                    account.must_change_password = true;
                    account.password = event.sealed();
                    let id = account.id;
                    self.end_sessions_of(id, at, SessionEndReason::PasswordReset);
                }
            }
            (ACCOUNT, AccountDeactivated::TYPE) => {
                let _: AccountDeactivated = event.decode()?;
                if let Some(account) = self.account_of(event) {
                    account.deactivated_at_micros.get_or_insert(at);
                    let id = account.id;
                    self.end_sessions_of(id, at, SessionEndReason::AccountDeactivated);
                    self.revoke_tokens_of(id, at);
                }
            }
            (ACCOUNT, AccountReactivated::TYPE) => {
                let _: AccountReactivated = event.decode()?;
                if let Some(account) = self.account_of(event) {
                    account.deactivated_at_micros = None;
                }
            }
            (SESSION, SessionStarted::TYPE) => {
                let data: SessionStarted = event.decode()?;
                // A login that raced a deactivation and landed after it never opens anything.
                let deactivated = self.accounts.get(&data.account).is_some_and(KeptAccount::is_deactivated);
                self.sessions.insert(
                    data.session,
                    Session {
                        id: data.session,
                        account: data.account,
                        secret_hash: data.secret_hash,
                        started_at_micros: at,
                        expires_at_micros: data.expires_at_micros,
                        ended_at_micros: deactivated.then_some(at),
                        end_reason: deactivated.then_some(SessionEndReason::AccountDeactivated),
                    },
                );
            }
            (SESSION, SessionEnded::TYPE) => {
                let data: SessionEnded = event.decode()?;
                if let Some(session) = stream_uuid(event).and_then(|id| self.sessions.get_mut(&id)) {
                    session.ended_at_micros.get_or_insert(at);
                    session.end_reason.get_or_insert(data.reason);
                }
            }
            (API_TOKEN, ApiTokenCreated::TYPE) => {
                let data: ApiTokenCreated = event.decode()?;
                let deactivated = self.accounts.get(&data.account).is_some_and(KeptAccount::is_deactivated);
                self.token_by_hash.insert(data.secret_hash.clone(), data.token);
                self.tokens.insert(
                    data.token,
                    ApiToken {
                        id: data.token,
                        account: data.account,
                        label: data.label,
                        secret_hash: data.secret_hash,
                        created_at_micros: at,
                        revoked_at_micros: deactivated.then_some(at),
                    },
                );
            }
            (API_TOKEN, ApiTokenRevoked::TYPE) => {
                if let Some(token) = stream_uuid(event).and_then(|id| self.tokens.get_mut(&id)) {
                    token.revoked_at_micros.get_or_insert(at);
                }
            }
            (HUB, HubAdded::TYPE) => {
                let data: HubAdded = event.decode()?;
                self.hubs
                    .insert(data.hub.clone(), Hub { id: data.hub, name: data.name, kind: data.kind, area: data.area });
            }
            (PROVIDER, ProviderAdded::TYPE) => {
                let data: ProviderAdded = event.decode()?;
                self.providers.insert(data.provider.clone(), Provider { id: data.provider, name: data.name });
            }
            (AccessRecorded::CATEGORY, AccessRecorded::TYPE) => {
                let record: AccessRecorded = event.decode()?;
                self.access.push(AccessMark { position: event.position, actor: record.actor, allowed: record.allowed });
            }
            _ => self.held.apply(event)?,
        }
        Ok(())
    }

    fn account_of(&mut self, event: &RecordedEvent) -> Option<&mut KeptAccount> {
        stream_uuid(event).and_then(|id| self.accounts.get_mut(&id))
    }

    /// Ends, at `at`, every session of `account` not ended yet: what a reset password or a
    /// deactivation means for the sessions it opened.
    fn end_sessions_of(&mut self, account: Uuid, at: i64, reason: SessionEndReason) {
        for session in self.sessions.values_mut().filter(|s| s.account == account && s.ended_at_micros.is_none()) {
            session.ended_at_micros = Some(at);
            session.end_reason = Some(reason);
        }
    }

    /// Revokes, at `at`, every API token of `account` not revoked yet.
    fn revoke_tokens_of(&mut self, account: Uuid, at: i64) {
        for token in self.tokens.values_mut().filter(|t| t.account == account && t.revoked_at_micros.is_none()) {
            token.revoked_at_micros = Some(at);
        }
    }

    /// The account, opened for a reader.
    pub fn account(&self, id: Uuid, store: &EventStore) -> Option<Account> {
        self.accounts.get(&id).map(|account| account.open(store))
    }

    /// Accounts ordered by creation time, opened.
    pub fn accounts_in_order(&self, store: &EventStore) -> Vec<Account> {
        let mut accounts: Vec<&KeptAccount> = self.accounts.values().collect();
        accounts.sort_by_key(|account| (account.created_at_micros, account.id));
        accounts.into_iter().map(|account| account.open(store)).collect()
    }

    /// The directory of advocates: each account holding the advocate role whose person is still
    /// known (an erased account has no name to choose by) and which is not deactivated, as
    /// (id, display name), by name.
    pub fn advocates_by_name(&self, store: &EventStore) -> Vec<(Uuid, String)> {
        self.by_name(advocates, |account| account.display_name(store))
    }

    /// The directory of complaints handlers: each account holding the complaints handler role
    /// whose person is still known, as (id, display name), by name.
    pub fn complaint_handlers_by_name(&self, store: &EventStore) -> Vec<(Uuid, String)> {
        self.by_name(complaint_handlers, |account| account.display_name(store))
    }

    /// The coordinators of `hub`, who can receive its disclosures of risk: each account that
    /// takes its safeguarding, whose person is still known and which is not deactivated, as
    /// (id, display name), by name.
    pub fn coordinators_by_name(&self, hub: &str, store: &EventStore) -> Vec<(Uuid, String)> {
        self.by_name(|account| coordinators_of(account, hub), |account| account.display_name(store))
    }
}

/// The same lists, of a directory whose accounts are already opened.
impl State<Account> {
    pub fn advocates_by_name(&self) -> Vec<(Uuid, String)> {
        self.by_name(advocates, |account| account.display_name.clone())
    }

    pub fn complaint_handlers_by_name(&self) -> Vec<(Uuid, String)> {
        self.by_name(complaint_handlers, |account| account.display_name.clone())
    }

    pub fn coordinators_by_name(&self, hub: &str) -> Vec<(Uuid, String)> {
        self.by_name(|account| coordinators_of(account, hub), |account| account.display_name.clone())
    }
}

fn advocates(account: &impl Listed) -> bool {
    heard_access::can_be_handed_cases(account.roles())
}

fn complaint_handlers(account: &impl Listed) -> bool {
    heard_access::can_be_assigned_complaints(account.roles())
}

fn coordinators_of(account: &impl Listed, hub: &str) -> bool {
    heard_access::takes_safeguarding_for(account.roles(), account.hubs(), hub)
}

impl<A: Listed> State<A> {
    /// The accounts `listed` picks (by their roles and hubs) whose person is still known (an
    /// erased account has no name to choose by, `name` gives none) and which are not
    /// deactivated, as (id, display name), by name.
    fn by_name(&self, listed: impl Fn(&A) -> bool, name: impl Fn(&A) -> Option<String>) -> Vec<(Uuid, String)> {
        let mut found: Vec<(Uuid, String)> = self
            .accounts
            .values()
            .filter(|account| listed(account) && !account.is_deactivated())
            .filter_map(|account| Some((account.id(), name(account)?)))
            .collect();
        found.sort_by(|(a_id, a_name), (b_id, b_name)| {
            a_name.to_lowercase().cmp(&b_name.to_lowercase()).then(a_id.cmp(b_id))
        });
        found
    }
}

fn stream_uuid(event: &RecordedEvent) -> Option<Uuid> {
    Uuid::parse_str(event.stream.id()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: u128, name: Option<&str>, roles: &[Role]) -> Account {
        Account {
            id: Uuid::from_u128(id),
            display_name: name.map(str::to_owned),
            email: name.map(|name| format!("{name}@example.org")),
            password_hash: None,
            roles: roles.iter().copied().collect(),
            hubs: BTreeSet::new(),
            provider: None,
            must_change_password: false,
            locked_until_micros: None,
            created_at_micros: id as i64,
            deactivated_at_micros: None,
        }
    }

    /// A directory of opened accounts holding `accounts`.
    fn directory_of(accounts: impl IntoIterator<Item = Account>) -> State<Account> {
        let mut state = State::default();
        for account in accounts {
            state.accounts.insert(account.id, account);
        }
        state
    }

    /// One entry of a list by name.
    fn listed(id: u128, name: &str) -> (Uuid, String) {
        (Uuid::from_u128(id), name.to_owned())
    }

    #[test]
    fn the_coordinators_of_a_hub_are_its_coordinators_still_known_in_name_order() {
        let in_hub = |id: u128, name: Option<&str>, roles: &[Role], hub: &str| {
            let mut account = account(id, name, roles);
            account.hubs = BTreeSet::from([hub.to_owned()]);
            account
        };
        let state = directory_of([
            in_hub(1, Some("Zoe"), &[Role::HubCoordinator], "arun"),
            in_hub(2, Some("ali"), &[Role::HubCoordinator, Role::HubMember], "arun"),
            in_hub(3, Some("Member"), &[Role::HubMember], "arun"),
            in_hub(4, Some("Crawley's"), &[Role::HubCoordinator], "crawley"),
            in_hub(5, None, &[Role::HubCoordinator], "arun"),
        ]);
        assert_eq!(state.coordinators_by_name("arun"), [listed(2, "ali"), listed(1, "Zoe")]);
    }

    #[test]
    fn the_directory_of_advocates_names_only_advocates_still_known_and_not_deactivated_in_name_order() {
        let state = directory_of([
            account(1, Some("zainab"), &[Role::Advocate]),
            account(2, Some("Alex"), &[Role::Advocate, Role::HubMember]),
            account(3, Some("Morgan"), &[Role::HubMember]),
            account(4, None, &[Role::Advocate]),
            account(5, Some("Admin"), &[Role::Administrator]),
            Account { deactivated_at_micros: Some(9), ..account(6, Some("Bea"), &[Role::Advocate]) },
        ]);
        assert_eq!(state.advocates_by_name(), [listed(2, "Alex"), listed(1, "zainab")]);
    }

    #[test]
    fn the_directory_of_complaints_handlers_names_only_handlers_still_known_in_name_order() {
        let state = directory_of([
            account(1, Some("Priya"), &[Role::ComplaintsHandler]),
            account(2, Some("ben"), &[Role::ComplaintsHandler, Role::Commissioner]),
            account(3, Some("Alex"), &[Role::Advocate]),
            account(4, None, &[Role::ComplaintsHandler]),
            account(5, Some("Admin"), &[Role::Administrator]),
        ]);
        assert_eq!(state.complaint_handlers_by_name(), [listed(2, "ben"), listed(1, "Priya")]);
    }
}
