//! "You said, we did" as people open it: the printable page (public, without a login) and the
//! CSV download, both from the same report as GraphQL; the builder that opens the page. The
//! page is the web UI's, in the shared layout; CSV and API tokens are answered by the gateway
//! at the same address.

use heard_access::{Consent, Role};
use heard_tests::{TestApp, page_with_status, spawn_app};

/// Logs and shares an item for arun about opening hours, straight through the service.
async fn shared(app: &TestApp, text: &str, consent: Consent) -> uuid::Uuid {
    let new = heard_feedback::domain::NewItem {
        hub: "arun".into(),
        channel: Some(heard_feedback::domain::Channel::Forum),
        speaker: Some(heard_feedback::domain::SpeakerKind::Anonymous),
        consent: Some(consent),
        said_on: "2026-11-02".into(),
        text: text.into(),
        themes: ["opening-hours".to_owned()].into(),
        ..Default::default()
    };
    let logged = app.feedback.log(uuid::Uuid::nil(), new).await.expect("logged");
    app.feedback.share(logged.logged.item, uuid::Uuid::nil()).await.expect("shared");
    logged.logged.item
}

/// An API token of a commissioner, for the report's CSV.
async fn commissioner_token(app: &TestApp) -> String {
    let commissioner = app.create_user("commissioner@example.org", &[Role::Commissioner], &[]).await;
    app.token_for(commissioner).await
}

/// `path` asked for with the API token `token`, as an integration asks.
async fn get_with_token(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap()
}

/// The report's address takes a day as people in the UK write it, and names a day that does
/// not exist.
async fn days_are_read_as_people_in_the_uk_write_them(app: &TestApp) {
    let missing_day = app.get("/reports/you-said-we-did?from=30%2F02%2F2026").await;
    assert_eq!(missing_day.status(), 400);
    assert!(missing_day.text().await.unwrap().contains("from: 30 February 2026 does not exist"));
    let uk = app.get("/reports/you-said-we-did?from=1%2F3%2F2026").await;
    assert_eq!(uk.status(), 200, "a day as people in the UK write it is taken");
}

async fn with_items() -> TestApp {
    let app = spawn_app().await;
    for n in 0..6 {
        shared(&app, &format!("Public words number {n}: open on Saturdays please"), Consent::Public).await;
    }
    shared(&app, "Words for commissioners only about the evening clinic", Consent::Commissioners).await;
    assert!(app.commissioning.caught_up().await);
    app
}

#[tokio::test]
async fn a_hubs_public_page_needs_no_login_and_shows_only_what_people_agreed_to_publish() {
    let app = with_items().await;
    let response = app.get("/public/you-said-we-did/arun").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains("<html lang=\"en-GB\">") && page.contains("<main id=\"main\""), "landmarks and language");
    assert!(page.contains("href=\"/assets/heard.css\""), "in the shared layout, with its print rules");
    assert!(page.contains("<h1>You said, we did: Arun</h1>"), "{page}");
    assert!(page.contains("Public words number"), "public words are shown");
    assert!(!page.contains("commissioners only"), "words consented for commissioners only never appear publicly");
    assert!(page.contains("heard verify --at"), "the page says how to verify it");
    assert!(
        page.contains("/reports/you-said-we-did?hub=arun&amp;public=true&amp;format=csv"),
        "the public CSV is offered: {page}"
    );
    let css = app.get("/assets/heard.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.text().await.unwrap().contains("@media print"), "a print stylesheet");
    let script = app.get("/assets/reports.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("window.print()"), "the Print button's script is a file (CSP)");
    let missing = app.get("/public/you-said-we-did/atlantis").await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_commissioner_downloads_the_report_as_csv_and_the_public_csv_holds_only_public_words() {
    let app = with_items().await;
    let token = commissioner_token(&app).await;
    let csv = get_with_token(&app, "/reports/you-said-we-did?hub=arun&format=csv", &token).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let mut rows = ::csv::Reader::from_reader(text.as_bytes());
    let records: Vec<Vec<String>> = rows.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    let find = |section: &str, name: &str| records.iter().find(|r| r[0] == section && r[1] == name).cloned();
    assert_eq!(find("summary", "shared items").unwrap()[2], "7", "{text}");
    assert_eq!(find("you said", "Opening hours").unwrap()[2], "7", "{text}");
    assert!(records.iter().any(|r| r[0] == "report" && r[1] == "position"), "{text}");
    let public = app.get("/reports/you-said-we-did?hub=arun&format=csv").await.text().await.unwrap();
    assert!(!public.contains("commissioners only"), "{public}");
    assert!(public.contains("public"), "{public}");
}

#[tokio::test]
async fn the_csv_download_is_the_answer_graphql_gives_the_same_person_byte_for_byte() {
    let app = with_items().await;
    let token = commissioner_token(&app).await;
    let download = get_with_token(&app, "/reports/you-said-we-did?hub=arun&from=2020-01-01&format=csv", &token).await;
    assert_eq!(download.status(), 200);
    let download = download.text().await.unwrap();
    let query = "query($s: ReportScopeInput!) { youSaidWeDid(scope: $s) { csv } }";
    let answer =
        app.graphql_as(&token, query, serde_json::json!({ "s": { "hub": "arun", "from": "2020-01-01" } })).await;
    assert_eq!(answer["data"]["youSaidWeDid"]["csv"].as_str(), Some(download.as_str()), "{answer}");
    assert!(download.contains("commissioners and hubs"), "the commissioner's version: {download}");
    let anonymous =
        app.graphql("query { youSaidWeDid(scope: { hub: \"arun\" }) { csv } }", serde_json::json!({})).await;
    let public = app.get("/reports/you-said-we-did?hub=arun&format=csv").await.text().await.unwrap();
    assert_eq!(anonymous["data"]["youSaidWeDid"]["csv"].as_str(), Some(public.as_str()), "{anonymous}");
}

#[tokio::test]
async fn a_bad_date_or_format_is_refused_with_a_message_naming_it() {
    let app = spawn_app().await;
    let bad = app.get("/reports/you-said-we-did?from=last%20week").await;
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text().await.unwrap().contains("from: enter the date as day, month and year"),
        "the field is named, in the words every page uses for a day"
    );
    days_are_read_as_people_in_the_uk_write_them(&app).await;
    let backwards = app.get("/reports/you-said-we-did?from=2026-11-20&to=2026-11-01").await;
    assert_eq!(backwards.status(), 400);
    let format = app.get("/reports/you-said-we-did?format=pdf").await;
    assert_eq!(format.status(), 400);
    assert!(format.text().await.unwrap().contains("format must be html or csv"));
}

#[tokio::test]
async fn with_an_api_token_the_report_comes_only_as_csv_and_a_wrong_token_is_refused() {
    let app = with_items().await;
    let token = commissioner_token(&app).await;
    let page = get_with_token(&app, "/reports/you-said-we-did?hub=arun", &token).await;
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("format=csv"), "the answer says how to ask");
    let wrong = get_with_token(&app, "/reports/you-said-we-did?hub=arun&format=csv", "heard_not-a-token").await;
    assert_eq!(wrong.status(), 401);
    let bad = app.get("/reports/you-said-we-did?from=2026-13-01&format=csv").await;
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text().await.unwrap().contains("from: there is no such month"),
        "the field is named, and what is wrong"
    );
    days_are_read_as_people_in_the_uk_write_them(&app).await;
    assert_eq!(app.get("/reports/you-said-we-did?hub=atlantis&format=csv").await.status(), 404);
}

