//! `environment`: the pipeline environments of every project (`GET
//! …/distributedtask/environments`), raw: each already names its `project`
//! (ocean-azure-devops.md §3.1). Five projects at a time (upstream: one after another).

use ado_client::{Error, ProjectId};
use mapping::SelectorConfig;
use ocean::PageStream;

use super::super::{Source, per_project};

/// Streams one page of environments per project.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    per_project(source, |source, project| async move {
        let environments = source.environments(&ProjectId::of(&project)).await?;
        Ok(vec![environments.into()])
    })
}
