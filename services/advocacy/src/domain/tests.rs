//! Given / when / then for every transition of an advocacy case, every illegal one, and the
//! roll-up of systemic themes.

use std::collections::BTreeMap;

use heard_workdays::Period;
use jiff::civil::Date;
use uuid::Uuid;

use heard_contracts::testing::{conflict_of, field_and_message_of, field_of};

use super::case::*;
use super::rollup::{Dimension, systemic_themes};

fn d(text: &str) -> Date {
    text.parse().unwrap()
}

fn today() -> Date {
    d("2026-11-23")
}

fn client() -> Uuid {
    Uuid::parse_str("3f2a9c1e-0000-4000-8000-000000000001").unwrap()
}

fn advocate() -> Uuid {
    Uuid::from_u128(0xA1)
}

fn other_advocate() -> Uuid {
    Uuid::from_u128(0xA2)
}

fn worker() -> Uuid {
    Uuid::from_u128(0xB1)
}

fn known() -> Known {
    Known {
        themes: ["waiting-times", "respect", "housing-on-release"].map(str::to_owned).into(),
        providers: ["addaction", "cri"].map(str::to_owned).into(),
        articles: (1..=11).collect(),
        advocates: [advocate(), other_advocate()].into(),
    }
}

fn new_case<'a>() -> NewCase<'a> {
    NewCase {
        case: Uuid::from_u128(1),
        client: client(),
        linked_to: None,
        kind: AdvocacyKind::Instructed,
        source: ReferralSource::SelfReferral,
        domain: CaseDomain::PrescribingReview,
        themes: vec!["respect".into()],
        provider: Some("cri".into()),
        articles: vec![5],
        advocate: advocate(),
        referred_by: worker(),
        referred_on: d("2026-11-02"),
        pseudonym: Some("Jay".into()),
        name: None,
        contact: None,
        issue: "Wants a review of their methadone dose; the prescriber has not replied in six weeks.".into(),
    }
}

fn referred_event(kind: AdvocacyKind) -> Event {
    refer(NewCase { kind, ..new_case() }, &known(), today()).unwrap()
}

fn referral_data(kind: AdvocacyKind) -> Referred {
    match referred_event(kind) {
        Event::Referred(referred, _) => referred,
        other => panic!("expected a referral, got {other:?}"),
    }
}

/// Given an instructed case referred on 2026-11-02 and then `events`.
fn given(events: Vec<Event>) -> Case {
    given_kind(AdvocacyKind::Instructed, events)
}

fn given_kind(kind: AdvocacyKind, events: Vec<Event>) -> Case {
    let mut all = vec![referred_event(kind)];
    all.extend(events);
    Case::from_events(&all).unwrap()
}

fn accepted(on: &str) -> Event {
    Event::Accepted(Accepted { on: d(on), by: advocate() })
}

fn declined(on: &str) -> Event {
    Event::Declined(Declined { on: d(on), by: advocate() }, Some(DeclinedPersonal { reason: "out of area".into() }))
}

fn action(id: u128, on: &str) -> Event {
    Event::ActionRecorded(
        ActionRecorded { action: Uuid::from_u128(id), on: d(on), kind: ActionKind::Call, by: advocate() },
        Some(ActionPersonal { text: "Called the prescriber's team".into() }),
    )
}

fn consent(on: &str, scope: Option<ShareScope>) -> Event {
    Event::ConsentRecorded(ConsentRecorded { on: d(on), scope, by: advocate() })
}

fn closed(on: &str) -> Event {
    Event::Closed(
        Closed { on: d(on), outcome: CaseOutcome::Achieved, reason: ClosureReason::IssueResolved, by: advocate() },
        Some(ClosedPersonal { client_view: Some("I got my review".into()) }),
    )
}

fn reopened(on: &str) -> Event {
    Event::Reopened(Reopened { on: d(on), by: advocate() }, Some(ReopenedPersonal { reason: "dose cut again".into() }))
}

/// Accepted on the 3rd, one action on the 4th.
fn active() -> Vec<Event> {
    vec![accepted("2026-11-03"), action(10, "2026-11-04")]
}

/// Active, then closed on the 10th.
fn closed_case() -> Vec<Event> {
    [active(), vec![closed("2026-11-10")]].concat()
}

fn personal_of(event: &Event) -> ReferralPersonal {
    match event {
        Event::Referred(_, Some(personal)) => personal.clone(),
        other => panic!("expected a referral with its personal part, got {other:?}"),
    }
}

// Referral

