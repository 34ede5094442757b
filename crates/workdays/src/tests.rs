//! Clock and calendar behaviour, each test a sentence about a real complaint.

use jiff::civil::{Date, date};

use crate::clock::{Clock, Extension, Pause, Stage};
use crate::{Calendar, CalendarError};

fn calendar() -> Calendar {
    Calendar::england_and_wales()
}

fn d(text: &str) -> Date {
    text.parse().unwrap()
}

#[test]
fn the_bundled_list_covers_2020_to_2035_with_eight_or_more_holidays_a_year() {
    let text = include_str!("../data/bank-holidays-england-and-wales.txt");
    let calendar = Calendar::parse(text).unwrap();
    for year in 2020..=2035 {
        let count = text.lines().filter(|line| line.starts_with(&year.to_string())).count();
        assert!(count >= 8, "{year} has {count} bank holidays");
        assert!(
            calendar
                .is_working_day(date(year, 7, 1).nth_weekday_of_month(1, jiff::civil::Weekday::Wednesday).unwrap())
                .unwrap()
        );
    }
}

#[test]
fn known_bank_holidays_are_not_working_days() {
    for holiday in [
        "2024-03-29",
        "2024-04-01",
        "2024-05-06",
        "2024-05-27",
        "2024-08-26",
        "2024-12-25",
        "2024-12-26",
        "2022-09-19",
        "2023-05-08",
        "2020-05-08",
        "2021-12-28",
        "2026-04-03",
        "2026-12-28",
    ] {
        assert!(!calendar().is_working_day(d(holiday)).unwrap(), "{holiday}");
    }
    assert!(!calendar().is_working_day(d("2026-11-21")).unwrap(), "a Saturday");
    assert!(calendar().is_working_day(d("2026-11-23")).unwrap(), "an ordinary Monday");
}

#[test]
fn a_complaint_received_on_a_friday_before_a_bank_holiday_monday_is_due_for_acknowledgement_on_thursday() {
    // Friday 22 August 2025; Monday 25 August is the summer bank holiday.
    let clock = Clock::new(d("2025-08-22"));
    let reading = clock.read(&calendar(), d("2025-08-22")).unwrap();
    assert_eq!(reading.acknowledge_by, d("2025-08-28"));
    assert_eq!(reading.acknowledge_by.weekday(), jiff::civil::Weekday::Thursday);
}

#[test]
fn a_complaint_received_on_an_ordinary_friday_is_due_for_acknowledgement_on_wednesday() {
    let reading = Clock::new(d("2026-11-20")).read(&calendar(), d("2026-11-20")).unwrap();
    assert_eq!(reading.acknowledge_by, d("2026-11-25"));
}

#[test]
fn the_response_is_due_twenty_working_days_after_receipt_skipping_christmas() {
    // Received Monday 1 December 2025: 20 working days skip 25 and 26 December.
    let mut clock = Clock::new(d("2025-12-01"));
    clock.acknowledged = Some(d("2025-12-02"));
    let reading = clock.read(&calendar(), d("2025-12-02")).unwrap();
    assert_eq!(reading.respond_by, Some(d("2025-12-31")));
    assert_eq!(reading.stage, Stage::Response);
}

#[test]
fn an_agreed_period_and_extensions_move_the_response_date() {
    let mut clock = Clock::new(d("2026-03-02"));
    clock.acknowledged = Some(d("2026-03-03"));
    clock.agreed_working_days = Some(30);
    let agreed = clock.read(&calendar(), d("2026-03-03")).unwrap().respond_by.unwrap();
    assert_eq!(agreed, calendar().add_working_days(d("2026-03-02"), 30).unwrap());
    clock.extensions.push(Extension {
        working_days: 5,
        reason: "waiting for the prescriber's notes".into(),
        person_agreed: Some(false),
    });
    let extended = clock.read(&calendar(), d("2026-03-03")).unwrap().respond_by.unwrap();
    assert_eq!(extended, calendar().add_working_days(d("2026-03-02"), 35).unwrap());
}

