//! Bill of Rights complaints through GraphQL and the web pages, as a complaints handler, an
//! advocate, a provider and a commissioner would use them: the lifecycle and its working-day
//! clock, acknowledging (how and when), extending (whether the person agreed), assigning to a
//! handler chosen by name and "Mine", what each of them may see, the overdue queue and its
//! notifications, and patterns with small numbers suppressed.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use heard_access::Role;
use heard_eventstore::{ExpectedRevision, NewEvent, StreamName};
use heard_tests::{Session, TestApp, error_code, spawn_app, spawn_app_with};
use jiff::ToSpan;
use jiff::civil::Date;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const FIELDS: &str = "id stage outcome complainantKind route complainantName complainantContact relayedByAdvocateId \
    whatHappened outcomeWanted provider providerName articles { number label } receivedOn learning escalations { to reference } \
    clock { stage acknowledgeBy respondBy workingDaysLeft overdue urgent paused responsePeriod needsExplanation }";

fn raise_query() -> String {
    format!("mutation($i: RaiseComplaintInput!) {{ raiseComplaint(input: $i) {{ {FIELDS} }} }}")
}

fn complaint_query() -> String {
    format!("query($id: ID!) {{ complaint(id: $id) {{ {FIELDS} }} }}")
}

struct Cast {
    app: TestApp,
    handler: Session,
    handler_id: String,
    /// A second complaints handler.
    colleague: Session,
    colleague_id: String,
    advocate: Session,
    advocate_id: String,
    provider: Session,
    other_provider: Session,
    commissioner: Session,
}

async fn cast() -> Cast {
    cast_with(spawn_app().await).await
}

async fn cast_with(app: TestApp) -> Cast {
    let handler_id = app.create_user("handler@example.org", &[Role::ComplaintsHandler], &[]).await;
    let colleague_id = app.create_user("colleague@example.org", &[Role::ComplaintsHandler], &[]).await;
    let advocate_id = app.create_user("advocate@example.org", &[Role::Advocate], &[]).await;
    app.create_user_with("addaction@example.org", &[Role::ProviderResponder], &[], Some("addaction")).await;
    app.create_user_with("cri@example.org", &[Role::ProviderResponder], &[], Some("cri")).await;
    app.create_user("commissioner@example.org", &[Role::Commissioner], &[]).await;
    Cast {
        handler: app.login("handler@example.org").await,
        handler_id: handler_id.to_string(),
        colleague: app.login("colleague@example.org").await,
        colleague_id: colleague_id.to_string(),
        advocate: app.login("advocate@example.org").await,
        advocate_id: advocate_id.to_string(),
        provider: app.login("addaction@example.org").await,
        other_provider: app.login("cri@example.org").await,
        commissioner: app.login("commissioner@example.org").await,
        app,
    }
}

fn today() -> Date {
    jiff::Zoned::now().date()
}

/// The latest working day with exactly `n` working days after it up to and including today, so the
/// complaint clock reads the same whether the test runs on a weekday, a weekend or a bank holiday.
fn working_days_ago(n: u32) -> Date {
    let calendar = heard_workdays::Calendar::england_and_wales();
    let today = today();
    let mut date = today;
    loop {
        date = date.yesterday().unwrap();
        let gone = calendar.working_days_between(date, today).unwrap();
        if calendar.is_working_day(date).unwrap() && gone == i64::from(n) {
            return date;
        }
    }
}

fn named(provider: &str, articles: &[u32], received_on: Date) -> Value {
    json!({ "i": {
        "provider": provider, "service": "the Crawley clinic", "articles": articles,
        "complainantKind": "NAMED", "complainantName": "Sam Example", "complainantContact": "07700 900123",
        "route": "DIRECT", "whatHappened": "My script was stopped without a review.",
        "outcomeWanted": "A review with my keyworker.", "receivedOn": received_on.to_string()
    }})
}

async fn raise(session: &Session, variables: Value) -> Value {
    let response = session.graphql(&raise_query(), variables).await;
    let complaint = response["data"]["raiseComplaint"].clone();
    assert!(complaint.is_object(), "not raised: {response}");
    complaint
}

async fn act(session: &Session, mutation: &str, args: &str, variables: Value) -> Value {
    session.mutate_by_id(mutation, args, FIELDS, variables).await
}

#[tokio::test]
async fn a_complaint_is_worked_from_receipt_to_outcome_and_learning_with_its_clock_moving_as_it_goes() {
    let cast = cast().await;
    let received = working_days_ago(1);
    let complaint = raise(&cast.handler, named("addaction", &[5, 11], received)).await;
    let id = complaint["id"].as_str().unwrap().to_owned();
    assert_eq!(complaint["stage"], "RECEIVED");
    assert_eq!(complaint["complainantName"], "Sam Example");
    assert_eq!(complaint["articles"][1]["label"], "The right to speak out");
    assert_eq!(complaint["clock"]["stage"], "ACKNOWLEDGEMENT");
    assert_eq!(complaint["clock"]["workingDaysLeft"], 2, "3 working days to acknowledge, 1 gone: {complaint}");
    let calendar = heard_workdays::Calendar::england_and_wales();
    assert_eq!(complaint["clock"]["acknowledgeBy"], calendar.add_working_days(received, 3).unwrap().to_string());
    let twenty = calendar.add_working_days(received, 20).unwrap().to_string();
    assert_eq!(complaint["clock"]["respondBy"], twenty);

    let id_only = json!({ "id": id });
    let acknowledged = act(&cast.handler, "acknowledgeComplaint(id: $id, how: PHONE)", "", id_only.clone()).await;
    assert_eq!(acknowledged["stage"], "ACKNOWLEDGED");
    assert_eq!(acknowledged["clock"]["stage"], "RESPONSE");
    let investigating = act(&cast.handler, "openInvestigation(id: $id)", "", id_only.clone()).await;
    assert_eq!(investigating["stage"], "INVESTIGATION");
    let extended = act(
        &cast.handler,
        "extendComplaint(id: $id, workingDays: 5, reason: $r, personAgreed: true)",
        ", $r: String!",
        json!({ "id": id, "r": "Waiting for the prescriber's notes" }),
    )
    .await;
    assert_eq!(extended["clock"]["responsePeriod"], 25);
    assert_eq!(extended["clock"]["respondBy"], calendar.add_working_days(received, 25).unwrap().to_string());
    let paused = act(
        &cast.handler,
        "pauseComplaint(id: $id, reason: $r)",
        ", $r: String!",
        json!({ "id": id, "r": "The complainant asked to wait until after a hospital stay" }),
    )
    .await;
    assert_eq!((paused["clock"]["paused"].as_bool(), &paused["clock"]["respondBy"]), (Some(true), &Value::Null));
    let resumed = act(&cast.handler, "resumeComplaint(id: $id)", "", id_only.clone()).await;
    assert_eq!(resumed["clock"]["paused"], false);
    let responded = act(&cast.handler, "respondToComplaint(id: $id)", "", id_only.clone()).await;
    assert_eq!(
        (responded["stage"].as_str(), responded["clock"]["stage"].as_str()),
        (Some("RESPONSE_ISSUED"), Some("DONE"))
    );
    let closed = act(&cast.handler, "recordComplaintOutcome(id: $id, outcome: UPHELD)", "", id_only.clone()).await;
    assert_eq!((closed["stage"].as_str(), closed["outcome"].as_str()), (Some("CLOSED"), Some("UPHELD")));
    let escalated = act(
        &cast.handler,
        "escalateComplaint(id: $id, to: OMBUDSMAN, reference: $r)",
        ", $r: String!",
        json!({ "id": id, "r": "PHSO-2026-0042" }),
    )
    .await;
    assert_eq!(escalated["escalations"][0]["reference"], "PHSO-2026-0042");
    let learned = act(
        &cast.handler,
        "recordLearning(id: $id, statement: $s)",
        ", $s: String!",
        json!({ "id": id, "s": "Prescribing changes need a review meeting first" }),
    )
    .await;
    assert_eq!(learned["learning"][0], "Prescribing changes need a review meeting first");

    // Everything survives a restart: the complaint is rebuilt from the log.
    let data_dir = cast.app.shutdown().await;
    let app = heard_tests::spawn_app_in(data_dir, |_| {}).await;
    let again = app.login("handler@example.org").await.graphql(&complaint_query(), json!({ "id": id })).await;
    assert_eq!(again["data"]["complaint"]["outcome"], "UPHELD", "{again}");
    assert_eq!(again["data"]["complaint"]["learning"], learned["learning"]);
}

