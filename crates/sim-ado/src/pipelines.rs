//! Pipelines and builds: generated YAML pipelines with their runs, served by the `pipelines`
//! area (`_apis/pipelines`, runs) and the `build` area (`_apis/build/builds`, definitions), in
//! the shapes of the `pipelines` and `build` specs. A run of the Pipelines API and a build of
//! the Build API are the same object seen twice (the run id is the build id), so only builds
//! are stored and runs are rendered from them.
//!
//! Builds have a timeline of two stages (`Build`, `Deploy`), each with a job.
//!
//! Mutations: [`AdoState::run_pipeline`] queues a run and [`AdoState::complete_run`] finishes
//! it; they deliver `ms.vss-pipelines.run-state-changed-event`,
//! `ms.vss-pipelines.stage-state-changed-event` (per stage started or finished) and
//! `build.complete`.

use std::{cmp::Reverse, collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use crate::{
    model::{Project, find, hours_before, reference},
    state::AdoState,
    wire::{continuation_page, error, list, not_found, stamp},
};

type Shared = State<Arc<AdoState>>;
type Params = Query<HashMap<String, String>>;

/// Runs generated per pipeline, the newest first: succeeded, failed, succeeded, canceled …
pub(crate) const RUNS_PER_PIPELINE: usize = 3;
const RESULTS: [&str; 4] = ["succeeded", "failed", "succeeded", "canceled"];

/// The routes of both areas (registered inside the guard by `routes::router`).
pub(crate) fn routes() -> Router<Arc<AdoState>> {
    Router::new()
        .route("/{org}/{project}/_apis/pipelines", get(pipelines))
        .route("/{org}/{project}/_apis/pipelines/{id}", get(pipeline))
        .route(
            "/{org}/{project}/_apis/pipelines/{id}/runs",
            get(runs).post(crate::pipeline_runs::start),
        )
        .route("/{org}/{project}/_apis/pipelines/{id}/runs/{run}", get(run))
        .route("/{org}/{project}/_apis/build/builds", get(builds))
        .route("/{org}/{project}/_apis/build/builds/{id}", get(build))
        .route(
            "/{org}/{project}/_apis/build/builds/{id}/timeline",
            get(timeline),
        )
        .route(
            "/{org}/{project}/_apis/build/builds/{id}/changes",
            get(changes),
        )
        .route(
            "/{org}/{project}/_apis/git/repositories/{repo}/commits/{sha}",
            get(commit),
        )
        .route(
            "/{org}/{project}/_apis/build/definitions/{id}",
            get(definition),
        )
}

/// Adds `count` pipelines (each building one of the project's repositories in turn) and
/// their runs, queued days before `now`, to project number `p`.
pub(crate) fn seed(base: &str, p: usize, count: usize, out: &mut Project, now: jiff::Timestamp) {
    let project_id = out.project["id"].as_str().unwrap_or_default().to_owned();
    for i in 0..count {
        let id = p * 100 + i + 1;
        let repository = (!out.repositories.is_empty())
            .then(|| out.repositories[i % out.repositories.len()]["id"].clone());
        let pipeline = json!({
            "_links": {"self": {"href": format!("{base}/{project_id}/_apis/pipelines/{id}?revision=1")},
                "web": {"href": format!("{base}/{project_id}/_build/definition?definitionId={id}")}},
            "configuration": {"type": "yaml", "path": "/azure-pipelines.yml",
                "repository": {"id": repository, "type": "azureReposGit"}},
            "url": format!("{base}/{project_id}/_apis/pipelines/{id}?revision=1"),
            "id": id, "revision": 1, "name": format!("pipeline-{p}-{i}"), "folder": "\\"
        });
        for r in (0..RUNS_PER_PIPELINE).rev() {
            let number = id * 100 + RUNS_PER_PIPELINE - r;
            let queued = hours_before(now, r * 24 + 3);
            let build = build_object(base, out, &pipeline, number, queued);
            out.builds
                .push(complete(build, RESULTS[r % RESULTS.len()], queued));
        }
        out.pipelines.push(pipeline);
    }
}

/// A build of `pipeline` queued at `queued`, not started yet.
fn build_object(
    base: &str,
    project: &Project,
    pipeline: &Value,
    id: usize,
    queued: jiff::Timestamp,
) -> Value {
    let project_id = project.project["id"].as_str().unwrap_or_default();
    let repository = project
        .repositories
        .iter()
        .find(|r| r["id"] == pipeline["configuration"]["repository"]["id"]);
    let person = json!({"displayName": "Build Bot", "uniqueName": "build-bot@example.com", "id": "b0000000-0000-4000-8000-000000000001"});
    json!({
        "_links": {"self": {"href": format!("{base}/{project_id}/_apis/build/Builds/{id}")},
            "web": {"href": format!("{base}/{project_id}/_build/results?buildId={id}")}},
        "id": id, "buildNumber": format!("2026.{id}"), "status": "notStarted", "queueTime": stamp(queued),
        "url": format!("{base}/{project_id}/_apis/build/Builds/{id}"), "uri": format!("vstfs:///Build/Build/{id}"),
        "definition": {"id": pipeline["id"], "name": pipeline["name"], "path": "\\", "type": "build", "queueStatus": "enabled",
            "revision": pipeline["revision"], "url": format!("{base}/{project_id}/_apis/build/Definitions/{}", pipeline["id"]),
            "project": reference(&project.project)},
        "project": reference(&project.project),
        "sourceBranch": "refs/heads/main", "sourceVersion": format!("{:040x}", id),
        "priority": "normal", "reason": "individualCI", "requestedFor": person, "requestedBy": person,
        "lastChangedDate": stamp(queued), "lastChangedBy": person,
        "repository": repository.map_or(Value::Null, |r| json!({"id": r["id"], "type": "TfsGit", "name": r["name"], "url": r["remoteUrl"]})),
        "tags": [], "retainedByRelease": false
    })
}

/// `build` started a minute after `queued` and completed with `result` ten minutes later.
fn complete(mut build: Value, result: &str, queued: jiff::Timestamp) -> Value {
    let started = queued + jiff::SignedDuration::from_mins(1);
    let finished = started + jiff::SignedDuration::from_mins(10);
    build["status"] = json!("completed");
    build["result"] = json!(result);
    build["startTime"] = json!(stamp(started));
    build["finishTime"] = json!(stamp(finished));
    build["lastChangedDate"] = json!(stamp(finished));
    build
}

/// The Pipelines API's view of a build: a run (`Run` in the `pipelines` spec).
fn run_of(base: &str, build: &Value, pipeline: &Value) -> Value {
    let state = match build["status"].as_str() {
        Some("completed") => "completed",
        Some("cancelling") => "canceling",
        _ => "inProgress",
    };
    let project = build["project"]["id"].as_str().unwrap_or_default();
    let (pipeline_id, id) = (&pipeline["id"], &build["id"]);
    let url = format!("{base}/{project}/_apis/pipelines/{pipeline_id}/runs/{id}");
    let mut run = json!({
        "_links": {"self": {"href": url}, "web": build["_links"]["web"], "pipeline": {"href": pipeline["url"]}},
        "pipeline": {"url": pipeline["url"], "id": pipeline_id, "revision": pipeline["revision"],
            "name": pipeline["name"], "folder": pipeline["folder"]},
        "state": state, "createdDate": build["queueTime"], "url": url, "id": id, "name": build["buildNumber"],
        "resources": {"repositories": {"self": {"repository": {"id": build["repository"]["id"], "type": "azureReposGit"},
            "refName": build["sourceBranch"], "version": build["sourceVersion"]}}}
    });
    if state == "completed" {
        // `RunResult` has no partial success.
        run["result"] = match build["result"].as_str() {
            Some("succeeded" | "partiallySucceeded") => json!("succeeded"),
            Some("canceled") => json!("canceled"),
            _ => json!("failed"),
        };
        run["finishedDate"] = build["finishTime"].clone();
    }
    run
}

/// A pipeline as listed (the list omits `configuration`, which `GET pipelines/{id}` has).
pub(crate) fn listed(pipeline: &Value) -> Value {
    let mut out = pipeline.clone();
    if let Some(o) = out.as_object_mut() {
        o.remove("configuration");
    }
    out
}

async fn pipelines(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let items: Vec<Value> = p.pipelines.iter().map(listed).collect();
    continuation_page(&items, &params, 1000)
}

fn pipeline_not_found(id: u64) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "PipelineNotFoundException",
        &format!("Pipeline with id {id} not found."),
    )
}

