//! The service over a real store in a temporary directory, its model kept on disk: what it
//! saves answers as the log does, and holds no complainant's words.

use std::path::PathBuf;

use heard_eventstore::{EventStore, ExpectedRevision, ModelStore, NewEvent, StreamName, Upcasters};
use heard_workdays::{Calendar, Period};
use jiff::ToSpan;
use serde_json::json;
use tempfile::TempDir;
use uuid::Uuid;

use heard_contracts::identity::{AccountCreated, ProviderAdded};

use super::*;
use crate::domain::complaint::{AcknowledgementMethod, Complainant, EscalatedTo, Outcome, Route};

struct World {
    dir: TempDir,
    store: EventStore,
    models: ModelStore,
    service: RightsService,
    handler: Uuid,
    colleague: Uuid,
    advocate: Uuid,
}

/// Appends another service's event, as it would have, named by its contract.
async fn put<E: heard_contracts::Event>(store: &EventStore, id: impl std::fmt::Display, data: serde_json::Value) {
    let stream = StreamName::of(E::CATEGORY, id).unwrap();
    let event = NewEvent::new(E::TYPE, E::VERSION, &data).unwrap();
    store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
}

async fn open(store: &EventStore, models: &ModelStore) -> RightsService {
    RightsService::open(store.clone(), Calendar::england_and_wales(), models).await.unwrap()
}

/// A store with two complaints handlers, an advocate and two providers, and the service over it
/// with its model kept in `DATA_DIR/models`.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let handler = Uuid::new_v4();
    let colleague = Uuid::new_v4();
    let advocate = Uuid::new_v4();
    for (account, role) in [(handler, "complaints_handler"), (colleague, "complaints_handler"), (advocate, "advocate")]
    {
        let data = json!({ "account": account, "roles": [role], "hubs": [], "provider": null,
            "must_change_password": false, "created_by": null });
        put::<AccountCreated>(&store, account, data).await;
    }
    for (id, name) in [("addaction", "Addaction"), ("cri", "CRI")] {
        put::<ProviderAdded>(&store, id, json!({ "provider": id, "name": name })).await;
    }
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let service = open(&store, &models).await;
    World { dir, store, models, service, handler, colleague, advocate }
}

/// The last working day on or before today.
fn working_day(service: &RightsService) -> Date {
    let mut day = heard_api::today();
    while !service.calendar().is_working_day(day).unwrap() {
        day = day.yesterday().unwrap();
    }
    day
}

fn named(provider: &str, what: &str, received_on: Date) -> NewComplaint {
    NewComplaint {
        charter: DEFAULT_CHARTER.into(),
        provider: provider.into(),
        service: Some("Needle exchange".into()),
        articles: vec![2, 5],
        complainant: Complainant::Named,
        name: Some("Ottoline Braithwaite".into()),
        contact: Some("ottoline@example.org".into()),
        route: Route::Direct,
        advocate: None,
        what_happened: what.into(),
        outcome_wanted: "An apology from Mr Greenhalgh".into(),
        received_on,
    }
}

