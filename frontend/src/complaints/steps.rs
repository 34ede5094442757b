//! A complaints handler's steps: each [`Step`] with its words, the form its page holds,
//! the check of its answers and the mutation it becomes, and the one-click steps offered
//! beside a complaint.

use super::*;

/// One thing a complaints handler can do to a complaint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    Acknowledge,
    Investigate,
    ResolveEarly,
    Resume,
    Respond,
    Period,
    Extend,
    Pause,
    Outcome,
    Escalate,
    Learning,
    Delay,
    Assign,
}

pub(super) const STEPS: [Step; 13] = [
    Step::Acknowledge,
    Step::Investigate,
    Step::ResolveEarly,
    Step::Resume,
    Step::Respond,
    Step::Period,
    Step::Extend,
    Step::Pause,
    Step::Outcome,
    Step::Escalate,
    Step::Learning,
    Step::Delay,
    Step::Assign,
];

impl Step {
    pub(super) fn slug(self) -> &'static str {
        match self {
            Step::Acknowledge => "acknowledge",
            Step::Investigate => "investigate",
            Step::ResolveEarly => "resolve-early",
            Step::Resume => "resume",
            Step::Respond => "respond",
            Step::Period => "period",
            Step::Extend => "extend",
            Step::Pause => "pause",
            Step::Outcome => "outcome",
            Step::Escalate => "escalate",
            Step::Learning => "learning",
            Step::Delay => "delay",
            Step::Assign => "assign",
        }
    }

    pub(super) fn from_slug(slug: &str) -> Option<Step> {
        STEPS.into_iter().find(|step| step.slug() == slug)
    }

    /// The button, link and page title.
    pub(super) fn label(self) -> &'static str {
        match self {
            Step::Acknowledge => "Acknowledge",
            Step::Investigate => "Open an investigation",
            Step::ResolveEarly => "Try early resolution",
            Step::Resume => "Resume the clock",
            Step::Respond => "Record that the response was sent",
            Step::Period => "Agree a response period",
            Step::Extend => "Extend the response period",
            Step::Pause => "Pause the clock",
            Step::Outcome => "Record the outcome",
            Step::Escalate => "Record an escalation",
            Step::Learning => "Record what should change",
            Step::Delay => "Explain why it is taking so long",
            Step::Assign => "Assign to a handler",
        }
    }

    /// What to say once it is done.
    pub(super) fn done(self) -> &'static str {
        match self {
            Step::Acknowledge => "Acknowledged. Unless it was assigned to someone else, you are now handling it.",
            Step::Investigate => "Investigation opened.",
            Step::ResolveEarly => "Early resolution chosen.",
            Step::Resume => "The clock is running again.",
            Step::Respond => "Recorded: the response was sent.",
            Step::Period => "Response period agreed.",
            Step::Extend => "Response period extended.",
            Step::Pause => "The clock is paused.",
            Step::Outcome => "Outcome recorded. The complaint is closed.",
            Step::Escalate => "Escalation recorded.",
            Step::Learning => "Learning recorded. Commissioners can link it to a decision.",
            Step::Delay => "Explanation recorded.",
            Step::Assign => "Assigned. It is in their queue, under Mine.",
        }
    }

    /// A line under the step's link, where the label alone could be mistaken for another step.
    pub(super) fn hint(self) -> Option<&'static str> {
        match self {
            Step::Period => Some("The person agreed a different time for the response than the usual 20 working days."),
            Step::Extend => Some(
                "The response needs longer than the time that applies now. Add working days, say why, and record whether the person agreed.",
            ),
            _ => None,
        }
    }

    /// Whether the step needs answers on a page of its own (the others are one button).
    pub(super) fn has_page(self) -> bool {
        !matches!(self, Step::Investigate | Step::ResolveEarly | Step::Resume | Step::Respond)
    }

    /// Whether the step makes sense for a complaint at `stage` (the API has the last word).
    pub(super) fn open_at(self, stage: &str, paused: bool) -> bool {
        let waiting = matches!(stage, "ACKNOWLEDGED" | "EARLY_RESOLUTION" | "INVESTIGATION");
        match self {
            Step::Acknowledge => stage == "RECEIVED",
            Step::Investigate => matches!(stage, "ACKNOWLEDGED" | "EARLY_RESOLUTION"),
            Step::ResolveEarly => stage == "ACKNOWLEDGED",
            Step::Resume => paused && waiting,
            Step::Respond => !paused && matches!(stage, "EARLY_RESOLUTION" | "INVESTIGATION"),
            Step::Period => stage == "RECEIVED" || waiting,
            Step::Extend => waiting,
            Step::Pause => waiting && !paused,
            Step::Outcome | Step::Delay => stage != "CLOSED",
            Step::Escalate => matches!(stage, "RESPONSE_ISSUED" | "CLOSED"),
            Step::Learning => stage == "CLOSED",
            Step::Assign => stage != "CLOSED",
        }
    }
}

