//! Control characters in what people type. A NUL, an escape sequence or a backspace in
//! feedback, a complaint or a decision would be stored for good in an append-only log, then
//! printed in reports, exported to CSV and shown to other people's terminals. Every free-text
//! field refuses them, naming the field, before anything is appended; tab and newline are kept,
//! and the CRLF a browser sends for a textarea's newline is stored as LF.

use heard_tests::{Session, Staff, TestApp, error_code, page_with_status, staff};
use serde_json::{Value, json};

const LOG: &str = "mutation($i: LogFeedbackInput!) { logFeedback(input: $i) { id text } }";
const RAISE: &str = "mutation($i: RaiseComplaintInput!) { raiseComplaint(input: $i) { id whatHappened } }";
const PROPOSE: &str = "mutation($i: ProposeDecisionInput!) { proposeDecision(input: $i) { id title } }";

fn feedback(text: &str) -> Value {
    json!({ "hub": "arun", "text": text, "channel": "FORUM", "saidOn": "2026-11-01", "speaker": "ANONYMOUS", "consent": "HUB" })
}

fn complaint(what_happened: &str) -> Value {
    json!({
        "provider": "cri", "articles": [2], "complainantKind": "ANONYMOUS", "route": "HUB",
        "whatHappened": what_happened, "outcomeWanted": "A leaflet in the waiting room",
    })
}

fn decision(title: &str) -> Value {
    json!({
        "title": title, "serviceArea": "Treatment", "decidedBy": "DAAT board", "decisionDate": "2026-11-02",
        "ladderRung": 4, "involvement": "Asked at the forum",
    })
}

/// Events in the log, as anyone may read them.
async fn events(app: &TestApp) -> u64 {
    let stats = app.graphql("{ storeStats { events } }", json!({})).await;
    stats["data"]["storeStats"]["events"].as_u64().expect("storeStats answers")
}

/// Sends `query` and checks that it was refused naming `field`, in plain words, and that the
/// log did not grow.
async fn refused(app: &TestApp, session: &Session, query: &str, variables: Value, field: &str) {
    let before = events(app).await;
    let response = session.graphql(query, variables).await;
    assert_eq!(error_code(&response), Some("BAD_USER_INPUT"), "{field}: {response}");
    assert_eq!(response["errors"][0]["extensions"]["field"], field, "{response}");
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(message.ends_with("contains a control character; remove it"), "{field}: {message}");
    assert!(!message.contains('\0') && !message.contains('\u{1b}'), "what was typed is not echoed: {message:?}");
    assert_eq!(events(app).await, before, "{field}: nothing was appended to the log");
}

#[tokio::test]
async fn a_nul_in_feedback_text_is_refused_naming_the_field_and_nothing_is_stored() {
    let cast = staff().await;
    let text = "The groups are too far away\0and nobody told us";
    refused(&cast.app, &cast.member, LOG, json!({ "i": feedback(text) }), "input.text").await;
}

#[tokio::test]
async fn a_nul_in_a_complaint_is_refused_naming_the_field_and_nothing_is_stored() {
    let cast = staff().await;
    let what = "No leaflet\0in the waiting room";
    refused(&cast.app, &cast.handler, RAISE, json!({ "i": complaint(what) }), "whatHappened").await;
}

#[tokio::test]
async fn a_nul_in_a_decision_title_is_refused_naming_the_field_and_nothing_is_stored() {
    let cast = staff().await;
    refused(&cast.app, &cast.commissioner, PROPOSE, json!({ "i": decision("Evening\0opening") }), "input.title").await;
}

