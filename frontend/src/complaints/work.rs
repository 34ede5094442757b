//! `/complaints/{id}`: one complaint, its clock and its history, as far as the viewer may see
//! it; and `/complaints/{id}/{step}`, the page of a step that needs an answer, posting the
//! step and coming back to the complaint.

use super::*;

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    pub(super) done: Option<String>,
}

pub(super) const DETAIL_FIELDS: &str = "id reference providerName service receivedOn stage earlyResolution outcome closedOn route \
    complainantKind complainantName complainantContact whatHappened outcomeWanted agreedWorkingDays \
    articles { number label } \
    clock { stage acknowledgeBy acknowledgedOn respondBy respondedOn workingDaysLeft overdue urgent paused responsePeriod needsExplanation } \
    extensions { workingDays reason } pauses { from until reason } escalations { to reference } delayExplanations learning";

/// One complaint as GraphQL answers it.
#[derive(Debug, Default, Deserialize)]
struct ComplaintAnswer {
    complaint: Option<Complaint>,
}

/// The complaint `id`, or the page that says it is not there for the viewer (or that the answer
/// could not be read).
pub(super) async fn fetch<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    id: &str,
) -> Result<Complaint, Response> {
    let answer = ask(
        backend,
        viewer,
        &format!("query($id: ID!) {{ complaint(id: $id) {{ {DETAIL_FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await;
    let not_shared = "There is no complaint here that is shared with you.";
    if !answer.errors.is_empty() {
        return Err(not_found(viewer, csrf, not_shared));
    }
    match answer.read::<ComplaintAnswer>("complaint") {
        Ok(ComplaintAnswer { complaint: Some(complaint) }) => Ok(complaint),
        Ok(ComplaintAnswer { complaint: None }) => Err(not_found(viewer, csrf, not_shared)),
        Err(Undecodable) => Err(not_found(viewer, csrf, UNDECODABLE)),
    }
}

fn not_found(viewer: &Viewer, csrf: &str, message: &str) -> Response {
    let body = html! {
        h1 { "Complaint not found" }
        p { (message) }
        p { a href="/complaints" { "Back to complaints" } }
    };
    (StatusCode::NOT_FOUND, page(viewer, "Complaint not found", Some(csrf), body)).into_response()
}

pub(super) fn days_words(n: i64) -> String {
    if n == 1 { "1 working day".to_owned() } else { format!("{n} working days") }
}

/// Whether the viewer answers for the service complained about, and so never learns who
/// complained, nor whether an advocate passed it on or which way it came in.
pub(super) fn withheld(viewer: &Viewer) -> bool {
    !is_handler(viewer) && may(viewer, Action::AnswerForProvider)
}

/// Who complained, as far as the viewer may know.
pub(super) fn complainant_words(viewer: &Viewer, complaint: &Complaint) -> Markup {
    if withheld(viewer) {
        return html! { "Withheld: a service never learns who complained about it." };
    }
    html! {
        (match complaint.complainant_kind.as_str() {
            "NAMED" => "Named",
            "RELAYED_BY_ADVOCATE" => "Passed on by an advocate",
            _ => "Anonymous",
        })
        @if let Some(name) = &complaint.complainant_name { br; (name) }
        @if let Some(contact) = &complaint.complainant_contact { br; (contact) }
    }
}

/// The complaint, its clock and its history.
pub(super) fn complaint_summary(viewer: &Viewer, complaint: &Complaint) -> Markup {
    let clock = &complaint.clock;
    let stage = complaint.stage.as_str();
    html! {
        h2 { "Where it stands" }
        dl class="summary-list" {
            div { dt { "Stage" } dd { (stage_words(stage, is_handler(viewer))) } }
            @if stage == "CLOSED" {
                div { dt { "Outcome" } dd { (words(&OUTCOMES, &complaint.outcome)) ", closed " (complaint.closed_on) } }
            } @else {
                div { dt { "Clock" } dd class="clock" { (clock_words(clock)) } }
            }
            div { dt { "Acknowledge by" } dd {
                (clock.acknowledge_by)
                @if let Some(on) = &clock.acknowledged_on { " (acknowledged " (on) ")" }
            } }
            div { dt { "Respond by" } dd {
                @match &clock.respond_by { Some(by) => { (by) }, None => { "Not while the clock is paused" } }
                @if let Some(on) = &clock.responded_on { " (response sent " (on) ")" }
            } }
            div { dt { "Response period" } dd {
                (days_words(clock.response_period.unwrap_or(20)))
                @if let Some(agreed) = complaint.agreed_working_days { " (" (days_words(agreed)) " agreed with the person who complained, plus any extensions)" }
                @else { " (the usual 20, plus any extensions)" }
            } }
        }
        h2 { "The complaint" }
        dl class="summary-list" {
            div { dt { "Rights not respected" } dd {
                ul class="plain-list" {
                    @for article in &complaint.articles {
                        li { "Right " (article.number) ": " (article.label) }
                    }
                }
            } }
            div { dt { "Reference" } dd { (complaint.reference) } }
            div { dt { "Service provider" } dd { (complaint.provider_name) @if let Some(service) = &complaint.service { " – " (service) } } }
            div { dt { "What happened" } dd { (complaint.what_happened.as_deref().unwrap_or("(erased at the person's request)")) } }
            div { dt { "What they want to happen" } dd { (complaint.outcome_wanted.as_deref().unwrap_or("(erased at the person's request)")) } }
            @if !withheld(viewer) {
                div { dt { "How it came in" } dd { (words(&ROUTES, &complaint.route).split(':').next().unwrap_or_default()) } }
            }
            div { dt { "Who complained" } dd { (complainant_words(viewer, complaint)) } }
            div { dt { "Received" } dd { (complaint.received_on) } }
        }
        h2 { "History" }
        ul class="history" {
            li { "Received " (complaint.received_on) }
            @if let Some(on) = &clock.acknowledged_on { li { "Acknowledged " (on) } }
            @if complaint.early_resolution { li { "Handled by early resolution" } }
            @if let Some(agreed) = complaint.agreed_working_days { li { "Response period agreed: " (days_words(agreed)) } }
            @for extension in &complaint.extensions {
                li { "Extended by " (days_words(extension.working_days)) ": " (extension.reason) }
            }
            @for pause in &complaint.pauses {
                li { "Clock paused " (pause.from)
                    @if let Some(until) = &pause.until { " until " (until) } @else { " (still paused)" }
                    ": " (pause.reason) }
            }
            @if let Some(on) = &clock.responded_on { li { "Response sent " (on) } }
            @if stage == "CLOSED" { li { "Outcome: " (words(&OUTCOMES, &complaint.outcome)) ", " (complaint.closed_on) } }
            @for escalation in &complaint.escalations {
                li { "Went to " (words(&ESCALATIONS, &escalation.to).to_lowercase()) ", reference " (escalation.reference) }
            }
            @for delay in &complaint.delay_explanations { li { "Why it is taking long: " (delay) } }
        }
        @if !complaint.learning.is_empty() {
            h2 { "What should change" }
            ul { @for statement in &complaint.learning { li { (statement) } } }
        }
    }
}

/// `GET /complaints/{id}`.
pub async fn detail<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    SignedIn { viewer, csrf }: SignedIn,
    flashed: Flashed,
    Query(query): Query<DetailQuery>,
) -> Response {
    let csrf = csrf.as_str();
    let complaint = match fetch(&backend, &viewer, csrf, &id).await {
        Ok(complaint) => complaint,
        Err(page) => return page,
    };
    let mut errors = Errors::default();
    flashed.add_error_to(&mut errors);
    let done = query.done.as_deref().and_then(Step::from_slug).map(Step::done);
    let stage = complaint.stage.as_str();
    let clock = &complaint.clock;
    let paused = clock.paused;
    let handler = is_handler(&viewer);
    let pages: Vec<Step> = steps_for(stage, paused).into_iter().filter(|step| step.has_page()).collect();
    let heading = format!("Complaint about {}", complaint.provider_name);
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = done { div class="notice" role="status" { p { (done) } } }
        p { a href="/complaints" { "All complaints" } }
        h1 {
            @if stage != "CLOSED" && clock.overdue { span class="tag tag--overdue" { "Overdue" } " " }
            @else if stage != "CLOSED" && clock.urgent { span class="tag tag--urgent" { "Due soon" } " " }
            (heading)
        }
        @if clock.needs_explanation {
            p class="warning" { "Open for six months: the record must say why it is taking so long." }
        }
        @if handler {
            section class="card next-steps" aria-labelledby="next-title" {
                h2 id="next-title" { "Next steps" }
                (quick_steps(csrf, &id, stage, paused, false))
                @if !pages.is_empty() {
                    ul class="step-links" {
                        @for step in &pages { li { a href={ "/complaints/" (id) "/" (step.slug()) } { (step.label()) } } }
                    }
                }
            }
        }
        div class="complaint-detail" { (complaint_summary(&viewer, &complaint)) }
    };
    let title = if errors.is_empty() { heading } else { format!("Error: {heading}") };
    page(&viewer, &title, Some(csrf), body).into_response()
}

