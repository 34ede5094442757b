//! The model kept on disk: it answers as the one rebuilt from the log, holds no words in the
//! clear, and an erased speaker's words are gone at once, running and after a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use heard_access::{Actor, Role};
use heard_contracts::feedback::{FeedbackLogged, FeedbackRedacted, FeedbackShared, ThemeAdded};
use heard_contracts::identity::{AccountCreated, HubAdded, ProviderAdded};
use heard_eventstore::{EventStore, ExpectedRevision, ModelStore, NewEvent, StreamName, SubjectId, Upcasters};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::decision::{Evidence, NewDecision};
use crate::model::State;
use crate::report::Scope;
use crate::service::CommissioningService;

/// Words nobody but the people allowed may read, and never from a file of the model store.
const SPEAKER: &str = "Quill Marwood";

struct World {
    store: EventStore,
    service: CommissioningService,
}

struct Seeded {
    commissioner: Uuid,
    /// Each item's speaker, in the order logged.
    items: Vec<(Uuid, SubjectId)>,
}

async fn open(dir: &Path, models: &ModelStore) -> World {
    let store = EventStore::open(dir, Upcasters::new()).unwrap();
    let service =
        CommissioningService::open(store.clone(), heard_workdays::Calendar::england_and_wales(), models).await.unwrap();
    World { store, service }
}

async fn close(world: World) {
    world.store.close().await.unwrap();
    world.service.stopped().await;
}

async fn put<E: heard_contracts::Event>(store: &EventStore, id: impl std::fmt::Display, data: Value) {
    put_personal::<E>(store, id, data, None).await;
}

async fn put_personal<E: heard_contracts::Event>(
    store: &EventStore,
    id: impl std::fmt::Display,
    data: Value,
    personal: Option<(SubjectId, Value)>,
) {
    let stream = StreamName::of(E::CATEGORY, id).unwrap();
    let mut event = NewEvent::new(E::TYPE, E::VERSION, &data).unwrap();
    if let Some((subject, fields)) = personal {
        event = event.with_personal(subject, &fields).unwrap();
    }
    store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
}

/// A hub, a provider, a theme, a commissioner; six items about waiting shared with
/// commissioners (one redacted first, two public), one kept to the hub; a decision linked to an
/// item, and an item answered "not acted on".
async fn seed(world: &World) -> Seeded {
    let store = &world.store;
    let commissioner = Uuid::new_v4();
    put::<HubAdded>(store, "arun", json!({ "hub": "arun", "name": "Arun", "kind": "hub", "area": "West Sussex" }))
        .await;
    put::<ProviderAdded>(store, "cri", json!({ "provider": "cri", "name": "CRI" })).await;
    put::<ThemeAdded>(store, "waiting", json!({ "theme": "waiting", "name": "Waiting times", "parent": null })).await;
    let account = json!({ "account": commissioner, "roles": ["commissioner"], "hubs": [], "provider": null,
        "must_change_password": false, "created_by": null });
    put::<AccountCreated>(store, commissioner, account).await;
    let mut items = Vec::new();
    for n in 0..7 {
        let item = Uuid::new_v4();
        let speaker = SubjectId::new();
        let consent = match n {
            0..=3 => "commissioners",
            4 | 5 => "public",
            _ => "hub",
        };
        let logged = json!({ "item": item, "hub": "arun", "provider": "cri", "themes": ["waiting"],
            "consent": consent, "said_on": format!("2026-03-{:02}", n + 2) });
        let words = json!({ "text": format!("{SPEAKER} waited {} weeks for a script", n + 3) });
        put_personal::<FeedbackLogged>(store, item, logged, Some((speaker, words))).await;
        if n == 0 {
            let redacted = json!({ "text": format!("{SPEAKER}'s keyworker left; waited [redacted] weeks") });
            let data = json!({ "by": commissioner, "passages": 1 });
            put_personal::<FeedbackRedacted>(store, item, data, Some((speaker, redacted))).await;
        }
        if n < 6 {
            put::<FeedbackShared>(store, item, json!({ "by": commissioner })).await;
        }
        items.push((item, speaker));
    }
    assert!(world.service.caught_up().await);
    let today = heard_api::today();
    let decision = world
        .service
        .propose(NewDecision {
            decision: Uuid::new_v4(),
            title: "Weekend prescribing clinic".into(),
            service_area: "Prescribing".into(),
            decided_by: "DAAT board".into(),
            decision_date: today,
            ladder_rung: 4,
            involvement: "Asked at two forums".into(),
            proposed_by: commissioner,
        })
        .await
        .unwrap();
    let evidence = Evidence::FeedbackItem { item: items[1].0 };
    world.service.link_evidence(decision.id, commissioner, evidence, "the wait is the problem", today).await.unwrap();
    world.service.answer(items[2].0, commissioner, Some("the budget is spent this year"), today).await.unwrap();
    Seeded { commissioner, items }
}

