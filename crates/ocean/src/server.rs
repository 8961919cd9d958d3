//! The HTTP server (ocean-framework.md §7): `POST /integration/webhook` (live events),
//! `POST /resync` (the `WEBHOOK` listener), `GET /health/live`, `GET /health/ready` and
//! `GET /metrics`, all under an optional path prefix.
//!
//! Unlike Ocean, readiness means something: the integration can take events now (it finished
//! starting, is not stopping, and the live-event queue has room; see [`Health`]). The last
//! resync's outcome and Port's reachability are in the body, never a reason to be unready.
//! The webhook route answers at once: 401 for a wrong password, 400 for a malformed event, 200
//! for an event that is queued or deliberately ignored, and 503 when the queue is full so that
//! Azure DevOps delivers the event again.

use std::sync::Arc;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use metrics::counter;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tracing::{debug, warn};

use crate::{
    health::Health,
    live::{Classified, LiveEvents, Queue},
};

/// Largest webhook body accepted (Azure DevOps push events with many commits are large).
pub const MAX_WEBHOOK_BYTES: usize = 10 * 1024 * 1024;

/// Renders the Prometheus exposition text.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// Everything the routes need.
pub struct ServerState<L> {
    /// Live events: the integration's logic and the queue (absent: no webhook route).
    pub live: Option<(Arc<L>, Queue)>,
    /// Readiness inputs.
    pub health: Arc<Health>,
    /// `/metrics` (absent: 404).
    pub metrics: Option<MetricsRender>,
    /// `POST /resync` triggers (the `WEBHOOK` listener; absent: 404).
    pub resync: Option<Arc<Notify>>,
}

impl<L> Clone for ServerState<L> {
    fn clone(&self) -> Self {
        Self {
            live: self.live.clone(),
            health: Arc::clone(&self.health),
            metrics: self.metrics.clone(),
            resync: self.resync.clone(),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes the requests in
/// flight (mini-redis's `server::run`).
pub async fn run(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The routes, under `/{prefix}` when a prefix is given (`OCEAN__PATH_PREFIX`), except
/// `/resync`: Ocean mounts it on the root app (ocean-framework.md §11 item 15), and Port calls
/// the `{appHost}/resync` recorded in the integration's `changelogDestination`.
pub fn router<L: LiveEvents>(prefix: Option<&str>, state: ServerState<L>) -> Router {
    let resync = Router::new()
        .route("/resync", post(resync::<L>))
        .with_state(state.clone());
    let routes = Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready::<L>))
        .route("/metrics", get(metrics::<L>))
        .route(
            "/integration/webhook",
            post(webhook::<L>).layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES)),
        )
        .with_state(state);
    match prefix
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
    {
        Some(prefix) => Router::new()
            .nest(&format!("/{prefix}"), routes)
            .merge(resync),
        None => routes.merge(resync),
    }
}

async fn live() -> Json<Value> {
    Json(json!({"status": "healthy", "check": "live"}))
}

