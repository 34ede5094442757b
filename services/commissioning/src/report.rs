//! "You said, we did": what people said (counts by theme, representative items where consent
//! allows), what was decided and what came of it, what was answered "not acted on", and how
//! well the loop closes. Its figures go through `heard_api::suppression`: counts of 1 to 4 are
//! hidden, and so is any figure that would let one be worked out: the closure rate with the
//! closed count, a count that another would give away by subtraction (within the report, and
//! between a hub's report and the whole county's). One computation serves GraphQL, the
//! printable page and the CSV.
//!
//! The heart of it is [`Pairing`]: each theme people raised beside what was done about it
//! (the decisions it fed into and the reasons given where nothing was done), with examples in
//! people's own words where their consent allows, each with what came of that item.

use std::collections::{BTreeMap, HashMap};

use heard_access::Actor;
use heard_api::spreadsheet::escape_cell;
use heard_api::suppression::{Cell, Shown, Table, derived, publishable_count};
use heard_eventstore::{EventStore, Sealed};
use heard_workdays::Calendar;
use jiff::civil::Date;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::decision::{Decision, Evidence, Status, ladder_words};
use crate::domain::metrics;
use crate::model::{ItemFacts, State, Words, open_words};

/// Whose input the report is about. Empty means everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// A hub, or the Forum (a hub of kind forum).
    pub hub: Option<String>,
    pub provider: Option<String>,
    pub theme: Option<String>,
    /// Items said from this day…
    pub from: Option<Date>,
    /// …up to and including this day.
    pub to: Option<Date>,
}

impl Scope {
    /// The first id in scope that names no hub, provider or theme: `(field, message)`, where
    /// the message names the field and never repeats what was given.
    pub fn unknown(&self, state: &State) -> Option<(&'static str, &'static str)> {
        let reference = &state.reference;
        if self.hub.as_ref().is_some_and(|hub| !reference.hubs.contains_key(hub)) {
            return Some(("hub", "there is no hub with this id"));
        }
        if self.provider.as_ref().is_some_and(|provider| !reference.providers.contains_key(provider)) {
            return Some(("provider", "there is no provider with this id"));
        }
        if self.theme.as_ref().is_some_and(|theme| !reference.themes.contains_key(theme)) {
            return Some(("theme", "there is no theme with this id"));
        }
        None
    }

    /// Whose input the scope covers, in names.
    fn title(&self, state: &State) -> String {
        let reference = &state.reference;
        let mut parts = Vec::new();
        if let Some(hub) = &self.hub {
            parts.push(reference.hubs.get(hub).cloned().unwrap_or_else(|| hub.clone()));
        }
        if let Some(provider) = &self.provider {
            parts.push(reference.providers.get(provider).cloned().unwrap_or_else(|| provider.clone()));
        }
        if let Some(theme) = &self.theme {
            parts.push(reference.theme_name(theme).unwrap_or(theme).to_owned());
        }
        if parts.is_empty() { "Everyone".to_owned() } else { parts.join(", ") }
    }

    /// The dates it covers, in words.
    fn period(&self) -> String {
        match (self.from, self.to) {
            (None, None) => "all dates".to_owned(),
            (Some(from), None) => format!("from {from}"),
            (None, Some(to)) => format!("up to {to}"),
            (Some(from), Some(to)) => format!("{from} to {to}"),
        }
    }
}

/// How many items were said about one theme.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThemeCount {
    pub theme: String,
    pub name: String,
    /// `None` when suppressed: 1 to 4, or hidden so that another cannot be worked out.
    pub count: Option<u64>,
}

/// One item shown as it was shared, where consent allows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportItem {
    pub item: Uuid,
    pub hub: String,
    pub themes: Vec<String>,
    pub text: String,
    pub said_on: Option<Date>,
    /// What came of it.
    pub outcome: ItemOutcome,
}

/// What came of one item, as far as the report tells it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ItemOutcome {
    /// The report's decisions it is linked to, in the report's order.
    pub decisions: Vec<Uuid>,
    /// Answered "not acted on, because …": when and why.
    pub not_acted_on: Option<(Date, String)>,
    /// When a commissioner said they had read it.
    pub acknowledged_on: Option<Date>,
}

impl ItemOutcome {
    /// Whether anything came of it beyond being read.
    pub fn answered(&self) -> bool {
        !self.decisions.is_empty() || self.not_acted_on.is_some()
    }
}

