//! `build`: the builds of every project, newest queued first, with `__projectId` and
//! `__project` (ocean-azure-devops.md §3.1). Builds are many, so they stream page by page.
//!
//! With the selector's `enrichWithFirstCommit`, each build gets `__firstCommit`: the earliest
//! (by `timestamp`) of the commits the build brought, plus `__sha`, `__timestamp` and
//! `__commitCount`; a build that brought none gets its source commit instead (`__sha` =
//! `commitId`, `__timestamp` = `committer.date`, `__commitCount` = 1), and `null` when that
//! is gone too. 25 builds at a time, as upstream.

use crate::AdoKind;
use std::collections::HashSet;

use ado_client::{BuildId, Client, CommitId, Error, ProjectId, RepositoryId};
use futures::{StreamExt, TryStreamExt};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{Source, ado_time, flag, per_project, per_project_streams, project_fields};

/// Streams pages of builds.
pub(crate) fn fetch(source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
    let enrich = flag(selector, "enrichWithFirstCommit");
    let query = vec![("queryOrder", "queueTimeDescending".to_owned())];
    per_project_streams(source, move |source, project| {
        let project_id = ProjectId::of(&project);
        let client = source.client.clone();
        source
            .client
            .builds(&project_id, query.clone())
            .and_then(move |builds| {
                let (client, project, project_id) =
                    (client.clone(), project.clone(), project_id.clone());
                async move {
                    let builds = if enrich {
                        with_first_commits(&client, &project_id, builds).await?
                    } else {
                        builds
                    };
                    Ok(Page::sharing(builds, project_fields(project_id, project)))
                }
            })
            .boxed()
    })
}

/// Catch-up: one page per project of the builds [`since`] returns (with `__firstCommit`
/// when `enrich`).
pub(crate) fn changed_since(
    source: &Source,
    since: jiff::Timestamp,
    enrich: bool,
) -> PageStream<Error> {
    per_project(source, move |source, project| async move {
        let project_id = ProjectId::of(&project);
        let mut builds = self::since(&source.client, &project_id, since).await?;
        if enrich {
            builds = with_first_commits(&source.client, &project_id, builds).await?;
        }
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
    project_id: &ProjectId,
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

/// Builds enriched at once (upstream: 25).
const ENRICH_CONCURRENCY: usize = 25;

/// Whether a `build` resource of the mapping asks for `enrichWithFirstCommit` (live events
/// build one object for all of them).
pub(crate) fn wants_first_commit(config: &mapping::PortAppConfig) -> bool {
    AdoKind::Build
        .resources(config)
        .any(|r| flag(&r.selector, "enrichWithFirstCommit"))
}

/// `builds`, each with `__firstCommit`.
pub(crate) async fn with_first_commits(
    client: &Client,
    project_id: &ProjectId,
    builds: Vec<Value>,
) -> Result<Vec<Value>, Error> {
    futures::stream::iter(builds)
        .map(|mut build| async move {
            build["__firstCommit"] = first_commit(client, project_id, &build).await?;
            Ok::<_, Error>(build)
        })
        .buffered(ENRICH_CONCURRENCY)
        .try_collect()
        .await
}

async fn first_commit(
    client: &Client,
    project_id: &ProjectId,
    build: &Value,
) -> Result<Value, Error> {
    let id = BuildId::from(build["id"].as_u64().unwrap_or_default());
    let changes = match client.build_changes(project_id, id).await {
        Ok(changes) => changes,
        Err(Error::NotFound { .. }) => Vec::new(),
        Err(other) => return Err(other),
    };
    let count = changes.len();
    let earliest = changes.into_iter().min_by_key(|c| {
        c["timestamp"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    });
    if let Some(mut change) = earliest {
        change["__sha"] = change["id"].clone();
        change["__timestamp"] = change["timestamp"].clone();
        change["__commitCount"] = Value::from(count);
        return Ok(change);
    }
    let (Some(repository), Some(sha)) = (
        build["repository"]["id"].as_str().map(RepositoryId::from),
        build["sourceVersion"].as_str().map(CommitId::from),
    ) else {
        return Ok(Value::Null);
    };
    match client.commit(project_id, &repository, &sha).await {
        Ok(mut commit) => {
            commit["__sha"] = commit["commitId"].clone();
            commit["__timestamp"] = commit["committer"]["date"].clone();
            commit["__commitCount"] = Value::from(1);
            Ok(commit)
        }
        Err(Error::NotFound { .. }) => Ok(Value::Null),
        Err(other) => Err(other),
    }
}
