//! `/metrics` as an operator meets it: histograms per GraphQL operation and HTTP route with
//! labels no client can multiply, the log's append and fsync times, projection lag, search,
//! logins and the access log; restricted by a token or an address of its own; a catalogue
//! (`docs/metrics.md`) and a Grafana dashboard (`ops/grafana/heard.json`) that name exactly
//! what is rendered. And every request's id, in its response and its JSON log lines.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use futures::StreamExt as _;
use heard_tests::{TestApp, heard_binary, hub, spawn_app, spawn_app_with, workspace_root};
use serde_json::{Value, json};

/// One sample of `/metrics`: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// What `/metrics` rendered: each family's type (from its `# TYPE` line) and every sample.
struct Rendered {
    families: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

impl Rendered {
    fn parse(text: &str) -> Rendered {
        let mut families = BTreeMap::new();
        let mut samples = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                assert!(families.insert(name.to_owned(), kind.to_owned()).is_none(), "{name} twice");
            } else if !line.starts_with('#') && !line.is_empty() {
                let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
                let (name, labels) = match series.split_once('{') {
                    Some((name, labels)) => (name, parse_labels(labels.strip_suffix('}').expect("labels end"))),
                    None => (series, BTreeMap::new()),
                };
                let value = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
                samples.push(Sample { name: name.to_owned(), labels, value });
            }
        }
        Rendered { families, samples }
    }

    /// The samples called `name` whose labels include `labels`.
    fn find<'a>(&'a self, name: &'a str, labels: &'a [(&str, &str)]) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |sample| {
            sample.name == name
                && labels.iter().all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(value))
        })
    }

    /// The one sample called `name` with `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self.find(name, labels).collect();
        assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
        found[0].value
    }
}

/// `a="x",b="y\"z"` (Heard's label values never hold a comma inside quotes but may be escaped).
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"").expect("name=\"value\"");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect("a closing quote") {
                (_, '\\') => match chars.next().expect("an escaped character").1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (at, '"') => break at,
                (_, other) => value.push(other),
            }
        };
        labels.insert(name.to_owned(), value);
        rest = after[end + 1..].trim_start_matches(',');
    }
    labels
}

async fn metrics(app: &TestApp) -> Rendered {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    Rendered::parse(&response.text().await.unwrap())
}

/// The catalogue's rows: each metric's name and type.
fn catalogue() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(workspace_root().join("docs/metrics.md")).unwrap();
    text.lines()
        .filter(|line| line.starts_with("| `heard_"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_owned(), cells[2].to_owned())
        })
        .collect()
}

