//! What every service's `graphql` module does the same way to take part in the composed schema
//! (`services/gateway/src/graphql.rs`) and to run as a federation subgraph of its own
//! (`heard serve --service NAME`, `schema/NAME.graphql`).

use std::any::Any;

use async_graphql::{ObjectType, SchemaBuilder, SubscriptionType};

/// Adds a service to a schema being built, so that its resolvers find it in the context. A
/// service whose resolvers need more (a data loader, an extension) writes its own.
pub fn register<Q, M, S, Service>(builder: SchemaBuilder<Q, M, S>, service: Service) -> SchemaBuilder<Q, M, S>
where
    Service: Any + Send + Sync,
{
    builder.data(service)
}

/// A subgraph's schema as Apollo Federation v2 wants it: `_service`, `_entities`, and
/// subscriptions kept.
pub fn federated<Q, M, S>(builder: SchemaBuilder<Q, M, S>) -> SchemaBuilder<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    builder.enable_federation().enable_subscription_in_federation()
}

/// A subgraph's SDL, as committed in `schema/NAME.graphql` and composed into the supergraph.
pub fn sdl<Q, M, S>(builder: SchemaBuilder<Q, M, S>) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    federated(builder).finish().sdl_with_options(async_graphql::SDLExportOptions::new().federation())
}

/// A service's root types under the names federation composes (`Query`, `Mutation`,
/// `Subscription`): `SubgraphQuery`, `SubgraphMutation` (and `SubgraphSubscription`), the
/// schema type `Subgraph`, `subgraph()` (its builder, federated) and `subgraph_sdl()`.
#[macro_export]
macro_rules! subgraph_roots {
    (@roots $query:ty, $mutation:ty) => {
        /// This service's queries, as its subgraph's `Query`.
        #[derive(async_graphql::MergedObject, Default)]
        #[graphql(name = "Query")]
        pub struct SubgraphQuery($query);

        /// This service's mutations, as its subgraph's `Mutation`.
        #[derive(async_graphql::MergedObject, Default)]
        #[graphql(name = "Mutation")]
        pub struct SubgraphMutation($mutation);

        /// This service as a federation subgraph (`schema/` holds its SDL).
        pub fn subgraph_sdl() -> String {
            $crate::subgraph::sdl(subgraph())
        }
    };
    ($query:ty, $mutation:ty) => {
        $crate::subgraph_roots!(@roots $query, $mutation);

        /// This service's schema when it runs alone (`heard serve --service`).
        pub type Subgraph = async_graphql::Schema<SubgraphQuery, SubgraphMutation, async_graphql::EmptySubscription>;

        /// The builder of [`Subgraph`], federated.
        pub fn subgraph() -> async_graphql::SchemaBuilder<SubgraphQuery, SubgraphMutation, async_graphql::EmptySubscription> {
            $crate::subgraph::federated(async_graphql::Schema::build(
                SubgraphQuery::default(),
                SubgraphMutation::default(),
                async_graphql::EmptySubscription,
            ))
        }
    };
    ($query:ty, $mutation:ty, $subscription:ty) => {
        $crate::subgraph_roots!(@roots $query, $mutation);

        /// This service's subscriptions, as its subgraph's `Subscription`.
        #[derive(async_graphql::MergedSubscription, Default)]
        #[graphql(name = "Subscription")]
        pub struct SubgraphSubscription($subscription);

        /// This service's schema when it runs alone (`heard serve --service`).
        pub type Subgraph = async_graphql::Schema<SubgraphQuery, SubgraphMutation, SubgraphSubscription>;

        /// The builder of [`Subgraph`], federated.
        pub fn subgraph() -> async_graphql::SchemaBuilder<SubgraphQuery, SubgraphMutation, SubgraphSubscription> {
            $crate::subgraph::federated(async_graphql::Schema::build(
                SubgraphQuery::default(),
                SubgraphMutation::default(),
                SubgraphSubscription::default(),
            ))
        }
    };
}
