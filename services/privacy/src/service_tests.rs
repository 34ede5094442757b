//! The privacy service over a real store in a temporary directory, its model kept on disk: who
//! each record is about, who may erase a person or see what is held about them (through
//! GraphQL, as a client asks), erasure and its recovery after a crash, and retention.

use std::collections::BTreeSet;

use async_graphql::{EmptySubscription, Schema};
use heard_access::{Actor, Role};
use heard_contracts::Event as _;
use heard_contracts::privacy::{
    CaseAssigned, CaseAttributed, ComplaintAttributed, ErasureReason, FeedbackAttributed, PersonId, RecordKind,
    RecordRef, SubjectErased,
};
use heard_eventstore::{
    EventStore, ExpectedRevision, ModelStore, NewEvent, Personal, StreamName, SubjectId, Upcasters,
};
use serde_json::{Value, json};
use tempfile::TempDir;
use uuid::Uuid;

use crate::graphql::{PrivacyMutation, PrivacyQuery};
use crate::service::PrivacyService;

struct World {
    dir: TempDir,
    store: EventStore,
    service: PrivacyService,
    /// The person: an item at Arun, a case with `advocate`, a complaint (handled by handlers).
    person: PersonId,
    item: Uuid,
    case: Uuid,
    complaint: Uuid,
    advocate: Uuid,
    /// Another person, whose one item is at Crawley.
    other: PersonId,
    other_item: Uuid,
}

/// Appends a record's first event on `CATEGORY-<id>`, with words sealed under a key of its own.
async fn record(store: &EventStore, kind: RecordKind, id: Uuid, words: &str) -> SubjectId {
    let subject = SubjectId::new();
    let stream = StreamName::of(kind.categories()[0], id).unwrap();
    let event = NewEvent::new("Recorded", 1, &json!({ "id": id }))
        .unwrap()
        .with_personal(subject, &json!({ "text": words }))
        .unwrap();
    store.append(&stream, ExpectedRevision::NoStream, vec![event]).await.unwrap();
    subject
}

/// Appends a contract event on the record's stream, as the owning service would.
async fn put<E: heard_contracts::Event + serde::Serialize>(store: &EventStore, id: Uuid, event: &E) {
    let stream = StreamName::of(E::CATEGORY, id).unwrap();
    let new = NewEvent::new(E::TYPE, E::VERSION, event).unwrap();
    store.append(&stream, ExpectedRevision::Any, vec![new]).await.unwrap();
}

/// Whether the record's first event's words can still be read.
async fn readable(store: &EventStore, kind: RecordKind, id: Uuid) -> bool {
    let stream = StreamName::of(kind.categories()[0], id).unwrap();
    let events = store.read_stream_to_end(&stream).await.unwrap();
    matches!(events[0].personal, Personal::Plain(_))
}

/// Lays down the records and attributions of [`World`] in `store`.
async fn seed(store: &EventStore) -> (PersonId, Uuid, Uuid, Uuid, Uuid, PersonId, Uuid) {
    let (person, other) = (PersonId::new(), PersonId::new());
    let (item, case, complaint, other_item) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let advocate = Uuid::new_v4();
    let by = Uuid::new_v4();
    record(store, RecordKind::FeedbackItem, item, "the pharmacy turned me away").await;
    record(store, RecordKind::Case, case, "Ottoline needs help with housing").await;
    record(store, RecordKind::Complaint, complaint, "they shouted at me in reception").await;
    record(store, RecordKind::FeedbackItem, other_item, "the bus to the clinic stopped").await;
    put(store, item, &FeedbackAttributed { item, person, hub: "arun".into(), by }).await;
    put(store, case, &CaseAttributed { case, person, advocate, by: advocate }).await;
    put(store, complaint, &ComplaintAttributed { complaint, person, relayed_by: None, by }).await;
    put(store, other_item, &FeedbackAttributed { item: other_item, person: other, hub: "crawley".into(), by }).await;
    (person, item, case, complaint, advocate, other, other_item)
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let (person, item, case, complaint, advocate, other, other_item) = seed(&store).await;
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let service = PrivacyService::open(store.clone(), &models).await.unwrap();
    World { dir, store, service, person, item, case, complaint, advocate, other, other_item }
}

