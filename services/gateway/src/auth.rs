//! Who is asking, at the HTTP edge: the session cookie (with its CSRF token) or a bearer API
//! token, turned into a `heard_api::Viewer` for the resolvers.

use async_graphql::Data;
use async_graphql::ParseRequestError;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::Extension;
use axum::extract::ws::{CloseFrame, Message};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use heard_api::{ClientIp, ErrorCode, Viewer};
use heard_identity::{CSRF_HEADER, IdentityService, SESSION_COOKIE};
use serde_json::json;

use async_graphql::Executor as _;

use crate::state::GraphqlState;

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

/// `POST /graphql`: refuses what a browser was made to send from another site and bodies that
/// are not a GraphQL request, authenticates, checks the CSRF token for cookie sessions,
/// executes, and gives every error a code.
pub async fn graphql_post(
    State(state): State<GraphqlState>,
    client: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "send GraphQL requests as JSON, with the header Content-Type: application/json",
        );
    }
    let bearer = headers.contains_key(header::AUTHORIZATION);
    if !bearer && !crate::edge::same_origin(&headers) {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "requests from another website are refused; use Heard's own pages or an API token",
        );
    }
    let request = match request {
        Ok(request) => request,
        Err(GraphQLRejection(ParseRequestError::PayloadTooLarge)) => return too_large(),
        Err(GraphQLRejection(ParseRequestError::Io(error))) if error.to_string().contains("length limit") => {
            return too_large();
        }
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the request body is not a GraphQL request: send JSON such as {\"query\": \"{ me { id } }\"}",
            );
        }
    };
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
    let request = request.into_inner();
    if request.query.trim().is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the request has no query: send JSON such as {\"query\": \"{ me { id } }\"}",
        );
    }
    let query = request.query.clone();
    let mut request = request.data(viewer);
    if let Some(Extension(client)) = client {
        request = request.data(client);
    }
    let mut response = state.schema.execute(request).await;
    for error in &mut response.errors {
        // Parse and validation errors come from async-graphql without a code: they are the
        // client's input.
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", ErrorCode::BadUserInput.as_str());
            if let Some(field) = named_input(&error.message).or_else(|| argument_at(&query, &error.locations)) {
                extensions.set("field", field);
            }
        }
    }
    GraphQLResponse::from(response).into_response()
}

/// The argument or variable an async-graphql input error is about, so that an out-of-range
/// number names its field like every other bad input: `Invalid value for argument "first"…`
/// names `first`, `Variable "$n" got invalid value…` names `$n`.
fn named_input(message: &str) -> Option<String> {
    for marker in ["argument \"", "Variable \"", "variable \"", "field \""] {
        if let Some(start) = message.find(marker) {
            let rest = &message[start + marker.len()..];
            if let Some(end) = rest.find('"') {
                return Some(rest[..end].to_owned());
            }
        }
    }
    None
}

/// The argument whose value sits at an error's location: async-graphql reports a number out
/// of range ("Failed to parse \"Int\"") at the value, without naming the argument.
fn argument_at(query: &str, locations: &[async_graphql::Pos]) -> Option<String> {
    use async_graphql::parser::types::{Selection, SelectionSet};
    fn find(set: &SelectionSet, at: async_graphql::Pos) -> Option<String> {
        set.items.iter().find_map(|selection| match &selection.node {
            Selection::Field(field) => field
                .node
                .arguments
                .iter()
                .find(|(_, value)| value.pos == at)
                .map(|(name, _)| name.node.to_string())
                .or_else(|| find(&field.node.selection_set.node, at)),
            Selection::InlineFragment(fragment) => find(&fragment.node.selection_set.node, at),
            Selection::FragmentSpread(_) => None,
        })
    }
    let at = *locations.first()?;
    let document = async_graphql::parser::parse_query(query).ok()?;
    document
        .operations
        .iter()
        .find_map(|(_, operation)| find(&operation.node.selection_set.node, at))
        .or_else(|| document.fragments.values().find_map(|fragment| find(&fragment.node.selection_set.node, at)))
}

fn too_large() -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::BadUserInput,
        "this request is larger than Heard accepts (see http.max_body_bytes)",
    )
}

