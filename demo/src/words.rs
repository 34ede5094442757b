//! The demo's words: the templates, names, disclosures and casework in `demo/data/*.toml`, built
//! into the crate and read once, at first use, together with the hubs and providers of the
//! reference table (`heard_identity::domain::reference`).
//!
//! The data files are checked when they are read: a point about a group of services that is not
//! listed, a theme that no point is filed under, or a hub of the reference table without its
//! demo details stops the demo at once with a message naming the file. This crate's tests read
//! them, so a broken file fails `cargo test` first.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use heard_advocacy::domain::case::{ActionKind, CaseDomain};
use heard_commissioning::domain::decision::Status;
use heard_feedback::domain::Channel;
use heard_identity::domain::{HubKind, exact_hubs, seed_providers};
use jiff::civil::Weekday;
use serde::Deserialize;

/// Every word of the demo, read from the data files.
pub(crate) static WORDS: LazyLock<Words> = LazyLock::new(Words::load);

/// The casework of `casework.toml`.
pub(crate) static CASEWORK: LazyLock<Casework> =
    LazyLock::new(|| parse("casework.toml", include_str!("../data/casework.toml")));

/// The ids of the reference table's hubs, in its order.
pub(crate) fn hub_ids() -> impl Iterator<Item = &'static str> {
    WORDS.hubs.iter().map(|hub| hub.id.as_str())
}

/// The forum every hub belongs to.
pub(crate) fn forum() -> &'static str {
    WORDS.hubs.iter().find(|hub| hub.forum).map(|hub| hub.id.as_str()).expect("the reference table has a forum")
}

/// What the feedback texts are made of.
#[derive(Debug)]
pub(crate) struct Words {
    /// Points by theme, in the order of `points.toml`.
    pub themes: Vec<Theme>,
    about: BTreeMap<String, Vec<String>>,
    pub phrasing: Phrasing,
    pub disclosures: Vec<Disclosure>,
    /// The reference table's hubs, each with its demo details.
    pub hubs: Vec<Hub>,
    /// The reference table's providers: (id, name exactly as seeded).
    pub providers: Vec<(String, String)>,
}

/// One theme of `points.toml`: how often it comes up, relative to the others, and what people say.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Theme {
    pub theme: String,
    pub weight: u64,
    pub points: Vec<Point>,
}

/// One point someone might make: a template, the other themes it touches, and the group of
/// services it might be about.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Point {
    pub say: String,
    #[serde(default)]
    pub also: Vec<String>,
    about: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointsFile {
    about: BTreeMap<String, Vec<String>>,
    themes: Vec<Theme>,
}

/// `phrasing.toml`: how items open, join and close, and the made-up names in them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Phrasing {
    intros: Intros,
    pub also_quoted: Vec<String>,
    pub also_reported: Vec<String>,
    pub tails: Vec<String>,
    pub forum_tails: Vec<String>,
    pub identifying: Vec<String>,
    pub mentioned: Vec<String>,
    pub chosen_names: Vec<String>,
    pub first_names: Vec<String>,
    pub surnames: Vec<String>,
    fill: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Intros {
    forum: Vec<String>,
    drop_in: Vec<String>,
    one_to_one: Vec<String>,
    phone: Vec<String>,
    survey_or_online: Vec<String>,
}

/// A disclosure of risk (`safeguarding.toml`) and the themes it touches.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Disclosure {
    pub text: String,
    pub themes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SafeguardingFile {
    disclosures: Vec<Disclosure>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HubDetails {
    weight: u64,
    meets_on: String,
    towns: Vec<String>,
}

/// A hub of the reference table with what the demo needs of it.
#[derive(Debug)]
pub(crate) struct Hub {
    pub id: String,
    /// Whether it is the forum every hub belongs to.
    pub forum: bool,
    /// How many of the items come from this hub, relative to the others.
    pub weight: u64,
    /// The day of the week the hub meets.
    pub weekday: Weekday,
    /// Towns a speaker from this hub might mention (and the hub redacts).
    pub towns: Vec<String>,
}

/// `casework.toml`: the words of the demo's complaints, cases and decisions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Casework {
    pub complaints: Complaints,
    pub cases: Cases,
    pub decisions: Decisions,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Complaints {
    pub stories: Vec<Story>,
    pub providers: Vec<String>,
    pub named: Vec<String>,
    pub contact: String,
    pub paused_because: String,
    pub extended_because: String,
    pub delay_explained: String,
    pub ombudsman_reference: String,
    pub learning: Vec<String>,
}

/// A complaint in the complainant's words, and the articles of the Bill of Rights it is about.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Story {
    pub what_happened: String,
    pub outcome_wanted: String,
    pub articles: Vec<u32>,
    /// The words the complaints team writes for the provider when the story itself could tell
    /// the service who complained; without it, the team finds nothing to take out.
    #[serde(default)]
    pub for_provider: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Cases {
    pub issues: Vec<Issue>,
    pub client_name: String,
    pub declined_because: String,
    pub timeline: Vec<Action>,
    pub client_view: String,
    pub reopened_because: String,
}

/// What an advocacy case is about.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Issue {
    pub domain: CaseDomain,
    /// A theme's name, as people read it.
    pub theme: String,
    pub issue: String,
    pub provider: Option<String>,
    pub articles: Vec<u32>,
}

/// One thing an advocate did on a case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Action {
    pub kind: ActionKind,
    pub note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Decisions {
    pub plans: Vec<Plan>,
    pub service_area: String,
    pub decided_by: String,
    pub involvement: String,
    pub theme_evidence: String,
    pub item_evidence: String,
    pub progress: String,
    pub outcome_review: String,
    pub not_acted_on_because: String,
}

