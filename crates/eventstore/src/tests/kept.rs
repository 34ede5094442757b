//! Models kept on disk: loaded when they can be trusted, rebuilt from the log when not, and
//! never holding a person's words in the clear.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    EventStore, ExpectedRevision, Fold, LiveModel, ModelStore, NewEvent, NotLoaded, Persist, RecordedEvent, Result,
    Sealed, StreamName, SubjectId, Upcasters,
};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Note {
    words: String,
}

/// Counts events and keeps each note sealed, by stream.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
struct Notes {
    events: u64,
    notes: BTreeMap<String, Sealed<Note>>,
    /// How many events this run applied (not saved).
    #[serde(skip)]
    applied_this_run: u64,
}

impl Fold for Notes {
    fn apply(&mut self, event: &RecordedEvent) -> Result<()> {
        self.events += 1;
        self.applied_this_run += 1;
        if let Some(sealed) = event.sealed::<Note>() {
            self.notes.insert(event.stream.as_str().to_owned(), sealed);
        }
        Ok(())
    }
}

impl Persist for Notes {
    const VERSION: u32 = 1;
}

/// The same model after its fold changed.
#[derive(Debug, Default, Serialize, Deserialize)]
struct NotesV2(Notes);

impl Fold for NotesV2 {
    fn apply(&mut self, event: &RecordedEvent) -> Result<()> {
        self.0.apply(event)
    }
}

impl Persist for NotesV2 {
    const VERSION: u32 = 2;
}

const WAIT: Duration = Duration::from_secs(30);

async fn write_notes(store: &EventStore, from: u64, count: u64) -> Vec<SubjectId> {
    let mut subjects = Vec::new();
    for n in from..from + count {
        let subject = SubjectId::new();
        let event = NewEvent::new("Noted", 1, &json!({}))
            .unwrap()
            .with_personal(subject, &Note { words: format!("Sam Quill said number {n}") })
            .unwrap();
        store.append(&StreamName::of("note", n).unwrap(), ExpectedRevision::NoStream, vec![event]).await.unwrap();
        subjects.push(subject);
    }
    subjects
}

async fn run<S: Persist>(dir: &Path, then: impl AsyncFnOnce(&EventStore, &LiveModel<S>)) {
    let store = EventStore::open(dir, Upcasters::new()).unwrap();
    let models = ModelStore::open(&dir.join("models")).unwrap();
    let model = LiveModel::<S>::start_kept("notes", store.clone(), WAIT, (), &models).await.unwrap();
    then(&store, &model).await;
    store.close().await.unwrap();
    model.stopped().await;
}

#[tokio::test]
async fn a_kept_model_starts_from_what_it_saved_and_applies_only_the_events_after_it() {
    let dir = tempfile::tempdir().unwrap();
    run::<Notes>(dir.path(), async |store, model| {
        write_notes(store, 0, 30).await;
        assert!(model.caught_up(WAIT).await);
    })
    .await;
    run::<Notes>(dir.path(), async |store, model| {
        assert_eq!(model.read(|notes| (notes.events, notes.applied_this_run)), (30, 0), "nothing replayed");
        write_notes(store, 30, 5).await;
        assert!(model.caught_up(WAIT).await);
        assert_eq!(model.read(|notes| (notes.events, notes.applied_this_run)), (35, 5));
    })
    .await;
}

#[tokio::test]
async fn a_model_saved_by_another_version_is_rebuilt_from_the_log_and_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut before = BTreeMap::new();
    run::<Notes>(dir.path(), async |store, model| {
        write_notes(store, 0, 12).await;
        assert!(model.caught_up(WAIT).await);
        before = model.read(|notes| notes.notes.clone());
    })
    .await;
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let loaded = models.load::<NotesV2>("notes", &store).await.unwrap();
    assert_eq!(loaded.err(), Some(NotLoaded::OtherVersion { saved: 1, wanted: 2 }));
    let model = LiveModel::<NotesV2>::start_kept("notes", store.clone(), WAIT, (), &models).await.unwrap();
    assert_eq!(model.read(|notes| (notes.0.events, notes.0.applied_this_run)), (12, 12), "rebuilt from the log");
    assert_eq!(model.read(|notes| notes.0.notes.clone()), before);
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_damaged_saved_model_is_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    run::<Notes>(dir.path(), async |store, model| {
        write_notes(store, 0, 8).await;
        assert!(model.caught_up(WAIT).await);
    })
    .await;
    {
        let models = ModelStore::open(&dir.path().join("models")).unwrap();
        let tree = models.db.open_tree("model:notes").unwrap();
        tree.insert("chunk:00000000", &b"\xc1 not a model"[..]).unwrap();
        models.db.flush().unwrap();
        let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
        assert_eq!(models.load::<Notes>("notes", &store).await.unwrap().err(), Some(NotLoaded::Damaged));
        store.close().await.unwrap();
    }
    run::<Notes>(dir.path(), async |_, model| {
        assert_eq!(model.read(|notes| (notes.events, notes.applied_this_run)), (8, 8));
    })
    .await;
}

