//! How long GraphQL requests take and how many answer with errors, per operation, measured
//! by a schema extension: every request the schema executes counts, whether it came to `POST
//! /graphql`, from a web UI page (which runs GraphQL in process) or from a CSV report.
//!
//! The `operation` label is never text a client chose. It is the first root field of the
//! operation the request runs (the one its `operationName` picks, as GraphQL does), by its
//! field name (an alias is ignored), and only when the schema has that root field for that
//! kind of operation; anything else, and a request that does not parse, is `other`. So the
//! labels are bounded by the schema: at most its root fields plus one `other` for each kind.
//! Subscriptions over `/graphql/ws` live as long as the socket and are not timed here.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Request, Response, ServerResult, Variables};
use heard_eventstore::LatencyHistogram;

use super::Exposition;

/// The label of operations the schema does not have (or requests that do not parse).
pub const OTHER: &str = "other";

/// The kind of a GraphQL operation: the `kind` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Query,
    Mutation,
    Subscription,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Query, Kind::Mutation, Kind::Subscription];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Mutation => "mutation",
            Kind::Subscription => "subscription",
        }
    }

    fn of(ty: OperationType) -> Kind {
        match ty {
            OperationType::Query => Kind::Query,
            OperationType::Mutation => Kind::Mutation,
            OperationType::Subscription => Kind::Subscription,
        }
    }
}

/// One `(operation, kind)` series.
#[derive(Debug)]
struct Series {
    kind: Kind,
    operation: String,
    seconds: LatencyHistogram,
    errors: AtomicU64,
}

/// Per-operation histograms for every root field of one schema, made once; recording is
/// lock-free.
#[derive(Debug)]
pub struct OperationMetrics {
    index: HashMap<(Kind, String), usize>,
    series: Vec<Series>,
}

impl OperationMetrics {
    /// Series for every root field of the schema whose SDL is `sdl`, and one `other` a kind.
    pub fn for_schema(sdl: &str) -> Self {
        let mut fields: Vec<(Kind, String)> = root_fields(sdl).into_iter().collect();
        // Introspection is answered by every schema.
        for field in ["__schema", "__type", "__typename"] {
            fields.push((Kind::Query, field.to_owned()));
        }
        for kind in Kind::ALL {
            fields.push((kind, "__typename".to_owned()));
            fields.push((kind, OTHER.to_owned()));
        }
        fields.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
        fields.dedup();
        let series: Vec<Series> = fields
            .into_iter()
            .map(|(kind, operation)| Series {
                kind,
                operation,
                seconds: LatencyHistogram::new(),
                errors: AtomicU64::new(0),
            })
            .collect();
        let index =
            series.iter().enumerate().map(|(at, series)| ((series.kind, series.operation.clone()), at)).collect();
        OperationMetrics { index, series }
    }

    /// The series of `field` in an operation of `kind`: its own when the schema has it, else
    /// that kind's `other`.
    pub fn series_of(&self, kind: Kind, field: Option<&str>) -> usize {
        let known = field.and_then(|field| self.index.get(&(kind, field.to_owned())));
        match known {
            Some(at) => *at,
            None => self.index[&(kind, OTHER.to_owned())],
        }
    }