#[tokio::test]
async fn a_provider_sees_a_relayed_complaint_about_itself_but_never_who_made_it_or_who_relayed_it() {
    let cast = cast().await;
    let mut relayed = named("addaction", &[6], today());
    relayed["i"]["complainantKind"] = json!("RELAYED_BY_ADVOCATE");
    relayed["i"]["complainantName"] = Value::Null;
    relayed["i"]["complainantContact"] = Value::Null;
    relayed["i"]["route"] = json!("ADVOCATE");
    let complaint = raise(&cast.advocate, relayed).await;
    let id = complaint["id"].as_str().unwrap();
    assert_eq!(complaint["relayedByAdvocateId"], cast.advocate_id.as_str(), "the advocate follows what they relayed");

    let seen = cast.provider.graphql(&complaint_query(), json!({ "id": id })).await;
    assert_eq!(seen["data"]["complaint"]["whatHappened"], Value::Null, "not before the words were reviewed: {seen}");
    let released = cast
        .handler
        .graphql("mutation($id: ID!) { releaseComplaintWordsToProvider(complaintId: $id) { id } }", json!({ "id": id }))
        .await;
    assert!(released["errors"].is_null(), "{released}");
    let seen = cast.provider.graphql(&complaint_query(), json!({ "id": id })).await;
    let seen = &seen["data"]["complaint"];
    assert_eq!(seen["whatHappened"], "My script was stopped without a review.", "the provider can answer it");
    for withheld in ["complainantKind", "route", "complainantName", "complainantContact", "relayedByAdvocateId"] {
        assert_eq!(seen[withheld], Value::Null, "{withheld} is withheld from the provider: {seen}");
    }
    let handled = cast.handler.graphql(&complaint_query(), json!({ "id": id })).await;
    assert_eq!(handled["data"]["complaint"]["relayedByAdvocateId"], cast.advocate_id.as_str());

    let elsewhere = cast.other_provider.graphql(&complaint_query(), json!({ "id": id })).await;
    assert_eq!(error_code(&elsewhere), Some("NOT_FOUND"), "another provider cannot tell it exists: {elsewhere}");
    let meddling = cast
        .provider
        .graphql("mutation($id: ID!) { acknowledgeComplaint(id: $id, how: LETTER) { id } }", json!({ "id": id }))
        .await;
    assert_eq!(error_code(&meddling), Some("FORBIDDEN"), "{meddling}");

    raise(&cast.handler, named("cri", &[2], today())).await;
    let list =
        cast.provider.graphql("{ complaints { edges { node { id provider complainantName } } } }", json!({})).await;
    let edges = list["data"]["complaints"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 1, "only complaints about their own provider: {list}");
    assert_eq!(edges[0]["node"]["provider"], "addaction");
    let all = cast.handler.graphql("{ complaints { edges { node { id } } } }", json!({})).await;
    assert_eq!(all["data"]["complaints"]["edges"].as_array().unwrap().len(), 2);
    let none = cast.commissioner.graphql("{ complaints { edges { node { id } } } }", json!({})).await;
    assert_eq!(none["data"]["complaints"]["edges"], json!([]), "commissioners see patterns, not complaints");
}

#[tokio::test]
async fn illegal_transitions_are_conflicts_bad_input_names_the_field_and_nothing_is_stored() {
    let cast = cast().await;
    let complaint = raise(&cast.handler, named("addaction", &[5], today())).await;
    let id = complaint["id"].as_str().unwrap();
    let head = cast.app.store.head().position;
    let cases: Vec<(&str, Value, &str, Option<&str>)> = vec![
        ("mutation($id: ID!) { respondToComplaint(id: $id) { id } }", json!({ "id": id }), "CONFLICT", None),
        (
            "mutation($id: ID!) { recordLearning(id: $id, statement: \"x\") { id } }",
            json!({ "id": id }),
            "CONFLICT",
            None,
        ),
        ("mutation($id: ID!) { resumeComplaint(id: $id) { id } }", json!({ "id": id }), "CONFLICT", None),
        (
            "mutation($id: ID!) { acknowledgeComplaint(id: $id, how: EMAIL, on: \"next tuesday\") { id } }",
            json!({ "id": id }),
            "BAD_USER_INPUT",
            Some("on"),
        ),
        (
            "mutation($id: ID!) { acknowledgeComplaint(id: $id, how: EMAIL, on: \"2031-01-01\") { id } }",
            json!({ "id": id }),
            "BAD_USER_INPUT",
            Some("on"),
        ),
    ];
    for (query, variables, code, field) in cases {
        let response = cast.handler.graphql(query, variables).await;
        assert_eq!(error_code(&response), Some(code), "{query}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"].as_str(), field, "{response}");
        let message = response["errors"][0]["message"].as_str().unwrap();
        assert!(!message.contains("Sam") && !message.contains("script"), "no personal data in errors: {message}");
    }
    act(&cast.handler, "acknowledgeComplaint(id: $id, how: PHONE)", "", json!({ "id": id })).await;
    let head_after_ack = cast.app.store.head().position;
    let bad_extension = cast
        .handler
        .graphql(
            "mutation($id: ID!) { extendComplaint(id: $id, workingDays: 5, reason: \"  \", personAgreed: false) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(bad_extension["errors"][0]["extensions"]["field"], "reason", "{bad_extension}");
    let twice = cast
        .handler
        .graphql("mutation($id: ID!) { acknowledgeComplaint(id: $id, how: LETTER) { id } }", json!({ "id": id }))
        .await;
    assert_eq!(error_code(&twice), Some("CONFLICT"));
    assert!(twice["errors"][0]["message"].as_str().unwrap().contains("already been acknowledged"), "{twice}");

    let bad_inputs: Vec<(&str, Value, &str)> = vec![
        ("articles", json!([12]), "articles[0]"),
        ("articles", json!([]), "articles"),
        ("provider", json!("nobody"), "provider"),
        ("receivedOn", json!("yesterday"), "receivedOn"),
        ("receivedOn", json!("2019-06-03"), "receivedOn"),
        ("whatHappened", json!(" "), "whatHappened"),
        ("complainantName", json!(null), "complainantName"),
    ];
    for (key, value, field) in bad_inputs {
        let mut input = named("addaction", &[5], today());
        input["i"][key] = value;
        let response = cast.handler.graphql(&raise_query(), input).await;
        assert_eq!(error_code(&response), Some("BAD_USER_INPUT"), "{key}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{response}");
    }
    assert_eq!(head_after_ack, head + 1, "the refused commands before it stored nothing");
    assert_eq!(cast.app.store.head().position, head_after_ack, "the refused commands after it stored nothing");
    let refusals = cast.app.store.read_category("complaint", 1, 1000).await.unwrap();
    assert_eq!(refusals.len(), 2, "one received, one acknowledged; no failed command left anything");
}