/// A commissioning decision: its title, where it stands, and its rung on the ladder.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Plan {
    pub title: String,
    pub status: Status,
    pub ladder_rung: u8,
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> T {
    toml::from_str(text).unwrap_or_else(|error| panic!("demo/data/{file} does not read: {error}"))
}

fn weekday(file: &str, name: &str) -> Weekday {
    match name {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        other => panic!("demo/data/{file}: `{other}` is not a day of the week (write it in lower case)"),
    }
}

impl Words {
    fn load() -> Words {
        let points: PointsFile = parse("points.toml", include_str!("../data/points.toml"));
        let phrasing: Phrasing = parse("phrasing.toml", include_str!("../data/phrasing.toml"));
        let safeguarding: SafeguardingFile = parse("safeguarding.toml", include_str!("../data/safeguarding.toml"));
        let mut details: BTreeMap<String, HubDetails> = parse("hubs.toml", include_str!("../data/hubs.toml"));

        let hubs: Vec<Hub> = exact_hubs()
            .into_iter()
            .map(|hub| {
                let found = details.remove(&hub.hub);
                let details = found.unwrap_or_else(|| panic!("demo/data/hubs.toml has no [{}]", hub.hub));
                assert!(!details.towns.is_empty(), "demo/data/hubs.toml: [{}] names no towns", hub.hub);
                Hub {
                    forum: hub.kind == HubKind::Forum,
                    weight: details.weight,
                    weekday: weekday("hubs.toml", &details.meets_on),
                    towns: details.towns,
                    id: hub.hub,
                }
            })
            .collect();
        if let Some(extra) = details.keys().next() {
            panic!("demo/data/hubs.toml: [{extra}] is not a hub of the reference table");
        }
        assert_eq!(hubs.iter().filter(|hub| hub.forum).count(), 1, "the reference table has one forum");

        let themes: Vec<&str> = points.themes.iter().map(|theme| theme.theme.as_str()).collect();
        let known_theme = |theme: &str| themes.contains(&theme);
        for theme in &points.themes {
            assert!(!theme.points.is_empty(), "demo/data/points.toml: {} has no points", theme.theme);
            for point in &theme.points {
                assert!(
                    points.about.contains_key(&point.about),
                    "demo/data/points.toml: `{}` is not a group under [about]",
                    point.about
                );
                for also in &point.also {
                    assert!(known_theme(also), "demo/data/points.toml: `{also}` has no points of its own");
                }
            }
        }
        for disclosure in &safeguarding.disclosures {
            for theme in &disclosure.themes {
                assert!(known_theme(theme), "demo/data/safeguarding.toml: `{theme}` has no points in points.toml");
            }
        }
        for token in ["weeks", "times", "years", "months", "day", "language"] {
            assert!(
                phrasing.fill.get(token).is_some_and(|words| !words.is_empty()),
                "demo/data/phrasing.toml: [fill] needs some words for {token}"
            );
        }

        Words {
            themes: points.themes,
            about: points.about,
            phrasing,
            disclosures: safeguarding.disclosures,
            hubs,
            providers: seed_providers().into_iter().map(|provider| (provider.provider, provider.name)).collect(),
        }
    }

    /// The services a point might be about: seeded provider ids, or services named as people
    /// name them.
    pub fn about(&self, point: &Point) -> &[String] {
        &self.about[&point.about]
    }

    /// The points filed under `theme`.
    pub fn points_of(&self, theme: &str) -> &[Point] {
        self.themes.iter().find(|t| t.theme == theme).map(|t| t.points.as_slice()).expect("every theme has points")
    }
}

impl Phrasing {
    /// How an item opens when it is reported rather than quoted, by channel.
    pub fn intros(&self, channel: Channel) -> &[String] {
        match channel {
            Channel::Forum => &self.intros.forum,
            Channel::DropIn => &self.intros.drop_in,
            Channel::OneToOne => &self.intros.one_to_one,
            Channel::Phone => &self.intros.phone,
            Channel::Survey | Channel::Online => &self.intros.survey_or_online,
        }
    }

    /// The words a `{token}` for a small varied detail may stand for, or `None` for other tokens.
    pub fn fill(&self, token: &str) -> Option<&[String]> {
        self.fill.get(token).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_casework_reads_and_names_only_seeded_providers() {
        let casework = &*CASEWORK;
        let seeded: Vec<&str> = WORDS.providers.iter().map(|(id, _)| id.as_str()).collect();
        let complaints = &casework.complaints;
        assert!(!complaints.stories.is_empty() && !complaints.named.is_empty() && !complaints.learning.is_empty());
        for provider in &complaints.providers {
            assert!(seeded.contains(&provider.as_str()), "{provider}");
        }
        // The first two issues are the common ones; the rest take turns.
        assert!(casework.cases.issues.len() > 2 && !casework.cases.timeline.is_empty());
        for issue in &casework.cases.issues {
            assert!(issue.provider.as_deref().is_none_or(|p| seeded.contains(&p)), "{issue:?}");
        }
        assert!(!casework.decisions.plans.is_empty());
    }

    #[test]
    fn every_hub_of_the_reference_table_has_demo_details_and_one_is_the_forum() {
        let hubs: Vec<&str> = hub_ids().collect();
        let reference: Vec<String> = exact_hubs().into_iter().map(|hub| hub.hub).collect();
        assert_eq!(hubs, reference);
        assert_eq!(forum(), "west-sussex-forum");
    }
}
