//! Self-service action runs that an integration executes (`/v1/actions/runs`;
//! ocean-framework.md §11 item 23): claim pending runs, acknowledge one before executing it,
//! report its link, external id, logs and status, and find it again by external id when the
//! third party says it finished.
//!
//! As in Ocean, claiming and acknowledging carry `x-port-reserved-usage: true`, and no POST or
//! PATCH here is retried after a 5xx or a lost connection: a claim that reached Port leaves the
//! runs invisible until their visibility timeout, and a repeated acknowledgement would answer
//! 409 to the only caller entitled to the run.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{
    Client, Error,
    transport::{Call, decode, decode_value},
};

/// The header Port requires on the claim and acknowledge calls.
const RESERVED_USAGE: &[(&str, &str)] = &[("x-port-reserved-usage", "true")];

/// Action-run calls; get them from [`Client::actions`].
pub struct Actions<'a> {
    pub(crate) client: &'a Client,
}

/// One action run, as Port hands it to the integration that executes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ActionRun {
    /// Port's run id.
    pub id: String,
    /// `IN_PROGRESS`, `SUCCESS` or `FAILURE`.
    pub status: String,
    /// The action the run belongs to.
    pub action: ActionRef,
    /// How the action invokes this integration.
    pub payload: Invocation,
}

impl ActionRun {
    /// Whether the run has not finished yet.
    #[must_use]
    pub fn is_in_progress(&self) -> bool {
        self.status == "IN_PROGRESS"
    }

    /// Reads one run of a claim answer, naming the JSON path that is wrong.
    pub fn decode(run: Value) -> Result<Self, Error> {
        decode_value("/v1/actions/runs/claim-pending", run)
    }
}

/// The action of a run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ActionRef {
    /// The action's identifier.
    pub identifier: String,
}

/// The invocation of an integration action (`INTEGRATION_ACTION`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    /// `INTEGRATION_ACTION`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The integration that executes it.
    pub installation_id: String,
    /// The integration's action type (`trigger_pipeline`).
    pub integration_action_type: String,
    /// The run's inputs, with Port's templates already evaluated.
    pub integration_action_execution_properties: Map<String, Value>,
}

/// Port's answer listing runs (`{"ok": true, "runs": [...]}`); `runs` is required.
#[derive(Deserialize)]
struct Runs<T> {
    runs: Vec<T>,
}

/// How an acknowledgement went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// The run is this caller's to execute.
    Acknowledged,
    /// Another worker or replica acknowledged it first (HTTP 409): it must not be executed here.
    AlreadyTaken,
}

impl Actions<'_> {
    /// Claims up to `limit` pending runs of `installation_id`, hidden from other claims for
    /// `visibility_timeout_ms`, leaving out runs of the actions in `exclude`. The runs are
    /// returned as Port sent them, to be read one by one with [`ActionRun::decode`], so that
    /// one malformed run does not hide the others. An answer without `runs` is an error.
    pub async fn claim_pending(
        &self,
        installation_id: &str,
        limit: usize,
        visibility_timeout_ms: u64,
        exclude: &[String],
    ) -> Result<Vec<Value>, Error> {
        let mut body = json!({
            "installationId": installation_id,
            "limit": limit,
            "visibilityTimeoutMs": visibility_timeout_ms,
        });
        if !exclude.is_empty() {
            body["exclude"] = json!(exclude);
        }
        let (_, bytes) = self
            .send(
                Method::POST,
                &["actions", "runs", "claim-pending"],
                Some(&body),
                RESERVED_USAGE,
                &[],
            )
            .await?;
        Ok(decode::<Runs<Value>>("/v1/actions/runs/claim-pending", &bytes)?.runs)
    }

    /// Acknowledges `run_id` before executing it.
    pub async fn ack(&self, run_id: &str) -> Result<Ack, Error> {
        let body = json!({ "runId": run_id });
        let (status, _) = self
            .send(
                Method::PATCH,
                &["actions", "runs", "ack"],
                Some(&body),
                RESERVED_USAGE,
                &[409],
            )
            .await?;
        Ok(if status == 409 {
            Ack::AlreadyTaken
        } else {
            Ack::Acknowledged
        })
    }

    /// Patches `run_id` (`{link, externalRunId}` when started, `{status}` when finished).
    pub async fn patch(&self, run_id: &str, changes: &Value) -> Result<(), Error> {
        self.send(
            Method::PATCH,
            &["actions", "runs", run_id],
            Some(changes),
            &[],
            &[],
        )
        .await
        .map(drop)
    }

    /// Adds `message` to the run's log in Port.
    pub async fn log(&self, run_id: &str, message: &str) -> Result<(), Error> {
        let body = json!({ "message": message });
        self.send(
            Method::POST,
            &["actions", "runs", run_id, "logs"],
            Some(&body),
            &[],
            &[],
        )
        .await
        .map(drop)
    }

    /// The run whose external id is `external_run_id`, if Port has one.
    pub async fn by_external_id(&self, external_run_id: &str) -> Result<Option<ActionRun>, Error> {
        let call = Call {
            method: Method::GET,
            segments: &["actions", "runs"],
            query: vec![
                ("version", "v2".to_owned()),
                ("external_run_id", external_run_id.to_owned()),
            ],
            body: None,
            idempotent: true,
            accept: &[],
            target: None,
            headers: &[],
        };
        let (_, bytes) = self.client.inner.send(&call).await?;
        Ok(decode::<Runs<ActionRun>>("/v1/actions/runs", &bytes)?
            .runs
            .into_iter()
            .next())
    }

    async fn send(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
        headers: &[(&'static str, &'static str)],
        accept: &[u16],
    ) -> Result<(u16, bytes::Bytes), Error> {
        let call = Call {
            method,
            segments,
            query: Vec::new(),
            body: body.map(|b| bytes::Bytes::from(b.to_string())),
            idempotent: false,
            accept,
            target: None,
            headers,
        };
        self.client.inner.send(&call).await
    }
}
