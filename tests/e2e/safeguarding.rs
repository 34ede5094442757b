//! Safeguarding follow-up, end to end: a disclosure of risk goes to a coordinator of its hub
//! chosen by name; they record what was done on the day it happened, hand it to another
//! coordinator of the hub, and mark it dealt with, each an event on the disclosure's own
//! stream with its notes sealed. Nobody else (another hub's coordinator, a hub member, a
//! commissioner, a provider, someone not logged in) can read or act on it, through GraphQL or
//! the web pages, and nothing of it reaches shared feedback, search or reports.

use heard_access::Role;
use heard_tests::{Session, TestApp, error_code, spawn_app};
use serde_json::{Value, json};

/// What a person disclosed, and what the coordinator wrote about it.
const SAID: &str = "He told us he has been thinking about ending his life since the eviction";
const NOTES: &str = "Rang Marek Wojcik at home; his sister Ilona is staying with him tonight";

/// Arun's people, each logged in, and the ids the scenarios need.
struct Arun {
    app: TestApp,
    member: Session,
    coordinator: Session,
    coordinator_id: String,
    /// A second coordinator of Arun, to hand disclosures to.
    colleague: Session,
    colleague_id: String,
    crawley: Session,
    crawley_id: String,
    commissioner: Session,
    provider: Session,
}

async fn arun() -> Arun {
    let app = spawn_app().await;
    let [(_, member), (coordinator_id, coordinator), (crawley_id, crawley), (_, commissioner), (_, provider)] =
        app.people(["member", "coordinator", "crawley", "commissioner", "addaction"]).await;
    let colleague_id = app.create_user("colleague@example.org", &[Role::HubCoordinator], &["arun"]).await;
    let colleague = app.login("colleague@example.org").await;
    Arun {
        app,
        member,
        coordinator,
        coordinator_id: coordinator_id.to_string(),
        colleague,
        colleague_id: colleague_id.to_string(),
        crawley,
        crawley_id: crawley_id.to_string(),
        commissioner,
        provider,
    }
}

const DISCLOSURE: &str = "query($id: ID!) { safeguardingDisclosure(id: $id) { id open outcome coordinatorId urgency \
    item { text } followUp { kind step on by toCoordinator outcome notes } } }";
const RECORD: &str =
    "mutation($i: RecordSafeguardingActionInput!) { recordSafeguardingAction(input: $i) { id actionsRecorded } }";
const HAND_OVER: &str =
    "mutation($i: HandSafeguardingOverInput!) { handSafeguardingOver(input: $i) { itemId coordinatorId } }";
const CLOSE: &str = "mutation($i: CloseSafeguardingInput!) { closeSafeguarding(input: $i) { id open outcome } }";

/// An item the member logs about Addaction, shareable with commissioners, then flagged to the
/// coordinator: its id.
async fn disclosed(arun: &Arun) -> String {
    let id = arun
        .member
        .log_feedback(json!({ "hub": "arun", "text": SAID, "channel": "DROP_IN", "saidOn": "2026-11-02",
                "speaker": "ANONYMOUS", "consent": "PUBLIC", "about": "Addaction" }))
        .await;
    arun.member.flag_safeguarding(&id, &arun.coordinator_id).await;
    id
}

async fn record_step(session: &Session, id: &str, step: &str, notes: &str) -> Value {
    session.graphql(RECORD, json!({ "i": { "itemId": id, "step": step, "notes": notes } })).await
}

/// Everything appended to the log since `before`, but access records, as (category, type).
async fn appended_since(app: &TestApp, before: u64) -> Vec<(String, String)> {
    app.settled().await;
    let events = app.store.read_all(before + 1, 10_000).await.expect("the log reads");
    events
        .iter()
        .filter(|event| event.stream.category() != "access")
        .map(|event| (event.stream.category().to_owned(), event.event_type.clone()))
        .collect()
}

/// A form posted by `session` to `path`, with its CSRF token: the page that answers, after
/// any redirect, as (status, final path and query, body).
async fn post_form(session: &Session, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let (status, url, page) = session.post_form_followed(path, fields).await;
    let at = format!("{}{}", url.path(), url.query().map(|q| format!("?{q}")).unwrap_or_default());
    (status, at, page)
}

