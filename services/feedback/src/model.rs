//! The feedback service's model of the log (`State`): items, meetings, the theme vocabulary,
//! safeguarding disclosures with their follow-up, each hub's gazetteer, and what it needs from other services' events through `heard-contracts`: hubs, providers and
//! accounts' roles and hubs (the shared reference fold), and commissioners' answers and
//! decision links, which move each item's loop. Applying an event notes the items whose search
//! document it changed ([`State::take_touched`]), so the follower feeds the search index in
//! the same order as the model.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use heard_contracts::reference::Reference;
use heard_contracts::{Event as _, commissioning, feedback as contract};
use heard_eventstore::{Fold, Personal, RecordedEvent, SubjectId};
use uuid::Uuid;

use crate::domain::gazetteer::{GAZETTEER, Gazetteer, GazetteerEntryAdded, GazetteerEntryRemoved, GazetteerName};
use crate::domain::safeguarding::{
    Disclosure, FollowUpEvent, Notes, SAFEGUARDING, SafeguardingActionRecorded, SafeguardingClosed,
    SafeguardingHandedOver, SafeguardingNotes,
};
use crate::domain::themes::{THEME, ThemeAdded, ThemeMerged, ThemeRenamed, Vocabulary};
use crate::domain::*;

/// A meeting as projected: started in meeting mode ([`MeetingStarted`]) and then recorded, or
/// recorded in one go afterwards ([`MeetingRecorded`] alone).
#[derive(Clone, Debug)]
pub struct Meeting {
    pub id: Uuid,
    pub hub: String,
    /// `YYYY-MM-DD`.
    pub held_on: String,
    /// Where it was held, when it was started in meeting mode.
    pub place: Option<String>,
    /// Who started it (or recorded it, when it was recorded in one go).
    pub by: Uuid,
    /// How many came: `None` while the meeting is still going.
    pub attendance: Option<u32>,
    /// Items named when it was recorded; items logged into it are found by their `meeting`.
    pub recorded_items: Vec<Uuid>,
    /// `None` before it is recorded, or once erased.
    pub minutes: Option<String>,
    /// The stream revision this state is at.
    pub revision: u64,
}

impl Meeting {
    /// Still going: items can be logged into it.
    pub fn is_open(&self) -> bool {
        self.attendance.is_none()
    }
}

/// What this service knows, in memory.
#[derive(Debug, Default)]
pub struct State {
    pub items: HashMap<Uuid, Item>,
    /// Items in the order they were logged.
    pub order: Vec<Uuid>,
    pub(crate) subjects: HashMap<Uuid, SubjectId>,
    pub meetings: BTreeMap<Uuid, Meeting>,
    /// Items flagged for safeguarding, by item, with their follow-up.
    pub disclosures: HashMap<Uuid, Disclosure>,
    pub vocabulary: Vocabulary,
    /// Each hub's names and places to take out (hub id → its list).
    pub gazetteers: HashMap<String, Gazetteer>,
    pub import_keys: HashSet<String>,
    /// Hubs, providers and accounts' roles and hubs (never names or emails), from the shared
    /// fold. Themes are this service's own: [`Vocabulary`] folds them for its commands.
    pub reference: Reference,
    /// Evidence links to feedback items that stand: link id → (item, decision), from the
    /// commissioning service's events.
    evidence_links: HashMap<Uuid, (Uuid, Uuid)>,
    /// Decisions whose status is `done` now.
    done_decisions: HashSet<Uuid>,
    /// Decisions not taken or withdrawn: links to them no longer move an item's loop.
    set_aside_decisions: HashSet<Uuid>,
    /// Items whose search document changed since the follower last took them.
    touched: Vec<Uuid>,
}

impl Fold for State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        let touched = self.apply_event(event)?;
        self.touched.extend(touched);
        Ok(())
    }
}

