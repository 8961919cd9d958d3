//! The HTTP surface of the simulator: the guard (counters, faults, PAT check) and one handler
//! per endpoint, each with the endpoint's real paging.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{MatchedPath, Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine;
use serde_json::{Value, json};

use crate::{
    model::find,
    state::AdoState,
    wiql,
    wire::{continuation_page, error, list, not_found, number, unix_seconds},
};

type Shared = State<Arc<AdoState>>;
type Params = Query<HashMap<String, String>>;

/// WIQL's hard limit on ids per query result (VS402337).
const WIQL_LIMIT: usize = 20_000;
/// Work items per `GET _apis/wit/workitems?ids=` call.
const MAX_IDS: usize = 200;

/// All routes under `/{organization}`, with the guard layer.
pub fn router(state: Arc<AdoState>) -> Router {
    Router::new()
        .route("/{org}/_apis/projects", get(projects))
        .route("/{org}/_apis/projects/{project}", get(project))
        .route("/{org}/_apis/projects/{project}/teams", get(teams))
        .route(
            "/{org}/_apis/projects/{project}/properties",
            get(crate::objects::project_properties),
        )
        .route("/{org}/{project}/_apis/git/repositories", get(repositories))
        .route(
            "/{org}/{project}/_apis/git/repositories/{repo}/items",
            get(item),
        )
        .route(
            "/{org}/{project}/_apis/git/repositories/{repo}/refs",
            get(crate::refs::list_refs),
        )
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
        .route(
            "/{org}/{project}/_apis/git/repositories/{repo}/pullrequests",
            get(crate::objects::pull_requests),
        )
        .route(
            "/{org}/{project}/_apis/git/pullrequests",
            get(crate::objects::project_pull_requests),
        )
        .route(
            "/{org}/_apis/git/pullrequests/{id}",
            get(crate::objects::pull_request),
        )
        .route(
            "/{org}/_apis/git/repositories/{id}",
            get(crate::objects::repository),
        )
        .route(
            "/{org}/{project}/_apis/wit/workitems/{id}",
            get(crate::objects::work_item),
        )
        .route(
            "/{org}/{project}/_apis/release/releases/{id}",
            get(crate::objects::release),
        )
        .route(
            "/{org}/_apis/hooks/subscriptions",
            get(crate::hooks::list).post(crate::hooks::create),
        )
        .route(
            "/{org}/_apis/hooks/subscriptions/{id}",
            axum::routing::put(crate::hooks::replace).delete(crate::hooks::remove),
        )
        .merge(crate::pipelines::routes())
        .merge(crate::release::routes())
        .merge(crate::advsec::routes())
        .merge(crate::test_runs::routes())
        .merge(crate::teams::routes())
        .merge(crate::environments::routes())
        .merge(crate::graph::routes())
        .merge(crate::wiki::routes())
        .merge(crate::items::routes())
        .route_layer(middleware::from_fn_with_state(Arc::clone(&state), guard))
        // Inspection and mutation, outside the guard: not counted, no PAT.
        .merge(crate::control::router())
        // Entra ID's token endpoint (the authority is this server's origin).
        // (The first segment is the tenant; named `org` as every route names it.)
        .route("/{org}/oauth2/v2.0/token", post(crate::entra::token))
        .with_state(state)
}

/// Counts, delays, injects scripted faults, throttles and checks the PAT like the service does.
async fn guard(State(state): Shared, path: MatchedPath, request: Request, next: Next) -> Response {
    let route = format!("{} {}", request.method(), path.as_str());
    let (latency, scripted, usage) = {
        let mut inner = state.lock();
        *inner.requests.entry(route.clone()).or_default() += 1;
        let scripted = inner
            .scripted
            .iter_mut()
            .find(|s| s.remaining > 0 && route.contains(&s.route))
            .map(|s| {
                s.remaining -= 1;
                (s.status, s.retry_after, s.body.clone())
            });
        let usage = state.config.rate_limit.map(|limit| {
            let now = unix_seconds();
            if inner.window.0 != now {
                inner.window = (now, 0);
            }
            inner.window.1 += 1;
            if inner.window.1 > limit {
                inner.throttled += 1;
            }
            (limit, inner.window.1, now + 1)
        });
        (inner.latency, scripted, usage)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some((status, retry_after, body)) = scripted {
        if let Some(body) = body {
            return Json(body).into_response();
        }
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = error(
            code,
            "InjectedFault",
            &format!("TF400733: injected status {status}"),
        );
        if let Some(after) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(after));
            response
                .headers_mut()
                .insert("x-ratelimit-remaining", HeaderValue::from(0));
        }
        return response;
    }
    if !pat_ok(&state, request.headers()) {
        return bad_pat(request.headers());
    }
    if let Some(refused) = version_out_of_range(&state, request.uri().query().unwrap_or_default()) {
        return refused;
    }
    if let Some((limit, used, reset)) = usage
        && used > limit
    {
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "RequestBlockedException",
            "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'Requests' in namespace 'Simulator'.",
        );
        rate_limit_headers(response.headers_mut(), limit, 0, reset);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
        return response;
    }
    let mut response = next.run(request).await;
    // Azure DevOps sends the X-RateLimit headers once a client nears its budget, before it
    // delays or blocks anything (ado-api.md §4).
    if let Some((limit, used, reset)) = usage
        && used * 2 > limit
    {
        rate_limit_headers(response.headers_mut(), limit, limit - used, reset);
    }
    response
}

