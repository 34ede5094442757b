//! Every HTTP request's id: the client's `X-Request-Id` when it is a plain token of at most 64
//! letters, digits, `-` and `_` (a proxy's id, so one request can be followed through both
//! logs), or else a new UUID. The id goes back in the response's `X-Request-Id` and into the
//! request's tracing span (`request_id`), so every log line of the request carries it; nothing
//! else the client sent is logged.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The header that carries the id both ways.
pub const HEADER: &str = "x-request-id";

/// The longest incoming id accepted.
pub const MAX_LEN: usize = 64;

/// A request's id, in its extensions once [`assign`] has run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether an incoming id can be used as it is: 1 to [`MAX_LEN`] of `[A-Za-z0-9_-]`.
pub fn well_formed(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The id of a request: the one already given to it, its well-formed `X-Request-Id`, or a new
/// UUID.
pub fn of(request: &Request) -> RequestId {
    if let Some(known) = request.extensions().get::<RequestId>() {
        return known.clone();
    }
    let given = request.headers().get(HEADER).and_then(|value| value.to_str().ok()).filter(|id| well_formed(id));
    RequestId(given.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned))
}

/// Gives the request its id (kept when a layer further out already did) and puts it on the
/// response.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = of(&request);
    request.extensions_mut().insert(id.clone());
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: Option<&str>) -> Request {
        let mut builder = axum::http::Request::get("/");
        if let Some(id) = id {
            builder = builder.header(HEADER, id);
        }
        builder.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn a_plain_incoming_id_is_kept_and_anything_else_is_replaced_by_a_uuid() {
        assert_eq!(of(&request(Some("req-42_A"))).0, "req-42_A");
        let longest = "a".repeat(MAX_LEN);
        assert_eq!(of(&request(Some(&longest))).0, longest);
        for bad in [None, Some(""), Some("has space"), Some("semi;colon"), Some("é"), Some(&*"a".repeat(MAX_LEN + 1))]
        {
            let id = of(&request(bad)).0;
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} became {id}");
        }
        assert_ne!(of(&request(None)), of(&request(None)), "each request its own");
    }

    #[test]
    fn an_id_already_given_by_a_layer_further_out_is_kept() {
        let mut inner = request(Some("from-the-client"));
        inner.extensions_mut().insert(RequestId("given-outside".into()));
        assert_eq!(of(&inner).0, "given-outside");
    }
}
