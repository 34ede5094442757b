//! A person's rights in casework and complaints (issue #18), end to end on a real server: a
//! complaints handler redacts a complaint's words for the provider, and from then on nothing the
//! provider responder can ask for, through GraphQL or the web pages, holds the original words.

use heard_access::Role;
use heard_tests::{Session, TestApp, error_code, spawn_app};
use serde_json::{Value, json};

/// Every field of a complaint a provider responder can ask for.
const EVERY_FIELD: &str = "id reference charter provider providerName service articles { number label } \
    complainantKind complainantName complainantContact relayedByAdvocateId handlerId acknowledgedHow route \
    whatHappened outcomeWanted redactedForProvider person erased receivedOn stage earlyResolution outcome closedOn \
    clock { stage acknowledgeBy acknowledgedOn respondBy respondedOn workingDaysLeft overdue urgent paused \
    responsePeriod needsExplanation } agreedWorkingDays extensions { workingDays reason personAgreed } \
    pauses { from until reason } escalations { to reference } delayExplanations learning";

/// What the complainant said, none of which may reach the provider once redacted.
const ORIGINAL: [&str; 5] = ["Pennyfeather", "Ward 7", "Sam Example", "07700 900123", "keyworker Jo"];

const REDACTED: &str = "A dose was reduced without a clinical review, and nobody explained why.";

struct Cast {
    app: TestApp,
    handler: Session,
    provider: Session,
}

async fn cast() -> Cast {
    let app = spawn_app().await;
    app.create_user("handler@example.org", &[Role::ComplaintsHandler], &[]).await;
    app.create_user_with("addaction@example.org", &[Role::ProviderResponder], &[], Some("addaction")).await;
    Cast { handler: app.login("handler@example.org").await, provider: app.login("addaction@example.org").await, app }
}

/// A named complaint about Addaction, received on the last working day.
async fn raise(handler: &Session) -> (String, String) {
    let calendar = heard_workdays::Calendar::england_and_wales();
    let mut received = jiff::Zoned::now().date();
    while !calendar.is_working_day(received).unwrap() {
        received = received.yesterday().unwrap();
    }
    let input = json!({ "i": {
        "provider": "addaction", "service": "the Crawley clinic", "articles": [5],
        "complainantKind": "NAMED", "complainantName": "Sam Example", "complainantContact": "07700 900123",
        "route": "DIRECT", "whatHappened": "Dr Pennyfeather on Ward 7 cut my dose without a review.",
        "outcomeWanted": "A review with my keyworker Jo present.", "receivedOn": received.to_string()
    }});
    let answer = handler
        .graphql("mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id reference } }", input)
        .await;
    let raised = &answer["data"]["raiseComplaint"];
    assert!(raised.is_object(), "not raised: {answer}");
    (raised["id"].as_str().unwrap().to_owned(), raised["reference"].as_str().unwrap().to_owned())
}

/// Everything the provider responder can ask about the complaint: the complaint itself, the
/// list of theirs, the list found by its reference, and the web pages of both.
async fn what_the_provider_sees(cast: &Cast, id: &str, reference: &str) -> Vec<String> {
    let provider = &cast.provider;
    let one = provider.graphql(&format!("query($id: ID!) {{ complaint(id: $id) {{ {EVERY_FIELD} }} }}"), json!({ "id": id })).await;
    let list = provider.graphql(&format!("{{ complaints {{ edges {{ node {{ {EVERY_FIELD} }} }} }} }}"), json!({})).await;
    let found = provider
        .graphql(
            &format!("query($r: String!) {{ complaints(reference: $r) {{ edges {{ node {{ {EVERY_FIELD} }} }} }} }}"),
            json!({ "r": reference }),
        )
        .await;
    for answer in [&one, &list, &found] {
        assert!(answer["errors"].is_null(), "{answer}");
    }
    assert_eq!(list["data"]["complaints"]["edges"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(found["data"]["complaints"]["edges"].as_array().unwrap().len(), 1, "{found}");
    let mut seen: Vec<String> = [one, list, found].iter().map(Value::to_string).collect();
    for path in ["/complaints".to_owned(), format!("/complaints/{id}")] {
        let page = provider.client.get(cast.app.url(&path)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        seen.push(page.text().await.unwrap());
    }
    seen
}

#[tokio::test]
async fn once_a_handler_redacts_a_complaint_the_provider_responder_never_reads_the_original_words() {
    let cast = cast().await;
    let (id, reference) = raise(&cast.handler).await;
    let before = what_the_provider_sees(&cast, &id, &reference).await;
    assert!(before[0].contains("Dr Pennyfeather on Ward 7"), "until redacted, what they saw before: {}", before[0]);
    assert!(!before.iter().any(|seen| seen.contains("Sam Example")), "never who complained");

    let redact = "mutation($id: ID!, $text: String!) { redactComplaintForProvider(complaintId: $id, text: $text) \
        { whatHappened redactedForProvider } }";
    let refused = cast.provider.graphql(redact, json!({ "id": id, "text": "anything" })).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let empty = cast.handler.graphql(redact, json!({ "id": id, "text": "" })).await;
    assert_eq!(empty["errors"][0]["extensions"]["field"], "text", "{empty}");
    let redacted = cast.handler.graphql(redact, json!({ "id": id, "text": REDACTED })).await;
    let answer = &redacted["data"]["redactComplaintForProvider"];
    assert_eq!(answer["redactedForProvider"], REDACTED, "{redacted}");
    assert_eq!(answer["whatHappened"], "Dr Pennyfeather on Ward 7 cut my dose without a review.", "the handler keeps the original");

    let after = what_the_provider_sees(&cast, &id, &reference).await;
    for seen in &after {
        for word in ORIGINAL {
            assert!(!seen.contains(word), "{word:?} reached the provider: {seen}");
        }
    }
    assert!(after[0].contains(REDACTED), "the provider reads the redacted words: {}", after[0]);
    assert!(after[3].contains("nobody explained why") || after[4].contains("nobody explained why"), "and on the web pages");
}
