//! What is held about a person in their advocacy cases, for subject access (issue #18): one
//! [`HeldCase`] for each case of theirs the asker may view. The same structs answer GraphQL
//! (`SubjectAccess.cases`) and serialise as `heard subject-access` prints them, so the two are
//! the same JSON (camelCase, enum values as GraphQL spells them).

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use heard_access::{Action, Actor, Resource};
use heard_api::record_reads;
use heard_contracts::privacy::PersonId;
use jiff::civil::Date;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::case::Case;
use crate::graphql::{AdvocacyKind, CaseDomain, CaseState};
use crate::model::KeptCase;
use crate::service::{AdvocacyService, resource};

/// One case of the person's, as held: its facts, the client's details and the issue in their
/// words, and everything that happened on it. Words read `null` once the person was erased.
#[derive(SimpleObject, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HeldCase {
    pub id: ID,
    pub person: ID,
    pub kind: AdvocacyKind,
    pub domain: CaseDomain,
    pub state: CaseState,
    /// `YYYY-MM-DD`.
    pub referred_on: String,
    pub accepted_on: Option<String>,
    /// While the case is closed.
    pub closed_on: Option<String>,
    /// An erasure covered the case: its words are gone, its facts stay.
    pub erased: bool,
    pub pseudonym: Option<String>,
    pub client_name: Option<String>,
    pub client_contact: Option<String>,
    /// The issue, in the client's words.
    pub issue: Option<String>,
    /// Everything that happened on the case, in date order.
    pub timeline: Vec<HeldCaseStep>,
}

/// One thing that happened on a case.
#[derive(SimpleObject, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HeldCaseStep {
    /// `YYYY-MM-DD`.
    pub on: String,
    /// `referred`, `accepted`, `declined`, `action`, `consent_recorded`, `closed` or `reopened`.
    pub step: String,
    /// The facts of the step: the kind of action (`letter`), the consent given (`named_services`,
    /// `withdrawn`), the outcome and why it closed (`achieved, issue_resolved`).
    pub detail: Option<String>,
    /// What was written: the note, the reason, the client's view of the outcome.
    pub words: Option<String>,
}

fn step(on: Date, step: &str, detail: Option<String>, words: Option<String>) -> HeldCaseStep {
    HeldCaseStep { on: on.to_string(), step: step.to_owned(), detail, words }
}

impl HeldCase {
    /// The case as held: `kept` is the model's, `opened` the same case with its words opened.
    pub fn new(kept: &KeptCase, opened: &Case, person: PersonId) -> Self {
        let personal = opened.personal.as_ref();
        let mut timeline = vec![step(opened.referred_on, "referred", Some(opened.source.as_str().to_owned()), None)];
        if let Some(on) = opened.accepted_on {
            timeline.push(step(on, "accepted", None, None));
        }
        if let Some((declined, words)) = &opened.declined {
            timeline.push(step(declined.on, "declined", None, words.as_ref().map(|w| w.reason.clone())));
        }
        for (action, words) in &opened.actions {
            let detail = Some(action.kind.as_str().to_owned());
            timeline.push(step(action.on, "action", detail, words.as_ref().map(|w| w.text.clone())));
        }
        for consent in &opened.consent_history {
            let detail = consent.scope.map_or("withdrawn", |scope| scope.as_str()).to_owned();
            timeline.push(step(consent.on, "consent_recorded", Some(detail), None));
        }
        for (closed, words) in &opened.closures {
            let detail = format!("{}, {}", closed.outcome.as_str(), closed.reason.as_str());
            let view = words.as_ref().and_then(|w| w.client_view.clone());
            timeline.push(step(closed.on, "closed", Some(detail), view));
        }
        for (reopened, words) in &opened.reopenings {
            timeline.push(step(reopened.on, "reopened", None, words.as_ref().map(|w| w.reason.clone())));
        }
        // Stable: steps of one day stay in the order above.
        timeline.sort_by(|a, b| a.on.cmp(&b.on));
        HeldCase {
            id: ID(opened.id.to_string()),
            person: ID(person.to_string()),
            kind: opened.kind.into(),
            domain: opened.domain.into(),
            state: opened.state.into(),
            referred_on: opened.referred_on.to_string(),
            accepted_on: opened.accepted_on.map(|on| on.to_string()),
            closed_on: opened.closed_on().map(|on| on.to_string()),
            erased: kept.erased || personal.is_none(),
            pseudonym: personal.map(|p| p.pseudonym.clone()),
            client_name: personal.and_then(|p| p.name.clone()),
            client_contact: personal.and_then(|p| p.contact.clone()),
            issue: personal.map(|p| p.issue.clone()),
            timeline,
        }
    }
}

/// Advocacy's part of a person's subject access (`subjectAccess(person)`, composed in the
/// gateway): the cases held about them.
#[derive(Clone, Copy, Debug)]
pub struct CasesHeld {
    pub person: PersonId,
}

#[Object]
impl CasesHeld {
    /// Every case of the person's that you may view (the advocate a case is assigned to), with
    /// the client's details, the issue and the timeline with its words; words read `null` once
    /// erased. The reads are logged.
    async fn cases(&self, ctx: &Context<'_>) -> Result<Vec<HeldCase>> {
        let actor = heard_api::viewer(ctx).actor.clone();
        let advocacy = ctx.data_unchecked::<AdvocacyService>();
        let held = advocacy.held_about(self.person, Some(&actor));
        let read: Vec<Resource> = advocacy.read(|state| {
            held.iter()
                .filter_map(|case| Uuid::parse_str(case.id.as_str()).ok())
                .filter_map(|id| state.cases.get(&id).map(|kept| resource(kept)))
                .collect()
        });
        record_reads(ctx, Action::ViewCase, &read).await?;
        Ok(held)
    }
}

impl AdvocacyService {
    /// Everything held about `person` in their cases, for subject access: each case of theirs
    /// that `actor` may view (`ViewCase`: the advocate it is assigned to), with the client's
    /// details, the issue and the timeline with its words (`null` once erased). `None` is the
    /// operator at the command line, who gets every case. Referral order.
    pub fn held_about(&self, person: PersonId, actor: Option<&Actor>) -> Vec<HeldCase> {
        let kept: Vec<KeptCase> = self.read(|state| {
            state
                .cases_in_order()
                .filter(|case| case.person == Some(person))
                .filter(|case| {
                    actor.is_none_or(|actor| heard_access::may(actor, Action::ViewCase, &resource(case)).is_allowed())
                })
                .cloned()
                .collect()
        });
        kept.iter().map(|kept| HeldCase::new(kept, &self.open_case(kept), person)).collect()
    }
}
