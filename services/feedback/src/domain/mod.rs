//! The feedback domain, free of storage, search and web.
//!
//! An item is one point someone made, in their own words. Everything that happens to it is an
//! event on its stream (`feedback-<id>`); [`Item`] folds them, and [`decide`] turns a command
//! into new events or a [`Rejection`] that names the field and says what is wrong.

pub mod gazetteer;
pub mod safeguarding;
pub mod suggest;
pub mod themes;

use std::collections::{BTreeMap, BTreeSet};

use heard_access::{Consent, FeedbackFacts};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use heard_contracts::Rejection;
pub use heard_contracts::feedback::{
    ConsentChanged, EditedPersonal, FEEDBACK, FeedbackEdited, FeedbackFedBack, FeedbackHeld, FeedbackRedacted,
    FeedbackReleased, FeedbackShared, FeedbackWithdrawn, MEETING, MeetingRecorded, MeetingStarted, MinutesPersonal,
    RedactedPersonal, SafeguardingFlagged,
};
use heard_contracts::{Event as _, feedback as contract};

/// Longest item text, in characters: one point, not a transcript.
pub const MAX_TEXT_CHARS: usize = 5000;

/// How the point reached the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Forum,
    DropIn,
    OneToOne,
    Survey,
    Online,
    /// Phone or SMS.
    Phone,
}

impl Channel {
    pub const ALL: [Channel; 6] =
        [Channel::Forum, Channel::DropIn, Channel::OneToOne, Channel::Survey, Channel::Online, Channel::Phone];

    /// The spelling in CSV files and search filters: `drop-in`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Forum => "forum",
            Channel::DropIn => "drop-in",
            Channel::OneToOne => "one-to-one",
            Channel::Survey => "survey",
            Channel::Online => "online",
            Channel::Phone => "phone",
        }
    }

    /// Accepts `drop-in`, `Drop in`, `drop_in`, `phone/sms`, `sms`, …
    pub fn parse(text: &str) -> Option<Channel> {
        let wanted = text.trim().to_lowercase().replace(['_', ' '], "-");
        match wanted.as_str() {
            "phone/sms" | "sms" | "phone-sms" | "text" => Some(Channel::Phone),
            "1-to-1" | "one-one" | "121" => Some(Channel::OneToOne),
            other => Channel::ALL.into_iter().find(|channel| channel.as_str() == other),
        }
    }
}

/// Whether the speaker can be identified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeakerKind {
    Anonymous,
    /// Known to the hub by a chosen name.
    Pseudonymous,
    /// Named, with their consent.
    Named,
}

impl SpeakerKind {
    pub fn parse(text: &str) -> Option<SpeakerKind> {
        match text.trim().to_lowercase().as_str() {
            "anonymous" | "anon" => Some(SpeakerKind::Anonymous),
            "pseudonymous" | "pseudonym" => Some(SpeakerKind::Pseudonymous),
            "named" => Some(SpeakerKind::Named),
            _ => None,
        }
    }
}

pub fn parse_consent(text: &str) -> Option<Consent> {
    match text.trim().to_lowercase().as_str() {
        "hub" | "hub only" => Some(Consent::Hub),
        "commissioners" | "commissioner" => Some(Consent::Commissioners),
        "public" => Some(Consent::Public),
        _ => None,
    }
}

/// Where an item stands in the loop: logged → shared → acknowledged by a commissioner →
/// linked to a decision (or answered "not acted on, because …") → the decision done → fed back
/// to the hub. It follows from the item's [`LoopFacts`]: see [`loop_state`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopState {
    Logged,
    Shared,
    Acknowledged,
    LinkedToDecision,
    NotActedOn,
    /// A decision it fed into is done: "we did".
    DecisionDone,
    FedBack,
}

impl LoopState {
    pub fn as_str(self) -> &'static str {
        match self {
            LoopState::Logged => "logged",
            LoopState::Shared => "shared",
            LoopState::Acknowledged => "acknowledged",
            LoopState::LinkedToDecision => "linked_to_decision",
            LoopState::NotActedOn => "not_acted_on",
            LoopState::DecisionDone => "decision_done",
            LoopState::FedBack => "fed_back",
        }
    }
}

