//! Which figures Heard publishes: the one place that decides it, for every roll-up, report and
//! dashboard figure.
//!
//! Three rules:
//!
//! 1. **Small counts are hidden.** A count of 1 to 4 could identify someone ("the one person
//!    at Arun who complained about prescribing in March"); 0 and 5 or more are shown. The rule
//!    itself is [`heard_access::publishable_count`], re-exported here.
//! 2. **A derived figure is hidden with what it is computed from** ([`derived`]). A rate, a
//!    median, a share or an average is shown only when every count it is computed from is
//!    shown: `sharedItems 9` with `loopClosureRate 0.111` says that 1 item closed as plainly
//!    as `closedItems 1` would.
//! 3. **A hidden count cannot be worked out by subtraction** ([`Table`], [`grouped`]). Where
//!    parts add up to a total that is published (here, or by another answer), a line with
//!    exactly one unknown part gives that part away. So when one part is hidden, the next
//!    smallest part is hidden as well (complementary suppression); when there is no other part
//!    to hide, the total is hidden. A part nobody publishes but anyone can work out (items
//!    still open are shared minus closed) is protected in the same way when it is small.
//!
//! What the rules cannot stop: answers to questions that overlap in ways no table here knows
//! of, such as the same report for two date ranges a day apart, or for a provider against its
//! hub. And where records count under several values (an item with two themes), the parts add
//! up to more than the total: subtraction then gives a bound, not the count, and no sum is
//! declared.

pub use heard_access::{SUPPRESS_BELOW, publishable_count};

use std::collections::BTreeMap;

/// True for a count that must never be shown nor be worked out: 1 to 4.
pub fn is_small(count: u64) -> bool {
    publishable_count(count).is_none()
}

/// A figure computed from counts (a rate, a median, a share, an average): `None` unless every
/// count in `from` is shown (`Some`), whatever `figure` would give.
pub fn derived<T>(from: &[Option<u64>], figure: impl FnOnce() -> Option<T>) -> Option<T> {
    if from.iter().all(Option::is_some) { figure() } else { None }
}

/// One count in a [`Table`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell(usize);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Shown by this answer unless suppressed.
    Published,
    /// Known to the asker without this answer: another answer publishes it (by the same rules,
    /// so not when it is small), or anyone may assume it (no items without a theme).
    Known,
    /// Never shown, but one could work it out; protected when it is small.
    Unpublished,
}

/// Counts published together, and the sums that tie them: each [`sum`](Table::sum) says that
/// a total is its parts added up, so that anyone who knows all but one of them knows that one
/// too. [`suppress`](Table::suppress) decides which published counts are shown so that no
/// hidden count, and no small unpublished one, can be worked out from those shown, however
/// many subtractions one chains.
#[derive(Clone, Debug, Default)]
pub struct Table {
    values: Vec<u64>,
    kinds: Vec<Kind>,
    /// Each sum: its total first, then its parts.
    sums: Vec<Vec<Cell>>,
}

/// Which counts of a [`Table`] are shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    values: Vec<Option<u64>>,
}

impl Shown {
    /// The count as published: `None` when hidden (and always for a cell that is not
    /// published).
    pub fn get(&self, cell: Cell) -> Option<u64> {
        self.values.get(cell.0).copied().flatten()
    }
}

