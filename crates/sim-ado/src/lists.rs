//! The collection endpoints of `core`, `git`, `work`, `wit` and `release` that no area module
//! owns: projects, a project's teams, repositories, a file, branch policies, boards, WIQL,
//! work items in batches and releases, each with the endpoint's real paging. Single objects are
//! in `objects`.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::{
    model::find,
    state::AdoState,
    wiql,
    wire::{continuation_page, error, list, not_found, number},
};

type Shared = State<Arc<AdoState>>;
type Params = Query<HashMap<String, String>>;

/// WIQL's hard limit on ids per query result (VS402337).
const WIQL_LIMIT: usize = 20_000;
/// Work items per `GET _apis/wit/workitems?ids=` call.
const MAX_IDS: usize = 200;

/// The routes (registered inside the guard by `routes::router`).
pub(crate) fn routes() -> Router<Arc<AdoState>> {
    Router::new()
        .route("/{org}/_apis/projects", get(projects))
        .route("/{org}/_apis/projects/{project}", get(project))
        .route("/{org}/_apis/projects/{project}/teams", get(teams))
        .route("/{org}/{project}/_apis/git/repositories", get(repositories))
        .route(
            "/{org}/{project}/_apis/git/policy/configurations",
            get(policies),
        )
        .route("/{org}/{project}/{team}/_apis/work/boards", get(boards))
        .route(
            "/{org}/{project}/{team}/_apis/work/boards/{board}",
            get(board),
        )
        .route("/{org}/{project}/_apis/wit/wiql", post(wiql_query))
        .route("/{org}/{project}/_apis/wit/workitems", get(work_items))
        .route("/{org}/{project}/_apis/release/releases", get(releases))
}

async fn projects(State(state): Shared, Query(params): Params) -> Response {
    let items: Vec<Value> = state
        .lock()
        .projects
        .iter()
        .map(|p| {
            let mut summary = p.project.clone();
            if let Some(o) = summary.as_object_mut() {
                o.remove("defaultTeam");
                o.remove("capabilities");
            }
            summary
        })
        .collect();
    continuation_page(&items, &params, 100)
}

async fn project(State(state): Shared, Path((_, key)): Path<(String, String)>) -> Response {
    match find(&state.lock().projects, &key) {
        Some(p) => Json(p.project.clone()).into_response(),
        None => not_found(&format!("The project {key}")),
    }
}

async fn teams(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let top = number(&params, "$top").unwrap_or(100);
    let skip = number(&params, "$skip").unwrap_or(0);
    list(p.teams.iter().skip(skip).take(top).cloned()).into_response()
}

async fn repositories(State(state): Shared, Path((_, key)): Path<(String, String)>) -> Response {
    match find(&state.lock().projects, &key) {
        Some(p) => list(p.repositories.clone()).into_response(),
        None => not_found(&format!("The project {key}")),
    }
}

async fn policies(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let repo = params.get("repositoryId");
    let items: Vec<Value> = p
        .policies
        .iter()
        .filter(|policy| {
            repo.is_none_or(|r| policy["settings"]["scope"][0]["repositoryId"] == r.as_str())
        })
        .cloned()
        .collect();
    continuation_page(&items, &params, 100)
}

async fn boards(
    State(state): Shared,
    Path((_, key, team)): Path<(String, String, String)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    list(
        p.boards
            .iter()
            .filter(|(t, _)| *t == team)
            .map(|(_, b)| json!({"id": b["id"], "name": b["name"], "url": b["url"]})),
    )
    .into_response()
}

async fn board(
    State(state): Shared,
    Path((_, key, team, id)): Path<(String, String, String, String)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    match p
        .boards
        .iter()
        .find(|(t, b)| *t == team && (b["id"] == id.as_str() || b["name"] == id.as_str()))
    {
        Some((_, b)) => Json(b.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "BoardDoesNotExistException",
            "The board does not exist.",
        ),
    }
}

async fn wiql_query(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
    body: Bytes,
) -> Response {
    let Some(text) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b["query"].as_str().map(str::to_owned))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidArgumentValueException",
            "The request body must be {\"query\": \"...\"}.",
        );
    };
    let time_precision = params
        .get("timePrecision")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let query = match wiql::parse(&text, time_precision, state.clock.current()) {
        Ok(query) => query,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "WorkItemTrackingQueryInvalidSyntaxException",
                &format!("TF51005: The query references a field or syntax that is not valid: {e}"),
            );
        }
    };
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let mut ids: Vec<u64> = p
        .work_items
        .iter()
        .filter(|w| query.matches(&w["fields"]))
        .filter_map(|w| w["id"].as_u64())
        .collect();
    ids.sort_unstable();
    if matches!(&query.order, Some((_, true))) {
        ids.reverse();
    }
    match number(&params, "$top") {
        Some(top) => ids.truncate(top),
        None if ids.len() > WIQL_LIMIT => {
            return error(
                StatusCode::BAD_REQUEST,
                "VssPropertyValidationException",
                "VS402337: The number of work items returned exceeds the size limit of 20000. Change the query to return fewer items.",
            );
        }
        None => {}
    }
    let base = &state.base;
    let items: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "url": format!("{base}/_apis/wit/workItems/{id}")}))
        .collect();
    Json(json!({"queryType": "flat", "queryResultType": "workItem", "asOf": state.clock.current().to_string(),
        "columns": [{"referenceName": "System.Id", "name": "ID"}], "workItems": items}))
    .into_response()
}

async fn work_items(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let ids: Vec<u64> = params
        .get("ids")
        .map(|s| s.split(',').filter_map(|i| i.trim().parse().ok()).collect())
        .unwrap_or_default();
    if ids.is_empty() || ids.len() > MAX_IDS {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidArgumentValueException",
            "VS403474: Between 1 and 200 work item ids must be given.",
        );
    }
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let omit = params
        .get("errorPolicy")
        .is_some_and(|e| e.eq_ignore_ascii_case("omit"));
    let index: HashMap<u64, &Value> = p
        .work_items
        .iter()
        .filter_map(|w| Some((w["id"].as_u64()?, w)))
        .collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match index.get(&id) {
            Some(w) => out.push((*w).clone()),
            None if omit => out.push(Value::Null),
            None => {
                return error(
                    StatusCode::NOT_FOUND,
                    "WorkItemDoesNotExistException",
                    &format!("TF401232: Work item {id} does not exist."),
                );
            }
        }
    }
    list(out).into_response()
}

async fn releases(
    State(state): Shared,
    Path((_, key)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    // `minCreatedTime` (inclusive) and `maxCreatedTime` (exclusive) bound `createdOn`.
    let bound = |name: &str| {
        params
            .get(name)
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
    };
    let (min, max) = (bound("minCreatedTime"), bound("maxCreatedTime"));
    let releases: Vec<Value> = p
        .releases
        .iter()
        .filter(|r| {
            let created = r["createdOn"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok());
            min.is_none_or(|min| created.is_some_and(|at| at >= min))
                && max.is_none_or(|max| created.is_some_and(|at| at < max))
        })
        .cloned()
        .collect();
    continuation_page(&releases, &params, 50)
}
