//! `GET /moderation` (the items to moderate) and `GET /moderation/held` (the held items): one
//! page of 20 of a hub's queue as the [`View`] asks, the filter form, the tabs, the pages.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use heard_access::{Action, Resource};
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::view::{PAGE_SIZE, View};
use super::{consent_form_with, consent_words, coordinators};
use crate::Backend;
use crate::backend::ask;
use crate::extract::{HubCoordinators, SignedInAs};
use crate::flash::{Flashed, notice};
use crate::forms::{self, Errors};
use crate::kit::{Connection, Highlight, day_words, highlighted, plain};
use crate::layout::page;

/// Which of the hub's queues a page shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tab {
    ToModerate,
    Held,
}

impl Tab {
    pub fn path(self) -> &'static str {
        match self {
            Tab::ToModerate => "/moderation",
            Tab::Held => "/moderation/held",
        }
    }

    /// The tab a posted form came from (its hidden `tab`).
    pub fn posted(value: &str) -> Tab {
        if value == "held" { Tab::Held } else { Tab::ToModerate }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named {
    id: String,
    name: String,
}

/// A passage suggested for redaction, in characters of the words that would be shared.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Suggested {
    text: String,
    start: usize,
    end: usize,
    reason: String,
}

/// An item in a queue; its words are `null` once consent was withdrawn.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Item {
    id: String,
    text: Option<String>,
    redacted_text: Option<String>,
    consent: Option<String>,
    said_on: String,
    themes: Vec<Named>,
    suggested_redactions: Vec<Suggested>,
    held_reason: Option<String>,
    held_on: Option<String>,
}

/// A page of a queue and how many items it holds in all.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Counted {
    total_count: usize,
    #[serde(flatten)]
    items: Connection<Item>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Queues {
    moderation_queue: Option<Counted>,
    held_feedback: Option<Counted>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Meeting {
    id: String,
    #[serde(rename = "heldOn")]
    held_on: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Me {
    hubs: Vec<Named>,
}

/// What the filter form offers: the coordinator's hubs, the themes and the hub's meetings.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Lists {
    me: Me,
    themes: Vec<Named>,
    meetings: Connection<Meeting>,
}

/// The hubs whose queues the viewer may see (the policy decides), as (id, name), by name.
pub(super) async fn coordinated_hubs<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    action: Action,
) -> Vec<(String, String)> {
    let answer = ask(backend, viewer, "{ me { hubs { id name } } }", json!({})).await;
    let me: Me = answer.decode("me").unwrap_or_default();
    let mut hubs: Vec<(String, String)> = me
        .hubs
        .into_iter()
        .filter(|hub| heard_access::may(&viewer.actor, action, &Resource::Hub { hub: hub.id.clone() }).is_allowed())
        .map(|hub| (hub.id, hub.name))
        .collect();
    hubs.sort_by(|a, b| a.1.cmp(&b.1));
    hubs
}

const ITEM_FIELDS: &str = "id text redactedText consent saidOn themes { name }";

/// The query for a page of `tab`, with the other tab's count.
fn queue_query(tab: Tab) -> String {
    let vars = "$h: ID!, $f: ModerationFilter, $o: QueueOrder, $a: String, $n: Int";
    let page = "hub: $h, filter: $f, order: $o, after: $a, first: $n";
    match tab {
        Tab::ToModerate => format!(
            "query({vars}) {{ moderationQueue({page}) {{ totalCount edges {{ node {{ {ITEM_FIELDS} \
             suggestedRedactions {{ text start end reason }} }} }} }} heldFeedback(hub: $h, filter: $f, first: 0) {{ totalCount }} }}"
        ),
        Tab::Held => format!(
            "query({vars}) {{ heldFeedback({page}) {{ totalCount edges {{ node {{ {ITEM_FIELDS} heldReason heldOn }} }} }} \
             moderationQueue(hub: $h, filter: $f, first: 0) {{ totalCount }} }}"
        ),
    }
}

