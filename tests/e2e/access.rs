//! The policy seen from outside: every role × every operation × in scope and out of scope,
//! through GraphQL; the access log; the error codes; and the newcomer's first steps.

use heard_access::Role;
use heard_contracts::privacy::PersonId;
use heard_tests::{TestApp, error_code, heard_binary, spawn_app, spawn_app_in};
use serde_json::{Value, json};

/// Columns of the matrix, as in `crates/access/src/tests.rs`.
const COLUMNS: [Option<Role>; 8] = [
    Some(Role::HubMember),
    Some(Role::HubCoordinator),
    Some(Role::Advocate),
    Some(Role::ComplaintsHandler),
    Some(Role::Commissioner),
    Some(Role::ProviderResponder),
    Some(Role::Administrator),
    None,
];

struct Cast {
    colleague: uuid::Uuid,
    stranger: uuid::Uuid,
    /// Token per column (`None` for nobody logged in), and the account behind it.
    actors: Vec<(Option<String>, Option<uuid::Uuid>)>,
}

async fn cast(app: &TestApp) -> Cast {
    let colleague = app.create_user("colleague@example.org", &[Role::HubMember], &["arun"]).await;
    let stranger = app.create_user("stranger@example.org", &[Role::HubMember], &["crawley"]).await;
    let mut actors = Vec::new();
    for (index, role) in COLUMNS.iter().enumerate() {
        match role {
            None => actors.push((None, None)),
            Some(role) => {
                let hubs: &[&str] = if role.needs_hub() { &["arun"] } else { &[] };
                let provider = role.needs_provider().then_some("addaction");
                let id = app.create_user_with(&format!("actor{index}@example.org"), &[*role], hubs, provider).await;
                actors.push((Some(app.token_for(id).await), Some(id)));
            }
        }
    }
    Cast { colleague, stranger, actors }
}

async fn ask(app: &TestApp, token: &Option<String>, query: &str, variables: Value) -> Value {
    match token {
        Some(token) => app.graphql_as(token, query, variables).await,
        None => app.graphql(query, variables).await,
    }
}

/// `A` allowed · `F` forbidden · `N` not found (concealed) · `U` unauthenticated · `P` refused on
/// the person it named, exactly as a person code Heard does not know (concealed: see
/// [`refused_as_unknown_person`]).
fn outcome(response: &Value) -> char {
    match error_code(response) {
        None => 'A',
        Some("FORBIDDEN") => 'F',
        Some("NOT_FOUND") => 'N',
        Some("UNAUTHENTICATED") => 'U',
        Some("BAD_USER_INPUT") if refused_as_unknown_person(response) => 'P',
        Some(other) => panic!("unexpected error code {other}: {response}"),
    }
}

/// Whether `response` refuses the person it named with the very answer a person code Heard does
/// not know gets (the same code, field and words), so that it tells nobody the code exists.
fn refused_as_unknown_person(response: &Value) -> bool {
    let error = &response["errors"][0];
    let Some(field) = error["extensions"]["field"].as_str().filter(|field| field.ends_with("person")) else {
        return false;
    };
    error["message"] == heard_api::persons::unknown_person(field).message().as_str()
}

/// The variables of a query that takes only an `$id`.
fn id(value: impl std::fmt::Display) -> Value {
    json!({ "id": value.to_string() })
}

/// One row of a policy matrix: (operation, scope, query, variables, expected per column:
/// mem crd adv cmp com prv adm anon).
type Row<'a> = (&'a str, &'a str, &'a str, Value, &'a str);

