//! `build`: the builds of every project, newest queued first, with `__projectId` and
//! `__project` (ocean-azure-devops.md §3.1). Builds are many, so they stream page by page.
//!
//! Not done yet: the selector's `enrichWithFirstCommit` (`__firstCommit` from each build's
//! changes); it is reported once per resync and otherwise ignored.

use std::collections::HashSet;

use ado_client::{Client, Error};
use futures::{StreamExt, TryStreamExt};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{
    Source, ado_time, flag, id_of, per_project, per_project_streams, project_fields,
};

/// Streams pages of builds.
pub(crate) fn fetch(source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
    if flag(selector, "enrichWithFirstCommit") {
        tracing::warn!(
            kind = "build",
            "enrichWithFirstCommit is not supported yet: builds are synced without __firstCommit"
        );
    }
    let query = vec![("queryOrder", "queueTimeDescending".to_owned())];
    per_project_streams(source, move |source, project| {
        let project_id = id_of(&project);
        source
            .client
            .builds(&project_id, query.clone())
            .map_ok(move |builds| {
                Page::sharing(builds, project_fields(project_id.clone(), project.clone()))
            })
            .boxed()
    })
}

/// Catch-up: one page per project of the builds [`since`] returns.
pub(crate) fn changed_since(source: &Source, since: jiff::Timestamp) -> PageStream<Error> {
    per_project(source, move |source, project| async move {
        let project_id = id_of(&project);
        let builds = self::since(&source.client, &project_id, since).await?;
        Ok(vec![Page::sharing(
            builds,
            project_fields(project_id, project),
        )])
    })
}

/// The builds of a project queued, or finished, at or after `since`, each once. Two queries:
/// `minTime` applies to the time field that `queryOrder` names, and no single field covers
/// both (a build queued before `since` and still running is seen when it finishes).
pub(crate) async fn since(
    client: &Client,
    project_id: &str,
    since: jiff::Timestamp,
) -> Result<Vec<Value>, Error> {
    let mut builds = Vec::new();
    for order in ["queueTimeDescending", "finishTimeDescending"] {
        let query = vec![
            ("queryOrder", order.to_owned()),
            ("minTime", ado_time(since)),
        ];
        builds.extend(client.builds(project_id, query).try_concat().await?);
    }
    let mut seen = HashSet::new();
    builds.retain(|b| seen.insert(b["id"].as_u64()));
    Ok(builds)
}
