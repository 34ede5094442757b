//! The key file on its own disk: destruction that leaves no copy, tombstones, torn slots, the
//! move from the old sled store, and its size for a million people.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::crypto::SledKeyStore;
use crate::{BackendKind, EventStore, ExpectedRevision, NewEvent, Personal, SegmentBackend, StreamName, Upcasters};

/// Every file under `dir` whose raw bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                if bytes.windows(needle.len()).any(|window| window == needle) {
                    found.push(path);
                }
            }
        }
    }
    found
}

fn key_file(dir: &Path) -> PathBuf {
    dir.join(KEY_FILE_NAME)
}

fn bytes_of(key: &SubjectKey) -> [u8; 32] {
    *key.as_bytes()
}

fn personal_event(subject: SubjectId, words: &str) -> NewEvent {
    NewEvent::new("Logged", 1, &json!({})).unwrap().with_personal(subject, &json!({ "words": words })).unwrap()
}

async fn no_file_holds_a_forgotten_key(kind: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open_embedded(dir.path(), kind, Upcasters::new()).unwrap();
    let subject = SubjectId::new();
    let stream = StreamName::new("item-1").unwrap();
    store.append(&stream, ExpectedRevision::Any, vec![personal_event(subject, "in my own words")]).await.unwrap();
    let key = store.key_bytes(subject).unwrap().expect("the person has a key");
    assert_eq!(files_containing(dir.path(), &key), vec![key_file(dir.path())], "the search finds the key where it is");

    assert!(store.forget_subject(subject).unwrap());
    assert_eq!(files_containing(dir.path(), &key), Vec::<PathBuf>::new(), "gone as soon as forget_subject returns");
    let read = store.read_stream(&stream, 0, crate::Direction::Forwards, 10).await.unwrap();
    assert!(matches!(read[0].personal, Personal::Erased { .. }));
    store.close().await.unwrap();
    drop(store);
    assert_eq!(files_containing(dir.path(), &key), Vec::<PathBuf>::new(), "and after closing");
}

#[tokio::test]
async fn after_forget_subject_no_file_under_the_data_directory_holds_the_key() {
    no_file_holds_a_forgotten_key(BackendKind::Segments).await;
}

#[tokio::test]
async fn after_forget_subject_no_file_under_a_sled_log_data_directory_holds_the_key() {
    no_file_holds_a_forgotten_key(BackendKind::Sled).await;
}

