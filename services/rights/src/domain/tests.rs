//! Given / when / then for every transition of a complaint, and every illegal one.

use std::collections::BTreeSet;

use heard_workdays::Calendar;
use jiff::civil::Date;
use uuid::Uuid;

use heard_contracts::testing::{Command, conflicts_table_mismatches, field_and_message_of, field_of, is_conflict};

use super::catalogue::{exact_bill_of_rights, publish};
use super::complaint::*;

fn d(text: &str) -> Date {
    text.parse().unwrap()
}

fn today() -> Date {
    d("2026-11-23")
}

fn articles() -> BTreeSet<u32> {
    exact_bill_of_rights().articles.iter().map(|a| a.number).collect()
}

fn received_event(on: &str) -> Event {
    receive(
        Uuid::nil(),
        "exact",
        "addaction",
        None,
        &[5, 11],
        &articles(),
        Complainant::Anonymous,
        Route::Hub,
        None,
        d(on),
        today(),
    )
    .unwrap()
}

/// Given a complaint received on `on` and then `events`.
fn given(on: &str, events: Vec<Event>) -> Complaint {
    let mut all = vec![received_event(on)];
    all.extend(events);
    Complaint::from_events(&all).unwrap()
}

fn acknowledged(on: &str) -> Vec<Event> {
    vec![Event::Acknowledged { on: d(on), method: Some(AcknowledgementMethod::Phone) }]
}