/// What one page of a queue shows.
struct Shown {
    /// The page's items, and the one after the page (to know where to go after an action).
    items: Vec<Item>,
    total: usize,
    /// How many the other tab holds under the same filters.
    other: usize,
}

/// Asks for `view`'s page of `tab`: its items, or the refusal to show as the page.
async fn fetch<B: Backend>(backend: &B, viewer: &Viewer, tab: Tab, view: &View) -> Result<Shown, (StatusCode, String)> {
    let variables = json!({
        "h": view.hub, "f": view.filter(), "o": view.order(),
        "a": heard_api::cursor_before(view.offset()), "n": PAGE_SIZE + 1,
    });
    let answer = ask(backend, viewer, &queue_query(tab), variables).await;
    if let Some((_, code, message)) = answer.errors.first() {
        let status = match code.as_deref() {
            Some("FORBIDDEN" | "NOT_FOUND" | "UNAUTHENTICATED") => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        return Err((status, plain(message)));
    }
    let queues: Queues = answer
        .read("moderation queues")
        .map_err(|_| (StatusCode::INTERNAL_SERVER_ERROR, crate::backend::UNDECODABLE.to_owned()))?;
    let (this, other) = match tab {
        Tab::ToModerate => (queues.moderation_queue, queues.held_feedback),
        Tab::Held => (queues.held_feedback, queues.moderation_queue),
    };
    let this = this.unwrap_or_default();
    Ok(Shown { total: this.total_count, items: this.items.nodes(), other: other.map_or(0, |o| o.total_count) })
}

/// `GET /moderation`: the items waiting to be moderated.
pub async fn queue<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<HubCoordinators>,
    flashed: Flashed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    show(&backend, &viewer, &csrf, &flashed, &pairs, Tab::ToModerate).await
}

/// `GET /moderation/held`: the items held in the hub, each with its reason and a way back.
pub async fn held<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<HubCoordinators>,
    flashed: Flashed,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    show(&backend, &viewer, &csrf, &flashed, &pairs, Tab::Held).await
}

/// The page of `tab` that `pairs` (the address's query) asks for.
async fn show<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    flashed: &Flashed,
    pairs: &[(String, String)],
    tab: Tab,
) -> Response {
    let hubs = coordinated_hubs(backend, viewer, Action::ViewQueue).await;
    let title = match tab {
        Tab::ToModerate => "Moderation queue",
        Tab::Held => "Held in the hub",
    };
    if hubs.is_empty() {
        let body = html! { h1 { (title) } p { "You are not a coordinator of any hub yet. An administrator can add you to one." } };
        return page(viewer, title, Some(csrf), body).into_response();
    }
    let hub_ids: Vec<String> = hubs.iter().map(|(id, _)| id.clone()).collect();
    let (hub, _) = View::hub_from(pairs, &hub_ids);
    let lists = ask(
        backend,
        viewer,
        "query($h: ID!) { themes { id name } meetings(hub: $h, first: 100) { edges { node { id heldOn } } } }",
        json!({ "h": hub }),
    )
    .await;
    let lists: Lists = lists.decode_all();
    let themes: Vec<(String, String)> = lists.themes.into_iter().map(|theme| (theme.id, theme.name)).collect();
    let meetings: Vec<(String, String)> =
        lists.meetings.nodes().into_iter().map(|meeting| (meeting.id, day_words(&meeting.held_on))).collect();
    let theme_ids: Vec<String> = themes.iter().map(|(id, _)| id.clone()).collect();
    let meeting_ids: Vec<String> = meetings.iter().map(|(id, _)| id.clone()).collect();
    let (view, mut errors) = View::read(pairs, &hub_ids, &theme_ids, &meeting_ids);
    let mut shown = match fetch(backend, viewer, tab, &view).await {
        Ok(shown) => shown,
        Err((status, message)) => {
            let body = html! { h1 { (title) } p { (message) } };
            return (status, page(viewer, title, Some(csrf), body)).into_response();
        }
    };
    let asked_page = view.page;
    let view = view.within(shown.total, &mut errors);
    if view.page != asked_page {
        match fetch(backend, viewer, tab, &view).await {
            Ok(again) => shown = again,
            Err((status, message)) => {
                let body = html! { h1 { (title) } p { (message) } };
                return (status, page(viewer, title, Some(csrf), body)).into_response();
            }
        }
    }
    flashed.add_error_to(&mut errors);
    let coordinators = match tab {
        Tab::ToModerate => coordinators(backend, viewer, &view.hub).await,
        Tab::Held => Vec::new(),
    };
    let context = Context { csrf, view: &view, tab, errors: &errors, coordinators: &coordinators };
    let heading = title;
    let body = html! {
        (forms::summary(&errors))
        @if let Some(flash) = flashed.notice().filter(|flash| !shown.items.iter().any(|item| flash.at == format!("item-{}", item.id))) {
            (notice(flash))
        }
        h1 { (heading) }
        p class="lead" { "Nothing leaves the hub until you share it. Take out anything that could identify someone first." }
        (tabs(&view, tab, shown.total, shown.other))
        (filter_form(tab, &view, &hubs, &themes, &meetings, &errors))
        (count_line(tab, &view, shown.total))
        @let on_page: Vec<&Item> = shown.items.iter().take(PAGE_SIZE).collect();
        @for (index, item) in on_page.iter().enumerate() {
            @let next = next_anchor(&shown.items, index);
            @if let Some(flash) = flashed.notice_at(&format!("item-{}", item.id)) { (notice(flash)) }
            @match tab {
                Tab::ToModerate => (pending_card(&context, item, &next)),
                Tab::Held => (held_card(&context, item, &next)),
            }
        }
        (pagination(tab, &view, shown.total))
    };
    let title = forms::titled(&errors, title);
    page(viewer, &title, Some(csrf), body).into_response()
}

