//! Backups: taken while the store is in use, restored into an empty store with the same events,
//! chain head, keys and erasures; refused when the passphrase is wrong or the file is damaged;
//! and a person erased after the backup stays erased in it, since their backup key is destroyed
//! (and the erasure register names them).

use std::path::Path;

use serde_json::json;

use super::copy::{assert_same, fill, keys_of, raw_log, readable};
use super::postgres::Schema;
use crate::backup::{self, BackedUpKey, BackupKeyring, ErasureRegister, Manifest, Reader, Section, Writer};
use crate::{Error, EventStore, Personal, SubjectId, Upcasters};

const PASSPHRASE: &[u8] = b"correct horse battery staple";

fn manifest() -> Manifest {
    Manifest { taken_at: "2026-12-07T05:00:00Z".into(), heard_version: "test".into(), backend: "segments".into() }
}

/// The backup keyring of the tests: beside a register in a folder of its own (the backup
/// volume), never in the data directory.
fn keyring_in(folder: &Path) -> std::path::PathBuf {
    BackupKeyring::beside(&folder.join("erasures.register"))
}

/// A backup of the segment store in `dir`, read from its files while `dir` may be open, its keys
/// sealed under the keyring at `keyring`.
fn back_up_unlocked_with(dir: &Path, keyring: &Path) -> Vec<u8> {
    let mut writer = Writer::new(Vec::new(), PASSPHRASE).unwrap();
    writer.manifest(&manifest()).unwrap();
    writer.file("secret.key", &[7; 32]).unwrap();
    backup::back_up_segments_unlocked(dir, &mut writer, keyring).unwrap();
    writer.finish().unwrap().0
}

/// A backup of `dir` with a keyring inside it (in the tests only: it belongs on the backup
/// volume, and a backup never reads it as part of the store).
fn back_up_unlocked(dir: &Path) -> Vec<u8> {
    back_up_unlocked_with(dir, &keyring_in(dir))
}

/// Restores `bytes` into a new store in `dir`, opening keys with `keyring` and destroying the
/// keys of `erased`.
async fn restore_with(
    bytes: &[u8],
    dir: &Path,
    erased: &[SubjectId],
    keyring: Option<&Path>,
) -> crate::Result<(EventStore, backup::Restored, Vec<String>)> {
    let store = EventStore::open(dir, Upcasters::new()).unwrap();
    let mut reader = Reader::new(bytes, PASSPHRASE).unwrap();
    let mut files = Vec::new();
    let restored = backup::restore(&mut reader, &store, erased, keyring, |name, bytes| {
        assert_eq!(bytes, &[7; 32]);
        files.push(name.to_owned());
        Ok(())
    })
    .await;
    match restored {
        Ok(restored) => Ok((store, restored, files)),
        Err(error) => {
            store.close().await.unwrap();
            Err(error)
        }
    }
}

/// Restores a backup of the store in `from` (taken with [`back_up_unlocked`]) into `dir`.
async fn restore_into(
    bytes: &[u8],
    from: &Path,
    dir: &Path,
    erased: &[SubjectId],
) -> (EventStore, backup::Restored, Vec<String>) {
    restore_with(bytes, dir, erased, Some(&keyring_in(from))).await.unwrap()
}

#[tokio::test]
async fn a_backup_taken_while_the_store_is_open_restores_every_event_key_and_erasure_with_the_same_chain_head() {
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let source = EventStore::open(first.path(), Upcasters::new()).unwrap();
    let (kept, erased, never) = fill(&source).await;

    let bytes = back_up_unlocked(first.path());
    assert_eq!(backup::checksum_of(&bytes[..]).unwrap().len(), 64);
    let (copy, restored, files) = restore_into(&bytes, first.path(), second.path(), &[]).await;
    assert_eq!(files, ["secret.key"]);
    assert_eq!(restored.manifest, manifest());
    assert_eq!(restored.head, source.head());
    assert_eq!((restored.counts.events, restored.counts.keys, restored.counts.destroyed), (60, 1, 2));
    assert_eq!(restored.erased_again, 0);
    assert_same(&source, &copy).await;
    readable(&copy, kept, erased, never).await;
    for store in [source, copy] {
        store.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_backup_holds_no_word_no_key_and_no_subject_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let source = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let (kept, _, _) = fill(&source).await;
    let bytes = back_up_unlocked(dir.path());
    let key = keys_of(&source)[&kept].unwrap();
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|window| window == needle);
    assert!(!contains(b"note 0"), "a person's words");
    assert!(!contains(b"CaseNoted"), "an event's type");
    assert!(!contains(&key), "a person's key");
    assert!(!contains(kept.0.as_bytes()), "a person's subject id");
    assert!(!contains(&[7; 32]), "the server key");
    source.close().await.unwrap();
}

