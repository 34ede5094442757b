//! `GET /import`, "Import a spreadsheet", and `POST /import`, the upload.
//!
//! The form is `multipart/form-data`, so it sends the file without JavaScript. [`PostedUpload`]
//! reads it the way [`crate::extract::PostedForm`] reads every other form: the body first (a
//! body that is not a multipart form gets axum's own refusal), then who is asking (not logged
//! in: to the login page), then the CSRF token, a field named `csrf_token` like every form's (a
//! wrong or missing one gets the expired-form answer and nothing is kept), then the audience.
//! The file is read up to [`MAX_FILE_BYTES`]; a bigger one is read to its end and dropped, and
//! the page says so beside the file field. `uploadImport` reads the file and keeps a draft for
//! the person; nothing is written to the log before they start the import.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use heard_api::Viewer;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{MAX_FILE_BYTES, importable_hubs};
use crate::Backend;
use crate::backend::{signed_in, submit};
use crate::extract::{Audience, HubImporters, SignedInAs};
use crate::flash::{self, Flashed};
use crate::forms::{self, Errors, Input, form_page};
use crate::kit::{expired, field_id, no_store, only_for, plain, see_login, see_other, urlencode};

/// What the form sent besides the file, to show it again when it is refused.
#[derive(Clone, Debug, Default)]
pub(super) struct UploadForm {
    hub: String,
    sheet: String,
}

/// The file the form sent.
#[derive(Clone, Debug, Default)]
struct Upload {
    /// The name the browser gave it ("" when no file was chosen). Only its ending is used.
    name: String,
    bytes: Vec<u8>,
    /// It was bigger than [`MAX_FILE_BYTES`]: `bytes` is empty.
    too_big: bool,
}

/// The upload form, posted by one of [`HubImporters`] with their session's CSRF token.
pub(super) struct PostedUpload {
    viewer: Viewer,
    csrf: String,
    form: UploadForm,
    file: Upload,
}

/// The answer to a multipart body that could not be read to its end.
fn unreadable(error: &axum::extract::multipart::MultipartError) -> Response {
    let status = error.status();
    let words = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "The file is larger than 5 MB, so Heard cannot import it. Go back and choose a smaller file."
    } else {
        "The form could not be read. Go back, reload the page and try again."
    };
    (status, words).into_response()
}

impl<B: Backend> FromRequest<B> for PostedUpload {
    type Rejection = Response;

    async fn from_request(request: Request, backend: &B) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let mut multipart = Multipart::from_request(request, backend).await.map_err(IntoResponse::into_response)?;
        let mut token = String::new();
        let mut form = UploadForm::default();
        let mut file = Upload::default();
        while let Some(mut field) = multipart.next_field().await.map_err(|error| unreadable(&error))? {
            match field.name().unwrap_or_default() {
                "file" => {
                    file.name = field.file_name().unwrap_or_default().to_owned();
                    while let Some(chunk) = field.chunk().await.map_err(|error| unreadable(&error))? {
                        // Past the limit the rest is read and dropped, so the browser, which is
                        // still sending it, gets the page that says why.
                        if file.too_big || file.bytes.len() + chunk.len() > MAX_FILE_BYTES {
                            file.too_big = true;
                            file.bytes = Vec::new();
                        } else {
                            file.bytes.extend_from_slice(&chunk);
                        }
                    }
                }
                name @ ("csrf_token" | "hub" | "sheet") => {
                    let name = name.to_owned();
                    let value = field.text().await.map_err(|error| unreadable(&error))?;
                    match name.as_str() {
                        "csrf_token" => token = value,
                        "hub" => form.hub = value,
                        _ => form.sheet = value,
                    }
                }
                _ => {}
            }
        }
        let (viewer, csrf) = signed_in(backend, &headers).ok_or_else(see_login)?;
        if !backend.csrf_matches(&viewer, &token) {
            return Err(expired());
        }
        if let Some(refused) = only_for(&viewer, &csrf, HubImporters::ACTION, HubImporters::WHOSE) {
            return Err(refused);
        }
        Ok(PostedUpload { viewer, csrf, form, file })
    }
}