#[tokio::test]
async fn graphql_refuses_a_report_about_a_hub_that_does_not_exist_naming_the_part_of_the_scope() {
    let app = spawn_app().await;
    for (scope, field) in [("hub", "scope.hub"), ("provider", "scope.provider"), ("theme", "scope.theme")] {
        let answer = app
            .graphql(
                "query($s: ReportScopeInput!) { youSaidWeDid(scope: $s) { public } loopMetrics(scope: $s) { sharedItems } }",
                serde_json::json!({ "s": { scope: "atlantis" } }),
            )
            .await;
        assert_eq!(heard_tests::error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
        let errors = answer["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 2, "both fields refuse: {answer}");
        for error in errors {
            let message = error["message"].as_str().unwrap();
            assert!(message.starts_with(field) && !message.contains("atlantis"), "{message}");
        }
        assert!(answer["data"].is_null(), "no empty report stands in for the refusal: {answer}");
    }
}

#[tokio::test]
async fn a_commissioner_logged_in_sees_the_fuller_report_and_can_ask_for_the_public_version() {
    let app = with_items().await;
    app.create_user("commissioner@example.org", &[Role::Commissioner], &[]).await;
    let session = app.login("commissioner@example.org").await;
    let full = session.client.get(app.url("/reports/you-said-we-did?hub=arun")).send().await.unwrap();
    assert_eq!(full.status(), 200);
    let full = full.text().await.unwrap();
    assert!(full.contains("For commissioners and hubs"), "{full}");
    assert!(full.contains("<h1>You said, we did: Arun</h1>"), "{full}");
    // "You said" and "We did" became one pairing table and the decisions in full (issue #15).
    for section in ["Summary", "You said, we did", "The decisions in full", "Checking this report"] {
        assert!(full.contains(&format!(">{section}</h2>")), "the report has a section {section}");
    }
    assert!(full.contains("Download as CSV") && full.contains("/assets/reports.js"), "CSV and Print");
    let public = session.client.get(app.url("/reports/you-said-we-did?hub=arun&public=true")).send().await.unwrap();
    let public = public.text().await.unwrap();
    assert!(public.contains("Public version"), "{public}");
    assert!(!public.contains("commissioners only"), "{public}");
    let csv = session.client.get(app.url("/reports/you-said-we-did?hub=arun&format=csv")).send().await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"), "CSV with the session too");
    assert!(csv.text().await.unwrap().contains("commissioners and hubs"), "the logged-in version");
}

#[tokio::test]
async fn the_builder_opens_the_report_for_a_period_or_shows_errors_beside_the_dates() {
    let app = with_items().await;
    app.create_user("commissioner@example.org", &[Role::Commissioner], &[]).await;
    let session = app.login("commissioner@example.org").await;
    let form = session.client.get(app.url("/reports")).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("Build a") && form.contains("The last quarter: "), "quick choices say their days");
    let backwards =
        session.client.get(app.url("/reports?open=yes&hub=arun&period=dates&from=2026-11-20&to=2026-11-01"));
    let page = page_with_status(backwards, 422).await;
    assert!(
        page.contains("There is a problem") && page.contains("href=\"#to\""),
        "an error summary linking to the field"
    );
    assert!(page.contains("id=\"to-error\""), "the error beside the end date: {page}");
    assert!(page.contains("value=\"20 November 2026\""), "what was typed is kept, the day as people write it");
    let opened = session
        .client
        .get(app.url("/reports?open=yes&hub=arun&period=dates&from=2026-11-01&to=2026-11-30&public=false"))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.url().path(), "/reports/you-said-we-did");
    assert_eq!(opened.url().query(), Some("hub=arun&from=2026-11-01&to=2026-11-30"));
    let report = opened.text().await.unwrap();
    assert!(report.contains("from 1 November to 30 November 2026"), "{report}");
    assert!(report.contains("Public words number"), "the items said in November");
    let before = session.client.get(app.url("/reports/you-said-we-did?hub=arun&to=2026-10-31")).send().await.unwrap();
    assert!(!before.text().await.unwrap().contains("Public words number"), "nothing said before November");
}

