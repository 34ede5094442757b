//! The identity service's own projection of the log: accounts, sessions, API tokens, hubs,
//! providers and the access log, kept in memory and rebuilt from the log on every start.
//!
//! It is small (staff accounts, not service users), so memory is the right place; a
//! [`LiveModel`] follows `$all` and applies this service's categories in order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use heard_access::{Actor, Role};
use heard_contracts::Event as _;
use heard_contracts::access::AccessRecorded;
use heard_eventstore::{Fold, LiveModel, RecordedEvent};
use uuid::Uuid;

use crate::domain::*;

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

    pub fn is_locked(&self, now_micros: i64) -> bool {
        self.locked_until_micros.is_some_and(|until| until > now_micros)
    }
}

#[derive(Clone, Debug)]
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

#[derive(Clone, Debug)]
pub struct ApiToken {
    pub id: Uuid,
    pub account: Uuid,
    pub label: String,
    pub secret_hash: String,
    pub created_at_micros: i64,
    pub revoked_at_micros: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct Hub {
    pub id: String,
    pub name: String,
    pub kind: HubKind,
    pub area: String,
}

#[derive(Clone, Debug)]
pub struct Provider {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct AccessEntry {
    pub position: u64,
    pub at_micros: i64,
    pub record: AccessRecorded,
}

#[derive(Default, Debug)]
pub struct State {
    pub accounts: HashMap<Uuid, Account>,
    pub by_email: HashMap<String, Uuid>,
    pub sessions: HashMap<Uuid, Session>,
    pub tokens: HashMap<Uuid, ApiToken>,
    pub token_by_hash: HashMap<String, Uuid>,
    pub hubs: BTreeMap<String, Hub>,
    pub providers: BTreeMap<String, Provider>,
    /// In log order.
    pub access: Vec<AccessEntry>,
}

/// The projection, shared by the service and its resolvers: the one follower mechanism every
/// service uses ([`LiveModel`]), over this service's [`State`].
pub type Directory = LiveModel<State>;

impl Fold for State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        State::apply(self, event)
    }
}