#[test]
fn a_referral_names_the_field_that_is_wrong() {
    let known = known();
    let ask = |new: NewCase| field_of(refer(new, &known, today()));
    assert_eq!(ask(NewCase { issue: "  ".into(), ..new_case() }), "issue");
    assert_eq!(ask(NewCase { issue: "x".repeat(5001), ..new_case() }), "issue");
    assert_eq!(ask(NewCase { pseudonym: Some("x".repeat(61)), ..new_case() }), "pseudonym");
    assert_eq!(ask(NewCase { name: Some("x".repeat(201)), ..new_case() }), "name");
    assert_eq!(ask(NewCase { contact: Some("x".repeat(201)), ..new_case() }), "contact");
    assert_eq!(ask(NewCase { themes: vec!["respect".into(), "addiction".into()], ..new_case() }), "themes[1]");
    assert_eq!(ask(NewCase { provider: Some("acme".into()), ..new_case() }), "provider");
    assert_eq!(ask(NewCase { articles: vec![12], ..new_case() }), "articles[0]");
    assert_eq!(ask(NewCase { advocate: worker(), ..new_case() }), "advocateId");
    assert_eq!(ask(NewCase { referred_on: d("2026-11-24"), ..new_case() }), "referredOn");
    assert_eq!(ask(NewCase { referred_on: d("1999-12-31"), ..new_case() }), "referredOn");
}

#[test]
fn a_referral_tells_the_user_what_to_do() {
    let known = known();
    let ask = |new: NewCase| field_and_message_of(refer(new, &known, today())).1;
    assert_eq!(ask(NewCase { themes: vec!["addiction".into()], ..new_case() }), "there is no such theme");
    assert_eq!(ask(NewCase { articles: vec![0], ..new_case() }), "the charter has no such article");
    assert_eq!(ask(NewCase { advocate: worker(), ..new_case() }), "choose an advocate");
    assert_eq!(ask(NewCase { referred_on: d("2027-01-01"), ..new_case() }), "the date cannot be in the future");
}

#[test]
fn a_referral_keeps_the_personal_part_apart_from_the_case_data() {
    let new = NewCase {
        themes: vec![" respect ".into(), "waiting-times".into(), "respect".into()],
        provider: Some(" cri ".into()),
        articles: vec![5, 2, 5],
        name: Some("  Jay Smith ".into()),
        contact: Some("   ".into()),
        issue: "  Needs a dose review  ".into(),
        ..new_case()
    };
    let Event::Referred(referred, Some(personal)) = refer(new, &known(), today()).unwrap() else {
        panic!("expected a referral");
    };
    assert_eq!(referred.themes, ["respect", "waiting-times"].map(str::to_owned).into());
    assert_eq!(referred.provider.as_deref(), Some("cri"));
    assert_eq!(referred.articles, [2, 5].into());
    assert_eq!(referred.client, client());
    assert_eq!(referred.linked_to, None);
    assert_eq!(
        personal,
        ReferralPersonal {
            pseudonym: "Jay".into(),
            name: Some("Jay Smith".into()),
            contact: None,
            issue: "Needs a dose review".into(),
        }
    );
}

#[test]
fn a_referral_may_have_no_theme_no_provider_and_no_article() {
    let new = NewCase { themes: vec![], provider: Some(" ".into()), articles: vec![], ..new_case() };
    let Event::Referred(referred, _) = refer(new, &known(), today()).unwrap() else { panic!("expected a referral") };
    assert!(referred.themes.is_empty());
    assert_eq!(referred.provider, None);
    assert!(referred.articles.is_empty());
}

#[test]
fn a_client_who_chooses_no_pseudonym_is_called_client_and_the_start_of_their_id() {
    let absent = refer(NewCase { pseudonym: None, ..new_case() }, &known(), today()).unwrap();
    assert_eq!(personal_of(&absent).pseudonym, "Client 3F2A");
    let blank = refer(NewCase { pseudonym: Some("   ".into()), ..new_case() }, &known(), today()).unwrap();
    assert_eq!(personal_of(&blank).pseudonym, "Client 3F2A");
    let chosen = refer(NewCase { pseudonym: Some("  Jay ".into()), ..new_case() }, &known(), today()).unwrap();
    assert_eq!(personal_of(&chosen).pseudonym, "Jay");
    assert_eq!(default_pseudonym(Uuid::nil()), "Client 0000");
}

#[test]
fn a_further_issue_for_the_same_person_becomes_a_linked_case_sharing_the_client() {
    let first = given(active());
    let second = NewCase {
        case: Uuid::from_u128(2),
        linked_to: Some(&first),
        domain: CaseDomain::Housing,
        issue: "Facing eviction after a missed rent payment".into(),
        ..new_case()
    };
    let Event::Referred(referred, _) = refer(second, &known(), today()).unwrap() else {
        panic!("expected a referral");
    };
    assert_eq!(referred.linked_to, Some(first.id));
    assert_eq!(referred.client, first.client);
    let linked = Case::from_events(&[Event::Referred(referred, None)]).unwrap();
    assert_eq!(linked.client, first.client);
    assert_eq!(linked.linked_to, Some(first.id));
}

#[test]
fn a_linked_case_must_be_for_the_same_client_and_not_the_case_itself() {
    let first = given(vec![]);
    let someone_else =
        NewCase { case: Uuid::from_u128(2), client: Uuid::from_u128(99), linked_to: Some(&first), ..new_case() };
    assert_eq!(field_of(refer(someone_else, &known(), today())), "linkedTo");
    let itself = NewCase { linked_to: Some(&first), ..new_case() };
    assert_eq!(field_of(refer(itself, &known(), today())), "linkedTo");
}

