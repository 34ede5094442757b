//! A person's erasure, end to end, through a real server: a person with two feedback items, an
//! advocacy case and a complaint is erased at their request, and within a second no view, list,
//! search or report shows their words or details, nothing more can be recorded about them, and
//! no file under the data directory holds a byte of what they said; the counts, the chain and a
//! report made before the erasure still hold. It runs on the embedded store and on PostgreSQL,
//! where no Heard table (as dumped, and as its files lie on disk) holds a byte of them either,
//! nor any file of a second replica that had indexed their words.
//!
//! An erasure never concerns an account (it names feedback items, cases and complaints, sealed
//! under keys of their own): what replicas share about an account (its email's reservation, its
//! failed logins) goes when it is deactivated instead, at once, on either store.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use heard_access::Role;
use heard_contracts::testing::files_holding;
use heard_tests::{
    PASSWORD, PgSchema, Session, Staff, TestApp, heard_binary, spawn_app_in, spawn_app_with, staff_with, url_encoded,
};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::replicas::{Socket, subscribed_on};

/// What the person told the hub, their name and number, and the words of their case and
/// complaint: each unusual enough that finding it anywhere can only mean them.
const NAME: &str = "Ottoline Brackenbury";
const PHONE: &str = "07700 900562";
const SAID: &str = "the quillwort clinic turned me away twice";
const SAID_AGAIN: &str = "nobody at the marshwick pharmacy explained the taper";
const ISSUE: &str = "my tenancy at Fennimore Court ends before detox";
const COMPLAINT: &str = "staff at the Ravelston service read my notes aloud";

/// What gives the person away, in lower case: their name, number and words.
const GIVES_THEM_AWAY: [&str; 7] =
    ["ottoline", "brackenbury", "07700 900562", "quillwort", "marshwick", "fennimore", "ravelston"];

/// The person's name, number and words as the search index's files hold them in raw bytes:
/// the stored text, as written (the number's digits apart, as search splits them). Its terms,
/// lower-case tokens, are in a compressed dictionary where reading bytes cannot find them: the
/// index is asked for those ([`AS_TOKENS`]).
const AS_STORED: [&str; 6] = ["Ottoline", "Brackenbury", "quillwort", "marshwick", "07700", "900562"];

/// Words of the person's whose every token the index's term dictionaries hold before the
/// erasure, and none after.
const AS_TOKENS: &str = "Ottoline Brackenbury 07700 900562 quillwort marshwick turned";

/// Which of [`GIVES_THEM_AWAY`] `text` holds, in any case, leaving out those in `asked` (a
/// search's own words, which its page repeats in the search box).
fn giving_away(text: &str, asked: &str) -> Vec<&'static str> {
    let (text, asked) = (text.to_lowercase(), asked.to_lowercase());
    GIVES_THEM_AWAY.into_iter().filter(|needle| !asked.contains(needle) && text.contains(needle)).collect()
}

fn errors_code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

fn data<'a>(answer: &'a Value, field: &str) -> &'a Value {
    assert!(answer["errors"].is_null(), "{field} answered with errors: {answer}");
    &answer["data"][field]
}

const SEARCH: &str =
    "query($q: String!) { searchFeedback(query: $q, first: 20) { total edges { node { item { id } } } } }";

async fn search_total(session: &Session, query: &str) -> i64 {
    let answer = session.graphql(SEARCH, json!({ "q": query })).await;
    data(&answer, "searchFeedback")["total"].as_i64().unwrap_or_else(|| panic!("a total: {answer}"))
}

const HELD: &str = "query($p: ID!) { subjectAccess(person: $p) { person erased feedbackItems { id } cases { id } complaints { id } } }";

struct Person {
    person: String,
    items: [String; 2],
    case: String,
    complaint: String,
}

