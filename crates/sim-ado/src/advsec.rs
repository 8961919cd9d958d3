//! Advanced Security alerts (spec `advancedSecurity/alert.json`): three alerts (a dependency,
//! a secret and a code alert) per repository with a default branch, except every third
//! repository, which has Advanced Security off and answers 400 as the service does.
//!
//! Mutation: [`AdoState::set_alert_state`] changes an alert's state and delivers
//! `ms.vss-alerts.alert-state-changed-event`.

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
    model::{Project, find, hours_before},
    state::AdoState,
    wire::{continuation_page, error, not_found, repository_not_found, stamp},
};

type Shared = State<Arc<AdoState>>;
type Params = Query<HashMap<String, String>>;

/// (alert type, severity, title) of the generated alerts, in turn.
const ALERTS: [(&str, &str, &str); 3] = [
    (
        "dependency",
        "high",
        "Vulnerable dependency: lodash 4.17.15",
    ),
    (
        "secret",
        "critical",
        "Azure storage account key in config.json",
    ),
    ("code", "medium", "SQL injection in query builder"),
];

/// The routes (registered inside the guard by `routes::router`).
pub(crate) fn routes() -> Router<Arc<AdoState>> {
    Router::new()
        .route(
            "/{org}/{project}/_apis/alert/repositories/{repo}/alerts",
            get(alerts),
        )
        .route(
            "/{org}/{project}/_apis/alert/repositories/{repo}/alerts/{id}",
            get(alert),
        )
}

/// Whether repository number `r` has Advanced Security on.
fn enabled(r: usize) -> bool {
    r % 3 != 2
}

/// Adds the alerts of the project's repositories (those with a default branch and Advanced
/// Security on), first seen days before `now`.
pub(crate) fn seed(out: &mut Project, now: jiff::Timestamp) {
    let project_id = out.project["id"].clone();
    let mut alerts = Vec::new();
    for (r, repo) in out.repositories.iter().enumerate() {
        if !enabled(r) || repo.get("defaultBranch").is_none() {
            continue;
        }
        for (i, (kind, severity, title)) in ALERTS.iter().enumerate() {
            let id = alerts.len() + 1;
            let seen = hours_before(now, (i + 1) * 24 + 1);
            alerts.push(json!({
                "alertId": id, "alertType": kind, "severity": severity, "title": title,
                "state": if i == 2 { "dismissed" } else { "active" },
                "confidence": "high", "gitRef": repo["defaultBranch"], "repositoryId": repo["id"], "projectId": project_id,
                "repositoryUrl": repo["webUrl"], "firstSeenDate": stamp(seen), "introducedDate": stamp(seen),
                "lastSeenDate": stamp(seen), "tools": [{"name": "simulated scanner", "rules": [{"id": format!("rule-{i}")}]}],
                "physicalLocations": [{"filePath": "src/main.rs", "region": {"lineStart": 10 + i, "lineEnd": 12 + i}}]
            }));
        }
    }
    out.alerts = alerts;
}

/// The repository `repo` of the project, or the service's answer when it has no alerts to
/// show: 404 for an unknown repository, 400 when Advanced Security is off.
#[expect(
    clippy::result_large_err,
    reason = "the error is the handler's response, returned at once"
)]
fn repository<'a>(p: &'a Project, repo: &str) -> Result<&'a Value, Response> {
    let Some((r, repository)) = p
        .repositories
        .iter()
        .enumerate()
        .find(|(_, r)| r["id"] == repo || r["name"] == repo)
    else {
        return Err(repository_not_found(repo));
    };
    if enabled(r) {
        Ok(repository)
    } else {
        Err(error(
            StatusCode::BAD_REQUEST,
            "AdvancedSecurityNotEnabledException",
            "Advanced Security is not enabled for this repository.",
        ))
    }
}

