//! The web UI to a nosy account, over real HTTP: each page is for the roles whose work it is.
//! Anyone else gets a plain "this page is for …" (403) carrying none of the page's content or
//! forms, and a form posted anyway changes nothing. (The journeys themselves run in a real
//! browser: `browser.rs`.)

use heard_tests::{TestApp, spawn_app};

async fn demo() -> TestApp {
    let app = spawn_app().await;
    heard_demo::seed(app.services.demo()).await.expect("the demo seeds");
    app.settled().await;
    app
}

async fn demo_login(app: &TestApp, account: &str) -> heard_tests::Session {
    let email = format!("{account}@demo.heard.example");
    app.try_login(&email, &format!("heard demo {account}")).await.expect("the demo account logs in")
}

#[tokio::test]
async fn each_page_refuses_the_roles_it_is_not_for_and_shows_them_none_of_its_content() {
    let app = demo().await;
    let refused: [(&str, &[&str]); 4] = [
        (
            "member.arun",
            &[
                "/dashboard",
                "/shared",
                "/decisions/new",
                "/admin",
                "/admin/hubs",
                "/cases",
                "/cases/new",
                "/moderation",
                "/safeguarding",
            ],
        ),
        ("provider", &["/dashboard", "/shared", "/report-back", "/cases", "/admin", "/moderation", "/safeguarding"]),
        ("admin", &["/dashboard", "/shared", "/decisions/new", "/cases", "/report-back", "/safeguarding"]),
        ("commissioner", &["/admin", "/admin/hubs", "/cases", "/moderation", "/report-back", "/safeguarding"]),
    ];
    for (account, paths) in refused {
        let session = demo_login(&app, account).await;
        for path in paths {
            let response = session.client.get(app.url(path)).send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            assert_eq!(status, 403, "{account} is refused {path}: {body}");
            assert!(body.contains("<h1>This page is for"), "{account} is told {path} is not for them: {body}");
            let forms = body.matches("<form").count();
            assert_eq!(forms, 1, "{account} sees no form on {path} but logging out: {body}");
            assert!(!body.contains("<blockquote"), "{account} sees nobody's words on {path}");
        }
    }
}

#[tokio::test]
async fn someone_who_is_not_a_commissioner_reads_decisions_but_gets_no_way_to_change_them() {
    let app = demo().await;
    let member = demo_login(&app, "member.arun").await;
    let list = member.client.get(app.url("/decisions")).send().await.unwrap().text().await.unwrap();
    assert!(list.contains("<h1>Decisions</h1>"), "{list}");
    assert!(!list.contains("Propose a decision"), "only commissioners propose");
    let first = list.split("href=\"/decisions/").nth(1).and_then(|rest| rest.split('"').next()).expect("a decision");
    let page = member.client.get(app.url(&format!("/decisions/{first}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("How it has moved on"), "the decision's story is there: {page}");
    assert_eq!(page.matches("<form").count(), 1, "no forms but logging out: {page}");
    assert!(!page.contains("/assets/picker.js"), "no evidence picker");

    let commissioner = demo_login(&app, "commissioner").await;
    let page = commissioner.client.get(app.url(&format!("/decisions/{first}"))).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("Link what people said"), "the commissioner gets the evidence picker");
    assert!(page.matches("<form").count() > 3, "and the forms to move it on");
}

#[tokio::test]
async fn a_form_posted_by_someone_it_is_not_for_changes_nothing() {
    let app = demo().await;
    let member = demo_login(&app, "member.arun").await;
    let before = app.store.head().position;
    for (path, fields) in [
        ("/shared/acknowledge", vec![("item_id", "00000000-0000-0000-0000-000000000000")]),
        ("/admin/hubs", vec![("name", "Nosy hub"), ("kind", "LOCAL"), ("area", "West Sussex")]),
        ("/decisions/new", vec![("title", "Nosy decision"), ("confirm", "yes")]),
    ] {
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", member.csrf_token.as_str())];
        form.extend(fields);
        let response = member.client.post(app.url(path)).form(&form).send().await.unwrap();
        let status = response.status().as_u16();
        assert!(status == 403 || status == 404 || status == 405, "{path} is refused: {status}");
    }
    app.settled().await;
    let appended = app.store.read_all(before + 1, 1000).await.expect("the log reads");
    let changes: Vec<&str> =
        appended.iter().map(|event| event.stream.category()).filter(|category| *category != "access").collect();
    assert!(changes.is_empty(), "nothing but access records was appended: {changes:?}");
}

#[tokio::test]
async fn an_address_no_page_answers_gets_a_page_not_found_with_the_way_home_and_never_repeats_the_address() {
    let app = spawn_app().await;
    for path in ["/no-such-page", "/complaints/new/nowhere/else", "/%3Cscript%3Ealert(1)%3C/script%3E"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains("<title>Page not found") && page.contains("<h1>Page not found</h1>"), "{page}");
        assert!(page.contains(r#"<a href="/">Go to the home page</a>"#), "{page}");
        assert!(!page.contains("script%3E") && !page.contains("<script>alert"), "the address is not repeated: {page}");
    }
    let posted = app.post_body("/no-such-form", "application/x-www-form-urlencoded", "a=b").send().await.unwrap();
    assert_eq!(posted.status(), 404, "a form posted nowhere is not found either");
    assert_eq!(app.get("/assets/no-such-file.css").await.status(), 404);
}
