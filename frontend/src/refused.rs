//! Post/redirect/get for refused forms too. A form that succeeds answers with a redirect in its
//! own handler. A form that is refused (its errors beside the fields, a conflict, an expired
//! form) answers with a page, and a page that answers a POST is one the browser cannot show
//! again without sending the form again: Back and refresh would bring up "Confirm form
//! resubmission". So this one layer turns every refused form of a logged-in person into a
//! redirect as well:
//!
//! 1. A POST from a session whose answer is an HTML page with a 4xx status: the page (and its
//!    status) is kept for that session under a fresh random key ([`Backend::keep_once`], the
//!    store that shows new passwords once, shared by every replica), and the answer becomes
//!    `303 See Other` to the page the form was on (the `Referer`, when it is a page of this
//!    site) or else the address posted to, with `?refused=<key>`.
//! 2. A GET with `refused=<key>` from the same session is answered with the kept page and its
//!    status, and it stays kept, so refreshing it shows it again. Any other session, or a key
//!    that has gone (after ten minutes), gets the page as if the key were not there.
//!
//! Nothing here widens what anyone sees: the kept page is the one the person's own form was
//! answered with, shown only to the session that posted it, and the key is 128 random bits. A
//! kept page lasts ten minutes; after that the person sees the empty form and types again.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, HOST, LOCATION, REFERER, SET_COOKIE};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::Backend;
use crate::kit::no_store;

/// The query parameter that carries the key.
const PARAM: &str = "refused";
/// The largest refused page kept; a bigger one is answered as it is.
const MAX_PAGE: usize = 4 * 1024 * 1024;

fn slot(key: &str) -> String {
    format!("{PARAM}-{key}")
}

/// The key a GET carries, when it is one this layer could have made, and the address without
/// it.
fn carried_key(uri: &Uri) -> Option<(String, String)> {
    let query = uri.query()?;
    let mut key = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix(&format!("{PARAM}=")) {
            Some(value) => {
                key = Some(value.to_owned());
                false
            }
            None => true,
        })
        .collect();
    let key = key.filter(|key| Uuid::try_parse(key).is_ok())?;
    let path = uri.path();
    let without = if rest.is_empty() { path.to_owned() } else { format!("{path}?{}", rest.join("&")) };
    Some((key, without))
}

/// Where to send the browser after a refused form: the page the form was on when the browser
/// says so and it is a page of this site, else the address the form was posted to.
fn back_to(referer: Option<&str>, host: Option<&str>, posted: &Uri) -> String {
    let from_referer = referer.and_then(|referer| {
        let rest = referer.strip_prefix("http://").or_else(|| referer.strip_prefix("https://"))?;
        let (authority, local) = rest.split_at(rest.find('/')?);
        (Some(authority) == host).then_some(local)
    });
    let target = from_referer.and_then(crate::kit::local_address).unwrap_or_else(|| posted.path());
    // Drop an earlier key, and any fragment: the kept page is what is shown.
    let target = target.split('#').next().unwrap_or("/");
    match carried_key(&target.parse::<Uri>().unwrap_or_default()) {
        Some((_, without)) => without,
        None => target.to_owned(),
    }
}

fn with_key(target: &str, key: &str) -> String {
    let joiner = if target.contains('?') { '&' } else { '?' };
    format!("{target}{joiner}{PARAM}={key}")
}

/// The layer (see the module's documentation).
pub(crate) async fn redirect_refused_forms<B: Backend>(
    State(backend): State<B>,
    mut request: Request,
    next: Next,
) -> Response {
    let session = backend.viewer(request.headers()).session;
    if request.method() == Method::GET {
        if let Some((key, without)) = carried_key(request.uri()) {
            if let Some(session) = session
                && let Some(page) = backend.take_once(session, &slot(&key)).await
            {
                // Kept again, so that a refresh shows it again.
                backend.keep_once(session, &slot(&key), page.clone()).await;
                return kept_page(&page);
            }
            if let Ok(uri) = without.parse::<Uri>() {
                *request.uri_mut() = uri;
            }
        }
        return next.run(request).await;
    }
    let Some(session) = session.filter(|_| request.method() == Method::POST) else {
        return next.run(request).await;
    };
    let posted = request.uri().clone();
    let headers = request.headers();
    let referer = headers.get(REFERER).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let host = headers.get(HOST).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let response = next.run(request).await;
    let status = response.status();
    let is_page = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("text/html"));
    if !status.is_client_error() || !is_page {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_PAGE).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The answer was too large to show.").into_response();
    };
    let Ok(page) = String::from_utf8(bytes.to_vec()) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let key = Uuid::new_v4().to_string();
    backend.keep_once(session, &slot(&key), format!("{}\n{page}", status.as_u16())).await;
    let target = with_key(&back_to(referer.as_deref(), host.as_deref(), &posted), &key);
    let mut redirect = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&target) {
        redirect.headers_mut().insert(LOCATION, location);
    }
    for cookie in parts.headers.get_all(SET_COOKIE) {
        redirect.headers_mut().append(SET_COOKIE, cookie.clone());
    }
    redirect
}

/// A kept page: its status on the first line, then the page.
fn kept_page(kept: &str) -> Response {
    let (status, page) = kept.split_once('\n').unwrap_or(("422", kept));
    let status = status
        .parse::<u16>()
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    let mut response = (status, page.to_owned()).into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    no_store(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_form_goes_back_to_the_page_it_was_on_only_when_that_page_is_on_this_site() {
        let posted: Uri = "/meetings/abc/items".parse().unwrap();
        let host = Some("heard.example");
        assert_eq!(
            back_to(Some("https://heard.example/meetings/abc?logged=1"), host, &posted),
            "/meetings/abc?logged=1"
        );
        assert_eq!(back_to(Some("https://evil.example/meetings/abc"), host, &posted), "/meetings/abc/items");
        assert_eq!(back_to(Some("https://heard.example//evil.example/x"), host, &posted), "/meetings/abc/items");
        assert_eq!(back_to(Some("javascript:alert(1)"), host, &posted), "/meetings/abc/items");
        assert_eq!(back_to(None, host, &posted), "/meetings/abc/items");
        let again = format!("https://heard.example/feedback/new?refused={}", Uuid::nil());
        assert_eq!(back_to(Some(&again), host, &posted), "/feedback/new", "an earlier key is dropped");
    }

    #[test]
    fn only_a_key_this_layer_could_have_made_is_taken_from_the_address() {
        let key = Uuid::new_v4().to_string();
        let uri: Uri = format!("/moderation?page=2&refused={key}&theme=x").parse().unwrap();
        assert_eq!(carried_key(&uri), Some((key, "/moderation?page=2&theme=x".to_owned())));
        let forged: Uri = "/moderation?refused=%3Cscript%3E".parse().unwrap();
        assert_eq!(carried_key(&forged), None);
        assert_eq!(with_key("/feedback/new", "k"), "/feedback/new?refused=k");
        assert_eq!(with_key("/search?q=a", "k"), "/search?q=a&refused=k");
    }

    #[test]
    fn a_kept_page_is_answered_with_its_own_status_and_never_stored_by_the_browser() {
        let response = kept_page("409\n<h1>Conflict</h1>");
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert!(response.headers()["cache-control"].to_str().unwrap().contains("no-store"));
    }
}
