//! Test: test runs, their results, and build code coverage (spec `test`, api-version 7.1).

use futures::{Stream, TryStreamExt};
use serde_json::Value;

use crate::{BuildId, Client, Error, Host, Paging, ProjectId};

impl Client {
    /// `GET {project}/_apis/test/runs` with `query` (`includeRunDetails`, `buildUri`,
    /// `minLastUpdatedDate`/`maxLastUpdatedDate`), in `$top`/`$skip` pages of 100.
    pub fn test_runs(
        &self,
        project: &ProjectId,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "test".into(),
            "runs".into(),
        ];
        self.pages(Host::Core, segments, query, Paging::TopSkip { top: 100 })
    }

    /// `GET {project}/_apis/test/Runs/{run}/results` (all pages of 1000).
    pub async fn test_results(&self, project: &ProjectId, run: u64) -> Result<Vec<Value>, Error> {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "test".into(),
            "Runs".into(),
            run.to_string(),
            "results".into(),
        ];
        self.pages(
            Host::Core,
            segments,
            Vec::new(),
            Paging::TopSkip { top: 1000 },
        )
        .try_concat()
        .await
    }

    /// `GET {project}/_apis/test/codecoverage?buildId=[&flags=]`: the build's coverage.
    pub async fn code_coverage(
        &self,
        project: &ProjectId,
        build: BuildId,
        flags: Option<u64>,
    ) -> Result<Value, Error> {
        let mut query = vec![("buildId", build.to_string())];
        if let Some(flags) = flags {
            query.push(("flags", flags.to_string()));
        }
        Ok(self
            .get(
                Host::Core,
                &[project.as_str(), "_apis", "test", "codecoverage"],
                &query,
            )
            .await?
            .0)
    }
}
