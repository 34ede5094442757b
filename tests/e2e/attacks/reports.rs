//! The attacks of the security review's report (issue #13): a formula smuggled into the public
//! CSV through a decision's title; small counts worked out from the figures shown beside them
//! (the closure rate times the items shared, one hub's figures against the county's, one theme
//! against the total); and GraphiQL's scripts fetched from a public CDN under a policy that
//! allowed it and inline script.

use std::collections::BTreeSet;

use heard_access::{Consent, Role};
use heard_tests::{Session, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const FORMULA: &str = "=1+2+cmd|' /C calc'!A0";
const PROPOSE: &str = "mutation($i: ProposeDecisionInput!) { proposeDecision(input: $i) { id } }";
const LINK: &str = "mutation($id: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $id, input: $i) { id } }";
const ANSWER: &str = "mutation($id: ID!, $r: String!) { answerFeedback(itemId: $id, reason: $r) { itemId } }";
const LOOP: &str = "query($s: ReportScopeInput!) { loopMetrics(scope: $s) { sharedItems closedItems loopClosureRate medianWorkingDaysToFirstResponse } }";
const REPORT: &str = "query($s: ReportScopeInput!) { youSaidWeDid(scope: $s) { sharedItems closedItems loopClosureRate medianWorkingDaysToFirstResponse said { theme count } } }";

/// Logs and shares an item straight through the service.
async fn shared(app: &TestApp, hub: &str, text: &str, theme: &str) -> String {
    let new = heard_feedback::domain::NewItem {
        hub: hub.into(),
        channel: Some(heard_feedback::domain::Channel::Forum),
        speaker: Some(heard_feedback::domain::SpeakerKind::Anonymous),
        consent: Some(Consent::Public),
        said_on: "2026-11-02".into(),
        text: text.into(),
        themes: [theme.to_owned()].into(),
        ..Default::default()
    };
    let logged = app.feedback.log(uuid::Uuid::nil(), new).await.expect("logged");
    app.feedback.share(logged.logged.item, uuid::Uuid::nil()).await.expect("shared");
    logged.logged.item.to_string()
}

/// `count` items shared in `hub` with `theme`, numbered "`text` (0)", "`text` (1)" and on.
async fn shared_numbered(app: &TestApp, hub: &str, count: usize, text: &str, theme: &str) -> Vec<String> {
    let mut items = Vec::new();
    for n in 0..count {
        items.push(shared(app, hub, &format!("{text} ({n})"), theme).await);
    }
    items
}

fn ok(response: &Value, field: &str) -> Value {
    assert!(response["errors"].is_null(), "{field} failed: {response}");
    response["data"][field].clone()
}

async fn commissioner(app: &TestApp) -> Session {
    app.create_user("commissioner@example.org", &[Role::Commissioner], &[]).await;
    app.login("commissioner@example.org").await
}

async fn propose(session: &Session, title: &str) -> String {
    let input = json!({ "i": {
        "title": title,
        "serviceArea": "Community drug and alcohol treatment",
        "decidedBy": "DAAT board",
        "decisionDate": heard_api::today().to_string(),
        "ladderRung": 6,
        "involvement": "People who use services sat on the panel",
    }});
    ok(&session.graphql(PROPOSE, input).await, "proposeDecision")["id"].as_str().unwrap().to_owned()
}

async fn link(session: &Session, decision: &str, item: &str) {
    let input = json!({ "kind": "FEEDBACK_ITEM", "itemId": item, "rationale": "People asked for it" });
    ok(&session.graphql(LINK, json!({ "id": decision, "i": input })).await, "linkEvidence");
}

#[tokio::test]
async fn a_decision_title_that_starts_with_a_formula_is_escaped_in_the_public_csv() {
    let app = spawn_app().await;
    let session = commissioner(&app).await;
    let mut items = Vec::new();
    items.push(shared(&app, "arun", "@everyone the pharmacy shuts at five", "opening-hours").await);
    items.push(shared(&app, "arun", "-1 star for the waiting room", "opening-hours").await);
    items.extend(shared_numbered(&app, "arun", 4, "Open on Saturdays please", "opening-hours").await);
    app.settled().await;
    let decision = propose(&session, FORMULA).await;
    link(&session, &decision, &items[2]).await;
    let answered = session.graphql(ANSWER, json!({ "id": items[0], "r": "+ the new contract starts in April" })).await;
    ok(&answered, "answerFeedback");
    app.settled().await;

    // The CSV exactly as the public page offers it, downloaded without a login.
    let page = app.get("/public/you-said-we-did/arun").await.text().await.unwrap();
    let href = page
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("/reports/you-said-we-did?") && href.contains("format=csv"))
        .unwrap_or_else(|| panic!("the public page offers the CSV: {page}"))
        .replace("&amp;", "&");
    assert!(href.contains("public=true"), "{href}");
    let csv = app.get(&href).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let mut reader = ::csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let records: Vec<Vec<String>> =
        reader.records().map(|record| record.unwrap().iter().map(str::to_owned).collect()).collect();
    let we_did = records.iter().find(|record| record[0] == "we did").unwrap_or_else(|| panic!("{text}"));
    assert_eq!(we_did[1], format!("'{FORMULA}"), "the title is escaped with a single quote: {text}");
    let not_acted_on = records.iter().find(|record| record[0] == "not acted on").unwrap_or_else(|| panic!("{text}"));
    assert_eq!(not_acted_on[1], "'@everyone the pharmacy shuts at five", "the speaker's words too");
    assert_eq!(not_acted_on[2], "'+ the new contract starts in April", "and the reason");
    for record in &records {
        for cell in record {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?} would run as a formula: {text}");
        }
    }
}