/// A commissioner's answer "not acted on, because …". The reason is the commissioner's, not
/// personal data.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NotActedOn {
    /// `YYYY-MM-DD`.
    pub on: String,
    pub reason: String,
}

/// When and where a hub coordinator recorded that the item was reported back to the hub.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FedBack {
    /// The day it was recorded, `YYYY-MM-DD`.
    pub on: String,
    pub meeting: Option<Uuid>,
}

/// What has happened to an item along the loop. The commissioning facts come from the
/// commissioning service's events (`answer-<item>` and `decision-<id>` streams), which the
/// feedback service projects; nothing here is personal data.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoopFacts {
    /// A coordinator shared it outside the hub.
    pub shared: bool,
    /// The day a commissioner first acknowledged it, `YYYY-MM-DD`.
    pub acknowledged_on: Option<String>,
    /// The commissioner's latest answer "not acted on, because …".
    pub not_acted_on: Option<NotActedOn>,
    /// Evidence links to decisions that stand (not withdrawn): link id → decision id.
    pub decision_links: BTreeMap<Uuid, Uuid>,
    /// Whether a decision it is actively linked to is done.
    pub decision_done: bool,
    pub fed_back: Option<FedBack>,
}

impl LoopFacts {
    /// The decisions it is actively linked to, each once, in id order.
    pub fn decisions(&self) -> BTreeSet<Uuid> {
        self.decision_links.values().copied().collect()
    }
}

/// Where the loop stands, from its facts; the furthest point reached wins.
pub fn loop_state(facts: &LoopFacts) -> LoopState {
    if facts.fed_back.is_some() {
        LoopState::FedBack
    } else if !facts.decision_links.is_empty() && facts.decision_done {
        LoopState::DecisionDone
    } else if !facts.decision_links.is_empty() {
        LoopState::LinkedToDecision
    } else if facts.not_acted_on.is_some() {
        LoopState::NotActedOn
    } else if facts.acknowledged_on.is_some() {
        LoopState::Acknowledged
    } else if facts.shared {
        LoopState::Shared
    } else {
        LoopState::Logged
    }
}

/// The day (`YYYY-MM-DD`, in the server's time zone, like [`check_date`]'s "today") of a
/// moment in microseconds since the epoch.
pub fn day_of(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|at| at.to_zoned(jiff::tz::TimeZone::system()).date().to_string())
        .unwrap_or_default()
}

/// Moderation by the hub before anything leaves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moderation {
    Pending,
    Shared,
    Held,
}

/// Why a coordinator is keeping an item in the hub for now, and since when.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Held {
    pub reason: String,
    pub by: Uuid,
    /// Microseconds since the epoch of `FeedbackHeld`.
    pub at_micros: i64,
}

/// Who said it. Encrypted in the log under the speaker's own key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeakerDetails {
    pub name: Option<String>,
    pub contact: Option<String>,
}

/// The personal part of `FeedbackLogged`: the words (which may name people) and the speaker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedPersonal {
    pub text: String,
    #[serde(default)]
    pub speaker: SpeakerDetails,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackLogged {
    pub item: Uuid,
    pub hub: String,
    pub meeting: Option<Uuid>,
    pub channel: Channel,
    /// The service or provider as the speaker named it (not personal: a service's name).
    pub about: Option<String>,
    /// The provider id when `about` matched a known provider.
    pub provider: Option<String>,
    pub themes: BTreeSet<String>,
    pub speaker: SpeakerKind,
    pub consent: Consent,
    /// The day it was said, `YYYY-MM-DD`.
    pub said_on: String,
    pub logged_by: Uuid,
    /// SHA-256 of the import row, when it came from a spreadsheet (makes imports idempotent).
    #[serde(default)]
    pub import_key: Option<String>,
}

/// Every event of a feedback item, in one type. Events are short-lived values on their way to
/// or from the log, so the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Logged(FeedbackLogged, LoggedPersonal),
    Redacted(FeedbackRedacted, RedactedPersonal),
    Shared(FeedbackShared),
    Held(FeedbackHeld),
    Released(FeedbackReleased),
    ConsentChanged(ConsentChanged),
    SafeguardingFlagged(SafeguardingFlagged),
    FedBack(FeedbackFedBack),
    Withdrawn(FeedbackWithdrawn),
    Edited(FeedbackEdited, EditedPersonal),
}

