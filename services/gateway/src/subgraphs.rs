//! One service alone, as an Apollo Federation v2 subgraph: `heard serve --service NAME`.
//!
//! The split deployment runs six of these over one PostgreSQL log, composed by a federation
//! gateway (Hive Gateway, `ops/federation/`). Each keeps its own read models in its own data
//! directory and answers only its own part of the schema (`schema/NAME.graphql`).
//!
//! Who is asking is checked here, by each subgraph, exactly as the single process and its
//! replicas check it: every subgraph also follows the identity service's model of the shared
//! log, and holds a copy of the first server's `secret.key`, so a session cookie, its CSRF
//! token or a bearer API token is verified locally, and before any request that carries one
//! the subgraph reads the log up to the database's head. That is why there is no signing
//! secret of the gateway's and no call to the identity service per request: a logout, a
//! revoked token or a deactivated account is refused by every subgraph at once, and a
//! subgraph that the gateway did not call cannot be reached around it with someone else's
//! credentials.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use heard_eventstore::{EventStore, ModelStore};
use heard_identity::IdentityService;
use tokio::sync::oneshot;

use crate::auth;
use crate::config::Settings;
use crate::graphql::limited;
use crate::services::{
    open_advocacy, open_commissioning, open_feedback, open_identity, open_models, open_privacy, open_rights,
};
use crate::state::{AnySchema, GraphqlState};

/// A service that runs as a subgraph of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ServiceName {
    Identity,
    Feedback,
    Rights,
    Advocacy,
    Commissioning,
    Privacy,
}

impl ServiceName {
    pub const ALL: [ServiceName; 6] = [
        ServiceName::Identity,
        ServiceName::Feedback,
        ServiceName::Rights,
        ServiceName::Advocacy,
        ServiceName::Commissioning,
        ServiceName::Privacy,
    ];

    /// Its name, as in `schema/NAME.graphql` and the supergraph.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceName::Identity => "identity",
            ServiceName::Feedback => "feedback",
            ServiceName::Rights => "rights",
            ServiceName::Advocacy => "advocacy",
            ServiceName::Commissioning => "commissioning",
            ServiceName::Privacy => "privacy",
        }
    }

    /// Its subgraph SDL, as committed in `schema/NAME.graphql`.
    pub fn sdl(self) -> String {
        match self {
            ServiceName::Identity => heard_identity::graphql::subgraph_sdl(),
            ServiceName::Feedback => heard_feedback::graphql::subgraph_sdl(),
            ServiceName::Rights => heard_rights::graphql::subgraph_sdl(),
            ServiceName::Advocacy => heard_advocacy::graphql::subgraph_sdl(),
            ServiceName::Commissioning => heard_commissioning::graphql::subgraph_sdl(),
            ServiceName::Privacy => heard_privacy::graphql::subgraph_sdl(),
        }
    }
}

/// The service a subgraph process opened beside identity, kept to wait for its follower.
enum Opened {
    Identity,
    Feedback(heard_feedback::FeedbackService),
    Rights(heard_rights::service::RightsService),
    Advocacy(heard_advocacy::service::AdvocacyService),
    Commissioning(heard_commissioning::service::CommissioningService),
    Privacy(heard_privacy::PrivacyService),
}

impl Opened {
    async fn caught_up(&self) -> bool {
        match self {
            Opened::Identity => true,
            Opened::Feedback(service) => service.caught_up().await,
            Opened::Rights(service) => service.caught_up().await,
            Opened::Advocacy(service) => service.caught_up().await,
            Opened::Commissioning(service) => service.caught_up().await,
            Opened::Privacy(service) => service.caught_up().await,
        }
    }

    async fn stopped(&self) {
        match self {
            Opened::Identity => {}
            Opened::Feedback(service) => service.stopped().await,
            Opened::Rights(service) => service.stopped().await,
            Opened::Advocacy(service) => service.stopped().await,
            Opened::Commissioning(service) => service.stopped().await,
            Opened::Privacy(service) => service.stopped().await,
        }
    }
}