#[tokio::test]
async fn a_destroyed_subject_never_gets_a_key_again_even_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let had_a_key = SubjectId::new();
    let never_had_one = SubjectId::new();
    let keys = FileKeyStore::open_in(dir.path()).unwrap();
    keys.get_or_create(had_a_key).unwrap();
    assert!(keys.destroy(had_a_key).unwrap(), "there was a key");
    assert!(!keys.destroy(never_had_one).unwrap(), "there was none, but the subject is tombstoned all the same");
    assert!(!keys.destroy(had_a_key).unwrap(), "destroying twice finds nothing the second time");
    for _ in 0..2 {
        for subject in [had_a_key, never_had_one] {
            assert!(matches!(keys.get_or_create(subject), Err(Error::SubjectErased)));
            assert!(keys.get(subject).unwrap().is_none());
        }
    }
    drop(keys);

    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    for subject in [had_a_key, never_had_one] {
        let stream = StreamName::new("item-2").unwrap();
        let refused = store.append(&stream, ExpectedRevision::Any, vec![personal_event(subject, "more")]).await;
        assert!(matches!(refused, Err(Error::SubjectErased)), "{refused:?}");
        assert_eq!(store.stream_revision(&stream).await.unwrap(), None, "nothing of the batch was appended");
    }
    store.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keys_created_in_a_group_are_durable_once_the_append_is_acknowledged() {
    const WRITERS: u64 = 8;
    const EACH: u64 = 10;
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(FileKeyStore::open_in(dir.path()).unwrap());
    let backend = SegmentBackend::open(&dir.path().join("log")).unwrap();
    let store = EventStore::new(Arc::new(backend), keys.clone(), Upcasters::new());
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (store, keys) = (store.clone(), keys.clone());
        writers.push(tokio::spawn(async move {
            let stream = StreamName::new(format!("item-{writer}")).unwrap();
            for n in 0..EACH {
                let (created_before, _) = keys.created_and_durable();
                let event = personal_event(SubjectId::new(), &format!("item {writer}.{n}"));
                store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
                let (_, durable) = keys.created_and_durable();
                assert!(durable > created_before, "the key this append created was synced before it was acknowledged");
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    assert_eq!(keys.created_and_durable(), (WRITERS * EACH, WRITERS * EACH));
    store.close().await.unwrap();
    drop((store, keys));

    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let events = store.read_all(1, 1000).await.unwrap();
    assert_eq!(events.len() as u64, WRITERS * EACH);
    for event in &events {
        let fields: serde_json::Value = event.personal_fields().unwrap().expect("the key was there after reopening");
        assert!(fields["words"].as_str().unwrap().starts_with(&format!("item {}.", event.stream.id())));
    }
    store.close().await.unwrap();
}

#[test]
fn new_keys_share_one_sync_and_a_sync_with_nothing_new_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let keys = FileKeyStore::open_in(dir.path()).unwrap();
    let subjects: Vec<SubjectId> = (0..50).map(|_| SubjectId::new()).collect();
    let created: Vec<[u8; 32]> = subjects.iter().map(|s| bytes_of(&keys.get_or_create(*s).unwrap())).collect();
    assert_eq!(keys.syncs(), 0, "creating a key does not sync");
    keys.make_durable().unwrap();
    assert_eq!(keys.syncs(), 1);
    keys.make_durable().unwrap();
    assert_eq!(bytes_of(&keys.get_or_create(subjects[0]).unwrap()), created[0], "an existing key is found, not made");
    keys.make_durable().unwrap();
    assert_eq!(keys.syncs(), 1, "nothing new, nothing to sync");
    drop(keys);
    let reopened = FileKeyStore::open_in(dir.path()).unwrap();
    for (subject, key) in subjects.iter().zip(&created) {
        assert_eq!(reopened.get(*subject).unwrap().map(|k| bytes_of(&k)), Some(*key));
    }
}

#[test]
fn concurrent_first_uses_of_a_subject_all_get_the_same_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(FileKeyStore::open_in(dir.path()).unwrap());
    let subjects: Arc<Vec<SubjectId>> = Arc::new((0..50).map(|_| SubjectId::new()).collect());
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (keys, subjects) = (keys.clone(), subjects.clone());
            std::thread::spawn(move || {
                subjects.iter().map(|s| bytes_of(&keys.get_or_create(*s).unwrap())).collect::<Vec<_>>()
            })
        })
        .collect();
    let seen: Vec<Vec<[u8; 32]>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(seen.iter().all(|keys| *keys == seen[0]), "every thread got the same key for each subject");
    let len = std::fs::metadata(key_file(dir.path())).unwrap().len();
    assert_eq!(len, HEADER_LEN + 50 * SLOT_LEN as u64, "one slot per subject");
}

/// Keys for `n` new subjects, made durable, then the store is dropped.
fn durable_keys(dir: &Path, n: usize) -> Vec<(SubjectId, [u8; 32])> {
    let keys = FileKeyStore::open_in(dir).unwrap();
    let made = (0..n)
        .map(|_| {
            let subject = SubjectId::new();
            (subject, bytes_of(&keys.get_or_create(subject).unwrap()))
        })
        .collect();
    keys.make_durable().unwrap();
    made
}

#[test]
fn a_torn_last_slot_opens_keeping_every_whole_key() {
    let dir = tempfile::tempdir().unwrap();
    let made = durable_keys(dir.path(), 10);
    let file = OpenOptions::new().write(true).open(key_file(dir.path())).unwrap();
    let len = file.metadata().unwrap().len();
    file.set_len(len - 20).unwrap();
    drop(file);

    let keys = FileKeyStore::open_in(dir.path()).unwrap();
    for (subject, key) in &made[..9] {
        assert_eq!(keys.get(*subject).unwrap().map(|k| bytes_of(&k)), Some(*key));
    }
    let (torn, _) = made[9];
    assert!(keys.get(torn).unwrap().is_none(), "the torn key was never durable, so it is not there");
    let fresh = bytes_of(&keys.get_or_create(torn).unwrap());
    keys.make_durable().unwrap();
    let another = SubjectId::new();
    let another_key = bytes_of(&keys.get_or_create(another).unwrap());
    keys.make_durable().unwrap();
    drop(keys);

    let keys = FileKeyStore::open_in(dir.path()).unwrap();
    for (subject, key) in made[..9].iter().chain([(torn, fresh), (another, another_key)].iter()) {
        assert_eq!(keys.get(*subject).unwrap().map(|k| bytes_of(&k)), Some(*key));
    }
}