impl Event {
    pub fn event_type(&self) -> &'static str {
        match self {
            Event::Logged(..) => contract::FeedbackLogged::TYPE,
            Event::Redacted(..) => FeedbackRedacted::TYPE,
            Event::Shared(_) => FeedbackShared::TYPE,
            Event::Held(_) => FeedbackHeld::TYPE,
            Event::Released(_) => FeedbackReleased::TYPE,
            Event::ConsentChanged(_) => ConsentChanged::TYPE,
            Event::SafeguardingFlagged(_) => SafeguardingFlagged::TYPE,
            Event::FedBack(_) => FeedbackFedBack::TYPE,
            Event::Withdrawn(_) => FeedbackWithdrawn::TYPE,
            Event::Edited(..) => FeedbackEdited::TYPE,
        }
    }
}

/// An item as its events have made it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Item {
    pub logged: FeedbackLogged,
    /// `None` once the speaker's key was destroyed (erased).
    pub text: Option<String>,
    pub speaker: SpeakerDetails,
    pub redacted_text: Option<String>,
    pub consent: Option<Consent>,
    pub moderation: Moderation,
    /// Why and when it was held, while it is held.
    pub held: Option<Held>,
    pub safeguarding: Option<Uuid>,
    /// Always `loop_state(&self.loop_facts)`.
    pub loop_state: LoopState,
    pub loop_facts: LoopFacts,
    /// Microseconds since the epoch of the first event.
    pub logged_at_micros: i64,
    /// Microseconds since the epoch of `FeedbackShared`, once shared.
    pub shared_at_micros: Option<i64>,
    /// The stream revision this state is at.
    pub revision: u64,
    /// The person who logged it took it back ([`withdraw`]): it is in no list, count or index.
    pub withdrawn: bool,
    /// Microseconds since the epoch of the last correction ([`edit`]), if it was corrected.
    pub edited_at_micros: Option<i64>,
    /// The person (data subject) a coordinator said the speaker is (`FeedbackAttributed`; the
    /// latest attribution wins: attributing again to another person moves the item).
    #[serde(default)]
    pub person: Option<heard_contracts::privacy::PersonId>,
    /// The item was erased (`SubjectErased`): its facts stay, its words, speaker, edits,
    /// redactions and safeguarding notes can no longer be read, and it is in no list or search.
    #[serde(default)]
    pub erased: bool,
    /// Who agreed to what, and when: the consent given when it was logged, then each change.
    #[serde(default)]
    pub consent_history: Vec<ConsentStep>,
    /// The global log position of its `FeedbackLogged` (set by the model as it folds the log;
    /// 0 for an item that never was in the log): the cursor `feedbackLogged(after:)` resumes from.
    #[serde(default)]
    pub position: u64,
}

/// One step of an item's consent: given when it was logged, or changed later.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsentStep {
    /// `None`: withdrawn.
    pub consent: Option<Consent>,
    /// Microseconds since the epoch.
    pub at_micros: i64,
    /// The account that recorded it.
    pub by: Uuid,
}

impl Item {
    /// Starts an item from its first event.
    pub fn new(logged: FeedbackLogged, personal: Option<LoggedPersonal>, at_micros: i64) -> Item {
        let consent = Some(logged.consent);
        Item {
            text: personal.as_ref().map(|p| p.text.clone()),
            speaker: personal.map(|p| p.speaker).unwrap_or_default(),
            logged,
            redacted_text: None,
            consent,
            moderation: Moderation::Pending,
            held: None,
            safeguarding: None,
            loop_state: LoopState::Logged,
            loop_facts: LoopFacts::default(),
            logged_at_micros: at_micros,
            shared_at_micros: None,
            revision: 0,
            withdrawn: false,
            edited_at_micros: None,
            person: None,
            erased: false,
            consent_history: Vec::new(),
            position: 0,
        }
        .with_first_consent(at_micros)
    }

