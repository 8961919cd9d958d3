//! Raw-data examples (`sendRawDataExamples`): the first raw items of each resource reach Port's
//! mapping editor, masked, once per resource; never in a dry run.

use serde_json::json;

use super::{Harness, MAPPING, projects, repos};

const EXAMPLES: &str = "POST /v1/integration/{id}/kinds/{kind}/examples";

async fn harness() -> Harness {
    let h = Harness::new(MAPPING).await;
    h.resync
        .port
        .integration()
        .create(&json!({"installationId": "it", "installationAppType": "azure-devops"}))
        .await
        .unwrap();
    h.resync.settings.redaction.add(["s3cr3t-value".to_owned()]);
    h
}

#[tokio::test]
async fn the_first_five_items_that_produced_an_entity_are_posted_once_per_resource_masked() {
    let h = harness().await;
    let mut first = projects(&["p1", "p2", "p3"]);
    first[1]["description"] =
        json!("deploy with s3cr3t-value via https://ci:hunter22@nexus.example.com/r");
    h.script.set(
        "project",
        vec![Some(first), Some(projects(&["p4", "p5", "p6", "p7"]))],
    );
    // The selector drops `skip-me`: only items that produced an entity are examples.
    h.script.set(
        "repository",
        vec![
            Some(repos(&["skip-me", "r1"], "p1")),
            Some(repos(&["r2"], "p2")),
        ],
    );
    h.script.set("work-item", vec![Some(Vec::new())]);
    let report = h.run().await;
    assert!(report.succeeded(), "{report}");

    let state = &h.env.sim.state;
    let posted = state.examples("it", "project").expect("project examples");
    let ids: Vec<_> = posted.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["p1", "p2", "p3", "p4", "p5"]);
    assert_eq!(
        posted[1]["description"],
        "deploy with [REDACTED] via https://ci:[REDACTED]@nexus.example.com/r"
    );
    assert_eq!(
        posted[0],
        projects(&["p1"])[0],
        "examples are the raw items"
    );

    let repositories = state
        .examples("it", "repository")
        .expect("repository examples");
    let names: Vec<_> = repositories
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["r1", "r2"]);
    // A resource without items posts nothing; each other resource posts once.
    assert_eq!(state.examples("it", "work-item"), None);
    assert_eq!(state.stats().requests_to(EXAMPLES), 2);
}

#[tokio::test]
async fn a_dry_run_or_the_setting_off_posts_no_example() {
    let mut h = harness().await;
    h.script.only_projects(&["p1"]);
    h.resync.settings.dry_run = true;
    assert!(h.run().await.succeeded());
    h.resync.settings.dry_run = false;
    h.resync.settings.raw_data_examples = false;
    assert!(h.run().await.succeeded());
    assert!(h.has("azureDevopsProject", "p1"));
    assert_eq!(h.env.sim.state.stats().requests_to(EXAMPLES), 0);
}

#[tokio::test]
async fn a_refused_example_post_changes_nothing_else() {
    // No integration record: Port answers 404 to the examples; the resync still succeeds.
    let h = Harness::new(MAPPING).await;
    h.script.only_projects(&["p1"]);
    let report = h.run().await;
    assert!(report.succeeded(), "{report}");
    assert!(h.has("azureDevopsProject", "p1"));
    assert_eq!(h.env.sim.state.stats().requests_to(EXAMPLES), 1);
    assert_eq!(h.env.sim.state.examples("it", "project"), None);
}
