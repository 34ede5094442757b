//! The search box cannot reach words a coordinator redacted: not by naming the hub's own field,
//! not with tantivy's syntax, not letter by letter, not through the web page, not as a
//! spelling suggestion, not in a CSV download. A search with a name in it answers an outsider
//! exactly as the same search with a made-up word there instead.

use std::time::Duration;

use heard_access::Role;
use heard_tests::{Session, TestApp, answer_json, error_code, spawn_app};
use serde_json::{Value, json};

const SEARCH: &str = "query($q: String!) { searchFeedback(query: $q, first: 20) { total matchedEveryWord understoodAs facets { dimension value name count } edges { node { score fragment highlights { start end } item { id text } } } } }";

/// Every way the redacted surname could be asked for: the name and search syntax alone, then
/// the name beside other words.
fn attacks() -> impl Iterator<Item = &'static str> {
    NAME_ALONE.into_iter().chain(["text_hub:quartermaine OR night", "text_hub:[q TO r]"])
}

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
    let item = member
        .log_feedback(json!({
            "hub": "arun", "text": "I used to see Delphine Quartermaine at the pharmacy, and the night staff were kind",
            "channel": "DROP_IN", "saidOn": "2026-11-02", "themes": ["Opening hours"], "speaker": "ANONYMOUS",
            "consent": "PUBLIC", "provider": "community-pharmacies"
        }))
        .await;
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
    for query in attacks() {
        for who in ["anonymous", "commissioner", "provider", "another hub"] {
            let found = outsider_search(&fixture, who, query).await;
            if NAME_ALONE.contains(&query) {
                assert_finds_nothing(who, query, &found);
            }
            // Words beside the name ("to", "night") may find the item by its shared words, as
            // any search finds the items with most of its words; the name itself adds nothing.
            let control = outsider_search(&fixture, who, &without_the_name(query)).await;
            assert_no_name(who, query, &found);
            assert_eq!(comparable(&found), comparable(&control), "{who}: `{query}` found more than its other words do");
        }
    }
}

/// The attacks made of the name and search syntax alone, which must find nothing at all.
const NAME_ALONE: [&str; 10] = [
    "quartermaine",
    "Quartermaine",
    "text_hub:quartermaine",
    "text_hub:\"delphine quartermaine\"",
    "text_hub:\"used to see delph\"*",
    "text_hub:quarter*",
    "+text_hub:quartermaine",
    "(text_hub:quartermaine)",
    "quartermaine~2",
    "\"delphine quartermaine\"",
];

/// The same search with every part of the name as a word of the same length nobody wrote.
fn without_the_name(query: &str) -> String {
    let mut query = query.to_lowercase();
    for part in ["quartermaine", "quarter", "delphine", "delph"] {
        query = query.replace(part, &"z".repeat(part.len()));
    }
    query
}

async fn outsider_search(fixture: &Fixture, who: &str, query: &str) -> Value {
    match who {
        "anonymous" => anonymous_search(fixture, query).await,
        "commissioner" => fixture.commissioner.graphql(SEARCH, json!({ "q": query })).await,
        "provider" => fixture.provider.graphql(SEARCH, json!({ "q": query })).await,
        _ => fixture.crawley.graphql(SEARCH, json!({ "q": query })).await,
    }
}

/// What a search answered, less the words it says it understood (which repeat the search).
fn comparable(found: &Value) -> Value {
    let mut found = found.clone();
    if let Some(summary) = found["data"]["searchFeedback"].as_object_mut() {
        summary.remove("understoodAs");
    }
    found
}

fn assert_no_name(who: &str, query: &str, found: &Value) {
    assert!(found["errors"].is_null(), "{who}: `{query}` answered an error: {found}");
    let text = found.to_string().to_lowercase();
    assert!(!text.contains("quartermaine") && !text.contains("delphine"), "{who}: `{query}` showed the name: {found}");
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
    for query in attacks() {
        let page =
            fixture.commissioner.client.get(fixture.app.url("/search")).query(&[("q", query)]).send().await.unwrap();
        assert_eq!(page.status(), 200, "`{query}`");
        let body = page.text().await.unwrap();
        if NAME_ALONE.contains(&query) {
            assert!(
                !body.to_lowercase().contains("the night staff were kind"),
                "`{query}` found the item on the web page"
            );
        }
        // The page repeats the search itself (in the box, and in its links); nothing else may
        // hold the name.
        let shown = body.replace(&html_escaped(query), "").replace(&heard_tests::url_encoded(query), "").to_lowercase();
        assert!(!shown.contains("quartermaine") && !shown.contains("delphine"), "`{query}` showed the name: {body}");
    }
}

/// `text` as the page writes it inside an attribute.
fn html_escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

