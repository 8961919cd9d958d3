//! `release`: releases of every project from the release host, with the selector's filters
//! (`expand` → `$expand`, `statusFilter`, `tagFilter`, `sourceBranchFilter`, `minCreatedTime`,
//! `maxCreatedTime`).

use ado_client::{Error, ProjectId};
use futures::{StreamExt, TryStreamExt};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{Source, ado_time, per_project_streams};

/// Catch-up: the selector's releases created at or after `since` (`minCreatedTime`, or the
/// selector's own when later). A release's later changes (deployments, approvals) cannot be
/// asked for this way; the scheduled resync brings those.
pub(crate) fn created_since(
    source: &Source,
    selector: &SelectorConfig,
    since: jiff::Timestamp,
) -> PageStream<Error> {
    let mut selector = selector.clone();
    let own = selector
        .extra
        .get("minCreatedTime")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    if own.is_none_or(|own| own < since) {
        selector
            .extra
            .insert("minCreatedTime".to_owned(), Value::String(ado_time(since)));
    }
    fetch(source, &selector)
}

/// Streams pages of releases.
pub(crate) fn fetch(source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
    let mut query: Vec<(&'static str, String)> = Vec::new();
    for (key, param) in [
        ("expand", "$expand"),
        ("statusFilter", "statusFilter"),
        ("sourceBranchFilter", "sourceBranchFilter"),
        ("minCreatedTime", "minCreatedTime"),
        ("maxCreatedTime", "maxCreatedTime"),
    ] {
        if let Some(value) = selector.extra.get(key).and_then(Value::as_str) {
            query.push((param, value.to_owned()));
        }
    }
    if let Some(tags) = selector.extra.get("tagFilter").and_then(Value::as_array) {
        let tags: Vec<&str> = tags.iter().filter_map(Value::as_str).collect();
        query.push(("tagFilter", tags.join(",")));
    }
    per_project_streams(source, move |source, project| {
        source
            .client
            .releases(&ProjectId::of(&project), query.clone())
            .map_ok(Page::from)
            .boxed()
    })
}
