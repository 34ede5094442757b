//! A client as a person across Heard (issue #18): who may say which person a client is, every
//! case of theirs carrying it, erasure folded into the cases, what is held about them, and when
//! their cases are due to be erased.

use std::collections::BTreeSet;

use async_graphql::{EmptySubscription, ID, Object, Schema};
use heard_access::{Actor, Role};
use heard_api::Viewer;
use heard_contracts::Event as _;
use heard_contracts::privacy::{
    CaseAssigned, CaseAttributed, ErasureReason, FeedbackAttributed, PersonId, RecordKind, RecordRef, RetentionRules,
    SubjectErased,
};
use heard_eventstore::Direction;
use jiff::civil::date;
use serde_json::Value;

use super::*;
use crate::graphql::{AdvocacyMutation, AdvocacyQuery};
use crate::held::CasesHeld;

fn actor(account: Uuid, role: Role) -> Actor {
    Actor { account: Some(account), roles: BTreeSet::from([role]), ..Actor::anonymous() }
}

fn viewer(actor: Actor) -> Viewer {
    Viewer { actor, ..Viewer::anonymous() }
}

/// A query root for the tests that also reaches advocacy's part of subject access, as the
/// gateway composes it.
#[derive(Default)]
struct TestQuery(AdvocacyQuery);

#[Object]
impl TestQuery {
    async fn held(&self, person: ID) -> CasesHeld {
        CasesHeld { person: PersonId(Uuid::parse_str(person.as_str()).unwrap()) }
    }
}

#[derive(async_graphql::MergedObject, Default)]
struct Root(TestQuery, AdvocacyQuery);

/// Asks the service's GraphQL as `viewer`, with the store in the context for the access log.
async fn ask(world: &World, viewer: Viewer, query: &str, variables: Value) -> Value {
    let schema = Schema::build(Root::default(), AdvocacyMutation, EmptySubscription)
        .data(world.service.clone())
        .data(world.store.clone())
        .finish();
    let request =
        async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables)).data(viewer);
    serde_json::to_value(schema.execute(request).await).unwrap()
}

fn code(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"].as_str().unwrap_or("none")
}

/// A person another service has attributed a record to.
async fn known_person(store: &EventStore) -> PersonId {
    let person = PersonId::new();
    let item = Uuid::new_v4();
    let attributed = FeedbackAttributed { item, person, hub: "crawley".into(), by: Uuid::new_v4() };
    let data = serde_json::to_value(attributed).unwrap();
    put::<FeedbackAttributed>(store, item, data).await;
    person
}

async fn events_of(store: &EventStore, case: Uuid) -> Vec<heard_eventstore::RecordedEvent> {
    let stream = StreamName::of(CASE, case).unwrap();
    store.read_stream(&stream, 0, Direction::Forwards, 100).await.unwrap()
}