/// The loop figures published for one scope, as read from an answer.
#[derive(Debug)]
struct Published {
    /// Which hubs' items the scope covers.
    hubs: Vec<usize>,
    shared: u64,
    closed: Option<u64>,
    rate: Option<f64>,
}

fn published(hubs: Vec<usize>, figures: &Value) -> Published {
    Published {
        hubs,
        shared: figures["sharedItems"].as_u64().unwrap_or_else(|| panic!("shared is large enough to show: {figures}")),
        closed: figures["closedItems"].as_u64(),
        rate: figures["loopClosureRate"].as_f64(),
    }
}

#[tokio::test]
async fn the_closure_rate_and_the_countys_figures_never_let_anyone_work_out_how_many_items_of_a_hub_closed() {
    // Arun: 9 shared, 1 closed. Crawley: 12 shared, 7 closed. As reported: Arun's loopMetrics
    // said sharedItems 9, closedItems null, loopClosureRate 0.111, and 9 × 0.111 = 1; and the
    // county's 8 closed minus Crawley's 7 is 1 as well.
    let app = spawn_app().await;
    let session = commissioner(&app).await;
    let arun = shared_numbered(&app, "arun", 9, "The Arun hub should open later", "opening-hours").await;
    let crawley = shared_numbered(&app, "crawley", 12, "Crawley needs a women's group", "women").await;
    app.settled().await;
    let decision = propose(&session, "Open the Arun hub until 8pm twice a week").await;
    link(&session, &decision, &arun[0]).await;
    let other = propose(&session, "A women's group in Crawley").await;
    for item in &crawley[..7] {
        link(&session, &other, item).await;
    }
    app.settled().await;

    let scopes = [(json!({ "hub": "arun" }), vec![0]), (json!({ "hub": "crawley" }), vec![1]), (json!({}), vec![0, 1])];
    let mut figures = Vec::new();
    for (scope, hubs) in &scopes {
        let as_commissioner = ok(&session.graphql(LOOP, json!({ "s": scope })).await, "loopMetrics");
        let as_anyone = ok(&app.graphql(LOOP, json!({ "s": scope })).await, "loopMetrics");
        let report = ok(&session.graphql(REPORT, json!({ "s": scope })).await, "youSaidWeDid");
        for answer in [&as_commissioner, &as_anyone, &report] {
            figures.push(published(hubs.clone(), answer));
        }
    }
    let arun_figures = ok(&app.graphql(LOOP, json!({ "s": { "hub": "arun" } })).await, "loopMetrics");
    assert_eq!(arun_figures["sharedItems"], 9, "{arun_figures}");
    assert_eq!(arun_figures["closedItems"], Value::Null, "{arun_figures}");
    assert_eq!(arun_figures["loopClosureRate"], Value::Null, "hidden with the count it is computed from");
    assert_eq!(
        arun_figures["medianWorkingDaysToFirstResponse"],
        Value::Null,
        "one item had a response: a median over one is that one"
    );

    // Every pair (closed in Arun, closed in Crawley) that agrees with everything published.
    let possible: Vec<[u64; 2]> = (0..=9u64)
        .flat_map(|a| (0..=12u64).map(move |c| [a, c]))
        .filter(|closed| {
            figures.iter().all(|figure| {
                let count: u64 = figure.hubs.iter().map(|hub| closed[*hub]).sum();
                figure.closed.is_none_or(|shown| shown == count)
                    && figure.rate.is_none_or(|rate| (rate - count as f64 / figure.shared as f64).abs() < 1e-6)
            })
        })
        .collect();
    assert!(possible.contains(&[1, 7]), "the truth agrees with what is published: {figures:?}");
    let arun_closed: BTreeSet<u64> = possible.iter().map(|[a, _]| *a).collect();
    assert!(arun_closed.len() > 1, "Arun's 1 closed item can be worked out: {figures:?}");
    let arun_open: BTreeSet<u64> = possible.iter().map(|[a, _]| 9 - a).collect();
    assert!(arun_open.len() > 1, "{figures:?}");
}

