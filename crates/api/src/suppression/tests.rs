//! Each test is a differencing attack: what an asker works out from what Heard shows, by
//! subtraction and multiplication, must never be a hidden count.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// What an asker works out from `known` by subtracting along `sums` (total first, then parts),
/// again and again until nothing more comes out. Written apart from [`Table`] on purpose.
fn work_out(mut known: Vec<Option<u64>>, sums: &[Vec<usize>]) -> Vec<Option<u64>> {
    loop {
        let mut changed = false;
        for sum in sums {
            let unknown: Vec<usize> = sum.iter().copied().filter(|cell| known[*cell].is_none()).collect();
            let [only] = unknown[..] else { continue };
            let parts: u64 = sum[1..].iter().filter(|part| **part != only).map(|part| known[*part].unwrap()).sum();
            let value = if only == sum[0] { Some(parts) } else { known[sum[0]].unwrap().checked_sub(parts) };
            if value.is_some() {
                known[only] = value;
                changed = true;
            }
        }
        if !changed {
            return known;
        }
    }
}

/// The cells of `shown` as the asker sees them.
fn seen(shown: &Shown, cells: &[Cell]) -> Vec<Option<u64>> {
    cells.iter().map(|cell| shown.get(*cell)).collect()
}

#[test]
fn counts_of_1_to_4_are_hidden_and_0_and_5_or_more_shown() {
    assert_eq!(publishable_count(0), Some(0));
    for small in 1..SUPPRESS_BELOW {
        assert!(is_small(small));
        assert_eq!(publishable_count(small), None);
    }
    assert!(!is_small(0) && !is_small(5) && !is_small(120));
}

#[test]
fn total_minus_the_visible_parts_never_gives_a_hidden_part() {
    // 20 in all: 10, 7 and 3. Showing 20, 10 and 7 gives the 3 away.
    let mut table = Table::new();
    let cells = [table.published(20), table.published(10), table.published(7), table.published(3)];
    table.sum(cells[0], cells[1..].iter().copied());
    let shown = table.suppress();
    assert_eq!(seen(&shown, &cells), [Some(20), Some(10), None, None], "the next smallest part is hidden too");
    let worked_out = work_out(seen(&shown, &cells), &[vec![0, 1, 2, 3]]);
    assert_eq!(worked_out[3], None, "the 3 cannot be worked out");
    assert_eq!(worked_out[2], None);
}

#[test]
fn with_no_other_part_to_hide_the_total_is_hidden() {
    // 12 in all: 9 shown here, and 3 that this answer never shows (it is not one of its figures).
    let mut table = Table::new();
    let total = table.published(12);
    let shown_part = table.known(9);
    let small = table.published(3);
    table.sum(total, [shown_part, small]);
    let shown = table.suppress();
    assert_eq!((shown.get(total), shown.get(small)), (None, None), "12 − 9 would give the 3 away");
}

#[test]
fn a_small_part_nobody_publishes_is_protected_too() {
    // 7 shared and 6 closed: 1 still open, worked out by subtraction.
    let mut table = Table::new();
    let (shared, closed) = (table.published(7), table.published(6));
    let open = table.unpublished(1);
    table.sum(shared, [closed, open]);
    let shown = table.suppress();
    assert_eq!((shown.get(shared), shown.get(closed), shown.get(open)), (Some(7), None, None));
    // A large one needs nothing hidden.
    let mut table = Table::new();
    let (shared, closed) = (table.published(20), table.published(12));
    let open = table.unpublished(8);
    table.sum(shared, [closed, open]);
    let shown = table.suppress();
    assert_eq!((shown.get(shared), shown.get(closed)), (Some(20), Some(12)));
}

/// The loop figures of a report as Heard publishes them: shared, closed and the closure rate.
fn loop_figures(shared: u64, closed: u64) -> (Option<u64>, Option<u64>, Option<f64>) {
    let mut table = Table::new();
    let (s, c) = (table.published(shared), table.published(closed));
    let open = table.unpublished(shared - closed);
    table.sum(s, [c, open]);
    let shown = table.suppress();
    let (s, c) = (shown.get(s), shown.get(c));
    (s, c, derived(&[s, c], || (shared > 0).then(|| closed as f64 / shared as f64)))
}

