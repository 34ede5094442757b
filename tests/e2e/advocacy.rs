//! Advocacy casework through GraphQL, as advocates and the people around them would use it: a
//! case worked from referral to closure and reopening, who may see a case file (only the
//! advocate it is assigned to), linked cases of one client, refusals, the access log, systemic
//! themes for commissioners with small numbers suppressed, and erasing a client's details.

use std::collections::BTreeSet;

use heard_access::Role;
use heard_advocacy::domain::case::{ActionKind, AdvocacyKind, CaseDomain, ReferralSource};
use heard_advocacy::service::Referral;
use heard_eventstore::StreamName;
use heard_tests::{Session, Staff, TestApp, error_code, spawn_app_in, staff};
use jiff::ToSpan;
use jiff::civil::Date;
use serde_json::{Value, json};
use uuid::Uuid;

const FIELDS: &str = "id clientRef linkedTo pseudonym clientName clientContact issue kind referralSource domain \
    themes provider providerName articles advocateId state referredOn acceptedOn declineReason \
    actions { id on kind text byId } consent { scope recordedOn } consentHistory { scope recordedOn } \
    outcome closureReason clientView closedOn reopenings { on reason } linkedCases";

fn refer_query() -> String {
    format!("mutation($i: ReferCaseInput!) {{ referCase(input: $i) {{ {FIELDS} }} }}")
}

fn case_query() -> String {
    format!("query($id: ID!) {{ case(id: $id) {{ {FIELDS} }} }}")
}

const THEMES: &str =
    "query($by: [AdvocacyDimension!]!) { advocacyThemes(by: $by) { keys { dimension value label } count suppressed } }";

/// The staff, and the people casework adds: a second advocate and Addaction's responder.
struct Cast {
    staff: Staff,
    other_advocate: Session,
    other_advocate_id: Uuid,
    provider: Session,
}

impl std::ops::Deref for Cast {
    type Target = Staff;

    fn deref(&self) -> &Staff {
        &self.staff
    }
}

async fn cast() -> Cast {
    let staff = staff().await;
    let [(other_advocate_id, other_advocate), (_, provider)] = staff.app.people(["other.advocate", "addaction"]).await;
    for advocate in [staff.advocate_id, other_advocate_id] {
        known_as_advocate(&staff.app, advocate).await;
    }
    Cast { staff, other_advocate, other_advocate_id, provider }
}

