//! Advanced Security: alerts of a repository (spec `advancedSecurity/alert.json`, on the
//! advsec host, api-version 7.2-preview.1).

use futures::Stream;
use serde_json::Value;

use crate::{Client, Error, Host, Paging};

impl Client {
    /// `GET {project}/_apis/alert/repositories/{repository}/alerts` with `criteria.*` in
    /// `query`, in `top` pages with a continuation header. A repository without Advanced
    /// Security answers 400 ([`Error::Http`](crate::Error)).
    pub fn alerts(
        &self,
        project: &str,
        repository: &str,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.into(),
            "_apis".into(),
            "alert".into(),
            "repositories".into(),
            repository.into(),
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
    pub async fn alert(&self, project: &str, repository: &str, id: u64) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(
                Host::AdvancedSecurity,
                &[
                    project,
                    "_apis",
                    "alert",
                    "repositories",
                    repository,
                    "alerts",
                    &id,
                ],
                &[],
            )
            .await?
            .0)
    }
}
