//! Opening a sled database in one place, so that a database this process closed a moment ago
//! can be opened again.
//!
//! sled lets go of its file lock only when its own background threads have dropped their last
//! handle, which can be a little after the last `sled::Db` is dropped. A restart inside one
//! process (a test, or `heard serve` started again by the same supervisor) would then see its
//! own lock. A database this process has opened before is therefore retried for a short while;
//! one it never opened fails at once, so a second process is still refused straight away.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// How long to wait for this process's own earlier handle to let go.
const OWN_LOCK_WAIT: Duration = Duration::from_secs(5);

static OPENED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn opened_before(path: &Path) -> bool {
    OPENED.lock().unwrap_or_else(PoisonError::into_inner).contains(&identity(path))
}

/// Opens the sled database at `path` with `config` (whose path is set here).
pub(crate) fn open(config: sled::Config, path: &Path) -> Result<sled::Db> {
    let config = config.path(path);
    let deadline = Instant::now() + OWN_LOCK_WAIT;
    loop {
        match config.open().map_err(Error::from) {
            Ok(db) => {
                OPENED.lock().unwrap_or_else(PoisonError::into_inner).insert(identity(path));
                return Ok(db);
            }
            Err(Error::Locked) if Instant::now() < deadline && opened_before(path) => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_this_process_just_closed_opens_again_even_while_sled_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        for round in 0..20u32 {
            let db = open(sled::Config::new(), &path).unwrap();
            db.insert(b"round", &round.to_be_bytes()).unwrap();
            db.flush().unwrap();
            drop(db);
        }
        let db = open(sled::Config::new(), &path).unwrap();
        assert_eq!(db.get(b"round").unwrap().as_deref(), Some(&19u32.to_be_bytes()[..]));
    }

    #[test]
    fn a_database_held_open_is_refused_as_locked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let _held = sled::Config::new().path(&path).open().unwrap();
        assert!(matches!(open(sled::Config::new(), &path), Err(Error::Locked)));
    }
}
