//! SIGTERM while live events are still queued: every event Azure DevOps delivered (and we
//! answered 200) is applied to Port before the process exits 0.

use std::time::Duration;

use serde_json::json;

use super::{free_port, served, terminate};

/// Service-hook events subscribed per project (ocean-azure-devops.md §5.1).
const EVENTS_PER_PROJECT: usize = 23;

#[tokio::test]
async fn sigterm_applies_every_queued_event_before_exiting() {
    let port_sim = sim_port::spawn(sim_port::SimConfig::default())
        .await
        .unwrap();
    let ado = sim_ado::spawn(sim_ado::SimConfig::default()).await.unwrap();
    let http_port = free_port();
    let child = served(&port_sim, &ado, http_port, "draining")
        .env(
            "OCEAN__INTEGRATION__CONFIG__APP_HOST",
            format!("http://127.0.0.1:{http_port}"),
        )
        .spawn()
        .unwrap();

    // The binary subscribes to every event of every project.
    let expected = EVENTS_PER_PROJECT * 3;
    for _ in 0..300 {
        if ado.state.subscriptions().len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ado.state.subscriptions().len(), expected);

    // Slow Azure DevOps down, so that events wait in the queue: each one re-reads its work
    // item and project (two requests of 100 ms) and 4 workers share them.
    ado.state.set_latency(Duration::from_millis(100));
    let ids: Vec<u64> = (0..2).flat_map(|p| ado.state.work_item_ids(p)).collect();
    assert!(ids.len() >= 40, "{}", ids.len());
    for id in &ids {
        // A type the default blueprint accepts, so that every event ends in a write.
        assert!(
            ado.state
                .update_work_item(*id, "System.WorkItemType", json!("Bug"))
        );
    }
    for _ in 0..200 {
        if ado.state.deliveries().0 >= ids.len() as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        ado.state.deliveries(),
        (ids.len() as u64, 0),
        "every delivery was accepted"
    );

    let (status, stderr) = terminate(child).await;
    assert!(status.success(), "{status}\n{stderr}");
    assert!(
        stderr.contains("Applying queued live events before stopping."),
        "events were still queued at SIGTERM:\n{stderr}"
    );
    let written = port_sim
        .state
        .entities()
        .iter()
        .filter(|e| e["blueprint"] == "azureDevopsWorkItem" && e["properties"]["type"] == "Bug")
        .count();
    assert_eq!(written, ids.len(), "{stderr}");
}
