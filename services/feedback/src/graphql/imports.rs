//! Importing a hub's spreadsheet: upload, preview, choose columns or a sheet, confirm, follow
//! progress, download the rows that need fixing. For a hub's coordinators
//! (`Action::ImportFeedback`); a draft and the job it becomes are for the account that uploaded
//! it alone, and anyone else is told there is no such thing.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use base64::Engine as _;
use heard_access::{Action, Resource};
use heard_api::{ApiError, authorize, uuid_arg};

use super::service;
use crate::import::{self, Choice, Column};
use crate::imports::{Job, Preview};

/// What a column of a spreadsheet holds.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::import::Column")]
pub enum ImportColumn {
    Date,
    Channel,
    About,
    Text,
    Themes,
    Speaker,
    Consent,
}

/// Which rows to import.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::imports::Which")]
pub enum ImportRows {
    /// Every row; refused while any needs fixing.
    All,
    /// The rows with nothing wrong; the others stay for you to fix (`importRejects`).
    GoodRows,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::imports::JobState")]
pub enum ImportState {
    Running,
    Finished,
    Failed,
}

/// Your choice for one heading of the file.
#[derive(InputObject, Clone, Debug)]
pub struct ImportColumnChoice {
    /// The heading as the file has it.
    pub heading: String,
    /// What the column holds; null to leave it out.
    #[graphql(name = "use")]
    pub column: Option<ImportColumn>,
}

#[derive(InputObject, Clone, Debug)]
pub struct UploadImportInput {
    /// The hub the rows are for: one you coordinate.
    pub hub: ID,
    /// The file's name, as the preview shows it.
    pub file_name: String,
    /// The file's bytes, base64 (standard alphabet, padded): an Excel workbook (.xlsx), an
    /// OpenDocument spreadsheet (.ods) or CSV, at most 5 MB.
    pub content: String,
    /// The sheet to read; by default the first.
    pub sheet: Option<String>,
    /// What columns Heard does not recognise by name hold.
    #[graphql(default)]
    pub columns: Vec<ImportColumnChoice>,
}

#[derive(InputObject, Clone, Debug)]
pub struct ReviseImportInput {
    pub draft_id: ID,
    pub sheet: Option<String>,
    #[graphql(default)]
    pub columns: Vec<ImportColumnChoice>,
}

/// One column of the file and what Heard reads from it.
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportColumnUse {
    /// As the file heads it ("" for a column with no heading).
    pub heading: String,
    /// What it holds; null when it is left out.
    #[graphql(name = "use")]
    pub column: Option<ImportColumn>,
    /// You chose this, rather than Heard recognising the heading.
    pub chosen: bool,
}

/// One thing wrong in one row. The message never repeats the cell.
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportRowError {
    /// The row's number as the spreadsheet shows it.
    pub row: i32,
    /// The column as the file heads it.
    pub column: String,
    pub message: String,
}

/// What Heard found in an uploaded file, before anything is written.
pub struct ImportPreview(Preview);

#[Object]
impl ImportPreview {
    async fn draft_id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn hub(&self) -> ID {
        ID(self.0.hub.clone())
    }

    async fn hub_name(&self, ctx: &Context<'_>) -> String {
        hub_name(ctx, &self.0.hub)
    }

    async fn file_name(&self) -> &str {
        &self.0.file_name
    }

    /// "Excel workbook", "OpenDocument spreadsheet" or "CSV file".
    async fn kind(&self) -> &'static str {
        self.0.reading.table.kind.describe()
    }

    /// The workbook's sheets, in order; empty for a CSV file.
    async fn sheets(&self) -> &[String] {
        &self.0.reading.table.sheets
    }

    /// The sheet read; null for a CSV file.
    async fn sheet(&self) -> Option<&str> {
        self.0.reading.table.sheet.as_deref()
    }

