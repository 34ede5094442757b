//! Given / when / then for every transition of a decision, every illegal one, answers to
//! shared feedback, and the loop metrics.

use heard_workdays::Calendar;
use jiff::civil::Date;
use serde_json::json;
use uuid::Uuid;

use heard_contracts::testing::{
    Command, conflict_of, conflicts_table_mismatches, field_and_message_of, field_of, is_conflict,
};

use super::answer::{self, Answer, FeedbackAcknowledged, FeedbackAnswered, acknowledge, answer_not_acted_on};
use super::decision::*;
use super::metrics::{loop_closure_rate, median_working_days};

fn d(text: &str) -> Date {
    text.parse().unwrap()
}

/// A Monday.
fn today() -> Date {
    d("2026-11-23")
}

fn decision_id() -> Uuid {
    Uuid::from_u128(0xD1)
}

fn commissioner() -> Uuid {
    Uuid::from_u128(0xC1)
}

fn item() -> Uuid {
    Uuid::from_u128(0xF1)
}

fn other_item() -> Uuid {
    Uuid::from_u128(0xF2)
}

fn milestone_id() -> Uuid {
    Uuid::from_u128(0x31)
}

fn link_id() -> Uuid {
    Uuid::from_u128(0x11)
}

fn new_decision() -> NewDecision {
    NewDecision {
        decision: decision_id(),
        title: "  Evening opening at the Worthing hub  ".into(),
        service_area: "Community treatment".into(),
        decided_by: "DAAT board".into(),
        decision_date: d("2026-09-15"),
        ladder_rung: 6,
        involvement: "Hub members co-wrote the service specification with the DAAT and sat on the panel".into(),
        proposed_by: commissioner(),
    }
}

fn proposed_event() -> Event {
    propose(new_decision(), today()).unwrap()
}

/// Given a decision proposed for 2026-09-15 and then `events`.
fn given(events: Vec<Event>) -> Decision {
    let mut all = vec![proposed_event()];
    all.extend(events);
    Decision::from_events(&all).unwrap()
}

fn status(status: Status, on: &str) -> Event {
    Event::StatusChanged(DecisionStatusChanged { decision: decision_id(), status, on: d(on) })
}

fn milestone(id: Uuid, due: &str) -> Event {
    Event::MilestoneAdded(MilestoneAdded {
        decision: decision_id(),
        milestone: id,
        title: "Staff rota agreed".into(),
        due: d(due),
    })
}

fn linked(link: Uuid, evidence: Evidence, on: &str) -> Event {
    Event::EvidenceLinked(EvidenceLinked {
        decision: decision_id(),
        link,
        evidence,
        rationale: "People in work said they could not get to daytime appointments".into(),
        by: commissioner(),
        on: d(on),
    })
}

fn unlinked(link: Uuid, on: &str) -> Event {
    Event::EvidenceUnlinked(EvidenceUnlinked {
        decision: decision_id(),
        link,
        reason: "Linked to the wrong decision".into(),
        by: commissioner(),
        on: d(on),
    })
}

fn feedback(id: Uuid) -> Evidence {
    Evidence::FeedbackItem { item: id }
}

fn theme(id: &str) -> Evidence {
    Evidence::Theme { theme: id.into() }
}

/// The statuses in the order of the tables below, each reached the usual way, with one
/// milestone (not yet met) and one link (active) recorded while proposed.
fn stages() -> Vec<(&'static str, Decision)> {
    let start = || vec![milestone(milestone_id(), "2026-12-01"), linked(link_id(), feedback(item()), "2026-09-10")];
    let with = |later: Vec<Event>| given([start(), later].concat());
    vec![
        ("proposed", with(vec![])),
        ("agreed", with(vec![status(Status::Agreed, "2026-09-15")])),
        ("in progress", with(vec![status(Status::Agreed, "2026-09-15"), status(Status::InProgress, "2026-10-01")])),
        (
            "done",
            with(vec![
                status(Status::Agreed, "2026-09-15"),
                status(Status::InProgress, "2026-10-01"),
                status(Status::Done, "2026-11-02"),
            ]),
        ),
        ("not taken", with(vec![status(Status::NotTaken, "2026-09-15")])),
        ("withdrawn", with(vec![status(Status::Agreed, "2026-09-15"), status(Status::Withdrawn, "2026-10-20")])),
    ]
}

// --- proposing --------------------------------------------------------------------------------

#[test]
fn a_decision_is_proposed_with_its_rung_on_the_ladder_and_how_people_who_use_services_were_involved() {
    let Event::Proposed(proposed) = proposed_event() else { panic!("expected a proposal") };
    assert_eq!(proposed.title, "Evening opening at the Worthing hub", "text is trimmed");
    assert_eq!(proposed.ladder_rung, 6);
    assert_eq!(proposed.proposed_by, commissioner());
    let decision = given(vec![]);
    assert_eq!(decision.status, Status::Proposed);
    assert_eq!(decision.ladder_name(), Some("Partnership"));
    assert_eq!(decision.revision, 0);
}

