//! Pipelines area: YAML pipelines, their runs, and builds (a run of the Pipelines API is a
//! build of the Build API, with the same id), and the environments pipelines deploy to.

pub mod build;
pub mod environment;
pub mod pipeline;
pub mod pipeline_deployment;
pub mod pipeline_run;
pub mod pipeline_stage;