/// What each column holds, and what else it is often called.
const WHAT_COLUMNS_HOLD: [(&str, &str, &str); 7] = [
    ("DATE", "The day it was said, such as 4/12/2026 or 4 December 2026.", "Date said, Day, When, Feedback date"),
    (
        "CHANNEL",
        "How it reached the hub: forum, drop-in, one-to-one, survey, online or phone.",
        "Where, How, Source, Method",
    ),
    (
        "ABOUT",
        "The service or provider it is about, if any. This column may be left out.",
        "Service, Provider, Which service, Organisation",
    ),
    ("TEXT", "What the person said, in their words.", "What was said, Feedback, Comment, Quote"),
    (
        "THEMES",
        "Themes from Heard's list, separated by semicolons (;). This column may be left out.",
        "Theme, Topic, Category, Tags",
    ),
    ("SPEAKER", "Whether the person is anonymous, pseudonymous or named.", "Who said it, Who, Said by, Identity"),
    ("CONSENT", "Who may see it: hub, commissioners or public.", "Who may see it, Sharing, Can we share, Permission"),
];

fn upload_page(
    viewer: &Viewer,
    csrf: &str,
    hubs: &[(String, String)],
    form: &UploadForm,
    errors: &Errors,
    flashed: &Flashed,
) -> Markup {
    let file_error = errors.of("file");
    let file_described = if file_error.is_some() { "file-hint file-error" } else { "file-hint" };
    // With several hubs, none is chosen in advance.
    let hub_options: Vec<(String, String)> =
        std::iter::once((String::new(), "Choose a hub".to_owned())).chain(hubs.iter().cloned()).collect();
    let body = html! {
        h1 { "Import a spreadsheet" }
        @if let Some(notice) = flashed.notice() { (flash::notice(notice)) }
        p { "Bring in the feedback your hub keeps in a spreadsheet. Heard shows you what it found before anything is added, and you choose whether to go on." }
        p {
            "Every row becomes an item of the hub's feedback, like feedback logged any other way: those the person agreed "
            "to share beyond the hub wait in the moderation queue until a coordinator checks them."
        }
        @if hubs.is_empty() {
            p { "You do not coordinate a hub at the moment, so there is nowhere to import into." }
        } @else {
            form method="post" action=(super::UPLOAD_PATH) enctype="multipart/form-data" novalidate {
                (forms::csrf_field(csrf))
                @if let [(only, _)] = hubs {
                    (forms::select("hub", "Import into", hubs, only, errors))
                } @else {
                    (forms::select("hub", "Import into which hub?", &hub_options, &form.hub, errors))
                }
                div class={ "field" @if file_error.is_some() { " field--error" } } {
                    label for="file" { "Spreadsheet file" }
                    p class="hint" id="file-hint" { "An Excel workbook (.xlsx), an OpenDocument spreadsheet (.ods) or a CSV file (.csv), up to 5 MB." }
                    @if let Some(error) = file_error {
                        p class="field-error" id="file-error" { span class="visually-hidden" { "Error: " } (error) }
                    }
                    input id="file" name="file" type="file"
                        accept=".xlsx,.ods,.csv,.txt,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.oasis.opendocument.spreadsheet"
                        aria-describedby=(file_described)
                        aria-invalid=[file_error.map(|_| "true")];
                }
                (forms::input(Input {
                    id: "sheet",
                    label: "Sheet (optional)",
                    kind: "text",
                    value: &form.sheet,
                    hint: Some("Heard reads the first sheet of a workbook. To read another, type its name as the tab shows it. You can also choose it on the next page."),
                    autocomplete: Some("off"),
                }, errors))
                button class="button" type="submit" { "Upload and check" }
            }
        }
        section aria-labelledby="columns-title" {
            h2 id="columns-title" { "The columns Heard reads" }
            p { "The first row of the sheet names the columns, in any order. Heard recognises the usual names for each; if yours are different, you can say which is which once the file is uploaded. Other columns are not imported." }
            div class="table-scroll" role="region" aria-labelledby="columns-caption" tabindex="0" {
                table class="figures" {
                    caption id="columns-caption" { "Columns and what they hold" }
                    thead { tr { th scope="col" { "Column" } th scope="col" { "What it holds" } th scope="col" { "Often called" } } }
                    tbody {
                        @for (column, holds, called) in WHAT_COLUMNS_HOLD {
                            tr { th scope="row" { (super::column_words(column)) } td { (holds) } td { (called) } }
                        }
                    }
                }
            }
        }
    };
    form_page(viewer, "Import a spreadsheet", Some(csrf), errors, body)
}

