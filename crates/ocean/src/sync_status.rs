//! Sync status in Port's UI: per-kind sync metrics and the heartbeat, sent to the ingest host
//! the integration record names (`metricAttributes.ingestUrl`), as Ocean does
//! (ocean-framework.md §2.6, §9, §11 items 19 and 25; in Ocean's source, `helpers/metric` and
//! `core/integrations/mixins/sync_raw.py`).
//!
//! One resync is one event id. At its start, one metric event per resource (`{kind}-{index}`,
//! zeroed) and one `__runtime__` event (`syncing`) are sent with a POST to `…/syncMetrics`; each
//! resource sends its event with a PUT when it starts (`syncing`) and when it ends (`completed`,
//! `failed` or `aborted`, with its counts); the deletion phase posts `__reconciliation__`
//! (`syncing`) and puts it when done; the end posts `__runtime__` with the outcome. While the resync runs, `…/heartbeat` gets the
//! event id every `OCEAN__STATUS_HEARTBEAT_INTERVAL_SECONDS`: Port's backend tells a running
//! sync from a dead one by it.
//!
//! Sending never blocks the resync: events go through a queue to one sender task, in order, and
//! a failure is a warning (Ocean logs it too). At the end the queue is drained for at most
//! [`DRAIN_LIMIT`]. Per-kind CPU, memory and latency gauges Ocean adds are not sent.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use port_client::Client;
use serde_json::{Value, json};
use tokio::{sync::mpsc, task::JoinHandle};
use tracing::warn;
use url::Url;

use crate::resync::report::ResourceReport;

/// How long the end of a resync waits for queued metrics to be sent.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// Who sends the metrics: the fields of every metric event besides the kind's own.
#[derive(Debug, Clone)]
pub struct Sender {
    /// Integration type (`azure-devops`).
    pub integration_type: String,
    /// Installation identifier.
    pub identifier: String,
    /// Our version.
    pub version: String,
    /// `installationType` of the integration record (`OnPrem`).
    pub installation_type: String,
}

enum Message {
    Post(Vec<Value>),
    Put(Value),
}

/// One resync's status reporting.
pub struct SyncStatus {
    event_id: String,
    sender: Sender,
    queue: Mutex<Option<mpsc::UnboundedSender<Message>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    heartbeat: JoinHandle<()>,
}

impl std::fmt::Debug for SyncStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncStatus")
            .field("event_id", &self.event_id)
            .finish_non_exhaustive()
    }
}

impl SyncStatus {
    /// Starts reporting a resync of `resources` ((kind, index, blueprint)) to `ingest`, with a
    /// heartbeat every `heartbeat_every`.
    #[must_use]
    pub fn start(
        port: Client,
        ingest: Url,
        sender: Sender,
        resources: &[(String, usize, String)],
        heartbeat_every: Duration,
    ) -> Arc<Self> {
        let event_id = uuid::Uuid::new_v4().to_string();
        let (queue, received) = mpsc::unbounded_channel();
        let worker = tokio::spawn(send_all(port.clone(), ingest.clone(), received));
        // A zero period would panic in the timer; configuration refuses it, callers may not.
        let every = heartbeat_every.max(Duration::from_millis(10));
        let heartbeat = tokio::spawn(beat(port, ingest, event_id.clone(), every));
        let status = Arc::new(Self {
            event_id,
            sender,
            queue: Mutex::new(Some(queue)),
            worker: Mutex::new(Some(worker)),
            heartbeat,
        });
        let kinds = resources
            .iter()
            .map(|(kind, index, blueprint)| {
                status.event(
                    &format!("{kind}-{index}"),
                    "pending",
                    blueprint,
                    counts(&ResourceReport::default()),
                )
            })
            .collect();
        status.send(Message::Post(kinds));
        status.send(Message::Post(vec![status.event(
            RUNTIME,
            "syncing",
            "",
            outcome(false, 0.0),
        )]));
        status
    }

    /// The resync's event id.
    #[must_use]
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// A resource started.
    pub fn resource_started(&self, kind: &str, index: usize, blueprint: &str) {
        let zero = counts(&ResourceReport::default());
        let event = self.event(&format!("{kind}-{index}"), "syncing", blueprint, zero);
        self.send(Message::Put(event));
    }

    /// A resource ended, as `report` says.
    pub fn resource_finished(&self, report: &ResourceReport, blueprint: &str) {
        let state = if report.stopped {
            "aborted"
        } else if report.incomplete().is_some() {
            "failed"
        } else {
            "completed"
        };
        let mut metrics = counts(report);
        metrics["phase"]["resync"] =
            resync_phase(state == "completed", report.duration.as_secs_f64());
        let kind_identifier = format!("{}-{}", report.kind, report.index);
        let event = self.event(&kind_identifier, state, blueprint, metrics);
        self.send(Message::Put(event));
    }

    /// The deletion phase started.
    pub fn reconciliation_started(&self) {
        let event = self.event(RECONCILIATION, "syncing", "", outcome(false, 0.0));
        self.send(Message::Post(vec![event]));
    }

    /// The deletion phase ended.
    pub fn reconciliation_finished(&self, success: bool, deleted: usize, duration: Duration) {
        let mut metrics = outcome(success, duration.as_secs_f64());
        metrics["phase"]["delete"] =
            json!({"object_count_type": {"deleted": {"object_count": deleted}}});
        let state = if success { "completed" } else { "failed" };
        let event = self.event(RECONCILIATION, state, "", metrics);
        self.send(Message::Put(event));
    }