fn actor(roles: &[Role], hubs: &[&str], provider: Option<&str>) -> Actor {
    Actor {
        account: Some(Uuid::new_v4()),
        roles: roles.iter().copied().collect(),
        hubs: hubs.iter().map(|hub| hub.to_string()).collect(),
        provider: provider.map(str::to_owned),
    }
}

fn coordinator(hub: &str) -> Actor {
    actor(&[Role::HubCoordinator], &[hub], None)
}

async fn ask(world: &World, query: &str, who: Option<Actor>) -> Value {
    let schema = Schema::build(PrivacyQuery, PrivacyMutation, EmptySubscription)
        .data(world.service.clone())
        .data(world.store.clone())
        .finish();
    let viewer = heard_api::Viewer { actor: who.unwrap_or_default(), ..heard_api::Viewer::anonymous() };
    serde_json::to_value(schema.execute(async_graphql::Request::new(query).data(viewer)).await).unwrap()
}

fn erase_query(person: impl std::fmt::Display) -> String {
    format!("mutation {{ eraseSubject(person: \"{person}\") {{ person erasedAt records }} }}")
}

fn code(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"].as_str().unwrap_or("no error")
}

impl World {
    async fn all_readable(&self) -> [bool; 3] {
        [
            readable(&self.store, RecordKind::FeedbackItem, self.item).await,
            readable(&self.store, RecordKind::Case, self.case).await,
            readable(&self.store, RecordKind::Complaint, self.complaint).await,
        ]
    }
}

#[tokio::test]
async fn the_model_knows_each_persons_records_and_who_holds_them_for_them() {
    let world = world().await;
    let facts = world.service.facts(world.person);
    assert_eq!(facts.hubs, BTreeSet::from(["arun".to_owned()]));
    assert_eq!(facts.advocates, BTreeSet::from([world.advocate]));
    assert!(facts.complained);
    assert!(facts.relayed_by.is_empty());
    assert_eq!(world.service.records_of(world.person).len(), 3);
    // A person Heard does not know has no facts, so nobody may act for them.
    let unknown = world.service.facts(PersonId::new());
    assert!(unknown.hubs.is_empty() && unknown.advocates.is_empty() && !unknown.complained);
    assert!(!world.service.knows(PersonId::new()));

    // The case is handed to another advocate: the facts follow it.
    let next = Uuid::new_v4();
    put(&world.store, world.case, &CaseAssigned { advocate: next }).await;
    // A coordinator says the other person's item is this person's after all: it moves.
    let by = Uuid::new_v4();
    let moved = FeedbackAttributed { item: world.other_item, person: world.person, hub: "crawley".into(), by };
    put(&world.store, world.other_item, &moved).await;
    assert!(world.service.caught_up().await);
    let facts = world.service.facts(world.person);
    assert_eq!(facts.advocates, BTreeSet::from([next]));
    assert_eq!(facts.hubs, BTreeSet::from(["arun".to_owned(), "crawley".to_owned()]));
    assert!(world.service.records_of(world.other).is_empty());
    assert_eq!(world.service.records_of(world.person).len(), 4);
}

#[tokio::test]
async fn a_case_assigned_to_someone_else_no_longer_lets_its_old_advocate_act_for_the_person() {
    let world = world().await;
    let before = Actor { account: Some(world.advocate), ..actor(&[Role::Advocate], &[], None) };
    put(&world.store, world.case, &CaseAssigned { advocate: Uuid::new_v4() }).await;
    assert!(world.service.caught_up().await);
    let answer = ask(&world, &erase_query(world.person), Some(before)).await;
    assert_eq!(code(&answer), "NOT_FOUND", "{answer}");
    assert_eq!(world.all_readable().await, [true, true, true]);
}

