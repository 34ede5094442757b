//! Secrets shown once: a new account's or a reset one-time password, a new API token. The form
//! that makes one posts, and its answer is a redirect (post/redirect/get), so the secret cannot
//! travel in the address (it would sit in the browser's history) nor be lost when the page is
//! refreshed, and refreshing must not make the account a second time. So the handler keeps the
//! secret here, in the server's memory, for the session that made it, and the page the browser
//! is sent to takes it: it is shown on that one view, and never again.
//!
//! The server keeps them through [`Backend::keep_once`](crate::Backend::keep_once) (heard-identity
//! seals them and keeps them where every replica finds them). This is the same in memory, for
//! the web UI's own tests: an entry nobody came for is dropped after [`KEPT_FOR`], and there
//! are never more than [`MAX_KEPT`] at once.

#[cfg(test)]
use std::collections::HashMap;
#[cfg(test)]
use std::sync::{Arc, Mutex};
use std::time::Duration;
#[cfg(test)]
use std::time::Instant;

#[cfg(test)]
use uuid::Uuid;

/// How long a secret waits for the page that shows it.
pub(crate) const KEPT_FOR: Duration = Duration::from_secs(10 * 60);
/// The most secrets kept at once; beyond it the oldest go first.
pub(crate) const MAX_KEPT: usize = 1_000;

#[cfg(test)]
/// Which secret: the session that made it, and its slot (what it is for, such as
/// `account-<id>`).
type Key = (Uuid, String);

#[cfg(test)]
/// A secret, and when it was kept.
type Kept = (Instant, String);

/// Secrets waiting for the one page view that shows them.
#[cfg(test)]
#[derive(Clone, Debug, Default)]
pub(crate) struct ShownOnce {
    kept: Arc<Mutex<HashMap<Key, Kept>>>,
}

#[cfg(test)]
impl ShownOnce {
    /// Keeps `secret` for `session`'s next view of the page for `slot`, in place of any secret
    /// kept there before.
    pub fn keep(&self, session: Uuid, slot: &str, secret: String) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|_, (at, _)| at.elapsed() < KEPT_FOR);
        while kept.len() >= MAX_KEPT {
            let Some(oldest) = kept.iter().min_by_key(|(_, (at, _))| *at).map(|(key, _)| key.clone()) else { break };
            kept.remove(&oldest);
        }
        kept.insert((session, slot.to_owned()), (Instant::now(), secret));
    }

    /// The secret kept for `session` and `slot`, taken: the next call finds nothing.
    pub fn take(&self, session: Uuid, slot: &str) -> Option<String> {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.remove(&(session, slot.to_owned())).filter(|(at, _)| at.elapsed() < KEPT_FOR).map(|(_, secret)| secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_shown_once_and_only_to_the_session_that_made_it() {
        let once = ShownOnce::default();
        let (mine, theirs) = (Uuid::from_u128(1), Uuid::from_u128(2));
        once.keep(mine, "account-7", "horse battery".into());
        assert_eq!(once.take(theirs, "account-7"), None, "another session never sees it");
        assert_eq!(once.take(mine, "account-8"), None, "nor does another page");
        assert_eq!(once.take(mine, "account-7").as_deref(), Some("horse battery"));
        assert_eq!(once.take(mine, "account-7"), None, "a second view shows nothing");
    }

    #[test]
    fn no_more_than_the_most_secrets_are_kept_at_once() {
        let once = ShownOnce::default();
        for n in 0..(MAX_KEPT as u128 + 5) {
            once.keep(Uuid::from_u128(n), "token", "secret".into());
        }
        assert_eq!(once.kept.lock().unwrap().len(), MAX_KEPT);
        assert_eq!(once.take(Uuid::from_u128(0), "token"), None, "the oldest went first");
    }
}
