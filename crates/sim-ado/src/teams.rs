//! Teams and what hangs off them (specs `core`, `work`, `wit`): the organization-wide team
//! list, team members, each team's area paths (`teamfieldvalues`) and iterations, and the
//! project's area tree (classification nodes).
//!
//! Seeded per project: the default team plus `Sizes::teams - 1` more, three members each from
//! a pool of seven users (the `User n` identities work items and pull requests name), an
//! area per extra team under a fixed `Web`, `Mobile\iOS` tree, and three sprints (past,
//! current, future) that every team follows, so one iteration is listed once per team.

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
    model::{Project, find, guid, hours_before},
    state::AdoState,
    wire::{error, list, not_found, number, stamp},
};

type Shared = State<Arc<AdoState>>;
type Params = Query<HashMap<String, String>>;

/// Users that teams draw their members from (`User 0` … `User 6`, as in work items).
const USERS: usize = 7;
const MEMBERS_PER_TEAM: usize = 3;
const SPRINTS: [&str; 3] = ["past", "current", "future"];

/// The routes of this module (registered inside the guard).
pub(crate) fn routes() -> Router<Arc<AdoState>> {
    Router::new()
        .route("/{org}/_apis/teams", get(all_teams))
        .route(
            "/{org}/_apis/projects/{project}/teams/{team}/members",
            get(members),
        )
        .route(
            "/{org}/{project}/{team}/_apis/work/teamsettings/teamfieldvalues",
            get(field_values),
        )
        .route(
            "/{org}/{project}/{team}/_apis/work/teamsettings/iterations",
            get(iterations),
        )
        .route(
            "/{org}/{project}/_apis/wit/classificationnodes/{group}",
            get(nodes),
        )
}

/// Teams `0..count` of project `p` with their members, area paths and iterations, and the
/// project's area tree; the current sprint started a week before `now`.
pub(crate) fn seed(base: &str, p: usize, count: usize, out: &mut Project, now: jiff::Timestamp) {
    let project_id = out.project["id"].as_str().unwrap_or_default().to_owned();
    let project_name = out.project["name"].as_str().unwrap_or_default().to_owned();
    let mut areas = vec![
        area_node(base, p, &project_id, &[&project_name, "Web"], 1),
        {
            let mut mobile = area_node(base, p, &project_id, &[&project_name, "Mobile"], 2);
            mobile["hasChildren"] = json!(true);
            mobile["children"] = json!([area_node(
                base,
                p,
                &project_id,
                &[&project_name, "Mobile", "iOS"],
                3
            )]);
            mobile
        },
    ];
    for t in 0..count {
        let id = guid(2, p, t);
        let name = if t == 0 {
            format!("{project_name} Team")
        } else {
            format!("Team {t}")
        };
        let description = if t == 0 {
            "The default project team.".to_owned()
        } else {
            format!("Generated team {t}")
        };
        out.teams.push(json!({"id": id, "name": name,
            "url": format!("{base}/_apis/projects/{project_id}/teams/{id}"), "description": description,
            "identityUrl": format!("{base}/_apis/Identities/{id}"), "projectName": project_name, "projectId": project_id}));
        for m in 0..MEMBERS_PER_TEAM {
            let user = (p + t + m) % USERS;
            let identity = guid(6, user, 0);
            out.members.push((id.clone(), json!({"isTeamAdmin": m == 0, "identity": {
                "id": identity, "displayName": format!("User {user}"), "uniqueName": format!("user{user}@example.com"),
                "url": format!("{base}/_apis/Identities/{identity}"),
                "imageUrl": format!("{base}/_api/_common/identityImage?id={identity}")}})));
        }
        // The default team owns the project's root area; the others an area of their own.
        let area = if t == 0 {
            project_name.clone()
        } else {
            areas.push(area_node(
                base,
                p,
                &project_id,
                &[&project_name, &name],
                10 + t,
            ));
            format!("{project_name}\\{name}")
        };
        out.field_values.push((id.clone(), json!({
            "field": {"referenceName": "System.AreaPath", "url": format!("{base}/_apis/wit/fields/System.AreaPath")},
            "defaultValue": area, "values": [{"value": area, "includeChildren": t == 0}],
            "url": format!("{base}/{project_id}/{id}/_apis/work/teamsettings/teamfieldvalues"),
            "_links": {"self": {"href": format!("{base}/{project_id}/{id}/_apis/work/teamsettings/teamfieldvalues")}}})));
        for (i, frame) in SPRINTS.iter().enumerate() {
            out.iterations.push((
                id.clone(),
                sprint(base, p, &out.project, &id, (i, frame), now),
            ));
        }
    }
    let mut root = area_node(base, p, &project_id, &[&project_name], 0);
    root["hasChildren"] = json!(true);
    root["children"] = Value::Array(areas);
    out.areas = root;
}

