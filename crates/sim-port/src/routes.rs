//! The HTTP surface: Port's `/v1` routes, the guard (counters, faults, auth) and the inspection
//! routes `/_dump`, `/_stats`, `/_faults`.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, MatchedPath, Path, Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, patch, post},
};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::{
    SimState, actions, cursor,
    entities::{
        blueprint_search, bulk_delete, bulk_upsert, datasource_entities, delete_one, search,
        upsert_one,
    },
    ingest,
    wire::{MAX_BODY_BYTES, error},
};

type Shared = State<Arc<SimState>>;

/// All routes, with the guard layer.
pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/v1/auth/access_token", post(token))
        .route("/v1/organization", get(organization))
        .route("/v1/kafka-credentials", get(kafka_credentials))
        .route("/v1/integration", post(create_integration))
        .route("/v1/integration/provision-enabled", get(provision_enabled))
        .route(
            "/v1/integration/{id}",
            get(get_integration).patch(patch_integration),
        )
        .route(
            "/v1/integration/{id}/config",
            patch(patch_integration_config),
        )
        .route(
            "/v1/integration/{id}/resync-state",
            patch(patch_resync_state),
        )
        .route("/v1/integration/{id}/resync-request", get(resync_request))
        .route(
            "/v1/integration/{id}/cursor",
            get(cursor::get_cursor)
                .put(cursor::put_cursor)
                .post(cursor::post_cursor),
        )
        .route(
            "/v1/integration/{id}/kinds/{kind}/examples",
            post(post_examples),
        )
        .route("/v1/blueprints", post(create_blueprint))
        .route(
            "/v1/blueprints/{bp}",
            get(get_blueprint)
                .patch(patch_blueprint)
                .delete(delete_blueprint),
        )
        .route("/v1/blueprints/{bp}/scorecards", post(create_scorecard))
        .route("/v1/pages", post(create_page))
        .route("/v1/pages/{id}", get(get_page))
        .route("/v1/blueprints/{bp}/entities", post(upsert_one))
        .route("/v1/blueprints/{bp}/entities/bulk", post(bulk_upsert))
        .route(
            "/v1/blueprints/{bp}/entities/{id}",
            axum::routing::delete(delete_one),
        )
        .route(
            "/v1/blueprints/{bp}/bulk/entities/delete",
            post(bulk_delete),
        )
        .route("/v1/entities/search", post(search))
        .route(
            "/v1/blueprints/{bp}/entities/search",
            post(blueprint_search),
        )
        .route(
            "/v1/blueprints/entities/datasource-entities",
            post(datasource_entities),
        )
        .route(
            "/ingest/{id}/metrics/syncMetrics",
            post(ingest::post_sync_metrics),
        )
        .route(
            "/ingest/{id}/metrics/syncMetrics/resync/{event}/kind/{kind}",
            axum::routing::put(ingest::put_kind_metrics),
        )
        .route(
            "/ingest/{id}/metrics/heartbeat",
            post(ingest::post_heartbeat),
        )
        .route("/ingest/{id}/logs", post(ingest::post_logs))
        .merge(actions::routes())
        .route("/_dump", get(dump))
        .route("/_stats", get(stats))
        .route("/_faults", post(set_faults))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&state), guard))
        .layer(DefaultBodyLimit::max(64 * MAX_BODY_BYTES))
        .with_state(state)
}

/// Counts the request, injects faults and checks the bearer token.
async fn guard(State(state): Shared, path: MatchedPath, request: Request, next: Next) -> Response {
    let route = format!("{} {}", request.method(), path.as_str());
    let inspection = path.as_str().starts_with("/_");
    let is_token = path.as_str() == "/v1/auth/access_token";
    let latency = {
        let mut inner = state.lock();
        *inner.stats.requests.entry(route.clone()).or_default() += 1;
        inner.faults.latency
    };
    if !latency.is_zero() && !inspection {
        tokio::time::sleep(latency).await;
    }
    if !inspection && !is_token {
        if let Some(response) = injected_fault(&state, &route) {
            return response;
        }
        if !authorized(&state, request.headers()) {
            return error(
                401,
                "unauthorized",
                "the access token is missing, invalid or expired",
            );
        }
    }
    next.run(request).await
}