fn commissioner(account: Uuid) -> Actor {
    Actor { account: Some(account), roles: BTreeSet::from([Role::Commissioner]), ..Actor::default() }
}

/// What a few queries answer, as JSON: the report for a commissioner and the public one, each
/// decision as it stands and replayed from the log (with its linked items' words then), and
/// every item's words as a commissioner may read them.
async fn answers(world: &World, seeded: &Seeded) -> Value {
    let service = &world.service;
    let actor = commissioner(seeded.commissioner);
    let report = service.report(&actor, &Scope::default(), false);
    let public = service.report(&Actor::anonymous(), &Scope::default(), true);
    let decisions: Vec<_> = service.read(|state| state.newest_first().cloned().collect());
    let mut replayed = Vec::new();
    for decision in &decisions {
        let at = service.read(|state| state.position);
        let then: std::sync::Arc<State> = service.replay(at, None).await.unwrap();
        let words: BTreeMap<String, Option<String>> = decision
            .links
            .iter()
            .filter_map(|link| link.evidence.feedback_item())
            .map(|item| {
                (item.to_string(), then.items.get(&item).and_then(|found| found.text_for(&actor, &world.store)))
            })
            .collect();
        replayed.push(json!({ "decision": then.decisions.get(&decision.id), "words": words }));
    }
    let words: BTreeMap<String, Option<String>> = service.read(|state| {
        seeded
            .items
            .iter()
            .map(|(item, _)| {
                let text = state.items.get(item).and_then(|found| found.text_for(&actor, &world.store));
                (item.to_string(), text)
            })
            .collect()
    });
    json!({
        "report": report,
        "public": public,
        "csv": report.to_csv(),
        "decisions": decisions,
        "replayed": replayed,
        "words": words,
    })
}

fn mentions(answers: &Value, words: &str) -> bool {
    answers.to_string().contains(words)
}

#[tokio::test]
async fn a_model_loaded_from_what_it_saved_answers_exactly_as_one_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let world = open(dir.path(), &models).await;
    let seeded = seed(&world).await;
    let first = answers(&world, &seeded).await;
    assert!(mentions(&first, SPEAKER), "the report shows the shared words: {first}");
    assert!(mentions(&first, "[redacted]"), "the redacted version is the one shown");
    assert!(!mentions(&first, "waited 9 weeks"), "words kept to the hub never reach commissioners");
    close(world).await;

    // After a restart: loaded from what was saved, not rebuilt.
    let saved = models.saved().unwrap();
    let head = saved.iter().find(|(name, _)| name == "commissioning").map(|(_, at)| *at);
    let world = open(dir.path(), &models).await;
    assert_eq!(head, Some(world.store.head().position), "saved as at the head of the log");
    let loaded = models.load::<State>("commissioning", &world.store).await.unwrap();
    assert!(loaded.is_ok(), "the saved model can be loaded: {:?}", loaded.err());
    let after_restart = answers(&world, &seeded).await;
    assert_eq!(after_restart.to_string(), first.to_string());
    close(world).await;

    // After the saved model is forgotten: rebuilt from the log.
    models.forget("commissioning").unwrap();
    let world = open(dir.path(), &models).await;
    let rebuilt = answers(&world, &seeded).await;
    assert_eq!(rebuilt.to_string(), first.to_string());
    close(world).await;
}