#[test]
fn a_damaged_slot_in_the_middle_is_skipped_and_the_keys_around_it_load() {
    let dir = tempfile::tempdir().unwrap();
    let made = durable_keys(dir.path(), 10);
    let file = OpenOptions::new().write(true).open(key_file(dir.path())).unwrap();
    file.write_all_at(&[0xff; 7], slot_offset(4) + 20).unwrap();
    drop(file);

    let keys = FileKeyStore::open_in(dir.path()).unwrap();
    for (n, (subject, key)) in made.iter().enumerate() {
        let expected = (n != 4).then_some(*key);
        assert_eq!(keys.get(*subject).unwrap().map(|k| bytes_of(&k)), expected, "slot {n}");
    }
}

#[test]
fn a_destroy_cut_short_by_a_crash_is_finished_when_the_store_opens() {
    // The tombstone was synced; the overwrite of the live slot then never reached the disk, or
    // reached it only in part.
    type Undo = fn(&File, &[u8; SLOT_LEN]);
    let never_written: Undo = |file, live| file.write_all_at(live, slot_offset(0)).unwrap();
    let torn: Undo = |file, live| file.write_all_at(&live[..30], slot_offset(0)).unwrap();
    for undo in [never_written, torn] {
        let dir = tempfile::tempdir().unwrap();
        let made = durable_keys(dir.path(), 2);
        let (subject, key) = made[0];
        let file = OpenOptions::new().read(true).write(true).open(key_file(dir.path())).unwrap();
        let mut live = [0; SLOT_LEN];
        file.read_exact_at(&mut live, slot_offset(0)).unwrap();
        let keys = FileKeyStore::open_in(dir.path()).unwrap();
        assert!(keys.destroy(subject).unwrap());
        drop(keys);
        undo(&file, &live);
        drop(file);
        assert!(!files_containing(dir.path(), &key[..8]).is_empty(), "the crash left (part of) the key on disk");

        let keys = FileKeyStore::open_in(dir.path()).unwrap();
        assert!(keys.get(subject).unwrap().is_none());
        assert!(matches!(keys.get_or_create(subject), Err(Error::SubjectErased)));
        assert_eq!(keys.get(made[1].0).unwrap().map(|k| bytes_of(&k)), Some(made[1].1));
        assert_eq!(files_containing(dir.path(), &key[..8]), Vec::<PathBuf>::new(), "the open overwrote it");
    }
}

/// An old sled key store in `dir/keys` with `live` keys and `destroyed` destroyed ones, plus a
/// tombstone for a subject that never had a key.
struct OldStore {
    live: Vec<(SubjectId, [u8; 32])>,
    destroyed: Vec<(SubjectId, [u8; 32])>,
    tombstoned_without_key: SubjectId,
}

fn old_sled_store(dir: &Path, live: usize, destroyed: usize) -> OldStore {
    let keys = SledKeyStore::open(&dir.join(LEGACY_KEY_DIR)).unwrap();
    let make = |n: usize| -> Vec<(SubjectId, [u8; 32])> {
        (0..n)
            .map(|_| {
                let subject = SubjectId::new();
                (subject, bytes_of(&keys.get_or_create(subject).unwrap()))
            })
            .collect()
    };
    let (live, destroyed) = (make(live), make(destroyed));
    keys.make_durable().unwrap();
    for (subject, _) in &destroyed {
        assert!(keys.destroy(*subject).unwrap());
    }
    let tombstoned_without_key = SubjectId::new();
    keys.destroy(tombstoned_without_key).unwrap();
    OldStore { live, destroyed, tombstoned_without_key }
}

