//! The service over a real store in a temporary directory.

use heard_api::ApiError;
use heard_eventstore::{EventStore, ExpectedRevision, NewEvent, StreamName, Upcasters};
use heard_workdays::Period;
use serde_json::json;
use tempfile::TempDir;
use uuid::Uuid;

use heard_contracts::feedback::{ThemeAdded, ThemeMerged, ThemeRenamed};
use heard_contracts::identity::{AccountCreated, ProviderAdded};
use heard_contracts::rights::CharterPublished;

use super::*;

/// A place of its own to keep the model, as a fresh data directory would have.
fn models(_: &EventStore) -> heard_eventstore::ModelStore {
    let dir = tempfile::tempdir().unwrap().keep();
    heard_eventstore::ModelStore::open(&dir.join("models")).unwrap()
}

struct World {
    dir: TempDir,
    store: EventStore,
    service: AdvocacyService,
    advocate: Uuid,
    colleague: Uuid,
}

/// Appends another service's event, as it would have, named by its contract.
async fn put<E: heard_contracts::Event>(store: &EventStore, id: impl std::fmt::Display, data: serde_json::Value) {
    let stream = StreamName::of(E::CATEGORY, id).unwrap();
    let event = NewEvent::new(E::TYPE, E::VERSION, &data).unwrap();
    store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
}

/// A store with two advocates, a commissioner, two providers, three themes (one merged) and
/// the EXACT charter, as the other services would have written them.
async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let advocate = Uuid::new_v4();
    let colleague = Uuid::new_v4();
    let commissioner = Uuid::new_v4();
    for (account, role) in [(advocate, "advocate"), (colleague, "advocate"), (commissioner, "commissioner")] {
        let data = json!({ "account": account, "roles": [role], "hubs": [], "provider": null,
            "must_change_password": false, "created_by": null });
        put::<AccountCreated>(&store, account, data).await;
    }
    for (id, name) in [("addaction", "Addaction"), ("cri", "CRI")] {
        put::<ProviderAdded>(&store, id, json!({ "provider": id, "name": name })).await;
    }
    for (id, name) in [("housing", "Housing"), ("keyworker-time", "Keyworker time"), ("opening-hours", "Opening hours")]
    {
        put::<ThemeAdded>(&store, id, json!({ "theme": id, "name": name, "parent": null })).await;
    }
    put::<ThemeMerged>(&store, "opening-hours", json!({ "into": "keyworker-time" })).await;
    put::<ThemeRenamed>(&store, "housing", json!({ "name": "Housing and ghettoisation" })).await;
    let articles: Vec<_> =
        (1..=11).map(|number| json!({ "number": number, "label": format!("Right {number}") })).collect();
    put::<CharterPublished>(
        &store,
        "exact",
        json!({ "charter": "exact", "name": "EXACT Bill of Rights", "version": 1, "articles": articles }),
    )
    .await;
    let service = AdvocacyService::open(store.clone(), &models(&store)).await.unwrap();
    World { dir, store, service, advocate, colleague }
}

fn referral(issue: &str) -> Referral {
    Referral {
        pseudonym: None,
        client_name: Some("Sam Example".into()),
        client_contact: Some("07700 900123".into()),
        issue: issue.into(),
        kind: AdvocacyKind::Instructed,
        source: ReferralSource::SelfReferral,
        domain: CaseDomain::PrescribingReview,
        themes: vec!["keyworker-time".into()],
        provider: Some("addaction".into()),
        articles: vec![3, 5],
        linked_to: None,
        advocate: None,
        referred_on: None,
    }
}

/// Closing a case on `on`, with the client's own view of the outcome.
fn closing(outcome: CaseOutcome, reason: ClosureReason, client_view: &str, on: Date) -> Closure {
    Closure { outcome, reason, client_view: Some(client_view.into()), on }
}

/// A further issue for the client of case `to`.
fn linked(to: Uuid, issue: &str) -> Referral {
    Referral { linked_to: Some(to), domain: CaseDomain::Housing, ..referral(issue) }
}

fn field(error: ApiError) -> String {
    match error {
        ApiError::BadUserInput { field, .. } => field,
        other => panic!("expected BAD_USER_INPUT, got {other:?}"),
    }
}

