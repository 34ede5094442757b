//! Erasure reaches feedback at once, through a real server: a coordinator attributes two items
//! to one person, the person withdraws consent for both within six months of speaking (a real
//! path that erases), and within a second no search finds them, no file of the search index
//! holds their words, and the commissioner's decision and report still stand without them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use heard_tests::{Session, error_code, spawn_app};
use serde_json::{Value, json};

const NAME: &str = "Quartermaine";
const PHRASE: &str = "orchard lane shelter";

fn ok<'a>(answer: &'a Value, field: &str) -> &'a Value {
    assert!(answer["errors"].is_null(), "{field}: {answer}");
    &answer["data"][field]
}

/// The files under `dir` whose raw bytes hold `word` (lower case, as indexed, or as written).
fn files_holding(dir: &Path, word: &str) -> Vec<PathBuf> {
    let mut found = heard_contracts::testing::files_holding(dir, word.to_lowercase().as_bytes());
    found.extend(heard_contracts::testing::files_holding(dir, word.as_bytes()));
    found.sort();
    found.dedup();
    found
}

async fn search_total(session: &Session, query: &str) -> Value {
    let answer = session
        .graphql(
            "query($q: String!) { searchFeedback(query: $q, first: 20) { total edges { node { item { id } } } } }",
            json!({ "q": query }),
        )
        .await;
    ok(&answer, "searchFeedback")["total"].clone()
}

#[tokio::test]
async fn a_withdrawal_within_six_months_erases_a_persons_items_from_search_and_the_index_files_within_a_second() {
    let app = spawn_app().await;
    let [(_, coordinator), (_, member), (_, commissioner)] =
        app.people(["coordinator", "member", "commissioner"]).await;
    let today = heard_api::today().to_string();
    let log = |text: String, person: Option<String>| {
        let mut input = json!({
            "hub": "arun", "text": text, "channel": "DROP_IN", "saidOn": today, "speaker": "PSEUDONYMOUS",
            "speakerName": "Jay", "consent": "COMMISSIONERS", "provider": "community-pharmacies"
        });
        if let Some(person) = person {
            input["person"] = json!(person);
        }
        input
    };
    let first = coordinator.log_feedback(log(format!("{NAME} at the chemist made me queue in the rain"), None)).await;
    let attributed = coordinator
        .graphql("mutation($id: ID!) { attributeFeedback(itemId: $id) { person } }", json!({ "id": first }))
        .await;
    let person = ok(&attributed, "attributeFeedback")["person"].as_str().expect("a person").to_owned();
    let second = coordinator
        .log_feedback(log(format!("They sent me to the {PHRASE} and {NAME} was there"), Some(person.clone())))
        .await;
    let kept = coordinator.log_feedback(log("The chemist opens late on Sundays".into(), None)).await;
    for id in [&first, &second, &kept] {
        let shared =
            coordinator.graphql("mutation($id: ID!) { shareFeedback(id: $id) { id } }", json!({ "id": id })).await;
        ok(&shared, "shareFeedback");
    }

    // The commissioner takes the first item as evidence for a decision.
    let proposed = commissioner
        .graphql(
            &format!(
                "mutation {{ proposeDecision(input: {{ title: \"Later opening\", serviceArea: \"Treatment\", decidedBy: \"DAAT board\", decisionDate: \"{today}\", ladderRung: 4, involvement: \"Asked at the forum\" }}) {{ id }} }}"
            ),
            json!({}),
        )
        .await;
    let decision = ok(&proposed, "proposeDecision")["id"].as_str().unwrap().to_owned();
    let linked = commissioner
        .graphql(
            "mutation($d: ID!, $i: ID!) { linkEvidence(id: $d, input: { kind: FEEDBACK_ITEM, itemId: $i, rationale: \"Said at the drop-in\" }) { evidence { content } } }",
            json!({ "d": decision, "i": first }),
        )
        .await;
    assert!(ok(&linked, "linkEvidence").to_string().contains(NAME), "the evidence shows the words before: {linked}");
    app.settled().await;
    let index = app.data_dir.path().join("search");
    assert!(!files_holding(&index, NAME).is_empty(), "the index holds the words before: the check can fail");
    assert_eq!(search_total(&member, NAME).await, json!(2));

    // The speaker withdraws, today: within six months, so both items are erased.
    for id in [&first, &second] {
        let withdrawn = coordinator
            .graphql(
                "mutation($id: ID!) { changeConsent(id: $id, consent: WITHDRAWN) { id erased text speakerName consent } }",
                json!({ "id": id }),
            )
            .await;
        let item = ok(&withdrawn, "changeConsent");
        assert_eq!(item["erased"], json!(true), "{withdrawn}");
        assert!(item["text"].is_null() && item["speakerName"].is_null(), "{withdrawn}");
    }
    let erased_at = Instant::now();
    loop {
        let holding = [files_holding(&index, NAME), files_holding(&index, "orchard")].concat();
        if holding.is_empty() {
            break;
        }
        assert!(erased_at.elapsed() < Duration::from_secs(1), "still in {holding:?} a second after the erasure");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    for (who, session) in [("coordinator", &coordinator), ("member", &member), ("commissioner", &commissioner)] {
        for query in [NAME, "quartermane", &format!("\"{PHRASE}\""), &format!("text_hub:{NAME}"), "rain"] {
            assert_eq!(search_total(session, query).await, json!(0), "{who} searching {query:?}");
        }
        let everything = session
            .graphql("{ searchFeedback(query: \"\", first: 20) { edges { node { item { id } } } } }", json!({}))
            .await;
        let ids: Vec<&str> = ok(&everything, "searchFeedback")["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|edge| edge["node"]["item"]["id"].as_str())
            .collect();
        assert_eq!(ids, [kept.as_str()], "{who}");
        let item = session.graphql("query($id: ID!) { feedbackItem(id: $id) { id } }", json!({ "id": first })).await;
        assert_eq!(error_code(&item), Some("NOT_FOUND"), "{who}: {item}");
    }

    // The decision and the report still answer, with the facts and without the words.
    app.settled().await;
    let seen = commissioner
        .graphql(
            "query($d: ID!) { decision(id: $d) { evidence { kind target content } } youSaidWeDid { sharedItems representativeItems { id text } } }",
            json!({ "d": decision }),
        )
        .await;
    assert!(seen["errors"].is_null(), "{seen}");
    assert_eq!(seen["data"]["decision"]["evidence"][0]["target"], json!(first), "the link stands: {seen}");
    assert!(!seen.to_string().contains(NAME) && !seen.to_string().contains("orchard"), "{seen}");
    let ids = seen["data"]["youSaidWeDid"]["representativeItems"].to_string();
    assert!(!ids.contains(&first) && !ids.contains(&second), "{seen}");
}
