//! Prometheus metrics at `/metrics`, in the text exposition format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use heard_eventstore::EventStore;

/// Counters kept by the HTTP layer.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    requests: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
}

impl HttpMetrics {
    pub fn record(&self, status: u16) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        match status {
            400..=499 => self.client_errors.fetch_add(1, Ordering::Relaxed),
            500..=599 => self.server_errors.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
    }
}

/// Renders every metric.
pub fn render(store: &EventStore, http: &HttpMetrics) -> String {
    let head = store.head();
    let stats = store.stats();
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    metric("heard_log_head_position", "gauge", "Position of the last event in the global log.", head.position);
    metric("heard_log_events_appended_total", "counter", "Events appended by this process.", stats.events_appended);
    metric("heard_log_commits_total", "counter", "Durable commits (fsyncs) of the event log.", stats.commits);
    metric("heard_http_requests_total", "counter", "HTTP requests served.", http.requests.load(Ordering::Relaxed));
    metric(
        "heard_http_client_errors_total",
        "counter",
        "HTTP responses with a 4xx status.",
        http.client_errors.load(Ordering::Relaxed),
    );
    metric(
        "heard_http_server_errors_total",
        "counter",
        "HTTP responses with a 5xx status.",
        http.server_errors.load(Ordering::Relaxed),
    );
    let access = heard_api::access_counters();
    metric(
        "heard_access_anonymous_refusals_total",
        "counter",
        "Refusals of requests without a login: counted here, never written to the access log.",
        access.anonymous_refusals,
    );
    metric(
        "heard_access_events_over_budget_total",
        "counter",
        "Access events not written because one request had already written its most.",
        access.dropped_over_budget,
    );
    out
}
