//! The release area beyond `release`: `release-definition` and `release-deployment` resynced,
//! release and deployment events applied live (each deployment to the release it belongs to),
//! and catch-up of deployments by modification time.

use serde_json::json;
use sim_ado::Sizes;

use super::{Env, PROJECT};
use crate::harness::eventually;

const MAPPING: &str = r#"
resources:
  - kind: release-definition
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .__project.id + "/" + (.id | tostring)
          title: .name
          blueprint: '"azureDevopsReleaseDefinition"'
          properties:
            environments: (.environments // []) | length
            revision: .revision
  - kind: release-deployment
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .projectReference.id + "/" + (.id | tostring)
          title: .releaseEnvironment.name
          blueprint: '"azureDevopsReleaseDeployment"'
          properties:
            status: .deploymentStatus
            release: .release.id
            environment: .definitionEnvironmentId
"#;

/// One project with releases 1..=5, of which 2, 3 and 5 are active; deployments 211 (release
/// 2 to Staging), 311 and 321 (release 3 to both), 511.
async fn env() -> Env {
    let sizes = Sizes {
        projects: 1,
        repositories: 1,
        work_items: 0,
        releases: 5,
        pull_requests: 0,
        pipelines: 0,
        teams: 1,
    };
    let blueprints: [(&str, &[&str]); 2] = [
        (
            "azureDevopsReleaseDefinition",
            &["environments:number", "revision:number"],
        ),
        (
            "azureDevopsReleaseDeployment",
            &["status", "release:number", "environment:number"],
        ),
    ];
    Env::start(sizes, MAPPING, &blueprints).await
}

fn deployment(env: &Env, id: u64) -> Option<serde_json::Value> {
    env.entity("azureDevopsReleaseDeployment", &format!("{PROJECT}/{id}"))
}

#[tokio::test]
async fn a_resync_writes_definitions_with_their_environments_and_every_deployment() {
    let env = env().await;
    let report = env.resync().await;
    assert!(report.succeeded(), "{report:?}");
    let definition = env
        .entity("azureDevopsReleaseDefinition", &format!("{PROJECT}/1"))
        .unwrap();
    assert_eq!(
        definition["properties"]["environments"], 2,
        "expand defaults to environments"
    );
    assert_eq!(env.count("azureDevopsReleaseDeployment"), 4);
    let production = deployment(&env, 321).unwrap();
    assert_eq!(production["title"], "Production");
    assert_eq!(production["properties"]["status"], "succeeded");
}

#[tokio::test]
async fn deployment_events_update_the_deployment_of_their_own_release() {
    let env = env().await;
    assert!(env.resync().await.succeeded());
    let _live = env.serve().await;

    let first = env.ado.state.deploy(0, 2, 1).unwrap();
    eventually("the started deployment is in Port", || {
        deployment(&env, first).is_some_and(|e| e["properties"]["status"] == "inProgress")
    })
    .await;
    // A later deployment of another release to the same environment: completing the first
    // one must still update the first one (upstream reads the environment's latest).
    let second = env.ado.state.deploy(0, 3, 1).unwrap();
    eventually("the second deployment is in Port", || {
        deployment(&env, second).is_some()
    })
    .await;
    assert!(env.ado.state.complete_deployment(first, "failed"));
    eventually("the first deployment failed in Port", || {
        deployment(&env, first).is_some_and(|e| e["properties"]["status"] == "failed")
    })
    .await;
    assert_eq!(
        deployment(&env, second).unwrap()["properties"]["status"],
        "inProgress"
    );
    assert_eq!(env.ado.state.deliveries().1, 0, "no delivery failed");
}

#[tokio::test]
async fn a_new_release_brings_its_definition_as_the_mapping_lists_it() {
    let env = env().await;
    let _live = env.serve().await;
    assert_eq!(env.count("azureDevopsReleaseDefinition"), 0);
    env.ado.state.add_release(0).unwrap();
    eventually("the definition is in Port", || {
        env.entity("azureDevopsReleaseDefinition", &format!("{PROJECT}/1"))
            .is_some_and(|e| e["properties"]["environments"] == json!(2))
    })
    .await;
}

#[tokio::test]
async fn catch_up_writes_deployments_modified_since_and_nothing_older() {
    let env = env().await;
    assert!(env.resync().await.succeeded());
    let since = jiff::Timestamp::now();
    // No subscription yet: the event reaches no one.
    let missed = env.ado.state.deploy(0, 5, 2).unwrap();
    assert_eq!(env.ado.state.deliveries(), (0, 0));
    let live = env.serve().await;
    let applied = live.catch_up(since).await.unwrap();
    assert_eq!(applied.upserted, 1, "{applied:?}");
    assert_eq!(
        deployment(&env, missed).unwrap()["properties"]["environment"],
        2
    );
}
