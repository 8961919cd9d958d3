//! The resync's stop: the first error that every kind would meet alike
//! ([`crate::Integration::stops_resync`]) ends every resource at once, and its cause is reported
//! once, as the run's failure.

use tokio::sync::watch;

/// Shared by every resource of one resync.
pub(super) struct Stop(watch::Sender<Option<String>>);

impl Stop {
    pub(super) fn new() -> Self {
        Self(watch::Sender::new(None))
    }

    /// Stops the resync with `cause` (the first cause wins).
    pub(super) fn trigger(&self, cause: String) {
        self.0.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(cause);
            true
        });
    }

    /// The cause, once stopped.
    pub(super) fn cause(&self) -> Option<String> {
        self.0.borrow().clone()
    }

    /// Completes when the resync is stopped.
    pub(super) async fn stopped(&self) {
        let mut receiver = self.0.subscribe();
        // The sender lives as long as `self`, so this only ends when a cause is set.
        let _ = receiver.wait_for(Option::is_some).await;
    }
}