#[tokio::test]
async fn destroying_a_speakers_key_makes_their_words_unreadable_at_once_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let world = open(dir.path(), &models).await;
    let seeded = seed(&world).await;
    let actor = commissioner(seeded.commissioner);
    let before = answers(&world, &seeded).await;
    let linked = seeded.items[1].0;
    let answered = seeded.items[2].0;
    assert!(mentions(&before, "waited 4 weeks") && mentions(&before, "waited 5 weeks"));
    let not_acted_on = world.service.report(&actor, &Scope::default(), false).not_acted_on;
    assert!(not_acted_on.iter().any(|answer| answer.item == answered && answer.text.is_some()));

    // Every speaker but the one of the last public item is erased, in the running service.
    for (_, speaker) in &seeded.items[..5] {
        assert!(world.store.forget_subject(*speaker).unwrap());
    }
    let erased = answers(&world, &seeded).await;
    for weeks in 3..=7 {
        assert!(!mentions(&erased, &format!("waited {weeks} weeks")), "erased words still shown: {erased}");
    }
    assert!(!mentions(&erased, "[redacted]"));
    assert!(mentions(&erased, "waited 8 weeks"), "nobody else is erased");
    let text_of = |answers: &Value, item: Uuid| answers["words"][item.to_string()].clone();
    assert_eq!(text_of(&erased, linked), Value::Null, "the linked item's words are gone");
    let not_acted_on = world.service.report(&actor, &Scope::default(), false).not_acted_on;
    let answer = not_acted_on.iter().find(|answer| answer.item == answered).unwrap();
    assert_eq!(answer.text, None, "the reason stays, the words go");
    assert_eq!(answer.reason, "the budget is spent this year");
    close(world).await;

    // After a restart, from what was saved, and rebuilt from the log: the same answers.
    let world = open(dir.path(), &models).await;
    assert_eq!(answers(&world, &seeded).await.to_string(), erased.to_string());
    close(world).await;
    models.forget("commissioning").unwrap();
    let world = open(dir.path(), &models).await;
    assert_eq!(answers(&world, &seeded).await.to_string(), erased.to_string());
    close(world).await;
}

#[tokio::test]
async fn after_close_no_file_of_the_model_store_holds_a_speakers_words() {
    let dir = tempfile::tempdir().unwrap();
    let models_dir = dir.path().join("models");
    {
        let models = ModelStore::open(&models_dir).unwrap();
        let world = open(dir.path(), &models).await;
        let seeded = seed(&world).await;
        assert!(mentions(&answers(&world, &seeded).await, SPEAKER));
        close(world).await;
        assert!(models.saved().unwrap().iter().any(|(name, at)| name == "commissioning" && *at > 0));
    }
    let files = heard_contracts::testing::files_under(&models_dir);
    assert!(files.iter().map(|file| std::fs::metadata(file).unwrap().len()).sum::<u64>() > 0, "something was saved");
    let mut found = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for words in [SPEAKER.as_bytes(), b"for a script", b"keyworker left"] {
            if bytes.windows(words.len()).any(|window| window == words) {
                found.push(file.clone());
            }
        }
    }
    assert!(found.is_empty(), "words in the clear in {found:?}");
}

// --- History copies: answers "as at" a position or a moment ---------------------------------

use crate::service::{HistoryConfig, end_of_day};

async fn open_keeping_history(dir: &Path, models: &ModelStore, every: u64) -> World {
    let store = EventStore::open(dir, Upcasters::new()).unwrap();
    let config = HistoryConfig { every, keep: 64, cached: 4 };
    let service =
        CommissioningService::open_with(store.clone(), heard_workdays::Calendar::england_and_wales(), models, config)
            .await
            .unwrap();
    World { store, service }
}

/// A seeded world in a new directory, keeping a history copy every 4 events (the directory
/// and the model store live as long as the world is used).
async fn seeded_keeping_history() -> (tempfile::TempDir, ModelStore, World, Seeded) {
    let dir = tempfile::tempdir().unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let world = open_keeping_history(dir.path(), &models, 4).await;
    let seeded = seed(&world).await;
    (dir, models, world, seeded)
}

/// `replay(position, until)` as JSON (maps with sorted keys): from the nearest copy, and from the
/// first event of the log.
async fn both_ways(service: &CommissioningService, position: u64, until: Option<i64>) -> (Value, Value) {
    let from_a_copy = serde_json::to_value(&*service.replay(position, until).await.unwrap()).unwrap();
    let from_the_start = serde_json::to_value(service.replay_from_the_start(position, until).await.unwrap()).unwrap();
    (from_a_copy, from_the_start)
}

/// Every event's position and recorded-at time.
async fn moments(store: &EventStore) -> Vec<(u64, i64)> {
    store.read_all(1, 100_000).await.unwrap().iter().map(|event| (event.position, event.recorded_at_micros)).collect()
}

