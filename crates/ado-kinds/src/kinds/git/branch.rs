//! `branch`: the branches of each healthy repository, 25 repositories at a time, as upstream
//! (ocean-azure-devops.md §3.1). Azure DevOps has no branch object beyond a ref, so items are
//! synthesized as upstream does: `{name, refName, objectId}` with `name` the ref name without
//! `refs/heads/`, and `__repository`, the full repository, held once as a shared key of the
//! repository's page.
//!
//! Upstream logs and skips a repository whose refs cannot be read, and syncs the others; so do
//! we ([`ocean::Page::skipping`]), with one difference on purpose: upstream's reconciliation
//! then deletes every branch of that repository from Port, ours deletes nothing of the kind's
//! blueprints in that resync. A 404 (the repository was deleted during the resync) means "no
//! branches"; refused credentials or throttling fail the kind.

use ado_client::{Client, Error, ProjectId, RepositoryId};
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::{Value, json};

use super::super::{Source, part_failed, per_project, shared};

/// Repositories whose refs are read at the same time, per project (upstream's 25,
/// ocean-azure-devops.md §3.1).
const REPOSITORY_CONCURRENCY: usize = 25;

/// The prefix of branch refs.
pub(crate) const HEADS: &str = "refs/heads/";

/// Streams one page of branches per healthy repository that still exists.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    per_project(source, |source, project| async move {
        let project_id = ProjectId::of(&project);
        let healthy = source.healthy_repositories(&project_id).await?;
        let client = source.client.clone();
        stream::iter(healthy)
            .map(|repo| branches_page(client.clone(), project_id.clone(), repo))
            .buffered(REPOSITORY_CONCURRENCY)
            .try_filter_map(|page| async move { Ok(page) })
            .try_collect()
            .await
    })
}

/// The branches of `repo` as one page sharing `__repository`; `None` when the repository is
/// gone (404).
async fn branches_page(
    client: Client,
    project_id: ProjectId,
    repo: Value,
) -> Result<Option<Page>, Error> {
    let refs: Result<Vec<Vec<Value>>, Error> = client
        .branches(&project_id, &RepositoryId::of(&repo))
        .try_collect()
        .await;
    let refs = match refs {
        Ok(pages) => pages.into_iter().flatten(),
        Err(Error::NotFound { .. }) => return Ok(None),
        Err(error) if part_failed(&error) => {
            return Ok(Some(Page::skipping(format!(
                "branches of repository `{}`: {error}",
                repo["name"].as_str().unwrap_or_default()
            ))));
        }
        Err(other) => return Err(other),
    };
    let items = refs
        .filter_map(|git_ref| {
            let ref_name = git_ref["name"].as_str()?;
            Some(item(ref_name, &git_ref["objectId"]))
        })
        .collect();
    Ok(Some(Page::sharing(items, shared("__repository", repo))))
}

/// One branch item (without `__repository`, which its page shares): upstream's synthesized
/// shape, `name` being `refName` without `refs/heads/`.
pub(crate) fn item(ref_name: &str, object_id: &Value) -> Value {
    let name = ref_name.strip_prefix(HEADS).unwrap_or(ref_name);
    json!({"name": name, "refName": ref_name, "objectId": object_id})
}
