//! Search across feedback, with highlighted passages, facets and filters, each result opening
//! the item it comes from, and the results as a CSV download. A plain GET form: it works
//! without JavaScript, and every result is only what the person may see.
//!
//! Every part of the address is checked before anything is searched (a search of at most 500
//! characters, one value per filter, a page that is a whole number within reach, a channel or
//! loop state from the list); what GraphQL refuses (a hub, provider or theme Heard does not
//! have) is shown beside the filters the same way. The page then names the part that was wrong,
//! searches without it and answers 400, never a 500. Parts of the address search does not use
//! are ignored.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use heard_access::Action;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::{UNDECODABLE, ask};
use crate::extract::{SignedIn, Visitor};
use crate::forms::{self, Errors, Input};
use crate::kit::{
    Connection, Highlight, attachment, day_words, highlighted, may, null_as_default, only_for, plain, urlencode,
};
use crate::layout::page;

/// Who searches: everyone who follows what was said and decided (the menu offers it to the
/// same people). An administrator gets no content by virtue of the role.
const WHOSE: &str = "people who follow what was said and decided";

/// Results on one page.
const PER_PAGE: usize = 20;
/// The last page a search reaches: GraphQL pages through the first 10,000 results.
const MAX_PAGE: usize = 10_000 / PER_PAGE;
/// The longest search, as GraphQL allows it.
const MAX_QUERY_CHARS: usize = 500;
/// The longest filter value anyone could mean (ids are short).
const MAX_FILTER_CHARS: usize = 100;

/// The filters, in the order the page shows them: (address key, GraphQL filter, heading, what
/// one of them is called in a message).
const FILTERS: [(&str, &str, &str, &str); 5] = [
    ("hub", "hub", "Hub", "hub"),
    ("theme", "theme", "Theme", "theme"),
    ("provider", "provider", "Service", "service"),
    ("channel", "channel", "How it was heard", "way it was heard"),
    ("loop", "loopState", "Where it stands", "stage"),
];

const CHANNELS: [&str; 6] = ["FORUM", "DROP_IN", "ONE_TO_ONE", "SURVEY", "ONLINE", "PHONE"];
const LOOP_STATES: [&str; 7] =
    ["LOGGED", "SHARED", "ACKNOWLEDGED", "LINKED_TO_DECISION", "NOT_ACTED_ON", "DECISION_DONE", "FED_BACK"];

/// A search as the address asks for it, once checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SearchParams {
    q: String,
    /// (address key, value) of each filter set, in [`FILTERS`] order.
    filters: Vec<(&'static str, String)>,
    /// From 1.
    page: usize,
}

