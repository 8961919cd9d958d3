//! `pipeline`: the YAML pipelines of every project, with `__projectId` (ocean-azure-devops.md
//! §3.1). With the selector's `includeRepo`, each pipeline's build definition is read for
//! `__repository`: the definition's `repository` plus the definition's `project`.

use crate::AdoKind;
use ado_client::{Client, Error, PipelineId, ProjectId};
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{Source, flag, per_project, shared};

/// Build definitions read at once per project with `includeRepo` (upstream: unbounded).
const DEFINITION_CONCURRENCY: usize = 10;

/// Streams one page of pipelines per project.
pub(crate) fn fetch(source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
    let include_repo = flag(selector, "includeRepo");
    per_project(source, move |source, project| async move {
        let project_id = ProjectId::of(&project);
        let pipelines = source.pipelines(&project_id).await?;
        let pipelines = if include_repo {
            with_repositories(&source.client, &project_id, pipelines).await?
        } else {
            pipelines
        };
        Ok(vec![Page::sharing(
            pipelines,
            shared("__projectId", Value::String(project_id.into_string())),
        )])
    })
}

/// Whether any `pipeline` resource of the mapping asks for `includeRepo` (live events build
/// one object for all of them).
pub(crate) fn wants_repository(config: &mapping::PortAppConfig) -> bool {
    AdoKind::Pipeline
        .resources(config)
        .any(|r| flag(&r.selector, "includeRepo"))
}

/// `pipelines` with `__repository` from their build definitions.
pub(crate) async fn with_repositories(
    client: &Client,
    project_id: &ProjectId,
    pipelines: Vec<Value>,
) -> Result<Vec<Value>, Error> {
    stream::iter(pipelines)
        .map(|mut pipeline| async move {
            let id = PipelineId::from(pipeline["id"].as_u64().unwrap_or_default());
            pipeline["__repository"] = match client.build_definition(project_id, id).await {
                Ok(mut definition) => {
                    let mut repository = definition["repository"].take();
                    if let Some(r) = repository.as_object_mut() {
                        r.insert("project".to_owned(), definition["project"].take());
                    }
                    repository
                }
                // Deleted since it was listed: no repository to tell.
                Err(Error::NotFound { .. }) => Value::Null,
                Err(other) => return Err(other),
            };
            Ok(pipeline)
        })
        .buffered(DEFINITION_CONCURRENCY)
        .try_collect()
        .await
}