    /// The resync ended: its outcome is sent, the heartbeat stops, and what is queued is sent
    /// within [`DRAIN_LIMIT`].
    pub async fn finish(&self, success: bool, duration: Duration) {
        let state = if success { "completed" } else { "failed" };
        let event = self.event(RUNTIME, state, "", outcome(success, duration.as_secs_f64()));
        self.send(Message::Post(vec![event]));
        self.heartbeat.abort();
        // Closing the queue ends the sender task once it has sent everything.
        drop(lock(&self.queue).take());
        let worker = lock(&self.worker).take();
        if let Some(worker) = worker
            && tokio::time::timeout(DRAIN_LIMIT, worker).await.is_err()
        {
            warn!("Port's metrics ingest is slow: some sync metrics of this resync were not sent.");
        }
    }

    fn send(&self, message: Message) {
        if let Some(queue) = lock(&self.queue).as_ref() {
            let _ = queue.send(message);
        }
    }

    /// One metric event, as Ocean's `generate_metrics` shapes it.
    fn event(&self, kind_identifier: &str, state: &str, blueprint: &str, metrics: Value) -> Value {
        let (kind, index) = match kind_identifier.rsplit_once('-') {
            Some((kind, index)) => (kind, index.parse::<u64>().unwrap_or(0)),
            None => (kind_identifier, 0),
        };
        let mut event = json!({
            "integrationType": self.sender.integration_type,
            "installationType": self.sender.installation_type,
            "executionMode": "single_process",
            "integrationIdentifier": self.sender.identifier,
            "integrationVersion": self.sender.version,
            "oceanVersion": self.sender.version,
            "kindIdentifier": kind_identifier,
            "kind": kind,
            "kindIndex": index,
            "eventId": self.event_id,
            "syncState": state,
            "blueprint": blueprint,
        });
        event["metrics"] = metrics;
        event
    }
}

impl Drop for SyncStatus {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

const RUNTIME: &str = "__runtime__";
const RECONCILIATION: &str = "__reconciliation__";

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `{"success", "duration_seconds"}` of the `resync` phase.
fn resync_phase(success: bool, seconds: f64) -> Value {
    json!({
        "success": if success { 1.0 } else { 0.0 },
        "duration_seconds": (seconds * 1000.0).round() / 1000.0,
    })
}

/// `{"phase": {"resync": …}}`.
fn outcome(success: bool, seconds: f64) -> Value {
    json!({"phase": {"resync": resync_phase(success, seconds)}})
}

/// A resource's extract, transform and load counts, nested by label as Ocean's gauges are
/// (Ocean's names: items read are `raw_extracted`, entities mapped `transformed`, items the
/// selector or a null identifier left out `filtered_out`, written `loaded`, refused by Port
/// `failed`, unchanged and so not written `skipped`).
fn counts(report: &ResourceReport) -> Value {
    let count = |n: usize| json!({"object_count": n});
    let extract_failed = usize::from(report.failure.is_some() && !report.stopped);
    json!({"phase": {
        "extract": {"object_count_type": {
            "raw_extracted": count(report.fetched),
            "failed": count(extract_failed),
        }},
        "transform": {"object_count_type": {
            "transformed": count(report.mapped),
            "filtered_out": count(report.filtered_out + report.dropped),
            "failed": count(0),
        }},
        "load": {"object_count_type": {
            "loaded": count(report.upserted),
            "failed": count(report.rejected),
            "skipped": count(report.unchanged),
        }},
    }})
}

/// `ingest` with `segments` appended (percent-encoded).
fn under(ingest: &Url, segments: &[&str]) -> Url {
    let mut url = ingest.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// Sends the queued messages in order until the queue is closed.
async fn send_all(port: Client, ingest: Url, mut received: mpsc::UnboundedReceiver<Message>) {
    let post_url = under(&ingest, &["syncMetrics"]);
    while let Some(message) = received.recv().await {
        let sent = match &message {
            Message::Post(events) => {
                port.ingest_post(
                    &post_url,
                    "syncMetrics",
                    &json!({"syncKindsMetrics": events}),
                )
                .await
            }
            Message::Put(event) => {
                let url = under(
                    &ingest,
                    &[
                        "syncMetrics",
                        "resync",
                        event["eventId"].as_str().unwrap_or_default(),
                        "kind",
                        event["kindIdentifier"].as_str().unwrap_or_default(),
                    ],
                );
                port.ingest_put(&url, "syncMetrics", &json!({"syncKindMetrics": event}))
                    .await
            }
        };
        if let Err(error) = sent {
            warn!(%error, "Could not send sync metrics to Port; its UI may show this resync's status late.");
        }
    }
}

/// The heartbeat: the event id every `every`, until aborted.
async fn beat(port: Client, ingest: Url, event_id: String, every: Duration) {
    let url = under(&ingest, &["heartbeat"]);
    let body = json!({ "eventId": event_id });
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        if let Err(error) = port.ingest_post(&url, "heartbeat", &body).await {
            warn!(%error, "Could not send the sync heartbeat to Port.");
        }
    }
}
