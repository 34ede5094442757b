//! Idempotent commands, for flaky networks (issue #21).
//!
//! A mutation that creates a record takes an optional `clientMutationId`: 1 to 64 letters,
//! digits, `_` or `-`, made up by the client for one thing it means to create. The new
//! record's id is then not random but derived from it ([`record_id`], a UUID v5 over the acting
//! account, the mutation and the client's id), and its stream is started with
//! `ExpectedRevision::NoStream` as always. So:
//!
//! - a retry (the answer was lost, the form was sent twice) finds the record and answers it,
//!   as the first answer did, appending nothing;
//! - of two identical requests at once, one appends; the other's append finds the stream
//!   already there ([`already_started`]), waits until the service's model has caught up
//!   ([`catch_up`]) and answers the record too;
//! - a retry whose details differ from the first (the words were edited after the answer was
//!   lost) is refused on `input.clientMutationId` ([`sent_differently`]): the first version was
//!   saved, and the new one must be sent as a new one, with a new id;
//! - the account is part of the derivation: another account sending the same id makes its own
//!   record, and cannot reach, probe or read anyone else's through it.
//!
//! A record added inside another (an action on a case, a milestone, an evidence link) gets its
//! id from [`child_id`], which adds the parent's id: its stream exists already and is appended
//! at its exact revision, so a retry racing the first gets the usual conflict, and the caller
//! looks again once the model has caught up.
//!
//! Nothing here carries personal data: the errors are fixed sentences, and the derived ids
//! come from an account id, a mutation name and the client's id (which must not hold any).

use std::time::Duration;

use heard_eventstore::{ExpectedRevision, Fold, LiveModel, NewEvent, StreamName};
use uuid::Uuid;

use crate::{ApiError, ApiResult};

/// The field, as clients spell it, every refusal here names.
pub const FIELD: &str = "input.clientMutationId";

/// The longest `clientMutationId` taken.
pub const MAX_LEN: usize = 64;

/// How long a command that lost the race waits for the model to show the winner's record.
const CATCH_UP_WITHIN: Duration = Duration::from_secs(10);

/// The namespace of every id derived here (a fixed, random UUID: ids from other v5 namespaces
/// never meet these).
const NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_4b0e_93a2_4c55_9f3e_2d8a_51c0_7e19);

/// A client's id for one thing it means to create: 1 to [`MAX_LEN`] of `A–Z a–z 0–9 _ -`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientMutationId(String);

impl ClientMutationId {
    /// Checks a `clientMutationId`; refused on [`FIELD`], without repeating what was sent.
    pub fn parse(given: &str) -> ApiResult<Self> {
        let fits = (1..=MAX_LEN).contains(&given.len())
            && given.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !fits {
            return Err(ApiError::bad_input(
                FIELD,
                format!("give 1 to {MAX_LEN} letters, digits, _ or - (a new random one for each thing you create)"),
            ));
        }
        Ok(ClientMutationId(given.to_owned()))
    }

