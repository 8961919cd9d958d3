//! Git refs: the list endpoint (`Refs_List` of `git/git.json`) and pushes, the mutation that
//! moves, creates or deletes a branch and delivers `git.push`.
//!
//! The list pages like the service: `$top` (at most 1000; 100 when only a continuation token is
//! given, everything when neither is) and an opaque token in the `x-ms-continuationtoken`
//! response header, here the last name served, so a page boundary survives refs added or
//! removed between pages.

use std::{collections::HashMap, sync::Arc};

use axum::{
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use base64::Engine;
use serde_json::{Value, json};

use crate::{
    model::{find, git_ref, push_resource},
    state::AdoState,
    wire::{error, list, not_found, number, repository_not_found},
};

/// The spec's bound on `$top` ("It cannot be bigger than 1000", ado-api.md §8).
const MAX_TOP: usize = 1000;
/// `$top` when only a continuation token is given (the spec's default).
const TOKEN_TOP: usize = 100;
/// The object id of "no object" in a ref update: a created ref's old id, a deleted ref's new id.
const NO_OBJECT: &str = "0000000000000000000000000000000000000000";

/// `GET {project}/_apis/git/repositories/{repositoryId}/refs` with `filter` (starts-with on the
/// name after `refs/`), `filterContains`, `$top` and `continuationToken`.
pub(crate) async fn list_refs(
    State(state): State<Arc<AdoState>>,
    Path((_, key, repo)): Path<(String, String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let top = match number(&params, "$top") {
        Some(top) if top > MAX_TOP => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidArgumentValueException",
                "The value of $top cannot be bigger than 1000.",
            );
        }
        Some(top) => top.max(1),
        None if params.contains_key("continuationToken") => TOKEN_TOP,
        None => usize::MAX,
    };
    let after = params
        .get("continuationToken")
        .and_then(|t| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .ok()
        })
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(repo_id) = p
        .repositories
        .iter()
        .find(|r| {
            r["id"] == repo.as_str()
                || r["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&repo))
        })
        .and_then(|r| r["id"].as_str())
    else {
        return repository_not_found(&repo);
    };
    let filter = params.get("filter").map_or("", String::as_str);
    let contains = params.get("filterContains").map_or("", String::as_str);
    let mut refs: Vec<&Value> = p
        .refs
        .iter()
        .filter(|(r, _)| r == repo_id)
        .map(|(_, git_ref)| git_ref)
        .filter(|git_ref| {
            let name = git_ref["name"].as_str().unwrap_or_default();
            name.strip_prefix("refs/")
                .unwrap_or(name)
                .starts_with(filter)
                && name.contains(contains)
        })
        .filter(|git_ref| {
            after
                .as_deref()
                .is_none_or(|a| git_ref["name"].as_str().unwrap_or_default() > a)
        })
        .collect();
    refs.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let more = refs.len() > top;
    refs.truncate(top);
    let next = refs
        .last()
        .and_then(|r| r["name"].as_str())
        .map(|name| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name.as_bytes()));
    let mut response = list(refs.into_iter().cloned()).into_response();
    if let (true, Some(Ok(token))) = (more, next.map(HeaderValue::try_from)) {
        response
            .headers_mut()
            .insert("x-ms-continuationtoken", token);
    }
    response
}

impl AdoState {
    /// Pushes to `branch` (`main` or `refs/heads/main`) of repository `repository` (by name) of
    /// project number `project`: moves it to `new_object_id`, creates it when it does not
    /// exist, or deletes it (`None`), and delivers `git.push`. The first branch pushed to an
    /// empty repository becomes its default branch, as on the service. `false` when the
    /// project or repository does not exist, or a branch to delete does not.
    pub fn push(
        &self,
        project: usize,
        repository: &str,
        branch: &str,
        new_object_id: Option<&str>,
    ) -> bool {
        let name = if branch.starts_with("refs/") {
            branch.to_owned()
        } else {
            format!("refs/heads/{branch}")
        };
        let new = new_object_id.filter(|id| *id != NO_OBJECT);
        let mut inner = self.lock();
        let Some(p) = inner.projects.get_mut(project) else {
            return false;
        };
        let Some(repo) = p.repositories.iter_mut().find(|r| r["name"] == repository) else {
            return false;
        };
        let repo_id = repo["id"].as_str().unwrap_or_default().to_owned();
        let existing = p
            .refs
            .iter()
            .position(|(r, git_ref)| *r == repo_id && git_ref["name"] == name.as_str());
        let old = match (existing, new) {
            (None, None) => return false,
            (Some(i), None) => p.refs.remove(i).1["objectId"].clone(),
            (Some(i), Some(new)) => {
                let git_ref = &mut p.refs[i].1;
                std::mem::replace(&mut git_ref["objectId"], json!(new))
            }
            (None, Some(new)) => {
                if repo.get("defaultBranch").is_none() {
                    repo["defaultBranch"] = json!(name);
                }
                let git_ref = git_ref(&self.base, repo, &name, new);
                p.refs.push((repo_id, git_ref));
                json!(NO_OBJECT)
            }
        };
        let repo = repo.clone();
        inner.pushes += 1;
        let push_id = inner.pushes;
        let update =
            json!({"name": name, "oldObjectId": old, "newObjectId": new.unwrap_or(NO_OBJECT)});
        let resource = push_resource(&self.base, self.clock.now(), &repo, push_id, &update, new);
        drop(inner);
        self.git_pushed(&resource);
        true
    }
}
