//! `pipeline-run`: the runs of every pipeline of every project, each with `__project` and
//! `__pipeline` (ocean-azure-devops.md §3.1): one page per pipeline, both keys shared by its
//! runs. Up to 5 projects and 5 pipelines per project at a time, as upstream.

use ado_client::{BuildId, Error, PipelineId, ProjectId};
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::{Map, Value};

use super::super::{Source, per_project, per_project_streams};

/// Pipelines whose runs are read at once, per project.
const PIPELINE_CONCURRENCY: usize = 5;

/// Streams one page of runs per pipeline.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    per_project_streams(source, |source, project| {
        let project_id = ProjectId::of(&project);
        stream::once(async move { source.pipelines(&project_id).await.map(|p| (source, p)) })
            .map_ok(move |(source, pipelines)| {
                let project = project.clone();
                stream::iter(pipelines.into_iter().map(Ok))
                    .map_ok(move |pipeline| {
                        let (source, project) = (source.clone(), project.clone());
                        async move { runs(&source, project, pipeline).await }
                    })
                    .try_buffered(PIPELINE_CONCURRENCY)
            })
            .try_flatten()
            .boxed()
    })
}

async fn runs(source: &Source, project: Value, pipeline: Value) -> Result<Page, Error> {
    let id = PipelineId::from(pipeline["id"].as_u64().unwrap_or_default());
    let runs = match source
        .client
        .pipeline_runs(&ProjectId::of(&project), id)
        .await
    {
        Ok(runs) => runs,
        // Deleted since it was listed.
        Err(Error::NotFound { .. }) => Vec::new(),
        Err(other) => return Err(other),
    };
    Ok(Page::sharing(runs, run_fields(project, pipeline)))
}

/// `__project` and `__pipeline`, the keys upstream adds to each run.
pub(crate) fn run_fields(project: Value, pipeline: Value) -> Map<String, Value> {
    Map::from_iter([
        ("__project".to_owned(), project),
        ("__pipeline".to_owned(), pipeline),
    ])
}

/// Catch-up: the runs of the builds queued or finished at or after `since` (a run is the
/// build with the same id), one page each. Builds of classic definitions, which the
/// Pipelines API does not list, are skipped.
pub(crate) fn changed_since(source: &Source, since: jiff::Timestamp) -> PageStream<Error> {
    per_project(source, move |source, project| async move {
        let project_id = ProjectId::of(&project);
        let builds = super::build::since(&source.client, &project_id, since).await?;
        let pipelines = source.pipelines(&project_id).await?;
        let runs: Vec<(PipelineId, BuildId, Value)> = builds
            .iter()
            .filter_map(|build| {
                let pipeline = pipelines
                    .iter()
                    .find(|p| p["id"] == build["definition"]["id"])?;
                Some((
                    PipelineId::of(pipeline)?,
                    BuildId::of(build)?,
                    pipeline.clone(),
                ))
            })
            .collect();
        let (client, project_id) = (&source.client, &project_id);
        stream::iter(runs)
            .map(|(pipeline_id, run, pipeline)| {
                let project = project.clone();
                async move {
                    match client.pipeline_run(project_id, pipeline_id, run).await {
                        Ok(run) => Ok(Some(Page::sharing(
                            vec![run],
                            run_fields(project, pipeline),
                        ))),
                        Err(Error::NotFound { .. }) => Ok(None),
                        Err(other) => Err(other),
                    }
                }
            })
            .buffered(PIPELINE_CONCURRENCY)
            .try_filter_map(|page| async move { Ok(page) })
            .try_collect()
            .await
    })
}
