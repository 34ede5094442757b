//! The web UI's view of the server: who is asking (the session cookie only: pages are for
//! people, not integrations), the CSRF check, the session's flash (a one-shot message signed
//! with the session, `heard_flash`), and GraphQL run in process on the served schema, or, in
//! the split deployment, through the gateway (`crate::web_split`).
//!
//! A page reads its own writes: after a form's mutation succeeds, the page that follows is
//! rendered only once every service's model has applied the log up to that change, so an item
//! someone just acknowledged in one service no longer shows as waiting in another.

use axum::http::HeaderMap;
use heard_api::Viewer;
use heard_eventstore::EventStore;
use heard_identity::IdentityService;

use crate::auth::{Credentials, credentials};
use crate::graphql::HeardSchema;
use crate::services::Services;
use crate::state::AppState;

/// How the web UI runs a page's GraphQL as the person looking: in process ([`InProcess`]) or
/// through the federation gateway (`crate::web_split::ThroughGateway`).
pub trait RunGraphql: Clone + Send + Sync + 'static {
    fn run(
        &self,
        viewer: Viewer,
        request: async_graphql::Request,
    ) -> impl std::future::Future<Output = async_graphql::Response> + Send;
}

/// The web UI's [`heard_frontend::Backend`]: who is asking, the CSRF check, the flash and the
/// pages shown once all come from the identity service; GraphQL runs as `R` runs it.
#[derive(Clone)]
pub struct WebBackend<R> {
    identity: IdentityService,
    graphql: R,
}

impl<R: RunGraphql> WebBackend<R> {
    pub fn with(identity: IdentityService, graphql: R) -> Self {
        WebBackend { identity, graphql }
    }
}

impl WebBackend<InProcess> {
    pub fn new(state: &AppState) -> Self {
        WebBackend::with(
            state.identity.clone(),
            InProcess { schema: state.schema.clone(), store: state.store.clone(), services: state.services.clone() },
        )
    }
}

/// GraphQL run in process on the served schema, a page reading its own writes.
#[derive(Clone)]
pub struct InProcess {
    schema: HeardSchema,
    store: EventStore,
    services: Services,
}

impl InProcess {
    /// Waits (a few seconds at most) for every service's model to apply the log up to now.
    async fn settle(&self) {
        let head = self.store.head().position;
        let services = &self.services;
        let within = std::time::Duration::from_secs(5);
        let all = async {
            tokio::join!(
                services.feedback.wait_searchable(head, within),
                services.rights.caught_up(),
                services.advocacy.caught_up(),
                services.commissioning.caught_up(),
            )
        };
        if tokio::time::timeout(within, all).await.is_err() {
            tracing::warn!(position = head, "a page was rendered before every model caught up");
        }
    }
}

impl RunGraphql for InProcess {
    async fn run(&self, viewer: Viewer, request: async_graphql::Request) -> async_graphql::Response {
        let changes = request.query.trim_start().starts_with("mutation");
        let response = self.schema.execute(request.data(viewer)).await;
        if changes && response.errors.is_empty() {
            self.settle().await;
        }
        response
    }
}

impl<R: RunGraphql> heard_frontend::Backend for WebBackend<R> {
    fn viewer(&self, headers: &HeaderMap) -> Viewer {
        match credentials(&self.identity, headers) {
            Ok(Credentials::Session(viewer)) => viewer,
            _ => Viewer::anonymous(),
        }
    }

    fn csrf_token(&self, headers: &HeaderMap) -> Option<String> {
        crate::auth::cookie(headers, heard_identity::CSRF_COOKIE).map(str::to_owned)
    }

    fn csrf_matches(&self, viewer: &Viewer, token: &str) -> bool {
        viewer.session.is_some_and(|session| self.identity.csrf_matches(session, token))
    }

    fn login_challenge(&self) -> (String, String) {
        self.identity.login_challenge()
    }

    fn login_form_is_ours(&self, headers: &HeaderMap, token: &str) -> bool {
        crate::edge::same_origin(headers)
            && crate::auth::cookie(headers, heard_identity::LOGIN_COOKIE)
                .is_some_and(|visit| self.identity.login_token_matches(visit, token))
    }

    fn flash_cookie(&self, viewer: &Viewer, payload: &str) -> Option<String> {
        viewer.session.map(|session| self.identity.flash_cookie(session, payload))
    }

    fn flash(&self, viewer: &Viewer, headers: &HeaderMap) -> Option<String> {
        let session = viewer.session?;
        let value = crate::auth::cookie(headers, heard_identity::FLASH_COOKIE)?;
        self.identity.open_flash(session, value)
    }

    fn forget_flash(&self, headers: &HeaderMap) -> Option<String> {
        crate::auth::cookie(headers, heard_identity::FLASH_COOKIE).map(|_| self.identity.forget_flash_cookie())
    }

    async fn keep_once(&self, session: uuid::Uuid, slot: &str, shown: String) {
        self.identity.keep_once(session, slot, &shown).await;
    }

    async fn take_once(&self, session: uuid::Uuid, slot: &str) -> Option<String> {
        self.identity.take_once(session, slot).await
    }

    async fn execute(&self, viewer: Viewer, request: async_graphql::Request) -> async_graphql::Response {
        self.graphql.run(viewer, request).await
    }
}
