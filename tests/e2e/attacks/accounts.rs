//! Deactivating accounts and resetting passwords, attacked. Someone who is not an administrator
//! cannot do either, by GraphQL or by posting the form; a deactivation form posted from
//! another site, with a made-up or borrowed token, or replayed after the administrator logged
//! out, changes nothing; and whoever still holds a deactivated account's cookie gets nothing
//! from the web UI or GraphQL.

use heard_access::Role;
use heard_tests::{PASSWORD, TestApp, error_code, spawn_app, staff};
use serde_json::json;

const DEACTIVATE: &str = "mutation($id: ID!) { deactivateUser(id: $id) { id } }";

/// What was appended to the log since `position`, other than access records.
async fn changes_since(app: &TestApp, position: u64) -> Vec<String> {
    app.settled().await;
    let appended = app.store.read_all(position + 1, 10_000).await.expect("the log reads");
    appended
        .iter()
        .filter(|event| event.stream.category() != "access")
        .map(|event| format!("{} {}", event.stream.category(), event.event_type))
        .collect()
}

#[tokio::test]
async fn someone_who_is_not_an_administrator_cannot_deactivate_reactivate_or_reset_anyone_by_graphql_or_form() {
    let staff = staff().await;
    let app = &staff.app;
    let sam = app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    let before = app.store.head().position;
    let nosy = [&staff.member, &staff.coordinator, &staff.handler, &staff.commissioner, &staff.advocate];
    for session in nosy {
        for mutation in [
            DEACTIVATE,
            "mutation($id: ID!) { reactivateUser(id: $id) { id } }",
            "mutation($id: ID!) { resetUserPassword(id: $id) { oneTimePassword } }",
        ] {
            let refused = session.graphql(mutation, json!({ "id": sam })).await;
            assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
            assert!(!refused.to_string().contains("oneTimePassword\":\""), "no password is given: {refused}");
        }
        let page = session.client.get(app.url(&format!("/admin/users/{sam}/deactivate"))).send().await.unwrap();
        assert_eq!(page.status(), 403, "the check page is for administrators");
        for step in ["deactivate", "reset-password", "reactivate"] {
            let posted = session.post_form(&format!("/admin/users/{sam}/{step}"), &[]).await;
            assert_eq!(posted.status(), 403, "{step} is refused");
            let body = posted.text().await.unwrap();
            assert!(body.contains("This page is for administrators"), "{body}");
        }
    }
    assert_eq!(changes_since(app, before).await, Vec::<String>::new(), "nothing but access records was appended");
    assert!(app.try_login("sam@example.org", PASSWORD).await.is_ok(), "sam's account still works");
}

/// A client that does not follow redirects and keeps no cookies: it sends exactly the headers
/// it is given, as a replayed or forged request would.
fn raw() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The administrator's session cookie and CSRF token, logged in over GraphQL.
async fn cookie_and_token(app: &TestApp, email: &str) -> (String, String) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({
            "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { csrfToken } }",
            "variables": { "e": email, "p": PASSWORD },
        }))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let body: serde_json::Value = response.json().await.unwrap();
    (cookies.join("; "), body["data"]["login"]["csrfToken"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_deactivation_form_from_another_site_with_a_borrowed_token_or_replayed_after_logging_out_changes_nothing() {
    let app = spawn_app().await;
    app.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    app.create_user("other.admin@example.org", &[Role::Administrator], &[]).await;
    let sam = app.create_user("sam@example.org", &[Role::Advocate], &[]).await;
    let (cookie, csrf) = cookie_and_token(&app, "admin@example.org").await;
    let (_, others_csrf) = cookie_and_token(&app, "other.admin@example.org").await;
    let before = app.store.head().position;
    let path = app.url(&format!("/admin/users/{sam}/deactivate"));
    let post = |cookie: &str, token: Option<&str>| {
        let form: Vec<(&str, &str)> = token.map(|token| vec![("csrf_token", token)]).unwrap_or_default();
        raw()
            .post(&path)
            .header("cookie", cookie)
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .form(&form)
    };
    // Another site cannot read the token, so it posts without one, or with one it made up, or
    // with another administrator's.
    for token in [None, Some("0000"), Some(others_csrf.as_str())] {
        let response = post(&cookie, token).send().await.unwrap();
        assert_eq!(response.status(), 403, "a form without this session's token is refused ({token:?})");
        assert!(response.text().await.unwrap().contains("This form has expired"));
    }
    // The administrator logs out; the same form, replayed with the old cookie and token, finds
    // no session and is sent to log in.
    let logout = raw().post(app.url("/logout")).header("cookie", &cookie).form(&[("csrf_token", csrf.as_str())]);
    assert_eq!(logout.send().await.unwrap().status(), 303);
    let replayed = post(&cookie, Some(&csrf)).send().await.unwrap();
    assert_eq!(replayed.status(), 303);
    assert_eq!(replayed.headers()["location"], "/login", "sent to log in, with nothing done");
    assert_eq!(changes_since(&app, before).await, vec!["session SessionEnded".to_owned()], "only the logout");
    assert!(app.try_login("sam@example.org", PASSWORD).await.is_ok(), "sam's account still works");
}

#[tokio::test]
async fn the_old_session_of_a_deactivated_account_gets_nothing_from_the_web_ui_or_graphql() {
    let staff = staff().await;
    let app = &staff.app;
    let sam = app.create_user("sam@example.org", &[Role::HubCoordinator], &["arun"]).await;
    let session = app.login("sam@example.org").await;
    let queue = session.client.get(app.url("/moderation")).send().await.unwrap();
    assert_eq!(queue.status(), 200, "the queue opens while the account is active");
    assert!(queue.url().path().starts_with("/moderation"));

    let done = staff.admin.graphql(DEACTIVATE, json!({ "id": sam })).await;
    assert!(done["data"]["deactivateUser"].is_object(), "{done}");
    let before = app.store.head().position;
    let queue = session.client.get(app.url("/moderation")).send().await.unwrap();
    assert_eq!(queue.url().path(), "/login", "sent to log in");
    let home = session.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("Hello") && home.contains("Log in"), "home is the public one: {home}");
    let posted = session
        .post_form(
            "/feedback/new",
            &[
                ("hub", "arun"),
                ("text", "Nobody answers the phone"),
                ("channel", "FORUM"),
                ("speaker", "ANONYMOUS"),
                ("consent", "HUB"),
            ],
        )
        .await;
    assert_eq!(posted.status(), 303);
    assert_eq!(posted.headers()["location"], "/login", "a form from the old page is sent to log in");
    let asked = session.graphql("{ moderationQueue(hub: \"arun\") { edges { node { id } } } }", json!({})).await;
    assert_eq!(error_code(&asked), Some("UNAUTHENTICATED"), "{asked}");
    assert_eq!(changes_since(app, before).await, Vec::<String>::new(), "nothing was recorded from the old session");
}
