//! A person's erasure, end to end, through a real server: a person with two feedback items, an
//! advocacy case and a complaint is erased at their request, and within a second no view, list,
//! search or report shows their words or details, nothing more can be recorded about them, and
//! no file under the data directory holds a byte of what they said; the counts, the chain and a
//! report made before the erasure still hold.

use std::time::{Duration, Instant};

use heard_contracts::testing::files_holding;
use heard_tests::{Session, Staff, heard_binary, staff};
use serde_json::{Value, json};

/// What the person told the hub, their name and number, and the words of their case and
/// complaint: each unusual enough that finding it anywhere can only mean them.
const NAME: &str = "Ottoline Brackenbury";
const PHONE: &str = "07700 900562";
const SAID: &str = "the quillwort clinic turned me away twice";
const SAID_AGAIN: &str = "nobody at the marshwick pharmacy explained the taper";
const ISSUE: &str = "my tenancy at Fennimore Court ends before detox";
const COMPLAINT: &str = "staff at the Ravelston service read my notes aloud";

fn errors_code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

fn data<'a>(answer: &'a Value, field: &str) -> &'a Value {
    assert!(answer["errors"].is_null(), "{field} answered with errors: {answer}");
    &answer["data"][field]
}

/// The key `subject` had in a copy of `keys.heard` (64-byte slots after a 64-byte header: the
/// subject id, then its 32-byte key; see `crates/eventstore/src/keyfile.rs`).
fn key_in(file: &[u8], subject: uuid::Uuid) -> Vec<u8> {
    let slot = file[64..]
        .chunks_exact(64)
        .find(|slot| slot[..16] == subject.as_bytes()[..] && slot[48] == 1)
        .unwrap_or_else(|| panic!("subject {subject} had a live key before the erasure"));
    assert_ne!(&slot[16..48], &[0; 32], "a real key");
    slot[16..48].to_vec()
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
                "whatHappened": COMPLAINT, "outcomeWanted": "An apology." } }),
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

const REPORT: &str = "query { youSaidWeDid(scope: { hub: \"arun\" }) { position chainHead sharedItems representativeItems { id text } } }";

#[tokio::test]
async fn erasing_a_person_takes_their_words_from_every_view_search_and_file_within_a_second_and_counts_and_the_chain_still_hold()
 {
    let staff = staff().await;
    let [(_, crawley), (_, provider)] = staff.app.people(["crawley", "addaction"]).await;
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

    // The keys as they are before the erasure, to look for afterwards.
    let keys_before = std::fs::read(staff.app.data_dir.path().join("keys.heard")).expect("the key file");

    // The erasure.
    let erased = staff
        .coordinator
        .graphql(
            "mutation($p: ID!) { eraseSubject(person: $p) { person records erasedAt } }",
            json!({ "p": person.person }),
        )
        .await;
    let answered = Instant::now();
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
    while answered.elapsed() < Duration::from_secs(1) {
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
        for query in ["quillwort", "\"turned me away\"", "quilwort", "text_hub:quillwort", "marshwick", "Brackenbury"] {
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
        if left.is_empty() {
            break;
        }
    }
    assert!(left.is_empty(), "a second after the erasure, still shown: {left:?}");
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
    let keys: Vec<Vec<u8>> = subjects.iter().map(|subject| key_in(&keys_before, *subject)).collect();

    // On disk: not one file holds their words, name, number or keys.
    let dir = staff.app.shutdown().await;
    for needle in [NAME, PHONE, "quillwort", "marshwick", "Fennimore", "Ravelston", "Brackenbury"] {
        let holding = files_holding(dir.path(), needle.as_bytes());
        assert!(holding.is_empty(), "{needle:?} is still in {holding:?}");
    }
    for key in &keys {
        let holding = files_holding(dir.path(), key);
        assert!(holding.is_empty(), "a destroyed key is still in {holding:?}");
    }

    // The chain verifies, and the report made before the erasure verifies at its position.
    let whole = std::process::Command::new(heard_binary()).args(["verify", "--data"]).arg(dir.path()).output().unwrap();
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stdout));
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
