//! [`Health`]: what `/health/ready` reports, updated by the runner and the binary.

use std::sync::atomic::{AtomicBool, Ordering};

/// What readiness depends on; updated by the runner and the binary.
#[derive(Debug)]
pub struct Health {
    port_reachable: AtomicBool,
    last_resync_failed: AtomicBool,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            port_reachable: AtomicBool::new(true),
            last_resync_failed: AtomicBool::new(false),
        }
    }
}

impl Health {
    /// Records whether the last Port call before or during a resync worked.
    pub fn set_port_reachable(&self, reachable: bool) {
        self.port_reachable.store(reachable, Ordering::Relaxed);
    }

    /// Records the outcome of the last resync.
    pub fn set_last_resync(&self, succeeded: bool) {
        self.last_resync_failed.store(!succeeded, Ordering::Relaxed);
    }

    /// Why the integration is not ready, if it is not.
    #[must_use]
    pub fn not_ready(&self) -> Vec<&'static str> {
        let mut reasons = Vec::new();
        if !self.port_reachable.load(Ordering::Relaxed) {
            reasons.push("Port was unreachable at the last attempt");
        }
        if self.last_resync_failed.load(Ordering::Relaxed) {
            reasons.push("the last resync failed");
        }
        reasons
    }
}