impl State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        let at = event.recorded_at_micros;
        match (event.stream.category(), event.event_type.as_str()) {
            (ACCOUNT, AccountCreated::TYPE) => {
                let data: AccountCreated = event.decode()?;
                let personal: Option<AccountPersonal> = event.personal_fields()?;
                if let Some(personal) = &personal {
                    self.by_email.insert(personal.email.clone(), data.account);
                }
                self.accounts.insert(
                    data.account,
                    Account {
                        id: data.account,
                        display_name: personal.as_ref().map(|p| p.display_name.clone()),
                        email: personal.as_ref().map(|p| p.email.clone()),
                        password_hash: personal.map(|p| p.password_hash),
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
                let personal: Option<PasswordPersonal> = event.personal_fields()?;
                if let Some(account) = self.account_of(event) {
                    account.must_change_password = data.must_change_password;
                    account.password_hash = personal.map(|p| p.password_hash);
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
                let personal: Option<PasswordPersonal> = event.personal_fields()?;
                if let Some(account) = self.account_of(event) {
                    account.must_change_password = true;
                    account.password_hash = personal.map(|p| p.password_hash);
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
                let deactivated = self.accounts.get(&data.account).is_some_and(Account::is_deactivated);
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
                let deactivated = self.accounts.get(&data.account).is_some_and(Account::is_deactivated);
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
                self.access.push(AccessEntry { position: event.position, at_micros: at, record: event.decode()? });
            }
            _ => {}
        }
        Ok(())
    }

    fn account_of(&mut self, event: &RecordedEvent) -> Option<&mut Account> {
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

    /// Accounts ordered by creation time.
    pub fn accounts_in_order(&self) -> Vec<Account> {
        let mut accounts: Vec<Account> = self.accounts.values().cloned().collect();
        accounts.sort_by_key(|account| (account.created_at_micros, account.id));
        accounts
    }

    /// The directory of advocates: each account holding the advocate role whose person is still
    /// known (an erased account has no name to choose by) and which is not deactivated, as
    /// (id, display name), by name.
    pub fn advocates_by_name(&self) -> Vec<(Uuid, String)> {
        self.by_name(|account| heard_access::can_be_handed_cases(&account.roles))
    }

    /// The directory of complaints handlers: each account holding the complaints handler role
    /// whose person is still known, as (id, display name), by name.
    pub fn complaint_handlers_by_name(&self) -> Vec<(Uuid, String)> {
        self.by_name(|account| heard_access::can_be_assigned_complaints(&account.roles))
    }

    /// The coordinators of `hub`, who can receive its disclosures of risk: each account that
    /// takes its safeguarding, whose person is still known and which is not deactivated, as
    /// (id, display name), by name.
    pub fn coordinators_by_name(&self, hub: &str) -> Vec<(Uuid, String)> {
        self.by_name(|account| heard_access::takes_safeguarding_for(&account.roles, &account.hubs, hub))
    }

    /// The accounts `listed` picks (by their roles and hubs) whose person is still known (an
    /// erased account has no name to choose by) and which are not deactivated, as
    /// (id, display name), by name.
    fn by_name(&self, listed: impl Fn(&Account) -> bool) -> Vec<(Uuid, String)> {
        let mut found: Vec<(Uuid, String)> = self
            .accounts
            .values()
            .filter(|account| listed(account) && !account.is_deactivated())
            .filter_map(|account| Some((account.id, account.display_name.clone()?)))
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

    #[test]
    fn the_coordinators_of_a_hub_are_its_coordinators_still_known_in_name_order() {
        let mut state = State::default();
        let in_hub = |id: u128, name: Option<&str>, roles: &[Role], hub: &str| {
            let mut account = account(id, name, roles);
            account.hubs = BTreeSet::from([hub.to_owned()]);
            account
        };
        for account in [
            in_hub(1, Some("Zoe"), &[Role::HubCoordinator], "arun"),
            in_hub(2, Some("ali"), &[Role::HubCoordinator, Role::HubMember], "arun"),
            in_hub(3, Some("Member"), &[Role::HubMember], "arun"),
            in_hub(4, Some("Crawley's"), &[Role::HubCoordinator], "crawley"),
            in_hub(5, None, &[Role::HubCoordinator], "arun"),
        ] {
            state.accounts.insert(account.id, account);
        }
        assert_eq!(
            state.coordinators_by_name("arun"),
            [(Uuid::from_u128(2), "ali".to_owned()), (Uuid::from_u128(1), "Zoe".to_owned())]
        );
    }

    #[test]
    fn the_directory_of_advocates_names_only_advocates_still_known_and_not_deactivated_in_name_order() {
        let mut state = State::default();
        for account in [
            account(1, Some("zainab"), &[Role::Advocate]),
            account(2, Some("Alex"), &[Role::Advocate, Role::HubMember]),
            account(3, Some("Morgan"), &[Role::HubMember]),
            account(4, None, &[Role::Advocate]),
            account(5, Some("Admin"), &[Role::Administrator]),
            Account { deactivated_at_micros: Some(9), ..account(6, Some("Bea"), &[Role::Advocate]) },
        ] {
            state.accounts.insert(account.id, account);
        }
        assert_eq!(
            state.advocates_by_name(),
            [(Uuid::from_u128(2), "Alex".to_owned()), (Uuid::from_u128(1), "zainab".to_owned())]
        );
    }

    #[test]
    fn the_directory_of_complaints_handlers_names_only_handlers_still_known_in_name_order() {
        let mut state = State::default();
        for account in [
            account(1, Some("Priya"), &[Role::ComplaintsHandler]),
            account(2, Some("ben"), &[Role::ComplaintsHandler, Role::Commissioner]),
            account(3, Some("Alex"), &[Role::Advocate]),
            account(4, None, &[Role::ComplaintsHandler]),
            account(5, Some("Admin"), &[Role::Administrator]),
        ] {
            state.accounts.insert(account.id, account);
        }
        assert_eq!(
            state.complaint_handlers_by_name(),
            [(Uuid::from_u128(2), "ben".to_owned()), (Uuid::from_u128(1), "Priya".to_owned())]
        );
    }
}
