//! Walks the hash chain of the global log.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::record;
use crate::store::EventStore;

/// What a walk of the chain found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Events checked.
    pub events: u64,
    /// The hash of the last event checked, hex.
    pub head: String,
    pub ok: bool,
    /// The first position where the chain breaks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Checks every event from position 1 up to `up_to` (or the head): positions are gapless, each
/// event names the previous event's hash, and each hash matches its content.
pub async fn verify_chain(store: &EventStore, up_to: Option<u64>) -> Result<ChainReport> {
    let end = up_to.unwrap_or_else(|| store.head().position);
    let mut expected_position = 1;
    let mut previous_hash = [0u8; 32];
    let broken = |position: u64, reason: String, events: u64, hash: &[u8; 32]| ChainReport {
        events,
        head: hex::encode(hash),
        ok: false,
        broken_at: Some(position),
        reason: Some(reason),
    };
    if end > store.head().position {
        return Ok(broken(end, format!("the log ends at position {}", store.head().position), 0, &previous_hash));
    }
    while expected_position <= end {
        let page = match store.read_all_raw(expected_position, 4096).await {
            Ok(page) => page,
            Err(Error::Corrupt { position, detail }) => {
                return Ok(broken(position.max(expected_position), detail, expected_position - 1, &previous_hash));
            }
            Err(other) => return Err(other),
        };
        if page.is_empty() {
            return Ok(broken(expected_position, "event is missing".into(), expected_position - 1, &previous_hash));
        }
        for event in page {
            if event.position > end {
                break;
            }
            let checked = expected_position - 1;
            if event.position != expected_position {
                return Ok(broken(expected_position, "event is missing".into(), checked, &previous_hash));
            }
            if event.prev_hash != previous_hash {
                return Ok(broken(
                    event.position,
                    "does not follow the previous event's hash".into(),
                    checked,
                    &previous_hash,
                ));
            }
            let body = record::encode_body_of(&event);
            if record::chain_hash(&event.prev_hash, &body) != event.hash {
                return Ok(broken(event.position, "content does not match its hash".into(), checked, &previous_hash));
            }
            previous_hash = event.hash;
            expected_position += 1;
        }
    }
    Ok(ChainReport { events: end, head: hex::encode(previous_hash), ok: true, broken_at: None, reason: None })
}
