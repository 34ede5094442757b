//! Roll-ups for commissioners: counts grouped by a few dimensions, with small numbers
//! suppressed by the one rule in `heard_access::publishable_count`.

use std::collections::BTreeMap;

use async_graphql::{Enum, SimpleObject};

/// How dates are grouped.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "heard_workdays::Period")]
pub enum ReportPeriod {
    #[default]
    Month,
    Quarter,
    Year,
}

/// One group's value in one dimension, e.g. article `5`, "Respectful, rapid … services".
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
#[graphql(shareable)]
pub struct RollupKey {
    /// The dimension, e.g. `ARTICLE`.
    pub dimension: String,
    /// The value as an id or label: `5`, `addaction`, `2026-Q4`, `none`.
    pub value: String,
    /// The value in plain words.
    pub label: String,
}

/// One row of a roll-up.
#[derive(SimpleObject, Clone, Debug, PartialEq, Eq)]
#[graphql(shareable)]
pub struct RollupRow {
    pub keys: Vec<RollupKey>,
    /// `null` when suppressed: 1 to 4 could identify someone.
    pub count: Option<u64>,
    /// True when the count is hidden because it is small.
    pub suppressed: bool,
}

/// Turns raw counts into rows, suppressing small counts. `dimensions[i]` names the i-th part
/// of each key; `label(i, value)` says it in plain words.
pub fn rows(
    dimensions: &[&str],
    counts: BTreeMap<Vec<String>, u64>,
    label: impl Fn(usize, &str) -> String,
) -> Vec<RollupRow> {
    counts
        .into_iter()
        .map(|(key, count)| {
            let keys = key
                .iter()
                .enumerate()
                .map(|(index, value)| RollupKey {
                    dimension: dimensions.get(index).copied().unwrap_or_default().to_owned(),
                    value: value.clone(),
                    label: label(index, value),
                })
                .collect();
            let shown = heard_access::publishable_count(count);
            RollupRow { keys, count: shown, suppressed: shown.is_none() }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_groups_are_suppressed_and_large_ones_shown_with_their_labels() {
        let counts = BTreeMap::from([(vec!["5".to_owned()], 7), (vec!["11".to_owned()], 3)]);
        let rows = rows(&["ARTICLE"], counts, |_, value| format!("article {value}"));
        assert_eq!(rows.len(), 2);
        let eleven = rows.iter().find(|row| row.keys[0].value == "11").unwrap();
        assert_eq!((eleven.count, eleven.suppressed), (None, true));
        let five = rows.iter().find(|row| row.keys[0].value == "5").unwrap();
        assert_eq!((five.count, five.suppressed), (Some(7), false));
        assert_eq!(five.keys[0].label, "article 5");
        assert_eq!(five.keys[0].dimension, "ARTICLE");
    }
}
