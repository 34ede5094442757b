//! A person's rights over their feedback: attributing items to a person, erasure reaching every
//! view and the search index's files at once, withdrawal within six months, subject access and
//! retention.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use heard_access::{Actor, Consent, Role};
use heard_contracts::Event as _;
use heard_contracts::identity::{AccountCreated, HubAdded, HubKind, ProviderAdded};
use heard_contracts::privacy::{
    ErasureReason, FeedbackAttributed, PersonId, RecordKind, RecordRef, RetentionRules, SubjectErased,
};
use heard_eventstore::{EventStore, ExpectedRevision, ModelStore, NewEvent, StreamName, Upcasters};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::FeedbackService;
use crate::domain::{Channel, NewItem, SpeakerKind};
use crate::search::SearchRequest;

/// Words only the two items of the person erased hold.
const NAME: &str = "Quartermaine";
const PHRASE: &str = "orchard lane shelter";

/// Opens the store in `dir` again, once the tasks of the services stopped over it have let go
/// of it (they drop their handles just after they stop).
async fn reopen(dir: &std::path::Path) -> EventStore {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match EventStore::open(dir, Upcasters::new()) {
            Err(heard_eventstore::Error::Locked) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            opened => return opened.unwrap(),
        }
    }
}

struct World {
    dir: tempfile::TempDir,
    store: EventStore,
    service: FeedbackService,
    coordinator: Uuid,
}

pub(crate) async fn put<E: heard_contracts::Event + serde::Serialize>(store: &EventStore, id: &str, data: &E) {
    let stream = StreamName::of(E::CATEGORY, id).unwrap();
    let event = NewEvent::new(E::TYPE, E::VERSION, data).unwrap();
    store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    for (hub, name) in [("arun", "Arun"), ("crawley", "Crawley")] {
        let added = HubAdded { hub: hub.into(), name: name.into(), kind: HubKind::Hub, area: "West Sussex".into() };
        put(&store, hub, &added).await;
    }
    put(&store, "cri", &ProviderAdded { provider: "cri".into(), name: "CRI".into() }).await;
    let coordinator = Uuid::new_v4();
    let account = AccountCreated {
        account: coordinator,
        roles: BTreeSet::from([Role::HubCoordinator]),
        hubs: BTreeSet::from(["arun".to_owned()]),
        provider: None,
        must_change_password: false,
        created_by: None,
    };
    put(&store, &coordinator.to_string(), &account).await;
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let service = FeedbackService::open(store.clone(), dir.path(), &models).await.unwrap();
    World { dir, store, service, coordinator }
}

fn actor(account: Uuid, role: Role, hubs: &[&str], provider: Option<&str>) -> Actor {
    Actor {
        account: Some(account),
        roles: BTreeSet::from([role]),
        hubs: hubs.iter().map(|hub| (*hub).to_owned()).collect(),
        provider: provider.map(str::to_owned),
    }
}

impl World {
    fn coordinator(&self) -> Actor {
        actor(self.coordinator, Role::HubCoordinator, &["arun"], None)
    }

    /// Logs an item of Arun's said on `said_on`, shareable with commissioners, as the coordinator.
    async fn log(&self, text: &str, said_on: &str, person: Option<PersonId>) -> Uuid {
        let new = NewItem {
            hub: "arun".into(),
            channel: Some(Channel::DropIn),
            speaker: Some(SpeakerKind::Pseudonymous),
            speaker_name: Some("Jay".into()),
            consent: Some(Consent::Commissioners),
            said_on: said_on.into(),
            text: text.into(),
            provider: Some("cri".into()),
            ..NewItem::default()
        };
        self.service.log_for(self.coordinator, new, person).await.unwrap().logged.item
    }

