//! Feedback from the hubs through GraphQL: logging, moderation, consent, safeguarding, search,
//! the live subscription and a rebuilt index, as the people using them would.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use heard_tests::{Session, TestApp, error_code, hub, spawn_app, spawn_app_in, spawn_app_with};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const LOG: &str = "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id text view moderation loopState } }";
const ITEM: &str = "query($id: ID!) { feedbackItem(id: $id) { id text view speakerName consent moderation } }";
const SEARCH: &str = "query($q: String!, $f: FeedbackFilter) { searchFeedback(query: $q, filter: $f, first: 20) { total facets { dimension value count } edges { node { fragment highlights { start end } item { id text } } } } }";

fn input(text: &str, consent: &str) -> Value {
    json!({ "i": {
        "hub": "arun", "text": text, "channel": "DROP_IN", "saidOn": "2026-11-02",
        "themes": ["Opening hours"], "speaker": "PSEUDONYMOUS", "speakerName": "Sunny", "consent": consent,
        "about": "Community pharmacies"
    }})
}

async fn log(session: &Session, text: &str, consent: &str) -> String {
    let logged = session.graphql(LOG, input(text, consent)).await;
    logged["data"]["logFeedback"]["id"].as_str().unwrap_or_else(|| panic!("not logged: {logged}")).to_owned()
}

/// Searches once everything logged so far is searchable. The index commits every 200 ms; how
/// soon is a benchmark's to measure, not a test's: on a loaded machine this waits up to 30 s.
async fn search_now(app: &TestApp, session: &Session, query: &str) -> Value {
    let head = app.store.head().position;
    assert!(app.feedback.wait_searchable(head, Duration::from_secs(30)).await, "never became searchable");
    session.graphql(SEARCH, json!({ "q": query })).await
}

fn total(found: &Value) -> i64 {
    found["data"]["searchFeedback"]["total"].as_i64().unwrap_or_else(|| panic!("no total: {found}"))
}

#[tokio::test]
async fn a_logged_item_stays_in_the_hub_until_a_coordinator_shares_it() {
    let hub = hub().await;
    let id = log(&hub.member, "The pharmacy closes at five so I miss my script after work", "COMMISSIONERS").await;

    let own = hub.member.graphql(ITEM, json!({ "id": id })).await;
    assert_eq!(own["data"]["feedbackItem"]["view"], "HUB");
    assert_eq!(own["data"]["feedbackItem"]["speakerName"], "Sunny");
    for outsider in [&hub.commissioner, &hub.crawley] {
        let seen = outsider.graphql(ITEM, json!({ "id": id })).await;
        assert_eq!(error_code(&seen), Some("NOT_FOUND"), "{seen}");
    }
    let refused = hub.member.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": id })).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "members cannot share: {refused}");

    let shared = hub
        .coordinator
        .graphql("mutation($id: ID!) { shareFeedback(id: $id) { moderation loopState } }", json!({ "id": id }))
        .await;
    assert_eq!(shared["data"]["shareFeedback"], json!({ "moderation": "SHARED", "loopState": "SHARED" }));
    let seen = hub.commissioner.graphql(ITEM, json!({ "id": id })).await;
    assert_eq!(seen["data"]["feedbackItem"]["view"], "SHARED");
    assert_eq!(seen["data"]["feedbackItem"]["speakerName"], Value::Null, "the speaker's name never leaves the hub");
    assert_eq!(error_code(&hub.crawley.graphql(ITEM, json!({ "id": id })).await), Some("NOT_FOUND"));
}

