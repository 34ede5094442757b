//! Prometheus metrics at `/metrics`, in the text exposition format. Every metric is described
//! in `docs/metrics.md` (the catalogue; a test keeps the two in step), and
//! `ops/grafana/heard.json` is a dashboard built on them.
//!
//! Labels take bounded values only, never text a client sent: a GraphQL operation is a root
//! field of the schema or `other` ([`operations`]), an HTTP route the path template it matched
//! or `unmatched`, a model one of the services' names. Each process counts its own: replicas
//! are told apart by the `instance` label Prometheus adds to what it scrapes.
//!
//! Who may read them is `[metrics]`: anyone who reaches the listener (the default), only with
//! `Authorization: Bearer <metrics.token>`, and/or only on `metrics.listen`, an address of their
//! own, in which case the main listener answers 404 for `/metrics`.

mod operations;

use std::collections::HashMap;
use std::fmt::{Display, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use heard_eventstore::{LatencyHistogram, LatencySnapshot};
use tower::ServiceExt as _;

use crate::config::MetricsSettings;

pub use operations::{Kind, Measure, OTHER, OperationMetrics};

/// The `route` label of requests that matched no route (the web UI's 404 page).
pub const UNMATCHED: &str = "unmatched";

/// Counters kept by the HTTP layer, and who may read `/metrics`.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    requests: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
    /// How long requests took, by the path template they matched.
    routes: RwLock<HashMap<String, Arc<LatencyHistogram>>>,
    access: MetricsAccess,
}

impl HttpMetrics {
    /// Counters with `/metrics` restricted as `access` says.
    pub fn new(access: MetricsAccess) -> Self {
        HttpMetrics { access, ..HttpMetrics::default() }
    }

    pub fn record(&self, status: u16) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        match status {
            400..=499 => self.client_errors.fetch_add(1, Ordering::Relaxed),
            500..=599 => self.server_errors.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }

    /// Counts a request to `route` (a path template such as `/cases/{id}`, or [`UNMATCHED`]).
    pub fn observe_route(&self, route: &str, elapsed: Duration) {
        let known = self.routes.read().unwrap_or_else(|p| p.into_inner()).get(route).cloned();
        let histogram = match known {
            Some(histogram) => histogram,
            None => self.routes.write().unwrap_or_else(|p| p.into_inner()).entry(route.to_owned()).or_default().clone(),
        };
        histogram.observe(elapsed);
    }

    /// Who may read `/metrics`.
    pub fn access(&self) -> &MetricsAccess {
        &self.access
    }
    /// Writes the HTTP families: requests, 4xx and 5xx answers, refused connections, and how
    /// long each route took.
    pub fn render(&self, out: &mut Exposition) {
        out.single(
            "heard_http_requests_total",
            "counter",
            "HTTP requests served.",
            self.requests.load(Ordering::Relaxed),
        );
        out.single(
            "heard_http_client_errors_total",
            "counter",
            "HTTP responses with a 4xx status.",
            self.client_errors.load(Ordering::Relaxed),
        );
        out.single(
            "heard_http_server_errors_total",
            "counter",
            "HTTP responses with a 5xx status.",
            self.server_errors.load(Ordering::Relaxed),
        );
        out.single(
            "heard_http_connections_refused_total",
            "counter",
            "Connections closed on arrival because self.max_connections were open.",
            crate::edge::CONNECTIONS_REFUSED.load(Ordering::Relaxed),
        );
        out.family(
            "heard_http_request_seconds",
            "histogram",
            "HTTP requests by the route they matched (a path template, or unmatched).",
        );
        let mut routes: Vec<(String, LatencySnapshot)> = {
            let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
            routes.iter().map(|(route, histogram)| (route.clone(), histogram.snapshot())).collect()
        };
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        for (route, snapshot) in &routes {
            out.histogram("heard_http_request_seconds", &[("route", route)], snapshot);
        }
    }
}

/// Who may read `/metrics` (`[metrics]`).
#[derive(Clone, Default)]
pub struct MetricsAccess {
    token: Option<String>,
    /// `/metrics` is served on `metrics.listen` only.
    own_listener: bool,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsAccess")
            .field("token", &self.token.as_ref().map(|_| "(set, not shown)"))
            .field("own_listener", &self.own_listener)
            .finish()
    }
}

impl MetricsAccess {
    pub fn of(settings: &MetricsSettings) -> Self {
        MetricsAccess { token: settings.token.clone(), own_listener: settings.listen.is_some() }
    }

    /// Whether `/metrics` is served on `metrics.listen` only.
    pub fn own_listener(&self) -> bool {
        self.own_listener
    }

    /// Whether `headers` carry the token, when one is required. Compared in constant time.
    pub fn token_given(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token else { return true };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map_or("", |(_, token)| token.trim());
        same_secret(given.as_bytes(), expected.as_bytes())
    }
}

