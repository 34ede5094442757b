//! "Not found" and "not yours" are the same answer, byte for byte, so nobody can learn that a
//! record exists by being refused it.

use heard_access::Role;
use heard_tests::{Session, spawn_app};
use serde_json::{Value, json};

/// The error part of an answer, which is all that differs between a record and no record.
fn errors(answer: &Value) -> String {
    serde_json::to_string(&answer["errors"]).unwrap()
}

async fn ask(session: &Session, query: &str, id: &str) -> Value {
    session.graphql(query, json!({ "id": id })).await
}

#[tokio::test]
async fn an_item_you_may_not_see_and_a_made_up_id_answer_exactly_the_same() {
    let app = spawn_app().await;
    app.create_user("member@example.org", &[Role::HubMember], &["arun"]).await;
    app.create_user("nosy@example.org", &[Role::HubMember], &["crawley"]).await;
    app.create_user("advocate@example.org", &[Role::Advocate], &[]).await;
    app.create_user("other@example.org", &[Role::Advocate], &[]).await;
    let member = app.login("member@example.org").await;
    let nosy = app.login("nosy@example.org").await;
    let real = member
        .log_feedback(json!({ "hub": "arun", "text": "The hub kept my words to itself", "channel": "DROP_IN",
                "saidOn": "2026-11-02", "speaker": "ANONYMOUS", "consent": "HUB" }))
        .await;
    let made_up = uuid::Uuid::new_v4().to_string();
    let query = "query($id: ID!) { feedbackItem(id: $id) { id text } }";
    let hidden = ask(&nosy, query, &real).await;
    let missing = ask(&nosy, query, &made_up).await;
    assert_eq!(hidden["errors"][0]["extensions"]["code"], "NOT_FOUND", "{hidden}");
    assert_eq!(errors(&hidden), errors(&missing), "a hidden item and a missing one answer alike");
    assert_eq!(hidden["data"], missing["data"]);

    let advocate = app.login("advocate@example.org").await;
    let other = app.login("other@example.org").await;
    let referred = advocate
        .graphql(
            "mutation($i: ReferCaseInput!) { referCase(input: $i) { id } }",
            json!({ "i": { "issue": "Needs help with a housing appeal", "kind": "INSTRUCTED",
                "referralSource": "SELF_REFERRAL", "domain": "HOUSING", "themes": ["housing-and-ghettoisation"] } }),
        )
        .await;
    if let Some(case) = referred["data"]["referCase"]["id"].as_str() {
        let query = "query($id: ID!) { case(id: $id) { id } }";
        let hidden = ask(&other, query, case).await;
        let missing = ask(&other, query, &made_up).await;
        assert_eq!(hidden["errors"][0]["extensions"]["code"], "NOT_FOUND", "{hidden}");
        assert_eq!(errors(&hidden), errors(&missing), "a hidden case and a missing one answer alike");
    } else {
        panic!("the case was not referred: {referred}");
    }
}