/// How a cell can be known to the asker, as [`Table::suppress`] works it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    Not,
    /// Shown, or known from elsewhere.
    Given,
    /// Worked out from the sum with this index.
    WorkedOut(usize),
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    fn add(&mut self, count: u64, kind: Kind) -> Cell {
        self.values.push(count);
        self.kinds.push(kind);
        Cell(self.values.len() - 1)
    }

    /// A count this answer publishes (hidden when small, or to protect another).
    pub fn published(&mut self, count: u64) -> Cell {
        self.add(count, Kind::Published)
    }

    /// A count the asker knows without this answer: one another answer publishes by the same
    /// rules (so it is taken as unknown when it is small), or one anybody may assume.
    pub fn known(&mut self, count: u64) -> Cell {
        self.add(count, Kind::Known)
    }

    /// A count nobody publishes but anyone could work out from a sum, e.g. items still open
    /// (shared minus closed). It is protected like a hidden count when it is small.
    pub fn unpublished(&mut self, count: u64) -> Cell {
        self.add(count, Kind::Unpublished)
    }

    /// Declares that `total` is `parts` added up, where it is in this data. Where the parts add
    /// up to more (records counted under several values: an item with two themes, a complaint
    /// citing two articles), subtraction gives the asker a wrong number rather than a hidden
    /// one, so the sum is left out.
    pub fn sum(&mut self, total: Cell, parts: impl IntoIterator<Item = Cell>) -> &mut Table {
        let mut sum = vec![total];
        for part in parts {
            if !sum.contains(&part) {
                sum.push(part);
            }
        }
        let added: u64 = sum[1..].iter().map(|part| self.values[part.0]).sum();
        if added == self.values[total.0] {
            self.sums.push(sum);
        }
        self
    }

    fn shown(&self, hidden: &[bool], cell: Cell) -> bool {
        self.kinds[cell.0] == Kind::Published && !hidden[cell.0]
    }

    /// What the asker can know when the cells in `hidden` are hidden: given, or worked out by
    /// subtraction along the sums, again and again. `sums_of[cell]` lists the sums a cell is in.
    fn knowable(&self, hidden: &[bool], sums_of: &[Vec<usize>]) -> Vec<Known> {
        let mut known: Vec<Known> = (0..self.values.len())
            .map(|index| {
                let given = match self.kinds[index] {
                    Kind::Published => !hidden[index],
                    Kind::Known => !is_small(self.values[index]),
                    Kind::Unpublished => false,
                };
                if given { Known::Given } else { Known::Not }
            })
            .collect();
        let mut unknown: Vec<usize> =
            self.sums.iter().map(|sum| sum.iter().filter(|cell| known[cell.0] == Known::Not).count()).collect();
        let mut ready: Vec<usize> = (0..self.sums.len()).filter(|sum| unknown[*sum] == 1).collect();
        while let Some(sum) = ready.pop() {
            if unknown[sum] != 1 {
                continue;
            }
            let Some(only) = self.sums[sum].iter().find(|cell| known[cell.0] == Known::Not) else { continue };
            known[only.0] = Known::WorkedOut(sum);
            for other in &sums_of[only.0] {
                unknown[*other] -= 1;
                if unknown[*other] == 1 {
                    ready.push(*other);
                }
            }
        }
        known
    }

    /// Decides which published counts are shown.
    pub fn suppress(&self) -> Shown {
        let cells = self.values.len();
        let mut sums_of: Vec<Vec<usize>> = vec![Vec::new(); cells];
        for (index, sum) in self.sums.iter().enumerate() {
            for cell in sum {
                sums_of[cell.0].push(index);
            }
        }
        let mut hidden: Vec<bool> =
            (0..cells).map(|index| self.kinds[index] == Kind::Published && is_small(self.values[index])).collect();
        // Cells that must not be worked out: every hidden one, every small unpublished one, and
        // any whose working out would give one of those away.
        let mut guarded: Vec<bool> =
            (0..cells).map(|index| self.kinds[index] == Kind::Unpublished && is_small(self.values[index])).collect();
        loop {
            for index in 0..cells {
                guarded[index] |= hidden[index];
            }
            let known = self.knowable(&hidden, &sums_of);
            let leaks: Vec<(Cell, usize)> = (0..cells)
                .filter_map(|index| match known[index] {
                    Known::WorkedOut(sum) if guarded[index] => Some((Cell(index), sum)),
                    _ => None,
                })
                .collect();
            if leaks.is_empty() {
                break;
            }
            // Each round breaks the sums that give a guarded cell away first hand: a cell worked
            // out from another guarded cell is safe once that one is. The next round looks again.
            let leaked: Vec<bool> =
                (0..cells).map(|index| guarded[index] && matches!(known[index], Known::WorkedOut(_))).collect();
            let first_hand: Vec<(Cell, usize)> = leaks
                .iter()
                .copied()
                .filter(|(cell, sum)| self.sums[*sum].iter().all(|other| other == cell || !leaked[other.0]))
                .collect();
            let leaks = if first_hand.is_empty() { leaks } else { first_hand };
            let mut changed = false;
            let mut broken = vec![false; self.sums.len()];
            for (leaked, sum) in leaks {
                if std::mem::replace(&mut broken[sum], true) {
                    continue;
                }
                let sum = &self.sums[sum];
                let (total, parts) = (sum[0], &sum[1..]);
                let worked_out = |cell: &Cell| *cell != leaked && matches!(known[cell.0], Known::WorkedOut(_));
                // Hide the next smallest shown part (a zero last: hiding it tells little).
                let part = parts
                    .iter()
                    .copied()
                    .filter(|part| *part != leaked && self.shown(&hidden, *part))
                    .min_by_key(|part| (self.values[part.0] == 0, self.values[part.0], part.0));
                if let Some(part) = part {
                    hidden[part.0] = true;
                    changed = true;
                    continue;
                }
                // Else guard the parts that are worked out through other sums, so that the next
                // round breaks those; else hide the total; else guard it.
                let mut more = false;
                for part in parts.iter().filter(|part| worked_out(part)) {
                    more |= !std::mem::replace(&mut guarded[part.0], true);
                }
                if !more && total != leaked && self.shown(&hidden, total) {
                    hidden[total.0] = true;
                    more = true;
                }
                if !more && worked_out(&total) {
                    more = !std::mem::replace(&mut guarded[total.0], true);
                }
                changed |= more;
            }
            if !changed {
                // Nothing left to try: show nothing rather than something that gives a count away.
                hidden.iter_mut().for_each(|hide| *hide = true);
                break;
            }
        }
        Shown {
            values: (0..cells).map(|index| self.shown(&hidden, Cell(index)).then_some(self.values[index])).collect(),
        }
    }
}

