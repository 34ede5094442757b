//! Nobody can grow the permanent log by being refused: anonymous refusals are counted, not
//! written; one request writes at most a few access events; ids a caller makes up are kept
//! short; a page of a list read is one event.

use heard_access::Role;
use heard_tests::{TestApp, error_code, spawn_app};
use serde_json::{Value, json};

fn aliases(count: usize, field: &str) -> String {
    let fields: Vec<String> = (0..count).map(|i| format!("a{i}: {field}")).collect();
    format!("query($h: ID!) {{ {} }}", fields.join(" "))
}

async fn events(app: &TestApp) -> u64 {
    app.store.head().position
}

async fn access_bytes(app: &TestApp) -> usize {
    app.store.read_category("access", 1, 100_000).await.unwrap().iter().map(|event| event.data.len()).sum()
}

/// Asks for `count` aliases of `field` about Arun's hub, as nobody logged in.
async fn anonymous_aliases(app: &TestApp, count: usize, field: &str) -> Value {
    app.graphql(&aliases(count, field), json!({ "h": "arun" })).await
}

#[tokio::test]
async fn an_anonymous_request_with_hundreds_of_refused_aliases_leaves_the_log_as_it_was() {
    let app = spawn_app().await;
    let before = events(&app).await;
    let answered = anonymous_aliases(&app, 400, "moderationQueue(hub: $h) { __typename }").await;
    assert_eq!(answered["errors"].as_array().map(Vec::len), Some(400), "every alias is refused");
    assert_eq!(error_code(&answered), Some("UNAUTHENTICATED"));
    app.settled().await;
    assert_eq!(events(&app).await, before, "an anonymous refusal is counted, never written to the log");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("heard_access_anonymous_refusals_total"), "{metrics}");
}

#[tokio::test]
async fn a_thousand_aliases_are_refused_before_anything_runs() {
    let app = spawn_app().await;
    let before = events(&app).await;
    let answered = anonymous_aliases(&app, 1000, "moderationQueue(hub: $h) { edges { node { id } } }").await;
    assert_eq!(error_code(&answered), Some("BAD_USER_INPUT"), "{answered}");
    assert!(answered["data"].is_null(), "{answered}");
    assert_eq!(events(&app).await, before);
}

#[tokio::test]
async fn a_nosy_account_writes_at_most_twenty_access_events_in_one_request() {
    let app = spawn_app().await;
    app.create_user("nosy@example.org", &[Role::HubMember], &["crawley"]).await;
    let nosy = app.login("nosy@example.org").await;
    let before = events(&app).await;
    let answered = nosy.graphql(&aliases(300, "moderationQueue(hub: $h) { __typename }"), json!({ "h": "arun" })).await;
    assert_eq!(answered["errors"].as_array().map(Vec::len), Some(300), "every alias is refused");
    assert_eq!(events(&app).await - before, heard_api::limits::ACCESS_EVENTS_PER_REQUEST as u64);
    let access = app.store.read_category("access", 1, 10_000).await.unwrap();
    let last = access.last().unwrap().data_json().unwrap();
    assert_eq!((&last["action"], &last["allowed"]), (&json!("view_queue"), &json!(false)), "{last}");
}

#[tokio::test]
async fn a_huge_made_up_id_is_kept_on_the_access_log_only_as_a_short_hash() {
    let app = spawn_app().await;
    app.create_user("nosy@example.org", &[Role::HubMember], &["crawley"]).await;
    let nosy = app.login("nosy@example.org").await;
    let huge = "x".repeat(100 * 1024);
    let before = access_bytes(&app).await;
    let answered = nosy.graphql(&aliases(100, "moderationQueue(hub: $h) { __typename }"), json!({ "h": huge })).await;
    assert_eq!(answered["errors"].as_array().map(Vec::len), Some(100));
    let grown = access_bytes(&app).await - before;
    assert!(grown < 20 * 400, "the access log grew by {grown} bytes from one request");
    let access = app.store.read_category("access", 1, 10_000).await.unwrap();
    let kept = access.last().unwrap().data_json().unwrap();
    let id = kept["resource_id"].as_str().unwrap();
    assert!(id.starts_with("sha256:") && id.len() <= 64, "{id}");
}

#[tokio::test]
async fn a_text_plain_post_from_another_site_is_refused_before_it_runs() {
    let app = spawn_app().await;
    let before = events(&app).await;
    let query = json!({ "query": "{ moderationQueue(hub: \"arun\") { __typename } }" }).to_string();
    let sent = app
        .post_body("/graphql", "text/plain", query.clone())
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 415, "a simple cross-site POST is not a GraphQL request");
    let body: Value = sent.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let from_elsewhere = app
        .post_body("/graphql", "application/json", query)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(from_elsewhere.status(), 403, "JSON from another site's page is refused too");
    assert_eq!(events(&app).await, before);
}