#[tokio::test]
async fn a_backup_of_a_postgresql_store_restores_into_a_data_directory_with_the_same_chain_head() {
    let schema = Schema::create().await;
    let source = EventStore::open_postgres(&schema.url(), Upcasters::new()).await.unwrap();
    let (kept, erased, never) = fill(&source).await;
    let mut writer = Writer::new(Vec::new(), PASSPHRASE).unwrap();
    writer.manifest(&manifest()).unwrap();
    writer.file("secret.key", &[7; 32]).unwrap();
    let backups = tempfile::tempdir().unwrap();
    let keyring = keyring_in(backups.path());
    let head = backup::back_up_store(&source, &mut writer, &keyring).await.unwrap();
    assert_eq!(head, source.head());
    let bytes = writer.finish().unwrap().0;

    let dir = tempfile::tempdir().unwrap();
    let (copy, restored, _) = restore_with(&bytes, dir.path(), &[], Some(&keyring)).await.unwrap();
    assert_eq!(restored.head, head);
    assert_same(&source, &copy).await;
    readable(&copy, kept, erased, never).await;
    for store in [source, copy] {
        store.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_person_erased_after_a_backup_was_taken_cannot_be_brought_back_from_it_by_anyone_since_their_backup_key_is_destroyed()
 {
    let (first, second, third, backups) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let register = backups.path().join("erasures.register");
    let keyring = BackupKeyring::beside(&register);
    let source = EventStore::open(first.path(), Upcasters::new()).unwrap();
    source.keep_erasure_register(&register).unwrap();
    let (kept, _, never) = fill(&source).await;
    let bytes = back_up_unlocked_with(first.path(), &keyring);
    let key = keys_of(&source)[&kept].unwrap();
    let backup_key = BackupKeyring::open(&keyring).unwrap().backup_key_bytes(kept).unwrap().unwrap();
    // The backup, opened with its passphrase, holds the person's key only sealed.
    let mut reader = Reader::new(&bytes[..], PASSPHRASE).unwrap();
    let mut sealed = 0;
    while let Some(section) = reader.next_section().unwrap() {
        if let Section::Keys(keys) = section {
            assert!(keys.iter().all(|(_, key)| !matches!(key, BackedUpKey::Plain(_))), "no key in the clear");
            sealed +=
                keys.iter().filter(|(subject, key)| *subject == kept && matches!(key, BackedUpKey::Wrapped(_))).count();
        }
    }
    assert_eq!(sealed, 1, "the person's key is in the backup, sealed");

    // Erased after the backup was taken.
    assert!(source.forget_subject(kept).unwrap());
    let named = ErasureRegister::read(&register).unwrap();
    assert!(named.contains(&kept) && named.contains(&never), "{named:?}");
    let keyring_bytes = std::fs::read(&keyring).unwrap();
    assert!(
        !keyring_bytes.windows(32).any(|window| window == backup_key),
        "the person's backup key is overwritten where it lay"
    );
    assert_eq!(BackupKeyring::open(&keyring).unwrap().backup_key_bytes(kept).unwrap(), None);

    // Restored with the register: erased.
    let (copy, restored, _) = restore_with(&bytes, second.path(), &named, Some(&keyring)).await.unwrap();
    assert_eq!(restored.erased_again, 1);
    assert_eq!(keys_of(&copy).get(&kept), Some(&None), "the key is a tombstone in the restored store");
    let events = copy.read_all(1, 1000).await.unwrap();
    assert!(events.iter().all(|event| !matches!(event.personal, Personal::Plain(_))), "no one's words read back");
    let again = copy
        .append(
            &crate::StreamName::new("case-new").unwrap(),
            crate::ExpectedRevision::Any,
            vec![
                crate::NewEvent::new("CaseNoted", 1, &json!({}))
                    .unwrap()
                    .with_personal(kept, &json!({ "w": 1 }))
                    .unwrap(),
            ],
        )
        .await;
    assert!(matches!(again, Err(Error::SubjectErased)), "{again:?}");

    // Without the register's list the keyring alone keeps them erased: their key cannot be
    // opened by anyone any more.
    let (unlisted, restored, _) = restore_with(&bytes, third.path(), &[], Some(&keyring)).await.unwrap();
    assert_eq!(restored.erased_again, 1);
    assert_eq!(keys_of(&unlisted).get(&kept), Some(&None));
    let back = unlisted.read_all(1, 1000).await.unwrap();
    assert!(!back.iter().any(|event| matches!(&event.personal, Personal::Plain(plain) if plain.subject == kept)));
    let fourth = tempfile::tempdir().unwrap();
    let refused = restore_with(&bytes, fourth.path(), &[], None).await.err().unwrap();
    assert!(refused.to_string().contains("backup keyring"), "without the keyring no key is restored: {refused}");
    // Nor with another keyring: it knows none of the backup's people, and says so rather than
    // take them all for erased.
    let (other, fifth) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let stranger = keyring_in(other.path());
    drop(BackupKeyring::open(&stranger).unwrap());
    let refused = restore_with(&bytes, fifth.path(), &[], Some(&stranger)).await.err().unwrap();
    assert!(refused.to_string().contains("not the keyring"), "{refused}");
    assert!(!keys_of(&source).values().any(|held| *held == Some(key)), "the store's own key is gone too");
    for store in [source, copy, unlisted] {
        store.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_backup_opened_with_another_passphrase_is_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let source = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    fill(&source).await;
    let bytes = back_up_unlocked(dir.path());
    let refused = Reader::new(&bytes[..], b"another passphrase").err().unwrap();
    assert!(refused.to_string().contains("the passphrase is not this backup's"), "{refused}");
    let empty = Reader::new(&bytes[..], b"").err().unwrap();
    assert!(empty.to_string().contains("the passphrase is empty"), "{empty}");
    source.close().await.unwrap();
}

/// Every section of a backup read to its end, or the first error.
fn read_through(bytes: &[u8]) -> crate::Result<u64> {
    let mut reader = Reader::new(bytes, PASSPHRASE)?;
    while reader.next_section()?.is_some() {}
    Ok(reader.counts().events)
}

#[tokio::test]
async fn a_backup_cut_short_or_with_one_byte_changed_is_refused_by_its_checksum_and_by_its_reader() {
    let dir = tempfile::tempdir().unwrap();
    let source = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    fill(&source).await;
    let bytes = back_up_unlocked(dir.path());
    assert_eq!(read_through(&bytes).unwrap(), 60);

    let cut = &bytes[..bytes.len() - 100];
    let said = backup::checksum_of(cut).unwrap_err().to_string();
    assert!(said.contains("cut short"), "{said}");
    assert!(read_through(cut).unwrap_err().to_string().contains("cut short"));

    let mut changed = bytes.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 1;
    let said = backup::checksum_of(&changed[..]).unwrap_err().to_string();
    assert!(said.contains("checksum does not match"), "{said}");
    assert!(read_through(&changed).unwrap_err().to_string().contains("damaged"));

    let not_a_backup = backup::checksum_of(&b"date,text\n2026-01-01,hello\n"[..]).unwrap_err().to_string();
    assert!(not_a_backup.contains("not a Heard backup"), "{not_a_backup}");
    source.close().await.unwrap();
}

#[tokio::test]
async fn a_restore_into_a_store_that_holds_anything_is_refused_and_adds_nothing() {
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let source = EventStore::open(first.path(), Upcasters::new()).unwrap();
    fill(&source).await;
    let bytes = back_up_unlocked(first.path());
    let busy = EventStore::open(second.path(), Upcasters::new()).unwrap();
    busy.append(
        &crate::StreamName::new("note-1").unwrap(),
        crate::ExpectedRevision::NoStream,
        vec![crate::NewEvent::new("Noted", 1, &json!({})).unwrap()],
    )
    .await
    .unwrap();
    let mut reader = Reader::new(&bytes[..], PASSPHRASE).unwrap();
    let refused = backup::restore(&mut reader, &busy, &[], None, |_, _| Ok(())).await.unwrap_err();
    assert!(refused.to_string().contains("restore only into an empty store"), "{refused}");
    assert_eq!(raw_log(&busy).await.len(), 1);
    for store in [source, busy] {
        store.close().await.unwrap();
    }
}

#[test]
fn the_erasure_register_skips_a_last_line_cut_short_and_names_a_bad_line_by_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register");
    let register = ErasureRegister::open(&path).unwrap();
    let (one, two) = (SubjectId::new(), SubjectId::new());
    register.note(&[one, two]).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut file| std::io::Write::write_all(&mut file, b"0191"))
        .unwrap();
    assert_eq!(ErasureRegister::read(&path).unwrap(), vec![one, two]);
    std::fs::write(&path, format!("{}\nAnn Smith\n", one.0)).unwrap();
    let said = ErasureRegister::read(&path).unwrap_err().to_string();
    assert!(said.contains("line 2 of the erasure register is not a subject id"), "{said}");
    assert!(!said.contains("Ann"), "the error never repeats the line: {said}");
}

#[tokio::test]
async fn a_backup_read_while_a_group_is_half_written_ends_at_the_last_whole_record() {
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let source = EventStore::open(first.path(), Upcasters::new()).unwrap();
    fill(&source).await;
    let head = source.head();
    // What a write in progress looks like to a reader: a frame whose length says more than the
    // segment holds yet.
    let segment = first.path().join("log").join("00000001.seg");
    let mut tail = 500u32.to_be_bytes().to_vec();
    tail.extend_from_slice(&[1; 100]);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&segment)
        .and_then(|mut file| std::io::Write::write_all(&mut file, &tail))
        .unwrap();
    let bytes = back_up_unlocked(first.path());
    let (copy, restored, _) = restore_into(&bytes, first.path(), second.path(), &[]).await;
    assert_eq!(restored.head, head);
    assert_eq!(raw_log(&copy).await, raw_log(&source).await);
    for store in [source, copy] {
        store.close().await.unwrap();
    }
}
