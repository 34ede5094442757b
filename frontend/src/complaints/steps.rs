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
}

pub(super) const STEPS: [Step; 12] = [
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
        }
    }

    /// What to say once it is done.
    pub(super) fn done(self) -> &'static str {
        match self {
            Step::Acknowledge => "Acknowledged. You are now handling this complaint.",
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
        }
    }

    /// Whether the step needs answers on a page of its own (the others are one button).
    pub(super) fn has_page(self) -> bool {
        !matches!(self, Step::Acknowledge | Step::Investigate | Step::ResolveEarly | Step::Resume | Step::Respond)
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
}

impl StepForm {
    pub(super) fn from_pairs(fields: &[(String, String)]) -> StepForm {
        StepForm {
            working_days: value_of(fields, "working_days"),
            reason: value_of(fields, "reason"),
            outcome: value_of(fields, "outcome"),
            to: value_of(fields, "to"),
            reference: value_of(fields, "reference"),
            statement: value_of(fields, "statement"),
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
    if !errors.is_empty() {
        return Err(errors);
    }
    let days = days.unwrap_or_default();
    let reason = form.reason.trim();
    let (query, variables) = match step {
        Step::Acknowledge => ("mutation($id: ID!) { acknowledgeComplaint(id: $id) { id } }", json!({ "id": id })),
        Step::Investigate => ("mutation($id: ID!) { openInvestigation(id: $id) { id } }", json!({ "id": id })),
        Step::ResolveEarly => ("mutation($id: ID!) { chooseEarlyResolution(id: $id) { id } }", json!({ "id": id })),
        Step::Resume => ("mutation($id: ID!) { resumeComplaint(id: $id) { id } }", json!({ "id": id })),
        Step::Respond => ("mutation($id: ID!) { respondToComplaint(id: $id) { id } }", json!({ "id": id })),
        Step::Period => (
            "mutation($id: ID!, $d: Int!) { agreeComplaintPeriod(id: $id, workingDays: $d) { id } }",
            json!({ "id": id, "d": days }),
        ),
        Step::Extend => (
            "mutation($id: ID!, $d: Int!, $r: String!) { extendComplaint(id: $id, workingDays: $d, reason: $r) { id } }",
            json!({ "id": id, "d": days, "r": reason }),
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

/// The one-click steps open now, as buttons; `from_queue` brings the handler back to the queue.
pub(super) fn quick_steps(csrf: &str, id: &str, stage: &str, paused: bool, from_queue: bool) -> Markup {
    let quick: Vec<Step> = steps_for(stage, paused).into_iter().filter(|step| !step.has_page()).collect();
    html! {
        @if !quick.is_empty() {
            div class="actions" {
                @for (n, step) in quick.iter().enumerate() {
                    form method="post" action={ "/complaints/" (id) "/" (step.slug()) } {
                        (csrf_field(csrf))
                        @if from_queue { input type="hidden" name="from" value="queue"; }
                        button class={ "button" @if n > 0 { " button--secondary" } } type="submit" { (step.label()) }
                    }
                }
            }
        }
    }
}
