//! The segment log's record decoder, and opening a log whose last segment ends in arbitrary
//! bytes (a torn write).
//!
//! An input that starts with `T` is a torn tail: the next byte chooses how many whole records
//! (0 to 3) the segment holds, and the rest is appended after them. The log must open, keep
//! every whole record as it was, cut or keep the tail without panicking, take an append, and
//! open again with that append in place.
//!
//! Any other input is one record, as a segment frame holds it after its length prefix (see
//! `heard_eventstore::record`): `record::decode` must not panic, and what it accepts must
//! re-encode to the same bytes, with `hash_matches` agreeing with the decoded hashes.

#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use heard_eventstore::record::{self, PreparedEvent};
use heard_eventstore::types::{ExpectedRevision, SealedPersonal, StreamName, SubjectId};
use heard_eventstore::{Backend, SegmentBackend};
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((b'T', rest)) => torn_tail(rest),
        _ => decode(data),
    }
});

fn decode(bytes: &[u8]) {
    let matches = record::hash_matches(bytes);
    // The position the record claims, so that the decoder gets past that check.
    let claimed = bytes.get(1..9).map_or(0, |claimed| u64::from_be_bytes(claimed.try_into().unwrap()));
    let Ok(event) = record::decode(claimed, bytes) else { return };
    assert!(record::decode(claimed.wrapping_add(1), bytes).is_err(), "a record decoded at another position");
    let mut again = record::encode_body_of(&event);
    assert_eq!(matches, record::chain_hash(&event.prev_hash, &again) == event.hash, "hash_matches disagrees");
    again.extend_from_slice(&event.prev_hash);
    again.extend_from_slice(&event.hash);
    assert!(again == bytes, "a decoded record re-encodes to other bytes");
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap());

/// Whole records of positions 1 to `count`, chained, as the log writes them (one of them with
/// sealed personal fields): each record's bytes and its hash.
fn whole_records(count: u64) -> Vec<(Vec<u8>, [u8; 32], Uuid)> {
    let mut prev = [0; 32];
    (1..=count)
        .map(|position| {
            let id = Uuid::from_u128(0xF022_0000_0000_4000_8000_0000_0000_0000 | u128::from(position));
            let event = PreparedEvent {
                id,
                event_type: "FuzzRecorded".into(),
                schema_version: 1,
                metadata: br#"{"by":"fuzz"}"#.to_vec(),
                data: format!(r#"{{"n":{position}}}"#).into_bytes(),
                sealed: (position == 2).then(|| SealedPersonal {
                    subject: SubjectId(Uuid::from_u128(7)),
                    nonce: [3; 12],
                    ciphertext: vec![0xAB; 40],
                }),
            };
            let stream = StreamName::new(format!("fuzz-{position}")).unwrap();
            let body = record::encode_body(position, &stream, 0, 1_700_000_000_000_000, &event);
            let (bytes, hash) = record::seal_record(body, &prev);
            prev = hash;
            (bytes, hash, id)
        })
        .collect()
}

fn torn_tail(rest: &[u8]) {
    let Some((&count, tail)) = rest.split_first() else { return };
    let count = u64::from(count % 4);
    let records = whole_records(count);
    let mut segment = Vec::new();
    for (bytes, _, _) in &records {
        segment.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        segment.extend_from_slice(bytes);
    }
    segment.extend_from_slice(tail);
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.unwrap();
    std::fs::write(dir.path().join("00000001.seg"), &segment).unwrap();
    RUNTIME.block_on(async {
        let log = SegmentBackend::open(dir.path()).expect("a log with a torn tail opens");
        let head = log.head();
        assert!(head.position >= count, "whole records were lost: head {} of {count}", head.position);
        let read = log.read_all(1, records.len()).await.expect("the whole records read back");
        assert_eq!(read.len(), records.len());
        for (event, (_, hash, id)) in read.iter().zip(&records) {
            assert_eq!((event.id, event.hash), (*id, *hash), "a whole record changed at {}", event.position);
        }
        if head.position == count {
            assert_eq!(head.hash, records.last().map_or([0; 32], |(_, hash, _)| *hash));
        }
        let stream = StreamName::new("fuzz-after").unwrap();
        let after = PreparedEvent {
            id: Uuid::from_u128(0xF022_AF7E_0000_4000_8000_0000_0000_0000),
            event_type: "FuzzAppended".into(),
            schema_version: 1,
            metadata: b"{}".to_vec(),
            data: b"{}".to_vec(),
            sealed: None,
        };
        log.append(&stream, ExpectedRevision::Any, vec![after], None).await.expect("the log takes an append");
        let appended = log.head();
        log.close().await.expect("the log closes");
        drop(log);

        let log = SegmentBackend::open(dir.path()).expect("the log opens again");
        assert_eq!(log.head(), appended, "the append is not where it was after opening again");
        let read = log.read_all(1, records.len()).await.expect("the whole records read back again");
        assert_eq!(
            read.iter().map(|event| event.hash).collect::<Vec<_>>(),
            records.iter().map(|r| r.1).collect::<Vec<_>>()
        );
        let last = log.read_all(appended.position, 1).await.expect("the append reads back");
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].stream, stream);
        log.close().await.expect("the log closes again");
    });
}
