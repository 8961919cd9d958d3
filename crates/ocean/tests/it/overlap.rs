//! Writes overlap reads: a full batch is upserted as soon as it is ready, while the resource
//! is still fetching its next pages (not when enough batches have piled up to fill the
//! upsert slots, nor at the resource's end).

use std::sync::Arc;

use futures::{StreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Integration, PageStream};
use serde_json::Value;
use tokio::sync::Notify;

use super::{Harness, ScriptedFailure, projects};

/// Projects: a first page, then a second one only once the gate opens.
struct Gated {
    first: Vec<Value>,
    second: Vec<Value>,
    gate: Arc<Notify>,
}

impl Integration for Gated {
    type Error = ScriptedFailure;

    fn fetch(&self, kind: &str, _selector: &SelectorConfig) -> Option<PageStream<ScriptedFailure>> {
        (kind == "project").then(|| {
            let (first, second, gate) = (
                self.first.clone(),
                self.second.clone(),
                Arc::clone(&self.gate),
            );
            stream::once(async move { Ok(ocean::Page::from(first)) })
                .chain(stream::once(async move {
                    gate.notified().await;
                    Ok(ocean::Page::from(second))
                }))
                .boxed()
        })
    }
}

const PROJECTS: &str = r#"
resources:
  - kind: project
    selector:
      query: 'true'
    port:
      entity:
        mappings:
          identifier: .id
          title: .name
          blueprint: '"azureDevopsProject"'
"#;

#[tokio::test]
async fn a_full_batch_is_written_while_the_next_page_is_still_being_fetched() {
    let ids: Vec<String> = (0..25).map(|i| format!("p{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let gate = Arc::new(Notify::new());
    // 20 projects fill one batch (the default 20 entities a request).
    let gated = Gated {
        first: projects(&ids[..20]),
        second: projects(&ids[20..]),
        gate: Arc::clone(&gate),
    };
    let h = Harness::with(gated, PROJECTS).await;
    let mut writes = h.env.sim.state.watch_writes();
    // The second page is held back until the first batch reached Port.
    let first_write = async {
        let write = tokio::time::timeout(std::time::Duration::from_secs(20), writes.recv()).await;
        gate.notify_one();
        write
    };
    let (report, write) = tokio::join!(h.run(), first_write);
    let (blueprint, _) = write
        .expect("the first batch is written before the resource's next page comes")
        .unwrap();
    assert_eq!(blueprint, "azureDevopsProject");
    assert!(report.succeeded(), "{report}");
    assert_eq!(report.total_upserted(), 25);
}
