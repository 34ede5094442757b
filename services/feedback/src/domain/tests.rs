//! Given / when / then, for every command and rule.

use std::collections::{BTreeMap, BTreeSet};

use heard_access::{Actor, Consent, FeedbackView, Role, feedback_view};
use uuid::Uuid;

use super::themes::{Vocabulary, seed};
use super::*;

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 11, 23)
}

fn coordinator() -> Uuid {
    Uuid::from_u128(10)
}

fn new_item(consent: Consent) -> NewItem {
    NewItem {
        hub: "arun".into(),
        channel: Some(Channel::DropIn),
        speaker: Some(SpeakerKind::Anonymous),
        consent: Some(consent),
        said_on: "2026-11-20".into(),
        text: "The chemist in Bognor made Jo queue outside in the rain for her script".into(),
        provider: Some("community-pharmacies".into()),
        ..NewItem::default()
    }
}

/// Given an item logged with `consent` and then `events`.
fn given(consent: Consent, events: Vec<Event>) -> Item {
    let Event::Logged(logged, personal) =
        log(Uuid::from_u128(1), Uuid::from_u128(2), new_item(consent), today()).unwrap()
    else {
        unreachable!()
    };
    let mut item = Item::new(logged, Some(personal), 0);
    for event in &events {
        item.apply(event);
    }
    item
}

fn commissioner() -> Actor {
    Actor { account: Some(Uuid::from_u128(20)), roles: BTreeSet::from([Role::Commissioner]), ..Actor::default() }
}

fn arun_member() -> Actor {
    Actor {
        account: Some(Uuid::from_u128(21)),
        roles: BTreeSet::from([Role::HubMember]),
        hubs: BTreeSet::from(["arun".to_owned()]),
        ..Actor::default()
    }
}

fn named_coordinator() -> Actor {
    Actor {
        account: Some(coordinator()),
        roles: BTreeSet::from([Role::HubCoordinator]),
        hubs: BTreeSet::from(["arun".to_owned()]),
        ..Actor::default()
    }
}

/// What `actor` would be shown of `item`.
fn shown(actor: &Actor, item: &Item) -> Option<String> {
    match feedback_view(actor, &item.facts())? {
        FeedbackView::Hub => item.hub_text().map(str::to_owned),
        FeedbackView::Shared => item.shared_text().map(str::to_owned),
    }
}

fn redacted(item: &Item, passages: &[&str]) -> Event {
    let passages: Vec<String> = passages.iter().map(|p| p.to_string()).collect();
    redact(item, coordinator(), &passages).unwrap()
}

#[test]
fn logging_keeps_the_words_exactly_and_starts_the_loop() {
    let item = given(Consent::Commissioners, vec![]);
    assert_eq!(item.hub_text(), Some("The chemist in Bognor made Jo queue outside in the rain for her script"));
    assert_eq!(item.loop_state, LoopState::Logged);
    assert_eq!(item.moderation, Moderation::Pending);
}

#[test]
fn logging_without_the_required_answers_names_each_field() {
    let cases: Vec<(NewItem, &str)> = vec![
        (NewItem { text: "  ".into(), ..new_item(Consent::Hub) }, "text"),
        (NewItem { channel: None, ..new_item(Consent::Hub) }, "channel"),
        (NewItem { speaker: None, ..new_item(Consent::Hub) }, "speaker"),
        (NewItem { consent: None, ..new_item(Consent::Hub) }, "consent"),
        (NewItem { said_on: "31/11/2026".into(), ..new_item(Consent::Hub) }, "saidOn"),
        (NewItem { said_on: "2027-01-01".into(), ..new_item(Consent::Hub) }, "saidOn"),
        (NewItem { speaker_name: Some("Jo".into()), ..new_item(Consent::Hub) }, "speakerName"),
        (NewItem { speaker: Some(SpeakerKind::Named), ..new_item(Consent::Hub) }, "speakerName"),
        (NewItem { text: "x".repeat(MAX_TEXT_CHARS + 1), ..new_item(Consent::Hub) }, "text"),
    ];
    for (new, field) in cases {
        match log(Uuid::nil(), Uuid::nil(), new, today()) {
            Err(Rejection::Invalid { field: got, .. }) => assert_eq!(got, field),
            other => panic!("expected {field} to be refused, got {other:?}"),
        }
    }
}

