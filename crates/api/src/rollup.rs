//! Roll-ups for commissioners: counts grouped by a few dimensions, suppressed by
//! [`crate::suppression::grouped`] so that no small count is shown or can be worked out from
//! this roll-up and any other over the same records.

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
    /// `null` when suppressed: 1 to 4 could identify someone, and a larger count is hidden
    /// where it would let a small one be worked out by subtraction.
    pub count: Option<u64>,
    /// True when the count is hidden.
    pub suppressed: bool,
}

/// Counts records grouped by the dimensions `by` (indices into all the dimensions the records
/// have, `dimensions` of them) and suppresses them with every other grouping of the same
/// records ([`crate::suppression::grouped`]). `count(by)` counts by the dimensions `by` in
/// increasing order. `names[i]` names the i-th dimension of `by`; `label(i, value)` says a
/// value of it in plain words.
pub fn rows(
    dimensions: usize,
    by: &[usize],
    names: &[&str],
    count: impl FnMut(&[usize]) -> BTreeMap<Vec<String>, u64>,
    label: impl Fn(usize, &str) -> String,
) -> Vec<RollupRow> {
    labelled(names, crate::suppression::grouped(dimensions, by, count), label)
}

/// Rows of counts already suppressed by [`crate::suppression::grouped`], with their labels.
pub fn labelled(
    names: &[&str],
    shown: BTreeMap<Vec<String>, Option<u64>>,
    label: impl Fn(usize, &str) -> String,
) -> Vec<RollupRow> {
    shown
        .into_iter()
        .map(|(key, shown)| {
            let keys = key
                .iter()
                .enumerate()
                .map(|(index, value)| RollupKey {
                    dimension: names.get(index).copied().unwrap_or_default().to_owned(),
                    value: value.clone(),
                    label: label(index, value),
                })
                .collect();
            RollupRow { keys, count: shown, suppressed: shown.is_none() }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Articles cited, one per record, and the grand total.
    fn by_article(counts: &[(&str, u64)]) -> impl FnMut(&[usize]) -> BTreeMap<Vec<String>, u64> {
        let counts: BTreeMap<Vec<String>, u64> =
            counts.iter().map(|(article, count)| (vec![(*article).to_owned()], *count)).collect();
        move |by: &[usize]| {
            if by.is_empty() { BTreeMap::from([(Vec::new(), counts.values().sum())]) } else { counts.clone() }
        }
    }

    #[test]
    fn small_groups_are_suppressed_and_large_ones_shown_with_their_labels() {
        let rows = rows(1, &[0], &["ARTICLE"], by_article(&[("5", 7), ("11", 3), ("2", 9)]), |_, value| {
            format!("article {value}")
        });
        assert_eq!(rows.len(), 3);
        let eleven = rows.iter().find(|row| row.keys[0].value == "11").unwrap();
        assert_eq!((eleven.count, eleven.suppressed), (None, true));
        let two = rows.iter().find(|row| row.keys[0].value == "2").unwrap();
        assert_eq!((two.count, two.suppressed), (Some(9), false));
        assert_eq!(two.keys[0].label, "article 2");
        assert_eq!(two.keys[0].dimension, "ARTICLE");
    }

    #[test]
    fn the_next_smallest_group_is_hidden_too_so_that_the_total_gives_nothing_away() {
        // 19 complaints in all (another roll-up says so): 19 − 7 − 9 would be article 11's 3.
        let rows = rows(1, &[0], &["ARTICLE"], by_article(&[("5", 7), ("11", 3), ("2", 9)]), |_, v| v.to_owned());
        let five = rows.iter().find(|row| row.keys[0].value == "5").unwrap();
        assert_eq!((five.count, five.suppressed), (None, true), "{rows:?}");
    }
}
