//! Sync status in Port's UI: per-kind sync metrics, the heartbeat and `nextResync`, sent where
//! the integration record says (sim-port's ingest routes).

use std::{sync::Arc, time::Duration};

use serde_json::Value;
use testkit::PortEnv;

use super::{Script, local_settings, projects, repos};

/// (method, kindIdentifier, syncState) of each metric event, in the order sent.
fn sent(env: &PortEnv, id: &str) -> Vec<(String, String, String)> {
    env.sim
        .state
        .sync_metrics(id)
        .into_iter()
        .map(|metric| {
            let field = |name: &str| metric.event[name].as_str().unwrap_or_default().to_owned();
            (
                metric.method.to_owned(),
                field("kindIdentifier"),
                field("syncState"),
            )
        })
        .collect()
}

fn count(event: &Value, phase: &str, kind: &str) -> u64 {
    event["metrics"]["phase"][phase]["object_count_type"][kind]["object_count"]
        .as_u64()
        .unwrap_or(u64::MAX)
}

#[tokio::test]
async fn a_resync_reports_each_kind_its_reconciliation_and_its_outcome_under_one_event() {
    let env = PortEnv::start().await.unwrap();
    let script = Script::default();
    script.set("project", vec![Some(projects(&["p1", "p2"]))]);
    script.set("repository", vec![Some(repos(&["r1", "skip-me"], "p1"))]);
    script.set("work-item", vec![]);
    let mut settings = local_settings("synced");
    settings.scheduled_interval_minutes = Some(60);
    settings.heartbeat_every = Duration::from_millis(20);
    let runner = ocean::runner::Runner::new(env.client("synced"), Arc::new(script), settings);
    runner.ensure_integration().await.unwrap();
    let report = runner.resync().await.unwrap();
    assert!(report.succeeded(), "{report}");

    let metrics = env.sim.state.sync_metrics("synced");
    let event_id = metrics[0].event["eventId"].as_str().unwrap().to_owned();
    assert!(
        metrics
            .iter()
            .all(|m| m.event["eventId"] == event_id.as_str())
    );
    let post = |kind: &str, state: &str| ("POST".to_owned(), kind.to_owned(), state.to_owned());
    let put = |kind: &str, state: &str| ("PUT".to_owned(), kind.to_owned(), state.to_owned());
    let order = sent(&env, "synced");
    // The start: every resource pending, then the runtime syncing; the end: the runtime's
    // outcome, after the reconciliation's.
    assert_eq!(
        order[..4],
        [
            post("project-0", "pending"),
            post("repository-1", "pending"),
            post("work-item-2", "pending"),
            post("__runtime__", "syncing"),
        ]
    );
    assert_eq!(
        order[order.len() - 3..],
        [
            post("__reconciliation__", "syncing"),
            put("__reconciliation__", "completed"),
            post("__runtime__", "completed"),
        ]
    );
    for kind in ["project-0", "repository-1", "work-item-2"] {
        let puts: Vec<_> = order
            .iter()
            .filter(|(m, k, _)| m == "PUT" && k == kind)
            .collect();
        assert_eq!(
            puts,
            [&put(kind, "syncing"), &put(kind, "completed")],
            "{order:?}"
        );
    }
    let finished = |kind: &str| {
        metrics
            .iter()
            .rfind(|m| m.method == "PUT" && m.event["kindIdentifier"] == kind)
            .unwrap()
            .event
            .clone()
    };
    let repositories = finished("repository-1");
    assert_eq!(count(&repositories, "extract", "raw_extracted"), 2);
    assert_eq!(count(&repositories, "transform", "transformed"), 1);
    assert_eq!(count(&repositories, "transform", "filtered_out"), 1);
    assert_eq!(count(&repositories, "load", "loaded"), 1);
    assert_eq!(repositories["kind"], "repository");
    assert_eq!(repositories["kindIndex"], 1);
    assert_eq!(repositories["blueprint"], "azureDevopsRepository");
    assert_eq!(repositories["metrics"]["phase"]["resync"]["success"], 1.0);

    // The heartbeat ran with this event's id (its first beat is at the start).
    let beats = env.sim.state.heartbeats("synced");
    assert!(!beats.is_empty() && beats.iter().all(|b| *b == event_id));

    // nextResync: the first multiple of the interval after start, ahead of now.
    let state = &env.sim.state.integration("synced").unwrap()["resyncState"];
    let next: jiff::Timestamp = state["nextResync"].as_str().unwrap().parse().unwrap();
    let ahead = next.as_second() - jiff::Timestamp::now().as_second();
    assert!((3500..=3600).contains(&ahead), "{ahead}");
    assert_eq!(state["intervalInMinuets"], 60);
}

#[tokio::test]
async fn a_dry_run_sends_no_status() {
    let env = PortEnv::start().await.unwrap();
    let script = Script::default();
    script.only_projects(&["p1"]);
    let mut settings = local_settings("dry-status");
    settings.resync.dry_run = true;
    let runner = ocean::runner::Runner::new(env.client("dry-status"), Arc::new(script), settings);
    runner.ensure_integration().await.unwrap();
    assert!(runner.resync().await.unwrap().succeeded());
    assert_eq!(env.sim.state.sync_metrics("dry-status"), []);
    assert_eq!(env.sim.state.heartbeats("dry-status"), Vec::<String>::new());
}