async fn page(app: &TestApp, session: &Session, path: &str) -> (u16, String) {
    let response = session.client.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_coordinator_records_what_was_done_hands_it_over_and_it_is_marked_dealt_with_as_events_on_its_own_stream() {
    let arun = arun().await;
    let id = disclosed(&arun).await;
    let before = arun.app.store.head().position;

    let recorded = record_step(&arun.coordinator, &id, "SPOKE_TO_PERSON", NOTES).await;
    assert_eq!(recorded["data"]["recordSafeguardingAction"]["actionsRecorded"], 1, "{recorded}");
    let seen = arun.coordinator.graphql(DISCLOSURE, json!({ "id": id })).await;
    let disclosure = &seen["data"]["safeguardingDisclosure"];
    assert_eq!(disclosure["item"]["text"], SAID, "{seen}");
    assert_eq!(disclosure["urgency"], "TODAY");
    let step = &disclosure["followUp"][0];
    assert_eq!((step["kind"].as_str(), step["step"].as_str()), (Some("ACTION"), Some("SPOKE_TO_PERSON")));
    assert_eq!(step["on"], heard_api::today().to_string(), "a step left without a day happened today");
    assert_eq!(step["by"], arun.coordinator_id.as_str(), "who recorded it");
    assert_eq!(step["notes"], NOTES);

    let handed = arun
        .coordinator
        .graphql(
            HAND_OVER,
            json!({ "i": { "itemId": id, "coordinatorId": arun.colleague_id, "notes": "Back Monday" } }),
        )
        .await;
    assert_eq!(handed["data"]["handSafeguardingOver"]["coordinatorId"], arun.colleague_id.as_str(), "{handed}");
    // It is the colleague's now, alone: the words, the follow-up, and the way to close it.
    assert_eq!(error_code(&arun.coordinator.graphql(DISCLOSURE, json!({ "id": id })).await), Some("NOT_FOUND"));
    let item = "query($id: ID!) { feedbackItem(id: $id) { text } }";
    assert_eq!(error_code(&arun.coordinator.graphql(item, json!({ "id": id })).await), Some("NOT_FOUND"));
    assert_eq!(arun.colleague.graphql(item, json!({ "id": id })).await["data"]["feedbackItem"]["text"], SAID);
    let others =
        arun.coordinator.graphql("{ safeguardingWithOthers { coordinatorId actionsRecorded } }", json!({})).await;
    assert_eq!(
        others["data"]["safeguardingWithOthers"],
        json!([{ "coordinatorId": arun.colleague_id, "actionsRecorded": 1 }]),
        "the first coordinator still sees who has it, never what was said"
    );
    let closing = arun.colleague.graphql(CLOSE, json!({ "i": { "itemId": id, "outcome": "REFERRED_ON" } })).await;
    assert_eq!(closing["data"]["closeSafeguarding"], json!({ "id": id, "open": false, "outcome": "REFERRED_ON" }));
    let again = record_step(&arun.colleague, &id, "SPOKE_TO_PERSON", "").await;
    assert_eq!(error_code(&again), Some("CONFLICT"), "nothing more is added once dealt with: {again}");
    let dealt = arun.colleague.graphql("{ safeguardingDisclosures(dealtWith: true) { id } }", json!({})).await;
    assert_eq!(dealt["data"]["safeguardingDisclosures"], json!([{ "id": id }]));

    let stream = format!("safeguarding-{id}");
    let events = arun.app.store.read_stream_to_end(&heard_eventstore::StreamName::new(stream).unwrap()).await.unwrap();
    let types: Vec<&str> = events.iter().map(|event| event.event_type.as_str()).collect();
    assert_eq!(types, ["SafeguardingActionRecorded", "SafeguardingHandedOver", "SafeguardingClosed"]);
    let appended = appended_since(&arun.app, before).await;
    assert!(appended.iter().all(|(category, _)| category == "safeguarding"), "{appended:?}");
}

#[tokio::test]
async fn the_notes_are_sealed_with_the_persons_key_and_never_in_clear_in_the_log() {
    let arun = arun().await;
    let id = disclosed(&arun).await;
    let recorded = record_step(&arun.coordinator, &id, "OTHER", NOTES).await;
    assert!(recorded["data"]["recordSafeguardingAction"].is_object(), "{recorded}");
    let app = arun.app;
    app.settled().await;
    let data_dir = app.shutdown().await;
    let mut found = Vec::new();
    for entry in std::fs::read_dir(data_dir.path().join("log")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for secret in ["Marek Wojcik", "Ilona", "staying with him"] {
            if bytes.windows(secret.len()).any(|window| window == secret.as_bytes()) {
                found.push(secret);
            }
        }
    }
    assert!(found.is_empty(), "notes in clear in the log: {found:?}");
}

#[tokio::test]
async fn nobody_but_the_coordinator_it_is_with_can_read_or_act_on_a_disclosure_or_its_follow_up() {
    let arun = arun().await;
    let id = disclosed(&arun).await;
    record_step(&arun.coordinator, &id, "SPOKE_TO_PERSON", NOTES).await;
    let before = arun.app.store.head().position;
    let anonymous = |query: &'static str, variables: Value| {
        let app = &arun.app;
        async move { app.graphql(query, variables).await }
    };
    let record = json!({ "i": { "itemId": id, "step": "OTHER", "notes": "nosy" } });
    let hand = json!({ "i": { "itemId": id, "coordinatorId": arun.crawley_id } });
    let close = json!({ "i": { "itemId": id, "outcome": "SUPPORT_IN_PLACE" } });
    // Another hub's coordinator, a member of the hub, a commissioner, a provider and a
    // colleague of the same hub it is not with: the disclosure does not exist for them.
    for (who, session) in [
        ("another hub's coordinator", &arun.crawley),
        ("a member of the hub", &arun.member),
        ("a commissioner", &arun.commissioner),
        ("a provider", &arun.provider),
        ("a coordinator of the hub it is not with", &arun.colleague),
    ] {
        for (query, variables) in [
            (DISCLOSURE, json!({ "id": id })),
            (RECORD, record.clone()),
            (HAND_OVER, hand.clone()),
            (CLOSE, close.clone()),
        ] {
            let answer = session.graphql(query, variables).await;
            assert_eq!(error_code(&answer), Some("NOT_FOUND"), "{who}: {answer}");
            assert_eq!(answer["data"], Value::Null, "{who} gets no data: {answer}");
        }
        let lists =
            session.graphql("{ safeguardingDisclosures { id } safeguardingWithOthers { flaggedOn } }", json!({})).await;
        let text = lists.to_string();
        assert!(!text.contains(&id) && !text.contains(NOTES), "{who} lists nothing of it: {lists}");
    }
    for (query, variables) in
        [(DISCLOSURE, json!({ "id": id })), (RECORD, record.clone()), (HAND_OVER, hand.clone()), (CLOSE, close.clone())]
    {
        assert_eq!(error_code(&anonymous(query, variables).await), Some("UNAUTHENTICATED"), "{query}");
    }
    // Something that is no disclosure answers exactly like one that is not yours.
    let nothing = arun.member.graphql(DISCLOSURE, json!({ "id": uuid::Uuid::new_v4() })).await;
    let theirs = arun.member.graphql(DISCLOSURE, json!({ "id": id })).await;
    assert_eq!(nothing["errors"][0]["message"], theirs["errors"][0]["message"]);
    assert!(appended_since(&arun.app, before).await.is_empty(), "nothing was appended but access records");
    let seen = arun.coordinator.graphql(DISCLOSURE, json!({ "id": id })).await;
    assert_eq!(seen["data"]["safeguardingDisclosure"]["followUp"].as_array().map(Vec::len), Some(1), "{seen}");
    assert_eq!(seen["data"]["safeguardingDisclosure"]["coordinatorId"], arun.coordinator_id.as_str());
}