const ALERT: &str = "complaint { id receivedOn } reason overdue workingDaysLeft explanationMissing";

#[tokio::test]
async fn overdue_complaints_are_listed_most_urgent_first_and_reach_the_handler_as_notifications() {
    let cast = cast().await;
    let long_overdue = raise(&cast.handler, named("addaction", &[5], working_days_ago(10))).await["id"].clone();
    let overdue = raise(&cast.handler, named("cri", &[2], working_days_ago(4))).await["id"].clone();
    let due_soon = raise(&cast.handler, named("addaction", &[3], working_days_ago(2))).await["id"].clone();
    let fresh = raise(&cast.handler, named("addaction", &[3], today())).await["id"].clone();

    let queue = cast.handler.graphql(&format!("{{ overdueComplaints {{ {ALERT} }} }}"), json!({})).await;
    let queue = queue["data"]["overdueComplaints"].as_array().unwrap().clone();
    let order: Vec<&Value> = queue.iter().map(|alert| &alert["complaint"]["id"]).collect();
    assert_eq!(order, [&long_overdue, &overdue, &due_soon], "most urgent first, the fresh one not listed");
    assert_eq!(queue[0]["reason"], "Acknowledgement overdue by 7 working days");
    assert_eq!(queue[2]["reason"], "Acknowledgement due in 1 working day");
    assert!(!order.contains(&&fresh));

    // Acknowledging the long-overdue one takes it off the queue: its response is not due yet.
    act(&cast.handler, "acknowledgeComplaint(id: $id, how: PHONE)", "", json!({ "id": long_overdue })).await;
    let queue = cast.handler.graphql(&format!("{{ overdueComplaints {{ {ALERT} }} }}"), json!({})).await;
    assert_eq!(queue["data"]["overdueComplaints"].as_array().unwrap().len(), 2, "{queue}");
    let provider = cast.provider.graphql(&format!("{{ overdueComplaints {{ {ALERT} }} }}"), json!({})).await;
    assert_eq!(error_code(&provider), Some("FORBIDDEN"));

    // The notifications: what needs attention now, then each new thing as it happens.
    let mut socket = subscribe(&cast.app, &cast.handler).await;
    let mut first = Vec::new();
    for _ in 0..2 {
        first.push(next_alert(&mut socket).await["complaint"]["id"].clone());
    }
    assert_eq!(first, [overdue.clone(), due_soon.clone()]);
    let late = raise(&cast.handler, named("cri", &[9], working_days_ago(6))).await["id"].clone();
    let alert = next_alert(&mut socket).await;
    assert_eq!(alert["complaint"]["id"], late, "a new overdue complaint is notified at once: {alert}");
    assert_eq!(alert["overdue"], true);
}

async fn subscribe(
    app: &TestApp,
    session: &Session,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let token = app.token_for(app.identity.directory().read(|s| s.by_email["handler@example.org"])).await;
    let _ = session;
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("websocket connects");
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(Message::Text(init.to_string().into())).await.unwrap();
    let query = format!("subscription {{ complaintAlerts {{ {ALERT} }} }}");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    socket.send(Message::Text(subscribe.to_string().into())).await.unwrap();
    socket
}

async fn next_alert(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a notification within 10 s")
            .expect("the socket stays open")
            .expect("a message");
        let Message::Text(text) = message else { continue };
        let value: Value = serde_json::from_str(&text).unwrap();
        match value["type"].as_str() {
            Some("next") => return value["payload"]["data"]["complaintAlerts"].clone(),
            Some("connection_ack") | Some("ping") | Some("pong") => continue,
            _ => panic!("unexpected message: {value}"),
        }
    }
}

const RESUMABLE: &str =
    "subscription($after: String) { complaintAlerts(after: $after) { complaint { id } reason position } }";

/// The next alert on a subscription started with `crate::feedback::subscribed`.
async fn alert(socket: &mut crate::feedback::Socket) -> Value {
    let message = crate::feedback::next_message(socket, Duration::from_secs(10)).await;
    assert_eq!(message["type"], "next", "{message}");
    let alert = message["payload"]["data"]["complaintAlerts"].clone();
    assert!(alert.is_object(), "an alert: {message}");
    alert
}

fn alert_position(alert: &Value) -> u64 {
    alert["position"].as_str().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("a position: {alert}"))
}

#[tokio::test]
async fn a_handler_resuming_complaint_alerts_after_the_last_position_seen_is_told_all_that_needs_attention_now() {
    let cast = cast().await;
    let token = crate::feedback::token_of(&cast.app, "handler@example.org").await;
    let first = raise(&cast.handler, named("addaction", &[5], working_days_ago(6))).await["id"].clone();
    let mut socket = crate::feedback::subscribed(&cast.app, &token, RESUMABLE, json!({})).await;
    let seen = alert(&mut socket).await;
    assert_eq!(seen["complaint"]["id"], first);
    let seen_at = seen["position"].as_str().unwrap().to_owned();
    socket.close(None).await.unwrap();
    drop(socket);

    // While the handler is away: a new overdue complaint, and the first one acknowledged (its
    // response is not due yet, so it needs no attention now).
    let late = raise(&cast.handler, named("cri", &[9], working_days_ago(6))).await["id"].clone();
    act(&cast.handler, "acknowledgeComplaint(id: $id, how: PHONE)", "", json!({ "id": first })).await;
    let applied = *cast.app.rights.watch_applied().borrow();

    // Resuming: everything that needs attention now, worked out no earlier than what it saw.
    let mut socket = crate::feedback::subscribed(&cast.app, &token, RESUMABLE, json!({ "after": seen_at })).await;
    let now = alert(&mut socket).await;
    assert_eq!(now["complaint"]["id"], late, "{now}");
    assert_eq!(now["reason"], "Acknowledgement overdue by 3 working days");
    assert!(alert_position(&now) >= applied, "worked out after everything the handler missed: {now}");
    let more = tokio::time::timeout(Duration::from_millis(700), socket.next()).await;
    assert!(more.is_err(), "the acknowledged complaint needs no attention now: {more:?}");
    // Then live.
    let later = raise(&cast.handler, named("addaction", &[2], working_days_ago(8))).await["id"].clone();
    let told = alert(&mut socket).await;
    assert_eq!(told["complaint"]["id"], later);
    assert!(alert_position(&told) > alert_position(&now));

    // A position that is not one is refused, naming `after`.
    let beyond = (cast.app.store.head().position + 1000).to_string();
    for after in ["soon", beyond.as_str()] {
        let mut socket = crate::feedback::subscribed(&cast.app, &token, RESUMABLE, json!({ "after": after })).await;
        let message = crate::feedback::next_message(&mut socket, Duration::from_secs(10)).await;
        let error = &message["payload"]["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{after:?}: {message}");
        assert_eq!(error["extensions"]["field"], "after", "{after:?}: {message}");
    }
}