/// The person's two items (one shared with commissioners), their case and their complaint,
/// each said to be about them by the people who hold them.
async fn a_person_known_to_a_hub_an_advocate_and_complaints(staff: &Staff) -> Person {
    let first = staff
        .coordinator
        .log_feedback(json!({ "hub": "arun", "text": format!("{NAME} ({PHONE}) said {SAID}"), "channel": "DROP_IN", "saidOn": "2026-11-02",
            "speaker": "NAMED", "speakerName": NAME, "consent": "COMMISSIONERS", "themes": [] }))
        .await;
    let attributed = staff
        .coordinator
        .graphql("mutation($id: ID!) { attributeFeedback(itemId: $id) { id person } }", json!({ "id": first }))
        .await;
    let person = data(&attributed, "attributeFeedback")["person"].as_str().expect("a new person's code").to_owned();
    let second = staff
        .coordinator
        .log_feedback(json!({ "hub": "arun", "text": format!("{NAME} said {SAID_AGAIN}"), "channel": "DROP_IN", "saidOn": "2026-11-02",
            "speaker": "NAMED", "speakerName": NAME, "consent": "COMMISSIONERS", "themes": [], "person": person }))
        .await;
    let shared =
        staff.coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": first })).await;
    data(&shared, "shareFeedback");

    staff.app.settled().await;
    let referred = staff
        .advocate
        .graphql(
            "mutation($i: ReferCaseInput!) { referCase(input: $i) { id } }",
            json!({ "i": { "issue": ISSUE, "clientName": NAME, "clientContact": PHONE, "kind": "INSTRUCTED",
                "referralSource": "SELF_REFERRAL", "domain": "HOUSING", "provider": "addaction", "articles": [3] } }),
        )
        .await;
    let case = data(&referred, "referCase")["id"].as_str().unwrap().to_owned();
    let attributed = staff
        .advocate
        .graphql(
            "mutation($id: ID!, $p: ID) { attributeCase(caseId: $id, person: $p) { id person } }",
            json!({ "id": case, "p": person }),
        )
        .await;
    assert_eq!(data(&attributed, "attributeCase")["person"], person.as_str());

    let raised = staff
        .handler
        .graphql(
            "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id } }",
            json!({ "i": { "provider": "addaction", "articles": [3], "complainantKind": "NAMED",
                "complainantName": NAME, "complainantContact": PHONE, "route": "DIRECT",
                "whatHappened": COMPLAINT, "outcomeWanted": "An apology.", "receivedOn": RECEIVED } }),
        )
        .await;
    let complaint = data(&raised, "raiseComplaint")["id"].as_str().unwrap().to_owned();
    let attributed = staff
        .handler
        .graphql(
            "mutation($id: ID!, $p: ID) { attributeComplaint(complaintId: $id, person: $p) { id person } }",
            json!({ "id": complaint, "p": person }),
        )
        .await;
    assert_eq!(data(&attributed, "attributeComplaint")["person"], person.as_str());
    staff.app.settled().await;
    Person { person, items: [first, second], case, complaint }
}

/// The day the person's complaint was received: weeks ago, so its acknowledgement is overdue
/// and the complaints handlers' alerts tell it.
const RECEIVED: &str = "2026-11-02";

/// Every list, search (GraphQL, CSV, and the web UI's pages and download) and web page of a
/// record that showed the person before the erasure, each as `(what, words asked for, status,
/// what it answered)`, asked by those who hold the records and by a commissioner.
async fn every_view(staff: &Staff, person: &Person) -> Vec<(String, String, u16, String)> {
    let mut seen = Vec::new();
    let items = "{ feedbackItems(first: 50) { edges { node { id text redactedText speakerName } } } }";
    let lists = [
        ("feedbackItems, for the coordinator", &staff.coordinator, items, "feedbackItems"),
        ("feedbackItems, for the commissioner", &staff.commissioner, items, "feedbackItems"),
        (
            "moderationQueue",
            &staff.coordinator,
            "{ moderationQueue(hub: \"arun\", first: 50) { totalCount edges { node { id text speakerName } } } }",
            "moderationQueue",
        ),
        (
            "cases",
            &staff.advocate,
            "{ cases(first: 50) { edges { node { id clientName clientContact issue } } } }",
            "cases",
        ),
        (
            "complaints",
            &staff.handler,
            "{ complaints(first: 50) { edges { node { id complainantName complainantContact whatHappened outcomeWanted } } } }",
            "complaints",
        ),
    ];
    for (what, session, query, field) in lists {
        let answer = session.graphql(query, json!({})).await;
        seen.push((what.to_owned(), String::new(), 200, data(&answer, field).to_string()));
    }
    let csv = "query($q: String!) { searchFeedbackCsv(query: $q) }";
    for (who, session) in [("coordinator", &staff.coordinator), ("commissioner", &staff.commissioner)] {
        for asked in ["quillwort", "Brackenbury", ""] {
            let answer = session.graphql(csv, json!({ "q": asked })).await;
            let what = format!("searchFeedbackCsv({asked:?}), for the {who}");
            seen.push((what, asked.to_owned(), 200, data(&answer, "searchFeedbackCsv").to_string()));
        }
    }
    let mut pages: Vec<(&Session, String, &str)> = Vec::new();
    for id in &person.items {
        pages.push((&staff.coordinator, format!("/feedback/{id}"), ""));
    }
    pages.push((&staff.commissioner, format!("/feedback/{}", person.items[0]), ""));
    for (session, asked) in [
        (&staff.coordinator, "quillwort"),
        (&staff.coordinator, "Brackenbury"),
        (&staff.coordinator, "\"turned me away\""),
        (&staff.commissioner, "quillwort"),
    ] {
        pages.push((session, format!("/search?q={}", url_encoded(asked)), asked));
    }
    pages.push((&staff.coordinator, "/search/download?q=marshwick".to_owned(), "marshwick"));
    pages.push((&staff.coordinator, "/moderation?hub=arun".to_owned(), ""));
    pages.push((&staff.advocate, format!("/cases/{}", person.case), ""));
    pages.push((&staff.handler, "/complaints".to_owned(), ""));
    pages.push((&staff.handler, format!("/complaints/{}", person.complaint), ""));
    for (session, path, asked) in pages {
        let response = session.client.get(staff.app.url(&path)).send().await.expect("the page is answered");
        let status = response.status().as_u16();
        seen.push((format!("GET {path}"), asked.to_owned(), status, response.text().await.expect("the page is text")));
    }
    seen
}