// Acceptance and decline

#[test]
fn a_referred_case_can_be_accepted_once() {
    let referred = given(vec![]);
    assert_eq!(
        accept(&referred, advocate(), d("2026-11-03"), today()),
        Ok(Event::Accepted(Accepted { on: d("2026-11-03"), by: advocate() }))
    );
    let case = given(vec![accepted("2026-11-03")]);
    assert_eq!(case.state, CaseState::Accepted);
    assert_eq!(case.accepted_on, Some(d("2026-11-03")));
    assert_eq!(conflict_of(accept(&case, advocate(), d("2026-11-04"), today())), "this case has already been accepted");
    assert_eq!(
        conflict_of(accept(&given(active()), advocate(), d("2026-11-04"), today())),
        "this case has already been accepted"
    );
    assert!(!conflict_of(accept(&given(closed_case()), advocate(), d("2026-11-11"), today())).is_empty());
}

#[test]
fn dates_on_a_case_cannot_be_before_the_referral_or_in_the_future() {
    let referred = given(vec![]);
    assert_eq!(
        field_and_message_of(accept(&referred, advocate(), d("2026-11-01"), today())),
        ("on".to_owned(), "the date cannot be before the case was referred".to_owned())
    );
    assert_eq!(
        field_and_message_of(accept(&referred, advocate(), d("2026-11-24"), today())),
        ("on".to_owned(), "the date cannot be in the future".to_owned())
    );
    assert!(accept(&referred, advocate(), d("2026-11-02"), today()).is_ok(), "the referral day itself is fine");
    assert!(accept(&referred, advocate(), today(), today()).is_ok(), "today is fine");
    assert_eq!(field_of(decline(&referred, advocate(), d("2026-11-01"), "out of area", today())), "on");
    let open = given(active());
    let action_on =
        |on: &str| record_action(&open, Uuid::from_u128(11), advocate(), d(on), ActionKind::Note, "n", today());
    assert_eq!(
        field_and_message_of(action_on("2026-11-24")),
        ("on".to_owned(), "the date of the action cannot be in the future (after 23 November 2026)".to_owned())
    );
    assert_eq!(
        field_and_message_of(action_on("2026-11-01")),
        (
            "on".to_owned(),
            "the date of the action cannot be before the case was referred on 2 November 2026".to_owned()
        )
    );
    assert!(action_on("2026-11-02").is_ok(), "an action on the referral day itself is fine");
    assert_eq!(
        field_of(record_consent(&open, advocate(), d("2026-10-01"), Some(ShareScope::AdvocateOnly), today())),
        "on"
    );
    assert_eq!(
        field_of(close(
            &open,
            advocate(),
            d("2026-11-24"),
            CaseOutcome::Achieved,
            ClosureReason::IssueResolved,
            Some("ok"),
            today()
        )),
        "on"
    );
    assert_eq!(field_of(reopen(&given(closed_case()), advocate(), d("2026-11-24"), "again", today())), "on");
}

#[test]
fn a_declined_case_cannot_be_accepted_and_says_to_refer_it_again() {
    let case = given(vec![declined("2026-11-03")]);
    assert_eq!(case.state, CaseState::Declined);
    assert!(!case.is_open());
    assert_eq!(
        conflict_of(accept(&case, advocate(), d("2026-11-04"), today())),
        "this case was declined; refer it again if things have changed"
    );
}

#[test]
fn a_referred_case_can_be_declined_once_with_a_reason() {
    let referred = given(vec![]);
    assert_eq!(
        decline(&referred, advocate(), d("2026-11-03"), "  lives outside the county ", today()),
        Ok(Event::Declined(
            Declined { on: d("2026-11-03"), by: advocate() },
            Some(DeclinedPersonal { reason: "lives outside the county".into() })
        ))
    );
    assert_eq!(field_of(decline(&referred, advocate(), d("2026-11-03"), " ", today())), "reason");
    assert_eq!(field_of(decline(&referred, advocate(), d("2026-11-03"), &"x".repeat(1001), today())), "reason");
    let case = given(vec![declined("2026-11-03")]);
    assert_eq!(case.declined.as_ref().map(|(declined, _)| declined.on), Some(d("2026-11-03")));
    assert!(!conflict_of(decline(&case, advocate(), d("2026-11-04"), "again", today())).is_empty());
}

#[test]
fn an_accepted_active_or_closed_case_cannot_be_declined() {
    for events in [vec![accepted("2026-11-03")], active(), closed_case()] {
        let case = given(events);
        assert!(!conflict_of(decline(&case, advocate(), d("2026-11-20"), "changed our minds", today())).is_empty());
    }
}

// Actions

