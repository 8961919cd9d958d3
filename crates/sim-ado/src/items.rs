//! Git items beyond single files (spec `git`, `Items_Get Items Batch`): `POST
//! {project}/_apis/git/repositories/{repo}/itemsbatch` lists, per item descriptor, the item at a
//! path and, by its `recursionLevel`, its children (`oneLevel`) or every descendant (`full`),
//! folders included (`isFolder`, `gitObjectType: tree`) and synthesized from the files' paths.
//! A path that does not exist fails the whole batch with 400, as upstream observed
//! (ocean-azure-devops.md §6.4).
//!
//! Seeded files (beside README.md and CODEOWNERS): a `port.yml` in every third repository, a
//! `package.json` in every second, two service `package.json`s under `services/` in every
//! fourth, and a dot-folder file in every fifth.

use std::{collections::BTreeSet, sync::Arc};

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::{
    AdoState,
    routes::{error, find, not_found},
};

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

/// `POST …/itemsbatch` with `{"itemDescriptors": [{path, recursionLevel, …}], "includeContentMetadata"}`.
pub(crate) async fn batch(
    State(state): State<Arc<AdoState>>,
    Path((_, key, repo)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(repository) = p.repositories.iter().find(|r| r["id"] == repo.as_str()) else {
        return error(
            StatusCode::NOT_FOUND,
            "GitRepositoryNotFoundException",
            &format!("TF401019: The Git repository with name or identifier {repo} does not exist."),
        );
    };
    let url = repository["url"].as_str().unwrap_or_default();
    let metadata = body["includeContentMetadata"].as_bool().unwrap_or(false);
    let files: Vec<(&str, &str)> = p
        .files
        .iter()
        .filter(|(r, _, _)| *r == repo)
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
    let mut answer = Vec::new();
    for descriptor in body["itemDescriptors"].as_array().into_iter().flatten() {
        let path = descriptor["path"].as_str().unwrap_or("/").trim_matches('/');
        let level = descriptor["recursionLevel"]
            .as_str()
            .unwrap_or("none")
            .to_ascii_lowercase();
        let depth = path.split('/').filter(|s| !s.is_empty()).count();
        let mut items = Vec::new();
        if let Some((_, content)) = files.iter().find(|(f, _)| *f == path) {
            items.push(item(url, path, Some(content), metadata));
        } else if folders.contains(path) {
            items.push(item(url, path, None, metadata));
            let below = |candidate: &str| {
                let inside = path.is_empty() || candidate.starts_with(&format!("{path}/"));
                let levels = candidate.split('/').count() - depth;
                inside
                    && !candidate.is_empty()
                    && (level == "full" || (level == "onelevel" && levels == 1))
            };
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
        } else {
            return error(
                StatusCode::BAD_REQUEST,
                "GitItemNotFoundException",
                &format!("TF401174: The item '/{path}' could not be found in the repository."),
            );
        }
        answer.push(Value::Array(items));
    }
    Json(json!({"count": answer.len(), "value": answer})).into_response()
}
