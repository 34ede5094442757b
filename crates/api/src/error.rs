//! Errors as clients see them.

use async_graphql::ErrorExtensions;

/// The stable codes in `extensions.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    BadUserInput,
    /// The account has a one-time password: nothing but changing it (and `me`, `logout`)
    /// works until it is changed.
    PasswordChangeRequired,
    /// The store takes no writes now (its disk is full, or a write to it failed): nothing was
    /// saved, reading still works.
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::PasswordChangeRequired => "PASSWORD_CHANGE_REQUIRED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// An error a resolver returns. Messages are written for the person using Heard and never
/// carry personal data.
///
/// It deliberately does not implement `Display`: async-graphql turns anything `Display` into an
/// error without a code, so the only way into a GraphQL error is `From<ApiError>`, which sets one.
#[derive(Debug)]
pub enum ApiError {
    Unauthenticated(String),
    Forbidden(String),
    /// Not found, or hidden from the asker: the two answer byte for byte the same, so nobody
    /// can tell a record they may not see from one that does not exist.
    NotFound,
    Conflict(String),
    /// The viewer must change their one-time password before anything else.
    PasswordChangeRequired(String),
    /// `field` is the input field, in the client's spelling (`input.email`).
    BadUserInput {
        field: String,
        message: String,
    },
    /// Nothing can be saved now (the disk is full, or the store stopped taking writes after one
    /// failed); the message says what an administrator must do.
    Unavailable(String),
    /// The detail is logged with a reference; the client sees only the reference.
    Internal {
        reference: uuid::Uuid,
    },
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The one message for "does not exist" and "not yours".
pub const NOT_FOUND_MESSAGE: &str = "not found: there is nothing with this id that you may see";

/// The message for a write the store refused because its disk is full.
pub const DISK_FULL_MESSAGE: &str = "nothing was saved: the disk Heard writes to is full (no space left on device). \
    Everything saved before is safe and can still be read; Heard saves again as soon as an administrator frees disk \
    space, so try again then";

/// The message for a write the disk refused for another reason, and that the store undid.
pub const NOT_WRITTEN_MESSAGE: &str = "nothing was saved: the disk Heard writes to refused the write. Everything \
    saved before is safe and can still be read; try again, and if it keeps failing tell an administrator";

/// The message for a write refused because the store stopped taking writes after one it could not
/// make durable (the first write to fail on a full disk ends up here too).
pub const WRITES_STOPPED_MESSAGE: &str = "nothing was saved: Heard could not write to its disk (most often because \
    the disk is full) and takes no changes until it is restarted. Everything saved before is safe and can still be \
    read; an administrator must free disk space and restart Heard";

impl ApiError {
    /// Not found, or not the asker's to see (the same answer).
    pub fn not_found() -> Self {
        ApiError::NotFound
    }

    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadUserInput { field: field.into(), message: message.into() }
    }

    /// Logs `detail` under a fresh reference and returns an error that shows only the reference.
    /// `detail` must not hold personal data (store errors never do).
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let reference = uuid::Uuid::new_v4();
        tracing::error!(%reference, error = %detail, "internal error");
        ApiError::Internal { reference }
    }

    /// The message shown to the client.
    pub fn message(&self) -> String {
        match self {
            ApiError::Unauthenticated(message)
            | ApiError::Forbidden(message)
            | ApiError::Conflict(message)
            | ApiError::PasswordChangeRequired(message)
            | ApiError::Unavailable(message) => message.clone(),
            ApiError::NotFound => NOT_FOUND_MESSAGE.to_owned(),
            ApiError::BadUserInput { field, message } => format!("{field}: {message}"),
            ApiError::Internal { reference } => {
                format!("something went wrong on our side; please try again (reference {reference})")
            }
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::Conflict(_) => ErrorCode::Conflict,
            ApiError::BadUserInput { .. } => ErrorCode::BadUserInput,
            ApiError::PasswordChangeRequired(_) => ErrorCode::PasswordChangeRequired,
            ApiError::Unavailable(_) => ErrorCode::Unavailable,
            ApiError::Internal { .. } => ErrorCode::Internal,
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        async_graphql::Error::new(error.message()).extend_with(|_, extensions| {
            extensions.set("code", error.code().as_str());
            match &error {
                ApiError::BadUserInput { field, .. } => extensions.set("field", field.as_str()),
                ApiError::Internal { reference } => extensions.set("reference", reference.to_string()),
                _ => {}
            }
        })
    }
}

