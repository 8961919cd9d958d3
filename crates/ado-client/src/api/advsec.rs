//! Advanced Security: alerts of a repository (spec `advancedSecurity/alert.json`, on the
//! advsec host, api-version 7.2-preview.1).

use futures::Stream;
use serde_json::Value;

use crate::{Client, Error, Host, Paging, ProjectId, RepositoryId};

impl Client {
    /// `GET {project}/_apis/alert/repositories/{repository}/alerts` with `criteria.*` in
    /// `query`, in `top` pages with a continuation header. A repository without Advanced
    /// Security answers 400 ([`Error::Http`](crate::Error)).
    pub fn alerts(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "alert".into(),
            "repositories".into(),
            repository.to_string(),
            "alerts".into(),
        ];
        self.pages(
            Host::AdvancedSecurity,
            segments,
            query,
            Paging::ContinuationHeaderTop { top: 100 },
        )
    }

    /// `GET {project}/_apis/alert/repositories/{repository}/alerts/{id}`.
    pub async fn alert(
        &self,
        project: &ProjectId,
        repository: &RepositoryId,
        id: u64,
    ) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(
                Host::AdvancedSecurity,
                &[
                    project.as_str(),
                    "_apis",
                    "alert",
                    "repositories",
                    repository.as_str(),
                    "alerts",
                    &id,
                ],
                &[],
            )
            .await?
            .0)
    }
}