#[tokio::test]
async fn the_persons_coordinator_erases_everything_and_is_told_only_of_the_records_they_see() {
    let world = world().await;
    assert_eq!(world.all_readable().await, [true, true, true]);
    let asker = coordinator("arun");
    let answer = ask(&world, &erase_query(world.person), Some(asker.clone())).await;
    assert!(answer["errors"].is_null(), "{answer}");
    let erasure = &answer["data"]["eraseSubject"];
    assert_eq!(erasure["person"], world.person.to_string());
    assert_eq!(erasure["records"], 1, "the coordinator sees the item, not the case or the complaint");
    assert!(erasure["erasedAt"].as_str().is_some_and(|at| at.parse::<jiff::Timestamp>().is_ok()), "{answer}");
    // Every record's words are gone as the mutation answers, not only the coordinator's.
    assert_eq!(world.all_readable().await, [false, false, false]);
    assert!(readable(&world.store, RecordKind::FeedbackItem, world.other_item).await, "another person is untouched");
    // The erasure names opaque ids, who asked and why, and nothing personal.
    let erasures = world.service.read(|state| state.erasures.clone());
    assert_eq!(erasures.len(), 1);
    assert_eq!(erasures[0].erased.reason, ErasureReason::PersonAsked);
    assert_eq!(erasures[0].erased.asked_by, asker.account, "the erasure names the coordinator who asked");
    assert_eq!(erasures[0].erased.records.len(), 3);
    assert_eq!(erasures[0].erased.subjects.len(), 3);
}

#[tokio::test]
async fn the_advocate_of_their_case_and_a_complaints_handler_are_each_told_of_their_own_records() {
    let world = world().await;
    let advocate = Actor { account: Some(world.advocate), ..actor(&[Role::Advocate], &[], None) };
    let answer = ask(&world, &erase_query(world.person), Some(advocate)).await;
    assert_eq!(answer["data"]["eraseSubject"]["records"], 1, "{answer}");

    let world = self::world().await;
    let handler = actor(&[Role::ComplaintsHandler], &[], None);
    let answer = ask(&world, &erase_query(world.person), Some(handler)).await;
    assert_eq!(answer["data"]["eraseSubject"]["records"], 1, "{answer}");
    assert_eq!(world.all_readable().await, [false, false, false]);
}

#[tokio::test]
async fn nosy_accounts_and_unknown_persons_get_not_found_and_anonymous_visitors_must_log_in() {
    let world = world().await;
    let nosy = [
        ("another hub's coordinator", coordinator("crawley")),
        ("a member of the person's hub", actor(&[Role::HubMember], &["arun"], None)),
        ("a provider", actor(&[Role::ProviderResponder], &[], Some("addaction"))),
        ("another advocate", actor(&[Role::Advocate], &[], None)),
        ("an administrator", actor(&[Role::Administrator], &[], None)),
        ("a commissioner", actor(&[Role::Commissioner], &[], None)),
    ];
    for (who, account) in nosy {
        let answer = ask(&world, &erase_query(world.person), Some(account.clone())).await;
        assert_eq!(code(&answer), "NOT_FOUND", "{who}: {answer}");
        let answer =
            ask(&world, &format!("{{ subjectAccess(person: \"{}\") {{ erased }} }}", world.person), Some(account))
                .await;
        assert_eq!(code(&answer), "NOT_FOUND", "{who}: {answer}");
    }
    // A person Heard does not know answers exactly as one held by someone else.
    let unknown = ask(&world, &erase_query(PersonId::new()), Some(coordinator("arun"))).await;
    let held_by_others = ask(&world, &erase_query(world.person), Some(coordinator("crawley"))).await;
    assert_eq!(code(&unknown), "NOT_FOUND");
    assert_eq!(unknown["errors"][0]["message"], held_by_others["errors"][0]["message"]);
    let anonymous = ask(&world, &erase_query(world.person), None).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    let malformed = ask(&world, &erase_query("Ottoline Braithwaite"), Some(coordinator("arun"))).await;
    assert_eq!(code(&malformed), "BAD_USER_INPUT");
    assert_eq!(malformed["errors"][0]["extensions"]["field"], "person");
    assert!(!malformed.to_string().contains("Ottoline"), "the error does not repeat what was typed: {malformed}");
    // None of that erased anything.
    assert_eq!(world.all_readable().await, [true, true, true]);
    assert!(world.service.read(|state| state.erasures.is_empty()));
}