impl From<heard_eventstore::Error> for ApiError {
    /// A store error reaching a resolver: a conflict is the client's to retry; a full disk, or a
    /// store that stopped taking writes after one failed, says so (`UNAVAILABLE`); anything else
    /// is internal.
    fn from(error: heard_eventstore::Error) -> Self {
        match error {
            heard_eventstore::Error::WrongExpectedRevision { .. } => {
                ApiError::Conflict("someone else changed this at the same time; reload and try again".into())
            }
            heard_eventstore::Error::SubjectErased => ApiError::Conflict(
                "this person's records have been erased; nothing more can be recorded about them".into(),
            ),
            heard_eventstore::Error::Poisoned => {
                tracing::error!(error = %heard_eventstore::Error::Poisoned, "a write was refused");
                ApiError::Unavailable(WRITES_STOPPED_MESSAGE.into())
            }
            heard_eventstore::Error::NotWritten { detail } | heard_eventstore::Error::Storage { detail }
                if is_disk_full(&detail) =>
            {
                tracing::error!(error = %detail, "a write was refused: the disk is full");
                ApiError::Unavailable(DISK_FULL_MESSAGE.into())
            }
            heard_eventstore::Error::NotWritten { detail } => {
                tracing::error!(error = %detail, "a write was refused by the disk and undone");
                ApiError::Unavailable(NOT_WRITTEN_MESSAGE.into())
            }
            other => ApiError::internal(other),
        }
    }
}

/// Whether an I/O error's text is the operating system's "no space left on device" (ENOSPC).
fn is_disk_full(detail: &str) -> bool {
    detail.contains("No space left on device") || detail.contains("os error 28")
}

impl From<heard_contracts::Rejection> for ApiError {
    /// A refused command as clients see it: bad input naming the field, or a conflict. The one
    /// conversion every service uses.
    fn from(rejection: heard_contracts::Rejection) -> Self {
        match rejection {
            heard_contracts::Rejection::Invalid { field, message } => ApiError::BadUserInput { field, message },
            heard_contracts::Rejection::Conflict(message) => ApiError::Conflict(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_and_a_store_that_stopped_taking_writes_say_so_and_that_nothing_was_saved() {
        let stopped = ApiError::from(heard_eventstore::Error::Poisoned);
        let full =
            ApiError::from(heard_eventstore::Error::Storage { detail: "No space left on device (os error 28)".into() });
        for refused in [&stopped, &full] {
            assert_eq!(refused.code(), ErrorCode::Unavailable);
            let message = refused.message();
            assert!(
                message.starts_with("nothing was saved") && message.contains("disk") && message.contains("full"),
                "{message}"
            );
        }
        let undone = ApiError::from(heard_eventstore::Error::NotWritten {
            detail: "No space left on device (os error 28)".into(),
        });
        assert_eq!(undone.message(), DISK_FULL_MESSAGE, "a full disk's undone write says the disk is full");
        assert!(DISK_FULL_MESSAGE.contains("saves again as soon as"), "and that writing resumes without a restart");
        let refused = ApiError::from(heard_eventstore::Error::NotWritten { detail: "Input/output error".into() });
        assert_eq!((refused.code(), refused.message()), (ErrorCode::Unavailable, NOT_WRITTEN_MESSAGE.to_owned()));
        let other = ApiError::from(heard_eventstore::Error::Storage { detail: "Input/output error".into() });
        assert_eq!(other.code(), ErrorCode::Internal, "any other storage error stays internal");
    }
}