/// The fields on each step's page.
pub(super) fn step_fields(step: Step, complaint: &Complaint, form: &StepForm, errors: &Errors) -> Markup {
    let stage = complaint.stage.as_str();
    let early = complaint.early_resolution;
    html! {
        @match step {
            Step::Period => {
                (forms::input(Input { id: "working_days", label: "How many working days did you agree?", kind: "text", value: &form.working_days, hint: Some("Instead of the usual 20, from the day it was received. 1 to 130 working days: weekends and bank holidays do not count."), autocomplete: Some("off") }, errors))
            }
            Step::Extend => {
                (forms::input(Input { id: "working_days", label: "Extend by how many working days?", kind: "text", value: &form.working_days, hint: Some("1 to 60 working days."), autocomplete: Some("off") }, errors))
                (forms::textarea("reason", "Why does it need longer?", &form.reason, Some("For example: the prescriber is on leave until next month."), errors))
            }
            Step::Pause => {
                (forms::textarea("reason", "Why stop the clock?", &form.reason, Some("For example: waiting to hear back from the person who complained. Resume the clock when things move again."), errors))
            }
            Step::Outcome => {
                @let hint = if stage == "RESPONSE_ISSUED" { "This closes the complaint." } else { "Until the response is sent, a complaint can only be withdrawn, or resolved early if it was handled by early resolution. This closes the complaint." };
                (forms::choices(Choices { id: "outcome", legend: "What was the outcome?", multiple: false, options: outcome_options(stage, early), chosen: vec![form.outcome.clone()], hint: Some(hint) }, errors))
            }
            Step::Escalate => {
                (forms::choices(Choices { id: "to", legend: "Where did the complaint go?", multiple: false, options: options(&ESCALATIONS), chosen: vec![form.to.clone()], hint: None }, errors))
                (forms::input(Input { id: "reference", label: "Their reference", kind: "text", value: &form.reference, hint: Some("The reference they gave it, for example PHSO-1234."), autocomplete: Some("off") }, errors))
            }
            Step::Learning => {
                (forms::textarea("statement", "What should change?", &form.statement, Some("In words that identify nobody: no names, phone numbers or email addresses. Commissioners can link it to a decision."), errors))
            }
            Step::Delay => {
                (forms::textarea("reason", "Why is it taking so long?", &form.reason, Some("Every complaint still open after six months must say why."), errors))
            }
            _ => {}
        }
    }
}

