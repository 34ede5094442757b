//! Two `heard serve` replicas over one PostgreSQL log (issue #19): each a real server on port 0
//! with a data directory of its own (read models, search index), both over one schema in the
//! test database, the second holding the first's `secret.key` as an operator copies it. What
//! one replica is told, the other answers for: reads and searches within a second, one
//! outcome for conflicting commands, one account an email, one count of failed logins, a
//! logged-out session refused at once, a revoked token refused when a websocket opens, one
//! attribution of a client's cases at a time, complaint notifications from the same clock, a
//! spreadsheet import whose steps each reach either replica, a page shown once after a form's
//! redirect (a refused form, a one-time password) on whichever replica the browser reaches,
//! and new feedback reaching a live subscriber on the other replica.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use heard_access::Role;
use heard_advocacy::domain::case::{AdvocacyKind, CaseDomain, ReferralSource};
use heard_advocacy::service::{ATTRIBUTING, Referral};
use heard_contracts::Event as _;
use heard_contracts::privacy::{CaseAttributed, PersonId};
use heard_eventstore::{ExpectedRevision, NewEvent, StreamName};
use heard_tests::{PASSWORD, PgSchema, Session, TestApp, error_code, spawn_app_in, spawn_app_with};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::import::{HEADER, ITEMS, JOB, PREVIEW, REJECTS, START, UPLOAD, csv_records, finished, upload_input};

/// Two replicas over one fresh schema: `a` made its `secret.key`, `b` got a copy of it.
struct Replicas {
    a: TestApp,
    b: TestApp,
    _schema: PgSchema,
}

async fn replicas() -> Replicas {
    let schema = PgSchema::new();
    let a = spawn_app_with(|settings| schema.serve_from(settings)).await;
    let b_dir = tempfile::tempdir().expect("a data directory for the second replica");
    std::fs::copy(a.data_dir.path().join("secret.key"), b_dir.path().join("secret.key")).expect("the key is copied");
    let b = spawn_app_in(b_dir, |settings| schema.serve_from(settings)).await;
    Replicas { a, b, _schema: schema }
}

