//! The cookies identity sets, and how a `Set-Cookie` header is written for them.

/// Cookie names. The session cookie is HttpOnly; the CSRF cookie is readable by the page's
/// own script (GraphiQL) so that it can send the `X-CSRF-Token` header.
pub const SESSION_COOKIE: &str = "heard_session";
pub const CSRF_COOKIE: &str = "heard_csrf";
/// Names the visit a login form belongs to (see [`crate::IdentityService::login_challenge`]).
pub const LOGIN_COOKIE: &str = "heard_login";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A one-shot message for the next page a session sees (the web UI's flash): HttpOnly,
/// SameSite=Strict, and signed with the session it is for (see
/// [`crate::secrets::Secrets::flash_cookie`]), so neither another site nor a crafted link can
/// set one, and one copied from another session does not open.
pub const FLASH_COOKIE: &str = "heard_flash";
/// How long a flash waits for the page that shows it, in seconds.
pub const FLASH_SECONDS: i64 = 300;

/// A `Set-Cookie` value for Heard's cookies: always `Path=/`, with the given lifetime,
/// `SameSite`, and `HttpOnly`/`Secure` as asked.
pub fn cookie(name: &str, value: &str, max_age_seconds: i64, http_only: bool, same_site: &str, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; Max-Age={max_age_seconds}; SameSite={same_site}");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}