/// `criteria.states`, `criteria.severities` (comma-separated), `criteria.alertType` and
/// `criteria.modifiedSince`; `top` and continuation.
async fn alerts(
    State(state): Shared,
    Path((_, key, repo)): Path<(String, String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let repository = match repository(p, &repo) {
        Ok(repository) => repository,
        Err(response) => return response,
    };
    let listed = |key: &str| {
        params
            .get(key)
            .map(|v| v.split(',').map(str::trim).collect::<Vec<_>>())
    };
    let (states, severities) = (listed("criteria.states"), listed("criteria.severities"));
    let alert_type = params.get("criteria.alertType");
    let since = params
        .get("criteria.modifiedSince")
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let items: Vec<Value> = p
        .alerts
        .iter()
        .filter(|a| a["repositoryId"] == repository["id"])
        .filter(|a| in_list(states.as_ref(), &a["state"]))
        .filter(|a| in_list(severities.as_ref(), &a["severity"]))
        .filter(|a| alert_type.is_none_or(|t| a["alertType"] == t.as_str()))
        .filter(|a| {
            since.is_none_or(|since| {
                a["lastSeenDate"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|at| at >= since)
            })
        })
        .cloned()
        .collect();
    let mut paging = params.clone();
    if let Some(top) = params.get("top") {
        paging.insert("$top".to_owned(), top.clone());
    }
    continuation_page(&items, &paging, 100)
}

fn in_list(list: Option<&Vec<&str>>, value: &Value) -> bool {
    list.is_none_or(|l| l.iter().any(|x| value == *x))
}

async fn alert(
    State(state): Shared,
    Path((_, key, repo, id)): Path<(String, String, String, u64)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let repository = match repository(p, &repo) {
        Ok(repository) => repository,
        Err(response) => return response,
    };
    match p
        .alerts
        .iter()
        .find(|a| a["alertId"] == id && a["repositoryId"] == repository["id"])
    {
        Some(alert) => Json(alert.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "AlertNotFoundException",
            &format!("Alert {id} was not found."),
        ),
    }
}

impl AdoState {
    /// Opens a new active alert in repository `repository` (a name) of project number `project`
    /// and returns its id (`ms.vss-alerts.alert-created-event`).
    pub fn add_alert(&self, project: usize, repository: &str) -> Option<u64> {
        let mut inner = self.lock();
        let now = self.clock.now();
        let p = inner.projects.get_mut(project)?;
        let repo = p
            .repositories
            .iter()
            .find(|r| r["name"] == repository)?
            .clone();
        let project_id = p.project["id"].clone();
        let id = p.alerts.len() as u64 + 1;
        let alert = json!({
            "alertId": id, "alertType": "code", "severity": "medium", "title": "New finding",
            "state": "active", "confidence": "high", "gitRef": repo["defaultBranch"],
            "repositoryId": repo["id"], "projectId": project_id, "repositoryUrl": repo["webUrl"],
            "firstSeenDate": stamp(now), "introducedDate": stamp(now), "lastSeenDate": stamp(now),
            "tools": [{"name": "simulated scanner", "rules": [{"id": "rule-new"}]}],
            "physicalLocations": [{"filePath": "src/lib.rs", "region": {"lineStart": 1, "lineEnd": 2}}]
        });
        p.alerts.push(alert.clone());
        drop(inner);
        self.notify(
            "advsec",
            "ms.vss-alerts.alert-created-event",
            &project_id,
            &alert,
        );
        Some(id)
    }

    /// Changes alert `id`'s severity now (`ms.vss-alerts.alert-updated-event`).
    pub fn set_alert_severity(&self, project: usize, id: u64, severity: &str) -> bool {
        self.change_alert(project, id, "ms.vss-alerts.alert-updated-event", |alert| {
            alert["severity"] = json!(severity);
        })
    }

    /// Sets alert `id` of project number `project` to `state` (`fixed`, `dismissed`, …) now
    /// (`ms.vss-alerts.alert-state-changed-event`).
    pub fn set_alert_state(&self, project: usize, id: u64, state: &str) -> bool {
        self.change_alert(
            project,
            id,
            "ms.vss-alerts.alert-state-changed-event",
            |alert| {
                alert["state"] = json!(state);
                if state == "fixed" {
                    alert["fixedDate"] = alert["lastSeenDate"].clone();
                }
            },
        )
    }

    /// Applies `change` to alert `id` of project number `project`, seen now (`lastSeenDate`
    /// is set before `change` runs), and delivers `event` for it; false when there is no such
    /// alert.
    fn change_alert(
        &self,
        project: usize,
        id: u64,
        event: &str,
        change: impl FnOnce(&mut Value),
    ) -> bool {
        let mut inner = self.lock();
        let Some(p) = inner.projects.get_mut(project) else {
            return false;
        };
        let project_id = p.project["id"].clone();
        let Some(alert) = p.alerts.iter_mut().find(|a| a["alertId"] == id) else {
            return false;
        };
        alert["lastSeenDate"] = json!(stamp(self.clock.now()));
        change(alert);
        let alert = alert.clone();
        drop(inner);
        self.notify("advsec", event, &project_id, &alert);
        true
    }
}
