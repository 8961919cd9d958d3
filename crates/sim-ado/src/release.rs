//! Release definitions and deployments (spec `release`): one definition per project, `Deploy`,
//! with a `Staging` and a `Production` environment (the one every generated release names),
//! and one deployment per release and environment it reached.
//!
//! Mutations: [`AdoState::deploy`] starts a deployment of a release to an environment and
//! [`AdoState::complete_deployment`] finishes it; they deliver
//! `ms.vss-release.deployment-started-event` and `ms.vss-release.deployment-completed-event`.

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
    model::{Project, find},
    state::AdoState,
    wire::{continuation_page, error, not_found, stamp},
};

type Shared = State<Arc<AdoState>>;
type Params = Query<HashMap<String, String>>;

const ENVIRONMENTS: [&str; 2] = ["Staging", "Production"];
/// The parts of a release definition that lists omit unless `$expand` names them.
const EXPANDABLE: [&str; 6] = [
    "environments",
    "artifacts",
    "triggers",
    "variables",
    "tags",
    "lastRelease",
];

/// The routes of the release area beyond releases (registered inside the guard).
pub(crate) fn routes() -> Router<Arc<AdoState>> {
    Router::new()
        .route(
            "/{org}/{project}/_apis/release/definitions",
            get(definitions),
        )
        .route(
            "/{org}/{project}/_apis/release/definitions/{id}",
            get(definition),
        )
        .route(
            "/{org}/{project}/_apis/release/deployments",
            get(deployments),
        )
}

/// The project's release definition, and a deployment of each active release to `Staging`
/// (succeeded), and of every second one to `Production` too.
pub(crate) fn seed(base: &str, out: &mut Project) {
    let project_id = out.project["id"].as_str().unwrap_or_default().to_owned();
    let environments: Vec<Value> = ENVIRONMENTS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({"id": i + 1, "name": name, "rank": i + 1,
            "owner": {"displayName": "Release Bot"}, "conditions": [], "variables": {}})
        })
        .collect();
    out.release_definitions.push(json!({
        "id": 1, "name": "Deploy", "path": "\\", "revision": 3, "releaseNameFormat": "Release-$(rev:r)",
        "description": "Deploys the services", "isDeleted": false, "tags": [],
        "createdOn": "2026-10-01T10:00:00.000Z", "modifiedOn": "2026-10-02T10:00:00.000Z",
        "url": format!("{base}/{project_id}/_apis/Release/definitions/1"),
        "_links": {"web": {"href": format!("{base}/{project_id}/_release?definitionId=1")}},
        "environments": environments, "artifacts": [], "triggers": [], "variables": {}
    }));
    let releases: Vec<Value> = out
        .releases
        .iter()
        .filter(|r| r["status"] == "active")
        .cloned()
        .collect();
    for (n, release) in releases.iter().enumerate() {
        for environment in 1..=(1 + (n % 2) as u64) {
            let mut deployment = deployment_object(base, &out.project, release, environment, 1);
            deployment["deploymentStatus"] = json!("succeeded");
            deployment["operationStatus"] = json!("Approved");
            deployment["completedOn"] = release["modifiedOn"].clone();
            out.deployments.push(deployment);
        }
    }
}

/// Attempt `attempt` of deploying `release` to environment number `environment`, queued and
/// started when the release was last modified.
fn deployment_object(
    base: &str,
    project: &Value,
    release: &Value,
    environment: u64,
    attempt: u64,
) -> Value {
    let project_id = project["id"].as_str().unwrap_or_default();
    let release_id = release["id"].as_u64().unwrap_or_default();
    let name = usize::try_from(environment - 1)
        .ok()
        .and_then(|i| ENVIRONMENTS.get(i))
        .copied()
        .unwrap_or("Staging");
    let person = json!({"displayName": "Release Bot", "uniqueName": "release-bot@example.com"});
    json!({
        "id": release_id * 100 + environment * 10 + attempt, "attempt": attempt, "reason": "automated",
        "release": {"id": release_id, "name": release["name"],
            "url": format!("{base}/{project_id}/_apis/Release/releases/{release_id}")},
        "releaseDefinition": {"id": 1, "name": "Deploy", "path": "\\",
            "projectReference": {"id": project_id, "name": project["name"]}},
        "releaseEnvironment": {"id": release_id * 10 + environment, "name": name},
        "projectReference": {"id": project_id, "name": project["name"]},
        "definitionEnvironmentId": environment, "deploymentStatus": "inProgress", "operationStatus": "Queued",
        "requestedBy": person, "requestedFor": person, "lastModifiedBy": person,
        "queuedOn": release["modifiedOn"], "startedOn": release["modifiedOn"], "lastModifiedOn": release["modifiedOn"],
        "conditions": [], "preDeployApprovals": [], "postDeployApprovals": [],
        "_links": {}
    })
}