/// The account id of the one logged in to `session`.
async fn account_of(session: &Session) -> uuid::Uuid {
    let me = session.graphql("{ me { id } }", json!({})).await;
    data(&me, "me")["id"].as_str().expect("an id").parse().expect("a UUID")
}

/// The payloads (`data`, `errors`) of the messages a subscription sends within `within`,
/// stopping at the first after which `enough` holds.
async fn payloads(socket: &mut Socket, within: Duration, enough: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    let mut told = Vec::new();
    while let Ok(message) = tokio::time::timeout_at(deadline, socket.next()).await {
        let Message::Text(text) = message.expect("the subscription stays open").expect("a message") else { continue };
        let message: Value = serde_json::from_str(&text).expect("JSON");
        match message["type"].as_str() {
            Some("next") => told.push(message["payload"].clone()),
            Some("connection_ack" | "ping" | "pong") => {}
            _ => panic!("the subscription ended or failed: {message}"),
        }
        if enough(&told) {
            break;
        }
    }
    told
}

/// Whether a subscription told `id` in `field`.
fn told_of(told: &[Value], field: &str, id: &str) -> bool {
    told.iter().any(|payload| {
        let told = &payload["data"][field];
        told["id"] == id || told["complaint"]["id"] == id
    })
}

const ALERTS: &str = "subscription { complaintAlerts { complaint { id complainantName complainantContact whatHappened outcomeWanted erased } reason } }";

const REPORT: &str = "query { youSaidWeDid(scope: { hub: \"arun\" }) { position chainHead sharedItems representativeItems { id text } } }";

#[tokio::test]
async fn erasing_a_person_takes_their_words_from_every_view_search_and_file_within_a_second_and_counts_and_the_chain_still_hold()
 {
    erase_a_person_everywhere(None).await;
}

#[tokio::test]
async fn on_postgresql_erasing_a_person_leaves_no_byte_of_them_in_any_heard_table_or_file_and_the_chain_still_holds() {
    erase_a_person_everywhere(Some(PgSchema::new())).await;
}

/// The keys the store holds, as `(subject, key)`: read from the key file, or from PostgreSQL's
/// keys table.
fn keys_now(dir: &std::path::Path, postgres: Option<&PgSchema>) -> Vec<(uuid::Uuid, Vec<u8>)> {
    match postgres {
        None => {
            let file = std::fs::read(dir.join("keys.heard")).expect("the key file");
            file[64..]
                .chunks_exact(64)
                .filter(|slot| slot[48] == 1)
                .map(|slot| (uuid::Uuid::from_slice(&slot[..16]).unwrap(), slot[16..48].to_vec()))
                .collect()
        }
        Some(schema) => schema
            .psql("SELECT subject, encode(key, 'hex') FROM heard_subject_keys WHERE key IS NOT NULL")
            .lines()
            .filter_map(|line| line.split_once('|'))
            .map(|(subject, key)| (subject.parse().unwrap(), hex_decode(key)))
            .collect(),
    }
}

