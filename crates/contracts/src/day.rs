//! Days as people in the UK write them, read and written the same way on every page, form,
//! command and import.
//!
//! [`parse`] takes what someone typed: the ISO form a date field sends (`2026-12-04`), the UK
//! order with slashes, dashes or dots (`4/12/2026`, `04-12-26`, `4.12.2026`) and words
//! (`4 December 2026`, `4 Dec 2026`, `4th December 2026`). Day first, always: Heard is used in
//! England. A two-digit year is this century. [`written`] is how a day is shown:
//! `4 December 2026`. Refusals say what was wrong in the same words everywhere: "30 February
//! 2026 does not exist", never "invalid date".

use jiff::civil::Date;

/// What was wrong with a typed day. Its [`std::fmt::Display`] is the message a person reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DayError {
    /// Nothing was typed.
    Missing,
    /// It is not written as a day at all.
    Unreadable,
    /// Day, month and year were read, but there is no such day: `30 February 2026`.
    NoSuchDay { day: u32, month: u32, year: i32 },
    /// A month number or name that no month has.
    NoSuchMonth,
}

/// The hint every date field shows, so the examples are the same on every page.
pub const HINT: &str = "For example, 4 December 2026 or 4/12/2026";

impl std::fmt::Display for DayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DayError::Missing => write!(f, "enter the date, for example 4 December 2026 or 4/12/2026"),
            DayError::Unreadable => {
                write!(f, "enter the date as day, month and year, for example 4 December 2026 or 4/12/2026")
            }
            DayError::NoSuchDay { day, month, year } => match month_name(*month) {
                Some(name) => write!(f, "{day} {name} {year} does not exist"),
                None => write!(f, "there is no month {month}; enter a month from 1 to 12"),
            },
            DayError::NoSuchMonth => write!(f, "there is no such month; enter a month from 1 to 12, or its name"),
        }
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_name(month: u32) -> Option<&'static str> {
    MONTHS.get(usize::try_from(month).ok()?.checked_sub(1)?).copied()
}

/// A month from its name or a prefix of at least three letters (`Sept`, `dec`).
fn month_of(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.').to_lowercase();
    if word.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|name| name.to_lowercase().starts_with(&word))
        .and_then(|index| u32::try_from(index + 1).ok())
}

fn digits(text: &str) -> Option<u32> {
    (!text.is_empty() && text.len() <= 4 && text.chars().all(|c| c.is_ascii_digit())).then(|| text.parse().ok())?
}

/// A year as written: four digits, or two meaning this century (`26` is 2026).
fn year_of(text: &str) -> Option<i32> {
    let year = i32::try_from(digits(text)?).ok()?;
    match text.len() {
        2 => Some(2000 + year),
        4 => Some(year),
        _ => None,
    }
}

/// A day of the month, with or without its suffix (`4`, `04`, `4th`, `21st`).
fn day_number(text: &str) -> Option<u32> {
    let text = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    digits(text).filter(|_| text.len() <= 2)
}

fn build(day: u32, month: u32, year: i32) -> Result<Date, DayError> {
    if !(1..=12).contains(&month) {
        return Err(DayError::NoSuchMonth);
    }
    let no_such = DayError::NoSuchDay { day, month, year };
    let (Ok(y), Ok(m), Ok(d)) = (i16::try_from(year), i8::try_from(month), i8::try_from(day)) else {
        return Err(no_such);
    };
    Date::new(y, m, d).map_err(|_| no_such)
}