/// One thing done about a theme: a decision it fed into, or a reason given for not acting.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Response {
    /// A decision of the report (see [`Report::decisions`]).
    Decision(Uuid),
    /// "Not acted on, because …" (the same reason given for several items is one response).
    NotActedOn { reason: String, on: Date },
}

/// A theme people raised, paired with what was done about it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pairing {
    /// The theme's id; `None` for feedback with no theme that something was done about.
    pub theme: Option<String>,
    pub name: String,
    /// How many items raised it (`None` when suppressed, and always for feedback with no theme).
    pub count: Option<u64>,
    /// Examples in people's own words, where consent allows, each with what came of it.
    pub quotes: Vec<ReportItem>,
    /// What was done about it: decisions (newest first), then reasons for not acting.
    pub responses: Vec<Response>,
}

/// The name of the row for feedback with no theme.
pub const NO_THEME: &str = "Other feedback";

/// One decision and what came of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportDecision {
    pub decision: Decision,
    /// Items of this report's scope it is linked to (`None` when 1 to 4).
    pub linked_items: Option<u64>,
}

/// An item answered "not acted on, because …".
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportAnswer {
    pub item: Uuid,
    /// The words, where consent allows.
    pub text: Option<String>,
    pub reason: String,
    pub on: Date,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub scope: Scope,
    /// Whose input it is about, in names: "Arun", "Arun, Prescribing", or "Everyone".
    pub title: String,
    /// The public version: only `PUBLIC`-consented content.
    pub public: bool,
    /// The log position and chain head it was computed at (`heard verify --at POSITION`).
    pub position: u64,
    pub chain_head: String,
    /// Items shared with commissioners in scope (`None` when suppressed).
    pub shared_items: Option<u64>,
    pub said: Vec<ThemeCount>,
    /// Each theme beside what was done about it, in the order of `said`.
    pub pairs: Vec<Pairing>,
    pub representative: Vec<ReportItem>,
    pub decisions: Vec<ReportDecision>,
    pub not_acted_on: Vec<ReportAnswer>,
    /// Items that reached a decision or a reasoned answer (`None` when suppressed: 1 to 4, or
    /// 1 to 4 items still open, which shared minus closed would give away).
    pub closed_items: Option<u64>,
    /// `closed / shared`, when both are shown.
    pub loop_closure_rate: Option<f64>,
    /// Median working days from sharing to the first response (acknowledgement, answer or
    /// link), when at least 5 items had one the calendar can count.
    pub median_working_days: Option<f64>,
}

/// Items per theme shown as examples.
const EXAMPLES_PER_THEME: usize = 2;

fn in_scope(item: &ItemFacts, scope: &Scope, public: bool) -> bool {
    let consented = if public { item.public() } else { item.for_commissioners() };
    consented
        && scope.hub.as_ref().is_none_or(|hub| &item.hub == hub)
        && scope.provider.as_ref().is_none_or(|provider| item.provider.as_ref() == Some(provider))
        && scope.theme.as_ref().is_none_or(|theme| item.themes.contains(theme))
        && scope.from.is_none_or(|from| item.said_on.is_some_and(|said| said >= from))
        && scope.to.is_none_or(|to| item.said_on.is_some_and(|said| said <= to))
}

/// The counts of one group of items: shared, closed, and by theme.
#[derive(Default)]
struct Counts<'a> {
    shared: u64,
    closed: u64,
    themes: BTreeMap<&'a str, u64>,
    /// Items with no theme.
    untagged: u64,
}

