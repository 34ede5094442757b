//! A complainant as a person across Heard (issue #18): who may say which person made a
//! complaint, the words a provider reads (none until a handler reviewed them, then the redacted
//! words or the words as written), erasure folded into the complaints, what is held about a
//! person, and when their complaints are due to be erased.

use std::collections::BTreeSet;

use async_graphql::{EmptySubscription, ID, Object, Schema};
use heard_access::{Actor, Role};
use heard_api::{ApiError, Viewer};
use heard_contracts::Event as _;
use heard_contracts::privacy::{
    ComplaintAttributed, ErasureReason, FeedbackAttributed, PersonId, RecordKind, RecordRef, RetentionRules,
    SubjectErased,
};
use heard_eventstore::Direction;
use serde_json::Value;

use super::*;
use crate::graphql::{RightsMutation, RightsQuery};
use crate::held::ComplaintsHeld;

fn actor(account: Uuid, role: Role) -> Actor {
    Actor { account: Some(account), roles: BTreeSet::from([role]), ..Actor::anonymous() }
}

fn provider(of: &str) -> Actor {
    Actor { provider: Some(of.into()), ..actor(Uuid::new_v4(), Role::ProviderResponder) }
}

fn viewer(actor: Actor) -> Viewer {
    Viewer { actor, ..Viewer::anonymous() }
}

/// A query root for the tests that also reaches rights' part of subject access, as the gateway
/// composes it.
#[derive(Default)]
struct TestQuery;

#[Object]
impl TestQuery {
    async fn held(&self, person: ID) -> ComplaintsHeld {
        ComplaintsHeld { person: PersonId(Uuid::parse_str(person.as_str()).unwrap()) }
    }
}

#[derive(async_graphql::MergedObject, Default)]
struct Root(TestQuery, RightsQuery);

