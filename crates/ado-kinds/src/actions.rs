//! The integration's Port action, `trigger_pipeline` (ocean-azure-devops.md §7.5): start an
//! Azure DevOps pipeline run with a branch, template parameters and variables, and finish the
//! Port run when the pipeline run's `run-state-changed` event says it completed.
//!
//! Differences from upstream, on purpose: inputs of the wrong type (a `pipelineId` that is not
//! a number, `variables` that are not an object) fail the run with a message naming the input,
//! where upstream sends them on (Azure DevOps then refuses) or fails with a Python type error;
//! and a process without live events polls the run for its completion
//! ([`Executor::completion_of`]), where upstream leaves the Port run in progress.

use ado_client::{Client, PipelineId, ProjectId};
use ocean::actions::{Completion, Executor, RunLog, Started};
use port_client::ActionRun;
use serde_json::{Map, Value, json};

/// The action type Port's spec declares (`spec.yaml` `actions[].name`).
pub const TRIGGER_PIPELINE: &str = "trigger_pipeline";

/// The input that, set to `false`, leaves the Port run in progress when the pipeline ends.
const REPORT_STATUS: &str = "reportPipelineStatus";

/// Runs `trigger_pipeline` against the one configured organization.
#[derive(Debug, Clone)]
pub struct TriggerPipeline {
    organizations: Vec<Client>,
}

/// Why a `trigger_pipeline` run failed; the message is what Port's run log shows.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// Actions run against exactly one organization, as upstream.
    #[error(
        "Azure DevOps actions currently support a single organization (Single Account mode); \
         found {0} configured organizations"
    )]
    MultipleOrganizations(usize),
    /// An input is missing or has the wrong type.
    #[error("{0}")]
    InvalidInput(String),
    /// The project does not exist or is not visible to the credentials.
    #[error("Project '{0}' was not found")]
    ProjectNotFound(String),
    /// Azure DevOps refused to start the run; its own message.
    #[error("Error triggering pipeline {pipeline} in project '{project}': {message}")]
    Refused {
        /// The pipeline id.
        pipeline: PipelineId,
        /// The project as given.
        project: String,
        /// Azure DevOps's reason.
        message: String,
    },
    /// Another Azure DevOps failure (unreachable, throttled past the retries, ...).
    #[error(transparent)]
    Ado(#[from] ado_client::Error),
}

impl TriggerPipeline {
    /// The executor for `organizations` (it refuses every run unless there is exactly one).
    #[must_use]
    pub fn new(organizations: Vec<Client>) -> Self {
        Self { organizations }
    }

    fn client(&self) -> Result<&Client, ActionError> {
        match self.organizations.as_slice() {
            [client] => Ok(client),
            many => Err(ActionError::MultipleOrganizations(many.len())),
        }
    }
}

/// The inputs of one run, checked.
#[derive(Debug, PartialEq)]
struct Inputs {
    project: String,
    pipeline: PipelineId,
    body: Value,
}

fn inputs(properties: &Map<String, Value>) -> Result<Inputs, ActionError> {
    let text = |name: &str| match properties.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let (Some(project), Some(pipeline)) = (text("project"), text("pipelineId")) else {
        return Err(ActionError::InvalidInput(
            "project and pipelineId are required".to_owned(),
        ));
    };
    let pipeline = pipeline.parse::<PipelineId>().map_err(|_| {
        ActionError::InvalidInput(format!(
            "pipelineId must be the pipeline's numeric id (as in …/_build?definitionId=12), \
             got \"{pipeline}\""
        ))
    })?;
    let object = |name: &str| match properties.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) if map.is_empty() => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(other) => Err(ActionError::InvalidInput(format!(
            "{name} must be an object of names to values, got {other}"
        ))),
    };
    let mut body = Map::new();
    if let Some(branch) = text("branch") {
        let reference = if branch.starts_with("refs/") {
            branch
        } else {
            format!("refs/heads/{branch}")
        };
        body.insert(
            "resources".into(),
            json!({"repositories": {"self": {"refName": reference}}}),
        );
    }
    if let Some(parameters) = object("templateParameters")? {
        body.insert("templateParameters".into(), Value::Object(parameters));
    }
    if let Some(variables) = object("variables")? {
        // Each variable is `{"value": …}`; one already in that shape passes as is, so that
        // `{"value": …, "isSecret": true}` works (as upstream).
        let wrapped = variables
            .into_iter()
            .map(|(name, value)| match value {
                Value::Object(ref v) if v.contains_key("value") => (name, value),
                other => (name, json!({ "value": other })),
            })
            .collect();
        body.insert("variables".into(), Value::Object(wrapped));
    }
    Ok(Inputs {
        project,
        pipeline,
        body: Value::Object(body),
    })
}