#[tokio::test]
async fn a_state_as_at_a_position_or_a_moment_from_a_history_copy_equals_a_replay_from_the_first_event() {
    let dir = tempfile::tempdir().unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let world = open_keeping_history(dir.path(), &models, 4).await;
    seed(&world).await;
    // More hubs, until there are three copies and the log goes on past the last one. The model
    // copies itself at the end of a batch it applied, so how many copies a run of events leaves
    // depends on how the follower batched them.
    for n in 0..40 {
        let copies = models.history("commissioning").unwrap();
        let last = copies.last().map(|entry| entry.position);
        if copies.len() >= 3 && last < Some(world.store.head().position) {
            break;
        }
        let hub = format!("hub-{n}");
        put::<HubAdded>(&world.store, &hub, json!({ "hub": hub, "name": hub, "kind": "hub", "area": "West Sussex" }))
            .await;
        assert!(world.service.caught_up().await);
    }
    let head = world.store.head().position;
    let copies: Vec<u64> = models.history("commissioning").unwrap().iter().map(|entry| entry.position).collect();
    assert!(copies.len() >= 3, "copies every 4 events of {head}: {copies:?}");
    let (first, last) = (copies[0], *copies.last().unwrap());
    assert!(first > 1 && last < head, "the log goes on past the last copy: {copies:?} of {head}");
    let between = (first + 1..last).find(|at| !copies.contains(at)).unwrap();

    // Before the first copy, exactly at each, between two, and after the last.
    let mut positions = vec![0, 1, first - 1, between, last + 1, head];
    positions.extend(&copies);
    for &position in &positions {
        let found = models.nearest_at_or_before::<State>("commissioning", &world.store, position, None).await.unwrap();
        let expected = copies.iter().rev().find(|at| **at <= position).copied();
        assert_eq!(found.map(|(_, at)| at), expected, "the copy used for position {position}");
        let (from_a_copy, from_the_start) = both_ways(&world.service, position, None).await;
        assert_eq!(from_a_copy.to_string(), from_the_start.to_string(), "as at position {position}");
        assert_eq!(from_a_copy["position"], json!(position), "applied up to {position}");
    }

    // Moments: just before each event that ends a copy, at it, and after everything; days.
    let recorded = moments(&world.store).await;
    let mut untils: Vec<Option<i64>> = Vec::new();
    for &(position, at) in &recorded {
        if copies.contains(&position) || position == 1 || position == between || position == head {
            untils.extend([Some(at - 1), Some(at), Some(at + 1)]);
        }
    }
    let today = heard_api::today();
    untils.extend([end_of_day(today), end_of_day(today.yesterday().unwrap()), Some(i64::MAX), Some(0)]);
    for until in untils {
        for position in [head, between, last] {
            let (from_a_copy, from_the_start) = both_ways(&world.service, position, until).await;
            assert_eq!(from_a_copy.to_string(), from_the_start.to_string(), "as at {position} until {until:?}");
        }
    }
    let (yesterday, _) = both_ways(&world.service, head, end_of_day(today.yesterday().unwrap())).await;
    assert_eq!(yesterday["position"], json!(0), "nothing was recorded before today");

    // After a restart, with the model loaded from what it saved, the copies still answer.
    close(world).await;
    let world = open_keeping_history(dir.path(), &models, 4).await;
    for position in positions {
        let (from_a_copy, from_the_start) = both_ways(&world.service, position, None).await;
        assert_eq!(from_a_copy.to_string(), from_the_start.to_string(), "after a restart, as at {position}");
    }
    close(world).await;

    // The copies hold no words in the clear either.
    drop(models);
    for file in heard_contracts::testing::files_under(&dir.path().join("models")) {
        let bytes = std::fs::read(&file).unwrap();
        for words in [SPEAKER.as_bytes(), b"for a script", b"keyworker left"] {
            assert!(!bytes.windows(words.len()).any(|window| window == words), "words in the clear in {file:?}");
        }
    }
}

/// A state of the same version that does not decode as commissioning's.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct NotAState {
    junk: u8,
}

impl heard_eventstore::Fold for NotAState {
    fn apply(&mut self, _: &heard_eventstore::RecordedEvent) -> heard_eventstore::Result<()> {
        Ok(())
    }
}

impl heard_eventstore::Persist for NotAState {
    const VERSION: u32 = <State as heard_eventstore::Persist>::VERSION;
}

