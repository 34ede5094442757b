//! Limits at the edge: a huge body is refused before it is read, a client that trickles its
//! request is cut off, connections are capped, every alias and `__typename` counts, and a bad
//! body or number gets a plain answer that names what was wrong.

use std::time::Duration;

use heard_tests::{TestApp, error_code, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Everything the server sends until it closes the connection (or `within` passes: then the
/// connection was still open, which is the failure these tests look for).
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| String::from_utf8_lossy(&received).into_owned())
}

/// A POST to `path` that declares a body of `length` bytes of `content_type` and sends only
/// its first bytes, `start`; what the server sends before it closes (within `within`).
async fn post_only_the_start(
    app: &TestApp,
    path: &str,
    content_type: &str,
    length: usize,
    start: &[u8],
    within: Duration,
) -> Option<String> {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(start).await.unwrap();
    read_until_closed(&mut stream, within).await
}

#[tokio::test]
async fn a_fifty_megabyte_body_is_refused_with_413_before_it_is_read() {
    let app = spawn_app().await;
    let length = 50 * 1024 * 1024;
    let answer =
        post_only_the_start(&app, "/graphql", "application/json", length, b"{\"query\": \"", Duration::from_secs(10))
            .await
            .expect("answered without the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn a_form_larger_than_the_limit_is_refused_too() {
    let app = spawn_app().await;
    let form = "application/x-www-form-urlencoded";
    let answer = post_only_the_start(&app, "/login", form, 2 * 1024 * 1024, b"email=", Duration::from_secs(10))
        .await
        .expect("answered without the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_cut_off() {
    let app = spawn_app_with(|settings| settings.http.header_read_timeout = "1s".into()).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(b"POST /graphql HTTP/1.1\r\nHost: heard\r\n").await.unwrap();
    let closed = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert!(closed.is_some(), "the connection was still open long after the header timeout");
}

#[tokio::test]
async fn a_request_whose_body_never_finishes_is_answered_408() {
    let app = spawn_app_with(|settings| settings.http.request_timeout = "1s".into()).await;
    let answer =
        post_only_the_start(&app, "/graphql", "application/json", 100, b"{\"query\":", Duration::from_secs(20))
            .await
            .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_as_they_arrive() {
    let app = spawn_app_with(|settings| settings.http.max_connections = 2).await;
    // Two kept-alive connections, each answered once, so the server holds both places.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: heard\r\n\r\n").await.unwrap();
        let mut buffer = [0u8; 1024];
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"), "a held connection is served");
        held.push(stream);
    }
    let mut third = TcpStream::connect(app.addr).await.unwrap();
    let _ = third.write_all(b"GET /healthz HTTP/1.1\r\nHost: heard\r\n\r\n").await;
    let answer = read_until_closed(&mut third, Duration::from_secs(10)).await.expect("closed at once");
    assert!(!answer.contains("200 OK"), "a third connection was served: {answer}");
    drop(held);
    // The server notices the closes on its own time: ask again until it answers (each try is
    // a fresh connection, refused until a place is free), for ten seconds at most.
    let served = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let client = reqwest::Client::new();
            if let Ok(response) = client.get(app.url("/healthz")).send().await
                && response.status() == 200
            {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(served.is_ok(), "places free up when connections close");
}

async fn post_json(app: &TestApp, body: &Value) -> (u16, Value) {
    let response = app.client.post(app.url("/graphql")).json(body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn twenty_thousand_typename_aliases_are_refused_by_the_complexity_limit() {
    let app = spawn_app().await;
    let fields: Vec<String> = (0..20_000).map(|i| format!("a{i}: __typename")).collect();
    let (_, answered) = post_json(&app, &json!({ "query": format!("{{ {} }}", fields.join(" ")) })).await;
    assert_eq!(error_code(&answered), Some("BAD_USER_INPUT"), "{}", &answered.to_string()[..200]);
    assert!(answered["data"].is_null());
    let fragments = "query { ...F ...F ...F ...F ...F ...F ...F ...F ...F ...F } fragment F on QueryRoot { ...G ...G ...G ...G ...G ...G ...G ...G ...G ...G } fragment G on QueryRoot { a: __typename b: __typename c: __typename d: __typename e: __typename f: __typename g: __typename h: __typename i: __typename j: __typename k: __typename }";
    let (_, answered) = post_json(&app, &json!({ "query": fragments })).await;
    assert_eq!(error_code(&answered), Some("BAD_USER_INPUT"), "fragments are counted each time they are spread");
}

#[tokio::test]
async fn a_malformed_body_gets_a_plain_bad_user_input_answer() {
    let app = spawn_app().await;
    for body in ["{\"query\": ", "[1, 2", "\"just a string\"", "{\"variables\": {}}", "\u{0}\u{1}"] {
        let response = app.post_body("/graphql", "application/json", body).send().await.unwrap();
        assert_eq!(response.status(), 400, "{body:?}");
        let answer: Value = response.json().await.expect("the answer is JSON");
        assert_eq!(error_code(&answer), Some("BAD_USER_INPUT"), "{body:?}: {answer}");
        let message = answer["errors"][0]["message"].as_str().unwrap();
        for debug in ["Error(", "line 1", "column", "Os {", "kind:"] {
            assert!(!message.contains(debug), "{body:?} answered Rust debug text: {message}");
        }
    }
}

#[tokio::test]
async fn a_number_out_of_range_names_its_field() {
    let app = spawn_app().await;
    let (_, inline) =
        post_json(&app, &json!({ "query": "{ hubs(first: 99999999999) { edges { node { id } } } }" })).await;
    assert_eq!(error_code(&inline), Some("BAD_USER_INPUT"), "{inline}");
    assert_eq!(inline["errors"][0]["extensions"]["field"], "first", "{inline}");
    let (_, variable) = post_json(
        &app,
        &json!({ "query": "query($n: Int) { hubs(first: $n) { edges { node { id } } } }", "variables": { "n": 1e12 } }),
    )
    .await;
    assert_eq!(error_code(&variable), Some("BAD_USER_INPUT"), "{variable}");
    let field = variable["errors"][0]["extensions"]["field"].as_str();
    assert!(matches!(field, Some("first" | "n" | "$n")), "the argument or its variable is named: {variable}");
}

/// The introspection query GraphiQL 4.1.2 sends (copied from its vendored bundle), which nests
/// `ofType` nine deep: the limits must leave room for it, or GraphiQL shows no docs.
const GRAPHIQL_INTROSPECTION: &str = include_str!("graphiql-introspection.graphql");

#[tokio::test]
async fn the_introspection_query_graphiql_sends_fits_within_the_limits() {
    let app = spawn_app().await;
    let (status, answered) = post_json(&app, &json!({ "query": GRAPHIQL_INTROSPECTION })).await;
    assert_eq!(status, 200);
    assert!(answered["errors"].is_null(), "{}", &answered.to_string()[..answered.to_string().len().min(400)]);
    let types = answered["data"]["__schema"]["types"].as_array().expect("the schema's types");
    assert!(types.iter().any(|t| t["name"] == "FeedbackItem"), "the docs can show Heard's types");
}
