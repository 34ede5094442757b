//! The split deployment (issue #20): each of the six services runs alone as a federation
//! subgraph (`heard::subgraphs`, what `heard serve --service NAME` runs), with a data directory
//! of its own, over one PostgreSQL log; the real Hive Gateway (from npm, `ops/federation`)
//! composes them. Beside them, the single process runs over the same log, so that one can be
//! compared with the other on the same data.
//!
//! Through the gateway: the policy matrices of `access.rs` give the same decisions (the same
//! codes, the same concealment as not found); a query that crosses services gives the same
//! JSON as the single process; a subscription delivers; and a stopped service makes only its
//! own fields fail, until it is started again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use heard::subgraphs::{RunningSubgraph, ServiceName};
use heard_tests::{PgSchema, TestApp, Through, spawn_app_with, workspace_root};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

type Running = Arc<Mutex<BTreeMap<&'static str, RunningSubgraph>>>;

/// The single process and the six subgraphs over one schema, and the gateway in front of the
/// subgraphs. The single process's `graphql` and `graphql_as` go through the gateway.
pub(crate) struct Split {
    pub app: TestApp,
    running: Running,
    /// Each subgraph's data directory and address, to start it again after a stop.
    homes: BTreeMap<&'static str, (TempDir, std::net::SocketAddr)>,
    pub gateway: Gateway,
    pub schema: PgSchema,
}

