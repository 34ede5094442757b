//! Session hygiene. Someone who learned a password (over a shoulder, from a reused password, or
//! from the administrator who set a one-time one) keeps no way in once it is changed; a
//! one-time password is changed before it opens anything; and over HTTPS no cookie or request
//! ever travels in clear.

use heard_access::Role;
use heard_identity::NewAccount;
use heard_identity::domain::SessionEndReason;
use heard_tests::{PASSWORD, TestApp, answer_json, error_code, page_with_status, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const CHANGE: &str = "mutation($c: String!, $n: String!, $r: Boolean!) { changePassword(currentPassword: $c, newPassword: $n, revokeApiTokens: $r) }";
const CHANGE_KEEPING_TOKENS: &str =
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
const NEW_PASSWORD: &str = "an entirely new passphrase";

/// An account made the way an administrator makes one: Heard chooses a one-time password.
async fn one_time_account(app: &TestApp, email: &str, roles: &[Role], hubs: &[&str]) -> (uuid::Uuid, String) {
    let new = NewAccount {
        email: email.into(),
        display_name: "New volunteer".into(),
        roles: roles.to_vec(),
        hubs: hubs.iter().map(|hub| hub.to_string()).collect(),
        provider: None,
        password: None,
    };
    let (account, one_time) = app.identity.create_account(None, new).await.expect("the account is created");
    (account.id, one_time.expect("a one-time password is made"))
}

fn refused_for_password(response: &Value) {
    assert_eq!(error_code(response), Some("PASSWORD_CHANGE_REQUIRED"), "{response}");
    assert_eq!(response["data"], Value::Null, "nothing is answered: {response}");
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("one-time password") && message.contains("changePassword"), "{message}");
}

#[tokio::test]
async fn changing_a_password_ends_every_other_session_and_keeps_this_one() {
    let app = spawn_app().await;
    let account = app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    let here = app.login("sam@example.org").await;
    let stolen = app.login("sam@example.org").await;
    let also_stolen = app.login("sam@example.org").await;
    let me = "{ me { id } }";
    assert!(stolen.graphql(me, json!({})).await["data"]["me"]["id"].is_string(), "the other session works at first");

    let changed = here.graphql(CHANGE, json!({ "c": PASSWORD, "n": NEW_PASSWORD, "r": false })).await;
    assert_eq!(changed["data"]["changePassword"], true, "{changed}");

    for other in [&stolen, &also_stolen] {
        let after = other.graphql(me, json!({})).await;
        assert_eq!(error_code(&after), Some("UNAUTHENTICATED"), "the other session is anonymous now: {after}");
        let page = other.client.get(app.url("/feedback/new")).send().await.unwrap();
        assert_eq!(page.url().path(), "/login", "and the web UI sends it to log in");
    }
    assert_eq!(here.graphql(me, json!({})).await["data"]["me"]["id"], account.to_string().as_str(), "this one stays");
    let ended: Vec<Option<SessionEndReason>> = app
        .identity
        .directory()
        .read(|state| state.sessions.values().filter(|s| s.account == account).map(|s| s.end_reason).collect());
    assert_eq!(ended.iter().filter(|r| **r == Some(SessionEndReason::PasswordChanged)).count(), 2, "{ended:?}");
    assert_eq!(ended.iter().filter(|r| r.is_none()).count(), 1, "{ended:?}");
    assert!(app.try_login("sam@example.org", PASSWORD).await.is_err(), "the old password opens nothing");
    assert!(app.try_login("sam@example.org", NEW_PASSWORD).await.is_ok());
}

