//! `release`: releases of every project from the release host, with the selector's filters
//! (`expand` → `$expand`, `statusFilter`, `tagFilter`, `sourceBranchFilter`, `minCreatedTime`,
//! `maxCreatedTime`).

use ado_client::Error;
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{PROJECT_CONCURRENCY, Source, id_of};

/// Streams pages of releases.
pub(crate) fn fetch(source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
    let client = &source.client;
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
    let client = client.clone();
    client
        .projects()
        .map_ok(move |page| {
            let (client, query) = (client.clone(), query.clone());
            stream::iter(page.into_iter().map(Ok::<_, Error>))
                .map_ok(move |project| {
                    client
                        .releases(&id_of(&project), query.clone())
                        .map_ok(Page::from)
                        .boxed()
                })
                .try_flatten_unordered(PROJECT_CONCURRENCY)
        })
        .try_flatten()
        .boxed()
}