pub(super) fn step_page(
    viewer: &Viewer,
    csrf: &str,
    id: &str,
    step: Step,
    complaint: &Complaint,
    form: &StepForm,
    errors: &Errors,
) -> Markup {
    let title = if errors.is_empty() { step.label().to_owned() } else { format!("Error: {}", step.label()) };
    page(
        viewer,
        &title,
        Some(csrf),
        html! {
            (forms::summary(errors))
            p { a href={ "/complaints/" (id) } { "Back to the complaint" } }
            h1 { (step.label()) }
            p class="lead" {
                "Complaint about " (complaint.provider_name) ", received " (complaint.received_on) ". "
                @if complaint.stage != "CLOSED" { (clock_words(&complaint.clock)) "." }
            }
            @if step == Step::Escalate {
                p { "When the person takes their complaint further: to the provider's own complaints process, or to the ombudsman." }
            }
            form method="post" action={ "/complaints/" (id) "/" (step.slug()) } novalidate {
                (csrf_field(csrf))
                (step_fields(step, complaint, form, errors))
                div class="actions" {
                    button class="button" type="submit" { (step.label()) }
                    a href={ "/complaints/" (id) } { "Cancel" }
                }
            }
        },
    )
}

pub(super) fn handlers_only(viewer: &Viewer, csrf: &str) -> Response {
    let body = html! {
        h1 { "Complaints" }
        p { "Only the complaints team works complaints." }
        p { a href="/complaints" { "Back to complaints" } }
    };
    (StatusCode::FORBIDDEN, page(viewer, "Complaints", Some(csrf), body)).into_response()
}

