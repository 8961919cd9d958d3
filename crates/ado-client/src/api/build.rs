//! Build: builds and build definitions (spec `build`, api-version 7.1).

use futures::{Stream, TryStreamExt};
use serde_json::Value;

use crate::{BuildId, Client, Error, Host, Paging, PipelineId, ProjectId};

impl Client {
    /// `GET {project}/_apis/build/builds` with `query` (`queryOrder`, `minTime`, …), in
    /// `$top` pages with a continuation header.
    pub fn builds(
        &self,
        project: &ProjectId,
        query: Vec<(&'static str, String)>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "build".into(),
            "builds".into(),
        ];
        self.pages(
            Host::Core,
            segments,
            query,
            Paging::ContinuationHeader { top: 100 },
        )
    }

    /// `GET {project}/_apis/build/builds/{id}`.
    pub async fn build(&self, project: &ProjectId, id: BuildId) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(
                Host::Core,
                &[project.as_str(), "_apis", "build", "builds", &id],
                &[],
            )
            .await?
            .0)
    }

    /// `GET {project}/_apis/build/definitions/{id}` (has the `repository` it builds); a YAML
    /// pipeline's id is its build definition's.
    pub async fn build_definition(
        &self,
        project: &ProjectId,
        id: PipelineId,
    ) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(
                Host::Core,
                &[project.as_str(), "_apis", "build", "definitions", &id],
                &[],
            )
            .await?
            .0)
    }

    /// `GET {project}/_apis/build/builds/{id}/timeline`: the build's records (stages, phases,
    /// jobs, tasks).
    pub async fn build_timeline(
        &self,
        project: &ProjectId,
        id: BuildId,
    ) -> Result<Vec<Value>, Error> {
        let id = id.to_string();
        let segments = [
            project.as_str(),
            "_apis",
            "build",
            "builds",
            &id,
            "timeline",
        ];
        let (mut timeline, _) = self.get(Host::Core, &segments, &[]).await?;
        if timeline.is_null() {
            // A build that has not started has no timeline yet.
            return Ok(Vec::new());
        }
        crate::page::take_key(&mut timeline, "records", &segments)
    }

    /// `GET {project}/_apis/build/builds/{id}/changes`: the commits the build brought (all
    /// pages).
    pub async fn build_changes(
        &self,
        project: &ProjectId,
        id: BuildId,
    ) -> Result<Vec<Value>, Error> {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "build".into(),
            "builds".into(),
            id.to_string(),
            "changes".into(),
        ];
        self.pages(
            Host::Core,
            segments,
            Vec::new(),
            Paging::ContinuationHeader { top: 100 },
        )
        .try_concat()
        .await
    }
}
