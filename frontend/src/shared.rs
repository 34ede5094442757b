//! Feedback hubs have shared with commissioners that is still waiting for an answer, the
//! oldest first: acknowledge it, say "not acted on, because …", or link it to a decision.
//! Each answer goes back to the hub, so that the people who spoke hear what happened.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::ask;
use crate::extract::{Commissioners, PostedFormAs, SignedInAs};
use crate::forms::{self, Errors, value_of};
use crate::kit::{Connection, day_words as day_text, plain, urlencode};
use crate::layout::page;

/// Items on one page.
const PAGE: i64 = 20;

/// The two lists: (value in the URL, loop state, tab label).
const TABS: [(&str, &str, &str); 2] =
    [("new", "SHARED", "Not yet acknowledged"), ("acknowledged", "ACKNOWLEDGED", "Acknowledged, not yet answered")];

/// The tab for a `state` in the URL (the first when it is unknown).
pub(crate) fn tab(state: &str) -> (&'static str, &'static str, &'static str) {
    TABS.iter().copied().find(|(value, _, _)| *value == state).unwrap_or(TABS[0])
}

/// What a finished form says on the list it returns to: a fixed code in the address
/// (`?done=answered`) and its fixed words here, so that nobody can make the page say anything
/// else by sending someone a link.
const DONE: [(&str, &str); 4] = [
    ("acknowledged", "Acknowledged. The hub can see you have read it"),
    ("acknowledged-selected", "The items you selected are acknowledged. Their hubs can see you have read them"),
    ("answered", "Answered. The hub will tell the people who said it why"),
    ("linked", "Linked to the decision"),
];

/// The words for a `done` code, or nothing for a code this page does not know.
pub(crate) fn done_words(code: &str) -> Option<&'static str> {
    DONE.iter().find(|(known, _)| *known == code).map(|(_, words)| *words)
}

/// The list's address, keeping the tab and the page.
pub(crate) fn list_url(state: &str, before: &str, done: Option<&str>) -> String {
    let mut url = format!("/shared?state={}", urlencode(tab(state).0));
    if !before.is_empty() {
        url.push_str(&format!("&before={}", urlencode(before)));
    }
    if let Some(done) = done {
        url.push_str(&format!("&done={}", urlencode(done)));
    }
    url
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    before: String,
    done: Option<String>,
}

/// What the page shows besides the list: a notice, and after a failed form its errors and
/// what was typed.
#[derive(Debug, Default)]
struct View {
    state: String,
    before: String,
    done: Option<String>,
    errors: Errors,
    values: Vec<(String, String)>,
}

const LIST_QUERY: &str = "query($state: LoopState!, $last: Int!, $before: String) {
  feedbackItems(filter: { loopState: $state }, last: $last, before: $before) {
    pageInfo { hasPreviousPage startCursor }
    edges { node { id text hubName saidOn sharedAt about channel themes { name } loopState acknowledgedOn } }
  }
  waiting: searchFeedback(filter: { loopState: SHARED }, first: 1) { total }
  acknowledged: searchFeedback(filter: { loopState: ACKNOWLEDGED }, first: 1) { total }
  decisions(first: 100) { edges { node { id title status } } }
}";

