//! `POST /decisions/{id}/{step}`: each change to a decision (status, milestone, milestone met,
//! progress, review, link, unlink) as its mutation, and the page's field for each error the
//! API gives back.

use super::*;

/// The page's field for an error the API gave on `step`, about `target` (an item, link or
/// milestone id) where the form is one of many.
pub(crate) fn page_field(step: &str, api_field: &str, target: &str) -> String {
    let api = field_id(api_field);
    match (step, api.as_str()) {
        ("status", "on") => "status_on".to_owned(),
        ("status", _) => "status".to_owned(),
        ("milestone", "due") => "milestone_due".to_owned(),
        ("milestone", _) => "milestone_title".to_owned(),
        ("milestone-met", _) => format!("milestone-{target}"),
        ("progress", "note") => "progress_note".to_owned(),
        ("progress", _) => "percent".to_owned(),
        ("review", _) => "review_summary".to_owned(),
        ("link-theme", "theme") => "theme".to_owned(),
        ("link-theme", _) => "theme_rationale".to_owned(),
        ("link", _) => format!("rationale-{target}"),
        ("unlink", _) => format!("reason-{target}"),
        _ => String::new(),
    }
}

/// A step's mutation, or the error to show without asking.
pub(super) struct Step {
    pub(super) query: &'static str,
    pub(super) variables: Value,
    /// The code for `?done=`, which [`done_words`] turns into the notice.
    pub(super) done: &'static str,
    /// Where to return to on the page.
    pub(super) anchor: &'static str,
    /// The key for [`page_field`], and what the form is about.
    pub(super) kind: &'static str,
    pub(super) target: String,
}

/// What happened, by the code a redirect carries (`?done=status-changed`): the words come
/// from here, never from the address, so a link cannot make Heard say something it did not.
pub(super) fn done_words(code: &str) -> Option<&'static str> {
    Some(match code {
        "proposed" => "The decision is proposed. Now link what people said to it",
        "status-changed" => "The status is changed",
        "milestone-added" => "The milestone is added",
        "milestone-met" => "The milestone is marked as met",
        "progress-recorded" => "Progress is recorded",
        "review-saved" => "The review is saved",
        "theme-linked" => "The theme is linked",
        "linked" => "It is linked",
        "unlinked" => "It is unlinked. It stays in the history, marked as withdrawn",
        _ => return None,
    })
}

