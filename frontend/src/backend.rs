//! What the web UI needs from the server that hosts it, and how a page asks it.
//!
//! The gateway implements [`Backend`]: who is asking (from the session cookie), the CSRF check
//! for forms, the login form's visit token, and GraphQL run in process on the schema the API
//! serves. Pages never call [`Backend::execute`] themselves: they [`ask`], which runs the
//! request as the person looking and hands back an [`Answer`] (its data, and its errors as
//! field, code and message). [`Answer::decode`] reads a part of the data into a typed struct,
//! [`Answer::read`] the whole of it, saying when it is not of the shape the page reads. A form
//! runs its mutation with [`submit`], which writes the one pattern every form's mutation follows.
//! A message for the page after a redirect travels in the session's flash ([`crate::flash`]),
//! which the server signs; never in the address.

use std::future::Future;

use async_graphql::{Request, Variables};
use axum::http::HeaderMap;
use heard_api::Viewer;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What the web UI needs from the server that hosts it.
pub trait Backend: Clone + Send + Sync + 'static {
    /// Who is asking, from the request's session cookie (anonymous when there is none).
    fn viewer(&self, headers: &HeaderMap) -> Viewer;
    /// The session's CSRF token, to put into forms (from its readable cookie).
    fn csrf_token(&self, headers: &HeaderMap) -> Option<String>;
    /// Whether a form's CSRF token belongs to the viewer's session.
    fn csrf_matches(&self, viewer: &Viewer, token: &str) -> bool;
    /// A new visit to the login form: the `Set-Cookie` header value that names it, and the
    /// token the form must send back.
    fn login_challenge(&self) -> (String, String);
    /// Whether a posted login form came from Heard's own login page in this browser: its
    /// token matches the visit cookie, and the browser says the post came from this site.
    fn login_form_is_ours(&self, headers: &HeaderMap, token: &str) -> bool;
    /// A one-shot message for the viewer's next page ([`crate::flash`]): the `Set-Cookie`
    /// header value that carries `payload`, bound to their session. `None` without a session.
    fn flash_cookie(&self, viewer: &Viewer, payload: &str) -> Option<String>;
    /// The payload of the flash the request carries, when the server set it for the viewer's
    /// session; `None` otherwise (none, forged, or another session's).
    fn flash(&self, viewer: &Viewer, headers: &HeaderMap) -> Option<String>;
    /// The `Set-Cookie` header value that removes the flash the request carries, if it
    /// carries one.
    fn forget_flash(&self, headers: &HeaderMap) -> Option<String>;
    /// Keeps `shown` (a refused form's page, a new one-time password or API token) for
    /// `session`'s next view of `slot` ([`crate::once`]), where whichever replica answers that
    /// view finds it.
    fn keep_once(&self, session: uuid::Uuid, slot: &str, shown: String) -> impl Future<Output = ()> + Send;
    /// What [`keep_once`](Backend::keep_once) kept for `session`'s `slot`, taken: the next
    /// call finds nothing.
    fn take_once(&self, session: uuid::Uuid, slot: &str) -> impl Future<Output = Option<String>> + Send;
    /// Runs a GraphQL request as `viewer` against the schema the API serves. The request may
    /// carry `heard_api::ClientIp`, which the server puts into each HTTP request's extensions.
    fn execute(
        &self,
        viewer: Viewer,
        request: async_graphql::Request,
    ) -> impl Future<Output = async_graphql::Response> + Send;
}

/// The logged-in person and their session's CSRF token for forms; `None` sends them to log in.
pub(crate) fn signed_in<B: Backend>(backend: &B, headers: &HeaderMap) -> Option<(Viewer, String)> {
    let viewer = backend.viewer(headers);
    let token = backend.csrf_token(headers).filter(|_| viewer.actor.is_authenticated())?;
    Some((viewer, token))
}

/// What GraphQL answered: its data, and its errors as (field, code, message).
pub(crate) struct Answer {
    pub data: Value,
    pub errors: Vec<(Option<String>, Option<String>, String)>,
    pub headers: HeaderMap,
}

