//! The HTTP server: health, readiness, metrics and GraphQL, over one event store.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use heard_eventstore::EventStore;
use tokio::sync::oneshot;
use tower::ServiceExt as _;
use tower_http::trace::TraceLayer;

use crate::config::Settings;
use crate::graphql;
use crate::metrics::{self, HttpMetrics};
use crate::scrape;
use crate::services::Services;
use crate::state::AppState;
use crate::{auth, reports};

/// A server that is up and listening.
pub struct RunningServer {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    pub store: EventStore,
    pub services: Services,
    shutdown: oneshot::Sender<()>,
    /// The daily retention job.
    retention: tokio::task::JoinHandle<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer").field("addr", &self.addr).finish()
    }
}

/// Opens the store in `settings.data_dir`, binds `settings.listen` and starts serving. While
/// the services load their saved models and catch up with the log (or rebuild a model), the
/// listener already answers: `/healthz` with 200, `/readyz` with 503 and how far each model
/// is, anything else with 503 and a plain "starting" page. Returns once everything is served.
pub async fn start(settings: &Settings) -> anyhow::Result<RunningServer> {
    let listen = settings.listen_addr().map_err(anyhow::Error::msg)?;
    let edge = Arc::new(settings.http.limits().map_err(anyhow::Error::msg)?);
    let retention_rules = settings.retention.rules().map_err(anyhow::Error::msg)?;
    let store = crate::services::open_store(settings).await?;
    settings.backup.keep_register(&store).map_err(anyhow::Error::msg)?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let metrics_listener = bind_metrics_listener(settings).await?;
    let ready: Arc<OnceLock<Router>> = Arc::default();
    let app = until_ready(store.clone(), ready.clone());
    let (shutdown, on_shutdown) = oneshot::channel::<()>();
    let metrics_app = metrics_listener.map(|listener| (listener, metrics::listener_router(ready.clone())));
    let task = tokio::spawn(serve_listeners(listener, app, metrics_app, edge.clone(), on_shutdown));
    tracing::info!(%addr, "heard is listening and catching up with its log");
    let services = match Services::open(&store, settings).await {
        Ok(services) => services,
        Err(error) => {
            let _ = shutdown.send(());
            let _ = task.await;
            let _ = store.close().await;
            return Err(error);
        }
    };
    let schema = graphql::build_schema(store.clone(), &services);
    let state = AppState::new(
        store.clone(),
        &services,
        schema,
        Arc::new(HttpMetrics::new(metrics::MetricsAccess::of(&settings.metrics))),
        edge.clone(),
        settings.server.graphiql,
    );
    // A withdrawal cut short between its consent change and its erasure is erased now, before
    // anything is served.
    if let Err(error) = services.feedback.finish_withdrawals().await {
        tracing::error!(error = %error.message(), "cannot finish a withdrawal's erasure; the retention job tries again");
    }
    let _ = ready.set(router(state));
    let retention = spawn_retention(services.clone(), retention_rules, RETENTION_EVERY, heard_api::today);
    tracing::info!(%addr, "heard is ready");
    Ok(RunningServer { addr, store, services, shutdown, task, retention })
}

impl RunningServer {
    /// Stops accepting connections, lets requests in flight finish (up to 10 s), then flushes
    /// and closes the store.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        // An erasure cut short here completes at the next start (the privacy service destroys
        // the keys of every erasure it applies).
        self.retention.abort();
        let _ = self.retention.await;
        let _ = self.shutdown.send(());
        let mut task = self.task;
        match tokio::time::timeout(Duration::from_secs(10), &mut task).await {
            Ok(joined) => joined??,
            Err(_) => {
                tracing::warn!("connections still open after 10 s; closing them");
                task.abort();
            }
        }
        self.store.close().await?;
        self.services.stopped().await;
        tracing::info!("heard stopped; the event log is flushed");
        Ok(())
    }
}

/// How often the retention job runs.
pub const RETENTION_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// The daily retention job: at start, then `every` ([`RETENTION_EVERY`] when serving), erases
/// every record whose retention period has ended on the day `today` answers (through the same
/// path as a person's request), and finishes any withdrawal whose erasure failed. A failed run
/// is logged (no personal data: ids and counts only) and tried again the next day. `heard
/// serve` passes the real clock (`heard_api::today`); only the tests pass another.
fn spawn_retention(
    services: Services,
    rules: heard_contracts::privacy::RetentionRules,
    every: Duration,
    today: impl Fn() -> jiff::civil::Date + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every_day = tokio::time::interval(every);
        every_day.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every_day.tick().await;
            match services.apply_retention(today(), &rules, false).await {
                Ok(report) => {
                    tracing::info!(due = report.due.len(), erased = report.erased, "retention ran");
                }
                Err(error) => tracing::error!(%error, "retention could not finish; it runs again in a day"),
            }
            if let Err(error) = services.feedback.finish_withdrawals().await {
                tracing::error!(error = %error.message(), "cannot finish a withdrawal's erasure; it is tried again in a day");
            }
        }
    })
}