fn assert_moved(keys: &FileKeyStore, old: &OldStore) {
    for (subject, key) in &old.live {
        assert_eq!(keys.get(*subject).unwrap().map(|k| bytes_of(&k)), Some(*key));
    }
    for subject in old.destroyed.iter().map(|(s, _)| *s).chain([old.tombstoned_without_key]) {
        assert!(keys.get(subject).unwrap().is_none());
        assert!(matches!(keys.get_or_create(subject), Err(Error::SubjectErased)));
    }
}

#[test]
fn migration_from_a_sled_key_store_keeps_every_key_and_tombstone_and_leaves_no_sled_key_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let old = old_sled_store(dir.path(), 20, 5);
    let still_in_sled = old.destroyed.iter().filter(|(_, key)| !files_containing(dir.path(), key).is_empty()).count();
    assert!(still_in_sled > 0, "the reason for the move: sled keeps destroyed keys in its files");

    let keys = FileKeyStore::open_in(dir.path()).unwrap();
    assert_moved(&keys, &old);
    assert!(!dir.path().join(LEGACY_KEY_DIR).exists(), "the sled store is removed");
    for (_, key) in &old.destroyed {
        assert_eq!(files_containing(dir.path(), key), Vec::<PathBuf>::new(), "no destroyed key survives the move");
    }
    for (_, key) in &old.live {
        assert_eq!(files_containing(dir.path(), key), vec![key_file(dir.path())], "a live key is only in keys.heard");
    }
    drop(keys);
    let keys = FileKeyStore::open_in(dir.path()).unwrap();
    assert_moved(&keys, &old);
}

#[test]
fn an_old_key_store_found_next_to_the_key_file_adds_what_the_file_lacks_and_its_tombstones_win() {
    // As after a crash between the file's sync and the sled files' removal, or an old heard run
    // on the directory meanwhile.
    let dir = tempfile::tempdir().unwrap();
    let in_file = durable_keys(dir.path(), 3);
    let old = old_sled_store(dir.path(), 4, 2);
    {
        let sled = SledKeyStore::open(&dir.path().join(LEGACY_KEY_DIR)).unwrap();
        sled.destroy(in_file[0].0).unwrap();
    }

    let keys = FileKeyStore::open_in(dir.path()).unwrap();
    assert_moved(&keys, &old);
    assert!(keys.get(in_file[0].0).unwrap().is_none(), "a tombstone in the old store destroys the file's key");
    assert_eq!(files_containing(dir.path(), &in_file[0].1), Vec::<PathBuf>::new());
    for (subject, key) in &in_file[1..] {
        assert_eq!(keys.get(*subject).unwrap().map(|k| bytes_of(&k)), Some(*key));
    }
    assert!(!dir.path().join(LEGACY_KEY_DIR).exists());
}

#[tokio::test]
async fn events_sealed_before_the_upgrade_read_after_it_and_erased_ones_stay_erased() {
    let dir = tempfile::tempdir().unwrap();
    let (kept, erased) = (SubjectId::new(), SubjectId::new());
    let stream = StreamName::new("case-1").unwrap();
    {
        let backend = SegmentBackend::open(&dir.path().join("log")).unwrap();
        let keys = SledKeyStore::open(&dir.path().join(LEGACY_KEY_DIR)).unwrap();
        let store = EventStore::new(Arc::new(backend), Arc::new(keys), Upcasters::new());
        let events = vec![personal_event(kept, "kept words"), personal_event(erased, "erased words")];
        store.append(&stream, ExpectedRevision::NoStream, events).await.unwrap();
        assert!(store.forget_subject(erased).unwrap());
        store.close().await.unwrap();
    }
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    assert!(!dir.path().join(LEGACY_KEY_DIR).exists());
    let read = store.read_stream(&stream, 0, crate::Direction::Forwards, 10).await.unwrap();
    let fields: serde_json::Value = read[0].personal_fields().unwrap().unwrap();
    assert_eq!(fields["words"], "kept words");
    assert!(matches!(read[1].personal, Personal::Erased { .. }));
    store.close().await.unwrap();
}

