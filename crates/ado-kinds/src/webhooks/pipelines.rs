//! Pipeline events are about one run, which is also a build (same id), and re-read the
//! current objects of the mapped kinds they change:
//! - `ms.vss-pipelines.run-state-changed-event` and `build.complete`: `pipeline-run` (as
//!   upstream), and beyond upstream `build` (upstream's `build.complete` only feeds
//!   `test-run`) and `pipeline`;
//! - stage and job state changes, and approvals that name their run: `pipeline-stage`, every
//!   stage of the run's timeline with `__build` the build, as in a resync (upstream picks one
//!   stage and puts the *run* under `__build`).
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
    pipelines::{build, pipeline, pipeline_run::run_fields, pipeline_stage},
    project_fields, shared,
};

/// The run a pipeline event is about, and which part of it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Run {
    pub(super) project: String,
    pub(super) pipeline: u64,
    pub(super) id: u64,
    /// Stage, job and approval events change stages (`pipeline-stage`); run and build events
    /// change the run (`pipeline-run`, `build`, `pipeline`).
    pub(super) stages: bool,
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
            stages: false,
        }
    } else {
        Run {
            project,
            pipeline: number(&resource["pipeline"]["id"], "resource.pipeline.id")?,
            id: number(&resource["run"]["id"], "resource.run.id")?,
            stages: event_type != "ms.vss-pipelines.run-state-changed-event",
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
    let Run {
        project,
        pipeline: pipeline_id,
        id,
        stages,
    } = run;
    let wants = |kind: &str| {
        let ours = if stages {
            kind == "pipeline-stage"
        } else {
            matches!(kind, "pipeline-run" | "build" | "pipeline")
        };
        ours && config.resources.iter().any(|r| r.kind == kind)
    };
    let mut changes = Changes::default();
    if !(wants("pipeline-run") || wants("build") || wants("pipeline") || wants("pipeline-stage")) {
        return Ok(changes);
    }
    let mut push = |kind: &str, mut page: Page| {
        page.shared.extend(organization.clone());
        changes.updated.push((kind.to_owned(), page.into_items()));
    };
    let project_object = client.project(&project).await.map_err(|e| e.to_string())?;
    let needs_pipeline = wants("pipeline-run") || wants("pipeline");
    let pipeline = if needs_pipeline {
        found(client.pipeline(&project, pipeline_id).await)?
    } else {
        None
    };
    let listed = pipeline.map(|mut p| {
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
    if (wants("build") || wants("pipeline-stage"))
        && let Some(build) = found(client.build(&project, id).await)?
    {
        if wants("pipeline-stage") {
            let page = pipeline_stage::stages(client, project_object.clone(), build.clone())
                .await
                .map_err(|e| e.to_string())?;
            push("pipeline-stage", page);
        }
        if wants("build") {
            let mut items = vec![build];
            if build::wants_first_commit(config) {
                items = build::with_first_commits(client, &project, items)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let fields = project_fields(project, project_object);
            push("build", Page::sharing(items, fields));
        }
    }
    Ok(changes)
}
