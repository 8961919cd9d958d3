//! Release management (the release host).

use futures::Stream;
use serde_json::Value;

use crate::{Client, Error, Host, Paging, ProjectId, ReleaseDefinitionId, ReleaseId};

impl Client {
    /// `GET {project}/_apis/release/releases` on the release host (pages of 50).
    pub fn releases(
        &self,
        project: &ProjectId,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.to_string(),
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

    /// `GET {project}/_apis/release/releases/{id}` on the release host.
    pub async fn release(&self, project: &ProjectId, id: ReleaseId) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(
                Host::Release,
                &[project.as_str(), "_apis", "release", "releases", &id],
                &[],
            )
            .await?
            .0)
    }

    /// `GET {project}/_apis/release/definitions` on the release host (pages of 50), with
    /// `query` (`$expand`, `tagFilter`).
    pub fn release_definitions(
        &self,
        project: &ProjectId,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "release".into(),
            "definitions".into(),
        ];
        self.pages(
            Host::Release,
            segments,
            query,
            Paging::ContinuationHeader { top: 50 },
        )
    }

    /// `GET {project}/_apis/release/definitions/{id}` on the release host (with its
    /// environments).
    pub async fn release_definition(
        &self,
        project: &ProjectId,
        id: ReleaseDefinitionId,
    ) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(
                Host::Release,
                &[project.as_str(), "_apis", "release", "definitions", &id],
                &[],
            )
            .await?
            .0)
    }

    /// `GET {project}/_apis/release/deployments` on the release host (pages of 50, newest
    /// first), with `query` (`definitionId`, `definitionEnvironmentId`, `deploymentStatus`,
    /// `minModifiedTime`, …).
    pub fn release_deployments(
        &self,
        project: &ProjectId,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "release".into(),
            "deployments".into(),
        ];
        self.pages(
            Host::Release,
            segments,
            query,
            Paging::ContinuationHeader { top: 50 },
        )
    }
}
