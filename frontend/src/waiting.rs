//! What waits for the person, counted for their home page: items to moderate for a hub
//! coordinator (per hub) and the disclosures of risk with them, open cases for an advocate,
//! open and overdue complaints for the complaints team, shared feedback not yet acknowledged
//! for a commissioner. A count of none says so ("No open cases"): that too is worth knowing.
//! Each count is a link to the page where the work is.
//!
//! Every count is read through the same GraphQL the page it links to reads, as the person
//! looking, so it counts only what the policy lets them see there. A list is read a page at a
//! time ([`heard_api`]'s `MAX_PAGE`, 100): past that the count says "100 or more".
//!
//! The open disclosures are also counted for the header's menu on every page
//! ("Safeguarding (2 open)", the same words on screen and to a screen reader):
//! [`count_for_menu`], a layer of the router, counts them once a request and keeps the count
//! for that request in a task-local, so the page shell reads it ([`beside`]) without any page
//! passing it along.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use heard_access::Action;
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::ask;
use crate::kit::{may, urlencode};

/// The most of a list one request reads, as the API allows.
const PAGE: usize = 100;

/// `No items to moderate`, `1 item to moderate`, `3 items to moderate`, `100 or more items
/// to moderate`.
fn counted(count: usize, more: bool, one: &str, many: &str) -> String {
    match (count, more) {
        (_, true) => format!("{count} or more {many}"),
        (0, false) => format!("No {many}"),
        (1, false) => format!("1 {one}"),
        (n, false) => format!("{n} {many}"),
    }
}

/// A connection as the counts read it: its nodes, and whether there are more.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    #[serde(default = "Vec::new")]
    edges: Vec<Edge<T>>,
    #[serde(default)]
    page_info: PageInfo,
}

#[derive(Debug, Deserialize)]
struct Edge<T> {
    node: T,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
}

impl<T> Page<T> {
    fn count(&self, keep: impl Fn(&T) -> bool) -> (usize, bool) {
        (self.edges.iter().filter(|edge| keep(&edge.node)).count(), self.page_info.has_next_page)
    }
}

/// A hub of the person looking, as `me { hubs { id name } }` answers.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Hub {
    pub id: String,
    pub name: String,
}