#[tokio::test]
async fn a_damaged_history_copy_is_skipped_for_an_earlier_one_and_the_answer_stays_the_same() {
    use heard_eventstore::model_store::HistoryCopy;
    let dir = tempfile::tempdir().unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let world = open_keeping_history(dir.path(), &models, 6).await;
    seed(&world).await;
    let copies: Vec<u64> = models.history("commissioning").unwrap().iter().map(|entry| entry.position).collect();
    assert!(copies.len() >= 2, "{copies:?}");
    let newest = *copies.last().unwrap();
    let hash = world.store.read_all(newest, 1).await.unwrap()[0].hash;
    let head = world.store.head().position;
    let (_, expected) = both_ways(&world.service, head, None).await;

    // The newest copy is replaced by bytes of the same version that are not a state.
    let junk = HistoryCopy::encode(&NotAState { junk: 7 }, newest, hash, 0).unwrap();
    models.save_history("commissioning", junk, 64).unwrap();
    let found = models.nearest_at_or_before::<State>("commissioning", &world.store, head, None).await.unwrap();
    assert_eq!(found.map(|(_, at)| at), Some(copies[copies.len() - 2]), "the copy before the damaged one");
    let answer = serde_json::to_value(&*world.service.replay(head, None).await.unwrap()).unwrap();
    assert_eq!(answer.to_string(), expected.to_string());

    // Every copy damaged: from the first event.
    for &position in &copies {
        let hash = world.store.read_all(position, 1).await.unwrap()[0].hash;
        let junk = HistoryCopy::encode(&NotAState { junk: 7 }, position, hash, 0).unwrap();
        models.save_history("commissioning", junk, 64).unwrap();
    }
    let found = models.nearest_at_or_before::<State>("commissioning", &world.store, head, None).await.unwrap();
    assert!(found.is_none(), "no copy will do");
    let answer = serde_json::to_value(&*world.service.replay(head - 1, None).await.unwrap()).unwrap();
    let (_, expected) = both_ways(&world.service, head - 1, None).await;
    assert_eq!(answer.to_string(), expected.to_string());
    close(world).await;
}

#[tokio::test]
async fn the_report_as_at_a_day_is_what_it_said_then_and_nothing_logged_after_the_day_is_in_it() {
    let (_dir, _models, world, seeded) = seeded_keeping_history().await;
    let actor = commissioner(seeded.commissioner);
    let scope = Scope::default();
    let today = heard_api::today();
    let service = &world.service;

    // Everything was logged today: as at today it is the report as it stands, as at yesterday
    // it is empty.
    let now = serde_json::to_value(service.report(&actor, &scope, false)).unwrap();
    let as_at_today = serde_json::to_value(service.report_as_at(&actor, &scope, false, today).await.unwrap()).unwrap();
    assert_eq!(as_at_today.to_string(), now.to_string());
    let yesterday = service.report_as_at(&actor, &scope, false, today.yesterday().unwrap()).await.unwrap();
    assert_eq!(yesterday.position, 0);
    assert!(yesterday.decisions.is_empty() && yesterday.not_acted_on.is_empty() && yesterday.representative.is_empty());
    assert!(!mentions(&serde_json::to_value(&yesterday).unwrap(), SPEAKER), "no words before they were logged");

    // As at a moment between events: what a replay from the first event says, without what
    // came after (the decision and the answer came last).
    let recorded = moments(&world.store).await;
    let decision_at = world
        .store
        .read_all(1, 100_000)
        .await
        .unwrap()
        .iter()
        .find(|event| event.event_type == "DecisionProposed")
        .map(|event| event.position)
        .unwrap();
    let before_the_decision = recorded[usize::try_from(decision_at).unwrap() - 2].1;
    let head = world.store.head().position;
    let then = service.replay(head, Some(before_the_decision)).await.unwrap();
    let from_the_start = service.replay_from_the_start(head, Some(before_the_decision)).await.unwrap();
    let calendar = service.calendar();
    let report = crate::report::build(&then, &actor, &scope, false, calendar, &world.store, None);
    let expected = crate::report::build(&from_the_start, &actor, &scope, false, calendar, &world.store, None);
    assert_eq!(
        serde_json::to_value(&report).unwrap().to_string(),
        serde_json::to_value(&expected).unwrap().to_string()
    );
    assert!(report.decisions.is_empty() && report.not_acted_on.is_empty(), "nothing decided or answered yet");
    assert_eq!(report.position, decision_at - 1, "as at the event before the decision");
    assert!(!report.representative.is_empty(), "the past report shows people's words");
    // Words nobody may read now (consent withdrawn or narrowed since) are not shown as at the
    // past either: the same report, judged against a model where no item may be read.
    let nobody_now = State::default();
    let judged = crate::report::build(&then, &actor, &scope, false, calendar, &world.store, Some(&nobody_now));
    assert!(judged.representative.is_empty(), "{:?}", judged.representative.len());
    assert!(!mentions(&serde_json::to_value(&judged).unwrap(), SPEAKER), "no words that may not be read now");
    let still =
        service.read(|now| crate::report::build(&then, &actor, &scope, false, calendar, &world.store, Some(now)));
    assert_eq!(still.representative.len(), report.representative.len(), "words still readable now stay");
    close(world).await;
}

