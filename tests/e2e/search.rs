//! Searching feedback as the people using it would: facets by name with the chosen one marked,
//! the items with most of the words when none has them all, a misspelt search put right from
//! what the person may read, a result opening its item, the results as CSV, and every part of
//! the address checked. (What search withstands is in `attacks/search.rs`.)

use std::time::Duration;

use heard_access::Role;
use heard_tests::{Session, TestApp, error_code, spawn_app};
use serde_json::{Value, json};

const SEARCH: &str = "query($q: String!, $f: FeedbackFilter, $after: String) { searchFeedback(query: $q, filter: $f, first: 20, after: $after) { total matchedEveryWord understoodAs facets { dimension value name count } edges { node { fragment highlights { start end } item { id text } } } } }";

struct People {
    app: TestApp,
    member: Session,
    coordinator: Session,
    commissioner: Session,
    /// A member of Crawley's hub.
    crawley: Session,
    /// A coordinator of Adur & Worthing.
    adur: Session,
}

async fn people() -> People {
    let app = spawn_app().await;
    let [(_, member), (_, coordinator), (_, commissioner), (_, crawley)] =
        app.people(["member", "coordinator", "commissioner", "crawley.member"]).await;
    app.create_user("adur@example.org", &[Role::HubCoordinator], &["adur-worthing"]).await;
    let adur = app.login("adur@example.org").await;
    People { app, member, coordinator, commissioner, crawley, adur }
}

/// Logs what someone said for `hub`, on `said_on`, with `themes` and `consent`; returns its id.
async fn log(session: &Session, hub: &str, text: &str, said_on: &str, themes: &[&str], consent: &str) -> String {
    session
        .log_feedback(json!({
            "hub": hub, "text": text, "channel": "DROP_IN", "saidOn": said_on, "themes": themes,
            "speaker": "ANONYMOUS", "consent": consent, "provider": "community-pharmacies"
        }))
        .await
}

async fn share(coordinator: &Session, id: &str) {
    let shared = coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": id })).await;
    assert!(shared["errors"].is_null(), "{shared}");
}

async fn searchable(app: &TestApp) {
    let head = app.store.head().position;
    assert!(app.feedback.wait_searchable(head, Duration::from_secs(30)).await, "never became searchable");
}

fn found(answer: &Value) -> &Value {
    assert!(answer["errors"].is_null(), "{answer}");
    &answer["data"]["searchFeedback"]
}

