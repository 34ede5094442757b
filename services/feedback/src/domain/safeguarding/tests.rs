//! Given / when / then, for a disclosure's follow-up.

use heard_contracts::testing::{Command, conflict_of, conflicts_table_mismatches, field_and_message_of, field_of};
use jiff::civil::date;

use super::*;

fn today() -> Date {
    date(2026, 12, 4)
}

fn coordinator() -> Uuid {
    Uuid::from_u128(10)
}

fn colleague() -> Uuid {
    Uuid::from_u128(11)
}

/// Given an item of Arun flagged on 1 December 2026 to the coordinator, then `events`.
fn given(events: Vec<FollowUpEvent>) -> Disclosure {
    let flagged = SafeguardingFlagged { by: Uuid::from_u128(2), coordinator: coordinator() };
    let mut disclosure = Disclosure::flagged(Uuid::from_u128(1), "arun".into(), &flagged, 0);
    disclosure.flagged_on = date(2026, 12, 1);
    for (index, event) in events.iter().enumerate() {
        disclosure.apply(event, index as i64 + 1);
    }
    disclosure
}

fn action(step: Option<SafeguardingStep>, on: Option<&str>, notes: Option<&str>) -> NewAction {
    NewAction { step, on: on.map(str::to_owned), notes: notes.map(str::to_owned) }
}

fn spoke_to_them() -> NewAction {
    action(Some(SafeguardingStep::SpokeToPerson), Some("2026-12-02"), Some("Rang Sam; they are staying with family"))
}

fn closed() -> FollowUpEvent {
    close(&given(vec![]), coordinator(), Some(SafeguardingOutcome::SupportInPlace), None).unwrap()
}

#[test]
fn a_step_is_recorded_on_the_day_it_happened_with_its_notes_and_who_recorded_it() {
    let disclosure = given(vec![]);
    let event = record_action(&disclosure, coordinator(), spoke_to_them(), today()).unwrap();
    assert_eq!(
        event,
        FollowUpEvent::ActionRecorded(
            SafeguardingActionRecorded {
                step: SafeguardingStep::SpokeToPerson,
                on: "2026-12-02".into(),
                by: coordinator()
            },
            Notes::Written("Rang Sam; they are staying with family".into()),
        )
    );
    let after = given(vec![event]);
    assert_eq!(after.actions_recorded(), 1);
    assert_eq!(after.last_action_on(), Some(date(2026, 12, 2)));
    assert_eq!(after.revision, Some(0), "the first event of the follow-up stream");
    assert_eq!(after.entries[0].by, coordinator());
    assert!(after.is_open(), "a step does not close it");
}

#[test]
fn a_step_left_without_a_day_happened_today_and_notes_may_be_left_out() {
    let event = record_action(
        &given(vec![]),
        coordinator(),
        action(Some(SafeguardingStep::CalledEmergencyServices), Some("  "), Some("  ")),
        today(),
    )
    .unwrap();
    let FollowUpEvent::ActionRecorded(recorded, notes) = event else { panic!("an action") };
    assert_eq!(recorded.on, "2026-12-04");
    assert_eq!(notes, Notes::None);
}

#[test]
fn a_step_cannot_be_dated_before_the_flag_nor_in_the_future_and_the_refusal_names_the_field_and_the_days() {
    let disclosure = given(vec![]);
    let at = |on: &str| {
        field_and_message_of(record_action(
            &disclosure,
            coordinator(),
            action(Some(SafeguardingStep::SpokeToPerson), Some(on), None),
            today(),
        ))
    };
    assert_eq!(
        at("2026-11-30"),
        ("on".into(), "the day it happened cannot be before the disclosure was flagged on 1 December 2026".into())
    );
    assert_eq!(
        at("2026-12-05"),
        ("on".into(), "the day it happened cannot be in the future (after 4 December 2026)".into())
    );
    assert_eq!(at("31/2/2026"), ("on".into(), "31 February 2026 does not exist".into()), "worded as everywhere");
    assert_eq!(at("tuesday").0, "on");
    for edge in ["2026-12-01", "2026-12-04"] {
        let allowed = record_action(
            &disclosure,
            coordinator(),
            action(Some(SafeguardingStep::SpokeToPerson), Some(edge), None),
            today(),
        );
        assert!(allowed.is_ok(), "{edge}: the day of the flag and today are both allowed");
    }
}

#[test]
fn a_step_must_say_what_was_done_and_something_else_must_be_described_in_the_notes() {
    let disclosure = given(vec![]);
    assert_eq!(field_of(record_action(&disclosure, coordinator(), action(None, None, Some("x")), today())), "step");
    let other = action(Some(SafeguardingStep::Other), None, None);
    assert_eq!(field_of(record_action(&disclosure, coordinator(), other, today())), "notes");
    let described = action(Some(SafeguardingStep::Other), None, Some("Wrote to their GP with their agreement"));
    assert!(record_action(&disclosure, coordinator(), described, today()).is_ok());
}

#[test]
fn notes_with_a_control_character_or_too_long_are_refused_naming_the_notes_and_never_quoting_them() {
    let disclosure = given(vec![]);
    for typed in ["Sam\u{7}Example", &"Sam Example ".repeat(500)] {
        let refused = record_action(
            &disclosure,
            coordinator(),
            action(Some(SafeguardingStep::SpokeToPerson), None, Some(typed)),
            today(),
        );
        let (field, message) = field_and_message_of(refused);
        assert_eq!(field, "notes");
        assert!(!message.contains("Sam"), "{message}");
    }
    let closing = close(&disclosure, coordinator(), Some(SafeguardingOutcome::ReferredOn), Some("a\u{0}b".into()));
    assert_eq!(field_of(closing), "notes");
}

