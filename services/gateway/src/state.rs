//! What every HTTP handler shares.

use std::sync::Arc;

use heard_commissioning::service::CommissioningService;
use heard_eventstore::EventStore;
use heard_identity::IdentityService;

use crate::config::EdgeLimits;
use crate::graphql::HeardSchema;
use crate::metrics::HttpMetrics;
use crate::services::Services;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: EventStore,
    pub identity: IdentityService,
    pub commissioning: CommissioningService,
    /// Every service, for the web UI to wait on after a change (read your own writes).
    pub services: Services,
    pub schema: HeardSchema,
    pub http: Arc<HttpMetrics>,
    /// The edge's limits and trusted proxies (`[http]`).
    pub edge: Arc<EdgeLimits>,
    /// `[server] graphiql`: whether `GET /graphql` serves GraphiQL.
    pub graphiql: bool,
}
