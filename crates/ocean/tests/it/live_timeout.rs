//! `OCEAN__MAX_EVENT_PROCESSING_SECONDS`: an attempt at a live event that takes longer fails
//! and is retried, instead of holding its worker (and every later event of its shard).

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};
use std::time::Duration;

use futures::FutureExt;
use mapping::{CompileOptions, MappingPlan, PortAppConfig};
use ocean::live::{Changes, Classified, Live, LiveEvents};
use serde_json::Value;

use super::MAPPING;

/// Every attempt hangs far longer than the limit.
#[derive(Default)]
struct Hanging {
    attempts: AtomicU32,
}

impl LiveEvents for Hanging {
    type Error = std::io::Error;

    fn authenticate(&self, _authorization: Option<&str>) -> bool {
        true
    }

    fn classify(&self, _payload: &Value) -> Classified {
        Classified::Accept {
            key: "item:1".to_owned(),
            event_type: "hangs".to_owned(),
        }
    }

    async fn process(
        &self,
        _payload: Value,
        _config: Arc<PortAppConfig>,
    ) -> Result<Changes, Self::Error> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_hours(1)).await;
        Ok(Changes::default())
    }
}

#[tokio::test(start_paused = true)]
async fn an_attempt_longer_than_the_limit_fails_and_the_worker_moves_on() {
    let env = testkit::PortEnv::start().await.unwrap();
    let config = Arc::new(PortAppConfig::from_yaml(MAPPING).unwrap());
    let plan = Arc::new(MappingPlan::compile(&config, &CompileOptions::default()).unwrap());
    let loader: ocean::live::MappingLoader = Arc::new(move || {
        let mapping = (Arc::clone(&config), Arc::clone(&plan));
        async move { Ok(mapping) }.boxed()
    });
    let events = Arc::new(Hanging::default());
    let live = Live::new(
        Arc::clone(&events),
        env.client("slow"),
        testkit::installation("slow"),
        loader,
        Duration::from_secs(2),
    );
    let (queue, _workers) = live.start(1, 4);
    let started = tokio::time::Instant::now();
    queue
        .push("item:1", "hangs".to_owned(), Value::Null)
        .unwrap();
    queue.drained().await;
    // Four attempts of 2 s each with 1 + 2 + 4 s between them, not four hours.
    assert_eq!(
        events.attempts.load(Ordering::SeqCst),
        ocean::live::ATTEMPTS
    );
    assert_eq!(started.elapsed().as_secs(), 4 * 2 + 1 + 2 + 4);
}