#[tokio::test]
async fn nothing_of_a_disclosure_or_its_follow_up_reaches_shared_feedback_search_or_reports() {
    let arun = arun().await;
    let id = disclosed(&arun).await;
    record_step(&arun.coordinator, &id, "REFERRED_TO_PROVIDER_LEAD", NOTES).await;
    arun.app.settled().await;
    let reads = [
        "{ feedbackItems(first: 100) { edges { node { id text } } } }",
        "{ searchFeedback(query: \"ending his life eviction Marek\") { total edges { node { fragment } } } }",
        "{ youSaidWeDid { csv } }",
        "{ youSaidWeDid(scope: { hub: \"arun\" }) { csv } }",
    ];
    for (who, session) in [
        ("a member of the hub", &arun.member),
        ("a commissioner", &arun.commissioner),
        ("a provider", &arun.provider),
        ("another hub's coordinator", &arun.crawley),
        ("the coordinator it is with", &arun.coordinator),
    ] {
        for query in reads {
            let answer = session.graphql(query, json!({})).await.to_string();
            assert!(!answer.contains("Marek") && !answer.contains("Ilona"), "{who}: {query}: {answer}");
            if who != "the coordinator it is with" || !query.contains("feedbackItems") {
                assert!(!answer.contains("ending his life"), "{who}: {query}: {answer}");
            }
        }
    }
    let public = arun.app.get("/reports/you-said-we-did?format=csv").await.text().await.unwrap();
    assert!(!public.contains("ending his life") && !public.contains("Marek"), "{public}");
}

