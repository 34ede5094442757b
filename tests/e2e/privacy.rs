//! What people tell Heard never reaches the server's log: the real `heard serve`, logging at
//! `debug`, is driven through feedback, the moderation pages and the hub's gazetteer, a
//! complaint, a case, searches and refused inputs that
//! carry a known name, phone number and words, and through events in the log that do not
//! decode, and everything it printed is searched for them.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use heard_tests::{PASSWORD, Session, heard_binary};
use serde_json::json;

const NAME: &str = "Delphine Quartermaine";
const PHONE: &str = "07700 900417";
const WORDS: &str = "the night shelter on Orchard Lane";

/// Everything a child process writes to one of its pipes, collected as it comes.
fn collect(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    let collected = Arc::new(Mutex::new(Vec::new()));
    let into = collected.clone();
    let reader = std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buffer[..n]);
        }
    });
    (collected, reader)
}

/// Two feedback events in the log as a drifted writer might leave them: one whose data holds
/// the person's name where a consent level belongs, one whose personal fields hold it where the
/// speaker's details belong. serde's own messages would quote the name.
async fn plant_events_that_do_not_decode(data: &std::path::Path) {
    use heard_eventstore::{EventStore, ExpectedRevision, NewEvent, StreamName, SubjectId, Upcasters};
    use heard_feedback::domain::{Channel, FeedbackLogged, SpeakerKind};

    let store = EventStore::open(data, Upcasters::new()).unwrap();
    let logged = |item: uuid::Uuid| FeedbackLogged {
        item,
        hub: "arun".into(),
        meeting: None,
        channel: Channel::DropIn,
        about: None,
        provider: None,
        themes: Default::default(),
        speaker: SpeakerKind::Named,
        consent: heard_access::Consent::Hub,
        said_on: "2026-11-02".into(),
        logged_by: uuid::Uuid::new_v4(),
        import_key: None,
    };
    let drifted_data = {
        let item = uuid::Uuid::new_v4();
        let mut data = serde_json::to_value(logged(item)).unwrap();
        data["consent"] = json!(NAME);
        (item, data, json!({ "text": WORDS }))
    };
    let drifted_personal = {
        let item = uuid::Uuid::new_v4();
        (item, serde_json::to_value(logged(item)).unwrap(), json!({ "text": WORDS, "speaker": NAME }))
    };
    for (item, data, personal) in [drifted_data, drifted_personal] {
        let event =
            NewEvent::new("FeedbackLogged", 1, &data).unwrap().with_personal(SubjectId::new(), &personal).unwrap();
        let stream = StreamName::new(format!("feedback-{item}")).unwrap();
        store.append(&stream, ExpectedRevision::NoStream, vec![event]).await.unwrap();
    }
    store.close().await.unwrap();
}

