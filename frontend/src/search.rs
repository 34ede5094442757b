//! Search across feedback, with highlighted passages, facets and filters. A plain GET form:
//! it works without JavaScript, and every result is only what the person may see.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use serde_json::json;

use crate::Backend;
use crate::backend::ask;
use crate::extract::SignedIn;
use crate::forms::{self, Errors, Input};
use crate::kit::{Connection, Highlight, highlighted, plain, urlencode};
use crate::layout::page;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    hub: Option<String>,
    theme: Option<String>,
    #[serde(rename = "loop")]
    loop_state: Option<String>,
}

/// What a search found: how many match, the counts by hub, theme and loop state, and the best
/// hits, each a passage with its matches and the item it comes from.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Found {
    total: i64,
    facets: Vec<Facet>,
    #[serde(flatten)]
    hits: Connection<Hit>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Facet {
    dimension: String,
    value: String,
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
    hub_name: Option<String>,
    said_on: String,
    loop_state: String,
}

fn link_with(query: &SearchQuery, key: &str, value: Option<&str>) -> String {
    let mut parts = vec![format!("q={}", urlencode(&query.q))];
    let mut add = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    };
    add("hub", if key == "hub" { value } else { query.hub.as_deref() });
    add("theme", if key == "theme" { value } else { query.theme.as_deref() });
    add("loop", if key == "loop" { value } else { query.loop_state.as_deref() });
    format!("/search?{}", parts.join("&"))
}

/// `GET /search?q=&hub=&theme=&loop=`.
pub async fn search<B: Backend>(
    State(backend): State<B>,
    SignedIn { viewer, csrf }: SignedIn,
    Query(query): Query<SearchQuery>,
) -> Response {
    let csrf = csrf.as_str();
    let filter = json!({
        "hub": query.hub.clone().filter(|v| !v.is_empty()),
        "theme": query.theme.clone().filter(|v| !v.is_empty()),
        "loopState": query.loop_state.clone().filter(|v| !v.is_empty()),
    });
    let answer = ask(
        &backend,
        &viewer,
        "query($q: String!, $f: FeedbackFilter) { searchFeedback(query: $q, filter: $f, first: 20) { total facets { dimension value count } edges { node { fragment highlights { start end } item { id hubName saidOn loopState themes { name } } } } } }",
        json!({ "q": query.q, "f": filter }),
    )
    .await;
    let mut errors = Errors::default();
    for (_, _, message) in &answer.errors {
        errors.add("q", plain(message));
    }
    let result = answer.decode::<Found>("searchFeedback").unwrap_or_default();
    let hits = result.hits.nodes();
    let facets = result.facets;
    let facet_names = [("hub", "Hub"), ("theme", "Theme"), ("loop", "Where the loop stands")];
    let body = html! {
        (forms::summary(&errors))
        h1 { "Search feedback" }
        form method="get" action="/search" role="search" data-live-search {
            (forms::input(Input { id: "q", label: "Words to look for", kind: "search", value: &query.q, hint: Some("Put a phrase in \"quotes\". Small spelling mistakes are forgiven."), autocomplete: Some("off") }, &errors))
            @if let Some(hub) = &query.hub { input type="hidden" name="hub" value=(hub); }
            @if let Some(theme) = &query.theme { input type="hidden" name="theme" value=(theme); }
            @if let Some(state) = &query.loop_state { input type="hidden" name="loop" value=(state); }
            button class="button" type="submit" { "Search" }
        }
        p id="search-live" class="visually-hidden" aria-live="polite" {}
        div id="search-results" {
        @if answer.errors.is_empty() {
            p role="status" data-search-status { (result.total) " items you may see match." }
            @if query.hub.is_some() || query.theme.is_some() || query.loop_state.is_some() {
                p { a href={ "/search?q=" (urlencode(&query.q)) } { "Clear the filters" } }
            }
            div class="search-layout" {
                nav aria-label="Filters" class="facets" {
                    @for (dimension, label) in facet_names {
                        @let values: Vec<&Facet> = facets.iter().filter(|f| f.dimension == dimension).collect();
                        @if !values.is_empty() {
                            h2 { (label) }
                            ul {
                                @for facet in values {
                                    @let value = facet.value.as_str();
                                    li { a href=(link_with(&query, dimension, Some(value))) { (value.replace(['_', '-'], " ")) " (" (facet.count) ")" } }
                                }
                            }
                        }
                    }
                }
                ol class="results" {
                    @for hit in &hits {
                        li {
                            p class="fragment" { (highlighted(&hit.fragment, &hit.highlights)) }
                            p class="meta" {
                                (hit.item.hub_name.as_deref().unwrap_or("")) " · " (hit.item.said_on) " · "
                                (hit.item.loop_state.replace('_', " ").to_lowercase())
                            }
                        }
                    }
                }
            }
        }
        }
        script src="/assets/search.js" defer {}
    };
    page(&viewer, if errors.is_empty() { "Search feedback" } else { "Error: Search feedback" }, Some(csrf), body)
        .into_response()
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::get;
    axum::Router::new().route("/search", get(search::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_marked_by_character_and_the_rest_is_escaped() {
        let at = |start, end| Highlight { start, end };
        let marked = highlighted("é <pharmacy> ok", &[at(3, 11)]).into_string();
        assert_eq!(marked, "é &lt;<mark>pharmacy</mark>&gt; ok");
        let overlapping = highlighted("abcdef", &[at(0, 3), at(2, 4)]);
        assert_eq!(overlapping.into_string(), "<mark>abc</mark>def");
        assert_eq!(highlighted("abc", &[at(2, 9)]).into_string(), "abc", "out of range ignored");
    }
}
