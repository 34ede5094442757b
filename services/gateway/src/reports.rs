//! "You said, we did" as a printable page (a board paper) and as CSV, from the same report
//! GraphQL serves. Logged-in people (session cookie or bearer token) see what they may; anyone
//! else, and `?public=true`, sees the public version: only what people agreed to publish.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use heard_access::Actor;
use heard_commissioning::domain::decision::ladder_name;
use heard_commissioning::report::{Report, Scope};
use serde::Deserialize;

use crate::auth::{Credentials, credentials};
use crate::server::AppState;

/// The query string of `/reports/you-said-we-did`.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    hub: Option<String>,
    provider: Option<String>,
    theme: Option<String>,
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    public: bool,
    /// `html` (the default) or `csv`.
    format: Option<String>,
}

pub const STYLESHEET: &str = include_str!("report.css");

/// `GET /assets/report.css`.
pub async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLESHEET).into_response()
}

fn bad_request(message: &str) -> Response {
    let body = page(
        "Heard: this report cannot be made",
        &format!("<h1>This report cannot be made</h1><p>{}</p>", escape(message)),
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

fn date(field: &str, value: Option<&str>) -> Result<Option<jiff::civil::Date>, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => {
            text.parse().map(Some).map_err(|_| format!("{field} must be a date like 2026-11-23, not “{text}”"))
        }
    }
}

fn empty_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// `GET /reports/you-said-we-did?hub=&provider=&theme=&from=&to=&public=&format=`.
pub async fn you_said_we_did(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ReportQuery>,
) -> Response {
    let actor = match credentials(&state.identity, &headers) {
        Ok(Credentials::Session(viewer) | Credentials::Token(viewer)) => viewer.actor,
        Ok(Credentials::None) => Actor::anonymous(),
        Err(bad) => return bad.into_response(),
    };
    let (from, to) = match (date("from", query.from.as_deref()), date("to", query.to.as_deref())) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(message), _) | (_, Err(message)) => return bad_request(&message),
    };
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return bad_request("to must not be before from");
    }
    let scope = Scope {
        hub: empty_to_none(query.hub),
        provider: empty_to_none(query.provider),
        theme: empty_to_none(query.theme),
        from,
        to,
    };
    if let Some(message) = unknown(&state, &scope) {
        return (
            StatusCode::NOT_FOUND,
            Html(page("Heard: not found", &format!("<h1>Not found</h1><p>{}</p>", escape(&message)))),
        )
            .into_response();
    }
    let public = query.public || actor.account.is_none();
    let report = state.commissioning.report(&actor, &scope, public);
    match query.format.as_deref().unwrap_or("html") {
        "csv" => csv_response(&state, &report),
        "html" => Html(render(&state, &report)).into_response(),
        other => bad_request(&format!("format must be html or csv, not “{other}”")),
    }
}

/// `GET /public/you-said-we-did/{hub}`: a hub's published page, no login needed.
pub async fn public_hub(State(state): State<AppState>, Path(hub): Path<String>) -> Response {
    let scope = Scope { hub: Some(hub), ..Scope::default() };
    if let Some(message) = unknown(&state, &scope) {
        return (
            StatusCode::NOT_FOUND,
            Html(page("Heard: not found", &format!("<h1>Not found</h1><p>{}</p>", escape(&message)))),
        )
            .into_response();
    }
    let report = state.commissioning.report(&Actor::anonymous(), &scope, true);
    Html(render(&state, &report)).into_response()
}

fn unknown(state: &AppState, scope: &Scope) -> Option<String> {
    state.commissioning.read(|model| {
        if let Some(hub) = &scope.hub
            && !model.hubs.contains_key(hub)
        {
            return Some(format!("There is no hub “{hub}”."));
        }
        if let Some(provider) = &scope.provider
            && !model.providers.contains_key(provider)
        {
            return Some(format!("There is no provider “{provider}”."));
        }
        if let Some(theme) = &scope.theme
            && !model.themes.contains_key(theme)
        {
            return Some(format!("There is no theme “{theme}”."));
        }
        None
    })
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<link rel=\"stylesheet\" href=\"/assets/report.css\">\n</head>\n<body>\n<main id=\"main\">\n{body}\n</main>\n</body>\n</html>\n",
        escape(title)
    )
}

