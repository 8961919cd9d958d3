//! Git area kinds.

pub mod branch;
pub mod file;
pub mod folder;
pub mod pull_request;
pub mod repository;
pub mod repository_policy;

use ado_client::{CommitId, ProjectId, RepositoryId};

/// Upstream's "healthy repository" filter, narrowed to repositories that have a default branch:
/// disabled repositories cannot be read, and an empty one has no branches, so no policies, no
/// pull requests and nothing for `branch`.
pub(crate) fn has_branches(repo: &serde_json::Value) -> bool {
    !repo["isDisabled"].as_bool().unwrap_or(false) && repo.get("defaultBranch").is_some()
}

/// What a repository-wide kind (`file`, `folder`) reads: which projects and repositories.
pub(crate) trait RepositorySelection: Send + Sync + 'static {
    /// Whether `project`'s repositories are read at all.
    fn wants_project(&self, _project: &serde_json::Value) -> bool {
        true
    }
    /// Whether `repo` is read.
    fn wants_repository(&self, _repo: &serde_json::Value) -> bool {
        true
    }
}

/// Repositories read at a time by [`per_readable_repository`] (upstream's
/// `MAX_CONCURRENT_REPOS_FOR_FILE_PROCESSING`).
const REPOSITORY_CONCURRENCY: usize = 25;

/// Streams the page `page` makes for every readable repository ([`has_branches`]) that
/// `selection` wants, of the projects it wants: `page(source, project id, repository,
/// selection)`.
pub(crate) fn per_readable_repository<S, F, Fut>(
    source: &super::Source,
    selection: std::sync::Arc<S>,
    page: F,
) -> ocean::PageStream<ado_client::Error>
where
    S: RepositorySelection,
    F: Fn(super::Source, ProjectId, serde_json::Value, std::sync::Arc<S>) -> Fut
        + Clone
        + Send
        + Sync
        + 'static,
    Fut: Future<Output = Result<ocean::Page, ado_client::Error>> + Send + 'static,
{
    use futures::{StreamExt, TryStreamExt, stream};
    super::per_project_streams(source, move |source, project| {
        if !selection.wants_project(&project) {
            return stream::empty().boxed();
        }
        let (selection, page) = (std::sync::Arc::clone(&selection), page.clone());
        let project_id = ProjectId::of(&project);
        stream::once(async move {
            let repositories = source.repositories(&project_id).await?;
            Ok::<_, ado_client::Error>((source, project_id, repositories))
        })
        .map_ok(move |(source, project_id, repositories)| {
            let wanted: Vec<serde_json::Value> = repositories
                .into_iter()
                .filter(|repo| has_branches(repo) && selection.wants_repository(repo))
                .collect();
            let (selection, page) = (std::sync::Arc::clone(&selection), page.clone());
            stream::iter(wanted.into_iter().map(Ok))
                .map_ok(move |repo| {
                    page(
                        source.clone(),
                        project_id.clone(),
                        repo,
                        std::sync::Arc::clone(&selection),
                    )
                })
                .try_buffer_unordered(REPOSITORY_CONCURRENCY)
        })
        .try_flatten()
        .boxed()
    })
}

/// The commits a push's consumers read, oldest first: those the push lists (Azure DevOps
/// lists them newest first), then each ref's new head when the list does not have it.
pub(crate) fn commits_oldest_first<'a>(
    listed: &'a [CommitId],
    heads: impl IntoIterator<Item = &'a CommitId>,
) -> Vec<&'a CommitId> {
    let mut order: Vec<&CommitId> = listed.iter().rev().collect();
    for head in heads {
        if !order.contains(&head) {
            order.push(head);
        }
    }
    order
}

/// The changes of a push's commits in one repository, each commit read once for every
/// consumer of the push (`file` and `folder` read the same commits).
pub(crate) struct CommitChanges {
    client: ado_client::Client,
    project: ProjectId,
    repository: RepositoryId,
    read: std::sync::Mutex<
        std::collections::HashMap<CommitId, std::sync::Arc<Vec<serde_json::Value>>>,
    >,
}

impl CommitChanges {
    /// The changes of `repository`'s commits, read through `client`.
    pub(crate) fn new(client: &ado_client::Client, repository: &serde_json::Value) -> Self {
        Self {
            client: client.clone(),
            project: ProjectId::of(&repository["project"]),
            repository: RepositoryId::of(repository),
            read: std::sync::Mutex::default(),
        }
    }

    /// The `GitChange`s of `commit`, read on first use.
    pub(crate) async fn of(
        &self,
        commit: &CommitId,
    ) -> Result<std::sync::Arc<Vec<serde_json::Value>>, ado_client::Error> {
        let known = self
            .read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(commit)
            .cloned();
        if let Some(changes) = known {
            return Ok(changes);
        }
        let changes = std::sync::Arc::new(
            self.client
                .commit_changes(&self.project, &self.repository, commit)
                .await?,
        );
        self.read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(commit.clone(), std::sync::Arc::clone(&changes));
        Ok(changes)
    }
}