#[tokio::test]
async fn a_hub_whose_items_are_nearly_all_closed_does_not_give_away_the_few_still_open() {
    // 7 shared and 6 closed would say that 1 is still open.
    let app = spawn_app().await;
    let session = commissioner(&app).await;
    let items = shared_numbered(&app, "arun", 7, "Evening clinics please", "opening-hours").await;
    app.settled().await;
    let decision = propose(&session, "Evening clinics at the Arun hub").await;
    for item in &items[..6] {
        link(&session, &decision, item).await;
    }
    app.settled().await;
    let figures = ok(&app.graphql(LOOP, json!({ "s": { "hub": "arun" } })).await, "loopMetrics");
    let Published { shared, closed, rate, .. } = published(vec![0], &figures);
    let open: BTreeSet<u64> = (0..=shared)
        .filter(|c| closed.is_none_or(|shown| shown == *c))
        .filter(|c| rate.is_none_or(|rate| (rate - *c as f64 / shared as f64).abs() < 1e-6))
        .map(|c| shared - c)
        .collect();
    assert!(open.len() > 1, "the one item still open can be worked out: {figures}");
}

#[tokio::test]
async fn a_theme_raised_by_one_to_four_people_cannot_be_worked_out_from_the_shared_total() {
    // 7 shared in Arun, each with one theme: 5 on keyworker time and 2 on women. Showing 7 and 5
    // says 2.
    let app = spawn_app().await;
    shared_numbered(&app, "arun", 5, "My keyworker keeps changing", "keyworker-time").await;
    shared_numbered(&app, "arun", 2, "There is no women-only space", "women").await;
    app.settled().await;
    let report = ok(&app.graphql(REPORT, json!({ "s": { "hub": "arun" } })).await, "youSaidWeDid");
    let count = |theme: &str| {
        report["said"].as_array().unwrap().iter().find(|row| row["theme"] == theme).unwrap()["count"].as_u64()
    };
    assert_eq!(count("women"), None, "{report}");
    let shared = report["sharedItems"].as_u64();
    let women: BTreeSet<u64> = (0..=7u64)
        .filter(|women| {
            let keyworker = 7 - women;
            shared.is_none_or(|shared| shared == 7)
                && count("keyworker-time").is_none_or(|shown| shown == keyworker)
                && count("women").is_none_or(|shown| shown == *women)
        })
        .collect();
    assert!(women.len() > 1, "the 2 on women can be worked out: {report}");
}