    fn with_first_consent(mut self, at_micros: i64) -> Item {
        self.consent_history.push(ConsentStep { consent: self.consent, at_micros, by: self.logged.logged_by });
        self
    }

    /// A coordinator said the speaker is `person` (the item's stream moves on by one event).
    pub fn attributed(&mut self, person: heard_contracts::privacy::PersonId) {
        self.revision += 1;
        self.person = Some(person);
    }

    /// The item was erased: nothing of the words stays in it (the facts do).
    pub fn erase(&mut self) {
        self.erased = true;
        self.text = None;
        self.speaker = SpeakerDetails::default();
    }

    /// Applies a later event whose recording time does not matter (it counts as the time the
    /// item was logged). (`Logged` starts an item: see [`Item::new`].)
    pub fn apply(&mut self, event: &Event) {
        self.apply_at(event, self.logged_at_micros);
    }

    /// Applies a later event recorded at `at_micros` (microseconds since the epoch).
    pub fn apply_at(&mut self, event: &Event, at_micros: i64) {
        self.revision += 1;
        match event {
            Event::Logged(..) => {}
            Event::Redacted(_, personal) => self.redacted_text = Some(personal.text.clone()),
            Event::Shared(_) => {
                self.moderation = Moderation::Shared;
                self.shared_at_micros.get_or_insert(at_micros);
                self.update_loop(|facts| facts.shared = true);
            }
            Event::Held(held) => {
                self.moderation = Moderation::Held;
                self.held = Some(Held { reason: held.reason.clone(), by: held.by, at_micros });
            }
            Event::Released(_) => {
                self.moderation = Moderation::Pending;
                self.held = None;
            }
            Event::ConsentChanged(changed) => {
                self.consent = changed.consent;
                self.consent_history.push(ConsentStep { consent: changed.consent, at_micros, by: changed.by });
            }
            Event::SafeguardingFlagged(flagged) => self.safeguarding = Some(flagged.coordinator),
            Event::FedBack(fed) => {
                let fed_back = FedBack { on: day_of(at_micros), meeting: fed.meeting };
                self.update_loop(|facts| facts.fed_back = Some(fed_back));
            }
            Event::Withdrawn(_) => self.withdrawn = true,
            Event::Edited(edited, personal) => {
                self.logged.themes = edited.themes.clone();
                if self.text.is_some() {
                    self.text = Some(personal.text.clone());
                }
                self.edited_at_micros = Some(at_micros);
            }
        }
    }

    /// Changes the loop facts (e.g. from a commissioner's answer) and recomputes the loop
    /// state; true when the loop state changed.
    pub fn update_loop(&mut self, change: impl FnOnce(&mut LoopFacts)) -> bool {
        change(&mut self.loop_facts);
        let before = self.loop_state;
        self.loop_state = loop_state(&self.loop_facts);
        self.loop_state != before
    }

    /// What the access policy needs to judge this item.
    pub fn facts(&self) -> FeedbackFacts {
        FeedbackFacts {
            item: self.logged.item,
            hub: self.logged.hub.clone(),
            provider: self.logged.provider.clone(),
            consent: self.consent,
            shared: self.moderation == Moderation::Shared,
            safeguarding: self.safeguarding,
        }
    }

    /// The words for outside the hub: the redacted version if there is one.
    pub fn shared_text(&self) -> Option<&str> {
        self.consent?;
        if self.erased {
            return None;
        }
        self.redacted_text.as_deref().or(self.text.as_deref())
    }

    /// The words for the hub itself (`None` once consent is withdrawn, the person erased, or
    /// the item taken back by the person who logged it).
    pub fn hub_text(&self) -> Option<&str> {
        self.consent?;
        if self.withdrawn || self.erased {
            return None;
        }
        self.text.as_deref()
    }