/// What every item's forms share.
struct Context<'a> {
    csrf: &'a str,
    view: &'a View,
    tab: Tab,
    errors: &'a Errors,
    coordinators: &'a [(String, String)],
}

/// Where the page should stand once the item at `index` has left it: the item after it (the
/// next page's first moves up into this one), else the one before it, else nowhere.
fn next_anchor(items: &[Item], index: usize) -> String {
    let after = items.get(index + 1).map(|item| item.id.clone());
    let before = index.checked_sub(1).and_then(|before| items.get(before)).map(|item| item.id.clone());
    after.or(before).unwrap_or_default()
}

/// The hidden fields every action's form carries: the token, the item, the view to come back
/// to, the tab and the item to stand at once this one has left.
fn hidden(context: &Context<'_>, id: &str, next: &str) -> Markup {
    html! {
        input type="hidden" name="csrf_token" value=(context.csrf);
        input type="hidden" name="id" value=(id);
        (context.view.hidden_fields())
        @if context.tab == Tab::Held { input type="hidden" name="tab" value="held"; }
        input type="hidden" name="next" value=(next);
    }
}

fn tabs(view: &View, tab: Tab, total: usize, other: usize) -> Markup {
    let (waiting, held) = match tab {
        Tab::ToModerate => (total, other),
        Tab::Held => (other, total),
    };
    let first = view.at_page(1);
    html! {
        nav class="tabs" aria-label="Moderation" {
            ul {
                li { a href=(first.url(Tab::ToModerate.path())) aria-current=[(tab == Tab::ToModerate).then_some("page")] { "To moderate (" (waiting) ")" } }
                li { a href=(first.url(Tab::Held.path())) aria-current=[(tab == Tab::Held).then_some("page")] { "Held (" (held) ")" } }
                li { a href={ "/moderation/gazetteer?hub=" (crate::kit::urlencode(&view.hub)) } { "Names and places to take out" } }
            }
        }
    }
}