/// Polls `check` until it answers `Some`, for at most `within`; the answer and how long it took.
async fn within<T, F: std::future::Future<Output = Option<T>>>(
    within: Duration,
    mut check: impl FnMut() -> F,
) -> Option<(T, Duration)> {
    let started = Instant::now();
    loop {
        if let Some(found) = check().await {
            return Some((found, started.elapsed()));
        }
        if started.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The same browser session (its cookie jar and CSRF token) sending GraphQL to `app`.
async fn same_session_on(session: &Session, app: &TestApp, query: &str, variables: Value) -> Value {
    session
        .client
        .post(app.url("/graphql"))
        .header("X-CSRF-Token", &session.csrf_token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the replica answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn feedback_logged_and_shared_on_one_replica_is_read_and_found_on_the_other_within_a_second() {
    let r = replicas().await;
    let [(_, coordinator)] = r.a.people(["coordinator"]).await;
    r.a.create_user("commissioner@example.org", &[Role::Commissioner], &[]).await;
    let commissioner_on_b = r.b.login("commissioner@example.org").await;
    for round in 0..3 {
        let item = coordinator
            .log_feedback(json!({ "hub": "arun", "text": format!("the Bognor clinic round {round} closed early"),
                "channel": "DROP_IN", "saidOn": "2026-11-02", "speaker": "ANONYMOUS", "consent": "COMMISSIONERS" }))
            .await;
        let shared =
            coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": item })).await;
        assert!(shared["errors"].is_null(), "{shared}");
        let seen = within(Duration::from_secs(1), || async {
            let read = commissioner_on_b
                .graphql("query($id: ID!) { feedbackItem(id: $id) { id } }", json!({ "id": item }))
                .await;
            let found = commissioner_on_b
                .graphql(
                    "query($q: String!) { searchFeedback(query: $q) { total } }",
                    json!({ "q": format!("round {round}") }),
                )
                .await;
            (read["data"]["feedbackItem"]["id"] == item.as_str() && found["data"]["searchFeedback"]["total"] == 1)
                .then_some(())
        })
        .await;
        let (_, took) = seen.unwrap_or_else(|| panic!("replica B did not read and find item {round} within 1 s"));
        eprintln!("replica B read and found shared feedback {took:?} after A answered");
    }
}

fn complaint(received_on: jiff::civil::Date) -> Value {
    json!({ "i": {
        "provider": "addaction", "service": "the Crawley clinic", "articles": [5],
        "complainantKind": "NAMED", "complainantName": "Sam Example", "complainantContact": "07700 900123",
        "route": "DIRECT", "whatHappened": "My script was stopped without a review.",
        "outcomeWanted": "A review with my keyworker.", "receivedOn": received_on.to_string()
    }})
}

pub(crate) async fn raise(session: &Session, received_on: jiff::civil::Date) -> String {
    let raised = session
        .graphql("mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id } }", complaint(received_on))
        .await;
    raised["data"]["raiseComplaint"]["id"].as_str().unwrap_or_else(|| panic!("not raised: {raised}")).to_owned()
}

#[tokio::test]
async fn two_replicas_acknowledging_one_complaint_at_once_give_one_success_and_one_conflict() {
    let r = replicas().await;
    r.a.create_user("handler@example.org", &[Role::ComplaintsHandler], &[]).await;
    let on_a = r.a.login("handler@example.org").await;
    let on_b = r.b.login("handler@example.org").await;
    let acknowledge = "mutation($id: ID!) { acknowledgeComplaint(id: $id, how: PHONE) { id stage } }";
    for _ in 0..5 {
        let id = raise(&on_a, jiff::Zoned::now().date()).await;
        let query = "query($id: ID!) { complaint(id: $id) { id } }";
        within(Duration::from_secs(5), || async {
            (on_b.graphql(query, json!({ "id": id })).await["data"]["complaint"]["id"] == id.as_str()).then_some(())
        })
        .await
        .expect("replica B sees the complaint");
        let (first, second) = tokio::join!(
            on_a.graphql(acknowledge, json!({ "id": id })),
            on_b.graphql(acknowledge, json!({ "id": id }))
        );
        let succeeded =
            [&first, &second].iter().filter(|answer| answer["data"]["acknowledgeComplaint"].is_object()).count();
        let conflicts = [&first, &second].iter().filter(|answer| error_code(answer) == Some("CONFLICT")).count();
        assert_eq!((succeeded, conflicts), (1, 1), "one success and one CONFLICT: {first} / {second}");
        let stream = StreamName::of("complaint", &id).unwrap();
        let events = r.a.store.read_stream_to_end(&stream).await.unwrap();
        let acknowledged = events.iter().filter(|event| event.event_type == "ComplaintAcknowledged").count();
        assert_eq!(acknowledged, 1, "the stream holds one acknowledgement");
    }
}

#[tokio::test]
async fn the_same_email_created_on_two_replicas_at_once_gives_one_account() {
    let r = replicas().await;
    r.a.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    let admin_on_a = r.a.login("admin@example.org").await;
    let admin_on_b = r.b.login("admin@example.org").await;
    let create = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }";
    for round in 0..5 {
        let email = format!("new.advocate.{round}@example.org");
        let input = json!({ "i": { "email": email, "displayName": "New Advocate", "roles": ["ADVOCATE"] } });
        let (first, second) =
            tokio::join!(admin_on_a.graphql(create, input.clone()), admin_on_b.graphql(create, input));
        let made: Vec<&Value> =
            [&first, &second].into_iter().filter(|answer| answer["data"]["createUser"].is_object()).collect();
        assert_eq!(made.len(), 1, "one account: {first} / {second}");
        let refused = if made[0] == &first { &second } else { &first };
        assert_eq!(error_code(refused), Some("CONFLICT"), "{refused}");
        for app in [&r.a, &r.b] {
            app.identity.catch_up().await.unwrap();
            let store = app.store.clone();
            let holders = app.identity.directory().read(|state| {
                state
                    .accounts
                    .values()
                    .filter(|account| account.email(&store).as_deref() == Some(email.as_str()))
                    .count()
            });
            assert_eq!(holders, 1, "one account holds {email}");
        }
    }
}

#[tokio::test]
async fn failed_logins_split_across_two_replicas_count_together_and_the_lockout_holds_on_both() {
    let r = replicas().await;
    let id = r.a.create_user("member@example.org", &[Role::HubMember], &["arun"]).await;
    // The default allows 5 failures in a row: 3 on A and 2 on B reach it.
    for (app, n) in [(&r.a, 1), (&r.b, 2), (&r.a, 3), (&r.b, 4)] {
        let refused = app.try_login("member@example.org", "not the password at all").await.err().unwrap();
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("not right"), "failure {n} is a plain refusal: {message}");
    }
    let fifth = r.a.try_login("member@example.org", "not the password at all").await.err().unwrap();
    assert!(fifth["errors"][0]["message"].as_str().unwrap().contains("locked"), "the fifth locks: {fifth}");
    for app in [&r.a, &r.b] {
        let right = app.try_login("member@example.org", PASSWORD).await.err().expect("the lockout holds");
        assert_eq!(error_code(&right), Some("UNAUTHENTICATED"), "{right}");
        assert!(right["errors"][0]["message"].as_str().unwrap().contains("locked"), "{right}");
    }
    let events = r.a.store.read_stream_to_end(&StreamName::of("account", id).unwrap()).await.unwrap();
    let lockouts = events.iter().filter(|event| event.event_type == "AccountLockedOut").count();
    assert_eq!(lockouts, 1, "one lockout recorded, not one per replica");
    let rows = r._schema.psql("SELECT count(*) FROM heard_login_failures");
    assert_eq!(rows.trim(), "1", "one shared run of failures");
    let emails = r._schema.psql("SELECT email_key FROM heard_login_failures");
    assert!(!emails.contains("member") && emails.trim().len() == 64, "a keyed hash, not the email: {emails}");
}

#[tokio::test]
async fn a_session_logged_out_on_one_replica_is_refused_on_the_other_at_once() {
    let r = replicas().await;
    r.a.create_user("advocate@example.org", &[Role::Advocate], &[]).await;
    for _ in 0..5 {
        let session = r.a.login("advocate@example.org").await;
        let me = same_session_on(&session, &r.b, "{ me { id } }", json!({})).await;
        assert!(me["data"]["me"]["id"].is_string(), "the session opens on B too: {me}");
        let out = session.graphql("mutation { logout }", json!({})).await;
        assert_eq!(out["data"]["logout"], true, "{out}");
        let after = same_session_on(&session, &r.b, "{ me { id } }", json!({})).await;
        assert_eq!(error_code(&after), Some("UNAUTHENTICATED"), "refused on B the moment A answered: {after}");
    }
}

/// Opens a websocket on `app` and sends `connection_init` with `token`; the first frame the
/// server answers with.
async fn first_answer_to_init(app: &TestApp, token: &str) -> Option<Message> {
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("the websocket connects");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.send(Message::Text(init.to_string().into())).await.unwrap();
    loop {
        let answer = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("an answer within 10 s");
        match answer {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(message)) => return Some(message),
            Some(Err(_)) | None => return None,
        }
    }
}

#[tokio::test]
async fn a_token_revoked_on_one_replica_is_refused_when_a_websocket_opens_with_it_on_the_other() {
    let r = replicas().await;
    let handler = r.a.create_user("handler@example.org", &[Role::ComplaintsHandler], &[]).await;
    for round in 0..5 {
        let (token, secret) = r.a.identity.create_token(handler, handler, "alerts").await.expect("a token");
        if round == 0 {
            let opened = first_answer_to_init(&r.b, &secret).await;
            let ack = matches!(&opened, Some(Message::Text(text)) if text.contains("connection_ack"));
            assert!(ack, "a live token opens a socket on B: {opened:?}");
        }
        r.a.identity.revoke_token(handler, token.id).await.expect("revoked on A");
        // At once on B: refused at connection_init, never acknowledged and closed later.
        let answer = first_answer_to_init(&r.b, &secret).await;
        match &answer {
            Some(Message::Close(Some(frame))) => {
                assert!(frame.reason.contains("revoked"), "round {round}: refused for the revocation: {frame:?}");
            }
            other => panic!("round {round}: B did not refuse the revoked token at init: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_replica_whose_secret_key_is_not_the_others_refuses_to_start_and_says_what_to_copy() {
    let r = replicas().await;
    let stranger = tempfile::tempdir().unwrap();
    let mut settings = heard::Settings {
        data_dir: stranger.path().to_owned(),
        listen: "127.0.0.1:0".into(),
        ..heard::Settings::default()
    };
    r._schema.serve_from(&mut settings);
    let refused = heard::start(&settings).await.expect_err("a replica with another key does not start");
    let message = format!("{refused:#}");
    assert!(message.contains("secret.key") && message.contains("copy"), "{message}");
}

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A websocket to `app` as `account` (by a token), subscribed to `query`.
pub(crate) async fn subscribed_on(app: &TestApp, account: uuid::Uuid, query: &str) -> Socket {
    let token = app.token_for(account).await;
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("websocket connects");
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });
    socket.send(Message::Text(init.to_string().into())).await.unwrap();
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    socket.send(Message::Text(subscribe.to_string().into())).await.unwrap();
    socket
}

async fn alerts_on(app: &TestApp, handler: uuid::Uuid) -> Socket {
    subscribed_on(app, handler, "subscription { complaintAlerts { complaint { id } reason overdue } }").await
}

async fn next_alert(socket: &mut Socket, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next()).await.ok()?.expect("open").expect("a message");
        let Message::Text(text) = message else { continue };
        let value: Value = serde_json::from_str(&text).unwrap();
        match value["type"].as_str() {
            Some("next") => return Some(value["payload"]["data"]["complaintAlerts"].clone()),
            Some("connection_ack" | "ping" | "pong") => continue,
            _ => panic!("unexpected message: {value}"),
        }
    }
}