fn scope_title(state: &AppState, scope: &Scope) -> String {
    state.commissioning.read(|model| {
        let mut parts = Vec::new();
        if let Some(hub) = &scope.hub {
            parts.push(model.hubs.get(hub).cloned().unwrap_or_else(|| hub.clone()));
        }
        if let Some(provider) = &scope.provider {
            parts.push(model.providers.get(provider).cloned().unwrap_or_else(|| provider.clone()));
        }
        if let Some(theme) = &scope.theme {
            parts.push(model.themes.get(theme).cloned().unwrap_or_else(|| theme.clone()));
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

fn count(value: Option<u64>) -> String {
    value.map_or_else(|| "fewer than 5".to_owned(), |n| n.to_string())
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "not enough items to say".to_owned(), |rate| format!("{:.0}%", rate * 100.0))
}

fn days(median: Option<f64>) -> String {
    median.map_or_else(|| "not enough items to say".to_owned(), |days| format!("{days:.1} working days"))
}

/// The report as a printable page.
pub fn render(state: &AppState, report: &Report) -> String {
    use std::fmt::Write as _;
    let title = scope_title(state, &report.scope);
    let mut body = String::new();
    let version = if report.public { "Public version" } else { "For commissioners and hubs" };
    let _ = write!(
        body,
        "<header><p class=\"kicker\">Heard · {version}</p><h1>You said, we did: {}</h1><p>What people said ({}), what was decided, and what came of it.</p></header>",
        escape(&title),
        escape(&period(&report.scope))
    );
    let _ = write!(
        body,
        "<section aria-labelledby=\"summary\"><h2 id=\"summary\">Summary</h2><dl class=\"figures\"><div><dt>Items shared with commissioners</dt><dd>{}</dd></div><div><dt>Items that reached a decision or a reasoned answer</dt><dd>{}</dd></div><div><dt>Loop closed</dt><dd>{}</dd></div><div><dt>Time to a first response (median)</dt><dd>{}</dd></div></dl></section>",
        count(report.shared_items),
        count(report.closed_items),
        percent(report.loop_closure_rate),
        days(report.median_working_days)
    );
    body.push_str("<section aria-labelledby=\"said\"><h2 id=\"said\">You said</h2>");
    if report.said.is_empty() {
        body.push_str("<p>Nothing has been shared for this report yet.</p>");
    } else {
        body.push_str("<table><caption>Items by theme</caption><thead><tr><th scope=\"col\">Theme</th><th scope=\"col\">Items</th></tr></thead><tbody>");
        for theme in &report.said {
            let _ =
                write!(body, "<tr><th scope=\"row\">{}</th><td>{}</td></tr>", escape(&theme.name), count(theme.count));
        }
        body.push_str(
            "</tbody></table><p class=\"note\">Counts from 1 to 4 are not shown, so that nobody can be recognised.</p>",
        );
    }
    if !report.representative.is_empty() {
        body.push_str("<h3>In people's own words</h3><ul class=\"quotes\">");
        for item in &report.representative {
            let _ = write!(
                body,
                "<li><blockquote><p>{}</p></blockquote><p class=\"meta\">{} · {}</p></li>",
                escape(&item.text),
                escape(&item.themes.join(", ")),
                item.said_on.map(|d| d.to_string()).unwrap_or_default()
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("</section><section aria-labelledby=\"did\"><h2 id=\"did\">We did</h2>");
    if report.decisions.is_empty() {
        body.push_str("<p>No decision has been linked to this input yet.</p>");
    }
    for found in &report.decisions {
        let decision = &found.decision;
        let _ = write!(
            body,
            "<article class=\"decision\"><h3>{}</h3><dl><div><dt>Status</dt><dd>{}</dd></div><div><dt>Decided by</dt><dd>{} on {}</dd></div><div><dt>Service area</dt><dd>{}</dd></div><div><dt>How people who use services were involved</dt><dd>{} (rung {} of 8: {})</dd></div><div><dt>Items from this report it drew on</dt><dd>{}</dd></div>",
            escape(&decision.title),
            escape(decision.status.label()),
            escape(&decision.decided_by),
            decision.decision_date,
            escape(&decision.service_area),
            escape(&decision.involvement),
            decision.ladder_rung,
            ladder_name(decision.ladder_rung).unwrap_or_default(),
            found.linked_items
        );
        if let Some((percent, note, on)) = &decision.progress {
            let _ = write!(
                body,
                "<div><dt>Progress</dt><dd>{percent}% on {on}{}</dd></div>",
                if note.is_empty() { String::new() } else { format!(": {}", escape(note)) }
            );
        }
        for milestone in &decision.milestones {
            let state = milestone.met_on.map_or_else(|| format!("due {}", milestone.due), |on| format!("met {on}"));
            let _ = write!(body, "<div><dt>Milestone</dt><dd>{} ({state})</dd></div>", escape(&milestone.title));
        }
        if let Some((on, summary)) = decision.outcome_reviews.last() {
            let _ = write!(body, "<div><dt>What came of it (reviewed {on})</dt><dd>{}</dd></div>", escape(summary));
        }
        body.push_str("</dl></article>");
    }
    body.push_str("</section>");
    if !report.not_acted_on.is_empty() {
        body.push_str("<section aria-labelledby=\"not\"><h2 id=\"not\">Not acted on, and why</h2><ul>");
        for answer in &report.not_acted_on {
            let words = answer
                .text
                .as_deref()
                .map(|t| format!("<blockquote><p>{}</p></blockquote>", escape(t)))
                .unwrap_or_default();
            let _ = write!(
                body,
                "<li>{words}<p><strong>Answer ({}):</strong> {}</p></li>",
                answer.on,
                escape(&answer.reason)
            );
        }
        body.push_str("</ul></section>");
    }
    let _ = write!(
        body,
        "<footer><p>Computed at position {} of Heard's event log, chain head <code>{}</code>. Anyone holding a copy of the log can confirm later that the evidence behind this report was not rewritten: <code>heard verify --at {}</code>.</p></footer>",
        report.position,
        escape(&report.chain_head),
        report.position
    );
    page(&format!("You said, we did: {title}"), &body)
}

fn csv_response(state: &AppState, report: &Report) -> Response {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut row = |section: &str, name: &str, value: &str, detail: &str| {
        let _ = writer.write_record([section, name, value, detail]);
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
            decision.decided_by, decision.decision_date, decision.ladder_rung, found.linked_items
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
