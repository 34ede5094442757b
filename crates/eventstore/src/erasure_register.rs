//! [`ErasureRegister`]: the ids of every key an erasure destroyed, kept outside the data
//! directory so that a restore of an older backup can destroy them again (see
//! [`crate::backup`]). Its own module, so that the store, which records each erasure in it,
//! does not depend on the backup format.

use std::io::Write as _;

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::types::SubjectId;

fn register_error(detail: impl Into<String>) -> Error {
    Error::Backup { detail: detail.into() }
}

/// The erasure register: a file outside the data directory (beside the backups) to which every
/// erasure adds the ids of the keys it destroys, made durable before any key is destroyed, so
/// that `heard restore` of a backup taken before an erasure can destroy those keys again. One
/// subject id (a UUID, never personal data) a line.
pub struct ErasureRegister {
    file: std::sync::Mutex<std::fs::File>,
}

impl std::fmt::Debug for ErasureRegister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErasureRegister").finish_non_exhaustive()
    }
}

impl ErasureRegister {
    /// Opens (or creates, readable by its owner only) the register at `path` for appending.
    pub fn open(path: &std::path::Path) -> Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let file =
            std::fs::OpenOptions::new().append(true).create(true).mode(0o600).open(path).map_err(|error| {
                register_error(format!("the erasure register cannot be opened for writing: {error}"))
            })?;
        Ok(ErasureRegister { file: std::sync::Mutex::new(file) })
    }

    /// Adds `subjects` and makes them durable.
    pub fn record(&self, subjects: &[SubjectId]) -> Result<()> {
        if subjects.is_empty() {
            return Ok(());
        }
        let mut lines = String::with_capacity(subjects.len() * 37);
        for subject in subjects {
            lines.push_str(&subject.0.hyphenated().to_string());
            lines.push('\n');
        }
        let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(lines.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|error| register_error(format!("the erasure register cannot be written: {error}")))
    }

    /// Every subject the register at `path` names; a line that is not a subject id is an error
    /// naming its number (a last line cut short by a crash is skipped).
    pub fn read(path: &std::path::Path) -> Result<Vec<SubjectId>> {
        let text = std::fs::read(path)
            .map_err(|error| register_error(format!("the erasure register cannot be read: {error}")))?;
        let whole = text.ends_with(b"\n");
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text.split('\n').collect();
        let mut subjects = Vec::new();
        for (n, line) in lines.iter().enumerate() {
            let line = line.trim();
            let is_last = n + 1 == lines.len();
            if line.is_empty() || (is_last && !whole) {
                continue;
            }
            let subject = Uuid::parse_str(line)
                .map_err(|_| register_error(format!("line {} of the erasure register is not a subject id", n + 1)))?;
            subjects.push(SubjectId(subject));
        }
        Ok(subjects)
    }
}
