//! The pipelines publisher's events for a run that changed (`ms.vss-pipelines.*`): run, stage
//! and job state changes, in the shape of Microsoft's sample payloads (ado-api.md §5).

use serde_json::{Value, json};

use crate::{
    pipelines::{listed, timeline_records},
    state::AdoState,
};

impl AdoState {
    /// `ms.vss-pipelines.job-state-changed-event` and `stage-state-changed-event` for each job
    /// and stage of `build` that is not pending (a job's event names its stage too).
    pub(crate) fn stages_changed(
        &self,
        project: &Value,
        build: &Value,
        run: &Value,
        pipeline: &Value,
    ) {
        let records = timeline_records(build);
        for job in records
            .iter()
            .filter(|r| r["type"] == "Job" && r["state"] != "pending")
        {
            let Some(stage) = records.iter().find(|r| r["id"] == job["parentId"]) else {
                continue;
            };
            let resource = json!({
                "job": {"id": job["id"], "name": job["name"], "state": job["state"], "result": job["result"]},
                "stage": stage_reference(stage),
                "run": run, "pipeline": listed(pipeline), "runId": run["id"], "runUrl": run["url"],
            });
            self.notify(
                "pipelines",
                "ms.vss-pipelines.job-state-changed-event",
                project,
                &resource,
            );
        }
        for stage in records
            .iter()
            .filter(|r| r["type"] == "Stage" && r["state"] != "pending")
        {
            let resource = json!({
                "stage": stage_reference(stage),
                "run": run, "pipeline": listed(pipeline), "stageName": stage["name"],
                "runId": run["id"], "runUrl": run["url"],
            });
            self.notify(
                "pipelines",
                "ms.vss-pipelines.stage-state-changed-event",
                project,
                &resource,
            );
        }
    }

    pub(crate) fn run_state_changed(&self, project: &Value, run: &Value, pipeline: &Value) {
        let resource = json!({
            "run": run, "pipeline": listed(pipeline), "runId": run["id"], "runUrl": run["url"],
            "repositories": [{"type": "Git", "change": {"version": run["resources"]["repositories"]["self"]["version"]}}],
        });
        self.notify(
            "pipelines",
            "ms.vss-pipelines.run-state-changed-event",
            project,
            &resource,
        );
    }
}

/// A stage as the pipelines publisher's events name it.
fn stage_reference(stage: &Value) -> Value {
    json!({"id": stage["id"], "name": stage["identifier"], "displayName": stage["name"],
        "state": stage["state"], "result": stage["result"]})
}
