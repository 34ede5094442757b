//! References from one service's types to an entity another service owns (a feedback item's
//! hub, a decision's evidence item), the same code serving both deployments:
//!
//! - **As a federation subgraph** (`heard serve --service NAME`), a [`Reference`] is the key
//!   alone: the subgraph prints `type Hub @key(fields: "id", resolvable: false) { id: ID! }`
//!   and answers `{ id }`; the gateway asks the owning service for the rest.
//! - **In the single process** (`heard serve`), the composed schema holds the owner's full
//!   type under the same name (the owners are registered first, and the schema is built
//!   with these names' conflicts ignored), and a [`Reference`] hands its field to the owner's
//!   resolver from [`Owners`] in the schema's data: the same answer, under the same rules, as
//!   the owner gives the gateway for that key.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, ID, OutputType, Positioned, ServerResult, SimpleObject, Value};

/// What an owner's resolver returns: the entity's value for the selection, or `null` when
/// the asker may not see it.
pub type Resolved<'a> = Pin<Box<dyn Future<Output = ServerResult<Value>> + Send + 'a>>;

/// An owner's resolver: the entity with key `id`, resolved for `field`'s selection as the
/// owner resolves it for the gateway.
pub type Resolve =
    Arc<dyn for<'a> Fn(&'a ContextSelectionSet<'a>, &'a Positioned<Field>, &'a str) -> Resolved<'a> + Send + Sync>;

/// The owners of the entities referenced across services, by type name: in the single
/// process's schema data only.
#[derive(Clone, Default)]
pub struct Owners(HashMap<&'static str, Resolve>);

impl Owners {
    /// `resolve` answers for the entity type `name`.
    #[must_use]
    pub fn with(mut self, name: &'static str, resolve: Resolve) -> Self {
        self.0.insert(name, resolve);
        self
    }

    /// The type names the owners answer for: the names whose second definition (a service's
    /// key-only reference) the single process's schema ignores.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.0.keys().copied().collect();
        names.sort_unstable();
        names
    }
}

/// A key-only entity type, as a service that references it declares it.
pub trait Key: OutputType + Send + Sync {
    /// The entity's key.
    fn key(&self) -> &str;
}

/// A reference to an entity another service owns: see the module's documentation.
#[derive(Clone, Debug)]
pub struct Reference<K: Key>(pub K);

impl<K: Key> OutputType for Reference<K> {
    fn type_name() -> Cow<'static, str> {
        K::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        K::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        let owner = ctx.data_opt::<Owners>().and_then(|owners| owners.0.get(&*K::type_name()).cloned());
        match owner {
            Some(owner) => owner(ctx, field, self.0.key()).await,
            None => self.0.resolve(ctx, field).await,
        }
    }
}

macro_rules! key_only {
    ($(#[$doc:meta])* $key:ident, $name:literal) => {
        $(#[$doc])*
        #[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
        #[graphql(name = $name, unresolvable = "id")]
        pub struct $key {
            pub id: ID,
        }

        impl Key for $key {
            fn key(&self) -> &str {
                &self.id
            }
        }

        impl Reference<$key> {
            /// A reference to the entity with this key.
            pub fn to(id: impl Into<String>) -> Self {
                Reference($key { id: ID(id.into()) })
            }
        }
    };
}

key_only!(
    /// A hub, owned by the identity service.
    HubKey,
    "Hub"
);
key_only!(
    /// A provider, owned by the identity service.
    ProviderKey,
    "Provider"
);
key_only!(
    /// A feedback item, owned by the feedback service.
    FeedbackItemKey,
    "FeedbackItem"
);
key_only!(
    /// A theme of the vocabulary, owned by the feedback service.
    ThemeKey,
    "Theme"
);
