//! `release-definition`: the release definitions of every project from the release host, with
//! `__project` (ocean-azure-devops.md §3.1); the selector's `expand` is sent as `$expand`
//! (default `environments`), `tagFilter` comma-joined.

use crate::AdoKind;
use ado_client::{Client, Error, ProjectId, ReleaseDefinitionId};
use futures::{StreamExt, TryStreamExt};
use mapping::{PortAppConfig, SelectorConfig};
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{Source, per_project_streams, shared};

/// The `$expand` upstream sends when the selector has none.
const DEFAULT_EXPAND: &str = "environments";

/// Streams pages of release definitions.
pub(crate) fn fetch(source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
    let mut query = vec![("$expand", expand(selector).to_owned())];
    if let Some(tags) = selector.extra.get("tagFilter").and_then(Value::as_array) {
        let tags: Vec<&str> = tags.iter().filter_map(Value::as_str).collect();
        query.push(("tagFilter", tags.join(",")));
    }
    per_project_streams(source, move |source, project| {
        source
            .client
            .release_definitions(&ProjectId::of(&project), query.clone())
            .map_ok(move |definitions| {
                Page::sharing(definitions, shared("__project", project.clone()))
            })
            .boxed()
    })
}

fn expand(selector: &SelectorConfig) -> &str {
    selector
        .extra
        .get("expand")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_EXPAND)
}

/// Live: definition `id` as the mapping's first `release-definition` resource lists it
/// (`GET definitions/{id}` has everything; the keys its `$expand` would not list are removed,
/// so that a live entity equals a resynced one). `None` when it is gone.
pub(crate) async fn current(
    client: &Client,
    config: &PortAppConfig,
    project: &ProjectId,
    id: ReleaseDefinitionId,
) -> Result<Option<Value>, Error> {
    let expand = AdoKind::ReleaseDefinition
        .resources(config)
        .next()
        .map_or(DEFAULT_EXPAND, |r| expand(&r.selector));
    let mut definition = match client.release_definition(project, id).await {
        Ok(definition) => definition,
        Err(Error::NotFound { .. }) => return Ok(None),
        Err(other) => return Err(other),
    };
    if let Some(o) = definition.as_object_mut() {
        for key in [
            "environments",
            "artifacts",
            "triggers",
            "variables",
            "tags",
            "lastRelease",
        ] {
            if !expand
                .split(',')
                .any(|e| e.trim().eq_ignore_ascii_case(key))
            {
                o.remove(key);
            }
        }
    }
    Ok(Some(definition))
}