#[test]
fn the_first_action_on_an_accepted_case_makes_it_active() {
    let case = given(vec![accepted("2026-11-03")]);
    let event = record_action(
        &case,
        Uuid::from_u128(10),
        advocate(),
        d("2026-11-04"),
        ActionKind::AccompaniedAppointment,
        "  Went with Jay to the prescribing review ",
        today(),
    )
    .unwrap();
    assert_eq!(
        event,
        Event::ActionRecorded(
            ActionRecorded {
                action: Uuid::from_u128(10),
                on: d("2026-11-04"),
                kind: ActionKind::AccompaniedAppointment,
                by: advocate()
            },
            Some(ActionPersonal { text: "Went with Jay to the prescribing review".into() })
        )
    );
    let active = given(vec![accepted("2026-11-03"), event]);
    assert_eq!(active.state, CaseState::Active);
    assert_eq!(active.actions.len(), 1);
    let more = record_action(
        &active,
        Uuid::from_u128(11),
        advocate(),
        d("2026-11-05"),
        ActionKind::Letter,
        "Wrote to the GP",
        today(),
    );
    assert!(more.is_ok(), "an active case takes more actions");
}

#[test]
fn an_action_needs_a_note_and_is_recorded_once() {
    let case = given(active());
    let record = |id: u128, text: &str| {
        record_action(&case, Uuid::from_u128(id), advocate(), d("2026-11-05"), ActionKind::Note, text, today())
    };
    assert_eq!(field_of(record(11, "  ")), "text");
    assert_eq!(field_of(record(11, &"x".repeat(10_001))), "text");
    assert!(record(11, &"x".repeat(10_000)).is_ok());
    assert_eq!(conflict_of(record(10, "the same action again")), "this action is already recorded");
}

#[test]
fn actions_are_refused_before_acceptance_after_decline_and_once_closed() {
    let record = |case: &Case| {
        record_action(case, Uuid::from_u128(11), advocate(), d("2026-11-20"), ActionKind::Call, "Called", today())
    };
    assert_eq!(conflict_of(record(&given(vec![]))), "accept the case before recording actions");
    assert_eq!(
        conflict_of(record(&given(vec![declined("2026-11-03")]))),
        "this case was declined; refer it again if things have changed"
    );
    assert_eq!(conflict_of(record(&given(closed_case()))), "this case is closed; reopen it to record more");
}

// Consent

#[test]
fn consent_can_be_recorded_changed_and_withdrawn() {
    let referred = given(vec![]);
    assert_eq!(
        record_consent(&referred, advocate(), d("2026-11-02"), Some(ShareScope::AdvocateOnly), today()),
        Ok(consent("2026-11-02", Some(ShareScope::AdvocateOnly)))
    );
    let given_once = given(vec![consent("2026-11-02", Some(ShareScope::AdvocateOnly))]);
    assert_eq!(given_once.consent_in_force(), Some(ShareScope::AdvocateOnly));
    assert_eq!(
        conflict_of(record_consent(&given_once, advocate(), d("2026-11-03"), Some(ShareScope::AdvocateOnly), today())),
        "this consent is already recorded"
    );
    assert!(record_consent(&given_once, advocate(), d("2026-11-03"), Some(ShareScope::NamedServices), today()).is_ok());
    assert!(record_consent(&given_once, advocate(), d("2026-11-03"), None, today()).is_ok());

    let changed = given(vec![
        consent("2026-11-02", Some(ShareScope::AdvocateOnly)),
        accepted("2026-11-03"),
        consent("2026-11-04", Some(ShareScope::AllServicesInvolved)),
        consent("2026-11-05", None),
    ]);
    assert_eq!(changed.consent_in_force(), None);
    assert_eq!(changed.consent.as_ref().map(|consent| consent.on), Some(d("2026-11-05")));
    assert_eq!(changed.consent_history.len(), 3);
    assert_eq!(changed.consent_history[1].scope, Some(ShareScope::AllServicesInvolved));
    assert!(record_consent(&changed, advocate(), d("2026-11-06"), Some(ShareScope::NamedServices), today()).is_ok());
}

#[test]
fn there_must_be_consent_in_force_to_withdraw_it() {
    let never = given(vec![]);
    assert_eq!(
        conflict_of(record_consent(&never, advocate(), d("2026-11-03"), None, today())),
        "there is no consent in force to withdraw"
    );
    let withdrawn = given(vec![consent("2026-11-02", Some(ShareScope::NamedServices)), consent("2026-11-03", None)]);
    assert_eq!(
        conflict_of(record_consent(&withdrawn, advocate(), d("2026-11-04"), None, today())),
        "there is no consent in force to withdraw"
    );
}

#[test]
fn consent_can_be_withdrawn_but_not_recorded_on_a_closed_or_declined_case() {
    let closed = given([vec![consent("2026-11-02", Some(ShareScope::NamedServices))], closed_case()].concat());
    assert!(
        !conflict_of(record_consent(&closed, advocate(), d("2026-11-20"), Some(ShareScope::AdvocateOnly), today()))
            .is_empty()
    );
    assert!(record_consent(&closed, advocate(), d("2026-11-20"), None, today()).is_ok());
    let declined = given(vec![consent("2026-11-02", Some(ShareScope::NamedServices)), declined("2026-11-03")]);
    assert!(
        !conflict_of(record_consent(&declined, advocate(), d("2026-11-20"), Some(ShareScope::AdvocateOnly), today()))
            .is_empty()
    );
    assert!(record_consent(&declined, advocate(), d("2026-11-20"), None, today()).is_ok());
}

