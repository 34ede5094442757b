//! Heard's web UI, rendered on the server.
//!
//! Every page asks the same GraphQL schema the API serves, in process, as the person looking
//! at it ([`Backend::execute`]), so the pages and the API cannot drift apart and the one policy
//! decides what each page shows. Every core form is a plain HTML form that works without
//! JavaScript: it posts, the server runs the mutation, and errors come back beside their fields
//! with a summary at the top (the GOV.UK error-summary pattern, in Heard's own calm style).
//!
//! Someone whose account still has its one-time password is sent to `/account/password` from
//! every other page until they choose their own (one layer, [`account::password_first`]).
//!
//! The gateway implements [`Backend`] (who is asking, the CSRF check, running GraphQL) and
//! mounts [`router`].

mod account;
mod admin;
mod cases;
mod complaints;
mod dashboard;
mod decisions;
mod forms;
mod layout;
mod meetings;
mod moderation;
mod pages;
mod report_back;
mod reports;
mod search;
mod shared;

use std::future::Future;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use heard_api::Viewer;

pub use layout::STYLESHEET;

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
    /// Runs a GraphQL request as `viewer` against the schema the API serves. The request may
    /// carry `heard_api::ClientIp`, which the server puts into each HTTP request's extensions.
    fn execute(
        &self,
        viewer: Viewer,
        request: async_graphql::Request,
    ) -> impl Future<Output = async_graphql::Response> + Send;
}

/// The pages, ready to be merged into the server's router. Each module adds its own routes.
/// While the password must be changed, every page but the change-password form redirects to it.
pub fn router<B: Backend>(backend: B) -> Router {
    Router::new()
        .route("/", get(pages::home::<B>))
        .route("/login", get(pages::login_form::<B>).post(pages::login::<B>))
        .route("/logout", post(pages::logout::<B>))
        .route("/feedback/new", get(pages::log_feedback_form::<B>).post(pages::log_feedback::<B>))
        .route("/assets/heard.css", get(layout::stylesheet))
        .merge(moderation::routes())
        .merge(complaints::routes())
        .merge(cases::routes())
        .merge(search::routes())
        .merge(admin::routes())
        .merge(meetings::routes())
        .merge(report_back::routes())
        .merge(dashboard::routes())
        .merge(decisions::routes())
        .merge(shared::routes())
        .merge(reports::routes())
        .merge(account::routes())
        .with_state(backend.clone())
        .layer(axum::middleware::from_fn_with_state(backend, account::password_first::<B>))
}
