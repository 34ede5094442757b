//! The search box cannot reach words a coordinator redacted: not by naming the hub's own field,
//! not with tantivy's syntax, not letter by letter, not through the web page.

use std::time::Duration;

use heard_access::Role;
use heard_tests::{Session, TestApp, answer_json, error_code, spawn_app};
use serde_json::{Value, json};

const SEARCH: &str = "query($q: String!) { searchFeedback(query: $q, first: 20) { total facets { dimension value count } edges { node { fragment item { id text } } } } }";

/// Every way the redacted surname could be asked for.
const ATTACKS: [&str; 12] = [
    "quartermaine",
    "Quartermaine",
    "text_hub:quartermaine",
    "text_hub:\"delphine quartermaine\"",
    "text_hub:\"used to see delph\"*",
    "text_hub:quarter*",
    "+text_hub:quartermaine",
    "text_hub:quartermaine OR night",
    "(text_hub:quartermaine)",
    "text_hub:[q TO r]",
    "quartermaine~2",
    "\"delphine quartermaine\"",
];

struct Fixture {
    app: TestApp,
    anonymous: reqwest::Client,
    commissioner: Session,
    provider: Session,
    /// A hub member of another hub.
    crawley: Session,
    item: String,
}

/// An item whose speaker named a worker; the coordinator redacted the name and shared it
/// publicly. Everyone outside Arun sees "[redacted]" where the name was.
async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let [(_, member), (_, coordinator), (_, commissioner), (_, provider), (_, crawley)] =
        app.people(["member", "coordinator", "commissioner", "pharmacies", "crawley.member"]).await;
    let logged = member
        .graphql(
            "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id } }",
            json!({ "i": {
                "hub": "arun", "text": "I used to see Delphine Quartermaine at the pharmacy, and the night staff were kind",
                "channel": "DROP_IN", "saidOn": "2026-11-02", "themes": ["Opening hours"], "speaker": "ANONYMOUS",
                "consent": "PUBLIC", "provider": "community-pharmacies"
            }}),
        )
        .await;
    let item = logged["data"]["logFeedback"]["id"].as_str().unwrap_or_else(|| panic!("{logged}")).to_owned();
    let redacted = coordinator
        .graphql(
            "mutation($id: ID!, $p: [String!]!) { redactFeedback(id: $id, passages: $p) { redactedText } }",
            json!({ "id": item, "p": ["Delphine Quartermaine"] }),
        )
        .await;
    assert!(redacted["data"]["redactFeedback"]["redactedText"].as_str().unwrap().contains("[redacted]"), "{redacted}");
    let shared =
        coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": item })).await;
    assert!(shared["errors"].is_null(), "{shared}");
    let head = app.store.head().position;
    assert!(app.feedback.wait_searchable(head, Duration::from_secs(5)).await);
    Fixture { app, anonymous: reqwest::Client::new(), commissioner, provider, crawley, item }
}

async fn anonymous_search(fixture: &Fixture, query: &str) -> Value {
    let request = fixture.anonymous.post(fixture.app.url("/graphql"));
    answer_json(request.json(&json!({ "query": SEARCH, "variables": { "q": query } }))).await
}

fn assert_finds_nothing(who: &str, query: &str, found: &Value) {
    assert!(found["errors"].is_null(), "{who}: `{query}` answered an error: {found}");
    assert_eq!(found["data"]["searchFeedback"]["total"], 0, "{who}: `{query}` reached the redacted words: {found}");
    let text = found.to_string().to_lowercase();
    assert!(!text.contains("quartermaine") && !text.contains("delphine"), "{who}: `{query}` showed the name: {found}");
}

#[tokio::test]
async fn nobody_outside_the_hub_finds_a_redacted_name_whatever_syntax_they_search_with() {
    let fixture = fixture().await;
    // The shared words are searchable, so a miss below is the redaction holding, not a broken index.
    for who in ["anonymous", "commissioner", "provider", "another hub"] {
        let found = match who {
            "anonymous" => anonymous_search(&fixture, "night staff").await,
            "commissioner" => fixture.commissioner.graphql(SEARCH, json!({ "q": "night staff" })).await,
            "provider" => fixture.provider.graphql(SEARCH, json!({ "q": "night staff" })).await,
            _ => fixture.crawley.graphql(SEARCH, json!({ "q": "night staff" })).await,
        };
        assert_eq!(found["data"]["searchFeedback"]["total"], 1, "{who} finds the shared words: {found}");
        assert_eq!(found["data"]["searchFeedback"]["edges"][0]["node"]["item"]["id"], fixture.item.as_str());
    }
    for query in ATTACKS {
        assert_finds_nothing("anonymous", query, &anonymous_search(&fixture, query).await);
        assert_finds_nothing("commissioner", query, &fixture.commissioner.graphql(SEARCH, json!({ "q": query })).await);
        assert_finds_nothing("provider", query, &fixture.provider.graphql(SEARCH, json!({ "q": query })).await);
        assert_finds_nothing("another hub", query, &fixture.crawley.graphql(SEARCH, json!({ "q": query })).await);
    }
}

#[tokio::test]
async fn a_redacted_name_cannot_be_recovered_letter_by_letter_with_prefixes() {
    let fixture = fixture().await;
    let mut name = String::new();
    for letter in "delphine".chars() {
        name.push(letter);
        for query in [
            format!("text_hub:\"i used to see {name}\"*"),
            format!("text_hub:\"used to see {name}*\""),
            format!("text_hub:{name}*"),
            format!("{name}*"),
        ] {
            assert_finds_nothing("anonymous", &query, &anonymous_search(&fixture, &query).await);
        }
    }
}

#[tokio::test]
async fn the_hub_still_finds_its_own_unredacted_words_with_spelling_tolerance_and_phrases() {
    let fixture = fixture().await;
    fixture.app.create_user("second@example.org", &[Role::HubMember], &["arun"]).await;
    let member = fixture.app.login("second@example.org").await;
    for query in ["quartermaine", "quartermane", "\"delphine quartermaine\"", "Delphine night"] {
        let found = member.graphql(SEARCH, json!({ "q": query })).await;
        assert_eq!(found["data"]["searchFeedback"]["total"], 1, "the hub finds `{query}`: {found}");
    }
    let wrong_order = member.graphql(SEARCH, json!({ "q": "\"quartermaine delphine\"" })).await;
    assert_eq!(wrong_order["data"]["searchFeedback"]["total"], 0, "a phrase keeps its order: {wrong_order}");
}

#[tokio::test]
async fn search_syntax_and_unknown_fields_are_only_words_and_never_an_internal_error() {
    let fixture = fixture().await;
    for query in ["speaker_name:x", "id:*", "text_shared:", "\"", "((((", "a AND OR NOT", "*", "^~:[]{}", "hub:arun"] {
        let found = anonymous_search(&fixture, query).await;
        assert_ne!(error_code(&found), Some("INTERNAL"), "`{query}`: {found}");
        assert!(found["errors"].is_null(), "`{query}` is searched as words: {found}");
    }
}

#[tokio::test]
async fn the_web_search_page_shows_no_redacted_name_to_a_commissioner() {
    let fixture = fixture().await;
    for query in ATTACKS {
        let page =
            fixture.commissioner.client.get(fixture.app.url("/search")).query(&[("q", query)]).send().await.unwrap();
        assert_eq!(page.status(), 200, "`{query}`");
        let body = page.text().await.unwrap().to_lowercase();
        assert!(!body.contains("the night staff were kind"), "`{query}` found the item on the web page");
    }
}
