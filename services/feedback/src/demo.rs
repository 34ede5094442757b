//! A demo data set: a year of meetings and a few hundred feedback items for the six EXACT hubs
//! in West Sussex and the West Sussex Forum.
//!
//! Pure and deterministic: the same seed and the same day always give the same data. No storage
//! and no randomness crate: a small xorshift generator picks from templates and fragments written
//! for this file. Every person, name and quote in it is made up. The words are person-first
//! ("people who use drugs", "in recovery", "on a script"), never stigmatising.

use std::collections::{BTreeMap, BTreeSet};

use heard_access::Consent;
use jiff::Span;
use jiff::civil::{Date, Weekday};

use crate::domain::{Channel, NewItem, SpeakerKind};

/// One meeting of a hub or of the Forum.
#[derive(Clone, Debug)]
pub struct DemoMeeting {
    pub hub: String,
    pub held_on: Date,
    pub attendance: u32,
    pub minutes: String,
    /// Indexes into [`DemoData::items`]: the points raised at this meeting.
    pub items: Vec<usize>,
}

/// One feedback item, with what the demo should do with it after logging it.
#[derive(Clone, Debug)]
pub struct DemoItem {
    /// Ready to log: `meeting` and `import_key` are `None` (the service links meetings).
    pub item: NewItem,
    /// Whether the demo should moderate and share it (never for hub-only or safeguarding items).
    pub share: bool,
    /// Passages to redact before sharing; each occurs in the text.
    pub redact: Vec<String>,
    /// A disclosure of risk: flag it for a coordinator, never share it.
    pub safeguarding: bool,
}

#[derive(Clone, Debug)]
pub struct DemoData {
    pub meetings: Vec<DemoMeeting>,
    pub items: Vec<DemoItem>,
}

/// The West Sussex Forum, which every hub belongs to.
pub const FORUM: &str = "west-sussex-forum";

struct Hub {
    id: &'static str,
    /// How many of the items come from this hub, relative to the others.
    weight: u64,
    /// The day of the week the hub meets.
    weekday: Weekday,
    /// Towns a speaker from this hub might mention (and the hub redacts).
    towns: &'static [&'static str],
}

const HUBS: [Hub; 7] = [
    Hub {
        id: "adur-worthing",
        weight: 18,
        weekday: Weekday::Tuesday,
        towns: &["Worthing", "Shoreham", "Lancing", "Southwick"],
    },
    Hub {
        id: "arun",
        weight: 17,
        weekday: Weekday::Wednesday,
        towns: &["Bognor", "Littlehampton", "Arundel", "Rustington"],
    },
    Hub {
        id: "chichester",
        weight: 12,
        weekday: Weekday::Thursday,
        towns: &["Chichester", "Selsey", "Midhurst", "Petworth"],
    },
    Hub { id: "crawley", weight: 18, weekday: Weekday::Monday, towns: &["Crawley", "Three Bridges", "Broadfield"] },
    Hub {
        id: "horsham",
        weight: 11,
        weekday: Weekday::Tuesday,
        towns: &["Horsham", "Billingshurst", "Pulborough", "Storrington"],
    },
    Hub {
        id: "mid-sussex",
        weight: 12,
        weekday: Weekday::Thursday,
        towns: &["Burgess Hill", "Haywards Heath", "East Grinstead"],
    },
    Hub { id: FORUM, weight: 6, weekday: Weekday::Friday, towns: &["Worthing", "Bognor", "Crawley", "Horsham"] },
];

/// The seeded providers: (id, name exactly as seeded).
const PROVIDERS: [(&str, &str); 6] = [
    ("addaction", "Addaction"),
    ("cri", "CRI (Crime Reduction Initiatives)"),
    ("sussex-partnership", "Sussex Partnership NHS Foundation Trust"),
    ("community-pharmacies", "Community pharmacies"),
    ("gp-practices", "GP practices"),
    ("housing-services", "Housing and supported accommodation"),
];

// The child themes of `themes::seed()`.
const ACCESS: &str = "access-and-waiting-times";
const HOURS: &str = "opening-hours";
const RURAL: &str = "rural-transport";
const STIGMA: &str = "staff-attitudes-and-stigma";
const POWER: &str = "power-imbalance";
const CHOICE: &str = "personalisation-and-choice";
const WOMEN: &str = "women";
const BME: &str = "bme-and-language";
const KEYWORKER: &str = "keyworker-time";
const PRESCRIBING: &str = "prescribing-and-oat-administration";
const DUAL: &str = "dual-diagnosis-mental-health";
const GP_PHARMACY: &str = "gp-and-pharmacy-experience";
const HOUSING: &str = "housing-and-ghettoisation";
const AFTERCARE: &str = "aftercare-and-falling-off-a-cliff";
const RELEASE: &str = "through-care-and-prison-release";
const FAMILY: &str = "family-and-children";
const ACTIVITY: &str = "meaningful-activity-and-employment";
const PEER: &str = "peer-support-and-mutual-aid";
const HOPE: &str = "hope-and-role-models";

// What a point may be about: seeded provider ids, or a service named as people name it.
const TREATMENT: &[&str] = &["addaction", "cri"];
const MENTAL_HEALTH: &[&str] = &["sussex-partnership"];
const PHARMACY: &[&str] = &["community-pharmacies"];
const GP: &[&str] = &["gp-practices"];
const HOUSING_SERVICES: &[&str] = &["housing-services"];
const PROBATION: &[&str] = &["Probation service"];
const JOBCENTRE: &[&str] = &["Jobcentre"];
const HOSPITAL: &[&str] = &["Hospital A&E"];
const MUTUAL_AID: &[&str] = &["SMART Recovery meeting", "Recovery café"];
const CHILDREN: &[&str] = &["Children's services"];
const NONE: &[&str] = &[];