impl<'a> Counts<'a> {
    fn of(items: &[&'a ItemFacts], closed: &impl Fn(&ItemFacts) -> bool) -> Counts<'a> {
        let mut counts = Counts::default();
        for item in items {
            counts.shared += 1;
            counts.closed += u64::from(closed(item));
            counts.untagged += u64::from(item.themes.is_empty());
            for theme in &item.themes {
                *counts.themes.entry(theme.as_str()).or_default() += 1;
            }
        }
        counts
    }
}

/// The cells of one group's counts in the suppression table.
struct Cells<'a> {
    shared: Cell,
    closed: Cell,
    open: Cell,
    themes: BTreeMap<&'a str, Cell>,
    untagged: Cell,
}

impl<'a> Cells<'a> {
    /// Shared is closed plus still open (never published, but shared minus closed); shared is
    /// also the items of each theme added up, where every item has one theme at most.
    fn add(table: &mut Table, counts: &Counts<'a>) -> Cells<'a> {
        let shared = table.published(counts.shared);
        let closed = table.published(counts.closed);
        let open = table.unpublished(counts.shared - counts.closed);
        table.sum(shared, [closed, open]);
        let themes: BTreeMap<&str, Cell> =
            counts.themes.iter().map(|(theme, count)| (*theme, table.published(*count))).collect();
        // Nobody is told how many items have no theme; anyone may guess none.
        let untagged = if counts.untagged == 0 { table.known(0) } else { table.unpublished(counts.untagged) };
        table.sum(shared, themes.values().copied().chain([untagged]));
        Cells { shared, closed, open, themes, untagged }
    }
}

/// The loop figures and theme counts of the report's items, suppressed together with those of
/// every hub under the same filters, whose counts add up to the whole county's.
fn suppressed<'a>(
    scope: &Scope,
    everywhere: &[&'a ItemFacts],
    closed: impl Fn(&ItemFacts) -> bool,
) -> (Counts<'a>, Shown, Option<Cells<'a>>) {
    let mut by_hub: BTreeMap<&str, Vec<&ItemFacts>> = BTreeMap::new();
    for item in everywhere {
        by_hub.entry(item.hub.as_str()).or_default().push(item);
    }
    let mut table = Table::new();
    let all = Counts::of(everywhere, &closed);
    let all_cells = Cells::add(&mut table, &all);
    let mut hubs: BTreeMap<&str, (Counts, Cells)> = BTreeMap::new();
    for (hub, items) in &by_hub {
        let counts = Counts::of(items, &closed);
        let cells = Cells::add(&mut table, &counts);
        hubs.insert(hub, (counts, cells));
    }
    table.sum(all_cells.shared, hubs.values().map(|(_, cells)| cells.shared));
    table.sum(all_cells.closed, hubs.values().map(|(_, cells)| cells.closed));
    table.sum(all_cells.open, hubs.values().map(|(_, cells)| cells.open));
    table.sum(all_cells.untagged, hubs.values().map(|(_, cells)| cells.untagged));
    for (theme, total) in &all_cells.themes {
        table.sum(*total, hubs.values().filter_map(|(_, cells)| cells.themes.get(theme).copied()));
    }
    let shown = table.suppress();
    match &scope.hub {
        None => (all, shown, Some(all_cells)),
        Some(hub) => match hubs.remove(hub.as_str()) {
            Some((counts, cells)) => (counts, shown, Some(cells)),
            None => (Counts::default(), shown, None),
        },
    }
}

/// The sealed words `reader` may read in `item`, and may still read in `now` when given.
fn readable_then_and_now<'a>(item: &'a ItemFacts, reader: &Actor, now: Option<&State>) -> Option<&'a Sealed<Words>> {
    let sealed = item.readable_by(reader)?;
    match now {
        Some(now) => now.items.get(&item.item)?.readable_by(reader).map(|_| sealed),
        None => Some(sealed),
    }
}