#[tokio::test]
async fn graphql_operations_routes_appends_fsyncs_searches_logins_and_the_access_log_are_measured() {
    let hub = hub().await;
    let app = &hub.app;
    hub.member
        .log_feedback(json!({ "hub": "arun", "text": "the lift at the day centre is broken", "channel": "DROP_IN",
            "saidOn": "2026-11-02", "speaker": "ANONYMOUS", "consent": "HUB" }))
        .await;
    app.settled().await;
    let found =
        hub.member.graphql("query($q: String!) { searchFeedback(query: $q) { total } }", json!({ "q": "lift" })).await;
    assert_eq!(found["data"]["searchFeedback"]["total"], 1, "{found}");
    // A refusal of someone logged in is written to the access log.
    hub.member.graphql("{ accessLog { edges { node { action } } } }", json!({})).await;
    assert!(app.try_login("member@example.org", "not the password at all").await.is_err());
    assert_eq!(app.get("/login").await.status(), 200);
    let id = uuid::Uuid::new_v4();
    hub.member.client.get(app.url(&format!("/cases/{id}"))).send().await.unwrap();

    let rendered = metrics(app).await;
    let count = |operation, kind| {
        rendered.value("heard_graphql_request_seconds_count", &[("operation", operation), ("kind", kind)])
    };
    assert!(count("logFeedback", "mutation") >= 1.0);
    assert!(count("login", "mutation") >= 5.0, "four logins and the failed one");
    assert!(count("searchFeedback", "query") >= 1.0);
    let errors =
        |operation, kind| rendered.value("heard_graphql_errors_total", &[("operation", operation), ("kind", kind)]);
    assert_eq!(errors("login", "mutation"), 1.0, "the failed login answered with an error");
    assert_eq!(errors("accessLog", "query"), 1.0);
    assert_eq!(errors("searchFeedback", "query"), 0.0);
    let inf = rendered.value(
        "heard_graphql_request_seconds_bucket",
        &[("operation", "logFeedback"), ("kind", "mutation"), ("le", "+Inf")],
    );
    assert_eq!(inf, count("logFeedback", "mutation"), "+Inf holds every request");

    let route = |route| rendered.value("heard_http_request_seconds_count", &[("route", route)]);
    assert!(route("/graphql") >= 8.0);
    assert!(route("/login") >= 1.0);
    assert_eq!(route("/cases/{id}"), 1.0, "the template, not the path");
    assert!(!rendered.samples.iter().any(|sample| sample.labels.values().any(|value| value.contains(&id.to_string()))));

    assert!(rendered.value("heard_log_append_seconds_count", &[]) >= 5.0, "accounts, sessions, the item");
    let fsyncs = rendered.value("heard_log_fsync_seconds_count", &[]);
    assert!(fsyncs >= 1.0 && fsyncs == rendered.value("heard_log_commits_total", &[]), "one timing a commit");
    assert!(rendered.value("heard_search_seconds_count", &[]) >= 1.0);
    assert_eq!(rendered.value("heard_login_failures_total", &[("reason", "wrong_credentials")]), 1.0);
    assert_eq!(rendered.value("heard_login_failures_total", &[("reason", "waiting")]), 0.0);
    assert_eq!(rendered.value("heard_login_lockouts_total", &[]), 0.0);
    assert!(rendered.value("heard_access_log_events_total", &[]) >= 1.0);

    let models: BTreeSet<&str> =
        rendered.find("heard_projection_lag_events", &[]).map(|sample| sample.labels["model"].as_str()).collect();
    let expected = ["advocacy", "commissioning", "feedback", "feedback search", "identity", "privacy", "rights"];
    assert_eq!(models, expected.into_iter().collect(), "one series a model");
    let head = rendered.value("heard_log_head_position", &[]);
    assert!(rendered.find("heard_projection_lag_events", &[]).all(|lag| lag.value >= 0.0 && lag.value <= head));
}

#[tokio::test]
async fn a_thousand_bogus_operation_names_aliases_fields_and_paths_add_no_series_but_one_other() {
    let app = spawn_app().await;
    let url = app.url("/graphql");
    let client = app.client.clone();
    futures::stream::iter(0..1000)
        .map(|n| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                // Even: a real field under a made-up alias and operation name. Odd: a field the
                // schema does not have.
                let query = if n % 2 == 0 {
                    format!("query Bogus{n} {{ bogusAlias{n}: storeStats {{ events }} }}")
                } else {
                    format!("query Bogus{n} {{ bogusField{n} }}")
                };
                let body = json!({ "query": query, "operationName": format!("Bogus{n}") });
                let answer: Value = client.post(&url).json(&body).send().await.unwrap().json().await.unwrap();
                assert_eq!(answer["data"].is_object(), n % 2 == 0, "{answer}");
                let path = format!("/bogus-path-{n}/x");
                assert_eq!(client.get(url.replace("/graphql", &path)).send().await.unwrap().status(), 404);
            }
        })
        .buffer_unordered(16)
        .collect::<()>()
        .await;

    let rendered = metrics(&app).await;
    let series: BTreeMap<(String, String), f64> = rendered
        .find("heard_graphql_request_seconds_count", &[])
        .map(|sample| ((sample.labels["operation"].clone(), sample.labels["kind"].clone()), sample.value))
        .collect();
    let expected: BTreeMap<(String, String), f64> =
        [(("other".to_owned(), "query".to_owned()), 500.0), (("storeStats".to_owned(), "query".to_owned()), 500.0)]
            .into();
    assert_eq!(series, expected, "one series for the real field, one `other` for the rest");
    let routes: Vec<&str> =
        rendered.find("heard_http_request_seconds_count", &[]).map(|sample| sample.labels["route"].as_str()).collect();
    assert!(routes.contains(&"unmatched"), "{routes:?}");
    assert_eq!(rendered.value("heard_http_request_seconds_count", &[("route", "unmatched")]), 1000.0);
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(!text.to_lowercase().contains("bogus"), "no client text in a label");
    assert!(rendered.samples.len() < 400, "{} samples", rendered.samples.len());
}