fn injected_fault(state: &SimState, route: &str) -> Option<Response> {
    let mut inner = state.lock();
    if let Some(scripted) = inner
        .scripted
        .iter_mut()
        .find(|s| s.remaining > 0 && route.contains(&s.route))
    {
        scripted.remaining -= 1;
        if let Some(body) = &scripted.body {
            let status = axum::http::StatusCode::from_u16(scripted.status)
                .unwrap_or(axum::http::StatusCode::OK);
            return Some((status, Json(body.clone())).into_response());
        }
        let mut response = error(
            scripted.status,
            "injected",
            format!("injected status {}", scripted.status),
        );
        if let Some(after) = scripted.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(after));
        }
        return Some(response);
    }
    let rate = inner.faults.rate_5xx;
    if rate > 0.0 && inner.rng.as_mut().is_some_and(|rng| rng.f64() < rate) {
        return Some(error(503, "service_unavailable", "injected 5xx"));
    }
    None
}

fn authorized(state: &SimState, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    state
        .lock()
        .tokens
        .get(token)
        .is_some_and(|expiry| *expiry > Instant::now())
}

async fn token(State(state): Shared, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = body.get("clientId").and_then(Value::as_str);
    let secret = body.get("clientSecret").and_then(Value::as_str);
    if id != Some(state.config.client_id.as_str())
        || secret != Some(state.config.client_secret.as_str())
    {
        return error(401, "unauthorized", "invalid client credentials");
    }
    let ttl = state.config.token_ttl;
    let mut inner = state.lock();
    inner.token_seq += 1;
    let token = format!("sim-token-{}-{}", inner.token_seq, fastrand::u64(..));
    inner.tokens.insert(token.clone(), Instant::now() + ttl);
    Json(json!({"ok": true, "accessToken": token, "expiresIn": ttl.as_secs(), "tokenType": "Bearer"})).into_response()
}

async fn organization() -> Json<Value> {
    Json(json!({"ok": true, "organization": {"id": "org_sim", "featureFlags": []}}))
}

/// Fixed credentials: the simulator has no broker of its own (tests start one).
async fn kafka_credentials() -> Json<Value> {
    Json(
        json!({"ok": true, "credentials": {"username": "sim-kafka", "password": "sim-kafka-password"}}),
    )
}

async fn provision_enabled() -> Json<Value> {
    Json(json!({"ok": true, "integrations": []}))
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

async fn get_integration(State(state): Shared, Path(id): Path<String>) -> Response {
    match state.integration(&id) {
        Some(integration) => Json(json!({"ok": true, "integration": integration})).into_response(),
        None => error(
            404,
            "not_found",
            format!("integration \"{id}\" was not found"),
        ),
    }
}

async fn create_integration(State(state): Shared, body: Bytes) -> Response {
    let Ok(mut body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "invalid_request", "body is not JSON");
    };
    let Some(id) = body
        .get("installationId")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return error(422, "invalid_request", "installationId is required");
    };
    let mut inner = state.lock();
    if inner.integrations.contains_key(&id) {
        return error(
            409,
            "conflict",
            format!("integration \"{id}\" already exists"),
        );
    }
    body["identifier"] = json!(id);
    body["installationType"] = json!("OnPrem");
    if let Some(base) = &inner.base {
        let (metrics, logs) = ingest::attributes(base, &id);
        body["metricAttributes"] = metrics;
        body["logAttributes"] = logs;
    }
    body["createdAt"] = json!(now());
    body["updatedAt"] = json!(now());
    if body.get("config").is_none() {
        body["config"] = json!({});
    }
    inner.integrations.insert(id, body.clone());
    Json(json!({"ok": true, "integration": body})).into_response()
}

