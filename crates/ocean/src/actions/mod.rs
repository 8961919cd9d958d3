//! Port self-service actions that the integration executes (ocean-framework.md §11 item 23):
//! the integration's side ([`Executor`]: what an action type does, and when the third party's
//! rate budget says to wait), the claim loop and workers ([`Processor`]), and completion
//! reported from the third party's events ([`Completion`], [`report_completion`]).
//!
//! Ocean's guarantees are kept: a run is acknowledged before it is executed and executed only
//! if the acknowledgement succeeded (another worker or replica that acknowledged it first makes
//! Port answer 409), so a run is never executed twice; a run claimed and not acknowledged
//! (this process stopped, or waited out a rate limit until shutdown) is handed out again by
//! Port after its visibility timeout.
//!
//! Workflow-node runs (`/v1/workflows/runs/claim-pending`), which Ocean claims alternately
//! with action runs, are not claimed here: no Azure DevOps executor handles them.

mod processor;

use std::{future::Future, time::Duration};

use port_client::{ActionRun, Client};
use serde_json::json;
use tracing::{debug, info, warn};

pub use processor::Processor;

/// What an integration does for its action types.
pub trait Executor: Send + Sync + 'static {
    /// Why a run failed; its message is what Port's run log shows.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The action types (`integrationActionType`) this executor runs.
    fn action_types(&self) -> &'static [&'static str];

    /// Starts `run` in the third party; `log` adds lines to the run's log in Port.
    fn execute(
        &self,
        run: &ActionRun,
        log: &RunLog<'_>,
    ) -> impl Future<Output = Result<Started, Self::Error>> + Send;

    /// How long to wait before starting a run, when the third party's rate budget is spent.
    fn rate_limited_for(&self) -> Option<Duration> {
        None
    }

    /// Asks the third party whether the run with `external_run_id` finished, for processes
    /// that receive no live events (see [`Processor::new`]); `None` while it
    /// runs. Never finished by default.
    fn completion_of(
        &self,
        external_run_id: &str,
    ) -> impl Future<Output = Result<Option<Completion>, Self::Error>> + Send {
        let _ = external_run_id;
        std::future::ready(Ok(None))
    }
}

/// A run started in the third party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// The third party's page of the run (Port's run shows it).
    pub link: String,
    /// The id the third party's completion event is matched by.
    pub external_run_id: String,
}

/// Adds lines to one run's log in Port. A line Port refuses is logged here and dropped: a run
/// log is not worth failing the run for (Ocean posts run logs the same way).
pub struct RunLog<'a> {
    port: &'a Client,
    run_id: &'a str,
}

impl<'a> RunLog<'a> {
    /// The log of run `run_id`.
    #[must_use]
    pub fn new(port: &'a Client, run_id: &'a str) -> Self {
        Self { port, run_id }
    }

    /// Adds `message`.
    pub async fn log(&self, message: &str) {
        if let Err(error) = self.port.actions().log(self.run_id, message).await {
            warn!(run_id = self.run_id, error = %crate::Report(&error), "Port refused a run log line.");
        }
    }
}

/// A third-party event saying that a run it started for Port finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The run's external id, as [`Started::external_run_id`] set it.
    pub external_run_id: String,
    /// Whether it succeeded.
    pub success: bool,
    /// The last line of the run's log (`Pipeline run succeeded`).
    pub message: String,
    /// An input of the run that, set to `false`, asks that its completion not be reported
    /// (`reportPipelineStatus`).
    pub opt_out: Option<&'static str>,
}

/// Finishes the Port run that `completion` is about, if Port has one still in progress and it
/// did not opt out; returns whether it was finished. Repeating it is harmless: a finished run
/// is left alone.
pub async fn report_completion(
    port: &Client,
    completion: &Completion,
) -> Result<bool, port_client::Error> {
    let external = &completion.external_run_id;
    let Some(run) = port.actions().by_external_id(external).await? else {
        // Runs not started by an action (manual runs, other triggers) have none.
        debug!(
            external_run_id = external,
            "No Port action run for this completed run."
        );
        return Ok(false);
    };
    if !run.is_in_progress() {
        debug!(run_id = run.id, "The Port run already finished.");
        return Ok(false);
    }
    let properties = &run.payload.integration_action_execution_properties;
    if let Some(input) = completion.opt_out
        && properties.get(input) == Some(&serde_json::Value::Bool(false))
    {
        info!(
            run_id = run.id,
            input, "The run asked not to report its completion."
        );
        return Ok(false);
    }
    finish(port, &run.id, completion.success, &completion.message).await?;
    info!(
        run_id = run.id,
        success = completion.success,
        "Reported the run's completion to Port."
    );
    Ok(true)
}

/// Adds `message` to the run's log and sets its final status, as Ocean's
/// `report_run_completed` does.
pub(crate) async fn finish(
    port: &Client,
    run_id: &str,
    success: bool,
    message: &str,
) -> Result<(), port_client::Error> {
    RunLog::new(port, run_id).log(message).await;
    let status = if success { "SUCCESS" } else { "FAILURE" };
    port.actions()
        .patch(run_id, &json!({ "status": status }))
        .await
}