#[test]
fn the_rate_times_the_total_never_gives_a_hidden_count() {
    // Reported as found: sharedItems 9, closedItems null, loopClosureRate 0.111 → 1 closed.
    let rounded =
        |(s, c, rate): (Option<u64>, Option<u64>, Option<f64>)| (s, c, rate.map(|r| (r * 1e6).round() as u64));
    let every: Vec<((u64, u64), _)> = (0..=60u64)
        .flat_map(|s| (0..=s).map(move |c| (s, c)))
        .map(|(s, c)| ((s, c), rounded(loop_figures(s, c))))
        .collect();
    for shared in 0..=40u64 {
        for closed in 0..=shared {
            let (s, c, rate) = loop_figures(shared, closed);
            // Every (shared, closed) an asker cannot tell apart from these figures.
            let figures = rounded((s, c, rate));
            let possible: BTreeSet<(u64, u64)> =
                every.iter().filter(|(_, other)| *other == figures).map(|(pair, _)| *pair).collect();
            let closed_could_be: BTreeSet<u64> = possible.iter().map(|(_, c2)| *c2).collect();
            let open_could_be: BTreeSet<u64> = possible.iter().map(|(s2, c2)| s2 - c2).collect();
            if is_small(closed) {
                assert!(
                    closed_could_be.len() > 1,
                    "{shared} shared, {closed} closed: {s:?} {c:?} {rate:?} give it away"
                );
            }
            if is_small(shared - closed) {
                assert!(open_could_be.len() > 1, "{shared} shared, {closed} closed: the open ones are given away");
            }
        }
    }
    assert_eq!(loop_figures(9, 1), (Some(9), None, None), "the rate is hidden with the count it is computed from");
    assert_eq!(loop_figures(10, 5), (Some(10), Some(5), Some(0.5)));
}

#[test]
fn a_derived_figure_is_shown_only_when_everything_it_is_computed_from_is() {
    assert_eq!(derived(&[Some(9), None], || Some(0.111)), None);
    assert_eq!(derived(&[publishable_count(3)], || Some(2.5)), None, "a median over 3 items");
    assert_eq!(derived(&[Some(9), Some(5)], || Some(0.5)), Some(0.5));
    assert_eq!(derived::<f64>(&[Some(0)], || None), None, "nothing to compute from");
}

/// Complaints as (provider, outcome), counted the way a roll-up counts them.
fn complaints() -> Vec<(&'static str, &'static str)> {
    let mut complaints = Vec::new();
    complaints.extend(std::iter::repeat_n(("addaction", "upheld"), 5));
    complaints.extend(std::iter::repeat_n(("addaction", "open"), 2));
    complaints.extend(std::iter::repeat_n(("cri", "upheld"), 6));
    complaints.extend(std::iter::repeat_n(("cri", "open"), 6));
    complaints
}

fn count(records: &[(&str, &str)], by: &[usize]) -> BTreeMap<Vec<String>, u64> {
    let mut counts = BTreeMap::new();
    for (provider, outcome) in records {
        let key: Vec<String> = by.iter().map(|d| if *d == 0 { *provider } else { *outcome }.to_owned()).collect();
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

#[test]
fn two_roll_ups_of_the_same_data_by_different_dimensions_never_give_a_hidden_count_between_them() {
    let records = complaints();
    let ask = |by: &[usize]| grouped(2, by, |by| count(&records, by));
    let by_provider = ask(&[0]);
    let by_outcome = ask(&[1]);
    let both = ask(&[0, 1]);
    let total = ask(&[]);
    assert_eq!(by_provider[&vec!["addaction".to_owned()]], Some(7));
    assert_eq!(by_provider[&vec!["cri".to_owned()]], Some(12));
    assert_eq!(total[&Vec::<String>::new()], Some(19));
    assert_eq!(both[&vec!["addaction".to_owned(), "open".to_owned()]], None, "2 is hidden");
    // Naively: addaction 7 − addaction/upheld 5 = 2. Whatever is shown, try every subtraction
    // across all four answers.
    let key = |p: &str, o: &str| vec![p.to_owned(), o.to_owned()];
    let cells = [
        total[&Vec::<String>::new()],
        by_provider[&vec!["addaction".to_owned()]],
        by_provider[&vec!["cri".to_owned()]],
        by_outcome[&vec!["open".to_owned()]],
        by_outcome[&vec!["upheld".to_owned()]],
        both[&key("addaction", "open")],
        both[&key("addaction", "upheld")],
        both[&key("cri", "open")],
        both[&key("cri", "upheld")],
    ];
    let sums = [vec![0, 1, 2], vec![0, 3, 4], vec![1, 5, 6], vec![2, 7, 8], vec![3, 5, 7], vec![4, 6, 8]];
    let worked_out = work_out(cells.to_vec(), &sums);
    assert_eq!(worked_out[5], None, "addaction/open cannot be worked out: {cells:?}");
    // And by brute force: every table of four counts that agrees with what is shown.
    let possible: BTreeSet<u64> = (0..=19u64)
        .flat_map(|a| {
            (0..=19u64).flat_map(move |b| (0..=19u64).flat_map(move |c| (0..=19u64).map(move |d| [a, b, c, d])))
        })
        .filter(|[ao, au, co, cu]| {
            let figures = [ao + au + co + cu, ao + au, co + cu, ao + co, au + cu, *ao, *au, *co, *cu];
            figures.iter().zip(&cells).all(|(figure, shown)| shown.is_none_or(|shown| shown == *figure))
        })
        .map(|[ao, ..]| ao)
        .collect();
    assert!(possible.len() > 1, "addaction/open could be only {possible:?}");
}

#[test]
fn a_roll_up_asked_in_another_order_hides_the_same_counts() {
    let records = complaints();
    let forwards = grouped(2, &[0, 1], |by| count(&records, by));
    let backwards = grouped(2, &[1, 0], |by| count(&records, by));
    for (key, value) in &forwards {
        assert_eq!(backwards[&vec![key[1].clone(), key[0].clone()]], *value, "{key:?}");
    }
}

#[test]
fn parts_that_add_up_to_more_than_the_total_are_not_a_sum() {
    // Eight complaints all cite article 5; two of them cite article 2 as well. 8 − 8 is not 2.
    let mut counts = BTreeMap::new();
    counts.insert(vec!["5".to_owned()], 8);
    counts.insert(vec!["2".to_owned()], 2);
    let shown = grouped(1, &[0], |by| if by.is_empty() { BTreeMap::from([(Vec::new(), 8)]) } else { counts.clone() });
    assert_eq!(shown[&vec!["5".to_owned()]], Some(8));
    assert_eq!(shown[&vec!["2".to_owned()]], None);
}

#[test]
fn a_chain_of_subtractions_through_several_sums_gives_nothing_away() {
    // Two hubs, each with shared = closed + open, and the county's figures over both.
    let mut table = Table::new();
    let hub = |table: &mut Table, shared: u64, closed: u64| {
        let cells = (table.published(shared), table.published(closed), table.unpublished(shared - closed));
        table.sum(cells.0, [cells.1, cells.2]);
        cells
    };
    let arun = hub(&mut table, 12, 9);
    let crawley = hub(&mut table, 20, 2);
    let county = hub(&mut table, 32, 11);
    table.sum(county.0, [arun.0, crawley.0]);
    table.sum(county.1, [arun.1, crawley.1]);
    table.sum(county.2, [arun.2, crawley.2]);
    let shown = table.suppress();
    let cells = [arun.0, arun.1, arun.2, crawley.0, crawley.1, crawley.2, county.0, county.1, county.2];
    let sums = [vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8], vec![6, 0, 3], vec![7, 1, 4], vec![8, 2, 5]];
    let worked_out = work_out(seen(&shown, &cells), &sums);
    assert_eq!(worked_out[4], None, "Crawley's 2 closed: {:?}", seen(&shown, &cells));
    assert_eq!(worked_out[2], None, "Arun's 3 open");
}

/// A reproducible stream of numbers, each below the bound it is asked with (a linear
/// congruential generator started at `seed`).
fn numbers_from(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    }
}

