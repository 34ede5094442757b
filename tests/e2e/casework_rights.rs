//! A person's rights in casework and complaints (issue #18), end to end on a real server: a
//! provider responder reads none of a complaint's words until a complaints handler has reviewed
//! them, through GraphQL or the web pages; then either the words the handler wrote for them
//! (and never the original again) or, when the handler found nothing to take out, the words as
//! written. Who complained stays withheld either way.

use heard_access::Role;
use heard_tests::{Session, TestApp, error_code, spawn_app};
use serde_json::{Value, json};

/// Every field of a complaint a provider responder can ask for.
const EVERY_FIELD: &str = "id reference charter provider providerName service articles { number label } \
    complainantKind complainantName complainantContact relayedByAdvocateId handlerId acknowledgedHow route \
    whatHappened outcomeWanted redactedForProvider providerWords wordsWithheld person erased receivedOn stage \
    earlyResolution outcome closedOn \
    clock { stage acknowledgeBy acknowledgedOn respondBy respondedOn workingDaysLeft overdue urgent paused \
    responsePeriod needsExplanation } agreedWorkingDays extensions { workingDays reason personAgreed } \
    pauses { from until reason } escalations { to reference } delayExplanations learning";

const WHAT_HAPPENED: &str = "Dr Pennyfeather on Ward 7 cut my dose without a review.";
const OUTCOME_WANTED: &str = "A review with my keyworker Jo present.";

/// What the complainant said, none of which may reach the provider before a review, nor after
/// a redaction.
const ORIGINAL: [&str; 4] = ["Pennyfeather", "Ward 7", "keyworker Jo", "cut my dose"];

/// Who complained, which never reaches the provider.
const WHO: [&str; 2] = ["Sam Example", "07700 900123"];

/// What the provider reads in place of the words until the complaints team has reviewed them.
const AWAITING: &str = "Awaiting the complaints team's review of the words.";

const REDACTED: &str = "A dose was reduced without a clinical review, and nobody explained why.";

const REDACT: &str = "mutation($id: ID!, $text: String!) { redactComplaintForProvider(complaintId: $id, text: $text) \
    { whatHappened redactedForProvider providerWords } }";

const RELEASE: &str =
    "mutation($id: ID!) { releaseComplaintWordsToProvider(complaintId: $id) { whatHappened providerWords } }";

struct Cast {
    app: TestApp,
    handler: Session,
    provider: Session,
    /// A provider responder of another organisation (CRI).
    elsewhere: Session,
}

async fn cast() -> Cast {
    let app = spawn_app().await;
    app.create_user("handler@example.org", &[Role::ComplaintsHandler], &[]).await;
    app.create_user_with("addaction@example.org", &[Role::ProviderResponder], &[], Some("addaction")).await;
    app.create_user_with("cri@example.org", &[Role::ProviderResponder], &[], Some("cri")).await;
    Cast {
        handler: app.login("handler@example.org").await,
        provider: app.login("addaction@example.org").await,
        elsewhere: app.login("cri@example.org").await,
        app,
    }
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
        "route": "DIRECT", "whatHappened": WHAT_HAPPENED, "outcomeWanted": OUTCOME_WANTED,
        "receivedOn": received.to_string()
    }});
    let answer = handler
        .graphql("mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id reference } }", input)
        .await;
    let raised = &answer["data"]["raiseComplaint"];
    assert!(raised.is_object(), "not raised: {answer}");
    (raised["id"].as_str().unwrap().to_owned(), raised["reference"].as_str().unwrap().to_owned())
}

/// Everything the provider responder can ask about the complaint: the complaint itself, the
/// list of theirs and the list found by its reference (in that order, each the complaint's own
/// node), then the text of the web pages of the queue and of the complaint.
struct Seen {
    graphql: Vec<Value>,
    pages: Vec<String>,
}

impl Seen {
    /// Everything, as text.
    fn all(&self) -> Vec<String> {
        self.graphql.iter().map(Value::to_string).chain(self.pages.iter().cloned()).collect()
    }

    /// Checks that none of `words` is anywhere the provider looked.
    fn holds_none_of(&self, words: &[&str]) {
        for seen in self.all() {
            for word in words {
                assert!(!seen.contains(word), "{word:?} reached the provider: {seen}");
            }
        }
    }
}

