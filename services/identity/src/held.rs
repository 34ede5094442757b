//! The identity service's part of subject access: the access log as it concerns one person.
//! Who (an account's display name and roles) read, or was refused, which of the person's cases
//! and complaints, and when.
//!
//! The access log holds opaque record ids only; which records are a person's comes from the
//! attribution events the advocacy and rights services append on their records' streams
//! (`CaseAttributed`, `CaseAssigned`, `ComplaintAttributed`), folded here into
//! [`HeldRecords`]. An entry is shown only to someone who may see its record under that
//! record's own rule: a case's entries to the advocate it is assigned to, a complaint's to
//! complaints handlers and the advocate who relayed it (those who may see who complained). The
//! operator at the command line (`heard subject-access`) sees every entry.

use async_graphql::{Context, ID, Object};
use heard_access::{Action, Actor, Resource, Role};
use heard_api::{ApiResult, timestamp, viewer};
use heard_contracts::privacy::PersonId;
use serde::Serialize;
use uuid::Uuid;

use crate::graphql::RoleName;
pub use crate::held_records::HeldRecords;
use crate::service::IdentityService;

/// Whether `actor` may see the access log's entries about `resource` (`None`: the operator).
fn may_see(actor: Option<&Actor>, resource: &Resource) -> bool {
    let Some(actor) = actor else { return true };
    let action = match resource {
        Resource::Case(_) => Action::ViewCase,
        _ => Action::ViewComplainant,
    };
    heard_access::may(actor, action, resource).is_allowed()
}

/// One read of (or refusal to read) one of the person's cases or complaints. The same shape
/// as the GraphQL `HeldAccess` (camelCase, roles as GraphQL spells them), so that
/// `heard subject-access` prints the same JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldAccess {
    /// When, RFC 3339.
    pub at: String,
    /// The account; `null` for someone not logged in (the nil id is the operator at the
    /// command line).
    pub actor_id: Option<String>,
    /// The account's display name; `null` when there is none (not logged in, or erased).
    pub actor_name: Option<String>,
    /// The account's roles now, e.g. `ADVOCATE`.
    pub actor_roles: Vec<String>,
    /// e.g. `view_case`, `view_complaint`.
    pub action: String,
    /// `case` or `complaint`.
    pub record_kind: String,
    pub record_id: String,
    /// Whether it was allowed; a refusal is on the log too.
    pub allowed: bool,
}

/// How GraphQL spells a role (`HUB_COORDINATOR`).
fn graphql_role(role: Role) -> String {
    role.as_str().to_ascii_uppercase()
}

impl IdentityService {
    /// The access log's entries about `person`'s cases and complaints that `actor` may see
    /// (`None`: the operator, every entry), oldest first.
    pub async fn held_about(&self, person: PersonId, actor: Option<&Actor>) -> ApiResult<Vec<HeldAccess>> {
        let mut found: Vec<(i64, Option<Uuid>, String, String, Uuid, bool)> = Vec::new();
        self.each_access_page(|entries, state| {
            for entry in entries {
                let record = &entry.record;
                let ids = record.resource_id.iter().chain(record.resource_ids.iter());
                for id in ids {
                    let Some((id, resource)) = state.held.resource_of(person, &record.resource_kind, id) else {
                        continue;
                    };
                    if may_see(actor, &resource) {
                        found.push((
                            entry.at_micros,
                            record.actor,
                            record.action.clone(),
                            record.resource_kind.clone(),
                            id,
                            record.allowed,
                        ));
                    }
                }
            }
        })
        .await?;
        let held = found
            .into_iter()
            .map(|(at, account, action, kind, id, allowed)| {
                let opened = account.and_then(|account| self.account(account));
                HeldAccess {
                    at: timestamp(at),
                    actor_id: account.map(|account| account.to_string()),
                    actor_name: opened.as_ref().and_then(|account| account.display_name.clone()),
                    actor_roles: opened
                        .map(|account| account.roles.iter().copied().map(graphql_role).collect())
                        .unwrap_or_default(),
                    action,
                    record_kind: kind,
                    record_id: id.to_string(),
                    allowed,
                }
            })
            .collect();
        Ok(held)
    }
}

/// The identity service's part of `SubjectAccess`: the gateway merges it with the other
/// services' parts.
#[derive(Clone, Debug)]
pub struct AccessHeld {
    pub person: PersonId,
}

#[Object]
impl AccessHeld {
    /// Who read, or was refused, which of the person's cases and complaints, and when: only
    /// entries about records you may see yourself. Oldest first.
    async fn access_log(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<HeldAccessView>> {
        let actor = viewer(ctx).actor.clone();
        let identity = ctx.data_unchecked::<IdentityService>();
        Ok(identity.held_about(self.person, Some(&actor)).await?.into_iter().map(HeldAccessView).collect())
    }
}

/// One entry of the access log about a person's case or complaint.
pub struct HeldAccessView(pub HeldAccess);

#[Object(name = "HeldAccess")]
impl HeldAccessView {
    async fn at(&self) -> &str {
        &self.0.at
    }
    /// `null` for someone not logged in.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.clone().map(ID)
    }
    /// `null` when there is none (not logged in, or the account's person was erased).
    async fn actor_name(&self) -> Option<&str> {
        self.0.actor_name.as_deref()
    }
    /// The account's roles now.
    async fn actor_roles(&self) -> Vec<RoleName> {
        let roles = self.0.actor_roles.iter().filter_map(|name| name.to_ascii_lowercase().parse::<Role>().ok());
        roles.map(RoleName::from).collect()
    }
    /// e.g. `view_case`, `view_complaint`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// `case` or `complaint`.
    async fn record_kind(&self) -> &str {
        &self.0.record_kind
    }
    async fn record_id(&self) -> ID {
        ID(self.0.record_id.clone())
    }
    async fn allowed(&self) -> bool {
        self.0.allowed
    }
}