fn hex_decode(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap()).collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Every Heard table of `schema` as bytes to search: `pg_dump`'s text of its rows, and each
/// table's files (with their TOAST) as they lie on disk after a checkpoint, old row versions
/// included.
fn heard_tables(schema: &PgSchema) -> Vec<(String, Vec<u8>)> {
    let dump = std::process::Command::new("pg_dump")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "--data-only", "-n", schema.name()])
        .output()
        .expect("pg_dump runs (PostgreSQL's client)");
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    let mut read = vec![("the dump".to_owned(), dump.stdout)];
    schema.psql("CHECKPOINT");
    let files = schema.psql(&format!(
        "SELECT t.relname, encode(pg_read_binary_file(pg_relation_filepath(c.oid)), 'hex')
         FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
         JOIN pg_class c ON c.oid = t.oid OR c.oid = t.reltoastrelid
         WHERE n.nspname = '{}' AND t.relkind = 'r'",
        schema.name()
    ));
    for line in files.lines() {
        let (table, hex) = line.split_once('|').expect("a table and its bytes");
        read.push((format!("the file of {table}"), hex_decode(hex)));
    }
    let tables: Vec<&str> = read.iter().map(|(name, _)| name.as_str()).collect();
    assert!(
        tables.contains(&"the file of heard_events") && tables.contains(&"the file of heard_subject_keys"),
        "{tables:?}"
    );
    read
}

/// Which of `tables` hold `needle`, as bytes or (in the dump) as hex.
fn holding(tables: &[(String, Vec<u8>)], needle: &[u8]) -> Vec<String> {
    let hex = hex_encode(needle);
    let holds = |bytes: &[u8]| {
        bytes.windows(needle.len()).any(|window| window == needle)
            || bytes.windows(hex.len()).any(|window| window == hex.as_bytes())
    };
    tables.iter().filter(|(_, bytes)| holds(bytes)).map(|(name, _)| name.clone()).collect()
}

