//! The stateless pieces of one request to Port, shared by the request loop ([`crate::Client`]),
//! the token exchange ([`crate::auth`]) and every API handler: the request description
//! [`Call`], the wait before a retry, response decoding and error mapping, and request metrics.
//!
//! It sits below `client.rs`, `auth.rs` and `api/`, and imports none of them.

use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use serde::de::DeserializeOwned;
use tracing::warn;

use crate::Error;

/// How much of an error body is kept in [`Error::Http`].
const MAX_ERROR_BODY: usize = 2000;

/// One request: method, path segments under `/v1`, query, body, retry policy.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) segments: &'a [&'a str],
    pub(crate) query: Vec<(&'a str, String)>,
    pub(crate) body: Option<Bytes>,
    /// Whether a retry after a 5xx/transport error is safe.
    pub(crate) idempotent: bool,
    /// Non-2xx statuses handed back to the caller instead of failing.
    pub(crate) accept: &'a [u16],
    /// An absolute URL instead of `/v1/{segments}`: Port's ingest hosts, which the integration
    /// record names (`segments` then only label the request's metrics).
    pub(crate) target: Option<&'a url::Url>,
    /// Headers besides authorization and content type (Port's `x-port-reserved-usage` on the
    /// calls that claim and acknowledge action runs).
    pub(crate) headers: &'a [(&'static str, &'static str)],
}

/// Waits `after` before retrying a request to `route`, saying why at WARN.
pub(crate) async fn pause(route: &str, reason: &str, after: Duration) {
    warn!(
        route,
        reason,
        wait_ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
        "Retrying a Port request."
    );
    tokio::time::sleep(after).await;
}

/// A transport failure in a line a person can act on: what failed, towards which host, the
/// innermost cause and the setting to check (`could not connect to api.getport.io:443:
/// Connection refused (os error 111); check OCEAN__PORT__BASE_URL`); a refused certificate
/// is [`Error::Certificate`], which is never retried.
pub(crate) fn transport_error(
    tls: &http_setup::Tls,
    method: &Method,
    route: &str,
    error: &reqwest::Error,
) -> Error {
    match tls.failure(error) {
        http_setup::Failure::Certificate(message) => Error::Certificate {
            route: format!("{method} {route}"),
            message,
        },
        http_setup::Failure::Transient(message) => Error::Transport {
            method: method.to_string(),
            route: route.to_owned(),
            message: format!("{message}; check OCEAN__PORT__BASE_URL and the network"),
        },
    }
}

pub(crate) async fn http_error(method: &Method, route: &str, response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let trace_id = response
        .headers()
        .get("x-trace-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = response.text().await.unwrap_or_default();
    if body.len() > MAX_ERROR_BODY {
        let cut = (0..=MAX_ERROR_BODY)
            .rev()
            .find(|i| body.is_char_boundary(*i))
            .unwrap_or(0);
        body.truncate(cut);
        body.push('…');
    }
    Error::Http {
        method: method.to_string(),
        route: route.to_owned(),
        status,
        body,
        trace_id,
    }
}

/// Decodes a response body, naming the JSON path of a mismatch.
pub(crate) fn decode<T: DeserializeOwned>(route: &str, bytes: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Decode {
        route: route.to_owned(),
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

/// [`decode`] for a body already parsed as JSON.
pub(crate) fn decode_value<T: DeserializeOwned>(
    route: &str,
    value: serde_json::Value,
) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| Error::Decode {
        route: route.to_owned(),
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

/// Sends `request`, recording `ocean_api_requests_total{api="port", endpoint, status}` and the
/// request duration. `endpoint` is the route with names replaced (`blueprints/{}/entities/bulk`),
/// so blueprint, entity and integration identifiers never become label values.
pub(crate) async fn send_recorded(
    segments: &[&str],
    request: reqwest::RequestBuilder,
) -> reqwest::Result<reqwest::Response> {
    let started = std::time::Instant::now();
    let result = request.send().await;
    let endpoint = endpoint(segments);
    let status = result.as_ref().map_or_else(
        |_| "error".to_owned(),
        |response| response.status().as_u16().to_string(),
    );
    metrics::histogram!("ocean_api_request_duration_seconds", "api" => "port", "endpoint" => endpoint.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("ocean_api_requests_total", "api" => "port", "endpoint" => endpoint, "status" => status)
        .increment(1);
    result
}

/// Segments that name something (the one after `blueprints`, `integration`, ...) become `{}`.
fn endpoint(segments: &[&str]) -> String {
    const NAMED_AFTER: [&str; 6] = [
        "blueprints",
        "integration",
        "scorecards",
        "pages",
        "entities",
        "runs",
    ];
    const VERBS: [&str; 4] = ["bulk", "search", "claim-pending", "ack"];
    let mut out = Vec::with_capacity(segments.len());
    let mut previous = "";
    for segment in segments {
        let named = NAMED_AFTER.contains(&previous) && !VERBS.contains(segment);
        out.push(if named { "{}" } else { segment });
        previous = segment;
    }
    out.join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoint_labels_hide_names() {
        assert_eq!(
            super::endpoint(&["blueprints", "azureDevopsRepository", "entities", "bulk"]),
            "blueprints/{}/entities/bulk"
        );
        assert_eq!(
            super::endpoint(&["blueprints", "b", "entities", "e-1"]),
            "blueprints/{}/entities/{}"
        );
        assert_eq!(
            super::endpoint(&["integration", "my-ado"]),
            "integration/{}"
        );
        assert_eq!(
            super::endpoint(&["auth", "access_token"]),
            "auth/access_token"
        );
    }
}
