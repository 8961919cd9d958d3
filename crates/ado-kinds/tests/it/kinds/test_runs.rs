//! `test-run`: resynced with results and code coverage, the test runs of a completed build
//! written on `build.complete`, and caught up by last update.

use sim_ado::Sizes;

use super::{Env, PROJECT};
use crate::harness::eventually;

const MAPPING: &str = r#"
resources:
  - kind: test-run
    selector:
      query: 'true'
      codeCoverage:
        flags: 7
    port:
      entity:
        mappings:
          identifier: .project.id + "/" + (.id | tostring)
          title: .name
          blueprint: '"azureDevopsTestRun"'
          properties:
            passed: .passedTests
            results: .__testResults | length
            failed: '[.__testResults[] | select(.outcome == "Failed")] | length'
            module: .__codeCoverage.value[0].modules[0].name
            build: .build.id
"#;

/// One project, one pipeline with runs (builds) 101–103, each with test run `build × 10 + 1`.
async fn env() -> Env {
    let sizes = Sizes {
        projects: 1,
        repositories: 1,
        work_items: 0,
        releases: 0,
        pull_requests: 0,
        pipelines: 1,
        teams: 1,
    };
    let blueprint: [(&str, &[&str]); 1] = [(
        "azureDevopsTestRun",
        &[
            "passed:number",
            "results:number",
            "failed:number",
            "module",
            "build",
        ],
    )];
    Env::start(sizes, MAPPING, &blueprint).await
}

fn test_run(env: &Env, id: u64) -> Option<serde_json::Value> {
    env.entity("azureDevopsTestRun", &format!("{PROJECT}/{id}"))
}

#[tokio::test]
async fn a_resync_writes_test_runs_with_their_results_and_coverage() {
    let env = env().await;
    let report = env.resync().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(env.count("azureDevopsTestRun"), 3);
    let run = test_run(&env, 1021).unwrap();
    assert_eq!(run["properties"]["passed"], 2);
    assert_eq!(run["properties"]["results"], 3);
    assert_eq!(run["properties"]["failed"], 1);
    assert_eq!(run["properties"]["module"], "service.dll");
    assert_eq!(run["properties"]["build"], "102");
    let requests = env.ado.state.requests();
    assert_eq!(
        requests.get("GET /{org}/{project}/_apis/test/codecoverage"),
        Some(&3),
        "{requests:?}"
    );
}

#[tokio::test]
async fn a_completed_build_brings_its_test_runs_live() {
    let env = env().await;
    assert!(env.resync().await.succeeded());
    let _live = env.serve().await;
    let id = env.ado.state.run_pipeline(0, 1).unwrap();
    assert!(env.ado.state.complete_run(id, "succeeded"));
    eventually("the build's test run is in Port", || {
        test_run(&env, id * 10 + 1).is_some_and(|e| e["properties"]["results"] == 3)
    })
    .await;
    assert_eq!(env.count("azureDevopsTestRun"), 4);
}

#[tokio::test]
async fn catch_up_writes_test_runs_updated_since() {
    let env = env().await;
    assert!(env.resync().await.succeeded());
    let since = jiff::Timestamp::now();
    let id = env.ado.state.run_pipeline(0, 1).unwrap();
    assert!(env.ado.state.complete_run(id, "failed"));
    let live = env.serve().await;
    let applied = live.catch_up(since).await.unwrap();
    assert_eq!(applied.upserted, 1, "{applied:?}");
    assert!(test_run(&env, id * 10 + 1).is_some());
}