#[tokio::test]
async fn a_redacted_name_is_never_shown_or_found_outside_the_hub() {
    let hub = hub().await;
    let id = log(&hub.member, "Marigold at the Littlehampton clinic shouted at me about my methadone", "PUBLIC").await;
    let redacted = hub
        .coordinator
        .graphql(
            "mutation($id: ID!, $p: [String!]!) { redactFeedback(id: $id, passages: $p) { text redactedText } }",
            json!({ "id": id, "p": ["Marigold", "Littlehampton"] }),
        )
        .await;
    assert_eq!(
        redacted["data"]["redactFeedback"]["redactedText"],
        "[redacted] at the [redacted] clinic shouted at me about my methadone"
    );
    hub.coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": id })).await;

    let outside = hub.commissioner.graphql(ITEM, json!({ "id": id })).await;
    assert_eq!(
        outside["data"]["feedbackItem"]["text"],
        "[redacted] at the [redacted] clinic shouted at me about my methadone"
    );
    let anonymous = hub.app.graphql(ITEM, json!({ "id": id })).await;
    assert!(!anonymous.to_string().contains("Marigold"), "{anonymous}");

    let found = search_now(&hub.app, &hub.commissioner, "methadone").await;
    assert_eq!(total(&found), 1, "{found}");
    assert!(!found.to_string().contains("Marigold") && !found.to_string().contains("Littlehampton"), "{found}");
    for word in ["Marigold", "Littlehampton"] {
        let public = hub.app.graphql(SEARCH, json!({ "q": word })).await;
        assert_eq!(total(&public), 0, "the redacted word {word} is not searchable outside the hub: {public}");
        let commissioner = hub.commissioner.graphql(SEARCH, json!({ "q": word })).await;
        assert_eq!(total(&commissioner), 0, "{commissioner}");
    }
    let inside = hub.member.graphql(SEARCH, json!({ "q": "Marigold" })).await;
    assert_eq!(total(&inside), 1, "the hub can still find its own record: {inside}");
}