async fn pipeline(
    State(state): Shared,
    Path((_, key, id)): Path<(String, String, u64)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    match p.pipelines.iter().find(|x| x["id"] == id) {
        Some(pipeline) => Json(pipeline.clone()).into_response(),
        None => pipeline_not_found(id),
    }
}

/// All runs of a pipeline, the newest first (the API returns up to 10,000 and does not page).
async fn runs(State(state): Shared, Path((_, key, id)): Path<(String, String, u64)>) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(pipeline) = p.pipelines.iter().find(|x| x["id"] == id) else {
        return pipeline_not_found(id);
    };
    let mut builds: Vec<&Value> = p
        .builds
        .iter()
        .filter(|b| b["definition"]["id"] == id)
        .collect();
    builds.sort_by_key(|b| Reverse(b["id"].as_u64()));
    list(builds.into_iter().map(|b| run_of(&state.base, b, pipeline))).into_response()
}

async fn run(
    State(state): Shared,
    Path((_, key, id, run)): Path<(String, String, u64, u64)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(pipeline) = p.pipelines.iter().find(|x| x["id"] == id) else {
        return pipeline_not_found(id);
    };
    match p
        .builds
        .iter()
        .find(|b| b["id"] == run && b["definition"]["id"] == id)
    {
        Some(build) => Json(run_of(&state.base, build, pipeline)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "PipelineRunNotFoundException",
            &format!("Run with id {run} not found."),
        ),
    }
}

