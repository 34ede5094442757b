//! Logging in: the web form is throttled by address exactly as GraphQL is, addresses behind a
//! trusted proxy are told apart, someone failing elsewhere cannot lock the owner out, and no
//! other site can sign a person into an account of its choosing.

use heard_access::Role;
use heard_tests::{PASSWORD, TestApp, error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The login form's token, from a fresh visit to `/login` (which also sets the visit cookie).
async fn login_token(app: &TestApp, browser: &reqwest::Client) -> String {
    let page = browser.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let start = page.find("name=\"login_token\" value=\"").expect("the form carries a login token") + 26;
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

/// Posts the web login form as a person would, after opening the page.
async fn web_login(app: &TestApp, browser: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
    let token = login_token(app, browser).await;
    browser
        .post(app.url("/login"))
        .form(&[("email", email), ("password", password), ("login_token", token.as_str())])
        .send()
        .await
        .unwrap()
}

fn sets_session(response: &reqwest::Response) -> bool {
    response.headers().get_all("set-cookie").iter().any(|value| {
        value.to_str().unwrap_or_default().starts_with("heard_session=")
            && !value.to_str().unwrap().contains("Max-Age=0")
    })
}

async fn graphql_login(app: &TestApp, email: &str, password: &str, forwarded_for: Option<&str>) -> Value {
    let mut request = app.client.post(app.url("/graphql")).json(&json!({
        "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { csrfToken } }",
        "variables": { "e": email, "p": password }
    }));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn the_web_login_form_is_throttled_by_address_like_graphql() {
    let app = spawn_app_with(|settings| settings.auth.max_failures_per_ip = 3).await;
    app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    let sprayer = browser();
    for email in ["a@example.org", "b@example.org", "c@example.org"] {
        let refused = web_login(&app, &sprayer, email, "guess guess guess").await;
        assert_eq!(refused.status(), 422);
    }
    let throttled = web_login(&app, &sprayer, "sam@example.org", PASSWORD).await;
    assert!(!sets_session(&throttled), "the address is throttled even with the right password");
    let page = throttled.text().await.unwrap();
    assert!(page.to_lowercase().contains("too many failed logins from this network"), "{page}");
    // The same address through GraphQL is throttled by the same count.
    let graphql = graphql_login(&app, "sam@example.org", PASSWORD, None).await;
    assert_eq!(error_code(&graphql), Some("FORBIDDEN"), "{graphql}");
}

#[tokio::test]
async fn a_forwarded_address_is_believed_only_from_a_trusted_proxy() {
    let app = spawn_app_with(|settings| settings.auth.max_failures_per_ip = 3).await;
    app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    // Without a trusted proxy, a made-up X-Forwarded-For does not escape the throttle.
    for (attempt, address) in ["203.0.113.1", "203.0.113.2", "203.0.113.3"].into_iter().enumerate() {
        let refused = graphql_login(&app, &format!("{attempt}@example.org"), "guess guess", Some(address)).await;
        assert_eq!(error_code(&refused), Some("UNAUTHENTICATED"));
    }
    let throttled = graphql_login(&app, "sam@example.org", PASSWORD, Some("198.51.100.4")).await;
    assert_eq!(error_code(&throttled), Some("FORBIDDEN"), "{throttled}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_one_persons_failures_do_not_throttle_everyone_else() {
    let app = spawn_app_with(|settings| {
        settings.auth.max_failures_per_ip = 3;
        settings.http.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    for email in ["a@example.org", "b@example.org", "c@example.org", "d@example.org"] {
        graphql_login(&app, email, "guess guess", Some("203.0.113.9")).await;
    }
    let attacker = graphql_login(&app, "sam@example.org", PASSWORD, Some("203.0.113.9")).await;
    assert_eq!(error_code(&attacker), Some("FORBIDDEN"), "the sprayer's own address waits: {attacker}");
    let owner = graphql_login(&app, "sam@example.org", PASSWORD, Some("198.51.100.4")).await;
    assert!(owner["errors"].is_null(), "everyone else behind the proxy still logs in: {owner}");
}

#[tokio::test]
async fn someone_failing_from_elsewhere_cannot_lock_the_owner_out_and_waits_grow() {
    let app = spawn_app_with(|settings| settings.http.trusted_proxies = vec!["127.0.0.1".into()]).await;
    app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    let mut messages = Vec::new();
    for _ in 0..7 {
        let refused = graphql_login(&app, "sam@example.org", "not the password", Some("203.0.113.9")).await;
        messages.push(refused["errors"][0]["message"].as_str().unwrap().to_owned());
    }
    assert!(messages[..4].iter().all(|m| m.contains("not right")), "{messages:?}");
    assert!(messages[4].contains("locked"), "the fifth failure makes that address wait: {messages:?}");
    assert!(messages[5].contains("locked"), "and it waits without its guess being checked: {messages:?}");
    let right_from_there = graphql_login(&app, "sam@example.org", PASSWORD, Some("203.0.113.9")).await;
    assert!(right_from_there["errors"][0]["message"].as_str().unwrap().contains("locked"));
    let owner = graphql_login(&app, "sam@example.org", PASSWORD, Some("198.51.100.4")).await;
    assert!(owner["errors"].is_null(), "the owner at their own address is not locked out: {owner}");
}

#[tokio::test]
async fn a_login_form_posted_from_another_site_signs_nobody_in() {
    let app = spawn_app().await;
    app.create_user("attacker@example.org", &[Role::HubMember], &["arun"]).await;
    let victim = browser();
    // The attacker's page posts the form with the attacker's credentials and no token.
    let forged = victim
        .post(app.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[("email", "attacker@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(!sets_session(&forged), "no session was started");
    // Even with a token the attacker got from their own visit, the victim's browser has no
    // matching visit cookie.
    let attacker = browser();
    let token = login_token(&app, &attacker).await;
    let replayed = victim
        .post(app.url("/login"))
        .form(&[("email", "attacker@example.org"), ("password", PASSWORD), ("login_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 403);
    assert!(!sets_session(&replayed));
    // A browser saying the post came from another site is refused even with a good token.
    let token = login_token(&app, &victim).await;
    let cross_site = victim
        .post(app.url("/login"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", "attacker@example.org"), ("password", PASSWORD), ("login_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    // The person's own visit to the login page works.
    let own = web_login(&app, &victim, "attacker@example.org", PASSWORD).await;
    assert_eq!(own.status(), 303, "{:?}", own.headers());
    assert!(sets_session(&own));
}

#[tokio::test]
async fn a_graphql_login_from_another_sites_page_is_refused() {
    let app = spawn_app().await;
    app.create_user("attacker@example.org", &[Role::HubMember], &["arun"]).await;
    let forged = app
        .client
        .post(app.url("/graphql"))
        .header("origin", "https://evil.example")
        .json(&json!({ "query": format!("mutation {{ login(email: \"attacker@example.org\", password: \"{PASSWORD}\") {{ csrfToken }} }}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(!sets_session(&forged));
}

#[tokio::test]
async fn logging_in_returns_the_person_to_the_page_they_asked_for_and_never_to_another_site() {
    let app = spawn_app().await;
    app.create_user("advocate@example.org", &[Role::Advocate], &[]).await;
    let visitor = browser();
    let asked = visitor.get(app.url("/cases?show=closed")).send().await.unwrap();
    assert_eq!(asked.status(), 303, "someone not logged in is sent to log in");
    assert_eq!(asked.headers()["location"], "/login?next=%2Fcases%3Fshow%3Dclosed", "saying where they were going");
    let page = visitor.get(app.url("/login?next=%2Fcases%3Fshow%3Dclosed")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"name="next" value="/cases?show=closed""#), "the form carries it: {page}");
    let start = page.find("name=\"login_token\" value=\"").unwrap() + 26;
    let token = page[start..start + page[start..].find('"').unwrap()].to_owned();
    let logged_in = visitor
        .post(app.url("/login"))
        .form(&[
            ("email", "advocate@example.org"),
            ("password", PASSWORD),
            ("login_token", &token),
            ("next", "/cases?show=closed"),
        ])
        .send()
        .await
        .unwrap();
    assert!(sets_session(&logged_in));
    assert_eq!(logged_in.headers()["location"], "/cases?show=closed", "back to the page they asked for");

    for elsewhere in
        ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil.example", "/ok\r\nSet-Cookie: x=y"]
    {
        let person = browser();
        let page =
            person.get(app.url("/login")).query(&[("next", elsewhere)]).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("name=\"next\""), "{elsewhere:?} is not carried: {page}");
        let token = login_token(&app, &person).await;
        let response = person
            .post(app.url("/login"))
            .form(&[
                ("email", "advocate@example.org"),
                ("password", PASSWORD),
                ("login_token", &token),
                ("next", elsewhere),
            ])
            .send()
            .await
            .unwrap();
        assert!(sets_session(&response), "{elsewhere:?}");
        assert_eq!(response.headers()["location"], "/", "{elsewhere:?} leads home, not away");
    }
}