// Closure

#[test]
fn an_accepted_or_active_case_can_be_closed_with_its_outcome() {
    for events in [vec![accepted("2026-11-03")], active()] {
        let case = given(events);
        assert_eq!(
            close(
                &case,
                advocate(),
                d("2026-11-10"),
                CaseOutcome::PartlyAchieved,
                ClosureReason::IssueResolved,
                Some(" Better than before "),
                today()
            ),
            Ok(Event::Closed(
                Closed {
                    on: d("2026-11-10"),
                    outcome: CaseOutcome::PartlyAchieved,
                    reason: ClosureReason::IssueResolved,
                    by: advocate()
                },
                Some(ClosedPersonal { client_view: Some("Better than before".into()) })
            ))
        );
    }
    let case = given(closed_case());
    assert_eq!(case.state, CaseState::Closed);
    assert!(!case.is_open());
    assert_eq!(case.closed_on(), Some(d("2026-11-10")));
    assert_eq!(case.current_closure().map(|(closed, _)| closed.outcome), Some(CaseOutcome::Achieved));
}

#[test]
fn a_case_is_closed_only_after_acceptance_and_only_once() {
    let close_it = |case: &Case| {
        close(
            case,
            advocate(),
            d("2026-11-20"),
            CaseOutcome::NotKnown,
            ClosureReason::LostContact,
            Some("n/a"),
            today(),
        )
    };
    assert_eq!(conflict_of(close_it(&given(vec![]))), "accept or decline the case first");
    assert_eq!(conflict_of(close_it(&given(closed_case()))), "this case is already closed");
    assert_eq!(
        conflict_of(close_it(&given(vec![declined("2026-11-03")]))),
        "this case was declined; refer it again if things have changed"
    );
}

#[test]
fn instructed_advocacy_needs_the_clients_own_view_of_the_outcome() {
    let case = given(active());
    let close_with = |view: Option<&str>| {
        close(&case, advocate(), d("2026-11-10"), CaseOutcome::Achieved, ClosureReason::IssueResolved, view, today())
    };
    assert_eq!(
        field_and_message_of(close_with(None)),
        ("clientView".to_owned(), "record the client's own view of the outcome".to_owned())
    );
    assert_eq!(field_of(close_with(Some("   "))), "clientView");
    assert_eq!(field_of(close_with(Some(&"x".repeat(2001)))), "clientView");
    assert!(close_with(Some(&"x".repeat(2000))).is_ok());
}

#[test]
fn a_client_of_non_instructed_advocacy_may_give_no_view_of_the_outcome() {
    let case = given_kind(AdvocacyKind::NonInstructed, active());
    let closing =
        close(&case, advocate(), d("2026-11-10"), CaseOutcome::NotKnown, ClosureReason::ReferredOn, None, today());
    assert!(matches!(closing, Ok(Event::Closed(_, Some(ClosedPersonal { client_view: None })))));
    let with_view = close(
        &case,
        advocate(),
        d("2026-11-10"),
        CaseOutcome::Achieved,
        ClosureReason::IssueResolved,
        Some("Pleased"),
        today(),
    );
    assert!(matches!(with_view, Ok(Event::Closed(_, Some(ClosedPersonal { client_view: Some(_) })))));
    assert_eq!(
        field_of(close(
            &case,
            advocate(),
            d("2026-11-10"),
            CaseOutcome::Achieved,
            ClosureReason::Other,
            Some(&"x".repeat(2001)),
            today()
        )),
        "clientView"
    );
}

// Reopening

#[test]
fn a_closed_case_can_be_reopened_with_a_reason_and_closed_again() {
    let case = given(closed_case());
    assert_eq!(
        reopen(&case, advocate(), d("2026-11-15"), " the dose was cut again ", today()),
        Ok(Event::Reopened(
            Reopened { on: d("2026-11-15"), by: advocate() },
            Some(ReopenedPersonal { reason: "the dose was cut again".into() })
        ))
    );
    let reopened_case = given([closed_case(), vec![reopened("2026-11-15")]].concat());
    assert_eq!(reopened_case.state, CaseState::Active);
    assert!(reopened_case.is_open());
    assert_eq!(reopened_case.closed_on(), None);
    assert!(reopened_case.current_closure().is_none());
    assert_eq!(reopened_case.closures.len(), 1, "the first closure stays on record");
    assert!(
        record_action(
            &reopened_case,
            Uuid::from_u128(12),
            advocate(),
            d("2026-11-16"),
            ActionKind::Meeting,
            "Met again",
            today()
        )
        .is_ok()
    );
    let closing = close(
        &reopened_case,
        advocate(),
        d("2026-11-20"),
        CaseOutcome::NotAchieved,
        ClosureReason::ClientWithdrew,
        Some("Tired of it"),
        today(),
    )
    .unwrap();
    let closed_twice = given([closed_case(), vec![reopened("2026-11-15"), closing]].concat());
    assert_eq!(closed_twice.state, CaseState::Closed);
    assert_eq!(closed_twice.closures.len(), 2);
    assert_eq!(closed_twice.reopenings.len(), 1);
    assert_eq!(closed_twice.closed_on(), Some(d("2026-11-20")));
    assert_eq!(closed_twice.current_closure().map(|(closed, _)| closed.outcome), Some(CaseOutcome::NotAchieved));
    assert_eq!(closed_twice.revision, 5);
}