/// `queryOrder` picks the time field that `minTime`/`maxTime` filter on and the order;
/// `definitions` (comma-separated ids), `$top` and `continuationToken` as the service.
async fn builds(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let order = params
        .get("queryOrder")
        .map_or("queueTimeDescending", String::as_str);
    let field = if order.starts_with("finishTime") {
        "finishTime"
    } else if order.starts_with("startTime") {
        "startTime"
    } else {
        "queueTime"
    };
    let time = |b: &Value| {
        b[field]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    };
    let bound = |k: &str| {
        params
            .get(k)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    };
    let (min, max) = (bound("minTime"), bound("maxTime"));
    let definitions: Option<Vec<u64>> = params
        .get("definitions")
        .map(|d| d.split(',').filter_map(|x| x.trim().parse().ok()).collect());
    let mut items: Vec<&Value> = p
        .builds
        .iter()
        .filter(|b| {
            definitions
                .as_ref()
                .is_none_or(|ds| ds.iter().any(|d| b["definition"]["id"] == *d))
        })
        .filter(|b| {
            (min.is_none() && max.is_none())
                || time(b).is_some_and(|t| min.is_none_or(|m| t >= m) && max.is_none_or(|m| t <= m))
        })
        .collect();
    items.sort_by_key(|b| time(b));
    if order.ends_with("Descending") || !order.ends_with("Ascending") {
        items.reverse();
    }
    let items: Vec<Value> = items.into_iter().cloned().collect();
    continuation_page(&items, &params, 1000)
}

async fn build(State(state): Shared, Path((_, key, id)): Path<(String, String, u64)>) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    match p.builds.iter().find(|b| b["id"] == id) {
        Some(build) => Json(build.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "BuildNotFoundException",
            &format!("TF215025: Build {id} could not be found."),
        ),
    }
}

/// Stage names of every generated pipeline, in order.
const STAGES: [&str; 2] = ["Build", "Deploy"];