fn handler(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

#[test]
fn the_exact_charter_has_eleven_numbered_articles_and_publishes_cleanly() {
    let charter = exact_bill_of_rights();
    assert_eq!(charter.articles.len(), 11);
    assert_eq!(charter.articles[10].label, "The right to speak out");
    assert!(publish(charter.clone(), None).is_ok());
    assert_eq!(field_of(publish(charter, Some(1)).map(|_| Event::EarlyResolutionChosen)), "version");
}

#[test]
fn a_complaint_needs_a_provider_and_real_articles() {
    let today = today();
    let ask = |provider: &str, cited: &[u32], complainant: Complainant| {
        receive(
            Uuid::nil(),
            "exact",
            provider,
            None,
            cited,
            &articles(),
            complainant,
            Route::Direct,
            None,
            d("2026-11-02"),
            today,
        )
    };
    assert_eq!(field_of(ask(" ", &[1], Complainant::Named)), "provider");
    assert_eq!(field_of(ask("cri", &[], Complainant::Named)), "articles");
    assert_eq!(field_of(ask("cri", &[1, 12], Complainant::Named)), "articles[1]");
    assert_eq!(field_of(ask("cri", &[1], Complainant::RelayedByAdvocate)), "advocate");
}

#[test]
fn a_received_complaint_is_acknowledged_once_recording_how_and_when() {
    let complaint = given("2026-11-16", vec![]);
    let letter = acknowledge(&complaint, AcknowledgementMethod::Letter, d("2026-11-17"), today());
    assert_eq!(letter, Ok(Event::Acknowledged { on: d("2026-11-17"), method: Some(AcknowledgementMethod::Letter) }));
    let mut folded = complaint.clone();
    folded.apply(&letter.unwrap());
    assert_eq!((folded.stage, folded.acknowledged_by), (Stage::Acknowledged, Some(AcknowledgementMethod::Letter)));
    assert_eq!(folded.clock.acknowledged, Some(d("2026-11-17")));
    let again = given("2026-11-16", acknowledged("2026-11-17"));
    assert!(is_conflict(acknowledge(&again, AcknowledgementMethod::Email, d("2026-11-18"), today())));
}

#[test]
fn an_acknowledgement_is_never_before_the_complaint_was_received_nor_in_the_future_and_says_the_days() {
    let complaint = given("2026-11-16", vec![]);
    let early = acknowledge(&complaint, AcknowledgementMethod::Phone, d("2026-11-10"), today());
    assert_eq!(
        field_and_message_of(early),
        (
            "on".to_owned(),
            "the acknowledgement cannot be before the complaint was received on 16 November 2026".to_owned()
        )
    );
    let late = acknowledge(&complaint, AcknowledgementMethod::Phone, d("2026-11-24"), today());
    assert_eq!(
        field_and_message_of(late),
        ("on".to_owned(), "the acknowledgement cannot be in the future (after 23 November 2026)".to_owned())
    );
    assert!(
        acknowledge(&complaint, AcknowledgementMethod::TextMessage, d("2026-11-16"), today()).is_ok(),
        "the day it came in"
    );
    assert!(acknowledge(&complaint, AcknowledgementMethod::InPerson, today(), today()).is_ok(), "today");
}

#[test]
fn an_acknowledgement_recorded_before_heard_asked_how_still_folds_without_a_method() {
    let old: Event = serde_json::from_str(r#"{"Acknowledged":{"on":"2026-11-17"}}"#).unwrap();
    assert_eq!(old, Event::Acknowledged { on: d("2026-11-17"), method: None });
    let complaint = given("2026-11-16", vec![old]);
    assert_eq!((complaint.stage, complaint.acknowledged_by), (Stage::Acknowledged, None));
    assert_eq!(complaint.clock.acknowledged, Some(d("2026-11-17")));
    let new = serde_json::to_string(&acknowledged("2026-11-17")[0]).unwrap();
    assert_eq!(new, r#"{"Acknowledged":{"on":"2026-11-17","method":"phone"}}"#);
}

#[test]
fn an_extension_recorded_before_heard_asked_whether_the_person_agreed_still_folds_and_moves_the_clock() {
    let old: Event = serde_json::from_str(r#"{"Extended":{"working_days":5,"reason":"more records"}}"#).unwrap();
    assert_eq!(old, Event::Extended { working_days: 5, reason: "more records".into(), person_agreed: None });
    let complaint = given("2026-10-01", [acknowledged("2026-10-02"), vec![old]].concat());
    assert_eq!(complaint.clock.extensions[0].person_agreed, None);
    assert_eq!(complaint.clock.response_period(), 25);
}

#[test]
fn extending_records_whether_the_person_agreed_and_moves_the_deadline_either_way() {
    let calendar = Calendar::england_and_wales();
    let open = given("2026-10-01", [acknowledged("2026-10-02"), vec![Event::InvestigationOpened]].concat());
    let due = open.reading(&calendar, d("2026-10-05")).unwrap().respond_by.unwrap();
    for agreed in [true, false] {
        let event = extend(&open, 5, "waiting for the prescriber's notes", agreed).unwrap();
        assert_eq!(
            event,
            Event::Extended {
                working_days: 5,
                reason: "waiting for the prescriber's notes".into(),
                person_agreed: Some(agreed)
            }
        );
        let mut extended = open.clone();
        extended.apply(&event);
        assert_eq!(extended.clock.extensions[0].person_agreed, Some(agreed));
        let moved = extended.reading(&calendar, d("2026-10-05")).unwrap().respond_by.unwrap();
        assert_eq!(moved, calendar.add_working_days(due, 5).unwrap(), "agreed: {agreed}");
    }
}

#[test]
fn an_agreed_period_replaces_the_twenty_days_and_an_extension_adds_to_whatever_period_applies() {
    let calendar = Calendar::england_and_wales();
    let received = d("2026-10-01");
    let agreed =
        given("2026-10-01", [acknowledged("2026-10-02"), vec![Event::PeriodAgreed { working_days: 30 }]].concat());
    let respond_by = |complaint: &Complaint| complaint.reading(&calendar, d("2026-10-05")).unwrap().respond_by.unwrap();
    assert_eq!(respond_by(&agreed), calendar.add_working_days(received, 30).unwrap(), "30 instead of 20, from receipt");
    let mut extended = agreed.clone();
    extended.apply(&extend(&agreed, 5, "records", true).unwrap());
    assert_eq!(respond_by(&extended), calendar.add_working_days(received, 35).unwrap(), "35 = 30 agreed + 5");
    let mut agreed_again = extended.clone();
    agreed_again.apply(&agree_period(&extended, 25).unwrap());
    assert_eq!(
        respond_by(&agreed_again),
        calendar.add_working_days(received, 30).unwrap(),
        "a new agreement replaces the period; the extension still adds to it"
    );
    let received_only = given("2026-10-01", vec![]);
    assert!(agree_period(&received_only, 30).is_ok(), "a period can be agreed before acknowledging");
    assert!(is_conflict(extend(&received_only, 5, "records", true)), "an extension needs an acknowledged complaint");
}

#[test]
fn a_complaint_is_assigned_only_to_a_complaints_handler_and_reassigned_to_someone_else() {
    let received = given("2026-11-16", vec![]);
    assert_eq!(received.handler, None, "nobody works it yet");
    assert_eq!(assign(&received, handler(7), true), Ok(Event::Assigned { to: handler(7) }));
    assert_eq!(field_of(assign(&received, handler(8), false)), "handlerId", "not a complaints handler");
    let assigned = given("2026-11-16", vec![Event::Assigned { to: handler(7) }]);
    assert_eq!(assigned.handler, Some(handler(7)));
    assert_eq!(field_of(assign(&assigned, handler(7), true)), "handlerId", "already with them");
    let reassigned = given("2026-11-16", vec![Event::Assigned { to: handler(7) }, Event::Assigned { to: handler(9) }]);
    assert_eq!(reassigned.handler, Some(handler(9)), "the last assignment counts");
    let closed = given("2026-11-16", vec![Event::OutcomeRecorded { outcome: Outcome::Withdrawn, on: d("2026-11-17") }]);
    assert!(is_conflict(assign(&closed, handler(7), true)));
}

#[test]
fn whoever_acknowledges_an_unassigned_complaint_works_it_but_an_assignment_stands() {
    let mut unassigned = given("2026-11-16", acknowledged("2026-11-17"));
    unassigned.acknowledged_by_handler(Some(handler(3)));
    assert_eq!(unassigned.handler, Some(handler(3)));
    let mut assigned =
        given("2026-11-16", [vec![Event::Assigned { to: handler(7) }], acknowledged("2026-11-17")].concat());
    assigned.acknowledged_by_handler(Some(handler(3)));
    assert_eq!(assigned.handler, Some(handler(7)), "acknowledging does not take it from the one it was assigned to");
    let mut later = given("2026-11-16", acknowledged("2026-11-17"));
    later.acknowledged_by_handler(Some(handler(3)));
    later.apply(&Event::Assigned { to: handler(7) });
    assert_eq!(later.handler, Some(handler(7)), "and it can be re-assigned after");
}

#[test]
fn the_route_is_chosen_after_acknowledgement_and_investigation_can_follow_early_resolution() {
    let received = given("2026-11-16", vec![]);
    assert!(is_conflict(choose_early_resolution(&received)));
    let early = given("2026-11-16", [acknowledged("2026-11-17"), vec![Event::EarlyResolutionChosen]].concat());
    assert!(is_conflict(choose_early_resolution(&early)));
    assert_eq!(open_investigation(&early), Ok(Event::InvestigationOpened));
}

#[test]
fn extensions_and_pauses_need_a_reason_and_an_acknowledged_open_complaint() {
    let received = given("2026-11-16", vec![]);
    assert!(is_conflict(extend(&received, 5, "notes", true)));
    let open = given("2026-11-16", [acknowledged("2026-11-17"), vec![Event::InvestigationOpened]].concat());
    assert_eq!(field_of(extend(&open, 5, "  ", true)), "reason");
    assert_eq!(field_of(extend(&open, 0, "notes", true)), "workingDays");
    assert!(extend(&open, 5, "waiting for the prescriber's notes", true).is_ok());
    let paused = given(
        "2026-11-16",
        [acknowledged("2026-11-17"), vec![Event::Paused { on: d("2026-11-18"), reason: "in hospital".into() }]]
            .concat(),
    );
    assert!(is_conflict(pause(&paused, d("2026-11-19"), "again", today())));
    assert!(is_conflict(respond(&paused, d("2026-11-20"), today())), "resume before responding");
    assert_eq!(field_of(resume(&paused, d("2026-11-17"), today())), "on");
    assert!(resume(&paused, d("2026-11-20"), today()).is_ok());
    assert!(is_conflict(resume(&open, d("2026-11-20"), today())), "not paused");
}

#[test]
fn the_clock_reflects_pauses_and_extensions() {
    let calendar = Calendar::england_and_wales();
    let plain = given("2026-10-01", [acknowledged("2026-10-02"), vec![Event::InvestigationOpened]].concat());
    let due = plain.reading(&calendar, d("2026-10-05")).unwrap().respond_by.unwrap();
    let changed = given(
        "2026-10-01",
        [
            acknowledged("2026-10-02"),
            vec![
                Event::InvestigationOpened,
                Event::Extended { working_days: 5, reason: "more records".into(), person_agreed: Some(true) },
                Event::Paused { on: d("2026-10-05"), reason: "complainant away".into() },
                Event::Resumed { on: d("2026-10-09") },
            ],
        ]
        .concat(),
    );
    let moved = changed.reading(&calendar, d("2026-10-09")).unwrap().respond_by.unwrap();
    assert_eq!(moved, calendar.add_working_days(due, 5 + 4).unwrap(), "5 extended and 4 paused (6–9 Oct)");
}

#[test]
fn a_response_comes_after_the_route_and_the_outcome_after_the_response() {
    let acknowledged_only = given("2026-11-02", acknowledged("2026-11-03"));
    assert!(is_conflict(respond(&acknowledged_only, d("2026-11-10"), today())));
    let investigating = given("2026-11-02", [acknowledged("2026-11-03"), vec![Event::InvestigationOpened]].concat());
    assert!(is_conflict(record_outcome(&investigating, Outcome::Upheld, d("2026-11-10"), today())));
    let responded = given(
        "2026-11-02",
        [acknowledged("2026-11-03"), vec![Event::InvestigationOpened, Event::ResponseIssued { on: d("2026-11-20") }]]
            .concat(),
    );
    assert!(record_outcome(&responded, Outcome::PartlyUpheld, d("2026-11-21"), today()).is_ok());
    assert_eq!(field_of(record_outcome(&responded, Outcome::ResolvedEarly, d("2026-11-21"), today())), "outcome");
}

#[test]
fn early_resolution_can_end_resolved_early_and_anything_open_can_be_withdrawn() {
    let early = given("2026-11-02", [acknowledged("2026-11-03"), vec![Event::EarlyResolutionChosen]].concat());
    assert!(record_outcome(&early, Outcome::ResolvedEarly, d("2026-11-05"), today()).is_ok());
    let received = given("2026-11-02", vec![]);
    assert!(record_outcome(&received, Outcome::Withdrawn, d("2026-11-05"), today()).is_ok());
    let closed = given("2026-11-02", vec![Event::OutcomeRecorded { outcome: Outcome::Withdrawn, on: d("2026-11-05") }]);
    assert!(is_conflict(record_outcome(&closed, Outcome::Withdrawn, d("2026-11-06"), today())));
    assert!(is_conflict(explain_delay(&closed, "late")));
}

#[test]
fn escalation_follows_the_response_and_needs_the_other_bodys_reference() {
    let open = given("2026-11-02", acknowledged("2026-11-03"));
    assert!(is_conflict(escalate(&open, EscalatedTo::Ombudsman, "PHSO-123")));
    let responded = given(
        "2026-11-02",
        [acknowledged("2026-11-03"), vec![Event::InvestigationOpened, Event::ResponseIssued { on: d("2026-11-20") }]]
            .concat(),
    );
    assert_eq!(field_of(escalate(&responded, EscalatedTo::Ombudsman, " ")), "reference");
    assert!(escalate(&responded, EscalatedTo::ProviderProcess, "CGL/2026/77").is_ok());
}

#[test]
fn learning_is_recorded_after_the_outcome_and_must_not_identify_anyone() {
    let open = given("2026-11-02", vec![]);
    assert!(is_conflict(record_learning(&open, "Offer evening appointments")));
    let closed = given("2026-11-02", vec![Event::OutcomeRecorded { outcome: Outcome::Withdrawn, on: d("2026-11-05") }]);
    assert!(record_learning(&closed, "Offer evening appointments for people in work").is_ok());
    assert_eq!(field_of(record_learning(&closed, "Call Sam on 07700 900123")), "statement");
    assert_eq!(field_of(record_learning(&closed, "Email sam@example.org")), "statement");
}

#[test]
fn a_complaint_open_six_months_must_carry_an_explanation() {
    let calendar = Calendar::england_and_wales();
    let old = given("2026-05-20", acknowledged("2026-05-21"));
    assert!(old.reading(&calendar, today()).unwrap().needs_explanation);
    assert!(explain_delay(&old, "the provider's investigator left; a new one started in October").is_ok());
    let recent = given("2026-06-01", acknowledged("2026-06-02"));
    assert!(!recent.reading(&calendar, today()).unwrap().needs_explanation);
}

/// Every command in every stage: `O` allowed, `C` refused as a conflict. Columns: received,
/// acknowledged, early resolution, investigation, paused, response issued, closed.
#[test]
fn every_command_in_every_stage_is_either_allowed_or_refused_as_a_conflict_with_a_message() {
    let on = d("2026-11-20");
    let stages: Vec<(&str, Complaint)> = vec![
        ("received", given("2026-11-02", vec![])),
        ("acknowledged", given("2026-11-02", acknowledged("2026-11-03"))),
        (
            "early resolution",
            given("2026-11-02", [acknowledged("2026-11-03"), vec![Event::EarlyResolutionChosen]].concat()),
        ),
        ("investigation", given("2026-11-02", [acknowledged("2026-11-03"), vec![Event::InvestigationOpened]].concat())),
        (
            "paused",
            given(
                "2026-11-02",
                [
                    acknowledged("2026-11-03"),
                    vec![Event::InvestigationOpened, Event::Paused { on: d("2026-11-05"), reason: "away".into() }],
                ]
                .concat(),
            ),
        ),
        (
            "response issued",
            given(
                "2026-11-02",
                [
                    acknowledged("2026-11-03"),
                    vec![Event::InvestigationOpened, Event::ResponseIssued { on: d("2026-11-19") }],
                ]
                .concat(),
            ),
        ),
        (
            "closed",
            given(
                "2026-11-02",
                [
                    acknowledged("2026-11-03"),
                    vec![
                        Event::InvestigationOpened,
                        Event::ResponseIssued { on: d("2026-11-19") },
                        Event::OutcomeRecorded { outcome: Outcome::Upheld, on: d("2026-11-19") },
                    ],
                ]
                .concat(),
            ),
        ),
    ];
    let commands: Vec<(&str, Command<Complaint, Event>, &str)> = vec![
        ("acknowledge", Box::new(move |c| acknowledge(c, AcknowledgementMethod::Email, on, today())), "OCCCCCC"),
        ("agree a period", Box::new(|c| agree_period(c, 30)), "OOOOOCC"),
        ("choose early resolution", Box::new(choose_early_resolution), "COCCCCC"),
        ("open an investigation", Box::new(open_investigation), "COOCCCC"),
        ("extend", Box::new(|c| extend(c, 5, "more records", false)), "COOOOCC"),
        ("pause", Box::new(move |c| pause(c, on, "away", today())), "COOOCCC"),
        ("resume", Box::new(move |c| resume(c, on, today())), "CCCCOCC"),
        ("respond", Box::new(move |c| respond(c, on, today())), "CCOOCCC"),
        ("record upheld", Box::new(move |c| record_outcome(c, Outcome::Upheld, on, today())), "CCCCCOC"),
        ("record withdrawn", Box::new(move |c| record_outcome(c, Outcome::Withdrawn, on, today())), "OOOOOOC"),
        ("escalate", Box::new(|c| escalate(c, EscalatedTo::Ombudsman, "PHSO-1")), "CCCCCOO"),
        ("explain a delay", Box::new(|c| explain_delay(c, "staff away")), "OOOOOOC"),
        ("record learning", Box::new(|c| record_learning(c, "Offer evening appointments")), "CCCCCCO"),
        ("assign", Box::new(|c| assign(c, Uuid::from_u128(7), true)), "OOOOOOC"),
    ];
    let wrong = conflicts_table_mismatches(&stages, &commands);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn dates_in_the_future_or_before_receipt_are_refused_naming_the_field() {
    let investigating = given("2026-11-02", [acknowledged("2026-11-03"), vec![Event::InvestigationOpened]].concat());
    let tomorrow = d("2026-11-24");
    assert_eq!(field_of(respond(&investigating, tomorrow, today())), "on");
    assert_eq!(field_of(pause(&investigating, d("2026-11-01"), "away", today())), "on");
    assert_eq!(field_of(record_outcome(&investigating, Outcome::Withdrawn, tomorrow, today())), "on");
    assert_eq!(field_of(agree_period(&investigating, 0)), "workingDays");
    assert_eq!(field_of(agree_period(&investigating, 131)), "workingDays");
    let future = receive(
        Uuid::nil(),
        "exact",
        "cri",
        None,
        &[1],
        &articles(),
        Complainant::Anonymous,
        Route::Direct,
        None,
        tomorrow,
        today(),
    );
    assert_eq!(field_of(future), "receivedOn");
}

#[test]
fn what_commissioning_reads_of_a_complaint_decodes_from_what_is_appended() {
    use heard_contracts::rights as contract;
    let received = received_event("2026-11-02");
    let read: contract::ComplaintReceived =
        heard_contracts::decode("ComplaintReceived", &serde_json::to_vec(&received).unwrap()).unwrap();
    let Event::Received { provider, articles, .. } = received else { unreachable!() };
    assert_eq!((read.received.provider, read.received.articles), (provider, articles));
    let learning = Event::LearningRecorded { statement: "Explain the reasons for a reduced dose".into() };
    let read: contract::ComplaintLearningRecorded =
        heard_contracts::decode("ComplaintLearningRecorded", &serde_json::to_vec(&learning).unwrap()).unwrap();
    assert_eq!(read.learning.statement, "Explain the reasons for a reduced dose");
}
