//! The web UI's view of the server: who is asking (the session cookie only: pages are for
//! people, not integrations), the CSRF check, and GraphQL run in process on the served schema.

use axum::http::HeaderMap;
use heard_api::Viewer;
use heard_identity::IdentityService;

use crate::auth::{Credentials, credentials};
use crate::graphql::HeardSchema;
use crate::server::AppState;

#[derive(Clone)]
pub struct WebBackend {
    schema: HeardSchema,
    identity: IdentityService,
}

impl WebBackend {
    pub fn new(state: &AppState) -> WebBackend {
        WebBackend { schema: state.schema.clone(), identity: state.identity.clone() }
    }
}

impl heard_frontend::Backend for WebBackend {
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

    async fn execute(&self, viewer: Viewer, request: async_graphql::Request) -> async_graphql::Response {
        self.schema.execute(request.data(viewer)).await
    }
}
