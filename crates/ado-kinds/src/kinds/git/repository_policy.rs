//! `repository-policy`: branch policies of each healthy repository's default branch, each with
//! the repository under `__repository` (disabled and empty repositories are skipped, as
//! upstream's "healthy repository" filter does): one page per repository, `__repository`
//! shared by its policies.

use ado_client::{Error, ProjectId, RepositoryId};
use futures::future::try_join_all;
use mapping::SelectorConfig;
use ocean::{Page, PageStream};

use super::super::{Source, per_project, shared};

/// Streams one page of policies per repository.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    per_project(source, |source, project| async move {
        let project_id = ProjectId::of(&project);
        let healthy = source.healthy_repositories(&project_id).await?;
        let per_repo = try_join_all(healthy.into_iter().map(|repo| {
            let (source, project_id) = (source.clone(), project_id.clone());
            async move {
                let branch = repo["defaultBranch"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let policies = source
                    .policies(&project_id, &RepositoryId::of(&repo), &branch)
                    .await?;
                Ok::<_, Error>(Page::sharing(policies, shared("__repository", repo)))
            }
        }))
        .await?;
        Ok(per_repo)
    })
}