/// `GET /graphql/ws`: subscriptions over graphql-transport-ws. The viewer comes from a bearer
/// token in the `connection_init` payload (`{"authorization": "Bearer …"}`), or from the
/// session cookie when the page is on this same origin (a cross-site page cannot use it).
///
/// Before `connection_init` trusts a token or a session, this replica reads the log up to the
/// database's head (`IdentityService::catch_up`, as `credentials_current` does for HTTP), and
/// refuses the socket, without acknowledging it, when that cannot be confirmed: a token revoked
/// on another replica a moment ago never opens a socket here.
///
/// The socket lives only as long as what it came with: once that session ends or expires,
/// that token is revoked, or that account is deactivated, the server closes it (4403
/// Forbidden) and every subscription on it stops, so nothing reaches someone it no longer
/// would reach over HTTP.
pub async fn graphql_ws(
    State(state): State<GraphqlState>,
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
    let upgrade = upgrade.max_message_size(state.edge.max_body_bytes).max_frame_size(state.edge.max_body_bytes);
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |socket| async move {
        // Who the connection turned out to be, once `connection_init` has said: waited on to
        // close the socket, and checked again before every message goes out.
        let (accepted, who) = tokio::sync::oneshot::channel::<Viewer>();
        let known = std::sync::Arc::new(std::sync::OnceLock::<Viewer>::new());
        let known_at_init = known.clone();
        let watcher = identity.clone();
        let (mut to_client, from_client) = socket.split();
        // The GraphQL side writes into a channel; this task forwards it, and can still close
        // the socket itself when the viewer's credentials end.
        let (outgoing, mut queued) = futures::channel::mpsc::channel::<Message>(16);
        let serve = GraphQLWebSocket::new_with_pair(outgoing, from_client, schema, protocol)
            .on_connection_init(move |payload: serde_json::Value| async move {
                // The token comes only now, past the `credentials_current` layer: read the log up
                // to the database's head first, so that a token revoked, a session ended or an
                // account deactivated on another replica a moment ago opens nothing here.
                if identity.catch_up().await.is_err() {
                    return Err(async_graphql::Error::new(
                        "Heard cannot check your credentials just now. Try again in a few seconds.",
                    ));
                }
                let bearer = payload
                    .get("authorization")
                    .or_else(|| payload.get("Authorization"))
                    .and_then(|value| value.as_str())
                    .map(|value| value.strip_prefix("Bearer ").unwrap_or(value).to_owned());
                let viewer = match bearer {
                    Some(token) => identity
                        .authenticate_token(&token)
                        .ok_or_else(|| async_graphql::Error::new("this API token is not valid or has been revoked"))?,
                    // Checked again now that the directory has caught up.
                    None => match cookie_viewer {
                        Some(viewer) if !identity.still_valid(&viewer) => {
                            return Err(async_graphql::Error::new("your session has ended; log in again"));
                        }
                        viewer => viewer.unwrap_or_default(),
                    },
                };
                let _ = known_at_init.set(viewer.clone());
                let _ = accepted.send(viewer.clone());
                let mut data = Data::default();
                data.insert(viewer);
                Ok(data)
            })
            .serve();
        let credentials_end = async {
            match who.await {
                Ok(viewer) => watcher.credentials_end(&viewer).await,
                Err(_) => std::future::pending().await,
            }
        };
        let ended = {
            // Forwards what GraphQL sends, until it stops or the viewer's credentials end: a
            // message made after that is never sent, however the tasks were scheduled.
            let forward = async {
                while let Some(message) = queued.next().await {
                    if known.get().is_some_and(|viewer| !watcher.still_valid(viewer)) {
                        return true;
                    }
                    if to_client.send(message).await.is_err() {
                        break;
                    }
                }
                false
            };
            // Once GraphQL stops, its side of the channel closes and `forward` sends what is left.
            let serve = async {
                serve.await;
                std::future::pending::<()>().await;
            };
            tokio::select! {
                ended = forward => ended,
                () = credentials_end => true,
                () = serve => false,
            }
        };
        if ended {
            let close = CloseFrame { code: 4403, reason: "Forbidden".into() };
            let _ = to_client.send(Message::Close(Some(close))).await;
            let _ = to_client.close().await;
        }
    })
}