    async fn ask(&self, query: &str, who: Option<&Actor>) -> Value {
        let schema = async_graphql::Schema::build(
            crate::graphql::FeedbackQuery::default(),
            crate::graphql::FeedbackMutation::default(),
            async_graphql::EmptySubscription,
        )
        .data(self.service.clone())
        .data(self.store.clone())
        .finish();
        let viewer = heard_api::Viewer {
            actor: who.cloned().unwrap_or_else(Actor::anonymous),
            ..heard_api::Viewer::anonymous()
        };
        let response = schema.execute(async_graphql::Request::new(query).data(viewer)).await;
        serde_json::to_value(&response).unwrap()
    }

    fn search(&self, who: &Actor, text: &str) -> (usize, Vec<Uuid>, Vec<(String, String, u64)>) {
        let request = SearchRequest { text: text.into(), limit: 50, ..SearchRequest::default() };
        let (outcome, hits) = self.service.search(who, &request).unwrap();
        (outcome.total, hits.iter().map(|hit| hit.item.logged.item).collect(), outcome.facets)
    }

    async fn searchable(&self) {
        let head = self.store.head().position;
        assert!(self.service.wait_searchable(head, Duration::from_secs(10)).await, "never became searchable");
    }

    async fn erase(&self, person: Option<PersonId>, items: &[Uuid]) {
        let records: Vec<RecordRef> =
            items.iter().map(|id| RecordRef { kind: RecordKind::FeedbackItem, id: *id }).collect();
        heard_api::erasure::erase(&self.store, person, &records, Some(self.coordinator), ErasureReason::PersonAsked)
            .await
            .unwrap();
    }

    /// Waits as `eraseSubject` does before it answers: until every model and the search index
    /// have applied everything up to the head.
    async fn wait_for_erasure(&self) {
        let erased_at = self.store.head().position;
        assert!(self.store.models_reached(erased_at, Duration::from_secs(10)).await, "the erasure was not applied");
    }
}

fn code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

fn field(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["field"].as_str()
}

fn attribute(item: Uuid, person: Option<&str>) -> String {
    match person {
        Some(person) => {
            format!(r#"mutation {{ attributeFeedback(itemId: "{item}", person: "{person}") {{ id person }} }}"#)
        }
        None => format!(r#"mutation {{ attributeFeedback(itemId: "{item}") {{ id person }} }}"#),
    }
}

/// Every file under `dir`, as bytes, with its path.
fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                found.push((path, bytes));
            }
        }
    }
    found
}

/// The files of the index directory that hold `word` (any case), raw.
fn index_files_holding(service: &FeedbackService, word: &str) -> Vec<std::path::PathBuf> {
    let wanted = word.to_lowercase().into_bytes();
    let wanted_as_written = word.as_bytes().to_vec();
    files_under(service.search_index().dir())
        .into_iter()
        .filter(|(_, bytes)| {
            bytes.windows(wanted.len()).any(|window| window == wanted.as_slice() || window == wanted_as_written)
        })
        .map(|(path, _)| path)
        .collect()
}