/// The plain `GET` form that narrows the queue.
fn filter_form(
    tab: Tab,
    view: &View,
    hubs: &[(String, String)],
    themes: &[(String, String)],
    meetings: &[(String, String)],
    errors: &Errors,
) -> Markup {
    let day = |day: Option<jiff::civil::Date>| day.map(|day| day.to_string()).unwrap_or_default();
    let (from, to) = (day(view.from), day(view.to));
    let any = |words: &str, list: &[(String, String)]| {
        let mut options = vec![(String::new(), words.to_owned())];
        options.extend(list.iter().cloned());
        options
    };
    let orders = [("oldest".to_owned(), "Oldest first".to_owned()), ("newest".to_owned(), "Newest first".to_owned())];
    let filter_errors =
        ["hub", "from", "to", "theme", "meeting", "order"].iter().any(|field| errors.of(field).is_some());
    let open = view.filtered() || view.newest_first || filter_errors;
    html! {
        details class="filters" open[open] {
            summary { span class="filters-title" { "Show only some items, or the newest first" } }
            form method="get" action=(tab.path()) {
            div class="filter-fields" {
                @if hubs.len() > 1 {
                    (forms::select("hub", "Hub", hubs, &view.hub, errors))
                } @else {
                    input type="hidden" name="hub" value=(view.hub);
                }
                (forms::day_input("from", "Said on or after", &from, None, errors))
                (forms::day_input("to", "Said on or before", &to, None, errors))
                (forms::select("theme", "Theme", &any("Any theme", themes), view.theme.as_deref().unwrap_or(""), errors))
                (forms::select("meeting", "Meeting", &any("Any meeting", meetings), view.meeting.as_deref().unwrap_or(""), errors))
                (forms::select("order", "Order", &orders, if view.newest_first { "newest" } else { "oldest" }, errors))
            }
            div class="filter-actions" {
                button class="button button--secondary" type="submit" { "Show" }
                @if view.filtered() || view.newest_first {
                    a href=(View { hub: view.hub.clone(), ..View::default() }.url(tab.path())) { "Show everything" }
                }
            }
            }
        }
    }
}

fn count_line(tab: Tab, view: &View, total: usize) -> Markup {
    let what = match (tab, total) {
        (Tab::ToModerate, 1) => "1 item to moderate".to_owned(),
        (Tab::ToModerate, n) => format!("{n} items to moderate"),
        (Tab::Held, 1) => "1 item held".to_owned(),
        (Tab::Held, n) => format!("{n} items held"),
    };
    let pages = View::pages(total);
    html! {
        @if total == 0 {
            p {
                @match (tab, view.filtered()) {
                    (_, true) => "Nothing here matches what you chose. Show everything to see the whole queue.",
                    (Tab::ToModerate, false) => "The queue is empty. Everything logged has been shared or held.",
                    (Tab::Held, false) => "Nothing is held.",
                }
            }
        } @else {
            p class="count" { (what) @if view.filtered() { " match what you chose" } @if pages > 1 { ". Page " (view.page) " of " (pages) "." } }
        }
    }
}

fn pagination(tab: Tab, view: &View, total: usize) -> Markup {
    let pages = View::pages(total);
    html! {
        @if pages > 1 {
            nav class="pagination" aria-label="Pages" {
                ul {
                    @if view.page > 1 {
                        li { a href=(view.at_page(view.page - 1).url(tab.path())) rel="prev" { "Previous page" } }
                    }
                    li { "Page " (view.page) " of " (pages) }
                    @if view.page < pages {
                        li { a href=(view.at_page(view.page + 1).url(tab.path())) rel="next" { "Next page" } }
                    }
                }
            }
        }
    }
}

/// Plain words for why a passage is suggested.
fn reason_words(reason: &str) -> &'static str {
    match reason {
        "GAZETTEER" => "on the hub's list of names and places",
        "EMAIL" => "an email address",
        "PHONE" => "a phone number",
        _ => "a name or a place",
    }
}