/// The latest working day with `n` working days after it up to today.
pub(crate) fn working_days_ago(n: i64) -> jiff::civil::Date {
    let calendar = heard_workdays::Calendar::england_and_wales();
    let today = jiff::Zoned::now().date();
    let mut date = today;
    loop {
        date = date.yesterday().unwrap();
        if calendar.is_working_day(date).unwrap() && calendar.working_days_between(date, today).unwrap() == n {
            return date;
        }
    }
}

#[tokio::test]
async fn complaint_alerts_on_either_replica_tell_the_same_complaint_once_and_append_nothing() {
    let r = replicas().await;
    let handler = r.a.create_user("handler@example.org", &[Role::ComplaintsHandler], &[]).await;
    let on_a = r.a.login("handler@example.org").await;
    let mut alerts_a = alerts_on(&r.a, handler).await;
    let mut alerts_b = alerts_on(&r.b, handler).await;
    // Subscribed, with nothing to tell yet.
    assert!(next_alert(&mut alerts_b, Duration::from_millis(300)).await.is_none());
    let id = raise(&on_a, working_days_ago(6)).await;
    let stream = StreamName::of("complaint", &id).unwrap();
    let revision = r.a.store.stream_revision(&stream).await.unwrap();
    let started = Instant::now();
    let on_b = next_alert(&mut alerts_b, Duration::from_secs(2)).await.expect("replica B notifies within 2 s");
    let took = started.elapsed();
    let on_a_alert = next_alert(&mut alerts_a, Duration::from_secs(2)).await.expect("replica A notifies too");
    eprintln!("replica B's subscriber was told {took:?} after A answered");
    assert_eq!(on_b["complaint"]["id"], id.as_str(), "{on_b}");
    assert_eq!((&on_b["reason"], &on_b["overdue"]), (&on_a_alert["reason"], &on_a_alert["overdue"]), "one clock");
    assert_eq!(on_b["reason"], "Acknowledgement overdue by 3 working days", "{on_b}");
    // Told once on each, and telling appended nothing: each subscriber keeps what it told.
    assert!(next_alert(&mut alerts_b, Duration::from_millis(1200)).await.is_none(), "told once");
    assert_eq!(r.b.store.stream_revision(&stream).await.unwrap(), revision, "alerts append nothing");
    // Acknowledged on B: A's queue drops it within a second.
    let acknowledged =
        r.b.login("handler@example.org")
            .await
            .graphql("mutation($id: ID!) { acknowledgeComplaint(id: $id, how: PHONE) { id } }", json!({ "id": id }))
            .await;
    assert!(acknowledged["data"]["acknowledgeComplaint"].is_object(), "{acknowledged}");
    let dropped = within(Duration::from_secs(1), || async {
        let queue = on_a.graphql("{ overdueComplaints { complaint { id } } }", json!({})).await;
        (queue["data"]["overdueComplaints"] == json!([])).then_some(())
    })
    .await;
    assert!(dropped.is_some(), "A's queue still lists the complaint B acknowledged a second ago");
}