async fn ask(service: &CommissioningService, query: &str, viewer: heard_api::Viewer) -> Value {
    let schema = async_graphql::Schema::build(
        crate::graphql::CommissioningQuery,
        crate::graphql::CommissioningMutation,
        async_graphql::EmptySubscription,
    )
    .data(service.clone())
    .finish();
    let response = schema.execute(async_graphql::Request::new(query).data(viewer)).await;
    serde_json::to_value(&response).unwrap()
}

#[tokio::test]
async fn a_hostile_as_at_is_refused_with_an_error_naming_the_field() {
    let (_dir, _models, world, seeded) = seeded_keeping_history().await;
    let viewer = heard_api::Viewer { actor: commissioner(seeded.commissioner), ..heard_api::Viewer::anonymous() };
    let tomorrow = heard_api::today().tomorrow().unwrap().to_string();
    for hostile in
        ["not a date", "99999999-01-01", "2026-02-30", "'; DROP TABLE feedback; --", "", &tomorrow, "9999-12-31"]
    {
        let query = format!("{{ youSaidWeDid(asAt: {}) {{ position }} }}", serde_json::to_string(hostile).unwrap());
        let answer = ask(&world.service, &query, viewer.clone()).await;
        let error = &answer["errors"][0];
        assert_eq!(error["extensions"]["code"], json!("BAD_USER_INPUT"), "{hostile:?}: {answer}");
        assert_eq!(error["extensions"]["field"], json!("asAt"), "{hostile:?}: {answer}");
        assert!(answer["data"].is_null(), "{hostile:?}: {answer}");
        if hostile.contains("DROP") {
            assert!(!answer.to_string().contains("DROP"), "what was typed is not repeated: {answer}");
        }
    }
    let today = heard_api::today().to_string();
    let query = format!("{{ youSaidWeDid(asAt: \"{today}\") {{ position }} }}");
    let answer = ask(&world.service, &query, viewer.clone()).await;
    assert_eq!(answer["data"]["youSaidWeDid"]["position"], json!(world.store.head().position), "{answer}");
    let anonymous = ask(&world.service, &query, heard_api::Viewer::anonymous()).await;
    assert!(anonymous["errors"].is_null() || anonymous["errors"].as_array().is_some_and(Vec::is_empty), "{anonymous}");
    close(world).await;
}

/// An event of no service's concern, recorded at `at` (micros since the epoch).
fn recorded_at(position: u64, at: i64) -> heard_eventstore::RecordedEvent {
    heard_eventstore::RecordedEvent {
        position,
        stream: StreamName::new("tick-1").unwrap(),
        revision: position - 1,
        id: Uuid::new_v4(),
        event_type: "Ticked".into(),
        schema_version: 1,
        recorded_at_micros: at,
        metadata: b"{}".to_vec(),
        data: b"{}".to_vec(),
        personal: heard_eventstore::types::Personal::None,
        sealed_personal: None,
        prev_hash: [0; 32],
        hash: [u8::try_from(position % 251).unwrap(); 32],
    }
}