#[tokio::test]
async fn a_case_referred_accepted_worked_consented_closed_and_reopened_is_the_same_after_a_restart() {
    let World { dir, store, service, advocate, .. } = world().await;
    let today = heard_api::today();
    let case = service.refer(advocate, referral("My dose was cut without a review")).await.unwrap();
    assert_eq!((case.state, case.advocate, case.revision), (CaseState::Referred, advocate, 0));
    let id = case.id;
    service.accept(id, advocate, today).await.unwrap();
    let case = service.record_action(id, advocate, today, ActionKind::Letter, "Wrote to the prescriber").await.unwrap();
    assert_eq!(case.state, CaseState::Active);
    service.record_consent(id, advocate, today, Some(ShareScope::NamedServices)).await.unwrap();
    let closure = closing(CaseOutcome::Achieved, ClosureReason::IssueResolved, "Reviewed properly this time", today);
    service.close(id, advocate, closure).await.unwrap();
    let before = service.reopen(id, advocate, today, "The review was not followed").await.unwrap();
    assert_eq!((before.state, before.revision, before.closures.len()), (CaseState::Active, 5, 1));

    store.close().await.unwrap();
    service.stopped().await;
    drop((service, store));
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let service = AdvocacyService::open(store.clone(), &models(&store)).await.unwrap();
    let after = service.case(id).unwrap();
    assert_eq!(after, before);
    assert_eq!(after.personal.as_ref().unwrap().issue, "My dose was cut without a review");
    assert_eq!(after.actions[0].1.as_ref().unwrap().text, "Wrote to the prescriber");
    assert_eq!(after.consent_in_force(), Some(ShareScope::NamedServices));
    assert_eq!(service.read(|state| state.order.clone()), vec![id]);
}

#[tokio::test]
async fn erasing_a_client_erases_the_personal_parts_of_all_their_linked_cases_and_keeps_the_rest() {
    let World { store, service, advocate, .. } = world().await;
    let today = heard_api::today();
    let first = service.refer(advocate, referral("Eviction notice from the hostel")).await.unwrap();
    let second = service.refer(advocate, linked(first.id, "Benefit sanction")).await.unwrap();
    assert_eq!((second.client, second.linked_to), (first.client, Some(first.id)));
    for id in [first.id, second.id] {
        service.accept(id, advocate, today).await.unwrap();
        service.record_action(id, advocate, today, ActionKind::Call, "Called the housing officer").await.unwrap();
    }
    let other = service.refer(advocate, referral("Someone else's issue")).await.unwrap();
    let subject = service.read(|state| state.subject(first.client)).unwrap();
    assert_ne!(Some(subject), service.read(|state| state.subject(other.client)));

    assert!(store.forget_subject(subject).unwrap());
    let restarted = AdvocacyService::open(store.clone(), &models(&store)).await.unwrap();
    for id in [first.id, second.id] {
        let case = restarted.case(id).unwrap();
        assert_eq!(case.personal, None);
        assert_eq!(case.actions.len(), 1);
        assert_eq!(case.actions[0].1, None);
        assert_eq!(case.actions[0].0.kind, ActionKind::Call);
        assert_eq!((case.state, case.client, case.advocate), (CaseState::Active, first.client, advocate));
        assert!(case.themes.contains("keyworker-time"));
    }
    assert_eq!(restarted.case(other.id).unwrap().personal.unwrap().issue, "Someone else's issue");
    let linked: Vec<Uuid> =
        restarted.read(|state| state.linked_cases(&state.cases[&first.id]).iter().map(|c| c.id).collect());
    assert_eq!(linked, vec![second.id]);
}

#[tokio::test]
async fn of_two_accepts_of_the_same_case_at_once_exactly_one_wins_and_the_other_is_a_conflict() {
    let World { service, advocate, .. } = world().await;
    let today = heard_api::today();
    let case = service.refer(advocate, referral("Waiting list of six months")).await.unwrap();
    let (one, two) = tokio::join!(service.accept(case.id, advocate, today), service.accept(case.id, advocate, today));
    let results = [one, two];
    assert_eq!(results.iter().filter(|result| result.is_ok()).count(), 1);
    let error = results.into_iter().find_map(Result::err).unwrap();
    assert!(matches!(error, ApiError::Conflict(_)), "{error:?}");
    let case = service.case(case.id).unwrap();
    assert_eq!((case.state, case.revision), (CaseState::Accepted, 1));
}

