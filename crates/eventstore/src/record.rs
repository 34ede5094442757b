//! The on-disk form of one event and the hash that chains it to the one before.
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! body:  format(1)=1 position(8) revision(8) stream(len16+bytes) id(16) type(len16+bytes)
//!        schema_version(4) recorded_at_micros(8) metadata(len32+bytes) data(len32+bytes)
//!        personal(1: 0 none | 1 sealed) [subject(16) nonce(12) ciphertext(len32+bytes)]
//! trailer: prev_hash(32) hash(32)        where hash = SHA-256(prev_hash ‖ body)
//! ```
//!
//! The hash covers the ciphertext of personal fields, never the plaintext, so destroying a
//! subject's key (erasure) leaves every hash, and so the chain, intact.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::types::{Personal, RecordedEvent, SealedPersonal, StreamName, SubjectId};

const FORMAT_VERSION: u8 = 1;
const TRAILER_LEN: usize = 64;

/// The fields that go into a record before its position and hashes are known.
#[derive(Clone, Debug)]
pub struct PreparedEvent {
    pub id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub metadata: Vec<u8>,
    pub data: Vec<u8>,
    pub sealed: Option<SealedPersonal>,
}

/// Encodes an event body (everything the hash covers, apart from the previous hash).
pub fn encode_body(
    position: u64,
    stream: &StreamName,
    revision: u64,
    recorded_at_micros: i64,
    event: &PreparedEvent,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        96 + stream.as_str().len()
            + event.event_type.len()
            + event.metadata.len()
            + event.data.len()
            + event.sealed.as_ref().map_or(0, |s| s.ciphertext.len() + 32),
    );
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&position.to_be_bytes());
    out.extend_from_slice(&revision.to_be_bytes());
    put_short(&mut out, stream.as_str().as_bytes());
    out.extend_from_slice(event.id.as_bytes());
    put_short(&mut out, event.event_type.as_bytes());
    out.extend_from_slice(&event.schema_version.to_be_bytes());
    out.extend_from_slice(&recorded_at_micros.to_be_bytes());
    put_long(&mut out, &event.metadata);
    put_long(&mut out, &event.data);
    match &event.sealed {
        None => out.push(0),
        Some(sealed) => {
            out.push(1);
            out.extend_from_slice(sealed.subject.0.as_bytes());
            out.extend_from_slice(&sealed.nonce);
            put_long(&mut out, &sealed.ciphertext);
        }
    }
    out
}

/// The chain hash of a body given the previous event's hash.
pub fn chain_hash(prev_hash: &[u8; 32], body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(body);
    hasher.finalize().into()
}

/// Appends the trailer, producing the full record, and returns it with its hash.
pub fn seal_record(mut body: Vec<u8>, prev_hash: &[u8; 32]) -> (Vec<u8>, [u8; 32]) {
    let hash = chain_hash(prev_hash, &body);
    body.extend_from_slice(prev_hash);
    body.extend_from_slice(&hash);
    (body, hash)
}

/// Checks that a record's stored hash matches its content and previous hash.
pub fn hash_matches(bytes: &[u8]) -> bool {
    if bytes.len() < TRAILER_LEN {
        return false;
    }
    let (body, trailer) = bytes.split_at(bytes.len() - TRAILER_LEN);
    let prev: [u8; 32] = trailer[..32].try_into().unwrap_or([0; 32]);
    let stored = &trailer[32..];
    chain_hash(&prev, body) == stored
}

