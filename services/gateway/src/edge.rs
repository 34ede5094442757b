//! The HTTP edge: how connections are accepted and what every request is held to before any
//! handler runs.
//!
//! - [`serve`] accepts connections itself (rather than `axum::serve`, which has no timers): a
//!   client that trickles its headers is cut off after `http.header_read_timeout`, and at most
//!   `http.max_connections` are open at once. Shutdown is graceful.
//! - [`client_address`] works out who the client is: the peer's address, or, only when the
//!   peer is one of `http.trusted_proxies`, the nearest untrusted address in
//!   `X-Forwarded-For`. Login throttling is keyed on it.
//! - [`same_origin`] tells a request a browser sent from Heard's own pages from one another
//!   site made it send (login CSRF, cross-site GraphQL).
//! - [`layers`]: the body limit (413; larger for the web UI's spreadsheet upload alone, which
//!   answers a page when even that is too small) and the request timeout (408).

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use heard_api::ClientIp;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::{Layer as _, ServiceExt as _};

use crate::config::EdgeLimits;

/// Connections closed at once because `http.max_connections` were already open.
pub static CONNECTIONS_REFUSED: AtomicU64 = AtomicU64::new(0);

/// Serves `router` on `listener` until `shutdown` resolves, then lets open connections finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &EdgeLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was accepted.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            CONNECTIONS_REFUSED.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let request = request.map(axum::body::Body::new);
            let router = router.clone();
            async move { Ok::<_, Infallible>(router.oneshot(request).await.unwrap_or_else(|never| match never {})) }
        });
        let watcher = graceful.watcher();
        let builder = builder.clone();
        tokio::spawn(async move {
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(error) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(error = %error, "a connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The address the request really came from, given the proxies that may be believed.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    // Each proxy appends the address it saw; walk back from the nearest, past trusted ones.
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|part| part.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    forwarded.iter().rev().find(|address| !trusted_proxies.contains(address)).copied().unwrap_or(peer)
}

/// Puts the client's [`ClientIp`] into the request for GraphQL and the web UI's login.
pub async fn client_address(
    axum::extract::State(trusted): axum::extract::State<Arc<Vec<IpAddr>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    if let Some(peer) = peer {
        let ip = client_ip(peer, request.headers(), &trusted);
        request.extensions_mut().insert(ClientIp(ip));
    }
    next.run(request).await
}

/// Whether a browser sent this request from one of Heard's own pages. `Sec-Fetch-Site`, which
/// every current browser sends and no page can change, decides when present. Otherwise a
/// named `Origin` must be this host. A request that says nothing of where it came from (a
/// script, or `Origin: null`, which browsers send for Heard's own posts under its
/// `Referrer-Policy: no-referrer`) is not refused here: the form token, the CSRF token and
/// the JSON-only rule stand behind this check.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|value| value.to_str().ok()) {
        // `none`: the person typed the address or used a bookmark.
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|value| value.to_str().ok()) {
        None | Some("null") => true,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
            let forwarded_host = headers.get("x-forwarded-host").and_then(|value| value.to_str().ok());
            let origin_host = origin.split_once("://").map(|(_, host)| host);
            origin_host.is_some_and(|origin_host| Some(origin_host) == host || Some(origin_host) == forwarded_host)
        }
    }
}

/// The body limit and the request timeout, for the whole router. Every request's body is held
/// to `http.max_body_bytes`, but for the web UI's spreadsheet upload ([`body_limit`]).
pub fn layers(router: Router, limits: &EdgeLimits) -> Router {
    router
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request_timeout))
        .layer(axum::middleware::from_fn_with_state((limits.max_body_bytes, limits.request_timeout), body_limit))
}

/// The largest body a request may send: `configured` (`http.max_body_bytes`) for every route
/// but `POST /import`, the web UI's spreadsheet upload, which may carry a whole file of 5 MB
/// ([`heard_frontend::UPLOAD_BODY_BYTES`]).
pub fn body_limit_for(method: &Method, path: &str, configured: usize) -> usize {
    if method == Method::POST && path == heard_frontend::UPLOAD_PATH {
        configured.max(heard_frontend::UPLOAD_BODY_BYTES)
    } else {
        configured
    }
}

/// How much of an upload that is too large is read (and dropped) so that the browser, still
/// sending it, reads the answer rather than a reset connection. Past this, the connection is
/// closed without reading on.
const DRAIN_AT_MOST: u64 = 32 * 1024 * 1024;

/// The body limit: a body declared larger than the route's limit is answered `413` at once, one
/// that turns out larger while it is read is cut off (tower-http's `RequestBodyLimit`). The
/// upload form's `413` is a page that says what to do, in the site's stylesheet.
pub async fn body_limit(
    axum::extract::State((configured, within)): axum::extract::State<(usize, std::time::Duration)>,
    request: Request,
    next: Next,
) -> Response {
    let limit = body_limit_for(request.method(), request.uri().path(), configured);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let is_upload = request.method() == Method::POST && request.uri().path() == heard_frontend::UPLOAD_PATH;
    if is_upload && declared.is_some_and(|length| length > limit as u64) {
        if declared.is_some_and(|length| length <= DRAIN_AT_MOST) {
            // As long as any request may take, and no longer.
            let _ = tokio::time::timeout(within, drain(request.into_body())).await;
        }
        return upload_too_large();
    }
    // tower-http's limit hands the rest of the router a body that stops at `limit`.
    let rest = tower::service_fn(move |request: axum::http::Request<_>| {
        let next = next.clone();
        async move { Ok::<_, Infallible>(next.run(request.map(axum::body::Body::new)).await) }
    });
    let limited = tower_http::limit::RequestBodyLimitLayer::new(limit).layer(rest);
    match limited.oneshot(request).await {
        Ok(response) => response.map(axum::body::Body::new),
        Err(never) => match never {},
    }
}

