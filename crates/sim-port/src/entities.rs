//! Entity routes: bulk and single upsert (validation, merge, missing related entities, search
//! identifiers), bulk and single delete (dependents), search and the datasource listing.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use crate::{
    SimState, search,
    state::{Inner, Stored},
    validate::{self, Rejection},
    wire::{MAX_BODY_BYTES, error, flag, query_pairs},
};

/// Port's limit on entities per bulk upsert.
const MAX_BULK_ENTITIES: usize = 20;
/// Port's limit on identifiers per bulk delete (Ocean clamps to 100).
const MAX_BULK_DELETE: usize = 100;

struct UpsertOptions {
    merge: bool,
    create_missing: bool,
    datasource: Option<String>,
}

fn options(raw: &RawQuery, headers: &HeaderMap) -> UpsertOptions {
    let pairs = query_pairs(raw);
    UpsertOptions {
        merge: flag(&pairs, "merge", false),
        create_missing: flag(&pairs, "create_missing_related_entities", false),
        datasource: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

pub(crate) async fn bulk_upsert(
    State(state): State<Arc<SimState>>,
    Path(bp): Path<String>,
    raw: RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if body.len() > MAX_BODY_BYTES {
        return error(
            413,
            "payload_too_large",
            format!("request body of {} bytes exceeds 1 MiB", body.len()),
        );
    }
    let Some(entities) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|b| b.get("entities").and_then(Value::as_array).cloned())
    else {
        return error(422, "invalid_request", "body must be {\"entities\": [...]}");
    };
    if entities.len() > MAX_BULK_ENTITIES {
        return error(
            422,
            "invalid_request",
            format!("at most {MAX_BULK_ENTITIES} entities per request"),
        );
    }
    let opts = options(&raw, &headers);
    let mut inner = state.lock();
    if !inner.blueprints.contains_key(&bp) {
        return error(
            404,
            "not_found",
            format!("blueprint \"{bp}\" was not found"),
        );
    }
    let (mut ok, mut errors) = (Vec::new(), Vec::new());
    for (index, entity) in entities.into_iter().enumerate() {
        let label = entity
            .get("identifier")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        match upsert(&mut inner, &bp, &entity, &opts) {
            Ok((identifier, created)) => {
                state.wrote(&bp, &identifier);
                ok.push(json!({"identifier": identifier, "index": index, "created": created}));
            }
            Err(r) => errors.push(json!({"identifier": label, "index": index, "statusCode": r.status, "error": r.error, "message": r.message})),
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    (
        status,
        Json(json!({"ok": errors.is_empty(), "entities": ok, "errors": errors})),
    )
        .into_response()
}

pub(crate) async fn upsert_one(
    State(state): State<Arc<SimState>>,
    Path(bp): Path<String>,
    raw: RawQuery,
    headers: HeaderMap,
    Json(entity): Json<Value>,
) -> Response {
    let opts = options(&raw, &headers);
    let mut inner = state.lock();
    if !inner.blueprints.contains_key(&bp) {
        return error(
            404,
            "not_found",
            format!("blueprint \"{bp}\" was not found"),
        );
    }
    match upsert(&mut inner, &bp, &entity, &opts) {
        Ok((identifier, _)) => {
            state.wrote(&bp, &identifier);
            let stored = inner
                .entities
                .get(&(bp, identifier))
                .map(|s| s.entity.clone());
            Json(json!({"ok": true, "entity": stored})).into_response()
        }
        Err(r) => error(r.status, r.error, r.message),
    }
}

/// Creates or updates one entity; returns its identifier and whether it was created.
fn upsert(
    inner: &mut Inner,
    bp: &str,
    entity: &Value,
    opts: &UpsertOptions,
) -> Result<(String, bool), Rejection> {
    let identifier = resolve_identifier(inner, bp, entity.get("identifier"))?;
    validate::identifier(&identifier)?;
    let key = (bp.to_owned(), identifier.clone());
    let existing = inner.entities.get(&key).map(|s| s.entity.clone());
    let mut next = match (&existing, opts.merge) {
        (Some(old), true) => old.clone(),
        _ => json!({"identifier": identifier, "blueprint": bp, "properties": {}, "relations": {}}),
    };
    for field in ["title", "icon", "team"] {
        if let Some(v) = entity.get(field) {
            next[field] = v.clone();
        }
    }
    for section in ["properties", "relations"] {
        let Some(target) = next[section].as_object_mut() else {
            continue;
        };
        for (k, v) in entity
            .get(section)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            target.insert(k.clone(), v.clone());
        }
    }
    let blueprint = inner.blueprints.get(bp).cloned().unwrap_or(Value::Null);
    search::resolve_relations(inner, &blueprint, &mut next)?;
    validate::javascript_numbers(&mut next);
    validate::entity(&blueprint, &mut next)?;
    ensure_targets(inner, &blueprint, &next, opts.create_missing)?;
    let now = jiff::Timestamp::now().to_string();
    next["createdAt"] = existing
        .as_ref()
        .and_then(|e| e.get("createdAt").cloned())
        .unwrap_or_else(|| json!(now));
    next["updatedAt"] = json!(now);
    inner.stats.entities_upserted += 1;
    inner.entities.insert(
        key,
        Stored {
            entity: next,
            datasource: opts.datasource.clone(),
        },
    );
    Ok((identifier, existing.is_none()))
}

/// A plain identifier, or a search query that must match exactly one entity of the blueprint.
fn resolve_identifier(
    inner: &Inner,
    bp: &str,
    identifier: Option<&Value>,
) -> Result<String, Rejection> {
    match identifier {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(query @ Value::Object(_)) => {
            let found = search::identifiers(inner, bp, query);
            match found.as_slice() {
                [one] => Ok((*one).clone()),
                _ => Err(Rejection {
                    status: 404,
                    error: "not_found",
                    message: format!(
                        "search identifier matched {} entities, expected 1",
                        found.len()
                    ),
                }),
            }
        }
        _ => Err(Rejection {
            status: 422,
            error: "invalid_identifier",
            message: "identifier must be a string or a search query".to_owned(),
        }),
    }
}

/// Checks that relation targets exist, creating placeholders when allowed.
fn ensure_targets(
    inner: &mut Inner,
    blueprint: &Value,
    entity: &Value,
    create_missing: bool,
) -> Result<(), Rejection> {
    let schema = blueprint
        .get("relations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, value) in entity
        .get("relations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let Some(target) = schema
            .get(name)
            .and_then(|r| r.get("target"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let ids: Vec<&str> = match value {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for id in ids {
            let key = (target.to_owned(), id.to_owned());
            if inner.entities.contains_key(&key) {
                continue;
            }
            if !create_missing {
                return Err(Rejection {
                    status: 404,
                    error: "not_found",
                    message: format!(
                        "related entity \"{id}\" of blueprint \"{target}\" (relation \"{name}\") was not found"
                    ),
                });
            }
            validate::identifier(id)?;
            let now = jiff::Timestamp::now().to_string();
            let placeholder = json!({"identifier": id, "blueprint": target, "title": null, "properties": {}, "relations": {}, "createdAt": now, "updatedAt": now});
            inner.entities.insert(
                key,
                Stored {
                    entity: placeholder,
                    datasource: None,
                },
            );
        }
    }
    Ok(())
}

pub(crate) async fn bulk_delete(
    State(state): State<Arc<SimState>>,
    Path(bp): Path<String>,
    raw: RawQuery,
    Json(body): Json<Value>,
) -> Response {
    let ids: Vec<String> = body
        .get("entities")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if ids.len() > MAX_BULK_DELETE {
        return error(
            422,
            "invalid_request",
            format!("at most {MAX_BULK_DELETE} entities per request"),
        );
    }
    let dependents = flag(&query_pairs(&raw), "delete_dependents", false);
    let mut inner = state.lock();
    let deleted: Vec<String> = ids
        .into_iter()
        .filter(|id| delete(&mut inner, &bp, id, dependents))
        .collect();
    Json(json!({"ok": true, "deletedEntities": deleted})).into_response()
}

pub(crate) async fn delete_one(
    State(state): State<Arc<SimState>>,
    Path((bp, id)): Path<(String, String)>,
    raw: RawQuery,
) -> Response {
    let dependents = flag(&query_pairs(&raw), "delete_dependents", false);
    let mut inner = state.lock();
    if !inner.entities.contains_key(&(bp.clone(), id.clone())) {
        return error(
            404,
            "not_found",
            format!("entity \"{id}\" of blueprint \"{bp}\" was not found"),
        );
    }
    if delete(&mut inner, &bp, &id, dependents) {
        Json(json!({"ok": true})).into_response()
    } else {
        error(
            422,
            "has_dependents",
            format!("entity \"{id}\" has dependent entities"),
        )
    }
}

/// Deletes one entity. Entities whose *required* relation points at it are deleted too with
/// `dependents`, else they block the deletion; optional relations pointing at it are cleared.
fn delete(inner: &mut Inner, bp: &str, id: &str, dependents: bool) -> bool {
    let key = (bp.to_owned(), id.to_owned());
    if !inner.entities.contains_key(&key) {
        return false;
    }
    let referrers = referrers(inner, bp, id);
    if !dependents && referrers.iter().any(|(_, _, required)| *required) {
        return false;
    }
    inner.entities.remove(&key);
    inner.stats.entities_deleted += 1;
    for (referrer, relation, required) in referrers {
        if required {
            delete(inner, &referrer.0, &referrer.1, true);
        } else if let Some(stored) = inner.entities.get_mut(&referrer) {
            let relations = &mut stored.entity["relations"];
            match relations.get_mut(&relation) {
                Some(Value::Array(items)) => items.retain(|v| v.as_str() != Some(id)),
                Some(v) => *v = Value::Null,
                None => {}
            }
        }
    }
    true
}

/// Entities with a relation to (bp, id): (their key, relation name, whether it is required).
fn referrers(inner: &Inner, bp: &str, id: &str) -> Vec<((String, String), String, bool)> {
    let mut out = Vec::new();
    for (key, stored) in &inner.entities {
        let Some(schema) = inner
            .blueprints
            .get(&key.0)
            .and_then(|b| b.get("relations"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (name, value) in stored
            .entity
            .get("relations")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(spec) = schema.get(name) else {
                continue;
            };
            let points = match value {
                Value::String(s) => s == id,
                Value::Array(items) => items.iter().any(|v| v.as_str() == Some(id)),
                _ => false,
            };
            if points && spec.get("target").and_then(Value::as_str) == Some(bp) {
                let required = spec
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                out.push((key.clone(), name.clone(), required));
            }
        }
    }
    out
}

pub(crate) async fn search(
    State(state): State<Arc<SimState>>,
    raw: RawQuery,
    Json(query): Json<Value>,
) -> Response {
    let include: Vec<String> = query_pairs(&raw)
        .into_iter()
        .filter(|(k, _)| k == "include")
        .map(|(_, v)| v)
        .collect();
    let inner = state.lock();
    let entities: Vec<Value> = inner
        .entities
        .values()
        .filter(|s| search::matches(&query, &s.entity, s.datasource.as_deref()))
        .map(|s| project(&s.entity, &include))
        .collect();
    Json(json!({"ok": true, "entities": entities})).into_response()
}

/// Port's limit on one page of a blueprint's entity search.
const MAX_SEARCH_PAGE: u64 = 1000;

/// `POST /v1/blueprints/{bp}/entities/search`: Port's paginated search of one blueprint's
/// entities (body `query`, `include`, `limit` 1..=1000, `from` cursor; answer `entities` and
/// `next` while more remain), in a stable order.
pub(crate) async fn blueprint_search(
    State(state): State<Arc<SimState>>,
    Path(blueprint): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some(query) = body.get("query").filter(|q| q.is_object()) else {
        return error(422, "invalid_request", "`query` must be an object");
    };
    let limit = match body.get("limit") {
        None => MAX_SEARCH_PAGE,
        Some(limit) => match limit.as_u64() {
            Some(n @ 1..=MAX_SEARCH_PAGE) => n,
            _ => {
                return error(
                    422,
                    "invalid_request",
                    format!("`limit` must be an integer from 1 to {MAX_SEARCH_PAGE}"),
                );
            }
        },
    };
    let include: Vec<String> = match body.get("include") {
        None => Vec::new(),
        Some(Value::Array(fields)) if fields.iter().all(Value::is_string) => fields
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(_) => return error(422, "invalid_request", "`include` must list field names"),
    };
    let from: usize = match body.get("from") {
        None | Some(Value::Null) => 0,
        Some(cursor) => match cursor.as_str().and_then(|c| c.parse().ok()) {
            Some(from) => from,
            None => {
                return error(
                    422,
                    "invalid_request",
                    "`from` is not a cursor of this search",
                );
            }
        },
    };
    let inner = state.lock();
    if !inner.blueprints.contains_key(&blueprint) {
        return error(404, "not_found", format!("blueprint {blueprint} not found"));
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut matching = inner
        .entities
        .range((blueprint.clone(), String::new())..)
        .take_while(|((bp, _), _)| *bp == blueprint)
        .filter(|(_, s)| search::matches(query, &s.entity, s.datasource.as_deref()))
        .skip(from);
    let page: Vec<Value> = matching
        .by_ref()
        .take(limit)
        .map(|(_, s)| project(&s.entity, &include))
        .collect();
    let mut response = json!({"ok": true, "entities": page});
    if matching.next().is_some() {
        response["next"] = json!((from + limit).to_string());
    }
    Json(response).into_response()
}

/// Keeps only the `include`d fields (`identifier`, `properties.url`, ...); all when empty.
fn project(entity: &Value, include: &[String]) -> Value {
    if include.is_empty() {
        return entity.clone();
    }
    let mut out = Map::new();
    for field in include {
        match field.split_once('.') {
            Some((section, key)) => {
                if let Some(v) = entity.get(section).and_then(|s| s.get(key)) {
                    let slot = out.entry(section.to_owned()).or_insert_with(|| json!({}));
                    slot[key] = v.clone();
                }
            }
            None => {
                if let Some(v) = entity.get(field) {
                    out.insert(field.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(out)
}

pub(crate) async fn datasource_entities(
    State(state): State<Arc<SimState>>,
    Json(body): Json<Value>,
) -> Response {
    let prefix = body
        .get("datasource_prefix")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let suffix = body
        .get("datasource_suffix")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let before = body
        .get("before")
        .and_then(Value::as_str)
        .and_then(|b| b.parse::<jiff::Timestamp>().ok());
    let limit = body
        .get("limit")
        .and_then(Value::as_u64)
        .map_or(5000, |l| usize::try_from(l).unwrap_or(5000))
        .max(1);
    let from: usize = body
        .get("from")
        .and_then(Value::as_str)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0);
    let inner = state.lock();
    let owned: Vec<&Value> = inner
        .entities
        .values()
        .filter(|s| {
            s.datasource
                .as_deref()
                .is_some_and(|d| d.starts_with(prefix) && d.ends_with(suffix))
        })
        .filter(|s| {
            before.is_none_or(|b| {
                s.entity
                    .get("updatedAt")
                    .and_then(Value::as_str)
                    .and_then(|u| u.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|u| u < b)
            })
        })
        .map(|s| &s.entity)
        .collect();
    // Port's listing (and the framework's own Port mock) need not return more than the keys:
    // Ocean reads `identifier` and `blueprint` from it; fields for a diff come from search.
    let page: Vec<Value> = owned
        .iter()
        .skip(from)
        .take(limit)
        .map(|e| json!({"identifier": e["identifier"], "blueprint": e["blueprint"]}))
        .collect();
    let mut response = json!({"ok": true, "entities": page});
    if from + limit < owned.len() {
        response["next"] = json!((from + limit).to_string());
    }
    Json(response).into_response()
}
