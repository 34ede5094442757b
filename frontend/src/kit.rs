//! The helpers every page shares: the answers that are not a page (log in first, an expired
//! form, a page for other people), reading what GraphQL said (its messages in plain words, its
//! field names as the page's, its connections and `null`s into typed structs), and small pieces
//! of text and markup (an address-safe string, a passage with its matches marked, a table of
//! figures, today's date).
//!
//! Who may use a page is never decided here by comparing roles: [`may`] and [`only_for`] ask
//! the one policy (`heard_access::may`) with an action.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use heard_access::{Action, Resource};
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;

use crate::layout::page;

/// Whether the policy lets the viewer take `action` at all (on the system as a whole, which is
/// how the policy answers "is this something they do?").
pub(crate) fn may(viewer: &Viewer, action: Action) -> bool {
    heard_access::may(&viewer.actor, action, &Resource::System).is_allowed()
}

/// A page for the people the policy lets take `action`: `None` when the viewer is one of them,
/// otherwise a plain "not for you" page (403) that shows nothing of what the page holds. The
/// API refuses the same people anyway; this spares them forms they cannot use.
pub(crate) fn only_for(viewer: &Viewer, csrf: &str, action: Action, whose: &str) -> Option<Response> {
    if may(viewer, action) {
        return None;
    }
    let body = html! {
        h1 { "This page is for " (whose) }
        p { "What you can do is on your home page." }
        p { a href="/" { "Back to your tasks" } }
    };
    Some((StatusCode::FORBIDDEN, page(viewer, "Not available", Some(csrf), body)).into_response())
}

/// The answer to a form whose CSRF token is not the session's: it changes nothing.
pub(crate) fn expired() -> Response {
    (StatusCode::FORBIDDEN, "This form has expired. Go back, reload the page and try again.").into_response()
}

/// The answer to a form that did what it asked: `303 See Other` to the page that shows the
/// result, which the browser opens with `GET` (post/redirect/get), so refreshing it or going
/// back never sends the form again. `to` is an address on this site, never one from the
/// request.
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The answer to someone not logged in who asked for a page that needs it.
pub(crate) fn see_login() -> Response {
    Redirect::to("/login").into_response()
}

/// The same, for a page asked for with `GET`: after logging in the person comes back to
/// `asked` (its path and query), when it is an address on this site.
pub(crate) fn see_login_then(asked: &axum::http::Uri) -> Response {
    let back = asked.path_and_query().map(|whole| whole.as_str()).and_then(local_address);
    match back {
        Some(back) if back != "/" => Redirect::to(&format!("/login?next={}", urlencode(back))).into_response(),
        _ => see_login(),
    }
}

/// `next` when it is an address on this site (a path from the root), never another site's:
/// not `//host`, not `/\host`, no scheme, no control characters, and of a sane length.
pub(crate) fn local_address(next: &str) -> Option<&str> {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && next.len() <= 2000;
    local.then_some(next)
}

/// The response, never kept by a cache (a page that holds what was typed into a form).
pub(crate) fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A file to save rather than a page (`Content-Disposition: attachment`): `body`, of
/// `content_type`, named `file_name`, never kept by a cache.
pub(crate) fn attachment(body: String, content_type: &'static str, file_name: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    no_store(response)
}

/// The response, with the `Set-Cookie` headers of a GraphQL answer (logging in or out).
pub(crate) fn with_cookies(mut response: Response, headers: &HeaderMap) -> Response {
    for value in headers.get_all(header::SET_COOKIE) {
        response.headers_mut().append(header::SET_COOKIE, value.clone());
    }
    response
}

/// The page's own name for a field the API named: `input.saidOn` → `said_on`,
/// `input.themes[1]` → `themes`.
pub(crate) fn field_id(api_field: &str) -> String {
    let field = api_field.strip_prefix("input.").unwrap_or(api_field);
    let field = field.split('[').next().unwrap_or(field);
    uncamel(field, '_')
}

/// A camelCase name with `between` before each capital, which becomes small:
/// `acknowledgedHow` → `acknowledged how` (or `acknowledged_how`).
pub(crate) fn uncamel(name: &str, between: char) -> String {
    let mut words = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            words.push(between);
            words.push(c.to_ascii_lowercase());
        } else {
            words.push(c);
        }
    }
    words
}

