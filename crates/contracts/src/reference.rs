//! The reference data every service keeps, folded once: hubs, providers, the theme list with its
//! renames and merges, and each account's roles, hubs and provider (never names or emails).
//!
//! A service holds a [`Reference`] in its model and hands it every event of the log
//! ([`Reference::apply`]); events that are not reference data are ignored. The identity and
//! feedback services publish these events; everyone, them included, reads them here.
//!
//! A deactivated account is kept aside ([`Reference::deactivated`]) until it is reactivated, so
//! that `accounts`, and with it every list of people to hand work to that a service draws from
//! it (advocates, a hub's coordinators), holds only the accounts in use now.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use heard_access::Role;
use uuid::Uuid;

use crate::feedback::{ThemeAdded, ThemeMerged, ThemeRenamed};
use crate::identity::{AccountCreated, AccountDeactivated, AccountReactivated, HubAdded, ProviderAdded, RolesChanged};
use crate::{DecodeError, Event, decode};

/// A theme from the shared list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Theme {
    pub id: String,
    pub name: String,
    pub parent: Option<String>,
    /// The theme it was merged into; a merged theme keeps its id so that old records keep their
    /// label.
    pub merged_into: Option<String>,
}

/// What an account may do, as other services need it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub roles: BTreeSet<Role>,
    pub hubs: BTreeSet<String>,
    pub provider: Option<String>,
}

/// The reference data, as the log has it so far.
/// Saved with each read model that holds it (nothing here is personal).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reference {
    /// Hub id → name.
    pub hubs: BTreeMap<String, String>,
    /// Provider id → name.
    pub providers: BTreeMap<String, String>,
    /// Theme id → theme, merged ones included.
    pub themes: BTreeMap<String, Theme>,
    /// Account → its roles, hubs and provider: the accounts in use now.
    pub accounts: HashMap<Uuid, Account>,
    /// Deactivated accounts, kept aside with their roles until they are reactivated. Nobody
    /// hands work to them.
    pub deactivated: HashMap<Uuid, Account>,
}