/// Whether `given` is `expected`, in a time that depends on `expected`'s length only.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = given.len() ^ expected.len();
    for (at, byte) in expected.iter().enumerate() {
        difference |= usize::from(given.get(at).copied().unwrap_or(0) ^ byte);
    }
    std::hint::black_box(difference) == 0
}

/// Put into a request by the `metrics.listen` listener, so that `/metrics` knows where it was
/// asked.
#[derive(Clone, Copy, Debug)]
pub struct OnMetricsListener;

/// The router of the `metrics.listen` listener: `/metrics` of the whole app (`ready`, once it
/// is set; 503 while Heard starts), and 404 for everything else.
pub fn listener_router(ready: Arc<OnceLock<Router>>) -> Router {
    Router::new()
        .route(
            "/metrics",
            axum::routing::get(move |mut request: Request| {
                let ready = ready.clone();
                async move {
                    request.extensions_mut().insert(OnMetricsListener);
                    match ready.get() {
                        Some(router) => router.clone().oneshot(request).await.into_response(),
                        None => (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], "Heard is starting")
                            .into_response(),
                    }
                }
            }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not found: this address serves /metrics only") })
        .layer(axum::middleware::from_fn(crate::request_id::assign))
}

/// The text exposition format, written family by family.
#[derive(Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// Starts a family: its `HELP` and `TYPE` lines (written even when it has no series yet,
    /// so that every family always shows).
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample of the family begun last.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        let _ = writeln!(self.out, "{name}{} {value}", label_set(labels, None));
    }

    /// One histogram series: its cumulative buckets, sum and count.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], snapshot: &LatencySnapshot) {
        for (bound, count) in snapshot.cumulative() {
            let le = bound.map_or_else(|| "+Inf".to_owned(), |bound| bound.to_string());
            let _ = writeln!(self.out, "{name}_bucket{} {count}", label_set(labels, Some(&le)));
        }
        let _ = writeln!(self.out, "{name}_sum{} {}", label_set(labels, None), snapshot.sum_seconds());
        let _ = writeln!(self.out, "{name}_count{} {}", label_set(labels, None), snapshot.count());
    }

    /// A family of one sample without labels.
    pub fn single(&mut self, name: &str, kind: &str, help: &str, value: impl Display) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// `{a="x",b="y"}` (with `le` last when given), or nothing without labels.
fn label_set(labels: &[(&str, &str)], le: Option<&str>) -> String {
    let mut pairs: Vec<String> = labels.iter().map(|(name, value)| format!("{name}=\"{}\"", escaped(value))).collect();
    if let Some(le) = le {
        pairs.push(format!("le=\"{le}\""));
    }
    if pairs.is_empty() { String::new() } else { format!("{{{}}}", pairs.join(",")) }
}

fn escaped(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_compared_whole_and_a_missing_one_never_matches() {
        assert!(same_secret(b"0123456789abcdef", b"0123456789abcdef"));
        assert!(!same_secret(b"0123456789abcdeF", b"0123456789abcdef"));
        assert!(!same_secret(b"0123456789abcde", b"0123456789abcdef"), "a prefix");
        assert!(!same_secret(b"0123456789abcdef0", b"0123456789abcdef"), "longer");
        assert!(!same_secret(b"", b"0123456789abcdef"));
        let access = MetricsAccess { token: Some("0123456789abcdef".into()), own_listener: false };
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            headers
        };
        assert!(access.token_given(&headers("Bearer 0123456789abcdef")));
        assert!(access.token_given(&headers("bearer 0123456789abcdef")));
        assert!(!access.token_given(&headers("Basic 0123456789abcdef")));
        assert!(!access.token_given(&HeaderMap::new()));
        assert!(!format!("{access:?}").contains("0123"), "Debug never shows the token");
        assert!(MetricsAccess::default().token_given(&HeaderMap::new()), "no token configured: open");
    }

    #[test]
    fn label_values_are_escaped_and_histograms_end_with_inf_sum_and_count() {
        let histogram = LatencyHistogram::new();
        histogram.observe(Duration::from_millis(2));
        let mut out = Exposition::default();
        out.family("x_seconds", "histogram", "x");
        out.histogram("x_seconds", &[("route", "/a\"b\\")], &histogram.snapshot());
        let text = out.finish();
        assert!(text.contains("x_seconds_bucket{route=\"/a\\\"b\\\\\",le=\"0.0025\"} 1"), "{text}");
        assert!(text.contains("x_seconds_bucket{route=\"/a\\\"b\\\\\",le=\"+Inf\"} 1"), "{text}");
        assert!(text.contains("x_seconds_sum{route=\"/a\\\"b\\\\\"} 0.002\n"), "{text}");
        assert!(text.contains("x_seconds_count{route=\"/a\\\"b\\\\\"} 1\n"), "{text}");
    }
}