/// The Hive Gateway process, stopped when the test ends.
pub(crate) struct Gateway {
    child: Child,
    pub url: String,
    _supergraph: TempDir,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn federation_dir() -> PathBuf {
    workspace_root().join("ops").join("federation")
}

/// `node_modules` of `ops/federation`, which `scripts/test` installs with `npm ci`.
fn gateway_installed() -> PathBuf {
    let bin = federation_dir().join("node_modules").join(".bin").join("hive-gateway");
    assert!(bin.exists(), "Hive Gateway is not installed: run `npm ci` in ops/federation (scripts/test does it)");
    bin
}

fn url_variable(name: &str) -> String {
    format!("HEARD_{}_URL", name.to_uppercase())
}

async fn start_subgraph(schema: &PgSchema, name: ServiceName, data_dir: &Path, listen: &str) -> RunningSubgraph {
    let mut settings =
        heard::Settings { data_dir: data_dir.to_owned(), listen: listen.to_owned(), ..heard::Settings::default() };
    schema.serve_from(&mut settings);
    heard::subgraphs::start(&settings, name).await.expect("the subgraph starts")
}

pub(crate) async fn split() -> Split {
    let bin = gateway_installed();
    let schema = PgSchema::new();
    let mut app = spawn_app_with(|settings| schema.serve_from(settings)).await;
    let running: Running = Arc::default();
    let mut homes = BTreeMap::new();
    let mut urls = Vec::new();
    for name in ServiceName::ALL {
        let home = tempfile::tempdir().expect("a data directory for the subgraph");
        std::fs::copy(app.data_dir.path().join("secret.key"), home.path().join("secret.key"))
            .expect("the key is copied, as an operator copies it to every replica");
        let subgraph = start_subgraph(&schema, name, home.path(), "127.0.0.1:0").await;
        urls.push((url_variable(name.as_str()), format!("http://{}/graphql", subgraph.addr)));
        homes.insert(name.as_str(), (home, subgraph.addr));
        running.lock().await.insert(name.as_str(), subgraph);
    }
    let gateway = start_gateway(&bin, &urls).await;
    let settle = running.clone();
    let written = running.clone();
    app.through = Some(Through {
        url: gateway.url.clone(),
        written: Arc::new(move || {
            let running = written.clone();
            Box::pin(async move { running.lock().await.values().map(RunningSubgraph::head).max().unwrap_or(0) })
        }),
        settle: Arc::new(move |position| {
            let running = settle.clone();
            Box::pin(async move {
                for (name, subgraph) in running.lock().await.iter() {
                    assert!(subgraph.caught_up_with(position).await, "the {name} subgraph never read up to {position}");
                }
            })
        }),
    });
    Split { app, running, homes, gateway, schema }
}

/// Composes the subgraphs at `urls` into a supergraph and serves it with Hive Gateway on a
/// free port, once it answers its health check.
async fn start_gateway(bin: &Path, urls: &[(String, String)]) -> Gateway {
    let supergraph = tempfile::tempdir().expect("a folder for the supergraph");
    let file = supergraph.path().join("supergraph.graphql");
    let composed = Command::new("node")
        .arg(federation_dir().join("compose.mjs"))
        .arg("--out")
        .arg(&file)
        .envs(urls.iter().cloned())
        .output()
        .expect("node runs compose.mjs");
    assert!(composed.status.success(), "composition failed: {}", String::from_utf8_lossy(&composed.stderr));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(bin)
        .args(["supergraph", file.to_str().unwrap(), "--port", &port.to_string()])
        .current_dir(federation_dir())
        .envs(urls.iter().cloned())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Hive Gateway starts");
    let gateway = Gateway { child, url: format!("http://127.0.0.1:{port}/graphql"), _supergraph: supergraph };
    let client = reqwest::Client::new();
    let health = format!("http://127.0.0.1:{port}/healthcheck");
    for _ in 0..600 {
        if client.get(&health).send().await.is_ok_and(|response| response.status().is_success()) {
            return gateway;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("Hive Gateway did not answer {health} within 30 s");
}

#[test]
fn the_committed_supergraph_is_what_composing_the_committed_subgraphs_gives() {
    gateway_installed();
    let checked =
        Command::new("node").arg(federation_dir().join("compose.mjs")).arg("--check").output().expect("node runs");
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[tokio::test]
async fn through_the_gateway_every_role_gets_the_policy_matrix_decision_for_every_account_operation() {
    crate::access::identity_matrix(&split().await.app).await;
}

#[tokio::test]
async fn through_the_gateway_every_role_gets_the_policy_matrix_decision_for_every_feedback_operation() {
    crate::access::feedback_matrix(&split().await.app).await;
}

#[tokio::test]
async fn through_the_gateway_every_role_gets_the_policy_matrix_decision_for_every_casework_operation() {
    crate::access::casework_matrix(&split().await.app).await;
}

#[tokio::test]
async fn through_the_gateway_every_role_gets_the_policy_matrix_decision_for_every_commissioning_operation() {
    crate::access::commissioning_matrix(&split().await.app).await;
}

#[tokio::test]
async fn through_the_gateway_every_role_gets_the_policy_matrix_decision_for_every_rights_operation() {
    crate::access::rights_matrix(&split().await.app).await;
}

/// A shared item from Arun about a provider, and a decision with it as evidence: the
/// commissioner's token, the decision's id.
async fn decision_with_evidence(app: &TestApp) -> (String, String) {
    let [(_, coordinator), (commissioner_id, _)] = app.people(["coordinator", "commissioner"]).await;
    let item = coordinator
        .log_feedback(
            json!({ "hub": "arun", "text": "Evening opening at the Bognor hub would let people who work come",
            "channel": "FORUM", "saidOn": "2026-11-02", "speaker": "ANONYMOUS", "consent": "COMMISSIONERS",
            "provider": "addaction" }),
        )
        .await;
    let shared = coordinator.mutate_by_id("shareFeedback(id: $id)", "", "id", json!({ "id": item })).await;
    assert_eq!(shared["id"], json!(item));
    let token = app.token_for(commissioner_id).await;
    let proposed = app
        .graphql_as(
            &token,
            "mutation { proposeDecision(input: { title: \"Evening opening\", serviceArea: \"Treatment\",
                decidedBy: \"DAAT board\", decisionDate: \"2026-11-20\", ladderRung: 5,
                involvement: \"Forum in Bognor\" }) { id } }",
            json!({}),
        )
        .await;
    let decision =
        proposed["data"]["proposeDecision"]["id"].as_str().unwrap_or_else(|| panic!("{proposed}")).to_owned();
    let linked = app
        .graphql_as(
            &token,
            "mutation($d: ID!, $i: ID!) { linkEvidence(id: $d, input: { kind: FEEDBACK_ITEM, itemId: $i,
                rationale: \"People asked for it\" }) { id } }",
            json!({ "d": decision, "i": item }),
        )
        .await;
    assert!(linked["errors"].is_null(), "{linked}");
    let themes = app.graphql_as(&token, "{ themes { id } }", json!({})).await;
    let theme = themes["data"]["themes"][0]["id"].as_str().unwrap_or_else(|| panic!("{themes}")).to_owned();
    let linked = app
        .graphql_as(
            &token,
            "mutation($d: ID!, $t: ID!) { linkEvidence(id: $d, input: { kind: THEME, theme: $t,
                rationale: \"Raised at every forum\" }) { id } }",
            json!({ "d": decision, "t": theme }),
        )
        .await;
    assert!(linked["errors"].is_null(), "{linked}");
    (token, decision)
}

const DECISION_ACROSS_SERVICES: &str = "query($id: ID!) { decision(id: $id) { title evidence { kind rationale
    feedbackItem { id text hubName hubDetails { id name kind area } themes { id name } provider }
    theme { id name parent } } } }";

#[tokio::test]
async fn a_decision_with_its_evidence_items_words_hubs_and_themes_reads_the_same_through_the_gateway_as_from_the_single_process()
 {
    let split = split().await;
    let (token, decision) = decision_with_evidence(&split.app).await;
    let through_gateway = split.app.graphql_as(&token, DECISION_ACROSS_SERVICES, json!({ "id": decision })).await;
    let from_single_process =
        single_process(&split.app, &token, DECISION_ACROSS_SERVICES, json!({ "id": decision })).await;
    assert!(from_single_process["errors"].is_null(), "{from_single_process}");
    let evidence = &from_single_process["data"]["decision"]["evidence"][0]["feedbackItem"];
    assert_eq!(evidence["hubDetails"]["name"], "Arun", "{from_single_process}");
    assert!(evidence["text"].as_str().is_some_and(|text| text.contains("Evening opening")), "{from_single_process}");
    let theme = &from_single_process["data"]["decision"]["evidence"][1]["theme"];
    assert!(theme["name"].as_str().is_some_and(|name| !name.is_empty()), "{from_single_process}");
    assert_eq!(through_gateway, from_single_process, "the gateway's answer differs from the single process's");
}

/// What the single process itself answers, not the gateway.
async fn single_process(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    heard_tests::ask_with_token(&app.client, &format!("http://{}", app.addr), token, query, variables)
        .await
        .expect("the single process answers")
}

#[tokio::test]
async fn an_item_a_person_may_not_see_is_not_found_through_another_services_reference_either() {
    let split = split().await;
    let (token, decision) = decision_with_evidence(&split.app).await;
    // A provider responder of another provider may not see the decision's evidence item.
    let [(cri, _)] = split.app.people(["cri"]).await;
    let cri = split.app.token_for(cri).await;
    let item_query = "query($id: ID!) { decision(id: $id) { evidence { feedbackItem { id } } } }";
    let seen = split.app.graphql_as(&token, item_query, json!({ "id": decision })).await;
    let item = seen["data"]["decision"]["evidence"][0]["feedbackItem"]["id"]
        .as_str()
        .expect("the commissioner sees it")
        .to_owned();
    let direct =
        split.app.graphql_as(&cri, "query($id: ID!) { feedbackItem(id: $id) { text } }", json!({ "id": item })).await;
    let through_decision = split.app.graphql_as(&cri, DECISION_ACROSS_SERVICES, json!({ "id": decision })).await;
    let alone = single_process(&split.app, &cri, DECISION_ACROSS_SERVICES, json!({ "id": decision })).await;
    assert_eq!(through_decision["data"], alone["data"], "the gateway shows what the single process shows");
    if direct["data"].is_null() {
        assert_eq!(heard_tests::error_code(&direct), Some("NOT_FOUND"), "{direct}");
        let words = through_decision.to_string();
        assert!(!words.contains("people who work"), "the words leak through the decision: {words}");
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-transport-ws subscription to `query` through the gateway, with `token`.
async fn subscribed_through_gateway(split: &Split, token: &str, query: &str) -> Socket {
    let ws = split.gateway.url.replacen("http://", "ws://", 1);
    let mut request = ws.into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("the gateway's websocket connects");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.send(Message::Text(init.to_string().into())).await.unwrap();
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    socket.send(Message::Text(subscribe.to_string().into())).await.unwrap();
    socket
}

/// The next `next` payload on `socket`, while `meanwhile` runs every half second (the
/// subscription reaches the subgraph through the gateway a moment after it is sent), for 20 s
/// at most.
async fn heard_while<F: std::future::Future<Output = ()>>(
    socket: &mut Socket,
    mut meanwhile: impl FnMut() -> F,
) -> Value {
    tokio::time::timeout(Duration::from_secs(20), async {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = tick.tick() => meanwhile().await,
                message = socket.next() => {
                    let message = message.expect("the socket stays open").expect("a message");
                    let Message::Text(text) = message else { continue };
                    let value: Value = serde_json::from_str(&text).unwrap();
                    match value["type"].as_str() {
                        Some("next") => return value["payload"].clone(),
                        Some("connection_ack" | "ping" | "pong") => continue,
                        _ => panic!("unexpected message: {value}"),
                    }
                }
            }
        }
    })
    .await
    .expect("the subscriber hears through the gateway")
}

#[tokio::test]
async fn a_subscriber_through_the_gateway_hears_of_feedback_as_it_is_logged() {
    let split = split().await;
    let [(coordinator_id, coordinator)] = split.app.people(["coordinator"]).await;
    let token = split.app.token_for(coordinator_id).await;
    (split.app.through.as_ref().unwrap().settle)(split.app.store.head().position).await;
    let query = "subscription { feedbackLogged(hub: \"arun\") { text hubName } }";
    let mut socket = subscribed_through_gateway(&split, &token, query).await;
    let heard = heard_while(&mut socket, || async {
        coordinator
            .log_feedback(json!({ "hub": "arun", "text": "the needle exchange moved without notice",
                "channel": "DROP_IN", "saidOn": "2026-11-02", "speaker": "ANONYMOUS", "consent": "HUB" }))
            .await;
    })
    .await;
    assert_eq!(heard["data"]["feedbackLogged"]["text"], "the needle exchange moved without notice", "{heard}");
    assert_eq!(heard["data"]["feedbackLogged"]["hubName"], "Arun", "{heard}");
}

#[tokio::test]
async fn a_complaints_handler_subscribed_through_the_gateway_is_told_of_an_overdue_complaint() {
    let split = split().await;
    let [(handler_id, handler)] = split.app.people(["handler"]).await;
    let token = split.app.token_for(handler_id).await;
    (split.app.through.as_ref().unwrap().settle)(split.app.store.head().position).await;
    let query = "subscription { complaintAlerts { complaint { id } reason overdue } }";
    let mut socket = subscribed_through_gateway(&split, &token, query).await;
    let raised = std::sync::Mutex::new(None::<String>);
    let alert = heard_while(&mut socket, || async {
        if raised.lock().unwrap().is_none() {
            let id = crate::replicas::raise(&handler, crate::replicas::working_days_ago(6)).await;
            *raised.lock().unwrap() = Some(id);
        }
    })
    .await;
    let raised = raised.lock().unwrap().clone().expect("a complaint was raised");
    assert_eq!(alert["data"]["complaintAlerts"]["complaint"]["id"], raised.as_str(), "{alert}");
    assert_eq!(alert["data"]["complaintAlerts"]["reason"], "Acknowledgement overdue by 3 working days", "{alert}");
}

#[tokio::test]
async fn when_one_service_stops_only_its_fields_fail_with_a_clear_error_and_it_answers_again_once_started() {
    let split = split().await;
    let (token, decision) = decision_with_evidence(&split.app).await;
    let hubs = "{ hubs { edges { node { id } } } }";
    let items = "{ feedbackItems { edges { node { id } } } }";
    let variables = json!({ "id": decision });
    let hubs_before = split.app.graphql_as(&token, hubs, json!({})).await;
    let decision_before = split.app.graphql_as(&token, DECISION_ACROSS_SERVICES, variables.clone()).await;
    assert!(decision_before["errors"].is_null(), "{decision_before}");

    let feedback = split.running.lock().await.remove("feedback").expect("feedback runs");
    feedback.shutdown().await.expect("feedback stops");
    assert_eq!(split.app.graphql_as(&token, hubs, json!({})).await, hubs_before, "identity still answers");
    let refused = split.app.graphql_as(&token, items, json!({})).await;
    assert_eq!(heard_tests::error_code(&refused), Some("UNAVAILABLE"), "{refused}");
    assert!(refused["errors"][0]["message"].as_str().is_some_and(|message| message.contains("feedback")), "{refused}");
    // Across services, only the stopped service's part fails: the decision and its evidence
    // links answer, the evidence item and theme are null, and the errors say why and where.
    let partial = split.app.graphql_as(&token, DECISION_ACROSS_SERVICES, variables.clone()).await;
    assert_eq!(partial["data"]["decision"]["title"], "Evening opening", "{partial}");
    assert_eq!(partial["data"]["decision"]["evidence"][0]["rationale"], "People asked for it", "{partial}");
    assert!(partial["data"]["decision"]["evidence"][0]["feedbackItem"].is_null(), "{partial}");
    let errors = partial["errors"].as_array().cloned().unwrap_or_default();
    assert!(!errors.is_empty(), "the failure is reported: {partial}");
    for error in &errors {
        assert_eq!(error["extensions"]["code"], "UNAVAILABLE", "{partial}");
        let path = error["path"].as_array().cloned().unwrap_or_default();
        assert!(
            path.iter().any(|step| step == "feedbackItem" || step == "theme"),
            "only the feedback service's parts fail: {partial}"
        );
    }

    let (home, addr) = &split.homes["feedback"];
    let again = start_subgraph(&split.schema, ServiceName::Feedback, home.path(), &addr.to_string()).await;
    split.running.lock().await.insert("feedback", again);
    let after = split.app.graphql_as(&token, DECISION_ACROSS_SERVICES, variables).await;
    assert_eq!(after, decision_before, "once started again, feedback answers as before");
}

#[tokio::test]
async fn through_the_gateway_a_session_works_like_a_browsers_and_another_sites_page_cannot_use_it() {
    let split = split().await;
    let [(_, _)] = split.app.people(["coordinator"]).await;
    (split.app.through.as_ref().unwrap().settle)(split.app.store.head().position).await;
    let base = split.gateway.url.trim_end_matches("/graphql").to_owned();
    // Logged in through the gateway: its cookies come back through it, and work.
    let session = heard_tests::Session::log_in(&base, "coordinator@example.org", heard_tests::PASSWORD)
        .await
        .expect("the login through the gateway succeeds");
    let me = session.graphql("{ me { displayName } }", json!({})).await;
    assert_eq!(me["data"]["me"]["displayName"], "Test coordinator", "{me}");
    let query = json!({ "query": "{ me { displayName } }" });
    // The same cookie without the CSRF token: refused.
    let without_token = session.client.post(&split.gateway.url).json(&query).send().await.unwrap();
    let without_token: Value = without_token.json().await.unwrap();
    assert_eq!(heard_tests::error_code(&without_token), Some("FORBIDDEN"), "{without_token}");
    // Another site's page, whose browser sends the cookie and even the token: refused.
    let cross_site = session
        .client
        .post(&split.gateway.url)
        .header("X-CSRF-Token", &session.csrf_token)
        .header("Origin", "https://elsewhere.example")
        .header("Sec-Fetch-Site", "cross-site")
        .json(&query)
        .send()
        .await
        .unwrap();
    let cross_site: Value = cross_site.json().await.unwrap();
    assert_eq!(heard_tests::error_code(&cross_site), Some("FORBIDDEN"), "{cross_site}");
    assert!(cross_site["data"].is_null() || cross_site["data"]["me"].is_null(), "{cross_site}");
    // A body larger than Heard accepts is refused before any service sees it.
    let huge = format!("{{\"query\": \"{{ me {{ id }} }}\", \"variables\": {{\"x\": \"{}\"}}}}", "a".repeat(2 << 20));
    let refused = reqwest::Client::new()
        .post(&split.gateway.url)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
}

/// The split deployment's web UI (`heard serve --web-through`), its GraphQL through the gateway.
pub(crate) async fn web_ui(split: &Split) -> heard::web_split::RunningWeb {
    let web_dir = tempfile::tempdir().expect("a data directory for the web UI");
    std::fs::copy(split.app.data_dir.path().join("secret.key"), web_dir.path().join("secret.key"))
        .expect("the web UI holds the same key");
    let mut settings =
        heard::Settings { data_dir: web_dir.keep(), listen: "127.0.0.1:0".into(), ..heard::Settings::default() };
    split.schema.serve_from(&mut settings);
    heard::web_split::start(&settings, &split.gateway.url).await.expect("the web UI starts")
}

#[tokio::test]
async fn the_you_said_we_did_csv_from_the_split_web_ui_is_the_single_processs_byte_for_byte() {
    let split = split().await;
    let (token, _) = decision_with_evidence(&split.app).await;
    (split.app.through.as_ref().unwrap().settle)(split.app.store.head().position).await;
    let web = web_ui(&split).await;
    let client = reqwest::Client::new();
    let csv = |base: String, token: Option<String>| {
        let client = client.clone();
        async move {
            let mut request = client.get(format!("{base}/reports/you-said-we-did?format=csv"));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.expect("answered");
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let single = format!("http://{}", split.app.addr);
    let split_web = format!("http://{}", web.addr);
    for token in [Some(token.clone()), None] {
        let (status, from_single_process) = csv(single.clone(), token.clone()).await;
        assert_eq!(status, 200, "{from_single_process}");
        let (status, from_split) = csv(split_web.clone(), token.clone()).await;
        assert_eq!(status, 200, "{from_split}");
        assert_eq!(from_split, from_single_process, "signed in: {}", token.is_some());
    }
    let (_, with_token) = csv(single, Some(token)).await;
    assert!(with_token.contains("Evening opening"), "the commissioner's CSV holds the decision: {with_token}");
    web.shutdown().await.expect("the web UI stops");
}
