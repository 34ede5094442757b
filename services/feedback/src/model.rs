//! The feedback service's model of the log (`State`): items, meetings, the theme vocabulary,
//! safeguarding disclosures with their follow-up, each hub's gazetteer, and what it needs from other services' events through `heard-contracts`: hubs, providers and
//! accounts' roles and hubs (the shared reference fold), and commissioners' answers and
//! decision links, which move each item's loop. Applying an event notes the items whose search
//! document it changed ([`State::take_touched`]), so the follower feeds the search index in
//! the same order as the model.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use heard_contracts::privacy::{ERASURE, FeedbackAttributed, RecordKind, SubjectErased};
use heard_contracts::reference::Reference;
use heard_contracts::{Event as _, commissioning, feedback as contract};
use heard_eventstore::{EventStore, Fold, Persist, Personal, RecordedEvent, Sealed, SubjectId};
use serde::{Deserialize, Serialize};
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
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    /// `None` before it is recorded; sealed: [`FeedbackService::minutes`](crate::FeedbackService::minutes)
    /// opens it.
    pub minutes: Option<Sealed<MinutesPersonal>>,
    /// The stream revision this state is at.
    pub revision: u64,
}

impl Meeting {
    /// Still going: items can be logged into it.
    pub fn is_open(&self) -> bool {
        self.attendance.is_none()
    }
}

/// What this service knows: in memory while it runs, saved in the [`ModelStore`](heard_eventstore::ModelStore)
/// between runs. It holds no person's words: every personal field is kept [`Sealed`] and opened
/// when a query reads it (see [`ItemWords`]), so a destroyed key erases them here too.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub items: HashMap<Uuid, Item>,
    /// Items in the order they were logged.
    pub order: Vec<Uuid>,
    pub(crate) subjects: HashMap<Uuid, SubjectId>,
    /// Each item's words, sealed. The item itself holds an empty placeholder where it has words
    /// (so that `text.is_some()` still means "not erased when it was folded").
    pub(crate) words: HashMap<Uuid, ItemWords>,
    /// Safeguarding follow-up notes, sealed, by disclosure and entry number.
    pub(crate) notes: HashMap<(Uuid, usize), Sealed<SafeguardingNotes>>,
    /// Gazetteer names, sealed, by entry.
    pub(crate) names: HashMap<Uuid, Sealed<GazetteerName>>,
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
    /// Every person (data subject) any service said a record is about (from the three
    /// attribution events), and those erased as a whole: a `person` given to this service must
    /// be known and not erased.
    pub persons: heard_api::persons::Persons,
    /// Who holds each person's records (from every service's attributions): whether someone
    /// naming a person may, see `heard_api::persons::authorize_naming`.
    pub holders: heard_api::persons::Holders,
    /// Items whose search document changed since the follower last took them.
    #[serde(skip)]
    touched: Vec<Uuid>,
    /// An erasure of feedback was applied since the follower last looked: the search index must
    /// merge its segments so the erased words are physically gone.
    #[serde(skip)]
    purge: bool,
}

impl Persist for State {
    /// 2: items carry their person, whether they were erased and their consent history.
    /// 3: the model knows who holds each person's records.
    /// 4: items carry the log position they were logged at (`feedbackLogged(after:)`).
    const VERSION: u32 = 4;
}

/// An item's personal fields as the model keeps them: sealed under the speaker's key.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ItemWords {
    logged: Option<Sealed<LoggedPersonal>>,
    edited: Option<Sealed<EditedPersonal>>,
    redacted: Option<Sealed<RedactedPersonal>>,
}

impl ItemWords {
    /// Puts the words into `item` (which holds placeholders), opened now: `None` where the
    /// person's key has been destroyed.
    pub(crate) fn open_into(&self, store: &EventStore, item: &mut Item) {
        if item.erased {
            item.text = None;
            item.redacted_text = None;
            item.speaker = Default::default();
            return;
        }
        let logged = self.logged.as_ref().and_then(|sealed| unseal(store, sealed));
        let had_text = item.text.is_some();
        item.speaker = logged.as_ref().map(|logged| logged.speaker.clone()).unwrap_or_default();
        item.text = logged.map(|logged| logged.text).filter(|_| had_text);
        if item.text.is_some()
            && let Some(edited) = &self.edited
        {
            item.text = unseal(store, edited).map(|edited| edited.text);
        }
        if item.redacted_text.is_some() {
            let redacted = self.redacted.as_ref().and_then(|sealed| unseal(store, sealed));
            item.redacted_text = Some(redacted.map_or_else(|| "[erased]".to_owned(), |redacted| redacted.text));
        }
    }
}

