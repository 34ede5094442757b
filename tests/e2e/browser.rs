//! The web UI in a real browser: Debian's headless chromium, driven by Playwright
//! (`tests/browser/journeys.mjs`, one file per journey in `tests/browser/journeys/`), against `heard serve` on port 0 with the demo data. Every
//! page is checked with axe-core; one journey runs with the keyboard only, one with
//! JavaScript switched off; screenshots at 390 px and 1280 px land in `target/screenshots/`.
//! `./scripts/test` installs chromium and the npm packages when they are missing.

use std::time::Duration;

use heard_tests::{spawn_app, workspace_root};

#[tokio::test]
async fn the_web_journeys_work_in_a_real_browser_by_keyboard_and_without_javascript_with_no_serious_accessibility_problems()
 {
    let root = workspace_root();
    let browser = root.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir() && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser tests need chromium and their npm packages: run ./scripts/test, which installs them"
    );
    let app = spawn_app().await;
    heard_demo::seed(app.services.demo()).await.expect("the demo seeds");
    assert!(app.commissioning.caught_up().await);
    let shots = root.join("target/screenshots");
    let run = tokio::process::Command::new("node")
        .arg(browser.join("journeys.mjs"))
        .arg(format!("http://{}", app.addr))
        .arg(&shots)
        // `HEARD_JOURNEYS=commissioner` runs only the journeys whose file names contain it.
        .arg(std::env::var("HEARD_JOURNEYS").unwrap_or_default())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(540), run)
        .await
        .expect("the browser journeys finish (a guard against a hang, not a timing: nine minutes)")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "a browser journey failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("\"done\":true"), "{stdout}");
    if std::env::var("HEARD_JOURNEYS").is_ok_and(|only| !only.is_empty()) {
        return;
    }
    // The main page of every journey: 7 public, 6 member, 3 search (22: a facet, an item),
    // 6 coordinator, 4 safeguarding, 3 importing a spreadsheet, 4 advocate, 5 complaints (handler, person raising one,
    // provider), 6 commissioner, 8 administrator.
    for page in [
        "home",
        "public-arun",
        "login",
        "home-member",
        "log-feedback",
        "log-feedback-errors",
        "meeting",
        "meeting-logged",
        "feedback-edit",
        "meeting-end",
        "meeting-phone",
        "search",
        "search-facet",
        "feedback-item",
        "moderation",
        "moderation-filtered",
        "moderation-suggested-redaction",
        "moderation-held",
        "gazetteer",
        "report-back",
        "safeguarding",
        "safeguarding-flagged",
        "disclosure",
        "disclosure-dealt-with",
        "import",
        "import-preview",
        "import-progress",
        "cases",
        "case",
        "complaints",
        "complaint",
        "complaint-new",
        "complaint-check",
        "complaints-provider",
        "complaint-acknowledge-error",
        "complaint-assign",
        "complaint-extend",
        "complaints-mine",
        "dashboard",
        "decisions",
        "decision",
        "decision-check",
        "shared",
        "reports",
        "report",
        "admin",
        "admin-user",
        "admin-hubs",
    ] {
        for width in [390, 1280] {
            assert!(shots.join(format!("{page}-{width}.png")).is_file(), "a screenshot of {page} at {width} px");
        }
    }
}

#[tokio::test]
async fn a_coordinator_finds_and_erases_everything_about_a_person_with_the_keyboard_alone_and_the_page_of_what_is_held_reads_on_a_phone()
 {
    let root = workspace_root();
    let browser = root.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir() && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser tests need chromium and their npm packages: run ./scripts/test, which installs them"
    );
    let app = spawn_app().await;
    heard_demo::seed(app.services.demo()).await.expect("the demo seeds");
    app.settled().await;
    let shots = root.join("target/screenshots");
    let run = tokio::process::Command::new("node")
        .arg(root.join("tests/e2e/browser_rights.mjs"))
        .arg(format!("http://{}", app.addr))
        .arg(&shots)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the journey finishes (a guard against a hang, not a timing: five minutes)")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the rights journey failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("\"done\":true"), "{stdout}");
    for page in
        ["person-attributed", "people-find", "person-held", "person-erase", "person-erase-check", "person-erased"]
    {
        for width in [390, 1280] {
            assert!(shots.join(format!("{page}-{width}.png")).is_file(), "a screenshot of {page} at {width} px");
        }
    }
}

#[tokio::test]
async fn the_hub_member_coordinator_and_commissioner_journeys_work_in_the_split_deployment_through_the_gateway() {
    let root = workspace_root();
    let browser = root.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir() && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser tests need chromium and their npm packages: run ./scripts/test, which installs them"
    );
    let split = crate::federation::split().await;
    heard_demo::seed(split.app.services.demo()).await.expect("the demo seeds");
    // The subgraphs read the demo from the shared log.
    let _ = split.app.graphql("{ hubs { edges { node { id } } } }", serde_json::json!({})).await;
    let web = crate::federation::web_ui(&split).await;
    let shots = root.join("target/screenshots/split");
    let run = tokio::process::Command::new("node")
        .arg(browser.join("journeys.mjs"))
        .arg(format!("http://{}", web.addr))
        .arg(&shots)
        .arg("20-member,30-coordinator,60-commissioner")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(540), run)
        .await
        .expect("the browser journeys finish (a guard against a hang, not a timing: nine minutes)")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "a browser journey failed in the split deployment:\n{stdout}\n{stderr}");
    assert!(stdout.contains("\"done\":true"), "{stdout}");
    for page in ["home-member", "search", "moderation", "decisions", "decision"] {
        assert!(shots.join(format!("{page}-390.png")).is_file(), "a screenshot of {page} in the split deployment");
    }
    web.shutdown().await.expect("the web UI stops");
}
