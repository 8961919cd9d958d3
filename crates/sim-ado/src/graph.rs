//! The Graph (spec `graph`, host `vssps`) and user entitlements (spec
//! `memberEntitlementManagement`, host `vsaex`), derived from the organization at request time:
//!
//! - users: the seven `User n` identities teams and work items name (`aad`), plus one guest
//!   (`msa`);
//! - groups: per project `[Project n]\Contributors` (the members of its teams) and
//!   `[Project n]\Project Administrators` (one user), and the organization's
//!   `[{org}]\Project Collection Administrators` (user 0 and every project's administrators
//!   group: a group in a group);
//! - memberships in both directions, subject lookup, and an entitlement per user.
//!
//! Lists page by continuation token five subjects at a time (the service does not say its
//! page size; a small one makes clients follow tokens): the Graph's in the
//! `X-MS-ContinuationToken` header, entitlements' in the body.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::Engine;
use serde_json::{Map, Value, json};

use crate::{
    model::guid,
    state::AdoState,
    wire::{continuation_page, error, number},
};

type Shared = State<Arc<AdoState>>;
type Params = Query<HashMap<String, String>>;

/// Subjects per page of the simulated lists.
const PAGE: usize = 5;
/// The `User n` identities.
const USERS: usize = 7;

/// The routes of this module (registered inside the guard).
pub(crate) fn routes() -> Router<Arc<AdoState>> {
    Router::new()
        .route("/{org}/_apis/graph/users", get(users))
        .route("/{org}/_apis/graph/groups", get(groups))
        .route(
            "/{org}/_apis/graph/memberships/{descriptor}",
            get(memberships),
        )
        .route("/{org}/_apis/graph/subjectlookup", post(lookup))
        .route("/{org}/_apis/userentitlements", get(entitlements))
}

fn descriptor(prefix: &str, key: &str) -> String {
    format!(
        "{prefix}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
    )
}

/// The organization's Graph: users, groups and (container, member) memberships.
struct Directory {
    users: Vec<Value>,
    groups: Vec<Value>,
    memberships: Vec<(String, String)>,
}

fn subject(base: &str, kind: &str, descriptor: &str, fields: Value) -> Value {
    let plural = if kind == "user" { "Users" } else { "Groups" };
    let mut subject = json!({"subjectKind": kind, "descriptor": descriptor,
        "url": format!("{base}/_apis/Graph/{plural}/{descriptor}"),
        "_links": {"self": {"href": format!("{base}/_apis/Graph/{plural}/{descriptor}")},
            "memberships": {"href": format!("{base}/_apis/Graph/Memberships/{descriptor}")}}});
    if let (Some(out), Value::Object(fields)) = (subject.as_object_mut(), fields) {
        out.extend(fields);
    }
    subject
}

/// The `User n` identities (`aad`) and one guest (`msa`).
fn generated_users(base: &str) -> Vec<Value> {
    let mut users: Vec<Value> = (0..USERS)
        .map(|u| {
            let mail = format!("user{u}@example.com");
            subject(base, "user", &descriptor("aad", &mail), json!({"metaType": "member",
                "domain": "00000000-0000-4000-8000-00000000aad0", "principalName": mail, "mailAddress": mail,
                "origin": "aad", "originId": guid(6, u, 0), "displayName": format!("User {u}"), "directoryAlias": format!("user{u}")}))
        })
        .collect();
    let guest = "guest@outlook.com";
    users.push(subject(
        base,
        "user",
        &descriptor("msa", guest),
        json!({"metaType": "guest",
        "domain": "Windows Live ID", "principalName": guest, "mailAddress": guest, "origin": "msa",
        "originId": "00037ffe00000001", "displayName": "Guest"}),
    ));
    users
}