#[test]
fn a_key_file_from_a_newer_heard_or_with_a_damaged_header_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    durable_keys(dir.path(), 3);
    let path = key_file(dir.path());
    let original = std::fs::read(&path).unwrap();

    let mut newer = original.clone();
    newer[8..12].copy_from_slice(&2u32.to_le_bytes());
    let crc = crc32fast::hash(&newer[..CHECKED_LEN]);
    newer[CHECKED_LEN..HEADER_LEN as usize].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&path, &newer).unwrap();
    let refused = FileKeyStore::open_in(dir.path()).unwrap_err();
    assert!(refused.to_string().contains("version 2"), "{refused}");
    assert_eq!(std::fs::read(&path).unwrap(), newer);

    let mut damaged = original.clone();
    damaged[..4].copy_from_slice(b"JUNK");
    std::fs::write(&path, &damaged).unwrap();
    let refused = FileKeyStore::open_in(dir.path()).unwrap_err();
    assert!(matches!(refused, Error::KeyFile { .. }), "{refused}");
    assert_eq!(std::fs::read(&path).unwrap(), damaged, "the keys behind the header are left for recovery");
}

#[test]
fn a_header_torn_while_the_key_file_was_created_is_written_afresh() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(key_file(dir.path()), &encode_header()[..23]).unwrap();
    let keys = FileKeyStore::open_in(dir.path()).unwrap();
    let subject = SubjectId::new();
    let key = bytes_of(&keys.get_or_create(subject).unwrap());
    keys.make_durable().unwrap();
    drop(keys);
    let keys = FileKeyStore::open_in(dir.path()).unwrap();
    assert_eq!(keys.get(subject).unwrap().map(|k| bytes_of(&k)), Some(key));
}

#[test]
fn a_new_key_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    drop(FileKeyStore::open_in(dir.path()).unwrap());
    let mode = std::fs::metadata(key_file(dir.path())).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_key_file_in_use_cannot_be_opened_a_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let _keys = FileKeyStore::open_in(dir.path()).unwrap();
    assert!(matches!(FileKeyStore::open_in(dir.path()), Err(Error::Locked)));
}

#[test]
fn the_index_for_a_million_subjects_stays_under_64_mb() {
    const SUBJECTS: u32 = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::with_capacity(HEADER_LEN as usize + SUBJECTS as usize * SLOT_LEN);
    bytes.extend_from_slice(&encode_header());
    let subject =
        |n: u32| SubjectId(Uuid::from_u128(u128::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)));
    let key = |n: u32| {
        let mut key = [7; 32];
        key[..4].copy_from_slice(&n.to_le_bytes());
        key
    };
    for n in 0..SUBJECTS {
        bytes.extend_from_slice(&encode_slot(subject(n), &key(n), LIVE));
    }
    std::fs::write(key_file(dir.path()), &bytes).unwrap();
    drop(bytes);

    let started = std::time::Instant::now();
    let keys = FileKeyStore::open_in(dir.path()).unwrap();
    let opened_in = started.elapsed();
    let index_bytes = keys.index_bytes();
    println!("a million subjects: index {:.1} MB, opened in {opened_in:?} (debug build)", index_bytes as f64 / 1e6);
    assert!(index_bytes <= 64 * 1024 * 1024, "{index_bytes} bytes");
    for n in [0, 1, 499_999, SUBJECTS - 1] {
        assert_eq!(keys.get(subject(n)).unwrap().map(|k| bytes_of(&k)), Some(key(n)));
    }
    let started = std::time::Instant::now();
    for n in (0..SUBJECTS).step_by(10) {
        assert!(keys.get(subject(n)).unwrap().is_some());
    }
    println!("a key read from the file: {:?} (debug build)", started.elapsed() / (SUBJECTS / 10));
}

#[test]
fn a_slot_reads_back_as_written_and_any_changed_byte_makes_it_torn() {
    let subject = SubjectId::new();
    let slot = encode_slot(subject, &[9; 32], LIVE);
    assert_eq!(decode_slot(&slot), Slot::Live(subject));
    assert_eq!(decode_slot(&encode_slot(subject, &[0; 32], DESTROYED)), Slot::Destroyed(subject));
    assert_eq!(decode_slot(&[0; SLOT_LEN]), Slot::Empty);
    for at in 0..SLOT_LEN {
        let mut changed = slot;
        changed[at] ^= 0x10;
        assert!(matches!(decode_slot(&changed), Slot::Torn(_)), "byte {at}");
    }
    assert!(
        matches!(decode_slot(&encode_slot(subject, &[9; 32], DESTROYED)), Slot::Torn(_)),
        "a tombstone holds no key"
    );
}
