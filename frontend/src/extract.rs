//! The extractors every handler starts with, in place of a prologue each handler repeated.
//!
//! - [`Visitor`]: whoever is looking, logged in or not, and their CSRF token when logged in
//!   (the public pages).
//! - [`SignedIn`]: the logged-in person and their session's CSRF token; anyone else is sent to
//!   the login page.
//! - [`PostedForm`]: a posted form from the logged-in person whose CSRF token is their
//!   session's, and its fields. In order: the body must be a form (axum's own rejection
//!   otherwise), someone not logged in is sent to log in, and a form whose `csrf_token` is not
//!   the session's gets the expired-form answer ([`crate::kit::expired`]) and changes nothing.
//!
//! - [`SignedInAs`] and [`PostedFormAs`]: the same, for a page for some people only (an
//!   [`Audience`]: those the policy lets take an action); anyone else gets the "not for you"
//!   page ([`crate::kit::only_for`]), after the checks above.

use std::marker::PhantomData;

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use heard_access::Action;
use heard_api::Viewer;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::backend::{Backend, signed_in};
use crate::kit::{expired, only_for, see_login};

/// Whoever is looking: logged in or not. Never refuses.
pub(crate) struct Visitor {
    pub viewer: Viewer,
    /// The session's CSRF token, only for someone logged in.
    pub csrf: Option<String>,
}

impl<B: Backend> FromRequestParts<B> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, backend: &B) -> Result<Self, Self::Rejection> {
        let viewer = backend.viewer(&parts.headers);
        let csrf = backend.csrf_token(&parts.headers).filter(|_| viewer.actor.is_authenticated());
        Ok(Visitor { viewer, csrf })
    }
}

/// The logged-in person and their session's CSRF token, for the forms on the page.
pub(crate) struct SignedIn {
    pub viewer: Viewer,
    pub csrf: String,
}

impl<B: Backend> FromRequestParts<B> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, backend: &B) -> Result<Self, Self::Rejection> {
        let asked = (parts.method == axum::http::Method::GET).then_some(&parts.uri);
        let (viewer, csrf) = signed_in(backend, &parts.headers)
            .ok_or_else(|| asked.map_or_else(see_login, crate::kit::see_login_then))?;
        Ok(SignedIn { viewer, csrf })
    }
}

/// A posted form's fields, by name, in the order they came (checkboxes repeat a name).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(transparent)]
pub(crate) struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value named `key`, as it came; "" when there is none.
    pub fn value(&self, key: &str) -> String {
        crate::forms::value_of(&self.0, key)
    }

    /// The first value named `key`, trimmed.
    pub fn trimmed(&self, key: &str) -> String {
        self.value(key).trim().to_owned()
    }

    /// Every value named `key`, in order.
    pub fn values(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }
}

/// A form posted by the logged-in person with their session's CSRF token, read as `T`
/// (by default, its [`Fields`]).
pub(crate) struct PostedForm<T = Fields> {
    pub viewer: Viewer,
    /// The session's CSRF token, for the page that answers the form.
    pub csrf: String,
    pub form: T,
}

impl<B: Backend, T: DeserializeOwned + Send> FromRequest<B> for PostedForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, backend: &B) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let Form(pairs) =
            Form::<Vec<(String, String)>>::from_request(request, backend).await.map_err(IntoResponse::into_response)?;
        let (viewer, csrf) = signed_in(backend, &headers).ok_or_else(see_login)?;
        let token = pairs.iter().find(|(key, _)| key == "csrf_token").map(|(_, value)| value.as_str());
        if !backend.csrf_matches(&viewer, token.unwrap_or_default()) {
            return Err(expired());
        }
        let form = read(pairs).map_err(|error| {
            (StatusCode::UNPROCESSABLE_ENTITY, format!("Failed to deserialize form body: {error}")).into_response()
        })?;
        Ok(PostedForm { viewer, csrf, form })
    }
}

/// The fields as `T`: a struct takes each field by name (a repeated name is refused, as
/// axum's `Form` refuses it), and [`Fields`] takes them all, in order.
fn read<T: DeserializeOwned>(pairs: Vec<(String, String)>) -> Result<T, serde::de::value::Error> {
    T::deserialize(serde::de::value::MapDeserializer::new(pairs.into_iter()))
}

/// The people a page is for: those the policy lets take [`Audience::ACTION`], who they are in
/// words ([`Audience::WHOSE`]) for the "This page is for …" page anyone else gets.
pub(crate) trait Audience: Send + Sync + 'static {
    const ACTION: Action;
    const WHOSE: &'static str;
}

/// Declares each audience: `Name: Action, "who they are"`.
macro_rules! audiences {
    ($($name:ident: $action:ident, $whose:literal;)*) => {$(
        #[doc = concat!("The page is for ", $whose, " (the policy's `", stringify!($action), "`).")]
        pub(crate) struct $name;

        impl Audience for $name {
            const ACTION: Action = Action::$action;
            const WHOSE: &'static str = $whose;
        }
    )*};
}

audiences! {
    Advocates: ReferCase, "advocates";
    HubCoordinators: ViewQueue, "hub coordinators";
    HubImporters: ImportFeedback, "hub coordinators, who import their hub's spreadsheets";
    SafeguardingLeads: FollowUpSafeguarding, "hub coordinators, who follow up disclosures of risk";
    Commissioners: RecordDecision, "commissioners";
    Administrators: CreateAccount, "administrators";
    ComplaintRaisers: RaiseComplaint, "hub members, coordinators, advocates and the complaints team";
}

/// [`SignedIn`], for one of the audience `A` only.
pub(crate) struct SignedInAs<A> {
    pub viewer: Viewer,
    pub csrf: String,
    audience: PhantomData<A>,
}

impl<B: Backend, A: Audience> FromRequestParts<B> for SignedInAs<A> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, backend: &B) -> Result<Self, Self::Rejection> {
        let SignedIn { viewer, csrf } = SignedIn::from_request_parts(parts, backend).await?;
        if let Some(refused) = only_for(&viewer, &csrf, A::ACTION, A::WHOSE) {
            return Err(refused);
        }
        Ok(SignedInAs { viewer, csrf, audience: PhantomData })
    }
}

/// [`PostedForm`], from one of the audience `A` only.
pub(crate) struct PostedFormAs<A, T = Fields> {
    pub viewer: Viewer,
    pub csrf: String,
    pub form: T,
    audience: PhantomData<A>,
}

impl<B: Backend, A: Audience, T: DeserializeOwned + Send> FromRequest<B> for PostedFormAs<A, T> {
    type Rejection = Response;

    async fn from_request(request: Request, backend: &B) -> Result<Self, Self::Rejection> {
        let PostedForm { viewer, csrf, form } = PostedForm::<T>::from_request(request, backend).await?;
        if let Some(refused) = only_for(&viewer, &csrf, A::ACTION, A::WHOSE) {
            return Err(refused);
        }
        Ok(PostedFormAs { viewer, csrf, form, audience: PhantomData })
    }
}
