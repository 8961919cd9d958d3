//! A fixed epoch (`SimConfig::epoch`): two simulators with the same epoch that receive the same
//! requests answer the same bytes, whatever the day the test runs; another epoch, other dates.

use serde_json::{Value, json};
use sim_ado::{RunningSim, SimConfig, Sizes};

use crate::PAT;

const PROJECT: &str = "00000001-0000-4000-8000-000000000000";

async fn sim(epoch: &str) -> RunningSim {
    sim_ado::spawn(SimConfig {
        sizes: Sizes {
            projects: 2,
            repositories: 2,
            work_items: 40,
            releases: 3,
            pull_requests: 1,
            pipelines: 1,
            teams: 1,
        },
        epoch: Some(epoch.parse().unwrap()),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// The body of a `GET`, with the simulator's address (which differs between simulators) taken
/// out.
async fn get(sim: &RunningSim, path: &str) -> String {
    let response = reqwest::Client::new()
        .get(format!("{}/{path}", sim.org_url()))
        .basic_auth("", Some(PAT))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response
        .text()
        .await
        .unwrap()
        .replace(&sim.addr.to_string(), "HOST")
}

/// The project list, a work item batch and the release list of project 0.
async fn answers(sim: &RunningSim) -> [String; 3] {
    let ids: Vec<String> = (1..=40).map(|id| id.to_string()).collect();
    [
        get(sim, "_apis/projects").await,
        get(
            sim,
            &format!("{PROJECT}/_apis/wit/workitems?ids={}", ids.join(",")),
        )
        .await,
        get(sim, &format!("{PROJECT}/_apis/release/releases")).await,
    ]
}

/// Changes a work item through the control API and adds a release: two clock readings.
async fn mutate(sim: &RunningSim) {
    let status = reqwest::Client::new()
        .patch(format!("http://{}/_control/workitems/1", sim.addr))
        .json(&json!({"fields": {"System.State": "Closed"}}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    assert_eq!(sim.state.add_release(0), Some(4));
}

/// Field `name` of work item `id` in a batch answer.
fn field(batch: &str, id: u64, name: &str) -> Value {
    let batch: Value = serde_json::from_str(batch).unwrap();
    let item = batch["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == id)
        .unwrap();
    item["fields"][name].clone()
}

#[tokio::test]
async fn the_same_epoch_answers_the_same_bytes_and_another_epoch_other_dates() {
    let (a, b) = (
        sim("2026-01-01T00:00:00Z").await,
        sim("2026-01-01T00:00:00Z").await,
    );
    let other = sim("2025-06-15T12:00:00Z").await;

    let seeded = answers(&a).await;
    assert_eq!(seeded, answers(&b).await);
    // Seeded as of the epoch: work item 1 changed an hour before it.
    assert_eq!(
        field(&seeded[1], 1, "System.ChangedDate"),
        "2025-12-31T23:00:00.000Z"
    );
    let elsewhere = answers(&other).await;
    assert_eq!(
        seeded[0], elsewhere[0],
        "the project list has no seeded dates"
    );
    assert_ne!(seeded[1], elsewhere[1]);
    assert_ne!(seeded[2], elsewhere[2]);

    for sim in [&a, &b, &other] {
        mutate(sim).await;
    }
    let changed = answers(&a).await;
    assert_eq!(changed, answers(&b).await);
    assert_ne!(changed, seeded);
    // Later timestamps are a second apart after the epoch, in the order things happened.
    assert_eq!(
        field(&changed[1], 1, "System.ChangedDate"),
        "2026-01-01T00:00:01.000Z"
    );
    let releases: Value = serde_json::from_str(&changed[2]).unwrap();
    assert_eq!(
        releases["value"][3]["createdOn"],
        "2026-01-01T00:00:02.000Z"
    );
    let elsewhere = answers(&other).await;
    assert_ne!(changed[1], elsewhere[1]);
    assert_ne!(changed[2], elsewhere[2]);
}

#[tokio::test]
async fn wiql_today_and_as_of_follow_the_epoch() {
    let sim = sim("2026-01-01T00:00:00Z").await;
    let response: Value = reqwest::Client::new()
        .post(format!("{}/{PROJECT}/_apis/wit/wiql", sim.org_url()))
        .basic_auth("", Some(PAT))
        .json(&json!({"query": "SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] >= @today - 7 ORDER BY [System.Id]"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["asOf"], "2026-01-01T00:00:00Z");
    let ids: Vec<u64> = response["workItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_u64().unwrap())
        .collect();
    // Work item `w` changed `w % 28` days and an hour before the epoch, on 2025-12-31 minus
    // `w % 28` days; `@today - 7` is 2025-12-25.
    let expected: Vec<u64> = (0..40u64).filter(|w| w % 28 <= 6).map(|w| 1 + w).collect();
    assert_eq!(ids, expected);
}
