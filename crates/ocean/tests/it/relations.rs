//! Relation targets in the deletion phase (`createMissingRelatedEntities`): what a kept entity
//! relates to is kept, and Port is read only for what the plan keeps.

use ocean::resync::reconcile::SkipReason;

use super::{Harness, MAPPING, projects, repos};

const SEARCH: &str = "POST /v1/blueprints/{bp}/entities/search";
const LISTING: &str = "POST /v1/blueprints/entities/datasource-entities";

#[tokio::test]
async fn relation_targets_of_kept_entities_are_not_deleted() {
    let h = Harness::new(MAPPING).await;
    h.script.set("project", vec![Some(projects(&["p1", "p2"]))]);
    h.script.set("repository", vec![Some(repos(&["r1"], "p2"))]);
    h.script.set("work-item", vec![]);
    h.run().await;

    // p2 is no longer listed, but the kept repository r1 still points at it.
    h.script.set("project", vec![Some(projects(&["p1"]))]);
    let report = h.run().await;
    assert!(h.has("azureDevopsProject", "p2"));
    assert_eq!(report.deletion.total_deleted(), 0);
}

#[tokio::test]
async fn relation_targets_of_entities_kept_for_a_failed_resource_are_not_deleted() {
    let h = Harness::new(MAPPING).await;
    h.script.set("project", vec![Some(projects(&["p1", "p2"]))]);
    h.script.set("repository", vec![Some(repos(&["r1"], "p2"))]);
    h.script.set("work-item", vec![]);
    h.run().await;

    // p2 is no longer listed and the repositories fail: r1 is kept unseen (its resource failed),
    // and Port's copy of r1 still points at p2, so p2 must stay (and r1 with it).
    h.script.set("project", vec![Some(projects(&["p1"]))]);
    h.script.set("repository", vec![None]);
    h.env.sim.state.reset_stats();
    let report = h.run().await;
    // The snapshot searches both blueprints; then r1's relations are read, and with p2 kept
    // nothing is left to delete, so p2's are not.
    assert_eq!(h.env.sim.state.stats().requests_to(SEARCH), 3);
    assert!(h.has("azureDevopsRepository", "r1"));
    assert!(h.has("azureDevopsProject", "p2"));
    assert_eq!(report.deletion.total_deleted(), 0);
    assert!(
        report
            .deletion
            .skipped
            .iter()
            .any(|s| matches!(s, SkipReason::ProtectedRelationTarget { key }
                if key.identifier == "p2")),
        "{:?}",
        report.deletion.skipped
    );
}

#[tokio::test]
async fn relations_are_read_only_for_the_candidates_kept() {
    let h = Harness::new(MAPPING).await;
    h.script.set("project", vec![Some(projects(&["p1", "p2"]))]);
    h.script.set("repository", vec![Some(repos(&["r1"], "p1"))]);
    h.script.set("work-item", vec![]);
    h.run().await;
    // Everything produced again: Port is listed once, for the snapshot.
    h.env.sim.state.reset_stats();
    assert_eq!(h.run().await.deletion.total_deleted(), 0);
    assert_eq!(h.env.sim.state.stats().requests_to(LISTING), 1);

    // p2 is no longer listed and nothing relates to it: it is deleted, and the deletion phase
    // reads no relation (the searches are the snapshot's, one per blueprint). Port's keys are
    // listed again for p2's identifier (the snapshot keeps hashes).
    h.script.set("project", vec![Some(projects(&["p1"]))]);
    h.env.sim.state.reset_stats();
    let report = h.run().await;
    assert_eq!(report.deletion.total_deleted(), 1);
    assert!(!h.has("azureDevopsProject", "p2"));
    let stats = h.env.sim.state.stats();
    assert_eq!(stats.requests_to(SEARCH), 2);
    assert_eq!(stats.requests_to(LISTING), 2);
}
