//! What `/metrics` answers: every metric of this process, rendered from the whole app's state
//! (the log, the models' lag, HTTP, GraphQL operations, search, logins and the access log) in
//! the text exposition format of [`crate::metrics`]. Kept apart from `metrics`, whose counters
//! the app's state holds, so that the two do not import each other.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::metrics::{Exposition, OperationMetrics};
use crate::state::AppState;

/// `GET /metrics`: 404 on the main listener when `/metrics` has a listener of its own, 401
/// without the token when one is configured, else every metric.
pub fn page(state: &AppState, on_metrics_listener: bool, headers: &HeaderMap) -> Response {
    let access = state.http.access();
    if access.own_listener() && !on_metrics_listener {
        return (StatusCode::NOT_FOUND, "Not found").into_response();
    }
    if !access.token_given(headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"heard metrics\"")],
            "/metrics needs the header Authorization: Bearer <metrics.token>",
        )
            .into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render(state)).into_response()
}

/// Renders every metric.
pub fn render(state: &AppState) -> String {
    let store = &state.store;
    let head = store.head();
    let stats = store.stats();
    let mut out = Exposition::default();

    out.single("heard_log_head_position", "gauge", "Position of the last event in the global log.", head.position);
    out.single("heard_log_events_appended_total", "counter", "Events appended by this process.", stats.events_appended);
    out.single("heard_log_commits_total", "counter", "Durable commits (fsyncs) of the event log.", stats.commits);
    out.family(
        "heard_log_append_seconds",
        "histogram",
        "Appends by this process, from the call to the acknowledgement (durable).",
    );
    out.histogram("heard_log_append_seconds", &[], &stats.append_seconds);
    out.family(
        "heard_log_fsync_seconds",
        "histogram",
        "Durable commits of a group of appends: an fdatasync, a sled flush or a PostgreSQL COMMIT.",
    );
    out.histogram("heard_log_fsync_seconds", &[], &stats.commit_seconds);
    out.family(
        "heard_projection_lag_events",
        "gauge",
        "Events in the log that a model of this process has not applied yet (head minus applied).",
    );
    for (model, applied) in store.catch_up_progress() {
        out.sample("heard_projection_lag_events", &[("model", model)], head.position.saturating_sub(applied));
    }

    state.http.render(&mut out);

    match state.schema.data::<Arc<OperationMetrics>>() {
        Some(operations) => operations.render(&mut out),
        None => OperationMetrics::for_schema("").render(&mut out),
    }

    out.family("heard_search_seconds", "histogram", "Full-text searches of feedback, in the index.");
    out.histogram("heard_search_seconds", &[], &heard_feedback::search::SEARCH_SECONDS.snapshot());

    let logins = state.identity.login_counts();
    out.family("heard_login_failures_total", "counter", "Failed logins at this process, by why they failed.");
    for (reason, count) in [
        ("wrong_credentials", logins.wrong_credentials),
        ("waiting", logins.waiting),
        ("address_throttled", logins.address_throttled),
        ("deactivated", logins.deactivated),
    ] {
        out.sample("heard_login_failures_total", &[("reason", reason)], count);
    }
    out.single(
        "heard_login_lockouts_total",
        "counter",
        "Waits begun after auth.max_failed_logins failed logins in a row for one email from one address.",
        logins.lockouts,
    );

    let access = heard_api::access_counters();
    out.single(
        "heard_access_log_events_total",
        "counter",
        "AccessRecorded events this process appended to the access log.",
        access.appended,
    );
    out.single(
        "heard_access_anonymous_refusals_total",
        "counter",
        "Refusals of requests without a login: counted here, never written to the access log.",
        access.anonymous_refusals,
    );
    out.single(
        "heard_access_events_over_budget_total",
        "counter",
        "Access events not written because one request had already written its most.",
        access.dropped_over_budget,
    );
    out.finish()
}