#[test]
fn only_a_closed_case_can_be_reopened() {
    for events in [vec![], vec![accepted("2026-11-03")], active()] {
        assert_eq!(
            conflict_of(reopen(&given(events), advocate(), d("2026-11-20"), "again", today())),
            "this case is open; only a closed case can be reopened"
        );
    }
    assert_eq!(
        conflict_of(reopen(&given(vec![declined("2026-11-03")]), advocate(), d("2026-11-20"), "again", today())),
        "this case was declined; refer it again if things have changed"
    );
}

#[test]
fn a_reopening_needs_a_reason_and_a_date_after_the_closure() {
    let case = given(closed_case());
    assert_eq!(field_of(reopen(&case, advocate(), d("2026-11-15"), "  ", today())), "reason");
    assert_eq!(field_of(reopen(&case, advocate(), d("2026-11-15"), &"x".repeat(1001), today())), "reason");
    assert_eq!(
        field_and_message_of(reopen(&case, advocate(), d("2026-11-09"), "again", today())),
        ("on".to_owned(), "the date cannot be before the case was closed".to_owned())
    );
    assert!(reopen(&case, advocate(), d("2026-11-10"), "again", today()).is_ok(), "the day it closed is fine");
}

#[test]
fn a_second_closure_cannot_be_dated_before_the_reopening() {
    let case = given([closed_case(), vec![reopened("2026-11-15")]].concat());
    assert_eq!(
        field_of(close(
            &case,
            advocate(),
            d("2026-11-14"),
            CaseOutcome::Achieved,
            ClosureReason::IssueResolved,
            Some("ok"),
            today()
        )),
        "on"
    );
}

// Assignment

#[test]
fn an_open_case_can_be_reassigned_to_another_known_advocate() {
    let known = known().advocates;
    let case = given(active());
    assert_eq!(
        assign(&case, worker(), other_advocate(), &known),
        Ok(Event::Assigned(Assigned { advocate: other_advocate(), by: worker() }))
    );
    let moved =
        given([active(), vec![Event::Assigned(Assigned { advocate: other_advocate(), by: worker() })]].concat());
    assert_eq!(moved.advocate, other_advocate());
    assert_eq!(moved.assignments.len(), 1);
    assert!(assign(&moved, worker(), advocate(), &known).is_ok(), "and back again");
    assert!(assign(&given(vec![]), worker(), other_advocate(), &known).is_ok(), "a referred case too");
}

#[test]
fn a_case_is_not_assigned_to_its_own_advocate_an_unknown_one_or_when_closed() {
    let known = known().advocates;
    let case = given(active());
    assert_eq!(
        conflict_of(assign(&case, worker(), advocate(), &known)),
        "this case is already assigned to that advocate"
    );
    assert_eq!(
        field_and_message_of(assign(&case, worker(), worker(), &known)),
        ("advocateId".to_owned(), "choose one of the advocates listed; that account is not an advocate".to_owned())
    );
    assert_eq!(conflict_of(assign(&given(closed_case()), worker(), other_advocate(), &known)), "this case is closed");
    assert_eq!(
        conflict_of(assign(&given(vec![declined("2026-11-03")]), worker(), other_advocate(), &known)),
        "this case is closed"
    );
}

// The fold

#[test]
fn a_case_starts_with_its_referral_and_counts_its_revision() {
    assert!(Case::from_events(&[]).is_none());
    assert!(Case::from_events(&[accepted("2026-11-03")]).is_none());
    let referred = given(vec![]);
    assert_eq!(referred.revision, 0);
    assert_eq!(referred.state, CaseState::Referred);
    assert!(referred.is_open());
    assert_eq!(referred.id, Uuid::from_u128(1));
    assert_eq!(referred.advocate, advocate());
    assert_eq!(referred.personal.as_ref().map(|p| p.pseudonym.as_str()), Some("Jay"));
    assert_eq!(given(closed_case()).revision, 3);
}