#[test]
fn a_pause_stops_the_clock_and_the_due_date_moves_on_by_the_working_days_paused() {
    let mut clock = Clock::new(d("2026-06-01"));
    clock.acknowledged = Some(d("2026-06-02"));
    let before = clock.read(&calendar(), d("2026-06-02")).unwrap().respond_by.unwrap();
    clock.pauses.push(Pause { from: d("2026-06-05"), until: None, reason: "the complainant is in hospital".into() });
    let paused = clock.read(&calendar(), d("2026-06-10")).unwrap();
    assert_eq!(paused.stage, Stage::Paused);
    assert_eq!(paused.respond_by, None);
    assert!(!paused.overdue);
    // Resumed on Friday 12 June: five working days paused (8–12 June).
    clock.pauses[0].until = Some(d("2026-06-12"));
    let resumed = clock.read(&calendar(), d("2026-06-12")).unwrap().respond_by.unwrap();
    assert_eq!(resumed, calendar().add_working_days(before, 5).unwrap());
}

#[test]
fn an_unacknowledged_complaint_past_three_working_days_is_overdue_and_urgent() {
    let clock = Clock::new(d("2026-11-16"));
    let reading = clock.read(&calendar(), d("2026-11-23")).unwrap();
    assert!(reading.overdue && reading.urgent);
    assert_eq!(reading.working_days_left, Some(-2));
    let early = clock.read(&calendar(), d("2026-11-16")).unwrap();
    assert!(!early.overdue && !early.urgent, "3 working days left is not yet urgent");
}

#[test]
fn a_response_due_within_two_working_days_is_urgent_but_not_overdue() {
    let mut clock = Clock::new(d("2026-10-01"));
    clock.acknowledged = Some(d("2026-10-02"));
    let due = clock.read(&calendar(), d("2026-10-02")).unwrap().respond_by.unwrap();
    let two_before = calendar().add_working_days(due, 0).unwrap();
    let reading = clock.read(&calendar(), two_before).unwrap();
    assert!(reading.urgent && !reading.overdue);
}

#[test]
fn a_complaint_open_for_six_months_needs_a_recorded_explanation() {
    let mut clock = Clock::new(d("2026-03-15"));
    clock.acknowledged = Some(d("2026-03-16"));
    assert!(!clock.read(&calendar(), d("2026-09-14")).unwrap().needs_explanation);
    assert!(clock.read(&calendar(), d("2026-09-15")).unwrap().needs_explanation);
    clock.responded = Some(d("2026-09-20"));
    let done = clock.read(&calendar(), d("2026-10-01")).unwrap();
    assert!(!done.needs_explanation && !done.overdue);
    assert_eq!(done.stage, Stage::Done);
}

#[test]
fn configured_closure_days_are_skipped_too() {
    let closed = calendar().with_closures([d("2026-11-24")]);
    assert_eq!(closed.add_working_days(d("2026-11-23"), 1).unwrap(), d("2026-11-25"));
}

#[test]
fn dates_beyond_the_known_bank_holidays_are_refused_rather_than_guessed() {
    let error = calendar().add_working_days(d("2035-12-28"), 10).unwrap_err();
    assert!(matches!(error, CalendarError::NotCovered { .. }), "{error}");
    assert!(error.to_string().contains("update the bank holiday list"));
}

#[test]
fn a_bad_line_in_a_holiday_list_is_reported_by_number() {
    let error = Calendar::parse("# list\n2026-01-01 New Year\n01/04/2026 Good Friday\n").unwrap_err();
    assert_eq!(error, CalendarError::BadLine { line: 3 });
}

#[test]
fn periods_are_labelled_by_month_quarter_and_year() {
    use crate::Period;
    assert_eq!(Period::Month.label(d("2026-11-23")), "2026-11");
    assert_eq!(Period::Quarter.label(d("2026-11-23")), "2026-Q4");
    assert_eq!(Period::Quarter.label(d("2026-01-01")), "2026-Q1");
    assert_eq!(Period::Quarter.label(d("2026-06-30")), "2026-Q2");
    assert_eq!(Period::Year.label(d("2026-11-23")), "2026");
}

#[test]
fn a_day_is_written_the_way_people_in_the_uk_write_it() {
    assert_eq!(crate::uk_day(d("2026-12-04")), "4 December 2026");
    assert_eq!(crate::uk_day(d("2027-01-31")), "31 January 2027");
}