/// Builds the report as `actor` may see it, from `state`, opening the words it shows with the
/// speakers' keys in `store` (an erased speaker's words are not shown). For a report as at a
/// past day, `now` is the model as it stands: a person's words are shown only if they may be
/// read now too, so consent withdrawn or narrowed since that day hides them from the past as well.
pub fn build(
    state: &State,
    actor: &Actor,
    scope: &Scope,
    public: bool,
    calendar: &Calendar,
    store: &EventStore,
    now: Option<&State>,
) -> Report {
    let anyone = Actor::anonymous();
    let reader = if public { &anyone } else { actor };
    let readable = |item| readable_then_and_now(item, reader, now);
    let everywhere_scope = Scope { hub: None, ..scope.clone() };
    let everywhere: Vec<&ItemFacts> =
        state.items.values().filter(|item| in_scope(item, &everywhere_scope, public)).collect();
    let mut items: Vec<&ItemFacts> =
        everywhere.iter().copied().filter(|item| scope.hub.as_ref().is_none_or(|hub| &item.hub == hub)).collect();
    items.sort_by_key(|item| (std::cmp::Reverse(item.said_on), item.item));

    let linked: std::collections::HashSet<Uuid> = state
        .decisions
        .values()
        .filter(|decision| !decision.status.is_set_aside())
        .flat_map(|decision| decision.active_links())
        .filter_map(|link| link.evidence.feedback_item())
        .collect();
    let closed = |item: &ItemFacts| {
        linked.contains(&item.item) || state.answers.get(&item.item).is_some_and(|a| a.answered.is_some())
    };
    let (counts, shown, cells) = suppressed(scope, &everywhere, closed);
    let figure = |cell: Option<Cell>, count: u64| match cell {
        Some(cell) => shown.get(cell),
        None => publishable_count(count),
    };
    let shared_items = figure(cells.as_ref().map(|cells| cells.shared), counts.shared);
    let closed_items = figure(cells.as_ref().map(|cells| cells.closed), counts.closed);

    let mut by_theme: BTreeMap<&str, Vec<&ItemFacts>> = BTreeMap::new();
    for item in &items {
        for theme in &item.themes {
            by_theme.entry(theme.as_str()).or_default().push(item);
        }
    }
    let name_of = |theme: &str| state.reference.theme_name(theme).unwrap_or(theme).to_owned();
    let mut said: Vec<ThemeCount> = by_theme
        .iter()
        .map(|(theme, found)| ThemeCount {
            theme: (*theme).to_owned(),
            name: name_of(theme),
            count: figure(cells.as_ref().and_then(|cells| cells.themes.get(theme).copied()), found.len() as u64),
        })
        .collect();
    said.sort_by_key(|count| (std::cmp::Reverse(count.count), count.name.clone()));

    let outcome_of = |item: &ItemFacts, decisions_of: &HashMap<Uuid, Vec<Uuid>>| ItemOutcome {
        decisions: decisions_of.get(&item.item).cloned().unwrap_or_default(),
        not_acted_on: state.answers.get(&item.item).and_then(|a| a.answered.clone()).map(|(on, why, _)| (on, why)),
        acknowledged_on: state.answers.get(&item.item).and_then(|a| a.acknowledged).map(|(on, _)| on),
    };

    let in_scope_ids: std::collections::HashSet<Uuid> = items.iter().map(|item| item.item).collect();
    let said_themes: std::collections::HashSet<&str> = by_theme.keys().copied().collect();
    let decisions: Vec<ReportDecision> = state
        .newest_first()
        .filter(|decision| !matches!(decision.status, Status::Withdrawn))
        .filter_map(|decision| {
            let linked_items = decision
                .active_links()
                .filter(|link| link.evidence.feedback_item().is_some_and(|item| in_scope_ids.contains(&item)))
                .count() as u64;
            let linked_theme = decision.active_links().any(|link| match &link.evidence {
                Evidence::Theme { theme } => said_themes.contains(theme.as_str()),
                _ => false,
            });
            (linked_items > 0 || linked_theme)
                .then(|| ReportDecision { decision: decision.clone(), linked_items: publishable_count(linked_items) })
        })
        .collect();
    // Each item's decisions, in the report's order: one pass over the links, so that a report
    // costs the items plus the links, not the items times the links.
    let mut decisions_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for found in &decisions {
        for item in found.decision.active_links().filter_map(|link| link.evidence.feedback_item()) {
            let listed = decisions_of.entry(item).or_default();
            if listed.last() != Some(&found.decision.id) {
                listed.push(found.decision.id);
            }
        }
    }

    let mut not_acted_on: Vec<ReportAnswer> = items
        .iter()
        .filter_map(|item| {
            let (on, reason, _) = state.answers.get(&item.item)?.answered.clone()?;
            let text = readable(item).and_then(|sealed| open_words(store, sealed));
            Some(ReportAnswer { item: item.item, text, reason, on })
        })
        .collect();
    not_acted_on.sort_by_key(|answer| std::cmp::Reverse(answer.on));

    // Examples in people's own words: those something came of first, then the newest. A theme
    // only 1 to 4 people raised has none: examples say nothing of how many there were.
    let mut representative: Vec<ReportItem> = Vec::new();
    let mut quotes_of: BTreeMap<&str, Vec<ReportItem>> = BTreeMap::new();
    for (theme, found) in &by_theme {
        if publishable_count(found.len() as u64).is_none() {
            continue;
        }
        // The words are opened only for the examples picked (an erased speaker's are skipped).
        let mut candidates: Vec<(ItemOutcome, &&ItemFacts, _)> =
            found.iter().filter_map(|item| Some((outcome_of(item, &decisions_of), item, readable(item)?))).collect();
        candidates.sort_by_key(|(outcome, _, _)| !outcome.answered());
        let mut picked = 0;
        for (outcome, item, sealed) in candidates {
            if picked == EXAMPLES_PER_THEME {
                break;
            }
            if representative.iter().any(|r: &ReportItem| r.item == item.item) {
                continue;
            }
            let Some(text) = open_words(store, sealed) else { continue };
            let example = ReportItem {
                item: item.item,
                hub: item.hub.clone(),
                themes: vec![name_of(theme)],
                text,
                said_on: item.said_on,
                outcome,
            };
            quotes_of.entry(theme).or_default().push(example.clone());
            representative.push(example);
            picked += 1;
        }
    }

    let paired = pairings(&said, &items, &decisions, state, &mut quotes_of);

    let first_responses = state.first_responses();
    let pairs: Vec<(Date, Date)> = items
        .iter()
        .filter_map(|item| {
            let shared = item.shared_on?;
            // An answer dated before the sharing was recorded counts as the same day.
            Some((shared, (*first_responses.get(&item.item)?).max(shared)))
        })
        .collect();
    // The median is over the items the calendar can count: hidden when they are 1 to 4.
    let counted = pairs.iter().filter(|(shared, responded)| calendar.working_days_between(*shared, *responded).is_ok());
    let counted = counted.count() as u64;
    Report {
        scope: scope.clone(),
        title: scope.title(state),
        public,
        position: state.position,
        chain_head: state.chain_head.clone(),
        shared_items,
        said,
        pairs: paired,
        representative,
        decisions,
        not_acted_on,
        closed_items,
        loop_closure_rate: derived(&[shared_items, closed_items], || {
            metrics::loop_closure_rate(counts.closed, counts.shared)
        }),
        median_working_days: derived(&[publishable_count(counted)], || metrics::median_working_days(calendar, &pairs)),
    }
}

