//! Where the drafts and jobs of every account are kept (see the parent module): what they are,
//! how long they live and how many are kept. [`KeptImports`] is the seam: [`InMemory`] keeps
//! them in this process (an embedded store), [`super::postgres::InPostgres`] in a table that
//! every replica over one PostgreSQL log reads. The service picks one when it opens and calls
//! nothing else. Nothing here knows the service.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use heard_api::ApiResult;
use uuid::Uuid;

use crate::import::{Choice, Reading};

/// How long a draft is kept after it was last looked at.
pub(crate) const DRAFT_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// How long a finished job is kept, for its page and its rejected rows.
pub(crate) const JOB_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Drafts and jobs kept for one account.
pub(crate) const PER_ACCOUNT: usize = 5;
/// Drafts and jobs kept in all.
pub(crate) const IN_ALL: usize = 200;
/// Rows appended between two updates of a job's progress.
pub(super) const BATCH: usize = 64;

/// Which rows to import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// Every row; refused while any needs fixing.
    All,
    /// The rows with nothing wrong; the others are left for the coordinator to fix.
    GoodRows,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    Running,
    Finished,
    Failed,
}

/// What a preview shows: the file as read, and how many of its good rows are there already.
#[derive(Clone, Debug)]
pub struct Preview {
    pub id: Uuid,
    pub hub: String,
    pub file_name: String,
    pub reading: Arc<Reading>,
    /// Good rows imported before, which will be skipped.
    pub already_there: usize,
}

impl Preview {
    /// Good rows that will be added.
    pub fn ready_rows(&self) -> usize {
        self.reading.parsed.rows.len() - self.already_there
    }
}

/// An import under way or done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: Uuid,
    pub hub: String,
    pub file_name: String,
    pub state: JobState,
    /// Rows it will go through.
    pub total: usize,
    /// Rows gone through so far (added or found there already).
    pub done: usize,
    pub imported: usize,
    pub already_there: usize,
    /// Rows left out because they need fixing.
    pub rows_to_fix: usize,
    /// Why it failed, in plain words.
    pub message: Option<String>,
}

/// An uploaded file, unwritten, for its owner to look at and confirm.
#[derive(Clone, Debug)]
pub(crate) struct Draft {
    pub(crate) owner: Uuid,
    pub(crate) hub: String,
    pub(crate) file_name: String,
    pub(crate) bytes: Arc<Vec<u8>>,
    pub(crate) sheet: Option<String>,
    pub(crate) choices: Vec<Choice>,
    /// Counts the draft's revisions (another sheet, other columns), so that a reading kept by
    /// one replica is not taken for a later revision read on another.
    pub(crate) revision: i64,
    /// The file as read with `sheet` and `choices`; `None` when this process has not read this
    /// revision yet (it was uploaded or revised on another replica).
    pub(crate) reading: Option<Arc<Reading>>,
}

/// A job as the store has it.
#[derive(Clone, Debug)]
pub(crate) enum FoundJob {
    Job(Job),
    /// Still marked running, but the process running it has stopped renewing its lease: it
    /// stopped part of the way. `draft` is the file it was importing (to count what is in the
    /// log), when the store still has it; `already_at_start` the good rows found there already
    /// when it started.
    Interrupted {
        job: Job,
        draft: Option<Draft>,
        already_at_start: usize,
    },
}

/// Where drafts and jobs are kept. Every call is for one account: another account's draft or
/// job is not found, as one that never was.
#[async_trait]
pub(crate) trait KeptImports: Send + Sync + std::fmt::Debug {
    /// Keeps a new draft under `id`, making room first (the owner's and then anyone's least
    /// recently touched draft or finished job goes).
    async fn keep(&self, id: Uuid, draft: Draft) -> ApiResult<()>;