/// The directives of a Content-Security-Policy, by name.
fn directives(policy: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    policy
        .split(';')
        .filter_map(|directive| {
            let mut words = directive.split_whitespace().map(str::to_owned);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

/// The values of `attribute="…"` in the tags named `tag` of `page`.
fn attributes(page: &str, tag: &str, attribute: &str) -> Vec<String> {
    page.split(&format!("<{tag}"))
        .skip(1)
        .filter_map(|rest| {
            let tag = rest.split('>').next()?;
            let value = tag.split(&format!("{attribute}=\"")).nth(1)?;
            Some(value.split('"').next()?.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn graphiql_is_served_by_heard_itself_under_a_policy_that_names_no_other_host_and_allows_no_inline_script() {
    let app = spawn_app().await;
    let page = app.get("/graphql").await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let page = page.text().await.unwrap();
    assert!(!policy.contains("http") && !policy.contains("unpkg") && !policy.contains('*'), "no other host: {policy}");
    let directives = directives(&policy);
    assert_eq!(directives["script-src"], ["'self'"], "{policy}");
    assert_eq!(directives["style-src"], ["'self'"], "{policy}");
    assert_eq!(directives["default-src"], ["'self'"], "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");

    assert!(!page.contains("unpkg") && !page.contains("http://") && !page.contains("https://"), "{page}");
    let scripts = attributes(&page, "script", "src");
    assert_eq!(scripts.len(), page.matches("<script").count(), "every script is a file: {page}");
    assert!(!page.contains("<style") && !page.contains(" style="), "no inline style: {page}");
    let stylesheets = attributes(&page, "link", "href");
    assert!(scripts.len() >= 4 && stylesheets.len() >= 2, "React, ReactDOM, GraphiQL and Heard's own: {page}");
    for (path, kind) in scripts.iter().map(|s| (s, "javascript")).chain(stylesheets.iter().map(|s| (s, "css"))) {
        assert!(path.starts_with("/assets/graphiql/"), "served by Heard: {path}");
        let file = app.get(path).await;
        assert_eq!(file.status(), 200, "{path}");
        let content_type = file.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with(&format!("text/{kind}")), "{path}: {content_type}");
        assert_eq!(file.headers()["x-content-type-options"], "nosniff");
        assert!(file.text().await.unwrap().len() > 50, "{path}");
    }
    // The page's own script still sends the CSRF token and asks for subscriptions.
    let own = scripts.iter().find(|path| path.contains("heard")).expect("Heard's own script");
    let own = app.get(own).await.text().await.unwrap();
    for needed in ["heard_csrf", "X-CSRF-Token", "/graphql/ws", "subscriptionUrl"] {
        assert!(own.contains(needed), "{needed}: {own}");
    }
    assert_eq!(app.get("/assets/graphiql/nothing.js").await.status(), 404);
}

#[tokio::test]
async fn with_graphiql_turned_off_get_graphql_answers_404_and_the_api_still_works() {
    let app = spawn_app_with(|settings| settings.server.graphiql = false).await;
    let page = app.get("/graphql").await;
    assert_eq!(page.status(), 404);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(page.text().await.unwrap().contains("GraphiQL is turned off"));
    let on = spawn_app().await;
    let body = on.get("/graphql").await.text().await.unwrap();
    for path in attributes(&body, "script", "src").into_iter().chain(attributes(&body, "link", "href")) {
        assert_eq!(app.get(&path).await.status(), 404, "its files are off too: {path}");
    }
    let answer = app.graphql("{ __typename }", json!({})).await;
    assert_eq!(answer["data"]["__typename"], "QueryRoot", "{answer}");
}

#[tokio::test]
async fn the_csv_reports_errors_name_the_field_and_never_repeat_what_was_typed() {
    let app = spawn_app().await;
    for (key, value) in [("hub", "Delphine Quartermaine"), ("from", "Delphine"), ("public", "<script>Delphine")] {
        let response = app
            .client
            .get(app.url("/reports/you-said-we-did"))
            .query(&[("format", "csv"), (key, value)])
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{key}={value}");
        let body = response.text().await.unwrap();
        assert!(body.contains(key), "the error names {key}: {body}");
        assert!(!body.contains("Delphine"), "the error repeats what was typed: {body}");
    }
}
