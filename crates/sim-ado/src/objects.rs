//! Git, work item and release handlers beyond the lists in `lists`: pull requests (list with
//! `searchCriteria`, and by id), single repositories, work items and releases (what live
//! events re-read), and a project's properties (its tags). Also the mutations whose events
//! lead there: closing a pull request, changing or deleting a work item.

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
    model::find,
    state::AdoState,
    wire::{error, list, not_found, number, repository_not_found, stamp},
};

type Shared = State<Arc<AdoState>>;
type Params = Query<HashMap<String, String>>;

/// The routes (registered inside the guard by `routes::router`).
pub(crate) fn routes() -> Router<Arc<AdoState>> {
    Router::new()
        .route(
            "/{org}/_apis/projects/{project}/properties",
            get(project_properties),
        )
        .route(
            "/{org}/{project}/_apis/git/repositories/{repo}/pullrequests",
            get(pull_requests),
        )
        .route(
            "/{org}/{project}/_apis/git/pullrequests",
            get(project_pull_requests),
        )
        .route("/{org}/_apis/git/pullrequests/{id}", get(pull_request))
        .route("/{org}/_apis/git/repositories/{id}", get(repository))
        .route("/{org}/{project}/_apis/wit/workitems/{id}", get(work_item))
        .route("/{org}/{project}/_apis/release/releases/{id}", get(release))
}

/// `searchCriteria.status` (default `active`; `all` for every status), `searchCriteria.minTime`
/// against the creation or (with `queryTimeRangeType=closed`) the closing date, `$top`/`$skip`.
async fn pull_requests(
    State(state): Shared,
    Path((_, key, repo)): Path<(String, String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    if !p.repositories.iter().any(|r| r["id"] == repo.as_str()) {
        return repository_not_found(&repo);
    }
    pull_request_page(
        p.pull_requests
            .iter()
            .filter(|pr| pr["repository"]["id"] == repo.as_str()),
        &params,
    )
}

/// `GET {project}/_apis/git/pullrequests`: the pull requests of every repository of the
/// project, with the same `searchCriteria` as per repository.
async fn project_pull_requests(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    pull_request_page(p.pull_requests.iter(), &params)
}

fn pull_request_page<'a>(
    pull_requests: impl Iterator<Item = &'a Value>,
    params: &HashMap<String, String>,
) -> Response {
    let status = params
        .get("searchCriteria.status")
        .map_or("active", String::as_str);
    let date_field = match params
        .get("searchCriteria.queryTimeRangeType")
        .map(String::as_str)
    {
        Some("closed") => "closedDate",
        _ => "creationDate",
    };
    let min_time = params
        .get("searchCriteria.minTime")
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    let top = number(params, "$top").unwrap_or(101);
    let skip = number(params, "$skip").unwrap_or(0);
    let items = pull_requests
        .filter(|pr| status.eq_ignore_ascii_case("all") || pr["status"] == status)
        .filter(|pr| {
            min_time.is_none_or(|min| {
                pr[date_field]
                    .as_str()
                    .and_then(|d| d.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|d| d >= min)
            })
        })
        .skip(skip)
        .take(top)
        .cloned();
    list(items).into_response()
}

async fn repository(State(state): Shared, Path((_, id)): Path<(String, String)>) -> Response {
    let inner = state.lock();
    let found = inner
        .projects
        .iter()
        .flat_map(|p| &p.repositories)
        .find(|r| r["id"] == id.as_str());
    one(
        found,
        "GitRepositoryNotFoundException",
        &format!("TF401019: The Git repository with name or identifier {id} does not exist."),
    )
}

async fn work_item(
    State(state): Shared,
    Path((_, key, id)): Path<(String, String, u64)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    one(
        p.work_items.iter().find(|w| w["id"] == id),
        "WorkItemDoesNotExistException",
        &format!("TF401232: Work item {id} does not exist."),
    )
}

async fn release(
    State(state): Shared,
    Path((_, key, id)): Path<(String, String, u64)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    one(
        p.releases.iter().find(|r| r["id"] == id),
        "ReleaseNotFoundException",
        &format!("VS402852: A release with id {id} does not exist."),
    )
}

async fn pull_request(State(state): Shared, Path((_, id)): Path<(String, u64)>) -> Response {
    let inner = state.lock();
    let found = inner
        .projects
        .iter()
        .flat_map(|p| &p.pull_requests)
        .find(|pr| pr["pullRequestId"] == id);
    one(
        found,
        "GitPullRequestNotFoundException",
        &format!("TF401180: The requested pull request {id} was not found."),
    )
}

/// The object found, or a 404 in the service's error shape.
fn one(found: Option<&Value>, type_key: &str, message: &str) -> Response {
    match found {
        Some(object) => Json(object.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, type_key, message),
    }
}