#[tokio::test]
async fn a_hub_coordinator_attributes_items_to_a_person_and_attributing_again_moves_the_item() {
    let world = world().await;
    let coordinator = world.coordinator();
    let first = world.log("The clinic closes too early", "2026-01-05", None).await;
    let second = world.log("Nobody answers the phone", "2026-01-06", None).await;

    let answer = world.ask(&attribute(first, None), Some(&coordinator)).await;
    assert!(answer["errors"].is_null(), "{answer}");
    let person = answer["data"]["attributeFeedback"]["person"].as_str().expect("a new person").to_owned();
    let answer = world.ask(&attribute(second, Some(&person)), Some(&coordinator)).await;
    assert_eq!(answer["data"]["attributeFeedback"]["person"], json!(person), "{answer}");

    // Logged for the same person in one go.
    let query = format!(
        r#"mutation {{ logFeedback(input: {{ hub: "arun", text: "The waiting room is cold", channel: DROP_IN,
            saidOn: "2026-01-07", speaker: ANONYMOUS, consent: HUB, person: "{person}" }}) {{ id person erased }} }}"#
    );
    let answer = world.ask(&query, Some(&coordinator)).await;
    assert_eq!(answer["data"]["logFeedback"]["person"], json!(person), "{answer}");
    assert_eq!(answer["data"]["logFeedback"]["erased"], json!(false), "{answer}");

    // Attributing the second item to another person moves it there.
    let other = world.ask(&attribute(first, None), Some(&coordinator)).await;
    let other_person = other["data"]["attributeFeedback"]["person"].as_str().unwrap().to_owned();
    assert_ne!(other_person, person, "left out, the person is a new one");
    let moved = world.ask(&attribute(second, Some(&other_person)), Some(&coordinator)).await;
    assert_eq!(moved["data"]["attributeFeedback"]["person"], json!(other_person), "{moved}");
    let person = PersonId(person.parse().unwrap());
    let held: Vec<String> =
        world.service.held_about(person, None).into_iter().map(|item| item.id.0).collect::<Vec<_>>();
    assert_eq!(held.len(), 1, "only the item logged for them stays theirs: {held:?}");

    // The same person again changes nothing in the log.
    let head = world.store.head().position;
    let again = world.ask(&attribute(second, Some(&other_person)), Some(&coordinator)).await;
    assert!(again["errors"].is_null(), "{again}");
    assert_eq!(world.store.head().position, head, "nothing appended");

    // Outside the hub, the person never shows.
    world.service.share(second, world.coordinator).await.unwrap();
    let commissioner = actor(Uuid::new_v4(), Role::Commissioner, &[], None);
    let seen =
        world.ask(&format!(r#"{{ feedbackItem(id: "{second}") {{ person text }} }}"#), Some(&commissioner)).await;
    assert!(seen["data"]["feedbackItem"]["text"].is_string(), "{seen}");
    assert!(seen["data"]["feedbackItem"]["person"].is_null(), "{seen}");
}

#[tokio::test]
async fn only_the_items_hub_coordinators_may_attribute_it_and_a_refusal_appends_nothing() {
    let world = world().await;
    let item = world.log("The clinic closes too early", "2026-01-05", None).await;
    world.service.share(item, world.coordinator).await.unwrap();
    let refused = [
        ("a member of the hub", Some(actor(Uuid::new_v4(), Role::HubMember, &["arun"], None)), "FORBIDDEN"),
        (
            "another hub's coordinator",
            Some(actor(Uuid::new_v4(), Role::HubCoordinator, &["crawley"], None)),
            "NOT_FOUND",
        ),
        (
            "the provider it is about",
            Some(actor(Uuid::new_v4(), Role::ProviderResponder, &[], Some("cri"))),
            "NOT_FOUND",
        ),
        ("a commissioner", Some(actor(Uuid::new_v4(), Role::Commissioner, &[], None)), "NOT_FOUND"),
        ("someone not logged in", None, "UNAUTHENTICATED"),
    ];
    for (who, asker, wanted) in refused {
        let head = world.store.head().position;
        let answer = world.ask(&attribute(item, None), asker.as_ref()).await;
        assert_eq!(code(&answer), Some(wanted), "{who}: {answer}");
        assert!(answer["data"].is_null(), "{who}: {answer}");
        let appended = world.store.read_stream_to_end(&StreamName::of("feedback", item).unwrap()).await.unwrap();
        assert!(
            appended.iter().all(|event| event.event_type != FeedbackAttributed::TYPE),
            "{who}: nothing attributed (head was {head})"
        );
    }
    let missing = world.ask(&attribute(Uuid::new_v4(), None), Some(&world.coordinator())).await;
    assert_eq!(code(&missing), Some("NOT_FOUND"), "{missing}");
}

#[tokio::test]
async fn an_unknown_or_erased_person_is_refused_naming_person_and_nothing_is_logged() {
    let world = world().await;
    let coordinator = world.coordinator();
    let item = world.log("The clinic closes too early", "2026-01-05", None).await;
    let stranger = Uuid::new_v4();
    let answer = world.ask(&attribute(item, Some(&stranger.to_string())), Some(&coordinator)).await;
    assert_eq!((code(&answer), field(&answer)), (Some("BAD_USER_INPUT"), Some("person")), "{answer}");
    let answer = world.ask(&attribute(item, Some("not-an-id")), Some(&coordinator)).await;
    assert_eq!((code(&answer), field(&answer)), (Some("BAD_USER_INPUT"), Some("person")), "{answer}");

    let log_for = |person: &str| {
        format!(
            r#"mutation {{ logFeedback(input: {{ hub: "arun", text: "Words for nobody", channel: DROP_IN,
                saidOn: "2026-01-07", speaker: ANONYMOUS, consent: HUB, person: "{person}" }}) {{ id }} }}"#
        )
    };
    let items_before = world.service.read(|state| state.items.len());
    let answer = world.ask(&log_for(&stranger.to_string()), Some(&coordinator)).await;
    assert_eq!((code(&answer), field(&answer)), (Some("BAD_USER_INPUT"), Some("input.person")), "{answer}");
    assert_eq!(world.service.read(|state| state.items.len()), items_before, "no item logged");

    // Once the person is erased, nothing more is recorded about them.
    let attributed = world.service.attribute(item, world.coordinator, None).await.unwrap();
    let person = attributed.person.unwrap();
    world.erase(Some(person), &[item]).await;
    assert!(world.service.caught_up().await);
    let other = world.log("Another point", "2026-01-08", None).await;
    let answer = world.ask(&attribute(other, Some(&person.to_string())), Some(&coordinator)).await;
    assert_eq!((code(&answer), field(&answer)), (Some("BAD_USER_INPUT"), Some("person")), "{answer}");
    assert!(answer["errors"][0]["message"].as_str().unwrap().contains("erased"), "{answer}");
    let answer = world.ask(&log_for(&person.to_string()), Some(&coordinator)).await;
    assert_eq!((code(&answer), field(&answer)), (Some("BAD_USER_INPUT"), Some("input.person")), "{answer}");
    assert_eq!(world.service.read(|state| state.items.len()), items_before + 1, "only `other` was logged");
}

