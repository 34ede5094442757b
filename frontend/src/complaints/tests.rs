//! The complaints pages' own checks: raising, the steps, and the queue's order.

use super::*;
use crate::forms::testing::fields;

fn filled() -> RaiseForm {
    RaiseForm {
        provider: "addaction".into(),
        service: " the Crawley needle exchange ".into(),
        articles: vec!["5".into(), "3".into()],
        what_happened: " My script was cut without a review. ".into(),
        outcome_wanted: "A review meeting".into(),
        route: "HUB".into(),
        complainant_kind: "ANONYMOUS".into(),
        complainant_name: String::new(),
        complainant_contact: String::new(),
        received_on: "2026-01-12".into(),
        once: String::new(),
    }
}

fn today() -> jiff::civil::Date {
    "2026-02-02".parse().unwrap()
}

#[test]
fn an_empty_complaint_names_every_missing_answer_in_page_order() {
    let errors = RaiseForm::default().check(today(), false);
    assert_eq!(
        fields(&errors),
        ["provider", "articles", "what_happened", "outcome_wanted", "route", "complainant_kind"]
    );
}

#[test]
fn a_complete_anonymous_complaint_becomes_the_raise_complaint_input() {
    let form = filled();
    assert!(form.check(today(), false).is_empty());
    assert_eq!(
        form.input(),
        json!({
            "charter": "exact", "provider": "addaction", "service": "the Crawley needle exchange",
            "articles": [3, 5], "complainantKind": "ANONYMOUS", "complainantName": null,
            "complainantContact": null, "route": "HUB", "whatHappened": "My script was cut without a review.",
            "outcomeWanted": "A review meeting", "receivedOn": "2026-01-12",
        })
    );
}

#[test]
fn a_named_complaint_needs_a_name_and_keeps_the_contact_details() {
    let mut form = RaiseForm { complainant_kind: "NAMED".into(), ..filled() };
    assert_eq!(fields(&form.check(today(), false)), ["complainant_name"]);
    form.complainant_name = "Jo".into();
    form.complainant_contact = "07700 900000".into();
    assert!(form.check(today(), false).is_empty());
    assert_eq!(form.input()["complainantName"], "Jo");
    assert_eq!(form.input()["complainantContact"], "07700 900000");
}

#[test]
fn an_anonymous_complaint_refuses_a_name_rather_than_silently_dropping_it() {
    let form = RaiseForm { complainant_name: "Jo".into(), complainant_contact: "jo@example.org".into(), ..filled() };
    assert_eq!(fields(&form.check(today(), false)), ["complainant_name", "complainant_contact"]);
}

#[test]
fn only_an_advocate_can_pass_a_complaint_on_as_its_advocate() {
    let form = RaiseForm { complainant_kind: "RELAYED_BY_ADVOCATE".into(), route: "ADVOCATE".into(), ..filled() };
    assert_eq!(fields(&form.check(today(), false)), ["complainant_kind"]);
    assert!(form.check(today(), true).is_empty());
    assert!(form.input().get("advocateId").is_none(), "the API takes the advocate to be the one recording it");
}

#[test]
fn a_received_date_must_be_a_real_day_not_in_the_future_and_may_be_left_empty() {
    let future = RaiseForm { received_on: "2026-02-03".into(), ..filled() };
    assert_eq!(fields(&future.check(today(), false)), ["received_on"]);
    let wrong = RaiseForm { received_on: "31/02/2026".into(), ..filled() };
    assert_eq!(fields(&wrong.check(today(), false)), ["received_on"]);
    let uk = RaiseForm { received_on: "31/01/2026".into(), ..filled() };
    assert!(uk.check(today(), false).is_empty(), "a day as people in the UK write it is taken");
    let empty = RaiseForm { received_on: String::new(), ..filled() };
    assert!(empty.check(today(), false).is_empty());
    assert_eq!(empty.input()["receivedOn"], Value::Null);
}

#[test]
fn the_answers_survive_the_trip_through_check_your_answers() {
    let form = RaiseForm { complainant_kind: "NAMED".into(), complainant_name: "Jo".into(), ..filled() };
    let pairs: Vec<(String, String)> = form.pairs().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    assert_eq!(RaiseForm::from_pairs(&pairs), form);
}