/// A case of one client referred straight through a replica's service (a further case of
/// theirs when `linked_to` is given).
fn client_case(linked_to: Option<uuid::Uuid>) -> Referral {
    Referral {
        pseudonym: None,
        client_name: Some("Sam Example".into()),
        client_contact: None,
        issue: "Evicted from the hostel after a positive test".into(),
        kind: AdvocacyKind::Instructed,
        source: ReferralSource::Hub,
        domain: CaseDomain::Housing,
        themes: vec![],
        provider: None,
        articles: vec![],
        linked_to,
        advocate: None,
        referred_on: None,
    }
}

/// Sessions of the schema waiting for the advocacy attribution lock.
fn waiting_to_attribute(schema: &PgSchema) -> i64 {
    let sql = format!(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2
         AND classid = hashtext(current_schema())::oid AND objid = hashtext('{ATTRIBUTING}')::oid"
    );
    schema.psql(&sql).trim().parse().expect("a count")
}

#[tokio::test]
async fn an_attribution_on_one_replica_waits_for_the_others_and_then_sees_what_it_attributed() {
    let r = replicas().await;
    let advocate = r.a.create_user("advocate@example.org", &[Role::Advocate], &[]).await;
    r.a.settled().await;
    let first = r.a.advocacy.refer(advocate, client_case(None)).await.expect("referred");
    let second = r.a.advocacy.refer(advocate, client_case(Some(first.id))).await.expect("a further case");
    // Replica B is attributing this client: its service holds the lock while it appends.
    let on_b = r.b.store.exclusive(ATTRIBUTING).await.expect("B takes the lock");
    // Meanwhile the advocate asks replica A to say the client is a new person.
    let advocate_on_a = r.a.login("advocate@example.org").await;
    let asked = tokio::spawn(async move {
        let attribute = "mutation($id: ID!) { attributeCase(caseId: $id) { id } }";
        advocate_on_a.graphql(attribute, json!({ "id": second.id })).await
    });
    within(Duration::from_secs(10), || async { (waiting_to_attribute(&r._schema) == 1).then_some(()) })
        .await
        .expect("A waits on the database for B's lock");
    assert!(!asked.is_finished(), "A has not answered while B holds the lock");
    // What B appends while it holds the lock: every case of the client is one person's.
    let person = PersonId::new();
    for case in [first.id, second.id] {
        let attributed = CaseAttributed { case, person, advocate, by: advocate };
        let event = NewEvent::new(CaseAttributed::TYPE, CaseAttributed::VERSION, &attributed).unwrap();
        let stream = StreamName::of("case", case).unwrap();
        r.b.store.append(&stream, ExpectedRevision::StreamExists, vec![event]).await.unwrap();
    }
    drop(on_b);
    let answer = tokio::time::timeout(Duration::from_secs(20), asked).await.expect("A answers once B lets go").unwrap();
    assert_eq!(error_code(&answer), Some("CONFLICT"), "A read what B did before deciding: {answer}");
    for case in [first.id, second.id] {
        let events = r.a.store.read_stream_to_end(&StreamName::of("case", case).unwrap()).await.unwrap();
        let attributions = events.iter().filter(|event| event.event_type == CaseAttributed::TYPE).count();
        assert_eq!(attributions, 1, "one attribution of case {case}, B's");
        assert_eq!(r.a.advocacy.read(|state| state.cases[&case].person), Some(person));
    }
}
/// The texts of the hub's items `session` sees on `app` that `file_rows` wrote ("row N ...").
async fn imported_rows_on(session: &Session, app: &TestApp) -> usize {
    let items = same_session_on(session, app, ITEMS, json!({ "hub": "arun" })).await;
    items["data"]["feedbackItems"]["edges"].as_array().map_or(0, |edges| {
        edges.iter().filter(|e| e["node"]["text"].as_str().is_some_and(|t| t.contains("of the year's file"))).count()
    })
}