/// Complaints at every stage: one named and carried through to its outcome, one relayed by an
/// advocate and paused, one anonymous and only received.
async fn complaints(world: &World) -> Vec<Uuid> {
    let service = &world.service;
    let by = world.handler;
    let today = heard_api::today();
    let on = working_day(service);
    // Four weeks before: the same weekday, a working day.
    let earlier = on.checked_sub(28.days()).unwrap();
    let first = service.raise(by, named("addaction", "Turned away by Mr Greenhalgh", earlier), today).await.unwrap();
    let id = first.complaint.id;
    service.change(id, by, |c| complaint::acknowledge(c, AcknowledgementMethod::Letter, earlier, today)).await.unwrap();
    service.change(id, by, complaint::open_investigation).await.unwrap();
    service.change(id, by, |c| complaint::extend(c, 5, "Waiting for the pharmacy's records", true)).await.unwrap();
    service.change(id, by, |c| complaint::respond(c, on, today)).await.unwrap();
    service.change(id, by, |c| complaint::record_outcome(c, Outcome::PartlyUpheld, on, today)).await.unwrap();
    service.change(id, by, |c| complaint::escalate(c, EscalatedTo::Ombudsman, "OMB-77")).await.unwrap();
    service.change(id, by, |c| complaint::record_learning(c, "Staff are reminded of the policy")).await.unwrap();

    let relayed = NewComplaint {
        complainant: Complainant::RelayedByAdvocate,
        name: None,
        contact: None,
        route: Route::Advocate,
        advocate: Some(world.advocate),
        ..named("cri", "Dose cut without a review by Dr Pennyfeather", on)
    };
    let second = service.raise(world.advocate, relayed, today).await.unwrap().complaint.id;
    service.change(second, by, |c| complaint::acknowledge(c, AcknowledgementMethod::Phone, on, today)).await.unwrap();
    service.change(second, by, complaint::choose_early_resolution).await.unwrap();
    service.change(second, by, |c| complaint::pause(c, on, "Waiting to hear back", today)).await.unwrap();
    service.assign(second, by, world.colleague).await.unwrap();

    let anonymous = NewComplaint {
        complainant: Complainant::Anonymous,
        name: None,
        contact: None,
        ..named("cri", "Rude at the desk", on)
    };
    let third = service.raise(by, anonymous, today).await.unwrap().complaint.id;
    vec![id, second, third]
}

/// The answers of a few queries, as JSON: every complaint with its words, the short references,
/// the complaints needing attention, the patterns and the charters.
fn answers(service: &RightsService, ids: &[Uuid]) -> String {
    let records: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| {
            let record = service.complaint(*id).expect("the complaint is known");
            let words = service.words(&record);
            json!({
                "complaint": record.complaint,
                "reference": record.reference,
                "words": words,
                "raised_by": record.raised_by,
                "revision": record.revision,
                "received_at": record.received_at_micros,
                "closed_on": record.closed_on,
                "subject": service.subject_of(*id),
            })
        })
        .collect();
    let attention: Vec<(Uuid, String, bool)> = service
        .attention(heard_api::today(), None)
        .unwrap()
        .into_iter()
        .map(|a| (a.record.complaint.id, format!("{:?}", a.reading), a.explanation_missing))
        .collect();
    let groupings = [
        vec![PatternDimension::Article, PatternDimension::Provider],
        vec![PatternDimension::Outcome, PatternDimension::Period],
        vec![],
    ];
    let patterns: Vec<Vec<(Vec<String>, u64)>> =
        groupings.iter().map(|by| service.patterns(by, Period::Month, None, None).into_iter().collect()).collect();
    let (newest, by_reference, charters) = service.read(|state| {
        let newest: Vec<Uuid> = state.newest_first().map(|r| r.complaint.id).collect();
        let by_reference: Vec<Option<Uuid>> = state
            .newest_first()
            .map(|r| state.by_reference(&r.reference.to_lowercase()).map(|found| found.complaint.id))
            .collect();
        (newest, by_reference, state.charters.clone())
    });
    serde_json::to_string(&json!({
        "complaints": records,
        "attention": attention,
        "patterns": patterns,
        "newest": newest,
        "by_reference": by_reference,
        "charters": charters,
    }))
    .unwrap()
}

/// Closes the log and waits for every service following it to stop (the kept model saves).
async fn close(store: EventStore, services: &[&RightsService]) {
    store.close().await.unwrap();
    for service in services {
        service.stopped().await;
    }
}

fn saved_at(models: &ModelStore) -> Option<u64> {
    models.saved().unwrap().into_iter().find(|(name, _)| name == "rights").map(|(_, at)| at)
}

/// A place of its own to keep a model, as a fresh data directory would have.
fn fresh_models() -> ModelStore {
    let dir = tempfile::tempdir().unwrap().keep();
    ModelStore::open(&dir.join("models")).unwrap()
}