/// The person looking's hubs (`me { hubs { id name } }`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Me {
    pub hubs: Vec<Hub>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Case {
    state: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Complaint {
    clock: Option<Clock>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Clock {
    overdue: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Total {
    total: usize,
}

/// One line of what waits: the words and the page they link to.
type Waiting = (String, String);

/// Items waiting for moderation in each of the coordinator's hubs (the queue's own query).
async fn to_moderate<B: Backend>(backend: &B, viewer: &Viewer) -> Vec<Waiting> {
    let me = ask(backend, viewer, "{ me { hubs { id name } } }", json!({})).await;
    let hubs = me.decode::<Me>("me").unwrap_or_default().hubs;
    if hubs.is_empty() {
        return Vec::new();
    }
    // One request, one aliased queue per hub, each hub's id a variable.
    let declared: Vec<String> = (0..hubs.len()).map(|n| format!("$h{n}: ID!")).collect();
    let queues: Vec<String> = (0..hubs.len())
        .map(|n| format!("q{n}: moderationQueue(hub: $h{n}, first: {PAGE}) {{ edges {{ node {{ id }} }} pageInfo {{ hasNextPage }} }}"))
        .collect();
    let query = format!("query({}) {{ {} }}", declared.join(", "), queues.join(" "));
    let variables: serde_json::Map<String, Value> =
        hubs.iter().enumerate().map(|(n, hub)| (format!("h{n}"), Value::String(hub.id.clone()))).collect();
    let answer = ask(backend, viewer, &query, Value::Object(variables)).await;
    let several = hubs.len() > 1;
    hubs.iter()
        .enumerate()
        .filter_map(|(n, hub)| {
            let (count, more) = answer.decode::<Page<Value>>(&format!("q{n}"))?.count(|_| true);
            let mut words = counted(count, more, "item to moderate", "items to moderate");
            if several {
                words = format!("{words} at {}", hub.name);
            }
            Some((words, format!("/moderation?hub={}", urlencode(&hub.id))))
        })
        .collect()
}

/// The advocate's open cases: referred, accepted or active (the list's own query).
async fn open_cases<B: Backend>(backend: &B, viewer: &Viewer) -> Vec<Waiting> {
    let query = format!("{{ cases(first: {PAGE}) {{ edges {{ node {{ state }} }} pageInfo {{ hasNextPage }} }} }}");
    let answer = ask(backend, viewer, &query, json!({})).await;
    let Some(cases) = answer.decode::<Page<Case>>("cases") else { return Vec::new() };
    let (count, more) = cases.count(|case| matches!(case.state.as_str(), "REFERRED" | "ACCEPTED" | "ACTIVE"));
    vec![(counted(count, more, "open case", "open cases"), "/cases".to_owned())]
}

/// Open complaints, and how many of them are overdue (the queue's own query).
async fn open_complaints<B: Backend>(backend: &B, viewer: &Viewer) -> Vec<Waiting> {
    let query = format!(
        "{{ complaints(open: true, first: {PAGE}) {{ edges {{ node {{ clock {{ overdue }} }} }} pageInfo {{ hasNextPage }} }} }}"
    );
    let answer = ask(backend, viewer, &query, json!({})).await;
    let Some(complaints) = answer.decode::<Page<Complaint>>("complaints") else { return Vec::new() };
    let (open, more) = complaints.count(|_| true);
    let (overdue, _) = complaints.count(|complaint| complaint.clock.as_ref().is_some_and(|clock| clock.overdue));
    vec![
        (counted(open, more, "open complaint", "open complaints"), "/complaints".to_owned()),
        (counted(overdue, more && overdue > 0, "overdue complaint", "overdue complaints"), "/complaints".to_owned()),
    ]
}

/// Shared feedback not acknowledged yet (the count on the shared page's own tab).
async fn to_acknowledge<B: Backend>(backend: &B, viewer: &Viewer) -> Vec<Waiting> {
    let query = "{ searchFeedback(filter: { loopState: SHARED }, first: 1) { total } }";
    let answer = ask(backend, viewer, query, json!({})).await;
    let Some(waiting) = answer.decode::<Total>("searchFeedback") else { return Vec::new() };
    let words = counted(waiting.total, false, "shared item to acknowledge", "shared items to acknowledge");
    vec![(words, "/shared".to_owned())]
}

/// How many disclosures of risk are open with the coordinator (a number only: counting them
/// reads none, so no read lands on the access log with every page).
async fn disclosures_open<B: Backend>(backend: &B, viewer: &Viewer) -> Option<usize> {
    let answer = ask(backend, viewer, "{ safeguardingOpenCount }", json!({})).await;
    answer.decode::<usize>("safeguardingOpenCount")
}

async fn to_follow_up<B: Backend>(backend: &B, viewer: &Viewer) -> Vec<Waiting> {
    let Some(open) = disclosures_open(backend, viewer).await else { return Vec::new() };
    let words = counted(open, false, "disclosure of risk to follow up", "disclosures of risk to follow up");
    vec![(words, "/safeguarding".to_owned())]
}

/// The router's layer that counts, before the page is made, the disclosures open with a
/// coordinator, for the menu to show. Only for those the policy gives the safeguarding page.
pub async fn count_for_menu<B: Backend>(State(backend): State<B>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/assets/") {
        return next.run(request).await;
    }
    let viewer = backend.viewer(request.headers());
    if viewer.must_change_password || !may(&viewer, Action::FollowUpSafeguarding) {
        return next.run(request).await;
    }
    let open = disclosures_open(&backend, &viewer).await.unwrap_or(0);
    crate::layout::with_open_disclosures(open, next.run(request)).await
}

/// The "Waiting for you" part of a signed-in person's home page: a link for each kind of work
/// their roles give them, with its count. Nothing for someone whose roles have none.
pub(crate) async fn for_you<B: Backend>(backend: &B, viewer: &Viewer) -> Markup {
    let mut waiting = Vec::new();
    if may(viewer, Action::ViewQueue) {
        waiting.extend(to_moderate(backend, viewer).await);
    }
    if may(viewer, Action::FollowUpSafeguarding) {
        waiting.extend(to_follow_up(backend, viewer).await);
    }
    if may(viewer, Action::ReferCase) {
        waiting.extend(open_cases(backend, viewer).await);
    }
    if may(viewer, Action::HandleComplaint) {
        waiting.extend(open_complaints(backend, viewer).await);
    }
    if may(viewer, Action::RecordDecision) {
        waiting.extend(to_acknowledge(backend, viewer).await);
    }
    html! {
        @if !waiting.is_empty() {
            section class="waiting" aria-labelledby="waiting-title" {
                h2 id="waiting-title" { "Waiting for you" }
                ul class="link-list" {
                    @for (words, href) in &waiting {
                        li { a href=(href) { (words) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_say_1_item_and_2_items_and_or_more_past_a_page() {
        assert_eq!(counted(1, false, "item to moderate", "items to moderate"), "1 item to moderate");
        assert_eq!(counted(2, false, "item to moderate", "items to moderate"), "2 items to moderate");
        assert_eq!(counted(0, false, "open case", "open cases"), "No open cases");
        assert_eq!(counted(100, true, "open case", "open cases"), "100 or more open cases");
    }
}
