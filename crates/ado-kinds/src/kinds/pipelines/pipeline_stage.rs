//! `pipeline-stage`: the `Stage` records of every build's timeline, each with `__project` and
//! `__build` (ocean-azure-devops.md §3.1): one timeline request per build, 5 at a time, one
//! page per build with both keys shared. `__build` is the build as the `build` kind gives it,
//! with `__projectId` and `__project`, as upstream (found by the conformance goldens).

use ado_client::{BuildId, Client, Error, ProjectId};
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::{Map, Value};

use super::super::{Source, per_project, per_project_streams, project_fields};

/// Timelines read at once per project (upstream: batches of 5).
const TIMELINE_CONCURRENCY: usize = 5;

/// Streams one page of stages per build.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    let query = vec![("queryOrder", "queueTimeDescending".to_owned())];
    per_project_streams(source, move |source, project| {
        let project_id = ProjectId::of(&project);
        let client = source.client.clone();
        source
            .client
            .builds(&project_id, query.clone())
            .map_ok(move |builds| {
                let (client, project) = (client.clone(), project.clone());
                stream::iter(builds.into_iter().map(Ok))
                    .map_ok(move |build| {
                        let (client, project) = (client.clone(), project.clone());
                        async move { stages(&client, project, build).await }
                    })
                    .try_buffered(TIMELINE_CONCURRENCY)
            })
            .try_flatten()
            .boxed()
    })
}

/// The stages of `build`, as one page sharing `__project` and `__build` (none when the build
/// is gone).
pub(crate) async fn stages(
    client: &Client,
    project: Value,
    mut build: Value,
) -> Result<Page, Error> {
    let id = BuildId::from(build["id"].as_u64().unwrap_or_default());
    let project_id = ProjectId::of(&project);
    let records = match client.build_timeline(&project_id, id).await {
        Ok(records) => records,
        Err(Error::NotFound { .. }) => Vec::new(),
        Err(other) => return Err(other),
    };
    let stages = records
        .into_iter()
        .filter(|r| r["type"] == "Stage")
        .collect();
    if let Some(fields) = build.as_object_mut() {
        fields.extend(project_fields(project_id, project.clone()));
    }
    let fields = Map::from_iter([
        ("__project".to_owned(), project),
        ("__build".to_owned(), build),
    ]);
    Ok(Page::sharing(stages, fields))
}

/// Catch-up: the stages of the builds queued or finished at or after `since`.
pub(crate) fn changed_since(source: &Source, since: jiff::Timestamp) -> PageStream<Error> {
    per_project(source, move |source, project| async move {
        let builds = super::build::since(&source.client, &ProjectId::of(&project), since).await?;
        stream::iter(builds)
            .map(|build| stages(&source.client, project.clone(), build))
            .buffered(TIMELINE_CONCURRENCY)
            .try_collect()
            .await
    })
}
