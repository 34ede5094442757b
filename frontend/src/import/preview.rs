//! `GET /import/{id}`: what Heard found in the file, before anything is written, and what the
//! coordinator can do next: say which column is which, choose the sheet, import, download the
//! rows that need fixing, or cancel.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use heard_api::Viewer;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::{
    COLUMNS, ColumnUse, Preview, column_words, job, not_found, preview, rejects_link_words, rows, rows_need_fixing,
};
use crate::Backend;
use crate::backend::{ask, submit};
use crate::extract::{Fields, HubImporters, PostedFormAs, SignedInAs};
use crate::flash::{self, Flash, Flashed};
use crate::forms::{self, Errors, form_page};
use crate::kit::{attachment, no_store, plain, see_other, urlencode};

/// The spreadsheet's name for the column at `index` (from 0): A, B, …, Z, AA, AB, …
fn column_letters(index: usize) -> String {
    let mut letters = Vec::new();
    let mut rest = index + 1;
    while rest > 0 {
        let digit = (rest - 1) % 26;
        letters.push(char::from(b'A' + u8::try_from(digit).unwrap_or(0)));
        rest = (rest - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// A heading as the page names it: in quotes, or "no heading".
fn heading_words(heading: &str) -> String {
    if heading.trim().is_empty() { "no heading".to_owned() } else { format!("“{heading}”") }
}

/// Whether the coordinator has something to say about the columns: a heading Heard does not
/// import, or a column Heard needs that no heading gives.
fn asks_for_columns(preview: &Preview) -> bool {
    !preview.missing.is_empty() || preview.columns.iter().any(|column| column.used_as.is_none() || column.chosen)
}

/// The choices to send for the posted column form: a heading the coordinator chose before, or
/// one whose use they changed from what Heard recognised. `posted(index)` is the value posted
/// for the column at `index` (`""`: not imported); a value that is no column is left out.
fn column_choices(columns: &[ColumnUse], posted: impl Fn(usize) -> Option<String>) -> Vec<Value> {
    columns
        .iter()
        .enumerate()
        .filter_map(|(index, column)| {
            let value = posted(index)?;
            let wanted = match value.as_str() {
                "" => None,
                known if COLUMNS.iter().any(|(column, _)| *column == known) => Some(known.to_owned()),
                _ => return None,
            };
            (column.chosen || wanted != column.used_as).then(|| json!({ "heading": column.heading, "use": wanted }))
        })
        .collect()
}

fn summary_of(preview: &Preview) -> Markup {
    html! {
        dl class="summary-list" {
            div { dt { "Rows with something in them" } dd { (rows(preview.rows)) } }
            div { dt { "Ready to import" } dd { (rows(preview.ready_rows)) } }
            div { dt { "Already in Heard, so left out" } dd { (rows(preview.already_there)) } }
            div { dt { "Need fixing" } dd { (rows(preview.rows_to_fix)) } }
        }
    }
}

fn columns_table(preview: &Preview) -> Markup {
    html! {
        div class="table-scroll" role="region" aria-labelledby="columns-caption" tabindex="0" {
            table class="figures" {
                caption id="columns-caption" { "The columns of the file and what Heard does with them" }
                thead { tr { th scope="col" { "Column" } th scope="col" { "Heading" } th scope="col" { "Imported as" } } }
                tbody {
                    @for (index, column) in preview.columns.iter().enumerate() {
                        tr {
                            th scope="row" { (column_letters(index)) }
                            td { (heading_words(&column.heading)) }
                            td {
                                @match &column.used_as {
                                    Some(used) => { (column_words(used)) @if column.chosen { " (you chose this)" } }
                                    None => { "Not imported" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn columns_form(preview: &Preview, csrf: &str, errors: &Errors) -> Markup {
    let options: Vec<(String, String)> = std::iter::once((String::new(), "Not imported".to_owned()))
        .chain(COLUMNS.iter().map(|(value, words)| ((*value).to_owned(), (*words).to_owned())))
        .collect();
    html! {
        form id="columns" method="post" action={ "/import/" (preview.draft_id) "/columns" } novalidate tabindex="-1" {
            (forms::csrf_field(csrf))
            fieldset {
                legend { "Say which column is which" }
                p class="hint" { "Choose what each column holds. Columns left as “Not imported” are not brought into Heard." }
                @if let Some(error) = errors.of("columns") {
                    p class="field-error" { span class="visually-hidden" { "Error: " } (error) }
                }
                @for (index, column) in preview.columns.iter().enumerate() {
                    @let id = format!("column-{index}");
                    div class="field" {
                        label for=(id) { "Use this column as: column " (column_letters(index)) ", " (heading_words(&column.heading)) }
                        select id=(id) name=(id) {
                            @for (value, words) in &options {
                                option value=(value) selected[Some(value) == column.used_as.as_ref() || (value.is_empty() && column.used_as.is_none())] { (words) }
                            }
                        }
                    }
                }
            }
            button class="button button--secondary" type="submit" { "Check the file again with these columns" }
        }
    }
}

fn sheet_form(preview: &Preview, csrf: &str, errors: &Errors) -> Markup {
    let options: Vec<(String, String)> = preview.sheets.iter().map(|sheet| (sheet.clone(), sheet.clone())).collect();
    let chosen = preview.sheet.clone().unwrap_or_default();
    html! {
        form method="post" action={ "/import/" (preview.draft_id) "/sheet" } novalidate {
            (forms::csrf_field(csrf))
            (forms::select("sheet", "Sheet to read", &options, &chosen, errors))
            button class="button button--secondary" type="submit" { "Read this sheet" }
        }
    }
}

fn errors_table(preview: &Preview) -> Markup {
    html! {
        div class="table-scroll" role="region" aria-labelledby="to-fix-caption" tabindex="0" {
            table class="figures" {
                caption id="to-fix-caption" { "Every problem, by row" }
                thead { tr { th scope="col" class="number" { "Row" } th scope="col" { "Column" } th scope="col" { "What is wrong" } } }
                tbody {
                    @for error in &preview.errors {
                        tr {
                            td class="number" { (error.row) }
                            td { (error.column) }
                            td { (plain(&error.message)) }
                        }
                    }
                }
            }
        }
    }
}

fn rejects_link(id: &str, count: u64) -> Markup {
    html! {
        p class="download" {
            a href={ "/import/" (id) "/rejects.csv" } download { (rejects_link_words(count)) }
        }
    }
}

fn start_form(preview: &Preview, csrf: &str) -> Markup {
    let good = preview.ready_rows + preview.already_there;
    let (rows_value, words) = if preview.rows_to_fix == 0 {
        ("ALL", format!("Import all {}", rows(good)))
    } else {
        ("GOOD_ROWS", format!("Import the {} good {}", good, if good == 1 { "row" } else { "rows" }))
    };
    html! {
        form method="post" action={ "/import/" (preview.draft_id) "/start" } {
            (forms::csrf_field(csrf))
            input type="hidden" name="rows" value=(rows_value);
            button class="button" type="submit" { (words) }
        }
    }
}

fn preview_page(viewer: &Viewer, csrf: &str, preview: &Preview, errors: &Errors, flashed: &Flashed) -> Markup {
    let good = preview.ready_rows + preview.already_there;
    let id = preview.draft_id.as_str();
    let body = html! {
        p class="caption" { "Import into " (preview.hub_name) }
        h1 { "Check the spreadsheet" }
        @if let Some(notice) = flashed.notice() { (flash::notice(notice)) }
        p {
            (preview.file_name) " (" (preview.kind)
            @if let Some(sheet) = &preview.sheet { ", sheet “" (sheet) "”" }
            "). Nothing has been imported yet."
        }
        @if !preview.notices.is_empty() {
            ul { @for notice in &preview.notices { li { (notice) } } }
        }
        @if let Some(problem) = &preview.problem {
            div class="problem" {
                h2 { "This file cannot be imported as it is" }
                p { (plain(problem)) }
            }
        }
        section aria-labelledby="found-title" {
            h2 id="found-title" { "What Heard found" }
            (summary_of(preview))
        }
        section aria-labelledby="columns-title" {
            h2 id="columns-title" { "Columns" }
            (columns_table(preview))
            @if !preview.missing.is_empty() {
                p {
                    "Heard needs a column for: "
                    (preview.missing.iter().map(|column| column_words(column)).collect::<Vec<_>>().join(", "))
                    ". Say which column holds it, or add it to the file and upload it again."
                }
            }
            @if preview.sheets.len() > 1 { (sheet_form(preview, csrf, errors)) }
            @if asks_for_columns(preview) { (columns_form(preview, csrf, errors)) }
        }
        @if !preview.errors.is_empty() {
            section aria-labelledby="to-fix-title" {
                h2 id="to-fix-title" { (rows_need_fixing(preview.rows_to_fix)) }
                p { "Row numbers are as your spreadsheet shows them. You can import the good rows now, then fix these in a copy of the file and import them later." }
                (errors_table(preview))
                (rejects_link(id, preview.rows_to_fix))
            }
        }
        section id="start" aria-labelledby="start-title" tabindex="-1" {
            h2 id="start-title" { "Import" }
            @if preview.problem.is_some() {
                p { "Nothing can be imported until Heard can read the file. Say which column is which above, or fix the file and upload it again." }
            } @else if good == 0 && preview.rows_to_fix > 0 {
                p { "No row can be imported as it is. Download the rows that need fixing, fix them and upload the file again." }
            } @else if preview.ready_rows == 0 && preview.already_there > 0 {
                p { "Every good row is already in Heard, so importing this file again would add nothing." }
            } @else if good == 0 {
                p { "The file has no rows to import." }
            } @else {
                p {
                    "Each row becomes an item of " (preview.hub_name) "'s feedback, like feedback logged any other way; "
                    "those the person agreed to share beyond the hub wait in its moderation queue."
                    @if preview.already_there > 0 {
                        " " (rows(preview.already_there)) " already in Heard will be left out, so nothing is added twice."
                    }
                }
                @if preview.rows_to_fix > 0 {
                    p { (rows_need_fixing(preview.rows_to_fix)) " and will not be imported." }
                }
                (start_form(preview, csrf))
            }
            form method="post" action={ "/import/" (id) "/cancel" } {
                (forms::csrf_field(csrf))
                button class="button button--secondary" type="submit" { "Cancel" }
            }
            p class="hint" { "Cancel forgets the file. Nothing from it is imported." }
        }
    };
    form_page(viewer, "Check the spreadsheet", Some(csrf), errors, body)
}

/// `GET /import/{id}`: the preview; once started, where it has got to.
pub(super) async fn show<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<HubImporters>,
    flashed: Flashed,
) -> Response {
    let Some(found) = preview(&backend, &viewer, &id).await else {
        if let Some(started) = job(&backend, &viewer, &id).await {
            return see_other(&format!("/import/{}/progress", urlencode(&started.id)));
        }
        return not_found(viewer, csrf).await;
    };
    let mut errors = Errors::default();
    flashed.add_error_to(&mut errors);
    no_store(preview_page(&viewer, &csrf, &found, &errors, &flashed).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Revised {
    draft_id: String,
}

/// Runs `reviseImport` with the `input` a form of the preview asks for (`field`), and goes back
/// to the preview, with what happened. The input is made from the preview found and the form
/// posted, or is the error to show beside the field instead.
async fn revise<B: Backend>(
    backend: &B,
    id: &str,
    posted: PostedFormAs<HubImporters>,
    field: &str,
    input: impl FnOnce(&Preview, &Fields) -> Result<Value, &'static str>,
) -> Response {
    let PostedFormAs { viewer, csrf, form, .. } = posted;
    let Some(found) = preview(backend, &viewer, id).await else { return not_found(viewer, csrf).await };
    let back = |id: &str| format!("/import/{}", urlencode(id));
    let input = match input(&found, &form) {
        Ok(input) => input,
        Err(wrong) => return flash::redirect(backend, &viewer, &back(&found.draft_id), Flash::error(wrong).at(field)),
    };
    let answer = submit(backend, &viewer, "reviseImport", "draftId", input).await;
    if let Some((_, _, message)) = answer.errors.first() {
        return flash::redirect(backend, &viewer, &back(&found.draft_id), Flash::error(plain(message)).at(field));
    }
    let revised = answer.decode::<Revised>("reviseImport").unwrap_or_default();
    let id = if revised.draft_id.is_empty() { found.draft_id.as_str() } else { revised.draft_id.as_str() };
    flash::redirect(backend, &viewer, &back(id), Flash::notice("Heard has read the file again. Check what it found."))
}

/// The input of `reviseImport` for the coordinator's choice of columns.
fn columns_input(found: &Preview, form: &Fields) -> Result<Value, &'static str> {
    let choices = column_choices(&found.columns, |index| {
        let key = format!("column-{index}");
        form.0.iter().any(|(name, _)| *name == key).then(|| form.value(&key))
    });
    Ok(json!({ "draftId": found.draft_id, "sheet": found.sheet, "columns": choices }))
}

/// `POST /import/{id}/columns`: the coordinator's choice of columns, `reviseImport`.
pub(super) async fn columns<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    posted: PostedFormAs<HubImporters>,
) -> Response {
    revise(&backend, &id, posted, "columns", columns_input).await
}

/// `POST /import/{id}/sheet`: another sheet of the workbook, `reviseImport`.
pub(super) async fn sheet<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    posted: PostedFormAs<HubImporters>,
) -> Response {
    revise(&backend, &id, posted, "sheet", |found, form| {
        let sheet = form.value("sheet");
        if !found.sheets.contains(&sheet) {
            return Err("Choose one of the workbook's sheets");
        }
        Ok(json!({ "draftId": found.draft_id, "sheet": sheet }))
    })
    .await
}

/// `POST /import/{id}/cancel`: `cancelImport`, then the upload form again.
pub(super) async fn cancel<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    posted: PostedFormAs<HubImporters>,
) -> Response {
    let PostedFormAs { viewer, csrf, .. } = posted;
    let Some(found) = preview(&backend, &viewer, &id).await else { return not_found(viewer, csrf).await };
    let answer =
        ask(&backend, &viewer, "mutation($id: ID!) { cancelImport(draftId: $id) }", json!({ "id": found.draft_id }))
            .await;
    if !answer.errors.is_empty() {
        return not_found(viewer, csrf).await;
    }
    super::upload::cancelled(&backend, &viewer)
}

/// `GET /import/{id}/rejects.csv`: the rows that need fixing, with an `error` column, for the
/// draft or the import it became.
pub(super) async fn rejects<B: Backend>(
    State(backend): State<B>,
    Path(id): Path<String>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<HubImporters>,
) -> Response {
    let Some(id) = super::plain_id(&id) else { return not_found(viewer, csrf).await };
    let answer = ask(&backend, &viewer, "query($id: ID!) { importRejects(id: $id) }", json!({ "id": id })).await;
    let Some(csv) = answer.decode::<String>("importRejects") else { return not_found(viewer, csrf).await };
    attachment(csv, "text/csv; charset=utf-8", "rows-that-need-fixing.csv")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(heading: &str, used_as: Option<&str>, chosen: bool) -> ColumnUse {
        ColumnUse { heading: heading.to_owned(), used_as: used_as.map(str::to_owned), chosen }
    }

    #[test]
    fn columns_are_named_as_a_spreadsheet_names_them() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn only_the_columns_the_coordinator_changed_or_chose_before_are_sent() {
        let columns = [
            column("Date", Some("DATE"), false),
            column("Said", None, false),
            column("Who", Some("SPEAKER"), true),
            column("Notes", None, false),
        ];
        let posted = ["DATE", "TEXT", "SPEAKER", "NOT_A_COLUMN"];
        let choices = column_choices(&columns, |index| posted.get(index).map(|value| (*value).to_owned()));
        assert_eq!(
            choices,
            vec![json!({ "heading": "Said", "use": "TEXT" }), json!({ "heading": "Who", "use": "SPEAKER" })],
            "unchanged and unknown values are left out"
        );
        let ignored = column_choices(&columns, |index| (index == 0).then(String::new));
        assert_eq!(ignored, vec![json!({ "heading": "Date", "use": null })], "Not imported is sent as null");
    }

    fn draft() -> Preview {
        Preview {
            draft_id: "d1".to_owned(),
            hub_name: "Arun".to_owned(),
            file_name: "arun.csv".to_owned(),
            kind: "CSV file".to_owned(),
            columns: vec![column("date", Some("DATE"), false), column("Notes", None, false)],
            rows: 5,
            ready_rows: 2,
            already_there: 1,
            rows_to_fix: 2,
            errors: vec![
                super::super::RowError {
                    row: 4,
                    column: "date".to_owned(),
                    message: "date: 30 February 2026 does not exist".to_owned(),
                },
                super::super::RowError {
                    row: 6,
                    column: "consent".to_owned(),
                    message: "this is not a consent".to_owned(),
                },
            ],
            ..Preview::default()
        }
    }

    fn shown(preview: &Preview) -> String {
        preview_page(&Viewer::default(), "token", preview, &Errors::default(), &Flashed::default()).into_string()
    }

    #[test]
    fn the_preview_offers_the_good_rows_and_the_rows_that_need_fixing_as_a_download() {
        let page = shown(&draft());
        assert!(page.contains("Import the 3 good rows"), "{page}");
        assert!(page.contains(r#"name="rows" value="GOOD_ROWS""#), "{page}");
        assert!(page.contains("Download the 2 rows that need fixing (CSV)"), "{page}");
        assert!(
            page.contains(r#"<td class="number">4</td><td>date</td><td>30 February 2026 does not exist</td>"#),
            "{page}"
        );
        assert!(page.contains("1 row already in Heard will be left out"), "{page}");
        assert!(
            page.contains(r#"<select id="column-1" name="column-1">"#),
            "a heading not imported can be chosen: {page}"
        );
        let all_good = Preview { rows_to_fix: 0, errors: Vec::new(), ..draft() };
        let page = shown(&all_good);
        assert!(page.contains("Import all 3 rows") && page.contains(r#"value="ALL""#), "{page}");
        assert!(!page.contains("rejects.csv"), "{page}");
    }

    #[test]
    fn a_file_heard_cannot_read_as_it_is_offers_no_import_but_the_choice_of_columns() {
        let unreadable = Preview {
            problem: Some("no column holds the text: choose one".to_owned()),
            missing: vec!["TEXT".to_owned()],
            ready_rows: 0,
            already_there: 0,
            rows_to_fix: 0,
            errors: Vec::new(),
            ..draft()
        };
        let page = shown(&unreadable);
        assert!(page.contains("This file cannot be imported as it is"), "{page}");
        assert!(page.contains("Heard needs a column for: Text."), "{page}");
        assert!(!page.contains("/start\""), "no import to start: {page}");
        assert!(page.contains("/columns\""), "{page}");
        let everything_there = Preview { ready_rows: 0, already_there: 3, ..draft() };
        assert!(shown(&everything_there).contains("importing this file again would add nothing"));
    }

    #[test]
    fn a_heading_is_quoted_and_a_missing_one_named() {
        assert_eq!(heading_words("Date said"), "“Date said”");
        assert_eq!(heading_words("  "), "no heading");
    }
}
