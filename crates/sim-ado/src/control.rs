//! The control API under `/_control`: inspection and mutation of the simulated organization
//! over HTTP, for `sim-ado` run as its own process (tests in-process call [`AdoState`]'s
//! methods directly). Not counted, no PAT.
//!
//! | Method and path | Body | Effect |
//! | --- | --- | --- |
//! | `GET /_control/requests` | – | requests per route, throttled count |
//! | `POST /_control/projects` | – | adds a generated project, answers its id |
//! | `DELETE /_control/projects/{id or name}` | – | deletes a project |
//! | `POST /_control/projects/{n}/repositories` | `{"name"}` | adds a repository to project number `n` |
//! | `PATCH /_control/projects/{n}/repositories/{name}` | `{"name"}` | renames a repository |
//! | `DELETE /_control/projects/{n}/repositories/{name}` | – | deletes a repository |
//! | `POST /_control/projects/{n}/repositories/{name}/pushes` | `{"branch", "newObjectId"}` | pushes: moves or creates the branch, deletes it when `newObjectId` is null (`git.push`) |
//! | `PATCH /_control/workitems/{id}` | `{"fields": {...}}` | changes work item fields |
//! | `DELETE /_control/workitems/{id}` | – | deletes a work item |
//! | `POST /_control/projects/{n}/pipelines/{id}/runs` | – | queues a run, answers its id |
//! | `PATCH /_control/runs/{id}` | `{"result"}` | completes a run (a build) |
//! | `POST /_control/faults` | `{"route", "status", "retryAfter", "body", "count"}` | scripts faults (`body`: a 200 with it) |
//! | `PUT /_control/latency` | `{"ms"}` | sets the response latency |

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, patch, post, put},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::state::AdoState;

type Shared = State<Arc<AdoState>>;

pub(crate) fn router() -> Router<Arc<AdoState>> {
    Router::new()
        .route("/_control/requests", get(requests))
        .route("/_control/projects", post(add_project))
        .route("/_control/projects/{key}", delete(delete_project))
        .route("/_control/projects/{n}/repositories", post(add_repository))
        .route(
            "/_control/projects/{n}/repositories/{name}",
            patch(rename_repository).delete(delete_repository),
        )
        .route(
            "/_control/projects/{n}/repositories/{name}/pushes",
            post(push),
        )
        .route(
            "/_control/workitems/{id}",
            patch(update_work_item).delete(delete_work_item),
        )
        .route(
            "/_control/projects/{n}/pipelines/{id}/runs",
            post(run_pipeline),
        )
        .route("/_control/runs/{id}", patch(complete_run))
        .route("/_control/faults", post(faults))
        .route("/_control/latency", put(latency))
}

fn done(found: bool) -> Response {
    if found {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "no such object"})),
        )
            .into_response()
    }
}

async fn requests(State(state): Shared) -> Json<Value> {
    Json(json!({ "requests": state.requests(), "throttled": state.throttled() }))
}

async fn add_project(State(state): Shared) -> Response {
    (
        StatusCode::CREATED,
        Json(json!({"id": state.add_project()})),
    )
        .into_response()
}

async fn delete_project(State(state): Shared, Path(key): Path<String>) -> Response {
    done(state.delete_project(&key))
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

async fn add_repository(
    State(state): Shared,
    Path(n): Path<usize>,
    Json(body): Json<Named>,
) -> Response {
    match state.add_repository(n, &body.name) {
        Some(id) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        None => done(false),
    }
}

async fn rename_repository(
    State(state): Shared,
    Path((n, name)): Path<(usize, String)>,
    Json(body): Json<Named>,
) -> Response {
    done(state.rename_repository(n, &name, &body.name))
}

async fn delete_repository(
    State(state): Shared,
    Path((n, name)): Path<(usize, String)>,
) -> Response {
    done(state.delete_repository(n, &name))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Push {
    branch: String,
    new_object_id: Option<String>,
}

async fn push(
    State(state): Shared,
    Path((n, name)): Path<(usize, String)>,
    Json(body): Json<Push>,
) -> Response {
    done(state.push(n, &name, &body.branch, body.new_object_id.as_deref()))
}

#[derive(Deserialize)]
struct Fields {
    fields: Map<String, Value>,
}

async fn update_work_item(
    State(state): Shared,
    Path(id): Path<u64>,
    Json(body): Json<Fields>,
) -> Response {
    let mut found = !body.fields.is_empty();
    for (field, value) in body.fields {
        found &= state.update_work_item(id, &field, value);
    }
    done(found)
}

async fn delete_work_item(State(state): Shared, Path(id): Path<u64>) -> Response {
    done(state.delete_work_item(id))
}

async fn run_pipeline(State(state): Shared, Path((n, id)): Path<(usize, u64)>) -> Response {
    match state.run_pipeline(n, id) {
        Some(run) => (StatusCode::CREATED, Json(json!({"id": run}))).into_response(),
        None => done(false),
    }
}

#[derive(Deserialize)]
struct Completion {
    result: String,
}

async fn complete_run(
    State(state): Shared,
    Path(id): Path<u64>,
    Json(body): Json<Completion>,
) -> Response {
    done(state.complete_run(id, &body.result))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fault {
    route: String,
    status: u16,
    retry_after: Option<u64>,
    /// A 200 answer with this body instead of `status` (a malformed answer).
    body: Option<Value>,
    count: u32,
}

async fn faults(State(state): Shared, Json(body): Json<Fault>) -> Response {
    match body.body {
        Some(answer) => state.inject_body(&body.route, answer, body.count),
        None => state.inject(&body.route, body.status, body.retry_after, body.count),
    }
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Latency {
    ms: u64,
}

async fn latency(State(state): Shared, Json(body): Json<Latency>) -> Response {
    state.set_latency(Duration::from_millis(body.ms));
    StatusCode::NO_CONTENT.into_response()
}
