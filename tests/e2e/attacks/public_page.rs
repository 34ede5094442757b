//! The public pages (the home page and every hub's "you said, we did", with their CSVs), read
//! as a curious member of the public would: no words appear unless the person who said them
//! agreed to make them public, and no figure shown anywhere can be subtracted from another
//! shown figure to give away one that is hidden (a count of 1 to 4).

use std::collections::BTreeMap;

use heard_access::{Consent, Role};
use heard_tests::{TestApp, spawn_app};
use serde_json::json;

/// Logs an item for `hub` about `theme` and shares it (unless kept to the hub).
async fn said(app: &TestApp, hub: &str, theme: &str, text: &str, consent: Consent) -> String {
    let new = heard_feedback::domain::NewItem {
        hub: hub.into(),
        channel: Some(heard_feedback::domain::Channel::Forum),
        speaker: Some(heard_feedback::domain::SpeakerKind::Anonymous),
        consent: Some(consent),
        said_on: "2026-11-02".into(),
        text: text.into(),
        themes: [theme.to_owned()].into(),
        ..Default::default()
    };
    let logged = app.feedback.log(uuid::Uuid::nil(), new).await.expect("logged");
    if consent != Consent::Hub {
        app.feedback.share(logged.logged.item, uuid::Uuid::nil()).await.expect("shared");
    }
    logged.logged.item.to_string()
}

/// The figures one public CSV publishes: shared, closed, and per theme (`None` when hidden).
#[derive(Debug, Default)]
struct Figures {
    shared: Option<u64>,
    closed: Option<u64>,
    themes: BTreeMap<String, Option<u64>>,
}

fn figures_of(csv: &str) -> Figures {
    let mut reader = ::csv::Reader::from_reader(csv.as_bytes());
    let mut figures = Figures::default();
    for record in reader.records() {
        let record = record.expect("a CSV row");
        let number = record[2].parse::<u64>().ok();
        match (&record[0], &record[1]) {
            ("summary", "shared items") => figures.shared = number,
            ("summary", "closed items") => figures.closed = number,
            ("you said", theme) => {
                figures.themes.insert(theme.to_owned(), number);
            }
            _ => {}
        }
    }
    figures
}

/// A sum the figures must keep: `total` is the `parts` added up. When exactly one term is
/// hidden and all the others are shown, anyone can work the hidden one out.
fn gives_one_away(total: Option<u64>, parts: &[Option<u64>]) -> bool {
    let hidden = parts.iter().chain([&total]).filter(|figure| figure.is_none()).count();
    hidden == 1
}