fn update_integration(state: &SimState, id: &str, change: impl FnOnce(&mut Value)) -> Response {
    let mut inner = state.lock();
    let Some(integration) = inner.integrations.get_mut(id) else {
        return error(
            404,
            "not_found",
            format!("integration \"{id}\" was not found"),
        );
    };
    change(integration);
    integration["updatedAt"] = json!(now());
    Json(json!({"ok": true, "integration": integration.clone()})).into_response()
}

async fn patch_integration(
    State(state): Shared,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    update_integration(&state, &id, |integration| {
        for (k, v) in body.as_object().into_iter().flatten() {
            integration[k] = v.clone();
        }
    })
}

async fn patch_integration_config(
    State(state): Shared,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    update_integration(&state, &id, |integration| {
        integration["config"] = body.get("config").cloned().unwrap_or(Value::Null);
    })
}

/// `{"examples": [object…]}`, as Ocean sends (ocean-framework.md §2.3); the integration must
/// exist.
async fn post_examples(
    State(state): Shared,
    Path((id, kind)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let Some(examples) = body.get("examples").and_then(Value::as_array) else {
        return error(400, "invalid_request", "body must be {\"examples\": [...]}");
    };
    let mut inner = state.lock();
    if !inner.integrations.contains_key(&id) {
        return error(
            404,
            "not_found",
            format!("integration \"{id}\" was not found"),
        );
    }
    inner.examples.insert((id, kind), examples.clone());
    Json(json!({"ok": true})).into_response()
}

async fn patch_resync_state(
    State(state): Shared,
    Path(id): Path<String>,
    Json(mut body): Json<Value>,
) -> Response {
    update_integration(&state, &id, |integration| {
        body["updatedAt"] = json!(now());
        integration["resyncState"] = body;
    })
}

async fn resync_request(State(state): Shared, Path(id): Path<String>) -> Response {
    match state.integration(&id) {
        Some(integration) => {
            let request = integration
                .get("resyncRequest")
                .cloned()
                .unwrap_or(Value::Null);
            Json(json!({"ok": true, "request": request})).into_response()
        }
        None => error(
            404,
            "not_found",
            format!("integration \"{id}\" was not found"),
        ),
    }
}

async fn get_blueprint(State(state): Shared, Path(bp): Path<String>) -> Response {
    match state.lock().blueprints.get(&bp) {
        Some(blueprint) => Json(json!({"ok": true, "blueprint": blueprint})).into_response(),
        None => error(
            404,
            "not_found",
            format!("blueprint \"{bp}\" was not found"),
        ),
    }
}

async fn create_blueprint(State(state): Shared, Json(body): Json<Value>) -> Response {
    let Some(id) = body
        .get("identifier")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return error(422, "invalid_request", "identifier is required");
    };
    let mut inner = state.lock();
    if inner.blueprints.contains_key(&id) {
        return error(
            409,
            "conflict",
            format!("blueprint \"{id}\" already exists"),
        );
    }
    inner.blueprints.insert(id, body.clone());
    Json(json!({"ok": true, "blueprint": body})).into_response()
}

