//! Importing a spreadsheet while Heard runs: the coordinator uploads a file, reads what Heard
//! found in it (a *draft*: read, never written), chooses a sheet or columns if need be, and
//! confirms; the rows are then imported in the background (a *job*) while the page shows how far
//! it has got.
//!
//! Drafts and jobs are for the account that uploaded the file and no one else: a draft for an
//! hour after it was last looked at, a finished job for a day. At most [`kept::PER_ACCOUNT`]
//! drafts and jobs are kept for one account, and [`kept::IN_ALL`] in all: the oldest go first.
//! Where they are kept is [`kept::KeptImports`]: over an embedded log, in the server's memory
//! ([`kept::InMemory`]: a restart forgets them); over PostgreSQL, in a table every replica reads,
//! the drafts sealed under a key derived from the server key ([`postgres`]), so that each step
//! may reach any replica. Either way the log holds whatever a job imported, and importing the
//! same file again adds only what is not there yet (each row's import key). A job runs on the
//! process that started it; over PostgreSQL, one whose process stopped part of the way is shown
//! as stopped, with how many of the file's rows are in Heard.
//!
//! Reading a file is CPU work (a large workbook takes a second or two), so it runs on the
//! blocking pool; jobs take one lock so that two imports never check and add the same row at
//! once.

pub(crate) mod kept;
pub mod postgres;

use std::sync::Arc;

use heard_api::{ApiError, ApiResult};
use uuid::Uuid;

use self::kept::{BATCH, Draft, FoundJob};
pub use self::kept::{Imports, Job, JobState, Preview, Which};
pub use self::postgres::ImportKey;
use crate::import::{self, Choice, FileError, Known, Options, Reading};
use crate::service::{FeedbackService, today};

/// The refusal for a file that cannot be read at all, on the input's `file` field.
fn file_error(error: FileError) -> ApiError {
    ApiError::bad_input("file", error.to_string())
}

impl FeedbackService {
    /// The hub's known providers and themes, and today, to check rows against.
    fn read_file(
        &self,
        hub: &str,
        bytes: &[u8],
        sheet: Option<&str>,
        choices: &[Choice],
    ) -> Result<Reading, FileError> {
        let (providers, vocabulary): (Vec<(String, String)>, _) = self.read(|state| {
            let providers = state.reference.providers.iter().map(|(id, name)| (id.clone(), name.clone())).collect();
            (providers, state.vocabulary.clone())
        });
        let known = Known { hub, providers: &providers, vocabulary: &vocabulary, today: today() };
        import::read(bytes, Options { sheet, choices, max_bytes: import::MAX_FILE_BYTES }, known)
    }

    async fn read_in_background(
        &self,
        hub: String,
        bytes: Arc<Vec<u8>>,
        sheet: Option<String>,
        choices: Vec<Choice>,
    ) -> ApiResult<Reading> {
        let service = self.clone();
        tokio::task::spawn_blocking(move || service.read_file(&hub, &bytes, sheet.as_deref(), &choices))
            .await
            .map_err(ApiError::internal)?
            .map_err(file_error)
    }

    /// How many of the good rows read are in the log already.
    fn already_there(&self, reading: &Reading) -> usize {
        self.read(|state| {
            reading
                .parsed
                .rows
                .iter()
                .filter(|row| row.item.import_key.as_ref().is_some_and(|key| state.import_keys.contains(key)))
                .count()
        })
    }

    fn preview_of(&self, id: Uuid, hub: &str, file_name: &str, reading: Arc<Reading>) -> Preview {
        let already_there = self.already_there(&reading);
        Preview { id, hub: hub.to_owned(), file_name: file_name.to_owned(), reading, already_there }
    }