#[tokio::test]
async fn a_model_loaded_from_what_it_saved_answers_exactly_as_one_rebuilt_from_the_log() {
    let world = world().await;
    let ids = complaints(&world).await;
    let live = answers(&world.service, &ids);
    let World { dir, store, models, service, .. } = world;
    let head = store.head().position;
    close(store, &[&service]).await;
    drop(service);
    assert_eq!(saved_at(&models), Some(head), "saved when the log closed");

    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let loaded = open(&store, &models).await;
    assert_eq!(answers(&loaded, &ids), live, "loaded from what it saved");
    let rebuilt = open(&store, &fresh_models()).await;
    assert_eq!(answers(&rebuilt, &ids), live, "rebuilt from the log after a restart");
    close(store, &[&loaded, &rebuilt]).await;
    drop((loaded, rebuilt));

    models.forget("rights").unwrap();
    assert_eq!(saved_at(&models), None);
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let rebuilt = open(&store, &models).await;
    assert_eq!(answers(&rebuilt, &ids), live, "rebuilt from the log once the saved model was forgotten");
    close(store, &[&rebuilt]).await;
    assert_eq!(saved_at(&models), Some(head), "saved again");
}

#[tokio::test]
async fn destroying_a_complainants_key_makes_their_words_unreadable_at_once_and_after_a_restart() {
    let world = world().await;
    let ids = complaints(&world).await;
    let World { dir, store, models, service, .. } = world;
    let words = |service: &RightsService, id: Uuid| service.words(&service.complaint(id).unwrap());
    assert_eq!(words(&service, ids[0]).unwrap().name.as_deref(), Some("Ottoline Braithwaite"));
    let subject = service.subject_of(ids[0]).unwrap();
    assert!(store.forget_subject(subject).unwrap());

    let erased = |service: &RightsService| {
        assert_eq!(words(service, ids[0]), None, "erased");
        let record = service.complaint(ids[0]).unwrap();
        assert_eq!((record.complaint.outcome, record.complaint.articles.len()), (Some(Outcome::PartlyUpheld), 2));
        let other = words(service, ids[1]).expect("nobody else is erased");
        assert_eq!(other.what_happened, "Dose cut without a review by Dr Pennyfeather");
    };
    erased(&service);
    let head = store.head().position;
    close(store, &[&service]).await;
    drop(service);
    assert_eq!(saved_at(&models), Some(head));
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let loaded = open(&store, &models).await;
    erased(&loaded);
    store.close().await.unwrap();
}

#[tokio::test]
async fn after_close_no_file_under_the_model_store_holds_a_complainants_words() {
    let world = world().await;
    let ids = complaints(&world).await;
    let World { dir, store, models, service, .. } = world;
    assert!(service.words(&service.complaint(ids[0]).unwrap()).is_some());
    close(store, &[&service]).await;
    drop((service, models));
    let words = ["Ottoline", "Braithwaite", "ottoline@example.org", "Greenhalgh", "Pennyfeather", "Rude at the desk"];
    let holds = |bytes: &[u8], word: &str| bytes.windows(word.len()).any(|window| window == word.as_bytes());
    let files: Vec<(PathBuf, Vec<u8>)> = heard_contracts::testing::files_under(&dir.path().join("models"))
        .into_iter()
        .map(|file| (file.clone(), std::fs::read(file).unwrap()))
        .collect();
    // The search can see what is saved: the facts are there in the clear.
    assert!(files.iter().any(|(_, bytes)| holds(bytes, "Waiting for the pharmacy's records")), "nothing was saved");
    for (file, bytes) in &files {
        for word in words {
            assert!(!holds(bytes, word), "{word:?} in {file:?}");
        }
    }
}

/// A complainant as a person across Heard, erasure, subject access, retention and the words a
/// provider reads (issue #18).
#[path = "person_tests.rs"]
mod person;
