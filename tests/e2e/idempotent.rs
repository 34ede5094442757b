//! Idempotent commands for flaky networks (issue #21): a create mutation sent again with the
//! same `clientMutationId` (a retry after a lost answer, a double click on a form) answers what
//! the first one created and adds nothing, over real HTTP against a server on port 0.

use heard_tests::{Session, error_code, hub, staff};
use serde_json::{Value, json};

const LOG: &str = "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id text } }";
const ITEMS: &str = "{ feedbackItems(first: 100) { edges { node { id } } } }";

fn item(text: &str, once: &str) -> Value {
    json!({ "i": {
        "hub": "arun", "text": text, "channel": "DROP_IN", "saidOn": "2026-11-02", "speaker": "ANONYMOUS",
        "consent": "HUB", "clientMutationId": once,
    }})
}

/// The items `session` sees in its hub's list: how many, and their ids.
async fn items(session: &Session) -> (usize, Vec<String>) {
    let listed = session.graphql(ITEMS, json!({})).await;
    let edges = listed["data"]["feedbackItems"]["edges"].as_array().unwrap_or_else(|| panic!("no list: {listed}"));
    let ids: Vec<String> = edges.iter().map(|edge| edge["node"]["id"].as_str().unwrap().to_owned()).collect();
    (ids.len(), ids)
}

fn id_of(answer: &Value, mutation: &str) -> String {
    answer["data"][mutation]["id"].as_str().unwrap_or_else(|| panic!("{mutation} failed: {answer}")).to_owned()
}