/// The steps open to a complaint now, in the order a handler meets them.
pub(super) fn steps_for(stage: &str, paused: bool) -> Vec<Step> {
    STEPS.into_iter().filter(|step| step.open_at(stage, paused)).collect()
}

/// The outcomes a complaint at `stage` can have: upheld or not only after the response;
/// resolved early only after an early resolution; withdrawn at any time.
pub(super) fn outcome_options(stage: &str, early: bool) -> Vec<(String, String)> {
    OUTCOMES
        .iter()
        .filter(|(value, _)| match *value {
            "WITHDRAWN" => true,
            "RESOLVED_EARLY" => early,
            _ => stage == "RESPONSE_ISSUED",
        })
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}

/// The answers a step's page collects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct StepForm {
    pub(super) working_days: String,
    pub(super) reason: String,
    pub(super) outcome: String,
    pub(super) to: String,
    pub(super) reference: String,
    pub(super) statement: String,
    /// How the acknowledgement was made (`PHONE`, …).
    pub(super) how: String,
    /// The day of the acknowledgement, as typed (`23/11/2026` or `2026-11-23`); empty: today.
    pub(super) on: String,
    /// Whether the person agreed to the extension: `YES` or `NO`.
    pub(super) person_agreed: String,
    pub(super) handler_id: String,
    /// `queue` when the step was started from the queue, to go back there.
    pub(super) from: String,
}

/// The fields of the step pages, for the API's errors to land beside.
pub(super) const STEP_FIELDS: [&str; 10] =
    ["working_days", "reason", "outcome", "to", "reference", "statement", "how", "on", "person_agreed", "handler_id"];

impl StepForm {
    pub(super) fn from_pairs(fields: &[(String, String)]) -> StepForm {
        StepForm {
            working_days: value_of(fields, "working_days"),
            reason: value_of(fields, "reason"),
            outcome: value_of(fields, "outcome"),
            to: value_of(fields, "to"),
            reference: value_of(fields, "reference"),
            statement: value_of(fields, "statement"),
            how: value_of(fields, "how"),
            on: value_of(fields, "on"),
            person_agreed: value_of(fields, "person_agreed"),
            handler_id: value_of(fields, "handler_id"),
            from: if value_of(fields, "from") == "queue" { "queue".to_owned() } else { String::new() },
        }
    }
}

/// The GraphQL a step runs.
#[derive(Debug, PartialEq)]
pub(super) struct StepRequest {
    pub(super) query: &'static str,
    pub(super) variables: Value,
}