/// A scorecard's rules may only name properties of its blueprint (or `$` meta-properties).
async fn create_scorecard(
    State(state): Shared,
    Path(bp): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some(id) = body.get("identifier").and_then(Value::as_str) else {
        return error(422, "invalid_request", "identifier is required");
    };
    let mut inner = state.lock();
    let Some(blueprint) = inner.blueprints.get(&bp) else {
        return error(
            404,
            "not_found",
            format!("blueprint \"{bp}\" was not found"),
        );
    };
    let unknown = body["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|rule| rule["query"]["conditions"].as_array().into_iter().flatten())
        .filter_map(|condition| condition["property"].as_str())
        .find(|p| !p.starts_with('$') && blueprint["schema"]["properties"].get(*p).is_none());
    if let Some(property) = unknown {
        return error(
            422,
            "invalid_request",
            format!(
                "scorecard \"{id}\" uses property \"{property}\" that blueprint \"{bp}\" does not have"
            ),
        );
    }
    let key = (bp, id.to_owned());
    if inner.scorecards.contains_key(&key) {
        return error(
            409,
            "conflict",
            format!("scorecard \"{id}\" already exists"),
        );
    }
    inner.scorecards.insert(key, body.clone());
    Json(json!({"ok": true, "scorecard": body})).into_response()
}

async fn create_page(State(state): Shared, Json(body): Json<Value>) -> Response {
    let Some(id) = body.get("identifier").and_then(Value::as_str) else {
        return error(422, "invalid_request", "identifier is required");
    };
    let mut inner = state.lock();
    if inner.pages.contains_key(id) {
        return error(409, "conflict", format!("page \"{id}\" already exists"));
    }
    inner.pages.insert(id.to_owned(), body.clone());
    Json(json!({"ok": true, "page": body})).into_response()
}

async fn get_page(State(state): Shared, Path(id): Path<String>) -> Response {
    match state.lock().pages.get(&id) {
        Some(page) => Json(json!({"ok": true, "page": page})).into_response(),
        None => error(404, "not_found", format!("page \"{id}\" was not found")),
    }
}

async fn patch_blueprint(
    State(state): Shared,
    Path(bp): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut inner = state.lock();
    let Some(blueprint) = inner.blueprints.get_mut(&bp) else {
        return error(
            404,
            "not_found",
            format!("blueprint \"{bp}\" was not found"),
        );
    };
    for (k, v) in body.as_object().into_iter().flatten() {
        blueprint[k] = v.clone();
    }
    Json(json!({"ok": true, "blueprint": blueprint.clone()})).into_response()
}

async fn delete_blueprint(State(state): Shared, Path(bp): Path<String>) -> Response {
    let mut inner = state.lock();
    if inner.entities.keys().any(|(b, _)| *b == bp) {
        return error(
            422,
            "has_entities",
            format!("blueprint \"{bp}\" still has entities"),
        );
    }
    match inner.blueprints.remove(&bp) {
        Some(_) => Json(json!({"ok": true})).into_response(),
        None => error(
            404,
            "not_found",
            format!("blueprint \"{bp}\" was not found"),
        ),
    }
}

async fn dump(State(state): Shared) -> Json<Value> {
    Json(state.dump())
}

async fn stats(State(state): Shared) -> Json<Value> {
    Json(serde_json::to_value(state.stats()).unwrap_or(Value::Null))
}

/// `POST /_faults` with `{"latencyMs": n, "rate5xx": x}` and/or `{"status": s, "route": "...",
/// "count": n, "retryAfter": secs, "body": answer}`.
async fn set_faults(State(state): Shared, Json(body): Json<Value>) -> Json<Value> {
    let mut inner = state.lock();
    if let Some(ms) = body.get("latencyMs").and_then(Value::as_u64) {
        inner.faults.latency = Duration::from_millis(ms);
    }
    if let Some(rate) = body.get("rate5xx").and_then(Value::as_f64) {
        inner.faults.rate_5xx = rate;
    }
    if let Some(status) = body.get("status").and_then(Value::as_u64) {
        inner.scripted.push(crate::state::Scripted {
            route: body
                .get("route")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            status: u16::try_from(status).unwrap_or(500),
            body: body.get("body").cloned(),
            retry_after: body.get("retryAfter").and_then(Value::as_u64),
            remaining: body
                .get("count")
                .and_then(Value::as_u64)
                .and_then(|c| u32::try_from(c).ok())
                .unwrap_or(1),
        });
    }
    Json(json!({"ok": true}))
}
