//! Action runs that an integration executes (ocean-framework.md §11 item 23): claiming with a
//! visibility timeout, acknowledging once (409 after), patching the link, external id and
//! status, run logs, and lookup by external id. Runs are created by tests through
//! [`SimState::create_action_run`]; the simulator does not evaluate action templates, so a run's
//! inputs are its execution properties as given.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{Path, RawQuery, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::{get, patch, post},
};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::{
    SimState,
    wire::{error, query_pairs},
};

type Shared = State<Arc<SimState>>;

/// The action-run routes.
pub(crate) fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/v1/actions/runs", get(list_runs))
        .route("/v1/actions/runs/claim-pending", post(claim_pending))
        .route("/v1/actions/runs/ack", patch(ack))
        .route("/v1/actions/runs/{id}", patch(patch_run))
        .route("/v1/actions/runs/{id}/logs", post(post_log))
}

/// One action run and what the simulator tracks about it.
#[derive(Debug, Clone)]
pub(crate) struct StoredRun {
    pub(crate) run: Value,
    /// Hidden from claims until then (claim-pending's visibility timeout).
    visible_at: Instant,
    acknowledged: bool,
    pub(crate) logs: Vec<String>,
    /// How many times the run was handed out by claim-pending.
    pub(crate) claimed: u32,
}

const STATUSES: [&str; 3] = ["IN_PROGRESS", "SUCCESS", "FAILURE"];
const PATCHABLE: [&str; 5] = ["status", "link", "externalRunId", "summary", "statusLabel"];

impl SimState {
    /// A pending run of action `action` that invokes integration `installation_id` with
    /// `action_type` and inputs `properties`; returns its id.
    pub fn create_action_run(
        &self,
        action: &str,
        installation_id: &str,
        action_type: &str,
        properties: Value,
    ) -> String {
        let mut inner = self.lock();
        let id = format!("r_{}", uuid::Uuid::new_v4().simple());
        let mut run = json!({
            "id": id,
            "status": "IN_PROGRESS",
            "action": {"identifier": action},
            "payload": {
                "type": "INTEGRATION_ACTION",
                "installationId": installation_id,
                "integrationActionType": action_type,
                "integrationActionExecutionProperties": null,
            },
            "createdAt": jiff::Timestamp::now().to_string(),
        });
        run["payload"]["integrationActionExecutionProperties"] = properties;
        inner.action_runs.insert(
            id.clone(),
            StoredRun {
                run,
                visible_at: Instant::now(),
                acknowledged: false,
                logs: Vec::new(),
                claimed: 0,
            },
        );
        id
    }

    /// An action run as Port would return it, with the messages of its log.
    #[must_use]
    pub fn action_run(&self, id: &str) -> Option<(Value, Vec<String>)> {
        self.lock()
            .action_runs
            .get(id)
            .map(|stored| (stored.run.clone(), stored.logs.clone()))
    }

    /// How many times runs were looked up by external id `external`.
    #[must_use]
    pub fn action_run_lookups(&self, external: &str) -> u32 {
        self.lock().run_lookups.get(external).copied().unwrap_or(0)
    }

    /// How many times claim-pending handed out run `id`.
    #[must_use]
    pub fn action_run_claims(&self, id: &str) -> u32 {
        self.lock().action_runs.get(id).map_or(0, |s| s.claimed)
    }
}

fn reserved(headers: &HeaderMap) -> Option<Response> {
    let ok = headers
        .get("x-port-reserved-usage")
        .and_then(|v| v.to_str().ok())
        == Some("true");
    (!ok).then(|| {
        error(
            403,
            "forbidden",
            "this route is reserved for integrations: send `x-port-reserved-usage: true`",
        )
    })
}

