//! The composed GraphQL schema: every service's part, merged, served at `/graphql`.
//!
//! Each service crate exposes its own query and mutation roots (and, separately, its
//! federation subgraph SDL); this module only merges them. `storeStats` is the gateway's own.

use std::time::Duration;

use async_graphql::{MergedObject, MergedSubscription, Object, Schema, SimpleObject, Subscription};
use futures::Stream;
use heard_advocacy::graphql::{AdvocacyMutation, AdvocacyQuery};
use heard_advocacy::held::CasesHeld;
use heard_api::entity::Owners;
use heard_commissioning::graphql::{CommissioningMutation, CommissioningQuery};
use heard_eventstore::EventStore;
use heard_feedback::graphql::{FeedbackMutation, FeedbackQuery, FeedbackSubscription};
use heard_feedback::held::FeedbackHeld;
use heard_identity::held::AccessHeld;
use heard_identity::{IdentityMutation, IdentityQuery};
use heard_privacy::graphql::{PrivacyHeld, PrivacyMutation};
use heard_rights::graphql::{RightsMutation, RightsQuery, RightsSubscription};
use heard_rights::held::ComplaintsHeld;

use crate::services::Services;

/// The schema served at `/graphql`.
pub type HeardSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Every service's queries.
#[derive(MergedObject, Default)]
pub struct QueryRoot(GatewayQuery, IdentityQuery, FeedbackQuery, RightsQuery, AdvocacyQuery, CommissioningQuery);

/// Every service's mutations.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    IdentityMutation,
    FeedbackMutation,
    RightsMutation,
    AdvocacyMutation,
    CommissioningMutation,
    PrivacyMutation,
);

/// Every service's subscriptions.
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(GatewaySubscription, FeedbackSubscription, RightsSubscription);

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

/// Everything Heard holds about a person (subject access, UK GDPR article 15): each service's
/// part, merged. Every record in it is one you may see under that record's own rule.
#[derive(MergedObject)]
#[graphql(name = "SubjectAccess")]
pub struct SubjectAccess(PrivacyHeld, FeedbackHeld, CasesHeld, ComplaintsHeld, AccessHeld);

impl SubjectAccess {
    fn of(person: heard_contracts::privacy::PersonId) -> Self {
        SubjectAccess(
            PrivacyHeld { person },
            FeedbackHeld { person },
            CasesHeld { person },
            ComplaintsHeld { person },
            AccessHeld { person },
        )
    }
}

#[derive(Default)]
pub struct GatewayQuery;

#[Object]
impl GatewayQuery {
    /// Everything Heard holds about a person, to give it to them: for those who hold one of
    /// their records (a coordinator of a hub holding one of their items, the advocate of one of
    /// their cases, complaints handlers when they have a complaint). Anyone else, and a person
    /// Heard does not know, get `NOT_FOUND`. The request is recorded on the access log.
    async fn subject_access(
        &self,
        ctx: &async_graphql::Context<'_>,
        person: async_graphql::ID,
    ) -> async_graphql::Result<SubjectAccess> {
        let person = heard_privacy::graphql::authorize_subject_access(ctx, &person).await?;
        Ok(SubjectAccess::of(person))
    }

    /// Event count, head position and chain head of the event log.
    async fn store_stats(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<StoreStats> {
        Ok(StoreStats::of(ctx.data::<EventStore>()?))
    }
}

#[derive(Default)]
pub struct GatewaySubscription;

#[Subscription]
impl GatewaySubscription {
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

/// The deepest query accepted, and the most fields one query may cost.
pub const MAX_DEPTH: usize = 15;
pub const MAX_COMPLEXITY: usize = 1000;

/// The owners of the entities one service references in another ([`heard_api::entity`]).
fn owners() -> Owners {
    heard_feedback::graphql::owners(heard_identity::graphql::owners(Owners::default()))
}

fn builder() -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    // A service's key-only reference to another's entity (`Hub { id }`) shares the entity's
    // name; the owner's full type, registered first, is the one the composed schema holds.
    Schema::build_with_ignore_name_conflicts(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
        owners().names(),
    )
}

/// Builds the served schema with its limits and every service's data. Every request it runs
/// is timed by operation ([`crate::metrics::OperationMetrics`], in the schema's data for
/// `/metrics`).
pub fn build_schema(store: EventStore, services: &Services) -> HeardSchema {
    let builder = limited(builder().data(owners()), store, &sdl());
    let builder = heard_identity::graphql::register(builder, services.identity.clone());
    let builder = heard_feedback::graphql::register(builder, services.feedback.clone());
    let builder = heard_rights::graphql::register(builder, services.rights.clone());
    let builder = heard_advocacy::graphql::register(builder, services.advocacy.clone());
    let builder = heard_privacy::graphql::register(builder, services.privacy.clone());
    heard_commissioning::graphql::register(builder, services.commissioning.clone()).finish()
}

/// What every schema Heard serves has, the composed one and each service's subgraph: the
/// event store, the limits on a query's depth, cost and fields, and the timing of each
/// operation ([`crate::metrics::OperationMetrics`] for `sdl`'s root fields).
pub(crate) fn limited<Q, M, S>(
    builder: async_graphql::SchemaBuilder<Q, M, S>,
    store: EventStore,
    sdl: &str,
) -> async_graphql::SchemaBuilder<Q, M, S> {
    let operations = std::sync::Arc::new(crate::metrics::OperationMetrics::for_schema(sdl));
    builder
        .data(store)
        .data(operations.clone())
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .extension(heard_api::limits::RequestLimits { max_fields: MAX_COMPLEXITY })
        // After the limits: it sees the parsed document before they may refuse it.
        .extension(crate::metrics::Measure(operations))
}

/// The SDL of the composed schema, as committed in `schema/heard.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// Every committed SDL file: the composed schema and one federation subgraph per service.
pub fn sdl_files() -> Vec<(&'static str, String)> {
    vec![
        ("heard.graphql", sdl()),
        ("identity.graphql", heard_identity::graphql::subgraph_sdl()),
        ("feedback.graphql", heard_feedback::graphql::subgraph_sdl()),
        ("rights.graphql", heard_rights::graphql::subgraph_sdl()),
        ("advocacy.graphql", heard_advocacy::graphql::subgraph_sdl()),
        ("commissioning.graphql", heard_commissioning::graphql::subgraph_sdl()),
        ("privacy.graphql", heard_privacy::graphql::subgraph_sdl()),
    ]
}