#[tokio::test]
async fn nothing_a_person_said_reaches_the_servers_log_even_at_debug_level() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut create = Command::new(heard_binary())
        .args(["admin", "create-user", "--data"])
        .arg(&data)
        .args(["--email", "worker@example.org", "--name", "Test Worker", "--hub", "arun", "--password-stdin"])
        .args(["--role", "hub_coordinator", "--role", "advocate", "--role", "complaints_handler"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    create.stdin.take().unwrap().write_all(PASSWORD.as_bytes()).unwrap();
    assert!(create.wait().unwrap().success(), "the account is created");
    plant_events_that_do_not_decode(&data).await;

    let mut server = Command::new(heard_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env("RUST_LOG", "debug")
        .env("HEARD_LOG__FILTER", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stderr, stderr_reader) = collect(server.stderr.take().unwrap());
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut printed = String::new();
    let base = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "serve printed no address: {printed}");
        printed.push_str(&line);
        if let Some(rest) = line.split("http://").nth(1) {
            break format!("http://{}", rest.split('/').next().unwrap().trim());
        }
    };
    let (rest_of_stdout, stdout_reader) = collect(stdout.into_inner());

    let worker = Session::log_in(&base, "worker@example.org", PASSWORD).await.unwrap_or_else(|login| panic!("{login}"));
    let said = format!("{NAME} said to ring {PHONE} about {WORDS}");

    let item = worker
        .log_feedback(json!({ "hub": "arun", "text": said, "channel": "DROP_IN", "saidOn": "2026-11-02",
                "speaker": "NAMED", "speakerName": NAME, "consent": "COMMISSIONERS" }))
        .await;
    worker
        .graphql(
            "mutation($id: ID!, $p: [String!]!) { redactFeedback(id: $id, passages: $p) { id } }",
            json!({ "id": item, "p": [NAME, PHONE] }),
        )
        .await;
    // The hub's gazetteer, the suggested redactions and the moderation pages, with the name in
    // what they are given and in what the address asks.
    let gazetteer =
        "mutation($n: String!) { addGazetteerEntry(input: { hub: \"arun\", name: $n, kind: PERSON }) { id } }";
    for _ in 0..2 {
        worker.graphql(gazetteer, json!({ "n": NAME })).await;
    }
    let suggested = worker
        .graphql("query($id: ID!) { feedbackItem(id: $id) { suggestedRedactions { text } } }", json!({ "id": item }))
        .await;
    assert!(suggested.to_string().contains("Orchard Lane"), "what is left of a place is suggested: {suggested}");
    let page = worker.client.get(format!("{base}/moderation")).query(&[("theme", NAME), ("from", PHONE)]).send().await;
    assert_eq!(page.unwrap().status(), 200);
    let form =
        [("csrf_token", worker.csrf_token.as_str()), ("id", item.as_str()), ("hub", "arun"), ("suggested", NAME)];
    worker.client.post(format!("{base}/moderation/redact")).form(&form).send().await.unwrap();
    let raised = worker
        .graphql(
            "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id } }",
            json!({ "i": { "provider": "addaction", "service": WORDS, "articles": [5], "complainantKind": "NAMED",
                "complainantName": NAME, "complainantContact": PHONE, "route": "DIRECT", "whatHappened": said,
                "outcomeWanted": said, "receivedOn": "2026-11-02" } }),
        )
        .await;
    assert!(raised["data"]["raiseComplaint"]["id"].is_string(), "{raised}");
    let referred = worker
        .graphql(
            "mutation($i: ReferCaseInput!) { referCase(input: $i) { id } }",
            json!({ "i": { "issue": said, "kind": "INSTRUCTED", "referralSource": "SELF_REFERRAL", "domain": "HOUSING",
                "themes": ["housing-and-ghettoisation"], "clientName": NAME, "clientContact": PHONE } }),
        )
        .await;
    assert!(referred["data"]["referCase"]["id"].is_string(), "{referred}");
    // A disclosure of risk and its follow-up, whose notes carry the same words.
    let me = worker.graphql("{ me { id } }", json!({})).await["data"]["me"]["id"].as_str().unwrap().to_owned();
    worker.flag_safeguarding(&item, &me).await;
    let followed = worker
        .graphql(
            "mutation($i: RecordSafeguardingActionInput!) { recordSafeguardingAction(input: $i) { id } }",
            json!({ "i": { "itemId": item, "step": "SPOKE_TO_PERSON", "notes": said } }),
        )
        .await;
    assert!(followed["data"]["recordSafeguardingAction"]["id"].is_string(), "{followed}");
    let form =
        [("csrf_token", worker.csrf_token.as_str()), ("step", "OTHER"), ("action_on", "31/2/2026"), ("notes", &said)];
    worker.client.post(format!("{base}/safeguarding/{item}/action")).form(&form).send().await.unwrap();

    // Refused and failing inputs that carry the same words.
    for (query, variables) in [
        (
            "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }",
            json!({ "i": { "hub": "arun", "text": format!("{said}\u{0}"), "channel": "DROP_IN", "saidOn": "2026-02-30",
                "speaker": "NAMED", "speakerName": NAME, "consent": "HUB" } }),
        ),
        (
            "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }",
            json!({ "i": { "hub": NAME, "text": said, "channel": "DROP_IN", "saidOn": "2026-11-02",
                "speaker": "NAMED", "speakerName": NAME, "consent": "HUB" } }),
        ),
        ("query($q: String!) { searchFeedback(query: $q) { total } }", json!({ "q": format!("{NAME} {PHONE}") })),
        ("query($h: ID!) { moderationQueue(hub: $h) { __typename } }", json!({ "h": NAME })),
        ("query($id: ID!) { feedbackItem(id: $id) { id } }", json!({ "id": NAME })),
        (
            "mutation($i: RecordSafeguardingActionInput!) { recordSafeguardingAction(input: $i) { id } }",
            json!({ "i": { "itemId": item, "step": "OTHER", "on": PHONE, "notes": format!("{said}\u{7}") } }),
        ),
        (
            "mutation($i: CloseSafeguardingInput!) { closeSafeguarding(input: $i) { id } }",
            json!({ "i": { "itemId": NAME, "outcome": "OTHER", "notes": said } }),
        ),
        (&format!("{{ {NAME} }}"), json!({})),
    ] {
        worker.graphql(query, variables).await;
    }
    // A spreadsheet with the same words, a good row and a bad one, named after the person,
    // previewed, imported in the background, its rejects downloaded; and a file that is not one.
    {
        use base64::Engine as _;
        let sheet = format!(
            "Date said,Where,What was said,Who said it,Who may see it,{NAME}\n02/11/2026,Drop-in,{said},Named,Hub,{PHONE}\n\
             30/02/2026,{NAME},{said},{NAME},{PHONE},{WORDS}\n"
        );
        let upload = "mutation($i: UploadImportInput!) { uploadImport(input: $i) { draftId rowsToFix } }";
        let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let previewed = worker
            .graphql(upload, json!({ "i": { "hub": "arun", "fileName": format!("{NAME}.csv"), "content": encode(sheet.as_bytes()) } }))
            .await;
        assert_eq!(previewed["data"]["uploadImport"]["rowsToFix"], 1, "{previewed}");
        let draft = previewed["data"]["uploadImport"]["draftId"].as_str().unwrap().to_owned();
        worker.graphql("query($id: ID!) { importRejects(id: $id) }", json!({ "id": draft })).await;
        worker
            .graphql("mutation($id: ID!) { startImport(draftId: $id, rows: GOOD_ROWS) { id } }", json!({ "id": draft }))
            .await;
        let job = "query($id: ID!) { importJob(id: $id) { state } }";
        while worker.graphql(job, json!({ "id": draft })).await["data"]["importJob"]["state"] == "RUNNING" {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let not_a_sheet = format!("%PDF {NAME} {PHONE}\u{0}");
        worker
            .graphql(
                upload,
                json!({ "i": { "hub": "arun", "fileName": NAME, "content": encode(not_a_sheet.as_bytes()) } }),
            )
            .await;
    }
    let page = worker.client.get(format!("{base}/search")).query(&[("q", NAME)]).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let anonymous = reqwest::Client::new();
    anonymous.get(format!("{base}/search")).query(&[("q", PHONE)]).send().await.unwrap();
    anonymous.post(format!("{base}/login")).form(&[("email", NAME), ("password", PHONE)]).send().await.unwrap();

    let terminated = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(terminated.success());
    assert!(server.wait().unwrap().success(), "serve stops cleanly");
    // The pipes close when the server exits: everything it wrote has been read.
    stderr_reader.join().unwrap();
    stdout_reader.join().unwrap();
    let mut everything = printed.into_bytes();
    everything.extend_from_slice(&rest_of_stdout.lock().unwrap());
    everything.extend_from_slice(&stderr.lock().unwrap());
    let log = String::from_utf8_lossy(&everything);
    assert!(log.contains("DEBUG"), "the server logged at debug level ({} bytes)", log.len());
    assert!(log.contains("/search") && log.contains("/graphql"), "the requests themselves were logged");
    assert!(
        log.matches("skipped an event").count() >= 2,
        "the events that do not decode were reached and reported: {log}"
    );
    for personal in ["Quartermaine", "Delphine", PHONE, "900417", "Orchard Lane", "night shelter"] {
        let found = log.lines().filter(|line| line.contains(personal)).take(3).collect::<Vec<_>>();
        assert!(found.is_empty(), "`{personal}` reached the server's log: {found:#?}");
    }
}