#[tokio::test]
async fn withdrawing_consent_removes_the_item_from_shared_search_and_counts_at_once() {
    let hub = hub().await;
    let id = log(&hub.member, "The evening group at the recovery cafe keeps me going", "PUBLIC").await;
    hub.coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": id })).await;
    let before = search_now(&hub.app, &hub.commissioner, "evening group").await;
    assert_eq!(total(&before), 1, "{before}");
    let facets_before = before["data"]["searchFeedback"]["facets"].to_string();
    assert!(facets_before.contains("opening-hours"), "{facets_before}");

    let withdrawn = hub
        .member
        .graphql(
            "mutation($id: ID!) { changeConsent(id: $id, consent: WITHDRAWN) { consent text } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(withdrawn["data"]["changeConsent"], json!({ "consent": "WITHDRAWN", "text": null }));
    assert_eq!(error_code(&hub.commissioner.graphql(ITEM, json!({ "id": id })).await), Some("NOT_FOUND"));
    let listed = hub.commissioner.graphql("{ feedbackItems { edges { node { id } } } }", json!({})).await;
    assert_eq!(listed["data"]["feedbackItems"]["edges"], json!([]));
    let after = search_now(&hub.app, &hub.commissioner, "evening group").await;
    assert_eq!(total(&after), 0, "{after}");
    assert_eq!(after["data"]["searchFeedback"]["facets"], json!([]), "counts drop too");
}

#[tokio::test]
async fn a_safeguarding_item_reaches_only_the_named_coordinator_and_never_leaves_the_queue() {
    let hub = hub().await;
    let id = log(&hub.member, "He told us he has been thinking about ending his life", "PUBLIC").await;
    hub.member.flag_safeguarding(&id, &hub.coordinator_id).await;

    let queue =
        hub.coordinator.graphql("{ safeguardingQueue { edges { node { id text safeguarding } } } }", json!({})).await;
    assert_eq!(queue["data"]["safeguardingQueue"]["edges"][0]["node"]["id"], id.as_str());
    assert_eq!(error_code(&hub.member.graphql(ITEM, json!({ "id": id })).await), Some("NOT_FOUND"));
    let share =
        hub.coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": id })).await;
    assert_eq!(error_code(&share), Some("CONFLICT"), "{share}");
    for session in [&hub.member, &hub.commissioner, &hub.crawley] {
        let found = session.graphql(SEARCH, json!({ "q": "ending his life" })).await;
        assert_eq!(total(&found), 0, "{found}");
    }
    let moderation =
        hub.coordinator.graphql("{ moderationQueue(hub: \"arun\") { edges { node { id } } } }", json!({})).await;
    assert!(!moderation.to_string().contains(&id), "not in the ordinary moderation queue either");
}

#[tokio::test]
async fn a_new_item_is_searchable_within_a_second_with_fuzzy_matching_and_highlights() {
    let hub = hub().await;
    log(&hub.member, "I waited nine weeks for my first appointment at the clinic", "HUB").await;
    let found = search_now(&hub.app, &hub.member, "apointment").await;
    assert_eq!(total(&found), 1, "a misspelling still finds it: {found}");
    let exact = hub.member.graphql(SEARCH, json!({ "q": "appointment" })).await;
    let node = &exact["data"]["searchFeedback"]["edges"][0]["node"];
    let fragment = node["fragment"].as_str().unwrap();
    let (start, end) = (
        node["highlights"][0]["start"].as_u64().unwrap() as usize,
        node["highlights"][0]["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&fragment[start..end], "appointment", "{exact}");
    let phrase = hub.member.graphql(SEARCH, json!({ "q": "\"first appointment\"" })).await;
    assert_eq!(total(&phrase), 1);
    let wrong_phrase = hub.member.graphql(SEARCH, json!({ "q": "\"appointment first\"" })).await;
    assert_eq!(total(&wrong_phrase), 0);
}

#[tokio::test]
async fn filters_and_facets_narrow_a_search_and_count_only_what_the_asker_may_see() {
    let hub = hub().await;
    for (text, consent) in [
        ("Opening hours at the hub are too short for people who work", "COMMISSIONERS"),
        ("Weekend opening hours would help parents", "COMMISSIONERS"),
        ("Opening hours are fine but the waiting room is cold", "HUB"),
    ] {
        let id = log(&hub.member, text, consent).await;
        if consent != "HUB" {
            hub.coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": id })).await;
        }
    }
    let inside = search_now(&hub.app, &hub.member, "hours").await;
    assert_eq!(total(&inside), 3, "{inside}");
    let outside = search_now(&hub.app, &hub.commissioner, "hours").await;
    assert_eq!(total(&outside), 2, "hub-only items are not counted for commissioners: {outside}");
    let facets = outside["data"]["searchFeedback"]["facets"].as_array().unwrap();
    let hub_count = facets.iter().find(|f| f["dimension"] == "hub" && f["value"] == "arun").unwrap();
    assert_eq!(hub_count["count"], 2);
    let filtered = hub.commissioner.graphql(SEARCH, json!({ "q": "hours", "f": { "hub": "crawley" } })).await;
    assert_eq!(total(&filtered), 0);
    let by_date = hub.commissioner.graphql(SEARCH, json!({ "q": "hours", "f": { "from": "2026-11-03" } })).await;
    assert_eq!(total(&by_date), 0, "all were said on 2026-11-02");
    let bad = hub.commissioner.graphql(SEARCH, json!({ "q": "hours", "f": { "from": "yesterday" } })).await;
    assert_eq!(error_code(&bad), Some("BAD_USER_INPUT"));
    assert_eq!(bad["errors"][0]["extensions"]["field"], "filter.from");
}

#[tokio::test]
async fn logging_bad_input_names_the_field_and_logs_nothing() {
    let hub = hub().await;
    let mut bad = input("", "HUB");
    let empty = hub.member.graphql(LOG, bad.clone()).await;
    assert_eq!(empty["errors"][0]["extensions"]["field"], "input.text", "{empty}");
    bad["i"]["text"] = json!("Something worth saying");
    bad["i"]["saidOn"] = json!("2099-01-01");
    assert_eq!(hub.member.graphql(LOG, bad.clone()).await["errors"][0]["extensions"]["field"], "input.saidOn");
    bad["i"]["saidOn"] = json!("2026-11-02");
    bad["i"]["themes"] = json!(["Opening hours", "Astrology"]);
    assert_eq!(hub.member.graphql(LOG, bad.clone()).await["errors"][0]["extensions"]["field"], "input.themes[1]");
    bad["i"]["themes"] = json!([]);
    bad["i"]["hub"] = json!("crawley");
    assert_eq!(error_code(&hub.member.graphql(LOG, bad).await), Some("FORBIDDEN"), "not their hub");
    let listed = hub.member.graphql("{ feedbackItems { edges { node { id } } } }", json!({})).await;
    assert_eq!(listed["data"]["feedbackItems"]["edges"], json!([]));
}

#[tokio::test]
async fn themes_can_be_added_renamed_and_merged_by_coordinators() {
    let hub = hub().await;
    let added = hub
        .coordinator
        .graphql("mutation { addTheme(name: \"Digital access\", parent: \"Getting help\") { id parent } }", json!({}))
        .await;
    assert_eq!(added["data"]["addTheme"], json!({ "id": "digital-access", "parent": "getting-help" }));
    let renamed = hub
        .coordinator
        .graphql("mutation { renameTheme(id: \"digital-access\", name: \"Phones and internet\") { name } }", json!({}))
        .await;
    assert_eq!(renamed["data"]["renameTheme"]["name"], "Phones and internet");
    let merged = hub
        .coordinator
        .graphql(
            "mutation { mergeThemes(from: \"rural-transport\", into: \"access-and-waiting-times\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(merged["data"]["mergeThemes"]["id"], "access-and-waiting-times");
    let themes = hub.member.graphql("{ themes { id } }", json!({})).await.to_string();
    assert!(themes.contains("digital-access") && !themes.contains("rural-transport"), "{themes}");
    let refused = hub.member.graphql("mutation { addTheme(name: \"Anything\") { id } }", json!({})).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));
}

#[tokio::test]
async fn a_meeting_records_attendance_minutes_and_the_items_raised() {
    let hub = hub().await;
    let id = log(&hub.member, "More evening groups please", "HUB").await;
    let recorded = hub
        .member
        .graphql(
            "mutation($i: RecordMeetingInput!) { recordMeeting(input: $i) { id heldOn attendance itemIds } }",
            json!({ "i": { "hub": "arun", "heldOn": "2026-11-05", "attendance": 14, "minutes": "We talked about evening groups.", "itemIds": [id] } }),
        )
        .await;
    assert_eq!(recorded["data"]["recordMeeting"]["attendance"], 14, "{recorded}");
    let meetings =
        hub.coordinator.graphql("{ meetings(hub: \"arun\") { edges { node { minutes itemIds } } } }", json!({})).await;
    assert_eq!(meetings["data"]["meetings"]["edges"][0]["node"]["minutes"], "We talked about evening groups.");
    let other = hub.crawley.graphql("{ meetings(hub: \"arun\") { edges { node { id } } } }", json!({})).await;
    assert_eq!(error_code(&other), Some("FORBIDDEN"));
}

#[tokio::test]
async fn the_feedback_logged_subscription_shows_only_what_the_subscriber_may_see() {
    let hub = hub().await;
    let commissioner_token = {
        let id = hub.app.identity.directory().read(|s| s.by_email["commissioner@example.org"]);
        hub.app.token_for(id).await
    };
    let member_token = {
        let id = hub.app.identity.directory().read(|s| s.by_email["member@example.org"]);
        hub.app.token_for(id).await
    };
    let subscribe = |token: String| {
        let addr = hub.app.addr;
        async move {
            let mut request = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
            request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
            let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
            let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
            socket.send(Message::text(init.to_string())).await.unwrap();
            socket.next().await.unwrap().unwrap();
            let sub = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { feedbackLogged { text view } }" } });
            socket.send(Message::text(sub.to_string())).await.unwrap();
            socket
        }
    };
    let mut member_socket = subscribe(member_token).await;
    let mut commissioner_socket = subscribe(commissioner_token).await;
    // Both subscriptions are listening before anything is logged.
    let listening = tokio::time::timeout(Duration::from_secs(5), async {
        while hub.app.feedback.subscribers() < 2 {
            tokio::task::yield_now().await;
        }
    });
    assert!(listening.await.is_ok(), "the subscriptions did not start");
    log(&hub.member, "Nobody told me the clinic had moved", "COMMISSIONERS").await;
    let next =
        tokio::time::timeout(Duration::from_secs(5), member_socket.next()).await.expect("the member hears of it");
    let message: Value = serde_json::from_str(&next.unwrap().unwrap().into_text().unwrap()).unwrap();
    assert_eq!(message["payload"]["data"]["feedbackLogged"]["text"], "Nobody told me the clinic had moved");
    let nothing = tokio::time::timeout(Duration::from_millis(700), commissioner_socket.next()).await;
    assert!(nothing.is_err(), "the commissioner must not see an unshared item: {nothing:?}");
}

/// A websocket to the real server on which one subscription (id `1`) runs.
pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The API token of the account with `email`.
pub(crate) async fn token_of(app: &TestApp, email: &str) -> String {
    let id = app.identity.directory().read(|s| s.by_email[email]);
    app.token_for(id).await
}

/// Connects over `socket` (or a fresh connection), holder of `token`, and subscribes once the
/// connection is acknowledged.
pub(crate) async fn subscribed_over(
    app: &TestApp,
    socket: Option<tokio::net::TcpStream>,
    token: &str,
    query: &str,
    variables: Value,
) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let tcp = match socket {
        Some(tcp) => tcp,
        None => tokio::net::TcpStream::connect(app.addr).await.expect("connects"),
    };
    let (mut socket, _) = tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
        .await
        .expect("the websocket opens");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    let ack = next_message(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } });
    socket.send(Message::text(subscribe.to_string())).await.unwrap();
    socket
}

