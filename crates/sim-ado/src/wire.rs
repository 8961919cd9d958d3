//! What every handler answers and reads the same way: Azure DevOps' error envelope, `{count,
//! value}` lists, continuation-token pages, numbers in the query, and dates and clock seconds as
//! the service writes them. Below the handlers, which import it; it imports no other module.

use std::collections::HashMap;

use axum::{
    Json,
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// Azure DevOps' error envelope (`typeKey` names the exception).
pub(crate) fn error(status: StatusCode, type_key: &str, message: &str) -> Response {
    let body = json!({"$id": "1", "innerException": null, "message": message, "typeName": format!("Microsoft.TeamFoundation.{type_key}"), "typeKey": type_key, "errorCode": 0, "eventId": 3000});
    (status, Json(body)).into_response()
}

/// A 404 for `what` (`The project X`, `Release 7`, ...).
pub(crate) fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ProjectDoesNotExistWithNameException",
        &format!("TF200016: {what} does not exist."),
    )
}

/// The service's 404 for a repository id or name it does not know.
pub(crate) fn repository_not_found(repo: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "GitRepositoryNotFoundException",
        &format!(
            "TF401019: The Git repository with name or identifier {repo} does not exist or you do not have permissions for the operation you are attempting."
        ),
    )
}

/// A `{count, value}` list, the shape of every collection answer.
pub(crate) fn list(values: impl IntoIterator<Item = Value>) -> Json<Value> {
    let value: Vec<Value> = values.into_iter().collect();
    Json(json!({"count": value.len(), "value": value}))
}

/// A query parameter as a number, if it is one.
pub(crate) fn number(params: &HashMap<String, String>, key: &str) -> Option<usize> {
    params.get(key).and_then(|v| v.parse().ok())
}

/// A page of `items` after `continuationToken` (an offset), with the next token as a header.
pub(crate) fn continuation_page(
    items: &[Value],
    params: &HashMap<String, String>,
    default_top: usize,
) -> Response {
    let top = number(params, "$top").unwrap_or(default_top).max(1);
    let from = number(params, "continuationToken").unwrap_or(0);
    let page: Vec<Value> = items.iter().skip(from).take(top).cloned().collect();
    let mut response = list(page).into_response();
    if from + top < items.len() {
        response
            .headers_mut()
            .insert("x-ms-continuationtoken", HeaderValue::from(from + top));
    }
    response
}

/// A date-time as Azure DevOps writes work item dates: UTC with milliseconds.
pub(crate) fn stamp(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Now, in Unix seconds (rate-limit windows and resets, token expiry).
pub(crate) fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
