//! `pipeline-deployment`: the deployment records of every environment of every project, with
//! `__project` (the environment's `project` reference, as upstream), one page per record page
//! (ocean-azure-devops.md §3.1).

use ado_client::{Error, ProjectId};
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{Source, per_project_streams, shared};

/// Environments whose records are read at a time within a project.
const ENVIRONMENT_CONCURRENCY: usize = 5;

/// Streams pages of deployment records.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    per_project_streams(source, |source, project| {
        let project_id = ProjectId::of(&project);
        stream::once(async move {
            let environments = source.environments(&project_id).await?;
            Ok::<_, Error>((source, project_id, environments))
        })
        .map_ok(|(source, project_id, environments)| {
            stream::iter(environments.into_iter().map(Ok))
                .map_ok(move |environment| records(&source, &project_id, &environment))
                .try_flatten_unordered(ENVIRONMENT_CONCURRENCY)
        })
        .try_flatten()
        .boxed()
    })
}

/// The pages of one environment's records, each sharing `__project`.
fn records(source: &Source, project_id: &ProjectId, environment: &Value) -> PageStream<Error> {
    let project = environment.get("project").cloned().unwrap_or(Value::Null);
    let Some(id) = environment.get("id").and_then(Value::as_u64) else {
        return stream::empty().boxed();
    };
    source
        .client
        .environment_deployments(project_id, id)
        .map_ok(move |records| Page::sharing(records, shared("__project", project.clone())))
        .boxed()
}