/// A spreadsheet of `good` rows (more than one batch of the job's) and one row to fix.
fn year_file(good: usize) -> String {
    let mut file = HEADER.to_owned();
    for n in 0..good {
        file.push_str(&format!("2025-03-01,forum,,row {n} of the year's file,,anonymous,hub\n"));
    }
    file.push_str("2099-01-01,forum,,written in the future,,anonymous,hub\n");
    file
}

#[tokio::test]
async fn a_spreadsheet_uploaded_on_one_replica_is_confirmed_on_the_other_and_followed_on_the_first() {
    let r = replicas().await;
    r.a.create_user("owner@example.org", &[Role::HubCoordinator], &["arun"]).await;
    let owner = r.a.login("owner@example.org").await;
    let good = 90;

    let uploaded = owner.graphql(UPLOAD, upload_input("arun", "year.csv", year_file(good).as_bytes())).await;
    assert!(uploaded["errors"].is_null(), "{uploaded}");
    let id = uploaded["data"]["uploadImport"]["draftId"].as_str().unwrap().to_owned();

    // Reviewed on B, which did not take the upload.
    let preview = same_session_on(&owner, &r.b, PREVIEW, json!({ "id": id })).await;
    assert_eq!(preview["data"]["importPreview"]["readyRows"], good, "{preview}");
    let rejects = same_session_on(&owner, &r.b, REJECTS, json!({ "id": id })).await;
    let rejects = rejects["data"]["importRejects"].as_str().unwrap().trim_start_matches('\u{feff}').to_owned();
    assert_eq!(csv_records(&rejects).len(), 2, "the header and the row to fix: {rejects}");

    // Confirmed on B: the job runs there, and A follows its progress to the end.
    let started = same_session_on(&owner, &r.b, START, json!({ "id": id, "rows": "GOOD_ROWS" })).await;
    assert!(started["errors"].is_null(), "{started}");
    let again = owner.graphql(START, json!({ "id": id, "rows": "GOOD_ROWS" })).await;
    assert_eq!(error_code(&again), Some("NOT_FOUND"), "confirmed once, on whichever replica: {again}");
    let job = finished(&owner, &id).await;
    assert_eq!(job["state"], "FINISHED", "{job}");
    assert_eq!((job["imported"].as_u64(), job["rowsToFix"].as_u64()), (Some(good as u64), Some(1)), "{job}");
    let on_b = same_session_on(&owner, &r.b, JOB, json!({ "id": id })).await;
    assert_eq!(on_b["data"]["importJob"], job, "both replicas show the same job");
    let rejects_on_a = owner.graphql(REJECTS, json!({ "id": id })).await;
    assert_eq!(
        rejects_on_a["data"]["importRejects"].as_str().map(|csv| csv_records(csv.trim_start_matches('\u{feff}')).len()),
        Some(2)
    );

    for app in [&r.a, &r.b] {
        let seen =
            within(Duration::from_secs(5), || async { (imported_rows_on(&owner, app).await == good).then_some(()) })
                .await;
        assert!(seen.is_some(), "every row is on {}", app.url("/"));
    }
}