/// `GET /complaints/{id}/{step}`: the page for a step that needs answers.
pub async fn step_form<B: Backend>(
    State(backend): State<B>,
    Path((id, slug)): Path<(String, String)>,
    SignedIn { viewer, csrf }: SignedIn,
) -> Response {
    let csrf = csrf.as_str();
    let Some(step) = Step::from_slug(&slug) else {
        return (StatusCode::NOT_FOUND, "There is no such step.").into_response();
    };
    if !step.has_page() {
        // A one-click step is a button on the complaint's page.
        return Redirect::to(&format!("/complaints/{id}")).into_response();
    }
    if !is_handler(&viewer) {
        return handlers_only(&viewer, csrf);
    }
    let complaint = match fetch(&backend, &viewer, csrf, &id).await {
        Ok(complaint) => complaint,
        Err(page) => return page,
    };
    if !step.open_at(&complaint.stage, complaint.clock.paused) {
        return Redirect::to(&format!("/complaints/{id}")).into_response();
    }
    step_page(&viewer, csrf, &id, step, &complaint, &StepForm::default(), &Errors::default()).into_response()
}

/// `POST /complaints/{id}/{step}`: runs the step; a one-click step goes back where it came
/// from, a step with a page comes back with its errors beside its fields.
pub async fn step<B: Backend>(
    State(backend): State<B>,
    Path((id, slug)): Path<(String, String)>,
    PostedForm { viewer, csrf, form: fields }: PostedForm<Vec<(String, String)>>,
) -> Response {
    let csrf = csrf.as_str();
    let Some(step) = Step::from_slug(&slug) else {
        return (StatusCode::NOT_FOUND, "There is no such step.").into_response();
    };
    let from_queue = value_of(&fields, "from") == "queue";
    let form = StepForm::from_pairs(&fields);
    let back = |outcome: Result<Step, String>| match (outcome, from_queue) {
        (Ok(step), true) => Redirect::to(&format!("/complaints?done={}#complaint-{id}", step.slug())).into_response(),
        (Ok(step), false) => Redirect::to(&format!("/complaints/{id}?done={}", step.slug())).into_response(),
        (Err(error), true) => {
            let said = Flash::error(error).at(format!("complaint-{id}"));
            flash::redirect(&backend, &viewer, &format!("/complaints#complaint-{}", urlencode(&id)), said)
        }
        (Err(error), false) => {
            flash::redirect(&backend, &viewer, &format!("/complaints/{}", urlencode(&id)), Flash::error(error))
        }
    };
    let again = |complaint: &Complaint, errors: &Errors| {
        let page = step_page(&viewer, csrf, &id, step, complaint, &form, errors);
        no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let request = match step_request(step, &id, &form) {
        Ok(request) => request,
        Err(errors) if step.has_page() => {
            return match fetch(&backend, &viewer, csrf, &id).await {
                Ok(complaint) => again(&complaint, &errors),
                Err(page) => page,
            };
        }
        Err(errors) => return back(Err(errors.0.first().map(|e| e.message.clone()).unwrap_or_default())),
    };
    let answer = ask(&backend, &viewer, request.query, request.variables).await;
    if answer.errors.is_empty() {
        return back(Ok(step));
    }
    if !step.has_page() {
        return back(Err(plain(&answer.errors[0].2)));
    }
    match fetch(&backend, &viewer, csrf, &id).await {
        Ok(complaint) => again(
            &complaint,
            &api_errors(&answer.errors, &["working_days", "reason", "outcome", "to", "reference", "statement"]),
        ),
        Err(page) => page,
    }
}