    /// Reads an uploaded file for `hub` and keeps it, unwritten, for `owner` to look at and
    /// confirm. The caller has checked that `owner` may import into `hub`.
    pub async fn upload_import(
        &self,
        owner: Uuid,
        hub: String,
        file_name: String,
        bytes: Vec<u8>,
        sheet: Option<String>,
        choices: Vec<Choice>,
    ) -> ApiResult<Preview> {
        if !self.read(|state| state.reference.hubs.contains_key(&hub)) {
            return Err(ApiError::bad_input("hub", "there is no such hub; see the `hubs` query"));
        }
        if bytes.len() > import::MAX_FILE_BYTES {
            return Err(file_error(FileError::TooBig(import::MAX_FILE_BYTES)));
        }
        let bytes = Arc::new(bytes);
        let reading =
            Arc::new(self.read_in_background(hub.clone(), bytes.clone(), sheet.clone(), choices.clone()).await?);
        let id = Uuid::new_v4();
        let preview = self.preview_of(id, &hub, &file_name, reading.clone());
        let draft = Draft { owner, hub, file_name, bytes, sheet, choices, revision: 0, reading: Some(reading) };
        self.kept().keep(id, draft).await?;
        Ok(preview)
    }

    fn kept(&self) -> &dyn kept::KeptImports {
        self.inner().imports.kept.as_ref()
    }