impl State {
    /// Applies one event; returns the items whose search document it changed: the item of a
    /// feedback event, or the items whose loop state a commissioner's event moved.
    fn apply_event(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<Vec<Uuid>> {
        let stream_id = event.stream.id();
        match event.stream.category() {
            FEEDBACK => {
                let Ok(id) = Uuid::parse_str(stream_id) else { return Ok(vec![]) };
                let domain_event = match event.event_type.as_str() {
                    contract::FeedbackLogged::TYPE => {
                        let logged: FeedbackLogged = event.decode()?;
                        let personal: Option<LoggedPersonal> = event.personal_fields()?;
                        if let Some(subject) = heard_api::fold::subject_of(&event.personal) {
                            self.subjects.insert(id, subject);
                        }
                        if let Some(key) = &logged.import_key {
                            self.import_keys.insert(key.clone());
                        }
                        self.items.insert(id, Item::new(logged, personal, event.recorded_at_micros));
                        self.order.push(id);
                        return Ok(vec![id]);
                    }
                    FeedbackRedacted::TYPE => {
                        let personal: Option<RedactedPersonal> = event.personal_fields()?;
                        Event::Redacted(
                            event.decode()?,
                            personal.unwrap_or(RedactedPersonal { text: "[erased]".into() }),
                        )
                    }
                    FeedbackShared::TYPE => Event::Shared(event.decode()?),
                    FeedbackHeld::TYPE => Event::Held(event.decode()?),
                    FeedbackReleased::TYPE => Event::Released(event.decode()?),
                    ConsentChanged::TYPE => Event::ConsentChanged(event.decode()?),
                    SafeguardingFlagged::TYPE => Event::SafeguardingFlagged(event.decode()?),
                    FeedbackFedBack::TYPE => Event::FedBack(event.decode()?),
                    FeedbackWithdrawn::TYPE => Event::Withdrawn(event.decode()?),
                    FeedbackEdited::TYPE => {
                        let personal: Option<EditedPersonal> = event.personal_fields()?;
                        Event::Edited(event.decode()?, personal.unwrap_or(EditedPersonal { text: String::new() }))
                    }
                    _ => return Ok(vec![]),
                };
                if let Some(item) = self.items.get_mut(&id) {
                    item.apply_at(&domain_event, event.recorded_at_micros);
                    if let Event::SafeguardingFlagged(flagged) = &domain_event {
                        let hub = item.logged.hub.clone();
                        let disclosure = Disclosure::flagged(id, hub, flagged, event.recorded_at_micros);
                        self.disclosures.insert(id, disclosure);
                    }
                    return Ok(vec![id]);
                }
            }
            SAFEGUARDING => {
                let Ok(id) = Uuid::parse_str(stream_id) else { return Ok(vec![]) };
                let notes = match event.personal_fields::<SafeguardingNotes>()? {
                    Some(written) => Notes::Written(written.notes),
                    None if matches!(event.personal, Personal::Erased { .. }) => Notes::Erased,
                    None => Notes::None,
                };
                let follow_up = match event.event_type.as_str() {
                    SafeguardingActionRecorded::TYPE => FollowUpEvent::ActionRecorded(event.decode()?, notes),
                    SafeguardingHandedOver::TYPE => FollowUpEvent::HandedOver(event.decode()?, notes),
                    SafeguardingClosed::TYPE => FollowUpEvent::Closed(event.decode()?, notes),
                    _ => return Ok(vec![]),
                };
                if let Some(disclosure) = self.disclosures.get_mut(&id) {
                    disclosure.apply(&follow_up, event.recorded_at_micros);
                    // Whoever has the disclosure now is the one coordinator who sees the item.
                    if let (FollowUpEvent::HandedOver(handed, _), Some(item)) = (&follow_up, self.items.get_mut(&id)) {
                        item.safeguarding = Some(handed.to);
                    }
                }
            }
            commissioning::ANSWER => {
                let touched = match event.event_type.as_str() {
                    commissioning::FeedbackAcknowledged::TYPE => {
                        let answer: commissioning::FeedbackAcknowledged = event.decode()?;
                        let on = answer.on.to_string();
                        self.update_loop(answer.item, |facts| {
                            facts.acknowledged_on.get_or_insert(on);
                        })
                    }
                    commissioning::FeedbackAnswered::TYPE => {
                        let answer: commissioning::FeedbackAnswered = event.decode()?;
                        let not_acted_on = NotActedOn { on: answer.on.to_string(), reason: answer.reason };
                        self.update_loop(answer.item, |facts| facts.not_acted_on = Some(not_acted_on))
                    }
                    _ => None,
                };
                return Ok(touched.into_iter().collect());
            }
            commissioning::ACKNOWLEDGEMENT if event.event_type == commissioning::FeedbackAcknowledgedTogether::TYPE => {
                let together: commissioning::FeedbackAcknowledgedTogether = event.decode()?;
                let on = together.on.to_string();
                let touched = together.items.into_iter().filter_map(|item| {
                    self.update_loop(item, |facts| {
                        facts.acknowledged_on.get_or_insert_with(|| on.clone());
                    })
                });
                return Ok(touched.collect());
            }
            commissioning::DECISION => match event.event_type.as_str() {
                commissioning::EvidenceLinked::TYPE => {
                    let linked: commissioning::EvidenceLinked = event.decode()?;
                    let Some(item) = linked.evidence.feedback_item() else {
                        return Ok(vec![]);
                    };
                    self.evidence_links.insert(linked.link, (item, linked.decision));
                    let touched = self.update_loop(item, |facts| {
                        facts.decision_links.insert(linked.link, linked.decision);
                    });
                    return Ok(touched.into_iter().collect());
                }
                commissioning::EvidenceUnlinked::TYPE => {
                    let unlinked: commissioning::EvidenceUnlinked = event.decode()?;
                    let Some((item, _)) = self.evidence_links.remove(&unlinked.link) else { return Ok(vec![]) };
                    let touched = self.update_loop(item, |facts| {
                        facts.decision_links.remove(&unlinked.link);
                    });
                    return Ok(touched.into_iter().collect());
                }
                commissioning::DecisionStatusChanged::TYPE => {
                    let changed: commissioning::DecisionStatusChanged = event.decode()?;
                    if changed.done() {
                        self.done_decisions.insert(changed.decision);
                    } else {
                        self.done_decisions.remove(&changed.decision);
                    }
                    if changed.set_aside() {
                        // A decision set aside no longer carries anyone's words: its links
                        // stop counting (they stay in the commissioning history).
                        self.set_aside_decisions.insert(changed.decision);
                    }
                    let items: BTreeSet<Uuid> = self
                        .evidence_links
                        .values()
                        .filter(|(_, decision)| *decision == changed.decision)
                        .map(|(item, _)| *item)
                        .collect();
                    return Ok(items.into_iter().filter_map(|item| self.update_loop(item, |_| {})).collect());
                }
                _ => {}
            },
            MEETING => match event.event_type.as_str() {
                MeetingStarted::TYPE => {
                    let started: MeetingStarted = event.decode()?;
                    self.meetings.insert(
                        started.meeting,
                        Meeting {
                            id: started.meeting,
                            hub: started.hub,
                            held_on: started.held_on,
                            place: Some(started.place),
                            by: started.by,
                            attendance: None,
                            recorded_items: Vec::new(),
                            minutes: None,
                            revision: 0,
                        },
                    );
                }
                MeetingRecorded::TYPE => {
                    let recorded: MeetingRecorded = event.decode()?;
                    let minutes: Option<MinutesPersonal> = event.personal_fields()?;
                    let meeting = self.meetings.entry(recorded.meeting).or_insert_with(|| Meeting {
                        id: recorded.meeting,
                        hub: recorded.hub.clone(),
                        held_on: recorded.held_on.clone(),
                        place: None,
                        by: recorded.by,
                        attendance: None,
                        recorded_items: Vec::new(),
                        minutes: None,
                        revision: 0,
                    });
                    if meeting.place.is_some() {
                        meeting.revision += 1;
                    }
                    meeting.attendance = Some(recorded.attendance);
                    meeting.recorded_items = recorded.items;
                    meeting.minutes = minutes.map(|m| m.minutes);
                }
                _ => {}
            },
            GAZETTEER => match event.event_type.as_str() {
                GazetteerEntryAdded::TYPE => {
                    let added: GazetteerEntryAdded = event.decode()?;
                    let name: Option<GazetteerName> = event.personal_fields()?;
                    let list = self.gazetteers.entry(stream_id.to_owned()).or_default();
                    list.added(&added, name, event.recorded_at_micros);
                }
                GazetteerEntryRemoved::TYPE => {
                    let removed: GazetteerEntryRemoved = event.decode()?;
                    self.gazetteers.entry(stream_id.to_owned()).or_default().removed(&removed);
                }
                _ => {}
            },
            THEME => match event.event_type.as_str() {
                ThemeAdded::TYPE => self.vocabulary.added(event.decode::<ThemeAdded>()?),
                ThemeRenamed::TYPE => self.vocabulary.renamed(stream_id, event.decode::<ThemeRenamed>()?),
                ThemeMerged::TYPE => self.vocabulary.merged(stream_id, event.decode::<ThemeMerged>()?),
                _ => {}
            },
            _ => heard_api::fold::apply_reference(&mut self.reference, event)?,
        }
        Ok(vec![])
    }

    /// Changes an item's loop facts, then works out again whether a decision it is linked to
    /// is done; returns the item when its loop state moved.
    fn update_loop(&mut self, item: Uuid, change: impl FnOnce(&mut LoopFacts)) -> Option<Uuid> {
        let done = &self.done_decisions;
        let set_aside = &self.set_aside_decisions;
        let found = self.items.get_mut(&item)?;
        let moved = found.update_loop(|facts| {
            change(facts);
            facts.decision_links.retain(|_, decision| !set_aside.contains(decision));
            facts.decision_done = facts.decision_links.values().any(|decision| done.contains(decision));
        });
        moved.then_some(item)
    }

    /// The provider id an `about` text names, if any (by name or id, ignoring case).
    pub fn match_provider(&self, about: &str) -> Option<String> {
        let wanted = about.trim().to_lowercase();
        self.reference
            .providers
            .iter()
            .find(|(id, name)| id.to_lowercase() == wanted || name.to_lowercase() == wanted)
            .map(|(id, _)| id.clone())
    }

    /// The items whose search document changed since the last call, each once, as they stand.
    pub(crate) fn take_touched(&mut self) -> Vec<Item> {
        let mut seen = HashSet::new();
        std::mem::take(&mut self.touched)
            .into_iter()
            .filter(|id| seen.insert(*id))
            .filter_map(|id| self.items.get(&id).cloned())
            .collect()
    }

    /// Items in log order (not those taken back by the person who logged them).
    pub fn items_in_order(&self) -> impl DoubleEndedIterator<Item = &Item> {
        self.order.iter().filter_map(|id| self.items.get(id)).filter(|item| !item.withdrawn)
    }

    /// An item as it stands, unless it was taken back by the person who logged it.
    pub fn item(&self, id: Uuid) -> Option<&Item> {
        self.items.get(&id).filter(|item| !item.withdrawn)
    }

    /// A meeting's items, in the order they were logged: those logged into it and those named
    /// when it was recorded, each once, none taken back.
    pub fn meeting_items(&self, meeting: &Meeting) -> Vec<&Item> {
        let named: HashSet<Uuid> = meeting.recorded_items.iter().copied().collect();
        self.items_in_order()
            .filter(|item| item.logged.meeting == Some(meeting.id) || named.contains(&item.logged.item))
            .collect()
    }
}
