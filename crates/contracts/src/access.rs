//! Access events: one `AccessRecorded` per read of a case file or complaint (a page of a
//! list read as one), and per refusal of a logged-in person, in one stream per UTC day
//! (`access-20261123`). Every service appends them through `heard-api`; the identity service
//! projects them for the access log.

use heard_access::{Action, Actor, Decision, Resource, recordable_id};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event;

/// Access events go to one stream per UTC day in this category: `access-20261123`.
pub const ACCESS: &str = "access";

/// The event every service appends when someone reads a case file or complaint, or is refused
/// anything: who, what and the decision. Opaque ids only, never personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecorded {
    /// The account, or `None` for someone not logged in.
    pub actor: Option<Uuid>,
    pub action: String,
    pub resource_kind: String,
    /// The id asked for, as [`recordable_id`] keeps it.
    pub resource_id: Option<String>,
    /// Every record of one page of a list read, in one event (empty for a single read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_ids: Vec<String>,
    pub allowed: bool,
    pub reason: Option<String>,
}

event!(AccessRecorded, ACCESS, "AccessRecorded", 1);

impl AccessRecorded {
    pub fn new(actor: &Actor, action: Action, resource: &Resource, decision: Decision) -> Self {
        let (kind, id) = resource.kind_and_id();
        AccessRecorded {
            actor: actor.account,
            action: action.as_str().to_owned(),
            resource_kind: kind.to_owned(),
            resource_id: id.as_deref().map(recordable_id),
            resource_ids: Vec::new(),
            allowed: decision.is_allowed(),
            reason: match decision {
                Decision::Allow => None,
                Decision::Deny(denial) => Some(denial.reason.to_owned()),
            },
        }
    }

    /// One allowed read of a page of a list: every record's id in one event.
    pub fn list_read(actor: &Actor, action: Action, resources: &[Resource]) -> Self {
        let kind = resources.first().map(|resource| resource.kind_and_id().0).unwrap_or("system");
        AccessRecorded {
            actor: actor.account,
            action: action.as_str().to_owned(),
            resource_kind: kind.to_owned(),
            resource_id: None,
            resource_ids: resources
                .iter()
                .filter_map(|resource| resource.kind_and_id().1)
                .map(|id| recordable_id(&id))
                .collect(),
            allowed: true,
            reason: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use heard_access::{Role, may};

    use super::*;

    #[test]
    fn an_access_record_holds_opaque_ids_and_the_reason_only() {
        let member = Actor {
            account: Some(Uuid::from_u128(1)),
            roles: BTreeSet::from([Role::HubMember]),
            hubs: BTreeSet::from(["arun".to_owned()]),
            provider: None,
        };
        let someone_else = Uuid::from_u128(2);
        let account = Resource::Account { id: someone_else, hubs: BTreeSet::from(["crawley".to_owned()]) };
        let record =
            AccessRecorded::new(&member, Action::ViewAccount, &account, may(&member, Action::ViewAccount, &account));
        assert_eq!(record.actor, Some(Uuid::from_u128(1)));
        assert_eq!(record.resource_kind, "account");
        assert_eq!(record.resource_id, Some(someone_else.to_string()));
        assert!(!record.allowed);
        assert_eq!(record.reason.as_deref(), Some("this account is outside your hubs"));
    }
}