    /// Whether the person who logged it may still take it back or correct it, at `now_micros`:
    /// they logged it, nobody has moderated, redacted or flagged it, and (to take it back) it
    /// is at most [`UNDO_MINUTES`] old.
    pub fn correctable_by(&self, by: Uuid) -> Result<(), Rejection> {
        if self.withdrawn {
            return Err(Rejection::Conflict("this item was already taken back".into()));
        }
        if self.logged.logged_by != by {
            return Err(Rejection::Conflict(
                "only the person who logged an item can take it back or correct it".into(),
            ));
        }
        if self.moderation != Moderation::Pending || self.redacted_text.is_some() {
            return Err(Rejection::Conflict(
                "a coordinator has already moderated this item; ask them to hold it instead".into(),
            ));
        }
        if self.safeguarding.is_some() {
            return Err(Rejection::Conflict("this item is with a coordinator for safeguarding".into()));
        }
        Ok(())
    }
}

fn invalid(field: &str, message: impl Into<String>) -> Rejection {
    Rejection::Invalid { field: field.to_owned(), message: message.into() }
}

pub(crate) use heard_contracts::input::{clean, required};

fn clean_opt(field: &str, text: Option<String>) -> Result<Option<String>, Rejection> {
    text.map(|text| clean(field, &text)).transpose()
}

/// What someone typed to log an item (already checked against reference data by the service).
#[derive(Clone, Debug, Default)]
pub struct NewItem {
    pub hub: String,
    pub meeting: Option<Uuid>,
    pub channel: Option<Channel>,
    pub about: Option<String>,
    pub provider: Option<String>,
    pub themes: BTreeSet<String>,
    pub speaker: Option<SpeakerKind>,
    pub speaker_name: Option<String>,
    pub speaker_contact: Option<String>,
    pub consent: Option<Consent>,
    pub said_on: String,
    pub text: String,
    pub import_key: Option<String>,
}

/// Checks a day as someone typed it ([`heard_contracts::day::parse`]: `2026-03-14`,
/// `14/03/2026`, `14 March 2026`) that is not in the future.
pub fn check_date(field: &str, text: &str, today: jiff::civil::Date) -> Result<jiff::civil::Date, Rejection> {
    let date = heard_contracts::day::parse(text).map_err(|error| invalid(field, error.to_string()))?;
    if date > today {
        return Err(invalid(
            field,
            format!("the date cannot be in the future (today is {})", heard_contracts::day::written(today)),
        ));
    }
    if date.year() < 2000 {
        return Err(invalid(field, "the date is before 2000; check the year"));
    }
    Ok(date)
}

/// Validates a new item and returns its first event.
pub fn log(item: Uuid, by: Uuid, new: NewItem, today: jiff::civil::Date) -> Result<Event, Rejection> {
    let text = words(&new.text)?;
    let channel = new.channel.ok_or_else(|| invalid("channel", "choose how it was heard"))?;
    let speaker = new.speaker.ok_or_else(|| invalid("speaker", "choose anonymous, pseudonymous or named"))?;
    let consent =
        new.consent.ok_or_else(|| invalid("consent", "choose who may see it: hub, commissioners or public"))?;
    let said_on = check_date("saidOn", &new.said_on, today)?;
    let name = clean_opt("speakerName", new.speaker_name)?.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    let contact =
        clean_opt("speakerContact", new.speaker_contact)?.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    match speaker {
        SpeakerKind::Anonymous if name.is_some() || contact.is_some() => {
            return Err(invalid("speakerName", "an anonymous speaker has no name or contact details"));
        }
        // A spreadsheet row has no name column: the hub keeps the name in its own records.
        SpeakerKind::Pseudonymous | SpeakerKind::Named if name.is_none() && new.import_key.is_none() => {
            return Err(invalid("speakerName", "give the name (or chosen name) the person agreed to"));
        }
        _ => {}
    }
    let about = clean_opt("about", new.about)?.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
    if about.as_ref().is_some_and(|a| a.chars().count() > 200) {
        return Err(invalid("about", "name the service in at most 200 characters"));
    }
    Ok(Event::Logged(
        FeedbackLogged {
            item,
            hub: new.hub,
            meeting: new.meeting,
            channel,
            about,
            provider: new.provider,
            themes: new.themes,
            speaker,
            consent,
            said_on: said_on.to_string(),
            logged_by: by,
            import_key: new.import_key,
        },
        LoggedPersonal { text, speaker: SpeakerDetails { name, contact } },
    ))
}

