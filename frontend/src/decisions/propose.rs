//! `/decisions/new`: proposing a decision. The form, then check your answers (the answers
//! travel in the form, so "Change" comes back to the questions with them kept), then
//! `proposeDecision` and the new decision's page. Each post that goes on answers `303 See
//! Other`: "Continue" to the check page (`GET /decisions/new/check`, the answers in its
//! address as "Change" carries them), proposing to the new decision, so going back or
//! refreshing never sends a form again. The form's `clientMutationId` ([`forms::ONCE_FIELD`])
//! travels with the answers, so "Propose the decision" sent twice proposes one decision.

use super::*;

/// What the propose form holds, carried through the check-your-answers page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Draft {
    pub title: String,
    pub service_area: String,
    pub decided_by: String,
    pub decision_date: String,
    pub ladder_rung: String,
    pub involvement: String,
}

impl Draft {
    /// The fields in the order the form asks them: (id, question on the check page).
    const QUESTIONS: [(&'static str, &'static str); 6] = [
        ("title", "What was decided"),
        ("service_area", "Service area"),
        ("decided_by", "Who decides"),
        ("decision_date", "Decision date"),
        ("ladder_rung", "How far people were involved"),
        ("involvement", "How people were involved"),
    ];

    pub(super) fn get(&self, id: &str) -> &str {
        match id {
            "title" => &self.title,
            "service_area" => &self.service_area,
            "decided_by" => &self.decided_by,
            "decision_date" => &self.decision_date,
            "ladder_rung" => &self.ladder_rung,
            "involvement" => &self.involvement,
            _ => "",
        }
    }

    pub(super) fn set(&mut self, id: &str, value: &str) {
        let slot = match id {
            "title" => &mut self.title,
            "service_area" => &mut self.service_area,
            "decided_by" => &mut self.decided_by,
            "decision_date" => &mut self.decision_date,
            "ladder_rung" => &mut self.ladder_rung,
            "involvement" => &mut self.involvement,
            _ => return,
        };
        value.clone_into(slot);
    }

    /// Reads a draft from form or query pairs; other keys are left out.
    pub(crate) fn from_pairs(pairs: &[(String, String)]) -> Draft {
        let mut draft = Draft::default();
        for (key, value) in pairs {
            draft.set(key, value);
        }
        draft
    }

    /// The draft as a query string, so that a "Change" link brings the form back filled in.
    pub(crate) fn to_query(&self) -> String {
        Draft::QUESTIONS.iter().map(|(id, _)| format!("{id}={}", urlencode(self.get(id)))).collect::<Vec<_>>().join("&")
    }

    /// What is missing or not in the right shape, before anything is sent.
    pub(crate) fn problems(&self) -> Errors {
        let mut errors = Errors::default();
        if self.title.trim().is_empty() {
            errors.add("title", "Write what was decided, or what is proposed");
        }
        if self.service_area.trim().is_empty() {
            errors.add("service_area", "Write which service area it is about");
        }
        if self.decided_by.trim().is_empty() {
            errors.add("decided_by", "Write who decides, for example the DAAT board");
        }
        if self.decision_date.trim().is_empty() {
            errors.add("decision_date", "Give the date it was, or will be, decided");
        } else if let Err(wrong) = heard_contracts::day::parse(&self.decision_date) {
            errors.add("decision_date", crate::kit::plain(&wrong.to_string()));
        }
        if self.rung().is_none() {
            errors.add("ladder_rung", "Choose how far people who use services were involved");
        }
        if self.involvement.trim().is_empty() {
            errors.add("involvement", "Say how people who use services were involved");
        }
        errors
    }

    pub(super) fn rung(&self) -> Option<u8> {
        self.ladder_rung.trim().parse::<u8>().ok().filter(|rung| (1..=8).contains(rung))
    }

    /// How an answer reads on the check page.
    pub(super) fn answer(&self, id: &str) -> String {
        match id {
            "ladder_rung" => match self.rung() {
                Some(rung) => LADDER[usize::from(rung) - 1].2.to_owned(),
                None => String::new(),
            },
            other => self.get(other).trim().to_owned(),
        }
    }

    pub(super) fn input(&self) -> Value {
        json!({
            "title": self.title.trim(), "serviceArea": self.service_area.trim(), "decidedBy": self.decided_by.trim(),
            "decisionDate": self.decision_date.trim(), "ladderRung": self.rung().unwrap_or(0),
            "involvement": self.involvement.trim(),
        })
    }
}

pub(super) fn ladder_options() -> Vec<(String, String)> {
    LADDER.iter().map(|(rung, _, meaning)| (rung.to_string(), (*meaning).to_owned())).collect()
}

/// The form's id as the pairs carry it (a new one when they carry none), and as an address's
/// query part.
fn once_in(pairs: &[(String, String)]) -> String {
    forms::once_of(&value_of(pairs, forms::ONCE_FIELD))
}

fn once_query(once: &str) -> String {
    format!("{}={}", forms::ONCE_FIELD, urlencode(once))
}