#[test]
fn a_planned_decision_may_be_dated_ahead_but_not_before_2000_or_more_than_ten_years_ahead() {
    assert!(propose(NewDecision { decision_date: d("2027-03-31"), ..new_decision() }, today()).is_ok());
    assert!(propose(NewDecision { decision_date: d("2000-01-01"), ..new_decision() }, today()).is_ok());
    assert_eq!(
        field_of(propose(NewDecision { decision_date: d("1999-12-31"), ..new_decision() }, today())),
        "decisionDate"
    );
    assert_eq!(
        field_of(propose(NewDecision { decision_date: d("2036-11-24"), ..new_decision() }, today())),
        "decisionDate"
    );
}

#[test]
fn every_field_of_a_proposal_is_checked_and_the_error_names_the_field() {
    let long = |n: usize| "x".repeat(n);
    let cases: Vec<(&str, NewDecision)> = vec![
        ("title", NewDecision { title: "   ".into(), ..new_decision() }),
        ("title", NewDecision { title: long(201), ..new_decision() }),
        ("serviceArea", NewDecision { service_area: "".into(), ..new_decision() }),
        ("serviceArea", NewDecision { service_area: long(201), ..new_decision() }),
        ("decidedBy", NewDecision { decided_by: " ".into(), ..new_decision() }),
        ("decidedBy", NewDecision { decided_by: long(201), ..new_decision() }),
        ("ladderRung", NewDecision { ladder_rung: 0, ..new_decision() }),
        ("ladderRung", NewDecision { ladder_rung: 9, ..new_decision() }),
        ("involvement", NewDecision { involvement: "\n".into(), ..new_decision() }),
        ("involvement", NewDecision { involvement: long(2001), ..new_decision() }),
    ];
    for (field, new) in cases {
        assert_eq!(field_of(propose(new, today())), field);
    }
    assert!(propose(NewDecision { title: long(200), involvement: long(2000), ..new_decision() }, today()).is_ok());
}

#[test]
fn the_messages_of_a_proposal_name_the_ladder_and_ask_how_people_were_involved() {
    let (_, rung) = field_and_message_of(propose(NewDecision { ladder_rung: 0, ..new_decision() }, today()));
    assert!(rung.contains("Arnstein's ladder"), "{rung}");
    let (_, involvement) =
        field_and_message_of(propose(NewDecision { involvement: "".into(), ..new_decision() }, today()));
    assert!(involvement.contains("say how people who use services were involved"), "{involvement}");
}

#[test]
fn the_ladder_has_eight_named_rungs_from_manipulation_to_citizen_control() {
    let names: Vec<_> = (1..=8).map(|rung| ladder_name(rung).unwrap()).collect();
    assert_eq!(
        names,
        [
            "Manipulation",
            "Therapy",
            "Informing",
            "Consultation",
            "Placation",
            "Partnership",
            "Delegated power",
            "Citizen control"
        ]
    );
    assert_eq!(ladder_name(0), None);
    assert_eq!(ladder_name(9), None);
    assert_eq!(ladder_name(u8::MAX), None);
}

// --- the status machine and every command in every status --------------------------------------