/// `POST /v1/actions/runs/claim-pending` `{installationId, limit, visibilityTimeoutMs, exclude?}`.
pub(crate) async fn claim_pending(
    State(state): Shared,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = reserved(&headers) {
        return refused;
    }
    let installation = body["installationId"].as_str();
    let limit = body["limit"].as_u64().filter(|l| *l > 0);
    let timeout = body["visibilityTimeoutMs"].as_u64();
    let exclude: Option<Vec<&str>> = match &body["exclude"] {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    };
    let (Some(installation), Some(limit), Some(timeout), Some(exclude)) =
        (installation, limit, timeout, exclude)
    else {
        return error(
            422,
            "invalid_request",
            "body must be {installationId: string, limit: positive integer, \
             visibilityTimeoutMs: integer, exclude?: [string]}",
        );
    };
    let now = Instant::now();
    let mut inner = state.lock();
    let mut runs = Vec::new();
    for stored in inner.action_runs.values_mut() {
        let run = &stored.run;
        let claimable = !stored.acknowledged
            && stored.visible_at <= now
            && run["status"] == "IN_PROGRESS"
            && run["payload"]["installationId"] == installation
            && !exclude.contains(&run["action"]["identifier"].as_str().unwrap_or_default());
        if claimable && (runs.len() as u64) < limit {
            stored.visible_at = now + Duration::from_millis(timeout);
            stored.claimed += 1;
            runs.push(run.clone());
        }
    }
    Json(json!({"ok": true, "runs": runs})).into_response()
}

/// `PATCH /v1/actions/runs/ack` `{runId}`: 409 once acknowledged.
pub(crate) async fn ack(
    State(state): Shared,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = reserved(&headers) {
        return refused;
    }
    let Some(id) = body["runId"].as_str() else {
        return error(422, "invalid_request", "body must be {runId: string}");
    };
    let mut inner = state.lock();
    match inner.action_runs.get_mut(id) {
        None => error(404, "not_found", format!("run \"{id}\" was not found")),
        Some(stored) if stored.acknowledged => error(
            409,
            "run_already_acknowledged",
            format!("run \"{id}\" was already acknowledged"),
        ),
        Some(stored) => {
            stored.acknowledged = true;
            Json(json!({"ok": true})).into_response()
        }
    }
}

/// `PATCH /v1/actions/runs/{id}`: link, external id, status (a finished run keeps its status).
pub(crate) async fn patch_run(
    State(state): Shared,
    Path(id): Path<String>,
    Json(body): Json<Map<String, Value>>,
) -> Response {
    if let Some(unknown) = body.keys().find(|k| !PATCHABLE.contains(&k.as_str())) {
        return error(
            422,
            "invalid_request",
            format!("unknown run field `{unknown}`"),
        );
    }
    if let Some(status) = body.get("status")
        && !status.as_str().is_some_and(|s| STATUSES.contains(&s))
    {
        return error(
            422,
            "invalid_request",
            format!("`status` must be one of {STATUSES:?}, got {status}"),
        );
    }
    let mut inner = state.lock();
    let Some(stored) = inner.action_runs.get_mut(&id) else {
        return error(404, "not_found", format!("run \"{id}\" was not found"));
    };
    if body.contains_key("status") && stored.run["status"] != "IN_PROGRESS" {
        return error(
            422,
            "invalid_request",
            format!(
                "run \"{id}\" already finished with {}",
                stored.run["status"]
            ),
        );
    }
    for (key, value) in body {
        stored.run[key] = value;
    }
    Json(json!({"ok": true, "run": stored.run})).into_response()
}

/// `POST /v1/actions/runs/{id}/logs` `{message}`.
pub(crate) async fn post_log(
    State(state): Shared,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some(message) = body["message"].as_str() else {
        return error(422, "invalid_request", "body must be {message: string}");
    };
    let mut inner = state.lock();
    let Some(stored) = inner.action_runs.get_mut(&id) else {
        return error(404, "not_found", format!("run \"{id}\" was not found"));
    };
    stored.logs.push(message.to_owned());
    Json(json!({"ok": true})).into_response()
}

/// `GET /v1/actions/runs?version=v2&external_run_id=…`.
pub(crate) async fn list_runs(State(state): Shared, query: RawQuery) -> Response {
    let pairs = query_pairs(&query);
    let Some((_, external)) = pairs.iter().find(|(k, _)| k == "external_run_id") else {
        return error(
            422,
            "invalid_request",
            "the simulator lists runs by `external_run_id` only",
        );
    };
    let mut inner = state.lock();
    *inner.run_lookups.entry(external.clone()).or_default() += 1;
    let runs: Vec<&Value> = inner
        .action_runs
        .values()
        .map(|stored| &stored.run)
        .filter(|run| run["externalRunId"].as_str() == Some(external))
        .collect();
    Json(json!({"ok": true, "runs": runs})).into_response()
}