/// How many `records` there are of each value of the dimensions `by`, as [`grouped`] asks.
fn counts_by<const N: usize>(records: &[[u64; N]], by: &[usize]) -> BTreeMap<Vec<String>, u64> {
    let mut counts = BTreeMap::new();
    for record in records {
        *counts.entry(by.iter().map(|d| record[*d].to_string()).collect::<Vec<_>>()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn a_large_roll_up_over_four_dimensions_publishes_no_small_count() {
    // 3,000 records over four dimensions, many of them small.
    let mut next = numbers_from(7);
    let records: Vec<[u64; 4]> = (0..3000).map(|_| [next(11), next(12), next(5), next(24)]).collect();
    let shown = grouped(4, &[0, 1, 3], |by| counts_by(&records, by));
    assert!(!shown.is_empty());
    assert!(shown.values().all(|count| count.is_none_or(|count| !is_small(count))));
}

#[test]
fn no_subtraction_across_every_roll_up_of_random_records_gives_a_hidden_count() {
    let mut next = numbers_from(11);
    for round in 0..200 {
        let sizes = [1 + next(3), 1 + next(4), 1 + next(3)];
        let records: Vec<[u64; 3]> = (0..next(60)).map(|_| [next(sizes[0]), next(sizes[1]), next(sizes[2])]).collect();
        let count = |by: &[usize]| counts_by(&records, by);
        let dimensions_of = |mask: usize| (0..3).filter(|d| mask & (1 << d) != 0).collect::<Vec<usize>>();
        // Every roll-up an asker can ask for, and the truth behind it.
        let mut index = BTreeMap::new();
        let (mut shown, mut truth) = (Vec::new(), Vec::new());
        for mask in 0..8 {
            let by = dimensions_of(mask);
            let answer = grouped(3, &by, count);
            for (key, real) in count(&by) {
                assert!(answer[&key].is_none_or(|shown| shown == real && !is_small(shown)), "round {round}");
                index.insert((mask, key.clone()), shown.len());
                shown.push(answer[&key]);
                truth.push(real);
            }
        }
        let mut sums: BTreeMap<(usize, Vec<String>), Vec<usize>> = BTreeMap::new();
        for ((mask, key), cell) in &index {
            for (position, dimension) in dimensions_of(*mask).into_iter().enumerate() {
                let mut rest = key.clone();
                rest.remove(position);
                let parent = (mask & !(1 << dimension), rest);
                sums.entry((*mask * 8 + dimension, parent.1.clone()))
                    .or_insert_with(|| vec![index[&parent]])
                    .push(*cell);
            }
        }
        let sums: Vec<Vec<usize>> = sums.into_values().collect();
        let worked_out = work_out(shown.clone(), &sums);
        for cell in 0..shown.len() {
            if shown[cell].is_none() {
                assert_eq!(worked_out[cell], None, "round {round}: a hidden {} is worked out", truth[cell]);
            }
        }
    }
}