#[test]
fn a_redacted_text_is_never_shown_outside_the_hub() {
    // Given an item for commissioners, when a coordinator redacts a name and shares it,
    let logged = given(Consent::Commissioners, vec![]);
    let redaction = redacted(&logged, &["Jo", "Bognor"]);
    let item = given(Consent::Commissioners, vec![redaction, Event::Shared(FeedbackShared { by: coordinator() })]);
    // then commissioners see only the redacted words, and the hub keeps the original.
    let outside = shown(&commissioner(), &item).unwrap();
    assert_eq!(outside, "The chemist in [redacted] made [redacted] queue outside in the rain for her script");
    assert!(!outside.contains("Jo ") && !outside.contains("Bognor"));
    assert_eq!(shown(&arun_member(), &item).unwrap(), item.text.clone().unwrap());
}

#[test]
fn a_passage_that_is_not_in_the_text_is_refused_by_its_index() {
    let item = given(Consent::Commissioners, vec![]);
    let result = redact(&item, coordinator(), &["Jo".into(), "Worthing".into()]);
    assert!(matches!(result, Err(Rejection::Invalid { ref field, .. }) if field == "passages[1]"), "{result:?}");
}

#[test]
fn a_passage_inside_another_passage_confirmed_at_once_is_taken_out_with_it() {
    let item = given(Consent::Commissioners, vec![]);
    let Event::Redacted(_, personal) = redacted(&item, &["Bognor", "chemist in Bognor"]) else { unreachable!() };
    assert_eq!(personal.text, "The [redacted] made Jo queue outside in the rain for her script");
}

#[test]
fn nothing_leaves_the_hub_until_a_coordinator_shares_it() {
    let item = given(Consent::Public, vec![]);
    assert_eq!(shown(&commissioner(), &item), None);
    assert_eq!(shown(&Actor::anonymous(), &item), None);
    let shared = given(Consent::Public, vec![Event::Shared(FeedbackShared { by: coordinator() })]);
    assert!(shown(&Actor::anonymous(), &shared).is_some());
    assert_eq!(shared.loop_state, LoopState::Shared);
}

#[test]
fn an_item_for_the_hub_only_cannot_be_shared() {
    let item = given(Consent::Hub, vec![]);
    assert!(matches!(share(&item, coordinator()), Err(Rejection::Conflict(_))));
}

#[test]
fn withdrawing_consent_removes_the_item_from_every_shared_view() {
    let shared = given(Consent::Public, vec![Event::Shared(FeedbackShared { by: coordinator() })]);
    let withdrawn_event = change_consent(&shared, coordinator(), None).unwrap();
    let withdrawn = given(Consent::Public, vec![Event::Shared(FeedbackShared { by: coordinator() }), withdrawn_event]);
    assert_eq!(shown(&commissioner(), &withdrawn), None);
    assert_eq!(shown(&Actor::anonymous(), &withdrawn), None);
    assert_eq!(withdrawn.shared_text(), None);
    assert_eq!(withdrawn.hub_text(), None, "the words are not shown even in the hub once consent is withdrawn");
    assert!(matches!(change_consent(&withdrawn, coordinator(), Some(Consent::Hub)), Err(Rejection::Conflict(_))));
}

#[test]
fn narrowing_consent_from_public_to_commissioners_hides_it_from_the_public_only() {
    let shared = given(Consent::Public, vec![Event::Shared(FeedbackShared { by: coordinator() })]);
    let narrowed = change_consent(&shared, coordinator(), Some(Consent::Commissioners)).unwrap();
    let item = given(Consent::Public, vec![Event::Shared(FeedbackShared { by: coordinator() }), narrowed]);
    assert_eq!(shown(&Actor::anonymous(), &item), None);
    assert!(shown(&commissioner(), &item).is_some());
}

#[test]
fn consent_cannot_be_widened_on_the_speakers_behalf() {
    let item = given(Consent::Hub, vec![]);
    let result = change_consent(&item, coordinator(), Some(Consent::Public));
    assert!(matches!(result, Err(Rejection::Invalid { ref field, .. }) if field == "consent"));
}