impl SearchParams {
    /// Reads the address's pairs, keeping what is right and naming what is not.
    fn read(pairs: &[(String, String)]) -> (SearchParams, Errors) {
        let mut errors = Errors::default();
        let values = |key: &str| -> Vec<&str> {
            pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.trim().is_empty()).collect()
        };
        let mut params = SearchParams { page: 1, ..SearchParams::default() };
        match values("q").as_slice() {
            [] => {}
            [q] if q.chars().count() > MAX_QUERY_CHARS => {
                errors.add("q", format!("Words to look for must be {MAX_QUERY_CHARS} characters or fewer"));
            }
            [q] => params.q = q.trim().to_owned(),
            _ => errors.add("q", "Words to look for: the address holds more than one search; type your words once"),
        }
        for (key, _, heading, called) in FILTERS {
            match values(key).as_slice() {
                [] => {}
                [value] => {
                    let value = value.trim();
                    let known = match key {
                        "channel" => known_value(&CHANNELS, value),
                        "loop" => known_value(&LOOP_STATES, value),
                        _ => (value.chars().count() <= MAX_FILTER_CHARS).then(|| value.to_owned()),
                    };
                    match known {
                        Some(value) => params.filters.push((key, value)),
                        None => errors.add("filters", format!("{heading}: choose a {called} from the list")),
                    }
                }
                _ => errors.add("filters", format!("{heading}: choose one {called} at a time")),
            }
        }
        match values("page").as_slice() {
            [] => {}
            [page] => match page.trim().parse::<usize>() {
                Ok(page) if (1..=MAX_PAGE).contains(&page) => params.page = page,
                Ok(_) => errors.add("search-results", format!("Page must be between 1 and {MAX_PAGE}")),
                Err(_) => errors.add("search-results", "Page must be a whole number, like 2"),
            },
            _ => errors.add("search-results", "Page: the address holds more than one page number"),
        }
        (params, errors)
    }

    fn filter(&self, key: &str) -> Option<&str> {
        self.filters.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    fn without(&self, key: &str) -> SearchParams {
        SearchParams { filters: self.filters.iter().filter(|(k, _)| *k != key).cloned().collect(), ..self.clone() }
    }

    /// The GraphQL filter.
    fn graphql_filter(&self) -> Value {
        let mut filter = serde_json::Map::new();
        for (key, name, _, _) in FILTERS {
            if let Some(value) = self.filter(key) {
                filter.insert(name.to_owned(), json!(value));
            }
        }
        Value::Object(filter)
    }

    /// The address's query string for these words and filters, at `page` (left out for the first).
    fn query_string(&self, page: usize) -> String {
        let mut parts = vec![format!("q={}", urlencode(&self.q))];
        for (key, value) in &self.filters {
            parts.push(format!("{key}={}", urlencode(value)));
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        parts.join("&")
    }

    fn link(&self, page: usize) -> String {
        format!("/search?{}", self.query_string(page))
    }

    /// The same search with `key` set to `value` (or left out), from its first page.
    fn link_with(&self, key: &'static str, value: Option<&str>) -> String {
        let mut changed = self.without(key);
        if let Some(value) = value {
            changed.filters.push((key, value.to_owned()));
            changed.filters.sort_by_key(|(k, _)| FILTERS.iter().position(|(f, ..)| f == k));
        }
        changed.link(1)
    }
}

/// `value` when it is one of `known` (in any case, with `-` or spaces for `_`).
fn known_value(known: &[&str], value: &str) -> Option<String> {
    let wanted = value.to_ascii_uppercase().replace(['-', ' '], "_");
    known.iter().find(|k| **k == wanted).map(|k| (*k).to_owned())
}

/// "1 item", "3 items".
fn items(count: i64) -> String {
    if count == 1 { "1 item".to_owned() } else { format!("{count} items") }
}

/// Where an item's loop stands, in words.
fn loop_words(state: &str) -> &'static str {
    match state {
        "LOGGED" => "Logged in the hub",
        "SHARED" => "Shared outside the hub",
        "ACKNOWLEDGED" => "Acknowledged by commissioners",
        "LINKED_TO_DECISION" => "Fed into a decision",
        "NOT_ACTED_ON" => "Not acted on",
        "DECISION_DONE" => "A decision it fed into is done",
        "FED_BACK" => "Reported back to the hub",
        _ => "",
    }
}

