//! [`ErasureRegister`]: the ids of every key an erasure destroyed, kept outside the data
//! directory so that a restore of an older backup can destroy them again (see
//! [`crate::backup`]); and beside it the [`BackupKeyring`], the keys under which backups hold
//! people's keys, which every erasure destroys, so that no backup Heard made before an erasure
//! can give the person's key back. Its own module, so that the store, which records each
//! erasure in it, does not depend on the backup format.

use std::io::Write as _;

use uuid::Uuid;

use crate::crypto::{KeyStore as _, SubjectKey};
use crate::error::{Error, Result};
use crate::keyfile::FileKeyStore;
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
    keyring: std::path::PathBuf,
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
        let keyring = BackupKeyring::beside(path);
        // Fails now, not at the first erasure, if the keyring cannot be written.
        drop(BackupKeyring::open(&keyring)?);
        Ok(ErasureRegister { file: std::sync::Mutex::new(file), keyring })
    }

    /// Adds `subjects` to the register and makes them durable: done before any key of theirs is
    /// destroyed, so a restore can always erase them again.
    pub fn note(&self, subjects: &[SubjectId]) -> Result<()> {
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

    /// Destroys the backup keys of `subjects` in the keyring beside the register (so every
    /// backup's copy of their keys is unusable from then on).
    pub fn destroy_backup_keys(&self, subjects: &[SubjectId]) -> Result<()> {
        if subjects.is_empty() {
            return Ok(());
        }
        BackupKeyring::open(&self.keyring)?.destroy(subjects)
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

/// The bytes of one person's key as a backup holds it: a nonce (12) and the key sealed under
/// the person's backup key (32 and a 16-byte tag).
pub const WRAPPED_LEN: usize = 12 + 32 + 16;

/// A person's key as a backup holds it (see [`BackupKeyring`]).
pub type Wrapped = [u8; WRAPPED_LEN];

/// How long a backup, a restore or an erasure waits for another process using the keyring.
const KEYRING_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The backup keyring: one random key per person (a *backup key*), in a key file beside the
/// erasure register (`REGISTER.keys`, the same format as the data directory's `keys.heard`,
/// whose destroyed keys are overwritten in place). A backup holds each person's key only
/// sealed under their backup key; an erasure destroys the backup key with the register's
/// note; so after an erasure no backup Heard made, however old, gives that person's key to
/// anyone, passphrase or not, and a restore finds the person erased.
///
/// It lives outside the data directory, on the backup volume, because a restore needs it when
/// the data directory is gone; and it is never copied into a backup. Without it no backup can
/// be restored (a keyring that does not know a backup's people is refused, not taken for one
/// where everyone was erased), so it is kept as carefully as the passphrase, but never copied,
/// since a copy would keep destroyed backup keys.
///
/// A backup, a restore and a server's erasures take turns with it: each opens it, holding its
/// lock for as long as it works with it.
pub struct BackupKeyring {
    keys: FileKeyStore,
}

impl std::fmt::Debug for BackupKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupKeyring").finish_non_exhaustive()
    }
}

/// A sealed key's associated data: what it is and whose, so a sealed key cannot be given to
/// another person.
fn wrapped_aad(subject: SubjectId) -> Vec<u8> {
    let mut aad = b"heard backup key\0".to_vec();
    aad.extend_from_slice(subject.0.as_bytes());
    aad
}

impl BackupKeyring {
    /// Where the keyring of the register at `register` lives: `REGISTER.keys`.
    pub fn beside(register: &std::path::Path) -> std::path::PathBuf {
        let mut name = register.as_os_str().to_owned();
        name.push(".keys");
        std::path::PathBuf::from(name)
    }

    /// Opens (or creates, readable by its owner only) the keyring at `path`, waiting while
    /// another process has it.
    pub fn open(path: &std::path::Path) -> Result<Self> {
        FileKeyStore::open_file(path, Some(KEYRING_WAIT)).map(|keys| BackupKeyring { keys }).map_err(
            |error| match error {
                Error::Locked => register_error(
                    "the backup keyring beside the erasure register was held by another heard backup, restore or \
                 erasure for 120 s; try again when it has finished",
                ),
                error => {
                    register_error(format!("the backup keyring beside the erasure register cannot be opened: {error}"))
                }
            },
        )
    }

    /// Opens the keyring at `path` only if it exists (a restore never makes one).
    pub fn open_existing(path: &std::path::Path) -> Result<Option<Self>> {
        if path.exists() { Self::open(path).map(Some) } else { Ok(None) }
    }

    /// `key` sealed under the person's backup key (made now if they have none), or `None` when
    /// the person was erased (their backup key is destroyed, and they never get another).
    /// Call [`Self::make_durable`] before the backup that holds it is finished.
    pub fn wrap(&self, subject: SubjectId, key: &SubjectKey) -> Result<Option<Wrapped>> {
        let backup_key = match self.keys.get_or_create(subject) {
            Ok(backup_key) => backup_key,
            Err(Error::SubjectErased) => return Ok(None),
            Err(error) => return Err(error),
        };
        let sealed = crate::crypto::seal_bytes(&backup_key, key.as_bytes(), &wrapped_aad(subject))?;
        let mut wrapped = [0; WRAPPED_LEN];
        if sealed.len() != WRAPPED_LEN {
            return Err(register_error("a sealed key has the wrong length"));
        }
        wrapped.copy_from_slice(&sealed);
        Ok(Some(wrapped))
    }

    /// Makes every backup key made by [`Self::wrap`] so far durable.
    pub fn make_durable(&self) -> Result<()> {
        self.keys.make_durable()
    }

    /// The person's key from a backup's sealed copy, or `None` when their backup key was
    /// destroyed (they were erased after the backup). A person the keyring has never heard of
    /// is an error: this is not the keyring the backup was taken with.
    pub fn unwrap(&self, subject: SubjectId, wrapped: &Wrapped) -> Result<Option<SubjectKey>> {
        if self.erased(subject)? {
            return Ok(None);
        }
        let Some(backup_key) = self.keys.get(subject)? else {
            return Err(register_error(
                "the backup keyring does not know a person whose key the backup holds: it is not the keyring \
                 beside the register the backup was taken with",
            ));
        };
        let opened = crate::crypto::open_bytes(&backup_key, wrapped, &wrapped_aad(subject))?;
        let bytes: [u8; 32] =
            opened.try_into().map_err(|_| register_error("a key in the backup has the wrong length"))?;
        Ok(Some(SubjectKey::from_bytes(bytes)))
    }

    /// Whether the person's backup key was destroyed (they were erased).
    pub fn erased(&self, subject: SubjectId) -> Result<bool> {
        Ok(self.keys.destroyed(subject)? == Some(true))
    }

    /// Destroys the backup keys of `subjects` (an erasure), overwriting them where they lie; a
    /// person who had none is marked so that no later backup makes one.
    pub fn destroy(&self, subjects: &[SubjectId]) -> Result<()> {
        self.keys.destroy_all(subjects).map(|_| ())
    }

    /// The person's backup key bytes, for tests that look for them on disk.
    #[cfg(test)]
    pub(crate) fn backup_key_bytes(&self, subject: SubjectId) -> Result<Option<[u8; 32]>> {
        Ok(self.keys.get(subject)?.map(|key| *key.as_bytes()))
    }
}