    /// The owner's draft `id`, touched (its lifetime starts again).
    async fn draft(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<Draft>>;

    /// Keeps `reading` as this process's reading of the draft at `revision` (read here after
    /// another replica uploaded or revised it).
    fn remember(&self, id: Uuid, revision: i64, reading: Arc<Reading>);

    /// Replaces the draft's sheet, choices and reading. False when there is no such draft of
    /// the owner's.
    async fn revise(&self, owner: Uuid, id: Uuid, revised: &Draft) -> ApiResult<bool>;

    /// Forgets the owner's draft. False when there was none.
    async fn cancel(&self, owner: Uuid, id: Uuid) -> ApiResult<bool>;

    /// Turns the owner's draft `job.id` into the running `job`, run by this process, with the
    /// CSV of its rows to fix. False when the draft is gone or was confirmed already: of two
    /// confirmations at once, one starts the job.
    async fn start(&self, owner: Uuid, job: &Job, rejects: Vec<u8>, already_at_start: usize) -> ApiResult<bool>;

    /// Records how far the job has got (and, once it is not running, that it ended: its file
    /// is forgotten then). False when the job is no longer this process's to run.
    async fn progress(&self, job: &Job) -> ApiResult<bool>;

    /// Records that the running job (found [`FoundJob::Interrupted`]) stopped part of the way,
    /// as `job` says, unless another replica recorded it first; its file is forgotten.
    async fn interrupted(&self, job: &Job) -> ApiResult<()>;

    /// Says that this process is still running the job. False when it no longer is its to run.
    async fn renew(&self, id: Uuid) -> ApiResult<bool>;

    /// The owner's job `id`.
    async fn job(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<FoundJob>>;

    /// The rows of the owner's job `id` that needed fixing, as a CSV file.
    async fn rejects(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<Vec<u8>>>;

    /// Forgets whatever has outlived its lifetime.
    async fn prune(&self) -> ApiResult<()>;

    /// Moves this store's clock forward, to see drafts and jobs expire.
    #[cfg(test)]
    fn advance_clock(&self, by: Duration);
}

/// The drafts and jobs of every account. (The lock an import takes while it adds rows is
/// `service::IMPORTING`, held across replicas.)
#[derive(Debug)]
pub struct Imports {
    pub(crate) kept: Arc<dyn KeptImports>,
}

impl Default for Imports {
    fn default() -> Self {
        Imports::new(Arc::new(InMemory::default()))
    }
}

impl Imports {
    pub(crate) fn new(kept: Arc<dyn KeptImports>) -> Self {
        Imports { kept }
    }
}

#[derive(Debug)]
enum Kept {
    Draft(Draft),
    Job { owner: Uuid, job: Job, rejects: Arc<Vec<u8>> },
}

impl Kept {
    fn owner(&self) -> Uuid {
        match self {
            Kept::Draft(draft) => draft.owner,
            Kept::Job { owner, .. } => *owner,
        }
    }

    fn running(&self) -> bool {
        matches!(self, Kept::Job { job, .. } if job.state == JobState::Running)
    }

    fn expired(&self, touched: Instant, now: Instant) -> bool {
        let lifetime = match self {
            Kept::Draft(_) => DRAFT_LIFETIME,
            Kept::Job { job, .. } if job.state == JobState::Running => return false,
            Kept::Job { .. } => JOB_LIFETIME,
        };
        now.duration_since(touched) > lifetime
    }
}

/// Drafts and jobs in this process's memory: a restart forgets them (the embedded default).
#[derive(Debug, Default)]
pub(crate) struct InMemory {
    kept: Mutex<HashMap<Uuid, (Kept, Instant)>>,
    /// How far [`KeptImports::advance_clock`] has moved this store's clock.
    #[cfg(test)]
    offset: Mutex<Duration>,
}

impl InMemory {
    fn now(&self) -> Instant {
        #[cfg(test)]
        {
            Instant::now() + *self.offset.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
        }
        #[cfg(not(test))]
        Instant::now()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<Uuid, (Kept, Instant)>, Instant) -> T) -> T {
        let now = self.now();
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.retain(|_, (entry, touched)| !entry.expired(*touched, now));
        f(&mut kept, now)
    }
}

#[async_trait]
impl KeptImports for InMemory {
    async fn keep(&self, id: Uuid, draft: Draft) -> ApiResult<()> {
        self.with(|kept, now| {
            let owner = draft.owner;
            let theirs = kept.values().filter(|(kept, _)| kept.owner() == owner).count();
            if theirs >= PER_ACCOUNT {
                evict_oldest(kept, |kept| kept.owner() == owner);
            }
            if kept.len() >= IN_ALL {
                evict_oldest(kept, |_| true);
            }
            kept.insert(id, (Kept::Draft(draft), now));
        });
        Ok(())
    }

    async fn draft(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<Draft>> {
        Ok(self.with(|kept, now| match kept.get_mut(&id) {
            Some((Kept::Draft(draft), touched)) if draft.owner == owner => {
                *touched = now;
                Some(draft.clone())
            }
            _ => None,
        }))
    }

    fn remember(&self, _id: Uuid, _revision: i64, _reading: Arc<Reading>) {
        // Every draft here keeps its reading.
    }

    async fn revise(&self, owner: Uuid, id: Uuid, revised: &Draft) -> ApiResult<bool> {
        Ok(self.with(|kept, now| match kept.get_mut(&id) {
            Some((Kept::Draft(draft), touched)) if draft.owner == owner => {
                draft.sheet = revised.sheet.clone();
                draft.choices = revised.choices.clone();
                draft.reading = revised.reading.clone();
                draft.revision += 1;
                *touched = now;
                true
            }
            _ => false,
        }))
    }

    async fn cancel(&self, owner: Uuid, id: Uuid) -> ApiResult<bool> {
        Ok(self.with(|kept, _| match kept.get(&id) {
            Some((Kept::Draft(draft), _)) if draft.owner == owner => kept.remove(&id).is_some(),
            _ => false,
        }))
    }

    async fn start(&self, owner: Uuid, job: &Job, rejects: Vec<u8>, _already_at_start: usize) -> ApiResult<bool> {
        Ok(self.with(|kept, now| match kept.get(&job.id) {
            Some((Kept::Draft(draft), _)) if draft.owner == owner => {
                let entry = Kept::Job { owner, job: job.clone(), rejects: Arc::new(rejects) };
                kept.insert(job.id, (entry, now));
                true
            }
            _ => false,
        }))
    }

    async fn progress(&self, update: &Job) -> ApiResult<bool> {
        Ok(self.with(|kept, now| match kept.get_mut(&update.id) {
            Some((Kept::Job { job, .. }, touched)) if job.state == JobState::Running => {
                *job = update.clone();
                *touched = now;
                true
            }
            _ => false,
        }))
    }

    async fn interrupted(&self, _job: &Job) -> ApiResult<()> {
        // A job kept in memory runs in this process: it is never found interrupted.
        Ok(())
    }

    async fn renew(&self, id: Uuid) -> ApiResult<bool> {
        Ok(self.with(|kept, _| kept.get(&id).is_some_and(|(entry, _)| entry.running())))
    }

    async fn job(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<FoundJob>> {
        Ok(self.with(|kept, _| match kept.get(&id) {
            Some((Kept::Job { owner: theirs, job, .. }, _)) if *theirs == owner => Some(FoundJob::Job(job.clone())),
            _ => None,
        }))
    }

    async fn rejects(&self, owner: Uuid, id: Uuid) -> ApiResult<Option<Vec<u8>>> {
        Ok(self.with(|kept, _| match kept.get(&id) {
            Some((Kept::Job { owner: theirs, rejects, .. }, _)) if *theirs == owner => Some(rejects.to_vec()),
            _ => None,
        }))
    }

    async fn prune(&self) -> ApiResult<()> {
        self.with(|_, _| ());
        Ok(())
    }

    #[cfg(test)]
    fn advance_clock(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += by;
    }
}

/// Forgets the least recently touched entry that `which` picks, never a running job.
fn evict_oldest(kept: &mut HashMap<Uuid, (Kept, Instant)>, which: impl Fn(&Kept) -> bool) {
    let oldest = kept
        .iter()
        .filter(|(_, (entry, _))| which(entry) && !entry.running())
        .min_by_key(|(_, (_, touched))| *touched)
        .map(|(id, _)| *id);
    if let Some(id) = oldest {
        kept.remove(&id);
    }
}