#[test]
fn api_errors_sit_beside_the_fields_they_name_or_at_the_top() {
    let errors = api_errors(
        &[
            (Some("complainantName".into()), None, "complainantName: this cannot be empty".into()),
            (Some("articles[0]".into()), None, "articles[0]: the charter has no such article".into()),
            (None, Some("CONFLICT".into()), "someone else changed this at the same time".into()),
            (Some("charter".into()), None, "charter: there is no such charter".into()),
        ],
        &RAISE_FIELDS,
    );
    assert_eq!(fields(&errors), ["complainant_name", "articles", "", ""]);
    assert_eq!(errors.of("complainant_name"), Some("This cannot be empty"));
}

#[test]
fn a_step_page_checks_its_answers_before_asking_the_api() {
    let empty = StepForm::default();
    assert_eq!(
        fields(&step_request(Step::Extend, "c1", &empty).unwrap_err()),
        ["working_days", "reason", "person_agreed"]
    );
    assert_eq!(fields(&step_request(Step::Period, "c1", &empty).unwrap_err()), ["working_days"]);
    assert_eq!(fields(&step_request(Step::Escalate, "c1", &empty).unwrap_err()), ["to", "reference"]);
    assert_eq!(fields(&step_request(Step::Outcome, "c1", &empty).unwrap_err()), ["outcome"]);
    assert_eq!(fields(&step_request(Step::Learning, "c1", &empty).unwrap_err()), ["statement"]);
    assert_eq!(fields(&step_request(Step::Delay, "c1", &empty).unwrap_err()), ["reason"]);
    assert_eq!(fields(&step_request(Step::Acknowledge, "c1", &empty).unwrap_err()), ["how"]);
    assert_eq!(fields(&step_request(Step::Assign, "c1", &empty).unwrap_err()), ["handler_id"]);
    assert!(step_request(Step::Investigate, "c1", &empty).is_ok());
}

#[test]
fn each_step_becomes_its_mutation_with_trimmed_answers() {
    let form = StepForm {
        working_days: " 10 ".into(),
        reason: " On leave ".into(),
        person_agreed: "NO".into(),
        ..StepForm::default()
    };
    let extend = step_request(Step::Extend, "c1", &form).unwrap();
    assert!(extend.query.contains("extendComplaint"));
    assert_eq!(extend.variables, json!({ "id": "c1", "d": 10, "r": "On leave", "a": false }));
    let agreed = StepForm { person_agreed: "YES".into(), ..form.clone() };
    assert_eq!(step_request(Step::Extend, "c1", &agreed).unwrap().variables["a"], true);
    let forged = StepForm { person_agreed: "MAYBE".into(), ..form.clone() };
    assert_eq!(fields(&step_request(Step::Extend, "c1", &forged).unwrap_err()), ["person_agreed"]);
    let period = step_request(Step::Period, "c1", &form).unwrap();
    assert!(period.query.contains("agreeComplaintPeriod"));
    let escalate = StepForm { to: "OMBUDSMAN".into(), reference: " PHSO-1 ".into(), ..StepForm::default() };
    let escalate = step_request(Step::Escalate, "c1", &escalate).unwrap();
    assert_eq!(escalate.variables, json!({ "id": "c1", "t": "OMBUDSMAN", "r": "PHSO-1" }));
    let days =
        StepForm { working_days: "ten".into(), reason: "x".into(), person_agreed: "YES".into(), ..StepForm::default() };
    assert_eq!(fields(&step_request(Step::Extend, "c1", &days).unwrap_err()), ["working_days"]);
}

#[test]
fn the_steps_offered_follow_the_complaints_stage() {
    assert_eq!(
        steps_for("RECEIVED", false),
        [Step::Acknowledge, Step::Period, Step::Outcome, Step::Delay, Step::Assign]
    );
    assert_eq!(
        steps_for("INVESTIGATION", false),
        [Step::Respond, Step::Period, Step::Extend, Step::Pause, Step::Outcome, Step::Delay, Step::Assign]
    );
    assert_eq!(
        steps_for("INVESTIGATION", true),
        [Step::Resume, Step::Period, Step::Extend, Step::Outcome, Step::Delay, Step::Assign]
    );
    assert_eq!(steps_for("RESPONSE_ISSUED", false), [Step::Outcome, Step::Escalate, Step::Delay, Step::Assign]);
    assert_eq!(steps_for("CLOSED", false), [Step::Escalate, Step::Learning]);
    for step in STEPS {
        assert_eq!(Step::from_slug(step.slug()), Some(step));
    }
}

