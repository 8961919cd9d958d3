//! `release-deployment`: the deployments of every project's releases from the release host,
//! newest first, as the API gives them (ocean-azure-devops.md §3.1).

use ado_client::{Client, Error, ProjectId, ReleaseDefinitionId, ReleaseId};
use futures::{StreamExt, TryStreamExt};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{Source, ado_time, per_project_streams};

/// Streams pages of deployments.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    deployments(source, Vec::new())
}

/// Catch-up: deployments modified at or after `since` (`minModifiedTime`), which also covers
/// deployments of releases created long before.
pub(crate) fn changed_since(source: &Source, since: jiff::Timestamp) -> PageStream<Error> {
    deployments(source, vec![("minModifiedTime", ado_time(since))])
}

fn deployments(source: &Source, query: Vec<(&'static str, String)>) -> PageStream<Error> {
    per_project_streams(source, move |source, project| {
        source
            .client
            .release_deployments(&ProjectId::of(&project), query.clone())
            .map_ok(Page::from)
            .boxed()
    })
}

/// Live: the latest attempt of deploying release `release` (of definition `definition`) to
/// definition environment `environment`, `None` when there is none.
///
/// Upstream asks `deployments?releaseId=…&definitionEnvironmentId=…&$top=1`, but `releaseId`
/// is not a parameter of this endpoint (spec `release`): the service ignores it and answers
/// the environment's latest deployment of *any* release. Here the list is narrowed by
/// definition and environment (newest first) and read until the release's deployment shows.
pub(crate) async fn latest(
    client: &Client,
    project: &ProjectId,
    definition: ReleaseDefinitionId,
    environment: u64,
    release: ReleaseId,
) -> Result<Option<Value>, Error> {
    let query = vec![
        ("definitionId", definition.to_string()),
        ("definitionEnvironmentId", environment.to_string()),
        ("deploymentStatus", "all".to_owned()),
    ];
    let mut pages = std::pin::pin!(client.release_deployments(project, query));
    while let Some(page) = pages.try_next().await? {
        if let Some(found) = page
            .into_iter()
            .find(|d| d["release"]["id"] == release.get())
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}
