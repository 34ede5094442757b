//! Heard's web UI, rendered on the server.
//!
//! Every page asks the same GraphQL schema the API serves, in process, as the person looking
//! at it ([`Backend::execute`]), so the pages and the API cannot drift apart and the one policy
//! decides what each page shows. Every core form is a plain HTML form that works without
//! JavaScript: it posts, the server runs the mutation, and errors come back beside their fields
//! with a summary at the top (the GOV.UK error-summary pattern, in Heard's own calm style).
//!
//! The header's menu says how many disclosures of risk wait with a coordinator
//! ([`waiting::count_for_menu`] counts them once a request, through GraphQL like every page).
//!
//! A message for the page after a redirect travels in the session's flash ([`flash`]), which
//! the server sets and signs; nothing a page says is ever taken from its address.
//!
//! Someone whose account still has its one-time password is sent to `/account/password` from
//! every other page until they choose their own (one layer, [`account::password_first`]).
//!
//! The header marks the page the person is on ([`layout`]): one layer runs each request inside
//! a task-local holding its path, which the shell reads. A secret a form makes (a one-time
//! password, an API token) is kept in memory for the one page view after the redirect
//! ([`once`]), so every successful form post answers `303 See Other` (post/redirect/get). A
//! refused form is redirected too ([`refused`]): its page is kept for the session and shown at
//! the page the form was on, so Back and refresh never ask to send a form again.
//!
//! The gateway implements [`Backend`] (who is asking, the CSRF check, running GraphQL) and
//! mounts [`router`].

mod account;
mod admin;
mod assets;
mod backend;
mod cases;
mod complaints;
mod consent;
mod dashboard;
mod decisions;
mod extract;
mod flash;
mod forms;
mod import;
mod involved;
mod kit;
mod layout;
mod logging;
mod meetings;
mod moderation;
mod once;
mod pages;
mod people;
mod public;
mod refused;
mod report_back;
mod reports;
mod safeguarding;
mod search;
mod shared;
mod waiting;

use axum::Router;
use axum::routing::{get, post};

pub use assets::STYLESHEET;
pub use backend::Backend;
pub use import::{UPLOAD_BODY_BYTES, UPLOAD_PATH};
pub use reports::{ReportQuery, Scope as ReportScope};

/// The pages, ready to be merged into the server's router. Each module adds its own routes.
/// While the password must be changed, every page but the change-password form redirects to it.
pub fn router<B: Backend>(backend: B) -> Router {
    Router::new()
        .route("/", get(pages::home::<B>))
        .route("/login", get(pages::login_form::<B>).post(pages::login::<B>))
        .route("/logout", post(pages::logout::<B>))
        .merge(assets::routes())
        .merge(moderation::routes())
        .merge(complaints::routes())
        .merge(cases::routes())
        .merge(search::routes())
        .merge(admin::routes())
        .merge(logging::routes())
        .merge(meetings::routes())
        .merge(import::routes())
        .merge(report_back::routes())
        .merge(safeguarding::routes())
        .merge(dashboard::routes())
        .merge(decisions::routes())
        .merge(shared::routes())
        .merge(reports::routes())
        .merge(account::routes())
        .merge(people::routes())
        .fallback(pages::not_found)
        .with_state(backend.clone())
        .layer(axum::middleware::from_fn_with_state(backend.clone(), waiting::count_for_menu::<B>))
        .layer(axum::middleware::from_fn_with_state(backend.clone(), refused::redirect_refused_forms::<B>))
        .layer(axum::Extension(people::Erasures::default()))
        .layer(axum::middleware::from_fn_with_state(backend.clone(), account::password_first::<B>))
        .layer(axum::middleware::from_fn_with_state(backend, flash::forget_once_shown::<B>))
        .layer(axum::middleware::from_fn(layout::current_page))
}