#[tokio::test]
async fn changing_a_password_revokes_the_accounts_api_tokens_only_when_asked() {
    let app = spawn_app().await;
    let account = app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    let token = app.token_for(account).await;
    let other_account = app.create_user("alex@example.org", &[Role::HubMember], &["arun"]).await;
    let other_token = app.token_for(other_account).await;
    let session = app.login("sam@example.org").await;
    let me = "{ me { id } }";

    session.change_password(PASSWORD, NEW_PASSWORD).await;
    let still = app.graphql_as(&token, me, json!({})).await;
    assert_eq!(still["data"]["me"]["id"], account.to_string().as_str(), "not asked: the token still works: {still}");

    let revoked =
        session.graphql(CHANGE, json!({ "c": NEW_PASSWORD, "n": "a third long passphrase", "r": true })).await;
    assert_eq!(revoked["data"]["changePassword"], true, "{revoked}");
    let refused = app.graphql_as(&token, me, json!({})).await;
    assert_eq!(error_code(&refused), Some("UNAUTHENTICATED"), "asked: the token is revoked: {refused}");
    let listed = session.graphql("{ apiTokens { edges { node { revokedAt } } } }", json!({})).await;
    assert!(listed["data"]["apiTokens"]["edges"][0]["node"]["revokedAt"].is_string(), "{listed}");
    let theirs = app.graphql_as(&other_token, me, json!({})).await;
    assert_eq!(theirs["data"]["me"]["id"], other_account.to_string().as_str(), "nobody else's token: {theirs}");
    assert!(session.graphql(me, json!({})).await["data"]["me"]["id"].is_string(), "this session stays");
}