/// Counts of records grouped by dimensions, as a roll-up publishes them, suppressed together
/// with every other grouping of the same records so that no two roll-ups give a count away
/// between them (`by: [PROVIDER]` against `by: [PROVIDER, OUTCOME]`; the grand total against
/// `by: [OUTCOME]`).
///
/// The records have `dimensions` dimensions, numbered from 0. `count(by)` counts them grouped
/// by the dimensions `by` (in increasing order, each key holding one value per dimension in
/// that order; `by` empty is the grand total, keyed `[]`). The answer is the grouping `asked`,
/// keyed in the order asked. Every grouping is suppressed as one table in which each count is
/// the total of the finer counts under it, so an asker gets the same hidden counts whichever
/// grouping they ask for.
pub fn grouped(
    dimensions: usize,
    asked: &[usize],
    mut count: impl FnMut(&[usize]) -> BTreeMap<Vec<String>, u64>,
) -> BTreeMap<Vec<String>, Option<u64>> {
    assert!(dimensions <= 8, "a roll-up has a few dimensions, not {dimensions}");
    let dimensions_of = |mask: usize| (0..dimensions).filter(|d| mask & (1 << d) != 0).collect::<Vec<_>>();
    let mut table = Table::new();
    let groupings: Vec<BTreeMap<Vec<String>, Cell>> = (0..1usize << dimensions)
        .map(|mask| count(&dimensions_of(mask)).into_iter().map(|(key, n)| (key, table.published(n))).collect())
        .collect();
    for (mask, grouping) in groupings.iter().enumerate() {
        for (position, dimension) in dimensions_of(mask).into_iter().enumerate() {
            let coarser = &groupings[mask & !(1 << dimension)];
            let mut lines: BTreeMap<Vec<String>, Vec<Cell>> = BTreeMap::new();
            for (key, cell) in grouping {
                let mut rest = key.clone();
                rest.remove(position);
                lines.entry(rest).or_default().push(*cell);
            }
            for (rest, parts) in lines {
                if let Some(total) = coarser.get(&rest) {
                    table.sum(*total, parts);
                }
            }
        }
    }
    let shown = table.suppress();
    let mask = asked.iter().fold(0, |mask, dimension| mask | (1 << dimension));
    let sorted = dimensions_of(mask);
    let order: Vec<usize> =
        asked.iter().filter_map(|dimension| sorted.iter().position(|sorted| sorted == dimension)).collect();
    groupings[mask]
        .iter()
        .map(|(key, cell)| (order.iter().map(|position| key[*position].clone()).collect(), shown.get(*cell)))
        .collect()
}

#[cfg(test)]
mod tests;
