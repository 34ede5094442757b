//! `/complaints`: the queue. A handler's open complaints ordered by how urgent their clock is,
//! each with who works it and its next step; "Mine", the open ones assigned to the handler
//! looking; and closed ones on a tab of their own. A provider responder's complaints about their
//! service; an advocate's complaints they relayed.

use super::*;

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    pub(super) done: Option<String>,
    pub(super) show: Option<String>,
    /// A complaint's short reference to find (`EX-2026-0042`).
    pub(super) reference: Option<String>,
}

pub(super) const QUEUE_FIELDS: &str = "id reference receivedOn providerName stage outcome closedOn handlerId whatHappened wordsWithheld articles { number label } \
    clock { stage acknowledgeBy respondBy workingDaysLeft overdue urgent paused needsExplanation }";

/// Most urgent first: fewest working days left; paused and clock-less ones last.
pub(super) fn by_urgency(complaints: &mut [Complaint]) {
    complaints.sort_by(|a, b| {
        (a.clock.working_days_left.unwrap_or(i64::MAX), &a.received_on)
            .cmp(&(b.clock.working_days_left.unwrap_or(i64::MAX), &b.received_on))
    });
}

/// The queue as GraphQL answers it.
#[derive(Debug, Default, Deserialize)]
struct QueueAnswer {
    complaints: Option<Connection<Complaint>>,
}

/// Which tab of the queue: open complaints, the open ones assigned to me, or closed ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tab {
    Open,
    Mine,
    Closed,
}

impl Tab {
    /// The tab `?show=` asks for; "mine" only for complaints handlers (nobody else has any, and
    /// asking tells them nothing: they get the open tab).
    pub(super) fn from_query(show: Option<&str>, handler: bool) -> Tab {
        match show {
            Some("closed") => Tab::Closed,
            Some("mine") if handler => Tab::Mine,
            _ => Tab::Open,
        }
    }
}