#[tokio::test]
async fn after_an_erasure_no_query_list_queue_or_search_finds_the_items_and_no_index_file_holds_their_words() {
    let world = world().await;
    let coordinator = world.coordinator();
    let member = actor(Uuid::new_v4(), Role::HubMember, &["arun"], None);
    let first = world.log(&format!("{NAME} at the chemist made me queue in the rain"), "2026-01-05", None).await;
    let person = world.service.attribute(first, world.coordinator, None).await.unwrap().person.unwrap();
    let second =
        world.log(&format!("They sent me to the {PHRASE} and {NAME} was there"), "2026-01-06", Some(person)).await;
    let kept = world.log("The chemist opens late on Sundays", "2026-01-07", None).await;
    world.searchable().await;
    assert!(
        !index_files_holding(&world.service, NAME).is_empty(),
        "the words are in the index before: the check can fail"
    );
    assert_eq!(world.search(&member, NAME).0, 2);

    world.erase(Some(person), &[first, second]).await;
    let erased_at = Instant::now();
    loop {
        let holding = index_files_holding(&world.service, NAME);
        let phrase = index_files_holding(&world.service, "orchard");
        if holding.is_empty() && phrase.is_empty() {
            break;
        }
        assert!(erased_at.elapsed() < Duration::from_secs(1), "still in {holding:?} {phrase:?} after 1 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // As `eraseSubject` waits before it answers: every model and the search index.
    world.wait_for_erasure().await;

    for (who, asker) in [("the coordinator", &coordinator), ("a member", &member)] {
        for search in [NAME, "quartermane", &format!("\"{PHRASE}\""), &format!("text_hub:{NAME}"), "orchard", "rain"] {
            let (total, hits, _) = world.search(asker, search);
            assert_eq!(total, 0, "{who} searching {search:?} finds nothing");
            assert!(hits.is_empty(), "{who}: {search:?}");
        }
        let (total, hits, facets) = world.search(asker, "");
        assert_eq!((total, hits), (1, vec![kept]), "{who}: only the item kept is listed");
        let hubs: u64 = facets.iter().filter(|(dimension, _, _)| dimension == "hub").map(|(_, _, n)| n).sum();
        assert_eq!(hubs, 1, "{who}: search counts only what it can find");
    }
    for item in [first, second] {
        let answer = world.ask(&format!(r#"{{ feedbackItem(id: "{item}") {{ id text }} }}"#), Some(&coordinator)).await;
        assert_eq!(code(&answer), Some("NOT_FOUND"), "{answer}");
    }
    let listed = world.ask("{ feedbackItems(first: 50) { edges { node { id } } } }", Some(&coordinator)).await;
    assert_eq!(listed["data"]["feedbackItems"]["edges"], json!([{ "node": { "id": kept.to_string() } }]), "{listed}");
    let queue =
        world.ask(r#"{ moderationQueue(hub: "arun") { totalCount edges { node { id } } } }"#, Some(&coordinator)).await;
    assert_eq!(queue["data"]["moderationQueue"]["totalCount"], json!(1), "{queue}");
    let csv = world.ask(r#"{ searchFeedbackCsv(query: "") }"#, Some(&coordinator)).await;
    assert!(!csv.to_string().contains(NAME) && csv.to_string().contains("Sundays"), "{csv}");

    // The facts stay, the words are gone, in the model too.
    let facts = world.service.read(|state| state.items.get(&first).cloned()).unwrap();
    assert!(facts.erased && facts.text.is_none() && facts.speaker.name.is_none());
    assert_eq!(facts.logged.said_on, "2026-01-05");
    let held = world.service.held_about(person, None);
    assert_eq!(held.len(), 2);
    assert!(held.iter().all(|item| item.erased && item.text.is_none() && item.speaker_name.is_none()), "{held:?}");

    // A restart rebuilds nothing of the words.
    let World { dir: kept_dir, store, service, .. } = world;
    let dir = kept_dir.path().to_owned();
    store.close().await.unwrap();
    service.stopped().await;
    drop((service, store));
    let store = reopen(&dir).await;
    let models = ModelStore::open(&dir.join("models")).unwrap();
    let service = FeedbackService::open(store.clone(), &dir, &models).await.unwrap();
    assert!(index_files_holding(&service, NAME).is_empty());
    assert!(service.read(|state| state.items.get(&second).is_some_and(|item| item.erased)));
}

// The purge runs on a blocking thread and waits on this guard: holding it across awaits is the
// point of the test.
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_logged_while_the_index_purges_an_erasure_is_applied_at_once_and_the_erasure_answers_only_once_purged()
{
    let world = world().await;
    let first = world.log(&format!("{NAME} at the chemist made me queue in the rain"), "2026-01-05", None).await;
    world.searchable().await;
    let held = world.service.search_index().hold_purges();
    world.erase(None, &[first]).await;
    let erased_at = world.store.head().position;

    // The purge cannot start, yet logging goes on: the new item is in the model when logging
    // answers (it used to wait behind the purge).
    let later = world.log("The needle exchange moved next to the library", "2026-01-08", None).await;
    assert!(world.service.read(|state| state.items.contains_key(&later)), "the new item waited for the purge");
    // The erasure is not done while any file of the index may still hold the words.
    assert!(!world.store.models_reached(erased_at, Duration::from_millis(300)).await);

    drop(held);
    assert!(world.store.models_reached(world.store.head().position, Duration::from_secs(30)).await);
    assert!(index_files_holding(&world.service, NAME).is_empty(), "the erased words are gone from the index");
    let member = actor(Uuid::new_v4(), Role::HubMember, &["arun"], None);
    assert_eq!(world.search(&member, "library").1, vec![later]);
}

#[tokio::test]
async fn new_personal_text_for_an_erased_item_is_refused_naming_its_field() {
    let world = world().await;
    let item = world.log("The chemist made me queue outside", "2026-01-05", None).await;
    world.service.flag_safeguarding(item, world.coordinator, world.coordinator).await.unwrap();
    world.erase(None, &[item]).await;
    assert!(world.service.caught_up().await);

    let refused = |result: heard_api::ApiResult<_>, wanted: &str| match result {
        Err(heard_api::ApiError::BadUserInput { field, message }) => {
            assert_eq!(field, wanted);
            assert!(message.contains("erased"), "{message}");
        }
        Err(other) => panic!("{wanted}: {other:?}"),
        Ok(_) => panic!("{wanted}: accepted"),
    };
    refused(world.service.redact(item, world.coordinator, &["chemist".into()]).await.map(|_| ()), "passages");
    refused(world.service.edit(item, world.coordinator, "New words", &[]).await.map(|_| ()), "text");
    let action = crate::domain::safeguarding::NewAction {
        step: Some(heard_contracts::feedback::SafeguardingStep::SpokeToPerson),
        on: None,
        notes: Some("Spoke to them about the queue".into()),
    };
    refused(world.service.record_safeguarding_action(item, world.coordinator, action).await.map(|_| ()), "notes");
    let shared = world.service.share(item, world.coordinator).await;
    assert!(matches!(shared, Err(heard_api::ApiError::Conflict(_))), "{shared:?}");
}

#[tokio::test]
async fn a_withdrawal_within_six_months_of_speaking_erases_the_item_and_a_later_one_only_hides_it() {
    let world = world().await;
    let inside = world.log(&format!("{NAME} said the script was lost"), "2025-01-31", None).await;
    let outside = world.log("The script was lost again", "2025-01-31", None).await;
    world.searchable().await;
    let six_months_on = jiff::civil::date(2025, 7, 31);

    let erased = world.service.change_consent_on(inside, world.coordinator, None, six_months_on).await.unwrap();
    assert!(erased.erased, "six months to the day still erases");
    assert!(erased.text.is_none());
    let events = world.store.read_all(0, 100_000).await.unwrap();
    let types: Vec<&str> = events.iter().map(|event| event.event_type.as_str()).collect();
    let changed = types.iter().rposition(|t| *t == "ConsentChanged").unwrap();
    let erasure = types.iter().rposition(|t| *t == SubjectErased::TYPE).expect("an erasure was appended");
    assert!(changed < erasure, "the consent change comes first: {types:?}");
    assert!(index_files_holding(&world.service, NAME).is_empty(), "gone from the index when the answer comes");

    let hidden = world
        .service
        .change_consent_on(outside, world.coordinator, None, six_months_on.tomorrow().unwrap())
        .await
        .unwrap();
    assert!(!hidden.erased, "a day later it is only hidden");
    assert_eq!(hidden.consent, None);
    assert_eq!(hidden.hub_text(), None);
    assert!(hidden.text.is_some(), "its words are still held");

    // A disclosure of risk is never lost by a withdrawal: it is only hidden.
    let disclosed = world.log("Words of a disclosure", "2025-01-31", None).await;
    world.service.flag_safeguarding(disclosed, world.coordinator, world.coordinator).await.unwrap();
    let flagged = world.service.change_consent_on(disclosed, world.coordinator, None, six_months_on).await.unwrap();
    assert!(!flagged.erased && flagged.text.is_some(), "a flagged item is hidden, not erased");

    // Narrowing never erases.
    let narrowed = world.log("Narrowed only", "2025-01-31", None).await;
    let item = world.service.change_consent_on(narrowed, world.coordinator, Some(Consent::Hub), six_months_on).await;
    assert!(!item.unwrap().erased);
}

#[tokio::test]
async fn a_withdrawal_cut_short_before_its_erasure_is_erased_when_the_service_opens_again_and_never_a_disclosure() {
    let world = world().await;
    let today = crate::service::today();
    let recent = today.checked_sub(jiff::Span::new().months(1)).unwrap().to_string();
    let long_ago = today.checked_sub(jiff::Span::new().months(7)).unwrap().to_string();
    let inside = world.log(&format!("{NAME} said the {PHRASE} was full"), &recent, None).await;
    let outside = world.log("Hartwell said the bus stop moved", &long_ago, None).await;
    let disclosed = world.log("Fenwright disclosed a risk at the hostel", &recent, None).await;
    world.service.flag_safeguarding(disclosed, world.coordinator, world.coordinator).await.unwrap();
    world.searchable().await;
    assert!(!index_files_holding(&world.service, NAME).is_empty(), "the words are indexed before");

    // Each withdrawal as `change_consent` appends it, and then the process stops: no erasure.
    for item in [inside, outside, disclosed] {
        let changed = heard_contracts::feedback::ConsentChanged { consent: None, by: world.coordinator };
        let event = NewEvent::new(heard_contracts::feedback::ConsentChanged::TYPE, 1, &changed).unwrap();
        let stream = StreamName::of(crate::domain::FEEDBACK, item).unwrap();
        world.store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
    }
    world.searchable().await;
    let hidden = world.service.item(inside).unwrap();
    assert!(hidden.consent.is_none() && !hidden.erased && hidden.text.is_some(), "hidden, not erased: {hidden:?}");
    assert_eq!(world.service.withdrawals_not_erased(), vec![(inside, world.coordinator)]);

    // Opened again, as Heard starts: the withdrawal within six months is finished.
    let World { dir: kept_dir, store, service, coordinator } = world;
    let dir = kept_dir.path().to_owned();
    store.close().await.unwrap();
    service.stopped().await;
    drop((service, store));
    let store = reopen(&dir).await;
    let models = ModelStore::open(&dir.join("models")).unwrap();
    let service = FeedbackService::open(store.clone(), &dir, &models).await.unwrap();
    assert_eq!(service.finish_withdrawals().await.unwrap(), 1);
    let erased = service.item(inside).unwrap();
    assert!(erased.erased && erased.text.is_none(), "{erased:?}");
    assert!(index_files_holding(&service, NAME).is_empty(), "no file of the index holds the words");
    assert!(index_files_holding(&service, "orchard").is_empty());
    let erasures = store.read_category("erasure", 0, 10).await.unwrap();
    assert_eq!(erasures.len(), 1);
    let erasure: SubjectErased = erasures[0].decode().unwrap();
    assert_eq!(erasure.records, vec![RecordRef { kind: RecordKind::FeedbackItem, id: inside }]);
    assert_eq!(erasure.reason, ErasureReason::WithdrewWithinSixMonths);
    assert_eq!(erasure.asked_by, Some(coordinator), "asked by whoever recorded the withdrawal");

    // A withdrawal after six months only hides; a disclosure of risk is never lost.
    for kept in [outside, disclosed] {
        let item = service.item(kept).unwrap();
        assert!(!item.erased && item.text.is_some() && item.consent.is_none(), "{item:?}");
    }
    // Finished once: a second start erases nothing more.
    assert_eq!(service.finish_withdrawals().await.unwrap(), 0);
    assert_eq!(store.read_category("erasure", 0, 10).await.unwrap().len(), 1);
}

#[test]
fn the_withdrawal_window_is_six_calendar_months_from_the_day_it_was_said() {
    use crate::service::within_withdrawal_window as within;
    let day = |text: &str| text.parse::<jiff::civil::Date>().unwrap();
    assert!(within("2025-03-15", day("2025-03-15")));
    assert!(within("2025-03-15", day("2025-09-15")));
    assert!(!within("2025-03-15", day("2025-09-16")));
    assert!(within("2025-08-31", day("2026-02-28")), "the end of a shorter month counts");
    assert!(!within("2025-08-31", day("2026-03-01")));
    assert!(!within("not a day", day("2025-03-15")));
}

#[tokio::test]
async fn retention_lists_items_never_shared_and_said_more_than_the_period_ago_and_not_erased() {
    let world = world().await;
    let old = world.log("Old words never shared", "2024-01-01", None).await;
    let old_shared = world.log("Old words shared", "2024-01-01", None).await;
    world.service.share(old_shared, world.coordinator).await.unwrap();
    let on_the_day = world.log("Said exactly the period ago", "2024-01-02", None).await;
    let recent = world.log("Recent words", "2025-06-01", None).await;
    let old_erased = world.log("Old words erased", "2023-06-01", None).await;
    world.erase(None, &[old_erased]).await;
    assert!(world.service.caught_up().await);

    let today = jiff::civil::date(2025, 12, 31);
    let rules = RetentionRules { feedback_not_shared_days: Some(729), ..RetentionRules::default() };
    // 2024-01-02 is 729 days before 2025-12-31: not more than the period.
    let due = world.service.due_for_retention(today, &rules);
    assert_eq!(due, vec![RecordRef { kind: RecordKind::FeedbackItem, id: old }]);
    assert!(!due.iter().any(|record| [on_the_day, recent, old_shared, old_erased].contains(&record.id)));
    let keep_all = RetentionRules { feedback_not_shared_days: None, ..RetentionRules::default() };
    assert!(world.service.due_for_retention(today, &keep_all).is_empty());
}

#[tokio::test]
async fn subject_access_gives_each_asker_only_the_persons_items_they_may_see_in_the_hub() {
    let world = world().await;
    let first = world.log("The clinic closes too early", "2026-01-05", None).await;
    let person = world.service.attribute(first, world.coordinator, None).await.unwrap().person.unwrap();
    let redacted = world.log("Jay was made to wait at the clinic", "2026-01-06", Some(person)).await;
    world.service.redact(redacted, world.coordinator, &["Jay".into()]).await.unwrap();
    world.service.change_consent(redacted, world.coordinator, Some(Consent::Hub)).await.unwrap();
    let _not_theirs = world.log("Someone else's words", "2026-01-07", None).await;

    let held = world.service.held_about(person, Some(&world.coordinator()));
    assert_eq!(
        held.iter().map(|item| item.id.0.clone()).collect::<Vec<_>>(),
        [first.to_string(), redacted.to_string()]
    );
    let second = serde_json::to_value(&held[1]).unwrap();
    assert_eq!(second["redactedText"], json!("[redacted] was made to wait at the clinic"), "{second}");
    assert_eq!(second["speakerName"], json!("Jay"));
    let history: Vec<&str> =
        second["consentHistory"].as_array().unwrap().iter().map(|step| step["consent"].as_str().unwrap()).collect();
    assert_eq!(history, ["COMMISSIONERS", "HUB"], "{second}");
    assert_eq!(second["consentHistory"][1]["by"], json!(world.coordinator.to_string()));
    assert_eq!(second["safeguarding"], Value::Null, "no disclosure is with this coordinator");
    assert_eq!(second["erased"], json!(false));

    for nosy in [
        actor(Uuid::new_v4(), Role::HubCoordinator, &["crawley"], None),
        actor(Uuid::new_v4(), Role::Commissioner, &[], None),
        actor(Uuid::new_v4(), Role::ProviderResponder, &[], Some("cri")),
        Actor::anonymous(),
    ] {
        assert!(world.service.held_about(person, Some(&nosy)).is_empty(), "{nosy:?}");
    }
    assert_eq!(world.service.held_about(person, None).len(), 2, "the operator gets everything");

    // The GraphQL part answers the same shape.
    let schema = async_graphql::Schema::build(
        QueryHeld { person },
        async_graphql::EmptyMutation,
        async_graphql::EmptySubscription,
    )
    .data(world.service.clone())
    .finish();
    let viewer = heard_api::Viewer { actor: world.coordinator(), ..heard_api::Viewer::anonymous() };
    let query = "{ feedbackItems { id hub saidOn channel text redactedText speakerName themes { id name } consentHistory { consent at by } sharedAt safeguarding erased } }";
    let answer = serde_json::to_value(schema.execute(async_graphql::Request::new(query).data(viewer)).await).unwrap();
    assert_eq!(answer["data"]["feedbackItems"], serde_json::to_value(&held).unwrap(), "{answer}");
}

/// The feedback part as the gateway merges it, as a root of its own.
type QueryHeld = crate::held::FeedbackHeld;
