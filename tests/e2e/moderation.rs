//! A hub coordinator moderating at volume, through GraphQL and the web pages: the queue in
//! pages of 20 with its filters and order, coming back to the same place after each action,
//! held items under their own tab with their reason and a way back, suggested redactions to
//! confirm, and the hub's own gazetteer, which no one outside the hub reads.

use heard_tests::{Hub, error_code, hub};
use serde_json::{Value, json};

use crate::attacks::messages::{Browser, form_fields};

const QUEUE: &str = "query($h: ID!, $f: ModerationFilter, $o: QueueOrder, $a: String, $n: Int) { \
    moderationQueue(hub: $h, filter: $f, order: $o, after: $a, first: $n) { totalCount pageInfo { hasNextPage } edges { cursor node { id saidOn } } } }";
const HELD: &str = "query($h: ID!) { heldFeedback(hub: $h) { totalCount edges { node { id heldReason heldOn } } } }";

/// Logs an item for Arun said on `said_on`, with `themes`, at `meeting` if given.
async fn log(hub: &Hub, text: &str, said_on: &str, themes: &[&str], meeting: Option<&str>) -> String {
    hub.member
        .log_feedback(json!({
            "hub": "arun", "text": text, "channel": "FORUM", "saidOn": said_on, "themes": themes,
            "speaker": "ANONYMOUS", "consent": "PUBLIC", "meeting": meeting,
        }))
        .await
}

