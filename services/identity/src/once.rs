//! Sealing what a page shows once ([`IdentityService::keep_once`](crate::service::IdentityService::keep_once)):
//! ChaCha20-Poly1305 under a key derived from `secret.key` (which every replica holds and the
//! database does not), with a fresh nonce, bound to the session and slot as associated data, so
//! a row copied to another session or slot does not open.

use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use uuid::Uuid;

use crate::secrets::Secrets;

/// What the derived key is for.
const PURPOSE: &str = "pages shown once";

fn cipher(secrets: &Secrets) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new_from_slice(&secrets.derived_key(PURPOSE)).expect("a 32-byte key")
}

fn associated_data(session: Uuid, slot: &str) -> Vec<u8> {
    let mut aad = session.as_bytes().to_vec();
    aad.push(0);
    aad.extend_from_slice(slot.as_bytes());
    aad
}

/// The nonce, then the ciphertext of `shown` for `session`'s `slot`.
pub(crate) fn seal(secrets: &Secrets, session: Uuid, slot: &str, shown: &str) -> Option<Vec<u8>> {
    let nonce = Nonce::generate();
    let aad = associated_data(session, slot);
    let ciphertext = cipher(secrets).encrypt(&nonce, Payload { msg: shown.as_bytes(), aad: &aad }).ok()?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&ciphertext);
    Some(sealed)
}

/// What [`seal`] sealed for `session`'s `slot`; `None` for anything else (another session's,
/// another slot's, altered, or sealed under another server key).
pub(crate) fn open(secrets: &Secrets, session: Uuid, slot: &str, sealed: &[u8]) -> Option<String> {
    if sealed.len() < 12 {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(12);
    let nonce = Nonce::try_from(nonce).ok()?;
    let aad = associated_data(session, slot);
    let plain = cipher(secrets).decrypt(&nonce, Payload { msg: ciphertext, aad: &aad }).ok()?;
    String::from_utf8(plain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_page_opens_only_for_its_own_session_and_slot_and_never_holds_its_words_in_the_clear() {
        let secrets = Secrets::from_key([9; 32]);
        let session = Uuid::new_v4();
        let sealed = seal(&secrets, session, "refused-1", "Nobody rings back after six").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"Nobody"), "sealed, not in the clear");
        assert_eq!(open(&secrets, session, "refused-1", &sealed).as_deref(), Some("Nobody rings back after six"));
        assert_eq!(open(&secrets, Uuid::new_v4(), "refused-1", &sealed), None, "another session's");
        assert_eq!(open(&secrets, session, "refused-2", &sealed), None, "another slot's");
        assert_eq!(open(&Secrets::from_key([8; 32]), session, "refused-1", &sealed), None, "another server key's");
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(open(&secrets, session, "refused-1", &altered), None, "altered");
    }
}