#[test]
fn where_a_replay_up_to_the_end_of_a_day_stops_is_known_from_the_time_marks_in_any_time_zone_even_when_times_go_backwards()
 {
    use heard_eventstore::Fold as _;
    let minute = 60_000_000_i64;
    let hour = 60 * minute;
    // Midnight UTC at the start of 2025-03-28, a Friday before the clocks change in the UK.
    let start = 1_743_120_000_000_000_i64;
    // Four days; a few events copied in with earlier times, one of them from the day before;
    // a quiet day with nothing written; events either side of midnight in Kathmandu
    // (UTC+05:45) and of a quarter hour.
    let offsets =
        [60, 300, 1_380, 1_500, 1_440, 1_800, 2_820, 120, 2_940, 3_000, 5_760, 5_820, 3_600, 5_880, 6_854, 6_856];
    let mut state = State::default();
    let mut events = Vec::new();
    for (n, minutes) in offsets.iter().enumerate() {
        let event = recorded_at(n as u64 + 1, start + minutes * minute);
        state.apply(&event).unwrap();
        events.push(event);
    }
    assert!(state.time_marks.len() < events.len(), "a mark a quarter hour at most: {:?}", state.time_marks);
    let head = state.position;
    // The ends of each day in UTC, in London (UTC+1 from the 30th) and in Kathmandu, and of
    // every quarter hour in between.
    let mut untils: Vec<i64> = Vec::new();
    for day in -1..6 {
        let midnight = start + day * 24 * hour;
        untils.extend([midnight - 1, midnight - hour - 1, midnight - 5 * hour - 45 * minute - 1]);
    }
    untils.extend((0..(6 * 24 * 4)).map(|quarter| start + quarter * 15 * minute - 1));
    for until in untils {
        assert!(crate::model::ends_a_quarter_hour(until), "{until}");
        for position in 0..=head {
            // What `apply_until` does: stop at the first event past the position or recorded
            // after the moment.
            let replayed = events
                .iter()
                .take_while(|event| event.position <= position && event.recorded_at_micros <= until)
                .last()
                .map_or(0, |event| event.position);
            assert_eq!(state.replay_end(position, Some(until)), Some(replayed), "until {until} at {position}");
        }
    }
    assert_eq!(state.replay_end(9, None), Some(9));
    assert_eq!(state.replay_end(head + 1, None), None, "past the model: left to a replay");
    let noon = start + 12 * hour + 7 * minute;
    assert_eq!(state.replay_end(head, Some(noon)), None, "not the end of a quarter hour: left to a replay");
}

/// What a decision's page shows of the model: the decision, and for each link what it links
/// to (an item's facts and the words the actor may read, a theme's name, a complaint's
/// learning), with the position and chain hash the view is as at.
fn decision_view(state: &State, id: Uuid, actor: &Actor, store: &EventStore) -> Value {
    let decision = state.decisions.get(&id);
    let evidence: Vec<Value> = decision
        .map(|found| {
            found
                .links
                .iter()
                .map(|link| match &link.evidence {
                    Evidence::FeedbackItem { item } => json!({
                        "item": state.items.get(item),
                        "words": state.items.get(item).and_then(|found| found.text_for(actor, store)),
                    }),
                    Evidence::Theme { theme } => json!({ "theme": state.reference.theme_name(theme) }),
                    Evidence::ComplaintLearning { complaint } => json!({ "learning": state.learning.get(complaint) }),
                    Evidence::AdvocacyTheme { value, .. } => json!({ "advocacy": state.reference.theme_name(value) }),
                })
                .collect()
        })
        .unwrap_or_default();
    json!({ "decision": decision, "evidence": evidence, "position": state.position, "chain_head": state.chain_head })
}