async fn erase_a_person_everywhere(postgres: Option<PgSchema>) {
    let staff = staff_with(|settings| {
        if let Some(schema) = &postgres {
            schema.serve_from(settings);
        }
    })
    .await;
    let [(_, crawley), (_, provider)] = staff.app.people(["crawley", "addaction"]).await;
    // A coordinator of the hub listening for new feedback while the person's items are logged.
    let (coordinator_id, handler_id) = (account_of(&staff.coordinator).await, account_of(&staff.handler).await);
    let listening = "subscription { feedbackLogged(hub: \"arun\") { id text speakerName } }";
    let mut logged = subscribed_on(&staff.app, coordinator_id, listening).await;
    let started = Instant::now();
    while staff.app.feedback.subscribers() == 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "the feedbackLogged subscription never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let person = a_person_known_to_a_hub_an_advocate_and_complaints(&staff).await;

    // Before: each of those who hold a record sees theirs, and only theirs.
    let held = staff.coordinator.graphql(HELD, json!({ "p": person.person })).await;
    let held = data(&held, "subjectAccess");
    assert_eq!(held["feedbackItems"].as_array().unwrap().len(), 2, "{held}");
    assert_eq!(held["cases"].as_array().unwrap().len(), 0, "the hub does not see the case: {held}");
    assert_eq!(held["complaints"].as_array().unwrap().len(), 0, "nor the complaint: {held}");
    let by_advocate = staff.advocate.graphql(HELD, json!({ "p": person.person })).await;
    assert_eq!(data(&by_advocate, "subjectAccess")["cases"][0]["id"], person.case.as_str());
    assert_eq!(data(&by_advocate, "subjectAccess")["feedbackItems"].as_array().unwrap().len(), 0);
    let by_handler = staff.handler.graphql(HELD, json!({ "p": person.person })).await;
    assert_eq!(data(&by_handler, "subjectAccess")["complaints"][0]["id"], person.complaint.as_str());
    for nosy in [&crawley, &provider, &staff.commissioner, &staff.member, &staff.admin] {
        let answer = nosy.graphql(HELD, json!({ "p": person.person })).await;
        assert_eq!(errors_code(&answer), Some("NOT_FOUND"), "{answer}");
        let answer = nosy
            .graphql("mutation($p: ID!) { eraseSubject(person: $p) { records } }", json!({ "p": person.person }))
            .await;
        assert_eq!(errors_code(&answer), Some("NOT_FOUND"), "a nosy account cannot erase: {answer}");
    }
    assert_eq!(search_total(&staff.coordinator, "quillwort").await, 1);
    assert_eq!(search_total(&staff.commissioner, "quillwort").await, 1);
    let before = staff.commissioner.graphql(REPORT, json!({})).await;
    let before = data(&before, "youSaidWeDid").clone();
    let shared = staff
        .commissioner
        .graphql("query($id: ID!) { feedbackItem(id: $id) { text } }", json!({ "id": person.items[0] }))
        .await;
    assert!(shared.to_string().contains("quillwort"), "the commissioner reads the shared item: {shared}");
    // Every list, search and page shows them, and so do both subscriptions: the one that was
    // listening as their items were logged, and a complaints handler's alerts.
    for (what, asked, status, body) in every_view(&staff, &person).await {
        assert_eq!(status, 200, "{what} answers: {body}");
        assert!(!giving_away(&body, &asked).is_empty(), "before the erasure, {what} shows them: {body}");
    }
    let told = payloads(&mut logged, Duration::from_secs(5), |told| {
        person.items.iter().all(|id| told_of(told, "feedbackLogged", id))
    })
    .await;
    for id in &person.items {
        assert!(told_of(&told, "feedbackLogged", id), "the subscriber was told of each item: {told:?}");
    }
    assert!(giving_away(&format!("{told:?}"), "").contains(&"marshwick"), "in their words: {told:?}");
    let mut alerts = subscribed_on(&staff.app, handler_id, ALERTS).await;
    let told =
        payloads(&mut alerts, Duration::from_secs(5), |told| told_of(told, "complaintAlerts", &person.complaint)).await;
    assert!(told_of(&told, "complaintAlerts", &person.complaint), "the overdue complaint is told: {told:?}");
    assert!(giving_away(&format!("{told:?}"), "").contains(&"ravelston"), "with its words: {told:?}");

    // On PostgreSQL, a second replica over the same log, with its own read models and search
    // index, which has taken in the person's words by the time of the erasure.
    let replica: Option<TestApp> = match &postgres {
        None => None,
        Some(schema) => {
            let dir = tempfile::tempdir().expect("the second replica's data directory");
            std::fs::copy(staff.app.data_dir.path().join("secret.key"), dir.path().join("secret.key"))
                .expect("the replicas share the server key");
            let replica = spawn_app_in(dir, |settings| schema.serve_from(settings)).await;
            replica.settled().await;
            let indexed = files_holding(replica.data_dir.path(), b"quillwort");
            assert!(!indexed.is_empty(), "the second replica indexed the person's words");
            Some(replica)
        }
    };

    // The search index's files hold the person's words and details before the erasure, as it
    // keeps them (lower-case tokens): finding none afterwards means the erasure took them.
    let index = staff.app.data_dir.path().join("search");
    for needle in AS_STORED {
        assert!(!files_holding(&index, needle.as_bytes()).is_empty(), "the index holds {needle:?} before the erasure");
    }
    let terms = staff.app.feedback.search_index().terms_held(AS_TOKENS).expect("the index answers");
    assert_eq!(terms.len(), AS_TOKENS.split(' ').count(), "every word of theirs is a term before: {terms:?}");

    // The keys as they are before the erasure, to look for afterwards.
    let keys_before = keys_now(staff.app.data_dir.path(), postgres.as_ref());
    if let Some(schema) = &postgres {
        let (_, key) = &keys_before[0];
        let found = holding(&heard_tables(schema), key);
        assert!(found.len() >= 2, "a live key is in the dump and the keys table's file: {found:?}");
    }

    // The erasure. A second is counted from the request, not from its answer (how long the
    // answer takes is measured in BENCHMARKS.md, "Erasing a person").
    let asked = Instant::now();
    let erased = staff
        .coordinator
        .graphql(
            "mutation($p: ID!) { eraseSubject(person: $p) { person records erasedAt } }",
            json!({ "p": person.person }),
        )
        .await;
    assert_eq!(
        data(&erased, "eraseSubject")["records"],
        2,
        "the coordinator is told of the two items they hold: {erased}"
    );

    // Within a second: no view, list or search shows them.
    let item = "query($id: ID!) { feedbackItem(id: $id) { text speakerName erased } }";
    let case = "query($id: ID!) { case(id: $id) { clientName clientContact issue erased } }";
    let complaint = "query($id: ID!) { complaint(id: $id) { complainantName complainantContact whatHappened erased } }";
    let mut left = Vec::new();
    // Looked at once at least, however long the answer took, then again until nothing is left
    // or the second is up.
    loop {
        left.clear();
        for id in &person.items {
            let seen = staff.coordinator.graphql(item, json!({ "id": id })).await;
            if seen.to_string().contains("quillwort")
                || seen.to_string().contains("marshwick")
                || seen.to_string().contains(NAME)
            {
                left.push(format!("item {seen}"));
            }
        }
        for query in [
            "quillwort",
            "\"quillwort\"",
            "\"turned me away\"",
            "quilwort",
            "text_hub:quillwort",
            "marshwick",
            "Brackenbury",
        ] {
            for session in [&staff.coordinator, &staff.commissioner] {
                if search_total(session, query).await != 0 {
                    left.push(format!("search {query}"));
                }
            }
        }
        let seen = staff.advocate.graphql(case, json!({ "id": person.case })).await;
        if seen.to_string().contains("Fennimore") || seen.to_string().contains(NAME) {
            left.push(format!("case {seen}"));
        }
        let seen = staff.handler.graphql(complaint, json!({ "id": person.complaint })).await;
        if seen.to_string().contains("Ravelston") || seen.to_string().contains(NAME) {
            left.push(format!("complaint {seen}"));
        }
        let report = staff.commissioner.graphql(REPORT, json!({})).await;
        if report.to_string().contains("quillwort") {
            left.push(format!("report {report}"));
        }
        for (what, asked, _, body) in every_view(&staff, &person).await {
            let found = giving_away(&body, &asked);
            if !found.is_empty() {
                left.push(format!("{what} shows {found:?}: {body}"));
            }
        }
        if left.is_empty() || asked.elapsed() >= Duration::from_secs(1) {
            break;
        }
    }
    assert!(left.is_empty(), "a second after the erasure was asked for, still shown: {left:?}");
    let terms = staff.app.feedback.search_index().terms_held(AS_TOKENS).expect("the index answers");
    assert!(terms.is_empty(), "the index's term dictionaries still hold {terms:?}");
    for id in &person.items {
        let seen = staff.coordinator.graphql(item, json!({ "id": id })).await;
        let gone = errors_code(&seen) == Some("NOT_FOUND") || seen["data"]["feedbackItem"]["erased"] == true;
        assert!(gone, "an erased item is not found, or shows as erased: {seen}");
    }
    let seen = staff.advocate.graphql(case, json!({ "id": person.case })).await;
    assert_eq!(data(&seen, "case")["erased"], true, "{seen}");
    let seen = staff.handler.graphql(complaint, json!({ "id": person.complaint })).await;
    assert_eq!(data(&seen, "complaint")["erased"], true, "{seen}");
    let held = staff.coordinator.graphql(HELD, json!({ "p": person.person })).await;
    assert_eq!(data(&held, "subjectAccess")["erased"], true, "{held}");

    // The counts stay: the report answers as it did, but for the log's new head.
    let after = staff.commissioner.graphql(REPORT, json!({})).await;
    let after = data(&after, "youSaidWeDid");
    assert_eq!(after["sharedItems"], before["sharedItems"], "{after}");
    assert_eq!(after["representativeItems"], before["representativeItems"], "{after}");

    // The subscriptions opened before the erasure go on, and nothing they tell after it holds
    // the person: new feedback and a new complaint reach them, the person never again. A
    // complaints handler who subscribes now is told of the person's complaint (still overdue),
    // without their name or words.
    let other = staff
        .coordinator
        .log_feedback(json!({ "hub": "arun", "text": "the sundew hostel shuts its doors at six", "channel": "DROP_IN",
            "saidOn": "2026-11-03", "speaker": "ANONYMOUS", "consent": "HUB" }))
        .await;
    let told = payloads(&mut logged, Duration::from_secs(2), |told| told_of(told, "feedbackLogged", &other)).await;
    assert!(told_of(&told, "feedbackLogged", &other), "the subscriber is still told of new feedback: {told:?}");
    let raised = staff
        .handler
        .graphql(
            "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id } }",
            json!({ "i": { "provider": "addaction", "articles": [3], "complainantKind": "ANONYMOUS", "route": "DIRECT",
                "whatHappened": "the Dunmore service lost the form twice", "outcomeWanted": "The form found.",
                "receivedOn": RECEIVED } }),
        )
        .await;
    let another = data(&raised, "raiseComplaint")["id"].as_str().unwrap().to_owned();
    let alerted =
        payloads(&mut alerts, Duration::from_secs(3), |told| told_of(told, "complaintAlerts", &another)).await;
    assert!(told_of(&alerted, "complaintAlerts", &another), "the handler is still alerted: {alerted:?}");
    let mut fresh = subscribed_on(&staff.app, handler_id, ALERTS).await;
    let anew =
        payloads(&mut fresh, Duration::from_secs(3), |told| told_of(told, "complaintAlerts", &person.complaint)).await;
    let theirs =
        anew.iter().find(|payload| payload["data"]["complaintAlerts"]["complaint"]["id"] == person.complaint.as_str());
    let theirs = theirs.unwrap_or_else(|| panic!("a new subscriber is told of the overdue complaint: {anew:?}"));
    assert_eq!(theirs["data"]["complaintAlerts"]["complaint"]["erased"], true, "{theirs}");
    // A subscriber resuming from the start of the log is replayed what was logged since (as
    // the items stand now), and none of the person's words.
    let mut resumed = subscribed_on(
        &staff.app,
        coordinator_id,
        "subscription { feedbackLogged(hub: \"arun\", after: \"0\") { id text speakerName } }",
    )
    .await;
    let replayed = payloads(&mut resumed, Duration::from_secs(5), |told| told_of(told, "feedbackLogged", &other)).await;
    assert!(told_of(&replayed, "feedbackLogged", &other), "the replay reaches the newest item: {replayed:?}");
    for payload in told.iter().chain(&alerted).chain(&anew).chain(&replayed) {
        assert!(payload["errors"].is_null(), "{payload}");
        assert_eq!(giving_away(&payload.to_string(), ""), Vec::<&str>::new(), "told after the erasure: {payload}");
    }
    // Closed, so that the server stops at once and lets go of its data directory.
    for mut socket in [logged, alerts, fresh, resumed] {
        socket.close(None).await.expect("the subscription closes");
    }

    // Nothing more can be recorded about them.
    let again = staff
        .coordinator
        .graphql(
            "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }",
            json!({ "i": { "hub": "arun", "text": "more words", "channel": "DROP_IN", "saidOn": "2026-11-02", "speaker": "ANONYMOUS", "consent": "HUB", "person": person.person } }),
        )
        .await;
    assert_eq!(errors_code(&again), Some("BAD_USER_INPUT"), "{again}");
    assert_eq!(again["errors"][0]["extensions"]["field"], "input.person", "{again}");
    let twice = staff
        .coordinator
        .graphql("mutation($p: ID!) { eraseSubject(person: $p) { records } }", json!({ "p": person.person }))
        .await;
    assert!(errors_code(&twice).is_some(), "a second erasure is refused: {twice}");

    // The erasure names the keys it destroyed: one for each item, the client's and the
    // complaint's.
    let erasures = staff.app.store.read_category("erasure", 0, 10).await.unwrap();
    assert_eq!(erasures.len(), 1);
    let erasure: Value = serde_json::from_slice(&erasures[0].data).unwrap();
    let subjects: Vec<uuid::Uuid> =
        erasure["subjects"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().parse().unwrap()).collect();
    assert!(subjects.len() >= 4, "{erasure}");
    let keys: Vec<Vec<u8>> = subjects
        .iter()
        .map(|subject| {
            let (_, key) = keys_before.iter().find(|(held, _)| held == subject).expect("a live key before the erasure");
            assert_ne!(key, &[0; 32], "a real key");
            key.clone()
        })
        .collect();

    // On disk: not one file of any replica holds their words, name, number or keys.
    let mut dirs = Vec::new();
    if let Some(replica) = replica {
        let head = replica.store.refresh_head().await.expect("the second replica reads the database's head");
        assert!(
            replica.store.models_reached(head, Duration::from_secs(10)).await,
            "the second replica applies the erasure to every model and its search index"
        );
        let terms = replica.feedback.search_index().terms_held(AS_TOKENS).expect("the replica's index answers");
        assert!(terms.is_empty(), "the second replica's term dictionaries still hold {terms:?}");
        dirs.push(replica.shutdown().await);
    }
    let dir = staff.app.shutdown().await;
    for dir in dirs.iter().chain([&dir]) {
        // In lower case too, as search folds words.
        let lower_case = ["ottoline", "brackenbury", "fennimore", "ravelston"];
        for needle in [NAME, PHONE, "quillwort", "marshwick", "Fennimore", "Ravelston", "Brackenbury"]
            .into_iter()
            .chain(lower_case)
        {
            let holding = files_holding(dir.path(), needle.as_bytes());
            assert!(holding.is_empty(), "{needle:?} is still in {holding:?}");
        }
        // What the index held before, the number's digits apart, looked for in the index's files
        // (anywhere else five digits could be part of any other number).
        for needle in AS_STORED {
            let holding = files_holding(&dir.path().join("search"), needle.as_bytes());
            assert!(holding.is_empty(), "{needle:?} is still in {holding:?}");
        }
        for key in &keys {
            let holding = files_holding(dir.path(), key);
            assert!(holding.is_empty(), "a destroyed key is still in {holding:?}");
        }
    }

    if let Some(schema) = &postgres {
        let tables = heard_tables(schema);
        for needle in [NAME, PHONE, "quillwort", "marshwick", "Fennimore", "Ravelston", "Brackenbury"] {
            let found = holding(&tables, needle.as_bytes());
            assert!(found.is_empty(), "{needle:?} is still in {found:?}");
        }
        for key in &keys {
            let found = holding(&tables, key);
            assert!(found.is_empty(), "a destroyed key is still in {found:?}");
        }
        let store = heard_eventstore::EventStore::open_postgres(&schema.url(), heard_eventstore::Upcasters::new())
            .await
            .expect("the log opens again");
        let whole = heard_eventstore::verify_chain(&store, None).await.unwrap();
        assert!(whole.ok, "{whole:?}");
        store.close().await.unwrap();
        return;
    }

    // The chain verifies, and the report made before the erasure verifies at its position.
    let whole = std::process::Command::new(heard_binary()).args(["verify", "--data"]).arg(dir.path()).output().unwrap();
    assert!(
        whole.status.success(),
        "{}{}",
        String::from_utf8_lossy(&whole.stdout),
        String::from_utf8_lossy(&whole.stderr)
    );
    let position = before["position"].as_u64().unwrap().to_string();
    let at = std::process::Command::new(heard_binary())
        .args(["verify", "--at", &position, "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(at.status.success());
    let report: Value = serde_json::from_slice(&at.stdout).unwrap();
    assert_eq!(report["head"], before["chainHead"], "the report's chain head is the log's at its position");
}

#[tokio::test]
async fn an_account_deactivated_leaves_no_failed_login_behind_and_on_postgresql_no_shared_row() {
    deactivate_and_forget(None).await;
}

#[tokio::test]
async fn on_postgresql_an_account_deactivated_leaves_no_shared_row_naming_it_and_reactivated_reserves_its_email() {
    deactivate_and_forget(Some(PgSchema::new())).await;
}

/// Rows of the tables replicas share that name `account`.
fn shared_rows_of(schema: &PgSchema, account: uuid::Uuid) -> (String, String) {
    let reservations =
        schema.psql(&format!("SELECT count(*) FROM heard_email_reservations WHERE account = '{account}'"));
    let failures = schema.psql(&format!("SELECT count(*) FROM heard_login_failures WHERE account = '{account}'"));
    (reservations.trim().to_owned(), failures.trim().to_owned())
}

/// Four failed logins in a row (one short of a wait) for a member and for a colleague, then the
/// member's account deactivated and reactivated: the member's run is gone (their next failure is
/// the first again), the colleague's stays, and the member logs in.
async fn deactivate_and_forget(postgres: Option<PgSchema>) {
    let app = spawn_app_with(|settings| {
        if let Some(schema) = &postgres {
            schema.serve_from(settings);
        }
    })
    .await;
    app.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    let member = app.create_user("member@example.org", &[Role::HubMember], &["arun"]).await;
    let colleague = app.create_user("colleague@example.org", &[Role::HubMember], &["arun"]).await;
    let admin = app.login("admin@example.org").await;
    for email in ["member@example.org", "colleague@example.org"] {
        for _ in 0..4 {
            let refused = app.try_login(email, "not the password at all").await.err().expect("refused");
            assert!(refused.to_string().contains("not right"), "{refused}");
        }
    }
    if let Some(schema) = &postgres {
        assert_eq!(shared_rows_of(schema, member), ("1".into(), "1".into()), "the member's rows before");
    }

    let deactivated =
        admin.graphql("mutation($id: ID!) { deactivateUser(id: $id) { id } }", json!({ "id": member })).await;
    assert!(deactivated["errors"].is_null(), "{deactivated}");
    if let Some(schema) = &postgres {
        // As soon as the mutation answers.
        assert_eq!(shared_rows_of(schema, member), ("0".into(), "0".into()), "no row names the deactivated account");
        assert_eq!(shared_rows_of(schema, colleague), ("1".into(), "1".into()), "the colleague's rows stay");
    }
    let reactivated =
        admin.graphql("mutation($id: ID!) { reactivateUser(id: $id) { id } }", json!({ "id": member })).await;
    assert!(reactivated["errors"].is_null(), "{reactivated}");
    if let Some(schema) = &postgres {
        assert_eq!(shared_rows_of(schema, member).0, "1", "the email is reserved for the account again");
    }

    // The member's run went with the deactivation: a fifth failure is a plain refusal again. The
    // colleague's fifth makes them wait.
    let member_fifth = app.try_login("member@example.org", "not the password at all").await.err().expect("refused");
    assert!(member_fifth.to_string().contains("not right"), "the run was forgotten: {member_fifth}");
    let colleague_fifth = app.try_login("colleague@example.org", "not the password").await.err().expect("refused");
    assert!(colleague_fifth.to_string().contains("locked"), "the colleague's run still counts: {colleague_fifth}");
    app.try_login("member@example.org", PASSWORD).await.expect("the reactivated member logs in");
}