fn rate_limit_headers(headers: &mut HeaderMap, limit: u32, remaining: u32, reset: u64) {
    headers.insert("x-ratelimit-resource", HeaderValue::from_static("Requests"));
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
}

/// A Basic PAT, or a bearer token of the simulator's service principal.
fn pat_ok(state: &AdoState, headers: &HeaderMap) -> bool {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(token) = value.strip_prefix("Bearer ") {
        return crate::entra::accepts(state, token);
    }
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return false;
    };
    let text = String::from_utf8_lossy(&decoded);
    text.split_once(':')
        .is_some_and(|(_, pat)| pat == state.config.pat)
}

/// A bad PAT is not a 401 on Azure DevOps: a 203 with an HTML sign-in page, unless the client
/// asked for `X-TFS-FedAuthRedirect: Suppress` (ado-api.md §1).
fn bad_pat(headers: &HeaderMap) -> Response {
    if headers
        .get("x-tfs-fedauthredirect")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"suppress"))
    {
        let mut response = error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedRequestException",
            "TF400813: The user is not authorized to access this resource.",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"https://dev.azure.com/\""),
        );
        return response;
    }
    let page = "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body>Sign in</body></html>";
    (
        StatusCode::NON_AUTHORITATIVE_INFORMATION,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

/// As an Azure DevOps Server does (`SimConfig::max_api_version`): an api-version newer than the
/// newest it takes is refused, naming that one.
fn version_out_of_range(state: &AdoState, query: &str) -> Option<Response> {
    let max = state.config.max_api_version.as_deref()?;
    let number = |v: &str| -> Vec<u32> {
        let release = v.split('-').next().unwrap_or_default();
        release.split('.').filter_map(|p| p.parse().ok()).collect()
    };
    let (_, asked) =
        url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "api-version")?;
    (number(&asked) > number(max)).then(|| {
        error(
            StatusCode::BAD_REQUEST,
            "VssVersionOutOfRangeException",
            &format!("VS800003: The requested REST API version of {asked} is out of range for this server. The latest REST API version this server supports is {max}."),
        )
    })
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

async fn item(
    State(state): Shared,
    Path((_, key, repo)): Path<(String, String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let path = params.get("path").map_or("", |p| p.trim_start_matches('/'));
    let commit = params.get("versionDescriptor.version").filter(|_| {
        params
            .get("versionDescriptor.versionType")
            .is_some_and(|t| t.eq_ignore_ascii_case("commit"))
    });
    match crate::items::content_at(p, &repo, path, commit.map(String::as_str)) {
        Some(content) => Json(json!({
            "objectId": format!("{:040x}", content.len()), "gitObjectType": "blob", "commitId": "0".repeat(40),
            "path": format!("/{path}"), "content": content,
            "contentMetadata": {"encoding": 65001, "contentType": "text/plain", "fileName": path.rsplit('/').next(), "extension": path.rsplit('.').next()}
        }))
        .into_response(),
        None => error(StatusCode::NOT_FOUND, "GitItemNotFoundException", &format!("TF401174: The item '/{path}' could not be found in the repository.")),
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
    let query = match wiql::parse(&text, time_precision) {
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
    Json(json!({"queryType": "flat", "queryResultType": "workItem", "asOf": jiff::Timestamp::now().to_string(),
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