/// The item's heading and, for an error about the item as a whole, the error beneath it.
fn heading(context: &Context<'_>, item: &Item) -> Markup {
    let id = &item.id;
    let themes: Vec<&str> = item.themes.iter().map(|theme| theme.name.as_str()).collect();
    html! {
        h2 id={ "item-" (id) } class="item-title" { "Said on " (day_words(&item.said_on)) }
        @if !themes.is_empty() { p class="meta" { "Themes: " (themes.join(", ")) } }
        @if let Some(error) = context.errors.of(&format!("item-{id}")) {
            p class="field-error" { span class="visually-hidden" { "Error: " } (error) }
        }
    }
}

/// An item waiting to be moderated.
fn pending_card(context: &Context<'_>, item: &Item, next: &str) -> Markup {
    let id = item.id.as_str();
    let text = item.text.as_deref();
    let shared = item.redacted_text.as_deref().or(text).unwrap_or("");
    let consent = item.consent.as_deref().unwrap_or("");
    let errors = context.errors;
    let marks: Vec<Highlight> =
        item.suggested_redactions.iter().map(|found| Highlight { start: found.start, end: found.end }).collect();
    let mut passages: Vec<&Suggested> = Vec::new();
    for found in &item.suggested_redactions {
        if !passages.iter().any(|known| known.text == found.text) {
            passages.push(found);
        }
    }
    let suggestions_id = format!("suggested-{id}");
    let textarea_label = if passages.is_empty() {
        "Words to take out before sharing (one per line)"
    } else {
        "Other words to take out (one per line)"
    };
    let reason_id = format!("reason-{id}");
    let reason_error = errors.of(&reason_id);
    let open = errors.of(&format!("consent-{id}")).is_some() || errors.of(&format!("coordinator-{id}")).is_some();
    html! {
        article class="card item" aria-labelledby={ "item-" (id) } {
            (heading(context, item))
            div class="before-after" {
                div {
                    h3 { "As said (stays in the hub)" }
                    blockquote { p { (text.unwrap_or("")) } }
                }
                div {
                    h3 { "As it would be shared" }
                    blockquote { p { (highlighted(shared, &marks)) } }
                    @if !marks.is_empty() { p class="hint" { "Marked: what Heard suggests taking out." } }
                }
            }
            p class="meta" { "Who may see it: " (consent_words(consent)) }
            form method="post" action="/moderation/redact" {
                (hidden(context, id, next))
                @if !passages.is_empty() {
                    div class="field suggestions" {
                        fieldset aria-describedby={ (suggestions_id) "-hint" } {
                            legend { "Heard found words that could identify someone" }
                            p class="hint" id={ (suggestions_id) "-hint" } {
                                "Ticked words are taken out when you press Redact. Untick any that are safe to share."
                            }
                            div class="choices" {
                                @for (index, found) in passages.iter().enumerate() {
                                    @let choice = format!("{suggestions_id}-{index}");
                                    div class="choice" {
                                        input id=(choice) name="suggested" type="checkbox" value=(found.text) checked;
                                        label for=(choice) { strong { (found.text) } " (" (reason_words(&found.reason)) ")" }
                                    }
                                }
                            }
                        }
                    }
                }
                (forms::textarea(&format!("passages-{id}"), textarea_label, "", Some("For example a name, a place or a date that could identify someone."), errors))
                button class="button button--secondary" type="submit" { "Redact" }
            }
            div class="actions" {
                form method="post" action="/moderation/share" {
                    (hidden(context, id, next))
                    button class="button" type="submit" { "Share" }
                }
                form method="post" action="/moderation/hold" {
                    (hidden(context, id, next))
                    div class={ "field" @if reason_error.is_some() { " field--error" } } {
                        label for=(reason_id) { "Reason for holding it" }
                        @if let Some(error) = reason_error {
                            p class="field-error" id={ (reason_id) "-error" } { span class="visually-hidden" { "Error: " } (error) }
                        }
                        input id=(reason_id) name="reason" type="text" value="Check with the speaker first"
                            aria-describedby=[reason_error.map(|_| format!("{reason_id}-error"))]
                            aria-invalid=[reason_error.map(|_| "true")];
                    }
                    button class="button button--secondary" type="submit" { "Hold in the hub" }
                }
            }
            details class="more-actions" open[open] {
                summary { "They changed their mind, or it tells of a risk" }
                (consent_form_with(context.csrf, "/moderation/consent", id, consent, errors, html! {
                    (context.view.hidden_fields())
                    input type="hidden" name="next" value=(next);
                }))
                (safeguarding_form(context, id, next))
            }
        }
    }
}

