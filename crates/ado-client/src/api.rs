//! One method per Azure DevOps endpoint the integration calls (paths and parameters from the
//! 7.1 specs: `core`, `git`, `work`, `wit`, `release`).

use futures::{Stream, TryStreamExt};
use serde_json::{Value, json};

use crate::{Client, Error, Host, Paging, page::take_list};

impl Client {
    /// `GET _apis/projects` (pages of 100, continuation header).
    pub fn projects(&self) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        self.pages(
            Host::Core,
            vec!["_apis".into(), "projects".into()],
            Vec::new(),
            Paging::ContinuationHeader { top: 100 },
        )
    }

    /// `GET _apis/projects/{id}?includeCapabilities=true` (has `defaultTeam`).
    pub async fn project(&self, id: &str) -> Result<Value, Error> {
        let query = [("includeCapabilities", "true".to_owned())];
        Ok(self
            .get(Host::Core, &["_apis", "projects", id], &query)
            .await?
            .0)
    }

    /// `GET {project}/_apis/git/repositories` (unpaginated).
    pub async fn repositories(&self, project: &str) -> Result<Vec<Value>, Error> {
        self.pages(
            Host::Core,
            vec![
                project.into(),
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

    /// The text of one file on the default branch, `None` when it does not exist.
    pub async fn file(
        &self,
        project: &str,
        repository: &str,
        path: &str,
    ) -> Result<Option<String>, Error> {
        let query = [
            ("path", path.to_owned()),
            ("includeContent", "true".to_owned()),
        ];
        match self
            .get(
                Host::Core,
                &[project, "_apis", "git", "repositories", repository, "items"],
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

    /// `GET {project}/_apis/git/policy/configurations?repositoryId=&refName=` (all pages).
    pub async fn repository_policies(
        &self,
        project: &str,
        repository: &str,
        ref_name: &str,
    ) -> Result<Vec<Value>, Error> {
        let query = vec![
            ("repositoryId", repository.to_owned()),
            ("refName", ref_name.to_owned()),
        ];
        let segments = vec![
            project.into(),
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

    /// `GET _apis/projects/{project}/teams` (`$top`/`$skip`).
    pub async fn teams(&self, project: &str) -> Result<Vec<Value>, Error> {
        let segments = vec![
            "_apis".into(),
            "projects".into(),
            project.into(),
            "teams".into(),
        ];
        self.pages(
            Host::Core,
            segments,
            Vec::new(),
            Paging::TopSkip { top: 100 },
        )
        .try_concat()
        .await
    }

    /// `GET {project}/{team}/_apis/work/boards` then each board's detail (with columns).
    pub async fn boards(&self, project: &str, team: &str) -> Result<Vec<Value>, Error> {
        let (list, _) = self
            .get(Host::Core, &[project, team, "_apis", "work", "boards"], &[])
            .await?;
        let mut boards = Vec::new();
        for summary in list
            .get("value")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = summary.get("id").and_then(Value::as_str) else {
                continue;
            };
            boards.push(
                self.get(
                    Host::Core,
                    &[project, team, "_apis", "work", "boards", id],
                    &[],
                )
                .await?
                .0,
            );
        }
        Ok(boards)
    }

    /// `POST {project}/_apis/wit/wiql?$top=` → work item ids (a read: retried like a GET).
    /// `time_precision` sets `timePrecision=true`: date literals may then carry a time of day
    /// (without it the service compares days and refuses such literals).
    pub async fn wiql(
        &self,
        project: &str,
        query: &str,
        top: usize,
        time_precision: bool,
    ) -> Result<Vec<u64>, Error> {
        let body = json!({ "query": query });
        let mut params = vec![("$top", top.to_string())];
        if time_precision {
            params.push(("timePrecision", "true".to_owned()));
        }
        let result = self
            .post(
                Host::Core,
                &[project, "_apis", "wit", "wiql"],
                &params,
                &body,
                true,
            )
            .await?;
        Ok(result
            .get("workItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|w| w.get("id").and_then(Value::as_u64))
            .collect())
    }

    /// `GET {project}/_apis/wit/workitems?ids=` for at most 200 ids (deleted ones omitted).
    pub async fn work_items(
        &self,
        project: &str,
        ids: &[u64],
        expand: &str,
    ) -> Result<Vec<Value>, Error> {
        let ids = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        let query = [
            ("ids", ids),
            ("$expand", expand.to_owned()),
            ("errorPolicy", "omit".to_owned()),
        ];
        let (mut body, _) = self
            .get(Host::Core, &[project, "_apis", "wit", "workitems"], &query)
            .await?;
        let mut items = take_list(&mut body);
        items.retain(|w| !w.is_null());
        Ok(items)
    }

    /// `GET {project}/_apis/release/releases` on the release host (pages of 50).
    pub fn releases(
        &self,
        project: &str,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.into(),
            "_apis".into(),
            "release".into(),
            "releases".into(),
        ];
        self.pages(
            Host::Release,
            segments,
            query,
            Paging::ContinuationHeader { top: 50 },
        )
    }

    /// `GET {project}/_apis/git/repositories/{repository}/pullrequests` with `searchCriteria.*`
    /// in `query` (`$top`/`$skip` pages of 100; `limit` caps the total, as upstream's
    /// `maxResults`).
    pub async fn pull_requests(
        &self,
        project: &str,
        repository: &str,
        query: Vec<(&'static str, String)>,
        limit: Option<usize>,
    ) -> Result<Vec<Value>, Error> {
        let segments = vec![
            project.into(),
            "_apis".into(),
            "git".into(),
            "repositories".into(),
            repository.into(),
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
        project: &str,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.into(),
            "_apis".into(),
            "git".into(),
            "pullrequests".into(),
        ];
        self.pages(Host::Core, segments, query, Paging::TopSkip { top: 100 })
    }

    /// `GET _apis/git/pullrequests/{id}` (one pull request, any repository).
    pub async fn pull_request(&self, id: u64) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(Host::Core, &["_apis", "git", "pullrequests", &id], &[])
            .await?
            .0)
    }

    /// `GET {project}/_apis/wit/workitems/{id}?$expand=` (one work item).
    pub async fn work_item(&self, project: &str, id: u64, expand: &str) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(
                Host::Core,
                &[project, "_apis", "wit", "workitems", &id],
                &[("$expand", expand.to_owned())],
            )
            .await?
            .0)
    }

    /// `GET _apis/git/repositories/{id}` (one repository, any project).
    pub async fn repository(&self, id: &str) -> Result<Value, Error> {
        Ok(self
            .get(Host::Core, &["_apis", "git", "repositories", id], &[])
            .await?
            .0)
    }

    /// `GET {project}/_apis/release/releases/{id}` on the release host.
    pub async fn release(&self, project: &str, id: u64) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(
                Host::Release,
                &[project, "_apis", "release", "releases", &id],
                &[],
            )
            .await?
            .0)
    }

    /// `GET _apis/hooks/subscriptions?publisherId=&eventType=` (service-hook subscriptions).
    pub async fn subscriptions(
        &self,
        publisher: &str,
        event_type: &str,
    ) -> Result<Vec<Value>, Error> {
        let query = [
            ("publisherId", publisher.to_owned()),
            ("eventType", event_type.to_owned()),
        ];
        let (mut body, _) = self
            .get(Host::Core, &["_apis", "hooks", "subscriptions"], &query)
            .await?;
        Ok(take_list(&mut body))
    }

    /// `POST _apis/hooks/subscriptions` on `host` (not retried: a retry could duplicate it).
    pub async fn create_subscription(&self, host: Host, body: &Value) -> Result<Value, Error> {
        self.post(host, &["_apis", "hooks", "subscriptions"], &[], body, false)
            .await
    }

    /// `PUT _apis/hooks/subscriptions/{id}` (replaces inputs, e.g. new credentials).
    pub async fn replace_subscription(
        &self,
        host: Host,
        id: &str,
        body: &Value,
    ) -> Result<Value, Error> {
        self.call(
            reqwest::Method::PUT,
            host,
            &["_apis", "hooks", "subscriptions", id],
            Some(body),
        )
        .await
    }

    /// `DELETE _apis/hooks/subscriptions/{id}`.
    pub async fn delete_subscription(&self, host: Host, id: &str) -> Result<(), Error> {
        self.call(
            reqwest::Method::DELETE,
            host,
            &["_apis", "hooks", "subscriptions", id],
            None,
        )
        .await
        .map(|_| ())
    }
}
