//! The access log as it concerns one person: only their cases and complaints, each entry shown
//! only to someone who may see its record, and every entry to the operator.

use std::collections::BTreeSet;

use heard_access::{Action, Actor, CaseFacts, ComplaintFacts, Decision, Resource, Role};
use heard_contracts::privacy::{CaseAssigned, CaseAttributed, ComplaintAttributed, PersonId};
use heard_eventstore::{EventStore, ExpectedRevision, ModelStore, NewEvent, StreamName, Upcasters};
use uuid::Uuid;

use crate::service::{IdentityConfig, IdentityService, NewAccount};

async fn put<E: heard_contracts::Event + serde::Serialize>(store: &EventStore, id: Uuid, event: &E) {
    let stream = StreamName::of(E::CATEGORY, id).unwrap();
    let new = NewEvent::new(E::TYPE, E::VERSION, event).unwrap();
    store.append(&stream, ExpectedRevision::Any, vec![new]).await.unwrap();
}

async fn account(service: &IdentityService, name: &str, role: Role) -> Actor {
    let new = NewAccount {
        email: format!("{}@example.org", name.to_lowercase().replace(' ', ".")),
        display_name: name.into(),
        roles: vec![role],
        hubs: Vec::new(),
        provider: None,
        password: Some("a long enough password".into()),
    };
    service.create_account(None, new).await.unwrap().0.actor()
}

#[tokio::test]
async fn the_access_log_of_a_person_shows_their_records_only_to_those_who_may_see_each() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let service = IdentityService::open(store.clone(), dir.path(), IdentityConfig::default(), &models).await.unwrap();
    let advocate = account(&service, "Wren Ashby", Role::Advocate).await;
    let other_advocate = account(&service, "Tobias Kell", Role::Advocate).await;
    let handler = account(&service, "Priya Lund", Role::ComplaintsHandler).await;
    let (person, someone_else) = (PersonId::new(), PersonId::new());
    let (case, complaint, their_case) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let by = handler.account.unwrap();
    let advocate_id = advocate.account.unwrap();
    put(&store, case, &CaseAttributed { case, person, advocate: advocate_id, by: advocate_id }).await;
    put(&store, complaint, &ComplaintAttributed { complaint, person, relayed_by: None, by }).await;
    put(&store, their_case, &CaseAttributed { case: their_case, person: someone_else, advocate: advocate_id, by })
        .await;
    let case_resource = Resource::Case(CaseFacts { case, advocate: advocate_id });
    let complaint_resource =
        Resource::Complaint(ComplaintFacts { complaint, provider: "addaction".into(), relayed_by: None });
    let their_resource = Resource::Case(CaseFacts { case: their_case, advocate: advocate_id });
    let refused = heard_access::may(&other_advocate, Action::ViewCase, &case_resource);
    assert!(!refused.is_allowed());
    heard_api::record(&store, &advocate, Action::ViewCase, &case_resource, Decision::Allow).await.unwrap();
    heard_api::record(&store, &other_advocate, Action::ViewCase, &case_resource, refused).await.unwrap();
    heard_api::record(&store, &handler, Action::ViewComplaint, &complaint_resource, Decision::Allow).await.unwrap();
    heard_api::record(&store, &advocate, Action::ViewCase, &their_resource, Decision::Allow).await.unwrap();
    assert!(service.directory().caught_up(std::time::Duration::from_secs(10)).await);

    // The operator sees every entry about the person's records, and none about anyone else's.
    let all = service.held_about(person, None).await.unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.iter().all(|entry| entry.record_id != their_case.to_string()));
    let refusal = all.iter().find(|entry| !entry.allowed).unwrap();
    assert_eq!(refusal.actor_name.as_deref(), Some("Tobias Kell"));
    assert_eq!(refusal.actor_roles, ["ADVOCATE"]);
    assert_eq!((refusal.action.as_str(), refusal.record_kind.as_str()), ("view_case", "case"));

    // The case's advocate sees the case's entries; the handler the complaint's; another
    // advocate nothing.
    let kinds = |entries: Vec<crate::held::HeldAccess>| -> BTreeSet<String> {
        entries.into_iter().map(|entry| entry.record_kind).collect()
    };
    assert_eq!(kinds(service.held_about(person, Some(&advocate)).await.unwrap()), BTreeSet::from(["case".to_owned()]));
    assert_eq!(
        kinds(service.held_about(person, Some(&handler)).await.unwrap()),
        BTreeSet::from(["complaint".to_owned()])
    );
    assert!(service.held_about(person, Some(&other_advocate)).await.unwrap().is_empty());

    // The case is handed to the other advocate: its entries go with it.
    put(&store, case, &CaseAssigned { advocate: other_advocate.account.unwrap() }).await;
    assert!(service.directory().caught_up(std::time::Duration::from_secs(10)).await);
    assert!(service.held_about(person, Some(&advocate)).await.unwrap().is_empty());
    assert_eq!(service.held_about(person, Some(&other_advocate)).await.unwrap().len(), 2);
}