/// One point someone might make: a template (see [`fill`]), the other themes it touches, and the
/// services it might be about.
type Point = (&'static str, &'static [&'static str], &'static [&'static str]);

/// Points by theme, with how often the theme comes up relative to the others.
const POINTS: [(&str, u64, &[Point]); 19] = [
    (
        ACCESS,
        9,
        &[
            ("{i} waited {weeks} weeks for a first appointment and nearly gave up", &[], TREATMENT),
            ("{i} rang the service {times} times before anyone called {me} back", &[], TREATMENT),
            ("by the time {my} assessment came through {i} had already been to A&E twice", &[], TREATMENT),
            (
                "{i} {was} told there would be a detox bed in {weeks} weeks and it took nearly three months",
                &[],
                TREATMENT,
            ),
            (
                "being turned away because {i} had had a drink that morning made {me} feel {i} would never get in",
                &[STIGMA],
                TREATMENT,
            ),
            (
                "{i} had to tell {my} whole story to three different workers before anything happened",
                &[KEYWORKER],
                TREATMENT,
            ),
            (
                "once {i} {was} seen the worker was brilliant; it was getting through the door that was hard",
                &[],
                TREATMENT,
            ),
            ("a same-day appointment would have made all the difference when {i} first asked for help", &[], TREATMENT),
            ("{i} {was} referred by {my} GP and heard nothing for {weeks} weeks", &[GP_PHARMACY], GP),
            ("the online self-referral form kept crashing, so {i} gave up and walked in instead", &[], TREATMENT),
            ("the waiting list for counselling is so long that people stop asking", &[DUAL], MENTAL_HEALTH),
        ],
    ),
    (
        HOURS,
        6,
        &[
            ("the service shuts at four, which is no use to anyone who works", &[ACTIVITY], TREATMENT),
            ("there is nothing open at weekends and that is when {i} struggle{s} most", &[], TREATMENT),
            (
                "{i} had to choose between keeping {my} job and making {my} nine o'clock appointments",
                &[ACTIVITY],
                TREATMENT,
            ),
            (
                "an evening clinic once a week would mean {i} could get help without telling {my} boss",
                &[ACTIVITY],
                TREATMENT,
            ),
            ("the drop-in changed its hours and nobody told {me}, so {i} turned up to a locked door", &[], NONE),
            ("bank holidays are the worst: everything closes and {i} feel{s} completely on {my} own", &[], TREATMENT),
            ("the phone line goes to voicemail after five and nobody rings back until the next day", &[], TREATMENT),
            ("the {day} evening group is the one thing that gets {me} through the week", &[PEER], NONE),
            (
                "the pharmacy shuts at lunchtime on Saturdays, so if the bus is late {i} miss{es} a dose",
                &[GP_PHARMACY],
                PHARMACY,
            ),
        ],
    ),
    (
        RURAL,
        5,
        &[
            ("the bus fare to {my} appointments is more than {i} can afford each week", &[], NONE),
            ("it takes two buses and most of a morning to get to a twenty-minute appointment", &[], TREATMENT),
            ("{i} live{s} in a village with one bus a day, so if an appointment runs late {i} {am} stuck", &[], NONE),
            ("the service used to pay for travel and then stopped without any warning", &[], TREATMENT),
            ("outreach to the villages would help people who can't get into town", &[], TREATMENT),
            (
                "{i} missed two appointments because the bus didn't turn up, then {i} {was} discharged for not engaging",
                &[POWER],
                TREATMENT,
            ),
            (
                "if the worker could meet {me} at the library in {my} own town {i} would never miss a session",
                &[KEYWORKER],
                TREATMENT,
            ),
            ("the train fare alone takes a tenth of {my} money each week", &[], NONE),
            (
                "a phone or video appointment now and then would save {me} half a day of travelling",
                &[CHOICE],
                TREATMENT,
            ),
        ],
    ),
    (
        STIGMA,
        9,
        &[
            ("the receptionist spoke to {me} like {i} {was} a problem to be managed, not a person", &[], TREATMENT),
            (
                "{i} heard staff in A&E talking about {me} as if {i} couldn't hear, and {i} walked out before being seen",
                &[],
                HOSPITAL,
            ),
            ("{my} keyworker never once made {me} feel judged, even after {i} relapsed", &[KEYWORKER], TREATMENT),
            ("the way people look at you at the pharmacy counter makes {me} want to hide", &[GP_PHARMACY], PHARMACY),
            ("the moment {i} mentioned drinking, the whole tone of the GP appointment changed", &[GP_PHARMACY], GP),
            (
                "staff who have been through it themselves just get it, and you can tell straight away",
                &[PEER],
                TREATMENT,
            ),
            (
                "{i} {was} treated with real kindness at the last appointment and it made {me} want to come back",
                &[],
                TREATMENT,
            ),
            ("being called non-compliant in a letter hurt more than {i} expected", &[POWER], TREATMENT),
            (
                "the security guard followed {me} round the building as if {i} {was} going to steal something",
                &[],
                HOSPITAL,
            ),
            (
                "a worker once said {i} would never change, and {i} {have} been in recovery for over a year now",
                &[HOPE],
                NONE,
            ),
        ],
    ),
    (
        POWER,
        6,
        &[
            ("{i} {was} told that complaining might affect {my} script", &[PRESCRIBING], TREATMENT),
            ("{i} signed a treatment agreement nobody explained, and then it was used against {me}", &[], TREATMENT),
            ("decisions about {my} care get made in meetings {i} {am} not invited to", &[CHOICE], TREATMENT),
            ("it feels like you have to say what the worker wants to hear or you lose out", &[], TREATMENT),
            ("{i} asked to see {my} notes and {was} made to feel like a troublemaker", &[], TREATMENT),
            (
                "the service should ask the people who use it before changing things that affect everyone",
                &[],
                TREATMENT,
            ),
            (
                "{i} {was} discharged by letter without a conversation after four years with the service",
                &[AFTERCARE],
                TREATMENT,
            ),
            ("having an advocate in the review meeting changed how staff spoke to {me}", &[], TREATMENT),
            ("there is a service user seat on the board, but nobody seems to read what the hub sends", &[], NONE),
        ],
    ),
    (
        CHOICE,
        6,
        &[
            (
                "{i} {was} put in a group straight away when what {i} needed was time one-to-one",
                &[KEYWORKER],
                TREATMENT,
            ),
            ("nobody asked what {i} wanted from treatment; it was the same plan as everyone else's", &[], TREATMENT),
            ("{i} wanted to reduce slowly and {was} told it was detox or nothing", &[PRESCRIBING], TREATMENT),
            (
                "{my} care plan has {my} own goals in it for the first time and it makes a real difference",
                &[HOPE],
                TREATMENT,
            ),
            ("the only mutual aid meeting nearby is very spiritual, and that isn't for everyone", &[PEER], NONE),
            ("there was no choice of pharmacy; {i} {was} just told where to go", &[GP_PHARMACY], PHARMACY),
            ("{i} would like to be able to change keyworker without it becoming a big deal", &[KEYWORKER], TREATMENT),
            (
                "{i} {was} pushed towards abstinence before {i} {was} ready, and it set {me} back",
                &[PRESCRIBING],
                TREATMENT,
            ),
            (
                "being offered a choice between a group and one-to-one sessions made {me} feel listened to",
                &[],
                TREATMENT,
            ),
        ],
    ),
    (
        WOMEN,
        5,
        &[
            (
                "there is no women-only group, and {i} can't talk about what happened to {me} in a mixed room",
                &[PEER],
                TREATMENT,
            ),
            (
                "{i} {was} scared that asking for help would mean social services taking the children",
                &[FAMILY],
                CHILDREN,
            ),
            ("the waiting room is full of men and {i} {do} not feel safe sitting there", &[], TREATMENT),
            ("a crèche at the group would mean {i} could actually come", &[FAMILY], NONE),
            ("the women's group on {day}s is the first place {i} {have} felt properly understood", &[PEER], TREATMENT),
            ("{i} {was} only offered appointments in the middle of the school run", &[HOURS, FAMILY], TREATMENT),
            (
                "{i} {was} pregnant and frightened to tell anyone at the service in case they judged {me}",
                &[STIGMA],
                TREATMENT,
            ),
            ("seeing a female doctor for {my} review meant {i} could finally be honest", &[], GP),
            ("{i} asked for a female worker and had one within a week, which meant a lot", &[CHOICE], TREATMENT),
        ],
    ),
    (
        BME,
        4,
        &[
            ("the leaflets are only in English and {my} mum couldn't read any of them", &[FAMILY], TREATMENT),
            ("{i} {was} offered an interpreter for the first appointment and then never again", &[], TREATMENT),
            ("nobody at the service looks like {me} or understands where {i} come{s} from", &[], TREATMENT),
            ("nobody in {my} community talks about drinking, so coming here at all took a lot", &[], NONE),
            ("a worker who spoke {language} meant {i} could explain things properly for once", &[], TREATMENT),
            (
                "using a relative to interpret meant {i} couldn't be honest about how much {i} {was} using",
                &[FAMILY],
                TREATMENT,
            ),
            ("more people would come to the forum if someone there spoke {language}", &[PEER], NONE),
            ("the assessment forms seem to assume everyone was born here", &[], TREATMENT),
        ],
    ),
    (
        KEYWORKER,
        8,
        &[
            (
                "{my} keyworker has so many people on the caseload that {i} get{s} ten minutes once a month",
                &[],
                TREATMENT,
            ),
            ("{i} {have} had four keyworkers in a year and had to start again every time", &[], TREATMENT),
            ("when {my} keyworker left nobody told {me} until {i} turned up for an appointment", &[], TREATMENT),
            ("{my} keyworker rang when {i} missed a session instead of just closing the case", &[], TREATMENT),
            ("the sessions feel like box-ticking: a form, a drug test and out the door", &[], TREATMENT),
            (
                "{i} only see{s} {my} keyworker for script reviews, never to talk about anything else",
                &[PRESCRIBING],
                TREATMENT,
            ),
            ("{my} keyworker helped with the benefits forms and that took a huge weight off", &[], TREATMENT),
            ("half an hour with someone who really listens is worth more than any leaflet", &[], TREATMENT),
            ("appointments keep getting cancelled at short notice because staff are off sick", &[ACCESS], TREATMENT),
        ],
    ),
    (
        PRESCRIBING,
        9,
        &[
            (
                "{i} {have} been on a script for {years} years and nobody has ever talked to {me} about reducing",
                &[CHOICE],
                TREATMENT,
            ),
            (
                "supervised consumption every day means {i} can't take a job or go away for a weekend",
                &[ACTIVITY],
                PHARMACY,
            ),
            ("{my} dose was cut without a proper conversation and {i} felt ill for weeks", &[POWER], TREATMENT),
            ("{i} {was} told {i} would lose {my} take-homes if {i} missed one more appointment", &[POWER], TREATMENT),
            (
                "sorting out a script after a hospital stay took so long {i} nearly started buying on the street again",
                &[ACCESS],
                TREATMENT,
            ),
            ("switching to the long-acting injection has given {me} {my} days back", &[HOPE], TREATMENT),
            (
                "when the pharmacy ran out of {my} medication nobody could say when it would come in",
                &[GP_PHARMACY],
                PHARMACY,
            ),
            ("{i} asked about buprenorphine instead of methadone and nobody would discuss it", &[CHOICE], TREATMENT),
            ("picking up every day with the whole queue watching is humiliating", &[STIGMA, GP_PHARMACY], PHARMACY),
            ("picking up weekly now means {i} can actually plan {my} life", &[], PHARMACY),
        ],
    ),
    (
        DUAL,
        7,
        &[
            (
                "the mental health team said {i} had to stop drinking first, and the drug service said the opposite",
                &[],
                MENTAL_HEALTH,
            ),
            (
                "{i} {was} passed between two services for months and neither would take responsibility",
                &[ACCESS],
                MENTAL_HEALTH,
            ),
            ("the crisis line told {me} to ring back when {i} had not had a drink", &[STIGMA], MENTAL_HEALTH),
            ("{my} anxiety is the reason {i} drink{s}, but nobody treats the two together", &[], MENTAL_HEALTH),
            (
                "things only started to make sense when {my} keyworker and the mental health nurse met together",
                &[KEYWORKER],
                MENTAL_HEALTH,
            ),
            (
                "{i} {have} been waiting {months} months for counselling and {i} {am} still on the list",
                &[ACCESS],
                MENTAL_HEALTH,
            ),
            (
                "the psychiatrist would not look at {my} medication while {i} {was} on a script",
                &[PRESCRIBING],
                MENTAL_HEALTH,
            ),
            (
                "a worker who understood trauma as well as drugs was the first person {i} could be honest with",
                &[],
                TREATMENT,
            ),
        ],
    ),
    (
        GP_PHARMACY,
        7,
        &[
            ("{my} GP won't prescribe anything for pain because of {my} history", &[STIGMA], GP),
            (
                "the pharmacist takes {me} into the side room quietly, and it makes {me} feel like any other customer",
                &[],
                PHARMACY,
            ),
            ("{i} {was} taken off the GP list after missing two appointments", &[ACCESS], GP),
            ("the pharmacy sometimes opens late and {i} end{s} up late for work", &[ACTIVITY, HOURS], PHARMACY),
            (
                "the new GP had read {my} notes and didn't make {me} explain everything again, which was a relief",
                &[],
                GP,
            ),
            ("shared care with the GP would save a trip to the drug service every fortnight", &[RURAL], GP),
            ("the pharmacy staff talk about {my} script in front of the queue", &[STIGMA], PHARMACY),
            ("{i} couldn't register with a GP without a fixed address", &[HOUSING], GP),
            (
                "the pharmacy gave {me} naloxone and showed {me} how to use it, which nobody else had done",
                &[],
                PHARMACY,
            ),
        ],
    ),
    (
        HOUSING,
        7,
        &[
            (
                "everyone leaving treatment gets put in the same few streets, surrounded by people still using",
                &[AFTERCARE],
                HOUSING_SERVICES,
            ),
            ("{i} {was} moved into a shared house where drugs were being sold downstairs", &[], HOUSING_SERVICES),
            (
                "{i} {have} been sofa-surfing for {months} months and the housing list says {i} {am} not a priority",
                &[],
                HOUSING_SERVICES,
            ),
            (
                "the hostel rules mean {i} lose{s} {my} bed if {i} get{s} back after ten, even from an evening meeting",
                &[PEER],
                HOUSING_SERVICES,
            ),
            (
                "supported housing turned {me} down because {i} {am} on a script",
                &[PRESCRIBING, STIGMA],
                HOUSING_SERVICES,
            ),
            (
                "having {my} own front door for the first time in years has made recovery feel possible",
                &[HOPE],
                HOUSING_SERVICES,
            ),
            (
                "the B&B {i} {was} placed in is miles from {my} services and {my} family",
                &[RURAL, FAMILY],
                HOUSING_SERVICES,
            ),
            ("nobody will give {me} a tenancy with {my} record", &[RELEASE], HOUSING_SERVICES),
            ("{i} {was} told to come back when {i} {was} actually homeless, not before", &[], HOUSING_SERVICES),
        ],
    ),
    (
        AFTERCARE,
        7,
        &[
            ("when {i} finished the programme the support just stopped overnight", &[], TREATMENT),
            ("after detox {i} {was} sent home with a leaflet and nothing else", &[], TREATMENT),
            ("the first three months after rehab were the hardest and there was nobody to call", &[], NONE),
            (
                "{i} relapsed after discharge and had to go through the whole assessment again to get back in",
                &[ACCESS],
                TREATMENT,
            ),
            ("a weekly check-in after treatment would have stopped {me} slipping back", &[], TREATMENT),
            ("the recovery café is the only thing that carried on after {my} treatment ended", &[PEER], MUTUAL_AID),
            ("being told {i} {was} doing well meant {my} support got cut just when {i} needed it", &[], TREATMENT),
            ("finishing the programme felt like being pushed off the edge", &[], TREATMENT),
            ("the aftercare group is brilliant but it only meets once a month", &[PEER], TREATMENT),
        ],
    ),
    (
        RELEASE,
        5,
        &[
            (
                "{i} came out of prison on a Friday afternoon with no script and no appointment until Tuesday",
                &[PRESCRIBING],
                PROBATION,
            ),
            ("nobody from the service visited before release, so {i} walked out with nothing arranged", &[], TREATMENT),
            ("the through-care worker met {me} at the gate and it honestly saved {my} life", &[HOPE], TREATMENT),
            (
                "probation and the drug service booked {me} in on the same morning in different towns",
                &[RURAL],
                PROBATION,
            ),
            ("the money {i} {was} given on release didn't cover a week's rent", &[HOUSING], PROBATION),
            ("having a record means every job application ends the same way", &[ACTIVITY], NONE),
            (
                "{i} got {my} medication in prison but it took {weeks} weeks to get the same dose outside",
                &[PRESCRIBING],
                TREATMENT,
            ),
            ("a peer mentor who had also been inside made the first weeks out bearable", &[PEER], NONE),
        ],
    ),
    (
        FAMILY,
        6,
        &[
            ("{i} {was} frightened to ask for help in case the children were taken into care", &[], CHILDREN),
            ("there is nowhere to bring the kids, so {i} miss{es} groups in the school holidays", &[HOURS], TREATMENT),
            ("{my} family were never offered any support, even though they were living it too", &[], TREATMENT),
            (
                "seeing {my} daughter depends on {my} test results, and {i} {have} not missed one in a year",
                &[HOPE],
                CHILDREN,
            ),
            ("the family group helped {my} mum understand it isn't about willpower", &[PEER], TREATMENT),
            (
                "social workers and the drug service don't talk to each other, so {i} end{s} up telling the same story twice",
                &[],
                CHILDREN,
            ),
            ("getting the kids back was the reason {i} kept going", &[HOPE], NONE),
            ("grandparents bringing up children because of a parent's drug use get nothing at all", &[], NONE),
        ],
    ),
    (
        ACTIVITY,
        6,
        &[
            ("{i} want{s} to work but every job asks about the gaps in {my} CV", &[], JOBCENTRE),
            ("volunteering at the food bank gave {me} a reason to get up in the morning", &[HOPE], NONE),
            ("the days are long when there is nothing to do, and that is when {i} {am} most at risk", &[], NONE),
            ("the gardening project got {me} outside and talking to people again", &[PEER], NONE),
            ("there are courses, but nobody helps you into an actual job at the end", &[], JOBCENTRE),
            (
                "the Jobcentre kept sending {me} for jobs {i} couldn't do while {i} {was} on daily pick-up",
                &[PRESCRIBING],
                JOBCENTRE,
            ),
            ("{i} {have} started a college course and it is the first thing in years {i} {am} proud of", &[HOPE], NONE),
            ("the peer mentoring training meant {i} could give something back", &[PEER], TREATMENT),
        ],
    ),
    (
        PEER,
        8,
        &[
            ("the hub is the only place {i} can talk without being judged", &[], NONE),
            (
                "{i} didn't know there were SMART meetings locally until someone at the drop-in mentioned them",
                &[],
                MUTUAL_AID,
            ),
            ("the mutual aid meeting on {day} nights is what keeps {me} going between appointments", &[], MUTUAL_AID),
            ("the service should tell people about mutual aid at the first appointment, not the last", &[], TREATMENT),
            ("being asked to speak at the forum was the first time anyone wanted {my} opinion", &[POWER, HOPE], NONE),
            ("the peer mentors turn up when they say they will, and that means a lot", &[], TREATMENT),
            ("{i} go{es} to a meeting in the next town so nobody {i} know{s} sees {me}", &[RURAL], MUTUAL_AID),
            ("the monthly recovery walk gets people out who would never come to a group", &[ACTIVITY], NONE),
            ("the peer volunteers lost their expenses and half of them stopped coming", &[], TREATMENT),
        ],
    ),
    (
        HOPE,
        6,
        &[
            (
                "meeting someone who was on a script for ten years and now works at the service gave {me} hope",
                &[PRESCRIBING],
                TREATMENT,
            ),
            ("{i} want{s} to be the person at the hub that {i} needed when {i} started", &[PEER], NONE),
            ("nobody in {my} life had ever recovered, so {i} didn't believe it was possible", &[], NONE),
            ("seeing people from {my} old group doing well makes {me} think {i} can too", &[PEER], NONE),
            (
                "a relapse last spring didn't wipe out everything {i} had learned, and the hub helped {me} see that",
                &[PEER],
                NONE,
            ),
            (
                "the recovery stories evening was packed and people were still talking about it a week later",
                &[PEER],
                NONE,
            ),
            (
                "{i} would like more people in recovery working in services, not only volunteering",
                &[ACTIVITY],
                TREATMENT,
            ),
            (
                "{my} worker saying it had been done before and could be done again stayed with {me}",
                &[KEYWORKER],
                TREATMENT,
            ),
        ],
    ),
];

/// How an item opens when it is reported rather than quoted, by channel.
fn intros(channel: Channel) -> &'static [&'static str] {
    match channel {
        Channel::Forum => &[
            "{I} told the meeting that ",
            "At the forum {i} said ",
            "{I} raised at the forum that ",
            "A {person} at the forum said ",
            "One {person} told the meeting that ",
            "{I} said ",
        ],
        Channel::DropIn => &[
            "At the drop-in {i} said ",
            "{I} came into the drop-in and said ",
            "A {person} at the drop-in said ",
            "Over a cup of tea {i} told us ",
            "{I} let us know that ",
        ],
        Channel::OneToOne => &[
            "{I} told {my} peer supporter that ",
            "In a one-to-one {i} said ",
            "{I} explained that ",
            "{I} wanted the hub to know that ",
            "{I} told us ",
        ],
        Channel::Phone => &[
            "{I} rang the hub and said ",
            "{I} texted the hub to say ",
            "A {person} who rang the hub said ",
            "{I} left a message saying ",
        ],
        Channel::Survey | Channel::Online => &["{I} said "],
    }
}

/// A second point, joined to the first.
const ALSO_QUOTED: [&str; 3] = ["Also, ", "On top of that, ", "Another thing: "];
const ALSO_REPORTED: [&str; 3] = ["{I} also said ", "{I} added that ", "{I} also mentioned that "];

/// Sentences that can close any item.
const TAILS: [&str; 16] = [
    "{I} nearly gave up on the service because of it",
    "it would make a real difference to a lot of people",
    "{I} {have} raised it before and nothing changed",
    "{I} would like someone to explain why it works this way",
    "{I} want{s} the commissioners to hear this",
    "{I} know{s} other people this has happened to",
    "to be fair, it has got a bit better since the summer",
    "{I} would like the service to ask people before deciding things like this",
    "it took a lot for {me} to say this out loud",
    "nobody has explained why",
    "{I} asked for this to go to the Forum",
    "it is a small thing but it matters",
    "{I} {dont} want anyone to get into trouble; {i} just want{s} it to change",
    "{I} {am} happy for the hub to pass this on",
    "if it changed, {i} would tell other people to come",
    "{I} {was} glad someone finally asked",
];

/// Extra closing sentences for points made at a meeting.
const FORUM_TAILS: [&str; 3] = [
    "others at the meeting agreed",
    "two other people said the same had happened to them",
    "the room went quiet after that",
];

/// Sentences that name a person or a place, for the hub to redact before sharing.
const IDENTIFYING: [&str; 11] = [
    "{name} at the {town} drop-in was the only one who really listened to {me}",
    "the bus from {town} takes over an hour each way",
    "{my} old keyworker {name} would have sorted it out in a day",
    "{I} {was} living in {town} at the time",
    "{I} asked for {name}, but {name} had moved to another team",
    "{name} from the {town} group has been ringing {me} every week",
    "it all happened at the {town} office",
    "{my} friend {name} had exactly the same thing happen",
    "{name}, who runs the {day} group, stayed late to help {me}",
    "{I} used to see {name} at the {town} pharmacy",
    "{I} {have} to travel in from {town} for every appointment",
];

/// Made-up first names that a speaker might mention.
const MENTIONED: [&str; 20] = [
    "Marnie", "Tobias", "Kezia", "Dougie", "Idris", "Saoirse", "Lorcan", "Petra", "Yusuf", "Delphine", "Caspian",
    "Fenella", "Oona", "Ezra", "Magnus", "Priya", "Jolene", "Abebe", "Rosalind", "Tariq",
];

/// Made-up chosen names for pseudonymous speakers.
const CHOSEN_NAMES: [&str; 20] = [
    "Jojo", "Skye", "Dex", "Pip", "Nell", "Tam", "Bex", "Rio", "Alfie", "Mo", "Jas", "Frankie", "Lou", "Cass", "Shay",
    "Robin", "Moth", "Bramble", "Ziggy", "Sunny",
];

/// Made-up full names for the few named speakers.
const FIRST_NAMES: [&str; 12] = [
    "Harriet", "Declan", "Ayesha", "Gideon", "Morwenna", "Ilse", "Cormac", "Talulah", "Ansel", "Verity", "Lennox",
    "Ottilie",
];
const SURNAMES: [&str; 10] = [
    "Ashcombe",
    "Brackenridge",
    "Thistlewood",
    "Merriweather",
    "Pennyfold",
    "Hollowell",
    "Quarrington",
    "Fairbairn",
    "Larkspur",
    "Wintersgill",
];

/// Disclosures of risk, written with care: (text, themes).
const SAFEGUARDING: [(&str, &[&str]); 6] = [
    ("He said he has been thinking about ending it and did not know who else to tell.", &[DUAL]),
    ("She said her partner takes her money and she is frightened to go home after the group.", &[WOMEN, HOUSING]),
    (
        "She told us there are days when she cannot look after her children safely and she wants help before something happens.",
        &[FAMILY, WOMEN],
    ),
    (
        "He said that since his dose was cut he has been saving up tablets and would not say what for.",
        &[PRESCRIBING, DUAL],
    ),
    ("They said they are sleeping in a tent by the river and a man there has been threatening them.", &[HOUSING]),
    ("She said she has had thoughts of not wanting to be here since coming out of prison.", &[RELEASE, DUAL]),
];

/// A tiny deterministic generator (splitmix64 seeding, xorshift64): enough to vary a demo or a
/// benchmark corpus, not for anything that needs secrecy.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // splitmix64 spreads nearby seeds apart; xorshift needs a non-zero state.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A number in `0..len` (0 when `len` is 0): an index into a slice of that length.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len.max(1) as u64) as usize
    }

    /// True with a chance of `chance` in a thousand.
    pub fn permille(&mut self, chance: u64) -> bool {
        self.next_u64() % 1000 < chance
    }

    /// A random (version 4) UUID from this generator.
    pub fn uuid(&mut self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    fn percent(&mut self, chance: u64) -> bool {
        self.below(100) < chance
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn word(&mut self, words: &[&'static str]) -> &'static str {
        words[self.below(words.len() as u64) as usize]
    }

    fn weighted<T: Copy>(&mut self, items: &[(T, u64)]) -> T {
        let total: u64 = items.iter().map(|(_, weight)| weight).sum();
        let mut roll = self.below(total);
        for (item, weight) in items {
            if roll < *weight {
                return *item;
            }
            roll -= weight;
        }
        items[items.len() - 1].0
    }
}

/// Whose words: quoted in the first person, or reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Person {
    First,
    He,
    She,
    /// Singular "they", for someone whose gender the hub did not record.
    They,
}

impl Person {
    #[cfg(test)]
    const ALL: [Person; 4] = [Person::First, Person::He, Person::She, Person::They];

    /// The word a template token stands for in this voice.
    fn word(self, token: &str) -> Option<&'static str> {
        let forms: [&str; 4] = match token {
            "i" => ["I", "he", "she", "they"],
            "I" => ["I", "He", "She", "They"],
            "my" => ["my", "his", "her", "their"],
            "My" => ["My", "His", "Her", "Their"],
            "me" => ["me", "him", "her", "them"],
            "am" => ["am", "is", "is", "are"],
            "was" => ["was", "was", "was", "were"],
            "have" => ["have", "has", "has", "have"],
            "do" => ["do", "does", "does", "do"],
            "dont" => ["don't", "doesn't", "doesn't", "don't"],
            "s" => ["", "s", "s", ""],
            "es" => ["", "es", "es", ""],
            "person" => ["person", "man", "woman", "person"],
            _ => return None,
        };
        Some(forms[self as usize])
    }
}

/// What one item's templates are filled with.
struct Filler<'a> {
    rng: &'a mut Rng,
    person: Person,
    name: &'static str,
    town: &'static str,
    /// The names and places the filled text mentions.
    mentioned: Vec<String>,
}

impl Filler<'_> {
    /// Fills `{token}`s: pronouns and verb endings for the voice, and small varied details.
    fn fill(&mut self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = open + rest[open..].find('}').expect("templates close every brace");
            let token = &rest[open + 1..close];
            let word: &'static str = match token {
                "weeks" => self.rng.word(&["three", "four", "five", "six", "seven", "eight", "ten", "twelve"]),
                "times" => self.rng.word(&["three", "four", "five", "six", "seven", "eight"]),
                "years" => self.rng.word(&["two", "three", "four", "five", "six", "eight", "eleven"]),
                "months" => self.rng.word(&["three", "four", "five", "six", "seven", "nine"]),
                "day" => self.rng.word(&["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]),
                "language" => self.rng.word(&[
                    "Polish",
                    "Portuguese",
                    "Arabic",
                    "Romanian",
                    "Tamil",
                    "Bengali",
                    "Urdu",
                    "Lithuanian",
                ]),
                "name" => {
                    self.mention(self.name);
                    self.name
                }
                "town" => {
                    self.mention(self.town);
                    self.town
                }
                other => self.person.word(other).unwrap_or_else(|| panic!("unknown template token {{{other}}}")),
            };
            out.push_str(word);
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }

    fn mention(&mut self, passage: &str) {
        if !self.mentioned.iter().any(|m| m == passage) {
            self.mentioned.push(passage.to_owned());
        }
    }

    /// A whole sentence: filled, capitalised and ended with a full stop.
    fn sentence(&mut self, template: &str) -> String {
        capitalise(&format!("{}.", self.fill(template)))
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The text of one item, the themes it touches and the service it is about.
struct Composed {
    text: String,
    themes: BTreeSet<String>,
    about: Option<String>,
    provider: Option<String>,
    redact: Vec<String>,
}

fn points_of(theme: &str) -> &'static [Point] {
    POINTS.iter().find(|(id, _, _)| *id == theme).map(|(_, _, points)| *points).expect("every theme has points")
}

fn compose(rng: &mut Rng, hub: &Hub, channel: Channel, identifying: bool) -> Composed {
    let weights: Vec<(&str, u64)> = POINTS.iter().map(|(theme, weight, _)| (*theme, *weight)).collect();
    let theme = rng.weighted(&weights);
    let person = match channel {
        Channel::Survey | Channel::Online => Person::First,
        _ => rng.weighted(&[(Person::First, 35), (Person::He, 22), (Person::She, 22), (Person::They, 21)]),
    };
    // Points about women's services are in a woman's own words, or reported as hers.
    let person = if theme == WOMEN && person != Person::First { Person::She } else { person };
    let name = *rng.pick(&MENTIONED);
    let town = *rng.pick(hub.towns);
    let mut filler = Filler { rng, person, name, town, mentioned: Vec::new() };

    let (template, also, about_hints) = *filler.rng.pick(points_of(theme));
    let mut themes: BTreeSet<String> = BTreeSet::from([theme.to_owned()]);
    themes.extend(also.iter().take(2).map(|t| (*t).to_owned()));

    let mut sentences = Vec::new();
    let intro = match person {
        Person::First => String::new(),
        _ => {
            let intro = *filler.rng.pick(intros(channel));
            filler.fill(intro)
        }
    };
    sentences.push(capitalise(&format!("{intro}{}.", filler.fill(template))));

    // Sometimes a second point, on another theme.
    if themes.len() < 3 && filler.rng.percent(28) {
        let other = loop {
            let other = filler.rng.weighted(&weights);
            if !themes.contains(other) && (other != WOMEN || person == Person::She) {
                break other;
            }
        };
        let (second, second_also, _) = *filler.rng.pick(points_of(other));
        let joint = match person {
            Person::First => *filler.rng.pick(&ALSO_QUOTED),
            _ => *filler.rng.pick(&ALSO_REPORTED),
        };
        let joint = filler.fill(joint);
        sentences.push(capitalise(&format!("{joint}{}.", filler.fill(second))));
        themes.insert(other.to_owned());
        for extra in second_also {
            if themes.len() < 3 {
                themes.insert((*extra).to_owned());
            }
        }
    }

    if identifying {
        let fragment = *filler.rng.pick(&IDENTIFYING);
        sentences.push(filler.sentence(fragment));
    }

    if channel == Channel::Forum && filler.rng.percent(15) {
        let tail = *filler.rng.pick(&FORUM_TAILS);
        sentences.push(filler.sentence(tail));
    } else if filler.rng.percent(45) {
        let tail = *filler.rng.pick(&TAILS);
        sentences.push(filler.sentence(tail));
    }

    let (about, provider) = if !about_hints.is_empty() && filler.rng.percent(60) {
        let hint = *filler.rng.pick(about_hints);
        match PROVIDERS.iter().find(|(id, _)| *id == hint) {
            Some((id, name)) => (Some((*name).to_owned()), Some((*id).to_owned())),
            None => (Some(hint.to_owned()), None),
        }
    } else {
        (None, None)
    };

    Composed { text: sentences.join(" "), themes, about, provider, redact: filler.mentioned }
}

/// The day of each of the twelve monthly meetings before `today`, oldest first: on the hub's
/// weekday, `shift` days (0–14) into the month-long window, all within the year before `today`.
fn meeting_days(today: Date, weekday: Weekday, shift: i64) -> Vec<Date> {
    (1..=12)
        .rev()
        .map(|months_ago| {
            let start = today.checked_sub(Span::new().months(months_ago)).expect("a year ago is a date");
            let start = start.checked_add(Span::new().days(shift)).expect("a few days on is a date");
            start.nth_weekday(1, weekday).expect("the next weekday is a date")
        })
        .collect()
}

const NUMBERS: [&str; 31] = [
    "no",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "twenty-one",
    "twenty-two",
    "twenty-three",
    "twenty-four",
    "twenty-five",
    "twenty-six",
    "twenty-seven",
    "twenty-eight",
    "twenty-nine",
    "thirty",
];

fn number(n: usize) -> String {
    NUMBERS.get(n).map(|word| (*word).to_owned()).unwrap_or_else(|| n.to_string())
}

/// A theme's name as it reads mid-sentence: "keyworker time", but "GP and pharmacy experience".
fn theme_names() -> BTreeMap<String, String> {
    crate::domain::themes::seed()
        .into_iter()
        .map(|theme| {
            let mut chars = theme.name.chars();
            let acronym = theme.name.chars().nth(1).is_some_and(char::is_uppercase);
            let name = match chars.next() {
                Some(first) if !acronym => first.to_lowercase().chain(chars).collect(),
                _ => theme.name.clone(),
            };
            (theme.theme, name)
        })
        .collect()
}

/// Short plain-English minutes, naming nobody.
fn minutes(
    rng: &mut Rng,
    forum: bool,
    attendance: u32,
    raised: &[&DemoItem],
    names: &BTreeMap<String, String>,
) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for item in raised {
        for theme in &item.item.themes {
            *counts.entry(theme.as_str()).or_default() += 1;
        }
    }
    let mut top: Vec<(&str, usize)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top: Vec<&str> = top.iter().take(2).filter_map(|(id, _)| names.get(*id).map(String::as_str)).collect();

    let mut lines = Vec::new();
    let people = number(attendance as usize);
    lines.push(match rng.below(3) {
        0 => format!("{people} people came"),
        1 => format!("{people} people came, including {} new to the group", rng.pick(&["one person", "two people"])),
        _ => format!("{people} people came, and one more joined by phone"),
    });
    let openings: &[&str] = if forum {
        &[
            "The chair welcomed representatives from each hub",
            "Each hub gave a short update on its month",
            "The Service User Co-ordinator opened the meeting and went over the group agreement",
        ]
    } else {
        &[
            "The chair welcomed everyone and went over the group agreement",
            "We began with a check-in round on how the month had gone",
            "The vice-chair chaired this month",
            "We started with tea and a welcome for anyone new to the hub",
        ]
    };
    lines.push((*rng.pick(openings)).to_owned());
    lines.push(match (raised.len(), top.as_slice()) {
        (0, _) | (_, []) => (*rng.pick(&[
            "No new points were logged; the time went on following up earlier ones",
            "Nothing new was logged this month; the meeting went on planning the open day",
            "No new points were logged; most of the time went on the replies from commissioners",
        ]))
        .to_owned(),
        (1, [theme, ..]) => format!("One point was logged, under \"{theme}\""),
        (n, [theme]) => format!("{} points were logged, under \"{theme}\"", number(n)),
        (n, [first, second, ..]) => {
            format!("{} points were logged, mostly under \"{first}\" and \"{second}\"", number(n))
        }
    });
    let reports: &[&str] = if forum {
        &[
            "Commissioners from the DAAT joined for the second half and answered questions",
            "The Forum agreed which points to put to the commissioners this month",
            "We went through which points from the hubs are still waiting for a reply",
            "Two hubs asked for a written answer on a point that has been open for months",
        ]
    } else {
        &[
            "We went through the replies to last month's points from the West Sussex Forum",
            "We agreed which points go on to commissioners and which stay in the hub",
            "The hub's rep reported back from the West Sussex Forum",
            "We looked at what commissioners said they had done with points from earlier in the year",
        ]
    };
    lines.push((*rng.pick(reports)).to_owned());
    let focus = top.first().copied().unwrap_or("waiting times");
    lines.push(match rng.below(6) {
        0 => "Action: the chair to chase the reply the service still owes us".to_owned(),
        1 => "Action: ask the service for its opening times in writing and put them on the noticeboard".to_owned(),
        2 => "Action: invite someone from a local pharmacy to the next meeting".to_owned(),
        3 => "Action: put the dates of local mutual aid meetings on the noticeboard".to_owned(),
        4 => format!("Action: write up the points on {focus} for the commissioners"),
        _ => "Action: find out whether travel can be paid for people coming in from the villages".to_owned(),
    });
    lines.push(
        (*rng.pick(&[
            "Next meeting in a month, same time and place",
            "We closed with thanks to the volunteers who made the tea",
            "Next meeting: same time next month",
        ]))
        .to_owned(),
    );
    lines.iter().map(|line| capitalise(&format!("{line}."))).collect::<Vec<_>>().join(" ")
}

/// A year of meetings and a few hundred items ending before `today`. Same `seed`, same data.
pub fn generate(seed: u64, today: Date) -> DemoData {
    let mut rng = Rng::new(seed);

    // Meetings first: points raised at a meeting are said on the day it was held.
    let mut meetings: Vec<DemoMeeting> = Vec::new();
    let mut hub_meetings: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for hub in &HUBS {
        let shift = rng.below(15) as i64;
        for held_on in meeting_days(today, hub.weekday, shift) {
            let attendance = if hub.id == FORUM { rng.between(12, 30) } else { rng.between(4, 18) } as u32;
            hub_meetings.entry(hub.id).or_default().push(meetings.len());
            meetings.push(DemoMeeting {
                hub: hub.id.to_owned(),
                held_on,
                attendance,
                minutes: String::new(),
                items: Vec::new(),
            });
        }
    }

    let count = 330 + rng.below(61) as usize;
    let mut safeguarding: BTreeSet<usize> = BTreeSet::new();
    while safeguarding.len() < count.div_ceil(100) {
        safeguarding.insert(rng.below(count as u64) as usize);
    }
    let mut disclosures: Vec<usize> = (0..SAFEGUARDING.len()).collect();

    let hub_weights: Vec<(usize, u64)> = HUBS.iter().enumerate().map(|(i, hub)| (i, hub.weight)).collect();
    let channels = [
        (Channel::Forum, 32),
        (Channel::DropIn, 25),
        (Channel::OneToOne, 15),
        (Channel::Survey, 12),
        (Channel::Online, 8),
        (Channel::Phone, 12),
    ];
    let mut texts: BTreeSet<String> = BTreeSet::new();
    // (item, the meeting it was raised at)
    let mut items: Vec<(DemoItem, Option<usize>)> = Vec::with_capacity(count);
    for index in 0..count {
        let hub = &HUBS[rng.weighted(&hub_weights)];
        let channel = if hub.id == FORUM { Channel::Forum } else { rng.weighted(&channels) };
        let (said_on, meeting) = if channel == Channel::Forum {
            let meeting = *rng.pick(&hub_meetings[hub.id]);
            (meetings[meeting].held_on, Some(meeting))
        } else {
            let days_ago = rng.below(364) as i64;
            (today.checked_sub(Span::new().days(days_ago)).expect("within a year is a date"), None)
        };
        let speaker =
            rng.weighted(&[(SpeakerKind::Anonymous, 72), (SpeakerKind::Pseudonymous, 22), (SpeakerKind::Named, 6)]);
        let speaker_name = match speaker {
            SpeakerKind::Anonymous => None,
            SpeakerKind::Pseudonymous => Some((*rng.pick(&CHOSEN_NAMES)).to_owned()),
            SpeakerKind::Named => Some(format!("{} {}", rng.pick(&FIRST_NAMES), rng.pick(&SURNAMES))),
        };
        let mut consent = rng.weighted(&[(Consent::Hub, 30), (Consent::Commissioners, 45), (Consent::Public, 25)]);

        let item = if safeguarding.contains(&index) {
            // A disclosure stays with the hub's coordinator whatever else was agreed.
            consent = Consent::Hub;
            let (text, themes) = SAFEGUARDING[disclosures.remove(rng.below(disclosures.len() as u64) as usize)];
            DemoItem {
                item: NewItem {
                    hub: hub.id.to_owned(),
                    channel: Some(channel),
                    themes: themes.iter().map(|t| (*t).to_owned()).collect(),
                    speaker: Some(speaker),
                    speaker_name,
                    consent: Some(consent),
                    said_on: said_on.to_string(),
                    text: text.to_owned(),
                    ..NewItem::default()
                },
                share: false,
                redact: Vec::new(),
                safeguarding: true,
            }
        } else {
            let identifying = rng.percent(11);
            // Mostly distinct words: try again when a text has already been used.
            let mut composed = compose(&mut rng, hub, channel, identifying);
            for _ in 0..30 {
                if !texts.contains(&composed.text) {
                    break;
                }
                composed = compose(&mut rng, hub, channel, identifying);
            }
            texts.insert(composed.text.clone());
            if identifying && consent == Consent::Hub {
                consent = Consent::Commissioners;
            }
            // Redacted items are shared; the rest of the share is chosen below.
            let share = identifying;
            DemoItem {
                item: NewItem {
                    hub: hub.id.to_owned(),
                    channel: Some(channel),
                    about: composed.about,
                    provider: composed.provider,
                    themes: composed.themes,
                    speaker: Some(speaker),
                    speaker_name,
                    consent: Some(consent),
                    said_on: said_on.to_string(),
                    text: composed.text,
                    ..NewItem::default()
                },
                share,
                redact: composed.redact,
                safeguarding: false,
            }
        };
        items.push((item, meeting));
    }

    // Oldest first, as a hub would have logged them.
    items.sort_by(|a, b| a.0.item.said_on.cmp(&b.0.item.said_on));
    for (index, (_, meeting)) in items.iter().enumerate() {
        if let Some(meeting) = meeting {
            meetings[*meeting].items.push(index);
        }
    }
    let mut items: Vec<DemoItem> = items.into_iter().map(|(item, _)| item).collect();

    // Share about three in five of the items that may leave the hub.
    let may_leave = items.iter().filter(|d| d.item.consent != Some(Consent::Hub) && !d.safeguarding).count();
    let already = items.iter().filter(|d| d.share).count();
    let mut candidates: Vec<usize> = (0..items.len())
        .filter(|&i| !items[i].share && !items[i].safeguarding && items[i].item.consent != Some(Consent::Hub))
        .collect();
    for _ in 0..(may_leave * 3 / 5).saturating_sub(already).min(candidates.len()) {
        let chosen = candidates.swap_remove(rng.below(candidates.len() as u64) as usize);
        items[chosen].share = true;
    }

    let names = theme_names();
    for meeting in &mut meetings {
        let raised: Vec<&DemoItem> = meeting.items.iter().map(|&i| &items[i]).collect();
        meeting.minutes = minutes(&mut rng, meeting.hub == FORUM, meeting.attendance, &raised, &names);
    }

    DemoData { meetings, items }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::domain::{self, Event, Item, Moderation, themes::seed};

    fn today() -> Date {
        jiff::civil::date(2026, 11, 23)
    }

    fn year_ago() -> Date {
        today().checked_sub(Span::new().years(1)).unwrap()
    }

    const BANNED: [&str; 6] = ["addict", "junkie", "clean", "dirty", "abuser", "substance abuser"];

    fn banned_word_in(text: &str) -> Option<&'static str> {
        let lower = text.to_lowercase();
        BANNED.into_iter().find(|word| lower.contains(word))
    }

    fn logged(index: usize, demo: &DemoItem) -> Item {
        match domain::log(Uuid::from_u128(index as u128 + 1), Uuid::from_u128(99), demo.item.clone(), today()) {
            Ok(Event::Logged(logged, personal)) => Item::new(logged, Some(personal), 0),
            other => panic!("item {index} did not log: {other:?}"),
        }
    }

    #[test]
    fn every_item_passes_validation_when_logged() {
        for seed in [1, 2, 3, 42, 0, u64::MAX] {
            for (index, demo) in generate(seed, today()).items.iter().enumerate() {
                let item = logged(index, demo);
                assert_eq!(item.text.as_deref(), Some(demo.item.text.as_str()), "the text is kept as written");
                assert!(demo.item.meeting.is_none() && demo.item.import_key.is_none());
            }
        }
    }

    #[test]
    fn there_are_twelve_monthly_meetings_for_each_of_six_hubs_and_the_forum() {
        let data = generate(1, today());
        assert_eq!(data.meetings.len(), 7 * 12);
        for hub in HUBS.iter().map(|hub| hub.id) {
            let days: Vec<Date> = data.meetings.iter().filter(|m| m.hub == hub).map(|m| m.held_on).collect();
            assert_eq!(days.len(), 12, "{hub}");
            for pair in days.windows(2) {
                let gap = (pair[1] - pair[0]).get_days();
                assert!((20..=40).contains(&gap), "{hub} meets about monthly, not {gap} days apart");
            }
        }
        for (i, meeting) in data.meetings.iter().enumerate() {
            assert!(meeting.held_on < today() && meeting.held_on > year_ago(), "{}", meeting.held_on);
            assert!((4..=30).contains(&meeting.attendance));
            assert!(!meeting.minutes.is_empty() && meeting.minutes.len() < 1000);
            domain::record_meeting(
                Uuid::from_u128(i as u128),
                Uuid::from_u128(99),
                meeting.hub.clone(),
                &meeting.held_on.to_string(),
                meeting.attendance.into(),
                &meeting.minutes,
                Vec::new(),
                today(),
            )
            .unwrap();
        }
    }

    #[test]
    fn points_raised_at_a_meeting_belong_to_its_hub_and_were_said_that_day() {
        let data = generate(1, today());
        let mut linked = BTreeSet::new();
        for meeting in &data.meetings {
            for &index in &meeting.items {
                let item = &data.items[index].item;
                assert_eq!(item.hub, meeting.hub);
                assert_eq!(item.channel, Some(Channel::Forum));
                assert_eq!(item.said_on, meeting.held_on.to_string());
                assert!(linked.insert(index), "an item is raised at one meeting");
            }
        }
        let forum_items = data.items.iter().filter(|d| d.item.channel == Some(Channel::Forum)).count();
        assert_eq!(linked.len(), forum_items, "every point made at a forum is linked to its meeting");
        assert!(data.meetings.iter().filter(|m| !m.items.is_empty()).count() > 40);
    }

    #[test]
    fn a_few_hundred_items_are_spread_across_hubs_channels_and_themes() {
        let data = generate(1, today());
        assert!((300..=400).contains(&data.items.len()), "{}", data.items.len());
        let hubs: BTreeSet<&str> = data.items.iter().map(|d| d.item.hub.as_str()).collect();
        assert_eq!(hubs.len(), 7);
        let channels: BTreeSet<Channel> = data.items.iter().filter_map(|d| d.item.channel).collect();
        assert_eq!(channels.len(), Channel::ALL.len());
        let mut per_theme: BTreeMap<&str, usize> = BTreeMap::new();
        for demo in &data.items {
            for theme in &demo.item.themes {
                *per_theme.entry(theme.as_str()).or_default() += 1;
            }
        }
        assert_eq!(per_theme.len(), 19, "every child theme is used");
        assert!(per_theme.values().all(|&n| n >= 5), "{per_theme:?}");
    }

    #[test]
    fn every_item_has_one_to_three_child_themes_from_the_seed() {
        let seeded = seed();
        let children: BTreeSet<&str> = seeded.iter().filter(|t| t.parent.is_some()).map(|t| t.theme.as_str()).collect();
        let in_table: BTreeSet<&str> = POINTS.iter().map(|(theme, _, _)| *theme).collect();
        assert_eq!(in_table, children, "the templates cover exactly the child themes");
        for seed in [1, 7, 99] {
            for demo in generate(seed, today()).items {
                assert!((1..=3).contains(&demo.item.themes.len()), "{:?}", demo.item.themes);
                for theme in &demo.item.themes {
                    assert!(children.contains(theme.as_str()), "{theme}");
                }
            }
        }
    }

    #[test]
    fn a_named_seeded_provider_uses_its_exact_name_and_id() {
        let data = generate(1, today());
        let mut about = 0;
        for demo in &data.items {
            let item = &demo.item;
            if let Some(name) = &item.about {
                about += 1;
                match PROVIDERS.iter().find(|(_, seeded)| seeded == name) {
                    Some((id, _)) => assert_eq!(item.provider.as_deref(), Some(*id)),
                    None => assert_eq!(item.provider, None, "{name} is not a seeded provider"),
                }
            } else {
                assert_eq!(item.provider, None);
            }
        }
        assert!(about > data.items.len() / 5 && about < data.items.len() * 4 / 5, "{about}");
        let providers: BTreeSet<&str> = data.items.iter().filter_map(|d| d.item.provider.as_deref()).collect();
        assert_eq!(providers.len(), PROVIDERS.len());
    }

    #[test]
    fn redacted_passages_occur_in_the_text_and_those_items_are_shared() {
        for seed in [1, 2, 3] {
            let data = generate(seed, today());
            let redacted: Vec<&DemoItem> = data.items.iter().filter(|d| !d.redact.is_empty()).collect();
            let share = redacted.len() * 100 / data.items.len();
            assert!((6..=16).contains(&share), "{share}% of items need redacting");
            for demo in redacted {
                for passage in &demo.redact {
                    assert!(demo.item.text.contains(passage.as_str()), "{passage} in {}", demo.item.text);
                }
                assert!(demo.share);
                assert_ne!(demo.item.consent, Some(Consent::Hub));
            }
        }
    }

    #[test]
    fn only_items_without_names_or_places_leave_them_out_of_the_text() {
        let data = generate(1, today());
        for demo in data.items.iter().filter(|d| d.redact.is_empty()) {
            for name in MENTIONED {
                assert!(!demo.item.text.contains(name), "{}", demo.item.text);
            }
        }
    }

    #[test]
    fn redacting_and_sharing_through_the_domain_takes_the_passages_out() {
        let data = generate(1, today());
        let mut shared = 0;
        for (index, demo) in data.items.iter().enumerate().filter(|(_, d)| d.share) {
            let mut item = logged(index, demo);
            if !demo.redact.is_empty() {
                let event = domain::redact(&item, Uuid::from_u128(99), &demo.redact).unwrap();
                item.apply(&event);
            }
            let event = domain::share(&item, Uuid::from_u128(99)).unwrap();
            item.apply(&event);
            assert_eq!(item.moderation, Moderation::Shared);
            let text = item.shared_text().unwrap();
            for passage in &demo.redact {
                assert!(!text.contains(passage.as_str()), "{text}");
            }
            shared += 1;
        }
        assert!(shared > 100, "{shared}");
    }

    #[test]
    fn hub_only_and_safeguarding_items_are_never_shared_and_about_one_in_a_hundred_is_safeguarding() {
        let data = generate(1, today());
        for demo in &data.items {
            if demo.item.consent == Some(Consent::Hub) || demo.safeguarding {
                assert!(!demo.share, "{}", demo.item.text);
            }
        }
        let safeguarding: Vec<&DemoItem> = data.items.iter().filter(|d| d.safeguarding).collect();
        assert!((2..=6).contains(&safeguarding.len()), "{}", safeguarding.len());
        assert!(safeguarding.iter().all(|d| d.redact.is_empty()));
    }

    #[test]
    fn about_three_in_five_items_that_may_leave_the_hub_are_shared() {
        let data = generate(1, today());
        let may_leave: Vec<&DemoItem> =
            data.items.iter().filter(|d| d.item.consent != Some(Consent::Hub) && !d.safeguarding).collect();
        let shared = may_leave.iter().filter(|d| d.share).count();
        let percent = shared * 100 / may_leave.len();
        assert!((55..=65).contains(&percent), "{percent}%");
    }

    #[test]
    fn speakers_are_mostly_anonymous_and_consent_is_mixed() {
        let data = generate(1, today());
        let kinds = |kind| data.items.iter().filter(|d| d.item.speaker == Some(kind)).count();
        let total = data.items.len();
        assert!(kinds(SpeakerKind::Anonymous) * 100 / total >= 60);
        assert!(kinds(SpeakerKind::Pseudonymous) > 20);
        assert!(kinds(SpeakerKind::Named) > 3);
        for demo in &data.items {
            let named = demo.item.speaker_name.as_deref().unwrap_or("");
            match demo.item.speaker {
                Some(SpeakerKind::Anonymous) => assert_eq!(named, ""),
                Some(SpeakerKind::Pseudonymous) => assert!(CHOSEN_NAMES.contains(&named)),
                _ => assert_eq!(named.split(' ').count(), 2, "{named}"),
            }
        }
        for consent in [Consent::Hub, Consent::Commissioners, Consent::Public] {
            let n = data.items.iter().filter(|d| d.item.consent == Some(consent)).count();
            assert!(n * 100 / total >= 15, "{consent:?}: {n}");
        }
    }

    #[test]
    fn no_stigmatising_words_appear_in_texts_minutes_or_names() {
        for seed in [1, 2, 3] {
            let data = generate(seed, today());
            for demo in &data.items {
                let item = &demo.item;
                for text in [Some(&item.text), item.about.as_ref(), item.speaker_name.as_ref()].into_iter().flatten() {
                    assert_eq!(banned_word_in(text), None, "{text}");
                }
            }
            for meeting in &data.meetings {
                assert_eq!(banned_word_in(&meeting.minutes), None, "{}", meeting.minutes);
            }
        }
    }

    #[test]
    fn every_template_fills_in_every_voice_without_leftover_tokens_or_stigmatising_words() {
        let mut templates: Vec<&str> = POINTS.iter().flat_map(|(_, _, points)| points.iter().map(|p| p.0)).collect();
        templates.extend(Channel::ALL.iter().flat_map(|c| intros(*c).iter().copied()));
        templates.extend(ALSO_QUOTED.iter().chain(&ALSO_REPORTED).chain(&TAILS).chain(&FORUM_TAILS));
        templates.extend(IDENTIFYING);
        templates.extend(SAFEGUARDING.iter().map(|s| s.0));
        let mut rng = Rng::new(5);
        for person in Person::ALL {
            let mut filler = Filler { rng: &mut rng, person, name: "Ezra", town: "Selsey", mentioned: Vec::new() };
            for template in &templates {
                let text = filler.sentence(template);
                assert!(!text.contains(['{', '}']), "{text}");
                assert_eq!(banned_word_in(&text), None, "{text}");
            }
        }
    }

    #[test]
    fn at_least_nine_in_ten_texts_are_distinct() {
        for seed in [1, 2, 3] {
            let data = generate(seed, today());
            let distinct: BTreeSet<&str> = data.items.iter().map(|d| d.item.text.as_str()).collect();
            assert!(distinct.len() * 10 >= data.items.len() * 9, "{} of {}", distinct.len(), data.items.len());
        }
    }

    #[test]
    fn dates_fall_within_the_year_before_today() {
        for seed in [1, 2, 3] {
            let data = generate(seed, today());
            for demo in &data.items {
                let said_on: Date = demo.item.said_on.parse().unwrap();
                assert!(said_on <= today() && said_on > year_ago(), "{said_on}");
            }
        }
        // Also on a leap day and at the turn of the year.
        for day in [jiff::civil::date(2028, 2, 29), jiff::civil::date(2027, 1, 1)] {
            let data = generate(1, day);
            let year_before = day.checked_sub(Span::new().years(1)).unwrap();
            assert!(data.meetings.iter().all(|m| m.held_on < day && m.held_on > year_before));
            assert!(data.items.iter().all(|d| {
                let said_on: Date = d.item.said_on.parse().unwrap();
                said_on <= day && said_on > year_before
            }));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_data_and_another_seed_differs() {
        let first = format!("{:?}", generate(1, today()));
        assert_eq!(first, format!("{:?}", generate(1, today())));
        assert_ne!(first, format!("{:?}", generate(2, today())));
    }
}