/// `GET /complaints`: open complaints, most urgent first (or `?show=mine`, `?show=closed`).
pub async fn queue<B: Backend>(
    State(backend): State<B>,
    SignedIn { viewer, csrf }: SignedIn,
    flashed: Flashed,
    Query(query): Query<QueueQuery>,
) -> Response {
    let csrf = csrf.as_str();
    let handler = is_handler(&viewer);
    let provider = may(&viewer, Action::AnswerForProvider) && !handler;
    let advocate = may(&viewer, Action::RelayComplaint) && !handler;
    let raiser = may_raise(&viewer);
    let tab = Tab::from_query(query.show.as_deref(), handler);
    let closed = tab == Tab::Closed;
    let wanted = query.reference.as_deref().map(str::trim).filter(|reference| !reference.is_empty());
    // A reference finds the complaint whether it is open or closed, and whoever works it.
    let answer = ask(
        &backend,
        &viewer,
        &format!(
            "query($open: Boolean, $reference: String, $mine: Boolean) {{ complaints(open: $open, reference: $reference, mine: $mine, first: 100) \
             {{ edges {{ node {{ {QUEUE_FIELDS} }} }} }} }}"
        ),
        json!({ "open": wanted.is_none().then_some(!closed), "reference": wanted,
            "mine": wanted.is_none() && tab == Tab::Mine }),
    )
    .await;
    let names = if handler { handlers(&backend, &viewer).await } else { None };
    if let Some((_, Some(code), message)) = answer.errors.first()
        && code == "FORBIDDEN"
    {
        let body = html! { h1 { "Complaints" } p { (plain(message)) } };
        return (StatusCode::FORBIDDEN, page(&viewer, "Complaints", Some(csrf), body)).into_response();
    }
    let mut errors = Errors::default();
    let mut complaints = match answer.read::<QueueAnswer>("complaints") {
        Ok(data) => data.complaints.unwrap_or_default().nodes(),
        Err(Undecodable) => {
            errors.add("", UNDECODABLE.to_owned());
            Vec::new()
        }
    };
    if closed {
        complaints.sort_by(|a, b| b.closed_on.cmp(&a.closed_on));
    } else {
        by_urgency(&mut complaints);
    }
    flashed.add_error_to(&mut errors);
    let done = query.done.as_deref().and_then(Step::from_slug).map(Step::done);
    let overdue = complaints.iter().filter(|c| c.clock.overdue).count();
    let heading = if handler {
        "Complaints queue"
    } else if provider {
        "Complaints about your service"
    } else if advocate {
        "Complaints you passed on"
    } else {
        "Complaints"
    };
    let title = if errors.is_empty() { heading.to_owned() } else { format!("Error: {heading}") };
    let body = html! {
        (forms::summary(&errors))
        @if let Some(done) = done { div class="notice" role="status" { p { (done) } } }
        h1 { (heading) }
        @if provider {
            p class="lead" { "Complaints about your service under the Bill of Rights. You see the clock and, once the complaints team has checked the words for anything that could tell you who complained, what happened; you never see who complained. The complaints team handles each one." }
        } @else if handler {
            p class="lead" {
                @match tab {
                    Tab::Closed => { (complaints.len()) " closed, newest first." }
                    Tab::Mine => { (complaints.len()) " open and assigned to you, " (overdue) " overdue. The most urgent come first." }
                    Tab::Open => { (complaints.len()) " open, " (overdue) " overdue. The most urgent come first. Working days leave out weekends and bank holidays." }
                }
            }
        } @else if raiser {
            p class="lead" { "When someone tells you a right in the Bill of Rights was not respected, record it here. The complaints team acknowledges every complaint within 3 working days, and the service it is about never learns who complained." }
            @if advocate { p { "Below are the complaints you passed on for your clients." } }
        } @else {
            p class="lead" { "Complaints are seen only by the complaints team, the service each one is about (never who made it) and the advocate who passed it on. Commissioners see complaint patterns on the dashboard, in numbers only." }
        }
        @if raiser {
            p { a class={ "button" @if handler { " button--secondary" } } href="/complaints/new" { "Raise a complaint" } }
        }
        @if handler || provider || advocate {
            form class="find" method="get" action="/complaints" role="search" {
                label for="reference" { "Find a complaint by its reference" }
                span class="hint" id="reference-hint" { "For example EX-2026-0042" }
                input id="reference" name="reference" type="text" autocomplete="off" spellcheck="false" aria-describedby="reference-hint" value=[wanted];
                button type="submit" class="button button--secondary" { "Find" }
            }
            @if wanted.is_some() {
                p role="status" {
                    @if complaints.is_empty() { "No complaint you may see has that reference." }
                    @else { "The complaint with that reference:" }
                    " " a href="/complaints" { "Back to the queue" }
                }
            }
            nav class="tabs" aria-label="Which complaints" {
                ul {
                    li { a href="/complaints" aria-current=[(tab == Tab::Open).then_some("page")] { "Open" } }
                    @if handler {
                        li { a href="/complaints?show=mine" aria-current=[(tab == Tab::Mine).then_some("page")] { "Mine" } }
                    }
                    li { a href="/complaints?show=closed" aria-current=[closed.then_some("page")] { "Closed" } }
                }
            }
            @if complaints.is_empty() && wanted.is_none() {
                p { @match tab {
                    Tab::Closed => "No closed complaints to show.",
                    Tab::Mine => "Nothing is assigned to you just now. Complaints you acknowledge, or that are assigned to you, show here.",
                    Tab::Open => "No open complaints to show.",
                } }
            }
        }
        @for complaint in &complaints {
            @let id = complaint.id.as_str();
            @let clock = &complaint.clock;
            @let overdue = !closed && clock.overdue;
            @let urgent = !closed && clock.urgent;
            @let stage = complaint.stage.as_str();
            article id={ "complaint-" (id) } class={ "card complaint" @if overdue { " complaint--overdue" } @else if urgent { " complaint--urgent" } } aria-labelledby={ "title-" (id) } tabindex="-1" {
                h2 id={ "title-" (id) } class="item-title" {
                    @if overdue { span class="tag tag--overdue" { "Overdue" } " " } @else if urgent { span class="tag tag--urgent" { "Due soon" } " " }
                    a href={ "/complaints/" (id) } { (complaint.provider_name) ", received " (day_words(&complaint.received_on)) }
                }
                @if closed {
                    p class="clock" { strong { "Closed " (day_words(&complaint.closed_on)) ": " (words(&OUTCOMES, &complaint.outcome)) } }
                } @else {
                    p class="clock" { strong { (clock_words(clock)) } }
                }
                @if clock.needs_explanation {
                    p class="warning" {
                        "Open for six months: "
                        @if handler { a href={ "/complaints/" (id) "/delay" } { "record why it is taking so long" } } @else { "the complaints team must record why it is taking so long" }
                        "."
                    }
                }
                p class="reference" { "Reference " (complaint.reference) }
                p class="meta" { (stage_words(stage, handler)) " · Articles: " (articles_words(complaint)) }
                @if let Some(names) = &names {
                    p class="assigned" {
                        "Handled by: " strong { (handler_words(complaint.handler_id.as_deref(), names)) }
                        @if !closed {
                            " · " a href={ "/complaints/" (id) "/assign?from=queue" } {
                                @if complaint.handler_id.is_some() { "Re-assign" } @else { "Assign" }
                                span class="visually-hidden" { " " (complaint.reference) }
                            }
                        }
                    }
                }
                @match (&complaint.what_happened, &complaint.words_withheld) {
                    (Some(what), _) => { blockquote class="said" { p { (what) } } }
                    (None, Some(why)) => { p class="withheld" { (why) } }
                    (None, None) => {}
                }
                @if handler && !closed {
                    (quick_steps(csrf, id, stage, clock.paused, true))
                }
            }
        }
    };
    page(&viewer, &title, Some(csrf), body).into_response()
}