#[tokio::test]
async fn the_person_flagging_chooses_the_coordinator_by_name_from_a_list_with_nobody_chosen_in_advance() {
    let arun = arun().await;
    let id = arun
        .member
        .log_feedback(json!({ "hub": "arun", "text": SAID, "channel": "DROP_IN", "saidOn": "2026-11-02",
                "speaker": "ANONYMOUS", "consent": "PUBLIC" }))
        .await;
    let (status, moderation) = page(&arun.app, &arun.coordinator, "/moderation").await;
    assert_eq!(status, 200);
    let select = moderation.split(&format!("<select id=\"coordinator-{id}\"")).nth(1).expect("a list of coordinators");
    let select = select.split("</select>").next().unwrap();
    assert!(select.contains(r#"<option value="" selected>Choose a coordinator</option>"#), "{select}");
    assert!(select.contains("Test colleague") && select.contains("Test coordinator (you)"), "by name: {select}");
    assert!(!select.contains("Crawley") && !select.contains("Test crawley"), "only the hub's coordinators: {select}");
    assert!(!select.contains(&format!("{}\" selected", arun.coordinator_id)), "not \"you\" by default: {select}");
    let names = arun.member.graphql("{ coordinators(hub: \"arun\") { displayName } }", json!({})).await;
    assert_eq!(
        names["data"]["coordinators"],
        json!([{ "displayName": "Test colleague" }, { "displayName": "Test coordinator" }]),
        "a member of the hub sees who coordinates it, by name"
    );
    for session in [&arun.commissioner, &arun.provider, &arun.crawley] {
        let refused = session.graphql("{ coordinators(hub: \"arun\") { id } }", json!({})).await;
        assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
    }

    // Nobody chosen: the form says so beside the field, and nothing is flagged.
    let field = format!("coordinator-{id}");
    let (_, _, body) = post_form(&arun.coordinator, "/moderation/safeguarding", &[("id", &id), ("hub", "arun")]).await;
    assert!(body.contains(&format!("id=\"{field}-error\"")), "the error is beside the list: {body}");
    assert!(arun.app.feedback.item(id.parse().unwrap()).unwrap().safeguarding.is_none());
    // Chosen by name: the colleague gets it.
    let chosen = [("id", id.as_str()), ("hub", "arun"), (field.as_str(), arun.colleague_id.as_str())];
    let (status, at, body) = post_form(&arun.coordinator, "/moderation/safeguarding", &chosen).await;
    assert_eq!(status, 200, "{at}");
    assert!(body.contains("Sent for safeguarding"), "the flag is confirmed: {at}");
    let with = arun.app.feedback.item(id.parse().unwrap()).unwrap().safeguarding.map(|c| c.to_string());
    assert_eq!(with.as_deref(), Some(arun.colleague_id.as_str()));
}

#[tokio::test]
async fn a_forged_form_naming_a_coordinator_of_another_hub_is_refused_beside_the_field_and_changes_nothing() {
    let arun = arun().await;
    let id = disclosed(&arun).await;
    let before = arun.app.store.head().position;
    // Handing over, through the page and through GraphQL.
    let path = format!("/safeguarding/{id}/handover");
    let forged = [("coordinator_id", arun.crawley_id.as_str())];
    let (status, _, body) = post_form(&arun.coordinator, &path, &forged).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains(r##"<a href="#coordinator_id">"##), "the summary links to the field: {body}");
    assert!(body.contains("id=\"coordinator_id-error\""), "the error is beside the field: {body}");
    assert!(body.contains("choose a coordinator of this disclosure") || body.contains("Choose a coordinator of this"));
    let answer =
        arun.coordinator.graphql(HAND_OVER, json!({ "i": { "itemId": id, "coordinatorId": arun.crawley_id } })).await;
    assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["field"], "input.coordinatorId");
    // Flagging another item to Crawley's coordinator.
    let other = arun
        .member
        .log_feedback(json!({ "hub": "arun", "text": SAID, "channel": "DROP_IN", "saidOn": "2026-11-02",
                "speaker": "ANONYMOUS", "consent": "PUBLIC" }))
        .await;
    let before_flag = arun.app.store.head().position;
    let field = format!("coordinator-{other}");
    let forged = [("id", other.as_str()), ("hub", "arun"), (field.as_str(), arun.crawley_id.as_str())];
    let (_, _, body) = post_form(&arun.coordinator, "/moderation/safeguarding", &forged).await;
    assert!(body.contains(&format!("id=\"{field}-error\"")), "the error is beside the list: {body}");

    assert!(appended_since(&arun.app, before_flag).await.is_empty(), "the forged flag changed nothing");
    assert_eq!(
        appended_since(&arun.app, before).await,
        [("feedback".to_owned(), "FeedbackLogged".to_owned())],
        "the forged hand-over changed nothing"
    );
    let disclosure = arun.app.feedback.disclosure(id.parse().unwrap()).unwrap();
    assert_eq!(disclosure.coordinator.to_string(), arun.coordinator_id, "still with the coordinator");
    assert!(arun.app.feedback.item(other.parse().unwrap()).unwrap().safeguarding.is_none());
}

#[tokio::test]
async fn a_step_dated_before_the_flag_or_in_the_future_is_refused_beside_the_day_and_what_was_typed_stays() {
    let arun = arun().await;
    let id = disclosed(&arun).await;
    let path = format!("/safeguarding/{id}/action");
    let tomorrow = heard_api::today().tomorrow().unwrap().strftime("%-d/%-m/%Y").to_string();
    let yesterday = heard_api::today().yesterday().unwrap().strftime("%d/%m/%Y").to_string();
    for (day, says) in [(tomorrow.as_str(), "in the future"), (yesterday.as_str(), "before the disclosure was flagged")]
    {
        let typed = [("step", "SPOKE_TO_PERSON"), ("action_on", day), ("notes", "Rang them")];
        let (status, _, body) = post_form(&arun.coordinator, &path, &typed).await;
        assert_eq!(status, 422, "{day}");
        assert!(body.contains(r##"<a href="#action_on">"##), "{day}: {body}");
        assert!(body.contains("id=\"action_on-error\"") && body.contains(says), "{day}: {body}");
        assert!(body.contains(&format!("value=\"{day}\"")) && body.contains("Rang them"), "what was typed stays");
    }
    let (status, _, body) =
        post_form(&arun.coordinator, &path, &[("step", "SPOKE_TO_PERSON"), ("action_on", "30/2/2026")]).await;
    assert_eq!(status, 422);
    assert!(body.contains("id=\"action_on-error\""), "a day that does not exist: {body}");
    let through_the_api = arun
        .coordinator
        .graphql(RECORD, json!({ "i": { "itemId": id, "step": "SPOKE_TO_PERSON", "on": "2001-01-01" } }))
        .await;
    assert_eq!(through_the_api["errors"][0]["extensions"]["field"], "input.on", "{through_the_api}");
    assert!(arun.app.feedback.disclosure(id.parse().unwrap()).unwrap().entries.is_empty());
}

#[tokio::test]
async fn every_safeguarding_form_posts_then_redirects_to_a_page_that_says_what_happened() {
    let arun = arun().await;
    let id = disclosed(&arun).await;
    let (status, detail) = page(&arun.app, &arun.coordinator, &format!("/safeguarding/{id}")).await;
    assert_eq!(status, 200);
    assert!(detail.contains(SAID), "the disclosure's page shows what was said");
    assert!(
        !detail.contains("name=\"outcome\" type=\"radio\" value=\"SUPPORT_IN_PLACE\" checked"),
        "no outcome chosen"
    );
    assert!(!detail.contains(" checked"), "nothing is chosen in advance: {detail}");

    let (status, _, body) =
        post_form(&arun.coordinator, &format!("/safeguarding/{id}/close"), &[("close_notes", "x")]).await;
    assert_eq!(status, 422, "closing needs an outcome");
    assert!(body.contains(r##"<a href="#outcome">"##) && body.contains("id=\"outcome-error\""), "{body}");

    let today = heard_api::today().strftime("%-d/%-m/%Y").to_string();
    let consent = format!("consent-{id}");
    // (the form's step, what it posts, what the page it lands on says)
    type Posted<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let steps: [Posted; 4] = [
        ("action", vec![("step", "CALLED_EMERGENCY_SERVICES"), ("action_on", &today), ("notes", NOTES)], "Saved"),
        ("consent", vec![(consent.as_str(), "HUB")], "Consent changed"),
        ("close", vec![("outcome", "EMERGENCY_SERVICES_RESPONDED")], "Marked dealt with"),
        ("consent", vec![(consent.as_str(), "WITHDRAWN")], "Consent changed"),
    ];
    for (step, fields, says) in steps {
        let (status, at, body) = post_form(&arun.coordinator, &format!("/safeguarding/{id}/{step}"), &fields).await;
        assert_eq!(status, 200, "{step}: {body}");
        assert_eq!(at, format!("/safeguarding/{id}"), "{step}: redirected to a GET, with nothing in the address");
        assert!(body.contains(says), "{step}: {body}");
    }
    let (_, closed) = page(&arun.app, &arun.coordinator, &format!("/safeguarding/{id}")).await;
    assert!(closed.contains("Emergency services responded"), "{closed}");
    assert!(closed.contains("Called emergency services") && closed.contains("Marek Wojcik"), "the timeline: {closed}");
    assert!(!closed.contains("Save to the follow-up"), "nothing more to record once dealt with");
    assert!(closed.contains("consent withdrawn"), "the words are gone once consent is withdrawn");
}

#[tokio::test]
async fn the_safeguarding_page_counts_what_is_open_in_the_menu_and_says_who_has_each_of_the_hubs_disclosures() {
    let arun = arun().await;
    let id = disclosed(&arun).await;
    let (status, list) = page(&arun.app, &arun.coordinator, "/safeguarding").await;
    assert_eq!(status, 200);
    assert!(
        list.contains(
            r#"<a href="/safeguarding" aria-current="page">Safeguarding <span class="menu-count">(1 open)</span></a>"#
        ),
        "the menu counts it in words: {list}"
    );
    assert!(list.contains("Flagged today (1)") && list.contains(SAID), "{list}");
    // Counting for the menu reads nothing of them: no page view writes to the log for it.
    arun.app.settled().await;
    let before = arun.app.store.head().position;
    for path in ["/", "/report-back", "/moderation"] {
        let (status, shown) = page(&arun.app, &arun.coordinator, path).await;
        assert!(status == 200 && shown.contains("(1 open)"), "{path}");
    }
    arun.app.settled().await;
    assert_eq!(arun.app.store.head().position, before, "the count appended nothing, not even an access record");
    assert!(list.contains(&format!("href=\"/safeguarding/{id}\"")), "{list}");

    let (_, colleague) = page(&arun.app, &arun.colleague, "/safeguarding").await;
    assert!(
        colleague.contains(r#"<a href="/safeguarding" aria-current="page">Safeguarding</a>"#),
        "nothing open with the colleague"
    );
    assert!(colleague.contains("With other coordinators of your hubs") && colleague.contains("Test coordinator"));
    assert!(!colleague.contains(SAID) && !colleague.contains(&id), "never what was said, nor a way in: {colleague}");
    let (status, _) = page(&arun.app, &arun.colleague, &format!("/safeguarding/{id}")).await;
    assert_eq!(status, 404, "the colleague cannot open it");

    for (who, session) in [("member", &arun.member), ("commissioner", &arun.commissioner), ("provider", &arun.provider)]
    {
        for path in ["/safeguarding".to_owned(), format!("/safeguarding/{id}")] {
            let (status, body) = page(&arun.app, session, &path).await;
            assert_eq!(status, 403, "{who}: {path}");
            assert!(body.contains("<h1>This page is for") && !body.contains(SAID), "{who}: {path}");
            assert!(!body.contains("href=\"/safeguarding\""), "{who} has no safeguarding in the menu");
        }
    }
    let (status, crawley) = page(&arun.app, &arun.crawley, &format!("/safeguarding/{id}")).await;
    assert_eq!(status, 404, "another hub's coordinator finds nothing there");
    assert!(!crawley.contains(SAID));
    let anonymous = arun.app.client.get(arun.app.url(&format!("/safeguarding/{id}"))).send().await.unwrap();
    assert!(anonymous.url().path().starts_with("/login"), "someone not logged in is asked to log in");
}

#[tokio::test]
async fn old_links_to_the_safeguarding_queue_still_lead_there_and_its_consent_form_still_works() {
    let arun = arun().await;
    let id = disclosed(&arun).await;
    let (_, report_back) = page(&arun.app, &arun.coordinator, "/report-back").await;
    assert!(report_back.contains(r#"id="safeguarding""#) && report_back.contains(r#"href="/safeguarding""#));
    assert!(!report_back.contains(SAID), "the words have left Report back");
    let field = format!("consent-{id}");
    let (status, at, body) =
        post_form(&arun.coordinator, "/report-back/consent", &[("id", &id), (&field, "HUB")]).await;
    assert_eq!((status, at.as_str()), (200, format!("/safeguarding/{id}").as_str()), "{body}");
    assert!(body.contains("Consent changed"), "{body}");
    let consent = arun.app.feedback.item(id.parse().unwrap()).unwrap().consent;
    assert_eq!(consent, Some(heard_access::Consent::Hub));
}

#[tokio::test]
async fn the_demo_gives_aruns_coordinator_an_open_disclosure_to_follow_up_and_shows_one_dealt_with() {
    let app = spawn_app().await;
    heard_demo::seed(app.services.demo()).await.expect("the demo seeds");
    app.settled().await;
    let coordinator =
        app.try_login("coordinator.arun@demo.heard.example", "heard demo coordinator.arun").await.unwrap();
    let open = coordinator.graphql("{ safeguardingDisclosures { id actionsRecorded } }", json!({})).await;
    let open = open["data"]["safeguardingDisclosures"].as_array().cloned().unwrap_or_default();
    assert!(!open.is_empty(), "Arun's coordinator has a disclosure to follow up");
    let disclosures = app.feedback.read(|state| state.disclosures.values().cloned().collect::<Vec<_>>());
    assert!(disclosures.iter().any(|d| !d.is_open()), "one is shown dealt with");
    assert!(disclosures.iter().any(|d| d.is_open() && d.actions_recorded() > 0), "one has a step recorded");
}