impl Answer {
    /// The data's field `key` as a typed struct; `None` when it is missing, null or of
    /// another shape (the page then shows what it shows for nothing found).
    pub fn decode<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.data.get(key).filter(|value| !value.is_null()).and_then(|value| T::deserialize(value).ok())
    }

    /// The whole of the data as a typed struct, each field defaulted when it is missing.
    pub fn decode_all<T: DeserializeOwned + Default>(&self) -> T {
        T::deserialize(&self.data).unwrap_or_default()
    }
}

/// An answer whose data is not of the shape the page reads: the page and the schema have drifted
/// apart. It carries nothing of the data (serde's errors quote values, which can be personal).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Undecodable;

/// What a page says when GraphQL's answer could not be read.
pub(crate) const UNDECODABLE: &str = "Heard could not read its own answer. Try again later.";

impl Answer {
    /// The whole of the data as a typed struct: the default when GraphQL gave no data at all
    /// (its errors say why), [`Undecodable`] when the data is of another shape. That is logged
    /// as a warning naming only `query`, never a value.
    pub fn read<T: DeserializeOwned + Default>(&self, query: &'static str) -> Result<T, Undecodable> {
        if self.data.is_null() {
            return Ok(T::default());
        }
        T::deserialize(&self.data).map_err(|_| {
            tracing::warn!(query, "a GraphQL answer is not of the shape the page reads");
            Undecodable
        })
    }
}

/// Runs `query` with `variables` as `viewer`.
pub(crate) async fn ask<B: Backend>(backend: &B, viewer: &Viewer, query: &str, variables: Value) -> Answer {
    ask_request(backend, viewer, Request::new(query).variables(Variables::from_json(variables))).await
}

/// The text of a form's mutation. Every one follows the same pattern: its one argument `input`,
/// of the type named after it (`referCase(input: ReferCaseInput!)`), as the variable `$i`.
fn mutation_text(mutation: &str, selection: &str) -> String {
    let mut letters = mutation.chars();
    let named: String = letters.next().map(|first| first.to_ascii_uppercase()).into_iter().chain(letters).collect();
    format!("mutation($i: {named}Input!) {{ {mutation}(input: $i) {{ {selection} }} }}")
}

/// Runs a form's `mutation` with its `input` as `viewer`, selecting `selection` from the answer.
pub(crate) async fn submit<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    mutation: &str,
    selection: &str,
    input: Value,
) -> Answer {
    ask(backend, viewer, &mutation_text(mutation, selection), serde_json::json!({ "i": input })).await
}

/// [`ask`], for a request that carries more than a query and variables.
pub(crate) async fn ask_request<B: Backend>(backend: &B, viewer: &Viewer, request: Request) -> Answer {
    let response = backend.execute(viewer.clone(), request).await;
    let errors = response
        .errors
        .iter()
        .map(|error| {
            let extension = |key: &str| {
                error.extensions.as_ref().and_then(|e| e.get(key)).and_then(|v| match v {
                    async_graphql::Value::String(text) => Some(text.clone()),
                    _ => None,
                })
            };
            (extension("field"), extension("code"), error.message.clone())
        })
        .collect();
    let data = response.data.into_json().unwrap_or(Value::Null);
    Answer { data, errors, headers: response.http_headers }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    struct Found {
        name: String,
    }

    fn answer(data: Value) -> Answer {
        Answer { data, errors: Vec::new(), headers: HeaderMap::new() }
    }

    #[test]
    fn a_forms_mutation_takes_its_input_of_the_type_named_after_it() {
        assert_eq!(mutation_text("referCase", "id"), "mutation($i: ReferCaseInput!) { referCase(input: $i) { id } }");
        assert_eq!(
            mutation_text("raiseComplaint", "id clock { acknowledgeBy }"),
            "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id clock { acknowledgeBy } } }"
        );
    }

    #[test]
    fn an_answer_of_another_shape_is_undecodable_and_no_data_is_the_default() {
        assert_eq!(answer(json!({ "name": "Ada" })).read::<Found>("found").unwrap(), Found { name: "Ada".into() });
        assert_eq!(answer(Value::Null).read::<Found>("found").unwrap(), Found::default());
        assert!(answer(json!({ "name": 7 })).read::<Found>("found").is_err());
    }
}
