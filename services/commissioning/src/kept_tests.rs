//! The model kept on disk: it answers as the one rebuilt from the log, holds no words in the
//! clear, and an erased speaker's words are gone at once, running and after a restart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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
        let then: State = service.replay(at, None).await.unwrap();
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
    let files = walk(&models_dir);
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

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
