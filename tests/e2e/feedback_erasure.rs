//! Erasure reaches feedback at once, through a real server: a coordinator attributes two items
//! to one person, the person withdraws consent for both within six months of speaking (a real
//! path that erases), and within a second no search finds them, no file of the search index
//! holds their words, and the commissioner's decision and report still stand without them. A
//! withdrawal cut short between its consent change and its erasure (Heard stopped in between)
//! is erased when Heard starts again, before it answers.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use heard_contracts::Event as _;
use heard_eventstore::{ExpectedRevision, NewEvent, StreamName};
use heard_tests::{Session, error_code, spawn_app, spawn_app_in};
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

/// Whether the words `item` was logged with still open: its key was not destroyed.
async fn words_open(app: &heard_tests::TestApp, item: &str) -> bool {
    let stream = StreamName::of("feedback", item).unwrap();
    let events = app.store.read_stream_to_end(&stream).await.unwrap();
    matches!(events[0].personal, heard_eventstore::Personal::Plain(_))
}

#[tokio::test]
async fn a_withdrawal_cut_short_before_its_erasure_is_erased_when_heard_starts_again_and_a_disclosure_is_only_hidden() {
    let app = spawn_app().await;
    let [(coordinator_id, coordinator)] = app.people(["coordinator"]).await;
    let today = heard_api::today().to_string();
    let log = |text: &str, name: &str| {
        let input = json!({ "hub": "arun", "text": text, "channel": "DROP_IN", "saidOn": today, "speaker": "NAMED",
            "speakerName": name, "consent": "HUB" });
        coordinator.log_feedback(input)
    };
    let item = log("Wendeline Strachan said the larkspur clinic kept her waiting", "Wendeline Strachan").await;
    let disclosed = log("Ambrose Tilney told us of a risk at the fernleigh hostel", "Ambrose Tilney").await;
    coordinator.flag_safeguarding(&disclosed, &coordinator_id.to_string()).await;
    app.settled().await;
    let words = ["larkspur", "Strachan", "Wendeline", "Wendeline Strachan"];
    for word in words {
        assert!(!files_holding(app.data_dir.path(), word).is_empty(), "{word:?} is in the index before");
    }
    let terms = app.feedback.search_index().terms_held("Wendeline Strachan larkspur").unwrap();
    assert_eq!(terms, ["wendeline", "strachan", "larkspur"], "the index's terms before");

    // Both speakers withdraw today, within six months: each consent change is appended as
    // `changeConsent` appends it, and Heard stops before the erasure that should follow.
    for id in [&item, &disclosed] {
        type Changed = heard_contracts::feedback::ConsentChanged;
        let changed = Changed { consent: None, by: coordinator_id };
        let event = NewEvent::new(Changed::TYPE, Changed::VERSION, &changed)
            .unwrap()
            .with_metadata(json!({ "actor": coordinator_id }));
        let stream = StreamName::of(Changed::CATEGORY, id).unwrap();
        app.store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
    }
    app.settled().await;
    let hidden = app.feedback.item(item.parse().unwrap()).unwrap();
    assert!(hidden.consent.is_none() && !hidden.erased && hidden.text.is_some(), "hidden, not erased: {hidden:?}");
    assert!(words_open(&app, &item).await, "its words are still held, under a live key");
    let dir = app.shutdown().await;

    // Started again: by the time it answers, the item is erased and no file holds its words.
    let started = Instant::now();
    let app = spawn_app_in(dir, |_| {}).await;
    eprintln!("Heard started again and finished the withdrawal in {:?}", started.elapsed());
    let erased = app.feedback.item(item.parse().unwrap()).unwrap();
    assert!(erased.erased && erased.text.is_none(), "{erased:?}");
    assert!(!words_open(&app, &item).await, "the key its words were sealed under is destroyed");
    for word in words {
        let holding = files_holding(app.data_dir.path(), word);
        assert!(holding.is_empty(), "{word:?} is still in {holding:?}");
    }
    let terms = app.feedback.search_index().terms_held("Wendeline Strachan larkspur").unwrap();
    assert!(terms.is_empty(), "the index's term dictionaries still hold {terms:?}");
    let erasures = app.store.read_category("erasure", 0, 10).await.unwrap();
    assert_eq!(erasures.len(), 1, "one erasure");
    let erasure = erasures[0].data_json().unwrap();
    assert_eq!(erasure["records"], json!([{ "kind": "feedback_item", "id": item }]), "{erasure}");
    assert_eq!(erasure["reason"], "withdrew_within_six_months");
    assert_eq!(erasure["asked_by"], coordinator_id.to_string(), "asked by whoever recorded the withdrawal");
    let coordinator = app.login("coordinator@example.org").await;
    let answer = coordinator.graphql("query($id: ID!) { feedbackItem(id: $id) { text } }", json!({ "id": item })).await;
    assert_eq!(error_code(&answer), Some("NOT_FOUND"), "{answer}");

    // A disclosure of risk is never lost to a withdrawal: it is hidden, its words kept, and the
    // coordinator it is with still has it.
    let kept = app.feedback.item(disclosed.parse().unwrap()).unwrap();
    assert!(!kept.erased && kept.text.is_some() && kept.consent.is_none(), "{kept:?}");
    assert!(words_open(&app, &disclosed).await, "its key is not destroyed");
    let disclosure = coordinator
        .graphql("query($id: ID!) { safeguardingDisclosure(id: $id) { id open } }", json!({ "id": disclosed }))
        .await;
    assert_eq!(ok(&disclosure, "safeguardingDisclosure")["open"], true, "{disclosure}");
    app.shutdown().await;
}
