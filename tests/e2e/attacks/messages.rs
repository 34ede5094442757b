//! Messages in Heard's voice. A page used to show whatever `?error=` said, so a crafted link
//! could make Heard tell someone "your account is locked, ring this number". Now a message is
//! set only by the server, on the redirect after a form, in an HttpOnly SameSite=Strict cookie
//! signed with the session (the flash), and shown once. And the moderation queue's address is a
//! plain `GET` form: every value in it is checked, and a hostile one gets a calm message naming
//! the field, never a 500 and never the value repeated.

use std::collections::BTreeMap;

use heard_tests::{PASSWORD, TestApp, hub, spawn_app};
use serde_json::json;

/// What a page answered: its status, where it redirects, its body and the cookies it set.
pub(crate) struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub set_cookies: Vec<String>,
}

/// A browser, by hand: it keeps its cookies itself and follows no redirect on its own, so a
/// test can see each answer, and send any cookie it likes.
pub(crate) struct Browser {
    base: String,
    client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    pub csrf: String,
}

impl Browser {
    /// Logs `email` in (with the test password) through the API, as the web UI's login does.
    pub async fn log_in(app: &TestApp, email: &str) -> Browser {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut browser = Browser { base: app.url(""), client, cookies: BTreeMap::new(), csrf: String::new() };
        let query = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { csrfToken } }";
        let response = browser
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": query, "variables": { "e": email, "p": PASSWORD } }))
            .send()
            .await
            .unwrap();
        browser.keep(&response);
        let answer: serde_json::Value = response.json().await.unwrap();
        browser.csrf = answer["data"]["login"]["csrfToken"].as_str().expect("logged in").to_owned();
        browser
    }

    fn keep(&mut self, response: &reqwest::Response) -> Vec<String> {
        let set: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok().map(str::to_owned))
            .collect();
        for cookie in &set {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        set
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }

    async fn answer(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.header("cookie", self.cookie_header()).send().await.unwrap();
        let set_cookies = self.keep(&response);
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|value| value.to_str().unwrap().to_owned());
        Answer { status, location, body: response.text().await.unwrap(), set_cookies }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let request = self.client.get(format!("{}{path}", self.base));
        self.answer(request).await
    }

    /// Posts a form (with the session's CSRF token) to `path`.
    pub async fn post(&mut self, path: &str, fields: &[(String, String)]) -> Answer {
        let mut form: Vec<(String, String)> = vec![("csrf_token".into(), self.csrf.clone())];
        form.extend(fields.iter().filter(|(name, _)| name != "csrf_token").cloned());
        let request = self.client.post(format!("{}{path}", self.base)).form(&form);
        self.answer(request).await
    }

    /// Posts a form and, as a browser does, follows the redirect it answers with: every form
    /// answers 303, a refused one too (to the refused page, kept for this session).
    pub async fn submit(&mut self, path: &str, fields: &[(String, String)]) -> Answer {
        let answer = self.post(path, fields).await;
        assert_eq!(answer.status, 303, "every form answers with a redirect: {}", answer.body);
        self.follow(&answer).await
    }

    /// The page a redirect leads to (its fragment is the browser's, never sent).
    pub async fn follow(&mut self, answer: &Answer) -> Answer {
        let location = answer.location.as_deref().expect("a redirect");
        let path = location.split('#').next().unwrap().to_owned();
        self.get(&path).await
    }
}

/// The hidden fields of the first form on `page` that posts to `action`, after the text `after`.
pub(crate) fn form_fields(page: &str, action: &str, after: &str) -> Vec<(String, String)> {
    let start = page.find(after).unwrap_or_else(|| panic!("{after} is not on the page"));
    let at = start + page[start..].find(&format!("action=\"{action}\"")).expect("the form");
    let form = &page[at..at + page[at..].find("</form>").unwrap()];
    form.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|input| {
            let name = input.strip_prefix("name=\"")?.split('"').next()?;
            let value = input.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), value.replace("&amp;", "&")))
        })
        .collect()
}

