//! Distributed task: pipeline environments and their deployment records (spec
//! `distributedTask`).

use futures::Stream;
use serde_json::Value;

use crate::{Client, Error, Host, Paging, ProjectId};

impl Client {
    /// `GET {project}/_apis/distributedtask/environments` (continuation header, pages of 50).
    pub fn environments(
        &self,
        project: &ProjectId,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "distributedtask".into(),
            "environments".into(),
        ];
        self.pages(
            Host::Core,
            segments,
            Vec::new(),
            Paging::ContinuationHeader { top: 50 },
        )
    }

    /// `GET {project}/_apis/distributedtask/environments/{id}/environmentdeploymentrecords`
    /// (continuation header; the page size is `top`, without `$`, in the spec).
    pub fn environment_deployments(
        &self,
        project: &ProjectId,
        environment: u64,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "distributedtask".into(),
            "environments".into(),
            environment.to_string(),
            "environmentdeploymentrecords".into(),
        ];
        self.pages(
            Host::Core,
            segments,
            Vec::new(),
            Paging::ContinuationHeaderTop { top: 100 },
        )
    }
}
