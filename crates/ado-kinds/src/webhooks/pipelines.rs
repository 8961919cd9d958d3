//! Pipeline events are about one run, which is also a build (same id), and re-read the
//! current objects of the mapped kinds they change:
//! - `ms.vss-pipelines.run-state-changed-event` and `build.complete`: `pipeline-run` and
//!   `test-run` (the run's build's test runs) as upstream, and beyond upstream `build` and
//!   `pipeline`;
//! - stage and job state changes, and approvals that name their run: `pipeline-stage`, every
//!   stage of the run's timeline with `__build` the build, as in a resync (upstream picks one
//!   stage and puts the *run* under `__build`).
//!
//! Upstream reads `ms.vss-pipelinechecks-events.check-updated-event` as a pipeline change and
//! fetches the pipeline by the *check configuration* id (ocean-azure-devops.md §5.3); a check
//! configuration is not a pipeline, so that event is not routed here. Pipelines change with
//! their runs' revisions, which these events bring.

use crate::AdoKind;
use ado_client::{BuildId, Client, PipelineId, ProjectId};
use mapping::PortAppConfig;
use ocean::{Page, live::Changes};
use serde_json::{Map, Value};

use super::{found, shape::Shape};
use crate::error::EventShapeError;
use crate::kinds::{
    pipelines::{build, pipeline, pipeline_run::run_fields, pipeline_stage},
    project_fields, shared,
    test::test_run,
};

/// The run a pipeline event is about, and which part of it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Run {
    pub(super) project: ProjectId,
    pub(super) pipeline: PipelineId,
    /// The run's id, which is its build's.
    pub(super) id: BuildId,
    /// Stage, job and approval events change stages (`pipeline-stage`); run and build events
    /// change the run (`pipeline-run`, `build`, `pipeline`).
    pub(super) stages: bool,
}

/// The run of a `run-state-changed` or `build.complete` payload, or which field is missing.
pub(super) fn run(event_type: &str, payload: &Value) -> Result<Run, EventShapeError> {
    let shape = Shape::of(event_type);
    let resource = &payload["resource"];
    let number = |value: &Value, field| shape.number(value, field);
    // Older `build.complete` payloads have no `resourceContainers`; the build names its project.
    let project = payload["resourceContainers"]["project"]["id"]
        .as_str()
        .or_else(|| resource["project"]["id"].as_str())
        .ok_or_else(|| shape.missing("resourceContainers.project.id"))?
        .into();
    Ok(if event_type == "build.complete" {
        Run {
            project,
            pipeline: number(&resource["definition"]["id"], "resource.definition.id")?.into(),
            id: number(&resource["id"], "resource.id")?.into(),
            stages: false,
        }
    } else {
        Run {
            project,
            pipeline: number(&resource["pipeline"]["id"], "resource.pipeline.id")?.into(),
            id: number(&resource["run"]["id"], "resource.run.id")?.into(),
            stages: event_type != "ms.vss-pipelines.run-state-changed-event",
        }
    })
}

impl Run {
    /// Whether this event changes `kind`'s objects.
    fn touches(&self, kind: AdoKind) -> bool {
        if self.stages {
            kind == AdoKind::PipelineStage
        } else {
            matches!(
                kind,
                AdoKind::PipelineRun | AdoKind::Build | AdoKind::Pipeline | AdoKind::TestRun
            )
        }
    }
}

/// The kinds a pipeline event can change.
const KINDS: [AdoKind; 5] = [
    AdoKind::PipelineRun,
    AdoKind::Pipeline,
    AdoKind::TestRun,
    AdoKind::PipelineStage,
    AdoKind::Build,
];

/// The current state of `run` for each mapped kind it touches, stamped with `organization`.
pub(super) async fn changes(
    client: &Client,
    config: &PortAppConfig,
    run: Run,
    organization: &Map<String, Value>,
) -> Result<Changes, crate::Error> {
    let wanted: Vec<AdoKind> = KINDS
        .into_iter()
        .filter(|kind| run.touches(*kind) && kind.is_mapped(config))
        .collect();
    let mut changes = Changes::default();
    if wanted.is_empty() {
        return Ok(changes);
    }
    let wants = |kind: AdoKind| wanted.contains(&kind);
    let project = client.project(&run.project).await?;
    let mut pages = of_pipeline(client, config, &run, &project, wants).await?;
    pages.extend(of_build(client, config, &run, project, wants).await?);
    for (kind, mut page) in pages {
        page.shared.extend(organization.clone());
        changes
            .updated
            .push((kind.into(), crate::kinds::page_items(page)?));
    }
    Ok(changes)
}

/// `pipeline-run` and `pipeline`: both need the pipeline, as listed.
async fn of_pipeline(
    client: &Client,
    config: &PortAppConfig,
    run: &Run,
    project: &Value,
    wants: impl Fn(AdoKind) -> bool,
) -> Result<Vec<(AdoKind, Page)>, crate::Error> {
    let mut pages = Vec::new();
    if !(wants(AdoKind::PipelineRun) || wants(AdoKind::Pipeline)) {
        return Ok(pages);
    }
    let Some(mut listed) = found(client.pipeline(&run.project, run.pipeline).await)? else {
        return Ok(pages);
    };
    // As the pipelines list has it (resync's shape): without `configuration`.
    if let Some(o) = listed.as_object_mut() {
        o.remove("configuration");
    }
    if wants(AdoKind::PipelineRun)
        && let Some(current) = found(
            client
                .pipeline_run(&run.project, run.pipeline, run.id)
                .await,
        )?
    {
        let fields = run_fields(project.clone(), listed.clone());
        pages.push((AdoKind::PipelineRun, Page::sharing(vec![current], fields)));
    }
    if wants(AdoKind::Pipeline) {
        let mut items = vec![listed];
        if pipeline::wants_repository(config) {
            items = pipeline::with_repositories(client, &run.project, items).await?;
        }
        let fields = shared("__projectId", Value::String(run.project.to_string()));
        pages.push((AdoKind::Pipeline, Page::sharing(items, fields)));
    }
    Ok(pages)
}

/// `test-run`, `pipeline-stage` and `build`: the run's build, its tests and its timeline.
async fn of_build(
    client: &Client,
    config: &PortAppConfig,
    run: &Run,
    project: Value,
    wants: impl Fn(AdoKind) -> bool,
) -> Result<Vec<(AdoKind, Page)>, crate::Error> {
    let mut pages = Vec::new();
    if wants(AdoKind::TestRun)
        && let Some(options) = test_run::Options::of_mapping(config)?
    {
        let runs = test_run::of_build(client, &run.project, run.id, options).await?;
        pages.push((AdoKind::TestRun, Page::from(runs)));
    }
    if !(wants(AdoKind::Build) || wants(AdoKind::PipelineStage)) {
        return Ok(pages);
    }
    let Some(build) = found(client.build(&run.project, run.id).await)? else {
        return Ok(pages);
    };
    if wants(AdoKind::PipelineStage) {
        let page = pipeline_stage::stages(client, project.clone(), build.clone()).await?;
        pages.push((AdoKind::PipelineStage, page));
    }
    if wants(AdoKind::Build) {
        let mut items = vec![build];
        if build::wants_first_commit(config) {
            items = build::with_first_commits(client, &run.project, items).await?;
        }
        let fields = project_fields(run.project.clone(), project);
        pages.push((AdoKind::Build, Page::sharing(items, fields)));
    }
    Ok(pages)
}