impl Cast {
    /// Everyone in the cast who is neither an advocate nor an administrator, by who they are.
    fn neither_advocates_nor_administrators(&self) -> [(&'static str, &Session); 5] {
        [
            ("a hub member", &self.member),
            ("a hub coordinator", &self.coordinator),
            ("a complaints handler", &self.handler),
            ("a commissioner", &self.commissioner),
            ("a provider responder", &self.provider),
        ]
    }
}

/// Waits until the advocacy service has seen the account made with the advocate role (it
/// follows the log on its own).
async fn known_as_advocate(app: &TestApp, account: Uuid) {
    app.settled().await;
    assert!(app.advocacy.read(|state| state.reference.holds(account, Role::Advocate)), "advocate {account} is known");
}

fn today() -> Date {
    heard_api::today()
}

fn days_ago(days: i64) -> String {
    today().checked_sub(days.days()).unwrap().to_string()
}

fn tomorrow() -> String {
    today().tomorrow().unwrap().to_string()
}

/// A referral for instructed advocacy about housing, with no name: pseudonymous by default.
fn referral(issue: &str) -> Value {
    json!({
        "issue": issue, "kind": "INSTRUCTED", "referralSource": "SELF_REFERRAL", "domain": "HOUSING",
        "themes": ["housing-and-ghettoisation"], "provider": "addaction", "articles": [3, 5]
    })
}

/// The same, with the client's name and contact details.
fn named(issue: &str) -> Value {
    let mut input = referral(issue);
    input["clientName"] = json!("Sam Example");
    input["clientContact"] = json!("07700 900123");
    input
}

async fn refer(session: &Session, input: Value) -> Value {
    let response = session.graphql(&refer_query(), json!({ "i": input })).await;
    let case = response["data"]["referCase"].clone();
    assert!(case.is_object(), "not referred: {response}");
    case
}

async fn read_case(session: &Session, id: &str) -> Value {
    session.graphql(&case_query(), json!({ "id": id })).await
}

/// A case as its advocate reads it.
async fn case_of(session: &Session, id: &str) -> Value {
    let response = read_case(session, id).await;
    assert!(response["data"]["case"].is_object(), "the case cannot be read: {response}");
    response["data"]["case"].clone()
}

/// The ids in the caller's `cases` list.
async fn case_ids(session: &Session) -> Vec<String> {
    let response = session.graphql("{ cases { edges { node { id } } } }", json!({})).await;
    let edges = response["data"]["cases"]["edges"].as_array().unwrap_or_else(|| panic!("no list: {response}"));
    edges.iter().map(|edge| edge["node"]["id"].as_str().unwrap().to_owned()).collect()
}

/// Runs a mutation on case `$id` and returns the case it answers with.
async fn work(session: &Session, call: &str, args: &str, variables: Value) -> Value {
    session.mutate_by_id(call, args, FIELDS, variables).await
}

const RECORD_ACTION: &str = "recordCaseAction(id: $id, input: $i)";
const ACTION_ARGS: &str = ", $i: RecordCaseActionInput!";
const CLOSE: &str = "closeCase(id: $id, input: $i)";
const CLOSE_ARGS: &str = ", $i: CloseCaseInput!";

async fn event_types(app: &TestApp, case: &str) -> Vec<String> {
    let stream = StreamName::of("case", case).unwrap();
    let events = app.store.read_stream_to_end(&stream).await.unwrap();
    events.into_iter().map(|event| event.event_type).collect()
}

#[tokio::test]
async fn an_advocate_works_a_case_from_referral_to_closure_and_reopening_and_it_reads_the_same_after_a_restart() {
    let cast = cast().await;
    let mut input = referral("My landlord wants me out after a relapse and the council will not help");
    input["referredOn"] = json!(days_ago(20));
    let case = refer(&cast.advocate, input).await;
    let id = case["id"].as_str().unwrap().to_owned();
    let client = case["clientRef"].as_str().unwrap();
    assert_eq!(case["pseudonym"], format!("Client {}", client[..4].to_uppercase()), "pseudonymous by default");
    let pseudonym = case["pseudonym"].as_str().unwrap();
    assert!(
        pseudonym.len() == 11 && pseudonym[7..].chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
        "{pseudonym}"
    );
    assert_eq!((&case["clientName"], &case["clientContact"]), (&Value::Null, &Value::Null), "{case}");
    assert_eq!(case["issue"], "My landlord wants me out after a relapse and the council will not help");
    assert_eq!(case["state"], "REFERRED");
    assert_eq!(case["advocateId"], cast.advocate_id.to_string(), "the referrer works it when nobody else is named");
    assert_eq!(case["referredOn"], days_ago(20));
    assert_eq!((case["kind"].as_str(), case["domain"].as_str()), (Some("INSTRUCTED"), Some("HOUSING")));
    assert_eq!(case["themes"], json!(["housing-and-ghettoisation"]));
    assert_eq!((case["provider"].as_str(), case["providerName"].as_str()), (Some("addaction"), Some("Addaction")));
    assert_eq!(case["articles"], json!([3, 5]));
    assert_eq!((&case["actions"], &case["consent"], &case["reopenings"]), (&json!([]), &Value::Null, &json!([])));

    let accepted =
        work(&cast.advocate, "acceptCase(id: $id, on: $on)", ", $on: String", json!({ "id": id, "on": days_ago(19) }))
            .await;
    assert_eq!((accepted["state"].as_str(), accepted["acceptedOn"].as_str()), (Some("ACCEPTED"), Some(&*days_ago(19))));

    let meeting = json!({ "kind": "MEETING", "text": "Met at the hub; agreed to ask for a review", "on": days_ago(5) });
    let active = work(&cast.advocate, RECORD_ACTION, ACTION_ARGS, json!({ "id": id, "i": meeting })).await;
    assert_eq!(active["state"], "ACTIVE", "the first action makes the case active");
    let letter = json!({ "kind": "LETTER", "text": "Wrote to the housing officer", "on": days_ago(10) });
    let active = work(&cast.advocate, RECORD_ACTION, ACTION_ARGS, json!({ "id": id, "i": letter })).await;
    let timeline: Vec<(&str, &str, &str)> = active["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|action| {
            (action["on"].as_str().unwrap(), action["kind"].as_str().unwrap(), action["text"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        timeline,
        [
            (&*days_ago(10), "LETTER", "Wrote to the housing officer"),
            (&*days_ago(5), "MEETING", "Met at the hub; agreed to ask for a review")
        ],
        "the timeline is in date order, not the order typed in"
    );
    assert!(active["actions"].as_array().unwrap().iter().all(|action| action["byId"] == cast.advocate_id.to_string()));
    assert_eq!(active["state"], "ACTIVE");

    let consent = "recordConsent(id: $id, scope: NAMED_SERVICES, on: $on)";
    let given = work(&cast.advocate, consent, ", $on: String", json!({ "id": id, "on": days_ago(9) })).await;
    assert_eq!(given["consent"], json!({ "scope": "NAMED_SERVICES", "recordedOn": days_ago(9) }));
    let withdrawal = "recordConsent(id: $id, scope: null, on: $on)";
    let withdrawn = work(&cast.advocate, withdrawal, ", $on: String", json!({ "id": id, "on": days_ago(4) })).await;
    assert_eq!(withdrawn["consent"], json!({ "scope": null, "recordedOn": days_ago(4) }), "withdrawn: scope null");
    assert_eq!(
        withdrawn["consentHistory"],
        json!([{ "scope": "NAMED_SERVICES", "recordedOn": days_ago(9) }, { "scope": null, "recordedOn": days_ago(4) }])
    );

    let closure = json!({ "outcome": "PARTLY_ACHIEVED", "reason": "ISSUE_RESOLVED",
        "clientView": "They listened in the end, but it took too long", "on": days_ago(3) });
    let closed = work(&cast.advocate, CLOSE, CLOSE_ARGS, json!({ "id": id, "i": closure })).await;
    assert_eq!(closed["state"], "CLOSED");
    assert_eq!(
        (closed["outcome"].as_str(), closed["closureReason"].as_str()),
        (Some("PARTLY_ACHIEVED"), Some("ISSUE_RESOLVED"))
    );
    assert_eq!(closed["clientView"], "They listened in the end, but it took too long");
    assert_eq!(closed["closedOn"], days_ago(3));

    let reopened = work(
        &cast.advocate,
        "reopenCase(id: $id, reason: $r, on: $on)",
        ", $r: String!, $on: String",
        json!({ "id": id, "r": "The council went back on the agreement", "on": days_ago(2) }),
    )
    .await;
    assert_eq!(reopened["state"], "ACTIVE");
    assert_eq!(
        reopened["reopenings"],
        json!([{ "on": days_ago(2), "reason": "The council went back on the agreement" }])
    );
    assert_eq!((&reopened["closedOn"], &reopened["outcome"]), (&Value::Null, &Value::Null), "open again: {reopened}");
    assert_eq!(reopened["actions"], active["actions"], "the work done so far stays on the case");
    let stored = event_types(&cast.app, &id).await;
    assert_eq!(&stored[stored.len() - 2..], ["CaseClosed", "CaseReopened"], "reopening is a new event: {stored:?}");

    let closure = json!({ "outcome": "ACHIEVED", "reason": "ISSUE_RESOLVED", "clientView": "I have kept my flat" });
    let closed_again = work(&cast.advocate, CLOSE, CLOSE_ARGS, json!({ "id": id, "i": closure })).await;
    assert_eq!((closed_again["state"].as_str(), closed_again["outcome"].as_str()), (Some("CLOSED"), Some("ACHIEVED")));
    assert_eq!(closed_again["closedOn"], today().to_string());
    assert_eq!(closed_again["clientView"], "I have kept my flat");
    assert_eq!(closed_again["reopenings"], reopened["reopenings"], "the reopening stays on record");
    assert_eq!(
        event_types(&cast.app, &id).await,
        [
            "CaseReferred",
            "CaseAccepted",
            "CaseActionRecorded",
            "CaseActionRecorded",
            "CaseConsentRecorded",
            "CaseConsentRecorded",
            "CaseClosed",
            "CaseReopened",
            "CaseClosed"
        ],
        "the earlier closure is still known: nothing was edited"
    );
    let before = case_of(&cast.advocate, &id).await;
    assert_eq!(before, closed_again, "a read shows what the last change answered");

    let data_dir = cast.staff.app.shutdown().await;
    let app = spawn_app_in(data_dir, |_| {}).await;
    let after = case_of(&app.login("advocate@example.org").await, &id).await;
    assert_eq!(after, before, "the case is rebuilt from the log exactly as it was");
}

#[tokio::test]
async fn a_case_file_is_seen_only_by_the_advocate_it_is_assigned_to_and_moves_with_an_assignment() {
    let cast = cast().await;
    let case = refer(&cast.advocate, named("I was told to leave the hostel after a relapse")).await;
    let id = case["id"].as_str().unwrap().to_owned();
    assert!(case_ids(&cast.advocate).await.contains(&id));

    let peek = read_case(&cast.other_advocate, &id).await;
    assert_eq!(error_code(&peek), Some("NOT_FOUND"), "another advocate cannot tell it exists: {peek}");
    assert_eq!(peek["data"], Value::Null);
    let missing = read_case(&cast.other_advocate, &Uuid::new_v4().to_string()).await;
    assert_eq!(peek["errors"][0]["message"], missing["errors"][0]["message"], "it looks like a case that is not there");
    assert!(!case_ids(&cast.other_advocate).await.contains(&id), "nor is it in their list");
    let meddling =
        cast.other_advocate.graphql("mutation($id: ID!) { acceptCase(id: $id) { id } }", json!({ "id": id })).await;
    assert_eq!(error_code(&meddling), Some("NOT_FOUND"), "{meddling}");

    let others = cast.neither_advocates_nor_administrators().into_iter().chain([("an administrator", &cast.admin)]);
    for (who, session) in others {
        let response = read_case(session, &id).await;
        assert_eq!(error_code(&response), Some("NOT_FOUND"), "{who} must not read the case file: {response}");
        assert_eq!(response["data"], Value::Null, "{who}: {response}");
        assert!(!response.to_string().contains("hostel") && !response.to_string().contains("Sam"), "{response}");
        assert_eq!(case_ids(session).await, Vec::<String>::new(), "{who} lists no cases");
    }

    let assigned = cast
        .advocate
        .graphql(
            "mutation($id: ID!, $to: ID!) { assignCase(id: $id, advocateId: $to) { caseId advocateId } }",
            json!({ "id": id, "to": cast.other_advocate_id }),
        )
        .await;
    assert_eq!(
        assigned["data"]["assignCase"],
        json!({ "caseId": id, "advocateId": cast.other_advocate_id.to_string() }),
        "{assigned}"
    );
    let gone = read_case(&cast.advocate, &id).await;
    assert_eq!(error_code(&gone), Some("NOT_FOUND"), "the first advocate no longer sees it: {gone}");
    assert!(!case_ids(&cast.advocate).await.contains(&id));
    let theirs = case_of(&cast.other_advocate, &id).await;
    assert_eq!(theirs["advocateId"], cast.other_advocate_id.to_string());
    assert_eq!(theirs["issue"], "I was told to leave the hostel after a relapse");
    assert_eq!(case_ids(&cast.other_advocate).await, vec![id.clone()]);
    work(&cast.other_advocate, "acceptCase(id: $id)", "", json!({ "id": id })).await;
}

#[tokio::test]
async fn a_further_issue_for_the_same_client_is_a_linked_case_sharing_their_client_reference() {
    let cast = cast().await;
    let first = refer(&cast.advocate, named("My landlord wants me out")).await;
    let first_id = first["id"].as_str().unwrap().to_owned();
    let mut further = referral("My benefits were stopped when I went into residential rehab");
    further["domain"] = json!("BENEFITS");
    further["linkedTo"] = json!(first_id);
    let second = refer(&cast.advocate, further).await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    assert_eq!(second["clientRef"], first["clientRef"], "one person, one client reference");
    assert_eq!(second["linkedTo"], first_id.as_str());
    assert_eq!(second["pseudonym"], first["pseudonym"], "the client keeps the name the case knows them by");
    assert_eq!(second["linkedCases"], json!([first_id]));
    assert_eq!(case_of(&cast.advocate, &first_id).await["linkedCases"], json!([second_id]));

    let stranger = refer(&cast.advocate, referral("Somebody else entirely")).await;
    assert_ne!(stranger["clientRef"], first["clientRef"]);
    assert_eq!(stranger["linkedCases"], json!([]));

    // A further issue handed to another advocate: each lists only the linked cases they may see.
    let mut handed = referral("Help with a child protection conference");
    handed["domain"] = json!("CHILD_PROTECTION");
    handed["linkedTo"] = json!(first_id);
    handed["advocateId"] = json!(cast.other_advocate_id);
    let third = refer(&cast.advocate, handed).await;
    let third_id = third["id"].as_str().unwrap().to_owned();
    assert_eq!(third["clientRef"], first["clientRef"]);
    assert_eq!(case_of(&cast.advocate, &first_id).await["linkedCases"], json!([second_id]));
    assert_eq!(case_of(&cast.other_advocate, &third_id).await["linkedCases"], json!([]));

    let mut sneaky = referral("Linking to a case that is not mine");
    sneaky["linkedTo"] = json!(first_id);
    let head = cast.app.advocacy.read(|state| state.cases.len());
    let refused = cast.other_advocate.graphql(&refer_query(), json!({ "i": sneaky })).await;
    assert_eq!(error_code(&refused), Some("NOT_FOUND"), "another advocate's case cannot be linked to: {refused}");
    assert_eq!(refused["data"], Value::Null);
    assert_eq!(cast.app.advocacy.read(|state| state.cases.len()), head, "no case was opened");
}

#[tokio::test]
async fn illegal_transitions_are_conflicts_bad_input_names_the_field_and_nothing_is_stored() {
    let cast = cast().await;
    let issue = "Sam lost the tenancy after a relapse";
    let accepted = refer(&cast.advocate, named(issue)).await["id"].as_str().unwrap().to_owned();
    work(&cast.advocate, "acceptCase(id: $id)", "", json!({ "id": accepted })).await;
    let referred = refer(&cast.advocate, named(issue)).await["id"].as_str().unwrap().to_owned();
    let head = cast.app.store.head().position;

    let action = json!({ "kind": "CALL", "text": "Rang Sam about the tenancy" });
    let closure = json!({ "outcome": "NOT_KNOWN", "reason": "OTHER", "clientView": "Sam says it is fine now" });
    let no_view = json!({ "outcome": "ACHIEVED", "reason": "ISSUE_RESOLVED" });
    let future_action = json!({ "kind": "NOTE", "text": "Sam will call back", "on": tomorrow() });
    let record = "mutation($id: ID!, $i: RecordCaseActionInput!) { recordCaseAction(id: $id, input: $i) { id } }";
    let close = "mutation($id: ID!, $i: CloseCaseInput!) { closeCase(id: $id, input: $i) { id } }";
    let transitions: Vec<(&str, &str, Value, &str, Option<&str>)> = vec![
        (
            "accept twice",
            "mutation($id: ID!) { acceptCase(id: $id) { id } }",
            json!({ "id": accepted }),
            "CONFLICT",
            None,
        ),
        ("record an action before accepting", record, json!({ "id": referred, "i": action }), "CONFLICT", None),
        ("close a referred case", close, json!({ "id": referred, "i": closure }), "CONFLICT", None),
        (
            "reopen an open case",
            "mutation($id: ID!) { reopenCase(id: $id, reason: \"Sam asked again\") { id } }",
            json!({ "id": accepted }),
            "CONFLICT",
            None,
        ),
        (
            "decline an accepted case",
            "mutation($id: ID!) { declineCase(id: $id, reason: \"Sam is not eligible\") { id } }",
            json!({ "id": accepted }),
            "CONFLICT",
            None,
        ),
        (
            "close an instructed case without the client's view",
            close,
            json!({ "id": accepted, "i": no_view }),
            "BAD_USER_INPUT",
            Some("input.clientView"),
        ),
        (
            "record an action in the future",
            record,
            json!({ "id": accepted, "i": future_action }),
            "BAD_USER_INPUT",
            Some("input.on"),
        ),
    ];
    let mut refusals = Vec::new();
    for (what, query, variables, code, field) in transitions {
        let response = cast.advocate.graphql(query, variables).await;
        assert_eq!(error_code(&response), Some(code), "{what}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"].as_str(), field, "{what}: {response}");
        refusals.push(response);
    }

    let bad_referrals: Vec<(&str, Value, &str)> = vec![
        ("issue", json!("   "), "input.issue"),
        ("themes", json!(["housing-and-ghettoisation", "no-such-theme"]), "input.themes[1]"),
        ("provider", json!("nobody"), "input.provider"),
        ("articles", json!([3, 12]), "input.articles[1]"),
        ("referredOn", json!(tomorrow()), "input.referredOn"),
    ];
    for (key, value, field) in bad_referrals {
        let mut input = named(issue);
        input[key] = value;
        let response = cast.advocate.graphql(&refer_query(), json!({ "i": input })).await;
        assert_eq!(error_code(&response), Some("BAD_USER_INPUT"), "{key}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{key}: {response}");
        refusals.push(response);
    }
    for response in &refusals {
        let message = response["errors"][0]["message"].as_str().unwrap();
        for personal in ["Sam", "tenancy", "relapse", "07700"] {
            assert!(!message.contains(personal), "no personal data in errors: {message}");
        }
        assert_eq!(response["data"], Value::Null, "{response}");
    }
    assert_eq!(cast.app.store.head().position, head, "no refused command stored anything");
    assert_eq!(cast.app.advocacy.read(|state| state.cases.len()), 2);
    assert_eq!(case_of(&cast.advocate, &accepted).await["state"], "ACCEPTED");
    assert_eq!(case_of(&cast.advocate, &referred).await["state"], "REFERRED");
}

#[tokio::test]
async fn every_read_of_a_case_file_is_on_the_access_log_without_personal_data() {
    let cast = cast().await;
    let first =
        refer(&cast.advocate, named("Sam was refused a script review")).await["id"].as_str().unwrap().to_owned();
    let second = refer(&cast.advocate, named("Sam needs help at the benefits tribunal")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = cast.app.store.read_category("access", 1, 10_000).await.unwrap().len();
    case_of(&cast.advocate, &first).await;
    let listed = case_ids(&cast.advocate).await;
    assert_eq!(listed.iter().collect::<BTreeSet<_>>(), BTreeSet::from([&first, &second]));
    let refused = read_case(&cast.other_advocate, &first).await;
    assert_eq!(error_code(&refused), Some("NOT_FOUND"));

    let access = cast.app.store.read_category("access", 1, 10_000).await.unwrap();
    let new: Vec<Value> = access[before..].iter().map(|event| event.data_json().unwrap()).collect();
    assert_eq!(new.len(), 3, "one for the case, one for the page of the list, one for the refusal: {new:?}");
    assert!(new.iter().all(|record| record["resource_kind"] == "case" && record["action"] == "view_case"), "{new:?}");
    let advocate = json!(cast.advocate_id.to_string());
    assert_eq!(
        (&new[0]["resource_id"], &new[0]["actor"], &new[0]["allowed"]),
        (&json!(first), &advocate, &json!(true))
    );
    let listed_ids: BTreeSet<&str> =
        new[1]["resource_ids"].as_array().unwrap().iter().map(|id| id.as_str().unwrap()).collect();
    assert_eq!(listed_ids, BTreeSet::from([first.as_str(), second.as_str()]), "each listed case is logged: {new:?}");
    assert!(new[1]["allowed"] == true && new[1]["actor"] == advocate);
    assert_eq!(new[2]["resource_id"], first.as_str());
    assert_eq!(new[2]["actor"], cast.other_advocate_id.to_string());
    assert_eq!(new[2]["allowed"], false, "the refused read is recorded too: {:?}", new[2]);

    for event in &access[before..] {
        let text = format!("{}{}", String::from_utf8_lossy(&event.data), String::from_utf8_lossy(&event.metadata));
        for personal in ["Sam", "script", "tribunal", "07700", "Client "] {
            assert!(!text.contains(personal), "personal data in an access event: {text}");
        }
    }
}

/// A referral straight through the service, for counting.
fn counted(domain: CaseDomain, theme: &str, pseudonym: String) -> Referral {
    Referral {
        pseudonym: Some(pseudonym),
        client_name: Some("Sam Example".into()),
        client_contact: Some("07700 900123".into()),
        issue: "Evicted from the hostel after a positive test".into(),
        kind: AdvocacyKind::Instructed,
        source: ReferralSource::Hub,
        domain,
        themes: vec![theme.into()],
        provider: Some("addaction".into()),
        articles: vec![3],
        linked_to: None,
        advocate: None,
        referred_on: None,
    }
}

#[tokio::test]
async fn commissioners_see_advocacy_only_as_counts_by_theme_with_small_numbers_suppressed() {
    let cast = cast().await;
    let advocacy = &cast.app.advocacy;
    let mut ids = Vec::new();
    for n in 0..6 {
        let referral = counted(CaseDomain::Housing, "housing-and-ghettoisation", format!("Robin {n}"));
        ids.push(advocacy.refer(cast.advocate_id, referral).await.unwrap().id);
    }
    for n in 0..2 {
        let referral = counted(CaseDomain::PrescribingReview, "prescribing-and-oat-administration", format!("Jo {n}"));
        advocacy.refer(cast.advocate_id, referral).await.unwrap();
    }
    advocacy.accept(ids[0], cast.advocate_id, today()).await.unwrap();
    advocacy
        .record_action(ids[0], cast.advocate_id, today(), ActionKind::Call, "Called the hostel manager")
        .await
        .unwrap();

    let by_domain = cast.commissioner.graphql(THEMES, json!({ "by": ["DOMAIN"] })).await;
    let rows = by_domain["data"]["advocacyThemes"].as_array().unwrap_or_else(|| panic!("{by_domain}")).clone();
    let row = |value: &str| {
        rows.iter()
            .find(|row| row["keys"][0]["value"] == value)
            .cloned()
            .unwrap_or_else(|| panic!("no {value}: {by_domain}"))
    };
    // Six is large enough to show, but the eight cases in all (by provider, below) minus six
    // would give the two away: it is hidden too (issue #13).
    assert_eq!(
        row("housing"),
        json!({ "keys": [{ "dimension": "DOMAIN", "value": "housing", "label": "Housing" }], "count": null, "suppressed": true })
    );
    let small = row("prescribing_review");
    assert_eq!(
        (&small["count"], &small["suppressed"]),
        (&Value::Null, &json!(true)),
        "2 could identify someone: {small}"
    );
    assert_eq!(small["keys"][0]["label"], "Prescribing review");
    assert_eq!(rows.len(), 2, "{by_domain}");

    let month = format!("{:04}-{:02}", today().year(), today().month());
    let by_theme = cast.commissioner.graphql(THEMES, json!({ "by": ["THEME", "PERIOD"] })).await;
    let rows = by_theme["data"]["advocacyThemes"].as_array().unwrap_or_else(|| panic!("{by_theme}")).clone();
    assert_eq!(
        rows,
        [
            json!({ "keys": [
                { "dimension": "THEME", "value": "housing-and-ghettoisation", "label": "Housing and ghettoisation" },
                { "dimension": "PERIOD", "value": month, "label": month }
            ], "count": null, "suppressed": true }),
            json!({ "keys": [
                { "dimension": "THEME", "value": "prescribing-and-oat-administration", "label": "Prescribing and OAT administration" },
                { "dimension": "PERIOD", "value": month, "label": month }
            ], "count": null, "suppressed": true }),
        ],
        "{by_theme}"
    );

    let by_provider = cast.commissioner.graphql(THEMES, json!({ "by": ["PROVIDER"] })).await;
    assert_eq!(
        by_provider["data"]["advocacyThemes"],
        json!([{ "keys": [{ "dimension": "PROVIDER", "value": "addaction", "label": "Addaction" }], "count": 8, "suppressed": false }]),
        "a count that gives nothing away is shown: {by_provider}"
    );

    for response in [&by_domain, &by_theme] {
        let text = response.to_string();
        for content in ["Robin", "Jo 0", "Sam", "07700", "hostel", "positive test", "Called"] {
            assert!(!text.contains(content), "themes carry no one and nothing said: {content} in {text}");
        }
    }
    for (who, session) in [("a hub member", &cast.member), ("a provider responder", &cast.provider)] {
        let refused = session.graphql(THEMES, json!({ "by": ["DOMAIN"] })).await;
        assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{who}: {refused}");
        assert_eq!(refused["data"], Value::Null);
    }
}

#[tokio::test]
async fn erasing_a_client_empties_their_case_files_while_the_state_domain_and_dates_remain() {
    let cast = cast().await;
    let mut input = named("My landlord wants me out after a relapse");
    input["referredOn"] = json!(days_ago(10));
    let case = refer(&cast.advocate, input).await;
    let id = case["id"].as_str().unwrap().to_owned();
    let client: Uuid = case["clientRef"].as_str().unwrap().parse().unwrap();
    work(&cast.advocate, "acceptCase(id: $id, on: $on)", ", $on: String", json!({ "id": id, "on": days_ago(9) })).await;
    let action = json!({ "kind": "MEETING", "text": "Met Sam at the hub about the eviction", "on": days_ago(8) });
    work(&cast.advocate, RECORD_ACTION, ACTION_ARGS, json!({ "id": id, "i": action })).await;
    let closure =
        json!({ "outcome": "ACHIEVED", "reason": "ISSUE_RESOLVED", "clientView": "I kept my flat", "on": days_ago(1) });
    work(&cast.advocate, CLOSE, CLOSE_ARGS, json!({ "id": id, "i": closure })).await;
    let mut further = named("My benefits were stopped");
    further["linkedTo"] = json!(id);
    further["domain"] = json!("BENEFITS");
    let linked = refer(&cast.advocate, further).await["id"].as_str().unwrap().to_owned();
    let linked_id = linked.clone();
    let other = refer(&cast.advocate, named("Someone else's issue")).await["id"].as_str().unwrap().to_owned();

    let subject = cast.app.advocacy.read(|state| state.subject(client)).expect("the client has a subject");
    assert!(cast.app.store.forget_subject(subject).unwrap(), "the client's key is destroyed");
    let data_dir = cast.staff.app.shutdown().await;
    let app = spawn_app_in(data_dir, |_| {}).await;
    let advocate = app.login("advocate@example.org").await;

    let erased = case_of(&advocate, &id).await;
    for field in ["issue", "clientName", "clientContact", "pseudonym", "clientView"] {
        assert_eq!(erased[field], Value::Null, "{field} is erased: {erased}");
    }
    assert_eq!(erased["actions"][0]["text"], Value::Null, "the action note is erased: {erased}");
    assert_eq!((erased["state"].as_str(), erased["domain"].as_str()), (Some("CLOSED"), Some("HOUSING")));
    assert_eq!(erased["referredOn"], days_ago(10));
    assert_eq!(erased["acceptedOn"], days_ago(9));
    assert_eq!(erased["closedOn"], days_ago(1));
    assert_eq!(erased["outcome"], "ACHIEVED");
    assert_eq!(
        (erased["actions"][0]["on"].as_str(), erased["actions"][0]["kind"].as_str()),
        (Some(&*days_ago(8)), Some("MEETING"))
    );
    assert_eq!(erased["themes"], json!(["housing-and-ghettoisation"]));

    let linked = case_of(&advocate, &linked).await;
    assert_eq!(
        (&linked["issue"], &linked["clientName"]),
        (&Value::Null, &Value::Null),
        "every case of theirs: {linked}"
    );
    assert_eq!((linked["state"].as_str(), linked["domain"].as_str()), (Some("REFERRED"), Some("BENEFITS")));
    let untouched = case_of(&advocate, &other).await;
    assert_eq!(untouched["issue"], "Someone else's issue", "another client's case is untouched");
    assert_eq!(untouched["clientName"], "Sam Example");

    // Nothing personal can be written under a destroyed key: a clear refusal, nothing stored.
    let accepted =
        advocate.graphql("mutation($id: ID!) { acceptCase(id: $id) { state } }", json!({ "id": linked_id })).await;
    assert_eq!(accepted["data"]["acceptCase"]["state"], "ACCEPTED", "nothing personal in an acceptance: {accepted}");
    let head = app.store.head().position;
    let note = advocate
        .graphql(
            "mutation($id: ID!) { recordCaseAction(id: $id, input: { kind: NOTE, text: \"New note\" }) { id } }",
            json!({ "id": linked_id }),
        )
        .await;
    assert_eq!(error_code(&note), Some("BAD_USER_INPUT"), "{note}");
    assert_eq!(note["errors"][0]["extensions"]["field"], "input.text", "{note}");
    assert!(note["errors"][0]["message"].as_str().unwrap().contains("erased"), "{note}");
    let mut again = named("Another issue");
    again["linkedTo"] = json!(id);
    let relinked =
        advocate.graphql("mutation($i: ReferCaseInput!) { referCase(input: $i) { id } }", json!({ "i": again })).await;
    assert_eq!(error_code(&relinked), Some("BAD_USER_INPUT"), "{relinked}");
    assert_eq!(relinked["errors"][0]["extensions"]["field"], "input.linkedTo", "{relinked}");
    assert_eq!(app.store.head().position, head, "nothing was stored");
}

#[tokio::test]
async fn someone_not_logged_in_cannot_tell_whether_a_case_exists() {
    let cast = cast().await;
    let id = refer(&cast.advocate, named("My landlord wants me out")).await["id"].as_str().unwrap().to_owned();
    let query = "query($id: ID!) { case(id: $id) { id } }";
    let real = cast.app.graphql(query, json!({ "id": id })).await;
    let made_up = cast.app.graphql(query, json!({ "id": Uuid::new_v4().to_string() })).await;
    assert_eq!(error_code(&real), Some("UNAUTHENTICATED"));
    assert_eq!(real["errors"][0]["message"], made_up["errors"][0]["message"], "{real} vs {made_up}");
}

const DIRECTORY: &str = "{ advocates { id displayName } }";

#[tokio::test]
async fn the_directory_of_advocates_names_each_advocate_by_name_to_advocates_and_administrators_only() {
    let cast = cast().await;
    let listing = |id: Uuid, name: &str| json!({ "id": id.to_string(), "displayName": name });
    let everyone =
        json!([listing(cast.advocate_id, "Test advocate"), listing(cast.other_advocate_id, "Test other.advocate")]);
    for (who, session) in [("an advocate", &cast.advocate), ("an administrator", &cast.admin)] {
        let response = session.graphql(DIRECTORY, json!({})).await;
        assert_eq!(response["data"]["advocates"], everyone, "{who} sees every advocate and nobody else: {response}");
    }
    // Nothing personal beyond the name can be asked for.
    let nosy = cast.advocate.graphql("{ advocates { id displayName email roles } }", json!({})).await;
    assert!(nosy["errors"][0]["message"].as_str().unwrap().contains("email"), "{nosy}");
    assert!(!nosy.to_string().contains("@example.org"), "no email leaks: {nosy}");
}

#[tokio::test]
async fn a_hub_member_or_anyone_else_asking_for_the_directory_of_advocates_is_refused_and_learns_nothing() {
    let cast = cast().await;
    for (who, session) in cast.neither_advocates_nor_administrators() {
        let response = session.graphql(DIRECTORY, json!({})).await;
        assert_eq!(error_code(&response), Some("FORBIDDEN"), "{who}: {response}");
        assert_eq!(response["data"], Value::Null, "{who}: {response}");
        assert!(!response.to_string().contains("Test advocate"), "{who} learns no name: {response}");
    }
    let anonymous = cast.app.graphql(DIRECTORY, json!({})).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"), "{anonymous}");
    assert!(!anonymous.to_string().contains("Test advocate"), "{anonymous}");
}

/// A case referred and accepted by `cast.advocate`, referred `days` ago: its id.
async fn accepted_case(cast: &Cast, days: i64) -> String {
    let mut input = referral("My landlord wants me out");
    input["referredOn"] = json!(days_ago(days));
    let id = refer(&cast.advocate, input).await["id"].as_str().unwrap().to_owned();
    work(&cast.advocate, "acceptCase(id: $id)", "", json!({ "id": id })).await;
    id
}

/// The action form's fields for a call on the day `on`, typed as someone would.
fn call(on: &str) -> [(&str, &str); 3] {
    [("action_kind", "CALL"), ("text", "Called the landlord"), ("action_on", on)]
}

/// A case page's form posted as a browser without JavaScript posts it (the CSRF token in the
/// form, redirects followed): the status, address and text of the page it lands on.
async fn post_case_form(session: &Session, case: &str, step: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    let (status, url, page) = session.post_form_followed(&format!("/cases/{case}/{step}"), fields).await;
    (status, url.to_string(), page)
}

/// The case page as `session` gets it.
async fn case_page(cast: &Cast, session: &Session, case: &str) -> String {
    let response = session.client.get(cast.app.url(&format!("/cases/{case}"))).send().await.unwrap();
    assert_eq!(response.status(), 200, "the case page opens");
    response.text().await.unwrap()
}

#[tokio::test]
async fn an_advocate_hands_a_case_over_by_choosing_the_other_advocate_by_name_from_a_labelled_list() {
    let cast = cast().await;
    let id = accepted_case(&cast, 0).await;
    let page = case_page(&cast, &cast.advocate, &id).await;
    assert!(page.contains(r#"<label for="advocate_id">Which advocate?</label>"#), "the list is labelled");
    assert!(page.contains(r#"<select id="advocate_id" name="advocate_id""#), "a plain select works without JavaScript");
    assert!(page.contains(r#"<option value="" selected>Choose an advocate</option>"#), "nobody is chosen in advance");
    let other = format!(r#"<option value="{}">Test other.advocate</option>"#, cast.other_advocate_id);
    assert!(page.contains(&other), "the other advocate is listed by name");
    assert!(!page.contains(&format!(r#"value="{}""#, cast.advocate_id)), "the advocate handing over is not listed");
    assert!(!page.contains("account ID"), "nobody types an account id any more");

    let (status, url, page) =
        post_case_form(&cast.advocate, &id, "assign", &[("advocate_id", &cast.other_advocate_id.to_string())]).await;
    assert_eq!(status, 200);
    assert!(url.ends_with("/cases?done=assigned"), "back to my cases: {url}");
    assert!(page.contains("Handed over"), "the handover is confirmed");
    assert_eq!(case_of(&cast.other_advocate, &id).await["advocateId"], cast.other_advocate_id.to_string());
    assert_eq!(error_code(&read_case(&cast.advocate, &id).await), Some("NOT_FOUND"), "and is no longer theirs");
}

#[tokio::test]
async fn a_forged_hand_over_naming_someone_who_is_not_an_advocate_is_refused_beside_the_field_and_changes_nothing() {
    let cast = cast().await;
    let member = cast.app.create_user("not.an.advocate@example.org", &[Role::HubMember], &["arun"]).await;
    let id = accepted_case(&cast, 0).await;
    let before = event_types(&cast.app, &id).await;
    for (forged, what) in [(member.to_string(), "a hub member"), (Uuid::new_v4().to_string(), "an unknown account")] {
        let (status, _, page) = post_case_form(&cast.advocate, &id, "assign", &[("advocate_id", &forged)]).await;
        assert_eq!(status, 422, "{what} is refused");
        assert!(page.contains(r##"<a href="#advocate_id">"##), "the error names the field: {what}");
        assert!(
            page.contains("Choose one of the advocates listed; that account is not an advocate"),
            "the error says what is wrong: {what}"
        );
    }
    assert_eq!(event_types(&cast.app, &id).await, before, "nothing was stored");
    assert_eq!(case_of(&cast.advocate, &id).await["advocateId"], cast.advocate_id.to_string(), "the case stays put");
}

#[tokio::test]
async fn closing_a_case_asks_for_the_outcome_with_none_chosen_and_the_closing_shows_on_the_timeline_with_its_outcome() {
    let cast = cast().await;
    let id = accepted_case(&cast, 0).await;
    let page = case_page(&cast, &cast.advocate, &id).await;
    assert!(page.contains(r#"name="outcome" type="radio" value="ACHIEVED""#), "the outcomes are choices");
    assert!(!page.contains(r#"name="outcome" type="radio" value="ACHIEVED" checked"#), "none is chosen in advance");
    assert!(!page.contains(r#"<select id="outcome""#), "no drop-down with its first answer already chosen");

    let before = event_types(&cast.app, &id).await;
    let view = ("client_view", "They listened to me");
    let (status, _, page) = post_case_form(&cast.advocate, &id, "close", &[("reason", "ISSUE_RESOLVED"), view]).await;
    assert_eq!(status, 422, "closing without an outcome is refused");
    assert!(page.contains(r##"<a href="#outcome">Choose the outcome"##), "the error names the field");
    assert!(!page.contains(r#"type="radio" value="ACHIEVED" checked"#), "and still chooses none");
    assert!(page.contains("They listened to me"), "what was typed is kept");
    assert_eq!(event_types(&cast.app, &id).await, before, "nothing was stored");

    let closing = [("outcome", "PARTLY_ACHIEVED"), ("reason", "ISSUE_RESOLVED"), view];
    let (status, url, page) = post_case_form(&cast.advocate, &id, "close", &closing).await;
    assert_eq!(status, 200);
    assert!(url.ends_with(&format!("/cases/{id}?done=closed")), "{url}");
    let written = today().strftime("%-d %B %Y").to_string();
    assert!(
        page.contains(&format!("{written} · Closed. Outcome: partly achieved")),
        "on the timeline with its outcome, its day as people write it"
    );
    let today = today().to_string();
    let closures = cast
        .advocate
        .graphql("query($id: ID!) { case(id: $id) { closures { on outcome reason } } }", json!({ "id": id }))
        .await;
    assert_eq!(
        closures["data"]["case"]["closures"],
        json!([{ "on": today, "outcome": "PARTLY_ACHIEVED", "reason": "ISSUE_RESOLVED" }])
    );
}

#[tokio::test]
async fn an_action_is_recorded_on_the_day_it_happened_as_typed_in_the_uk_and_never_before_the_referral_or_in_the_future()
 {
    let cast = cast().await;
    let id = accepted_case(&cast, 10).await;
    let page = case_page(&cast, &cast.advocate, &id).await;
    let today = today();
    assert!(
        page.contains(&format!(
            r#"<input id="action_on" name="action_on" type="text" value="{}""#,
            today.strftime("%-d %B %Y")
        )),
        "the day is today unless changed"
    );
    let uk = |day: Date| day.strftime("%d/%m/%Y").to_string();
    let three_days_ago = today.checked_sub(3.days()).unwrap();
    let before = event_types(&cast.app, &id).await;
    let refused = [
        (
            uk(today.checked_sub(11.days()).unwrap()),
            format!(
                "The date of the action cannot be before the case was referred on {}",
                today.checked_sub(10.days()).unwrap().strftime("%-d %B %Y")
            ),
        ),
        (uk(today.tomorrow().unwrap()), "The date of the action cannot be in the future".to_owned()),
        ("31/02/2026".to_owned(), "31 February 2026 does not exist".to_owned()),
    ];
    for (on, message) in refused {
        let (status, _, page) = post_case_form(&cast.advocate, &id, "action", &call(&on)).await;
        assert_eq!(status, 422, "{on} is refused");
        assert!(page.contains(r##"<a href="#action_on">"##), "the error names the field: {on}");
        assert!(page.contains(&message), "{on}: expected {message}");
    }
    assert_eq!(event_types(&cast.app, &id).await, before, "nothing was stored");

    let (status, url, page) = post_case_form(&cast.advocate, &id, "action", &call(&uk(three_days_ago))).await;
    assert_eq!(status, 200);
    assert!(url.ends_with(&format!("/cases/{id}?done=action")), "{url}");
    let written = three_days_ago.strftime("%-d %B %Y");
    assert!(page.contains(&format!("{written} · Call")), "the timeline shows the day it happened, as people write it");
    let actions = case_of(&cast.advocate, &id).await["actions"].clone();
    assert_eq!(actions[0]["on"], three_days_ago.to_string(), "{actions}");
}