/// Every command in every status: `O` allowed, `C` refused as a conflict. Columns: proposed,
/// agreed, in progress, done, not taken, withdrawn. The first six rows are every move of the
/// status machine.
#[test]
fn every_command_in_every_status_is_either_allowed_or_refused_as_a_conflict_with_a_message() {
    let on = d("2026-11-20");
    let to = |next: Status| -> Command<Decision, Event> { Box::new(move |c| change_status(c, next, on, today())) };
    let commands: Vec<(&str, Command<Decision, Event>, &str)> = vec![
        ("become proposed", to(Status::Proposed), "CCCCCC"),
        ("become agreed", to(Status::Agreed), "OCCCCC"),
        ("become in progress", to(Status::InProgress), "COCCCC"),
        ("become done", to(Status::Done), "COOCCC"),
        ("become not taken", to(Status::NotTaken), "OCCCCC"),
        ("become withdrawn", to(Status::Withdrawn), "OOOCCC"),
        (
            "add a milestone",
            Box::new(move |c| add_milestone(c, Uuid::from_u128(0x32), "Leaflets printed", on)),
            "OOOOCC",
        ),
        ("meet a milestone", Box::new(move |c| meet_milestone(c, milestone_id(), on, today())), "OOOOCC"),
        ("record progress", Box::new(move |c| record_progress(c, 40, "Rota agreed", on, today())), "COOCCC"),
        (
            "link new evidence",
            Box::new(move |c| {
                link_evidence(
                    c,
                    Uuid::from_u128(0x12),
                    theme("opening-hours"),
                    "Said often",
                    commissioner(),
                    on,
                    today(),
                )
            }),
            "OOOOCC",
        ),
        (
            "unlink evidence",
            Box::new(move |c| unlink_evidence(c, link_id(), "Wrong decision", commissioner(), on, today())),
            "OOOOOO",
        ),
        ("review the outcome", Box::new(move |c| review_outcome(c, "Evenings are full", on, today())), "CCCOCC"),
    ];
    let wrong = conflicts_table_mismatches(&stages(), &commands);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_status_machine_allows_exactly_the_documented_moves() {
    use Status::*;
    let allowed = [
        (Proposed, Agreed),
        (Proposed, NotTaken),
        (Proposed, Withdrawn),
        (Agreed, InProgress),
        (Agreed, Done),
        (Agreed, Withdrawn),
        (InProgress, Done),
        (InProgress, Withdrawn),
    ];
    for from in Status::ALL {
        for to in Status::ALL {
            assert_eq!(from.can_move_to(to), allowed.contains(&(from, to)), "{from:?} to {to:?}");
        }
        assert_eq!(from.is_final(), from.next().is_empty(), "{from:?}");
    }
}

#[test]
fn a_final_decision_says_it_is_closed_and_a_repeated_status_says_so() {
    for (stage, decision) in stages().into_iter().filter(|(_, decision)| decision.status.is_final()) {
        assert_eq!(
            conflict_of(change_status(&decision, Status::Agreed, today(), today())),
            "this decision is closed",
            "{stage}"
        );
    }
    let agreed = given(vec![status(Status::Agreed, "2026-09-15")]);
    assert_eq!(
        conflict_of(change_status(&agreed, Status::Agreed, today(), today())),
        "this decision is already agreed"
    );
    let skipped = conflict_of(change_status(&given(vec![]), Status::Done, today(), today()));
    assert_eq!(skipped, "a decision that is proposed cannot become done; it can become agreed, not taken, withdrawn");
}

#[test]
fn a_status_change_is_not_dated_in_the_future_nor_before_the_last_change() {
    let agreed = given(vec![status(Status::Agreed, "2026-10-01")]);
    assert_eq!(field_of(change_status(&agreed, Status::InProgress, d("2026-11-24"), today())), "on");
    assert_eq!(field_of(change_status(&agreed, Status::InProgress, d("2026-09-30"), today())), "on");
    assert_eq!(field_of(change_status(&given(vec![]), Status::Agreed, d("1999-12-31"), today())), "on");
    assert_eq!(
        change_status(&agreed, Status::InProgress, d("2026-10-01"), today()),
        Ok(status(Status::InProgress, "2026-10-01"))
    );
}

// --- milestones and progress -------------------------------------------------------------------

#[test]
fn a_milestone_needs_a_title_and_a_due_date_and_is_added_once() {
    let decision = given(vec![milestone(milestone_id(), "2026-12-01")]);
    let new = Uuid::from_u128(0x32);
    assert_eq!(
        add_milestone(&decision, new, "  Leaflets printed ", d("2027-01-15")),
        Ok(Event::MilestoneAdded(MilestoneAdded {
            decision: decision_id(),
            milestone: new,
            title: "Leaflets printed".into(),
            due: d("2027-01-15"),
        }))
    );
    assert_eq!(field_of(add_milestone(&decision, new, " ", d("2027-01-15"))), "title");
    assert_eq!(field_of(add_milestone(&decision, new, &"x".repeat(201), d("2027-01-15"))), "title");
    assert_eq!(field_of(add_milestone(&decision, new, "Leaflets", d("1999-01-15"))), "due");
    assert!(is_conflict(add_milestone(&decision, milestone_id(), "Again", d("2027-01-15"))));
}

#[test]
fn a_milestone_is_met_once_and_only_a_known_one_can_be_met() {
    let decision = given(vec![status(Status::Agreed, "2026-09-15"), milestone(milestone_id(), "2026-12-01")]);
    assert_eq!(field_of(meet_milestone(&decision, Uuid::from_u128(0x99), d("2026-11-20"), today())), "milestoneId");
    assert_eq!(field_of(meet_milestone(&decision, milestone_id(), d("2026-11-24"), today())), "on");
    let event = meet_milestone(&decision, milestone_id(), d("2026-11-20"), today()).unwrap();
    let met = given(vec![status(Status::Agreed, "2026-09-15"), milestone(milestone_id(), "2026-12-01"), event]);
    assert_eq!(met.milestone(milestone_id()).unwrap().met_on, Some(d("2026-11-20")));
    assert_eq!(
        conflict_of(meet_milestone(&met, milestone_id(), d("2026-11-21"), today())),
        "this milestone has already been met"
    );
}

#[test]
fn progress_is_a_percentage_from_0_to_100_with_a_short_note_once_the_decision_is_agreed() {
    let agreed = given(vec![status(Status::Agreed, "2026-09-15")]);
    assert!(record_progress(&agreed, 0, "", d("2026-11-20"), today()).is_ok());
    assert!(record_progress(&agreed, 100, "All evenings staffed", d("2026-11-20"), today()).is_ok());
    assert_eq!(field_of(record_progress(&agreed, 101, "", d("2026-11-20"), today())), "percent");
    assert_eq!(field_of(record_progress(&agreed, 50, &"x".repeat(1001), d("2026-11-20"), today())), "note");
    assert_eq!(field_of(record_progress(&agreed, 50, "", d("2026-11-24"), today())), "on");
    let proposed = conflict_of(record_progress(&given(vec![]), 10, "", d("2026-11-20"), today()));
    assert!(proposed.starts_with("record progress once the decision is agreed"), "{proposed}");
}

// --- evidence links ----------------------------------------------------------------------------

#[test]
fn evidence_is_linked_with_a_rationale_saying_why_it_mattered() {
    let decision = given(vec![]);
    let event = link_evidence(
        &decision,
        link_id(),
        feedback(item()),
        "  People in work cannot come in the day ",
        commissioner(),
        d("2026-09-10"),
        today(),
    );
    assert_eq!(
        event,
        Ok(Event::EvidenceLinked(EvidenceLinked {
            decision: decision_id(),
            link: link_id(),
            evidence: feedback(item()),
            rationale: "People in work cannot come in the day".into(),
            by: commissioner(),
            on: d("2026-09-10"),
        }))
    );
    let link = |rationale: &str, on: &str| {
        link_evidence(&decision, link_id(), feedback(item()), rationale, commissioner(), d(on), today())
    };
    assert_eq!(field_of(link(" ", "2026-09-10")), "rationale");
    assert_eq!(field_of(link(&"x".repeat(1001), "2026-09-10")), "rationale");
    assert!(field_and_message_of(link("", "2026-09-10")).1.contains("say why this evidence mattered"));
    assert_eq!(field_of(link("Said often", "2026-11-24")), "on");
    assert!(link(&"x".repeat(1000), "2026-09-10").is_ok());
}

#[test]
fn every_kind_of_evidence_can_be_linked_and_its_words_are_trimmed() {
    let decision = given(vec![]);
    let kinds = [
        (feedback(item()), feedback(item())),
        (theme(" opening-hours "), theme("opening-hours")),
        (
            Evidence::ComplaintLearning { complaint: Uuid::from_u128(0xC0) },
            Evidence::ComplaintLearning { complaint: Uuid::from_u128(0xC0) },
        ),
        (
            Evidence::AdvocacyTheme { dimension: " domain".into(), value: "housing ".into() },
            Evidence::AdvocacyTheme { dimension: "domain".into(), value: "housing".into() },
        ),
    ];
    for (given_evidence, stored) in kinds {
        let Ok(Event::EvidenceLinked(linked)) =
            link_evidence(&decision, link_id(), given_evidence, "Why", commissioner(), today(), today())
        else {
            panic!("expected a link");
        };
        assert_eq!(linked.evidence, stored);
    }
    let blank = |evidence: Evidence| {
        field_of(link_evidence(&decision, link_id(), evidence, "Why", commissioner(), today(), today()))
    };
    assert_eq!(blank(theme("  ")), "evidence");
    assert_eq!(blank(Evidence::AdvocacyTheme { dimension: "domain".into(), value: "".into() }), "evidence");
}

#[test]
fn the_same_evidence_cannot_be_linked_twice_while_the_first_link_is_active() {
    let decision = given(vec![linked(link_id(), theme("opening-hours"), "2026-09-10")]);
    let again = link_evidence(
        &decision,
        Uuid::from_u128(0x12),
        theme(" opening-hours"),
        "Said again",
        commissioner(),
        today(),
        today(),
    );
    assert_eq!(conflict_of(again), "this is already linked to the decision");
    let same_id =
        link_evidence(&decision, link_id(), theme("women"), "Another theme", commissioner(), today(), today());
    assert_eq!(conflict_of(same_id), "this link is already recorded");
    let withdrawn =
        given(vec![linked(link_id(), theme("opening-hours"), "2026-09-10"), unlinked(link_id(), "2026-09-12")]);
    assert!(
        link_evidence(
            &withdrawn,
            Uuid::from_u128(0x12),
            theme("opening-hours"),
            "Back",
            commissioner(),
            today(),
            today()
        )
        .is_ok(),
        "withdrawn evidence can be linked again as a new link"
    );
}

#[test]
fn unlinking_marks_the_link_withdrawn_and_never_removes_or_edits_it() {
    let decision = given(vec![
        linked(link_id(), feedback(item()), "2026-09-10"),
        linked(Uuid::from_u128(0x12), feedback(other_item()), "2026-09-11"),
        unlinked(link_id(), "2026-09-12"),
        linked(Uuid::from_u128(0x13), feedback(item()), "2026-09-13"),
    ]);
    assert_eq!(decision.links.len(), 3, "every link made is kept");
    let first = decision.link(link_id()).unwrap();
    assert_eq!(first.evidence, feedback(item()));
    assert_eq!(first.rationale, "People in work said they could not get to daytime appointments");
    assert_eq!(first.linked_on, d("2026-09-10"));
    assert_eq!(first.by, commissioner());
    assert_eq!(first.unlinked, Some((d("2026-09-12"), "Linked to the wrong decision".to_owned())));
    let active: Vec<Uuid> = decision.active_links().map(|link| link.link).collect();
    assert_eq!(active, [Uuid::from_u128(0x12), Uuid::from_u128(0x13)]);
}

#[test]
fn unlinking_needs_a_known_active_link_a_reason_and_a_date_after_the_link() {
    let decision = given(vec![linked(link_id(), feedback(item()), "2026-09-10")]);
    let unlink =
        |link: Uuid, reason: &str, on: &str| unlink_evidence(&decision, link, reason, commissioner(), d(on), today());
    assert_eq!(field_of(unlink(Uuid::from_u128(0x99), "Wrong", "2026-11-20")), "linkId");
    assert_eq!(field_of(unlink(link_id(), " ", "2026-11-20")), "reason");
    assert_eq!(field_of(unlink(link_id(), &"x".repeat(1001), "2026-11-20")), "reason");
    assert_eq!(field_of(unlink(link_id(), "Wrong", "2026-09-09")), "on");
    assert_eq!(field_of(unlink(link_id(), "Wrong", "2026-11-24")), "on");
    assert_eq!(
        unlink(link_id(), " Wrong decision ", "2026-11-20"),
        Ok(Event::EvidenceUnlinked(EvidenceUnlinked {
            decision: decision_id(),
            link: link_id(),
            reason: "Wrong decision".into(),
            by: commissioner(),
            on: d("2026-11-20"),
        }))
    );
    let withdrawn = given(vec![linked(link_id(), feedback(item()), "2026-09-10"), unlinked(link_id(), "2026-09-12")]);
    assert_eq!(
        conflict_of(unlink_evidence(&withdrawn, link_id(), "Again", commissioner(), today(), today())),
        "this link has already been withdrawn"
    );
}

// --- the outcome review ------------------------------------------------------------------------

#[test]
fn the_outcome_is_reviewed_once_the_decision_is_done_and_can_be_reviewed_again_later() {
    let done = given(vec![status(Status::Agreed, "2026-09-15"), status(Status::Done, "2026-11-02")]);
    assert_eq!(done.done_on(), Some(d("2026-11-02")));
    assert_eq!(field_of(review_outcome(&done, " ", d("2026-11-20"), today())), "summary");
    assert_eq!(field_of(review_outcome(&done, &"x".repeat(4001), d("2026-11-20"), today())), "summary");
    assert_eq!(field_of(review_outcome(&done, "Full", d("2026-11-01"), today())), "on");
    assert_eq!(field_of(review_outcome(&done, "Full", d("2026-11-24"), today())), "on");
    let first = review_outcome(&done, "Evenings are full most weeks", d("2026-11-20"), today()).unwrap();
    let reviewed = given(vec![
        status(Status::Agreed, "2026-09-15"),
        status(Status::Done, "2026-11-02"),
        first,
        Event::OutcomeReviewed(OutcomeReviewed {
            decision: decision_id(),
            on: d("2026-11-23"),
            summary: "Still full".into(),
        }),
    ]);
    assert_eq!(reviewed.outcome_reviews.len(), 2);
    assert_eq!(reviewed.latest_review(), Some(&(d("2026-11-23"), "Still full".to_owned())));
    let agreed = given(vec![status(Status::Agreed, "2026-09-15")]);
    assert_eq!(
        conflict_of(review_outcome(&agreed, "Too early", d("2026-11-20"), today())),
        "review the outcome once the decision is done"
    );
}

// --- the fold ----------------------------------------------------------------------------------

#[test]
fn the_fold_follows_every_event_and_counts_the_stream_revision() {
    let decision = given(vec![
        milestone(milestone_id(), "2026-12-01"),
        linked(link_id(), feedback(item()), "2026-09-10"),
        status(Status::Agreed, "2026-09-15"),
        status(Status::InProgress, "2026-10-01"),
        Event::ProgressRecorded(ProgressRecorded {
            decision: decision_id(),
            percent: 30,
            note: "Rota drafted".into(),
            on: d("2026-10-10"),
        }),
        Event::ProgressRecorded(ProgressRecorded {
            decision: decision_id(),
            percent: 80,
            note: "Two evenings open".into(),
            on: d("2026-10-30"),
        }),
        Event::MilestoneMet(MilestoneMet { decision: decision_id(), milestone: milestone_id(), on: d("2026-10-20") }),
        status(Status::Done, "2026-11-02"),
    ]);
    assert_eq!(decision.id, decision_id());
    assert_eq!(decision.title, "Evening opening at the Worthing hub");
    assert_eq!(decision.service_area, "Community treatment");
    assert_eq!(decision.decided_by, "DAAT board");
    assert_eq!(decision.decision_date, d("2026-09-15"));
    assert_eq!(decision.proposed_by, commissioner());
    assert_eq!(decision.status, Status::Done);
    assert_eq!(
        decision.status_history,
        [(Status::Agreed, d("2026-09-15")), (Status::InProgress, d("2026-10-01")), (Status::Done, d("2026-11-02"))]
    );
    assert_eq!(
        decision.milestones,
        [Milestone {
            id: milestone_id(),
            title: "Staff rota agreed".into(),
            due: d("2026-12-01"),
            met_on: Some(d("2026-10-20"))
        }]
    );
    assert_eq!(decision.progress, Some((80, "Two evenings open".to_owned(), d("2026-10-30"))), "the latest progress");
    assert_eq!(decision.active_links().count(), 1);
    assert!(decision.outcome_reviews.is_empty());
    assert_eq!(decision.revision, 8, "eight events after the proposal");
}

#[test]
fn a_history_that_does_not_start_with_a_proposal_folds_to_nothing() {
    assert_eq!(Decision::from_events(&[]), None);
    assert_eq!(Decision::from_events(&[status(Status::Agreed, "2026-09-15")]), None);
    assert_eq!(Answer::from_events(&[]), None);
}

#[test]
fn decision_events_keep_the_agreed_names_and_json_shapes() {
    let events = [
        proposed_event(),
        status(Status::InProgress, "2026-10-01"),
        milestone(milestone_id(), "2026-12-01"),
        Event::MilestoneMet(MilestoneMet { decision: decision_id(), milestone: milestone_id(), on: d("2026-10-20") }),
        Event::ProgressRecorded(ProgressRecorded {
            decision: decision_id(),
            percent: 30,
            note: "".into(),
            on: d("2026-10-10"),
        }),
        linked(link_id(), feedback(item()), "2026-09-10"),
        unlinked(link_id(), "2026-09-12"),
        Event::OutcomeReviewed(OutcomeReviewed {
            decision: decision_id(),
            on: d("2026-11-20"),
            summary: "Full".into(),
        }),
    ];
    let names: Vec<&str> = events.iter().map(Event::event_type).collect();
    assert_eq!(
        names,
        [
            "DecisionProposed",
            "DecisionStatusChanged",
            "MilestoneAdded",
            "MilestoneMet",
            "ProgressRecorded",
            "EvidenceLinked",
            "EvidenceUnlinked",
            "OutcomeReviewed"
        ]
    );
    assert!(events.iter().all(|event| event.decision() == decision_id()));
    let proposed = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(
        proposed,
        json!({
            "decision": decision_id(),
            "title": "Evening opening at the Worthing hub",
            "service_area": "Community treatment",
            "decided_by": "DAAT board",
            "decision_date": "2026-09-15",
            "ladder_rung": 6,
            "involvement": "Hub members co-wrote the service specification with the DAAT and sat on the panel",
            "proposed_by": commissioner(),
        })
    );
    assert_eq!(
        serde_json::to_value(&events[1]).unwrap(),
        json!({"decision": decision_id(), "status": "in_progress", "on": "2026-10-01"})
    );
    assert_eq!(
        serde_json::to_value(&events[5]).unwrap(),
        json!({
            "decision": decision_id(),
            "link": link_id(),
            "evidence": {"kind": "feedback_item", "item": item()},
            "rationale": "People in work said they could not get to daytime appointments",
            "by": commissioner(),
            "on": "2026-09-10",
        })
    );
    let shapes = [
        (json!({"kind": "theme", "theme": "women"}), theme("women")),
        (json!({"kind": "complaint_learning", "complaint": item()}), Evidence::ComplaintLearning { complaint: item() }),
        (
            json!({"kind": "advocacy_theme", "dimension": "domain", "value": "housing"}),
            Evidence::AdvocacyTheme { dimension: "domain".into(), value: "housing".into() },
        ),
    ];
    for (value, evidence) in shapes {
        assert_eq!(serde_json::to_value(&evidence).unwrap(), value);
        assert_eq!(serde_json::from_value::<Evidence>(value).unwrap(), evidence);
    }
    for status in Status::ALL {
        assert_eq!(serde_json::to_value(status).unwrap(), json!(status.as_str()));
    }
    let Event::EvidenceLinked(linked_data) = &events[5] else { panic!("expected a link") };
    let round_trip: EvidenceLinked = serde_json::from_value(serde_json::to_value(&events[5]).unwrap()).unwrap();
    assert_eq!(&round_trip, linked_data);
}

// --- answers to shared feedback ----------------------------------------------------------------

fn acknowledged(on: &str) -> answer::Event {
    answer::Event::Acknowledged(FeedbackAcknowledged { item: item(), on: d(on), by: commissioner() })
}

fn answered(on: &str) -> answer::Event {
    answer::Event::Answered(FeedbackAnswered {
        item: item(),
        on: d(on),
        reason: "The building is shared and closes at six".into(),
        by: commissioner(),
    })
}

fn answer_of(events: &[answer::Event]) -> Answer {
    Answer::from_events(events).unwrap()
}

#[test]
fn a_shared_item_is_acknowledged_once() {
    assert_eq!(acknowledge(None, item(), commissioner(), d("2026-11-20"), today()), Ok(acknowledged("2026-11-20")));
    let once = answer_of(&[acknowledged("2026-11-20")]);
    assert_eq!(
        conflict_of(acknowledge(Some(&once), item(), commissioner(), today(), today())),
        "this feedback has already been acknowledged"
    );
    let answered_first = answer_of(&[answered("2026-11-20")]);
    assert!(is_conflict(acknowledge(Some(&answered_first), item(), commissioner(), today(), today())));
    assert_eq!(field_of(acknowledge(None, item(), commissioner(), d("2026-11-24"), today())), "on");
    assert_eq!(field_of(acknowledge(Some(&once), other_item(), commissioner(), today(), today())), "itemId");
}

#[test]
fn a_shared_item_is_answered_not_acted_on_once_with_a_reason() {
    let answer = |existing: Option<&Answer>, reason: &str, on: &str| {
        answer_not_acted_on(existing, item(), reason, commissioner(), d(on), today())
    };
    assert_eq!(answer(None, " The building is shared and closes at six ", "2026-11-20"), Ok(answered("2026-11-20")));
    let acknowledged_only = answer_of(&[acknowledged("2026-11-18")]);
    assert!(answer(Some(&acknowledged_only), "Closes at six", "2026-11-20").is_ok());
    assert_eq!(field_of(answer(Some(&acknowledged_only), "Closes at six", "2026-11-17")), "on");
    assert_eq!(field_of(answer(None, "Closes at six", "2026-11-24")), "on");
    assert_eq!(field_of(answer(None, " ", "2026-11-20")), "reason");
    assert_eq!(field_of(answer(None, &"x".repeat(1001), "2026-11-20")), "reason");
    let done = answer_of(&[acknowledged("2026-11-18"), answered("2026-11-20")]);
    assert_eq!(conflict_of(answer(Some(&done), "Again", "2026-11-21")), "this feedback has already been answered");
}

#[test]
fn the_answer_fold_keeps_both_responses_and_the_first_of_them() {
    let both = answer_of(&[acknowledged("2026-11-18"), answered("2026-11-20")]);
    assert_eq!(both.item, item());
    assert_eq!(both.acknowledged, Some((d("2026-11-18"), commissioner())));
    assert_eq!(
        both.answered,
        Some((d("2026-11-20"), "The building is shared and closes at six".to_owned(), commissioner()))
    );
    assert_eq!(both.first_response(), Some(d("2026-11-18")));
    assert_eq!(both.revision, Some(1));
    let answered_only = answer_of(&[answered("2026-11-20")]);
    assert_eq!(answered_only.acknowledged, None);
    assert_eq!(answered_only.first_response(), Some(d("2026-11-20")));
    assert_eq!(answered_only.revision, Some(0));
}

#[test]
fn several_items_are_acknowledged_together_in_one_event_leaving_out_those_already_answered() {
    let third = Uuid::from_u128(0x33);
    let acknowledged_before = answer_of(&[acknowledged("2026-11-18")]);
    let answers = |id: Uuid| (id == item()).then_some(&acknowledged_before);
    let together = answer::acknowledge_together(
        &[item(), other_item(), third, other_item()],
        answers,
        commissioner(),
        d("2026-11-20"),
        today(),
    )
    .unwrap()
    .expect("two items are left to acknowledge");
    assert_eq!(together.items, vec![other_item(), third], "each once, the one acknowledged before left out");
    assert_eq!(together.on, d("2026-11-20"));
    assert_eq!(together.batch, answer::batch_id(commissioner(), &[third, other_item()]), "the same set, the same id");
    assert_ne!(together.batch, answer::batch_id(commissioner(), &[third]));
}

#[test]
fn acknowledging_items_together_again_changes_nothing() {
    let done = answer_of(&[acknowledged("2026-11-18")]);
    let again = answer::acknowledge_together(&[item()], |_| Some(&done), commissioner(), today(), today());
    assert_eq!(again, Ok(None));
    let answered_first = answer_of(&[answered("2026-11-18")]);
    let answered = answer::acknowledge_together(&[item()], |_| Some(&answered_first), commissioner(), today(), today());
    assert_eq!(answered, Ok(None), "an item already answered counts as acknowledged");
}

#[test]
fn acknowledging_nothing_too_many_or_in_the_future_is_refused_naming_the_field() {
    let none = |_| None;
    assert_eq!(field_of(answer::acknowledge_together(&[], none, commissioner(), today(), today())), "itemIds");
    let many: Vec<Uuid> = (0..101).map(Uuid::from_u128).collect();
    assert_eq!(field_of(answer::acknowledge_together(&many, none, commissioner(), today(), today())), "itemIds");
    assert_eq!(field_of(answer::acknowledge_together(&[item()], none, commissioner(), d("2026-11-24"), today())), "on");
}

#[test]
fn an_item_acknowledged_together_keeps_its_own_streams_revision_apart() {
    let mut answer = Answer::acknowledged_together(item(), d("2026-11-18"), commissioner());
    assert_eq!(answer.revision, None, "no answer-<item> stream yet");
    assert_eq!(answer.first_response(), Some(d("2026-11-18")));
    answer.apply(&answered("2026-11-20"));
    assert_eq!(answer.revision, Some(0));
    assert_eq!(answer.acknowledged, Some((d("2026-11-18"), commissioner())), "the first acknowledgement stands");
    let mut single = answer_of(&[acknowledged("2026-11-18")]);
    single.acknowledge_in_batch(d("2026-11-19"), Uuid::from_u128(0x99));
    assert_eq!(single.acknowledged, Some((d("2026-11-18"), commissioner())));
    assert_eq!(single.revision, Some(0));
}

#[test]
fn answer_events_keep_the_agreed_names_and_json_shapes() {
    assert_eq!(acknowledged("2026-11-18").event_type(), "FeedbackAcknowledged");
    assert_eq!(answered("2026-11-20").event_type(), "FeedbackAnswered");
    assert_eq!(answer::ANSWER, "answer");
    assert_eq!(DECISION, "decision");
    assert_eq!(
        serde_json::to_value(acknowledged("2026-11-18")).unwrap(),
        json!({"item": item(), "on": "2026-11-18", "by": commissioner()})
    );
    assert_eq!(
        serde_json::to_value(answered("2026-11-20")).unwrap(),
        json!({
            "item": item(),
            "on": "2026-11-20",
            "reason": "The building is shared and closes at six",
            "by": commissioner(),
        })
    );
}

// --- metrics -----------------------------------------------------------------------------------

#[test]
fn the_loop_closure_rate_is_the_share_of_shared_items_closed_and_nothing_when_nothing_was_shared() {
    assert_eq!(loop_closure_rate(0, 0), None);
    assert_eq!(loop_closure_rate(3, 0), None);
    assert_eq!(loop_closure_rate(0, 4), Some(0.0));
    assert_eq!(loop_closure_rate(3, 4), Some(0.75));
    assert_eq!(loop_closure_rate(4, 4), Some(1.0));
}

#[test]
fn the_median_of_an_odd_count_is_the_middle_number_of_working_days() {
    let calendar = Calendar::england_and_wales();
    // Shared on Monday 2 November 2026: 1, 3 and 10 working days.
    let pairs =
        [(d("2026-11-02"), d("2026-11-16")), (d("2026-11-02"), d("2026-11-03")), (d("2026-11-02"), d("2026-11-05"))];
    assert_eq!(median_working_days(&calendar, &pairs), Some(3.0));
}

#[test]
fn the_median_of_an_even_count_is_the_mean_of_the_two_middle_numbers() {
    let calendar = Calendar::england_and_wales();
    // 0, 1, 2 and 5 working days.
    let pairs = [
        (d("2026-11-02"), d("2026-11-02")),
        (d("2026-11-02"), d("2026-11-03")),
        (d("2026-11-02"), d("2026-11-04")),
        (d("2026-11-02"), d("2026-11-09")),
    ];
    assert_eq!(median_working_days(&calendar, &pairs), Some(1.5));
}

#[test]
fn weekends_and_bank_holidays_are_not_counted_as_working_days() {
    let calendar = Calendar::england_and_wales();
    // Shared Thursday 24 December 2026, answered Tuesday 29 December: Christmas Day (Friday),
    // the weekend and the Boxing Day substitute (Monday 28th) are skipped; only the 29th counts.
    assert_eq!(median_working_days(&calendar, &[(d("2026-12-24"), d("2026-12-29"))]), Some(1.0));
    // Shared Friday 21 August 2026, answered Tuesday 1 September: 31 August is a bank holiday.
    assert_eq!(median_working_days(&calendar, &[(d("2026-08-21"), d("2026-09-01"))]), Some(6.0));
}

#[test]
fn no_pairs_give_no_median_and_pairs_the_calendar_cannot_count_are_left_out() {
    let calendar = Calendar::england_and_wales();
    assert_eq!(median_working_days(&calendar, &[]), None);
    let outside = (d("2010-01-04"), d("2010-01-05"));
    assert_eq!(median_working_days(&calendar, &[outside]), None);
    assert_eq!(median_working_days(&calendar, &[outside, (d("2026-11-02"), d("2026-11-04"))]), Some(2.0));
}

#[test]
fn what_the_feedback_loop_reads_of_a_decision_decodes_from_what_is_appended() {
    use heard_contracts::commissioning as contract;
    let Event::EvidenceLinked(link) = linked(link_id(), feedback(item()), "2026-11-20") else { unreachable!() };
    let read: contract::EvidenceLinked =
        heard_contracts::decode("EvidenceLinked", &serde_json::to_vec(&link).unwrap()).unwrap();
    assert_eq!((read.decision, read.link, read.evidence.feedback_item()), (decision_id(), link_id(), Some(item())));
    let Event::EvidenceLinked(link) = linked(link_id(), theme("housing"), "2026-11-20") else { unreachable!() };
    let read: contract::EvidenceLinked =
        heard_contracts::decode("EvidenceLinked", &serde_json::to_vec(&link).unwrap()).unwrap();
    assert_eq!(read.evidence.feedback_item(), None);
    let Event::EvidenceUnlinked(unlink) = unlinked(link_id(), "2026-11-21") else { unreachable!() };
    let read: contract::EvidenceUnlinked =
        heard_contracts::decode("EvidenceUnlinked", &serde_json::to_vec(&unlink).unwrap()).unwrap();
    assert_eq!(read.link, link_id());
    for (status, done, set_aside) in [
        (Status::Done, true, false),
        (Status::NotTaken, false, true),
        (Status::Withdrawn, false, true),
        (Status::Agreed, false, false),
    ] {
        let Event::StatusChanged(changed) = self::status(status, "2026-11-20") else { unreachable!() };
        let read: contract::DecisionStatusChanged =
            heard_contracts::decode("DecisionStatusChanged", &serde_json::to_vec(&changed).unwrap()).unwrap();
        assert_eq!((read.decision, read.done(), read.set_aside()), (decision_id(), done, set_aside), "{status:?}");
    }
}
