//! `/decisions`: every decision, newest first, with its status and how far up the ladder of
//! participation the people it affects were involved.

use super::*;

/// `GET /decisions`: every decision, newest first.
pub async fn list<B: Backend>(State(backend): State<B>, SignedIn { viewer, csrf }: SignedIn) -> Response {
    let answer = ask(
        &backend,
        &viewer,
        "{ decisions(first: 100) { edges { node { id title serviceArea status decisionDate ladderRung ladderName evidence { id } } } } }",
        json!({}),
    )
    .await;
    if let Some((_, _, message)) = answer.errors.first() {
        let body = html! { h1 { "Decisions" } p { (plain(message)) } };
        return (StatusCode::FORBIDDEN, page(&viewer, "Decisions", Some(&csrf), body)).into_response();
    }
    let decisions: Vec<Value> = answer.data["decisions"]["edges"]
        .as_array()
        .map(|edges| edges.iter().map(|edge| edge["node"].clone()).collect())
        .unwrap_or_default();
    let body = html! {
        h1 { "Decisions" }
        p class="lead" { "What was decided, and what people said that shaped it. The newest come first." }
        @if may(&viewer, Action::RecordDecision) {
            p { a class="button" href="/decisions/new" { "Propose a decision" } }
        }
        @if decisions.is_empty() { p { "No decisions are recorded yet." } }
        ul class="decision-list" {
            @for decision in &decisions {
                @let id = text(decision, "id");
                @let evidence = decision["evidence"].as_array().map_or(0, Vec::len);
                li class="card" {
                    h2 class="item-title" { a href={ "/decisions/" (id) } { (text(decision, "title")) } }
                    dl class="facts" {
                        div { dt { "Where it stands" } dd { span class={ "status status--" (text(decision, "status").to_lowercase()) } { (status_words(text(decision, "status"))) } } }
                        div { dt { "Decision date" } dd { (text(decision, "decisionDate")) } }
                        div { dt { "How people were involved" } dd { (rung_words(decision["ladderRung"].as_i64().unwrap_or(0), decision["ladderName"].as_str())) } }
                        div { dt { "Evidence linked" } dd { (evidence) @if evidence == 1 { " piece" } @else { " pieces" } } }
                    }
                }
            }
        }
    };
    page(&viewer, "Decisions", Some(&csrf), body).into_response()
}