/// `GET _apis/projects/{id}/properties?keys=`: the project's tags as
/// `Microsoft.TeamFoundation.Project.Tag.{tag}` properties (a `*` suffix in `keys` matches a
/// prefix). Preview-only, like the service.
async fn project_properties(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    if params
        .get("api-version")
        .is_some_and(|v| !v.contains("-preview"))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "VssInvalidPreviewVersionException",
            "VS800006: The requested version of the resource is under preview. The -preview flag must be supplied in the api-version for such requests.",
        );
    }
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let wanted = params.get("keys").map_or("*", String::as_str);
    let matches = |name: &str| match wanted.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == wanted,
    };
    list(
        p.tags
            .iter()
            .map(|t| format!("Microsoft.TeamFoundation.Project.Tag.{t}"))
            .filter(|name| matches(name))
            .map(|name| json!({"name": name, "value": "True"})),
    )
    .into_response()
}

impl AdoState {
    /// Closes a pull request now, as `completed` or `abandoned` (`git.pullrequest.updated`).
    pub fn close_pull_request(&self, id: u64, status: &str) -> bool {
        let mut inner = self.lock();
        let found = inner
            .projects
            .iter_mut()
            .flat_map(|p| p.pull_requests.iter_mut())
            .find(|pr| pr["pullRequestId"] == id);
        let Some(pr) = found else {
            return false;
        };
        pr["status"] = json!(status);
        pr["closedDate"] = json!(self.clock.now().to_string());
        let pr = pr.clone();
        drop(inner);
        self.pull_request_updated(&pr);
        true
    }

    /// Changes a field of a work item (anywhere in the organization).
    #[expect(
        clippy::needless_pass_by_value,
        reason = "callers build the value inline"
    )]
    pub fn update_work_item(&self, id: u64, field: &str, value: Value) -> bool {
        let mut old = Value::Null;
        let Some((project, item)) = self.revise_work_item(id, |item| {
            old = std::mem::replace(&mut item["fields"][field], value.clone());
        }) else {
            return false;
        };
        self.work_item_updated(&project, &item, field, &old, &value);
        true
    }

    /// Comments on a work item (`System.History`, a new revision; `workitem.commented`).
    pub fn comment_work_item(&self, id: u64, text: &str) -> bool {
        let Some((project, item)) = self.revise_work_item(id, |item| {
            item["fields"]["System.History"] = json!(text);
        }) else {
            return false;
        };
        self.work_item_commented(&project, &item);
        true
    }

    /// Applies `change` to work item `id` as a new revision (`rev` + 1, `System.ChangedDate`
    /// now); its project id and the revised item, `None` when there is no such item.
    fn revise_work_item(&self, id: u64, change: impl FnOnce(&mut Value)) -> Option<(Value, Value)> {
        let mut inner = self.lock();
        let (project, item) = inner.projects.iter_mut().find_map(|p| {
            let project = p.project["id"].clone();
            p.work_items
                .iter_mut()
                .find(|w| w["id"] == id)
                .map(|item| (project, item))
        })?;
        change(item);
        item["fields"]["System.ChangedDate"] = json!(stamp(self.clock.now()));
        item["rev"] = json!(item["rev"].as_u64().unwrap_or(1) + 1);
        Some((project, item.clone()))
    }

    /// Restores a deleted work item from the recycle bin (`workitem.restored`, the resource is
    /// the work item).
    pub fn restore_work_item(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let now = self.clock.now();
        let mut restored = None;
        for p in &mut inner.projects {
            if let Some(i) = p.recycled_work_items.iter().position(|w| w["id"] == id) {
                let mut item = p.recycled_work_items.remove(i);
                item["fields"]["System.ChangedDate"] = json!(stamp(now));
                item["rev"] = json!(item["rev"].as_u64().unwrap_or(1) + 1);
                p.work_items.push(item.clone());
                restored = Some((p.project["id"].clone(), item));
                break;
            }
        }
        drop(inner);
        let Some((project, item)) = restored else {
            return false;
        };
        self.notify("tfs", "workitem.restored", &project, &item);
        true
    }

    /// Deletes a work item (into the recycle bin).
    pub fn delete_work_item(&self, id: u64) -> bool {
        let mut inner = self.lock();
        let mut removed = None;
        for p in &mut inner.projects {
            if let Some(i) = p.work_items.iter().position(|w| w["id"] == id) {
                let item = p.work_items.remove(i);
                p.recycled_work_items.push(item.clone());
                removed = Some((p.project["id"].clone(), item));
                break;
            }
        }
        drop(inner);
        let Some((project, item)) = removed else {
            return false;
        };
        self.work_item_deleted(&project, &item);
        true
    }
}