#[test]
fn only_a_complaint_with_a_response_can_be_upheld_and_only_early_resolution_resolves_early() {
    let values = |options: Vec<(String, String)>| options.into_iter().map(|(v, _)| v).collect::<Vec<_>>();
    assert_eq!(values(outcome_options("INVESTIGATION", false)), ["WITHDRAWN"]);
    assert_eq!(values(outcome_options("EARLY_RESOLUTION", true)), ["RESOLVED_EARLY", "WITHDRAWN"]);
    assert_eq!(
        values(outcome_options("RESPONSE_ISSUED", false)),
        ["UPHELD", "PARTLY_UPHELD", "NOT_UPHELD", "WITHDRAWN"]
    );
}

#[test]
fn the_most_urgent_complaint_comes_first_and_paused_ones_last() {
    let mut complaints: Vec<Complaint> = serde_json::from_value(json!([
        { "id": "paused", "receivedOn": "2026-01-01", "clock": { "workingDaysLeft": null } },
        { "id": "later", "receivedOn": "2026-01-05", "clock": { "workingDaysLeft": 7 } },
        { "id": "overdue", "receivedOn": "2026-01-09", "clock": { "workingDaysLeft": -2 } },
    ]))
    .unwrap();
    by_urgency(&mut complaints);
    let ids: Vec<&str> = complaints.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["overdue", "later", "paused"]);
}

#[test]
fn acknowledging_sends_how_and_the_day_typed_either_way_or_today_when_left_empty() {
    let form = |how: &str, on: &str| StepForm { how: how.into(), on: on.into(), ..StepForm::default() };
    let typed = step_request(Step::Acknowledge, "c1", &form("PHONE", " 4/12/2026 ")).unwrap();
    assert!(typed.query.contains("acknowledgeComplaint(id: $id, how: $how, on: $on)"));
    assert_eq!(typed.variables, json!({ "id": "c1", "how": "PHONE", "on": "2026-12-04" }));
    let picked = step_request(Step::Acknowledge, "c1", &form("TEXT_MESSAGE", "2026-12-04")).unwrap();
    assert_eq!(picked.variables["on"], "2026-12-04");
    let today = step_request(Step::Acknowledge, "c1", &form("LETTER", "")).unwrap();
    assert_eq!(today.variables["on"], Value::Null, "the API takes today");
}

#[test]
fn an_acknowledgement_needs_a_listed_way_and_a_real_day_each_refused_beside_its_field() {
    let form = StepForm { how: "CARRIER_PIGEON".into(), on: "30/02/2026".into(), ..StepForm::default() };
    let errors = step_request(Step::Acknowledge, "c1", &form).unwrap_err();
    assert_eq!(fields(&errors), ["how", "on"]);
    assert_eq!(errors.of("on"), Some("30 February 2026 does not exist"), "in the words every page uses");
}

fn complaint(value: Value) -> Complaint {
    serde_json::from_value(value).unwrap()
}

#[test]
fn the_history_says_how_and_when_it_was_acknowledged_and_whether_the_person_agreed_to_each_extension() {
    assert_eq!(acknowledged_words("PHONE", "2026-12-04"), "Acknowledged by phone on 4 December 2026");
    assert_eq!(acknowledged_words("IN_PERSON", "2026-12-04"), "Acknowledged in person on 4 December 2026");
    assert_eq!(
        acknowledged_words("", "2026-12-04"),
        "Acknowledged on 4 December 2026",
        "recorded before Heard asked how"
    );
    let recorded = complaint(json!({
        "id": "c1", "receivedOn": "2026-12-01", "stage": "INVESTIGATION", "acknowledgedHow": "EMAIL",
        "clock": { "acknowledgedOn": "2026-12-02", "acknowledgeBy": "2026-12-04" },
        "extensions": [
            { "workingDays": 5, "reason": "Records requested.", "personAgreed": true },
            { "workingDays": 1, "reason": "Staff away", "personAgreed": false },
            { "workingDays": 3, "reason": "Before Heard asked", "personAgreed": null },
        ],
    }));
    let history: Vec<String> = recorded.extensions.iter().map(extension_words).collect();
    assert_eq!(
        history,
        [
            "Extended by 5 working days: Records requested. The person agreed to wait.",
            "Extended by 1 working day: Staff away. The person did not agree to wait.",
            "Extended by 3 working days: Before Heard asked.",
        ]
    );
    let viewer = heard_api::Viewer::default();
    let page = complaint_summary(&viewer, &recorded, None).into_string();
    assert!(page.contains("Acknowledged by email on 2 December 2026"), "{page}");
    assert!(page.contains("Received 1 December 2026"), "{page}");
    assert!(page.contains("4 December 2026 (acknowledged by email on 2 December 2026)"), "{page}");
}