#[tokio::test]
async fn a_draft_from_another_account_is_refused_on_the_other_replica_as_on_the_one_that_took_it() {
    let r = replicas().await;
    r.a.create_user("owner@example.org", &[Role::HubCoordinator], &["arun"]).await;
    r.a.create_user("colleague@example.org", &[Role::HubCoordinator], &["arun"]).await;
    let owner = r.a.login("owner@example.org").await;
    let colleague = r.a.login("colleague@example.org").await;
    let uploaded = owner.graphql(UPLOAD, upload_input("arun", "year.csv", year_file(2).as_bytes())).await;
    let id = uploaded["data"]["uploadImport"]["draftId"].as_str().unwrap().to_owned();

    let mut answers = Vec::new();
    for app in [&r.a, &r.b] {
        let preview = same_session_on(&colleague, app, PREVIEW, json!({ "id": id })).await;
        let rejects = same_session_on(&colleague, app, REJECTS, json!({ "id": id })).await;
        let start = same_session_on(&colleague, app, START, json!({ "id": id, "rows": "GOOD_ROWS" })).await;
        let cancel =
            same_session_on(&colleague, app, "mutation($id: ID!) { cancelImport(draftId: $id) }", json!({ "id": id }))
                .await;
        assert_eq!(preview["data"]["importPreview"], Value::Null, "{preview}");
        assert_eq!(rejects["data"]["importRejects"], Value::Null, "{rejects}");
        assert_eq!(error_code(&start), Some("NOT_FOUND"), "{start}");
        assert_eq!(error_code(&cancel), Some("NOT_FOUND"), "{cancel}");
        answers.push([start["errors"][0]["message"].clone(), cancel["errors"][0]["message"].clone()]);
    }
    assert_eq!(answers[0], answers[1], "the same words on either replica");
    let preview = same_session_on(&owner, &r.b, PREVIEW, json!({ "id": id })).await;
    assert_eq!(preview["data"]["importPreview"]["readyRows"], 2, "the owner's draft is untouched: {preview}");
    let cancelled =
        same_session_on(&owner, &r.b, "mutation($id: ID!) { cancelImport(draftId: $id) }", json!({ "id": id })).await;
    assert_eq!(cancelled["data"]["cancelImport"], true, "{cancelled}");
    let gone = owner.graphql(PREVIEW, json!({ "id": id })).await;
    assert_eq!(gone["data"]["importPreview"], Value::Null, "cancelled on B, gone on A: {gone}");
}

