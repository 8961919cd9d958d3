//! Git items beyond single files (spec `git`, `Items_Get Items Batch`): `POST
//! {project}/_apis/git/repositories/{repo}/itemsbatch` lists, per item descriptor, the item at a
//! path and, by its `recursionLevel`, its children (`oneLevel`) or every descendant (`full`),
//! folders included (`isFolder`, `gitObjectType: tree`) and synthesized from the files' paths.
//! A path that does not exist fails the whole batch with 400, as upstream observed
//! (ocean-azure-devops.md §6.4).
//!
//! [`AdoState::commit`] changes files on a repository's default branch, moves the branch and
//! delivers `git.push`; `GET …/commits/{id}/changes` lists what a commit changed.
//!
//! Seeded files (beside README.md and CODEOWNERS): a `port.yml` in every third repository, a
//! `package.json` in every second, two service `package.json`s under `services/` in every
//! fourth, and a dot-folder file in every fifth.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::{
    model::{Project, find, push_resource},
    state::AdoState,
    wire::{error, not_found, repository_not_found},
};

/// The routes of this module (registered inside the guard).
pub(crate) fn routes() -> axum::Router<Arc<AdoState>> {
    axum::Router::new()
        .route(
            "/{org}/{project}/_apis/git/repositories/{repo}/itemsbatch",
            axum::routing::post(batch),
        )
        .route(
            "/{org}/{project}/_apis/git/repositories/{repo}/items",
            axum::routing::get(get_items),
        )
        .route(
            "/{org}/{project}/_apis/git/repositories/{repo}/commits/{sha}/changes",
            axum::routing::get(changes),
        )
}

/// Adds the seeded files of repository number `r` named `name`.
pub(crate) fn seed_files(
    id: &str,
    name: &str,
    r: usize,
    files: &mut Vec<(String, String, String)>,
) {
    let mut add =
        |path: &str, content: String| files.push((id.to_owned(), path.to_owned(), content));
    if r.is_multiple_of(3) {
        add(
            "port.yml",
            format!(
                "identifier: {name}\ntitle: {name}\nblueprint: service\nproperties:\n  tier: {}\n",
                ["Mission Critical", "Internal Service"][r % 2]
            ),
        );
    }
    if r.is_multiple_of(2) {
        add(
            "package.json",
            format!("{{\"name\": \"{name}\", \"version\": \"1.{r}.0\", \"private\": true}}"),
        );
    }
    if r % 4 == 1 {
        for service in ["api", "web"] {
            add(
                &format!("services/{service}/package.json"),
                format!("{{\"name\": \"{name}-{service}\", \"version\": \"0.{r}.0\"}}"),
            );
        }
    }
    if r.is_multiple_of(5) {
        add(
            ".config/settings.yaml",
            "owner: platform\n---\nowner: security\n".to_owned(),
        );
    }
}

fn item(repo_url: &str, path: &str, blob: Option<&str>, metadata: bool) -> Value {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut item = json!({
        "objectId": format!("{:040x}", path.len() * 7919 + blob.map_or(0, str::len)),
        "gitObjectType": if blob.is_some() { "blob" } else { "tree" },
        "commitId": format!("{:040x}", 0x00c0_ffee_u64),
        "path": format!("/{path}"),
        "url": format!("{repo_url}/items?path=/{path}"),
    });
    if blob.is_none() {
        item["isFolder"] = json!(true);
    } else if metadata {
        item["contentMetadata"] = json!({"encoding": 65001, "contentType": "text/plain", "fileName": name,
            "extension": name.rsplit_once('.').map(|(_, e)| format!(".{e}"))});
    }
    item
}

/// The files of repository `repo`, as (path, content).
fn snapshot(files: &[(String, String, String)], repo: &str) -> Vec<(String, String)> {
    files
        .iter()
        .filter(|(r, _, _)| r == repo)
        .map(|(_, path, content)| (path.clone(), content.clone()))
        .collect()
}

/// The content of `path` in repository `repo` at `commit` (`versionDescriptor.version` with
/// `versionType=commit`): from the commit's snapshot when `AdoState::commit` made it (or it was
/// the head one replaced), else the current file. `None` when it did not exist there.
pub(crate) fn content_at<'a>(
    project: &'a Project,
    repo: &str,
    path: &str,
    commit: Option<&str>,
) -> Option<&'a str> {
    if let Some(snapshot) = commit.and_then(|c| project.snapshots.get(c)) {
        return snapshot
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, content)| content.as_str());
    }
    project
        .files
        .iter()
        .find(|(r, f, _)| r == repo && f == path)
        .map(|(_, _, content)| content.as_str())
}

/// The folders (every proper prefix of a file path) of repository `repo`.
fn folders_of(files: &[(String, String, String)], repo: &str) -> BTreeSet<String> {
    files
        .iter()
        .filter(|(r, _, _)| r == repo)
        .flat_map(|(_, path, _)| {
            let parts: Vec<&str> = path.split('/').collect();
            (1..parts.len()).map(move |n| parts[..n].join("/"))
        })
        .collect()
}

