//! `Strict-Transport-Security` on every response when Heard is served over HTTPS
//! (`auth.public_url` starts with `https://`, which also makes cookies `Secure`): a browser
//! that has once reached Heard over HTTPS never again sends a request, or a cookie, in clear.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// One year, the value browsers' preload lists ask for. No `includeSubDomains`: Heard does not
/// know what else its domain serves.
pub const HSTS: &str = "max-age=31536000";

/// Adds the header when the identity service marks cookies `Secure`, i.e. over HTTPS.
pub async fn strict_transport_security(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if state.identity.config().secure_cookies {
        response.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    response
}
