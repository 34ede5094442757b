//! `/decisions/{id}`: one decision's page. Its status, milestones, progress and outcome
//! reviews ("we did"), the evidence linked to it ("you said", each item only as far as the
//! viewer may see it), and for a commissioner the forms that change it and the evidence
//! picker, a plain GET search over the feedback shared with commissioners.

use super::*;
use crate::kit::day_words;

#[derive(Debug, Default, Deserialize)]
pub struct DecisionQuery {
    #[serde(default)]
    pub(super) q: String,
    pub(super) done: Option<String>,
}

/// What a decision page shows besides the decision: the search, a notice, and after a failed
/// form the errors and what was typed.
#[derive(Debug, Default)]
pub(super) struct View {
    pub(super) q: String,
    pub(super) done: Option<String>,
    pub(super) errors: Errors,
    pub(super) values: Vec<(String, String)>,
    /// Whether the viewer may change the decision (commissioners); everyone else reads it.
    pub(super) editable: bool,
}

impl View {
    pub(super) fn value(&self, key: &str) -> String {
        value_of(&self.values, key)
    }
}

/// What [`DECISION_QUERY`] answers.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct DecisionAnswer {
    decision: Option<Decision>,
    themes: Vec<ThemeChoice>,
    search_feedback: Option<Picked>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Decision {
    title: String,
    service_area: String,
    decided_by: String,
    decision_date: String,
    status: String,
    status_history: Vec<StatusChange>,
    ladder_rung: i64,
    involvement: String,
    milestones: Vec<Milestone>,
    progress: Option<Progress>,
    outcome_reviews: Vec<OutcomeReview>,
    evidence: Vec<EvidenceLink>,
}

