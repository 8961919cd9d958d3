//! Live progress: a running resource logs what it has read and written so far, so a person can
//! follow a long resync.

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use super::{Harness, MAPPING, projects};

/// Log lines captured by the test's subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_running_resource_logs_its_progress_with_counts_and_rate() {
    let mut harness = Harness::new(MAPPING).await;
    // A progress line after every page, instead of every 5 s.
    harness.resync.settings.progress_every = Duration::ZERO;
    harness.script.set(
        "project",
        vec![Some(projects(&["p1", "p2"])), Some(projects(&["p3"]))],
    );
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .finish();
    let report = {
        let _guard = tracing::subscriber::set_default(subscriber);
        harness.run().await
    };
    assert_eq!(report.resources[0].fetched, 3);
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|l: &serde_json::Value| {
            l["message"] == "Resync progress." && l["kind"] == "project"
        })
        .collect();
    assert_eq!(lines.len(), 2, "one line per page here:\n{text}");
    assert_eq!(lines[0]["fetched"], 2);
    assert_eq!(lines[1]["fetched"], 3);
    assert_eq!(lines[1]["pages"], 2);
    assert!(
        lines[1]["items_per_s"].as_f64().is_some_and(|r| r > 0.0),
        "{}",
        lines[1]
    );
    assert!(lines[1]["written"].is_u64(), "{}", lines[1]);
}