async fn definitions(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    // Listed definitions carry the expandable parts only when `$expand` names them.
    let expand: Vec<&str> = params
        .get("$expand")
        .map(|e| e.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let items: Vec<Value> = p
        .release_definitions
        .iter()
        .map(|d| {
            let mut d = d.clone();
            if let Some(o) = d.as_object_mut() {
                o.retain(|key, _| {
                    !EXPANDABLE.contains(&key.as_str()) || expand.contains(&key.as_str())
                });
            }
            d
        })
        .collect();
    continuation_page(&items, &params, 50)
}

async fn definition(
    State(state): Shared,
    Path((_, key, id)): Path<(String, String, u64)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    match p.release_definitions.iter().find(|d| d["id"] == id) {
        Some(d) => Json(d.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "ReleaseDefinitionNotFoundException",
            &format!("VS402856: A release definition with id {id} does not exist."),
        ),
    }
}

/// `definitionId`, `definitionEnvironmentId`, `deploymentStatus` (`all` = any),
/// `minModifiedTime`/`maxModifiedTime` on `lastModifiedOn`, newest first unless
/// `queryOrder=ascending`; `$top` and continuation.
async fn deployments(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let equals = |field: &Value, param: &str| {
        params
            .get(param)
            .and_then(|v| v.parse::<u64>().ok())
            .is_none_or(|v| *field == v)
    };
    let status = params.get("deploymentStatus").map(String::as_str);
    let time = |d: &Value| {
        d["lastModifiedOn"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    };
    let bound = |k: &str| {
        params
            .get(k)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    };
    let (min, max) = (bound("minModifiedTime"), bound("maxModifiedTime"));
    let mut items: Vec<Value> = p
        .deployments
        .iter()
        .filter(|d| equals(&d["releaseDefinition"]["id"], "definitionId"))
        .filter(|d| equals(&d["definitionEnvironmentId"], "definitionEnvironmentId"))
        .filter(|d| status.is_none_or(|s| s == "all" || d["deploymentStatus"] == s))
        .filter(|d| {
            (min.is_none() && max.is_none())
                || time(d).is_some_and(|t| min.is_none_or(|m| t >= m) && max.is_none_or(|m| t <= m))
        })
        .cloned()
        .collect();
    items.sort_by_key(|d| Reverse(d["id"].as_u64()));
    if params.get("queryOrder").map(String::as_str) == Some("ascending") {
        items.reverse();
    }
    continuation_page(&items, &params, 50)
}

impl AdoState {
    /// Starts deploying release `release` of project number `project` to environment number
    /// `environment` (1 `Staging`, 2 `Production`) and returns the deployment id
    /// (`ms.vss-release.deployment-started-event`).
    pub fn deploy(&self, project: usize, release: u64, environment: u64) -> Option<u64> {
        let mut inner = self.lock();
        let p = inner.projects.get_mut(project)?;
        let mut release = p.releases.iter().find(|r| r["id"] == release)?.clone();
        // The deployment is queued and started now.
        release["modifiedOn"] = json!(stamp(self.clock.now()));
        let attempt = 1 + p
            .deployments
            .iter()
            .filter(|d| {
                d["release"]["id"] == release["id"] && d["definitionEnvironmentId"] == environment
            })
            .count();
        let deployment = deployment_object(
            &self.base,
            &p.project,
            &release,
            environment,
            attempt as u64,
        );
        p.deployments.push(deployment.clone());
        let project_ref = deployment["projectReference"].clone();
        drop(inner);
        let resource = json!({"environment": environment_of(&deployment), "release": release,
            "project": project_ref});
        self.notify(
            "rm",
            "ms.vss-release.deployment-started-event",
            &project_ref["id"],
            &resource,
        );
        deployment["id"].as_u64()
    }

    /// Finishes deployment `id` now with `status` (`succeeded`, `failed`, …)
    /// (`ms.vss-release.deployment-completed-event`).
    pub fn complete_deployment(&self, id: u64, status: &str) -> bool {
        let mut inner = self.lock();
        let Some(deployment) = inner
            .projects
            .iter_mut()
            .flat_map(|p| p.deployments.iter_mut())
            .find(|d| d["id"] == id)
        else {
            return false;
        };
        let now = stamp(self.clock.now());
        deployment["deploymentStatus"] = json!(status);
        deployment["operationStatus"] = json!("Approved");
        deployment["completedOn"] = json!(now);
        deployment["lastModifiedOn"] = json!(now);
        let deployment = deployment.clone();
        drop(inner);
        let project = deployment["projectReference"].clone();
        let resource = json!({"environment": environment_of(&deployment), "deployment": deployment,
            "project": project});
        self.notify(
            "rm",
            "ms.vss-release.deployment-completed-event",
            &project["id"],
            &resource,
        );
        true
    }
}

/// The release environment a deployment event names (`ReleaseEnvironment`).
fn environment_of(deployment: &Value) -> Value {
    json!({
        "id": deployment["releaseEnvironment"]["id"], "name": deployment["releaseEnvironment"]["name"],
        "releaseId": deployment["release"]["id"], "definitionEnvironmentId": deployment["definitionEnvironmentId"],
        "status": deployment["deploymentStatus"], "releaseDefinition": deployment["releaseDefinition"]
    })
}
