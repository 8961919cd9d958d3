//! Service hooks: the subscriptions API (`_apis/hooks/subscriptions`), and delivery of events
//! to enabled subscriptions when the organization changes, in the payload shapes of
//! Microsoft's service-hook event docs (ado-api.md §5): `workitem.updated` (the update as
//! `resource`, the work item id in `resource.workItemId`, the full item in
//! `resource.revision`), `workitem.deleted` (the work item), `git.repo.created`
//! (`resource.repository`), `git.push` (the push: `commits`, `refUpdates`, `repository`,
//! `pushedBy`, `pushId`), `git.pullrequest.updated` (the pull request) and
//! `ms.vss-release.release-created-event` (`resource.release`, publisher `rm`). Deliveries
//! carry the subscription's Basic-auth credentials; a delivery is tried three times, and a
//! subscription whose delivery keeps failing is put on probation, as Azure DevOps does.

use std::{sync::Arc, time::Duration};

use axum::{
    Json,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::{state::AdoState, wire::error};

type Shared = State<Arc<AdoState>>;

/// Delivery attempts per event (Azure DevOps retries failed deliveries).
const ATTEMPTS: u32 = 3;

pub(crate) async fn list(
    State(state): Shared,
    Query(params): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let inner = state.lock();
    let value: Vec<Value> = inner
        .subscriptions
        .iter()
        .filter(|s| {
            params
                .get("publisherId")
                .is_none_or(|p| s["publisherId"] == p.as_str())
                && params
                    .get("eventType")
                    .is_none_or(|e| s["eventType"] == e.as_str())
        })
        .map(masked)
        .collect();
    Json(json!({"count": value.len(), "value": value})).into_response()
}

/// Azure DevOps never returns a subscription's password.
fn masked(subscription: &Value) -> Value {
    let mut out = subscription.clone();
    if out["consumerInputs"].get("basicAuthPassword").is_some() {
        out["consumerInputs"]["basicAuthPassword"] = json!("********");
    }
    out
}

pub(crate) async fn create(State(state): Shared, Json(mut body): Json<Value>) -> Response {
    if body["consumerInputs"]["url"].as_str().is_none() || body["eventType"].as_str().is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidSubscriptionException",
            "consumerInputs.url and eventType are required.",
        );
    }
    body["id"] = json!(uuid::Uuid::new_v4().to_string());
    body["status"] = json!("enabled");
    state.lock().subscriptions.push(body.clone());
    Json(masked(&body)).into_response()
}

pub(crate) async fn replace(
    State(state): Shared,
    Path((_, id)): Path<(String, String)>,
    Json(mut body): Json<Value>,
) -> Response {
    let mut inner = state.lock();
    let Some(existing) = inner
        .subscriptions
        .iter_mut()
        .find(|s| s["id"] == id.as_str())
    else {
        return not_found(&id);
    };
    body["id"] = json!(id);
    body["status"] = json!("enabled");
    *existing = body.clone();
    Json(masked(&body)).into_response()
}

pub(crate) async fn remove(
    State(state): Shared,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let mut inner = state.lock();
    let before = inner.subscriptions.len();
    inner.subscriptions.retain(|s| s["id"] != id.as_str());
    if before == inner.subscriptions.len() {
        return not_found(&id);
    }
    StatusCode::NO_CONTENT.into_response()
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "SubscriptionNotFoundException",
        &format!("The subscription {id} does not exist."),
    )
}

impl AdoState {
    /// Every subscription (passwords masked).
    #[must_use]
    pub fn subscriptions(&self) -> Vec<Value> {
        self.lock().subscriptions.iter().map(masked).collect()
    }

    /// Sets a subscription's status (`disabledBySystem`, `onProbation`, ...), as Azure DevOps
    /// does after failed deliveries.
    pub fn set_subscription_status(&self, id: &str, status: &str) -> bool {
        let mut inner = self.lock();
        let Some(s) = inner.subscriptions.iter_mut().find(|s| s["id"] == id) else {
            return false;
        };
        s["status"] = json!(status);
        true
    }