#[tokio::test]
async fn systemic_themes_count_cases_by_theme_and_provider_leaving_out_declined_ones() {
    let World { service, advocate, .. } = world().await;
    let today = heard_api::today();
    for _ in 0..3 {
        service.refer(advocate, referral("Keyworker keeps changing")).await.unwrap();
    }
    let housing = Referral {
        themes: vec!["housing".into(), "opening-hours".into()],
        provider: Some("cri".into()),
        ..referral("Hostel closes during the day")
    };
    service.refer(advocate, housing).await.unwrap();
    let declined = service.refer(advocate, referral("Not for advocacy")).await.unwrap();
    service.decline(declined.id, advocate, today, "Already has an advocate").await.unwrap();
    service.refer(advocate, Referral { themes: vec![], provider: None, ..referral("No theme") }).await.unwrap();

    let counts = service.systemic_themes(&[Dimension::Theme, Dimension::Provider], Period::Month, None, None);
    let key = |theme: &str, provider: &str| vec![theme.to_owned(), provider.to_owned()];
    assert_eq!(counts.get(&key("keyworker-time", "addaction")), Some(&3));
    assert_eq!(counts.get(&key("housing", "cri")), Some(&1));
    assert_eq!(counts.get(&key("opening-hours", "cri")), Some(&1));
    assert_eq!(counts.get(&key("none", "none")), Some(&1));
    assert_eq!(counts.values().sum::<u64>(), 6);
    let total = service.systemic_themes(&[], Period::Month, None, None);
    assert_eq!(total.get(&Vec::new()), Some(&5));
    let later = service.systemic_themes(&[Dimension::Domain], Period::Month, today.tomorrow().ok(), None);
    assert!(later.is_empty());
}

#[tokio::test]
async fn a_referral_is_checked_against_the_reference_data_and_names_the_field_as_the_client_spells_it() {
    let World { service, advocate, colleague, .. } = world().await;
    let unknown_theme = Referral { themes: vec!["keyworker-time".into(), "nope".into()], ..referral("x") };
    assert_eq!(field(service.refer(advocate, unknown_theme).await.unwrap_err()), "themes[1]");
    let unknown_provider = Referral { provider: Some("nope".into()), ..referral("x") };
    assert_eq!(field(service.refer(advocate, unknown_provider).await.unwrap_err()), "provider");
    let unknown_article = Referral { articles: vec![12], ..referral("x") };
    assert_eq!(field(service.refer(advocate, unknown_article).await.unwrap_err()), "articles[0]");
    let long_name = Referral { client_name: Some("n".repeat(201)), ..referral("x") };
    assert_eq!(field(service.refer(advocate, long_name).await.unwrap_err()), "clientName");
    let not_an_advocate = Referral { advocate: Some(Uuid::new_v4()), ..referral("x") };
    assert_eq!(field(service.refer(advocate, not_an_advocate).await.unwrap_err()), "advocateId");
    let unknown_link = Referral { linked_to: Some(Uuid::new_v4()), ..referral("x") };
    assert!(matches!(service.refer(advocate, unknown_link).await.unwrap_err(), ApiError::NotFound));
    assert_eq!(service.read(|state| state.cases.len()), 0);

    let merged_theme = Referral { themes: vec!["opening-hours".into()], advocate: Some(colleague), ..referral("x") };
    let case = service.refer(advocate, merged_theme).await.unwrap();
    assert_eq!((case.advocate, case.referred_by), (colleague, advocate));
    assert_eq!(service.read(|state| state.reference.themes["housing"].name.clone()), "Housing and ghettoisation");
}

