//! `feedbackLogged`: new items as they are logged, resumable from a log position, and never
//! silently dropping one (issue #21).
//!
//! The subscriber listens to the service's announcements *before* it looks at the model, so an
//! item is either in the model when it looks (caught up from there) or announced afterwards (live);
//! the position it has got to (`through`) rises strictly, so an item both caught up and announced
//! is delivered once. Catching up reads the model's log order (`State::order`, whose positions
//! rise), never the log itself, and applies exactly the live filter. A subscriber the
//! announcements outran (`Lagged`) is told where to resume and ends.

use async_graphql::ID;
use heard_access::{Actor, feedback_view};
use tokio::sync::broadcast::{Receiver, error::RecvError};
use uuid::Uuid;

use super::{FeedbackItem, view_of};
use crate::domain::Item;
use crate::service::FeedbackService;

/// How many items of the model's log order one step of a catch-up looks at under the read lock.
const SCAN: usize = 512;

/// One `feedbackLogged` subscriber.
pub(super) struct Logged {
    feedback: FeedbackService,
    actor: Actor,
    hub: Option<ID>,
    receiver: Receiver<(u64, Uuid)>,
    /// Every item logged up to this position was delivered, or is not the subscriber's to see.
    through: u64,
    /// While catching up: the next index of `State::order` to look at.
    catching_up: Option<usize>,
    /// The subscriber was told it lagged: nothing more.
    ended: bool,
}

impl Logged {
    /// Starts listening; with `after`, catching up from the first item logged after it.
    pub(super) fn start(feedback: FeedbackService, actor: Actor, hub: Option<ID>, after: Option<u64>) -> Self {
        // Listen first, then look: see the module's docs.
        let receiver = feedback.logged_items();
        let (through, catching_up) = match after {
            Some(after) => (after, Some(feedback.read(|state| state.first_logged_after(after)))),
            None => (feedback.read(|state| state.last_logged()), None),
        };
        Logged { feedback, actor, hub, receiver, through, catching_up, ended: false }
    }

    /// Whether the subscriber may see `item` (as the model holds it): the live filter.
    fn may_see(&self, item: &Item) -> bool {
        !item.withdrawn
            && !item.erased
            && self.hub.as_ref().is_none_or(|hub| item.logged.hub == hub.as_str())
            && feedback_view(&self.actor, &item.facts()).is_some()
    }

    /// The item, its words opened now, in the version the subscriber sees; `None` when they may
    /// not see it (any more).
    fn shown(&self, id: Uuid) -> Option<FeedbackItem> {
        let item = self.feedback.item(id).filter(|item| !item.erased)?;
        if self.hub.as_ref().is_some_and(|hub| item.logged.hub != hub.as_str()) {
            return None;
        }
        view_of(&self.actor, item)
    }

    /// The next item to deliver; an error (once) when the subscriber lagged; `None` at the end.
    pub(super) async fn next(&mut self) -> Option<async_graphql::Result<FeedbackItem>> {
        if self.ended {
            return None;
        }
        while let Some(from) = self.catching_up {
            let (found, through, next) = self.feedback.read(|state| {
                let mut through = self.through;
                for (index, id) in state.order.iter().enumerate().skip(from).take(SCAN) {
                    let Some(item) = state.items.get(id) else { continue };
                    through = through.max(item.position);
                    if self.may_see(item) {
                        return (Some(*id), through, Some(index + 1));
                    }
                }
                let next = from + SCAN;
                (None, through, (next < state.order.len()).then_some(next))
            });
            self.through = through;
            self.catching_up = next;
            if let Some(shown) = found.and_then(|id| self.shown(id)) {
                return Some(Ok(shown));
            }
        }
        loop {
            match self.receiver.recv().await {
                Ok((position, id)) => {
                    if position <= self.through {
                        continue;
                    }
                    self.through = position;
                    if let Some(shown) = self.shown(id) {
                        return Some(Ok(shown));
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Some announcements after `through` were dropped: never skip them silently.
                    self.ended = true;
                    return Some(Err(heard_api::resume::lagged(self.through)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}
