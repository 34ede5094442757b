//! Importing the spreadsheets hubs really keep, from the web, while Heard runs. A hub's
//! coordinator goes through it one step a page, each a plain form that works without
//! JavaScript:
//!
//! - `upload`: `GET /import`, "Import a spreadsheet": the hub (only those they coordinate,
//!   none chosen in advance when there are several), the file (.xlsx, .ods or .csv, up to
//!   5 MB), the sheet if not the first, and which columns Heard reads. `POST /import` is a
//!   `multipart/form-data` form whose CSRF token travels as a field like every form's; it runs
//!   `uploadImport`, which reads the file and writes nothing, and leads to the preview.
//! - `preview`: `GET /import/{id}`: how many rows will be imported, the columns recognised and
//!   those not imported, every row that needs fixing with its row, column and what is wrong;
//!   the coordinator says which column is which (`POST /import/{id}/columns`) or which sheet
//!   to read (`POST /import/{id}/sheet`), both `reviseImport`, downloads the rows that need
//!   fixing (`GET /import/{id}/rejects.csv`), or cancels (`POST /import/{id}/cancel`).
//! - `progress`: `POST /import/{id}/start` (`startImport`, all rows or the good ones) and
//!   `GET /import/{id}/progress`: how far it has got, a "Check progress" link, and
//!   `/assets/import.js`, which checks again every 2 seconds while it runs and says what changed
//!   in a polite live region. Imported items join the hub's feedback like any other (those shared beyond the hub wait in
//!   the moderation queue).
//!
//! A draft and its job belong to the account that uploaded the file: to anyone else its pages
//! are "Page not found", exactly like an id that does not exist. Nothing here repeats a cell of
//! the file in a log; the page shows the coordinator their own file's headings and row numbers.

mod preview;
mod progress;
mod upload;

use axum::extract::DefaultBodyLimit;
use axum::response::Response;
use heard_access::{Action, Resource};
use heard_api::Viewer;
use serde::Deserialize;
use serde_json::json;

use crate::Backend;
use crate::backend::ask;
use crate::extract::Visitor;

/// Where the upload form posts: the one route whose body may be larger than the server's
/// general limit (the gateway's edge lets [`UPLOAD_BODY_BYTES`] through for it alone).
pub const UPLOAD_PATH: &str = "/import";

/// The largest file Heard imports, as the feedback service refuses it (`MAX_FILE_BYTES`).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// The largest upload form accepted: the file and room for the other fields and the
/// multipart framing.
pub const UPLOAD_BODY_BYTES: usize = MAX_FILE_BYTES + 64 * 1024;

/// The columns Heard reads, as GraphQL names them, with their words for the page.
const COLUMNS: [(&str, &str); 7] = [
    ("DATE", "Date"),
    ("CHANNEL", "Channel"),
    ("ABOUT", "About"),
    ("TEXT", "Text"),
    ("THEMES", "Themes"),
    ("SPEAKER", "Speaker"),
    ("CONSENT", "Consent"),
];

/// A column's words ("Date"), or the value as it came.
fn column_words(column: &str) -> String {
    crate::forms::words(&COLUMNS, column)
}

/// What GraphQL says of a draft: `importPreview`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Preview {
    draft_id: String,
    hub: String,
    hub_name: String,
    file_name: String,
    kind: String,
    sheets: Vec<String>,
    sheet: Option<String>,
    notices: Vec<String>,
    problem: Option<String>,
    columns: Vec<ColumnUse>,
    missing: Vec<String>,
    rows: u64,
    ready_rows: u64,
    already_there: u64,
    rows_to_fix: u64,
    errors: Vec<RowError>,
}

const PREVIEW_FIELDS: &str = "draftId hub hubName fileName kind sheets sheet notices problem \
     columns { heading use chosen } missing rows readyRows alreadyThere rowsToFix \
     errors { row column message }";

/// One column of the header row and what Heard does with it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
struct ColumnUse {
    heading: String,
    /// `None`: not imported.
    #[serde(rename = "use")]
    used_as: Option<String>,
    chosen: bool,
}

/// What is wrong with one cell (or a whole row).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct RowError {
    row: u64,
    column: String,
    message: String,
}

/// What GraphQL says of an import under way or done: `importJob`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Job {
    id: String,
    hub_name: String,
    file_name: String,
    state: String,
    total: u64,
    done: u64,
    imported: u64,
    already_there: u64,
    rows_to_fix: u64,
    message: Option<String>,
}

const JOB_FIELDS: &str = "id hub hubName fileName state total done imported alreadyThere rowsToFix message";

/// An id as it may stand in an address and an element id: letters, digits and `-` only (Heard
/// gives out UUIDs); anything else is no draft at all.
fn plain_id(id: &str) -> Option<&str> {
    let plain = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    plain.then_some(id)
}

