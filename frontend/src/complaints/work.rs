//! `/complaints/{id}`: one complaint, its clock and its history, as far as the viewer may see
//! it; and `/complaints/{id}/{step}`, the page of a step that needs an answer, posting the
//! step and coming back to the complaint.

use super::*;

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    pub(super) done: Option<String>,
}

/// `?from=queue` on a step's page: the step was started from the queue, and goes back there.
#[derive(Debug, Default, Deserialize)]
pub struct StepQuery {
    pub(super) from: Option<String>,
}

pub(super) const DETAIL_FIELDS: &str = "id reference providerName service receivedOn stage earlyResolution outcome closedOn route \
    complainantKind complainantName complainantContact handlerId acknowledgedHow whatHappened outcomeWanted wordsWithheld \
    providerWords agreedWorkingDays \
    articles { number label } \
    clock { stage acknowledgeBy acknowledgedOn respondBy respondedOn workingDaysLeft overdue urgent paused responsePeriod needsExplanation } \
    extensions { workingDays reason personAgreed } pauses { from until reason } escalations { to reference } delayExplanations learning";

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

/// "Acknowledged by phone on 4 December 2026": how, where it was recorded, and the day.
pub(super) fn acknowledged_words(how: &str, on: &str) -> String {
    format!("Acknowledged {}", how_and_when(how, on))
}

/// "by phone on 4 December 2026", or "on 4 December 2026" for an acknowledgement recorded
/// before Heard asked how.
fn how_and_when(how: &str, on: &str) -> String {
    match ACKNOWLEDGEMENT_METHODS.iter().find(|(value, _)| *value == how) {
        Some((_, words)) => format!("{} on {}", words.to_lowercase(), day_words(on)),
        None => format!("on {}", day_words(on)),
    }
}

/// An extension on the timeline: how long, why, and whether the person agreed to wait (said
/// only when it was recorded).
pub(super) fn extension_words(extension: &Extension) -> String {
    let agreed = match extension.person_agreed {
        Some(true) => " The person agreed to wait.",
        Some(false) => " The person did not agree to wait.",
        None => "",
    };
    format!("Extended by {}: {}.{agreed}", days_words(extension.working_days), extension.reason.trim_end_matches('.'))
}

/// What happened and what they want to happen, as far as the viewer may read them: a provider
/// reads none of the words until the complaints team has reviewed them, and the page says so in
/// their place (as it says when they were erased); once the team wrote the words for the
/// provider, those alone.
pub(super) fn words_rows(viewer: &Viewer, complaint: &Complaint) -> Markup {
    let withheld_words = complaint.words_withheld.as_deref().unwrap_or("Erased at the person's request.");
    let written_for_provider = withheld(viewer) && complaint.provider_words == "REDACTED";
    html! {
        div { dt { "What happened" } dd {
            @match &complaint.what_happened {
                Some(said) => {
                    (said)
                    @if written_for_provider { br; span class="hint" { "In the complaints team's words, with anything that could tell you who complained taken out." } }
                }
                None => { span class="withheld" { (withheld_words) } }
            }
        } }
        div { dt { "What they want to happen" } dd {
            @match &complaint.outcome_wanted {
                Some(wanted) => { (wanted) }
                None if written_for_provider => { "Said in the complaints team's words above." }
                None => { span class="withheld" { (withheld_words) } }
            }
        } }
    }
}

