//! The demo's feedback: a year of meetings and a few hundred feedback items for the hubs of the
//! reference table (the six EXACT hubs in West Sussex and the West Sussex Forum).
//!
//! Pure and deterministic: the same seed and the same day always give the same data. No storage
//! and no randomness crate: a small xorshift generator ([`Rng`]) picks from the templates and
//! names in `demo/data/` (`points.toml`, `phrasing.toml`, `safeguarding.toml`, `hubs.toml`).
//! Every person, name and quote in them is made up. The words are person-first ("people who use
//! drugs", "in recovery", "on a script"), never stigmatising.

use std::collections::{BTreeMap, BTreeSet};

use heard_access::Consent;
use heard_feedback::domain::{Channel, NewItem, SpeakerKind};
use jiff::Span;
use jiff::civil::{Date, Weekday};

use crate::rng::Rng;
use crate::words::{self, Hub, Point, WORDS};

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

/// Points about women's services are in a woman's own words, or reported as hers.
const WOMEN: &str = "women";

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
                "name" => {
                    self.mention(self.name);
                    self.name
                }
                "town" => {
                    self.mention(self.town);
                    self.town
                }
                other => match WORDS.phrasing.fill(other) {
                    Some(words) => self.rng.word(words),
                    None => self.person.word(other).unwrap_or_else(|| panic!("unknown template token {{{other}}}")),
                },
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
    WORDS.points_of(theme)
}

