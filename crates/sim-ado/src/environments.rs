//! Pipeline environments (spec `distributedTask`, `EnvironmentInstance`) and their deployment
//! records (`EnvironmentDeploymentExecutionRecord`): `staging` and `production` per project;
//! every completed build deployed to `staging`, every second one to `production` too.
//!
//! Both lists page by continuation token; the deployment records take `top` (no `$`), as
//! the spec names it.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
};
use serde_json::{Value, json};

use crate::{
    model::{Project, find, guid},
    state::AdoState,
    wire::{continuation_page, error, not_found, number},
};

type Shared = State<Arc<AdoState>>;
type Params = Query<HashMap<String, String>>;

const ENVIRONMENTS: [&str; 2] = ["staging", "production"];

/// The routes of this module (registered inside the guard).
pub(crate) fn routes() -> Router<Arc<AdoState>> {
    Router::new()
        .route(
            "/{org}/{project}/_apis/distributedtask/environments",
            get(environments),
        )
        .route(
            "/{org}/{project}/_apis/distributedtask/environments/{id}/environmentdeploymentrecords",
            get(records),
        )
}

/// The project's environments, and a deployment record per environment a build reached.
pub(crate) fn seed(base: &str, p: usize, out: &mut Project) {
    let project = json!({"id": out.project["id"], "name": out.project["name"]});
    let person = json!({"displayName": "Release Bot", "uniqueName": "release-bot@example.com",
        "id": guid(7, 0, 0), "url": format!("{base}/_apis/Identities/{}", guid(7, 0, 0))});
    for (e, name) in ENVIRONMENTS.iter().enumerate() {
        let id = p * 10 + e + 1;
        out.environments.push(
            json!({"id": id, "name": name, "description": format!("The {name} environment"),
            "createdBy": person, "createdOn": "2026-10-01T10:00:00.000Z",
            "lastModifiedBy": person, "lastModifiedOn": "2026-10-02T10:00:00.000Z",
            "project": project, "resources": []}),
        );
    }
    let completed: Vec<Value> = out
        .builds
        .iter()
        .filter(|b| b["status"] == "completed" && b["result"] == "succeeded")
        .cloned()
        .collect();
    let mut next = p * 100_000 + 1;
    for (n, build) in completed.iter().enumerate() {
        for e in 0..=(n % 2) {
            let environment = out.environments[e]["id"].clone();
            out.environment_deployments.push(json!({
                "id": next, "environmentId": environment, "planId": guid(12, next, 0),
                "planType": "Build", "scopeId": out.project["id"], "serviceOwner": guid(13, 0, 0),
                "requestIdentifier": build["id"].to_string(),
                "definition": {"id": build["definition"]["id"], "name": build["definition"]["name"],
                    "_links": {"web": {"href": format!("{base}/{}/_build/definition?definitionId={}", out.project["id"].as_str().unwrap_or_default(), build["definition"]["id"])}}},
                "owner": {"id": build["id"], "name": build["buildNumber"],
                    "_links": {"web": {"href": build["_links"]["web"]["href"]}}},
                "queueTime": build["queueTime"], "startTime": build["startTime"], "finishTime": build["finishTime"],
                "result": "succeeded", "stageName": "Deploy", "stageAttempt": 1, "jobName": "Deploy", "jobAttempt": 1
            }));
            next += 1;
        }
    }
}

/// `GET {project}/_apis/distributedtask/environments` (`$top`, `continuationToken`, `name`).
async fn environments(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let named: Vec<Value> = p
        .environments
        .iter()
        .filter(|e| params.get("name").is_none_or(|n| e["name"] == n.as_str()))
        .cloned()
        .collect();
    continuation_page(&named, &params, 50)
}

/// `GET {project}/_apis/distributedtask/environments/{id}/environmentdeploymentrecords`
/// (`top`, `continuationToken`), newest first.
async fn records(
    State(state): Shared,
    Path((_, key, id)): Path<(String, String, String)>,
    Query(mut params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(environment) = id
        .parse::<u64>()
        .ok()
        .filter(|id| p.environments.iter().any(|e| e["id"] == *id))
    else {
        return error(
            StatusCode::NOT_FOUND,
            "EnvironmentNotFoundException",
            &format!("Environment with id {id} does not exist or you do not have access."),
        );
    };
    let mut found: Vec<Value> = p
        .environment_deployments
        .iter()
        .filter(|r| r["environmentId"] == environment)
        .cloned()
        .collect();
    found.reverse();
    // `continuation_page` reads `$top`; this endpoint's parameter is `top`.
    if let Some(top) = number(&params, "top") {
        params.insert("$top".to_owned(), top.to_string());
    } else {
        params.remove("$top");
    }
    continuation_page(&found, &params, 50)
}