pub(super) fn step_for(id: &str, step: &str, pairs: &[(String, String)]) -> Result<Step, (String, String)> {
    let value = |key: &str| value_of(pairs, key);
    let filled = |key: &str| Some(value(key)).filter(|v| !v.trim().is_empty());
    let need = |key: &str, message: &str| -> Result<String, (String, String)> {
        filled(key).ok_or_else(|| (key.to_owned(), message.to_owned()))
    };
    Ok(match step {
        "status" => {
            let status = need("status", "Choose what the decision becomes")?;
            Step {
                query: "mutation($id: ID!, $s: DecisionStatus!, $on: String) { updateDecisionStatus(id: $id, status: $s, on: $on) { id } }",
                variables: json!({ "id": id, "s": status, "on": filled("status_on") }),
                done: "status-changed",
                anchor: "status-section",
                kind: "status",
                target: String::new(),
            }
        }
        "milestone" => {
            let title = need("milestone_title", "Write what will be done")?;
            let due = need("milestone_due", "Give the date it is due")?;
            Step {
                query: "mutation($id: ID!, $t: String!, $d: String!) { addMilestone(id: $id, title: $t, due: $d) { id } }",
                variables: json!({ "id": id, "t": title, "d": due }),
                done: "milestone-added",
                anchor: "we-did",
                kind: "milestone",
                target: String::new(),
            }
        }
        "milestone-met" => {
            let milestone = value("milestone_id");
            Step {
                query: "mutation($id: ID!, $m: ID!) { meetMilestone(id: $id, milestoneId: $m) { id } }",
                variables: json!({ "id": id, "m": milestone }),
                done: "milestone-met",
                anchor: "we-did",
                kind: "milestone-met",
                target: milestone,
            }
        }
        "progress" => {
            let Some(percent) = value("percent").trim().parse::<u8>().ok().filter(|p| *p <= 100) else {
                return Err(("percent".to_owned(), "Give how far along it is as a number from 0 to 100".to_owned()));
            };
            Step {
                query: "mutation($id: ID!, $p: Int!, $n: String!) { recordProgress(id: $id, percent: $p, note: $n) { id } }",
                variables: json!({ "id": id, "p": percent, "n": value("progress_note").trim() }),
                done: "progress-recorded",
                anchor: "we-did",
                kind: "progress",
                target: String::new(),
            }
        }
        "review" => {
            let summary = need("review_summary", "Write what came of the decision")?;
            Step {
                query: "mutation($id: ID!, $s: String!) { reviewOutcome(id: $id, summary: $s) { id } }",
                variables: json!({ "id": id, "s": summary }),
                done: "review-saved",
                anchor: "we-did",
                kind: "review",
                target: String::new(),
            }
        }
        "link" if value("kind") == "THEME" => {
            let theme = need("theme", "Choose a theme")?;
            let rationale = need("theme_rationale", "Say why this theme matters to the decision")?;
            Step {
                query: "mutation($id: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $id, input: $i) { id } }",
                variables: json!({ "id": id, "i": { "kind": "THEME", "theme": theme, "rationale": rationale } }),
                done: "theme-linked",
                anchor: "evidence",
                kind: "link-theme",
                target: String::new(),
            }
        }
        "link" => {
            let item = value("item_id");
            let rationale_id = format!("rationale-{item}");
            let rationale = need(&rationale_id, "Say why this matters to the decision")?;
            Step {
                query: "mutation($id: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $id, input: $i) { id } }",
                variables: json!({ "id": id, "i": { "kind": "FEEDBACK_ITEM", "itemId": item, "rationale": rationale } }),
                done: "linked",
                anchor: "evidence",
                kind: "link",
                target: item,
            }
        }
        "unlink" => {
            let link = value("link_id");
            let reason_id = format!("reason-{link}");
            let reason = need(&reason_id, "Say why you are unlinking it")?;
            Step {
                query: "mutation($id: ID!, $l: ID!, $r: String!) { unlinkEvidence(id: $id, linkId: $l, reason: $r) { id } }",
                variables: json!({ "id": id, "l": link, "r": reason }),
                done: "unlinked",
                anchor: "evidence",
                kind: "unlink",
                target: link,
            }
        }
        _ => return Err((String::new(), "There is no such step".to_owned())),
    })
}

/// `POST /decisions/{id}/{step}`: status, milestone, milestone-met, progress, review, link,
/// unlink. Done, it goes back to the decision with a notice; refused, the page comes back
/// with the error beside the field and what was typed still there.
pub async fn act<B: Backend>(
    State(backend): State<B>,
    Path((id, step)): Path<(String, String)>,
    PostedFormAs { viewer, csrf, form: pairs, .. }: PostedFormAs<Commissioners, Vec<(String, String)>>,
) -> Response {
    if !["status", "milestone", "milestone-met", "progress", "review", "link", "unlink"].contains(&step.as_str()) {
        return (StatusCode::NOT_FOUND, "There is no such step.").into_response();
    }
    let q = value_of(&pairs, "q");
    let mut errors = Errors::default();
    match step_for(&id, &step, &pairs) {
        Err((field, message)) => errors.add(&field, message),
        Ok(found) => {
            let answer = ask(&backend, &viewer, found.query, found.variables).await;
            if answer.errors.is_empty() {
                let search = if q.trim().is_empty() { String::new() } else { format!("q={}&", urlencode(q.trim())) };
                let url = format!("/decisions/{}?{search}done={}#{}", urlencode(&id), found.done, found.anchor);
                return see_other(&url);
            }
            for (field, _, message) in answer.errors {
                errors.add(&page_field(found.kind, field.as_deref().unwrap_or(""), &found.target), plain(&message));
            }
        }
    }
    let view = View { q, done: None, errors, values: pairs, editable: true };
    let mut response = decision_page(&backend, &viewer, &csrf, &id, &view).await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
