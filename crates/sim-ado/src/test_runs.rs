//! Test runs (spec `test`): one automated run per completed build, with three results (two
//! passed, one failed) and the build's code coverage.
//!
//! Completing a run through [`AdoState::complete_run`] adds its build's test run before
//! `build.complete` is delivered, as a pipeline that runs tests does.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use crate::{
    model::{Project, find},
    state::AdoState,
    wire::{error, list, not_found, number},
};

type Shared = State<Arc<AdoState>>;
type Params = Query<HashMap<String, String>>;

/// The routes (registered inside the guard by `routes::router`).
pub(crate) fn routes() -> Router<Arc<AdoState>> {
    Router::new()
        .route("/{org}/{project}/_apis/test/runs", get(runs))
        .route(
            "/{org}/{project}/_apis/test/runs/{id}/results",
            get(results),
        )
        .route("/{org}/{project}/_apis/test/codecoverage", get(coverage))
}

/// The test run of `build` (completed), with the project it belongs to.
pub(crate) fn run_of(base: &str, project: &Value, build: &Value) -> Value {
    let build_id = build["id"].as_u64().unwrap_or_default();
    let id = build_id * 10 + 1;
    let project_id = project["id"].as_str().unwrap_or_default();
    json!({
        "id": id, "name": format!("Tests of {}", build["buildNumber"].as_str().unwrap_or_default()),
        "url": format!("{base}/{project_id}/_apis/test/Runs/{id}"), "isAutomated": true, "state": "Completed",
        "build": {"id": build_id.to_string(), "name": build["buildNumber"], "url": build["url"]},
        "project": {"id": project_id, "name": project["name"]},
        "startedDate": build["startTime"], "completedDate": build["finishTime"], "lastUpdatedDate": build["finishTime"],
        "totalTests": 3, "passedTests": 2, "unanalyzedTests": 1, "incompleteTests": 0, "notApplicableTests": 0,
        "runStatistics": [{"state": "Completed", "outcome": "Passed", "count": 2}, {"state": "Completed", "outcome": "Failed", "count": 1}],
        "webAccessUrl": format!("{base}/{project_id}/_TestManagement/Runs?runId={id}&_a=runCharts"),
        "buildConfiguration": {"id": build_id, "number": build["buildNumber"], "uri": build["uri"]}
    })
}

/// Adds the test run of every completed build of the project.
pub(crate) fn seed(base: &str, out: &mut Project) {
    let runs: Vec<Value> = out
        .builds
        .iter()
        .filter(|b| b["status"] == "completed")
        .map(|b| run_of(base, &out.project, b))
        .collect();
    out.test_runs = runs;
}

/// `buildUri`, `minLastUpdatedDate`/`maxLastUpdatedDate` (at most 7 days apart, as the
/// service requires), `$top`/`$skip`; details only with `includeRunDetails=true`.
async fn runs(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let bound = |k: &str| {
        params
            .get(k)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    };
    let (min, max) = (bound("minLastUpdatedDate"), bound("maxLastUpdatedDate"));
    if let (Some(min), Some(max)) = (min, max)
        && max.duration_since(min) > jiff::SignedDuration::from_hours(7 * 24)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidPropertyException",
            "The date range between minLastUpdatedDate and maxLastUpdatedDate must be 7 days or less.",
        );
    }
    let details = params
        .get("includeRunDetails")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let top = number(&params, "$top").unwrap_or(100);
    let skip = number(&params, "$skip").unwrap_or(0);
    let items = p
        .test_runs
        .iter()
        .filter(|r| {
            params
                .get("buildUri")
                .is_none_or(|uri| r["buildConfiguration"]["uri"] == uri.as_str())
        })
        .filter(|r| {
            let at = r["lastUpdatedDate"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok());
            min.is_none_or(|m| at.is_some_and(|a| a >= m))
                && max.is_none_or(|m| at.is_some_and(|a| a <= m))
        })
        .skip(skip)
        .take(top)
        .map(|r| {
            if details {
                r.clone()
            } else {
                json!({"id": r["id"], "name": r["name"], "url": r["url"]})
            }
        });
    list(items).into_response()
}

async fn results(
    State(state): Shared,
    Path((_, key, id)): Path<(String, String, u64)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(run) = p.test_runs.iter().find(|r| r["id"] == id) else {
        return error(
            StatusCode::NOT_FOUND,
            "TestObjectNotFoundException",
            &format!("Test run {id} not found."),
        );
    };
    let top = number(&params, "$top").unwrap_or(1000);
    let skip = number(&params, "$skip").unwrap_or(0);
    let items = [("Passed", 120.0), ("Passed", 240.0), ("Failed", 360.0)]
        .iter()
        .enumerate()
        .map(|(i, (outcome, duration))| {
            json!({"id": 100_000 + i, "outcome": outcome, "state": "Completed", "durationInMs": duration,
                "testCaseTitle": format!("test_{i}"), "automatedTestName": format!("Suite.test_{i}"),
                "testRun": {"id": run["id"].to_string(), "name": run["name"]}, "priority": 0})
        })
        .skip(skip)
        .take(top);
    list(items).into_response()
}

/// The code coverage of a build: one module with line statistics (`flags` is accepted).
async fn coverage(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let build = params.get("buildId").and_then(|b| b.parse::<u64>().ok());
    let Some(build) = build.and_then(|id| p.builds.iter().find(|b| b["id"] == id)) else {
        return Json(json!({"count": 0, "value": []})).into_response();
    };
    let id = build["id"].as_u64().unwrap_or_default();
    Json(json!({"count": 1, "value": [{
        "state": "completed", "lastError": "",
        "configuration": {"id": 1, "flavor": "Release", "platform": "Any CPU", "buildUri": build["uri"]},
        "modules": [{"name": "service.dll", "statistics": {"linesCovered": 60 + id % 40, "linesNotCovered": 40 - id % 40}}]
    }]}))
    .into_response()
}
