//! gitops spec files (ocean-azure-devops.md §7.1): a push to a repository's gitops branch
//! (`useDefaultBranch: true` → its default branch, else the port-app-config's `branch`,
//! default `main`) changes the entities its spec files (`specPath`, default `port.yml`; one
//! path or a list) declare. Each file is read at the ref update's old and new commit; a file
//! is one entity or a list of them, and a property value `file://path` is replaced by that
//! file's content at the same commit (parsed when it ends in `.json`). New and changed
//! entities are upserted, entities the file no longer declares are deleted (Ocean's
//! `update_diff`), all under the installation's gitops datasource (`ocean::live::Declared`).
//!
//! Departures: a spec file that no longer parses changes nothing (upstream's diff would then
//! delete every entity it declared before); a list of spec paths works too (upstream only
//! handles a single path ending in `port.yml`).

use std::collections::BTreeMap;

use ado_client::{Client, CommitId, ProjectId, RepositoryId};
use mapping::PortAppConfig;
use ocean::{EntityKey, live::Declared};
use serde_json::Value;
use tracing::warn;

use super::ref_update::RefUpdate;
use crate::kinds::git::file::parse;

/// The spec files of `config` (`specPath`).
fn spec_paths(config: &PortAppConfig) -> Vec<String> {
    match config.extra.get("specPath") {
        None | Some(Value::Null) => vec!["port.yml".to_owned()],
        Some(Value::String(path)) => vec![path.clone()],
        Some(Value::Array(paths)) => paths
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(_) => Vec::new(),
    }
}

/// The ref gitops follows in `repository`.
fn gitops_ref(config: &PortAppConfig, repository: &Value) -> Option<String> {
    if config
        .extra
        .get("useDefaultBranch")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return repository["defaultBranch"].as_str().map(str::to_owned);
    }
    let branch = config
        .extra
        .get("branch")
        .and_then(Value::as_str)
        .unwrap_or("main");
    Some(format!(
        "refs/heads/{}",
        branch.trim_start_matches("refs/heads/")
    ))
}

/// What a push declares: upserts and deletions of the spec files' entities.
pub(super) async fn declared(
    client: &Client,
    repository: &Value,
    updates: &[RefUpdate],
    config: &PortAppConfig,
) -> Result<Declared, crate::Error> {
    let mut declared = Declared::default();
    let Some(tracked) = gitops_ref(config, repository) else {
        return Ok(declared);
    };
    let (project, repo) = (
        ProjectId::of(&repository["project"]),
        RepositoryId::of(repository),
    );
    for update in updates.iter().filter(|u| u.name == tracked && !u.deleted()) {
        for path in spec_paths(config) {
            let before = if update.created() {
                Some(BTreeMap::new())
            } else {
                entities_at(client, &project, &repo, &path, &update.old).await?
            };
            let Some(after) = entities_at(client, &project, &repo, &path, &update.new).await?
            else {
                warn!(path, commit = %update.new, "The GitOps spec file does not parse; nothing changes.");
                continue;
            };
            let before = before.unwrap_or_default();
            for (key, entity) in &after {
                if before.get(key) != Some(entity) {
                    declared.upserts.push(entity.clone());
                }
            }
            declared
                .deletes
                .extend(before.into_keys().filter(|key| !after.contains_key(key)));
        }
    }
    Ok(declared)
}

/// The entities `path` declares at `commit` by (blueprint, identifier): none when the file does
/// not exist there, `None` when it does not parse as YAML.
async fn entities_at(
    client: &Client,
    project: &ProjectId,
    repo: &RepositoryId,
    path: &str,
    commit: &CommitId,
) -> Result<Option<BTreeMap<EntityKey, Value>>, crate::Error> {
    let read = |path: String| {
        let client = client.clone();
        let (project, repo, commit) = (project.clone(), repo.clone(), commit.clone());
        async move {
            client
                .file_at(&project, &repo, &path, Some(&commit))
                .await
                .map_err(crate::Error::from)
        }
    };
    let Some(text) = read(path.to_owned()).await? else {
        return Ok(Some(BTreeMap::new()));
    };
    let Ok(document) = serde_yaml_ng::from_str::<Value>(&text) else {
        return Ok(None);
    };
    let listed = match document {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        one => vec![one],
    };
    let mut entities = BTreeMap::new();
    for mut entity in listed {
        let (Some(blueprint), Some(identifier)) = (
            entity["blueprint"].as_str().map(str::to_owned),
            entity["identifier"].as_str().map(str::to_owned),
        ) else {
            continue;
        };
        if let Some(Value::Object(properties)) = entity.get_mut("properties") {
            for value in properties.values_mut() {
                let Some(file) = value.as_str().and_then(|v| v.strip_prefix("file://")) else {
                    continue;
                };
                let file = file.trim_start_matches('/').to_owned();
                let content = read(file.clone()).await?.unwrap_or_default();
                *value = if std::path::Path::new(&file)
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("json"))
                {
                    parse(&content)
                } else {
                    Value::String(content)
                };
            }
        }
        entities.insert(
            EntityKey {
                blueprint,
                identifier,
            },
            entity,
        );
    }
    Ok(Some(entities))
}