/// What the list asks: a page of items, how many wait on each tab, and the decisions an item
/// can be linked to. `feedbackItems` is `None` when the API refused the list.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ListData {
    feedback_items: Option<ItemPage>,
    waiting: Option<Total>,
    acknowledged: Option<Total>,
    decisions: Option<Connection<DecisionChoice>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ItemPage {
    page_info: PageInfo,
    #[serde(flatten)]
    items: Connection<SharedItem>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PageInfo {
    has_previous_page: bool,
    start_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Total {
    total: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DecisionChoice {
    id: String,
    title: String,
    status: String,
}

/// A shared item; its words are `None` once the speaker changed their consent.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SharedItem {
    id: String,
    text: Option<String>,
    hub_name: Option<String>,
    said_on: String,
    shared_at: Option<String>,
    about: Option<String>,
    themes: Vec<Theme>,
    loop_state: String,
    acknowledged_on: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Theme {
    name: String,
}

/// The form that acknowledges every item ticked on the page (each checkbox joins it with
/// `form=`, since each card holds forms of its own and forms cannot nest).
const SELECTED_FORM: &str = "acknowledge-selected";

async fn list_page<B: Backend>(backend: &B, viewer: &Viewer, csrf: &str, view: &View) -> Response {
    let (state, loop_state, label) = tab(&view.state);
    let before = Some(view.before.as_str()).filter(|b| !b.is_empty());
    let answer = ask(backend, viewer, LIST_QUERY, json!({ "state": loop_state, "last": PAGE, "before": before })).await;
    let data = answer.decode_all::<ListData>();
    let Some(connection) = data.feedback_items else {
        let message = answer.errors.first().map_or_else(|| "This list is not available.".to_owned(), |e| plain(&e.2));
        let body = html! { h1 { "Shared feedback" } p { (message) } };
        return (StatusCode::FORBIDDEN, page(viewer, "Shared feedback", Some(csrf), body)).into_response();
    };
    let newer = connection.page_info.has_previous_page;
    let newer_cursor = connection.page_info.start_cursor.clone().unwrap_or_default();
    // The API lists newest first; the last page of that is the oldest, shown oldest first.
    let mut items = connection.items.nodes();
    items.reverse();
    let decisions: Vec<(String, String)> = std::iter::once((String::new(), "Choose a decision".to_owned()))
        .chain(
            data.decisions
                .unwrap_or_default()
                .nodes()
                .into_iter()
                .filter(|d| !matches!(d.status.as_str(), "NOT_TAKEN" | "WITHDRAWN"))
                .map(|d| (d.id, d.title)),
        )
        .collect();
    let counts = [data.waiting.map(|found| found.total), data.acknowledged.map(|found| found.total)];
    let errors = &view.errors;
    let title = if errors.is_empty() { "Shared feedback" } else { "Error: Shared feedback" };
    let body = html! {
        (forms::summary(errors))
        @if let Some(done) = view.done.as_deref().and_then(done_words) { div class="notice" role="status" { p { (done) "." } } }
        h1 { "Shared feedback" }
        p class="lead" { "What hubs have shared with you, the oldest first. The people who said it are waiting to hear what happened." }
        p { "Acknowledge each item to tell the hub you have read it. Then link it to a decision, or say why it was not acted on." }
        nav aria-label="Which feedback" class="tabs" {
            ul {
                @for (index, (value, _, name)) in TABS.iter().enumerate() {
                    li {
                        a href=(list_url(value, "", None)) aria-current=[(*value == state).then_some("page")] {
                            (name)
                            @if let Some(count) = counts[index] { " (" (count) ")" }
                        }
                    }
                }
            }
        }
        h2 { (label) }
        @if items.is_empty() {
            p { "Nothing is waiting here. Thank you." }
        }
        @let selectable = items.iter().any(|item| item.loop_state == "SHARED");
        @if selectable {
            p class="hint" { "To acknowledge several at once, tick “Select” on each item you have read, then choose “Acknowledge selected” at the end of the list." }
        }
        @for item in &items {
            (item_card(csrf, item, state, &view.before, &decisions, view))
        }
        @if selectable {
            form id=(SELECTED_FORM) class="acknowledge-selected" method="post" action="/shared/acknowledge-selected" tabindex="-1" aria-labelledby="acknowledge-selected-title" {
                h3 id="acknowledge-selected-title" class="visually-hidden" { "Acknowledge the items you selected" }
                input type="hidden" name="csrf_token" value=(csrf);
                input type="hidden" name="state" value=(state);
                input type="hidden" name="before" value=(view.before);
                @if let Some(error) = errors.of(SELECTED_FORM) {
                    p class="field-error" { span class="visually-hidden" { "Error: " } (error) }
                }
                button class="button" type="submit" { "Acknowledge selected" }
            }
        }
        @if newer {
            p { a class="button button--secondary" href=(list_url(state, &newer_cursor, None)) { "Show more recent items" } }
        }
        @if before.is_some() {
            p { a href=(list_url(state, "", None)) { "Back to the oldest" } }
        }
    };
    let code = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (code, page(viewer, title, Some(csrf), body)).into_response()
}

fn item_card(
    csrf: &str,
    item: &SharedItem,
    state: &str,
    before: &str,
    decisions: &[(String, String)],
    view: &View,
) -> Markup {
    let id = item.id.as_str();
    let heading = format!("item-{id}");
    let reason_id = format!("reason-{id}");
    let decision_id = format!("decision-{id}");
    let rationale_id = format!("rationale-{id}");
    let errors = &view.errors;
    let value = |key: &str| value_of(&view.values, key);
    let keep = html! {
        input type="hidden" name="csrf_token" value=(csrf);
        input type="hidden" name="item" value=(id);
        input type="hidden" name="state" value=(state);
        input type="hidden" name="before" value=(before);
    };
    html! {
        article class="card shared-item" id={ "card-" (id) } aria-labelledby=(heading) tabindex="-1" {
            h3 class="item-title" id=(heading) { "Said at " (item.hub_name.as_deref().unwrap_or_default()) " on " (day_text(&item.said_on)) }
            @if item.loop_state == "SHARED" {
                @let select_id = format!("select-{id}");
                div class="choice select-item" {
                    input type="checkbox" id=(select_id) name="items" value=(id) form=(SELECTED_FORM)
                        checked[view.values.iter().any(|(key, value)| key == "items" && value == id)];
                    label for=(select_id) {
                        "Select"
                        span class="visually-hidden" { " the item said at " (item.hub_name.as_deref().unwrap_or_default()) " on " (day_text(&item.said_on)) }
                    }
                }
            }
            @match &item.text {
                Some(words) => { blockquote { p { (words) } } }
                None => { p class="hint" { "The words are no longer shown: the person who said it changed their consent." } }
            }
            p class="meta" {
                @if let Some(about) = &item.about { "About " (about) " · " }
                @for theme in &item.themes { (theme.name) " · " }
                "Shared " (day_text(item.shared_at.as_deref().unwrap_or_default().get(..10).unwrap_or_default()))
                @if let Some(on) = &item.acknowledged_on { " · Acknowledged " (day_text(on)) }
            }
            @if let Some(error) = errors.of(&format!("card-{id}")) {
                p class="field-error" { span class="visually-hidden" { "Error: " } (error) }
            }
            @if item.loop_state == "SHARED" {
                form class="inline-action" method="post" action="/shared/acknowledge" {
                    (keep)
                    button class="button" type="submit" aria-describedby=(heading) { "Acknowledge" }
                }
            }
            details open[errors.of(&reason_id).is_some()] {
                summary { "Not acted on, because…" }
                form method="post" action="/shared/answer" novalidate {
                    (keep)
                    (forms::textarea(&reason_id, "Why was it not acted on?", &value(&reason_id), Some("The hub reads this to the people who said it. Write it so they can understand it."), errors))
                    button class="button button--secondary" type="submit" { "Send the answer" }
                }
            }
            details open[errors.of(&decision_id).is_some() || errors.of(&rationale_id).is_some()] {
                summary { "Link it to a decision" }
                @if decisions.len() > 1 {
                    form method="post" action="/shared/link" novalidate {
                        (keep)
                        (forms::select(&decision_id, "Which decision?", decisions, &value(&decision_id), errors))
                        (forms::textarea(&rationale_id, "Why does it matter to the decision?", &value(&rationale_id), Some("This is the \"you said\" people will read beside the decision."), errors))
                        button class="button button--secondary" type="submit" { "Link it" }
                    }
                }
                p { a href="/decisions/new" { "Propose a new decision" } " or " a href="/decisions" { "see all decisions" } "." }
            }
        }
    }
}

/// `GET /shared?state=new|acknowledged&before=`.
pub async fn list<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<Commissioners>,
    Query(query): Query<ListQuery>,
) -> Response {
    let view = View { state: query.state, before: query.before, done: query.done, ..View::default() };
    list_page(&backend, &viewer, &csrf, &view).await
}

/// The mutation for an action on `item`, or where and why it was refused before asking.
pub(crate) fn action_for(
    action: &str,
    item: &str,
    pairs: &[(String, String)],
) -> Result<(&'static str, Value, &'static str), (String, String)> {
    let filled = |key: &str| Some(value_of(pairs, key)).filter(|v| !v.trim().is_empty());
    match action {
        "acknowledge" => Ok((
            "mutation($i: ID!) { acknowledgeFeedback(itemId: $i) { itemId } }",
            json!({ "i": item }),
            "acknowledged",
        )),
        "answer" => {
            let field = format!("reason-{item}");
            let reason = filled(&field).ok_or_else(|| (field, "Say why it was not acted on".to_owned()))?;
            Ok((
                "mutation($i: ID!, $r: String!) { answerFeedback(itemId: $i, reason: $r) { itemId } }",
                json!({ "i": item, "r": reason.trim() }),
                "answered",
            ))
        }
        "link" => {
            let field = format!("decision-{item}");
            let decision = filled(&field).ok_or_else(|| (field, "Choose the decision to link it to".to_owned()))?;
            let field = format!("rationale-{item}");
            let rationale = filled(&field).ok_or_else(|| (field, "Say why it matters to the decision".to_owned()))?;
            Ok((
                "mutation($d: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $d, input: $i) { id } }",
                json!({ "d": decision, "i": { "kind": "FEEDBACK_ITEM", "itemId": item, "rationale": rationale.trim() } }),
                "linked",
            ))
        }
        _ => Err((String::new(), "There is no such action".to_owned())),
    }
}

/// Where an error the API gave on `action` goes on the page.
pub(crate) fn field_for(action: &str, api_field: Option<&str>, item: &str) -> String {
    match (action, api_field.map(crate::kit::field_id).as_deref()) {
        ("answer", _) => format!("reason-{item}"),
        ("link", Some("rationale")) => format!("rationale-{item}"),
        ("link", _) => format!("decision-{item}"),
        _ => format!("card-{item}"),
    }
}

/// `POST /shared/{action}`: acknowledge, answer, link.
pub async fn act<B: Backend>(
    State(backend): State<B>,
    Path(action): Path<String>,
    PostedFormAs { viewer, csrf, form: pairs, .. }: PostedFormAs<Commissioners, Vec<(String, String)>>,
) -> Response {
    if !["acknowledge", "answer", "link"].contains(&action.as_str()) {
        return (StatusCode::NOT_FOUND, "There is no such action.").into_response();
    }
    let item = value_of(&pairs, "item");
    let (state, before) = (value_of(&pairs, "state"), value_of(&pairs, "before"));
    let mut errors = Errors::default();
    match action_for(&action, &item, &pairs) {
        Err((field, message)) => errors.add(&field, message),
        Ok((query, variables, done)) => {
            let answer = ask(&backend, &viewer, query, variables).await;
            if answer.errors.is_empty() {
                return Redirect::to(&list_url(&state, &before, Some(done))).into_response();
            }
            for (field, _, message) in answer.errors {
                errors.add(&field_for(&action, field.as_deref(), &item), plain(&message));
            }
        }
    }
    let view = View { state, before, done: None, errors, values: pairs };
    let mut response = list_page(&backend, &viewer, &csrf, &view).await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

const ACKNOWLEDGE_SELECTED: &str =
    "mutation($items: [ID!]!) { acknowledgeFeedbackItems(itemIds: $items) { itemId acknowledgedOn } }";

/// Where an error of acknowledging several items goes: beside the item the API named
/// (`itemIds[2]` is the third ticked), or beside the button.
pub(crate) fn selected_error_field(api_field: Option<&str>, items: &[String]) -> String {
    let index = api_field
        .and_then(|field| field.strip_prefix("itemIds["))
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|index| index.parse::<usize>().ok());
    match index.and_then(|index| items.get(index)) {
        Some(item) => format!("card-{item}"),
        None => SELECTED_FORM.to_owned(),
    }
}

/// `POST /shared/acknowledge-selected`: acknowledges every ticked item at once, all or none.
/// Sent again (Back, then the button once more) it changes nothing and says the same.
pub async fn acknowledge_selected<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, form: pairs, .. }: PostedFormAs<Commissioners, Vec<(String, String)>>,
) -> Response {
    let items: Vec<String> = pairs
        .iter()
        .filter(|(key, value)| key == "items" && !value.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned())
        .collect();
    let (state, before) = (value_of(&pairs, "state"), value_of(&pairs, "before"));
    let mut errors = Errors::default();
    if items.is_empty() {
        errors.add(SELECTED_FORM, "Select at least one item to acknowledge");
    } else {
        let answer = ask(&backend, &viewer, ACKNOWLEDGE_SELECTED, json!({ "items": items })).await;
        if answer.errors.is_empty() {
            return Redirect::to(&list_url(&state, &before, Some("acknowledged-selected"))).into_response();
        }
        for (field, _, message) in answer.errors {
            let field = selected_error_field(field.as_deref(), &items);
            let message = if field == SELECTED_FORM {
                plain(&message)
            } else {
                "This item cannot be acknowledged by you, so none of the items you selected was. Untick it and try again".to_owned()
            };
            errors.add(&field, message);
        }
    }
    let view = View { state, before, done: None, errors, values: pairs };
    let mut response = list_page(&backend, &viewer, &csrf, &view).await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/shared", get(list::<B>))
        .route("/shared/acknowledge-selected", post(acknowledge_selected::<B>))
        .route("/shared/{action}", post(act::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::testing::posted;

    #[test]
    fn an_unknown_list_falls_back_to_the_items_not_yet_acknowledged() {
        assert_eq!(tab("acknowledged").1, "ACKNOWLEDGED");
        assert_eq!(tab("nonsense").1, "SHARED");
        assert_eq!(tab("").0, "new");
    }

    #[test]
    fn going_back_to_the_list_keeps_the_tab_and_the_page() {
        assert_eq!(
            list_url("acknowledged", "o:40", Some("answered")),
            "/shared?state=acknowledged&before=o%3A40&done=answered"
        );
        assert_eq!(list_url("", "", None), "/shared?state=new");
    }

    #[test]
    fn an_empty_reason_is_refused_beside_the_items_own_field() {
        let refused = action_for("answer", "i1", &posted(&[("reason-i1", "   ")]));
        assert_eq!(refused.err(), Some(("reason-i1".to_owned(), "Say why it was not acted on".to_owned())));
        let refused = action_for("link", "i1", &posted(&[("decision-i1", "d1")]));
        assert_eq!(refused.err().map(|e| e.0), Some("rationale-i1".to_owned()));
        let (_, variables, _) =
            action_for("answer", "i1", &posted(&[("reason-i1", " Not our service ")])).expect("fine");
        assert_eq!(variables["r"], "Not our service");
    }

    #[test]
    fn the_message_after_a_form_is_one_of_this_pages_own_never_words_from_the_address() {
        assert_eq!(done_words("answered"), Some("Answered. The hub will tell the people who said it why"));
        assert_eq!(done_words("Your account is closed: call 0800 000 000"), None);
        for action in ["acknowledge", "answer", "link"] {
            let fields = posted(&[("reason-i1", "Because"), ("decision-i1", "d1"), ("rationale-i1", "Why")]);
            let (_, _, done) = action_for(action, "i1", &fields).expect("fine");
            assert!(done_words(done).is_some(), "{action} returns with a known code");
        }
    }

    #[test]
    fn a_refusal_of_one_of_several_items_is_shown_beside_that_item() {
        let items = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        assert_eq!(selected_error_field(Some("itemIds[1]"), &items), "card-b");
        assert_eq!(selected_error_field(Some("itemIds[9]"), &items), SELECTED_FORM);
        assert_eq!(selected_error_field(None, &items), SELECTED_FORM);
    }

    #[test]
    fn api_errors_are_shown_beside_the_form_that_was_sent() {
        assert_eq!(field_for("answer", Some("reason"), "i1"), "reason-i1");
        assert_eq!(field_for("link", Some("input.rationale"), "i1"), "rationale-i1");
        assert_eq!(field_for("link", Some("input.itemId"), "i1"), "decision-i1");
        assert_eq!(field_for("acknowledge", None, "i1"), "card-i1");
    }
}
