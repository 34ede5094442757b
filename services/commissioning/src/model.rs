//! Commissioning's model of the log: decisions, answers, and what it learns of feedback,
//! complaint learning and cases from their events (`State`, folded by `LiveModel`).
//!
//! Commissioning learns about feedback, complaints and cases only by projecting their events,
//! and keeps no more than they share: an item's words are kept only once a hub coordinator has
//! shared it, in its redacted version, and are shown only as far as the item's consent allows
//! at the moment of asking. The same `Fold` replays the log up to any position for the
//! point-in-time view of a decision.
//!
//! The model holds no words in the clear: an item's words stay [`Sealed`] under the speaker's
//! key, and are opened ([`ItemFacts::text_for`]) only when a report or a decision is answered.
//! Once the speaker's key is destroyed they open to nothing, at once, in the running model and
//! in the copy kept on disk (`State` is [`Persist`]).

use std::collections::{BTreeSet, HashMap};

use heard_access::{Actor, Consent, FeedbackFacts};
use heard_api::fold::apply_reference;
use heard_api::{ApiError, ApiResult};
use heard_contracts::reference::Reference;
use heard_contracts::{Event as _, advocacy, commissioning as contract, feedback, rights};
use heard_eventstore::{EventStore, Fold, Persist, RecordedEvent, Sealed};
use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::answer::{self, ACKNOWLEDGEMENT, ANSWER, Answer};
use crate::domain::decision::{self, DECISION, Decision, Evidence};

/// An item's words, as the feedback service seals them: the `text` of a logged, edited or
/// redacted item's personal fields.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Words {
    pub text: String,
}

/// Opens sealed words: `None` once the speaker's key was destroyed (erased), and when they
/// cannot be opened at all (shown as nothing, never as an error that could carry them).
pub fn open_words(store: &EventStore, sealed: &Sealed<Words>) -> Option<String> {
    store.unseal(sealed).ok().flatten().map(|words| words.text)
}

/// A feedback item as commissioning knows it. `text` is the version that left the hub, held
/// (sealed) only once the item was shared; the original words never reach this service's
/// answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ItemFacts {
    pub item: Uuid,
    pub hub: String,
    pub provider: Option<String>,
    pub themes: BTreeSet<String>,
    pub said_on: Option<Date>,
    pub consent: Option<Consent>,
    pub shared_on: Option<Date>,
    pub safeguarding: Option<Uuid>,
    /// The words as shared (redacted where a coordinator redacted them), sealed.
    pub text: Option<Sealed<Words>>,
    /// Pending words until the item is shared (sealed, never answered with).
    original: Option<Sealed<Words>>,
    redacted: Option<Sealed<Words>>,
}

impl ItemFacts {
    pub fn facts(&self) -> FeedbackFacts {
        FeedbackFacts {
            item: self.item,
            hub: self.hub.clone(),
            provider: self.provider.clone(),
            consent: self.consent,
            shared: self.shared_on.is_some(),
            safeguarding: self.safeguarding,
        }
    }

    /// The words `actor` may read here: the shared version, while consent allows it, opened
    /// now (`None` once the speaker was erased).
    pub fn text_for(&self, actor: &Actor, store: &EventStore) -> Option<String> {
        open_words(store, self.readable_by(actor)?)
    }

    /// The sealed words `actor` may read here, without opening them.
    pub fn readable_by(&self, actor: &Actor) -> Option<&Sealed<Words>> {
        heard_access::feedback_view(actor, &self.facts())?;
        self.text.as_ref()
    }

    /// Within the commissioners' consent scope: shared, consent at least `Commissioners`, and
    /// no safeguarding flag.
    pub fn for_commissioners(&self) -> bool {
        self.shared_on.is_some() && self.safeguarding.is_none() && self.consent >= Some(Consent::Commissioners)
    }

    pub fn public(&self) -> bool {
        self.for_commissioners() && self.consent == Some(Consent::Public)
    }
}

/// The learning recorded on a complaint (non-identifying by rule), with what it was about.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Learning {
    pub provider: String,
    pub articles: BTreeSet<u32>,
    pub statements: Vec<String>,
}

