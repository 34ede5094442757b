//! What every service's `graphql` module does the same way to take part in the composed schema
//! (`services/gateway/src/graphql.rs`) and to print its own federation subgraph (`schema/*.graphql`).

use std::any::Any;

use async_graphql::{ObjectType, Schema, SchemaBuilder, SubscriptionType};

/// Adds a service to a schema being built, so that its resolvers find it in the context. A
/// service whose resolvers need more (a data loader, an extension) writes its own.
pub fn register<Q, M, S, Service>(builder: SchemaBuilder<Q, M, S>, service: Service) -> SchemaBuilder<Q, M, S>
where
    Service: Any + Send + Sync,
{
    builder.data(service)
}

/// A service's root types as a federation subgraph, in SDL; a service without subscriptions
/// passes `EmptySubscription`, which prints none.
pub fn subgraph_sdl<Q, M, S>(query: Q, mutation: M, subscription: S) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Schema::build(query, mutation, subscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}