/// The text with every passage taken out and replaced by `[redacted]`.
pub fn redact(item: &Item, by: Uuid, passages: &[String]) -> Result<Event, Rejection> {
    let Some(original) = item.hub_text() else {
        return Err(Rejection::Conflict(
            "there is no text to redact: consent was withdrawn or the person erased".into(),
        ));
    };
    if item.moderation == Moderation::Shared {
        return Err(Rejection::Conflict("this item has already been shared; redact before sharing".into()));
    }
    let passages = passages
        .iter()
        .enumerate()
        .map(|(index, passage)| clean(&format!("passages[{index}]"), passage))
        .collect::<Result<Vec<String>, Rejection>>()?;
    let passages: Vec<&str> = passages.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect();
    if passages.is_empty() {
        return Err(invalid("passages", "choose at least one passage to take out"));
    }
    let mut text = item.redacted_text.clone().unwrap_or_else(|| original.to_owned());
    for (index, passage) in passages.iter().enumerate() {
        if !text.contains(passage) {
            return Err(invalid(&format!("passages[{index}]"), "this passage is not in the text"));
        }
    }
    // The longest first, so that a passage inside another (`Sam` and `Sam Jones`) cannot take
    // part of the longer one away before it is found.
    let mut longest_first = passages.clone();
    longest_first.sort_by_key(|passage| std::cmp::Reverse(passage.len()));
    for passage in longest_first {
        text = text.replace(passage, "[redacted]");
    }
    Ok(Event::Redacted(FeedbackRedacted { by, passages: passages.len() }, RedactedPersonal { text }))
}

/// Approves an item to leave the hub, within the speaker's consent.
pub fn share(item: &Item, by: Uuid) -> Result<Event, Rejection> {
    if item.safeguarding.is_some() {
        return Err(Rejection::Conflict("a safeguarding item never leaves the coordinator's queue".into()));
    }
    match item.consent {
        None => Err(Rejection::Conflict("the speaker withdrew consent; it cannot be shared".into())),
        Some(Consent::Hub) => {
            Err(Rejection::Conflict("the speaker agreed to the hub only; it cannot be shared".into()))
        }
        Some(_) if item.moderation == Moderation::Shared => {
            Err(Rejection::Conflict("this item is already shared".into()))
        }
        Some(_) => Ok(Event::Shared(FeedbackShared { by })),
    }
}

pub fn hold(item: &Item, by: Uuid, reason: &str) -> Result<Event, Rejection> {
    let reason = required("reason", reason, 500, "say in a few words why it is held (at most 500 characters)")?;
    match item.moderation {
        Moderation::Shared => {
            Err(Rejection::Conflict("this item is already shared; narrow or withdraw consent instead".into()))
        }
        Moderation::Held => Err(Rejection::Conflict("this item is already held".into())),
        Moderation::Pending => Ok(Event::Held(FeedbackHeld { by, reason })),
    }
}

/// Puts a held item back in the hub's queue to moderate.
pub fn release(item: &Item, by: Uuid) -> Result<Event, Rejection> {
    match item.moderation {
        Moderation::Held => Ok(Event::Released(FeedbackReleased { by })),
        Moderation::Shared => Err(Rejection::Conflict("this item is already shared; it is not held".into())),
        Moderation::Pending => Err(Rejection::Conflict("this item is not held; it is in the queue already".into())),
    }
}

/// Narrows or withdraws consent. Widening needs the speaker's new consent, recorded as a new
/// item: a hub cannot widen it on their behalf.
pub fn change_consent(item: &Item, by: Uuid, consent: Option<Consent>) -> Result<Event, Rejection> {
    match (item.consent, consent) {
        (None, _) => Err(Rejection::Conflict("consent was already withdrawn".into())),
        (Some(now), Some(wanted)) if wanted >= now => {
            Err(invalid("consent", "consent can only be narrowed or withdrawn, never widened on someone's behalf"))
        }
        _ => Ok(Event::ConsentChanged(ConsentChanged { consent, by })),
    }
}

/// How long after logging an item the person who logged it can still undo it.
pub const UNDO_MINUTES: i64 = 10;