/// What this service knows. Kept on disk between starts (`commissioning` in the model store).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub decisions: HashMap<Uuid, Decision>,
    /// Decision ids in the order proposed.
    pub order: Vec<Uuid>,
    pub answers: HashMap<Uuid, Answer>,
    pub items: HashMap<Uuid, ItemFacts>,
    /// Hubs, providers and themes (merged themes keep their last name), from the shared fold.
    pub reference: Reference,
    pub learning: HashMap<Uuid, Learning>,
    /// The advocacy domains cases have been opened in (for advocacy-theme evidence).
    pub advocacy_domains: BTreeSet<String>,
    /// The last event applied: position and chain hash (hex).
    pub position: u64,
    pub chain_head: String,
    /// When the last event applied was recorded (micros since the epoch).
    pub last_recorded_at: i64,
    /// The latest recorded-at time of every event applied (micros since the epoch): a saved
    /// history copy answers "as at" a moment only when this is not after it.
    pub recorded_until: i64,
    /// The first event of each quarter of an hour (UTC), by the latest recorded time so far:
    /// `(recorded at, position)`. A replay up to the end of a quarter hour stops just before
    /// the first of these after it ([`State::replay_end`]), so "as at a day" (whose end is the
    /// end of a quarter hour in every time zone) needs no scan of the log to know where it ends,
    /// whatever zone the model was folded in. At most 96 a day, one a quarter hour written in.
    pub time_marks: Vec<(i64, u64)>,
    /// The last moment of the quarter hour of the last mark (micros): a later event starts one.
    quarter_ends_at: i64,
}

impl Persist for State {
    /// 2: `recorded_until`; 3: `time_marks`.
    const VERSION: u32 = 3;
}

/// A quarter of an hour in microseconds: every time zone's offset is a whole number of them,
/// so the end of a day anywhere is the end of a quarter hour.
const QUARTER_HOUR: i64 = 15 * 60 * 1_000_000;

/// The last microsecond of the quarter hour `micros` falls in.
fn end_of_quarter(micros: i64) -> i64 {
    micros.div_euclid(QUARTER_HOUR).saturating_mul(QUARTER_HOUR).saturating_add(QUARTER_HOUR - 1)
}

/// Whether `until` is the last microsecond of a quarter hour (the end of a day is one).
pub fn ends_a_quarter_hour(until: i64) -> bool {
    end_of_quarter(until) == until
}

fn day_of(micros: i64) -> Option<Date> {
    jiff::Timestamp::from_microsecond(micros).ok().map(|at| at.to_zoned(jiff::tz::TimeZone::system()).date())
}

fn decode<T: DeserializeOwned>(event: &RecordedEvent) -> heard_eventstore::Result<T> {
    event.decode()
}

/// A decision event from the log.
pub fn decision_event(event: &RecordedEvent) -> heard_eventstore::Result<Option<decision::Event>> {
    use decision::Event as E;
    Ok(Some(match event.event_type.as_str() {
        "DecisionProposed" => E::Proposed(decode(event)?),
        contract::DecisionStatusChanged::TYPE => E::StatusChanged(decode(event)?),
        "MilestoneAdded" => E::MilestoneAdded(decode(event)?),
        "MilestoneMet" => E::MilestoneMet(decode(event)?),
        "ProgressRecorded" => E::ProgressRecorded(decode(event)?),
        contract::EvidenceLinked::TYPE => E::EvidenceLinked(decode(event)?),
        contract::EvidenceUnlinked::TYPE => E::EvidenceUnlinked(decode(event)?),
        "OutcomeReviewed" => E::OutcomeReviewed(decode(event)?),
        _ => return Ok(None),
    }))
}