/// A message from the API in words for the page: the API's `field: message` loses its prefix.
pub(crate) fn plain(message: &str) -> String {
    let message = message.split_once(": ").map_or(message, |(_, rest)| rest);
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// For `#[serde(deserialize_with)]`: a field GraphQL may answer `null` reads as its default
/// (a missing name as "").
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// A GraphQL connection (`{ edges { node } }`), decoded: [`Connection::nodes`] in order.
#[derive(Debug, Deserialize)]
pub(crate) struct Connection<T> {
    #[serde(default = "Vec::new")]
    edges: Vec<Edge<T>>,
}

impl<T> Default for Connection<T> {
    fn default() -> Self {
        Connection { edges: Vec::new() }
    }
}

#[derive(Debug, Deserialize)]
struct Edge<T> {
    node: T,
}

impl<T> Connection<T> {
    pub fn nodes(self) -> Vec<T> {
        self.edges.into_iter().map(|edge| edge.node).collect()
    }

    /// The nodes, in order, borrowed.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.edges.iter().map(|edge| &edge.node)
    }
}

/// A table of figures: the first column names each row, the others hold a number each (or
/// the words standing in for one), under `heads`.
pub(crate) fn figures_table(
    class: &str,
    caption: &str,
    heads: &[&str],
    rows: impl IntoIterator<Item = (String, Vec<String>)>,
) -> Markup {
    let (first, numbers) = heads.split_first().map_or(("", &[][..]), |(first, rest)| (*first, rest));
    html! {
        table class=(class) {
            caption { (caption) }
            thead { tr { th scope="col" { (first) } @for head in numbers { th scope="col" class="number" { (head) } } } }
            tbody {
                @for (name, cells) in rows {
                    tr { th scope="row" { (name) } @for cell in &cells { td class="number" { (cell) } } }
                }
            }
        }
    }
}

/// Text made safe for a URL's query: everything but unreserved characters percent-encoded.
pub(crate) fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A day as someone typed it, as the API takes it (`2026-11-23`): the way a date field sends it,
/// or the way people in the UK write it (`23/11/2026`, `23 November 2026`; read by
/// [`heard_contracts::day::parse`]). When it is not a real day: what was wrong, in the words
/// every page uses ("31 February 2026 does not exist"). Every form with a day reads it with this.
pub(crate) fn typed_day(typed: &str) -> Result<String, String> {
    heard_contracts::day::parse(typed).map(|day| day.to_string()).map_err(|wrong| plain(&wrong.to_string()))
}

/// A day the API sent (`2026-12-04`) as people write it: `4 December 2026`; anything else as
/// it came ([`heard_contracts::day::written_iso`]).
pub(crate) fn day_words(day: &str) -> String {
    heard_contracts::day::written_iso(day)
}

/// Today's date where the server is, as a form field holds it: `2026-11-23`.
pub(crate) fn today() -> String {
    jiff::Zoned::now().date().to_string()
}

/// Where a search matched in a passage, in characters.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub(crate) struct Highlight {
    pub start: usize,
    pub end: usize,
}

/// The passage with its matches marked (`<mark>`); a range out of bounds or overlapping an
/// earlier one is left out.
pub(crate) fn highlighted(fragment: &str, highlights: &[Highlight]) -> Markup {
    let chars: Vec<char> = fragment.chars().collect();
    let mut ranges: Vec<(usize, usize)> =
        highlights.iter().map(|h| (h.start, h.end)).filter(|(start, end)| start < end && *end <= chars.len()).collect();
    ranges.sort_unstable();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_field_names_become_the_ids_of_the_fields_on_the_page() {
        assert_eq!(field_id("input.saidOn"), "said_on");
        assert_eq!(field_id("input.themes[1]"), "themes");
        assert_eq!(field_id("hub"), "hub");
        assert_eq!(field_id("input.speakerName"), "speaker_name");
    }

    #[test]
    fn api_messages_lose_their_field_prefix_and_start_with_a_capital() {
        assert_eq!(plain("input.text: write what they said"), "Write what they said");
        assert_eq!(plain("the email or password is not right"), "The email or password is not right");
    }

    #[test]
    fn only_unreserved_characters_stay_as_they_are_in_an_address() {
        assert_eq!(urlencode("a b&c=d/é~"), "a%20b%26c%3Dd%2F%C3%A9~");
    }

    #[test]
    fn a_day_is_read_as_typed_either_way_and_shown_as_people_write_it() {
        for typed in ["2026-12-04", "04/12/2026", "4/12/2026", " 4-12-2026 ", "4.12.2026", "4/12/26", "4 December 2026"]
        {
            assert_eq!(typed_day(typed).as_deref(), Ok("2026-12-04"), "{typed}");
        }
        assert_eq!(typed_day("30/02/2026"), Err("30 February 2026 does not exist".to_owned()));
        for wrong in ["12/2026", "next tuesday", ""] {
            let said = typed_day(wrong).unwrap_err();
            assert!(said.starts_with("Enter the date"), "{wrong}: {said}");
        }
        assert_eq!(day_words("2026-12-04"), "4 December 2026");
        assert_eq!(day_words("soon"), "soon");
    }
}