pub(super) fn propose_page(viewer: &Viewer, csrf: &str, draft: &Draft, once: &str, errors: &Errors) -> Markup {
    let body = html! {
        p { a href="/decisions" { "Back to decisions" } }
        h1 { "Propose a decision" }
        p class="lead" { "Record a decision, taken or planned. You can link what people said to it next." }
        form method="post" action="/decisions/new" novalidate {
            (csrf_field(csrf))
            (forms::once_field(once))
            input type="hidden" name="step" value="check";
            (forms::input(Input { id: "title", label: "What was decided, or is proposed?", kind: "text", value: &draft.title, hint: Some("For example: evening opening at the Crawley hub"), autocomplete: Some("off") }, errors))
            (forms::input(Input { id: "service_area", label: "Service area", kind: "text", value: &draft.service_area, hint: Some("For example: adult drug and alcohol treatment"), autocomplete: Some("off") }, errors))
            (forms::input(Input { id: "decided_by", label: "Who decides?", kind: "text", value: &draft.decided_by, hint: Some("For example: West Sussex DAAT board"), autocomplete: Some("off") }, errors))
            (forms::day_input("decision_date", "Decision date", &draft.decision_date, Some("The day it was, or will be, decided."), errors))
            (forms::choices(Choices { id: "ladder_rung", legend: "How far were people who use services involved?", multiple: false, options: ladder_options(), chosen: vec![draft.ladder_rung.clone()], hint: Some("From the least say to the most (Arnstein's ladder of participation). These words are shown beside the decision, so choose the one that describes what really happened.") }, errors))
            (forms::textarea("involvement", "How were people involved?", &draft.involvement, Some("For example: hub members raised it at forums, and two peer representatives sat on the working group."), errors))
            button class="button" type="submit" { "Continue" }
        }
    };
    form_page(viewer, "Propose a decision", Some(csrf), errors, body)
}

pub(super) fn check_page(viewer: &Viewer, csrf: &str, draft: &Draft, once: &str) -> Markup {
    let query = format!("{}&{}", draft.to_query(), once_query(once));
    page(
        viewer,
        "Check your answers",
        Some(csrf),
        html! {
            p { a href={ "/decisions/new?" (query) } { "Back to the form" } }
            h1 { "Check your answers before proposing the decision" }
            dl class="summary-list check-answers" {
                @for (id, question) in Draft::QUESTIONS {
                    div {
                        dt { (question) }
                        dd { (draft.answer(id)) }
                        dd class="change" {
                            a href={ "/decisions/new?" (query) "#" (id) } { "Change" span class="visually-hidden" { " " (question.to_lowercase()) } }
                        }
                    }
                }
            }
            h2 { "Now propose the decision" }
            p { "It is recorded as proposed. You can then link feedback to it and move it on as it is agreed and carried out." }
            form method="post" action="/decisions/new" novalidate {
                (csrf_field(csrf))
                (forms::once_field(once))
                input type="hidden" name="step" value="propose";
                @for (id, _) in Draft::QUESTIONS {
                    input type="hidden" name=(id) value=(draft.get(id));
                }
                button class="button" type="submit" { "Propose the decision" }
            }
        },
    )
}

/// `GET /decisions/new`, filled in from the query when coming back from "Change".
pub async fn new_form(
    SignedInAs { viewer, csrf, .. }: SignedInAs<Commissioners>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let mut draft = Draft::from_pairs(&pairs);
    if pairs.is_empty() {
        draft.decision_date = today();
    }
    propose_page(&viewer, &csrf, &draft, &once_in(&pairs), &Errors::default()).into_response()
}

/// `GET /decisions/new/check`: check your answers, read from the address ("Continue" sends
/// them here). Answers that are not all there (an address made by hand) bring the form back
/// with what is missing beside its question.
pub async fn check_form(
    SignedInAs { viewer, csrf, .. }: SignedInAs<Commissioners>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let draft = Draft::from_pairs(&pairs);
    let once = once_in(&pairs);
    let errors = draft.problems();
    if !errors.is_empty() {
        return (StatusCode::UNPROCESSABLE_ENTITY, propose_page(&viewer, &csrf, &draft, &once, &errors))
            .into_response();
    }
    check_page(&viewer, &csrf, &draft, &once).into_response()
}

/// What `proposeDecision` answers.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ProposeAnswer {
    propose_decision: Option<Proposed>,
}

#[derive(Debug, Deserialize)]
struct Proposed {
    id: String,
}

/// `POST /decisions/new`: `step=check` checks the answers and shows them back;
/// `step=propose` runs `proposeDecision` and opens the new decision.
pub async fn propose<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, form: pairs, .. }: PostedFormAs<Commissioners, Vec<(String, String)>>,
) -> Response {
    let draft = Draft::from_pairs(&pairs);
    let mut once = once_in(&pairs);
    let mut errors = draft.problems();
    if errors.is_empty() && value_of(&pairs, "step") != "propose" {
        return see_other(&format!("/decisions/new/check?{}&{}", draft.to_query(), once_query(&once)));
    }
    if errors.is_empty() {
        let mut input = draft.input();
        input["clientMutationId"] = json!(once);
        let answer = submit(&backend, &viewer, "proposeDecision", "id", input).await;
        if answer.errors.is_empty() {
            match answer.read::<ProposeAnswer>("proposeDecision") {
                Ok(ProposeAnswer { propose_decision: Some(Proposed { id }) }) => {
                    return see_other(&format!("/decisions/{}?done=proposed", urlencode(&id)));
                }
                _ => errors.add("", UNDECODABLE.to_owned()),
            }
        }
        let on_page = |api_field: Option<&str>| {
            let field = api_field.map(field_id).filter(|f| Draft::QUESTIONS.iter().any(|(id, _)| id == f));
            field.unwrap_or_default()
        };
        if errors.add_answer_to_create(&answer.errors, on_page) {
            once = forms::new_once();
        }
    }
    let mut response =
        (StatusCode::UNPROCESSABLE_ENTITY, propose_page(&viewer, &csrf, &draft, &once, &errors)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
