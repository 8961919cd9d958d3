//! `repository`: every repository of every project, disabled and empty ones included (as
//! upstream), with `includedFiles` read from the default branch into `__includedFiles`
//! (`{path: content}`, `""` for a file that cannot be read).

use crate::AdoKind;
use ado_client::{Client, Error, ProjectId, RepositoryId};
use futures::future::try_join_all;
use mapping::SelectorConfig;
use ocean::PageStream;
use serde_json::{Map, Value};

use super::super::{Source, per_project};

/// Streams one page of repositories per project.
pub(crate) fn fetch(source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
    let files = included_files(selector);
    per_project(source, move |source, project| {
        let files = files.clone();
        async move {
            let project_id = ProjectId::of(&project);
            let repositories = source.repositories(&project_id).await?;
            if files.is_empty() {
                return Ok(vec![repositories.into()]);
            }
            let client = &source.client;
            let repositories = try_join_all(
                repositories
                    .into_iter()
                    .map(|repo| with_files(client, &project_id, repo, &files)),
            )
            .await?;
            Ok(vec![repositories.into()])
        }
    })
}

/// The selector's `includedFiles`.
pub(crate) fn included_files(selector: &SelectorConfig) -> Vec<String> {
    selector
        .extra
        .get("includedFiles")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A repository from a live event, with the files any `repository` resource includes.
pub(crate) async fn enrich(
    client: &Client,
    repo: Value,
    config: &mapping::PortAppConfig,
) -> Result<Value, crate::Error> {
    let mut files: Vec<String> = AdoKind::Repository
        .resources(config)
        .flat_map(|r| included_files(&r.selector))
        .collect();
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Ok(repo);
    }
    let project = ProjectId::of(&repo["project"]);
    with_files(client, &project, repo, &files)
        .await
        .map_err(crate::Error::from)
}

async fn with_files(
    client: &Client,
    project: &ProjectId,
    mut repo: Value,
    files: &[String],
) -> Result<Value, Error> {
    repo["__includedFiles"] = Value::Object(included(client, project, &repo, files).await?);
    Ok(repo)
}

/// `{path: content}` of `files` at the root of `repo`'s default branch. A file that is absent,
/// or in a disabled or empty repository, is `""`, as upstream (`_get_item_content` returns
/// empty bytes and the fetcher decodes them to `""`; ocean-azure-devops.md §7.2). Unlike
/// upstream, an error other than 404 (after the client's retries) fails the kind instead of
/// becoming `""`: a transient error must not blank a README in Port.
pub(crate) async fn included(
    client: &Client,
    project: &ProjectId,
    repo: &Value,
    files: &[String],
) -> Result<Map<String, Value>, Error> {
    let readable = super::has_branches(repo);
    let mut included = Map::new();
    for path in files {
        let content = if readable {
            client.file(project, &RepositoryId::of(repo), path).await?
        } else {
            None
        };
        included.insert(path.clone(), Value::String(content.unwrap_or_default()));
    }
    Ok(included)
}
