//! The pipelines area: `pipeline`, `pipeline-run` and `build` resynced from sim-ado into
//! sim-port, run events applied live, and catch-up of runs whose events never arrived.

use serde_json::json;

use sim_ado::Sizes;

use super::{Env, PROJECT};
use crate::harness::eventually;

async fn env(projects: usize) -> Env {
    let sizes = Sizes {
        projects,
        repositories: 2,
        work_items: 0,
        releases: 0,
        pull_requests: 0,
        pipelines: 2,
        teams: 1,
    };
    let blueprints: [(&str, &[&str]); 4] = [
        (
            "azureDevopsPipelineStage",
            &[
                "state",
                "result",
                "build",
                "project",
                "buildProjectId",
                "buildProject",
            ],
        ),
        (
            "azureDevopsPipeline",
            &["revision", "repository", "repositoryProject"],
        ),
        (
            "azureDevopsPipelineRun",
            &["state", "result", "pipeline", "organization"],
        ),
        ("azureDevopsBuild", &["status", "result", "project"]),
    ];
    Env::start(sizes, MAPPING, &blueprints).await
}

/// A mapping of the three kinds, in the style of Port's Azure DevOps examples.
const MAPPING: &str = r#"
resources:
  - kind: pipeline
    selector:
      query: 'true'
      includeRepo: true
    port:
      entity:
        mappings:
          identifier: .__projectId + "/" + (.id | tostring)
          title: .name
          blueprint: '"azureDevopsPipeline"'
          properties:
            revision: .revision
            repository: .__repository.name
            repositoryProject: .__repository.project.name
  - kind: pipeline-run
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .__project.id + "/" + (.id | tostring)
          title: .name
          blueprint: '"azureDevopsPipelineRun"'
          properties:
            state: .state
            result: .result
            pipeline: .__pipeline.name
            organization: .__organizationName
  - kind: pipeline-stage
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: (.__build.id | tostring) + "/" + .identifier
          title: .name
          blueprint: '"azureDevopsPipelineStage"'
          properties:
            state: .state
            result: .result
            build: .__build.buildNumber
            project: .__project.name
            buildProjectId: .__build.__projectId
            buildProject: .__build.__project.name
  - kind: build
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .__projectId + "/" + (.id | tostring)
          title: .buildNumber
          blueprint: '"azureDevopsBuild"'
          properties:
            status: .status
            result: .result
            project: .__project.name
"#;

#[tokio::test]
async fn a_resync_writes_pipelines_runs_and_builds_listing_pipelines_once_per_project() {
    let env = env(2).await;
    let report = env.resync().await;
    assert!(report.succeeded(), "{report:?}");
    // 2 projects × 2 pipelines × 3 runs; every run is also a build.
    assert_eq!(env.count("azureDevopsPipeline"), 4);
    assert_eq!(env.count("azureDevopsPipelineRun"), 12);
    assert_eq!(env.count("azureDevopsBuild"), 12);
    assert_eq!(
        env.count("azureDevopsPipelineStage"),
        24,
        "two stages per build"
    );
    let stage = env
        .entity("azureDevopsPipelineStage", "202/Deploy")
        .unwrap();
    assert_eq!(
        (
            &stage["properties"]["result"],
            &stage["properties"]["build"]
        ),
        (&json!("failed"), &json!("2026.202"))
    );
    // `__build` is the build as the `build` kind gives it, with its project (upstream).
    assert_eq!(
        (
            &stage["properties"]["buildProjectId"],
            &stage["properties"]["buildProject"]
        ),
        (&json!(PROJECT), &json!("Project 0"))
    );

    let pipeline = env
        .entity("azureDevopsPipeline", &format!("{PROJECT}/2"))
        .unwrap();
    assert_eq!(pipeline["title"], "pipeline-0-1");
    assert_eq!(pipeline["properties"]["repository"], "repo-0-1");
    assert_eq!(pipeline["properties"]["repositoryProject"], "Project 0");
    let run = env
        .entity("azureDevopsPipelineRun", &format!("{PROJECT}/202"))
        .unwrap();
    assert_eq!(
        (
            &run["properties"]["state"],
            &run["properties"]["result"],
            &run["properties"]["pipeline"],
            &run["properties"]["organization"]
        ),
        (
            &json!("completed"),
            &json!("failed"),
            &json!("pipeline-0-1"),
            &json!(env.ado.org_url())
        )
    );
    let build = env
        .entity("azureDevopsBuild", &format!("{PROJECT}/202"))
        .unwrap();
    assert_eq!(build["properties"]["project"], "Project 0");

    // `pipeline` and `pipeline-run` share one listing of each project's pipelines.
    let requests = env.ado.state.requests();
    assert_eq!(
        requests.get("GET /{org}/{project}/_apis/pipelines"),
        Some(&2),
        "{requests:?}"
    );
    assert_eq!(
        requests.get("GET /{org}/{project}/_apis/build/definitions/{id}"),
        Some(&4),
        "includeRepo reads each definition once"
    );
}

