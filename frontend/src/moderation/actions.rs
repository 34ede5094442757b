//! What the moderation forms post. Each runs one mutation as the coordinator and goes back
//! (post, redirect, get) to the same page of the same filters (the view's hidden fields): to
//! the item that now stands where the one acted on was when it left the page (shared, held,
//! released, sent for safeguarding, kept to the hub), or to the item itself when it stays
//! (redacted). What happened, or what went wrong and beside which field, travels in the
//! session's flash, never in the address.

use axum::extract::State;
use axum::response::Response;
use heard_api::Viewer;
use serde_json::{Value, json};

use super::posted_consent;
use super::queue::Tab;
use super::view::View;
use crate::Backend;
use crate::backend::ask;
use crate::extract::{Fields, PostedForm};
use crate::flash::{self, Flash};
use crate::kit::plain;

/// What every action's form posts besides its own fields.
struct Posted {
    /// The item, when it is an id at all.
    id: String,
    view: View,
    tab: Tab,
    /// The item to stand at once this one has left the page.
    next: String,
}

/// An id as Heard gives them out, or "" (it becomes part of an address and an element id).
fn an_id(text: &str) -> String {
    uuid::Uuid::parse_str(text.trim()).map(|id| id.to_string()).unwrap_or_default()
}

fn posted(fields: &Fields) -> Posted {
    Posted {
        id: an_id(&fields.value("id")),
        view: View::posted(&fields.0),
        tab: Tab::posted(&fields.value("tab")),
        next: an_id(&fields.value("next")),
    }
}

/// Whether the item is still on the page after the action.
#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    /// It left the queue: stand at the next item (or, when the page is now empty, go to the
    /// page before).
    Leaves,
    /// It is still there: stand at it.
    Stays,
}

/// The address to go back to, standing at `anchor` (an item id; "" for the top).
fn address(posted: &Posted, view: &View, anchor: &str) -> String {
    let url = view.url(posted.tab.path());
    if anchor.is_empty() { url } else { format!("{url}#item-{anchor}") }
}

/// Back to the view after a successful action, saying `done` above the item stood at.
fn done<B: Backend>(backend: &B, viewer: &Viewer, posted: &Posted, after: After, done: Flash) -> Response {
    let (view, anchor) = match after {
        After::Stays => (posted.view.clone(), posted.id.clone()),
        After::Leaves if posted.next.is_empty() && posted.view.page > 1 => {
            (posted.view.at_page(posted.view.page - 1), String::new())
        }
        After::Leaves => (posted.view.clone(), posted.next.clone()),
    };
    let at = if anchor.is_empty() { String::new() } else { format!("item-{anchor}") };
    flash::redirect(backend, viewer, &address(posted, &view, &anchor), done.at(at))
}

/// Back to the view at the item, with `message` beside its `field` (`reason`: `reason-<id>`).
fn failed<B: Backend>(backend: &B, viewer: &Viewer, posted: &Posted, field: &str, message: &str) -> Response {
    let at = format!("{field}-{}", posted.id);
    flash::redirect(backend, viewer, &address(posted, &posted.view, &posted.id), Flash::error(message).at(at))
}

/// Runs `query` and goes back: with `said` on success, or the API's message beside `field`.
#[allow(clippy::too_many_arguments)]
async fn act<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    posted: &Posted,
    query: &str,
    variables: Value,
    after: After,
    said: Flash,
    field: &str,
) -> Response {
    let answer = ask(backend, viewer, query, variables).await;
    match answer.errors.first() {
        None => done(backend, viewer, posted, after, said),
        Some((_, _, message)) => failed(backend, viewer, posted, field, &plain(message)),
    }
}

/// `POST /moderation/share`.
pub async fn share<B: Backend>(State(backend): State<B>, PostedForm { viewer, form, .. }: PostedForm) -> Response {
    let posted = posted(&form);
    let query = "mutation($id: ID!) { shareFeedback(id: $id) { id } }";
    let said = Flash::notice("Shared. It has left the queue.");
    act(&backend, &viewer, &posted, query, json!({ "id": posted.id }), After::Leaves, said, "item").await
}

/// `POST /moderation/hold`.
pub async fn hold<B: Backend>(State(backend): State<B>, PostedForm { viewer, form, .. }: PostedForm) -> Response {
    let posted = posted(&form);
    let query = "mutation($id: ID!, $r: String!) { holdFeedback(id: $id, reason: $r) { id } }";
    let variables = json!({ "id": posted.id, "r": form.value("reason") });
    let said = Flash::notice("Held in the hub. It waits under Held, with your reason, until you release it.");
    act(&backend, &viewer, &posted, query, variables, After::Leaves, said, "reason").await
}

/// `POST /moderation/release`: a held item back to the queue to moderate.
pub async fn release<B: Backend>(State(backend): State<B>, PostedForm { viewer, form, .. }: PostedForm) -> Response {
    let posted = posted(&form);
    let query = "mutation($id: ID!) { releaseFeedback(id: $id) { id } }";
    let said = Flash::notice("Released. It is back in the queue to moderate.");
    act(&backend, &viewer, &posted, query, json!({ "id": posted.id }), After::Leaves, said, "item").await
}

