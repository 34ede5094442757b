//! A hub's gazetteer: the names of people and places its coordinators keep, so that the
//! suggested redactions ([`super::suggest`]) find them in what people said. One stream per hub
//! (`gazetteer-<hub>`); each name is a personal field sealed under a key of its own, and it is
//! read only by the hub's coordinators: it never leaves the hub.

use std::collections::BTreeMap;

pub use heard_contracts::feedback::{
    GAZETTEER, GazetteerEntryAdded, GazetteerEntryRemoved, GazetteerKind, GazetteerName,
};
use uuid::Uuid;

use super::Rejection;

/// Longest name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Most entries one hub keeps: a list people can read through.
pub const MAX_ENTRIES: usize = 1000;

/// One name or place on the list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub id: Uuid,
    pub kind: GazetteerKind,
    /// `None` once its key was destroyed.
    pub name: Option<String>,
    /// Microseconds since the epoch.
    pub added_at_micros: i64,
}

/// A hub's list as its events have made it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Gazetteer {
    pub entries: BTreeMap<Uuid, Entry>,
    /// The stream revision it is at; `None` before its first event.
    pub revision: Option<u64>,
}

impl Gazetteer {
    pub fn added(&mut self, added: &GazetteerEntryAdded, name: Option<GazetteerName>, at_micros: i64) {
        self.revision = Some(self.revision.map_or(0, |revision| revision + 1));
        let entry = Entry { id: added.entry, kind: added.kind, name: name.map(|n| n.name), added_at_micros: at_micros };
        self.entries.insert(added.entry, entry);
    }

    pub fn removed(&mut self, removed: &GazetteerEntryRemoved) {
        self.revision = Some(self.revision.map_or(0, |revision| revision + 1));
        self.entries.remove(&removed.entry);
    }

    /// The names on the list (erased ones left out).
    pub fn names(&self) -> Vec<&str> {
        self.entries.values().filter_map(|entry| entry.name.as_deref()).collect()
    }

    /// The entries by name, ignoring case (erased ones last).
    pub fn by_name(&self) -> Vec<&Entry> {
        let mut entries: Vec<&Entry> = self.entries.values().collect();
        entries.sort_by_key(|entry| (entry.name.is_none(), entry.name.as_deref().map(str::to_lowercase)));
        entries
    }
}

/// Adds `name` to the hub's list as `kind`.
pub fn add(
    list: &Gazetteer,
    entry: Uuid,
    hub: &str,
    by: Uuid,
    name: &str,
    kind: Option<GazetteerKind>,
) -> Result<(GazetteerEntryAdded, GazetteerName), Rejection> {
    let message = format!("write the name or place, from 2 to {MAX_NAME_CHARS} characters");
    let name = heard_contracts::input::required("name", name, MAX_NAME_CHARS, &message)?;
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
        return Err(Rejection::invalid("name", message));
    }
    let kind = kind.ok_or_else(|| Rejection::invalid("kind", "choose whether it is a person or a place"))?;
    let wanted = name.to_lowercase();
    if list.entries.values().any(|entry| entry.name.as_deref().is_some_and(|known| known.to_lowercase() == wanted)) {
        return Err(Rejection::invalid("name", "this name is on the list already"));
    }
    if list.entries.len() >= MAX_ENTRIES {
        return Err(Rejection::conflict(format!(
            "the list holds at most {MAX_ENTRIES} names and places; take some off first"
        )));
    }
    Ok((GazetteerEntryAdded { entry, hub: hub.to_owned(), kind, by }, GazetteerName { name }))
}

/// Takes an entry off the hub's list.
pub fn remove(list: &Gazetteer, entry: Uuid, by: Uuid) -> Result<GazetteerEntryRemoved, Rejection> {
    if !list.entries.contains_key(&entry) {
        return Err(Rejection::invalid("id", "this is not on the hub's list (it may have been taken off already)"));
    }
    Ok(GazetteerEntryRemoved { entry, by })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coordinator() -> Uuid {
        Uuid::from_u128(10)
    }

    /// Given a list with `names` (people) on it.
    fn given(names: &[&str]) -> Gazetteer {
        let mut list = Gazetteer::default();
        for (index, name) in names.iter().enumerate() {
            let (added, personal) = add(
                &list,
                Uuid::from_u128(index as u128 + 1),
                "arun",
                coordinator(),
                name,
                Some(GazetteerKind::Person),
            )
            .unwrap();
            list.added(&added, Some(personal), 0);
        }
        list
    }

    fn field(rejection: Rejection) -> String {
        match rejection {
            Rejection::Invalid { field, .. } => field,
            Rejection::Conflict(message) => panic!("a conflict: {message}"),
        }
    }

    #[test]
    fn a_name_is_added_trimmed_with_its_spaces_made_single() {
        let (added, personal) = add(
            &given(&[]),
            Uuid::from_u128(9),
            "arun",
            coordinator(),
            "  Three   Bridges ",
            Some(GazetteerKind::Place),
        )
        .unwrap();
        assert_eq!(personal.name, "Three Bridges");
        assert_eq!((added.hub.as_str(), added.kind, added.entry), ("arun", GazetteerKind::Place, Uuid::from_u128(9)));
    }

    #[test]
    fn a_blank_too_short_too_long_or_repeated_name_is_refused_naming_the_field() {
        let list = given(&["Marnie"]);
        let person = Some(GazetteerKind::Person);
        for name in ["", "  ", "J", &"x".repeat(MAX_NAME_CHARS + 1), "marnie", "MARNIE ", "bad\u{7}name"] {
            let refused = add(&list, Uuid::from_u128(9), "arun", coordinator(), name, person).unwrap_err();
            assert_eq!(field(refused), "name", "{name:?}");
        }
        let refused = add(&list, Uuid::from_u128(9), "arun", coordinator(), "Bognor", None).unwrap_err();
        assert_eq!(field(refused), "kind");
    }

    #[test]
    fn an_entry_taken_off_leaves_the_list_and_cannot_be_taken_off_twice() {
        let mut list = given(&["Marnie", "Tobias"]);
        assert_eq!(list.revision, Some(1));
        let removed = remove(&list, Uuid::from_u128(1), coordinator()).unwrap();
        list.removed(&removed);
        assert_eq!(list.names(), ["Tobias"]);
        assert_eq!(list.revision, Some(2));
        assert_eq!(field(remove(&list, Uuid::from_u128(1), coordinator()).unwrap_err()), "id");
    }

    #[test]
    fn the_list_reads_by_name_ignoring_case() {
        let list = given(&["tobias", "Marnie", "Arundel"]);
        let names: Vec<&str> = list.by_name().into_iter().filter_map(|entry| entry.name.as_deref()).collect();
        assert_eq!(names, ["Arundel", "Marnie", "tobias"]);
    }
}