    /// How the file was read, in plain sentences (its encoding, its separator).
    async fn notices(&self) -> &[String] {
        &self.0.reading.table.notices
    }

    /// Why the file cannot be imported as it is: choose columns (`reviseImport`) to fix it.
    async fn problem(&self) -> Option<&str> {
        self.0.reading.problem.as_deref()
    }

    /// Every column of the header row, in file order.
    async fn columns(&self) -> Vec<ImportColumnUse> {
        let Some(layout) = &self.0.reading.layout else { return Vec::new() };
        layout
            .uses
            .iter()
            .map(|found| ImportColumnUse {
                heading: found.heading.clone(),
                column: found.column.map(Into::into),
                chosen: found.chosen,
            })
            .collect()
    }

    /// The columns Heard needs that no heading gives.
    async fn missing(&self) -> Vec<ImportColumn> {
        self.0
            .reading
            .layout
            .as_ref()
            .map(|layout| layout.missing().into_iter().map(Into::into).collect())
            .unwrap_or_default()
    }

    /// Rows under the header with anything in them.
    async fn rows(&self) -> i32 {
        count(self.0.reading.rows)
    }

    /// Good rows that will be added.
    async fn ready_rows(&self) -> i32 {
        count(self.0.ready_rows())
    }

    /// Good rows imported before, which will be skipped.
    async fn already_there(&self) -> i32 {
        count(self.0.already_there)
    }

    async fn rows_to_fix(&self) -> i32 {
        count(self.0.reading.parsed.rows_to_fix())
    }

    /// Everything that needs fixing, by row and then column.
    async fn errors(&self) -> Vec<ImportRowError> {
        self.0
            .reading
            .parsed
            .errors
            .iter()
            .map(|error| ImportRowError {
                row: count(error.row),
                column: error.column.clone(),
                message: error.message.clone(),
            })
            .collect()
    }
}

/// An import under way, or done.
pub struct ImportJob(Job);

#[Object]
impl ImportJob {
    /// The same id as the draft it came from.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn hub(&self) -> ID {
        ID(self.0.hub.clone())
    }

    async fn hub_name(&self, ctx: &Context<'_>) -> String {
        hub_name(ctx, &self.0.hub)
    }

    async fn file_name(&self) -> &str {
        &self.0.file_name
    }

    async fn state(&self) -> ImportState {
        self.0.state.into()
    }

    /// Rows it goes through.
    async fn total(&self) -> i32 {
        count(self.0.total)
    }

    /// Rows gone through so far: added, or found there already.
    async fn done(&self) -> i32 {
        count(self.0.done)
    }

    async fn imported(&self) -> i32 {
        count(self.0.imported)
    }

    async fn already_there(&self) -> i32 {
        count(self.0.already_there)
    }

    /// Rows left out because they need fixing.
    async fn rows_to_fix(&self) -> i32 {
        count(self.0.rows_to_fix)
    }

    /// Why it failed, in plain words.
    async fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn hub_name(ctx: &Context<'_>, hub: &str) -> String {
    service(ctx).read(|state| state.reference.hubs.get(hub).cloned()).unwrap_or_else(|| hub.to_owned())
}

fn choices(columns: Vec<ImportColumnChoice>) -> Vec<Choice> {
    columns
        .into_iter()
        .map(|choice| Choice { heading: choice.heading, column: choice.column.map(Column::from) })
        .collect()
}

/// Whether importing is part of what the person looking does at all.
async fn may_import(ctx: &Context<'_>) -> Result<uuid::Uuid> {
    authorize(ctx, Action::ImportFeedback, &Resource::System).await?;
    Ok(heard_api::account(ctx)?)
}

#[derive(Default)]
pub struct ImportQuery;

#[Object]
impl ImportQuery {
    /// An uploaded file you have not imported yet, as `uploadImport` answered; null when there
    /// is no such draft of yours (drafts are kept for an hour).
    async fn import_preview(&self, ctx: &Context<'_>, draft_id: ID) -> Result<Option<ImportPreview>> {
        let owner = may_import(ctx).await?;
        let id = uuid_arg("draftId", &draft_id)?;
        Ok(service(ctx).import_preview(owner, id).await?.map(ImportPreview))
    }

