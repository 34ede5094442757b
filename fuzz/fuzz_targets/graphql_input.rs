//! GraphQL requests against the real composed schema, through the real router (`POST
//! /graphql`: the JSON-only rule, credentials, the CSRF rule, the limits, execution and the
//! error codes), over a store in a temporary directory built once per process.
//!
//! An input is a flags byte and then the request. Flags (`input[0] & 3`, so `0`–`3` in a text
//! file): bit 0, send it signed in (a bearer token of a hub coordinator of `arun`); bit 1, the
//! rest is the HTTP body as it is. Otherwise the rest is the query document, then optionally a
//! NUL byte and the variables as JSON.
//!
//! Properties: nothing panics; no answer is a 500 or an `INTERNAL` error; every answer is a JSON
//! object; and an anonymous caller never gets any of the protected data planted at start (a
//! hub-only feedback item and the coordinator's account), all of which holds the word
//! [`CANARY`].

#![no_main]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use heard::Services;
use heard::metrics::{HttpMetrics, MetricsAccess};
use heard::state::AppState;
use heard_access::Role;
use heard_eventstore::{EventStore, Upcasters};
use heard_identity::NewAccount;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// In every piece of protected data planted at start, and in nothing anyone may see unsigned.
const CANARY: &str = "zqxcanaryvv";

struct App {
    runtime: tokio::runtime::Runtime,
    router: Router,
    services: Services,
    coordinator: uuid::Uuid,
    /// The coordinator's token; made again if a request revoked it.
    token: Mutex<String>,
}

static APP: LazyLock<App> = LazyLock::new(build);

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let (signed_in, raw) = (flags & 1 == 1, flags & 2 == 2);
    // A signed-in request could copy the canary into something public; only anonymous ones
    // are checked for it, and signed-in ones may not mention it.
    if signed_in && rest.windows(CANARY.len()).any(|window| window.eq_ignore_ascii_case(CANARY.as_bytes())) {
        return;
    }
    let body = if raw { rest.to_vec() } else { request_body(rest) };
    let app = &*APP;
    app.runtime.block_on(async {
        let token = if signed_in { Some(app.current_token().await) } else { None };
        let (status, answer) = app.post(body, token.as_deref()).await;
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{}", String::from_utf8_lossy(&answer));
        let json: Value = match serde_json::from_slice(&answer) {
            Ok(json) => json,
            Err(error) => panic!("the answer ({status}) is not JSON: {error}: {}", String::from_utf8_lossy(&answer)),
        };
        assert!(json.is_object(), "the answer is not a JSON object: {json}");
        let errors = json.get("errors").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        for error in errors {
            assert_ne!(error["extensions"]["code"], "INTERNAL", "an internal error: {json}");
        }
        if !signed_in {
            let text = String::from_utf8_lossy(&answer).to_lowercase();
            assert!(!text.contains(CANARY), "an anonymous caller got protected data: {json}");
        }
    });
});

/// `{"query": …, "variables": …}` from the query text and the JSON after a NUL byte.
fn request_body(rest: &[u8]) -> Vec<u8> {
    let (query, variables) = match rest.iter().position(|byte| *byte == 0) {
        Some(nul) => (&rest[..nul], Some(&rest[nul + 1..])),
        None => (rest, None),
    };
    let mut request = json!({ "query": String::from_utf8_lossy(query) });
    if let Some(variables) = variables.and_then(|text| serde_json::from_slice::<Value>(text).ok()) {
        request["variables"] = variables;
    }
    serde_json::to_vec(&request).unwrap()
}

impl App {
    async fn post(&self, body: Vec<u8>, token: Option<&str>) -> (StatusCode, Vec<u8>) {
        let mut request = Request::builder()
            .method("POST")
            .uri("/graphql")
            .header("content-type", "application/json")
            .header("host", "localhost");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let mut request = request.body(Body::from(body)).unwrap();
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("the answer is read");
        (status, bytes.to_vec())
    }

    /// The coordinator's token, made again when a request revoked it or ended the account.
    async fn current_token(&self) -> String {
        let mut token = self.token.lock().unwrap().clone();
        if self.services.identity.authenticate_token(&token).is_none() {
            match self.services.identity.create_token(self.coordinator, self.coordinator, "fuzz").await {
                Ok((_, made)) => token = made,
                // Deactivated by a request: signed-in requests go on as the stale token.
                Err(_) => return token,
            }
            *self.token.lock().unwrap() = token.clone();
        }
        token
    }
}

fn build() -> App {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let data_dir = data_dir();
    let (router, services, coordinator, token) = runtime.block_on(async {
        let settings = heard::Settings { data_dir: data_dir.clone(), ..heard::Settings::default() };
        let store = EventStore::open_configured(&data_dir, settings.store.backend, None, Upcasters::new())
            .await
            .expect("the store opens");
        let services = Services::open(&store, &settings).await.expect("the services open");
        let schema = heard::graphql::build_schema(store.clone(), &services);
        let state = AppState::new(
            store.clone(),
            &services,
            schema,
            Arc::new(HttpMetrics::new(MetricsAccess::of(&settings.metrics))),
            Arc::new(settings.http.limits().expect("the default limits")),
            settings.server.graphiql,
        );
        let router = heard::server::router(state);
        let password = format!("{}-{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let new = NewAccount {
            email: format!("{CANARY}@example.org"),
            display_name: format!("Coordinator {CANARY}"),
            roles: vec![Role::HubCoordinator],
            hubs: vec!["arun".into()],
            provider: None,
            password: Some(password),
        };
        let (account, _) = services.identity.create_account(None, new).await.expect("the coordinator is created");
        let (_, token) = services.identity.create_token(account.id, account.id, "fuzz").await.expect("a token");
        (router, services, account.id, token)
    });
    let app = App { runtime, router, services, coordinator, token: Mutex::new(token) };
    let planted = app.runtime.block_on(async {
        let token = app.current_token().await;
        let item = json!({
            "hub": "arun", "text": format!("They told me {CANARY} about the clinic"), "channel": "DROP_IN",
            "saidOn": "2026-01-05", "about": format!("{CANARY} clinic"), "speaker": "NAMED",
            "speakerName": format!("{CANARY} Smith"), "speakerContact": format!("{CANARY}@example.com"),
            "consent": "HUB",
        });
        let query = "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }";
        let body = serde_json::to_vec(&json!({ "query": query, "variables": { "i": item } })).unwrap();
        app.post(body, Some(&token)).await
    });
    assert_eq!(planted.0, StatusCode::OK, "{}", String::from_utf8_lossy(&planted.1));
    assert!(!String::from_utf8_lossy(&planted.1).contains("errors"), "{}", String::from_utf8_lossy(&planted.1));
    app
}

/// A fresh data directory for this process, in memory when `/dev/shm` is there; those of
/// earlier runs whose process is gone are removed.
fn data_dir() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let parent = if shm.is_dir() { shm.to_owned() } else { std::env::temp_dir() };
    if let Ok(entries) = std::fs::read_dir(&parent) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name.strip_prefix("heard-fuzz-graphql-") else { continue };
            if !Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = parent.join(format!("heard-fuzz-graphql-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