#[test]
fn safeguarding_items_never_leave_the_named_coordinators_queue() {
    let shared_then_flagged = given(
        Consent::Public,
        vec![
            Event::Shared(FeedbackShared { by: coordinator() }),
            Event::SafeguardingFlagged(SafeguardingFlagged { by: Uuid::from_u128(21), coordinator: coordinator() }),
        ],
    );
    assert_eq!(shown(&Actor::anonymous(), &shared_then_flagged), None);
    assert_eq!(shown(&commissioner(), &shared_then_flagged), None);
    assert_eq!(shown(&arun_member(), &shared_then_flagged), None, "not even the rest of the hub");
    assert!(shown(&named_coordinator(), &shared_then_flagged).is_some());

    let flagged = given(
        Consent::Public,
        vec![Event::SafeguardingFlagged(SafeguardingFlagged { by: Uuid::from_u128(21), coordinator: coordinator() })],
    );
    assert!(matches!(share(&flagged, coordinator()), Err(Rejection::Conflict(_))));
}

#[test]
fn holding_needs_a_reason_and_a_shared_item_cannot_be_redacted_or_held() {
    let item = given(Consent::Commissioners, vec![]);
    assert!(matches!(hold(&item, coordinator(), " "), Err(Rejection::Invalid { ref field, .. }) if field == "reason"));
    assert!(hold(&item, coordinator(), "check with the speaker first").is_ok());
    let shared = given(Consent::Commissioners, vec![Event::Shared(FeedbackShared { by: coordinator() })]);
    assert!(matches!(hold(&shared, coordinator(), "too late"), Err(Rejection::Conflict(_))));
    assert!(matches!(redact(&shared, coordinator(), &["Jo".into()]), Err(Rejection::Conflict(_))));
}

#[test]
fn a_held_item_keeps_its_reason_until_it_is_released_back_to_the_queue() {
    let held = given(Consent::Commissioners, vec![]);
    let event = hold(&held, coordinator(), "check with the speaker first").unwrap();
    let mut item = given(Consent::Commissioners, vec![]);
    item.apply_at(&event, 1_000);
    assert_eq!(item.moderation, Moderation::Held);
    assert_eq!(
        item.held,
        Some(Held { reason: "check with the speaker first".into(), by: coordinator(), at_micros: 1_000 })
    );
    assert!(matches!(hold(&item, coordinator(), "again"), Err(Rejection::Conflict(_))), "held once is enough");

    let released = release(&item, coordinator()).unwrap();
    assert_eq!(released, Event::Released(FeedbackReleased { by: coordinator() }));
    item.apply(&released);
    assert_eq!((item.moderation, item.held.clone()), (Moderation::Pending, None), "back in the queue, no reason left");
    assert!(matches!(release(&item, coordinator()), Err(Rejection::Conflict(_))), "only a held item is released");
}

#[test]
fn a_shared_item_is_not_held_so_it_cannot_be_released() {
    let shared = given(Consent::Commissioners, vec![Event::Shared(FeedbackShared { by: coordinator() })]);
    assert!(matches!(release(&shared, coordinator()), Err(Rejection::Conflict(_))));
}

#[test]
fn a_meeting_needs_a_real_date_and_a_sensible_attendance() {
    let ok = record_meeting(Uuid::nil(), Uuid::nil(), "arun".into(), "2026-11-02", 14, "Minutes", vec![], today());
    assert_eq!(ok.unwrap().0.attendance, 14);
    let bad = record_meeting(Uuid::nil(), Uuid::nil(), "arun".into(), "2026-11-02", -1, "", vec![], today());
    assert!(matches!(bad, Err(Rejection::Invalid { ref field, .. }) if field == "attendance"));
}

#[test]
fn channels_parse_from_the_spellings_in_spreadsheets() {
    assert_eq!(Channel::parse("Drop in"), Some(Channel::DropIn));
    assert_eq!(Channel::parse("phone/SMS"), Some(Channel::Phone));
    assert_eq!(Channel::parse("one-to-one"), Some(Channel::OneToOne));
    assert_eq!(Channel::parse("carrier pigeon"), None);
}

fn seeded() -> Vocabulary {
    let mut vocabulary = Vocabulary::default();
    for theme in seed() {
        vocabulary.added(theme);
    }
    vocabulary
}

