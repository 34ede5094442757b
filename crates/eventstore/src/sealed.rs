//! Personal fields as a read model keeps them: still sealed under the person's key.
//!
//! A read model that held decrypted words would keep a person's words after their key was
//! destroyed, and a model written to disk would copy them there. So models keep a [`Sealed`]
//! (the ciphertext, bound to its stream and event) and open it when a query reads it
//! ([`EventStore::unseal`](crate::EventStore::unseal)). Once the key is destroyed, every
//! [`Sealed`] of that person opens to `None`, in memory and on disk alike, at once. There is no
//! cache of opened words to clear: opening costs one key lookup and one decryption.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::types::{Personal, RecordedEvent, SealedPersonal, SubjectId};

/// The personal fields of one event, of type `T`, still encrypted.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Sealed<T> {
    subject: SubjectId,
    /// The stream and event the ciphertext is bound to (its associated data).
    stream: String,
    event: Uuid,
    nonce: [u8; 12],
    #[serde(with = "serde_bytes")]
    ciphertext: Vec<u8>,
    #[serde(skip)]
    of: PhantomData<fn() -> T>,
}

impl<T> Sealed<T> {
    pub(crate) fn new(stream: &str, event: Uuid, sealed: &SealedPersonal) -> Self {
        Sealed {
            subject: sealed.subject,
            stream: stream.to_owned(),
            event,
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext.clone(),
            of: PhantomData,
        }
    }

    /// The person whose key seals these fields.
    pub fn subject(&self) -> SubjectId {
        self.subject
    }

    /// The event the fields came with.
    pub fn event(&self) -> Uuid {
        self.event
    }

    pub(crate) fn parts(&self) -> (&str, SealedPersonal) {
        (&self.stream, SealedPersonal { subject: self.subject, nonce: self.nonce, ciphertext: self.ciphertext.clone() })
    }

    /// The same ciphertext, read as another shape (for a model that reads only some fields).
    pub fn cast<U>(self) -> Sealed<U> {
        Sealed {
            subject: self.subject,
            stream: self.stream,
            event: self.event,
            nonce: self.nonce,
            ciphertext: self.ciphertext,
            of: PhantomData,
        }
    }
}

impl<T> Clone for Sealed<T> {
    fn clone(&self) -> Self {
        Sealed {
            subject: self.subject,
            stream: self.stream.clone(),
            event: self.event,
            nonce: self.nonce,
            ciphertext: self.ciphertext.clone(),
            of: PhantomData,
        }
    }
}

impl<T> PartialEq for Sealed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.event == other.event && self.nonce == other.nonce && self.ciphertext == other.ciphertext
    }
}

impl<T> Eq for Sealed<T> {}

/// Names nothing: not the stream (which carries an id), nor a byte of the ciphertext.
impl<T> fmt::Debug for Sealed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealed(..)")
    }
}

impl RecordedEvent {
    /// The personal fields still sealed, for a read model to keep and open when it is read;
    /// `None` when there are none or they were erased.
    pub fn sealed<T>(&self) -> Option<Sealed<T>> {
        if matches!(self.personal, Personal::Erased { .. } | Personal::None) {
            return None;
        }
        let sealed = match &self.personal {
            Personal::Sealed(sealed) => sealed,
            _ => self.sealed_personal.as_ref()?,
        };
        Some(Sealed::new(self.stream.as_str(), self.id, sealed))
    }
}
