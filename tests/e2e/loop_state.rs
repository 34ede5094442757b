//! The loop of a feedback item as the hub and a commissioner see it through GraphQL: the
//! commissioning service's answers and decision links (appended straight to the log here, as
//! that service would) move the item's loop state on, and a hub coordinator closes the loop
//! with `recordFedBack`.

use std::time::Duration;

use heard_eventstore::{ExpectedRevision, NewEvent, StreamName};
use heard_tests::{Hub, TestApp, error_code, hub};
use serde_json::{Value, json};
use uuid::Uuid;

const SHARE: &str = "mutation($id: ID!) { shareFeedback(id: $id) { loopState sharedAt } }";
const ITEM: &str = "query($id: ID!) { feedbackItem(id: $id) { loopState sharedAt acknowledgedOn notActedOnReason decisionIds fedBackOn } }";
const FED_BACK: &str = "mutation($id: ID!, $m: ID) { recordFedBack(id: $id, meetingId: $m) { loopState fedBackOn } }";
const SEARCH: &str = "query($f: FeedbackFilter) { searchFeedback(query: \"\", filter: $f, first: 20) { total edges { node { item { id loopState } } } } }";

/// Logs an item for commissioners in Arun and shares it; returns its id.
async fn shared_item(hub: &Hub, text: &str) -> String {
    let id = hub
        .member
        .log_feedback(json!({
            "hub": "arun", "text": text, "channel": "FORUM", "saidOn": "2026-11-02",
            "speaker": "ANONYMOUS", "consent": "COMMISSIONERS", "about": "Community pharmacies"
        }))
        .await;
    let shared = hub.coordinator.graphql(SHARE, json!({ "id": id })).await;
    assert_eq!(shared["data"]["shareFeedback"]["loopState"], "SHARED", "{shared}");
    assert!(shared["data"]["shareFeedback"]["sharedAt"].is_string(), "{shared}");
    id
}

/// Appends one event of the commissioning service to `category-id`, as that service would.
async fn commissioning(app: &TestApp, category: &str, id: &str, event_type: &str, data: Value) {
    let stream = StreamName::of(category, id).expect("a stream name");
    let event = NewEvent::new(event_type, 1, &data).expect("an event");
    app.store.append(&stream, ExpectedRevision::Any, vec![event]).await.expect("the event is appended");
}

async fn acknowledge(app: &TestApp, item: &str) {
    let data = json!({ "item": item, "on": "2026-11-09", "by": Uuid::new_v4() });
    commissioning(app, "answer", item, "FeedbackAcknowledged", data).await;
}

/// Links `item` to `decision` as evidence; returns the link id.
async fn link(app: &TestApp, decision: Uuid, item: &str) -> Uuid {
    let link = Uuid::new_v4();
    let data = json!({
        "decision": decision, "link": link, "evidence": { "kind": "feedback_item", "item": item },
        "rationale": "People told us the pharmacy closes before they finish work",
        "by": Uuid::new_v4(), "on": "2026-11-12",
    });
    commissioning(app, "decision", &decision.to_string(), "EvidenceLinked", data).await;
    link
}

async fn decision_status(app: &TestApp, decision: Uuid, status: &str) {
    let data = json!({ "decision": decision, "status": status, "on": "2026-11-20" });
    commissioning(app, "decision", &decision.to_string(), "DecisionStatusChanged", data).await;
}

