//! Incremental-sync cursors (`/v1/integration/{id}/cursor?kind=&index=`, body
//! `{"primary": iso}`; ocean-framework.md §2.3): GET answers 404 until one was created, PUT
//! replaces an existing one (404 otherwise), POST creates one (409 when it exists).

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{SimState, wire::error};

type Shared = State<Arc<SimState>>;

/// `?kind=&index=`.
#[derive(Debug, Deserialize)]
pub(crate) struct Which {
    kind: String,
    index: usize,
}

fn check(state: &SimState, id: &str) -> Option<Response> {
    (!state.lock().integrations.contains_key(id)).then(|| {
        error(
            404,
            "not_found",
            format!("integration \"{id}\" was not found"),
        )
    })
}

/// The `primary` of a cursor body, which must be an ISO time.
fn primary(body: &Value) -> Option<String> {
    body.get("primary")
        .and_then(Value::as_str)
        .filter(|primary| primary.parse::<jiff::Timestamp>().is_ok())
        .map(str::to_owned)
}

fn bad_body() -> Response {
    error(
        422,
        "invalid_request",
        "body must be {\"primary\": <ISO 8601 time with offset>}",
    )
}

pub(crate) async fn get_cursor(
    State(state): Shared,
    Path(id): Path<String>,
    Query(which): Query<Which>,
) -> Response {
    if let Some(missing) = check(&state, &id) {
        return missing;
    }
    let key = (id, which.kind, which.index);
    match state.lock().cursors.get(&key) {
        Some(primary) => Json(json!({"ok": true, "cursor": {"primary": primary}})).into_response(),
        None => error(404, "not_found", "no cursor for this kind and index"),
    }
}

pub(crate) async fn put_cursor(
    State(state): Shared,
    Path(id): Path<String>,
    Query(which): Query<Which>,
    Json(body): Json<Value>,
) -> Response {
    write(&state, id, which, &body, false)
}

pub(crate) async fn post_cursor(
    State(state): Shared,
    Path(id): Path<String>,
    Query(which): Query<Which>,
    Json(body): Json<Value>,
) -> Response {
    write(&state, id, which, &body, true)
}

/// PUT (`create` false: the cursor must exist) or POST (`create`: it must not).
fn write(state: &SimState, id: String, which: Which, body: &Value, create: bool) -> Response {
    let Some(primary) = primary(body) else {
        return bad_body();
    };
    if let Some(missing) = check(state, &id) {
        return missing;
    }
    let mut inner = state.lock();
    let key = (id, which.kind, which.index);
    match (inner.cursors.contains_key(&key), create) {
        (true, true) => return error(409, "conflict", "a cursor exists for this kind and index"),
        (false, false) => return error(404, "not_found", "no cursor for this kind and index"),
        _ => {}
    }
    inner.cursors.insert(key, primary.clone());
    Json(json!({"ok": true, "cursor": {"primary": primary}})).into_response()
}

impl SimState {
    /// The cursor stored for resource `index` of `kind`.
    #[must_use]
    pub fn cursor(&self, integration: &str, kind: &str, index: usize) -> Option<String> {
        self.lock()
            .cursors
            .get(&(integration.to_owned(), kind.to_owned(), index))
            .cloned()
    }
}
