//! What Port's UI shows after one resync with the default mapping: raw-data examples for every
//! kind (for the mapping editor), the sync status (one metrics record per resource, the
//! heartbeat) and the integration's logs, with no secret in any of them.

use std::sync::Arc;

use super::dry_run::{run, simulators};

#[tokio::test(flavor = "multi_thread")]
async fn after_a_resync_port_has_examples_sync_metrics_and_logs_without_secrets() {
    let (port, ado) = simulators().await;
    tokio::task::spawn_blocking({
        let (port, ado) = (Arc::clone(&port), Arc::clone(&ado));
        move || run(&port, &ado, &["--once"])
    })
    .await
    .unwrap();

    let record = port.state.integration("dry").expect("the record exists");
    let kinds: Vec<String> = record["config"]["resources"]
        .as_array()
        .expect("the default mapping")
        .iter()
        .map(|resource| resource["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"work-item".to_owned()), "{kinds:?}");
    for kind in &kinds {
        let examples = port
            .state
            .examples("dry", kind)
            .unwrap_or_else(|| panic!("no examples for {kind}"));
        assert!(
            (1..=5).contains(&examples.len()),
            "{kind}: {}",
            examples.len()
        );
        assert_no_secret(&examples, kind);
    }

    // Sync status: each resource ended `completed` under the resync's one event id.
    let metrics = port.state.sync_metrics("dry");
    let event_id = metrics[0].event["eventId"].clone();
    for (index, kind) in kinds.iter().enumerate() {
        let identifier = format!("{kind}-{index}");
        let last = metrics
            .iter()
            .rfind(|m| m.event["kindIdentifier"] == identifier.as_str())
            .unwrap_or_else(|| panic!("no metrics for {identifier}"));
        assert_eq!(
            (
                last.method,
                &last.event["syncState"],
                &last.event["eventId"]
            ),
            ("PUT", &serde_json::json!("completed"), &event_id)
        );
    }
    assert_eq!(
        port.state.heartbeats("dry").first(),
        event_id.as_str().map(str::to_owned).as_ref()
    );

    // Logs: shipped with Ocean's levels and timestamps, the start and the end among them.
    let logs = port.state.shipped_logs("dry");
    let messages: Vec<&str> = logs.iter().filter_map(|l| l["message"].as_str()).collect();
    assert!(
        messages.contains(&"Starting.") && messages.contains(&"Resync finished."),
        "{messages:?}"
    );
    for log in &logs {
        assert!(["DEBUG", "INFO", "WARNING", "ERROR"].contains(&log["level"].as_str().unwrap()));
        let timestamp = log["timestamp"].as_str().unwrap();
        assert!(
            timestamp.ends_with('Z') && timestamp.len() == 27,
            "{timestamp}"
        );
    }
    assert_no_secret(&logs, "logs");
}

fn assert_no_secret(values: &[serde_json::Value], what: &str) {
    let text = serde_json::to_string(values).unwrap();
    for secret in ["sim-pat", "sim-client-secret"] {
        assert!(!text.contains(secret), "{what} hold {secret}");
    }
}