#[test]
fn mine_is_a_tab_only_for_complaints_handlers() {
    assert_eq!(Tab::from_query(Some("mine"), true), Tab::Mine);
    assert_eq!(Tab::from_query(Some("mine"), false), Tab::Open, "anyone else gets the open tab");
    assert_eq!(Tab::from_query(Some("closed"), false), Tab::Closed);
    assert_eq!(Tab::from_query(Some("<script>"), true), Tab::Open);
    assert_eq!(Tab::from_query(None, true), Tab::Open);
}

#[test]
fn the_team_is_listed_by_name_with_you_marked_and_whoever_works_a_complaint_named() {
    let found = vec![
        Handler { id: "a".into(), display_name: "Ash".into() },
        Handler { id: "me".into(), display_name: "Kim".into() },
    ];
    let names = named_handlers(found, "me");
    assert_eq!(names, [("a".to_owned(), "Ash".to_owned()), ("me".to_owned(), "Kim (you)".to_owned())]);
    assert_eq!(handler_words(Some("a"), &names), "Ash");
    assert_eq!(handler_words(None, &names), "Nobody yet");
    assert_eq!(handler_words(Some("gone"), &names), "Someone no longer in the complaints team");
}

#[test]
fn assigning_offers_the_rest_of_the_team_by_name_with_nobody_chosen_in_advance() {
    let with_ash = complaint(json!({ "id": "c1", "stage": "ACKNOWLEDGED", "handlerId": "a" }));
    let team = [
        ("a".to_owned(), "Ash".to_owned()),
        ("b".to_owned(), "Bo".to_owned()),
        ("me".to_owned(), "Kim (you)".to_owned()),
    ];
    let form = StepForm::default();
    let page = StepPage {
        id: "c1",
        step: Step::Assign,
        complaint: &with_ash,
        form: &form,
        handlers: Some(&team),
        me: Some("me"),
    };
    let html = step_fields(&page, &Errors::default()).into_string();
    assert!(html.contains(r#"<label for="handler_id">Who should work on it?</label>"#), "{html}");
    assert!(html.contains(r#"<option value="" selected>Choose a handler</option>"#), "{html}");
    assert!(
        html.contains(r#"<option value="b">Bo</option>"#) && html.contains(r#"<option value="me">Kim (you)</option>"#)
    );
    assert!(!html.contains(">Ash<"), "not the one it is already with: {html}");
    let alone = [("a".to_owned(), "Ash".to_owned())];
    let page = StepPage { handlers: Some(&alone), ..page };
    assert!(step_fields(&page, &Errors::default()).into_string().contains("nobody else in the complaints team"));
    let unread = StepPage { handlers: None, ..page };
    assert!(step_fields(&unread, &Errors::default()).into_string().contains("could not be read"));
    let with_me = complaint(json!({ "id": "c1", "stage": "ACKNOWLEDGED", "handlerId": "me" }));
    let mine = StepPage { complaint: &with_me, handlers: Some(&team), ..page };
    assert!(step_explanation(&mine).into_string().contains("It is with you now."));
}

#[test]
fn the_extension_asks_whether_the_person_agreed_with_neither_answer_chosen_in_advance() {
    let complaint = complaint(json!({ "id": "c1", "stage": "INVESTIGATION", "clock": { "responsePeriod": 20 } }));
    let form = StepForm::default();
    let page = StepPage { id: "c1", step: Step::Extend, complaint: &complaint, form: &form, handlers: None, me: None };
    let html = step_fields(&page, &Errors::default()).into_string();
    assert!(html.contains("Did the person who complained agree to wait longer?"), "{html}");
    assert!(html.contains(r#"value="YES""#) && html.contains(r#"value="NO""#));
    assert!(!html.contains("checked"), "nothing chosen in advance: {html}");
    let explained = step_explanation(&page).into_string();
    assert!(explained.contains("longer than the 20 working days that apply now"), "{explained}");
    let period = StepPage { step: Step::Period, ..page };
    assert!(step_explanation(&period).into_string().contains("replaces the 20 working days"));
}
