//! Importing a spreadsheet while Heard runs: the coordinator uploads a file, reads what Heard
//! found in it (a *draft*: read, never written), chooses a sheet or columns if need be, and
//! confirms; the rows are then imported in the background (a *job*) while the page shows how far
//! it has got.
//!
//! Drafts and jobs live in the server's memory only, for the account that uploaded the file and
//! no one else: a draft for an hour after it was last looked at, a finished job for a day. A
//! restart forgets them; the log holds whatever a job imported, and importing the same file
//! again adds only what is not there yet (each row's import key). At most [`PER_ACCOUNT`]
//! drafts and jobs are kept for one account, and [`IN_ALL`] in all: the oldest go first.
//!
//! Reading a file is CPU work (a large workbook takes a second or two), so it runs on the
//! blocking pool; jobs take one lock so that two imports never check and add the same row at
//! once.

pub(crate) mod kept;

use std::sync::Arc;
use std::time::Instant;

use heard_api::{ApiError, ApiResult};
use uuid::Uuid;

use self::kept::{BATCH, Draft, Kept};
pub use self::kept::{Imports, Job, JobState, Preview, Which};
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

    fn preview_of(&self, id: Uuid, hub: &str, file_name: &str, reading: Arc<Reading>) -> Preview {
        let already_there = self.read(|state| {
            reading
                .parsed
                .rows
                .iter()
                .filter(|row| row.item.import_key.as_ref().is_some_and(|key| state.import_keys.contains(key)))
                .count()
        });
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
        let reading = Arc::new(self.read_in_background(hub.clone(), bytes.clone(), sheet, choices).await?);
        let id = Uuid::new_v4();
        let preview = self.preview_of(id, &hub, &file_name, reading.clone());
        self.inner().imports.keep(id, Kept::Draft(Draft { owner, hub, file_name, bytes, reading }));
        Ok(preview)
    }

    /// Reads the kept file again with another sheet or other column choices.
    pub async fn revise_import(
        &self,
        owner: Uuid,
        id: Uuid,
        sheet: Option<String>,
        choices: Vec<Choice>,
    ) -> ApiResult<Preview> {
        let (hub, file_name, bytes) = self.inner().imports.with(|kept| match kept.get_mut(&id) {
            Some((Kept::Draft(draft), touched)) if draft.owner == owner => {
                *touched = Instant::now();
                Ok((draft.hub.clone(), draft.file_name.clone(), draft.bytes.clone()))
            }
            _ => Err(ApiError::NotFound),
        })?;
        let reading = Arc::new(self.read_in_background(hub.clone(), bytes, sheet, choices).await?);
        self.inner().imports.with(|kept| match kept.get_mut(&id) {
            Some((Kept::Draft(draft), _)) if draft.owner == owner => {
                draft.reading = reading.clone();
                Ok(())
            }
            _ => Err(ApiError::NotFound),
        })?;
        Ok(self.preview_of(id, &hub, &file_name, reading))
    }

    /// The draft `id`, for its owner only.
    pub fn import_preview(&self, owner: Uuid, id: Uuid) -> Option<Preview> {
        let (hub, file_name, reading) = self.inner().imports.with(|kept| match kept.get_mut(&id) {
            Some((Kept::Draft(draft), touched)) if draft.owner == owner => {
                *touched = Instant::now();
                Some((draft.hub.clone(), draft.file_name.clone(), draft.reading.clone()))
            }
            _ => None,
        })?;
        Some(self.preview_of(id, &hub, &file_name, reading))
    }

    /// The job `id`, for its owner only.
    pub fn import_job(&self, owner: Uuid, id: Uuid) -> Option<Job> {
        self.inner().imports.with(|kept| match kept.get(&id) {
            Some((Kept::Job { owner: theirs, job, .. }, _)) if *theirs == owner => Some(job.clone()),
            _ => None,
        })
    }

    /// The rows that need fixing, as a CSV file, for the draft or the job it became.
    pub fn import_rejects(&self, owner: Uuid, id: Uuid) -> Option<Vec<u8>> {
        let reading = self.inner().imports.with(|kept| match kept.get(&id) {
            Some((Kept::Draft(draft), _)) if draft.owner == owner => Some(draft.reading.clone()),
            Some((Kept::Job { owner: theirs, reading, .. }, _)) if *theirs == owner => Some(reading.clone()),
            _ => None,
        })?;
        Some(import::rejects_csv(&reading))
    }

    /// Forgets a draft without importing anything. False when there was none of theirs.
    pub fn cancel_import(&self, owner: Uuid, id: Uuid) -> bool {
        self.inner().imports.with(|kept| match kept.get(&id) {
            Some((Kept::Draft(draft), _)) if draft.owner == owner => kept.remove(&id).is_some(),
            _ => false,
        })
    }

    /// Confirms a draft: its rows are imported in the background, as `owner`, and the draft
    /// becomes a job of the same id.
    pub fn start_import(&self, owner: Uuid, id: Uuid, which: Which) -> ApiResult<Job> {
        let (hub, file_name, reading) = self.inner().imports.with(|kept| match kept.get(&id) {
            Some((Kept::Draft(draft), _)) if draft.owner == owner => {
                Ok((draft.hub.clone(), draft.file_name.clone(), draft.reading.clone()))
            }
            _ => Err(ApiError::NotFound),
        })?;
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
            hub,
            file_name,
            state: JobState::Running,
            total: reading.parsed.rows.len(),
            done: 0,
            imported: 0,
            already_there: 0,
            rows_to_fix,
            message: None,
        };
        self.inner().imports.keep(id, Kept::Job { owner, job: job.clone(), reading: reading.clone() });
        let service = self.clone();
        tokio::spawn(async move { service.run_import(owner, id, reading).await });
        Ok(job)
    }

    async fn run_import(&self, owner: Uuid, id: Uuid, reading: Arc<Reading>) {
        let rows: Vec<_> = reading.parsed.rows.iter().map(|row| row.item.clone()).collect();
        let mut outcome = Ok(());
        for batch in rows.chunks(BATCH) {
            match self.import(owner, batch.to_vec()).await {
                Ok((imported, already)) => self.progress(id, |job| {
                    job.done += batch.len();
                    job.imported += imported;
                    job.already_there += already;
                }),
                Err(error) => {
                    tracing::warn!(error = %error.message(), "an import stopped part of the way");
                    outcome = Err(error);
                    break;
                }
            }
        }
        self.progress(id, |job| match outcome {
            Ok(()) => job.state = JobState::Finished,
            Err(_) => {
                job.state = JobState::Failed;
                job.message = Some(
                    "the import stopped part of the way; what was added is kept, and importing the same file again adds the rest"
                        .into(),
                );
            }
        });
    }

    fn progress(&self, id: Uuid, change: impl FnOnce(&mut Job)) {
        self.inner().imports.with(|kept| {
            if let Some((Kept::Job { job, .. }, touched)) = kept.get_mut(&id) {
                change(job);
                *touched = Instant::now();
            }
        });
    }
}