async fn ready<L: LiveEvents>(State(state): State<ServerState<L>>) -> Response {
    let mut reasons = state.health.not_ready();
    if state
        .live
        .as_ref()
        .is_some_and(|(_, queue)| queue.is_full())
    {
        reasons.push("the live-event queue is full");
    }
    let mut body = state.health.details();
    body["check"] = json!("ready");
    if reasons.is_empty() {
        body["status"] = json!("healthy");
        Json(body).into_response()
    } else {
        body["status"] = json!("unhealthy");
        body["reasons"] = json!(reasons);
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

async fn metrics<L: LiveEvents>(State(state): State<ServerState<L>>) -> Response {
    match &state.metrics {
        Some(render) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            )],
            render(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn resync<L: LiveEvents>(State(state): State<ServerState<L>>) -> Response {
    match &state.resync {
        Some(trigger) => {
            // A permit is stored when no resync waits: requests during a resync coalesce into
            // one follow-up.
            trigger.notify_one();
            Json(json!({"status": "ok"})).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The answer to a webhook request whose event ends here (refused or ignored), counted in
/// `ocean_webhook_events_total`. An accepted event is counted once, by the worker that applies
/// it (`applied` or `failed`), not here as well.
fn answer(status: StatusCode, outcome: &'static str, event_type: &str, message: &str) -> Response {
    counter!("ocean_webhook_events_total", "event_type" => event_type.to_owned(), "outcome" => outcome)
        .increment(1);
    reply(status, outcome, message)
}

/// 503 with `Retry-After: {retry_after_secs}`: Azure DevOps delivers the event again.
fn deliver_again(event_type: &str, message: &str, retry_after_secs: &'static str) -> Response {
    let mut response = answer(
        StatusCode::SERVICE_UNAVAILABLE,
        "refused",
        event_type,
        message,
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(retry_after_secs),
    );
    response
}

fn reply(status: StatusCode, outcome: &'static str, message: &str) -> Response {
    let body = if status.is_success() {
        json!({"status": outcome})
    } else {
        json!({"status": "error", "message": message})
    };
    (status, Json(body)).into_response()
}

async fn webhook<L: LiveEvents>(
    State(state): State<ServerState<L>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((events, queue)) = &state.live else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !state.health.started() {
        // Port's record is not ready: nothing could be applied yet. Azure DevOps delivers again.
        return deliver_again("", "starting; deliver again later", "5");
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !events.authenticate(authorization) {
        warn!("Refused a webhook request: wrong or missing credentials.");
        return answer(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "",
            "wrong or missing credentials",
        );
    }
    // Microsoft's own sample payloads start with a UTF-8 byte order mark; the Python
    // integration accepts them.
    let json = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&body);
    let payload: Value = match serde_json::from_slice(json) {
        Ok(payload) => payload,
        Err(error) => {
            warn!(%error, bytes = body.len(), "Refused a webhook request: the body is not JSON.");
            return answer(
                StatusCode::BAD_REQUEST,
                "invalid",
                "",
                &format!("the body is not JSON: {error}"),
            );
        }
    };
    match events.classify(&payload) {
        Classified::Invalid(reason) => {
            warn!(%reason, "Refused a webhook request: not a valid event.");
            answer(StatusCode::BAD_REQUEST, "invalid", "", &reason)
        }
        Classified::Ignore { event_type } => {
            debug!(event_type, "Ignored an event no kind handles.");
            answer(StatusCode::OK, "ignored", &event_type, "")
        }
        Classified::Accept { key, event_type } => {
            match queue.push(&key, event_type.clone(), payload) {
                Ok(()) => reply(StatusCode::OK, "ok", ""),
                Err(refused) => {
                    warn!(
                        event_type,
                        ?refused,
                        "Queue full or closing; asking the sender to retry."
                    );
                    deliver_again(&event_type, "busy; deliver again later", "1")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request};
    use tower::ServiceExt;

    use super::*;
    use crate::live::{Changes, Classified};

    /// An integration without live events (only the routes matter here).
    struct Quiet;

    impl LiveEvents for Quiet {
        type Error = std::io::Error;

        fn authenticate(&self, _authorization: Option<&str>) -> bool {
            true
        }

        fn classify(&self, _payload: &Value) -> Classified {
            Classified::Ignore {
                event_type: "none".to_owned(),
            }
        }

        fn process(
            &self,
            _payload: Value,
            _config: Arc<mapping::PortAppConfig>,
        ) -> impl Future<Output = Result<Changes, Self::Error>> + Send {
            std::future::ready(Ok(Changes::default()))
        }
    }

    async fn status(router: &Router, method: &str, path: &str) -> u16 {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap_or_default();
        router
            .clone()
            .oneshot(request)
            .await
            .map_or(0, |response| response.status().as_u16())
    }

    #[tokio::test]
    async fn with_a_path_prefix_resync_stays_at_the_root_and_the_rest_moves_under_it() {
        let state = ServerState::<Quiet> {
            live: None,
            health: Arc::new(Health::default()),
            metrics: None,
            resync: Some(Arc::new(Notify::new())),
        };
        let router = router(Some("/ado/"), state);
        assert_eq!(status(&router, "POST", "/resync").await, 200);
        assert_eq!(status(&router, "POST", "/ado/resync").await, 404);
        assert_eq!(status(&router, "GET", "/ado/health/live").await, 200);
        assert_eq!(status(&router, "GET", "/health/live").await, 404);
    }
}
