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
use maud::{Markup, html};

use crate::Backend;
use crate::extract::Fields;
use crate::forms::{self, Choices, Errors};

pub(crate) fn consent_words(consent: &str) -> &'static str {
    match consent {
        "HUB" => "This hub only",
        "COMMISSIONERS" => "Commissioners and the service it is about",
        "PUBLIC" => "Anyone (can be published)",
        _ => "Withdrawn",
    }
}

/// How far consent can go now: only narrower than `current`, or withdrawn (never widened on
/// someone's behalf).
pub(crate) fn narrower_consents(current: &str) -> Vec<(String, String)> {
    let order = ["HUB", "COMMISSIONERS", "PUBLIC"];
    let Some(rank) = order.iter().position(|scope| *scope == current) else {
        return Vec::new();
    };
    let mut choices: Vec<(String, String)> = order[..rank]
        .iter()
        .rev()
        .map(|scope| ((*scope).to_owned(), format!("Narrow it to: {}", consent_words(scope).to_lowercase())))
        .collect();
    choices.push(("WITHDRAWN".to_owned(), "Withdrawn: they no longer want it used at all".to_owned()));
    choices
}

/// "They narrowed or withdrew their consent", for one item; posts to `action`.
pub(crate) fn consent_form(csrf: &str, action: &str, id: &str, hub: &str, current: &str, errors: &Errors) -> Markup {
    consent_form_with(csrf, action, id, current, errors, html! { input type="hidden" name="hub" value=(hub); })
}

/// [`consent_form`], with `hidden` fields of the page's own (the hub among them).
fn consent_form_with(csrf: &str, action: &str, id: &str, current: &str, errors: &Errors, hidden: Markup) -> Markup {
    let choices = narrower_consents(current);
    html! {
        @if !choices.is_empty() {
            form method="post" action=(action) novalidate {
                input type="hidden" name="csrf_token" value=(csrf);
                input type="hidden" name="id" value=(id);
                (hidden)
                (forms::choices(Choices {
                    id: &format!("consent-{id}"),
                    legend: "They changed what they agreed to: who may see it now?",
                    multiple: false,
                    options: choices,
                    chosen: vec![],
                    hint: Some("Only ever narrower than before. Record it as soon as they tell you."),
                }, errors))
                button class="button button--secondary" type="submit" { "Change consent" }
            }
        }
    }
}

/// The consent change a posted form asks for (`consent-{id}`), if it is one the API knows.
pub(crate) fn posted_consent(fields: &Fields, id: &str) -> Option<String> {
    let value = fields.value(&format!("consent-{id}"));
    ["HUB", "COMMISSIONERS", "PUBLIC", "WITHDRAWN"].contains(&value.as_str()).then_some(value)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn values(choices: Vec<(String, String)>) -> Vec<String> {
        choices.into_iter().map(|(value, _)| value).collect()
    }

    #[test]
    fn consent_can_only_be_narrowed_or_withdrawn_never_widened() {
        assert_eq!(values(narrower_consents("PUBLIC")), ["COMMISSIONERS", "HUB", "WITHDRAWN"]);
        assert_eq!(values(narrower_consents("COMMISSIONERS")), ["HUB", "WITHDRAWN"]);
        assert_eq!(values(narrower_consents("HUB")), ["WITHDRAWN"]);
        assert!(narrower_consents("WITHDRAWN").is_empty(), "nothing is left to change once withdrawn");
    }

    #[test]
    fn a_posted_consent_change_is_read_from_the_items_own_field_and_must_be_known() {
        let fields =
            Fields(vec![("consent-a".to_owned(), "HUB".to_owned()), ("consent-b".to_owned(), "EVERYONE".to_owned())]);
        assert_eq!(posted_consent(&fields, "a").as_deref(), Some("HUB"));
        assert_eq!(posted_consent(&fields, "b"), None);
        assert_eq!(posted_consent(&fields, "c"), None);
    }
}