/// The draft `id` as the person may see it: `None` when it is not theirs, has gone, or never was.
async fn preview<B: Backend>(backend: &B, viewer: &Viewer, id: &str) -> Option<Preview> {
    let id = plain_id(id)?;
    let query = format!("query($id: ID!) {{ importPreview(draftId: $id) {{ {PREVIEW_FIELDS} }} }}");
    ask(backend, viewer, &query, json!({ "id": id })).await.decode::<Preview>("importPreview")
}

/// The import `id` as the person may see it: `None` when it is not theirs or not started.
async fn job<B: Backend>(backend: &B, viewer: &Viewer, id: &str) -> Option<Job> {
    let id = plain_id(id)?;
    let query = format!("query($id: ID!) {{ importJob(id: $id) {{ {JOB_FIELDS} }} }}");
    ask(backend, viewer, &query, json!({ "id": id })).await.decode::<Job>("importJob")
}

/// The hubs the person may import into (the policy decides), as (id, name), by name.
async fn importable_hubs<B: Backend>(backend: &B, viewer: &Viewer) -> Vec<(String, String)> {
    let me: crate::waiting::Me =
        ask(backend, viewer, "{ me { hubs { id name } } }", json!({})).await.decode("me").unwrap_or_default();
    let mut hubs: Vec<(String, String)> = me
        .hubs
        .into_iter()
        .filter(|hub| {
            heard_access::may(&viewer.actor, Action::ImportFeedback, &Resource::Hub { hub: hub.id.clone() })
                .is_allowed()
        })
        .map(|hub| (hub.id, hub.name))
        .collect();
    hubs.sort_by(|a, b| a.1.cmp(&b.1));
    hubs
}

/// The site's "Page not found", for a draft or an import that is not the person's.
async fn not_found(viewer: Viewer, csrf: String) -> Response {
    crate::pages::not_found(Visitor { viewer, csrf: Some(csrf) }).await
}

/// "1 row", "12 rows".
fn rows(count: u64) -> String {
    if count == 1 { "1 row".to_owned() } else { format!("{count} rows") }
}

/// "1 row needs fixing", "2 rows need fixing".
fn rows_need_fixing(count: u64) -> String {
    if count == 1 { "1 row needs fixing".to_owned() } else { format!("{count} rows need fixing") }
}

/// The link to the rows that need fixing: "Download the 2 rows that need fixing (CSV)".
fn rejects_link_words(count: u64) -> String {
    if count == 1 {
        "Download the 1 row that needs fixing (CSV)".to_owned()
    } else {
        format!("Download the {count} rows that need fixing (CSV)")
    }
}

/// "1 item", "12 items".
fn items(count: u64) -> String {
    if count == 1 { "1 item".to_owned() } else { format!("{count} items") }
}

/// This area's routes. Only the upload form may send a body as large as a file.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            UPLOAD_PATH,
            get(upload::form::<B>).post(upload::upload::<B>).layer(DefaultBodyLimit::max(UPLOAD_BODY_BYTES)),
        )
        .route("/import/{id}", get(preview::show::<B>))
        .route("/import/{id}/columns", post(preview::columns::<B>))
        .route("/import/{id}/sheet", post(preview::sheet::<B>))
        .route("/import/{id}/cancel", post(preview::cancel::<B>))
        .route("/import/{id}/rejects.csv", get(preview::rejects::<B>))
        .route("/import/{id}/start", post(progress::start::<B>))
        .route("/import/{id}/progress", get(progress::show::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_id_of_letters_digits_and_dashes_is_asked_about() {
        assert_eq!(plain_id("0b7c6f0e-8a1d-4c1e-9a52-3f3c1b2d4e5f"), Some("0b7c6f0e-8a1d-4c1e-9a52-3f3c1b2d4e5f"));
        for odd in ["", "../admin", "a b", "x\"onclick", &"a".repeat(65)] {
            assert_eq!(plain_id(odd), None, "{odd}");
        }
    }

    #[test]
    fn counts_and_columns_read_as_people_say_them() {
        assert_eq!((rows(1), rows(480)), ("1 row".to_owned(), "480 rows".to_owned()));
        assert_eq!((items(1), items(0)), ("1 item".to_owned(), "0 items".to_owned()));
        assert_eq!(column_words("CONSENT"), "Consent");
        assert_eq!(rows_need_fixing(1), "1 row needs fixing");
        assert_eq!(rejects_link_words(2), "Download the 2 rows that need fixing (CSV)");
        assert_eq!(rejects_link_words(1), "Download the 1 row that needs fixing (CSV)");
    }
}
