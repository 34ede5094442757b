//! The administrators' access log, attacked. Its pages are cut from the model's marks and read
//! from the log: paging never skips or repeats an entry, a cursor the list never gave out is
//! refused naming the field (or, if it is only too large, gives an empty page), and nobody but
//! an administrator reads it.

use heard_tests::{error_code, staff};
use serde_json::{Value, json};

const LOG: &str = "query($a: ID, $after: String, $first: Int) { accessLog(actorId: $a, after: $after, first: $first) { \
     pageInfo { hasNextPage endCursor } edges { node { position action allowed actorId } } } }";

fn positions(page: &Value) -> Vec<u64> {
    let edges = page["data"]["accessLog"]["edges"].as_array().unwrap_or_else(|| panic!("a page: {page}"));
    edges.iter().map(|edge| edge["node"]["position"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn the_access_log_pages_without_a_gap_refuses_made_up_cursors_naming_the_field_and_is_for_administrators_only() {
    let staff = staff().await;
    let app = &staff.app;
    // Five refusals by a hub member, each on the log (the member's own entries do not grow
    // while the administrator pages through them).
    let nosy = [&staff.member, &staff.coordinator, &staff.handler, &staff.commissioner, &staff.advocate];
    for session in nosy {
        let refused = session.graphql(LOG, json!({})).await;
        assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");
        assert!(refused["data"].is_null() || refused["data"]["accessLog"].is_null(), "{refused}");
    }
    for _ in 0..4 {
        staff.member.graphql(LOG, json!({})).await;
    }
    let anonymous = app.graphql(LOG, json!({})).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"), "{anonymous}");
    app.settled().await;

    let member = staff.member.graphql("{ me { id } }", json!({})).await["data"]["me"]["id"].clone();
    let whole = staff.admin.graphql(LOG, json!({ "a": member, "first": 100 })).await;
    let all = positions(&whole);
    assert_eq!(all.len(), 5, "the member's five refusals: {whole}");
    assert!(all.windows(2).all(|pair| pair[0] > pair[1]), "newest first: {all:?}");
    for edge in whole["data"]["accessLog"]["edges"].as_array().unwrap() {
        assert_eq!(edge["node"]["action"], "view_access_log");
        assert_eq!(edge["node"]["allowed"], false);
        assert_eq!(edge["node"]["actorId"], member);
    }
    // Two at a time: the same entries, in the same order, none twice.
    let mut paged = Vec::new();
    let mut after = Value::Null;
    for _ in 0..10 {
        let page = staff.admin.graphql(LOG, json!({ "a": member, "first": 2, "after": after })).await;
        paged.extend(positions(&page));
        let info = &page["data"]["accessLog"]["pageInfo"];
        if info["hasNextPage"] != json!(true) {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(paged, all, "paging two at a time");

    // Cursors it never gave out.
    let largest = format!("o:{}", u64::MAX);
    let past = staff.admin.graphql(LOG, json!({ "a": member, "after": largest })).await;
    assert!(positions(&past).is_empty(), "past the end is an empty page, not the first: {past}");
    for hostile in ["o:-1", "o:18446744073709551616", "x", "'; DROP TABLE access; --", ""] {
        let refused = staff.admin.graphql(LOG, json!({ "a": member, "after": hostile })).await;
        assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{hostile:?}: {refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], "after", "{hostile:?}: {refused}");
        assert!(!refused.to_string().contains("DROP"), "what was typed is not repeated: {refused}");
    }
    for (variables, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "first": -1 }), "first"),
        (json!({ "a": "not an id" }), "actorId"),
    ] {
        let refused = staff.admin.graphql(LOG, variables.clone()).await;
        assert_eq!(error_code(&refused), Some("BAD_USER_INPUT"), "{variables}: {refused}");
        assert_eq!(refused["errors"][0]["extensions"]["field"], field, "{variables}: {refused}");
    }
}
