//! The web UI in the split deployment: `heard serve --web-through GATEWAY_URL`.
//!
//! The pages are the same as in the single process (`heard_frontend`); only their
//! [`heard_frontend::Backend`] differs. Who is asking comes from the identity model of the
//! shared log, which this process follows like every subgraph; every GraphQL request a page
//! makes goes over HTTP to the federation gateway, carrying the browser's own session cookie
//! and CSRF token, and the client's address, so that each subgraph decides exactly as if the
//! browser had asked it. This process runs nothing in process but identity's checks, and can
//! show nobody anything the gateway would not.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_graphql::{ErrorExtensionValues, ServerError};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use heard_api::{ClientIp, ErrorCode, Viewer};
use heard_eventstore::EventStore;
use heard_identity::IdentityService;
use tokio::sync::oneshot;

use crate::config::Settings;
use crate::services::{open_identity, open_models};
use crate::web::{RunGraphql, WebBackend};

tokio::task_local! {
    /// What the browser's request carried that the gateway must see too: its cookies, its
    /// CSRF cookie (the token GraphQL wants in `X-CSRF-Token`) and its address.
    static ASKING: Asking;
}

#[derive(Clone, Default)]
struct Asking {
    authorization: Option<HeaderValue>,
    cookie: Option<HeaderValue>,
    csrf: Option<String>,
    client: Option<ClientIp>,
}

/// GraphQL sent to the federation gateway: see the module's documentation.
#[derive(Clone)]
pub struct ThroughGateway {
    client: reqwest::Client,
    url: Arc<str>,
}

impl ThroughGateway {
    /// Pages send GraphQL to `url` (the gateway's `/graphql`).
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("cannot make an HTTP client for the gateway")?;
        Ok(ThroughGateway { client, url: url.into() })
    }

    async fn send(&self, viewer: &Viewer, request: async_graphql::Request) -> Result<async_graphql::Response, String> {
        let asking = ASKING.try_with(Clone::clone).unwrap_or_default();
        let body = serde_json::json!({
            "query": request.query,
            "variables": request.variables,
            "operationName": request.operation_name,
        });
        let mut post = self.client.post(&*self.url).json(&body);
        // Credentials only with the person the page was rendered for: an anonymous page
        // (the login form's mutation) asks anonymously.
        if viewer.session.is_some() {
            if let Some(cookie) = asking.cookie {
                post = post.header(header::COOKIE, cookie);
            }
            if let Some(csrf) = asking.csrf {
                post = post.header(heard_identity::CSRF_HEADER, csrf);
            }
        }
        // A program's API token (the report's CSV), with the viewer it made.
        if viewer.token.is_some()
            && let Some(authorization) = asking.authorization
        {
            post = post.header(header::AUTHORIZATION, authorization);
        }
        if let Some(ClientIp(address)) = asking.client {
            post = post.header("x-forwarded-for", address.to_string());
        }
        let answer = post.send().await.map_err(|error| format!("the gateway did not answer: {error}"))?;
        let cookies: Vec<HeaderValue> = answer.headers().get_all(header::SET_COOKIE).iter().cloned().collect();
        let body: serde_json::Value = answer.json().await.map_err(|_| "the gateway's answer is not JSON".to_owned())?;
        let data = body.get("data").cloned().unwrap_or(serde_json::Value::Null);
        let mut response = async_graphql::Response::new(
            async_graphql::Value::from_json(data).map_err(|_| "the gateway's data cannot be read".to_owned())?,
        );
        if let Some(errors) = body.get("errors") {
            response.errors =
                serde_json::from_value(errors.clone()).map_err(|_| "the gateway's errors cannot be read")?;
        }
        for cookie in cookies {
            response.http_headers.append(header::SET_COOKIE, cookie);
        }
        Ok(response)
    }
}

impl RunGraphql for ThroughGateway {
    async fn run(&self, viewer: Viewer, request: async_graphql::Request) -> async_graphql::Response {
        match self.send(&viewer, request).await {
            Ok(response) => response,
            Err(why) => {
                tracing::warn!(%why, "the web UI cannot reach the gateway");
                let mut error =
                    ServerError::new("Heard cannot reach its services just now. Try again in a few seconds.", None);
                let mut extensions = ErrorExtensionValues::default();
                extensions.set("code", ErrorCode::Unavailable.as_str());
                error.extensions = Some(extensions);
                async_graphql::Response::from_errors(vec![error])
            }
        }
    }
}

/// Keeps what the browser's request carried for the page's GraphQL requests.
async fn remember_asking(request: Request, next: Next) -> Response {
    let asking = Asking {
        authorization: request.headers().get(header::AUTHORIZATION).cloned(),
        cookie: request.headers().get(header::COOKIE).cloned(),
        csrf: crate::auth::cookie(request.headers(), heard_identity::CSRF_COOKIE).map(str::to_owned),
        client: request.extensions().get::<ClientIp>().copied(),
    };
    ASKING.scope(asking, next.run(request)).await
}

/// The web UI of the split deployment, up and listening.
pub struct RunningWeb {
    pub addr: SocketAddr,
    store: EventStore,
    identity: IdentityService,
    shutdown: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Opens the store `settings` names (PostgreSQL, shared with the subgraphs), follows identity's
/// model, and serves the web UI on `settings.listen`, its GraphQL sent to `gateway`.
pub async fn start(settings: &Settings, gateway: &str) -> anyhow::Result<RunningWeb> {
    let listen = settings.listen_addr().map_err(anyhow::Error::msg)?;
    let edge = Arc::new(settings.http.limits().map_err(anyhow::Error::msg)?);
    let store = crate::services::open_store(settings).await?;
    let models = open_models(settings)?;
    let identity = match open_identity(&store, settings, &models).await {
        Ok(identity) => identity,
        Err(error) => {
            let _ = store.close().await;
            return Err(error);
        }
    };
    let backend = WebBackend::with(identity.clone(), ThroughGateway::new(gateway)?);
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let reports = crate::reports::Reports { identity: identity.clone(), backend: backend.clone() };
    let routes = heard_frontend::router(backend)
        .layer(middleware::from_fn_with_state(reports, crate::reports::csv_and_tokens::<WebBackend<ThroughGateway>>))
        .layer(middleware::from_fn(remember_asking))
        .route("/healthz", get(crate::server::healthz))
        .route("/readyz", get(crate::subgraphs::readyz).with_state(store.clone()))
        .layer(middleware::from_fn_with_state(Arc::new(edge.trusted_proxies.clone()), crate::edge::client_address));
    let routes = crate::edge::layers(routes, &edge)
        .layer(middleware::from_fn_with_state(identity.clone(), crate::server::credentials_current));
    let app = crate::server::traced(routes);
    let (shutdown, on_shutdown) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        crate::edge::serve(listener, app, &edge, async move {
            let _ = on_shutdown.await;
        })
        .await
    });
    tracing::info!(%addr, "heard's web UI is ready");
    Ok(RunningWeb { addr, store, identity, shutdown, task })
}

impl RunningWeb {
    /// Stops accepting connections, lets requests in flight finish (up to 10 s), then closes
    /// the store.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        let mut task = self.task;
        match tokio::time::timeout(Duration::from_secs(10), &mut task).await {
            Ok(joined) => joined??,
            Err(_) => task.abort(),
        }
        self.store.close().await?;
        self.identity.stopped().await;
        Ok(())
    }
}