fn directory(state: &AdoState) -> Directory {
    let base = &state.base;
    let users = generated_users(base);
    let user = |u: usize| {
        users[u % USERS]["descriptor"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let group = |name: &str, domain: String, description: &str| {
        subject(
            base,
            "group",
            &descriptor("vssgp", name),
            json!({"description": description, "domain": domain, "principalName": name,
                "mailAddress": null, "origin": "vsts", "originId": guid(14, name.len(), 0), "displayName": name.rsplit('\\').next()}),
        )
    };
    let organization = state.organization();
    let collection = format!("[{organization}]\\Project Collection Administrators");
    let mut groups = vec![group(
        &collection,
        format!("vstfs:///Framework/IdentityDomain/{}", guid(15, 0, 0)),
        "Members of this application group can perform all privileged operations on the organization.",
    )];
    let mut memberships = vec![(descriptor("vssgp", &collection), user(0))];
    let inner = state.lock();
    for (p, project) in inner.projects.iter().enumerate() {
        let name = project.project["name"].as_str().unwrap_or_default();
        let domain = format!(
            "vstfs:///Classification/TeamProject/{}",
            project.project["id"].as_str().unwrap_or_default()
        );
        let contributors = format!("[{name}]\\Contributors");
        let admins = format!("[{name}]\\Project Administrators");
        groups.push(group(
            &contributors,
            domain.clone(),
            "Members of this group can add, modify, and delete items within the team project.",
        ));
        groups.push(group(
            &admins,
            domain,
            "Members of this group can perform all operations in the team project.",
        ));
        let (contributors, admins) = (
            descriptor("vssgp", &contributors),
            descriptor("vssgp", &admins),
        );
        let mut seen = Vec::new();
        for (_, member) in &project.members {
            let mail = member["identity"]["uniqueName"]
                .as_str()
                .unwrap_or_default();
            if !seen.contains(&mail) {
                seen.push(mail);
                memberships.push((contributors.clone(), descriptor("aad", mail)));
            }
        }
        memberships.push((admins.clone(), user(p)));
        memberships.push((descriptor("vssgp", &collection), admins));
    }
    Directory {
        users,
        groups,
        memberships,
    }
}

/// A page of `items` after `continuationToken`, the next token in the header.
fn page(items: &[Value], params: &HashMap<String, String>) -> Response {
    let mut params = params.clone();
    params.insert("$top".to_owned(), PAGE.to_string());
    continuation_page(items, &params, PAGE)
}

fn preview_only(params: &HashMap<String, String>) -> Option<Response> {
    let version = params.get("api-version")?;
    (!version.contains("-preview")).then(|| {
        error(
            StatusCode::BAD_REQUEST,
            "VssInvalidPreviewVersionException",
            &format!("VS800006: The requested version \"{version}\" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests."),
        )
    })
}

/// `GET _apis/graph/users` (`subjectTypes`: descriptor prefixes, comma-separated).
async fn users(State(state): Shared, Query(params): Params) -> Response {
    if let Some(refused) = preview_only(&params) {
        return refused;
    }
    let types: Option<Vec<String>> = params.get("subjectTypes").map(|t| {
        t.split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .collect()
    });
    let users: Vec<Value> = directory(&state)
        .users
        .into_iter()
        .filter(|u| {
            let prefix = u["descriptor"]
                .as_str()
                .unwrap_or_default()
                .split('.')
                .next();
            types
                .as_ref()
                .is_none_or(|t| prefix.is_some_and(|p| t.iter().any(|x| x == p)))
        })
        .collect();
    page(&users, &params)
}

/// `GET _apis/graph/groups`.
async fn groups(State(state): Shared, Query(params): Params) -> Response {
    if let Some(refused) = preview_only(&params) {
        return refused;
    }
    page(&directory(&state).groups, &params)
}

/// `GET _apis/graph/Memberships/{descriptor}?direction=Up|Down` (default up).
async fn memberships(
    State(state): Shared,
    Path((_, subject)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    if let Some(refused) = preview_only(&params) {
        return refused;
    }
    let down = params
        .get("direction")
        .is_some_and(|d| d.eq_ignore_ascii_case("down"));
    let found: Vec<Value> = directory(&state)
        .memberships
        .into_iter()
        .filter(|(container, member)| if down { *container == subject } else { *member == subject })
        .map(|(container, member)| {
            json!({"containerDescriptor": container, "memberDescriptor": member,
                "_links": {"container": {"href": format!("{}/_apis/Graph/Groups/{container}", state.base)}}})
        })
        .collect();
    Json(json!({"count": found.len(), "value": found})).into_response()
}

/// `POST _apis/graph/subjectlookup` with `{"lookupKeys": [{"descriptor"}]}`: known subjects by
/// descriptor (unknown ones are left out); more than 500 keys are refused, as the service
/// refuses lookups of very large groups.
async fn lookup(State(state): Shared, Query(params): Params, Json(body): Json<Value>) -> Response {
    if let Some(refused) = preview_only(&params) {
        return refused;
    }
    let keys: Vec<&str> = body["lookupKeys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k["descriptor"].as_str())
        .collect();
    if keys.len() > 500 {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidArgumentValueException",
            "VS860015: Too many subjects in one lookup.",
        );
    }
    let directory = directory(&state);
    let found: Map<String, Value> = directory
        .users
        .iter()
        .chain(&directory.groups)
        .filter_map(|s| {
            let d = s["descriptor"].as_str()?;
            keys.contains(&d).then(|| (d.to_owned(), s.clone()))
        })
        .collect();
    Json(json!({"count": found.len(), "value": found})).into_response()
}

/// `GET _apis/userentitlements` (`select`, `continuationToken`): one entitlement per user,
/// `items` and a body `continuationToken` from 7.0 on; `value` paged by `top`/`skip` before.
async fn entitlements(State(state): Shared, Query(params): Params) -> Response {
    let select: Vec<String> = params
        .get("select")
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let items: Vec<Value> = directory(&state)
        .users
        .into_iter()
        .enumerate()
        .map(|(n, user)| {
            let mut entitlement = json!({"id": user["originId"], "user": user,
                "accessLevel": {"licensingSource": "account", "accountLicenseType": if n == 0 { "advanced" } else { "express" },
                    "licenseDisplayName": if n == 0 { "Basic + Test Plans" } else { "Basic" }, "status": "active"},
                "dateCreated": "2026-01-05T10:00:00Z", "lastAccessedDate": "2026-11-20T09:00:00Z"});
            if select.iter().any(|s| s == "projects") {
                entitlement["projectEntitlements"] = json!([]);
            }
            if select.iter().any(|s| s == "extensions") {
                entitlement["extensions"] = json!([]);
            }
            entitlement
        })
        .collect();
    let legacy = params
        .get("api-version")
        .and_then(|v| v.split('.').next()?.parse::<u32>().ok())
        .is_some_and(|major| major < 7);
    if legacy {
        let top = number(&params, "top").unwrap_or(100);
        let skip = number(&params, "skip").unwrap_or(0);
        let value: Vec<Value> = items.into_iter().skip(skip).take(top).collect();
        return Json(json!({"count": value.len(), "value": value})).into_response();
    }
    let from = number(&params, "continuationToken").unwrap_or(0);
    let page: Vec<Value> = items.iter().skip(from).take(PAGE).cloned().collect();
    let token = (from + PAGE < items.len()).then(|| (from + PAGE).to_string());
    Json(json!({"items": page, "continuationToken": token, "totalCount": items.len()}))
        .into_response()
}
