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

async fn run<S: Fold + Persist>(dir: &Path, then: impl AsyncFnOnce(&EventStore, &LiveModel<S>)) {
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

// --- History copies ---------------------------------------------------------------------------

use crate::model_store::HistoryCopy;

/// Saves a copy of `Notes` as at each of `positions`, folded from `store`'s log.
async fn save_copies(store: &EventStore, models: &ModelStore, positions: &[u64], keep: usize) {
    let events = store.read_all(1, 10_000).await.unwrap();
    for &position in positions {
        let mut notes = Notes::default();
        let mut until = 0;
        for event in events.iter().take_while(|event| event.position <= position) {
            notes.apply(event).unwrap();
            until = until.max(event.recorded_at_micros);
        }
        let hash = events[usize::try_from(position).unwrap() - 1].hash;
        models.save_history("notes", HistoryCopy::encode(&notes, position, hash, until).unwrap(), keep).unwrap();
    }
}

fn positions(models: &ModelStore) -> Vec<u64> {
    models.history("notes").unwrap().iter().map(|entry| entry.position).collect()
}

#[tokio::test]
async fn the_history_copy_used_is_the_newest_at_or_before_the_position_and_recorded_by_the_moment() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    write_notes(&store, 0, 8).await;
    save_copies(&store, &models, &[2, 4, 6], 64).await;
    assert_eq!(positions(&models), vec![2, 4, 6]);
    let found = async |position: u64, until: Option<i64>| {
        models.nearest_at_or_before::<Notes>("notes", &store, position, until).await.unwrap().map(|(notes, at)| {
            assert_eq!(notes.events, at, "the copy is the state as at its position");
            at
        })
    };
    for (position, expected) in
        [(0, None), (1, None), (2, Some(2)), (3, Some(2)), (5, Some(4)), (6, Some(6)), (99, Some(6))]
    {
        assert_eq!(found(position, None).await, expected, "at position {position}");
    }
    let recorded: Vec<i64> = store.read_all(1, 100).await.unwrap().iter().map(|e| e.recorded_at_micros).collect();
    assert_eq!(found(8, Some(recorded[3])).await, Some(4), "recorded by the 4th event's moment");
    assert_eq!(found(8, Some(recorded[3] - 1)).await, Some(2), "just before it");
    assert_eq!(found(8, Some(recorded[0])).await, None, "before the first copy's last event");
    store.close().await.unwrap();
}

#[tokio::test]
async fn a_damaged_or_other_version_or_other_log_history_copy_is_skipped_for_an_earlier_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    write_notes(&store, 0, 8).await;
    save_copies(&store, &models, &[2, 4, 6], 64).await;
    let tree = models.db.open_tree("history:notes").unwrap();
    let mut chunk = vec![b'c'];
    chunk.extend_from_slice(&6u64.to_be_bytes());
    chunk.extend_from_slice(&0u32.to_be_bytes());
    tree.insert(chunk, &b"\xc1 not a model"[..]).unwrap();
    let mut meta = vec![b'm'];
    meta.extend_from_slice(&4u64.to_be_bytes());
    tree.insert(meta, &b"\xc1 not a meta"[..]).unwrap();
    let at = |found: Option<(Notes, u64)>| found.map(|(_, at)| at);
    let nearest = models.nearest_at_or_before::<Notes>("notes", &store, 8, None).await.unwrap();
    assert_eq!(at(nearest), Some(2), "6 is damaged and so is 4's meta");
    let other_version = models.nearest_at_or_before::<NotesV2>("notes", &store, 8, None).await.unwrap();
    assert!(other_version.is_none(), "saved by another version");

    // Another log of the same length: no copy is of it.
    let other = tempfile::tempdir().unwrap();
    let other_store = EventStore::open(other.path(), Upcasters::new()).unwrap();
    write_notes(&other_store, 100, 8).await;
    assert!(models.nearest_at_or_before::<Notes>("notes", &other_store, 8, None).await.unwrap().is_none());

    // The next copy saved clears the damaged meta away.
    save_copies(&store, &models, &[7], 64).await;
    assert_eq!(positions(&models), vec![2, 6, 7]);
    other_store.close().await.unwrap();
    store.close().await.unwrap();
}

