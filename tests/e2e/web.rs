//! The web UI to a nosy account, over real HTTP: each page is for the roles whose work it is.
//! Anyone else gets a plain "this page is for …" (403) carrying none of the page's content or
//! forms, and a form posted anyway changes nothing. (The journeys themselves run in a real
//! browser: `browser.rs`.)

use heard_tests::{TestApp, spawn_app};
use serde_json::json;

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
        (
            "admin",
            &[
                "/dashboard",
                "/shared",
                "/decisions/new",
                "/cases",
                "/report-back",
                "/search",
                "/search/download",
                "/safeguarding",
            ],
        ),
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

/// The text of the page at `path`, as `session` sees it.
async fn page_of(session: &heard_tests::Session, app: &TestApp, path: &str) -> String {
    let response = session.client.get(app.url(path)).send().await.unwrap();
    response.text().await.unwrap()
}

/// The one-time secret a page shows (`<code class="secret">…</code>`), if any.
fn secret_on(page: &str) -> Option<String> {
    let start = page.find(r#"<code class="secret">"#)? + r#"<code class="secret">"#.len();
    Some(page[start..].split('<').next()?.to_owned())
}

#[tokio::test]
async fn every_form_an_administrator_posts_answers_303_and_a_refresh_never_adds_the_account_again_nor_shows_its_password_twice()
 {
    let app = spawn_app().await;
    let [(_, admin)] = app.people(["admin"]).await;

    let added = admin
        .submit_form(
            "/admin/users",
            &[
                ("display_name", "New volunteer"),
                ("email", "volunteer@example.org"),
                ("roles", "HUB_MEMBER"),
                ("hubs", "arun"),
            ],
        )
        .await;
    assert!(added.starts_with("/admin/users/") && added.ends_with("?done=account-added"), "{added}");
    assert!(!added.contains("secret") && !added.contains("password"), "no secret in the address: {added}");
    let page = page_of(&admin, &app, &added).await;
    let password = secret_on(&page).expect("the one-time password is shown");
    assert_eq!(page.matches(r#"class="secret""#).count(), 1, "once");
    // A refresh shows the page again: the account is not made twice, and the password is gone.
    let refreshed = page_of(&admin, &app, &added).await;
    assert_eq!(secret_on(&refreshed), None, "the password is shown only once");
    assert!(refreshed.contains("was shown once") && !refreshed.contains("already exists"), "{refreshed}");
    let volunteer = app.try_login("volunteer@example.org", &password).await.expect("the shown password works");
    let id = added.trim_start_matches("/admin/users/").split('?').next().unwrap().to_owned();
    let person = format!("/admin/users/{id}");

    let reset = admin.submit_form(&format!("{person}/reset-password"), &[]).await;
    assert_eq!(reset, format!("{person}?done=password-reset"));
    let new_password = secret_on(&page_of(&admin, &app, &reset).await).expect("the new password is shown");
    assert_ne!(new_password, password);
    assert_eq!(secret_on(&page_of(&admin, &app, &reset).await), None, "once");
    assert!(volunteer.graphql("{ me { id } }", json!({})).await["errors"].is_array(), "logged out by the reset");

    assert_eq!(
        admin.submit_form(&format!("{person}/roles"), &[("roles", "HUB_COORDINATOR"), ("hubs", "arun")]).await,
        format!("{person}?done=roles-saved")
    );
    assert_eq!(admin.submit_form(&format!("{person}/unlock"), &[]).await, format!("{person}?done=unlocked"));
    let check = page_of(&admin, &app, &format!("{person}/deactivate")).await;
    assert!(check.contains("Deactivate New volunteer's account?") && check.contains("What happens"), "{check}");
    assert_eq!(admin.submit_form(&format!("{person}/deactivate"), &[]).await, format!("{person}?done=deactivated"));
    assert!(page_of(&admin, &app, &person).await.contains("Reactivate the account"));
    assert_eq!(admin.submit_form(&format!("{person}/reactivate"), &[]).await, format!("{person}?done=reactivated"));

    let made = admin.submit_form("/admin/tokens", &[("label", "County dashboard")]).await;
    assert_eq!(made, "/admin?done=token-made#tokens");
    let overview = page_of(&admin, &app, "/admin?done=token-made").await;
    assert!(secret_on(&overview).is_some_and(|secret| secret.starts_with("heard_")), "the token is shown once");
    assert_eq!(secret_on(&page_of(&admin, &app, "/admin?done=token-made").await), None, "and only once");
    let token_id = overview.split(r#"name="id" value=""#).nth(1).and_then(|rest| rest.split('"').next()).unwrap();
    assert_eq!(
        admin.submit_form("/admin/tokens-revoke", &[("id", token_id)]).await,
        "/admin?done=token-revoked#tokens"
    );
    assert_eq!(
        admin
            .submit_form("/admin/hubs", &[("hub_name", "Bognor Regis"), ("kind", "HUB"), ("area", "West Sussex")])
            .await,
        "/admin/hubs?done=hub-added"
    );
    assert_eq!(
        admin.submit_form("/admin/providers", &[("provider_name", "Bognor pharmacy")]).await,
        "/admin/hubs?done=provider-added#providers-title"
    );
    let changed = admin
        .submit_form(
            "/account/password",
            &[
                ("current_password", heard_tests::PASSWORD),
                ("new_password", "the administrator's new passphrase"),
                ("confirm_password", "the administrator's new passphrase"),
            ],
        )
        .await;
    assert_eq!(changed, "/account/password?done=changed");
    assert_eq!(admin.submit_form("/logout", &[]).await, "/");
}

#[tokio::test]
async fn an_administrator_is_told_beside_the_account_that_they_cannot_deactivate_their_own() {
    let app = spawn_app().await;
    let [(me, admin)] = app.people(["admin"]).await;
    let path = format!("/admin/users/{me}/deactivate");
    let page = admin.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 422);
    let page = page.text().await.unwrap();
    assert!(page.contains(r##"<a href="#account">You cannot deactivate your own account"##), "in the summary: {page}");
    assert!(page.contains(r#"id="account-error""#), "and beside the account: {page}");
    assert!(!page.contains("Deactivate the account</button>"), "with no button to press: {page}");
    let posted = admin.post_form(&path, &[]).await;
    assert_eq!(posted.status(), 303, "a refused form answers with a redirect, so a refresh never posts it again");
    let location = posted.headers()["location"].to_str().unwrap().to_owned();
    let posted = admin.client.get(app.url(&location)).send().await.unwrap();
    assert_eq!(posted.status(), 422, "posting it anyway is refused");
    let posted = posted.text().await.unwrap();
    assert!(posted.contains(r#"id="account-error""#) && posted.contains("your own account"), "{posted}");
    assert!(admin.graphql("{ me { id } }", json!({})).await["data"]["me"]["id"].is_string(), "still logged in");
    let own = page_of(&admin, &app, &format!("/admin/users/{me}")).await;
    assert!(!own.contains("/deactivate") && !own.contains("/reset-password"), "their own page offers neither: {own}");
}

/// The links of a page's header marked as where the person is (a page's own tabs aside).
fn marked(page: &str) -> Vec<String> {
    let header = page.split("</header>").next().unwrap_or_default();
    header
        .split("aria-current=\"page\">")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn the_menu_marks_the_page_you_are_on_and_the_section_of_the_pages_under_it() {
    let app = spawn_app().await;
    let [(_, handler), (admin_id, admin)] = app.people(["handler", "admin"]).await;
    for (session, path, link) in [
        (&handler, "/", "Home"),
        (&handler, "/complaints", "Complaints"),
        (&handler, "/complaints/new", "Complaints"),
        (&handler, "/complaints/00000000-0000-0000-0000-000000000000", "Complaints"),
        (&handler, "/search", "Search"),
        (&handler, "/account/password", "Change your password"),
        (&admin, "/admin", "Administration"),
        (&admin, &format!("/admin/users/{admin_id}"), "Administration"),
        (&admin, "/admin/hubs", "Administration"),
    ] {
        let page = page_of(session, &app, path).await;
        assert_eq!(marked(&page), vec![link.to_owned()], "{path} marks {link} and nothing else");
    }
    let anonymous = app.get("/login").await.text().await.unwrap();
    assert_eq!(marked(&anonymous), vec!["Log in".to_owned()]);
    let nowhere = page_of(&handler, &app, "/no-such-page").await;
    assert!(marked(&nowhere).is_empty(), "a page not found marks nothing");
    let css = app.get("/assets/heard.css").await.text().await.unwrap();
    assert!(css.contains("nav a[aria-current=page]"), "the mark is styled so it can be seen");
}

/// The "Waiting for you" lines of a home page: (words, link).
fn waiting(page: &str) -> Vec<(String, String)> {
    let Some(section) = page.split("id=\"waiting-title\"").nth(1) else { return Vec::new() };
    let section = section.split("</section>").next().unwrap_or_default();
    section
        .split("<a href=\"")
        .skip(1)
        .map(|rest| {
            let (href, rest) = rest.split_once('"').unwrap();
            let words = rest.trim_start_matches('>').split('<').next().unwrap();
            (words.to_owned(), href.replace("&amp;", "&"))
        })
        .collect()
}

fn line(words: &str, href: &str) -> (String, String) {
    (words.to_owned(), href.to_owned())
}

#[tokio::test]
async fn the_home_page_counts_what_waits_for_each_person_and_links_to_where_it_is() {
    let app = spawn_app().await;
    let [(_, member), (coordinator_id, coordinator), (_, advocate), (_, handler), (_, commissioner)] =
        app.people(["member", "coordinator", "advocate", "handler", "commissioner"]).await;
    // A coordinator's home counts what waits in the hub's queue and the disclosures of risk with them.
    let for_coordinator = |moderate: &str, follow_up: &str| {
        vec![line(moderate, "/moderation?hub=arun"), line(follow_up, "/safeguarding")]
    };
    let log = |text: &'static str| {
        let member = &member;
        async move {
            member
                .log_feedback(json!({ "hub": "arun", "text": text, "channel": "FORUM", "speaker": "ANONYMOUS",
                                    "consent": "COMMISSIONERS", "saidOn": "2026-11-02" }))
                .await
        }
    };
    let home = |session: &heard_tests::Session| {
        let url = app.url("/");
        let client = session.client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert_eq!(
        waiting(&home(&coordinator).await),
        for_coordinator("No items to moderate", "No disclosures of risk to follow up")
    );
    let first = log("The evening group keeps being cancelled").await;
    app.settled().await;
    assert_eq!(
        waiting(&home(&coordinator).await),
        for_coordinator("1 item to moderate", "No disclosures of risk to follow up")
    );
    let second = log("Nobody rang back about my script").await;
    app.settled().await;
    assert_eq!(
        waiting(&home(&coordinator).await),
        for_coordinator("2 items to moderate", "No disclosures of risk to follow up")
    );
    assert_eq!(waiting(&home(&member).await), vec![], "a member has no queue to count");

    assert_eq!(waiting(&home(&commissioner).await), vec![line("No shared items to acknowledge", "/shared")]);
    let shared =
        coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": first })).await;
    assert!(shared["data"]["shareFeedback"].is_object(), "{shared}");
    app.settled().await;
    assert_eq!(waiting(&home(&commissioner).await), vec![line("1 shared item to acknowledge", "/shared")]);
    assert_eq!(
        waiting(&home(&coordinator).await),
        for_coordinator("1 item to moderate", "No disclosures of risk to follow up")
    );
    coordinator.flag_safeguarding(&second, &coordinator_id.to_string()).await;
    app.settled().await;
    assert_eq!(
        waiting(&home(&coordinator).await),
        for_coordinator("No items to moderate", "1 disclosure of risk to follow up")
    );

    assert_eq!(waiting(&home(&advocate).await), vec![line("No open cases", "/cases")]);
    let referred = advocate
        .graphql(
            "mutation { referCase(input: { issue: \"Housing benefit stopped\", kind: INSTRUCTED, referralSource: SELF_REFERRAL, domain: BENEFITS }) { id } }",
            json!({}),
        )
        .await;
    assert!(referred["data"]["referCase"].is_object(), "{referred}");
    app.settled().await;
    assert_eq!(waiting(&home(&advocate).await), vec![line("1 open case", "/cases")]);

    let weeks_ago = jiff::Zoned::now().date().checked_sub(jiff::Span::new().days(21)).unwrap();
    let raised = handler
        .graphql(
            "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id } }",
            json!({ "i": { "provider": "cri", "articles": [2], "complainantKind": "ANONYMOUS", "route": "HUB",
                            "whatHappened": "No leaflet", "outcomeWanted": "A leaflet", "receivedOn": weeks_ago.to_string() } }),
        )
        .await;
    assert!(raised["data"]["raiseComplaint"].is_object(), "{raised}");
    app.settled().await;
    assert_eq!(
        waiting(&home(&handler).await),
        vec![line("1 open complaint", "/complaints"), line("1 overdue complaint", "/complaints")]
    );
}

#[tokio::test]
async fn proposing_a_decision_answers_303_at_each_step_and_its_notice_comes_from_a_code_never_from_the_address() {
    let app = spawn_app().await;
    let [(_, commissioner)] = app.people(["commissioner"]).await;
    let draft = [
        ("title", "Evening opening at the Crawley hub"),
        ("service_area", "Adult treatment"),
        ("decided_by", "West Sussex DAAT board"),
        ("decision_date", "2026-12-01"),
        ("ladder_rung", "6"),
        ("involvement", "Hub members raised it at three forums."),
    ];
    let mut form = vec![("step", "check")];
    form.extend(draft);
    let check = commissioner.submit_form("/decisions/new", &form).await;
    assert!(check.starts_with("/decisions/new/check?"), "{check}");
    let page = page_of(&commissioner, &app, &check).await;
    assert!(page.contains("Check your answers") && page.contains("Evening opening at the Crawley hub"), "{page}");
    form[0] = ("step", "propose");
    let proposed = commissioner.submit_form("/decisions/new", &form).await;
    assert!(proposed.ends_with("?done=proposed"), "{proposed}");
    let decision = proposed.split('?').next().unwrap().to_owned();
    assert!(page_of(&commissioner, &app, &proposed).await.contains("The decision is proposed"));
    let agreed = commissioner.submit_form(&format!("{decision}/status"), &[("status", "AGREED")]).await;
    assert_eq!(agreed, format!("{decision}?done=status-changed#status-section"));
    assert!(page_of(&commissioner, &app, &agreed).await.contains("The status is changed"));
    let forged = page_of(&commissioner, &app, &format!("{decision}?done=Call%200800%20000%20000%20now")).await;
    assert!(!forged.contains("0800") && !forged.contains(r#"class="notice""#), "no words from the address: {forged}");
}

#[tokio::test]
async fn an_advocates_forms_answer_303_and_lead_to_the_case() {
    let app = spawn_app().await;
    let [(_, advocate)] = app.people(["advocate"]).await;
    let referred = advocate
        .submit_form(
            "/cases/new",
            &[
                ("issue", "Housing benefit stopped"),
                ("kind", "INSTRUCTED"),
                ("referral_source", "SELF_REFERRAL"),
                ("domain", "BENEFITS"),
            ],
        )
        .await;
    assert!(referred.starts_with("/cases/") && referred.ends_with("?done=referred"), "{referred}");
    let case = referred.split('?').next().unwrap().to_owned();
    assert_eq!(advocate.submit_form(&format!("{case}/accept"), &[]).await, format!("{case}?done=accepted"));
}

#[tokio::test]
async fn a_refused_form_answers_with_a_redirect_so_back_and_refresh_never_send_it_again_and_only_its_sender_sees_it() {
    let hub = heard_tests::hub().await;
    let form = [("hub", "arun"), ("held_on", "30/02/2026"), ("place", "Bognor hub")];
    let refused = hub.member.post_form("/meetings", &form).await;
    assert_eq!(refused.status(), 303, "a refused form is answered with a redirect too");
    let location = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/meetings?refused="), "back to the page the form was posted to: {location}");
    for view in ["the redirect", "a refresh"] {
        let page = hub.member.client.get(hub.app.url(&location)).send().await.unwrap();
        assert_eq!(page.status(), 422, "{view} shows the refused form with its status");
        let page = page.text().await.unwrap();
        assert!(page.contains(r##"<a href="#held_on">30 February 2026 does not exist</a>"##), "{view}: {page}");
        assert!(page.contains(r#"value="Bognor hub""#), "{view}: what was typed is kept");
    }
    let nosy = hub.crawley.client.get(hub.app.url(&location)).send().await.unwrap();
    assert_eq!(nosy.status(), 200, "another session gets the page as if there were no key");
    let nosy = nosy.text().await.unwrap();
    assert!(!nosy.contains("Bognor hub") && !nosy.contains("does not exist"), "nothing of the refused form: {nosy}");

    let referer = format!("{}/meetings", hub.app.url(""));
    let from_page = hub
        .member
        .posting
        .post(hub.app.url("/meetings"))
        .header("referer", hub.app.url("/feedback/new?x=1"))
        .form(&[("csrf_token", hub.member.csrf_token.as_str()), ("place", "")])
        .send()
        .await
        .unwrap();
    let location = from_page.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("/feedback/new?x=1&refused="),
        "back to the page the form was on: {location} ({referer})"
    );
    let foreign = hub
        .member
        .posting
        .post(hub.app.url("/meetings"))
        .header("referer", "https://evil.example/phish")
        .form(&[("csrf_token", hub.member.csrf_token.as_str()), ("place", "")])
        .send()
        .await
        .unwrap();
    let location = foreign.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/meetings?refused="), "never to another site: {location}");
}