/// The words a hit marks, as text.
fn marked(node: &Value) -> Vec<String> {
    let fragment: Vec<char> = node["fragment"].as_str().unwrap().chars().collect();
    node["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| fragment[h["start"].as_u64().unwrap() as usize..h["end"].as_u64().unwrap() as usize].iter().collect())
        .collect()
}

async fn page(session: &Session, app: &TestApp, path: &str) -> (u16, String) {
    let response = session.client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn a_misspelt_search_says_what_it_was_taken_for_and_marks_the_words_it_matched() {
    let p = people().await;
    log(&p.member, "arun", "An evening clinic once a week would let me keep my job", "2026-11-04", &[], "HUB").await;
    log(&p.member, "arun", "The pharmacy opens late on Saturdays", "2026-11-04", &[], "HUB").await;
    searchable(&p.app).await;
    let answer = p.member.graphql(SEARCH, json!({ "q": "evning clinc" })).await;
    let result = found(&answer);
    assert_eq!(result["total"], 1, "{answer}");
    assert_eq!(result["understoodAs"], "evening clinic", "{answer}");
    assert_eq!(marked(&result["edges"][0]["node"]), ["evening", "clinic"]);
    let right = p.member.graphql(SEARCH, json!({ "q": "evening clinic" })).await;
    assert_eq!(found(&right)["understoodAs"], Value::Null, "nothing to put right: {right}");

    let (status, body) = page(&p.member, &p.app, "/search?q=evning+clinc").await;
    assert_eq!(status, 200);
    assert!(body.contains("Showing results for <strong>evening clinic</strong>"), "{body}");
    assert!(body.contains("<mark>evening</mark> <mark>clinic</mark>"), "what it matched is marked: {body}");
}

#[tokio::test]
async fn when_no_item_has_every_word_the_items_with_most_of_them_come_first() {
    let p = people().await;
    let two = log(&p.member, "arun", "The evening clinic is too far by bus", "2026-11-04", &[], "HUB").await;
    let one = log(&p.member, "arun", "The clinic staff listened to me", "2026-11-04", &[], "HUB").await;
    log(&p.member, "arun", "Nothing here about any of that", "2026-11-04", &[], "HUB").await;
    searchable(&p.app).await;
    let answer = p.member.graphql(SEARCH, json!({ "q": "evening clinic weekend" })).await;
    let result = found(&answer);
    assert_eq!(result["matchedEveryWord"], false, "no item has all three: {answer}");
    assert_eq!(result["total"], 2, "{answer}");
    assert_eq!(result["edges"][0]["node"]["item"]["id"], two.as_str(), "two of the words first: {answer}");
    assert_eq!(result["edges"][1]["node"]["item"]["id"], one.as_str());
    let every = p.member.graphql(SEARCH, json!({ "q": "evening clinic" })).await;
    assert_eq!(found(&every)["matchedEveryWord"], true);
    assert_eq!(found(&every)["total"], 1, "while an item has every word, only such items come back: {every}");

    let (_, body) = page(&p.member, &p.app, "/search?q=evening+clinic+weekend").await;
    assert!(body.contains("2 items you may see match some of your words; none has them all"), "{body}");
}

#[tokio::test]
async fn facets_are_named_counted_in_items_and_a_chosen_one_is_marked_with_the_others_still_in_view() {
    let p = people().await;
    let dual = "Dual diagnosis (mental health)";
    for text in ["Nobody at the clinic asked about my mental health", "The clinic waiting room is too small"] {
        let id = log(&p.member, "arun", text, "2026-11-04", &[dual], "PUBLIC").await;
        share(&p.coordinator, &id).await;
    }
    let id = log(&p.adur, "adur-worthing", "The clinic in Worthing was kind", "2026-11-04", &[dual], "PUBLIC").await;
    share(&p.adur, &id).await;
    searchable(&p.app).await;

    let answer = p.commissioner.graphql(SEARCH, json!({ "q": "clinic", "f": { "hub": "adur-worthing" } })).await;
    let result = found(&answer);
    assert_eq!(result["total"], 1);
    let facets = result["facets"].as_array().unwrap();
    let facet = |dimension: &str, value: &str| {
        facets.iter().find(|f| f["dimension"] == dimension && f["value"] == value).cloned().unwrap_or_default()
    };
    assert_eq!(facet("hub", "adur-worthing")["name"], "Adur & Worthing", "{answer}");
    assert_eq!(facet("hub", "arun")["count"], 2, "the other hub stays counted while one is chosen: {answer}");
    assert_eq!(facet("channel", "DROP_IN")["name"], "Drop-in", "a channel's value is what its filter takes");
    let theme = facets.iter().find(|f| f["dimension"] == "theme").unwrap();
    assert_eq!(theme["name"], dual);
    assert_eq!(theme["count"], 1, "other dimensions count within the chosen hub");

    let (status, body) = page(&p.commissioner, &p.app, "/search?q=clinic&hub=adur-worthing").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("aria-current=\"true\""), "the chosen facet is marked for screen readers: {body}");
    assert!(
        body.contains("Adur &amp; Worthing (1 item)</span> <strong class=\"tag tag--chosen\">Selected</strong>"),
        "the chosen facet says so by name, in items: {body}"
    );
    assert!(
        body.contains("Remove<span class=\"visually-hidden\"> the filter Hub: Adur &amp; Worthing</span>"),
        "{body}"
    );
    assert!(body.contains("href=\"/search?q=clinic&amp;hub=arun\">Arun (2 items)</a>"), "the other hub stays: {body}");
    assert!(body.contains(&format!("{} (1 item)", dual)), "themes by name: {body}");
    assert!(!body.contains(">adur-worthing") && !body.contains(">drop-in"), "never an id: {body}");
}

#[tokio::test]
async fn a_result_opens_its_item_and_an_item_you_may_not_see_is_not_found_like_a_made_up_one() {
    let p = people().await;
    let id = log(
        &p.member,
        "arun",
        "The pharmacy hatch closes at five",
        "2026-11-04",
        &["Opening hours", "Dual diagnosis (mental health)"],
        "COMMISSIONERS",
    )
    .await;
    searchable(&p.app).await;
    let (_, results) = page(&p.member, &p.app, "/search?q=hatch&hub=arun").await;
    let link = format!("/feedback/{id}?q=hatch&amp;hub=arun");
    assert!(results.contains(&format!("href=\"{link}\"")), "the result links to its item: {results}");

    let (status, item) = page(&p.member, &p.app, &link.replace("&amp;", "&")).await;
    assert_eq!(status, 200);
    for shown in [
        "The pharmacy hatch closes at five",
        "4 November 2026",
        "Arun",
        "Dual diagnosis (mental health), Opening hours",
        "The hub and commissioners",
        "Drop-in",
        "href=\"/search?q=hatch&amp;hub=arun\"",
    ] {
        assert!(item.contains(shown), "the item page shows {shown}: {item}");
    }

    let not_found = |body: &str| body.contains("<h1>Page not found</h1>");
    let made_up = format!("/feedback/{}", uuid::Uuid::new_v4());
    for (who, session) in
        [("another hub's member", &p.crawley), ("a commissioner, before it is shared", &p.commissioner)]
    {
        let (hidden_status, hidden) = page(session, &p.app, &format!("/feedback/{id}")).await;
        let (missing_status, missing) = page(session, &p.app, &made_up).await;
        assert_eq!((hidden_status, missing_status), (404, 404), "{who}");
        assert!(not_found(&hidden) && !hidden.contains("hatch"), "{who} sees nothing of it: {hidden}");
        assert_eq!(hidden, missing, "{who}: a hidden item and a missing one answer alike");
    }
    for nonsense in ["/feedback/not-an-id", "/feedback/%FF", "/feedback/%00"] {
        let (status, body) = page(&p.crawley, &p.app, nonsense).await;
        assert_eq!(status, 404, "{nonsense}");
        assert!(not_found(&body), "{nonsense}: {body}");
    }
    let anonymous = reqwest::Client::new();
    let response = anonymous.get(p.app.url(&format!("/feedback/{id}"))).send().await.unwrap();
    assert_eq!(response.status(), 404, "someone not logged in sees only what is public");

    share(&p.coordinator, &id).await;
    let (status, shared) = page(&p.commissioner, &p.app, &format!("/feedback/{id}")).await;
    assert_eq!(status, 200, "once shared, the commissioner opens it");
    assert!(shared.contains("The version shared outside the hub"), "{shared}");
}

#[tokio::test]
async fn results_download_as_csv_with_the_same_filters_and_only_what_each_person_may_see() {
    let p = people().await;
    let kept = log(&p.member, "arun", "The hatch is shut when I finish work", "2026-11-03", &[], "HUB").await;
    let shared =
        log(&p.member, "arun", "=HYPERLINK(\"http://example.com\") the hatch", "2026-11-04", &[], "PUBLIC").await;
    share(&p.coordinator, &shared).await;
    let crawley = log(&p.crawley, "crawley", "Crawley's hatch is fine", "2026-11-04", &[], "HUB").await;
    searchable(&p.app).await;

    let download = |session: &Session, query: &'static str| {
        let request = session.client.get(p.app.url(&format!("/search/download?{query}")));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
            let disposition = response.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_owned());
            (status, kind, disposition, response.text().await.unwrap())
        }
    };
    let (status, kind, disposition, csv) = download(&p.member, "q=hatch").await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(kind.as_deref(), Some("text/csv; charset=utf-8"));
    assert!(disposition.unwrap().starts_with("attachment; filename=\"heard-search-"));
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "id,said on,hub,themes,how it was heard,provider,consent,where it stands,words");
    assert_eq!(rows.len(), 3, "Arun's two, not Crawley's: {csv}");
    assert!(csv.contains(&kept) && csv.contains(&shared) && !csv.contains(&crawley), "{csv}");
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://example.com\"\") the hatch\""), "a formula is made text: {csv}");
    assert!(!csv.contains(",=HYPERLINK") && !csv.contains(",\"=HYPERLINK"), "{csv}");

    let (_, _, _, filtered) = download(&p.member, "q=hatch&loop=shared").await;
    assert_eq!(filtered.lines().count(), 2, "the filters apply: {filtered}");
    assert!(filtered.contains(&shared));

    let (_, _, _, outside) = download(&p.commissioner, "q=hatch").await;
    assert_eq!(outside.lines().count(), 2, "a commissioner gets only what was shared with them: {outside}");
    assert!(outside.contains(&shared) && !outside.contains(&kept), "{outside}");

    let (status, _, _, refused) = download(&p.member, "q=hatch&hub=atlantis").await;
    assert_eq!(status, 400);
    assert!(refused.contains("Hub: choose a hub from the list"), "{refused}");
}