#[derive(Debug, Deserialize)]
pub(super) struct StatusChange {
    status: String,
    on: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Milestone {
    id: String,
    title: String,
    due: String,
    met_on: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Progress {
    percent: i64,
    note: String,
    on: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct OutcomeReview {
    on: String,
    summary: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct EvidenceLink {
    id: String,
    kind: String,
    rationale: String,
    linked_on: String,
    withdrawn_on: Option<String>,
    withdrawn_because: Option<String>,
    target: String,
    content: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ThemeChoice {
    id: String,
    name: String,
}

/// The picker's search: how many matched, and the best of them.
#[derive(Debug, Deserialize)]
pub(super) struct Picked {
    total: i64,
    #[serde(flatten)]
    hits: Connection<Hit>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Hit {
    fragment: String,
    highlights: Vec<Highlight>,
    item: HitItem,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HitItem {
    id: String,
    hub_name: Option<String>,
    said_on: String,
    about: Option<String>,
    decision_ids: Vec<String>,
    themes: Vec<ThemeName>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ThemeName {
    name: String,
}

pub(super) const DECISION_QUERY: &str = "query($id: ID!, $q: String!, $search: Boolean!, $first: Int!) {
  decision(id: $id) {
    id title serviceArea decidedBy decisionDate status statusHistory { status on }
    ladderRung involvement
    milestones { id title due metOn } progress { percent note on } outcomeReviews { on summary }
    evidence(includeWithdrawn: true) { id kind rationale linkedOn withdrawnOn withdrawnBecause target content }
  }
  themes { id name parent }
  searchFeedback(query: $q, first: $first) @include(if: $search) {
    total
    edges { node { fragment highlights { start end } item { id hubName saidOn about decisionIds themes { name } } } }
  }
}";

pub(super) async fn decision_page<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    id: &str,
    view: &View,
) -> Response {
    let q = view.q.trim();
    let answer = ask(
        backend,
        viewer,
        DECISION_QUERY,
        json!({ "id": id, "q": q, "search": !q.is_empty(), "first": PICKER_PAGE }),
    )
    .await;
    let (found, message) = match answer.read::<DecisionAnswer>("decision") {
        Ok(data) => (Some(data), answer.errors.first().map(|e| plain(&e.2))),
        Err(Undecodable) => (None, Some(UNDECODABLE.to_owned())),
    };
    let Some((decision, themes, search)) =
        found.and_then(|data| Some((data.decision?, data.themes, data.search_feedback)))
    else {
        let message = message.unwrap_or_else(|| "There is no such decision.".to_owned());
        let body =
            html! { h1 { "Decision not found" } p { (message) } p { a href="/decisions" { "Back to decisions" } } };
        return (StatusCode::NOT_FOUND, page(viewer, "Decision not found", Some(csrf), body)).into_response();
    };
    let mut errors = view.errors.clone();
    let search_failed = answer.errors.iter().any(|(field, _, _)| field.as_deref().is_some_and(|f| f == "query"));
    if search_failed && let Some((_, _, message)) = answer.errors.first() {
        errors.add("q", plain(message));
    }
    let decision = &decision;
    let status = decision.status.as_str();
    let title = decision.title.as_str();
    let page_title = if errors.is_empty() { title.to_owned() } else { format!("Error: {title}") };
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = view.done.as_deref().and_then(done_words) { div class="notice" role="status" { p { (done) "." } } }
        p { a href="/decisions" { "Back to decisions" } }
        h1 { (title) }
        dl class="summary-list" {
            div { dt { "Where it stands" } dd { span class={ "status status--" (status.to_lowercase()) } { (status_words(status)) } } }
            div { dt { "Service area" } dd { (decision.service_area) } }
            div { dt { "Who decides" } dd { (decision.decided_by) } }
            div { dt { "Decision date" } dd { (decision.decision_date) } }
            div { dt { "How far people were involved" } dd { (rung_words(decision.ladder_rung)) } }
            div { dt { "How people were involved" } dd { (decision.involvement) } }
        }
        (status_section(csrf, id, decision, view, &errors))
        (we_did_section(csrf, id, decision, view, &errors))
        (evidence_section(csrf, id, decision, view, &errors))
        @if view.editable && !set_aside(status) {
            (picker_section(csrf, id, decision, &themes, search.as_ref(), view, &errors))
        }
        @if view.editable { script src="/assets/picker.js" defer {} }
    };
    let code = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (code, page(viewer, &page_title, Some(csrf), body)).into_response()
}

pub(super) fn status_section(csrf: &str, id: &str, decision: &Decision, view: &View, errors: &Errors) -> Markup {
    let status = decision.status.as_str();
    let history = &decision.status_history;
    let next = next_statuses(status);
    let on = Some(view.value("status_on")).filter(|on| !on.is_empty()).unwrap_or_else(today);
    html! {
        section aria-labelledby="status-title" id="status-section" {
            h2 id="status-title" { "How it has moved on" }
            ol class="timeline" {
                @if history.first().is_none_or(|first| first.status != "PROPOSED") {
                    li { strong { "Proposed" } }
                }
                @for change in history {
                    li { strong { (status_words(&change.status)) } " on " (day_words(&change.on)) }
                }
            }
            @if next.is_empty() {
                p { "This decision is " (status_words(status).to_lowercase()) ". Its status cannot change any more." }
            } @else if view.editable {
                form method="post" action={ "/decisions/" (id) "/status" } novalidate {
                    (csrf_field(csrf))
                    (forms::choices(Choices {
                        id: "status", legend: "Move it on", multiple: false,
                        options: next.iter().map(|s| ((*s).to_owned(), status_choice(s).to_owned())).collect(),
                        chosen: vec![view.value("status")], hint: None,
                    }, errors))
                    (forms::day_input("status_on", "When", &on, None, errors))
                    button class="button" type="submit" { "Change the status" }
                }
            }
        }
    }
}

pub(super) fn we_did_section(csrf: &str, id: &str, decision: &Decision, view: &View, errors: &Errors) -> Markup {
    let status = decision.status.as_str();
    let milestones = &decision.milestones;
    let reviews = &decision.outcome_reviews;
    html! {
        section aria-labelledby="we-did-title" id="we-did" {
            h2 id="we-did-title" { "What we did" }
            h3 { "Milestones" }
            @if milestones.is_empty() { p { "No milestones yet." } }
            ul class="milestones" {
                @for milestone in milestones {
                    @let mid = &milestone.id;
                    @let anchor = format!("milestone-{mid}");
                    li id=(anchor) tabindex="-1" {
                        strong { (milestone.title) }
                        " – due " (day_words(&milestone.due))
                        @if let Some(met) = &milestone.met_on {
                            " – " span class="tag tag--met" { "Met on " (met) }
                        } @else if view.editable && !set_aside(status) {
                            @if let Some(error) = errors.of(&anchor) {
                                p class="field-error" { span class="visually-hidden" { "Error: " } (error) }
                            }
                            form class="inline-action" method="post" action={ "/decisions/" (id) "/milestone-met" } {
                                (csrf_field(csrf))
                                input type="hidden" name="milestone_id" value=(mid);
                                button class="button button--secondary" type="submit" {
                                    "Mark as met" span class="visually-hidden" { ": " (milestone.title) }
                                }
                            }
                        }
                    }
                }
            }
            @if view.editable && !set_aside(status) {
                details class="add" open[errors.of("milestone_title").is_some() || errors.of("milestone_due").is_some()] {
                    summary { "Add a milestone" }
                    form method="post" action={ "/decisions/" (id) "/milestone" } novalidate {
                        (csrf_field(csrf))
                        (forms::input(Input { id: "milestone_title", label: "What will be done?", kind: "text", value: &view.value("milestone_title"), hint: None, autocomplete: Some("off") }, errors))
                        (forms::day_input("milestone_due", "When is it due?", &view.value("milestone_due"), None, errors))
                        button class="button" type="submit" { "Add the milestone" }
                    }
                }
            }
            h3 { "Progress" }
            @if let Some(progress) = &decision.progress {
                p {
                    strong { (progress.percent) "% done" } " on " (day_words(&progress.on))
                    @if !progress.note.is_empty() { ": " (progress.note) }
                }
            } @else {
                p { "No progress recorded yet." }
            }
            @if view.editable && matches!(status, "AGREED" | "IN_PROGRESS") {
                details class="add" open[errors.of("percent").is_some() || errors.of("progress_note").is_some()] {
                    summary { "Record progress" }
                    form method="post" action={ "/decisions/" (id) "/progress" } novalidate {
                        (csrf_field(csrf))
                        (forms::input(Input { id: "percent", label: "How far along is it, in per cent?", kind: "number", value: &view.value("percent"), hint: Some("A number from 0 to 100"), autocomplete: None }, errors))
                        (forms::textarea("progress_note", "A note (optional)", &view.value("progress_note"), None, errors))
                        button class="button" type="submit" { "Record progress" }
                    }
                }
            } @else if view.editable && !matches!(status, "DONE") && !set_aside(status) {
                p class="hint" { "You can record progress once the decision is agreed." }
            }
            h3 { "What came of it" }
            @if reviews.is_empty() { p { "No review of the outcome yet." } }
            @for review in reviews {
                div class="review" {
                    p class="meta" { "Reviewed on " (day_words(&review.on)) }
                    blockquote { p { (review.summary) } }
                }
            }
            @if view.editable && status == "DONE" {
                details class="add" open[errors.of("review_summary").is_some()] {
                    summary { "Review the outcome" }
                    form method="post" action={ "/decisions/" (id) "/review" } novalidate {
                        (csrf_field(csrf))
                        (forms::textarea("review_summary", "What came of the decision?", &view.value("review_summary"), Some("In plain words, for the hubs and the public."), errors))
                        button class="button" type="submit" { "Save the review" }
                    }
                }
            } @else if view.editable && !set_aside(status) {
                p class="hint" { "You can review the outcome once the decision is done." }
            }
        }
    }
}

pub(super) fn evidence_section(csrf: &str, id: &str, decision: &Decision, view: &View, errors: &Errors) -> Markup {
    let (live, withdrawn): (Vec<&EvidenceLink>, Vec<&EvidenceLink>) =
        decision.evidence.iter().partition(|link| link.withdrawn_on.is_none());
    html! {
        section aria-labelledby="evidence-title" id="evidence" {
            h2 id="evidence-title" { "You said: the evidence" }
            @if live.is_empty() {
                p { "Nothing is linked yet." @if view.editable { " Find feedback to link below." } }
            }
            ul class="evidence-list" {
                @for link in &live {
                    @let lid = &link.id;
                    @let reason_id = format!("reason-{lid}");
                    li class="card evidence" {
                        p class="meta" { (kind_words(&link.kind)) " · linked on " (day_words(&link.linked_on)) }
                        @match &link.content {
                            Some(content) => { blockquote { p { (content) } } }
                            None => { p class="hint" { "The words are no longer shown: the person who said it changed their consent." } }
                        }
                        p { strong { "Why it mattered: " } (link.rationale) }
                        @if view.editable {
                        details open[errors.of(&reason_id).is_some()] {
                            summary {
                                "Unlink this"
                                span class="visually-hidden" { ": " (first_words(link.content.as_deref().unwrap_or(&link.rationale), 8)) }
                            }
                            form method="post" action={ "/decisions/" (id) "/unlink" } novalidate {
                                (csrf_field(csrf))
                                input type="hidden" name="link_id" value=(lid);
                                (forms::textarea(&reason_id, "Why are you unlinking it?", &view.value(&reason_id), Some("The link stays in the decision's history, marked as withdrawn, with your reason."), errors))
                                button class="button button--secondary" type="submit" { "Unlink" }
                            }
                        }
                        }
                    }
                }
            }
            @if !withdrawn.is_empty() {
                h3 { "Withdrawn links" }
                ul class="evidence-list" {
                    @for link in &withdrawn {
                        li class="card evidence evidence--withdrawn" {
                            p class="meta" {
                                span class="tag tag--withdrawn" { "Withdrawn" } " "
                                (kind_words(&link.kind)) " · linked on " (day_words(&link.linked_on)) ", withdrawn on " (day_words(link.withdrawn_on.as_deref().unwrap_or_default()))
                            }
                            @if let Some(content) = &link.content { blockquote { p { (content) } } }
                            p { strong { "Why it mattered: " } (link.rationale) }
                            p { strong { "Why it was withdrawn: " } (link.withdrawn_because.as_deref().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn picker_section(
    csrf: &str,
    id: &str,
    decision: &Decision,
    themes: &[ThemeChoice],
    search: Option<&Picked>,
    view: &View,
    errors: &Errors,
) -> Markup {
    let q = view.q.trim();
    let linked_items: Vec<&str> = decision
        .evidence
        .iter()
        .filter(|l| l.withdrawn_on.is_none() && l.kind == "FEEDBACK_ITEM")
        .map(|l| l.target.as_str())
        .collect();
    let hits: Vec<&Hit> = search.map(|s| s.hits.iter().collect()).unwrap_or_default();
    let total = search.map_or(0, |s| s.total);
    let themes: Vec<(String, String)> = std::iter::once((String::new(), "Choose a theme".to_owned()))
        .chain(themes.iter().map(|t| (t.id.clone(), t.name.clone())))
        .collect();
    html! {
        section aria-labelledby="picker-title" id="picker" {
            h2 id="picker-title" { "Link what people said" }
            p { "Search the feedback hubs have shared with commissioners. Only what people agreed commissioners may see is here." }
            form method="get" action={ "/decisions/" (id) "#picker" } role="search" data-picker {
                (forms::input(Input { id: "q", label: "Words to look for", kind: "search", value: &view.q, hint: Some("For example: pharmacy, evening, housing. Results update as you type."), autocomplete: Some("off") }, errors))
                button class="button" type="submit" { "Search" }
            }
            p id="picker-status" class="picker-status" role="status" aria-live="polite" { (picker_status(q, total, hits.len())) }
            div id="picker-results" {
                @if !hits.is_empty() {
                    ol class="results picker-results" {
                        @for node in &hits {
                            @let item = &node.item;
                            @let item_id = item.id.as_str();
                            @let rationale_id = format!("rationale-{item_id}");
                            @let already = linked_items.contains(&item_id)
                                || item.decision_ids.iter().any(|d| d == id);
                            li class="picker-result" {
                                p class="fragment" { (highlighted(&node.fragment, &node.highlights)) }
                                p class="meta" {
                                    (item.hub_name.as_deref().unwrap_or_default()) " · " (day_words(&item.said_on))
                                    @if let Some(about) = &item.about { " · about " (about) }
                                    @for theme in &item.themes { " · " (theme.name) }
                                }
                                @if already {
                                    p { span class="tag tag--met" { "Already linked to this decision" } }
                                } @else {
                                    details open[errors.of(&rationale_id).is_some()] {
                                        summary { "Link this to the decision" span class="visually-hidden" { ": " (first_words(&node.fragment, 8)) } }
                                        form method="post" action={ "/decisions/" (id) "/link" } novalidate {
                                            (csrf_field(csrf))
                                            input type="hidden" name="kind" value="FEEDBACK_ITEM";
                                            input type="hidden" name="item_id" value=(item_id);
                                            input type="hidden" name="q" value=(q);
                                            (forms::textarea(&rationale_id, "Why does this matter to the decision?", &view.value(&rationale_id), Some("This is the \"you said\" people will read beside the decision."), errors))
                                            button class="button" type="submit" { "Link this" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { "Or link a theme" }
            p { "A theme stands for everything people said about it." }
            form method="post" action={ "/decisions/" (id) "/link" } novalidate {
                (csrf_field(csrf))
                input type="hidden" name="kind" value="THEME";
                input type="hidden" name="q" value=(q);
                (forms::select("theme", "Theme", &themes, &view.value("theme"), errors))
                (forms::textarea("theme_rationale", "Why does this theme matter to the decision?", &view.value("theme_rationale"), None, errors))
                button class="button" type="submit" { "Link this theme" }
            }
        }
    }
}

/// What the picker's live status says.
pub(crate) fn picker_status(q: &str, total: i64, shown: usize) -> String {
    if q.is_empty() {
        return "Type a word to find shared feedback.".to_owned();
    }
    match total {
        0 => format!("No shared feedback matches “{q}”."),
        1 => format!("1 shared item matches “{q}”."),
        n if n as usize > shown => format!("{n} shared items match “{q}”. The best {shown} are shown."),
        n => format!("{n} shared items match “{q}”."),
    }
}

/// `GET /decisions/{id}?q=`.
pub async fn show<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    SignedIn { viewer, csrf }: SignedIn,
    Query(query): Query<DecisionQuery>,
) -> Response {
    let editable = may(&viewer, Action::RecordDecision);
    let view = View { q: query.q, done: query.done, editable, ..View::default() };
    decision_page(&backend, &viewer, &csrf, &id, &view).await
}
