//! The flash: a one-shot message for the page after a redirect ("Shared. It has left the
//! queue.", or what went wrong and beside which field), carried by the session, never by the
//! address.
//!
//! A handler that has run a form's mutation answers [`redirect`]: a `303 See Other` to the next
//! page with a `Set-Cookie` of the message, which the server signs with the person's session
//! ([`Backend::flash_cookie`]: HttpOnly, SameSite=Strict, five minutes). The page reads it with
//! the [`Flashed`] extractor and shows it ([`Flashed::notice`] where it belongs, or its error
//! beside its field through [`Flashed::add_error_to`]). The router's layer [`forget_once_shown`]
//! removes the cookie with the first answer that is not itself a redirect, so the message is
//! shown once.
//!
//! What this stops: a link (`?error=Call 0800 … to unlock your account`) carries no message
//! any more, so nobody can make Heard say something in its own voice; another site can neither
//! set nor read the cookie (HttpOnly, SameSite=Strict, and only a redirect after a form with
//! the session's CSRF token sets one); and a cookie copied from another session, or altered,
//! does not open.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use heard_api::Viewer;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::forms::Errors;

/// Longest message kept, in characters: a message, not a page.
const MAX_MESSAGE_CHARS: usize = 500;

/// What the message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// Something was done.
    Notice,
    /// Something could not be done: shown in the error summary and beside its field.
    Error,
}

/// A one-shot message for the next page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Flash {
    pub kind: Kind,
    pub message: String,
    /// The id of what on the page it is about: the field an error belongs beside, or the item
    /// a notice is shown above. Empty: the page as a whole.
    #[serde(default)]
    pub at: String,
    /// A link to follow from a notice: (address on this site, words).
    #[serde(default)]
    pub link: Option<(String, String)>,
}

impl Flash {
    /// "It is done."
    pub fn notice(message: impl Into<String>) -> Flash {
        Flash { kind: Kind::Notice, message: message.into(), at: String::new(), link: None }
    }

    /// "It could not be done."
    pub fn error(message: impl Into<String>) -> Flash {
        Flash { kind: Kind::Error, message: message.into(), at: String::new(), link: None }
    }

    /// About the element with id `at` on the next page.
    pub fn at(mut self, at: impl Into<String>) -> Flash {
        self.at = at.into();
        self
    }

    /// With a link to `href` (an address on this site) called `words`.
    pub fn with_link(mut self, href: &str, words: &str) -> Flash {
        self.link = Some((href.to_owned(), words.to_owned()));
        self
    }

    /// The cookie's payload.
    fn encode(&self) -> String {
        let mut kept = self.clone();
        if kept.message.chars().count() > MAX_MESSAGE_CHARS {
            kept.message = kept.message.chars().take(MAX_MESSAGE_CHARS - 1).chain(['…']).collect();
        }
        serde_json::to_string(&kept).unwrap_or_default()
    }

    /// A payload the server signed, read back; the id and the link are checked again all the
    /// same (an id of letters, digits, `-` and `_`; a link to this site only).
    fn decode(payload: &str) -> Option<Flash> {
        let mut flash: Flash = serde_json::from_str(payload).ok()?;
        let plain_id = |id: &str| id.len() <= 100 && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
        if !plain_id(&flash.at) {
            flash.at.clear();
        }
        if flash.link.as_ref().is_some_and(|(href, _)| crate::kit::local_address(href).is_none()) {
            flash.link = None;
        }
        Some(flash)
    }
}

/// A redirect (`303 See Other`) to `to` carrying `flash` for the page there. Someone without a
/// session (who cannot have posted a form) gets the redirect alone.
pub(crate) fn redirect<B: Backend>(backend: &B, viewer: &Viewer, to: &str, flash: Flash) -> Response {
    let mut response = Redirect::to(to).into_response();
    if let Some(cookie) = backend.flash_cookie(viewer, &flash.encode())
        && let Ok(value) = HeaderValue::from_str(&cookie)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The flash the request carries for the viewer's session, if any: the extractor a page that
/// shows messages starts with.
#[derive(Clone, Debug, Default)]
pub(crate) struct Flashed(pub Option<Flash>);

impl<B: Backend> FromRequestParts<B> for Flashed {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, backend: &B) -> Result<Self, Self::Rejection> {
        let viewer = backend.viewer(&parts.headers);
        Ok(Flashed(backend.flash(&viewer, &parts.headers).as_deref().and_then(Flash::decode)))
    }
}

impl Flashed {
    /// The notice, if the flash is one.
    pub fn notice(&self) -> Option<&Flash> {
        self.0.as_ref().filter(|flash| flash.kind == Kind::Notice)
    }

    /// Whether the notice belongs above the element with id `at`.
    pub fn notice_at(&self, at: &str) -> Option<&Flash> {
        self.notice().filter(|flash| flash.at == at)
    }

    /// The error, if the flash is one, added to `errors` beside its field.
    pub fn add_error_to(&self, errors: &mut Errors) {
        if let Some(flash) = self.0.as_ref().filter(|flash| flash.kind == Kind::Error) {
            errors.add(&flash.at, flash.message.clone());
        }
    }
}

/// A notice as the page shows it: calm, announced, with its link if it has one.
pub(crate) fn notice(flash: &Flash) -> Markup {
    html! {
        div class="notice" role="status" {
            p { (flash.message) }
            @if let Some((href, words)) = &flash.link { p { a href=(href) { (words) } } }
        }
    }
}

/// The router's layer: an answer that is not a redirect to a request carrying a flash removes
/// it, so each message is shown on one page only (a redirect passes it on to the page it
/// leads to).
pub(crate) async fn forget_once_shown<B: Backend>(State(backend): State<B>, request: Request, next: Next) -> Response {
    let forget = backend.forget_flash(request.headers());
    let mut response = next.run(request).await;
    if let Some(cookie) = forget
        && !response.status().is_redirection()
        && let Ok(value) = HeaderValue::from_str(&cookie)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_reads_back_as_it_was_set() {
        let flash = Flash::notice("Sent for safeguarding.").at("item-1").with_link("/report-back", "Open it");
        assert_eq!(Flash::decode(&flash.encode()), Some(flash));
        let flash = Flash::error("Choose who may see it now").at("consent-abc");
        assert_eq!(Flash::decode(&flash.encode()), Some(flash));
    }

    #[test]
    fn a_long_message_is_cut_short_and_an_odd_id_or_a_link_elsewhere_is_dropped() {
        let long = Flash::error("x".repeat(5000));
        assert_eq!(Flash::decode(&long.encode()).unwrap().message.chars().count(), MAX_MESSAGE_CHARS);
        let odd = Flash::notice("Done.").at("item-1\" onclick=\"x").with_link("//elsewhere.example/", "Go");
        let read = Flash::decode(&odd.encode()).unwrap();
        assert_eq!((read.at.as_str(), read.link), ("", None));
        assert_eq!(Flash::decode("not json"), None);
    }

    #[test]
    fn a_notice_is_shown_above_its_item_and_an_error_beside_its_field() {
        let notice = Flashed(Some(Flash::notice("Held in the hub.").at("item-2")));
        assert!(notice.notice_at("item-2").is_some() && notice.notice_at("item-3").is_none());
        let mut errors = Errors::default();
        notice.add_error_to(&mut errors);
        assert!(errors.is_empty(), "a notice is no error");
        Flashed(Some(Flash::error("Write the words to take out").at("passages-2"))).add_error_to(&mut errors);
        assert_eq!(errors.of("passages-2"), Some("Write the words to take out"));
    }
}
