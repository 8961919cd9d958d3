//! The queue of accepted live events: bounded shards chosen by the event's ordering key, so
//! events for one object apply in arrival order while different objects proceed in parallel.

use std::{
    hash::{Hash, Hasher},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use metrics::gauge;
use serde_json::Value;
use tokio::{
    sync::{Notify, mpsc},
    time::Instant,
};

pub(super) struct Job {
    pub(super) payload: Value,
    pub(super) event_type: String,
    pub(super) received: Instant,
}

/// Accepted events waiting for a worker.
#[derive(Clone)]
pub struct Queue {
    pub(super) shards: Arc<std::sync::Mutex<Option<Vec<mpsc::Sender<Job>>>>>,
    pub(super) depth: Arc<AtomicUsize>,
    /// Notified whenever the last queued event has been processed.
    pub(super) idle: Arc<Notify>,
}

/// Why [`Queue::push`] refused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The shard is full: try again later.
    Full,
    /// Shutting down.
    Closed,
}

impl Queue {
    /// Queues an accepted event on the shard of `key`.
    pub fn push(&self, key: &str, event_type: String, payload: Value) -> Result<(), Refused> {
        let guard = self
            .shards
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(shards) = guard.as_ref() else {
            return Err(Refused::Closed);
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        let shard = usize::try_from(hasher.finish() % shards.len() as u64).unwrap_or(0);
        let job = Job {
            payload,
            event_type,
            received: Instant::now(),
        };
        // Counted before it is sent: a worker may finish it before `try_send` returns.
        let depth = self.depth.fetch_add(1, Ordering::AcqRel) + 1;
        let refused = match shards[shard].try_send(job) {
            Ok(()) => {
                #[expect(clippy::cast_precision_loss, reason = "a gauge")]
                gauge!("ocean_live_queue_depth").set(depth as f64);
                return Ok(());
            }
            Err(mpsc::error::TrySendError::Full(_)) => Refused::Full,
            Err(mpsc::error::TrySendError::Closed(_)) => Refused::Closed,
        };
        if self.depth.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
        Err(refused)
    }

    /// Whether an event may be refused now: some worker's queue is full, or the queue is
    /// closed.
    #[must_use]
    pub fn is_full(&self) -> bool {
        let guard = self
            .shards
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard
            .as_ref()
            .is_none_or(|shards| shards.iter().any(|s| s.capacity() == 0))
    }

    /// Events accepted and not yet processed.
    #[must_use]
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Acquire)
    }

    /// Resolves once every event accepted so far has been processed (applied, or given up
    /// after its attempts): what a caller waits for before it looks at the result, instead of
    /// sleeping.
    pub async fn drained(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            // Registered before the check, so a notification between the two is not missed.
            idle.as_mut().enable();
            if self.depth() == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Refuses new events; the workers finish the queued ones and stop.
    pub fn close(&self) {
        self.shards
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
    }
}