    /// An import of yours, under way or done (kept for a day).
    async fn import_job(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ImportJob>> {
        let owner = may_import(ctx).await?;
        let id = uuid_arg("id", &id)?;
        Ok(service(ctx).import_job(owner, id).await?.map(ImportJob))
    }

    /// The rows of a draft or an import of yours that need fixing, as a CSV file (UTF-8 with a
    /// byte order mark): the header row as the file has it and an `error` column. Fix them and
    /// import that file.
    async fn import_rejects(&self, ctx: &Context<'_>, id: ID) -> Result<Option<String>> {
        let owner = may_import(ctx).await?;
        let id = uuid_arg("id", &id)?;
        Ok(service(ctx).import_rejects(owner, id).await?.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }
}

#[derive(Default)]
pub struct ImportMutation;

#[Object]
impl ImportMutation {
    /// Reads a spreadsheet for a hub you coordinate and shows what Heard found in it. Nothing is
    /// written until you confirm with `startImport`.
    async fn upload_import(&self, ctx: &Context<'_>, input: UploadImportInput) -> Result<ImportPreview> {
        authorize(ctx, Action::ImportFeedback, &Resource::Hub { hub: input.hub.0.clone() }).await?;
        let owner = heard_api::account(ctx)?;
        let limit = import::MAX_FILE_BYTES.div_ceil(3) * 4 + 4;
        if input.content.len() > limit {
            return Err(
                ApiError::bad_input("file", import::FileError::TooBig(import::MAX_FILE_BYTES).to_string()).into()
            );
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(input.content.trim())
            .map_err(|_| ApiError::bad_input("content", "this is not base64: send the file's bytes in base64"))?;
        let file_name = file_name(&input.file_name)?;
        let preview = service(ctx)
            .upload_import(owner, input.hub.0, file_name, bytes, input.sheet, choices(input.columns))
            .await?;
        Ok(ImportPreview(preview))
    }

    /// Reads an uploaded file again with another sheet, or with your choices of columns.
    async fn revise_import(&self, ctx: &Context<'_>, input: ReviseImportInput) -> Result<ImportPreview> {
        let owner = may_import(ctx).await?;
        let id = uuid_arg("draftId", &input.draft_id)?;
        Ok(ImportPreview(service(ctx).revise_import(owner, id, input.sheet, choices(input.columns)).await?))
    }

    /// Imports the file: its rows go into the hub's moderation queue like any other feedback,
    /// in the background (`importJob`). Rows imported before are skipped.
    async fn start_import(&self, ctx: &Context<'_>, draft_id: ID, rows: ImportRows) -> Result<ImportJob> {
        let owner = may_import(ctx).await?;
        let id = uuid_arg("draftId", &draft_id)?;
        Ok(ImportJob(service(ctx).start_import(owner, id, rows.into()).await?))
    }

    /// Forgets an uploaded file without importing anything.
    async fn cancel_import(&self, ctx: &Context<'_>, draft_id: ID) -> Result<bool> {
        let owner = may_import(ctx).await?;
        let id = uuid_arg("draftId", &draft_id)?;
        if service(ctx).cancel_import(owner, id).await? { Ok(true) } else { Err(ApiError::NotFound.into()) }
    }
}

/// The name to show: its last part (a browser may send a whole path), plain text, not too long.
fn file_name(name: &str) -> Result<String> {
    let name = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if name.is_empty() {
        return Ok("spreadsheet".into());
    }
    if heard_text::clean(name).is_err() {
        return Err(ApiError::bad_input("fileName", heard_text::ControlCharacter::MESSAGE).into());
    }
    Ok(name.chars().take(120).collect())
}