/// Binds `metrics.listen`, when it is set: `/metrics` is served there only.
async fn bind_metrics_listener(settings: &Settings) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    let Some(at) = settings.metrics.listen_addr().map_err(anyhow::Error::msg)? else { return Ok(None) };
    let listener = tokio::net::TcpListener::bind(at)
        .await
        .with_context(|| format!("cannot listen on {at} for /metrics (metrics.listen)"))?;
    tracing::info!(addr = %listener.local_addr()?, "/metrics is served on its own listener");
    Ok(Some(listener))
}

/// Serves the app on `listener`, and `/metrics` on its own listener when there is one, until
/// `shutdown` fires; then lets each finish what it has open.
async fn serve_listeners(
    listener: tokio::net::TcpListener,
    app: Router,
    metrics: Option<(tokio::net::TcpListener, Router)>,
    edge: Arc<crate::config::EdgeLimits>,
    shutdown: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let shutdown = futures::FutureExt::shared(shutdown);
    let stop = |signal: futures::future::Shared<oneshot::Receiver<()>>| async move {
        let _ = signal.await;
    };
    let main = crate::edge::serve(listener, app, &edge, stop(shutdown.clone()));
    match metrics {
        None => main.await,
        Some((listener, router)) => {
            let (served, metrics_served) =
                tokio::join!(main, crate::edge::serve(listener, router, &edge, stop(shutdown)));
            served.and(metrics_served)
        }
    }
}

/// Every route.
pub fn router(state: AppState) -> Router {
    // `/reports/you-said-we-did` is the web UI's page; CSV and API tokens are answered first.
    let backend = crate::web::WebBackend::new(&state);
    let reports = reports::Reports { identity: state.identity.clone(), backend: backend.clone() };
    let web = heard_frontend::router(backend).layer(middleware::from_fn_with_state(
        reports,
        reports::csv_and_tokens::<crate::web::WebBackend<crate::web::InProcess>>,
    ));
    let edge = state.edge.clone();
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_page))
        .route("/graphql", post(auth::graphql_post))
        .route("/graphql/ws", get(auth::graphql_ws))
        .merge(crate::graphiql::routes())
        .with_state(state.clone())
        .merge(web)
        .layer(middleware::from_fn_with_state(Arc::new(edge.trusted_proxies.clone()), crate::edge::client_address));
    let routes = crate::edge::layers(routes, &edge)
        .layer(middleware::from_fn_with_state(state.identity.clone(), credentials_current))
        .layer(middleware::from_fn_with_state(state.clone(), crate::hsts::strict_transport_security))
        .layer(middleware::from_fn_with_state(state, count_requests));
    traced(routes)
}

/// The outermost layers of every router Heard serves: each request gets an id and a span,
/// and each response the security headers.
pub(crate) fn traced(routes: Router) -> Router {
    routes
        .layer(middleware::from_fn(security_headers))
        .layer(
            // Spans name the method, the path and the request's id only: query strings may hold
            // search terms, and no other header is logged.
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request.extensions().get::<crate::request_id::RequestId>().map(|id| id.0.as_str());
                tracing::info_span!(
                    "http",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id = id.unwrap_or_default()
                )
            }),
        )
        .layer(middleware::from_fn(crate::request_id::assign))
}

/// Serves `ready` once it is set, and until then the answers of a server still starting.
fn until_ready(store: EventStore, ready: Arc<OnceLock<Router>>) -> Router {
    Router::new()
        .fallback(move |request: Request| {
            let ready = ready.clone();
            let store = store.clone();
            async move {
                match ready.get() {
                    Some(router) => router.clone().oneshot(request).await.into_response(),
                    None => starting(&store, request.uri().path()),
                }
            }
        })
        .layer(middleware::from_fn(security_headers))
        // While starting too; the whole app keeps the id given here.
        .layer(middleware::from_fn(crate::request_id::assign))
}

