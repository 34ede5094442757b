//! The feedback service's events: items (`feedback-<id>`), hub meetings (`meeting-<id>`),
//! the shared theme list (`theme-<id>`) and each hub's gazetteer (`gazetteer-<hub>`: the names
//! and places its coordinators take out before anything leaves the hub; no other service reads
//! it, and its names travel only as personal fields). Commissioning reads what an item is about, its consent,
//! its sharing and redaction and any safeguarding flag; advocacy and commissioning read the
//! themes, with their renames and merges (through [`crate::reference::Reference`]).
//!
//! `FeedbackLogged` here is the part others may rely on; the feedback service's own type holds
//! more (channel, speaker kind, import key) and its tests check that it decodes into this one.
//!
//! A disclosure's follow-up (`safeguarding-<item id>`: actions taken, handing it to another
//! coordinator, marking it dealt with) is declared here too, so that its names are spelled in
//! one place, but no other service reads it: nothing about the follow-up leaves the hub.

use std::collections::BTreeSet;

use heard_access::Consent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event;

/// Stream categories this service writes.
pub const FEEDBACK: &str = "feedback";
pub const MEETING: &str = "meeting";
pub const THEME: &str = "theme";
/// A safeguarding disclosure's follow-up: `safeguarding-<item id>`.
pub const SAFEGUARDING: &str = "safeguarding";
pub const GAZETTEER: &str = "gazetteer";

/// An item was logged: what other services may read of it. Its words travel as personal
/// fields ([`LoggedText`]).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct FeedbackLogged {
    pub item: Uuid,
    pub hub: String,
    pub provider: Option<String>,
    #[serde(default)]
    pub themes: BTreeSet<String>,
    pub consent: Consent,
    /// The day it was said, `YYYY-MM-DD`.
    pub said_on: String,
}

/// The words of a logged item, from its personal fields (the speaker's details stay out).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct LoggedText {
    pub text: String,
}

/// The redacted version, for outside the hub. Encrypted like the text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactedPersonal {
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackRedacted {
    pub by: Uuid,
    /// How many passages were taken out.
    pub passages: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackShared {
    pub by: Uuid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackHeld {
    pub by: Uuid,
    pub reason: String,
}

/// A held item goes back to the hub's queue to moderate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackReleased {
    pub by: Uuid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentChanged {
    /// `None`: withdrawn entirely.
    pub consent: Option<Consent>,
    pub by: Uuid,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafeguardingFlagged {
    pub by: Uuid,
    /// The coordinator with the duty of care whose queue it goes to.
    pub coordinator: Uuid,
}

/// What was done about a disclosure of risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafeguardingStep {
    SpokeToPerson,
    /// Referred to the safeguarding lead of the provider the person is with.
    ReferredToProviderLead,
    CalledEmergencyServices,
    /// Something else, said in the notes.
    Other,
}

/// What came of a disclosure, once it is dealt with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafeguardingOutcome {
    /// Support is in place for the person.
    SupportInPlace,
    /// Another service (the provider's safeguarding lead, social care) has taken it on.
    ReferredOn,
    EmergencyServicesResponded,
    /// The person did not want any more help.
    PersonDeclinedHelp,
    /// The person could not be reached.
    CouldNotReachPerson,
    /// Something else, said in the notes.
    Other,
}

/// A step taken about a disclosure, on the day it happened (`YYYY-MM-DD`), by the coordinator
/// it is with. Notes travel as personal fields ([`SafeguardingNotes`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafeguardingActionRecorded {
    pub step: SafeguardingStep,
    pub on: String,
    pub by: Uuid,
}

/// The disclosure went from one coordinator of its hub to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafeguardingHandedOver {
    pub from: Uuid,
    pub to: Uuid,
    pub by: Uuid,
}

/// The disclosure is dealt with, with what came of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafeguardingClosed {
    pub outcome: SafeguardingOutcome,
    pub by: Uuid,
}

/// A coordinator's notes on a disclosure: what they did, heard and agreed. They are about the
/// person who disclosed, so they are sealed with that person's key, like the item's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafeguardingNotes {
    pub notes: String,
}

/// The point of the loop where the hub reported back at a meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackFedBack {
    pub by: Uuid,
    pub meeting: Option<Uuid>,
}