#[tokio::test]
async fn a_spelling_suggestion_never_offers_a_word_the_asker_may_not_read() {
    let fixture = fixture().await;
    for misspelt in ["quartermane", "quatermaine", "delphene", "delphin", "Quartermain"] {
        for who in ["anonymous", "commissioner", "provider", "another hub"] {
            let found = outsider_search(&fixture, who, misspelt).await;
            assert_finds_nothing(who, misspelt, &found);
            assert_eq!(found["data"]["searchFeedback"]["understoodAs"], Value::Null, "{who}: `{misspelt}`: {found}");
        }
        let page = fixture.crawley.client.get(fixture.app.url("/search")).query(&[("q", misspelt)]).send().await;
        let body = page.unwrap().text().await.unwrap().to_lowercase();
        assert!(!body.contains("showing results for"), "`{misspelt}` suggests nothing on the page: {body}");
    }
    // The hub reads its own words, so it is offered them; outsiders get what was shared.
    fixture.app.create_user("second@example.org", &[Role::HubMember], &["arun"]).await;
    let member = fixture.app.login("second@example.org").await;
    let own = member.graphql(SEARCH, json!({ "q": "quartermane" })).await;
    assert_eq!(own["data"]["searchFeedback"]["understoodAs"], "quartermaine", "{own}");
    let shared = outsider_search(&fixture, "anonymous", "nigth staf").await;
    assert_eq!(shared["data"]["searchFeedback"]["understoodAs"], "night staff", "{shared}");
}

#[tokio::test]
async fn a_csv_download_holds_only_what_the_asker_may_see_and_nothing_for_those_who_may_not_search() {
    let fixture = fixture().await;
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let anonymous = no_redirects.get(fixture.app.url("/search/download?q=night")).send().await.unwrap();
    assert_eq!(anonymous.status(), 303, "someone not logged in is sent to log in");
    let location = anonymous.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/login"), "{location}");
    assert!(!anonymous.text().await.unwrap().contains("night staff"));

    let [(_, admin)] = fixture.app.people(["admin"]).await;
    let refused = admin.client.get(fixture.app.url("/search/download?q=night")).send().await.unwrap();
    assert_eq!(refused.status(), 403, "an administrator gets no content by virtue of the role");
    let body = refused.text().await.unwrap();
    assert!(body.contains("<h1>This page is for") && !body.contains("night staff"), "{body}");

    for (who, session) in
        [("commissioner", &fixture.commissioner), ("provider", &fixture.provider), ("another hub", &fixture.crawley)]
    {
        for query in ["night", "quartermaine", "text_hub:quartermaine OR night", "", "*"] {
            let response =
                session.client.get(fixture.app.url("/search/download")).query(&[("q", query)]).send().await.unwrap();
            assert_eq!(response.status(), 200, "{who}: `{query}`");
            let csv = response.text().await.unwrap().to_lowercase();
            assert!(!csv.contains("quartermaine") && !csv.contains("delphine"), "{who}: `{query}` got the name: {csv}");
            if csv.contains(&fixture.item) {
                assert!(csv.contains("i used to see [redacted] at the pharmacy"), "{who} gets the shared words: {csv}");
            }
        }
    }
    let graphql = "query($q: String!) { searchFeedbackCsv(query: $q) }";
    let request = fixture.anonymous.post(fixture.app.url("/graphql"));
    let answer = answer_json(request.json(&json!({ "query": graphql, "variables": { "q": "night" } }))).await;
    let csv = answer["data"]["searchFeedbackCsv"].as_str().unwrap_or_else(|| panic!("{answer}")).to_lowercase();
    assert!(csv.contains("[redacted]") && !csv.contains("quartermaine"), "the public gets the public version: {csv}");
}

#[tokio::test]
async fn query_syntax_in_the_search_page_and_the_download_is_only_words_and_never_an_error() {
    let fixture = fixture().await;
    for query in ["text:foo OR hub:x", "hub:arun", "*", "\"unbalanced", "night\" staff\"\"", "((((", "^~:[]{}", "id:*"]
    {
        for path in ["/search", "/search/download"] {
            let response =
                fixture.crawley.client.get(fixture.app.url(path)).query(&[("q", query)]).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path} `{query}`");
        }
        let found = anonymous_search(&fixture, query).await;
        assert!(found["errors"].is_null(), "`{query}`: {found}");
    }
}

#[tokio::test]
async fn a_cursor_beyond_the_reach_of_search_is_refused_naming_after_and_never_crashes_the_server() {
    let fixture = fixture().await;
    let query = "query($a: String) { searchFeedback(query: \"night\", first: 100, after: $a) { total } }";
    for cursor in ["s:10000", "s:18446744073709551614", "s:99999999999", "x:1", "s:-1"] {
        let request = fixture.anonymous.post(fixture.app.url("/graphql"));
        let answer = answer_json(request.json(&json!({ "query": query, "variables": { "a": cursor } }))).await;
        assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "`{cursor}`: {answer}");
        assert_eq!(answer["errors"][0]["extensions"]["field"], "after", "`{cursor}`");
    }
    let last = answer_json(
        fixture
            .anonymous
            .post(fixture.app.url("/graphql"))
            .json(&json!({ "query": query, "variables": { "a": "s:9999" } })),
    )
    .await;
    assert!(last["errors"].is_null(), "the last cursor within reach is answered: {last}");
    let page = fixture.crawley.client.get(fixture.app.url("/search?q=night&page=501")).send().await.unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("Page must be between 1 and 500"));
    assert!(anonymous_search(&fixture, "night staff").await["errors"].is_null(), "the server still answers");
}
