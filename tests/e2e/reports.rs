//! "You said, we did" as people open it: the printable page (public, without a login) and the
//! CSV download, both from the same report as GraphQL.

use heard_access::{Consent, Role};
use heard_tests::{TestApp, spawn_app};

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
    assert!(page.contains("<html lang=\"en-GB\">") && page.contains("<main id=\"main\">"), "landmarks and language");
    assert!(page.contains("<h1>You said, we did: Arun</h1>"), "{page}");
    assert!(page.contains("Public words number"), "public words are shown");
    assert!(!page.contains("commissioners only"), "words consented for commissioners only never appear publicly");
    assert!(page.contains("heard verify --at"), "the page says how to verify it");
    let css = app.get("/assets/report.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.text().await.unwrap().contains("@media print"), "a print stylesheet");
    let missing = app.get("/public/you-said-we-did/atlantis").await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_commissioner_downloads_the_report_as_csv_and_the_public_csv_holds_only_public_words() {
    let app = with_items().await;
    let commissioner = app.create_user("commissioner@example.org", &[Role::Commissioner], &[]).await;
    let token = app.token_for(commissioner).await;
    let csv = app
        .client
        .get(app.url("/reports/you-said-we-did?hub=arun&format=csv"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
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
async fn a_bad_date_or_format_is_refused_with_a_message_naming_it() {
    let app = spawn_app().await;
    let bad = app.get("/reports/you-said-we-did?from=last%20week").await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("from must be a date"));
    let backwards = app.get("/reports/you-said-we-did?from=2026-11-20&to=2026-11-01").await;
    assert_eq!(backwards.status(), 400);
    let format = app.get("/reports/you-said-we-did?format=pdf").await;
    assert_eq!(format.status(), 400);
    assert!(format.text().await.unwrap().contains("format must be html or csv"));
}