/// Asserts that `answer` was refused on `input.clientMutationId`, with `code`, and returns
/// its message.
fn refused_on_client_id(answer: &Value, code: &str) -> String {
    assert_eq!(error_code(answer), Some(code), "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["field"], "input.clientMutationId", "{answer}");
    answer["errors"][0]["message"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn feedback_sent_twice_with_the_same_client_mutation_id_is_logged_once_and_both_answers_show_it() {
    let hub = hub().await;
    let words = "The chemist was shut when I came for my script";
    let first = hub.member.graphql(LOG, item(words, "form-7f3a")).await;
    let again = hub.member.graphql(LOG, item(words, "form-7f3a")).await;
    assert_eq!(first["data"], again["data"], "the retry answers the first item, as the first answer did");
    assert_eq!(again["data"]["logFeedback"]["text"], words);
    assert_eq!(items(&hub.member).await, (1, vec![id_of(&first, "logFeedback")]));

    let other = hub.member.graphql(LOG, item(words, "form-8c21")).await;
    assert_ne!(id_of(&other, "logFeedback"), id_of(&first, "logFeedback"), "a new id is a new item");
    let mut plain = item(words, "unused")["i"].clone();
    plain.as_object_mut().unwrap().remove("clientMutationId");
    let (one, two) = (hub.member.log_feedback(plain.clone()).await, hub.member.log_feedback(plain).await);
    assert_ne!(one, two, "without an id, each request logs an item, as before");
    assert_eq!(items(&hub.member).await.0, 4);
}

#[tokio::test]
async fn the_same_feedback_sent_eight_times_at_once_is_logged_once() {
    let hub = hub().await;
    let words = "Nobody rang me back about the detox bed";
    let sent = (0..8).map(|_| hub.member.graphql(LOG, item(words, "double-click-1")));
    let answers = futures::future::join_all(sent).await;
    let first = id_of(&answers[0], "logFeedback");
    for answer in &answers {
        assert_eq!(id_of(answer, "logFeedback"), first, "every request is answered with the one item: {answer}");
        assert_eq!(answer["data"]["logFeedback"]["text"], words);
    }
    assert_eq!(items(&hub.member).await, (1, vec![first]));
}

#[tokio::test]
async fn the_same_client_mutation_id_with_other_words_is_refused_and_keeps_the_first_version() {
    let hub = hub().await;
    let first = hub.member.graphql(LOG, item("The waiting list is six months long", "edited-after")).await;
    let changed = hub.member.graphql(LOG, item("The waiting list is nine months long", "edited-after")).await;
    let message = refused_on_client_id(&changed, "BAD_USER_INPUT");
    assert!(message.contains("already sent with different details"), "{message}");
    assert!(message.contains("first version was saved"), "{message}");
    assert!(!message.contains("waiting list"), "no words of either version in the error: {message}");
    assert_eq!(items(&hub.member).await, (1, vec![id_of(&first, "logFeedback")]), "nothing new was added");
    let seen = hub
        .member
        .graphql("query($id: ID!) { feedbackItem(id: $id) { text } }", json!({ "id": id_of(&first, "logFeedback") }))
        .await;
    assert_eq!(seen["data"]["feedbackItem"]["text"], "The waiting list is six months long");
}

#[tokio::test]
async fn another_account_sending_the_same_client_mutation_id_gets_an_item_of_its_own() {
    let hub = hub().await;
    let mine = hub.member.graphql(LOG, item("Staff called me a junkie", "shared-id")).await;
    let theirs = hub.coordinator.graphql(LOG, item("The pharmacy has no private room", "shared-id")).await;
    assert_ne!(id_of(&mine, "logFeedback"), id_of(&theirs, "logFeedback"));
    assert_eq!(theirs["data"]["logFeedback"]["text"], "The pharmacy has no private room", "not the other's item");
    let outsider = hub
        .crawley
        .graphql(
            LOG,
            json!({ "i": { "hub": "crawley", "text": "Staff called me a junkie",
        "channel": "DROP_IN", "saidOn": "2026-11-02", "speaker": "ANONYMOUS", "consent": "HUB",
        "clientMutationId": "shared-id" } }),
        )
        .await;
    assert_ne!(id_of(&outsider, "logFeedback"), id_of(&mine, "logFeedback"), "another hub's coordinator too");
    assert_eq!(items(&hub.coordinator).await.0, 2);
}

#[tokio::test]
async fn a_client_mutation_id_that_is_not_one_to_64_letters_digits_underscores_or_hyphens_is_refused() {
    let staff = staff().await;
    for bad in ["", "has space", "dot.ted", "slash/ed", &"x".repeat(65), "naïve"] {
        let answer = staff.member.graphql(LOG, item("Words", bad)).await;
        let message = refused_on_client_id(&answer, "BAD_USER_INPUT");
        assert!(message.contains("1 to 64"), "{message}");
        let complaint = staff.handler.graphql(RAISE, complaint("Words", bad)).await;
        refused_on_client_id(&complaint, "BAD_USER_INPUT");
    }
    assert_eq!(items(&staff.member).await.0, 0, "nothing was logged");
    let fine = staff.member.graphql(LOG, item("Words", &format!("A-z_0-9{}", "x".repeat(57)))).await;
    id_of(&fine, "logFeedback");
}

const RAISE: &str = "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id whatHappened } }";
const REFER: &str = "mutation($i: ReferCaseInput!) { referCase(input: $i) { id issue state } }";
const PROPOSE: &str = "mutation($i: ProposeDecisionInput!) { proposeDecision(input: $i) { id title } }";

fn complaint(what: &str, once: &str) -> Value {
    json!({ "i": {
        "provider": "cri", "articles": [2, 5], "complainantKind": "ANONYMOUS", "route": "HUB",
        "whatHappened": what, "outcomeWanted": "An apology", "clientMutationId": once,
    }})
}

fn referral(issue: &str, once: &str) -> Value {
    json!({ "i": {
        "issue": issue, "kind": "INSTRUCTED", "referralSource": "SELF_REFERRAL", "domain": "HOUSING",
        "clientMutationId": once,
    }})
}

fn decision(title: &str, once: &str) -> Value {
    json!({ "i": {
        "title": title, "serviceArea": "Treatment", "decidedBy": "DAAT board", "decisionDate": "2026-11-02",
        "ladderRung": 4, "involvement": "Asked at the forum", "clientMutationId": once,
    }})
}

/// How many records `list` (a connection query field) holds for `session`.
async fn count(session: &Session, list: &str) -> usize {
    let listed = session.graphql(&format!("{{ {list}(first: 100) {{ edges {{ node {{ id }} }} }} }}"), json!({})).await;
    listed["data"][list]["edges"].as_array().unwrap_or_else(|| panic!("no {list}: {listed}")).len()
}

#[tokio::test]
async fn a_complaint_a_case_and_a_decision_sent_again_are_each_recorded_once() {
    let staff = staff().await;
    let raised = staff.handler.graphql(RAISE, complaint("Turned away at the door", "complaint-1")).await;
    let again = staff.handler.graphql(RAISE, complaint("Turned away at the door", "complaint-1")).await;
    assert_eq!(id_of(&again, "raiseComplaint"), id_of(&raised, "raiseComplaint"), "{again}");
    assert_eq!(again["data"]["raiseComplaint"]["whatHappened"], "Turned away at the door");
    assert_eq!(count(&staff.handler, "complaints").await, 1);

    let referred = staff.advocate.graphql(REFER, referral("Eviction notice from the hostel", "case-1")).await;
    let again = staff.advocate.graphql(REFER, referral("Eviction notice from the hostel", "case-1")).await;
    assert_eq!(referred["data"], again["data"], "answered as the first answer showed it");
    assert_eq!(count(&staff.advocate, "cases").await, 1);

    let proposed = staff.commissioner.graphql(PROPOSE, decision("Evening opening in Crawley", "decision-1")).await;
    let again = staff.commissioner.graphql(PROPOSE, decision("Evening opening in Crawley", "decision-1")).await;
    assert_eq!(proposed["data"], again["data"]);
    assert_eq!(count(&staff.commissioner, "decisions").await, 1);

    let changed = staff.handler.graphql(RAISE, complaint("Turned away at the gate", "complaint-1")).await;
    refused_on_client_id(&changed, "BAD_USER_INPUT");
    let changed = staff.advocate.graphql(REFER, referral("Eviction notice from the landlord", "case-1")).await;
    refused_on_client_id(&changed, "BAD_USER_INPUT");
    let changed = staff.commissioner.graphql(PROPOSE, decision("Evening opening in Horsham", "decision-1")).await;
    refused_on_client_id(&changed, "BAD_USER_INPUT");
    assert_eq!(count(&staff.handler, "complaints").await, 1, "nothing new");
    assert_eq!(count(&staff.advocate, "cases").await, 1);
    assert_eq!(count(&staff.commissioner, "decisions").await, 1);
}

#[tokio::test]
async fn an_action_on_a_case_and_evidence_on_a_decision_sent_twice_at_once_are_each_recorded_once() {
    let staff = staff().await;
    let case = id_of(&staff.advocate.graphql(REFER, referral("Benefit sanction", "case-2")).await, "referCase");
    staff.advocate.mutate_by_id("acceptCase(id: $id)", "", "id", json!({ "id": case })).await;
    let action =
        "mutation($id: ID!, $i: RecordCaseActionInput!) { recordCaseAction(id: $id, input: $i) { actions { text } } }";
    let input =
        json!({ "id": case, "i": { "kind": "CALL", "text": "Rang the job centre", "clientMutationId": "call-1" } });
    let answers = futures::future::join_all((0..4).map(|_| staff.advocate.graphql(action, input.clone()))).await;
    for answer in &answers {
        assert_eq!(
            answer["data"]["recordCaseAction"]["actions"],
            json!([{ "text": "Rang the job centre" }]),
            "{answer}"
        );
    }

    let decision =
        id_of(&staff.commissioner.graphql(PROPOSE, decision("Peer mentors", "decision-2")).await, "proposeDecision");
    let link =
        "mutation($id: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $id, input: $i) { id evidence { rationale } } }";
    let themes = staff.commissioner.graphql("{ themes { id parent } }", json!({})).await;
    let theme =
        themes["data"]["themes"].as_array().unwrap().iter().find(|t| !t["parent"].is_null()).unwrap()["id"].clone();
    let input = json!({ "id": decision, "i": { "kind": "THEME", "theme": theme, "rationale": "Raised at every forum",
        "clientMutationId": "link-1" } });
    let answers = futures::future::join_all((0..4).map(|_| staff.commissioner.graphql(link, input.clone()))).await;
    for answer in &answers {
        assert_eq!(
            answer["data"]["linkEvidence"]["evidence"],
            json!([{ "rationale": "Raised at every forum" }]),
            "{answer}"
        );
    }
}

/// The value of the hidden `client_mutation_id` field of the (first) form on `page`.
fn hidden_id(page: &str) -> String {
    let at = page.find(r#"name="client_mutation_id" value=""#).unwrap_or_else(|| panic!("no hidden id: {page}"));
    let rest = &page[at + r#"name="client_mutation_id" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn the_log_feedback_form_sent_twice_logs_one_item_and_the_next_form_has_a_new_id() {
    let hub = hub().await;
    let form = hub.member.client.get(hub.app.url("/feedback/new")).send().await.unwrap().text().await.unwrap();
    let once = hidden_id(&form);
    assert_eq!(once.len(), 32, "a fresh random id: {once}");
    let fields = [
        ("client_mutation_id", once.as_str()),
        ("hub", "arun"),
        ("text", "The needle exchange shuts at lunchtime"),
        ("channel", "DROP_IN"),
        ("speaker", "ANONYMOUS"),
        ("consent", "HUB"),
        ("said_on", "2026-11-02"),
    ];
    // The same body twice, with the same session's CSRF token: a double click, or "resend".
    let first = hub.member.submit_form("/feedback/new", &fields).await;
    let second = hub.member.submit_form("/feedback/new", &fields).await;
    assert_eq!(first, second, "the second send is answered with the item the first logged");
    let (total, ids) = items(&hub.member).await;
    assert_eq!(total, 1);
    assert!(first.contains(&ids[0]), "{first}");

    let next = hub.member.client.get(hub.app.url(&first)).send().await.unwrap().text().await.unwrap();
    assert!(next.contains("The needle exchange shuts at lunchtime"), "the confirmation shows the item");
    assert_ne!(hidden_id(&next), once, "the next form is a new one");

    // A form that comes back with errors created nothing: it keeps its id.
    let unfinished =
        [("client_mutation_id", "kept-9"), ("hub", "arun"), ("channel", "DROP_IN"), ("said_on", "2026-11-02")];
    let (status, _, page) = hub.member.post_form_followed("/feedback/new", &unfinished).await;
    assert_eq!(status, 422, "{page}");
    assert_eq!(hidden_id(&page), "kept-9");
}

#[tokio::test]
async fn a_meeting_recorded_or_started_twice_with_the_same_client_mutation_id_is_one_meeting() {
    let hub = hub().await;
    let record = "mutation($i: RecordMeetingInput!) { recordMeeting(input: $i) { id attendance minutes } }";
    let recorded = |minutes: &str| {
        json!({ "i": { "hub": "arun", "heldOn": "2026-11-02", "attendance": 12, "minutes": minutes,
            "clientMutationId": "forum-november" } })
    };
    let first = hub.member.graphql(record, recorded("Talked about evening opening")).await;
    let again = hub.member.graphql(record, recorded("Talked about evening opening")).await;
    assert_eq!(id_of(&again, "recordMeeting"), id_of(&first, "recordMeeting"), "{again}");
    assert_eq!(again["data"], first["data"], "answered as the first answer showed it");
    let changed = hub.member.graphql(record, recorded("Talked about buses")).await;
    refused_on_client_id(&changed, "BAD_USER_INPUT");

    let start = "mutation($i: StartMeetingInput!) { startMeeting(input: $i) { id } }";
    let started = json!({ "i": { "hub": "arun", "heldOn": "2026-11-03", "place": "Bognor library",
        "clientMutationId": "forum-december" } });
    let answers = futures::future::join_all((0..4).map(|_| hub.member.graphql(start, started.clone()))).await;
    let first_start = id_of(&answers[0], "startMeeting");
    for answer in &answers {
        assert_eq!(id_of(answer, "startMeeting"), first_start, "{answer}");
    }
    let listed =
        hub.member.graphql("{ meetings(hub: \"arun\", first: 20) { edges { node { id } } } }", json!({})).await;
    let meetings = listed["data"]["meetings"]["edges"].as_array().unwrap_or_else(|| panic!("no meetings: {listed}"));
    assert_eq!(meetings.len(), 2, "one recorded and one started: {listed}");
}

#[tokio::test]
async fn a_meeting_item_form_sent_twice_logs_one_item_into_the_meeting() {
    let hub = hub().await;
    let start = hub.member.client.get(hub.app.url("/meetings")).send().await.unwrap().text().await.unwrap();
    let start_once = hidden_id(&start);
    let started =
        [("client_mutation_id", start_once.as_str()), ("hub", "arun"), ("held_on", "2026-11-02"), ("place", "Bognor")];
    let meeting = hub.member.submit_form("/meetings", &started).await;
    assert_eq!(hub.member.submit_form("/meetings", &started).await, meeting, "one meeting started");
    let path = meeting.split('?').next().unwrap().to_owned();

    let page = hub.member.client.get(hub.app.url(&path)).send().await.unwrap().text().await.unwrap();
    let once = hidden_id(&page);
    let fields = [
        ("client_mutation_id", once.as_str()),
        ("text", "More evening groups"),
        ("speaker", "ANONYMOUS"),
        ("consent", "HUB"),
    ];
    let first = hub.member.submit_form(&format!("{path}/items"), &fields).await;
    let second = hub.member.submit_form(&format!("{path}/items"), &fields).await;
    assert_eq!(first, second);
    let page = hub.member.client.get(hub.app.url(&path)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Logged in this meeting (1 item)"), "{page}");
    assert_eq!(items(&hub.member).await.0, 1);
}

#[tokio::test]
async fn the_complaint_case_and_decision_forms_sent_twice_each_record_one() {
    let staff = staff().await;
    let page = |session: &Session, path: &'static str| {
        let request = session.client.get(staff.app.url(path));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };

    let once = hidden_id(&page(&staff.handler, "/complaints/new").await);
    let complaint = [
        ("client_mutation_id", once.as_str()),
        ("provider", "cri"),
        ("articles", "2"),
        ("what_happened", "Turned away at the door"),
        ("outcome_wanted", "An apology"),
        ("route", "HUB"),
        ("complainant_kind", "ANONYMOUS"),
    ];
    let first = staff.handler.submit_form("/complaints/new/submit", &complaint).await;
    assert_eq!(staff.handler.submit_form("/complaints/new/submit", &complaint).await, first);
    assert_eq!(count(&staff.handler, "complaints").await, 1);

    let once = hidden_id(&page(&staff.advocate, "/cases/new").await);
    let case = [
        ("client_mutation_id", once.as_str()),
        ("issue", "Eviction notice from the hostel"),
        ("kind", "INSTRUCTED"),
        ("referral_source", "SELF_REFERRAL"),
        ("domain", "HOUSING"),
    ];
    let first = staff.advocate.submit_form("/cases/new", &case).await;
    assert_eq!(staff.advocate.submit_form("/cases/new", &case).await, first);
    assert_eq!(count(&staff.advocate, "cases").await, 1);

    let once = hidden_id(&page(&staff.commissioner, "/decisions/new").await);
    let decision = [
        ("client_mutation_id", once.as_str()),
        ("step", "propose"),
        ("title", "Evening opening in Crawley"),
        ("service_area", "Treatment"),
        ("decided_by", "DAAT board"),
        ("decision_date", "2026-11-02"),
        ("ladder_rung", "4"),
        ("involvement", "Asked at the forum"),
    ];
    let first = staff.commissioner.submit_form("/decisions/new", &decision).await;
    assert_eq!(staff.commissioner.submit_form("/decisions/new", &decision).await, first);
    assert_eq!(count(&staff.commissioner, "decisions").await, 1);
}