    /// Events delivered with a 2xx answer, and failed delivery attempts.
    #[must_use]
    pub fn deliveries(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.delivered, inner.delivery_failures)
    }

    fn containers(project: &Value) -> Value {
        json!({"collection": {"id": "c0000000-0000-4000-8000-000000000000"},
            "account": {"id": "a0000000-0000-4000-8000-000000000000"},
            "project": {"id": project}})
    }

    pub(crate) fn work_item_updated(
        &self,
        project: &Value,
        item: &Value,
        field: &str,
        old: &Value,
        new: &Value,
    ) {
        let id = item["id"].as_u64().unwrap_or_default();
        let rev = item["rev"].as_u64().unwrap_or_default();
        let resource = json!({
            "id": rev, "workItemId": id, "rev": rev,
            "fields": {field: {"oldValue": old, "newValue": new}},
            "revision": item,
            "url": format!("{}/_apis/wit/workItems/{id}/updates/{rev}", self.base),
        });
        self.notify("tfs", "workitem.updated", project, &resource);
    }

    /// `workitem.created`: the resource is the new work item itself (Microsoft's sample payload).
    pub(crate) fn work_item_created(&self, project: &Value, item: &Value) {
        self.notify("tfs", "workitem.created", project, item);
    }

    pub(crate) fn work_item_deleted(&self, project: &Value, item: &Value) {
        self.notify("tfs", "workitem.deleted", project, item);
    }

    pub(crate) fn repository_created(&self, repo: &Value) {
        let resource = json!({"repository": repo});
        self.notify("tfs", "git.repo.created", &repo["project"]["id"], &resource);
    }

    pub(crate) fn git_pushed(&self, push: &Value) {
        let project = &push["repository"]["project"]["id"];
        self.notify("tfs", "git.push", project, push);
    }

    pub(crate) fn pull_request_updated(&self, pull_request: &Value) {
        let project = &pull_request["repository"]["project"]["id"];
        self.notify("tfs", "git.pullrequest.updated", project, pull_request);
    }

    /// `workitem.commented`: the resource is the work item, its `System.History` the comment.
    pub(crate) fn work_item_commented(&self, project: &Value, item: &Value) {
        self.notify("tfs", "workitem.commented", project, item);
    }

    pub(crate) fn pull_request_created(&self, pull_request: &Value) {
        let project = &pull_request["repository"]["project"]["id"];
        self.notify("tfs", "git.pullrequest.created", project, pull_request);
    }

    pub(crate) fn release_abandoned(&self, project: &Value, release: &Value) {
        let resource = json!({"release": release, "project": {"id": project}});
        self.notify(
            "rm",
            "ms.vss-release.release-abandoned-event",
            project,
            &resource,
        );
    }

    pub(crate) fn release_created(&self, project: &Value, release: &Value) {
        let resource = json!({"release": release, "project": {"id": project}});
        self.notify(
            "rm",
            "ms.vss-release.release-created-event",
            project,
            &resource,
        );
    }

    /// Delivers an event to every enabled subscription for it, in the background.
    pub(crate) fn notify(
        &self,
        publisher: &str,
        event_type: &str,
        project: &Value,
        resource: &Value,
    ) {
        let targets: Vec<Value> = {
            let inner = self.lock();
            inner
                .subscriptions
                .iter()
                .filter(|s| {
                    s["publisherId"] == publisher
                        && s["eventType"] == event_type
                        && s["status"] == "enabled"
                        && s["publisherInputs"]["projectId"]
                            .as_str()
                            .is_none_or(|p| *project == p)
                })
                .cloned()
                .collect()
        };
        let (Some(state), Ok(runtime)) =
            (self.this.upgrade(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        for subscription in targets {
            let number = {
                let mut inner = self.lock();
                inner.notifications += 1;
                inner.notifications
            };
            let payload = json!({
                "subscriptionId": subscription["id"], "notificationId": number,
                "id": uuid::Uuid::new_v4().to_string(), "eventType": event_type, "publisherId": publisher,
                "message": {"text": format!("{event_type} in the simulator")},
                "resource": resource, "resourceVersion": "1.0",
                "resourceContainers": Self::containers(project),
                "createdDate": self.clock.now().to_string(),
            });
            runtime.spawn(deliver(Arc::clone(&state), subscription, payload));
        }
    }
}

async fn deliver(state: Arc<AdoState>, subscription: Value, payload: Value) {
    let inputs = &subscription["consumerInputs"];
    let Some(url) = inputs["url"].as_str() else {
        return;
    };
    let http = reqwest::Client::new();
    for attempt in 0..ATTEMPTS {
        let mut request = http.post(url).json(&payload);
        if let (Some(user), Some(password)) = (
            inputs["basicAuthUsername"].as_str(),
            inputs["basicAuthPassword"].as_str(),
        ) {
            request = request.basic_auth(user, Some(password));
        }
        let ok = request.send().await.is_ok_and(|r| r.status().is_success());
        {
            let mut inner = state.lock();
            if ok {
                inner.delivered += 1;
                return;
            }
            inner.delivery_failures += 1;
        }
        tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
    }
    if let Some(id) = subscription["id"].as_str() {
        state.set_subscription_status(id, "onProbation");
    }
}