async fn what_the_provider_sees(cast: &Cast, id: &str, reference: &str) -> Seen {
    let provider = &cast.provider;
    let one = provider
        .graphql(&format!("query($id: ID!) {{ complaint(id: $id) {{ {EVERY_FIELD} }} }}"), json!({ "id": id }))
        .await;
    let list =
        provider.graphql(&format!("{{ complaints {{ edges {{ node {{ {EVERY_FIELD} }} }} }} }}"), json!({})).await;
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
    let graphql = vec![
        one["data"]["complaint"].clone(),
        list["data"]["complaints"]["edges"][0]["node"].clone(),
        found["data"]["complaints"]["edges"][0]["node"].clone(),
    ];
    let mut pages = Vec::new();
    for path in ["/complaints".to_owned(), format!("/complaints/{id}")] {
        let page = provider.client.get(cast.app.url(&path)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        pages.push(page.text().await.unwrap());
    }
    Seen { graphql, pages }
}

/// The complaint's page as the complaints handler sees it.
async fn handlers_page(cast: &Cast, id: &str) -> String {
    let page = cast.handler.client.get(cast.app.url(&format!("/complaints/{id}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

#[tokio::test]
async fn a_provider_responder_asking_for_a_complaint_before_the_complaints_team_reviewed_its_words_gets_none_of_them() {
    let cast = cast().await;
    let (id, reference) = raise(&cast.handler).await;
    let before = what_the_provider_sees(&cast, &id, &reference).await;
    before.holds_none_of(&ORIGINAL);
    before.holds_none_of(&WHO);
    for complaint in &before.graphql {
        assert_eq!(
            (&complaint["whatHappened"], &complaint["outcomeWanted"], &complaint["redactedForProvider"]),
            (&Value::Null, &Value::Null, &Value::Null),
            "{complaint}"
        );
        assert_eq!(
            (&complaint["providerWords"], &complaint["wordsWithheld"]),
            (&json!("AWAITING_REVIEW"), &json!(AWAITING))
        );
        // The facts are there: dates, stage, article, provider, deadlines.
        assert_eq!((&complaint["reference"], &complaint["provider"]), (&json!(reference), &json!("addaction")));
        assert_eq!((&complaint["stage"], &complaint["articles"][0]["number"]), (&json!("RECEIVED"), &json!(5)));
        assert!(complaint["receivedOn"].is_string() && complaint["clock"]["acknowledgeBy"].is_string(), "{complaint}");
        assert!(complaint["clock"]["respondBy"].is_string(), "{complaint}");
    }
    for page in &before.pages {
        assert!(page.contains(AWAITING), "the page says why, in place of the words: {page}");
        assert!(page.contains(&reference), "{page}");
    }

    // The complaints handler still reads the words as written, and is asked to review them.
    let handled = cast
        .handler
        .graphql(
            "query($id: ID!) { complaint(id: $id) { whatHappened outcomeWanted complainantName wordsWithheld providerWords } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        handled["data"]["complaint"],
        json!({ "whatHappened": WHAT_HAPPENED, "outcomeWanted": OUTCOME_WANTED, "complainantName": "Sam Example",
            "wordsWithheld": null, "providerWords": "AWAITING_REVIEW" })
    );
    let page = handlers_page(&cast, &id).await;
    assert!(page.contains("cut my dose without a review") && page.contains("Sam Example"), "{page}");
    assert!(page.contains("The provider reads none of the complaint's words until you review them"), "{page}");
    assert!(page.contains("Nothing to take out"), "{page}");
}

#[tokio::test]
async fn once_a_handler_redacts_a_complaint_the_provider_responder_reads_exactly_the_redacted_words_and_never_the_original()
 {
    let cast = cast().await;
    let (id, reference) = raise(&cast.handler).await;
    let before = what_the_provider_sees(&cast, &id, &reference).await;
    before.holds_none_of(&ORIGINAL);
    assert_eq!(before.graphql[0]["whatHappened"], Value::Null, "before a review, no words at all");

    let refused = cast.provider.graphql(REDACT, json!({ "id": id, "text": "anything" })).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let empty = cast.handler.graphql(REDACT, json!({ "id": id, "text": "" })).await;
    assert_eq!(empty["errors"][0]["extensions"]["field"], "text", "{empty}");
    let redacted = cast.handler.graphql(REDACT, json!({ "id": id, "text": REDACTED })).await;
    let answer = &redacted["data"]["redactComplaintForProvider"];
    assert_eq!((&answer["redactedForProvider"], &answer["providerWords"]), (&json!(REDACTED), &json!("REDACTED")));
    assert_eq!(answer["whatHappened"], WHAT_HAPPENED, "the handler keeps the original");

    let after = what_the_provider_sees(&cast, &id, &reference).await;
    after.holds_none_of(&ORIGINAL);
    after.holds_none_of(&WHO);
    for complaint in &after.graphql {
        assert_eq!(
            (&complaint["whatHappened"], &complaint["outcomeWanted"], &complaint["wordsWithheld"]),
            (&json!(REDACTED), &Value::Null, &Value::Null),
            "exactly the redacted words: {complaint}"
        );
    }
    for page in &after.pages {
        assert!(page.contains(REDACTED), "and on the web pages: {page}");
        assert!(!page.contains(AWAITING), "{page}");
    }
    // Written words are never swapped back for the original.
    let release = cast.handler.graphql(RELEASE, json!({ "id": id })).await;
    assert_eq!(error_code(&release), Some("CONFLICT"), "{release}");
    what_the_provider_sees(&cast, &id, &reference).await.holds_none_of(&ORIGINAL);
}

#[tokio::test]
async fn once_a_handler_finds_nothing_to_remove_the_provider_responder_reads_the_original_words_but_never_who_complained()
 {
    let cast = cast().await;
    let (id, reference) = raise(&cast.handler).await;
    let refused = cast.provider.graphql(RELEASE, json!({ "id": id })).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "the provider cannot release them: {refused}");
    what_the_provider_sees(&cast, &id, &reference).await.holds_none_of(&ORIGINAL);

    // The handler says so on the complaint's page.
    let back = cast.handler.submit_form(&format!("/complaints/{id}/provider-words/as-written"), &[]).await;
    assert!(back.ends_with(&format!("/complaints/{id}#provider")), "{back}");
    let page = handlers_page(&cast, &id).await;
    assert!(page.contains("as they were written now"), "the handler is told: {page}");
    assert!(page.contains("found nothing to take out"), "{page}");

    let after = what_the_provider_sees(&cast, &id, &reference).await;
    after.holds_none_of(&WHO);
    for complaint in &after.graphql {
        assert_eq!(
            (&complaint["whatHappened"], &complaint["outcomeWanted"], &complaint["wordsWithheld"]),
            (&json!(WHAT_HAPPENED), &json!(OUTCOME_WANTED), &Value::Null),
            "{complaint}"
        );
        assert_eq!(complaint["providerWords"], "AS_WRITTEN");
        for withheld in ["complainantKind", "complainantName", "complainantContact", "route", "person"] {
            assert_eq!(complaint[withheld], Value::Null, "{withheld}: {complaint}");
        }
    }
    assert!(after.pages[0].contains(WHAT_HAPPENED), "the queue: {}", after.pages[0]);
    assert!(after.pages[1].contains(WHAT_HAPPENED) && after.pages[1].contains(OUTCOME_WANTED), "{}", after.pages[1]);
    assert!(!after.pages[1].contains(AWAITING), "{}", after.pages[1]);
}

#[tokio::test]
async fn a_provider_responder_of_another_organisation_still_gets_not_found_before_and_after_a_review() {
    let cast = cast().await;
    let (id, reference) = raise(&cast.handler).await;
    let one = "query($id: ID!) { complaint(id: $id) { id whatHappened wordsWithheld } }";
    let found = "query($r: String!) { complaints(reference: $r) { edges { node { id } } } }";
    for review in [None, Some(RELEASE)] {
        if let Some(review) = review {
            let answer = cast.handler.graphql(review, json!({ "id": id })).await;
            assert!(answer["errors"].is_null(), "{answer}");
        }
        let answer = cast.elsewhere.graphql(one, json!({ "id": id })).await;
        assert_eq!(error_code(&answer), Some("NOT_FOUND"), "{answer}");
        let listed = cast.elsewhere.graphql(found, json!({ "r": reference })).await;
        assert_eq!(listed["data"]["complaints"]["edges"], json!([]), "{listed}");
        let release = cast.elsewhere.graphql(RELEASE, json!({ "id": id })).await;
        assert_eq!(error_code(&release), Some("NOT_FOUND"), "{release}");
        let page = cast.elsewhere.client.get(cast.app.url(&format!("/complaints/{id}"))).send().await.unwrap();
        assert_eq!(page.status(), 404);
        let text = page.text().await.unwrap();
        assert!(!text.contains("Pennyfeather") && !text.contains(AWAITING), "{text}");
    }
}
