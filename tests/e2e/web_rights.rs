//! A person's rights in the web UI, over real HTTP (issue #18): a coordinator says whose words
//! an item holds, finds what Heard holds about that person, and erases it through
//! check-your-answers; a nosy account (another hub's coordinator) finds nobody, and a form
//! another website sends erases nothing.

use heard_tests::{Hub, Session, see_other};
use serde_json::json;

/// An Arun item, said to be a new person's by Arun's coordinator through the item's page: the
/// item's id and the person's code.
async fn a_persons_item(hub: &Hub) -> (String, String) {
    let item = hub
        .member
        .log_feedback(json!({
            "hub": "arun", "text": "The pharmacy makes me wait outside in the rain", "channel": "ONE_TO_ONE",
            "speaker": "ANONYMOUS", "consent": "HUB", "saidOn": "2026-11-23"
        }))
        .await;
    let back = hub.coordinator.submit_form(&format!("/feedback/{item}/person"), &[("person_choice", "new")]).await;
    assert_eq!(back, format!("/feedback/{item}#person"));
    let page = page(hub, &hub.coordinator, &format!("/feedback/{item}"), 200).await;
    let code = page
        .split("<code class=\"person-code\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("the item's page shows the person's code: {page}"))
        .to_owned();
    (item, code)
}

async fn page(hub: &Hub, who: &Session, path: &str, status: u16) -> String {
    let response = who.client.get(hub.app.url(path)).send().await.unwrap();
    let got = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "{path}: {body}");
    body
}

/// How many erasures the log holds.
async fn erasures(hub: &Hub) -> usize {
    hub.app.settled().await;
    let events = hub.app.store.read_all(1, 100_000).await.expect("the log reads");
    events.iter().filter(|event| event.stream.category() == "erasure").count()
}

#[tokio::test]
async fn another_hubs_coordinator_finds_page_not_found_for_a_person_and_their_erase_page_and_never_sees_the_code() {
    let hub = heard_tests::hub().await;
    let (_, code) = a_persons_item(&hub).await;
    for path in [format!("/people/{code}"), format!("/people/{code}/erase"), format!("/people/{code}/held.json")] {
        let shown = page(&hub, &hub.crawley, &path, 404).await;
        assert!(shown.contains("Page not found"), "{path}: {shown}");
        assert!(!shown.contains(&code) && !shown.contains("rain"), "{path}: the code is never repeated: {shown}");
    }
    // Exactly as a person who does not exist.
    let made_up = "0b5e8c1a-0000-4000-8000-00000000dead";
    let shown = page(&hub, &hub.coordinator, &format!("/people/{made_up}"), 404).await;
    assert!(!shown.contains(made_up));
    // A hub member keeps nobody's records: the plain page for others, and no way there.
    let shown = page(&hub, &hub.member, "/people", 403).await;
    assert!(shown.contains("<h1>This page is for"), "{shown}");
    assert!(!page(&hub, &hub.member, "/", 200).await.contains("href=\"/people\""));
    assert!(page(&hub, &hub.coordinator, "/", 200).await.contains("href=\"/people\""), "the way there, from home");
    // The coordinator who keeps the item finds the person.
    let (status, url, shown) = {
        let response = hub.coordinator.client.get(hub.app.url(&format!("/people?code={code}"))).send().await.unwrap();
        (response.status().as_u16(), response.url().path().to_owned(), response.text().await.unwrap())
    };
    assert_eq!((status, url.as_str()), (200, format!("/people/{code}").as_str()), "{shown}");
    assert!(shown.contains("The pharmacy makes me wait outside in the rain"), "{shown}");
    let file = hub.coordinator.client.get(hub.app.url(&format!("/people/{code}/held.json"))).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert!(file.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert!(file.headers()["cache-control"].to_str().unwrap().contains("no-store"));
    let file: serde_json::Value = file.json().await.unwrap();
    assert_eq!(file["person"], code.as_str());
}

#[tokio::test]
async fn an_erase_form_sent_from_another_website_erases_nothing_and_the_same_form_sent_twice_erases_once() {
    let hub = heard_tests::hub().await;
    let (item, code) = a_persons_item(&hub).await;
    let erase = format!("/people/{code}/erase");
    let check = see_other(hub.coordinator.post_form(&erase, &[("step", "check"), ("confirm", "yes")]).await).await;
    let shown = page(&hub, &hub.coordinator, &check, 200).await;
    let at = shown.find("name=\"attempt\" value=\"").expect("the check page carries an attempt") + 22;
    let attempt = shown[at..at + 36].to_owned();
    let fields = [
        ("csrf_token", hub.coordinator.csrf_token.as_str()),
        ("step", "erase"),
        ("confirm", "yes"),
        ("attempt", attempt.as_str()),
    ];
    // Another website made the browser send it, with the person's own cookies and token.
    for site in [Some("cross-site"), None] {
        let mut request =
            hub.coordinator.posting.post(hub.app.url(&erase)).header("origin", "https://evil.example").form(&fields);
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), 403, "{site:?}");
        assert!(refused.text().await.unwrap().contains("another website"));
    }
    // Another hub's coordinator, with their own token: the person is not there for them.
    let nosy = hub.crawley.post_form(&erase, &fields[1..]).await;
    let refused = see_other(nosy).await;
    page(&hub, &hub.crawley, &refused, 404).await;
    assert_eq!(erasures(&hub).await, 0, "nothing was erased");
    assert!(page(&hub, &hub.coordinator, &format!("/feedback/{item}"), 200).await.contains("wait outside in the rain"));

    // Sent twice (a double click, or Back and send again): one erasure, the same answer.
    let first = see_other(hub.coordinator.post_form(&erase, &fields[1..]).await).await;
    let second = see_other(hub.coordinator.post_form(&erase, &fields[1..]).await).await;
    assert_eq!(first, second);
    assert_eq!(first, format!("/people/{code}/erased?attempt={attempt}"));
    assert_eq!(erasures(&hub).await, 1, "erased once");
    let done = page(&hub, &hub.coordinator, &first, 200).await;
    assert!(done.contains("1 record you keep for them was erased"), "{done}");
    // What Heard holds says so, with the item's facts and none of its words.
    let held = page(&hub, &hub.coordinator, &format!("/people/{code}"), 200).await;
    assert!(held.contains("Everything about this person was erased on"), "{held}");
    assert!(held.contains("23 November 2026") && held.contains("One-to-one"), "the facts stay: {held}");
    assert!(!held.contains("wait outside in the rain"), "{held}");
    assert!(!held.contains(&format!("/people/{code}/erase\"")), "nothing left to erase: {held}");
    let again = page(&hub, &hub.coordinator, &erase, 200).await;
    assert!(again.contains("already erased"), "{again}");
    let _ = item;
}