#[tokio::test]
async fn attributing_one_case_attributes_every_case_of_the_client_and_their_later_cases_in_the_same_batch() {
    let world = world().await;
    let (service, advocate) = (&world.service, world.advocate);
    let first = service.refer(advocate, referral("Script stopped")).await.unwrap();
    let second = service.refer(advocate, linked(first.id, "Hostel eviction")).await.unwrap();
    let stranger = service.refer(advocate, referral("Someone else")).await.unwrap();

    service.attribute(second.id, advocate, None).await.unwrap();
    let person = service.read(|state| state.cases[&first.id].person).expect("the first case is attributed too");
    assert_eq!(service.read(|state| state.cases[&second.id].person), Some(person));
    assert_eq!(service.read(|state| state.cases[&stranger.id].person), None, "nobody else's case");
    for case in [first.id, second.id] {
        let attributed: Vec<CaseAttributed> = events_of(&world.store, case)
            .await
            .iter()
            .filter(|event| event.event_type == CaseAttributed::TYPE)
            .map(|event| event.decode().unwrap())
            .collect();
        assert_eq!(attributed, vec![CaseAttributed { case, person, advocate, by: advocate }]);
        assert!(
            events_of(&world.store, case).await.iter().all(|event| event.event_type != CaseAttributed::TYPE
                || matches!(event.personal, heard_eventstore::Personal::None)),
            "an attribution carries nothing personal"
        );
    }

    let third = service.refer(advocate, linked(first.id, "Benefit sanction")).await.unwrap();
    let events = events_of(&world.store, third.id).await;
    let types: Vec<&str> = events.iter().map(|event| event.event_type.as_str()).collect();
    assert_eq!(types, [heard_contracts::advocacy::CaseReferred::TYPE, CaseAttributed::TYPE]);
    assert_eq!(events[0].position + 1, events[1].position, "one batch: nothing between them");
    assert_eq!(service.read(|state| state.cases[&third.id].person), Some(person));

    // Attributing again to the same person changes nothing; to another person is a conflict.
    let head = world.store.head().position;
    service.attribute(first.id, advocate, Some(person)).await.unwrap();
    assert_eq!(world.store.head().position, head);
    let other = known_person(&world.store).await;
    let refused = service.attribute(first.id, advocate, Some(other)).await.unwrap_err();
    assert!(matches!(refused, ApiError::Conflict(_)), "{refused:?}");
    let refused = service.attribute(first.id, advocate, None).await.unwrap_err();
    assert!(matches!(refused, ApiError::Conflict(_)), "{refused:?}");
    assert_eq!(service.read(|state| state.cases[&first.id].person), Some(person));
}

#[tokio::test]
async fn a_person_must_be_known_to_heard_and_not_erased_and_a_refusal_appends_nothing() {
    let world = world().await;
    let (service, advocate) = (&world.service, world.advocate);
    let case = service.refer(advocate, referral("Waiting list")).await.unwrap();
    let head = world.store.head().position;
    assert_eq!(field(service.attribute(case.id, advocate, Some(PersonId::new())).await.unwrap_err()), "person");
    assert_eq!(world.store.head().position, head, "nothing appended");

    let erased = known_person(&world.store).await;
    heard_api::erasure::erase(&world.store, Some(erased), &[], None, ErasureReason::PersonAsked).await.unwrap();
    assert!(world.service.caught_up().await);
    let refused = service.attribute(case.id, advocate, Some(erased)).await.unwrap_err();
    assert!(
        matches!(&refused, ApiError::BadUserInput { field, message } if field == "person" && message.contains("erased")),
        "{refused:?}"
    );
    assert_eq!(service.read(|state| state.cases[&case.id].person), None);

    let known = known_person(&world.store).await;
    assert!(world.service.caught_up().await);
    let attributed = service.attribute(case.id, advocate, Some(known)).await.unwrap();
    assert_eq!(attributed.id, case.id);
    assert_eq!(service.read(|state| state.cases[&case.id].person), Some(known));
}

#[tokio::test]
async fn only_the_advocate_of_the_case_may_attribute_it_and_everyone_else_finds_nothing() {
    let world = world().await;
    let case = world.service.refer(world.advocate, referral("Dose cut")).await.unwrap();
    let mutation =
        "mutation($id: ID!, $person: ID) { attributeCase(caseId: $id, person: $person) { id person erased } }";
    let vars = json!({ "id": case.id });
    let someone = Uuid::new_v4();
    for (who, expected) in [
        (viewer(actor(world.colleague, Role::Advocate)), "NOT_FOUND"),
        (viewer(actor(someone, Role::ComplaintsHandler)), "NOT_FOUND"),
        (viewer(Actor { provider: Some("addaction".into()), ..actor(someone, Role::ProviderResponder) }), "NOT_FOUND"),
        (viewer(actor(someone, Role::Administrator)), "NOT_FOUND"),
        (Viewer::anonymous(), "UNAUTHENTICATED"),
    ] {
        let answer = ask(&world, who, mutation, vars.clone()).await;
        assert_eq!(code(&answer), expected, "{answer}");
    }
    assert_eq!(world.service.read(|state| state.cases[&case.id].person), None, "nobody else attributed it");
    let missing =
        ask(&world, viewer(actor(world.advocate, Role::Advocate)), mutation, json!({ "id": Uuid::new_v4() })).await;
    assert_eq!(code(&missing), "NOT_FOUND");

    let advocate = viewer(actor(world.advocate, Role::Advocate));
    let bad = ask(&world, advocate.clone(), mutation, json!({ "id": case.id, "person": "not-an-id" })).await;
    assert_eq!((code(&bad), &bad["errors"][0]["extensions"]["field"]), ("BAD_USER_INPUT", &json!("person")), "{bad}");
    let unknown = ask(&world, advocate.clone(), mutation, json!({ "id": case.id, "person": Uuid::new_v4() })).await;
    assert_eq!(unknown["errors"][0]["extensions"]["field"], "person", "{unknown}");

    let answer = ask(&world, advocate.clone(), mutation, vars.clone()).await;
    let person = answer["data"]["attributeCase"]["person"].as_str().expect("a new person").to_owned();
    assert_eq!(answer["data"]["attributeCase"]["erased"], false);
    let read = ask(&world, advocate, "query($id: ID!) { case(id: $id) { person } }", vars).await;
    assert_eq!(read["data"]["case"]["person"], person.as_str());
}