#[tokio::test]
async fn a_one_time_password_opens_nothing_but_changing_it_until_it_is_changed() {
    let app = spawn_app().await;
    let (account, one_time) = one_time_account(&app, "new@example.org", &[Role::HubMember], &["arun"]).await;
    let session = app.try_login("new@example.org", &one_time).await.expect("the one-time password logs in");
    let token = app.token_for(account).await;

    for query in [
        "{ searchFeedback(query: \"room\") { total } }",
        "{ hubs { edges { node { id } } } }",
        "{ me { id } hubs { edges { node { id } } } }",
        "query Hidden { ...Hubs } fragment Hubs on QueryRoot { hubs { edges { node { id } } } }",
        "{ ... on QueryRoot { storeStats { events } } }",
        "mutation { createApiToken(label: \"mine\") { secret } }",
        "mutation { logFeedback(input: { hub: \"arun\", text: \"More groups\", channel: FORUM, saidOn: \"2026-11-01\", speaker: ANONYMOUS, consent: HUB }) { id } }",
    ] {
        refused_for_password(&session.graphql(query, json!({})).await);
        refused_for_password(&app.graphql_as(&token, query, json!({})).await);
    }
    // Naming an allowed operation does not smuggle another one through.
    let named = json!({
        "query": "query Me { me { id } } query Hubs { hubs { edges { node { id } } } }",
        "operationName": "Hubs",
    });
    let request = session.client.post(app.url("/graphql")).header("X-CSRF-Token", &session.csrf_token);
    let response = answer_json(request.json(&named)).await;
    refused_for_password(&response);

    let me = session.graphql("{ me { mustChangePassword } __typename }", json!({})).await;
    assert_eq!(me["data"]["me"]["mustChangePassword"], true, "{me}");
    let schema = session.graphql("{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(schema["data"]["__schema"]["queryType"]["name"], "QueryRoot", "introspection works: {schema}");

    session.change_password(&one_time, NEW_PASSWORD).await;
    let hubs = session.graphql("{ hubs { edges { node { id } } } }", json!({})).await;
    assert!(hubs["errors"].is_null() && hubs["data"]["hubs"]["edges"][0]["node"]["id"].is_string(), "{hubs}");
    let search = app.graphql_as(&token, "{ searchFeedback(query: \"room\") { total } }", json!({})).await;
    assert!(search["errors"].is_null(), "and through the token too: {search}");
    let me = session.graphql("{ me { mustChangePassword } }", json!({})).await;
    assert_eq!(me["data"]["me"]["mustChangePassword"], false, "{me}");
}

#[tokio::test]
async fn a_one_time_password_cannot_be_kept_by_choosing_it_again() {
    let app = spawn_app().await;
    let (_, one_time) = one_time_account(&app, "new@example.org", &[Role::HubMember], &["arun"]).await;
    let session = app.try_login("new@example.org", &one_time).await.unwrap();
    let same = session.graphql(CHANGE_KEEPING_TOKENS, json!({ "c": one_time, "n": one_time })).await;
    assert_eq!(error_code(&same), Some("BAD_USER_INPUT"), "{same}");
    assert_eq!(same["errors"][0]["extensions"]["field"], "newPassword", "{same}");
    refused_for_password(&session.graphql("{ hubs { edges { node { id } } } }", json!({})).await);
}

/// The value of a hidden field `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no {name} in {page}")) + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_web_ui_sends_someone_with_a_one_time_password_to_change_it_and_the_form_works_without_javascript() {
    let app = spawn_app().await;
    let (_, one_time) = one_time_account(&app, "new@example.org", &[Role::HubCoordinator], &["arun"]).await;
    // A browser without JavaScript: plain form posts, cookies, redirects followed.
    let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let login_page = browser.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let token = hidden(&login_page, "login_token");
    let logged_in = browser
        .post(app.url("/login"))
        .form(&[("email", "new@example.org"), ("password", one_time.as_str()), ("login_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logged_in.url().path(), "/account/password", "the login lands on the change-password page");
    for path in ["/", "/feedback/new", "/moderation", "/search?q=room", "/reports", "/login"] {
        let page = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(page.url().path(), "/account/password", "{path} waits for the new password");
    }
    let before = app.store.head().position;
    let posted = browser
        .post(app.url("/feedback/new"))
        .form(&[("hub", "arun"), ("text", "More groups"), ("channel", "FORUM")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.url().path(), "/account/password", "a form posted elsewhere does nothing");
    assert_eq!(app.store.head().position, before, "nothing was appended");

    let page = browser.get(app.url("/account/password")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<h1>Change your password</h1>"), "{page}");
    assert!(page.contains("works only until you choose your own"), "{page}");
    for (id, label, autocomplete) in [
        ("current_password", "Your current password", "current-password"),
        ("new_password", "New password", "new-password"),
        ("confirm_password", "New password again", "new-password"),
    ] {
        assert!(page.contains(&format!("<label for=\"{id}\">{label}</label>")), "{id} is labelled: {page}");
        assert!(
            page.contains(&format!(
                "id=\"{id}\" name=\"{id}\" type=\"password\" value=\"\" autocomplete=\"{autocomplete}\""
            )),
            "{id}: {page}"
        );
    }
    assert!(page.contains("Also revoke my API tokens"), "{page}");
    assert!(!page.contains("Your tasks"), "no task menu leads elsewhere: {page}");
    let csrf = hidden(&page, "csrf_token");

    let form = |current: &str, new: &str, again: &str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("current_password", current.to_owned()),
            ("new_password", new.to_owned()),
            ("confirm_password", again.to_owned()),
        ]
    };
    let change_password = |form: Vec<(&str, String)>| browser.post(app.url("/account/password")).form(&form);
    let body = page_with_status(change_password(form(&one_time, NEW_PASSWORD, "something else")), 422).await;
    assert!(body.contains("There is a problem") && body.contains("href=\"#confirm_password\""), "{body}");
    assert!(
        body.contains("id=\"confirm_password-error\"") && body.contains("The two new passwords are not the same"),
        "{body}"
    );
    assert!(!body.contains(NEW_PASSWORD) && !body.contains(&one_time), "no password comes back in the page");

    let body = page_with_status(change_password(form("not my password", NEW_PASSWORD, NEW_PASSWORD)), 422).await;
    assert!(
        body.contains("id=\"current_password-error\"") && body.contains("This is not your current password"),
        "{body}"
    );

    let short = change_password(form(&one_time, "short", "short")).send().await.unwrap();
    let body = short.text().await.unwrap();
    assert!(body.contains("id=\"new_password-error\"") && body.contains("at least 12 characters"), "{body}");

    let expired = browser
        .post(app.url("/account/password"))
        .form(&[
            ("csrf_token", "forged"),
            ("current_password", &one_time),
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 403, "a form without the session's CSRF token changes nothing");

    let changed = change_password(form(&one_time, NEW_PASSWORD, NEW_PASSWORD)).send().await.unwrap();
    assert_eq!(changed.url().path(), "/account/password");
    assert_eq!(changed.url().query(), Some("done=changed"));
    let body = changed.text().await.unwrap();
    assert!(body.contains("Your password is changed"), "{body}");
    let home = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.url().path(), "/", "every page opens now");
    let home = home.text().await.unwrap();
    assert!(home.contains("Moderation") && home.contains("href=\"/account/password\""), "{home}");
    assert!(app.try_login("new@example.org", NEW_PASSWORD).await.is_ok());
}

#[tokio::test]
async fn every_signed_in_page_links_to_changing_the_password_and_the_form_can_revoke_api_tokens() {
    let app = spawn_app().await;
    let account = app.create_user("sam@example.org", &[Role::Commissioner], &[]).await;
    let token = app.token_for(account).await;
    let session = app.login("sam@example.org").await;
    for path in ["/", "/dashboard", "/decisions", "/reports"] {
        let page = session.client.get(app.url(path)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("<a href=\"/account/password\">Change your password</a>"), "{path}: {page}");
    }
    let page = session.client.get(app.url("/account/password")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("works only until you choose your own"), "no one-time notice: {page}");
    let changed = session
        .client
        .post(app.url("/account/password"))
        .form(&[
            ("csrf_token", session.csrf_token.as_str()),
            ("current_password", PASSWORD),
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
            ("revoke_api_tokens", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.url().query(), Some("done=changed-tokens-revoked"));
    assert!(changed.text().await.unwrap().contains("your API tokens are revoked"));
    let refused = app.graphql_as(&token, "{ me { id } }", json!({})).await;
    assert_eq!(error_code(&refused), Some("UNAUTHENTICATED"), "{refused}");
}

/// The `Set-Cookie` headers of a GraphQL login.
async fn login_cookies(app: &TestApp) -> Vec<String> {
    let response = reqwest::Client::new()
        .post(app.url("/graphql"))
        .json(&json!({
            "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { csrfToken } }",
            "variables": { "e": "sam@example.org", "p": PASSWORD },
        }))
        .send()
        .await
        .unwrap();
    response.headers().get_all("set-cookie").iter().map(|value| value.to_str().unwrap().to_owned()).collect()
}

/// The `Set-Cookie` headers of a login through the web form.
async fn web_login_cookies(app: &TestApp) -> Vec<String> {
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login_page = client.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    let token = hidden(&login_page, "login_token");
    let response = client
        .post(app.url("/login"))
        .form(&[("email", "sam@example.org"), ("password", PASSWORD), ("login_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "the web login redirects");
    response.headers().get_all("set-cookie").iter().map(|value| value.to_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn over_https_cookies_are_secure_and_every_response_carries_strict_transport_security() {
    let app = spawn_app_with(|settings| settings.auth.public_url = Some("https://heard.example.org".into())).await;
    app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    for cookies in [login_cookies(&app).await, web_login_cookies(&app).await] {
        assert_eq!(cookies.len(), 2, "{cookies:?}");
        for cookie in &cookies {
            assert!(cookie.ends_with("; Secure") || cookie.contains("; Secure;"), "{cookie}");
        }
    }
    for path in ["/healthz", "/graphql", "/login", "/", "/assets/heard.css", "/no-such-page"] {
        let response = app.get(path).await;
        let hsts = response.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(hsts.as_deref(), Some("max-age=31536000"), "{path}");
    }
}

#[tokio::test]
async fn over_plain_http_cookies_are_not_marked_secure_and_there_is_no_strict_transport_security() {
    for public_url in [None, Some("http://localhost:8080")] {
        let app = spawn_app_with(|settings| settings.auth.public_url = public_url.map(Into::into)).await;
        app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
        for cookies in [login_cookies(&app).await, web_login_cookies(&app).await] {
            assert_eq!(cookies.len(), 2, "{cookies:?}");
            assert!(cookies.iter().all(|cookie| !cookie.contains("Secure")), "{public_url:?}: {cookies:?}");
        }
        for path in ["/healthz", "/graphql", "/login"] {
            assert!(app.get(path).await.headers().get("strict-transport-security").is_none(), "{public_url:?} {path}");
        }
    }
}
