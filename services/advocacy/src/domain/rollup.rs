//! Systemic themes for commissioners: how many cases there were, grouped by what they were
//! about, who they were with and when. Commissioners never see who the clients are or any notes,
//! only counts. Small numbers are suppressed by the service, not here.

use std::collections::BTreeMap;

use heard_contracts::rollup::count_in_every_group;
use heard_workdays::Period;
use jiff::civil::Date;

use super::case::{Case, CaseState};

/// The label used when a case has nothing for a dimension (no theme, no provider, no article).
pub const NONE: &str = "none";

/// What the counts can be grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// What the issue is about (housing, benefits, …).
    Domain,
    /// A theme from the shared theme list.
    Theme,
    /// The provider the issue is with.
    Provider,
    /// An article of the charter of rights.
    Article,
    /// The month, quarter or year of the referral.
    Period,
}

impl Dimension {
    pub const ALL: [Dimension; 5] =
        [Dimension::Domain, Dimension::Theme, Dimension::Provider, Dimension::Article, Dimension::Period];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Domain => "domain",
            Dimension::Theme => "theme",
            Dimension::Provider => "provider",
            Dimension::Article => "article",
            Dimension::Period => "period",
        }
    }
}

/// The labels of one case for one dimension (never empty: [`NONE`] when there is nothing).
fn labels(case: &Case, dimension: Dimension, period: Period) -> Vec<String> {
    let labels: Vec<String> = match dimension {
        Dimension::Domain => vec![case.domain.as_str().to_owned()],
        Dimension::Theme => case.themes.iter().cloned().collect(),
        Dimension::Provider => case.provider.iter().cloned().collect(),
        Dimension::Article => case.articles.iter().map(u32::to_string).collect(),
        Dimension::Period => vec![period.label(case.referred_on)],
    };
    if labels.is_empty() { vec![NONE.to_owned()] } else { labels }
}

/// Counts cases referred between `from` and `to` (both included; `None` is open-ended), leaving
/// out declined cases, keyed by their labels for the dimensions `by`, in that order.
///
/// A case with several themes or articles counts once in each of their rows. With no
/// dimensions there is always one row, keyed `[]`, holding the total (which may be 0).
pub fn systemic_themes<'a>(
    cases: impl IntoIterator<Item = &'a Case>,
    by: &[Dimension],
    period: Period,
    from: Option<Date>,
    to: Option<Date>,
) -> BTreeMap<Vec<String>, u64> {
    let mut counts = BTreeMap::new();
    if by.is_empty() {
        counts.insert(Vec::new(), 0);
    }
    let within = |on: Date| from.is_none_or(|from| on >= from) && to.is_none_or(|to| on <= to);
    for case in cases {
        if case.state == CaseState::Declined || !within(case.referred_on) {
            continue;
        }
        let labels: Vec<Vec<String>> = by.iter().map(|dimension| labels(case, *dimension, period)).collect();
        count_in_every_group(&mut counts, &labels);
    }
    counts
}