/// The area at `path` (project name first) in the shape of the spec's
/// `GET__wit_classificationNodes_areas__areaPath_` example.
fn area_node(base: &str, p: usize, project_id: &str, path: &[&str], k: usize) -> Value {
    let identifier = guid(10, p, k);
    let below = path[1..].join("/");
    let url = if below.is_empty() {
        format!("{base}/{project_id}/_apis/wit/classificationNodes/Areas")
    } else {
        format!("{base}/{project_id}/_apis/wit/classificationNodes/Areas/{below}")
    };
    let mut full = vec![path[0], "Area"];
    full.extend_from_slice(&path[1..]);
    json!({"id": p * 100 + k + 1, "identifier": identifier, "name": path.last().copied().unwrap_or_default(),
        "structureType": "area", "hasChildren": false, "path": format!("\\{}", full.join("\\")),
        "_links": {"self": {"href": url}}, "url": url})
}

/// Sprint `i` (whose time frame is `frame`) of `project`, as team `team` lists it; two weeks
/// long, the current one started a week before `now`.
fn sprint(
    base: &str,
    p: usize,
    project: &Value,
    team: &str,
    (i, frame): (usize, &str),
    now: jiff::Timestamp,
) -> Value {
    let id = guid(11, p, i);
    let project_id = project["id"].as_str().unwrap_or_default();
    let project_name = project["name"].as_str().unwrap_or_default();
    // Sprint 0 began four weeks before `now`; each lasts two weeks.
    let start = hours_before(now, 28 * 24)
        + jiff::SignedDuration::from_hours(14 * 24) * i32::try_from(i).unwrap_or(0);
    let finish = start + jiff::SignedDuration::from_hours(14 * 24 - 1);
    json!({"id": id, "name": format!("Sprint {}", i + 1), "path": format!("{project_name}\\Sprint {}", i + 1),
        "attributes": {"startDate": stamp(start), "finishDate": stamp(finish), "timeFrame": frame},
        "url": format!("{base}/{project_id}/{team}/_apis/work/teamsettings/iterations/{id}")})
}

/// The team of `project` named or identified by `key`.
fn team<'a>(project: &'a Project, key: &str) -> Option<&'a str> {
    project
        .teams
        .iter()
        .find(|t| {
            t["id"] == key
                || t["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(key))
        })
        .and_then(|t| t["id"].as_str())
}

/// The project `key` and the id of its team `team_key`, or the service's 404.
fn project_team<'a>(
    projects: &'a [Project],
    key: &str,
    team_key: &str,
) -> Result<(&'a Project, &'a str), Box<Response>> {
    let project =
        find(projects, key).ok_or_else(|| Box::new(not_found(&format!("The project {key}"))))?;
    let id = team(project, team_key).ok_or_else(|| Box::new(team_not_found(team_key)))?;
    Ok((project, id))
}

fn team_not_found(key: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "TeamNotFoundException",
        &format!("VS403306: The team with id or name {key} does not exist."),
    )
}