impl Fold for State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        self.position = event.position;
        self.chain_head = hex_of(&event.hash);
        self.last_recorded_at = event.recorded_at_micros;
        if self.time_marks.is_empty() || event.recorded_at_micros > self.quarter_ends_at {
            self.time_marks.push((event.recorded_at_micros, event.position));
            self.quarter_ends_at = end_of_quarter(event.recorded_at_micros);
        }
        self.recorded_until = self.recorded_until.max(event.recorded_at_micros);
        let stream_id = event.stream.id();
        match event.stream.category() {
            DECISION => {
                let Some(domain_event) = decision_event(event)? else { return Ok(()) };
                if let decision::Event::Proposed(_) = &domain_event {
                    if let Some(new) = Decision::from_events([&domain_event]) {
                        self.order.push(new.id);
                        self.decisions.insert(new.id, new);
                    }
                } else if let Some(found) = self.decisions.get_mut(&domain_event.decision()) {
                    found.apply(&domain_event);
                }
            }
            ANSWER => {
                let domain_event = match event.event_type.as_str() {
                    answer::FeedbackAcknowledged::TYPE => answer::Event::Acknowledged(decode(event)?),
                    answer::FeedbackAnswered::TYPE => answer::Event::Answered(decode(event)?),
                    _ => return Ok(()),
                };
                match self.answers.get_mut(&domain_event.item()) {
                    Some(found) => found.apply(&domain_event),
                    None => {
                        if let Some(new) = Answer::from_events([&domain_event]) {
                            self.answers.insert(new.item, new);
                        }
                    }
                }
            }
            ACKNOWLEDGEMENT if event.event_type == answer::FeedbackAcknowledgedTogether::TYPE => {
                let together: answer::FeedbackAcknowledgedTogether = decode(event)?;
                for item in together.items {
                    self.answers
                        .entry(item)
                        .and_modify(|found| found.acknowledge_in_batch(together.on, together.by))
                        .or_insert_with(|| Answer::acknowledged_together(item, together.on, together.by));
                }
            }
            feedback::FEEDBACK => self.apply_feedback(event, stream_id)?,
            rights::COMPLAINT => {
                let Ok(id) = Uuid::parse_str(stream_id) else { return Ok(()) };
                match event.event_type.as_str() {
                    rights::ComplaintReceived::TYPE => {
                        let received: rights::ComplaintReceived = decode(event)?;
                        let learning = self.learning.entry(id).or_default();
                        learning.provider = received.received.provider;
                        learning.articles = received.received.articles;
                    }
                    rights::ComplaintLearningRecorded::TYPE => {
                        let recorded: rights::ComplaintLearningRecorded = decode(event)?;
                        self.learning.entry(id).or_default().statements.push(recorded.learning.statement);
                    }
                    _ => {}
                }
            }
            advocacy::CASE if event.event_type == advocacy::CaseReferred::TYPE => {
                let referred: advocacy::CaseReferred = decode(event)?;
                self.advocacy_domains.insert(referred.domain);
            }
            _ => apply_reference(&mut self.reference, event)?,
        }
        Ok(())
    }
}

