//! What the feedback service holds about one person (a data subject), for a subject access
//! request: each item a coordinator attributed to them ([`HeldFeedbackItem`]), in the shape the
//! GraphQL `FeedbackHeld.feedbackItems` answers and `heard subject-access` prints (camelCase).
//!
//! Nothing here widens who sees what: an asker gets only the items they may see in the hub's
//! own view (`heard_access::feedback_view`), with the words that view shows (none once consent
//! was withdrawn or the item erased), and the safeguarding flag only where
//! `FollowUpSafeguarding` allows it. The operator at the command line (no actor) gets every item
//! and every word still readable.

use async_graphql::{Context, ID, Object, SimpleObject};
use heard_access::{Action, Actor, Consent, FeedbackView, Resource};
use heard_api::viewer;
use heard_contracts::privacy::PersonId;
use serde::Serialize;

use crate::domain::Item;
use crate::graphql::{ChannelName, ConsentStatus, ThemeRef};
use crate::service::FeedbackService;

/// One feedback item held about a person.
#[derive(SimpleObject, Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct HeldFeedbackItem {
    pub id: ID,
    /// The hub id, e.g. `arun`.
    pub hub: ID,
    /// The day it was said, `YYYY-MM-DD`.
    pub said_on: String,
    pub channel: ChannelName,
    /// The words as the hub holds them (with the correction of the person who logged them, if
    /// any). `null` once erased, or (for anyone but the operator) once consent was withdrawn.
    pub text: Option<String>,
    /// The version that leaves the hub, when passages were taken out.
    pub redacted_text: Option<String>,
    /// The (chosen) name the speaker gave, if any.
    pub speaker_name: Option<String>,
    pub themes: Vec<ThemeRef>,
    /// The consent given when it was logged, then each change, oldest first.
    pub consent_history: Vec<HeldConsentChange>,
    /// When a coordinator shared it outside the hub.
    pub shared_at: Option<String>,
    /// Whether a risk was disclosed: only for the coordinator the disclosure is with (and the
    /// operator); `null` for anyone else.
    pub safeguarding: Option<bool>,
    /// The item was erased: its facts stay, its words are gone.
    pub erased: bool,
}

/// One step of an item's consent.
#[derive(SimpleObject, Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct HeldConsentChange {
    pub consent: ConsentStatus,
    /// When it was recorded.
    pub at: String,
    /// The account that recorded it.
    pub by: ID,
}

fn held_about(service: &FeedbackService, person: PersonId, actor: Option<&Actor>) -> Vec<HeldFeedbackItem> {
    let items: Vec<Item> = service.read(|state| {
        state
            .order
            .iter()
            .filter_map(|id| state.items.get(id))
            .filter(|item| item.person == Some(person))
            .filter(|item| match actor {
                None => true,
                Some(actor) => {
                    !item.withdrawn && heard_access::feedback_view(actor, &item.facts()) == Some(FeedbackView::Hub)
                }
            })
            .cloned()
            .collect()
    });
    items.into_iter().map(|item| held_item(service, item, actor)).collect()
}

fn held_item(service: &FeedbackService, item: Item, actor: Option<&Actor>) -> HeldFeedbackItem {
    let facts = item.facts();
    let opened = service.opened(&item);
    let (text, redacted_text, speaker_name) = match actor {
        None => (opened.text.clone(), opened.redacted_text.clone(), opened.speaker.name.clone()),
        Some(_) if opened.consent.is_none() => (None, None, None),
        Some(_) => (opened.hub_text().map(str::to_owned), opened.redacted_text.clone(), opened.speaker.name.clone()),
    };
    let safeguarding = match actor {
        None => Some(item.safeguarding.is_some()),
        Some(actor) => heard_access::may(actor, Action::FollowUpSafeguarding, &Resource::Feedback(facts))
            .is_allowed()
            .then_some(item.safeguarding.is_some()),
    };
    let themes = service.read(|state| {
        let mut themes: Vec<ThemeRef> = item
            .logged
            .themes
            .iter()
            .filter_map(|id| state.vocabulary.resolve(id))
            .map(|theme| ThemeRef { id: ID(theme.id.clone()), name: theme.name.clone() })
            .collect();
        themes.dedup_by(|a, b| a.id == b.id);
        themes
    });
    HeldFeedbackItem {
        id: ID(item.logged.item.to_string()),
        hub: ID(item.logged.hub.clone()),
        said_on: item.logged.said_on.clone(),
        channel: item.logged.channel.into(),
        text,
        redacted_text,
        speaker_name,
        themes,
        consent_history: item
            .consent_history
            .iter()
            .map(|step| HeldConsentChange {
                consent: consent_status(step.consent),
                at: heard_api::timestamp(step.at_micros),
                by: ID(step.by.to_string()),
            })
            .collect(),
        shared_at: item.shared_at_micros.map(heard_api::timestamp),
        safeguarding,
        erased: item.erased,
    }
}

fn consent_status(consent: Option<Consent>) -> ConsentStatus {
    match consent {
        None => ConsentStatus::Withdrawn,
        Some(Consent::Hub) => ConsentStatus::Hub,
        Some(Consent::Commissioners) => ConsentStatus::Commissioners,
        Some(Consent::Public) => ConsentStatus::Public,
    }
}

/// The feedback part of a subject access request (`subjectAccess(person)` in the gateway):
/// what this service holds about one person that the asker may see.
pub struct FeedbackHeld {
    pub person: PersonId,
}

#[Object]
impl FeedbackHeld {
    /// The person's feedback items that you may see in their hub's own view (erased ones with
    /// their facts and `erased: true`), in the order they were logged.
    async fn feedback_items(&self, ctx: &Context<'_>) -> Vec<HeldFeedbackItem> {
        let actor = viewer(ctx).actor.clone();
        ctx.data_unchecked::<FeedbackService>().held_about(self.person, Some(&actor))
    }
}

impl FeedbackService {
    /// Everything this service holds about `person` that `actor` may see (each item in its
    /// hub's own view; `None`, the operator at the command line: everything), in log order.
    pub fn held_about(&self, person: PersonId, actor: Option<&Actor>) -> Vec<HeldFeedbackItem> {
        held_about(self, person, actor)
    }
}