#[tokio::test]
async fn the_same_spreadsheet_imported_on_both_replicas_at_once_adds_each_row_once() {
    let r = replicas().await;
    r.a.create_user("owner@example.org", &[Role::HubCoordinator], &["arun"]).await;
    let owner = r.a.login("owner@example.org").await;
    let good = 90;
    let file = year_file(good);
    let mut drafts = Vec::new();
    for _ in 0..2 {
        let uploaded = owner.graphql(UPLOAD, upload_input("arun", "year.csv", file.as_bytes())).await;
        assert!(uploaded["errors"].is_null(), "{uploaded}");
        drafts.push(uploaded["data"]["uploadImport"]["draftId"].as_str().unwrap().to_owned());
    }
    // One import confirmed on each replica at the same moment: the jobs run on A and on B.
    let (on_a, on_b) = tokio::join!(
        same_session_on(&owner, &r.a, START, json!({ "id": drafts[0], "rows": "GOOD_ROWS" })),
        same_session_on(&owner, &r.b, START, json!({ "id": drafts[1], "rows": "GOOD_ROWS" })),
    );
    assert!(on_a["errors"].is_null() && on_b["errors"].is_null(), "{on_a} {on_b}");
    let mut imported = 0;
    for id in &drafts {
        let job = finished(&owner, id).await;
        assert_eq!(job["state"], "FINISHED", "{job}");
        imported += job["imported"].as_u64().unwrap();
    }
    assert_eq!(imported, good as u64, "the two jobs added the file's rows once between them");
    for app in [&r.a, &r.b] {
        let seen =
            within(Duration::from_secs(5), || async { (imported_rows_on(&owner, app).await == good).then_some(()) })
                .await;
        assert!(seen.is_some(), "each row once on {}", app.url("/"));
    }
}

/// The page `path` of replica `app`, fetched with `session`'s cookies: its status and text.
async fn page_on(session: &Session, app: &TestApp, path: &str) -> (u16, String) {
    let page = session.client.get(app.url(path)).send().await.expect("the replica answers");
    (page.status().as_u16(), page.text().await.expect("the page is text"))
}

