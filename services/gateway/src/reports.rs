//! "You said, we did" for programs: the report as CSV, and the report asked for with an API
//! token. The page for people at the same address, `/reports/you-said-we-did`, is the web UI's
//! (`heard_frontend`): [`csv_and_tokens`] stands in front of it and answers only `?format=csv`
//! and requests carrying `Authorization`. It is not a second door: it asks the composed schema
//! the same `youSaidWeDid` question every other reader asks, as the person asking (through the
//! web UI's own [`heard_frontend::Backend`], so in the split deployment through the gateway), so the same
//! `authorize`, the same scope rules and the same suppression decide what the CSV holds
//! (commissioning's `Report::to_csv` writes it). Logged-in people (session cookie or bearer
//! token) get what they may see; anyone else, and `?public=true`, the public version: only what
//! people agreed to publish. The query string is read by the web UI's own
//! [`heard_frontend::ReportQuery`], so the page and the CSV accept and refuse the same addresses
//! with the same words; a scope naming a hub, provider or theme that does not exist is refused
//! by GraphQL (naming `scope.hub`, …), and that refusal is a 404 here, as on the page.

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use heard_api::Viewer;
use heard_frontend::ReportQuery;
use serde_json::json;

use heard_identity::IdentityService;

use crate::auth::{Credentials, credentials};

/// What the report's layer needs: who is asking, and how to ask GraphQL as them (in process in
/// the single process, through the gateway in the split deployment).
#[derive(Clone)]
pub struct Reports<B> {
    pub identity: IdentityService,
    pub backend: B,
}

/// The report's address, shared with the web UI's page.
const PATH: &str = "/reports/you-said-we-did";

/// The one question the CSV asks.
const CSV_QUERY: &str = "query YouSaidWeDidCsv($scope: ReportScopeInput!, $public: Boolean!, $asAt: String) { \
                         youSaidWeDid(scope: $scope, public: $public, asAt: $asAt) { csv } }";

/// `?asAt=YYYY-MM-DD`: the report as it stood at the end of that day. GraphQL checks it (a
/// day that is not one, or after today, is refused naming `asAt`); left out or blank, the
/// report as it stands.
#[derive(Debug, Default, serde::Deserialize)]
struct AsAt {
    #[serde(default, rename = "asAt")]
    as_at: String,
}

/// In front of the web UI: answers `/reports/you-said-we-did` here when it asks for CSV or
/// carries an API token; everything else goes on to the page.
pub async fn csv_and_tokens<B: heard_frontend::Backend>(
    State(state): State<Reports<B>>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path() != PATH {
        return next.run(request).await;
    }
    let query = Query::<ReportQuery>::try_from_uri(request.uri()).map(|query| query.0).unwrap_or_default();
    let csv = query.wants_csv();
    if !csv && !request.headers().contains_key(header::AUTHORIZATION) {
        return next.run(request).await;
    }
    let as_at = Query::<AsAt>::try_from_uri(request.uri()).map(|query| query.0.as_at).unwrap_or_default();
    let as_at = Some(as_at.trim().to_owned()).filter(|day| !day.is_empty());
    you_said_we_did(&state, request.headers(), query, as_at, csv).await
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
}

/// The HTTP status for a GraphQL error code.
fn status_of(code: Option<&str>) -> StatusCode {
    match code {
        Some("BAD_USER_INPUT") => StatusCode::BAD_REQUEST,
        Some("UNAUTHENTICATED") => StatusCode::UNAUTHORIZED,
        Some("FORBIDDEN" | "PASSWORD_CHANGE_REQUIRED") => StatusCode::FORBIDDEN,
        Some("NOT_FOUND") => StatusCode::NOT_FOUND,
        Some("CONFLICT") => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The report as CSV, as the asker may see it. With an API token only CSV is made: the page is
/// for people in a browser.
async fn you_said_we_did<B: heard_frontend::Backend>(
    state: &Reports<B>,
    headers: &HeaderMap,
    query: ReportQuery,
    as_at: Option<String>,
    csv: bool,
) -> Response {
    let viewer = match credentials(&state.identity, headers) {
        Ok(Credentials::Session(viewer) | Credentials::Token(viewer)) => viewer,
        Ok(Credentials::None) => Viewer::anonymous(),
        Err(bad) => return bad.into_response(),
    };
    if !csv {
        return refuse(
            StatusCode::BAD_REQUEST,
            "with an API token this report comes as CSV (format=csv); or ask GraphQL's youSaidWeDid",
        );
    }
    let scope = match query.scope() {
        Ok(scope) => scope,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, &message),
    };
    let variables = json!({ "scope": scope.input(), "public": scope.is_public(), "asAt": as_at });
    let request = async_graphql::Request::new(CSV_QUERY).variables(async_graphql::Variables::from_json(variables));
    let response = state.backend.execute(viewer, request).await;
    if let Some(error) = response.errors.first() {
        let code =
            error.extensions.as_ref().and_then(|extensions| extensions.get("code")).and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.as_str()),
                _ => None,
            });
        // A scope naming a hub, provider or theme that does not exist: there is no such report.
        let about_the_scope =
            error.extensions.as_ref().and_then(|extensions| extensions.get("field")).is_some_and(
                |field| matches!(field, async_graphql::Value::String(field) if field.starts_with("scope.")),
            );
        let status =
            if code == Some("BAD_USER_INPUT") && about_the_scope { StatusCode::NOT_FOUND } else { status_of(code) };
        return refuse(status, &error.message);
    }
    let data = serde_json::to_value(&response.data).unwrap_or_default();
    let body = data["youSaidWeDid"]["csv"].as_str().unwrap_or_default().to_owned();
    csv_response(body)
}

fn csv_response(body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers
        .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"you-said-we-did.csv\""));
    response
}