async fn ask(world: &World, viewer: Viewer, query: &str, variables: Value) -> Value {
    let schema = Schema::build(Root::default(), RightsMutation, EmptySubscription)
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

/// The complaint `id` in a list's answer, or the one complaint answered.
fn node(answer: &Value, id: Uuid) -> Value {
    if let Some(edges) = answer["data"]["complaints"]["edges"].as_array() {
        let found = edges.iter().find(|edge| edge["node"]["id"] == id.to_string());
        return found.map(|edge| edge["node"].clone()).unwrap_or(Value::Null);
    }
    answer["data"]["complaint"].clone()
}

fn error_field(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["field"].as_str().unwrap_or("none")
}

/// A person another service has attributed a record to.
async fn known_person(store: &EventStore) -> PersonId {
    let person = PersonId::new();
    let item = Uuid::new_v4();
    let attributed = FeedbackAttributed { item, person, hub: "crawley".into(), by: Uuid::new_v4() };
    put::<FeedbackAttributed>(store, item, serde_json::to_value(attributed).unwrap()).await;
    person
}

/// Every field of a complaint a provider responder can ask for.
const EVERY_FIELD: &str = "id reference charter provider providerName service articles { number label } \
    complainantKind complainantName complainantContact relayedByAdvocateId handlerId acknowledgedHow route \
    whatHappened outcomeWanted redactedForProvider providerWords wordsWithheld person erased receivedOn stage \
    earlyResolution outcome closedOn clock { stage acknowledgeBy acknowledgedOn respondBy respondedOn workingDaysLeft overdue urgent paused \
    responsePeriod needsExplanation } agreedWorkingDays extensions { workingDays reason personAgreed } \
    pauses { from until reason } escalations { to reference } delayExplanations learning";

const ATTRIBUTE: &str =
    "mutation($id: ID!, $person: ID) { attributeComplaint(complaintId: $id, person: $person) { id person erased } }";

const REDACT: &str = "mutation($id: ID!, $text: String!) { redactComplaintForProvider(complaintId: $id, text: $text) { id whatHappened redactedForProvider } }";

const RELEASE: &str = "mutation($id: ID!) { releaseComplaintWordsToProvider(complaintId: $id) { id whatHappened outcomeWanted providerWords wordsWithheld } }";

/// The words of the test complaints, none of which a provider may read before a handler
/// reviewed them.
const ORIGINAL: [&str; 5] = ["Pennyfeather", "Greenhalgh", "Dose cut", "Turned away", "An apology"];

#[tokio::test]
async fn only_complaints_handlers_may_say_which_person_made_a_complaint_and_a_provider_never_sees_it() {
    let world = world().await;
    let ids = complaints(&world).await;
    let relayed = ids[1];
    let vars = json!({ "id": relayed });
    for (who, expected) in [
        (viewer(actor(world.advocate, Role::Advocate)), "FORBIDDEN"),
        (viewer(provider("cri")), "FORBIDDEN"),
        (viewer(provider("addaction")), "NOT_FOUND"),
        (viewer(actor(Uuid::new_v4(), Role::Advocate)), "NOT_FOUND"),
        (viewer(actor(Uuid::new_v4(), Role::Commissioner)), "NOT_FOUND"),
        (Viewer::anonymous(), "UNAUTHENTICATED"),
    ] {
        let answer = ask(&world, who.clone(), ATTRIBUTE, vars.clone()).await;
        assert_eq!(code(&answer), expected, "{:?}: {answer}", who.actor.roles);
    }
    assert_eq!(world.service.complaint(relayed).unwrap().person, None, "nobody attributed it");

    let handler = viewer(actor(world.handler, Role::ComplaintsHandler));
    let bad = ask(&world, handler.clone(), ATTRIBUTE, json!({ "id": relayed, "person": "nope" })).await;
    assert_eq!((code(&bad), error_field(&bad)), ("BAD_USER_INPUT", "person"), "{bad}");
    let unknown = ask(&world, handler.clone(), ATTRIBUTE, json!({ "id": relayed, "person": Uuid::new_v4() })).await;
    assert_eq!((code(&unknown), error_field(&unknown)), ("BAD_USER_INPUT", "person"), "{unknown}");
    let not_an_id = ask(&world, handler.clone(), ATTRIBUTE, json!({ "id": "x" })).await;
    assert_eq!(error_field(&not_an_id), "complaintId", "{not_an_id}");

    let known = known_person(&world.store).await;
    assert!(world.service.caught_up().await);
    let answer = ask(&world, handler.clone(), ATTRIBUTE, json!({ "id": relayed, "person": known })).await;
    assert_eq!(answer["data"]["attributeComplaint"]["person"], known.to_string(), "{answer}");
    let stream = StreamName::of(heard_contracts::rights::COMPLAINT, relayed).unwrap();
    let events = world.store.read_stream(&stream, 0, Direction::Forwards, 100).await.unwrap();
    let attributed: ComplaintAttributed =
        events.iter().find(|e| e.event_type == ComplaintAttributed::TYPE).unwrap().decode().unwrap();
    assert_eq!(
        attributed,
        ComplaintAttributed { complaint: relayed, person: known, relayed_by: Some(world.advocate), by: world.handler }
    );

    let query = "query($id: ID!) { complaint(id: $id) { person } }";
    let seen = ask(&world, viewer(actor(world.advocate, Role::Advocate)), query, vars.clone()).await;
    assert_eq!(seen["data"]["complaint"]["person"], known.to_string(), "the relaying advocate sees it: {seen}");
    let provider_sees = ask(&world, viewer(provider("cri")), query, vars.clone()).await;
    assert_eq!(provider_sees["data"]["complaint"]["person"], Value::Null, "{provider_sees}");

    // Again to the same person: nothing new. To another: a conflict, and nothing changes.
    let head = world.store.head().position;
    world.service.attribute(relayed, world.handler, Some(known)).await.unwrap();
    assert_eq!(world.store.head().position, head);
    let other = ask(&world, handler.clone(), ATTRIBUTE, vars.clone()).await;
    assert_eq!(code(&other), "CONFLICT", "{other}");
    // A new person for another complaint.
    let fresh = ask(&world, handler, ATTRIBUTE, json!({ "id": ids[2] })).await;
    assert!(fresh["data"]["attributeComplaint"]["person"].is_string(), "{fresh}");
}

#[tokio::test]
async fn once_a_handler_redacts_a_complaint_the_provider_reads_only_the_redacted_words_in_every_field() {
    let world = world().await;
    let ids = complaints(&world).await;
    let relayed = ids[1];
    let cri = viewer(provider("cri"));
    let one = format!("query($id: ID!) {{ complaint(id: $id) {{ {EVERY_FIELD} }} }}");
    let list = format!("{{ complaints {{ edges {{ node {{ {EVERY_FIELD} }} }} }} }}");
    let by_reference =
        format!("query($r: String!) {{ complaints(reference: $r) {{ edges {{ node {{ {EVERY_FIELD} }} }} }} }}");
    let reference = world.service.complaint(relayed).unwrap().reference;
    let before = ask(&world, cri.clone(), &one, json!({ "id": relayed })).await;
    assert_eq!(before["data"]["complaint"]["whatHappened"], Value::Null, "none before a review: {before}");
    assert_eq!(before["data"]["complaint"]["wordsWithheld"], crate::graphql::AWAITING_REVIEW);

    let handler = viewer(actor(world.handler, Role::ComplaintsHandler));
    let empty = ask(&world, handler.clone(), REDACT, json!({ "id": relayed, "text": "   " })).await;
    assert_eq!((code(&empty), error_field(&empty)), ("BAD_USER_INPUT", "text"), "{empty}");
    let long = ask(&world, handler.clone(), REDACT, json!({ "id": relayed, "text": "x".repeat(5001) })).await;
    assert_eq!((code(&long), error_field(&long)), ("BAD_USER_INPUT", "text"), "{long}");
    let by_provider = ask(&world, cri.clone(), REDACT, json!({ "id": relayed, "text": "mine" })).await;
    assert_eq!(code(&by_provider), "FORBIDDEN", "{by_provider}");
    let by_advocate =
        ask(&world, viewer(actor(world.advocate, Role::Advocate)), REDACT, json!({ "id": relayed, "text": "x" })).await;
    assert_eq!(code(&by_advocate), "FORBIDDEN", "{by_advocate}");
    assert_eq!(
        world.service.complaint(relayed).unwrap().provider_words,
        ProviderWords::AwaitingReview,
        "nothing was recorded"
    );

    let first = "A dose was reduced without a review.";
    let redacted = ask(&world, handler.clone(), REDACT, json!({ "id": relayed, "text": first })).await;
    assert_eq!(redacted["data"]["redactComplaintForProvider"]["redactedForProvider"], first, "{redacted}");
    let text = "A dose was reduced without a clinical review.";
    let again = ask(&world, handler.clone(), REDACT, json!({ "id": relayed, "text": text })).await;
    let answered = &again["data"]["redactComplaintForProvider"];
    assert_eq!(
        answered["whatHappened"], "Dose cut without a review by Dr Pennyfeather",
        "the handler reads the original"
    );
    assert_eq!(answered["redactedForProvider"], text, "the latest replaces the first");

    for query in [&one, &list] {
        let answer = ask(&world, cri.clone(), query, json!({ "id": relayed })).await;
        assert!(answer["errors"].is_null(), "{answer}");
        let answer = node(&answer, relayed);
        let said = answer.to_string();
        for original in ["Pennyfeather", "Greenhalgh", "Dose cut", "An apology"] {
            assert!(!said.contains(original), "{original:?} reached the provider: {answer}");
        }
        assert!(said.contains(text), "{answer}");
        assert!(!said.contains(first), "only the latest: {answer}");
    }
    let found = ask(&world, cri.clone(), &by_reference, json!({ "r": reference })).await;
    let node = &found["data"]["complaints"]["edges"][0]["node"];
    assert_eq!(
        (&node["whatHappened"], &node["outcomeWanted"], &node["redactedForProvider"]),
        (&json!(text), &Value::Null, &Value::Null)
    );
    assert_eq!((&node["providerWords"], &node["wordsWithheld"]), (&json!("REDACTED"), &Value::Null));
    assert!(!found.to_string().contains("Pennyfeather"), "{found}");

    // Those who may see who complained read both.
    let advocate = ask(&world, viewer(actor(world.advocate, Role::Advocate)), &one, json!({ "id": relayed })).await;
    assert_eq!(advocate["data"]["complaint"]["redactedForProvider"], text);
    assert_eq!(advocate["data"]["complaint"]["whatHappened"], "Dose cut without a review by Dr Pennyfeather");
    // Another complaint, never reviewed, holds no words for its provider.
    let named = ask(&world, viewer(provider("addaction")), &one, json!({ "id": ids[0] })).await;
    assert_eq!(named["data"]["complaint"]["whatHappened"], Value::Null, "{named}");
}

#[tokio::test]
async fn a_provider_reads_none_of_a_complaints_words_in_any_query_until_a_handler_has_reviewed_them() {
    let world = world().await;
    let ids = complaints(&world).await;
    let one = format!("query($id: ID!) {{ complaint(id: $id) {{ {EVERY_FIELD} }} }}");
    let list = format!("{{ complaints {{ edges {{ node {{ {EVERY_FIELD} }} }} }} }}");
    let by_reference =
        format!("query($r: String!) {{ complaints(reference: $r) {{ edges {{ node {{ {EVERY_FIELD} }} }} }} }}");
    for (provider_id, id) in [("addaction", ids[0]), ("cri", ids[1]), ("cri", ids[2])] {
        let reference = world.service.complaint(id).unwrap().reference;
        let asker = viewer(provider(provider_id));
        for (query, variables) in
            [(&one, json!({ "id": id })), (&list, json!({})), (&by_reference, json!({ "r": reference }))]
        {
            let answer = ask(&world, asker.clone(), query, variables).await;
            assert!(answer["errors"].is_null(), "{answer}");
            for word in ORIGINAL.iter().chain(&["Ottoline", "ottoline@"]) {
                assert!(!answer.to_string().contains(word), "{word:?} reached the provider: {answer}");
            }
            let complaint = node(&answer, id);
            assert_eq!(
                (&complaint["whatHappened"], &complaint["outcomeWanted"], &complaint["providerWords"]),
                (&Value::Null, &Value::Null, &json!("AWAITING_REVIEW")),
                "{answer}"
            );
            assert_eq!(complaint["wordsWithheld"], "Awaiting the complaints team's review of the words.");
            assert_eq!(complaint["provider"], provider_id, "the facts are there: {complaint}");
            assert!(complaint["clock"]["acknowledgeBy"].is_string() && complaint["stage"].is_string());
        }
    }
    // Those who may see who complained read the words as written, with nothing withheld.
    let handler = viewer(actor(world.handler, Role::ComplaintsHandler));
    let advocate = viewer(actor(world.advocate, Role::Advocate));
    for (who, id, said) in [
        (handler.clone(), ids[0], "Turned away by Mr Greenhalgh"),
        (handler, ids[1], "Dose cut without a review by Dr Pennyfeather"),
        (advocate, ids[1], "Dose cut without a review by Dr Pennyfeather"),
    ] {
        let answer = ask(&world, who, &one, json!({ "id": id })).await;
        let complaint = &answer["data"]["complaint"];
        assert_eq!((&complaint["whatHappened"], &complaint["wordsWithheld"]), (&json!(said), &Value::Null));
        assert_eq!(complaint["providerWords"], "AWAITING_REVIEW", "they see that the provider waits");
    }
}

#[tokio::test]
async fn once_a_handler_finds_nothing_to_remove_the_provider_reads_the_words_as_written_and_nobody_else_may_say_so() {
    let world = world().await;
    let ids = complaints(&world).await;
    let relayed = ids[1];
    let vars = json!({ "id": relayed });
    for (who, expected) in [
        (viewer(provider("cri")), "FORBIDDEN"),
        (viewer(actor(world.advocate, Role::Advocate)), "FORBIDDEN"),
        (viewer(provider("addaction")), "NOT_FOUND"),
        (viewer(actor(Uuid::new_v4(), Role::Commissioner)), "NOT_FOUND"),
        (Viewer::anonymous(), "UNAUTHENTICATED"),
    ] {
        let answer = ask(&world, who.clone(), RELEASE, vars.clone()).await;
        assert_eq!(code(&answer), expected, "{:?}: {answer}", who.actor.roles);
    }
    assert_eq!(world.service.complaint(relayed).unwrap().provider_words, ProviderWords::AwaitingReview);

    let handler = viewer(actor(world.handler, Role::ComplaintsHandler));
    let released = ask(&world, handler.clone(), RELEASE, vars.clone()).await;
    let answered = &released["data"]["releaseComplaintWordsToProvider"];
    assert_eq!(answered["providerWords"], "AS_WRITTEN", "{released}");
    let head = world.store.head().position;
    let again = ask(&world, handler.clone(), RELEASE, vars.clone()).await;
    assert!(again["errors"].is_null(), "{again}");
    assert_eq!(world.store.head().position, head, "saying it again records nothing");

    let query = "query($id: ID!) { complaint(id: $id) { whatHappened outcomeWanted providerWords wordsWithheld \
        complainantName complainantContact complainantKind relayedByAdvocateId } }";
    let seen = ask(&world, viewer(provider("cri")), query, vars.clone()).await;
    let seen = &seen["data"]["complaint"];
    assert_eq!(seen["whatHappened"], "Dose cut without a review by Dr Pennyfeather", "{seen}");
    assert_eq!(seen["outcomeWanted"], "An apology from Mr Greenhalgh");
    assert_eq!((&seen["providerWords"], &seen["wordsWithheld"]), (&json!("AS_WRITTEN"), &Value::Null));
    for withheld in ["complainantName", "complainantContact", "complainantKind", "relayedByAdvocateId"] {
        assert_eq!(seen[withheld], Value::Null, "still never who complained: {withheld}");
    }
    let elsewhere = ask(&world, viewer(provider("addaction")), query, vars.clone()).await;
    assert_eq!(code(&elsewhere), "NOT_FOUND", "{elsewhere}");
    let other = ask(&world, viewer(provider("cri")), query, json!({ "id": ids[2] })).await;
    assert_eq!(other["data"]["complaint"]["whatHappened"], Value::Null, "only the complaint reviewed: {other}");

    let person = world.service.attribute(relayed, world.handler, None).await.unwrap().person.unwrap();
    let steps: Vec<String> =
        world.service.held_about(person, None)[0].steps.iter().map(|step| step.step.clone()).collect();
    assert_eq!(steps.last().map(String::as_str), Some("released_to_provider"), "{steps:?}");

    // The model rebuilt from the log after a restart knows it too.
    let rebuilt = open(&world.store, &fresh_models()).await;
    assert_eq!(rebuilt.complaint(relayed).unwrap().provider_words, ProviderWords::AsWritten);
    assert_eq!(rebuilt.complaint(ids[2]).unwrap().provider_words, ProviderWords::AwaitingReview);
}

#[tokio::test]
async fn words_written_for_the_provider_are_never_released_as_written_afterwards_but_may_replace_them() {
    let world = world().await;
    let ids = complaints(&world).await;
    let handler = viewer(actor(world.handler, Role::ComplaintsHandler));
    let cri = viewer(provider("cri"));
    let query = "query($id: ID!) { complaint(id: $id) { whatHappened outcomeWanted providerWords } }";

    // Redacted first: releasing afterwards is refused, and the provider still reads the redaction.
    world.service.redact_for_provider(ids[1], world.handler, "A dose was reduced.").await.unwrap();
    let head = world.store.head().position;
    let refused = ask(&world, handler.clone(), RELEASE, json!({ "id": ids[1] })).await;
    assert_eq!(code(&refused), "CONFLICT", "{refused}");
    assert_eq!(world.store.head().position, head, "nothing appended");
    let seen = ask(&world, cri.clone(), query, json!({ "id": ids[1] })).await;
    assert_eq!(
        seen["data"]["complaint"],
        json!({ "whatHappened": "A dose was reduced.", "outcomeWanted": null, "providerWords": "REDACTED" })
    );

    // Released first: a handler can still write the words, and from then on only those are read.
    world.service.release_to_provider(ids[2], world.handler).await.unwrap();
    world.service.redact_for_provider(ids[2], world.handler, "Someone was rude.").await.unwrap();
    let seen = ask(&world, cri, query, json!({ "id": ids[2] })).await;
    assert_eq!(
        seen["data"]["complaint"],
        json!({ "whatHappened": "Someone was rude.", "outcomeWanted": null, "providerWords": "REDACTED" })
    );
}

#[tokio::test]
async fn the_words_written_for_the_provider_are_sealed_under_the_complaints_key_and_go_with_it() {
    let world = world().await;
    let ids = complaints(&world).await;
    let record = world.service.redact_for_provider(ids[1], world.handler, "Reduced without review").await.unwrap();
    assert_eq!(world.service.redacted_words(&record).as_deref(), Some("Reduced without review"));
    let stream = StreamName::of(heard_contracts::rights::COMPLAINT, ids[1]).unwrap();
    let events = world.store.read_all_raw(1, 10_000).await.unwrap();
    let raw = events.iter().rfind(|e| e.stream == stream).unwrap();
    assert_eq!(raw.event_type, "ComplaintRedactedForProvider");
    assert!(!String::from_utf8_lossy(&raw.data).contains("Reduced"), "the words are not in the clear");
    assert_eq!(heard_api::fold::subject_of(&raw.personal), world.service.subject_of(ids[1]));

    assert!(world.store.forget_subject(world.service.subject_of(ids[1]).unwrap()).unwrap());
    let record = world.service.complaint(ids[1]).unwrap();
    assert_eq!(world.service.redacted_words(&record), None);
    let answer = ask(
        &world,
        viewer(provider("cri")),
        "query($id: ID!) { complaint(id: $id) { whatHappened } }",
        json!({ "id": ids[1] }),
    )
    .await;
    assert_eq!(answer["data"]["complaint"]["whatHappened"], Value::Null, "never the original instead: {answer}");
}

#[tokio::test]
async fn erasure_keeps_a_complaint_with_its_facts_hides_its_words_in_every_query_and_keeps_counting_it() {
    let world = world().await;
    let ids = complaints(&world).await;
    let service = &world.service;
    service.redact_for_provider(ids[0], world.handler, "Turned away at the desk").await.unwrap();
    let person = {
        let record = service.attribute(ids[0], world.handler, None).await.unwrap();
        record.person.unwrap()
    };
    let counts = |by: &[PatternDimension]| service.patterns(by, Period::Month, None, None);
    let before = (counts(&[]), counts(&[PatternDimension::Outcome, PatternDimension::Article]));
    let record = RecordRef { kind: RecordKind::Complaint, id: ids[0] };
    heard_api::erasure::erase(&world.store, Some(person), &[record], Some(world.handler), ErasureReason::PersonAsked)
        .await
        .unwrap();
    assert!(service.caught_up().await);
    assert_eq!(before, (counts(&[]), counts(&[PatternDimension::Outcome, PatternDimension::Article])));

    let one = format!("query($id: ID!) {{ complaint(id: $id) {{ {EVERY_FIELD} }} }}");
    let list = format!("{{ complaints {{ edges {{ node {{ {EVERY_FIELD} }} }} }} }}");
    let handler = viewer(actor(world.handler, Role::ComplaintsHandler));
    let held = "query($p: ID!) { held(person: $p) { complaints { id erased complainantName complainantContact \
        whatHappened outcomeWanted redactedForProvider stage outcome steps { step detail } } } }";
    let answers = [
        ask(&world, handler.clone(), &one, json!({ "id": ids[0] })).await,
        ask(&world, handler.clone(), &list, json!({})).await,
        ask(&world, viewer(provider("addaction")), &one, json!({ "id": ids[0] })).await,
        ask(&world, handler.clone(), held, json!({ "p": person })).await,
    ];
    for answer in &answers {
        assert!(answer["errors"].is_null(), "{answer}");
        let answer = match answer["data"]["held"]["complaints"].as_array() {
            Some(held) => Value::Array(held.clone()),
            None => node(answer, ids[0]),
        };
        assert!(answer.is_object() || answer.is_array(), "{answer}");
        for word in ["Ottoline", "Braithwaite", "ottoline@", "Greenhalgh", "Turned away"] {
            assert!(!answer.to_string().contains(word), "{word:?} in {answer}");
        }
    }
    let complaint = &answers[0]["data"]["complaint"];
    assert_eq!(complaint["erased"], true);
    assert_eq!(complaint["person"], person.to_string(), "still theirs, as a fact");
    assert_eq!((&complaint["stage"], &complaint["outcome"]), (&json!("CLOSED"), &json!("PARTLY_UPHELD")));
    assert_eq!(complaint["learning"], json!(["Staff are reminded of the policy"]), "learning identifies nobody");
    assert_eq!(complaint["articles"].as_array().unwrap().len(), 2);
    assert_eq!(complaint["provider"], "addaction");
    let listed = answers[1]["data"]["complaints"]["edges"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "still listed");
    assert!(answers[1].to_string().contains("Pennyfeather"), "nobody else's words go");
    let held = &answers[3]["data"]["held"]["complaints"][0];
    assert_eq!((&held["erased"], &held["whatHappened"]), (&json!(true), &Value::Null));
    assert!(held["steps"].as_array().unwrap().len() >= 6, "the steps stay: {held}");
}

#[tokio::test]
async fn words_are_hidden_as_soon_as_an_erasure_is_folded_even_before_the_key_is_destroyed() {
    let world = world().await;
    let ids = complaints(&world).await;
    let erased = SubjectErased {
        person: None,
        records: vec![RecordRef { kind: RecordKind::Complaint, id: ids[1] }],
        subjects: vec![],
        asked_by: None,
        reason: ErasureReason::RetentionPeriodEnded,
    };
    put::<SubjectErased>(&world.store, Uuid::new_v4(), serde_json::to_value(erased).unwrap()).await;
    assert!(world.service.caught_up().await);
    let record = world.service.complaint(ids[1]).unwrap();
    assert!(record.erased);
    assert_eq!(world.service.words(&record), None);
    assert!(world.service.words(&world.service.complaint(ids[0]).unwrap()).is_some(), "only that one");
}

#[tokio::test]
async fn nothing_new_and_personal_is_recorded_about_an_erased_complaint_or_person() {
    let world = world().await;
    let ids = complaints(&world).await;
    let service = &world.service;
    let gone = known_person(&world.store).await;
    let person = service.attribute(ids[0], world.handler, None).await.unwrap().person.unwrap();
    heard_api::erasure::erase(
        &world.store,
        Some(person),
        &[RecordRef { kind: RecordKind::Complaint, id: ids[0] }],
        None,
        ErasureReason::PersonAsked,
    )
    .await
    .unwrap();
    heard_api::erasure::erase(&world.store, Some(gone), &[], None, ErasureReason::PersonAsked).await.unwrap();
    assert!(service.caught_up().await);
    let head = world.store.head().position;
    let refused = |error: ApiError| match error {
        ApiError::BadUserInput { field, message } if message.contains("erased") => field,
        other => panic!("expected a refusal for an erased person, got {other:?}"),
    };
    assert_eq!(refused(service.redact_for_provider(ids[0], world.handler, "More").await.unwrap_err()), "text");
    assert_eq!(refused(service.release_to_provider(ids[0], world.handler).await.unwrap_err()), "complaintId");
    assert_eq!(refused(service.attribute(ids[0], world.handler, None).await.unwrap_err()), "complaintId");
    assert_eq!(refused(service.attribute(ids[1], world.handler, Some(gone)).await.unwrap_err()), "person");
    assert_eq!(refused(service.attribute(ids[1], world.handler, Some(person)).await.unwrap_err()), "person");
    assert_eq!(world.store.head().position, head, "nothing appended");
    let handler = viewer(actor(world.handler, Role::ComplaintsHandler));
    let answer = ask(&world, handler, REDACT, json!({ "id": ids[0], "text": "More" })).await;
    assert_eq!((code(&answer), error_field(&answer)), ("BAD_USER_INPUT", "text"), "{answer}");
}

#[tokio::test]
async fn what_is_held_about_a_person_is_only_their_complaints_and_only_for_those_who_may_see_who_complained() {
    let world = world().await;
    let ids = complaints(&world).await;
    let service = &world.service;
    let person = service.attribute(ids[1], world.handler, None).await.unwrap().person.unwrap();
    service.attribute(ids[0], world.handler, None).await.unwrap();
    service.redact_for_provider(ids[1], world.handler, "Reduced without review").await.unwrap();

    let everything = service.held_about(person, None);
    assert_eq!(everything.len(), 1, "theirs alone");
    let held = &everything[0];
    assert_eq!(held.id.as_str(), ids[1].to_string());
    assert_eq!(held.what_happened.as_deref(), Some("Dose cut without a review by Dr Pennyfeather"));
    assert_eq!(held.outcome_wanted.as_deref(), Some("An apology from Mr Greenhalgh"));
    assert_eq!(held.redacted_for_provider.as_deref(), Some("Reduced without review"));
    let steps: Vec<&str> = held.steps.iter().map(|step| step.step.as_str()).collect();
    assert_eq!(steps, ["received", "acknowledged", "early_resolution", "paused", "redacted_for_provider"]);
    assert_eq!(held.steps[3].detail.as_deref(), Some("Waiting to hear back"));
    assert_eq!(held.steps[1].detail.as_deref(), Some("phone"));
    let first = &service.held_about(service.complaint(ids[0]).unwrap().person.unwrap(), None)[0];
    let steps: Vec<&str> = first.steps.iter().map(|step| step.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "received",
            "acknowledged",
            "investigation_opened",
            "extended",
            "responded",
            "outcome",
            "escalated",
            "learning_recorded"
        ]
    );
    assert_eq!(first.steps[0].on, first.received_on);
    assert_eq!(first.complainant_contact.as_deref(), Some("ottoline@example.org"));
    let json = serde_json::to_value(held).unwrap();
    assert_eq!((&json["complainantKind"], &json["stage"]), (&json!("RELAYED_BY_ADVOCATE"), &json!("EARLY_RESOLUTION")));

    for entitled in [actor(world.handler, Role::ComplaintsHandler), actor(world.advocate, Role::Advocate)] {
        assert_eq!(service.held_about(person, Some(&entitled)).len(), 1, "{entitled:?}");
    }
    for nosy in [
        provider("cri"),
        actor(Uuid::new_v4(), Role::Advocate),
        actor(Uuid::new_v4(), Role::Commissioner),
        actor(Uuid::new_v4(), Role::HubCoordinator),
        actor(Uuid::new_v4(), Role::Administrator),
        Actor::anonymous(),
    ] {
        assert!(service.held_about(person, Some(&nosy)).is_empty(), "{nosy:?}");
    }
    let query = "query($p: ID!) { held(person: $p) { complaints { id whatHappened complainantName } } }";
    let provider_asks = ask(&world, viewer(provider("cri")), query, json!({ "p": person })).await;
    assert_eq!(provider_asks["data"]["held"]["complaints"], json!([]), "{provider_asks}");
    let advocate_asks = ask(&world, viewer(actor(world.advocate, Role::Advocate)), query, json!({ "p": person })).await;
    assert_eq!(
        advocate_asks["data"]["held"]["complaints"][0]["whatHappened"],
        "Dose cut without a review by Dr Pennyfeather"
    );
}

#[tokio::test]
async fn a_complaint_is_due_for_erasure_once_its_outcome_was_recorded_more_than_the_period_ago() {
    let world = world().await;
    let ids = complaints(&world).await;
    let service = &world.service;
    let outcome_on = service.complaint(ids[0]).unwrap().closed_on.unwrap();
    let rules = RetentionRules { complaints_after_outcome_days: Some(30), ..RetentionRules::default() };
    let day = |days: i64| outcome_on.checked_add(days.days()).unwrap();
    let due = vec![RecordRef { kind: RecordKind::Complaint, id: ids[0] }];
    assert_eq!(service.due_for_retention(day(30), &rules), vec![], "exactly the period: not more than it");
    assert_eq!(service.due_for_retention(day(31), &rules), due, "the open ones never");
    assert_eq!(service.due_for_retention(day(10_000), &rules), due);
    assert_eq!(
        service.due_for_retention(day(31), &RetentionRules { complaints_after_outcome_days: None, ..rules }),
        vec![]
    );
    heard_api::erasure::erase(&world.store, None, &due, None, ErasureReason::RetentionPeriodEnded).await.unwrap();
    assert!(service.caught_up().await);
    assert_eq!(service.due_for_retention(day(31), &rules), vec![], "erased: not due again");
}