#[tokio::test]
async fn an_items_loop_follows_the_commissioners_and_closes_when_a_coordinator_records_it_was_reported_back() {
    let hub = hub().await;
    let id = shared_item(&hub, "The pharmacy shuts at five so I miss my script after work").await;

    let early = hub.coordinator.graphql(FED_BACK, json!({ "id": id })).await;
    assert_eq!(error_code(&early), Some("CONFLICT"), "{early}");
    assert!(early.to_string().contains("no answer from commissioners"), "{early}");

    acknowledge(&hub.app, &id).await;
    let acknowledged = hub.app.item_in_loop(&hub.member, ITEM, &id, "ACKNOWLEDGED").await;
    assert_eq!(acknowledged["acknowledgedOn"], "2026-11-09");

    let decision = Uuid::new_v4();
    decision_status(&hub.app, decision, "agreed").await;
    link(&hub.app, decision, &id).await;
    let linked = hub.app.item_in_loop(&hub.commissioner, ITEM, &id, "LINKED_TO_DECISION").await;
    assert_eq!(linked["decisionIds"], json!([decision.to_string()]));

    decision_status(&hub.app, decision, "done").await;
    hub.app.item_in_loop(&hub.member, ITEM, &id, "DECISION_DONE").await;

    let by_member = hub.member.graphql(FED_BACK, json!({ "id": id })).await;
    assert_eq!(error_code(&by_member), Some("FORBIDDEN"), "{by_member}");
    let by_other_hub = hub.crawley.graphql(FED_BACK, json!({ "id": id })).await;
    assert_eq!(error_code(&by_other_hub), Some("NOT_FOUND"), "{by_other_hub}");

    let meeting = hub
        .coordinator
        .graphql(
            "mutation($i: RecordMeetingInput!) { recordMeeting(input: $i) { id } }",
            json!({ "i": { "hub": "arun", "heldOn": "2026-11-19", "attendance": 12 } }),
        )
        .await;
    let meeting = meeting["data"]["recordMeeting"]["id"].as_str().unwrap_or_else(|| panic!("{meeting}")).to_owned();
    let fed_back = hub.coordinator.graphql(FED_BACK, json!({ "id": id, "m": meeting })).await;
    assert_eq!(fed_back["data"]["recordFedBack"]["loopState"], "FED_BACK", "{fed_back}");
    assert!(fed_back["data"]["recordFedBack"]["fedBackOn"].is_string(), "{fed_back}");

    for session in [&hub.member, &hub.commissioner] {
        let seen = hub.app.item_in_loop(session, ITEM, &id, "FED_BACK").await;
        assert_eq!(seen["fedBackOn"], fed_back["data"]["recordFedBack"]["fedBackOn"]);
        assert_eq!(seen["acknowledgedOn"], "2026-11-09");
        assert_eq!(seen["decisionIds"], json!([decision.to_string()]));
        assert!(seen["sharedAt"].is_string(), "{seen}");
    }
    let twice = hub.coordinator.graphql(FED_BACK, json!({ "id": id })).await;
    assert_eq!(error_code(&twice), Some("CONFLICT"), "{twice}");
    assert!(twice.to_string().contains("already been reported back"), "{twice}");
}

#[tokio::test]
async fn a_meeting_of_another_hub_is_refused_by_name() {
    let hub = hub().await;
    let id = shared_item(&hub, "Nobody rang me back about the detox waiting list").await;
    acknowledge(&hub.app, &id).await;
    hub.app.item_in_loop(&hub.coordinator, ITEM, &id, "ACKNOWLEDGED").await;
    let crawley_meeting = hub
        .crawley
        .graphql(
            "mutation($i: RecordMeetingInput!) { recordMeeting(input: $i) { id } }",
            json!({ "i": { "hub": "crawley", "heldOn": "2026-11-19", "attendance": 9 } }),
        )
        .await;
    let crawley_meeting = crawley_meeting["data"]["recordMeeting"]["id"].as_str().unwrap().to_owned();
    for meeting in [crawley_meeting, Uuid::new_v4().to_string()] {
        let refused = hub.coordinator.graphql(FED_BACK, json!({ "id": id, "m": meeting })).await;
        assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], "meetingId");
    }
    hub.app.item_in_loop(&hub.coordinator, ITEM, &id, "ACKNOWLEDGED").await;
}

#[tokio::test]
async fn withdrawing_the_only_decision_link_falls_back_to_the_earlier_state() {
    let hub = hub().await;
    let id = shared_item(&hub, "The needle exchange van stopped coming to our village").await;
    acknowledge(&hub.app, &id).await;
    hub.app.item_in_loop(&hub.member, ITEM, &id, "ACKNOWLEDGED").await;
    let decision = Uuid::new_v4();
    let link = link(&hub.app, decision, &id).await;
    hub.app.item_in_loop(&hub.member, ITEM, &id, "LINKED_TO_DECISION").await;

    let data = json!({ "decision": decision, "link": link, "reason": "linked to the wrong decision", "by": Uuid::new_v4(), "on": "2026-11-13" });
    commissioning(&hub.app, "decision", &decision.to_string(), "EvidenceUnlinked", data).await;
    let back = hub.app.item_in_loop(&hub.member, ITEM, &id, "ACKNOWLEDGED").await;
    assert_eq!(back["decisionIds"], json!([]));
}