pub(crate) async fn subscribed(app: &TestApp, token: &str, query: &str, variables: Value) -> Socket {
    subscribed_over(app, None, token, query, variables).await
}

/// The next protocol message (`connection_ack`, `next`, `error`, `complete`), pings answered by
/// nobody and skipped; panics after `within`.
pub(crate) async fn next_message(socket: &mut Socket, within: Duration) -> Value {
    loop {
        let message = tokio::time::timeout(within, socket.next())
            .await
            .unwrap_or_else(|_| panic!("nothing came within {within:?}"))
            .expect("the socket stays open")
            .expect("a message");
        let Message::Text(text) = message else { continue };
        let value: Value = serde_json::from_str(&text).unwrap();
        if !matches!(value["type"].as_str(), Some("ping" | "pong")) {
            return value;
        }
    }
}

/// The next item `feedbackLogged` delivers (panics on anything else).
async fn next_logged(socket: &mut Socket) -> Value {
    let message = next_message(socket, Duration::from_secs(10)).await;
    assert_eq!(message["type"], "next", "{message}");
    let item = message["payload"]["data"]["feedbackLogged"].clone();
    assert!(item.is_object(), "an item: {message}");
    item
}

/// Nothing more comes within `within`.
async fn nothing_more(socket: &mut Socket, within: Duration) {
    let more = tokio::time::timeout(within, socket.next()).await;
    assert!(more.is_err(), "nothing more should come: {more:?}");
}