/// Opens sealed words; `None` once erased. A failure to open is logged without any value and
/// answered as erased: the words are never shown wrong.
pub(crate) fn unseal<T: serde::de::DeserializeOwned>(store: &EventStore, sealed: &Sealed<T>) -> Option<T> {
    store.unseal(sealed).unwrap_or_else(|error| {
        tracing::error!(%error, "cannot open a kept personal field");
        None
    })
}

impl Fold for State {
    fn apply(&mut self, event: &RecordedEvent) -> heard_eventstore::Result<()> {
        self.persons.apply(event)?;
        self.holders.apply(event)?;
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
                        let sealed = event.sealed::<LoggedPersonal>();
                        let personal = sealed.as_ref().map(|_| LoggedPersonal::default());
                        self.words.insert(id, ItemWords { logged: sealed, ..ItemWords::default() });
                        if let Some(subject) = heard_api::fold::subject_of(&event.personal) {
                            self.subjects.insert(id, subject);
                        }
                        if let Some(key) = &logged.import_key {
                            self.import_keys.insert(key.clone());
                        }
                        let mut item = Item::new(logged, personal, event.recorded_at_micros);
                        item.position = event.position;
                        self.items.insert(id, item);
                        self.order.push(id);
                        return Ok(vec![id]);
                    }
                    FeedbackRedacted::TYPE => {
                        if let Some(words) = self.words.get_mut(&id) {
                            words.redacted = event.sealed();
                        }
                        Event::Redacted(event.decode()?, RedactedPersonal { text: String::new() })
                    }
                    FeedbackShared::TYPE => Event::Shared(event.decode()?),
                    FeedbackHeld::TYPE => Event::Held(event.decode()?),
                    FeedbackReleased::TYPE => Event::Released(event.decode()?),
                    ConsentChanged::TYPE => Event::ConsentChanged(event.decode()?),
                    SafeguardingFlagged::TYPE => Event::SafeguardingFlagged(event.decode()?),
                    FeedbackFedBack::TYPE => Event::FedBack(event.decode()?),
                    FeedbackWithdrawn::TYPE => Event::Withdrawn(event.decode()?),
                    FeedbackAttributed::TYPE => {
                        let attributed: FeedbackAttributed = event.decode()?;
                        if let Some(item) = self.items.get_mut(&id) {
                            item.attributed(attributed.person);
                        }
                        return Ok(vec![]);
                    }
                    FeedbackEdited::TYPE => {
                        if let Some(words) = self.words.get_mut(&id)
                            && self.items.get(&id).is_some_and(|item| item.text.is_some())
                        {
                            words.edited = event.sealed();
                        }
                        Event::Edited(event.decode()?, EditedPersonal { text: String::new() })
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
                let sealed = event.sealed::<SafeguardingNotes>();
                let notes = match &sealed {
                    Some(_) => Notes::Written(String::new()),
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
                    if let Some(sealed) = sealed {
                        self.notes.insert((id, disclosure.entries.len() - 1), sealed);
                    }
                    // Whoever has the disclosure now is the one coordinator who sees the item.
                    if let (FollowUpEvent::HandedOver(handed, _), Some(item)) = (&follow_up, self.items.get_mut(&id)) {
                        item.safeguarding = Some(handed.to);
                    }
                }
            }
            ERASURE if event.event_type == SubjectErased::TYPE => {
                let erased: SubjectErased = event.decode()?;
                let items: Vec<Uuid> = erased
                    .records
                    .iter()
                    .filter(|record| record.kind == RecordKind::FeedbackItem)
                    .map(|record| record.id)
                    .collect();
                if !items.is_empty() {
                    self.purge = true;
                }
                let mut touched = Vec::new();
                for id in items {
                    // The sealed words go from the model too: their keys are destroyed.
                    self.words.remove(&id);
                    self.notes.retain(|(item, _), _| *item != id);
                    if let Some(item) = self.items.get_mut(&id) {
                        item.erase();
                        touched.push(id);
                    }
                }
                return Ok(touched);
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
                    let minutes = event.sealed::<MinutesPersonal>();
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
                    meeting.minutes = minutes;
                }
                _ => {}
            },
            GAZETTEER => match event.event_type.as_str() {
                GazetteerEntryAdded::TYPE => {
                    let added: GazetteerEntryAdded = event.decode()?;
                    let name = event.sealed::<GazetteerName>();
                    let placeholder = name.as_ref().map(|_| GazetteerName { name: String::new() });
                    if let Some(name) = name {
                        self.names.insert(added.entry, name);
                    }
                    let list = self.gazetteers.entry(stream_id.to_owned()).or_default();
                    list.added(&added, placeholder, event.recorded_at_micros);
                }
                GazetteerEntryRemoved::TYPE => {
                    let removed: GazetteerEntryRemoved = event.decode()?;
                    self.gazetteers.entry(stream_id.to_owned()).or_default().removed(&removed);
                    self.names.remove(&removed.entry);
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
    pub(crate) fn take_touched(&mut self) -> Vec<(Item, ItemWords)> {
        let mut seen = HashSet::new();
        std::mem::take(&mut self.touched)
            .into_iter()
            .filter(|id| seen.insert(*id))
            .filter_map(|id| Some((self.items.get(&id)?.clone(), self.words.get(&id).cloned().unwrap_or_default())))
            .collect()
    }

    /// Whether an erasure of feedback was applied since the last call (the index must purge).
    pub(crate) fn take_purge(&mut self) -> bool {
        std::mem::take(&mut self.purge)
    }

    /// The item with its words opened (placeholders otherwise: see [`ItemWords`]).
    pub(crate) fn opened(&self, store: &EventStore, mut item: Item) -> Item {
        if let Some(words) = self.words.get(&item.logged.item) {
            words.open_into(store, &mut item);
        }
        item
    }

    /// The disclosure with its follow-up notes opened.
    pub(crate) fn opened_disclosure(&self, store: &EventStore, mut disclosure: Disclosure) -> Disclosure {
        for (index, entry) in disclosure.entries.iter_mut().enumerate() {
            if let Notes::Written(_) = entry.notes {
                entry.notes = match self.notes.get(&(disclosure.item, index)).and_then(|sealed| unseal(store, sealed)) {
                    Some(written) => Notes::Written(written.notes),
                    None => Notes::Erased,
                };
            }
        }
        disclosure
    }

    /// The hub's gazetteer with its names opened (`None` where erased).
    pub(crate) fn opened_gazetteer(&self, store: &EventStore, hub: &str) -> Gazetteer {
        let mut list = self.gazetteers.get(hub).cloned().unwrap_or_default();
        for entry in list.entries.values_mut() {
            if entry.name.is_some() {
                entry.name = self.names.get(&entry.id).and_then(|sealed| unseal(store, sealed)).map(|name| name.name);
            }
        }
        list
    }

    /// Items in log order (not those taken back by the person who logged them, nor erased ones:
    /// no list shows an erased item).
    pub fn items_in_order(&self) -> impl DoubleEndedIterator<Item = &Item> {
        self.order.iter().filter_map(|id| self.items.get(id)).filter(|item| !item.withdrawn && !item.erased)
    }

    /// Where in [`Self::order`] the items logged after log position `after` begin.
    pub fn first_logged_after(&self, after: u64) -> usize {
        // `order` is in log order, so the positions rise along it.
        self.order.partition_point(|id| self.items.get(id).is_none_or(|item| item.position <= after))
    }

    /// The log position of the last item logged (0 before any).
    pub fn last_logged(&self) -> u64 {
        self.order.last().and_then(|id| self.items.get(id)).map_or(0, |item| item.position)
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