#[tokio::test]
async fn a_case_handed_to_another_advocate_is_theirs_and_state_errors_are_conflicts() {
    let World { service, advocate, colleague, .. } = world().await;
    let today = heard_api::today();
    let case = service.refer(advocate, referral("Probation appointment clashes with dosing")).await.unwrap();
    let error = service.record_action(case.id, advocate, today, ActionKind::Note, "too early").await.unwrap_err();
    assert!(matches!(error, ApiError::Conflict(_)), "{error:?}");
    assert_eq!(field(service.assign(case.id, advocate, Uuid::new_v4()).await.unwrap_err()), "advocateId");
    let assigned = service.assign(case.id, advocate, colleague).await.unwrap();
    assert_eq!((assigned.advocate, assigned.assignments.len()), (colleague, 1));
    let tomorrow = today.tomorrow().unwrap();
    assert_eq!(field(service.accept(case.id, colleague, tomorrow).await.unwrap_err()), "on");
    assert!(matches!(service.accept(Uuid::new_v4(), colleague, today).await.unwrap_err(), ApiError::NotFound));
}

#[tokio::test]
async fn without_the_exact_charter_any_published_charters_articles_may_be_cited() {
    let dir = tempfile::tempdir().unwrap();
    let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
    let articles = |numbers: std::ops::RangeInclusive<u32>| -> Vec<_> {
        numbers.map(|number| json!({ "number": number, "label": format!("Right {number}") })).collect()
    };
    let charter = |charter: &str, version: u32, articles: Vec<serde_json::Value>| json!({ "charter": charter, "name": "A charter", "version": version, "articles": articles });
    put::<CharterPublished>(&store, "scotland", charter("scotland", 2, articles(1..=4))).await;
    put::<CharterPublished>(&store, "scotland", charter("scotland", 1, articles(1..=9))).await;
    put::<CharterPublished>(&store, "other", charter("other", 1, articles(6..=6))).await;
    let service = AdvocacyService::open(store.clone(), &models(&store)).await.unwrap();
    assert_eq!(service.read(|state| state.articles().into_keys().collect::<Vec<_>>()), vec![1, 2, 3, 4, 6]);
    put::<CharterPublished>(&store, "exact", charter("exact", 1, articles(1..=2))).await;
    let service = AdvocacyService::open(store.clone(), &models(&store)).await.unwrap();
    assert_eq!(service.read(|state| state.known().articles.into_iter().collect::<Vec<_>>()), vec![1, 2]);
}

#[test]
fn the_subgraph_has_the_queries_and_mutations_the_issue_names() {
    let sdl = crate::graphql::subgraph_sdl();
    for name in [
        "case(id: ID!): Case!",
        "cases(state: CaseState, domain: CaseDomain",
        "advocacyThemes(by: [AdvocacyDimension!]!, period: ReportPeriod! = MONTH, from: String, to: String)",
        "referCase(input: ReferCaseInput!): Case!",
        "recordConsent(id: ID!, scope: ShareScope, on: String): Case!",
        "assignCase(id: ID!, advocateId: ID!): CaseAssignment!",
        "enum CaseActionKind",
    ] {
        assert!(sdl.contains(name), "{name} is missing from the SDL");
    }
}

/// Kept models: what the model saves answers as the log does, and holds no client's words.
mod kept {
    use std::path::PathBuf;

    use heard_eventstore::ModelStore;

    use super::*;

    /// The answers of a few queries, as JSON: every case with its words, the roll-ups, the
    /// order, the links and the reference data a referral is checked against.
    fn answers(service: &AdvocacyService, ids: &[Uuid]) -> String {
        let cases: Vec<Case> = ids.iter().map(|id| service.case(*id).expect("the case is known")).collect();
        let groupings = [
            vec![Dimension::Theme, Dimension::Provider],
            vec![Dimension::Domain, Dimension::Period],
            vec![Dimension::Article],
            vec![],
        ];
        let themes: Vec<Vec<(Vec<String>, u64)>> = groupings
            .iter()
            .map(|by| service.systemic_themes(by, Period::Quarter, None, None).into_iter().collect())
            .collect();
        let (order, linked, articles, known) = service.read(|state| {
            let linked: Vec<Vec<Uuid>> = ids
                .iter()
                .map(|id| state.linked_cases(&state.cases[id]).iter().map(|case| case.id).collect())
                .collect();
            let known = state.known();
            let known = (known.themes, known.providers, known.articles, known.advocates);
            (state.order.clone(), linked, state.articles(), known)
        });
        serde_json::to_string(&json!({
            "cases": cases,
            "themes": themes,
            "order": order,
            "linked": linked,
            "articles": articles,
            "known": known,
        }))
        .unwrap()
    }