#[test]
fn a_disclosure_is_handed_only_to_another_coordinator_of_its_own_hub_and_then_it_is_theirs() {
    let disclosure = given(vec![]);
    let not_of_the_hub = hand_over(&disclosure, coordinator(), colleague(), false, None);
    assert_eq!(
        field_and_message_of(not_of_the_hub),
        ("coordinatorId".into(), "choose a coordinator of this disclosure's hub".into())
    );
    assert_eq!(field_of(hand_over(&disclosure, coordinator(), coordinator(), true, None)), "coordinatorId");
    let handed =
        hand_over(&disclosure, coordinator(), colleague(), true, Some("Back from leave on Monday".into())).unwrap();
    assert_eq!(
        handed,
        FollowUpEvent::HandedOver(
            SafeguardingHandedOver { from: coordinator(), to: colleague(), by: coordinator() },
            Notes::Written("Back from leave on Monday".into())
        )
    );
    let after = given(vec![handed]);
    assert_eq!(after.coordinator, colleague(), "it is with the colleague now");
    assert_eq!(after.entries[0].happened, Happened::HandedOver { from: coordinator(), to: colleague() });
}

#[test]
fn marking_it_dealt_with_needs_an_outcome_chosen_and_something_else_needs_notes() {
    let disclosure = given(vec![]);
    assert_eq!(
        field_and_message_of(close(&disclosure, coordinator(), None, Some("All fine".into()))),
        ("outcome".into(), "choose what came of it".into())
    );
    assert_eq!(field_of(close(&disclosure, coordinator(), Some(SafeguardingOutcome::Other), None)), "notes");
    let after = given(vec![closed()]);
    assert!(!after.is_open());
    assert_eq!(after.outcome, Some(SafeguardingOutcome::SupportInPlace));
    assert_eq!(after.closed_at_micros(), Some(1));
}

#[test]
fn once_dealt_with_nothing_more_is_added_to_it() {
    let states = [("open", given(vec![])), ("dealt with", given(vec![closed()]))];
    let commands: Vec<(&str, Command<'_, Disclosure, FollowUpEvent>, &str)> = vec![
        ("record a step", Box::new(|d: &Disclosure| record_action(d, coordinator(), spoke_to_them(), today())), "OC"),
        ("hand over", Box::new(|d: &Disclosure| hand_over(d, coordinator(), colleague(), true, None)), "OC"),
        (
            "mark dealt with",
            Box::new(|d: &Disclosure| close(d, coordinator(), Some(SafeguardingOutcome::ReferredOn), None)),
            "OC",
        ),
    ];
    let wrong = conflicts_table_mismatches(&states, &commands);
    assert!(wrong.is_empty(), "{wrong:#?}");
    let refused = hand_over(&given(vec![closed()]), coordinator(), colleague(), false, None);
    assert!(conflict_of(refused).contains("dealt with"), "the state is checked before the fields");
}

#[test]
fn urgency_is_today_this_week_or_older_and_the_most_urgent_comes_first() {
    let flagged_on = |day: Date, micros: i64, events: Vec<FollowUpEvent>| {
        let mut disclosure = given(events);
        disclosure.flagged_on = day;
        disclosure.flagged_at_micros = micros;
        disclosure.item = Uuid::from_u128(micros as u128);
        disclosure
    };
    let today_fresh = flagged_on(today(), 40, vec![]);
    let step = record_action(&given(vec![]), coordinator(), spoke_to_them(), today()).unwrap();
    let today_followed = flagged_on(today(), 30, vec![step]);
    let this_week = flagged_on(date(2026, 11, 28), 20, vec![]);
    let older = flagged_on(date(2026, 11, 27), 10, vec![]);
    assert_eq!(today_fresh.urgency(today()), Urgency::Today);
    assert_eq!(this_week.urgency(today()), Urgency::ThisWeek, "six days ago is this week");
    assert_eq!(older.urgency(today()), Urgency::Older, "seven days ago is older");
    let mut list = [older.clone(), today_followed.clone(), this_week.clone(), today_fresh.clone()];
    list.sort_by(|a, b| most_urgent_first(a, b, today()));
    let order: Vec<i64> = list.iter().map(|d| d.flagged_at_micros).collect();
    assert_eq!(order, [40, 30, 20, 10], "today with nothing done, today, this week, older");
}

#[test]
fn the_follow_up_events_keep_their_names_and_shape_in_the_log() {
    let recorded = SafeguardingActionRecorded {
        step: SafeguardingStep::ReferredToProviderLead,
        on: "2026-12-02".into(),
        by: coordinator(),
    };
    let json = serde_json::to_value(&recorded).unwrap();
    assert_eq!(json["step"], "referred_to_provider_lead");
    assert_eq!(serde_json::from_value::<SafeguardingActionRecorded>(json).unwrap(), recorded);
    let closed = SafeguardingClosed { outcome: SafeguardingOutcome::CouldNotReachPerson, by: coordinator() };
    assert_eq!(serde_json::to_value(&closed).unwrap()["outcome"], "could_not_reach_person");
    assert!(SafeguardingHandedOver::is(SAFEGUARDING, "SafeguardingHandedOver"));
    assert_eq!(
        FollowUpEvent::Closed(closed, Notes::None).event_type(),
        "SafeguardingClosed",
        "the type the log stores"
    );
}