#[tokio::test]
async fn a_reassignment_is_stored_as_the_contracts_case_assigned() {
    let world = world().await;
    let case = world.service.refer(world.advocate, referral("Probation clash")).await.unwrap();
    world.service.assign(case.id, world.advocate, world.colleague).await.unwrap();
    let events = events_of(&world.store, case.id).await;
    let assigned = events.iter().find(|event| event.event_type == CaseAssigned::TYPE).expect("stored as CaseAssigned");
    assert_eq!(assigned.stream.category(), CaseAssigned::CATEGORY);
    assert_eq!(assigned.decode::<CaseAssigned>().unwrap(), CaseAssigned { advocate: world.colleague });
}

/// A client with two cases worked to every kind of words, attributed to a person, and another
/// client beside them.
async fn person_with_cases(world: &World) -> (PersonId, Vec<Uuid>, Uuid) {
    let (service, advocate) = (&world.service, world.advocate);
    let today = heard_api::today();
    let first = service.refer(advocate, referral("Quentin's script was stopped")).await.unwrap();
    let second = service.refer(advocate, linked(first.id, "Hostel eviction")).await.unwrap();
    service.accept(first.id, advocate, today).await.unwrap();
    service.record_action(first.id, advocate, today, ActionKind::Letter, "Wrote to Dr Snodgrass").await.unwrap();
    let closure = closing(CaseOutcome::Achieved, ClosureReason::IssueResolved, "Quentin is happy", today);
    service.close(first.id, advocate, closure).await.unwrap();
    service.reopen(first.id, advocate, today, "Cut again by Dr Snodgrass").await.unwrap();
    service.decline(second.id, advocate, today, "Quentin has a solicitor").await.unwrap();
    service.attribute(first.id, advocate, None).await.unwrap();
    let person = service.read(|state| state.cases[&first.id].person).unwrap();
    let someone_else = Referral {
        client_name: Some("Ada Other".into()),
        client_contact: Some("ada@example.org".into()),
        ..referral("Another client's issue")
    };
    let other = service.refer(advocate, someone_else).await.unwrap();
    (person, vec![first.id, second.id], other.id)
}

const CASE_FIELDS: &str = "id person erased pseudonym clientName clientContact issue declineReason clientView \
    domain state referredOn closures { outcome } actions { kind text } reopenings { on reason }";