/// The item at `path` in repository `repo` and, by `level` (`none`, `oneLevel`, `full`, any
/// case), its children or every descendant: folders (synthesized from the files' paths, the
/// root included) and files. `None` when nothing is at `path`.
fn tree(
    files: &[(String, String, String)],
    repo: &str,
    url: &str,
    path: &str,
    level: &str,
    metadata: bool,
) -> Option<Vec<Value>> {
    let path = path.trim_matches('/');
    let level = level.to_ascii_lowercase();
    let files: Vec<(&str, &str)> = files
        .iter()
        .filter(|(r, _, _)| r == repo)
        .map(|(_, path, content)| (path.as_str(), content.as_str()))
        .collect();
    let folders: BTreeSet<String> = files
        .iter()
        .flat_map(|(path, _)| {
            let parts: Vec<&str> = path.split('/').collect();
            (1..parts.len()).map(move |n| parts[..n].join("/"))
        })
        .chain(std::iter::once(String::new()))
        .collect();
    if let Some((_, content)) = files.iter().find(|(f, _)| *f == path) {
        return Some(vec![item(url, path, Some(content), metadata)]);
    }
    if !folders.contains(path) {
        return None;
    }
    let depth = path.split('/').filter(|s| !s.is_empty()).count();
    let below = |candidate: &str| {
        let inside = path.is_empty() || candidate.starts_with(&format!("{path}/"));
        let levels = candidate.split('/').count() - depth;
        inside && !candidate.is_empty() && (level == "full" || (level == "onelevel" && levels == 1))
    };
    let mut items = vec![item(url, path, None, metadata)];
    if level != "none" {
        items.extend(
            folders
                .iter()
                .filter(|f| below(f))
                .map(|f| item(url, f, None, metadata)),
        );
        items.extend(
            files
                .iter()
                .filter(|(f, _)| below(f))
                .map(|(f, c)| item(url, f, Some(c), metadata)),
        );
    }
    Some(items)
}

fn item_not_found(status: StatusCode, path: &str) -> Response {
    let path = path.trim_start_matches('/');
    error(
        status,
        "GitItemNotFoundException",
        &format!("TF401174: The item '/{path}' could not be found in the repository."),
    )
}

/// `GET …/items` (spec `git`, `Items_Get` and `Items_List`), as the service answers it:
/// - with `scopePath` or `recursionLevel` and no `path`: the list (`{count, value}`) of the items
///   at and below `scopePath` (`Items_List`; the Python integration's folder kind reads it);
/// - with `path`, a file: its bytes (`application/octet-stream`) unless JSON is asked for
///   (`$format=json`, or no `$format` and an `Accept` naming `application/json`): then the
///   `GitItem`, with `content` only when `includeContent=true`. The Python integration asks
///   with neither and reads the bytes; ours asks for JSON with the content.
async fn get_items(
    State(state): State<Arc<AdoState>>,
    Path((_, key, repo)): Path<(String, String, String)>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(repository) = p.repositories.iter().find(|r| r["id"] == repo.as_str()) else {
        return repository_not_found(&repo);
    };
    let url = repository["url"].as_str().unwrap_or_default();
    let metadata = params
        .get("includeContentMetadata")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let Some(path) = params.get("path") else {
        let scope = params.get("scopePath").map_or("/", String::as_str);
        let level = params.get("recursionLevel").map_or("none", String::as_str);
        return match tree(&p.files, &repo, url, scope, level, metadata) {
            Some(items) => Json(json!({"count": items.len(), "value": items})).into_response(),
            None => item_not_found(StatusCode::NOT_FOUND, scope),
        };
    };
    let path = path.trim_start_matches('/');
    let commit = params.get("versionDescriptor.version").filter(|_| {
        params
            .get("versionDescriptor.versionType")
            .is_some_and(|t| t.eq_ignore_ascii_case("commit"))
    });
    let Some(content) = content_at(p, &repo, path, commit.map(String::as_str)) else {
        return item_not_found(StatusCode::NOT_FOUND, path);
    };
    let json = match params.get("$format") {
        Some(format) => format.eq_ignore_ascii_case("json"),
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("application/json")),
    };
    if !json {
        return (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            content.to_owned(),
        )
            .into_response();
    }
    let mut answer = item(url, path, Some(content), metadata);
    if params
        .get("includeContent")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        answer["content"] = json!(content);
    }
    Json(answer).into_response()
}