/// The answer of a server whose models are still catching up with the log.
fn starting(store: &EventStore, path: &str) -> Response {
    let head = store.head().position;
    match path {
        "/healthz" => (StatusCode::OK, "ok").into_response(),
        "/readyz" => {
            let models: Vec<serde_json::Value> = store
                .catch_up_progress()
                .into_iter()
                .map(|(model, applied)| serde_json::json!({ "model": model, "applied": applied, "of": head }))
                .collect();
            let body = serde_json::json!({ "ready": false, "events": head, "models": models });
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
        }
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "Heard is starting: it is catching up with its records. Try again in a few seconds.",
        )
            .into_response(),
    }
}

/// Before a request that carries a session cookie or an API token is answered, this replica
/// reads the log up to where the database is now (`IdentityService::catch_up`): a session
/// logged out, a token revoked or an account deactivated on another replica a moment ago is
/// refused here too. With an embedded log there is nothing to wait for.
pub(crate) async fn credentials_current(
    State(identity): State<heard_identity::IdentityService>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let carries = headers.contains_key(header::AUTHORIZATION)
        || crate::auth::cookie(headers, heard_identity::SESSION_COOKIE).is_some();
    if carries && identity.catch_up().await.is_err() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "Heard cannot check your session just now. Try again in a few seconds.",
        )
            .into_response();
    }
    next.run(request).await
}

/// Counts every response by status, and times it by the route it matched (the path
/// template, never the path itself: the label stays bounded).
async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<axum::extract::MatchedPath>().map(|path| path.as_str().to_owned());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state.http.record(response.status().as_u16());
    state.http.observe_route(route.as_deref().unwrap_or(metrics::UNMATCHED), started.elapsed());
    response
}

pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the store answers reads.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.read_all(state.store.head().position, 1).await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "the event store is not available").into_response()
        }
    }
}

/// `/metrics`, as `[metrics]` allows (see [`scrape::page`]).
async fn metrics_page(
    State(state): State<AppState>,
    on_metrics_listener: Option<axum::Extension<metrics::OnMetricsListener>>,
    headers: axum::http::HeaderMap,
) -> Response {
    scrape::page(&state, on_metrics_listener.is_some(), &headers)
}

