//! Search across feedback, with highlighted passages, facets and filters. A plain GET form:
//! it works without JavaScript, and every result is only what the person may see.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::forms::{self, Errors, Input};
use crate::layout::page;
use crate::moderation::urlencode;
use crate::pages::{ask, plain, see_login, signed_in};

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    hub: Option<String>,
    theme: Option<String>,
    #[serde(rename = "loop")]
    loop_state: Option<String>,
}

/// The passage with its matches marked (`<mark>`); ranges are in characters.
fn highlighted(fragment: &str, highlights: &[Value]) -> Markup {
    let chars: Vec<char> = fragment.chars().collect();
    let mut ranges: Vec<(usize, usize)> = highlights
        .iter()
        .filter_map(|h| Some((h["start"].as_u64()? as usize, h["end"].as_u64()? as usize)))
        .filter(|(start, end)| start < end && *end <= chars.len())
        .collect();
    ranges.sort();
    // (text, whether it matched), in order.
    let mut pieces: Vec<(String, bool)> = Vec::new();
    let mut at = 0;
    for (start, end) in ranges {
        if start < at {
            continue;
        }
        pieces.push((chars[at..start].iter().collect(), false));
        pieces.push((chars[start..end].iter().collect(), true));
        at = end;
    }
    pieces.push((chars[at..].iter().collect(), false));
    html! {
        @for (text, matched) in &pieces {
            @if *matched { mark { (text) } } @else { (text) }
        }
    }
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
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    let Some((viewer, csrf)) = signed_in(&backend, &headers) else {
        return see_login();
    };
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
    let result = &answer.data["searchFeedback"];
    let hits = result["edges"].as_array().cloned().unwrap_or_default();
    let facets = result["facets"].as_array().cloned().unwrap_or_default();
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
            p role="status" data-search-status { (result["total"].as_i64().unwrap_or(0)) " items you may see match." }
            @if query.hub.is_some() || query.theme.is_some() || query.loop_state.is_some() {
                p { a href={ "/search?q=" (urlencode(&query.q)) } { "Clear the filters" } }
            }
            div class="search-layout" {
                nav aria-label="Filters" class="facets" {
                    @for (dimension, label) in facet_names {
                        @let values: Vec<&Value> = facets.iter().filter(|f| f["dimension"] == dimension).collect();
                        @if !values.is_empty() {
                            h2 { (label) }
                            ul {
                                @for facet in values {
                                    @let value = facet["value"].as_str().unwrap_or_default();
                                    li { a href=(link_with(&query, dimension, Some(value))) { (value.replace(['_', '-'], " ")) " (" (facet["count"]) ")" } }
                                }
                            }
                        }
                    }
                }
                ol class="results" {
                    @for hit in &hits {
                        @let node = &hit["node"];
                        li {
                            p class="fragment" { (highlighted(node["fragment"].as_str().unwrap_or(""), node["highlights"].as_array().map(Vec::as_slice).unwrap_or(&[]))) }
                            p class="meta" {
                                (node["item"]["hubName"].as_str().unwrap_or("")) " · " (node["item"]["saidOn"].as_str().unwrap_or("")) " · "
                                (node["item"]["loopState"].as_str().unwrap_or("").replace('_', " ").to_lowercase())
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
    axum::Router::new().route("/search", get(search::<B>)).route("/assets/search.js", get(script))
}

/// `GET /assets/search.js`: search as you type, for browsers that run JavaScript.
async fn script() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../assets/search.js"))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_marked_by_character_and_the_rest_is_escaped() {
        let marked = highlighted("é <pharmacy> ok", &[json!({ "start": 3, "end": 11 })]).into_string();
        assert_eq!(marked, "é &lt;<mark>pharmacy</mark>&gt; ok");
        let overlapping = highlighted("abcdef", &[json!({ "start": 0, "end": 3 }), json!({ "start": 2, "end": 4 })]);
        assert_eq!(overlapping.into_string(), "<mark>abc</mark>def");
        assert_eq!(highlighted("abc", &[json!({ "start": 2, "end": 9 })]).into_string(), "abc", "out of range ignored");
    }
}