impl Executor for TriggerPipeline {
    type Error = ActionError;

    fn action_types(&self) -> &'static [&'static str] {
        &[TRIGGER_PIPELINE]
    }

    async fn execute(&self, run: &ActionRun, log: &RunLog<'_>) -> Result<Started, ActionError> {
        let client = self.client()?;
        let Inputs {
            project,
            pipeline,
            body,
        } = inputs(&run.payload.integration_action_execution_properties)?;
        let found = match client.project(&ProjectId::from(project.as_str())).await {
            Ok(found) => found,
            Err(ado_client::Error::NotFound { .. }) => {
                return Err(ActionError::ProjectNotFound(project));
            }
            Err(error) => return Err(error.into()),
        };
        let Some(project_id) = found["id"].as_str() else {
            return Err(ActionError::InvalidInput(format!(
                "Azure DevOps answered for project '{project}' without its id"
            )));
        };
        log.log(&format!(
            "Triggering pipeline {pipeline} in project '{project}'"
        ))
        .await;
        let started = client
            .run_pipeline(&ProjectId::from(project_id), pipeline, &body)
            .await
            .map_err(|error| match error {
                ado_client::Error::Http { message, .. } => ActionError::Refused {
                    pipeline,
                    project: project.clone(),
                    message,
                },
                ado_client::Error::NotFound { message, .. } => ActionError::Refused {
                    pipeline,
                    project: project.clone(),
                    message: if message.is_empty() {
                        "the pipeline was not found (HTTP 404)".to_owned()
                    } else {
                        message
                    },
                },
                other => other.into(),
            })?;
        let Some(run_id) = started["id"].as_u64() else {
            return Err(ActionError::Refused {
                pipeline,
                project,
                message: "Azure DevOps answered without the run's id".to_owned(),
            });
        };
        let link = started["_links"]["web"]["href"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        log.log(&if link.is_empty() {
            "Pipeline run started".to_owned()
        } else {
            format!("Pipeline run started: {link}")
        })
        .await;
        Ok(Started {
            link,
            external_run_id: external_id(project_id, pipeline, run_id),
        })
    }

    fn rate_limited_for(&self) -> Option<std::time::Duration> {
        self.client().ok()?.rate_limited_for()
    }

    /// `GET {project}/_apis/pipelines/{pipeline}/runs/{run}`: the run's completion once its
    /// state is `completed`; a run Azure DevOps no longer has ends the Port run as failed.
    async fn completion_of(
        &self,
        external_run_id: &str,
    ) -> Result<Option<Completion>, ActionError> {
        let Some((project, pipeline, run)) = parse_external_id(external_run_id) else {
            return Ok(None);
        };
        match self
            .client()?
            .pipeline_run(&ProjectId::from(project), pipeline, run.into())
            .await
        {
            Ok(found) => Ok(completed(external_run_id, &found)),
            Err(ado_client::Error::NotFound { .. }) => Ok(Some(Completion {
                external_run_id: external_run_id.to_owned(),
                success: false,
                message: format!("Pipeline run {run} no longer exists in Azure DevOps"),
                opt_out: Some(REPORT_STATUS),
            })),
            Err(error) => Err(error.into()),
        }
    }
}

/// The parts of an external id made by [`external_id`] (a project id has no `_`).
fn parse_external_id(external: &str) -> Option<(&str, PipelineId, u64)> {
    let rest = external.strip_prefix("ado_")?;
    let mut parts = rest.rsplitn(3, '_');
    let run = parts.next()?.parse().ok()?;
    let pipeline = parts.next()?.parse().ok()?;
    Some((parts.next()?, pipeline, run))
}

/// The completion that `run` (a Pipelines API run) means, once it is `completed`.
fn completed(external_run_id: &str, run: &Value) -> Option<Completion> {
    if run["state"] != "completed" {
        return None;
    }
    let result = run["result"].as_str();
    Some(Completion {
        external_run_id: external_run_id.to_owned(),
        success: result == Some("succeeded"),
        message: result.map_or_else(
            || "Pipeline run completed without a result".to_owned(),
            |result| format!("Pipeline run {result}"),
        ),
        opt_out: Some(REPORT_STATUS),
    })
}