/// Reads a body to its end and drops it.
async fn drain(body: axum::body::Body) {
    use futures::StreamExt as _;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        if chunk.is_err() {
            break;
        }
    }
}

/// The answer to an upload larger than Heard takes: a short page of its own (the web UI's
/// shell needs the person, and this is answered before anyone is asked who they are).
fn upload_too_large() -> Response {
    let page = "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
        <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
        <title>The file is too large – Heard</title><link rel=\"stylesheet\" href=\"/assets/heard.css\"></head>\
        <body><main id=\"main\" class=\"wrap\"><h1>The file is too large</h1>\
        <p>Heard imports spreadsheets of up to 5 MB. Save the rows you need in a smaller file, or split it into several files, and upload each one.</p>\
        <p><a href=\"/import\">Back to Import a spreadsheet</a></p></main></body></html>\n";
    let mut response = (StatusCode::PAYLOAD_TOO_LARGE, page).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let forwarded = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.7")]);
        assert_eq!(client_ip(proxy, &forwarded, &[proxy]), client, "the nearest address the proxy saw");
        assert_eq!(client_ip(client, &forwarded, &[proxy]), client, "anyone else's header is ignored");
        assert_eq!(client_ip(proxy, &headers(&[("x-forwarded-for", "not an address")]), &[proxy]), proxy);
        let chained = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.2")]);
        let second: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(client_ip(proxy, &chained, &[proxy, second]), client, "trusted hops are skipped");
    }

    #[test]
    fn only_the_spreadsheet_upload_is_allowed_a_body_larger_than_the_configured_limit() {
        let configured = 1024 * 1024;
        let upload = heard_frontend::UPLOAD_BODY_BYTES;
        assert_eq!(body_limit_for(&Method::POST, "/import", configured), upload);
        assert_eq!(body_limit_for(&Method::POST, "/import", 64 * 1024 * 1024), 64 * 1024 * 1024, "never smaller");
        for (method, path) in [
            (Method::POST, "/graphql"),
            (Method::POST, "/import/abc/columns"),
            (Method::PUT, "/import"),
            (Method::POST, "/importer"),
        ] {
            assert_eq!(body_limit_for(&method, path, configured), configured, "{method} {path}");
        }
    }

    fn limited_router() -> Router {
        use axum::routing::post;
        // Each route reads the whole body and says how long it was.
        async fn length(request: Request) -> Response {
            match axum::body::to_bytes(request.into_body(), usize::MAX).await {
                Ok(bytes) => bytes.len().to_string().into_response(),
                Err(_) => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
            }
        }
        let limits = EdgeLimits {
            max_body_bytes: 1024 * 1024,
            header_read_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(30),
            max_connections: 10,
            trusted_proxies: Vec::new(),
        };
        layers(Router::new().route("/import", post(length)).route("/graphql", post(length)), &limits)
    }

    async fn post_bytes(path: &str, length: usize) -> (StatusCode, String) {
        let request = Request::post(path)
            .header(header::CONTENT_LENGTH, length)
            .body(axum::body::Body::from(vec![b'x'; length]))
            .unwrap();
        let response = limited_router().oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn a_spreadsheet_of_five_megabytes_goes_through_where_every_other_body_is_held_to_the_configured_limit() {
        let file = 5 * 1024 * 1024;
        assert_eq!(post_bytes("/import", file).await, (StatusCode::OK, file.to_string()));
        assert_eq!(post_bytes("/graphql", 2 * 1024 * 1024).await.0, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(post_bytes("/graphql", 1024).await, (StatusCode::OK, "1024".to_owned()));
    }

    #[tokio::test]
    async fn an_upload_larger_than_even_that_is_answered_with_a_page_that_says_what_to_do() {
        let (status, page) = post_bytes("/import", heard_frontend::UPLOAD_BODY_BYTES + 1).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(page.contains("<h1>The file is too large</h1>") && page.contains("up to 5 MB"), "{page}");
        assert!(page.contains(r#"href="/import""#), "a way back to the form: {page}");
    }

    #[test]
    fn a_request_from_another_site_is_not_same_origin() {
        assert!(same_origin(&headers(&[])), "a script names no origin");
        assert!(same_origin(&headers(&[("origin", "http://heard.test"), ("host", "heard.test")])));
        assert!(!same_origin(&headers(&[("origin", "https://evil.example"), ("host", "heard.test")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site"), ("host", "heard.test")])));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin"), ("origin", "null")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site"), ("origin", "null")])));
        assert!(
            !same_origin(&headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://heard.test"),
                ("host", "heard.test")
            ])),
            "the browser's word beats a header a proxy could pass on"
        );
    }
}