async fn until_subscribed(app: &TestApp, subscribers: usize) {
    let listening = tokio::time::timeout(Duration::from_secs(10), async {
        while app.feedback.subscribers() < subscribers {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    assert!(listening.await.is_ok(), "the subscription did not start");
}

fn position(item: &Value) -> u64 {
    item["position"].as_str().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("a position: {item}"))
}

/// Logs in `hub` as `session`.
async fn log_in(session: &Session, hub: &str, text: &str) -> String {
    let mut variables = input(text, "COMMISSIONERS");
    variables["i"]["hub"] = json!(hub);
    let logged = session.graphql(LOG, variables).await;
    logged["data"]["logFeedback"]["id"].as_str().unwrap_or_else(|| panic!("not logged: {logged}")).to_owned()
}

const LOGGED: &str = "subscription($after: String) { feedbackLogged(after: $after) { id text position } }";

#[tokio::test]
async fn a_subscriber_that_comes_back_after_the_last_position_it_saw_gets_exactly_the_items_it_missed_in_order_then_new_ones()
 {
    let hub = hub().await;
    let member = token_of(&hub.app, "member@example.org").await;
    let mut socket = subscribed(&hub.app, &member, LOGGED, json!({})).await;
    until_subscribed(&hub.app, 1).await;
    let first = log(&hub.member, "The evening group was cancelled again", "COMMISSIONERS").await;
    let seen = next_logged(&mut socket).await;
    assert_eq!(seen["id"], first.as_str());
    let last_seen = seen["position"].as_str().unwrap().to_owned();
    socket.close(None).await.unwrap();
    drop(socket);

    // While the subscriber is away: two items of its hub, and one of a hub it may not see.
    let one = log(&hub.member, "Nobody answers the phone at the clinic", "COMMISSIONERS").await;
    log_in(&hub.crawley, "crawley", "The Crawley drop-in moved without notice").await;
    let two = log(&hub.member, "The new keyworker listens", "COMMISSIONERS").await;

    let mut socket = subscribed(&hub.app, &member, LOGGED, json!({ "after": last_seen })).await;
    let caught_up = [next_logged(&mut socket).await, next_logged(&mut socket).await];
    assert_eq!(caught_up.iter().map(|item| item["id"].as_str().unwrap()).collect::<Vec<_>>(), [one, two]);
    assert_eq!(caught_up[0]["text"], "Nobody answers the phone at the clinic");
    assert!(position(&seen) < position(&caught_up[0]) && position(&caught_up[0]) < position(&caught_up[1]));

    // Then live, with nothing twice and nothing skipped at the seam.
    let live = log(&hub.member, "The pharmacy now opens on Saturdays", "COMMISSIONERS").await;
    let next = next_logged(&mut socket).await;
    assert_eq!(next["id"], live.as_str(), "the next item is the new one: nothing else in between");
    assert!(position(&next) > position(&caught_up[1]));
    nothing_more(&mut socket, Duration::from_millis(500)).await;
}

#[tokio::test]
async fn resuming_shows_each_subscriber_only_what_they_may_see_never_another_hubs_items() {
    let hub = hub().await;
    let shared = log(&hub.member, "The needle exchange van comes too rarely", "COMMISSIONERS").await;
    let share = "mutation($id: ID!) { shareFeedback(id: $id) { id } }";
    let answer = hub.coordinator.graphql(share, json!({ "id": shared })).await;
    assert!(answer["data"]["shareFeedback"].is_object(), "{answer}");
    log(&hub.member, "Sunny said the staff were kind but rushed", "COMMISSIONERS").await;
    let crawley_own = log_in(&hub.crawley, "crawley", "The Crawley drop-in moved without notice").await;
    let query = "subscription($after: String, $hub: ID) { feedbackLogged(after: $after, hub: $hub) { id hub view speakerName } }";

    // Crawley's coordinator, from the very start of the log: only Crawley's own item.
    let crawley = token_of(&hub.app, "crawley@example.org").await;
    let mut socket = subscribed(&hub.app, &crawley, query, json!({ "after": "0" })).await;
    let first = next_logged(&mut socket).await;
    assert_eq!((first["id"].as_str(), first["view"].as_str()), (Some(crawley_own.as_str()), Some("HUB")));
    // And live: Arun's next item is never told, Crawley's is.
    log(&hub.member, "Arun's next item stays in Arun", "COMMISSIONERS").await;
    let next_own = log_in(&hub.crawley, "crawley", "Crawley's next item").await;
    assert_eq!(next_logged(&mut socket).await["id"], next_own.as_str());

    // The commissioner: only the shared item, in the shared version (no speaker's name).
    let commissioner = token_of(&hub.app, "commissioner@example.org").await;
    let mut socket = subscribed(&hub.app, &commissioner, query, json!({ "after": "0" })).await;
    let seen = next_logged(&mut socket).await;
    assert_eq!(seen["id"], shared.as_str());
    assert_eq!((seen["view"].as_str(), &seen["speakerName"]), (Some("SHARED"), &Value::Null));
    nothing_more(&mut socket, Duration::from_millis(500)).await;

    // Arun's coordinator asking for Crawley's items from the start gets none of them.
    let coordinator = token_of(&hub.app, "coordinator@example.org").await;
    let mut socket = subscribed(&hub.app, &coordinator, query, json!({ "after": "0", "hub": "crawley" })).await;
    nothing_more(&mut socket, Duration::from_millis(500)).await;
}

#[tokio::test]
async fn a_subscriber_that_falls_too_far_behind_is_told_it_lagged_and_resuming_where_it_is_told_delivers_the_rest() {
    let app = spawn_app_with(|settings| settings.server.subscription_buffer = 2).await;
    let [(_, member)] = app.people(["member"]).await;
    let token = token_of(&app, "member@example.org").await;
    // A subscriber that reads nothing: each delivery is large (the item's 4,000 characters under
    // 200 names), its socket takes little, so the server soon cannot send and stops reading the
    // announcements, which run more than 2 ahead.
    let texts: String = (0..200).map(|n| format!("t{n}: text ")).collect();
    let query = format!("subscription {{ feedbackLogged {{ id position {texts} }} }}");
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let tcp = tcp.connect(app.addr).await.unwrap();
    let mut socket = subscribed_over(&app, Some(tcp), &token, &query, json!({})).await;
    until_subscribed(&app, 1).await;
    let words = "I waited three weeks for a callback about my script and nobody rang. ".repeat(57);
    let mut logged = Vec::new();
    for n in 0..40 {
        logged.push(log(&member, &format!("{n}. {words}"), "COMMISSIONERS").await);
    }

    // It reads now: what was sent, then that it lagged and where to resume, then the end.
    let mut delivered = Vec::new();
    let resume_after = loop {
        let message = next_message(&mut socket, Duration::from_secs(30)).await;
        assert_eq!(message["type"], "next", "{message}");
        if let Some(errors) = message["payload"]["errors"].as_array() {
            let extensions = &errors[0]["extensions"];
            assert_eq!(extensions["code"], "LAGGED", "{message}");
            break extensions["resumeAfter"].as_str().expect("the position to resume after").to_owned();
        }
        delivered.push(message["payload"]["data"]["feedbackLogged"]["id"].as_str().unwrap().to_owned());
    };
    assert_eq!(next_message(&mut socket, Duration::from_secs(10)).await["type"], "complete");
    assert!(delivered.len() < logged.len(), "it lagged: not everything was delivered");
    assert_eq!(delivered[..], logged[..delivered.len()], "what came before the lag came in order");

    // Resuming where it was told gives the rest: none missed, none twice, in order.
    let mut socket = subscribed(&app, &token, LOGGED, json!({ "after": resume_after })).await;
    while delivered.len() < logged.len() {
        delivered.push(next_logged(&mut socket).await["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(delivered, logged);
    nothing_more(&mut socket, Duration::from_millis(300)).await;
}

#[tokio::test]
async fn resuming_after_a_position_that_is_not_one_is_refused_naming_after() {
    let hub = hub().await;
    log(&hub.member, "The evening group was cancelled again", "COMMISSIONERS").await;
    let member = token_of(&hub.app, "member@example.org").await;
    let beyond = (hub.app.store.head().position + 1000).to_string();
    for after in ["ten", "-1", "", beyond.as_str()] {
        let mut socket = subscribed(&hub.app, &member, LOGGED, json!({ "after": after })).await;
        let message = next_message(&mut socket, Duration::from_secs(10)).await;
        let error = &message["payload"]["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{after:?}: {message}");
        assert_eq!(error["extensions"]["field"], "after", "{after:?}: {message}");
        assert_eq!(next_message(&mut socket, Duration::from_secs(10)).await["type"], "complete");
    }
}

/// A search answer with what may legitimately differ between index layouts put in order.
async fn ask(session: &Session, q: &str) -> Value {
    let mut answer = session.graphql(SEARCH, json!({ "q": q })).await;
    // Relevance scores count deleted documents until segments merge, so a live index may rank
    // near-ties differently; the hits, texts, highlights, totals and facets must not differ.
    if let Some(edges) = answer["data"]["searchFeedback"]["edges"].as_array_mut() {
        for edge in edges.iter_mut() {
            edge.as_object_mut().unwrap().remove("cursor");
        }
        edges.sort_by_key(|edge| edge["node"]["item"]["id"].as_str().unwrap_or_default().to_owned());
    }
    if let Some(facets) = answer["data"]["searchFeedback"]["facets"].as_array_mut() {
        facets.sort_by_key(|facet| facet.to_string());
    }
    answer
}

#[tokio::test]
async fn a_rebuilt_search_index_answers_exactly_as_the_live_one() {
    let hub = hub().await;
    let texts = [
        "The needle exchange van comes too rarely to Selsey",
        "Waiting times for counselling are months long",
        "My keyworker changed three times in a year",
        "Peer mentors gave me hope when nobody else did",
    ];
    for (index, text) in texts.iter().enumerate() {
        let id = log(&hub.member, text, if index % 2 == 0 { "PUBLIC" } else { "COMMISSIONERS" }).await;
        hub.coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": id })).await;
    }
    let queries = ["times", "keyworker", "\"peer mentors\"", "hope", "conselling", ""];
    search_now(&hub.app, &hub.commissioner, "").await;
    let mut before = Vec::new();
    for q in queries {
        before.push((ask(&hub.member, q).await, ask(&hub.commissioner, q).await));
    }
    let data_dir = hub.app.shutdown().await;
    let output = std::process::Command::new(heard_tests::heard_binary())
        .args(["rebuild", "search", "--data"])
        .arg(data_dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["items"], 4);

    let app = spawn_app_in(data_dir, |_| {}).await;
    let member = app.login("member@example.org").await;
    let commissioner = app.login("commissioner@example.org").await;
    for (q, (member_before, commissioner_before)) in queries.iter().zip(before) {
        assert_eq!(ask(&member, q).await, member_before, "member, query {q}");
        assert_eq!(ask(&commissioner, q).await, commissioner_before, "commissioner, query {q}");
    }
}

#[tokio::test]
async fn the_demo_data_set_gives_every_role_something_real_to_see_and_hides_what_it_must() {
    let app = spawn_app().await;
    let accounts = heard_demo::seed(app.services.demo()).await.expect("the demo seeds");
    assert!(accounts.len() >= 13, "an account for each role and each hub's coordinator");
    for (email, _, password) in &accounts {
        assert!(app.try_login(email, password).await.is_ok(), "{email} logs in with the printed password");
    }
    let items = app.feedback.read(|state| state.items.len());
    assert!((300..=500).contains(&items), "a few hundred items: {items}");
    let meetings = app.feedback.read(|state| state.meetings.len());
    assert!(meetings >= 7 * 12, "a year of monthly meetings for six hubs and the Forum: {meetings}");

    let (email, _, password) = accounts.iter().find(|(_, role, _)| role == "commissioner").unwrap();
    let commissioner = app.try_login(email, password).await.unwrap();
    let shared = search_now(&app, &commissioner, "").await;
    assert!(total(&shared) > 50, "{shared}");
    let everything = app.feedback.read(|state| {
        state.items.values().filter(|item| item.safeguarding.is_some()).map(|item| item.logged.item).collect::<Vec<_>>()
    });
    assert!(!everything.is_empty(), "the demo includes safeguarding items");
    for id in everything {
        let seen = commissioner.graphql(ITEM, json!({ "id": id })).await;
        assert_eq!(error_code(&seen), Some("NOT_FOUND"), "a safeguarding item stays in the queue");
    }
    // Seeding again (a restart with --demo) adds nothing.
    heard_demo::seed(app.services.demo()).await.unwrap();
    assert_eq!(app.feedback.read(|state| state.items.len()), items);
}
