//! Working days in England and Wales, for the clocks of Bill of Rights complaints.
//!
//! A working day is a Monday to Friday that is not a bank holiday (the bundled list,
//! `data/bank-holidays-england-and-wales.txt`, 2020–2035) and not an extra closure day added
//! by configuration. Counting starts the day after an event: something received on a Friday
//! and due "within 3 working days" is due on the following Wednesday, or on Thursday when the
//! Monday is a bank holiday.
//!
//! Pure: no storage, no clock of its own. Callers pass "today".

use std::collections::BTreeSet;

use jiff::civil::{Date, Weekday};

const BUNDLED: &str = include_str!("../data/bank-holidays-england-and-wales.txt");

/// Why a calendar could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The bundled bank holidays do not cover this date, so working days cannot be counted
    /// reliably.
    #[error(
        "{date} is outside the years whose bank holidays Heard knows ({first}–{last}); update the bank holiday list"
    )]
    NotCovered { date: Date, first: i16, last: i16 },
    /// A line of the holiday list (or a configured closure) is not a date.
    #[error("line {line} of the bank holiday list is not `YYYY-MM-DD name`")]
    BadLine { line: usize },
}

/// Which days are not working days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    closed: BTreeSet<Date>,
    first_year: i16,
    last_year: i16,
}

impl Calendar {
    /// England and Wales bank holidays, 2020–2035.
    pub fn england_and_wales() -> Calendar {
        Self::parse(BUNDLED).expect("the bundled bank holiday list is valid (checked by a test)")
    }

    /// Parses a list of `YYYY-MM-DD name` lines; `#` starts a comment.
    pub fn parse(text: &str) -> Result<Calendar, CalendarError> {
        let mut closed = BTreeSet::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let date = line.split_whitespace().next().unwrap_or_default();
            let date: Date = date.parse().map_err(|_| CalendarError::BadLine { line: index + 1 })?;
            closed.insert(date);
        }
        let first_year = closed.first().map_or(0, |d| d.year());
        let last_year = closed.last().map_or(0, |d| d.year());
        Ok(Calendar { closed, first_year, last_year })
    }

    /// Adds closure days (e.g. the office shuts between Christmas and New Year).
    pub fn with_closures(mut self, days: impl IntoIterator<Item = Date>) -> Calendar {
        self.closed.extend(days);
        self
    }

    fn check(&self, date: Date) -> Result<(), CalendarError> {
        if date.year() < self.first_year || date.year() > self.last_year {
            return Err(CalendarError::NotCovered { date, first: self.first_year, last: self.last_year });
        }
        Ok(())
    }

    pub fn is_working_day(&self, date: Date) -> Result<bool, CalendarError> {
        self.check(date)?;
        Ok(!matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.closed.contains(&date))
    }

    /// The day after `date`; past the last day there is, it is not covered either.
    fn day_after(&self, date: Date) -> Result<Date, CalendarError> {
        date.tomorrow().map_err(|_| CalendarError::NotCovered { date, first: self.first_year, last: self.last_year })
    }

    /// The day that is `days` working days after `start` (`start` itself does not count).
    pub fn add_working_days(&self, start: Date, days: u32) -> Result<Date, CalendarError> {
        let mut date = start;
        let mut left = days;
        while left > 0 {
            date = self.day_after(date)?;
            if self.is_working_day(date)? {
                left -= 1;
            }
        }
        Ok(date)
    }

    /// Working days after `from` up to and including `to` (negative when `to` is earlier).
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<i64, CalendarError> {
        let (start, end, sign) = if from <= to { (from, to, 1) } else { (to, from, -1) };
        let mut count = 0i64;
        let mut date = start;
        while date < end {
            date = self.day_after(date)?;
            if self.is_working_day(date)? {
                count += 1;
            }
        }
        Ok(sign * count)
    }
}

/// A day as people in the UK write it: `4 December 2026`. Every message and page that names a
/// day says it this way.
pub fn uk_day(day: Date) -> String {
    day.strftime("%-d %B %Y").to_string()
}

/// How reports group dates: by calendar month, quarter or year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Period {
    #[default]
    Month,
    Quarter,
    Year,
}

impl Period {
    /// The label of the period holding `date`: `2026-11`, `2026-Q4` or `2026`.
    pub fn label(self, date: Date) -> String {
        match self {
            Period::Month => format!("{:04}-{:02}", date.year(), date.month()),
            Period::Quarter => format!("{:04}-Q{}", date.year(), (date.month() - 1) / 3 + 1),
            Period::Year => format!("{:04}", date.year()),
        }
    }
}

pub mod clock;

#[cfg(test)]
mod tests;
