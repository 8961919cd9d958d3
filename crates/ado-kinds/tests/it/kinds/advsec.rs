//! `advanced-security-alert`: resynced per healthy repository with the selector's criteria
//! (repositories without Advanced Security skipped), alert events applied live (an alert
//! that leaves the criteria is deleted), and catch-up by modification time.

use sim_ado::Sizes;

use super::Env;
use crate::harness::eventually;

const MAPPING: &str = r#"
resources:
  - kind: advanced-security-alert
    selector:
      query: 'true'
      criteria:
        states: [active]
    port:
      entity:
        mappings:
          identifier: .__repositoryId + "/" + (.alertId | tostring)
          title: .title
          blueprint: '"azureDevopsAlert"'
          properties:
            state: .state
            severity: .severity
            project: .__projectId
            organization: .__organizationName
"#;

/// One project with three repositories: 0 and 1 have alerts 1–3 and 4–6 (the third of each
/// dismissed), 2 has Advanced Security off.
async fn env() -> Env {
    let sizes = Sizes {
        projects: 1,
        repositories: 3,
        work_items: 0,
        releases: 0,
        pull_requests: 0,
        pipelines: 0,
        teams: 1,
    };
    let blueprint: [(&str, &[&str]); 1] = [(
        "azureDevopsAlert",
        &["state", "severity", "project", "organization"],
    )];
    Env::start(sizes, MAPPING, &blueprint).await
}

/// The id of repository `r` of the first project.
fn repo(r: usize) -> String {
    format!("00000003-0000-4{r:03x}-8000-{r:012x}")
}

fn alert(env: &Env, r: usize, id: u64) -> Option<serde_json::Value> {
    env.entity("azureDevopsAlert", &format!("{}/{id}", repo(r)))
}

#[tokio::test]
async fn a_resync_writes_the_active_alerts_and_skips_repositories_without_advanced_security() {
    let env = env().await;
    let report = env.resync().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(
        env.count("azureDevopsAlert"),
        4,
        "two active alerts in each of two repositories"
    );
    let critical = alert(&env, 0, 2).unwrap();
    assert_eq!(critical["properties"]["severity"], "critical");
    assert_eq!(critical["properties"]["project"], super::PROJECT);
    assert_eq!(
        critical["properties"]["organization"],
        env.ado.org_url().as_str()
    );
    assert!(alert(&env, 0, 3).is_none(), "dismissed");
    let requests = env.ado.state.requests();
    assert_eq!(
        requests.get("GET /{org}/{project}/_apis/alert/repositories/{repo}/alerts"),
        Some(&3),
        "one request per repository, the 400 not retried: {requests:?}"
    );
}

#[tokio::test]
async fn alert_events_upsert_alerts_that_match_and_delete_those_that_no_longer_do() {
    let env = env().await;
    assert!(env.resync().await.succeeded());
    let _live = env.serve().await;
    assert!(env.ado.state.set_alert_state(0, 1, "fixed"));
    eventually("the fixed alert is gone from Port", || {
        alert(&env, 0, 1).is_none()
    })
    .await;
    assert!(env.ado.state.set_alert_state(0, 6, "active"));
    eventually("the reactivated alert is in Port", || {
        alert(&env, 1, 6).is_some_and(|e| e["properties"]["state"] == "active")
    })
    .await;
    assert_eq!(env.count("azureDevopsAlert"), 4);
    assert_eq!(env.ado.state.deliveries().1, 0, "no delivery failed");
}

#[tokio::test]
async fn catch_up_writes_alerts_modified_since() {
    let env = env().await;
    assert!(env.resync().await.succeeded());
    let since = jiff::Timestamp::now();
    assert!(env.ado.state.set_alert_state(0, 3, "active"));
    let live = env.serve().await;
    let applied = live.catch_up(since).await.unwrap();
    assert_eq!(applied.upserted, 1, "{applied:?}");
    assert!(alert(&env, 0, 3).is_some());
}
