//! What every HTTP handler shares.

use std::sync::Arc;

use async_graphql::futures_util::future::BoxFuture;
use async_graphql::futures_util::stream::BoxStream;
use async_graphql::{Data, Executor, ObjectType, Request, Response, Schema, SubscriptionType};
use axum::extract::FromRef;
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
    /// What `/graphql` and `/graphql/ws` need: the same schema, as any schema.
    pub graphql: GraphqlState,
    pub http: Arc<HttpMetrics>,
    /// The edge's limits and trusted proxies (`[http]`).
    pub edge: Arc<EdgeLimits>,
    /// `[server] graphiql`: whether `GET /graphql` serves GraphiQL.
    pub graphiql: bool,
}

impl AppState {
    /// The state of the single process: every service over `store`, `schema` served.
    pub fn new(
        store: EventStore,
        services: &Services,
        schema: HeardSchema,
        http: Arc<HttpMetrics>,
        edge: Arc<EdgeLimits>,
        graphiql: bool,
    ) -> Self {
        AppState {
            store,
            identity: services.identity.clone(),
            commissioning: services.commissioning.clone(),
            services: services.clone(),
            graphql: GraphqlState {
                identity: services.identity.clone(),
                schema: AnySchema::new(schema.clone()),
                edge: edge.clone(),
            },
            schema,
            http,
            edge,
            graphiql,
        }
    }
}

/// What `POST /graphql` and `GET /graphql/ws` need, in the single process (the composed
/// schema) and in a service running alone (its subgraph).
#[derive(Clone)]
pub struct GraphqlState {
    /// Who is asking is checked against the identity service's model.
    pub identity: IdentityService,
    pub schema: AnySchema,
    pub edge: Arc<EdgeLimits>,
}

impl FromRef<AppState> for GraphqlState {
    fn from_ref(state: &AppState) -> Self {
        state.graphql.clone()
    }
}

/// A schema of any root types: the composed one or one service's subgraph.
#[derive(Clone)]
pub struct AnySchema(Arc<dyn Run>);

impl AnySchema {
    pub fn new<Q, M, S>(schema: Schema<Q, M, S>) -> Self
    where
        Q: ObjectType + 'static,
        M: ObjectType + 'static,
        S: SubscriptionType + 'static,
    {
        AnySchema(Arc::new(schema))
    }
}

/// [`Executor`] without its generic methods, so that it can be held as `dyn`.
trait Run: Send + Sync {
    fn run(&self, request: Request) -> BoxFuture<'static, Response>;
    fn run_stream(&self, request: Request, session: Option<Arc<Data>>) -> BoxStream<'static, Response>;
}

impl<Q, M, S> Run for Schema<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    fn run(&self, request: Request) -> BoxFuture<'static, Response> {
        let schema = self.clone();
        Box::pin(async move { schema.execute(request).await })
    }

    fn run_stream(&self, request: Request, session: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        Executor::execute_stream(self, request, session)
    }
}

impl Executor for AnySchema {
    fn execute(&self, request: Request) -> impl Future<Output = Response> + Send {
        self.0.run(request)
    }

    fn execute_stream(&self, request: Request, session: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        self.0.run_stream(request, session)
    }
}