#[tokio::test]
async fn a_complaint_open_for_six_months_must_say_why_and_is_flagged_until_it_does() {
    let cast = cast().await;
    let received = today().checked_sub(7.months()).unwrap();
    let old = raise(&cast.handler, named("addaction", &[5], received)).await;
    let id = old["id"].as_str().unwrap();
    assert_eq!(old["clock"]["needsExplanation"], true);
    let queue = cast.handler.graphql(&format!("{{ overdueComplaints {{ {ALERT} }} }}"), json!({})).await;
    assert_eq!(queue["data"]["overdueComplaints"][0]["explanationMissing"], true, "{queue}");
    let explained = cast
        .handler
        .graphql(
            "mutation($id: ID!) { explainComplaintDelay(id: $id, reason: \"The provider's records were lost in a move\") { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(explained["data"]["explainComplaintDelay"].is_object(), "{explained}");
    let queue = cast.handler.graphql(&format!("{{ overdueComplaints {{ {ALERT} }} }}"), json!({})).await;
    assert_eq!(queue["data"]["overdueComplaints"][0]["explanationMissing"], false, "{queue}");
}

#[tokio::test]
async fn commissioners_see_complaint_patterns_with_counts_below_five_suppressed() {
    let cast = cast().await;
    for _ in 0..6 {
        raise(&cast.handler, named("addaction", &[5], today())).await;
    }
    for _ in 0..2 {
        raise(&cast.handler, named("cri", &[5, 2], today())).await;
    }
    let query = "query($by: [ComplaintDimension!]!) { complaintPatterns(by: $by) { keys { dimension value label } count suppressed } }";
    let by_provider = cast.commissioner.graphql(query, json!({ "by": ["PROVIDER"] })).await;
    let rows = by_provider["data"]["complaintPatterns"].as_array().unwrap().clone();
    let row = |value: &str| rows.iter().find(|row| row["keys"][0]["value"] == value).cloned().unwrap();
    // Six is large enough to show, but the eight complaints in all (which a roll-up by outcome
    // shows) minus six would give CRI's two away: it is hidden too (issue #13).
    assert_eq!(
        (row("addaction")["count"].clone(), row("addaction")["suppressed"].as_bool()),
        (Value::Null, Some(true))
    );
    assert_eq!((row("cri")["count"].clone(), row("cri")["suppressed"].as_bool()), (Value::Null, Some(true)));
    let by_article = cast.commissioner.graphql(query, json!({ "by": ["ARTICLE", "OUTCOME"] })).await;
    let rows = by_article["data"]["complaintPatterns"].as_array().unwrap().clone();
    let five = rows.iter().find(|row| row["keys"][0]["value"] == "5").unwrap();
    assert_eq!(five["count"], 8, "the two citing article 2 cite article 5 too: 8 − 8 says nothing of them");
    assert_eq!(five["keys"][1]["label"], "Still open");
    assert!(five["keys"][0]["label"].as_str().unwrap().starts_with("Article 5: Respectful"), "{five}");
    let text = by_article.to_string();
    assert!(!text.contains("Sam Example") && !text.contains("script"), "patterns carry no content");
    let refused = cast.provider.graphql(query, json!({ "by": ["PROVIDER"] })).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"));
    let empty = cast.commissioner.graphql(query, json!({ "by": [] })).await;
    assert_eq!(empty["errors"][0]["extensions"]["field"], "by");
}

#[tokio::test]
async fn every_read_of_a_complaint_is_on_the_access_log_without_personal_data() {
    let cast = cast().await;
    let id = raise(&cast.handler, named("addaction", &[5], today())).await["id"].as_str().unwrap().to_owned();
    let before = cast.app.store.read_category("access", 1, 10_000).await.unwrap().len();
    cast.provider.graphql(&complaint_query(), json!({ "id": id })).await;
    cast.handler.graphql("{ complaints { edges { node { id } } } }", json!({})).await;
    cast.other_provider.graphql(&complaint_query(), json!({ "id": id })).await;
    let access = cast.app.store.read_category("access", 1, 10_000).await.unwrap();
    let new: Vec<Value> = access[before..].iter().map(|event| event.data_json().unwrap()).collect();
    assert_eq!(new.len(), 3, "{new:?}");
    let names = |record: &Value| {
        record["resource_id"] == id.as_str() || record["resource_ids"].as_array().is_some_and(|ids| ids == &[json!(id)])
    };
    assert!(new.iter().all(|record| record["resource_kind"] == "complaint" && names(record)), "{new:?}");
    assert_eq!(new.iter().map(|r| r["allowed"].as_bool().unwrap()).collect::<Vec<_>>(), [true, true, false]);
    let text = serde_json::to_string(&new).unwrap();
    assert!(!text.contains("Sam") && !text.contains("07700"), "{text}");
}

#[tokio::test]
async fn configured_closure_days_move_the_clock_and_the_charter_lists_eleven_articles() {
    // 2026-11-13 is a Friday: acknowledgement is due on Wednesday the 18th, or on Thursday
    // the 19th when Monday the 16th is a closure day.
    let app = spawn_app_with(|settings| settings.calendar.closures = vec!["2026-11-16".into()]).await;
    let cast = cast_with(app).await;
    let complaint = raise(&cast.handler, named("addaction", &[1], "2026-11-13".parse().unwrap())).await;
    assert_eq!(complaint["clock"]["acknowledgeBy"], "2026-11-19", "{complaint}");
    let charter = cast.app.graphql("{ rights { id name version articles { number label } } }", json!({})).await;
    assert_eq!(charter["data"]["rights"]["articles"].as_array().unwrap().len(), 11, "{charter}");
    assert_eq!(charter["data"]["rights"]["articles"][0]["label"], "Capable of change");
}

#[tokio::test]
async fn the_demo_data_has_complaints_and_cases_in_every_state_with_some_overdue() {
    use std::collections::BTreeSet;
    let app = spawn_app().await;
    heard_demo::seed(app.services.demo()).await.expect("the demo seeds");
    let (stages, outcomes) = app.rights.read(|state| {
        let stages: BTreeSet<String> = state.complaints.values().map(|r| format!("{:?}", r.complaint.stage)).collect();
        let outcomes: BTreeSet<String> =
            state.complaints.values().filter_map(|r| r.complaint.outcome).map(|o| format!("{o:?}")).collect();
        (stages, outcomes)
    });
    let every_stage = ["Acknowledged", "Closed", "EarlyResolution", "Investigation", "Received", "ResponseIssued"];
    assert_eq!(stages, every_stage.iter().map(|s| s.to_string()).collect());
    assert_eq!(outcomes.len(), 5, "every outcome: {outcomes:?}");
    let attention = app.rights.attention(today(), None).unwrap();
    assert!(attention.iter().any(|a| a.reading.overdue), "some complaints are overdue");
    assert!(attention.iter().any(|a| !a.reading.overdue && a.reading.urgent), "some are due within two days");
    let states: BTreeSet<String> =
        app.advocacy.read(|state| state.cases.values().map(|case| format!("{:?}", case.state)).collect());
    assert_eq!(
        states,
        ["Accepted", "Active", "Closed", "Declined", "Referred"].iter().map(|s| s.to_string()).collect()
    );
    let reopened = app.advocacy.read(|state| state.cases.values().filter(|case| !case.reopenings.is_empty()).count());
    assert!(reopened > 0, "some cases were reopened");
    let themes = app.advocacy.systemic_themes(
        &[heard_advocacy::domain::rollup::Dimension::Domain],
        Default::default(),
        None,
        None,
    );
    assert!(themes.values().any(|count| *count >= 5) && themes.values().any(|count| *count < 5), "{themes:?}");
    // Seeding again adds nothing.
    let complaints = app.rights.read(|state| state.complaints.len());
    heard_demo::seed(app.services.demo()).await.unwrap();
    assert_eq!(app.rights.read(|state| state.complaints.len()), complaints);
}

#[tokio::test]
async fn someone_not_logged_in_cannot_tell_whether_a_complaint_exists() {
    let cast = cast().await;
    let id = raise(&cast.handler, named("addaction", &[5], today())).await["id"].as_str().unwrap().to_owned();
    let real = cast.app.graphql(&complaint_query(), json!({ "id": id })).await;
    let made_up = cast.app.graphql(&complaint_query(), json!({ "id": uuid::Uuid::new_v4().to_string() })).await;
    assert_eq!(error_code(&real), Some("UNAUTHENTICATED"));
    assert_eq!(real["errors"][0]["message"], made_up["errors"][0]["message"], "{real} vs {made_up}");
}

/// A page of the web UI as the complaints handler sees it.
async fn page(cast: &Cast, path: String) -> String {
    let response = cast.handler.client.get(cast.app.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn every_complaint_has_a_short_reference_that_finds_it_for_those_who_may_see_it() {
    let cast = cast().await;
    let year = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).year();
    let first = raise(&cast.handler, named("addaction", &[5], today())).await;
    let second = raise(&cast.handler, named("cri", &[2], today())).await;
    let reference_of = |id: &Value| {
        let id = id.as_str().unwrap().to_owned();
        let handler = &cast.handler;
        async move {
            let answer =
                handler.graphql("query($id: ID!) { complaint(id: $id) { reference } }", json!({ "id": id })).await;
            answer["data"]["complaint"]["reference"].as_str().unwrap_or_else(|| panic!("{answer}")).to_owned()
        }
    };
    assert_eq!(reference_of(&first["id"]).await, format!("EX-{year}-0001"));
    assert_eq!(reference_of(&second["id"]).await, format!("EX-{year}-0002"), "numbered in the order recorded");

    let find = "query($r: String) { complaints(reference: $r) { edges { node { id reference } } } }";
    let spoken = format!(" ex-{year}-0002 ");
    let found = cast.handler.graphql(find, json!({ "r": spoken })).await;
    let edges = found["data"]["complaints"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1, "case and spaces do not matter: {found}");
    assert_eq!(edges[0]["node"]["id"], second["id"]);
    let provider = cast.provider.graphql(find, json!({ "r": format!("EX-{year}-0002") })).await;
    assert_eq!(provider["data"]["complaints"]["edges"], json!([]), "not about their service: {provider}");
    let nowhere = cast.handler.graphql(find, json!({ "r": "Sam Example" })).await;
    assert_eq!(nowhere["data"]["complaints"]["edges"], json!([]), "{nowhere}");

    let queue = page(&cast, "/complaints".to_owned()).await;
    assert!(
        queue.contains(&format!("Reference EX-{year}-0001")) && queue.contains(&format!("Reference EX-{year}-0002"))
    );
    assert!(queue.contains("Find a complaint by its reference"), "the queue can be searched by reference");
    let one = page(&cast, format!("/complaints?reference=EX-{year}-0001")).await;
    assert!(one.contains(&format!("Reference EX-{year}-0001")) && !one.contains(&format!("EX-{year}-0002")), "{one}");
    let typed = page(&cast, "/complaints?reference=Sam+Example".to_owned()).await;
    assert!(typed.contains("No complaint you may see has that reference."));
    assert_eq!(typed.matches("Sam Example").count(), 1, "what was typed is only in the box, to correct it");
    assert!(typed.contains(r#"value="Sam Example""#));
    let detail = page(&cast, format!("/complaints/{}", first["id"].as_str().unwrap())).await;
    assert!(detail.contains(&format!("EX-{year}-0001")), "the complaint's page shows its reference");
}

/// The event types of a complaint's stream, in order.
async fn event_types(app: &TestApp, complaint: &str) -> Vec<String> {
    let stream = StreamName::of("complaint", complaint).unwrap();
    app.store.read_stream_to_end(&stream).await.unwrap().into_iter().map(|event| event.event_type).collect()
}

/// Posts a step's form as `session` (with its CSRF token), following the redirect; returns
/// the status, the address it ended at and the page.
async fn post_step(session: &Session, id: &str, step: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let (status, url, page) = session.post_form_followed(&format!("/complaints/{id}/{step}"), fields).await;
    (status, url.to_string(), page)
}

/// A page as `session` gets it, with its status.
async fn get_as(cast: &Cast, session: &Session, path: &str) -> (u16, String) {
    let response = session.client.get(cast.app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A complaint received `n` working days ago, raised by the handler; its id.
async fn received(cast: &Cast, n: u32) -> String {
    raise(&cast.handler, named("addaction", &[5], working_days_ago(n))).await["id"].as_str().unwrap().to_owned()
}

fn uk(day: Date) -> String {
    day.strftime("%-d %B %Y").to_string()
}

#[tokio::test]
async fn a_handler_acknowledges_saying_how_and_when_and_the_history_says_acknowledged_by_phone_on_that_day() {
    let cast = cast().await;
    let received_on = working_days_ago(2);
    let id = received(&cast, 2).await;
    let (status, form) = get_as(&cast, &cast.handler, &format!("/complaints/{id}/acknowledge")).await;
    assert_eq!(status, 200);
    for method in ["PHONE", "LETTER", "EMAIL", "IN_PERSON", "TEXT_MESSAGE"] {
        assert!(
            form.contains(&format!(r#"name="how" type="radio" value="{method}">"#)),
            "{method} is offered, unchosen"
        );
    }
    assert!(!form.contains("checked"), "no way is chosen in advance");
    assert!(
        form.contains(&format!(r#"<input id="on" name="on" type="text" value="{}""#, today().strftime("%-d %B %Y"))),
        "the day starts as today"
    );
    assert!(form.contains(&format!("Not before the complaint was received on {}", uk(received_on))));

    let before = event_types(&cast.app, &id).await;
    let (status, _, page) = post_step(&cast.handler, &id, "acknowledge", &[("on", "")]).await;
    assert_eq!(status, 422, "how must be chosen");
    assert!(page.contains(r##"<a href="#how">Choose how you told them</a>"##), "beside its field, linked: {page}");
    let tomorrow = today().tomorrow().unwrap().strftime("%d/%m/%Y").to_string();
    let (status, _, page) = post_step(&cast.handler, &id, "acknowledge", &[("how", "PHONE"), ("on", &tomorrow)]).await;
    assert_eq!(status, 422, "not in the future");
    assert!(page.contains(&format!("The acknowledgement cannot be in the future (after {})", uk(today()))), "{page}");
    assert!(page.contains(r##"<a href="#on">"##));
    let early = received_on.yesterday().unwrap().strftime("%d/%m/%Y").to_string();
    let (status, _, page) = post_step(&cast.handler, &id, "acknowledge", &[("how", "PHONE"), ("on", &early)]).await;
    assert_eq!(status, 422, "not before it was received");
    assert!(page.contains(&format!("cannot be before the complaint was received on {}", uk(received_on))), "{page}");
    let (status, _, page) =
        post_step(&cast.handler, &id, "acknowledge", &[("how", "PHONE"), ("on", "31/02/2026")]).await;
    assert_eq!(status, 422, "not a real day");
    assert!(page.contains("31 February 2026 does not exist"), "in the words every page uses");
    assert_eq!(event_types(&cast.app, &id).await, before, "no refused form stored anything");

    let typed = received_on.strftime("%d/%m/%Y").to_string();
    let (status, url, page) = post_step(&cast.handler, &id, "acknowledge", &[("how", "PHONE"), ("on", &typed)]).await;
    assert_eq!(status, 200);
    assert!(url.ends_with(&format!("/complaints/{id}?done=acknowledge")), "post, redirect, get: {url}");
    assert!(page.contains(&format!("Acknowledged by phone on {}", uk(received_on))), "on the history");
    let seen = cast
        .handler
        .graphql(
            "query($id: ID!) { complaint(id: $id) { acknowledgedHow handlerId clock { acknowledgedOn } } }",
            json!({ "id": id }),
        )
        .await;
    let seen = &seen["data"]["complaint"];
    assert_eq!(seen["acknowledgedHow"], "PHONE");
    assert_eq!(seen["clock"]["acknowledgedOn"], received_on.to_string());
    assert_eq!(seen["handlerId"], cast.handler_id.as_str(), "whoever acknowledges an unassigned complaint works it");
    let provider =
        cast.provider.graphql("query($id: ID!) { complaint(id: $id) { acknowledgedHow } }", json!({ "id": id })).await;
    assert_eq!(provider["data"]["complaint"]["acknowledgedHow"], Value::Null, "not for the provider: {provider}");
}

#[tokio::test]
async fn an_acknowledgement_and_an_extension_recorded_before_heard_asked_still_read_and_show_without_what_was_not_asked()
 {
    let cast = cast().await;
    let received_on = working_days_ago(3);
    let id = received(&cast, 3).await;
    let stream = StreamName::of("complaint", &id).unwrap();
    // The shapes these events had before this change, as they sit in logs already.
    let old = [
        ("ComplaintAcknowledged", json!({ "Acknowledged": { "on": received_on.to_string() } })),
        ("ComplaintInvestigationOpened", json!("InvestigationOpened")),
        ("ComplaintExtended", json!({ "Extended": { "working_days": 5, "reason": "Waiting for records" } })),
    ];
    for (event_type, data) in old {
        let event = NewEvent::new(event_type, 1, &data).unwrap().with_metadata(json!({ "actor": cast.handler_id }));
        cast.app.store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
    }
    cast.app.settled().await;
    let seen = cast
        .handler
        .graphql(
            "query($id: ID!) { complaint(id: $id) { stage acknowledgedHow handlerId extensions { workingDays personAgreed } clock { acknowledgedOn responsePeriod respondBy } } }",
            json!({ "id": id }),
        )
        .await;
    let seen = &seen["data"]["complaint"];
    assert_eq!((seen["stage"].as_str(), &seen["acknowledgedHow"]), (Some("INVESTIGATION"), &Value::Null), "{seen}");
    assert_eq!(seen["handlerId"], cast.handler_id.as_str(), "the one who acknowledged it still works it");
    assert_eq!(seen["extensions"], json!([{ "workingDays": 5, "personAgreed": null }]));
    let calendar = heard_workdays::Calendar::england_and_wales();
    assert_eq!(
        seen["clock"]["respondBy"],
        calendar.add_working_days(received_on, 25).unwrap().to_string(),
        "the deadline is still right"
    );
    let (_, page) = get_as(&cast, &cast.handler, &format!("/complaints/{id}")).await;
    assert!(page.contains(&format!("<li>Acknowledged on {}</li>", uk(received_on))), "shown without a method: {page}");
    assert!(page.contains("Extended by 5 working days: Waiting for records.</li>"), "without an answer it never had");
}

#[tokio::test]
async fn agreeing_a_period_and_extending_are_told_apart_and_extending_records_whether_the_person_agreed() {
    let cast = cast().await;
    let received_on = working_days_ago(1);
    let id = received(&cast, 1).await;
    let calendar = heard_workdays::Calendar::england_and_wales();
    act(&cast.handler, "acknowledgeComplaint(id: $id, how: LETTER)", "", json!({ "id": id })).await;
    let (_, detail) = get_as(&cast, &cast.handler, &format!("/complaints/{id}")).await;
    assert!(detail.contains("The person agreed a different time for the response than the usual 20 working days."));
    assert!(detail.contains("The response needs longer than the time that applies now."));
    let (_, period) = get_as(&cast, &cast.handler, &format!("/complaints/{id}/period")).await;
    assert!(period.contains(
        "The number you enter replaces the 20 working days, counted from the day the complaint was received"
    ));
    let (_, extend) = get_as(&cast, &cast.handler, &format!("/complaints/{id}/extend")).await;
    assert!(extend.contains("longer than the 20 working days that apply now") && extend.contains("added on top"));
    assert!(extend.contains("Did the person who complained agree to wait longer?"));
    assert!(!extend.contains("checked"), "neither answer is chosen in advance");

    let (status, _, _) = post_step(&cast.handler, &id, "period", &[("working_days", "30")]).await;
    assert_eq!(status, 200);
    let before = event_types(&cast.app, &id).await;
    let asked = [("working_days", "5"), ("reason", "The prescriber's notes are with another team")];
    let (status, _, page) = post_step(&cast.handler, &id, "extend", &asked).await;
    assert_eq!(status, 422, "the answer is required");
    assert!(page.contains(r##"<a href="#person_agreed">Say whether the person agreed to wait longer</a>"##), "{page}");
    assert!(page.contains("The prescriber's notes are with another team</textarea>"), "what was typed is kept: {page}");
    let (status, _, _) =
        post_step(&cast.handler, &id, "extend", &[asked[0], asked[1], ("person_agreed", "PERHAPS")]).await;
    assert_eq!(status, 422, "a forged answer is refused");
    assert_eq!(event_types(&cast.app, &id).await, before, "nothing was stored");

    let (status, url, page) =
        post_step(&cast.handler, &id, "extend", &[asked[0], asked[1], ("person_agreed", "NO")]).await;
    assert_eq!((status, url.ends_with("?done=extend")), (200, true), "{url}");
    assert!(
        page.contains("Extended by 5 working days: The prescriber")
            && page.contains("The person did not agree to wait.")
    );
    assert!(page.contains("Response period agreed with the person: 30 working days instead of the usual 20"));
    let seen = cast
        .handler
        .graphql(
            "query($id: ID!) { complaint(id: $id) { extensions { personAgreed } clock { respondBy responsePeriod } } }",
            json!({ "id": id }),
        )
        .await;
    let seen = &seen["data"]["complaint"];
    assert_eq!(seen["extensions"], json!([{ "personAgreed": false }]));
    assert_eq!(seen["clock"]["responsePeriod"], 35, "30 agreed, 5 more: the deadline moves even without agreement");
    assert_eq!(seen["clock"]["respondBy"], calendar.add_working_days(received_on, 35).unwrap().to_string());
    let provider = cast
        .provider
        .graphql(
            "query($id: ID!) { complaint(id: $id) { extensions { workingDays personAgreed } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(provider["data"]["complaint"]["extensions"], json!([{ "workingDays": 5, "personAgreed": null }]));
}

#[tokio::test]
async fn a_complaint_is_assigned_to_a_handler_chosen_by_name_then_reassigned_and_shows_under_mine() {
    let cast = cast().await;
    let id = received(&cast, 1).await;
    let reference =
        cast.handler.graphql("query($id: ID!) { complaint(id: $id) { reference } }", json!({ "id": id })).await;
    let reference = reference["data"]["complaint"]["reference"].as_str().unwrap().to_owned();
    let (status, form) = get_as(&cast, &cast.handler, &format!("/complaints/{id}/assign")).await;
    assert_eq!(status, 200);
    assert!(form.contains(r#"<label for="handler_id">Who should work on it?</label>"#), "the list is labelled");
    assert!(form.contains(r#"<option value="" selected>Choose a handler</option>"#), "nobody is chosen in advance");
    assert!(form.contains(&format!(r#"<option value="{}">Test colleague</option>"#, cast.colleague_id)), "{form}");
    assert!(form.contains(&format!(r#"<option value="{}">Test handler (you)</option>"#, cast.handler_id)));
    assert!(!form.contains(&cast.advocate_id), "only the complaints team is listed");
    let directory = cast.handler.graphql("{ complaintHandlers { id displayName } }", json!({})).await;
    assert_eq!(
        directory["data"]["complaintHandlers"],
        json!([{ "id": cast.colleague_id, "displayName": "Test colleague" }, { "id": cast.handler_id, "displayName": "Test handler" }])
    );

    let (status, _, page) = post_step(&cast.handler, &id, "assign", &[("handler_id", "")]).await;
    assert_eq!(status, 422);
    assert!(page.contains(r##"<a href="#handler_id">Choose who should work on it</a>"##));
    let (status, url, _) = post_step(&cast.handler, &id, "assign", &[("handler_id", &cast.colleague_id)]).await;
    assert_eq!((status, url.ends_with(&format!("/complaints/{id}?done=assign"))), (200, true), "{url}");

    let (_, mine) = get_as(&cast, &cast.colleague, "/complaints?show=mine").await;
    assert!(mine.contains(&format!("Reference {reference}")), "it is under Mine for the colleague");
    assert!(mine.contains(r#"<a href="/complaints?show=mine" aria-current="page">Mine</a>"#));
    let (_, theirs) = get_as(&cast, &cast.handler, "/complaints?show=mine").await;
    assert!(
        !theirs.contains(&format!("Reference {reference}")) && theirs.contains("Nothing is assigned to you just now.")
    );
    let (_, queue) = get_as(&cast, &cast.handler, "/complaints").await;
    assert!(queue.contains("Handled by: <strong>Test colleague</strong>"), "the queue says who works it");
    let (_, detail) = get_as(&cast, &cast.handler, &format!("/complaints/{id}")).await;
    assert!(detail.contains(r#"<dd class="handler">Test colleague</dd>"#));
    let query = "{ complaints(mine: true) { edges { node { id handlerId } } } }";
    let colleague_mine = cast.colleague.graphql(query, json!({})).await;
    assert_eq!(
        colleague_mine["data"]["complaints"]["edges"],
        json!([{ "node": { "id": id, "handlerId": cast.colleague_id } }])
    );

    // Acknowledging does not take it from the colleague; re-assigning gives it back.
    act(&cast.handler, "acknowledgeComplaint(id: $id, how: EMAIL)", "", json!({ "id": id })).await;
    let (_, form) = get_as(&cast, &cast.handler, &format!("/complaints/{id}/assign")).await;
    assert!(!form.contains(&format!(r#"value="{}""#, cast.colleague_id)), "the one it is with is not offered again");
    assert!(form.contains("It is with Test colleague now."));
    let (status, _, _) =
        post_step(&cast.handler, &id, "assign", &[("handler_id", &cast.handler_id), ("from", "queue")]).await;
    assert_eq!(status, 200);
    let handler_mine = cast.handler.graphql(query, json!({})).await;
    assert_eq!(handler_mine["data"]["complaints"]["edges"][0]["node"]["id"], id.as_str(), "{handler_mine}");
    assert_eq!(cast.colleague.graphql(query, json!({})).await["data"]["complaints"]["edges"], json!([]));
    let stored = event_types(&cast.app, &id).await;
    assert_eq!(
        stored,
        ["ComplaintReceived", "ComplaintAssigned", "ComplaintAcknowledged", "ComplaintAssigned"],
        "each assignment is an event"
    );
}

#[tokio::test]
async fn a_forged_assignment_to_someone_outside_the_complaints_team_is_refused_beside_the_field_and_changes_nothing() {
    let cast = cast().await;
    let id = received(&cast, 1).await;
    let before = event_types(&cast.app, &id).await;
    let commissioner =
        cast.app.identity.directory().read(|state| state.by_email["commissioner@example.org"]).to_string();
    for (forged, what) in [
        (cast.advocate_id.clone(), "an advocate"),
        (commissioner, "a commissioner"),
        (uuid::Uuid::new_v4().to_string(), "an unknown account"),
        ("not an id".to_owned(), "not an id at all"),
    ] {
        let (status, _, page) = post_step(&cast.handler, &id, "assign", &[("handler_id", &forged)]).await;
        assert_eq!(status, 422, "{what} is refused");
        assert!(page.contains(r##"<a href="#handler_id">"##), "the error names the field: {what}: {page}");
        assert!(page.contains(r#"<p class="field-error" id="handler_id-error">"#), "and beside it: {what}");
        let graphql = cast
            .handler
            .graphql(
                "mutation($id: ID!, $h: ID!) { assignComplaint(id: $id, handlerId: $h) { id } }",
                json!({ "id": id, "h": forged }),
            )
            .await;
        assert_eq!(error_code(&graphql), Some("BAD_USER_INPUT"), "{what}: {graphql}");
        assert_eq!(graphql["errors"][0]["extensions"]["field"], "handlerId");
    }
    let (_, _, page) = post_step(&cast.handler, &id, "assign", &[("handler_id", &cast.advocate_id)]).await;
    assert!(page.contains("Choose someone from the complaints team"), "it says what is wrong");
    assert_eq!(event_types(&cast.app, &id).await, before, "nothing was stored");
}

#[tokio::test]
async fn nobody_but_a_complaints_handler_can_assign_see_the_team_or_learn_anything_from_mine() {
    let cast = cast().await;
    cast.app.create_user("member@example.org", &[Role::HubMember], &["arun"]).await;
    let member = cast.app.login("member@example.org").await;
    let mut relayed = named("addaction", &[6], today());
    relayed["i"]["complainantKind"] = json!("RELAYED_BY_ADVOCATE");
    relayed["i"]["complainantName"] = Value::Null;
    relayed["i"]["complainantContact"] = Value::Null;
    relayed["i"]["route"] = json!("ADVOCATE");
    let id = raise(&cast.advocate, relayed).await["id"].as_str().unwrap().to_owned();
    act(
        &cast.handler,
        "assignComplaint(id: $id, handlerId: $h)",
        ", $h: ID!",
        json!({ "id": id, "h": cast.colleague_id }),
    )
    .await;
    let before = event_types(&cast.app, &id).await;
    let assign = "mutation($id: ID!, $h: ID!) { assignComplaint(id: $id, handlerId: $h) { id } }";
    let variables = json!({ "id": id, "h": cast.handler_id });
    let outsiders = [
        ("a provider responder", &cast.provider, "FORBIDDEN"),
        ("the advocate who relayed it", &cast.advocate, "FORBIDDEN"),
        ("a hub member", &member, "NOT_FOUND"),
    ];
    for (who, session, refused) in outsiders {
        let directory = session.graphql("{ complaintHandlers { id displayName } }", json!({})).await;
        assert_eq!(
            (error_code(&directory), &directory["data"]),
            (Some("FORBIDDEN"), &Value::Null),
            "{who}: {directory}"
        );
        let assigned = session.graphql(assign, variables.clone()).await;
        assert_eq!(error_code(&assigned), Some(refused), "{who}: {assigned}");
        let mine = session.graphql("{ complaints(mine: true) { edges { node { id } } } }", json!({})).await;
        assert_eq!((error_code(&mine), &mine["data"]), (Some("FORBIDDEN"), &Value::Null), "{who}: {mine}");
        let (status, page) = get_as(&cast, session, &format!("/complaints/{id}/assign")).await;
        assert_eq!(status, 403, "{who} is refused the assign page");
        assert!(!page.contains("Test colleague") && !page.contains("Test handler"), "{who} sees nobody's name");
        let (status, _, page) = post_step(session, &id, "assign", &[("handler_id", &cast.handler_id)]).await;
        assert_eq!(status, 403, "{who} cannot post it");
        assert!(!page.contains("Test colleague"));
        let (_, plain) = get_as(&cast, session, "/complaints").await;
        let (_, asked_mine) = get_as(&cast, session, "/complaints?show=mine").await;
        assert_eq!(asked_mine, plain, "{who}: ?show=mine is the ordinary page");
        assert!(!plain.contains("show=mine") && !plain.contains("Handled by"), "{who}: no Mine tab, nobody's handler");
    }
    let anonymous = cast.app.graphql("{ complaintHandlers { id displayName } }", json!({})).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
    assert_eq!(error_code(&cast.app.graphql(assign, variables.clone()).await), Some("UNAUTHENTICATED"));
    let mine = cast.app.graphql("{ complaints(mine: true) { edges { node { id } } } }", json!({})).await;
    assert_eq!(error_code(&mine), Some("UNAUTHENTICATED"));
    let anonymous_page = cast.app.client.get(cast.app.url(&format!("/complaints/{id}/assign"))).send().await.unwrap();
    assert!(anonymous_page.url().path().starts_with("/login"), "someone not logged in is sent to log in");
    assert_eq!(event_types(&cast.app, &id).await, before, "nothing was stored");
    let still = cast.handler.graphql("query($id: ID!) { complaint(id: $id) { handlerId } }", json!({ "id": id })).await;
    assert_eq!(still["data"]["complaint"]["handlerId"], cast.colleague_id.as_str());
}

#[tokio::test]
async fn a_replayed_or_cross_site_assignment_is_refused_and_changes_nothing() {
    let cast = cast().await;
    let id = received(&cast, 1).await;
    let before = event_types(&cast.app, &id).await;
    let url = cast.app.url(&format!("/complaints/{id}/assign"));
    let to = ("handler_id", cast.colleague_id.as_str());
    // No token: what another site's page can send with the handler's cookie.
    let forged =
        cast.handler.client.post(&url).header("origin", "https://evil.example").form(&[to]).send().await.unwrap();
    assert_eq!(forged.status(), 403);
    // A token from another session (the colleague's), replayed with the handler's cookie.
    let replayed = cast
        .handler
        .client
        .post(&url)
        .form(&[("csrf_token", cast.colleague.csrf_token.as_str()), to])
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 403);
    // GraphQL from another site's page, even with the token.
    let cross_site = cast
        .handler
        .client
        .post(cast.app.url("/graphql"))
        .header("origin", "https://evil.example")
        .header("X-CSRF-Token", &cast.handler.csrf_token)
        .json(&json!({ "query": "mutation($id: ID!, $h: ID!) { assignComplaint(id: $id, handlerId: $h) { id } }", "variables": { "id": id, "h": cast.colleague_id } }))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert_eq!(event_types(&cast.app, &id).await, before, "nothing was stored");
}
