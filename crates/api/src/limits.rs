//! Limits every request runs under, whoever sends it.
//!
//! - [`AccessBudget`]: the most access events one request may append. A refusal or a logged
//!   read past it is counted, not written, so one request with a thousand aliases cannot grow
//!   the permanent log a thousand times.
//! - Anonymous refusals are never written to the log at all: [`access_counters`] counts them
//!   (for `/metrics`) and a log line says how many there were, at most once a minute.
//! - [`SelectionLimit`]: every field a query would run counts, aliases and `__typename`
//!   included, with fragments counted each time they are spread. async-graphql's own
//!   complexity limit does not count `__typename`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Context, Request, ServerResult, Variables};

/// Access events one request may append (refusals and logged reads together).
pub const ACCESS_EVENTS_PER_REQUEST: usize = 20;

static ANONYMOUS_REFUSALS: AtomicU64 = AtomicU64::new(0);
static ACCESS_EVENTS_DROPPED: AtomicU64 = AtomicU64::new(0);
static ACCESS_EVENTS_APPENDED: AtomicU64 = AtomicU64::new(0);
static ANONYMOUS_LOGGED_AT: AtomicI64 = AtomicI64::new(0);
static ANONYMOUS_SINCE_LOGGED: AtomicU64 = AtomicU64::new(0);

/// What was counted instead of written: refusals of people not logged in, and access events
/// past a request's budget. Process-wide, since the server started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccessCounters {
    pub anonymous_refusals: u64,
    pub dropped_over_budget: u64,
    /// `AccessRecorded` events this process appended to the access log.
    pub appended: u64,
}

pub fn access_counters() -> AccessCounters {
    AccessCounters {
        anonymous_refusals: ANONYMOUS_REFUSALS.load(Ordering::Relaxed),
        dropped_over_budget: ACCESS_EVENTS_DROPPED.load(Ordering::Relaxed),
        appended: ACCESS_EVENTS_APPENDED.load(Ordering::Relaxed),
    }
}

/// Counts access events appended to the access log (for `/metrics`).
pub(crate) fn count_access_events_appended(events: usize) {
    ACCESS_EVENTS_APPENDED.fetch_add(events as u64, Ordering::Relaxed);
}

/// Counts a refusal of someone not logged in; says so in the server's log at most once a
/// minute, with the count and no ids.
pub(crate) fn count_anonymous_refusal() {
    ANONYMOUS_REFUSALS.fetch_add(1, Ordering::Relaxed);
    let pending = ANONYMOUS_SINCE_LOGGED.fetch_add(1, Ordering::Relaxed) + 1;
    let now = jiff::Timestamp::now().as_second();
    let last = ANONYMOUS_LOGGED_AT.load(Ordering::Relaxed);
    if now - last >= 60 && ANONYMOUS_LOGGED_AT.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    {
        ANONYMOUS_SINCE_LOGGED.fetch_sub(pending, Ordering::Relaxed);
        tracing::info!(refusals = pending, "requests without a login were refused (counted, not logged)");
    }
}

/// How many access events this request may still append. Put into every request by
/// [`RequestLimits`]; a request without one (a direct call in a test or the CLI) is unlimited.
#[derive(Debug, Default)]
pub struct AccessBudget {
    used: AtomicUsize,
}

impl AccessBudget {
    /// Takes one access event from the request's budget; false (and counted) when spent.
    pub fn take(ctx: &Context<'_>) -> bool {
        let Some(budget) = ctx.data_opt::<Arc<AccessBudget>>() else { return true };
        if budget.used.fetch_add(1, Ordering::Relaxed) < ACCESS_EVENTS_PER_REQUEST {
            return true;
        }
        ACCESS_EVENTS_DROPPED.fetch_add(1, Ordering::Relaxed);
        false
    }
}

/// The schema extension that gives every request its [`AccessBudget`] and refuses queries
/// that would run more than `max_fields` fields. Register it on every schema.
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    pub max_fields: usize,
}

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestLimits {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        next.run(ctx, request.data(Arc::new(AccessBudget::default()))).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let fields = count_fields(&document);
        if fields > self.max_fields {
            let refusal = crate::ApiError::bad_input(
                "query",
                format!("asks for {fields} fields (aliases and __typename included); the most is {}", self.max_fields),
            );
            return Err(async_graphql::Error::from(refusal).into_server_error(async_graphql::Pos::default()));
        }
        Ok(document)
    }
}

/// Every field the document's operations would run: each alias and `__typename` is one, and a
/// fragment counts again every time it is spread. Saturates rather than overflowing; a
/// fragment cycle counts nothing (validation refuses it afterwards).
pub fn count_fields(document: &ExecutableDocument) -> usize {
    let mut memo: HashMap<&str, usize> = HashMap::new();
    let mut visiting: Vec<&str> = Vec::new();
    document
        .operations
        .iter()
        .map(|(_, operation)| count_set(document, &operation.node.selection_set.node, &mut memo, &mut visiting))
        .fold(0usize, usize::saturating_add)
}

fn count_set<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    memo: &mut HashMap<&'a str, usize>,
    visiting: &mut Vec<&'a str>,
) -> usize {
    let mut total = 0usize;
    for selection in &set.items {
        let count = match &selection.node {
            Selection::Field(field) => {
                1usize.saturating_add(count_set(document, &field.node.selection_set.node, memo, visiting))
            }
            Selection::InlineFragment(fragment) => {
                count_set(document, &fragment.node.selection_set.node, memo, visiting)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if let Some(known) = memo.get(name) {
                    *known
                } else if visiting.contains(&name) {
                    0
                } else if let Some((key, definition)) = document.fragments.get_key_value(name) {
                    visiting.push(name);
                    let counted = count_set(document, &definition.node.selection_set.node, memo, visiting);
                    visiting.pop();
                    memo.insert(key.as_str(), counted);
                    counted
                } else {
                    0
                }
            }
        };
        total = total.saturating_add(count);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(query: &str) -> usize {
        count_fields(&async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn every_alias_and_typename_counts_as_a_field() {
        assert_eq!(fields("{ a: __typename b: __typename c: __typename }"), 3);
        let many = (0..5000).map(|i| format!("a{i}: __typename")).collect::<Vec<_>>().join(" ");
        assert_eq!(fields(&format!("{{ {many} }}")), 5000);
        assert_eq!(fields("{ me { id displayName } }"), 3);
    }

    #[test]
    fn a_fragment_counts_every_time_it_is_spread_and_a_cycle_counts_nothing_more() {
        let query = "query { x: me { ...F } y: me { ...F } z: me { ...F } } fragment F on User { id a: id b: id }";
        assert_eq!(fields(query), 3 + 3 * 3);
        let nested = "query { me { ...A } } fragment A on User { ...B ...B } fragment B on User { ...C ...C } \
                      fragment C on User { id id id id }";
        assert_eq!(fields(nested), 1 + 2 * 2 * 4);
        let cycle = "query { me { ...A } } fragment A on User { id ...B } fragment B on User { id ...A }";
        assert!(fields(cycle) <= 4);
    }
}