    /// The series of the operation `document` runs when asked for `operation_name`.
    pub fn series_in(&self, document: &ExecutableDocument, operation_name: Option<&str>) -> usize {
        let operation = match (&document.operations, operation_name) {
            (DocumentOperations::Single(operation), _) => Some(operation),
            (DocumentOperations::Multiple(operations), Some(name)) => {
                operations.iter().find(|(candidate, _)| candidate.as_str() == name).map(|(_, operation)| operation)
            }
            // One named operation needs no `operationName`.
            (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations.values().next(),
            (DocumentOperations::Multiple(_), None) => None,
        };
        match operation {
            Some(operation) => {
                let kind = Kind::of(operation.node.ty);
                let field = first_field(document, &operation.node.selection_set.node, 0);
                self.series_of(kind, field)
            }
            None => self.series_of(Kind::Query, None),
        }
    }

    /// Counts one request of series `at` that took `seconds` and answered with errors or not.
    pub fn observe(&self, at: usize, elapsed: std::time::Duration, errors: bool) {
        let series = &self.series[at];
        series.seconds.observe(elapsed);
        if errors {
            series.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Both families, with a series for each operation that has been asked for.
    pub fn render(&self, out: &mut Exposition) {
        out.family(
            "heard_graphql_request_seconds",
            "histogram",
            "GraphQL requests by operation (the first root field, else other) and kind: from the request to its answer.",
        );
        let asked =
            || self.series.iter().map(|series| (series, series.seconds.snapshot())).filter(|(_, s)| s.count() > 0);
        for (series, snapshot) in asked() {
            let labels = [("operation", series.operation.as_str()), ("kind", series.kind.as_str())];
            out.histogram("heard_graphql_request_seconds", &labels, &snapshot);
        }
        out.family(
            "heard_graphql_errors_total",
            "counter",
            "GraphQL requests answered with at least one error, by operation and kind.",
        );
        for (series, _) in asked() {
            let labels = [("operation", series.operation.as_str()), ("kind", series.kind.as_str())];
            out.sample("heard_graphql_errors_total", &labels, series.errors.load(Ordering::Relaxed) as f64);
        }
    }
}

/// The root fields of each kind that the SDL's schema has.
fn root_fields(sdl: &str) -> HashSet<(Kind, String)> {
    let Ok(document) = async_graphql::parser::parse_schema(sdl) else { return HashSet::new() };
    let mut roots: HashMap<String, Kind> =
        [("Query", Kind::Query), ("Mutation", Kind::Mutation), ("Subscription", Kind::Subscription)]
            .into_iter()
            .map(|(name, kind)| (name.to_owned(), kind))
            .collect();
    for definition in &document.definitions {
        if let TypeSystemDefinition::Schema(schema) = definition {
            let named = [
                (&schema.node.query, Kind::Query),
                (&schema.node.mutation, Kind::Mutation),
                (&schema.node.subscription, Kind::Subscription),
            ];
            for (name, kind) in named {
                if let Some(name) = name {
                    roots.retain(|_, known| *known != kind);
                    roots.insert(name.node.to_string(), kind);
                }
            }
        }
    }
    let mut fields = HashSet::new();
    for definition in &document.definitions {
        if let TypeSystemDefinition::Type(definition) = definition
            && let Some(kind) = roots.get(definition.node.name.node.as_str())
            && let TypeKind::Object(object) = &definition.node.kind
        {
            fields.extend(object.fields.iter().map(|field| (*kind, field.node.name.node.to_string())));
        }
    }
    fields
}

/// The name (never the alias) of the first field a selection runs, looking into fragments.
fn first_field<'a>(document: &'a ExecutableDocument, set: &'a SelectionSet, depth: usize) -> Option<&'a str> {
    // Fragments that spread each other are refused by validation, after this has run.
    if depth > 8 {
        return None;
    }
    set.items.iter().find_map(|selection| match &selection.node {
        Selection::Field(field) => Some(field.node.name.node.as_str()),
        Selection::InlineFragment(fragment) => first_field(document, &fragment.node.selection_set.node, depth + 1),
        Selection::FragmentSpread(spread) => document
            .fragments
            .get(&spread.node.fragment_name.node)
            .and_then(|fragment| first_field(document, &fragment.node.selection_set.node, depth + 1)),
    })
}

/// The schema extension that times every request into its [`OperationMetrics`].
pub struct Measure(pub Arc<OperationMetrics>);

impl ExtensionFactory for Measure {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Measuring { metrics: self.0.clone(), operation_name: Mutex::default(), series: Mutex::default() })
    }
}

/// One request's measurement.
struct Measuring {
    metrics: Arc<OperationMetrics>,
    /// The request's `operationName`: used only to pick the operation, never as a label.
    operation_name: Mutex<Option<String>>,
    series: Mutex<Option<usize>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Measuring {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        let series = self.series.lock().unwrap_or_else(|p| p.into_inner()).take();
        let series = series.unwrap_or_else(|| self.metrics.series_of(Kind::Query, None));
        self.metrics.observe(series, started.elapsed(), response.is_err());
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        *self.operation_name.lock().unwrap_or_else(|p| p.into_inner()) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let name = self.operation_name.lock().unwrap_or_else(|p| p.into_inner()).take();
        let series = self.metrics.series_in(&document, name.as_deref());
        *self.series.lock().unwrap_or_else(|p| p.into_inner()) = Some(series);
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = "type QueryRoot { feedbackItem(id: ID!): Int searchFeedback: Int }\n\
        type MutationRoot { logFeedback: Int }\n\
        type SubscriptionRoot { feedbackLogged: Int }\n\
        schema { query: QueryRoot mutation: MutationRoot subscription: SubscriptionRoot }";

    fn label(metrics: &OperationMetrics, query: &str, name: Option<&str>) -> (String, &'static str) {
        let document = async_graphql::parser::parse_query(query).unwrap();
        let series = &metrics.series[metrics.series_in(&document, name)];
        (series.operation.clone(), series.kind.as_str())
    }

    #[test]
    fn the_label_is_the_first_root_field_the_schema_has_and_never_what_the_client_named() {
        let metrics = OperationMetrics::for_schema(SDL);
        let named = |operation: &str, kind| (operation.to_owned(), kind);
        assert_eq!(label(&metrics, "{ feedbackItem(id: 1) }", None), named("feedbackItem", "query"));
        assert_eq!(
            label(&metrics, "query Whatever { anAlias: searchFeedback }", None),
            named("searchFeedback", "query")
        );
        assert_eq!(label(&metrics, "mutation { logFeedback }", None), named("logFeedback", "mutation"));
        assert_eq!(label(&metrics, "subscription { feedbackLogged }", None), named("feedbackLogged", "subscription"));
        assert_eq!(label(&metrics, "{ ... on QueryRoot { searchFeedback } }", None), named("searchFeedback", "query"));
        assert_eq!(
            label(&metrics, "{ ...F } fragment F on QueryRoot { searchFeedback }", None),
            named("searchFeedback", "query")
        );
        let two = "query A { feedbackItem(id: 1) } mutation B { logFeedback }";
        assert_eq!(label(&metrics, two, Some("B")), named("logFeedback", "mutation"), "operationName picks");
        assert_eq!(label(&metrics, two, Some("feedbackItem")), named("other", "query"));
        assert_eq!(label(&metrics, two, None), named("other", "query"));
        assert_eq!(label(&metrics, "{ dropTables }", None), named("other", "query"));
        assert_eq!(label(&metrics, "mutation { feedbackItem(id: 1) }", None), named("other", "mutation"));
        assert_eq!(label(&metrics, "{ __schema { types { name } } }", None), named("__schema", "query"));
        assert_eq!(label(&metrics, "{ ...F } fragment F on QueryRoot { ...F }", None), named("other", "query"));
    }

    #[test]
    fn only_series_that_were_asked_for_are_rendered() {
        let metrics = OperationMetrics::for_schema(SDL);
        let at = metrics.series_of(Kind::Mutation, Some("logFeedback"));
        metrics.observe(at, std::time::Duration::from_millis(3), true);
        let mut out = Exposition::default();
        metrics.render(&mut out);
        let text = out.finish();
        assert!(text.contains(
            "heard_graphql_request_seconds_bucket{operation=\"logFeedback\",kind=\"mutation\",le=\"0.005\"} 1"
        ));
        assert!(text.contains("heard_graphql_errors_total{operation=\"logFeedback\",kind=\"mutation\"} 1"), "{text}");
        assert!(!text.contains("searchFeedback"), "{text}");
    }
}
