//! The control API over HTTP: what `sim-ado` run as its own process offers to tests and demos.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use reqwest::StatusCode;
use serde_json::{Value, json};
use sim_ado::{SimConfig, Sizes};

const PAT: &str = "sim-pat";

/// Sends a request to the simulator, which must answer.
trait Call {
    async fn response(self) -> reqwest::Response;
    async fn json_body(self) -> Value;
}

impl Call for reqwest::RequestBuilder {
    async fn response(self) -> reqwest::Response {
        self.send().await.unwrap()
    }

    async fn json_body(self) -> Value {
        self.response().await.json().await.unwrap()
    }
}

async fn names(http: &reqwest::Client, org: &str, project: &str) -> Vec<String> {
    let body: Value = http
        .get(format!("{org}/{project}/_apis/git/repositories"))
        .basic_auth("", Some(PAT))
        .json_body()
        .await;
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn data_changes_through_the_control_api_show_in_the_rest_api() {
    let sim = sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 2,
            repositories: 2,
            work_items: 3,
            releases: 0,
            pull_requests: 1,
            pipelines: 0,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (http, org) = (reqwest::Client::new(), sim.org_url());
    let control = format!("http://{}/_control", sim.addr);
    let project = "00000001-0000-4000-8000-000000000000";

    let added: Value = http
        .post(format!("{control}/projects/0/repositories"))
        .json(&json!({"name": "added"}))
        .json_body()
        .await;
    assert!(added["id"].is_string());
    let renamed = http
        .patch(format!("{control}/projects/0/repositories/repo-0-0"))
        .json(&json!({"name": "renamed"}))
        .response()
        .await;
    assert_eq!(renamed.status(), StatusCode::NO_CONTENT);
    let deleted = http
        .delete(format!("{control}/projects/0/repositories/repo-0-1"))
        .response()
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(names(&http, &org, project).await, ["renamed", "added"]);
    let missing = http
        .delete(format!("{control}/projects/0/repositories/nope"))
        .response()
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let id = sim.state.work_item_ids(0)[0];
    let changed = http
        .patch(format!("{control}/workitems/{id}"))
        .json(&json!({"fields": {"System.Title": "Changed"}}))
        .response()
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    let item: Value = http
        .get(format!("{org}/{project}/_apis/wit/workitems?ids={id}"))
        .basic_auth("", Some(PAT))
        .json_body()
        .await;
    assert_eq!(item["value"][0]["fields"]["System.Title"], "Changed");

    let new_project: Value = http.post(format!("{control}/projects")).json_body().await;
    let new_id = new_project["id"].as_str().unwrap();
    assert_eq!(names(&http, &org, new_id).await.len(), 2);
    let gone = http
        .delete(format!("{control}/projects/{project}"))
        .response()
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let projects: Value = http
        .get(format!("{org}/_apis/projects"))
        .basic_auth("", Some(PAT))
        .json_body()
        .await;
    assert_eq!(projects["count"], 2, "one deleted, one added");

    http.post(format!("{control}/faults"))
        .json(&json!({"route": "/_apis/projects", "status": 503, "count": 1}))
        .response()
        .await;
    let faulted = http
        .get(format!("{org}/_apis/projects"))
        .basic_auth("", Some(PAT))
        .response()
        .await;
    assert_eq!(faulted.status(), StatusCode::SERVICE_UNAVAILABLE);
    let counts: Value = http.get(format!("{control}/requests")).json_body().await;
    assert_eq!(counts["requests"]["GET /{org}/_apis/projects"], 2);
}
