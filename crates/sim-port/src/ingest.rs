//! Port's ingest hosts, served under `/ingest/{integration}`: sync metrics and the sync
//! heartbeat (`metricAttributes.ingestUrl`) and log batches (`logAttributes.ingestUrl`), with the
//! shape checks Port applies (ocean-framework.md §2.6). What they received is kept for tests.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::{SimState, wire::error};

type Shared = State<Arc<SimState>>;

/// One sync-metrics request as received.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncMetric {
    /// `POST` (`syncKindsMetrics`, one event per kind) or `PUT` (one kind).
    pub method: &'static str,
    /// The metric event.
    pub event: Value,
}

/// What the ingest routes received, per integration.
#[derive(Debug, Default)]
pub(crate) struct Received {
    pub(crate) metrics: Vec<SyncMetric>,
    pub(crate) heartbeats: Vec<String>,
    pub(crate) logs: Vec<Value>,
}

/// The record attributes that point an integration at these routes.
pub(crate) fn attributes(base: &str, id: &str) -> (Value, Value) {
    (
        json!({"ingestUrl": format!("{base}/ingest/{id}/metrics")}),
        json!({"ingestUrl": format!("{base}/ingest/{id}/logs")}),
    )
}

/// The fields every metric event has (Ocean's `generate_metrics`).
const EVENT_FIELDS: [&str; 6] = [
    "eventId",
    "kindIdentifier",
    "kind",
    "syncState",
    "integrationIdentifier",
    "metrics",
];

fn check_event(event: &Value) -> Result<(), String> {
    let Some(object) = event.as_object() else {
        return Err("a metric event must be an object".to_owned());
    };
    for field in EVENT_FIELDS {
        if !object.contains_key(field) {
            return Err(format!("a metric event lacks `{field}`"));
        }
    }
    if object["eventId"].as_str().is_none_or(str::is_empty) {
        return Err("`eventId` must be a non-empty string".to_owned());
    }
    Ok(())
}

/// Keeps what `add` records for integration `id` (404 when Port does not know it), and
/// answers as Port does.
fn record(state: &SimState, id: String, add: impl FnOnce(&mut Received)) -> Response {
    let mut inner = state.lock();
    if !inner.integrations.contains_key(&id) {
        return error(
            404,
            "not_found",
            format!("integration \"{id}\" was not found"),
        );
    }
    add(inner.ingest.entry(id).or_default());
    Json(json!({"ok": true})).into_response()
}

/// `POST …/metrics/syncMetrics` `{"syncKindsMetrics": [event…]}`.
pub(crate) async fn post_sync_metrics(
    State(state): Shared,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some(events) = body.get("syncKindsMetrics").and_then(Value::as_array) else {
        return error(
            400,
            "invalid_request",
            "body must be {\"syncKindsMetrics\": [...]}",
        );
    };
    if let Err(message) = events.iter().try_for_each(check_event) {
        return error(422, "invalid_request", message);
    }
    record(&state, id, |received| {
        received
            .metrics
            .extend(events.iter().map(|event| SyncMetric {
                method: "POST",
                event: event.clone(),
            }));
    })
}

/// `PUT …/metrics/syncMetrics/resync/{eventId}/kind/{kindIdentifier}` `{"syncKindMetrics": event}`.
pub(crate) async fn put_kind_metrics(
    State(state): Shared,
    Path((id, event_id, kind)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let Some(event) = body.get("syncKindMetrics") else {
        return error(
            400,
            "invalid_request",
            "body must be {\"syncKindMetrics\": {...}}",
        );
    };
    if let Err(message) = check_event(event) {
        return error(422, "invalid_request", message);
    }
    if event["eventId"] != event_id.as_str() || event["kindIdentifier"] != kind.as_str() {
        return error(
            422,
            "invalid_request",
            "the event's eventId and kindIdentifier must match the path",
        );
    }
    record(&state, id, |received| {
        received.metrics.push(SyncMetric {
            method: "PUT",
            event: event.clone(),
        });
    })
}

/// `POST …/metrics/heartbeat` `{"eventId": id}`.
pub(crate) async fn post_heartbeat(
    State(state): Shared,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some(event_id) = body
        .get("eventId")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
    else {
        return error(
            400,
            "invalid_request",
            "body must be {\"eventId\": \"...\"}",
        );
    };
    let event_id = event_id.to_owned();
    record(&state, id, |received| received.heartbeats.push(event_id))
}

/// `POST …/logs` `{"logs": [{message, level, timestamp, extra?}…]}`.
pub(crate) async fn post_logs(
    State(state): Shared,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some(logs) = body.get("logs").and_then(Value::as_array) else {
        return error(400, "invalid_request", "body must be {\"logs\": [...]}");
    };
    let malformed = logs.iter().any(|log| {
        ["message", "level", "timestamp"]
            .iter()
            .any(|field| !log.get(field).is_some_and(Value::is_string))
    });
    if malformed {
        return error(
            422,
            "invalid_request",
            "each log needs string `message`, `level` and `timestamp`",
        );
    }
    record(&state, id, |received| {
        received.logs.extend(logs.iter().cloned());
    })
}

impl SimState {
    /// What the ingest routes received from `integration`, as `pick` reads it.
    fn received<T: Default>(&self, integration: &str, pick: impl FnOnce(&Received) -> T) -> T {
        self.lock()
            .ingest
            .get(integration)
            .map(pick)
            .unwrap_or_default()
    }

    /// The sync-metrics requests an integration sent, in order.
    #[must_use]
    pub fn sync_metrics(&self, integration: &str) -> Vec<SyncMetric> {
        self.received(integration, |r| r.metrics.clone())
    }

    /// The event ids of the heartbeats an integration sent, in order.
    #[must_use]
    pub fn heartbeats(&self, integration: &str) -> Vec<String> {
        self.received(integration, |r| r.heartbeats.clone())
    }

    /// The log records an integration shipped, in order.
    #[must_use]
    pub fn shipped_logs(&self, integration: &str) -> Vec<Value> {
        self.received(integration, |r| r.logs.clone())
    }
}