/// Whether a decision answers a theme: linked to the theme itself (or to it as an advocacy
/// theme), or to an item of the report that raised it (`theme` `None`: an item with no theme).
fn answers_theme(decision: &Decision, theme: Option<&str>, items: &HashMap<Uuid, &ItemFacts>) -> bool {
    decision.active_links().any(|link| match (&link.evidence, theme) {
        (Evidence::Theme { theme: linked }, Some(theme)) => linked == theme,
        (Evidence::AdvocacyTheme { dimension, value }, Some(theme)) => dimension == "theme" && value == theme,
        (Evidence::FeedbackItem { item }, theme) => items.get(item).is_some_and(|found| match theme {
            Some(theme) => found.themes.contains(theme),
            None => found.themes.is_empty(),
        }),
        _ => false,
    })
}

/// Each theme of `said` beside what was done about it, and a last row for feedback with no
/// theme when something was done about some of it.
fn pairings(
    said: &[ThemeCount],
    items: &[&ItemFacts],
    decisions: &[ReportDecision],
    state: &State,
    quotes_of: &mut BTreeMap<&str, Vec<ReportItem>>,
) -> Vec<Pairing> {
    let by_id: HashMap<Uuid, &ItemFacts> = items.iter().map(|item| (item.item, *item)).collect();
    let responses = |theme: Option<&str>| {
        let mut found: Vec<Response> = decisions
            .iter()
            .filter(|d| answers_theme(&d.decision, theme, &by_id))
            .map(|d| Response::Decision(d.decision.id))
            .collect();
        let mut reasons: Vec<(String, Date)> = Vec::new();
        for item in items {
            let raised = match theme {
                Some(theme) => item.themes.contains(theme),
                None => item.themes.is_empty(),
            };
            let Some((on, reason, _)) = state.answers.get(&item.item).and_then(|a| a.answered.clone()) else {
                continue;
            };
            if !raised {
                continue;
            }
            match reasons.iter_mut().find(|(known, _)| *known == reason) {
                Some((_, latest)) => *latest = (*latest).max(on),
                None => reasons.push((reason, on)),
            }
        }
        reasons.sort_by_key(|(_, on)| std::cmp::Reverse(*on));
        found.extend(reasons.into_iter().map(|(reason, on)| Response::NotActedOn { reason, on }));
        found
    };
    let mut pairs: Vec<Pairing> = said
        .iter()
        .map(|count| Pairing {
            theme: Some(count.theme.clone()),
            name: count.name.clone(),
            count: count.count,
            quotes: quotes_of.remove(count.theme.as_str()).unwrap_or_default(),
            responses: responses(Some(&count.theme)),
        })
        .collect();
    let untagged = responses(None);
    if !untagged.is_empty() {
        pairs.push(Pairing {
            theme: None,
            name: NO_THEME.to_owned(),
            count: None,
            quotes: Vec::new(),
            responses: untagged,
        });
    }
    pairs
}