#[tokio::test]
async fn a_refused_form_posted_to_one_replica_comes_back_with_what_was_typed_on_the_other_and_is_sealed_in_the_database()
 {
    let r = replicas().await;
    let [(_, member)] = r.a.people(["member"]).await;
    let form = [("hub", "arun"), ("held_on", "30/02/2026"), ("place", "Quillmoor community hall")];
    let refused = member.post_form("/meetings", &form).await;
    assert_eq!(refused.status(), 303, "a refused form is answered with a redirect");
    let location = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/meetings?refused="), "{location}");

    // The browser's next request reaches the other replica, then the first again.
    for (app, view) in [(&r.b, "the redirect, on B"), (&r.a, "a refresh, on A")] {
        let (status, page) = page_on(&member, app, &location).await;
        assert_eq!(status, 422, "{view} shows the refused form with its status");
        assert!(page.contains("30 February 2026 does not exist"), "{view}: {page}");
        assert!(page.contains(r#"value="Quillmoor community hall""#), "{view}: what was typed is kept");
    }
    let kept = r._schema.psql("SELECT count(*) FROM heard_shown_once");
    assert_eq!(kept.trim(), "1", "one page kept, in the database");
    let rows = r._schema.psql("SELECT session::text || slot || encode(sealed, 'escape') FROM heard_shown_once");
    assert!(!rows.contains("Quillmoor"), "what was typed is sealed, never in the clear: {rows}");

    let [(_, crawley)] = r.b.people(["crawley"]).await;
    let (status, nosy) = page_on(&crawley, &r.b, &location).await;
    assert_eq!(status, 200, "another session gets the page as if there were no key");
    assert!(!nosy.contains("Quillmoor"), "nothing of the refused form: {nosy}");
}

#[tokio::test]
async fn a_one_time_password_made_on_one_replica_is_shown_once_on_the_other() {
    let r = replicas().await;
    let [(_, admin)] = r.a.people(["admin"]).await;
    let added = admin
        .submit_form(
            "/admin/users",
            &[
                ("display_name", "New volunteer"),
                ("email", "volunteer@example.org"),
                ("roles", "HUB_MEMBER"),
                ("hubs", "arun"),
            ],
        )
        .await;
    assert!(added.ends_with("?done=account-added"), "{added}");
    let (_, page) = page_on(&admin, &r.b, &added).await;
    let start = page.find(r#"<code class="secret">"#).expect("the one-time password is shown on B")
        + r#"<code class="secret">"#.len();
    let password = page[start..].split('<').next().unwrap().to_owned();
    let (_, again) = page_on(&admin, &r.a, &added).await;
    assert!(
        !again.contains(r#"<code class="secret">"#) && again.contains("was shown once"),
        "once, on either: {again}"
    );
    assert!(r.b.try_login("volunteer@example.org", &password).await.is_ok(), "the password shown on B works");
    assert_eq!(r._schema.psql("SELECT count(*) FROM heard_shown_once").trim(), "0", "taken, so gone");
}

#[tokio::test]
async fn feedback_logged_on_one_replica_reaches_a_live_subscriber_on_the_other_within_a_second() {
    let r = replicas().await;
    let [(coordinator_id, coordinator)] = r.a.people(["coordinator"]).await;
    let mut socket =
        subscribed_on(&r.b, coordinator_id, "subscription { feedbackLogged(hub: \"arun\") { text } }").await;
    let listening = within(Duration::from_secs(5), || async { (r.b.feedback.subscribers() >= 1).then_some(()) }).await;
    assert!(listening.is_some(), "the subscription on B started");

    let logged = Instant::now();
    coordinator
        .log_feedback(json!({ "hub": "arun", "text": "the Littlehampton needle exchange moved without notice",
            "channel": "DROP_IN", "saidOn": "2026-11-02", "speaker": "ANONYMOUS", "consent": "HUB" }))
        .await;
    let heard = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            let message = socket.next().await.expect("the socket stays open").expect("a message");
            let Message::Text(text) = message else { continue };
            let value: Value = serde_json::from_str(&text).unwrap();
            match value["type"].as_str() {
                Some("next") => return value["payload"]["data"]["feedbackLogged"]["text"].clone(),
                Some("connection_ack" | "ping" | "pong") => continue,
                _ => panic!("unexpected message: {value}"),
            }
        }
    })
    .await
    .expect("B's subscriber hears of what A logged within a second");
    assert_eq!(heard, "the Littlehampton needle exchange moved without notice");
    eprintln!("B's subscriber heard {:?} after A was asked", logged.elapsed());
}