fn compose(rng: &mut Rng, hub: &'static Hub, channel: Channel, identifying: bool) -> Composed {
    let weights: Vec<(&str, u64)> = WORDS.themes.iter().map(|theme| (theme.theme.as_str(), theme.weight)).collect();
    let theme = rng.weighted(&weights);
    let person = match channel {
        Channel::Survey | Channel::Online => Person::First,
        _ => rng.weighted(&[(Person::First, 35), (Person::He, 22), (Person::She, 22), (Person::They, 21)]),
    };
    // Points about women's services are in a woman's own words, or reported as hers.
    let person = if theme == WOMEN && person != Person::First { Person::She } else { person };
    let name = rng.pick(&WORDS.phrasing.mentioned).as_str();
    let town = rng.pick(&hub.towns).as_str();
    let mut filler = Filler { rng, person, name, town, mentioned: Vec::new() };

    let point = filler.rng.pick(points_of(theme));
    let (template, also, about_hints) = (&point.say, &point.also, WORDS.about(point));
    let mut themes: BTreeSet<String> = BTreeSet::from([theme.to_owned()]);
    themes.extend(also.iter().take(2).cloned());

    let mut sentences = Vec::new();
    let intro = match person {
        Person::First => String::new(),
        _ => {
            let intro = filler.rng.pick(WORDS.phrasing.intros(channel));
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
        let second = filler.rng.pick(points_of(other));
        let (second, second_also) = (&second.say, &second.also);
        let joint = match person {
            Person::First => filler.rng.pick(&WORDS.phrasing.also_quoted),
            _ => filler.rng.pick(&WORDS.phrasing.also_reported),
        };
        let joint = filler.fill(joint);
        sentences.push(capitalise(&format!("{joint}{}.", filler.fill(second))));
        themes.insert(other.to_owned());
        for extra in second_also {
            if themes.len() < 3 {
                themes.insert(extra.clone());
            }
        }
    }

    if identifying {
        let fragment = filler.rng.pick(&WORDS.phrasing.identifying);
        sentences.push(filler.sentence(fragment));
    }

    if channel == Channel::Forum && filler.rng.percent(15) {
        let tail = filler.rng.pick(&WORDS.phrasing.forum_tails);
        sentences.push(filler.sentence(tail));
    } else if filler.rng.percent(45) {
        let tail = filler.rng.pick(&WORDS.phrasing.tails);
        sentences.push(filler.sentence(tail));
    }

    let (about, provider) = if !about_hints.is_empty() && filler.rng.percent(60) {
        let hint = filler.rng.pick(about_hints);
        match WORDS.providers.iter().find(|(id, _)| id == hint) {
            Some((id, name)) => (Some(name.clone()), Some(id.clone())),
            None => (Some(hint.clone()), None),
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
    heard_feedback::domain::themes::seed()
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
    lines.push(rng.line(if forum {
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
    }));
    lines.push(match (raised.len(), top.as_slice()) {
        (0, _) | (_, []) => rng.line(&[
            "No new points were logged; the time went on following up earlier ones",
            "Nothing new was logged this month; the meeting went on planning the open day",
            "No new points were logged; most of the time went on the replies from commissioners",
        ]),
        (1, [theme, ..]) => format!("One point was logged, under \"{theme}\""),
        (n, [theme]) => format!("{} points were logged, under \"{theme}\"", number(n)),
        (n, [first, second, ..]) => {
            format!("{} points were logged, mostly under \"{first}\" and \"{second}\"", number(n))
        }
    });
    lines.push(rng.line(if forum {
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
    }));
    let focus = top.first().copied().unwrap_or("waiting times");
    lines.push(match rng.below(6) {
        0 => "Action: the chair to chase the reply the service still owes us".to_owned(),
        1 => "Action: ask the service for its opening times in writing and put them on the noticeboard".to_owned(),
        2 => "Action: invite someone from a local pharmacy to the next meeting".to_owned(),
        3 => "Action: put the dates of local mutual aid meetings on the noticeboard".to_owned(),
        4 => format!("Action: write up the points on {focus} for the commissioners"),
        _ => "Action: find out whether travel can be paid for people coming in from the villages".to_owned(),
    });
    lines.push(rng.line(&[
        "Next meeting in a month, same time and place",
        "We closed with thanks to the volunteers who made the tea",
        "Next meeting: same time next month",
    ]));
    lines.iter().map(|line| capitalise(&format!("{line}."))).collect::<Vec<_>>().join(" ")
}

/// A year of meetings and a few hundred items ending before `today`. Same `seed`, same data.
/// The hub whose coordinator (`coordinator.arun`, the one the README introduces) is always
/// given a disclosure of risk to follow up.
pub const FIRST_DISCLOSURE_HUB: &str = "arun";

pub fn generate(seed: u64, today: Date) -> DemoData {
    let mut rng = Rng::new(seed);

    // Meetings first: points raised at a meeting are said on the day it was held.
    let mut meetings: Vec<DemoMeeting> = Vec::new();
    let mut hub_meetings: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for hub in &WORDS.hubs {
        let shift = rng.below(15) as i64;
        for held_on in meeting_days(today, hub.weekday, shift) {
            let attendance = if hub.forum { rng.between(12, 30) } else { rng.between(4, 18) } as u32;
            hub_meetings.entry(hub.id.as_str()).or_default().push(meetings.len());
            meetings.push(DemoMeeting {
                hub: hub.id.clone(),
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
    let mut disclosures: Vec<usize> = (0..WORDS.disclosures.len()).collect();

    let hub_weights: Vec<(usize, u64)> = WORDS.hubs.iter().enumerate().map(|(i, hub)| (i, hub.weight)).collect();
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
    let first_disclosure = safeguarding.first().copied();
    for index in 0..count {
        let picked = &WORDS.hubs[rng.weighted(&hub_weights)];
        // The coordinator the README introduces always has a disclosure to follow up.
        let hub = match first_disclosure {
            Some(first) if first == index => {
                WORDS.hubs.iter().find(|hub| hub.id == FIRST_DISCLOSURE_HUB).unwrap_or(picked)
            }
            _ => picked,
        };
        let channel = if hub.forum { Channel::Forum } else { rng.weighted(&channels) };
        let (said_on, meeting) = if channel == Channel::Forum {
            let meeting = *rng.pick(&hub_meetings[hub.id.as_str()]);
            (meetings[meeting].held_on, Some(meeting))
        } else {
            let days_ago = rng.below(364) as i64;
            (today.checked_sub(Span::new().days(days_ago)).expect("within a year is a date"), None)
        };
        let speaker =
            rng.weighted(&[(SpeakerKind::Anonymous, 72), (SpeakerKind::Pseudonymous, 22), (SpeakerKind::Named, 6)]);
        let speaker_name = match speaker {
            SpeakerKind::Anonymous => None,
            SpeakerKind::Pseudonymous => Some(rng.pick(&WORDS.phrasing.chosen_names).clone()),
            SpeakerKind::Named => {
                Some(format!("{} {}", rng.pick(&WORDS.phrasing.first_names), rng.pick(&WORDS.phrasing.surnames)))
            }
        };
        let mut consent = rng.weighted(&[(Consent::Hub, 30), (Consent::Commissioners, 45), (Consent::Public, 25)]);

        let item = if safeguarding.contains(&index) {
            // A disclosure stays with the hub's coordinator whatever else was agreed.
            consent = Consent::Hub;
            let disclosure = &WORDS.disclosures[disclosures.remove(rng.below(disclosures.len() as u64) as usize)];
            let text = &disclosure.text;
            DemoItem {
                item: NewItem {
                    hub: hub.id.clone(),
                    channel: Some(channel),
                    themes: disclosure.themes.iter().cloned().collect(),
                    speaker: Some(speaker),
                    speaker_name,
                    consent: Some(consent),
                    said_on: said_on.to_string(),
                    text: text.clone(),
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
                    hub: hub.id.clone(),
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

    // The newest item of each hub that names someone waits for its coordinator, who finds
    // Heard's suggested redactions marked on it in the moderation queue.
    for hub in &WORDS.hubs {
        if let Some(newest) = items.iter_mut().rev().find(|d| d.item.hub == hub.id && !d.redact.is_empty()) {
            newest.share = false;
        }
    }

    let names = theme_names();
    for meeting in &mut meetings {
        let raised: Vec<&DemoItem> = meeting.items.iter().map(|&i| &items[i]).collect();
        meeting.minutes = minutes(&mut rng, meeting.hub == words::forum(), meeting.attendance, &raised, &names);
    }

    DemoData { meetings, items }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use heard_feedback::domain::{self, Event, Item, Moderation, themes::seed};

    use super::*;

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
        for hub in words::hub_ids() {
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
        let in_table: BTreeSet<&str> = WORDS.themes.iter().map(|theme| theme.theme.as_str()).collect();
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
                match WORDS.providers.iter().find(|(_, seeded)| seeded == name) {
                    Some((id, _)) => assert_eq!(item.provider.as_ref(), Some(id)),
                    None => assert_eq!(item.provider, None, "{name} is not a seeded provider"),
                }
            } else {
                assert_eq!(item.provider, None);
            }
        }
        assert!(about > data.items.len() / 5 && about < data.items.len() * 4 / 5, "{about}");
        let providers: BTreeSet<&str> = data.items.iter().filter_map(|d| d.item.provider.as_deref()).collect();
        assert_eq!(providers.len(), WORDS.providers.len());
    }

    #[test]
    fn redacted_passages_occur_in_the_text_and_those_items_are_shared_but_the_newest_of_each_hub() {
        for seed in [1, 2, 3] {
            let data = generate(seed, today());
            let redacted: Vec<&DemoItem> = data.items.iter().filter(|d| !d.redact.is_empty()).collect();
            let share = redacted.len() * 100 / data.items.len();
            assert!((6..=16).contains(&share), "{share}% of items need redacting");
            for (index, demo) in redacted.iter().enumerate() {
                for passage in &demo.redact {
                    assert!(demo.item.text.contains(passage.as_str()), "{passage} in {}", demo.item.text);
                }
                let newest_of_its_hub = !redacted[index + 1..].iter().any(|later| later.item.hub == demo.item.hub);
                assert_eq!(demo.share, !newest_of_its_hub, "only the newest of each hub waits to be redacted");
                assert_ne!(demo.item.consent, Some(Consent::Hub));
            }
        }
    }

    #[test]
    fn only_items_without_names_or_places_leave_them_out_of_the_text() {
        let data = generate(1, today());
        for demo in data.items.iter().filter(|d| d.redact.is_empty()) {
            for name in &WORDS.phrasing.mentioned {
                assert!(!demo.item.text.contains(name.as_str()), "{}", demo.item.text);
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
    fn arun_always_has_a_disclosure_for_its_coordinator_to_follow_up_whatever_the_day() {
        for seed in [1, 2026] {
            for day in [today(), jiff::civil::date(2026, 1, 1), jiff::civil::date(2027, 6, 30)] {
                let data = generate(seed, day);
                let arun = data.items.iter().filter(|d| d.safeguarding && d.item.hub == FIRST_DISCLOSURE_HUB).count();
                assert!(arun >= 1, "seed {seed} on {day}: Arun's coordinator has nothing to follow up");
            }
        }
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
                Some(SpeakerKind::Pseudonymous) => assert!(WORDS.phrasing.chosen_names.iter().any(|n| n == named)),
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
        let phrasing = &WORDS.phrasing;
        let mut templates: Vec<&str> =
            WORDS.themes.iter().flat_map(|theme| theme.points.iter().map(|p| p.say.as_str())).collect();
        templates.extend(Channel::ALL.iter().flat_map(|c| phrasing.intros(*c).iter().map(String::as_str)));
        let joins = phrasing.also_quoted.iter().chain(&phrasing.also_reported);
        templates.extend(joins.chain(&phrasing.tails).chain(&phrasing.forum_tails).map(String::as_str));
        templates.extend(phrasing.identifying.iter().map(String::as_str));
        templates.extend(WORDS.disclosures.iter().map(|s| s.text.as_str()));
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