/// Decodes a record; `expected_position` names the position in errors.
pub fn decode(expected_position: u64, bytes: &[u8]) -> Result<RecordedEvent> {
    let mut reader = Reader { bytes, at: 0, position: expected_position };
    let format = reader.u8()?;
    if format != FORMAT_VERSION {
        return Err(Error::corrupt(expected_position, format!("unknown record format {format}")));
    }
    let position = reader.u64()?;
    if position != expected_position {
        return Err(Error::corrupt(expected_position, format!("record claims position {position}")));
    }
    let revision = reader.u64()?;
    let stream = reader.string_short()?;
    let stream = StreamName::new(stream).map_err(|_| Error::corrupt(position, "stream name is not valid"))?;
    let id = Uuid::from_bytes(reader.array::<16>()?);
    let event_type = reader.string_short()?;
    let schema_version = u32::from_be_bytes(reader.array::<4>()?);
    let recorded_at_micros = i64::from_be_bytes(reader.array::<8>()?);
    let metadata = reader.long()?.to_vec();
    let data = reader.long()?.to_vec();
    let personal = match reader.u8()? {
        0 => Personal::None,
        1 => {
            let subject = SubjectId(Uuid::from_bytes(reader.array::<16>()?));
            let nonce = reader.array::<12>()?;
            let ciphertext = reader.long()?.to_vec();
            Personal::Sealed(SealedPersonal { subject, nonce, ciphertext })
        }
        other => {
            return Err(Error::corrupt(position, format!("unknown personal marker {other}")));
        }
    };
    let prev_hash = reader.array::<32>()?;
    let hash = reader.array::<32>()?;
    if reader.at != bytes.len() {
        return Err(Error::corrupt(position, "trailing bytes after the record"));
    }
    Ok(RecordedEvent {
        position,
        stream,
        revision,
        id,
        event_type,
        schema_version,
        recorded_at_micros,
        metadata,
        data,
        personal,
        sealed_personal: None,
        prev_hash,
        hash,
    })
}

fn put_short(out: &mut Vec<u8>, bytes: &[u8]) {
    // Callers validate lengths (stream names ≤ 200, event types ≤ 200).
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes[..usize::from(len)]);
}

fn put_long(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes[..len as usize]);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    position: u64,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len());
        let Some(end) = end else {
            return Err(Error::corrupt(self.position, "record is truncated"));
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let slice = self.take(N)?;
        let mut out = [0; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.array::<8>()?))
    }

    fn string_short(&mut self) -> Result<String> {
        let len = u16::from_be_bytes(self.array::<2>()?);
        let bytes = self.take(usize::from(len))?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Error::corrupt(self.position, "text is not UTF-8"))
    }

    fn long(&mut self) -> Result<&'a [u8]> {
        let len = u32::from_be_bytes(self.array::<4>()?);
        self.take(len as usize)
    }
}

/// Re-encodes the body of a decoded raw record (personal fields still sealed), to check its hash.
pub fn encode_body_of(event: &RecordedEvent) -> Vec<u8> {
    encode_body(event.position, &event.stream, event.revision, event.recorded_at_micros, &prepared_of(event))
}

/// The fields of a decoded raw record (personal fields still sealed) as they went into it.
pub(crate) fn prepared_of(event: &RecordedEvent) -> PreparedEvent {
    let sealed = match &event.personal {
        Personal::Sealed(sealed) => Some(sealed.clone()),
        _ => None,
    };
    PreparedEvent {
        id: event.id,
        event_type: event.event_type.clone(),
        schema_version: event.schema_version,
        metadata: event.metadata.clone(),
        data: event.data.clone(),
        sealed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<u8>, [u8; 32]) {
        let event = PreparedEvent {
            id: Uuid::new_v4(),
            event_type: "Tested".into(),
            schema_version: 2,
            metadata: b"null".to_vec(),
            data: br#"{"a":1}"#.to_vec(),
            sealed: Some(SealedPersonal { subject: SubjectId::new(), nonce: [7; 12], ciphertext: vec![1, 2, 3] }),
        };
        let stream = StreamName::new("test-1").unwrap();
        let body = encode_body(5, &stream, 3, 42, &event);
        seal_record(body, &[9; 32])
    }

    #[test]
    fn a_record_round_trips_and_its_hash_matches() {
        let (bytes, hash) = sample();
        let event = decode(5, &bytes).unwrap();
        assert_eq!(event.revision, 3);
        assert_eq!(event.hash, hash);
        assert_eq!(event.prev_hash, [9; 32]);
        assert!(hash_matches(&bytes));
    }

    #[test]
    fn every_truncation_of_a_record_is_reported_as_corrupt_not_a_panic() {
        let (bytes, _) = sample();
        for len in 0..bytes.len() {
            assert!(matches!(decode(5, &bytes[..len]), Err(Error::Corrupt { position: 5, .. })), "len {len}");
        }
    }

    #[test]
    fn a_flipped_byte_anywhere_breaks_the_hash_or_the_decoding() {
        let (bytes, _) = sample();
        for i in 0..bytes.len() {
            let mut copy = bytes.clone();
            copy[i] ^= 0x40;
            let decoded = decode(5, &copy);
            assert!(decoded.is_err() || !hash_matches(&copy), "byte {i}");
        }
    }
}
