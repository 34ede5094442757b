//! Who is asking, at the HTTP edge: the session cookie (with its CSRF token) or a bearer API
//! token, turned into a `heard_api::Viewer` for the resolvers.

use std::net::SocketAddr;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use heard_api::{ClientIp, ErrorCode, Viewer};
use heard_identity::{CSRF_HEADER, IdentityService, SESSION_COOKIE};
use serde_json::json;

use crate::server::AppState;

/// How a request proved who it is.
#[derive(Debug)]
pub enum Credentials {
    /// Nothing (or an expired or unknown session cookie): anonymous.
    None,
    Session(Viewer),
    Token(Viewer),
}

/// A bearer token was sent but is not valid: the client meant to authenticate and must be told.
#[derive(Debug)]
pub struct BadToken;

impl IntoResponse for BadToken {
    fn into_response(self) -> Response {
        refuse(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, "this API token is not valid or has been revoked")
    }
}

/// An HTTP-level refusal, shaped like a GraphQL response so every client can read it.
fn refuse(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    (
        status,
        axum::Json(
            json!({ "data": null, "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] }),
        ),
    )
        .into_response()
}

/// A cookie's value from the `Cookie` header(s).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Reads the credentials of a request. A bearer token that is wrong is an error (the client
/// meant to authenticate); a stale session cookie just means "not logged in".
pub fn credentials(identity: &IdentityService, headers: &HeaderMap) -> Result<Credentials, BadToken> {
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        let token = authorization.to_str().ok().and_then(|value| value.strip_prefix("Bearer "));
        return token.and_then(|token| identity.authenticate_token(token)).map(Credentials::Token).ok_or(BadToken);
    }
    Ok(match cookie(headers, SESSION_COOKIE).and_then(|value| identity.authenticate_cookie(value)) {
        Some(viewer) => Credentials::Session(viewer),
        None => Credentials::None,
    })
}

/// `POST /graphql`: authenticates, checks the CSRF token for cookie sessions, executes, and
/// gives every error a code.
pub async fn graphql_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let viewer = match credentials(&state.identity, &headers) {
        Err(bad) => return bad.into_response(),
        Ok(Credentials::None) => Viewer::anonymous(),
        Ok(Credentials::Token(viewer)) => viewer,
        Ok(Credentials::Session(viewer)) => {
            let session = viewer.session.unwrap_or_default();
            let given = headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok()).unwrap_or("");
            if !state.identity.csrf_matches(session, given) {
                return refuse(
                    StatusCode::FORBIDDEN,
                    ErrorCode::Forbidden,
                    "a request made with the session cookie needs the X-CSRF-Token header from login",
                );
            }
            viewer
        }
    };
    let request = request.into_inner().data(viewer).data(ClientIp(peer.ip()));
    let mut response = state.schema.execute(request).await;
    for error in &mut response.errors {
        // Parse and validation errors come from async-graphql without a code: they are the
        // client's input.
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", ErrorCode::BadUserInput.as_str());
        }
    }
    GraphQLResponse::from(response).into_response()
}

/// `GET /graphql/ws`: subscriptions over graphql-transport-ws. The viewer comes from a bearer
/// token in the `connection_init` payload (`{"authorization": "Bearer …"}`), or from the
/// session cookie when the page is on this same origin (a cross-site page cannot use it).
pub async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let same_origin = match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        (Some(origin), Some(host)) => origin
            .to_str()
            .ok()
            .and_then(|origin| origin.split_once("://"))
            .is_some_and(|(_, origin_host)| Some(origin_host) == host.to_str().ok()),
        (None, _) => true, // not a browser
        _ => false,
    };
    let cookie_viewer = match credentials(&state.identity, &headers) {
        Ok(Credentials::Session(viewer)) if same_origin => Some(viewer),
        Ok(Credentials::Token(viewer)) => Some(viewer),
        Err(bad) => return bad.into_response(),
        _ => None,
    };
    let identity = state.identity.clone();
    let schema = state.schema.clone();
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |stream| {
        GraphQLWebSocket::new(stream, schema, protocol)
            .on_connection_init(move |payload: serde_json::Value| async move {
                let bearer = payload
                    .get("authorization")
                    .or_else(|| payload.get("Authorization"))
                    .and_then(|value| value.as_str())
                    .map(|value| value.strip_prefix("Bearer ").unwrap_or(value).to_owned());
                let viewer = match bearer {
                    Some(token) => identity
                        .authenticate_token(&token)
                        .ok_or_else(|| async_graphql::Error::new("this API token is not valid or has been revoked"))?,
                    None => cookie_viewer.unwrap_or_default(),
                };
                let mut data = Data::default();
                data.insert(viewer);
                Ok(data)
            })
            .serve()
    })
}
