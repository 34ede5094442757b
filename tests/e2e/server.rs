//! The server over real HTTP: health, readiness, metrics, GraphQL and its subscriptions.

use futures::{SinkExt, StreamExt};
use heard_eventstore::{ExpectedRevision, NewEvent, StreamName};
use heard_tests::spawn_app;
use serde_json::json;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.shutdown().await;
}

#[tokio::test]
async fn graphql_reports_event_count_head_and_chain_head() {
    let app = spawn_app().await;
    // A new store already holds the seeded hubs and providers.
    let seeded = app.store.head().position;
    let empty = app.graphql("{ storeStats { events headPosition chainHead } }", json!({})).await;
    assert_eq!(empty["data"]["storeStats"]["events"], seeded, "{empty}");
    let stream = StreamName::new("demo-1").unwrap();
    for i in 0..3 {
        let event = NewEvent::new("DemoHappened", 1, &json!({ "i": i })).unwrap();
        app.store.append(&stream, ExpectedRevision::Any, vec![event]).await.unwrap();
    }
    let stats = app.graphql("{ storeStats { events headPosition chainHead } }", json!({})).await;
    assert_eq!(stats["data"]["storeStats"]["events"], seeded + 3);
    assert_eq!(stats["data"]["storeStats"]["headPosition"], seeded + 3);
    assert_eq!(stats["data"]["storeStats"]["chainHead"], hex_of(app.store.head().hash));
    app.shutdown().await;
}

fn hex_of(bytes: [u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn graphiql_is_served_to_a_browser_at_slash_graphql() {
    let app = spawn_app().await;
    let page = app.get("/graphql").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("graphiql"));
    app.shutdown().await;
}

#[tokio::test]
async fn a_malformed_graphql_query_gets_an_error_not_a_crash() {
    let app = spawn_app().await;
    let response = app.graphql("{ storeStats { nosuchfield } }", json!({})).await;
    assert!(response["errors"][0]["message"].as_str().unwrap().contains("nosuchfield"), "{response}");
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.shutdown().await;
}

#[tokio::test]
async fn metrics_are_in_prometheus_format_and_count_appends() {
    let app = spawn_app().await;
    let seeded = app.store.head().position;
    let stream = StreamName::new("demo-1").unwrap();
    app.store
        .append(&stream, ExpectedRevision::Any, vec![NewEvent::new("DemoHappened", 1, &json!({})).unwrap()])
        .await
        .unwrap();
    let metrics = app.get("/metrics").await;
    assert!(metrics.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = metrics.text().await.unwrap();
    assert!(text.contains("# TYPE heard_log_head_position gauge"), "{text}");
    assert!(text.contains(&format!("heard_log_head_position {}", seeded + 1)), "{text}");
    assert!(text.contains(&format!("heard_log_events_appended_total {}", seeded + 1)), "{text}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_websocket_subscription_sees_the_log_grow() {
    let app = spawn_app().await;
    let seeded = app.store.head().position;
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("the websocket connects");
    socket.send(Message::text(json!({ "type": "connection_init" }).to_string())).await.unwrap();
    let ack = next_json(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack");
    let subscribe =
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { storeStats { events } }" } });
    socket.send(Message::text(subscribe.to_string())).await.unwrap();
    let first = next_json(&mut socket).await;
    assert_eq!(first["payload"]["data"]["storeStats"]["events"], seeded, "{first}");
    let stream = StreamName::new("demo-1").unwrap();
    app.store
        .append(&stream, ExpectedRevision::Any, vec![NewEvent::new("DemoHappened", 1, &json!({})).unwrap()])
        .await
        .unwrap();
    let second = next_json(&mut socket).await;
    assert_eq!(second["payload"]["data"]["storeStats"]["events"], seeded + 1, "{second}");
    drop(socket);
    app.shutdown().await;
}

async fn next_json<S>(socket: &mut S) -> serde_json::Value
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket stays open")
            .expect("a valid frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn a_websocket_subscriber_authenticates_with_a_bearer_token_in_connection_init() {
    let app = spawn_app().await;
    let account = app.create_user("sam@example.org", &[heard_access::Role::Commissioner], &[]).await;
    let token = app.token_for(account).await;
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("the websocket connects");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    // Subscriptions run with the token's account: `me` is not a subscription, but the
    // operation is executed as that viewer, so a query over the socket shows who it is.
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { email } }" } });
    socket.send(Message::text(subscribe.to_string())).await.unwrap();
    let answer = next_json(&mut socket).await;
    assert_eq!(answer["payload"]["data"]["me"]["email"], "sam@example.org", "{answer}");
    drop(socket);
    app.shutdown().await;
}

#[tokio::test]
async fn a_websocket_with_a_revoked_or_made_up_token_is_refused() {
    let app = spawn_app().await;
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("the websocket connects");
    let init = json!({ "type": "connection_init", "payload": { "authorization": "Bearer heard_madeup" } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    let answer = socket.next().await;
    let refused = match &answer {
        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => true,
        Some(Ok(message)) => !message.to_string().contains("connection_ack"),
    };
    assert!(refused, "the socket was accepted: {answer:?}");
    app.shutdown().await;
}