#[tokio::test]
async fn erasing_a_person_twice_is_refused_in_plain_words() {
    let world = world().await;
    let first = ask(&world, &erase_query(world.person), Some(coordinator("arun"))).await;
    assert!(first["errors"].is_null(), "{first}");
    let again = ask(&world, &erase_query(world.person), Some(coordinator("arun"))).await;
    assert_eq!(code(&again), "CONFLICT", "{again}");
    assert!(again["errors"][0]["message"].as_str().unwrap().contains("already been erased"), "{again}");
    assert_eq!(world.service.read(|state| state.erasures.len()), 1, "no second erasure is appended");
}

#[tokio::test]
async fn subject_access_says_whether_and_when_the_person_was_erased_and_logs_the_request() {
    let world = world().await;
    let asker = coordinator("arun");
    let query = format!("{{ subjectAccess(person: \"{}\") {{ person requestedAt erased erasedAt }} }}", world.person);
    let answer = ask(&world, &query, Some(asker.clone())).await;
    let part = &answer["data"]["subjectAccess"];
    assert_eq!(part["person"], world.person.to_string(), "{answer}");
    assert_eq!(part["erased"], false);
    assert!(part["erasedAt"].is_null());
    assert!(part["requestedAt"].as_str().is_some_and(|at| at.parse::<jiff::Timestamp>().is_ok()));
    let logged = world.store.read_all(1, 10_000).await.unwrap();
    let requests: Vec<_> = logged
        .iter()
        .filter(|event| event.stream.category() == "access")
        .filter_map(|event| event.data_json().ok())
        .filter(|data| data["action"] == "view_subject_access" && data["allowed"] == true)
        .collect();
    assert_eq!(requests.len(), 1, "the request is on the access log");
    assert_eq!(requests[0]["actor"], asker.account.unwrap().to_string());
    assert_eq!(requests[0]["resource_id"], world.person.to_string());

    ask(&world, &erase_query(world.person), Some(asker.clone())).await;
    let answer = ask(&world, &query, Some(asker)).await;
    assert_eq!(answer["data"]["subjectAccess"]["erased"], true, "{answer}");
    assert!(answer["data"]["subjectAccess"]["erasedAt"].is_string());
}

#[tokio::test]
async fn an_erasure_interrupted_before_its_keys_were_destroyed_completes_when_the_service_next_starts() {
    let world = world().await;
    let (dir, store, service) = (world.dir, world.store, world.service);
    // Heard stops, saving the model.
    store.close().await.unwrap();
    service.stopped().await;
    drop((service, store));
    // The process that appended this erasure died before destroying its keys.
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let records = vec![
        RecordRef { kind: RecordKind::FeedbackItem, id: world.item },
        RecordRef { kind: RecordKind::Case, id: world.case },
    ];
    let mut subjects = Vec::new();
    for record in &records {
        let stream = StreamName::of(record.kind.categories()[0], record.id).unwrap();
        let events = store.read_stream_to_end(&stream).await.unwrap();
        subjects.extend(heard_api::fold::subject_of(&events[0].personal).map(|subject| subject.0));
    }
    let erased = SubjectErased {
        person: Some(world.person),
        records,
        subjects,
        asked_by: Some(Uuid::new_v4()),
        reason: ErasureReason::PersonAsked,
    };
    let event = NewEvent::new(SubjectErased::TYPE, SubjectErased::VERSION, &erased).unwrap();
    let stream = StreamName::of(SubjectErased::CATEGORY, Uuid::new_v4()).unwrap();
    store.append(&stream, ExpectedRevision::NoStream, vec![event]).await.unwrap();
    assert!(readable(&store, RecordKind::FeedbackItem, world.item).await, "the crash left the keys");
    // Heard starts again: by the time the service is open, the keys are gone.
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let service = PrivacyService::open(store.clone(), &models).await.unwrap();
    assert!(!readable(&store, RecordKind::FeedbackItem, world.item).await);
    assert!(!readable(&store, RecordKind::Case, world.case).await);
    assert!(readable(&store, RecordKind::Complaint, world.complaint).await, "only the keys it names");
    assert!(service.erased_at(world.person).is_some());
}