#[tokio::test]
async fn another_hubs_coordinator_who_types_a_persons_code_on_their_own_item_is_told_beside_the_code_as_for_a_code_that_does_not_exist()
 {
    let hub = heard_tests::hub().await;
    let (_, code) = a_persons_item(&hub).await;
    let theirs = hub
        .crawley
        .log_feedback(json!({
            "hub": "crawley", "text": "The needle exchange moved without telling anyone", "channel": "ONE_TO_ONE",
            "speaker": "ANONYMOUS", "consent": "HUB", "saidOn": "2026-11-23"
        }))
        .await;
    // The "whose record this is" form on their item, sent with a code: the error beside the code.
    let error_beside_the_code = async |typed: &str| {
        let fields = [("person_choice", "same"), ("person_code", typed)];
        let (status, url, page) = hub.crawley.post_form_followed(&format!("/feedback/{theirs}/person"), &fields).await;
        assert_eq!((status, url.path()), (200, format!("/feedback/{theirs}").as_str()), "{page}");
        page.split("id=\"person_code-error\"")
            .nth(1)
            .and_then(|rest| rest.split("</p>").next())
            .unwrap_or_else(|| panic!("the error is beside the code: {page}"))
            .to_owned()
    };
    let refused = error_beside_the_code(&code).await;
    let made_up = error_beside_the_code("0b5e8c1a-0000-4000-8000-00000000dead").await;
    assert!(refused.contains("no such person"), "{refused}");
    assert_eq!(refused, made_up, "exactly as a code that does not exist");
    let shown = page(&hub, &hub.crawley, &format!("/feedback/{theirs}"), 200).await;
    assert!(shown.contains("It is not linked to a person yet."), "{shown}");
    assert!(!shown.contains(&code), "the code is never repeated: {shown}");
    page(&hub, &hub.crawley, &format!("/people/{code}"), 404).await;

    // Arun's coordinator says, with the same form, that another Arun item is the same person's.
    let second = hub
        .member
        .log_feedback(json!({
            "hub": "arun", "text": "Still waiting outside the pharmacy", "channel": "ONE_TO_ONE",
            "speaker": "ANONYMOUS", "consent": "HUB", "saidOn": "2026-11-24"
        }))
        .await;
    let fields = [("person_choice", "same"), ("person_code", code.as_str())];
    let back = hub.coordinator.submit_form(&format!("/feedback/{second}/person"), &fields).await;
    assert_eq!(back, format!("/feedback/{second}#person"));
    let shown = page(&hub, &hub.coordinator, &format!("/feedback/{second}"), 200).await;
    assert!(shown.contains(&format!("<code class=\"person-code\">{code}</code>")), "{shown}");
}
