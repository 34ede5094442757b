//! What waits for the person looking, counted once a request for the header's menu: the open
//! disclosures of risk with a coordinator ("Safeguarding (2 open)", the same words on screen and
//! to a screen reader).
//!
//! [`counted`] asks GraphQL as the person looking, like every page, and only when the policy
//! gives them the safeguarding page; the count lives for the request ([`tokio::task_local!`]),
//! so the page shell reads it ([`beside`]) without any page passing it along.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use heard_access::{Action, Resource};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::Backend;
use crate::backend::ask;

/// The menu link whose count this module keeps.
pub(crate) const SAFEGUARDING: &str = "/safeguarding";

tokio::task_local! {
    /// Open disclosures with the person looking, for this request.
    static OPEN_DISCLOSURES: usize;
}

#[derive(Debug, Default, Deserialize)]
struct Open {
    id: String,
}

/// Counts what waits for a coordinator before the page is made, for the menu to show.
pub async fn counted<B: Backend>(State(backend): State<B>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/assets/") {
        return next.run(request).await;
    }
    let viewer = backend.viewer(request.headers());
    let follows_up = heard_access::may(&viewer.actor, Action::FollowUpSafeguarding, &Resource::System).is_allowed();
    if !follows_up || viewer.must_change_password {
        return next.run(request).await;
    }
    let answer = ask(&backend, &viewer, "{ safeguardingDisclosures { id } }", json!({})).await;
    let open = answer.decode::<Vec<Open>>("safeguardingDisclosures").unwrap_or_default();
    let open = open.iter().filter(|disclosure| !disclosure.id.is_empty()).count();
    OPEN_DISCLOSURES.scope(open, next.run(request)).await
}

/// What goes beside a menu link: for the safeguarding page, how many disclosures are open with
/// the person looking, when there are any ("(2 open)"; plain words, so what is seen is what a
/// screen reader says).
pub(crate) fn beside(href: &str) -> Markup {
    let open = if href == SAFEGUARDING { OPEN_DISCLOSURES.try_with(|open| *open).unwrap_or(0) } else { 0 };
    html! {
        @if open > 0 {
            " " span class="menu-count" { "(" (open) " open)" }
        }
    }
}