/// A meeting of a hub or the Forum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingRecorded {
    pub meeting: Uuid,
    pub hub: String,
    pub held_on: String,
    pub attendance: u32,
    pub items: Vec<Uuid>,
    pub by: Uuid,
}

/// Meeting mode begins: a meeting of a hub on a day, somewhere, into which items are then logged
/// (each `FeedbackLogged` names it). `MeetingRecorded` on the same stream ends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingStarted {
    pub meeting: Uuid,
    pub hub: String,
    /// The day it is held, `YYYY-MM-DD`.
    pub held_on: String,
    /// Where it is held: a venue ("Worthing hub, upstairs room"), not a person.
    pub place: String,
    pub by: Uuid,
}

/// The person who logged an item took it back ("undo"), minutes after logging it and before
/// anyone moderated it. The item leaves every list, count and the search index; the log keeps
/// that it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackWithdrawn {
    pub by: Uuid,
}

/// The person who logged an item corrected it before anyone moderated it: the themes here,
/// the words in [`EditedPersonal`], encrypted like the first words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackEdited {
    pub by: Uuid,
    pub themes: BTreeSet<String>,
}

/// The corrected words of a [`FeedbackEdited`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditedPersonal {
    pub text: String,
}

/// Minutes can name people, so they are encrypted like item text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesPersonal {
    pub minutes: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemeAdded {
    pub theme: String,
    pub name: String,
    pub parent: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemeRenamed {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThemeMerged {
    pub into: String,
}

/// What a gazetteer entry names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GazetteerKind {
    Person,
    Place,
}

/// A name or place added to a hub's gazetteer (stream `gazetteer-<hub>`). The name itself is
/// personal ([`GazetteerName`]), sealed under a key of the entry's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GazetteerEntryAdded {
    pub entry: Uuid,
    pub hub: String,
    pub kind: GazetteerKind,
    pub by: Uuid,
}

/// The personal part of [`GazetteerEntryAdded`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GazetteerName {
    pub name: String,
}

/// An entry taken off a hub's gazetteer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GazetteerEntryRemoved {
    pub entry: Uuid,
    pub by: Uuid,
}

event!(FeedbackLogged, FEEDBACK, "FeedbackLogged", 1);
event!(FeedbackRedacted, FEEDBACK, "FeedbackRedacted", 1);
event!(FeedbackShared, FEEDBACK, "FeedbackShared", 1);
event!(FeedbackHeld, FEEDBACK, "FeedbackHeld", 1);
event!(FeedbackReleased, FEEDBACK, "FeedbackReleased", 1);
event!(ConsentChanged, FEEDBACK, "ConsentChanged", 1);
event!(SafeguardingFlagged, FEEDBACK, "SafeguardingFlagged", 1);
event!(FeedbackFedBack, FEEDBACK, "FeedbackFedBack", 1);
event!(FeedbackWithdrawn, FEEDBACK, "FeedbackWithdrawn", 1);
event!(FeedbackEdited, FEEDBACK, "FeedbackEdited", 1);
event!(MeetingStarted, MEETING, "MeetingStarted", 1);
event!(MeetingRecorded, MEETING, "MeetingRecorded", 1);
event!(SafeguardingActionRecorded, SAFEGUARDING, "SafeguardingActionRecorded", 1);
event!(SafeguardingHandedOver, SAFEGUARDING, "SafeguardingHandedOver", 1);
event!(SafeguardingClosed, SAFEGUARDING, "SafeguardingClosed", 1);
event!(ThemeAdded, THEME, "ThemeAdded", 1);
event!(ThemeRenamed, THEME, "ThemeRenamed", 1);
event!(ThemeMerged, THEME, "ThemeMerged", 1);
event!(GazetteerEntryAdded, GAZETTEER, "GazetteerEntryAdded", 1);
event!(GazetteerEntryRemoved, GAZETTEER, "GazetteerEntryRemoved", 1);

/// A hub's coordinator said a feedback item's speaker is this person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackAttributed {
    pub item: Uuid,
    pub person: crate::person::PersonId,
    /// The item's hub (an item never changes hub).
    pub hub: String,
    /// Who said so.
    pub by: Uuid,
}
event!(FeedbackAttributed, FEEDBACK, "FeedbackAttributed", 1);