#[tokio::test]
async fn history_copies_are_thinned_evenly_to_the_number_kept_and_later_ones_replaced_by_an_earlier_course() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    write_notes(&store, 0, 40).await;
    let every: Vec<u64> = (1..=40).collect();
    save_copies(&store, &models, &every, 5).await;
    let kept = positions(&models);
    assert_eq!(kept.len(), 5, "{kept:?}");
    assert_eq!((kept[0], kept[4]), (1, 40), "the oldest and the newest stay: {kept:?}");
    let gaps: Vec<u64> = kept.windows(2).map(|pair| pair[1] - pair[0]).collect();
    assert!(
        gaps.iter().max().unwrap() - gaps.iter().min().unwrap() <= gaps.iter().min().unwrap() + 1,
        "even: {kept:?}"
    );
    for position in [1, 20, 40] {
        let found = models.nearest_at_or_before::<Notes>("notes", &store, position, None).await.unwrap();
        assert!(found.is_some_and(|(notes, at)| at <= position && notes.events == at));
    }

    // A copy saved at an earlier position (a rebuild) replaces those at or after it.
    save_copies(&store, &models, &[12], 5).await;
    assert!(positions(&models).iter().all(|at| *at <= 12), "{:?}", positions(&models));
    assert_eq!(*positions(&models).last().unwrap(), 12);
    models.forget_history("notes").unwrap();
    assert!(positions(&models).is_empty());
    store.close().await.unwrap();
}

/// A model of about 2 MB: numbers that change a little at every save.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Bulky {
    numbers: Vec<u64>,
}

impl Persist for Bulky {
    const VERSION: u32 = 1;
}

/// The bytes of every file below `dir`. sled removes and renames its files on threads of its
/// own, so a file listed a moment ago may be gone when it is measured: it counts as nothing.
fn directory_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => directory_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

#[test]
fn a_model_saved_again_and_again_keeps_its_directory_to_a_bounded_multiple_of_its_size() {
    let dir = tempfile::tempdir().unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let mut bulky = Bulky { numbers: (0..230_000u64).map(|n| n.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect() };
    let mut saved = 0;
    for round in 0..40u64 {
        bulky.numbers[(round as usize * 4_099) % 230_000] = round;
        saved = models.save("bulky", &bulky, round + 1, [round as u8; 32]).unwrap();
    }
    let on_disk = directory_bytes(&dir.path().join("models"));
    assert!(saved > 2_000_000, "a model of {saved} bytes");
    assert!(
        on_disk < 12 * saved,
        "40 saves of a {saved}-byte model take {on_disk} bytes on disk: the old copies are not reclaimed"
    );
}

#[tokio::test]
async fn models_saved_in_the_old_layout_are_thrown_away_once_and_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    run::<Notes>(dir.path(), async |store, model| {
        write_notes(store, 0, 5).await;
        assert!(model.caught_up(WAIT).await);
    })
    .await;
    {
        // As the layout before 32 KiB chunks left it: no mark.
        // Through the one opener that waits for this process's own lock to be let go.
        let db = crate::sled_open::open(sled::Config::new(), &dir.path().join("models")).unwrap();
        db.remove(b"layout").unwrap();
        db.flush().unwrap();
    }
    run::<Notes>(dir.path(), async |_, model| {
        assert_eq!(model.read(|notes| (notes.events, notes.applied_this_run)), (5, 5), "rebuilt from the log");
    })
    .await;
    run::<Notes>(dir.path(), async |_, model| {
        assert_eq!(model.read(|notes| (notes.events, notes.applied_this_run)), (5, 0), "and kept from then on");
    })
    .await;
}
