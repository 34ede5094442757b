//! `POST /import/{id}/start` and `GET /import/{id}/progress`: the import runs in the background
//! and its page says how far it has got. Without JavaScript, "Check progress" loads the page
//! again (no meta refresh: nothing moves on its own that the person did not ask for); with it,
//! `/assets/import.js` checks every 2 seconds while it runs and updates the page, saying what
//! changed in a polite live region.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::{Job, items, job, not_found, preview, rejects_link_words, rows};
use crate::Backend;
use crate::backend::ask;
use crate::extract::{HubImporters, PostedFormAs, SignedInAs};
use crate::flash::{self, Flash};
use crate::kit::{no_store, plain, see_other, urlencode};
use crate::layout::page;

/// The page's title and heading for the job's state.
fn title(job: &Job) -> &'static str {
    match job.state.as_str() {
        "FINISHED" => "The spreadsheet is imported",
        "FAILED" => "The import stopped",
        _ => "Importing the spreadsheet",
    }
}

/// What the live region says.
fn status_words(job: &Job) -> String {
    match job.state.as_str() {
        "FINISHED" => {
            let added = if job.imported == 1 {
                "1 item was added to the hub's feedback".to_owned()
            } else {
                format!("{} were added to the hub's feedback", items(job.imported))
            };
            let there = if job.already_there == 1 {
                "1 was already in Heard".to_owned()
            } else {
                format!("{} were already in Heard", job.already_there)
            };
            format!("{added}; {there}.")
        }
        "FAILED" => {
            let why = job.message.as_deref().map(plain).unwrap_or_else(|| "Heard could not finish it".to_owned());
            format!("{why}. {} of {} were handled before it stopped.", job.done, rows(job.total))
        }
        _ => format!("Imported {} of {}.", job.done, rows(job.total)),
    }
}

fn progress_page(viewer: &Viewer, csrf: &str, job: &Job) -> Markup {
    let running = job.state == "RUNNING";
    let id = urlencode(&job.id);
    let body = html! {
        p class="caption" { "Import into " (job.hub_name) " from " (job.file_name) }
        h1 { (title(job)) }
        section data-import-job data-state=(job.state) aria-labelledby="import-status-title" {
            h2 id="import-status-title" class="visually-hidden" { "Progress" }
            p id="import-status" aria-live="polite" { (status_words(job)) }
            div class="field" {
                label for="import-progress" { "How far it has got" }
                progress id="import-progress" max=(job.total.max(1)) value=(job.done) {
                    (job.done) " of " (rows(job.total))
                }
            }
            div id="import-next" {
                @if running {
                    p { a href={ "/import/" (id) "/progress" } { "Check progress" } }
                    p class="hint" { "You can leave this page: the import carries on. Come back to it from this address." }
                } @else if job.state == "FINISHED" {
                    p {
                        "Those the person agreed to share beyond the hub wait in the moderation queue, "
                        "as anything logged does, until a coordinator checks them."
                    }
                    p { a class="button" href="/moderation" { "Go to the moderation queue" } }
                }
                @if job.rows_to_fix > 0 {
                    p {
                        @if job.rows_to_fix == 1 { "1 row needed fixing and was not imported." }
                        @else { (rows(job.rows_to_fix)) " needed fixing and were not imported." }
                    }
                    p class="download" {
                        a href={ "/import/" (id) "/rejects.csv" } download { (rejects_link_words(job.rows_to_fix)) }
                    }
                }
                @if !running {
                    p { a href=(super::UPLOAD_PATH) { "Import another spreadsheet" } }
                }
            }
        }
        script src="/assets/import.js" defer {}
    };
    page(viewer, title(job), Some(csrf), body)
}

/// `GET /import/{id}/progress`.
pub(super) async fn show<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<HubImporters>,
) -> Response {
    let Some(found) = job(&backend, &viewer, &id).await else { return not_found(viewer, csrf).await };
    no_store(progress_page(&viewer, &csrf, &found).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StartForm {
    rows: String,
}

/// `POST /import/{id}/start`: `startImport` with all rows or the good ones, then its progress.
pub(super) async fn start<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    posted: PostedFormAs<HubImporters, StartForm>,
) -> Response {
    let PostedFormAs { viewer, csrf, form, .. } = posted;
    let Some(found) = preview(&backend, &viewer, &id).await else {
        // Sent twice (a second click): the import is already under way.
        if let Some(started) = job(&backend, &viewer, &id).await {
            return see_other(&format!("/import/{}/progress", urlencode(&started.id)));
        }
        return not_found(viewer, csrf).await;
    };
    let back = format!("/import/{}", urlencode(&found.draft_id));
    let rows = match form.rows.as_str() {
        which @ ("ALL" | "GOOD_ROWS") => which,
        _ => return flash::redirect(&backend, &viewer, &back, Flash::error("Choose what to import").at("start")),
    };
    let answer = ask(
        &backend,
        &viewer,
        "mutation($id: ID!, $rows: ImportRows!) { startImport(draftId: $id, rows: $rows) { id } }",
        json!({ "id": found.draft_id, "rows": rows }),
    )
    .await;
    if let Some((_, code, message)) = answer.errors.first() {
        if code.as_deref() == Some("NOT_FOUND") {
            return not_found(viewer, csrf).await;
        }
        return flash::redirect(&backend, &viewer, &back, Flash::error(plain(message)).at("start"));
    }
    let started = answer.decode::<Job>("startImport").unwrap_or_default();
    let id = if started.id.is_empty() { found.draft_id } else { started.id };
    see_other(&format!("/import/{}/progress", urlencode(&id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(state: &str, done: u64, imported: u64, already_there: u64) -> Job {
        Job { state: state.to_owned(), total: 500, done, imported, already_there, ..Job::default() }
    }

    #[test]
    fn the_page_says_how_far_the_import_has_got_in_words() {
        assert_eq!(status_words(&job("RUNNING", 120, 100, 20)), "Imported 120 of 500 rows.");
        assert_eq!(
            status_words(&job("FINISHED", 500, 480, 20)),
            "480 items were added to the hub's feedback; 20 were already in Heard."
        );
        assert_eq!(
            status_words(&job("FINISHED", 2, 1, 1)),
            "1 item was added to the hub's feedback; 1 was already in Heard."
        );
        let failed = Job { message: Some("the log could not be written".to_owned()), ..job("FAILED", 7, 7, 0) };
        assert_eq!(
            status_words(&failed),
            "The log could not be written. 7 of 500 rows were handled before it stopped."
        );
        assert_eq!(title(&job("FINISHED", 500, 500, 0)), "The spreadsheet is imported");
    }
}
