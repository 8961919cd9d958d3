//! Pipeline events: `ms.vss-pipelines.run-state-changed-event` and `build.complete` are about
//! one run, which is also a build (same id). Each re-reads the current objects and updates
//! every mapped kind the run touches: `pipeline-run` (as upstream), and beyond upstream
//! `build` (upstream's `build.complete` only feeds `test-run`) and `pipeline`.
//!
//! Upstream reads `ms.vss-pipelinechecks-events.check-updated-event` as a pipeline change and
//! fetches the pipeline by the *check configuration* id (ocean-azure-devops.md §5.3); a check
//! configuration is not a pipeline, so that event is not routed here. Pipelines change with
//! their runs' revisions, which these events bring.

use ado_client::Client;
use mapping::PortAppConfig;
use ocean::{Page, live::Changes};
use serde_json::{Map, Value};

use super::found;
use crate::kinds::{
    pipelines::{pipeline, pipeline_run::run_fields},
    project_fields, shared,
};

/// The run a pipeline event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Run {
    pub(super) project: String,
    pub(super) pipeline: u64,
    pub(super) id: u64,
}

/// The run of a `run-state-changed` or `build.complete` payload, or which field is missing.
pub(super) fn run(event_type: &str, payload: &Value) -> Result<Run, String> {
    let resource = &payload["resource"];
    let number = |value: &Value, path: &str| {
        value
            .as_u64()
            .ok_or_else(|| format!("{path} is missing or not a number"))
    };
    // Older `build.complete` payloads have no `resourceContainers`; the build names its project.
    let project = payload["resourceContainers"]["project"]["id"]
        .as_str()
        .or_else(|| resource["project"]["id"].as_str())
        .ok_or("resourceContainers.project.id is missing")?
        .to_owned();
    Ok(if event_type == "build.complete" {
        Run {
            project,
            pipeline: number(&resource["definition"]["id"], "resource.definition.id")?,
            id: number(&resource["id"], "resource.id")?,
        }
    } else {
        Run {
            project,
            pipeline: number(&resource["pipeline"]["id"], "resource.pipeline.id")?,
            id: number(&resource["run"]["id"], "resource.run.id")?,
        }
    })
}

/// The current state of `run` for each mapped kind it touches, stamped with `organization`.
pub(super) async fn changes(
    client: &Client,
    config: &PortAppConfig,
    run: Run,
    organization: &Map<String, Value>,
) -> Result<Changes, String> {
    let wants = |kind: &str| config.resources.iter().any(|r| r.kind == kind);
    let mut changes = Changes::default();
    if !(wants("pipeline-run") || wants("build") || wants("pipeline")) {
        return Ok(changes);
    }
    let Run {
        project,
        pipeline: pipeline_id,
        id,
    } = run;
    let mut push = |kind: &str, mut page: Page| {
        page.shared.extend(organization.clone());
        changes.updated.push((kind.to_owned(), page.into_items()));
    };
    let project_object = client.project(&project).await.map_err(|e| e.to_string())?;
    let listed = found(client.pipeline(&project, pipeline_id).await)?.map(|mut p| {
        // As the pipelines list has it (resync's shape): without `configuration`.
        if let Some(o) = p.as_object_mut() {
            o.remove("configuration");
        }
        p
    });
    if let Some(listed) = &listed {
        if wants("pipeline-run")
            && let Some(run) = found(client.pipeline_run(&project, pipeline_id, id).await)?
        {
            let fields = run_fields(project_object.clone(), listed.clone());
            push("pipeline-run", Page::sharing(vec![run], fields));
        }
        if wants("pipeline") {
            let mut items = vec![listed.clone()];
            if pipeline::wants_repository(config) {
                items = pipeline::with_repositories(client, &project, items)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let fields = shared("__projectId", Value::String(project.clone()));
            push("pipeline", Page::sharing(items, fields));
        }
    }
    if wants("build")
        && let Some(build) = found(client.build(&project, id).await)?
    {
        push(
            "build",
            Page::sharing(vec![build], project_fields(project, project_object)),
        );
    }
    Ok(changes)
}
