//! Pipelines: YAML pipelines and their runs (spec `pipelines`, api-version 7.1).

use futures::{Stream, TryStreamExt};
use serde_json::Value;

use crate::{Client, Error, Host, Paging};

impl Client {
    /// `GET {project}/_apis/pipelines` (`$top` pages with a continuation header). Listed
    /// pipelines have no `configuration`; [`Client::pipeline`] has it.
    pub fn pipelines(
        &self,
        project: &str,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![project.into(), "_apis".into(), "pipelines".into()];
        self.pages(
            Host::Core,
            segments,
            Vec::new(),
            Paging::ContinuationHeader { top: 100 },
        )
    }

    /// `GET {project}/_apis/pipelines/{id}`.
    pub async fn pipeline(&self, project: &str, id: u64) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(Host::Core, &[project, "_apis", "pipelines", &id], &[])
            .await?
            .0)
    }

    /// `GET {project}/_apis/pipelines/{pipeline}/runs`: the newest 10,000 runs in one
    /// response (the endpoint takes no paging parameters).
    pub async fn pipeline_runs(&self, project: &str, pipeline: u64) -> Result<Vec<Value>, Error> {
        let segments = vec![
            project.into(),
            "_apis".into(),
            "pipelines".into(),
            pipeline.to_string(),
            "runs".into(),
        ];
        self.pages(Host::Core, segments, Vec::new(), Paging::None)
            .try_concat()
            .await
    }

    /// `GET {project}/_apis/pipelines/{pipeline}/runs/{run}`.
    pub async fn pipeline_run(
        &self,
        project: &str,
        pipeline: u64,
        run: u64,
    ) -> Result<Value, Error> {
        let (pipeline, run) = (pipeline.to_string(), run.to_string());
        Ok(self
            .get(
                Host::Core,
                &[project, "_apis", "pipelines", &pipeline, "runs", &run],
                &[],
            )
            .await?
            .0)
    }
}