/// "Undo the last one": the person who logged an item takes it back, within [`UNDO_MINUTES`]
/// and before anyone moderated it. It is an event: the log keeps that it happened.
pub fn withdraw(item: &Item, by: Uuid, now_micros: i64) -> Result<Event, Rejection> {
    item.correctable_by(by)?;
    if now_micros - item.logged_at_micros > UNDO_MINUTES * 60 * 1_000_000 {
        return Err(Rejection::Conflict(format!(
            "an item can be undone only in the {UNDO_MINUTES} minutes after it was logged; ask a coordinator to hold it instead"
        )));
    }
    Ok(Event::Withdrawn(FeedbackWithdrawn { by }))
}

/// The person who logged an item corrects its words and themes before anyone moderated it.
pub fn edit(item: &Item, by: Uuid, text: &str, themes: BTreeSet<String>) -> Result<Event, Rejection> {
    item.correctable_by(by)?;
    if item.text.is_none() {
        return Err(Rejection::Conflict("there is no text to correct: the person was erased".into()));
    }
    let text = words(text)?;
    Ok(Event::Edited(FeedbackEdited { by, themes }, EditedPersonal { text }))
}

/// The words of an item, checked as they are when it is logged.
fn words(text: &str) -> Result<String, Rejection> {
    let text = clean("text", text)?.trim().to_owned();
    if text.is_empty() {
        return Err(invalid("text", "write down what the person said"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(
            "text",
            format!("one item holds at most {MAX_TEXT_CHARS} characters; split it into several points"),
        ));
    }
    Ok(text)
}

/// Starts meeting mode: a meeting of `hub` on a day, somewhere.
pub fn start_meeting(
    meeting: Uuid,
    by: Uuid,
    hub: String,
    held_on: &str,
    place: &str,
    today: jiff::civil::Date,
) -> Result<MeetingStarted, Rejection> {
    let held_on = check_date("heldOn", held_on, today)?;
    let place = required("place", place, 200, "say where the meeting is, in at most 200 characters")?;
    Ok(MeetingStarted { meeting, hub, held_on: held_on.to_string(), place, by })
}

pub fn flag_safeguarding(item: &Item, by: Uuid, coordinator: Uuid) -> Result<Event, Rejection> {
    if item.safeguarding.is_some() {
        return Err(Rejection::Conflict("this item is already with a coordinator for safeguarding".into()));
    }
    Ok(Event::SafeguardingFlagged(SafeguardingFlagged { by, coordinator }))
}

/// Records that the item was reported back to its hub, at `meeting` if given (the service
/// checks that the meeting is one of the item's hub). Only once commissioners have answered:
/// acknowledged it, linked it to a decision, or said why it was not acted on.
pub fn fed_back(item: &Item, by: Uuid, meeting: Option<Uuid>) -> Result<Event, Rejection> {
    match item.loop_state {
        LoopState::FedBack => Err(Rejection::Conflict("this has already been reported back".into())),
        LoopState::Logged | LoopState::Shared => Err(Rejection::Conflict(
            "there is nothing to report back yet: the item has no answer from commissioners".into(),
        )),
        LoopState::Acknowledged | LoopState::NotActedOn | LoopState::LinkedToDecision | LoopState::DecisionDone => {
            Ok(Event::FedBack(FeedbackFedBack { by, meeting }))
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn record_meeting(
    meeting: Uuid,
    by: Uuid,
    hub: String,
    held_on: &str,
    attendance: i64,
    minutes: &str,
    items: Vec<Uuid>,
    today: jiff::civil::Date,
) -> Result<(MeetingRecorded, MinutesPersonal), Rejection> {
    let held_on = check_date("heldOn", held_on, today)?;
    if !(0..=10_000).contains(&attendance) {
        return Err(invalid("attendance", "enter how many people came, from 0 to 10000"));
    }
    let minutes = clean("minutes", minutes)?;
    if minutes.chars().count() > 50_000 {
        return Err(invalid("minutes", "minutes are at most 50000 characters"));
    }
    Ok((
        MeetingRecorded { meeting, hub, held_on: held_on.to_string(), attendance: attendance as u32, items, by },
        MinutesPersonal { minutes: minutes.trim().to_owned() },
    ))
}

#[cfg(test)]
mod tests;