const FORGED: &str = "Your account is locked. Ring 0800 000 0000 to open it";

#[tokio::test]
async fn a_message_in_the_address_is_never_shown() {
    let hub = hub().await;
    let app = &hub.app;
    app.create_user("handler@example.org", &[heard_access::Role::ComplaintsHandler], &[]).await;
    let forged = heard_tests::url_encoded(FORGED);
    let mut coordinator = Browser::log_in(app, "coordinator@example.org").await;
    let mut handler = Browser::log_in(app, "handler@example.org").await;
    let pages = [
        (&mut coordinator, format!("/moderation?error={forged}&item=x&field=consent&done={forged}")),
        (&mut handler, format!("/complaints?error={forged}&item=x&done={forged}")),
    ];
    for (browser, path) in pages {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains("0800 000 0000"), "{path} repeats the forged message: {}", page.body);
        assert!(!page.body.contains("There is a problem"), "{path} shows no error: {}", page.body);
    }
    for path in
        [format!("/report-back?error={forged}&item=x&done={forged}"), format!("/moderation/held?error={forged}")]
    {
        let page = coordinator.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains("0800 000 0000") && !page.body.contains("There is a problem"), "{path}");
    }
    let complaint = handler.get(&format!("/complaints/00000000-0000-0000-0000-000000000000?error={forged}")).await;
    assert!(!complaint.body.contains("0800 000 0000"), "{}", complaint.body);
}

#[tokio::test]
async fn only_a_form_sets_a_message_and_a_page_or_a_link_never_does() {
    let hub = hub().await;
    let mut coordinator = Browser::log_in(&hub.app, "coordinator@example.org").await;
    for path in ["/moderation?done=shared", "/moderation/held", "/moderation/gazetteer", "/report-back?done=x"] {
        let page = coordinator.get(path).await;
        assert!(page.set_cookies.iter().all(|cookie| !cookie.starts_with("heard_flash=")), "{path} sets no flash");
    }
    assert_eq!(coordinator.get("/moderation/share?id=x").await.status, 405, "an action is a POST");
}

/// An item logged for Arun through the API, as its member would.
async fn logged(hub: &heard_tests::Hub, text: &str) -> String {
    hub.member
        .log_feedback(json!({
            "hub": "arun", "text": text, "channel": "FORUM", "saidOn": "2026-11-02",
            "speaker": "ANONYMOUS", "consent": "PUBLIC"
        }))
        .await
}

#[tokio::test]
async fn a_message_is_shown_once_to_the_session_it_was_set_for_and_never_if_altered() {
    let hub = hub().await;
    let app = &hub.app;
    app.create_user("second.coordinator@example.org", &[heard_access::Role::HubCoordinator], &["arun"]).await;
    let id = logged(&hub, "The waiting room is cold").await;
    let mut mine = Browser::log_in(app, "coordinator@example.org").await;
    let mut theirs = Browser::log_in(app, "second.coordinator@example.org").await;

    // An action that goes wrong: holding without a reason.
    let held = mine
        .post(
            "/moderation/hold",
            &[("id".into(), id.clone()), ("hub".into(), "arun".into()), ("reason".into(), " ".into())],
        )
        .await;
    assert_eq!(held.status, 303);
    let flash = held.set_cookies.iter().find(|cookie| cookie.starts_with("heard_flash=")).expect("a flash").clone();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(flash.contains(attribute), "the flash cookie is {attribute}: {flash}");
    }
    let value = mine.cookies["heard_flash"].clone();

    // Another session presenting it sees nothing; nor does this one once it is altered.
    theirs.cookies.insert("heard_flash".into(), value.clone());
    let page = theirs.get("/moderation").await;
    assert!(!page.body.contains("There is a problem"), "another session's flash shows nothing: {}", page.body);
    let mut altered = value.clone();
    altered.insert(0, if value.starts_with('e') { 'f' } else { 'e' });
    let original = std::mem::replace(mine.cookies.get_mut("heard_flash").unwrap(), altered);
    let page = mine.get("/moderation").await;
    assert!(!page.body.contains("There is a problem"), "an altered flash shows nothing");
    assert!(!mine.cookies.contains_key("heard_flash"), "and is removed");

    // The real one shows, beside the field, once.
    mine.cookies.insert("heard_flash".into(), original);
    let page = mine.get("/moderation?hub=arun").await;
    assert!(page.body.contains("There is a problem"), "{}", page.body);
    assert!(page.body.contains(&format!("href=\"#reason-{id}\"")), "the summary links to the reason: {}", page.body);
    assert!(!mine.cookies.contains_key("heard_flash"), "the page that shows it removes it");
    let again = mine.get("/moderation?hub=arun").await;
    assert!(!again.body.contains("There is a problem"), "shown once only");
}

