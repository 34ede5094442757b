//! The identity service's events: accounts (roles, hubs, provider), sessions, API tokens, and
//! the hubs and providers every other service names. Other services read `AccountCreated` and
//! `RolesChanged` (roles and hubs, never names or emails), `AccountDeactivated` and
//! `AccountReactivated` (who may be handed work now), `HubAdded` and `ProviderAdded`
//! (through [`crate::reference::Reference`]). They never change shape without a new schema
//! version and an upcaster.

use std::collections::BTreeSet;

use heard_access::Role;

use crate::event;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Stream categories this service writes.
pub const ACCOUNT: &str = "account";
pub const SESSION: &str = "session";
pub const API_TOKEN: &str = "apitoken";
pub const HUB: &str = "hub";
pub const PROVIDER: &str = "provider";

/// `AccountCreated`, with [`AccountPersonal`] encrypted under the account's own key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCreated {
    pub account: Uuid,
    pub roles: BTreeSet<Role>,
    pub hubs: BTreeSet<String>,
    pub provider: Option<String>,
    /// Set when the password was generated for the person: they should choose their own.
    pub must_change_password: bool,
    /// The administrator who created it; `None` when bootstrapped from the command line.
    pub created_by: Option<Uuid>,
}

/// The personal fields of an account (encrypted in the log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPersonal {
    pub display_name: String,
    pub email: String,
    /// PHC string of an argon2id hash. Kept encrypted so exports never carry it.
    pub password_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolesChanged {
    pub roles: BTreeSet<Role>,
    pub hubs: BTreeSet<String>,
    pub provider: Option<String>,
    pub by: Uuid,
}

/// `PasswordChanged`, with [`PasswordPersonal`] encrypted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChanged {
    pub must_change_password: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPersonal {
    pub password_hash: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLockedOut {
    /// Microseconds since the Unix epoch.
    pub until_micros: i64,
    pub failed_attempts: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountUnlocked {
    pub by: Uuid,
}

/// `PasswordReset`: an administrator gave the account a new one-time password (the hash in
/// [`PasswordPersonal`], encrypted), which the person must change at their next login. At this
/// point in the log every session of the account ends (`SessionEndReason::PasswordReset`):
/// whoever knew the old password is logged out. Its API tokens are left as they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub by: Uuid,
}

/// `AccountDeactivated`: an administrator switched the account off. At this point in the log
/// every session of the account ends (`SessionEndReason::AccountDeactivated`) and every API
/// token of it is revoked, in this one event, so that nothing it opened survives even a crash
/// straight after it; while it stays deactivated it cannot log in, a session or token it
/// somehow starts never opens anything, and other services leave it out of every list of people
/// to hand work to ([`crate::reference::Reference`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDeactivated {
    pub by: Uuid,
}

/// `AccountReactivated`: the account can log in again, with the password it had. Nothing the
/// deactivation ended comes back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountReactivated {
    pub by: Uuid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStarted {
    pub session: Uuid,
    pub account: Uuid,
    /// SHA-256 of the session secret, hex. The secret itself is only in the person's cookie.
    pub secret_hash: String,
    pub expires_at_micros: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEndReason {
    LoggedOut,
    Revoked,
    /// The account's password was changed from another session: whoever knew the old one is
    /// logged out.
    PasswordChanged,
    /// An administrator gave the account a new one-time password ([`PasswordReset`]).
    PasswordReset,
    /// An administrator deactivated the account ([`AccountDeactivated`]).
    AccountDeactivated,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEnded {
    pub reason: SessionEndReason,
    pub by: Uuid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenCreated {
    pub token: Uuid,
    pub account: Uuid,
    /// What the token is for, e.g. "CRM export". Not personal data.
    pub label: String,
    /// SHA-256 of the token secret, hex.
    pub secret_hash: String,
    pub created_by: Uuid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRevoked {
    pub by: Uuid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HubKind {
    /// A local group.
    Hub,
    /// A county-wide forum that the hubs belong to.
    Forum,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubAdded {
    pub hub: String,
    pub name: String,
    pub kind: HubKind,
    /// The area it serves, e.g. "West Sussex".
    pub area: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderAdded {
    pub provider: String,
    pub name: String,
}

event!(AccountCreated, ACCOUNT, "AccountCreated", 1);
event!(RolesChanged, ACCOUNT, "RolesChanged", 1);
event!(PasswordChanged, ACCOUNT, "PasswordChanged", 1);
event!(AccountLockedOut, ACCOUNT, "AccountLockedOut", 1);
event!(AccountUnlocked, ACCOUNT, "AccountUnlocked", 1);
event!(PasswordReset, ACCOUNT, "PasswordReset", 1);
event!(AccountDeactivated, ACCOUNT, "AccountDeactivated", 1);
event!(AccountReactivated, ACCOUNT, "AccountReactivated", 1);
event!(SessionStarted, SESSION, "SessionStarted", 1);
event!(SessionEnded, SESSION, "SessionEnded", 1);
event!(ApiTokenCreated, API_TOKEN, "ApiTokenCreated", 1);
event!(ApiTokenRevoked, API_TOKEN, "ApiTokenRevoked", 1);
event!(HubAdded, HUB, "HubAdded", 1);
event!(ProviderAdded, PROVIDER, "ProviderAdded", 1);