/// The timeline of a build: a `Stage` record per stage, each with one `Job` under it. A
/// completed build's stages completed with its result; a running build runs its first stage.
pub(crate) fn timeline_records(build: &Value) -> Vec<Value> {
    let id = build["id"].as_u64().unwrap_or_default();
    let completed = build["status"] == "completed";
    let result = match build["result"].as_str() {
        Some("partiallySucceeded") => "succeededWithIssues",
        Some(other) => other,
        None => "succeeded",
    };
    let mut records = Vec::new();
    for (i, name) in STAGES.iter().enumerate() {
        let stage_id = format!("{id:08x}-0000-4000-8000-{:012x}", i + 1);
        let (state, result, finish) = match (completed, i) {
            (true, _) => ("completed", json!(result), build["finishTime"].clone()),
            (false, 0) => ("inProgress", Value::Null, Value::Null),
            (false, _) => ("pending", Value::Null, Value::Null),
        };
        let started = if state == "pending" {
            Value::Null
        } else {
            build["startTime"].clone()
        };
        for (kind, record_id, parent, record_name) in [
            ("Stage", stage_id.clone(), Value::Null, (*name).to_owned()),
            (
                "Job",
                format!("{id:08x}-0000-4000-9000-{:012x}", i + 1),
                json!(stage_id),
                format!("{name} job"),
            ),
        ] {
            records.push(json!({
                "id": record_id, "parentId": parent, "type": kind, "name": record_name, "identifier": record_name,
                "order": i + 1, "state": state, "result": result, "startTime": started, "finishTime": finish,
                "attempt": 1, "errorCount": 0, "warningCount": 0, "changeId": 1 + i, "lastModified": build["lastChangedDate"],
                "percentComplete": if state == "completed" { 100 } else { 0 }, "workerName": null, "log": null, "task": null
            }));
        }
    }
    records
}

async fn timeline(
    State(state): Shared,
    Path((_, key, id)): Path<(String, String, u64)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    match p.builds.iter().find(|b| b["id"] == id) {
        Some(build) => Json(json!({
            "records": timeline_records(build), "lastChangedOn": build["lastChangedDate"],
            "id": format!("{id:08x}-0000-4000-a000-000000000000"), "changeId": 2,
            "url": format!("{}/_apis/build/builds/{id}/Timeline", state.base)
        }))
        .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "BuildNotFoundException",
            &format!("TF215025: Build {id} could not be found."),
        ),
    }
}

