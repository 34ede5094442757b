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
    /// The detail is logged with a reference; the client sees only the reference.
    Internal {
        reference: uuid::Uuid,
    },
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The one message for "does not exist" and "not yours".
pub const NOT_FOUND_MESSAGE: &str = "not found: there is nothing with this id that you may see";

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
            | ApiError::PasswordChangeRequired(message) => message.clone(),
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
    /// A store error reaching a resolver: a conflict is the client's to retry; anything else is
    /// internal.
    fn from(error: heard_eventstore::Error) -> Self {
        match error {
            heard_eventstore::Error::WrongExpectedRevision { .. } => {
                ApiError::Conflict("someone else changed this at the same time; reload and try again".into())
            }
            heard_eventstore::Error::SubjectErased => ApiError::Conflict(
                "this person's records have been erased; nothing more can be recorded about them".into(),
            ),
            other => ApiError::internal(other),
        }
    }
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
