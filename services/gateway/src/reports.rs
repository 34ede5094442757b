//! "You said, we did" for programs: the report as CSV, and the report asked for with an API
//! token, from the same computation GraphQL serves. The page for people at the same address,
//! `/reports/you-said-we-did`, is the web UI's (`heard_frontend`): [`csv_and_tokens`] stands in
//! front of it and answers only `?format=csv` and requests carrying `Authorization`. Logged-in
//! people (session cookie or bearer token) get what they may see; anyone else, and
//! `?public=true`, the public version: only what people agreed to publish.

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use heard_access::Actor;
use heard_api::spreadsheet::escape_cell;
use heard_commissioning::report::{Report, Scope};
use serde::Deserialize;

use crate::auth::{Credentials, credentials};
use crate::state::AppState;

/// The report's address, shared with the web UI's page.
const PATH: &str = "/reports/you-said-we-did";

/// The query string of `/reports/you-said-we-did`.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    hub: Option<String>,
    provider: Option<String>,
    theme: Option<String>,
    from: Option<String>,
    to: Option<String>,
    /// `true` for the public version.
    public: Option<String>,
    /// `html` (the web UI's page) or `csv`.
    format: Option<String>,
}

/// In front of the web UI: answers `/reports/you-said-we-did` here when it asks for CSV or
/// carries an API token; everything else goes on to the page.
pub async fn csv_and_tokens(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path() != PATH {
        return next.run(request).await;
    }
    let query = Query::<ReportQuery>::try_from_uri(request.uri()).map(|query| query.0).unwrap_or_default();
    let csv = query.format.as_deref().map(str::trim) == Some("csv");
    if !csv && !request.headers().contains_key(header::AUTHORIZATION) {
        return next.run(request).await;
    }
    you_said_we_did(&state, request.headers(), query, csv)
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
}

fn date(field: &str, value: Option<&str>) -> Result<Option<jiff::civil::Date>, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| format!("{field} must be a date like 2026-11-23")),
    }
}

fn empty_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The report as CSV, as the asker may see it. With an API token only CSV is made: the page is
/// for people in a browser.
fn you_said_we_did(state: &AppState, headers: &HeaderMap, query: ReportQuery, csv: bool) -> Response {
    let actor = match credentials(&state.identity, headers) {
        Ok(Credentials::Session(viewer) | Credentials::Token(viewer)) => viewer.actor,
        Ok(Credentials::None) => Actor::anonymous(),
        Err(bad) => return bad.into_response(),
    };
    if !csv {
        return refuse(
            StatusCode::BAD_REQUEST,
            "with an API token this report comes as CSV (format=csv); or ask GraphQL's youSaidWeDid",
        );
    }
    let (from, to) = match (date("from", query.from.as_deref()), date("to", query.to.as_deref())) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(message), _) | (_, Err(message)) => return refuse(StatusCode::BAD_REQUEST, &message),
    };
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return refuse(StatusCode::BAD_REQUEST, "to must not be before from");
    }
    let public = match query.public.as_deref().map(str::trim) {
        None | Some("" | "false") => false,
        Some("true") => true,
        Some(_) => return refuse(StatusCode::BAD_REQUEST, "public must be true or false"),
    };
    let scope = Scope {
        hub: empty_to_none(query.hub),
        provider: empty_to_none(query.provider),
        theme: empty_to_none(query.theme),
        from,
        to,
    };
    if let Some(message) = unknown(state, &scope) {
        return refuse(StatusCode::NOT_FOUND, &message);
    }
    let public = public || actor.account.is_none();
    let report = state.commissioning.report(&actor, &scope, public);
    csv_response(state, &report)
}

fn unknown(state: &AppState, scope: &Scope) -> Option<String> {
    state.commissioning.read(|model| {
        if let Some(hub) = &scope.hub
            && !model.reference.hubs.contains_key(hub)
        {
            return Some("hub: there is no hub with this id".to_owned());
        }
        if let Some(provider) = &scope.provider
            && !model.reference.providers.contains_key(provider)
        {
            return Some("provider: there is no provider with this id".to_owned());
        }
        if let Some(theme) = &scope.theme
            && !model.reference.themes.contains_key(theme)
        {
            return Some("theme: there is no theme with this id".to_owned());
        }
        None
    })
}

fn scope_title(state: &AppState, scope: &Scope) -> String {
    state.commissioning.read(|model| {
        let mut parts = Vec::new();
        if let Some(hub) = &scope.hub {
            parts.push(model.reference.hubs.get(hub).cloned().unwrap_or_else(|| hub.clone()));
        }
        if let Some(provider) = &scope.provider {
            parts.push(model.reference.providers.get(provider).cloned().unwrap_or_else(|| provider.clone()));
        }
        if let Some(theme) = &scope.theme {
            parts.push(model.reference.theme_name(theme).unwrap_or(theme).to_owned());
        }
        if parts.is_empty() { "Everyone".to_owned() } else { parts.join(", ") }
    })
}

fn period(scope: &Scope) -> String {
    match (scope.from, scope.to) {
        (None, None) => "all dates".to_owned(),
        (Some(from), None) => format!("from {from}"),
        (None, Some(to)) => format!("up to {to}"),
        (Some(from), Some(to)) => format!("{from} to {to}"),
    }
}

/// A count as the CSV gives it: "not shown" when suppressed (1 to 4, or a count that would give
/// such a count away, so not always fewer than 5).
fn count(value: Option<u64>) -> String {
    value.map_or_else(|| "not shown".to_owned(), |n| n.to_string())
}

fn csv_response(state: &AppState, report: &Report) -> Response {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Every cell may hold someone's words: none may run as a formula in a spreadsheet.
    let mut row = |section: &str, name: &str, value: &str, detail: &str| {
        let _ = writer.write_record([section, name, value, detail].map(escape_cell));
    };
    row("section", "name", "value", "detail");
    row("report", "scope", &scope_title(state, &report.scope), &period(&report.scope));
    row("report", "version", if report.public { "public" } else { "commissioners and hubs" }, "");
    row("report", "position", &report.position.to_string(), &report.chain_head);
    row("summary", "shared items", &count(report.shared_items), "");
    row("summary", "closed items", &count(report.closed_items), "");
    row("summary", "loop closure rate", &report.loop_closure_rate.map(|r| format!("{r:.3}")).unwrap_or_default(), "");
    row(
        "summary",
        "median working days to first response",
        &report.median_working_days.map(|d| format!("{d:.1}")).unwrap_or_default(),
        "",
    );
    for theme in &report.said {
        row("you said", &theme.name, &count(theme.count), "");
    }
    for item in &report.representative {
        row(
            "in their words",
            &item.themes.join("; "),
            &item.text,
            &item.said_on.map(|d| d.to_string()).unwrap_or_default(),
        );
    }
    for found in &report.decisions {
        let decision = &found.decision;
        let detail = format!(
            "decided by {} on {}; Arnstein rung {}; {} linked items",
            decision.decided_by,
            decision.decision_date,
            decision.ladder_rung,
            count(found.linked_items)
        );
        row("we did", &decision.title, decision.status.label(), &detail);
        if let Some((on, summary)) = decision.outcome_reviews.last() {
            row("what came of it", &decision.title, summary, &on.to_string());
        }
    }
    for answer in &report.not_acted_on {
        row("not acted on", answer.text.as_deref().unwrap_or(""), &answer.reason, &answer.on.to_string());
    }
    let body = writer.into_inner().unwrap_or_default();
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"you-said-we-did.csv\""));
    response
}