impl Reference {
    /// Applies one event of the log (its stream's category and id, its type and its JSON data).
    /// Returns whether it was reference data; anything else is ignored.
    pub fn apply(
        &mut self,
        category: &str,
        stream_id: &str,
        event_type: &str,
        data: &[u8],
    ) -> Result<bool, DecodeError> {
        if HubAdded::is(category, event_type) {
            let added: HubAdded = decode(event_type, data)?;
            self.hubs.insert(added.hub, added.name);
        } else if ProviderAdded::is(category, event_type) {
            let added: ProviderAdded = decode(event_type, data)?;
            self.providers.insert(added.provider, added.name);
        } else if ThemeAdded::is(category, event_type) {
            let added: ThemeAdded = decode(event_type, data)?;
            let theme = Theme { id: added.theme.clone(), name: added.name, parent: added.parent, merged_into: None };
            self.themes.insert(added.theme, theme);
        } else if ThemeRenamed::is(category, event_type) {
            let renamed: ThemeRenamed = decode(event_type, data)?;
            if let Some(theme) = self.themes.get_mut(stream_id) {
                theme.name = renamed.name;
            }
        } else if ThemeMerged::is(category, event_type) {
            let merged: ThemeMerged = decode(event_type, data)?;
            if let Some(theme) = self.themes.get_mut(stream_id) {
                theme.merged_into = Some(merged.into);
            }
        } else if AccountCreated::is(category, event_type) {
            let created: AccountCreated = decode(event_type, data)?;
            let account = Account { roles: created.roles, hubs: created.hubs, provider: created.provider };
            self.accounts.insert(created.account, account);
        } else if RolesChanged::is(category, event_type) {
            let changed: RolesChanged = decode(event_type, data)?;
            if let Ok(id) = Uuid::parse_str(stream_id) {
                let account = Account { roles: changed.roles, hubs: changed.hubs, provider: changed.provider };
                match self.deactivated.get_mut(&id) {
                    Some(aside) => *aside = account,
                    None => {
                        self.accounts.insert(id, account);
                    }
                }
            }
        } else if AccountDeactivated::is(category, event_type) {
            let _: AccountDeactivated = decode(event_type, data)?;
            if let Some((id, account)) = Uuid::parse_str(stream_id).ok().and_then(|id| self.accounts.remove_entry(&id))
            {
                self.deactivated.insert(id, account);
            }
        } else if AccountReactivated::is(category, event_type) {
            let _: AccountReactivated = decode(event_type, data)?;
            if let Some((id, account)) =
                Uuid::parse_str(stream_id).ok().and_then(|id| self.deactivated.remove_entry(&id))
            {
                self.accounts.insert(id, account);
            }
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// Whether the account holds the role now (a deactivated account holds none).
    pub fn holds(&self, account: Uuid, role: Role) -> bool {
        self.accounts.get(&account).is_some_and(|found| found.roles.contains(&role))
    }

    /// Every account in use that holds the role now.
    pub fn holders(&self, role: Role) -> BTreeSet<Uuid> {
        self.accounts.iter().filter(|(_, account)| account.roles.contains(&role)).map(|(id, _)| *id).collect()
    }

    /// A theme's name (merged themes keep theirs).
    pub fn theme_name(&self, id: &str) -> Option<&str> {
        self.themes.get(id).map(|theme| theme.name.as_str())
    }

    /// The live theme an id stands for, following merges.
    pub fn resolve_theme(&self, id: &str) -> Option<&Theme> {
        let mut theme = self.themes.get(id)?;
        for _ in 0..self.themes.len() {
            match &theme.merged_into {
                Some(into) => theme = self.themes.get(into)?,
                None => return Some(theme),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn apply(reference: &mut Reference, category: &str, id: &str, event_type: &str, data: serde_json::Value) -> bool {
        reference.apply(category, id, event_type, &serde_json::to_vec(&data).unwrap()).unwrap()
    }

    #[test]
    fn folds_hubs_providers_themes_and_roles() {
        let mut reference = Reference::default();
        let account = Uuid::from_u128(7);
        assert!(apply(
            &mut reference,
            "hub",
            "arun",
            "HubAdded",
            json!({"hub": "arun", "name": "Arun", "kind": "hub", "area": "West Sussex"})
        ));
        assert!(apply(&mut reference, "provider", "cri", "ProviderAdded", json!({"provider": "cri", "name": "CRI"})));
        for (id, name) in [("housing", "Housing"), ("hours", "Opening hours"), ("time", "Keyworker time")] {
            apply(&mut reference, "theme", id, "ThemeAdded", json!({"theme": id, "name": name, "parent": null}));
        }
        apply(&mut reference, "theme", "housing", "ThemeRenamed", json!({"name": "Housing and ghettoisation"}));
        apply(&mut reference, "theme", "hours", "ThemeMerged", json!({"into": "time"}));
        apply(
            &mut reference,
            "account",
            &account.to_string(),
            "AccountCreated",
            json!({
            "account": account, "roles": ["advocate"], "hubs": [], "provider": null,
            "must_change_password": false, "created_by": null }),
        );
        assert_eq!(reference.hubs["arun"], "Arun");
        assert_eq!(reference.providers["cri"], "CRI");
        assert_eq!(reference.theme_name("housing"), Some("Housing and ghettoisation"));
        assert_eq!(reference.resolve_theme("hours").map(|theme| theme.id.as_str()), Some("time"));
        assert_eq!(reference.holders(Role::Advocate), BTreeSet::from([account]));
        apply(
            &mut reference,
            "account",
            &account.to_string(),
            "RolesChanged",
            json!({
            "roles": ["hub_member"], "hubs": ["arun"], "provider": null, "by": Uuid::from_u128(1) }),
        );
        assert!(!reference.holds(account, Role::Advocate));
        assert!(reference.holds(account, Role::HubMember));
        assert_eq!(reference.accounts[&account].hubs, BTreeSet::from(["arun".to_owned()]));
    }

    #[test]
    fn a_deactivated_account_holds_no_role_until_it_is_reactivated_with_its_roles_as_they_became() {
        let mut reference = Reference::default();
        let account = Uuid::from_u128(7);
        let by = Uuid::from_u128(1);
        let id = account.to_string();
        apply(
            &mut reference,
            "account",
            &id,
            "AccountCreated",
            json!({ "account": account, "roles": ["advocate"], "hubs": [], "provider": null,
                    "must_change_password": false, "created_by": null }),
        );
        assert!(apply(&mut reference, "account", &id, "AccountDeactivated", json!({ "by": by })));
        assert!(!reference.holds(account, Role::Advocate));
        assert!(reference.holders(Role::Advocate).is_empty(), "nobody hands a case to a deactivated advocate");
        assert!(!reference.accounts.contains_key(&account));
        apply(
            &mut reference,
            "account",
            &id,
            "RolesChanged",
            json!({ "roles": ["hub_coordinator"], "hubs": ["arun"], "provider": null, "by": by }),
        );
        assert!(!reference.holds(account, Role::HubCoordinator), "a change of roles does not bring it back");
        assert!(apply(&mut reference, "account", &id, "AccountReactivated", json!({ "by": by })));
        assert!(reference.holds(account, Role::HubCoordinator));
        assert!(!reference.holds(account, Role::Advocate));
        assert!(reference.deactivated.is_empty());
    }

    #[test]
    fn other_events_are_not_reference_data() {
        let mut reference = Reference::default();
        assert!(!apply(&mut reference, "feedback", "x", "FeedbackLogged", json!({})));
        assert!(!apply(&mut reference, "theme", "x", "HubAdded", json!({})), "the category counts too");
        assert_eq!(reference, Reference::default());
    }
}