/// A step's form as the GraphQL request it makes, or the errors to show beside its fields.
/// Ranges (1–60 working days and so on) are the API's to check.
pub(super) fn step_request(step: Step, id: &str, form: &StepForm) -> Result<StepRequest, Errors> {
    let mut errors = Errors::default();
    let days = form.working_days.trim().parse::<u32>().ok();
    let needs_days = matches!(step, Step::Period | Step::Extend);
    if needs_days && days.is_none() {
        errors.add("working_days", "Enter a whole number of working days, for example 10");
    }
    if matches!(step, Step::Extend | Step::Pause | Step::Delay) && form.reason.trim().is_empty() {
        errors.add(
            "reason",
            match step {
                Step::Extend => "Say why it needs longer",
                Step::Pause => "Say why the clock is stopping",
                _ => "Say why it is taking so long",
            },
        );
    }
    if step == Step::Outcome && !OUTCOMES.iter().any(|(value, _)| *value == form.outcome) {
        errors.add("outcome", "Choose the outcome");
    }
    if step == Step::Escalate {
        if !ESCALATIONS.iter().any(|(value, _)| *value == form.to) {
            errors.add("to", "Choose where the complaint went");
        }
        if form.reference.trim().is_empty() {
            errors.add("reference", "Give the reference they gave the complaint");
        }
    }
    if step == Step::Learning && form.statement.trim().is_empty() {
        errors.add("statement", "Say what should change");
    }
    if step == Step::Acknowledge && !ACKNOWLEDGEMENT_METHODS.iter().any(|(value, _)| *value == form.how) {
        errors.add("how", "Choose how you told them");
    }
    let on = Some(form.on.trim()).filter(|on| !on.is_empty()).map(typed_day);
    if step == Step::Acknowledge
        && let Some(Err(wrong)) = &on
    {
        errors.add("on", wrong.clone());
    }
    let on = on.map(Result::ok);
    let person_agreed = match form.person_agreed.as_str() {
        "YES" => Some(true),
        "NO" => Some(false),
        _ => None,
    };
    if step == Step::Extend && person_agreed.is_none() {
        errors.add("person_agreed", "Say whether the person agreed to wait longer");
    }
    if step == Step::Assign && form.handler_id.trim().is_empty() {
        errors.add("handler_id", "Choose who should work on it");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let days = days.unwrap_or_default();
    let reason = form.reason.trim();
    let (query, variables) = match step {
        Step::Acknowledge => (
            "mutation($id: ID!, $how: AcknowledgementMethod!, $on: String) { acknowledgeComplaint(id: $id, how: $how, on: $on) { id } }",
            json!({ "id": id, "how": form.how, "on": on.flatten() }),
        ),
        Step::Investigate => ("mutation($id: ID!) { openInvestigation(id: $id) { id } }", json!({ "id": id })),
        Step::ResolveEarly => ("mutation($id: ID!) { chooseEarlyResolution(id: $id) { id } }", json!({ "id": id })),
        Step::Resume => ("mutation($id: ID!) { resumeComplaint(id: $id) { id } }", json!({ "id": id })),
        Step::Respond => ("mutation($id: ID!) { respondToComplaint(id: $id) { id } }", json!({ "id": id })),
        Step::Period => (
            "mutation($id: ID!, $d: Int!) { agreeComplaintPeriod(id: $id, workingDays: $d) { id } }",
            json!({ "id": id, "d": days }),
        ),
        Step::Extend => (
            "mutation($id: ID!, $d: Int!, $r: String!, $a: Boolean!) { extendComplaint(id: $id, workingDays: $d, reason: $r, personAgreed: $a) { id } }",
            json!({ "id": id, "d": days, "r": reason, "a": person_agreed }),
        ),
        Step::Pause => (
            "mutation($id: ID!, $r: String!) { pauseComplaint(id: $id, reason: $r) { id } }",
            json!({ "id": id, "r": reason }),
        ),
        Step::Outcome => (
            "mutation($id: ID!, $o: ComplaintOutcome!) { recordComplaintOutcome(id: $id, outcome: $o) { id } }",
            json!({ "id": id, "o": form.outcome }),
        ),
        Step::Escalate => (
            "mutation($id: ID!, $t: EscalationTarget!, $r: String!) { escalateComplaint(id: $id, to: $t, reference: $r) { id } }",
            json!({ "id": id, "t": form.to, "r": form.reference.trim() }),
        ),
        Step::Learning => (
            "mutation($id: ID!, $s: String!) { recordLearning(id: $id, statement: $s) { id } }",
            json!({ "id": id, "s": form.statement.trim() }),
        ),
        Step::Delay => (
            "mutation($id: ID!, $r: String!) { explainComplaintDelay(id: $id, reason: $r) { id } }",
            json!({ "id": id, "r": reason }),
        ),
        Step::Assign => (
            "mutation($id: ID!, $h: ID!) { assignComplaint(id: $id, handlerId: $h) { id } }",
            json!({ "id": id, "h": form.handler_id.trim() }),
        ),
    };
    Ok(StepRequest { query, variables })
}

/// The API's errors, each beside the field it names (or at the top when it names none).
pub(super) fn api_errors(answer_errors: &[(Option<String>, Option<String>, String)], known: &[&str]) -> Errors {
    let mut errors = Errors::default();
    for (field, _, message) in answer_errors {
        let id = field.as_deref().map(field_id).unwrap_or_default();
        let id = if known.contains(&id.as_str()) { id } else { String::new() };
        errors.add(&id, plain(message));
    }
    errors
}

/// The next steps offered beside a complaint: acknowledging (a page of its own, asking how and
/// when) and the one-click steps open now, as buttons; `from_queue` brings the handler back to
/// the queue.
pub(super) fn quick_steps(csrf: &str, id: &str, stage: &str, paused: bool, from_queue: bool) -> Markup {
    let open = steps_for(stage, paused);
    let acknowledge = open.contains(&Step::Acknowledge);
    let quick: Vec<Step> = open.into_iter().filter(|step| !step.has_page()).collect();
    html! {
        @if acknowledge || !quick.is_empty() {
            div class="actions" {
                @if acknowledge {
                    a class="button" href={ "/complaints/" (id) "/acknowledge" @if from_queue { "?from=queue" } } { (Step::Acknowledge.label()) }
                }
                @for (n, step) in quick.iter().enumerate() {
                    form method="post" action={ "/complaints/" (id) "/" (step.slug()) } {
                        (csrf_field(csrf))
                        @if from_queue { input type="hidden" name="from" value="queue"; }
                        button class={ "button" @if n > 0 || acknowledge { " button--secondary" } } type="submit" { (step.label()) }
                    }
                }
            }
        }
    }
}
