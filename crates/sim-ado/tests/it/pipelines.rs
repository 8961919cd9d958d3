//! Pipelines, runs and builds over HTTP: one stored build is both a build and a run, paging
//! and time filters behave as the service's, and control-API runs show in both views.

use serde_json::{Value, json};
use sim_ado::{SimConfig, Sizes};

use crate::PAT;

const PROJECT: &str = "00000001-0000-4000-8000-000000000000";

async fn get(url: &str) -> (Value, Option<String>) {
    let response = reqwest::Client::new()
        .get(url)
        .basic_auth("", Some(PAT))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    let token = response
        .headers()
        .get("x-ms-continuationtoken")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.json().await.unwrap(), token)
}

fn ids(list: &Value) -> Vec<u64> {
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_u64().unwrap())
        .collect()
}

async fn sim() -> sim_ado::RunningSim {
    sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 1,
            repositories: 2,
            work_items: 0,
            releases: 0,
            pull_requests: 0,
            pipelines: 2,
            teams: 1,
        },
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn runs_are_the_builds_of_their_pipeline_newest_first() {
    let sim = sim().await;
    let org = sim.org_url();
    let (pipelines, _) = get(&format!("{org}/{PROJECT}/_apis/pipelines")).await;
    assert_eq!(ids(&pipelines), [1, 2]);
    assert!(
        pipelines["value"][0].get("configuration").is_none(),
        "the list omits configuration"
    );
    let (one, _) = get(&format!("{org}/{PROJECT}/_apis/pipelines/2")).await;
    assert_eq!(one["configuration"]["type"], "yaml");

    let (runs, _) = get(&format!("{org}/{PROJECT}/_apis/pipelines/2/runs")).await;
    assert_eq!(ids(&runs), [203, 202, 201]);
    let (builds, _) = get(&format!(
        "{org}/{PROJECT}/_apis/build/builds?definitions=2&queryOrder=queueTimeDescending"
    ))
    .await;
    assert_eq!(ids(&builds), ids(&runs), "one object, two views");
    let run = &runs["value"][0];
    assert_eq!(run["pipeline"]["id"], 2);
    assert_eq!(run["state"], "completed");
    assert_eq!(run["result"], "succeeded");
    assert_eq!(run["createdDate"], builds["value"][0]["queueTime"]);
    let (single, _) = get(&format!("{org}/{PROJECT}/_apis/pipelines/2/runs/202")).await;
    assert_eq!(single["result"], "failed");
}

#[tokio::test]
async fn builds_page_by_continuation_and_filter_by_the_ordered_time() {
    let sim = sim().await;
    let org = sim.org_url();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let after = token.map(|t| format!("&continuationToken={t}"));
        let url = format!(
            "{org}/{PROJECT}/_apis/build/builds?$top=4{}",
            after.unwrap_or_default()
        );
        let (page, next) = get(&url).await;
        seen.extend(ids(&page));
        token = next;
        if token.is_none() {
            break;
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, [101, 102, 103, 201, 202, 203], "each build once");

    // Seeded runs were queued 3, 27 and 51 hours ago and finished 11 minutes later.
    let since = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(30);
    let (recent, _) = get(&format!(
        "{org}/{PROJECT}/_apis/build/builds?queryOrder=finishTimeDescending&minTime={since}"
    ))
    .await;
    let mut recent = ids(&recent);
    recent.sort_unstable();
    assert_eq!(recent, [102, 103, 202, 203]);
}

#[tokio::test]
async fn a_run_queued_and_completed_through_control_shows_in_both_views() {
    let sim = sim().await;
    let org = sim.org_url();
    let http = reqwest::Client::new();
    let control = format!("http://{}/_control", sim.addr);
    let queued: Value = http
        .post(format!("{control}/projects/0/pipelines/1/runs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = queued["id"].as_u64().unwrap();
    assert_eq!(id, 104);
    let (run, _) = get(&format!("{org}/{PROJECT}/_apis/pipelines/1/runs/{id}")).await;
    assert_eq!(run["state"], "inProgress");
    assert!(run.get("result").is_none());

    let completed = http
        .patch(format!("{control}/runs/{id}"))
        .json(&json!({"result": "failed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(completed.status(), reqwest::StatusCode::NO_CONTENT);
    let (build, _) = get(&format!("{org}/{PROJECT}/_apis/build/builds/{id}")).await;
    assert_eq!(
        (&build["status"], &build["result"]),
        (&json!("completed"), &json!("failed"))
    );
    let (run, _) = get(&format!("{org}/{PROJECT}/_apis/pipelines/1/runs/{id}")).await;
    assert_eq!(
        (&run["state"], &run["result"]),
        (&json!("completed"), &json!("failed"))
    );

    let unknown = http
        .get(format!("{org}/{PROJECT}/_apis/pipelines/1/runs/999"))
        .basic_auth("", Some(PAT))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), reqwest::StatusCode::NOT_FOUND);
}