/// The external id of a pipeline run started by the action (upstream's `build_external_id`).
fn external_id(project: &str, pipeline: impl std::fmt::Display, run: u64) -> String {
    format!("ado_{project}_{pipeline}_{run}")
}

/// The Port run a `run-state-changed` event finishes: a completed run of a pipeline, with its
/// project, pipeline and run ids (upstream's `PipelineRunActionWebhookProcessor`).
#[must_use]
pub fn completion(payload: &Value) -> Option<Completion> {
    if payload["publisherId"] != "pipelines"
        || payload["eventType"] != "ms.vss-pipelines.run-state-changed-event"
    {
        return None;
    }
    let run = &payload["resource"]["run"];
    let project = payload["resourceContainers"]["project"]["id"].as_str()?;
    let pipeline = payload["resource"]["pipeline"]["id"].as_u64()?;
    completed(&external_id(project, pipeline, run["id"].as_u64()?), run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn inputs_shape_the_run_request_as_upstream() {
        let got = inputs(&props(json!({
            "project": "Demo", "pipelineId": "12", "branch": "main",
            "templateParameters": {"env": "prod"},
            "variables": {"plain": "x", "secret": {"value": "s", "isSecret": true}},
        })))
        .expect("valid");
        assert_eq!(got.project, "Demo");
        assert_eq!(got.pipeline, PipelineId::from(12));
        assert_eq!(
            got.body,
            json!({
                "resources": {"repositories": {"self": {"refName": "refs/heads/main"}}},
                "templateParameters": {"env": "prod"},
                "variables": {"plain": {"value": "x"}, "secret": {"value": "s", "isSecret": true}},
            })
        );
        let full_ref = inputs(&props(
            json!({"project": "P", "pipelineId": 3, "branch": "refs/tags/v1"}),
        ))
        .expect("valid");
        assert_eq!(
            full_ref.body,
            json!({"resources": {"repositories": {"self": {"refName": "refs/tags/v1"}}}})
        );
    }

    #[test]
    fn bad_inputs_name_the_input() {
        let message = |value| inputs(&props(value)).expect_err("invalid").to_string();
        assert_eq!(
            message(json!({"project": "P"})),
            "project and pipelineId are required"
        );
        assert!(
            message(json!({"project": "P", "pipelineId": "abc"})).contains("pipelineId must be")
        );
        assert!(
            message(json!({"project": "P", "pipelineId": 1, "variables": "x=1"}))
                .starts_with("variables must be an object")
        );
    }

    #[test]
    fn more_than_one_organization_refuses_the_run_as_upstream() {
        let client = |org: &str| {
            Client::new(
                &format!("https://dev.azure.com/{org}")
                    .parse()
                    .expect("a URL"),
                &secrecy::SecretString::from("pat"),
                &ado_client::ClientOptions::default(),
            )
            .expect("a client")
        };
        let two = TriggerPipeline::new(vec![client("a"), client("b")]);
        assert_eq!(
            two.client().expect_err("refused").to_string(),
            "Azure DevOps actions currently support a single organization (Single Account \
             mode); found 2 configured organizations"
        );
        assert!(TriggerPipeline::new(vec![client("a")]).client().is_ok());
    }

    #[test]
    fn external_ids_read_back() {
        let id = external_id("0000-1111-abcd", 7, 4201);
        assert_eq!(
            parse_external_id(&id),
            Some(("0000-1111-abcd", PipelineId::from(7), 4201))
        );
        assert_eq!(parse_external_id("ado_x_y"), None);
        assert_eq!(parse_external_id("gh_p_1_2"), None);
    }

    #[test]
    fn only_completed_runs_complete_a_port_run() {
        let event = |state: &str| {
            json!({"publisherId": "pipelines", "eventType": "ms.vss-pipelines.run-state-changed-event",
                "resourceContainers": {"project": {"id": "p-1"}},
                "resource": {"pipeline": {"id": 7}, "run": {"id": 99, "state": state, "result": "failed"}}})
        };
        assert_eq!(completion(&event("inProgress")), None);
        assert_eq!(
            completion(&event("completed")),
            Some(Completion {
                external_run_id: "ado_p-1_7_99".to_owned(),
                success: false,
                message: "Pipeline run failed".to_owned(),
                opt_out: Some(REPORT_STATUS),
            })
        );
    }
}