/// "It tells of a risk": send it to a coordinator of the hub with a duty of care, chosen by name.
fn safeguarding_form(context: &Context<'_>, id: &str, next: &str) -> Markup {
    let field = format!("coordinator-{id}");
    let coordinators = context.coordinators;
    html! {
        form method="post" action="/moderation/safeguarding" novalidate {
            (hidden(context, id, next))
            h3 { "It tells of a risk to someone" }
            p class="hint" { "For example self-harm, abuse, or a child at risk. It goes to a person with a duty of care, leaves every other list at once, and is never shared or counted." }
            @if coordinators.is_empty() {
                p { "This hub has no coordinator to send it to. Ask an administrator to add one." }
            } @else {
                // Chosen by name, nobody (not even the person sending it) chosen in advance.
                (forms::select(&field, "Which coordinator should it go to?", &crate::safeguarding::with_nobody_chosen(coordinators), "", context.errors))
                button class="button button--secondary" type="submit" { "Send for safeguarding" }
            }
        }
    }
}

/// A held item: its words, why it is held and since when, and the way back to the queue.
fn held_card(context: &Context<'_>, item: &Item, next: &str) -> Markup {
    let id = item.id.as_str();
    let consent = item.consent.as_deref().unwrap_or("");
    let errors = context.errors;
    let open = errors.of(&format!("consent-{id}")).is_some();
    html! {
        article class="card item held-item" aria-labelledby={ "item-" (id) } {
            (heading(context, item))
            blockquote { p { (item.text.as_deref().unwrap_or("")) } }
            @if let Some(redacted) = &item.redacted_text {
                h3 { "As it would be shared" }
                blockquote { p { (redacted) } }
            }
            p class="held-reason" {
                strong { "Held" @if let Some(on) = &item.held_on { " on " (day_words(on)) } ", because: " }
                (item.held_reason.as_deref().unwrap_or("no reason was given"))
            }
            p class="meta" { "Who may see it: " (consent_words(consent)) }
            form method="post" action="/moderation/release" {
                (hidden(context, id, next))
                button class="button" type="submit" { "Release it back to the queue" }
            }
            details class="more-actions" open[open] {
                summary { "They changed their mind" }
                (consent_form_with(context.csrf, "/moderation/consent", id, consent, errors, html! {
                    (context.view.hidden_fields())
                    input type="hidden" name="tab" value="held";
                    input type="hidden" name="next" value=(next);
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(ids: &[&str]) -> Vec<Item> {
        ids.iter().map(|id| Item { id: (*id).to_owned(), ..Item::default() }).collect()
    }

    #[test]
    fn after_an_item_leaves_the_page_stands_at_the_one_that_took_its_place() {
        let page = items(&["a", "b", "c"]);
        assert_eq!(next_anchor(&page, 0), "b");
        assert_eq!(next_anchor(&page, 2), "b", "the last goes back to the one before it");
        assert_eq!(next_anchor(&items(&["a"]), 0), "", "nothing is left");
        let with_next_page = items(&["a", "b", "first-of-next-page"]);
        assert_eq!(next_anchor(&with_next_page, 1), "first-of-next-page", "which moves up into this page");
    }

    #[test]
    fn each_reason_for_a_suggestion_has_plain_words() {
        assert_eq!(reason_words("GAZETTEER"), "on the hub's list of names and places");
        assert_eq!(reason_words("PHONE"), "a phone number");
        assert_eq!(reason_words("NAME"), "a name or a place");
    }
}
