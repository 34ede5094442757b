//! What is held about a person in their complaints, for subject access (issue #18): one
//! [`HeldComplaint`] for each complaint of theirs the asker may see whole. The same structs
//! answer GraphQL (`SubjectAccess.complaints`) and serialise as `heard subject-access` prints
//! them, so the two are the same JSON (camelCase, enum values as GraphQL spells them).

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use heard_access::{Action, Actor, Resource};
use heard_api::{record_reads, viewer};
use heard_contracts::privacy::PersonId;
use serde::Serialize;
use uuid::Uuid;

use crate::graphql::{ComplainantKind, OutcomeName, StageName};
use crate::model::{ComplaintPersonal, ComplaintRecord, Step};
use crate::service::RightsService;

/// One complaint of the person's, as held: what they said, how to reach them, and every step
/// with its day. Words read `null` once the person was erased.
#[derive(SimpleObject, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HeldComplaint {
    pub id: ID,
    /// The short reference, e.g. `EX-2026-0042`.
    pub reference: String,
    pub person: ID,
    /// The provider it is about.
    pub provider: ID,
    pub provider_name: Option<String>,
    /// The service complained about, as recorded.
    pub service: Option<String>,
    /// The articles of the charter it cites.
    pub articles: Vec<u32>,
    pub complainant_kind: ComplainantKind,
    pub complainant_name: Option<String>,
    pub complainant_contact: Option<String>,
    /// What happened, in their words.
    pub what_happened: Option<String>,
    pub outcome_wanted: Option<String>,
    /// The words as a handler wrote them for the provider, if they did.
    pub redacted_for_provider: Option<String>,
    /// `YYYY-MM-DD`.
    pub received_on: String,
    pub stage: StageName,
    pub outcome: Option<OutcomeName>,
    /// The day the outcome was recorded.
    pub closed_on: Option<String>,
    /// An erasure covered the complaint: its words are gone, its facts stay.
    pub erased: bool,
    /// Every step, in the order recorded.
    pub steps: Vec<HeldComplaintStep>,
}

/// One step of a complaint.
#[derive(SimpleObject, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct HeldComplaintStep {
    /// `YYYY-MM-DD`: the day of the step, or when it names none (an extension), the day it was
    /// recorded.
    pub on: String,
    /// `received`, `acknowledged`, `period_agreed`, `early_resolution`, `investigation_opened`,
    /// `extended`, `paused`, `resumed`, `responded`, `outcome`, `escalated`, `delay_explained`,
    /// `learning_recorded`, `redacted_for_provider` (a handler wrote the words the provider reads)
    /// or `released_to_provider` (a handler found nothing to take out: the provider reads the
    /// words as written).
    pub step: String,
    /// The facts of the step and the handler's reasons (how it was acknowledged, the working
    /// days added and why, the outcome).
    pub detail: Option<String>,
}

impl From<&Step> for HeldComplaintStep {
    fn from(step: &Step) -> Self {
        HeldComplaintStep { on: step.on.to_string(), step: step.step.clone(), detail: step.detail.clone() }
    }
}

impl HeldComplaint {
    /// The complaint as held, with its words opened (`None` once erased).
    pub fn new(
        record: &ComplaintRecord,
        person: PersonId,
        provider_name: Option<String>,
        words: Option<ComplaintPersonal>,
        redacted: Option<String>,
    ) -> Self {
        let complaint = &record.complaint;
        let words = words.filter(|_| !record.erased);
        HeldComplaint {
            id: ID(complaint.id.to_string()),
            reference: record.reference.clone(),
            person: ID(person.to_string()),
            provider: ID(complaint.provider.clone()),
            provider_name,
            service: complaint.service.clone(),
            articles: complaint.articles.iter().copied().collect(),
            complainant_kind: complaint.complainant.into(),
            complainant_name: words.as_ref().and_then(|w| w.name.clone()),
            complainant_contact: words.as_ref().and_then(|w| w.contact.clone()),
            what_happened: words.as_ref().map(|w| w.what_happened.clone()),
            outcome_wanted: words.as_ref().map(|w| w.outcome_wanted.clone()),
            redacted_for_provider: redacted.filter(|_| !record.erased),
            received_on: complaint.clock.received.to_string(),
            stage: complaint.stage.into(),
            outcome: complaint.outcome.map(Into::into),
            closed_on: record.closed_on.map(|on| on.to_string()),
            erased: record.erased || words.is_none(),
            steps: record.steps.iter().map(HeldComplaintStep::from).collect(),
        }
    }
}

/// Rights' part of a person's subject access (`subjectAccess(person)`, composed in the
/// gateway): the complaints held about them.
#[derive(Clone, Copy, Debug)]
pub struct ComplaintsHeld {
    pub person: PersonId,
}

#[Object]
impl ComplaintsHeld {
    /// Every complaint of the person's that you may see whole, with who complained (complaints
    /// handlers, and the advocate who relayed it; never a provider): what they said, how to
    /// reach them and every step with its day; words read `null` once erased. The reads are
    /// logged.
    async fn complaints(&self, ctx: &Context<'_>) -> Result<Vec<HeldComplaint>> {
        let actor = viewer(ctx).actor.clone();
        let rights = ctx.data_unchecked::<RightsService>();
        let held = rights.held_about(self.person, Some(&actor));
        let read: Vec<Resource> = held
            .iter()
            .filter_map(|complaint| Uuid::parse_str(complaint.id.as_str()).ok())
            .filter_map(|id| rights.complaint(id).map(|record| record.resource()))
            .collect();
        record_reads(ctx, Action::ViewComplaint, &read).await?;
        Ok(held)
    }
}

impl RightsService {
    /// Everything held about `person` in their complaints, for subject access: each complaint
    /// of theirs that `actor` may see whole (`ViewComplaint` and `ViewComplainant`: complaints
    /// handlers and the advocate who relayed it, never a provider), with what they said, their
    /// contact details and every step with its day; words read `null` once erased. `None` is
    /// the operator at the command line, who gets every one. In the order received.
    pub fn held_about(&self, person: PersonId, actor: Option<&Actor>) -> Vec<HeldComplaint> {
        let records: Vec<(ComplaintRecord, Option<String>)> = self.read(|state| {
            state
                .order
                .iter()
                .filter_map(|id| state.complaints.get(id))
                .filter(|record| record.person == Some(person))
                .filter(|record| {
                    actor.is_none_or(|actor| {
                        let resource = record.resource();
                        heard_access::may(actor, Action::ViewComplaint, &resource).is_allowed()
                            && heard_access::may(actor, Action::ViewComplainant, &resource).is_allowed()
                    })
                })
                .map(|record| (record.clone(), state.reference.providers.get(&record.complaint.provider).cloned()))
                .collect()
        });
        records
            .into_iter()
            .map(|(record, provider_name)| {
                let words = self.words(&record);
                let redacted = self.redacted_words(&record);
                HeldComplaint::new(&record, person, provider_name, words, redacted)
            })
            .collect()
    }
}