#[tokio::test]
async fn a_retention_dry_run_lists_the_due_records_and_erases_nothing() {
    let world = world().await;
    let today: jiff::civil::Date = "2030-01-01".parse().unwrap();
    let due = vec![
        RecordRef { kind: RecordKind::Complaint, id: world.complaint },
        RecordRef { kind: RecordKind::FeedbackItem, id: world.item },
        RecordRef { kind: RecordKind::FeedbackItem, id: world.item },
    ];
    let report = crate::retention::run(&world.store, today, due, true).await.unwrap();
    assert!(report.dry_run);
    assert_eq!(report.today, today);
    assert_eq!(report.due.len(), 2, "each record once");
    assert_eq!(report.erased, 0);
    assert_eq!(report.by_kind["feedback_item"], 1);
    assert_eq!(report.by_kind["complaint"], 1);
    assert_eq!(report.by_kind["case"], 0);
    assert_eq!(world.all_readable().await, [true, true, true]);
    assert!(world.service.caught_up().await);
    assert!(world.service.read(|state| state.erasures.is_empty()), "nothing was appended");
}

#[tokio::test]
async fn a_retention_run_erases_each_due_record_alone_with_nobody_as_the_asker() {
    let world = world().await;
    let today: jiff::civil::Date = "2030-01-01".parse().unwrap();
    let due = vec![
        RecordRef { kind: RecordKind::FeedbackItem, id: world.item },
        RecordRef { kind: RecordKind::Complaint, id: world.complaint },
    ];
    let report = crate::retention::run(&world.store, today, due, false).await.unwrap();
    assert!(!report.dry_run);
    assert_eq!(report.erased, 2);
    assert_eq!(world.all_readable().await, [false, true, false], "the case was not due");
    assert!(world.service.caught_up().await);
    let erasures = world.service.read(|state| state.erasures.clone());
    assert_eq!(erasures.len(), 2, "one erasure per record");
    for erasure in &erasures {
        assert_eq!(erasure.erased.reason, ErasureReason::RetentionPeriodEnded);
        assert_eq!(erasure.erased.asked_by, None);
        assert_eq!(erasure.erased.person, None);
        assert_eq!(erasure.erased.records.len(), 1);
    }
    // The person was not erased as a whole: their case stays, and they can still be erased.
    assert_eq!(world.service.erased_at(world.person), None);
    let answer = ask(&world, &erase_query(world.person), Some(coordinator("arun"))).await;
    assert!(answer["errors"].is_null(), "{answer}");
    assert_eq!(world.all_readable().await, [false, false, false]);
}

#[tokio::test]
async fn one_person_or_one_record_erased_by_two_replicas_at_once_is_erased_once_and_the_second_is_told_so() {
    let world = world().await;
    let records = world.service.records_of(world.person);
    // Two replicas, each past its own checks, erase the same person at the same moment.
    let (first, second) = tokio::join!(
        heard_api::erasure::erase(&world.store, Some(world.person), &records, None, ErasureReason::PersonAsked),
        heard_api::erasure::erase(&world.store, Some(world.person), &records, None, ErasureReason::PersonAsked),
    );
    let outcomes = [first.is_ok(), second.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "one erasure wins");
    let refused = first.err().or(second.err()).unwrap();
    assert!(matches!(&refused, heard_api::ApiError::Conflict(message) if message.contains("already been erased")));

    // The same for one record erased alone (two replicas' retention runs).
    let record = [RecordRef { kind: RecordKind::FeedbackItem, id: world.other_item }];
    let (first, second) = tokio::join!(
        heard_api::erasure::erase(&world.store, None, &record, None, ErasureReason::RetentionPeriodEnded),
        heard_api::erasure::erase(&world.store, None, &record, None, ErasureReason::RetentionPeriodEnded),
    );
    assert_eq!([first.is_ok(), second.is_ok()].iter().filter(|ok| **ok).count(), 1, "one erasure of the record");
    let erasures = world.store.read_category("erasure", 0, 10).await.unwrap();
    assert_eq!(erasures.len(), 2, "one erasure of the person and one of the record are in the log");
}