/// The complaint, its clock and its history; `handlers` (the complaints team by name, for
/// handlers only) says who works it.
pub(super) fn complaint_summary(
    viewer: &Viewer,
    complaint: &Complaint,
    handlers: Option<&[(String, String)]>,
) -> Markup {
    let clock = &complaint.clock;
    let stage = complaint.stage.as_str();
    html! {
        h2 { "Where it stands" }
        dl class="summary-list" {
            div { dt { "Stage" } dd { (stage_words(stage, is_handler(viewer))) } }
            @if stage == "CLOSED" {
                div { dt { "Outcome" } dd { (words(&OUTCOMES, &complaint.outcome)) ", closed " (day_words(&complaint.closed_on)) } }
            } @else {
                div { dt { "Clock" } dd class="clock" { (clock_words(clock)) } }
            }
            @if let Some(handlers) = handlers {
                div { dt { "Handled by" } dd class="handler" { (handler_words(complaint.handler_id.as_deref(), handlers)) } }
            }
            div { dt { "Acknowledge by" } dd {
                (day_words(&clock.acknowledge_by))
                @if let Some(on) = &clock.acknowledged_on { " (acknowledged " (how_and_when(&complaint.acknowledged_how, on)) ")" }
            } }
            div { dt { "Respond by" } dd {
                @match &clock.respond_by { Some(by) => { (day_words(by)) }, None => { "Not while the clock is paused" } }
                @if let Some(on) = &clock.responded_on { " (response sent " (day_words(on)) ")" }
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
            (words_rows(viewer, complaint))
            @if !withheld(viewer) {
                div { dt { "How it came in" } dd { (words(&ROUTES, &complaint.route).split(':').next().unwrap_or_default()) } }
            }
            div { dt { "Who complained" } dd { (complainant_words(viewer, complaint)) } }
            div { dt { "Received" } dd { (day_words(&complaint.received_on)) } }
        }
        h2 { "History" }
        ul class="history" {
            li { "Received " (day_words(&complaint.received_on)) }
            @if let Some(on) = &clock.acknowledged_on { li { (acknowledged_words(&complaint.acknowledged_how, on)) } }
            @if complaint.early_resolution { li { "Handled by early resolution" } }
            @if let Some(agreed) = complaint.agreed_working_days {
                li { "Response period agreed with the person: " (days_words(agreed)) " instead of the usual 20" }
            }
            @for extension in &complaint.extensions {
                li { (extension_words(extension)) }
            }
            @for pause in &complaint.pauses {
                li { "Clock paused " (day_words(&pause.from))
                    @if let Some(until) = &pause.until { " until " (day_words(until)) } @else { " (still paused)" }
                    ": " (pause.reason) }
            }
            @if let Some(on) = &clock.responded_on { li { "Response sent " (day_words(on)) } }
            @if stage == "CLOSED" { li { "Outcome: " (words(&OUTCOMES, &complaint.outcome)) ", " (day_words(&complaint.closed_on)) } }
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
    // Acknowledging is the first button among the next steps; the other pages are links.
    let pages: Vec<Step> =
        steps_for(stage, paused).into_iter().filter(|step| step.has_page() && *step != Step::Acknowledge).collect();
    let names = if handler { handlers(&backend, &viewer).await } else { None };
    let heading = format!("Complaint about {}", complaint.provider_name);
    let rights =
        crate::people::rights_section(&backend, &viewer, csrf, crate::people::Record::Complaint, &id, &flashed).await;
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = done { div class="notice" role="status" { p { (done) } } }
        p { a href="/complaints" { "All complaints" } }
        h1 {
            @if stage != "CLOSED" && clock.overdue { span class="tag tag--overdue" { "Overdue" } " " }
            @else if stage != "CLOSED" && clock.urgent { span class="tag tag--urgent" { "Due soon" } " " }
            (heading)
        }
        (rights.banner)
        @if clock.needs_explanation {
            p class="warning" { "Open for six months: the record must say why it is taking so long." }
        }
        @if handler {
            section class="card next-steps" aria-labelledby="next-title" {
                h2 id="next-title" { "Next steps" }
                (quick_steps(csrf, &id, stage, paused, false))
                @if !pages.is_empty() {
                    ul class="step-links" {
                        @for step in &pages {
                            li {
                                a href={ "/complaints/" (id) "/" (step.slug()) } aria-describedby=[step.hint().map(|_| format!("hint-{}", step.slug()))] { (step.label()) }
                                @if let Some(hint) = step.hint() { br; span class="hint" id={ "hint-" (step.slug()) } { (hint) } }
                            }
                        }
                    }
                }
            }
        }
        div class="complaint-detail" { (complaint_summary(&viewer, &complaint, names.as_deref())) }
        (rights.section)
    };
    let title = if errors.is_empty() { heading } else { format!("Error: {heading}") };
    page(&viewer, &title, Some(csrf), body).into_response()
}

/// What a step's page shows and keeps: the step, the complaint, what was posted, and the
/// complaints team by name (for assigning).
pub(super) struct StepPage<'a> {
    pub(super) id: &'a str,
    pub(super) step: Step,
    pub(super) complaint: &'a Complaint,
    pub(super) form: &'a StepForm,
    /// `None` when the directory of complaints handlers could not be read.
    pub(super) handlers: Option<&'a [(String, String)]>,
    /// The account id of the handler looking.
    pub(super) me: Option<&'a str>,
}

impl StepPage<'_> {
    /// Whom the complaint can be assigned to: everyone in the team but the one working it now,
    /// after a first, empty "Choose a handler" so nobody is chosen in advance.
    fn assign_choices(&self) -> Option<Vec<(String, String)>> {
        let current = self.complaint.handler_id.as_deref();
        let others: Vec<(String, String)> =
            self.handlers?.iter().filter(|(id, _)| Some(id.as_str()) != current).cloned().collect();
        Some(if others.is_empty() {
            others
        } else {
            std::iter::once((String::new(), "Choose a handler".to_owned())).chain(others).collect()
        })
    }

    /// Whether the page can send its step: assigning needs someone to assign to.
    fn can_send(&self) -> bool {
        self.step != Step::Assign || self.assign_choices().is_some_and(|choices| !choices.is_empty())
    }
}

/// What a step means, in plain words, at the top of its page.
pub(super) fn step_explanation(page: &StepPage<'_>) -> Markup {
    let complaint = page.complaint;
    let received = day_words(&complaint.received_on);
    let period = complaint.clock.response_period.unwrap_or(20);
    html! {
        @match page.step {
            Step::Acknowledge => {
                p { "Tell the person who complained that their complaint has been received and what happens next. Then record here how and when you told them." }
            }
            Step::Period => {
                p { "Use this when the person who complained agrees that the response will take a different time from the usual 20 working days, for example because they will be in hospital." }
                p { "The number you enter replaces the 20 working days, counted from the day the complaint was received (" (received) "). Agreeing again replaces it once more. Extensions are added on top. You can agree a period until the response is sent." }
            }
            Step::Extend => {
                p { "Use this when the response needs longer than the " (days_words(period)) " that apply now, for example because records have to be requested. The working days you enter are added on top." }
                p { "Tell the person why and ask whether they agree to wait. The new date applies either way; if they do not agree, they can take their complaint further. You can extend once the complaint is acknowledged, until the response is sent." }
            }
            Step::Escalate => {
                p { "When the person takes their complaint further: to the provider's own complaints process, or to the ombudsman." }
            }
            Step::Assign => {
                @match (complaint.handler_id.as_deref(), page.handlers) {
                    (Some(id), _) if Some(id) == page.me => p { "It is with you now. Choose who in the complaints team should work on it instead." },
                    (Some(_), Some(handlers)) => p { "It is with " (handler_words(complaint.handler_id.as_deref(), handlers)) " now. Choose who in the complaints team should work on it instead." },
                    (None, _) => p { "Nobody is working on it yet. Choose who in the complaints team should." },
                    (Some(_), None) => p { "Choose who in the complaints team should work on it." },
                }
                p { "They will find it in their queue under Mine." }
            }
            _ => {}
        }
    }
}

/// The fields on each step's page.
pub(super) fn step_fields(page: &StepPage<'_>, errors: &Errors) -> Markup {
    let (complaint, form) = (page.complaint, page.form);
    let stage = complaint.stage.as_str();
    let early = complaint.early_resolution;
    let received = day_words(&complaint.received_on);
    html! {
        @match page.step {
            Step::Acknowledge => {
                (forms::choices(Choices { id: "how", legend: "How did you tell them?", multiple: false, options: options(&ACKNOWLEDGEMENT_METHODS), chosen: vec![form.how.clone()], hint: None }, errors))
                @let on = if form.on.trim().is_empty() { crate::kit::today() } else { form.on.clone() };
                @let hint = format!("Today unless you change it. Not before the complaint was received on {received}, and not in the future.");
                (forms::day_input("on", "When did you tell them?", &on, Some(&hint), errors))
            }
            Step::Period => {
                @let hint = format!("Counted from the day it was received, {received}. 1 to 130 working days: weekends and bank holidays do not count.");
                (forms::input(Input { id: "working_days", label: "How many working days did they agree to?", kind: "text", value: &form.working_days, hint: Some(&hint), autocomplete: Some("off") }, errors))
            }
            Step::Extend => {
                (forms::input(Input { id: "working_days", label: "How many more working days?", kind: "text", value: &form.working_days, hint: Some("1 to 60 working days, added on top."), autocomplete: Some("off") }, errors))
                (forms::textarea("reason", "Why does it need longer?", &form.reason, Some("For example: the prescriber is on leave until next month."), errors))
                (forms::choices(Choices { id: "person_agreed", legend: "Did the person who complained agree to wait longer?", multiple: false, options: options(&PERSON_AGREED), chosen: vec![form.person_agreed.clone()], hint: Some("The history shows their answer.") }, errors))
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
            Step::Assign => {
                @match page.assign_choices() {
                    Some(choices) if !choices.is_empty() => {
                        (forms::select("handler_id", "Who should work on it?", &choices, &form.handler_id, errors))
                    }
                    Some(_) => { p { "There is nobody else in the complaints team to assign it to." } }
                    None => { p { "The list of the complaints team could not be read just now. Try again later." } }
                }
            }
            _ => {}
        }
    }
}

pub(super) fn step_page(viewer: &Viewer, csrf: &str, page: &StepPage<'_>, errors: &Errors) -> Markup {
    let (id, step, complaint) = (page.id, page.step, page.complaint);
    let title = if errors.is_empty() { step.label().to_owned() } else { format!("Error: {}", step.label()) };
    crate::layout::page(
        viewer,
        &title,
        Some(csrf),
        html! {
            (forms::summary(errors))
            p { a href={ "/complaints/" (id) } { "Back to the complaint" } }
            h1 { (step.label()) }
            p class="lead" {
                "Complaint " (complaint.reference) " about " (complaint.provider_name) ", received " (day_words(&complaint.received_on)) ". "
                @if complaint.stage != "CLOSED" { (clock_words(&complaint.clock)) "." }
            }
            (step_explanation(page))
            @if page.can_send() {
                form method="post" action={ "/complaints/" (id) "/" (step.slug()) } novalidate {
                    (csrf_field(csrf))
                    @if page.form.from == "queue" { input type="hidden" name="from" value="queue"; }
                    (step_fields(page, errors))
                    div class="actions" {
                        button class="button" type="submit" { (step.label()) }
                        a href={ "/complaints/" (id) } { "Cancel" }
                    }
                }
            } @else {
                (step_fields(page, errors))
                p { a href={ "/complaints/" (id) } { "Back to the complaint" } }
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
    Query(query): Query<StepQuery>,
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
    let handlers = if step == Step::Assign { handlers(&backend, &viewer).await } else { None };
    let from = if query.from.as_deref() == Some("queue") { "queue" } else { "" };
    let form = StepForm { from: from.to_owned(), ..StepForm::default() };
    let me = viewer.actor.account.map(|account| account.to_string());
    let page = StepPage {
        id: &id,
        step,
        complaint: &complaint,
        form: &form,
        handlers: handlers.as_deref(),
        me: me.as_deref(),
    };
    step_page(&viewer, csrf, &page, &Errors::default()).into_response()
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
    if !is_handler(&viewer) {
        // The API would refuse it too; nothing of the complaint or the team is shown.
        return handlers_only(&viewer, csrf);
    }
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
    let handlers = if step == Step::Assign { handlers(&backend, &viewer).await } else { None };
    let me = viewer.actor.account.map(|account| account.to_string());
    let again = |complaint: &Complaint, errors: &Errors| {
        let page = StepPage { id: &id, step, complaint, form: &form, handlers: handlers.as_deref(), me: me.as_deref() };
        no_store((StatusCode::UNPROCESSABLE_ENTITY, step_page(&viewer, csrf, &page, errors)).into_response())
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
        Ok(complaint) => again(&complaint, &api_errors(&answer.errors, &STEP_FIELDS)),
        Err(page) => page,
    }
}