#[tokio::test]
async fn an_answer_not_acted_on_shows_the_commissioners_reason_to_the_hub_and_the_commissioner() {
    let hub = hub().await;
    let id = shared_item(&hub, "We want a women-only group on Saturdays").await;
    let reason = "the provider's contract runs until April; we will ask the new provider";
    let data = json!({ "item": id, "on": "2026-11-10", "reason": reason, "by": Uuid::new_v4() });
    commissioning(&hub.app, "answer", &id, "FeedbackAnswered", data).await;
    for session in [&hub.member, &hub.commissioner] {
        let answered = hub.app.item_in_loop(session, ITEM, &id, "NOT_ACTED_ON").await;
        assert_eq!(answered["notActedOnReason"], reason);
        assert_eq!(answered["acknowledgedOn"], Value::Null);
    }
    let fed_back = hub.coordinator.graphql(FED_BACK, json!({ "id": id })).await;
    assert_eq!(fed_back["data"]["recordFedBack"]["loopState"], "FED_BACK", "{fed_back}");
}

#[tokio::test]
async fn a_link_made_after_the_decision_was_done_counts_as_done_and_other_evidence_is_ignored() {
    let hub = hub().await;
    let id = shared_item(&hub, "Peer mentors at the hub got me through the first month").await;
    let decision = Uuid::new_v4();
    decision_status(&hub.app, decision, "done").await;
    let theme = json!({
        "decision": decision, "link": Uuid::new_v4(), "evidence": { "kind": "theme", "theme": "peer-support" },
        "rationale": "Peer support came up at every forum", "by": Uuid::new_v4(), "on": "2026-11-12",
    });
    commissioning(&hub.app, "decision", &decision.to_string(), "EvidenceLinked", theme).await;
    link(&hub.app, decision, &id).await;
    let done = hub.app.item_in_loop(&hub.commissioner, ITEM, &id, "DECISION_DONE").await;
    assert_eq!(done["decisionIds"], json!([decision.to_string()]));
}

#[tokio::test]
async fn searching_with_a_loop_state_filter_finds_the_item_in_its_new_state() {
    let hub = hub().await;
    let id = shared_item(&hub, "The evening clinic is always full by six").await;
    let other = shared_item(&hub, "Reception staff call me by my first name and it helps").await;
    let decision = Uuid::new_v4();
    link(&hub.app, decision, &id).await;
    decision_status(&hub.app, decision, "done").await;
    hub.app.item_in_loop(&hub.member, ITEM, &id, "DECISION_DONE").await;

    let head = hub.app.store.head().position;
    assert!(hub.app.feedback.wait_searchable(head, Duration::from_secs(30)).await, "never became searchable");
    for session in [&hub.member, &hub.commissioner] {
        let done = session.graphql(SEARCH, json!({ "f": { "loopState": "DECISION_DONE" } })).await;
        assert_eq!(done["data"]["searchFeedback"]["total"], 1, "{done}");
        let node = &done["data"]["searchFeedback"]["edges"][0]["node"]["item"];
        assert_eq!(node["id"], id.as_str());
        assert_eq!(node["loopState"], "DECISION_DONE");
        let shared = session.graphql(SEARCH, json!({ "f": { "loopState": "SHARED" } })).await;
        assert_eq!(shared["data"]["searchFeedback"]["total"], 1, "{shared}");
        assert_eq!(shared["data"]["searchFeedback"]["edges"][0]["node"]["item"]["id"], other.as_str());
    }
}

#[tokio::test]
async fn the_demo_data_closes_the_loop_for_some_items_and_leaves_it_open_for_others() {
    use heard_feedback::domain::LoopState;
    let app = heard_tests::spawn_app().await;
    heard_demo::seed(app.services.demo()).await.expect("the demo seeds");
    let head = app.store.head().position;
    assert!(app.feedback.wait_searchable(head, std::time::Duration::from_secs(30)).await);
    let states: std::collections::BTreeMap<LoopState, usize> = app.feedback.read(|state| {
        let mut counts = std::collections::BTreeMap::new();
        for item in state.items.values() {
            *counts.entry(item.loop_state).or_default() += 1;
        }
        counts
    });
    for reached in [
        LoopState::Shared,
        LoopState::Acknowledged,
        LoopState::NotActedOn,
        LoopState::LinkedToDecision,
        LoopState::DecisionDone,
        LoopState::FedBack,
    ] {
        assert!(states.get(&reached).is_some_and(|n| *n > 0), "some items are {reached:?}: {states:?}");
    }
    let decisions = app.commissioning.read(|state| state.decisions.len());
    assert_eq!(decisions, 4, "four demo decisions");
    let report = app.commissioning.report(&heard_access::Actor::anonymous(), &Default::default(), false);
    assert!(report.loop_closure_rate.is_some_and(|rate| rate > 0.0 && rate < 1.0), "{:?}", report.loop_closure_rate);
}