#[tokio::test]
async fn a_decision_as_at_a_day_or_a_position_read_from_its_own_streams_is_what_a_replay_of_the_whole_log_says() {
    use heard_contracts::feedback::{ConsentChanged, ThemeRenamed};
    use heard_contracts::rights::{ComplaintLearningRecorded, ComplaintReceived};
    let (_dir, _models, world, seeded) = seeded_keeping_history().await;
    let (store, service) = (&world.store, &world.service);
    let actor = commissioner(seeded.commissioner);
    let today = heard_api::today();
    let decision = service.read(|state| state.newest_first().next().unwrap().id);
    // More evidence, then what changes it afterwards: a complaint's learning, the theme (then
    // renamed), a second item (whose speaker then narrows consent to the hub), and events the
    // decision has nothing to do with in between.
    let complaint = Uuid::new_v4();
    use heard_contracts::testing::{complaint_learning_recorded, complaint_received};
    put::<ComplaintReceived>(store, complaint, complaint_received("cri", &[3])).await;
    let learning = complaint_learning_recorded("Evening appointments were cut without notice");
    put::<ComplaintLearningRecorded>(store, complaint, learning).await;
    assert!(service.caught_up().await);
    let by = seeded.commissioner;
    let evidence = [
        Evidence::ComplaintLearning { complaint },
        Evidence::Theme { theme: "waiting".into() },
        Evidence::FeedbackItem { item: seeded.items[3].0 },
    ];
    for evidence in evidence {
        service.link_evidence(decision, by, evidence, "it shows the gap", today).await.unwrap();
        put::<HubAdded>(
            store,
            "elsewhere",
            json!({ "hub": "elsewhere", "name": "Elsewhere", "kind": "hub", "area": "Kent" }),
        )
        .await;
    }
    put::<ThemeRenamed>(store, "waiting", json!({ "name": "Waiting for a script" })).await;
    put::<ConsentChanged>(store, seeded.items[3].0, json!({ "consent": "hub", "by": by })).await;
    assert!(service.caught_up().await);

    let head = store.head().position;
    let untils =
        [None, end_of_day(today), end_of_day(today.yesterday().unwrap()), end_of_day(today.tomorrow().unwrap())];
    let mut seen_words = false;
    for position in 0..=head {
        for until in untils {
            let from_its_streams =
                service.decision_then(decision, position, until).await.unwrap().expect("the end of a day");
            let replayed = service.replay_from_the_start(position, until).await.unwrap();
            let expected = decision_view(&replayed, decision, &actor, store);
            assert_eq!(
                decision_view(&from_its_streams, decision, &actor, store).to_string(),
                expected.to_string(),
                "as at {position} until {until:?}"
            );
            seen_words |= mentions(&expected, "for a script");
        }
    }
    assert!(seen_words, "some views show the linked items' words");
    let noon = end_of_day(today).unwrap() - 43_200_000_000 - 420_000_000;
    assert!(service.decision_then(decision, head, Some(noon)).await.unwrap().is_none(), "left to a replay");

    // Through GraphQL: as at its own decision date, the whole of today, so the view as it stands.
    let viewer = heard_api::Viewer { actor: actor.clone(), ..heard_api::Viewer::anonymous() };
    let query = format!(
        "{{ decision(id: \"{decision}\", asAtDecisionDate: true) {{ position chainHead evidence {{ target content }} }} }}"
    );
    let answer = ask(service, &query, viewer).await;
    assert_eq!(answer["data"]["decision"]["position"], json!(head), "{answer}");
    let content = answer["data"]["decision"]["evidence"].to_string();
    assert!(content.contains("Waiting for a script") && content.contains("Evening appointments"), "{answer}");

    // From outside: someone of another hub sees the decision and the theme, never the words of
    // an item they may not read, as at any day; nobody logged in sees nothing; a made-up day is
    // refused naming the field, without repeating it.
    let elsewhere = Actor {
        account: Some(Uuid::new_v4()),
        roles: BTreeSet::from([Role::HubMember]),
        hubs: BTreeSet::from(["crawley".to_owned()]),
        ..Actor::default()
    };
    let nosy = heard_api::Viewer { actor: elsewhere, ..heard_api::Viewer::anonymous() };
    for as_at in ["asAtDecisionDate: true", &format!("asAt: \"{today}\""), "atPosition: 1000000000"] {
        let query = format!("{{ decision(id: \"{decision}\", {as_at}) {{ evidence {{ kind content }} }} }}");
        let answer = ask(service, &query, nosy.clone()).await;
        if as_at.starts_with("atPosition") {
            assert_eq!(answer["errors"][0]["extensions"]["field"], json!("atPosition"), "{answer}");
            continue;
        }
        let evidence = answer["data"]["decision"]["evidence"].as_array().unwrap_or_else(|| panic!("{answer}"));
        assert!(!mentions(&answer, SPEAKER) && !mentions(&answer, "weeks"), "no words for another hub: {answer}");
        assert!(evidence.iter().any(|link| link["content"] == json!("Waiting for a script")), "the theme: {answer}");
        let anonymous = ask(service, &query, heard_api::Viewer::anonymous()).await;
        assert!(anonymous["data"].is_null() || anonymous["data"]["decision"].is_null(), "{anonymous}");
        assert!(!mentions(&anonymous, SPEAKER), "{anonymous}");
    }
    let viewer = heard_api::Viewer { actor: actor.clone(), ..heard_api::Viewer::anonymous() };
    for hostile in ["2026-02-30", "'; DROP TABLE decision; --", "", "99999-01-01"] {
        let query =
            format!("{{ decision(id: \"{decision}\", asAt: {}) {{ id }} }}", serde_json::to_string(hostile).unwrap());
        let answer = ask(service, &query, viewer.clone()).await;
        assert_eq!(answer["errors"][0]["extensions"]["field"], json!("asAt"), "{hostile:?}: {answer}");
        assert!(!answer.to_string().contains("DROP"), "{answer}");
    }
    close(world).await;
}