/// `POST …/itemsbatch` with `{"itemDescriptors": [{path, recursionLevel, …}], "includeContentMetadata"}`.
async fn batch(
    State(state): State<Arc<AdoState>>,
    Path((_, key, repo)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(repository) = p.repositories.iter().find(|r| r["id"] == repo.as_str()) else {
        return repository_not_found(&repo);
    };
    let url = repository["url"].as_str().unwrap_or_default();
    let metadata = body["includeContentMetadata"].as_bool().unwrap_or(false);
    let mut answer = Vec::new();
    for descriptor in body["itemDescriptors"].as_array().into_iter().flatten() {
        let path = descriptor["path"].as_str().unwrap_or("/");
        let level = descriptor["recursionLevel"].as_str().unwrap_or("none");
        match tree(&p.files, &repo, url, path, level, metadata) {
            Some(items) => answer.push(Value::Array(items)),
            // A missing path fails the whole batch with 400 (ocean-azure-devops.md §6.4).
            None => return item_not_found(StatusCode::BAD_REQUEST, path),
        }
    }
    Json(json!({"count": answer.len(), "value": answer})).into_response()
}

impl AdoState {
    /// Commits `changes` (path → new content, or `None` to delete) to the default branch of
    /// repository `repository` of project number `project`, and delivers the push. Returns
    /// the commit id; `None` without such a repository or default branch.
    pub fn commit(
        &self,
        project: usize,
        repository: &str,
        changes: &[(&str, Option<&str>)],
    ) -> Option<String> {
        let mut inner = self.lock();
        inner.pushes += 1;
        let push_id = inner.pushes;
        let p = inner.projects.get_mut(project)?;
        let repo = p
            .repositories
            .iter()
            .find(|r| r["name"] == repository)?
            .clone();
        let branch = repo["defaultBranch"].as_str()?.to_owned();
        let repo_id = repo["id"].as_str().unwrap_or_default().to_owned();
        let commit = format!("{:040x}", 0xc0_0000_0000_u64 + push_id);
        let url = repo["url"].as_str().unwrap_or_default().to_owned();
        let folders_before = folders_of(&p.files, &repo_id);
        let head = p
            .refs
            .iter()
            .find(|(r, g)| *r == repo_id && g["name"] == branch.as_str())
            .map(|(_, g)| g["objectId"].as_str().unwrap_or_default().to_owned());
        if let Some(head) = head {
            let before = snapshot(&p.files, &repo_id);
            p.snapshots.entry(head).or_insert(before);
        }
        let mut listed = Vec::new();
        for (path, content) in changes {
            let path = path.trim_start_matches('/');
            let existing = p
                .files
                .iter()
                .position(|(r, f, _)| *r == repo_id && f == path);
            let original =
                existing.map(|i| item(&url, path, Some(&p.files[i].2), false)["objectId"].clone());
            let change_type = match (existing, content) {
                (None, None) => continue,
                (Some(i), None) => {
                    p.files.remove(i);
                    "delete"
                }
                (Some(i), Some(new)) => {
                    (*new).clone_into(&mut p.files[i].2);
                    "edit"
                }
                (None, Some(new)) => {
                    p.files
                        .push((repo_id.clone(), path.to_owned(), (*new).to_owned()));
                    "add"
                }
            };
            let mut changed_item = item(&url, path, content.as_deref().or(Some("")), false);
            changed_item["commitId"] = json!(commit);
            if let Some(original) = original {
                changed_item["originalObjectId"] = original;
            }
            listed.push(json!({"item": changed_item, "changeType": change_type}));
        }
        // Folders that appear or disappear with the files are changes of their own.
        let folders_after = folders_of(&p.files, &repo_id);
        for (folders, other, change_type) in [
            (&folders_after, &folders_before, "add"),
            (&folders_before, &folders_after, "delete"),
        ] {
            for folder in folders.difference(other) {
                let mut folder_item = item(&url, folder, None, false);
                folder_item["commitId"] = json!(commit);
                listed.push(json!({"item": folder_item, "changeType": change_type}));
            }
        }
        let git_ref = p
            .refs
            .iter_mut()
            .find(|(r, g)| *r == repo_id && g["name"] == branch.as_str())?;
        let old = std::mem::replace(&mut git_ref.1["objectId"], json!(commit));
        let after = snapshot(&p.files, &repo_id);
        p.snapshots.insert(commit.clone(), after);
        p.commits.push((repo_id, commit.clone(), listed));
        let update = json!({"name": branch, "oldObjectId": old, "newObjectId": commit});
        let now = self.clock.now();
        let resource = push_resource(&self.base, now, &repo, push_id, &update, Some(&commit));
        drop(inner);
        self.git_pushed(&resource);
        Some(commit)
    }
}

/// `GET …/commits/{id}/changes`: what a commit made through [`AdoState::commit`] changed.
async fn changes(
    State(state): State<Arc<AdoState>>,
    Path((_, key, repo, commit)): Path<(String, String, String, String)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    match p
        .commits
        .iter()
        .find(|(r, c, _)| *r == repo && *c == commit)
    {
        Some((_, _, listed)) => {
            let count = |kind: &str| listed.iter().filter(|c| c["changeType"] == kind).count();
            Json(json!({"changeCounts": {"Add": count("add"), "Edit": count("edit"), "Delete": count("delete")},
                "changes": listed})).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "GitCommitDoesNotExistException",
            &format!("TF401175: The commit {commit} does not exist."),
        ),
    }
}