/// A count as the CSV gives it: "not shown" when suppressed (1 to 4, or a count that would give
/// such a count away, so not always fewer than 5).
fn shown(value: Option<u64>) -> String {
    value.map_or_else(|| "not shown".to_owned(), |n| n.to_string())
}

impl Report {
    /// A decision of this report, by id.
    pub fn decision(&self, id: Uuid) -> Option<&ReportDecision> {
        self.decisions.iter().find(|found| found.decision.id == id)
    }

    /// What came of an item, in words for the CSV: "linked to Weekend opening (done)".
    fn outcome_words(&self, outcome: &ItemOutcome) -> String {
        let mut words: Vec<String> = outcome
            .decisions
            .iter()
            .filter_map(|id| self.decision(*id))
            .map(|found| format!("linked to {} ({})", found.decision.title, found.decision.status.label()))
            .collect();
        if let Some((on, reason)) = &outcome.not_acted_on {
            words.push(format!("not acted on ({on}): {reason}"));
        }
        if words.is_empty() {
            match outcome.acknowledged_on {
                Some(on) => words.push(format!("read by commissioners on {on}; nothing decided yet")),
                None => words.push("nothing decided yet".to_owned()),
            }
        }
        words.join("; ")
    }

    /// The report as CSV, one row per figure, example or response
    /// (`section, name, value, detail, theme`), theme by theme: what people said about it
    /// ("you said", "in their words") beside what was done ("we did", "what came of it", "not
    /// acted on"); `theme` pairs each row with its theme. Every cell may hold someone's words,
    /// so none can run as a formula in a spreadsheet.
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut row = |section: &str, name: &str, value: &str, detail: &str, theme: &str| {
            let _ = writer.write_record([section, name, value, detail, theme].map(escape_cell));
        };
        row("section", "name", "value", "detail", "theme");
        row("report", "scope", &self.title, &self.scope.period(), "");
        row("report", "version", if self.public { "public" } else { "commissioners and hubs" }, "", "");
        row("report", "position", &self.position.to_string(), &self.chain_head, "");
        row("summary", "shared items", &shown(self.shared_items), "", "");
        row("summary", "closed items", &shown(self.closed_items), "", "");
        row(
            "summary",
            "loop closure rate",
            &self.loop_closure_rate.map(|r| format!("{r:.3}")).unwrap_or_default(),
            "",
            "",
        );
        row(
            "summary",
            "median working days to first response",
            &self.median_working_days.map(|d| format!("{d:.1}")).unwrap_or_default(),
            "",
            "",
        );
        for pair in &self.pairs {
            let theme = pair.name.as_str();
            if pair.theme.is_some() {
                row("you said", theme, &shown(pair.count), "", theme);
            }
            for item in &pair.quotes {
                let said = item.said_on.map(|d| format!("said {d}; ")).unwrap_or_default();
                let detail = format!("{said}what came of it: {}", self.outcome_words(&item.outcome));
                row("in their words", &item.themes.join("; "), &item.text, &detail, theme);
            }
            if pair.responses.is_empty() {
                row("we did", "", "nothing decided yet", "", theme);
            }
            for response in &pair.responses {
                match response {
                    Response::Decision(id) => {
                        let Some(found) = self.decision(*id) else { continue };
                        let decision = &found.decision;
                        let mut when = format!("decided by {} on {}", decision.decided_by, decision.decision_date);
                        if let Some((status, on)) = decision.status_history.last() {
                            when.push_str(&format!("; {} on {on}", status.label()));
                        }
                        if let Some(words) = ladder_words(decision.ladder_rung) {
                            when.push_str(&format!("; {words}"));
                        }
                        row("we did", &decision.title, decision.status.label(), &when, theme);
                        if let Some((on, summary)) = decision.outcome_reviews.last() {
                            row("what came of it", &decision.title, summary, &on.to_string(), theme);
                        }
                    }
                    Response::NotActedOn { reason, on } => {
                        let words = self
                            .not_acted_on
                            .iter()
                            .find(|answer| &answer.reason == reason)
                            .and_then(|answer| answer.text.as_deref())
                            .unwrap_or("");
                        row("not acted on", words, reason, &on.to_string(), theme);
                    }
                }
            }
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}