impl Cast {
    /// Asks every row as every column and notes in `wrong` each outcome that disagrees with the
    /// row. A concealed read (`N`) must return no data at all.
    async fn check_rows(&self, app: &TestApp, rows: &[Row<'_>], wrong: &mut Vec<String>) {
        for (operation, scope, query, variables, expected) in rows {
            for (column, want) in expected.chars().enumerate() {
                let response = ask(app, &self.actors[column].0, query, variables.clone()).await;
                check_outcome(&response, want, &format!("{:?} × {operation} × {scope}", COLUMNS[column]), wrong);
                if outcome(&response) == 'N' {
                    assert_eq!(response["data"], Value::Null, "a concealed read returns no data: {response}");
                }
            }
        }
    }
}

/// An operation asked once per column: its name, and the query and variables for a column
/// (fresh input where the change uses it up).
type PerColumn<'a> = (&'a str, &'a dyn Fn(usize) -> (String, Value));

impl Cast {
    /// For every column in turn, asks each operation as that column and notes in `wrong` each
    /// outcome that disagrees with `expected`.
    async fn check_columns(
        &self,
        app: &TestApp,
        expected: &str,
        operations: &[PerColumn<'_>],
        wrong: &mut Vec<String>,
    ) {
        for (column, want) in expected.chars().enumerate() {
            for (operation, request) in operations {
                let (query, variables) = request(column);
                let response = ask(app, &self.actors[column].0, &query, variables).await;
                check_outcome(&response, want, &format!("{:?} × {operation}", COLUMNS[column]), wrong);
            }
        }
    }
}

/// Notes in `wrong` when `response` is not the outcome `want`.
fn check_outcome(response: &Value, want: char, case: &str, wrong: &mut Vec<String>) {
    let got = outcome(response);
    if got != want {
        wrong.push(format!("{case}: expected {want}, got {got}: {response}"));
    }
}

#[tokio::test]
async fn every_role_gets_the_policy_matrix_decision_for_every_operation_through_graphql() {
    identity_matrix(&spawn_app().await).await;
}

/// The test above, asked of `app`: its own `/graphql`, or the gateway it is reached through.
pub(crate) async fn identity_matrix(app: &TestApp) {
    let cast = cast(app).await;
    let (colleague, stranger) = (cast.colleague.to_string(), cast.stranger.to_string());
    let someone_else = cast.actors[6].1.unwrap().to_string(); // the administrator's account
    let user = "query($id: ID!) { user(id: $id) { id email } }";
    let roles_in_arun =
        "mutation($id: ID!) { updateUserRoles(input: { userId: $id, roles: [HUB_MEMBER], hubs: [\"arun\"] }) { id } }";
    let roles_in_crawley = "mutation($id: ID!) { updateUserRoles(input: { userId: $id, roles: [HUB_MEMBER], hubs: [\"crawley\"] }) { id } }";
    let unlock = "mutation($id: ID!) { unlockUser(id: $id) { id } }";
    let reset = "mutation($id: ID!) { resetUserPassword(id: $id) { oneTimePassword } }";
    let deactivate = "mutation($id: ID!) { deactivateUser(id: $id) { id } }";
    let reactivate = "mutation($id: ID!) { reactivateUser(id: $id) { id } }";
    let their_tokens = "query($id: ID!) { apiTokens(userId: $id) { edges { node { id } } } }";
    let their_sessions = "query($id: ID!) { sessions(userId: $id) { edges { node { id } } } }";
    let (colleague, stranger, someone_else) =
        (json!({ "id": colleague }), json!({ "id": stranger }), json!({ "id": someone_else }));
    // (operation, scope, query, variables, expected per column: mem crd adv cmp com prv adm anon)
    let rows: Vec<Row> = vec![
        ("user", "in scope: a colleague in the same hub", user, colleague.clone(), "NANNNNAU"),
        ("user", "out of scope: an account in another hub", user, stranger.clone(), "NNNNNNAU"),
        ("users", "in scope", "{ users { edges { node { id } } } }", json!({}), "FAFFFFAU"),
        ("advocates", "in scope", "{ advocates { id displayName } }", json!({}), "FFAFFFAU"),
        ("updateUserRoles", "in scope: an account in the same hub", roles_in_arun, colleague.clone(), "FFFFFFAU"),
        ("updateUserRoles", "out of scope: an account in another hub", roles_in_crawley, stranger.clone(), "FFFFFFAU"),
        ("unlockUser", "in scope: an account in the same hub", unlock, colleague.clone(), "FFFFFFAU"),
        ("unlockUser", "out of scope: an account in another hub", unlock, stranger.clone(), "FFFFFFAU"),
        ("resetUserPassword", "in scope: an account in the same hub", reset, colleague.clone(), "FFFFFFAU"),
        ("resetUserPassword", "out of scope: an account in another hub", reset, stranger.clone(), "FFFFFFAU"),
        // Deactivated, then reactivated (the colleague and the stranger ask nothing here).
        ("deactivateUser", "in scope: an account in the same hub", deactivate, colleague.clone(), "FFFFFFAU"),
        ("deactivateUser", "out of scope: an account in another hub", deactivate, stranger.clone(), "FFFFFFAU"),
        ("reactivateUser", "in scope: an account in the same hub", reactivate, colleague.clone(), "FFFFFFAU"),
        ("reactivateUser", "out of scope: an account in another hub", reactivate, stranger, "FFFFFFAU"),
        ("apiTokens", "in scope: their own", "{ apiTokens { edges { node { id } } } }", json!({}), "AAAAAAAU"),
        ("apiTokens", "out of scope: someone else's", their_tokens, someone_else.clone(), "NNNNNNAU"),
        ("sessions", "out of scope: someone else's", their_sessions, someone_else, "NNNNNNAU"),
        ("accessLog", "in scope", "{ accessLog { edges { node { action } } } }", json!({}), "FFFFFFAU"),
        ("hubs", "in scope", "{ hubs { edges { node { id } } } }", json!({}), "AAAAAAAA"),
        ("providers", "in scope", "{ providers { edges { node { id } } } }", json!({}), "AAAAAAAA"),
    ];
    let mut wrong = Vec::new();
    cast.check_rows(app, &rows, &mut wrong).await;
    // Mutations that create things, once per column with fresh input.
    let create_user = |column: usize| {
        let query = "mutation($e: String!) { createUser(input: { email: $e, displayName: \"New\", roles: [ADVOCATE] }) { user { id } } }";
        (query.to_owned(), json!({ "e": format!("new{column}@example.org") }))
    };
    let add_hub = |column: usize| {
        let query =
            "mutation($n: String!) { addHub(input: { name: $n, kind: HUB, area: \"Brighton and Hove\" }) { id } }";
        (query.to_owned(), json!({ "n": format!("Brighton {column}") }))
    };
    cast.check_columns(app, "FFFFFFAU", &[("createUser", &create_user), ("addHub", &add_hub)], &mut wrong).await;
    assert!(wrong.is_empty(), "the API disagrees with the policy matrix:\n{}", wrong.join("\n"));
}

/// An item logged straight through the service, optionally shared.
async fn item(
    app: &TestApp,
    hub: &str,
    consent: heard_access::Consent,
    shared: bool,
    provider: Option<&str>,
) -> String {
    let new = heard_feedback::domain::NewItem {
        hub: hub.into(),
        channel: Some(heard_feedback::domain::Channel::Forum),
        speaker: Some(heard_feedback::domain::SpeakerKind::Anonymous),
        consent: Some(consent),
        said_on: "2026-11-01".into(),
        text: "The group needs a bigger room".into(),
        provider: provider.map(Into::into),
        ..Default::default()
    };
    let logged = app.feedback.log(uuid::Uuid::nil(), new).await.expect("logged");
    if shared {
        app.feedback.share(logged.logged.item, uuid::Uuid::nil()).await.expect("shared");
    }
    logged.logged.item.to_string()
}

#[tokio::test]
async fn every_role_gets_the_policy_matrix_decision_for_every_feedback_operation() {
    feedback_matrix(&spawn_app().await).await;
}

/// The test above, asked of `app`: its own `/graphql`, or the gateway it is reached through.
pub(crate) async fn feedback_matrix(app: &TestApp) {
    use heard_access::Consent::{Commissioners, Hub, Public};
    let cast = cast(app).await;
    let arun = item(app, "arun", Commissioners, false, None).await;
    let crawley = item(app, "crawley", Public, false, None).await;
    let for_commissioners = item(app, "crawley", Commissioners, true, Some("addaction")).await;
    let crawley_public = item(app, "crawley", Public, true, None).await;
    let coordinator = cast.actors[1].1.unwrap().to_string();
    let view = "query($id: ID!) { feedbackItem(id: $id) { text } }";
    let hold = "mutation($id: ID!) { holdFeedback(id: $id, reason: \"check with the speaker\") { id } }";
    let log = "mutation($h: ID!) { logFeedback(input: { hub: $h, text: \"More groups\", channel: FORUM, saidOn: \"2026-11-01\", speaker: ANONYMOUS, consent: HUB }) { id } }";
    let meeting =
        "mutation($h: ID!) { recordMeeting(input: { hub: $h, heldOn: \"2026-11-01\", attendance: 9 }) { id } }";
    let queue = "query($h: ID!) { moderationQueue(hub: $h) { edges { node { id } } } }";
    let held = "query($h: ID!) { heldFeedback(hub: $h) { totalCount edges { node { id heldReason } } } }";
    let gazetteer = "query($h: ID!) { gazetteer(hub: $h) { id name } }";
    let suggested = "query($id: ID!) { feedbackItem(id: $id) { suggestedRedactions { text } } }";
    let search = "{ searchFeedback(query: \"room\") { total } }";
    // Disclosures of risk: one with the coordinator of the cast, one with another of Arun's.
    let colleague = app.create_user("colleague.coordinator@example.org", &[Role::HubCoordinator], &["arun"]).await;
    let mine = item(app, "arun", Hub, false, None).await;
    let theirs = item(app, "arun", Hub, false, None).await;
    for (disclosure, with) in [(&mine, cast.actors[1].1.unwrap()), (&theirs, colleague)] {
        app.feedback.flag_safeguarding(disclosure.parse().unwrap(), uuid::Uuid::nil(), with).await.expect("flagged");
    }
    let disclosure = "query($id: ID!) { safeguardingDisclosure(id: $id) { id } }";
    let record =
        "mutation($id: ID!) { recordSafeguardingAction(input: { itemId: $id, step: SPOKE_TO_PERSON }) { id } }";
    let coordinators = "query($h: ID!) { coordinators(hub: $h) { id displayName } }";
    // (operation, scope, query, variables, expected: mem crd adv cmp com prv adm anon)
    let rows: Vec<Row> = vec![
        ("logFeedback", "in scope: their hub", log, json!({ "h": "arun" }), "AAFFFFFU"),
        ("logFeedback", "out of scope: another hub", log, json!({ "h": "crawley" }), "FFFFFFFU"),
        ("recordMeeting", "in scope: their hub", meeting, json!({ "h": "arun" }), "AAFFFFFU"),
        ("recordMeeting", "out of scope: another hub", meeting, json!({ "h": "crawley" }), "FFFFFFFU"),
        ("moderationQueue", "in scope: their hub", queue, json!({ "h": "arun" }), "FAFFFFFU"),
        ("moderationQueue", "out of scope: another hub", queue, json!({ "h": "crawley" }), "FFFFFFFU"),
        ("heldFeedback", "in scope: their hub", held, json!({ "h": "arun" }), "FAFFFFFU"),
        ("heldFeedback", "out of scope: another hub", held, json!({ "h": "crawley" }), "FFFFFFFU"),
        ("gazetteer", "in scope: their hub", gazetteer, json!({ "h": "arun" }), "FAFFFFFU"),
        ("gazetteer", "out of scope: another hub", gazetteer, json!({ "h": "crawley" }), "FFFFFFFU"),
        ("suggestedRedactions", "in scope: their hub's unshared item", suggested, id(&arun), "FANNNNNN"),
        ("suggestedRedactions", "out of scope: another hub's unshared item", suggested, id(&crawley), "NNNNNNNN"),
        ("feedbackItem", "in scope: their hub's unshared item", view, id(&arun), "AANNNNNN"),
        ("feedbackItem", "out of scope: another hub's unshared item", view, id(&crawley), "NNNNNNNN"),
        (
            "feedbackItem",
            "in scope: shared with commissioners, about their provider",
            view,
            id(&for_commissioners),
            "NNNNAANN",
        ),
        ("feedbackItem", "in scope: shared and public", view, id(&crawley_public), "AAAAAAAA"),
        ("holdFeedback", "in scope: their hub's item", hold, id(&arun), "FANNNNNU"),
        ("holdFeedback", "out of scope: another hub's item", hold, id(&crawley), "NNNNNNNU"),
        ("searchFeedback", "in scope: what each may see", search, json!({}), "AAAAAAAA"),
        ("coordinators", "in scope: their hub", coordinators, json!({ "h": "arun" }), "AAFFFFAU"),
        ("coordinators", "out of scope: another hub", coordinators, json!({ "h": "crawley" }), "FFFFFFAU"),
        ("safeguardingDisclosures", "in scope", "{ safeguardingDisclosures { id } }", json!({}), "FAFFFFFU"),
        ("safeguardingWithOthers", "in scope", "{ safeguardingWithOthers { hub } }", json!({}), "FAFFFFFU"),
        ("safeguardingOpenCount", "in scope", "{ safeguardingOpenCount }", json!({}), "FAFFFFFU"),
        ("safeguardingDisclosure", "in scope: a disclosure with them", disclosure, id(&mine), "NANNNNNU"),
        ("safeguardingDisclosure", "out of scope: with another coordinator", disclosure, id(&theirs), "NNNNNNNU"),
        ("safeguardingDisclosure", "out of scope: an item nobody flagged", disclosure, id(&arun), "NNNNNNNU"),
        ("recordSafeguardingAction", "out of scope: with another coordinator", record, id(&theirs), "NNNNNNNU"),
        ("recordSafeguardingAction", "in scope: a disclosure with them", record, id(&mine), "NANNNNNU"),
    ];
    let mut wrong = Vec::new();
    cast.check_rows(app, &rows, &mut wrong).await;
    // Changes that use up their item: a fresh item per column.
    let narrow_consent = "mutation($id: ID!) { changeConsent(id: $id, consent: HUB) { id } }";
    let flag = "mutation($id: ID!, $c: ID!) { flagSafeguarding(id: $id, coordinatorId: $c) }";
    for (column, want) in "AANNNNNU".chars().enumerate() {
        let token = &cast.actors[column].0;
        let fresh = item(app, "arun", Public, false, None).await;
        let narrowed = ask(app, token, narrow_consent, json!({ "id": fresh })).await;
        let fresh = item(app, "arun", Public, false, None).await;
        let flagged = ask(app, token, flag, json!({ "id": fresh, "c": coordinator })).await;
        for (operation, response) in [("changeConsent", narrowed), ("flagSafeguarding", flagged)] {
            check_outcome(&response, want, &format!("{:?} × {operation} × in scope", COLUMNS[column]), &mut wrong);
        }
        let theirs = item(app, "crawley", Hub, false, None).await;
        let elsewhere = ask(app, token, narrow_consent, json!({ "id": theirs })).await;
        let expected_elsewhere = if column == 7 { 'U' } else { 'N' };
        let case = format!("{:?} × changeConsent × out of scope", COLUMNS[column]);
        check_outcome(&elsewhere, expected_elsewhere, &case, &mut wrong);
    }
    // Releasing a held item back to the queue: the same people as holding it.
    let release = "mutation($id: ID!) { releaseFeedback(id: $id) { id } }";
    let (mine, elsewhere): (Vec<char>, Vec<char>) = ("FANNNNNU".chars().collect(), "NNNNNNNU".chars().collect());
    for column in 0..COLUMNS.len() {
        let token = &cast.actors[column].0;
        for (hub, want, scope) in [("arun", mine[column], "in scope"), ("crawley", elsewhere[column], "out of scope")] {
            let held_item = item(app, hub, Public, false, None).await;
            app.feedback.hold(held_item.parse().unwrap(), uuid::Uuid::nil(), "check first").await.expect("held");
            let released = ask(app, token, release, json!({ "id": held_item })).await;
            check_outcome(&released, want, &format!("{:?} × releaseFeedback × {scope}", COLUMNS[column]), &mut wrong);
        }
    }
    // The gazetteer: kept by the hub's own coordinators only.
    let mut entries = Vec::new();
    for hub in ["arun", "crawley"] {
        for column in 0..COLUMNS.len() {
            let person = Some(heard_feedback::domain::gazetteer::GazetteerKind::Person);
            let added = app.feedback.add_to_gazetteer(uuid::Uuid::nil(), hub, &format!("Name {column}"), person).await;
            entries.push((hub, column, added.expect("added").id.to_string()));
        }
    }
    let remove = "mutation($h: ID!, $id: ID!) { removeGazetteerEntry(input: { hub: $h, id: $id }) }";
    let add_entry =
        "mutation($h: ID!, $n: String!) { addGazetteerEntry(input: { hub: $h, name: $n, kind: PLACE }) { id } }";
    for (hub, column, entry) in &entries {
        let (want, scope) = if *hub == "arun" { ("FAFFFFFU", "in scope") } else { ("FFFFFFFU", "out of scope") };
        let want = want.chars().nth(*column).unwrap();
        let token = &cast.actors[*column].0;
        let added = ask(app, token, add_entry, json!({ "h": hub, "n": format!("Village {column}") })).await;
        check_outcome(&added, want, &format!("{:?} × addGazetteerEntry × {scope}", COLUMNS[*column]), &mut wrong);
        let removed = ask(app, token, remove, json!({ "h": hub, "id": entry })).await;
        check_outcome(&removed, want, &format!("{:?} × removeGazetteerEntry × {scope}", COLUMNS[*column]), &mut wrong);
    }
    let add_theme = |column: usize| {
        ("mutation($n: String!) { addTheme(name: $n) { id } }".to_owned(), json!({ "n": format!("Theme {column}") }))
    };
    cast.check_columns(app, "FAFFFFAU", &[("addTheme", &add_theme)], &mut wrong).await;
    assert!(wrong.is_empty(), "the API disagrees with the policy matrix:\n{}", wrong.join("\n"));
}

/// A complaint recorded straight through the rights service.
async fn complaint(app: &TestApp, provider: &str, relayed_by: Option<uuid::Uuid>) -> String {
    use heard_rights::domain::complaint::{Complainant, Route};
    let new = heard_rights::service::NewComplaint {
        charter: "exact".into(),
        provider: provider.into(),
        service: None,
        articles: vec![5],
        complainant: if relayed_by.is_some() { Complainant::RelayedByAdvocate } else { Complainant::Anonymous },
        name: None,
        contact: None,
        route: if relayed_by.is_some() { Route::Advocate } else { Route::Direct },
        advocate: relayed_by,
        what_happened: "I was turned away".into(),
        outcome_wanted: "An apology".into(),
        received_on: heard_api::today(),
    };
    let raised = app.rights.raise(uuid::Uuid::nil(), new, heard_api::today()).await.expect("raised");
    raised.complaint.id.to_string()
}

/// An accepted advocacy case assigned to `advocate`, straight through the service.
async fn case_file(app: &TestApp, advocate: uuid::Uuid) -> String {
    use heard_advocacy::domain::case::{AdvocacyKind, CaseDomain, ReferralSource};
    app.settled().await;
    let referral = heard_advocacy::service::Referral {
        pseudonym: None,
        client_name: Some("Sam Example".into()),
        client_contact: None,
        issue: "My landlord wants me out".into(),
        kind: AdvocacyKind::Instructed,
        source: ReferralSource::SelfReferral,
        domain: CaseDomain::Housing,
        themes: vec![],
        provider: Some("addaction".into()),
        articles: vec![3],
        linked_to: None,
        advocate: Some(advocate),
        referred_on: None,
    };
    let case = app.advocacy.refer(advocate, referral).await.expect("referred");
    app.advocacy.accept(case.id, advocate, heard_api::today()).await.expect("accepted");
    case.id.to_string()
}

#[tokio::test]
async fn every_role_gets_the_policy_matrix_decision_for_every_casework_operation() {
    casework_matrix(&spawn_app().await).await;
}

/// The test above, asked of `app`: its own `/graphql`, or the gateway it is reached through.
pub(crate) async fn casework_matrix(app: &TestApp) {
    let cast = cast(app).await;
    let advocate = cast.actors[2].1.unwrap();
    let other_advocate = app.create_user("other.advocate@example.org", &[Role::Advocate], &[]).await;
    let theirs = complaint(app, "addaction", Some(advocate)).await;
    let elsewhere = complaint(app, "cri", Some(other_advocate)).await;
    let my_case = case_file(app, advocate).await;
    let their_case = case_file(app, other_advocate).await;
    let view_case = "query($id: ID!) { case(id: $id) { id issue } }";
    let work_case = "mutation($id: ID!) { recordCaseAction(id: $id, input: { kind: CALL, text: \"Rang the housing officer\" }) { id } }";
    let themes = "{ advocacyThemes(by: [DOMAIN]) { count suppressed } }";
    let view = "query($id: ID!) { complaint(id: $id) { id whatHappened } }";
    let who = "query($id: ID!) { complaint(id: $id) { complainantName relayedByAdvocateId } }";
    let acknowledge = "mutation($id: ID!) { acknowledgeComplaint(id: $id, how: PHONE) { id } }";
    let patterns = "{ complaintPatterns(by: [ARTICLE]) { count } }";
    let handler = cast.actors[3].1.unwrap().to_string();
    let assign = "mutation($id: ID!, $h: ID!) { assignComplaint(id: $id, handlerId: $h) { id } }";
    let assign_to_handler = |complaint: &str| json!({ "id": complaint, "h": handler });
    let mine = "{ complaints(mine: true) { edges { node { id } } } }";
    // (operation, scope, query, variables, expected: mem crd adv cmp com prv adm anon)
    let rows: Vec<Row> = vec![
        ("complaint", "in scope: about their provider, relayed by them", view, id(&theirs), "NNAANANU"),
        ("complaint", "out of scope: another provider, another advocate", view, id(&elsewhere), "NNNANNNU"),
        ("overdueComplaints", "in scope", "{ overdueComplaints { reason } }", json!({}), "FFFAFFFU"),
        ("complaintPatterns", "in scope", patterns, json!({}), "FFFAAFFU"),
        ("complaintHandlers", "in scope", "{ complaintHandlers { id displayName } }", json!({}), "FFFAFFFU"),
        ("complaints(mine)", "in scope", mine, json!({}), "FFFAFFFU"),
        // Before the acknowledgements below, which make the handler its handler already.
        ("assignComplaint", "out of scope: another provider", assign, assign_to_handler(&elsewhere), "NNNANNNU"),
        ("assignComplaint", "in scope: about their provider", assign, assign_to_handler(&theirs), "NNFANFNU"),
        ("acknowledgeComplaint", "out of scope: another provider", acknowledge, id(&elsewhere), "NNNANNNU"),
        ("acknowledgeComplaint", "in scope: about their provider", acknowledge, id(&theirs), "NNFANFNU"),
        ("case", "in scope: assigned to them", view_case, id(&my_case), "NNANNNNU"),
        ("case", "out of scope: assigned to another advocate", view_case, id(&their_case), "NNNNNNNU"),
        ("recordCaseAction", "in scope: assigned to them", work_case, id(&my_case), "NNANNNNU"),
        ("recordCaseAction", "out of scope: assigned to another advocate", work_case, id(&their_case), "NNNNNNNU"),
        ("advocacyThemes", "in scope", themes, json!({}), "FFAFAFFU"),
    ];
    let mut wrong = Vec::new();
    cast.check_rows(app, &rows, &mut wrong).await;
    // Who complained: the handler and the relaying advocate see it; the provider sees the
    // complaint with the complainant withheld.
    let provider = ask(app, &cast.actors[5].0, who, json!({ "id": theirs })).await;
    assert_eq!(provider["data"]["complaint"]["relayedByAdvocateId"], Value::Null, "{provider}");
    let handler = ask(app, &cast.actors[3].0, who, json!({ "id": theirs })).await;
    assert_eq!(handler["data"]["complaint"]["relayedByAdvocateId"], advocate.to_string().as_str(), "{handler}");
    let raise = |_| {
        let query = "mutation { raiseComplaint(input: { provider: \"cri\", articles: [2], complainantKind: ANONYMOUS, route: HUB, whatHappened: \"No leaflet\", outcomeWanted: \"A leaflet\" }) { id } }";
        (query.to_owned(), json!({}))
    };
    cast.check_columns(app, "AAAAFFFU", &[("raiseComplaint", &raise)], &mut wrong).await;
    let refer = |column: usize| {
        let query = "mutation($issue: String!) { referCase(input: { issue: $issue, kind: INSTRUCTED, referralSource: SELF_REFERRAL, domain: BENEFITS }) { id } }";
        (query.to_owned(), json!({ "issue": format!("My benefits were stopped ({column})") }))
    };
    cast.check_columns(app, "FFAFFFFU", &[("referCase", &refer)], &mut wrong).await;
    assert!(wrong.is_empty(), "the API disagrees with the policy matrix:\n{}", wrong.join("\n"));
    // The advocate's in-scope action was recorded once; nobody else's attempt left anything.
    let recorded = app.advocacy.case(my_case.parse().unwrap()).unwrap().actions.len();
    assert_eq!(recorded, 1, "only the advocate column recorded an action on their case");
    assert!(app.advocacy.case(their_case.parse().unwrap()).unwrap().actions.is_empty());
}

#[tokio::test]
async fn a_concealed_account_looks_exactly_like_one_that_does_not_exist() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let coordinator = &cast.actors[1].0;
    let query = "query($id: ID!) { user(id: $id) { id } }";
    let hidden = ask(&app, coordinator, query, json!({ "id": cast.stranger })).await;
    let missing = ask(&app, coordinator, query, json!({ "id": uuid::Uuid::new_v4() })).await;
    assert_eq!(hidden["errors"][0]["message"], missing["errors"][0]["message"]);
    assert_eq!(error_code(&hidden), error_code(&missing));
}

#[tokio::test]
async fn refusals_are_on_the_access_log_for_administrators_without_personal_data() {
    let app = spawn_app().await;
    let cast = cast(&app).await;
    let member = cast.actors[0].clone();
    let refused =
        ask(&app, &member.0, "query($id: ID!) { user(id: $id) { email } }", json!({ "id": cast.stranger })).await;
    assert_eq!(error_code(&refused), Some("NOT_FOUND"));
    ask(&app, &member.0, "{ accessLog { edges { node { action } } } }", json!({})).await;

    let admin = &cast.actors[6].0;
    let log = ask(
        &app,
        admin,
        "query($a: ID!) { accessLog(actorId: $a, allowed: false) { edges { node { action resourceKind resourceId allowed reason at actor { id } } } } }",
        json!({ "a": member.1.unwrap() }),
    )
    .await;
    let entries = log["data"]["accessLog"]["edges"].as_array().expect("entries");
    let actions: Vec<&str> = entries.iter().map(|e| e["node"]["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["view_access_log", "view_account"], "newest first: {log}");
    assert_eq!(entries[1]["node"]["resourceId"], cast.stranger.to_string());
    assert_eq!(entries[1]["node"]["actor"]["id"], member.1.unwrap().to_string());

    for event in app.store.read_category("access", 1, 10_000).await.unwrap() {
        let text = format!("{}{}", String::from_utf8_lossy(&event.data), String::from_utf8_lossy(&event.metadata));
        assert!(!text.contains('@') && !text.contains("Test "), "personal data in an access event: {text}");
    }
}

#[tokio::test]
async fn every_error_carries_one_of_the_stable_codes() {
    let app = spawn_app().await;
    let admin = app.create_user("admin@example.org", &[Role::Administrator], &[]).await;
    let member = app.create_user("member@example.org", &[Role::HubMember], &["arun"]).await;
    let stranger = app.create_user("stranger@example.org", &[Role::HubMember], &["crawley"]).await;
    let admin = app.token_for(admin).await;
    let member = app.token_for(member).await;
    let create = "mutation($e: String!, $h: [ID!]!) { createUser(input: { email: $e, displayName: \"Pat\", roles: [HUB_MEMBER], hubs: $h }) { user { id } } }";

    let unauthenticated = app.graphql("{ me { id } }", json!({})).await;
    assert_eq!(error_code(&unauthenticated), Some("UNAUTHENTICATED"));
    let forbidden = app.graphql_as(&member, "{ accessLog { edges { node { action } } } }", json!({})).await;
    assert_eq!(error_code(&forbidden), Some("FORBIDDEN"));
    let not_found =
        app.graphql_as(&member, "query($id: ID!) { user(id: $id) { id } }", json!({ "id": stranger })).await;
    assert_eq!(error_code(&not_found), Some("NOT_FOUND"));
    let conflict = app.graphql_as(&admin, create, json!({ "e": "MEMBER@example.org", "h": ["arun"] })).await;
    assert_eq!(error_code(&conflict), Some("CONFLICT"), "{conflict}");
    let bad_email = app.graphql_as(&admin, create, json!({ "e": "not an email", "h": ["arun"] })).await;
    assert_eq!(error_code(&bad_email), Some("BAD_USER_INPUT"));
    assert_eq!(bad_email["errors"][0]["extensions"]["field"], "input.email");
    assert!(!bad_email["errors"][0]["message"].as_str().unwrap().contains("not an email"), "input is not echoed");
    let bad_hub = app.graphql_as(&admin, create, json!({ "e": "pat@example.org", "h": ["atlantis"] })).await;
    assert_eq!(bad_hub["errors"][0]["extensions"]["field"], "input.hubs");
    let bad_query = app.graphql("{ noSuchField }", json!({})).await;
    assert_eq!(error_code(&bad_query), Some("BAD_USER_INPUT"));
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(12),
        "} ".repeat(12)
    );
    let too_deep = app.graphql(&deep, json!({})).await;
    assert!(too_deep["errors"][0]["message"].as_str().unwrap().contains("nested too deep"), "{too_deep}");
    assert_eq!(error_code(&too_deep), Some("BAD_USER_INPUT"), "{too_deep}");

    // A failure inside Heard: the store is closed under the server. The client gets a
    // reference, never the internal detail; nothing is half-written.
    app.store.close().await.unwrap();
    let internal = app.graphql_as(&admin, create, json!({ "e": "late@example.org", "h": ["arun"] })).await;
    assert_eq!(error_code(&internal), Some("INTERNAL"), "{internal}");
    let message = internal["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("reference") && !message.to_lowercase().contains("closed"), "{message}");
    assert!(app.identity.directory().read(|state| !state.by_email.contains_key("late@example.org")));
}

#[tokio::test]
async fn a_newcomer_creates_an_administrator_with_one_command_then_a_coordinator_who_sees_only_arun() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(heard_binary())
        .args(["admin", "create-user", "--data"])
        .arg(data_dir.path())
        .args(["--email", "admin@example.org", "--role", "administrator", "--name", "Alex"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let password = stdout
        .lines()
        .find_map(|line| line.strip_prefix("one-time password: "))
        .expect("a one-time password is printed")
        .to_owned();

    let app = spawn_app_in(data_dir, |_| {}).await;
    let admin = app.try_login("admin@example.org", &password).await.expect("the administrator logs in");
    let me = admin.graphql("{ me { displayName roles mustChangePassword } }", json!({})).await;
    assert_eq!(
        me["data"]["me"],
        json!({ "displayName": "Alex", "roles": ["ADMINISTRATOR"], "mustChangePassword": true })
    );
    // The one-time password opens nothing else until the administrator chooses their own.
    let create_chris = "mutation { createUser(input: { email: \"chris@example.org\", displayName: \"Chris\", roles: [HUB_COORDINATOR], hubs: [\"arun\"] }) { user { id hubs { name } } oneTimePassword } }";
    let refused = admin.graphql(create_chris, json!({})).await;
    assert_eq!(error_code(&refused), Some("PASSWORD_CHANGE_REQUIRED"), "{refused}");
    admin.change_password(&password, "the administrator's own password").await;
    let created = admin.graphql(create_chris, json!({})).await;
    let coordinator_password = created["data"]["createUser"]["oneTimePassword"].as_str().expect("{created}").to_owned();
    let crawley = admin
        .graphql(
            "mutation { createUser(input: { email: \"dee@example.org\", displayName: \"Dee\", roles: [HUB_MEMBER], hubs: [\"crawley\"] }) { user { id } } }",
            json!({}),
        )
        .await["data"]["createUser"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let chris = app.try_login("chris@example.org", &coordinator_password).await.expect("the coordinator logs in");
    chris.change_password(&coordinator_password, "my own long password").await;
    let users = chris.graphql("{ users { edges { node { displayName hubs { id } } } } }", json!({})).await;
    let names: Vec<&str> = users["data"]["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Chris"], "a coordinator lists only accounts in their hubs: {users}");
    let peek = chris.graphql("query($id: ID!) { user(id: $id) { displayName } }", json!({ "id": crawley })).await;
    assert_eq!(error_code(&peek), Some("NOT_FOUND"), "{peek}");
    let filtered = chris.graphql("{ users(hub: \"crawley\") { edges { node { id } } } }", json!({})).await;
    assert_eq!(filtered["data"]["users"]["edges"], json!([]));
    assert!(app.try_login("chris@example.org", "my own long password").await.is_ok());
}

#[tokio::test]
async fn every_role_gets_the_policy_matrix_decision_for_every_commissioning_operation() {
    commissioning_matrix(&spawn_app().await).await;
}

/// The test above, asked of `app`: its own `/graphql`, or the gateway it is reached through.
pub(crate) async fn commissioning_matrix(app: &TestApp) {
    use heard_access::Consent::Commissioners;
    let cast = cast(app).await;
    let commissioner = cast.actors[4].0.clone();
    // Crawley's items, about the provider column's provider: only commissioners may answer them.
    let to_acknowledge = item(app, "crawley", Commissioners, true, Some("addaction")).await;
    let to_answer = item(app, "crawley", Commissioners, true, Some("addaction")).await;
    let not_shared = item(app, "crawley", Commissioners, false, Some("addaction")).await;
    app.settled().await;
    let decision_fields = "id status milestones { id } evidence { id }";
    let propose = format!(
        "mutation($t: String!) {{ proposeDecision(input: {{ title: $t, serviceArea: \"Treatment\", decidedBy: \"DAAT board\", decisionDate: \"2026-11-02\", ladderRung: 4, involvement: \"Asked at the forum\" }}) {{ {decision_fields} }} }}"
    );
    let by_commissioner = |response: Value, field: &str| {
        assert!(response["errors"].is_null(), "{field}: {response}");
        response["data"][field].clone()
    };
    let decision =
        by_commissioner(ask(app, &commissioner, &propose, json!({ "t": "Seen by all" })).await, "proposeDecision");
    let decision = decision["id"].as_str().unwrap().to_owned();
    let view = "query($id: ID!) { decision(id: $id) { id } }";
    let as_at = "query($id: ID!) { decision(id: $id, atPosition: 1) { id } }";
    let report = "{ youSaidWeDid { sharedItems decisions { id } } }";
    let public = "{ youSaidWeDid(public: true, scope: { hub: \"crawley\" }) { sharedItems } }";
    let acknowledge = "mutation($id: ID!) { acknowledgeFeedback(itemId: $id) { itemId } }";
    let answer = "mutation($id: ID!) { answerFeedback(itemId: $id, reason: \"Outside this contract\") { itemId } }";
    // (operation, scope, query, variables, expected: mem crd adv cmp com prv adm anon)
    let rows: Vec<Row> = vec![
        ("decision", "in scope", view, id(&decision), "AAAAAAFU"),
        ("decisions", "in scope", "{ decisions { nodes { id } } }", json!({}), "AAAAAAFU"),
        // Before the decision was proposed: as if there were no such decision.
        ("decision", "at a position before it", as_at, id(&decision), "NNNNNNFU"),
        ("youSaidWeDid", "in scope", report, json!({}), "AAAAAAAA"),
        ("youSaidWeDid", "in scope: the public version", public, json!({}), "AAAAAAAA"),
        ("loopMetrics", "in scope", "{ loopMetrics { sharedItems } }", json!({}), "AAAAAAAA"),
        ("acknowledgeFeedback", "in scope: shared with commissioners", acknowledge, id(&to_acknowledge), "NNNNAFNU"),
        ("acknowledgeFeedback", "out of scope: not shared yet", acknowledge, id(&not_shared), "NNNNNNNU"),
        ("answerFeedback", "in scope: shared with commissioners", answer, id(&to_answer), "NNNNAFNU"),
        ("answerFeedback", "out of scope: not shared yet", answer, id(&not_shared), "NNNNNNNU"),
    ];
    let mut wrong = Vec::new();
    cast.check_rows(app, &rows, &mut wrong).await;
    // Every change to a decision, on a fresh decision per column set up by the commissioner:
    // proposed with a milestone and a link, then agreed.
    let first_milestone = format!(
        "mutation($id: ID!) {{ addMilestone(id: $id, title: \"Contract varied\", due: \"2027-04-01\") {{ {decision_fields} }} }}"
    );
    let first_link = format!(
        "mutation($id: ID!) {{ linkEvidence(id: $id, input: {{ kind: THEME, theme: \"opening-hours\", rationale: \"Raised at every hub\" }}) {{ {decision_fields} }} }}"
    );
    let agree = "mutation($id: ID!) { updateDecisionStatus(id: $id, status: AGREED) { id } }";
    let record_progress = "mutation($id: ID!) { recordProgress(id: $id, percent: 50, note: \"Half way\") { id } }";
    let add_milestone = "mutation($id: ID!) { addMilestone(id: $id, title: \"Review\", due: \"2027-06-01\") { id } }";
    let meet = "mutation($id: ID!, $m: ID!) { meetMilestone(id: $id, milestoneId: $m) { id } }";
    let link_more = "mutation($id: ID!) { linkEvidence(id: $id, input: { kind: THEME, theme: \"keyworker-time\", rationale: \"Also raised\" }) { id } }";
    let unlink =
        "mutation($id: ID!, $l: ID!) { unlinkEvidence(id: $id, linkId: $l, reason: \"Linked in error\") { id } }";
    let done = "mutation($id: ID!) { updateDecisionStatus(id: $id, status: DONE) { id } }";
    let review = "mutation($id: ID!) { reviewOutcome(id: $id, summary: \"Waiting times fell\") { id } }";
    for (column, want) in "FFFFAFFU".chars().enumerate() {
        let token = &cast.actors[column].0;
        let fresh = ask(app, &commissioner, &propose, json!({ "t": format!("For column {column}") })).await;
        let id = by_commissioner(fresh, "proposeDecision")["id"].as_str().unwrap().to_owned();
        let milestone = ask(app, &commissioner, &first_milestone, json!({ "id": id })).await;
        let milestone = by_commissioner(milestone, "addMilestone")["milestones"][0]["id"].as_str().unwrap().to_owned();
        let linked = ask(app, &commissioner, &first_link, json!({ "id": id })).await;
        let link = by_commissioner(linked, "linkEvidence")["evidence"][0]["id"].as_str().unwrap().to_owned();
        by_commissioner(ask(app, &commissioner, agree, json!({ "id": id })).await, "updateDecisionStatus");
        let operations: Vec<(&str, &str, Value)> = vec![
            ("proposeDecision", &propose, json!({ "t": format!("Proposed by column {column}") })),
            ("recordProgress", record_progress, json!({ "id": id })),
            ("addMilestone", add_milestone, json!({ "id": id })),
            ("meetMilestone", meet, json!({ "id": id, "m": milestone })),
            ("linkEvidence", link_more, json!({ "id": id })),
            ("unlinkEvidence", unlink, json!({ "id": id, "l": link })),
            ("updateDecisionStatus", done, json!({ "id": id })),
            ("reviewOutcome", review, json!({ "id": id })),
        ];
        for (operation, query, variables) in operations {
            let response = ask(app, token, query, variables).await;
            check_outcome(&response, want, &format!("{:?} × {operation} × in scope", COLUMNS[column]), &mut wrong);
        }
        // Nobody but the commissioner moved the decision on.
        let after =
            ask(app, &commissioner, "query($id: ID!) { decision(id: $id) { status } }", json!({ "id": id })).await;
        let status = if want == 'A' { "DONE" } else { "AGREED" };
        assert_eq!(after["data"]["decision"]["status"], status, "{:?}: {after}", COLUMNS[column]);
    }
    assert!(wrong.is_empty(), "the API disagrees with the policy matrix:\n{}", wrong.join("\n"));
}

/// A feedback item of `hub`'s said today, straight through the service: a withdrawal of consent
/// to it falls within the six months in which withdrawing erases.
async fn said_today(app: &TestApp, hub: &str) -> String {
    let new = heard_feedback::domain::NewItem {
        hub: hub.into(),
        channel: Some(heard_feedback::domain::Channel::Forum),
        speaker: Some(heard_feedback::domain::SpeakerKind::Anonymous),
        consent: Some(heard_access::Consent::Hub),
        said_on: heard_api::today().to_string(),
        text: "They told me to come back next week".into(),
        ..Default::default()
    };
    app.feedback.log(uuid::Uuid::nil(), new).await.expect("logged").logged.item.to_string()
}

/// Who holds a person's records, for one scope of the rights matrix.
#[derive(Clone, Copy, Debug)]
enum Known {
    /// An item at Arun (the cast's hub).
    ToTheirHub,
    /// A case assigned to the cast's advocate.
    ThroughTheirCase,
    /// A complaint about the cast's provider, relayed by the cast's advocate.
    ThroughAComplaintTheyRelayed,
    /// A complaint about another provider, made directly.
    ThroughAComplaint,
    /// An item at Crawley.
    ToAnotherHub,
    /// A case assigned to another advocate.
    ThroughAnotherAdvocatesCase,
    /// An item at Crawley and a case assigned to another advocate.
    ToAnotherHubAndAnotherAdvocate,
    /// Nothing: a code Heard never gave out.
    Not,
}

/// The advocates of the rights matrix: the cast's, and another.
#[derive(Clone, Copy)]
struct Advocates {
    theirs: uuid::Uuid,
    another: uuid::Uuid,
}

/// A fresh person whose records are held as `known` says, each said to be theirs straight
/// through the service that holds it (as the people who hold them would), once every model,
/// the privacy service's too, knows them.
async fn a_person(app: &TestApp, known: Known, advocates: Advocates) -> String {
    let nobody = uuid::Uuid::nil();
    let of_item = async |hub: &str, person: Option<PersonId>| {
        let item = said_today(app, hub).await.parse().unwrap();
        app.feedback.attribute(item, nobody, person).await.expect("attributed").person.expect("a person")
    };
    let of_case = async |advocate: uuid::Uuid, person: Option<PersonId>| {
        let case = case_file(app, advocate).await.parse().unwrap();
        app.advocacy.attribute(case, advocate, person).await.expect("attributed");
        app.advocacy.kept(case).unwrap().person.expect("a person")
    };
    let of_complaint = async |provider: &str, relayed_by: Option<uuid::Uuid>| {
        let complaint = complaint(app, provider, relayed_by).await.parse().unwrap();
        app.rights.attribute(complaint, nobody, None).await.expect("attributed").person.expect("a person")
    };
    let person = match known {
        Known::ToTheirHub => of_item("arun", None).await,
        Known::ThroughTheirCase => of_case(advocates.theirs, None).await,
        Known::ThroughAComplaintTheyRelayed => of_complaint("addaction", Some(advocates.theirs)).await,
        Known::ThroughAComplaint => of_complaint("cri", None).await,
        Known::ToAnotherHub => of_item("crawley", None).await,
        Known::ThroughAnotherAdvocatesCase => of_case(advocates.another, None).await,
        Known::ToAnotherHubAndAnotherAdvocate => {
            let person = of_item("crawley", None).await;
            of_case(advocates.another, Some(person)).await
        }
        Known::Not => return uuid::Uuid::new_v4().to_string(),
    };
    app.settled().await;
    assert!(app.services.privacy.caught_up().await, "the privacy service knows the person");
    person.to_string()
}

#[tokio::test]
async fn every_role_gets_the_policy_matrix_decision_for_every_rights_operation() {
    rights_matrix(&spawn_app().await).await;
}

/// Whether `person` is erased in `app`'s privacy model, once it says what `expected` says or 10 s
/// have passed: through the gateway, the privacy subgraph erased them and this process reads
/// it from the shared log a moment later.
async fn erased_as_expected(app: &TestApp, person: &str, expected: bool) -> bool {
    let person = PersonId(person.parse().unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let erased = app.services.privacy.erased_at(person).is_some();
        if erased == expected || std::time::Instant::now() > deadline {
            return erased;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The test above, asked of `app`: its own `/graphql`, or the gateway it is reached through.
pub(crate) async fn rights_matrix(app: &TestApp) {
    use Known::*;
    let cast = cast(app).await;
    let advocate = cast.actors[2].1.unwrap();
    let another = app.create_user("other.advocate@example.org", &[Role::Advocate], &[]).await;
    let advocates = Advocates { theirs: advocate, another };
    let mut wrong = Vec::new();

    // Subject access: those who hold a record of the person, and to everyone else the person
    // does not exist. (scope, whose, expected: mem crd adv cmp com prv adm anon)
    let held: [(&str, Known, &str); 6] = [
        ("in scope: an item in their hub", ToTheirHub, "NANNNNNU"),
        ("in scope: a case assigned to them", ThroughTheirCase, "NNANNNNU"),
        ("in scope: a complaint relayed by them", ThroughAComplaintTheyRelayed, "NNAANNNU"),
        ("in scope: a complaint", ThroughAComplaint, "NNNANNNU"),
        ("out of scope: another hub's item and another advocate's case", ToAnotherHubAndAnotherAdvocate, "NNNNNNNU"),
        ("out of scope: a person Heard does not know", Not, "NNNNNNNU"),
    ];
    let subject_access = "query($p: ID!) { subjectAccess(person: $p) { person } }";
    let mut rows = Vec::new();
    for (scope, known, expected) in held {
        rows.push((
            "subjectAccess",
            scope,
            subject_access,
            json!({ "p": a_person(app, known, advocates).await }),
            expected,
        ));
    }
    // A handler writes a complaint's words for the provider: complaints handlers only.
    let theirs = complaint(app, "addaction", Some(advocate)).await;
    let elsewhere = complaint(app, "cri", Some(another)).await;
    let redact =
        "mutation($id: ID!) { redactComplaintForProvider(complaintId: $id, text: \"Turned away at the door\") { id } }";
    rows.push((
        "redactComplaintForProvider",
        "in scope: about their provider, relayed by them",
        redact,
        id(&theirs),
        "NNFANFNU",
    ));
    rows.push((
        "redactComplaintForProvider",
        "out of scope: another provider, another advocate",
        redact,
        id(&elsewhere),
        "NNNANNNU",
    ));
    // Or finds nothing to take out, so the provider reads the words as written: the same people,
    // on complaints no one has redacted yet (a release after a redaction is a conflict).
    let theirs = complaint(app, "addaction", Some(advocate)).await;
    let elsewhere = complaint(app, "cri", Some(another)).await;
    let release = "mutation($id: ID!) { releaseComplaintWordsToProvider(complaintId: $id) { id } }";
    rows.push((
        "releaseComplaintWordsToProvider",
        "in scope: about their provider, relayed by them",
        release,
        id(&theirs),
        "NNFANFNU",
    ));
    rows.push((
        "releaseComplaintWordsToProvider",
        "out of scope: another provider, another advocate",
        release,
        id(&elsewhere),
        "NNNANNNU",
    ));
    cast.check_rows(app, &rows, &mut wrong).await;

    // Erasure uses its person up: a fresh person per column, and only an allowed column's
    // person is erased.
    let erase = "mutation($p: ID!) { eraseSubject(person: $p) { person records } }";
    for (scope, known, expected) in held {
        for (column, want) in expected.chars().enumerate() {
            let person = a_person(app, known, advocates).await;
            let answer = ask(app, &cast.actors[column].0, erase, json!({ "p": person })).await;
            check_outcome(&answer, want, &format!("{:?} × eraseSubject × {scope}", COLUMNS[column]), &mut wrong);
            let erased = erased_as_expected(app, &person, want == 'A').await;
            assert_eq!(
                erased,
                want == 'A',
                "{:?} × eraseSubject × {scope}: erased {erased}: {answer}",
                COLUMNS[column]
            );
        }
    }

    // Saying a record is a person's: the record's own rule first, then the person (a person
    // another hub or another advocate holds is answered as a code Heard does not know, `P`).
    // A fresh record and person per column; only an allowed column's record changes hands.
    let attribute_item = "mutation($id: ID!, $p: ID) { attributeFeedback(itemId: $id, person: $p) { person } }";
    let items: [(&str, &str, Option<Known>, &str); 5] = [
        ("in scope: their hub's item, a new person", "arun", None, "FANNNNNU"),
        ("in scope: their hub's item, a person with an item in their hub", "arun", Some(ToTheirHub), "FANNNNNU"),
        (
            "in scope: their hub's item, a person known only from another advocate's case (a link between services)",
            "arun",
            Some(ThroughAnotherAdvocatesCase),
            "FANNNNNU",
        ),
        (
            "out of scope: their hub's item, a person whose items another hub holds",
            "arun",
            Some(ToAnotherHub),
            "FPNNNNNU",
        ),
        ("out of scope: another hub's item, a new person", "crawley", None, "NNNNNNNU"),
    ];
    for (scope, hub, known, expected) in items {
        for (column, want) in expected.chars().enumerate() {
            let item = said_today(app, hub).await;
            let person = match known {
                Some(known) => Some(a_person(app, known, advocates).await),
                None => None,
            };
            let answer = ask(app, &cast.actors[column].0, attribute_item, json!({ "id": item, "p": person })).await;
            let case = format!("{:?} × attributeFeedback × {scope}", COLUMNS[column]);
            check_outcome(&answer, want, &case, &mut wrong);
            let now = app.feedback.item(item.parse().unwrap()).unwrap().person.map(|person| person.to_string());
            match (want, &person) {
                ('A', Some(person)) => assert_eq!(now.as_ref(), Some(person), "{case}"),
                ('A', None) => assert!(now.is_some(), "{case}: a new person"),
                _ => assert_eq!(now, None, "{case}: nobody's item changed hands"),
            }
        }
    }
    let attribute_case = "mutation($id: ID!, $p: ID) { attributeCase(caseId: $id, person: $p) { person } }";
    let cases: [(&str, uuid::Uuid, Option<Known>, &str); 4] = [
        ("in scope: their case, a new person", advocate, None, "NNANNNNU"),
        (
            "in scope: their case, a person known only to another hub (a link between services)",
            advocate,
            Some(ToAnotherHub),
            "NNANNNNU",
        ),
        (
            "out of scope: their case, a person whose case another advocate works",
            advocate,
            Some(ThroughAnotherAdvocatesCase),
            "NNPNNNNU",
        ),
        ("out of scope: another advocate's case, a new person", another, None, "NNNNNNNU"),
    ];
    for (scope, assigned, known, expected) in cases {
        for (column, want) in expected.chars().enumerate() {
            let case_id = case_file(app, assigned).await;
            let person = match known {
                Some(known) => Some(a_person(app, known, advocates).await),
                None => None,
            };
            let answer = ask(app, &cast.actors[column].0, attribute_case, json!({ "id": case_id, "p": person })).await;
            let case = format!("{:?} × attributeCase × {scope}", COLUMNS[column]);
            check_outcome(&answer, want, &case, &mut wrong);
            let now = app.advocacy.kept(case_id.parse().unwrap()).unwrap().person.map(|person| person.to_string());
            match (want, &person) {
                ('A', Some(person)) => assert_eq!(now.as_ref(), Some(person), "{case}"),
                ('A', None) => assert!(now.is_some(), "{case}: a new person"),
                _ => assert_eq!(now, None, "{case}: nobody's case changed hands"),
            }
        }
    }
    let attribute_complaint =
        "mutation($id: ID!, $p: ID) { attributeComplaint(complaintId: $id, person: $p) { person } }";
    /// (scope, the provider it is about, the advocate who relayed it, the person named, expected)
    type ComplaintRow<'a> = (&'a str, &'a str, Option<uuid::Uuid>, Option<Known>, &'a str);
    let complaints: [ComplaintRow; 3] = [
        (
            "in scope: about their provider, relayed by them, a new person",
            "addaction",
            Some(advocate),
            None,
            "NNFANFNU",
        ),
        (
            "in scope: about their provider, relayed by them, a person known to a hub (a link between services)",
            "addaction",
            Some(advocate),
            Some(ToAnotherHub),
            "NNFANFNU",
        ),
        ("out of scope: another provider, another advocate, a new person", "cri", Some(another), None, "NNNANNNU"),
    ];
    for (scope, provider, relayed_by, known, expected) in complaints {
        for (column, want) in expected.chars().enumerate() {
            let complaint_id = complaint(app, provider, relayed_by).await;
            let person = match known {
                Some(known) => Some(a_person(app, known, advocates).await),
                None => None,
            };
            let answer =
                ask(app, &cast.actors[column].0, attribute_complaint, json!({ "id": complaint_id, "p": person })).await;
            let case = format!("{:?} × attributeComplaint × {scope}", COLUMNS[column]);
            check_outcome(&answer, want, &case, &mut wrong);
            let now = app.rights.complaint(complaint_id.parse().unwrap()).unwrap().person.map(|p| p.to_string());
            match (want, &person) {
                ('A', Some(person)) => assert_eq!(now.as_ref(), Some(person), "{case}"),
                ('A', None) => assert!(now.is_some(), "{case}: a new person"),
                _ => assert_eq!(now, None, "{case}: nobody's complaint changed hands"),
            }
        }
    }

    // Withdrawing consent within six months of speaking erases the item: the same people as any
    // change of consent, and an allowed column's item is erased, not only hidden.
    let withdraw = "mutation($id: ID!) { changeConsent(id: $id, consent: WITHDRAWN) { id erased } }";
    for (scope, hub, expected) in [
        ("in scope: their hub's item", "arun", "AANNNNNU"),
        ("out of scope: another hub's item", "crawley", "NNNNNNNU"),
    ] {
        for (column, want) in expected.chars().enumerate() {
            let item = said_today(app, hub).await;
            let answer = ask(app, &cast.actors[column].0, withdraw, json!({ "id": item })).await;
            let case = format!("{:?} × changeConsent(WITHDRAWN) × {scope}", COLUMNS[column]);
            check_outcome(&answer, want, &case, &mut wrong);
            let erased = app.feedback.item(item.parse().unwrap()).unwrap().erased;
            assert_eq!(erased, want == 'A', "{case}: {answer}");
            if want == 'A' {
                assert_eq!(answer["data"]["changeConsent"]["erased"], true, "{case}: {answer}");
            }
        }
    }
    assert!(wrong.is_empty(), "the API disagrees with the policy matrix:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn another_hubs_coordinator_who_learns_a_persons_code_cannot_attach_their_own_item_to_them_nor_then_erase_or_see_them()
 {
    let app = spawn_app().await;
    let arun = app.create_user("arun.coordinator@example.org", &[Role::HubCoordinator], &["arun"]).await;
    let crawley_id = app.create_user("crawley.coordinator@example.org", &[Role::HubCoordinator], &["crawley"]).await;
    let (arun, crawley) = (app.token_for(arun).await, app.token_for(crawley_id).await);
    let log = "mutation($h: ID!, $p: ID) { logFeedback(input: { hub: $h, text: \"The chemist shuts at five\", channel: DROP_IN, saidOn: \"2026-11-02\", speaker: ANONYMOUS, consent: HUB, person: $p }) { id } }";
    let attribute = "mutation($id: ID!, $p: ID) { attributeFeedback(itemId: $id, person: $p) { person } }";
    let logged = app.graphql_as(&arun, log, json!({ "h": "arun" })).await;
    let arun_item = logged["data"]["logFeedback"]["id"].as_str().expect("logged").to_owned();
    let attributed = app.graphql_as(&arun, attribute, json!({ "id": arun_item })).await;
    let person = attributed["data"]["attributeFeedback"]["person"].as_str().expect("a new person").to_owned();

    // Crawley's coordinator has an item of their own, and has learnt the code.
    let logged = app.graphql_as(&crawley, log, json!({ "h": "crawley" })).await;
    let crawley_item = logged["data"]["logFeedback"]["id"].as_str().expect("logged").to_owned();
    let made_up = uuid::Uuid::new_v4().to_string();
    let refused = app.graphql_as(&crawley, attribute, json!({ "id": crawley_item, "p": person })).await;
    let unknown = app.graphql_as(&crawley, attribute, json!({ "id": crawley_item, "p": made_up })).await;
    assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{refused}");
    assert_eq!(refused["errors"][0]["extensions"]["field"], "person", "{refused}");
    assert_eq!(refused["errors"], unknown["errors"], "exactly the answer to a code Heard does not know");
    assert_eq!(refused["data"], Value::Null, "{refused}");
    // Nor by logging a new item as the person's.
    let items_before = app.feedback.read(|state| state.items.len());
    let refused = app.graphql_as(&crawley, log, json!({ "h": "crawley", "p": person })).await;
    let unknown = app.graphql_as(&crawley, log, json!({ "h": "crawley", "p": made_up })).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "input.person", "{refused}");
    assert_eq!(refused["errors"], unknown["errors"], "exactly the answer to a code Heard does not know");
    app.settled().await;
    assert_eq!(app.feedback.read(|state| state.items.len()), items_before, "no item was logged");
    assert_eq!(app.feedback.item(crawley_item.parse().unwrap()).unwrap().person, None, "their item is nobody's");

    // So the code gives them nothing: no erasure, and no subject access.
    assert!(app.services.privacy.caught_up().await);
    let erase = "mutation($p: ID!) { eraseSubject(person: $p) { records } }";
    let held = "query($p: ID!) { subjectAccess(person: $p) { person feedbackItems { id } } }";
    for query in [erase, held] {
        let answer = app.graphql_as(&crawley, query, json!({ "p": person })).await;
        assert_eq!(error_code(&answer), Some("NOT_FOUND"), "{answer}");
        assert_eq!(answer["data"], Value::Null, "{answer}");
    }
    // The attempt is on the access log, for administrators: who, the person's opaque id, refused.
    let access = app.store.read_category("access", 1, 10_000).await.unwrap();
    let attempts: Vec<Value> = access
        .iter()
        .map(|event| serde_json::from_slice::<Value>(&event.data).unwrap())
        .filter(|data| data["action"] == "attribute_to_person")
        .collect();
    assert_eq!(attempts.len(), 2, "both attempts: {attempts:?}");
    for attempt in &attempts {
        assert_eq!(attempt["actor"], crawley_id.to_string());
        assert_eq!((&attempt["resource_kind"], &attempt["resource_id"]), (&json!("person"), &json!(person)));
        assert_eq!(attempt["allowed"], false);
    }

    // The coordinator who holds the person's item still acts for them, over their item alone.
    let seen = app.graphql_as(&arun, held, json!({ "p": person })).await;
    assert_eq!(seen["data"]["subjectAccess"]["feedbackItems"], json!([{ "id": arun_item }]), "{seen}");
    let erased = app.graphql_as(&arun, erase, json!({ "p": person })).await;
    assert_eq!(erased["data"]["eraseSubject"]["records"], 1, "{erased}");
    assert!(app.feedback.item(arun_item.parse().unwrap()).unwrap().erased);
    assert!(!app.feedback.item(crawley_item.parse().unwrap()).unwrap().erased, "Crawley's item was never theirs");
}

#[tokio::test]
async fn an_advocate_who_learns_the_code_of_another_advocates_client_cannot_attach_their_own_case_to_them_nor_then_erase_or_see_them()
 {
    let app = spawn_app().await;
    let theirs = app.create_user("their.advocate@example.org", &[Role::Advocate], &[]).await;
    let nosy = app.create_user("nosy.advocate@example.org", &[Role::Advocate], &[]).await;
    let (their_token, nosy_token) = (app.token_for(theirs).await, app.token_for(nosy).await);
    let attribute = "mutation($id: ID!, $p: ID) { attributeCase(caseId: $id, person: $p) { person } }";
    let client_case = case_file(&app, theirs).await;
    let attributed = app.graphql_as(&their_token, attribute, json!({ "id": client_case })).await;
    let person = attributed["data"]["attributeCase"]["person"].as_str().expect("a new person").to_owned();

    let own_case = case_file(&app, nosy).await;
    let refused = app.graphql_as(&nosy_token, attribute, json!({ "id": own_case, "p": person })).await;
    let unknown =
        app.graphql_as(&nosy_token, attribute, json!({ "id": own_case, "p": uuid::Uuid::new_v4().to_string() })).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "person", "{refused}");
    assert_eq!(refused["errors"], unknown["errors"], "exactly the answer to a code Heard does not know");
    assert_eq!(app.advocacy.kept(own_case.parse().unwrap()).unwrap().person, None, "their case is nobody's");

    app.settled().await;
    assert!(app.services.privacy.caught_up().await);
    let erase = "mutation($p: ID!) { eraseSubject(person: $p) { records } }";
    let held = "query($p: ID!) { subjectAccess(person: $p) { person cases { id } } }";
    for query in [erase, held] {
        let answer = app.graphql_as(&nosy_token, query, json!({ "p": person })).await;
        assert_eq!(error_code(&answer), Some("NOT_FOUND"), "{answer}");
    }
    let seen = app.graphql_as(&their_token, held, json!({ "p": person })).await;
    assert_eq!(seen["data"]["subjectAccess"]["cases"], json!([{ "id": client_case }]), "{seen}");
}