/// The error summary's links and messages on a page.
fn problems(page: &str) -> Vec<(String, String)> {
    let Some(start) = page.find("There is a problem") else { return Vec::new() };
    let summary = &page[start..start + page[start..].find("</ul>").unwrap()];
    summary
        .split("<li>")
        .skip(1)
        .map(|item| {
            let href = item.split("href=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or("").to_owned();
            let text = item.split('>').nth(if href.is_empty() { 0 } else { 1 }).unwrap_or("");
            (href, text.split('<').next().unwrap_or("").to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_hostile_query_string_gets_a_message_naming_the_field_never_a_500_or_an_echo() {
    let hub = hub().await;
    logged(&hub, "The group needs a bigger room").await;
    let mut coordinator = Browser::log_in(&hub.app, "coordinator@example.org").await;
    let long = "x".repeat(10_000);
    let cases: Vec<(String, &str, &str)> = vec![
        ("from=30%2F02%2F2026".into(), "#from", "Said on or after: 30 February 2026 does not exist"),
        (
            "to=%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(),
            "#to",
            "Said on or before: enter the date as day, month and year",
        ),
        ("from=2026-03-10&to=2026-03-01".into(), "#to", "Said on or before: the day must be the same as the first day"),
        ("theme=..%2F..%2Fetc%2Fpasswd".into(), "#theme", "Choose a theme from the list"),
        ("meeting=%27%20OR%201%3D1".into(), "#meeting", "Choose a meeting of this hub from the list"),
        ("order=sideways".into(), "#order", "Choose newest first or oldest first"),
        ("hub=crawley".into(), "", "Choose one of your hubs"),
        ("page=99999999999999999999999".into(), "", "There is only one page of items, shown here"),
        ("page=-1".into(), "", "Give the page as a number, for example 2"),
        ("page=1&page=2".into(), "", "Give one page number"),
        ("theme=opening-hours&theme=opening-hours".into(), "#theme", "Choose a theme from the list"),
        (format!("from={long}"), "#from", "Said on or after: enter the date as day, month and year"),
        ("from=%00%0A%0D".into(), "#from", "Said on or after: enter the date as day, month and year"),
    ];
    for path in ["/moderation", "/moderation/held"] {
        for (query, href, message) in &cases {
            let page = coordinator.get(&format!("{path}?{query}")).await;
            assert_eq!(page.status, 200, "{path}?{query}");
            let found = problems(&page.body);
            assert!(
                found.iter().any(|(link, said)| link == href && said.starts_with(message)),
                "{path}?{query} says {message} at {href}: {found:?}"
            );
            for hostile in ["<script", "alert(1)", "passwd", "OR 1=1", "sideways", "99999999999", "xxxxxxxxxx"] {
                assert!(!page.body.contains(hostile), "{path}?{query} repeats {hostile}");
            }
            assert!(page.body.contains("<title>Error: "), "the title says there is an error");
        }
    }
}

#[tokio::test]
async fn no_one_else_can_read_a_flash_nor_use_one_without_a_session() {
    let app = spawn_app().await;
    let anonymous = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = anonymous
        .get(app.url("/moderation"))
        .header("cookie", "heard_flash=eyJraW5kIjoiZXJyb3IifQ.AAAA")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303, "not logged in: to the login page");
    assert!(page.headers()["location"].to_str().unwrap().starts_with("/login"));
}
