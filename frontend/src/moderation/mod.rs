//! A hub coordinator's moderation, at the volume a busy hub logs:
//!
//! - `queue`: the items waiting to be moderated, 20 to a page, narrowed by the day they were
//!   said, a theme and a meeting, oldest or newest first (a plain `GET` form, its every value
//!   checked: [`view`]). Each item shows its words as said and as they would be shared side by
//!   side, with the passages that could identify someone marked and ticked for the coordinator
//!   to confirm (suggested redactions: the hub's gazetteer, and names, phone numbers and email
//!   addresses the detector found), and plain forms to redact, share or hold it, to record
//!   that the speaker narrowed or withdrew their consent, and to send an item that discloses a
//!   risk to a coordinator with a duty of care. Held items live under their own tab, each with
//!   the reason it was held and a way back to the queue.
//! - `actions`: what those forms post. Each goes back (post, redirect, get) to the same page
//!   of the same filters, at the item that now stands where the one acted on was, with what
//!   happened in the session's flash ([`crate::flash`]), never in the address.
//! - `gazetteer`: the hub's own list of names and places to take out, kept by its
//!   coordinators, which never leaves the hub.
//!
//! Everything works without JavaScript.

mod actions;
mod gazetteer;
mod queue;
mod view;

use heard_api::Viewer;

use crate::Backend;
pub(crate) use crate::consent::{consent_form_with, consent_words, posted_consent};

/// The coordinators of `hub` who can receive a safeguarding item, by name (the person
/// looking marked "(you)"); none when the directory could not be read.
async fn coordinators<B: Backend>(backend: &B, viewer: &Viewer, hub: &str) -> Vec<(String, String)> {
    crate::safeguarding::coordinator_choices(backend, viewer, hub).await.unwrap_or_default()
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/moderation", get(queue::queue::<B>))
        .route("/moderation/held", get(queue::held::<B>))
        .route("/moderation/consent", post(actions::consent::<B>))
        .route("/moderation/safeguarding", post(actions::safeguarding::<B>))
        .route("/moderation/share", post(actions::share::<B>))
        .route("/moderation/hold", post(actions::hold::<B>))
        .route("/moderation/release", post(actions::release::<B>))
        .route("/moderation/redact", post(actions::redact::<B>))
        .route("/moderation/gazetteer", get(gazetteer::list::<B>).post(gazetteer::add::<B>))
        .route("/moderation/gazetteer/remove", post(gazetteer::remove::<B>))
}
