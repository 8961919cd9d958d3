//! Git: repositories, refs (branches), files, branch policies and pull requests.

use futures::{Stream, TryStreamExt};
use serde_json::{Value, json};

use crate::{Client, CommitId, Error, Host, Paging, ProjectId, PullRequestId, RepositoryId};

/// The largest `$top` the refs list accepts ("It cannot be bigger than 1000", `git/git.json`
/// `Refs_List`).
const MAX_REFS_PAGE: usize = 1000;

impl Client {
    /// `GET {project}/_apis/git/repositories` (unpaginated).
    pub async fn repositories(&self, project: &ProjectId) -> Result<Vec<Value>, Error> {
        self.pages(
            Host::Core,
            vec![
                project.to_string(),
                "_apis".into(),
                "git".into(),
                "repositories".into(),
            ],
            Vec::new(),
            Paging::None,
        )
        .try_concat()
        .await
    }

    /// `GET {project}/_apis/git/repositories/{repository}/refs?filter={filter}`: the refs whose
    /// name after `refs/` starts with `filter` (`heads/` for branches), `top` per page (the
    /// service allows at most 1000), following `x-ms-continuationtoken` (ado-api.md §3).
    pub fn refs(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
        filter: &str,
        top: usize,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "git".into(),
            "repositories".into(),
            repository.to_string(),
            "refs".into(),
        ];
        let query = vec![("filter", filter.to_owned())];
        self.pages(
            Host::Core,
            segments,
            query,
            Paging::ContinuationHeader {
                top: top.clamp(1, MAX_REFS_PAGE),
            },
        )
    }

    /// The branches (`refs/heads/*`) of a repository, in pages of 1000 (the most the service
    /// serves): one request for almost every repository.
    pub fn branches(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        self.refs(project, repository, "heads/", MAX_REFS_PAGE)
    }

    /// The text of one file on the default branch, `None` when it does not exist.
    pub async fn file(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
        path: &str,
    ) -> Result<Option<String>, Error> {
        self.file_at(project, repository, path, None).await
    }

    /// The text of one file at `commit` (the default branch without one), `None` when it does
    /// not exist there.
    pub async fn file_at(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
        path: &str,
        commit: Option<&CommitId>,
    ) -> Result<Option<String>, Error> {
        let mut query = vec![
            ("path", path.to_owned()),
            ("includeContent", "true".to_owned()),
        ];
        if let Some(commit) = commit {
            query.push(("versionDescriptor.version", commit.to_string()));
            query.push(("versionDescriptor.versionType", "commit".to_owned()));
        }
        match self
            .get(
                Host::Core,
                &[
                    project.as_str(),
                    "_apis",
                    "git",
                    "repositories",
                    repository.as_str(),
                    "items",
                ],
                &query,
            )
            .await
        {
            Ok((item, _)) => Ok(item
                .get("content")
                .and_then(Value::as_str)
                .map(str::to_owned)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// `GET {project}/_apis/git/repositories/{repo}/commits/{commit}/changes`: the `GitChange`s
    /// of one commit (`item` with its path and object ids, `changeType`), up to 10,000 of
    /// them (`top`; larger commits are left to the next resync).
    pub async fn commit_changes(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
        commit: &CommitId,
    ) -> Result<Vec<Value>, Error> {
        let segments = [
            project.as_str(),
            "_apis",
            "git",
            "repositories",
            repository.as_str(),
            "commits",
            commit.as_str(),
            "changes",
        ];
        let (mut body, _) = self
            .get(Host::Core, &segments, &[("top", "10000".to_owned())])
            .await?;
        crate::page::take_key(&mut body, "changes", &segments)
    }

    /// `POST {project}/_apis/git/repositories/{repo}/itemsbatch`: for each `(path, recursion)`
    /// (`none`, `oneLevel` or `full`) the items at and below the path on the default branch,
    /// with their content metadata; a read, so retried like a GET. `Ok(None)` when a path does
    /// not exist (the service refuses the batch with 400, ocean-azure-devops.md §6.4).
    pub async fn items_batch(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
        descriptors: &[(String, &str)],
    ) -> Result<Option<Vec<Vec<Value>>>, Error> {
        self.items_batch_on(project, repository, descriptors, None)
            .await
    }

    /// [`Client::items_batch`] on `branch` (the default branch without one).
    pub async fn items_batch_on(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
        descriptors: &[(String, &str)],
        branch: Option<&str>,
    ) -> Result<Option<Vec<Vec<Value>>>, Error> {
        let descriptors: Vec<Value> = descriptors
            .iter()
            .map(|(path, recursion)| {
                let mut descriptor = json!({"path": path, "recursionLevel": recursion});
                if let Some(branch) = branch {
                    descriptor["version"] = json!(branch);
                    descriptor["versionType"] = json!("branch");
                }
                descriptor
            })
            .collect();
        // No `includeContentMetadata`: the Python integration does not ask for it, so its `file`
        // items carry no `encoding`/`contentType`/`fileName`/`extension` (conformance/README.md).
        let body = json!({"itemDescriptors": descriptors});
        let segments = [
            project.as_str(),
            "_apis",
            "git",
            "repositories",
            repository.as_str(),
            "itemsbatch",
        ];
        match self.post(Host::Core, &segments, &[], &body, true).await {
            Ok(mut answer) => Ok(Some(
                crate::page::take_list(&mut answer, &segments)?
                    .into_iter()
                    .map(|list| match list {
                        Value::Array(items) => items,
                        _ => Vec::new(),
                    })
                    .collect(),
            )),
            Err(Error::Http { status: 400, .. } | Error::NotFound { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// `GET {project}/_apis/git/policy/configurations?repositoryId=&refName=` (all pages).
    pub async fn repository_policies(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
        ref_name: &str,
    ) -> Result<Vec<Value>, Error> {
        let query = vec![
            ("repositoryId", repository.to_string()),
            ("refName", ref_name.to_owned()),
        ];
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "git".into(),
            "policy".into(),
            "configurations".into(),
        ];
        self.pages(
            Host::Core,
            segments,
            query,
            Paging::ContinuationHeader { top: 100 },
        )
        .try_concat()
        .await
    }

    /// `GET {project}/_apis/git/repositories/{repository}/pullrequests` with `searchCriteria.*`
    /// in `query` (`$top`/`$skip` pages of 100; `limit` caps the total, as upstream's
    /// `maxResults`).
    pub async fn pull_requests(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
        query: Vec<(&'static str, String)>,
        limit: Option<usize>,
    ) -> Result<Vec<Value>, Error> {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "git".into(),
            "repositories".into(),
            repository.to_string(),
            "pullrequests".into(),
        ];
        let top = limit.map_or(100, |l| l.clamp(1, 100));
        let mut pages =
            std::pin::pin!(self.pages(Host::Core, segments, query, Paging::TopSkip { top }));
        let mut out = Vec::new();
        while let Some(page) = pages.try_next().await? {
            out.extend(page);
            if let Some(limit) = limit
                && out.len() >= limit
            {
                out.truncate(limit);
                break;
            }
        }
        Ok(out)
    }

    /// `GET {project}/_apis/git/pullrequests` with `searchCriteria.*` in `query`: the pull
    /// requests of every repository of the project, in `$top`/`$skip` pages of 100.
    pub fn project_pull_requests(
        &self,
        project: &ProjectId,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "git".into(),
            "pullrequests".into(),
        ];
        self.pages(Host::Core, segments, query, Paging::TopSkip { top: 100 })
    }

    /// `GET _apis/git/pullrequests/{id}` (one pull request, any repository).
    pub async fn pull_request(&self, id: PullRequestId) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(Host::Core, &["_apis", "git", "pullrequests", &id], &[])
            .await?
            .0)
    }

    /// `GET _apis/git/repositories/{id}` (one repository, any project).
    pub async fn repository(&self, id: &RepositoryId) -> Result<Value, Error> {
        Ok(self
            .get(
                Host::Core,
                &["_apis", "git", "repositories", id.as_str()],
                &[],
            )
            .await?
            .0)
    }

    /// `GET {project}/_apis/git/repositories/{repository}/commits/{id}`.
    pub async fn commit(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
        id: &CommitId,
    ) -> Result<Value, Error> {
        Ok(self
            .get(
                Host::Core,
                &[
                    project.as_str(),
                    "_apis",
                    "git",
                    "repositories",
                    repository.as_str(),
                    "commits",
                    id.as_str(),
                ],
                &[],
            )
            .await?
            .0)
    }
}