/// The commits a build brought since the previous one, newest first: none for the first run
/// of a pipeline (numbers ending in 1), else two, an hour apart.
async fn changes(
    State(state): Shared,
    Path((_, key, id)): Path<(String, String, u64)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(build) = p.builds.iter().find(|b| b["id"] == id) else {
        return error(
            StatusCode::NOT_FOUND,
            "BuildNotFoundException",
            &format!("TF215025: Build {id} could not be found."),
        );
    };
    let queued = build["queueTime"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .unwrap_or_else(|| state.clock.current());
    let count = if id % 100 == 1 { 0 } else { 2 };
    let items: Vec<Value> = (0..count)
        .map(|i| {
            let at = queued - jiff::SignedDuration::from_hours(i + 1);
            json!({"id": format!("{:040x}", id * 1000 + u64::try_from(i).unwrap_or_default()), "message": format!("Change {i} of build {id}"),
                "type": "TfsGit", "author": {"displayName": "User 1", "uniqueName": "user1@example.com"},
                "timestamp": stamp(at), "location": format!("{}/_apis/git/repositories/{}/commits", state.base, build["repository"]["id"].as_str().unwrap_or_default()),
                "pusher": "user1@example.com"})
        })
        .collect();
    continuation_page(&items, &params, 50)
}

/// Any commit of a repository (every 40-hex id is a commit here), committed a day ago.
async fn commit(
    State(state): Shared,
    Path((_, key, repo, sha)): Path<(String, String, String, String)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    if !p.repositories.iter().any(|r| r["id"] == repo.as_str()) || sha.len() != 40 {
        return error(
            StatusCode::NOT_FOUND,
            "GitItemNotFoundException",
            &format!("TF401175: The commit {sha} does not exist in repository {repo}."),
        );
    }
    let date = stamp(hours_before(state.clock.current(), 24));
    let person = json!({"name": "User 1", "email": "user1@example.com", "date": date});
    Json(
        json!({"commitId": sha, "author": person, "committer": person, "comment": "Initial commit",
        "url": format!("{}/_apis/git/repositories/{repo}/commits/{sha}", state.base)}),
    )
    .into_response()
}

/// A pipeline seen as a build definition (`BuildDefinition`), with its `repository`.
async fn definition(
    State(state): Shared,
    Path((_, key, id)): Path<(String, String, u64)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(pipeline) = p.pipelines.iter().find(|x| x["id"] == id) else {
        return error(
            StatusCode::NOT_FOUND,
            "DefinitionNotExistsException",
            &format!("The pipeline with ID {id} does not exist."),
        );
    };
    let repository = p
        .repositories
        .iter()
        .find(|r| r["id"] == pipeline["configuration"]["repository"]["id"])
        .map_or(Value::Null, |r| {
            json!({"properties": {"reportBuildStatus": "true"}, "id": r["id"], "type": "TfsGit", "name": r["name"],
                "url": r["remoteUrl"], "defaultBranch": r["defaultBranch"], "clean": null, "checkoutSubmodules": false})
        });
    Json(json!({
        "id": id, "name": pipeline["name"], "path": "\\", "revision": pipeline["revision"], "type": "build",
        "queueStatus": "enabled", "quality": "definition", "uri": format!("vstfs:///Build/Definition/{id}"),
        "url": format!("{}/{}/_apis/build/Definitions/{id}", state.base, p.project["id"].as_str().unwrap_or_default()),
        "process": {"yamlFilename": "azure-pipelines.yml", "type": 2},
        "repository": repository, "project": reference(&p.project)
    }))
    .into_response()
}

impl AdoState {
    /// Queues a run of pipeline `pipeline` of project number `project` now and returns its id
    /// (`ms.vss-pipelines.run-state-changed-event`, state `inProgress`).
    pub fn run_pipeline(&self, project: usize, pipeline: u64) -> Option<u64> {
        self.queue_run(project, pipeline, None)?["id"].as_u64()
    }

    /// [`AdoState::run_pipeline`] on `branch` (a full ref) when given; returns the run as the
    /// Pipelines API shows it.
    pub(crate) fn queue_run(
        &self,
        project: usize,
        pipeline: u64,
        branch: Option<&str>,
    ) -> Option<Value> {
        let mut inner = self.lock();
        let p = inner.projects.get_mut(project)?;
        let definition = p.pipelines.iter().find(|x| x["id"] == pipeline)?.clone();
        let next = p
            .builds
            .iter()
            .filter(|b| b["definition"]["id"] == pipeline)
            .filter_map(|b| b["id"].as_u64())
            .max()
            .map_or(pipeline * 100 + 1, |m| m + 1);
        let id = usize::try_from(next).ok()?;
        let mut build = build_object(&self.base, p, &definition, id, self.clock.now());
        build["status"] = json!("inProgress");
        build["startTime"] = build["queueTime"].clone();
        if let Some(branch) = branch {
            build["sourceBranch"] = json!(branch);
        }
        p.builds.push(build.clone());
        let project_id = p.project["id"].clone();
        drop(inner);
        let run = run_of(&self.base, &build, &definition);
        self.run_state_changed(&project_id, &run, &definition);
        self.stages_changed(&project_id, &build, &run, &definition);
        Some(run)
    }

    /// Completes a run (a build) now with `result` (`succeeded`, `failed`, `canceled`):
    /// `ms.vss-pipelines.run-state-changed-event` and `build.complete`.
    pub fn complete_run(&self, id: u64, result: &str) -> bool {
        let mut inner = self.lock();
        let Some(p) = inner
            .projects
            .iter_mut()
            .find(|p| p.builds.iter().any(|b| b["id"] == id))
        else {
            return false;
        };
        let at = p
            .builds
            .iter()
            .position(|b| b["id"] == id)
            .unwrap_or_default();
        let Some(pipeline) = p
            .pipelines
            .iter()
            .find(|x| x["id"] == p.builds[at]["definition"]["id"])
            .cloned()
        else {
            return false;
        };
        let now = stamp(self.clock.now());
        let build = &mut p.builds[at];
        build["status"] = json!("completed");
        build["result"] = json!(result);
        build["finishTime"] = json!(now);
        build["lastChangedDate"] = json!(now);
        let build = build.clone();
        // Its tests ran: the test run exists when build.complete is delivered.
        let test_run = crate::test_runs::run_of(&self.base, &p.project, &build);
        p.test_runs.push(test_run);
        let project = p.project["id"].clone();
        drop(inner);
        let run = run_of(&self.base, &build, &pipeline);
        self.run_state_changed(&project, &run, &pipeline);
        self.stages_changed(&project, &build, &run, &pipeline);
        self.notify("tfs", "build.complete", &project, &build);
        true
    }
}