    /// The owner's draft `id` with its reading (read here if this process has not read it).
    async fn draft(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<(Draft, Arc<Reading>)>> {
        let Some(draft) = self.kept().draft(owner, id).await? else { return Ok(None) };
        let reading = match &draft.reading {
            Some(reading) => reading.clone(),
            None => {
                let reading = self
                    .read_in_background(
                        draft.hub.clone(),
                        draft.bytes.clone(),
                        draft.sheet.clone(),
                        draft.choices.clone(),
                    )
                    .await?;
                let reading = Arc::new(reading);
                self.kept().remember(id, draft.revision, reading.clone());
                reading
            }
        };
        Ok(Some((draft, reading)))
    }

    /// Reads the kept file again with another sheet or other column choices.
    pub async fn revise_import(
        &self,
        owner: Uuid,
        id: Uuid,
        sheet: Option<String>,
        choices: Vec<Choice>,
    ) -> ApiResult<Preview> {
        let draft = self.kept().draft(owner, id).await?.ok_or(ApiError::NotFound)?;
        let reading = Arc::new(
            self.read_in_background(draft.hub.clone(), draft.bytes.clone(), sheet.clone(), choices.clone()).await?,
        );
        let revised = Draft { sheet, choices, reading: Some(reading.clone()), ..draft };
        if !self.kept().revise(owner, id, &revised).await? {
            return Err(ApiError::NotFound);
        }
        Ok(self.preview_of(id, &revised.hub, &revised.file_name, reading))
    }

    /// The draft `id`, for its owner only.
    pub async fn import_preview(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<Preview>> {
        let Some((draft, reading)) = self.draft(owner, id).await? else { return Ok(None) };
        Ok(Some(self.preview_of(id, &draft.hub, &draft.file_name, reading)))
    }

    /// The job `id`, for its owner only. A job whose process stopped part of the way is
    /// reported as failed, with how many of the file's good rows are in the log now.
    pub async fn import_job(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<Job>> {
        let (mut job, draft, already_at_start) = match self.kept().job(owner, id).await? {
            None => return Ok(None),
            Some(FoundJob::Job(job)) => return Ok(Some(job)),
            Some(FoundJob::Interrupted { job, draft, already_at_start }) => (job, draft, already_at_start),
        };
        if let Some(draft) = draft {
            let reading = self.read_in_background(draft.hub, draft.bytes, draft.sheet, draft.choices).await?;
            let in_log = self.already_there(&reading);
            let imported = in_log.saturating_sub(already_at_start).max(job.imported);
            job.done = (job.done + imported - job.imported).min(job.total);
            job.imported = imported;
        }
        job.state = JobState::Failed;
        job.message = Some(format!(
            "the server running the import stopped part of the way; the {} {} added {} kept, and importing the same file again adds the rest",
            job.imported,
            if job.imported == 1 { "item" } else { "items" },
            if job.imported == 1 { "is" } else { "are" },
        ));
        // Recorded once, by whichever replica sees it first; its file goes with it.
        self.kept().interrupted(&job).await?;
        Ok(Some(job))
    }

    /// The rows that need fixing, as a CSV file, for the draft or the job it became.
    pub async fn import_rejects(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<Vec<u8>>> {
        if let Some((_, reading)) = self.draft(owner, id).await? {
            return Ok(Some(import::rejects_csv(&reading)));
        }
        self.kept().rejects(owner, id).await
    }

    /// Forgets a draft without importing anything. False when there was none of theirs.
    pub async fn cancel_import(&self, owner: Uuid, id: Uuid) -> ApiResult<bool> {
        self.kept().cancel(owner, id).await
    }

    /// Confirms a draft: its rows are imported in the background, as `owner`, and the draft
    /// becomes a job of the same id.
    pub async fn start_import(&self, owner: Uuid, id: Uuid, which: Which) -> ApiResult<Job> {
        let (draft, reading) = self.draft(owner, id).await?.ok_or(ApiError::NotFound)?;
        if let Some(problem) = &reading.problem {
            return Err(ApiError::bad_input("draftId", format!("this file cannot be imported as it is: {problem}")));
        }
        let rows_to_fix = reading.parsed.rows_to_fix();
        if which == Which::All && rows_to_fix > 0 {
            return Err(ApiError::bad_input(
                "rows",
                format!(
                    "{rows_to_fix} {} need fixing; import the good rows and fix the others, or fix the file and upload it again",
                    if rows_to_fix == 1 { "row" } else { "rows" }
                ),
            ));
        }
        let job = Job {
            id,
            hub: draft.hub,
            file_name: draft.file_name,
            state: JobState::Running,
            total: reading.parsed.rows.len(),
            done: 0,
            imported: 0,
            already_there: 0,
            rows_to_fix,
            message: None,
        };
        let rejects = import::rejects_csv(&reading);
        if !self.kept().start(owner, &job, rejects, self.already_there(&reading)).await? {
            // Confirmed a moment ago (on this replica or another), or gone.
            return Err(ApiError::NotFound);
        }
        let service = self.clone();
        let running = job.clone();
        tokio::spawn(async move { service.run_import(owner, running, reading).await });
        Ok(job)
    }

    /// Imports the rows, writing how far it has got after each batch and renewing its lease
    /// meanwhile; stops when the job is no longer this process's to run (another replica took
    /// it for stopped).
    async fn run_import(&self, owner: Uuid, mut job: Job, reading: Arc<Reading>) {
        let heartbeat = {
            let service = self.clone();
            let id = job.id;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(postgres::RENEW_EVERY).await;
                    match service.kept().renew(id).await {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(error) => tracing::warn!(error = %error.message(), "an import's lease was not renewed"),
                    }
                }
            })
        };
        let rows: Vec<_> = reading.parsed.rows.iter().map(|row| row.item.clone()).collect();
        let mut outcome = Ok(());
        for batch in rows.chunks(BATCH) {
            match self.import(owner, batch.to_vec()).await {
                Ok((imported, already)) => {
                    job.done += batch.len();
                    job.imported += imported;
                    job.already_there += already;
                    if !self.record(&job).await {
                        heartbeat.abort();
                        return;
                    }
                }
                Err(error) => {
                    tracing::warn!(error = %error.message(), "an import stopped part of the way");
                    outcome = Err(error);
                    break;
                }
            }
        }
        heartbeat.abort();
        match outcome {
            Ok(()) => job.state = JobState::Finished,
            Err(_) => {
                job.state = JobState::Failed;
                job.message = Some(
                    "the import stopped part of the way; what was added is kept, and importing the same file again adds the rest"
                        .into(),
                );
            }
        }
        self.record(&job).await;
    }

    /// Writes the job's progress; false when it is no longer this process's to run.
    async fn record(&self, job: &Job) -> bool {
        match self.kept().progress(job).await {
            Ok(mine) => mine,
            Err(error) => {
                // The import carries on; its page shows the last progress written.
                tracing::warn!(error = %error.message(), "an import's progress was not recorded");
                true
            }
        }
    }
}
