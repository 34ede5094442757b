//! The composed GraphQL schema. For now it holds store statistics; each service adds its own
//! part here as it arrives.

use std::time::Duration;

use async_graphql::{EmptyMutation, Object, Schema, SimpleObject, Subscription};
use futures::Stream;
use heard_eventstore::EventStore;

/// The schema served at `/graphql`.
pub type HeardSchema = Schema<QueryRoot, EmptyMutation, SubscriptionRoot>;

/// Facts about the event log that anyone may see: no content, only counts and the chain head.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct StoreStats {
    /// Events in the global log.
    pub events: u64,
    /// Position of the last event (equal to `events`; positions start at 1).
    pub head_position: u64,
    /// Hex SHA-256 of the last event: quote it to prove later that the log was not rewritten.
    pub chain_head: String,
}

impl StoreStats {
    fn of(store: &EventStore) -> Self {
        let head = store.head();
        StoreStats { events: head.position, head_position: head.position, chain_head: hex::encode(head.hash) }
    }
}

#[derive(Default)]
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// Event count, head position and chain head of the event log.
    async fn store_stats(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<StoreStats> {
        Ok(StoreStats::of(ctx.data::<EventStore>()?))
    }
}

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// The store statistics now, and again whenever the log grows (at most every 100 ms).
    async fn store_stats(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = StoreStats>> {
        let store = ctx.data::<EventStore>()?.clone();
        let head = store.watch_head();
        Ok(futures::stream::unfold((store, head, true), |(store, mut head, first)| async move {
            if !first {
                head.changed().await.ok()?;
                tokio::time::sleep(Duration::from_millis(100)).await;
                head.mark_unchanged();
            }
            Some((StoreStats::of(&store), (store, head, false)))
        }))
    }
}

/// Builds the schema with its limits.
pub fn build_schema(store: EventStore) -> HeardSchema {
    Schema::build(QueryRoot, EmptyMutation, SubscriptionRoot).data(store).limit_depth(12).limit_complexity(500).finish()
}

/// The SDL of the composed schema, as committed in `schema/heard.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot, EmptyMutation, SubscriptionRoot).finish().sdl()
}