/// `GET _apis/teams`: every team of every project, `$top` (default 100) and `$skip`. The
/// endpoint exists only as a preview: a GA api-version is refused, as the service does.
async fn all_teams(State(state): Shared, Query(params): Params) -> Response {
    if let Some(version) = params
        .get("api-version")
        .filter(|v| !v.contains("-preview"))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "VssInvalidPreviewVersionException",
            &format!(
                "VS800006: The requested version \"{version}\" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: \"7.1-preview\""
            ),
        );
    }
    let inner = state.lock();
    let top = number(&params, "$top").unwrap_or(100);
    let skip = number(&params, "$skip").unwrap_or(0);
    list(
        inner
            .projects
            .iter()
            .flat_map(|p| p.teams.iter())
            .skip(skip)
            .take(top)
            .cloned(),
    )
    .into_response()
}

/// `GET _apis/projects/{project}/teams/{team}/members`, `$top` (default 100) and `$skip`.
async fn members(
    State(state): Shared,
    Path((_, key, team_key)): Path<(String, String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let (p, id) = match project_team(&inner.projects, &key, &team_key) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let top = number(&params, "$top").unwrap_or(100);
    let skip = number(&params, "$skip").unwrap_or(0);
    list(
        p.members
            .iter()
            .filter(|(t, _)| t == id)
            .map(|(_, m)| m.clone())
            .skip(skip)
            .take(top),
    )
    .into_response()
}

/// `GET {project}/{team}/_apis/work/teamsettings/teamfieldvalues`.
async fn field_values(
    State(state): Shared,
    Path((_, key, team_key)): Path<(String, String, String)>,
) -> Response {
    let inner = state.lock();
    let (p, id) = match project_team(&inner.projects, &key, &team_key) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    p.field_values.iter().find(|(t, _)| t == id).map_or_else(
        || team_not_found(&team_key),
        |(_, v)| Json(v.clone()).into_response(),
    )
}

/// `GET {project}/{team}/_apis/work/teamsettings/iterations` (unpaged, `$timeframe`). The
/// service answers `{"count", "value"}`; the spec's example says `values`, which no client
/// reads.
async fn iterations(
    State(state): Shared,
    Path((_, key, team_key)): Path<(String, String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let (p, id) = match project_team(&inner.projects, &key, &team_key) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let frame = params.get("$timeframe").map(String::as_str);
    list(
        p.iterations
            .iter()
            .filter(|(t, i)| t == id && frame.is_none_or(|f| i["attributes"]["timeFrame"] == f))
            .map(|(_, i)| i.clone()),
    )
    .into_response()
}

/// `GET {project}/_apis/wit/classificationnodes/Areas`: the root area with `$depth` levels of
/// `children` (none without `$depth`, as the service does; `hasChildren` still tells).
async fn nodes(
    State(state): Shared,
    Path((_, key, group)): Path<(String, String, String)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    if !group.eq_ignore_ascii_case("areas") {
        return error(
            StatusCode::NOT_FOUND,
            "WorkItemTrackingTreeNodeNotFoundException",
            &format!("VS402485: The node {group} does not exist (the simulator serves Areas)."),
        );
    }
    Json(pruned(&p.areas, number(&params, "$depth").unwrap_or(0))).into_response()
}

/// `node` with `depth` levels of children kept.
fn pruned(node: &Value, depth: usize) -> Value {
    let mut out = node.clone();
    if let Some(o) = out.as_object_mut() {
        match (depth, o.remove("children")) {
            (0, _) | (_, None) => {}
            (_, Some(Value::Array(children))) => {
                let kept = children.iter().map(|c| pruned(c, depth - 1)).collect();
                o.insert("children".to_owned(), Value::Array(kept));
            }
            (_, Some(other)) => {
                o.insert("children".to_owned(), other);
            }
        }
    }
    out
}