#[test]
fn the_seeded_themes_are_hierarchical_and_found_by_name_in_any_case() {
    let vocabulary = seeded();
    let opening = vocabulary.find("OPENING   hours").unwrap();
    assert_eq!(opening.parent.as_deref(), Some("getting-help"));
    assert!(vocabulary.live().len() >= 24);
}

#[test]
fn renaming_and_merging_themes_keeps_old_tags_meaningful() {
    let mut vocabulary = seeded();
    let renamed = vocabulary.rename("opening-hours", "Opening times").unwrap();
    vocabulary.renamed("opening-hours", renamed);
    assert_eq!(vocabulary.find("opening times").unwrap().id, "opening-hours");
    assert!(vocabulary.find("Opening hours").is_none());

    let merged = vocabulary.merge("rural-transport", "access-and-waiting-times").unwrap();
    vocabulary.merged("rural-transport", merged);
    assert_eq!(vocabulary.resolve("rural-transport").unwrap().id, "access-and-waiting-times");
    assert!(vocabulary.add("Access and waiting TIMES", None).is_err(), "names stay unique");
    assert!(vocabulary.merge("getting-help", "access-and-waiting-times").is_err(), "no loops");
}

fn shared_item() -> Item {
    given(Consent::Commissioners, vec![Event::Shared(FeedbackShared { by: coordinator() })])
}

fn decision() -> Uuid {
    Uuid::from_u128(30)
}

fn link() -> Uuid {
    Uuid::from_u128(31)
}

fn reported_back() -> Event {
    Event::FedBack(FeedbackFedBack { by: coordinator(), meeting: None })
}

#[test]
fn the_loop_state_follows_the_furthest_point_the_item_has_reached() {
    let not_acted_on = || Some(NotActedOn { on: "2026-11-10".into(), reason: "the budget is set until April".into() });
    let linked = || BTreeMap::from([(link(), decision())]);
    let fed_back = || Some(FedBack { on: "2026-11-20".into(), meeting: None });
    let cases: Vec<(LoopFacts, LoopState)> = vec![
        (LoopFacts::default(), LoopState::Logged),
        (LoopFacts { shared: true, ..LoopFacts::default() }, LoopState::Shared),
        (
            LoopFacts { shared: true, acknowledged_on: Some("2026-11-03".into()), ..LoopFacts::default() },
            LoopState::Acknowledged,
        ),
        (
            LoopFacts {
                acknowledged_on: Some("2026-11-03".into()),
                not_acted_on: not_acted_on(),
                ..LoopFacts::default()
            },
            LoopState::NotActedOn,
        ),
        (
            LoopFacts { not_acted_on: not_acted_on(), decision_links: linked(), ..LoopFacts::default() },
            LoopState::LinkedToDecision,
        ),
        (LoopFacts { decision_links: linked(), decision_done: true, ..LoopFacts::default() }, LoopState::DecisionDone),
        (LoopFacts { decision_done: true, ..LoopFacts::default() }, LoopState::Logged),
        (
            LoopFacts {
                shared: true,
                decision_links: linked(),
                decision_done: true,
                fed_back: fed_back(),
                ..LoopFacts::default()
            },
            LoopState::FedBack,
        ),
        (LoopFacts { shared: true, fed_back: fed_back(), ..LoopFacts::default() }, LoopState::FedBack),
    ];
    for (facts, expected) in cases {
        assert_eq!(loop_state(&facts), expected, "{facts:?}");
    }
}

#[test]
fn sharing_records_when_and_moves_the_loop_from_logged_to_shared() {
    let mut item = given(Consent::Commissioners, vec![]);
    item.apply_at(&share(&item, coordinator()).unwrap(), 1_700_000_000_000_000);
    assert_eq!(item.loop_state, LoopState::Shared);
    assert_eq!(item.shared_at_micros, Some(1_700_000_000_000_000));
    assert!(item.loop_facts.shared);
}

#[test]
fn an_acknowledgement_then_a_link_then_the_decision_done_each_move_the_loop_on() {
    let mut item = shared_item();
    assert!(item.update_loop(|facts| facts.acknowledged_on = Some("2026-11-03".into())));
    assert_eq!(item.loop_state, LoopState::Acknowledged);
    assert!(item.update_loop(|facts| {
        facts.decision_links.insert(link(), decision());
    }));
    assert_eq!(item.loop_state, LoopState::LinkedToDecision);
    assert!(item.update_loop(|facts| facts.decision_done = true));
    assert_eq!(item.loop_state, LoopState::DecisionDone);
    assert_eq!(item.loop_facts.decisions(), BTreeSet::from([decision()]));
}

