//! Pipeline environments and their deployment records: `environment` and
//! `pipeline-deployment` resynced from sim-ado, the environments list read once for both.

use sim_ado::Sizes;

use super::{Env, PROJECT};

const MAPPING: &str = r#"
resources:
  - kind: environment
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .project.id + "/" + (.id | tostring)
          title: .name
          blueprint: '"azureDevopsEnvironment"'
          properties:
            description: .description
  - kind: pipeline-deployment
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .__project.id + "/" + (.environmentId | tostring) + "/" + (.id | tostring)
          title: .definition.name + " " + .owner.name
          blueprint: '"azureDevopsPipelineDeployment"'
          properties:
            result: .result
            environment: .environmentId
            stage: .stageName
"#;

#[tokio::test]
async fn a_resync_writes_environments_and_every_deployment_to_them() {
    // Two pipelines with two succeeded builds each: all four reach staging, every second one
    // production too.
    let sizes = Sizes {
        projects: 1,
        repositories: 1,
        work_items: 0,
        releases: 0,
        pull_requests: 0,
        pipelines: 2,
        teams: 1,
    };
    let blueprints: [(&str, &[&str]); 2] = [
        ("azureDevopsEnvironment", &["description"]),
        (
            "azureDevopsPipelineDeployment",
            &["result", "environment:number", "stage"],
        ),
    ];
    let env = Env::start(sizes, MAPPING, &blueprints).await;
    let report = env.resync().await;
    assert!(report.succeeded(), "{report:?}");

    assert_eq!(env.count("azureDevopsEnvironment"), 2);
    let staging = env
        .entity("azureDevopsEnvironment", &format!("{PROJECT}/1"))
        .unwrap();
    assert_eq!(staging["title"], "staging");

    let deployments = env.port.sim.state.entities();
    let to = |environment: u64| {
        deployments
            .iter()
            .filter(|e| {
                e["blueprint"] == "azureDevopsPipelineDeployment"
                    && e["properties"]["environment"] == environment
            })
            .count()
    };
    assert_eq!((to(1), to(2)), (4, 2));

    let requests = env.ado.state.requests();
    let count = |route: &str| requests.get(route).copied().unwrap_or_default();
    assert_eq!(
        count("GET /{org}/{project}/_apis/distributedtask/environments"),
        1,
        "{requests:?}"
    );
    assert_eq!(
        count(
            "GET /{org}/{project}/_apis/distributedtask/environments/{id}/environmentdeploymentrecords"
        ),
        2
    );
}