#[tokio::test]
async fn every_free_text_field_refuses_control_characters_naming_the_field() {
    let cast = staff().await;
    // `base` with `key` set to `value`, as the `$i` variable.
    fn with(base: Value, key: &str, value: &str) -> Value {
        let mut base = if base.get("i").is_some() { base["i"].clone() } else { base };
        base[key] = json!(value);
        json!({ "i": base })
    }
    let escape = "Sam\u{1b}[2J";
    let rows: Vec<(&Session, &str, Value, &str)> = vec![
        (&cast.member, LOG, json!({ "i": feedback("Bell\u{7} rings") }), "input.text"),
        (
            &cast.member,
            LOG,
            with(with(feedback("Fine"), "speaker", "PSEUDONYMOUS"), "speakerName", escape),
            "input.speakerName",
        ),
        (&cast.member, LOG, with(feedback("Fine"), "about", "the\u{8} pharmacy"), "input.about"),
        (&cast.member, LOG, json!({ "i": feedback("Form\u{c}feed") }), "input.text"),
        (&cast.member, LOG, json!({ "i": feedback("Rub out\u{7f}") }), "input.text"),
        (
            &cast.coordinator,
            "mutation { recordMeeting(input: { hub: \"arun\", heldOn: \"2026-11-01\", attendance: 9, minutes: \"Minutes\\u0000\" }) { id } }",
            json!({}),
            "input.minutes",
        ),
        (
            &cast.coordinator,
            "mutation($n: String!) { addTheme(name: $n) { id } }",
            json!({ "n": "Waiting\u{0}times" }),
            "name",
        ),
        (&cast.handler, RAISE, with(complaint("Fine"), "outcomeWanted", "An apology\0"), "outcomeWanted"),
        (&cast.handler, RAISE, with(complaint("Fine"), "service", "Crawley\u{1b} clinic"), "service"),
        (
            &cast.handler,
            RAISE,
            json!({ "i": { "provider": "cri", "articles": [2], "complainantKind": "NAMED", "complainantName": escape, "route": "DIRECT", "whatHappened": "Fine", "outcomeWanted": "Fine" } }),
            "complainantName",
        ),
        (&cast.commissioner, PROPOSE, with(decision("Fine"), "involvement", "Asked\u{0}"), "input.involvement"),
        (&cast.commissioner, PROPOSE, with(decision("Fine"), "decidedBy", "DAAT\u{1f} board"), "input.decidedBy"),
        (
            &cast.advocate,
            "mutation($i: ReferCaseInput!) { referCase(input: $i) { id } }",
            json!({ "i": { "issue": "My benefits\0 were stopped", "kind": "INSTRUCTED", "referralSource": "SELF_REFERRAL", "domain": "BENEFITS" } }),
            "input.issue",
        ),
        (
            &cast.admin,
            "mutation($n: String!) { createUser(input: { email: \"x@example.org\", displayName: $n, roles: [ADVOCATE] }) { user { id } } }",
            json!({ "n": escape }),
            "input.displayName",
        ),
        (
            &cast.admin,
            "mutation($l: String!) { createApiToken(label: $l) { secret } }",
            json!({ "l": "CRM\0" }),
            "label",
        ),
        (
            &cast.admin,
            "mutation($n: String!) { addHub(input: { name: $n, kind: HUB, area: \"West Sussex\" }) { id } }",
            json!({ "n": "Bognor\u{7}" }),
            "input.name",
        ),
    ];
    for (session, query, variables, field) in rows {
        refused(&cast.app, session, query, variables, field).await;
    }
}

#[tokio::test]
async fn tab_and_newline_are_kept_and_crlf_or_a_lone_cr_is_stored_as_lf() {
    let cast = staff().await;
    let logged = cast.member.graphql(LOG, json!({ "i": feedback("One\r\ntwo\rthree\tfour\nfive") })).await;
    assert_eq!(logged["data"]["logFeedback"]["text"], "One\ntwo\nthree\tfour\nfive", "{logged}");
    let id = logged["data"]["logFeedback"]["id"].as_str().unwrap().to_owned();
    cast.app.settled().await;
    let read =
        cast.coordinator.graphql("query($id: ID!) { feedbackItem(id: $id) { text } }", json!({ "id": id })).await;
    assert_eq!(read["data"]["feedbackItem"]["text"], "One\ntwo\nthree\tfour\nfive", "as stored: {read}");

    // A passage to redact, typed (or pasted) with CRLF, still finds the text stored with LF.
    let redacted = cast
        .coordinator
        .graphql(
            "mutation($id: ID!, $p: [String!]!) { redactFeedback(id: $id, passages: $p) { id } }",
            json!({ "id": id, "p": ["two\r\nthree"] }),
        )
        .await;
    assert!(redacted["errors"].is_null(), "{redacted}");

    let raised = cast.handler.graphql(RAISE, json!({ "i": complaint("Line one\r\n\tLine two") })).await;
    assert_eq!(raised["data"]["raiseComplaint"]["whatHappened"], "Line one\n\tLine two", "{raised}");
    let proposed = cast.commissioner.graphql(PROPOSE, json!({ "i": decision("Evening\topening") })).await;
    assert_eq!(proposed["data"]["proposeDecision"]["title"], "Evening\topening", "{proposed}");
}

/// The member's feedback form saying `text`, as a browser posts it.
fn feedback_form(cast: &Staff, text: &str) -> reqwest::RequestBuilder {
    let today = jiff::Zoned::now().date().to_string();
    cast.member.client.post(cast.app.url("/feedback/new")).form(&[
        ("csrf_token", cast.member.csrf_token.as_str()),
        ("hub", "arun"),
        ("text", text),
        ("channel", "FORUM"),
        ("speaker", "ANONYMOUS"),
        ("consent", "HUB"),
        ("said_on", today.as_str()),
    ])
}

#[tokio::test]
async fn a_textarea_a_browser_posts_with_crlf_newlines_is_stored_with_lf() {
    let cast = staff().await;
    let posted = feedback_form(&cast, "The bus stops at six.\r\nThe group ends at seven.").send().await.unwrap();
    assert_eq!(posted.status(), 200, "{}", posted.text().await.unwrap());
    cast.app.settled().await;
    let items = cast.member.graphql("{ feedbackItems(first: 5) { edges { node { text } } } }", json!({})).await;
    assert_eq!(
        items["data"]["feedbackItems"]["edges"][0]["node"]["text"], "The bus stops at six.\nThe group ends at seven.",
        "{items}"
    );

    let before = events(&cast.app).await;
    let page = page_with_status(feedback_form(&cast, "Hidden\u{1b}[8m words"), 422).await;
    assert!(page.contains("id=\"text-error\"") && page.contains("Contains a control character; remove it"), "{page}");
    assert_eq!(events(&cast.app).await, before, "nothing was appended");
}
