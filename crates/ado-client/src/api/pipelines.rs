//! Pipelines: YAML pipelines and their runs (spec `pipelines`, api-version 7.1).

use futures::{Stream, TryStreamExt};
use serde_json::Value;

use crate::{BuildId, Client, Error, Host, Paging, PipelineId, ProjectId};

impl Client {
    /// `GET {project}/_apis/pipelines` (`$top` pages with a continuation header). Listed
    /// pipelines have no `configuration`; [`Client::pipeline`] has it.
    pub fn pipelines(
        &self,
        project: &ProjectId,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![project.to_string(), "_apis".into(), "pipelines".into()];
        self.pages(
            Host::Core,
            segments,
            Vec::new(),
            Paging::ContinuationHeader { top: 100 },
        )
    }

    /// `GET {project}/_apis/pipelines/{id}`.
    pub async fn pipeline(&self, project: &ProjectId, id: PipelineId) -> Result<Value, Error> {
        let id = id.to_string();
        Ok(self
            .get(
                Host::Core,
                &[project.as_str(), "_apis", "pipelines", &id],
                &[],
            )
            .await?
            .0)
    }

    /// `GET {project}/_apis/pipelines/{pipeline}/runs`: the newest 10,000 runs in one
    /// response (the endpoint takes no paging parameters).
    pub async fn pipeline_runs(
        &self,
        project: &ProjectId,
        pipeline: PipelineId,
    ) -> Result<Vec<Value>, Error> {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "pipelines".into(),
            pipeline.to_string(),
            "runs".into(),
        ];
        self.pages(Host::Core, segments, Vec::new(), Paging::None)
            .try_concat()
            .await
    }

    /// `POST {project}/_apis/pipelines/{pipeline}/runs`: starts a run with `body`
    /// (`resources`, `templateParameters`, `variables`) and returns it. Not retried after a
    /// server error or a lost connection: the run may have started.
    pub async fn run_pipeline(
        &self,
        project: &ProjectId,
        pipeline: PipelineId,
        body: &Value,
    ) -> Result<Value, Error> {
        let pipeline = pipeline.to_string();
        self.post(
            Host::Core,
            &[project.as_str(), "_apis", "pipelines", &pipeline, "runs"],
            &[],
            body,
            false,
        )
        .await
    }

    /// `GET {project}/_apis/pipelines/{pipeline}/runs/{run}` (a run is the build with its id).
    pub async fn pipeline_run(
        &self,
        project: &ProjectId,
        pipeline: PipelineId,
        run: BuildId,
    ) -> Result<Value, Error> {
        let (pipeline, run) = (pipeline.to_string(), run.to_string());
        Ok(self
            .get(
                Host::Core,
                &[
                    project.as_str(),
                    "_apis",
                    "pipelines",
                    &pipeline,
                    "runs",
                    &run,
                ],
                &[],
            )
            .await?
            .0)
    }
}