#[tokio::test]
async fn every_part_of_a_search_address_is_checked_and_named_never_a_server_error() {
    let p = people().await;
    log(&p.member, "arun", "The hatch closes at five", "2026-11-04", &[], "HUB").await;
    searchable(&p.app).await;
    let huge = "hatch ".repeat(200);
    let cases: [(String, &str); 9] = [
        (format!("/search?q={huge}"), "Words to look for must be 500 characters or fewer"),
        ("/search?q=hatch&hub=atlantis".into(), "Hub: choose a hub from the list"),
        ("/search?q=hatch&theme=astrology".into(), "Theme: choose a theme from the list"),
        ("/search?q=hatch&provider=nobody".into(), "Service: choose a service from the list"),
        ("/search?q=hatch&channel=pigeon".into(), "How it was heard: choose a way it was heard from the list"),
        ("/search?q=hatch&hub=arun&hub=crawley".into(), "Hub: choose one hub at a time"),
        ("/search?q=hatch&q=five".into(), "the address holds more than one search"),
        ("/search?q=hatch&page=two".into(), "Page must be a whole number, like 2"),
        ("/search?q=hatch&page=3".into(), "Page: there is no page 3; these results fill 1 page"),
    ];
    for (path, message) in cases {
        let (status, body) = page(&p.member, &p.app, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("<h2 id=\"error-summary-title\">There is a problem</h2>"), "{path}");
        assert!(body.contains(message), "{path} says {message}: {body}");
        assert!(body.starts_with("<!DOCTYPE html>") && body.contains("<title>Error: Search feedback"), "{path}");
    }
    let (status, body) = page(&p.member, &p.app, "/search?q=hatch&hub=atlantis").await;
    assert_eq!(status, 400);
    assert!(body.contains("1 item you may see matches."), "the rest of the search still runs: {body}");
    assert!(!body.contains("atlantis\""), "the value is not repeated back: {body}");
    let (status, body) = page(&p.member, &p.app, "/search?q=hatch&utm_source=newsletter").await;
    assert_eq!(status, 200, "parts search does not use are left alone: {body}");

    let bad_hub = p.member.graphql(SEARCH, json!({ "q": "hatch", "f": { "hub": "atlantis" } })).await;
    assert_eq!(error_code(&bad_hub), Some("BAD_USER_INPUT"), "{bad_hub}");
    assert_eq!(bad_hub["errors"][0]["extensions"]["field"], "filter.hub");
    let bad_theme = p.member.graphql(SEARCH, json!({ "q": "hatch", "f": { "theme": "astrology" } })).await;
    assert_eq!(bad_theme["errors"][0]["extensions"]["field"], "filter.theme", "{bad_theme}");
    let long = p.member.graphql(SEARCH, json!({ "q": "a".repeat(501) })).await;
    assert_eq!(long["errors"][0]["extensions"]["field"], "query", "{long}");
}
