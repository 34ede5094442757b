//! The decision pages' own checks: the draft and its answers, the steps and their errors, the picker's words.

use super::*;
use crate::forms::testing::posted;

fn full() -> Draft {
    Draft {
        title: "Evening opening & weekend clinics".into(),
        service_area: "Adult treatment".into(),
        decided_by: "DAAT board".into(),
        decision_date: "2026-11-23".into(),
        ladder_rung: "6".into(),
        involvement: "Two peer representatives sat on the group; #1 ask was \"evenings\".".into(),
    }
}

#[test]
fn a_draft_survives_the_round_trip_through_a_change_link() {
    let draft = full();
    let query = draft.to_query();
    let back: Vec<(String, String)> = query
        .split('&')
        .map(|pair| {
            let (key, value) = pair.split_once('=').expect("key=value");
            (key.to_owned(), percent_decode(value))
        })
        .collect();
    assert_eq!(Draft::from_pairs(&back), draft);
    assert!(!query.contains(' ') && !query.contains('#') && !query.contains('"'), "{query}");
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).expect("hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn a_draft_read_from_a_form_keeps_only_its_own_fields() {
    let draft =
        Draft::from_pairs(&posted(&[("csrf_token", "x"), ("step", "check"), ("title", "A"), ("ladder_rung", "4")]));
    assert_eq!(draft, Draft { title: "A".into(), ladder_rung: "4".into(), ..Draft::default() });
}

#[test]
fn an_empty_draft_names_every_question_in_the_order_the_form_asks_them() {
    let errors = Draft::default().problems();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["title", "service_area", "decided_by", "decision_date", "ladder_rung", "involvement"]);
    assert!(full().problems().is_empty());
}

#[test]
fn a_rung_off_the_ladder_or_a_day_that_does_not_exist_is_caught_before_the_check_page() {
    let draft = Draft { ladder_rung: "9".into(), decision_date: "31/11/2026".into(), ..full() };
    let fields: Vec<String> = draft.problems().0.into_iter().map(|e| e.field).collect();
    assert_eq!(fields, ["decision_date", "ladder_rung"]);
}

#[test]
fn the_check_page_says_how_far_people_were_involved_in_words_not_a_rung_number() {
    assert_eq!(
        full().answer("ladder_rung"),
        "People who use services shared the planning and the decision with the commissioner."
    );
    assert!(!ladder_options().iter().any(|(_, words)| words.contains("Rung")), "the ladder is told in words");
    assert_eq!(full().input()["ladderRung"], 6);
}

#[test]
fn only_the_statuses_the_api_allows_next_are_offered() {
    assert_eq!(next_statuses("PROPOSED"), ["AGREED", "NOT_TAKEN", "WITHDRAWN"]);
    assert_eq!(next_statuses("IN_PROGRESS"), ["DONE", "WITHDRAWN"]);
    assert!(next_statuses("DONE").is_empty() && next_statuses("WITHDRAWN").is_empty());
}

#[test]
fn an_api_error_lands_beside_the_field_of_the_form_that_was_sent() {
    assert_eq!(page_field("link", "input.rationale", "abc"), "rationale-abc");
    assert_eq!(page_field("link", "input.itemId", "abc"), "rationale-abc");
    assert_eq!(page_field("link-theme", "input.theme", ""), "theme");
    assert_eq!(page_field("link-theme", "input.rationale", ""), "theme_rationale");
    assert_eq!(page_field("unlink", "reason", "l1"), "reason-l1");
    assert_eq!(page_field("status", "", ""), "status");
    assert_eq!(page_field("milestone", "due", ""), "milestone_due");
    assert_eq!(page_field("milestone-met", "", "m1"), "milestone-m1");
}

#[test]
fn a_long_passage_is_cut_at_a_word_for_a_hidden_label() {
    assert_eq!(first_words("one two  three", 8), "one two three");
    assert_eq!(first_words("I was passed between two services for months", 4), "I was passed between…");
}

#[test]
fn the_picker_status_says_how_many_match_in_words() {
    assert_eq!(picker_status("", 0, 0), "Type a word to find shared feedback.");
    assert_eq!(picker_status("gp", 0, 0), "No shared feedback matches “gp”.");
    assert_eq!(picker_status("gp", 1, 1), "1 shared item matches “gp”.");
    assert_eq!(picker_status("gp", 45, 20), "45 shared items match “gp”. The best 20 are shown.");
}

#[test]
fn a_missing_rationale_is_refused_beside_its_own_result_before_asking_the_api() {
    let refused =
        step_for("d", "link", &posted(&[("kind", "FEEDBACK_ITEM"), ("item_id", "i1"), ("rationale-i1", "  ")]));
    assert_eq!(refused.err(), Some(("rationale-i1".to_owned(), "Say why this matters to the decision".to_owned())));
    let theme = step_for("d", "link", &posted(&[("kind", "THEME"), ("theme", "housing"), ("theme_rationale", "why")]));
    assert_eq!(theme.ok().map(|s| s.variables["i"]["kind"].clone()), Some(json!("THEME")));
}

#[test]
fn a_decisions_notice_comes_from_a_code_so_an_address_cannot_put_words_on_the_page() {
    assert_eq!(done_words("status-changed"), Some("The status is changed"));
    assert_eq!(done_words("proposed"), Some("The decision is proposed. Now link what people said to it"));
    assert_eq!(done_words("Call 0800 000 000 to confirm your password"), None);
}