fn ids(answer: &Value, root: &str) -> Vec<String> {
    answer["data"][root]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no page: {answer}"))
        .iter()
        .map(|edge| edge["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn day(n: usize) -> String {
    format!("2026-03-{:02}", n % 28 + 1)
}

#[tokio::test]
async fn the_queue_comes_twenty_at_a_time_filtered_by_date_theme_and_meeting_in_either_order() {
    let hub = hub().await;
    let meeting = hub
        .member
        .graphql(
            "mutation { startMeeting(input: { hub: \"arun\", heldOn: \"2026-03-05\", place: \"The library\" }) { id } }",
            json!({}),
        )
        .await;
    let meeting = meeting["data"]["startMeeting"]["id"].as_str().unwrap_or_else(|| panic!("{meeting}")).to_owned();
    let mut logged = Vec::new();
    for n in 0..45 {
        let theme: &[&str] = if n % 3 == 0 { &["Opening hours"] } else { &["Keyworker time"] };
        let at = (n % 9 == 0).then_some(meeting.as_str());
        logged.push((log(&hub, &format!("Point number {n}"), &day(n), theme, at).await, day(n), n));
    }
    let ask = |filter: Value, order: &str, after: Option<String>| json!({ "h": "arun", "f": filter, "o": order, "a": after, "n": 20 });
    let first = hub.coordinator.graphql(QUEUE, ask(json!({}), "OLDEST_FIRST", None)).await;
    assert_eq!(first["data"]["moderationQueue"]["totalCount"], 45, "{first}");
    assert_eq!(ids(&first, "moderationQueue").len(), 20);
    let days: Vec<&str> = first["data"]["moderationQueue"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["saidOn"].as_str().unwrap())
        .collect();
    assert!(days.windows(2).all(|pair| pair[0] <= pair[1]), "oldest first: {days:?}");

    // Every item once, over three pages.
    let mut seen = ids(&first, "moderationQueue");
    let mut after = first["data"]["moderationQueue"]["edges"][19]["cursor"].as_str().map(str::to_owned);
    for expected in [20, 5] {
        let page = hub.coordinator.graphql(QUEUE, ask(json!({}), "OLDEST_FIRST", after.clone())).await;
        let found = ids(&page, "moderationQueue");
        assert_eq!(found.len(), expected);
        after = page["data"]["moderationQueue"]["edges"][expected - 1]["cursor"].as_str().map(str::to_owned);
        seen.extend(found);
    }
    let mut all: Vec<String> = logged.iter().map(|(id, _, _)| id.clone()).collect();
    all.sort();
    seen.sort();
    assert_eq!(seen, all, "each item on exactly one page");

    let newest = hub.coordinator.graphql(QUEUE, ask(json!({}), "NEWEST_FIRST", None)).await;
    let newest_days: Vec<&str> = newest["data"]["moderationQueue"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["saidOn"].as_str().unwrap())
        .collect();
    assert!(newest_days.windows(2).all(|pair| pair[0] >= pair[1]), "newest first: {newest_days:?}");
    assert_eq!(newest_days[0], "2026-03-28");

    let wanted = |keep: &dyn Fn(&(String, String, usize)) -> bool| {
        let mut ids: Vec<String> = logged.iter().filter(|item| keep(item)).map(|(id, _, _)| id.clone()).collect();
        ids.sort();
        ids
    };
    let filtered = |filter: Value| {
        let coordinator = &hub.coordinator;
        async move {
            let answer = coordinator.graphql(QUEUE, json!({ "h": "arun", "f": filter, "n": 100 })).await;
            let mut found = ids(&answer, "moderationQueue");
            found.sort();
            assert_eq!(answer["data"]["moderationQueue"]["totalCount"], found.len(), "{answer}");
            found
        }
    };
    let march = filtered(json!({ "from": "2026-03-10", "to": "2026-03-12" })).await;
    assert_eq!(march, wanted(&|(_, said, _)| ("2026-03-10".."2026-03-13").contains(&said.as_str())));
    let opening = filtered(json!({ "theme": "opening-hours" })).await;
    assert_eq!(opening, wanted(&|(_, _, n)| n % 3 == 0));
    let at_meeting = filtered(json!({ "meeting": meeting })).await;
    assert_eq!(at_meeting, wanted(&|(_, _, n)| n % 9 == 0));
    let together = filtered(json!({ "theme": "Opening hours", "meeting": meeting, "from": "2026-03-01" })).await;
    assert_eq!(together, wanted(&|(_, _, n)| n % 9 == 0));
}

#[tokio::test]
async fn a_filter_heard_does_not_understand_is_refused_naming_its_part() {
    let hub = hub().await;
    let theirs = hub
        .crawley
        .graphql(
            "mutation { recordMeeting(input: { hub: \"crawley\", heldOn: \"2026-03-05\", attendance: 3 }) { id } }",
            json!({}),
        )
        .await;
    let theirs = theirs["data"]["recordMeeting"]["id"].as_str().unwrap();
    for (filter, field) in [
        (json!({ "from": "2026-02-30" }), "filter.from"),
        (json!({ "from": "2026-03-10", "to": "2026-03-01" }), "filter.to"),
        (json!({ "theme": "no such theme" }), "filter.theme"),
        (json!({ "meeting": "not an id" }), "filter.meeting"),
        (json!({ "meeting": theirs }), "filter.meeting"),
    ] {
        let answer = hub.coordinator.graphql(QUEUE, json!({ "h": "arun", "f": filter })).await;
        assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
        assert_eq!(answer["errors"][0]["extensions"]["field"], field, "{answer}");
    }
}

#[tokio::test]
async fn a_held_item_leaves_the_queue_and_waits_under_held_with_its_reason_until_released() {
    let hub = hub().await;
    let id = log(&hub, "Marnie at the front desk was kind", "2026-03-02", &[], None).await;
    let hold = "mutation($id: ID!) { holdFeedback(id: $id, reason: \"Check with the speaker first\") { moderation } }";
    assert_eq!(hub.coordinator.graphql(hold, json!({ "id": id })).await["data"]["holdFeedback"]["moderation"], "HELD");
    let queue = hub.coordinator.graphql(QUEUE, json!({ "h": "arun" })).await;
    assert!(!ids(&queue, "moderationQueue").contains(&id), "a held item is not waiting to be moderated");
    let held = hub.coordinator.graphql(HELD, json!({ "h": "arun" })).await;
    assert_eq!(held["data"]["heldFeedback"]["totalCount"], 1);
    let node = &held["data"]["heldFeedback"]["edges"][0]["node"];
    assert_eq!(
        (node["id"].as_str(), node["heldReason"].as_str()),
        (Some(id.as_str()), Some("Check with the speaker first"))
    );
    assert_eq!(node["heldOn"].as_str().map(str::len), Some(10), "the day it was held");

    let release = "mutation($id: ID!) { releaseFeedback(id: $id) { moderation heldReason } }";
    let released = hub.coordinator.graphql(release, json!({ "id": id })).await;
    assert_eq!(released["data"]["releaseFeedback"], json!({ "moderation": "PENDING", "heldReason": null }));
    assert!(ids(&hub.coordinator.graphql(QUEUE, json!({ "h": "arun" })).await, "moderationQueue").contains(&id));
    assert_eq!(hub.coordinator.graphql(HELD, json!({ "h": "arun" })).await["data"]["heldFeedback"]["totalCount"], 0);
    let again = hub.coordinator.graphql(release, json!({ "id": id })).await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "only a held item is released: {again}");
}

#[tokio::test]
async fn another_hubs_coordinator_cannot_see_or_release_held_items_nor_read_the_gazetteer() {
    let hub = hub().await;
    let id = log(&hub, "Ask for Kezia at the Bognor hub", "2026-03-02", &[], None).await;
    let hold = "mutation($id: ID!) { holdFeedback(id: $id, reason: \"Check with Kezia\") { id } }";
    hub.coordinator.graphql(hold, json!({ "id": id })).await;
    let add = "mutation { addGazetteerEntry(input: { hub: \"arun\", name: \"Littlehampton\", kind: PLACE }) { id } }";
    assert!(hub.coordinator.graphql(add, json!({})).await["data"]["addGazetteerEntry"]["id"].is_string());

    // Through the API.
    let held = hub.crawley.graphql(HELD, json!({ "h": "arun" })).await;
    assert_eq!(error_code(&held), Some("FORBIDDEN"), "{held}");
    assert!(!held.to_string().contains("Kezia"));
    let release =
        hub.crawley.graphql("mutation($id: ID!) { releaseFeedback(id: $id) { id } }", json!({ "id": id })).await;
    assert_eq!(error_code(&release), Some("NOT_FOUND"), "{release}");
    let gazetteer = hub.crawley.graphql("{ gazetteer(hub: \"arun\") { name } }", json!({})).await;
    assert_eq!(error_code(&gazetteer), Some("FORBIDDEN"), "{gazetteer}");
    assert!(!gazetteer.to_string().contains("Littlehampton"));
    for outsider in [&hub.member, &hub.commissioner] {
        let read = outsider.graphql("{ gazetteer(hub: \"arun\") { name } }", json!({})).await;
        assert_eq!(error_code(&read), Some("FORBIDDEN"), "{read}");
    }
    let suggestions = "query($id: ID!) { feedbackItem(id: $id) { suggestedRedactions { text } } }";
    let member = hub.member.graphql(suggestions, json!({ "id": id })).await;
    assert_eq!(error_code(&member), Some("FORBIDDEN"), "a member does not get the suggestions: {member}");
    assert_eq!(member["data"]["feedbackItem"]["suggestedRedactions"], Value::Null);

    // Through the web pages.
    let mut crawley = Browser::log_in(&hub.app, "crawley@example.org").await;
    for path in ["/moderation/held?hub=arun", "/moderation/gazetteer?hub=arun", "/moderation?hub=arun"] {
        let page = crawley.get(path).await;
        assert_eq!(page.status, 200, "{path}: their own hub's page, with the hub refused");
        assert!(page.body.contains("Choose one of your hubs"), "{path}: {}", page.body);
        assert!(!page.body.contains("Kezia") && !page.body.contains("Littlehampton"), "{path} shows nothing of Arun's");
    }
    let posted = crawley.post("/moderation/release", &[("id".into(), id.clone()), ("hub".into(), "arun".into())]).await;
    assert_eq!(posted.status, 303);
    let still = hub.coordinator.graphql(HELD, json!({ "h": "arun" })).await;
    assert_eq!(still["data"]["heldFeedback"]["totalCount"], 1, "it is still held");
    let mut commissioner = Browser::log_in(&hub.app, "commissioner@example.org").await;
    for path in ["/moderation/held", "/moderation/gazetteer"] {
        assert_eq!(commissioner.get(path).await.status, 403, "{path} is for hub coordinators");
    }
}

#[tokio::test]
async fn suggested_redactions_are_marked_for_the_coordinator_and_applied_only_when_confirmed() {
    let hub = hub().await;
    let add = "mutation($n: String!, $k: GazetteerKind) { addGazetteerEntry(input: { hub: \"arun\", name: $n, kind: $k }) { id name kind } }";
    let added = hub.coordinator.graphql(add, json!({ "n": "  bognor ", "k": "PLACE" })).await;
    assert_eq!(added["data"]["addGazetteerEntry"]["name"], "bognor");
    let twice = hub.coordinator.graphql(add, json!({ "n": "BOGNOR", "k": "PLACE" })).await;
    assert_eq!(twice["errors"][0]["extensions"]["field"], "input.name", "{twice}");
    let kindless = hub.coordinator.graphql(add, json!({ "n": "Arundel" })).await;
    assert_eq!(kindless["errors"][0]["extensions"]["field"], "input.kind", "{kindless}");

    let text = "Went to the chemist in Bognor and Marnie said ring 07700 900123 or write to help@example.org.";
    let id = log(&hub, text, "2026-03-02", &[], None).await;
    let query =
        "query($id: ID!) { feedbackItem(id: $id) { redactedText suggestedRedactions { text start end reason } } }";
    let item = hub.coordinator.graphql(query, json!({ "id": id })).await;
    let found: Vec<(String, String)> = item["data"]["feedbackItem"]["suggestedRedactions"]
        .as_array()
        .unwrap_or_else(|| panic!("{item}"))
        .iter()
        .map(|s| (s["text"].as_str().unwrap().to_owned(), s["reason"].as_str().unwrap().to_owned()))
        .collect();
    let expected =
        [("Bognor", "GAZETTEER"), ("Marnie", "NAME"), ("07700 900123", "PHONE"), ("help@example.org", "EMAIL")];
    assert_eq!(found, expected.map(|(t, r)| (t.to_owned(), r.to_owned())));
    assert_eq!(item["data"]["feedbackItem"]["redactedText"], Value::Null, "nothing is taken out by itself");

    // On the page: each one ticked, for the coordinator to confirm; one is unticked.
    let mut coordinator = Browser::log_in(&hub.app, "coordinator@example.org").await;
    let page = coordinator.get("/moderation").await;
    for (passage, _) in &expected {
        assert!(
            page.body.contains(&format!("name=\"suggested\" type=\"checkbox\" value=\"{passage}\" checked")),
            "{passage}"
        );
    }
    assert!(page.body.contains("<mark>Marnie</mark>"), "the suggestions are marked in the words that would be shared");
    let mut fields = form_fields(&page.body, "/moderation/redact", &format!("id=\"item-{id}\""));
    fields.extend(["Bognor", "Marnie", "help@example.org"].map(|passage| ("suggested".to_owned(), passage.to_owned())));
    fields.push((format!("passages-{id}"), "the chemist".to_owned()));
    let redacted = coordinator.post("/moderation/redact", &fields).await;
    assert_eq!(redacted.status, 303);
    assert!(redacted.location.as_deref().unwrap().ends_with(&format!("#item-{id}")), "back at the item to share it");
    let shown = coordinator.follow(&redacted).await;
    assert!(shown.body.contains("Redacted. Check the shared version, then share it."));
    let after = hub.coordinator.graphql(query, json!({ "id": id })).await;
    assert_eq!(
        after["data"]["feedbackItem"]["redactedText"],
        "Went to [redacted] in [redacted] and [redacted] said ring 07700 900123 or write to [redacted].",
        "what was confirmed, and only that"
    );
    let share = "mutation($id: ID!) { shareFeedback(id: $id) { id } }";
    hub.coordinator.graphql(share, json!({ "id": id })).await;
    let seen =
        hub.commissioner.graphql("query($id: ID!) { feedbackItem(id: $id) { text } }", json!({ "id": id })).await;
    assert_eq!(
        seen["data"]["feedbackItem"]["text"], after["data"]["feedbackItem"]["redactedText"],
        "the redacted text is what is shared"
    );
}

#[tokio::test]
async fn after_an_action_the_coordinator_is_back_on_the_same_page_and_filters_at_the_next_item() {
    let hub = hub().await;
    let mut housing = Vec::new();
    for n in 0..25 {
        let theme: &[&str] = if n % 5 == 4 { &["Opening hours"] } else { &["Housing and ghettoisation"] };
        let id = log(&hub, &format!("Point {n} about where people live"), &day(n), theme, None).await;
        if n % 5 != 4 {
            housing.push(id);
        }
    }
    assert_eq!(housing.len(), 20);
    let mut coordinator = Browser::log_in(&hub.app, "coordinator@example.org").await;
    let path = "/moderation?hub=arun&theme=housing-and-ghettoisation&order=newest";
    let page = coordinator.get(path).await;
    assert!(page.body.contains("20 items to moderate match what you chose"), "{}", page.body);
    // Newest first, the fourth on the page.
    let shown: Vec<&str> =
        page.body.split("<h2 id=\"item-").skip(1).map(|rest| rest.split('"').next().unwrap()).collect();
    assert_eq!(shown.len(), 20);
    let (target, next) = (shown[3], shown[4]);
    let fields = form_fields(&page.body, "/moderation/share", &format!("id=\"item-{target}\""));
    let shared = coordinator.post("/moderation/share", &fields).await;
    assert_eq!(shared.status, 303);
    assert_eq!(
        shared.location.as_deref(),
        Some(format!("/moderation?hub=arun&theme=housing-and-ghettoisation&order=newest#item-{next}").as_str())
    );
    let back = coordinator.follow(&shared).await;
    let notice = back.body.find("Shared. It has left the queue.").expect("it says what happened");
    let next_at = back.body.find(&format!("<h2 id=\"item-{next}\"")).expect("the next item is there");
    let target_gone = !back.body.contains(&format!("id=\"item-{target}\""));
    assert!(target_gone && notice < next_at, "the notice stands just above the next item");
    assert_eq!(back.body[notice..next_at].matches("<article").count(), 1, "with nothing between but its own card");

    // Paging keeps the filters: the whole queue, 24 left, is two pages.
    let whole = coordinator.get("/moderation?hub=arun&order=newest").await;
    assert!(whole.body.contains("Page 1 of 2"), "{}", whole.body);
    assert!(
        whole.body.contains("href=\"/moderation?hub=arun&amp;order=newest&amp;page=2\" rel=\"next\""),
        "{}",
        whole.body
    );
    let second = coordinator.get("/moderation?hub=arun&order=newest&page=2").await;
    let last: Vec<&str> =
        second.body.split("<h2 id=\"item-").skip(1).map(|rest| rest.split('"').next().unwrap()).collect();
    assert_eq!(last.len(), 4, "24 left, 20 on the first page");
    // Held one by one until the last page holds one item; holding that goes back a page.
    for id in &last[..3] {
        let mut fields = form_fields(&second.body, "/moderation/hold", &format!("id=\"item-{id}\""));
        fields.push(("reason".into(), "Check first".into()));
        assert_eq!(coordinator.post("/moderation/hold", &fields).await.status, 303);
    }
    let alone = coordinator.get("/moderation?hub=arun&order=newest&page=2").await;
    let mut fields = form_fields(&alone.body, "/moderation/hold", &format!("id=\"item-{}\"", last[3]));
    fields.push(("reason".into(), "Check first".into()));
    let held = coordinator.post("/moderation/hold", &fields).await;
    assert_eq!(held.location.as_deref(), Some("/moderation?hub=arun&order=newest"), "the page before, at its top");
    let held_page = coordinator.get("/moderation/held?hub=arun").await;
    assert!(held_page.body.contains("4 items held") && held_page.body.contains("because: </strong>Check first"));
    let release = form_fields(&held_page.body, "/moderation/release", &format!("id=\"item-{}\"", last[3]));
    let released = coordinator.post("/moderation/release", &release).await;
    assert!(
        released.location.as_deref().unwrap().starts_with("/moderation/held?hub=arun#item-"),
        "{:?}",
        released.location
    );
    let back = coordinator.follow(&released).await;
    assert!(back.body.contains("Released. It is back in the queue to moderate.") && back.body.contains("3 items held"));
}

#[tokio::test]
async fn the_gazetteer_page_adds_and_takes_off_names_and_explains_a_mistake_beside_its_field() {
    let hub = hub().await;
    let mut coordinator = Browser::log_in(&hub.app, "coordinator@example.org").await;
    let page = coordinator.get("/moderation/gazetteer").await;
    assert!(page.body.contains("Nothing yet."), "{}", page.body);
    let add = |name: &str, kind: &str| {
        vec![("hub".to_owned(), "arun".to_owned()), ("name".into(), name.into()), ("kind".into(), kind.into())]
    };
    let added = coordinator.post("/moderation/gazetteer", &add("Rustington", "PLACE")).await;
    assert_eq!((added.status, added.location.as_deref()), (303, Some("/moderation/gazetteer?hub=arun")));
    let list = coordinator.follow(&added).await;
    assert!(
        list.body.contains("Added to the list.")
            && list.body.contains("<span class=\"gazetteer-name\">Rustington</span>")
    );

    let nameless = coordinator.submit("/moderation/gazetteer", &add(" ", "PLACE")).await;
    assert_eq!(nameless.status, 422);
    assert!(nameless.body.contains("<a href=\"#name\">Write the name or place"), "{}", nameless.body);
    let kindless = coordinator.submit("/moderation/gazetteer", &add("Arundel", "")).await;
    assert!(kindless.body.contains("<a href=\"#kind\">Choose whether it is a person or a place"), "{}", kindless.body);
    assert!(kindless.body.contains("value=\"Arundel\""), "what was typed is kept");
    let twice = coordinator.submit("/moderation/gazetteer", &add("rustington", "PLACE")).await;
    assert!(twice.body.contains("This name is on the list already"), "{}", twice.body);

    let entry = hub.coordinator.graphql("{ gazetteer(hub: \"arun\") { id } }", json!({})).await;
    let entry = entry["data"]["gazetteer"][0]["id"].as_str().unwrap().to_owned();
    let removed =
        coordinator.post("/moderation/gazetteer/remove", &[("hub".into(), "arun".into()), ("id".into(), entry)]).await;
    let list = coordinator.follow(&removed).await;
    assert!(list.body.contains("Taken off the list.") && list.body.contains("Nothing yet."));
}