#[test]
fn a_case_whose_client_was_erased_folds_the_same_and_shows_nothing_personal() {
    let events = vec![
        Event::Referred(referral_data(AdvocacyKind::Instructed), None),
        Event::Accepted(Accepted { on: d("2026-11-03"), by: advocate() }),
        Event::ActionRecorded(
            ActionRecorded {
                action: Uuid::from_u128(10),
                on: d("2026-11-04"),
                kind: ActionKind::Letter,
                by: advocate(),
            },
            None,
        ),
        consent("2026-11-04", Some(ShareScope::NamedServices)),
        Event::Closed(
            Closed {
                on: d("2026-11-10"),
                outcome: CaseOutcome::Achieved,
                reason: ClosureReason::IssueResolved,
                by: advocate(),
            },
            None,
        ),
        Event::Reopened(Reopened { on: d("2026-11-12"), by: advocate() }, None),
    ];
    let case = Case::from_events(&events).unwrap();
    assert_eq!(case.state, CaseState::Active);
    assert_eq!(case.revision, 5);
    assert!(case.personal.is_none());
    assert_eq!(case.actions.len(), 1);
    assert!(case.actions[0].1.is_none());
    assert!(case.closures[0].1.is_none());
    assert!(case.reopenings[0].1.is_none());
    assert_eq!(case.consent_in_force(), Some(ShareScope::NamedServices));
    let declined = Case::from_events(&[
        Event::Referred(referral_data(AdvocacyKind::NonInstructed), None),
        Event::Declined(Declined { on: d("2026-11-03"), by: advocate() }, None),
    ])
    .unwrap();
    assert_eq!(declined.state, CaseState::Declined);
    assert_eq!(declined.declined, Some((Declined { on: d("2026-11-03"), by: advocate() }, None)));
}

#[test]
fn events_are_named_for_the_log() {
    let events = [
        referred_event(AdvocacyKind::Instructed),
        accepted("2026-11-03"),
        declined("2026-11-03"),
        action(1, "2026-11-04"),
        consent("2026-11-04", None),
        closed("2026-11-10"),
        reopened("2026-11-11"),
        Event::Assigned(Assigned { advocate: advocate(), by: worker() }),
    ];
    let names: Vec<&str> = events.iter().map(Event::event_type).collect();
    assert_eq!(
        names,
        [
            "CaseReferred",
            "CaseAccepted",
            "CaseDeclined",
            "CaseActionRecorded",
            "CaseConsentRecorded",
            "CaseClosed",
            "CaseReopened",
            "CaseAssigned"
        ]
    );
}

