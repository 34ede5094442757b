//! Counting for roll-ups, pure: the part of every grouped count (advocacy's systemic themes,
//! rights' complaint patterns) that does not depend on what is counted.

use std::collections::BTreeMap;

/// Counts one record in every group it belongs to: `labels[i]` are the record's values in the
/// i-th dimension grouped by, and the record counts once under each combination of one value
/// per dimension, keyed in the order of `labels` (a record with two themes counts in both
/// themes' rows). With no dimensions it counts once, under the key `[]`.
pub fn count_in_every_group(counts: &mut BTreeMap<Vec<String>, u64>, labels: &[Vec<String>]) {
    let mut keys: Vec<Vec<String>> = vec![Vec::new()];
    for values in labels {
        keys = keys
            .into_iter()
            .flat_map(|key| {
                values.iter().map(move |value| {
                    let mut key = key.clone();
                    key.push(value.clone());
                    key
                })
            })
            .collect();
    }
    for key in keys {
        *counts.entry(key).or_insert(0) += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(dimensions: &[&[&str]]) -> Vec<Vec<String>> {
        dimensions.iter().map(|values| values.iter().map(|value| (*value).to_owned()).collect()).collect()
    }

    #[test]
    fn a_record_counts_once_under_each_combination_of_its_values() {
        let mut counts = BTreeMap::new();
        count_in_every_group(&mut counts, &labels(&[&["housing", "benefits"], &["2026-11"]]));
        count_in_every_group(&mut counts, &labels(&[&["housing"], &["2026-11"]]));
        let key = |a: &str, b: &str| vec![a.to_owned(), b.to_owned()];
        assert_eq!(counts, BTreeMap::from([(key("benefits", "2026-11"), 1), (key("housing", "2026-11"), 2)]));
    }

    #[test]
    fn with_no_dimensions_every_record_counts_under_the_empty_key() {
        let mut counts = BTreeMap::new();
        count_in_every_group(&mut counts, &[]);
        count_in_every_group(&mut counts, &[]);
        assert_eq!(counts, BTreeMap::from([(Vec::new(), 2)]));
    }
}