#[test]
fn withdrawing_the_only_decision_link_falls_back_to_the_earlier_state() {
    let mut item = shared_item();
    item.update_loop(|facts| {
        facts.acknowledged_on = Some("2026-11-03".into());
        facts.decision_links.insert(link(), decision());
    });
    assert!(item.update_loop(|facts| {
        facts.decision_links.remove(&link());
    }));
    assert_eq!(item.loop_state, LoopState::Acknowledged);
}

#[test]
fn the_hub_cannot_report_back_before_commissioners_have_answered() {
    for item in [given(Consent::Commissioners, vec![]), shared_item()] {
        match fed_back(&item, coordinator(), None) {
            Err(Rejection::Conflict(message)) => {
                assert_eq!(message, "there is nothing to report back yet: the item has no answer from commissioners")
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
}

#[test]
fn the_hub_can_report_back_an_acknowledgement_an_answer_a_link_or_a_decision_done() {
    let answers: Vec<fn(&mut LoopFacts)> = vec![
        |facts| facts.acknowledged_on = Some("2026-11-03".into()),
        |facts| facts.not_acted_on = Some(NotActedOn { on: "2026-11-04".into(), reason: "no budget".into() }),
        |facts| {
            facts.decision_links.insert(link(), decision());
        },
        |facts| {
            facts.decision_links.insert(link(), decision());
            facts.decision_done = true;
        },
    ];
    let meeting = Uuid::from_u128(40);
    for answer in answers {
        // Given a shared item commissioners answered,
        let mut item = shared_item();
        item.update_loop(answer);
        // when a coordinator records it was reported back at a meeting,
        let event = fed_back(&item, coordinator(), Some(meeting)).unwrap();
        assert_eq!(event, Event::FedBack(FeedbackFedBack { by: coordinator(), meeting: Some(meeting) }));
        item.apply_at(&event, 1_700_000_000_000_000);
        // then the loop is closed, on the day it was recorded, at that meeting.
        assert_eq!(item.loop_state, LoopState::FedBack);
        let fed = item.loop_facts.fed_back.clone().unwrap();
        assert_eq!((fed.on, fed.meeting), (day_of(1_700_000_000_000_000), Some(meeting)));
    }
}

#[test]
fn an_item_reported_back_once_cannot_be_reported_back_again() {
    let mut item = shared_item();
    item.update_loop(|facts| facts.acknowledged_on = Some("2026-11-03".into()));
    item.apply(&reported_back());
    assert!(
        matches!(fed_back(&item, coordinator(), None), Err(Rejection::Conflict(ref m)) if m == "this has already been reported back")
    );
}

#[test]
fn a_link_withdrawn_after_the_item_was_reported_back_leaves_the_loop_closed() {
    let mut item = shared_item();
    item.update_loop(|facts| {
        facts.decision_links.insert(link(), decision());
    });
    item.apply(&reported_back());
    assert!(!item.update_loop(|facts| {
        facts.decision_links.clear();
    }));
    assert_eq!(item.loop_state, LoopState::FedBack);
}

#[test]
fn what_others_read_of_a_logged_item_decodes_from_what_is_appended() {
    let Event::Logged(logged, personal) =
        log(Uuid::from_u128(1), Uuid::from_u128(2), new_item(Consent::Commissioners), today()).unwrap()
    else {
        unreachable!()
    };
    let data = serde_json::to_vec(&logged).unwrap();
    let read: heard_contracts::feedback::FeedbackLogged = heard_contracts::decode("FeedbackLogged", &data).unwrap();
    assert_eq!((read.item, read.hub.as_str(), read.consent), (logged.item, "arun", Consent::Commissioners));
    assert_eq!((read.provider, read.themes, read.said_on), (logged.provider, logged.themes, logged.said_on));
    let words = serde_json::to_vec(&personal).unwrap();
    let text: heard_contracts::feedback::LoggedText = heard_contracts::decode("FeedbackLogged", &words).unwrap();
    assert_eq!(text.text, personal.text);
}

fn logger() -> Uuid {
    Uuid::from_u128(2)
}

const MINUTE: i64 = 60 * 1_000_000;

#[test]
fn the_person_who_logged_an_item_can_undo_it_within_ten_minutes_and_it_then_leaves_every_view() {
    let mut item = given(Consent::Public, vec![]);
    let undo = withdraw(&item, logger(), 9 * MINUTE).expect("nine minutes after logging, it can be undone");
    item.apply(&undo);
    assert!(item.withdrawn);
    assert_eq!(item.hub_text(), None, "its words are in no view, not even the hub's");
    assert!(withdraw(&item, logger(), 9 * MINUTE).is_err(), "it cannot be undone twice");
    assert!(correctable(&given(Consent::Public, vec![]), logger()));
}

fn correctable(item: &Item, by: Uuid) -> bool {
    item.correctable_by(by).is_ok()
}

#[test]
fn an_item_cannot_be_undone_after_ten_minutes_by_someone_else_or_once_a_coordinator_has_moderated_it() {
    let item = given(Consent::Public, vec![]);
    assert!(matches!(withdraw(&item, logger(), 11 * MINUTE), Err(Rejection::Conflict(_))), "too late");
    assert!(withdraw(&item, coordinator(), MINUTE).is_err(), "only the person who logged it");
    let shared = given(Consent::Public, vec![Event::Shared(FeedbackShared { by: coordinator() })]);
    assert!(withdraw(&shared, logger(), MINUTE).is_err(), "it has left the hub");
    let held = given(Consent::Public, vec![hold(&item, coordinator(), "check with the speaker").unwrap()]);
    assert!(withdraw(&held, logger(), MINUTE).is_err(), "a coordinator has it");
    let redacted_item = given(Consent::Public, vec![redacted(&item, &["Jo"])]);
    assert!(withdraw(&redacted_item, logger(), MINUTE).is_err(), "a coordinator redacted it");
    let flagged = given(Consent::Public, vec![flag_safeguarding(&item, logger(), coordinator()).unwrap()]);
    assert!(withdraw(&flagged, logger(), MINUTE).is_err(), "it is with a coordinator for safeguarding");
}

#[test]
fn the_person_who_logged_an_item_can_correct_its_words_and_themes_until_it_is_moderated() {
    let mut item = given(Consent::Commissioners, vec![]);
    let themes = BTreeSet::from(["pharmacy".to_owned()]);
    let correction =
        edit(&item, logger(), "  The chemist made her queue outside in the rain  ", themes.clone()).unwrap();
    item.apply(&correction);
    assert_eq!(item.hub_text(), Some("The chemist made her queue outside in the rain"));
    assert_eq!(item.logged.themes, themes);
    assert!(item.edited_at_micros.is_some());
    assert!(
        matches!(edit(&item, logger(), "   ", BTreeSet::new()), Err(Rejection::Invalid { field, .. }) if field == "text")
    );
    assert!(edit(&item, coordinator(), "Another person's words", BTreeSet::new()).is_err());
    let shared = given(Consent::Commissioners, vec![Event::Shared(FeedbackShared { by: coordinator() })]);
    assert!(edit(&shared, logger(), "Too late", BTreeSet::new()).is_err());
}

#[test]
fn a_meeting_starts_with_its_hub_day_and_place_and_refuses_a_day_that_does_not_exist() {
    let meeting = Uuid::from_u128(7);
    let started =
        start_meeting(meeting, logger(), "arun".into(), "23/11/2026", " Bognor hub, upstairs ", today()).unwrap();
    assert_eq!((started.held_on.as_str(), started.place.as_str()), ("2026-11-23", "Bognor hub, upstairs"));
    let refused = start_meeting(meeting, logger(), "arun".into(), "30/02/2026", "Bognor", today()).unwrap_err();
    assert_eq!(refused, Rejection::invalid("heldOn", "30 February 2026 does not exist"));
    let refused = start_meeting(meeting, logger(), "arun".into(), "24 November 2026", "Bognor", today()).unwrap_err();
    assert_eq!(refused, Rejection::invalid("heldOn", "the date cannot be in the future (today is 23 November 2026)"));
    assert!(matches!(
        start_meeting(meeting, logger(), "arun".into(), "23/11/2026", "  ", today()),
        Err(Rejection::Invalid { field, .. }) if field == "place"
    ));
}