#[tokio::test]
async fn with_a_token_metrics_answer_401_without_it_and_200_with_it() {
    let token = "prometheus-scrapes-with-this-0042";
    let app = spawn_app_with(|settings| settings.metrics.token = Some(token.into())).await;
    let url = app.url("/metrics");
    let without = app.client.get(&url).send().await.unwrap();
    assert_eq!(without.status(), 401);
    assert!(without.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert!(!without.text().await.unwrap().contains("heard_"), "nothing of the metrics");
    for wrong in ["prometheus-scrapes-with-this-0043", "prometheus-scrapes-with-this-004", ""] {
        assert_eq!(app.client.get(&url).bearer_auth(wrong).send().await.unwrap().status(), 401, "{wrong:?}");
    }
    let with = app.client.get(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(with.status(), 200);
    assert!(with.text().await.unwrap().contains("heard_log_head_position "));
    assert_eq!(app.get("/healthz").await.status(), 200, "nothing else needs it");
}

#[tokio::test]
async fn on_a_listener_of_their_own_metrics_answer_there_and_404_on_the_main_listener() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at = free.local_addr().unwrap();
    drop(free);
    let app = spawn_app_with(|settings| settings.metrics.listen = Some(at.to_string())).await;
    assert_eq!(app.get("/metrics").await.status(), 404, "not on the main listener");
    assert_eq!(app.get("/healthz").await.status(), 200);
    let there = app.client.get(format!("http://{at}/metrics")).send().await.unwrap();
    assert_eq!(there.status(), 200);
    assert!(there.headers().contains_key("x-request-id"));
    let rendered = Rendered::parse(&there.text().await.unwrap());
    assert!(rendered.value("heard_http_request_seconds_count", &[("route", "/metrics")]) >= 1.0);
    assert_eq!(app.client.get(format!("http://{at}/graphql")).send().await.unwrap().status(), 404, "/metrics only");
    assert_eq!(app.client.get(format!("http://{at}/healthz")).send().await.unwrap().status(), 404);
    app.shutdown().await;
    assert!(std::net::TcpStream::connect(at).is_err(), "the metrics listener closes with the server");
}

#[tokio::test]
async fn the_catalogue_lists_every_metric_heard_renders_with_its_type_and_nothing_more() {
    let app = spawn_app().await;
    let rendered = metrics(&app).await;
    let catalogue = catalogue();
    assert!(catalogue.len() >= 19, "{catalogue:?}");
    assert_eq!(rendered.families, catalogue, "docs/metrics.md and /metrics differ");
    // Every sample belongs to a catalogued family (a histogram's through its suffixes).
    for sample in &rendered.samples {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                sample
                    .name
                    .strip_suffix(suffix)
                    .filter(|base| catalogue.get(*base).is_some_and(|kind| kind == "histogram"))
            })
            .unwrap_or(&sample.name);
        assert!(catalogue.contains_key(family), "{} is not in the catalogue", sample.name);
    }
}

/// Every metric name a PromQL expression asks for.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = expr.as_bytes();
    let mut start = None;
    let mut in_quotes = false;
    for (at, byte) in bytes.iter().copied().chain([b' ']).enumerate() {
        if byte == b'"' {
            in_quotes = !in_quotes;
        }
        let word = byte.is_ascii_alphanumeric() || byte == b'_' || byte == b':';
        match (word && !in_quotes, start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                let token = &expr[from..at];
                let next = expr[at..].trim_start().chars().next();
                let selector = matches!(next, Some('{') | Some('['));
                let after_dollar = from > 0 && bytes[from - 1] == b'$';
                if token.starts_with("heard_") || (selector && !after_dollar) {
                    names.push(token.to_owned());
                }
                start = None;
            }
            _ => {}
        }
    }
    names
}

#[test]
fn the_grafana_dashboard_asks_only_for_catalogued_metrics_on_its_prometheus_variable() {
    let text = std::fs::read_to_string(workspace_root().join("ops/grafana/heard.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    assert!((36..=41).contains(&dashboard["schemaVersion"].as_u64().unwrap()), "schemaVersion");
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(
        variables
            .iter()
            .any(|v| v["name"] == "DS_PROMETHEUS" && v["type"] == "datasource" && v["query"] == "prometheus"),
        "a Prometheus data source variable"
    );
    let catalogue = catalogue();
    let mut exprs = Vec::new();
    fn walk(value: &Value, exprs: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("expr" | "definition", Value::String(expr)) => exprs.push(expr.clone()),
                        ("datasource", Value::Object(source)) => {
                            assert_eq!(source["uid"], "${DS_PROMETHEUS}", "every query uses the variable");
                        }
                        _ => walk(value, exprs),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, exprs)),
            _ => {}
        }
    }
    walk(&dashboard, &mut exprs);
    assert!(exprs.len() >= 20, "{exprs:?}");
    let mut used = BTreeSet::new();
    for expr in &exprs {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{expr} asks for no metric");
        for name in names {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    name.strip_suffix(suffix).filter(|base| catalogue.get(*base).is_some_and(|k| k == "histogram"))
                })
                .unwrap_or(&name)
                .to_owned();
            assert!(catalogue.contains_key(&family), "`{name}` in {expr} is not in docs/metrics.md");
            used.insert(family);
        }
    }
    for wanted in [
        "heard_graphql_request_seconds",
        "heard_graphql_errors_total",
        "heard_http_server_errors_total",
        "heard_log_append_seconds",
        "heard_log_fsync_seconds",
        "heard_projection_lag_events",
        "heard_search_seconds",
        "heard_login_failures_total",
        "heard_access_log_events_total",
        "heard_log_head_position",
    ] {
        assert!(used.contains(wanted), "the dashboard shows {wanted}");
    }
    assert_eq!(metric_names("rate(up[5m]) + heard_x_bucket{le=\"1\"}"), ["up", "heard_x_bucket"], "the parser");
}