#[tokio::test]
async fn erasure_marks_every_case_of_the_person_erased_hides_their_words_everywhere_and_keeps_counting_them() {
    let world = world().await;
    let (person, cases, other) = person_with_cases(&world).await;
    let service = &world.service;
    let counts = |by: &[Dimension]| service.systemic_themes(by, Period::Month, None, None);
    let before = (counts(&[]), counts(&[Dimension::Domain, Dimension::Theme]));
    // The erasure names one case; the key all the client's cases share goes with it.
    let record = RecordRef { kind: RecordKind::Case, id: cases[0] };
    heard_api::erasure::erase(&world.store, Some(person), &[record], None, ErasureReason::PersonAsked).await.unwrap();
    assert!(service.caught_up().await);

    for id in &cases {
        let kept = service.kept(*id).unwrap();
        assert!(kept.erased, "marked erased");
        assert_eq!(kept.person, Some(person), "still the person's, as a fact");
        let case = service.case(*id).unwrap();
        assert_eq!(case.personal, None);
        assert!(case.actions.iter().all(|(_, words)| words.is_none()));
    }
    let first = service.case(cases[0]).unwrap();
    assert_eq!((first.state, first.actions.len(), first.closures.len()), (CaseState::Active, 1, 1), "facts stay");
    assert_eq!(before, (counts(&[]), counts(&[Dimension::Domain, Dimension::Theme])), "counted as before");
    assert!(!service.kept(other).unwrap().erased);
    assert_eq!(service.case(other).unwrap().personal.unwrap().issue, "Another client's issue");

    let advocate = viewer(actor(world.advocate, Role::Advocate));
    let one = ask(
        &world,
        advocate.clone(),
        &format!("query($id: ID!) {{ case(id: $id) {{ {CASE_FIELDS} }} }}"),
        json!({ "id": cases[0] }),
    )
    .await;
    let list =
        ask(&world, advocate.clone(), &format!("{{ cases {{ edges {{ node {{ {CASE_FIELDS} }} }} }} }}"), json!({}))
            .await;
    let held = ask(
        &world,
        advocate,
        "query($p: ID!) { held(person: $p) { cases { id erased issue pseudonym clientName \
        clientContact timeline { step words } } } }",
        json!({ "p": person }),
    )
    .await;
    for answer in [&one, &list, &held] {
        let text = answer.to_string();
        assert!(answer["errors"].is_null(), "{answer}");
        for word in ["Quentin", "Snodgrass", "Sam Example", "07700", "Hostel", "solicitor"] {
            assert!(!text.contains(word), "{word:?} in {answer}");
        }
    }
    assert_eq!(one["data"]["case"]["erased"], true);
    assert_eq!(one["data"]["case"]["state"], "ACTIVE");
    assert_eq!(one["data"]["case"]["actions"][0]["kind"], "LETTER");
    assert_eq!(one["data"]["case"]["actions"][0]["text"], Value::Null);
    assert_eq!(one["data"]["case"]["person"], person.to_string());
    let nodes = list["data"]["cases"]["edges"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "erased cases are still listed as facts");
    assert_eq!(nodes.iter().filter(|edge| edge["node"]["erased"] == true).count(), 2);
    assert!(list.to_string().contains("Another client's issue"), "nobody else's words go");
    let held = held["data"]["held"]["cases"].as_array().unwrap();
    assert_eq!(held.len(), 2);
    assert!(held.iter().all(|case| case["erased"] == true && case["issue"].is_null()));
}

#[tokio::test]
async fn words_are_hidden_as_soon_as_an_erasure_is_folded_even_before_the_key_is_destroyed() {
    let world = world().await;
    let (person, cases, _) = person_with_cases(&world).await;
    // An erasure whose process died before destroying the key (the privacy service finishes it).
    let erased = SubjectErased {
        person: Some(person),
        records: vec![],
        subjects: vec![],
        asked_by: None,
        reason: ErasureReason::PersonAsked,
    };
    put::<SubjectErased>(&world.store, Uuid::new_v4(), serde_json::to_value(erased).unwrap()).await;
    assert!(world.service.caught_up().await);
    for id in cases {
        assert!(world.service.kept(id).unwrap().erased);
        assert_eq!(world.service.case(id).unwrap().personal, None);
    }
}

