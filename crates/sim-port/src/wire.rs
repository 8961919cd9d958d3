//! What every handler answers and reads the same way: Port's error envelope, the body limit,
//! and query parameters. Below the handlers (`routes.rs`, `entities.rs`), which import it.

use axum::{
    Json,
    extract::RawQuery,
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

/// Port's documented limit on a bulk upsert body.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Port's error envelope with an `x-trace-id` header.
pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        Json(json!({"ok": false, "error": code, "message": message.into()})),
    )
        .into_response();
    response
        .headers_mut()
        .insert("x-trace-id", HeaderValue::from_static("sim-trace"));
    response
}

/// Parses repeated query parameters (`include=a&include=b`).
pub(crate) fn query_pairs(raw: &RawQuery) -> Vec<(String, String)> {
    raw.0
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// A boolean query flag (`true` when present as `true`).
pub(crate) fn flag(pairs: &[(String, String)], name: &str, default: bool) -> bool {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or(default, |(_, v)| v.eq_ignore_ascii_case("true"))
}