/// `GET /import`.
pub(super) async fn form<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<HubImporters>,
    flashed: Flashed,
) -> Response {
    let hubs = importable_hubs(&backend, &viewer).await;
    let mut errors = Errors::default();
    flashed.add_error_to(&mut errors);
    no_store(upload_page(&viewer, &csrf, &hubs, &UploadForm::default(), &errors, &flashed).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Uploaded {
    draft_id: String,
}

/// Where an error of `uploadImport` belongs on the form.
fn upload_field(api_field: Option<&str>, code: Option<&str>) -> &'static str {
    match api_field.map(field_id).as_deref() {
        Some("file" | "file_name" | "content") => "file",
        Some("hub") => "hub",
        Some("sheet") => "sheet",
        _ if code == Some("FORBIDDEN") => "hub",
        _ => "",
    }
}

/// The words for an error of `uploadImport`: a hub the person does not coordinate is named as
/// such, whatever the policy's words.
fn upload_message(field: &str, code: Option<&str>, message: &str) -> String {
    if field == "hub" && matches!(code, Some("FORBIDDEN" | "NOT_FOUND")) {
        "Choose one of the hubs you coordinate".to_owned()
    } else {
        plain(message)
    }
}

/// `POST /import`: `uploadImport`, then the preview.
pub(super) async fn upload<B: Backend>(State(backend): State<B>, posted: PostedUpload) -> Response {
    let PostedUpload { viewer, csrf, form, file } = posted;
    let mut errors = Errors::default();
    errors.require("hub", form.hub.trim(), "Choose the hub the spreadsheet is from");
    if file.too_big {
        errors.add(
            "file",
            "The file is larger than 5 MB. Save the rows you need in a smaller file, or split it into several files",
        );
    } else if file.name.is_empty() && file.bytes.is_empty() {
        errors.add("file", "Choose the spreadsheet file to import");
    } else if file.bytes.is_empty() {
        errors.add("file", "The file is empty. Choose the spreadsheet that holds the feedback");
    }
    if errors.is_empty() {
        let sheet = form.sheet.trim();
        let input = json!({
            "hub": form.hub.trim(),
            "fileName": file.name,
            "content": base64::engine::general_purpose::STANDARD.encode(&file.bytes),
            "sheet": if sheet.is_empty() { Value::Null } else { Value::from(sheet) },
        });
        let answer = submit(&backend, &viewer, "uploadImport", "draftId", input).await;
        if answer.errors.is_empty()
            && let Some(uploaded) = answer.decode::<Uploaded>("uploadImport")
        {
            return see_other(&format!("/import/{}", urlencode(&uploaded.draft_id)));
        }
        for (field, code, message) in &answer.errors {
            let at = upload_field(field.as_deref(), code.as_deref());
            errors.add(at, upload_message(at, code.as_deref(), message));
        }
        if errors.is_empty() {
            errors.add("", crate::backend::UNDECODABLE);
        }
    }
    let hubs = importable_hubs(&backend, &viewer).await;
    let page = upload_page(&viewer, &csrf, &hubs, &form, &errors, &Flashed::default());
    no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// After a cancel: back to the upload form, saying nothing was imported.
pub(super) fn cancelled<B: Backend>(backend: &B, viewer: &Viewer) -> Response {
    flash::redirect(
        backend,
        viewer,
        super::UPLOAD_PATH,
        flash::Flash::notice("Cancelled. Nothing from that file was imported."),
    )
}

#[cfg(test)]
mod tests {
    use super::super::COLUMNS;
    use super::*;

    #[test]
    fn each_error_of_the_upload_goes_beside_its_field() {
        assert_eq!(upload_field(Some("input.file"), Some("BAD_USER_INPUT")), "file");
        assert_eq!(upload_field(Some("file"), Some("BAD_USER_INPUT")), "file");
        assert_eq!(upload_field(Some("input.fileName"), None), "file");
        assert_eq!(upload_field(Some("input.sheet"), None), "sheet");
        assert_eq!(upload_field(None, Some("FORBIDDEN")), "hub");
        assert_eq!(upload_field(None, Some("INTERNAL")), "");
    }

    #[test]
    fn a_hub_the_person_does_not_coordinate_is_named_as_such() {
        assert_eq!(
            upload_message("hub", Some("FORBIDDEN"), "only this hub's coordinators can import"),
            "Choose one of the hubs you coordinate"
        );
        assert_eq!(
            upload_message("file", Some("BAD_USER_INPUT"), "file: this is not a spreadsheet"),
            "This is not a spreadsheet"
        );
    }

    #[test]
    fn every_column_heard_reads_is_described() {
        let described: Vec<&str> = WHAT_COLUMNS_HOLD.iter().map(|(column, _, _)| *column).collect();
        let read: Vec<&str> = COLUMNS.iter().map(|(column, _)| *column).collect();
        assert_eq!(described, read);
    }
}