#[tokio::test]
async fn nothing_new_and_personal_is_recorded_about_an_erased_person_and_the_refusal_names_the_field() {
    let world = world().await;
    let (person, cases, _) = person_with_cases(&world).await;
    let (service, advocate) = (&world.service, world.advocate);
    heard_api::erasure::erase(&world.store, Some(person), &[], None, ErasureReason::PersonAsked).await.unwrap();
    assert!(service.caught_up().await);
    let today = heard_api::today();
    let head = world.store.head().position;
    let refused = |error: ApiError| match error {
        ApiError::BadUserInput { field, message } if message.contains("erased") => field,
        other => panic!("expected a refusal for an erased person, got {other:?}"),
    };
    assert_eq!(
        refused(service.record_action(cases[0], advocate, today, ActionKind::Call, "Rang").await.unwrap_err()),
        "text"
    );
    let closure = closing(CaseOutcome::NotKnown, ClosureReason::LostContact, "x", today);
    assert_eq!(refused(service.close(cases[0], advocate, closure).await.unwrap_err()), "clientView");
    assert_eq!(refused(service.refer(advocate, linked(cases[0], "More")).await.unwrap_err()), "linkedTo");
    assert_eq!(refused(service.attribute(cases[0], advocate, None).await.unwrap_err()), "caseId");
    assert_eq!(world.store.head().position, head, "nothing appended");
    service.record_consent(cases[0], advocate, today, Some(ShareScope::AdvocateOnly)).await.expect("a fact, not words");
}

#[tokio::test]
async fn what_is_held_about_a_person_is_only_their_cases_and_only_for_the_advocate_each_is_assigned_to() {
    let world = world().await;
    let (person, cases, other) = person_with_cases(&world).await;
    let service = &world.service;
    let other_person = {
        service.attribute(other, world.advocate, None).await.unwrap();
        service.read(|state| state.cases[&other].person).unwrap()
    };
    let everything = service.held_about(person, None);
    let ids: Vec<String> = everything.iter().map(|case| case.id.to_string()).collect();
    assert_eq!(ids, cases.iter().map(Uuid::to_string).collect::<Vec<_>>(), "theirs alone, in referral order");
    let first = &everything[0];
    assert_eq!(first.issue.as_deref(), Some("Quentin's script was stopped"));
    assert_eq!(
        (first.client_name.as_deref(), first.client_contact.as_deref()),
        (Some("Sam Example"), Some("07700 900123"))
    );
    let steps: Vec<(&str, Option<&str>)> =
        first.timeline.iter().map(|step| (step.step.as_str(), step.words.as_deref())).collect();
    assert_eq!(
        steps,
        [
            ("referred", None),
            ("accepted", None),
            ("action", Some("Wrote to Dr Snodgrass")),
            ("closed", Some("Quentin is happy")),
            ("reopened", Some("Cut again by Dr Snodgrass")),
        ]
    );
    assert_eq!(everything[1].timeline[1].words.as_deref(), Some("Quentin has a solicitor"));
    let json = serde_json::to_value(first).unwrap();
    assert_eq!(
        (json["referredOn"].is_string(), &json["state"], &json["domain"]),
        (true, &json!("ACTIVE"), &json!("PRESCRIBING_REVIEW"))
    );

    let advocate = actor(world.advocate, Role::Advocate);
    assert_eq!(service.held_about(person, Some(&advocate)).len(), 2);
    assert_eq!(service.held_about(other_person, Some(&advocate)).len(), 1);
    for nosy in [
        actor(world.colleague, Role::Advocate),
        actor(Uuid::new_v4(), Role::ComplaintsHandler),
        actor(Uuid::new_v4(), Role::Commissioner),
        actor(Uuid::new_v4(), Role::Administrator),
        Actor::anonymous(),
    ] {
        assert!(service.held_about(person, Some(&nosy)).is_empty(), "{nosy:?}");
    }
    // Handed to a colleague: theirs to see now, no longer the first advocate's.
    let third = service.refer(world.advocate, linked(cases[0], "Benefit sanction")).await.unwrap();
    service.assign(third.id, world.advocate, world.colleague).await.unwrap();
    let colleague = actor(world.colleague, Role::Advocate);
    let theirs: Vec<String> = service.held_about(person, Some(&colleague)).iter().map(|c| c.id.to_string()).collect();
    assert_eq!(theirs, vec![third.id.to_string()]);
    assert_eq!(service.held_about(person, Some(&advocate)).len(), 2);

    let answer = ask(
        &world,
        viewer(colleague),
        "query($p: ID!) { held(person: $p) { cases { id issue } } }",
        json!({ "p": person }),
    )
    .await;
    assert_eq!(answer["data"]["held"]["cases"].as_array().unwrap().len(), 1, "{answer}");
    assert!(!answer.to_string().contains("Quentin"), "{answer}");
    let anonymous = ask(
        &world,
        Viewer::anonymous(),
        "query($p: ID!) { held(person: $p) { cases { id } } }",
        json!({ "p": person }),
    )
    .await;
    assert_eq!(anonymous["data"]["held"]["cases"], json!([]), "{anonymous}");
}

