//! Incremental mode (`OCEAN__INTEGRATION__INCREMENTAL_SYNC_ENABLED` with the `ONCE` listener, as
//! Port's chart runs it): a run writes what changed since each resource's cursor, deletes
//! nothing, and moves the cursors of the resources that completed.

use serde_json::json;

use super::dry_run::{Catalog, catalog, run, run_with, simulators};

const INCREMENTAL: [(&str, &str); 1] = [("OCEAN__INTEGRATION__INCREMENTAL_SYNC_ENABLED", "true")];

/// The keys whose entity differs between `before` and `after`, or exists in one only.
fn changed(before: &Catalog, after: &Catalog) -> Vec<(String, String)> {
    let mut keys: Vec<_> = after
        .iter()
        .filter(|(key, entity)| before.get(*key) != Some(entity))
        .map(|(key, _)| key.clone())
        .collect();
    keys.extend(before.keys().filter(|k| !after.contains_key(*k)).cloned());
    keys
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incremental_run_writes_only_what_changed_and_deletes_nothing() {
    let (port, ado) = simulators().await;
    tokio::task::spawn_blocking(move || {
        run(&port, &ado, &["--once"]);
        let full = catalog(&port);

        // A removed repository stays: incremental runs delete nothing.
        assert!(ado.state.delete_repository(0, "repo-0-1"));
        let item = ado.state.work_item_ids(1)[3];
        assert!(
            ado.state
                .update_work_item(item, "System.Title", json!("Changed title"))
        );
        port.state.reset_stats();
        let (_, report) = run_with(&port, &ado, &["--once"], &INCREMENTAL);
        assert!(
            report.contains("incremental: changes only, nothing deleted"),
            "{report}"
        );
        assert!(report.contains("not incremental"), "{report}");
        let after = catalog(&port);
        let identifier = |key: &(String, String)| key.1.clone();
        let differing: Vec<String> = changed(&full, &after).iter().map(identifier).collect();
        assert_eq!(differing.len(), 1, "{differing:?}");
        assert!(differing[0].ends_with(&item.to_string()), "{differing:?}");
        assert_eq!(port.state.stats().entities_deleted, 0);
        let written = port.state.stats().entities_upserted;

        // The work-item resource's cursor moved to the run's start: a second run, after one
        // more change, reads that change alone.
        let cursor = port.state.cursor("dry", "work-item", 5).expect("a cursor");
        assert!(cursor.parse::<jiff::Timestamp>().is_ok(), "{cursor}");
        let other = ado.state.work_item_ids(0)[0];
        assert!(
            ado.state
                .update_work_item(other, "System.Title", json!("Again"))
        );
        port.state.reset_stats();
        let before = catalog(&port);
        run_with(&port, &ado, &["--once"], &INCREMENTAL);
        let differing = changed(&before, &catalog(&port));
        assert_eq!(differing.len(), 1, "{differing:?}");
        assert!(differing[0].1.ends_with(&other.to_string()));
        assert!(
            port.state.stats().entities_upserted <= written,
            "the second run wrote more than the first"
        );
    })
    .await
    .unwrap();
}