/// Everything a child process writes to one of its pipes, collected as it comes.
fn collect(mut pipe: impl Read + Send + 'static) -> (Arc<Mutex<Vec<u8>>>, std::thread::JoinHandle<()>) {
    let collected = Arc::new(Mutex::new(Vec::new()));
    let into = collected.clone();
    let reader = std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buffer[..n]);
        }
    });
    (collected, reader)
}

/// Whether a JSON log line was written inside the span of request `id`.
fn in_request(line: &Value, id: &str) -> bool {
    line["span"]["request_id"] == id
        || line["spans"].as_array().is_some_and(|spans| spans.iter().any(|s| s["request_id"] == id))
}

#[tokio::test]
async fn every_request_gets_an_id_that_comes_back_and_is_on_each_of_its_json_log_lines() {
    const CANARY: &str = "Quillon Marchbanks";
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(heard_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .env_remove("RUST_LOG")
        .env("HEARD_LOG__FORMAT", "json")
        .env("HEARD_LOG__FILTER", "info,heard=debug,tower_http=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stderr, stderr_reader) = collect(server.stderr.take().unwrap());
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let base = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "serve printed no address");
        if let Some(rest) = line.split("http://").nth(1) {
            break format!("http://{}", rest.split('/').next().unwrap().trim());
        }
    };
    let (_, stdout_reader) = collect(stdout.into_inner());
    let client = reqwest::Client::new();

    let given = "e2e-request_0042";
    let answered = client.get(format!("{base}/healthz")).header("x-request-id", given).send().await.unwrap();
    assert_eq!(answered.headers()["x-request-id"], given, "a well-formed id is kept");
    let mut made = Vec::new();
    for bad in ["has spaces in it", &"a".repeat(65), "semi;colon"] {
        let answered = client
            .post(format!("{base}/graphql"))
            .header("x-request-id", bad)
            .header("x-note", CANARY)
            .json(&json!({ "query": "query($who: String!) { searchFeedback(query: $who) { total } }", "variables": { "who": CANARY } }))
            .send()
            .await
            .unwrap();
        let id = answered.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{bad:?} is replaced by a UUID, not {id}");
        made.push(id);
    }
    let unasked = client.get(format!("{base}/login")).send().await.unwrap();
    made.push(unasked.headers()["x-request-id"].to_str().unwrap().to_owned());
    assert_eq!(made.iter().collect::<BTreeSet<_>>().len(), made.len(), "each request its own");

    let terminated = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(terminated.success());
    assert!(server.wait().unwrap().success(), "serve stops cleanly");
    stderr_reader.join().unwrap();
    stdout_reader.join().unwrap();
    let log = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("a log line that is not JSON: {line}")))
        .collect();
    for id in [given.to_owned()].iter().chain(&made) {
        let mentioning: Vec<&str> = log.lines().filter(|line| line.contains(id.as_str())).collect();
        let carrying = lines.iter().filter(|line| in_request(line, id)).count();
        assert!(carrying >= 2, "{id}: the request's start and end carry it: {mentioning:#?}");
        assert_eq!(carrying, mentioning.len(), "{id}: it appears only as the request's id");
    }
    for secret in ["Quillon", "Marchbanks", "searchFeedback", "x-note"] {
        let found: Vec<&str> = log.lines().filter(|line| line.contains(secret)).take(3).collect();
        assert!(found.is_empty(), "`{secret}` reached the log: {found:#?}");
    }
}