    /// Cases in every state, with every kind of words: linked, declined, worked, closed with
    /// the client's view and reopened.
    async fn casework(service: &AdvocacyService, advocate: Uuid, colleague: Uuid) -> Vec<Uuid> {
        let today = heard_api::today();
        let first = service.refer(advocate, referral("Quentin Marchbanks was moved off his script")).await.unwrap();
        let linked = service.refer(advocate, linked(first.id, "Hostel eviction")).await.unwrap();
        let declined = service.refer(advocate, referral("Wants a solicitor, not an advocate")).await.unwrap();
        service.decline(declined.id, advocate, today, "Zebedee Fothergill already has one").await.unwrap();
        let handed = service
            .refer(advocate, Referral { articles: vec![], themes: vec!["housing".into()], ..referral("Waiting list") })
            .await
            .unwrap();
        service.assign(handed.id, advocate, colleague).await.unwrap();
        for id in [first.id, linked.id] {
            service.accept(id, advocate, today).await.unwrap();
            service
                .record_action(id, advocate, today, ActionKind::Letter, "Wrote to Dr Philippa Snodgrass")
                .await
                .unwrap();
        }
        service.record_consent(first.id, advocate, today, Some(ShareScope::AllServicesInvolved)).await.unwrap();
        let closure = closing(
            CaseOutcome::PartlyAchieved,
            ClosureReason::IssueResolved,
            "Better than nothing, says Quentin",
            today,
        );
        service.close(first.id, advocate, closure).await.unwrap();
        service.reopen(first.id, advocate, today, "The script was cut again by Dr Snodgrass").await.unwrap();
        vec![first.id, linked.id, declined.id, handed.id]
    }

    /// Closes the log and waits for every service following it to stop (the kept model saves).
    async fn close(store: EventStore, services: &[&AdvocacyService]) {
        store.close().await.unwrap();
        for service in services {
            service.stopped().await;
        }
    }

    fn saved_at(models: &ModelStore) -> Option<u64> {
        models.saved().unwrap().into_iter().find(|(name, _)| name == "advocacy").map(|(_, at)| at)
    }

    #[tokio::test]
    async fn a_model_loaded_from_what_it_saved_answers_exactly_as_one_rebuilt_from_the_log() {
        let World { dir, store, service, advocate, colleague } = world().await;
        let models = ModelStore::open(&dir.path().join("models")).unwrap();
        let kept = AdvocacyService::open(store.clone(), &models).await.unwrap();
        let ids = casework(&service, advocate, colleague).await;
        assert!(kept.caught_up().await);
        let live = answers(&kept, &ids);
        assert_eq!(live, answers(&service, &ids), "the kept model follows the log as a fresh one does");
        let head = store.head().position;
        close(store, &[&service, &kept]).await;
        drop((service, kept));
        assert_eq!(saved_at(&models), Some(head), "saved when the log closed");

        let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
        let loaded = AdvocacyService::open(store.clone(), &models).await.unwrap();
        assert_eq!(answers(&loaded, &ids), live, "loaded from what it saved");
        let rebuilt = AdvocacyService::open(store.clone(), &super::models(&store)).await.unwrap();
        assert_eq!(answers(&rebuilt, &ids), live, "rebuilt from the log after a restart");
        close(store, &[&loaded, &rebuilt]).await;
        drop((loaded, rebuilt));

        models.forget("advocacy").unwrap();
        assert_eq!(saved_at(&models), None);
        let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
        let rebuilt = AdvocacyService::open(store.clone(), &models).await.unwrap();
        assert_eq!(answers(&rebuilt, &ids), live, "rebuilt from the log once the saved model was forgotten");
        close(store, &[&rebuilt]).await;
        assert_eq!(saved_at(&models), Some(head), "saved again");
    }

