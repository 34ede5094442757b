//! Logging in and out, sessions, API tokens, throttling, CSRF and security headers, over real
//! HTTP against a server on port 0.

use std::time::Duration;

use heard_access::Role;
use heard_tests::{PASSWORD, answer_json, error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const ME: &str = "{ me { id displayName email roles hubs { id name } } }";

/// The `Set-Cookie` header that sets the session cookie, with its attributes.
fn session_cookie(response: &reqwest::Response) -> String {
    let mut cookies = response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned());
    cookies.find(|c| c.starts_with("heard_session=")).expect("a session cookie")
}

async fn raw_login(app: &heard_tests::TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/graphql"))
        .json(&json!({
            "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { csrfToken expiresAt user { email } } }",
            "variables": { "e": email, "p": password },
        }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn login_sets_a_signed_http_only_same_site_cookie_and_me_answers_with_it() {
    let app = spawn_app().await;
    app.create_user("sam@example.org", &[Role::HubCoordinator], &["arun"]).await;

    let response = raw_login(&app, "  Sam@Example.org ", PASSWORD).await;
    let session = session_cookie(&response);
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"),
        "{session}"
    );
    let value = session.split(';').next().unwrap().trim_start_matches("heard_session=");
    assert_eq!(value.split('.').count(), 3, "the cookie is id.secret.signature: {value}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["login"]["user"]["email"], "sam@example.org");

    let me = app.login("sam@example.org").await.graphql(ME, json!({})).await;
    assert_eq!(me["data"]["me"]["roles"], json!(["HUB_COORDINATOR"]));
    assert_eq!(me["data"]["me"]["hubs"], json!([{ "id": "arun", "name": "Arun" }]));
}

#[tokio::test]
async fn a_tampered_session_cookie_is_not_accepted() {
    let app = spawn_app().await;
    app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    let response = raw_login(&app, "sam@example.org", PASSWORD).await;
    let session = session_cookie(&response);
    let value = session.split(';').next().unwrap().to_owned();
    let csrf: Value = response.json().await.unwrap();
    let csrf = csrf["data"]["login"]["csrfToken"].as_str().unwrap().to_owned();
    let tampered = format!("{}x", value);
    let request = app.client.post(app.url("/graphql")).header("cookie", tampered).header("x-csrf-token", csrf);
    let body = answer_json(request.json(&json!({ "query": ME }))).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn logout_ends_the_session_and_its_cookie_stops_working() {
    let app = spawn_app().await;
    app.create_user("sam@example.org", &[Role::Advocate], &[]).await;
    let session = app.login("sam@example.org").await;
    assert!(session.graphql(ME, json!({})).await["data"]["me"]["id"].is_string());

    // Keep a copy of the cookie, as an attacker who copied it would.
    let logout = session.graphql("mutation { logout }", json!({})).await;
    assert_eq!(logout["data"]["logout"], true, "{logout}");
    let after = session.graphql(ME, json!({})).await;
    assert_eq!(error_code(&after), Some("UNAUTHENTICATED"), "{after}");
}

#[tokio::test]
async fn a_session_expires_after_its_configured_lifetime() {
    let app = spawn_app_with(|settings| settings.auth.session_lifetime = "30m".into()).await;
    app.create_user("sam@example.org", &[Role::Commissioner], &[]).await;
    let session = app.login("sam@example.org").await;
    app.identity.advance_clock(Duration::from_secs(29 * 60));
    assert!(session.graphql(ME, json!({})).await["data"]["me"]["id"].is_string(), "still live after 29 minutes");
    app.identity.advance_clock(Duration::from_secs(2 * 60));
    let after = session.graphql(ME, json!({})).await;
    assert_eq!(error_code(&after), Some("UNAUTHENTICATED"), "{after}");
}

#[tokio::test]
async fn an_administrator_can_revoke_someone_elses_session_and_it_stops_working_at_once() {
    let app = spawn_app().await;
    let admin = app.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    let sam = app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    let sams = app.login("sam@example.org").await;
    let token = app.token_for(admin).await;

    let sessions = app
        .graphql_as(
            &token,
            "query($u: ID!) { sessions(userId: $u) { edges { node { id active } } } }",
            json!({ "u": sam }),
        )
        .await;
    let id = sessions["data"]["sessions"]["edges"][0]["node"]["id"].as_str().unwrap().to_owned();
    let revoked = app
        .graphql_as(&token, "mutation($id: ID!) { revokeSession(id: $id) { active endedAt } }", json!({ "id": id }))
        .await;
    assert_eq!(revoked["data"]["revokeSession"]["active"], false, "{revoked}");
    assert_eq!(error_code(&sams.graphql(ME, json!({})).await), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn an_api_token_works_until_it_is_revoked_and_only_its_hash_is_kept() {
    let app = spawn_app().await;
    app.create_user("sam@example.org", &[Role::ComplaintsHandler], &[]).await;
    let session = app.login("sam@example.org").await;
    let created = session
        .graphql(
            "mutation { createApiToken(label: \"CRM export\") { secret token { id label revokedAt } } }",
            json!({}),
        )
        .await;
    let secret = created["data"]["createApiToken"]["secret"].as_str().expect("the secret is shown once").to_owned();
    let id = created["data"]["createApiToken"]["token"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("heard_"));

    let me = app.graphql_as(&secret, ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "sam@example.org", "{me}");
    let listed = session.graphql("{ apiTokens { edges { node { label } } } }", json!({})).await;
    assert_eq!(listed["data"]["apiTokens"]["edges"][0]["node"]["label"], "CRM export");

    // The secret is nowhere in the log, not even encrypted.
    let mut everything = String::new();
    for event in app.store.read_all_raw(1, 100_000).await.unwrap() {
        everything.push_str(&String::from_utf8_lossy(&event.data));
    }
    assert!(!everything.contains(&secret), "the token secret was stored");

    let revoked =
        session.graphql("mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }", json!({ "id": id })).await;
    assert!(revoked["data"]["revokeApiToken"]["revokedAt"].is_string(), "{revoked}");
    let refused =
        app.client.post(app.url("/graphql")).bearer_auth(&secret).json(&json!({ "query": ME })).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn five_failed_logins_lock_the_account_and_administrators_see_and_lift_the_lockout() {
    let app = spawn_app().await;
    let admin = app.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    let sam = app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    for attempt in 1..=4 {
        let refused = app.try_login("sam@example.org", "not the password").await.err().unwrap();
        assert_eq!(error_code(&refused), Some("UNAUTHENTICATED"), "attempt {attempt}: {refused}");
        assert!(refused["errors"][0]["message"].as_str().unwrap().contains("not right"), "{refused}");
    }
    let fifth = app.try_login("sam@example.org", "not the password").await.err().unwrap();
    assert!(fifth["errors"][0]["message"].as_str().unwrap().contains("locked"), "{fifth}");
    let right_password =
        app.try_login("sam@example.org", PASSWORD).await.err().expect("locked out even with the right password");
    assert!(right_password["errors"][0]["message"].as_str().unwrap().contains("locked"));

    let token = app.token_for(admin).await;
    let seen = app.graphql_as(&token, "query($u: ID!) { user(id: $u) { lockedUntil } }", json!({ "u": sam })).await;
    assert!(seen["data"]["user"]["lockedUntil"].is_string(), "administrators see the lockout: {seen}");
    let unlocked =
        app.graphql_as(&token, "mutation($u: ID!) { unlockUser(id: $u) { lockedUntil } }", json!({ "u": sam })).await;
    assert!(unlocked["data"]["unlockUser"]["lockedUntil"].is_null(), "{unlocked}");
    assert!(app.try_login("sam@example.org", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn an_email_without_an_account_gets_the_same_answers_as_one_with_an_account() {
    let app = spawn_app().await;
    app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    for attempt in 1..=5 {
        let real = app.try_login("sam@example.org", "wrong password 1").await.err().unwrap();
        let ghost = app.try_login("nobody@example.org", "wrong password 1").await.err().unwrap();
        let words = |v: &Value| v["errors"][0]["message"].as_str().unwrap().split(" after ").next().unwrap().to_owned();
        assert_eq!(words(&real), words(&ghost), "attempt {attempt}");
        assert_eq!(error_code(&real), error_code(&ghost));
    }
}

#[tokio::test]
async fn too_many_failures_from_one_address_are_refused_for_a_while() {
    let app = spawn_app_with(|settings| settings.auth.max_failures_per_ip = 3).await;
    app.create_user("sam@example.org", &[Role::HubMember], &["arun"]).await;
    for email in ["a@example.org", "b@example.org", "c@example.org"] {
        app.try_login(email, "guess guess guess").await.err().unwrap();
    }
    let refused = app.try_login("sam@example.org", PASSWORD).await.err().expect("the address is throttled");
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("too many failed logins from this network"));
}

#[tokio::test]
async fn a_request_with_the_session_cookie_but_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    let session = app.login("admin@example.org").await;
    let create = json!({
        "query": "mutation { createUser(input: { email: \"x@example.org\", displayName: \"X\", roles: [ADVOCATE] }) { user { id } } }"
    });
    for csrf in [None, Some("wrong-token")] {
        let mut request = session.client.post(app.url("/graphql")).json(&create);
        if let Some(csrf) = csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 403, "csrf {csrf:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), Some("FORBIDDEN"));
    }
    let users = session.graphql("{ users { edges { node { email } } } }", json!({})).await;
    assert_eq!(users["data"]["users"]["edges"].as_array().unwrap().len(), 1, "nothing was created: {users}");
    // With the token it works.
    let created = session.graphql(create["query"].as_str().unwrap(), json!({})).await;
    assert!(created["data"]["createUser"]["user"]["id"].is_string(), "{created}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/healthz", "/graphql", "/metrics", "/no-such-page"] {
        let response = app.get(path).await;
        let headers = response.headers();
        for (name, expected) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
            ("cross-origin-opener-policy", "same-origin"),
        ] {
            assert_eq!(headers.get(name).map(|v| v.to_str().unwrap()), Some(expected), "{path} {name}");
        }
        let csp = headers.get("content-security-policy").expect("a CSP").to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
}

#[tokio::test]
async fn the_exact_hubs_the_forum_and_some_providers_are_there_from_the_start() {
    let app = spawn_app().await;
    let body = app.graphql("{ hubs { edges { node { id name kind } } } providers(first: 3) { edges { node { id } } pageInfo { hasNextPage } } }", json!({})).await;
    let names: Vec<&str> =
        body["data"]["hubs"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["name"].as_str().unwrap()).collect();
    for hub in ["Adur & Worthing", "Arun", "Chichester", "Crawley", "Horsham", "Mid-Sussex", "West Sussex Forum"] {
        assert!(names.contains(&hub), "{hub} missing from {names:?}");
    }
    assert_eq!(body["data"]["providers"]["edges"].as_array().unwrap().len(), 3);
    assert_eq!(body["data"]["providers"]["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn accounts_sessions_and_hubs_survive_a_restart() {
    let app = spawn_app().await;
    app.create_user("sam@example.org", &[Role::HubCoordinator], &["crawley"]).await;
    let data_dir = app.shutdown().await;
    let app = heard_tests::spawn_app_in(data_dir, |_| {}).await;
    let me = app.login("sam@example.org").await.graphql(ME, json!({})).await;
    assert_eq!(me["data"]["me"]["hubs"][0]["id"], "crawley", "{me}");
    let hubs = app.graphql("{ hubs { edges { node { id } } } }", json!({})).await;
    assert_eq!(hubs["data"]["hubs"]["edges"].as_array().unwrap().len(), 7, "seeding twice adds nothing");
}

const DEACTIVATE: &str = "mutation($id: ID!) { deactivateUser(id: $id) { id deactivatedAt } }";
const REACTIVATE: &str = "mutation($id: ID!) { reactivateUser(id: $id) { id deactivatedAt } }";
const RESET: &str = "mutation($id: ID!) { resetUserPassword(id: $id) { oneTimePassword user { mustChangePassword } } }";

#[tokio::test]
async fn a_deactivated_account_is_refused_its_next_request_by_cookie_or_token_cannot_log_in_and_can_be_reactivated() {
    let app = spawn_app().await;
    let admin = app.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    let sam = app.create_user("sam@example.org", &[Role::HubCoordinator], &["arun"]).await;
    let admin_token = app.token_for(admin).await;
    let cookie = app.login("sam@example.org").await;
    let token = app.token_for(sam).await;
    assert!(cookie.graphql(ME, json!({})).await["data"]["me"]["id"].is_string());
    assert!(app.graphql_as(&token, ME, json!({})).await["data"]["me"]["id"].is_string());

    let deactivated = app.graphql_as(&admin_token, DEACTIVATE, json!({ "id": sam })).await;
    assert!(deactivated["data"]["deactivateUser"]["deactivatedAt"].is_string(), "{deactivated}");
    // The very next request with the old cookie or token gets nothing.
    assert_eq!(error_code(&cookie.graphql(ME, json!({})).await), Some("UNAUTHENTICATED"));
    let by_token = app.client.post(app.url("/graphql")).bearer_auth(&token).json(&json!({ "query": ME }));
    let by_token = by_token.send().await.unwrap();
    assert_eq!(by_token.status(), 401, "a revoked token is refused");
    // The right password no longer logs in, and says why; a wrong one says only that it is wrong.
    let refused = app.try_login("sam@example.org", PASSWORD).await.err().expect("the login is refused");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("deactivated"), "{refused}");
    let wrong = app.try_login("sam@example.org", "not the password at all").await.err().unwrap();
    assert!(!wrong.to_string().contains("deactivated"), "a wrong password learns nothing of it: {wrong}");
    // Its sessions and tokens show as ended.
    let sessions = app
        .graphql_as(
            &admin_token,
            "query($u: ID!) { sessions(userId: $u) { edges { node { active } } } apiTokens(userId: $u) { edges { node { revokedAt } } } }",
            json!({ "u": sam }),
        )
        .await;
    assert_eq!(sessions["data"]["sessions"]["edges"][0]["node"]["active"], false, "{sessions}");
    assert!(sessions["data"]["apiTokens"]["edges"][0]["node"]["revokedAt"].is_string(), "{sessions}");
    let no_new_token = app
        .graphql_as(
            &admin_token,
            "mutation($u: ID!) { createApiToken(label: \"again\", userId: $u) { secret } }",
            json!({ "u": sam }),
        )
        .await;
    assert_eq!(error_code(&no_new_token), Some("CONFLICT"), "{no_new_token}");

    let reactivated = app.graphql_as(&admin_token, REACTIVATE, json!({ "id": sam })).await;
    assert_eq!(reactivated["data"]["reactivateUser"]["deactivatedAt"], Value::Null, "{reactivated}");
    let again = app.login("sam@example.org").await;
    assert!(again.graphql(ME, json!({})).await["data"]["me"]["id"].is_string(), "the password they had works");
    assert_eq!(error_code(&cookie.graphql(ME, json!({})).await), Some("UNAUTHENTICATED"), "old sessions stay ended");
    assert_eq!(
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": ME }))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "old tokens stay revoked"
    );
}

#[tokio::test]
async fn an_administrator_cannot_deactivate_or_reset_their_own_account_and_the_refusal_names_the_field() {
    let app = spawn_app().await;
    let admin = app.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    let session = app.login("admin@example.org").await;
    for query in [DEACTIVATE, RESET] {
        let refused = session.graphql(query, json!({ "id": admin })).await;
        assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], "id", "{refused}");
    }
    assert!(session.graphql(ME, json!({})).await["data"]["me"]["id"].is_string(), "still logged in");
}

#[tokio::test]
async fn a_reset_password_is_given_once_logs_the_person_out_and_must_be_changed_at_their_next_login() {
    let app = spawn_app().await;
    let admin = app.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    let sam = app.create_user("sam@example.org", &[Role::Advocate], &[]).await;
    let admin_token = app.token_for(admin).await;
    let before = app.login("sam@example.org").await;

    let reset = app.graphql_as(&admin_token, RESET, json!({ "id": sam })).await;
    let password = reset["data"]["resetUserPassword"]["oneTimePassword"].as_str().expect("a new password").to_owned();
    assert_eq!(reset["data"]["resetUserPassword"]["user"]["mustChangePassword"], true, "{reset}");
    assert_eq!(error_code(&before.graphql(ME, json!({})).await), Some("UNAUTHENTICATED"), "logged out");
    assert!(app.try_login("sam@example.org", PASSWORD).await.is_err(), "the old password no longer works");
    let after = app.try_login("sam@example.org", &password).await.expect("the one-time password logs in");
    let cases = after.graphql("{ cases { edges { node { id } } } }", json!({})).await;
    assert_eq!(error_code(&cases), Some("PASSWORD_CHANGE_REQUIRED"), "{cases}");
    after.change_password(&password, "sam's own new passphrase").await;
    let events = app.store.read_all(1, 10_000).await.unwrap();
    let stored: Vec<String> = events.iter().map(|event| String::from_utf8_lossy(&event.data).into_owned()).collect();
    assert!(stored.iter().all(|data| !data.contains(&password)), "the password itself is never in the log");
}

#[tokio::test]
async fn a_deactivated_advocate_or_coordinator_is_no_longer_anyone_to_hand_work_to() {
    let app = spawn_app().await;
    let admin = app.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    let advocate = app.create_user("bea@example.org", &[Role::Advocate], &[]).await;
    let coordinator = app.create_user("cal@example.org", &[Role::HubCoordinator], &["arun"]).await;
    app.create_user("other@example.org", &[Role::Advocate], &[]).await;
    app.create_user("member@example.org", &[Role::HubMember], &["arun"]).await;
    let admin_token = app.token_for(admin).await;
    let colleague = app.login("other@example.org").await;
    let member = app.login("member@example.org").await;
    let directory = "{ advocates { id } }";
    let coordinators = "{ hubCoordinators(hub: \"arun\") }";
    let listed = colleague.graphql(directory, json!({})).await.to_string();
    assert!(listed.contains(&advocate.to_string()), "{listed}");
    assert!(member.graphql(coordinators, json!({})).await.to_string().contains(&coordinator.to_string()));

    for id in [advocate, coordinator] {
        let done = app.graphql_as(&admin_token, DEACTIVATE, json!({ "id": id })).await;
        assert!(done["data"]["deactivateUser"].is_object(), "{done}");
    }
    app.settled().await;
    let listed = colleague.graphql(directory, json!({})).await;
    assert!(!listed.to_string().contains(&advocate.to_string()), "the advocate left the directory: {listed}");
    let listed = member.graphql(coordinators, json!({})).await;
    assert_eq!(listed["data"]["hubCoordinators"], json!([]), "nobody to route a disclosure to: {listed}");
    let admins = app.graphql_as(&admin_token, "{ users { edges { node { id deactivatedAt } } } }", json!({})).await;
    let shown = admins["data"]["users"]["edges"].as_array().unwrap();
    let bea =
        shown.iter().find(|edge| edge["node"]["id"] == advocate.to_string()).expect("administrators still see it");
    assert!(bea["node"]["deactivatedAt"].is_string());

    app.graphql_as(&admin_token, REACTIVATE, json!({ "id": advocate })).await;
    app.settled().await;
    let listed = colleague.graphql(directory, json!({})).await;
    assert!(listed.to_string().contains(&advocate.to_string()), "back once reactivated: {listed}");
}

/// Opens a graphql-transport-ws socket authenticated by `init` (or by `cookie`), and subscribes
/// to the feedback logged at Arun.
async fn feedback_socket(
    app: &heard_tests::TestApp,
    cookie: Option<&str>,
    init: Value,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    if let Some(cookie) = cookie {
        request.headers_mut().insert("Cookie", cookie.parse().unwrap());
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("the websocket connects");
    socket.send(Message::text(json!({ "type": "connection_init", "payload": init }).to_string())).await.unwrap();
    let ack = socket.next().await.unwrap().unwrap();
    assert!(ack.to_string().contains("connection_ack"), "{ack}");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { feedbackLogged(hub: \"arun\") { text } }" } });
    socket.send(Message::text(subscribe.to_string())).await.unwrap();
    socket
}

/// Reads the socket until the server closes it; returns the close code, and every text message
/// that came first.
async fn until_closed(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> (Option<u16>, Vec<String>) {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let mut heard = Vec::new();
    loop {
        let next =
            tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("the server closes the socket");
        match next {
            Some(Ok(Message::Close(frame))) => return (frame.map(|frame| u16::from(frame.code)), heard),
            Some(Ok(Message::Text(text))) => heard.push(text.to_string()),
            Some(Ok(_)) => {}
            None | Some(Err(_)) => return (None, heard),
        }
    }
}

#[tokio::test]
async fn an_open_subscription_of_a_deactivated_account_is_closed_and_hears_nothing_more_by_token_or_cookie() {
    let app = spawn_app().await;
    let admin = app.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    let sam = app.create_user("sam@example.org", &[Role::HubCoordinator], &["arun"]).await;
    app.create_user("member@example.org", &[Role::HubMember], &["arun"]).await;
    let admin_token = app.token_for(admin).await;
    let token = app.token_for(sam).await;
    let response = raw_login(&app, "sam@example.org", PASSWORD).await;
    let cookie = session_cookie(&response).split(';').next().unwrap().to_owned();
    let mut by_token = feedback_socket(&app, None, json!({ "authorization": format!("Bearer {token}") })).await;
    let mut by_cookie = feedback_socket(&app, Some(&cookie), json!({})).await;
    let listening = tokio::time::timeout(Duration::from_secs(10), async {
        while app.feedback.subscribers() < 2 {
            tokio::task::yield_now().await;
        }
    });
    assert!(listening.await.is_ok(), "the subscriptions did not start");

    let done = app.graphql_as(&admin_token, DEACTIVATE, json!({ "id": sam })).await;
    assert!(done["data"]["deactivateUser"].is_object(), "{done}");
    // Someone logs feedback after the deactivation: it must reach neither socket.
    let member = app.login("member@example.org").await;
    member
        .log_feedback(json!({ "hub": "arun", "text": "The evening group was cancelled again", "channel": "FORUM",
                            "speaker": "ANONYMOUS", "consent": "COMMISSIONERS", "saidOn": "2026-11-02" }))
        .await;
    for socket in [&mut by_token, &mut by_cookie] {
        let (code, heard) = until_closed(socket).await;
        assert_eq!(code, Some(4403), "closed as forbidden");
        assert!(heard.iter().all(|text| !text.contains("evening group")), "it heard nothing more: {heard:?}");
    }
}