/// The passages a redaction form asks to take out: the suggestions left ticked, then the
/// lines typed, each once.
fn passages(fields: &Fields, id: &str) -> Vec<String> {
    let typed = fields.value(&format!("passages-{id}"));
    let mut passages: Vec<String> = Vec::new();
    let chosen = fields.values("suggested");
    for passage in chosen.iter().map(String::as_str).chain(typed.lines()) {
        let passage = passage.trim();
        if !passage.is_empty() && !passages.iter().any(|known| known == passage) {
            passages.push(passage.to_owned());
        }
    }
    passages
}

/// `POST /moderation/redact`: the suggestions the coordinator left ticked and the words they
/// typed (the textarea is named after the item, so it is read from the fields).
pub async fn redact<B: Backend>(State(backend): State<B>, PostedForm { viewer, form, .. }: PostedForm) -> Response {
    let posted = posted(&form);
    let passages = passages(&form, &posted.id);
    if passages.is_empty() {
        let message = "Tick the words to take out, or write them, one per line";
        return failed(&backend, &viewer, &posted, "passages", message);
    }
    let query = "mutation($id: ID!, $p: [String!]!) { redactFeedback(id: $id, passages: $p) { id } }";
    let said = Flash::notice("Redacted. Check the shared version, then share it.");
    act(&backend, &viewer, &posted, query, json!({ "id": posted.id, "p": passages }), After::Stays, said, "passages")
        .await
}

/// `POST /moderation/consent`: `changeConsent`. Kept to the hub or withdrawn, the item leaves
/// the queue; narrowed to commissioners, it stays.
pub async fn consent<B: Backend>(State(backend): State<B>, PostedForm { viewer, form, .. }: PostedForm) -> Response {
    let posted = posted(&form);
    let Some(consent) = posted_consent(&form, &posted.id) else {
        return failed(&backend, &viewer, &posted, "consent", "Choose who may see it now");
    };
    let after = if consent == "HUB" || consent == "WITHDRAWN" { After::Leaves } else { After::Stays };
    let query = "mutation($id: ID!, $c: ConsentChange!) { changeConsent(id: $id, consent: $c) { id } }";
    let said = Flash::notice("Consent changed. Every list, report and search obeys it at once.");
    act(&backend, &viewer, &posted, query, json!({ "id": posted.id, "c": consent }), after, said, "consent").await
}

/// `POST /moderation/safeguarding`: `flagSafeguarding`, to the coordinator chosen.
pub async fn safeguarding<B: Backend>(
    State(backend): State<B>,
    PostedForm { viewer, form, .. }: PostedForm,
) -> Response {
    let posted = posted(&form);
    let coordinator = form.trimmed(&format!("coordinator-{}", posted.id));
    if coordinator.is_empty() {
        return failed(&backend, &viewer, &posted, "coordinator", "Choose who it should go to");
    }
    let query = "mutation($id: ID!, $c: ID!) { flagSafeguarding(id: $id, coordinatorId: $c) }";
    let said = Flash::notice(
        "Sent for safeguarding. It has left every other list, report and search, and waits with the coordinator you chose.",
    )
    .with_link("/safeguarding", "Go to safeguarding");
    let variables = json!({ "id": posted.id, "c": coordinator });
    act(&backend, &viewer, &posted, query, variables, After::Leaves, said, "coordinator").await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields(crate::forms::testing::posted(pairs))
    }

    const ITEM: &str = "7f0c2c52-3d8b-4f43-9a39-6a2c8e1d1a11";
    const NEXT: &str = "0b7e9a8e-4c1f-4f63-8f57-3a4f1d2c9e10";

    #[test]
    fn a_redaction_takes_the_ticked_suggestions_and_the_typed_lines_each_once() {
        let form = fields(&[
            ("suggested", "Marnie"),
            ("suggested", "07700 900123"),
            (&format!("passages-{ITEM}"), "Bognor\n\n  Marnie \nthe pier"),
        ]);
        assert_eq!(passages(&form, ITEM), ["Marnie", "07700 900123", "Bognor", "the pier"]);
        assert!(passages(&fields(&[]), ITEM).is_empty());
    }

    #[test]
    fn after_an_action_the_page_and_filters_come_back_at_the_next_item() {
        let form = fields(&[("id", ITEM), ("hub", "arun"), ("theme", "housing"), ("page", "2"), ("next", NEXT)]);
        let posted = posted(&form);
        let view = posted.view.clone();
        assert_eq!(address(&posted, &view, NEXT), format!("/moderation?hub=arun&theme=housing&page=2#item-{NEXT}"));
        let held = posted_in_held(&form);
        assert_eq!(address(&held, &held.view, ""), "/moderation/held?hub=arun&theme=housing&page=2");
    }

    fn posted_in_held(form: &Fields) -> Posted {
        let mut pairs = form.0.clone();
        pairs.push(("tab".to_owned(), "held".to_owned()));
        posted(&Fields(pairs))
    }

    #[test]
    fn an_id_that_is_not_one_never_reaches_the_address() {
        let posted = posted(&fields(&[("id", "x\"><script>"), ("next", "#top"), ("hub", "arun")]));
        assert_eq!((posted.id.as_str(), posted.next.as_str()), ("", ""));
    }
}