/// Reads a day as someone typed it (see the module's documentation).
pub fn parse(typed: &str) -> Result<Date, DayError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(DayError::Missing);
    }
    if typed.len() > 40 {
        return Err(DayError::Unreadable);
    }
    // ISO, as a date field sends it: 2026-12-04.
    let iso: Vec<&str> = typed.split('-').collect();
    if let [year, month, day] = iso[..]
        && year.len() == 4
    {
        let (Some(year), Some(month), Some(day)) = (year_of(year), digits(month), digits(day)) else {
            return Err(DayError::Unreadable);
        };
        return build(day, month, year);
    }
    // 4/12/2026, 04-12-26, 4.12.2026
    let numeric: Vec<&str> = typed.split(['/', '-', '.']).map(str::trim).collect();
    if let [day, month, year] = numeric[..]
        && let (Some(day), Some(month), Some(year)) = (day_number(day), digits(month), year_of(year))
    {
        return build(day, month, year);
    }
    // 4 December 2026, 4 Dec 26, 4th December 2026, 4-Dec-2026 (as Excel writes it)
    let words: Vec<&str> = typed
        .split(|c: char| c.is_whitespace() || c == ',' || c == '-' || c == '/')
        .filter(|w| !w.is_empty())
        .collect();
    if let [day, month, year] = words[..]
        && let Some(day) = day_number(day)
        && month.chars().all(|c| c.is_ascii_alphabetic() || c == '.')
    {
        let month = month_of(month).ok_or(DayError::NoSuchMonth)?;
        let year = year_of(year).ok_or(DayError::Unreadable)?;
        return build(day, month, year);
    }
    Err(DayError::Unreadable)
}

/// How a day is shown: `4 December 2026`.
pub fn written(day: Date) -> String {
    day.strftime("%-d %B %Y").to_string()
}

/// [`written`] for a day held as `YYYY-MM-DD` text; other text comes back as it is.
pub fn written_iso(iso: &str) -> String {
    iso.parse::<Date>().map(written).unwrap_or_else(|_| iso.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i16, m: i8, d: i8) -> Date {
        Date::new(y, m, d).unwrap()
    }

    #[test]
    fn a_day_is_read_the_ways_people_in_the_uk_write_it() {
        for typed in [
            "2026-12-04",
            "4/12/2026",
            "04/12/2026",
            "4/12/26",
            "04-12-2026",
            "4.12.2026",
            " 4 December 2026 ",
            "4 Dec 2026",
            "4th December 2026",
            "4 dec 26",
            "4-Dec-2026",
            "4 Dec. 2026",
            "4 December, 2026",
        ] {
            assert_eq!(parse(typed), Ok(day(2026, 12, 4)), "{typed}");
        }
        assert_eq!(parse("25/08/2026"), Ok(day(2026, 8, 25)), "day first, always");
        assert_eq!(parse("1 Sept 2026"), Ok(day(2026, 9, 1)));
    }

    #[test]
    fn a_day_that_does_not_exist_is_named_in_words() {
        assert_eq!(parse("30/02/2026").unwrap_err().to_string(), "30 February 2026 does not exist");
        assert_eq!(parse("2026-02-30").unwrap_err().to_string(), "30 February 2026 does not exist");
        assert_eq!(parse("31 April 2026").unwrap_err().to_string(), "31 April 2026 does not exist");
        assert_eq!(parse("29/02/2028"), Ok(day(2028, 2, 29)), "a leap day exists in a leap year");
        assert_eq!(parse("29/02/2027").unwrap_err().to_string(), "29 February 2027 does not exist");
    }

    #[test]
    fn what_cannot_be_read_as_a_day_says_how_to_write_one() {
        let unreadable = DayError::Unreadable.to_string();
        for typed in ["yesterday", "12/2026", "2026", "1/1/202", "٤/١٢/٢٠٢٦", "<script>", "4th of the 12th"] {
            assert_eq!(parse(typed).unwrap_err().to_string(), unreadable, "{typed}: never repeats what was typed");
        }
        assert_eq!(parse("4 Smarch 2026"), Err(DayError::NoSuchMonth));
        assert_eq!(parse("  "), Err(DayError::Missing));
        assert_eq!(parse("4/13/2026"), Err(DayError::NoSuchMonth));
    }

    #[test]
    fn a_day_is_shown_as_people_write_it() {
        assert_eq!(written(day(2026, 12, 4)), "4 December 2026");
        assert_eq!(written_iso("2026-03-14"), "14 March 2026");
        assert_eq!(written_iso("not a day"), "not a day");
    }
}
