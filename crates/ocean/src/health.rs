//! [`Health`]: what `/health/ready` answers. Ready means "can take events now": the
//! integration finished starting (Port's record and default resources are in place) and is not
//! stopping; the server adds "the live-event queue has room". Port's reachability and the last
//! resync's outcome are reported in the body and in metrics, never as unreadiness: a failed
//! resource must not take the pod out of its Service, or Azure DevOps deliveries fail and its
//! subscriptions go on probation.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use serde_json::{Value, json};

const STARTING: u8 = 0;
const SERVING: u8 = 1;
const STOPPING: u8 = 2;

const NO_RESYNC: u8 = 0;
const SUCCEEDED: u8 = 1;
const FAILED: u8 = 2;

/// What readiness depends on; updated by the runner and the binary.
#[derive(Debug)]
pub struct Health {
    phase: tokio::sync::watch::Sender<u8>,
    port_reachable: AtomicBool,
    last_resync: AtomicU8,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            phase: tokio::sync::watch::Sender::new(STARTING),
            port_reachable: AtomicBool::new(true),
            last_resync: AtomicU8::new(NO_RESYNC),
        }
    }
}

impl Health {
    /// Starting is over: events can be taken.
    pub fn set_serving(&self) {
        self.phase.send_if_modified(|phase| {
            let starting = *phase == STARTING;
            if starting {
                *phase = SERVING;
            }
            starting
        });
    }

    /// Stopping: no new events.
    pub fn set_stopping(&self) {
        self.phase.send_replace(STOPPING);
    }

    /// Whether starting is over (serving or stopping).
    #[must_use]
    pub fn started(&self) -> bool {
        *self.phase.borrow() != STARTING
    }

    /// Resolves once starting is over: what work that needs Port's record (catch-up, the
    /// integration's upkeep, applying events) waits for.
    pub async fn serving(&self) {
        let mut phase = self.phase.subscribe();
        // The sender lives in `self`, so the channel cannot close while this borrows it.
        let _ = phase.wait_for(|phase| *phase != STARTING).await;
    }

    /// Records whether the last Port call before or during a resync worked.
    pub fn set_port_reachable(&self, reachable: bool) {
        self.port_reachable.store(reachable, Ordering::Relaxed);
    }

    /// Records the outcome of the last resync.
    pub fn set_last_resync(&self, succeeded: bool) {
        let outcome = if succeeded { SUCCEEDED } else { FAILED };
        self.last_resync.store(outcome, Ordering::Relaxed);
    }

    /// Why the integration cannot take events now, if it cannot.
    #[must_use]
    pub fn not_ready(&self) -> Vec<&'static str> {
        match *self.phase.borrow() {
            STARTING => vec!["starting: the integration record in Port is not ready yet"],
            STOPPING => vec!["shutting down"],
            _ => Vec::new(),
        }
    }

    /// What `/health/ready` reports besides readiness: Port at the last attempt and the last
    /// resync's outcome (`null` before the first).
    #[must_use]
    pub fn details(&self) -> Value {
        let last_resync = match self.last_resync.load(Ordering::Relaxed) {
            SUCCEEDED => json!("succeeded"),
            FAILED => json!("failed"),
            _ => Value::Null,
        };
        json!({
            "portReachable": self.port_reachable.load(Ordering::Relaxed),
            "lastResync": last_resync,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_between_start_and_stop_whatever_the_last_resync() {
        let health = Health::default();
        assert_eq!(health.not_ready().len(), 1, "starting");
        health.set_serving();
        health.set_last_resync(false);
        health.set_port_reachable(false);
        assert!(health.not_ready().is_empty());
        assert_eq!(
            health.details(),
            json!({"portReachable": false, "lastResync": "failed"})
        );
        health.set_stopping();
        health.set_serving();
        assert_eq!(health.not_ready(), ["shutting down"]);
    }
}
