//! The drafts and jobs of every account, kept in memory (see the parent module): what they
//! are, how long they live and how many are kept. Nothing here knows the service.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::import::Reading;

/// How long a draft is kept after it was last looked at.
const DRAFT_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// How long a finished job is kept, for its page and its rejected rows.
const JOB_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Drafts and jobs kept for one account.
const PER_ACCOUNT: usize = 5;
/// Drafts and jobs kept in all.
const IN_ALL: usize = 200;
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
#[derive(Clone, Debug)]
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

#[derive(Debug)]
pub(super) struct Draft {
    pub(super) owner: Uuid,
    pub(super) hub: String,
    pub(super) file_name: String,
    pub(super) bytes: Arc<Vec<u8>>,
    pub(super) reading: Arc<Reading>,
}

#[derive(Debug)]
pub(super) enum Kept {
    Draft(Draft),
    Job { owner: Uuid, job: Job, reading: Arc<Reading> },
}

impl Kept {
    fn owner(&self) -> Uuid {
        match self {
            Kept::Draft(draft) => draft.owner,
            Kept::Job { owner, .. } => *owner,
        }
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

/// The drafts and jobs of every account.
#[derive(Debug, Default)]
pub struct Imports {
    kept: Mutex<HashMap<Uuid, (Kept, Instant)>>,
    /// Held while a job checks and adds rows.
    adding: tokio::sync::Mutex<()>,
}

impl Imports {
    pub(super) fn with<T>(&self, f: impl FnOnce(&mut HashMap<Uuid, (Kept, Instant)>) -> T) -> T {
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        kept.retain(|_, (entry, touched)| !entry.expired(*touched, now));
        f(&mut kept)
    }

    /// Keeps `entry` under `id`, making room first.
    pub(super) fn keep(&self, id: Uuid, entry: Kept) {
        self.with(|kept| {
            let owner = entry.owner();
            let theirs = kept.values().filter(|(kept, _)| kept.owner() == owner).count();
            if theirs >= PER_ACCOUNT {
                evict_oldest(kept, |kept| kept.owner() == owner);
            }
            if kept.len() >= IN_ALL {
                evict_oldest(kept, |_| true);
            }
            kept.insert(id, (entry, Instant::now()));
        });
    }

    pub(crate) fn adding(&self) -> &tokio::sync::Mutex<()> {
        &self.adding
    }
}

/// Forgets the least recently touched entry that `which` picks, never a running job.
fn evict_oldest(kept: &mut HashMap<Uuid, (Kept, Instant)>, which: impl Fn(&Kept) -> bool) {
    let oldest = kept
        .iter()
        .filter(|(_, (entry, _))| {
            which(entry) && !matches!(entry, Kept::Job { job, .. } if job.state == JobState::Running)
        })
        .min_by_key(|(_, (_, touched))| *touched)
        .map(|(id, _)| *id);
    if let Some(id) = oldest {
        kept.remove(&id);
    }
}
