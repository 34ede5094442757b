//! `/decisions`: every decision, newest first, with its status and how far up the ladder of
//! participation the people it affects were involved.

use super::*;

/// A decision as the list shows it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Listed {
    id: String,
    title: String,
    status: String,
    decision_date: Option<String>,
    ladder_rung: Option<i64>,
    evidence: Vec<serde::de::IgnoredAny>,
}

/// `GET /decisions`: every decision, newest first.
pub async fn list<B: Backend>(State(backend): State<B>, SignedIn { viewer, csrf }: SignedIn) -> Response {
    let answer = ask(
        &backend,
        &viewer,
        "{ decisions(first: 100) { edges { node { id title serviceArea status decisionDate ladderRung evidence { id } } } } }",
        json!({}),
    )
    .await;
    if let Some((_, _, message)) = answer.errors.first() {
        let body = html! { h1 { "Decisions" } p { (plain(message)) } };
        return (StatusCode::FORBIDDEN, page(&viewer, "Decisions", Some(&csrf), body)).into_response();
    }
    let decisions = answer.decode::<Connection<Listed>>("decisions").unwrap_or_default().nodes();
    let body = html! {
        h1 { "Decisions" }
        p class="lead" { "What was decided, and what people said that shaped it. The newest come first." }
        @if may(&viewer, Action::RecordDecision) {
            p { a class="button" href="/decisions/new" { "Propose a decision" } }
        }
        @if decisions.is_empty() { p { "No decisions are recorded yet." } }
        ul class="decision-list" {
            @for decision in &decisions {
                @let evidence = decision.evidence.len();
                li class="card" {
                    h2 class="item-title" { a href={ "/decisions/" (decision.id) } { (decision.title) } }
                    dl class="facts" {
                        div { dt { "Where it stands" } dd { span class={ "status status--" (decision.status.to_lowercase()) } { (status_words(&decision.status)) } } }
                        div { dt { "Decision date" } dd { (crate::kit::day_words(decision.decision_date.as_deref().unwrap_or_default())) } }
                        div { dt { "How people were involved" } dd { (rung_words(decision.ladder_rung.unwrap_or(0))) } }
                        div { dt { "Evidence linked" } dd { (evidence) @if evidence == 1 { " piece" } @else { " pieces" } } }
                    }
                }
            }
        }
    };
    page(&viewer, "Decisions", Some(&csrf), body).into_response()
}