/// The headers every response carries. A page that needs a looser Content-Security-Policy
/// sets its own.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    ));
    // Nothing is cached unless a handler says so (only GraphiQL's vendored, versioned files do).
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;

    use super::*;

    async fn get(app: &Router, path: &str) -> (StatusCode, Option<String>, String) {
        let response = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let retry = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, retry, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn while_the_models_catch_up_readyz_says_how_far_each_is_and_everything_else_asks_to_try_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = EventStore::open(dir.path(), heard_eventstore::Upcasters::new()).unwrap();
        let ready: Arc<OnceLock<Router>> = Arc::default();
        let app = until_ready(store.clone(), ready.clone());
        let (status, _, body) = get(&app, "/healthz").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"), "alive while starting");
        let _model = heard_eventstore::LiveModel::<Nothing>::start("nothing", store.clone(), Duration::from_secs(10))
            .await
            .unwrap();
        let (status, _, body) = get(&app, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let progress: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(progress["ready"], false);
        assert_eq!(progress["models"][0]["model"], "nothing", "{progress}");
        assert_eq!(progress["models"][0]["applied"], 0);
        assert_eq!(progress["models"][0]["of"], 0);
        let (status, retry, body) = get(&app, "/graphql").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry.as_deref(), Some("5"));
        assert!(body.contains("Heard is starting"), "{body}");
        // Once ready, every request goes to the whole app.
        let _ = ready.set(Router::new().route("/graphql", get_route()));
        let (status, _, body) = get(&app, "/graphql").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "the whole app"));
        store.close().await.unwrap();
    }

    /// Logs an item of Arun's said on `said_on` and kept to the hub, straight through the
    /// feedback service.
    async fn logged(services: &Services, said_on: &str, text: &str) -> uuid::Uuid {
        let new = heard_feedback::domain::NewItem {
            hub: "arun".into(),
            channel: Some(heard_feedback::domain::Channel::DropIn),
            speaker: Some(heard_feedback::domain::SpeakerKind::Anonymous),
            consent: Some(heard_access::Consent::Hub),
            said_on: said_on.into(),
            text: text.into(),
            ..Default::default()
        };
        services.feedback.log(uuid::Uuid::new_v4(), new).await.unwrap().logged.item
    }

    #[tokio::test]
    async fn the_retention_job_counts_periods_to_the_day_its_clock_says_and_finishes_a_withdrawal_cut_short() {
        use heard_contracts::Event as _;
        use heard_contracts::privacy::{ErasureReason, RecordKind, RecordRef, RetentionRules, SubjectErased};
        use heard_eventstore::{ExpectedRevision, NewEvent, StreamName};

        let dir = tempfile::tempdir().unwrap();
        let settings = Settings { data_dir: dir.path().to_owned(), ..Settings::default() };
        let store = EventStore::open(dir.path(), heard_eventstore::Upcasters::new()).unwrap();
        let hub = heard_contracts::identity::HubAdded {
            hub: "arun".into(),
            name: "Arun".into(),
            kind: heard_contracts::identity::HubKind::Hub,
            area: "West Sussex".into(),
        };
        type Hub = heard_contracts::identity::HubAdded;
        let event = NewEvent::new(Hub::TYPE, Hub::VERSION, &hub).unwrap();
        store
            .append(&StreamName::of(Hub::CATEGORY, "arun").unwrap(), ExpectedRevision::Any, vec![event])
            .await
            .unwrap();
        let services = Services::open(&store, &settings).await.unwrap();
        let old = logged(&services, "2026-01-05", "the Merrowdown hatch never opened").await;
        let today = heard_api::today();
        let recent = today.checked_sub(jiff::Span::new().days(10)).unwrap().to_string();
        let withdrawn = logged(&services, &recent, "the Tolliver clinic lost my script").await;
        // A withdrawal within six months whose process stopped before the erasure.
        let changed = heard_contracts::feedback::ConsentChanged { consent: None, by: uuid::Uuid::new_v4() };
        type Changed = heard_contracts::feedback::ConsentChanged;
        let event = NewEvent::new(Changed::TYPE, Changed::VERSION, &changed).unwrap();
        let stream = StreamName::of(Changed::CATEGORY, withdrawn).unwrap();
        store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
        assert!(services.feedback.caught_up().await);

        // The job's clock says 1 June 2026 (nothing is two years old), and runs every 50 ms.
        let clock = Arc::new(std::sync::Mutex::new((jiff::civil::date(2026, 6, 1), 0_usize)));
        let asked = clock.clone();
        let job = spawn_retention(services.clone(), RetentionRules::default(), Duration::from_millis(50), move || {
            let mut clock = asked.lock().unwrap();
            clock.1 += 1;
            clock.0
        });
        let runs = || clock.lock().unwrap().1;
        let started = std::time::Instant::now();
        // The second run has begun: the first one is done.
        while runs() < 2 {
            assert!(started.elapsed() < Duration::from_secs(10), "the job never ran twice");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!services.feedback.item(old).unwrap().erased, "not due on 1 June 2026");
        let finished = services.feedback.item(withdrawn).unwrap();
        assert!(finished.erased && finished.text.is_none(), "the withdrawal cut short is finished by the job");

        // Two and a half years later by the clock, the next run erases the old item.
        clock.lock().unwrap().0 = jiff::civil::date(2028, 6, 1);
        let started = std::time::Instant::now();
        while !services.feedback.item(old).unwrap().erased {
            assert!(started.elapsed() < Duration::from_secs(10), "the job never erased what its clock made due");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        job.abort();
        let _ = job.await;
        let erasures = store.read_category(SubjectErased::CATEGORY, 0, 10).await.unwrap();
        let erasures: Vec<SubjectErased> = erasures.iter().map(|event| event.decode().unwrap()).collect();
        assert_eq!(erasures.len(), 2, "{erasures:?}");
        assert_eq!(erasures[0].records, vec![RecordRef { kind: RecordKind::FeedbackItem, id: withdrawn }]);
        assert_eq!(erasures[0].reason, ErasureReason::WithdrewWithinSixMonths);
        assert_eq!(erasures[0].asked_by, Some(changed.by));
        assert_eq!(erasures[1].records, vec![RecordRef { kind: RecordKind::FeedbackItem, id: old }]);
        assert_eq!((erasures[1].reason, erasures[1].asked_by), (ErasureReason::RetentionPeriodEnded, None));
        store.close().await.unwrap();
        services.stopped().await;
    }

    #[derive(Default)]
    struct Nothing;

    impl heard_eventstore::Fold for Nothing {
        fn apply(&mut self, _: &heard_eventstore::RecordedEvent) -> heard_eventstore::Result<()> {
            Ok(())
        }
    }

    fn get_route() -> axum::routing::MethodRouter {
        axum::routing::get(|| async { "the whole app" })
    }
}