#[tokio::test]
async fn a_model_saved_from_another_log_is_not_loaded() {
    let first = tempfile::tempdir().unwrap();
    run::<Notes>(first.path(), async |store, model| {
        write_notes(store, 0, 6).await;
        assert!(model.caught_up(WAIT).await);
    })
    .await;
    // Another log of the same length, as a restore from another copy would give.
    let second = tempfile::tempdir().unwrap();
    let store = EventStore::open(second.path(), Upcasters::new()).unwrap();
    write_notes(&store, 100, 6).await;
    let models = ModelStore::open(&first.path().join("models")).unwrap();
    assert_eq!(models.load::<Notes>("notes", &store).await.unwrap().err(), Some(NotLoaded::NotThisLog));
    let model = LiveModel::<Notes>::start_kept("notes", store.clone(), WAIT, (), &models).await.unwrap();
    assert_eq!(model.read(|notes| notes.applied_this_run), 6, "rebuilt from this log");
    assert!(model.read(|notes| notes.notes.contains_key("note-100")));
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_saved_model_past_the_head_of_a_cut_short_log_is_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    run::<Notes>(dir.path(), async |store, model| {
        write_notes(store, 0, 4).await;
        assert!(model.caught_up(WAIT).await);
    })
    .await;
    let empty = tempfile::tempdir().unwrap();
    let store = EventStore::open(empty.path(), Upcasters::new()).unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    assert_eq!(models.load::<Notes>("notes", &store).await.unwrap().err(), Some(NotLoaded::NotThisLog));
    store.close().await.unwrap();
}

#[tokio::test]
async fn kept_words_open_until_the_person_is_forgotten_and_never_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let subjects = write_notes(&store, 0, 2).await;
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let model = LiveModel::<Notes>::start_kept("notes", store.clone(), WAIT, (), &models).await.unwrap();
    let sealed = model.read(|notes| notes.notes["note-0"].clone());
    assert_eq!(store.unseal(&sealed).unwrap(), Some(Note { words: "Sam Quill said number 0".into() }));
    store.forget_subject(subjects[0]).unwrap();
    assert_eq!(store.unseal(&sealed).unwrap(), None, "erased at once, in the running model");
    let other = model.read(|notes| notes.notes["note-1"].clone());
    assert!(store.unseal(&other).unwrap().is_some(), "nobody else is erased");
    store.close().await.unwrap();
    model.stopped().await;
    drop((model, store));
    // What was saved opens to nothing for the erased person either.
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let model = LiveModel::<Notes>::start_kept("notes", store.clone(), WAIT, (), &models).await.unwrap();
    assert_eq!(model.read(|notes| notes.applied_this_run), 0, "loaded, not rebuilt");
    let saved = model.read(|notes| notes.notes["note-0"].clone());
    assert_eq!(store.unseal(&saved).unwrap(), None);
    store.close().await.unwrap();
}

#[tokio::test]
async fn no_saved_model_holds_a_persons_words_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    run::<Notes>(dir.path(), async |store, model| {
        write_notes(store, 0, 50).await;
        assert!(model.caught_up(WAIT).await);
    })
    .await;
    let mut found = Vec::new();
    for entry in walk(&dir.path().join("models")) {
        let bytes = std::fs::read(&entry).unwrap();
        if bytes.windows(b"Sam Quill".len()).any(|window| window == b"Sam Quill") {
            found.push(entry);
        }
    }
    assert!(found.is_empty(), "words in the clear in {found:?}");
    assert!(walk(&dir.path().join("models")).iter().map(|f| std::fs::metadata(f).unwrap().len()).sum::<u64>() > 0);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
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