/// What a search found: how many match, the counts by hub, theme and the rest, and the best
/// hits, each a passage with its matches and the item it comes from.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Found {
    total: i64,
    facets: Vec<Facet>,
    matched_every_word: bool,
    understood_as: Option<String>,
    #[serde(flatten)]
    hits: Connection<Hit>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Facet {
    dimension: String,
    value: String,
    name: String,
    count: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Hit {
    fragment: String,
    highlights: Vec<Highlight>,
    item: HitItem,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct HitItem {
    id: String,
    #[serde(deserialize_with = "null_as_default")]
    hub_name: String,
    said_on: String,
    loop_state: String,
}

const SEARCH_QUERY: &str = "query($q: String!, $f: FeedbackFilter, $after: String) { \
    searchFeedback(query: $q, filter: $f, first: 20, after: $after) { total matchedEveryWord understoodAs \
    facets { dimension value name count } \
    edges { node { fragment highlights { start end } item { id hubName saidOn loopState } } } } }";

/// Asks GraphQL for the search. A filter it refuses (a hub, provider or theme it does not
/// have) is named in `errors` and left out, and the search asked again without it.
async fn run_search<B: Backend>(
    backend: &B,
    viewer: &heard_api::Viewer,
    params: &mut SearchParams,
    errors: &mut Errors,
) -> Option<Found> {
    for _ in 0..=FILTERS.len() {
        let after = (params.page > 1).then(|| format!("s:{}", (params.page - 1) * PER_PAGE - 1));
        let variables = json!({ "q": params.q, "f": params.graphql_filter(), "after": after });
        let answer = ask(backend, viewer, SEARCH_QUERY, variables).await;
        let refused = answer.errors.iter().find_map(|(field, _, _)| {
            let field = field.as_deref()?.strip_prefix("filter.")?;
            FILTERS.iter().find(|(_, name, ..)| *name == field)
        });
        if let Some((key, _, heading, called)) = refused {
            errors.add("filters", format!("{heading}: choose a {called} from the list; that one is not in Heard"));
            *params = params.without(key);
            continue;
        }
        if answer.errors.is_empty() {
            let found = answer.decode::<Found>("searchFeedback");
            if found.is_none() {
                errors.add("", UNDECODABLE);
            }
            return found;
        }
        for (field, _, message) in &answer.errors {
            let on = if field.as_deref() == Some("after") { "search-results" } else { "q" };
            errors.add(on, plain(message));
        }
        return None;
    }
    None
}

/// `GET /search?q=&hub=&theme=&provider=&channel=&loop=&page=`.
pub async fn search<B: Backend>(
    State(backend): State<B>,
    SignedIn { viewer, csrf }: SignedIn,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    if let Some(refused) = only_for(&viewer, &csrf, Action::ViewDecision, WHOSE) {
        return refused;
    }
    let (mut params, mut errors) = SearchParams::read(&pairs);
    let found = if errors.of("q").is_some() {
        None
    } else {
        if errors.of("search-results").is_some() {
            params.page = 1;
        }
        run_search(&backend, &viewer, &mut params, &mut errors).await
    };
    if let Some(found) = &found {
        let pages = (found.total.max(0) as usize).min(MAX_PAGE * PER_PAGE).div_ceil(PER_PAGE);
        if params.page > 1 && params.page > pages {
            errors.add(
                "search-results",
                format!("Page: there is no page {}; these results fill {}", params.page, pages_words(pages)),
            );
        }
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let body = search_page(&params, found.as_ref(), &errors);
    let title = if errors.is_empty() { "Search feedback" } else { "Error: Search feedback" };
    (status, page(&viewer, title, Some(csrf.as_str()), body)).into_response()
}

fn pages_words(pages: usize) -> String {
    if pages == 1 { "1 page".to_owned() } else { format!("{pages} pages") }
}

fn search_page(params: &SearchParams, found: Option<&Found>, errors: &Errors) -> Markup {
    html! {
        (forms::summary(errors))
        h1 { "Search feedback" }
        form method="get" action="/search" role="search" data-live-search {
            (forms::input(Input { id: "q", label: "Words to look for", kind: "search", value: &params.q, hint: Some("Put a phrase in \"quotes\". Small spelling mistakes are forgiven."), autocomplete: Some("off") }, errors))
            @for (key, value) in &params.filters { input type="hidden" name=(key) value=(value); }
            button class="button" type="submit" { "Search" }
        }
        p id="search-live" class="visually-hidden" aria-live="polite" {}
        div id="search-results" tabindex="-1" {
            @if let Some(found) = found { (results(params, found)) }
        }
        script src="/assets/search.js" defer {}
    }
}

fn status_words(found: &Found) -> String {
    match (found.total, found.matched_every_word) {
        (0, _) => "No items you may see match.".to_owned(),
        (1, true) => "1 item you may see matches.".to_owned(),
        (n, true) => format!("{n} items you may see match."),
        (n, false) => {
            format!(
                "{} you may see match some of your words; none has them all, so those with the most come first.",
                items(n)
            )
        }
    }
}

fn results(params: &SearchParams, found: &Found) -> Markup {
    let hits: Vec<&Hit> = found.hits.iter().collect();
    let first = (params.page - 1) * PER_PAGE;
    let reachable = (found.total.max(0) as usize).min(MAX_PAGE * PER_PAGE);
    let pages = reachable.div_ceil(PER_PAGE);
    let back = params.query_string(params.page);
    html! {
        p role="status" data-search-status { (status_words(found)) }
        @if let Some(understood) = &found.understood_as {
            p class="notice understood" { "Showing results for " strong { (understood) } "." }
        }
        @if !params.filters.is_empty() {
            p { a href={ "/search?q=" (urlencode(&params.q)) } { "Clear the filters" } }
        }
        div class="search-layout" {
            nav id="filters" aria-label="Filters" class="facets" tabindex="-1" {
                @for (key, _, heading, _) in FILTERS {
                    @let values = facet_values(found, key);
                    @if !values.is_empty() {
                        h2 { (heading) }
                        ul {
                            @for facet in values {
                                @if params.filter(key) == Some(facet.value.as_str()) {
                                    li class="facet facet--chosen" aria-current="true" {
                                        span class="facet-name" { (facet.name) " (" (items(facet.count)) ")" }
                                        " " strong class="tag tag--chosen" { "Selected" }
                                        " " a href=(params.link_with(key, None)) {
                                            "Remove" span class="visually-hidden" { " the filter " (heading) ": " (facet.name) }
                                        }
                                    }
                                } @else {
                                    li class="facet" {
                                        a href=(params.link_with(key, Some(&facet.value))) { (facet.name) " (" (items(facet.count)) ")" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            div class="results-column" {
                @if found.total > 0 {
                    p class="download" {
                        a class="button button--secondary" href={ "/search/download?" (params.query_string(1)) } download {
                            "Download " (if found.total == 1 { "this item".to_owned() } else if found.total as usize > reachable { format!("the first {reachable} items") } else { format!("these {} items", found.total) }) " as CSV"
                        }
                    }
                }
                ol class="results" start=(first + 1) {
                    @for hit in &hits {
                        li {
                            p class="fragment" { (highlighted(&hit.fragment, &hit.highlights)) }
                            p class="meta" {
                                a href={ "/feedback/" (urlencode(&hit.item.id)) "?" (back) } {
                                    "Open the item" span class="visually-hidden" { " said in " (hit.item.hub_name) " on " (day_words(&hit.item.said_on)) }
                                }
                                " · " (hit.item.hub_name) " · " (day_words(&hit.item.said_on)) " · " (loop_words(&hit.item.loop_state))
                            }
                        }
                    }
                }
                @if pages > 1 {
                    nav class="pager" aria-label="Pages of results" {
                        ul {
                            @if params.page > 1 && params.page <= pages {
                                li { a href=(params.link(params.page - 1)) rel="prev" { "Previous page" } }
                            }
                            li { "Page " (params.page.min(pages)) " of " (pages) }
                            @if params.page < pages {
                                li { a href=(params.link(params.page + 1)) rel="next" { "Next page" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A dimension's values, the most items first, the chosen one always among them.
fn facet_values<'a>(found: &'a Found, key: &str) -> Vec<&'a Facet> {
    let mut values: Vec<&Facet> = found.facets.iter().filter(|f| f.dimension == key).collect();
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    values
}

/// `GET /search/download?…`: the same search's results, every one the person may see, as CSV.
/// An address with a mistake in it gets the search page naming it, as the page would (and
/// someone the search is not for, its "not for you" page).
pub async fn download<B: Backend>(
    State(backend): State<B>,
    SignedIn { viewer, csrf }: SignedIn,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let (params, errors) = SearchParams::read(&pairs);
    let mut csv = None;
    if errors.is_empty() && may(&viewer, Action::ViewDecision) {
        let answer = ask(
            &backend,
            &viewer,
            "query($q: String!, $f: FeedbackFilter) { searchFeedbackCsv(query: $q, filter: $f) }",
            json!({ "q": params.q, "f": params.graphql_filter() }),
        )
        .await;
        if answer.errors.is_empty() {
            csv = answer.decode::<String>("searchFeedbackCsv");
        }
    }
    // A mistake in the address: the search page, which names it beside the search (or says
    // the search is not for them).
    let Some(csv) = csv else { return search(State(backend), SignedIn { viewer, csrf }, Query(pairs)).await };
    attachment(csv, "text/csv; charset=utf-8", &format!("heard-search-{}.csv", crate::kit::today()))
}

/// One item, as the person may see it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Item {
    #[serde(deserialize_with = "null_as_default")]
    text: String,
    #[serde(deserialize_with = "null_as_default")]
    redacted_text: String,
    view: String,
    #[serde(deserialize_with = "null_as_default")]
    hub_name: String,
    said_on: String,
    channel: String,
    #[serde(deserialize_with = "null_as_default")]
    about: String,
    themes: Vec<Named>,
    consent: String,
    loop_state: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named {
    name: String,
}

fn channel_words(channel: &str) -> &'static str {
    match channel {
        "FORUM" => "Forum meeting",
        "DROP_IN" => "Drop-in",
        "ONE_TO_ONE" => "One-to-one",
        "SURVEY" => "Survey",
        "ONLINE" => "Online",
        "PHONE" => "Phone or text",
        _ => "",
    }
}

fn consent_words(consent: &str) -> &'static str {
    match consent {
        "HUB" => "The hub only",
        "COMMISSIONERS" => "The hub and commissioners",
        "PUBLIC" => "Anyone: it may be published",
        _ => "Withdrawn",
    }
}

/// `GET /feedback/{id}`: one item, in the version the person may see. An item they may not see
/// answers exactly as an id that does not exist: the site's "Page not found".
pub async fn item<B: Backend>(
    State(backend): State<B>,
    Visitor { viewer, csrf }: Visitor,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    Query(pairs): Query<Vec<(String, String)>>,
    flashed: crate::flash::Flashed,
) -> Response {
    // An address that is no id at all (`/feedback/%FF`) is not found, like any other.
    let Ok(Path(id)) = id else { return crate::pages::not_found(Visitor { viewer, csrf }).await };
    let answer = ask(
        &backend,
        &viewer,
        "query($id: ID!) { feedbackItem(id: $id) { text redactedText view hubName saidOn channel about themes { name } consent loopState } }",
        json!({ "id": id }),
    )
    .await;
    let item = match answer.decode::<Item>("feedbackItem") {
        Some(item) if answer.errors.is_empty() => item,
        _ => return crate::pages::not_found(Visitor { viewer, csrf }).await,
    };
    // Back to the search it was opened from, rebuilt from the parts search reads (never a
    // link taken from the address as it came).
    let (search, mistakes) = SearchParams::read(&pairs);
    let back = if mistakes.is_empty() && !pairs.is_empty() { search.link(search.page) } else { "/search".to_owned() };
    let themes: Vec<&str> = item.themes.iter().map(|theme| theme.name.as_str()).collect();
    let hub_view = item.view == "HUB";
    // Whose words these are, for the hub's coordinators; that they were erased, for everyone.
    let rights = match csrf.as_deref() {
        Some(csrf) => Some(
            crate::people::rights_section(&backend, &viewer, csrf, crate::people::Record::Feedback, &id, &flashed)
                .await,
        ),
        None => None,
    };
    let mut errors = crate::forms::Errors::default();
    flashed.add_error_to(&mut errors);
    let body = html! {
        (crate::forms::summary(&errors))
        @if viewer.actor.is_authenticated() {
            p { a href=(back) { "Back to the search" } }
        }
        h1 { "What was said" }
        @if let Some(rights) = &rights { (rights.banner) }
        @if item.text.is_empty() {
            p class="said-erased" { "(erased at the person's request)" }
        } @else {
            blockquote class="said" { p { (item.text) } }
        }
        @if hub_view && !item.redacted_text.is_empty() {
            h2 { "What leaves the hub" }
            p class="hint" { "Names and places were taken out of the version shared outside the hub:" }
            blockquote class="said" { p { (item.redacted_text) } }
        }
        dl class="summary-list" {
            div { dt { "Hub" } dd { (item.hub_name) } }
            div { dt { "Said on" } dd { (day_words(&item.said_on)) } }
            div { dt { "Themes" } dd { @if themes.is_empty() { "None given" } @else { (themes.join(", ")) } } }
            div { dt { "How it was heard" } dd { (channel_words(&item.channel)) } }
            @if !item.about.is_empty() { div { dt { "About" } dd { (item.about) } } }
            div { dt { "Who may see it" } dd { (consent_words(&item.consent)) } }
            div { dt { "Where it stands" } dd { (loop_words(&item.loop_state)) } }
            div { dt { "The version you see" } dd { @if hub_view { "The hub's own record, in the speaker's words" } @else { "The version shared outside the hub, with any names taken out" } } }
        }
        @if let Some(rights) = &rights { (rights.section) }
    };
    let title = crate::forms::titled(&errors, "What was said");
    page(&viewer, &title, csrf.as_deref(), body).into_response()
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::get;
    axum::Router::new()
        .route("/search", get(search::<B>))
        .route("/search/download", get(download::<B>))
        .route("/feedback/{id}", get(item::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(query: &str) -> (SearchParams, Errors) {
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key.to_owned(), value.to_owned())
            })
            .collect();
        SearchParams::read(&pairs)
    }

    fn messages(errors: &Errors) -> Vec<(String, String)> {
        errors.0.iter().map(|e| (e.field.clone(), e.message.clone())).collect()
    }

    #[test]
    fn matches_are_marked_by_character_and_the_rest_is_escaped() {
        let at = |start, end| Highlight { start, end };
        let marked = highlighted("é <pharmacy> ok", &[at(3, 11)]).into_string();
        assert_eq!(marked, "é &lt;<mark>pharmacy</mark>&gt; ok");
        let overlapping = highlighted("abcdef", &[at(0, 3), at(2, 4)]);
        assert_eq!(overlapping.into_string(), "<mark>abc</mark>def");
        assert_eq!(highlighted("abc", &[at(2, 9)]).into_string(), "abc", "out of range ignored");
    }

    #[test]
    fn a_search_address_is_read_into_words_filters_and_a_page() {
        let (params, errors) = read("q=evening clinic&hub=arun&loop=shared&channel=drop-in&page=2&utm_source=x");
        assert!(errors.is_empty(), "{:?}", messages(&errors));
        assert_eq!(params.q, "evening clinic");
        assert_eq!(
            params.filters,
            [("hub", "arun".to_owned()), ("channel", "DROP_IN".to_owned()), ("loop", "SHARED".to_owned())]
        );
        assert_eq!(params.page, 2);
        assert_eq!(params.link_with("hub", None), "/search?q=evening%20clinic&channel=DROP_IN&loop=SHARED");
        assert_eq!(
            params.link_with("theme", Some("staff")),
            "/search?q=evening%20clinic&hub=arun&theme=staff&channel=DROP_IN&loop=SHARED"
        );
    }

    #[test]
    fn each_mistake_in_a_search_address_is_named_and_left_out() {
        let huge = "a".repeat(MAX_QUERY_CHARS + 1);
        let (params, errors) = read(&format!("q={huge}"));
        assert_eq!(
            messages(&errors),
            [("q".to_owned(), "Words to look for must be 500 characters or fewer".to_owned())]
        );
        assert_eq!(params.q, "");
        let (params, errors) = read("q=a&q=b&hub=arun&hub=crawley&channel=carrier-pigeon&page=0");
        assert_eq!(
            messages(&errors),
            [
                (
                    "q".to_owned(),
                    "Words to look for: the address holds more than one search; type your words once".to_owned()
                ),
                ("filters".to_owned(), "Hub: choose one hub at a time".to_owned()),
                ("filters".to_owned(), "How it was heard: choose a way it was heard from the list".to_owned()),
                ("search-results".to_owned(), "Page must be between 1 and 500".to_owned()),
            ]
        );
        assert!(params.filters.is_empty() && params.page == 1, "{params:?}");
        for page in ["two", "-1", "1.5", "99999999999999999999999"] {
            let (_, errors) = read(&format!("page={page}"));
            assert_eq!(errors.0.len(), 1, "{page}");
            assert_eq!(errors.0[0].field, "search-results", "{page}");
        }
        let (_, errors) = read(&format!("theme={}", "x".repeat(MAX_FILTER_CHARS + 1)));
        assert_eq!(messages(&errors), [("filters".to_owned(), "Theme: choose a theme from the list".to_owned())]);
    }

    #[test]
    fn counts_say_item_or_items_and_days_read_as_people_write_them() {
        assert_eq!(items(1), "1 item");
        assert_eq!(items(3), "3 items");
        assert_eq!(items(0), "0 items");
        assert_eq!(day_words("2026-12-04"), "4 December 2026");
        assert_eq!(day_words("not a day"), "not a day");
    }
}
