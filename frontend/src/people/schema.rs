//! What the served schema holds, asked of the schema itself (GraphQL introspection), in process
//! as the person looking.
//!
//! The names the services agreed (`subjectAccess`, `feedbackItems`, `eraseSubject`, a record's
//! `person` and `erased`) are the contract. What fields each held record carries is each
//! service's own, and grows: so the subject access page selects every field the schema has
//! ([`selection`]), and a record's page asks for the rights fields only where its type has
//! them ([`fields_of`]), so a page never breaks on a field a service does not (yet) have.

use super::*;

/// A type's fields, as introspection names them.
#[derive(Debug, Default, Deserialize)]
struct TypeAnswer {
    #[serde(rename = "__type")]
    found: Option<Type>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Type {
    fields: Option<Vec<Field>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Field {
    name: String,
    args: Vec<Arg>,
    #[serde(rename = "type")]
    of: TypeRef,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Arg {
    #[serde(rename = "type")]
    of: TypeRef,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TypeRef {
    kind: String,
    name: Option<String>,
    of_type: Option<Box<TypeRef>>,
}

impl TypeRef {
    /// The named type under any lists and non-nulls: (kind, name).
    fn named(&self) -> (&str, &str) {
        match (&self.name, &self.of_type) {
            (Some(name), _) => (self.kind.as_str(), name.as_str()),
            (None, Some(inner)) => inner.named(),
            (None, None) => ("", ""),
        }
    }
}

const TYPE_QUERY: &str = "query($t: String!) { __type(name: $t) { fields { name args { type { kind } } \
    type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }";

/// The fields of the object type `name` that can be selected without arguments: (field, kind,
/// type name). Empty when there is no such type.
async fn selectable<B: Backend>(backend: &B, viewer: &Viewer, name: &str) -> Vec<(String, String, String)> {
    let answer = ask(backend, viewer, TYPE_QUERY, json!({ "t": name })).await;
    let fields = answer.decode_all::<TypeAnswer>().found.and_then(|found| found.fields).unwrap_or_default();
    fields
        .into_iter()
        .filter(|field| field.args.iter().all(|arg| arg.of.kind != "NON_NULL"))
        .map(|field| {
            let (kind, type_name) = field.of.named();
            (field.name.clone(), kind.to_owned(), type_name.to_owned())
        })
        .collect()
}

/// The names of the fields of the type `name` (empty when there is no such type).
pub(crate) async fn fields_of<B: Backend>(backend: &B, viewer: &Viewer, name: &str) -> Vec<String> {
    selectable(backend, viewer, name).await.into_iter().map(|(field, _, _)| field).collect()
}

/// How deep the subject access page follows records into their parts (a case, its actions).
const DEPTH: usize = 4;

/// A selection of every field of the type `name` and of the objects under it, `depth` deep
/// (`{ person erased feedbackItems { saidOn text } }`); `None` when the type has no fields
/// (there is no such type, or nothing can be selected of it).
pub(crate) fn selection<'a, B: Backend>(
    backend: &'a B,
    viewer: &'a Viewer,
    name: &'a str,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<String>> + Send + 'a>> {
    Box::pin(async move {
        let mut parts = Vec::new();
        for (field, kind, type_name) in selectable(backend, viewer, name).await {
            match kind.as_str() {
                "SCALAR" | "ENUM" => parts.push(field),
                "OBJECT" if depth > 0 => {
                    if let Some(inner) = selection(backend, viewer, &type_name, depth - 1).await {
                        parts.push(format!("{field} {inner}"));
                    }
                }
                _ => {}
            }
        }
        (!parts.is_empty()).then(|| format!("{{ {} }}", parts.join(" ")))
    })
}

/// The subject access query for every field the schema holds, asked with `$p` the person.
pub(crate) async fn subject_access_query<B: Backend>(backend: &B, viewer: &Viewer) -> String {
    let fields = selection(backend, viewer, "SubjectAccess", DEPTH).await.unwrap_or_else(|| "{ person }".to_owned());
    format!("query($p: ID!) {{ subjectAccess(person: $p) {fields} }}")
}