#[test]
fn every_choice_has_a_snake_case_label() {
    let labels: Vec<&str> = CaseDomain::ALL.iter().map(|domain| domain.as_str()).collect();
    assert_eq!(labels.len(), 10);
    assert_eq!(CaseDomain::CriminalJustice.as_str(), "criminal_justice");
    assert_eq!(ReferralSource::SelfReferral.as_str(), "self_referral");
    assert_eq!(AdvocacyKind::NonInstructed.as_str(), "non_instructed");
    assert_eq!(ActionKind::AccompaniedAppointment.as_str(), "accompanied_appointment");
    assert_eq!(ShareScope::AllServicesInvolved.as_str(), "all_services_involved");
    assert_eq!(CaseOutcome::PartlyAchieved.as_str(), "partly_achieved");
    assert_eq!(ClosureReason::ReferredOn.as_str(), "referred_on");
    assert_eq!(CaseState::ALL.map(CaseState::as_str), ["referred", "accepted", "declined", "active", "closed"]);
    let all_labels = [
        ReferralSource::ALL.map(ReferralSource::as_str).to_vec(),
        AdvocacyKind::ALL.map(AdvocacyKind::as_str).to_vec(),
        ActionKind::ALL.map(ActionKind::as_str).to_vec(),
        ShareScope::ALL.map(ShareScope::as_str).to_vec(),
        CaseOutcome::ALL.map(CaseOutcome::as_str).to_vec(),
        ClosureReason::ALL.map(ClosureReason::as_str).to_vec(),
        labels,
    ]
    .concat();
    assert!(all_labels.iter().all(|label| label.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
}

// The roll-up

/// A case for the roll-up, referred on `on`, with `then` after it.
fn rolled(
    id: u128,
    domain: CaseDomain,
    themes: &[&str],
    provider: Option<&str>,
    articles: &[u32],
    on: &str,
    then: Vec<Event>,
) -> Case {
    let referred = Referred {
        case: Uuid::from_u128(id),
        client: Uuid::from_u128(1000 + id),
        linked_to: None,
        kind: AdvocacyKind::Instructed,
        source: ReferralSource::Hub,
        domain,
        themes: themes.iter().map(|theme| theme.to_string()).collect(),
        provider: provider.map(str::to_owned),
        articles: articles.iter().copied().collect(),
        advocate: advocate(),
        referred_by: worker(),
        referred_on: d(on),
    };
    let mut events = vec![Event::Referred(referred, None)];
    events.extend(then);
    Case::from_events(&events).unwrap()
}

fn key(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|label| label.to_string()).collect()
}

fn rows(pairs: &[(&[&str], u64)]) -> BTreeMap<Vec<String>, u64> {
    pairs.iter().map(|(labels, count)| (key(labels), *count)).collect()
}

#[test]
fn a_case_counts_once_in_each_of_its_theme_and_article_rows() {
    let cases =
        [rolled(1, CaseDomain::Housing, &["respect", "waiting-times"], Some("cri"), &[2, 5], "2026-10-01", vec![])];
    assert_eq!(
        systemic_themes(&cases, &[Dimension::Theme, Dimension::Article], Period::Month, None, None),
        rows(&[
            (&["respect", "2"], 1),
            (&["respect", "5"], 1),
            (&["waiting-times", "2"], 1),
            (&["waiting-times", "5"], 1)
        ])
    );
}

#[test]
fn a_case_with_no_theme_provider_or_article_is_labelled_none() {
    let cases = [rolled(1, CaseDomain::Benefits, &[], None, &[], "2026-10-01", vec![])];
    assert_eq!(
        systemic_themes(
            &cases,
            &[Dimension::Theme, Dimension::Provider, Dimension::Article],
            Period::Month,
            None,
            None
        ),
        rows(&[(&["none", "none", "none"], 1)])
    );
}

#[test]
fn the_rollup_counts_cases_not_events_and_leaves_out_declined_cases() {
    let busy = [
        vec![accepted("2026-10-02")],
        (0..5).map(|n| action(100 + n, "2026-10-03")).collect(),
        vec![closed("2026-10-10"), reopened("2026-10-11"), closed("2026-10-12")],
    ]
    .concat();
    let cases = [
        rolled(1, CaseDomain::Housing, &["respect"], Some("cri"), &[5], "2026-10-01", busy),
        rolled(2, CaseDomain::Housing, &["respect"], Some("cri"), &[5], "2026-10-01", vec![]),
        rolled(3, CaseDomain::Housing, &["respect"], Some("cri"), &[5], "2026-10-01", vec![declined("2026-10-02")]),
    ];
    assert_eq!(systemic_themes(&cases, &[Dimension::Domain], Period::Month, None, None), rows(&[(&["housing"], 2)]));
    assert_eq!(systemic_themes(&cases, &[], Period::Month, None, None), rows(&[(&[], 2)]));
}

#[test]
fn without_dimensions_there_is_one_total_row_even_with_no_cases() {
    let none: [Case; 0] = [];
    assert_eq!(systemic_themes(&none, &[], Period::Year, None, None), rows(&[(&[], 0)]));
    assert!(systemic_themes(&none, &[Dimension::Domain], Period::Year, None, None).is_empty());
}

#[test]
fn the_rollup_counts_cases_referred_within_the_dates_given_and_labels_their_period() {
    let cases = [
        rolled(1, CaseDomain::Housing, &[], None, &[], "2026-06-30", vec![]),
        rolled(2, CaseDomain::Housing, &[], None, &[], "2026-07-01", vec![]),
        rolled(3, CaseDomain::Housing, &[], None, &[], "2026-09-30", vec![]),
        rolled(4, CaseDomain::Housing, &[], None, &[], "2026-10-01", vec![]),
        rolled(5, CaseDomain::Housing, &[], None, &[], "2026-12-31", vec![]),
        rolled(6, CaseDomain::Housing, &[], None, &[], "2027-01-01", vec![]),
    ];
    let within =
        systemic_themes(&cases, &[Dimension::Period], Period::Quarter, Some(d("2026-07-01")), Some(d("2026-12-31")));
    assert_eq!(within, rows(&[(&["2026-Q3"], 2), (&["2026-Q4"], 2)]));
    let from_only = systemic_themes(&cases, &[Dimension::Period], Period::Year, Some(d("2026-10-01")), None);
    assert_eq!(from_only, rows(&[(&["2026"], 2), (&["2027"], 1)]));
    let to_only = systemic_themes(&cases, &[Dimension::Period], Period::Month, None, Some(d("2026-07-01")));
    assert_eq!(to_only, rows(&[(&["2026-06"], 1), (&["2026-07"], 1)]));
}

#[test]
fn the_rollup_groups_by_several_dimensions_in_the_order_given() {
    let cases = [
        rolled(1, CaseDomain::Housing, &["respect"], Some("cri"), &[5], "2026-10-01", vec![]),
        rolled(2, CaseDomain::Housing, &[], Some("cri"), &[], "2026-10-15", vec![]),
        rolled(3, CaseDomain::PrescribingReview, &["waiting-times"], Some("addaction"), &[3], "2026-11-02", vec![]),
        rolled(4, CaseDomain::PrescribingReview, &[], None, &[], "2026-11-03", vec![]),
    ];
    assert_eq!(
        systemic_themes(
            &cases,
            &[Dimension::Domain, Dimension::Provider, Dimension::Period],
            Period::Month,
            None,
            None
        ),
        rows(&[
            (&["housing", "cri", "2026-10"], 2),
            (&["prescribing_review", "addaction", "2026-11"], 1),
            (&["prescribing_review", "none", "2026-11"], 1)
        ])
    );
    assert_eq!(
        systemic_themes(&cases, &[Dimension::Provider, Dimension::Domain], Period::Month, None, None),
        rows(&[
            (&["addaction", "prescribing_review"], 1),
            (&["cri", "housing"], 2),
            (&["none", "prescribing_review"], 1)
        ])
    );
}

#[test]
fn what_commissioning_reads_of_a_referral_decodes_from_what_is_appended() {
    let referred = referral_data(AdvocacyKind::Instructed);
    let read: heard_contracts::advocacy::CaseReferred =
        heard_contracts::decode("CaseReferred", &serde_json::to_vec(&referred).unwrap()).unwrap();
    assert_eq!(serde_json::to_value(referred.domain).unwrap(), serde_json::Value::String(read.domain));
}