/// Opens `name` (and identity, which checks who is asking) and builds its subgraph schema.
async fn open(
    name: ServiceName,
    store: &EventStore,
    settings: &Settings,
    models: &ModelStore,
) -> anyhow::Result<(IdentityService, Opened, AnySchema)> {
    let identity = open_identity(store, settings, models).await?;
    let sdl = name.sdl();
    let (opened, schema) = match name {
        ServiceName::Identity => {
            let builder = limited(heard_identity::graphql::subgraph(), store.clone(), &sdl);
            let schema = heard_identity::graphql::register(builder, identity.clone()).finish();
            (Opened::Identity, AnySchema::new(schema))
        }
        ServiceName::Feedback => {
            let feedback = open_feedback(store, settings, models, &identity).await?;
            // A withdrawal cut short between its consent change and its erasure is erased
            // now, before anything is served.
            if let Err(error) = feedback.finish_withdrawals().await {
                tracing::error!(error = %error.message(), "cannot finish a withdrawal's erasure");
            }
            let builder = limited(heard_feedback::graphql::subgraph(), store.clone(), &sdl);
            let schema = heard_feedback::graphql::register(builder, feedback.clone()).finish();
            (Opened::Feedback(feedback), AnySchema::new(schema))
        }
        ServiceName::Rights => {
            let rights = open_rights(store, settings, models).await?;
            let builder = limited(heard_rights::graphql::subgraph(), store.clone(), &sdl);
            let schema = heard_rights::graphql::register(builder, rights.clone()).finish();
            (Opened::Rights(rights), AnySchema::new(schema))
        }
        ServiceName::Advocacy => {
            let advocacy = open_advocacy(store, models).await?;
            let builder = limited(heard_advocacy::graphql::subgraph(), store.clone(), &sdl);
            let schema = heard_advocacy::graphql::register(builder, advocacy.clone()).finish();
            (Opened::Advocacy(advocacy), AnySchema::new(schema))
        }
        ServiceName::Commissioning => {
            let commissioning = open_commissioning(store, settings, models).await?;
            let builder = limited(heard_commissioning::graphql::subgraph(), store.clone(), &sdl);
            let schema = heard_commissioning::graphql::register(builder, commissioning.clone()).finish();
            (Opened::Commissioning(commissioning), AnySchema::new(schema))
        }
        ServiceName::Privacy => {
            let privacy = open_privacy(store, models).await?;
            let builder = limited(heard_privacy::graphql::subgraph(), store.clone(), &sdl);
            let schema = heard_privacy::graphql::register(builder, privacy.clone()).finish();
            (Opened::Privacy(privacy), AnySchema::new(schema))
        }
    };
    Ok((identity, opened, schema))
}

/// A subgraph that is up and listening.
pub struct RunningSubgraph {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    store: EventStore,
    identity: IdentityService,
    opened: Opened,
    shutdown: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Opens the store `settings` name, opens `name` over it, and serves its subgraph on
/// `settings.listen`: `POST /graphql`, subscriptions at `GET /graphql/ws`, `/healthz` and
/// `/readyz`. The web UI and the reports' downloads are the single process's.
pub async fn start(settings: &Settings, name: ServiceName) -> anyhow::Result<RunningSubgraph> {
    let listen = settings.listen_addr().map_err(anyhow::Error::msg)?;
    let edge = Arc::new(settings.http.limits().map_err(anyhow::Error::msg)?);
    let store = crate::services::open_store(settings).await?;
    let models = open_models(settings)?;
    let (identity, opened, schema) = match open(name, &store, settings, &models).await {
        Ok(opened) => opened,
        Err(error) => {
            let _ = store.close().await;
            return Err(error);
        }
    };
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let state = GraphqlState { identity: identity.clone(), schema, edge: edge.clone() };
    let app = router(state, store.clone());
    let (shutdown, on_shutdown) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        crate::edge::serve(listener, app, &edge, async move {
            let _ = on_shutdown.await;
        })
        .await
    });
    tracing::info!(%addr, service = name.as_str(), "heard subgraph is ready");
    Ok(RunningSubgraph { addr, store, identity, opened, shutdown, task })
}

impl RunningSubgraph {
    /// The furthest log position this subgraph has read or written.
    pub fn head(&self) -> u64 {
        self.store.head().position
    }

    /// Waits (up to 30 s, a bound for a machine under load, not a figure) until this subgraph
    /// has read the shared log up to `position` and its models have applied it: how a test (or
    /// an operator's check) knows that what was written elsewhere is answered here.
    pub async fn caught_up_with(&self, position: u64) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while self.store.head().position < position {
            if tokio::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.identity.catch_up().await.is_ok() && self.opened.caught_up().await
    }

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
        self.opened.stopped().await;
        Ok(())
    }
}

fn router(state: GraphqlState, store: EventStore) -> Router {
    let edge = state.edge.clone();
    let identity = state.identity.clone();
    let routes = Router::new()
        .route("/graphql", post(auth::graphql_post))
        .route("/graphql/ws", get(auth::graphql_ws))
        .with_state(state)
        .route("/healthz", get(crate::server::healthz))
        .route("/readyz", get(readyz).with_state(store))
        .layer(middleware::from_fn_with_state(Arc::new(edge.trusted_proxies.clone()), crate::edge::client_address));
    let routes = crate::edge::layers(routes, &edge)
        .layer(middleware::from_fn_with_state(identity, crate::server::credentials_current));
    crate::server::traced(routes)
}

/// Ready when the store answers reads.
pub(crate) async fn readyz(State(store): State<EventStore>) -> Response {
    match store.read_all(store.head().position, 1).await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "the event store is not available").into_response(),
    }
}