#[tokio::test]
async fn a_run_reaches_port_when_queued_and_again_when_it_completes() {
    let env = env(1).await;
    assert!(env.resync().await.succeeded());
    let _live = env.serve().await;

    let id = env.ado.state.run_pipeline(0, 1).unwrap();
    let key = format!("{PROJECT}/{id}");
    eventually("the queued run is in Port", || {
        env.entity("azureDevopsPipelineRun", &key)
            .is_some_and(|e| e["properties"]["state"] == "inProgress")
    })
    .await;
    eventually("the running build is in Port", || {
        env.entity("azureDevopsBuild", &key)
            .is_some_and(|e| e["properties"]["status"] == "inProgress")
    })
    .await;

    let stage = |name: &str| env.entity("azureDevopsPipelineStage", &format!("{id}/{name}"));
    eventually("the running stage is in Port", || {
        stage("Build").is_some_and(|e| e["properties"]["state"] == "inProgress")
    })
    .await;
    let deploy = stage("Deploy").unwrap();
    assert_eq!(deploy["properties"]["state"], "pending");
    // A live stage's `__build` has the shape a resync gives it: the build with its project.
    assert_eq!(
        (
            &deploy["properties"]["buildProjectId"],
            &deploy["properties"]["buildProject"]
        ),
        (&json!(PROJECT), &json!("Project 0"))
    );

    assert!(env.ado.state.complete_run(id, "succeeded"));
    eventually("both stages completed in Port", || {
        ["Build", "Deploy"]
            .iter()
            .all(|name| stage(name).is_some_and(|e| e["properties"]["result"] == "succeeded"))
    })
    .await;
    eventually("the completed run is in Port", || {
        env.entity("azureDevopsPipelineRun", &key).is_some_and(|e| {
            e["properties"]["state"] == "completed" && e["properties"]["result"] == "succeeded"
        })
    })
    .await;
    eventually("the completed build is in Port", || {
        env.entity("azureDevopsBuild", &key)
            .is_some_and(|e| e["properties"]["result"] == "succeeded")
    })
    .await;
    // The live pipeline entity has the shape a resync gives it (with `__repository`).
    let pipeline = env
        .entity("azureDevopsPipeline", &format!("{PROJECT}/1"))
        .unwrap();
    assert_eq!(pipeline["properties"]["repository"], "repo-0-0");
    assert_eq!(env.ado.state.deliveries().1, 0, "no delivery failed");
    // Both events were subscribed to and delivered (start, completion, build.complete).
    assert!(env.ado.state.deliveries().0 >= 3);
}

#[tokio::test]
async fn catch_up_writes_the_runs_and_builds_whose_events_never_arrived() {
    let env = env(1).await;
    assert!(env.resync().await.succeeded());
    let since = jiff::Timestamp::now();
    // No subscriptions yet: these events reach no one.
    let queued = env.ado.state.run_pipeline(0, 2).unwrap();
    let finished = env.ado.state.run_pipeline(0, 1).unwrap();
    assert!(env.ado.state.complete_run(finished, "canceled"));
    assert_eq!(env.ado.state.deliveries(), (0, 0));
    let before = env.port.sim.state.entities().len();

    let live = env.serve().await;
    let applied = live.catch_up(since).await.unwrap();
    assert_eq!(
        env.entity("azureDevopsPipelineRun", &format!("{PROJECT}/{queued}"))
            .unwrap()["properties"]["state"],
        "inProgress"
    );
    assert_eq!(
        env.entity("azureDevopsBuild", &format!("{PROJECT}/{finished}"))
            .unwrap()["properties"]["result"],
        "canceled"
    );
    // Exactly the two runs, their builds and their two stages each: nothing older.
    assert_eq!(applied.upserted, 8, "{applied:?}");
    assert_eq!(env.port.sim.state.entities().len(), before + 8);
    assert_eq!(
        env.entity("azureDevopsPipelineStage", &format!("{finished}/Deploy"))
            .unwrap()["properties"]["result"],
        "canceled"
    );
}

#[tokio::test]
async fn enriched_builds_carry_their_earliest_commit_or_else_their_source_commit() {
    const ENRICHED: &str = r#"
resources:
  - kind: build
    selector:
      query: 'true'
      enrichWithFirstCommit: true
    port:
      entity:
        mappings:
          identifier: .__projectId + "/" + (.id | tostring)
          title: .buildNumber
          blueprint: '"azureDevopsBuild"'
          properties:
            sha: .__firstCommit.__sha
            commits: .__firstCommit.__commitCount
"#;
    let sizes = Sizes {
        projects: 1,
        repositories: 1,
        work_items: 0,
        releases: 0,
        pull_requests: 0,
        pipelines: 1,
        teams: 1,
    };
    let blueprints: [(&str, &[&str]); 1] = [("azureDevopsBuild", &["sha", "commits:number"])];
    let env = Env::start(sizes, ENRICHED, &blueprints).await;
    assert!(env.resync().await.succeeded());
    // Build 102 brought two commits, an hour apart before it was queued: the earlier one.
    let second = env
        .entity("azureDevopsBuild", &format!("{PROJECT}/102"))
        .unwrap();
    assert_eq!(second["properties"]["sha"], format!("{:040x}", 102_001));
    assert_eq!(second["properties"]["commits"], 2);
    // Build 101, the first run, brought none: its source commit.
    let first = env
        .entity("azureDevopsBuild", &format!("{PROJECT}/101"))
        .unwrap();
    assert_eq!(first["properties"]["sha"], format!("{:040x}", 101));
    assert_eq!(first["properties"]["commits"], 1);
}