#[tokio::test]
async fn a_clients_cases_are_due_for_erasure_only_once_all_have_ended_and_the_last_ended_long_enough_ago() {
    let world = world().await;
    let (service, advocate) = (&world.service, world.advocate);
    let old = |issue: &str, on| Referral { referred_on: Some(on), ..referral(issue) };
    let close = |on| closing(CaseOutcome::Achieved, ClosureReason::IssueResolved, "Fine", on);
    let finish = |id: Uuid, on| async move {
        service.accept(id, advocate, date(2019, 1, 2)).await.unwrap();
        service.close(id, advocate, close(on)).await.unwrap();
    };
    // Closed long ago, both of them.
    let a1 = service.refer(advocate, old("a1", date(2019, 1, 2))).await.unwrap().id;
    let a2 = service.refer(advocate, Referral { linked_to: Some(a1), ..old("a2", date(2019, 1, 2)) }).await.unwrap().id;
    finish(a1, date(2019, 1, 10)).await;
    finish(a2, date(2019, 2, 1)).await;
    // One closed long ago, one still open: none of theirs.
    let b1 = service.refer(advocate, old("b1", date(2019, 1, 2))).await.unwrap().id;
    let b2 = service.refer(advocate, Referral { linked_to: Some(b1), ..old("b2", date(2019, 1, 2)) }).await.unwrap().id;
    finish(b1, date(2019, 1, 10)).await;
    // Closed too recently.
    let c = service.refer(advocate, old("c", date(2019, 1, 2))).await.unwrap().id;
    finish(c, date(2020, 6, 1)).await;
    // Closed exactly the period before today: not more than it.
    let e = service.refer(advocate, old("e", date(2019, 1, 2))).await.unwrap().id;
    finish(e, date(2020, 1, 2)).await;
    // Declined long ago: it ended then.
    let d = service.refer(advocate, old("d", date(2019, 1, 2))).await.unwrap().id;
    service.decline(d, advocate, date(2019, 1, 5), "Not for advocacy").await.unwrap();
    // Closed and reopened: open again.
    let r = service.refer(advocate, old("r", date(2019, 1, 2))).await.unwrap().id;
    finish(r, date(2019, 1, 10)).await;
    service.reopen(r, advocate, date(2019, 2, 10), "Again").await.unwrap();

    let today = date(2021, 1, 1);
    let rules = RetentionRules { cases_closed_days: Some(365), ..RetentionRules::default() };
    let due = service.due_for_retention(today, &rules);
    let case = |id| RecordRef { kind: RecordKind::Case, id };
    assert_eq!(due, vec![case(a1), case(a2), case(d)]);
    assert!(!due.contains(&case(b1)) && !due.contains(&case(b2)) && !due.contains(&case(e)));
    assert_eq!(service.due_for_retention(today, &RetentionRules { cases_closed_days: None, ..rules }), vec![]);
    assert_eq!(service.due_for_retention(date(2021, 1, 3), &rules).len(), 4, "a day later, e too");

    heard_api::erasure::erase(&world.store, None, &[case(a1)], None, ErasureReason::RetentionPeriodEnded)
        .await
        .unwrap();
    assert!(service.caught_up().await);
    assert_eq!(service.due_for_retention(today, &rules), vec![case(d)], "erased cases are not due again");
}