    /// [`Self::parse`] for an optional argument: `None` when it was left out.
    pub fn optional(given: Option<&str>) -> ApiResult<Option<Self>> {
        given.map(Self::parse).transpose()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id of the record `command` (the mutation's name, such as `logFeedback`) creates for
/// `account`: derived from `client` when given, so that sending it again names the same
/// record; a new random id otherwise.
pub fn record_id(account: Uuid, command: &str, client: Option<&ClientMutationId>) -> Uuid {
    match client {
        Some(client) => derive(&[account.as_bytes(), command.as_bytes(), client.as_str().as_bytes()]),
        None => Uuid::new_v4(),
    }
}

/// The id of a record `command` adds to the record `parent` (an action on a case, a milestone
/// of a decision): as [`record_id`], with the parent in the derivation, so that one client id
/// used on two parents makes two records.
pub fn child_id(account: Uuid, command: &str, parent: Uuid, client: Option<&ClientMutationId>) -> Uuid {
    match client {
        Some(client) => {
            derive(&[account.as_bytes(), command.as_bytes(), parent.as_bytes(), client.as_str().as_bytes()])
        }
        None => Uuid::new_v4(),
    }
}

/// UUID v5 over the parts, each preceded by its length (so no two lists of parts run together
/// into the same bytes).
fn derive(parts: &[&[u8]]) -> Uuid {
    let mut name = Vec::with_capacity(parts.iter().map(|part| part.len() + 4).sum());
    for part in parts {
        name.extend_from_slice(&u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        name.extend_from_slice(part);
    }
    Uuid::new_v5(&NAMESPACE, &name)
}

/// Whether an append failed only because the stream it was to start is already there: with a
/// derived id, the same command got there first (with a random one, this never happens).
pub fn already_started(error: &heard_eventstore::Error) -> bool {
    matches!(error, heard_eventstore::Error::WrongExpectedRevision { expected: ExpectedRevision::NoStream, .. })
}

/// Whether an append failed because its stream moved on since it was read: for a record added
/// inside another, perhaps the same command a moment earlier.
pub fn conflicted(error: &heard_eventstore::Error) -> bool {
    matches!(error, heard_eventstore::Error::WrongExpectedRevision { .. })
}

/// Waits until `model` has applied everything in the log now (over PostgreSQL, as far as the
/// database is, which another replica may have moved on): then it shows what the command that
/// got there first appended.
pub async fn catch_up<S: Fold>(model: &LiveModel<S>) -> ApiResult<()> {
    let head = model.store().refresh_head().await?;
    if !model.wait_for(head, CATCH_UP_WITHIN).await {
        return Err(ApiError::internal(format!("a model did not reach position {head} within 10 s")));
    }
    Ok(())
}

/// Starts a new record's stream with `events` and answers the record as `read` then finds it.
/// When the same command, sent at the same moment, started it first ([`already_started`]),
/// waits until the model shows it ([`catch_up`]) and answers `again(read())`. Any other refusal
/// is `refused(error)`. The one way every service starts a record a client may send twice.
pub async fn start_record<S: Fold, T>(
    model: &LiveModel<S>,
    stream: &StreamName,
    events: Vec<NewEvent>,
    read: impl Fn() -> Option<T>,
    again: impl FnOnce(Option<T>) -> ApiResult<T>,
    refused: impl FnOnce(heard_eventstore::Error) -> ApiError,
) -> ApiResult<T> {
    match model.append(stream, ExpectedRevision::NoStream, events).await {
        Ok(_) => read().ok_or_else(|| ApiError::internal("a new record is missing from its model")),
        Err(error) if already_started(&error) => {
            catch_up(model).await?;
            again(read())
        }
        Err(error) => Err(refused(error)),
    }
}

/// The answer to a command sent again: what it made the first time (`found`) when `same`
/// says the details match, [`sent_differently`] when they do not, and [`gone`] when it can no
/// longer be shown.
pub fn again<T>(found: Option<T>, same: impl FnOnce(&T) -> bool) -> ApiResult<T> {
    match found {
        Some(found) if same(&found) => Ok(found),
        Some(_) => Err(sent_differently()),
        None => Err(gone()),
    }
}

/// This `clientMutationId` was used before, with other details.
pub fn sent_differently() -> ApiError {
    ApiError::bad_input(
        FIELD,
        "this was already sent with different details; the first version was saved and nothing was changed. \
         To save these details too, send them as a new one (with a new clientMutationId)",
    )
}

/// This `clientMutationId` was used before, and what it made can no longer be shown (taken back
/// or erased since).
pub fn gone() -> ApiError {
    ApiError::bad_input(
        FIELD,
        "this was already sent once, and what it made has since been taken back or erased; \
         to save it again, send it as a new one (with a new clientMutationId)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_id_is_one_to_sixty_four_letters_digits_underscores_or_hyphens() {
        for good in ["a", "A-b_9", &"x".repeat(64), "0f8e2c1a-7d3b-4e5f-9a6b-1c2d3e4f5a6b"] {
            assert_eq!(ClientMutationId::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", &"x".repeat(65), "has space", "é", "a/b", "a.b", "line\nbreak"] {
            let Err(ApiError::BadUserInput { field, message }) = ClientMutationId::parse(bad) else {
                panic!("{bad:?} was taken");
            };
            assert_eq!(field, FIELD);
            assert!(bad.is_empty() || !message.contains(bad), "the refusal repeats nothing sent");
        }
        assert_eq!(ClientMutationId::optional(None).unwrap(), None);
    }

    #[test]
    fn the_same_account_command_and_client_id_name_the_same_record_and_anything_else_another() {
        let (me, you) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let once = ClientMutationId::parse("form-1").unwrap();
        let other = ClientMutationId::parse("form-2").unwrap();
        let id = record_id(me, "logFeedback", Some(&once));
        assert_eq!(id, record_id(me, "logFeedback", Some(&once)));
        assert_eq!(id.get_version_num(), 5);
        assert_ne!(id, record_id(you, "logFeedback", Some(&once)), "another account");
        assert_ne!(id, record_id(me, "raiseComplaint", Some(&once)), "another mutation");
        assert_ne!(id, record_id(me, "logFeedback", Some(&other)), "another client id");
        assert_ne!(record_id(me, "logFeedback", None), record_id(me, "logFeedback", None), "none: always new");
        let (case, other_case) = (Uuid::from_u128(7), Uuid::from_u128(8));
        let action = child_id(me, "recordCaseAction", case, Some(&once));
        assert_eq!(action, child_id(me, "recordCaseAction", case, Some(&once)));
        assert_ne!(action, child_id(me, "recordCaseAction", other_case, Some(&once)), "another parent");
    }

    #[test]
    fn a_retry_answers_the_first_record_only_when_its_details_match() {
        assert_eq!(again(Some(3), |found| *found == 3).unwrap(), 3);
        let Err(ApiError::BadUserInput { field, .. }) = again(Some(3), |found| *found == 4) else { panic!() };
        assert_eq!(field, FIELD);
        let Err(ApiError::BadUserInput { field, .. }) = again(None::<u8>, |_| true) else { panic!() };
        assert_eq!(field, FIELD);
    }
}
