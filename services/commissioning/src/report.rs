//! "You said, we did": what people said (counts by theme, representative items where consent
//! allows), what was decided and what came of it, what was answered "not acted on", and how
//! well the loop closes. Counts below 5 are suppressed. One computation serves GraphQL, the
//! printable page and the CSV.

use std::collections::BTreeMap;

use heard_access::{Actor, publishable_count};
use heard_workdays::Calendar;
use jiff::civil::Date;
use uuid::Uuid;

use crate::domain::decision::{Decision, Evidence, Status};
use crate::domain::metrics;
use crate::service::{ItemFacts, State};

/// Whose input the report is about. Empty means everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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

/// How many items were said about one theme.
#[derive(Clone, Debug, PartialEq)]
pub struct ThemeCount {
    pub theme: String,
    pub name: String,
    /// `None` when 1 to 4 (suppressed).
    pub count: Option<u64>,
}

/// One item shown as it was shared, where consent allows.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportItem {
    pub item: Uuid,
    pub hub: String,
    pub themes: Vec<String>,
    pub text: String,
    pub said_on: Option<Date>,
}

/// One decision and what came of it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportDecision {
    pub decision: Decision,
    /// Items of this report's scope it is linked to.
    pub linked_items: u64,
}

/// An item answered "not acted on, because …".
#[derive(Clone, Debug, PartialEq)]
pub struct ReportAnswer {
    pub item: Uuid,
    /// The words, where consent allows.
    pub text: Option<String>,
    pub reason: String,
    pub on: Date,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub scope: Scope,
    /// The public version: only `PUBLIC`-consented content.
    pub public: bool,
    /// The log position and chain head it was computed at (`heard verify --at POSITION`).
    pub position: u64,
    pub chain_head: String,
    /// Items shared with commissioners in scope (suppressed below 5).
    pub shared_items: Option<u64>,
    pub said: Vec<ThemeCount>,
    pub representative: Vec<ReportItem>,
    pub decisions: Vec<ReportDecision>,
    pub not_acted_on: Vec<ReportAnswer>,
    /// Items that reached a decision or a reasoned answer (suppressed below 5).
    pub closed_items: Option<u64>,
    /// `closed / shared`, when at least 5 items were shared.
    pub loop_closure_rate: Option<f64>,
    /// Median working days from sharing to the first response (acknowledgement, answer or
    /// link), when at least 5 items had one.
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

/// Builds the report as `actor` may see it, from `state`.
pub fn build(state: &State, actor: &Actor, scope: &Scope, public: bool, calendar: &Calendar) -> Report {
    let anyone = Actor::anonymous();
    let reader = if public { &anyone } else { actor };
    let mut items: Vec<&ItemFacts> = state.items.values().filter(|item| in_scope(item, scope, public)).collect();
    items.sort_by_key(|item| (std::cmp::Reverse(item.said_on), item.item));

    let mut by_theme: BTreeMap<&str, Vec<&ItemFacts>> = BTreeMap::new();
    for item in &items {
        for theme in &item.themes {
            by_theme.entry(theme.as_str()).or_default().push(item);
        }
    }
    let name_of = |theme: &str| state.themes.get(theme).cloned().unwrap_or_else(|| theme.to_owned());
    let mut said: Vec<ThemeCount> = by_theme
        .iter()
        .map(|(theme, found)| ThemeCount {
            theme: (*theme).to_owned(),
            name: name_of(theme),
            count: publishable_count(found.len() as u64),
        })
        .collect();
    said.sort_by_key(|count| (std::cmp::Reverse(count.count), count.name.clone()));

    let mut representative = Vec::new();
    for (theme, found) in &by_theme {
        if publishable_count(found.len() as u64).is_none() {
            continue;
        }
        let shown = found.iter().filter_map(|item| Some((item, item.text_for(reader)?))).take(EXAMPLES_PER_THEME);
        for (item, text) in shown {
            if representative.iter().any(|r: &ReportItem| r.item == item.item) {
                continue;
            }
            representative.push(ReportItem {
                item: item.item,
                hub: item.hub.clone(),
                themes: vec![name_of(theme)],
                text: text.to_owned(),
                said_on: item.said_on,
            });
        }
    }

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
            (linked_items > 0 || linked_theme).then(|| ReportDecision { decision: decision.clone(), linked_items })
        })
        .collect();

    let mut not_acted_on: Vec<ReportAnswer> = items
        .iter()
        .filter_map(|item| {
            let (on, reason, _) = state.answers.get(&item.item)?.answered.clone()?;
            Some(ReportAnswer { item: item.item, text: item.text_for(reader).map(str::to_owned), reason, on })
        })
        .collect();
    not_acted_on.sort_by_key(|answer| std::cmp::Reverse(answer.on));

    let linked: std::collections::HashSet<Uuid> = state
        .decisions
        .values()
        .filter(|decision| !decision.status.is_set_aside())
        .flat_map(|decision| decision.active_links())
        .filter_map(|link| link.evidence.feedback_item())
        .collect();
    let shared = items.len() as u64;
    let closed = items
        .iter()
        .filter(|item| {
            linked.contains(&item.item) || state.answers.get(&item.item).is_some_and(|a| a.answered.is_some())
        })
        .count() as u64;
    let first_responses = state.first_responses();
    let pairs: Vec<(Date, Date)> = items
        .iter()
        .filter_map(|item| {
            let shared = item.shared_on?;
            // An answer dated before the sharing was recorded counts as the same day.
            Some((shared, (*first_responses.get(&item.item)?).max(shared)))
        })
        .collect();
    let enough = |count: u64| publishable_count(count).is_some_and(|count| count > 0);
    Report {
        scope: scope.clone(),
        public,
        position: state.position,
        chain_head: state.chain_head.clone(),
        shared_items: publishable_count(shared),
        said,
        representative,
        decisions,
        not_acted_on,
        closed_items: publishable_count(closed),
        loop_closure_rate: if enough(shared) { metrics::loop_closure_rate(closed, shared) } else { None },
        median_working_days: if enough(pairs.len() as u64) {
            metrics::median_working_days(calendar, &pairs)
        } else {
            None
        },
    }
}