pub(crate) fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl State {
    fn apply_feedback(&mut self, event: &RecordedEvent, stream_id: &str) -> heard_eventstore::Result<()> {
        let Ok(id) = Uuid::parse_str(stream_id) else { return Ok(()) };
        if event.event_type == feedback::FeedbackLogged::TYPE {
            let logged: feedback::FeedbackLogged = decode(event)?;
            let text: Option<Sealed<Words>> = event.sealed::<feedback::LoggedText>().map(Sealed::cast);
            self.items.insert(
                id,
                ItemFacts {
                    item: logged.item,
                    hub: logged.hub,
                    provider: logged.provider,
                    themes: logged.themes,
                    said_on: logged.said_on.parse().ok(),
                    consent: Some(logged.consent),
                    shared_on: None,
                    safeguarding: None,
                    text: None,
                    // Words the speaker kept to the hub can never reach commissioners: not even
                    // held here. Others wait (sealed) until a coordinator shares them.
                    original: text.filter(|_| logged.consent >= Consent::Commissioners),
                    redacted: None,
                },
            );
            return Ok(());
        }
        if event.event_type == feedback::FeedbackWithdrawn::TYPE {
            // Taken back by the person who logged it, before anyone moderated it: as if never
            // logged, in every count.
            self.items.remove(&id);
            return Ok(());
        }
        let Some(item) = self.items.get_mut(&id) else { return Ok(()) };
        match event.event_type.as_str() {
            feedback::FeedbackEdited::TYPE => {
                let edited: feedback::FeedbackEdited = decode(event)?;
                let text: Option<Sealed<Words>> = event.sealed::<feedback::EditedPersonal>().map(Sealed::cast);
                item.themes = edited.themes;
                if item.consent >= Some(Consent::Commissioners) && item.shared_on.is_none() {
                    item.original = text;
                }
            }
            feedback::FeedbackRedacted::TYPE => {
                item.redacted = event.sealed::<feedback::RedactedPersonal>().map(Sealed::cast);
                if item.shared_on.is_some() {
                    item.text = item.redacted.clone();
                }
            }
            feedback::FeedbackShared::TYPE => {
                item.shared_on = day_of(event.recorded_at_micros);
                item.text = item.redacted.clone().or_else(|| item.original.take());
                item.original = None;
            }
            feedback::ConsentChanged::TYPE => {
                item.consent = decode::<feedback::ConsentChanged>(event)?.consent;
                if item.consent < Some(Consent::Commissioners) {
                    item.original = None;
                    item.text = None;
                    item.redacted = None;
                }
            }
            feedback::SafeguardingFlagged::TYPE => {
                item.safeguarding = Some(decode::<feedback::SafeguardingFlagged>(event)?.coordinator)
            }
            _ => {}
        }
        Ok(())
    }

    /// Where a replay of the log up to `position`, stopping before the first event recorded
    /// after `until`, ends: the position of the last event it applies. `None` when `until` is
    /// not the end of a quarter hour (the marks know only where those start), or `position` is
    /// past this model's own.
    pub fn replay_end(&self, position: u64, until: Option<i64>) -> Option<u64> {
        if position > self.position {
            return None;
        }
        let Some(until) = until else { return Some(position) };
        if !ends_a_quarter_hour(until) {
            return None;
        }
        let next = self.time_marks.partition_point(|(at, _)| *at <= until);
        Some(match self.time_marks.get(next) {
            Some((_, first_after)) => position.min(first_after - 1),
            None => position,
        })
    }

    /// Decisions, newest proposal first.
    pub fn newest_first(&self) -> impl Iterator<Item = &Decision> {
        self.order.iter().rev().filter_map(|id| self.decisions.get(id))
    }

    /// The first day commissioners answered each item: acknowledged, answered, or linked to a
    /// decision. One pass over answers and links, for a whole report.
    pub fn first_responses(&self) -> HashMap<Uuid, Date> {
        let mut first: HashMap<Uuid, Date> = HashMap::new();
        let mut seen = |item: Uuid, on: Date| {
            first.entry(item).and_modify(|day| *day = (*day).min(on)).or_insert(on);
        };
        for answer in self.answers.values() {
            if let Some(on) = answer.first_response() {
                seen(answer.item, on);
            }
        }
        for link in self.decisions.values().flat_map(|d| d.links.iter()) {
            if let Some(item) = link.evidence.feedback_item() {
                seen(item, link.linked_on);
            }
        }
        first
    }

    /// Checks that evidence exists and is within what commissioners may link.
    pub(crate) fn check_evidence(&self, evidence: &Evidence) -> ApiResult<()> {
        let fine = match evidence {
            Evidence::FeedbackItem { item } => match self.items.get(item) {
                Some(found) if found.for_commissioners() => true,
                Some(_) => {
                    return Err(ApiError::bad_input(
                        "evidence.item",
                        "only feedback shared with commissioners, with the speaker's consent, can be linked",
                    ));
                }
                None => false,
            },
            Evidence::Theme { theme } => self.reference.themes.contains_key(theme),
            Evidence::ComplaintLearning { complaint } => {
                self.learning.get(complaint).is_some_and(|learning| !learning.statements.is_empty())
            }
            Evidence::AdvocacyTheme { dimension, value } => match dimension.as_str() {
                "domain" => self.advocacy_domains.contains(value),
                "theme" => self.reference.themes.contains_key(value),
                _ => return Err(ApiError::bad_input("evidence.dimension", "use domain or theme")),
            },
        };
        if fine { Ok(()) } else { Err(ApiError::bad_input("evidence", "there is no such evidence to link")) }
    }
}