    #[tokio::test]
    async fn destroying_a_clients_key_makes_their_words_unreadable_at_once_and_after_a_restart() {
        // The world's own service follows the log too: it is stopped with the store below, so
        // that nothing holds the log when it is opened again.
        let World { dir, store, service: world_service, advocate, colleague } = world().await;
        let models = ModelStore::open(&dir.path().join("models")).unwrap();
        let service = AdvocacyService::open(store.clone(), &models).await.unwrap();
        let ids = casework(&service, advocate, colleague).await;
        let (first, linked, declined) = (ids[0], ids[1], ids[2]);
        let client = service.case(first).unwrap().client;
        let subject = service.read(|state| state.subject(client)).unwrap();
        assert!(store.forget_subject(subject).unwrap());

        let erased = |service: &AdvocacyService| {
            for id in [first, linked] {
                let case = service.case(id).unwrap();
                assert_eq!(case.personal, None, "the referral's words are gone");
                assert!(case.actions.iter().all(|(_, words)| words.is_none()), "the notes are gone");
                assert!(case.closures.iter().all(|(_, words)| words.is_none()));
                assert!(case.reopenings.iter().all(|(_, words)| words.is_none()));
                assert_eq!((case.client, case.actions.len()), (client, 1), "the facts stay");
            }
            let first = service.case(first).unwrap();
            assert_eq!((first.state, first.closures.len(), first.reopenings.len()), (CaseState::Active, 1, 1));
            let other = service.case(declined).unwrap();
            assert_eq!(other.personal.unwrap().issue, "Wants a solicitor, not an advocate", "nobody else is erased");
            assert_eq!(other.declined.unwrap().1.unwrap().reason, "Zebedee Fothergill already has one");
        };
        erased(&service);
        let today = heard_api::today();
        let refused = service.record_action(linked, advocate, today, ActionKind::Note, "More").await.unwrap_err();
        assert!(
            matches!(&refused, ApiError::BadUserInput { field, message } if field == "text" && message.contains("erased")),
            "{refused:?}"
        );
        let relinked = service.refer(advocate, Referral { linked_to: Some(first), ..referral("Again") }).await;
        assert_eq!(field(relinked.unwrap_err()), "linkedTo");
        service.accept(ids[3], colleague, today).await.expect("nothing personal in an acceptance");

        let head = store.head().position;
        close(store, &[&service, &world_service]).await;
        drop((service, world_service));
        assert_eq!(saved_at(&models), Some(head));
        let store = EventStore::open(dir.path(), Upcasters::new()).unwrap();
        let loaded = AdvocacyService::open(store.clone(), &models).await.unwrap();
        erased(&loaded);
        store.close().await.unwrap();
    }

    #[tokio::test]
    async fn after_close_no_file_under_the_model_store_holds_a_clients_words() {
        let World { dir, store, service: world_service, advocate, colleague } = world().await;
        let models_dir = dir.path().join("models");
        let models = ModelStore::open(&models_dir).unwrap();
        let service = AdvocacyService::open(store.clone(), &models).await.unwrap();
        let ids = casework(&service, advocate, colleague).await;
        assert_eq!(service.case(ids[0]).unwrap().personal.unwrap().name.as_deref(), Some("Sam Example"));
        close(store, &[&service, &world_service]).await;
        drop((service, world_service, models));
        let words = [
            "Sam Example",
            "07700 900123",
            "Quentin",
            "Hostel eviction",
            "Zebedee",
            "Philippa",
            "Snodgrass",
            "Better than nothing",
        ];
        let holds = |bytes: &[u8], word: &str| bytes.windows(word.len()).any(|window| window == word.as_bytes());
        let files: Vec<(PathBuf, Vec<u8>)> = heard_contracts::testing::files_under(&models_dir)
            .into_iter()
            .map(|file| (file.clone(), std::fs::read(file).unwrap()))
            .collect();
        // The search can see what is saved: the facts and the reference data are there in the clear.
        assert!(files.iter().any(|(_, bytes)| holds(bytes, "Housing and ghettoisation")), "nothing was saved");
        for (file, bytes) in &files {
            for word in words {
                assert!(!holds(bytes, word), "{word:?} in {file:?}");
            }
        }
    }
}

/// A person across services (issue #18): attribution, erasure, subject access and retention.
#[path = "person_tests.rs"]
mod person;
