//! Meeting mode from the web UI, as a peer volunteer at a forum would use it: start the meeting,
//! log each point into it, undo the last one or correct one, and end it with attendance and
//! minutes. And what a nosy account or a replayed form can do with it: nothing.

use heard_tests::{Hub, Session, error_code, hub};
use serde_json::{Value, json};

const MEETING: &str = "query($id: ID!) { meeting(id: $id) { id hub heldOn place isOpen attendance minutes itemIds items { id text channel saidOn meeting } } }";

fn today() -> jiff::civil::Date {
    jiff::Zoned::now().date()
}

/// Posts a form as the browser would (with the session's CSRF token), follows the redirect and
/// returns the status, the address it ended at and the page.
async fn post_form(hub: &Hub, session: &Session, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", session.csrf_token.as_str())];
    form.extend_from_slice(fields);
    let response = session.client.post(hub.app.url(path)).form(&form).send().await.expect("answered");
    let status = response.status().as_u16();
    let url = response.url().to_string();
    (status, url, response.text().await.expect("a page"))
}

/// Starts a meeting from the web UI; its id.
async fn start(hub: &Hub, held_on: &str) -> String {
    let (status, url, page) = post_form(
        hub,
        &hub.member,
        "/meetings",
        &[("hub", "arun"), ("held_on", held_on), ("place", "Bognor hub, upstairs")],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(url.contains("?done=started"), "after starting, the meeting's own page: {url}");
    let id = url.split("/meetings/").nth(1).and_then(|rest| rest.split('?').next()).expect("a meeting id").to_owned();
    assert!(page.contains("Bognor hub, upstairs"), "the page names the meeting");
    id
}

/// Logs one item into the meeting from its page; the item's id.
async fn log_into(hub: &Hub, meeting: &str, text: &str) -> String {
    let fields = [("text", text), ("speaker", "ANONYMOUS"), ("consent", "COMMISSIONERS")];
    let (status, url, page) = post_form(hub, &hub.member, &format!("/meetings/{meeting}/items"), &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(url.contains(&format!("/meetings/{meeting}?logged=")), "back to the meeting after saving: {url}");
    assert!(
        page.contains(&format!("<blockquote class=\"quote\">{text}</blockquote>")),
        "the whole quote is shown: {page}"
    );
    url.split("logged=").nth(1).and_then(|rest| rest.split(['&', '#']).next()).expect("the item's id").to_owned()
}

async fn meeting(session: &Session, id: &str) -> Value {
    let answer = session.graphql(MEETING, json!({ "id": id })).await;
    answer["data"]["meeting"].clone()
}

#[tokio::test]
async fn a_meeting_is_started_first_and_each_item_logged_into_it_carries_its_hub_day_and_meeting_without_retyping() {
    let hub = hub().await;
    let day = today().strftime("%d/%m/%Y").to_string();
    let id = start(&hub, &day).await;
    let first = log_into(&hub, &id, "The evening clinic would let me keep my job").await;
    let second = log_into(&hub, &id, "Peer mentors helped me more than anything").await;

    let page = hub.member.client.get(hub.app.url(&format!("/meetings/{id}?logged={second}"))).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("autofocus"), "the cursor goes back to the text box for the next point");
    assert!(page.contains("Logged in this meeting (2 items)"), "the running list counts what was logged: {page}");
    assert!(page.contains(&today().strftime("%-d %B %Y").to_string()), "the day is shown as people write it");

    let found = meeting(&hub.member, &id).await;
    assert_eq!(found["isOpen"], true);
    assert_eq!(found["itemIds"], json!([first, second]), "in the order they were logged");
    for item in found["items"].as_array().unwrap() {
        assert_eq!(item["meeting"], id.as_str(), "each item names its meeting");
        assert_eq!(item["saidOn"], today().to_string(), "each item takes the meeting's day");
        assert_eq!(item["channel"], "FORUM");
    }

    let (status, url, page) = post_form(
        &hub,
        &hub.member,
        &format!("/meetings/{id}/end"),
        &[("attendance", "12"), ("minutes", "Twelve came.")],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(url.ends_with(&format!("/meetings/{id}?done=ended")), "{url}");
    assert!(page.contains("The meeting is recorded."), "{page}");
    let ended = meeting(&hub.coordinator, &id).await;
    assert_eq!((ended["isOpen"].clone(), ended["attendance"].clone()), (json!(false), json!(12)));
    assert_eq!(ended["minutes"], "Twelve came.");
    assert_eq!(ended["itemIds"], json!([first, second]), "recording it keeps the items logged into it");

    let late = log_into_by_api(&hub.member, &id).await;
    assert_eq!(late["errors"][0]["extensions"]["field"], "input.meeting", "{late}");
    let (status, _, page) = post_form(
        &hub,
        &hub.member,
        &format!("/meetings/{id}/items"),
        &[("text", "Too late"), ("speaker", "ANONYMOUS"), ("consent", "HUB")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("This meeting has ended"), "{page}");
}

async fn log_into_by_api(session: &Session, meeting: &str) -> Value {
    session
        .graphql(
            "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }",
            json!({ "i": { "hub": "arun", "text": "After the end", "channel": "FORUM", "saidOn": today().to_string(),
                "speaker": "ANONYMOUS", "consent": "HUB", "meeting": meeting } }),
        )
        .await
}

#[tokio::test]
async fn undoing_the_last_item_takes_it_back_as_an_event_and_it_leaves_the_meeting_the_queue_and_every_answer() {
    let hub = hub().await;
    let id = start(&hub, &today().to_string()).await;
    let kept = log_into(&hub, &id, "Opening on Saturdays would help").await;
    let mistake = log_into(&hub, &id, "Typed into the wrong box by mistake").await;

    let (status, url, page) = post_form(&hub, &hub.member, &format!("/feedback/{mistake}/undo"), &[]).await;
    assert_eq!(status, 200, "{page}");
    assert!(url.contains(&format!("/meetings/{id}?done=undone")), "back to the meeting: {url}");
    assert!(!page.contains("Typed into the wrong box"), "it is not on the meeting page any more");
    assert!(page.contains("Logged in this meeting (1 item)"), "{page}");

    assert_eq!(meeting(&hub.member, &id).await["itemIds"], json!([kept]));
    let gone =
        hub.coordinator.graphql("query($id: ID!) { feedbackItem(id: $id) { id } }", json!({ "id": mistake })).await;
    assert_eq!(error_code(&gone), Some("NOT_FOUND"), "{gone}");
    let queue = hub
        .coordinator
        .graphql("{ moderationQueue(hub: \"arun\", first: 100) { edges { node { id } } } }", json!({}))
        .await;
    assert!(!queue.to_string().contains(&mistake), "it left the moderation queue: {queue}");
    assert!(queue.to_string().contains(&kept), "the other item is still waiting: {queue}");
    hub.app.settled().await;
    let stream = heard_eventstore::StreamName::of("feedback", &mistake).unwrap();
    let events = hub.app.store.read_stream_to_end(&stream).await.expect("its stream");
    let types: Vec<&str> = events.iter().map(|event| event.event_type.as_str()).collect();
    assert_eq!(types, ["FeedbackLogged", "FeedbackWithdrawn"], "the log keeps that it happened");

    let (status, _, _) = post_form(&hub, &hub.member, &format!("/feedback/{mistake}/undo"), &[]).await;
    assert_eq!(status, 404, "a replayed undo finds nothing to take back");
}

#[tokio::test]
async fn only_the_person_who_logged_an_item_can_undo_or_correct_it_and_another_hub_cannot_reach_the_meeting() {
    let hub = hub().await;
    let id = start(&hub, &today().to_string()).await;
    let item = log_into(&hub, &id, "The needle exchange closes too early").await;

    let by_coordinator =
        hub.coordinator.graphql("mutation($id: ID!) { undoFeedback(id: $id) }", json!({ "id": item })).await;
    assert!(
        by_coordinator["errors"][0]["message"].as_str().unwrap_or("").contains("only the person who logged"),
        "{by_coordinator}"
    );
    let edit = "mutation($id: ID!) { editFeedback(id: $id, text: \"Changed by someone else\") { id } }";
    assert!(hub.coordinator.graphql(edit, json!({ "id": item })).await["errors"].is_array());

    let nosy = hub.crawley.graphql(MEETING, json!({ "id": id })).await;
    assert_eq!(error_code(&nosy), Some("NOT_FOUND"), "another hub's meeting is not found: {nosy}");
    let page = hub.crawley.client.get(hub.app.url(&format!("/meetings/{id}"))).send().await.unwrap();
    assert_eq!(page.status(), 404);
    let before = hub.app.store.head().position;
    let (status, _, _) = post_form(
        &hub,
        &hub.crawley,
        &format!("/meetings/{id}/items"),
        &[("text", "Nosy"), ("speaker", "ANONYMOUS"), ("consent", "HUB")],
    )
    .await;
    assert_eq!(status, 404, "a forged form into another hub's meeting is not found");
    for path in [format!("/feedback/{item}/undo"), format!("/feedback/{item}/edit"), format!("/meetings/{id}/end")] {
        let (status, _, _) = post_form(&hub, &hub.crawley, &path, &[("text", "Nosy"), ("attendance", "1")]).await;
        assert_eq!(status, 404, "{path}");
    }
    let foreign = hub
        .member
        .client
        .post(hub.app.url(&format!("/feedback/{item}/undo")))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_ne!(foreign.status().as_u16(), 200, "a form from another site (wrong token) changes nothing");
    hub.app.settled().await;
    let appended = hub.app.store.read_all(before + 1, 100).await.expect("the log reads");
    let changes: Vec<&str> = appended.iter().map(|e| e.stream.category()).filter(|c| *c != "access").collect();
    assert!(changes.is_empty(), "nothing was appended: {changes:?}");
    assert_eq!(meeting(&hub.member, &id).await["itemIds"], json!([item]), "the item is still there");
}

#[tokio::test]
async fn correcting_an_item_changes_its_words_until_a_coordinator_has_shared_it() {
    let hub = hub().await;
    let id = start(&hub, &today().to_string()).await;
    let item = log_into(&hub, &id, "The chemist made Jo queue outside").await;

    let form = hub.member.client.get(hub.app.url(&format!("/feedback/{item}/edit"))).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let (status, url, page) = post_form(
        &hub,
        &hub.member,
        &format!("/feedback/{item}/edit"),
        &[("text", "The chemist made people queue outside")],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(url.contains(&format!("/meetings/{id}?done=edited")), "{url}");
    assert!(page.contains("The chemist made people queue outside"), "{page}");
    let text =
        hub.coordinator.graphql("query($id: ID!) { feedbackItem(id: $id) { text } }", json!({ "id": item })).await;
    assert_eq!(text["data"]["feedbackItem"]["text"], "The chemist made people queue outside");

    hub.coordinator.mutate_by_id("shareFeedback(id: $id)", "", "id", json!({ "id": item })).await;
    let late = hub
        .member
        .graphql("mutation($id: ID!) { editFeedback(id: $id, text: \"Again\") { id } }", json!({ "id": item }))
        .await;
    assert!(late["errors"][0]["message"].as_str().unwrap_or("").contains("already moderated"), "{late}");
    let form = hub.member.client.get(hub.app.url(&format!("/feedback/{item}/edit"))).send().await.unwrap();
    assert_eq!(form.status(), 404, "once shared there is nothing to correct");
}

#[tokio::test]
async fn a_day_that_does_not_exist_is_named_in_the_same_words_on_every_form_and_in_the_api() {
    let hub = hub().await;
    let (status, _, page) =
        post_form(&hub, &hub.member, "/meetings", &[("hub", "arun"), ("held_on", "30/02/2026"), ("place", "Bognor")])
            .await;
    assert_eq!(status, 422);
    assert!(page.contains(r##"<a href="#held_on">30 February 2026 does not exist</a>"##), "{page}");
    let fields = [
        ("hub", "arun"),
        ("text", "Words"),
        ("channel", "FORUM"),
        ("speaker", "ANONYMOUS"),
        ("consent", "HUB"),
        ("said_on", "30/02/2026"),
    ];
    let (status, _, page) = post_form(&hub, &hub.member, "/feedback/new", &fields).await;
    assert_eq!(status, 422);
    assert!(page.contains(r##"<a href="#said_on">30 February 2026 does not exist</a>"##), "{page}");
    let api = hub
        .member
        .graphql(
            "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }",
            json!({ "i": { "hub": "arun", "text": "Words", "channel": "FORUM", "saidOn": "30/02/2026",
                "speaker": "ANONYMOUS", "consent": "HUB" } }),
        )
        .await;
    assert_eq!(api["errors"][0]["extensions"]["field"], "input.saidOn", "{api}");
    assert!(api["errors"][0]["message"].as_str().unwrap().contains("30 February 2026 does not exist"), "{api}");
    let (status, url, _) = post_form(
        &hub,
        &hub.member,
        "/feedback/new",
        &[
            ("hub", "arun"),
            ("text", "Words"),
            ("channel", "FORUM"),
            ("speaker", "ANONYMOUS"),
            ("consent", "HUB"),
            ("said_on", "1 March 2026"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(url.contains("/feedback/new?logged="), "a day written in words is taken: {url}");
}
