//! `POST {project}/_apis/pipelines/{id}/runs` (Runs - Run Pipeline, `pipelines` spec 7.1): starts
//! a run on the requested branch and keeps the request (template parameters and variables) for
//! tests. Checked as Azure DevOps does: variables are `{name: {"value": …, "isSecret"?}}`,
//! template parameters an object, and the branch a full ref.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use crate::{
    model::StartedRun,
    state::AdoState,
    wire::{error, not_found},
};

impl AdoState {
    /// Every run started through `POST …/pipelines/{id}/runs`, in order.
    #[must_use]
    pub fn started_runs(&self) -> Vec<StartedRun> {
        self.lock().started_runs.clone()
    }
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "InvalidRequestException", message)
}

/// What is wrong with a Run Pipeline body, if anything.
fn check(body: &Value) -> Result<Option<&str>, String> {
    if !body.is_object() {
        return Err("The request body must be a RunPipelineParameters object.".to_owned());
    }
    let reference = &body["resources"]["repositories"]["self"]["refName"];
    let branch = match reference {
        Value::Null => None,
        Value::String(r) if r.starts_with("refs/") => Some(r.as_str()),
        other => {
            return Err(format!(
                "Invalid refName {other}: expected a full ref such as refs/heads/main."
            ));
        }
    };
    if !matches!(body["templateParameters"], Value::Null | Value::Object(_)) {
        return Err("templateParameters must be an object.".to_owned());
    }
    match &body["variables"] {
        Value::Null => {}
        Value::Object(variables) => {
            if let Some((name, _)) = variables.iter().find(|(_, v)| v.get("value").is_none()) {
                return Err(format!("Variable '{name}' must be an object with a value."));
            }
        }
        _ => return Err("variables must be an object.".to_owned()),
    }
    Ok(branch)
}

pub(crate) async fn start(
    State(state): State<Arc<AdoState>>,
    Path((_, key, id)): Path<(String, String, u64)>,
    Json(body): Json<Value>,
) -> Response {
    let branch = match check(&body) {
        Ok(branch) => branch,
        Err(message) => return bad_request(&message),
    };
    let found = {
        let inner = state.lock();
        inner
            .projects
            .iter()
            .position(|p| crate::model::find(std::slice::from_ref(p), &key).is_some())
            .map(|index| {
                let p = &inner.projects[index];
                let known = p.pipelines.iter().any(|x| x["id"] == id);
                (
                    index,
                    p.project["id"].as_str().unwrap_or_default().to_owned(),
                    known,
                )
            })
    };
    let Some((index, project, known)) = found else {
        return not_found(&format!("The project {key}"));
    };
    if !known {
        return error(
            StatusCode::NOT_FOUND,
            "PipelineNotFoundException",
            &format!("Pipeline with id {id} not found."),
        );
    }
    let Some(run) = state.queue_run(index, id, branch) else {
        return bad_request("The run could not be queued.");
    };
    state.lock().started_runs.push(StartedRun {
        project,
        pipeline: id,
        run: run["id"].as_u64().unwrap_or_default(),
        request: body,
    });
    Json(run).into_response()
}

impl AdoState {
    /// The name of project number `project` and the ids of its pipelines.
    #[must_use]
    pub fn pipelines_of(&self, project: usize) -> Option<(String, Vec<u64>)> {
        let inner = self.lock();
        let p = inner.projects.get(project)?;
        let name = p.project["name"].as_str()?.to_owned();
        Some((
            name,
            p.pipelines
                .iter()
                .filter_map(|x| x["id"].as_u64())
                .collect(),
        ))
    }
}