#[tokio::test]
async fn each_theme_is_paired_with_what_was_decided_about_it_and_when_on_the_page_and_in_the_csv() {
    let app = with_items().await;
    let items = app.feedback.read(|state| state.items.keys().map(|id| id.to_string()).collect::<Vec<_>>());
    app.create_user("commissioner@example.org", &[Role::Commissioner], &[]).await;
    let session = app.login("commissioner@example.org").await;
    let proposed = session
        .graphql(
            "mutation($i: ProposeDecisionInput!) { proposeDecision(input: $i) { id } }",
            serde_json::json!({ "i": { "title": "Saturday opening at the Arun hub", "serviceArea": "Treatment",
                "decidedBy": "DAAT board", "decisionDate": heard_api::today().to_string(), "ladderRung": 5,
                "involvement": "Asked at three forums" } }),
        )
        .await;
    let decision = proposed["data"]["proposeDecision"]["id"].as_str().expect("proposed").to_owned();
    for item in &items {
        session
            .graphql(
                "mutation($id: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $id, input: $i) { id } }",
                serde_json::json!({ "id": decision, "i": { "kind": "FEEDBACK_ITEM", "itemId": item, "rationale": "Asked for" } }),
            )
            .await;
    }
    app.settled().await;
    let page =
        session.client.get(app.url("/reports/you-said-we-did?hub=arun")).send().await.unwrap().text().await.unwrap();
    let table =
        page.split("<table class=\"report-table pairing\">").nth(1).and_then(|rest| rest.split("</table>").next());
    let table = table.unwrap_or_else(|| panic!("one pairing table: {page}"));
    for column in ["Theme", "What people said", "What was decided or done", "When"] {
        assert!(table.contains(&format!("<th scope=\"col\">{column}</th>")), "{column}: {table}");
    }
    let today = heard_api::today().strftime("%-d %B %Y").to_string();
    assert!(table.contains(">Opening hours</th>") && table.contains("7 items"), "the theme and its count: {table}");
    assert!(table.contains("Saturday opening at the Arun hub</a> · Proposed"), "beside it the decision: {table}");
    assert!(table.contains(&format!("To be decided {today}")), "and when: {table}");
    assert!(table.contains("the decision stayed with the commissioner"), "the ladder in words: {table}");
    assert!(
        table.contains("What came of it: </strong>") && table.contains("It fed into the decision"),
        "each quote says what came of it: {table}"
    );
    assert!(!page.contains("Rung") && !page.contains("rung 5"), "no rung numbers: {page}");

    let csv = session.client.get(app.url("/reports/you-said-we-did?hub=arun&format=csv")).send().await.unwrap();
    let text = csv.text().await.unwrap();
    let mut rows = ::csv::Reader::from_reader(text.as_bytes());
    assert_eq!(rows.headers().unwrap().iter().collect::<Vec<_>>(), ["section", "name", "value", "detail", "theme"]);
    let records: Vec<Vec<String>> = rows.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    let we_did = records.iter().find(|r| r[0] == "we did").unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        (we_did[1].as_str(), we_did[2].as_str(), we_did[4].as_str()),
        ("Saturday opening at the Arun hub", "proposed", "Opening hours"),
        "{text}"
    );
    assert!(we_did[3].contains("the decision stayed with the commissioner") && !we_did[3].contains("rung"), "{text}");
    let quote = records.iter().find(|r| r[0] == "in their words").unwrap_or_else(|| panic!("{text}"));
    assert!(quote[3].contains("what came of it: linked to Saturday opening at the Arun hub (proposed)"), "{text}");
    assert_eq!(quote[4], "Opening hours");
}