#[tokio::test]
async fn the_public_pages_show_no_words_without_public_consent_and_no_figure_that_subtracts_to_a_hidden_one() {
    let app = spawn_app().await;
    let mut public_words = Vec::new();
    let mut secret_words = Vec::new();
    let plan: [(&str, &str, usize, usize, usize); 4] = [
        // hub, theme, public items, commissioners only, kept to the hub
        ("arun", "opening-hours", 6, 3, 1),
        ("arun", "women", 2, 0, 0),
        ("crawley", "opening-hours", 7, 1, 0),
        ("crawley", "women", 3, 0, 1),
    ];
    let mut arun_public = Vec::new();
    for (hub, theme, public, commissioners, hub_only) in plan {
        for n in 0..public {
            let words = format!("Public words from {hub} about {theme}, number {n}");
            let id = said(&app, hub, theme, &words, Consent::Public).await;
            if hub == "arun" {
                arun_public.push(id);
            }
            public_words.push(words);
        }
        for n in 0..commissioners {
            let words = format!("Only for commissioners {hub} {theme} {n} zqxv");
            said(&app, hub, theme, &words, Consent::Commissioners).await;
            secret_words.push(words);
        }
        for n in 0..hub_only {
            let words = format!("Kept in the hub {hub} {theme} {n} zqxv");
            said(&app, hub, theme, &words, Consent::Hub).await;
            secret_words.push(words);
        }
    }
    said(&app, "horsham", "opening-hours", "Public words from horsham, the only one", Consent::Public).await;
    app.settled().await;
    // A commissioner acts on some of it, so that closed counts are published too.
    app.create_user("commissioner@example.org", &[Role::Commissioner], &[]).await;
    let commissioner = app.login("commissioner@example.org").await;
    let proposed = commissioner
        .graphql(
            "mutation($i: ProposeDecisionInput!) { proposeDecision(input: $i) { id } }",
            json!({ "i": { "title": "Open on Saturdays", "serviceArea": "Treatment", "decidedBy": "DAAT board",
                "decisionDate": heard_api::today().to_string(), "ladderRung": 5, "involvement": "Asked at every hub" } }),
        )
        .await;
    let decision = proposed["data"]["proposeDecision"]["id"].as_str().expect("proposed").to_owned();
    for item in &arun_public[..5] {
        let linked = commissioner
            .graphql(
                "mutation($id: ID!, $i: LinkEvidenceInput!) { linkEvidence(id: $id, input: $i) { id } }",
                json!({ "id": decision, "i": { "kind": "FEEDBACK_ITEM", "itemId": item, "rationale": "People asked" } }),
            )
            .await;
        assert!(linked["errors"].is_null(), "{linked}");
    }
    app.settled().await;

    let hubs = app.graphql("{ hubs(first: 100) { edges { node { id } } } }", json!({})).await;
    let hubs: Vec<String> = hubs["data"]["hubs"]["edges"]
        .as_array()
        .expect("hubs")
        .iter()
        .map(|edge| edge["node"]["id"].as_str().unwrap().to_owned())
        .collect();

    // Everything a visitor can open, as a visitor (no login).
    let mut seen: Vec<(String, String)> = Vec::new();
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains("The EXACT Bill of Rights") && home.contains("href=\"/complaints/new\""), "{home}");
    assert!(!home.contains("pair-count") && !home.contains("report-figures"), "the home page publishes no figures");
    seen.push(("/".into(), home));
    let county_csv = app.get("/reports/you-said-we-did?public=true&format=csv").await.text().await.unwrap();
    seen.push((
        "/reports/you-said-we-did?public=true".into(),
        app.get("/reports/you-said-we-did?public=true").await.text().await.unwrap(),
    ));
    let county = figures_of(&county_csv);
    seen.push(("county CSV".into(), county_csv));
    let mut by_hub: BTreeMap<String, Figures> = BTreeMap::new();
    for hub in &hubs {
        let page = app.get(&format!("/public/you-said-we-did/{hub}")).await;
        assert_eq!(page.status(), 200, "{hub}");
        let page = page.text().await.unwrap();
        let csv =
            app.get(&format!("/reports/you-said-we-did?hub={hub}&public=true&format=csv")).await.text().await.unwrap();
        let figures = figures_of(&csv);
        // The page shows the CSV's theme counts, no more.
        for (theme, count) in &figures.themes {
            if let Some(count) = count {
                assert!(page.contains(&format!("<p class=\"pair-count\">{count} items</p>")), "{hub} {theme}: {page}");
            }
        }
        assert_eq!(page.matches("class=\"pair-count\"").count(), figures.themes.len(), "{hub}: one count per theme");
        by_hub.insert(hub.clone(), figures);
        seen.push((format!("/public/you-said-we-did/{hub}"), page));
        seen.push((format!("{hub} CSV"), csv));
    }

    // No words without public consent, anywhere; and the public words do appear.
    for (where_, text) in &seen {
        for secret in &secret_words {
            assert!(!text.contains(secret), "{where_} shows words without public consent: {secret}");
        }
        assert!(!text.contains("zqxv"), "{where_}");
    }
    let arun_page = &seen.iter().find(|(where_, _)| where_ == "/public/you-said-we-did/arun").unwrap().1;
    assert!(public_words.iter().any(|words| arun_page.contains(words.as_str())), "public words are shown: {arun_page}");
    assert!(arun_page.contains("It fed into the decision"), "and what came of them: {arun_page}");

    // No published figure gives a hidden one away by subtraction.
    let scopes: Vec<(&str, &Figures)> =
        std::iter::once(("county", &county)).chain(by_hub.iter().map(|(hub, f)| (hub.as_str(), f))).collect();
    for (scope, figures) in &scopes {
        let themes: Vec<Option<u64>> = figures.themes.values().copied().collect();
        assert!(
            !gives_one_away(figures.shared, &themes),
            "{scope}: shared minus the other themes gives one away: {figures:?}"
        );
        if let (Some(shared), Some(closed)) = (figures.shared, figures.closed) {
            assert!(
                !(1..=4).contains(&(shared - closed)),
                "{scope}: shared minus closed gives a small open count: {figures:?}"
            );
        }
        for count in themes.iter().flatten().chain(figures.shared.iter()).chain(figures.closed.iter()) {
            assert!(!(1..=4).contains(count), "{scope}: a count of 1 to 4 is shown: {figures:?}");
        }
    }
    let hub_figures: Vec<&Figures> = by_hub.values().collect();
    let shared: Vec<Option<u64>> = hub_figures.iter().map(|f| f.shared).collect();
    assert!(!gives_one_away(county.shared, &shared), "the county minus the other hubs gives one hub away: {by_hub:?}");
    let closed: Vec<Option<u64>> = hub_figures.iter().map(|f| f.closed).collect();
    assert!(!gives_one_away(county.closed, &closed), "closed, county against hubs: {by_hub:?}");
    for (theme, total) in &county.themes {
        let parts: Vec<Option<u64>> = hub_figures.iter().filter_map(|f| f.themes.get(theme).copied()).collect();
        assert!(!gives_one_away(*total, &parts), "{theme}, county against hubs: {by_hub:?} {county:?}");
    }
}
